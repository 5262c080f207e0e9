//! Sigstore bundles (v0.1 to v0.3), DSSE envelopes and in-toto statements, and what reads
//! them: `Bundle::parse`, `dsse::verify`, `Statement::parse`, the key verifier's content
//! checks.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{json, Value};

use super::mutate::{bounded, config, fixtures, json_ish_bytes, mutated_json};
use crate::bundle::dsse::{self, IN_TOTO_PAYLOAD_TYPE};
use crate::bundle::in_toto::{image_signature_statement, Statement, SUBJECT_LIMIT};
use crate::bundle::legacy_blob_bundle::{self, LegacyBundleError, LEGACY_BUNDLE_SIZE_LIMIT};
use crate::bundle::{
    Bundle, BundleError, Envelope, EnvelopeSignature, BUNDLE_SIZE_LIMIT, CERTIFICATE_CHAIN_LIMIT,
    DSSE_SIGNATURE_LIMIT, TIMESTAMP_LIMIT, TLOG_ENTRY_LIMIT,
};
use crate::digest::Digest;
use crate::keys::{PrivateKey, PublicKey};
use crate::verify::bundle::{verify_envelope, verify_with_key, Artifact};

/// An in-toto statement as cosign 3 signs it for an image, and the SLSA provenance statement of
/// the DSSE fixture.
static STATEMENTS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let digest = Digest::sha256(b"image");
    let annotations: BTreeMap<String, String> = [("team".to_owned(), "blue".to_owned())]
        .into_iter()
        .collect();
    let bundle: Value = serde_json::from_slice(fixtures::DSSE_BUNDLE).expect("JSON");
    let provenance = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().expect("payload"))
        .expect("base64");
    vec![image_signature_statement(&digest, &annotations), provenance]
});

static SIGNER: LazyLock<PrivateKey> =
    LazyLock::new(|| PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng));

fn managed_key() -> PublicKey {
    PublicKey::from_pem(fixtures::MANAGED_KEY_PUB).expect("key")
}

/// A legacy blob bundle (`sign-blob --new-bundle-format=false`) made of the v0.1 fixture: its
/// signature, its certificate (base64 of the PEM) and its log entry.
static LEGACY_BLOB_BUNDLE: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let engine = base64::engine::general_purpose::STANDARD;
    let bundle = Bundle::parse(fixtures::KEYLESS_V0_1_BUNDLE).expect("bundle");
    let material = &bundle.verification_material;
    let certificate = &material
        .x509_certificate_chain
        .as_ref()
        .expect("chain")
        .certificates[0];
    let pem = crate::pem::encode("CERTIFICATE", &certificate.raw_bytes);
    let rekor: Value =
        serde_json::from_str(super::oci::rekor_bundle_annotation()).expect("annotation");
    json!({
        "base64Signature": engine.encode(&bundle.message_signature.as_ref().expect("message").signature),
        "cert": engine.encode(pem),
        "rekorBundle": rekor,
    })
    .to_string()
    .into_bytes()
});

fn mutated_bundle() -> impl Strategy<Value = Vec<u8>> {
    (0..fixtures::BUNDLES.len()).prop_flat_map(|index| mutated_json(fixtures::BUNDLES[index]))
}

fn mutated_statement() -> impl Strategy<Value = Vec<u8>> {
    (0..STATEMENTS.len()).prop_flat_map(|index| mutated_json(&STATEMENTS[index]))
}

