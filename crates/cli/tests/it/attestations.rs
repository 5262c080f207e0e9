//! Attestations against real cosign 3.1 and 2.5, on a real distribution registry (bundles under
//! the fallback tag) and on `registry serve` (the referrers API): `attest`,
//! `verify-attestation` with `--type` and Rego/CUE policies, `attest-blob`,
//! `verify-blob-attestation`, `attach attestation|sbom`, `download attestation|sbom`, and an
//! SBOM made by a real producer (syft).

use base64::Engine as _;
use cosign_testkit::{Distribution, EmbeddedRegistry, Invocation, Peer, Run, Scratch};

use crate::{cosign, import_openssl_keys, key_pair, ours};

/// Who runs a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Ours,
    Cosign3,
    Cosign2,
}

impl Side {
    fn command(self, scratch: &Scratch) -> Invocation {
        match self {
            Self::Ours => cosign(scratch),
            Self::Cosign3 => scratch.command(Peer::Cosign3.path()),
            Self::Cosign2 => scratch.command(Peer::Cosign2.path()),
        }
    }

    /// The flags a peer needs for a plain-HTTP registry.
    fn registry_flags(self) -> &'static [&'static str] {
        match self {
            Self::Ours => &[],
            Self::Cosign3 | Self::Cosign2 => &["--allow-http-registry"],
        }
    }

    /// `attest` with `cosign.key`, offline; `legacy` for the `.att` image.
    fn attest(
        self,
        scratch: &Scratch,
        image: &str,
        predicate_type: &str,
        predicate: &str,
        legacy: bool,
        extra: &[&str],
    ) -> Run {
        let mut invocation = self.command(scratch).args([
            "attest",
            "--key",
            "cosign.key",
            "--type",
            predicate_type,
            "--predicate",
            predicate,
            "--tlog-upload=false",
            "-y",
        ]);
        if self != Self::Cosign2 {
            invocation = invocation.args(["--use-signing-config=false"]);
            if legacy {
                invocation = invocation.args(["--new-bundle-format=false"]);
            }
        }
        invocation
            .args(self.registry_flags())
            .args(extra)
            .args([image])
            .env("COSIGN_PASSWORD", "pw")
            .run()
    }

    fn verify(self, scratch: &Scratch, public: &str, image: &str, extra: &[&str]) -> Run {
        self.command(scratch)
            .args([
                "verify-attestation",
                "--key",
                public,
                "--insecure-ignore-tlog",
            ])
            .args(self.registry_flags())
            .args(extra)
            .args([image])
            .run()
    }
}

/// A new image in `address`, by digest.
fn fresh_image(scratch: &Scratch, address: &str, name: &str) -> String {
    let (_, digest) = cosign_testkit::push_random_image(scratch, address, name);
    let repository = name.split(':').next().unwrap_or(name);
    format!("{address}/{repository}@{digest}")
}

const CYCLONEDX: &str = r#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"is-number","version":"7.0.0"}]}"#;

/// The statement inside a verified envelope line.
fn statement_of(envelope_line: &str) -> serde_json::Value {
    let envelope: serde_json::Value = serde_json::from_str(envelope_line).expect("envelope JSON");
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().expect("payload"))
        .expect("base64");
    serde_json::from_slice(&payload).expect("statement JSON")
}

#[test]
fn attestations_made_by_each_side_verify_on_every_side_with_cosign_3s_output() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    scratch.write("bom.json", CYCLONEDX);
    scratch.write("note.txt", "built by the lab\n");
    let cases = [
        (Side::Ours, false),
        (Side::Ours, true),
        (Side::Cosign3, false),
        (Side::Cosign3, true),
        (Side::Cosign2, true),
    ];
    for (index, (maker, legacy)) in cases.into_iter().enumerate() {
        let image = fresh_image(&scratch, registry.address(), &format!("lab/att{index}:v1"));
        maker
            .attest(&scratch, &image, "cyclonedx", "bom.json", legacy, &[])
            .success();
        maker
            .attest(&scratch, &image, "custom", "note.txt", legacy, &[])
            .success();
        for wanted in ["cyclonedx", "custom"] {
            let by_us = Side::Ours
                .verify(&scratch, "cosign.pub", &image, &["--type", wanted])
                .success();
            let by_them = Side::Cosign3
                .verify(&scratch, "cosign.pub", &image, &["--type", wanted])
                .success();
            assert_eq!(
                by_us.stdout, by_them.stdout,
                "{maker:?} legacy={legacy} {wanted}"
            );
            assert_eq!(
                by_us.stderr, by_them.stderr,
                "{maker:?} legacy={legacy} {wanted}"
            );
            assert_eq!(by_us.stdout.lines().count(), 1, "{}", by_us.stdout);
            let statement = statement_of(by_us.stdout.trim_end());
            let digest = image.rsplit_once("@sha256:").map(|(_, hex)| hex);
            assert_eq!(statement["subject"][0]["digest"]["sha256"].as_str(), digest);
            if legacy {
                Side::Cosign2
                    .verify(&scratch, "cosign.pub", &image, &["--type", wanted])
                    .success();
            }
        }
        let statement = statement_of(
            Side::Ours
                .verify(&scratch, "cosign.pub", &image, &["--type", "cyclonedx"])
                .stdout
                .trim_end(),
        );
        assert_eq!(statement["predicateType"], "https://cyclonedx.org/bom");
        assert_eq!(statement["predicate"]["components"][0]["name"], "is-number");
    }
}

