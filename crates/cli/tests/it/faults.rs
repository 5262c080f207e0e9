//! A misbehaving registry (testkit's fake): throttling, server errors, dropped connections,
//! huge or hostile content, authentication. Each is a success after bounded retries or a
//! clear error with cosign's exit code, never a panic or unbounded memory.

use cosign_testkit::fake_registry::{FakeRegistry, Fault, Rule};
use cosign_testkit::Scratch;

use crate::cosign;

struct Setup {
    registry: FakeRegistry,
    scratch: Scratch,
    image: String,
    digest: String,
}

/// A fake registry holding one image signed by `cosign.key`.
fn signed_image() -> Setup {
    let registry = FakeRegistry::start();
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    let digest = registry.put_image("lab/app", "v1", b"layer content");
    let image = format!("{}/lab/app:v1", registry.address());
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
        .run()
        .success();
    registry.clear_log();
    Setup {
        registry,
        scratch,
        image,
        digest,
    }
}

fn verify(setup: &Setup, extra: &[&str]) -> cosign_testkit::Run {
    cosign(&setup.scratch)
        .args(["verify", "--key", "cosign.pub", "--insecure-ignore-tlog"])
        .args(extra)
        .args([&setup.image])
        .run()
}

fn sig_tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

#[test]
fn verify_by_tag_takes_three_round_trips_and_five_requests() {
    let setup = signed_image();
    verify(&setup, &[]).success();
    let log = setup.registry.log();
    // No separate ping: the tag's GET (its bytes hashed: the digest is never the registry's
    // word) tells the scheme and the challenge. Then side by side
    // the `.sig` manifest, the referrers API and its fallback tag (none here), then the
    // payload: three round trips, five requests.
    assert_eq!(log.len(), 5, "{log:#?}");
    assert_eq!(log[0], "GET /v2/lab/app/manifests/v1");
    let rest: std::collections::BTreeSet<&str> = log[1..].iter().map(String::as_str).collect();
    for expected in [
        format!("GET /v2/lab/app/manifests/{}", sig_tag(&setup.digest)),
        format!("GET /v2/lab/app/referrers/{}", setup.digest),
        format!(
            "GET /v2/lab/app/manifests/{}",
            setup.digest.replace(':', "-")
        ),
    ] {
        assert!(rest.contains(expected.as_str()), "{expected} in {log:#?}");
    }
    assert!(
        rest.iter()
            .any(|line| line.starts_with("GET /v2/lab/app/blobs/sha256:")),
        "{log:#?}"
    );
}

#[test]
fn throttling_with_retry_after_is_waited_out() {
    let setup = signed_image();
    setup.registry.add_rule(Rule {
        method: Some("GET".to_owned()),
        path_contains: "/manifests/v1".to_owned(),
        times: Some(2),
        fault: Fault::Status {
            status: 429,
            retry_after: Some("1".to_owned()),
        },
    });
    verify(&setup, &[]).success();
    let reads = setup
        .registry
        .log()
        .iter()
        .filter(|line| line.starts_with("GET /v2/lab/app/manifests/v1"))
        .count();
    assert_eq!(reads, 3, "two throttled attempts, then the answer");
}

#[test]
fn server_errors_and_dropped_connections_are_retried() {
    let setup = signed_image();
    setup.registry.add_rule(Rule {
        method: Some("GET".to_owned()),
        path_contains: ".sig".to_owned(),
        times: Some(2),
        fault: Fault::Status {
            status: 503,
            retry_after: None,
        },
    });
    setup.registry.add_rule(Rule {
        method: Some("GET".to_owned()),
        path_contains: "/blobs/".to_owned(),
        times: Some(1),
        fault: Fault::Drop,
    });
    verify(&setup, &[]).success();
}

