//! `policy-controller test` against images signed by the real cosign 3.1 on a real
//! distribution registry: the right key passes, another key, a static `fail` and an image no
//! policy covers are refused with the failing policy and authority named, `warn` mode passes
//! with warnings, an invalid policy is refused with its wrong fields.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use cosign_testkit::{Distribution, Peer, Run, Scratch};

fn tester(scratch: &Scratch, policy: &str, image: &str) -> Run {
    scratch.write("policy.yaml", policy);
    scratch
        .command(env!("CARGO_BIN_EXE_policy-controller"))
        .args(["test", "--policy", "policy.yaml", "--image", image])
        .run()
}

fn key_policy(name: &str, glob: &str, key_file: &str, scratch: &Scratch, mode: &str) -> String {
    let key = String::from_utf8(scratch.read(key_file)).expect("PEM");
    let indented: String = key
        .lines()
        .map(|line| format!("        {line}\n"))
        .collect();
    format!(
        "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata:\n  name: {name}\nspec:\n  mode: {mode}\n  images:\n  - glob: \"{glob}\"\n  authorities:\n  - key:\n      data: |\n{indented}"
    )
}

#[test]
fn images_signed_by_cosign_3_are_judged_by_their_policies() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    let (image, digest) = registry.push_random_image(&scratch, "lab/app:1.0");
    for prefix in ["signer", "other"] {
        scratch
            .command(Peer::Cosign3.path())
            .args(["generate-key-pair", "--output-key-prefix", prefix])
            .env("COSIGN_PASSWORD", "pw")
            .run()
            .success();
    }
    scratch
        .command(Peer::Cosign3.path())
        .args(["sign", "--key", "signer.key", "--tlog-upload=false"])
        .args(["--use-signing-config=false", "--new-bundle-format=false"])
        .args(["--allow-http-registry", "-y", &image])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    let glob = format!("{}/lab/**", registry.address());
    // The signer's key: allowed, at the digest it was checked.
    let run = tester(
        &scratch,
        &key_policy("lab", &glob, "signer.pub", &scratch, "enforce"),
        &image,
    );
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let result: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(result["allowed"], true);
    assert_eq!(result["digest"], digest.as_str());
    // Another key: refused, naming the policy, the authority and the image.
    let run = tester(
        &scratch,
        &key_policy("lab", &glob, "other.pub", &scratch, "enforce"),
        &image,
    );
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let result: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let error = result["errors"][0].as_str().expect("an error");
    assert!(
        error.starts_with(&format!(
            "failed policy: lab: signature key validation failed for authority authority-0 for {image}: no matching signatures"
        )),
        "{error}"
    );
    // Any one authority suffices; every policy that applies must pass.
    let both = format!(
        "{}  - key:\n      data: |\n{}",
        key_policy("lab", &glob, "other.pub", &scratch, "enforce"),
        String::from_utf8(scratch.read("signer.pub"))
            .unwrap()
            .lines()
            .map(|line| format!("        {line}\n"))
            .collect::<String>()
    );
    assert_eq!(tester(&scratch, &both, &image).code, Some(0));
    let with_static_fail = format!(
        "{}---\napiVersion: policy.sigstore.dev/v1alpha1\nkind: ClusterImagePolicy\nmetadata:\n  name: frozen\nspec:\n  images:\n  - glob: \"**\"\n  authorities:\n  - static:\n      action: fail\n      message: deployments are frozen\n",
        key_policy("lab", &glob, "signer.pub", &scratch, "enforce")
    );
    let run = tester(&scratch, &with_static_fail, &image);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout
            .contains("failed policy: frozen: disallowed by static policy: deployments are frozen"),
        "{}",
        run.stdout
    );
    // Warn mode: allowed, with the failure as a warning.
    let run = tester(
        &scratch,
        &key_policy("lab", &glob, "other.pub", &scratch, "warn"),
        &image,
    );
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let result: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert!(result["warnings"][0]
        .as_str()
        .unwrap()
        .starts_with("failed policy: lab: "));
    // No policy covers the image: refused.
    let run = tester(
        &scratch,
        &key_policy(
            "lab",
            "ghcr.io/elsewhere/**",
            "signer.pub",
            &scratch,
            "enforce",
        ),
        &image,
    );
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout.contains("is uncovered by policy"),
        "{}",
        run.stdout
    );
    // An invalid policy: refused with the field that is wrong.
    let run = tester(
        &scratch,
        &key_policy("lab", &glob, "signer.pub", &scratch, "strict"),
        &image,
    );
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("invalid value: strict: spec.mode"),
        "{}",
        run.stderr
    );
}
