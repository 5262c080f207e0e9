//! The Sigstore bundle-verification conformance vectors (`shared/conformance/bundle-verify`),
//! run through `cosign verify-blob` as cosign 3 would run them. Cases ending in `_fail` must be
//! rejected, the others accepted: key-based and keyless (Fulcio certificates, SCTs, Rekor v1
//! and v2 entries, RFC 3161 timestamps). All 70 are required, each run with the artifact file
//! and with only its digest.

use std::path::{Path, PathBuf};

use cosign_testkit::Scratch;

use crate::cosign;

fn vectors() -> PathBuf {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/bundle-verify");
    assert!(
        path.is_dir(),
        "the conformance vectors must be beside this checkout at {}",
        path.display()
    );
    path
}

/// Runs one case, with the artifact file or only its digest (`sha256:<hex>`); `true` if our
/// verdict is the expected one.
fn run_case(scratch: &Scratch, case: &Path, by_digest: bool) -> bool {
    let name = case
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let should_fail = name.ends_with("_fail");
    let run = cosign(scratch).args(case_arguments(case, by_digest)).run();
    assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
    let accepted = run.code == Some(0);
    accepted != should_fail
}

/// `verify-blob` arguments for a case, as cosign 3 takes them.
fn case_arguments(case: &Path, by_digest: bool) -> Vec<String> {
    let artifact = if case.join("artifact").exists() {
        case.join("artifact")
    } else {
        vectors().join("a.txt")
    };
    let mut args: Vec<String> = vec![
        "verify-blob".into(),
        "--bundle".into(),
        case.join("bundle.sigstore.json").display().to_string(),
    ];
    if case.join("trusted_root.json").exists() {
        args.extend([
            "--trusted-root".into(),
            case.join("trusted_root.json").display().to_string(),
        ]);
    }
    if case.join("key.pub").exists() {
        args.extend(["--key".into(), case.join("key.pub").display().to_string()]);
    } else {
        let read = |file: &str, default: &str| {
            std::fs::read_to_string(case.join(file))
                .map(|text| text.trim().to_owned())
                .unwrap_or_else(|_| default.to_owned())
        };
        args.extend([
            "--certificate-identity".into(),
            read("identity", "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"),
            "--certificate-oidc-issuer".into(),
            read("issuer", "https://token.actions.githubusercontent.com"),
        ]);
    }
    if by_digest {
        let bytes = std::fs::read(&artifact).expect("artifact");
        args.push(cosign_core::digest::Digest::sha256(&bytes).to_string());
    } else {
        args.push(artifact.display().to_string());
    }
    args
}

/// `--use-signed-timestamps` (at least one verified RFC 3161 timestamp) and
/// `--insecure-ignore-sct` give the same verdicts as in cosign 3.1 on the vectors they change.
#[test]
fn timestamp_and_sct_requirements_give_cosigns_verdicts() {
    use cosign_testkit::Peer;
    let scratch = Scratch::new();
    for (case, flag, accepted) in [
        ("happy-path-v0.3", "--use-signed-timestamps", false),
        (
            "rekor2-timestamp-with-embedded-cert",
            "--use-signed-timestamps",
            true,
        ),
        (
            "intoto-with-custom-trust-root",
            "--use-signed-timestamps",
            true,
        ),
        ("invalid-ct-key_fail", "--insecure-ignore-sct", true),
        ("happy-path-v0.3", "--insecure-ignore-sct", true),
    ] {
        let mut args = case_arguments(&vectors().join(case), false);
        let blob = args.pop().expect("artifact");
        if !args.iter().any(|arg| arg == "--trusted-root") {
            // cosign would fetch the public-good root from TUF: give it the file.
            let root = vectors().join("../public-good-trusted_root.json");
            args.extend(["--trusted-root".to_owned(), root.display().to_string()]);
        }
        args.extend([flag.to_owned(), blob]);
        let ours = cosign(&scratch).args(&args).run();
        let theirs = scratch.command(Peer::Cosign3.path()).args(&args).run();
        assert_eq!(
            ours.code == Some(0),
            accepted,
            "{case} {flag}: {}",
            ours.stderr
        );
        assert_eq!(
            theirs.code == Some(0),
            accepted,
            "cosign 3.1, {case} {flag}: {}",
            theirs.stderr
        );
    }
}

