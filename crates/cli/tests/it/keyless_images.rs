//! Keyless image signatures (cosign 3's bundle format) verified by us and by real cosign 3.1,
//! offline, against a trusted root made with `trusted-root create`. There is no Fulcio or Rekor
//! here, so the test plays them: a CA (OpenSSL), a leaf certificate with Fulcio's extensions
//! and an SCT from a CT log key, a Rekor `dsse` entry with its signed entry timestamp,
//! inclusion proof and signed checkpoint.

use base64::Engine as _;
use cosign_core::digest::Digest;
use cosign_testkit::{EmbeddedRegistry, Peer, Scratch};

use crate::{cosign, ours};

const IDENTITY: &str = "https://github.com/lab/app/.github/workflows/sign.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn openssl(scratch: &Scratch, args: &[&str]) {
    scratch.command("openssl").args(args).run().success();
}

/// An ECDSA P-256 signature (DER) by `key` over SHA-256 of `data`.
fn sign(scratch: &Scratch, key: &str, data: &[u8]) -> Vec<u8> {
    scratch.write("to-sign.bin", data);
    openssl(
        scratch,
        &[
            "dgst",
            "-sha256",
            "-sign",
            key,
            "-out",
            "signature.der",
            "to-sign.bin",
        ],
    );
    scratch.read("signature.der")
}

fn public_der(scratch: &Scratch, key: &str) -> Vec<u8> {
    openssl(
        scratch,
        &[
            "pkey",
            "-in",
            key,
            "-pubout",
            "-outform",
            "DER",
            "-out",
            "public.der",
        ],
    );
    scratch.read("public.der")
}

fn certificate_der(scratch: &Scratch, pem: &str) -> Vec<u8> {
    openssl(
        scratch,
        &[
            "x509",
            "-in",
            pem,
            "-outform",
            "DER",
            "-out",
            "certificate.der",
        ],
    );
    scratch.read("certificate.der")
}

/// The first element inside a DER SEQUENCE (a certificate's TBS), exactly as encoded.
fn first_element(der: &[u8]) -> Vec<u8> {
    let header = |at: usize| -> (usize, usize) {
        let first = der[at + 1] as usize;
        if first < 0x80 {
            (2, first)
        } else {
            let count = first & 0x7f;
            let length = der[at + 2..at + 2 + count]
                .iter()
                .fold(0usize, |value, byte| (value << 8) | *byte as usize);
            (2 + count, length)
        }
    };
    let (outer, _) = header(0);
    let (inner, length) = header(outer);
    der[outer..outer + inner + length].to_vec()
}

fn der_octet_string(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0x04];
    match content.len() {
        length @ 0..=0x7f => out.push(length as u8),
        length @ 0x80..=0xff => out.extend([0x81, length as u8]),
        length => out.extend([0x82, (length >> 8) as u8, length as u8]),
    }
    out.extend(content);
    out
}

fn hex(bytes: &[u8]) -> String {
    cosign_core::digest::hex_encode(bytes)
}

/// Plays Fulcio, the CT log and Rekor, and writes `root.json` with `trusted-root create`.
struct Sigstore {
    scratch: Scratch,
}

