//! Sigstore bundles (`sigstore_bundle.proto`), read in their protobuf-JSON form (v0.1, v0.2 and
//! v0.3; camelCase or snake_case field names; 64-bit integers as strings or numbers) and
//! written as cosign 3 writes v0.3: compact, in the proto's field order, empty fields left out.
//!
//! What was signed is kept as the exact bytes the bundle carries (the DSSE payload, the message
//! digest); nothing signed is ever re-serialized.

pub mod attestation;
pub mod dsse;
pub mod in_toto;
pub mod legacy_blob_bundle;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::keys::PublicKey;

pub const MEDIA_TYPE_V0_1: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";
pub const MEDIA_TYPE_V0_2: &str = "application/vnd.dev.sigstore.bundle+json;version=0.2";
pub const MEDIA_TYPE_V0_3: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
pub const MEDIA_TYPE_V0_3_LEGACY: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";

/// The largest bundle we parse (cosign's attachment cap is 128 MiB; real bundles are a few KiB).
pub const BUNDLE_SIZE_LIMIT: usize = 16 * 1024 * 1024;
/// The most transparency log entries a bundle may carry (sigstore-go's cap).
pub const TLOG_ENTRY_LIMIT: usize = 32;
/// The most RFC 3161 timestamps a bundle may carry.
pub const TIMESTAMP_LIMIT: usize = 32;
/// The most DSSE signatures an envelope may carry.
pub const DSSE_SIGNATURE_LIMIT: usize = 32;
/// The most certificates in a chain.
pub const CERTIFICATE_CHAIN_LIMIT: usize = 32;

/// A bundle's format version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BundleVersion {
    V0_1,
    V0_2,
    V0_3,
}

impl BundleVersion {
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        match media_type {
            MEDIA_TYPE_V0_1 => Some(Self::V0_1),
            MEDIA_TYPE_V0_2 => Some(Self::V0_2),
            MEDIA_TYPE_V0_3 | MEDIA_TYPE_V0_3_LEGACY => Some(Self::V0_3),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    #[serde(rename = "mediaType", alias = "media_type")]
    pub media_type: String,
    #[serde(rename = "verificationMaterial", alias = "verification_material")]
    pub verification_material: VerificationMaterial,
    #[serde(
        rename = "messageSignature",
        alias = "message_signature",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub message_signature: Option<MessageSignature>,
    #[serde(
        rename = "dsseEnvelope",
        alias = "dsse_envelope",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dsse_envelope: Option<Envelope>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationMaterial {
    #[serde(
        rename = "publicKey",
        alias = "public_key",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub public_key: Option<PublicKeyIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Certificate>,
    #[serde(
        rename = "x509CertificateChain",
        alias = "x509_certificate_chain",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub x509_certificate_chain: Option<CertificateChain>,
    #[serde(
        rename = "tlogEntries",
        alias = "tlog_entries",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tlog_entries: Vec<TransparencyLogEntry>,
    #[serde(
        rename = "timestampVerificationData",
        alias = "timestamp_verification_data",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp_verification_data: Option<TimestampVerificationData>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyIdentifier {
    #[serde(default)]
    pub hint: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    #[serde(rename = "rawBytes", alias = "raw_bytes", with = "base64_bytes")]
    pub raw_bytes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateChain {
    #[serde(default)]
    pub certificates: Vec<Certificate>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimestampVerificationData {
    #[serde(rename = "rfc3161Timestamps", alias = "rfc3161_timestamps", default)]
    pub rfc3161_timestamps: Vec<Rfc3161Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rfc3161Timestamp {
    #[serde(
        rename = "signedTimestamp",
        alias = "signed_timestamp",
        with = "base64_bytes"
    )]
    pub signed_timestamp: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransparencyLogEntry {
    // protobuf JSON leaves out zero values: the first entry of a log has no `logIndex`.
    #[serde(
        rename = "logIndex",
        alias = "log_index",
        with = "int64_string",
        default
    )]
    pub log_index: i64,
    #[serde(rename = "logId", alias = "log_id")]
    pub log_id: LogId,
    #[serde(rename = "kindVersion", alias = "kind_version")]
    pub kind_version: KindVersion,
    #[serde(
        rename = "integratedTime",
        alias = "integrated_time",
        with = "int64_string",
        default
    )]
    pub integrated_time: i64,
    #[serde(
        rename = "inclusionPromise",
        alias = "inclusion_promise",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub inclusion_promise: Option<InclusionPromise>,
    #[serde(
        rename = "inclusionProof",
        alias = "inclusion_proof",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub inclusion_proof: Option<InclusionProof>,
    #[serde(
        rename = "canonicalizedBody",
        alias = "canonicalized_body",
        with = "base64_bytes"
    )]
    pub canonicalized_body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogId {
    #[serde(rename = "keyId", alias = "key_id", with = "base64_bytes")]
    pub key_id: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindVersion {
    pub kind: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionPromise {
    #[serde(
        rename = "signedEntryTimestamp",
        alias = "signed_entry_timestamp",
        with = "base64_bytes"
    )]
    pub signed_entry_timestamp: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    #[serde(
        rename = "logIndex",
        alias = "log_index",
        with = "int64_string",
        default
    )]
    pub log_index: i64,
    #[serde(rename = "rootHash", alias = "root_hash", with = "base64_bytes")]
    pub root_hash: Vec<u8>,
    #[serde(rename = "treeSize", alias = "tree_size", with = "int64_string")]
    pub tree_size: i64,
    #[serde(default, with = "base64_list")]
    pub hashes: Vec<Vec<u8>>,
    #[serde(default)]
    pub checkpoint: Option<Checkpoint>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    #[serde(default)]
    pub envelope: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageSignature {
    #[serde(
        rename = "messageDigest",
        alias = "message_digest",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub message_digest: Option<HashOutput>,
    #[serde(with = "base64_bytes")]
    pub signature: Vec<u8>,
}

