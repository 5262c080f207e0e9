//! Attestation authorities and the policy-level `policy`, as policy-controller evaluates them:
//! the lab's SBOM (syft, CycloneDX) attested by the real cosign 3.1 on a real registry, and by
//! ours on `registry serve`; Rego (`data.sigstore.isCompliant`) and CUE policies over the
//! statement, each allowing and denying; a wanted predicate type that is not there; the
//! policy-level policy over `authorityMatches`. Judged by `policy-controller test`, and through
//! the API server's webhook plugins.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use base64::Engine as _;
use common::{admit, configurations, key_pair, ours, pod, start, tester};
use cosign_testkit::{Distribution, EmbeddedRegistry, Peer, Scratch};

/// Rego that needs the `is-number` package in the SBOM.
const REGO_NEEDS_IS_NUMBER: &str = "package sigstore\nisCompliant {\n  input.predicateType == \"https://cyclonedx.org/bom\"\n  input.predicate.components[_].name == \"is-number\"\n}\n";
/// Rego that bans `is-number`, saying why.
const REGO_BANS_IS_NUMBER: &str = "package sigstore\nisCompliant[response] {\n  banned := [name | name := input.predicate.components[_].name; name == \"is-number\"]\n  response := {\"result\": count(banned) == 0, \"error\": sprintf(\"banned packages: %v\", [banned])}\n}\n";

fn indented(text: &str, spaces: usize) -> String {
    text.lines()
        .map(|line| format!("{}{line}\n", " ".repeat(spaces)))
        .collect()
}

/// A key authority `name` for `key` (PEM), with `extra` lines under it (indented 4).
fn key_authority(name: &str, key: &str, extra: &str) -> String {
    format!(
        "  - name: {name}\n    key:\n      data: |\n{}{extra}",
        indented(key, 8)
    )
}

/// An attestation `sbom` of `predicate_type`, with a policy of `type_` when given.
fn attestation(predicate_type: &str, policy: Option<(&str, &str)>) -> String {
    let mut text =
        format!("    attestations:\n    - name: sbom\n      predicateType: {predicate_type}\n");
    if let Some((type_, data)) = policy {
        text.push_str(&format!(
            "      policy:\n        type: {type_}\n        data: |\n{}",
            indented(data, 10)
        ));
    }
    text
}

fn cluster_image_policy(glob: &str, authorities: &str, level: Option<(&str, &str)>) -> String {
    let mut text = format!(
        "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata:\n  name: sbom-required\nspec:\n  images:\n  - glob: \"{glob}\"\n  authorities:\n{authorities}"
    );
    if let Some((type_, data)) = level {
        text.push_str(&format!(
            "  policy:\n    type: {type_}\n    data: |\n{}",
            indented(data, 6)
        ));
    }
    text
}

fn refused(run: &cosign_testkit::Run) -> String {
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let result: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    result["errors"][0].as_str().expect("an error").to_owned()
}

fn allowed(run: &cosign_testkit::Run) {
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
}

/// `cosign attest` by `cosign` (a peer's path or ours): the SBOM, as a legacy `.att`.
fn attest(scratch: &Scratch, cosign: &std::path::Path, image: &str) {
    scratch
        .command(cosign)
        .args(["attest", "--key", "signer.key", "--type", "cyclonedx"])
        .args(["--predicate", "sbom.cdx.json", "--tlog-upload=false"])
        .args(["--use-signing-config=false", "--new-bundle-format=false"])
        .args(["--allow-http-registry", "-y", image])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
}

fn sign(scratch: &Scratch, cosign: &std::path::Path, image: &str) {
    scratch
        .command(cosign)
        .args(["sign", "--key", "signer.key", "--tlog-upload=false"])
        .args(["--use-signing-config=false", "--new-bundle-format=false"])
        .args(["--allow-http-registry", "-y", image])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
}

