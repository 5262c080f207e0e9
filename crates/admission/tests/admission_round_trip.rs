//! The webhook through a real admission round trip: k8s.io/apiserver's mutating and validating
//! webhook plugins (the code kube-apiserver calls webhooks with, driven by `k8sadmit`) call
//! `policy-controller serve` over TLS checked against the `caBundle`, with the rules, the
//! namespace selector, the timeouts and `failurePolicy` of the webhook configurations, and
//! apply its JSONPatch. Images are signed by the real cosign 3.1 on a real registry.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{
    admit, configurations, indent, key_pair, pod, pod_spec, policy, signed_images, start,
};
use cosign_testkit::Scratch;

#[test]
fn the_api_servers_webhook_plugins_allow_signed_pods_and_deny_the_rest() {
    let scratch = Scratch::new();
    let images = signed_images(&scratch);
    let glob = format!("{}/lab/**", images.registry.address());
    scratch.write("policy.yaml", policy(&glob, &images.key, "enforce"));
    let server = start(&scratch);
    let ca = base64::engine::general_purpose::STANDARD.encode(scratch.read("tls.crt"));
    let config = configurations(&server.address, &ca, "Fail", 10);
    let unsigned = images.unsigned_pinned.as_str();

    // Signed, by tag: allowed, and what runs is the digest that was verified.
    let run = admit(
        &scratch,
        &config,
        &pod("lab", &[&images.signed], &[]),
        "pods",
    );
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("RESULT: ALLOWED"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains(&format!("image: {}", images.signed_pinned)),
        "{}",
        run.stdout
    );
    // Unsigned: denied, naming the image and the authority.
    let run = admit(&scratch, &config, &pod("lab", &[unsigned], &[]), "pods");
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stdout.contains("RESULT: DENIED (validating)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(unsigned), "{}", run.stdout);
    assert!(run.stdout.contains("authority lab-key"), "{}", run.stdout);
    // An unsigned init container in a Deployment and in a CronJob: denied.
    let template = indent(&pod_spec(&[&images.signed], &[unsigned]), 6);
    let deployment = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app, namespace: lab}}\nspec:\n  selector: {{matchLabels: {{app: a}}}}\n  template:\n    metadata: {{labels: {{app: a}}}}\n    spec:\n{template}"
    );
    let run = admit(&scratch, &config, &deployment, "deployments");
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("spec.template.spec.initContainers[0].image"),
        "{}",
        run.stdout
    );
    let job_template = indent(&pod_spec(&[&images.signed], &[unsigned]), 10);
    let cronjob = format!(
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: app, namespace: lab}}\nspec:\n  schedule: \"* * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n{job_template}"
    );
    let run = admit(&scratch, &config, &cronjob, "cronjobs");
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("spec.jobTemplate.spec.template.spec.initContainers[0].image"),
        "{}",
        run.stdout
    );
    // A namespace that did not opt in is not checked.
    let run = admit(&scratch, &config, &pod("other", &[unsigned], &[]), "pods");
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    // Warn mode (the policy file read again): allowed, with the failure as a warning.
    scratch.write("policy.yaml", policy(&glob, &images.key, "warn"));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let run = admit(&scratch, &config, &pod("lab", &[unsigned], &[]), "pods");
        if run.code == Some(0) {
            assert!(run.stdout.contains("WARNING: "), "{}", run.stdout);
            assert!(run.stdout.contains("failed policy: lab"), "{}", run.stdout);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the policy file was not read again"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Signed, but with another key than the policy names: denied, naming the authority.
    key_pair(&scratch, "other");
    let other = String::from_utf8(scratch.read("other.pub")).unwrap();
    scratch.write("policy.yaml", policy(&glob, &other, "enforce"));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let run = admit(
            &scratch,
            &config,
            &pod("lab", &[&images.signed_pinned], &[]),
            "pods",
        );
        if run.code == Some(1) {
            assert!(
                run.stdout.contains(&format!(
                    "{}: failed policy: lab: signature key validation failed for authority lab-key",
                    images.signed_pinned
                )),
                "{}",
                run.stdout
            );
            break;
        }
        assert!(Instant::now() < deadline, "{}", run.stdout);
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn a_registry_that_does_not_answer_leaves_it_to_the_failure_policy() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // By digest: nothing to resolve, so the validating webhook is the one that waits.
    let image = format!(
        "{}/lab/app@sha256:{}",
        silent.local_addr().unwrap(),
        "0".repeat(64)
    );
    let scratch = Scratch::new();
    // A key authority: its signatures must be read from the registry, which never answers.
    let key = scratch
        .command("sh")
        .args([
            "-c",
            "openssl ecparam -name prime256v1 -genkey -noout | openssl pkey -pubout",
        ])
        .run()
        .success()
        .stdout;
    scratch.write("policy.yaml", policy("**", &key, "enforce"));
    let server = start(&scratch);
    let ca = base64::engine::general_purpose::STANDARD.encode(scratch.read("tls.crt"));
    // Fail: the pod is refused, within the webhook's timeout.
    let started = Instant::now();
    let run = admit(
        &scratch,
        &configurations(&server.address, &ca, "Fail", 2),
        &pod("lab", &[&image], &[]),
        "pods",
    );
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stdout.contains("RESULT: DENIED (validating)"),
        "{}",
        run.stdout
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // Ignore: admitted as it is.
    let run = admit(
        &scratch,
        &configurations(&server.address, &ca, "Ignore", 2),
        &pod("lab", &[&image], &[]),
        "pods",
    );
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(run.stdout.contains("RESULT: ALLOWED"), "{}", run.stdout);
    drop(silent);
}
