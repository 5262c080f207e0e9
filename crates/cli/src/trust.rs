//! The trusted material verification uses: `--trusted-root FILE`; else the public-good trusted
//! root embedded in the binary (no network), with cosign's environment overrides, each
//! replacing its part:
//!
//! - `SIGSTORE_ROOT_FILE`: PEM CA certificates (roots and intermediates) for Fulcio,
//! - `SIGSTORE_REKOR_PUBLIC_KEY`: the PEM public key of the transparency log,
//! - `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`: the PEM public key of the certificate transparency log,
//! - `SIGSTORE_TSA_CERTIFICATE_FILE`: the PEM chain (leaf, intermediates, root) of the timestamp
//!   authority.

use std::path::Path;

use cosign_core::certificate::Certificate;
use cosign_core::keys::PublicKey;
use cosign_core::trusted_root::{
    CertificateAuthority, TransparencyLogInstance, TrustedRoot, PUBLIC_GOOD,
    TRUSTED_ROOT_SIZE_LIMIT,
};

use crate::error::CliError;
use crate::key_files::read_limited_to;

/// PEM files named by the environment are no larger than this.
const PEM_LIMIT: u64 = 1024 * 1024;

pub fn trusted_root(path: Option<&str>) -> Result<TrustedRoot, CliError> {
    if let Some(path) = path {
        let bytes = read_limited_to(Path::new(path), TRUSTED_ROOT_SIZE_LIMIT as u64)?;
        return TrustedRoot::parse(&bytes).map_err(|error| CliError::new(error.to_string()));
    }
    let mut root =
        TrustedRoot::parse(PUBLIC_GOOD).map_err(|error| CliError::new(error.to_string()))?;
    let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    if let Some(file) = variable("SIGSTORE_ROOT_FILE") {
        let pool = certificates(&file, "SIGSTORE_ROOT_FILE")?;
        root.certificate_authorities = CertificateAuthority::chains_from_pool(&pool);
        if root.certificate_authorities.is_empty() {
            return Err(CliError::new(format!(
                "SIGSTORE_ROOT_FILE {file}: no chain ends in a self-signed root certificate"
            )));
        }
    }
    if let Some(file) = variable("SIGSTORE_REKOR_PUBLIC_KEY") {
        root.tlogs = vec![log_from_key(&file, "SIGSTORE_REKOR_PUBLIC_KEY")?];
    }
    if let Some(file) = variable("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE") {
        root.ct_logs = vec![log_from_key(&file, "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE")?];
    }
    if let Some(file) = variable("SIGSTORE_TSA_CERTIFICATE_FILE") {
        let chain = certificates(&file, "SIGSTORE_TSA_CERTIFICATE_FILE")?;
        root.timestamp_authorities = vec![CertificateAuthority::new(
            "SIGSTORE_TSA_CERTIFICATE_FILE",
            chain,
            i64::MIN,
            None,
        )];
    }
    Ok(root)
}

fn certificates(file: &str, variable: &str) -> Result<Vec<Certificate>, CliError> {
    let bytes = read_limited_to(Path::new(file), PEM_LIMIT)?;
    Certificate::all_from_pem(&bytes)
        .map_err(|error| CliError::new(format!("{variable} {file}: {error}")))
}

fn log_from_key(file: &str, variable: &str) -> Result<TransparencyLogInstance, CliError> {
    let bytes = read_limited_to(Path::new(file), PEM_LIMIT)?;
    let key = PublicKey::from_pem(&bytes)
        .map_err(|error| CliError::new(format!("{variable} {file}: {error}")))?;
    TransparencyLogInstance::from_key(variable, key)
        .map_err(|error| CliError::new(format!("{variable} {file}: {error}")))
}
