//! OCI 1.1 referrers: listing an image's referrers (the referrers API, or the fallback tag
//! `sha256-<hex>` where the registry has none) and adding one, without losing concurrent
//! writers' entries in the fallback index.

use std::time::Duration;

use cosign_core::digest::Digest;
use cosign_core::image::manifest::{media_types, Descriptor, ImageIndex, ImageManifest};
use cosign_core::image::reference::Repository;
use cosign_core::image::referrer::{self, REFERRER_LIMIT};
use reqwest::Method;

use crate::client::{Access, RegistryClient};
use crate::error::RegistryError;

/// How the registry keeps referrers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrersSource {
    /// The registry answers `GET /v2/<repo>/referrers/<digest>` and indexes them itself.
    Api,
    /// The fallback index under the tag `sha256-<hex>`.
    FallbackTag,
}

/// The referrers of `digest` (their descriptors, at most [`REFERRER_LIMIT`]), and where they
/// came from. A registry error (429, 5xx after retries) is an error, never "no referrers".
pub async fn list(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
    access: Access,
) -> Result<(Vec<Descriptor>, ReferrersSource), RegistryError> {
    let (listed, source, _) = list_with_fallback_index(client, repository, digest, access).await?;
    Ok((listed, source))
}

/// [`list`], with the fallback index as read when that is where the list came from (a push
/// appends to it without reading it again).
async fn list_with_fallback_index(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
    access: Access,
) -> Result<(Vec<Descriptor>, ReferrersSource, Option<ImageIndex>), RegistryError> {
    let (registry, path) = (repository.registry(), repository.path());
    let url = format!("/v2/{path}/referrers/{digest}");
    let accept = [("Accept", media_types::OCI_INDEX)];
    let tag = referrer::fallback_tag(digest);
    let fallback_only = |fallback: Option<crate::client::Manifest>| {
        let Some(manifest) = fallback else {
            return Ok((Vec::new(), ReferrersSource::FallbackTag, None));
        };
        let index = parse_index(&manifest.bytes, &format!("{repository}:{tag}"))?;
        Ok((
            capped(index.manifests.clone()),
            ReferrersSource::FallbackTag,
            Some(index),
        ))
    };
    // A push already found this registry has no API: the fallback tag alone.
    if access == Access::Push && client.lacks_referrers_api(registry) {
        return fallback_only(client.get_manifest(registry, path, &tag, access).await?);
    }
    // Both at once: the API, and the fallback tag in case the registry has no API (one round
    // trip instead of two on registries like distribution 2.8; one extra request elsewhere).
    let (api, fallback) = tokio::join!(
        client.send(
            registry,
            path,
            access,
            Method::GET,
            &url,
            &accept,
            None,
            cosign_core::image::manifest::MANIFEST_SIZE_LIMIT
        ),
        client.get_manifest(registry, path, &tag, access),
    );
    match api {
        Ok(fetched)
            if fetched
                .header("content-type")
                .is_some_and(|value| value.starts_with(media_types::OCI_INDEX)) =>
        {
            let index = parse_index(&fetched.body, &url)?;
            return Ok((capped(index.manifests), ReferrersSource::Api, None));
        }
        Ok(_) => {}
        // The subject of a push exists (it was just resolved): a 400/404/405 means no API.
        Err(error) if matches!(error.status(), Some(400 | 404 | 405)) => {
            if access == Access::Push {
                client.note_no_referrers_api(registry);
            }
        }
        Err(error) => return Err(error),
    }
    fallback_only(fallback?)
}

fn capped(mut manifests: Vec<Descriptor>) -> Vec<Descriptor> {
    manifests.truncate(REFERRER_LIMIT);
    manifests
}

fn parse_index(bytes: &[u8], url: &str) -> Result<ImageIndex, RegistryError> {
    ImageIndex::parse(bytes).map_err(|error| RegistryError::Protocol {
        url: url.to_owned(),
        reason: error.to_string(),
    })
}

