//! The other legacy-format commands against a real distribution registry and real cosign:
//! `download signature`, `attach signature`, `clean`, `triangulate`, `sign -r`,
//! `--upload=false` with the output files, and `COSIGN_REPOSITORY`.

use cosign_testkit::{Distribution, Peer, Scratch};

use crate::cosign;

fn setup() -> (Distribution, Scratch) {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    (registry, scratch)
}

fn sign(scratch: &Scratch, extra: &[&str]) -> cosign_testkit::Run {
    cosign(scratch)
        .args([
            "sign",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--new-bundle-format=false",
            "-y",
        ])
        .args(extra)
        .env("COSIGN_PASSWORD", "pw")
        .run()
}

fn real(scratch: &Scratch, args: &[&str]) -> cosign_testkit::Run {
    scratch
        .command(Peer::Cosign3.path())
        .args(args)
        .args(["--allow-http-registry"])
        .run()
}

#[test]
fn download_signature_prints_what_cosign_prints() {
    let (registry, scratch) = setup();
    let (image, _) = registry.push_random_image(&scratch, "lab/download:v1");
    sign(&scratch, &[&image]).success();
    sign(&scratch, &["-a", "team=blue", &image]).success();
    let ours = cosign(&scratch)
        .args(["download", "signature", &image])
        .run()
        .success();
    let theirs = real(&scratch, &["download", "signature", &image]).success();
    assert_eq!(ours.stdout, theirs.stdout);
    assert_eq!(ours.stdout.lines().count(), 2);
    let (unsigned, _) = registry.push_random_image(&scratch, "lab/download:v2");
    let ours = cosign(&scratch)
        .args(["download", "signature", &unsigned])
        .run()
        .failure(1);
    let theirs = real(&scratch, &["download", "signature", &unsigned]).failure(1);
    assert_eq!(ours.stderr, theirs.stderr);
}

#[test]
fn a_signature_made_offline_and_attached_verifies_with_real_cosign() {
    let (registry, scratch) = setup();
    let (image, digest) = registry.push_random_image(&scratch, "lab/attach:v1");
    let by_digest = format!("{}/lab/attach@{digest}", registry.address());
    // Sign without uploading, keeping the payload and the signature...
    sign(
        &scratch,
        &[
            "--upload=false",
            "--output-payload",
            "payload.json",
            "--output-signature",
            "payload.sig",
            &by_digest,
        ],
    )
    .success();
    assert!(cosign(&scratch)
        .args(["tree", &image])
        .run()
        .success()
        .stdout
        .contains("No Supply Chain"));
    // ...then attach them.
    cosign(&scratch)
        .args([
            "attach",
            "signature",
            "--payload",
            "payload.json",
            "--signature",
            "payload.sig",
            &image,
        ])
        .run()
        .success();
    real(
        &scratch,
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &image,
        ],
    )
    .success();
    cosign(&scratch)
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &image,
        ])
        .run()
        .success();
    // A signature over other bytes attached to the image does not verify.
    scratch.write("forged.sig", "MEUCIQDx1nq5ZUq1k5RCT0Q2yVn8b8Ao1tN0L6vzDGcRCsUbhgIgZ0ZqO1kGq8Gq2zPZ+EWD2ZUwDk7Y3QvPgq0m1nT2RvY=");
    let (other, _) = registry.push_random_image(&scratch, "lab/attach:v2");
    cosign(&scratch)
        .args(["attach", "signature", "--signature", "forged.sig", &other])
        .run()
        .success();
    cosign(&scratch)
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &other,
        ])
        .run()
        .failure(12);
}

#[test]
fn clean_removes_what_sign_added() {
    let (registry, scratch) = setup();
    let (image, digest) = registry.push_random_image(&scratch, "lab/clean:v1");
    sign(&scratch, &[&image]).success();
    let declined = cosign(&scratch).args(["clean", &image]).run().failure(1);
    assert!(declined.stderr.starts_with(
        "WARNING: this will remove all signatures, SBOMs and attestations from the image\nAre you sure you would like to continue? [y/N] Error: user declined the prompt\n"
    ));
    let cleaned = cosign(&scratch)
        .args(["clean", "-f", "--type", "signature", &image])
        .run()
        .success();
    assert_eq!(
        cleaned.stderr,
        format!(
            "Removed {}/lab/clean:{}.sig from {image}\n",
            registry.address(),
            digest.replace(':', "-")
        )
    );
    real(
        &scratch,
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &image,
        ],
    )
    .failure(10);
    // Nothing left: nothing said, success.
    let again = cosign(&scratch)
        .args(["clean", "-f", &image])
        .run()
        .success();
    assert_eq!(again.stderr, "");
}

