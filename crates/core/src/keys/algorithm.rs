//! Signing algorithms and the hash cosign pairs with each key type.
//!
//! cosign (sigstore `GetDefaultPublicKeyDetails`): P-256 -> SHA-256, P-384 -> SHA-384,
//! P-521 -> SHA-512, RSA 2048/3072/4096 -> PKCS #1 v1.5 with SHA-256, Ed25519 -> Ed25519ph
//! (SHA-512) by default, pure Ed25519 only where asked for.

use std::fmt;
use std::str::FromStr;

/// A hash function used in signing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    /// Hashes `data` in one go.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest as _;
        match self {
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// The digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// A key type together with the way cosign signs with it. The names are cosign's
/// `--signing-algorithm` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    EcdsaP256Sha256,
    EcdsaP384Sha384,
    EcdsaP521Sha512,
    RsaPkcs1v15_2048Sha256,
    RsaPkcs1v15_3072Sha256,
    RsaPkcs1v15_4096Sha256,
    /// Ed25519 over the SHA-512 of the message (RFC 8032 Ed25519ph): cosign's default.
    Ed25519Prehashed,
    /// Pure Ed25519 over the message.
    Ed25519,
}

impl SigningAlgorithm {
    /// Every algorithm, in the order cosign lists them.
    pub const ALL: [Self; 8] = [
        Self::EcdsaP256Sha256,
        Self::EcdsaP384Sha384,
        Self::EcdsaP521Sha512,
        Self::RsaPkcs1v15_2048Sha256,
        Self::RsaPkcs1v15_3072Sha256,
        Self::RsaPkcs1v15_4096Sha256,
        Self::Ed25519Prehashed,
        Self::Ed25519,
    ];

    /// The name cosign uses on the command line (`--signing-algorithm`).
    pub fn flag_name(self) -> &'static str {
        match self {
            Self::EcdsaP256Sha256 => "ecdsa-sha2-256-nistp256",
            Self::EcdsaP384Sha384 => "ecdsa-sha2-384-nistp384",
            Self::EcdsaP521Sha512 => "ecdsa-sha2-512-nistp521",
            Self::RsaPkcs1v15_2048Sha256 => "rsa-sign-pkcs1-2048-sha256",
            Self::RsaPkcs1v15_3072Sha256 => "rsa-sign-pkcs1-3072-sha256",
            Self::RsaPkcs1v15_4096Sha256 => "rsa-sign-pkcs1-4096-sha256",
            Self::Ed25519Prehashed => "ed25519-ph",
            Self::Ed25519 => "ed25519",
        }
    }

    /// The hash applied to the message before signing (`None` for pure Ed25519).
    pub fn hash(self) -> Option<HashAlgorithm> {
        match self {
            Self::EcdsaP256Sha256
            | Self::RsaPkcs1v15_2048Sha256
            | Self::RsaPkcs1v15_3072Sha256
            | Self::RsaPkcs1v15_4096Sha256 => Some(HashAlgorithm::Sha256),
            Self::EcdsaP384Sha384 => Some(HashAlgorithm::Sha384),
            Self::EcdsaP521Sha512 | Self::Ed25519Prehashed => Some(HashAlgorithm::Sha512),
            Self::Ed25519 => None,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.flag_name())
    }
}

/// The error for a `--signing-algorithm` value cosign does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("could not find matching signature algorithm for flag: {name}")]
pub struct UnknownSigningAlgorithm {
    pub name: String,
}

impl FromStr for SigningAlgorithm {
    type Err = UnknownSigningAlgorithm;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|algorithm| algorithm.flag_name() == name)
            .ok_or_else(|| UnknownSigningAlgorithm {
                name: name.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_names_round_trip() {
        for algorithm in SigningAlgorithm::ALL {
            assert_eq!(
                algorithm.flag_name().parse::<SigningAlgorithm>(),
                Ok(algorithm)
            );
        }
        assert!("ecdsa-sha2-256-nistp999"
            .parse::<SigningAlgorithm>()
            .is_err());
    }

    #[test]
    fn hashes_follow_cosign() {
        assert_eq!(
            SigningAlgorithm::EcdsaP384Sha384.hash(),
            Some(HashAlgorithm::Sha384)
        );
        assert_eq!(
            SigningAlgorithm::EcdsaP521Sha512.hash(),
            Some(HashAlgorithm::Sha512)
        );
        assert_eq!(
            SigningAlgorithm::RsaPkcs1v15_4096Sha256.hash(),
            Some(HashAlgorithm::Sha256)
        );
        assert_eq!(
            SigningAlgorithm::Ed25519Prehashed.hash(),
            Some(HashAlgorithm::Sha512)
        );
        assert_eq!(SigningAlgorithm::Ed25519.hash(), None);
        assert_eq!(
            HashAlgorithm::Sha384.digest(b"").len(),
            HashAlgorithm::Sha384.output_len()
        );
    }
}
