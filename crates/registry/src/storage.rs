//! Where the registry keeps content, always on disk: blobs by digest (shared by all repositories,
//! linked into each), manifests by digest with tags pointing at them. Only an index of names,
//! sizes and media types is held in memory; blob and manifest bytes are read from their files
//! when asked for. Every write goes to a temporary file, is fsynced, then renamed into place, so
//! a crash never leaves a half-written blob or manifest behind.
//!
//! Every path is built by [`Storage::path`] from checked names ([`RepositoryName`], [`Tag`],
//! digests), and refused unless each piece is one plain path component: a second guard behind
//! the names' grammar.
//!
//! Layout under the root:
//! `blobs/<algorithm>/<hex>`;
//! `repositories/<name>/_repository/{links/<algorithm>-<hex>, manifests/<algorithm>-<hex>, tags/<tag>}`
//! (`_repository` cannot be a name component: components start with a letter or digit);
//! `tmp/` for writes in progress and `uploads/` for blob uploads, both emptied at start.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use cosign_core::digest::Digest;

use crate::names::{RepositoryName, Tag};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("refused a storage path outside the storage root: {0:?}")]
    UnsafePath(String),
}

/// What the index knows of a manifest; its bytes stay in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestRecord {
    pub media_type: String,
    pub size: u64,
    /// The manifest it refers to (OCI 1.1 `subject`), for the referrers API.
    pub subject: Option<Digest>,
}

/// The registry's content.
#[derive(Debug)]
pub struct Storage {
    root: PathBuf,
    index: Mutex<Index>,
    /// Set when the storage is a temporary directory, removed when the storage is dropped.
    _temporary: Option<tempfile::TempDir>,
}

#[derive(Debug, Default)]
struct Index {
    /// digest -> size
    blobs: HashMap<Digest, u64>,
    repositories: HashMap<RepositoryName, Repository>,
}

#[derive(Debug, Default)]
struct Repository {
    links: HashSet<Digest>,
    manifests: HashMap<Digest, ManifestRecord>,
    tags: BTreeMap<Tag, Digest>,
}

impl Storage {
    /// Storage in a new temporary directory, removed when the storage is dropped (content does
    /// not survive the process; memory stays small whatever is pushed).
    pub fn temporary() -> Result<Self, StorageError> {
        let directory = tempfile::Builder::new()
            .prefix("cosign-registry-")
            .tempdir()?;
        let mut storage = Self::in_directory(directory.path())?;
        storage._temporary = Some(directory);
        Ok(storage)
    }

