//! `cosign public-key`: the public half of a key, as `PUBLIC KEY` PEM, to stdout or a file.

use cosign_core::keys::decrypt_private_key;

use crate::args::PublicKeyArgs;
use crate::console::{self, Console};
use crate::error::CliError;
use crate::key_files::{load_key_reference, write_file};
use crate::password::{read_password, Confirmation};

pub fn run(args: &PublicKeyArgs, console: &mut Console) -> Result<(), CliError> {
    if args.sk || args.slot.is_some() {
        return Err(CliError::not_supported(
            "hardware security keys (--sk, --slot)",
            "use a cosign key file with --key",
        ));
    }
    let Some(reference) = &args.key else {
        return Err(CliError::usage(
            "exactly one of: key reference (--key), or hardware token (--sk) must be provided",
        ));
    };
    let key_file = load_key_reference(reference)?;
    let password = read_password(Confirmation::Once)?;
    let key = decrypt_private_key(&key_file, &password)?;
    let pem = key.public_key().to_pem()?;
    match &args.outfile {
        Some(path) => {
            write_file(path, pem.as_bytes(), 0o600)?;
            console::info(format_args!("Public key written to {}", path.display()));
            Ok(())
        }
        None => console.out(pem.as_bytes()),
    }
}
