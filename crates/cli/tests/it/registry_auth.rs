//! `cosign registry serve --htpasswd --tls-cert --tls-key`: the registry behind basic auth over
//! TLS, used by real clients (crane, oras, skopeo, cosign 3.1) and ours.

use base64::Engine as _;
use cosign_testkit::{EmbeddedOptions, EmbeddedRegistry, Peer, Scratch};

use crate::{cosign, key_pair, ours};

/// `curl`'s status code for `url`, with `-u credentials` if given.
fn curl_status(scratch: &Scratch, url: &str, credentials: Option<&str>) -> (String, String) {
    let mut arguments = vec!["-sk", "-D", "-", "-o", "/dev/null", "-w", "%{http_code}"];
    if let Some(credentials) = credentials {
        arguments.extend(["-u", credentials]);
    }
    arguments.push(url);
    let run = scratch.command("curl").args(arguments).run().success();
    let code = run.stdout.lines().last().unwrap_or_default().to_owned();
    (code, run.stdout)
}

#[test]
fn clients_work_against_it_with_htpasswd_auth_over_tls() {
    let registry = EmbeddedRegistry::start_with(
        &ours(),
        EmbeddedOptions {
            credentials: Some(("lab", "s3cret")),
            tls: true,
            ..EmbeddedOptions::default()
        },
    );
    let address = registry.address().to_owned();
    let scratch = Scratch::new();
    let ping = format!("https://{address}/v2/");

    // No credentials, or wrong ones: 401 with a Basic challenge. The right ones: 200.
    let (code, headers) = curl_status(&scratch, &ping, None);
    assert_eq!(code, "401");
    assert!(
        headers
            .to_ascii_lowercase()
            .contains("www-authenticate: basic realm=\"cosign-registry\""),
        "{headers}"
    );
    assert_eq!(curl_status(&scratch, &ping, Some("lab:wrong")).0, "401");
    assert_eq!(
        curl_status(&scratch, &ping, Some("mallory:s3cret")).0,
        "401"
    );
    assert_eq!(curl_status(&scratch, &ping, Some("lab:s3cret")).0, "200");
    // Plain HTTP to the TLS port is told so.
    let plain = scratch
        .command("curl")
        .args(["-s", &format!("http://{address}/v2/")])
        .run();
    assert!(
        plain.stdout.contains("HTTP request to an HTTPS server"),
        "{}",
        plain.stdout
    );

    // Without credentials, ours fails with the registry's answer.
    let refused = cosign(&scratch)
        .args([
            "verify",
            "--key",
            "missing.pub",
            "--allow-insecure-registry",
            &format!("{address}/lab/app:v1"),
        ])
        .run();
    assert_ne!(refused.code, Some(0));

    // Credentials in ~/.docker/config.json (HOME is the scratch folder), as `docker login` or
    // `cosign login` write them: crane, oras, cosign 3.1 and ours read them.
    let auth = base64::engine::general_purpose::STANDARD.encode("lab:s3cret");
    std::fs::create_dir_all(scratch.join(".docker")).unwrap();
    scratch.write(
        ".docker/config.json",
        format!(r#"{{"auths":{{"{address}":{{"auth":"{auth}"}}}}}}"#),
    );
    let (image, digest) = registry.push_random_image(&scratch, "lab/app:v1");

    key_pair(&scratch, "cosign");
    // cosign 3.1 signs in both formats.
    for bundle_format in ["true", "false"] {
        scratch
            .command(Peer::Cosign3.path())
            .args([
                "sign",
                "--key",
                "cosign.key",
                "--tlog-upload=false",
                "--use-signing-config=false",
                &format!("--new-bundle-format={bundle_format}"),
                "--allow-insecure-registry",
                "-y",
                &image,
            ])
            .env("COSIGN_PASSWORD", "pw")
            .run()
            .success();
    }
    // Ours signs too, and both verify everything.
    cosign(&scratch)
        .args([
            "sign",
            "--key",
            "cosign.key",
            "--tlog-upload=false",
            "--allow-insecure-registry",
            "-y",
            &image,
        ])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
    let ours_verified = cosign(&scratch)
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
    assert_eq!(
        ours_verified.stdout.matches(&digest).count(),
        3,
        "three signatures: {}",
        ours_verified.stdout
    );
    scratch
        .command(Peer::Cosign3.path())
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

    // oras: attach and discover through the referrers API, over TLS with the same credentials.
    scratch.write("sbom.json", "{}");
    scratch
        .command(Peer::Oras.path())
        .args([
            "attach",
            "--insecure",
            "--artifact-type",
            "application/example+json",
            &image,
            "sbom.json",
        ])
        .run()
        .success();
    let discovered = scratch
        .command(Peer::Oras.path())
        .args(["discover", "--insecure", &image])
        .run()
        .success();
    assert!(
        discovered.stdout.contains("application/example+json"),
        "{}",
        discovered.stdout
    );

    // skopeo copies out and back in with explicit credentials.
    scratch.write(
        "accept.json",
        r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
    );
    let mirror = format!("{address}/lab/mirror:v1");
    scratch
        .command(Peer::Skopeo.path())
        .args([
            "--policy",
            "accept.json",
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--src-creds",
            "lab:s3cret",
            "--dest-creds",
            "lab:s3cret",
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
    // A wrong password in skopeo is refused.
    let denied = scratch
        .command(Peer::Skopeo.path())
        .args([
            "--policy",
            "accept.json",
            "inspect",
            "--tls-verify=false",
            "--creds",
            "lab:wrong",
        ])
        .args([format!("docker://{image}")])
        .run();
    assert_ne!(denied.code, Some(0));
}