/// A digest in a bundle. Both fields may be absent (`{}`): cosign 3 writes that for pure
/// Ed25519 signatures, which hash nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashOutput {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub algorithm: String,
    #[serde(default, with = "base64_bytes", skip_serializing_if = "Vec::is_empty")]
    pub digest: Vec<u8>,
}

/// The protobuf name of a hash algorithm (`SHA2_256`...).
pub fn hash_algorithm_name(algorithm: crate::keys::HashAlgorithm) -> &'static str {
    match algorithm {
        crate::keys::HashAlgorithm::Sha256 => "SHA2_256",
        crate::keys::HashAlgorithm::Sha384 => "SHA2_384",
        crate::keys::HashAlgorithm::Sha512 => "SHA2_512",
    }
}

/// The hash algorithm a protobuf name stands for.
pub fn hash_algorithm_from_name(name: &str) -> Option<crate::keys::HashAlgorithm> {
    match name {
        "SHA2_256" => Some(crate::keys::HashAlgorithm::Sha256),
        "SHA2_384" => Some(crate::keys::HashAlgorithm::Sha384),
        "SHA2_512" => Some(crate::keys::HashAlgorithm::Sha512),
        _ => None,
    }
}

/// A DSSE envelope. The payload is kept as the exact bytes that were signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(with = "base64_bytes")]
    pub payload: Vec<u8>,
    #[serde(rename = "payloadType", alias = "payload_type")]
    pub payload_type: String,
    #[serde(default)]
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    #[serde(with = "base64_bytes")]
    pub sig: Vec<u8>,
    /// Written only when set and not empty (as Go's `omitempty`).
    #[serde(default, skip_serializing_if = "keyid_is_empty")]
    pub keyid: Option<String>,
}