#[test]
fn on_our_registry_bundles_go_through_the_referrers_api() {
    let registry = EmbeddedRegistry::start(&ours(), None);
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    scratch.write("bom.json", CYCLONEDX);
    for maker in [Side::Ours, Side::Cosign3] {
        let image = fresh_image(
            &scratch,
            registry.address(),
            &format!("lab/{maker:?}:v1").to_lowercase(),
        );
        maker
            .attest(&scratch, &image, "cyclonedx", "bom.json", false, &[])
            .success();
        let by_us = Side::Ours
            .verify(&scratch, "cosign.pub", &image, &["--type", "cyclonedx"])
            .success();
        let by_them = Side::Cosign3
            .verify(&scratch, "cosign.pub", &image, &["--type", "cyclonedx"])
            .success();
        assert_eq!(by_us.stdout, by_them.stdout, "{maker:?}");
        assert_eq!(by_us.stderr, by_them.stderr, "{maker:?}");
        // Through the API: no fallback tag was written.
        let tags = scratch
            .command(Peer::Crane.path())
            .args([
                "ls",
                "--insecure",
                image.split('@').next().unwrap_or_default(),
            ])
            .run()
            .success();
        assert!(!tags.stdout.contains("sha256-"), "{}", tags.stdout);
    }
}

/// `sign` (kind "signature", checked by `verify`) or `attest` (checked by
/// `verify-attestation --type cyclonedx`) with `key`, by `side`.
fn sign_or_attest(
    side: Side,
    scratch: &Scratch,
    kind: &str,
    key: &str,
    image: &str,
    legacy: bool,
) -> Run {
    if kind == "attestation" {
        return side.attest(
            scratch,
            image,
            "cyclonedx",
            "bom.json",
            legacy,
            &["--key", key],
        );
    }
    let mut invocation = side.command(scratch).args([
        "sign",
        "--key",
        key,
        "--tlog-upload=false",
        "--use-signing-config=false",
        "-y",
    ]);
    if legacy {
        invocation = invocation.args(["--new-bundle-format=false"]);
    }
    invocation
        .args(side.registry_flags())
        .args([image])
        .env("COSIGN_PASSWORD", "pw")
        .run()
}

fn check(
    side: Side,
    scratch: &Scratch,
    kind: &str,
    public: &str,
    image: &str,
    flags: &[&str],
) -> Run {
    if kind == "attestation" {
        return side.verify(
            scratch,
            public,
            image,
            &[&["--type", "cyclonedx"][..], flags].concat(),
        );
    }
    side.command(scratch)
        .args(["verify", "--key", public, "--insecure-ignore-tlog"])
        .args(side.registry_flags())
        .args(flags)
        .args([image])
        .run()
}

#[test]
fn every_key_type_signs_and_attests_for_real_cosign_and_reads_what_it_makes() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    scratch.write("bom.json", CYCLONEDX);
    let names = ["p384", "p521", "rsa2048", "rsa3072", "ed25519"];
    import_openssl_keys(&scratch, &names);
    for name in names {
        let key = format!("{name}.key");
        let public = format!("{name}.pub");
        // cosign checks ECDSA with SHA-256 unless --signature-digest-algorithm names the hash
        // it signed with (SHA-384 for P-384, SHA-512 for P-521; cosign 2.5 has no such flag on
        // verify-attestation), so it refuses its own P-384 and P-521 bundles and attestations
        // by default;
        // it checks pure Ed25519 and signs Ed25519ph, so it refuses its own Ed25519 signatures
        // and attestations. Ours signs what it checks and reads every one of these.
        let hash: &[&str] = match name {
            "p384" => &["--signature-digest-algorithm=sha384"],
            "p521" => &["--signature-digest-algorithm=sha512"],
            _ => &[],
        };
        for kind in ["signature", "attestation"] {
            for legacy in [false, true] {
                let image = fresh_image(
                    &scratch,
                    registry.address(),
                    &format!("lab/{name}{kind}{legacy}:v1"),
                );
                sign_or_attest(Side::Ours, &scratch, kind, &key, &image, legacy).success();
                let mut checks = vec![
                    (Side::Ours, &[][..]),
                    (Side::Ours, hash),
                    (Side::Cosign3, hash),
                ];
                if legacy && (kind == "signature" || hash.is_empty()) {
                    checks.push((Side::Cosign2, hash));
                }
                for (checker, flags) in checks {
                    let run = check(checker, &scratch, kind, &public, &image, flags);
                    assert_eq!(
                        run.code,
                        Some(0),
                        "ours {name} {kind} legacy={legacy}, checked by {checker:?} {flags:?}: {}",
                        run.stderr
                    );
                }
                // What cosign 3.1 makes with the key, ours verifies as it is.
                let theirs = fresh_image(
                    &scratch,
                    registry.address(),
                    &format!("lab/t{name}{kind}{legacy}:v1"),
                );
                sign_or_attest(Side::Cosign3, &scratch, kind, &key, &theirs, legacy).success();
                let run = check(Side::Ours, &scratch, kind, &public, &theirs, &[]);
                assert_eq!(
                    run.code,
                    Some(0),
                    "cosign 3.1's {name} {kind} legacy={legacy}: {}",
                    run.stderr
                );
            }
        }
    }
}

