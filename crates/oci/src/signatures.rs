//! Where cosign keeps legacy signatures in a registry (`<repo>:sha256-<hex>.sig`, or in
//! `COSIGN_REPOSITORY`), reading them with the fewest round trips and appending to them
//! without losing concurrent signers' work.

use std::time::Duration;

use cosign_core::digest::Digest;
use cosign_core::image::legacy_signature::{self, Attachment, ManifestFlavor, SignatureImage};
use cosign_core::image::manifest::{Descriptor, ImageManifest};
use cosign_core::image::reference::{ImageReference, Repository, Target};

use crate::client::{Access, Manifest, RegistryClient};
use crate::error::RegistryError;

/// The largest signature payload we read (cosign's `COSIGN_MAX_ATTACHMENT_SIZE` default).
pub const ATTACHMENT_SIZE_LIMIT: usize = 128 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("image tag not found: {source}")]
    TagNotFound { source: RegistryError },
    #[error("{source}")]
    Registry {
        #[from]
        source: RegistryError,
    },
}

/// The digest a reference stands for: its own for a digest reference; for a tag, the SHA-256
/// of the manifest bytes fetched (one `GET`, as many round trips as a `HEAD`), never the
/// registry's `Docker-Content-Digest` word, so a registry cannot make us verify one image and
/// report another.
pub async fn resolve_digest(
    client: &RegistryClient,
    reference: &ImageReference,
    access: Access,
) -> Result<Digest, ResolveError> {
    match reference.target() {
        Target::Digest(digest) => Ok(digest.clone()),
        Target::Tag(_) => fetch_manifest(client, reference, access)
            .await
            .map(|manifest| manifest.digest),
    }
}

/// A `GET` on the tag, to report the registry's own error text for a missing tag (as cosign
/// does), since a `HEAD` answer has no body.
async fn not_found_error(
    client: &RegistryClient,
    reference: &ImageReference,
    access: Access,
) -> RegistryError {
    let repository = reference.repository();
    let path = format!(
        "/v2/{}/manifests/{}",
        repository.path(),
        reference.identifier()
    );
    match client
        .send(
            repository.registry(),
            repository.path(),
            access,
            reqwest::Method::GET,
            &path,
            &[],
            None,
            64 * 1024,
        )
        .await
    {
        Err(error) => error,
        Ok(_) => RegistryError::Protocol {
            url: path,
            reason: "manifest appeared between HEAD and GET".to_owned(),
        },
    }
}

/// Fetches the manifest a reference names, with its exact bytes (digest checked for digest
/// references). A missing tag is [`ResolveError::TagNotFound`].
pub async fn fetch_manifest(
    client: &RegistryClient,
    reference: &ImageReference,
    access: Access,
) -> Result<Manifest, ResolveError> {
    let repository = reference.repository();
    match client
        .get_manifest(
            repository.registry(),
            repository.path(),
            &reference.identifier(),
            access,
        )
        .await?
    {
        Some(manifest) => Ok(manifest),
        None => Err(ResolveError::TagNotFound {
            source: not_found_error(client, reference, access).await,
        }),
    }
}

/// The signature image of `digest` in `repository`, if there is one.
pub async fn fetch_signature_manifest(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
    access: Access,
) -> Result<Option<(Manifest, ImageManifest)>, RegistryError> {
    fetch_attachment_manifest(client, repository, digest, Attachment::Signatures, access).await
}

/// The legacy attachment image (`.sig`, `.att`, `.sbom`) of `digest`, if there is one.
pub async fn fetch_attachment_manifest(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
    attachment: Attachment,
    access: Access,
) -> Result<Option<(Manifest, ImageManifest)>, RegistryError> {
    let tag = attachment.tag(digest);
    let Some(manifest) = client
        .get_manifest(repository.registry(), repository.path(), &tag, access)
        .await?
    else {
        return Ok(None);
    };
    let parsed =
        ImageManifest::parse(&manifest.bytes).map_err(|error| RegistryError::Protocol {
            url: format!("{repository}:{tag}"),
            reason: error.to_string(),
        })?;
    Ok(Some((manifest, parsed)))
}

