//! X.509: certificates (DER and PEM) and their embedded SCT lists, RFC 3161 timestamp
//! responses, trusted roots, and keyless verification end to end.

use std::sync::LazyLock;
use std::time::Duration;

use base64::Engine as _;
use der::asn1::{BitString, ObjectIdentifier, OctetString};
use der::{Decode as _, Encode as _};
use proptest::prelude::*;
use serde_json::Value;

use super::mutate::{
    bounded, config, der_parses, fixtures, json_ish_bytes, mutated_bytes, mutated_der, mutated_json,
};
use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::keys::PrivateKey;
use crate::trust::certificate::{
    verify_leaf, Certificate, CertificateError, GithubClaim, IdentityPolicy, CERTIFICATE_SIZE_LIMIT,
};
use crate::trust::timestamp::{self, TimestampError, TIMESTAMP_SIZE_LIMIT};
use crate::trust::trusted_root::{
    format_rfc3339, parse_rfc3339, CertificateAuthority, TrustedRoot, TrustedRootError,
    PUBLIC_GOOD, TRUSTED_ROOT_SIZE_LIMIT,
};
use crate::verify::bundle::{leaf_certificate, Artifact};

const NOW: i64 = 1_795_000_000;
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

fn bundle_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("JSON")
}

fn base64(text: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text.as_str().expect("string"))
        .expect("base64")
}

struct Samples {
    public_good: TrustedRoot,
    rekor2_root: TrustedRoot,
    /// Leaves of the keyless fixtures and every CA and TSA certificate of both roots.
    certificates: Vec<Vec<u8>>,
    /// A chain in PEM: the v0.3 leaf and the public-good CA certificates.
    pem_chain: Vec<u8>,
    /// The Rekor v2 fixture's timestamp response and the signature it covers.
    timestamp: Vec<u8>,
    timestamp_signature: Vec<u8>,
}

