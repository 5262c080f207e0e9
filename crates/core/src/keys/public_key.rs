//! Public keys: PKIX (`PUBLIC KEY` PEM, as in `cosign.pub`) in and out, and signature
//! verification as cosign does it for each key type.

use der::{Decode as _, Encode as _};
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::traits::PublicKeyParts as _;
use sha2::Digest as _;
use signature::hazmat::PrehashVerifier as _;
use spki::EncodePublicKey as _;

use super::oids::{self, Curve};
use super::{HashAlgorithm, KeyError, SigningAlgorithm};
use crate::pem;

/// The PEM label of a PKIX public key.
pub const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";
const RSA_PUBLIC_KEY_LABEL: &str = "RSA PUBLIC KEY";

/// A public key cosign can verify with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    EcdsaP256(p256::ecdsa::VerifyingKey),
    EcdsaP384(p384::ecdsa::VerifyingKey),
    EcdsaP521(ecdsa::VerifyingKey<p521::NistP521>),
    Ed25519(ed25519_dalek::VerifyingKey),
    Rsa(RsaPublicKey),
}

/// An RSA public key (verification only: the `rsa` crate is not used with private keys).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RsaPublicKey {
    key: rsa::RsaPublicKey,
}

impl RsaPublicKey {
    pub(crate) fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let key =
            rsa::RsaPublicKey::from_pkcs1_der(der).map_err(|error| KeyError::ParsePublicKey {
                reason: error.to_string(),
            })?;
        Self::checked(key)
    }

    fn checked(key: rsa::RsaPublicKey) -> Result<Self, KeyError> {
        let bits = key.size() * 8;
        if !(2048..=16384).contains(&bits) {
            return Err(KeyError::UnsupportedRsaSize { bits });
        }
        Ok(Self { key })
    }

    /// The modulus length in bits, rounded up to whole bytes as Go does.
    pub fn bits(&self) -> usize {
        self.key.size() * 8
    }
}

