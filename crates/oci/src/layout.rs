//! OCI image layout directories (`oci-layout`, `index.json`, `blobs/<algorithm>/<hex>`), as
//! `cosign save` writes them and `cosign load` and `verify --local-image` read them: the index
//! names the signed image (or index), its signature image and its attestation image with the
//! annotation `kind`; referrers (Sigstore bundles) are manifests whose `subject` is the image.
//!
//! Every blob is written to a temporary file, synced and renamed into place, so an interrupted
//! save never leaves a truncated blob under a digest; every blob read is checked against its
//! digest and size cap.

use std::fs;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use cosign_core::digest::Digest;
use cosign_core::image::manifest::{
    media_types, Descriptor, ImageIndex, ImageManifest, ManifestError,
};

use crate::client::Manifest;

/// The index annotation naming what an entry is.
pub const KIND_ANNOTATION: &str = "kind";
/// The values of [`KIND_ANNOTATION`] (cosign's `pkg/oci/layout/index.go`).
pub mod kinds {
    pub const IMAGE: &str = "dev.cosignproject.cosign/image";
    pub const IMAGE_INDEX: &str = "dev.cosignproject.cosign/imageIndex";
    pub const SIGNATURES: &str = "dev.cosignproject.cosign/sigs";
    pub const ATTESTATIONS: &str = "dev.cosignproject.cosign/atts";
}

const LAYOUT_FILE: &str = "oci-layout";
/// The most blob files looked through for referrers the index does not list.
const BLOB_SCAN_LIMIT: usize = 100_000;
const LAYOUT_CONTENT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
const INDEX_FILE: &str = "index.json";

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: {source}")]
    Manifest {
        path: PathBuf,
        #[source]
        source: ManifestError,
    },
    #[error("{path}: is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{path}: more than {limit} blobs")]
    TooManyBlobs { path: PathBuf, limit: usize },
    #[error("{path}: content does not match its digest {digest}")]
    DigestMismatch { path: PathBuf, digest: Digest },
    #[error("{path}: not a regular file")]
    NotAFile { path: PathBuf },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> LayoutError + '_ {
    move |source| LayoutError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A layout directory opened for reading.
#[derive(Debug)]
pub struct Layout {
    root: PathBuf,
    index: ImageIndex,
}

impl Layout {
    /// Opens `dir`, reading its `index.json` (capped like any index).
    pub fn open(dir: &Path) -> Result<Self, LayoutError> {
        let path = dir.join(INDEX_FILE);
        let bytes = read_capped(
            &path,
            cosign_core::image::manifest::MANIFEST_SIZE_LIMIT as u64,
        )?;
        let index = ImageIndex::parse(&bytes).map_err(|source| LayoutError::Manifest {
            path: path.clone(),
            source,
        })?;
        Ok(Self {
            root: dir.to_owned(),
            index,
        })
    }

    pub fn entries(&self) -> &[Descriptor] {
        &self.index.manifests
    }

    /// The first entry annotated with this kind.
    pub fn entry_of_kind(&self, kind: &str) -> Option<&Descriptor> {
        self.index
            .manifests
            .iter()
            .find(|entry| entry.annotation(KIND_ANNOTATION) == Some(kind))
    }

    /// The signed entity: the image index if there is one, else the image.
    pub fn signed_entry(&self) -> Option<&Descriptor> {
        self.entry_of_kind(kinds::IMAGE_INDEX)
            .or_else(|| self.entry_of_kind(kinds::IMAGE))
    }

