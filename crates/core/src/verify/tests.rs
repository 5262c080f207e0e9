//! The image verifier on bytes alone: key and keyless, both formats, every failure kind,
//! any-of authorities and the wanted-type filter. No registry.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;

use base64::Engine as _;

use super::*;
use crate::bundle::Bundle;
use crate::bundle::{dsse, in_toto};
use crate::digest::Digest;
use crate::image::{legacy_signature, simple_signing};
use crate::keys::PrivateKey;
use crate::time::UnixTime;

const NOW: UnixTime = UnixTime::from_seconds(1_800_000_000);

fn image() -> Digest {
    Digest::sha256(b"the image's manifest")
}

fn key() -> PrivateKey {
    PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng)
}

fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn legacy_candidate(key: &PrivateKey, digest: &Digest, notes: &[(&str, &str)]) -> Candidate {
    let payload = simple_signing::payload("registry.test/app", digest, &annotations(notes));
    let signature = key.sign(&payload).unwrap();
    Candidate::Legacy {
        layer: Box::new(legacy_signature::signature_layer(&payload, &signature)),
        payload: Ok(payload),
    }
}

fn bundle_with_statement(key: &PrivateKey, statement: Vec<u8>) -> Candidate {
    let envelope = dsse::sign(key, dsse::IN_TOTO_PAYLOAD_TYPE, statement).unwrap();
    let bytes = Bundle::for_envelope(&key.public_key(), envelope)
        .unwrap()
        .to_json();
    Candidate::Bundle {
        manifest_digest: Digest::sha256(&bytes),
        bundle: Ok(bytes),
    }
}

fn bundle_candidate(key: &PrivateKey, digest: &Digest, notes: &[(&str, &str)]) -> Candidate {
    bundle_with_statement(
        key,
        in_toto::image_signature_statement(digest, &annotations(notes)),
    )
}

fn attestation_candidate(key: &PrivateKey, digest: &Digest, predicate_type: &str) -> Candidate {
    let statement = format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"registry.test/app","digest":{{"sha256":"{}"}}}}],"predicateType":"{predicate_type}","predicate":{{"builder":"lab"}}}}"#,
        digest.hex()
    );
    bundle_with_statement(key, statement.into_bytes())
}

fn key_policy(keys: &[&PrivateKey]) -> ImagePolicy {
    ImagePolicy {
        authorities: keys
            .iter()
            .map(|key| {
                Authority::Key(KeyAuthority {
                    key: key.public_key(),
                    transparency_log: KeyTransparencyLog::InsecureIgnored,
                })
            })
            .collect(),
        wanted: Wanted::Signature,
        annotations: BTreeMap::new(),
        check_claims: true,
    }
}

