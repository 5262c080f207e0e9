//! Moving a signed image between registries and layout directories (`copy`, `save`, `load`):
//! the image (or index, with its child images), its `.sig`, `.att` and `.sbom` images, and its
//! referrers. Blobs the destination has are skipped; within one registry they are mounted.
//! Manifests are pushed after everything they reference, so a registry that checks
//! references (ours, distribution) accepts them and a reader never sees a dangling one.

use cosign_core::digest::{Digest, DigestCheck};
use cosign_core::image::legacy_signature::Attachment;
use cosign_core::image::manifest::{media_types, Descriptor, ImageIndex, ImageManifest};
use cosign_core::image::reference::Repository;
use futures::{StreamExt as _, TryStreamExt as _};

use crate::client::{Access, BlobReader, Manifest, RegistryClient};
use crate::error::RegistryError;
use crate::layout::{Layout, LayoutError, LayoutWriter};
use crate::referrers::{self, ReferrersMode};

/// Pieces read from a layout file at a time.
const FILE_PIECE: usize = 1024 * 1024;
/// How deep indexes may nest (an index of indexes of images is 2).
const NESTING_LIMIT: usize = 4;
/// The most manifests one image (an index, its images...) may have, and their total size.
const TREE_MANIFEST_LIMIT: usize = 1000;
const TREE_MANIFEST_BYTES: usize = 64 * 1024 * 1024;
/// Blobs moved at once.
const PARALLEL_BLOBS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error("{what}: {reason}")]
    Invalid { what: String, reason: String },
}

fn invalid(what: impl std::fmt::Display, reason: impl std::fmt::Display) -> TransferError {
    TransferError::Invalid {
        what: what.to_string(),
        reason: reason.to_string(),
    }
}

/// Where content is read from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Registry {
        client: &'a RegistryClient,
        repository: &'a Repository,
    },
    Layout(&'a Layout),
}

impl Source<'_> {
    /// A manifest by digest, its bytes checked.
    pub async fn manifest(&self, descriptor: &Descriptor) -> Result<Manifest, TransferError> {
        match self {
            Source::Registry { client, repository } => client
                .get_manifest(
                    repository.registry(),
                    repository.path(),
                    &descriptor.digest.to_string(),
                    Access::Pull,
                )
                .await?
                .ok_or_else(|| invalid(format!("{repository}@{}", descriptor.digest), "not found")),
            Source::Layout(layout) => Ok(layout.read_manifest(descriptor)?),
        }
    }

    /// Opens a blob for reading piece by piece, checked against its descriptor.
    async fn open_blob(&self, descriptor: &Descriptor) -> Result<CheckedBlob, TransferError> {
        let reader = match self {
            Source::Registry { client, repository } => BlobSource::Registry(
                client
                    .open_blob(
                        repository.registry(),
                        repository.path(),
                        &descriptor.digest,
                        Access::Pull,
                    )
                    .await?,
            ),
            Source::Layout(layout) => BlobSource::File(layout.open_blob(&descriptor.digest)?),
        };
        Ok(CheckedBlob {
            reader,
            check: Some(DigestCheck::new(&descriptor.digest)),
            digest: descriptor.digest.clone(),
            declared: descriptor.size,
            seen: 0,
        })
    }

    /// This source's repository, when it is one in `registry` (a blob can then be mounted).
    fn repository_in(&self, registry: &str) -> Option<&Repository> {
        match self {
            Source::Registry { repository, .. } if repository.registry() == registry => {
                Some(repository)
            }
            _ => None,
        }
    }
}

/// Where content is written.
#[derive(Debug, Clone, Copy)]
pub enum Sink<'a> {
    Registry {
        client: &'a RegistryClient,
        repository: &'a Repository,
    },
    Layout(&'a LayoutWriter),
}