static SAMPLES: LazyLock<Samples> = LazyLock::new(|| {
    let public_good = TrustedRoot::parse(PUBLIC_GOOD).expect("root");
    let rekor2_root = TrustedRoot::parse(fixtures::REKOR2_TRUSTED_ROOT).expect("root");
    let mut certificates: Vec<Vec<u8>> = [
        fixtures::KEYLESS_V0_3_BUNDLE,
        fixtures::KEYLESS_V0_1_BUNDLE,
        fixtures::DSSE_BUNDLE,
        fixtures::REKOR2_BUNDLE,
    ]
    .iter()
    .map(|bytes| {
        let bundle = Bundle::parse(bytes).expect("bundle");
        leaf_certificate(&bundle)
            .expect("leaf")
            .expect("parses")
            .der()
            .to_vec()
    })
    .collect();
    for root in [&public_good, &rekor2_root] {
        for authority in root
            .certificate_authorities
            .iter()
            .chain(&root.timestamp_authorities)
        {
            certificates.extend(authority.chain().iter().map(|c| c.der().to_vec()));
        }
    }
    let mut pem_chain = crate::pem::encode("CERTIFICATE", &certificates[0]);
    for authority in &public_good.certificate_authorities {
        for certificate in authority.chain() {
            pem_chain.push_str(&crate::pem::encode("CERTIFICATE", certificate.der()));
        }
    }
    let rekor2 = bundle_json(fixtures::REKOR2_BUNDLE);
    Samples {
        timestamp: base64(
            &rekor2["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
                ["signedTimestamp"],
        ),
        timestamp_signature: base64(&rekor2["messageSignature"]["signature"]),
        public_good,
        rekor2_root,
        certificates,
        pem_chain: pem_chain.into_bytes(),
    }
});

fn mutated_certificate() -> impl Strategy<Value = Vec<u8>> {
    (0..SAMPLES.certificates.len())
        .prop_flat_map(|index| mutated_der(SAMPLES.certificates[index].clone()))
}

/// Every accessor of a parsed certificate (each reads an extension or a name).
fn exercise(certificate: &Certificate) {
    let _ = certificate.subject_alternative_names();
    let _ = certificate.oidc_issuer();
    let _ = certificate.oidc_issuer_v1();
    let _ = certificate.is_ca();
    let _ = certificate.is_code_signing();
    let _ = certificate.is_time_stamping();
    let _ = certificate.is_self_issued();
    let _ = certificate.subject_attribute("2.5.4.3");
    let _ = certificate.subject_attribute("2.5.4.10");
    let (not_before, not_after) = certificate.validity();
    for time in [i64::MIN, not_before, not_after, i64::MAX] {
        let _ = certificate.check_valid_at(time);
    }
    for claim in [
        GithubClaim::Trigger,
        GithubClaim::Sha,
        GithubClaim::Name,
        GithubClaim::Repository,
        GithubClaim::Ref,
    ] {
        let _ = certificate.github_claim(claim);
    }
    let policy = IdentityPolicy::new(None, Some(".*"), None, Some(".*")).expect("policy");
    let _ = policy.check(certificate);
}

// ---------------------------------------------------------------------------------------------
// SCTs. The SCT list is read only once a leaf has chained to a trusted CA, so the rig re-signs
// a real Fulcio leaf (SCT list replaced) with a key of its own, under a copy of Fulcio's
// intermediate that carries that key: the chain verifies and `verify_leaf` reads the list.

struct SctRig {
    ca_key: PrivateKey,
    leaf: x509_cert::Certificate,
    root: TrustedRoot,
    time: i64,
    original_list: Vec<u8>,
}

fn algorithm() -> spki::AlgorithmIdentifierOwned {
    spki::AlgorithmIdentifierOwned {
        oid: ECDSA_WITH_SHA256,
        parameters: None,
    }
}

fn signed(mut certificate: x509_cert::Certificate, key: &PrivateKey) -> Vec<u8> {
    certificate.tbs_certificate.signature = algorithm();
    certificate.signature_algorithm = algorithm();
    let tbs = certificate.tbs_certificate.to_der().expect("encodes");
    let signature = key.sign(&tbs).expect("signs");
    certificate.signature = BitString::from_bytes(&signature).expect("bit string");
    certificate.to_der().expect("encodes")
}

static SCT_RIG: LazyLock<SctRig> = LazyLock::new(|| {
    let samples = &*SAMPLES;
    let bundle = Bundle::parse(fixtures::KEYLESS_V0_3_BUNDLE).expect("bundle");
    let time = bundle.verification_material.tlog_entries[0].integrated_time;
    let leaf_der = samples.certificates[0].clone();
    let leaf = Certificate::from_der(&leaf_der).expect("leaf");
    let issuer = samples
        .public_good
        .certificate_authorities
        .iter()
        .filter_map(|authority| authority.chain().first())
        .find(|issuer| issuer.subject_der() == leaf.issuer_der())
        .expect("the issuing CA");
    let ca_key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
    let mut intermediate = x509_cert::Certificate::from_der(issuer.der()).expect("parses");
    intermediate.tbs_certificate.subject_public_key_info =
        spki::SubjectPublicKeyInfoOwned::from_der(&ca_key.public_key().to_der().expect("der"))
            .expect("SPKI");
    let intermediate = Certificate::from_der(&signed(intermediate, &ca_key)).expect("CA");
    let root = TrustedRoot {
        certificate_authorities: vec![CertificateAuthority::new(
            "fuzz",
            vec![intermediate],
            i64::MIN,
            None,
        )],
        ct_logs: samples.public_good.ct_logs.clone(),
        ..TrustedRoot::default()
    };
    let leaf = x509_cert::Certificate::from_der(&leaf_der).expect("parses");
    let extension = leaf
        .tbs_certificate
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.iter().find(|e| e.extn_id == SCT_LIST))
        .expect("an SCT list");
    let original_list = OctetString::from_der(extension.extn_value.as_bytes())
        .expect("octet string")
        .into_bytes();
    SctRig {
        ca_key,
        leaf,
        root,
        time,
        original_list,
    }
});

