//! Private keys of the types cosign signs with, parsed from and written to PKCS #8 (and, for
//! import, PKCS #1 and SEC1), and signing as cosign does with each.

use der::asn1::{AnyRef, Null, OctetStringRef};
use der::{Decode as _, Encode as _};
use rand_core::CryptoRngCore;
use sha2::Digest as _;
use signature::Signer as _;
use zeroize::Zeroizing;

use super::oids::{self, Curve};
use super::{KeyError, PublicKey, SigningAlgorithm};

/// A private key cosign can sign with.
pub enum PrivateKey {
    EcdsaP256(p256::ecdsa::SigningKey),
    EcdsaP384(p384::ecdsa::SigningKey),
    EcdsaP521(p521::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
    Rsa(RsaPrivateKey),
}

/// An RSA private key: ring does the signing (constant time), and the PKCS #1 bytes are kept,
/// wiped on drop, to write the key out again.
pub struct RsaPrivateKey {
    key_pair: ring::signature::RsaKeyPair,
    pkcs1: Zeroizing<Vec<u8>>,
    modulus_bits: usize,
    public: super::public_key::RsaPublicKey,
}

impl std::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaPrivateKey({} bits, <redacted>)", self.modulus_bits)
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({}, <redacted>)", self.key_type())
    }
}

impl PrivateKey {
    /// A new ECDSA P-256 key, the only kind `generate-key-pair` makes.
    pub fn generate_ecdsa_p256(rng: &mut impl CryptoRngCore) -> Self {
        Self::EcdsaP256(p256::ecdsa::SigningKey::random(rng))
    }

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

    /// The algorithm cosign signs with for this key by default.
    pub fn default_algorithm(&self) -> SigningAlgorithm {
        self.public_key().default_algorithm()
    }

    pub fn public_key(&self) -> PublicKey {
        match self {
            Self::EcdsaP256(key) => PublicKey::EcdsaP256(*key.verifying_key()),
            Self::EcdsaP384(key) => PublicKey::EcdsaP384(*key.verifying_key()),
            Self::EcdsaP521(key) => PublicKey::EcdsaP521(p521_verifying_key(key)),
            Self::Ed25519(key) => PublicKey::Ed25519(key.verifying_key()),
            Self::Rsa(key) => PublicKey::Rsa(key.public_key()),
        }
    }