impl Sigstore {
    fn new() -> Self {
        let scratch = Scratch::new();
        for key in ["ca.key", "ct.key", "rekor.key", "leaf.key"] {
            openssl(
                &scratch,
                &[
                    "ecparam",
                    "-name",
                    "prime256v1",
                    "-genkey",
                    "-noout",
                    "-out",
                    key,
                ],
            );
        }
        for (key, public) in [("ct.key", "ct.pub"), ("rekor.key", "rekor.pub")] {
            openssl(&scratch, &["ec", "-in", key, "-pubout", "-out", public]);
        }
        openssl(
            &scratch,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-subj",
                "/O=lab/CN=lab-fulcio",
                "-days",
                "3650",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
                "-out",
                "ca.pem",
            ],
        );
        cosign(&scratch)
            .args([
                "trusted-root",
                "create",
                "--fulcio",
                "url=https://fulcio.lab,certificate-chain=ca.pem,start-time=2020-01-01T00:00:00Z",
                "--rekor",
                "url=https://rekor.lab,public-key=rekor.pub,start-time=2020-01-01T00:00:00Z",
                "--ctfe",
                "url=https://ct.lab,public-key=ct.pub,start-time=2020-01-01T00:00:00Z",
                "--out",
                "root.json",
            ])
            .run()
            .success();
        Self { scratch }
    }

    /// A leaf certificate for `IDENTITY` (issuer `ISSUER`) with an SCT, valid for ten minutes
    /// from `now`, as Fulcio issues them (cosign checks the chain at the leaf's start).
    fn leaf(&self, now: u64) -> Vec<u8> {
        let scratch = &self.scratch;
        let utc_time = |seconds: u64| {
            let text = cosign_core::trust::trusted_root::format_rfc3339(seconds as i64);
            // 2026-11-25T19:20:00Z -> 261125192000Z
            text.chars()
                .skip(2)
                .filter(char::is_ascii_digit)
                .collect::<String>()
                + "Z"
        };
        let (start, end) = (utc_time(now), utc_time(now + 600));
        openssl(
            scratch,
            &[
                "req", "-new", "-key", "leaf.key", "-subj", "/CN=lab", "-out", "leaf.csr",
            ],
        );
        let extensions = format!(
            "subjectAltName = critical, URI:{IDENTITY}\nextendedKeyUsage = codeSigning\nkeyUsage = critical, digitalSignature\n1.3.6.1.4.1.57264.1.1 = DER:{}\n1.3.6.1.4.1.57264.1.2 = DER:{}\n1.3.6.1.4.1.57264.1.8 = ASN1:UTF8String:{ISSUER}\n",
            hex(ISSUER.as_bytes()),
            hex(b"push"),
        );
        let issue = |section: &str, out: &str| {
            scratch.write("index.txt", "");
            scratch.write("serial", "1000\n");
            scratch.write(
                "ca.cnf",
                format!(
                    "[ca]\ndefault_ca = lab\n[lab]\ndir = .\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n[any]\ncommonName = optional\n{section}"
                ),
            );
            openssl(
                scratch,
                &[
                    "ca",
                    "-batch",
                    "-config",
                    "ca.cnf",
                    "-cert",
                    "ca.pem",
                    "-keyfile",
                    "ca.key",
                    "-in",
                    "leaf.csr",
                    "-startdate",
                    &start,
                    "-enddate",
                    &end,
                    "-extensions",
                    "leaf",
                    "-notext",
                    "-out",
                    out,
                ],
            );
        };
        issue(&format!("[leaf]\n{extensions}"), "precertificate.pem");
        let precertificate = first_element(&certificate_der(scratch, "precertificate.pem"));
        // RFC 6962: the SCT signs the precertificate entry.
        let timestamp = now * 1000;
        let mut signed = vec![0u8, 0];
        signed.extend(timestamp.to_be_bytes());
        signed.extend([0, 1]);
        signed.extend(Digest::sha256(&public_der(scratch, "ca.key")).bytes());
        signed.extend(&(precertificate.len() as u32).to_be_bytes()[1..]);
        signed.extend(&precertificate);
        signed.extend([0, 0]);
        let signature = sign(scratch, "ct.key", &signed);
        let mut sct = vec![0u8];
        sct.extend(Digest::sha256(&public_der(scratch, "ct.key")).bytes());
        sct.extend(timestamp.to_be_bytes());
        sct.extend([0, 0, 4, 3]);
        sct.extend((signature.len() as u16).to_be_bytes());
        sct.extend(&signature);
        let mut list = (sct.len() as u16).to_be_bytes().to_vec();
        list.extend(&sct);
        let mut whole = (list.len() as u16).to_be_bytes().to_vec();
        whole.extend(&list);
        issue(
            &format!(
                "[leaf]\n{extensions}1.3.6.1.4.1.11129.2.4.2 = DER:{}\n",
                hex(&der_octet_string(&whole))
            ),
            "leaf.pem",
        );
        certificate_der(scratch, "leaf.pem")
    }

    /// Logs `body` in Rekor: the log's id and the signed entry timestamp for it.
    fn log(&self, body: &str, now: u64, index: u64) -> (Vec<u8>, Vec<u8>) {
        let log_id = Digest::sha256(&public_der(&self.scratch, "rekor.key")).bytes();
        let set = sign(
            &self.scratch,
            "rekor.key",
            format!(
                r#"{{"body":"{}","integratedTime":{now},"logID":"{}","logIndex":{index}}}"#,
                b64(body.as_bytes()),
                hex(&log_id)
            )
            .as_bytes(),
        );
        (log_id, set)
    }

    /// A bundle signing `statement` (cosign 3's in-toto statement for an image) with the leaf,
    /// logged in a one-entry Rekor log.
    fn bundle(&self, statement: &[u8]) -> Vec<u8> {
        let scratch = &self.scratch;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let leaf = self.leaf(now);
        let payload_type = "application/vnd.in-toto+json";
        let pae = cosign_core::bundle::dsse::pae(payload_type, statement);
        let signature = sign(scratch, "leaf.key", &pae);
        let envelope = format!(
            r#"{{"payload":"{}","payloadType":"{payload_type}","signatures":[{{"sig":"{}"}}]}}"#,
            b64(statement),
            b64(&signature)
        );
        let leaf_pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            b64(&leaf)
        );
        let body = format!(
            r#"{{"apiVersion":"0.0.1","kind":"dsse","spec":{{"envelopeHash":{{"algorithm":"sha256","value":"{}"}},"payloadHash":{{"algorithm":"sha256","value":"{}"}},"signatures":[{{"signature":"{}","verifier":"{}"}}]}}}}"#,
            Digest::sha256(envelope.as_bytes()).hex(),
            Digest::sha256(statement).hex(),
            b64(&signature),
            b64(leaf_pem.as_bytes())
        );
        let (log_id, set) = self.log(&body, now, 0);
        let mut leaf_hash = vec![0u8];
        leaf_hash.extend(body.as_bytes());
        let root_hash = Digest::sha256(&leaf_hash).bytes();
        let note = format!("lab-rekor - 1\n1\n{}\n", b64(&root_hash));
        let mut note_signature = log_id[..4].to_vec();
        note_signature.extend(sign(scratch, "rekor.key", note.as_bytes()));
        let checkpoint = format!("{note}\n\u{2014} lab-rekor {}\n", b64(&note_signature));
        let bundle = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": b64(&leaf)},
                "tlogEntries": [{
                    "logIndex": "0",
                    "logId": {"keyId": b64(&log_id)},
                    "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                    "integratedTime": now.to_string(),
                    "inclusionPromise": {"signedEntryTimestamp": b64(&set)},
                    "inclusionProof": {
                        "logIndex": "0",
                        "rootHash": b64(&root_hash),
                        "treeSize": "1",
                        "hashes": [],
                        "checkpoint": {"envelope": checkpoint}
                    },
                    "canonicalizedBody": b64(body.as_bytes())
                }]
            },
            "dsseEnvelope": serde_json::from_str::<serde_json::Value>(&envelope).unwrap()
        });
        serde_json::to_vec(&bundle).unwrap()
    }
}