/// The rig's leaf with `list` as its SCT list, signed by the rig's CA.
fn leaf_with_scts(list: &[u8]) -> Certificate {
    let rig = &*SCT_RIG;
    let mut leaf = rig.leaf.clone();
    for extension in leaf.tbs_certificate.extensions.iter_mut().flatten() {
        if extension.extn_id == SCT_LIST {
            let inner = OctetString::new(list.to_vec()).expect("octet string");
            extension.extn_value =
                OctetString::new(inner.to_der().expect("encodes")).expect("octet string");
        }
    }
    Certificate::from_der(&signed(leaf, &rig.ca_key)).expect("the leaf parses")
}

/// A TLS-encoded SCT list: entries with any version, log id, timestamp (u64::MAX included),
/// extensions, algorithms and signature; each length prefix right, or forged.
fn sct_list() -> impl Strategy<Value = Vec<u8>> {
    let ct_log = SAMPLES.public_good.ct_logs[0].log_id.clone();
    let log_id = prop_oneof![Just(ct_log), proptest::collection::vec(any::<u8>(), 32)];
    let entry = (
        prop_oneof![4 => Just(0u8), 1 => any::<u8>()],
        log_id,
        prop_oneof![Just(u64::MAX), Just(0u64), any::<u64>()],
        proptest::collection::vec(any::<u8>(), 0..8),
        prop_oneof![Just(4u8), Just(5), Just(6), any::<u8>()],
        any::<u8>(),
        proptest::collection::vec(any::<u8>(), 0..80),
        proptest::option::weighted(0.02, any::<u16>()),
    )
        .prop_map(
            |(version, log_id, time, extensions, hash, algorithm, signature, forged)| {
                let mut sct = vec![version];
                sct.extend(log_id);
                sct.extend(time.to_be_bytes());
                sct.extend((extensions.len() as u16).to_be_bytes());
                sct.extend(extensions);
                sct.extend([hash, algorithm]);
                sct.extend((signature.len() as u16).to_be_bytes());
                sct.extend(signature);
                let mut out = forged.unwrap_or(sct.len() as u16).to_be_bytes().to_vec();
                out.extend(sct);
                out
            },
        );
    (
        prop_oneof![
            4 => proptest::collection::vec(entry.clone(), 0..4),
            1 => proptest::collection::vec(entry, 30..40),
        ],
        proptest::option::weighted(0.1, any::<u16>()),
    )
        .prop_map(|(entries, forged)| {
            let list = entries.concat();
            let mut out = forged
                .unwrap_or(list.len().min(0xffff) as u16)
                .to_be_bytes()
                .to_vec();
            out.extend(list);
            out
        })
}

