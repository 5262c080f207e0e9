//! Test helpers for cosign-rs: where the real peers are, a scratch directory per test, and
//! running a program there with a clean environment.
//!
//! The peers (real cosign 2.5 and 3.1, skopeo, crane, ...) are installed by
//! `scripts/install-peers.sh` into `.peers/` at the repository root (or `$COSIGN_RS_PEERS_DIR`).
//! A test that needs one and does not find it fails, saying how to install it: interop tests
//! are never skipped.
#![forbid(unsafe_code)]
// Test support: failing loudly, with the reason, is what a helper should do.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

pub mod fake_registry;
pub mod keyless_stack;
pub mod local_sigstore;
pub mod pki;
pub mod sigstore;
pub mod tuf_mirror;

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root (two levels above this crate).
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The folder holding the peers' `bin/`.
pub fn peers_dir() -> PathBuf {
    std::env::var_os("COSIGN_RS_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repository_root().join(".peers"))
}

/// The real programs the interop tests run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Cosign2,
    Cosign3,
    Skopeo,
    Crane,
    Oras,
    /// The SBOM producer.
    Syft,
    /// CUE, for cosign's CUE policies.
    Cue,
    /// Sigstore's RFC 3161 timestamp authority (built from Debian's Go sources).
    TimestampServer,
    /// Sigstore's Rekor v2 (rekor-tiles, posix backend; built from Debian's Go sources).
    RekorServer,
    /// sigstore-python's `sigstore` command (PyPI).
    SigstorePython,
    /// A real admission round trip: k8s.io/apiserver's webhook plugins driven against a
    /// webhook URL (`tools/k8sadmit`, built from Debian's Go sources).
    K8sAdmit,
}

impl Peer {
    fn file_name(self) -> &'static str {
        match self {
            Self::Cosign2 => "cosign2",
            Self::Cosign3 => "cosign3",
            Self::Skopeo => "skopeo",
            Self::Crane => "crane",
            Self::Oras => "oras",
            Self::Syft => "syft",
            Self::Cue => "cue",
            Self::TimestampServer => "timestamp-server",
            Self::RekorServer => "rekor-server",
            Self::SigstorePython => "sigstore-python",
            Self::K8sAdmit => "k8sadmit",
        }
    }

    /// The peer's executable. Panics, naming the install command, if it is not installed.
    pub fn path(self) -> PathBuf {
        let path = peers_dir().join("bin").join(self.file_name());
        assert!(
            path.exists(),
            "peer {} not found at {}: run `scripts/install-peers.sh` (or `scripts/test.sh`, which installs it)",
            self.file_name(),
            path.display()
        );
        path
    }
}

/// The result of running a program: exit code and both outputs as text.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub stdout_bytes: Vec<u8>,
}

impl Run {
    fn from_output(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            stdout_bytes: output.stdout,
        }
    }

    /// Asserts success, showing both outputs otherwise.
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(
            self.code,
            Some(0),
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts a failure with this exit code, showing both outputs otherwise.
    #[track_caller]
    pub fn failure(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// A scratch directory in which commands run, removed at the end of the test.
#[derive(Debug)]
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

impl Scratch {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("cosign-rs-test-")
            .tempdir()
            .unwrap_or_else(|error| panic!("creating a scratch directory: {error}"));
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(name);
        std::fs::write(&path, contents)
            .unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
        path
    }

    pub fn read(&self, name: impl AsRef<Path>) -> Vec<u8> {
        let path = self.join(name);
        std::fs::read(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
    }

    /// A command for `program` running in this directory with an environment free of the
    /// variables that change cosign's behaviour (`COSIGN_*`, `SIGSTORE_*`, `DOCKER_CONFIG`...).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Invocation {
        let mut command = Command::new(program);
        command.current_dir(self.path());
        for (name, _) in std::env::vars_os() {
            let name_text = name.to_string_lossy();
            if name_text.starts_with("COSIGN_") && name_text != "COSIGN_RS_PEERS_DIR"
                || name_text.starts_with("SIGSTORE_")
                || name_text.starts_with("TUF_")
                || name_text == "DOCKER_CONFIG"
                || name_text == "REGISTRY_AUTH_FILE"
            {
                command.env_remove(&name);
            }
        }
        // Keep the peers' caches (TUF, docker config) inside the scratch directory.
        command.env("HOME", self.path());
        Invocation {
            command,
            stdin: None,
        }
    }
}

/// A command about to run, with what to feed its standard input.
#[derive(Debug)]
pub struct Invocation {
    command: Command,
    stdin: Option<Vec<u8>>,
}

impl Invocation {
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    /// Pipes these bytes to standard input (closed after them). Without it, standard input is
    /// an empty pipe, never the terminal or `/dev/null`.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn run(mut self) -> Run {
        self.command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self
            .command
            .spawn()
            .unwrap_or_else(|error| panic!("starting {:?}: {error}", self.command.get_program()));
        if let Some(mut pipe) = child.stdin.take() {
            let bytes = self.stdin.take().unwrap_or_default();
            // A program may exit without reading its input: ignore a broken pipe.
            let _ = pipe.write_all(&bytes);
        }
        let output = child.wait_with_output().unwrap_or_else(|error| {
            panic!("waiting for {:?}: {error}", self.command.get_program())
        });
        Run::from_output(output)
    }
}

