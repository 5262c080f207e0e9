//! cosign's key files: `cosign.key` (PEM `ENCRYPTED SIGSTORE PRIVATE KEY` around the encrypted
//! envelope of a PKCS #8 key) and `cosign.pub` (PEM `PUBLIC KEY`), and the unencrypted PEM keys
//! `import-key-pair` takes.

use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use super::encrypted::{self, ScryptParameters};
use super::{KeyError, Password, PrivateKey};
use crate::pem;

/// The label cosign writes.
pub const SIGSTORE_PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The label older cosign wrote; still read.
pub const COSIGN_PRIVATE_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// The largest key file we read: far above any real key (an RSA 4096 key file is under 5 KiB).
pub const KEY_FILE_SIZE_LIMIT: usize = 128 * 1024;

const RSA_PRIVATE_KEY_LABEL: &str = "RSA PRIVATE KEY";
const EC_PRIVATE_KEY_LABEL: &str = "EC PRIVATE KEY";
const PKCS8_PRIVATE_KEY_LABEL: &str = "PRIVATE KEY";

fn check_size(input: &[u8]) -> Result<(), KeyError> {
    if input.len() > KEY_FILE_SIZE_LIMIT {
        return Err(KeyError::TooLarge {
            size: input.len(),
            limit: KEY_FILE_SIZE_LIMIT,
        });
    }
    Ok(())
}

/// Opens a cosign private key file with `password`.
pub fn decrypt_private_key(key_file: &[u8], password: &Password) -> Result<PrivateKey, KeyError> {
    check_size(key_file)?;
    let block = pem::decode_first(key_file).ok_or(KeyError::InvalidPem)?;
    if block.label != SIGSTORE_PRIVATE_KEY_LABEL && block.label != COSIGN_PRIVATE_KEY_LABEL {
        return Err(KeyError::UnsupportedPemType { label: block.label });
    }
    let pkcs8 = encrypted::open(&block.contents, password)?;
    PrivateKey::from_pkcs8_der(&pkcs8)
}

/// Encrypts `key` under `password` as cosign does (scrypt N=65536, r=8, p=1, fresh 32-byte
/// salt and 24-byte nonce) and returns the `ENCRYPTED SIGSTORE PRIVATE KEY` PEM.
pub fn encrypt_private_key(
    key: &PrivateKey,
    password: &Password,
    rng: &mut impl CryptoRngCore,
) -> Result<Zeroizing<String>, KeyError> {
    let pkcs8 = key.to_pkcs8_der()?;
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    rng.try_fill_bytes(&mut salt)
        .and_then(|()| rng.try_fill_bytes(&mut nonce))
        .map_err(|error| KeyError::Randomness {
            reason: error.to_string(),
        })?;
    let envelope = encrypted::seal(&pkcs8, password, ScryptParameters::STANDARD, salt, nonce)?;
    Ok(Zeroizing::new(pem::encode(
        SIGSTORE_PRIVATE_KEY_LABEL,
        &envelope,
    )))
}

/// The two files of a key pair, ready to write.
pub struct KeyPairPem {
    /// `cosign.key`: write it readable by its owner only.
    pub private_key: Zeroizing<String>,
    /// `cosign.pub`.
    pub public_key: String,
}

impl std::fmt::Debug for KeyPairPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPairPem")
            .field("private_key", &"<redacted>")
            .field("public_key", &self.public_key)
            .finish()
    }
}

impl KeyPairPem {
    pub fn new(
        key: &PrivateKey,
        password: &Password,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, KeyError> {
        Ok(Self {
            private_key: encrypt_private_key(key, password, rng)?,
            public_key: key.public_key().to_pem()?,
        })
    }
}

/// Reads an unencrypted PEM private key for `import-key-pair`: PKCS #1 `RSA PRIVATE KEY`, SEC1
/// `EC PRIVATE KEY`, or PKCS #8 `PRIVATE KEY` holding RSA, ECDSA or Ed25519. Keys cosign would
/// not sign with (RSA other than 2048/3072/4096 bits, curves other than P-256/384/521) are
/// refused here, as cosign refuses them.
pub fn import_private_key(key_file: &[u8]) -> Result<PrivateKey, KeyError> {
    check_size(key_file)?;
    let block = pem::decode_first(key_file).ok_or(KeyError::InvalidPem)?;
    match block.label.as_str() {
        RSA_PRIVATE_KEY_LABEL => PrivateKey::from_pkcs1_der(&block.contents),
        EC_PRIVATE_KEY_LABEL => PrivateKey::from_sec1_der(&block.contents),
        PKCS8_PRIVATE_KEY_LABEL => {
            PrivateKey::from_pkcs8_der(&block.contents).map_err(|error| match error {
                KeyError::ParsePrivateKey { source } => KeyError::ParsePkcs8PrivateKey { source },
                other => other,
            })
        }
        _ => Err(KeyError::UnsupportedImportPemType { label: block.label }),
    }
}
