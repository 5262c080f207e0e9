#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use base64::Engine as _;
use cosign_core::keys::PrivateKey;

use super::*;

fn stack() -> (tempfile::TempDir, Arc<Sigstore>) {
    let files = tempfile::tempdir().unwrap();
    let sigstore = Sigstore::open(SigstoreConfig {
        storage: files.path().join("storage"),
        out: files.path().join("out"),
        base_url: "http://127.0.0.1:1".to_owned(),
        verbose: false,
        connections: ConnectionLimits::default(),
    })
    .unwrap();
    (files, sigstore)
}

fn fulcio(sigstore: &Sigstore) -> fulcio::Fulcio<'_> {
    fulcio::Fulcio {
        issuer: &sigstore.issuer,
        ca: &sigstore.identity.ca,
        ct: pki::CtLog {
            key: &sigstore.identity.ct_key,
            log_id: sigstore.ct_log_id,
        },
    }
}

fn key_request(key: &PrivateKey, signed: &str) -> Vec<u8> {
    serde_json::json!({"publicKeyRequest": {
        "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem().unwrap()},
        "proofOfPossession": b64(&key.sign(signed.as_bytes()).unwrap()),
    }})
    .to_string()
    .into_bytes()
}

#[test]
fn tokens_expire_and_name_their_issuer() {
    let (_files, sigstore) = stack();
    let token = sigstore
        .issuer
        .mint("alice@example.com", 1_000_000)
        .unwrap();
    let principal = sigstore.issuer.verify(&token, 1_000_000).unwrap();
    assert_eq!(principal.email.as_deref(), Some("alice@example.com"));
    assert!(sigstore
        .issuer
        .verify(&token, 1_000_000 + issuer::TOKEN_LIFETIME)
        .is_err());
    // Fulcio answers an expired token as it answers every bad token: 400 with its message.
    let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
    let body = key_request(&key, "alice@example.com");
    let (failure, why) = fulcio(&sigstore)
        .signing_cert(&body, Some(&token), 1_000_000 + 601)
        .unwrap_err();
    assert_eq!(
        failure,
        Failure::refused("There was an error processing the identity token")
    );
    assert_eq!(why.as_deref(), Some("the token has expired"));
    // The same token before it expired, from the header, is fine.
    let chain = fulcio(&sigstore)
        .signing_cert(&body, Some(&token), 1_000_100)
        .unwrap();
    assert_eq!(chain.len(), 2);
    // A token whose claims were altered no longer verifies.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        br#"{"iss":"http://127.0.0.1:1/oauth2","sub":"mallory@example.com","aud":"sigstore","exp":9999999999,"email":"mallory@example.com","email_verified":true}"#,
    );
    assert!(sigstore.issuer.verify(&parts.join("."), 1_000_000).is_err());
}

#[test]
fn leaves_embed_an_sct_our_verifier_accepts_and_name_uri_subjects() {
    let (files, sigstore) = stack();
    let root = cosign_core::trust::trusted_root::TrustedRoot::parse(
        &std::fs::read(files.path().join("out/trusted_root.json")).unwrap(),
    )
    .unwrap();
    let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
    let now = super::now();
    for (identity, san) in [
        ("alice@example.com", "alice@example.com"),
        (
            "https://ci.example/workflows/build",
            "https://ci.example/workflows/build",
        ),
    ] {
        let token = sigstore.issuer.mint(identity, now).unwrap();
        let chain = fulcio(&sigstore)
            .signing_cert(&key_request(&key, identity), Some(&token), now)
            .unwrap();
        let leaf =
            cosign_core::trust::certificate::Certificate::from_pem(chain[0].as_bytes()).unwrap();
        assert_eq!(leaf.subject_alternative_names(), vec![san.to_owned()]);
        assert!(leaf.is_code_signing());
        cosign_core::trust::certificate::verify_leaf(&leaf, &root, &[now]).unwrap();
    }
    // A subject that is neither an email nor a URI gets no certificate.
    let token = sigstore.issuer.mint("alice", now).unwrap();
    assert!(fulcio(&sigstore)
        .signing_cert(&key_request(&key, "alice"), Some(&token), now)
        .is_err());
}

