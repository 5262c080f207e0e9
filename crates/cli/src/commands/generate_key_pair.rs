//! `cosign generate-key-pair`: a new ECDSA P-256 key in `cosign.key` (encrypted) and
//! `cosign.pub`.

use cosign_core::keys::{KeyPairPem, PrivateKey};

use crate::args::GenerateKeyPairArgs;
use crate::error::CliError;
use crate::key_files::{write_key_pair, Overwrite};
use crate::password::{read_password, Confirmation};

pub fn run(args: &GenerateKeyPairArgs) -> Result<(), CliError> {
    if let Some(kms) = &args.kms {
        return Err(CliError::not_supported(
            &format!("--kms ({kms})"),
            "generate a local key pair without --kms",
        ));
    }
    if let Some(store) = &args.secret_store {
        let Some((provider, _)) = store.split_once("://") else {
            return Err(CliError::new(
                "could not parse scheme, use <scheme>://<ref> format",
            ));
        };
        return match provider {
            "k8s" | "github" | "gitlab" => Err(CliError::not_supported(
                &format!("storing key pairs in {provider}://"),
                "generate key files locally and upload them with your platform's own tools",
            )),
            _ => Err(CliError::new(format!("undefined provider: {provider}"))),
        };
    }
    // As cosign: the password is read first (taking all of a piped stdin), then the existing
    // file check, whose prompt then reads end-of-input and declines.
    let password = read_password(Confirmation::Twice)?;
    let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
    let pair = KeyPairPem::new(&key, &password, &mut rand_core::OsRng)?;
    write_key_pair(&args.output_key_prefix, &pair, Overwrite::Ask)
}
