//! A fake OCI registry on loopback that can misbehave on purpose: throttle (429 with
//! `Retry-After`), fail (5xx), drop connections, serve huge or wrong content, and demand
//! tokens. It stores what is pushed in memory and logs every request, so tests can count
//! round trips. One thread per connection; every response closes its connection.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// A response to send.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

/// A response body: bytes, or a stream of `length` zero bytes produced on the fly (to serve
/// "huge" content without holding it).
#[derive(Debug, Clone)]
pub enum Body {
    Bytes(Vec<u8>),
    Zeros { length: u64 },
}

impl Response {
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Bytes(Vec::new()),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = Body::Bytes(bytes.into());
        self
    }
}

/// What a fault rule does when it matches.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status (and `Retry-After` if given) instead.
    Status {
        status: u16,
        retry_after: Option<String>,
    },
    /// Close the connection without answering.
    Drop,
    /// Answer 200 with a body of this many bytes (no `Content-Length` if `chunked`).
    Huge { length: u64, declare_length: bool },
    /// Answer 200 with these bytes.
    Serve {
        content_type: String,
        bytes: Vec<u8>,
    },
    /// Answer this status with these bytes (a service's 201 Created).
    ServeStatus {
        status: u16,
        content_type: String,
        bytes: Vec<u8>,
    },
    /// Answer as usual, but with this `Docker-Content-Digest` (a registry that lies).
    LieDigest { digest: String },
}

/// A rule: requests whose method matches and whose path contains `path_contains` get
/// `fault`, the first `times` times (`None`: always).
#[derive(Debug, Clone)]
pub struct Rule {
    pub method: Option<String>,
    pub path_contains: String,
    pub times: Option<usize>,
    pub fault: Fault,
}

#[derive(Debug, Default)]
struct State {
    blobs: HashMap<String, Vec<u8>>,
    manifests: HashMap<String, (String, Vec<u8>)>,
    uploads: HashMap<String, Vec<u8>>,
    rules: Vec<(Rule, usize)>,
    log: Vec<String>,
    next_upload: u64,
    /// `Some((user, password))`: demand a bearer token got with these credentials.
    bearer: Option<(String, String)>,
}

/// The running fake; stops when dropped.
#[derive(Debug)]
pub struct FakeRegistry {
    address: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl FakeRegistry {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_state, thread_stop, thread_address) =
            (state.clone(), stop.clone(), address.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if thread_stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let state = thread_state.clone();
                let address = thread_address.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &state, &address);
                });
            }
        });
        Self {
            address,
            state,
            stop,
        }
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// Adds a fault rule.
    pub fn add_rule(&self, rule: Rule) {
        self.state.lock().expect("state").rules.push((rule, 0));
    }

    /// Demands bearer tokens, issued by this fake's `/token` for these credentials.
    pub fn require_bearer(&self, username: &str, password: &str) {
        self.state.lock().expect("state").bearer = Some((username.to_owned(), password.to_owned()));
    }

    /// Every request so far, as `METHOD path`.
    pub fn log(&self) -> Vec<String> {
        self.state.lock().expect("state").log.clone()
    }

    pub fn clear_log(&self) {
        self.state.lock().expect("state").log.clear();
    }

    /// Stores a blob and returns its digest.
    pub fn put_blob(&self, bytes: &[u8]) -> String {
        let digest = sha256_digest(bytes);
        self.state
            .lock()
            .expect("state")
            .blobs
            .insert(digest.clone(), bytes.to_vec());
        digest
    }

    /// Stores a manifest under its digest and, if given, a tag; returns its digest.
    pub fn put_manifest(
        &self,
        repository: &str,
        tag: Option<&str>,
        media_type: &str,
        bytes: &[u8],
    ) -> String {
        let digest = sha256_digest(bytes);
        let mut state = self.state.lock().expect("state");
        state.manifests.insert(
            format!("{repository}@{digest}"),
            (media_type.to_owned(), bytes.to_vec()),
        );
        if let Some(tag) = tag {
            state.manifests.insert(
                format!("{repository}@{tag}"),
                (media_type.to_owned(), bytes.to_vec()),
            );
        }
        digest
    }

    /// Pushes a small image (config + one layer) and returns its manifest digest.
    pub fn put_image(&self, repository: &str, tag: &str, content: &[u8]) -> String {
        let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#;
        let config_digest = self.put_blob(config);
        let layer_digest = self.put_blob(content);
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":{},"digest":"{config_digest}"}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","size":{},"digest":"{layer_digest}"}}]}}"#,
            config.len(),
            content.len()
        );
        self.put_manifest(
            repository,
            Some(tag),
            "application/vnd.oci.image.manifest.v1+json",
            manifest.as_bytes(),
        )
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(&self.address);
    }
}

fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(bytes);
    let hex: String = hash.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256:{hex}")
}

fn serve(stream: TcpStream, state: &Mutex<State>, address: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(());
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    if !line.contains("HTTP/1.") {
        // Not HTTP (a TLS ClientHello, say): answer at once and close.
        let mut stream = stream;
        let _ = stream.write_all(b"HTTP/1.0 400 Bad Request\r\nConnection: close\r\n\r\n");
        return Ok(());
    }
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length.min(256 * 1024 * 1024)];
    reader.read_exact(&mut body)?;
    let request = Request {
        method,
        path,
        headers,
        body,
    };
    let response = respond(&request, state, address);
    let mut stream = stream;
    match response {
        None => Ok(()), // dropped on purpose
        Some(response) => write_response(&mut stream, &request, &response),
    }
}

fn write_response(
    stream: &mut TcpStream,
    request: &Request,
    response: &Response,
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", response.status);
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let declared = !response
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("x-no-length"));
    match &response.body {
        Body::Bytes(bytes) => {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", bytes.len()));
            stream.write_all(head.as_bytes())?;
            if request.method != "HEAD" {
                stream.write_all(bytes)?;
            }
        }
        Body::Zeros { length } => {
            if declared {
                head.push_str(&format!("Content-Length: {length}\r\n"));
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes())?;
            let chunk = vec![b'0'; 64 * 1024];
            let mut remaining = *length;
            while remaining > 0 {
                let size = remaining.min(chunk.len() as u64) as usize;
                // The client hangs up once it has had enough: stop then.
                if stream.write_all(&chunk[..size]).is_err() {
                    break;
                }
                remaining -= size as u64;
            }
        }
    }
    stream.flush()
}

