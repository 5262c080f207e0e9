//! `policy-controller serve` answering AdmissionReviews over HTTPS (sent with curl, trusting
//! the webhook's CA): images signed by the real cosign 3.1 on a real distribution registry are
//! allowed, tags are resolved to digests by a JSONPatch, unsigned images in any container kind
//! of a Pod, a Deployment or a CronJob are denied naming the image and the authority; `warn`
//! mode allows with warnings (and the policy file is read again when it changes); a registry
//! that does not answer gives an error before the API server's timeout.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{curl, policy, signed_images, start, Server};
use cosign_testkit::Scratch;

fn review(kind: &str, object: serde_json::Value) -> String {
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": {"group": "", "version": "v1", "kind": kind},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": "lab",
            "operation": "CREATE",
            "object": object,
        }
    })
    .to_string()
}

fn pod(containers: &[&str], init: &[&str]) -> serde_json::Value {
    let list = |images: &[&str]| {
        images
            .iter()
            .enumerate()
            .map(|(index, image)| serde_json::json!({"name": format!("c{index}"), "image": image}))
            .collect::<Vec<_>>()
    };
    serde_json::json!({"containers": list(containers), "initContainers": list(init)})
}

fn answer(scratch: &Scratch, server: &Server, path: &str, body: &str) -> serde_json::Value {
    let (status, text) = curl(scratch, server, "POST", path, Some(body));
    assert_eq!(status, 200, "{text}");
    let review: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        review["response"]["uid"],
        "705ab4f5-6393-11e8-b7cc-42010a800002"
    );
    review["response"].clone()
}