#[test]
fn the_conformance_cases_get_the_expected_verdict() {
    let scratch = Scratch::new();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(vectors())
        .expect("read vectors")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70);
    let mut wrong = Vec::new();
    let mut passed = 0;
    for case in &cases {
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for by_digest in [false, true] {
            let ok = run_case(&scratch, case, by_digest);
            passed += usize::from(ok);
            if !ok {
                wrong.push(format!(
                    "{name} (by {})",
                    if by_digest { "digest" } else { "file" }
                ));
            }
        }
    }
    eprintln!(
        "conformance: {passed} of {} runs (each case with its file and with its digest) give the expected verdict",
        cases.len() * 2
    );
    assert!(wrong.is_empty(), "wrong verdicts: {wrong:?}");
}

/// A keyless bundle through ours and real cosign 3.1 (offline, with the trusted root given):
/// the same verdicts, and the same words when the identity is not the expected one.
#[test]
fn keyless_verdicts_and_identity_errors_match_cosign_3() {
    use cosign_testkit::Peer;
    let scratch = Scratch::new();
    let case = vectors().join("happy-path-v0.3");
    let root = vectors().join("../public-good-trusted_root.json");
    let issuer = "https://token.actions.githubusercontent.com";
    let identity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    for (expected_identity, trigger, accepted) in [
        (identity, "workflow_dispatch", true),
        ("https://example.com/someone", "workflow_dispatch", false),
        (identity, "push", false),
    ] {
        let args = [
            "verify-blob".to_owned(),
            format!("--certificate-github-workflow-trigger={trigger}"),
            "--bundle".to_owned(),
            case.join("bundle.sigstore.json").display().to_string(),
            "--trusted-root".to_owned(),
            root.display().to_string(),
            "--certificate-identity".to_owned(),
            expected_identity.to_owned(),
            "--certificate-oidc-issuer".to_owned(),
            issuer.to_owned(),
            vectors().join("a.txt").display().to_string(),
        ];
        let ours = cosign(&scratch).args(&args).run();
        let theirs = scratch.command(Peer::Cosign3.path()).args(&args).run();
        assert_eq!(ours.code == Some(0), accepted, "{}", ours.stderr);
        assert_eq!(theirs.code == Some(0), accepted, "{}", theirs.stderr);
        assert_eq!(ours.stderr, theirs.stderr);
    }
}

