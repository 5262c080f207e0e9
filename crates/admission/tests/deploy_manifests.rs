//! `deploy/` stays true: every manifest parses; the example policy validates; the CRDs are the
//! resources the webhook watches; the Deployment
//! passes only flags `policy-controller serve` takes; and the two webhook configurations, as
//! shipped (rules, namespace selector, failure policy, timeouts), run through the API server's
//! webhook plugins against the webhook (only the service reference is replaced by the test's
//! URL and the CA bundle filled in): a signed pod in a labelled namespace is pinned and allowed,
//! an unsigned one denied, and one in an unlabelled namespace not checked.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use base64::Engine as _;
use common::{admit, pod, policy, signed_images, start};
use cosign_testkit::Scratch;
use serde::Deserialize as _;

fn documents(file: &str) -> Vec<serde_json::Value> {
    let path = cosign_testkit::repository_root().join("deploy").join(file);
    let text = std::fs::read_to_string(&path).expect("a deploy file");
    serde_norway::Deserializer::from_str(&text)
        .map(|document| serde_json::Value::deserialize(document).expect("YAML"))
        .collect()
}

#[test]
fn the_manifests_parse_and_agree_with_the_binary() {
    for file in [
        "namespace.yaml",
        "crds.yaml",
        "example-policy.yaml",
        "policy-controller.yaml",
        "webhooks.yaml",
    ] {
        let documents = documents(file);
        assert!(!documents.is_empty(), "{file}");
        for document in &documents {
            assert!(document["kind"].is_string(), "{file}: {document}");
        }
    }
    let example = &documents("example-policy.yaml")[0];
    let loaded =
        cosign_cluster_policy::load(&example.to_string()).expect("the example policy validates");
    assert_eq!(loaded.policies.len(), 1);
    // The CRDs define what the webhook watches.
    let plurals: Vec<String> = documents("crds.yaml")
        .iter()
        .map(|crd| {
            format!(
                "{}.{}",
                crd["spec"]["names"]["plural"].as_str().unwrap(),
                crd["spec"]["group"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        plurals,
        [
            "clusterimagepolicies.policy.sigstore.dev",
            "trustroots.policy.sigstore.dev"
        ]
    );
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_policy-controller"))
        .args(["serve", "--help"])
        .output()
        .expect("serve --help");
    let help = String::from_utf8_lossy(&help.stdout);
    let deployment = documents("policy-controller.yaml")
        .into_iter()
        .find(|document| document["kind"] == "Deployment")
        .expect("a Deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let args = container["args"].as_array().unwrap();
    assert_eq!(args[0], "serve");
    for arg in &args[1..] {
        let flag = arg.as_str().unwrap().split('=').next().unwrap();
        assert!(
            help.contains(&format!("{flag} ")),
            "{flag} is not a flag of serve"
        );
    }
}

#[test]
fn the_shipped_webhook_configurations_admit_signed_pods_only() {
    let scratch = Scratch::new();
    let images = signed_images(&scratch);
    let glob = format!("{}/lab/**", images.registry.address());
    scratch.write("policy.yaml", policy(&glob, &images.key, "enforce"));
    let server = start(&scratch);
    let ca = base64::engine::general_purpose::STANDARD.encode(scratch.read("tls.crt"));
    let mut config = String::from(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: lab\n  labels: {policy.sigstore.dev/include: \"true\"}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n",
    );
    for mut document in documents("webhooks.yaml") {
        for webhook in document["webhooks"].as_array_mut().unwrap() {
            let path = webhook["clientConfig"]["service"]["path"]
                .as_str()
                .unwrap()
                .to_owned();
            assert_eq!(webhook["clientConfig"]["caBundle"], "CA_BUNDLE");
            webhook["clientConfig"] = serde_json::json!({
                "url": format!("https://{}{path}", server.address),
                "caBundle": ca,
            });
        }
        // JSON is YAML.
        config.push_str(&format!("---\n{document}\n"));
    }
    let run = admit(
        &scratch,
        &config,
        &pod("lab", &[&images.signed], &[]),
        "pods",
    );
    assert!(
        run.stdout.contains("RESULT: ALLOWED"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout
            .contains(&format!("image: {}", images.signed_pinned)),
        "{}",
        run.stdout
    );
    let run = admit(
        &scratch,
        &config,
        &pod("lab", &[&images.unsigned_pinned], &[]),
        "pods",
    );
    assert!(
        run.stdout.contains("RESULT: DENIED (validating)"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let run = admit(
        &scratch,
        &config,
        &pod("other", &[&images.unsigned_pinned], &[]),
        "pods",
    );
    assert!(
        run.stdout.contains("RESULT: ALLOWED"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}