#[test]
fn a_key_verifies_both_formats_and_says_where_each_came_from() {
    let signer = key();
    let digest = image();
    let candidates = vec![
        legacy_candidate(&signer, &digest, &[("team", "blue")]),
        bundle_candidate(&signer, &digest, &[("team", "blue")]),
    ];
    let result = verify_image(&key_policy(&[&signer]), &digest, candidates, NOW);
    assert_eq!(result.verdict(), Verdict::Verified);
    assert!(result.failures.is_empty(), "{:?}", result.failures);
    assert_eq!(result.verified.len(), 2);
    let legacy = &result.verified[0];
    assert!(legacy.origin.legacy_layer().is_some());
    match &legacy.content {
        SignedContent::SimpleSigning { payload, .. } => {
            assert_eq!(
                payload.critical.image.docker_manifest_digest,
                digest.to_string()
            );
        }
        other => panic!("{other:?}"),
    }
    let bundle = &result.verified[1];
    assert!(matches!(bundle.origin, Origin::Referrer(_)));
    match &bundle.content {
        SignedContent::Statement { statement, .. } => {
            assert_eq!(statement.predicate_type, in_toto::COSIGN_SIGN_PREDICATE);
            assert!(statement.subject_for(&digest).is_some());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(bundle.signer, Signer::Key { authority: 0 }));
    assert!(bundle.times.is_empty(), "no log: no verified time");
}

#[test]
fn a_wrong_key_fails_each_candidate_with_its_reason() {
    let (signer, other) = (key(), key());
    let digest = image();
    let result = verify_image(
        &key_policy(&[&other]),
        &digest,
        vec![
            legacy_candidate(&signer, &digest, &[]),
            bundle_candidate(&signer, &digest, &[]),
        ],
        NOW,
    );
    assert_eq!(result.verdict(), Verdict::NoneVerified { legacy: true });
    assert!(matches!(result.failures[0].reason, FailureReason::Layer(_)));
    assert!(matches!(
        result.failures[1].reason,
        FailureReason::Content(_)
    ));
    assert!(result.failures[1]
        .reason
        .to_string()
        .contains("could not verify envelope"));
    // Only bundles: cosign's "no matching attestations" case.
    let bundles_only = verify_image(
        &key_policy(&[&other]),
        &digest,
        vec![bundle_candidate(&signer, &digest, &[])],
        NOW,
    );
    assert_eq!(
        bundles_only.verdict(),
        Verdict::NoneVerified { legacy: false }
    );
}

#[test]
fn a_signature_for_another_image_does_not_count_for_this_one() {
    let signer = key();
    let (digest, elsewhere) = (image(), Digest::sha256(b"another image"));
    let mut policy = key_policy(&[&signer]);
    let result = verify_image(
        &policy,
        &digest,
        vec![
            legacy_candidate(&signer, &elsewhere, &[]),
            bundle_candidate(&signer, &elsewhere, &[]),
        ],
        NOW,
    );
    assert_eq!(result.verified.len(), 0);
    assert!(result.failures[0]
        .reason
        .to_string()
        .contains("invalid or missing digest in claim"));
    assert!(result.failures[1]
        .reason
        .to_string()
        .contains("no matching subject digest found"));
    // Without the claims check (cosign's --check-claims=false), a legacy payload is not read
    // for its digest; a bundle's statement must still name the image.
    policy.check_claims = false;
    let unchecked = verify_image(
        &policy,
        &digest,
        vec![
            legacy_candidate(&signer, &elsewhere, &[]),
            bundle_candidate(&signer, &elsewhere, &[]),
        ],
        NOW,
    );
    assert_eq!(unchecked.verified.len(), 1);
    assert!(unchecked.verified[0].origin.legacy_layer().is_some());
    assert!(unchecked.failures[0]
        .reason
        .to_string()
        .contains("no matching subject digest found"));
}

#[test]
fn annotations_must_be_there_when_claims_are_checked() {
    let signer = key();
    let digest = image();
    let mut policy = key_policy(&[&signer]);
    policy.annotations = annotations(&[("team", "red")]);
    let candidates = || {
        vec![
            legacy_candidate(&signer, &digest, &[("team", "blue")]),
            bundle_candidate(&signer, &digest, &[("team", "blue")]),
        ]
    };
    let result = verify_image(&policy, &digest, candidates(), NOW);
    assert_eq!(result.verified.len(), 0);
    for failure in &result.failures {
        assert_eq!(
            failure.reason.to_string(),
            "missing or incorrect annotation"
        );
    }
    policy.annotations = annotations(&[("team", "blue")]);
    assert_eq!(
        verify_image(&policy, &digest, candidates(), NOW)
            .verified
            .len(),
        2
    );
}

#[test]
fn unreadable_candidates_and_empty_sources() {
    let signer = key();
    let digest = image();
    let policy = key_policy(&[&signer]);
    let result = verify_image(
        &policy,
        &digest,
        vec![Candidate::Bundle {
            manifest_digest: Digest::sha256(b"m"),
            bundle: Err(Unreadable::new("GET ...: 500 Internal Server Error")),
        }],
        NOW,
    );
    assert!(matches!(
        result.failures[0].reason,
        FailureReason::Unreadable(_)
    ));
    assert_eq!(result.verdict(), Verdict::NoneVerified { legacy: false });
    let garbage = verify_image(
        &policy,
        &digest,
        vec![Candidate::Bundle {
            manifest_digest: Digest::sha256(b"m"),
            bundle: Ok(b"not a bundle".to_vec()),
        }],
        NOW,
    );
    assert!(matches!(
        garbage.failures[0].reason,
        FailureReason::Bundle(_)
    ));
    assert_eq!(
        verify_image(&policy, &digest, Vec::new(), NOW).verdict(),
        Verdict::NoSignatures
    );
}

#[test]
fn any_authority_may_vouch_and_every_refusal_is_reported() {
    let (signer, first, second) = (key(), key(), key());
    let digest = image();
    let result = verify_image(
        &key_policy(&[&first, &signer]),
        &digest,
        vec![bundle_candidate(&signer, &digest, &[])],
        NOW,
    );
    assert!(matches!(
        result.verified[0].signer,
        Signer::Key { authority: 1 }
    ));
    let refused = verify_image(
        &key_policy(&[&first, &second]),
        &digest,
        vec![bundle_candidate(&signer, &digest, &[])],
        NOW,
    );
    match &refused.failures[0].reason {
        FailureReason::Authorities(reasons) => assert_eq!(reasons.len(), 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn only_what_is_wanted_counts() {
    let signer = key();
    let digest = image();
    let provenance = "https://slsa.dev/provenance/v1";
    let candidates = || {
        vec![
            attestation_candidate(&signer, &digest, provenance),
            attestation_candidate(&signer, &digest, "https://spdx.dev/Document"),
            bundle_candidate(&signer, &digest, &[]),
        ]
    };
    let mut policy = key_policy(&[&signer]);
    // Signatures: the attestations are not counted.
    let signatures = verify_image(&policy, &digest, candidates(), NOW);
    assert_eq!(signatures.verified.len(), 1);
    assert!(signatures.failures.is_empty());
    // Attestations of one type: that one only (CVE-2022-35929: another type never counts).
    policy.wanted = Wanted::Attestation {
        predicate_type: Some(provenance.to_owned()),
    };
    let attestations = verify_image(&policy, &digest, candidates(), NOW);
    assert_eq!(attestations.verified.len(), 1);
    match &attestations.verified[0].content {
        SignedContent::Statement { statement, .. } => {
            assert_eq!(statement.predicate_type, provenance)
        }
        other => panic!("{other:?}"),
    }
    policy.wanted = Wanted::Attestation {
        predicate_type: Some("https://cyclonedx.org/bom".to_owned()),
    };
    assert_eq!(
        verify_image(&policy, &digest, candidates(), NOW).verdict(),
        Verdict::NoSignatures
    );
}

/// The Sigstore conformance suite's public-good root (beside this checkout).
fn public_good_root() -> crate::trust::trusted_root::TrustedRoot {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/public-good-trusted_root.json");
    let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    crate::trust::trusted_root::TrustedRoot::parse(&bytes).unwrap()
}

/// A legacy keyless layer made of a real Fulcio-signed conformance bundle (a message
/// signature over `a.txt`, with a Rekor entry and its signed entry timestamp): the payload is
/// that file, so the evidence verifies and the payload, not a simple-signing document, fails.
fn keyless_legacy_candidate() -> (Candidate, i64) {
    let bundle = Bundle::parse(include_bytes!(
        "../fuzz_properties/fixtures/keyless-v0.1.bundle.json"
    ))
    .unwrap();
    let payload = include_bytes!("../fuzz_properties/fixtures/artifact.txt").to_vec();
    let engine = base64::engine::general_purpose::STANDARD;
    let signature = &bundle.message_signature.as_ref().unwrap().signature;
    let certificate = &bundle
        .verification_material
        .x509_certificate_chain
        .as_ref()
        .unwrap()
        .certificates[0]
        .raw_bytes;
    let entry = &bundle.verification_material.tlog_entries[0];
    let rekor = serde_json::json!({
        "SignedEntryTimestamp": engine.encode(&entry.inclusion_promise.as_ref().unwrap().signed_entry_timestamp),
        "Payload": {
            "body": engine.encode(&entry.canonicalized_body),
            "integratedTime": entry.integrated_time,
            "logIndex": entry.log_index,
            "logID": crate::digest::hex_encode(&entry.log_id.key_id),
        }
    });
    let mut layer = legacy_signature::signature_layer(&payload, signature);
    let notes = layer.annotations.get_or_insert_with(BTreeMap::new);
    notes.insert(
        legacy_signature::CERTIFICATE_ANNOTATION.to_owned(),
        crate::pem::encode("CERTIFICATE", certificate),
    );
    notes.insert(
        legacy_signature::BUNDLE_ANNOTATION.to_owned(),
        rekor.to_string(),
    );
    (
        Candidate::Legacy {
            layer: Box::new(layer),
            payload: Ok(payload),
        },
        entry.integrated_time,
    )
}

#[test]
fn keyless_evidence_is_checked_then_identity_then_claims() {
    let identity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    let issuer = "https://token.actions.githubusercontent.com";
    let (candidate, integrated) = keyless_legacy_candidate();
    let now = UnixTime::from_seconds(integrated + 60);
    let policy = |identities: Vec<crate::trust::certificate::IdentityPolicy>| ImagePolicy {
        authorities: vec![Authority::Keyless(KeylessAuthority {
            trusted_root: public_good_root(),
            identities,
            requirements: crate::verify::keyless::Requirements::default(),
            certificate: None,
        })],
        wanted: Wanted::Signature,
        annotations: BTreeMap::new(),
        check_claims: false,
    };
    let exact = |subject: &str| {
        crate::trust::certificate::IdentityPolicy::new(Some(subject), None, Some(issuer), None)
            .unwrap()
    };
    // The right identity (among others): the evidence holds, and the payload, which is not a
    // simple-signing document, is what fails.
    let result = verify_image(
        &policy(vec![exact("someone@example.com"), exact(identity)]),
        &image(),
        vec![candidate.clone()],
        now,
    );
    match &result.failures[0].reason {
        FailureReason::Layer(error) => assert!(error.to_string().contains("expected"), "{error}"),
        other => panic!("{other}"),
    }
    // No identity matches: the identity check fails, in cosign's words for a legacy layer
    // (the certificate's subjects and issuer).
    let result = verify_image(
        &policy(vec![exact("someone@example.com")]),
        &image(),
        vec![candidate.clone()],
        now,
    );
    assert!(
        matches!(
            &result.failures[0].reason,
            FailureReason::LegacyIdentity { subjects, issuer }
                if subjects.len() == 1 && issuer == "https://token.actions.githubusercontent.com"
        ),
        "{}",
        result.failures[0].reason
    );
    // A tampered signature: the evidence fails before any identity is looked at.
    let Candidate::Legacy { mut layer, payload } = candidate else {
        unreachable!()
    };
    let notes = layer.annotations.as_mut().unwrap();
    notes.insert(
        legacy_signature::SIGNATURE_ANNOTATION.to_owned(),
        base64::engine::general_purpose::STANDARD.encode(b"not a signature"),
    );
    let result = verify_image(
        &policy(vec![exact(identity)]),
        &image(),
        vec![Candidate::Legacy { layer, payload }],
        now,
    );
    assert!(matches!(
        &result.failures[0].reason,
        FailureReason::Keyless(crate::verify::keyless::KeylessError::Content(_))
    ));
}

/// A layer of a legacy `.att` image: the DSSE envelope of an attestation.
fn legacy_attestation_candidate(
    key: &PrivateKey,
    digest: &Digest,
    predicate_type: &str,
) -> Candidate {
    let statement = crate::bundle::attestation::statement(
        predicate_type,
        br#"{"components":[]}"#,
        &crate::bundle::attestation::Subject {
            name: "registry.test/app".to_owned(),
            digest: digest.clone(),
        },
        NOW,
    )
    .unwrap();
    let envelope = dsse::sign(key, dsse::IN_TOTO_PAYLOAD_TYPE, statement).unwrap();
    let bytes = serde_json::to_vec(&envelope).unwrap();
    Candidate::Legacy {
        layer: Box::new(crate::image::manifest::Descriptor {
            media_type: "application/vnd.dsse.envelope.v1+json".to_owned(),
            size: bytes.len() as u64,
            digest: Digest::sha256(&bytes),
            urls: None,
            annotations: None,
            platform: None,
            artifact_type: None,
        }),
        payload: Ok(bytes),
    }
}

#[test]
fn legacy_attestations_are_envelopes_and_other_types_are_named_not_counted() {
    let (signer, other) = (key(), key());
    let digest = image();
    let mut policy = key_policy(&[&signer]);
    policy.wanted = Wanted::Attestation {
        predicate_type: Some("https://cyclonedx.org/bom".to_owned()),
    };
    let result = verify_image(
        &policy,
        &digest,
        vec![
            legacy_attestation_candidate(&signer, &digest, "cyclonedx"),
            legacy_attestation_candidate(&signer, &digest, "slsaprovenance"),
            legacy_attestation_candidate(&other, &digest, "cyclonedx"),
            legacy_attestation_candidate(&signer, &Digest::sha256(b"elsewhere"), "cyclonedx"),
        ],
        NOW,
    );
    assert_eq!(result.verified.len(), 1);
    assert_eq!(
        result
            .unwanted
            .iter()
            .map(|u| u.predicate_type.as_str())
            .collect::<Vec<_>>(),
        ["https://slsa.dev/provenance/v0.2"]
    );
    assert_eq!(result.failures.len(), 2, "{:?}", result.failures);
    assert!(result.failures[1]
        .reason
        .to_string()
        .contains("no matching subject digest found"));
    // Nothing of the wanted type: no signature counted, the other types named.
    policy.wanted = Wanted::Attestation {
        predicate_type: Some("https://spdx.dev/Document".to_owned()),
    };
    let none = verify_image(
        &policy,
        &digest,
        vec![legacy_attestation_candidate(&signer, &digest, "cyclonedx")],
        NOW,
    );
    assert_eq!(none.verdict(), Verdict::NoSignatures);
    assert_eq!(none.unwanted.len(), 1);
}
