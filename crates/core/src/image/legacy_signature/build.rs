//! Building a signature image as cosign does: a layer per signature (the payload blob, the
//! signature in an annotation), the config and manifest byte for byte as go-containerregistry
//! writes them after `mutate.Append` over an empty image, and appending without duplicates.

use base64::Engine as _;

use super::SIGNATURE_ANNOTATION;
use crate::digest::Digest;
use crate::image::manifest::{media_types, Descriptor, ImageManifest, LAYER_COUNT_LIMIT};
use crate::keys::PublicKey;

/// The descriptor of a new signature layer: the payload blob, annotated with its signature.
pub fn signature_layer(payload: &[u8], signature: &[u8]) -> Descriptor {
    let encoded = base64::engine::general_purpose::STANDARD.encode(signature);
    Descriptor {
        media_type: media_types::SIMPLE_SIGNING.to_owned(),
        size: payload.len() as u64,
        digest: Digest::sha256(payload),
        urls: None,
        annotations: Some(
            [(SIGNATURE_ANNOTATION.to_owned(), encoded)]
                .into_iter()
                .collect(),
        ),
        platform: None,
        artifact_type: None,
    }
}

/// What a keyless signature layer carries beside the signature: the certificate and its chain
/// (PEM), the Rekor v1 entry as cosign's bundle annotation, the RFC 3161 timestamp (DER).
#[derive(Debug, Clone, Default)]
pub struct KeylessAnnotations {
    pub certificate_pem: String,
    pub chain_pem: String,
    pub rekor_bundle: Option<String>,
    pub timestamp: Option<Vec<u8>>,
}

/// The descriptor of a new keyless signature layer: [`signature_layer`] with the certificate,
/// chain, Rekor bundle and timestamp annotations cosign writes.
pub fn keyless_signature_layer(
    payload: &[u8],
    signature: &[u8],
    keyless: &KeylessAnnotations,
) -> Descriptor {
    let mut layer = signature_layer(payload, signature);
    let annotations = layer.annotations.get_or_insert_with(Default::default);
    annotations.insert(
        super::CERTIFICATE_ANNOTATION.to_owned(),
        keyless.certificate_pem.clone(),
    );
    annotations.insert(
        super::CHAIN_ANNOTATION.to_owned(),
        keyless.chain_pem.clone(),
    );
    if let Some(bundle) = &keyless.rekor_bundle {
        annotations.insert(super::BUNDLE_ANNOTATION.to_owned(), bundle.clone());
    }
    if let Some(timestamp) = &keyless.timestamp {
        annotations.insert(
            super::RFC3161_TIMESTAMP_ANNOTATION.to_owned(),
            super::keyless::timestamp_annotation(timestamp),
        );
    }
    layer
}

/// The annotation of a legacy attestation layer that names its statement's predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";

/// The descriptor of a new layer of the legacy attestation image (`.att`): the DSSE envelope
/// (as JSON), annotated with an empty signature and the predicate type, as cosign writes it.
pub fn attestation_layer(envelope_json: &[u8], predicate_type: Option<&str>) -> Descriptor {
    let mut annotations = std::collections::BTreeMap::new();
    annotations.insert(SIGNATURE_ANNOTATION.to_owned(), String::new());
    if let Some(predicate_type) = predicate_type {
        annotations.insert(
            PREDICATE_TYPE_ANNOTATION.to_owned(),
            predicate_type.to_owned(),
        );
    }
    Descriptor {
        media_type: media_types::DSSE_ENVELOPE.to_owned(),
        size: envelope_json.len() as u64,
        digest: Digest::sha256(envelope_json),
        urls: None,
        annotations: Some(annotations.into_iter().collect()),
        platform: None,
        artifact_type: None,
    }
}

