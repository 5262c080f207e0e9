//! cosign 3's image signatures as OCI 1.1 referrers: a manifest with an empty config whose one
//! layer is the Sigstore bundle and whose `subject` is the signed image, pushed by digest; and
//! the referrers fallback index kept under the tag `sha256-<hex>` for registries without the
//! referrers API.

use std::collections::BTreeMap;

use crate::digest::Digest;
use crate::image::manifest::{media_types, Descriptor, ImageIndex, ImageManifest};

/// The artifact type (and layer media type) of a v0.3 bundle.
pub const BUNDLE_ARTIFACT_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The prefix every bundle media type shares.
pub const BUNDLE_MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
pub const CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
pub const PREDICATE_TYPE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
pub const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";
/// The empty JSON object OCI uses as a config: `{}`.
pub const EMPTY_CONFIG: &[u8] = b"{}";
/// The most referrers we look at for one image.
pub const REFERRER_LIMIT: usize = 1000;

/// The tag of the referrers fallback index for `digest`: `sha256-<hex>`.
pub fn fallback_tag(digest: &Digest) -> String {
    digest.tag_form()
}

/// The referrer manifest for a bundle signing `subject`, as cosign 3 writes it; `created` is
/// the signing time as RFC 3339 UTC (`2026-11-25T16:34:43Z`).
pub fn bundle_referrer(
    bundle: &[u8],
    predicate_type: &str,
    subject: Descriptor,
    created: &str,
) -> ImageManifest {
    let annotations: BTreeMap<String, String> = [
        (CONTENT_ANNOTATION.to_owned(), "dsse-envelope".to_owned()),
        (
            PREDICATE_TYPE_ANNOTATION.to_owned(),
            predicate_type.to_owned(),
        ),
        (CREATED_ANNOTATION.to_owned(), created.to_owned()),
    ]
    .into_iter()
    .collect();
    ImageManifest {
        schema_version: 2,
        media_type: Some(media_types::OCI_MANIFEST.to_owned()),
        config: Descriptor {
            media_type: media_types::OCI_EMPTY.to_owned(),
            size: EMPTY_CONFIG.len() as u64,
            digest: Digest::sha256(EMPTY_CONFIG),
            urls: None,
            annotations: None,
            platform: None,
            artifact_type: Some(BUNDLE_ARTIFACT_TYPE.to_owned()),
        },
        layers: vec![Descriptor {
            media_type: BUNDLE_ARTIFACT_TYPE.to_owned(),
            size: bundle.len() as u64,
            digest: Digest::sha256(bundle),
            urls: None,
            annotations: None,
            platform: None,
            artifact_type: None,
        }],
        annotations: Some(annotations),
        subject: Some(subject),
        artifact_type: Some(BUNDLE_ARTIFACT_TYPE.to_owned()),
    }
}

/// The entry a referrer gets in a referrers index.
pub fn index_entry(manifest_bytes: &[u8], artifact_type: &str) -> Descriptor {
    Descriptor {
        media_type: media_types::OCI_MANIFEST.to_owned(),
        size: manifest_bytes.len() as u64,
        digest: Digest::sha256(manifest_bytes),
        urls: None,
        annotations: None,
        platform: None,
        artifact_type: Some(artifact_type.to_owned()),
    }
}

/// Adds `entry` to a fallback index (or a new one), kept sorted by digest as
/// go-containerregistry keeps it. `None` when the entry is already there.
pub fn add_to_fallback_index(
    existing: Option<&ImageIndex>,
    entry: Descriptor,
) -> Option<ImageIndex> {
    let mut manifests = existing
        .map(|index| index.manifests.clone())
        .unwrap_or_default();
    if manifests.iter().any(|known| known.digest == entry.digest) {
        return None;
    }
    manifests.push(entry);
    manifests.sort_by_key(|entry| entry.digest.to_string());
    Some(ImageIndex {
        schema_version: 2,
        media_type: Some(media_types::OCI_INDEX.to_owned()),
        manifests,
        annotations: existing.and_then(|index| index.annotations.clone()),
        subject: None,
        artifact_type: None,
    })
}

/// Whether a referrer manifest holds a Sigstore bundle cosign reads: exactly one layer, of a
/// bundle media type of version 0.3 or later. Returns that layer.
pub fn bundle_layer(manifest: &ImageManifest) -> Option<&Descriptor> {
    match manifest.layers.as_slice() {
        [layer]
            if layer.media_type.starts_with(BUNDLE_MEDIA_TYPE_PREFIX)
                && !layer.media_type.contains("version=0.1")
                && !layer.media_type.contains("version=0.2") =>
        {
            Some(layer)
        }
        _ => None,
    }
}

/// The kind of artifact a referrer is, for `tree`: its predicate type annotation, else its
/// artifact type.
pub fn referrer_kind(manifest: &ImageManifest) -> Option<String> {
    manifest
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(PREDICATE_TYPE_ANNOTATION).cloned())
        .or_else(|| manifest.artifact_type.clone())
        .or_else(|| manifest.config.artifact_type.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_referrer_cosign_3_writes() {
        // Captured from a registry after cosign 3.1 signed an image (bundle of 675 bytes).
        let expected = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"},"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","size":675,"digest":"sha256:d784b210eda8bcbcbcfeace4edb630efb1001a26d73764d9074409dd253832e1"}],"annotations":{"dev.sigstore.bundle.content":"dsse-envelope","dev.sigstore.bundle.predicateType":"https://sigstore.dev/cosign/sign/v1","org.opencontainers.image.created":"2026-11-25T16:34:43Z"},"subject":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":423,"digest":"sha256:5dcb2f7b45ae6fbd7194c9c3ca2ae38849ff0449622e8aec40a8247afffe6c46"},"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#;
        let parsed = ImageManifest::parse(expected.as_bytes()).expect("parses");
        let subject = parsed.subject.clone().expect("subject");
        let layer = bundle_layer(&parsed).expect("bundle layer").clone();
        let mut manifest = bundle_referrer(
            &[0u8; 675],
            crate::bundle::in_toto::COSIGN_SIGN_PREDICATE,
            subject,
            "2026-11-25T16:34:43Z",
        );
        manifest.layers[0].digest = layer.digest;
        assert_eq!(
            String::from_utf8(manifest.to_bytes()).expect("utf-8"),
            expected
        );
        assert_eq!(
            referrer_kind(&parsed).as_deref(),
            Some(crate::bundle::in_toto::COSIGN_SIGN_PREDICATE)
        );
    }

    #[test]
    fn fallback_index_is_sorted_and_never_duplicates() {
        let a = index_entry(b"manifest a", BUNDLE_ARTIFACT_TYPE);
        let b = index_entry(b"manifest b", BUNDLE_ARTIFACT_TYPE);
        let first = add_to_fallback_index(None, a.clone()).expect("new");
        let second = add_to_fallback_index(Some(&first), b.clone()).expect("added");
        let mut digests: Vec<String> = second
            .manifests
            .iter()
            .map(|entry| entry.digest.to_string())
            .collect();
        let sorted = {
            let mut copy = digests.clone();
            copy.sort();
            copy
        };
        assert_eq!(digests, sorted);
        assert!(add_to_fallback_index(Some(&second), a).is_none());
        digests.dedup();
        assert_eq!(digests.len(), 2);
        assert!(String::from_utf8(second.to_bytes()).expect("utf-8").starts_with(r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"#));
    }
}
