//! The Sigstore bundle-verification conformance vectors (`shared/conformance/bundle-verify`),
//! run through `cosign verify-blob` as cosign 3 would run them. Cases ending in `_fail` must be
//! rejected, the others accepted. The key-based cases (`managed-key-*`) are required now; the
//! keyless ones arrive with certificate and timestamp verification, and are reported here.

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

/// Runs one case; `true` if our verdict is the expected one.
fn run_case(scratch: &Scratch, case: &Path) -> bool {
    let name = case
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let should_fail = name.ends_with("_fail");
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
    args.push(artifact.display().to_string());
    let run = cosign(scratch).args(&args).run();
    assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
    let accepted = run.code == Some(0);
    accepted != should_fail
}

#[test]
fn the_key_based_conformance_cases_pass_and_the_rest_are_reported() {
    let scratch = Scratch::new();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(vectors())
        .expect("read vectors")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    let mut key_based_failures = Vec::new();
    let (mut passed, mut total) = (0, 0);
    for case in &cases {
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ok = run_case(&scratch, case);
        total += 1;
        passed += usize::from(ok);
        if name.starts_with("managed-key-") && !ok {
            key_based_failures.push(name.clone());
        }
    }
    eprintln!("conformance: {passed} of {total} cases give the expected verdict");
    assert!(
        cases
            .iter()
            .filter(|case| case.to_string_lossy().contains("managed-key-"))
            .count()
            >= 4
    );
    assert!(
        key_based_failures.is_empty(),
        "key-based cases failing: {key_based_failures:?}"
    );
}