impl PublicKey {
    /// A short name of the key type, for messages.
    pub fn key_type(&self) -> &'static str {
        match self {
            Self::EcdsaP256(_) => "ECDSA P-256",
            Self::EcdsaP384(_) => "ECDSA P-384",
            Self::EcdsaP521(_) => "ECDSA P-521",
            Self::Ed25519(_) => "Ed25519",
            Self::Rsa(_) => "RSA",
        }
    }

    /// The algorithm cosign signs with for this key type by default.
    pub fn default_algorithm(&self) -> SigningAlgorithm {
        match self {
            Self::EcdsaP256(_) => SigningAlgorithm::EcdsaP256Sha256,
            Self::EcdsaP384(_) => SigningAlgorithm::EcdsaP384Sha384,
            Self::EcdsaP521(_) => SigningAlgorithm::EcdsaP521Sha512,
            Self::Ed25519(_) => SigningAlgorithm::Ed25519Prehashed,
            Self::Rsa(key) => match key.bits() {
                3072 => SigningAlgorithm::RsaPkcs1v15_3072Sha256,
                4096 => SigningAlgorithm::RsaPkcs1v15_4096Sha256,
                _ => SigningAlgorithm::RsaPkcs1v15_2048Sha256,
            },
        }
    }

    /// Parses a PEM public key: `PUBLIC KEY` (PKIX) or `RSA PUBLIC KEY` (PKCS #1).
    pub fn from_pem(input: &[u8]) -> Result<Self, KeyError> {
        let block = pem::decode_first(input).ok_or_else(|| KeyError::ParsePublicKey {
            reason: "PEM decoding failed".to_owned(),
        })?;
        match block.label.as_str() {
            PUBLIC_KEY_LABEL => Self::from_der(&block.contents),
            RSA_PUBLIC_KEY_LABEL => RsaPublicKey::from_pkcs1_der(&block.contents).map(Self::Rsa),
            other => Err(KeyError::ParsePublicKey {
                reason: format!("unknown Public key PEM file type: {other}"),
            }),
        }
    }

    /// Parses a PKIX `SubjectPublicKeyInfo`.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let parse_error = |reason: String| KeyError::ParsePublicKey { reason };
        let info =
            spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|e| parse_error(e.to_string()))?;
        let point = info.subject_public_key.raw_bytes();
        match info.algorithm.oid {
            oids::EC_PUBLIC_KEY => {
                let curve_oid = info
                    .algorithm
                    .parameters_oid()
                    .map_err(|_| KeyError::MissingCurve)?;
                let curve =
                    Curve::from_oid(curve_oid).ok_or_else(|| KeyError::UnsupportedCurve {
                        oid: curve_oid.to_string(),
                    })?;
                let invalid = || parse_error(format!("invalid {} public key", curve.name()));
                match curve {
                    Curve::P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                        .map(Self::EcdsaP256)
                        .map_err(|_| invalid()),
                    Curve::P384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                        .map(Self::EcdsaP384)
                        .map_err(|_| invalid()),
                    Curve::P521 => ecdsa::VerifyingKey::<p521::NistP521>::from_sec1_bytes(point)
                        .map(Self::EcdsaP521)
                        .map_err(|_| invalid()),
                }
            }
            oids::RSA_ENCRYPTION => RsaPublicKey::from_pkcs1_der(point).map(Self::Rsa),
            oids::ED25519 => {
                let bytes: [u8; 32] = point
                    .try_into()
                    .map_err(|_| parse_error("invalid Ed25519 public key length".to_owned()))?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                    .map(Self::Ed25519)
                    .map_err(|_| parse_error("invalid Ed25519 public key".to_owned()))
            }
            other => Err(KeyError::UnsupportedKeyAlgorithm {
                oid: other.to_string(),
            }),
        }
    }

    /// The PKIX `SubjectPublicKeyInfo` DER, as Go's `x509.MarshalPKIXPublicKey` writes it.
    pub fn to_der(&self) -> Result<Vec<u8>, KeyError> {
        let document = match self {
            Self::EcdsaP256(key) => key.to_public_key_der(),
            Self::EcdsaP384(key) => key.to_public_key_der(),
            Self::EcdsaP521(key) => {
                // Written by hand: p521's verifying key has no SPKI encoder of its own.
                let point = key.to_encoded_point(false);
                let info = spki::SubjectPublicKeyInfoRef {
                    algorithm: spki::AlgorithmIdentifierRef {
                        oid: oids::EC_PUBLIC_KEY,
                        parameters: Some(der::asn1::AnyRef::from(&oids::SECP521R1)),
                    },
                    subject_public_key: der::asn1::BitStringRef::from_bytes(point.as_bytes())
                        .map_err(|e| KeyError::ParsePublicKey {
                            reason: e.to_string(),
                        })?,
                };
                return info.to_der().map_err(|e| KeyError::ParsePublicKey {
                    reason: e.to_string(),
                });
            }
            Self::Ed25519(key) => key.to_public_key_der(),
            Self::Rsa(key) => {
                use rsa::pkcs8::EncodePublicKey as _;
                return key
                    .key
                    .to_public_key_der()
                    .map(|document| document.as_bytes().to_vec())
                    .map_err(|e| KeyError::ParsePublicKey {
                        reason: e.to_string(),
                    });
            }
        };
        document
            .map(|document| document.as_bytes().to_vec())
            .map_err(|e| KeyError::ParsePublicKey {
                reason: e.to_string(),
            })
    }

    /// The `PUBLIC KEY` PEM, as in `cosign.pub`.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        Ok(pem::encode(PUBLIC_KEY_LABEL, &self.to_der()?))
    }

    /// The key's `keyDetails` in a trusted root (Sigstore's `PublicKeyDetails`).
    pub fn key_details(&self) -> &'static str {
        match self {
            Self::EcdsaP256(_) => "PKIX_ECDSA_P256_SHA_256",
            Self::EcdsaP384(_) => "PKIX_ECDSA_P384_SHA_384",
            Self::EcdsaP521(_) => "PKIX_ECDSA_P521_SHA_512",
            Self::Ed25519(_) => "PKIX_ED25519",
            Self::Rsa(key) => {
                if key.bits() <= 2048 {
                    "PKIX_RSA_PKCS1V15_2048_SHA256"
                } else if key.bits() <= 3072 {
                    "PKIX_RSA_PKCS1V15_3072_SHA256"
                } else {
                    "PKIX_RSA_PKCS1V15_4096_SHA256"
                }
            }
        }
    }

    /// Verifies `signature` over `message` with the key's default algorithm.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        self.verify_with(self.default_algorithm(), message, signature)
    }

    /// Verifies an image signature's payload or a DSSE envelope's PAE signed by any of the
    /// ways cosign and cosign-rs sign them: the key's default algorithm (what cosign signs
    /// with: SHA-384 for P-384, SHA-512 for P-521, Ed25519ph), SHA-256, SHA-384 or SHA-512 for
    /// ECDSA and RSA (cosign checks SHA-256 unless `--signature-digest-algorithm` says
    /// otherwise), pure Ed25519 (what cosign checks, and what
    /// [`PrivateKey::sign_payload`](crate::keys::PrivateKey::sign_payload) writes). Each is
    /// the key holder's signature over the same bytes. The error is the default algorithm's.
    pub fn verify_payload(&self, message: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        let error = match self.verify(message, signature) {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        let verified = match self {
            Self::Ed25519(_) => self
                .verify_with(SigningAlgorithm::Ed25519, message, signature)
                .is_ok(),
            _ => {
                let own = self.default_algorithm().hash();
                [
                    HashAlgorithm::Sha256,
                    HashAlgorithm::Sha384,
                    HashAlgorithm::Sha512,
                ]
                .into_iter()
                .filter(|hash| Some(*hash) != own)
                .any(|hash| self.verify_message(message, hash, signature).is_ok())
            }
        };
        if verified {
            Ok(())
        } else {
            Err(error)
        }
    }

    /// Verifies `signature` over `message`, hashing the message with `algorithm`'s hash (for
    /// ECDSA and RSA the hash may differ from the key's default, as cosign's
    /// `--signature-digest-algorithm` allows).
    pub fn verify_with(
        &self,
        algorithm: SigningAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), KeyError> {
        match (self, algorithm) {
            (Self::Ed25519(key), SigningAlgorithm::Ed25519) => {
                let signature = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| KeyError::InvalidEd25519Signature)?;
                key.verify_strict(message, &signature)
                    .map_err(|_| KeyError::InvalidEd25519Signature)
            }
            (Self::Ed25519(key), SigningAlgorithm::Ed25519Prehashed) => {
                let signature = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| KeyError::InvalidEd25519Signature)?;
                key.verify_prehashed_strict(
                    sha2::Sha512::new().chain_update(message),
                    None,
                    &signature,
                )
                .map_err(|_| KeyError::InvalidEd25519Signature)
            }
            (Self::Ed25519(_), _) => Err(KeyError::AlgorithmMismatch {
                algorithm,
                key_type: self.key_type(),
            }),
            (_, SigningAlgorithm::Ed25519 | SigningAlgorithm::Ed25519Prehashed) => {
                Err(KeyError::AlgorithmMismatch {
                    algorithm,
                    key_type: self.key_type(),
                })
            }
            (_, algorithm) => {
                let hash = algorithm.hash().unwrap_or(HashAlgorithm::Sha256);
                self.verify_message(message, hash, signature)
            }
        }
    }

    /// Verifies an ECDSA or RSA signature over `message` hashed with `hash`. P-256 and P-384
    /// go through `ring` (several times faster than the pure-Rust curves, which matters when
    /// a keyless bundle needs half a dozen verifications); the rest as [`Self::verify_digest`].
    pub fn verify_message(
        &self,
        message: &[u8],
        hash: HashAlgorithm,
        signature: &[u8],
    ) -> Result<(), KeyError> {
        use ring::signature as ring_signature;
        let (algorithm, point): (&'static ring_signature::EcdsaVerificationAlgorithm, Vec<u8>) =
            match (self, hash) {
                (Self::EcdsaP256(key), HashAlgorithm::Sha256) => (
                    &ring_signature::ECDSA_P256_SHA256_ASN1,
                    key.to_encoded_point(false).as_bytes().to_vec(),
                ),
                (Self::EcdsaP256(key), HashAlgorithm::Sha384) => (
                    &ring_signature::ECDSA_P256_SHA384_ASN1,
                    key.to_encoded_point(false).as_bytes().to_vec(),
                ),
                (Self::EcdsaP384(key), HashAlgorithm::Sha384) => (
                    &ring_signature::ECDSA_P384_SHA384_ASN1,
                    key.to_encoded_point(false).as_bytes().to_vec(),
                ),
                (Self::EcdsaP384(key), HashAlgorithm::Sha256) => (
                    &ring_signature::ECDSA_P384_SHA256_ASN1,
                    key.to_encoded_point(false).as_bytes().to_vec(),
                ),
                _ => return self.verify_digest(&hash.digest(message), hash, signature),
            };
        ring_signature::UnparsedPublicKey::new(algorithm, point)
            .verify(message, signature)
            .map_err(|_| KeyError::InvalidEcdsaSignature)
    }

    /// Verifies an ECDSA or RSA signature over an already computed digest.
    pub fn verify_digest(
        &self,
        digest: &[u8],
        hash: HashAlgorithm,
        signature: &[u8],
    ) -> Result<(), KeyError> {
        match self {
            Self::EcdsaP256(key) => {
                let signature = p256::ecdsa::Signature::from_der(signature)
                    .map_err(|_| KeyError::InvalidEcdsaSignature)?;
                key.verify_prehash(digest, &signature)
                    .map_err(|_| KeyError::InvalidEcdsaSignature)
            }
            Self::EcdsaP384(key) => {
                let signature = p384::ecdsa::Signature::from_der(signature)
                    .map_err(|_| KeyError::InvalidEcdsaSignature)?;
                key.verify_prehash(digest, &signature)
                    .map_err(|_| KeyError::InvalidEcdsaSignature)
            }
            Self::EcdsaP521(key) => {
                let signature = ecdsa::Signature::<p521::NistP521>::from_der(signature)
                    .map_err(|_| KeyError::InvalidEcdsaSignature)?;
                key.verify_prehash(digest, &signature)
                    .map_err(|_| KeyError::InvalidEcdsaSignature)
            }
            Self::Rsa(key) => {
                let scheme = match hash {
                    HashAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    HashAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                    HashAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                };
                key.key
                    .verify(scheme, digest, signature)
                    .map_err(|_| KeyError::InvalidRsaSignature)
            }
            Self::Ed25519(_) => Err(KeyError::AlgorithmMismatch {
                algorithm: SigningAlgorithm::Ed25519Prehashed,
                key_type: self.key_type(),
            }),
        }
    }
}
