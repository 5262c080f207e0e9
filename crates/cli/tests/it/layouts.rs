//! Images moved with what is attached to them: `save` / `load` (OCI image layouts),
//! `verify --local-image` and `copy`, against real cosign 3.1 and 2.5 on both sides, between
//! distribution 2.8 (no referrers API: the fallback tag) and our embedded registry (the API).

use std::path::Path;

use cosign_testkit::{Distribution, EmbeddedRegistry, Peer, Run, Scratch};

use crate::{cosign, key_pair, ours};

/// Signs `image` twice with `cosign.key`: cosign 3.1's default (a bundle referrer) and
/// cosign 2.5's legacy `.sig` image.
fn sign_in_both_formats(scratch: &Scratch, image: &str) {
    scratch
        .command(Peer::Cosign3.path())
        .args([
            "sign",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--use-signing-config=false",
            "--allow-http-registry",
            "-y",
            image,
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    scratch
        .command(Peer::Cosign2.path())
        .args([
            "sign",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--allow-http-registry",
            "-y",
            image,
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
}

/// Real cosign's verdict on `image` with `cosign.pub`, in the format each reads by default
/// (3.1: the bundle; 2.5: the `.sig` image).
fn real_cosign_verify(scratch: &Scratch, peer: Peer, image: &str) -> Run {
    scratch
        .command(peer.path())
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--allow-http-registry",
            image,
        ])
        .run()
}

fn local_verify(scratch: &Scratch, program: &Path, public: &str, dir: &str) -> Run {
    scratch
        .command(program)
        .args([
            "verify",
            "--key",
            public,
            "--insecure-ignore-tlog",
            "--local-image",
            "-o",
            "text",
            dir,
        ])
        .run()
}

fn digest_of(scratch: &Scratch, image: &str) -> String {
    scratch
        .command(Peer::Crane.path())
        .args(["digest", image, "--insecure"])
        .run()
        .success()
        .stdout
        .trim()
        .to_owned()
}

fn tags_of(scratch: &Scratch, repository: &str) -> Vec<String> {
    let listed = scratch
        .command(Peer::Crane.path())
        .args(["ls", repository, "--insecure"])
        .run();
    listed.stdout.lines().map(str::to_owned).collect()
}

#[test]
fn saved_layouts_carry_both_formats_and_load_anywhere() {
    let source = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    key_pair(&scratch, "other");
    let (image, digest) = source.push_random_image(&scratch, "lab/saved:1");
    sign_in_both_formats(&scratch, &image);

    cosign(&scratch)
        .args(["save", "--dir", "saved", &image])
        .run()
        .success();
    // cosign's index annotations, plus the referrer listed (cosign leaves it out).
    let index: serde_json::Value =
        serde_json::from_slice(&scratch.read("saved/index.json")).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|entry| entry["annotations"]["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        [
            "dev.cosignproject.cosign/image",
            "dev.cosignproject.cosign/sigs",
            ""
        ]
    );
    assert_eq!(entries[0]["digest"], digest.as_str());
    assert_eq!(
        entries[2]["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );

    // Verified where it lies, by real cosign and by us (both signatures, no registry).
    local_verify(&scratch, &Peer::Cosign3.path(), "cosign.pub", "saved").success();
    let local = local_verify(&scratch, &ours(), "cosign.pub", "saved").success();
    assert_eq!(local.stdout.lines().count(), 2, "{}", local.stdout);
    assert!(local.stdout.contains("https://sigstore.dev/cosign/sign/v1"));
    assert!(local.stdout.contains("cosign container image signature"));
    assert!(local.stderr.contains("Verification for saved --"));
    local_verify(&scratch, &ours(), "other.pub", "saved").failure(12);

    // Loaded into a registry with the referrers API and into one without: real cosign
    // verifies both formats there, and the image keeps its digest.
    let with_api = EmbeddedRegistry::start(&ours(), None);
    let without_api = Distribution::start();
    for address in [with_api.address(), without_api.address()] {
        let target = format!("{address}/lab/loaded:1");
        cosign(&scratch)
            .args(["load", "--dir", "saved", &target])
            .run()
            .success();
        assert_eq!(digest_of(&scratch, &target), digest);
        real_cosign_verify(&scratch, Peer::Cosign3, &target).success();
        real_cosign_verify(&scratch, Peer::Cosign2, &target).success();
    }
    // Only distribution needed the fallback tag.
    let fallback = digest.replace(':', "-");
    assert!(
        tags_of(&scratch, &format!("{}/lab/loaded", without_api.address())).contains(&fallback)
    );
    assert!(!tags_of(&scratch, &format!("{}/lab/loaded", with_api.address())).contains(&fallback));
}

#[test]
fn layouts_saved_by_cosign_3_verify_and_load_with_us() {
    let source = EmbeddedRegistry::start(&ours(), None);
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let (image, digest) = source.push_random_image(&scratch, "lab/theirs:1");
    sign_in_both_formats(&scratch, &image);
    scratch
        .command(Peer::Cosign3.path())
        .args(["save", "--allow-http-registry", "--dir", "theirs", &image])
        .run()
        .success();
    // Their index leaves the bundle out: we find it among the blobs, as cosign does.
    let local = local_verify(&scratch, &ours(), "cosign.pub", "theirs").success();
    assert!(local.stdout.contains("https://sigstore.dev/cosign/sign/v1"));
    assert!(local.stdout.contains("cosign container image signature"));

    // cosign 3.1's own load pushes the bundle's manifest before its blobs, which registries
    // that check references refuse; ours pushes blobs first.
    let target_registry = Distribution::start();
    let target = format!("{}/lab/theirs:1", target_registry.address());
    cosign(&scratch)
        .args(["load", "--dir", "theirs", &target])
        .run()
        .success();
    assert_eq!(digest_of(&scratch, &target), digest);
    real_cosign_verify(&scratch, Peer::Cosign3, &target).success();
    real_cosign_verify(&scratch, Peer::Cosign2, &target).success();
}

#[test]
fn layouts_we_save_load_with_cosign_3() {
    let source = EmbeddedRegistry::start(&ours(), None);
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let (image, digest) = source.push_random_image(&scratch, "lab/legacy:1");
    // Legacy signatures only: cosign 3.1's load handles those.
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
    cosign(&scratch)
        .args(["save", "--dir", "ours", &image])
        .run()
        .success();
    let target_registry = Distribution::start();
    let target = format!("{}/lab/legacy:1", target_registry.address());
    scratch
        .command(Peer::Cosign3.path())
        .args(["load", "--allow-http-registry", "--dir", "ours", &target])
        .run()
        .success();
    assert_eq!(digest_of(&scratch, &target), digest);
    real_cosign_verify(&scratch, Peer::Cosign2, &target).success();
}

#[test]
fn load_and_local_verify_explain_what_is_missing() {
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let run = cosign(&scratch)
        .args(["load", "--dir", "nowhere", "127.0.0.1:1/lab/x:1"])
        .run()
        .failure(1);
    assert!(
        run.stderr
            .starts_with("Error: signed image index: nowhere/index.json:"),
        "{}",
        run.stderr
    );
    let run = local_verify(&scratch, &ours(), "cosign.pub", "nowhere").failure(1);
    assert!(
        run.stderr
            .contains("Error: loading OCI layout from nowhere: nowhere/index.json:"),
        "{}",
        run.stderr
    );
    // A layout with no image cosign's way (no `kind` annotation).
    std::fs::create_dir(scratch.join("bare")).unwrap();
    scratch.write("bare/oci-layout", r#"{"imageLayoutVersion":"1.0.0"}"#);
    scratch.write("bare/index.json", r#"{"schemaVersion":2,"manifests":[]}"#);
    let run = local_verify(&scratch, &ours(), "cosign.pub", "bare").failure(1);
    assert!(
        run.stderr
            .contains("must verify either an image index or image"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Hint: "), "{}", run.stderr);
}

#[test]
fn copy_keeps_every_signature_verifiable_by_real_cosign() {
    let ours_registry = EmbeddedRegistry::start(&ours(), None);
    let distribution = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let (image, digest) = ours_registry.push_random_image(&scratch, "lab/copied:1");
    sign_in_both_formats(&scratch, &image);

    // Ours (referrers API) to distribution (fallback tag), and back.
    let there = format!("{}/mirror/copied:1", distribution.address());
    let back = format!("{}/back/copied:1", ours_registry.address());
    for (from, to) in [(&image, &there), (&there, &back)] {
        let run = cosign(&scratch).args(["copy", from, to]).run().success();
        assert!(run.stderr.starts_with("Command \"copy\" is deprecated"));
        let copying: Vec<&str> = run
            .stderr
            .lines()
            .filter(|line| line.starts_with("Copying "))
            .collect();
        assert_eq!(copying.len(), 3, "{}", run.stderr);
        assert!(
            copying[2].ends_with(&format!(" to {to}...")),
            "{}",
            run.stderr
        );
        assert_eq!(digest_of(&scratch, to), digest);
        real_cosign_verify(&scratch, Peer::Cosign3, to).success();
        real_cosign_verify(&scratch, Peer::Cosign2, to).success();
    }
    // Again: everything is there already, nothing is copied.
    let run = cosign(&scratch)
        .args(["copy", &image, &there])
        .run()
        .success();
    assert!(!run.stderr.contains("Copying "), "{}", run.stderr);

    // A destination tag holding another image needs -f.
    let (other, _) = distribution.push_random_image(&scratch, "mirror/copied:taken");
    let run = cosign(&scratch)
        .args(["copy", &image, &other])
        .run()
        .failure(1);
    assert!(
        run.stderr.contains(&format!(
            "Error: image \"{other}\" already exists. Use `-f` to overwrite"
        )),
        "{}",
        run.stderr
    );
    cosign(&scratch)
        .args(["copy", "-f", &image, &other])
        .run()
        .success();
    assert_eq!(digest_of(&scratch, &other), digest);

    // --only=sig: the signatures, not the image.
    let signatures_only = format!("{}/sigs/copied:1", distribution.address());
    cosign(&scratch)
        .args(["copy", "--only=sig", &image, &signatures_only])
        .run()
        .success();
    let tags = tags_of(&scratch, &format!("{}/sigs/copied", distribution.address()));
    let tag_form = digest.replace(':', "-");
    assert!(tags.contains(&format!("{tag_form}.sig")), "{tags:?}");
    assert!(tags.contains(&tag_form), "{tags:?}");
    assert!(!tags.contains(&"1".to_owned()), "{tags:?}");

    let run = cosign(&scratch)
        .args(["copy", "--only=foo", &image, &signatures_only])
        .run()
        .failure(1);
    assert!(run.stderr.contains(
        "Error: invalid value for --only: foo, only the following values are supported: [sig sbom att]"
    ));
}

#[test]
fn copy_with_platform_takes_one_image_of_an_index() {
    let registry = EmbeddedRegistry::start(&ours(), None);
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let (amd64, amd64_digest) = registry.push_random_image(&scratch, "lab/multi:amd64");
    let (_, arm64_digest) = registry.push_random_image(&scratch, "lab/multi:arm64");
    let size = |digest: &str| {
        scratch
            .command(Peer::Crane.path())
            .args([
                "manifest",
                &format!("{}/lab/multi@{digest}", registry.address()),
                "--insecure",
            ])
            .run()
            .success()
            .stdout_bytes
            .len()
    };
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":{},"digest":"{amd64_digest}","platform":{{"architecture":"amd64","os":"linux"}}}},{{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":{},"digest":"{arm64_digest}","platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}}]}}"#,
        size(&amd64_digest),
        size(&arm64_digest)
    );
    scratch.write("index.json", &index);
    let index_reference = format!("{}/lab/multi:1", registry.address());
    scratch
        .command(Peer::Oras.path())
        .args([
            "manifest",
            "push",
            "--plain-http",
            "--media-type",
            "application/vnd.oci.image.index.v1+json",
            &index_reference,
            "index.json",
        ])
        .run()
        .success();
    cosign(&scratch)
        .args([
            "sign",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--use-signing-config=false",
            "-y",
            &amd64,
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();

    // The whole index saved and loaded: its images come along.
    cosign(&scratch)
        .args(["save", "--dir", "index", &index_reference])
        .run()
        .success();
    let saved: serde_json::Value =
        serde_json::from_slice(&scratch.read("index/index.json")).unwrap();
    assert_eq!(
        saved["manifests"][0]["annotations"]["kind"],
        "dev.cosignproject.cosign/imageIndex"
    );
    let reloaded = format!("{}/reloaded/multi:1", registry.address());
    cosign(&scratch)
        .args(["load", "--dir", "index", &reloaded])
        .run()
        .success();
    assert_eq!(
        digest_of(&scratch, &reloaded),
        digest_of(&scratch, &index_reference)
    );
    assert_eq!(
        digest_of(
            &scratch,
            &format!("{}/reloaded/multi@{arm64_digest}", registry.address())
        ),
        arm64_digest
    );

    let target = format!("{}/one/multi:1", registry.address());
    cosign(&scratch)
        .args([
            "copy",
            "--platform",
            "linux/amd64",
            &index_reference,
            &target,
        ])
        .run()
        .success();
    assert_eq!(digest_of(&scratch, &target), amd64_digest);
    real_cosign_verify(&scratch, Peer::Cosign3, &target).success();

    for (platform, reference, message) in [
        (
            "linux/s390x",
            &index_reference,
            "unable to find an entity for linux/s390x",
        ),
        (
            "linux",
            &index_reference,
            "platform spec matches more than one image architecture: linux/amd64, linux/arm64/v8",
        ),
        (
            "linux/amd64",
            &amd64,
            "specified reference is not a multiarch image",
        ),
    ] {
        let run = cosign(&scratch)
            .args(["copy", "--platform", platform, reference, &target])
            .run()
            .failure(1);
        assert!(
            run.stderr.contains(&format!("Error: {message}\n")),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn the_sample_image_loads_with_us_cosign_and_skopeo() {
    let registry = EmbeddedRegistry::start(&ours(), None);
    let scratch = Scratch::new();
    let sample = cosign_testkit::repository_root().join("examples/sample-image");
    let sample = sample.to_str().unwrap();
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{sample}/index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"].as_str().unwrap().to_owned();

    let by_us = format!("{}/sample/ours:1.0", registry.address());
    cosign(&scratch)
        .args(["load", "--dir", sample, &by_us])
        .run()
        .success();
    let by_cosign = format!("{}/sample/cosign:1.0", registry.address());
    scratch
        .command(Peer::Cosign3.path())
        .args(["load", "--allow-http-registry", "--dir", sample, &by_cosign])
        .run()
        .success();
    let by_skopeo = format!("{}/sample/skopeo:1.0", registry.address());
    scratch.write(
        "accept.json",
        r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
    );
    scratch
        .command(Peer::Skopeo.path())
        .args([
            "--policy",
            "accept.json",
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            &format!("oci:{sample}:1.0"),
            &format!("docker://{by_skopeo}"),
        ])
        .run()
        .success();
    for image in [&by_us, &by_cosign, &by_skopeo] {
        assert_eq!(digest_of(&scratch, image), digest, "{image}");
    }
    // The files are there, as pulled by a client.
    scratch
        .command(Peer::Crane.path())
        .args(["export", &by_us, "exported.tar", "--insecure"])
        .run()
        .success();
    let listing = scratch
        .command("tar")
        .args(["tf", "exported.tar"])
        .run()
        .success();
    assert!(listing.stdout.contains("hello.txt"), "{}", listing.stdout);
}

#[test]
fn a_tampered_layout_is_refused() {
    let registry = EmbeddedRegistry::start(&ours(), None);
    let scratch = Scratch::new();
    let sample = cosign_testkit::repository_root().join("examples/sample-image");
    scratch
        .command("cp")
        .args(["-r".as_ref(), sample.as_os_str(), "tampered".as_ref()])
        .run()
        .success();
    // The layer: the largest blob.
    let layer = std::fs::read_dir(scratch.join("tampered/blobs/sha256"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .max_by_key(|path| std::fs::metadata(path).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(&layer).unwrap();
    bytes[600] ^= 1;
    std::fs::write(&layer, bytes).unwrap();
    let run = cosign(&scratch)
        .args([
            "load",
            "--dir",
            "tampered",
            &format!("{}/lab/tampered:1", registry.address()),
        ])
        .run()
        .failure(1);
    assert!(
        run.stderr.contains("content does not match its digest"),
        "{}",
        run.stderr
    );
    let listed = scratch
        .command(Peer::Crane.path())
        .args([
            "ls",
            &format!("{}/lab/tampered", registry.address()),
            "--insecure",
        ])
        .run();
    assert!(listed.stdout.trim().is_empty(), "{}", listed.stdout);
}

#[test]
fn a_fifo_or_device_in_place_of_a_blob_is_an_error_not_a_hang() {
    let registry = EmbeddedRegistry::start(&ours(), None);
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let (image, _) = registry.push_random_image(&scratch, "lab/fifo:v1");
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
    cosign(&scratch)
        .args(["save", "--dir", "saved", &image])
        .run()
        .success();
    // Every blob replaced in turn: by a FIFO (opening it for reading would wait for a writer
    // forever) and by a character device.
    let blobs: Vec<_> = std::fs::read_dir(scratch.join("saved/blobs/sha256"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    for blob in &blobs {
        let original = std::fs::read(blob).unwrap();
        for replacement in ["fifo", "device"] {
            std::fs::remove_file(blob).unwrap();
            match replacement {
                "fifo" => {
                    scratch.command("mkfifo").args([blob]).run().success();
                }
                _ => std::os::unix::fs::symlink("/dev/zero", blob).unwrap(),
            }
            let started = std::time::Instant::now();
            let run = scratch
                .command("timeout")
                .args(["20".as_ref(), ours().as_os_str()])
                .args([
                    "verify",
                    "--key",
                    "cosign.pub",
                    "--insecure-ignore-tlog",
                    "--local-image",
                    "saved",
                ])
                .run();
            assert_ne!(
                run.code,
                Some(124),
                "{replacement} at {}: hung",
                blob.display()
            );
            assert!(started.elapsed() < std::time::Duration::from_secs(15));
            if run.code != Some(0) {
                assert!(
                    run.stderr.contains("not a regular file"),
                    "{replacement} at {}: {}",
                    blob.display(),
                    run.stderr
                );
            }
            std::fs::remove_file(blob).unwrap();
            std::fs::write(blob, &original).unwrap();
        }
    }
}
