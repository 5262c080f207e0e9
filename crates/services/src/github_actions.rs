//! GitHub Actions' OIDC token endpoint (the runner's `ACTIONS_ID_TOKEN_REQUEST_URL`, with its
//! bearer `ACTIONS_ID_TOKEN_REQUEST_TOKEN`): a token for the workflow, for an audience.

use crate::http::{get, HttpError, Service};

/// The most of the answer read (`{"count":N,"value":"<JWT>"}`; a JWT is a few KiB).
pub const RESPONSE_SIZE_LIMIT: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GithubTokenError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("ACTIONS_ID_TOKEN_REQUEST_URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("GitHub Actions' token endpoint answered without a token: {reason}")]
    Malformed { reason: String },
}

/// The workflow's token for `audience`.
pub async fn identity_token(
    client: &reqwest::Client,
    request_url: &str,
    bearer: &str,
    audience: &str,
) -> Result<String, GithubTokenError> {
    let mut url = url::Url::parse(request_url).map_err(|error| GithubTokenError::BadUrl {
        url: request_url.to_owned(),
        reason: error.to_string(),
    })?;
    url.query_pairs_mut().append_pair("audience", audience);
    let answer = get(
        client,
        Service("GitHub Actions' token endpoint"),
        &url,
        Some(bearer),
        RESPONSE_SIZE_LIMIT,
    )
    .await?;
    let value: serde_json::Value =
        serde_json::from_slice(&answer).map_err(|error| GithubTokenError::Malformed {
            reason: error.to_string(),
        })?;
    value
        .get("value")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| GithubTokenError::Malformed {
            reason: "no `value`".to_owned(),
        })
}