impl Invocation {
    /// Runs the program and hands each line of its standard error to `on_line` as it comes
    /// (a scripted user answering what the program asks), then waits for it.
    pub fn run_watching_stderr(mut self, mut on_line: impl FnMut(&str)) -> Run {
        use std::io::BufRead as _;
        self.command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self
            .command
            .spawn()
            .unwrap_or_else(|error| panic!("starting {:?}: {error}", self.command.get_program()));
        if let Some(mut pipe) = child.stdin.take() {
            let _ = pipe.write_all(&self.stdin.take().unwrap_or_default());
        }
        let mut stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = std::io::Read::read_to_end(&mut stdout, &mut bytes);
            bytes
        });
        let mut stderr = String::new();
        for line in std::io::BufReader::new(child.stderr.take().expect("stderr")).lines() {
            let Ok(line) = line else { break };
            on_line(&line);
            stderr.push_str(&line);
            stderr.push('\n');
        }
        let status = child.wait().expect("waiting");
        let stdout_bytes = reader.join().unwrap_or_default();
        Run {
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout_bytes).into_owned(),
            stderr,
            stdout_bytes,
        }
    }
}

/// A real CNCF distribution registry (Debian's `docker-registry`, the lab's `registry:2`)
/// serving on a free loopback port from a scratch directory; stopped when dropped.
#[derive(Debug)]
pub struct Distribution {
    child: std::process::Child,
    address: String,
    _storage: tempfile::TempDir,
}

impl Distribution {
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// The same, serving HTTPS with a self-signed certificate for 127.0.0.1 (for
    /// `--allow-insecure-registry`).
    pub fn start_tls() -> Self {
        Self::start_with(true)
    }

    /// The same, serving HTTPS with the given certificate and key, and asking clients for a
    /// certificate issued by `client_ca` when given (mutual TLS).
    pub fn start_with_certificate(
        certificate: &Path,
        key: &Path,
        client_ca: Option<&Path>,
    ) -> Self {
        let client_cas = client_ca
            .map(|ca| format!(", clientcas: [{}]", ca.display()))
            .unwrap_or_default();
        Self::start_configured(Some(format!(
            ", tls: {{certificate: {}, key: {}{client_cas}}}",
            certificate.display(),
            key.display()
        )))
    }

    fn start_with(tls: bool) -> Self {
        Self::start_configured(tls.then(String::new))
    }

