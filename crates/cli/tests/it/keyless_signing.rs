//! Keyless signing (issue 13) against the keyless test stack (`cosign_testkit::keyless_stack`):
//! Fulcio and Rekor v1 from Sigstore's `@sigstore/mock`, the real `rekor-server` (v2) and
//! `timestamp-server`, an OIDC issuer. What ours signs, real cosign 3.1 and sigstore-python
//! verify; what they sign, ours verifies.

use std::path::Path;

use cosign_testkit::keyless_stack::{KeylessStack, Rekor, StackOptions};
use cosign_testkit::{Invocation, Peer, Run, Scratch};

use crate::ours;

const IDENTITY: &str = "https://ci.cosign-rs.test/workflows/release";

fn stack(rekor: Rekor) -> KeylessStack {
    KeylessStack::start(StackOptions {
        rekor,
        timestamps: true,
    })
}

/// A stack writing to `rekor`, a scratch directory holding `blob.txt` (`text`), a token for
/// [`IDENTITY`].
fn blob_fixture(rekor: Rekor, text: &str) -> (KeylessStack, Scratch, String) {
    let stack = stack(rekor);
    let scratch = Scratch::new();
    scratch.write("blob.txt", text);
    let token = stack.token(IDENTITY);
    (stack, scratch, token)
}

fn path(path: &Path) -> String {
    path.display().to_string()
}

/// `sign-blob` keyless with the stack's signing config and trusted root.
fn sign_blob(
    scratch: &Scratch,
    program: impl AsRef<std::ffi::OsStr>,
    stack: &KeylessStack,
    token: &str,
    bundle: &str,
) -> Run {
    scratch
        .command(program)
        .args(["sign-blob", "-y", "--identity-token", token])
        .args(["--signing-config", &path(&stack.signing_config_path())])
        .args(["--trusted-root", &path(&stack.trusted_root_path())])
        .args(["--bundle", bundle, "blob.txt"])
        .run()
}

fn verify_blob(
    scratch: &Scratch,
    program: impl AsRef<std::ffi::OsStr>,
    stack: &KeylessStack,
    identity: &str,
    bundle: &str,
) -> Invocation {
    scratch
        .command(program)
        .args(["verify-blob", "--bundle", bundle])
        .args(["--certificate-identity", identity])
        .args(["--certificate-oidc-issuer", stack.issuer()])
        .args(["--trusted-root", &path(&stack.trusted_root_path())])
        .args(["blob.txt"])
}

#[test]
fn cosign_signs_blobs_against_the_stack_and_ours_verifies() {
    for rekor in [Rekor::V1, Rekor::V2] {
        let (stack, scratch, token) = blob_fixture(rekor, "a blob signed keyless\n");
        sign_blob(
            &scratch,
            Peer::Cosign3.path(),
            &stack,
            &token,
            "theirs.json",
        )
        .success();
        verify_blob(
            &scratch,
            Peer::Cosign3.path(),
            &stack,
            IDENTITY,
            "theirs.json",
        )
        .run()
        .success();
        let verified = verify_blob(&scratch, ours(), &stack, IDENTITY, "theirs.json")
            .run()
            .success();
        assert!(
            verified.stderr.contains("Verified OK"),
            "{rekor:?}: {}",
            verified.stderr
        );
        verify_blob(
            &scratch,
            ours(),
            &stack,
            "https://someone.else/",
            "theirs.json",
        )
        .run()
        .failure(1);
    }
}

