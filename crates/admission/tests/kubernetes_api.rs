//! `serve --kubernetes`: policies from the Kubernetes API. A stand-in API server (list and
//! watch of `clusterimagepolicies` and `trustroots` as the API server streams them, Secrets,
//! bearer-token authentication) holds a ClusterImagePolicy whose key is a `secretRef`; the
//! webhook is ready once it has listed both kinds, allows the image cosign 3.1 signed with that
//! key, and follows the policy as it is changed (another key: denied) and deleted (uncovered).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{curl, key_pair, signed_images};
use cosign_testkit::Scratch;

const TOKEN: &str = "test-token";
const POLICIES: &str = "/apis/policy.sigstore.dev/v1beta1/clusterimagepolicies";
const TRUST_ROOTS: &str = "/apis/policy.sigstore.dev/v1alpha1/trustroots";

#[derive(Default)]
struct State {
    resource_version: u64,
    /// Objects by collection path, then name.
    objects: HashMap<&'static str, HashMap<String, serde_json::Value>>,
    secrets: HashMap<String, serde_json::Value>,
    watchers: Vec<(&'static str, mpsc::Sender<String>)>,
    requests: Vec<String>,
}

/// The stand-in API server (plain HTTP on loopback, one thread a connection).
struct FakeApi {
    address: String,
    state: Arc<Mutex<State>>,
}

impl FakeApi {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Self { address, state }
    }

    /// Adds or replaces an object of `collection`, telling the watchers.
    fn put(&self, collection: &'static str, mut object: serde_json::Value) {
        let mut state = self.state.lock().unwrap();
        state.resource_version += 1;
        object["metadata"]["resourceVersion"] = state.resource_version.to_string().into();
        let name = object["metadata"]["name"].as_str().unwrap().to_owned();
        let kind = if state
            .objects
            .entry(collection)
            .or_default()
            .insert(name, object.clone())
            .is_some()
        {
            "MODIFIED"
        } else {
            "ADDED"
        };
        notify(&mut state, collection, kind, object);
    }

    fn delete(&self, collection: &'static str, name: &str) {
        let mut state = self.state.lock().unwrap();
        state.resource_version += 1;
        let mut object = state
            .objects
            .entry(collection)
            .or_default()
            .remove(name)
            .unwrap();
        object["metadata"]["resourceVersion"] = state.resource_version.to_string().into();
        notify(&mut state, collection, "DELETED", object);
    }

    fn put_secret(&self, namespace: &str, name: &str, key: &str, value: &[u8]) {
        let secret = serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "data": {key: base64::engine::general_purpose::STANDARD.encode(value)},
        });
        self.state.lock().unwrap().secrets.insert(
            format!("/api/v1/namespaces/{namespace}/secrets/{name}"),
            secret,
        );
    }
}

fn notify(state: &mut State, collection: &str, kind: &str, object: serde_json::Value) {
    let line = format!("{}\n", serde_json::json!({"type": kind, "object": object}));
    state
        .watchers
        .retain(|(watched, sender)| *watched != collection || sender.send(line.clone()).is_ok());
}

fn respond(stream: &mut TcpStream, status: &str, body: &serde_json::Value) {
    let body = body.to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn serve(mut stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut authorized = false;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if header.to_ascii_lowercase().trim() == format!("authorization: bearer {TOKEN}") {
            authorized = true;
        }
    }
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    state.lock().unwrap().requests.push(target.clone());
    let not_found = serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404});
    if !authorized {
        respond(
            &mut stream,
            "401 Unauthorized",
            &serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 401}),
        );
        return;
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    if path.starts_with("/api/v1/namespaces/") && path.contains("/secrets/") {
        let secret = state.lock().unwrap().secrets.get(path).cloned();
        match secret {
            Some(secret) => respond(&mut stream, "200 OK", &secret),
            None => respond(&mut stream, "404 Not Found", &not_found),
        }
        return;
    }
    let collection = match path {
        POLICIES => POLICIES,
        TRUST_ROOTS => TRUST_ROOTS,
        _ => return respond(&mut stream, "404 Not Found", &not_found),
    };
    if query.split('&').any(|pair| pair == "watch=true") {
        let (sender, events) = mpsc::channel();
        state.lock().unwrap().watchers.push((collection, sender));
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        let _ = stream.flush();
        // Events until the watcher goes away (or a quiet minute).
        while let Ok(line) = events.recv_timeout(Duration::from_secs(60)) {
            if write!(stream, "{:x}\r\n{line}\r\n", line.len()).is_err() || stream.flush().is_err()
            {
                return;
            }
        }
        let _ = write!(stream, "0\r\n\r\n");
        return;
    }
    let state = state.lock().unwrap();
    let (api_version, kind) = if collection == POLICIES {
        ("policy.sigstore.dev/v1beta1", "ClusterImagePolicyList")
    } else {
        ("policy.sigstore.dev/v1alpha1", "TrustRootList")
    };
    let items: Vec<serde_json::Value> = state
        .objects
        .get(collection)
        .map(|objects| objects.values().cloned().collect())
        .unwrap_or_default();
    respond(
        &mut stream,
        "200 OK",
        &serde_json::json!({
            "apiVersion": api_version, "kind": kind,
            "metadata": {"resourceVersion": state.resource_version.max(1).to_string()},
            "items": items,
        }),
    );
}