#[test]
fn recursive_attest_covers_every_platform_of_an_index() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    scratch.write("bom.json", CYCLONEDX);
    // (cosign 2.5 accepts `attest -r` but attests only the index; cosign 3.1 has no -r.)
    for (index, (legacy, recursive)) in [(false, true), (true, true), (false, false)]
        .into_iter()
        .enumerate()
    {
        let mut children = Vec::new();
        for platform in ["amd64", "arm64"] {
            let name = format!("lab/multi{index}:{platform}");
            let (_, digest) =
                cosign_testkit::push_random_image(&scratch, registry.address(), &name);
            children.push(format!("{}/lab/multi{index}@{digest}", registry.address()));
        }
        let tagged = format!("{}/lab/multi{index}:v1", registry.address());
        scratch
            .command(Peer::Crane.path())
            .args(["index", "append", "--insecure", "-t", &tagged])
            .args(children.iter().flat_map(|child| ["-m", child.as_str()]))
            .run()
            .success();
        let extra: &[&str] = if recursive { &["-r"] } else { &[] };
        Side::Ours
            .attest(&scratch, &tagged, "cyclonedx", "bom.json", legacy, extra)
            .success();
        let checkers: &[Side] = if legacy {
            &[Side::Ours, Side::Cosign3, Side::Cosign2]
        } else {
            &[Side::Ours, Side::Cosign3]
        };
        for image in children.iter().chain([&tagged]) {
            let is_index = image == &tagged;
            for &checker in checkers {
                let run = checker.verify(&scratch, "cosign.pub", image, &["--type", "cyclonedx"]);
                if recursive || is_index {
                    assert_eq!(
                        run.code,
                        Some(0),
                        "legacy={legacy} {checker:?} {image}: {}",
                        run.stderr
                    );
                } else {
                    // Without -r only the index itself is attested.
                    run.failure(1);
                }
            }
        }
    }
}

#[test]
fn cve_2022_35929_an_attestation_of_another_type_never_counts() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    scratch.write("bom.json", CYCLONEDX);
    for legacy in [false, true] {
        let image = fresh_image(&scratch, registry.address(), &format!("lab/cve{legacy}:v1"));
        Side::Ours
            .attest(&scratch, &image, "cyclonedx", "bom.json", legacy, &[])
            .success();
        for wanted in ["spdxjson", "custom", "https://slsa.dev/provenance/v1"] {
            let by_us = Side::Ours
                .verify(&scratch, "cosign.pub", &image, &["--type", wanted])
                .failure(1);
            let by_them = Side::Cosign3
                .verify(&scratch, "cosign.pub", &image, &["--type", wanted])
                .failure(1);
            assert_eq!(by_us.stdout, "");
            assert_eq!(by_us.stderr, by_them.stderr, "legacy={legacy} {wanted}");
            assert!(
                by_us.stderr.contains(&format!(
                    "none of the attestations matched the predicate type: {wanted}, found: https://cyclonedx.org/bom"
                )),
                "{}",
                by_us.stderr
            );
        }
    }
}