impl Sink<'_> {
    async fn has_blob(&self, digest: &Digest) -> Result<bool, TransferError> {
        match self {
            Sink::Registry { client, repository } => Ok(client
                .blob_exists(repository.registry(), repository.path(), digest)
                .await?),
            Sink::Layout(writer) => Ok(writer.has_blob(digest)),
        }
    }

    async fn copy_blob(
        &self,
        source: &Source<'_>,
        descriptor: &Descriptor,
    ) -> Result<(), TransferError> {
        if self.has_blob(&descriptor.digest).await? {
            return Ok(());
        }
        if let Sink::Registry { client, repository } = self {
            if let Some(from) = source.repository_in(repository.registry()) {
                if client
                    .mount_blob(
                        repository.registry(),
                        repository.path(),
                        &descriptor.digest,
                        from.path(),
                    )
                    .await?
                {
                    return Ok(());
                }
            }
        }
        let mut blob = source.open_blob(descriptor).await?;
        match self {
            Sink::Registry { client, repository } => {
                let pieces = futures::stream::unfold(Some(blob), |state| async move {
                    let mut blob = state?;
                    match blob.next_piece().await {
                        Ok(Some(piece)) => Some((Ok(piece), Some(blob))),
                        Ok(None) => None,
                        Err(error) => Some((Err(error.into_registry_error()), None)),
                    }
                });
                client
                    .upload_blob_stream(
                        repository.registry(),
                        repository.path(),
                        &descriptor.digest,
                        Box::pin(pieces),
                    )
                    .await?;
            }
            Sink::Layout(writer) => {
                let mut pending = writer.begin_blob(&descriptor.digest)?;
                while let Some(piece) = blob.next_piece().await? {
                    pending.write(&piece)?;
                }
                pending.commit()?;
            }
        }
        Ok(())
    }

    /// Puts one manifest (whose references are already there) under `reference`.
    pub async fn put_manifest(
        &self,
        manifest: &Manifest,
        reference: &str,
    ) -> Result<(), TransferError> {
        match self {
            Sink::Registry { client, repository } => client
                .put_manifest(
                    repository.registry(),
                    repository.path(),
                    reference,
                    manifest.bytes.clone(),
                    &manifest.media_type,
                )
                .await
                .map_err(TransferError::from),
            Sink::Layout(writer) => Ok(writer.write_blob(&manifest.digest, &manifest.bytes)?),
        }
    }

    /// Where this sink is, for messages.
    pub fn describe(&self) -> String {
        match self {
            Sink::Registry { repository, .. } => repository.to_string(),
            Sink::Layout(_) => "the layout".to_owned(),
        }
    }
}