fn keyid_is_empty(keyid: &Option<String>) -> bool {
    keyid.as_deref().is_none_or(str::is_empty)
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    #[error("bundle is {size} bytes, over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("parsing bundle: {source}")]
    Parse {
        #[source]
        source: serde_json::Error,
    },
    #[error("unsupported bundle media type {media_type:?}")]
    UnknownVersion { media_type: String },
    #[error("bundle has neither a message signature nor a DSSE envelope")]
    NoContent,
    #[error("bundle has both a message signature and a DSSE envelope")]
    BothContents,
    #[error("bundle has no verification material")]
    NoVerificationMaterial,
    #[error("bundle carries {count} {what}, over the limit of {limit}")]
    TooMany {
        what: &'static str,
        count: usize,
        limit: usize,
    },
    #[error("invalid bundle: {reason}")]
    Invalid { reason: &'static str },
}

impl Bundle {
    /// Parses a bundle after a size check, and refuses what no valid bundle has: unknown
    /// versions, no or both contents, no verification material, more entries than the caps,
    /// negative log indexes.
    pub fn parse(bytes: &[u8]) -> Result<Self, BundleError> {
        if bytes.len() > BUNDLE_SIZE_LIMIT {
            return Err(BundleError::TooLarge {
                size: bytes.len(),
                limit: BUNDLE_SIZE_LIMIT,
            });
        }
        let bundle: Self =
            serde_json::from_slice(bytes).map_err(|source| BundleError::Parse { source })?;
        bundle.check()?;
        Ok(bundle)
    }

    fn check(&self) -> Result<(), BundleError> {
        let version = self.version()?;
        match (&self.message_signature, &self.dsse_envelope) {
            (None, None) => return Err(BundleError::NoContent),
            (Some(_), Some(_)) => return Err(BundleError::BothContents),
            _ => {}
        }
        let material = &self.verification_material;
        if material.public_key.is_none()
            && material.certificate.is_none()
            && material.x509_certificate_chain.is_none()
        {
            return Err(BundleError::NoVerificationMaterial);
        }
        if let Some(chain) = &material.x509_certificate_chain {
            if chain.certificates.is_empty() {
                return Err(BundleError::Invalid {
                    reason: "empty certificate chain",
                });
            }
            cap(
                "certificates",
                chain.certificates.len(),
                CERTIFICATE_CHAIN_LIMIT,
            )?;
        }
        if material.certificate.is_some() && version < BundleVersion::V0_3 {
            return Err(BundleError::Invalid {
                reason: "a single certificate needs bundle v0.3",
            });
        }
        cap(
            "transparency log entries",
            material.tlog_entries.len(),
            TLOG_ENTRY_LIMIT,
        )?;
        if let Some(data) = &material.timestamp_verification_data {
            cap("timestamps", data.rfc3161_timestamps.len(), TIMESTAMP_LIMIT)?;
        }
        if let Some(envelope) = &self.dsse_envelope {
            cap(
                "DSSE signatures",
                envelope.signatures.len(),
                DSSE_SIGNATURE_LIMIT,
            )?;
        }
        for entry in &material.tlog_entries {
            if entry.log_index < 0
                || entry
                    .inclusion_proof
                    .as_ref()
                    .is_some_and(|proof| proof.log_index < 0 || proof.tree_size < 0)
            {
                return Err(BundleError::Invalid {
                    reason: "negative log index",
                });
            }
        }
        Ok(())
    }

    pub fn version(&self) -> Result<BundleVersion, BundleError> {
        BundleVersion::from_media_type(&self.media_type).ok_or_else(|| {
            BundleError::UnknownVersion {
                media_type: self.media_type.clone(),
            }
        })
    }

    /// A v0.3 bundle for a blob signed with a key, as cosign 3 writes it (no log entry): the
    /// message digest is the one the signature covers (`None`: pure Ed25519, written `{}`).
    pub fn for_message_signature(
        key: &PublicKey,
        message_digest: Option<(crate::keys::HashAlgorithm, Vec<u8>)>,
        signature: Vec<u8>,
    ) -> Result<Self, crate::keys::KeyError> {
        let message_digest = match message_digest {
            Some((algorithm, digest)) => HashOutput {
                algorithm: hash_algorithm_name(algorithm).to_owned(),
                digest,
            },
            None => HashOutput {
                algorithm: String::new(),
                digest: Vec::new(),
            },
        };
        Ok(Self {
            media_type: MEDIA_TYPE_V0_3.to_owned(),
            verification_material: VerificationMaterial {
                public_key: Some(PublicKeyIdentifier {
                    hint: public_key_hint(key)?,
                }),
                ..VerificationMaterial::default()
            },
            message_signature: Some(MessageSignature {
                message_digest: Some(message_digest),
                signature,
            }),
            dsse_envelope: None,
        })
    }

    /// A v0.3 bundle for a DSSE envelope signed with a key.
    pub fn for_envelope(
        key: &PublicKey,
        envelope: Envelope,
    ) -> Result<Self, crate::keys::KeyError> {
        Ok(Self {
            media_type: MEDIA_TYPE_V0_3.to_owned(),
            verification_material: VerificationMaterial {
                public_key: Some(PublicKeyIdentifier {
                    hint: public_key_hint(key)?,
                }),
                ..VerificationMaterial::default()
            },
            message_signature: None,
            dsse_envelope: Some(envelope),
        })
    }

    /// The bundle with `certificate` (DER; a keyless signer's leaf) as its verification
    /// material in place of the public key hint, as cosign 3 writes keyless bundles.
    pub fn with_certificate(mut self, certificate: Vec<u8>) -> Self {
        self.verification_material.public_key = None;
        self.verification_material.certificate = Some(Certificate {
            raw_bytes: certificate,
        });
        self
    }

    /// The signature the bundle carries: the message signature's, or the DSSE envelope's first
    /// (what RFC 3161 timestamps are taken over). Empty when there is none.
    pub fn signature_bytes(&self) -> &[u8] {
        self.message_signature
            .as_ref()
            .map(|message| message.signature.as_slice())
            .or_else(|| {
                self.dsse_envelope
                    .as_ref()
                    .and_then(|envelope| envelope.signatures.first())
                    .map(|signature| signature.sig.as_slice())
            })
            .unwrap_or_default()
    }

    /// Compact JSON in the proto's field order.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn cap(what: &'static str, count: usize, limit: usize) -> Result<(), BundleError> {
    if count > limit {
        return Err(BundleError::TooMany { what, count, limit });
    }
    Ok(())
}

/// The bundle's public-key hint: base64 of the SHA-256 of the key's PKIX DER.
pub fn public_key_hint(key: &PublicKey) -> Result<String, crate::keys::KeyError> {
    use sha2::Digest as _;
    let der = key.to_der()?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(der)))
}

