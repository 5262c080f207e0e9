//! Sigstore's trust material from a TUF repository (`cosign initialize`, and the trusted root and
//! signing config that `verify` and `sign` use after it), with `tough` doing the TUF client
//! workflow: root rotation, then timestamp, snapshot and targets, each checked for its
//! signature threshold, version, hashes, length and expiry; targets checked against their
//! hashes and length.
//!
//! The cache is sigstore-go's, so cosign and cosign-rs share it: under the cache directory
//! (`$TUF_ROOT`, else `~/.sigstore/root`), `remote.json` names the mirror, and a directory per
//! mirror (named as sigstore-go names it) holds the metadata as the mirror served it
//! (`root.json`, `timestamp.json`, `snapshot.json`, `targets.json`) and the targets under
//! `targets/`. tough's own state (for rollback checks) sits in `.tough/` beside them. Every
//! update holds an exclusive lock (`<cache>.lock`) and writes each file whole (a temporary file,
//! then a rename), so concurrent processes never see half a file.
//!
//! Better than cosign offline: when the mirror cannot be reached, the cached metadata and
//! targets are verified again by the same TUF rules (signatures, hashes, expiry) and used if
//! they pass, with the reason reported to the caller.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tough::{IntoVec as _, RepositoryLoader, TargetName, Transport, TransportError};

use crate::http::{self, HttpError, Service};

/// The public-good instance's TUF repository.
pub const PUBLIC_GOOD_MIRROR: &str = "https://tuf-repo-cdn.sigstore.dev";

/// The public-good TUF repository's root (version 14), the trust anchor `cosign initialize`
/// starts from without `--root`. An expired root is a valid start: the client walks the
/// rotation chain from it and checks the expiry of the last one.
pub const PUBLIC_GOOD_ROOT: &[u8] = include_bytes!("../data/public-good-tuf-root.json");

/// The public-good staging instance's TUF repository, and its root (`cosign initialize
/// --staging`).
pub const STAGING_MIRROR: &str = "https://tuf-repo-cdn.sigstage.dev";
pub const STAGING_ROOT: &[u8] = include_bytes!("../data/staging-tuf-root.json");

/// The target holding the trusted root.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";

/// The target holding the signing config.
pub const SIGNING_CONFIG_TARGET: &str = "signing_config.v0.2.json";

/// No metadata file or target of a Sigstore repository comes near this.
const FETCH_LIMIT: usize = 16 * 1024 * 1024;

/// A root given by URL (`cosign initialize --root https://...`), at most 1 MiB.
pub async fn download_root(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, TufError> {
    let parsed = url::Url::parse(url).map_err(|error| TufError::Root {
        url: url.to_owned(),
        reason: error.to_string(),
    })?;
    http::get(client, Service("TUF root"), &parsed, None, 1024 * 1024)
        .await
        .map_err(|error| TufError::Root {
            url: url.to_owned(),
            reason: error.to_string(),
        })
}

/// The directory name sigstore-go gives a mirror's cache: the URL without its scheme, `/` and
/// `:` replaced by `-`, lowercased.
pub fn url_to_path(mirror: &str) -> String {
    let rest = mirror
        .strip_prefix("https://")
        .or_else(|| mirror.strip_prefix("http://"))
        .unwrap_or(mirror);
    rest.replace(['/', ':'], "-").to_lowercase()
}

/// Why trust material could not be had from TUF.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TufError {
    #[error("the TUF mirror {mirror} cannot be reached ({reason}){offline}")]
    Unreachable {
        mirror: String,
        reason: String,
        /// What became of the cache, when it was tried.
        offline: String,
    },
    #[error("TUF metadata from {mirror} does not verify: {reason}")]
    Refused { mirror: String, reason: String },
    #[error("the TUF mirror {mirror} is not a URL: {reason}")]
    Mirror { mirror: String, reason: String },
    #[error("TUF cache {path}: {reason}")]
    Cache { path: String, reason: String },
    #[error("the initial TUF root at {url}: {reason}")]
    Root { url: String, reason: String },
}

/// A TUF repository as a cache directory sees it: where the cache is, the mirror (as the user
/// wrote it: sigstore-go names the cache after the string), and the root to start from.
#[derive(Debug, Clone)]
pub struct Repository {
    pub cache: PathBuf,
    pub mirror: String,
    pub root: Vec<u8>,
}

