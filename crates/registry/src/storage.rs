//! Where the registry keeps content: blobs by digest (shared by all repositories, linked into
//! each), manifests by digest with tags pointing at them, uploads in progress. In memory, or in
//! a directory where every write goes to a temporary file, is fsynced, then renamed into place,
//! so a crash never leaves a half-written blob or manifest behind.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cosign_core::digest::Digest;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("storage is corrupt: {0}")]
    Corrupt(String),
}

/// A stored manifest: its bytes and media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredManifest {
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// The registry's content, behind one lock (the registry serves a lab or a test suite, not a
/// data centre: simplicity over parallel writes).
#[derive(Debug)]
pub struct Storage {
    root: Option<PathBuf>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    blobs: HashMap<Digest, Vec<u8>>,
    /// repository -> blobs linked into it
    links: HashMap<String, BTreeSet<Digest>>,
    /// repository -> digest -> manifest
    manifests: HashMap<String, HashMap<Digest, StoredManifest>>,
    /// repository -> tag -> digest
    tags: HashMap<String, BTreeMap<String, Digest>>,
    uploads: HashMap<String, (String, Vec<u8>)>,
    next_upload: u64,
}

impl Storage {
    pub fn in_memory() -> Self {
        Self {
            root: None,
            state: Mutex::new(State::default()),
        }
    }