/// The invariants `Bundle::parse` promises for what it accepts.
fn check_accepted(bundle: &Bundle) -> Result<(), TestCaseError> {
    let material = &bundle.verification_material;
    prop_assert!(bundle.version().is_ok());
    prop_assert!(bundle.message_signature.is_some() != bundle.dsse_envelope.is_some());
    prop_assert!(material.tlog_entries.len() <= TLOG_ENTRY_LIMIT);
    prop_assert!(material
        .timestamp_verification_data
        .as_ref()
        .is_none_or(|data| data.rfc3161_timestamps.len() <= TIMESTAMP_LIMIT));
    let chain_ok = material
        .x509_certificate_chain
        .as_ref()
        .is_none_or(|chain| {
            !chain.certificates.is_empty() && chain.certificates.len() <= CERTIFICATE_CHAIN_LIMIT
        });
    prop_assert!(chain_ok, "certificate chain within its cap");
    prop_assert!(bundle
        .dsse_envelope
        .as_ref()
        .is_none_or(|envelope| envelope.signatures.len() <= DSSE_SIGNATURE_LIMIT));
    prop_assert!(material
        .tlog_entries
        .iter()
        .all(|entry| entry.log_index >= 0));
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    /// `Bundle::parse`, arbitrary and JSON-ish bytes: an error, never a panic.
    #[test]
    fn bundle_parse_survives_arbitrary_bytes(input in json_ish_bytes()) {
        let _ = Bundle::parse(&input);
    }

    /// `Bundle::parse` on JSON-aware mutations of real v0.1, v0.3, DSSE, managed-key and
    /// Rekor v2 bundles (huge and negative int64s as numbers and strings, duplicate fields,
    /// lists repeated past their caps, nesting past serde's limit, base64 edits): no panic,
    /// and what it accepts keeps its invariants and survives writing and reading again.
    #[test]
    fn bundle_parse_survives_mutated_bundles(input in mutated_bundle()) {
        let parsed = bounded("Bundle::parse", Duration::from_secs(5), || Bundle::parse(&input));
        if let Ok(bundle) = parsed {
            check_accepted(&bundle)?;
            let again = Bundle::parse(&bundle.to_json());
            prop_assert!(again.as_ref().is_ok_and(|again| *again == bundle), "{:?}", again.err());
        }
    }

    /// The legacy blob bundle reader (and its sniffer), arbitrary and JSON-ish bytes.
    #[test]
    fn legacy_blob_bundle_survives_arbitrary_bytes(input in json_ish_bytes()) {
        let _ = legacy_blob_bundle::is_legacy_bundle(&input);
        let _ = legacy_blob_bundle::parse(&input);
    }

    /// The legacy blob bundle reader on JSON-aware mutations of a real one (the certificate's
    /// PEM edited inside its base64, the Rekor bundle's fields): no panic, and what it reads
    /// is a v0.1 bundle with at most one log entry.
    #[test]
    fn legacy_blob_bundle_survives_mutation(input in mutated_json(&LEGACY_BLOB_BUNDLE)) {
        let _ = legacy_blob_bundle::is_legacy_bundle(&input);
        if let Ok(bundle) = bounded("legacy_blob_bundle::parse", Duration::from_secs(5), || legacy_blob_bundle::parse(&input)) {
            prop_assert!(bundle.verification_material.tlog_entries.len() <= 1);
            prop_assert!(bundle.version().is_ok());
        }
    }

    /// `Statement::parse`, arbitrary and JSON-ish bytes.
    #[test]
    fn statement_parse_survives_arbitrary_bytes(input in json_ish_bytes()) {
        let _ = Statement::parse(&input);
    }

    /// `Statement::parse` on mutated cosign and SLSA statements; what parses is searched for a
    /// subject and annotations without a panic.
    #[test]
    fn statement_parse_survives_mutated_statements(input in mutated_statement()) {
        if let Ok(statement) = Statement::parse(&input) {
            prop_assert!(statement.subject.len() <= SUBJECT_LIMIT);
            let wanted: BTreeMap<String, String> = [("team".to_owned(), "blue".to_owned())].into_iter().collect();
            if let Some(subject) = statement.subject_for(&Digest::sha256(b"image")) {
                let _ = subject.has_annotations(&wanted);
            }
        }
    }

    /// `dsse::verify` on arbitrary envelopes (payload, type, any number of arbitrary
    /// signatures): never valid, never a panic.
    #[test]
    fn dsse_verify_survives_arbitrary_envelopes(
        payload in proptest::collection::vec(any::<u8>(), 0..256),
        payload_type in ".{0,40}",
        signatures in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..128), 0..4),
    ) {
        let envelope = Envelope {
            payload,
            payload_type,
            signatures: signatures.into_iter().map(|sig| EnvelopeSignature { sig, keyid: None }).collect(),
        };
        prop_assert!(dsse::verify(&envelope, &SIGNER.public_key()).is_err());
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// The DSSE verifier past the signature: mutated in-toto statements, validly signed, so
    /// that the statement parser and the subject match run on them.
    #[test]
    fn verify_envelope_survives_signed_mutated_statements(payload in mutated_statement()) {
        let envelope = dsse::sign(&SIGNER, IN_TOTO_PAYLOAD_TYPE, payload).expect("signs");
        let _ = verify_envelope(&envelope, &SIGNER.public_key(), Some(&Digest::sha256(b"image")));
    }

    /// The key verifier (`verify_with_key`) on mutated bundles, with the managed key and the
    /// artifact of the fixtures.
    #[test]
    fn verify_with_key_survives_mutated_bundles(input in mutated_bundle()) {
        if let Ok(bundle) = Bundle::parse(&input) {
            let sha256 = Digest::sha256(fixtures::ARTIFACT);
            let artifact = Artifact { sha256: &sha256, bytes: Some(fixtures::ARTIFACT) };
            let _ = verify_with_key(&bundle, &managed_key(), Some(artifact));
            let _ = verify_with_key(&bundle, &managed_key(), None);
        }
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// Each list a bundle carries is accepted up to its cap and refused past it, whatever the
    /// other lists hold.
    #[test]
    fn bundle_caps_hold(
        entries in 0usize..40,
        timestamps in 0usize..40,
        certificates in 1usize..40,
        signatures in 0usize..40,
    ) {
        let mut document: Value = serde_json::from_slice(fixtures::MANAGED_KEY_BUNDLE).expect("JSON");
        let material = &mut document["verificationMaterial"];
        let entry = material["tlogEntries"][0].clone();
        material["tlogEntries"] = Value::Array(vec![entry; entries]);
        let stamp = material["timestampVerificationData"]["rfc3161Timestamps"][0].clone();
        material["timestampVerificationData"]["rfc3161Timestamps"] = Value::Array(vec![stamp; timestamps]);
        let with_lists = document.clone();
        let parsed = Bundle::parse(document.to_string().as_bytes());
        let over = entries > TLOG_ENTRY_LIMIT || timestamps > TIMESTAMP_LIMIT;
        prop_assert_eq!(parsed.is_ok(), !over, "{:?}", parsed.err());
        if over {
            let too_many = matches!(parsed, Err(BundleError::TooMany { .. }));
            prop_assert!(too_many, "refused as too many");
        }

        // A v0.1 chain of `certificates`.
        let mut chained = with_lists.clone();
        chained["mediaType"] = json!("application/vnd.dev.sigstore.bundle+json;version=0.1");
        chained["verificationMaterial"]["x509CertificateChain"] =
            json!({"certificates": vec![json!({"rawBytes": "AAAA"}); certificates]});
        let parsed = Bundle::parse(chained.to_string().as_bytes());
        prop_assert_eq!(parsed.is_ok(), !over && certificates <= CERTIFICATE_CHAIN_LIMIT);

        // A DSSE envelope with `signatures`.
        let mut enveloped = with_lists;
        let content = enveloped.as_object_mut().expect("object");
        content.remove("messageSignature");
        content.insert("dsseEnvelope".to_owned(), json!({
            "payload": "e30=",
            "payloadType": IN_TOTO_PAYLOAD_TYPE,
            "signatures": vec![json!({"sig": "AAAA"}); signatures],
        }));
        let parsed = Bundle::parse(enveloped.to_string().as_bytes());
        prop_assert_eq!(parsed.is_ok(), !over && signatures <= DSSE_SIGNATURE_LIMIT);
    }

    /// A statement's subjects are accepted up to the cap and refused past it.
    #[test]
    fn statement_subject_cap_holds(count in SUBJECT_LIMIT - 8..SUBJECT_LIMIT + 8) {
        let subjects = vec![r#"{"digest":{"sha256":"00"}}"#; count].join(",");
        let statement = format!(r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{subjects}]}}"#);
        prop_assert_eq!(Statement::parse(statement.as_bytes()).is_ok(), count <= SUBJECT_LIMIT);
    }
}

