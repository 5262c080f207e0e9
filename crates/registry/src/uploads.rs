//! Blob uploads in progress: each a file under `uploads/`, named by an unguessable id (128 random
//! bits), owned by one repository, hashed as its bytes arrive. Their number is capped and a
//! session nobody has touched for a while is dropped with its file, so unfinished uploads cannot
//! pile up; at the cap, the least recently used session idle for a minute makes room, so a
//! client that opens many and leaves them does not keep others out for long.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cosign_core::digest::Sha256Hasher;
use rand_core::RngCore as _;

use crate::names::RepositoryName;

/// The limits on uploads in progress.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    /// Uploads open at once, across all clients.
    pub max_sessions: usize,
    /// A session untouched this long is dropped.
    pub idle_expiry: Duration,
    /// At the cap, a session untouched this long may be dropped to make room for a new one.
    pub evictable_after: Duration,
    /// The largest blob one upload may assemble.
    pub max_blob_size: u64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            max_sessions: 1024,
            idle_expiry: Duration::from_secs(10 * 60),
            evictable_after: Duration::from_secs(60),
            max_blob_size: 16 * 1024 * 1024 * 1024,
        }
    }
}

/// An upload's state, behind its own lock while a request appends to it.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) repository: RepositoryName,
    pub(crate) path: PathBuf,
    pub(crate) size: u64,
    pub(crate) hasher: Sha256Hasher,
    last_used: Instant,
}

impl Session {
    pub(crate) fn touch(&mut self) {
        self.last_used = Instant::now();
    }
}

pub(crate) type SharedSession = Arc<tokio::sync::Mutex<Session>>;

#[derive(Debug)]
pub(crate) struct Uploads {
    dir: PathBuf,
    limits: UploadLimits,
    sessions: Mutex<HashMap<String, SharedSession>>,
}

/// Upload ids are 32 lower-case hex characters; anything else names no upload (and no file).
pub(crate) fn valid_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Uploads {
    pub(crate) fn new(dir: &Path, limits: UploadLimits) -> Self {
        Self {
            dir: dir.to_path_buf(),
            limits,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn limits(&self) -> UploadLimits {
        self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SharedSession>> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Opens a session for `repository`, or `None` when too many are open.
    pub(crate) fn start(&self, repository: &RepositoryName) -> std::io::Result<Option<String>> {
        self.expire();
        let mut bytes = [0u8; 16];
        rand_core::OsRng.fill_bytes(&mut bytes);
        let id = cosign_core::digest::hex_encode(&bytes);
        let path = self.dir.join(&id);
        let mut sessions = self.lock();
        if sessions.len() >= self.limits.max_sessions && !self.evict_one(&mut sessions) {
            return Ok(None);
        }
        std::fs::File::create(&path)?;
        sessions.insert(
            id.clone(),
            Arc::new(tokio::sync::Mutex::new(Session {
                repository: repository.clone(),
                path,
                size: 0,
                hasher: Sha256Hasher::default(),
                last_used: Instant::now(),
            })),
        );
        Ok(Some(id))
    }

    /// The session `id` if it exists and belongs to `repository`.
    pub(crate) async fn get(&self, repository: &RepositoryName, id: &str) -> Option<SharedSession> {
        if !valid_id(id) {
            return None;
        }
        let session = self.lock().get(id).cloned()?;
        let owner_matches = session.lock().await.repository == *repository;
        owner_matches.then_some(session)
    }

    /// Ends a session and removes its file (if the blob was not committed from it).
    pub(crate) fn remove(&self, id: &str) {
        if let Some(session) = self.lock().remove(id) {
            if let Ok(session) = session.try_lock() {
                let _ = std::fs::remove_file(&session.path);
            }
        }
    }

    /// Drops the least recently used session idle for longer than `evictable_after`, if any.
    fn evict_one(&self, sessions: &mut HashMap<String, SharedSession>) -> bool {
        let oldest = sessions
            .iter()
            .filter_map(|(id, session)| {
                let session = session.try_lock().ok()?;
                (session.last_used.elapsed() > self.limits.evictable_after)
                    .then(|| (session.last_used, id.clone(), session.path.clone()))
            })
            .min();
        match oldest {
            Some((_, id, path)) => {
                sessions.remove(&id);
                let _ = std::fs::remove_file(path);
                true
            }
            None => false,
        }
    }

    /// Drops sessions idle for longer than the limit (skipping those a request holds).
    pub(crate) fn expire(&self) {
        let mut sessions = self.lock();
        let expiry = self.limits.idle_expiry;
        sessions.retain(|_, session| match session.try_lock() {
            Ok(session) if session.last_used.elapsed() > expiry => {
                let _ = std::fs::remove_file(&session.path);
                false
            }
            _ => true,
        });
    }

    #[cfg(test)]
    pub(crate) fn open_sessions(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sessions_are_unguessable_capped_owned_and_expire() {
        let directory = tempfile::tempdir().expect("tempdir");
        let limits = UploadLimits {
            max_sessions: 3,
            idle_expiry: Duration::from_millis(400),
            evictable_after: Duration::from_millis(200),
            max_blob_size: 1024,
        };
        let uploads = Uploads::new(directory.path(), limits);
        let lab: RepositoryName = "lab".parse().expect("name");
        let other: RepositoryName = "other".parse().expect("name");
        let ids: Vec<String> = (0..3)
            .map(|_| uploads.start(&lab).expect("io").expect("room"))
            .collect();
        assert!(ids.iter().all(|id| valid_id(id)));
        assert_ne!(ids[0], ids[1]);
        assert!(uploads.start(&lab).expect("io").is_none(), "capped at 3");
        assert!(uploads.get(&lab, &ids[0]).await.is_some());
        assert!(uploads.get(&other, &ids[0]).await.is_none(), "owned by lab");
        assert!(uploads.get(&lab, "../../etc/passwd").await.is_none());
        std::thread::sleep(Duration::from_millis(250));
        let evicted = uploads.start(&lab).expect("io");
        assert!(
            evicted.is_some(),
            "the least recently used idle session makes room"
        );
        assert!(
            uploads.get(&lab, &ids[0]).await.is_none()
                || uploads.get(&lab, &ids[1]).await.is_none()
                || uploads.get(&lab, &ids[2]).await.is_none()
        );
        assert_eq!(uploads.open_sessions(), 3);
        std::thread::sleep(Duration::from_millis(450));
        let again = uploads.start(&lab).expect("io");
        assert!(again.is_some(), "expired sessions make room");
        assert_eq!(uploads.open_sessions(), 1);
        assert_eq!(std::fs::read_dir(directory.path()).expect("dir").count(), 1);
    }
}