#[test]
fn ours_signs_blobs_keyless_and_cosign_verifies() {
    for rekor in [Rekor::V1, Rekor::V2] {
        let (stack, scratch, token) = blob_fixture(rekor, "a blob signed keyless by cosign-rs\n");
        let signed = sign_blob(&scratch, ours(), &stack, &token, "ours.json").success();
        assert!(
            signed.stderr.contains("Wrote bundle to file ours.json"),
            "{}",
            signed.stderr
        );
        let bundle: serde_json::Value =
            serde_json::from_slice(&scratch.read("ours.json")).expect("bundle");
        let material = &bundle["verificationMaterial"];
        assert!(material["certificate"]["rawBytes"].is_string(), "{bundle}");
        assert_eq!(material["tlogEntries"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            material["timestampVerificationData"]["rfc3161Timestamps"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        let theirs = verify_blob(
            &scratch,
            Peer::Cosign3.path(),
            &stack,
            IDENTITY,
            "ours.json",
        )
        .run()
        .success();
        assert!(
            theirs.stderr.contains("Verified OK"),
            "{rekor:?}: {}",
            theirs.stderr
        );
        verify_blob(&scratch, ours(), &stack, IDENTITY, "ours.json")
            .run()
            .success();
        // Another identity, or another blob: refused by both.
        verify_blob(
            &scratch,
            Peer::Cosign3.path(),
            &stack,
            "https://someone.else/",
            "ours.json",
        )
        .run()
        .failure(1);
        scratch.write("blob.txt", "another blob\n");
        verify_blob(
            &scratch,
            Peer::Cosign3.path(),
            &stack,
            IDENTITY,
            "ours.json",
        )
        .run()
        .failure(1);
        verify_blob(&scratch, ours(), &stack, IDENTITY, "ours.json")
            .run()
            .failure(1);
    }
}

fn verify_image(
    scratch: &Scratch,
    program: impl AsRef<std::ffi::OsStr>,
    stack: &KeylessStack,
    identity: &str,
    image: &str,
) -> Run {
    let is_ours = Path::new(program.as_ref()) == ours();
    let mut invocation = scratch
        .command(program)
        .args(["verify", "--certificate-identity", identity])
        .args(["--certificate-oidc-issuer", stack.issuer()])
        .args(["--trusted-root", &path(&stack.trusted_root_path())]);
    if !is_ours {
        invocation = invocation.args(["--allow-http-registry"]);
    }
    invocation.args([image]).run()
}

#[test]
fn ours_signs_images_keyless_with_one_certificate_and_cosign_verifies() {
    for rekor in [Rekor::V1, Rekor::V2] {
        let stack = stack(rekor);
        let registry = cosign_testkit::Distribution::start();
        let scratch = Scratch::new();
        let images: Vec<String> = (0..3)
            .map(|index| {
                registry
                    .push_random_image(&scratch, &format!("lab/keyless:{index}"))
                    .0
            })
            .collect();
        let token = stack.token(IDENTITY);
        let signed = scratch
            .command(ours())
            .args(["sign", "-y", "--identity-token", &token])
            .args(["--signing-config", &path(&stack.signing_config_path())])
            .args(["--trusted-root", &path(&stack.trusted_root_path())])
            .args(["--output-certificate", "certificate.pem"])
            .args(&images)
            .run()
            .success();
        let certificate = String::from_utf8(scratch.read("certificate.pem")).expect("PEM");
        assert!(
            certificate.starts_with("-----BEGIN CERTIFICATE-----"),
            "{certificate}"
        );
        assert_eq!(
            stack.served("/api/v2/signingCert"),
            1,
            "one certificate for every image: {}",
            signed.stderr
        );
        for image in &images {
            let theirs =
                verify_image(&scratch, Peer::Cosign3.path(), &stack, IDENTITY, image).success();
            let ours_run = verify_image(&scratch, ours(), &stack, IDENTITY, image).success();
            assert_eq!(ours_run.stdout, theirs.stdout, "{rekor:?} {image}");
            verify_image(
                &scratch,
                Peer::Cosign3.path(),
                &stack,
                "https://someone.else/",
                image,
            )
            .failure(1);
            verify_image(&scratch, ours(), &stack, "https://someone.else/", image).failure(1);
        }
        // And the reverse: cosign 3.1 signs keyless against the same stack, ours verifies.
        let (theirs, _) = registry.push_random_image(&scratch, "lab/keyless:theirs");
        scratch
            .command(Peer::Cosign3.path())
            .args([
                "sign",
                "-y",
                "--allow-http-registry",
                "--identity-token",
                &token,
            ])
            .args(["--signing-config", &path(&stack.signing_config_path())])
            .args(["--trusted-root", &path(&stack.trusted_root_path())])
            .args([&theirs])
            .run()
            .success();
        verify_image(&scratch, ours(), &stack, IDENTITY, &theirs).success();
    }
}

/// `sign-blob` keyless by ours, expected to fail with `message` in its error, and to write no
/// bundle.
fn refused_blob(stack: &KeylessStack, token: &str, message: &str) {
    let scratch = Scratch::new();
    scratch.write("blob.txt", "a blob\n");
    let run = sign_blob(&scratch, ours(), stack, token, "refused.json").failure(1);
    assert!(
        run.stderr.contains(message),
        "wanted {message:?} in:\n{}",
        run.stderr
    );
    assert!(
        !scratch.join("refused.json").exists(),
        "a bundle was written despite: {}",
        run.stderr
    );
}

#[test]
fn keyless_signing_faults_are_named_and_leave_nothing_behind() {
    let stack = stack(Rekor::V1);
    let token = stack.token(IDENTITY);
    // Tokens: expired (refused before any service is asked), for another audience, from
    // another issuer (Fulcio refuses: 401).
    let expired = stack.token_with(&[("sub", IDENTITY), ("expires_in", "-60")]);
    refused_blob(&stack, &expired, "identity token expired");
    let other_audience = stack.token_with(&[("sub", IDENTITY), ("aud", "somebody")]);
    refused_blob(&stack, &other_audience, "not for \"sigstore\"");
    let other_issuer = stack.token_with(&[("sub", IDENTITY), ("iss", "https://issuer.example")]);
    refused_blob(&stack, &other_issuer, "answered 401");
    // Fulcio: a certificate for another key, without an SCT, with an SCT from an untrusted log.
    stack.fault(serde_json::json!({"service": "fulcio", "kind": "other-key", "times": 1}));
    refused_blob(&stack, &token, "another key");
    stack.fault(serde_json::json!({"service": "fulcio", "kind": "no-sct", "times": 1}));
    refused_blob(&stack, &token, "SCT");
    stack.fault(serde_json::json!({"service": "fulcio", "kind": "untrusted-sct", "times": 1}));
    refused_blob(&stack, &token, "SCT");
    // Rekor: an entry for other content, a proof that reaches no signed root.
    stack.fault(serde_json::json!({"service": "rekor", "kind": "other-content", "times": 1}));
    refused_blob(&stack, &token, "does not verify");
    stack.fault(serde_json::json!({"service": "rekor", "kind": "bad-proof", "times": 1}));
    refused_blob(&stack, &token, "does not verify");
    // Unavailable for good: a clear error after the bounded retries.
    stack.fault(
        serde_json::json!({"service": "fulcio", "kind": "status", "status": 503, "times": 3}),
    );
    refused_blob(&stack, &token, "answered 503");
    // Unavailable once, then back: the retry succeeds.
    let scratch = Scratch::new();
    scratch.write("blob.txt", "a blob\n");
    for service in ["fulcio", "rekor"] {
        stack.fault(
            serde_json::json!({"service": service, "kind": "status", "status": 503, "times": 1}),
        );
    }
    sign_blob(&scratch, ours(), &stack, &token, "retried.json").success();
    verify_blob(
        &scratch,
        Peer::Cosign3.path(),
        &stack,
        IDENTITY,
        "retried.json",
    )
    .run()
    .success();
}

#[test]
fn a_failed_keyless_signing_pushes_nothing() {
    let stack = stack(Rekor::V2);
    let registry = cosign_testkit::Distribution::start();
    let scratch = Scratch::new();
    let (image, _) = registry.push_random_image(&scratch, "lab/keyless:refused");
    let token = stack.token(IDENTITY);
    stack.fault(serde_json::json!({"service": "fulcio", "kind": "untrusted-sct", "times": 1}));
    let (config, root) = (
        path(&stack.signing_config_path()),
        path(&stack.trusted_root_path()),
    );
    let sign = |scratch: &Scratch| {
        scratch
            .command(ours())
            .args(["sign", "-y", "--identity-token", &token])
            .args(["--signing-config", &config, "--trusted-root", &root])
            .args(["--output-certificate", "certificate.pem"])
            .args([&image])
            .run()
    };
    let refused = sign(&scratch).failure(1);
    assert!(refused.stderr.contains("SCT"), "{}", refused.stderr);
    assert!(!scratch.join("certificate.pem").exists());
    let tree = scratch
        .command(ours())
        .args(["tree", &image])
        .run()
        .success();
    assert!(!tree.stdout.contains("referrer"), "{}", tree.stdout);
    // The log down: nothing pushed either.
    let mut stack = stack;
    let log = stack.rekor_v2.take();
    drop(log);
    let refused = sign(&scratch).failure(1);
    assert!(
        refused.stderr.contains("cannot be reached"),
        "{}",
        refused.stderr
    );
    let tree = scratch
        .command(ours())
        .args(["tree", &image])
        .run()
        .success();
    assert!(!tree.stdout.contains("referrer"), "{}", tree.stdout);
}

/// sigstore-python against the stack, with its trust config (the stack's trusted root and
/// signing config in one file).
fn sigstore_python(scratch: &Scratch, stack: &KeylessStack) -> Invocation {
    scratch
        .command(Peer::SigstorePython.path())
        .args(["--trust-config", &path(&stack.trust_config_path())])
}

#[test]
fn sigstore_python_verifies_our_blob_bundles_and_we_verify_its() {
    for rekor in [Rekor::V1, Rekor::V2] {
        let (stack, scratch, token) = blob_fixture(rekor, "a blob for sigstore-python\n");
        sign_blob(&scratch, ours(), &stack, &token, "ours.json").success();
        sigstore_python(&scratch, &stack)
            .args(["verify", "identity", "--offline", "--bundle", "ours.json"])
            .args([
                "--cert-identity",
                IDENTITY,
                "--cert-oidc-issuer",
                stack.issuer(),
            ])
            .args(["blob.txt"])
            .run()
            .success();
        sigstore_python(&scratch, &stack)
            .args(["verify", "identity", "--offline", "--bundle", "ours.json"])
            .args(["--cert-identity", "https://someone.else/"])
            .args(["--cert-oidc-issuer", stack.issuer(), "blob.txt"])
            .run()
            .failure(1);
        sigstore_python(&scratch, &stack)
            .args([
                "sign",
                "--identity-token",
                &token,
                "--bundle",
                "python.json",
            ])
            .args(["blob.txt"])
            .run()
            .success();
        verify_blob(&scratch, ours(), &stack, IDENTITY, "python.json")
            .run()
            .success();
    }
}

#[test]
fn identity_tokens_come_from_a_file_the_environment_or_github_actions() {
    let stack = stack(Rekor::V1);
    let scratch = Scratch::new();
    scratch.write("blob.txt", "a blob\n");
    let sign = |extra: &[&str], environment: &[(&str, String)]| {
        let mut invocation = scratch
            .command(ours())
            .args(["sign-blob", "-y"])
            .args(["--signing-config", &path(&stack.signing_config_path())])
            .args(["--trusted-root", &path(&stack.trusted_root_path())])
            .args(["--bundle", "out.json"])
            .args(extra)
            .args(["blob.txt"]);
        for (name, value) in environment {
            invocation = invocation.env(name, value);
        }
        invocation.run()
    };
    // A file holding the token (with the newline an editor leaves).
    scratch.write("token.txt", format!("{}\n", stack.token(IDENTITY)));
    sign(&["--identity-token", "token.txt"], &[]).success();
    verify_blob(&scratch, ours(), &stack, IDENTITY, "out.json")
        .run()
        .success();
    // SIGSTORE_ID_TOKEN.
    let other = "https://ci.cosign-rs.test/workflows/nightly";
    sign(&[], &[("SIGSTORE_ID_TOKEN", stack.token(other))]).success();
    verify_blob(&scratch, ours(), &stack, other, "out.json")
        .run()
        .success();
    // GitHub Actions: the runner's request URL and bearer; the token asked for `sigstore`.
    let github = [
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!(
                "{}/github/token?sub=https://github.com/lab/app",
                stack.url()
            ),
        ),
        (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "actions-request-token".to_owned(),
        ),
    ];
    sign(&[], &github).success();
    verify_blob(
        &scratch,
        Peer::Cosign3.path(),
        &stack,
        "https://github.com/lab/app",
        "out.json",
    )
    .run()
    .success();
    // Buildkite: the agent's access token and job; the token asked for `sigstore` (the agent
    // API's request, as the agent makes it: Debian's cosign 3.1 has no Buildkite provider).
    let buildkite = [
        (
            "BUILDKITE_AGENT_ACCESS_TOKEN",
            "buildkite-agent-token".to_owned(),
        ),
        (
            "BUILDKITE_AGENT_ENDPOINT",
            format!("{}/buildkite", stack.url()),
        ),
        ("BUILDKITE_JOB_ID", "job-1".to_owned()),
    ];
    let job = "organization:lab:pipeline:app:ref:refs/heads/main:step:job-1";
    sign(&[], &buildkite).success();
    verify_blob(&scratch, Peer::Cosign3.path(), &stack, job, "out.json")
        .run()
        .success();
    // `debug providers` lists the providers this environment enables.
    let mut listed = scratch.command(ours()).args(["debug", "providers"]);
    for (name, value) in &buildkite {
        listed = listed.env(name, value);
    }
    let listed = listed.run().success();
    assert!(
        listed.stdout.contains("buildkite-agent: true\n")
            && listed.stdout.contains("github-actions: false\n"),
        "{}",
        listed.stdout
    );
    // None at all, and no flow (`token`): the error says where a token can come from.
    let none = sign(&["--fulcio-auth-flow", "token"], &[]).failure(1);
    assert!(none.stderr.contains("SIGSTORE_ID_TOKEN"), "{}", none.stderr);
    // A token never shows in what we print.
    let token = stack.token_with(&[("sub", IDENTITY), ("aud", "elsewhere")]);
    let refused = sign(&["--identity-token", &token], &[]).failure(1);
    assert!(!refused.stderr.contains(&token), "{}", refused.stderr);
}

#[test]
fn ours_attests_keyless_and_cosign_verifies() {
    let stack = stack(Rekor::V2);
    let registry = cosign_testkit::Distribution::start();
    let scratch = Scratch::new();
    let (image, _) = registry.push_random_image(&scratch, "lab/keyless:attested");
    scratch.write(
        "sbom.cdx.json",
        r#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[]}"#,
    );
    let token = stack.token(IDENTITY);
    let services = [
        "--identity-token".to_owned(),
        token.clone(),
        "--signing-config".to_owned(),
        path(&stack.signing_config_path()),
        "--trusted-root".to_owned(),
        path(&stack.trusted_root_path()),
    ];
    scratch
        .command(ours())
        .args([
            "attest",
            "-y",
            "--type",
            "cyclonedx",
            "--predicate",
            "sbom.cdx.json",
        ])
        .args(&services)
        .args([&image])
        .run()
        .success();
    let verify_attestation = |program: std::path::PathBuf, identity: &str| {
        let is_ours = program == ours();
        let mut invocation = scratch
            .command(program)
            .args(["verify-attestation", "--type", "cyclonedx"])
            .args(["--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", stack.issuer()])
            .args(["--trusted-root", &path(&stack.trusted_root_path())]);
        if !is_ours {
            invocation = invocation.args(["--allow-http-registry"]);
        }
        invocation.args([&image]).run()
    };
    let theirs = verify_attestation(Peer::Cosign3.path(), IDENTITY).success();
    let ours_run = verify_attestation(ours(), IDENTITY).success();
    assert_eq!(ours_run.stdout, theirs.stdout);
    verify_attestation(Peer::Cosign3.path(), "https://someone.else/").failure(1);

    // A blob attestation, keyless, verified by cosign 3.1.
    scratch.write("blob.txt", "an attested blob\n");
    scratch
        .command(ours())
        .args([
            "attest-blob",
            "-y",
            "--type",
            "cyclonedx",
            "--predicate",
            "sbom.cdx.json",
        ])
        .args(&services)
        .args([
            "--bundle",
            "attestation.json",
            "--output-certificate",
            "leaf.pem",
        ])
        .args(["blob.txt"])
        .run()
        .success();
    assert!(scratch.join("leaf.pem").exists());
    scratch
        .command(Peer::Cosign3.path())
        .args(["verify-blob-attestation", "--type", "cyclonedx"])
        .args(["--bundle", "attestation.json"])
        .args(["--certificate-identity", IDENTITY])
        .args(["--certificate-oidc-issuer", stack.issuer()])
        .args(["--trusted-root", &path(&stack.trusted_root_path())])
        .args(["blob.txt"])
        .run()
        .success();
}

/// `sign-blob` keyless with no token, by the interactive flow `flow`, the scripted user acting
/// on each line the command prints.
fn sign_blob_interactively(
    scratch: &Scratch,
    stack: &KeylessStack,
    flow: &str,
    on_line: impl FnMut(&str),
) -> Run {
    scratch
        .command(ours())
        .args(["sign-blob", "-y", "--fulcio-auth-flow", flow])
        .args(["--signing-config", &path(&stack.signing_config_path())])
        .args(["--trusted-root", &path(&stack.trusted_root_path())])
        .args(["--bundle", "interactive.json", "blob.txt"])
        // The scripted user plays the browser: nothing is opened.
        .env("BROWSER", "true")
        .run_watching_stderr(on_line)
}

/// `GET url` (plain HTTP on loopback): status, `Location`.
fn follow(url: &str) -> (u16, Option<String>) {
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let address = authority.replace("localhost", "127.0.0.1");
    let mut stream = std::net::TcpStream::connect(&address).expect("connect");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status");
    let location = answer
        .lines()
        .find_map(|line| {
            line.strip_prefix("Location: ")
                .or_else(|| line.strip_prefix("location: "))
        })
        .map(|value| value.trim().to_owned());
    (status, location)
}

#[test]
fn the_browser_flow_logs_in_with_pkce_on_a_loopback_redirect() {
    let (stack, scratch, _) = blob_fixture(Rekor::V1, "signed after a browser login\n");
    let user = "https://user.cosign-rs.test/browser";
    let mut opened = false;
    let signed = sign_blob_interactively(&scratch, &stack, "normal", |line| {
        if line.starts_with(stack.url()) && line.contains("/authorize?") {
            // The browser: the provider logs the user in and redirects to our listener, which
            // a stray request (another path, a forged state) does not fool.
            let port = line
                .split("redirect_uri=http%3A%2F%2Flocalhost%3A")
                .nth(1)
                .and_then(|rest| rest.split("%2F").next())
                .expect("the redirect's port")
                .to_owned();
            assert_eq!(follow(&format!("http://127.0.0.1:{port}/elsewhere")).0, 404);
            assert_eq!(
                follow(&format!(
                    "http://127.0.0.1:{port}/auth/callback?code=x&state=forged"
                ))
                .0,
                400
            );
            let (status, location) = follow(&format!("{line}&login_hint={user}"));
            assert_eq!(status, 302);
            let (status, _) = follow(&location.expect("a redirect"));
            assert_eq!(status, 200);
            opened = true;
        }
    })
    .success();
    assert!(opened, "no authorization URL printed:\n{}", signed.stderr);
    verify_blob(
        &scratch,
        Peer::Cosign3.path(),
        &stack,
        user,
        "interactive.json",
    )
    .run()
    .success();
}

#[test]
fn the_device_flow_waits_for_the_user_to_enter_the_code() {
    let (stack, scratch, _) = blob_fixture(Rekor::V1, "signed after a device login\n");
    let user = "https://user.cosign-rs.test/device";
    let signed = sign_blob_interactively(&scratch, &stack, "device", |line| {
        if let Some(rest) = line.strip_prefix("Enter the verification code ") {
            let code = rest.split_whitespace().next().expect("the code");
            // The user, on another device, a moment later.
            std::thread::sleep(std::time::Duration::from_millis(1500));
            let (status, _) = follow(&format!(
                "{}/device/approve?user_code={code}&sub={user}",
                stack.issuer()
            ));
            assert_eq!(status, 200);
        }
    })
    .success();
    assert!(
        signed.stderr.contains("Code will be valid for"),
        "{}",
        signed.stderr
    );
    verify_blob(&scratch, ours(), &stack, user, "interactive.json")
        .run()
        .success();
    assert!(
        stack.served("/oidc/token") >= 2,
        "the token endpoint was polled"
    );
}

#[test]
fn legacy_keyless_signatures_go_both_ways_with_cosign_3_and_2() {
    let stack = stack(Rekor::V1);
    let registry = cosign_testkit::Distribution::start();
    let scratch = Scratch::new();
    let token = stack.token(IDENTITY);
    let legacy_flags = |program: &std::path::Path| {
        let mut flags = vec![
            "sign".to_owned(),
            "-y".to_owned(),
            "--new-bundle-format=false".to_owned(),
            "--use-signing-config=false".to_owned(),
            format!("--fulcio-url={}", stack.url()),
            format!("--rekor-url={}", stack.url()),
            format!("--trusted-root={}", path(&stack.trusted_root_path())),
            format!("--identity-token={token}"),
        ];
        if program != ours() {
            flags.push("--allow-http-registry".to_owned());
        } else {
            flags.push(format!(
                "--timestamp-server-url={}",
                stack.tsa_url().expect("TSA")
            ));
        }
        flags
    };
    let (by_us, _) = registry.push_random_image(&scratch, "lab/legacy:ours");
    scratch
        .command(ours())
        .args(legacy_flags(&ours()))
        .args([&by_us])
        .run()
        .success();
    let (by_them, _) = registry.push_random_image(&scratch, "lab/legacy:theirs");
    scratch
        .command(Peer::Cosign3.path())
        .args(legacy_flags(&Peer::Cosign3.path()))
        .args([&by_them])
        .run()
        .success();
    for image in [&by_us, &by_them] {
        let theirs =
            verify_image(&scratch, Peer::Cosign3.path(), &stack, IDENTITY, image).success();
        let ours_run = verify_image(&scratch, ours(), &stack, IDENTITY, image).success();
        assert_eq!(ours_run.stdout, theirs.stdout, "{image}");
        // Another identity: refused by both, with cosign's words and exit code.
        let theirs = verify_image(
            &scratch,
            Peer::Cosign3.path(),
            &stack,
            "https://someone.else/",
            image,
        );
        let ours_run = verify_image(&scratch, ours(), &stack, "https://someone.else/", image);
        assert_ne!(theirs.code, Some(0));
        assert_eq!(ours_run.code, theirs.code, "{}", ours_run.stderr);
        assert_eq!(ours_run.stderr, theirs.stderr);
    }
    // cosign 2.5 reads the legacy format with cosign's environment for a private Sigstore.
    let mut cosign2 = scratch
        .command(Peer::Cosign2.path())
        .args([
            "verify",
            "--allow-http-registry",
            "--certificate-identity",
            IDENTITY,
        ])
        .args(["--certificate-oidc-issuer", stack.issuer(), &by_us]);
    for (name, value) in stack.sigstore_environment() {
        cosign2 = cosign2.env(name, value);
    }
    cosign2.run().success();
}

/// `--issue-certificate` with `--key`: Fulcio certifies the signer's own key, which then signs
/// as a keyless signer would; both ours and cosign 3.1 do it, each verifies the other's, and
/// the certificate is for that key.
#[test]
fn issue_certificate_certifies_the_signers_key() {
    let (stack, scratch, token) = blob_fixture(Rekor::V1, "a blob signed by a certified key\n");
    crate::key_pair(&scratch, "signer");
    for (signer, bundle) in [
        (ours(), "ours.json"),
        (Peer::Cosign3.path().to_path_buf(), "theirs.json"),
    ] {
        scratch
            .command(&signer)
            .args([
                "sign-blob",
                "-y",
                "--key",
                "signer.key",
                "--issue-certificate",
            ])
            .args(["--identity-token", &token])
            .args(["--signing-config", &path(&stack.signing_config_path())])
            .args(["--trusted-root", &path(&stack.trusted_root_path())])
            .args([
                "--bundle",
                bundle,
                "--output-certificate",
                "leaf.b64",
                "blob.txt",
            ])
            .env("COSIGN_PASSWORD", "pw")
            .run()
            .success();
        for verifier in [ours(), Peer::Cosign3.path().to_path_buf()] {
            verify_blob(&scratch, &verifier, &stack, IDENTITY, bundle)
                .run()
                .success();
        }
        use base64::Engine as _;
        let leaf = base64::engine::general_purpose::STANDARD
            .decode(scratch.read("leaf.b64"))
            .expect("the certificate, base64-encoded as cosign writes it");
        scratch.write("leaf.pem", leaf);
        let key = std::process::Command::new("openssl")
            .args(["x509", "-in", "leaf.pem", "-pubkey", "-noout"])
            .current_dir(scratch.path())
            .output()
            .expect("openssl");
        assert_eq!(
            String::from_utf8_lossy(&key.stdout).trim(),
            String::from_utf8_lossy(&scratch.read("signer.pub")).trim(),
            "{bundle}: the certificate is for the signer's key"
        );
    }
}

/// `--insecure-skip-verify` signs with a certificate whose SCT does not verify (a test
/// Fulcio's), which verifies only with `--insecure-ignore-sct`; `--rfc3161-timestamp` and
/// `--rfc3161-timestamp-bundle` write the signature's timestamp as cosign does; an attestation's
/// Rekor entry is `dsse`, `intoto` is refused and anything else is cosign's error.
#[test]
fn skip_verify_timestamp_files_and_rekor_entry_types() {
    let (stack, scratch, token) = blob_fixture(Rekor::V1, "a blob with a timestamp\n");
    let services = [
        "--identity-token".to_owned(),
        token.clone(),
        "--signing-config".to_owned(),
        path(&stack.signing_config_path()),
        "--trusted-root".to_owned(),
        path(&stack.trusted_root_path()),
    ];
    stack.fault(serde_json::json!({"service": "fulcio", "kind": "untrusted-sct", "times": 1}));
    scratch
        .command(ours())
        .args(["sign-blob", "-y", "--insecure-skip-verify"])
        .args(&services)
        .args([
            "--bundle",
            "skipped.json",
            "--rfc3161-timestamp",
            "timestamp.json",
        ])
        .args(["blob.txt"])
        .run()
        .success();
    for verifier in [ours(), Peer::Cosign3.path().to_path_buf()] {
        verify_blob(&scratch, &verifier, &stack, IDENTITY, "skipped.json")
            .run()
            .failure(1);
        verify_blob(&scratch, &verifier, &stack, IDENTITY, "skipped.json")
            .args(["--insecure-ignore-sct"])
            .run()
            .success();
    }
    let timestamp: serde_json::Value =
        serde_json::from_slice(&scratch.read("timestamp.json")).expect("JSON");
    use base64::Engine as _;
    let reply = base64::engine::general_purpose::STANDARD
        .decode(
            timestamp["SignedRFC3161Timestamp"]
                .as_str()
                .expect("the timestamp"),
        )
        .expect("base64");
    scratch.write("timestamp.tsr", reply);
    let parsed = std::process::Command::new("openssl")
        .args(["ts", "-reply", "-in", "timestamp.tsr", "-text"])
        .current_dir(scratch.path())
        .output()
        .expect("openssl");
    assert!(
        String::from_utf8_lossy(&parsed.stdout).contains("Status: Granted"),
        "{}",
        String::from_utf8_lossy(&parsed.stdout)
    );
    scratch.write("predicate.json", "{}");
    let attest = |extra: &[&str]| {
        scratch
            .command(ours())
            .args(["attest-blob", "-y", "--predicate", "predicate.json"])
            .args(&services)
            .args(["--bundle", "attestation.json"])
            .args(extra)
            .args(["blob.txt"])
            .run()
    };
    attest(&["--rfc3161-timestamp-bundle", "attestation-timestamp.json"]).success();
    assert!(scratch.join("attestation-timestamp.json").exists());
    let refused = attest(&["--rekor-entry-type", "intoto"]).failure(1);
    assert!(refused.stderr.contains("intoto"), "{}", refused.stderr);
    for program in [ours(), Peer::Cosign3.path().to_path_buf()] {
        let unknown = scratch
            .command(&program)
            .args(["attest-blob", "-y", "--predicate", "predicate.json"])
            .args(&services)
            .args([
                "--rekor-entry-type",
                "hashedrekord",
                "--bundle",
                "a.json",
                "blob.txt",
            ])
            .run()
            .failure(1);
        assert!(
            unknown
                .stderr
                .contains("unknown value for rekor-entry-type"),
            "{}",
            unknown.stderr
        );
    }
}

/// Without `-y`, the privacy statement is shown and its `[y/N]` question asked before the
/// identity goes in the log, where cosign 3.1 asks it (services from the flags, not a signing
/// config): no answer is a no (nothing signed), `y` goes on; with a signing config, neither
/// asks.
#[test]
fn the_privacy_statement_is_confirmed_before_signing_without_yes() {
    let (stack, scratch, token) = blob_fixture(Rekor::V1, "a blob signed after a question\n");
    for program in [ours(), Peer::Cosign3.path().to_path_buf()] {
        let sign = |answer: &str| {
            scratch
                .command(&program)
                .args(["sign-blob", "--identity-token", &token])
                .args(["--use-signing-config=false", "--fulcio-url", stack.url()])
                .args(["--rekor-url", &stack.rekor_url()])
                .args(["--trusted-root", &path(&stack.trusted_root_path())])
                .args(["--bundle", "asked.json", "blob.txt"])
                .stdin(answer)
                .run()
        };
        let declined = sign("").failure(1);
        assert!(
            declined.stderr.contains("immutable record")
                && declined
                    .stderr
                    .contains("Are you sure you would like to continue? [y/N]")
                && declined.stderr.contains("user declined the prompt"),
            "{program:?}: {}",
            declined.stderr
        );
        assert!(!scratch.join("asked.json").exists(), "{program:?}");
        sign("y\n").success();
        verify_blob(&scratch, ours(), &stack, IDENTITY, "asked.json")
            .run()
            .success();
        std::fs::remove_file(scratch.join("asked.json")).expect("remove");
        let unasked = scratch
            .command(&program)
            .args(["sign-blob", "--identity-token", &token])
            .args(["--signing-config", &path(&stack.signing_config_path())])
            .args(["--trusted-root", &path(&stack.trusted_root_path())])
            .args(["--bundle", "unasked.json", "blob.txt"])
            .stdin("")
            .run()
            .success();
        assert!(
            !unasked.stderr.contains("[y/N]"),
            "{program:?}: {}",
            unasked.stderr
        );
    }
}
