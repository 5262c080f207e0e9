//! Reading key references (`--key`) and writing key files with cosign's names and modes.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use cosign_core::keys::{KeyPairPem, KEY_FILE_SIZE_LIMIT};

use crate::console;
use crate::error::{io_error, CliError};

/// The private key a `--key` reference names, decrypted with the password (`COSIGN_PASSWORD`, or
/// asked once); a failure to decrypt is reported in `context`, as cosign words it.
pub fn decrypt_key_reference(
    reference: &str,
    context: &str,
) -> Result<cosign_core::keys::PrivateKey, CliError> {
    let key_file = load_key_reference(reference)?;
    let password = crate::password::read_password(crate::password::Confirmation::Once)?;
    cosign_core::keys::decrypt_private_key(&key_file, &password)
        .map_err(|error| CliError::from(error).context(context))
}

/// Loads the bytes a `--key` reference names: a file path, or `env://VARIABLE` as in cosign.
/// Schemes cosign hands to KMS, PKCS #11, Kubernetes or GitHub/GitLab are refused clearly.
pub fn load_key_reference(reference: &str) -> Result<Vec<u8>, CliError> {
    if let Some((scheme, rest)) = reference.split_once("://") {
        return match scheme {
            "env" => std::env::var_os(rest)
                .map(|value| {
                    use std::os::unix::ffi::OsStringExt as _;
                    value.into_vec()
                })
                .ok_or_else(|| CliError::new(format!("loading URL: env var ${rest} not found"))),
            "http" | "https" => Err(CliError::not_supported(
                "loading keys from URLs",
                "download the key and pass its path to --key",
            )),
            "awskms" | "gcpkms" | "azurekms" | "hashivault" => Err(CliError::not_supported(
                &format!("KMS keys ({scheme}://)"),
                "use a cosign key file: `cosign generate-key-pair` or `cosign import-key-pair`",
            )),
            "k8s" | "github" | "gitlab" => Err(CliError::not_supported(
                &format!("keys stored in {scheme}://"),
                "export the key to a file and pass its path to --key",
            )),
            _ => Err(CliError::new(format!(
                "loading URL: unrecognized scheme: {scheme}://"
            ))),
        };
    }
    if reference.starts_with("pkcs11:") {
        return Err(CliError::not_supported(
            "PKCS #11 keys",
            "use a cosign key file: `cosign generate-key-pair` or `cosign import-key-pair`",
        ));
    }
    read_limited(Path::new(reference))
}

/// Reads a key file, refusing anything larger than a key file can be.
pub fn read_limited(path: &Path) -> Result<Vec<u8>, CliError> {
    read_limited_to(path, KEY_FILE_SIZE_LIMIT as u64)
}

/// Reads a whole file of at most `limit` bytes.
pub fn read_limited_to(path: &Path, limit: u64) -> Result<Vec<u8>, CliError> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|error| io_error("open", path, &error))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| io_error("read", path, &error))?;
    if bytes.len() as u64 > limit {
        return Err(CliError::new(format!(
            "read {}: larger than {limit} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

/// The file names of a key pair with this prefix: `<prefix>.key`, `<prefix>.pub`.
pub fn key_pair_paths(prefix: &str) -> (PathBuf, PathBuf) {
    (
        PathBuf::from(format!("{prefix}.key")),
        PathBuf::from(format!("{prefix}.pub")),
    )
}

/// Whether to ask before replacing an existing private key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    Ask,
    Allow,
}

/// Writes `<prefix>.key` (mode 0600) and `<prefix>.pub` (mode 0644) as cosign does, warning
/// and asking first if the private key file exists.
pub fn write_key_pair(
    prefix: &str,
    pair: &KeyPairPem,
    overwrite: Overwrite,
) -> Result<(), CliError> {
    let (private_path, public_path) = key_pair_paths(prefix);
    match std::fs::symlink_metadata(&private_path) {
        Ok(_) => {
            console::warn(format_args!(
                "File {} already exists. Overwrite?",
                private_path.display()
            ));
            if overwrite == Overwrite::Ask {
                console::confirm_continue()?;
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(io_error("stat", &private_path, &error).context(format!(
                "failed checking if {} exists",
                private_path.display()
            )))
        }
    }
    write_file(&private_path, pair.private_key.as_bytes(), 0o600)?;
    console::info(format_args!(
        "Private key written to {}",
        private_path.display()
    ));
    write_file(&public_path, pair.public_key.as_bytes(), 0o644)?;
    console::info(format_args!(
        "Public key written to {}",
        public_path.display()
    ));
    Ok(())
}

/// Writes a whole file with the given mode; an existing file is truncated and its mode set too,
/// so a private key never stays readable by others.
pub fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), CliError> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|error| io_error("open", path, &error))?;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .and_then(|()| file.write_all(contents))
        .and_then(|()| file.sync_all())
        .map_err(|error| io_error("write", path, &error))
}