proptest! {
    #![proptest_config(config(256))]

    /// Certificate readers (DER, first PEM block, every PEM block), arbitrary bytes.
    #[test]
    fn certificate_parsers_survive_arbitrary_bytes(input in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = Certificate::from_der(&input);
        let _ = Certificate::from_pem(&input);
        let _ = Certificate::all_from_pem(&input);
    }

    /// `Certificate::from_der` on DER-mutated Fulcio leaves, CA and TSA certificates (forged
    /// lengths, extensions repeated hundreds of times, huge integers and OIDs): no panic, and
    /// every accessor of what parses runs without one.
    #[test]
    fn certificate_der_survives_mutation(der in mutated_certificate()) {
        if let Ok(certificate) = bounded("Certificate::from_der", Duration::from_secs(5), || Certificate::from_der(&der)) {
            exercise(&certificate);
        }
    }

    /// `timestamp::verify`, arbitrary bytes.
    #[test]
    fn timestamp_verify_survives_arbitrary_bytes(input in proptest::collection::vec(any::<u8>(), 0..1024)) {
        prop_assert!(timestamp::verify(&input, b"signature", &SAMPLES.rekor2_root).is_err());
    }

    /// `timestamp::verify` on a real RFC 3161 response, DER-mutated down to the TSTInfo inside
    /// the CMS content and the signed attributes.
    #[test]
    fn timestamp_verify_survives_mutation(response in mutated_der(SAMPLES.timestamp.clone())) {
        let samples = &*SAMPLES;
        let _ = bounded("timestamp::verify", Duration::from_secs(5), || {
            timestamp::verify(&response, &samples.timestamp_signature, &samples.rekor2_root)
        });
    }

    /// `parse_rfc3339` on any string and near-timestamps; `format_rfc3339` output reads back.
    #[test]
    fn rfc3339_survives_any_string(
        text in prop_oneof![
            ".{0,32}",
            "[0-9+-]{4}-[0-9+-]{2}-[0-9+-]{2}[Tt][0-9+-]{2}:[0-9+-]{2}:[0-9+-]{2}(\\.[0-9]{0,12})?([Zz]|[+-][0-9+-]{2}:[0-9+-]{2})?",
        ],
        seconds in 0i64..253_402_300_800,
    ) {
        let _ = parse_rfc3339(&text);
        prop_assert_eq!(parse_rfc3339(&format_rfc3339(seconds)), Some(seconds));
    }

    /// `TrustedRoot::parse`, arbitrary and JSON-ish bytes.
    #[test]
    fn trusted_root_parse_survives_arbitrary_bytes(input in json_ish_bytes()) {
        let _ = TrustedRoot::parse(&input);
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// `Certificate::all_from_pem` on a PEM chain with byte edits (BEGIN without END, blocks
    /// cut, labels changed).
    #[test]
    fn certificate_pem_chains_survive_mutation(input in mutated_bytes(SAMPLES.pem_chain.clone(), 4)) {
        if let Ok(certificates) = Certificate::all_from_pem(&input) {
            let _ = CertificateAuthority::chains_from_pool(&certificates, "pool");
        }
    }

    /// The SCT list of a leaf that chains: arbitrary bytes, structured lists (forged lengths,
    /// up to 40 entries, timestamps up to u64::MAX) and edits of the real one. `verify_leaf`
    /// never panics and never accepts (the rig's CA is not the one the SCTs were made for).
    #[test]
    fn sct_lists_survive_mutation(
        list in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            sct_list(),
            mutated_bytes(SCT_RIG.original_list.clone(), 4),
        ],
    ) {
        let leaf = leaf_with_scts(&list);
        let result = bounded("verify_leaf", Duration::from_secs(5), || {
            verify_leaf(&leaf, &SCT_RIG.root, &[SCT_RIG.time])
        });
        prop_assert!(result.is_err());
    }

    /// Identity policies from any pattern (flags, not untrusted input, but no panic either).
    #[test]
    fn identity_policies_survive_any_pattern(subject in ".{0,16}", issuer in ".{0,16}") {
        if let Ok(policy) = IdentityPolicy::new(None, Some(&subject), None, Some(&issuer)) {
            let leaf = Certificate::from_der(&SAMPLES.certificates[0]).expect("leaf");
            let _ = policy.check(&leaf);
        }
    }
}

proptest! {
    #![proptest_config(config(48))]

    /// `TrustedRoot::parse` on JSON-aware mutations of the public-good and a Rekor v2 root
    /// (validity times at the limits, keys and certificates DER-mutated inside their base64,
    /// logs and authorities repeated).
    #[test]
    fn trusted_root_parse_survives_mutation(
        input in prop_oneof![mutated_json(PUBLIC_GOOD), mutated_json(fixtures::REKOR2_TRUSTED_ROOT)],
    ) {
        if let Ok(root) = bounded("TrustedRoot::parse", Duration::from_secs(10), || TrustedRoot::parse(&input)) {
            let _ = root.to_json();
        }
    }

    /// Keyless verification end to end (certificate, timestamps, log entries, chain, SCT,
    /// identity) on JSON-mutated keyless bundles: v0.1, v0.3, DSSE, Rekor v2.
    #[test]
    fn keyless_verification_survives_mutated_bundles(
        (index, input) in (0..KEYLESS.len()).prop_flat_map(|index| (Just(index), mutated_json(KEYLESS[index].0))),
    ) {
        if let Ok(bundle) = Bundle::parse(&input) {
            let _ = bounded("keyless::verify", Duration::from_secs(10), || verify_keyless(&bundle, KEYLESS[index].1));
        }
    }
}

