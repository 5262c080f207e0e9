//! `cosign verify-blob --key`: checks a blob against a Sigstore bundle (`--bundle`) or a bare
//! signature (`--signature`), hashing the blob as it streams by.

use base64::Engine as _;
use cosign_core::bundle::Bundle;
use cosign_core::bundle_verification::{verify_with_key, Artifact};
use cosign_core::keys::PublicKey;
use cosign_core::transparency_log;
use cosign_core::trusted_root::TrustedRoot;

use crate::args::VerifyBlobArgs;
use crate::blob;
use crate::console;
use crate::error::CliError;
use crate::key_files::load_key_reference;

/// The largest `--signature` file we read.
const SIGNATURE_LIMIT: u64 = 1024 * 1024;

pub fn run(args: &VerifyBlobArgs) -> Result<(), CliError> {
    let Some(key_reference) = &args.key else {
        return Err(CliError::not_supported(
            "keyless verification (no --key)",
            "verify with the signer's public key: `cosign verify-blob --key cosign.pub --bundle BUNDLE FILE`",
        ));
    };
    if args.certificate.is_some()
        || args.certificate_identity.is_some()
        || args.certificate_oidc_issuer.is_some()
    {
        return Err(CliError::not_supported(
            "certificate verification",
            "verify with --key",
        ));
    }
    if args.insecure_ignore_tlog {
        console::warn("Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the blob.");
    }
    let key = PublicKey::from_pem(&load_key_reference(key_reference)?)?;
    let needs_bytes = !matches!(
        key.default_algorithm().hash(),
        Some(cosign_core::keys::HashAlgorithm::Sha256)
    ) || matches!(key, PublicKey::Ed25519(_));
    let bundle = match (&args.bundle, &args.signature) {
        (Some(path), _) => {
            let bytes = crate::key_files::read_limited_to(
                path,
                cosign_core::bundle::BUNDLE_SIZE_LIMIT as u64,
            )?;
            let bundle = Bundle::parse(&bytes)
                .map_err(|error| CliError::new(format!("loading bundle: {error}")))?;
            Some(bundle)
        }
        (None, Some(_)) => None,
        (None, None) => {
            return Err(CliError::usage(
                "either --bundle or --signature must be given",
            ))
        }
    };
    let hashed = blob::hash(&args.blob, needs_bytes)?;
    let artifact = Artifact {
        sha256: &hashed.sha256,
        bytes: hashed.bytes.as_deref(),
    };
    match bundle {
        Some(bundle) => {
            verify_with_key(&bundle, &key, Some(artifact))
                .map_err(|error| CliError::new(error.to_string()))?;
            if !args.insecure_ignore_tlog {
                let root = trusted_root(args.trusted_root.as_deref())?;
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
                    .unwrap_or_default();
                transparency_log::verify_entries(&bundle, &root, &hashed.sha256, &key, now, 1)
                    .map_err(|error| {
                        CliError::new(format!("failed to verify log inclusion: {error}")).with_hint(
                            "a bundle signed with a key offline has no log entry: pass --insecure-ignore-tlog to verify it without one",
                        )
                    })?;
            }
        }
        None if !args.insecure_ignore_tlog => {
            return Err(
                CliError::new("a bare --signature carries no transparency log entry").with_hint(
                    "pass --insecure-ignore-tlog to verify it without one, or verify a --bundle",
                ),
            );
        }
        None => {
            let signature = read_signature(args.signature.as_deref().unwrap_or_default())?;
            // A bare signature: the same checks as a bundle without a declared digest.
            let bundle = Bundle::for_message_signature(&key, None, signature)?;
            verify_with_key(&bundle, &key, Some(artifact))
                .map_err(|error| CliError::new(error.to_string()))?;
        }
    }
    console::info("Verified OK");
    Ok(())
}

/// The trusted root: `--trusted-root`, else `SIGSTORE_ROOT_FILE`, else the public-good root
/// embedded in the binary (no network needed).
fn trusted_root(path: Option<&str>) -> Result<TrustedRoot, CliError> {
    let from_file = path
        .map(str::to_owned)
        .or_else(|| std::env::var("SIGSTORE_ROOT_FILE").ok());
    let bytes = match &from_file {
        Some(path) => crate::key_files::read_limited_to(
            std::path::Path::new(path),
            cosign_core::trusted_root::TRUSTED_ROOT_SIZE_LIMIT as u64,
        )?,
        None => cosign_core::trusted_root::PUBLIC_GOOD.to_vec(),
    };
    TrustedRoot::parse(&bytes).map_err(|error| CliError::new(error.to_string()))
}

/// `--signature`: a file holding the base64 signature (or raw bytes), or the base64 itself.
fn read_signature(value: &str) -> Result<Vec<u8>, CliError> {
    let path = std::path::Path::new(value);
    let text = if path.exists() {
        crate::key_files::read_limited_to(path, SIGNATURE_LIMIT)?
    } else {
        value.as_bytes().to_vec()
    };
    let trimmed = String::from_utf8_lossy(&text).trim().to_owned();
    match base64::engine::general_purpose::STANDARD.decode(trimmed.as_bytes()) {
        Ok(decoded) => Ok(decoded),
        Err(_) => Ok(text),
    }
}
