//! Keyless authorities of `policy-controller test`: an image signed keyless by the real cosign
//! 3.1 (bundle format) against the keyless test stack (Fulcio with a CT log, the real Rekor v2
//! and TSA), judged by a keyless authority whose `trustRootRef` names a `TrustRoot` of
//! `sigstoreKeys` holding that stack's CA, logs and TSA: its identity passes, another identity
//! or issuer fails, and a missing TrustRoot is named.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use base64::Engine as _;
use common::tester;
use cosign_testkit::keyless_stack::{KeylessStack, Rekor, StackOptions};
use cosign_testkit::{Distribution, Peer, Scratch};

const IDENTITY: &str = "https://ci.cosign-rs.test/workflows/release";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// DER given in base64, as PEM.
fn pem(label: &str, der_base64: &str) -> String {
    let der = base64::engine::general_purpose::STANDARD
        .decode(der_base64)
        .unwrap();
    cosign_testkit::pem(label, &der)
}

/// A TrustRoot named `local` with the stack's trusted root as `sigstoreKeys` (PEM, base64).
fn trust_root(stack: &KeylessStack) -> String {
    let root: serde_json::Value = serde_json::from_str(&stack.trusted_root_json()).unwrap();
    let chain = |authority: &serde_json::Value| {
        let pems: String = authority["certChain"]["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|certificate| pem("CERTIFICATE", certificate["rawBytes"].as_str().unwrap()))
            .collect();
        b64(pems.as_bytes())
    };
    let authorities = |field: &str| -> Vec<serde_json::Value> {
        root[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|authority| {
                serde_json::json!({
                    "subject": authority["subject"],
                    "uri": authority["uri"],
                    "certChain": chain(authority),
                })
            })
            .collect()
    };
    let logs = |field: &str| -> Vec<serde_json::Value> {
        root[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|log| {
                serde_json::json!({
                    "baseURL": log["baseUrl"],
                    "hashAlgorithm": "sha-256",
                    "publicKey": b64(pem("PUBLIC KEY", log["publicKey"]["rawBytes"].as_str().unwrap()).as_bytes()),
                })
            })
            .collect()
    };
    let resource = serde_json::json!({
        "apiVersion": "policy.sigstore.dev/v1alpha1",
        "kind": "TrustRoot",
        "metadata": {"name": "local"},
        "spec": {"sigstoreKeys": {
            "certificateAuthorities": authorities("certificateAuthorities"),
            "tLogs": logs("tlogs"),
            "ctLogs": logs("ctlogs"),
            "timestampAuthorities": authorities("timestampAuthorities"),
        }},
    });
    // JSON is YAML.
    resource.to_string()
}

/// cosign 3.1 `COMMAND...` keyless against the stack, as IDENTITY, on `image`.
fn keyless_cosign3(scratch: &Scratch, stack: &KeylessStack, command: &[&str], image: &str) {
    scratch
        .command(Peer::Cosign3.path())
        .args(command)
        .args(["-y", "--identity-token", &stack.token(IDENTITY)])
        .args([
            "--signing-config",
            &stack.signing_config_path().display().to_string(),
        ])
        .args([
            "--trusted-root",
            &stack.trusted_root_path().display().to_string(),
        ])
        .args(["--allow-http-registry", image])
        .run()
        .success();
}

fn keyless_policy(glob: &str, issuer: &str, subject: &str, trust_root: &str) -> String {
    format!(
        "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata:\n  name: release\nspec:\n  images:\n  - glob: \"{glob}\"\n  authorities:\n  - name: ci\n    signatureFormat: bundle\n    keyless:\n      trustRootRef: {trust_root}\n      identities:\n      - issuer: \"{issuer}\"\n        subject: \"{subject}\"\n    rfc3161timestamp:\n      trustRootRef: {trust_root}\n"
    )
}

#[test]
fn keyless_signatures_pass_for_the_identities_a_trust_root_vouches_for() {
    let stack = KeylessStack::start(StackOptions {
        rekor: Rekor::V2,
        timestamps: true,
    });
    let registry = Distribution::start();
    let scratch = Scratch::new();
    let (image, digest) = registry.push_random_image(&scratch, "lab/release:1.0");
    let pinned = format!("{}@{digest}", image.rsplit_once(':').unwrap().0);
    keyless_cosign3(&scratch, &stack, &["sign"], &pinned);
    let glob = format!("{}/lab/**", registry.address());
    let root = trust_root(&stack);
    let with_root = |policy: String| format!("{root}\n---\n{policy}");
    let run = tester(
        &scratch,
        &with_root(keyless_policy(&glob, stack.issuer(), IDENTITY, "local")),
        &pinned,
    );
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    // Another subject, another issuer: refused, naming the authority.
    for (issuer, subject) in [
        (stack.issuer(), "https://ci.cosign-rs.test/workflows/other"),
        ("https://issuer.elsewhere.test", IDENTITY),
    ] {
        let run = tester(
            &scratch,
            &with_root(keyless_policy(&glob, issuer, subject, "local")),
            &pinned,
        );
        assert_eq!(run.code, Some(1), "{}", run.stdout);
        assert!(
            run.stdout.contains(
                "failed policy: release: signature keyless validation failed for authority ci for"
            ),
            "{}",
            run.stdout
        );
    }
    // No trustRootRef: the public Sigstore's trusted root, as given (--trusted-root), else the
    // embedded public-good one, which does not vouch for this stack.
    let public = keyless_policy(&glob, stack.issuer(), IDENTITY, "local")
        .replace("      trustRootRef: local\n", "")
        .replace("    rfc3161timestamp:\n      trustRootRef: local\n", "");
    assert!(!public.contains("trustRootRef"), "{public}");
    scratch.write("public.yaml", &public);
    let trusted_root = stack.trusted_root_path().display().to_string();
    let run = scratch
        .command(env!("CARGO_BIN_EXE_policy-controller"))
        .args(["test", "--policy", "public.yaml", "--image", &pinned])
        .args(["--trusted-root", &trusted_root])
        .run();
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let run = scratch
        .command(env!("CARGO_BIN_EXE_policy-controller"))
        .args(["test", "--policy", "public.yaml", "--image", &pinned])
        .run();
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("signature keyless validation failed for authority ci"),
        "{}",
        run.stdout
    );
    // Through the API server's webhook plugins: the identity the policy names is admitted;
    // another is denied, naming the image and the authority.
    scratch.write(
        "policy.yaml",
        with_root(keyless_policy(&glob, stack.issuer(), IDENTITY, "local")),
    );
    let server = common::start(&scratch);
    let ca = base64::engine::general_purpose::STANDARD.encode(scratch.read("tls.crt"));
    let config = common::configurations(&server.address, &ca, "Fail", 10);
    let run = common::admit(
        &scratch,
        &config,
        &common::pod("lab", &[&pinned], &[]),
        "pods",
    );
    assert!(
        run.stdout.contains("RESULT: ALLOWED"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    scratch.write(
        "policy.yaml",
        with_root(keyless_policy(
            &glob,
            stack.issuer(),
            "https://ci.cosign-rs.test/workflows/other",
            "local",
        )),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let run = common::admit(
            &scratch,
            &config,
            &common::pod("lab", &[&pinned], &[]),
            "pods",
        );
        if run.stdout.contains("RESULT: DENIED (validating)") {
            assert!(
                run.stdout.contains(&format!(
                    "{pinned}: failed policy: release: signature keyless validation failed for authority ci"
                )),
                "{}",
                run.stdout
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", run.stdout);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    drop(server);
    // A TrustRoot that is not there is named.
    let run = tester(
        &scratch,
        &keyless_policy(&glob, stack.issuer(), IDENTITY, "local"),
        &pinned,
    );
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout.contains("trustRootRef local not found"),
        "{}",
        run.stdout
    );
}

/// A keyless SBOM attestation by cosign 3.1 (a bundle, as a referrer): the authority's
/// attestation passes for its identity, and a policy-level policy sees who signed it.
#[test]
fn keyless_sbom_attestations_pass_and_name_their_signer() {
    let stack = KeylessStack::start(StackOptions {
        rekor: Rekor::V2,
        timestamps: true,
    });
    let registry = Distribution::start();
    let scratch = Scratch::new();
    cosign_testkit::sample_sbom(&scratch);
    let (image, digest) = registry.push_random_image(&scratch, "lab/release:2.0");
    let pinned = format!("{}@{digest}", image.rsplit_once(':').unwrap().0);
    keyless_cosign3(
        &scratch,
        &stack,
        &[
            "attest",
            "--type",
            "cyclonedx",
            "--predicate",
            "sbom.cdx.json",
        ],
        &pinned,
    );
    let glob = format!("{}/lab/**", registry.address());
    let root = trust_root(&stack);
    let policy = |subject: &str, level: &str| {
        format!(
            "{root}\n---\n{}    attestations:\n    - name: sbom\n      predicateType: https://cyclonedx.org/bom\n      policy:\n        type: rego\n        data: |\n          package sigstore\n          isCompliant {{\n            input.predicate.components[_].name == \"is-number\"\n          }}\n  policy:\n    type: cue\n    data: |\n{level}",
            keyless_policy(&glob, stack.issuer(), subject, "local")
        )
    };
    let signer_is = |subject: &str| {
        format!("      authorityMatches: ci: attestations: sbom: [...{{subject: \"{subject}\", issuer: \"{}\"}}]\n", stack.issuer())
    };
    let run = tester(&scratch, &policy(IDENTITY, &signer_is(IDENTITY)), &pinned);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    // The policy-level policy wants another signer than the one there: refused.
    let run = tester(
        &scratch,
        &policy(
            IDENTITY,
            &signer_is("https://ci.cosign-rs.test/workflows/other"),
        ),
        &pinned,
    );
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("failed evaluating cue policy for ClusterImagePolicy"),
        "{}",
        run.stdout
    );
    // The authority wants another identity: the attestation does not verify.
    let run = tester(
        &scratch,
        &policy(
            "https://ci.cosign-rs.test/workflows/other",
            &signer_is(IDENTITY),
        ),
        &pinned,
    );
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "failed policy: release: attestation keyless validation failed for authority ci for"
        ),
        "{}",
        run.stdout
    );
}
