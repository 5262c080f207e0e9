//! Gathering the signatures offered for an image, in both formats, as the verifier takes them
//! ([`Candidate`]s): the layers of the legacy `.sig` image with their payloads, and the Sigstore
//! bundles among its OCI referrers (API or fallback tag), from a registry (both places asked at
//! once, every blob fetched in parallel, sizes capped, digests checked) or from an OCI layout
//! written by `cosign save`. `verify` (and later `verify-attestation` and the admission
//! webhook) use this one function.

use cosign_core::bundle::BUNDLE_SIZE_LIMIT;
use cosign_core::digest::Digest;
use cosign_core::image::legacy_signature::Attachment;
use cosign_core::image::manifest::ImageManifest;
use cosign_core::image::reference::Repository;
use cosign_core::image::referrer;
use cosign_core::verify::{Candidate, Unreadable};

use crate::client::{Access, RegistryClient};
use crate::error::RegistryError;
use crate::layout::{kinds, Layout, LayoutError};
use crate::signatures::{self, ATTACHMENT_SIZE_LIMIT};

/// Which formats to gather.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    /// The legacy attachment image: `.sig` (signatures) or `.att` (attestations); none if
    /// `None`.
    pub legacy: Option<Attachment>,
    /// Bundles attached as referrers.
    pub bundles: bool,
}

/// What each place gave: its candidates, or why it could not be read at all (a registry that
/// failed to answer is an error, never "no signatures").
#[derive(Debug)]
pub struct Gathered<E> {
    pub legacy: Result<Vec<Candidate>, E>,
    pub referrers: Result<Vec<Candidate>, E>,
}

/// The candidates of the image `digest` whose signatures live in `repository`.
pub async fn from_registry(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
    formats: Formats,
) -> Gathered<RegistryError> {
    let (legacy, referrers) = tokio::join!(
        async {
            match formats.legacy {
                Some(attachment) => {
                    legacy_from_registry(client, repository, digest, attachment).await
                }
                None => Ok(Vec::new()),
            }
        },
        async {
            if formats.bundles {
                bundles_from_registry(client, repository, digest).await
            } else {
                Ok(Vec::new())
            }
        }
    );
    Gathered { legacy, referrers }
}

async fn legacy_from_registry(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
    attachment: Attachment,
) -> Result<Vec<Candidate>, RegistryError> {
    let Some((_, manifest)) =
        signatures::fetch_attachment_manifest(client, repository, digest, attachment, Access::Pull)
            .await?
    else {
        return Ok(Vec::new());
    };
    let payloads = signatures::fetch_payloads(client, repository, &manifest.layers).await;
    Ok(manifest
        .layers
        .into_iter()
        .zip(payloads)
        .map(|(layer, payload)| Candidate::Legacy {
            layer: Box::new(layer),
            payload: payload.map_err(Unreadable::new),
        })
        .collect())
}

async fn bundles_from_registry(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
) -> Result<Vec<Candidate>, RegistryError> {
    let (bundles, _) =
        crate::bundles::attached_bundles(client, repository, digest, Access::Pull).await?;
    Ok(bundles
        .into_iter()
        .map(|attached| Candidate::Bundle {
            manifest_digest: attached.manifest_digest,
            bundle: attached.bundle.map_err(Unreadable::new),
        })
        .collect())
}

/// The candidates of the image a `cosign save` layout holds (`digest`): its signature image
/// and the bundles among the manifests whose subject is the image. No network.
pub fn from_layout(layout: &Layout, digest: &Digest, formats: Formats) -> Gathered<LayoutError> {
    let legacy = match formats.legacy {
        Some(attachment) => legacy_from_layout(layout, attachment),
        None => Ok(Vec::new()),
    };
    let referrers = if formats.bundles {
        bundles_from_layout(layout, digest)
    } else {
        Ok(Vec::new())
    };
    Gathered { legacy, referrers }
}

fn legacy_from_layout(
    layout: &Layout,
    attachment: Attachment,
) -> Result<Vec<Candidate>, LayoutError> {
    let kind = match attachment {
        Attachment::Signatures => kinds::SIGNATURES,
        Attachment::Attestations => kinds::ATTESTATIONS,
        // `cosign save` keeps no SBOM attachment.
        Attachment::Sboms => return Ok(Vec::new()),
    };
    let Some(entry) = layout.entry_of_kind(kind) else {
        return Ok(Vec::new());
    };
    let manifest = layout.read_manifest(entry)?;
    let parsed = ImageManifest::parse(&manifest.bytes).map_err(|source| LayoutError::Manifest {
        path: layout.blob_path(&entry.digest),
        source,
    })?;
    Ok(parsed
        .layers
        .into_iter()
        .map(|layer| {
            let payload = layout
                .read_blob(&layer.digest, layer.size.min(ATTACHMENT_SIZE_LIMIT as u64))
                .map_err(Unreadable::new);
            Candidate::Legacy {
                layer: Box::new(layer),
                payload,
            }
        })
        .collect())
}

fn bundles_from_layout(layout: &Layout, digest: &Digest) -> Result<Vec<Candidate>, LayoutError> {
    Ok(layout
        .referrers_of(digest)?
        .into_iter()
        .filter_map(|referrer| {
            let bundle = match ImageManifest::parse(&referrer.bytes) {
                Err(error) => Err(Unreadable::new(error)),
                Ok(manifest) => {
                    let layer = referrer::bundle_layer(&manifest)?;
                    layout
                        .read_blob(&layer.digest, layer.size.min(BUNDLE_SIZE_LIMIT as u64))
                        .map_err(Unreadable::new)
                }
            };
            Some(Candidate::Bundle {
                manifest_digest: referrer.digest,
                bundle,
            })
        })
        .collect())
}