    /// Where the layout keeps the blob `digest`.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        blob_path(&self.root, digest)
    }

    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// Opens a blob's file for reading piece by piece (the caller checks the digest).
    pub fn open_blob(&self, digest: &Digest) -> Result<fs::File, LayoutError> {
        open_regular(&self.blob_path(digest))
    }

    /// Reads a blob of at most `limit` bytes and checks its digest.
    pub fn read_blob(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>, LayoutError> {
        let path = self.blob_path(digest);
        let bytes = read_capped(&path, limit)?;
        if !digest.matches(&bytes) {
            return Err(LayoutError::DigestMismatch {
                path,
                digest: digest.clone(),
            });
        }
        Ok(bytes)
    }

    /// Reads a manifest blob with its media type (from the descriptor, else sniffed).
    pub fn read_manifest(&self, descriptor: &Descriptor) -> Result<Manifest, LayoutError> {
        let bytes = self.read_blob(
            &descriptor.digest,
            cosign_core::image::manifest::MANIFEST_SIZE_LIMIT as u64,
        )?;
        let media_type = Some(descriptor.media_type.clone())
            .filter(|media_type| !media_type.is_empty())
            .or_else(|| cosign_core::image::manifest::sniff_media_type(&bytes))
            .unwrap_or_else(|| media_types::OCI_MANIFEST.to_owned());
        Ok(Manifest {
            digest: descriptor.digest.clone(),
            media_type,
            bytes,
        })
    }

    /// The manifests in the layout whose `subject` is `subject`: those listed in the index,
    /// then any other manifest blob (cosign's `save` leaves its referrers out of the index).
    pub fn referrers_of(&self, subject: &Digest) -> Result<Vec<Manifest>, LayoutError> {
        let mut found: Vec<Manifest> = Vec::new();
        let mut consider = |manifest: Manifest| {
            if found.iter().any(|known| known.digest == manifest.digest) {
                return;
            }
            let Ok(parsed) = ImageManifest::parse(&manifest.bytes) else {
                return;
            };
            if parsed
                .subject
                .as_ref()
                .is_some_and(|known| &known.digest == subject)
            {
                found.push(manifest);
            }
        };
        for entry in &self.index.manifests {
            if entry.media_type == media_types::OCI_MANIFEST {
                consider(self.read_manifest(entry)?);
            }
        }
        let directory = self.root.join("blobs").join(subject.algorithm().name());
        let listing = match fs::read_dir(&directory) {
            Ok(listing) => listing,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(found),
            Err(source) => {
                return Err(LayoutError::Io {
                    path: directory,
                    source,
                })
            }
        };
        for (scanned, item) in listing.enumerate() {
            if scanned == BLOB_SCAN_LIMIT {
                return Err(LayoutError::TooManyBlobs {
                    path: directory,
                    limit: BLOB_SCAN_LIMIT,
                });
            }
            let item = item.map_err(io_error(&directory))?;
            let Ok(metadata) = item.metadata() else {
                continue;
            };
            if !metadata.is_file()
                || metadata.len() > cosign_core::image::manifest::MANIFEST_SIZE_LIMIT as u64
            {
                continue;
            }
            let name = item.file_name();
            let Some(digest) = name
                .to_str()
                .and_then(|hex| format!("{}:{hex}", subject.algorithm().name()).parse().ok())
            else {
                continue;
            };
            let descriptor = Descriptor {
                media_type: String::new(),
                size: metadata.len(),
                digest,
                urls: None,
                annotations: None,
                platform: None,
                artifact_type: None,
            };
            // Not every blob is a manifest: skip what does not read as one.
            if let Ok(manifest) = self.read_manifest(&descriptor) {
                if manifest.media_type == media_types::OCI_MANIFEST {
                    consider(manifest);
                }
            }
        }
        Ok(found)
    }
}

/// A layout directory being written: blobs go in as they come, `index.json` at the end.
#[derive(Debug)]
pub struct LayoutWriter {
    root: PathBuf,
    entries: Vec<Descriptor>,
}

impl LayoutWriter {
    /// Creates `dir` (and `oci-layout`) if needed. Blobs already there are kept; the index
    /// written by [`LayoutWriter::finish`] replaces any existing one, as cosign's `save` does.
    pub fn create(dir: &Path) -> Result<Self, LayoutError> {
        fs::create_dir_all(dir.join("blobs")).map_err(io_error(dir))?;
        write_atomically(&dir.join(LAYOUT_FILE), LAYOUT_CONTENT)?;
        Ok(Self {
            root: dir.to_owned(),
            entries: Vec::new(),
        })
    }

    pub fn has_blob(&self, digest: &Digest) -> bool {
        blob_path(&self.root, digest).is_file()
    }

