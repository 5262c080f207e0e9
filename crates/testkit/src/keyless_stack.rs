//! The whole keyless test stack (../shared/docs/PEERS.md, "Keyless test stack"): Fulcio with an
//! embedded-SCT CT log and Rekor v1 from Sigstore's `@sigstore/mock`, behind the Node server in
//! `crates/testkit/sigstore-stack/stack.js` (which answers as Fulcio does and adds an OIDC
//! issuer), with the real `rekor-server` (Rekor v2) and `timestamp-server` (TSA) beside it. It
//! writes the `trusted_root.json` and `signing_config.json` (v0.2) that real Sigstore clients
//! sign and verify with, and a sigstore-python trust config holding both.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use base64::Engine as _;
use sha2::Digest as _;

use crate::sigstore::{http_get, RekorLog, TimestampAuthority};
use crate::{peers_dir, repository_root};

/// Which transparency log the signing config names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rekor {
    /// Rekor v1 (`@sigstore/mock`'s handler): entries with an integrated time and a SET.
    V1,
    /// Rekor v2 (the real `rekor-server`): entries proven by inclusion only.
    V2,
}

/// What to start.
#[derive(Debug, Clone, Copy)]
pub struct StackOptions {
    pub rekor: Rekor,
    /// Start the real TSA and list it in the signing config.
    pub timestamps: bool,
}

const VALID_SINCE: &str = "2020-01-01T00:00:00Z";
const OPERATOR: &str = "cosign-rs tests";

