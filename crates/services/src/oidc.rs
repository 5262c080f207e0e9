//! An OIDC provider's endpoints for the interactive flows: discovery
//! (`{issuer}/.well-known/openid-configuration`), the authorization URL of the browser flow
//! (authorization code with PKCE), the code exchange, and the device flow (RFC 8628: the
//! device authorization request, then the token endpoint polled at the interval the provider
//! asks). Every answer is read with a cap; the ID token is returned raw, for the caller to
//! parse and check.

use std::time::Duration;

use crate::http::{post_form, HttpError, Service};

/// The most of any answer read (a discovery document is a few KiB; a token response too).
pub const RESPONSE_SIZE_LIMIT: usize = 256 * 1024;

/// The longest a device flow waits for the user, whatever the provider says.
pub const DEVICE_FLOW_LIMIT: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("the OIDC provider at {url}: {reason}")]
    Provider { url: String, reason: String },
    #[error("the OIDC provider refused: {error}{description}")]
    Refused { error: String, description: String },
    #[error("the device code expired before the login was completed: log in again")]
    Expired,
}

/// The endpoints of a provider, from its discovery document.
#[derive(Debug, Clone)]
pub struct Provider {
    pub issuer: url::Url,
    pub authorization_endpoint: Option<url::Url>,
    pub token_endpoint: url::Url,
    pub device_authorization_endpoint: Option<url::Url>,
}

/// The client the flows run as (`--oidc-client-id`, `--oidc-client-secret-file`).
#[derive(Clone)]
pub struct Client {
    pub id: String,
    pub secret: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Client {
    fn credentials(&self) -> Vec<(&str, &str)> {
        let mut pairs = vec![("client_id", self.id.as_str())];
        if let Some(secret) = &self.secret {
            pairs.push(("client_secret", secret.as_str()));
        }
        pairs
    }
}

fn provider_error(url: &url::Url, reason: impl Into<String>) -> OidcError {
    OidcError::Provider {
        url: url.to_string(),
        reason: reason.into(),
    }
}

/// Reads the provider's discovery document.
pub async fn discover(http: &reqwest::Client, issuer: &url::Url) -> Result<Provider, OidcError> {
    let url = crate::http::endpoint(issuer, ".well-known/openid-configuration")
        .map_err(|error| provider_error(issuer, error.to_string()))?;
    let answer = crate::http::get(
        http,
        Service("the OIDC provider"),
        &url,
        None,
        RESPONSE_SIZE_LIMIT,
    )
    .await?;
    let document: serde_json::Value = serde_json::from_slice(&answer)
        .map_err(|error| provider_error(&url, format!("discovery document: {error}")))?;
    let endpoint = |name: &str| -> Result<Option<url::Url>, OidcError> {
        match document.get(name).and_then(serde_json::Value::as_str) {
            None => Ok(None),
            Some(text) => url::Url::parse(text)
                .map(Some)
                .map_err(|error| provider_error(&url, format!("{name} {text:?}: {error}"))),
        }
    };
    Ok(Provider {
        issuer: issuer.clone(),
        authorization_endpoint: endpoint("authorization_endpoint")?,
        token_endpoint: endpoint("token_endpoint")?
            .ok_or_else(|| provider_error(&url, "no token_endpoint"))?,
        device_authorization_endpoint: endpoint("device_authorization_endpoint")?,
    })
}

/// The URL the browser is sent to: an authorization request for an ID token (`openid
/// email`), with PKCE (S256), `state` and `nonce`.
pub fn authorization_url(
    provider: &Provider,
    client: &Client,
    redirect_uri: &str,
    state: &str,
    nonce: &str,
    challenge: &str,
) -> Result<url::Url, OidcError> {
    let mut url = provider
        .authorization_endpoint
        .clone()
        .ok_or_else(|| provider_error(&provider.issuer, "no authorization_endpoint"))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "openid email")
        .append_pair("state", state)
        .append_pair("nonce", nonce)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    Ok(url)
}

