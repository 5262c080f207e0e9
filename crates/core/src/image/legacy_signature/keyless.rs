//! A legacy layer signed with a Fulcio certificate, read as the Sigstore bundle its annotations
//! amount to (certificate, Rekor entry with its signed entry timestamp, RFC 3161 timestamps).

use base64::Engine as _;

use super::check::{AnnotationError, LayerVerificationError};
use super::{
    BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, RFC3161_TIMESTAMP_ANNOTATION, SIGNATURE_ANNOTATION,
};
use crate::digest::Digest;
use crate::image::manifest::Descriptor;

/// A layer signed with a certificate (cosign's keyless legacy format), as the bundle it
/// amounts to: the certificate from `dev.sigstore.cosign/certificate`, the Rekor entry and its
/// signed entry timestamp from `dev.sigstore.cosign/bundle`, RFC 3161 timestamps from
/// `dev.sigstore.cosign/rfc3161timestamp`, and the signature over the payload. The chain
/// annotation is not used: only the trusted root's CAs are trusted. A layer without a
/// certificate annotation takes `given` (cosign's `--certificate`), if any.
pub fn keyless_bundle(
    layer: &Descriptor,
    payload: &[u8],
    given: Option<&crate::trust::certificate::Certificate>,
) -> Result<crate::bundle::Bundle, LayerVerificationError> {
    use crate::bundle;
    if !layer.digest.matches(payload) {
        return Err(LayerVerificationError::PayloadDigestMismatch {
            expected: layer.digest.clone(),
            actual: Digest::sha256(payload),
        });
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let signature = engine
        .decode(
            layer
                .annotation(SIGNATURE_ANNOTATION)
                .ok_or(LayerVerificationError::MissingSignature)?,
        )
        .map_err(|source| LayerVerificationError::SignatureEncoding { source })?;
    let certificate = match (layer.annotation(CERTIFICATE_ANNOTATION), given) {
        (Some(pem), _) => crate::trust::certificate::Certificate::from_pem(pem.as_bytes())?,
        (None, Some(given)) => given.clone(),
        (None, None) => return Err(LayerVerificationError::MissingCertificate),
    };
    let mut tlog_entries = Vec::new();
    if let Some(rekor) = layer.annotation(BUNDLE_ANNOTATION) {
        let rekor =
            RekorBundle::parse(rekor).map_err(|source| LayerVerificationError::Annotation {
                annotation: BUNDLE_ANNOTATION,
                source,
            })?;
        tlog_entries.push(rekor.entry);
    }
    let mut rfc3161_timestamps = Vec::new();
    if let Some(timestamp) = layer.annotation(RFC3161_TIMESTAMP_ANNOTATION) {
        #[derive(serde::Deserialize)]
        struct Timestamp {
            #[serde(rename = "SignedRFC3161Timestamp")]
            signed: String,
        }
        let annotation_error = |source: AnnotationError| LayerVerificationError::Annotation {
            annotation: RFC3161_TIMESTAMP_ANNOTATION,
            source,
        };
        let parsed: Timestamp =
            serde_json::from_str(timestamp).map_err(|error| annotation_error(error.into()))?;
        let signed_timestamp = engine
            .decode(parsed.signed.as_bytes())
            .map_err(|error| annotation_error(error.into()))?;
        rfc3161_timestamps.push(bundle::Rfc3161Timestamp { signed_timestamp });
    }
    Ok(bundle::Bundle {
        media_type: bundle::MEDIA_TYPE_V0_1.to_owned(),
        verification_material: bundle::VerificationMaterial {
            public_key: None,
            certificate: None,
            x509_certificate_chain: Some(bundle::CertificateChain {
                certificates: vec![bundle::Certificate {
                    raw_bytes: certificate.der().to_vec(),
                }],
            }),
            tlog_entries,
            timestamp_verification_data: (!rfc3161_timestamps.is_empty())
                .then_some(bundle::TimestampVerificationData { rfc3161_timestamps }),
        },
        message_signature: Some(bundle::MessageSignature {
            message_digest: Some(bundle::HashOutput {
                algorithm: "SHA2_256".to_owned(),
                digest: Digest::sha256(payload).bytes(),
            }),
            signature,
        }),
        dsse_envelope: None,
    })
}

/// cosign's `dev.sigstore.cosign/bundle` annotation: a Rekor entry with its signed entry
/// timestamp (no inclusion proof).
#[derive(Debug, Clone)]
pub struct RekorBundle {
    pub entry: crate::bundle::TransparencyLogEntry,
}

impl RekorBundle {
    pub fn parse(annotation: &str) -> Result<Self, AnnotationError> {
        use crate::bundle;
        #[derive(serde::Deserialize)]
        struct Raw {
            #[serde(rename = "SignedEntryTimestamp")]
            set: String,
            #[serde(rename = "Payload")]
            payload: RawPayload,
        }
        #[derive(serde::Deserialize)]
        struct RawPayload {
            body: String,
            #[serde(rename = "integratedTime")]
            integrated_time: i64,
            #[serde(rename = "logIndex")]
            log_index: i64,
            #[serde(rename = "logID")]
            log_id: String,
        }
        let raw: Raw = serde_json::from_str(annotation)?;
        let engine = base64::engine::general_purpose::STANDARD;
        let body = engine.decode(raw.payload.body.as_bytes())?;
        let kind: serde_json::Value = serde_json::from_slice(&body)?;
        let text = |pointer: &str| {
            kind.pointer(pointer)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let log_id = (0..raw.payload.log_id.len() / 2)
            .map(|index| {
                raw.payload
                    .log_id
                    .get(index * 2..index * 2 + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                    .ok_or(AnnotationError::LogIdNotHex)
            })
            .collect::<Result<Vec<u8>, AnnotationError>>()?;
        Ok(Self {
            entry: bundle::TransparencyLogEntry {
                log_index: raw.payload.log_index,
                log_id: bundle::LogId { key_id: log_id },
                kind_version: bundle::KindVersion {
                    kind: text("/kind"),
                    version: text("/apiVersion"),
                },
                integrated_time: raw.payload.integrated_time,
                inclusion_promise: Some(bundle::InclusionPromise {
                    signed_entry_timestamp: engine.decode(raw.set.as_bytes())?,
                }),
                inclusion_proof: None,
                canonicalized_body: body,
            },
        })
    }
}

impl RekorBundle {
    /// The annotation's JSON, as cosign's `bundle.RekorBundle` marshals (field order kept);
    /// `None` for an entry without a signed entry timestamp (Rekor v2 entries have none, so
    /// the legacy format cannot carry them).
    pub fn annotation(entry: &crate::bundle::TransparencyLogEntry) -> Option<String> {
        #[derive(serde::Serialize)]
        struct Raw<'a> {
            #[serde(rename = "SignedEntryTimestamp")]
            set: String,
            #[serde(rename = "Payload")]
            payload: RawPayload<'a>,
        }
        #[derive(serde::Serialize)]
        struct RawPayload<'a> {
            body: String,
            #[serde(rename = "integratedTime")]
            integrated_time: i64,
            #[serde(rename = "logIndex")]
            log_index: i64,
            #[serde(rename = "logID")]
            log_id: &'a str,
        }
        let engine = base64::engine::general_purpose::STANDARD;
        let promise = entry.inclusion_promise.as_ref()?;
        let log_id = crate::digest::hex_encode(&entry.log_id.key_id);
        serde_json::to_string(&Raw {
            set: engine.encode(&promise.signed_entry_timestamp),
            payload: RawPayload {
                body: engine.encode(&entry.canonicalized_body),
                integrated_time: entry.integrated_time,
                log_index: entry.log_index,
                log_id: &log_id,
            },
        })
        .ok()
    }
}

/// The `dev.sigstore.cosign/rfc3161timestamp` annotation for a DER timestamp response.
pub fn timestamp_annotation(response: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(response);
    format!(
        r#"{{"SignedRFC3161Timestamp":{}}}"#,
        crate::go_json::string(&encoded)
    )
}
