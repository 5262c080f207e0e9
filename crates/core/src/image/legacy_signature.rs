//! cosign's legacy signature format: a signature image tagged `sha256-<hex>.sig` in the
//! image's repository, one layer per signature (the simple-signing payload), the signature in
//! the layer's `dev.cosignproject.cosign/signature` annotation. Building it (as ggcr's
//! `mutate.Append` over an empty image would) and verifying one layer against a key.

use std::collections::BTreeMap;

use base64::Engine as _;

use crate::digest::Digest;
use crate::image::manifest::{media_types, Descriptor, ImageManifest, LAYER_COUNT_LIMIT};
use crate::image::simple_signing::SimpleSigningPayload;
use crate::keys::{KeyError, PublicKey};

pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
pub const RFC3161_TIMESTAMP_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";

/// The tag holding the signatures of `digest`: `sha256-<hex>.sig`.
pub fn signature_tag(digest: &Digest) -> String {
    Attachment::Signatures.tag(digest)
}

/// The images cosign attaches to an image under tags derived from its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    /// `sha256-<hex>.sig`
    Signatures,
    /// `sha256-<hex>.att`
    Attestations,
    /// `sha256-<hex>.sbom`
    Sboms,
}

impl Attachment {
    pub const ALL: [Attachment; 3] = [Self::Signatures, Self::Attestations, Self::Sboms];

    /// The tag suffix, as `copy --only` names it too.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Signatures => "sig",
            Self::Attestations => "att",
            Self::Sboms => "sbom",
        }
    }

    pub fn tag(self, digest: &Digest) -> String {
        format!("{}.{}", digest.tag_form(), self.suffix())
    }
}

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
            .is_some_and(|signature| key.verify(payload, &signature).is_ok())
}

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
    #[error("{reason}")]
    Keyless { reason: String },
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
    check.key.verify(payload, &signature)?;
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