#[test]
fn a_registry_that_keeps_failing_is_a_registry_error_not_unsigned() {
    let setup = signed_image();
    setup.registry.add_rule(Rule {
        method: Some("GET".to_owned()),
        path_contains: ".sig".to_owned(),
        times: None,
        fault: Fault::Status {
            status: 500,
            retry_after: None,
        },
    });
    let run = verify(&setup, &[]).failure(1);
    assert!(
        run.stderr.contains("unexpected status code 500") || run.stderr.contains("injected 500"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("no signatures found"));
    let attempts = setup
        .registry
        .log()
        .iter()
        .filter(|line| line.contains(".sig"))
        .count();
    assert_eq!(attempts, 4, "bounded retries");
}

#[test]
fn a_huge_payload_is_cut_off_at_the_size_its_layer_declares() {
    for declare_length in [true, false] {
        let setup = signed_image();
        setup.registry.add_rule(Rule {
            method: Some("GET".to_owned()),
            path_contains: "/blobs/".to_owned(),
            times: None,
            fault: Fault::Huge {
                length: 4 << 30,
                declare_length,
            },
        });
        let run = verify(&setup, &[]).failure(12);
        assert!(
            run.stderr.contains("response larger than"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn a_manifest_with_100000_layers_is_refused_before_parsing() {
    let setup = signed_image();
    let layer = r#"{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":1,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","annotations":{"dev.cosignproject.cosign/signature":"AA=="}}"#;
    let layers = vec![layer; 100_000].join(",");
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}},"layers":[{layers}]}}"#
    );
    setup.registry.add_rule(Rule {
        method: Some("GET".to_owned()),
        path_contains: ".sig".to_owned(),
        times: None,
        fault: Fault::Serve {
            content_type: "application/vnd.oci.image.manifest.v1+json".to_owned(),
            bytes: manifest.into_bytes(),
        },
    });
    let run = verify(&setup, &[]).failure(1);
    assert!(
        run.stderr.contains("response larger than 4194304 bytes"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_manifest_with_more_layers_than_cosign_reads_is_refused() {
    let setup = signed_image();
    let layer = r#"{"mediaType":"m","size":1,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}"#;
    let layers = vec![layer; 1001].join(",");
    let manifest = format!(
        r#"{{"schemaVersion":2,"config":{{"mediaType":"m","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}},"layers":[{layers}]}}"#
    );
    setup.registry.add_rule(Rule {
        method: Some("GET".to_owned()),
        path_contains: ".sig".to_owned(),
        times: None,
        fault: Fault::Serve {
            content_type: "application/vnd.oci.image.manifest.v1+json".to_owned(),
            bytes: manifest.into_bytes(),
        },
    });
    let run = verify(&setup, &[]).failure(1);
    assert!(
        run.stderr
            .contains("1001 layers, over the 1000-layer limit"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_signature_for_another_digest_is_rejected() {
    let setup = signed_image();
    // Move this image's signatures under another image's signature tag.
    let other = setup.registry.put_image("lab/app", "v2", b"other content");
    let signatures = cosign(&setup.scratch)
        .args(["triangulate", &setup.image])
        .run()
        .success()
        .stdout;
    assert!(
        signatures.trim().ends_with(&sig_tag(&setup.digest)),
        "{signatures}"
    );
    let manifest = fetch(
        &setup.registry,
        &format!("/v2/lab/app/manifests/{}", sig_tag(&setup.digest)),
    );
    setup.registry.put_manifest(
        "lab/app",
        Some(&sig_tag(&other)),
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
    );
    let run = cosign(&setup.scratch)
        .args(["verify", "--key", "cosign.pub", "--insecure-ignore-tlog"])
        .args([format!("{}/lab/app:v2", setup.registry.address())])
        .run()
        .failure(12);
    assert!(
        run.stderr.contains(&format!(
            "no matching signatures: invalid or missing digest in claim: {}",
            setup.digest
        )),
        "{}",
        run.stderr
    );
}

/// A plain HTTP GET on the fake (to read back what was pushed).
fn fetch(registry: &FakeRegistry, path: &str) -> Vec<u8> {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(registry.address()).expect("connect");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\nAccept: application/vnd.oci.image.manifest.v1+json\r\n\r\n").expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read");
    let split = answer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("headers")
        + 4;
    answer.split_off(split)
}

#[test]
fn bearer_tokens_from_flags_and_docker_config() {
    let setup = signed_image();
    setup.registry.require_bearer("alice", "s3cret");
    // Anonymous: refused by the token endpoint, a clear authentication error.
    let run = verify(&setup, &[]).failure(1);
    assert!(run.stderr.contains("authenticating to"), "{}", run.stderr);
    // Flags.
    verify(
        &setup,
        &[
            "--registry-username",
            "alice",
            "--registry-password",
            "s3cret",
        ],
    )
    .success();
    let wrong = verify(
        &setup,
        &[
            "--registry-username",
            "alice",
            "--registry-password",
            "nope",
        ],
    )
    .failure(1);
    assert!(wrong.stderr.contains("bad credentials"), "{}", wrong.stderr);
    // docker's config.json.
    let config_dir = setup.scratch.join("docker");
    std::fs::create_dir_all(&config_dir).expect("mkdir");
    std::fs::write(
        config_dir.join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"YWxpY2U6czNjcmV0"}}}}}}"#,
            setup.registry.address()
        ),
    )
    .expect("config");
    setup.registry.clear_log();
    cosign(&setup.scratch)
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &setup.image,
        ])
        .env("DOCKER_CONFIG", &config_dir)
        .run()
        .success();
    let tokens = setup
        .registry
        .log()
        .iter()
        .filter(|line| line.starts_with("GET /token"))
        .count();
    assert_eq!(
        tokens,
        1,
        "one token for the whole verification: {:#?}",
        setup.registry.log()
    );
}

