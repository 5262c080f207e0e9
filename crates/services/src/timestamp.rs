//! RFC 3161 timestamp authorities: a timestamp over a signature, verified against the trusted
//! root's timestamp authorities before it is returned (sigstore-go: `pkg/sign/timestamping.go`
//! asks; cosign-rs also checks, so a TSA answering for another imprint, or one not in the
//! root, fails the signing instead of producing a bundle that will not verify).

use cosign_core::keyless::timestamp_request::{self, REQUEST_MEDIA_TYPE};
use cosign_core::trust::timestamp::{self, TimestampError, TIMESTAMP_SIZE_LIMIT};
use cosign_core::{TrustedRoot, UnixTime};

use crate::http::{post, HttpError, Service};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampServiceError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("building the timestamp request: {0}")]
    Request(#[from] timestamp_request::RequestError),
    #[error(
        "the timestamp authority at {url} answered with a timestamp that does not verify: {source}"
    )]
    Invalid {
        url: String,
        #[source]
        source: TimestampError,
    },
}

/// A verified timestamp: the DER response, as it goes in a bundle, and its time.
#[derive(Debug, Clone)]
pub struct Timestamp {
    pub response: Vec<u8>,
    pub time: UnixTime,
}

/// Asks the TSA at `url` (the full endpoint, e.g. `.../api/v1/timestamp`, POSTed as given)
/// for a timestamp over `signature`, and verifies it against `root`.
pub async fn timestamp_signature(
    client: &reqwest::Client,
    url: &url::Url,
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<Timestamp, TimestampServiceError> {
    let request = timestamp_request::request_for(signature)?;
    let response = post(
        client,
        Service("the timestamp authority"),
        url,
        (REQUEST_MEDIA_TYPE, &request),
        200,
        TIMESTAMP_SIZE_LIMIT,
    )
    .await?;
    let time = timestamp::verify(&response, signature, root).map_err(|source| {
        TimestampServiceError::Invalid {
            url: url.to_string(),
            source,
        }
    })?;
    Ok(Timestamp {
        response,
        time: UnixTime::from_seconds(time),
    })
}