#[test]
fn sbom_attestations_of_cosign_3_are_judged_by_rego_and_cue() {
    let scratch = Scratch::new();
    let registry = Distribution::start();
    key_pair(&scratch, "signer");
    cosign_testkit::sample_sbom(&scratch);
    let key = String::from_utf8(scratch.read("signer.pub")).unwrap();
    let cosign3 = Peer::Cosign3.path();
    // Signed and attested; attested only; neither.
    let (app, _) = registry.push_random_image(&scratch, "lab/app:1.0");
    let (attested, _) = registry.push_random_image(&scratch, "lab/attested:1.0");
    let (bare, _) = registry.push_random_image(&scratch, "lab/bare:1.0");
    attest(&scratch, &cosign3, &app);
    sign(&scratch, &cosign3, &app);
    attest(&scratch, &cosign3, &attested);
    let glob = format!("{}/lab/**", registry.address());
    let judge = |authorities: &str, level: Option<(&str, &str)>, image: &str| {
        tester(
            &scratch,
            &cluster_image_policy(&glob, authorities, level),
            image,
        )
    };
    let sbom = |predicate_type: &str, policy: Option<(&str, &str)>| {
        key_authority("sbom", &key, &attestation(predicate_type, policy))
    };

    // An SBOM attestation, no policy over it: there or not.
    allowed(&judge(&sbom("cyclonedx", None), None, &app));
    assert_eq!(
        refused(&judge(&sbom("cyclonedx", None), None, &bare)),
        format!(
            "failed policy: sbom-required: no matching attestations for authority sbom for {bare}"
        )
    );
    // Another predicate type than the one there: the types seen are named.
    assert_eq!(
        refused(&judge(&sbom("slsaprovenance", None), None, &app)),
        "failed policy: sbom-required: no matching attestations with type slsaprovenance, checked the following predicateTypes: \"https://cyclonedx.org/bom\""
    );
    // The URI works as the short name does.
    allowed(&judge(&sbom("https://cyclonedx.org/bom", None), None, &app));

    // Rego over the statement.
    allowed(&judge(
        &sbom("cyclonedx", Some(("rego", REGO_NEEDS_IS_NUMBER))),
        None,
        &app,
    ));
    assert_eq!(
        refused(&judge(&sbom("cyclonedx", Some(("rego", REGO_BANS_IS_NUMBER))), None, &app)),
        "failed policy: sbom-required: failed evaluating rego policy for type sbom: policy is not compliant for query 'isCompliant = data.sigstore.isCompliant' with errors: banned packages: [\"is-number\"]"
    );

    // CUE: the statement must unify with the policy.
    allowed(&judge(
        &sbom(
            "cyclonedx",
            Some(("cue", "predicateType: \"https://cyclonedx.org/bom\"\npredicate: bomFormat: \"CycloneDX\"\n")),
        ),
        None,
        &app,
    ));
    let error = refused(&judge(
        &sbom(
            "cyclonedx",
            Some(("cue", "predicate: bomFormat: \"SPDX\"\n")),
        ),
        None,
        &app,
    ));
    assert!(
        error.starts_with("failed policy: sbom-required: failed evaluating cue policy for sbom: failed to evaluate the policy with error: ")
            && error.contains("predicate.bomFormat"),
        "{error}"
    );

    // The policy-level policy over what passed: both a signature and the SBOM, by Rego...
    let both = format!(
        "{}{}",
        key_authority("signed", &key, ""),
        sbom("cyclonedx", None)
    );
    let rego_both = "package sigstore\nisCompliant {\n  count(input.authorityMatches.signed.signatures) > 0\n  count(input.authorityMatches.sbom.attestations.sbom) > 0\n}\n";
    allowed(&judge(&both, Some(("rego", rego_both)), &app));
    let error = refused(&judge(&both, Some(("rego", rego_both)), &attested));
    assert!(
        error.starts_with(&format!(
            "failed policy: sbom-required: signature key validation failed for authority signed for {attested}: no signatures found; failed evaluating rego policy for type ClusterImagePolicy: policy is not compliant"
        )),
        "{error}"
    );
    // ... and by CUE, over the signatures' ids (the SHA-256 of signature and certificate).
    let ids_are_hashes = "authorityMatches: signed: signatures: [...{id: =~\"^[0-9a-f]{64}$\"}]\n";
    allowed(&judge(&both, Some(("cue", ids_are_hashes)), &app));
    let ids_are_digests = "authorityMatches: signed: signatures: [...{id: =~\"^sha256:\"}]\n";
    let error = refused(&judge(&both, Some(("cue", ids_are_digests)), &app));
    assert!(
        error.starts_with(
            "failed policy: sbom-required: failed evaluating cue policy for ClusterImagePolicy: "
        ),
        "{error}"
    );
}

