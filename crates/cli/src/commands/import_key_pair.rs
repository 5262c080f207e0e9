//! `cosign import-key-pair`: turns an unencrypted PEM private key (PKCS #1 RSA, SEC1 EC, or
//! PKCS #8 RSA/EC/Ed25519) into a cosign key pair.

use cosign_core::keys::{import_private_key, KeyPairPem};

use crate::args::ImportKeyPairArgs;
use crate::error::CliError;
use crate::key_files::{read_limited, write_key_pair, Overwrite};
use crate::password::{read_password, Confirmation};

pub fn run(args: &ImportKeyPairArgs) -> Result<(), CliError> {
    let pem = read_limited(&args.key)?;
    let key = import_private_key(&pem)?;
    let password = read_password(Confirmation::Twice)?;
    let pair = KeyPairPem::new(&key, &password, &mut rand_core::OsRng)?;
    let overwrite = if args.yes {
        Overwrite::Allow
    } else {
        Overwrite::Ask
    };
    write_key_pair(&args.output_key_prefix, &pair, overwrite)
}
