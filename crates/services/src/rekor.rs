//! Rekor v1 (`hashedrekord`/`dsse` v0.0.1) and v2 (rekor-tiles, `hashedrekord` v0.0.2): the
//! entry for a bundle's signature, added with `POST {log}/api/v{1,2}/log/entries`, and the
//! entry that comes back checked as a verifier will check it in the bundle (its body names this
//! digest, signature and signer; its SET verifies and its inclusion proof reaches the root of a
//! checkpoint signed by a log of the trusted root, whose key was valid at the signing time)
//! before it is returned.

use cosign_core::bundle::{Bundle, TransparencyLogEntry};
use cosign_core::keyless::rekor_request;
use cosign_core::trust::transparency_log::{self, Signer, TlogError};
use cosign_core::{Digest, PublicKey, TrustedRoot};

use crate::http::{post_with, HttpError, Service};

/// The most of Rekor's answer read (an entry with a proof and a checkpoint is a few KiB).
pub const RESPONSE_SIZE_LIMIT: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RekorError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("building the Rekor request: {0}")]
    Request(#[from] rekor_request::RequestError),
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
/// (Rekor v2 entries carry no time of their own), and now (seconds since 1970; the clock is
/// read again when the answer arrives, and the later of the two is used).
#[derive(Debug, Clone, Copy)]
pub struct Checks<'a> {
    pub root: &'a TrustedRoot,
    pub observed: &'a [i64],
    pub now: i64,
}

/// Which API the log speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogVersion {
    /// Rekor v1: `POST api/v1/log/entries`, entries with an integrated time and a SET.
    V1,
    /// Rekor v2 (rekor-tiles): `POST api/v2/log/entries`, entries proven by inclusion only.
    V2,
}

/// A transparency log to write to.
#[derive(Debug, Clone)]
pub struct Log {
    /// Its base URL.
    pub url: url::Url,
    pub version: LogVersion,
}

/// Adds the entry for `signature` by `key` over `artifact` to the Rekor v2 log at `log` (its
/// base URL) and returns it, verified.
pub async fn add_hashed_rekord(
    client: &reqwest::Client,
    log: &url::Url,
    artifact: &Digest,
    signature: &[u8],
    key: &PublicKey,
    checks: Checks<'_>,
) -> Result<TransparencyLogEntry, RekorError> {
    let bundle = message_bundle(artifact, signature);
    let log = Log {
        url: log.clone(),
        version: LogVersion::V2,
    };
    add_entry(client, &log, &bundle, artifact, Signer::Key(key), checks).await
}

/// A bundle holding only a message signature over `artifact`: what a legacy image signature
/// (over its payload's digest) or a blob signature is logged and checked as.
pub fn message_bundle(artifact: &Digest, signature: &[u8]) -> Bundle {
    Bundle {
        media_type: cosign_core::bundle::MEDIA_TYPE_V0_3.to_owned(),
        verification_material: cosign_core::bundle::VerificationMaterial::default(),
        message_signature: Some(cosign_core::bundle::MessageSignature {
            message_digest: Some(cosign_core::bundle::HashOutput {
                algorithm: "SHA2_256".to_owned(),
                digest: artifact.bytes(),
            }),
            signature: signature.to_vec(),
        }),
        dsse_envelope: None,
    }
}

/// Logs the signature `bundle` carries (a message signature over the blob whose SHA-256 is
/// `artifact`, or a DSSE envelope), signed by `signer`, in `log`, and returns the entry once
/// it verifies as a verifier will verify it in this bundle.
pub async fn add_entry(
    client: &reqwest::Client,
    log: &Log,
    bundle: &Bundle,
    artifact: &Digest,
    signer: Signer<'_>,
    checks: Checks<'_>,
) -> Result<TransparencyLogEntry, RekorError> {
    let path = match log.version {
        LogVersion::V1 => "api/v1/log/entries",
        LogVersion::V2 => "api/v2/log/entries",
    };
    let url = crate::http::endpoint(&log.url, path).map_err(|error| RekorError::BadUrl {
        url: log.url.to_string(),
        reason: error.to_string(),
    })?;
    let body = match log.version {
        LogVersion::V1 => rekor_request::request_v1(bundle, artifact, signer)?,
        LogVersion::V2 => rekor_request::request_v2(bundle, artifact, signer)?,
    };
    let (headers, answer) = post_with(
        client,
        Service("Rekor"),
        &url,
        ("application/json", &body),
        None,
        201,
        RESPONSE_SIZE_LIMIT,
    )
    .await?;
    let malformed = |reason: String| RekorError::Malformed {
        url: url.to_string(),
        reason,
    };
    let entry = match log.version {
        LogVersion::V1 => {
            let uuid = headers
                .get(reqwest::header::ETAG)
                .and_then(|value| value.to_str().ok())
                .map(|value| value.trim_matches('"'));
            rekor_request::parse_v1_response(&answer, uuid)
                .map_err(|error| malformed(error.to_string()))?
        }
        LogVersion::V2 => {
            let value: serde_json::Value =
                serde_json::from_slice(&answer).map_err(|error| malformed(error.to_string()))?;
            serde_json::from_value(value).map_err(|error| malformed(error.to_string()))?
        }
    };
    // The entry in the bundle it is made for, checked as a verifier will, now (the log may
    // have integrated it after `checks.now` was read: retries take time).
    let now = crate::http::now().max(checks.now);
    let mut logged = bundle.clone();
    logged.verification_material.tlog_entries = vec![entry.clone()];
    transparency_log::verify_entries_observed(
        &logged,
        checks.root,
        artifact,
        signer,
        now,
        1,
        checks.observed,
    )
    .map_err(|source| RekorError::Invalid {
        url: url.to_string(),
        source,
    })?;
    Ok(entry)
}
