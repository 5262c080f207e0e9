//! Registries behind TLS that the system does not trust: `--registry-cacert`, mutual TLS
//! (`--registry-client-cert`/`--registry-client-key`) and `--registry-server-name`, on ours and
//! on real cosign 3.1 with the same flags, against a real distribution registry that asks for
//! client certificates.

use std::path::Path;

use cosign_testkit::{issue_certificate as issue, Distribution, Peer, Scratch};

use crate::{cosign, key_pair};

fn path(value: &Path) -> String {
    value.display().to_string()
}

#[test]
fn a_private_ca_mutual_tls_and_a_server_name_work_as_in_cosign() {
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let (server_certificate, server_key) = issue(&scratch, "server", "IP:127.0.0.1", "serverAuth");
    let (client_certificate, client_key) =
        issue(&scratch, "client", "DNS:client.test", "clientAuth");
    let registry = Distribution::start_with_certificate(
        &server_certificate,
        &server_key,
        Some(&scratch.join("ca.crt")),
    );
    let ca = path(&scratch.join("ca.crt"));
    let client = [
        "--registry-cacert".to_owned(),
        ca.clone(),
        "--registry-client-cert".to_owned(),
        path(&client_certificate),
        "--registry-client-key".to_owned(),
        path(&client_key),
    ];
    // Ours loads the lab's sample image and signs it, with the CA and the client certificate;
    // cosign 3.1 verifies with the same flags, and the reverse.
    let image = format!("{}/lab/mtls:v1", registry.address());
    let sample = cosign_testkit::repository_root().join("examples/sample-image");
    cosign(&scratch)
        .args(["load", "--dir", &path(&sample)])
        .args(&client)
        .args([&image])
        .run()
        .success();
    cosign(&scratch)
        .args(["sign", "--key", "cosign.key", "--tlog-upload=false", "-y"])
        .args(&client)
        .args([&image])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    scratch
        .command(Peer::Cosign3.path())
        .args(["verify", "--key", "cosign.pub", "--insecure-ignore-tlog"])
        .args(&client)
        .args([&image])
        .run()
        .success();
    scratch
        .command(Peer::Cosign3.path())
        .args([
            "sign",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--use-signing-config=false",
            "--new-bundle-format=false",
            "-y",
        ])
        .args(&client)
        .args([&image])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    cosign(&scratch)
        .args(["verify", "--key", "cosign.pub", "--insecure-ignore-tlog"])
        .args(&client)
        .args([&image])
        .run()
        .success();

    // Without the client certificate, the registry refuses the handshake: both fail.
    for program in [crate::ours(), Peer::Cosign3.path()] {
        let refused = scratch
            .command(&program)
            .args([
                "verify",
                "--key",
                "cosign.pub",
                "--insecure-ignore-tlog",
                "--registry-cacert",
                &ca,
            ])
            .args([&image])
            .run();
        assert_ne!(
            refused.code,
            Some(0),
            "{program:?} without a client certificate"
        );
    }
    // Without the CA, the certificate is not trusted.
    let untrusted = cosign(&scratch)
        .args(["verify", "--key", "cosign.pub", "--insecure-ignore-tlog"])
        .args(&client[2..])
        .args([&image])
        .run();
    assert_ne!(untrusted.code, Some(0));
    assert!(
        untrusted.stderr.contains("certificate"),
        "{}",
        untrusted.stderr
    );
    // Half an identity is a usage error.
    let half = cosign(&scratch)
        .args([
            "verify",
            "--key",
            "cosign.pub",
            "--insecure-ignore-tlog",
            "--registry-client-cert",
            "x.crt",
            &image,
        ])
        .run()
        .failure(1);
    assert!(
        half.stderr.contains("--registry-client-key"),
        "{}",
        half.stderr
    );
}

#[test]
fn registry_server_name_verifies_the_certificate_for_another_name() {
    let scratch = Scratch::new();
    key_pair(&scratch, "cosign");
    let (certificate, key) = issue(&scratch, "server", "DNS:registry.test", "serverAuth");
    let registry = Distribution::start_with_certificate(&certificate, &key, None);
    let ca = path(&scratch.join("ca.crt"));
    let (image, _) = registry.push_random_image(&scratch, "lab/named:v1");
    let named = [
        "--registry-cacert",
        &ca,
        "--registry-server-name",
        "registry.test",
    ];
    for program in [crate::ours(), Peer::Cosign3.path()] {
        // The certificate names registry.test, not 127.0.0.1: refused without the flag...
        let refused = scratch
            .command(&program)
            .args([
                "verify",
                "--key",
                "cosign.pub",
                "--insecure-ignore-tlog",
                "--registry-cacert",
                &ca,
            ])
            .args([&image])
            .run();
        assert_ne!(refused.code, Some(0), "{program:?}");
        assert!(
            !refused.stderr.contains("no signatures found"),
            "{}",
            refused.stderr
        );
        // ...and with it, the image is reached (no signature yet: exit 10 in both).
        let reached = scratch
            .command(&program)
            .args(["verify", "--key", "cosign.pub", "--insecure-ignore-tlog"])
            .args(named)
            .args([&image])
            .run();
        assert!(
            reached.stderr.contains("no signatures found"),
            "{program:?}: {}",
            reached.stderr
        );
    }
}