#[test]
fn refusals_have_cosign_3s_exit_code_and_message() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    key_pair(&scratch, "other");
    scratch.write("bom.json", CYCLONEDX);
    // A wrong key, in each format; an image with no attestation.
    for legacy in [false, true] {
        let image = fresh_image(&scratch, registry.address(), &format!("lab/key{legacy}:v1"));
        Side::Ours
            .attest(&scratch, &image, "cyclonedx", "bom.json", legacy, &[])
            .success();
        let by_us = Side::Ours
            .verify(&scratch, "other.pub", &image, &["--type", "cyclonedx"])
            .failure(1);
        let by_them = Side::Cosign3
            .verify(&scratch, "other.pub", &image, &["--type", "cyclonedx"])
            .failure(1);
        assert_eq!(by_us.stdout, "");
        assert!(
            by_us.stderr.contains("no matching attestations: "),
            "{}",
            by_us.stderr
        );
        assert_eq!(by_us.stderr, by_them.stderr, "legacy={legacy}");
    }
    let unsigned = fresh_image(&scratch, registry.address(), "lab/none:v1");
    let by_us = Side::Ours
        .verify(&scratch, "cosign.pub", &unsigned, &[])
        .failure(1);
    let by_them = Side::Cosign3
        .verify(&scratch, "cosign.pub", &unsigned, &[])
        .failure(1);
    assert_eq!(by_us.stderr, by_them.stderr);

    // A tampered payload: the envelope of a real attestation, its statement changed, the
    // signature kept, attached with cosign 3.1.
    let source = fresh_image(&scratch, registry.address(), "lab/source:v1");
    Side::Ours
        .attest(&scratch, &source, "cyclonedx", "bom.json", true, &[])
        .success();
    let envelope_line = Side::Ours
        .command(&scratch)
        .args(["download", "attestation", &source])
        .run()
        .success()
        .stdout;
    let mut envelope: serde_json::Value =
        serde_json::from_str(envelope_line.trim_end()).expect("envelope");
    let target = fresh_image(&scratch, registry.address(), "lab/tampered:v1");
    let mut statement = statement_of(envelope_line.trim_end());
    statement["subject"][0]["digest"]["sha256"] = serde_json::Value::String(
        target
            .rsplit_once("@sha256:")
            .map(|(_, hex)| hex)
            .unwrap_or_default()
            .to_owned(),
    );
    envelope["payload"] = serde_json::Value::String(
        base64::engine::general_purpose::STANDARD.encode(statement.to_string()),
    );
    scratch.write("tampered.json", envelope.to_string());
    Side::Cosign3
        .command(&scratch)
        .args([
            "attach",
            "attestation",
            "--allow-http-registry",
            "--attestation",
            "tampered.json",
            &target,
        ])
        .run()
        .success();
    let by_us = Side::Ours
        .verify(&scratch, "cosign.pub", &target, &["--type", "cyclonedx"])
        .failure(1);
    Side::Cosign3
        .verify(&scratch, "cosign.pub", &target, &["--type", "cyclonedx"])
        .failure(1);
    assert!(
        by_us.stderr.contains("no matching attestations: "),
        "{}",
        by_us.stderr
    );
    assert!(by_us.stderr.contains("signature"), "{}", by_us.stderr);

    // A statement, correctly signed, about another image: the source's envelope attached to
    // the target as is.
    let other = fresh_image(&scratch, registry.address(), "lab/other:v1");
    scratch.write("elsewhere.json", envelope_line.trim_end());
    Side::Ours
        .command(&scratch)
        .args([
            "attach",
            "attestation",
            "--attestation",
            "elsewhere.json",
            &other,
        ])
        .run()
        .success();
    let by_us = Side::Ours
        .verify(&scratch, "cosign.pub", &other, &["--type", "cyclonedx"])
        .failure(1);
    let by_them = Side::Cosign3
        .verify(&scratch, "cosign.pub", &other, &["--type", "cyclonedx"])
        .failure(1);
    assert!(
        by_us.stderr.contains("no matching subject digest found"),
        "{}",
        by_us.stderr
    );
    assert!(
        by_them.stderr.contains("no matching subject digest found"),
        "{}",
        by_them.stderr
    );
    // Without the claims check the signature alone counts, as in cosign.
    let by_us = Side::Ours
        .verify(
            &scratch,
            "cosign.pub",
            &other,
            &["--type", "cyclonedx", "--check-claims=false"],
        )
        .success();
    let by_them = Side::Cosign3
        .verify(
            &scratch,
            "cosign.pub",
            &other,
            &["--type", "cyclonedx", "--check-claims=false"],
        )
        .success();
    assert_eq!(by_us.stdout, by_them.stdout);
    assert_eq!(by_us.stderr, by_them.stderr);

    // A malformed predicate.
    scratch.write("broken.json", "{\"components\": [");
    let image = fresh_image(&scratch, registry.address(), "lab/malformed:v1");
    for maker in [Side::Ours, Side::Cosign3] {
        maker
            .attest(&scratch, &image, "cyclonedx", "broken.json", false, &[])
            .failure(1);
    }
}

