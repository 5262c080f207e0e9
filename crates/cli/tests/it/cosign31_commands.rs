//! The commands of cosign 3.1 that behaved differently or were missing, compared with real
//! cosign 3.1 on the same images and files: `clean` and `download signature` with cosign 3's
//! bundles (on a registry with the referrers API and on one with the fallback tag), P-384 keys
//! in `verify-blob`, legacy blob bundles, `env`, `login`, `generate`, `bundle create`,
//! `bundle upgrade`, deprecation notices and argument errors.

use cosign_testkit::{Distribution, EmbeddedRegistry, Peer, Scratch};

use crate::{cosign, key_pair, ours};

fn cosign3(scratch: &Scratch, args: &[&str]) -> cosign_testkit::Run {
    scratch
        .command(Peer::Cosign3.path())
        .args(args)
        .env("COSIGN_PASSWORD", "pw")
        .run()
}

/// Signs `image` with cosign 3.1 in both formats and attests it in the bundle format.
fn sign_both_formats_and_attest(scratch: &Scratch, image: &str) {
    let offline = [
        "--tlog-upload=false",
        "--use-signing-config=false",
        "--allow-http-registry",
        "-y",
    ];
    for format in ["--new-bundle-format=true", "--new-bundle-format=false"] {
        let mut args = vec!["sign", "--key", "cosign.key", format];
        args.extend(offline);
        args.push(image);
        cosign3(scratch, &args).success();
    }
    scratch.write("predicate.json", r#"{"build":"lab"}"#);
    let mut args = vec![
        "attest",
        "--key",
        "cosign.key",
        "--type",
        "custom",
        "--predicate",
        "predicate.json",
    ];
    args.extend(offline);
    args.push(image);
    cosign3(scratch, &args).success();
}

/// Replaces digests and the registry address so two runs on twin images compare.
fn normalized(text: &str, address: &str, tag: &str) -> String {
    let re = regex_lite(text);
    re.replace(address, "REGISTRY").replace(tag, "TAG")
}

/// `sha256:<hex>` and `sha256-<hex>` become `sha256:X` / `sha256-X`.
fn regex_lite(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("sha256") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 6..];
        let separator = after.chars().next().unwrap_or(' ');
        let hex: String = after
            .chars()
            .skip(1)
            .take_while(char::is_ascii_hexdigit)
            .collect();
        if matches!(separator, ':' | '-') && hex.len() == 64 {
            out.push_str(&format!("sha256{separator}X"));
            rest = &after[65..];
        } else {
            out.push_str("sha256");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn clean_compared_with_cosign(
    address: &str,
    scratch: &Scratch,
    push: &dyn Fn(&str) -> (String, String),
) {
    let (ours_image, _) = push("lab/clean:ours");
    let (their_image, _) = push("lab/clean:theirs");
    for image in [&ours_image, &their_image] {
        sign_both_formats_and_attest(scratch, image);
    }
    let ours_run = cosign(scratch)
        .args(["clean", "-f", &ours_image])
        .run()
        .success();
    let theirs = cosign3(
        scratch,
        &["clean", "-f", "--allow-http-registry", &their_image],
    )
    .success();
    assert_eq!(
        normalized(&ours_run.stderr, address, "ours"),
        normalized(&theirs.stderr, address, "theirs"),
        "ours:\n{}\ncosign 3.1:\n{}",
        ours_run.stderr,
        theirs.stderr
    );
    assert!(ours_run.stderr.contains("Removed"), "{}", ours_run.stderr);
    // Nothing is left: both verifiers find no signature in either format.
    for image in [&ours_image, &their_image] {
        let ours_verify = cosign(scratch)
            .args([
                "verify",
                "--key",
                "cosign.pub",
                "--insecure-ignore-tlog",
                image,
            ])
            .run()
            .failure(10);
        assert!(
            ours_verify.stderr.contains("no signatures found"),
            "{}",
            ours_verify.stderr
        );
        cosign3(
            scratch,
            &[
                "verify",
                "--key",
                "cosign.pub",
                "--insecure-ignore-tlog",
                "--allow-http-registry",
                image,
            ],
        )
        .failure(10);
    }
    // Cleaning again: nothing to do, nothing printed, success.
    let again = cosign(scratch)
        .args(["clean", "-f", &ours_image])
        .run()
        .success();
    assert_eq!(again.stderr, "");
}

#[test]
fn clean_removes_bundles_as_cosign_3_does_with_the_referrers_api() {
    let registry = EmbeddedRegistry::start(&ours(), None);
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    clean_compared_with_cosign(registry.address(), &scratch, &|tag| {
        registry.push_random_image(&scratch, tag)
    });
}

#[test]
fn clean_removes_bundles_as_cosign_3_does_with_the_fallback_tag() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    clean_compared_with_cosign(registry.address(), &scratch, &|tag| {
        registry.push_random_image(&scratch, tag)
    });
}

#[test]
fn clean_by_type_removes_that_kind_in_both_formats_and_spares_other_tools_referrers() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let (image, _) = registry.push_random_image(&scratch, "lab/typed:v1");
    sign_both_formats_and_attest(&scratch, &image);
    scratch.write("notes.json", "{}");
    scratch
        .command(Peer::Oras.path())
        .args([
            "attach",
            "--plain-http",
            "--artifact-type",
            "application/example+json",
            &image,
            "notes.json",
        ])
        .run()
        .success();
    // --type signature: the legacy .sig and the signature bundle go (cosign 3.1 leaves the
    // bundle, so the image still verifies); the attestation stays.
    cosign(&scratch)
        .args(["clean", "-f", "--type", "signature", &image])
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
        .run()
        .failure(10);
    cosign3(
        &scratch,
        &[
            "verify-attestation",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--type",
            "custom",
            "--allow-http-registry",
            &image,
        ],
    )
    .success();
    // --type referrer: the attestation bundle goes; oras's artifact is still listed (the
    // fallback index is rewritten, not deleted).
    cosign(&scratch)
        .args(["clean", "-f", "--type", "referrer", &image])
        .run()
        .success();
    cosign3(
        &scratch,
        &[
            "verify-attestation",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--type",
            "custom",
            "--allow-http-registry",
            &image,
        ],
    )
    .failure(1);
    let discovered = scratch
        .command(Peer::Oras.path())
        .args(["discover", "--plain-http", &image])
        .run()
        .success();
    assert!(
        discovered.stdout.contains("application/example+json"),
        "{}",
        discovered.stdout
    );
    // Without -f, cosign's prompt; declined, nothing happens.
    let declined = cosign(&scratch)
        .args(["clean", &image])
        .stdin("n\n")
        .run()
        .failure(1);
    assert!(
        declined
            .stderr
            .contains("Are you sure you would like to continue? [y/N] "),
        "{}",
        declined.stderr
    );
}