#[test]
fn a_csr_proves_its_key_by_its_own_signature() {
    let (files, sigstore) = stack();
    let now = super::now();
    let token = sigstore.issuer.mint("alice@example.com", now).unwrap();
    let csr = |key_file: &str| {
        let made = std::process::Command::new("openssl")
            .args([
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-subj", "/CN=alice", "-keyout"])
            .arg(files.path().join(key_file))
            .output()
            .unwrap();
        assert!(made.status.success());
        made.stdout
    };
    let pem = csr("csr.key");
    let body = serde_json::json!({"certificateSigningRequest": b64(&pem)}).to_string();
    let chain = fulcio(&sigstore)
        .signing_cert(body.as_bytes(), Some(&token), now)
        .unwrap();
    assert_eq!(chain.len(), 2);
    // A CSR whose signature was tampered with is refused.
    let text = String::from_utf8(pem).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut der = base64::engine::general_purpose::STANDARD
        .decode(lines[1..lines.len() - 1].concat())
        .unwrap();
    let last = der.len() - 3;
    der[last] ^= 1;
    let tampered = format!(
        "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
        b64(&der)
    );
    let body =
        serde_json::json!({"certificateSigningRequest": b64(tampered.as_bytes())}).to_string();
    let (failure, _) = fulcio(&sigstore)
        .signing_cert(body.as_bytes(), Some(&token), now)
        .unwrap_err();
    assert!(
        matches!(failure, Failure::Client { status: 400, .. }),
        "{failure:?}"
    );
}

#[test]
fn tile_indexes_are_read_strictly() {
    assert_eq!(parse_tile_index("000"), Some((0, 256)));
    assert_eq!(parse_tile_index("x001/x234/067"), Some((1_234_067, 256)));
    assert_eq!(parse_tile_index("005.p/17"), Some((5, 17)));
    for bad in [
        "0",
        "0000",
        "x001",
        "001/002",
        "000.p/0",
        "000.p/256",
        "000.p/017",
        "000.p/",
        "../000",
        "x1000/000",
    ] {
        assert_eq!(parse_tile_index(bad), None, "{bad}");
    }
    assert_eq!(url_host("http://127.0.0.1:8800"), "127.0.0.1");
    assert_eq!(url_host("http://[::1]:8800/"), "::1");
    assert_eq!(url_host("https://log.example"), "log.example");
}

fn signed_entry(key: &PrivateKey, seed: &str) -> rekor_entry::Entry {
    let request = cosign_testkit::local_sigstore::signed_entry_request(key, seed);
    rekor_entry::entry_from_request(&request).unwrap()
}

#[tokio::test]
async fn a_torn_record_is_cut_off_and_the_log_goes_on() {
    let files = tempfile::tempdir().unwrap();
    let signer = || {
        log::Signer::new(
            "127.0.0.1",
            PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[7; 32])),
        )
        .unwrap()
    };
    let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
    let log = log::Log::open(files.path(), signer()).unwrap();
    let first = log.append(signed_entry(&key, "one")).await.unwrap();
    let second = log.append(signed_entry(&key, "two")).await.unwrap();
    assert_eq!((first.index, second.index), (0, 1));
    assert!(matches!(
        log.append(signed_entry(&key, "one")).await,
        Err(log::AppendError::Duplicate(0))
    ));
    drop(log);
    // A crash in the middle of a third record: its header and half its body reached the disk.
    let path = files.path().join("entries");
    let whole = std::fs::metadata(&path).unwrap().len();
    let mut torn = std::fs::read(&path).unwrap();
    torn.extend(&torn[..40].to_vec());
    std::fs::write(&path, &torn).unwrap();
    let log = log::Log::open(files.path(), signer()).unwrap();
    assert_eq!(log.size(), 2);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), whole);
    assert_eq!(log.checkpoint().unwrap(), second.checkpoint);
    let third = log.append(signed_entry(&key, "three")).await.unwrap();
    assert_eq!(third.index, 2);
    // A record changed on disk leaves fewer whole entries than were acknowledged: the log is
    // refused, and left as it is, rather than cut (which would fork the tree).
    drop(log);
    let mut flipped = std::fs::read(&path).unwrap();
    flipped[20] ^= 1;
    std::fs::write(&path, &flipped).unwrap();
    let refused = log::Log::open(files.path(), signer()).unwrap_err();
    assert!(
        refused.to_string().contains("3 were acknowledged"),
        "{refused}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), flipped);
}

