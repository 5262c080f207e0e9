//! Key files against the real cosign 2.5 and 3.1 and OpenSSL, in both directions: each reads
//! what the other writes, and both say the same things on the same mistakes.

use cosign_testkit::{Peer, Run, Scratch};

use crate::cosign;

const REAL_COSIGNS: [Peer; 2] = [Peer::Cosign2, Peer::Cosign3];

fn openssl(scratch: &Scratch, args: &[&str]) -> Run {
    scratch.command("openssl").args(args).run().success()
}

#[test]
fn real_cosign_opens_our_key_with_the_piped_password() {
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .stdin("test123\n")
        .run()
        .success();
    for peer in REAL_COSIGNS {
        let theirs = scratch
            .command(peer.path())
            .args(["public-key", "--key", "cosign.key"])
            .stdin("test123\n")
            .run()
            .success();
        assert_eq!(theirs.stdout_bytes, scratch.read("cosign.pub"), "{peer:?}");
    }
}

#[test]
fn real_cosign_opens_our_key_with_cosign_password() {
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "s3cret")
        .run()
        .success();
    for peer in REAL_COSIGNS {
        let theirs = scratch
            .command(peer.path())
            .args(["public-key", "--key", "cosign.key"])
            .env("COSIGN_PASSWORD", "s3cret")
            .run()
            .success();
        assert_eq!(theirs.stdout_bytes, scratch.read("cosign.pub"), "{peer:?}");
    }
}

#[test]
fn we_open_keys_made_by_real_cosign() {
    for peer in REAL_COSIGNS {
        let scratch = Scratch::new();
        scratch
            .command(peer.path())
            .args(["generate-key-pair"])
            .stdin("test123\n")
            .run()
            .success();
        let ours = cosign(&scratch)
            .args(["public-key", "--key", "cosign.key"])
            .stdin("test123\n")
            .run()
            .success();
        assert_eq!(ours.stdout_bytes, scratch.read("cosign.pub"), "{peer:?}");
        // And refuse them with the wrong password, as cosign does.
        cosign(&scratch)
            .args(["public-key", "--key", "cosign.key"])
            .stdin("test123")
            .run()
            .failure(1);
    }
}

#[test]
fn openssl_keys_imported_by_us_are_read_by_real_cosign() {
    let scratch = Scratch::new();
    let keys: [(&str, &[&str]); 5] = [
        (
            "ec-p256.pem",
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                "ec-p256.pem",
            ],
        ),
        (
            "ec-p384.pem",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-out",
                "ec-p384.pem",
            ],
        ),
        (
            "rsa-2048.pem",
            &["genrsa", "-traditional", "-out", "rsa-2048.pem", "2048"],
        ),
        (
            "rsa-3072.pem",
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:3072",
                "-out",
                "rsa-3072.pem",
            ],
        ),
        (
            "ed25519.pem",
            &["genpkey", "-algorithm", "ED25519", "-out", "ed25519.pem"],
        ),
    ];
    for (file, generate) in keys {
        openssl(&scratch, generate);
        let expected = openssl(&scratch, &["pkey", "-in", file, "-pubout"]).stdout;
        let prefix = file.trim_end_matches(".pem");
        cosign(&scratch)
            .args([
                "import-key-pair",
                "--key",
                file,
                "--output-key-prefix",
                prefix,
            ])
            .env("COSIGN_PASSWORD", "pw")
            .run()
            .success();
        assert_eq!(
            String::from_utf8(scratch.read(format!("{prefix}.pub"))).expect("utf-8"),
            expected,
            "{file}"
        );
        for peer in REAL_COSIGNS {
            let theirs = scratch
                .command(peer.path())
                .args(["public-key", "--key", &format!("{prefix}.key")])
                .env("COSIGN_PASSWORD", "pw")
                .run()
                .success();
            assert_eq!(theirs.stdout, expected, "{file} read by {peer:?}");
        }
    }
}

#[test]
fn keys_imported_by_real_cosign_are_read_by_us() {
    let scratch = Scratch::new();
    openssl(
        &scratch,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-521",
            "-out",
            "p521.pem",
        ],
    );
    let expected = openssl(&scratch, &["pkey", "-in", "p521.pem", "-pubout"]).stdout;
    scratch
        .command(Peer::Cosign3.path())
        .args([
            "import-key-pair",
            "--key",
            "p521.pem",
            "--output-key-prefix",
            "theirs",
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    let ours = cosign(&scratch)
        .args(["public-key", "--key", "theirs.key"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    assert_eq!(ours.stdout, expected);
}

/// Runs the same command line with ours and each real cosign in fresh, identically prepared
/// directories, and checks the exit code and stderr match.
fn same_as_real_cosign(
    prepare: impl Fn(&Scratch),
    args: &[&str],
    password: Option<&str>,
    stdin: &str,
) {
    let run_with = |program: std::path::PathBuf| {
        let scratch = Scratch::new();
        prepare(&scratch);
        let mut invocation = scratch.command(program).args(args).stdin(stdin);
        if let Some(password) = password {
            invocation = invocation.env("COSIGN_PASSWORD", password);
        }
        invocation.run()
    };
    let ours = run_with(std::path::PathBuf::from(env!("CARGO_BIN_EXE_cosign")));
    for peer in REAL_COSIGNS {
        let theirs = run_with(peer.path());
        assert_eq!(
            ours.code, theirs.code,
            "{args:?} exit code vs {peer:?}\nours: {}\ntheirs: {}",
            ours.stderr, theirs.stderr
        );
        // Our stderr is cosign's, plus at most a final hint line.
        let ours_without_hint: String = ours
            .stderr
            .lines()
            .filter(|line| !line.starts_with("Hint: "))
            .map(|line| format!("{line}\n"))
            .collect();
        assert_eq!(
            ours_without_hint, theirs.stderr,
            "{args:?} stderr vs {peer:?}"
        );
    }
}

fn with_key(scratch: &Scratch) {
    cosign(scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
}

#[test]
fn the_same_messages_and_exit_codes_as_real_cosign() {
    same_as_real_cosign(|_| {}, &["generate-key-pair"], None, "test123\n");
    same_as_real_cosign(with_key, &["generate-key-pair"], None, "again\n");
    same_as_real_cosign(with_key, &["generate-key-pair"], Some("pw"), "y\n");
    same_as_real_cosign(with_key, &["generate-key-pair"], Some("pw"), "n\n");
    same_as_real_cosign(
        with_key,
        &["public-key", "--key", "cosign.key"],
        None,
        "wrong\n",
    );
    same_as_real_cosign(
        with_key,
        &["public-key", "--key", "cosign.key", "--outfile", "k.pub"],
        Some("pw"),
        "",
    );
    same_as_real_cosign(
        |_| {},
        &["public-key", "--key", "absent.key"],
        Some("pw"),
        "",
    );
    same_as_real_cosign(|_| {}, &["public-key"], Some("pw"), "");
    same_as_real_cosign(
        |scratch| {
            scratch.write(
                "plain.pem",
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            );
        },
        &["public-key", "--key", "plain.pem"],
        Some("pw"),
        "",
    );
}
