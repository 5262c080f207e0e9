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
    // oras: push an artifact of its own and pull it back intact.
    std::fs::create_dir(scratch.join("pushed")).expect("dir");
    scratch.write("pushed/notes.txt", "lab notes\n");
    let artifact = format!("{}/lab/notes:v1", registry.address());
    scratch
        .command(Peer::Oras.path())
        .args([
            "push",
            "--plain-http",
            "--artifact-type",
            "application/vnd.example.notes",
            &artifact,
            "pushed/notes.txt:text/plain",
        ])
        .run()
        .success();
    std::fs::create_dir(scratch.join("pulled")).expect("dir");
    scratch
        .command(Peer::Oras.path())
        .args(["pull", "--plain-http", "-o", "pulled", &artifact])
        .run()
        .success();
    assert_eq!(scratch.read("pulled/pushed/notes.txt"), b"lab notes\n");
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
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
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

/// Sends `request` on a new connection to `address` and returns the whole answer.
fn http(address: &str, request: &[u8]) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(request).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn a_blob_upload_killed_midway_leaves_nothing_behind() {
    use std::io::Write as _;
    let storage = Scratch::new();
    let registry = EmbeddedRegistry::start(&ours(), Some(storage.path()));
    let address = registry.address().to_owned();
    let blob = vec![7u8; 4 * 1024 * 1024];
    let digest = cosign_core::digest::Digest::sha256(&blob);
    let started = http(
        &address,
        format!(
            "POST /v2/lab/partial/blobs/uploads/ HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    let location = started
        .lines()
        .find_map(|line| {
            line.strip_prefix("location: ")
                .or_else(|| line.strip_prefix("Location: "))
        })
        .unwrap_or_else(|| panic!("no Location in {started}"))
        .trim()
        .to_owned();
    let separator = if location.contains('?') { '&' } else { '?' };
    // The closing PUT announces the whole blob but sends only half, then the server dies.
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .write_all(
            format!(
                "PUT {location}{separator}digest={digest} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n",
                blob.len()
            )
            .as_bytes(),
        )
        .unwrap();
    stream.write_all(&blob[..blob.len() / 2]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    registry.kill();
    drop(stream);

    let restarted = EmbeddedRegistry::start(&ours(), Some(storage.path()));
    let head = http(
        restarted.address(),
        format!(
            "HEAD /v2/lab/partial/blobs/{digest} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            restarted.address()
        )
        .as_bytes(),
    );
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    // No file anywhere in the storage holds the digest's name or a partial write.
    let mut pending = vec![storage.path().to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            assert!(
                !path.to_string_lossy().contains(digest.hex()),
                "{} left behind",
                path.display()
            );
            assert!(
                !path.starts_with(storage.join("tmp")),
                "{} left behind",
                path.display()
            );
        }
    }
}