#[test]
fn triangulate_names_the_same_place_as_cosign() {
    let (registry, scratch) = setup();
    let (image, _) = registry.push_random_image(&scratch, "lab/where:v1");
    for kind in ["signature", "attestation", "sbom", "digest"] {
        let ours = cosign(&scratch)
            .args(["triangulate", "--type", kind, &image])
            .run()
            .success();
        let theirs = real(&scratch, &["triangulate", "--type", kind, &image]).success();
        assert_eq!(ours.stdout, theirs.stdout, "{kind}");
    }
}

#[test]
fn recursive_signing_covers_every_platform_of_an_index() {
    let (registry, scratch) = setup();
    let (amd, amd_digest) = registry.push_random_image(&scratch, "lab/multi:amd64");
    let (arm, arm_digest) = registry.push_random_image(&scratch, "lab/multi:arm64");
    let index = format!("{}/lab/multi:v1", registry.address());
    scratch
        .command(Peer::Crane.path())
        .args([
            "index",
            "append",
            "-m",
            &amd,
            "-m",
            &arm,
            "-t",
            &index,
            "--insecure",
        ])
        .run()
        .success();
    sign(&scratch, &["-r", &index]).success();
    for digest in [amd_digest, arm_digest] {
        let child = format!("{}/lab/multi@{digest}", registry.address());
        real(
            &scratch,
            &[
                "verify",
                "--key",
                "cosign.pub",
                "--insecure-ignore-tlog",
                &child,
            ],
        )
        .success();
    }
    real(
        &scratch,
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &index,
        ],
    )
    .success();
}

#[test]
fn cosign_repository_moves_signatures_elsewhere_for_both() {
    let (registry, scratch) = setup();
    let (image, _) = registry.push_random_image(&scratch, "lab/app:v1");
    let elsewhere = format!("{}/signatures/store", registry.address());
    cosign(&scratch)
        .args([
            "sign",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--new-bundle-format=false",
            "-y",
            &image,
        ])
        .env("COSIGN_PASSWORD", "pw")
        .env("COSIGN_REPOSITORY", &elsewhere)
        .run()
        .success();
    // Not next to the image...
    real(
        &scratch,
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &image,
        ],
    )
    .failure(10);
    // ...but where COSIGN_REPOSITORY says, for real cosign and for us.
    scratch
        .command(Peer::Cosign3.path())
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--allow-http-registry",
            &image,
        ])
        .env("COSIGN_REPOSITORY", &elsewhere)
        .run()
        .success();
    cosign(&scratch)
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &image,
        ])
        .env("COSIGN_REPOSITORY", &elsewhere)
        .run()
        .success();
}

#[test]
fn signing_many_images_opens_the_key_once_and_reads_the_password_once() {
    let (registry, scratch) = setup();
    let images: Vec<String> = (0..3)
        .map(|i| {
            registry
                .push_random_image(&scratch, &format!("lab/many{i}:v1"))
                .0
        })
        .collect();
    // The password comes from stdin, which can be read only once: all three must be signed.
    cosign(&scratch)
        .args(["generate-key-pair", "--output-key-prefix", "piped"])
        .stdin("from stdin\n")
        .run()
        .success();
    cosign(&scratch)
        .args(["sign", "--key", "piped.key", "--tlog-upload=false", "-y"])
        .args(&images)
        .stdin("from stdin\n")
        .run()
        .success();
    let run = cosign(&scratch)
        .args(["verify", "--key", "piped.pub", "--insecure-ignore-tlog"])
        .args(&images)
        .run()
        .success();
    assert_eq!(run.stderr.matches("Verification for").count(), 3);
}