/// The keyless fixtures, and whether each goes with the Rekor v2 root.
const KEYLESS: [(&[u8], bool); 4] = [
    (fixtures::KEYLESS_V0_3_BUNDLE, false),
    (fixtures::KEYLESS_V0_1_BUNDLE, false),
    (fixtures::DSSE_BUNDLE, false),
    (fixtures::REKOR2_BUNDLE, true),
];

fn verify_keyless(
    bundle: &Bundle,
    rekor2: bool,
) -> Result<crate::verify::keyless::VerifiedKeyless, crate::verify::keyless::KeylessError> {
    let samples = &*SAMPLES;
    let root = if rekor2 {
        &samples.rekor2_root
    } else {
        &samples.public_good
    };
    let sha256 = Digest::sha256(fixtures::ARTIFACT);
    let artifact = Artifact {
        sha256: &sha256,
        bytes: Some(fixtures::ARTIFACT),
    };
    let policy = IdentityPolicy::new(None, Some(".*"), None, Some(".*")).expect("policy");
    crate::verify::keyless::verify(bundle, artifact, root, &policy, NOW)
}

#[test]
fn the_samples_are_valid() {
    let samples = &*SAMPLES;
    for der in &samples.certificates {
        assert!(der_parses(der));
        exercise(&Certificate::from_der(der).expect("parses"));
    }
    assert_eq!(
        Certificate::all_from_pem(&samples.pem_chain)
            .expect("parses")
            .len(),
        1 + samples
            .public_good
            .certificate_authorities
            .iter()
            .map(|authority| authority.chain().len())
            .sum::<usize>()
    );
    assert!(der_parses(&samples.timestamp));
    timestamp::verify(
        &samples.timestamp,
        &samples.timestamp_signature,
        &samples.rekor2_root,
    )
    .expect("the timestamp verifies");
    for (bundle, rekor2) in KEYLESS {
        let bundle = Bundle::parse(bundle).expect("parses");
        verify_keyless(&bundle, rekor2).expect("the keyless fixtures verify");
    }
    // The SCT rig reaches the SCT check: the chain verifies, the SCT (made for the real
    // issuer) does not.
    let rig = &*SCT_RIG;
    let result = verify_leaf(&leaf_with_scts(&rig.original_list), &rig.root, &[rig.time]);
    assert!(
        matches!(&result, Err(CertificateError::Sct { reason }) if reason.contains("signature does not verify")),
        "{result:?}"
    );
}

