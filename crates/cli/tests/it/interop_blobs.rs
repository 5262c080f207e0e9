//! Blobs: bundles and bare signatures, made by us and checked by real cosign 3.1 (and 2.5 for
//! the legacy form), and the reverse; tampering refused with cosign's message.

use cosign_testkit::{Peer, Run, Scratch};

use crate::{cosign, import_openssl_keys, ours};

/// The key types signed with here.
const KEYS: [&str; 5] = ["p256", "p384", "p521", "rsa2048", "ed25519"];

fn sign_blob(
    scratch: &Scratch,
    program: std::path::PathBuf,
    key: &str,
    bundle: &str,
    blob: &str,
) -> Run {
    scratch
        .command(program)
        .args([
            "sign-blob",
            "--key",
            key,
            "--tlog-upload=false",
            "--use-signing-config=false",
            "--bundle",
            bundle,
            blob,
            "--yes",
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
}

fn verify_blob(
    scratch: &Scratch,
    program: std::path::PathBuf,
    key: &str,
    bundle: &str,
    blob: &str,
) -> Run {
    scratch
        .command(program)
        .args([
            "verify-blob",
            "--key",
            key,
            "--bundle",
            bundle,
            "--insecure-ignore-tlog",
            blob,
        ])
        .run()
}

/// Every key type: we verify real cosign 3.1's bundles and our own; cosign 3.1 verifies ours
/// for P-256 and RSA. (cosign 3.1.1 cannot verify blob bundles made with P-384, P-521 or
/// Ed25519 keys, its own included: it checks them with SHA-256, or wants a digest pure
/// Ed25519 does not have. We do not depend on that.)
#[test]
fn bundles_cross_verify_with_real_cosign_for_every_key_type() {
    let scratch = Scratch::new();
    import_openssl_keys(&scratch, &KEYS);
    scratch.write("blob.txt", "a blob to sign\n");
    for name in KEYS {
        let (key, public) = (format!("{name}.key"), format!("{name}.pub"));
        let (ours_bundle, theirs_bundle) =
            (format!("ours-{name}.json"), format!("theirs-{name}.json"));
        let signed = sign_blob(&scratch, ours(), &key, &ours_bundle, "blob.txt").success();
        assert!(signed
            .stderr
            .contains(&format!("Wrote bundle to file {ours_bundle}")));
        verify_blob(&scratch, ours(), &public, &ours_bundle, "blob.txt").success();
        if matches!(name, "p256" | "rsa2048") {
            verify_blob(
                &scratch,
                Peer::Cosign3.path(),
                &public,
                &ours_bundle,
                "blob.txt",
            )
            .success();
        }
        sign_blob(
            &scratch,
            Peer::Cosign3.path(),
            &key,
            &theirs_bundle,
            "blob.txt",
        )
        .success();
        let ours_verify =
            verify_blob(&scratch, ours(), &public, &theirs_bundle, "blob.txt").success();
        assert!(
            ours_verify.stderr.ends_with("Verified OK\n"),
            "{name}: {}",
            ours_verify.stderr
        );
        // The same bytes for the parts that are not random.
        let ours_json: serde_json::Value =
            serde_json::from_slice(&scratch.read(&ours_bundle)).expect("json");
        let theirs_json: serde_json::Value =
            serde_json::from_slice(&scratch.read(&theirs_bundle)).expect("json");
        assert_eq!(
            ours_json["verificationMaterial"], theirs_json["verificationMaterial"],
            "{name}"
        );
        assert_eq!(
            ours_json["messageSignature"]["messageDigest"],
            theirs_json["messageSignature"]["messageDigest"],
            "{name}"
        );
    }
}

#[test]
fn a_tampered_blob_is_refused_as_cosign_refuses_it() {
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    scratch.write("blob.txt", "original\n");
    sign_blob(&scratch, ours(), "cosign.key", "bundle.json", "blob.txt").success();
    scratch.write("blob.txt", "tampered\n");
    let ours_run =
        verify_blob(&scratch, ours(), "cosign.pub", "bundle.json", "blob.txt").failure(1);
    let theirs = verify_blob(
        &scratch,
        Peer::Cosign3.path(),
        "cosign.pub",
        "bundle.json",
        "blob.txt",
    )
    .failure(1);
    assert_eq!(ours_run.stderr, theirs.stderr);
    // Another key.
    cosign(&scratch)
        .args(["generate-key-pair", "--output-key-prefix", "other"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    scratch.write("blob.txt", "original\n");
    verify_blob(&scratch, ours(), "other.pub", "bundle.json", "blob.txt").failure(1);
}

#[test]
fn standard_input_and_legacy_signatures_work_both_ways() {
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    scratch.write("blob.txt", "from stdin\n");
    cosign(&scratch)
        .args([
            "sign-blob",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--bundle",
            "stdin.json",
            "-",
        ])
        .env("COSIGN_PASSWORD", "pw")
        .stdin("from stdin\n")
        .run()
        .success();
    verify_blob(
        &scratch,
        Peer::Cosign3.path(),
        "cosign.pub",
        "stdin.json",
        "blob.txt",
    )
    .success();
    // cosign 2's bare signatures.
    let legacy = cosign(&scratch)
        .args([
            "sign-blob",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--new-bundle-format=false",
            "blob.txt",
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    scratch.write("ours.sig", legacy.stdout.trim());
    scratch
        .command(Peer::Cosign2.path())
        .args([
            "verify-blob",
            "--key",
            "cosign.pub",
            "--signature",
            "ours.sig",
            "--insecure-ignore-tlog",
            "blob.txt",
        ])
        .run()
        .success();
    scratch
        .command(Peer::Cosign2.path())
        .args([
            "sign-blob",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--output-signature",
            "theirs.sig",
            "blob.txt",
            "--yes",
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    cosign(&scratch)
        .args([
            "verify-blob",
            "--key",
            "cosign.pub",
            "--signature",
            "theirs.sig",
            "--insecure-ignore-tlog",
            "blob.txt",
        ])
        .run()
        .success();
}

#[test]
fn hostile_bundles_are_refused_quickly() {
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    scratch.write("blob.txt", "blob\n");
    sign_blob(&scratch, ours(), "cosign.key", "bundle.json", "blob.txt").success();
    let bundle = String::from_utf8(scratch.read("bundle.json")).expect("utf-8");
    // 10,000 log entries.
    let entry = r#"{"logIndex":"1","logId":{"keyId":"AA=="},"kindVersion":{"kind":"hashedrekord","version":"0.0.1"},"integratedTime":"1","canonicalizedBody":"AA=="}"#;
    let stuffed = bundle.replacen(
        r#""verificationMaterial":{"#,
        &format!(
            r#""verificationMaterial":{{"tlogEntries":[{}],"#,
            vec![entry; 10_000].join(",")
        ),
        1,
    );
    scratch.write("stuffed.json", stuffed);
    let run = verify_blob(&scratch, ours(), "cosign.pub", "stuffed.json", "blob.txt").failure(1);
    assert!(
        run.stderr
            .contains("10000 transparency log entries, over the limit of 32"),
        "{}",
        run.stderr
    );
    // A bundle for another artifact.
    scratch.write("other.txt", "another blob\n");
    sign_blob(&scratch, ours(), "cosign.key", "other.json", "other.txt").success();
    verify_blob(&scratch, ours(), "cosign.pub", "other.json", "blob.txt").failure(1);
    // Garbage.
    scratch.write("garbage.json", "{\"mediaType\":");
    let run = verify_blob(&scratch, ours(), "cosign.pub", "garbage.json", "blob.txt").failure(1);
    assert!(run.stderr.contains("loading bundle"), "{}", run.stderr);
}