fn respond(request: &Request, state: &Mutex<State>, address: &str) -> Option<Response> {
    let mut state = state.lock().expect("state");
    state
        .log
        .push(format!("{} {}", request.method, request.path));
    for (rule, used) in state.rules.iter_mut() {
        let method_matches = rule
            .method
            .as_deref()
            .is_none_or(|method| method == request.method);
        if method_matches
            && request.path.contains(&rule.path_contains)
            && rule.times.is_none_or(|times| *used < times)
        {
            *used += 1;
            if let Fault::LieDigest { digest } = &rule.fault {
                let digest = digest.clone();
                let mut response = route(request, &mut state);
                response
                    .headers
                    .retain(|(name, _)| !name.eq_ignore_ascii_case("docker-content-digest"));
                return Some(response.header("Docker-Content-Digest", &digest));
            }
            return match &rule.fault {
                Fault::Drop => None,
                Fault::Status {
                    status,
                    retry_after,
                } => {
                    let mut response = Response::new(*status).body(format!(
                        r#"{{"errors":[{{"code":"TOOMANYREQUESTS","message":"injected {status}"}}]}}"#
                    ));
                    if let Some(value) = retry_after {
                        response = response.header("Retry-After", value);
                    }
                    Some(response)
                }
                Fault::Huge {
                    length,
                    declare_length,
                } => {
                    let mut response =
                        Response::new(200).header("Content-Type", "application/octet-stream");
                    if !declare_length {
                        response = response.header("X-No-Length", "1");
                    }
                    response.body = Body::Zeros { length: *length };
                    Some(response)
                }
                Fault::Serve {
                    content_type,
                    bytes,
                } => Some(
                    Response::new(200)
                        .header("Content-Type", content_type)
                        .body(bytes.clone()),
                ),
                Fault::ServeStatus {
                    status,
                    content_type,
                    bytes,
                } => Some(
                    Response::new(*status)
                        .header("Content-Type", content_type)
                        .body(bytes.clone()),
                ),
                Fault::LieDigest { .. } => None,
            };
        }
    }
    if request.path.starts_with("/token") {
        return Some(token_response(request, &state));
    }
    if let Some((user, password)) = &state.bearer {
        let expected = format!("Bearer token-for-{user}-{password}");
        if request.headers.get("authorization") != Some(&expected) {
            return Some(Response::new(401).header(
                "WWW-Authenticate",
                &format!(r#"Bearer realm="http://{address}/token",service="fake-registry""#),
            ));
        }
    }
    Some(route(request, &mut state))
}

fn token_response(request: &Request, state: &State) -> Response {
    use base64::Engine as _;
    let Some((user, password)) = &state.bearer else {
        return Response::new(404);
    };
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    );
    if request.headers.get("authorization") != Some(&expected) {
        return Response::new(401)
            .body(r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#);
    }
    Response::new(200)
        .header("Content-Type", "application/json")
        .body(format!(r#"{{"token":"token-for-{user}-{password}"}}"#))
}

fn route(request: &Request, state: &mut State) -> Response {
    let path = request
        .path
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let query = request
        .path
        .split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default();
    if path == "/v2/" {
        return Response::new(200).body("{}");
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return Response::new(404);
    };
    let not_found = |code: &str| {
        Response::new(404)
            .header("Content-Type", "application/json")
            .body(format!(
                r#"{{"errors":[{{"code":"{code}","message":"not found"}}]}}"#
            ))
    };
    if let Some((repository, reference)) = rest.rsplit_once("/manifests/") {
        let key = format!("{repository}@{reference}");
        return match request.method.as_str() {
            "GET" | "HEAD" => match state.manifests.get(&key) {
                Some((media_type, bytes)) => Response::new(200)
                    .header("Content-Type", media_type)
                    .header("Docker-Content-Digest", &sha256_digest(bytes))
                    .body(bytes.clone()),
                None => not_found("MANIFEST_UNKNOWN"),
            },
            "PUT" => {
                let media_type = request
                    .headers
                    .get("content-type")
                    .cloned()
                    .unwrap_or_default();
                let digest = sha256_digest(&request.body);
                state
                    .manifests
                    .insert(key, (media_type.clone(), request.body.clone()));
                state.manifests.insert(
                    format!("{repository}@{digest}"),
                    (media_type, request.body.clone()),
                );
                Response::new(201).header("Docker-Content-Digest", &digest)
            }
            "DELETE" => {
                state.manifests.remove(&key);
                Response::new(202)
            }
            _ => Response::new(405),
        };
    }
    if let Some((repository, upload)) = rest.split_once("/blobs/uploads/") {
        return match request.method.as_str() {
            "POST" => {
                state.next_upload += 1;
                let id = state.next_upload.to_string();
                state.uploads.insert(id.clone(), Vec::new());
                Response::new(202)
                    .header("Location", &format!("/v2/{repository}/blobs/uploads/{id}"))
            }
            "PUT" | "PATCH" => {
                let id = upload.to_owned();
                let Some(mut data) = state.uploads.remove(&id) else {
                    return not_found("BLOB_UPLOAD_UNKNOWN");
                };
                data.extend_from_slice(&request.body);
                if request.method == "PATCH" {
                    state.uploads.insert(id.clone(), data);
                    return Response::new(202)
                        .header("Location", &format!("/v2/{repository}/blobs/uploads/{id}"));
                }
                let digest = query
                    .split('&')
                    .find_map(|pair| pair.strip_prefix("digest="))
                    .map(|value| value.replace("%3A", ":"))
                    .unwrap_or_default();
                if sha256_digest(&data) != digest {
                    return Response::new(400).body(
                        r#"{"errors":[{"code":"DIGEST_INVALID","message":"digest mismatch"}]}"#,
                    );
                }
                state.blobs.insert(digest.clone(), data);
                Response::new(201).header("Docker-Content-Digest", &digest)
            }
            _ => Response::new(405),
        };
    }
    if let Some((_, digest)) = rest.rsplit_once("/blobs/") {
        return match state.blobs.get(digest) {
            Some(bytes) => Response::new(200)
                .header("Content-Type", "application/octet-stream")
                .header("Docker-Content-Digest", digest)
                .body(bytes.clone()),
            None => not_found("BLOB_UNKNOWN"),
        };
    }
    not_found("NAME_UNKNOWN")
}
