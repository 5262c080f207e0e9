//! Signing and verifying images on a real distribution registry, against the real cosign 2.5
//! and 3.1 and skopeo 1.18, in both directions, with the same messages and exit codes on
//! failures.

use cosign_testkit::{Distribution, Peer, Run, Scratch};

use crate::{cosign, key_pair};

const PASSWORD: &str = "pw";

fn our_sign(scratch: &Scratch, key: &str, image: &str, extra: &[&str]) -> Run {
    cosign(scratch)
        .args([
            "sign",
            "--key",
            key,
            "--tlog-upload=false",
            "--new-bundle-format=false",
            "--use-signing-config=false",
            "-y",
        ])
        .args(extra)
        .arg_image(image)
        .env("COSIGN_PASSWORD", PASSWORD)
        .run()
}

fn our_verify(scratch: &Scratch, public: &str, image: &str, extra: &[&str]) -> Run {
    cosign(scratch)
        .args(["verify", "--key", public, "--insecure-ignore-tlog"])
        .args(extra)
        .arg_image(image)
        .run()
}

fn real_verify(scratch: &Scratch, peer: Peer, public: &str, image: &str, extra: &[&str]) -> Run {
    scratch
        .command(peer.path())
        .args([
            "verify",
            "--key",
            public,
            "--insecure-ignore-tlog",
            "--allow-http-registry",
        ])
        .args(extra)
        .arg_image(image)
        .run()
}

fn real_sign_legacy(scratch: &Scratch, peer: Peer, key: &str, image: &str) {
    let mut args = vec![
        "sign",
        "--key",
        key,
        "--tlog-upload=false",
        "--allow-http-registry",
        "-y",
    ];
    if peer == Peer::Cosign3 {
        args.extend(["--use-signing-config=false", "--new-bundle-format=false"]);
    }
    scratch
        .command(peer.path())
        .args(&args)
        .arg_image(image)
        .env("COSIGN_PASSWORD", PASSWORD)
        .run()
        .success();
}

/// Small helper so the image goes last, after the flags.
trait ImageArgument {
    fn arg_image(self, image: &str) -> Self;
}

impl ImageArgument for cosign_testkit::Invocation {
    fn arg_image(self, image: &str) -> Self {
        self.args([image])
    }
}

fn skopeo_setup(scratch: &Scratch, public: &str) {
    let policy = format!(
        r#"{{"default":[{{"type":"reject"}}],"transports":{{"docker":{{"":[{{"type":"sigstoreSigned","keyPath":"{}","signedIdentity":{{"type":"matchRepository"}}}}]}}}}}}"#,
        scratch.join(public).display()
    );
    scratch.write("policy.json", policy);
    std::fs::create_dir_all(scratch.join("registries.d")).expect("mkdir");
    scratch.write(
        "registries.d/default.yaml",
        "default-docker:\n  use-sigstore-attachments: true\n",
    );
    scratch.write("passphrase", PASSWORD);
}

fn skopeo_verifies(scratch: &Scratch, image: &str) -> Run {
    scratch
        .command(Peer::Skopeo.path())
        .args([
            "--policy",
            "policy.json",
            "--registries.d",
            "registries.d",
            "copy",
            "--remove-signatures",
            "--src-tls-verify=false",
        ])
        .args([
            format!("docker://{image}"),
            format!("oci:{}", scratch.join("copied").display()),
        ])
        .run()
}

#[test]
fn what_we_sign_real_cosign_and_skopeo_verify() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let (image, digest) = registry.push_random_image(&scratch, "lab/nginx:1.19-signed");
    let signed = our_sign(&scratch, "cosign.key", &image, &[]).success();
    assert!(signed.stderr.contains(&format!(
        "Pushing signature to: {}/lab/nginx\n",
        registry.address()
    )));
    assert!(signed.stderr.contains(&format!(
        "WARNING: Image reference {image} uses a tag, not a digest"
    )));
    for peer in [Peer::Cosign2, Peer::Cosign3] {
        let theirs = real_verify(&scratch, peer, "cosign.pub", &image, &[]).success();
        assert!(
            theirs.stdout.contains(&digest),
            "{peer:?}: {}",
            theirs.stdout
        );
    }
    skopeo_setup(&scratch, "cosign.pub");
    skopeo_verifies(&scratch, &image).success();
    // Our verify prints what cosign prints.
    let ours = our_verify(&scratch, "cosign.pub", &image, &[]).success();
    let theirs = real_verify(&scratch, Peer::Cosign3, "cosign.pub", &image, &[]).success();
    assert_eq!(ours.stdout, theirs.stdout);
    assert_eq!(ours.stderr, theirs.stderr);
    let ours_text = our_verify(&scratch, "cosign.pub", &image, &["-o", "text"]).success();
    let theirs_text = real_verify(
        &scratch,
        Peer::Cosign3,
        "cosign.pub",
        &image,
        &["-o", "text"],
    )
    .success();
    assert_eq!(ours_text.stdout, theirs_text.stdout);
}

