//! RFC 3161 timestamps from a real Sigstore `timestamp-server`, and from a fake that
//! misbehaves: every answer is verified against the trusted root before it is returned.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use cosign_core::TrustedRoot;
use cosign_services::timestamp::{timestamp_signature, TimestampServiceError};
use cosign_testkit::fake_registry::{FakeRegistry, Fault, Rule};
use cosign_testkit::sigstore::TimestampAuthority;

fn client() -> reqwest::Client {
    cosign_services::client(Duration::from_secs(10)).expect("client")
}

fn root_of(authority: &TimestampAuthority) -> TrustedRoot {
    TrustedRoot::parse(authority.trusted_root_json().as_bytes()).expect("trusted root")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

fn fake_serving(rules: Vec<Rule>) -> (FakeRegistry, url::Url) {
    let fake = FakeRegistry::start();
    for rule in rules {
        fake.add_rule(rule);
    }
    let url = url::Url::parse(&format!("http://{}/api/v1/timestamp", fake.address())).unwrap();
    (fake, url)
}

fn rule(times: Option<usize>, fault: Fault) -> Rule {
    Rule {
        method: Some("POST".to_owned()),
        path_contains: "/api/v1/timestamp".to_owned(),
        times,
        fault,
    }
}

#[tokio::test]
async fn a_real_tsa_timestamps_a_signature_and_the_answer_verifies() {
    let authority = TimestampAuthority::start();
    let root = root_of(&authority);
    let url = url::Url::parse(&authority.url()).unwrap();
    let signature = b"the signature bytes of some bundle";
    let stamp = timestamp_signature(&client(), &url, signature, &root)
        .await
        .expect("timestamped");
    assert!(
        (stamp.time.seconds() - now()).abs() < 120,
        "{:?}",
        stamp.time
    );
    // The same response checks out again for that signature, and not for another.
    cosign_core::trust::timestamp::verify(&stamp.response, signature, &root).expect("verifies");
    assert!(
        cosign_core::trust::timestamp::verify(&stamp.response, b"another signature", &root)
            .is_err()
    );
}

#[tokio::test]
async fn a_tsa_that_is_not_in_the_trusted_root_is_refused() {
    // Each start makes a new key and chain: the root of a first instance does not trust the
    // second (one runs at a time: see cosign_testkit::sigstore).
    let trusted = root_of(&TimestampAuthority::start());
    let asked = TimestampAuthority::start();
    let url = url::Url::parse(&asked.url()).unwrap();
    let error = timestamp_signature(&client(), &url, b"signature", &trusted)
        .await
        .expect_err("an untrusted TSA");
    assert!(
        matches!(error, TimestampServiceError::Invalid { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains(&asked.url()), "{message}");
    assert!(
        message.contains("not signed by a trusted timestamp authority"),
        "{message}"
    );
}

#[tokio::test]
async fn an_answer_for_another_imprint_is_refused() {
    let authority = TimestampAuthority::start();
    let root = root_of(&authority);
    let real = url::Url::parse(&authority.url()).unwrap();
    let other = timestamp_signature(&client(), &real, b"another signature", &root)
        .await
        .expect("timestamped");
    let (_fake, url) = fake_serving(vec![rule(
        None,
        Fault::Serve {
            content_type: "application/timestamp-reply".to_owned(),
            bytes: other.response,
        },
    )]);
    let error = timestamp_signature(&client(), &url, b"this signature", &root)
        .await
        .expect_err("another imprint");
    assert!(
        error
            .to_string()
            .contains("timestamp message imprint does not match the signature"),
        "{error}"
    );
}

#[tokio::test]
async fn a_503_is_retried_and_a_lasting_failure_is_named() {
    let authority = TimestampAuthority::start();
    let root = root_of(&authority);
    let real = url::Url::parse(&authority.url()).unwrap();
    let good = timestamp_signature(&client(), &real, b"signature", &root)
        .await
        .expect("timestamped");
    let (fake, url) = fake_serving(vec![
        rule(
            Some(1),
            Fault::Status {
                status: 503,
                retry_after: None,
            },
        ),
        rule(
            None,
            Fault::Serve {
                content_type: "application/timestamp-reply".to_owned(),
                bytes: good.response.clone(),
            },
        ),
    ]);
    let stamp = timestamp_signature(&client(), &url, b"signature", &root)
        .await
        .expect("after one retry");
    assert_eq!(stamp.response, good.response);
    assert_eq!(fake.log().len(), 2, "{:?}", fake.log());

    let (always, url) = fake_serving(vec![rule(
        None,
        Fault::Status {
            status: 503,
            retry_after: None,
        },
    )]);
    let error = timestamp_signature(&client(), &url, b"signature", &root)
        .await
        .expect_err("still 503");
    assert_eq!(always.log().len(), cosign_services::http::ATTEMPTS);
    assert!(
        error
            .to_string()
            .starts_with(&format!("the timestamp authority at {url} answered 503")),
        "{error}"
    );

    // A 400 is not retried.
    let (refusing, url) = fake_serving(vec![rule(
        None,
        Fault::Status {
            status: 400,
            retry_after: None,
        },
    )]);
    timestamp_signature(&client(), &url, b"signature", &root)
        .await
        .expect_err("400");
    assert_eq!(refusing.log().len(), 1);
}

#[tokio::test]
async fn an_unreachable_or_oversized_tsa_is_a_clear_error() {
    let authority = TimestampAuthority::start();
    let root = root_of(&authority);
    // Nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = url::Url::parse(&format!(
        "http://{}/api/v1/timestamp",
        closed.local_addr().unwrap()
    ))
    .unwrap();
    drop(closed);
    let error = timestamp_signature(&client(), &url, b"signature", &root)
        .await
        .expect_err("unreachable");
    assert!(
        error.to_string().starts_with(&format!(
            "the timestamp authority at {url} cannot be reached"
        )),
        "{error}"
    );
    let (_fake, url) = fake_serving(vec![rule(
        None,
        Fault::Huge {
            length: 10 * 1024 * 1024,
            declare_length: false,
        },
    )]);
    let error = timestamp_signature(&client(), &url, b"signature", &root)
        .await
        .expect_err("huge");
    assert!(error.to_string().contains("answered more than"), "{error}");
}
