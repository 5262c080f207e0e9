//! What comes from a registry or a user naming one: OCI manifests and indexes (and media type
//! sniffing), digests, image references, platforms, simple-signing payloads and cosign's
//! legacy signature layers and their annotations.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{json, Value};

use super::mutate::{bounded, config, fixtures, json_ish_bytes, mutated_bytes, mutated_json};
use crate::digest::{hex_encode, Digest};
use crate::image::legacy_signature::{
    check_payload_claims, keyless_bundle, verify_layer, LayerCheck, RekorBundle, BUNDLE_ANNOTATION,
    CERTIFICATE_ANNOTATION, RFC3161_TIMESTAMP_ANNOTATION, SIGNATURE_ANNOTATION,
};
use crate::image::manifest::{
    media_types, sniff_media_type, Descriptor, ImageIndex, ImageManifest, ManifestError, Platform,
    INDEX_ENTRY_LIMIT, LAYER_COUNT_LIMIT, MANIFEST_SIZE_LIMIT,
};
use crate::image::reference::{ImageReference, Repository};
use crate::image::referrer::{bundle_layer, referrer_kind};
use crate::image::simple_signing::{payload, SimpleSigningPayload};
use crate::keys::PrivateKey;

const DIGEST: &str = "sha256:51b341f6f4803cc5bc7f0c2c5f4cd8846055607ef02cbfb2591d5fa34e4d4345";

/// A real cosign signature manifest (from the manifest tests).
const SIGNATURE_MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"digest":"sha256:1c122a7c2e587157569bd5c2a533c99c9e46177aad5a98ef13df3b2bc8f85bdd"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":240,"digest":"sha256:51b341f6f4803cc5bc7f0c2c5f4cd8846055607ef02cbfb2591d5fa34e4d4345","annotations":{"dev.cosignproject.cosign/signature":"MEYCIQCka5XWjozXfUCUAwWDwnGwkRKb+q6QMDanmlgU9tuSIgIhALUwbQny9xQwpFh8Esm6M2TGDYvtjglZTnUlv5W8Hx38"}}]}"#;

/// The referrer cosign 3.1 wrote (from the referrer tests).
const REFERRER_MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"},"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","size":675,"digest":"sha256:d784b210eda8bcbcbcfeace4edb630efb1001a26d73764d9074409dd253832e1"}],"annotations":{"dev.sigstore.bundle.content":"dsse-envelope","dev.sigstore.bundle.predicateType":"https://sigstore.dev/cosign/sign/v1","org.opencontainers.image.created":"2026-11-25T16:34:43Z"},"subject":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":423,"digest":"sha256:5dcb2f7b45ae6fbd7194c9c3ca2ae38849ff0449622e8aec40a8247afffe6c46"},"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#;

/// A multi-platform index with every optional field.
static INDEX: LazyLock<String> = LazyLock::new(|| {
    json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_INDEX,
        "manifests": [
            {"mediaType": media_types::OCI_MANIFEST, "size": 7143, "digest": DIGEST,
             "platform": {"architecture": "arm64", "os": "linux", "variant": "v8",
                          "os.version": "10.0", "os.features": ["sse4"]},
             "annotations": {"a": "b"}, "urls": ["https://example.com/blob"]},
            {"mediaType": media_types::DOCKER_MANIFEST, "size": 1, "digest":
             "sha512:".to_owned() + &"ab".repeat(64), "artifactType": "x"},
        ],
        "annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"},
        "subject": {"mediaType": media_types::OCI_MANIFEST, "size": 1, "digest": DIGEST},
        "artifactType": "application/vnd.example",
    })
    .to_string()
});

fn documents() -> [&'static [u8]; 3] {
    [
        SIGNATURE_MANIFEST.as_bytes(),
        REFERRER_MANIFEST.as_bytes(),
        INDEX.as_bytes(),
    ]
}