    /// Starts writing a blob under its digest, piece by piece: it appears only when
    /// [`PendingBlob::commit`] is called (after the caller has checked the content).
    pub fn begin_blob(&self, digest: &Digest) -> Result<PendingBlob, LayoutError> {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let target = blob_path(&self.root, digest);
        let parent = target
            .parent()
            .map(Path::to_owned)
            .unwrap_or_else(|| self.root.clone());
        fs::create_dir_all(&parent).map_err(io_error(&parent))?;
        let temporary = parent.join(format!(
            ".{}.{}.{}.tmp",
            digest.hex(),
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let file = fs::File::create(&temporary).map_err(io_error(&temporary))?;
        Ok(PendingBlob {
            file,
            temporary,
            target,
            committed: false,
        })
    }

    /// Writes a blob under its digest (temporary file, sync, rename).
    pub fn write_blob(&self, digest: &Digest, bytes: &[u8]) -> Result<(), LayoutError> {
        let path = blob_path(&self.root, digest);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        write_atomically(&path, bytes)
    }

    /// Lists a manifest (already written as a blob) in the index, annotated with its `kind`.
    pub fn add_entry(&mut self, manifest: &Manifest, kind: Option<&str>) {
        let annotations = kind
            .map(|kind| [(KIND_ANNOTATION.to_owned(), kind.to_owned())].into())
            .unwrap_or_default();
        self.add_entry_annotated(manifest, annotations);
    }

    /// Lists a manifest (already written as a blob) in the index, with these annotations.
    pub fn add_entry_annotated(
        &mut self,
        manifest: &Manifest,
        annotations: std::collections::BTreeMap<String, String>,
    ) {
        let artifact_type = ImageManifest::parse(&manifest.bytes)
            .ok()
            .filter(|parsed| parsed.subject.is_some())
            .and_then(|parsed| parsed.artifact_type.or(Some(parsed.config.media_type)));
        self.entries.push(Descriptor {
            media_type: manifest.media_type.clone(),
            size: manifest.bytes.len() as u64,
            digest: manifest.digest.clone(),
            urls: None,
            annotations: Some(annotations).filter(|annotations| !annotations.is_empty()),
            platform: None,
            artifact_type,
        });
    }

    /// Writes `index.json`.
    pub fn finish(self) -> Result<PathBuf, LayoutError> {
        let index = ImageIndex {
            schema_version: 2,
            media_type: Some(media_types::OCI_INDEX.to_owned()),
            manifests: self.entries,
            annotations: None,
            subject: None,
            artifact_type: None,
        };
        write_atomically(&self.root.join(INDEX_FILE), &index.to_bytes())?;
        Ok(self.root)
    }
}

/// A blob being written to a layout; removed unless committed.
#[derive(Debug)]
pub struct PendingBlob {
    file: fs::File,
    temporary: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl PendingBlob {
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), LayoutError> {
        self.file
            .write_all(bytes)
            .map_err(io_error(&self.temporary))
    }

    /// Syncs the blob and moves it into place.
    pub fn commit(mut self) -> Result<(), LayoutError> {
        self.file.sync_all().map_err(io_error(&self.temporary))?;
        fs::rename(&self.temporary, &self.target).map_err(io_error(&self.target))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for PendingBlob {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temporary);
        }
    }
}

fn blob_path(root: &Path, digest: &Digest) -> PathBuf {
    root.join("blobs")
        .join(digest.algorithm().name())
        .join(digest.hex())
}

/// Opens a regular file for reading; anything else in its place (a FIFO, a device, a
/// directory) is refused at once, without blocking on it.
fn open_regular(path: &Path) -> Result<fs::File, LayoutError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    // Non-blocking, so that opening a FIFO returns instead of waiting for a writer; it changes
    // nothing for a regular file.
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(io_error(path))?;
    let regular = file.metadata().map_err(io_error(path))?.is_file();
    if !regular {
        return Err(LayoutError::NotAFile {
            path: path.to_owned(),
        });
    }
    Ok(file)
}

fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, LayoutError> {
    let file = open_regular(path)?;
    let size = file.metadata().map_err(io_error(path))?.len();
    if size > limit {
        return Err(LayoutError::TooLarge {
            path: path.to_owned(),
            size,
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_error(path))?;
    if bytes.len() as u64 > limit {
        return Err(LayoutError::TooLarge {
            path: path.to_owned(),
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// Writes `bytes` to a temporary file next to `path`, syncs it and renames it into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), LayoutError> {
    let parent = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = parent.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result.map_err(io_error(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_with_subject(subject: &Digest) -> Manifest {
        let bytes = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","config":{{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}},"layers":[],"subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,"digest":"{subject}"}}}}"#
        )
        .into_bytes();
        Manifest {
            digest: Digest::sha256(&bytes),
            media_type: media_types::OCI_MANIFEST.to_owned(),
            bytes,
        }
    }

    #[test]
    fn written_layouts_read_back_with_their_kinds_and_referrers() {
        let dir = std::env::temp_dir().join(format!("layout-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let image = br#"{"schemaVersion":2,"config":{"mediaType":"a","size":0,"digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},"layers":[]}"#;
        let image = Manifest {
            digest: Digest::sha256(image),
            media_type: media_types::OCI_MANIFEST.to_owned(),
            bytes: image.to_vec(),
        };
        let listed = manifest_with_subject(&image.digest);
        let unlisted = manifest_with_subject(&Digest::sha256(b"other"));
        let mut writer = LayoutWriter::create(&dir).unwrap();
        for manifest in [&image, &listed, &unlisted] {
            writer
                .write_blob(&manifest.digest, &manifest.bytes)
                .unwrap();
        }
        writer.add_entry(&image, Some(kinds::IMAGE));
        writer.add_entry(&listed, None);
        writer.finish().unwrap();

        let layout = Layout::open(&dir).unwrap();
        let entry = layout.signed_entry().unwrap();
        assert_eq!(entry.digest, image.digest);
        assert!(layout.entry_of_kind(kinds::SIGNATURES).is_none());
        let referrers = layout.referrers_of(&image.digest).unwrap();
        assert_eq!(referrers.len(), 1);
        assert_eq!(referrers[0].digest, listed.digest);
        assert_eq!(
            layout.entries()[1].artifact_type.as_deref(),
            Some("application/vnd.dev.sigstore.bundle.v0.3+json")
        );

        // A tampered blob is refused.
        fs::write(blob_path(&dir, &image.digest), b"tampered").unwrap();
        assert!(matches!(
            layout.read_blob(&image.digest, 1024),
            Err(LayoutError::DigestMismatch { .. })
        ));
        let _ = fs::remove_dir_all(&dir);
    }
}