    /// Storage in `root`, indexing what an earlier run left there.
    pub fn in_directory(root: &Path) -> Result<Self, StorageError> {
        let root = root.to_path_buf();
        for transient in ["tmp", "uploads"] {
            let _ = std::fs::remove_dir_all(root.join(transient));
            std::fs::create_dir_all(root.join(transient))?;
        }
        std::fs::create_dir_all(root.join("repositories"))?;
        let mut index = Index::default();
        let blobs = root.join("blobs");
        std::fs::create_dir_all(&blobs)?;
        for algorithm in std::fs::read_dir(&blobs)? {
            let algorithm = algorithm?;
            let algorithm_name = algorithm.file_name().to_string_lossy().into_owned();
            for blob in std::fs::read_dir(algorithm.path())? {
                let blob = blob?;
                let name = blob.file_name().to_string_lossy().into_owned();
                if let Ok(digest) = format!("{algorithm_name}:{name}").parse::<Digest>() {
                    index.blobs.insert(digest, blob.metadata()?.len());
                }
            }
        }
        load_repositories(&root.join("repositories"), "", &mut index, 0)?;
        Ok(Self {
            root,
            index: Mutex::new(index),
            _temporary: None,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where uploads in progress keep their bytes.
    pub fn uploads_dir(&self) -> PathBuf {
        self.root.join("uploads")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `root/<parts...>`, each part one plain path component, or refused.
    fn path<'a>(&self, parts: impl IntoIterator<Item = &'a str>) -> Result<PathBuf, StorageError> {
        let mut path = self.root.clone();
        for part in parts {
            let mut components = Path::new(part).components();
            let plain = matches!(components.next(), Some(Component::Normal(_)))
                && components.next().is_none()
                && !part.contains(['/', '\\', '\0']);
            if !plain {
                return Err(StorageError::UnsafePath(part.to_owned()));
            }
            path.push(part);
        }
        Ok(path)
    }

    fn repository_path<'a>(
        &self,
        repository: &'a RepositoryName,
        rest: impl IntoIterator<Item = &'a str>,
    ) -> Result<PathBuf, StorageError> {
        self.path(
            std::iter::once("repositories")
                .chain(repository.components())
                .chain(std::iter::once("_repository"))
                .chain(rest),
        )
    }

    fn blob_file(&self, digest: &Digest) -> Result<PathBuf, StorageError> {
        self.path(["blobs", digest.algorithm().name(), digest.hex()])
    }

    /// The file and size of a blob linked into `repository`.
    pub fn blob(&self, repository: &RepositoryName, digest: &Digest) -> Option<(PathBuf, u64)> {
        let size = {
            let index = self.lock();
            let linked = index
                .repositories
                .get(repository)
                .is_some_and(|r| r.links.contains(digest));
            if !linked {
                return None;
            }
            *index.blobs.get(digest)?
        };
        self.blob_file(digest).ok().map(|path| (path, size))
    }

    pub fn has_blob(&self, repository: &RepositoryName, digest: &Digest) -> bool {
        let index = self.lock();
        index.blobs.contains_key(digest)
            && index
                .repositories
                .get(repository)
                .is_some_and(|r| r.links.contains(digest))
    }

    /// Moves `file` (whose bytes hash to `digest`: the caller checked) into the store and links
    /// it into `repository`.
    pub fn commit_blob(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        file: &Path,
    ) -> Result<(), StorageError> {
        let target = self.blob_file(digest)?;
        std::fs::File::open(file)?.sync_all()?;
        let size = std::fs::metadata(file)?.len();
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(file, &target)?;
        self.lock().blobs.insert(digest.clone(), size);
        self.link(repository, digest)
    }

    fn link(&self, repository: &RepositoryName, digest: &Digest) -> Result<(), StorageError> {
        let tag_form = digest.tag_form();
        let link = self.repository_path(repository, ["links", tag_form.as_str()])?;
        self.write_atomically(&link, b"")?;
        self.lock()
            .repositories
            .entry(repository.clone())
            .or_default()
            .links
            .insert(digest.clone());
        Ok(())
    }

    /// Links a blob another repository has into `repository` (cross-repository mount).
    pub fn mount_blob(
        &self,
        repository: &RepositoryName,
        from: &RepositoryName,
        digest: &Digest,
    ) -> Result<bool, StorageError> {
        if !self.has_blob(from, digest) {
            return Ok(false);
        }
        self.link(repository, digest)?;
        Ok(true)
    }

    /// Unlinks a blob from `repository` (the content stays for the others).
    pub fn delete_blob(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<bool, StorageError> {
        let tag_form = digest.tag_form();
        let link = self.repository_path(repository, ["links", tag_form.as_str()])?;
        let removed = self
            .lock()
            .repositories
            .get_mut(repository)
            .is_some_and(|r| r.links.remove(digest));
        if removed {
            remove_if_present(&link)?;
        }
        Ok(removed)
    }

    /// The digest and record of the manifest `reference` names.
    pub fn manifest(
        &self,
        repository: &RepositoryName,
        reference: &crate::names::Reference,
    ) -> Option<(Digest, ManifestRecord)> {
        let index = self.lock();
        let repository = index.repositories.get(repository)?;
        let digest = match reference {
            crate::names::Reference::Digest(digest) => digest,
            crate::names::Reference::Tag(tag) => repository.tags.get(tag)?,
        };
        let record = repository.manifests.get(digest)?;
        Some((digest.clone(), record.clone()))
    }

    pub fn has_manifest(&self, repository: &RepositoryName, digest: &Digest) -> bool {
        self.lock()
            .repositories
            .get(repository)
            .is_some_and(|r| r.manifests.contains_key(digest))
    }

    /// A stored manifest's bytes, read from its file.
    pub fn manifest_bytes(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Vec<u8>, StorageError> {
        let tag_form = digest.tag_form();
        Ok(std::fs::read(self.repository_path(
            repository,
            ["manifests", tag_form.as_str()],
        )?)?)
    }

    /// Stores a manifest under `digest` (the caller hashed `bytes`), and `tag` if given.
    pub fn put_manifest(
        &self,
        repository: &RepositoryName,
        tag: Option<&Tag>,
        digest: &Digest,
        bytes: &[u8],
        record: ManifestRecord,
    ) -> Result<(), StorageError> {
        let tag_form = digest.tag_form();
        let file = self.repository_path(repository, ["manifests", tag_form.as_str()])?;
        self.write_atomically(&file, bytes)?;
        if let Some(tag) = tag {
            let tag_file = self.repository_path(repository, ["tags", tag.as_str()])?;
            self.write_atomically(&tag_file, digest.to_string().as_bytes())?;
        }
        let mut index = self.lock();
        let entry = index.repositories.entry(repository.clone()).or_default();
        entry.manifests.insert(digest.clone(), record);
        if let Some(tag) = tag {
            entry.tags.insert(tag.clone(), digest.clone());
        }
        Ok(())
    }

    /// Deletes a manifest (and the tags pointing at it).
    pub fn delete_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<bool, StorageError> {
        let tag_form = digest.tag_form();
        let file = self.repository_path(repository, ["manifests", tag_form.as_str()])?;
        let dropped_tags: Vec<Tag> = {
            let mut index = self.lock();
            let Some(entry) = index.repositories.get_mut(repository) else {
                return Ok(false);
            };
            if entry.manifests.remove(digest).is_none() {
                return Ok(false);
            }
            let dropped: Vec<Tag> = entry
                .tags
                .iter()
                .filter(|(_, target)| *target == digest)
                .map(|(tag, _)| tag.clone())
                .collect();
            for tag in &dropped {
                entry.tags.remove(tag);
            }
            dropped
        };
        remove_if_present(&file)?;
        for tag in &dropped_tags {
            remove_if_present(&self.repository_path(repository, ["tags", tag.as_str()])?)?;
        }
        Ok(true)
    }

    /// Deletes a tag (the manifest stays).
    pub fn delete_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<bool, StorageError> {
        let file = self.repository_path(repository, ["tags", tag.as_str()])?;
        let removed = self
            .lock()
            .repositories
            .get_mut(repository)
            .is_some_and(|r| r.tags.remove(tag).is_some());
        if removed {
            remove_if_present(&file)?;
        }
        Ok(removed)
    }

    /// The repository's tags in order, or `None` if the repository is unknown.
    pub fn tags(&self, repository: &RepositoryName) -> Option<Vec<String>> {
        let index = self.lock();
        let entry = index.repositories.get(repository)?;
        Some(
            entry
                .tags
                .keys()
                .map(|tag| tag.as_str().to_owned())
                .collect(),
        )
    }

    /// The manifests of `repository` whose subject is `subject`, ordered by digest.
    pub fn referrers(
        &self,
        repository: &RepositoryName,
        subject: &Digest,
    ) -> Vec<(Digest, ManifestRecord)> {
        let index = self.lock();
        let mut found: Vec<(Digest, ManifestRecord)> = index
            .repositories
            .get(repository)
            .map(|entry| {
                entry
                    .manifests
                    .iter()
                    .filter(|(_, record)| record.subject.as_ref() == Some(subject))
                    .map(|(digest, record)| (digest.clone(), record.clone()))
                    .collect()
            })
            .unwrap_or_default();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    }

    /// A new file in `tmp/` for content being written.
    pub fn temporary_file(&self) -> Result<(std::fs::File, tempfile::TempPath), StorageError> {
        let file = tempfile::Builder::new()
            .prefix("write-")
            .tempfile_in(self.root.join("tmp"))?;
        Ok(file.into_parts())
    }

    /// Writes `bytes` to `target` through a temporary file, fsynced, then renamed.
    fn write_atomically(&self, target: &Path, bytes: &[u8]) -> Result<(), StorageError> {
        use std::io::Write as _;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let (mut file, path) = self.temporary_file()?;
        file.write_all(bytes)?;
        file.sync_all()?;
        path.persist(target).map_err(|error| error.error)?;
        Ok(())
    }
}

fn remove_if_present(path: &Path) -> Result<(), StorageError> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
        _ => Ok(()),
    }
}

/// Names are at most 255 characters, so at most 128 components.
const MAX_DEPTH: usize = 128;

fn load_repositories(
    dir: &Path,
    prefix: &str,
    index: &mut Index,
    depth: usize,
) -> Result<(), StorageError> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "_repository" {
            if let Ok(repository) = prefix.trim_end_matches('/').parse::<RepositoryName>() {
                load_repository(&entry.path(), repository, index)?;
            }
        } else {
            load_repositories(&entry.path(), &format!("{prefix}{name}/"), index, depth + 1)?;
        }
    }
    Ok(())
}