/// A layer signed with a certificate (cosign's keyless legacy format), as the bundle it
/// amounts to: the certificate from `dev.sigstore.cosign/certificate`, the Rekor entry and its
/// signed entry timestamp from `dev.sigstore.cosign/bundle`, RFC 3161 timestamps from
/// `dev.sigstore.cosign/rfc3161timestamp`, and the signature over the payload. The chain
/// annotation is not used: only the trusted root's CAs are trusted.
pub fn keyless_bundle(
    layer: &Descriptor,
    payload: &[u8],
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
    let certificate = layer
        .annotation(CERTIFICATE_ANNOTATION)
        .ok_or(LayerVerificationError::MissingCertificate)?;
    let certificate = crate::trust::certificate::Certificate::from_pem(certificate.as_bytes())
        .map_err(|error| LayerVerificationError::Keyless {
            reason: error.to_string(),
        })?;
    let mut tlog_entries = Vec::new();
    if let Some(rekor) = layer.annotation(BUNDLE_ANNOTATION) {
        let rekor =
            RekorBundle::parse(rekor).map_err(|reason| LayerVerificationError::Keyless {
                reason: format!("{BUNDLE_ANNOTATION}: {reason}"),
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
        let parsed: Timestamp =
            serde_json::from_str(timestamp).map_err(|error| LayerVerificationError::Keyless {
                reason: format!("{RFC3161_TIMESTAMP_ANNOTATION}: {error}"),
            })?;
        let signed_timestamp = engine.decode(parsed.signed.as_bytes()).map_err(|error| {
            LayerVerificationError::Keyless {
                reason: format!("{RFC3161_TIMESTAMP_ANNOTATION}: {error}"),
            }
        })?;
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
    pub fn parse(annotation: &str) -> Result<Self, String> {
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
        let raw: Raw = serde_json::from_str(annotation).map_err(|error| error.to_string())?;
        let engine = base64::engine::general_purpose::STANDARD;
        let body = engine
            .decode(raw.payload.body.as_bytes())
            .map_err(|error| error.to_string())?;
        let kind: serde_json::Value =
            serde_json::from_slice(&body).map_err(|error| error.to_string())?;
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
                    .ok_or_else(|| "logID is not hex".to_owned())
            })
            .collect::<Result<Vec<u8>, String>>()?;
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
                    signed_entry_timestamp: engine
                        .decode(raw.set.as_bytes())
                        .map_err(|error| error.to_string())?,
                }),
                inclusion_proof: None,
                canonicalized_body: body,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::simple_signing::payload;
    use crate::keys::PrivateKey;

    #[test]
    fn config_matches_what_cosign_pushed() {
        // Captured from a registry after real cosign 2.5 signed once.
        let expected = r#"{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["sha256:51b341f6f4803cc5bc7f0c2c5f4cd8846055607ef02cbfb2591d5fa34e4d4345"]},"config":{}}"#;
        let layer = Descriptor {
            media_type: media_types::SIMPLE_SIGNING.to_owned(),
            size: 240,
            digest: "sha256:51b341f6f4803cc5bc7f0c2c5f4cd8846055607ef02cbfb2591d5fa34e4d4345"
                .parse()
                .expect("digest"),
            urls: None,
            annotations: None,
            platform: None,
            artifact_type: None,
        };
        assert_eq!(signature_config(&[layer]), expected.as_bytes());
        assert_eq!(
            Digest::sha256(expected.as_bytes()).to_string(),
            "sha256:1c122a7c2e587157569bd5c2a533c99c9e46177aad5a98ef13df3b2bc8f85bdd"
        );
    }

    fn signed(
        key: &PrivateKey,
        digest: &Digest,
        annotations: &BTreeMap<String, String>,
    ) -> (Vec<u8>, Descriptor) {
        let body = payload("reg/repo", digest, annotations);
        let signature = key.sign(&body).expect("signs");
        let layer = signature_layer(&body, &signature);
        (body, layer)
    }

    #[test]
    fn appends_without_duplicates_and_verifies() {
        let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
        let digest = Digest::sha256(b"image");
        let (body, layer) = signed(&key, &digest, &BTreeMap::new());
        let public = key.public_key();
        let first = append_signature(None, layer.clone(), ManifestFlavor::Oci, |_| false)
            .expect("appends")
            .expect("new");
        assert_eq!(first.manifest.layers.len(), 1);
        assert_eq!(
            first.manifest.media_type.as_deref(),
            Some(media_types::OCI_MANIFEST)
        );
        let again = append_signature(
            Some(&first.manifest),
            layer.clone(),
            ManifestFlavor::Oci,
            |candidate| is_same_signature(candidate, &layer, &body, &public),
        )
        .expect("appends");
        assert!(again.is_none(), "the same signature is not appended twice");

        let check = LayerCheck {
            key: &public,
            image_digest: &digest,
            annotations: None,
            check_claims: true,
        };
        verify_layer(&first.manifest.layers[0], &body, check).expect("verifies");
        // Another image's digest in the claim.
        let other = Digest::sha256(b"other image");
        let error = verify_layer(
            &layer,
            &body,
            LayerCheck {
                image_digest: &other,
                ..check
            },
        )
        .expect_err("mismatch");
        assert!(error
            .to_string()
            .starts_with("invalid or missing digest in claim: sha256:"));
        // Without claim checks, cosign accepts it (and so do we).
        verify_layer(
            &layer,
            &body,
            LayerCheck {
                image_digest: &other,
                check_claims: false,
                ..check
            },
        )
        .expect("unchecked");
        // Wrong key.
        let stranger = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng).public_key();
        let error = verify_layer(
            &layer,
            &body,
            LayerCheck {
                key: &stranger,
                ..check
            },
        )
        .expect_err("wrong key");
        assert_eq!(
            error.to_string(),
            "invalid signature when validating ASN.1 encoded signature"
        );
        // Annotations.
        let wanted: BTreeMap<String, String> = [("env".to_owned(), "prod".to_owned())]
            .into_iter()
            .collect();
        let error = verify_layer(
            &layer,
            &body,
            LayerCheck {
                annotations: Some(&wanted),
                ..check
            },
        )
        .expect_err("missing");
        assert_eq!(error.to_string(), "missing or incorrect annotation");
        // A payload swapped under the layer.
        let tampered = body
            .iter()
            .map(|b| if *b == b'r' { b'R' } else { *b })
            .collect::<Vec<_>>();
        assert!(matches!(
            verify_layer(&layer, &tampered, check),
            Err(LayerVerificationError::PayloadDigestMismatch { .. })
        ));
    }

    #[test]
    fn refuses_to_grow_past_the_layer_limit() {
        let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
        let (_, layer) = signed(&key, &Digest::sha256(b"i"), &BTreeMap::new());
        let mut image = append_signature(None, layer.clone(), ManifestFlavor::Docker, |_| false)
            .expect("ok")
            .expect("new");
        assert_eq!(
            image.manifest.media_type.as_deref(),
            Some(media_types::DOCKER_MANIFEST)
        );
        image.manifest.layers = vec![layer.clone(); LAYER_COUNT_LIMIT];
        assert!(matches!(
            append_signature(Some(&image.manifest), layer, ManifestFlavor::Oci, |_| false),
            Err(AppendError::Full)
        ));
    }
}
