//! A TUF repository for tests, laid out as Sigstore's mirror is (consistent snapshots:
//! `N.root.json`, `timestamp.json`, `N.snapshot.json`, `N.targets.json`,
//! `targets/<sha256>.<name>`), signed with ECDSA P-256 keys over canonical JSON, and a static
//! file server on loopback to serve it. It can publish new targets, rotate its root key,
//! expire, and be tampered with, so tests can show what a client accepts and refuses.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::{EncodePublicKey as _, LineEnding};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// A TUF repository in a directory. One key signs every role (a test needs no more); rotating
/// the root replaces it.
pub struct TufRepository {
    directory: PathBuf,
    key: SigningKey,
    root_version: u64,
    version: u64,
    /// Seconds from now that published metadata expires.
    pub expires_in: i64,
}

impl std::fmt::Debug for TufRepository {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TufRepository")
            .field("directory", &self.directory)
            .field("root_version", &self.root_version)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl TufRepository {
    /// A repository in `directory` (created) with root version 1 and these targets.
    pub fn create(directory: &Path, targets: &[(&str, &[u8])]) -> Self {
        std::fs::create_dir_all(directory.join("targets")).expect("repository directory");
        let mut repository = Self {
            directory: directory.to_owned(),
            key: SigningKey::random(&mut rand_core::OsRng),
            root_version: 0,
            version: 0,
            expires_in: 365 * 24 * 3600,
        };
        repository.write_root(&[]);
        repository.publish(targets);
        repository
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// The first root, as a client is given it out of band (`--root`).
    pub fn initial_root(&self) -> PathBuf {
        self.directory.join("1.root.json")
    }

    /// Publishes `targets` as new versions of the targets, snapshot and timestamp metadata.
    pub fn publish(&mut self, targets: &[(&str, &[u8])]) {
        self.version += 1;
        let version = self.version;
        let mut listed = serde_json::Map::new();
        for (name, bytes) in targets {
            let hash = hex(&Sha256::digest(bytes));
            std::fs::write(
                self.directory
                    .join("targets")
                    .join(format!("{hash}.{name}")),
                bytes,
            )
            .expect("target");
            listed.insert(
                (*name).to_owned(),
                json!({"length": bytes.len(), "hashes": {"sha256": hash}}),
            );
        }
        let targets = self.sign(&json!({
            "_type": "targets", "spec_version": "1.0", "version": version,
            "expires": self.expiry(), "targets": listed,
        }));
        self.write(&format!("{version}.targets.json"), &targets);
        let snapshot = self.sign(&json!({
            "_type": "snapshot", "spec_version": "1.0", "version": version,
            "expires": self.expiry(), "meta": {"targets.json": {"version": version}},
        }));
        self.write(&format!("{version}.snapshot.json"), &snapshot);
        let timestamp = self.sign(&json!({
            "_type": "timestamp", "spec_version": "1.0", "version": version,
            "expires": self.expiry(),
            "meta": {"snapshot.json": {
                "version": version, "length": snapshot.len(),
                "hashes": {"sha256": hex(&Sha256::digest(&snapshot))},
            }},
        }));
        self.write("timestamp.json", &timestamp);
    }

    /// Rotates every role to a new key: the next root is signed by the old key and the new.
    pub fn rotate_root(&mut self) {
        let old = self.key.clone();
        self.key = SigningKey::random(&mut rand_core::OsRng);
        self.write_root(&[old]);
    }

    /// Replaces the served bytes of target `name` (as published last) without re-signing.
    pub fn tamper_target(&self, name: &str, bytes: &[u8]) {
        for entry in std::fs::read_dir(self.directory.join("targets")).expect("targets") {
            let path = entry.expect("entry").path();
            let file = path
                .file_name()
                .and_then(|file| file.to_str())
                .unwrap_or("");
            if file.split_once('.').map(|(_, rest)| rest) == Some(name) {
                std::fs::write(&path, bytes).expect("tamper");
            }
        }
    }

    fn write_root(&mut self, also_signed_by: &[SigningKey]) {
        self.root_version += 1;
        let (key_id, key) = key_object(&self.key);
        let role = json!({"keyids": [key_id], "threshold": 1});
        let signed = json!({
            "_type": "root", "spec_version": "1.0", "version": self.root_version,
            "expires": self.expiry(), "consistent_snapshot": true,
            "keys": {key_id.clone(): key},
            "roles": {"root": role, "snapshot": role, "targets": role, "timestamp": role},
        });
        let mut signers = vec![self.key.clone()];
        signers.extend_from_slice(also_signed_by);
        let bytes = envelope(&signed, &signers);
        self.write(&format!("{}.root.json", self.root_version), &bytes);
    }

    fn sign(&self, signed: &Value) -> Vec<u8> {
        envelope(signed, std::slice::from_ref(&self.key))
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.directory.join(name), bytes).expect("metadata");
    }

    fn expiry(&self) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        cosign_core::trust::trusted_root::format_rfc3339(
            i64::try_from(now).expect("time") + self.expires_in,
        )
    }
}

fn key_object(key: &SigningKey) -> (String, Value) {
    let pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("public key");
    let object = json!({
        "keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": pem},
    });
    (hex(&Sha256::digest(canonical(&object))), object)
}

fn envelope(signed: &Value, keys: &[SigningKey]) -> Vec<u8> {
    let message = canonical(signed);
    let signatures: Vec<Value> = keys
        .iter()
        .map(|key| {
            let signature: DerSignature = key.sign(&message);
            json!({"keyid": key_object(key).0, "sig": hex(signature.as_bytes())})
        })
        .collect();
    serde_json::to_vec_pretty(&json!({"signatures": signatures, "signed": signed}))
        .expect("metadata")
}

/// OLPC canonical JSON, what TUF signs.
fn canonical(value: &Value) -> Vec<u8> {
    use serde::Serialize as _;
    let mut bytes = Vec::new();
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut bytes, olpc_cjson::CanonicalFormatter::new());
    value.serialize(&mut serializer).expect("canonical JSON");
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A static file server on loopback for a directory: `GET /path` answers the file or 404.
/// Counts requests; stops when dropped.
#[derive(Debug)]
pub struct StaticServer {
    address: String,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
}

impl StaticServer {
    pub fn start(directory: &Path) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let (thread_stop, thread_requests, directory) =
            (stop.clone(), requests.clone(), directory.to_owned());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if thread_stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                thread_requests.fetch_add(1, Ordering::Relaxed);
                let directory = directory.clone();
                std::thread::spawn(move || {
                    let _ = serve_file(stream, &directory);
                });
            }
        });
        Self {
            address,
            stop,
            requests,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(&self.address);
    }
}

fn serve_file(stream: TcpStream, directory: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or("");
    let file = path.trim_start_matches('/');
    let found = if file.is_empty() || file.split('/').any(|part| part == ".." || part.is_empty()) {
        None
    } else {
        std::fs::read(directory.join(file)).ok()
    };
    let mut stream = stream;
    match found {
        Some(bytes) => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len()
            )?;
            stream.write_all(&bytes)?;
        }
        None => {
            stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )?;
        }
    }
    stream.flush()
}