const ALLOW_WITHOUT_LEFT_PAD: &str = "package signature\n\nallow {\n  not banned\n}\n\nbanned {\n  input.predicate.components[_].name == \"left-pad\"\n}\n";
const ALLOW_WITH_IS_NUMBER: &str = "package signature\n\nallow {\n  input.predicateType == \"https://cyclonedx.org/bom\"\n  input.predicate.components[_].name == \"is-number\"\n}\n";

#[test]
fn policies_decide_as_in_cosign_rego_in_a_worker_cue_through_cue() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    cosign_testkit::sample_sbom(&scratch);
    let image = fresh_image(&scratch, registry.address(), "lab/sbom:v1");
    Side::Ours
        .attest(&scratch, &image, "cyclonedx", "sbom.cdx.json", false, &[])
        .success();
    scratch.write("banned.rego", ALLOW_WITHOUT_LEFT_PAD);
    scratch.write("fine.rego", ALLOW_WITH_IS_NUMBER);
    scratch.write("type.cue", "predicateType: \"https://cyclonedx.org/bom\"\n");
    scratch.write(
        "banned.cue",
        "predicate: components: [...{name: !=\"left-pad\"}]\n",
    );
    scratch.write("broken.rego", "package signature\nallow {\n");
    let cue_path = format!(
        "{}:{}",
        Peer::Cue
            .path()
            .parent()
            .map(|dir| dir.display().to_string())
            .unwrap_or_default(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |side: Side, policies: &[&str]| {
        let mut extra = vec!["--type", "cyclonedx"];
        for policy in policies {
            extra.extend(["--policy", policy]);
        }
        side.command(&scratch)
            .args([
                "verify-attestation",
                "--key",
                "cosign.pub",
                "--insecure-ignore-tlog",
            ])
            .args(side.registry_flags())
            .args(&extra)
            .args([&image])
            .env("PATH", &cue_path)
            .run()
    };
    // Allowed: the same output, the policies named as cosign names them.
    for policies in [
        &["fine.rego"][..],
        &["type.cue"],
        &["type.cue", "fine.rego"],
    ] {
        let by_us = run(Side::Ours, policies).success();
        let by_them = run(Side::Cosign3, policies).success();
        assert_eq!(by_us.stdout, by_them.stdout, "{policies:?}");
        assert_eq!(by_us.stderr, by_them.stderr, "{policies:?}");
    }
    // Denied: nothing on stdout, cosign's count and summary; ours names the policy.
    for policies in [
        &["banned.rego"][..],
        &["banned.cue"],
        &["type.cue", "banned.rego"],
    ] {
        let by_us = run(Side::Ours, policies).failure(1);
        let by_them = run(Side::Cosign3, policies).failure(1);
        assert_eq!(by_us.stdout, "");
        assert_eq!(by_them.stdout, "");
        for text in [
            "There are 1 number of errors occurred during the validation:\n\n- ",
            "Error: 1 validation errors occurred\n",
        ] {
            assert!(
                by_us.stderr.contains(text),
                "{policies:?}\n{}",
                by_us.stderr
            );
            assert!(
                by_them.stderr.contains(text),
                "{policies:?}\n{}",
                by_them.stderr
            );
        }
        let named = policies.last().copied().unwrap_or_default();
        assert!(
            by_us.stderr.contains(&format!("- {named}: ")),
            "{}",
            by_us.stderr
        );
    }
    let by_us = run(Side::Ours, &["banned.cue"]).stderr;
    assert!(by_us.contains("left-pad"), "{by_us}");
    // A malformed policy is refused before anything is fetched, naming the file.
    let by_us = run(Side::Ours, &["broken.rego"]).failure(1);
    run(Side::Cosign3, &["broken.rego"]).failure(1);
    assert!(
        by_us.stderr.contains("Error: policy broken.rego: "),
        "{}",
        by_us.stderr
    );
    assert!(
        !by_us.stderr.contains("Verification for"),
        "{}",
        by_us.stderr
    );
    // Another extension.
    scratch.write("policy.json", "{}");
    let by_us = run(Side::Ours, &["policy.json"]).failure(1);
    let by_them = run(Side::Cosign3, &["policy.json"]).failure(1);
    assert!(by_us
        .stderr
        .contains("invalid policy format, expected .cue or .rego"));
    assert!(by_them
        .stderr
        .contains("invalid policy format, expected .cue or .rego"));
    // Without `cue` on PATH: said plainly, with how to install it.
    let without_cue = Side::Ours
        .command(&scratch)
        .args([
            "verify-attestation",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--type",
            "cyclonedx",
            "--policy",
            "type.cue",
            &image,
        ])
        .env("PATH", "/usr/bin:/bin")
        .run()
        .failure(1);
    assert!(
        without_cue.stderr.contains("`cue` tool") && without_cue.stderr.contains("install"),
        "{}",
        without_cue.stderr
    );
}

#[test]
fn a_rego_policy_that_loops_or_allocates_without_bound_is_stopped() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    scratch.write("bom.json", CYCLONEDX);
    let image = fresh_image(&scratch, registry.address(), "lab/hostile:v1");
    Side::Ours
        .attest(&scratch, &image, "cyclonedx", "bom.json", false, &[])
        .success();
    scratch.write(
        "hungry.rego",
        "package signature\nallow { x := [i | i := numbers.range(1, 1000000000)[_]]; count(x) > 0 }\n",
    );
    let hungry = Side::Ours
        .verify(
            &scratch,
            "cosign.pub",
            &image,
            &["--type", "cyclonedx", "--policy", "hungry.rego"],
        )
        .failure(1);
    assert!(
        hungry
            .stderr
            .contains("hungry.rego: evaluation stopped: execution exceeded memory limit"),
        "{}",
        hungry.stderr
    );
    // Over a megabyte of policy is refused before it is parsed.
    scratch.write(
        "huge.rego",
        format!("package signature\n# {}\n", "x".repeat(1024 * 1024)),
    );
    let huge = Side::Ours
        .verify(
            &scratch,
            "cosign.pub",
            &image,
            &["--type", "cyclonedx", "--policy", "huge.rego"],
        )
        .failure(1);
    assert!(
        huge.stderr.contains("over the 1048576-byte limit"),
        "{}",
        huge.stderr
    );
}