/// Copies `root` and everything it references (child manifests of an index, configs,
/// layers) from `source` to `sink`, then puts `root` under `reference` (a tag or its digest).
pub async fn copy_tree(
    source: &Source<'_>,
    sink: &Sink<'_>,
    root: &Manifest,
    reference: &str,
) -> Result<(), TransferError> {
    // Every manifest below the root, deepest first, and every blob they reference. Held in
    // memory, so bounded: a hostile index cannot make us fetch thousands of 4 MiB manifests.
    let mut manifests: Vec<Manifest> = Vec::new();
    let mut manifest_bytes = root.bytes.len();
    let mut blobs: Vec<Descriptor> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut level = vec![root.clone()];
    for depth in 0..=NESTING_LIMIT {
        let mut next = Vec::new();
        for manifest in &level {
            match references_of(manifest)? {
                References::Children(children) => {
                    if depth == NESTING_LIMIT {
                        return Err(invalid(&manifest.digest, "indexes nested too deeply"));
                    }
                    if manifests.len() + next.len() + children.len() > TREE_MANIFEST_LIMIT {
                        return Err(invalid(
                            &root.digest,
                            format!("more than {TREE_MANIFEST_LIMIT} manifests in one image"),
                        ));
                    }
                    let mut fetched = futures::stream::iter(children.iter())
                        .map(|child| source.manifest(child))
                        .buffered(PARALLEL_BLOBS);
                    while let Some(child) = fetched.try_next().await? {
                        manifest_bytes += child.bytes.len();
                        if manifest_bytes > TREE_MANIFEST_BYTES {
                            return Err(invalid(
                                &root.digest,
                                format!("its manifests exceed {TREE_MANIFEST_BYTES} bytes"),
                            ));
                        }
                        next.push(child);
                    }
                }
                References::Blobs(referenced) => {
                    for blob in referenced {
                        if seen.insert(blob.digest.clone()) {
                            blobs.push(blob);
                        }
                    }
                }
            }
        }
        if depth > 0 {
            manifests.extend(level);
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    futures::stream::iter(blobs.iter())
        .map(|blob| sink.copy_blob(source, blob))
        .buffer_unordered(PARALLEL_BLOBS)
        .try_collect::<Vec<()>>()
        .await?;
    for manifest in manifests.iter().rev() {
        sink.put_manifest(manifest, &manifest.digest.to_string())
            .await?;
    }
    sink.put_manifest(root, reference).await
}

enum BlobSource {
    Registry(BlobReader),
    File(std::fs::File),
}

/// A blob's pieces as they are read, checked against its descriptor: more bytes than
/// declared, fewer, or content of another digest end it with an error, before its last piece
/// is handed over (so an upload is never closed, nor a layout file committed, on bad content).
struct CheckedBlob {
    reader: BlobSource,
    check: Option<DigestCheck>,
    digest: Digest,
    declared: u64,
    seen: u64,
}

impl CheckedBlob {
    async fn next_piece(&mut self) -> Result<Option<bytes::Bytes>, TransferError> {
        let piece = match &mut self.reader {
            BlobSource::Registry(reader) => reader.next_piece().await?,
            BlobSource::File(file) => {
                use std::io::Read as _;
                let mut buffer = vec![0u8; FILE_PIECE];
                let read = file
                    .read(&mut buffer)
                    .map_err(|error| invalid(&self.digest, error))?;
                buffer.truncate(read);
                (read > 0).then(|| bytes::Bytes::from(buffer))
            }
        };
        let Some(piece) = piece else {
            if self.seen != self.declared {
                return Err(invalid(
                    &self.digest,
                    format!("{} bytes where {} were declared", self.seen, self.declared),
                ));
            }
            let matches = self.check.take().is_some_and(DigestCheck::matches);
            if !matches {
                return Err(invalid(&self.digest, "content does not match its digest"));
            }
            return Ok(None);
        };
        self.seen += piece.len() as u64;
        if self.seen > self.declared {
            return Err(invalid(
                &self.digest,
                format!("more than the {} bytes declared", self.declared),
            ));
        }
        if let Some(check) = &mut self.check {
            check.update(&piece);
        }
        Ok(Some(piece))
    }
}

impl TransferError {
    /// For errors that must travel through the registry client's upload stream.
    fn into_registry_error(self) -> RegistryError {
        match self {
            TransferError::Registry(error) => error,
            TransferError::Invalid { what, reason } => {
                RegistryError::Protocol { url: what, reason }
            }
            TransferError::Layout(error) => RegistryError::Protocol {
                url: "reading the layout".to_owned(),
                reason: error.to_string(),
            },
        }
    }
}

enum References {
    Children(Vec<Descriptor>),
    Blobs(Vec<Descriptor>),
}

fn references_of(manifest: &Manifest) -> Result<References, TransferError> {
    if media_types::is_index(&manifest.media_type) {
        let index =
            ImageIndex::parse(&manifest.bytes).map_err(|error| invalid(&manifest.digest, error))?;
        return Ok(References::Children(index.manifests));
    }
    let parsed =
        ImageManifest::parse(&manifest.bytes).map_err(|error| invalid(&manifest.digest, error))?;
    let mut blobs = vec![parsed.config];
    // Foreign layers (with `urls`) are not the registry's to hold.
    blobs.extend(
        parsed
            .layers
            .into_iter()
            .filter(|layer| layer.urls.is_none()),
    );
    Ok(References::Blobs(blobs))
}

/// Records a referrer manifest already in `repository` so that listing finds it.
pub async fn record_referrer(
    client: &RegistryClient,
    repository: &Repository,
    subject: &Digest,
    referrer: &Manifest,
    mode: ReferrersMode,
) -> Result<(), TransferError> {
    let parsed =
        ImageManifest::parse(&referrer.bytes).map_err(|error| invalid(&referrer.digest, error))?;
    let artifact_type = parsed.artifact_type.unwrap_or(parsed.config.media_type);
    referrers::record(
        client,
        repository,
        subject,
        &referrer.bytes,
        &artifact_type,
        mode,
    )
    .await?;
    Ok(())
}

/// What is attached to an image: its `.sig`, `.att` and `.sbom` images and its referrers.
#[derive(Debug, Default)]
pub struct Attached {
    pub images: Vec<(Attachment, Manifest)>,
    pub referrers: Vec<Manifest>,
}

/// Reads what is attached to `digest` in `repository` (the signature repository): the
/// attachment images asked for and, if `with_referrers`, every referrer, all at once.
pub async fn attached_in_registry(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
    attachments: &[Attachment],
    with_referrers: bool,
) -> Result<Attached, TransferError> {
    let images = futures::future::try_join_all(attachments.iter().map(|attachment| async move {
        let manifest = client
            .get_manifest(
                repository.registry(),
                repository.path(),
                &attachment.tag(digest),
                Access::Pull,
            )
            .await?;
        Ok::<_, TransferError>(manifest.map(|manifest| (*attachment, manifest)))
    }));
    let referrers = async {
        if !with_referrers {
            return Ok(Vec::new());
        }
        let (entries, _) = referrers::list(client, repository, digest, Access::Pull).await?;
        let source = Source::Registry { client, repository };
        futures::stream::iter(entries.iter())
            .map(|entry| source.manifest(entry))
            .buffered(PARALLEL_BLOBS)
            .try_collect::<Vec<_>>()
            .await
    };
    let (images, referrers) = tokio::try_join!(images, referrers)?;
    Ok(Attached {
        images: images.into_iter().flatten().collect(),
        referrers,
    })
}
