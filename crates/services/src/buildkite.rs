//! Buildkite's agent API for a job's OIDC token (`buildkite-agent oidc request-token`):
//! `POST <endpoint>/jobs/<job>/oidc/tokens` with the agent's access token, for an audience.

use crate::http::{post_with, Credential, HttpError, Service};

/// Where the agent API is when `BUILDKITE_AGENT_ENDPOINT` does not say.
pub const DEFAULT_ENDPOINT: &str = "https://agent.buildkite.com/v3";

/// The most of the answer read (`{"token":"<JWT>"}`).
pub const RESPONSE_SIZE_LIMIT: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildkiteTokenError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("BUILDKITE_AGENT_ENDPOINT {endpoint:?}: {reason}")]
    BadEndpoint { endpoint: String, reason: String },
    #[error("Buildkite's agent API answered without a token: {reason}")]
    Malformed { reason: String },
}

/// The job's token for `audience`.
pub async fn identity_token(
    client: &reqwest::Client,
    endpoint: &str,
    agent_token: &str,
    job: &str,
    audience: &str,
) -> Result<String, BuildkiteTokenError> {
    let bad = |reason: String| BuildkiteTokenError::BadEndpoint {
        endpoint: endpoint.to_owned(),
        reason,
    };
    let mut url = url::Url::parse(endpoint).map_err(|error| bad(error.to_string()))?;
    url.path_segments_mut()
        .map_err(|()| bad("not a base URL".to_owned()))?
        .pop_if_empty()
        .extend(["jobs", job, "oidc", "tokens"]);
    let body = serde_json::json!({ "audience": audience }).to_string();
    let (_, answer) = post_with(
        client,
        Service("Buildkite's agent API"),
        &url,
        ("application/json", body.as_bytes()),
        Some(Credential::Token(agent_token)),
        200,
        RESPONSE_SIZE_LIMIT,
    )
    .await?;
    let value: serde_json::Value =
        serde_json::from_slice(&answer).map_err(|error| BuildkiteTokenError::Malformed {
            reason: error.to_string(),
        })?;
    value
        .get("token")
        .and_then(serde_json::Value::as_str)
        .filter(|token| !token.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| BuildkiteTokenError::Malformed {
            reason: "no `token`".to_owned(),
        })
}