#[test]
fn sign_prints_what_cosign_3_prints() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let (image, _) = registry.push_random_image(&scratch, "lab/messages:v1");
    let args = [
        "sign",
        "--key",
        "cosign.key",
        "--tlog-upload=false",
        "--use-signing-config=false",
        "--new-bundle-format=false",
        "-y",
    ];
    let theirs = scratch
        .command(Peer::Cosign3.path())
        .args(args)
        .args(["--allow-http-registry", &image])
        .env("COSIGN_PASSWORD", PASSWORD)
        .run()
        .success();
    cosign(&scratch)
        .args(["clean", "-f", &image])
        .run()
        .success();
    let ours = cosign(&scratch)
        .args(args)
        .args([&image])
        .env("COSIGN_PASSWORD", PASSWORD)
        .run()
        .success();
    // cosign 3 prints "Signing artifact..." from a goroutine: its place among the other lines
    // varies from run to run. Compare without it, then check both have it once.
    let without_spinner = |text: &str| text.replace("Signing artifact...\n", "");
    assert_eq!(
        without_spinner(&ours.stderr),
        without_spinner(&theirs.stderr)
    );
    assert_eq!(ours.stderr.matches("Signing artifact...\n").count(), 1);
    assert_eq!(theirs.stderr.matches("Signing artifact...\n").count(), 1);
    assert_eq!(ours.stdout, theirs.stdout);
}

#[test]
fn what_real_cosign_and_skopeo_sign_we_verify() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    for (peer, repository) in [
        (Peer::Cosign2, "lab/by-cosign2:v1"),
        (Peer::Cosign3, "lab/by-cosign3:v1"),
    ] {
        let (image, digest) = registry.push_random_image(&scratch, repository);
        real_sign_legacy(&scratch, peer, "cosign.key", &image);
        let ours = our_verify(&scratch, "cosign.pub", &image, &[]).success();
        assert!(ours.stdout.contains(&digest), "{peer:?}");
    }
    let (image, digest) = registry.push_random_image(&scratch, "lab/by-skopeo:v1");
    skopeo_setup(&scratch, "cosign.pub");
    scratch.write(
        "accept.json",
        r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
    );
    scratch
        .command(Peer::Skopeo.path())
        .args([
            "--policy",
            "accept.json",
            "--registries.d",
            "registries.d",
            "copy",
        ])
        .args(["--sign-by-sigstore-private-key", "cosign.key"])
        .args([
            "--sign-passphrase-file",
            "passphrase",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
        ])
        .args([format!("docker://{image}"), format!("docker://{image}")])
        .run()
        .success();
    let ours = our_verify(&scratch, "cosign.pub", &image, &[]).success();
    assert!(ours.stdout.contains(&digest));
    assert!(
        ours.stdout.contains("containers/image"),
        "skopeo's optional fields are shown: {}",
        ours.stdout
    );
}

/// Runs the same failing verification with ours and real cosign 3.1: same exit code, same
/// stderr (ours may add a final hint line).
fn fails_like_cosign(scratch: &Scratch, public: &str, image: &str, extra: &[&str], code: i32) {
    let ours = our_verify(scratch, public, image, extra).failure(code);
    let theirs = real_verify(scratch, Peer::Cosign3, public, image, extra).failure(code);
    let ours_without_hint: String = ours
        .stderr
        .lines()
        .filter(|line| !line.starts_with("Hint: "))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(ours_without_hint, theirs.stderr, "{image} {extra:?}");
    assert_eq!(ours.stdout, "");
}