fn mutated_manifest() -> impl Strategy<Value = Vec<u8>> {
    (0..3usize).prop_flat_map(|index| mutated_json(documents()[index]))
}

/// Every manifest reader on the same bytes, and the invariants of what they accept.
fn parse_manifest_every_way(input: &[u8]) -> Result<(), TestCaseError> {
    let _ = sniff_media_type(input);
    if let Ok(manifest) = ImageManifest::parse(input) {
        prop_assert!(manifest.layers.len() <= LAYER_COUNT_LIMIT);
        let _ = bundle_layer(&manifest);
        let _ = referrer_kind(&manifest);
        let again = ImageManifest::parse(&manifest.to_bytes());
        prop_assert!(
            again.is_ok_and(|again| again == manifest),
            "written manifests read back"
        );
    }
    if let Ok(index) = ImageIndex::parse(input) {
        prop_assert!(index.manifests.len() <= INDEX_ENTRY_LIMIT);
        let again = ImageIndex::parse(&index.to_bytes());
        prop_assert!(
            again.is_ok_and(|again| again == index),
            "written indexes read back"
        );
    }
    Ok(())
}

/// Image references built from parts that are each valid or nearly so.
fn reference_like() -> impl Strategy<Value = String> {
    let registry = prop_oneof![
        Just(String::new()),
        Just("docker.io/".to_owned()),
        Just("localhost/".to_owned()),
        Just("localhost:5000/".to_owned()),
        Just("127.0.0.1:65536/".to_owned()),
        Just("[::1]:5000/".to_owned()),
        "[a-z0-9.:-]{1,20}/",
    ];
    let path = "[a-z0-9._/-]{0,40}";
    let tag = prop_oneof![
        Just(String::new()),
        "(:[A-Za-z0-9_.-]{0,130})",
        Just(":".to_owned()),
    ];
    let digest = prop_oneof![
        Just(String::new()),
        Just(format!("@{DIGEST}")),
        Just("@sha512:".to_owned() + &"0".repeat(128)),
        "@[a-z0-9]{0,8}:[0-9a-fA-F]{0,70}",
    ];
    (registry, path, tag, digest)
        .prop_map(|(registry, path, tag, digest)| format!("{registry}{path}{tag}{digest}"))
}

/// Digest strings: valid ones of each algorithm, with byte edits.
fn digest_like() -> impl Strategy<Value = String> {
    let samples = [
        DIGEST.to_owned(),
        "sha384:".to_owned() + &"0a".repeat(48),
        "sha512:".to_owned() + &"f0".repeat(64),
    ];
    (0..samples.len()).prop_flat_map(move |index| {
        mutated_bytes(samples[index].clone().into_bytes(), 3)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    })
}

