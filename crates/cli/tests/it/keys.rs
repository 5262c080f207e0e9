//! Key commands on their own: files, modes, messages and every bad input a user can give.

use std::os::unix::fs::PermissionsExt as _;

use cosign_testkit::Scratch;

use crate::{cosign, cosign_error_lines};

const PEM_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/src/keys/fixtures");

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

#[test]
fn generate_key_pair_writes_both_files_with_cosigns_modes_and_lines() {
    let scratch = Scratch::new();
    let run = cosign(&scratch)
        .args(["generate-key-pair"])
        .stdin("test123\n")
        .run()
        .success();
    assert_eq!(
        run.stderr,
        "Private key written to cosign.key\nPublic key written to cosign.pub\n"
    );
    assert_eq!(run.stdout, "");
    assert_eq!(mode(&scratch.join("cosign.key")), 0o600);
    assert_eq!(mode(&scratch.join("cosign.pub")), 0o644);
    let key = String::from_utf8(scratch.read("cosign.key")).expect("utf-8");
    assert!(key.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert!(key.ends_with("-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    // The password from stdin is all of it, newline included.
    cosign(&scratch)
        .args(["public-key", "--key", "cosign.key"])
        .stdin("test123\n")
        .run()
        .success();
    cosign(&scratch)
        .args(["public-key", "--key", "cosign.key"])
        .env("COSIGN_PASSWORD", "test123")
        .run()
        .failure(1);
}

#[test]
fn output_key_prefix_names_the_files() {
    let scratch = Scratch::new();
    let run = cosign(&scratch)
        .args(["generate-key-pair", "--output-key-prefix", "release"])
        .env("COSIGN_PASSWORD", "")
        .run()
        .success();
    assert_eq!(
        run.stderr,
        "Private key written to release.key\nPublic key written to release.pub\n"
    );
    assert!(scratch.join("release.key").exists() && scratch.join("release.pub").exists());
}

#[test]
fn an_empty_password_is_a_password() {
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "")
        .run()
        .success();
    let public = cosign(&scratch)
        .args(["public-key", "--key", "cosign.key"])
        .env("COSIGN_PASSWORD", "")
        .run()
        .success();
    assert_eq!(public.stdout_bytes, scratch.read("cosign.pub"));
}

#[test]
fn existing_key_asks_and_piped_password_leaves_nothing_to_answer() {
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .stdin("a\n")
        .run()
        .success();
    let before = scratch.read("cosign.key");
    let run = cosign(&scratch)
        .args(["generate-key-pair"])
        .stdin("b\n")
        .run()
        .failure(1);
    assert_eq!(
        run.stderr,
        format!(
            "WARNING: File cosign.key already exists. Overwrite?\nAre you sure you would like to continue? [y/N] {}",
            cosign_error_lines("user declined the prompt")
        )
    );
    assert_eq!(
        scratch.read("cosign.key"),
        before,
        "declined: the key is untouched"
    );
    // With the password in the environment, stdin answers the prompt.
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "c")
        .stdin("y\n")
        .run()
        .success();
    assert_ne!(scratch.read("cosign.key"), before);
    let invalid = cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "c")
        .stdin("maybe\n")
        .run()
        .failure(1);
    assert!(invalid
        .stderr
        .contains("Error: invalid input \"maybe\" (allowed values [y, n])\n"));
}

#[test]
fn overwriting_tightens_the_mode_of_an_existing_key_file() {
    let scratch = Scratch::new();
    let key = scratch.write("cosign.key", "old");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "x")
        .stdin("y\n")
        .run()
        .success();
    assert_eq!(mode(&key), 0o600);
}