fn cluster_image_policy(glob: &str, key: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "policy.sigstore.dev/v1beta1",
        "kind": "ClusterImagePolicy",
        "metadata": {"name": "lab"},
        "spec": {"images": [{"glob": glob}], "authorities": [{"name": "release", "key": key}]},
    })
}

fn review(image: &str) -> String {
    review_with_pull_secrets(image, &[])
}

fn review_with_pull_secrets(image: &str, pull_secrets: &[&str]) -> String {
    let pull_secrets: Vec<serde_json::Value> = pull_secrets
        .iter()
        .map(|name| serde_json::json!({"name": name}))
        .collect();
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": "lab", "operation": "CREATE",
            "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app", "namespace": "lab"}, "spec": {"imagePullSecrets": pull_secrets, "containers": [{"name": "app", "image": image}]}},
        }
    })
    .to_string()
}

/// The webhook with `--kubernetes` against `api` (and `extra` arguments), once it is ready.
fn start_on(scratch: &Scratch, api: &FakeApi, extra: &[&str]) -> common::Server {
    scratch.write("token", TOKEN);
    let url = format!("http://{}", api.address);
    let token = scratch.join("token").display().to_string();
    let mut arguments = vec![
        "--kubernetes",
        "--kube-api-url",
        &url,
        "--kube-token-file",
        &token,
        "--namespace",
        "cosign-system",
    ];
    arguments.extend_from_slice(extra);
    let server = common::start_with(scratch, &arguments, &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while curl(scratch, &server, "GET", "/readyz", None).0 != 200 {
        assert!(Instant::now() < deadline, "never ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// Waits until `allowed(image)` is `want`, within 20 s.
fn until_allowed(scratch: &Scratch, server: &common::Server, image: &str, want: bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, text) = curl(scratch, server, "POST", "/validate", Some(&review(image)));
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if status == 200 && answer["response"]["allowed"] == want {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "still not {want}: {status} {text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn policies_and_secrets_come_from_the_kubernetes_api_and_follow_its_changes() {
    let scratch = Scratch::new();
    let images = signed_images(&scratch);
    key_pair(&scratch, "other");
    let other = String::from_utf8(scratch.read("other.pub")).unwrap();
    let glob = format!("{}/lab/**", images.registry.address());
    let api = FakeApi::start();
    api.put_secret(
        "cosign-system",
        "release-key",
        "cosign.pub",
        images.key.as_bytes(),
    );
    api.put(
        POLICIES,
        cluster_image_policy(
            &glob,
            serde_json::json!({"secretRef": {"name": "release-key"}}),
        ),
    );
    let server = start_on(&scratch, &api, &[]);
    // The key from the Secret: the signed image passes, the unsigned one does not.
    until_allowed(&scratch, &server, &images.signed_pinned, true);
    let denied = until_allowed(&scratch, &server, &images.unsigned_pinned, false);
    assert!(denied.contains("failed policy: lab"), "{denied}");
    // The policy changed to another key (inline): the signed image is refused.
    api.put(
        POLICIES,
        cluster_image_policy(&glob, serde_json::json!({"data": other})),
    );
    let denied = until_allowed(&scratch, &server, &images.signed_pinned, false);
    assert!(
        denied.contains("signature key validation failed for authority release"),
        "{denied}"
    );
    // Deleted: the image is covered by no policy.
    api.delete(POLICIES, "lab");
    let denied = until_allowed(&scratch, &server, &images.signed_pinned, false);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut denied = denied;
    while !denied.contains("uncovered by policy") && !denied.contains("no matching policies") {
        assert!(Instant::now() < deadline, "{denied}");
        std::thread::sleep(Duration::from_millis(200));
        denied = until_allowed(&scratch, &server, &images.signed_pinned, false);
    }
    // Every request carried the token; both kinds were listed and watched.
    let requests = api.state.lock().unwrap().requests.clone();
    for path in [POLICIES, TRUST_ROOTS] {
        assert!(
            requests
                .iter()
                .any(|r| r.starts_with(path) && r.contains("watch=true")),
            "{requests:?}"
        );
    }
    assert!(
        requests.iter().any(|r| r.ends_with("/secrets/release-key")),
        "{requests:?}"
    );
}

/// A pod's `imagePullSecrets` (read from its namespace through the API server) open a private
/// registry for the webhook, which has no credentials of its own; a credential helper named in
/// such a secret is never run.
#[test]
fn a_pods_pull_secrets_open_a_private_registry() {
    let scratch = Scratch::new();
    let registry = cosign_testkit::EmbeddedRegistry::start_with(
        &common::ours(),
        cosign_testkit::EmbeddedOptions {
            credentials: Some(("puller", "s3cret")),
            ..Default::default()
        },
    );
    let address = registry.address().to_owned();
    let auth = base64::engine::general_purpose::STANDARD.encode("puller:s3cret");
    let config = format!(r#"{{"auths":{{"{address}":{{"auth":"{auth}"}}}}}}"#);
    std::fs::create_dir_all(scratch.join(".docker")).unwrap();
    scratch.write(".docker/config.json", &config);
    let (image, digest) = registry.push_random_image(&scratch, "private/app:1.0");
    key_pair(&scratch, "signer");
    scratch
        .command(cosign_testkit::Peer::Cosign3.path())
        .args(["sign", "--key", "signer.key", "--tlog-upload=false"])
        .args(["--use-signing-config=false", "--new-bundle-format=false"])
        .args(["--allow-http-registry", "-y", &image])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    let pinned = format!("{address}/private/app@{digest}");
    let key = String::from_utf8(scratch.read("signer.pub")).unwrap();
    let api = FakeApi::start();
    api.put(
        POLICIES,
        cluster_image_policy(
            &format!("{address}/private/**"),
            serde_json::json!({"data": key}),
        ),
    );
    api.put_secret("lab", "regcred", ".dockerconfigjson", config.as_bytes());
    // A secret that names a credential helper: its `auths` (none) only.
    api.put_secret(
        "lab",
        "helper",
        ".dockerconfigjson",
        br#"{"auths":{},"credsStore":"cosign-rs-test-never-run"}"#,
    );
    // The helper it names would hand out the right credentials, and leave a mark.
    std::fs::create_dir_all(scratch.join("bin")).unwrap();
    let marker = scratch.join("helper-ran");
    let helper = scratch.write(
        "bin/docker-credential-cosign-rs-test-never-run",
        format!(
            "#!/bin/sh\ntouch '{}'\necho '{{\"Username\":\"puller\",\"Secret\":\"s3cret\"}}'\n",
            marker.display()
        ),
    );
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let server = start_on(&scratch, &api, &["--cache-ttl", "0"]);
    let answer = |pull_secrets: &[&str]| {
        let (status, text) = curl(
            &scratch,
            &server,
            "POST",
            "/validate",
            Some(&review_with_pull_secrets(&pinned, pull_secrets)),
        );
        assert_eq!(status, 200, "{text}");
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["response"].clone()
    };
    let allowed = answer(&["regcred"]);
    assert_eq!(allowed["allowed"], true, "{allowed}");
    for pull_secrets in [&[][..], &["helper"][..], &["missing"][..]] {
        let denied = answer(pull_secrets);
        assert_eq!(denied["allowed"], false, "{pull_secrets:?}: {denied}");
    }
    assert!(
        !marker.exists(),
        "a pull secret's credential helper was run"
    );
    let requests = api.state.lock().unwrap().requests.clone();
    assert!(
        requests
            .iter()
            .any(|r| r == "/api/v1/namespaces/lab/secrets/regcred"),
        "{requests:?}"
    );
}