proptest! {
    #![proptest_config(config(256))]

    /// Manifest, index and media type sniffing, arbitrary and JSON-ish bytes.
    #[test]
    fn manifest_parsers_survive_arbitrary_bytes(input in json_ish_bytes()) {
        parse_manifest_every_way(&input)?;
    }

    /// The same on JSON-aware mutations of a signature manifest, a referrer and an index
    /// (`"size": 18446744073709551616`, negative sizes, bad digests, layers repeated past the
    /// cap, duplicate fields): no panic; what is accepted stays under its caps and is written
    /// back to something that reads the same.
    #[test]
    fn manifest_parsers_survive_mutated_documents(input in mutated_manifest()) {
        bounded("manifest parsers", Duration::from_secs(5), || parse_manifest_every_way(&input))?;
    }

    /// `Digest::from_str` on arbitrary strings and edited digests: what parses prints back
    /// exactly as it was written, its bytes half its hex.
    #[test]
    fn digest_parse_survives_any_string(input in prop_oneof![".{0,140}", digest_like()]) {
        if let Ok(digest) = input.parse::<Digest>() {
            prop_assert_eq!(digest.to_string(), input);
            prop_assert_eq!(digest.bytes().len() * 2, digest.hex().len());
        }
    }

    /// `ImageReference::from_str` and `Repository::parse` on arbitrary strings and on
    /// near-references: what parses normalizes to a name that parses to the same reference.
    #[test]
    fn reference_parse_survives_any_string(input in prop_oneof![".{0,80}", reference_like()]) {
        let _ = Repository::parse(&input);
        if let Ok(reference) = input.parse::<ImageReference>() {
            let again = reference.name().parse::<ImageReference>();
            prop_assert_eq!(again.as_ref().ok(), Some(&reference), "{:?} -> {}", input, reference.name());
            let _ = reference.identifier();
        }
    }

    /// `Platform::parse` on arbitrary strings.
    #[test]
    fn platform_parse_survives_any_string(input in prop_oneof![".{0,40}", "[a-z0-9/:]{0,30}"]) {
        if let Ok(platform) = Platform::parse(&input) {
            let _ = platform.to_string();
            let _ = platform.selects(&platform);
        }
    }

    /// Simple-signing payloads: arbitrary bytes, and mutations of what cosign writes; the
    /// claim check runs on whatever parses.
    #[test]
    fn simple_signing_survives_any_payload(
        raw in json_ish_bytes(),
        mutated in mutated_json(&simple_signing_sample()),
    ) {
        let digest = Digest::sha256(b"image");
        let wanted: BTreeMap<String, String> = [("team".to_owned(), "blue".to_owned())].into_iter().collect();
        for input in [&raw, &mutated] {
            if let Ok(parsed) = SimpleSigningPayload::parse(input) {
                let _ = parsed.has_annotations(&wanted);
            }
            let _ = check_payload_claims(input, &digest, Some(&wanted), true);
        }
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// `RekorBundle::parse` (the `dev.sigstore.cosign/bundle` annotation) on arbitrary text
    /// and on JSON-aware mutations of a real one (body edits inside the base64, huge times and
    /// indexes, odd-length and non-hex log ids).
    #[test]
    fn rekor_bundle_annotation_survives_mutation(
        raw in ".{0,200}",
        mutated in mutated_json(LEGACY.rekor_bundle.as_bytes()),
    ) {
        let _ = RekorBundle::parse(&raw);
        let _ = RekorBundle::parse(&String::from_utf8_lossy(&mutated));
    }

    /// A keyless legacy signature layer (certificate, Rekor bundle and RFC 3161 annotations)
    /// with its descriptor mutated: `keyless_bundle` and `verify_layer` never panic, and a
    /// bundle they build survives writing and parsing.
    #[test]
    fn legacy_signature_layers_survive_mutation(descriptor in mutated_json(&LEGACY.layer)) {
        let Ok(layer) = serde_json::from_slice::<Descriptor>(&descriptor) else {
            return Ok(());
        };
        if let Ok(bundle) = keyless_bundle(&layer, &LEGACY.payload, None) {
            let _ = crate::bundle::Bundle::parse(&bundle.to_json());
        }
        let key = LEGACY.key.public_key();
        let check = LayerCheck {
            key: &key,
            image_digest: &LEGACY.image,
            annotations: None,
            check_claims: true,
        };
        let _ = verify_layer(&layer, &LEGACY.payload, check);
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// Manifests are accepted up to 1000 layers and refused past that.
    #[test]
    fn manifest_layer_cap_holds(count in LAYER_COUNT_LIMIT - 10..LAYER_COUNT_LIMIT + 10) {
        let parsed = ImageManifest::parse(manifest_with_layers(count).as_bytes());
        prop_assert_eq!(parsed.is_ok(), count <= LAYER_COUNT_LIMIT);
    }
}

fn simple_signing_sample() -> Vec<u8> {
    let annotations: BTreeMap<String, String> = [("team".to_owned(), "blue".to_owned())]
        .into_iter()
        .collect();
    payload("reg/repo", &Digest::sha256(b"image"), &annotations)
}

fn manifest_with_layers(count: usize) -> String {
    let layer = format!(r#"{{"mediaType":"x","size":1,"digest":"{DIGEST}"}}"#);
    let layers = vec![layer.as_str(); count].join(",");
    format!(
        r#"{{"schemaVersion":2,"config":{{"mediaType":"x","size":1,"digest":"{DIGEST}"}},"layers":[{layers}]}}"#
    )
}

/// A keyless legacy signature layer built from the v0.1 fixture: its certificate, its log
/// entry as cosign's bundle annotation, and the managed-key fixture's RFC 3161 timestamp.
struct Legacy {
    payload: Vec<u8>,
    image: Digest,
    key: PrivateKey,
    rekor_bundle: String,
    /// The layer's descriptor, as JSON.
    layer: Vec<u8>,
}

static LEGACY: LazyLock<Legacy> = LazyLock::new(|| {
    let engine = base64::engine::general_purpose::STANDARD;
    let bundle: Value = serde_json::from_slice(fixtures::KEYLESS_V0_1_BUNDLE).expect("JSON");
    let material = &bundle["verificationMaterial"];
    let certificate = engine
        .decode(
            material["x509CertificateChain"]["certificates"][0]["rawBytes"]
                .as_str()
                .expect("certificate"),
        )
        .expect("base64");
    let entry = &material["tlogEntries"][0];
    let log_id = engine
        .decode(entry["logId"]["keyId"].as_str().expect("log id"))
        .expect("base64");
    let number = |value: &Value| value.as_str().expect("int64").parse::<i64>().expect("int");
    let rekor_bundle = json!({
        "SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
        "Payload": {
            "body": entry["canonicalizedBody"],
            "integratedTime": number(&entry["integratedTime"]),
            "logIndex": number(&entry["logIndex"]),
            "logID": hex_encode(&log_id),
        },
    })
    .to_string();
    let managed: Value = serde_json::from_slice(fixtures::MANAGED_KEY_BUNDLE).expect("JSON");
    let stamp = &managed["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
        [0]["signedTimestamp"];
    let image = Digest::sha256(b"image");
    let payload = payload("reg/repo", &image, &BTreeMap::new());
    let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
    let signature = key.sign(&payload).expect("signs");
    let layer = json!({
        "mediaType": media_types::SIMPLE_SIGNING,
        "size": payload.len(),
        "digest": Digest::sha256(&payload).to_string(),
        "annotations": {
            SIGNATURE_ANNOTATION: engine.encode(signature),
            CERTIFICATE_ANNOTATION: crate::pem::encode("CERTIFICATE", &certificate),
            BUNDLE_ANNOTATION: rekor_bundle,
            RFC3161_TIMESTAMP_ANNOTATION: json!({"SignedRFC3161Timestamp": stamp}).to_string(),
        },
    })
    .to_string()
    .into_bytes();
    Legacy {
        payload,
        image,
        key,
        rekor_bundle,
        layer,
    }
});

/// cosign's `dev.sigstore.cosign/bundle` annotation for the v0.1 fixture's log entry.
pub(super) fn rekor_bundle_annotation() -> &'static str {
    &LEGACY.rekor_bundle
}

#[test]
fn the_samples_are_valid() {
    for document in documents() {
        parse_manifest_every_way(document).expect("valid");
        assert!(sniff_media_type(document).is_some());
    }
    assert!(ImageManifest::parse(SIGNATURE_MANIFEST.as_bytes()).is_ok());
    assert!(ImageIndex::parse(INDEX.as_bytes()).is_ok());
    assert!(SimpleSigningPayload::parse(&simple_signing_sample()).is_ok());
    assert!(RekorBundle::parse(&LEGACY.rekor_bundle).is_ok());
    let layer: Descriptor = serde_json::from_slice(&LEGACY.layer).expect("descriptor");
    let bundle = keyless_bundle(&layer, &LEGACY.payload, None).expect("the layer is a bundle");
    assert_eq!(bundle.verification_material.tlog_entries.len(), 1);
    assert!(bundle
        .verification_material
        .timestamp_verification_data
        .is_some());
    let key = LEGACY.key.public_key();
    verify_layer(
        &layer,
        &LEGACY.payload,
        LayerCheck {
            key: &key,
            image_digest: &LEGACY.image,
            annotations: None,
            check_claims: true,
        },
    )
    .expect("the layer verifies");
}

/// A valid document padded with JSON white space to `size` bytes.
fn padded(document: &str, size: usize) -> Vec<u8> {
    let mut out = document.as_bytes().to_vec();
    out.resize(size, b' ');
    out
}

#[test]
fn manifests_over_the_cap_are_refused_before_parsing() {
    assert!(ImageManifest::parse(&padded(SIGNATURE_MANIFEST, MANIFEST_SIZE_LIMIT)).is_ok());
    assert!(ImageIndex::parse(&padded(&INDEX, MANIFEST_SIZE_LIMIT)).is_ok());
    let manifest = padded(SIGNATURE_MANIFEST, MANIFEST_SIZE_LIMIT + 1);
    let index = padded(&INDEX, MANIFEST_SIZE_LIMIT + 1);
    let (manifest, index) = bounded("manifest parsers", Duration::from_millis(500), || {
        (ImageManifest::parse(&manifest), ImageIndex::parse(&index))
    });
    assert!(
        matches!(manifest, Err(ManifestError::TooLarge { size, limit })
        if size == MANIFEST_SIZE_LIMIT + 1 && limit == MANIFEST_SIZE_LIMIT)
    );
    assert!(matches!(index, Err(ManifestError::TooLarge { .. })));
}

#[test]
fn stuffed_manifests_and_indexes_are_refused_in_bounded_time_and_memory() {
    // As many layers as fit under the 4 MiB cap (some 46 000), and an index of 10 001 entries.
    let layer_len = manifest_with_layers(2).len() - manifest_with_layers(1).len();
    let count = (MANIFEST_SIZE_LIMIT - 200) / layer_len;
    let manifest = manifest_with_layers(count);
    assert!(manifest.len() <= MANIFEST_SIZE_LIMIT);
    let parsed = bounded("ImageManifest::parse", Duration::from_secs(30), || {
        ImageManifest::parse(manifest.as_bytes())
    });
    assert!(
        matches!(parsed, Err(ManifestError::TooManyLayers { count: found, .. }) if found == count)
    );
    let entry = format!(r#"{{"mediaType":"x","size":1,"digest":"{DIGEST}"}}"#);
    let index = |count: usize| {
        format!(
            r#"{{"schemaVersion":2,"manifests":[{}]}}"#,
            vec![entry.as_str(); count].join(",")
        )
    };
    assert!(ImageIndex::parse(index(INDEX_ENTRY_LIMIT).as_bytes()).is_ok());
    let over = index(INDEX_ENTRY_LIMIT + 1);
    let parsed = bounded("ImageIndex::parse", Duration::from_secs(30), || {
        ImageIndex::parse(over.as_bytes())
    });
    assert!(matches!(parsed, Err(ManifestError::TooManyEntries { .. })));
}

#[test]
fn a_legacy_layer_with_a_huge_certificate_annotation_is_read_in_bounded_time() {
    let mut layer: Descriptor = serde_json::from_slice(&LEGACY.layer).expect("descriptor");
    layer.annotations.get_or_insert_with(BTreeMap::new).insert(
        CERTIFICATE_ANNOTATION.to_owned(),
        super::keys::unclosed_begin_lines(512 * 1024),
    );
    let result = bounded("keyless_bundle", Duration::from_secs(5), || {
        keyless_bundle(&layer, &LEGACY.payload, None)
    });
    assert!(result.is_err());
}
