//! Sigstore bundles attached to an image as OCI 1.1 referrers (cosign 3's signatures and
//! attestations): listed through the referrers API or its fallback tag, each manifest and
//! bundle fetched in parallel, sizes capped, digests checked.

use cosign_core::bundle::BUNDLE_SIZE_LIMIT;
use cosign_core::digest::Digest;
use cosign_core::image::manifest::{media_types, ImageManifest};
use cosign_core::image::reference::Repository;
use cosign_core::image::referrer::{self, BUNDLE_MEDIA_TYPE_PREFIX, PREDICATE_TYPE_ANNOTATION};

use crate::client::{Access, RegistryClient};
use crate::error::RegistryError;
use crate::referrers::{self, ReferrersSource};

/// The predicate type cosign gives an image signature's bundle.
pub const SIGNATURE_PREDICATE_TYPE: &str = "https://sigstore.dev/cosign/sign/v1";

/// One bundle referrer of an image.
#[derive(Debug)]
pub struct AttachedBundle {
    /// The referrer manifest's digest.
    pub manifest_digest: Digest,
    /// The referrer manifest (`None` when it could not be read: the error is in `bundle`).
    pub manifest: Option<ImageManifest>,
    /// The bundle's bytes, or why they (or the manifest) could not be read.
    pub bundle: Result<Vec<u8>, RegistryError>,
}

impl AttachedBundle {
    /// Whether it is announced as an image signature (or announces nothing).
    pub fn is_signature(&self) -> bool {
        announces_signature(self.manifest.as_ref())
    }
}

impl BundleReferrer {
    /// Whether it is announced as an image signature (or announces nothing).
    pub fn is_signature(&self) -> bool {
        announces_signature(self.manifest.as_ref().ok())
    }
}

/// Whether a referrer manifest's predicate type annotation (`dev.sigstore.bundle.predicateType`)
/// says image signature, or is absent (an attestation's names its predicate).
fn announces_signature(manifest: Option<&ImageManifest>) -> bool {
    manifest
        .and_then(|manifest| manifest.annotations.as_ref())
        .and_then(|annotations| annotations.get(PREDICATE_TYPE_ANNOTATION))
        .is_none_or(|kind| kind == SIGNATURE_PREDICATE_TYPE)
}

/// A bundle referrer's manifest, without the bundle.
#[derive(Debug)]
pub struct BundleReferrer {
    pub manifest_digest: Digest,
    /// The manifest, or why it could not be read.
    pub manifest: Result<ImageManifest, RegistryError>,
}

/// The referrers of `digest` that may be Sigstore bundles (by their listed artifact type),
/// their manifests fetched in parallel; those whose manifest shows another kind of artifact
/// are left out. A registry error while listing is an error.
pub async fn bundle_referrers(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
    access: Access,
) -> Result<(Vec<BundleReferrer>, ReferrersSource), RegistryError> {
    let (listed, source) = referrers::with_manifests(client, repository, digest, access, |entry| {
        entry.artifact_type.as_deref().is_none_or(|kind| {
            kind.starts_with(BUNDLE_MEDIA_TYPE_PREFIX) || kind == media_types::OCI_EMPTY
        })
    })
    .await?;
    let found = listed
        .into_iter()
        .filter(|(_, manifest)| {
            manifest
                .as_ref()
                .map_or(true, |manifest| referrer::bundle_layer(manifest).is_some())
        })
        .map(|(entry, manifest)| BundleReferrer {
            manifest_digest: entry.digest,
            manifest,
        })
        .collect();
    Ok((found, source))
}

/// The bundle referrers of `digest` with their bundles, fetched in parallel (each capped at
/// the bundle size limit and checked against its digest).
pub async fn attached_bundles(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
    access: Access,
) -> Result<(Vec<AttachedBundle>, ReferrersSource), RegistryError> {
    let (found, source) = bundle_referrers(client, repository, digest, access).await?;
    let fetches = found.into_iter().map(|found| async move {
        let manifest = match found.manifest {
            Ok(manifest) => manifest,
            Err(error) => {
                return AttachedBundle {
                    manifest_digest: found.manifest_digest,
                    manifest: None,
                    bundle: Err(error),
                }
            }
        };
        let bundle = match referrer::bundle_layer(&manifest) {
            Some(layer) => {
                let limit = usize::try_from(layer.size)
                    .unwrap_or(usize::MAX)
                    .min(BUNDLE_SIZE_LIMIT);
                client
                    .get_blob(
                        repository.registry(),
                        repository.path(),
                        &layer.digest,
                        limit,
                        access,
                    )
                    .await
            }
            None => Ok(Vec::new()),
        };
        AttachedBundle {
            manifest_digest: found.manifest_digest,
            manifest: Some(manifest),
            bundle,
        }
    });
    Ok((futures::future::join_all(fetches).await, source))
}
