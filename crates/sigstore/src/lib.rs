//! cosign-sigstore: a whole Sigstore in one process (`cosign sigstore serve`), for labs, tests
//! and air-gapped classrooms, on one listener, each service at the paths the real one uses:
//!
//! - an OIDC issuer under `/oauth2`: discovery, JWKS, `GET /oauth2/token?sub=<identity>`;
//! - a Fulcio-compatible CA (`/api/v2/signingCert`, `/api/v2/trustBundle`,
//!   `/api/v2/configuration`) whose leaves embed the SCT of its CT log;
//! - a Rekor v2-compatible log (`POST /api/v2/log/entries`, `GET /checkpoint`, `GET /tile/...`),
//!   durable before it answers ([`log`]);
//! - an RFC 3161 TSA (`POST /api/v1/timestamp`, `GET /api/v1/timestamp/certchain`).
//!
//! It writes the `trusted_root.json` and `signing_config.json` (v0.2) real clients take, before
//! it answers anything. It trusts its clients with nothing: bodies are capped, every path is
//! parsed strictly, and the connection limits are the registry's ([`cosign_server`]). It mints
//! a token for anyone who asks, which is why it is for loopback and labs only.
#![forbid(unsafe_code)]

mod fulcio;
mod identity;
mod issuer;
mod log;
mod pki;
mod rekor_entry;
mod trust_files;
mod tsa;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use cosign_server::{body, Answer, ConnectionLimits, RequestBody};
use hyper::{Method, StatusCode};
use sha2::Digest as _;

pub use cosign_server::tls_config;

/// The largest request body any service takes (an entry with a certificate is a few KiB).
const BODY_LIMIT: u64 = 256 * 1024;
/// The longest a client may take to send a whole request body, however steadily it trickles.
const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// Why a request failed: the client's mistake, answered with its status and message (and the
/// gRPC code the real services put in their JSON), or ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Client {
        status: u16,
        grpc: u8,
        message: String,
    },
    Internal(String),
}

