//! Keyless signing (issue 13) against the keyless test stack (`cosign_testkit::keyless_stack`):
//! Fulcio and Rekor v1 from Sigstore's `@sigstore/mock`, the real `rekor-server` (v2) and
//! `timestamp-server`, an OIDC issuer. What ours signs, real cosign 3.1 and sigstore-python
//! verify; what they sign, ours verifies.

use std::path::Path;

use cosign_testkit::keyless_stack::{KeylessStack, Rekor, StackOptions};
use cosign_testkit::{Invocation, Peer, Run, Scratch};

use crate::{cosign, ours};

const IDENTITY: &str = "https://ci.cosign-rs.test/workflows/release";

fn stack(rekor: Rekor) -> KeylessStack {
    KeylessStack::start(StackOptions {
        rekor,
        timestamps: true,
    })
}

fn path(path: &Path) -> String {
    path.display().to_string()
}

/// `sign-blob` keyless with the stack's signing config and trusted root.
fn sign_blob(
    scratch: &Scratch,
    program: impl AsRef<std::ffi::OsStr>,
    stack: &KeylessStack,
    token: &str,
    bundle: &str,
) -> Run {
    scratch
        .command(program)
        .args(["sign-blob", "-y", "--identity-token", token])
        .args(["--signing-config", &path(&stack.signing_config_path())])
        .args(["--trusted-root", &path(&stack.trusted_root_path())])
        .args(["--bundle", bundle, "blob.txt"])
        .run()
}

fn verify_blob(
    scratch: &Scratch,
    program: impl AsRef<std::ffi::OsStr>,
    stack: &KeylessStack,
    identity: &str,
    bundle: &str,
) -> Invocation {
    scratch
        .command(program)
        .args(["verify-blob", "--bundle", bundle])
        .args(["--certificate-identity", identity])
        .args(["--certificate-oidc-issuer", stack.issuer()])
        .args(["--trusted-root", &path(&stack.trusted_root_path())])
        .args(["blob.txt"])
}

#[test]
fn cosign_signs_blobs_against_the_stack_and_ours_verifies() {
    for rekor in [Rekor::V1, Rekor::V2] {
        let stack = stack(rekor);
        let scratch = Scratch::new();
        scratch.write("blob.txt", "a blob signed keyless\n");
        let token = stack.token(IDENTITY);
        sign_blob(
            &scratch,
            Peer::Cosign3.path(),
            &stack,
            &token,
            "theirs.json",
        )
        .success();
        verify_blob(
            &scratch,
            Peer::Cosign3.path(),
            &stack,
            IDENTITY,
            "theirs.json",
        )
        .run()
        .success();
        let verified = verify_blob(&scratch, ours(), &stack, IDENTITY, "theirs.json")
            .run()
            .success();
        assert!(
            verified.stderr.contains("Verified OK"),
            "{rekor:?}: {}",
            verified.stderr
        );
        verify_blob(
            &scratch,
            ours(),
            &stack,
            "https://someone.else/",
            "theirs.json",
        )
        .run()
        .failure(1);
        let _ = cosign(&scratch);
    }
}

#[test]
fn ours_signs_blobs_keyless_and_cosign_verifies() {
    for rekor in [Rekor::V1, Rekor::V2] {
        let stack = stack(rekor);
        let scratch = Scratch::new();
        scratch.write("blob.txt", "a blob signed keyless by cosign-rs\n");
        let token = stack.token(IDENTITY);
        let signed = sign_blob(&scratch, ours(), &stack, &token, "ours.json").success();
        assert!(
            signed.stderr.contains("Wrote bundle to file ours.json"),
            "{}",
            signed.stderr
        );
        let bundle: serde_json::Value =
            serde_json::from_slice(&scratch.read("ours.json")).expect("bundle");
        let material = &bundle["verificationMaterial"];
        assert!(material["certificate"]["rawBytes"].is_string(), "{bundle}");
        assert_eq!(material["tlogEntries"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            material["timestampVerificationData"]["rfc3161Timestamps"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        let theirs = verify_blob(
            &scratch,
            Peer::Cosign3.path(),
            &stack,
            IDENTITY,
            "ours.json",
        )
        .run()
        .success();
        assert!(
            theirs.stderr.contains("Verified OK"),
            "{rekor:?}: {}",
            theirs.stderr
        );
        verify_blob(&scratch, ours(), &stack, IDENTITY, "ours.json")
            .run()
            .success();
        // Another identity, or another blob: refused by both.
        verify_blob(
            &scratch,
            Peer::Cosign3.path(),
            &stack,
            "https://someone.else/",
            "ours.json",
        )
        .run()
        .failure(1);
        scratch.write("blob.txt", "another blob\n");
        verify_blob(
            &scratch,
            Peer::Cosign3.path(),
            &stack,
            IDENTITY,
            "ours.json",
        )
        .run()
        .failure(1);
        verify_blob(&scratch, ours(), &stack, IDENTITY, "ours.json")
            .run()
            .failure(1);
    }
}