#[test]
fn replace_and_concurrent_attesters_in_the_legacy_format() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    scratch.write("bom.json", CYCLONEDX);
    let image = fresh_image(&scratch, registry.address(), "lab/replace:v1");
    for note in ["first", "second"] {
        scratch.write("note.txt", note);
        Side::Ours
            .attest(&scratch, &image, "custom", "note.txt", true, &[])
            .success();
    }
    Side::Ours
        .attest(&scratch, &image, "cyclonedx", "bom.json", true, &[])
        .success();
    let count = |wanted: &str| {
        Side::Cosign3
            .verify(&scratch, "cosign.pub", &image, &["--type", wanted])
            .success()
            .stdout
            .lines()
            .count()
    };
    assert_eq!(count("custom"), 2);
    scratch.write("note.txt", "third");
    Side::Ours
        .attest(&scratch, &image, "custom", "note.txt", true, &["--replace"])
        .success();
    assert_eq!(count("custom"), 1);
    assert_eq!(count("cyclonedx"), 1);
    let statement = statement_of(
        Side::Ours
            .verify(&scratch, "cosign.pub", &image, &[])
            .success()
            .stdout
            .trim_end(),
    );
    assert_eq!(statement["predicate"]["Data"], "third");

    // Six attesters at once: six layers.
    let contended = fresh_image(&scratch, registry.address(), "lab/contended:v1");
    let handles: Vec<_> = (0..6)
        .map(|index| {
            let note = scratch.write(format!("note{index}.txt"), format!("attester {index}"));
            let image = contended.clone();
            let dir = scratch.path().to_path_buf();
            std::thread::spawn(move || {
                std::process::Command::new(ours())
                    .current_dir(dir)
                    .args(["attest", "--key", "cosign.key", "--predicate"])
                    .arg(note)
                    .args([
                        "--tlog-upload=false",
                        "--use-signing-config=false",
                        "--new-bundle-format=false",
                        "-y",
                        &image,
                    ])
                    .env("COSIGN_PASSWORD", "pw")
                    .output()
                    .expect("runs")
            })
        })
        .collect();
    for handle in handles {
        let output = handle.join().expect("joins");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let lines = Side::Cosign3
        .verify(&scratch, "cosign.pub", &contended, &[])
        .success()
        .stdout;
    assert_eq!(lines.lines().count(), 6, "{lines}");
}