/// The running stack; everything stops when it is dropped.
#[derive(Debug)]
pub struct KeylessStack {
    node: Child,
    _stdin: ChildStdin,
    url: String,
    issuer: String,
    fulcio_root_der: Vec<u8>,
    ct_log_key_der: Vec<u8>,
    rekor_v1_key_der: Vec<u8>,
    pub rekor_v2: Option<RekorLog>,
    pub tsa: Option<TimestampAuthority>,
    options: StackOptions,
    files: tempfile::TempDir,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl KeylessStack {
    pub fn start(options: StackOptions) -> Self {
        let modules = peers_dir().join("sigstore-stack").join("node_modules");
        assert!(
            modules.join("@sigstore").join("mock").exists(),
            "the keyless test stack's Node packages are not in {}: run `scripts/install-peers.sh` (or `scripts/test.sh`, which installs them)",
            modules.display()
        );
        let script = repository_root()
            .join("crates")
            .join("testkit")
            .join("sigstore-stack")
            .join("stack.js");
        let mut node = Command::new("node")
            .arg(&script)
            .env("NODE_PATH", &modules)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting node (the keyless test stack)");
        let stdin = node.stdin.take().expect("stdin");
        let mut line = String::new();
        BufReader::new(node.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the stack's first line");
        let ready: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|error| panic!("the stack did not start ({error}): {line:?}"));
        let field = |name: &str| ready[name].as_str().unwrap_or_default().to_owned();
        let decode = |name: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(field(name))
                .expect("base64 from the stack")
        };
        let files = tempfile::Builder::new()
            .prefix("cosign-rs-keyless-")
            .tempdir()
            .expect("stack files");
        let stack = Self {
            node,
            _stdin: stdin,
            url: field("url"),
            issuer: field("issuer"),
            fulcio_root_der: decode("fulcioRoot"),
            ct_log_key_der: decode("ctLogKey"),
            rekor_v1_key_der: decode("rekorKey"),
            rekor_v2: (options.rekor == Rekor::V2).then(RekorLog::start),
            tsa: options.timestamps.then(TimestampAuthority::start),
            options,
            files,
        };
        std::fs::write(stack.trusted_root_path(), stack.trusted_root_json()).expect("root");
        std::fs::write(stack.signing_config_path(), stack.signing_config_json()).expect("config");
        let trust_config = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": serde_json::from_str::<serde_json::Value>(&stack.trusted_root_json()).expect("json"),
            "signingConfig": serde_json::from_str::<serde_json::Value>(&stack.signing_config_json()).expect("json"),
        });
        std::fs::write(stack.trust_config_path(), trust_config.to_string()).expect("trust config");
        stack
    }

    /// The base URL of Fulcio, Rekor v1 and the issuer's server.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The OIDC issuer (the `iss` of its tokens, the certificates' OIDC issuer).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The transparency log the signing config names.
    pub fn rekor_url(&self) -> String {
        match &self.rekor_v2 {
            Some(log) => log.url(),
            None => self.url.clone(),
        }
    }

    pub fn tsa_url(&self) -> Option<String> {
        self.tsa.as_ref().map(TimestampAuthority::url)
    }

    pub fn directory(&self) -> &Path {
        self.files.path()
    }

    pub fn trusted_root_path(&self) -> PathBuf {
        self.files.path().join("trusted_root.json")
    }

    pub fn signing_config_path(&self) -> PathBuf {
        self.files.path().join("signing_config.json")
    }

    /// sigstore-python's `--trust-config`: the trusted root and the signing config in one file.
    pub fn trust_config_path(&self) -> PathBuf {
        self.files.path().join("trust_config.json")
    }

    /// The Fulcio root certificate, PEM.
    pub fn fulcio_root_pem(&self) -> String {
        crate::pem("CERTIFICATE", &self.fulcio_root_der)
    }

    /// cosign's environment for trusting this stack without a trusted root (what cosign 2.5
    /// reads for legacy signatures): `SIGSTORE_ROOT_FILE` (the Fulcio root),
    /// `SIGSTORE_REKOR_PUBLIC_KEY` (Rekor v1's key), `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`, and
    /// `SIGSTORE_TSA_CERTIFICATE_FILE` when there is a TSA; the files written beside the root.
    pub fn sigstore_environment(&self) -> Vec<(&'static str, PathBuf)> {
        let pem = crate::pem;
        let write = |name: &str, contents: String| {
            let path = self.files.path().join(name);
            std::fs::write(&path, contents).expect("environment file");
            path
        };
        let mut environment = vec![
            (
                "SIGSTORE_ROOT_FILE",
                write("fulcio_root.pem", self.fulcio_root_pem()),
            ),
            (
                "SIGSTORE_REKOR_PUBLIC_KEY",
                write("rekor.pub", pem("PUBLIC KEY", &self.rekor_v1_key_der)),
            ),
            (
                "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE",
                write("ctlog.pub", pem("PUBLIC KEY", &self.ct_log_key_der)),
            ),
        ];
        if let Some(tsa) = &self.tsa {
            environment.push((
                "SIGSTORE_TSA_CERTIFICATE_FILE",
                write("tsa_chain.pem", tsa.chain_pem().to_owned()),
            ));
        }
        environment
    }

    /// A token for `subject`, from the issuer (audience `sigstore`, valid 10 minutes).
    pub fn token(&self, subject: &str) -> String {
        self.token_with(&[("sub", subject)])
    }

    /// A token with these query parameters of the issuer's test endpoint (`sub`, `email`, `aud`,
    /// `expires_in`, `iss`).
    pub fn token_with(&self, query: &[(&str, &str)]) -> String {
        let query: Vec<String> = query
            .iter()
            .map(|(name, value)| format!("{name}={}", percent(value)))
            .collect();
        let (status, body) = self.get(&format!("/oidc/token?{}", query.join("&")));
        assert_eq!(
            status,
            200,
            "minting a token: {}",
            String::from_utf8_lossy(&body)
        );
        String::from_utf8(body).expect("token text")
    }

    /// Makes `service` (`fulcio`, `rekor`, `oidc`) misbehave: `kind` is `status` (answer
    /// `status`, `times` times), or for Fulcio `no-sct`, `untrusted-sct`, `other-key`, for
    /// Rekor v1 `other-content`, `bad-proof`.
    pub fn fault(&self, fault: serde_json::Value) {
        let (status, body) = self.send("POST", "/__stack/fault", fault.to_string().as_bytes());
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }

    /// How many requests each path of the Node server served.
    pub fn requests(&self) -> serde_json::Value {
        let (status, body) = self.get("/__stack/requests");
        assert_eq!(status, 200);
        serde_json::from_slice(&body).expect("requests")
    }

    /// How many requests `path` served.
    pub fn served(&self, path: &str) -> u64 {
        self.requests()[path].as_u64().unwrap_or(0)
    }

    fn address(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    fn get(&self, path: &str) -> (u16, Vec<u8>) {
        http_get(self.address(), path).expect("the keyless test stack")
    }

    fn send(&self, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        use std::io::Read as _;
        let mut stream = std::net::TcpStream::connect(self.address()).expect("stack");
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.address(),
            body.len()
        )
        .expect("request");
        stream.write_all(body).expect("body");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("answer");
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("status");
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, body)| body)
            .unwrap_or("");
        (status, body.as_bytes().to_vec())
    }

    pub fn trusted_root_json(&self) -> String {
        let sha256 = |bytes: &[u8]| sha2::Sha256::digest(bytes).to_vec();
        let mut tlogs = vec![serde_json::json!({
            "baseUrl": self.url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": b64(&self.rekor_v1_key_der),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": VALID_SINCE}
            },
            "logId": {"keyId": b64(&sha256(&self.rekor_v1_key_der))}
        })];
        let mut root: serde_json::Value = serde_json::from_str(
            &crate::sigstore::trusted_root_json(self.tsa.as_ref(), self.rekor_v2.as_ref()),
        )
        .expect("root json");
        if let Some(v2) = root["tlogs"].as_array() {
            tlogs.extend(v2.iter().cloned());
        }
        root["tlogs"] = serde_json::Value::Array(tlogs);
        root["certificateAuthorities"] = serde_json::json!([{
            "subject": {"organization": "sigstore.mock", "commonName": "sigstore"},
            "uri": self.url,
            "certChain": {"certificates": [{"rawBytes": b64(&self.fulcio_root_der)}]},
            "validFor": {"start": VALID_SINCE}
        }]);
        root["ctlogs"] = serde_json::json!([{
            "baseUrl": self.url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": b64(&self.ct_log_key_der),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": VALID_SINCE}
            },
            "logId": {"keyId": b64(&sha256(&self.ct_log_key_der))}
        }]);
        root.to_string()
    }

    pub fn signing_config_json(&self) -> String {
        let service = |url: String, version: u32| {
            serde_json::json!({
                "url": url,
                "majorApiVersion": version,
                "validFor": {"start": VALID_SINCE},
                "operator": OPERATOR
            })
        };
        let rekor_version = match self.options.rekor {
            Rekor::V1 => 1,
            Rekor::V2 => 2,
        };
        serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [service(self.url.clone(), 1)],
            "oidcUrls": [service(self.issuer.clone(), 1)],
            "rekorTlogUrls": [service(self.rekor_url().trim_end_matches('/').to_owned(), rekor_version)],
            "tsaUrls": self.tsa_url().map(|url| service(url, 1)).into_iter().collect::<Vec<_>>(),
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"}
        })
        .to_string()
    }
}

/// Percent-encodes what a query value cannot hold as is.
fn percent(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

impl Drop for KeylessStack {
    fn drop(&mut self) {
        let _ = self.node.kill();
        let _ = self.node.wait();
    }
}
