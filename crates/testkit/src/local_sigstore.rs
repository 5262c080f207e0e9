//! `cosign sigstore serve` (ours) on a free loopback port, its storage and trust files in a
//! scratch directory (or the storage given, to restart on it); stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::free_port;
use crate::sigstore::http_get;

#[derive(Debug)]
pub struct LocalSigstore {
    child: Child,
    address: String,
    out: PathBuf,
    _files: tempfile::TempDir,
}

impl LocalSigstore {
    /// Starts it with `--storage storage` (a scratch directory when `None`).
    pub fn start(cosign: &Path, storage: Option<&Path>) -> Self {
        let files = tempfile::Builder::new()
            .prefix("cosign-rs-sigstore-")
            .tempdir()
            .expect("sigstore files");
        let address = format!("127.0.0.1:{}", free_port());
        let out = files.path().join("out");
        let storage = storage.map_or_else(|| files.path().join("storage"), Path::to_path_buf);
        let child = Command::new(cosign)
            .args(["sigstore", "serve", "--address", &address])
            .arg("--storage")
            .arg(&storage)
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting cosign sigstore serve");
        let stack = Self {
            child,
            address,
            out,
            _files: files,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !matches!(http_get(&stack.address, "/checkpoint"), Ok((200, _))) {
            assert!(
                Instant::now() < deadline,
                "cosign sigstore serve did not start on {}",
                stack.address
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        stack
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The OIDC issuer's URL (what certificates name as their issuer).
    pub fn issuer(&self) -> String {
        format!("{}/oauth2", self.url())
    }

    /// A fresh ID token for `identity`.
    pub fn token(&self, identity: &str) -> String {
        let (status, body) = http_get(
            &self.address,
            &format!("/oauth2/token?sub={}", identity.replace('@', "%40")),
        )
        .expect("GET /oauth2/token");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        String::from_utf8(body).expect("a token")
    }

    pub fn trusted_root_path(&self) -> PathBuf {
        self.out.join("trusted_root.json")
    }

    pub fn signing_config_path(&self) -> PathBuf {
        self.out.join("signing_config.json")
    }

    pub fn trust_config_path(&self) -> PathBuf {
        self.out.join("trust_config.json")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server abruptly (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for LocalSigstore {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Rekor v2 `hashedRekordRequestV002` body for a fresh signature by `key` over the digest of
/// `seed` (distinct seeds, distinct entries).
pub fn signed_entry_request(key: &cosign_core::keys::PrivateKey, seed: &str) -> Vec<u8> {
    let digest = cosign_core::digest::Digest::sha256(seed.as_bytes());
    let signature = key.sign_sha256_digest(&digest.bytes()).expect("sign");
    cosign_core::keyless::rekor_request::hashed_rekord_v002(
        &digest,
        &signature,
        cosign_core::keyless::rekor_request::Verifier::Key(&key.public_key()),
    )
    .expect("request")
}
