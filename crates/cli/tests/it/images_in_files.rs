//! `cosign manifest verify` and `cosign dockerfile verify` against the real cosign 3.1.1: the
//! same images found in the same Kubernetes manifest and Dockerfile, verified with the same
//! output, refused with the same exit code and message.

use cosign_testkit::{Distribution, Peer, Run, Scratch};

use crate::cosign;

/// `cosign <command> verify --key signer.pub --insecure-ignore-tlog FILE [extra]` by `side`.
fn verify_file(
    scratch: &Scratch,
    side: Option<Peer>,
    command: &str,
    file: &str,
    extra: &[&str],
) -> Run {
    let (invocation, http) = match side {
        None => (cosign(scratch), None),
        Some(peer) => (scratch.command(peer.path()), Some("--allow-http-registry")),
    };
    invocation
        .args([
            command,
            "verify",
            "--key",
            "signer.pub",
            "--insecure-ignore-tlog",
        ])
        .args(http)
        .args(extra)
        .args([file])
        .run()
}

#[test]
fn images_in_manifests_and_dockerfiles_are_verified_as_cosign_3_verifies_them() {
    let registry = Distribution::start();
    let scratch = Scratch::new();
    scratch
        .command(Peer::Cosign3.path())
        .args(["generate-key-pair", "--output-key-prefix", "signer"])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    let (base, _) = registry.push_random_image(&scratch, "lab/base:1.0");
    let (app, _) = registry.push_random_image(&scratch, "lab/app:1.0");
    let (unsigned, _) = registry.push_random_image(&scratch, "lab/unsigned:1.0");
    for image in [&base, &app] {
        scratch
            .command(Peer::Cosign3.path())
            .args(["sign", "--key", "signer.key", "--tlog-upload=false"])
            .args(["--use-signing-config=false", "--new-bundle-format=false"])
            .args(["--allow-http-registry", "-y", image])
            .env("COSIGN_PASSWORD", "pw")
            .run()
            .success();
    }
    scratch.write(
        "deploy.yaml",
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app}}\nspec:\n  template:\n    spec:\n      initContainers: [{{name: setup, image: \"{base}\"}}]\n      containers: [{{name: app, image: \"{app}\"}}]\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: app}}\nspec: {{ports: [{{port: 80}}]}}\n"),
    );
    scratch.write(
        "unsigned.yml",
        format!("apiVersion: v1\nkind: Pod\nspec:\n  containers: [{{name: a, image: \"{app}\"}}, {{name: b, image: \"{unsigned}\"}}]\n"),
    );
    scratch.write("deploy.txt", "apiVersion: v1\n");
    scratch.write(
        "Dockerfile",
        // (No stage referred to by name: cosign 3.1.1 takes such a name for an image, a bug
        // 3.1.2 fixed and ours does not have; the unit tests cover stages.)
        format!("ARG BASE={base}\nFROM $BASE AS build\nRUN make\nFROM {app}\n"),
    );

    let mut outputs = Vec::new();
    for side in [None, Some(Peer::Cosign3)] {
        let who = if side.is_none() { "ours" } else { "cosign 3.1" };
        let run = verify_file(&scratch, side, "manifest", "deploy.yaml", &[]);
        assert_eq!(run.code, Some(0), "{who}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("Extracted image(s): {base}, {app}")),
            "{who}: {}",
            run.stderr
        );
        let dockerfile = verify_file(&scratch, side, "dockerfile", "Dockerfile", &[]);
        assert_eq!(dockerfile.code, Some(0), "{who}: {}", dockerfile.stderr);
        assert!(
            dockerfile
                .stderr
                .contains(&format!("Extracted image(s): {base}, {app}")),
            "{who}: {}",
            dockerfile.stderr
        );
        let base_only = verify_file(
            &scratch,
            side,
            "dockerfile",
            "Dockerfile",
            &["--base-image-only"],
        );
        assert_eq!(base_only.code, Some(0), "{who}: {}", base_only.stderr);
        assert!(
            base_only
                .stderr
                .contains(&format!("Extracted image(s): {app}\n")),
            "{who}: {}",
            base_only.stderr
        );
        let refused = verify_file(&scratch, side, "manifest", "unsigned.yml", &[]);
        let wrong_extension = verify_file(&scratch, side, "manifest", "deploy.txt", &[]);
        assert_ne!(wrong_extension.code, Some(0), "{who}");
        assert!(
            wrong_extension
                .stderr
                .contains("only [.yaml .yml] manifests are supported at this time"),
            "{who}: {}",
            wrong_extension.stderr
        );
        outputs.push((run.stdout, dockerfile.stdout, refused));
    }
    let (ours, theirs) = (&outputs[0], &outputs[1]);
    // The same verified signatures, printed the same way.
    assert_eq!(ours.0, theirs.0);
    assert_eq!(ours.1, theirs.1);
    // An unsigned image: the same exit code and message.
    assert_eq!(ours.2.code, theirs.2.code);
    assert_ne!(ours.2.code, Some(0));
    assert!(
        ours.2.stderr.contains("no signatures found")
            && theirs.2.stderr.contains("no signatures found"),
        "ours: {}\ntheirs: {}",
        ours.2.stderr,
        theirs.2.stderr
    );
}