/// Where the targets came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// Updated from the mirror now.
    Mirror,
    /// The mirror could not be reached; the cache verified offline. `reason` says why the
    /// mirror was not used, `expires` when the cached timestamp metadata expires (RFC 3339).
    Cache { reason: String, expires: String },
}

/// Targets, in the order asked (`None` for one the repository does not list), with where
/// they came from.
#[derive(Debug)]
pub struct Fetched {
    pub targets: Vec<Option<Vec<u8>>>,
    pub freshness: Freshness,
}

impl Repository {
    /// The directory of this mirror's metadata and targets.
    pub fn metadata_dir(&self) -> PathBuf {
        self.cache.join(url_to_path(&self.mirror))
    }

    /// `cosign initialize`: empties the cache, updates from the mirror and fetches `targets`,
    /// then records the mirror in `remote.json` (cosign records it first, so a failed
    /// initialization leaves every later command pointing at a mirror it could not use). No
    /// cache fallback: an initialization that did not reach the mirror has nothing to fall
    /// back on.
    pub async fn initialize(
        &self,
        client: &reqwest::Client,
        targets: &[&str],
    ) -> Result<Fetched, TufError> {
        self.mirror_url("")?;
        let _lock = self.lock().await?;
        clear_directory(&self.cache)?;
        let fetched = self.update(client, targets).await?;
        let remote = serde_json::json!({ "mirror": self.mirror });
        write_whole(
            &self.cache.join("remote.json"),
            remote.to_string().as_bytes(),
        )?;
        Ok(fetched)
    }

    /// The verified `targets`, updated from the mirror; when the mirror cannot be reached and
    /// `offline` allows it, from the cache, verified by the same rules.
    pub async fn fetch(
        &self,
        client: &reqwest::Client,
        targets: &[&str],
        offline: bool,
    ) -> Result<Fetched, TufError> {
        let _lock = self.lock().await?;
        match self.update(client, targets).await {
            Err(TufError::Unreachable { mirror, reason, .. }) if offline => {
                match self.read_cache(targets).await {
                    Ok((targets, expires)) => Ok(Fetched {
                        targets,
                        freshness: Freshness::Cache { reason, expires },
                    }),
                    Err(cached) => Err(TufError::Unreachable {
                        mirror,
                        reason,
                        offline: format!(", and the cache does not serve offline: {cached}"),
                    }),
                }
            }
            other => other,
        }
    }

