//! `cosign initialize` and the TUF repository it sets up (issue 13): against a TUF repository
//! served on loopback (`cosign_testkit::tuf_mirror`), ours and real cosign 3.1 share one cache
//! (`~/.sigstore/root`, here inside each scratch directory): what one initializes, the other
//! verifies with; verification and keyless signing take their trusted root and signing config
//! from it; tampered, expired or unchained metadata is refused; offline, ours verifies the cache
//! again and goes on, where cosign stops.

use std::path::{Path, PathBuf};

use cosign_testkit::keyless_stack::{KeylessStack, Rekor, StackOptions};
use cosign_testkit::tuf_mirror::{StaticServer, TufRepository};
use cosign_testkit::{Invocation, Peer, Scratch};

use crate::ours;

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn conformance() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
}

fn text(path: &Path) -> String {
    path.display().to_string()
}

/// A mirror publishing `trusted_root` (and the public-good signing config).
fn mirror(scratch: &Scratch, trusted_root: &[u8]) -> (TufRepository, StaticServer) {
    let repository = TufRepository::create(
        &scratch.join("mirror"),
        &[
            ("trusted_root.json", trusted_root),
            (
                "signing_config.v0.2.json",
                cosign_core::keyless::signing_config::PUBLIC_GOOD,
            ),
        ],
    );
    let server = StaticServer::start(repository.directory());
    (repository, server)
}

fn initialize(
    scratch: &Scratch,
    program: impl AsRef<std::ffi::OsStr>,
    server: &StaticServer,
    root: &Path,
) -> Invocation {
    scratch.command(program).args([
        "initialize",
        "--mirror",
        &server.url(),
        "--root",
        &text(root),
    ])
}

/// `verify-blob` of the conformance suite's public-good happy path, with no `--trusted-root`:
/// the trusted root comes from TUF.
fn verify_happy_path(scratch: &Scratch, program: impl AsRef<std::ffi::OsStr>) -> Invocation {
    let case = conformance().join("bundle-verify/happy-path-v0.3");
    scratch.command(program).args([
        "verify-blob",
        "--bundle",
        &text(&case.join("bundle.sigstore.json")),
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
        &text(&conformance().join("bundle-verify/a.txt")),
    ])
}