    /// `tls`: `None` for plain HTTP, `Some("")` for a self-signed certificate, or the config's
    /// `, tls: {...}` part.
    fn start_configured(tls: Option<String>) -> Self {
        let program = which("docker-registry").unwrap_or_else(|| {
            panic!("docker-registry not found on PATH: run `scripts/install-peers.sh` (or `scripts/test.sh`, which installs it)")
        });
        let storage = tempfile::Builder::new()
            .prefix("cosign-rs-registry-")
            .tempdir()
            .expect("registry storage");
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let config = storage.path().join("config.yml");
        let is_tls = tls.is_some();
        let tls_config = match tls {
            Some(given) if given.is_empty() => {
                let (certificate, key) = self_signed_certificate(storage.path());
                format!(
                    ", tls: {{certificate: {}, key: {}}}",
                    certificate.display(),
                    key.display()
                )
            }
            Some(given) => given,
            None => String::new(),
        };
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog: {{level: error, accesslog: {{disabled: true}}}}\nstorage: {{filesystem: {{rootdirectory: {}}}, delete: {{enabled: true}}}}\nhttp: {{addr: \"{address}\", secret: test{tls_config}}}\n",
                storage.path().join("data").display()
            ),
        )
        .expect("registry config");
        let child = Command::new(program)
            .args(["serve", &config.to_string_lossy()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting docker-registry");
        let registry = Self {
            child,
            address,
            _storage: storage,
        };
        wait_for_registry(&registry.address, "docker-registry", is_tls);
        registry
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Pushes a new single-layer image of random content with crane and returns
    /// `(reference by tag, digest)`.
    pub fn push_random_image(
        &self,
        scratch: &Scratch,
        repository_and_tag: &str,
    ) -> (String, String) {
        push_random_image(scratch, &self.address, repository_and_tag)
    }
}

/// A test CA (`ca.crt`, `ca.key` in `scratch`, made on first use), and a P-256 certificate it
/// issued for `subject_alt_name` (`IP:127.0.0.1`, `DNS:...`) with the extended key usage
/// `usage` (`serverAuth`, `clientAuth`): `(scratch/NAME.crt, scratch/NAME.key)`.
pub fn issue_certificate(
    scratch: &Scratch,
    name: &str,
    subject_alt_name: &str,
    usage: &str,
) -> (PathBuf, PathBuf) {
    let openssl = |arguments: &[&str]| {
        scratch.command("openssl").args(arguments).run().success();
    };
    if !scratch.join("ca.crt").exists() {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ]);
    }
    let (key, request, certificate, extensions) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.crt"),
        format!("{name}.ext"),
    );
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        &format!("/CN={name}"),
        "-keyout",
        &key,
        "-out",
        &request,
    ]);
    scratch.write(
        &extensions,
        format!("subjectAltName={subject_alt_name}\nextendedKeyUsage={usage}\nbasicConstraints=CA:FALSE\n"),
    );
    openssl(&[
        "x509",
        "-req",
        "-in",
        &request,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        &extensions,
        "-out",
        &certificate,
    ]);
    (scratch.join(certificate), scratch.join(key))
}

/// The lab's SBOM, `sbom.cdx.json` in `scratch`: syft reads the sample image's layout offline.
pub fn sample_sbom(scratch: &Scratch) {
    let sample = repository_root().join("examples/sample-image");
    let run = scratch
        .command(Peer::Syft.path())
        .args([
            &format!("oci-dir:{}", sample.display()),
            "-o",
            "cyclonedx-json=sbom.cdx.json",
            "-q",
        ])
        .run()
        .success();
    assert!(scratch.join("sbom.cdx.json").exists(), "{}", run.stderr);
}

/// A self-signed P-256 certificate for `127.0.0.1` (and `localhost`), made by OpenSSL in `dir`:
/// `(dir/tls.crt, dir/tls.key)`.
pub fn self_signed_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (certificate, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("running openssl");
    assert!(status.success(), "openssl could not make a certificate");
    (certificate, key)
}

