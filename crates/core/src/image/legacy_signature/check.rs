//! Verifying one signature layer against a key, and the claims of its simple-signing payload.

use std::collections::BTreeMap;

use base64::Engine as _;

use super::{CERTIFICATE_ANNOTATION, SIGNATURE_ANNOTATION};
use crate::digest::Digest;
use crate::image::manifest::Descriptor;
use crate::image::simple_signing::SimpleSigningPayload;
use crate::keys::{KeyError, PublicKey};

/// Why one signature layer did not verify. Messages are cosign's.
#[derive(Debug, thiserror::Error)]
pub enum LayerVerificationError {
    #[error("payload digest does not match its layer: expected {expected}, got {actual}")]
    PayloadDigestMismatch { expected: Digest, actual: Digest },
    #[error("missing signature annotation {SIGNATURE_ANNOTATION}")]
    MissingSignature,
    #[error("signature annotation is not base64: {source}")]
    SignatureEncoding {
        #[source]
        source: base64::DecodeError,
    },
    #[error("{source}")]
    Signature {
        #[from]
        source: KeyError,
    },
    #[error("{source}")]
    PayloadJson {
        #[source]
        source: serde_json::Error,
    },
    #[error("invalid or missing digest in claim: {found}")]
    DigestClaim { found: String },
    #[error("missing or incorrect annotation")]
    Annotations,
    #[error(
        "no certificate annotation {CERTIFICATE_ANNOTATION}: the signature was made with a key"
    )]
    MissingCertificate,
    #[error("{0}")]
    Certificate(#[from] crate::trust::certificate::CertificateError),
    #[error("{annotation}: {source}")]
    Annotation {
        annotation: &'static str,
        #[source]
        source: AnnotationError,
    },
}

/// Why an annotation of a certificate-signed layer could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnnotationError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Base64(#[from] base64::DecodeError),
    #[error("logID is not hex")]
    LogIdNotHex,
}

/// What to check a signature layer against.
#[derive(Debug, Clone, Copy)]
pub struct LayerCheck<'a> {
    pub key: &'a PublicKey,
    pub image_digest: &'a Digest,
    /// `-a key=value` the payload must carry (`None` when no `-a` was given).
    pub annotations: Option<&'a BTreeMap<String, String>>,
    /// `--check-claims` (cosign's default: true).
    pub check_claims: bool,
}

/// Verifies one signature layer as cosign does with `--key`: the payload is the layer's blob,
/// the signature verifies over it with the key, then (with `--check-claims`) the payload names
/// the image's digest and carries the wanted annotations.
pub fn verify_layer(
    layer: &Descriptor,
    payload: &[u8],
    check: LayerCheck<'_>,
) -> Result<SimpleSigningPayload, LayerVerificationError> {
    // Bind the payload to the layer that listed it (the registry served these bytes).
    if !layer.digest.matches(payload) {
        return Err(LayerVerificationError::PayloadDigestMismatch {
            expected: layer.digest.clone(),
            actual: Digest::sha256(payload),
        });
    }
    let encoded = layer
        .annotation(SIGNATURE_ANNOTATION)
        .ok_or(LayerVerificationError::MissingSignature)?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|source| LayerVerificationError::SignatureEncoding { source })?;
    check.key.verify_payload(payload, &signature)?;
    check_payload_claims(
        payload,
        check.image_digest,
        check.annotations,
        check.check_claims,
    )
}

/// The payload's claims (with `--check-claims`): it names the image's digest and carries the
/// wanted annotations.
pub fn check_payload_claims(
    payload: &[u8],
    image_digest: &Digest,
    annotations: Option<&BTreeMap<String, String>>,
    check_claims: bool,
) -> Result<SimpleSigningPayload, LayerVerificationError> {
    let parsed = SimpleSigningPayload::parse(payload)
        .map_err(|source| LayerVerificationError::PayloadJson { source })?;
    if check_claims {
        let found = &parsed.critical.image.docker_manifest_digest;
        if *found != image_digest.to_string() {
            return Err(LayerVerificationError::DigestClaim {
                found: found.clone(),
            });
        }
        if let Some(wanted) = annotations {
            if !parsed.has_annotations(wanted) {
                return Err(LayerVerificationError::Annotations);
            }
        }
    }
    Ok(parsed)
}