impl Sigstore {
    /// A legacy signature layer as cosign 2 writes it for a keyless signature: the payload
    /// signed by the leaf, with the certificate, its chain, and the Rekor `hashedrekord` entry
    /// with its signed entry timestamp in annotations.
    fn legacy_layer(&self, payload: &[u8]) -> cosign_core::image::manifest::Descriptor {
        let scratch = &self.scratch;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let leaf = self.leaf(now);
        let signature = sign(scratch, "leaf.key", payload);
        let pem = |der: &[u8]| {
            let body = b64(der);
            let lines: Vec<&str> = body
                .as_bytes()
                .chunks(64)
                .map(|chunk| std::str::from_utf8(chunk).unwrap())
                .collect();
            format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                lines.join("\n")
            )
        };
        let leaf_pem = pem(&leaf);
        let body = format!(
            r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"{}","publicKey":{{"content":"{}"}}}}}}}}"#,
            Digest::sha256(payload).hex(),
            b64(&signature),
            b64(leaf_pem.as_bytes())
        );
        let (log_id, set) = self.log(&body, now, 7);
        let rekor_bundle = format!(
            r#"{{"SignedEntryTimestamp":"{}","Payload":{{"body":"{}","integratedTime":{now},"logIndex":7,"logID":"{}"}}}}"#,
            b64(&set),
            b64(body.as_bytes()),
            hex(&log_id)
        );
        let mut layer = cosign_core::image::legacy_signature::signature_layer(payload, &signature);
        let annotations = layer.annotations.get_or_insert_with(Default::default);
        annotations.insert(
            cosign_core::image::legacy_signature::CERTIFICATE_ANNOTATION.to_owned(),
            leaf_pem,
        );
        annotations.insert(
            cosign_core::image::legacy_signature::CHAIN_ANNOTATION.to_owned(),
            pem(&certificate_der(scratch, "ca.pem")),
        );
        annotations.insert(
            cosign_core::image::legacy_signature::BUNDLE_ANNOTATION.to_owned(),
            rekor_bundle,
        );
        layer
    }
}

