//! Images signed in cosign 3's default format (Sigstore bundles as OCI 1.1 referrers, under the
//! fallback tag on distribution 2.8, which has no referrers API), against real cosign 3.1; and
//! both formats read at once.

use cosign_testkit::fake_registry::{FakeRegistry, Fault, Rule};
use cosign_testkit::{Distribution, Peer, Run, Scratch};

use crate::{cosign, key_pair, ours};

fn our_sign(scratch: &Scratch, key: &str, image: &str, extra: &[&str]) -> Run {
    cosign(scratch)
        .args([
            "sign",
            "--key",
            key,
            "--tlog-upload=false",
            "--use-signing-config=false",
            "-y",
        ])
        .args(extra)
        .args([image])
        .env("COSIGN_PASSWORD", "pw")
        .run()
}

fn their_sign(scratch: &Scratch, key: &str, image: &str, extra: &[&str]) -> Run {
    scratch
        .command(Peer::Cosign3.path())
        .args([
            "sign",
            "--key",
            key,
            "--tlog-upload=false",
            "--use-signing-config=false",
            "--allow-http-registry",
            "-y",
        ])
        .args(extra)
        .args([image])
        .env("COSIGN_PASSWORD", "pw")
        .run()
}

fn verify(
    scratch: &Scratch,
    program: std::path::PathBuf,
    public: &str,
    image: &str,
    extra: &[&str],
) -> Run {
    let mut invocation = scratch
        .command(&program)
        .args(["verify", "--key", public, "--insecure-ignore-tlog"])
        .args(extra);
    if program != std::path::Path::new(env!("CARGO_BIN_EXE_cosign")) {
        invocation = invocation.args(["--allow-http-registry"]);
    }
    invocation.args([image]).run()
}

#[test]
fn our_bundles_are_read_by_cosign_3_and_theirs_by_us_with_the_same_output() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let (by_us, _) = registry.push_random_image(&scratch, "lab/bundled:ours");
    let (by_them, _) = registry.push_random_image(&scratch, "lab/bundled:theirs");
    our_sign(&scratch, "cosign.key", &by_us, &["-a", "team=red"]).success();
    their_sign(&scratch, "cosign.key", &by_them, &["-a", "team=blue"]).success();
    for image in [&by_us, &by_them] {
        for output in ["json", "text"] {
            let ours_run = verify(&scratch, ours(), "cosign.pub", image, &["-o", output]).success();
            let theirs = verify(
                &scratch,
                Peer::Cosign3.path(),
                "cosign.pub",
                image,
                &["-o", output],
            )
            .success();
            assert_eq!(ours_run.stdout, theirs.stdout, "{image} {output}");
            assert_eq!(ours_run.stderr, theirs.stderr, "{image} {output}");
        }
        let ours_tree = scratch
            .command(ours())
            .args(["tree", image])
            .run()
            .success();
        let theirs_tree = scratch
            .command(Peer::Cosign3.path())
            .args(["tree", "--allow-http-registry", image])
            .run()
            .success();
        assert_eq!(ours_tree.stdout, theirs_tree.stdout);
        assert!(ours_tree.stdout.contains("artifacts via OCI referrer"));
    }
}

#[test]
fn failures_on_the_bundle_path_are_cosign_3s() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    key_pair(&scratch, "other");
    let (image, _) = registry.push_random_image(&scratch, "lab/bundled:v1");
    our_sign(&scratch, "cosign.key", &image, &["-a", "env=prod"]).success();
    for (public, extra) in [("other.pub", vec![]), ("cosign.pub", vec!["-a", "env=dev"])] {
        let ours_run = verify(&scratch, ours(), public, &image, &extra).failure(1);
        let theirs = verify(&scratch, Peer::Cosign3.path(), public, &image, &extra).failure(1);
        assert_eq!(ours_run.stderr, theirs.stderr, "{public} {extra:?}");
    }
}

#[test]
fn a_legacy_signature_and_a_bundle_each_verify_in_ours() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "legacy");
    key_pair(&scratch, "bundle");
    let (image, _) = registry.push_random_image(&scratch, "lab/both:v1");
    our_sign(
        &scratch,
        "legacy.key",
        &image,
        &["--new-bundle-format=false"],
    )
    .success();
    their_sign(&scratch, "bundle.key", &image, &[]).success();
    let with_legacy_key = verify(&scratch, ours(), "legacy.pub", &image, &[]).success();
    assert!(with_legacy_key
        .stdout
        .contains("cosign container image signature"));
    let with_bundle_key = verify(&scratch, ours(), "bundle.pub", &image, &[]).success();
    assert!(with_bundle_key
        .stdout
        .contains("https://sigstore.dev/cosign/sign/v1"));
    // cosign 3 stops at the bundle and never looks at the legacy signature.
    verify(&scratch, Peer::Cosign3.path(), "legacy.pub", &image, &[]).failure(1);
    // With --new-bundle-format=false, only the legacy signature counts, as in cosign 3.
    verify(
        &scratch,
        ours(),
        "bundle.pub",
        &image,
        &["--new-bundle-format=false"],
    )
    .failure(12);
    // cosign 2 and skopeo still see the legacy one.
    verify(&scratch, Peer::Cosign2.path(), "legacy.pub", &image, &[]).success();
}

#[test]
fn six_concurrent_bundle_signers_keep_six_signatures() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    let (image, _) = registry.push_random_image(&scratch, "lab/contended:bundles");
    let names: Vec<String> = (0..6).map(|index| format!("signer{index}")).collect();
    for name in &names {
        key_pair(&scratch, name);
    }
    std::thread::scope(|threads| {
        for name in &names {
            let (scratch, image) = (&scratch, &image);
            threads.spawn(move || our_sign(scratch, &format!("{name}.key"), image, &[]).success());
        }
    });
    for name in &names {
        verify(&scratch, ours(), &format!("{name}.pub"), &image, &[]).success();
        verify(
            &scratch,
            Peer::Cosign3.path(),
            &format!("{name}.pub"),
            &image,
            &[],
        )
        .success();
    }
}

#[test]
fn a_failing_referrers_listing_is_a_registry_error_not_unsigned() {
    let registry = FakeRegistry::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    registry.put_image("lab/app", "v1", b"content");
    let image = format!("{}/lab/app:v1", registry.address());
    our_sign(&scratch, "cosign.key", &image, &[]).success();
    verify(&scratch, ours(), "cosign.pub", &image, &[]).success();
    registry.add_rule(Rule {
        method: Some("GET".to_owned()),
        path_contains: "/referrers/".to_owned(),
        times: None,
        fault: Fault::Status {
            status: 429,
            retry_after: Some("0".to_owned()),
        },
    });
    let run = verify(&scratch, ours(), "cosign.pub", &image, &[]).failure(1);
    assert!(
        run.stderr.contains("429") || run.stderr.contains("TOOMANYREQUESTS"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("no signatures found"),
        "{}",
        run.stderr
    );
}
