//! Signing with a key and a certificate the signer brings (`--certificate`,
//! `--certificate-chain`: a private PKI made by OpenSSL), and verifying against that PKI's CAs
//! (`--certificate-chain`, `--ca-roots`/`--ca-intermediates`, or a trusted root), in both
//! directions with the real cosign 3.1: images in both formats, blobs in both formats, and the
//! refusals before anything is signed.

use cosign_testkit::pki::{Leaf, Pki};
use cosign_testkit::{Distribution, Peer, Run, Scratch};

use crate::{key_pair, ours};

const EMAIL: &str = "signer@example.com";
const ISSUER: &str = "https://issuer.example";
const OFFLINE_SIGNING: [&str; 3] = ["--tlog-upload=false", "--use-signing-config=false", "-y"];

fn path(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A PKI `name` whose leaf (for [`EMAIL`]) certifies `key`'s public key (`<key>.pub`).
fn make_pki(
    scratch: &Scratch,
    name: &str,
    key: &str,
    issuer: Option<&str>,
    code_signing: bool,
) -> Pki {
    Pki::create(
        scratch.path(),
        name,
        &Leaf {
            public_key: &scratch.join(format!("{key}.pub")),
            email: EMAIL,
            issuer,
            code_signing,
        },
    )
}

/// A key pair `signer` and a PKI `pki` whose leaf certifies it.
fn signer_with_pki(scratch: &Scratch) -> Pki {
    key_pair(scratch, "signer");
    make_pki(scratch, "pki", "signer", Some(ISSUER), true)
}

fn program(peer: Option<Peer>) -> std::path::PathBuf {
    peer.map_or_else(ours, |peer| peer.path().to_path_buf())
}

fn sign_image(
    scratch: &Scratch,
    peer: Option<Peer>,
    pki: &Pki,
    image: &str,
    extra: &[&str],
) -> Run {
    let mut invocation = scratch
        .command(program(peer))
        .args(["sign", "--key", "signer.key"])
        .args(["--certificate", &path(&pki.leaf)])
        .args(["--certificate-chain", &path(&pki.chain)])
        .args(OFFLINE_SIGNING)
        .args(extra);
    if peer.is_some() {
        invocation = invocation.args(["--allow-http-registry"]);
    }
    invocation.args([image]).env("COSIGN_PASSWORD", "pw").run()
}

/// `verify` of `image` by the certificate identity, offline (no SCT, no log), with `trust`
/// naming the CAs.
fn verify_image(
    scratch: &Scratch,
    peer: Option<Peer>,
    image: &str,
    identity: &str,
    trust: &[&str],
) -> Run {
    let mut invocation = scratch
        .command(program(peer))
        .args(["verify", "--certificate-identity", identity])
        .args(["--certificate-oidc-issuer", ISSUER])
        .args(["--insecure-ignore-sct", "--insecure-ignore-tlog"])
        .args(trust);
    if peer.is_some() {
        invocation = invocation.args(["--allow-http-registry"]);
    }
    invocation.args([image]).run()
}

/// A trusted root whose certificate authority is the PKI (made by cosign 3.1).
fn trusted_root_of(scratch: &Scratch, pki: &Pki, out: &str) {
    scratch
        .command(Peer::Cosign3.path())
        .args(["trusted-root", "create", "--out", out])
        .args([
            "--fulcio",
            &format!(
                "url=https://ca.example,certificate-chain={}",
                path(&pki.chain)
            ),
        ])
        .run()
        .success();
}

#[test]
fn images_signed_with_a_brought_certificate_verify_both_ways_in_the_legacy_format() {
    let scratch = Scratch::new();
    let registry = Distribution::start();
    let pki = signer_with_pki(&scratch);
    let other = make_pki(&scratch, "other", "signer", Some(ISSUER), true);
    let legacy = ["--new-bundle-format=false"];
    let chain = path(&pki.chain);
    let (root, intermediate) = (path(&pki.root), path(&pki.intermediate));
    let trusts: [Vec<&str>; 2] = [
        vec!["--certificate-chain", &chain],
        vec!["--ca-roots", &root, "--ca-intermediates", &intermediate],
    ];
    for signer in [None, Some(Peer::Cosign3)] {
        let (image, _) = registry.push_random_image(
            &scratch,
            &format!("lab/byo:{signer:?}").replace(['(', ')'], ""),
        );
        sign_image(&scratch, signer, &pki, &image, &legacy).success();
        for verifier in [None, Some(Peer::Cosign3)] {
            for trust in &trusts {
                let verified = verify_image(&scratch, verifier, &image, EMAIL, trust).success();
                assert!(
                    verified.stdout.contains(EMAIL) || verified.stderr.contains(EMAIL),
                    "signed by {signer:?}, verified by {verifier:?}: {}{}",
                    verified.stdout,
                    verified.stderr
                );
            }
            // Another identity, or another PKI's CAs: refused by both.
            verify_image(
                &scratch,
                verifier,
                &image,
                "someone@example.com",
                &trusts[0],
            )
            .failure(12);
            let other_chain = path(&other.chain);
            verify_image(
                &scratch,
                verifier,
                &image,
                EMAIL,
                &["--certificate-chain", &other_chain],
            )
            .failure(12);
        }
        // --certificate pins the leaf: this one verifies, another PKI's (same key) does not.
        let leaf = path(&pki.leaf);
        verify_image(
            &scratch,
            None,
            &image,
            EMAIL,
            &["--certificate", &leaf, "--certificate-chain", &chain],
        )
        .success();
        let other_leaf = path(&other.leaf);
        let refused = verify_image(
            &scratch,
            None,
            &image,
            EMAIL,
            &[
                "--certificate",
                &other_leaf,
                "--certificate-chain",
                &path(&other.chain),
            ],
        )
        .failure(12);
        assert!(
            refused.stderr.contains("--certificate"),
            "{}",
            refused.stderr
        );
        // The key alone still verifies the signature.
        scratch
            .command(ours())
            .args([
                "verify",
                "--key",
                "signer.pub",
                "--insecure-ignore-tlog",
                &image,
            ])
            .run()
            .success();
    }
}

#[test]
fn images_signed_with_a_brought_certificate_verify_both_ways_in_the_bundle_format() {
    let scratch = Scratch::new();
    let registry = Distribution::start();
    let pki = signer_with_pki(&scratch);
    trusted_root_of(&scratch, &pki, "pki-trusted-root.json");
    let chain = path(&pki.chain);
    for signer in [None, Some(Peer::Cosign3)] {
        let (image, _) = registry.push_random_image(
            &scratch,
            &format!("lab/byo-bundle:{signer:?}").replace(['(', ')'], ""),
        );
        sign_image(&scratch, signer, &pki, &image, &[]).success();
        for verifier in [None, Some(Peer::Cosign3)] {
            verify_image(
                &scratch,
                verifier,
                &image,
                EMAIL,
                &["--trusted-root", "pki-trusted-root.json"],
            )
            .success();
            verify_image(
                &scratch,
                verifier,
                &image,
                "someone@example.com",
                &["--trusted-root", "pki-trusted-root.json"],
            )
            .failure(1);
        }
        // Ours also takes the chain file for bundles (cosign 3.1 refuses it there).
        verify_image(
            &scratch,
            None,
            &image,
            EMAIL,
            &["--certificate-chain", &chain],
        )
        .success();
    }
}

#[test]
fn blobs_signed_with_a_brought_certificate_verify_both_ways_in_both_formats() {
    let scratch = Scratch::new();
    let pki = signer_with_pki(&scratch);
    let other = make_pki(&scratch, "other", "signer", Some(ISSUER), true);
    trusted_root_of(&scratch, &pki, "pki-trusted-root.json");
    scratch.write("blob.txt", "a blob signed with a brought certificate\n");
    let chain = path(&pki.chain);
    let identity = [
        "--certificate-identity",
        EMAIL,
        "--certificate-oidc-issuer",
        ISSUER,
        "--insecure-ignore-sct",
        "--insecure-ignore-tlog",
    ];
    for signer in [None, Some(Peer::Cosign3)] {
        let sign = |extra: &[&str]| {
            scratch
                .command(program(signer))
                .args(["sign-blob", "--key", "signer.key"])
                .args([
                    "--certificate",
                    &path(&pki.leaf),
                    "--certificate-chain",
                    &chain,
                ])
                .args(OFFLINE_SIGNING)
                .args(extra)
                .args(["blob.txt"])
                .env("COSIGN_PASSWORD", "pw")
                .run()
                .success()
        };
        sign(&["--bundle", "blob.bundle.json"]);
        sign(&[
            "--new-bundle-format=false",
            "--output-signature",
            "blob.sig",
            "--output-certificate",
            "blob.crt",
        ]);
        for verifier in [None, Some(Peer::Cosign3)] {
            let verify = |extra: &[&str]| {
                scratch
                    .command(program(verifier))
                    .args(["verify-blob"])
                    .args(identity)
                    .args(extra)
                    .args(["blob.txt"])
                    .run()
            };
            verify(&[
                "--bundle",
                "blob.bundle.json",
                "--trusted-root",
                "pki-trusted-root.json",
            ])
            .success();
            verify(&[
                "--signature",
                "blob.sig",
                "--certificate",
                "blob.crt",
                "--certificate-chain",
                &chain,
            ])
            .success();
            verify(&[
                "--signature",
                "blob.sig",
                "--certificate",
                "blob.crt",
                "--certificate-chain",
                &path(&other.chain),
            ])
            .failure(1);
        }
    }
}

#[test]
fn a_certificate_that_does_not_fit_is_refused_before_anything_is_signed() {
    let scratch = Scratch::new();
    let registry = Distribution::start();
    let pki = signer_with_pki(&scratch);
    key_pair(&scratch, "stranger");
    let stranger = make_pki(&scratch, "stranger", "stranger", None, true);
    let not_for_code = make_pki(&scratch, "documents", "signer", None, false);
    let (image, _) = registry.push_random_image(&scratch, "lab/byo-refused:1");
    let cases: [(&str, Vec<String>, &str); 4] = [
        (
            "a certificate for another key",
            vec!["--certificate".into(), path(&stranger.leaf)],
            "public key in certificate does not match the provided public key",
        ),
        (
            "a chain without its certificate",
            vec!["--certificate-chain".into(), path(&pki.chain)],
            "no leaf certificate found or provided while specifying chain",
        ),
        (
            "a chain that does not link the certificate",
            vec![
                "--certificate".into(),
                path(&pki.leaf),
                "--certificate-chain".into(),
                path(&stranger.chain),
            ],
            "unable to validate certificate chain",
        ),
        (
            "a certificate not for code signing",
            vec![
                "--certificate".into(),
                path(&not_for_code.leaf),
                "--certificate-chain".into(),
                path(&not_for_code.chain),
            ],
            "unable to validate certificate chain",
        ),
    ];
    for (case, flags, message) in &cases {
        for peer in [None, Some(Peer::Cosign3)] {
            let mut invocation = scratch
                .command(program(peer))
                .args(["sign", "--key", "signer.key", "--new-bundle-format=false"])
                .args(OFFLINE_SIGNING)
                .args(flags);
            if peer.is_some() {
                invocation = invocation.args(["--allow-http-registry"]);
            }
            let refused = invocation
                .args([&image])
                .env("COSIGN_PASSWORD", "pw")
                .run()
                .failure(1);
            assert!(
                refused.stderr.contains(message),
                "{case}, {peer:?}: {}",
                refused.stderr
            );
        }
        let blob = scratch
            .command(ours())
            .args([
                "sign-blob",
                "--key",
                "signer.key",
                "--bundle",
                "refused.json",
            ])
            .args(OFFLINE_SIGNING)
            .args(flags)
            .args(["signer.pub"])
            .env("COSIGN_PASSWORD", "pw")
            .run()
            .failure(1);
        assert!(blob.stderr.contains(message), "{case}: {}", blob.stderr);
        assert!(!scratch.join("refused.json").exists(), "{case}");
    }
    let tree = scratch
        .command(ours())
        .args(["tree", &image])
        .run()
        .success();
    assert!(!tree.stdout.contains("signature"), "{}", tree.stdout);
    // A chain or CA file of too many certificates is refused before any is checked.
    let root_pem = scratch.read(&pki.root);
    scratch.write("many.pem", root_pem.repeat(65));
    let refused = scratch
        .command(ours())
        .args([
            "sign-blob",
            "--key",
            "signer.key",
            "--bundle",
            "refused.json",
        ])
        .args(OFFLINE_SIGNING)
        .args([
            "--certificate",
            &path(&pki.leaf),
            "--certificate-chain",
            "many.pem",
        ])
        .args(["signer.pub"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .failure(1);
    assert!(
        refused.stderr.contains("more than 64 certificates"),
        "{}",
        refused.stderr
    );
    let refused = scratch
        .command(ours())
        .args([
            "verify-blob",
            "--signature",
            "x",
            "--certificate",
            &path(&pki.leaf),
        ])
        .args(["--ca-roots", "many.pem", "--certificate-identity", EMAIL])
        .args(["--certificate-oidc-issuer", ISSUER, "signer.pub"])
        .run()
        .failure(1);
    assert!(
        refused.stderr.contains("more than 64 certificates"),
        "{}",
        refused.stderr
    );
    // Keyless signing gets its certificate from Fulcio: a brought one is refused.
    let refused = scratch
        .command(ours())
        .args([
            "sign-blob",
            "--bundle",
            "b.json",
            "--certificate",
            &path(&pki.leaf),
            "signer.pub",
        ])
        .run()
        .failure(1);
    assert!(refused.stderr.contains("--key"), "{}", refused.stderr);
}
