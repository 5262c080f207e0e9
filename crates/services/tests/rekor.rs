//! Rekor v2 entries from a real Sigstore `rekor-server` (rekor-tiles), with timestamps from a
//! real `timestamp-server`: each entry is verified against the trusted root before it is
//! returned, and an entry for other content or from an untrusted log is refused.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use cosign_core::{Digest, PrivateKey, TrustedRoot};
use cosign_services::rekor::{add_hashed_rekord, Checks, RekorError};
use cosign_services::timestamp::timestamp_signature;
use cosign_testkit::fake_registry::{FakeRegistry, Fault, Rule};
use cosign_testkit::sigstore::{trusted_root_json, RekorLog, TimestampAuthority};

fn client() -> reqwest::Client {
    cosign_services::client(Duration::from_secs(20)).expect("client")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// A signature over a blob, timestamped by `tsa`: (artifact digest, signature, key, time).
async fn signed(
    tsa: &TimestampAuthority,
    root: &TrustedRoot,
    blob: &[u8],
) -> (Digest, Vec<u8>, PrivateKey, i64) {
    let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
    let signature = key.sign(blob).expect("signs");
    let url = url::Url::parse(&tsa.url()).unwrap();
    let stamp = timestamp_signature(&client(), &url, &signature, root)
        .await
        .expect("timestamped");
    (Digest::sha256(blob), signature, key, stamp.time.seconds())
}

/// Adds the entry for a signed blob to `log`, checked against `root`.
async fn add(
    log: &url::Url,
    root: &TrustedRoot,
    (artifact, signature, key, time): &(Digest, Vec<u8>, PrivateKey, i64),
) -> Result<cosign_core::bundle::TransparencyLogEntry, RekorError> {
    let checks = Checks {
        root,
        observed: &[*time],
        now: now(),
    };
    add_hashed_rekord(
        &client(),
        log,
        artifact,
        signature,
        &key.public_key(),
        checks,
    )
    .await
}

#[tokio::test]
async fn a_real_rekor_v2_entry_is_added_and_verified() {
    let tsa = TimestampAuthority::start();
    let rekor = RekorLog::start();
    let root =
        TrustedRoot::parse(trusted_root_json(Some(&tsa), Some(&rekor)).as_bytes()).expect("root");
    let log = url::Url::parse(&rekor.url()).unwrap();
    let first = signed(&tsa, &root, b"a blob for the log\n").await;
    let entry = add(&log, &root, &first).await.expect("a verified entry");
    assert_eq!(entry.kind_version.kind, "hashedrekord");
    assert_eq!(entry.kind_version.version, "0.0.2");
    let proof = entry.inclusion_proof.as_ref().expect("an inclusion proof");
    assert!(proof.checkpoint.is_some());

    // A second entry grows the log; its proof is checked against the new checkpoint.
    let another = signed(&tsa, &root, b"another blob\n").await;
    let second = add(&log, &root, &another)
        .await
        .expect("a second verified entry");
    assert_eq!(second.log_index, entry.log_index + 1);
}

#[tokio::test]
async fn an_untrusted_log_or_an_entry_for_other_content_is_refused() {
    let tsa = TimestampAuthority::start();
    let rekor = RekorLog::start();
    let root =
        TrustedRoot::parse(trusted_root_json(Some(&tsa), Some(&rekor)).as_bytes()).expect("root");
    let log = url::Url::parse(&rekor.url()).unwrap();
    let (artifact, signature, key, _) = signed(&tsa, &root, b"blob one\n").await;
    // The real answer for blob one (it adds the entry), to be replayed below.
    let answer = {
        let body = cosign_core::keyless::rekor_request::hashed_rekord_v002(
            &artifact,
            &signature,
            cosign_core::keyless::rekor_request::Verifier::Key(&key.public_key()),
        )
        .unwrap();
        let response = client()
            .post(log.join("api/v2/log/entries").unwrap())
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        response.bytes().await.unwrap().to_vec()
    };

    // A root that trusts the TSA but not this log.
    let three = signed(&tsa, &root, b"blob three\n").await;
    let tsa_only = TrustedRoot::parse(trusted_root_json(Some(&tsa), None).as_bytes()).unwrap();
    let error = add(&log, &tsa_only, &three)
        .await
        .expect_err("untrusted log");
    assert!(matches!(error, RekorError::Invalid { .. }), "{error}");

    // A log that answers with the entry of other content.
    let fake = FakeRegistry::start();
    fake.add_rule(Rule {
        method: Some("POST".to_owned()),
        path_contains: "/api/v2/log/entries".to_owned(),
        times: None,
        fault: Fault::ServeStatus {
            status: 201,
            content_type: "application/json".to_owned(),
            bytes: answer,
        },
    });
    let lying = url::Url::parse(&format!("http://{}/", fake.address())).unwrap();
    let two = signed(&tsa, &root, b"blob two\n").await;
    let error = add(&lying, &root, &two)
        .await
        .expect_err("an entry for other content");
    assert!(matches!(error, RekorError::Invalid { .. }), "{error}");
}