#[test]
fn blob_attestations_both_ways() {
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    scratch.write("bom.json", CYCLONEDX);
    scratch.write("artifact.bin", "the artifact\n");
    let attest_blob = |side: Side, extra: &[&str]| {
        side.command(&scratch)
            .args([
                "attest-blob",
                "--key",
                "cosign.key",
                "--type",
                "cyclonedx",
                "--predicate",
                "bom.json",
                "--tlog-upload=false",
                "--use-signing-config=false",
                "-y",
            ])
            .args(extra)
            .env("COSIGN_PASSWORD", "pw")
            .run()
    };
    let verify_blob = |side: Side, extra: &[&str]| {
        side.command(&scratch)
            .args([
                "verify-blob-attestation",
                "--key",
                "cosign.pub",
                "--insecure-ignore-tlog",
            ])
            .args(extra)
            .run()
    };
    for maker in [Side::Ours, Side::Cosign3] {
        let name = format!("{maker:?}").to_lowercase();
        let bundle = format!("{name}.bundle");
        let legacy = format!("{name}.legacy.bundle");
        let envelope = format!("{name}.envelope.json");
        let made = attest_blob(maker, &["--bundle", &bundle, "artifact.bin"]).success();
        assert_eq!(made.stdout, "");
        let legacy_made = attest_blob(
            maker,
            &[
                "--new-bundle-format=false",
                "--bundle",
                &legacy,
                "artifact.bin",
            ],
        )
        .success();
        // The envelope is printed, as cosign does without --output-signature.
        scratch.write(&envelope, legacy_made.stdout.trim_end());
        for checker in [Side::Ours, Side::Cosign3] {
            for evidence in [["--bundle", bundle.as_str()], ["--bundle", legacy.as_str()]] {
                let run = verify_blob(
                    checker,
                    &[
                        evidence[0],
                        evidence[1],
                        "--type",
                        "cyclonedx",
                        "artifact.bin",
                    ],
                )
                .success();
                assert!(run.stderr.ends_with("Verified OK\n"), "{}", run.stderr);
                // Another type: cosign's message.
                let wrong = verify_blob(
                    checker,
                    &[
                        evidence[0],
                        evidence[1],
                        "--type",
                        "spdxjson",
                        "artifact.bin",
                    ],
                )
                .failure(1);
                assert!(
                    wrong.stderr.contains(
                        "invalid predicate type, expected spdxjson got https://cyclonedx.org/bom"
                    ),
                    "{checker:?} {}",
                    wrong.stderr
                );
            }
        }
        // A bare envelope, and the digest instead of the blob.
        let digest = cosign_core::digest::Digest::sha256(b"the artifact\n")
            .hex()
            .to_owned();
        verify_blob(
            Side::Ours,
            &[
                "--signature",
                &envelope,
                "--type",
                "cyclonedx",
                "artifact.bin",
            ],
        )
        .success();
        verify_blob(
            Side::Ours,
            &[
                "--bundle",
                &bundle,
                "--type",
                "cyclonedx",
                "--digest",
                &digest,
                "--digestAlg",
                "sha256",
            ],
        )
        .success();
        verify_blob(
            Side::Cosign3,
            &[
                "--bundle",
                &bundle,
                "--type",
                "cyclonedx",
                "--digest",
                &digest,
                "--digestAlg",
                "sha256",
            ],
        )
        .success();
    }
    // Another blob, and --hash for a blob known by its digest.
    scratch.write("other.bin", "another artifact\n");
    for checker in [Side::Ours, Side::Cosign3] {
        verify_blob(
            checker,
            &[
                "--bundle",
                "ours.bundle",
                "--type",
                "cyclonedx",
                "other.bin",
            ],
        )
        .failure(1);
    }
    let hex = cosign_core::digest::Digest::sha256(b"another artifact\n")
        .hex()
        .to_owned();
    attest_blob(
        Side::Ours,
        &["--hash", &hex, "--bundle", "hashed.bundle", "other.bin"],
    )
    .success();
    verify_blob(
        Side::Cosign3,
        &[
            "--bundle",
            "hashed.bundle",
            "--type",
            "cyclonedx",
            "other.bin",
        ],
    )
    .success();
}