    async fn lock(&self) -> Result<std::fs::File, TufError> {
        let mut name = self
            .cache
            .file_name()
            .map(std::ffi::OsStr::to_os_string)
            .unwrap_or_else(|| "root".into());
        name.push(".lock");
        let path = self.cache.with_file_name(name);
        let cache_error = cache_error(&path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(&cache_error)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(&cache_error)?;
        let shown = path.display().to_string();
        tokio::task::spawn_blocking(move || {
            rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
                .map(|()| file)
                .map_err(|error| TufError::Cache {
                    path: shown,
                    reason: std::io::Error::from(error).to_string(),
                })
        })
        .await
        .map_err(|error| TufError::Cache {
            path: path.display().to_string(),
            reason: error.to_string(),
        })?
    }

    /// `path` under the mirror; refuses a mirror that is no URL, or whose cache directory
    /// name would not be a directory of its own.
    fn mirror_url(&self, path: &str) -> Result<url::Url, TufError> {
        let invalid = |reason: String| TufError::Mirror {
            mirror: self.mirror.clone(),
            reason,
        };
        if matches!(url_to_path(&self.mirror).as_str(), "" | "." | "..") {
            return Err(invalid("it names no cache directory".to_owned()));
        }
        let base = self.mirror.trim_end_matches('/');
        url::Url::parse(&format!("{base}/{path}")).map_err(|error| invalid(error.to_string()))
    }

    fn loader<'a>(&self, root: &'a Vec<u8>) -> Result<RepositoryLoader<'a>, TufError> {
        let url = |path: &str| self.mirror_url(path);
        let tough_state = self.metadata_dir().join(".tough");
        std::fs::create_dir_all(&tough_state).map_err(cache_error(&tough_state))?;
        Ok(RepositoryLoader::new(root, url("")?, url("targets/")?)
            .datastore(tough_state)
            .expiration_enforcement(tough::ExpirationEnforcement::Safe))
    }

    /// Updates from the mirror, reads `targets`, and caches what the mirror served (only once
    /// all of it verified).
    async fn update(
        &self,
        client: &reqwest::Client,
        targets: &[&str],
    ) -> Result<Fetched, TufError> {
        let transport = MirrorTransport {
            client: client.clone(),
            served: Arc::default(),
            unreachable: Arc::default(),
        };
        let loaded = self
            .loader(&self.root)?
            .transport(transport.clone())
            .load()
            .await;
        // A failure while the mirror could not be reached is the mirror's absence, not a
        // verdict on its metadata.
        let absent = |error: TufError| match transport
            .unreachable
            .lock()
            .ok()
            .and_then(|reason| reason.clone())
        {
            Some(reason) => TufError::Unreachable {
                mirror: self.mirror.clone(),
                reason,
                offline: String::new(),
            },
            None => error,
        };
        let repository = loaded.map_err(|error| absent(self.refused(&error)))?;
        let mut contents = Vec::with_capacity(targets.len());
        for name in targets {
            contents.push(self.read_target(&repository, name).await.map_err(absent)?);
        }
        let served = transport
            .served
            .lock()
            .map(|served| served.clone())
            .unwrap_or_default();
        self.store(&served, targets, &contents)?;
        Ok(Fetched {
            targets: contents,
            freshness: Freshness::Mirror,
        })
    }

    /// The targets from the cache alone, verified as an update from a mirror serving the
    /// cache would be; with the cached timestamp's expiry.
    async fn read_cache(
        &self,
        targets: &[&str],
    ) -> Result<(Vec<Option<Vec<u8>>>, String), TufError> {
        let directory = self.metadata_dir();
        let root_path = directory.join("root.json");
        let root = read_capped(&root_path)
            .await
            .map_err(cache_error(&root_path))?;
        let repository = self
            .loader(&root)?
            .transport(CacheTransport {
                directory: directory.clone(),
            })
            .load()
            .await
            .map_err(|error| TufError::Cache {
                path: directory.display().to_string(),
                reason: chain(&error),
            })?;
        let mut contents = Vec::with_capacity(targets.len());
        for name in targets {
            contents.push(self.read_target(&repository, name).await?);
        }
        let expires = repository.timestamp().signed.expires.to_string();
        Ok((contents, expires))
    }

    /// The target `name`, verified; `None` when the repository does not list it.
    async fn read_target(
        &self,
        repository: &tough::Repository,
        name: &str,
    ) -> Result<Option<Vec<u8>>, TufError> {
        let target = TargetName::new(name).map_err(|error| self.refused(&error))?;
        let Some(stream) = repository
            .read_target(&target)
            .await
            .map_err(|error| self.refused(&error))?
        else {
            return Ok(None);
        };
        stream
            .into_vec()
            .await
            .map(Some)
            .map_err(|error| self.refused(&error))
    }

    fn refused(&self, error: &tough::error::Error) -> TufError {
        TufError::Refused {
            mirror: self.mirror.clone(),
            reason: chain(error),
        }
    }

    /// Writes what the mirror served and tough verified, as sigstore-go lays it out: the newest
    /// root (or the one started from), the newest timestamp, snapshot and targets metadata,
    /// and the targets read.
    fn store(
        &self,
        served: &[(String, Vec<u8>)],
        names: &[&str],
        contents: &[Option<Vec<u8>>],
    ) -> Result<(), TufError> {
        let directory = self.metadata_dir();
        let newest = |role: &str| {
            served
                .iter()
                .rev()
                .find(|(path, _)| metadata_role(path) == Some(role))
                .map(|(_, bytes)| bytes.as_slice())
        };
        let root = newest("root").unwrap_or(&self.root);
        write_whole(&directory.join("root.json"), root)?;
        for role in ["timestamp", "snapshot", "targets"] {
            if let Some(bytes) = newest(role) {
                write_whole(&directory.join(format!("{role}.json")), bytes)?;
            }
        }
        for (name, bytes) in names.iter().zip(contents) {
            let Some(bytes) = bytes else { continue };
            write_whole(
                &directory.join("targets").join(target_file_name(name)),
                bytes,
            )?;
        }
        Ok(())
    }
}