/// protobuf JSON writes `bytes` as standard base64 (and reads URL-safe too).
mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        super::decode_base64(&text).map_err(serde::de::Error::custom)
    }
}

mod base64_list {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(items: &[Vec<u8>], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            items
                .iter()
                .map(|item| base64::engine::general_purpose::STANDARD.encode(item)),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Vec<u8>>, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        texts
            .iter()
            .map(|text| super::decode_base64(text).map_err(serde::de::Error::custom))
            .collect()
    }
}

fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    let trimmed = text.trim_end_matches('=');
    let padded = |t: &str| format!("{t}{}", "=".repeat((4 - t.len() % 4) % 4));
    STANDARD
        .decode(padded(trimmed))
        .or_else(|_| URL_SAFE.decode(padded(trimmed)))
}

/// protobuf JSON writes int64 as a string; it reads strings and numbers.
mod int64_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either<'a> {
            Number(i64),
            Text(std::borrow::Cow<'a, str>),
        }
        match Either::deserialize(deserializer)? {
            Either::Number(number) => Ok(number),
            Either::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COSIGN3_BLOB_BUNDLE: &str = r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"nRM49HX/TnVjK0jtdeDLs08euiudjG9r/fXKZBO7HA8="}},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM="},"signature":"MEQCIB99eH2w603eNvWklQ5KNk0MXLXM96cvk4mL6Uzjo2jpAiBoihxVbgC+noLsjUclpzqsUU17SJM/vKnGtlNcm2TaHg=="}}"#;

    #[test]
    fn round_trips_a_cosign_3_blob_bundle_byte_for_byte() {
        let bundle = Bundle::parse(COSIGN3_BLOB_BUNDLE.as_bytes()).expect("parses");
        assert_eq!(bundle.version().expect("version"), BundleVersion::V0_3);
        assert_eq!(bundle.to_json(), COSIGN3_BLOB_BUNDLE.as_bytes());
    }

    #[test]
    fn reads_every_conformance_bundle_that_should_parse() {
        let root = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/conformance/bundle-verify"
        );
        let entries = std::fs::read_dir(root).unwrap_or_else(|error| {
            panic!("the conformance vectors ({root}) must be beside this checkout: {error}")
        });
        for entry in entries.flatten() {
            let path = entry.path().join("bundle.sigstore.json");
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            let parsed = Bundle::parse(&bytes);
            if !name.ends_with("_fail") {
                assert!(parsed.is_ok(), "{name}: {:?}", parsed.err());
            }
        }
    }

    #[test]
    fn refuses_stuffed_and_malformed_bundles() {
        let entry = r#"{"logIndex":"1","logId":{"keyId":"AA=="},"kindVersion":{"kind":"hashedrekord","version":"0.0.1"},"integratedTime":"1","canonicalizedBody":"AA=="}"#;
        let entries = vec![entry; TLOG_ENTRY_LIMIT + 1].join(",");
        let stuffed = COSIGN3_BLOB_BUNDLE.replace(
            r#""publicKey":{"hint":"nRM49HX/TnVjK0jtdeDLs08euiudjG9r/fXKZBO7HA8="}"#,
            &format!(r#""publicKey":{{"hint":"x"}},"tlogEntries":[{entries}]"#),
        );
        assert!(matches!(
            Bundle::parse(stuffed.as_bytes()),
            Err(BundleError::TooMany { .. })
        ));
        let unknown = COSIGN3_BLOB_BUNDLE.replace("bundle.v0.3+json", "bundle.v9+json");
        assert!(matches!(
            Bundle::parse(unknown.as_bytes()),
            Err(BundleError::UnknownVersion { .. })
        ));
        let negative = COSIGN3_BLOB_BUNDLE.replace(
            r#""publicKey":{"hint":"nRM49HX/TnVjK0jtdeDLs08euiudjG9r/fXKZBO7HA8="}"#,
            &format!(
                r#""publicKey":{{"hint":"x"}},"tlogEntries":[{}]"#,
                entry.replace(r#""logIndex":"1""#, r#""logIndex":"-1""#)
            ),
        );
        assert!(matches!(
            Bundle::parse(negative.as_bytes()),
            Err(BundleError::Invalid { .. })
        ));
        // protobuf JSON leaves a zero log index out: the first entry of a log reads as index 0.
        let first = COSIGN3_BLOB_BUNDLE.replace(
            r#""publicKey":{"hint":"nRM49HX/TnVjK0jtdeDLs08euiudjG9r/fXKZBO7HA8="}"#,
            &format!(
                r#""publicKey":{{"hint":"x"}},"tlogEntries":[{}]"#,
                entry.replace(r#""logIndex":"1","#, "")
            ),
        );
        let parsed = Bundle::parse(first.as_bytes()).expect("an entry without logIndex");
        assert_eq!(parsed.verification_material.tlog_entries[0].log_index, 0);
        assert!(matches!(
            Bundle::parse(b"{"),
            Err(BundleError::Parse { .. })
        ));
        let huge = vec![b' '; BUNDLE_SIZE_LIMIT + 1];
        assert!(matches!(
            Bundle::parse(&huge),
            Err(BundleError::TooLarge { .. })
        ));
    }
}