#[test]
fn dsse_entries_log_the_payload_hash_and_each_signature_with_its_verifier() {
    let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
    let pae = cosign_core::bundle::dsse::pae("application/vnd.in-toto+json", payload);
    let signature = key.sign(&pae).unwrap();
    let request = |signature: &[u8]| {
        serde_json::json!({"dsseRequestV002": {
            "envelope": {
                "payload": b64(payload),
                "payloadType": "application/vnd.in-toto+json",
                "signatures": [{"sig": b64(signature), "keyid": ""}],
            },
            "verifiers": [{
                "publicKey": {"rawBytes": b64(&key.public_key().to_der().unwrap())},
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            }],
        }})
        .to_string()
    };
    let entry = rekor_entry::entry_from_request(request(&signature).as_bytes()).unwrap();
    assert_eq!(entry.kind, "dsse");
    let body: serde_json::Value = serde_json::from_slice(&entry.body).unwrap();
    let spec = &body["spec"]["dsseV002"];
    assert_eq!(
        spec["payloadHash"]["digest"],
        b64(&cosign_core::digest::Digest::sha256(payload).bytes())
    );
    assert_eq!(spec["signatures"][0]["content"], b64(&signature));
    assert!(
        rekor_entry::entry_from_request(request(&key.sign(b"other").unwrap()).as_bytes()).is_err()
    );
    // Canonical: keys in order, no spaces.
    let text = String::from_utf8(entry.body).unwrap();
    assert!(
        text.starts_with(
            r#"{"apiVersion":"0.0.2","kind":"dsse","spec":{"dsseV002":{"payloadHash""#
        ),
        "{text}"
    );
}

#[tokio::test]
async fn a_timestamp_verifies_and_sha1_is_refused() {
    let (_files, sigstore) = stack();
    // TimeStampReq { v1, imprint { sha256, 32 bytes }, nonce 5, certReq true }
    let mut imprint = vec![
        0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
        0x04, 0x20,
    ];
    imprint.extend(sha2::Sha256::digest(b"signed"));
    let mut request = vec![0x02, 0x01, 0x01, 0x30, imprint.len() as u8];
    request.extend(&imprint);
    request.extend([0x02, 0x01, 0x05, 0x01, 0x01, 0xff]);
    let mut der = vec![0x30, request.len() as u8];
    der.extend(&request);
    let response = sigstore.tsa.respond(&der, super::now()).unwrap();
    let chain: Vec<Vec<u8>> = sigstore.tsa.chain.clone();
    let root = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [], "certificateAuthorities": [], "ctlogs": [],
        "timestampAuthorities": [{
            "subject": {"organization": "o", "commonName": "c"},
            "certChain": {"certificates": chain.iter().map(|der| serde_json::json!({"rawBytes": b64(der)})).collect::<Vec<_>>()},
            "validFor": {"start": "2020-01-01T00:00:00Z"},
        }],
    });
    let root =
        cosign_core::trust::trusted_root::TrustedRoot::parse(root.to_string().as_bytes()).unwrap();
    let time = cosign_core::trust::timestamp::verify(&response, b"signed", &root).unwrap();
    assert!((time - super::now()).abs() < 5);
    // SHA-1 is refused as weak.
    let mut weak = der.clone();
    let sha256_at = weak
        .windows(9)
        .position(|w| w == [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01])
        .unwrap();
    weak.splice(
        sha256_at - 2..sha256_at + 9,
        [0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a],
    );
    weak[1] -= 4;
    weak[6] -= 4;
    weak[8] -= 4;
    assert_eq!(
        sigstore.tsa.respond(&weak, super::now()).unwrap_err(),
        Failure::refused("Weak hash algorithm in timestamp request")
    );
}