impl Failure {
    pub(crate) fn refused(message: &str) -> Self {
        Self::Client {
            status: 400,
            grpc: 3,
            message: message.to_owned(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Client { message, .. } | Self::Internal(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Failure {}

/// How a stack is set up.
#[derive(Debug, Clone)]
pub struct SigstoreConfig {
    /// Keys, the log and the certificates issued.
    pub storage: PathBuf,
    /// Where the trusted root, signing config and CA certificate are written.
    pub out: PathBuf,
    /// The URL clients reach the listener at (`http://127.0.0.1:PORT`).
    pub base_url: String,
    /// Log one line per request on stderr.
    pub verbose: bool,
    pub connections: ConnectionLimits,
}

/// A running stack.
#[derive(Debug)]
pub struct Sigstore {
    base_url: String,
    /// The `Host` values requests may carry: the listener's address, and `localhost` at its
    /// port (anything else may be a web page's request through a rebound DNS name).
    hosts: Vec<String>,
    issuer: issuer::Issuer,
    identity: identity::Identity,
    ct_log_id: [u8; 32],
    log: log::Log,
    tsa: tsa::TimestampAuthority,
    issued: std::sync::Mutex<std::fs::File>,
    verbose: bool,
    limits: ConnectionLimits,
}

/// Seconds since 1970.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

impl Sigstore {
    /// Opens the stack kept in `config.storage` (making its keys on the first start) and writes
    /// the trust files into `config.out`.
    pub fn open(config: SigstoreConfig) -> Result<Arc<Self>, Failure> {
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        std::fs::create_dir_all(&config.storage).map_err(|error| {
            Failure::Internal(format!("creating {}: {error}", config.storage.display()))
        })?;
        let identity = identity::Identity::load_or_create(&config.storage, now())?;
        let issuer = issuer::Issuer::new(format!("{base_url}/oauth2"), &identity.issuer_key)?;
        let origin = url_host(&base_url);
        let signer = log::Signer::new(&origin, clone_key(&identity.log_key)?)?;
        let log = log::Log::open(&config.storage.join("log"), signer)?;
        let ct_spki = identity
            .ct_key
            .public_key()
            .to_der()
            .map_err(|error| Failure::Internal(error.to_string()))?;
        let tsa = tsa::TimestampAuthority {
            key: clone_key(&identity.tsa_key)?,
            chain: identity.tsa_chain.clone(),
        };
        let issued = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(config.storage.join("issued.pem"))
            .map_err(|error| Failure::Internal(format!("opening issued.pem: {error}")))?;
        let authority = base_url
            .split_once("://")
            .map_or(base_url.as_str(), |(_, rest)| rest)
            .to_owned();
        let port = authority.rsplit_once(':').map(|(_, port)| port.to_owned());
        let mut hosts = vec![authority];
        if let Some(port) = port {
            hosts.push(format!("localhost:{port}"));
        }
        let sigstore = Self {
            hosts,
            base_url,
            issuer,
            ct_log_id: sha2::Sha256::digest(&ct_spki).into(),
            identity,
            log,
            tsa,
            issued: std::sync::Mutex::new(issued),
            verbose: config.verbose,
            limits: config.connections,
        };
        trust_files::write(&sigstore, &config.out)?;
        Ok(Arc::new(sigstore))
    }

    /// The issuer's URL (`oidcUrls` in the signing config).
    pub fn issuer_url(&self) -> &str {
        &self.issuer.url
    }

    /// The number of entries in the log.
    pub fn log_size(&self) -> u64 {
        self.log.size()
    }

    async fn route(self: &Arc<Self>, request: hyper::Request<hyper::body::Incoming>) -> Answer {
        let host = request
            .headers()
            .get(hyper::header::HOST)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if !self
            .hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(host))
        {
            return service_error(&Failure::Client {
                status: 403,
                grpc: 7,
                message: format!(
                    "the Host header must name this server ({}): a request through another name may come from a web page (DNS rebinding)",
                    self.hosts.join(" or ")
                ),
            });
        }
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let query = request.uri().query().unwrap_or_default().to_owned();
        let bearer = request
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(|token| token.trim().to_owned());
        let body = RequestBody::new(request.into_body(), self.limits.body_idle);
        match (method, path.as_str()) {
            (Method::GET, "/oauth2/.well-known/openid-configuration") => {
                json(StatusCode::OK, self.issuer.discovery())
            }
            (Method::GET, "/oauth2/jwks") => json(StatusCode::OK, self.issuer.jwks()),
            (Method::GET, "/oauth2/token") => match query_value(&query, "sub")
                .ok_or_else(|| Failure::refused("GET /oauth2/token?sub=<identity>"))
                .and_then(|identity| self.issuer.mint(&identity, now()))
            {
                Ok(token) => text(StatusCode::OK, "text/plain", token.into_bytes()),
                Err(failure) => service_error(&failure),
            },
            (Method::POST, "/api/v2/signingCert") => {
                let body = match read(body).await {
                    Ok(body) => body,
                    Err(failure) => return service_error(&failure),
                };
                self.signing_cert(&body, bearer.as_deref())
            }
            (Method::GET, "/api/v2/trustBundle") => json(
                StatusCode::OK,
                serde_json::json!({"chains": [{"certificates": [pem(&self.identity.ca.der)]}]})
                    .to_string()
                    .into_bytes(),
            ),
            (Method::GET, "/api/v2/configuration") => json(
                StatusCode::OK,
                serde_json::json!({"issuers": [{
                    "issuerUrl": self.issuer.url,
                    "audience": issuer::AUDIENCE,
                    "challengeClaim": "email",
                    "spiffeTrustDomain": "",
                    "issuerType": "email",
                    "subjectDomain": "",
                    "skipEmailVerification": false,
                }]})
                .to_string()
                .into_bytes(),
            ),
            (Method::POST, "/api/v2/log/entries") => {
                let body = match read(body).await {
                    Ok(body) => body,
                    Err(failure) => return service_error(&failure),
                };
                self.add_entry(body).await
            }
            (Method::GET, "/checkpoint") => match self.log.checkpoint() {
                Ok(checkpoint) => text(StatusCode::OK, "text/plain", checkpoint.into_bytes()),
                Err(failure) => service_error(&failure),
            },
            (Method::GET, tile) if tile.starts_with("/tile/") => self.tile(tile),
            (Method::POST, "/api/v1/timestamp") => {
                let body = match read(body).await {
                    Ok(body) => body,
                    Err(failure) => return tsa_error(&failure),
                };
                match self.tsa.respond(&body, now()) {
                    Ok(response) => text(StatusCode::OK, "application/timestamp-reply", response),
                    Err(failure) => tsa_error(&failure),
                }
            }
            (Method::GET, "/api/v1/timestamp/certchain") => text(
                StatusCode::OK,
                "application/pem-certificate-chain",
                self.tsa.chain_pem().into_bytes(),
            ),
            (_, _) => service_error(&Failure::Client {
                status: 404,
                grpc: 5,
                message: "Not Found".to_owned(),
            }),
        }
    }

    fn signing_cert(&self, body: &[u8], bearer: Option<&str>) -> Answer {
        let fulcio = fulcio::Fulcio {
            issuer: &self.issuer,
            ca: &self.identity.ca,
            ct: pki::CtLog {
                key: &self.identity.ct_key,
                log_id: self.ct_log_id,
            },
        };
        match fulcio.signing_cert(body, bearer, now()) {
            Ok(chain) => {
                if let (Some(leaf), Ok(mut issued)) = (chain.first(), self.issued.lock()) {
                    use std::io::Write as _;
                    let _ = writeln!(issued, "{leaf}");
                }
                json(
                    StatusCode::OK,
                    serde_json::json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}})
                        .to_string()
                        .into_bytes(),
                )
            }
            Err((failure, why)) => {
                if let (true, Some(why)) = (self.verbose, why) {
                    eprintln!("signingCert: token refused: {why}");
                }
                service_error(&failure)
            }
        }
    }

    async fn add_entry(&self, body: Vec<u8>) -> Answer {
        // Signatures are checked off the async workers, so one costly request cannot stall
        // the others.
        let parsed =
            tokio::task::spawn_blocking(move || rekor_entry::entry_from_request(&body)).await;
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(failure) => return service_error(&Failure::Internal(failure.to_string())),
        };
        let entry = match parsed {
            Ok(entry) => entry,
            Err(invalid) => {
                if self.verbose {
                    eprintln!("log entry refused: {}", invalid.reason());
                }
                return service_error(&Failure::refused(invalid.answer()));
            }
        };
        if entry.body.len() > log::ENTRY_LIMIT {
            return service_error(&Failure::refused(&format!(
                "the entry is larger than {} bytes",
                log::ENTRY_LIMIT
            )));
        }
        match self.log.append(entry.clone()).await {
            Ok(appended) => json(
                StatusCode::CREATED,
                log::entry_json(self.log.signer(), &entry, &appended),
            ),
            Err(log::AppendError::Duplicate(index)) => {
                let mut answer = service_error(&Failure::Client {
                    status: 409,
                    grpc: 6,
                    message: format!(
                        "an equivalent entry already exists in the transparency log with index {index}"
                    ),
                });
                if let Ok(value) = index.to_string().parse() {
                    answer.headers_mut().insert("X-Log-Index", value);
                }
                answer
            }
            Err(log::AppendError::Failed(failure)) => service_error(&failure),
        }
    }