/// cosign's environment overrides of the trusted material: Fulcio's CAs, the Rekor and CT log
/// keys, each from a PEM file, replacing that part of the embedded root.
#[test]
fn keyless_trust_can_come_from_cosigns_environment_variables() {
    use base64::Engine as _;
    let scratch = Scratch::new();
    let root: serde_json::Value = serde_json::from_slice(
        &std::fs::read(vectors().join("../public-good-trusted_root.json")).unwrap(),
    )
    .unwrap();
    let pem = |label: &str, base64: &str| {
        let der = base64::engine::general_purpose::STANDARD
            .decode(base64)
            .unwrap();
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|chunk| std::str::from_utf8(chunk).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    };
    let mut cas = String::new();
    for authority in root["certificateAuthorities"].as_array().unwrap() {
        for certificate in authority["certChain"]["certificates"].as_array().unwrap() {
            cas.push_str(&pem(
                "CERTIFICATE",
                certificate["rawBytes"].as_str().unwrap(),
            ));
        }
    }
    scratch.write("fulcio.pem", &cas);
    scratch.write(
        "rekor.pub",
        pem(
            "PUBLIC KEY",
            root["tlogs"][0]["publicKey"]["rawBytes"].as_str().unwrap(),
        ),
    );
    let ct_logs = root["ctlogs"].as_array().unwrap();
    scratch.write(
        "ctfe.pub",
        pem(
            "PUBLIC KEY",
            ct_logs.last().unwrap()["publicKey"]["rawBytes"]
                .as_str()
                .unwrap(),
        ),
    );
    // An unrelated self-signed CA: Fulcio's certificates no longer chain.
    let unrelated = root["timestampAuthorities"][0]["certChain"]["certificates"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["rawBytes"]
        .as_str()
        .unwrap()
        .to_owned();
    scratch.write("unrelated.pem", pem("CERTIFICATE", &unrelated));
    let case = vectors().join("happy-path-v0.3");
    let verify = |fulcio: &str| {
        cosign(&scratch)
            .args([
                "verify-blob",
                "--bundle",
                &case.join("bundle.sigstore.json").display().to_string(),
                "--certificate-identity",
                "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
                "--certificate-oidc-issuer",
                "https://token.actions.githubusercontent.com",
                &vectors().join("a.txt").display().to_string(),
            ])
            .env("SIGSTORE_ROOT_FILE", scratch.join(fulcio))
            .env("SIGSTORE_REKOR_PUBLIC_KEY", scratch.join("rekor.pub"))
            .env("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", scratch.join("ctfe.pub"))
            .run()
    };
    verify("fulcio.pem").success();
    let run = verify("unrelated.pem").failure(1);
    assert!(
        run.stderr.contains("verifying the certificate"),
        "{}",
        run.stderr
    );
}

/// `trusted-root create`: byte for byte what cosign 3.1 writes for the same services, and
/// `--with-default-services` (offline here: the embedded public-good root) verifies a
/// public-good bundle.
#[test]
fn trusted_root_create_writes_what_cosign_3_writes() {
    use cosign_testkit::Peer;
    let scratch = Scratch::new();
    for args in [
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "k.pem",
        ][..],
        &["ec", "-in", "k.pem", "-pubout", "-out", "k.pub"][..],
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "k.pem",
            "-subj",
            "/O=example/CN=example-ca",
            "-days",
            "30",
            "-out",
            "ca.pem",
        ][..],
    ] {
        scratch.command("openssl").args(args).run().success();
    }
    let specs = [
        "--rekor",
        "url=https://rekor.example,public-key=k.pub,start-time=2024-01-01T00:00:00Z,end-time=2030-01-01T00:00:00Z",
        "--ctfe",
        "url=https://ctfe.example,public-key=k.pub,start-time=2024-01-01T00:00:00Z",
        "--fulcio",
        "url=https://fulcio.example,certificate-chain=ca.pem",
        "--fulcio",
        "url=https://fulcio2.example,certificate-chain=ca.pem,start-time=2025-01-01T00:00:00Z",
    ];
    let ours = cosign(&scratch)
        .args(["trusted-root", "create"])
        .args(specs)
        .run()
        .success();
    let theirs = scratch
        .command(Peer::Cosign3.path())
        .args(["trusted-root", "create"])
        .args(specs)
        .run()
        .success();
    assert_eq!(ours.stdout, theirs.stdout);
    // The same refusals, in cosign's words.
    for (spec, message) in [
        (
            "url=https://rekor.example,public-key=k.pub",
            "parsing rekor spec: missing or empty required key 'start-time' in tlog spec",
        ),
        (
            "url=https://rekor.example,start-time=2024-01-01T00:00:00Z",
            "parsing rekor spec: missing or empty required key 'public-key' in tlog spec",
        ),
    ] {
        let ours = cosign(&scratch)
            .args(["trusted-root", "create", "--rekor", spec])
            .run()
            .failure(1);
        let theirs = scratch
            .command(Peer::Cosign3.path())
            .args(["trusted-root", "create", "--rekor", spec])
            .run()
            .failure(1);
        assert_eq!(ours.stderr, theirs.stderr);
        assert!(ours.stderr.contains(message), "{}", ours.stderr);
    }

    cosign(&scratch)
        .args([
            "trusted-root",
            "create",
            "--with-default-services",
            "--out",
            "root.json",
        ])
        .run()
        .success();
    let case = vectors().join("happy-path-v0.3");
    cosign(&scratch)
        .args([
            "verify-blob",
            "--bundle",
            &case.join("bundle.sigstore.json").display().to_string(),
            "--trusted-root",
            "root.json",
            "--certificate-identity-regexp",
            ".*",
            "--certificate-oidc-issuer",
            "https://token.actions.githubusercontent.com",
            &vectors().join("a.txt").display().to_string(),
        ])
        .run()
        .success();
}

/// Where we differ on purpose: an identity pattern must match the whole identity. cosign 3.1
/// accepts a pattern found anywhere in it (here, any workflow of any repository whose URL
/// contains `sigstore-conformance`).
#[test]
fn identity_patterns_match_whole_identities_where_cosign_matches_substrings() {
    use cosign_testkit::Peer;
    let scratch = Scratch::new();
    let args = |pattern: &str| {
        vec![
            "verify-blob".to_owned(),
            "--bundle".to_owned(),
            vectors()
                .join("happy-path-v0.3/bundle.sigstore.json")
                .display()
                .to_string(),
            "--trusted-root".to_owned(),
            vectors()
                .join("../public-good-trusted_root.json")
                .display()
                .to_string(),
            "--certificate-identity-regexp".to_owned(),
            pattern.to_owned(),
            "--certificate-oidc-issuer".to_owned(),
            "https://token.actions.githubusercontent.com".to_owned(),
            vectors().join("a.txt").display().to_string(),
        ]
    };
    scratch
        .command(Peer::Cosign3.path())
        .args(args("sigstore-conformance"))
        .run()
        .success();
    let ours = cosign(&scratch)
        .args(args("sigstore-conformance"))
        .run()
        .failure(1);
    assert!(
        ours.stderr.contains("cosign-rs anchors patterns"),
        "{}",
        ours.stderr
    );
    cosign(&scratch)
        .args(args("https://github.com/sigstore-conformance/.*"))
        .run()
        .success();
}
