//! cosign's TUF settings, read as cosign 3.1 reads them, for the trusted root and signing config
//! that `verify` and `sign` use when none is named:
//!
//! - the cache: `$TUF_ROOT`, else `~/.sigstore/root` (sigstore-go's, shared with cosign);
//! - the mirror: `$TUF_MIRROR`, else the one `cosign initialize` recorded in `remote.json`;
//!   neither means TUF was never set up, and the public-good material embedded in cosign-rs
//!   serves (cosign would fetch it from the public-good mirror);
//! - the root to start from: `$TUF_ROOT_JSON`, else the cached `root.json` of that mirror, else
//!   (for the public-good mirror only) the embedded public-good root.
//!
//! Each use updates from the mirror as cosign does; when the mirror cannot be reached, the cache
//! is verified again offline and used until its metadata expires, with a warning.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cosign_services::tuf::{Freshness, Repository, PUBLIC_GOOD_MIRROR, PUBLIC_GOOD_ROOT};

use crate::console;
use crate::error::CliError;
use crate::key_files::read_limited_to;

/// TUF metadata files (`remote.json`, a root) are far smaller than this.
const METADATA_LIMIT: u64 = 1024 * 1024;

/// A TUF update is a handful of small files.
const TUF_TIMEOUT: Duration = Duration::from_secs(60);

fn variable(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// `$TUF_ROOT`, else `~/.sigstore/root`.
pub fn cache_directory() -> PathBuf {
    if let Some(directory) = variable("TUF_ROOT") {
        return PathBuf::from(directory);
    }
    let home = variable("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".sigstore").join("root")
}

/// The repository TUF settings name, or `None` when TUF was never set up.
pub fn configured() -> Result<Option<Repository>, CliError> {
    let cache = cache_directory();
    let mirror = match variable("TUF_MIRROR") {
        Some(mirror) => mirror,
        None => {
            let remote = cache.join("remote.json");
            if !remote.exists() {
                return Ok(None);
            }
            let bytes = read_limited_to(&remote, METADATA_LIMIT)
                .map_err(|error| error.context("error reading remote.json"))?;
            let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|error| {
                CliError::new(format!(
                    "error unmarshalling remote.json: {}: {error}",
                    remote.display()
                ))
            })?;
            value
                .get("mirror")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        }
    };
    let repository = Repository {
        cache,
        mirror,
        root: Vec::new(),
    };
    let cached = repository.metadata_dir().join("root.json");
    let root = if let Some(file) = variable("TUF_ROOT_JSON") {
        read_limited_to(Path::new(&file), METADATA_LIMIT)
            .map_err(|error| error.context("error reading root.json given by TUF_ROOT_JSON"))?
    } else if cached.exists() {
        read_limited_to(&cached, METADATA_LIMIT)?
    } else if repository.mirror == PUBLIC_GOOD_MIRROR {
        PUBLIC_GOOD_ROOT.to_vec()
    } else {
        return Err(CliError::new(format!(
            "could not find cached root.json for the TUF mirror {} ({})",
            repository.mirror,
            cached.display()
        ))
        .with_hint(format!(
            "run `cosign initialize --mirror {} --root ROOT.json`, or set TUF_ROOT_JSON",
            repository.mirror
        )));
    };
    Ok(Some(Repository { root, ..repository }))
}

/// Targets already had from TUF in this process: a command that needs one twice (or, with
/// [`prefetch`], several) asks the mirror once.
static FETCHED: std::sync::Mutex<Vec<(String, Vec<u8>)>> = std::sync::Mutex::new(Vec::new());

fn fetched(name: &str) -> Option<Vec<u8>> {
    FETCHED
        .lock()
        .ok()
        .and_then(|fetched| fetched.iter().find(|(known, _)| known == name).cloned())
        .map(|(_, bytes)| bytes)
}

/// The verified target `name` from the configured TUF repository: `Ok(None)` when TUF was never
/// set up, an error when the repository does not list it or cannot be had.
pub fn target(name: &str) -> Result<Option<Vec<u8>>, CliError> {
    if let Some(bytes) = fetched(name) {
        return Ok(Some(bytes));
    }
    let Some(mirror) = update(&[name])? else {
        return Ok(None);
    };
    fetched(name).map(Some).ok_or_else(|| {
        CliError::new(format!("the TUF repository at {mirror} has no {name}")).with_hint(
            "cosign-rs reads Sigstore's trust material from trusted_root.json and signing_config.v0.2.json targets; name the files with --trusted-root or --signing-config",
        )
    })
}

/// Fetches `names` from the configured TUF repository in one update, for [`target`] to find
/// (a target the repository does not list is reported when [`target`] asks for it).
pub fn prefetch(names: &[&str]) -> Result<(), CliError> {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| fetched(name).is_none())
        .collect();
    if !missing.is_empty() {
        update(&missing)?;
    }
    Ok(())
}

/// Updates from the configured repository and keeps the `names` it lists in [`FETCHED`];
/// `None` when TUF was never set up, else the mirror.
fn update(names: &[&str]) -> Result<Option<String>, CliError> {
    let Some(repository) = configured()? else {
        return Ok(None);
    };
    let fetched = block(async {
        let client = cosign_services::client(TUF_TIMEOUT)
            .map_err(|error| CliError::new(format!("starting the HTTP client: {error}")))?;
        repository
            .fetch(&client, names, true)
            .await
            .map_err(|error| {
                CliError::new(error.to_string()).with_hint(
                    "run `cosign initialize` again when the mirror is reachable, or name the file with --trusted-root (verify) or --signing-config (sign)",
                )
            })
    })??;
    if let Freshness::Cache { reason, expires } = &fetched.freshness {
        console::warn(format_args!(
            "the TUF mirror {} cannot be reached ({reason}); using its cached metadata, verified again offline (valid until {expires})",
            repository.mirror
        ));
    }
    if let Ok(mut known) = FETCHED.lock() {
        for (name, bytes) in names.iter().zip(fetched.targets) {
            if let Some(bytes) = bytes {
                known.push(((*name).to_owned(), bytes));
            }
        }
    }
    Ok(Some(repository.mirror))
}

/// Runs `work` to completion from synchronous code, inside a runtime or not.
pub fn block<T>(work: impl std::future::Future<Output = T>) -> Result<T, CliError> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            Ok(tokio::task::block_in_place(|| handle.block_on(work)))
        }
        Ok(_) => Err(CliError::new(
            "a TUF update cannot run on a single-threaded runtime",
        )),
        Err(_) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| CliError::new(format!("starting the runtime: {error}")))?;
            Ok(runtime.block_on(work))
        }
    }
}