    /// Storage in `root`, loading what an earlier run left there. Files are written under
    /// `blobs/sha256/<hex>`, `repositories/<name>/{manifests/<digest>.json,tags/<tag>,links/<digest>}`.
    pub fn in_directory(root: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(root.join("blobs").join("sha256"))?;
        std::fs::create_dir_all(root.join("repositories"))?;
        std::fs::create_dir_all(root.join("tmp"))?;
        let mut state = State::default();
        for entry in std::fs::read_dir(root.join("blobs").join("sha256"))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(digest) = format!("sha256:{name}").parse::<Digest>() else {
                continue;
            };
            let bytes = std::fs::read(entry.path())?;
            if !digest.matches(&bytes) {
                return Err(StorageError::Corrupt(format!(
                    "blob {digest} does not hash to its name"
                )));
            }
            state.blobs.insert(digest, bytes);
        }
        load_repositories(&root.join("repositories"), "", &mut state)?;
        Ok(Self {
            root: Some(root.to_path_buf()),
            state: Mutex::new(state),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn blob(&self, repository: &str, digest: &Digest) -> Option<Vec<u8>> {
        let state = self.lock();
        state
            .links
            .get(repository)
            .filter(|links| links.contains(digest))
            .and_then(|_| state.blobs.get(digest).cloned())
    }

    pub fn has_blob(&self, repository: &str, digest: &Digest) -> Option<u64> {
        let state = self.lock();
        state
            .links
            .get(repository)
            .filter(|links| links.contains(digest))
            .and_then(|_| state.blobs.get(digest).map(|bytes| bytes.len() as u64))
    }

    /// Stores a blob whose bytes hash to `digest` (the caller checked) and links it.
    pub fn put_blob(
        &self,
        repository: &str,
        digest: &Digest,
        bytes: Vec<u8>,
    ) -> Result<(), StorageError> {
        if let Some(root) = &self.root {
            write_atomically(
                root,
                &root.join("blobs").join("sha256").join(digest.hex()),
                &bytes,
            )?;
            write_atomically(
                root,
                &repository_dir(root, repository)
                    .join("links")
                    .join(digest.hex()),
                b"",
            )?;
        }
        let mut state = self.lock();
        state.blobs.insert(digest.clone(), bytes);
        state
            .links
            .entry(repository.to_owned())
            .or_default()
            .insert(digest.clone());
        Ok(())
    }

    /// Links a blob another repository has into `repository` (cross-repository mount).
    pub fn mount_blob(
        &self,
        repository: &str,
        from: &str,
        digest: &Digest,
    ) -> Result<bool, StorageError> {
        let known = self.has_blob(from, digest).is_some();
        if known {
            if let Some(root) = &self.root {
                write_atomically(
                    root,
                    &repository_dir(root, repository)
                        .join("links")
                        .join(digest.hex()),
                    b"",
                )?;
            }
            self.lock()
                .links
                .entry(repository.to_owned())
                .or_default()
                .insert(digest.clone());
        }
        Ok(known)
    }

    pub fn delete_blob(&self, repository: &str, digest: &Digest) -> Result<bool, StorageError> {
        let removed = self
            .lock()
            .links
            .get_mut(repository)
            .is_some_and(|links| links.remove(digest));
        if removed {
            if let Some(root) = &self.root {
                let _ = std::fs::remove_file(
                    repository_dir(root, repository)
                        .join("links")
                        .join(digest.hex()),
                );
            }
        }
        Ok(removed)
    }

    pub fn start_upload(&self, repository: &str) -> String {
        let mut state = self.lock();
        state.next_upload += 1;
        let id = format!("{:016x}", state.next_upload);
        state
            .uploads
            .insert(id.clone(), (repository.to_owned(), Vec::new()));
        id
    }

    /// Appends to an upload; returns its new size, or `None` if there is no such upload.
    pub fn append_upload(
        &self,
        repository: &str,
        id: &str,
        bytes: &[u8],
        limit: usize,
    ) -> Option<Result<usize, ()>> {
        let mut state = self.lock();
        let (owner, data) = state.uploads.get_mut(id)?;
        if owner != repository {
            return None;
        }
        if data.len() + bytes.len() > limit {
            return Some(Err(()));
        }
        data.extend_from_slice(bytes);
        Some(Ok(data.len()))
    }

    pub fn take_upload(&self, repository: &str, id: &str) -> Option<Vec<u8>> {
        let mut state = self.lock();
        match state.uploads.get(id) {
            Some((owner, _)) if owner == repository => {
                state.uploads.remove(id).map(|(_, data)| data)
            }
            _ => None,
        }
    }

    pub fn upload_size(&self, repository: &str, id: &str) -> Option<usize> {
        let state = self.lock();
        state
            .uploads
            .get(id)
            .filter(|(owner, _)| owner == repository)
            .map(|(_, data)| data.len())
    }

    pub fn manifest(&self, repository: &str, reference: &str) -> Option<(Digest, StoredManifest)> {
        let state = self.lock();
        let manifests = state.manifests.get(repository)?;
        let digest = match reference.parse::<Digest>() {
            Ok(digest) => digest,
            Err(_) => state.tags.get(repository)?.get(reference)?.clone(),
        };
        manifests
            .get(&digest)
            .map(|manifest| (digest, manifest.clone()))
    }

    /// Stores a manifest under its digest, and `tag` if given.
    pub fn put_manifest(
        &self,
        repository: &str,
        tag: Option<&str>,
        manifest: StoredManifest,
    ) -> Result<Digest, StorageError> {
        let digest = Digest::sha256(&manifest.bytes);
        if let Some(root) = &self.root {
            let dir = repository_dir(root, repository);
            let record = serde_json::json!({"mediaType": manifest.media_type});
            write_atomically(
                root,
                &dir.join("manifests").join(format!("{}.json", digest.hex())),
                &manifest.bytes,
            )?;
            write_atomically(
                root,
                &dir.join("manifests").join(format!("{}.type", digest.hex())),
                record.to_string().as_bytes(),
            )?;
            if let Some(tag) = tag {
                write_atomically(
                    root,
                    &dir.join("tags").join(tag),
                    digest.to_string().as_bytes(),
                )?;
            }
        }
        let mut state = self.lock();
        state
            .manifests
            .entry(repository.to_owned())
            .or_default()
            .insert(digest.clone(), manifest);
        if let Some(tag) = tag {
            state
                .tags
                .entry(repository.to_owned())
                .or_default()
                .insert(tag.to_owned(), digest.clone());
        }
        Ok(digest)
    }

    /// Deletes a manifest by digest (and the tags pointing at it), or a tag.
    pub fn delete_manifest(&self, repository: &str, reference: &str) -> Result<bool, StorageError> {
        let mut state = self.lock();
        let removed = match reference.parse::<Digest>() {
            Ok(digest) => {
                let removed = state
                    .manifests
                    .get_mut(repository)
                    .is_some_and(|m| m.remove(&digest).is_some());
                let dropped_tags: Vec<String> = state
                    .tags
                    .get(repository)
                    .map(|tags| {
                        tags.iter()
                            .filter(|(_, d)| **d == digest)
                            .map(|(t, _)| t.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                if let Some(tags) = state.tags.get_mut(repository) {
                    for tag in &dropped_tags {
                        tags.remove(tag);
                    }
                }
                if let Some(root) = &self.root {
                    let dir = repository_dir(root, repository);
                    let _ = std::fs::remove_file(
                        dir.join("manifests").join(format!("{}.json", digest.hex())),
                    );
                    let _ = std::fs::remove_file(
                        dir.join("manifests").join(format!("{}.type", digest.hex())),
                    );
                    for tag in &dropped_tags {
                        let _ = std::fs::remove_file(dir.join("tags").join(tag));
                    }
                }
                removed
            }
            Err(_) => {
                let removed = state
                    .tags
                    .get_mut(repository)
                    .is_some_and(|tags| tags.remove(reference).is_some());
                if removed {
                    if let Some(root) = &self.root {
                        let _ = std::fs::remove_file(
                            repository_dir(root, repository)
                                .join("tags")
                                .join(reference),
                        );
                    }
                }
                removed
            }
        };
        Ok(removed)
    }

    pub fn tags(&self, repository: &str) -> Option<Vec<String>> {
        let state = self.lock();
        let has_repository =
            state.manifests.contains_key(repository) || state.tags.contains_key(repository);
        has_repository.then(|| {
            state
                .tags
                .get(repository)
                .map(|tags| tags.keys().cloned().collect())
                .unwrap_or_default()
        })
    }

    /// Every manifest of `repository` (for the referrers API).
    pub fn manifests(&self, repository: &str) -> Vec<(Digest, StoredManifest)> {
        let state = self.lock();
        state
            .manifests
            .get(repository)
            .map(|manifests| {
                manifests
                    .iter()
                    .map(|(d, m)| (d.clone(), m.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn repository_dir(root: &Path, repository: &str) -> PathBuf {
    root.join("repositories")
        .join(repository)
        .join("_repository")
}

/// Writes `bytes` to `target` through a temporary file in `root/tmp`, fsynced, then renamed.
fn write_atomically(root: &Path, target: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    use std::io::Write as _;
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let temporary = root.join("tmp").join(format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, target)?;
    Ok(())
}

fn load_repositories(dir: &Path, prefix: &str, state: &mut State) -> Result<(), StorageError> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "_repository" {
            load_repository(&entry.path(), prefix.trim_end_matches('/'), state)?;
        } else {
            load_repositories(&entry.path(), &format!("{prefix}{name}/"), state)?;
        }
    }
    Ok(())
}

fn load_repository(dir: &Path, repository: &str, state: &mut State) -> Result<(), StorageError> {
    let links = dir.join("links");
    if links.is_dir() {
        for entry in std::fs::read_dir(links)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if let Ok(digest) = format!("sha256:{name}").parse::<Digest>() {
                state
                    .links
                    .entry(repository.to_owned())
                    .or_default()
                    .insert(digest);
            }
        }
    }
    let manifests = dir.join("manifests");
    if manifests.is_dir() {
        for entry in std::fs::read_dir(&manifests)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let bytes = std::fs::read(&path)?;
            let digest = Digest::sha256(&bytes);
            let media_type = std::fs::read(path.with_extension("type"))
                .ok()
                .and_then(|record| serde_json::from_slice::<serde_json::Value>(&record).ok())
                .and_then(|record| {
                    record
                        .get("mediaType")
                        .and_then(|m| m.as_str())
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            state
                .manifests
                .entry(repository.to_owned())
                .or_default()
                .insert(digest, StoredManifest { media_type, bytes });
        }
    }
    let tags = dir.join("tags");
    if tags.is_dir() {
        for entry in std::fs::read_dir(tags)? {
            let entry = entry?;
            let tag = entry.file_name().to_string_lossy().into_owned();
            let Ok(digest) = std::fs::read_to_string(entry.path())
                .unwrap_or_default()
                .trim()
                .parse::<Digest>()
            else {
                continue;
            };
            state
                .tags
                .entry(repository.to_owned())
                .or_default()
                .insert(tag, digest);
        }
    }
    Ok(())
}