/// Pushes `bundle` as a referrer of the image `digest` in `repository`, as cosign 3 does.
fn attach(repository: &str, digest: &Digest, size: u64, bundle: &[u8]) {
    use cosign_core::image::manifest::{media_types, Descriptor};
    let repository = cosign_core::image::reference::Repository::parse(repository).unwrap();
    let client = cosign_oci::RegistryClient::new(
        cosign_oci::ClientOptions::default(),
        Box::new(cosign_oci::auth::Anonymous),
    )
    .unwrap();
    let subject = Descriptor {
        media_type: media_types::DOCKER_MANIFEST.to_owned(),
        size,
        digest: digest.clone(),
        urls: None,
        annotations: None,
        platform: None,
        artifact_type: None,
    };
    let manifest = cosign_core::image::referrer::bundle_referrer(
        bundle,
        cosign_core::bundle::in_toto::COSIGN_SIGN_PREDICATE,
        subject,
        "2026-01-01T00:00:00Z",
    );
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(cosign_oci::referrers::push(
            &client,
            &repository,
            digest,
            &[cosign_core::image::referrer::EMPTY_CONFIG, bundle],
            &manifest,
            cosign_oci::referrers::ReferrersMode::Auto,
        ))
        .unwrap();
}

#[test]
fn keyless_image_signatures_verify_like_cosign_3() {
    let sigstore = Sigstore::new();
    let scratch = &sigstore.scratch;
    let registry = EmbeddedRegistry::start(&ours(), None);
    let (image, digest) = registry.push_random_image(scratch, "lab/keyless:1");
    let digest: Digest = digest.parse().unwrap();
    let manifest = scratch
        .command(Peer::Crane.path())
        .args(["manifest", &image, "--insecure"])
        .run()
        .success();
    let statement = cosign_core::bundle::in_toto::image_signature_statement(
        &digest,
        &std::collections::BTreeMap::new(),
    );
    let bundle = sigstore.bundle(&statement);
    attach(
        &format!("{}/lab/keyless", registry.address()),
        &digest,
        manifest.stdout_bytes.len() as u64,
        &bundle,
    );
    let verify = |program: std::path::PathBuf, identity: &str| {
        let mut invocation = scratch.command(&program).args([
            "verify",
            "--trusted-root",
            "root.json",
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            ISSUER,
        ]);
        if program != ours() {
            invocation = invocation.args(["--allow-http-registry"]);
        }
        invocation.args([image.as_str()]).run()
    };
    let theirs = verify(Peer::Cosign3.path(), IDENTITY);
    assert_eq!(theirs.code, Some(0), "cosign 3.1: {}", theirs.stderr);
    let ours_run = verify(ours(), IDENTITY);
    assert_eq!(ours_run.code, Some(0), "ours: {}", ours_run.stderr);
    assert_eq!(ours_run.stdout, theirs.stdout);
    assert_eq!(ours_run.stderr, theirs.stderr);
    // Text output too.
    let text = |program: std::path::PathBuf| {
        let mut invocation = scratch.command(&program).args([
            "verify",
            "-o",
            "text",
            "--trusted-root",
            "root.json",
            "--certificate-identity-regexp",
            "https://github.com/lab/.*",
            "--certificate-oidc-issuer",
            ISSUER,
        ]);
        if program != ours() {
            invocation = invocation.args(["--allow-http-registry"]);
        }
        invocation.args([image.as_str()]).run().success()
    };
    assert_eq!(text(ours()).stdout, text(Peer::Cosign3.path()).stdout);
    // Another identity: both refuse.
    let theirs = verify(Peer::Cosign3.path(), "https://github.com/someone/else");
    let ours_run = verify(ours(), "https://github.com/someone/else");
    assert_ne!(theirs.code, Some(0));
    assert_eq!(ours_run.code, theirs.code, "{}", ours_run.stderr);
}

