//! Content digests (`sha256:<hex>`), computed from bytes, never taken on a registry's word.

use std::fmt;
use std::str::FromStr;

use sha2::Digest as _;

/// A content digest as OCI writes it: `<algorithm>:<lower-case hex>`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: DigestAlgorithm,
    hex: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha384 => 96,
            Self::Sha512 => 128,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    #[error("invalid digest {value:?}: expected <algorithm>:<hex>")]
    Malformed { value: String },
    #[error("unsupported digest algorithm {algorithm:?}")]
    UnsupportedAlgorithm { algorithm: String },
    #[error("invalid digest {value:?}: wrong length or not lower-case hex")]
    BadHex { value: String },
}

impl Digest {
    /// The SHA-256 digest of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Self {
        Self::from_sha256_bytes(&sha2::Sha256::digest(bytes))
    }

    pub(crate) fn from_sha256_bytes(bytes: &[u8]) -> Self {
        Self {
            algorithm: DigestAlgorithm::Sha256,
            hex: hex_encode(bytes),
        }
    }

    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The form cosign uses in tags: `sha256-<hex>`.
    pub fn tag_form(&self) -> String {
        format!("{}-{}", self.algorithm.name(), self.hex)
    }

    /// Whether `bytes` hash to this digest.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        let actual = match self.algorithm {
            DigestAlgorithm::Sha256 => hex_encode(&sha2::Sha256::digest(bytes)),
            DigestAlgorithm::Sha384 => hex_encode(&sha2::Sha384::digest(bytes)),
            DigestAlgorithm::Sha512 => hex_encode(&sha2::Sha512::digest(bytes)),
        };
        actual == self.hex
    }
}

/// Lower-case hex of `bytes`.
pub fn hex_encode(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The bytes of even-length hex text (either case); `None` for anything else.
pub fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

impl Digest {
    /// The digest's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        (0..self.hex.len() / 2)
            .filter_map(|index| self.hex.get(index * 2..index * 2 + 2))
            .filter_map(|pair| u8::from_str_radix(pair, 16).ok())
            .collect()
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let (algorithm, hex) = value
            .split_once(':')
            .ok_or_else(|| DigestError::Malformed {
                value: value.to_owned(),
            })?;
        let algorithm = match algorithm {
            "sha256" => DigestAlgorithm::Sha256,
            "sha384" => DigestAlgorithm::Sha384,
            "sha512" => DigestAlgorithm::Sha512,
            other => {
                return Err(DigestError::UnsupportedAlgorithm {
                    algorithm: other.to_owned(),
                })
            }
        };
        if hex.len() != algorithm.hex_len()
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(DigestError::BadHex {
                value: value.to_owned(),
            });
        }
        Ok(Self {
            algorithm,
            hex: hex.to_owned(),
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// SHA-256 computed incrementally, for content that arrives in pieces.
#[derive(Clone, Default)]
pub struct Sha256Hasher(sha2::Sha256);

impl std::fmt::Debug for Sha256Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sha256Hasher")
    }
}

impl Sha256Hasher {
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub fn finish(self) -> Digest {
        Digest::from_sha256_bytes(&self.0.finalize())
    }
}

/// Checks content that arrives in pieces against a digest of any supported algorithm.
#[derive(Clone)]
pub struct DigestCheck {
    expected: Digest,
    state: DigestState,
}

#[derive(Clone)]
enum DigestState {
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl std::fmt::Debug for DigestCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DigestCheck({})", self.expected)
    }
}

impl DigestCheck {
    pub fn new(expected: &Digest) -> Self {
        let state = match expected.algorithm {
            DigestAlgorithm::Sha256 => DigestState::Sha256(sha2::Sha256::default()),
            DigestAlgorithm::Sha384 => DigestState::Sha384(sha2::Sha384::default()),
            DigestAlgorithm::Sha512 => DigestState::Sha512(sha2::Sha512::default()),
        };
        Self {
            expected: expected.clone(),
            state,
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.state {
            DigestState::Sha256(hasher) => hasher.update(bytes),
            DigestState::Sha384(hasher) => hasher.update(bytes),
            DigestState::Sha512(hasher) => hasher.update(bytes),
        }
    }

    /// Whether everything passed to [`DigestCheck::update`] hashes to the expected digest.
    pub fn matches(self) -> bool {
        let actual = match self.state {
            DigestState::Sha256(hasher) => hex_encode(&hasher.finalize()),
            DigestState::Sha384(hasher) => hex_encode(&hasher.finalize()),
            DigestState::Sha512(hasher) => hex_encode(&hasher.finalize()),
        };
        actual == self.expected.hex
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_and_parses_sha256() {
        let digest = Digest::sha256(b"{}");
        assert_eq!(
            digest.to_string(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(digest.to_string().parse::<Digest>(), Ok(digest.clone()));
        assert_eq!(
            digest.tag_form(),
            "sha256-44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert!(digest.matches(b"{}"));
        assert!(!digest.matches(b"{ }"));
        let mut hasher = Sha256Hasher::default();
        hasher.update(b"{");
        hasher.update(b"}");
        assert_eq!(hasher.finish(), digest);
        for (content, expected) in [(&b"{}"[..], true), (&b"{ }"[..], false)] {
            let mut check = DigestCheck::new(&digest);
            for piece in content.chunks(1) {
                check.update(piece);
            }
            assert_eq!(check.matches(), expected);
        }
    }

    #[test]
    fn rejects_malformed_digests() {
        for bad in [
            "",
            "sha256",
            "sha256:",
            "sha256:ABC",
            "md5:00",
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8",
            "sha256:44136FA355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad}");
        }
    }
}