/// The config of a signature image with these layers, byte for byte as ggcr writes the config
/// of an empty image after appending them: a zero `created`, one empty history entry per layer,
/// the payload digests as `diff_ids`.
pub fn signature_config(layers: &[Descriptor]) -> Vec<u8> {
    const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
    let mut out = String::with_capacity(160 + layers.len() * 110);
    out.push_str(r#"{"architecture":"","created":""#);
    out.push_str(ZERO_TIME);
    out.push_str(r#"","history":["#);
    for index in 0..layers.len() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(r#"{"created":""#);
        out.push_str(ZERO_TIME);
        out.push_str(r#""}"#);
    }
    out.push_str(r#"],"os":"","rootfs":{"type":"layers","diff_ids":["#);
    for (index, layer) in layers.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(&layer.digest.to_string());
        out.push('"');
    }
    out.push_str(r#"]},"config":{}}"#);
    out.into_bytes()
}

/// A signature image ready to push: its config blob and its manifest.
#[derive(Debug, Clone)]
pub struct SignatureImage {
    pub config: Vec<u8>,
    pub manifest: ImageManifest,
}

impl SignatureImage {
    pub fn manifest_bytes(&self) -> Vec<u8> {
        self.manifest.to_bytes()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("signature image already holds {LAYER_COUNT_LIMIT} signatures, the most cosign reads")]
    Full,
}

/// Whether docker or OCI media types are wanted for a new signature image
/// (`COSIGN_DOCKER_MEDIA_TYPES=1` asks for Docker's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFlavor {
    Oci,
    Docker,
}

/// Appends `layer` to `existing` (or to an empty image), keeping the existing manifest's media
/// types. Returns `None` when an equal signature is already there (`is_duplicate` says whether
/// an existing layer is the same signature: same payload and annotations, and a signature that
/// verifies with the signer's key).
pub fn append_signature(
    existing: Option<&ImageManifest>,
    layer: Descriptor,
    flavor: ManifestFlavor,
    is_duplicate: impl Fn(&Descriptor) -> bool,
) -> Result<Option<SignatureImage>, AppendError> {
    let mut layers = existing
        .map(|manifest| manifest.layers.clone())
        .unwrap_or_default();
    if layers.iter().any(&is_duplicate) {
        return Ok(None);
    }
    if layers.len() >= LAYER_COUNT_LIMIT {
        return Err(AppendError::Full);
    }
    layers.push(layer);
    let config = signature_config(&layers);
    let (manifest_type, config_type) = match (existing, flavor) {
        (Some(manifest), _) => (
            manifest.media_type.clone(),
            manifest.config.media_type.clone(),
        ),
        (None, ManifestFlavor::Oci) => (
            Some(media_types::OCI_MANIFEST.to_owned()),
            media_types::OCI_CONFIG.to_owned(),
        ),
        (None, ManifestFlavor::Docker) => (
            Some(media_types::DOCKER_MANIFEST.to_owned()),
            media_types::DOCKER_CONFIG.to_owned(),
        ),
    };
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: manifest_type,
        config: Descriptor {
            media_type: config_type,
            size: config.len() as u64,
            digest: Digest::sha256(&config),
            urls: None,
            annotations: None,
            platform: None,
            artifact_type: None,
        },
        layers,
        annotations: existing.and_then(|manifest| manifest.annotations.clone()),
        subject: None,
        artifact_type: None,
    };
    Ok(Some(SignatureImage { config, manifest }))
}

/// Whether `candidate` is the same signature as `ours` (cosign's duplicate detection): same
/// payload digest and media type, the same annotations other than the signature, and a
/// signature that verifies over `payload` with `key`.
pub fn is_same_signature(
    candidate: &Descriptor,
    ours: &Descriptor,
    payload: &[u8],
    key: &PublicKey,
) -> bool {
    let without_signature = |descriptor: &Descriptor| {
        let mut annotations = descriptor.annotations.clone().unwrap_or_default();
        annotations.remove(SIGNATURE_ANNOTATION);
        annotations
    };
    candidate.digest == ours.digest
        && candidate.media_type == ours.media_type
        && without_signature(candidate) == without_signature(ours)
        && candidate
            .annotation(SIGNATURE_ANNOTATION)
            .and_then(|encoded| {
                base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .ok()
            })
            .is_some_and(|signature| key.verify_payload(payload, &signature).is_ok())
}