#[test]
fn the_samples_are_valid() {
    for bundle in fixtures::BUNDLES {
        let parsed = Bundle::parse(bundle).expect("the fixtures parse");
        check_accepted(&parsed).expect("and keep the invariants");
    }
    for statement in STATEMENTS.iter() {
        Statement::parse(statement).expect("the statements parse");
    }
    let bundle = Bundle::parse(fixtures::MANAGED_KEY_BUNDLE).expect("parses");
    let sha256 = Digest::sha256(fixtures::ARTIFACT);
    let artifact = Artifact {
        sha256: &sha256,
        bytes: Some(fixtures::ARTIFACT),
    };
    verify_with_key(&bundle, &managed_key(), Some(artifact)).expect("the managed key verifies");
    let envelope = dsse::sign(&SIGNER, IN_TOTO_PAYLOAD_TYPE, STATEMENTS[0].clone()).expect("signs");
    verify_envelope(
        &envelope,
        &SIGNER.public_key(),
        Some(&Digest::sha256(b"image")),
    )
    .expect("the signed statement verifies");
}

/// A valid bundle padded with JSON white space to `size` bytes.
fn padded_bundle(size: usize) -> Vec<u8> {
    let mut bundle = fixtures::MANAGED_KEY_BUNDLE.to_vec();
    bundle.resize(size, b' ');
    bundle
}

#[test]
fn bundles_over_the_cap_are_refused_before_parsing() {
    assert!(Bundle::parse(&padded_bundle(BUNDLE_SIZE_LIMIT)).is_ok());
    let over = padded_bundle(BUNDLE_SIZE_LIMIT + 1);
    let refused = bounded("Bundle::parse", Duration::from_millis(500), || {
        Bundle::parse(&over)
    });
    assert!(matches!(refused, Err(BundleError::TooLarge { size, limit })
        if size == BUNDLE_SIZE_LIMIT + 1 && limit == BUNDLE_SIZE_LIMIT));
}

