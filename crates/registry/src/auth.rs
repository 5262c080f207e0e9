//! Basic authentication against an htpasswd file of bcrypt hashes, as distribution's `htpasswd`
//! auth does (it accepts bcrypt only, and so does this). A bcrypt check costs tens of
//! milliseconds by design, so credentials that passed are remembered for a few minutes (under a
//! keyed hash, never in clear), at most two checks run at once, and an unknown user costs the
//! same check as a known one.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand_core::RngCore as _;
use sha2::Digest as _;

/// How long credentials that passed are taken without a new bcrypt check.
const REMEMBERED_FOR: Duration = Duration::from_secs(5 * 60);
/// The most credentials remembered at once.
const REMEMBERED_MAX: usize = 1024;
/// The largest htpasswd file read.
const HTPASSWD_MAX: u64 = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HtpasswdError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is larger than {HTPASSWD_MAX} bytes")]
    TooLarge { path: String },
    #[error("{path} line {line}: expected user:bcrypt-hash (made by `htpasswd -B`); only bcrypt hashes ($2a$, $2b$, $2y$) are supported, as in distribution")]
    Entry { path: String, line: usize },
    #[error("{path} names no user")]
    Empty { path: String },
}

/// Users and their bcrypt hashes.
pub struct Htpasswd {
    users: HashMap<String, String>,
}

impl std::fmt::Debug for Htpasswd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Htpasswd({} users)", self.users.len())
    }
}

impl Htpasswd {
    pub fn load(path: &Path) -> Result<Self, HtpasswdError> {
        let shown = path.display().to_string();
        let read = |source| HtpasswdError::Read {
            path: shown.clone(),
            source,
        };
        if std::fs::metadata(path).map_err(read)?.len() > HTPASSWD_MAX {
            return Err(HtpasswdError::TooLarge { path: shown });
        }
        let text = std::fs::read_to_string(path).map_err(read)?;
        Self::parse(&text, &shown)
    }

    fn parse(text: &str, path: &str) -> Result<Self, HtpasswdError> {
        let mut users = HashMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let entry = || HtpasswdError::Entry {
                path: path.to_owned(),
                line: number + 1,
            };
            let (user, hash) = line.split_once(':').ok_or_else(entry)?;
            let bcrypt = ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p));
            if user.is_empty() || !bcrypt || hash.len() != 60 {
                return Err(entry());
            }
            users.insert(user.to_owned(), hash.to_owned());
        }
        if users.is_empty() {
            return Err(HtpasswdError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(Self { users })
    }
}

/// Checks `Authorization: Basic` headers against an htpasswd file.
#[derive(Debug)]
pub struct BasicAuth {
    htpasswd: Htpasswd,
    /// Keys the remembered credentials' hashes, so the cache holds nothing a reader could use.
    key: [u8; 32],
    /// A hash of a random password, at the cost of the file's first hash, checked for unknown
    /// users so that their answer takes as long as a known user's.
    decoy: String,
    remembered: Mutex<HashMap<[u8; 32], Instant>>,
    checks: tokio::sync::Semaphore,
}

impl BasicAuth {
    pub fn new(htpasswd: Htpasswd) -> Self {
        let mut key = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut key);
        let cost = htpasswd
            .users
            .values()
            .next()
            .and_then(|hash| hash.get(4..6))
            .and_then(|cost| cost.parse::<u32>().ok())
            .unwrap_or(bcrypt::DEFAULT_COST);
        let decoy = bcrypt::hash(cosign_core::digest::hex_encode(&key), cost).unwrap_or_default();
        Self {
            htpasswd,
            key,
            decoy,
            remembered: Mutex::new(HashMap::new()),
            checks: tokio::sync::Semaphore::new(2),
        }
    }

    /// Whether the request's `Authorization` header names a user with the right password.
    pub async fn allows(&self, authorization: Option<&[u8]>) -> bool {
        let Some((user, password)) = authorization.and_then(basic_credentials) else {
            return false;
        };
        let fingerprint = self.fingerprint(&user, &password);
        let now = Instant::now();
        {
            let remembered = self.lock();
            if remembered
                .get(&fingerprint)
                .is_some_and(|at| now.duration_since(*at) < REMEMBERED_FOR)
            {
                return true;
            }
        }
        let hash = self
            .htpasswd
            .users
            .get(&user)
            .cloned()
            .unwrap_or_else(|| self.decoy.clone());
        let known = self.htpasswd.users.contains_key(&user);
        let Ok(_slot) = self.checks.acquire().await else {
            return false;
        };
        let verified = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(false);
        let allowed = known && verified;
        if allowed {
            let mut remembered = self.lock();
            remembered.retain(|_, at| now.duration_since(*at) < REMEMBERED_FOR);
            if remembered.len() < REMEMBERED_MAX {
                remembered.insert(fingerprint, now);
            }
        }
        allowed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Instant>> {
        self.remembered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn fingerprint(&self, user: &str, password: &str) -> [u8; 32] {
        let mut hasher = sha2::Sha256::new();
        hasher.update(self.key);
        hasher.update((user.len() as u64).to_be_bytes());
        hasher.update(user.as_bytes());
        hasher.update(password.as_bytes());
        hasher.finalize().into()
    }
}

/// `Basic base64(user:password)` -> (user, password).
fn basic_credentials(header: &[u8]) -> Option<(String, String)> {
    let header = std::str::from_utf8(header).ok()?;
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") || encoded.len() > 4096 {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(user: &str, password: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
        .into_bytes()
    }

    #[tokio::test]
    async fn only_the_right_password_passes() {
        let hash = bcrypt::hash("s3cret", 4).expect("hash");
        let auth = BasicAuth::new(
            Htpasswd::parse(&format!("# users\nalice:{hash}\n"), "f").expect("parse"),
        );
        assert!(auth.allows(Some(&header("alice", "s3cret"))).await);
        assert!(
            auth.allows(Some(&header("alice", "s3cret"))).await,
            "remembered"
        );
        assert!(!auth.allows(Some(&header("alice", "wrong"))).await);
        assert!(!auth.allows(Some(&header("bob", "s3cret"))).await);
        assert!(!auth.allows(None).await);
        assert!(!auth.allows(Some(b"Bearer abc")).await);
        assert!(!auth.allows(Some(b"Basic !!!")).await);
    }

    #[test]
    fn htpasswd_lines_must_be_bcrypt() {
        assert!(Htpasswd::parse("alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "f").is_err());
        assert!(Htpasswd::parse("alice:plain", "f").is_err());
        assert!(Htpasswd::parse("# nobody\n", "f").is_err());
        let hash = bcrypt::hash("x", 4).expect("hash");
        assert!(Htpasswd::parse(&format!("alice:{hash}"), "f").is_ok());
    }
}
