//! The registry client: one per process, reusing connections and tokens per registry.
//!
//! - The scheme is decided once per registry by pinging `/v2/`: HTTPS, or, where allowed
//!   (`--allow-http-registry`, `--allow-insecure-registry`, and always for loopback, `localhost`,
//!   `*.local` and private addresses, as cosign does), HTTPS and HTTP raced, first answer wins.
//! - Authentication follows the ping's challenge: anonymous, Basic, or Bearer with one token per
//!   repository and access, fetched once and reused.
//! - 429 and 5xx answers and dropped connections are retried with backoff, honouring
//!   `Retry-After`, a bounded number of times.
//! - Every body is read with a size cap; content asked for by digest is hashed and checked.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use cosign_core::digest::{Digest, Sha256Hasher};
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, RETRY_AFTER,
    WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode};
use tokio::sync::Mutex;

use crate::auth::{parse_challenge, Challenge, CredentialSource, Credentials, TokenResponse};
use crate::error::{parse_error_body, RegistryError};

/// What requests may do, which decides the bearer token scope asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Pull,
    Push,
}

/// How the client talks to registries.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `--allow-insecure-registry`: accept any TLS certificate and allow plain HTTP.
    pub allow_insecure_registry: bool,
    /// `--allow-http-registry`: allow plain HTTP.
    pub allow_http_registry: bool,
    pub user_agent: String,
    /// Attempts for a request that meets 429, 5xx or a dropped connection.
    pub max_attempts: u32,
    /// The longest wait between attempts, whatever `Retry-After` says.
    pub max_retry_delay: Duration,
    /// Logs each request on stderr (`-d`).
    pub verbose: bool,
    /// Extra trust and a client certificate for TLS.
    pub tls: TlsOptions,
}

/// cosign's `--registry-cacert`, `--registry-client-cert`/`--registry-client-key` and
/// `--registry-server-name`, as file contents already read.
#[derive(Clone, Default)]
pub struct TlsOptions {
    /// PEM CA certificates trusted besides the system's.
    pub ca_certificates_pem: Option<Vec<u8>>,
    /// A PEM certificate chain followed by its PEM private key, for mutual TLS.
    pub client_identity_pem: Option<Vec<u8>>,
    /// The name the registry's certificate must carry (and the SNI sent), instead of the
    /// registry's host.
    pub server_name: Option<String>,
}

impl std::fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsOptions")
            .field("ca_certificates", &self.ca_certificates_pem.is_some())
            .field(
                "client_identity",
                &self.client_identity_pem.as_ref().map(|_| "<redacted>"),
            )
            .field("server_name", &self.server_name)
            .finish()
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            allow_insecure_registry: false,
            allow_http_registry: false,
            user_agent: format!("cosign-rs/{}", env!("CARGO_PKG_VERSION")),
            max_attempts: 4,
            max_retry_delay: Duration::from_secs(10),
            verbose: false,
            tls: TlsOptions::default(),
        }
    }
}

/// What we learned about a registry from its ping.
#[derive(Debug)]
struct Endpoint {
    base: String,
    challenge: Option<Challenge>,
    /// Bearer tokens by scope.
    tokens: Mutex<HashMap<String, String>>,
}