    /// `GET /tile/<L>/<N>[.p/<W>]` and `GET /tile/entries/<N>[.p/<W>]` (C2SP tlog-tiles).
    fn tile(&self, path: &str) -> Answer {
        let not_found = || {
            service_error(&Failure::Client {
                status: 404,
                grpc: 5,
                message: "Not Found".to_owned(),
            })
        };
        let Some(rest) = path.strip_prefix("/tile/") else {
            return not_found();
        };
        let (level, rest) = match rest.split_once('/') {
            Some(("entries", rest)) => (None, rest),
            Some((level, rest)) => match parse_decimal(level).filter(|level| *level < 8) {
                Some(level) => (Some(level), rest),
                None => return not_found(),
            },
            None => return not_found(),
        };
        let Some((index, width)) = parse_tile_index(rest) else {
            return not_found();
        };
        let tile = match level {
            Some(level) => self.log.hash_tile(level, index, width).map(body::full),
            None => self.log.entry_bundle(index, width).map(body::stream),
        };
        match tile {
            Some(tile) => {
                let mut answer = hyper::Response::new(tile);
                if let Ok(value) = "application/octet-stream".parse() {
                    answer
                        .headers_mut()
                        .insert(hyper::header::CONTENT_TYPE, value);
                }
                answer
            }
            None => not_found(),
        }
    }
}

/// `<N>` as tlog-tiles writes a tile index (`x001/x234/067`: three digits a part, `x` before
/// all but the last), with `.p/<W>` for a partial tile of `W` (1 to 255): the index and width.
fn parse_tile_index(path: &str) -> Option<(u64, u64)> {
    let (index_path, width) = match path.split_once(".p/") {
        Some((index, width)) => {
            let width = parse_decimal(width).filter(|width| (1..256).contains(width))?;
            if width.to_string() != *width_text(path)? {
                return None;
            }
            (index, width)
        }
        None => (path, 256),
    };
    let parts: Vec<&str> = index_path.split('/').collect();
    let (last, leading) = parts.split_last()?;
    if parts.len() > 7 {
        return None;
    }
    let mut index: u64 = 0;
    for part in leading {
        let digits = part.strip_prefix('x')?;
        index = index
            .checked_mul(1000)?
            .checked_add(three_digits(digits)?)?;
    }
    index = index.checked_mul(1000)?.checked_add(three_digits(last)?)?;
    Some((index, width))
}

