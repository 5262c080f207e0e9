//! What every service client shares: an HTTP client, bounded retries of what a retry can fix
//! (a connection refused or reset, 5xx, 429), and answers read with a cap.

use std::time::Duration;

/// The attempts made for one request (the first and two retries).
pub const ATTEMPTS: usize = 3;

/// A client for Sigstore's services (rustls with ring, the system's roots; a timeout per
/// request so a stalled service cannot hold a signing run forever).
pub fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    // reqwest is built without a default TLS provider: ring, as everywhere in cosign-rs.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .build()
}

/// Why a request to a service did not give an answer to check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    #[error("{service} at {url} cannot be reached: {reason}")]
    Unreachable {
        service: &'static str,
        url: String,
        reason: String,
    },
    #[error("{service} at {url} answered {status}: {body}")]
    Status {
        service: &'static str,
        url: String,
        status: u16,
        body: String,
    },
    #[error("{service} at {url} answered more than {limit} bytes")]
    TooLarge {
        service: &'static str,
        url: String,
        limit: usize,
    },
}

/// `path` under the service at `base`, whether or not `base` ends with a slash.
pub fn endpoint(base: &url::Url, path: &str) -> Result<url::Url, url::ParseError> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.join(path.trim_start_matches('/'))
}

/// The service's name, for messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Service(pub &'static str);

/// POSTs `body` and returns the answer's bytes when its status is `success` exactly (as
/// sigstore-go wants: 200 from Fulcio and a TSA, 201 from Rekor), at most `limit` of them;
/// retries what a retry can fix.
pub(crate) async fn post(
    client: &reqwest::Client,
    service: Service,
    url: &url::Url,
    (content_type, body): (&str, &[u8]),
    success: u16,
    limit: usize,
) -> Result<Vec<u8>, HttpError> {
    post_with(
        client,
        service,
        url,
        (content_type, body),
        None,
        success,
        limit,
    )
    .await
    .map(|(_, answer)| answer)
}

/// A credential sent as `Authorization` (never logged).
#[derive(Clone, Copy)]
pub(crate) enum Credential<'a> {
    /// `Bearer <token>`.
    Bearer(&'a str),
    /// `Token <token>` (Buildkite's agent API).
    Token(&'a str),
}

/// [`post`], with a credential, returning the answer's headers too.
pub(crate) async fn post_with(
    client: &reqwest::Client,
    service: Service,
    url: &url::Url,
    (content_type, body): (&str, &[u8]),
    credential: Option<Credential<'_>>,
    success: u16,
    limit: usize,
) -> Result<(reqwest::header::HeaderMap, Vec<u8>), HttpError> {
    let mut last = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
        }
        let mut request = client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body.to_vec());
        match credential {
            Some(Credential::Bearer(token)) => request = request.bearer_auth(token),
            Some(Credential::Token(token)) => {
                let mut value = reqwest::header::HeaderValue::from_str(&format!("Token {token}"))
                    .map_err(|_| HttpError::Unreachable {
                    service: service.0,
                    url: url.to_string(),
                    reason: "the credential is not a valid header value".to_owned(),
                })?;
                value.set_sensitive(true);
                request = request.header(reqwest::header::AUTHORIZATION, value);
            }
            None => {}
        }
        let sent = request.send().await;
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => {
                last = Some(unreachable(service, url, error));
                continue;
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let answer = read_capped(&mut response, service, url, limit).await?;
        if status == success {
            return Ok((headers, answer));
        }
        let error = status_error(service, url, status, &answer);
        if status != 429 && status < 500 {
            return Err(error);
        }
        last = Some(error);
    }
    Err(last.unwrap_or_else(|| unreachable(service, url, "no attempt made")))
}

/// Seconds since 1970, read when an answer arrives (a certificate or an entry made after the
/// caller last read the clock must not look like it comes from the future).
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// GETs `url` (with an `Authorization: Bearer` token, never logged, when given) and returns
/// the answer's bytes when its status is 200, at most `limit` of them; no retries.
pub(crate) async fn get(
    client: &reqwest::Client,
    service: Service,
    url: &url::Url,
    bearer: Option<&str>,
    limit: usize,
) -> Result<Vec<u8>, HttpError> {
    let mut request = client.get(url.clone());
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let mut response = request
        .send()
        .await
        .map_err(|error| unreachable(service, url, error))?;
    let status = response.status().as_u16();
    let answer = read_capped(&mut response, service, url, limit).await?;
    if status != 200 {
        return Err(status_error(service, url, status, &answer));
    }
    Ok(answer)
}

/// POSTs a form (`application/x-www-form-urlencoded`) and returns the status and at most
/// `limit` bytes of the answer, whatever the status (OAuth endpoints say why in a 400's body).
pub(crate) async fn post_form(
    client: &reqwest::Client,
    service: Service,
    url: &url::Url,
    form: &[(&str, &str)],
    limit: usize,
) -> Result<(u16, Vec<u8>), HttpError> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut response = client
        .post(url.clone())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
        .send()
        .await
        .map_err(|error| unreachable(service, url, error))?;
    let status = response.status().as_u16();
    let answer = read_capped(&mut response, service, url, limit).await?;
    Ok((status, answer))
}

/// A service that did not answer (refused, reset, timed out).
fn unreachable(service: Service, url: &url::Url, reason: impl std::fmt::Display) -> HttpError {
    HttpError::Unreachable {
        service: service.0,
        url: url.to_string(),
        reason: reason.to_string(),
    }
}

/// An unwanted status, with the start of what came with it.
fn status_error(service: Service, url: &url::Url, status: u16, answer: &[u8]) -> HttpError {
    HttpError::Status {
        service: service.0,
        url: url.to_string(),
        status,
        body: String::from_utf8_lossy(answer.get(..answer.len().min(300)).unwrap_or_default())
            .trim()
            .to_owned(),
    }
}

async fn read_capped(
    response: &mut reqwest::Response,
    service: Service,
    url: &url::Url,
    limit: usize,
) -> Result<Vec<u8>, HttpError> {
    let mut answer = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if answer.len() + chunk.len() > limit {
                    return Err(HttpError::TooLarge {
                        service: service.0,
                        url: url.to_string(),
                        limit,
                    });
                }
                answer.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(answer),
            Err(error) => {
                return Err(unreachable(
                    service,
                    url,
                    format!("reading the answer: {error}"),
                ))
            }
        }
    }
}