#[test]
fn inputs_over_the_caps_are_refused_before_parsing() {
    let samples = &*SAMPLES;
    // A certificate of exactly the cap (a real leaf with a padding extension added: its
    // signature no longer verifies, but it parses) and one byte over it.
    let sized = |size: usize| -> Vec<u8> {
        let mut padding = 0usize;
        for _ in 0..8 {
            let mut leaf =
                x509_cert::Certificate::from_der(&samples.certificates[0]).expect("parses");
            leaf.tbs_certificate
                .extensions
                .get_or_insert_with(Vec::new)
                .push(x509_cert::ext::Extension {
                    extn_id: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1"),
                    critical: false,
                    extn_value: OctetString::new(vec![0u8; padding]).expect("octet string"),
                });
            let der = leaf.to_der().expect("encodes");
            if der.len() == size {
                return der;
            }
            padding = (padding + size).saturating_sub(der.len());
        }
        panic!("no padding gives {size} bytes");
    };
    let at_cap = sized(CERTIFICATE_SIZE_LIMIT);
    assert_eq!(at_cap.len(), CERTIFICATE_SIZE_LIMIT);
    assert!(Certificate::from_der(&at_cap).is_ok());
    let over = sized(CERTIFICATE_SIZE_LIMIT + 1);
    assert_eq!(over.len(), CERTIFICATE_SIZE_LIMIT + 1);
    assert_eq!(
        Certificate::from_der(&over),
        Err(CertificateError::TooLarge {
            size: CERTIFICATE_SIZE_LIMIT + 1
        })
    );

    // A timestamp response one byte over its cap: refused as too large, not as malformed.
    let mut response = samples.timestamp.clone();
    response.resize(TIMESTAMP_SIZE_LIMIT + 1, 0);
    assert_eq!(
        timestamp::verify(
            &response,
            &samples.timestamp_signature,
            &samples.rekor2_root
        ),
        Err(TimestampError::TooLarge {
            size: TIMESTAMP_SIZE_LIMIT + 1
        })
    );

    // A trusted root padded to its cap parses; one byte more is refused.
    let mut root = PUBLIC_GOOD.to_vec();
    root.resize(TRUSTED_ROOT_SIZE_LIMIT, b' ');
    assert!(TrustedRoot::parse(&root).is_ok());
    root.push(b' ');
    let refused = bounded("TrustedRoot::parse", Duration::from_millis(500), || {
        TrustedRoot::parse(&root)
    });
    assert!(
        matches!(refused, Err(TrustedRootError::TooLarge { size }) if size == TRUSTED_ROOT_SIZE_LIMIT + 1)
    );
}

/// One well-formed v1 SCT from `log_id`, with its 2-byte length prefix.
fn sct_entry(log_id: &[u8]) -> Vec<u8> {
    let mut sct = vec![0u8];
    sct.extend(log_id);
    sct.extend(1_700_000_000_000u64.to_be_bytes());
    sct.extend([0, 0, 4, 3, 0, 2, 0xaa, 0xbb]);
    let mut out = (sct.len() as u16).to_be_bytes().to_vec();
    out.extend(sct);
    out
}

