//! What can go wrong reading, writing or using a key. Messages follow cosign's wording where
//! cosign has one (scripts match on them), and say what to do where cosign says nothing useful.

use super::encrypted::ScryptParameters;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// No well-formed PEM block: empty, truncated or garbled file.
    #[error("invalid pem block")]
    InvalidPem,

    /// The input is larger than any key file cosign writes.
    #[error("key file is {size} bytes, larger than the {limit} bytes a key file can be")]
    TooLarge { size: usize, limit: usize },

    /// A PEM block that is not an encrypted cosign key where one was expected.
    #[error("unsupported pem type: {label}")]
    UnsupportedPemType { label: String },

    /// The JSON envelope inside an encrypted key does not parse.
    #[error("decrypt: malformed encrypted key: {source}")]
    MalformedEnvelope {
        #[source]
        source: serde_json::Error,
    },

    #[error("decrypt: encrypted: unknown kdf name {name:?}")]
    UnknownKdf { name: String },

    #[error("decrypt: encrypted: unknown cipher name {name:?}")]
    UnknownCipher { name: String },

    /// Scrypt parameters other than cosign's three sets: refused before any work is done, since
    /// a tampered N is a denial of service.
    #[error(
        "decrypt: unsupported scrypt parameters {found}: cosign keys use N=32768, 65536 or 131072 with r=8, p=1"
    )]
    UnsupportedScryptParameters { found: ScryptParameters },

    #[error("decrypt: encrypted: incorrect nonce size {length}, expected 24")]
    IncorrectNonceSize { length: usize },

    #[error("decrypt: encrypted: incorrect salt size {length}, expected at most 1024")]
    IncorrectSaltSize { length: usize },

    /// Wrong password, or a tampered ciphertext: secretbox cannot tell them apart.
    #[error("decrypt: encrypted: decryption failed")]
    DecryptionFailed,

    /// The decrypted bytes are a SEC1 `EC PRIVATE KEY`, not PKCS #8 (cosign fails here too).
    #[error("parsing private key: the key inside is SEC1 (EC PRIVATE KEY), not PKCS #8")]
    Sec1InsideEncryptedKey,

    #[error("parsing private key: {source}")]
    ParsePrivateKey {
        #[source]
        source: der::Error,
    },

    #[error("error parsing rsa private key: {source}")]
    ParseRsaPrivateKey {
        #[source]
        source: der::Error,
    },

    #[error("error parsing ecdsa private key: {source}")]
    ParseEcPrivateKey {
        #[source]
        source: der::Error,
    },

    #[error("error parsing pkcs #8 private key: {source}")]
    ParsePkcs8PrivateKey {
        #[source]
        source: der::Error,
    },

    /// An unencrypted PEM block `import-key-pair` does not take.
    #[error("unsupported private key: PEM type {label:?} (import takes RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)")]
    UnsupportedImportPemType { label: String },

    #[error("ecdsa curve {oid} is not supported, must be NIST P-256, P-384 or P-521")]
    UnsupportedCurve { oid: String },

    #[error("ecdsa private key names no curve")]
    MissingCurve,

    #[error("rsa key size {bits} is not supported, modulus size must be 2048, 3072, or 4096")]
    UnsupportedRsaSize { bits: usize },

    #[error("rsa private key is inconsistent: {reason}")]
    InvalidRsaKey { reason: String },

    #[error("unsupported key algorithm {oid}: cosign keys are ECDSA (P-256, P-384, P-521), RSA or Ed25519")]
    UnsupportedKeyAlgorithm { oid: String },

    #[error("invalid {curve} private key")]
    InvalidEcKey { curve: &'static str },

    #[error("invalid ed25519 private key")]
    InvalidEd25519Key,

    /// A public key PEM that does not parse.
    #[error("pem to public key: {reason}")]
    ParsePublicKey { reason: String },

    #[error("signing algorithm {algorithm} does not match a {key_type} key")]
    AlgorithmMismatch {
        algorithm: super::SigningAlgorithm,
        key_type: &'static str,
    },

    #[error("signing failed: {reason}")]
    SigningFailed { reason: String },

    /// An ECDSA signature that does not verify (cosign's wording).
    #[error("invalid signature when validating ASN.1 encoded signature")]
    InvalidEcdsaSignature,

    #[error("crypto/rsa: verification error")]
    InvalidRsaSignature,

    #[error("failed to verify signature")]
    InvalidEd25519Signature,

    #[error("encrypting the private key failed")]
    SealFailed,

    #[error("unable to generate random bytes: {reason}")]
    Randomness { reason: String },
}

impl KeyError {
    /// What the user can do about it, where there is something better to say than the message.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::DecryptionFailed => Some(
                "the password does not open this key. cosign takes it from COSIGN_PASSWORD if set (even empty), \
                 else from the terminal, else all of standard input including a trailing newline: \
                 a key made with `echo pw | cosign generate-key-pair` opens with `echo pw | cosign ...`, \
                 not with COSIGN_PASSWORD=pw",
            ),
            Self::Sec1InsideEncryptedKey => Some(
                "re-create the key file from an unencrypted SEC1 or PKCS #8 key with `cosign import-key-pair --key KEY`",
            ),
            Self::UnsupportedPemType { .. } => Some(
                "--key takes a cosign key file (ENCRYPTED SIGSTORE PRIVATE KEY); bring other private keys in with `cosign import-key-pair`",
            ),
            Self::InvalidPem => Some("the file is empty, truncated or not PEM: check the path given to --key"),
            Self::UnsupportedScryptParameters { .. } => {
                Some("the key file was altered or not written by cosign; generate or import it again")
            }
            _ => None,
        }
    }
}