    /// Signs `message` with the key's default algorithm (see [`SigningAlgorithm`]).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.sign_with(self.default_algorithm(), message)
    }

    /// Signs an image signature's payload or a DSSE envelope's PAE as real cosign verifies
    /// them: as [`Self::sign`], except that an Ed25519 key signs the message itself (pure
    /// Ed25519), which cosign 2.5 and 3.1 check, where their own Ed25519ph signatures of
    /// images and attestations fail their own verification.
    pub fn sign_payload(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            Self::Ed25519(_) => self.sign_with(SigningAlgorithm::Ed25519, message),
            _ => self.sign(message),
        }
    }

    /// Signs `message` with `algorithm`, which must suit the key. ECDSA signatures are ASN.1 DER.
    pub fn sign_with(
        &self,
        algorithm: SigningAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let mismatch = || KeyError::AlgorithmMismatch {
            algorithm,
            key_type: self.key_type(),
        };
        match (self, algorithm) {
            (Self::EcdsaP256(key), SigningAlgorithm::EcdsaP256Sha256) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                Ok(signature.to_der().as_bytes().to_vec())
            }
            (Self::EcdsaP384(key), SigningAlgorithm::EcdsaP384Sha384) => {
                let signature: p384::ecdsa::Signature = key.sign(message);
                Ok(signature.to_der().as_bytes().to_vec())
            }
            (Self::EcdsaP521(key), SigningAlgorithm::EcdsaP521Sha512) => {
                let signature: p521::ecdsa::Signature =
                    key.try_sign(message)
                        .map_err(|error| KeyError::SigningFailed {
                            reason: error.to_string(),
                        })?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
            (Self::Ed25519(key), SigningAlgorithm::Ed25519Prehashed) => {
                let prehashed = sha2::Sha512::new().chain_update(message);
                key.sign_prehashed(prehashed, None)
                    .map(|signature| signature.to_bytes().to_vec())
                    .map_err(|error| KeyError::SigningFailed {
                        reason: error.to_string(),
                    })
            }
            (Self::Ed25519(key), SigningAlgorithm::Ed25519) => {
                Ok(key.sign(message).to_bytes().to_vec())
            }
            (Self::Rsa(key), algorithm) if key.algorithm() == Some(algorithm) => key.sign(message),
            _ => Err(mismatch()),
        }
    }

    /// Whether this key signs a blob from its SHA-256 digest alone (ECDSA P-256): then a blob
    /// of any size is hashed as it streams by. Other keys sign the whole message.
    pub fn signs_sha256_digests(&self) -> bool {
        matches!(self, Self::EcdsaP256(_))
    }

    /// Signs an already computed SHA-256 digest (ECDSA P-256 only: see
    /// [`PrivateKey::signs_sha256_digests`]).
    pub fn sign_sha256_digest(&self, digest: &[u8]) -> Result<Vec<u8>, KeyError> {
        use signature::hazmat::PrehashSigner as _;
        match self {
            Self::EcdsaP256(key) => {
                let signature: p256::ecdsa::Signature =
                    key.sign_prehash(digest)
                        .map_err(|error| KeyError::SigningFailed {
                            reason: error.to_string(),
                        })?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
            _ => Err(KeyError::AlgorithmMismatch {
                algorithm: SigningAlgorithm::EcdsaP256Sha256,
                key_type: self.key_type(),
            }),
        }
    }

    /// Parses a PKCS #8 `PrivateKeyInfo`, the plaintext of a cosign key file.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = match pkcs8::PrivateKeyInfo::try_from(der) {
            Ok(info) => info,
            Err(error) => {
                // cosign fails here too, with a less helpful message: say what it is.
                if sec1::EcPrivateKey::from_der(der).is_ok() {
                    return Err(KeyError::Sec1InsideEncryptedKey);
                }
                return Err(KeyError::ParsePrivateKey {
                    source: match error {
                        pkcs8::Error::Asn1(source) => source,
                        _ => der::Tag::Sequence.value_error(),
                    },
                });
            }
        };
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
                let sec1 = sec1::EcPrivateKey::from_der(info.private_key)
                    .map_err(|source| KeyError::ParsePrivateKey { source })?;
                if let Some(named) = sec1.parameters.and_then(|p| p.named_curve()) {
                    if named != curve_oid {
                        return Err(KeyError::UnsupportedCurve {
                            oid: named.to_string(),
                        });
                    }
                }
                Self::from_ec_scalar(curve, sec1.private_key)
            }
            oids::RSA_ENCRYPTION => RsaPrivateKey::from_pkcs1_der(info.private_key).map(Self::Rsa),
            oids::ED25519 => {
                let seed = OctetStringRef::from_der(info.private_key)
                    .map_err(|source| KeyError::ParsePrivateKey { source })?;
                let seed: [u8; 32] = seed
                    .as_bytes()
                    .try_into()
                    .map_err(|_| KeyError::InvalidEd25519Key)?;
                Ok(Self::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)))
            }
            other => Err(KeyError::UnsupportedKeyAlgorithm {
                oid: other.to_string(),
            }),
        }
    }

    /// Parses a SEC1 `ECPrivateKey` (PEM `EC PRIVATE KEY`), which must name its curve.
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, KeyError> {
        let sec1 = sec1::EcPrivateKey::from_der(der)
            .map_err(|source| KeyError::ParseEcPrivateKey { source })?;
        let curve_oid = sec1
            .parameters
            .and_then(|p| p.named_curve())
            .ok_or(KeyError::MissingCurve)?;
        let curve = Curve::from_oid(curve_oid).ok_or_else(|| KeyError::UnsupportedCurve {
            oid: curve_oid.to_string(),
        })?;
        Self::from_ec_scalar(curve, sec1.private_key)
    }

    /// Parses a PKCS #1 `RSAPrivateKey` (PEM `RSA PRIVATE KEY`).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        RsaPrivateKey::from_pkcs1_der(der).map(Self::Rsa)
    }

    fn from_ec_scalar(curve: Curve, scalar: &[u8]) -> Result<Self, KeyError> {
        let invalid = || KeyError::InvalidEcKey {
            curve: curve.name(),
        };
        match curve {
            Curve::P256 => p256::ecdsa::SigningKey::from_slice(scalar)
                .map(Self::EcdsaP256)
                .map_err(|_| invalid()),
            Curve::P384 => p384::ecdsa::SigningKey::from_slice(scalar)
                .map(Self::EcdsaP384)
                .map_err(|_| invalid()),
            Curve::P521 => p521::ecdsa::SigningKey::from_slice(scalar)
                .map(Self::EcdsaP521)
                .map_err(|_| invalid()),
        }
    }

    /// Writes the key as a PKCS #8 `PrivateKeyInfo` the way Go's `x509.MarshalPKCS8PrivateKey`
    /// does: version 0, no public key field; EC keys carry the curve in the algorithm and their
    /// public point (but no curve) in the SEC1 structure.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let encode_error = |source: der::Error| KeyError::ParsePrivateKey { source };
        let (algorithm_oid, curve, private_key) = match self {
            Self::EcdsaP256(key) => {
                let point = key.verifying_key().to_encoded_point(false);
                (
                    oids::EC_PUBLIC_KEY,
                    Some(Curve::P256),
                    ec_private_key(&key.to_bytes(), point.as_bytes())?,
                )
            }
            Self::EcdsaP384(key) => {
                let point = key.verifying_key().to_encoded_point(false);
                (
                    oids::EC_PUBLIC_KEY,
                    Some(Curve::P384),
                    ec_private_key(&key.to_bytes(), point.as_bytes())?,
                )
            }
            Self::EcdsaP521(key) => {
                let point = p521_verifying_key(key).to_encoded_point(false);
                (
                    oids::EC_PUBLIC_KEY,
                    Some(Curve::P521),
                    ec_private_key(&key.to_bytes(), point.as_bytes())?,
                )
            }
            Self::Ed25519(key) => {
                let seed = Zeroizing::new(key.to_bytes());
                let octets = OctetStringRef::new(seed.as_slice()).map_err(encode_error)?;
                (
                    oids::ED25519,
                    None,
                    Zeroizing::new(octets.to_der().map_err(encode_error)?),
                )
            }
            Self::Rsa(key) => (oids::RSA_ENCRYPTION, None, key.pkcs1.clone()),
        };
        let curve_oid = curve.map(Curve::oid);
        let parameters = match (&curve_oid, algorithm_oid) {
            (Some(oid), _) => Some(AnyRef::from(oid)),
            (None, oids::RSA_ENCRYPTION) => Some(AnyRef::from(Null)),
            (None, _) => None,
        };
        let info = pkcs8::PrivateKeyInfo {
            algorithm: spki::AlgorithmIdentifierRef {
                oid: algorithm_oid,
                parameters,
            },
            private_key: &private_key,
            public_key: None,
        };
        info.to_der().map(Zeroizing::new).map_err(encode_error)
    }
}