#[test]
fn admission_reviews_of_pods_deployments_and_cronjobs() {
    let scratch = Scratch::new();
    let images = signed_images(&scratch);
    let (registry, signed, key) = (&images.registry, &images.signed, &images.key);
    let (signed_pinned, unsigned_pinned) = (&images.signed_pinned, &images.unsigned_pinned);
    let glob = format!("{}/lab/**", registry.address());
    scratch.write("policy.yaml", policy(&glob, key, "enforce"));
    let server = start(&scratch);
    // Mutation: the tag resolved to its digest, as a JSONPatch.
    let response = answer(
        &scratch,
        &server,
        "/mutate",
        &review("Pod", serde_json::json!({"spec": pod(&[signed], &[])})),
    );
    assert_eq!(response["allowed"], true);
    assert_eq!(response["patchType"], "JSONPatch");
    let patch: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(response["patch"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        patch,
        serde_json::json!([{"op": "replace", "path": "/spec/containers/0/image", "value": signed_pinned}])
    );
    // Validation: the signed digest is allowed; a tag is refused (mutation comes first).
    let response = answer(
        &scratch,
        &server,
        "/validate",
        &review(
            "Pod",
            serde_json::json!({"spec": pod(&[signed_pinned], &[])}),
        ),
    );
    assert_eq!(response["allowed"], true, "{response}");
    let response = answer(
        &scratch,
        &server,
        "/validate",
        &review("Pod", serde_json::json!({"spec": pod(&[signed], &[])})),
    );
    assert_eq!(response["allowed"], false);
    assert!(response["status"]["message"]
        .as_str()
        .unwrap()
        .contains("must be an image digest"));
    // An unsigned image, in a pod, as a Deployment's init container, in a CronJob: denied,
    // naming the field, the image and the authority.
    let deployment = serde_json::json!({"spec": {"template": {"spec": pod(&[signed_pinned], &[unsigned_pinned])}}});
    let cronjob = serde_json::json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": pod(&[unsigned_pinned], &[])}}}}});
    for (kind, object, field) in [
        (
            "Pod",
            serde_json::json!({"spec": pod(&[unsigned_pinned], &[])}),
            "spec.containers[0].image",
        ),
        (
            "Deployment",
            deployment,
            "spec.template.spec.initContainers[0].image",
        ),
        (
            "CronJob",
            cronjob,
            "spec.jobTemplate.spec.template.spec.containers[0].image",
        ),
    ] {
        let response = answer(&scratch, &server, "/validate", &review(kind, object));
        assert_eq!(response["allowed"], false, "{kind}");
        assert_eq!(response["status"]["code"], 400);
        let message = response["status"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{field}: {unsigned_pinned}: failed policy: lab: signature key validation failed for authority lab-key")),
            "{kind}: {message}"
        );
    }
    // The reviews so far, counted: one mutation allowed; four validations denied (a tag, then the
    // unsigned image in a Pod, a Deployment and a CronJob).
    let (status, metrics) = curl(&scratch, &server, "GET", "/metrics", None);
    assert_eq!(status, 200);
    assert!(
        metrics.contains("policy_controller_admission_reviews_total{endpoint=\"/mutate\",verdict=\"allowed\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("policy_controller_admission_reviews_total{endpoint=\"/validate\",verdict=\"denied\"} 4\n"),
        "{metrics}"
    );
    // Warn mode (the file read again when it changes): allowed, with the failure as a warning.
    scratch.write("policy.yaml", policy(&glob, key, "warn"));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = answer(
            &scratch,
            &server,
            "/validate",
            &review(
                "Pod",
                serde_json::json!({"spec": pod(&[unsigned_pinned], &[])}),
            ),
        );
        if response["allowed"] == true {
            assert!(
                response["warnings"][0]
                    .as_str()
                    .unwrap()
                    .contains("failed policy: lab"),
                "{response}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the policy file was not read again"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_registry_that_does_not_answer_is_an_error_before_the_timeout() {
    // A "registry" that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_address = silent.local_addr().unwrap().to_string();
    let scratch = Scratch::new();
    scratch.write(
        "policy.yaml",
        policy("**", "", "enforce").replace(
            "    key:\n      data: |\n",
            "    static:\n      action: pass\n",
        ),
    );
    let server = start(&scratch);
    let image = format!("{silent_address}/lab/app:1.0");
    let started = Instant::now();
    let (status, body) = curl(
        &scratch,
        &server,
        "POST",
        "/mutate?timeout=2s",
        Some(&review(
            "Pod",
            serde_json::json!({"spec": pod(&[&image], &[])}),
        )),
    );
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("could not be verified within"), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    drop(silent);
}

#[test]
fn hostile_reviews_are_refused_or_answered_within_bounds() {
    let scratch = Scratch::new();
    scratch.write(
        "policy.yaml",
        "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: all}\nspec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: pass}}]\n",
    );
    let server = start(&scratch);
    // Not an AdmissionReview, another version, no request: 400, and the webhook lives on.
    for body in [
        "not json".to_owned(),
        r#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}}"#
            .to_owned(),
        r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_owned(),
    ] {
        let (status, text) = curl(&scratch, &server, "POST", "/validate", Some(&body));
        assert_eq!(status, 400, "{body}: {text}");
    }
    // A review over the 4 MiB cap: refused without being kept.
    let huge = format!(
        r#"{{"apiVersion":"admission.k8s.io/v1","padding":"{}"}}"#,
        "x".repeat(5 * 1024 * 1024)
    );
    let (status, text) = curl(&scratch, &server, "POST", "/validate", Some(&huge));
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("larger than"), "{text}");
    // Unknown paths and methods: 404.
    assert_eq!(curl(&scratch, &server, "GET", "/validate", None).0, 404);
    assert_eq!(
        curl(&scratch, &server, "GET", "/../etc/passwd", None).0,
        404
    );
    // Thousands of containers naming one image: judged once, answered at once.
    let image = format!("127.0.0.1:9/lab/app@sha256:{}", "1".repeat(64));
    let many: Vec<&str> = vec![image.as_str(); 5000];
    let started = Instant::now();
    let response = answer(
        &scratch,
        &server,
        "/validate",
        &review("Pod", serde_json::json!({"spec": pod(&many, &[])})),
    );
    assert_eq!(response["allowed"], true, "{response}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(curl(&scratch, &server, "GET", "/healthz", None).0, 200);
}

/// An allowed image is not verified again while its verdict is fresh: with the registry gone,
/// the same pod is still allowed; once the policies change, it is verified again (and, with the
/// registry gone, denied).
#[test]
fn allowed_images_are_cached_until_the_policies_change() {
    let scratch = Scratch::new();
    let images = signed_images(&scratch);
    let glob = format!("{}/lab/**", images.registry.address());
    scratch.write("policy.yaml", policy(&glob, &images.key, "enforce"));
    let server = start(&scratch);
    let signed_pod = review(
        "Pod",
        serde_json::json!({"spec": pod(&[&images.signed_pinned], &[])}),
    );
    assert_eq!(
        answer(&scratch, &server, "/validate", &signed_pod)["allowed"],
        true
    );
    let (_, metrics) = curl(&scratch, &server, "GET", "/metrics", None);
    assert!(
        metrics.contains("policy_controller_cached_images 1\n"),
        "{metrics}"
    );
    drop(images.registry);
    assert_eq!(
        answer(&scratch, &server, "/validate", &signed_pod)["allowed"],
        true,
        "from the cache"
    );
    // The policies change (the same text, written again, is another version): verified again.
    std::thread::sleep(Duration::from_millis(1100));
    scratch.write("policy.yaml", policy(&glob, &images.key, "enforce"));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = answer(&scratch, &server, "/validate", &signed_pod);
        if response["allowed"] == false {
            break;
        }
        assert!(Instant::now() < deadline, "the cache outlived the policies");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// With `--client-ca`, only a client whose certificate that CA issued (the API server's) is
/// answered; others fail the TLS handshake.
#[test]
fn a_client_ca_keeps_out_clients_without_its_certificate() {
    let scratch = Scratch::new();
    let (certificate, key) =
        cosign_testkit::issue_certificate(&scratch, "client", "DNS:kube-apiserver", "clientAuth");
    scratch.write(
        "policy.yaml",
        "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: open}\nspec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: pass}}]\n",
    );
    let (certificate, key, ca) = (
        certificate.display().to_string(),
        key.display().to_string(),
        scratch.join("ca.crt").display().to_string(),
    );
    let client = ["--cert", certificate.as_str(), "--key", key.as_str()];
    let server = common::start_with(&scratch, &["--client-ca", ca.as_str()], &client);
    let body = review(
        "Pod",
        serde_json::json!({"spec": pod(&["registry.example/app@sha256:0000000000000000000000000000000000000000000000000000000000000000"], &[])}),
    );
    let (status, text) =
        common::curl_with(&scratch, &server, "POST", "/validate", Some(&body), &client);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"allowed\":true"), "{text}");
    let (status, _) = curl(&scratch, &server, "POST", "/validate", Some(&body));
    assert_eq!(status, 0, "no client certificate: no answer");
}

/// SIGTERM: `/readyz` fails at once while reviews are still answered for `--shutdown-delay`;
/// then the port closes, the review in flight still gets its answer, and the webhook exits.
#[test]
fn stopping_answers_the_reviews_in_flight() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let image = format!("{}/lab/app:1.0", silent.local_addr().unwrap());
    let scratch = Scratch::new();
    scratch.write(
        "policy.yaml",
        "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: all}\nspec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: pass}}]\n",
    );
    let mut server = common::start_with(&scratch, &["--shutdown-delay", "1"], &[]);
    let body = review("Pod", serde_json::json!({"spec": pod(&[&image], &[])}));
    std::thread::scope(|scope| {
        // A review that waits on the silent registry until its deadline (3.5 s).
        let in_flight =
            scope.spawn(|| curl(&scratch, &server, "POST", "/mutate?timeout=4s", Some(&body)));
        std::thread::sleep(Duration::from_millis(500));
        server.terminate();
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(curl(&scratch, &server, "GET", "/readyz", None).0, 503);
        assert_eq!(
            curl(&scratch, &server, "GET", "/healthz", None).0,
            200,
            "still answering"
        );
        let (status, text) = in_flight.join().unwrap();
        assert_eq!(status, 500, "answered, not cut: {text}");
        assert!(text.contains("could not be verified within"), "{text}");
    });
    let status = server.exit_within(Duration::from_secs(15));
    assert!(status.is_some_and(|status| status.success()), "{status:?}");
    assert_eq!(
        curl(&scratch, &server, "GET", "/healthz", None).0,
        0,
        "the port is closed"
    );
    drop(silent);
}