#[test]
fn failures_have_cosigns_exit_codes_and_messages() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    key_pair(&scratch, "other");
    let (image, _) = registry.push_random_image(&scratch, "lab/app:v1");
    our_sign(&scratch, "cosign.key", &image, &["-a", "env=prod"]).success();
    our_verify(&scratch, "cosign.pub", &image, &["-a", "env=prod"]).success();
    fails_like_cosign(&scratch, "other.pub", &image, &[], 12);
    fails_like_cosign(&scratch, "cosign.pub", &image, &["-a", "env=dev"], 12);
    let (unsigned, _) = registry.push_random_image(&scratch, "lab/unsigned:v1");
    fails_like_cosign(&scratch, "cosign.pub", &unsigned, &[], 10);
    fails_like_cosign(
        &scratch,
        "cosign.pub",
        &format!("{}/lab/app:missing", registry.address()),
        &[],
        11,
    );

    // A signature for another digest, copied under this image's signature tag.
    let (victim, victim_digest) = registry.push_random_image(&scratch, "lab/app:v2");
    let (_, signed_digest) = registry.push_random_image(&scratch, "lab/app:v3");
    our_sign(
        &scratch,
        "cosign.key",
        &format!("{}/lab/app@{signed_digest}", registry.address()),
        &[],
    )
    .success();
    let source = format!(
        "{}/lab/app:{}.sig",
        registry.address(),
        signed_digest.replace(':', "-")
    );
    let target = format!(
        "{}/lab/app:{}.sig",
        registry.address(),
        victim_digest.replace(':', "-")
    );
    scratch
        .command(Peer::Crane.path())
        .args(["copy", &source, &target, "--insecure"])
        .run()
        .success();
    fails_like_cosign(&scratch, "cosign.pub", &victim, &[], 12);
}

#[test]
fn tree_lists_signatures_as_cosign_does() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    key_pair(&scratch, "second");
    let (image, _) = registry.push_random_image(&scratch, "lab/tree:v1");
    let tree = |program: std::path::PathBuf, extra: &[&str]| {
        scratch
            .command(program)
            .args(["tree"])
            .args(extra)
            .args([&image])
            .run()
            .success()
    };
    let ours_empty = tree(env!("CARGO_BIN_EXE_cosign").into(), &[]);
    let theirs_empty = tree(Peer::Cosign3.path(), &["--allow-http-registry"]);
    assert_eq!(ours_empty.stdout, theirs_empty.stdout);
    our_sign(&scratch, "cosign.key", &image, &[]).success();
    our_sign(&scratch, "second.key", &image, &[]).success();
    let ours = tree(env!("CARGO_BIN_EXE_cosign").into(), &[]);
    let theirs = tree(Peer::Cosign3.path(), &["--allow-http-registry"]);
    assert_eq!(ours.stdout, theirs.stdout);
    assert_eq!(ours.stdout.matches("🍒").count(), 2);
}

#[test]
fn signing_again_with_the_same_key_adds_nothing() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let (image, _) = registry.push_random_image(&scratch, "lab/again:v1");
    our_sign(&scratch, "cosign.key", &image, &[]).success();
    our_sign(&scratch, "cosign.key", &image, &[]).success();
    // Real cosign, signing the same payload with the same key, finds it already there too.
    real_sign_legacy(&scratch, Peer::Cosign2, "cosign.key", &image);
    let tree = cosign(&scratch).args(["tree", &image]).run().success();
    assert_eq!(tree.stdout.matches("🍒").count(), 1, "{}", tree.stdout);
}

#[test]
fn six_concurrent_signers_keep_six_signatures() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    let (image, _) = registry.push_random_image(&scratch, "lab/contended:v1");
    let names: Vec<String> = (0..6).map(|index| format!("signer{index}")).collect();
    for name in &names {
        key_pair(&scratch, name);
    }
    std::thread::scope(|threads| {
        for name in &names {
            let scratch = &scratch;
            let image = &image;
            threads.spawn(move || our_sign(scratch, &format!("{name}.key"), image, &[]).success());
        }
    });
    for name in &names {
        our_verify(&scratch, &format!("{name}.pub"), &image, &[]).success();
        real_verify(&scratch, Peer::Cosign3, &format!("{name}.pub"), &image, &[]).success();
    }
}
