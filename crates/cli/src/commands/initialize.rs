//! `cosign initialize`: sets up the TUF repository that verification and signing take Sigstore's
//! trust material from (crate::tuf): starts from `--root` (a file, or a URL checked against
//! `--root-checksum`) or the embedded public-good root, updates from `--mirror`, verifies and
//! caches `trusted_root.json` and `signing_config.v0.2.json` where cosign caches them, and
//! records the mirror.

use std::path::Path;
use std::time::Duration;

use cosign_services::tuf::{
    self, Repository, PUBLIC_GOOD_ROOT, SIGNING_CONFIG_TARGET, STAGING_MIRROR, STAGING_ROOT,
    TRUSTED_ROOT_TARGET,
};
use sha2::Digest as _;

use crate::args::InitializeArgs;
use crate::console;
use crate::error::CliError;
use crate::key_files::read_limited_to;

const ROOT_LIMIT: u64 = 1024 * 1024;

pub fn run(args: &InitializeArgs) -> Result<(), CliError> {
    crate::tuf::block(initialize(args))?
}

async fn initialize(args: &InitializeArgs) -> Result<(), CliError> {
    let client = cosign_services::client(Duration::from_secs(60))
        .map_err(|error| CliError::new(format!("starting the HTTP client: {error}")))?;
    let (mirror, root) = if args.staging {
        (STAGING_MIRROR.to_owned(), STAGING_ROOT.to_vec())
    } else {
        let root = match &args.root {
            None => PUBLIC_GOOD_ROOT.to_vec(),
            Some(reference) => load_root(&client, reference, args.root_checksum.as_deref()).await?,
        };
        (args.mirror.clone(), root)
    };
    let repository = Repository {
        cache: crate::tuf::cache_directory(),
        mirror,
        root,
    };
    let fetched = repository
        .initialize(&client, &[SIGNING_CONFIG_TARGET, TRUSTED_ROOT_TARGET])
        .await
        .map_err(|error| {
            let hint = match error {
                tuf::TufError::Unreachable { .. } => {
                    "`cosign initialize` needs its mirror; offline, verify with --trusted-root FILE and sign with --signing-config FILE, or go on without TUF: the public-good trusted root embedded in cosign-rs is the default"
                }
                _ => "check --mirror and --root: the root must be one the repository's metadata chains to",
            };
            CliError::new(error.to_string()).with_hint(hint)
        })?;
    let mut targets = fetched.targets.into_iter();
    if targets.next().flatten().is_none() {
        console::warn(format_args!(
            "Could not fetch signing_config.json from the TUF mirror (encountered error: the repository at {} has no {SIGNING_CONFIG_TARGET}). It is recommended to use a signing config file rather than provide service URLs when signing.",
            repository.mirror
        ));
    }
    if targets.next().flatten().is_none() {
        return Err(CliError::new(format!(
            "the TUF repository at {} has no {TRUSTED_ROOT_TARGET}, and its legacy individual targets (Fulcio, Rekor and CT log keys) are not supported by cosign-rs",
            repository.mirror
        ))
        .with_hint("publish a trusted_root.json target in the repository, or verify with --trusted-root FILE"));
    }
    Ok(())
}

/// `--root`: a file, or a URL (cosign warns when no checksum protects a downloaded root);
/// checked against `--root-checksum` (`[sha256:|sha512:]HEX`) when given.
async fn load_root(
    client: &reqwest::Client,
    reference: &str,
    checksum: Option<&str>,
) -> Result<Vec<u8>, CliError> {
    let checksum = checksum.filter(|checksum| !checksum.is_empty());
    let remote = reference.starts_with("http://") || reference.starts_with("https://");
    let bytes = if remote {
        if checksum.is_none() {
            console::info("WARNING: Fetching initial root from URL without providing its checksum is deprecated and will be disallowed in a future Cosign release. Please provide the initial root checksum via the --root-checksum argument.");
        }
        tuf::download_root(client, reference)
            .await
            .map_err(|error| CliError::new(error.to_string()))?
    } else {
        read_limited_to(Path::new(reference), ROOT_LIMIT)?
    };
    if let Some(checksum) = checksum {
        let parts: Vec<&str> = checksum.split(':').collect();
        let (algorithm, expected) = match parts.as_slice() {
            [value] => ("sha256", *value),
            [algorithm, value] => (*algorithm, *value),
            _ => {
                return Err(CliError::new(format!(
                    "wrong checksum input format, must have at most 1 colon: {checksum}"
                )))
            }
        };
        let computed = match algorithm {
            "sha256" => cosign_core::digest::hex_encode(&sha2::Sha256::digest(&bytes)),
            "sha512" => cosign_core::digest::hex_encode(&sha2::Sha512::digest(&bytes)),
            other => {
                return Err(CliError::new(format!(
                    "unsupported checksum algorithm: {other}"
                )))
            }
        };
        if computed != expected {
            return Err(CliError::new(format!(
                "incorrect checksum for file {reference}: expected {expected} but got {computed}"
            )));
        }
    }
    Ok(bytes)
}