/// Pushes a new single-layer image of random content to the registry at `address` with crane
/// and returns `(reference by tag, digest)`.
pub fn push_random_image(
    scratch: &Scratch,
    address: &str,
    repository_and_tag: &str,
) -> (String, String) {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let unique = format!(
        "{:?}-{}-{}-{repository_and_tag}\n",
        std::time::SystemTime::now(),
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let content = unique.repeat(16);
    let name = format!("layer-{}", repository_and_tag.replace(['/', ':'], "-"));
    scratch.write(&name, &content);
    scratch
        .command("tar")
        .args(["cf", &format!("{name}.tar"), &name])
        .run()
        .success();
    let reference = format!("{address}/{repository_and_tag}");
    scratch
        .command(Peer::Crane.path())
        .args([
            "append",
            "-f",
            &format!("{name}.tar"),
            "-t",
            &reference,
            "--insecure",
        ])
        .run()
        .success();
    let digest = scratch
        .command(Peer::Crane.path())
        .args(["digest", &reference, "--insecure"])
        .run()
        .success()
        .stdout
        .trim()
        .to_owned();
    (reference, digest)
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a registry answers a plain `GET /v2/` with once it is up.
#[derive(Debug, Clone, Copy)]
enum WaitFor {
    Ok,
    Unauthorized,
    /// A TLS port answering plain HTTP with a 400.
    PlainRefusal,
}

fn wait_for_registry(address: &str, name: &str, tls: bool) {
    wait_for(
        address,
        name,
        if tls {
            WaitFor::PlainRefusal
        } else {
            WaitFor::Ok
        },
    );
}

/// Waits up to 20 s for a registry on `address` to answer `GET /v2/` as `ready` says.
fn wait_for(address: &str, name: &str, ready: WaitFor) {
    use std::io::Read as _;
    let wanted: &[&str] = match ready {
        WaitFor::PlainRefusal => &["HTTP/1.0 400"],
        WaitFor::Ok => &["HTTP/1.0 200", "HTTP/1.1 200"],
        WaitFor::Unauthorized => &["HTTP/1.0 401", "HTTP/1.1 401"],
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(address) {
            let request = format!("GET /v2/ HTTP/1.0\r\nHost: {address}\r\n\r\n");
            if stream.write_all(request.as_bytes()).is_ok() {
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                if wanted.iter().any(|prefix| answer.starts_with(prefix)) {
                    return;
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{name} did not answer on {address} within 20 s");
}

/// `der` as a PEM block labelled `label` (64 base64 characters a line).
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .filter_map(|chunk| std::str::from_utf8(chunk).ok())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_string_lossy()
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|candidate| candidate.is_file())
}

/// `cosign registry serve` (ours) on a free loopback port, with `--storage DIR` (a scratch
/// directory of its own when none is given, so nothing is left behind when it is killed);
/// stopped when dropped.
#[derive(Debug)]
pub struct EmbeddedRegistry {
    child: std::process::Child,
    address: String,
    credentials: Option<(String, String)>,
    certificate: Option<PathBuf>,
    _files: tempfile::TempDir,
}

/// How to start [`EmbeddedRegistry`]: over TLS, behind basic auth.
#[derive(Debug, Default)]
pub struct EmbeddedOptions<'a> {
    pub storage: Option<&'a Path>,
    /// Require this user and password (an htpasswd file with their bcrypt hash).
    pub credentials: Option<(&'a str, &'a str)>,
    /// Serve HTTPS with a self-signed certificate for 127.0.0.1.
    pub tls: bool,
    /// `--client-timeout SECONDS`.
    pub client_timeout: Option<u64>,
}

impl EmbeddedRegistry {
    pub fn start(cosign: &Path, storage: Option<&Path>) -> Self {
        Self::start_with(
            cosign,
            EmbeddedOptions {
                storage,
                ..EmbeddedOptions::default()
            },
        )
    }

    pub fn start_with(cosign: &Path, options: EmbeddedOptions<'_>) -> Self {
        let files = tempfile::Builder::new()
            .prefix("cosign-rs-embedded-")
            .tempdir()
            .expect("registry files");
        let address = format!("127.0.0.1:{}", free_port());
        let mut command = Command::new(cosign);
        command.args(["registry", "serve", "--address", &address, "--storage"]);
        match options.storage {
            Some(dir) => command.arg(dir),
            None => command.arg(files.path().join("storage")),
        };
        if let Some((user, password)) = options.credentials {
            let hash = bcrypt::hash(password, 4).expect("bcrypt");
            let htpasswd = files.path().join("htpasswd");
            std::fs::write(&htpasswd, format!("{user}:{hash}\n")).expect("htpasswd");
            command.arg("--htpasswd").arg(htpasswd);
        }
        if let Some(seconds) = options.client_timeout {
            command.args(["--client-timeout", &seconds.to_string()]);
        }
        let certificate = options.tls.then(|| {
            let (certificate, key) = self_signed_certificate(files.path());
            command
                .arg("--tls-cert")
                .arg(&certificate)
                .arg("--tls-key")
                .arg(key);
            certificate
        });
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting cosign registry serve");
        let registry = Self {
            child,
            address,
            credentials: options
                .credentials
                .map(|(user, password)| (user.to_owned(), password.to_owned())),
            certificate,
            _files: files,
        };
        let ready = if options.tls {
            WaitFor::PlainRefusal
        } else if options.credentials.is_some() {
            WaitFor::Unauthorized
        } else {
            WaitFor::Ok
        };
        wait_for(&registry.address, "cosign registry serve", ready);
        registry
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The user and password it requires, if any.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(user, password)| (user.as_str(), password.as_str()))
    }

    /// The certificate it serves (self-signed: the CA to trust), if it serves TLS.
    pub fn certificate(&self) -> Option<&Path> {
        self.certificate.as_deref()
    }

    pub fn push_random_image(
        &self,
        scratch: &Scratch,
        repository_and_tag: &str,
    ) -> (String, String) {
        push_random_image(scratch, &self.address, repository_and_tag)
    }

    /// Stops the server abruptly (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for EmbeddedRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
