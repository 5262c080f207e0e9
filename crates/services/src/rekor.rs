//! Rekor v2 (rekor-tiles): a `hashedrekord` v0.0.2 entry for a signature over an artifact,
//! added with `POST {log}/api/v2/log/entries`, and the entry that comes back checked as a
//! verifier will check it in the bundle (its body names this digest, signature and key; its
//! inclusion proof reaches the root of a checkpoint signed by a log of the trusted root, whose
//! key was valid at a timestamp's time) before it is returned.

use base64::Engine as _;
use cosign_core::bundle::{Bundle, TransparencyLogEntry};
use cosign_core::keyless::rekor_request::{self, Verifier};
use cosign_core::trust::transparency_log::{self, Signer, TlogError};
use cosign_core::{Digest, PublicKey, TrustedRoot};

use crate::http::{post, HttpError, Service};

/// The most of Rekor's answer read (an entry with a proof and a checkpoint is a few KiB).
pub const RESPONSE_SIZE_LIMIT: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RekorError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("building the Rekor request: {0}")]
    Request(#[from] cosign_core::keys::KeyError),
    #[error("the log at {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("Rekor at {url} answered with something that is not a log entry: {reason}")]
    Malformed { url: String, reason: String },
    #[error("Rekor at {url} answered with an entry that does not verify: {source}")]
    Invalid {
        url: String,
        #[source]
        source: TlogError,
    },
}

/// What the entry is checked against: the trusted root, the times RFC 3161 timestamps gave
/// (Rekor v2 entries carry no time of their own), and now (seconds since 1970).
#[derive(Debug, Clone, Copy)]
pub struct Checks<'a> {
    pub root: &'a TrustedRoot,
    pub observed: &'a [i64],
    pub now: i64,
}

/// Adds the entry for `signature` by `key` over `artifact` to the log at `log` (its base URL)
/// and returns it, verified.
pub async fn add_hashed_rekord(
    client: &reqwest::Client,
    log: &url::Url,
    artifact: &Digest,
    signature: &[u8],
    key: &PublicKey,
    checks: Checks<'_>,
) -> Result<TransparencyLogEntry, RekorError> {
    let url = log
        .join("api/v2/log/entries")
        .map_err(|error| RekorError::BadUrl {
            url: log.to_string(),
            reason: error.to_string(),
        })?;
    let body = rekor_request::hashed_rekord_v002(artifact, signature, Verifier::Key(key))?;
    let answer = post(
        client,
        Service("Rekor"),
        &url,
        ("application/json", &body),
        201,
        RESPONSE_SIZE_LIMIT,
    )
    .await?;
    let malformed = |reason: String| RekorError::Malformed {
        url: url.to_string(),
        reason,
    };
    let entry: serde_json::Value =
        serde_json::from_slice(&answer).map_err(|error| malformed(error.to_string()))?;
    // The entry in the message-signature bundle it is made for, checked as a verifier will.
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": { "publicKey": { "hint": "" }, "tlogEntries": [entry] },
        "messageSignature": {
            "messageDigest": { "algorithm": "SHA2_256", "digest": b64(&artifact.bytes()) },
            "signature": b64(signature),
        },
    });
    let bundle = Bundle::parse(bundle.to_string().as_bytes())
        .map_err(|error| malformed(error.to_string()))?;
    transparency_log::verify_entries_observed(
        &bundle,
        checks.root,
        artifact,
        Signer::Key(key),
        checks.now,
        1,
        checks.observed,
    )
    .map_err(|source| RekorError::Invalid {
        url: url.to_string(),
        source,
    })?;
    bundle
        .verification_material
        .tlog_entries
        .into_iter()
        .next()
        .ok_or_else(|| malformed("no entry".to_owned()))
}