/// A response whose body has been read (within a cap).
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Fetched {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

#[derive(Debug)]
pub struct RegistryClient {
    http: reqwest::Client,
    options: ClientOptions,
    credentials: Box<dyn CredentialSource>,
    endpoints: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Arc<Endpoint>>>>>,
    requests: std::sync::atomic::AtomicUsize,
    /// Blobs this client pushed, by registry and digest: a repository holding each (another
    /// repository of the same registry mounts it from there instead of uploading it again).
    pushed_blobs: std::sync::Mutex<HashMap<(String, Digest), String>>,
    /// Registries whose referrers API answered a push's subject with 400/404/405: they have
    /// none, and the rest of the run goes straight to the fallback tag.
    without_referrers_api: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// A body to send: bytes (cheap to clone for retries) and their content type.
#[derive(Debug, Clone)]
pub struct Body {
    pub bytes: bytes::Bytes,
    pub content_type: String,
}

fn install_crypto_provider() {
    // Installing twice is harmless (the second returns an error we ignore).
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl RegistryClient {
    pub fn new(
        options: ClientOptions,
        credentials: Box<dyn CredentialSource>,
    ) -> Result<Self, RegistryError> {
        install_crypto_provider();
        let setup = |reason: String| RegistryError::Transport {
            method: "INIT".to_owned(),
            url: String::new(),
            reason,
        };
        let mut builder = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(16)
            .redirect(reqwest::redirect::Policy::limited(5));
        builder = if options.tls.server_name.is_some() {
            builder.use_preconfigured_tls(
                crate::tls::client_config(&options.tls, options.allow_insecure_registry)
                    .map_err(setup)?,
            )
        } else {
            let mut builder =
                builder.tls_danger_accept_invalid_certs(options.allow_insecure_registry);
            if let Some(pem) = &options.tls.ca_certificates_pem {
                let certificates = reqwest::Certificate::from_pem_bundle(pem).map_err(|error| {
                    setup(format!("reading the registry CA certificates: {error}"))
                })?;
                builder = builder.tls_certs_merge(certificates);
            }
            if let Some(pem) = &options.tls.client_identity_pem {
                let identity = reqwest::Identity::from_pem(pem).map_err(|error| {
                    setup(format!(
                        "reading the registry client certificate and key: {error}"
                    ))
                })?;
                builder = builder.identity(identity);
            }
            builder
        };
        let http = builder.build().map_err(|error| setup(error.to_string()))?;
        Ok(Self {
            http,
            options,
            credentials,
            endpoints: Mutex::new(HashMap::new()),
            requests: std::sync::atomic::AtomicUsize::new(0),
            pushed_blobs: std::sync::Mutex::new(HashMap::new()),
            without_referrers_api: std::sync::Mutex::new(std::collections::HashSet::new()),
        })
    }

    /// How many HTTP requests were sent (for `-d` and the benchmarks).
    pub fn request_count(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn debug(&self, message: std::fmt::Arguments<'_>) {
        if self.options.verbose {
            eprintln!("DEBUG: {message}");
        }
    }

    /// Whether plain HTTP may be used for `registry`: by flag, or because the host is local.
    fn http_allowed(&self, registry: &str) -> bool {
        self.options.allow_http_registry
            || self.options.allow_insecure_registry
            || is_local_host(registry)
    }

    async fn endpoint(&self, registry: &str) -> Result<Arc<Endpoint>, RegistryError> {
        let cell = {
            let mut endpoints = self.endpoints.lock().await;
            endpoints.entry(registry.to_owned()).or_default().clone()
        };
        cell.get_or_try_init(|| self.ping(registry)).await.cloned()
    }

    /// The endpoint of `registry`, learned from the first request made to it when that request
    /// is a read (one round trip saved over a separate `/v2/` ping): its answer is put in
    /// `first_answer` when it is final (a success).
    async fn endpoint_probing(
        &self,
        registry: &str,
        probe: &Probe<'_>,
        first_answer: &std::sync::Mutex<Option<Result<Fetched, RegistryError>>>,
    ) -> Result<Arc<Endpoint>, RegistryError> {
        let cell = {
            let mut endpoints = self.endpoints.lock().await;
            endpoints.entry(registry.to_owned()).or_default().clone()
        };
        cell.get_or_try_init(|| async {
            match self.probe(registry, Some(probe)).await {
                Ok((endpoint, answer)) => {
                    if let (Some(answer), Ok(mut slot)) = (answer, first_answer.lock()) {
                        *slot = Some(answer);
                    }
                    Ok(endpoint)
                }
                // Throttled, failing, or unreachable: learn the endpoint the usual way (the
                // request itself is then sent, with retries, by the caller).
                Err(_) => self.ping(registry).await,
            }
        })
        .await
        .cloned()
    }

    async fn ping(&self, registry: &str) -> Result<Arc<Endpoint>, RegistryError> {
        self.probe(registry, None)
            .await
            .map(|(endpoint, _)| endpoint)
    }

    /// Finds the registry's scheme and authentication challenge with one request: `GET /v2/`,
    /// or the caller's first read. Over HTTPS, and over HTTP too where allowed, raced: the first
    /// scheme to give a registry's answer wins (an HTTPS server answers plain HTTP with a 400, a
    /// plain one fails the TLS handshake).
    async fn probe(
        &self,
        registry: &str,
        probe: Option<&Probe<'_>>,
    ) -> Result<(Arc<Endpoint>, Option<Result<Fetched, RegistryError>>), RegistryError> {
        let https = format!("https://{registry}");
        let http = format!("http://{registry}");
        let attempt = |base: String| async move {
            let (method, path, headers, limit) = match probe {
                Some(probe) => (probe.method.clone(), probe.path, probe.headers, probe.limit),
                None => (Method::GET, "/v2/", &[][..], 64 * 1024),
            };
            let url = format!("{base}{path}");
            self.count_request(method.as_str(), &url);
            let mut request = self.http.request(method.clone(), &url);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let response = request.send().await;
            match response {
                Ok(response) => {
                    let status = response.status();
                    // Only a success or a challenge settles it: a registry may answer an
                    // anonymous read of a private repository with 404, where its `/v2/` asks
                    // for credentials; anything else falls back to the ping.
                    let registry_answer = status == StatusCode::UNAUTHORIZED || status.is_success();
                    if !registry_answer {
                        return Err(format!(
                            "{method} {url}: unexpected status code {}",
                            status.as_u16()
                        ));
                    }
                    let challenge = response
                        .headers()
                        .get(WWW_AUTHENTICATE)
                        .and_then(|value| value.to_str().ok())
                        .and_then(parse_challenge);
                    let answer = if probe.is_some() && status != StatusCode::UNAUTHORIZED {
                        Some(self.finish(&method, url.clone(), response, limit).await)
                    } else {
                        None
                    };
                    Ok((
                        Endpoint {
                            base,
                            challenge,
                            tokens: Mutex::new(HashMap::new()),
                        },
                        answer,
                    ))
                }
                Err(error) => Err(format!(
                    "{method} {url}: {}",
                    describe_reqwest_error(&error)
                )),
            }
        };
        let result = if self.http_allowed(registry) {
            let https_attempt = Box::pin(attempt(https));
            let http_attempt = Box::pin(attempt(http));
            match futures::future::select(https_attempt, http_attempt).await {
                futures::future::Either::Left((Ok(found), _))
                | futures::future::Either::Right((Ok(found), _)) => Ok(found),
                futures::future::Either::Left((Err(first), other))
                | futures::future::Either::Right((Err(first), other)) => {
                    other.await.map_err(|second| format!("{first}; {second}"))
                }
            }
        } else {
            attempt(https).await.map_err(|error| {
                format!(
                    "{error} (for a registry served over plain HTTP, pass --allow-http-registry)"
                )
            })
        };
        let (endpoint, answer) = result.map_err(|reason| RegistryError::Unreachable {
            registry: registry.to_owned(),
            reason,
        })?;
        let endpoint = Arc::new(endpoint);
        self.debug(format_args!(
            "registry {registry}: {} ({:?})",
            endpoint.base, endpoint.challenge
        ));
        Ok((endpoint, answer))
    }

    /// Reads a response into a [`Fetched`], or the registry's error for an error status.
    async fn finish(
        &self,
        method: &Method,
        url: String,
        response: reqwest::Response,
        limit: usize,
    ) -> Result<Fetched, RegistryError> {
        let status = response.status();
        let headers = response.headers().clone();
        if !status.is_success() {
            let body = read_capped(response, 64 * 1024, &url)
                .await
                .unwrap_or_default();
            return Err(RegistryError::Status {
                method: method.to_string(),
                url,
                status: status.as_u16(),
                errors: parse_error_body(&body),
                body: String::from_utf8_lossy(&body).chars().take(512).collect(),
            });
        }
        let body = if *method == Method::HEAD {
            Vec::new()
        } else {
            read_capped(response, limit, &url).await?
        };
        Ok(Fetched {
            status: status.as_u16(),
            headers,
            body,
        })
    }

    fn count_request(&self, method: &str, url: &str) {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.debug(format_args!("--> {method} {url}"));
    }

    /// The `Authorization` header for a request to `repository` with `access`, fetching a
    /// bearer token the first time a scope is needed.
    async fn authorization(
        &self,
        registry: &str,
        endpoint: &Endpoint,
        repository: &str,
        access: Access,
        refresh: bool,
    ) -> Result<Option<HeaderValue>, RegistryError> {
        let credentials = self.credentials.credentials(registry);
        if let Some(Credentials::RegistryToken(token)) = &credentials {
            return header_value(&format!("Bearer {token}"), registry).map(Some);
        }
        match &endpoint.challenge {
            None => Ok(None),
            Some(Challenge::Basic) => match &credentials {
                Some(Credentials::Basic { username, password }) => {
                    let encoded = base64::engine::general_purpose::STANDARD
                        .encode(format!("{username}:{password}"));
                    header_value(&format!("Basic {encoded}"), registry).map(Some)
                }
                _ => Ok(None),
            },
            Some(Challenge::Bearer { realm, service }) => {
                let actions = match access {
                    Access::Pull => "pull",
                    Access::Push => "pull,push",
                };
                let scope = format!("repository:{repository}:{actions}");
                let mut tokens = endpoint.tokens.lock().await;
                if refresh {
                    tokens.remove(&scope);
                }
                if let Some(token) = tokens.get(&scope) {
                    return header_value(&format!("Bearer {token}"), registry).map(Some);
                }
                let token = self
                    .fetch_token(
                        registry,
                        realm,
                        service.as_deref(),
                        &scope,
                        credentials.as_ref(),
                    )
                    .await?;
                let value = header_value(&format!("Bearer {token}"), registry)?;
                tokens.insert(scope, token);
                Ok(Some(value))
            }
        }
    }

    async fn fetch_token(
        &self,
        registry: &str,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        credentials: Option<&Credentials>,
    ) -> Result<String, RegistryError> {
        let auth_error = |reason: String| RegistryError::Authentication {
            registry: registry.to_owned(),
            reason,
        };
        let mut url = url::Url::parse(realm)
            .map_err(|error| auth_error(format!("bad token realm {realm:?}: {error}")))?;
        let request = match credentials {
            Some(Credentials::IdentityToken { token, .. }) => {
                let mut form = vec![
                    ("grant_type", "refresh_token".to_owned()),
                    ("refresh_token", token.clone()),
                    ("scope", scope.to_owned()),
                    ("client_id", "cosign".to_owned()),
                ];
                if let Some(service) = service {
                    form.push(("service", service.to_owned()));
                }
                let encoded = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(form)
                    .finish();
                self.http
                    .post(url.clone())
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(encoded)
            }
            other => {
                {
                    let mut query = url.query_pairs_mut();
                    if let Some(service) = service {
                        query.append_pair("service", service);
                    }
                    query.append_pair("scope", scope);
                }
                let request = self.http.get(url.clone());
                match other {
                    Some(Credentials::Basic { username, password }) => {
                        request.basic_auth(username, Some(password))
                    }
                    _ => request,
                }
            }
        };
        self.count_request("GET", url.as_str());
        let response = request
            .send()
            .await
            .map_err(|error| auth_error(format!("{url}: {}", describe_reqwest_error(&error))))?;
        let status = response.status();
        let body = read_capped(response, 1024 * 1024, url.as_str()).await?;
        if !status.is_success() {
            return Err(auth_error(format!(
                "token endpoint {url} answered {}: {}",
                status.as_u16(),
                String::from_utf8_lossy(&body).trim()
            )));
        }
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|error| auth_error(format!("token endpoint {url}: {error}")))?;
        parsed
            .token
            .filter(|t| !t.is_empty())
            .or(parsed.access_token)
            .ok_or_else(|| auth_error(format!("token endpoint {url} returned no token")))
    }

    /// Sends a request to `path` (below the registry's base URL, or an absolute URL from a
    /// `Location` header) and reads the answer's body up to `limit` bytes. Retries on 429, 5xx
    /// and dropped connections; refreshes the token once on 401. Error statuses are returned as
    /// [`RegistryError::Status`].
    #[allow(clippy::too_many_arguments)]
    pub async fn send(
        &self,
        registry: &str,
        repository: &str,
        access: Access,
        method: Method,
        path_or_url: &str,
        headers: &[(&str, &str)],
        body: Option<Body>,
        limit: usize,
    ) -> Result<Fetched, RegistryError> {
        let absolute = path_or_url.starts_with("http://") || path_or_url.starts_with("https://");
        // A first read from a registry also tells its scheme and challenge: no separate ping.
        let first_answer = std::sync::Mutex::new(None);
        let endpoint = if access == Access::Pull
            && body.is_none()
            && !absolute
            && (method == Method::GET || method == Method::HEAD)
        {
            let probe = Probe {
                method: method.clone(),
                path: path_or_url,
                headers,
                limit,
            };
            self.endpoint_probing(registry, &probe, &first_answer)
                .await?
        } else {
            self.endpoint(registry).await?
        };
        if let Some(answer) = first_answer.lock().ok().and_then(|mut slot| slot.take()) {
            return answer;
        }
        let url = if absolute {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", endpoint.base)
        };
        let response = self
            .exchange(
                registry,
                &endpoint,
                repository,
                access,
                &method,
                &url,
                headers,
                body.as_ref(),
            )
            .await?;
        self.finish(&method, url, response, limit).await
    }

    /// Sends a request, with retries on 429, 5xx and dropped connections and one token
    /// refresh on 401, and returns the last answer, whatever its status, body unread.
    #[allow(clippy::too_many_arguments)]
    async fn exchange(
        &self,
        registry: &str,
        endpoint: &Endpoint,
        repository: &str,
        access: Access,
        method: &Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&Body>,
    ) -> Result<reqwest::Response, RegistryError> {
        let mut refreshed = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let authorization = self
                .authorization(registry, endpoint, repository, access, false)
                .await?;
            let mut request = self.http.request(method.clone(), url);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(value) = &authorization {
                request = request.header(AUTHORIZATION, value.clone());
            }
            if let Some(body) = body {
                request = request
                    .header(CONTENT_TYPE, body.content_type.as_str())
                    .body(body.bytes.clone());
            }
            self.count_request(method.as_str(), url);
            let outcome = request.send().await;
            let response = match outcome {
                Ok(response) => response,
                Err(error) => {
                    let reason = describe_reqwest_error(&error);
                    if attempt < self.options.max_attempts {
                        let delay = self.backoff(attempt, None);
                        self.debug(format_args!(
                            "<-- {method} {url}: {reason}; retrying in {delay:?}"
                        ));
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    return Err(RegistryError::Transport {
                        method: method.to_string(),
                        url: url.to_owned(),
                        reason,
                    });
                }
            };
            let status = response.status();
            self.debug(format_args!("<-- {} {method} {url}", status.as_u16()));
            if status == StatusCode::UNAUTHORIZED
                && !refreshed
                && matches!(endpoint.challenge, Some(Challenge::Bearer { .. }))
            {
                // The token expired or lacks the scope: get a new one, once.
                refreshed = true;
                attempt = 0;
                let _ = self
                    .authorization(registry, endpoint, repository, access, true)
                    .await?;
                continue;
            }
            if (status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error())
                && attempt < self.options.max_attempts
            {
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(parse_retry_after);
                let delay = self.backoff(attempt, retry_after);
                self.debug(format_args!(
                    "<-- {} {method} {url}: retrying in {delay:?}",
                    status.as_u16()
                ));
                tokio::time::sleep(delay).await;
                continue;
            }
            return Ok(response);
        }
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exponential = Duration::from_millis(100u64.saturating_mul(1 << attempt.min(10)));
        retry_after
            .unwrap_or(exponential)
            .min(self.options.max_retry_delay)
    }

    /// Fetches a manifest (by tag or digest) with its exact bytes. `None` if it does not exist.
    pub async fn get_manifest(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
        access: Access,
    ) -> Result<Option<Manifest>, RegistryError> {
        let accept = cosign_core::image::manifest::media_types::ACCEPT_MANIFESTS.join(",");
        let path = format!("/v2/{repository}/manifests/{reference}");
        let fetched = match self
            .send(
                registry,
                repository,
                access,
                Method::GET,
                &path,
                &[(ACCEPT.as_str(), accept.as_str())],
                None,
                cosign_core::image::manifest::MANIFEST_SIZE_LIMIT,
            )
            .await
        {
            Ok(fetched) => fetched,
            Err(error) if error.is_not_found() => return Ok(None),
            Err(error) => return Err(error),
        };
        let digest = Digest::sha256(&fetched.body);
        if let Ok(expected) = reference.parse::<Digest>() {
            if !expected.matches(&fetched.body) {
                return Err(RegistryError::DigestMismatch {
                    url: path,
                    expected,
                    actual: digest,
                });
            }
        }
        let media_type = fetched
            .header(CONTENT_TYPE.as_str())
            .map(|value| value.split(';').next().unwrap_or(value).trim().to_owned())
            .filter(|value| {
                !value.is_empty() && value != "application/json" && value != "text/plain"
            })
            .or_else(|| cosign_core::image::manifest::sniff_media_type(&fetched.body))
            .unwrap_or_else(|| cosign_core::image::manifest::media_types::OCI_MANIFEST.to_owned());
        Ok(Some(Manifest {
            digest,
            media_type,
            bytes: fetched.body,
        }))
    }

    /// `HEAD` on a manifest: its digest as the registry reports it, media type and size.
    /// `None` if it does not exist. The digest is the registry's word: callers that need
    /// certainty fetch the bytes.
    pub async fn head_manifest(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
        access: Access,
    ) -> Result<Option<ManifestHead>, RegistryError> {
        let accept = cosign_core::image::manifest::media_types::ACCEPT_MANIFESTS.join(",");
        let path = format!("/v2/{repository}/manifests/{reference}");
        match self
            .send(
                registry,
                repository,
                access,
                Method::HEAD,
                &path,
                &[(ACCEPT.as_str(), accept.as_str())],
                None,
                0,
            )
            .await
        {
            Ok(fetched) => {
                let digest = fetched
                    .header("docker-content-digest")
                    .and_then(|value| value.parse::<Digest>().ok());
                let media_type = fetched
                    .header(CONTENT_TYPE.as_str())
                    .map(|value| value.split(';').next().unwrap_or(value).trim().to_owned());
                let size = fetched
                    .header("content-length")
                    .and_then(|value| value.parse::<u64>().ok());
                Ok(Some(ManifestHead {
                    digest,
                    media_type,
                    size,
                }))
            }
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Pushes a manifest under a tag or its digest.
    pub async fn put_manifest(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
        bytes: Vec<u8>,
        media_type: &str,
    ) -> Result<(), RegistryError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        self.send(
            registry,
            repository,
            Access::Push,
            Method::PUT,
            &path,
            &[],
            Some(Body {
                bytes: bytes.into(),
                content_type: media_type.to_owned(),
            }),
            64 * 1024,
        )
        .await
        .map(|_| ())
    }

    /// Deletes a manifest by tag or digest.
    pub async fn delete_manifest(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
    ) -> Result<(), RegistryError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        self.send(
            registry,
            repository,
            Access::Push,
            Method::DELETE,
            &path,
            &[],
            None,
            64 * 1024,
        )
        .await
        .map(|_| ())
    }

    /// Fetches a blob of at most `limit` bytes and checks it hashes to `digest`.
    pub async fn get_blob(
        &self,
        registry: &str,
        repository: &str,
        digest: &Digest,
        limit: usize,
        access: Access,
    ) -> Result<Vec<u8>, RegistryError> {
        let path = format!("/v2/{repository}/blobs/{digest}");
        let fetched = self
            .send(
                registry,
                repository,
                access,
                Method::GET,
                &path,
                &[],
                None,
                limit,
            )
            .await?;
        if !digest.matches(&fetched.body) {
            let mut hasher = Sha256Hasher::default();
            hasher.update(&fetched.body);
            return Err(RegistryError::DigestMismatch {
                url: path,
                expected: digest.clone(),
                actual: hasher.finish(),
            });
        }
        Ok(fetched.body)
    }

    pub async fn blob_exists(
        &self,
        registry: &str,
        repository: &str,
        digest: &Digest,
    ) -> Result<bool, RegistryError> {
        let path = format!("/v2/{repository}/blobs/{digest}");
        match self
            .send(
                registry,
                repository,
                Access::Push,
                Method::HEAD,
                &path,
                &[],
                None,
                0,
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(error) if error.is_not_found() => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Opens a blob for reading piece by piece (constant memory, whatever its size). The
    /// caller checks the digest ([`crate::transfer`] does, as the pieces go by).
    pub async fn open_blob(
        &self,
        registry: &str,
        repository: &str,
        digest: &Digest,
        access: Access,
    ) -> Result<BlobReader, RegistryError> {
        let endpoint = self.endpoint(registry).await?;
        let url = format!("{}/v2/{repository}/blobs/{digest}", endpoint.base);
        let response = self
            .exchange(
                registry,
                &endpoint,
                repository,
                access,
                &Method::GET,
                &url,
                &[],
                None,
            )
            .await?;
        if !response.status().is_success() {
            return Err(self
                .finish(&Method::GET, url, response, 0)
                .await
                .err()
                .unwrap_or_else(|| RegistryError::Protocol {
                    url: String::new(),
                    reason: "unexpected answer".to_owned(),
                }));
        }
        Ok(BlobReader { response, url })
    }

    /// Uploads a blob from a stream of pieces as they come: `POST`, one `PATCH` whose body is
    /// the stream (nothing buffered: reading the source and writing the registry overlap),
    /// then the closing `PUT` naming the digest, which the registry checks. A stream that
    /// ends in an error aborts the `PATCH`; that error is the one returned.
    pub async fn upload_blob_stream<S>(
        &self,
        registry: &str,
        repository: &str,
        digest: &Digest,
        pieces: S,
    ) -> Result<(), RegistryError>
    where
        S: futures::Stream<Item = Result<bytes::Bytes, RegistryError>> + Send + 'static,
    {
        use futures::StreamExt as _;
        let start_path = format!("/v2/{repository}/blobs/uploads/");
        let Some(mut url) = self.begin_upload(registry, repository, &start_path).await? else {
            return Err(RegistryError::Protocol {
                url: start_path,
                reason: "the registry created a blob before receiving it".to_owned(),
            });
        };
        let endpoint = self.endpoint(registry).await?;
        // The source's own error, kept to report instead of the aborted request's.
        let source_error: Arc<std::sync::Mutex<Option<RegistryError>>> = Arc::default();
        let slot = Arc::clone(&source_error);
        let body = pieces.map(move |piece| {
            piece.map_err(|error| {
                let message = error.to_string();
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(error);
                }
                message
            })
        });
        let authorization = self
            .authorization(registry, &endpoint, repository, Access::Push, false)
            .await?;
        let mut request = self
            .http
            .request(Method::PATCH, url.as_str())
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(reqwest::Body::wrap_stream(body));
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value);
        }
        self.count_request("PATCH", url.as_str());
        let outcome = request.send().await;
        let taken = source_error.lock().ok().and_then(|mut slot| slot.take());
        if let Some(error) = taken {
            return Err(error);
        }
        let response = outcome.map_err(|error| RegistryError::Transport {
            method: "PATCH".to_owned(),
            url: url.to_string(),
            reason: describe_reqwest_error(&error),
        })?;
        let answer = self
            .finish(&Method::PATCH, url.to_string(), response, 64 * 1024)
            .await?;
        if let Some(next) = answer.header(LOCATION.as_str()) {
            url = resolve_location(&endpoint.base, next)?;
        }
        url.query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        self.send(
            registry,
            repository,
            Access::Push,
            Method::PUT,
            url.as_str(),
            &[],
            Some(Body {
                bytes: bytes::Bytes::new(),
                content_type: "application/octet-stream".to_owned(),
            }),
            64 * 1024,
        )
        .await?;
        Ok(())
    }

    /// Asks the registry to mount a blob from another of its repositories. `false` when it
    /// would not (it then opened an upload session, which is abandoned).
    pub async fn mount_blob(
        &self,
        registry: &str,
        repository: &str,
        digest: &Digest,
        from: &str,
    ) -> Result<bool, RegistryError> {
        if from == repository {
            return Ok(false);
        }
        let path = format!("/v2/{repository}/blobs/uploads/?mount={digest}&from={from}");
        Ok(self
            .begin_upload(registry, repository, &path)
            .await?
            .is_none())
    }

    /// `POST` to `start_path` (an upload, or a mount): `None` when the registry answered 201
    /// (the blob is there), else where to send the upload.
    async fn begin_upload(
        &self,
        registry: &str,
        repository: &str,
        start_path: &str,
    ) -> Result<Option<url::Url>, RegistryError> {
        let start = self
            .send(
                registry,
                repository,
                Access::Push,
                Method::POST,
                start_path,
                &[],
                Some(Body {
                    bytes: bytes::Bytes::new(),
                    content_type: "application/octet-stream".to_owned(),
                }),
                64 * 1024,
            )
            .await?;
        if start.status == 201 {
            return Ok(None);
        }
        let location = start
            .header(LOCATION.as_str())
            .ok_or_else(|| RegistryError::Protocol {
                url: start_path.to_owned(),
                reason: "upload started without a Location header".to_owned(),
            })?;
        let endpoint = self.endpoint(registry).await?;
        resolve_location(&endpoint.base, location).map(Some)
    }

    /// Uploads a blob unless the registry has it: `HEAD`; then, if `mount_from` names a
    /// repository of the same registry holding it, a cross-repository mount; else `POST` and a
    /// monolithic `PUT`, or for blobs over `chunk_size` bytes `PATCH` chunks then a closing `PUT`.
    pub async fn upload_blob_with(
        &self,
        registry: &str,
        repository: &str,
        bytes: &[u8],
        mount_from: Option<&str>,
        chunk_size: usize,
    ) -> Result<Digest, RegistryError> {
        let digest = Digest::sha256(bytes);
        if self.blob_exists(registry, repository, &digest).await? {
            return Ok(digest);
        }
        self.upload_blob_forced_inner(registry, repository, bytes, mount_from, chunk_size, digest)
            .await
    }

    /// Uploads a blob even if the registry says it has it (to repair a registry that lost
    /// track of a blob under concurrent uploads).
    pub async fn upload_blob_forced(
        &self,
        registry: &str,
        repository: &str,
        bytes: &[u8],
        chunk_size: usize,
    ) -> Result<Digest, RegistryError> {
        self.upload_blob_forced_inner(
            registry,
            repository,
            bytes,
            None,
            chunk_size,
            Digest::sha256(bytes),
        )
        .await
    }

    async fn upload_blob_forced_inner(
        &self,
        registry: &str,
        repository: &str,
        bytes: &[u8],
        mount_from: Option<&str>,
        chunk_size: usize,
        digest: Digest,
    ) -> Result<Digest, RegistryError> {
        let mut start_path = format!("/v2/{repository}/blobs/uploads/");
        if let Some(source) = mount_from.filter(|source| *source != repository) {
            start_path = format!("{start_path}?mount={digest}&from={source}");
        }
        let Some(mut url) = self.begin_upload(registry, repository, &start_path).await? else {
            // Mounted: the registry already had it.
            return Ok(digest);
        };
        let endpoint = self.endpoint(registry).await?;
        let chunk_size = chunk_size.max(1);
        let mut closing: &[u8] = bytes;
        if bytes.len() > chunk_size {
            let mut offset = 0usize;
            for chunk in bytes.chunks(chunk_size) {
                let range = format!("{offset}-{}", offset + chunk.len() - 1);
                let answer = self
                    .send(
                        registry,
                        repository,
                        Access::Push,
                        Method::PATCH,
                        url.as_str(),
                        &[("Content-Range", range.as_str())],
                        Some(Body {
                            bytes: bytes::Bytes::copy_from_slice(chunk),
                            content_type: "application/octet-stream".to_owned(),
                        }),
                        64 * 1024,
                    )
                    .await?;
                offset += chunk.len();
                if let Some(next) = answer.header(LOCATION.as_str()) {
                    url = resolve_location(&endpoint.base, next)?;
                }
            }
            closing = &[];
        }
        url.query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        self.send(
            registry,
            repository,
            Access::Push,
            Method::PUT,
            url.as_str(),
            &[],
            Some(Body {
                bytes: bytes::Bytes::copy_from_slice(closing),
                content_type: "application/octet-stream".to_owned(),
            }),
            64 * 1024,
        )
        .await?;
        Ok(digest)
    }

    /// Uploads a blob unless the registry has it (monolithic up to 32 MiB, chunked above).
    pub async fn upload_blob(
        &self,
        registry: &str,
        repository: &str,
        bytes: &[u8],
    ) -> Result<Digest, RegistryError> {
        let digest = Digest::sha256(bytes);
        let key = (registry.to_owned(), digest.clone());
        let source = self
            .pushed_blobs
            .lock()
            .ok()
            .and_then(|pushed| pushed.get(&key).cloned());
        let pushed = match source {
            Some(source) if source == repository => return Ok(digest),
            // Pushed to another repository of this registry: mounted from there (one request;
            // a registry that does not mount starts an upload instead, which goes on).
            Some(source) => {
                self.upload_blob_forced_inner(
                    registry,
                    repository,
                    bytes,
                    Some(&source),
                    UPLOAD_CHUNK_SIZE,
                    digest,
                )
                .await?
            }
            None => {
                self.upload_blob_with(registry, repository, bytes, None, UPLOAD_CHUNK_SIZE)
                    .await?
            }
        };
        if let Ok(mut known) = self.pushed_blobs.lock() {
            known.insert(key, repository.to_owned());
        }
        Ok(pushed)
    }

    /// Whether a push found that `registry` has no referrers API.
    pub(crate) fn lacks_referrers_api(&self, registry: &str) -> bool {
        self.without_referrers_api
            .lock()
            .is_ok_and(|registries| registries.contains(registry))
    }

    pub(crate) fn note_no_referrers_api(&self, registry: &str) {
        if let Ok(mut registries) = self.without_referrers_api.lock() {
            registries.insert(registry.to_owned());
        }
    }
}

/// A blob being read, piece by piece.
#[derive(Debug)]
pub struct BlobReader {
    response: reqwest::Response,
    url: String,
}

impl BlobReader {
    /// The size the registry announced, if it did.
    pub fn content_length(&self) -> Option<u64> {
        self.response.content_length()
    }

    /// The next piece, or `None` at the end.
    pub async fn next_piece(&mut self) -> Result<Option<bytes::Bytes>, RegistryError> {
        self.response
            .chunk()
            .await
            .map_err(|error| RegistryError::Transport {
                method: "GET".to_owned(),
                url: self.url.clone(),
                reason: describe_reqwest_error(&error),
            })
    }
}

/// Blobs larger than this are uploaded in chunks of this size.
pub const UPLOAD_CHUNK_SIZE: usize = 32 * 1024 * 1024;

/// A first request made to a registry, sent before its scheme is known.
struct Probe<'a> {
    method: Method,
    path: &'a str,
    headers: &'a [(&'a str, &'a str)],
    limit: usize,
}

/// A manifest with its exact bytes, the digest of those bytes and its media type.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub digest: Digest,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct ManifestHead {
    pub digest: Option<Digest>,
    pub media_type: Option<String>,
    pub size: Option<u64>,
}