#[test]
fn keyless_legacy_signatures_verify_like_cosign_3() {
    let sigstore = Sigstore::new();
    let scratch = &sigstore.scratch;
    let registry = EmbeddedRegistry::start(&ours(), None);
    let (image, digest) = registry.push_random_image(scratch, "lab/legacy-keyless:1");
    let digest: Digest = digest.parse().unwrap();
    let repository = format!("{}/lab/legacy-keyless", registry.address());
    let payload = cosign_core::image::simple_signing::payload(
        &repository,
        &digest,
        &std::collections::BTreeMap::new(),
    );
    let layer = sigstore.legacy_layer(&payload);
    let client = cosign_oci::RegistryClient::new(
        cosign_oci::ClientOptions::default(),
        Box::new(cosign_oci::auth::Anonymous),
    )
    .unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(cosign_oci::signatures::append_legacy_signature(
            &client,
            &cosign_core::image::reference::Repository::parse(&repository).unwrap(),
            &digest,
            &payload,
            &layer,
            cosign_oci::signatures::LegacyAppend {
                attachment: cosign_core::image::legacy_signature::Attachment::Signatures,
                flavor: cosign_core::image::legacy_signature::ManifestFlavor::Oci,
                is_duplicate: &|_| false,
                replaces: &|_| false,
            },
        ))
        .unwrap();
    for output in ["json", "text"] {
        let verify = |program: std::path::PathBuf| {
            let mut invocation = scratch.command(&program).args([
                "verify",
                "-o",
                output,
                "--trusted-root",
                "root.json",
                "--certificate-identity",
                IDENTITY,
                "--certificate-oidc-issuer",
                ISSUER,
            ]);
            if program != ours() {
                invocation = invocation.args(["--allow-http-registry"]);
            }
            invocation.args([image.as_str()]).run()
        };
        let theirs = verify(Peer::Cosign3.path());
        assert_eq!(theirs.code, Some(0), "cosign 3.1: {}", theirs.stderr);
        let ours_run = verify(ours());
        assert_eq!(ours_run.code, Some(0), "ours: {}", ours_run.stderr);
        assert_eq!(ours_run.stdout, theirs.stdout, "{output}");
        assert_eq!(ours_run.stderr, theirs.stderr, "{output}");
    }
}