#[test]
fn attach_and_download_as_cosign_does() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    scratch.write("bom.json", CYCLONEDX);
    // A bundle made for the image by cosign 3.1 (attest-blob --statement), attached by us.
    let image = fresh_image(&scratch, registry.address(), "lab/attach:v1");
    let hex = image
        .rsplit_once("@sha256:")
        .map(|(_, hex)| hex)
        .unwrap_or_default();
    scratch.write(
        "statement.json",
        format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"lab/attach","digest":{{"sha256":"{hex}"}}}}],"predicateType":"https://cyclonedx.org/bom","predicate":{CYCLONEDX}}}"#
        ),
    );
    Side::Cosign3
        .command(&scratch)
        .args([
            "attest-blob",
            "--key",
            "cosign.key",
            "--statement",
            "statement.json",
            "--bundle",
            "statement.bundle",
            "--tlog-upload=false",
            "--use-signing-config=false",
            "-y",
            "statement.json",
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    Side::Ours
        .command(&scratch)
        .args([
            "attach",
            "attestation",
            "--attestation",
            "statement.bundle",
            &image,
        ])
        .run()
        .success();
    let by_them = Side::Cosign3
        .verify(&scratch, "cosign.pub", &image, &["--type", "cyclonedx"])
        .success();
    let by_us = Side::Ours
        .verify(&scratch, "cosign.pub", &image, &["--type", "cyclonedx"])
        .success();
    assert_eq!(by_us.stdout, by_them.stdout);
    // download attestation, both formats.
    let legacy_image = fresh_image(&scratch, registry.address(), "lab/attach:v2");
    Side::Ours
        .attest(&scratch, &legacy_image, "cyclonedx", "bom.json", true, &[])
        .success();
    Side::Cosign3
        .attest(&scratch, &legacy_image, "cyclonedx", "bom.json", true, &[])
        .success();
    for target in [&image, &legacy_image] {
        for extra in [&[][..], &["--predicate-type", "cyclonedx"]] {
            let mut by_us: Vec<String> = Side::Ours
                .command(&scratch)
                .args(["download", "attestation"])
                .args(extra)
                .args([target.as_str()])
                .run()
                .success()
                .stdout
                .lines()
                .map(str::to_owned)
                .collect();
            let mut by_them: Vec<String> = Side::Cosign3
                .command(&scratch)
                .args(["download", "attestation", "--allow-http-registry"])
                .args(extra)
                .args([target.as_str()])
                .run()
                .success()
                .stdout
                .lines()
                .map(str::to_owned)
                .collect();
            // cosign fetches legacy layers in parallel: its order varies.
            by_us.sort();
            by_them.sort();
            assert_eq!(by_us, by_them, "{target} {extra:?}");
        }
        let none = Side::Ours
            .command(&scratch)
            .args([
                "download",
                "attestation",
                "--predicate-type",
                "spdxjson",
                target.as_str(),
            ])
            .run()
            .failure(1);
        assert!(
            none.stderr
                .contains("no attestations with predicate type 'https://spdx.dev/Document' found"),
            "{}",
            none.stderr
        );
    }
    // attach sbom / download sbom: the same bytes, cosign's notices.
    let sbom_ours = fresh_image(&scratch, registry.address(), "lab/sbom:ours");
    let sbom_theirs = fresh_image(&scratch, registry.address(), "lab/sbom:theirs");
    scratch.write("bom.cdx.json", CYCLONEDX);
    let attach = |side: Side, target: &str| {
        side.command(&scratch)
            .args([
                "attach",
                "sbom",
                "--sbom",
                "bom.cdx.json",
                "--type",
                "cyclonedx",
            ])
            .args(side.registry_flags())
            .args([target])
            .run()
            .success()
    };
    let by_us = attach(Side::Ours, &sbom_ours);
    let by_them = attach(Side::Cosign3, &sbom_theirs);
    let neutral = |text: &str, target: &str| {
        let hex = target
            .rsplit_once("@sha256:")
            .map(|(_, hex)| hex)
            .unwrap_or_default();
        text.replace(target, "IMAGE").replace(hex, "HEX")
    };
    assert_eq!(
        neutral(&by_us.stderr, &sbom_ours),
        neutral(&by_them.stderr, &sbom_theirs)
    );
    for target in [&sbom_ours, &sbom_theirs] {
        let by_us = Side::Ours
            .command(&scratch)
            .args(["download", "sbom", target.as_str()])
            .run()
            .success();
        let by_them = Side::Cosign3
            .command(&scratch)
            .args(["download", "sbom", "--allow-http-registry", target.as_str()])
            .run()
            .success();
        assert_eq!(by_us.stdout, CYCLONEDX);
        assert_eq!(by_us.stdout, by_them.stdout);
        assert_eq!(by_us.stderr, by_them.stderr);
    }
    // The SBOM images themselves are byte for byte cosign's.
    let manifest = |target: &str| {
        let tag = target.replace("@sha256:", ":sha256-") + ".sbom";
        scratch
            .command(Peer::Crane.path())
            .args(["manifest", "--insecure", &tag])
            .run()
            .success()
            .stdout
    };
    assert_eq!(manifest(&sbom_ours), manifest(&sbom_theirs));
}

#[test]
fn the_committed_sbom_is_what_syft_makes_of_the_sample_image() {
    let scratch = Scratch::new();
    cosign_testkit::sample_sbom(&scratch);
    let components = |bytes: &[u8]| -> Vec<(String, String)> {
        let sbom: serde_json::Value = serde_json::from_slice(bytes).expect("CycloneDX JSON");
        let mut found: Vec<(String, String)> = sbom["components"]
            .as_array()
            .expect("components")
            .iter()
            .map(|component| {
                (
                    component["name"].as_str().unwrap_or_default().to_owned(),
                    component["version"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        found.sort();
        found
    };
    let committed =
        std::fs::read(cosign_testkit::repository_root().join("examples/sample-image.cdx.json"))
            .expect("committed SBOM");
    let made = components(&scratch.read("sbom.cdx.json"));
    assert_eq!(components(&committed), made);
    assert!(
        made.contains(&("left-pad".to_owned(), "1.3.0".to_owned())),
        "{made:?}"
    );
}