#[test]
fn download_signature_prints_bundles_as_cosign_3_does_and_legacy_signatures_too() {
    let registry = EmbeddedRegistry::start(&ours(), None);
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let (image, _) = registry.push_random_image(&scratch, "lab/download:v1");
    let offline = [
        "--tlog-upload=false",
        "--use-signing-config=false",
        "--allow-http-registry",
        "-y",
    ];
    let mut legacy = vec!["sign", "--key", "cosign.key", "--new-bundle-format=false"];
    legacy.extend(offline);
    legacy.push(&image);
    cosign3(&scratch, &legacy).success();
    let only_legacy = cosign3(
        &scratch,
        &["download", "signature", "--allow-http-registry", &image],
    )
    .success();
    let ours_legacy = cosign(&scratch)
        .args(["download", "signature", &image])
        .run()
        .success();
    assert_eq!(ours_legacy.stdout, only_legacy.stdout);
    let mut bundle = vec!["sign", "--key", "cosign.key"];
    bundle.extend(offline);
    bundle.push(&image);
    cosign3(&scratch, &bundle).success();
    let theirs = cosign3(
        &scratch,
        &["download", "signature", "--allow-http-registry", &image],
    )
    .success();
    let ours_both = cosign(&scratch)
        .args(["download", "signature", &image])
        .run()
        .success();
    // cosign 3.1 prints the bundle (and stops there); ours prints the same line, then the
    // legacy signature as cosign prints it.
    assert_eq!(
        ours_both.stdout,
        format!("{}{}", theirs.stdout, only_legacy.stdout)
    );
    assert!(
        theirs
            .stdout
            .starts_with(r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json""#),
        "{}",
        theirs.stdout
    );
}

#[test]
fn p384_blob_signatures_verify_in_ours_wherever_either_tool_accepts_them() {
    let scratch = Scratch::new();
    scratch
        .command("openssl")
        .args([
            "ecparam",
            "-name",
            "secp384r1",
            "-genkey",
            "-noout",
            "-out",
            "ec.pem",
        ])
        .run()
        .success();
    scratch
        .command("openssl")
        .args([
            "pkcs8", "-topk8", "-nocrypt", "-in", "ec.pem", "-out", "k.pem",
        ])
        .run()
        .success();
    scratch
        .command("openssl")
        .args(["pkey", "-in", "k.pem", "-pubout", "-out", "pub.pem"])
        .run()
        .success();
    cosign3(&scratch, &["import-key-pair", "--key", "k.pem", "-y"]).success();
    scratch.write("blob", "a blob\n");
    // cosign 3.1 signs with SHA-384; OpenSSL makes a SHA-256 one (what cosign 3.1 verifies).
    cosign3(
        &scratch,
        &[
            "sign-blob",
            "--key",
            "import-cosign.key",
            "--tlog-upload=false",
            "--use-signing-config=false",
            "--new-bundle-format=false",
            "--output-signature",
            "cosign.sig",
            "-y",
            "blob",
        ],
    )
    .success();
    scratch
        .command("openssl")
        .args([
            "dgst",
            "-sha256",
            "-sign",
            "k.pem",
            "-out",
            "sha256.der",
            "blob",
        ])
        .run()
        .success();
    use base64::Engine as _;
    scratch.write(
        "sha256.sig",
        base64::engine::general_purpose::STANDARD.encode(scratch.read("sha256.der")),
    );
    cosign(&scratch)
        .args([
            "sign-blob",
            "--key",
            "import-cosign.key",
            "--tlog-upload=false",
            "--new-bundle-format=false",
            "--output-signature",
            "ours.sig",
            "blob",
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    let verify = |program: &std::path::Path, signature: &str, extra: &[&str]| {
        scratch
            .command(program)
            .args([
                "verify-blob",
                "--key",
                "import-cosign.pub",
                "--insecure-ignore-tlog",
                "--signature",
                signature,
            ])
            .args(extra)
            .args(["blob"])
            .run()
            .code
            == Some(0)
    };
    for signature in ["cosign.sig", "ours.sig", "sha256.sig"] {
        let theirs = verify(&Peer::Cosign3.path(), signature, &[]);
        assert!(
            verify(&ours(), signature, &[]),
            "{signature}: ours refuses (cosign 3.1: {theirs})"
        );
        // Naming the hash, both give the same verdict.
        for hash in ["sha256", "sha384", "sha512"] {
            let extra = ["--signature-digest-algorithm", hash];
            assert_eq!(
                verify(&ours(), signature, &extra),
                verify(&Peer::Cosign3.path(), signature, &extra),
                "{signature} with {hash}"
            );
        }
    }
    // What cosign 3.1's verify-blob accepts by default, ours accepts; and ours also accepts
    // cosign's own P-384 signatures, which cosign 3.1 itself refuses without the hidden flag.
    assert!(verify(&Peer::Cosign3.path(), "sha256.sig", &[]));
    assert!(!verify(&Peer::Cosign3.path(), "cosign.sig", &[]));
}

#[test]
fn legacy_blob_bundles_go_both_ways() {
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    scratch.write("blob", "a blob\n");
    cosign3(
        &scratch,
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--use-signing-config=false",
            "--new-bundle-format=false",
            "--bundle",
            "theirs.json",
            "-y",
            "blob",
        ],
    )
    .success();
    cosign(&scratch)
        .args([
            "sign-blob",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--new-bundle-format=false",
            "--bundle",
            "ours.json",
            "blob",
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    for bundle in ["theirs.json", "ours.json"] {
        for program in [ours(), Peer::Cosign3.path()] {
            scratch
                .command(&program)
                .args([
                    "verify-blob",
                    "--key",
                    "cosign.pub",
                    "--insecure-ignore-tlog",
                    "--bundle",
                    bundle,
                    "blob",
                ])
                .run()
                .success();
        }
    }
    // The same shape: signature and the public key where cosign puts it.
    let theirs: serde_json::Value = serde_json::from_slice(&scratch.read("theirs.json")).unwrap();
    let ours_bundle: serde_json::Value =
        serde_json::from_slice(&scratch.read("ours.json")).unwrap();
    assert_eq!(theirs["cert"], ours_bundle["cert"]);
    // Another key's bundle does not verify, whatever key the file carries.
    key_pair(&scratch, "other");
    cosign(&scratch)
        .args([
            "verify-blob",
            "--key",
            "other.pub",
            "--insecure-ignore-tlog",
            "--bundle",
            "theirs.json",
            "blob",
        ])
        .run()
        .failure(1);
}

#[test]
fn env_prints_what_cosign_prints() {
    let scratch = Scratch::new();
    for extra in [
        &[][..],
        &["--show-descriptions=false"],
        &["--show-sensitive-values"],
    ] {
        let run = |program: &std::path::Path| {
            scratch
                .command(program)
                .args(["env"])
                .args(extra)
                .env("COSIGN_PASSWORD", "secret")
                .env("COSIGN_REPOSITORY", "registry.example/sigs")
                .env("SIGSTORE_ID_TOKEN", "token")
                .run()
                .success()
                .stdout
        };
        assert_eq!(run(&ours()), run(&Peer::Cosign3.path()), "{extra:?}");
    }
}

#[test]
fn login_writes_the_config_cosign_writes_and_clients_use_it() {
    let ours_home = Scratch::new();
    let their_home = Scratch::new();
    for (home, program) in [(&ours_home, ours()), (&their_home, Peer::Cosign3.path())] {
        home.command(&program)
            .args(["login", "127.0.0.1:5999", "-u", "alice", "--password-stdin"])
            .stdin("s3cret\n")
            .run()
            .success();
    }
    assert_eq!(
        ours_home.read(".docker/config.json"),
        their_home.read(".docker/config.json")
    );
    // Against a registry that asks for credentials: log in with ours, then ours, cosign 3.1 and
    // crane push, sign and verify there.
    let registry = EmbeddedRegistry::start_with(
        &ours(),
        cosign_testkit::EmbeddedOptions {
            credentials: Some(("lab", "pw")),
            ..Default::default()
        },
    );
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let denied = cosign(&scratch)
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &format!("{}/lab/a:v1", registry.address()),
        ])
        .run();
    assert!(denied.stderr.contains("UNAUTHORIZED"), "{}", denied.stderr);
    let logged = cosign(&scratch)
        .args(["login", registry.address(), "-u", "lab", "-p", "pw"])
        .run()
        .success();
    assert!(logged.stderr.contains("logged in via"), "{}", logged.stderr);
    let (image, _) = registry.push_random_image(&scratch, "lab/a:v1");
    cosign(&scratch)
        .args([
            "sign",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "-y",
            &image,
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    cosign3(
        &scratch,
        &[
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--allow-http-registry",
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
    // No password: cosign's error.
    let missing = cosign(&scratch)
        .args(["login", "r.example", "-u", "x"])
        .run()
        .failure(1);
    assert!(missing.stderr.contains("username and password required"));
}

#[test]
fn generate_and_triangulate_print_what_cosign_prints() {
    let registry = EmbeddedRegistry::start(&ours(), None);
    let scratch = Scratch::new();
    let (image, _) = registry.push_random_image(&scratch, "lab/generate:v1");
    for args in [
        vec!["generate", image.as_str()],
        vec!["generate", "-a", "team=blue", "-a", "n=3", image.as_str()],
        vec!["triangulate", image.as_str()],
    ] {
        let ours_run = cosign(&scratch).args(&args).run().success();
        let mut theirs_args = args.clone();
        theirs_args.insert(1, "--allow-http-registry");
        let theirs = cosign3(&scratch, &theirs_args).success();
        assert_eq!(ours_run.stdout, theirs.stdout, "{args:?}");
        assert_eq!(ours_run.stderr, theirs.stderr, "{args:?}");
    }
}

#[test]
fn bundle_create_and_upgrade_write_what_cosign_writes() {
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    scratch.write("artifact", "an artifact\n");
    cosign3(
        &scratch,
        &[
            "sign-blob",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--use-signing-config=false",
            "--new-bundle-format=false",
            "--output-signature",
            "artifact.sig",
            "-y",
            "artifact",
        ],
    )
    .success();
    let create = [
        "bundle",
        "create",
        "--signature",
        "artifact.sig",
        "--artifact",
        "artifact",
        "--key",
        "cosign.pub",
        "--ignore-tlog",
    ];
    let ours_run = cosign(&scratch).args(create).run().success();
    let theirs = cosign3(&scratch, &create).success();
    assert_eq!(ours_run.stdout, theirs.stdout);
    scratch.write("created.json", ours_run.stdout.trim_end());
    for program in [ours(), Peer::Cosign3.path()] {
        scratch
            .command(&program)
            .args([
                "verify-blob",
                "--key",
                "cosign.pub",
                "--insecure-ignore-tlog",
                "--bundle",
                "created.json",
                "artifact",
            ])
            .run()
            .success();
    }
    // Offline, without --ignore-tlog: the reason and the flag to use.
    let refused = cosign(&scratch)
        .args(&create[..create.len() - 1])
        .run()
        .failure(1);
    assert!(
        refused.stderr.contains("--ignore-tlog"),
        "{}",
        refused.stderr
    );
    // A wrong key: refused before writing a bundle that could not verify.
    key_pair(&scratch, "other");
    cosign(&scratch)
        .args([
            "bundle",
            "create",
            "--signature",
            "artifact.sig",
            "--artifact",
            "artifact",
            "--key",
            "other.pub",
            "--ignore-tlog",
        ])
        .run()
        .failure(1);
    // upgrade: a v0.3 bundle is left alone; a v0.1 one (same content) becomes v0.3.
    let v01 = String::from_utf8(scratch.read("created.json"))
        .unwrap()
        .replace(
            "application/vnd.dev.sigstore.bundle.v0.3+json",
            "application/vnd.dev.sigstore.bundle+json;version=0.1",
        );
    scratch.write("v01.json", v01);
    for input in ["created.json", "v01.json"] {
        let ours_run = cosign(&scratch)
            .args(["bundle", "upgrade", input])
            .run()
            .success();
        let theirs = cosign3(&scratch, &["bundle", "upgrade", input]).success();
        assert_eq!(ours_run.stdout, theirs.stdout, "{input}");
        assert_eq!(ours_run.stderr, theirs.stderr, "{input}");
    }
}

#[test]
fn argument_errors_deprecations_and_unknown_commands_read_as_cosigns() {
    let scratch = Scratch::new();
    for args in [
        &["sign"][..],
        &["verify"],
        &["sign-blob"],
        &["verify-blob"],
        &["tree"],
        &["tree", "a", "b"],
        &["clean"],
        &["copy"],
        &["copy", "a"],
        &["save"],
        &["load"],
        &["download", "signature"],
        &["attach", "signature"],
        &["generate"],
        &["login"],
        &["bundle", "upgrade"],
        &["env", "extra"],
        &["nope"],
        &["sign", "--nope", "x"],
        &["sign", "-Z", "x"],
        &["sign", "--recursive=maybe", "x"],
        &["verify-blob", "--key", "k", "--nope"],
        &["public-key"],
        &["sign-blob", "--key", "k", "--tlog-upload", "--output", "x"],
    ] {
        let ours_run = cosign(&scratch).args(args).run();
        let theirs = scratch.command(Peer::Cosign3.path()).args(args).run();
        assert_eq!(ours_run.code, theirs.code, "{args:?}");
        assert_eq!(
            ours_run.stderr.lines().take(3).collect::<Vec<_>>(),
            theirs.stderr.lines().take(3).collect::<Vec<_>>(),
            "{args:?}"
        );
    }
    // cosign 3.1 breaks on these (it rewrites `-y=true` into `--y=true`); ours takes them.
    let short_bool = cosign(&scratch)
        .args(["sign", "-y=true", "-r=false", "--help"])
        .run();
    assert_eq!(short_bool.code, Some(0), "{}", short_bool.stderr);
}
