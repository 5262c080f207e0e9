//! The keyless test stack's real servers (../shared/docs/PEERS.md, "Keyless test stack"),
//! each on free loopback ports, stopped when dropped: Sigstore's `timestamp-server` (an
//! RFC 3161 TSA with an in-memory signer) and `rekor-server` (Rekor v2, posix storage, an
//! Ed25519 signer made with OpenSSL).
//!
//! `timestamp-server` always serves its metrics on port 2112 and exits when that port is
//! taken, so one runs at a time in a test process: [`TimestampAuthority::start`] waits for
//! the previous one to be dropped.

use std::io::{Read as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::{free_port, Peer};

/// `GET path` on `address` over plain HTTP/1.0: `(status, body)`.
pub fn http_get(address: &str, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").as_bytes())?;
    let (status, _, body) = read_answer(stream)?;
    Ok((status, body))
}

/// An HTTP/1.0 answer read to its end: `(status, head, body)`.
fn read_answer(mut stream: std::net::TcpStream) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let split = answer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {head:?}")))?;
    Ok((status, head, answer[split + 4..].to_vec()))
}

/// `POST path` on `address` over plain HTTP/1.0 with `body` as `content_type`: `(status,
/// head, body)`.
pub fn http_post(
    address: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let head = format!(
        "POST {path} HTTP/1.0\r\nHost: {address}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    read_answer(stream)
}

/// Held by the running `timestamp-server` of this process (see the module's notes).
static ONE_TSA: Mutex<()> = Mutex::new(());

/// A real `timestamp-server` (sigstore/timestamp-authority) with an in-memory signer (a new
/// key and chain each start).
#[derive(Debug)]
pub struct TimestampAuthority {
    child: Child,
    address: String,
    chain_pem: String,
    _only_one: MutexGuard<'static, ()>,
}

impl TimestampAuthority {
    pub fn start() -> Self {
        // A test that failed while holding it poisoned it; the server was stopped all the same.
        let only_one = ONE_TSA
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let child = Command::new(Peer::TimestampServer.path())
            .args([
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--timestamp-signer",
                "memory",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting timestamp-server");
        let mut authority = Self {
            child,
            address,
            chain_pem: String::new(),
            _only_one: only_one,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok((200, body)) = http_get(&authority.address, "/api/v1/timestamp/certchain") {
                authority.chain_pem = String::from_utf8_lossy(&body).into_owned();
                break;
            }
            assert!(
                Instant::now() < deadline,
                "timestamp-server did not start on {}",
                authority.address
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        authority
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The timestamping endpoint, as a signing config lists it.
    pub fn url(&self) -> String {
        format!("http://{}/api/v1/timestamp", self.address)
    }

    /// Its certificate chain, leaf first, as PEM.
    pub fn chain_pem(&self) -> &str {
        &self.chain_pem
    }

    /// A trusted root that trusts this TSA (and nothing else), as a Sigstore client reads it.
    pub fn trusted_root_json(&self) -> String {
        trusted_root_json(Some(self), None)
    }

    /// The trusted root's `timestampAuthorities` entry for this TSA.
    fn trusted_root_entry(&self) -> serde_json::Value {
        let certificates: Vec<serde_json::Value> = pem_blocks(&self.chain_pem)
            .into_iter()
            .map(|der| {
                serde_json::json!({
                    "rawBytes": base64::engine::general_purpose::STANDARD.encode(der)
                })
            })
            .collect();
        serde_json::json!({
            "subject": {"organization": "local", "commonName": "Test TSA Timestamping"},
            "uri": self.url(),
            "certChain": {"certificates": certificates},
            "validFor": {"start": "2020-01-01T00:00:00Z"}
        })
    }
}

/// A trusted root for the given servers of the stack (and nothing else).
pub fn trusted_root_json(tsa: Option<&TimestampAuthority>, rekor: Option<&RekorLog>) -> String {
    serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": rekor.map(RekorLog::trusted_root_entry).into_iter().collect::<Vec<_>>(),
        "certificateAuthorities": [],
        "ctlogs": [],
        "timestampAuthorities": tsa.map(TimestampAuthority::trusted_root_entry).into_iter().collect::<Vec<_>>(),
    })
    .to_string()
}

/// A real Rekor v2 (`rekor-server` of rekor-tiles, posix storage in a scratch directory).
#[derive(Debug)]
pub struct RekorLog {
    child: Child,
    address: String,
    public_key_der: Vec<u8>,
    _files: tempfile::TempDir,
}

/// The checkpoints' origin (the log's name in its signed notes): sigstore-go names a Rekor v2
/// checkpoint's signer after the host of the log's `baseUrl`, so it must be that host.
pub const REKOR_ORIGIN: &str = "127.0.0.1";

impl RekorLog {
    pub fn start() -> Self {
        let files = tempfile::Builder::new()
            .prefix("cosign-rs-rekor-")
            .tempdir()
            .expect("rekor files");
        let signer = files.path().join("signer.pem");
        let public = files.path().join("signer.pub.der");
        let openssl = |args: &[&std::ffi::OsStr]| {
            let status = Command::new("openssl")
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("openssl");
            assert!(status.success(), "openssl {args:?}");
        };
        openssl(&[
            "genpkey".as_ref(),
            "-algorithm".as_ref(),
            "ED25519".as_ref(),
            "-out".as_ref(),
            signer.as_os_str(),
        ]);
        openssl(&[
            "pkey".as_ref(),
            "-in".as_ref(),
            signer.as_os_str(),
            "-pubout".as_ref(),
            "-outform".as_ref(),
            "DER".as_ref(),
            "-out".as_ref(),
            public.as_os_str(),
        ]);
        let storage = files.path().join("storage");
        std::fs::create_dir_all(&storage).expect("storage");
        let (http, grpc, metrics) = (free_port(), free_port(), free_port());
        let address = format!("127.0.0.1:{http}");
        let child = Command::new(Peer::RekorServer.path())
            .arg("serve")
            .args([
                "--http-address",
                "127.0.0.1",
                "--http-port",
                &http.to_string(),
            ])
            .args([
                "--grpc-address",
                "127.0.0.1",
                "--grpc-port",
                &grpc.to_string(),
            ])
            .args(["--http-metrics-port", &metrics.to_string()])
            .arg("--storage-dir")
            .arg(&storage)
            .arg("--signer-filepath")
            .arg(&signer)
            .args(["--hostname", REKOR_ORIGIN])
            .args(["--checkpoint-interval", "1s", "--batch-max-age", "20ms"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting rekor-server");
        let log = Self {
            child,
            address,
            public_key_der: std::fs::read(&public).expect("public key"),
            _files: files,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while http_get(&log.address, "/").is_err() {
            assert!(
                Instant::now() < deadline,
                "rekor-server did not start on {}",
                log.address
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        log
    }

    /// Its base URL (entries are POSTed to `api/v2/log/entries` under it).
    pub fn url(&self) -> String {
        format!("http://{}/", self.address)
    }

    /// The log's signing key, DER (SubjectPublicKeyInfo).
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_key_der
    }

    /// The trusted root's `tlogs` entry: the key, and the log id as signed notes name an
    /// Ed25519 key (SHA-256 of the origin, a newline, 0x01 and the raw key), whose first four
    /// bytes are the checkpoints' key hint.
    fn trusted_root_entry(&self) -> serde_json::Value {
        use sha2::Digest as _;
        let raw = &self.public_key_der[self.public_key_der.len().saturating_sub(32)..];
        let mut id = sha2::Sha256::new();
        id.update(REKOR_ORIGIN.as_bytes());
        id.update(b"\n\x01");
        id.update(raw);
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        serde_json::json!({
            "baseUrl": self.url(),
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": b64(&self.public_key_der),
                "keyDetails": "PKIX_ED25519",
                "validFor": {"start": "2020-01-01T00:00:00Z"}
            },
            "logId": {"keyId": b64(&id.finalize())}
        })
    }
}

impl Drop for RekorLog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TimestampAuthority {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The DER contents of every `CERTIFICATE` block of `pem`.
fn pem_blocks(pem: &str) -> Vec<Vec<u8>> {
    pem.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .filter_map(|rest| rest.split("-----END CERTIFICATE-----").next())
        .filter_map(|body| {
            let text: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD.decode(text).ok()
        })
        .collect()
}