/// The files of a TUF cache both clients keep: `remote.json` and the mirror's directory
/// (leaving out each one's bookkeeping: tough's `.tough/`, sigstore-go's `<mirror>.json`).
fn shared_layout(cache: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut pending = vec![cache.to_owned()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).expect("cache") {
            let path = entry.expect("entry").path();
            let relative = path
                .strip_prefix(cache)
                .expect("inside")
                .display()
                .to_string();
            if relative.contains(".tough") {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if relative.contains('/') || relative == "remote.json" {
                files.push(relative);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn ours_and_cosign_share_what_initialize_caches() {
    let trusted_root = std::fs::read(conformance().join("public-good-trusted_root.json")).unwrap();
    let ours_side = Scratch::new();
    let (repository, server) = mirror(&ours_side, &trusted_root);
    let root = repository.initial_root();

    let run = initialize(&ours_side, ours(), &server, &root)
        .run()
        .success();
    assert_eq!(run.stdout, "", "cosign initialize prints nothing");
    verify_happy_path(&ours_side, ours())
        .run()
        .success()
        .stderr
        .contains("Verified OK")
        .then_some(())
        .expect("ours verifies with the trusted root from TUF");
    // Real cosign uses the cache ours wrote (remote.json, the cached root) as its own.
    let theirs = verify_happy_path(&ours_side, Peer::Cosign3.path())
        .run()
        .success();
    assert!(theirs.stderr.contains("Verified OK"), "{}", theirs.stderr);

    let cosign_side = Scratch::new();
    initialize(&cosign_side, Peer::Cosign3.path(), &server, &root)
        .run()
        .success();
    verify_happy_path(&cosign_side, ours()).run().success();
    let ours_cache = ours_side.join(".sigstore/root");
    let cosign_cache = cosign_side.join(".sigstore/root");
    assert_eq!(
        shared_layout(&ours_cache),
        shared_layout(&cosign_cache),
        "the same files, where cosign keeps them"
    );
    let directory = server.url().trim_start_matches("http://").replace(':', "-");
    for file in [
        "root.json",
        "timestamp.json",
        "snapshot.json",
        "targets.json",
    ] {
        assert_eq!(
            std::fs::read(ours_cache.join(&directory).join(file)).unwrap(),
            std::fs::read(cosign_cache.join(&directory).join(file)).unwrap(),
            "{file}: ours caches what the mirror served, as cosign does"
        );
    }

    // Offline: ours verifies the cache again and goes on; cosign stops.
    drop(server);
    let offline = verify_happy_path(&ours_side, ours()).run().success();
    assert!(
        offline.stderr.contains("cannot be reached") && offline.stderr.contains("valid until"),
        "{}",
        offline.stderr
    );
    verify_happy_path(&ours_side, Peer::Cosign3.path())
        .run()
        .failure(1);
}

#[test]
fn the_trusted_root_from_tuf_is_the_one_verification_uses() {
    // A repository publishing another instance's trusted root: the public-good bundle no longer
    // verifies, for ours and cosign alike; `--trusted-root` still overrides it.
    let other = std::fs::read(
        conformance().join("bundle-verify/intoto-with-custom-trust-root/trusted_root.json"),
    )
    .unwrap();
    let scratch = Scratch::new();
    let (repository, server) = mirror(&scratch, &other);
    initialize(&scratch, ours(), &server, &repository.initial_root())
        .run()
        .success();
    verify_happy_path(&scratch, ours()).run().failure(1);
    verify_happy_path(&scratch, Peer::Cosign3.path())
        .run()
        .failure(1);
    verify_happy_path(&scratch, ours())
        .args([
            "--trusted-root",
            &text(&conformance().join("public-good-trusted_root.json")),
        ])
        .run()
        .success();
}

#[test]
fn tampered_metadata_and_wrong_roots_are_refused_and_leave_tuf_unset() {
    let trusted_root = std::fs::read(conformance().join("public-good-trusted_root.json")).unwrap();
    let scratch = Scratch::new();
    let (repository, server) = mirror(&scratch, &trusted_root);
    let root = repository.initial_root();

    repository.tamper_target("trusted_root.json", b"{\"tampered\": true}");
    let ours_run = initialize(&scratch, ours(), &server, &root)
        .run()
        .failure(1);
    assert!(
        ours_run.stderr.contains("does not verify")
            && ours_run.stderr.contains("trusted_root.json"),
        "{}",
        ours_run.stderr
    );
    initialize(&scratch, Peer::Cosign3.path(), &server, &root)
        .run()
        .failure(1);
    // A failed initialization leaves no mirror recorded: ours goes on with the embedded
    // public-good root.
    std::fs::remove_dir_all(scratch.join(".sigstore")).unwrap();
    initialize(&scratch, ours(), &server, &root)
        .run()
        .failure(1);
    assert!(!scratch.join(".sigstore/root/remote.json").exists());
    verify_happy_path(&scratch, ours()).run().success();

    // A root the repository's metadata does not chain to.
    let stranger = TufRepository::create(&scratch.join("stranger"), &[]);
    let run = initialize(&scratch, ours(), &server, &stranger.initial_root())
        .run()
        .failure(1);
    assert!(run.stderr.contains("does not verify"), "{}", run.stderr);

    // The root's checksum, as cosign checks it.
    let bytes = std::fs::read(&root).unwrap();
    let wrong = "0".repeat(64);
    for program in [ours(), Peer::Cosign3.path()] {
        let run = initialize(&scratch, &program, &server, &root)
            .args(["--root-checksum", &wrong])
            .run()
            .failure(1);
        assert!(
            run.stderr.contains("incorrect checksum for file"),
            "{}",
            run.stderr
        );
    }
    let right = cosign_core::Digest::sha256(&bytes).hex().to_owned();
    initialize(&scratch, ours(), &server, &root)
        .args(["--root-checksum", &format!("sha256:{right}")])
        .run()
        .failure(1)
        .stderr
        .contains("does not verify")
        .then_some(())
        .expect("the checksum passes; the tampered target is still refused");
}

#[test]
fn a_rotated_root_is_followed_by_both_clients() {
    let trusted_root = std::fs::read(conformance().join("public-good-trusted_root.json")).unwrap();
    let scratch = Scratch::new();
    let (mut repository, server) = mirror(&scratch, &trusted_root);
    initialize(&scratch, ours(), &server, &repository.initial_root())
        .run()
        .success();
    repository.rotate_root();
    repository.publish(&[("trusted_root.json", &trusted_root)]);
    verify_happy_path(&scratch, ours()).run().success();
    let directory = server.url().trim_start_matches("http://").replace(':', "-");
    let cached: serde_json::Value =
        serde_json::from_slice(&scratch.read(format!(".sigstore/root/{directory}/root.json")))
            .unwrap();
    assert_eq!(cached["signed"]["version"], 2);
    verify_happy_path(&scratch, Peer::Cosign3.path())
        .run()
        .success();
}

#[test]
fn keyless_signing_takes_its_services_and_trust_from_tuf() {
    let stack = KeylessStack::start(StackOptions {
        rekor: Rekor::V2,
        timestamps: true,
    });
    let scratch = Scratch::new();
    scratch.write("blob.txt", "signed with services from TUF\n");
    let repository = TufRepository::create(
        &scratch.join("mirror"),
        &[
            (
                "trusted_root.json",
                &std::fs::read(stack.trusted_root_path()).unwrap(),
            ),
            (
                "signing_config.v0.2.json",
                &std::fs::read(stack.signing_config_path()).unwrap(),
            ),
        ],
    );
    let server = StaticServer::start(repository.directory());
    initialize(&scratch, ours(), &server, &repository.initial_root())
        .run()
        .success();
    let identity = "https://ci.cosign-rs.test/workflows/tuf";
    let before = server.requests();
    scratch
        .command(ours())
        .args([
            "sign-blob",
            "-y",
            "--identity-token",
            &stack.token(identity),
        ])
        .args(["--bundle", "bundle.json", "blob.txt"])
        .run()
        .success();
    // One TUF update for the signing config and the trusted root together: the next root
    // (absent), timestamp, snapshot, targets, and the two targets.
    assert_eq!(server.requests() - before, 6);
    for program in [ours(), Peer::Cosign3.path()] {
        scratch
            .command(program)
            .args(["verify-blob", "--bundle", "bundle.json"])
            .args(["--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", stack.issuer()])
            .args(["blob.txt"])
            .run()
            .success();
    }
}

#[test]
fn keyless_signing_without_tuf_or_network_names_the_offline_flags() {
    let scratch = Scratch::new();
    scratch.write("blob.txt", "x\n");
    let stack_free_token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci50ZXN0Iiwic3ViIjoiYSIsImF1ZCI6InNpZ3N0b3JlIiwiZXhwIjo5OTk5OTk5OTk5fQ.c2ln";
    let run = scratch
        .command(ours())
        .args(["sign-blob", "-y", "--identity-token", stack_free_token])
        .args(["--bundle", "bundle.json", "blob.txt"])
        .run()
        .failure(1);
    assert!(
        run.stderr.contains("cannot be reached")
            && run
                .stderr
                .contains("--tlog-upload=false --use-signing-config=false")
            && run.stderr.contains("--signing-config"),
        "{}",
        run.stderr
    );
    assert!(!scratch.join("bundle.json").exists());
}

/// `signing-config create` writes what cosign 3.1 writes, for the same flags (compared as
/// JSON: protobuf may space its output differently), its defaults from the TUF repository
/// both initialized, and refuses what it refuses.
#[test]
fn signing_config_create_writes_what_cosign_writes() {
    let scratch = Scratch::new();
    let trusted_root = std::fs::read(conformance().join("public-good-trusted_root.json")).unwrap();
    let (repository, server) = mirror(&scratch, &trusted_root);
    initialize(&scratch, ours(), &server, &repository.initial_root())
        .run()
        .success();
    let service = |url: &str, version: u32| {
        format!(
            "url={url},api-version={version},start-time=2024-01-01T00:00:00.5+02:00,operator=lab"
        )
    };
    let cases: Vec<Vec<String>> = vec![
        vec![],
        vec![
            "--fulcio".into(),
            service("https://fulcio.lab", 1),
            "--rekor".into(),
            service("https://rekor.lab", 2) + ",end-time=2030-01-01T00:00:00Z",
            "--rekor-config".into(),
            "EXACT:1".into(),
            "--tsa".into(),
            service("https://tsa.lab/api/v1/timestamp", 1),
            "--tsa-config".into(),
            "any".into(),
            "--oidc-provider".into(),
            service("https://oidc.lab", 1),
        ],
        vec![
            "--with-default-services".into(),
            "--rekor".into(),
            service("https://rekor.lab", 1),
            "--rekor-config".into(),
            "ALL".into(),
            "--no-default-tsa".into(),
        ],
    ];
    for case in cases {
        let ours_run = scratch
            .command(ours())
            .args(["signing-config", "create"])
            .args(&case)
            .run()
            .success();
        let theirs = scratch
            .command(Peer::Cosign3.path())
            .args(["signing-config", "create"])
            .args(&case)
            .run()
            .success();
        let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).expect("JSON");
        assert_eq!(parse(&ours_run.stdout), parse(&theirs.stdout), "{case:?}");
    }
    // `--base-config` (newer cosign's): its services stay unless the flags name others.
    scratch.write(
        "base.json",
        cosign_core::keyless::signing_config::PUBLIC_GOOD,
    );
    let based = scratch
        .command(ours())
        .args(["signing-config", "create", "--base-config", "base.json"])
        .args(["--fulcio", &service("https://fulcio.lab", 1)])
        .run()
        .success();
    let based: serde_json::Value = serde_json::from_str(&based.stdout).unwrap();
    assert_eq!(based["caUrls"][0]["url"], "https://fulcio.lab");
    assert_eq!(based["caUrls"].as_array().map(Vec::len), Some(1));
    assert_eq!(based["rekorTlogUrls"].as_array().map(Vec::len), Some(2));
    assert_eq!(based["tsaConfig"]["selector"], "ANY");
    // What ours writes parses back.
    let written = scratch
        .command(ours())
        .args(["signing-config", "create", "--out", "config.json"])
        .args(["--fulcio", &service("https://fulcio.lab", 1)])
        .run()
        .success();
    assert_eq!(written.stdout, "");
    cosign_core::keyless::signing_config::SigningConfig::parse(&scratch.read("config.json"))
        .expect("parses");
    for (case, message) in [
        (
            vec!["--rekor", "url=https://rekor.lab"],
            "--rekor-config must be provided when --rekor is specified",
        ),
        (
            vec!["--rekor", "url=https://rekor.lab", "--rekor-config", "ANY"],
            "parsing rekor spec: missing required key 'api-version' in service spec",
        ),
        (
            vec!["--tsa-config", "EXACT"],
            "parsing tsa-config: mode EXACT requires a count, e.g. EXACT:2",
        ),
    ] {
        for program in [ours(), Peer::Cosign3.path()] {
            let run = scratch
                .command(&program)
                .args(["signing-config", "create"])
                .args(&case)
                .run()
                .failure(1);
            assert!(run.stderr.contains(message), "{case:?}: {}", run.stderr);
        }
    }
}