#[test]
fn a_registry_that_is_not_there_is_a_clear_error() {
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let run = cosign(&scratch)
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &format!("127.0.0.1:{port}/x:y"),
        ])
        .run()
        .failure(1);
    assert!(
        run.stderr
            .contains(&format!("GET http://127.0.0.1:{port}/v2/")),
        "{}",
        run.stderr
    );
}

#[test]
fn a_self_signed_registry_needs_allow_insecure_registry() {
    let registry = cosign_testkit::Distribution::start_tls();
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    // crane pushes over TLS without verification.
    let (image, _) = registry.push_random_image(&scratch, "lab/tls:v1");
    let refused = cosign(&scratch)
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
        .failure(1);
    assert!(
        refused
            .stderr
            .contains(&format!("GET https://{}/v2/", registry.address())),
        "{}",
        refused.stderr
    );
    cosign(&scratch)
        .args([
            "sign",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "-y",
            "--allow-insecure-registry",
            &image,
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    cosign(&scratch)
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--allow-insecure-registry",
            &image,
        ])
        .run()
        .success();
    scratch
        .command(cosign_testkit::Peer::Cosign3.path())
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--allow-insecure-registry",
            &image,
        ])
        .run()
        .success();
}

#[test]
fn credential_helpers_from_docker_config_are_asked() {
    let setup = signed_image();
    setup.registry.require_bearer("helper-user", "helper-pass");
    let bin = setup.scratch.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let helper = bin.join("docker-credential-testhelper");
    std::fs::write(
        &helper,
        "#!/bin/sh\nread server\necho \"$server\" > \"$(dirname \"$0\")/asked\"\nprintf '{\"Username\":\"helper-user\",\"Secret\":\"helper-pass\"}'\n",
    )
    .expect("helper");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let config_dir = setup.scratch.join("docker");
    std::fs::create_dir_all(&config_dir).expect("mkdir");
    std::fs::write(
        config_dir.join("config.json"),
        format!(
            r#"{{"credHelpers":{{"{}":"testhelper"}}}}"#,
            setup.registry.address()
        ),
    )
    .expect("config");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cosign(&setup.scratch)
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &setup.image,
        ])
        .env("DOCKER_CONFIG", &config_dir)
        .env("PATH", path)
        .run()
        .success();
    let asked = std::fs::read_to_string(bin.join("asked")).expect("the helper was asked");
    assert_eq!(asked.trim(), setup.registry.address());
}