/// The referrers of `digest` that `wanted` keeps (by their listed descriptor), each with its
/// manifest fetched in parallel (or why it could not be); and where the list came from.
/// `tree` takes them all; verification only those that may be Sigstore bundles.
pub async fn with_manifests(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
    access: Access,
    wanted: impl Fn(&Descriptor) -> bool,
) -> Result<
    (
        Vec<(Descriptor, Result<ImageManifest, RegistryError>)>,
        ReferrersSource,
    ),
    RegistryError,
> {
    let (entries, source) = list(client, repository, digest, access).await?;
    let fetches = entries
        .into_iter()
        .filter(|entry| wanted(entry))
        .map(|entry| async move {
            let manifest = fetch_manifest(client, repository, &entry.digest).await;
            (entry, manifest)
        });
    Ok((futures::future::join_all(fetches).await, source))
}

/// Fetches a referrer manifest by digest (capped, digest checked) and parses it.
pub async fn fetch_manifest(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
) -> Result<ImageManifest, RegistryError> {
    let manifest = client
        .get_manifest(
            repository.registry(),
            repository.path(),
            &digest.to_string(),
            Access::Pull,
        )
        .await?
        .ok_or_else(|| RegistryError::Protocol {
            url: format!("{repository}@{digest}"),
            reason: "referrer listed but not found".to_owned(),
        })?;
    ImageManifest::parse(&manifest.bytes).map_err(|error| RegistryError::Protocol {
        url: format!("{repository}@{digest}"),
        reason: error.to_string(),
    })
}

/// How to record a new referrer (cosign's `--registry-referrers-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrersMode {
    /// Use the referrers API where the registry has it, else the fallback tag.
    Auto,
    /// Always maintain the fallback tag (`legacy`).
    FallbackTag,
    /// Require the registry's referrers API (`oci-1-1`).
    Api,
}

/// Pushes a referrer: its blobs, the manifest by digest, then, unless the registry keeps
/// referrers itself, the fallback index, read back and re-appended if a concurrent writer
/// dropped our entry.
pub async fn push(
    client: &RegistryClient,
    repository: &Repository,
    subject: &Digest,
    blobs: &[&[u8]],
    manifest: &ImageManifest,
    mode: ReferrersMode,
) -> Result<Digest, RegistryError> {
    let (registry, path) = (repository.registry(), repository.path());
    for blob in blobs {
        client.upload_blob(registry, path, blob).await?;
    }
    let bytes = manifest.to_bytes();
    let digest = Digest::sha256(&bytes);
    client
        .put_manifest(
            registry,
            path,
            &digest.to_string(),
            bytes.clone(),
            media_types::OCI_MANIFEST,
        )
        .await?;
    let artifact_type = manifest
        .artifact_type
        .clone()
        .unwrap_or_else(|| manifest.config.media_type.clone());
    record(client, repository, subject, &bytes, &artifact_type, mode).await?;
    Ok(digest)
}

