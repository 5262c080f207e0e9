//! cosign's bundle file for blobs before Sigstore bundles (`sign-blob --bundle` with
//! `--new-bundle-format=false`, cosign's `LocalSignedPayload`):
//!
//! `{"base64Signature":"...","cert":"<base64 of a PEM certificate or public key>","rekorBundle":{"SignedEntryTimestamp":"...","Payload":{...}}}`
//!
//! read as the v0.1 Sigstore bundle it amounts to: a message signature without a recorded
//! digest, the certificate when `cert` holds one (a public key there is ignored: the key to
//! trust comes from the command line, never from the file), and the Rekor entry with its
//! signed entry timestamp.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::bundle::{self, Bundle};
use crate::image::legacy_signature::RekorBundle;

/// The largest legacy bundle file read.
pub const LEGACY_BUNDLE_SIZE_LIMIT: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LegacyBundleError {
    #[error("legacy bundle larger than {LEGACY_BUNDLE_SIZE_LIMIT} bytes")]
    TooLarge,
    #[error("parsing legacy bundle: {0}")]
    Parse(String),
}

#[derive(Debug, Serialize, Deserialize)]
struct LocalSignedPayload {
    #[serde(rename = "base64Signature")]
    base64_signature: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cert: Option<String>,
    #[serde(
        rename = "rekorBundle",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    rekor_bundle: Option<serde_json::Value>,
}

/// Whether `bytes` look like a legacy bundle rather than a Sigstore bundle (no `mediaType`, a
/// `base64Signature`).
pub fn is_legacy_bundle(bytes: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<serde::de::IgnoredAny>,
        #[serde(rename = "base64Signature")]
        signature: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(bytes)
        .is_ok_and(|probe| probe.media_type.is_none() && probe.signature.is_some())
}

/// Reads a legacy bundle file as a v0.1 bundle.
pub fn parse(bytes: &[u8]) -> Result<Bundle, LegacyBundleError> {
    if bytes.len() > LEGACY_BUNDLE_SIZE_LIMIT {
        return Err(LegacyBundleError::TooLarge);
    }
    let parse_error = |what: &str, error: &dyn std::fmt::Display| {
        LegacyBundleError::Parse(format!("{what}: {error}"))
    };
    let raw: LocalSignedPayload =
        serde_json::from_slice(bytes).map_err(|error| parse_error("json", &error))?;
    let engine = base64::engine::general_purpose::STANDARD;
    let signature = engine
        .decode(raw.base64_signature.trim())
        .map_err(|error| parse_error("base64Signature", &error))?;
    let certificate = match raw.cert.as_deref().filter(|cert| !cert.is_empty()) {
        Some(cert) => {
            let pem = engine
                .decode(cert.trim())
                .map_err(|error| parse_error("cert", &error))?;
            // A certificate counts; a public key (what cosign writes when signing with a key)
            // is ignored.
            crate::trust::certificate::Certificate::from_pem(&pem)
                .ok()
                .map(|certificate| bundle::Certificate {
                    raw_bytes: certificate.der().to_vec(),
                })
        }
        None => None,
    };
    let tlog_entries = match &raw.rekor_bundle {
        Some(rekor) => vec![
            RekorBundle::parse(&rekor.to_string())
                .map_err(|error| parse_error("rekorBundle", &error))?
                .entry,
        ],
        None => Vec::new(),
    };
    Ok(Bundle {
        media_type: bundle::MEDIA_TYPE_V0_1.to_owned(),
        verification_material: bundle::VerificationMaterial {
            public_key: None,
            certificate: None,
            x509_certificate_chain: certificate.map(|certificate| bundle::CertificateChain {
                certificates: vec![certificate],
            }),
            tlog_entries,
            timestamp_verification_data: None,
        },
        message_signature: Some(bundle::MessageSignature {
            message_digest: None,
            signature,
        }),
        dsse_envelope: None,
    })
}

/// The legacy bundle cosign writes for a blob signed with a key: the signature, and the public
/// key's PEM in `cert`.
pub fn write_for_key(signature: &[u8], public_key_pem: &[u8]) -> Vec<u8> {
    let engine = base64::engine::general_purpose::STANDARD;
    let payload = LocalSignedPayload {
        base64_signature: engine.encode(signature),
        cert: Some(engine.encode(public_key_pem)),
        rekor_bundle: None,
    };
    serde_json::to_vec(&payload).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_cosign_writes_and_ignores_an_embedded_key() {
        let written = write_for_key(
            b"sig",
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        );
        assert!(is_legacy_bundle(&written));
        let bundle = parse(&written).expect("parses");
        let signature = bundle.message_signature.expect("signature");
        assert_eq!(signature.signature, b"sig");
        assert!(signature.message_digest.is_none());
        assert!(bundle
            .verification_material
            .x509_certificate_chain
            .is_none());
        assert!(bundle.verification_material.tlog_entries.is_empty());
        assert!(!is_legacy_bundle(
            br#"{"mediaType":"x","base64Signature":"a"}"#
        ));
        assert!(parse(br#"{"base64Signature":"!!"}"#).is_err());
        assert!(parse(&vec![b' '; LEGACY_BUNDLE_SIZE_LIMIT + 1]).is_err());
    }
}