fn header_value(value: &str, registry: &str) -> Result<HeaderValue, RegistryError> {
    HeaderValue::from_str(value).map_err(|_| RegistryError::Authentication {
        registry: registry.to_owned(),
        reason: "credentials contain characters not allowed in an HTTP header".to_owned(),
    })
}

fn resolve_location(base: &str, location: &str) -> Result<url::Url, RegistryError> {
    let base_url = url::Url::parse(base).map_err(|error| RegistryError::Url {
        url: base.to_owned(),
        reason: error.to_string(),
    })?;
    base_url.join(location).map_err(|error| RegistryError::Url {
        url: location.to_owned(),
        reason: error.to_string(),
    })
}

/// `Retry-After`: seconds, or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value.trim()).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// Reads a response body, failing as soon as it passes `limit` bytes.
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
    url: &str,
) -> Result<Vec<u8>, RegistryError> {
    if let Some(length) = response.content_length() {
        if length > limit as u64 {
            return Err(RegistryError::TooLarge {
                url: url.to_owned(),
                limit,
            });
        }
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(RegistryError::TooLarge {
                        url: url.to_owned(),
                        limit,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(error) => {
                return Err(RegistryError::Transport {
                    method: "GET".to_owned(),
                    url: url.to_owned(),
                    reason: describe_reqwest_error(&error),
                })
            }
        }
    }
}

fn describe_reqwest_error(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// Hosts cosign talks plain HTTP to without being asked: loopback, `localhost`, `*.local`, and
/// private (RFC 1918) addresses.
pub fn is_local_host(registry: &str) -> bool {
    let host = if let Some(bracketed) = registry.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or(bracketed)
    } else {
        registry.rsplit_once(':').map_or(registry, |(host, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                host
            } else {
                registry
            }
        })
    };
    if host == "localhost" || host.ends_with(".localhost") || host.ends_with(".local") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_hosts_are_recognized() {
        for local in [
            "localhost:5000",
            "127.0.0.1:5000",
            "[::1]:5000",
            "10.1.2.3",
            "192.168.0.1:80",
            "registry.local:5000",
        ] {
            assert!(is_local_host(local), "{local}");
        }
        for remote in [
            "ghcr.io",
            "index.docker.io",
            "8.8.8.8:443",
            "example.com:5000",
        ] {
            assert!(!is_local_host(remote), "{remote}");
        }
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT").is_some());
        assert_eq!(parse_retry_after("soon"), None);
    }
}
