//! `cosign registry serve` (the embedded registry) with real clients: crane, oras, skopeo,
//! cosign 2.5 and 3.1 (which finds and uses our referrers API), and ours; restarts with
//! `--storage`; concurrent pushers and pullers.

use cosign_testkit::{EmbeddedRegistry, Peer, Scratch};

use crate::{cosign, key_pair, ours};

#[test]
fn crane_oras_and_both_cosigns_work_against_it() {
    let registry = EmbeddedRegistry::start(&ours(), None);
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let (image, digest) = registry.push_random_image(&scratch, "lab/nginx:1.19-signed");
    // crane pulls what it pushed, digest intact.
    scratch
        .command(Peer::Crane.path())
        .args(["pull", &image, "pulled.tar", "--insecure"])
        .run()
        .success();
    let again = scratch
        .command(Peer::Crane.path())
        .args(["digest", &image, "--insecure"])
        .run()
        .success();
    assert_eq!(again.stdout.trim(), digest);
    // cosign 3 signs in its default format: it uses our referrers API (no fallback tag).
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
            &image,
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    let fallback = scratch
        .command(Peer::Crane.path())
        .args([
            "manifest",
            &format!(
                "{}/lab/nginx:{}",
                registry.address(),
                digest.replace(':', "-")
            ),
            "--insecure",
        ])
        .run();
    assert_ne!(
        fallback.code,
        Some(0),
        "no fallback tag where the referrers API exists"
    );
    scratch
        .command(Peer::Cosign3.path())
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--allow-http-registry",
            &image,
        ])
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
    // cosign 2 in the legacy format, read by both.
    scratch
        .command(Peer::Cosign2.path())
        .args([
            "sign",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--allow-http-registry",
            "-y",
            &image,
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    scratch
        .command(Peer::Cosign2.path())
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--allow-http-registry",
            &image,
        ])
        .run()
        .success();
    let tree = cosign(&scratch).args(["tree", &image]).run().success();
    assert!(
        tree.stdout.contains("Signatures for an image tag")
            && tree.stdout.contains("via OCI referrer"),
        "{}",
        tree.stdout
    );
    // oras: attach an artifact and discover it through the referrers API.
    scratch.write("sbom.json", "{}");
    scratch
        .command(Peer::Oras.path())
        .args([
            "attach",
            "--plain-http",
            "--artifact-type",
            "application/example+json",
            &image,
            "sbom.json",
        ])
        .run()
        .success();
    let discovered = scratch
        .command(Peer::Oras.path())
        .args([
            "discover",
            "--plain-http",
            "--artifact-type",
            "application/example+json",
            &image,
        ])
        .run()
        .success();
    assert!(
        discovered.stdout.contains("application/example+json"),
        "{}",
        discovered.stdout
    );
}

#[test]
fn skopeo_copies_in_and_out() {
    let registry = EmbeddedRegistry::start(&ours(), None);
    let scratch = Scratch::new();
    let (image, digest) = registry.push_random_image(&scratch, "lab/source:v1");
    scratch.write(
        "accept.json",
        r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
    );
    let layout = scratch.join("layout");
    scratch
        .command(Peer::Skopeo.path())
        .args(["--policy", "accept.json", "copy", "--src-tls-verify=false"])
        .args([
            format!("docker://{image}"),
            format!("oci:{}:v1", layout.display()),
        ])
        .run()
        .success();
    let copy = format!("{}/lab/copy:v1", registry.address());
    scratch
        .command(Peer::Skopeo.path())
        .args([
            "--policy",
            "accept.json",
            "copy",
            "--dest-tls-verify=false",
            "--preserve-digests",
        ])
        .args([
            format!("oci:{}:v1", layout.display()),
            format!("docker://{copy}"),
        ])
        .run()
        .success();
    // skopeo writes OCI media types into the layout, so the digest there is the one to keep.
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index"))
            .expect("json");
    let layout_digest = index["manifests"][0]["digest"]
        .as_str()
        .expect("digest")
        .to_owned();
    let copied = scratch
        .command(Peer::Crane.path())
        .args(["digest", &copy, "--insecure"])
        .run()
        .success();
    assert_eq!(copied.stdout.trim(), layout_digest);
    // Registry to registry, digests kept as they are.
    let mirror = format!("{}/lab/mirror:v1", registry.address());
    scratch
        .command(Peer::Skopeo.path())
        .args([
            "--policy",
            "accept.json",
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
        ])
        .args([format!("docker://{image}"), format!("docker://{mirror}")])
        .run()
        .success();
    let mirrored = scratch
        .command(Peer::Crane.path())
        .args(["digest", &mirror, "--insecure"])
        .run()
        .success();
    assert_eq!(mirrored.stdout.trim(), digest);
}

#[test]
fn content_survives_a_crash_and_a_restart() {
    let storage = Scratch::new();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let registry = EmbeddedRegistry::start(&ours(), Some(storage.path()));
    let (image, digest) = registry.push_random_image(&scratch, "lab/durable:v1");
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
    let address = registry.address().to_owned();
    registry.kill();
    // Nothing half-written left behind in the temporary area.
    let leftovers = std::fs::read_dir(storage.join("tmp"))
        .map(|entries| entries.count())
        .unwrap_or(0);
    assert_eq!(leftovers, 0);
    let restarted = EmbeddedRegistry::start(&ours(), Some(storage.path()));
    let image = image.replace(&address, restarted.address());
    let again = scratch
        .command(Peer::Crane.path())
        .args(["digest", &image, "--insecure"])
        .run()
        .success();
    assert_eq!(again.stdout.trim(), digest);
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
    scratch
        .command(Peer::Cosign3.path())
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--allow-http-registry",
            &image,
        ])
        .run()
        .success();
}

#[test]
fn concurrent_pushers_and_pullers_see_no_errors_and_no_corruption() {
    let registry = EmbeddedRegistry::start(&ours(), None);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    std::thread::scope(|threads| {
        for worker in 0..8 {
            let registry = &registry;
            threads.spawn(move || {
                let scratch = Scratch::new();
                let mut round = 0;
                while std::time::Instant::now() < deadline {
                    let (image, digest) = registry
                        .push_random_image(&scratch, &format!("load/worker{worker}:r{round}"));
                    scratch
                        .command(Peer::Crane.path())
                        .args(["pull", &image, "out.tar", "--insecure"])
                        .run()
                        .success();
                    let pulled = scratch
                        .command(Peer::Crane.path())
                        .args(["digest", &image, "--insecure"])
                        .run()
                        .success();
                    assert_eq!(
                        pulled.stdout.trim(),
                        digest,
                        "worker {worker} round {round}"
                    );
                    round += 1;
                }
                assert!(round > 0);
            });
        }
    });
}
