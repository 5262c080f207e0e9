//! Keys as cosign has them: the encrypted `cosign.key` file, the public `cosign.pub` file, the
//! key types cosign supports and the hash it pairs with each, signing and verifying.

mod algorithm;
mod encrypted;
mod error;
mod key_file;
mod oids;
mod password;
mod private_key;
mod public_key;

pub use algorithm::{HashAlgorithm, SigningAlgorithm, UnknownSigningAlgorithm};
pub use encrypted::{ScryptParameters, ENVELOPE_SIZE_LIMIT};
pub use error::KeyError;
pub use key_file::{
    decrypt_private_key, encrypt_private_key, import_private_key, KeyPairPem,
    COSIGN_PRIVATE_KEY_LABEL, KEY_FILE_SIZE_LIMIT, SIGSTORE_PRIVATE_KEY_LABEL,
};
pub use password::Password;
pub use private_key::PrivateKey;
pub use public_key::{PublicKey, PUBLIC_KEY_LABEL};

#[cfg(test)]
mod tests;