fn digest_from_file_name(name: &str) -> Option<Digest> {
    let (algorithm, hex) = name.split_once('-')?;
    format!("{algorithm}:{hex}").parse().ok()
}

fn load_repository(
    dir: &Path,
    repository: RepositoryName,
    index: &mut Index,
) -> Result<(), StorageError> {
    let mut entry = Repository::default();
    if let Ok(links) = std::fs::read_dir(dir.join("links")) {
        for link in links {
            let name = link?.file_name().to_string_lossy().into_owned();
            if let Some(digest) = digest_from_file_name(&name) {
                entry.links.insert(digest);
            }
        }
    }
    if let Ok(manifests) = std::fs::read_dir(dir.join("manifests")) {
        for manifest in manifests {
            let manifest = manifest?;
            let name = manifest.file_name().to_string_lossy().into_owned();
            let Some(digest) = digest_from_file_name(&name) else {
                continue;
            };
            let bytes = std::fs::read(manifest.path())?;
            if let Ok(record) = crate::manifests::record(&bytes) {
                entry.manifests.insert(digest, record);
            }
        }
    }
    if let Ok(tags) = std::fs::read_dir(dir.join("tags")) {
        for tag in tags {
            let tag = tag?;
            let Ok(name) = tag.file_name().to_string_lossy().parse::<Tag>() else {
                continue;
            };
            let target = std::fs::read_to_string(tag.path()).unwrap_or_default();
            if let Ok(digest) = target.trim().parse::<Digest>() {
                entry.tags.insert(name, digest);
            }
        }
    }
    index.repositories.insert(repository, entry);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_never_leave_the_root() {
        let directory = tempfile::tempdir().expect("tempdir");
        let storage = Storage::in_directory(directory.path()).expect("storage");
        for bad in ["..", ".", "", "a/b", "/etc", "a\0b", "..\\x"] {
            assert!(storage.path(["repositories", bad]).is_err(), "{bad:?}");
        }
        let fine = storage
            .path(["repositories", "lab", "_repository"])
            .expect("path");
        assert!(fine.starts_with(directory.path()));
    }

    #[test]
    fn content_is_indexed_again_after_a_restart() {
        let directory = tempfile::tempdir().expect("tempdir");
        let repository: RepositoryName = "lab/app".parse().expect("name");
        let tag: Tag = "v1".parse().expect("tag");
        let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
        let digest = Digest::sha256(manifest);
        let blob = Digest::sha256(b"{}");
        {
            let storage = Storage::in_directory(directory.path()).expect("storage");
            let upload = storage.uploads_dir().join("x");
            std::fs::write(&upload, b"{}").expect("write");
            storage
                .commit_blob(&repository, &blob, &upload)
                .expect("blob");
            let record = crate::manifests::record(manifest).expect("record");
            storage
                .put_manifest(&repository, Some(&tag), &digest, manifest, record)
                .expect("manifest");
            std::fs::write(storage.uploads_dir().join("leftover"), b"partial").expect("write");
        }
        let storage = Storage::in_directory(directory.path()).expect("reopened");
        assert_eq!(
            storage.blob(&repository, &blob).map(|(_, size)| size),
            Some(2)
        );
        let (found, record) = storage
            .manifest(&repository, &crate::names::Reference::Tag(tag))
            .expect("manifest");
        assert_eq!(found, digest);
        assert_eq!(record.size, manifest.len() as u64);
        assert_eq!(
            storage.manifest_bytes(&repository, &digest).expect("bytes"),
            manifest
        );
        assert_eq!(
            std::fs::read_dir(storage.uploads_dir())
                .expect("dir")
                .count(),
            0
        );
    }
}