#[test]
fn legacy_blob_bundles_over_the_cap_are_refused_before_parsing() {
    assert!(legacy_blob_bundle::is_legacy_bundle(&LEGACY_BLOB_BUNDLE));
    let mut padded = LEGACY_BLOB_BUNDLE.clone();
    padded.resize(LEGACY_BUNDLE_SIZE_LIMIT, b' ');
    let bundle = legacy_blob_bundle::parse(&padded).expect("at the cap: read");
    assert!(bundle
        .verification_material
        .x509_certificate_chain
        .is_some());
    assert_eq!(bundle.verification_material.tlog_entries.len(), 1);
    padded.push(b' ');
    assert!(matches!(
        legacy_blob_bundle::parse(&padded),
        Err(LegacyBundleError::TooLarge)
    ));
}

#[test]
fn a_legacy_blob_bundle_with_a_huge_cert_is_read_in_bounded_time() {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut document: Value = serde_json::from_slice(&LEGACY_BLOB_BUNDLE).expect("JSON");
    document["cert"] = engine
        .encode(super::keys::unclosed_begin_lines(512 * 1024))
        .into();
    let input = document.to_string();
    assert!(input.len() <= LEGACY_BUNDLE_SIZE_LIMIT);
    let _ = bounded("legacy_blob_bundle::parse", Duration::from_secs(1), || {
        legacy_blob_bundle::parse(input.as_bytes())
    });
}

#[test]
fn a_bundle_stuffed_with_entries_is_refused_in_bounded_time_and_memory() {
    // As many minimal log entries as 2 MiB holds (some 16 000), far past the cap of 32.
    let entry = r#"{"logIndex":"1","logId":{"keyId":"AA=="},"kindVersion":{"kind":"k","version":"v"},"canonicalizedBody":"AA=="},"#;
    let mut document = String::from(
        r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","messageSignature":{"signature":"AA=="},"verificationMaterial":{"publicKey":{"hint":"x"},"tlogEntries":["#,
    );
    while document.len() < 2 * 1024 * 1024 {
        document.push_str(entry);
    }
    document.pop();
    document.push_str("]}}");
    let parsed = bounded("Bundle::parse", Duration::from_secs(20), || {
        Bundle::parse(document.as_bytes())
    });
    assert!(matches!(parsed, Err(BundleError::TooMany { .. })));
}

/// `depth` nested arrays around `inner`.
fn nested(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn every_json_parser_survives_deep_nesting() {
    use crate::image::legacy_signature::RekorBundle;
    use crate::image::manifest::{sniff_media_type, ImageIndex, ImageManifest};
    use crate::image::simple_signing::SimpleSigningPayload;
    use crate::trust::trusted_root::TrustedRoot;
    // Past serde_json's recursion limit (128), at the top and inside free-form fields
    // (`serde_json::Value`s: simple-signing `optional`, in-toto subject annotations).
    for depth in [127, 129, 100_000] {
        let deep = nested(depth, "1");
        let object = format!(r#"{{"a":{deep}}}"#);
        for input in [&deep, &object] {
            let bytes = input.as_bytes();
            assert!(Bundle::parse(bytes).is_err());
            assert!(Statement::parse(bytes).is_err());
            assert!(ImageManifest::parse(bytes).is_err());
            assert!(ImageIndex::parse(bytes).is_err());
            let _ = sniff_media_type(bytes);
            let _ = SimpleSigningPayload::parse(bytes);
            // `{"a": ...}` is an empty trusted root: serde skips unknown members without
            // recursing, at any depth.
            assert!(TrustedRoot::parse(bytes).is_err() || input == &object);
            assert!(RekorBundle::parse(input).is_err());
            let _ = legacy_blob_bundle::is_legacy_bundle(bytes);
            assert!(legacy_blob_bundle::parse(bytes).is_err());
        }
        let legacy = format!(r#"{{"base64Signature":"AA==","rekorBundle":{deep}}}"#);
        let _ = legacy_blob_bundle::is_legacy_bundle(legacy.as_bytes());
        let _ = legacy_blob_bundle::parse(legacy.as_bytes());
        let payload = format!(
            r#"{{"critical":{{"identity":{{}},"image":{{}},"type":"t"}},"optional":{{"k":{deep}}}}}"#
        );
        let _ = SimpleSigningPayload::parse(payload.as_bytes());
        let statement = format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"digest":{{}},"annotations":{{"k":{deep}}}}}]}}"#
        );
        let _ = Statement::parse(statement.as_bytes());
        let manifest = format!(
            r#"{{"schemaVersion":2,"config":{{"size":1,"digest":"sha256:{}"}},"x":{deep}}}"#,
            "0".repeat(64)
        );
        let _ = ImageManifest::parse(manifest.as_bytes());
        let _ = sniff_media_type(manifest.as_bytes());
    }
}