#[test]
fn public_key_writes_to_stdout_or_a_file() {
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    let stdout = cosign(&scratch)
        .args(["public-key", "--key", "cosign.key"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    assert_eq!(stdout.stdout_bytes, scratch.read("cosign.pub"));
    assert_eq!(stdout.stderr, "");
    let file = cosign(&scratch)
        .args(["public-key", "--key", "cosign.key", "--outfile", "out.pub"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    assert_eq!(file.stderr, "Public key written to out.pub\n");
    assert_eq!(scratch.read("out.pub"), scratch.read("cosign.pub"));
    // --output-file redirects what would go to stdout.
    cosign(&scratch)
        .args([
            "public-key",
            "--key",
            "cosign.key",
            "--output-file",
            "redirected.pub",
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    assert_eq!(scratch.read("redirected.pub"), scratch.read("cosign.pub"));
    // env://VAR holds the key itself, as in cosign.
    let key = String::from_utf8(scratch.read("cosign.key")).expect("utf-8");
    let from_env = cosign(&scratch)
        .args(["public-key", "--key", "env://SIGNING_KEY"])
        .env("SIGNING_KEY", key)
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    assert_eq!(from_env.stdout_bytes, scratch.read("cosign.pub"));
}

#[test]
fn wrong_password_is_exit_1_with_cosigns_message_and_a_hint() {
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .stdin("right\n")
        .run()
        .success();
    let run = cosign(&scratch)
        .args(["public-key", "--key", "cosign.key"])
        .stdin("wrong\n")
        .run()
        .failure(1);
    assert!(run
        .stderr
        .starts_with(&cosign_error_lines("decrypt: encrypted: decryption failed")));
    assert!(run
        .stderr
        .contains("Hint: the password does not open this key"));
    assert!(
        !run.stderr.contains("wrong"),
        "the password is never printed"
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn bad_key_files_are_clear_errors_never_panics() {
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    let good = String::from_utf8(scratch.read("cosign.key")).expect("utf-8");
    scratch.write("truncated.key", &good[..good.len() / 2]);
    scratch.write("garbled.key", good.replacen("eyJ", "!!!", 1));
    scratch.write("empty.key", "");
    scratch.write("public.key", scratch.read("cosign.pub"));
    scratch.write(
        "pkcs8.key",
        std::fs::read(format!("{PEM_FIXTURES}/ec-p256.pkcs8.pem")).expect("fixture"),
    );
    std::fs::create_dir(scratch.join("directory.key")).expect("mkdir");
    let cases = [
        ("truncated.key", "invalid pem block".to_owned()),
        ("garbled.key", "invalid pem block".to_owned()),
        ("empty.key", "invalid pem block".to_owned()),
        ("public.key", "unsupported pem type: PUBLIC KEY".to_owned()),
        ("pkcs8.key", "unsupported pem type: PRIVATE KEY".to_owned()),
        (
            "missing.key",
            "open missing.key: no such file or directory".to_owned(),
        ),
        (
            "directory.key",
            "read directory.key: is a directory".to_owned(),
        ),
    ];
    for (file, message) in cases {
        let run = cosign(&scratch)
            .args(["public-key", "--key", file])
            .env("COSIGN_PASSWORD", "pw")
            .run()
            .failure(1);
        assert!(
            run.stderr.starts_with(&cosign_error_lines(&message)),
            "{file}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{file}: {}", run.stderr);
    }
}

#[test]
fn keys_from_services_and_hardware_are_refused_as_not_supported() {
    let scratch = Scratch::new();
    for (args, what) in [
        (
            vec!["public-key", "--key", "awskms:///alias/x"],
            "KMS keys (awskms://)",
        ),
        (
            vec!["public-key", "--key", "k8s://ns/name"],
            "keys stored in k8s://",
        ),
        (
            vec!["public-key", "--key", "pkcs11:token=x"],
            "PKCS #11 keys",
        ),
        (
            vec!["public-key", "--key", "https://example.test/k"],
            "loading keys from URLs",
        ),
        (vec!["public-key", "--sk"], "--sk"),
        (
            vec!["generate-key-pair", "--kms", "gcpkms://x"],
            "--kms (gcpkms://x)",
        ),
        (
            vec!["generate-key-pair", "github://o/p"],
            "storing key pairs in github://",
        ),
    ] {
        let run = cosign(&scratch)
            .args(&args)
            .env("COSIGN_PASSWORD", "")
            .run()
            .failure(1);
        assert!(
            run.stderr.starts_with(&cosign_error_lines(&format!(
                "{what} is not supported by cosign-rs"
            ))),
            "{args:?}: {}",
            run.stderr
        );
    }
    let run = cosign(&scratch)
        .args(["generate-key-pair", "nothing"])
        .run()
        .failure(1);
    assert!(run.stderr.starts_with(&cosign_error_lines(
        "could not parse scheme, use <scheme>://<ref> format"
    )));
    let run = cosign(&scratch).args(["public-key"]).run().failure(1);
    assert!(run.stderr.starts_with(&cosign_error_lines(
        "exactly one of: key reference (--key), or hardware token (--sk) must be provided"
    )));
}

#[test]
fn import_key_pair_takes_every_encoding_cosign_takes() {
    let scratch = Scratch::new();
    for fixture in [
        "rsa-2048.pkcs1.pem",
        "rsa-3072.pkcs8.pem",
        "ec-p256.sec1.pem",
        "ec-p384.pkcs8.pem",
        "ec-p521.sec1.pem",
        "ed25519.pkcs8.pem",
    ] {
        let run = cosign(&scratch)
            .args([
                "import-key-pair",
                "--key",
                &format!("{PEM_FIXTURES}/{fixture}"),
                "-y",
            ])
            .env("COSIGN_PASSWORD", "pw")
            .run()
            .success();
        assert!(run.stderr.ends_with(
            "Private key written to import-cosign.key\nPublic key written to import-cosign.pub\n"
        ));
        assert_eq!(mode(&scratch.join("import-cosign.key")), 0o600);
        let public = cosign(&scratch)
            .args(["public-key", "--key", "import-cosign.key"])
            .env("COSIGN_PASSWORD", "pw")
            .run()
            .success();
        assert_eq!(
            public.stdout_bytes,
            scratch.read("import-cosign.pub"),
            "{fixture}"
        );
    }
}

#[test]
fn import_key_pair_refuses_what_cosign_refuses() {
    let scratch = Scratch::new();
    for (fixture, message) in [
        (
            "rsa-1024.pkcs1.pem",
            "rsa key size 1024 is not supported, modulus size must be 2048, 3072, or 4096",
        ),
        (
            "ec-secp256k1.sec1.pem",
            "ecdsa curve 1.3.132.0.10 is not supported, must be NIST P-256, P-384 or P-521",
        ),
    ] {
        let run = cosign(&scratch)
            .args([
                "import-key-pair",
                "-k",
                &format!("{PEM_FIXTURES}/{fixture}"),
                "-o",
                "imported",
            ])
            .env("COSIGN_PASSWORD", "pw")
            .run()
            .failure(1);
        assert!(
            run.stderr.starts_with(&cosign_error_lines(message)),
            "{fixture}: {}",
            run.stderr
        );
        assert!(!scratch.join("imported.key").exists());
    }
}

#[test]
fn unknown_flags_and_commands_are_cosign_style_errors() {
    let scratch = Scratch::new();
    let run = cosign(&scratch)
        .args(["generate-key-pair", "--nope"])
        .run()
        .failure(1);
    assert!(run
        .stderr
        .starts_with(&cosign_error_lines("unknown flag: --nope")));
    let run = cosign(&scratch).args(["frobnicate"]).run().failure(1);
    assert!(run.stderr.starts_with(&cosign_error_lines(
        "unknown command \"frobnicate\" for \"cosign\"\nRun 'cosign --help' for usage."
    )));
    let run = cosign(&scratch)
        .args(["--timeout", "soon", "version"])
        .run()
        .failure(1);
    assert!(run
        .stderr
        .contains("invalid argument \"soon\" for \"-t, --timeout\" flag"));
}

#[test]
fn go_style_single_dash_flags_are_rewritten_with_a_warning() {
    let scratch = Scratch::new();
    let run = cosign(&scratch)
        .args(["generate-key-pair", "-output-key-prefix", "legacy"])
        .env("COSIGN_PASSWORD", "")
        .run()
        .success();
    assert!(run.stderr.starts_with(
        "WARNING: the -output-key-prefix flag is deprecated and will be removed in a future release. Please use the --output-key-prefix flag instead.\n"
    ));
    assert!(scratch.join("legacy.key").exists());
}

#[test]
fn flags_can_come_from_cosign_environment_variables() {
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "")
        .env("COSIGN_OUTPUT_KEY_PREFIX", "from-env")
        .run()
        .success();
    assert!(scratch.join("from-env.key").exists());
}

#[test]
fn completion_scripts_name_the_commands() {
    let scratch = Scratch::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = cosign(&scratch).args(["completion", shell]).run().success();
        assert!(run.stdout.contains("generate-key-pair"), "{shell}");
    }
    cosign(&scratch)
        .args(["completion", "tcsh"])
        .run()
        .failure(1);
}