/// p521's own verifying key type lacks `Debug` and `Eq`: use the generic one.
fn p521_verifying_key(key: &p521::ecdsa::SigningKey) -> ecdsa::VerifyingKey<p521::NistP521> {
    // The point comes from a valid private key, so it is a valid public key.
    let public = p521::PublicKey::from_secret_scalar(key.as_nonzero_scalar());
    ecdsa::VerifyingKey::from(&public)
}

/// A SEC1 `ECPrivateKey` without curve parameters and with the public point, as Go writes
/// inside PKCS #8.
fn ec_private_key(scalar: &[u8], public_point: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    sec1::EcPrivateKey {
        private_key: scalar,
        parameters: None,
        public_key: Some(public_point),
    }
    .to_der()
    .map(Zeroizing::new)
    .map_err(|source| KeyError::ParsePrivateKey { source })
}

impl RsaPrivateKey {
    fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let parsed = pkcs1::RsaPrivateKey::from_der(der)
            .map_err(|source| KeyError::ParseRsaPrivateKey { source })?;
        // Go's `Size() * 8`: the modulus length in whole bytes.
        let modulus_bits = parsed.modulus.as_bytes().len() * 8;
        if ![2048, 3072, 4096].contains(&modulus_bits) {
            return Err(KeyError::UnsupportedRsaSize { bits: modulus_bits });
        }
        let key_pair = ring::signature::RsaKeyPair::from_der(der).map_err(|rejected| {
            KeyError::InvalidRsaKey {
                reason: rejected.to_string(),
            }
        })?;
        let public = {
            use ring::signature::KeyPair as _;
            super::public_key::RsaPublicKey::from_pkcs1_der(key_pair.public_key().as_ref())?
        };
        Ok(Self {
            key_pair,
            pkcs1: Zeroizing::new(der.to_vec()),
            modulus_bits,
            public,
        })
    }

    fn algorithm(&self) -> Option<SigningAlgorithm> {
        match self.modulus_bits {
            2048 => Some(SigningAlgorithm::RsaPkcs1v15_2048Sha256),
            3072 => Some(SigningAlgorithm::RsaPkcs1v15_3072Sha256),
            4096 => Some(SigningAlgorithm::RsaPkcs1v15_4096Sha256),
            _ => None,
        }
    }

    fn public_key(&self) -> super::public_key::RsaPublicKey {
        self.public.clone()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut signature = vec![0u8; self.key_pair.public().modulus_len()];
        self.key_pair
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| KeyError::SigningFailed {
                reason: "RSA PKCS #1 v1.5 signing failed".to_owned(),
            })?;
        Ok(signature)
    }
}