/// Makes a referrer manifest already pushed by digest findable: nothing more where the
/// registry keeps referrers itself (unless `mode` asks for the fallback tag), else an entry in
/// the fallback index, read back and re-appended if a concurrent writer dropped it.
pub async fn record(
    client: &RegistryClient,
    repository: &Repository,
    subject: &Digest,
    bytes: &[u8],
    artifact_type: &str,
    mode: ReferrersMode,
) -> Result<(), RegistryError> {
    let (registry, path) = (repository.registry(), repository.path());
    let digest = Digest::sha256(bytes);
    let (listed, source, mut read) =
        list_with_fallback_index(client, repository, subject, Access::Push).await?;
    match (mode, source) {
        (ReferrersMode::Api, ReferrersSource::FallbackTag) => {
            return Err(RegistryError::Protocol {
                url: format!("{repository}/referrers/{subject}"),
                reason: "the registry has no referrers API (--registry-referrers-mode=oci-1-1 requires one)".to_owned(),
            })
        }
        (ReferrersMode::Auto | ReferrersMode::Api, ReferrersSource::Api) => return Ok(()),
        _ => {}
    }
    if source == ReferrersSource::FallbackTag && listed.iter().any(|entry| entry.digest == digest) {
        return Ok(());
    }
    let entry = referrer::index_entry(bytes, artifact_type);
    let tag = referrer::fallback_tag(subject);
    for attempt in 0..12u64 {
        let started = std::time::Instant::now();
        // The index as the listing read it, the first time; afresh after that.
        let existing = match (attempt, read.take()) {
            (0, read) => read,
            _ => client
                .get_manifest(registry, path, &tag, Access::Push)
                .await?
                .map(|manifest| parse_index(&manifest.bytes, &tag))
                .transpose()?,
        };
        if let Some(index) = referrer::add_to_fallback_index(existing.as_ref(), entry.clone()) {
            match client
                .put_manifest(
                    registry,
                    path,
                    &tag,
                    index.to_bytes(),
                    media_types::OCI_INDEX,
                )
                .await
            {
                Ok(()) => {}
                Err(error) if crate::signatures::is_blob_race(&error) => {
                    tokio::time::sleep(Duration::from_millis(20 * (attempt + 1))).await;
                    continue;
                }
                Err(error) => return Err(error),
            }
        }
        // Read back once a concurrent writer that read before us would have written.
        tokio::time::sleep(crate::signatures::settle_time(started.elapsed())).await;
        let confirmed = client
            .get_manifest(registry, path, &tag, Access::Push)
            .await?
            .map(|manifest| parse_index(&manifest.bytes, &tag))
            .transpose()?
            .is_some_and(|index| index.manifests.iter().any(|known| known.digest == digest));
        if confirmed {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20 * (attempt + 1))).await;
    }
    Err(RegistryError::Protocol {
        url: format!("{repository}:{tag}"),
        reason: "the referrers index kept being overwritten by concurrent writers".to_owned(),
    })
}

/// What [`forget`] did to the fallback index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forgotten {
    /// No fallback index, or none of the entries was in it.
    Nothing,
    /// The index kept other entries and was written back without these.
    Rewritten,
    /// The index held nothing else and was deleted; its digest.
    Deleted(Digest),
}

/// Takes `removed` out of `subject`'s fallback index: the index is written back without them,
/// or deleted when nothing else is left (so another tool's referrers listed there survive a
/// `clean`).
pub async fn forget(
    client: &RegistryClient,
    repository: &Repository,
    subject: &Digest,
    removed: &[Digest],
) -> Result<Forgotten, RegistryError> {
    let (registry, path) = (repository.registry(), repository.path());
    let tag = referrer::fallback_tag(subject);
    let Some(manifest) = client
        .get_manifest(registry, path, &tag, Access::Push)
        .await?
    else {
        return Ok(Forgotten::Nothing);
    };
    let mut index = parse_index(&manifest.bytes, &tag)?;
    let before = index.manifests.len();
    index
        .manifests
        .retain(|entry| !removed.contains(&entry.digest));
    if index.manifests.len() == before {
        return Ok(Forgotten::Nothing);
    }
    if !index.manifests.is_empty() {
        client
            .put_manifest(
                registry,
                path,
                &tag,
                index.to_bytes(),
                media_types::OCI_INDEX,
            )
            .await?;
        return Ok(Forgotten::Rewritten);
    }
    // Distribution refuses deletes by tag: delete the index by its digest.
    let digest = manifest.digest.clone();
    match client
        .delete_manifest(registry, path, &digest.to_string())
        .await
    {
        Ok(()) => Ok(Forgotten::Deleted(digest)),
        Err(error) if error.is_not_found() => Ok(Forgotten::Nothing),
        Err(error) => Err(error),
    }
}
