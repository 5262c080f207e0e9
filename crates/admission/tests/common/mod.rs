//! What the webhook's tests share: the webhook started on a free port with a self-signed
//! certificate for 127.0.0.1, requests to it with curl, images signed by the real cosign 3.1,
//! policies.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cosign_testkit::{self_signed_certificate, Distribution, Peer, Run, Scratch};

pub struct Server {
    child: Child,
    pub address: String,
}

impl Server {
    /// Sends SIGTERM, as Kubernetes does to a pod it stops.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Its exit status, if it exits within `limit`.
    pub fn exit_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `PATH` with the real `cue` first (CUE policies run it, as cosign's do).
pub fn path_with_cue() -> std::ffi::OsString {
    let cue = Peer::Cue.path();
    let mut paths = vec![cue.parent().unwrap().to_owned()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn start(scratch: &Scratch) -> Server {
    start_with(scratch, &[], &[])
}

/// [`start`] with more arguments to `serve`, and curl's to check it is up.
pub fn start_with(scratch: &Scratch, serve_args: &[&str], curl_args: &[&str]) -> Server {
    let (certificate, key) = self_signed_certificate(scratch.path());
    assert!(certificate.ends_with("tls.crt"));
    let address = format!("127.0.0.1:{}", free_port());
    let mut command = Command::new(env!("CARGO_BIN_EXE_policy-controller"));
    command
        .args(["serve", "--address", &address])
        .arg("--tls-cert")
        .arg(&certificate)
        .arg("--tls-key")
        .arg(&key);
    if !serve_args.contains(&"--kubernetes") {
        command.arg("--policy").arg(scratch.join("policy.yaml"));
    }
    // `bin` of the scratch directory first: programs a test puts there (a credential helper).
    let mut paths = vec![scratch.join("bin")];
    paths.extend(std::env::split_paths(&path_with_cue()));
    let child = command
        .args(serve_args)
        .env("PATH", std::env::join_paths(paths).unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting policy-controller serve");
    let server = Server { child, address };
    let deadline = Instant::now() + Duration::from_secs(20);
    while curl_with(scratch, &server, "GET", "/healthz", None, curl_args).0 != 200 {
        assert!(Instant::now() < deadline, "the webhook did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// `(status, body)` of a request to the webhook, trusting its certificate.
pub fn curl(
    scratch: &Scratch,
    server: &Server,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, String) {
    curl_with(scratch, server, method, path, body, &[])
}

/// [`curl`] with more arguments (a client certificate).
pub fn curl_with(
    scratch: &Scratch,
    server: &Server,
    method: &str,
    path: &str,
    body: Option<&str>,
    extra: &[&str],
) -> (u16, String) {
    let mut command = Command::new("curl");
    command
        .args(["-s", "-o", "-", "-w", "\n%{http_code}", "--cacert"])
        .arg(scratch.join("tls.crt"))
        .args(extra)
        .args(["-X", method]);
    if let Some(body) = body {
        // From a file: a body may be larger than one argument can be.
        let file = scratch.write("request.json", body);
        command
            .args(["-H", "Content-Type: application/json", "--data-binary"])
            .arg(format!("@{}", file.display()));
    }
    let output = command
        .arg(format!("https://{}{path}", server.address))
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (status.trim().parse().unwrap_or(0), body.to_owned())
}

pub fn policy(glob: &str, key: &str, mode: &str) -> String {
    let indented: String = key
        .lines()
        .map(|line| format!("        {line}\n"))
        .collect();
    format!(
        "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata:\n  name: lab\nspec:\n  mode: {mode}\n  images:\n  - glob: \"{glob}\"\n  authorities:\n  - name: lab-key\n    key:\n      data: |\n{indented}"
    )
}

/// A registry with `lab/signed:1.0` signed by cosign 3.1 (legacy `.sig`, key `signer.key` in
/// `scratch`) and `lab/unsigned:1.0`: the registry, and each image by tag and by digest.
pub struct Images {
    pub registry: Distribution,
    pub signed: String,
    pub signed_pinned: String,
    pub unsigned_pinned: String,
    pub key: String,
}

/// `<prefix>.key` and `<prefix>.pub` in `scratch`, made by cosign 3.1 (password `pw`).
pub fn key_pair(scratch: &Scratch, prefix: &str) {
    scratch
        .command(Peer::Cosign3.path())
        .args(["generate-key-pair", "--output-key-prefix", prefix])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
}

/// `policy-controller test --policy policy.yaml --image IMAGE`, `policy` written there first.
pub fn tester(scratch: &Scratch, policy: &str, image: &str) -> cosign_testkit::Run {
    scratch.write("policy.yaml", policy);
    scratch
        .command(env!("CARGO_BIN_EXE_policy-controller"))
        .args(["test", "--policy", "policy.yaml", "--image", image])
        .env("PATH", path_with_cue())
        .run()
}

pub fn signed_images(scratch: &Scratch) -> Images {
    let registry = Distribution::start();
    let (signed, signed_digest) = registry.push_random_image(scratch, "lab/signed:1.0");
    let (unsigned, unsigned_digest) = registry.push_random_image(scratch, "lab/unsigned:1.0");
    key_pair(scratch, "signer");
    scratch
        .command(Peer::Cosign3.path())
        .args(["sign", "--key", "signer.key", "--tlog-upload=false"])
        .args(["--use-signing-config=false", "--new-bundle-format=false"])
        .args(["--allow-http-registry", "-y", &signed])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    let by_digest =
        |image: &str, digest: &str| format!("{}@{digest}", image.rsplit_once(':').unwrap().0);
    Images {
        signed_pinned: by_digest(&signed, &signed_digest),
        unsigned_pinned: by_digest(&unsigned, &unsigned_digest),
        signed,
        key: String::from_utf8(scratch.read("signer.pub")).unwrap(),
        registry,
    }
}

/// The two webhook configurations (mutating then validating, as policy-controller installs
/// them): pods and pod templates, in namespaces labelled `policy.sigstore.dev/include: "true"`.
/// Two namespaces: `lab` (opted in) and `other`.
pub fn configurations(
    address: &str,
    ca_bundle: &str,
    failure_policy: &str,
    timeout: u32,
) -> String {
    let webhook = |kind: &str, path: &str| {
        format!(
            r#"apiVersion: admissionregistration.k8s.io/v1
kind: {kind}
metadata: {{name: policy.sigstore.dev}}
webhooks:
- name: policy.sigstore.dev
  clientConfig: {{url: "https://{address}{path}", caBundle: "{ca_bundle}"}}
  rules:
  - {{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"]}}
  - {{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["deployments", "replicasets", "statefulsets", "daemonsets"]}}
  - {{apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["jobs", "cronjobs"]}}
  namespaceSelector: {{matchLabels: {{policy.sigstore.dev/include: "true"}}}}
  failurePolicy: {failure_policy}
  timeoutSeconds: {timeout}
  sideEffects: None
  admissionReviewVersions: ["v1"]
"#
        )
    };
    format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: lab\n  labels: {{policy.sigstore.dev/include: \"true\"}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: other}}\n---\n{}---\n{}",
        webhook("MutatingWebhookConfiguration", "/mutate"),
        webhook("ValidatingWebhookConfiguration", "/validate")
    )
}

pub fn pod_spec(containers: &[&str], init: &[&str]) -> String {
    let list = |name: &str, images: &[&str]| {
        if images.is_empty() {
            return String::new();
        }
        let items: String = images
            .iter()
            .enumerate()
            .map(|(index, image)| format!("  - {{name: c{index}, image: \"{image}\"}}\n"))
            .collect();
        format!("{name}:\n{items}")
    };
    format!(
        "{}{}",
        list("containers", containers),
        list("initContainers", init)
    )
}

pub fn indent(text: &str, spaces: usize) -> String {
    text.lines()
        .map(|line| format!("{}{line}\n", " ".repeat(spaces)))
        .collect()
}

pub fn pod(namespace: &str, containers: &[&str], init: &[&str]) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: app, namespace: {namespace}}}\nspec:\n{}",
        indent(&pod_spec(containers, init), 2)
    )
}

pub fn admit(scratch: &Scratch, config: &str, object: &str, resource: &str) -> Run {
    scratch.write("webhooks.yaml", config);
    scratch.write("object.yaml", object);
    scratch
        .command(Peer::K8sAdmit.path())
        .args(["-config", "webhooks.yaml", "-object", "object.yaml"])
        .args(["-resource", resource])
        .run()
}

/// Our `cosign`, built beside this package's binary (`cargo test --workspace` builds it; it
/// is built here when it is not).
pub fn ours() -> std::path::PathBuf {
    let path =
        std::path::Path::new(env!("CARGO_BIN_EXE_policy-controller")).with_file_name("cosign");
    if !path.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--locked", "-p", "cosign", "--bin", "cosign"])
            .status()
            .expect("cargo build -p cosign");
        assert!(status.success(), "building our cosign");
    }
    path
}