fn width_text(path: &str) -> Option<&str> {
    path.split_once(".p/").map(|(_, width)| width)
}

fn three_digits(text: &str) -> Option<u64> {
    (text.len() == 3 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn parse_decimal(text: &str) -> Option<u64> {
    (!text.is_empty() && text.len() <= 3 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// The host of `url` (no scheme, port or path): a Rekor v2 log's checkpoint origin, which
/// verifiers take from its base URL.
fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    if let Some(bracketed) = authority.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or(bracketed).to_owned();
    }
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
        .to_owned()
}

fn clone_key(
    key: &cosign_core::keys::PrivateKey,
) -> Result<cosign_core::keys::PrivateKey, Failure> {
    let der = key
        .to_pkcs8_der()
        .map_err(|error| Failure::Internal(error.to_string()))?;
    cosign_core::keys::PrivateKey::from_pkcs8_der(&der)
        .map_err(|error| Failure::Internal(error.to_string()))
}

fn pem(der: &[u8]) -> String {
    cosign_core::trust::certificate::Certificate::from_der(der)
        .map(|certificate| certificate.to_pem())
        .unwrap_or_default()
}

/// The value of `name` in a query string, percent-decoded.
fn query_value(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .and_then(|(_, value)| percent_decode(value))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(at + 1..at + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                at += 3;
            }
            b'+' => {
                out.push(b' ');
                at += 1;
            }
            other => {
                out.push(other);
                at += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

async fn read(body: RequestBody) -> Result<Vec<u8>, Failure> {
    let collected = tokio::time::timeout(BODY_DEADLINE, body.collect(BODY_LIMIT))
        .await
        .map_err(|_| Failure::Client {
            status: 408,
            grpc: 4,
            message: format!("the request body took longer than {BODY_DEADLINE:?}"),
        })?;
    collected.map_err(|error| match error {
        cosign_server::BodyError::TooLarge { .. } => Failure::Client {
            status: 413,
            grpc: 8,
            message: error.to_string(),
        },
        other => Failure::refused(&other.to_string()),
    })
}

fn text(status: StatusCode, content_type: &str, bytes: Vec<u8>) -> Answer {
    let mut answer = hyper::Response::new(body::full(bytes));
    *answer.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        answer
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    answer
}

fn json(status: StatusCode, bytes: Vec<u8>) -> Answer {
    text(status, "application/json", bytes)
}

/// An error as grpc-gateway writes it (Fulcio, Rekor v2): `{"code","message","details"}`.
fn service_error(failure: &Failure) -> Answer {
    let (status, grpc, message) = match failure {
        Failure::Client {
            status,
            grpc,
            message,
        } => (*status, *grpc, message.as_str()),
        Failure::Internal(message) => (500, 13, message.as_str()),
    };
    json(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        serde_json::json!({"code": grpc, "message": message, "details": []})
            .to_string()
            .into_bytes(),
    )
}

/// An error as the timestamp authority writes it: `{"code": <status>, "message"}`.
fn tsa_error(failure: &Failure) -> Answer {
    let (status, message) = match failure {
        Failure::Client {
            status, message, ..
        } => (*status, message.as_str()),
        Failure::Internal(message) => (500, message.as_str()),
    };
    text(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        "application/timestamp-reply",
        serde_json::json!({"code": status, "message": message})
            .to_string()
            .into_bytes(),
    )
}

impl cosign_server::Handler for Sigstore {
    fn handle(
        self: Arc<Self>,
        request: hyper::Request<hyper::body::Incoming>,
        peer: SocketAddr,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Answer> + Send>> {
        Box::pin(async move {
            let method = request.method().clone();
            let path = request.uri().path().to_owned();
            let answer = self.route(request).await;
            if self.verbose {
                eprintln!("{peer} {method} {path} {}", answer.status().as_u16());
            }
            answer
        })
    }
}

/// Serves `sigstore` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    sigstore: Arc<Sigstore>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let limits = sigstore.limits;
    cosign_server::serve(listener, sigstore, limits, None, shutdown).await
}

#[cfg(test)]
mod tests;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
