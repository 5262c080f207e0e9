//! The keyless test stack's real servers (../shared/docs/PEERS.md, "Keyless test stack"),
//! each on a free loopback port, stopped when dropped: Sigstore's `timestamp-server` (an
//! RFC 3161 TSA with an in-memory signer).
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
    Ok((status, answer[split + 4..].to_vec()))
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
        let certificates: Vec<serde_json::Value> = pem_blocks(&self.chain_pem)
            .into_iter()
            .map(|der| {
                serde_json::json!({
                    "rawBytes": base64::engine::general_purpose::STANDARD.encode(der)
                })
            })
            .collect();
        serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [],
            "certificateAuthorities": [],
            "ctlogs": [],
            "timestampAuthorities": [{
                "subject": {"organization": "local", "commonName": "Test TSA Timestamping"},
                "uri": self.url(),
                "certChain": {"certificates": certificates},
                "validFor": {"start": "2020-01-01T00:00:00Z"}
            }]
        })
        .to_string()
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
