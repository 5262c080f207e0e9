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

mod common;

use common::{key_pair, policy, signed_images, tester};
use cosign_testkit::Scratch;

#[test]
fn images_signed_by_cosign_3_are_judged_by_their_policies() {
    let scratch = Scratch::new();
    let images = signed_images(&scratch);
    key_pair(&scratch, "other");
    let other = String::from_utf8(scratch.read("other.pub")).unwrap();
    let (image, key) = (images.signed.as_str(), images.key.as_str());
    let glob = format!("{}/lab/**", images.registry.address());
    // The signer's key: allowed, at the digest it was checked.
    let run = tester(&scratch, &policy(&glob, key, "enforce"), image);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let result: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(result["allowed"], true);
    assert_eq!(
        format!(
            "{}@{}",
            image.rsplit_once(':').unwrap().0,
            result["digest"].as_str().unwrap()
        ),
        images.signed_pinned
    );
    // Another key: refused, naming the policy, the authority and the image.
    let run = tester(&scratch, &policy(&glob, &other, "enforce"), image);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let result: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let error = result["errors"][0].as_str().expect("an error");
    assert!(
        error.starts_with(&format!(
            "failed policy: lab: signature key validation failed for authority lab-key for {image}: no matching signatures"
        )),
        "{error}"
    );
    // Any one authority suffices; every policy that applies must pass.
    let with_both_keys = format!(
        "{}  - name: signer\n    key:\n      data: |\n{}",
        policy(&glob, &other, "enforce"),
        key.lines()
            .map(|line| format!("        {line}\n"))
            .collect::<String>()
    );
    assert_eq!(tester(&scratch, &with_both_keys, image).code, Some(0));
    let with_static_fail = format!(
        "{}---\napiVersion: policy.sigstore.dev/v1alpha1\nkind: ClusterImagePolicy\nmetadata:\n  name: frozen\nspec:\n  images:\n  - glob: \"**\"\n  authorities:\n  - static:\n      action: fail\n      message: deployments are frozen\n",
        policy(&glob, key, "enforce")
    );
    let run = tester(&scratch, &with_static_fail, image);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout
            .contains("failed policy: frozen: disallowed by static policy: deployments are frozen"),
        "{}",
        run.stdout
    );
    // Warn mode: allowed, with the failure as a warning.
    let run = tester(&scratch, &policy(&glob, &other, "warn"), image);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let result: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert!(result["warnings"][0]
        .as_str()
        .unwrap()
        .starts_with("failed policy: lab: "));
    // No policy covers the image: refused.
    let run = tester(
        &scratch,
        &policy("ghcr.io/elsewhere/**", key, "enforce"),
        image,
    );
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout.contains("is uncovered by policy"),
        "{}",
        run.stdout
    );
    // An invalid policy: refused with the field that is wrong.
    let run = tester(&scratch, &policy(&glob, key, "strict"), image);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("invalid value: strict: spec.mode"),
        "{}",
        run.stderr
    );
    // A key in a Secret cannot be read without the Kubernetes API: refused, saying so.
    let secret_ref = format!(
        "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata:\n  name: lab\nspec:\n  images:\n  - glob: \"{glob}\"\n  authorities:\n  - name: from-secret\n    key:\n      secretRef: {{name: release-key}}\n"
    );
    let run = tester(&scratch, &secret_ref, image);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("a key from a Secret (secretRef) is not supported"),
        "{}",
        run.stdout
    );
    // A log entry asked for (`ctlog`) cannot be checked for a key yet: refused, not skipped.
    let with_log = format!(
        "{}    ctlog:\n      url: https://rekor.sigstore.dev\n",
        policy(&glob, key, "enforce")
    );
    let run = tester(&scratch, &with_log, image);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("a key authority with `ctlog`"),
        "{}",
        run.stdout
    );
}

/// `match` and `--resource`: a policy that matches pods labelled `app: web` applies to such a
/// pod only (else the image is uncovered, as without a resource); a policy-level policy that
/// includes the resource's spec sees it.
#[test]
fn policies_match_resources_and_see_them_when_they_ask() {
    let scratch = Scratch::new();
    let images = signed_images(&scratch);
    key_pair(&scratch, "other");
    let other = String::from_utf8(scratch.read("other.pub")).unwrap();
    let image = images.signed.as_str();
    let glob = format!("{}/lab/**", images.registry.address());
    let pod = |labels: &str, account: &str| {
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\n  labels: {{{labels}}}\nspec:\n  serviceAccountName: {account}\n  containers:\n  - {{name: app, image: \"{image}\"}}\n")
    };
    let judge = |policy: &str, resource: Option<&str>| {
        scratch.write("policy.yaml", policy);
        let mut command = scratch
            .command(env!("CARGO_BIN_EXE_policy-controller"))
            .args(["test", "--policy", "policy.yaml", "--image", image]);
        if let Some(resource) = resource {
            scratch.write("resource.yaml", resource);
            command = command.args(["--resource", "resource.yaml"]);
        }
        command.run()
    };
    // The other key, for web pods only.
    let web_only = policy(&glob, &other, "enforce").replacen(
        "  authorities:",
        "  match:\n  - version: v1\n    resource: pods\n    selector:\n      matchLabels: {app: web}\n  authorities:",
        1,
    );
    let run = judge(&web_only, Some(&pod("app: web", "default")));
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("failed policy: lab: signature key validation failed"),
        "{}",
        run.stdout
    );
    for resource in [Some(pod("app: db", "default")), None] {
        let run = judge(&web_only, resource.as_deref());
        assert_eq!(run.code, Some(1), "{}", run.stdout);
        assert!(
            run.stdout.contains("is uncovered by policy"),
            "{}",
            run.stdout
        );
    }
    // A policy-level policy over the resource's spec (with the signer's key).
    let builder_only = format!(
        "{}  policy:\n    type: rego\n    includeSpec: true\n    data: |\n      package sigstore\n      isCompliant {{\n        input.spec.serviceAccountName == \"builder\"\n        count(input.authorityMatches[\"lab-key\"].signatures) == 1\n      }}\n",
        policy(&glob, &images.key, "enforce")
    );
    let run = judge(&builder_only, Some(&pod("app: web", "builder")));
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let run = judge(&builder_only, Some(&pod("app: web", "default")));
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("failed evaluating rego policy for type ClusterImagePolicy"),
        "{}",
        run.stdout
    );
    // A resource without a spec is refused, as policy-tester refuses it.
    scratch.write(
        "resource.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: app}\n",
    );
    let run = scratch
        .command(env!("CARGO_BIN_EXE_policy-controller"))
        .args(["test", "--policy", "policy.yaml", "--image", image])
        .args(["--resource", "resource.yaml"])
        .run();
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("kubernetes resource is missing spec key"),
        "{}",
        run.stderr
    );
}