/// Our `cosign attest` on our `registry serve`, and the webhook called by the API server's
/// plugins: a pod whose image carries an SBOM the Rego policy accepts is allowed; one whose SBOM
/// it refuses, or with none, is denied naming the image and the authority.
#[test]
fn the_webhook_admits_only_pods_whose_sbom_passes() {
    let scratch = Scratch::new();
    let cosign = ours();
    let registry = EmbeddedRegistry::start(&cosign, None);
    key_pair(&scratch, "signer");
    cosign_testkit::sample_sbom(&scratch);
    let key = String::from_utf8(scratch.read("signer.pub")).unwrap();
    let (app, app_digest) = registry.push_random_image(&scratch, "lab/app:1.0");
    let (bare, bare_digest) = registry.push_random_image(&scratch, "lab/bare:1.0");
    attest(&scratch, &cosign, &app);
    let pinned =
        |image: &str, digest: &str| format!("{}@{digest}", image.rsplit_once(':').unwrap().0);
    let (app, bare) = (pinned(&app, &app_digest), pinned(&bare, &bare_digest));
    let glob = format!("{}/lab/**", registry.address());
    let needs_is_number = cluster_image_policy(
        &glob,
        &key_authority(
            "sbom",
            &key,
            &attestation("cyclonedx", Some(("rego", REGO_NEEDS_IS_NUMBER))),
        ),
        None,
    );
    // The tester first, on the same cases.
    allowed(&tester(&scratch, &needs_is_number, &app));
    refused(&tester(&scratch, &needs_is_number, &bare));

    scratch.write("policy.yaml", &needs_is_number);
    let server = start(&scratch);
    let ca = base64::engine::general_purpose::STANDARD.encode(scratch.read("tls.crt"));
    let config = configurations(&server.address, &ca, "Fail", 10);
    let run = admit(&scratch, &config, &pod("lab", &[&app], &[]), "pods");
    assert!(
        run.stdout.contains("RESULT: ALLOWED"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let run = admit(&scratch, &config, &pod("lab", &[&bare], &[]), "pods");
    assert!(
        run.stdout.contains("RESULT: DENIED (validating)")
            && run.stdout.contains(&bare)
            && run
                .stdout
                .contains("no matching attestations for authority sbom"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    // The policy changed to one that bans a package the SBOM lists: denied, with why.
    let bans_is_number = cluster_image_policy(
        &glob,
        &key_authority(
            "sbom",
            &key,
            &attestation("cyclonedx", Some(("rego", REGO_BANS_IS_NUMBER))),
        ),
        None,
    );
    refused(&tester(&scratch, &bans_is_number, &app));
    // (`tester` rewrote policy.yaml: the webhook reloads it.)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let run = admit(&scratch, &config, &pod("lab", &[&app], &[]), "pods");
        if run.stdout.contains("RESULT: DENIED") {
            assert!(
                run.stdout.contains("banned packages: [\\\"is-number\\\"]")
                    || run.stdout.contains("banned packages: [\"is-number\"]"),
                "{}",
                run.stdout
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not reloaded: {}",
            run.stdout
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}