/// Fetches every layer's payload at once; each result is that layer's bytes or its error.
pub async fn fetch_payloads(
    client: &RegistryClient,
    repository: &Repository,
    layers: &[Descriptor],
) -> Vec<Result<Vec<u8>, RegistryError>> {
    let fetches = layers.iter().map(|layer| async move {
        if layer.size > ATTACHMENT_SIZE_LIMIT as u64 {
            return Err(RegistryError::TooLarge {
                url: format!("{repository}@{}", layer.digest),
                limit: ATTACHMENT_SIZE_LIMIT,
            });
        }
        let limit = usize::try_from(layer.size)
            .unwrap_or(ATTACHMENT_SIZE_LIMIT)
            .min(ATTACHMENT_SIZE_LIMIT);
        client
            .get_blob(
                repository.registry(),
                repository.path(),
                &layer.digest,
                limit,
                Access::Pull,
            )
            .await
    });
    futures::future::join_all(fetches).await
}

/// Writes the legacy attachment image of `digest` (`.sbom`, as `cosign attach sbom` does) as
/// one layer holding `payload`, replacing whatever the tag held.
pub async fn put_attachment_image(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
    attachment: Attachment,
    payload: &[u8],
    layer: Descriptor,
) -> Result<(), AppendError> {
    client
        .upload_blob(repository.registry(), repository.path(), payload)
        .await?;
    let image = legacy_signature::append_signature(
        None,
        layer,
        legacy_signature::ManifestFlavor::Oci,
        |_| false,
    )?
    .ok_or(AppendError::Contended { attempts: 0 })?;
    push_signature_image(client, repository, &attachment.tag(digest), &image, false).await?;
    Ok(())
}

/// What happened when adding a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    Added,
    AlreadyPresent,
}

/// How many times a signer re-reads and re-appends when a concurrent signer overwrote its
/// signature.
const APPEND_ATTEMPTS: u32 = 12;

/// How a layer joins a legacy attachment image.
#[derive(Clone, Copy)]
pub struct LegacyAppend<'a> {
    /// `.sig` or `.att`.
    pub attachment: Attachment,
    pub flavor: ManifestFlavor,
    /// Whether an existing layer is the same as ours (then nothing is added).
    pub is_duplicate: &'a (dyn Fn(&Descriptor) -> bool + Sync),
    /// Whether an existing layer is replaced by ours (cosign's `attest --replace`).
    pub replaces: &'a (dyn Fn(&Descriptor) -> bool + Sync),
}

impl std::fmt::Debug for LegacyAppend<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LegacyAppend({:?})", self.attachment)
    }
}

/// Adds a layer to the legacy attachment image of `digest` (the `.sig` image by default),
/// read-modify-write, then reads the tag back and appends again if a concurrent writer's
/// write dropped ours.
pub async fn append_legacy_signature(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
    payload: &[u8],
    layer: &Descriptor,
    how: LegacyAppend<'_>,
) -> Result<AppendOutcome, AppendError> {
    let (flavor, is_duplicate) = (how.flavor, how.is_duplicate);
    let registry = repository.registry();
    let path = repository.path();
    let tag = how.attachment.tag(digest);
    // The payload blob first: it does not depend on what others write.
    client.upload_blob(registry, path, payload).await?;
    let mut added = false;
    let mut cycle = Duration::from_millis(20);
    for attempt in 0..APPEND_ATTEMPTS {
        let started = std::time::Instant::now();
        let existing =
            fetch_attachment_manifest(client, repository, digest, how.attachment, Access::Push)
                .await?
                .map(|(_, mut parsed)| {
                    parsed.layers.retain(|candidate| {
                        !(how.replaces)(candidate) || same_layer(candidate, layer)
                    });
                    parsed
                });
        let Some(image) = legacy_signature::append_signature(
            existing.as_ref(),
            layer.clone(),
            flavor,
            |candidate| is_duplicate(candidate) || (added && same_layer(candidate, layer)),
        )?
        else {
            // Ours (or an equal one) is there. After our own write, confirm it stays.
            if added && confirmed(client, repository, digest, how.attachment, layer, cycle).await? {
                return Ok(AppendOutcome::Added);
            }
            if !added {
                return Ok(AppendOutcome::AlreadyPresent);
            }
            continue;
        };
        match push_signature_image(client, repository, &tag, &image, attempt > 0).await {
            Ok(()) => {}
            // Concurrent uploads of the same blob can leave distribution briefly believing it
            // unknown (cosign 3 fails here): upload it again and retry.
            Err(error) if is_blob_race(&error) => {
                tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt + 1))).await;
                continue;
            }
            Err(error) => return Err(error.into()),
        }
        added = true;
        cycle = started.elapsed();
        if confirmed(client, repository, digest, how.attachment, layer, cycle).await? {
            return Ok(AppendOutcome::Added);
        }
        // Someone wrote over us: back off a little, differently per signer, and append again.
        let jitter = u64::from(layer.digest.hex().as_bytes().first().copied().unwrap_or(0) % 32);
        tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt + 1) + jitter)).await;
    }
    Err(AppendError::Contended {
        attempts: APPEND_ATTEMPTS,
    })
}