/// The role of a metadata path a client fetches (`3.root.json`, `timestamp.json`,
/// `12.snapshot.json`), or `None` for anything else.
fn metadata_role(path: &str) -> Option<&str> {
    if path.contains('/') {
        return None;
    }
    let stem = path.strip_suffix(".json")?;
    let role = match stem.split_once('.') {
        Some((version, role)) if version.bytes().all(|byte| byte.is_ascii_digit()) => role,
        Some(_) => return None,
        None => stem,
    };
    ["root", "timestamp", "snapshot", "targets"]
        .into_iter()
        .find(|known| *known == role)
}

/// A target's file name in the cache: its name with anything that could leave the directory
/// escaped (Sigstore's targets are plain names).
fn target_file_name(name: &str) -> String {
    match name {
        "" | "." | ".." => name.replace('.', "%2E") + "%00",
        _ => name.replace('%', "%25").replace('/', "%2F"),
    }
}

/// Every cause of a tough error, joined: tough's top level says which role failed, its causes
/// say why.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn cache_error(path: &Path) -> impl Fn(std::io::Error) -> TufError + '_ {
    move |error| TufError::Cache {
        path: path.display().to_string(),
        reason: error.to_string(),
    }
}

/// Removes what `directory` holds (creating it when missing), as `cosign initialize` starts
/// from an empty cache.
fn clear_directory(directory: &Path) -> Result<(), TufError> {
    let error = cache_error(directory);
    std::fs::create_dir_all(directory).map_err(&error)?;
    for entry in std::fs::read_dir(directory).map_err(&error)? {
        let path = entry.map_err(&error)?.path();
        let removed = if path.is_dir() && !path.is_symlink() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(cache_error(&path))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` whole: a temporary file beside it, then a rename.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), TufError> {
    let error = cache_error(path);
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(&error)?;
    let mut temporary = path.as_os_str().to_os_string();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, bytes).map_err(&error)?;
    std::fs::rename(&temporary, path).map_err(|rename| {
        let _ = std::fs::remove_file(&temporary);
        error(rename)
    })
}

/// A file of the mirror or the cache, refused past [`FETCH_LIMIT`] before it is read.
async fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    let size = tokio::fs::metadata(path).await?.len();
    if size > FETCH_LIMIT as u64 {
        return Err(std::io::Error::other(format!(
            "{} is {size} bytes, over the {FETCH_LIMIT}-byte limit",
            path.display()
        )));
    }
    tokio::fs::read(path).await
}

fn stream(bytes: Vec<u8>) -> tough::TransportStream {
    Box::pin(futures::stream::iter([Ok::<_, TransportError>(
        Bytes::from(bytes),
    )]))
}

/// Files by their path under the mirror (`timestamp.json`, `targets/<hash>.<name>`).
type Served = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// The mirror over HTTP(S) or `file://`, remembering what it served (by path under the
/// mirror) and whether it could be reached at all.
#[derive(Debug, Clone)]
struct MirrorTransport {
    client: reqwest::Client,
    served: Served,
    unreachable: Arc<Mutex<Option<String>>>,
}

#[async_trait::async_trait]
impl Transport for MirrorTransport {
    async fn fetch(&self, url: url::Url) -> Result<tough::TransportStream, TransportError> {
        use tough::TransportErrorKind::{FileNotFound, Other};
        let name = url
            .path_segments()
            .map(|segments| {
                let segments: Vec<&str> = segments.collect();
                match segments.as_slice() {
                    [.., "targets", file] => format!("targets/{file}"),
                    [.., file] => (*file).to_owned(),
                    [] => String::new(),
                }
            })
            .unwrap_or_default();
        let fetched = if url.scheme() == "file" {
            let path = url
                .to_file_path()
                .map_err(|()| TransportError::new(Other, url.as_str()))?;
            match read_capped(&path).await {
                Ok(bytes) => Ok(bytes),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    Err(TransportError::new(FileNotFound, url.as_str()))
                }
                Err(error) => Err(TransportError::new_with_cause(Other, url.as_str(), error)),
            }
        } else {
            match http::get(&self.client, Service("TUF mirror"), &url, None, FETCH_LIMIT).await {
                Ok(bytes) => Ok(bytes),
                // S3 and GCS answer 403 for what they do not hold.
                Err(HttpError::Status {
                    status: 404 | 403, ..
                }) => Err(TransportError::new(FileNotFound, url.as_str())),
                Err(error @ HttpError::Unreachable { .. }) => {
                    if let Ok(mut unreachable) = self.unreachable.lock() {
                        unreachable.get_or_insert_with(|| error.to_string());
                    }
                    Err(TransportError::new_with_cause(Other, url.as_str(), error))
                }
                Err(error) => Err(TransportError::new_with_cause(Other, url.as_str(), error)),
            }
        };
        let bytes = fetched?;
        if let Ok(mut served) = self.served.lock() {
            served.push((name, bytes.clone()));
        }
        Ok(stream(bytes))
    }
}

/// The cache as a mirror: the cached timestamp, snapshot and targets metadata whatever version
/// is asked (tough checks the versions and hashes the timestamp and snapshot name), no newer
/// root, and the cached targets whatever hash prefix is asked (tough checks their hashes).
#[derive(Debug, Clone)]
struct CacheTransport {
    directory: PathBuf,
}

#[async_trait::async_trait]
impl Transport for CacheTransport {
    async fn fetch(&self, url: url::Url) -> Result<tough::TransportStream, TransportError> {
        use tough::TransportErrorKind::{FileNotFound, Other};
        let segments: Vec<String> = url
            .path_segments()
            .map(|segments| segments.map(str::to_owned).collect())
            .unwrap_or_default();
        let path = match segments.as_slice() {
            [.., directory, file] if directory == "targets" => {
                // `<hash>.<name>` with consistent snapshots, `<name>` without.
                let name = match file.split_once('.') {
                    Some((hash, name))
                        if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
                    {
                        name
                    }
                    _ => file.as_str(),
                };
                let name = percent_decode(name);
                self.directory.join("targets").join(target_file_name(&name))
            }
            [.., file] => match metadata_role(file) {
                Some("root") | None => return Err(TransportError::new(FileNotFound, url.as_str())),
                Some(role) => self.directory.join(format!("{role}.json")),
            },
            [] => return Err(TransportError::new(FileNotFound, url.as_str())),
        };
        match read_capped(&path).await {
            Ok(bytes) => Ok(stream(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Err(TransportError::new(FileNotFound, url.as_str()))
            }
            Err(error) => Err(TransportError::new_with_cause(Other, url.as_str(), error)),
        }
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("n={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_directories_are_named_as_sigstore_go_names_them() {
        assert_eq!(
            url_to_path("https://tuf-repo-cdn.sigstore.dev"),
            "tuf-repo-cdn.sigstore.dev"
        );
        assert_eq!(url_to_path("http://127.0.0.1:8080"), "127.0.0.1-8080");
        assert_eq!(
            url_to_path("https://GitHub.github.com/prod-tuf-root/"),
            "github.github.com-prod-tuf-root-"
        );
    }

    #[test]
    fn metadata_paths_name_their_role() {
        assert_eq!(metadata_role("3.root.json"), Some("root"));
        assert_eq!(metadata_role("timestamp.json"), Some("timestamp"));
        assert_eq!(metadata_role("12.snapshot.json"), Some("snapshot"));
        assert_eq!(metadata_role("7.targets.json"), Some("targets"));
        assert_eq!(metadata_role("targets/abc.trusted_root.json"), None);
        assert_eq!(metadata_role("x.root.json"), None);
        assert_eq!(metadata_role("registry.npmjs.org.json"), None);
    }

    #[test]
    fn target_names_stay_in_the_targets_directory() {
        assert_eq!(target_file_name("trusted_root.json"), "trusted_root.json");
        assert_eq!(target_file_name("../x"), "..%2Fx");
        assert_eq!(target_file_name(".."), "%2E%2E%00");
        assert_eq!(percent_decode("a%2Fb"), "a/b");
    }
}
