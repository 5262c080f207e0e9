//! What the registry reads in a manifest it is given: its media type, what it names (blobs for an
//! image manifest, manifests for an index) and its subject; and the descriptor the referrers API
//! lists for it.

use cosign_core::digest::Digest;
use cosign_core::image::manifest::{
    media_types, Descriptor, ImageIndex, ImageManifest, ManifestError,
};

use crate::storage::ManifestRecord;

/// What a pushed manifest needs to be present before it is accepted.
#[derive(Debug)]
pub(crate) enum Dependencies {
    /// An image manifest: its config and layers.
    Blobs(Vec<Digest>),
    /// An index: its child manifests.
    Manifests(Vec<Digest>),
}

#[derive(Debug)]
pub(crate) struct ParsedManifest {
    pub(crate) record: ManifestRecord,
    pub(crate) dependencies: Dependencies,
}

/// Parses a manifest or index (size- and count-capped by the core's parsers).
pub(crate) fn parse(bytes: &[u8]) -> Result<ParsedManifest, ManifestError> {
    let media_type = cosign_core::image::manifest::sniff_media_type(bytes).unwrap_or_default();
    let size = bytes.len() as u64;
    if media_types::is_index(&media_type) {
        let index = ImageIndex::parse(bytes)?;
        Ok(ParsedManifest {
            record: ManifestRecord {
                media_type,
                size,
                subject: index.subject.map(|subject| subject.digest),
            },
            dependencies: Dependencies::Manifests(
                index
                    .manifests
                    .into_iter()
                    .map(|entry| entry.digest)
                    .collect(),
            ),
        })
    } else {
        let manifest = ImageManifest::parse(bytes)?;
        let blobs = std::iter::once(manifest.config)
            .chain(manifest.layers)
            .map(|descriptor| descriptor.digest)
            .collect();
        Ok(ParsedManifest {
            record: ManifestRecord {
                media_type,
                size,
                subject: manifest.subject.map(|subject| subject.digest),
            },
            dependencies: Dependencies::Blobs(blobs),
        })
    }
}

/// The index record of stored manifest bytes.
pub(crate) fn record(bytes: &[u8]) -> Result<ManifestRecord, ManifestError> {
    parse(bytes).map(|parsed| parsed.record)
}

/// The descriptor the referrers API lists for a manifest with a subject: its media type, size,
/// digest, artifact type (the config's media type when the manifest sets none, as the spec
/// says) and annotations.
pub(crate) fn referrer_descriptor(
    digest: Digest,
    record: &ManifestRecord,
    bytes: &[u8],
) -> Option<Descriptor> {
    let (artifact_type, annotations) = if media_types::is_index(&record.media_type) {
        let index = ImageIndex::parse(bytes).ok()?;
        (index.artifact_type, index.annotations)
    } else {
        let manifest = ImageManifest::parse(bytes).ok()?;
        let artifact_type = manifest.artifact_type.or(Some(manifest.config.media_type));
        (artifact_type, manifest.annotations)
    };
    Some(Descriptor {
        media_type: record.media_type.clone(),
        size: record.size,
        digest,
        urls: None,
        annotations,
        platform: None,
        artifact_type,
    })
}