#[test]
fn a_tampered_payload_is_rejected() {
    let setup = signed_image();
    let sig_manifest = fetch(
        &setup.registry,
        &format!("/v2/lab/app/manifests/{}", sig_tag(&setup.digest)),
    );
    let text = String::from_utf8(sig_manifest).expect("utf-8");
    let payload_digest = text
        .split("\"digest\":\"")
        .nth(2)
        .and_then(|rest| rest.split('"').next())
        .expect("layer digest")
        .to_owned();
    let original = fetch(
        &setup.registry,
        &format!("/v2/lab/app/blobs/{payload_digest}"),
    );
    let tampered = String::from_utf8(original)
        .expect("utf-8")
        .replace("lab/app", "lab/xyz");
    setup.registry.add_rule(Rule {
        method: Some("GET".to_owned()),
        path_contains: format!("/blobs/{payload_digest}"),
        times: None,
        fault: Fault::Serve {
            content_type: "application/octet-stream".to_owned(),
            bytes: tampered.into_bytes(),
        },
    });
    let run = verify(&setup, &[]).failure(12);
    assert!(
        run.stderr.contains("content digest mismatch"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_claims_false_skips_the_digest_check_as_cosign_does() {
    let setup = signed_image();
    let other = setup.registry.put_image("lab/app", "v2", b"another image");
    let manifest = fetch(
        &setup.registry,
        &format!("/v2/lab/app/manifests/{}", sig_tag(&setup.digest)),
    );
    setup.registry.put_manifest(
        "lab/app",
        Some(&sig_tag(&other)),
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
    );
    let image = format!("{}/lab/app:v2", setup.registry.address());
    let base = ["verify", "--key", "cosign.pub", "--insecure-ignore-tlog"];
    cosign(&setup.scratch)
        .args(base)
        .args([&image])
        .run()
        .failure(12);
    let unchecked = cosign(&setup.scratch)
        .args(base)
        .args(["--check-claims=false", &image])
        .run()
        .success();
    assert!(!unchecked
        .stderr
        .contains("The cosign claims were validated"));
}

#[test]
fn a_bundle_whose_subject_is_another_image_is_rejected() {
    let registry = FakeRegistry::start();
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    let signed = registry.put_image("lab/app", "v1", b"signed content");
    let victim = registry.put_image("lab/app", "v2", b"victim content");
    cosign(&scratch)
        .args(["sign", "--key", "cosign.key", "--tlog-upload=false", "-y"])
        .args([format!("{}/lab/app:v1", registry.address())])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    // List the first image's bundle as a referrer of the second.
    let index = fetch(
        &registry,
        &format!("/v2/lab/app/manifests/{}", signed.replace(':', "-")),
    );
    registry.put_manifest(
        "lab/app",
        Some(&victim.replace(':', "-")),
        "application/vnd.oci.image.index.v1+json",
        &index,
    );
    for extra in [&[][..], &["--check-claims=false"]] {
        // With --check-claims=false too (cosign 3.1 refuses it as well): the bundle signed
        // another image.
        let run = cosign(&scratch)
            .args(["verify", "--key", "cosign.pub", "--insecure-ignore-tlog"])
            .args(extra)
            .args([format!("{}/lab/app:v2", registry.address())])
            .run()
            .failure(1);
        assert!(
            run.stderr
                .contains("no matching attestations: no matching subject digest found"),
            "{extra:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_registry_lying_about_a_tags_digest_cannot_swap_the_image_verified() {
    let setup = signed_image();
    // v2 is an unsigned image; the registry claims it is the signed v1.
    let unsigned = setup
        .registry
        .put_image("lab/app", "v2", b"unsigned content");
    setup.registry.add_rule(Rule {
        method: None,
        path_contains: "/manifests/v2".to_owned(),
        times: None,
        fault: Fault::LieDigest {
            digest: setup.digest.clone(),
        },
    });
    let image = format!("{}/lab/app:v2", setup.registry.address());
    let run = cosign(&setup.scratch)
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            &image,
        ])
        .run()
        .failure(10);
    assert!(run.stderr.contains("no signatures found"), "{}", run.stderr);
    assert!(!run.stdout.contains(&setup.digest), "{}", run.stdout);
    // The digests used are those of the bytes: the unsigned image's signature tag is asked for.
    let log = setup.registry.log();
    assert!(
        log.iter().any(|line| line.contains(&sig_tag(&unsigned))),
        "{log:#?}"
    );
}

#[test]
fn referrers_mode_oci_1_1_needs_the_referrers_api() {
    let registry = FakeRegistry::start();
    let scratch = Scratch::new();
    cosign(&scratch)
        .args(["generate-key-pair"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    registry.put_image("lab/app", "v1", b"content");
    let image = format!("{}/lab/app:v1", registry.address());
    let run = cosign(&scratch)
        .args([
            "sign",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "-y",
            "--registry-referrers-mode",
            "oci-1-1",
            &image,
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .failure(1);
    assert!(run.stderr.contains("no referrers API"), "{}", run.stderr);
    cosign(&scratch)
        .args([
            "sign",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "-y",
            "--registry-referrers-mode",
            "legacy",
            &image,
        ])
        .env("COSIGN_PASSWORD", "pw")
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
        .success();
}

/// `save` from a registry serving `fault` for every blob: an error naming the blob, and no
/// file in the layout under a digest its content does not have (nor any temporary file).
fn save_refuses(fault: Fault, message: &str) {
    let setup = signed_image();
    // The image's layer.
    let layer = cosign_core::digest::Digest::sha256(b"layer content");
    setup.registry.add_rule(Rule {
        method: Some("GET".to_owned()),
        path_contains: format!("/blobs/{layer}"),
        times: None,
        fault,
    });
    let run = cosign(&setup.scratch)
        .args(["save", "--dir", "saved", &setup.image])
        .run()
        .failure(1);
    assert!(run.stderr.contains(message), "{}", run.stderr);
    let blobs = setup.scratch.join("saved/blobs/sha256");
    for entry in std::fs::read_dir(&blobs).into_iter().flatten() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "{name} left behind");
        let content = std::fs::read(&path).unwrap();
        assert_eq!(
            cosign_core::digest::Digest::sha256(&content).hex(),
            name,
            "{name} holds other content"
        );
    }
}

#[test]
fn save_refuses_blobs_whose_content_is_not_their_digest() {
    save_refuses(
        Fault::Serve {
            content_type: "application/octet-stream".to_owned(),
            // As long as the layer ("layer content"), other bytes.
            bytes: b"other content".to_vec(),
        },
        "content does not match its digest",
    );
}

#[test]
fn save_stops_reading_a_blob_at_its_declared_size() {
    for declare_length in [true, false] {
        save_refuses(
            Fault::Huge {
                length: 4 << 30,
                declare_length,
            },
            "bytes declared",
        );
    }
}

#[test]
fn copy_aborts_the_upload_of_a_blob_whose_content_is_not_its_digest() {
    let setup = signed_image();
    let layer = cosign_core::digest::Digest::sha256(b"layer content");
    setup.registry.add_rule(Rule {
        method: Some("GET".to_owned()),
        path_contains: format!("/blobs/{layer}"),
        times: None,
        fault: Fault::Serve {
            content_type: "application/octet-stream".to_owned(),
            bytes: b"other content".to_vec(),
        },
    });
    let target = cosign_testkit::Distribution::start();
    let destination = format!("{}/lab/app:v1", target.address());
    let run = cosign(&setup.scratch)
        .args(["copy", &setup.image, &destination])
        .run()
        .failure(1);
    assert!(
        run.stderr
            .contains(&format!("{layer}: content does not match its digest")),
        "{}",
        run.stderr
    );
    let digest = setup
        .scratch
        .command(cosign_testkit::Peer::Crane.path())
        .args(["digest", &destination, "--insecure"])
        .run();
    assert_ne!(digest.code, Some(0), "nothing was tagged");
}

#[test]
fn save_refuses_an_index_of_more_manifests_than_it_would_hold() {
    let setup = signed_image();
    let child = r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}"#;
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
        vec![child; 1001].join(",")
    );
    setup.registry.add_rule(Rule {
        method: Some("GET".to_owned()),
        path_contains: "/manifests/huge".to_owned(),
        times: None,
        fault: Fault::Serve {
            content_type: "application/vnd.oci.image.index.v1+json".to_owned(),
            bytes: index.into_bytes(),
        },
    });
    let image = format!("{}/lab/app:huge", setup.registry.address());
    let run = cosign(&setup.scratch)
        .args(["save", "--dir", "saved", &image])
        .run()
        .failure(1);
    assert!(
        run.stderr.contains("more than 1000 manifests in one image"),
        "{}",
        run.stderr
    );
    // Refused before fetching any of them.
    let fetched = setup
        .registry
        .log()
        .iter()
        .filter(|line| line.contains("sha256:44136fa3"))
        .count();
    assert_eq!(fetched, 0);
}