fn same_layer(candidate: &Descriptor, ours: &Descriptor) -> bool {
    candidate.digest == ours.digest
        && candidate.annotation(legacy_signature::SIGNATURE_ANNOTATION)
            == ours.annotation(legacy_signature::SIGNATURE_ANNOTATION)
}

/// Reads the tag back right away, then once more after about two of our own read-modify-write
/// cycles: a concurrent signer that read before our write writes within about one cycle of
/// its read, so it will have shown itself by then.
async fn confirmed(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
    attachment: Attachment,
    layer: &Descriptor,
    cycle: Duration,
) -> Result<bool, RegistryError> {
    let settle = settle_time(cycle);
    for delay in [Duration::ZERO, settle] {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let present =
            fetch_attachment_manifest(client, repository, digest, attachment, Access::Push)
                .await?
                .is_some_and(|(_, manifest)| {
                    manifest
                        .layers
                        .iter()
                        .any(|candidate| same_layer(candidate, layer))
                });
        if !present {
            return Ok(false);
        }
    }
    Ok(true)
}

/// How long to wait before reading back a write: long enough for a concurrent writer that read
/// before our write to have written (about one of its read-modify-write cycles, which on a
/// loaded machine may take longer than ours), at least 150 ms, at most 5 s.
pub(crate) fn settle_time(cycle: Duration) -> Duration {
    (cycle * 3 + Duration::from_millis(100))
        .clamp(Duration::from_millis(150), Duration::from_secs(5))
}

/// Whether a manifest push failed because the registry lost track of a blob that concurrent
/// writers uploaded at the same time (distribution's `MANIFEST_BLOB_UNKNOWN`/`DIGEST_INVALID`).
pub(crate) fn is_blob_race(error: &RegistryError) -> bool {
    match error {
        RegistryError::Status {
            status: 400,
            errors,
            ..
        } => errors.iter().any(|entry| {
            entry.code == "MANIFEST_BLOB_UNKNOWN"
                || entry.code == "DIGEST_INVALID"
                || entry.code == "BLOB_UNKNOWN"
        }),
        _ => false,
    }
}

async fn push_signature_image(
    client: &RegistryClient,
    repository: &Repository,
    tag: &str,
    image: &SignatureImage,
    force_upload: bool,
) -> Result<(), RegistryError> {
    let chunk = crate::client::UPLOAD_CHUNK_SIZE;
    if force_upload {
        client
            .upload_blob_forced(
                repository.registry(),
                repository.path(),
                &image.config,
                chunk,
            )
            .await?;
    } else {
        client
            .upload_blob(repository.registry(), repository.path(), &image.config)
            .await?;
    }
    let media_type = image
        .manifest
        .media_type
        .clone()
        .unwrap_or_else(|| cosign_core::image::manifest::media_types::OCI_MANIFEST.to_owned());
    client
        .put_manifest(
            repository.registry(),
            repository.path(),
            tag,
            image.manifest_bytes(),
            &media_type,
        )
        .await
}

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("{source}")]
    Registry {
        #[from]
        source: RegistryError,
    },
    #[error("{source}")]
    Full {
        #[from]
        source: legacy_signature::AppendError,
    },
    #[error("signature kept being overwritten by concurrent signers after {attempts} attempts")]
    Contended { attempts: u32 },
}