/// The ID token of a token response, or the provider's refusal.
fn id_token(status: u16, answer: &[u8], url: &url::Url) -> Result<String, OidcError> {
    let value: serde_json::Value = serde_json::from_slice(answer)
        .map_err(|error| provider_error(url, format!("token response ({status}): {error}")))?;
    let text = |name: &str| value.get(name).and_then(serde_json::Value::as_str);
    if status == 200 {
        return text("id_token")
            .map(str::to_owned)
            .ok_or_else(|| provider_error(url, "the token response has no id_token"));
    }
    Err(OidcError::Refused {
        error: text("error").unwrap_or("an error").to_owned(),
        description: text("error_description")
            .map(|description| format!(" ({description})"))
            .unwrap_or_default(),
    })
}

/// Exchanges the authorization code the browser brought back for the ID token.
pub async fn exchange_code(
    http: &reqwest::Client,
    provider: &Provider,
    client: &Client,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<String, OidcError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ];
    form.extend(client.credentials());
    let url = &provider.token_endpoint;
    let (status, answer) = post_form(
        http,
        Service("the OIDC provider"),
        url,
        &form,
        RESPONSE_SIZE_LIMIT,
    )
    .await?;
    id_token(status, &answer, url)
}

/// A device authorization: what the user is shown, and what the client polls with.
#[derive(Debug, Clone)]
pub struct DeviceCode {
    device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub interval: Duration,
    pub expires_in: Duration,
}

/// Starts a device flow.
pub async fn start_device_flow(
    http: &reqwest::Client,
    provider: &Provider,
    client: &Client,
) -> Result<DeviceCode, OidcError> {
    let url = provider
        .device_authorization_endpoint
        .as_ref()
        .ok_or_else(|| {
            provider_error(
                &provider.issuer,
                "no device_authorization_endpoint: the provider has no device flow",
            )
        })?;
    let mut form = vec![("scope", "openid email")];
    form.extend(client.credentials());
    let (status, answer) = post_form(
        http,
        Service("the OIDC provider"),
        url,
        &form,
        RESPONSE_SIZE_LIMIT,
    )
    .await?;
    let value: serde_json::Value = serde_json::from_slice(&answer).map_err(|error| {
        provider_error(url, format!("device authorization ({status}): {error}"))
    })?;
    let text = |name: &str| {
        value
            .get(name)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    if status != 200 {
        return Err(OidcError::Refused {
            error: text("error").unwrap_or_else(|| format!("status {status}")),
            description: String::new(),
        });
    }
    let seconds = |name: &str, default: u64| {
        Duration::from_secs(
            value
                .get(name)
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(default),
        )
    };
    Ok(DeviceCode {
        device_code: text("device_code").ok_or_else(|| provider_error(url, "no device_code"))?,
        user_code: text("user_code").ok_or_else(|| provider_error(url, "no user_code"))?,
        verification_uri: text("verification_uri")
            .or_else(|| text("verification_url"))
            .ok_or_else(|| provider_error(url, "no verification_uri"))?,
        verification_uri_complete: text("verification_uri_complete"),
        interval: seconds("interval", 5).clamp(Duration::from_secs(1), Duration::from_secs(60)),
        expires_in: seconds("expires_in", 300).min(DEVICE_FLOW_LIMIT),
    })
}

/// Polls the token endpoint until the user completes the login (or refuses, or the code
/// expires), at the provider's interval, slower when it says so (RFC 8628, 3.5).
pub async fn finish_device_flow(
    http: &reqwest::Client,
    provider: &Provider,
    client: &Client,
    device: &DeviceCode,
) -> Result<String, OidcError> {
    let deadline = tokio::time::Instant::now() + device.expires_in;
    let mut interval = device.interval;
    let url = &provider.token_endpoint;
    loop {
        tokio::time::sleep(interval).await;
        if tokio::time::Instant::now() > deadline {
            return Err(OidcError::Expired);
        }
        let mut form = vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device.device_code.as_str()),
        ];
        form.extend(client.credentials());
        let (status, answer) = post_form(
            http,
            Service("the OIDC provider"),
            url,
            &form,
            RESPONSE_SIZE_LIMIT,
        )
        .await?;
        match id_token(status, &answer, url) {
            Ok(token) => return Ok(token),
            Err(OidcError::Refused { error, .. }) if error == "authorization_pending" => {}
            Err(OidcError::Refused { error, .. }) if error == "slow_down" => {
                interval += Duration::from_secs(5);
            }
            Err(OidcError::Refused { error, .. }) if error == "expired_token" => {
                return Err(OidcError::Expired)
            }
            Err(other) => return Err(other),
        }
    }
}