#[test]
fn sct_lists_are_read_up_to_32_entries() {
    let rig = &*SCT_RIG;
    for (count, too_many) in [(32, false), (33, true), (1000, true)] {
        let entries = sct_entry(&[7u8; 32]).repeat(count);
        let mut list = (entries.len() as u16).to_be_bytes().to_vec();
        list.extend(entries);
        let leaf = leaf_with_scts(&list);
        let result = bounded("verify_leaf", Duration::from_secs(5), || {
            verify_leaf(&leaf, &rig.root, &[rig.time])
        });
        match result {
            Err(CertificateError::Malformed { reason }) if reason == "too many SCTs" => {
                assert!(too_many, "{count} SCTs refused");
            }
            Err(CertificateError::Sct { reason }) => {
                assert!(!too_many, "{count} SCTs read: {reason}");
            }
            other => panic!("{count} SCTs: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SET OF in reverse order. The der crate sorts a decoded SET OF with an insertion sort: input in
// descending order costs n^2/2 comparisons. A SET OF of a few thousand small elements fits
// under the 64 KiB caps of certificates and timestamps.

/// A DER element (definite, minimal length).
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    match length {
        0..=0x7f => out.push(length as u8),
        0x80..=0xff => out.extend([0x81, length as u8]),
        0x100..=0xffff => out.extend([0x82, (length >> 8) as u8, length as u8]),
        _ => out.extend([
            0x83,
            (length >> 16) as u8,
            (length >> 8) as u8,
            length as u8,
        ]),
    }
    out.extend_from_slice(content);
    out
}

/// A SET OF `count` distinct elements made by `element`, in DER order or reversed.
fn set_of(count: usize, reversed: bool, element: impl Fn(usize) -> Vec<u8>) -> Vec<u8> {
    let mut indexes: Vec<usize> = (0..count).collect();
    if reversed {
        indexes.reverse();
    }
    tlv(
        0x31,
        &indexes.into_iter().flat_map(element).collect::<Vec<_>>(),
    )
}

/// Encodes `container` holding `ascending` (a DER-ordered SET OF), then swaps in the same
/// elements reversed: same length, so every enclosing length stays right.
fn with_reversed_set(encoded: &[u8], ascending: &[u8], reversed: &[u8]) -> Vec<u8> {
    let at = encoded
        .windows(ascending.len())
        .position(|window| window == ascending)
        .expect("the set is in the encoding");
    let mut out = encoded[..at].to_vec();
    out.extend_from_slice(reversed);
    out.extend_from_slice(&encoded[at + ascending.len()..]);
    out
}

/// The v0.3 leaf with a subject of one RDN holding `count` common names, in reverse order.
fn certificate_with_reversed_rdn(count: usize) -> Vec<u8> {
    let attribute = |index: usize| {
        let value = tlv(0x04, &[(index >> 8) as u8, index as u8]);
        tlv(0x30, &[tlv(0x06, &[0x55, 0x04, 0x03]), value].concat())
    };
    let ascending = set_of(count, false, attribute);
    let reversed = set_of(count, true, attribute);
    let mut leaf = x509_cert::Certificate::from_der(&SAMPLES.certificates[0]).expect("parses");
    leaf.tbs_certificate.subject =
        x509_cert::name::Name::from_der(&tlv(0x30, &ascending)).expect("a name");
    with_reversed_set(&leaf.to_der().expect("encodes"), &ascending, &reversed)
}

/// The Rekor v2 timestamp with `count` digest algorithms (unsigned: anyone can add them), in
/// reverse order.
fn timestamp_with_reversed_digest_algorithms(count: usize) -> Vec<u8> {
    let algorithm = |index: usize| {
        // 1.2.840.<index>: distinct OIDs of one length.
        let oid = [
            0x2a,
            0x86,
            0x48,
            0x80 | ((index >> 7) as u8 & 0x7f),
            (index & 0x7f) as u8,
        ];
        tlv(0x30, &tlv(0x06, &oid))
    };
    let ascending = set_of(count, false, algorithm);
    let reversed = set_of(count, true, algorithm);
    let mut response = x509_tsp::TimeStampResp::from_der(&SAMPLES.timestamp).expect("parses");
    let mut token = response.time_stamp_token.clone().expect("token");
    let mut signed =
        cms::signed_data::SignedData::from_der(&token.content.to_der().expect("encodes"))
            .expect("signed data");
    signed.digest_algorithms = der::asn1::SetOfVec::from_der(&ascending).expect("a set");
    token.content = der::Any::from_der(&signed.to_der().expect("encodes")).expect("any");
    response.time_stamp_token = Some(token);
    with_reversed_set(&response.to_der().expect("encodes"), &ascending, &reversed)
}

#[test]
fn reversed_sets_of_a_few_elements_are_accepted() {
    // What the bounded-time tests below build is valid: a few elements parse (and the timestamp, whose
    // digest algorithms are not signed, still verifies).
    assert!(Certificate::from_der(&certificate_with_reversed_rdn(20)).is_ok());
    let samples = &*SAMPLES;
    assert!(timestamp::verify(
        &timestamp_with_reversed_digest_algorithms(20),
        &samples.timestamp_signature,
        &samples.rekor2_root,
    )
    .is_ok());
}

#[test]
fn a_certificate_with_a_reversed_set_of_parses_in_bounded_time() {
    let der = certificate_with_reversed_rdn(2000);
    assert!(der.len() < CERTIFICATE_SIZE_LIMIT);
    let parsed = bounded("Certificate::from_der", Duration::from_secs(2), || {
        Certificate::from_der(&der)
    });
    let _ = parsed;
}

#[test]
fn a_timestamp_with_a_reversed_set_of_verifies_in_bounded_time() {
    let samples = &*SAMPLES;
    let response = timestamp_with_reversed_digest_algorithms(2000);
    assert!(response.len() < TIMESTAMP_SIZE_LIMIT);
    let _ = bounded("timestamp::verify", Duration::from_secs(2), || {
        timestamp::verify(
            &response,
            &samples.timestamp_signature,
            &samples.rekor2_root,
        )
    });
}
