//! The trusted material verification uses: `--trusted-root FILE`; else `trusted_root.json` from
//! the TUF repository `cosign initialize` set up (crate::tuf); else the public-good trusted root
//! embedded in the binary (no network); with cosign's environment overrides, each replacing its
//! part:
//!
//! - `SIGSTORE_ROOT_FILE`: PEM CA certificates (roots and intermediates) for Fulcio,
//! - `SIGSTORE_REKOR_PUBLIC_KEY`: the PEM public key of the transparency log,
//! - `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`: the PEM public key of the certificate transparency log,
//! - `SIGSTORE_TSA_CERTIFICATE_FILE`: the PEM chain (leaf, intermediates, root) of the timestamp
//!   authority.

use std::path::Path;

use cosign_core::keys::PublicKey;
use cosign_core::trust::certificate::Certificate;
use cosign_core::trust::trusted_root::{
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
    let mut root = match crate::tuf::target(cosign_services::tuf::TRUSTED_ROOT_TARGET)? {
        Some(bytes) => TrustedRoot::parse(&bytes)
            .map_err(|error| CliError::new(format!("trusted_root.json from TUF: {error}")))?,
        None => {
            TrustedRoot::parse(PUBLIC_GOOD).map_err(|error| CliError::new(error.to_string()))?
        }
    };
    let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    if let Some(file) = variable("SIGSTORE_ROOT_FILE") {
        let pool = certificates(&file, "SIGSTORE_ROOT_FILE")?;
        root.certificate_authorities =
            CertificateAuthority::chains_from_pool(&pool, "SIGSTORE_ROOT_FILE");
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

/// The identity policy from cosign's keyless flags: an identity and an issuer are both required
/// (exact or as a regular expression), GitHub workflow claims are optional.
pub fn identity_policy(
    args: &crate::args::CertificateIdentityArgs,
) -> Result<cosign_core::trust::certificate::IdentityPolicy, CliError> {
    use cosign_core::trust::certificate::{GithubClaim, IdentityPolicy};
    if args.certificate_identity.is_none() && args.certificate_identity_regexp.is_none() {
        return Err(CliError::new(
            "--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode",
        )
        .with_hint("or verify with the signer's public key: --key cosign.pub"));
    }
    if args.certificate_oidc_issuer.is_none() && args.certificate_oidc_issuer_regexp.is_none() {
        return Err(CliError::new(
            "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode",
        ));
    }
    let mut policy = IdentityPolicy::new(
        args.certificate_identity.as_deref(),
        args.certificate_identity_regexp.as_deref(),
        args.certificate_oidc_issuer.as_deref(),
        args.certificate_oidc_issuer_regexp.as_deref(),
    )
    .map_err(|error| CliError::new(error.to_string()))?;
    for (claim, value) in [
        (
            GithubClaim::Trigger,
            &args.certificate_github_workflow_trigger,
        ),
        (GithubClaim::Sha, &args.certificate_github_workflow_sha),
        (GithubClaim::Name, &args.certificate_github_workflow_name),
        (
            GithubClaim::Repository,
            &args.certificate_github_workflow_repository,
        ),
        (GithubClaim::Ref, &args.certificate_github_workflow_ref),
    ] {
        if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
            policy = policy.with_claim(claim, value);
        }
    }
    Ok(policy)
}

/// cosign's warning for `--insecure-ignore-tlog`; `what` is its word for what is verified
/// ("signature", "attestation", "blob", "blob attestation").
pub fn warn_ignored_tlog(what: &str) {
    crate::console::warn(format_args!("Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the {what}."));
}

/// Seconds since 1970.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// What keyless verification requires, from `--insecure-ignore-sct`,
/// `--use-signed-timestamps` and `--insecure-ignore-tlog`.
pub fn keyless_requirements(
    args: &crate::args::VerificationArgs,
    insecure_ignore_tlog: bool,
) -> cosign_core::verify::keyless::Requirements {
    use cosign_core::trust::certificate::SctRequirement;
    use cosign_core::verify::keyless::LogRequirement;
    cosign_core::verify::keyless::Requirements {
        sct: if args.insecure_ignore_sct {
            SctRequirement::InsecureIgnore
        } else {
            SctRequirement::Embedded
        },
        signed_timestamps: usize::from(args.use_signed_timestamps),
        transparency_log: if insecure_ignore_tlog {
            LogRequirement::InsecureIgnore
        } else {
            LogRequirement::Entry
        },
    }
}

/// `sign --trusted-root`: read and checked as cosign reads it; with a key and no transparency
/// log or timestamp authority there is nothing to verify against it after signing.
pub fn check_signing_trusted_root(args: &crate::args::SigningServicesArgs) -> Result<(), CliError> {
    if let Some(path) = &args.trusted_root {
        trusted_root(Some(&path.to_string_lossy()))?;
    }
    Ok(())
}

/// The keyless authority cosign's flags describe, for `verify`, `verify-blob` and the
/// attestation commands alike: the certificate identity (both flags required); the trusted
/// root (`--trusted-root`, else TUF's or the embedded public-good root with cosign's
/// `SIGSTORE_*` overrides), whose CAs `--certificate-chain` or `--ca-roots` (with
/// `--ca-intermediates`) replace; `--certificate`, the one certificate signatures must carry;
/// the named requirements (`--insecure-ignore-tlog`: the certificate is checked at a
/// timestamp's time, else now, as in cosign).
pub fn keyless_authority(
    identity: &crate::args::CertificateIdentityArgs,
    trusted_root_path: Option<&str>,
    verification: &crate::args::VerificationArgs,
    insecure_ignore_tlog: bool,
    what: &str,
) -> Result<cosign_core::verify::KeylessAuthority, CliError> {
    let identity = identity_policy(identity)?;
    if insecure_ignore_tlog {
        warn_ignored_tlog(what);
    }
    let mut trusted_root = trusted_root(trusted_root_path)?;
    if let Some(pool) = certificate_authority_files(verification)? {
        if trusted_root_path.is_some() {
            return Err(CliError::usage(
                "--trusted-root cannot be combined with --certificate-chain or --ca-roots: put the CAs in the trusted root, or drop --trusted-root",
            ));
        }
        trusted_root.certificate_authorities = pool;
    }
    let certificate = match &verification.certificate {
        None => None,
        Some(path) => Some(Box::new(crate::signing_certificate::certificate_file(
            path,
        )?)),
    };
    Ok(cosign_core::verify::KeylessAuthority {
        trusted_root,
        identities: vec![identity],
        requirements: keyless_requirements(verification, insecure_ignore_tlog),
        certificate,
    })
}

/// The CAs of `--certificate-chain` (from the signing certificate's issuer to the root) or of
/// `--ca-roots` with `--ca-intermediates`, as certificate authorities trusted at any time; none
/// when neither is given.
fn certificate_authority_files(
    verification: &crate::args::VerificationArgs,
) -> Result<Option<Vec<CertificateAuthority>>, CliError> {
    let read = |path: &Path, flag: &str| -> Result<Vec<Certificate>, CliError> {
        let bytes = read_limited_to(path, PEM_LIMIT)?;
        let certificates = Certificate::all_from_pem(&bytes)
            .map_err(|error| CliError::new(format!("{flag} {}: {error}", path.display())))?;
        if certificates.is_empty() {
            return Err(CliError::new(format!(
                "{flag} {}: no certificates found",
                path.display()
            )));
        }
        let limit = crate::signing_certificate::CERTIFICATE_COUNT_LIMIT;
        if certificates.len() > limit {
            return Err(CliError::new(format!(
                "{flag} {}: more than {limit} certificates",
                path.display()
            )));
        }
        Ok(certificates)
    };
    let (pool, flag) = match (&verification.certificate_chain, &verification.ca_roots) {
        (Some(chain), _) => (read(chain, "--certificate-chain")?, "--certificate-chain"),
        (None, Some(roots)) => {
            let mut pool = read(roots, "--ca-roots")?;
            if let Some(intermediates) = &verification.ca_intermediates {
                pool.extend(read(intermediates, "--ca-intermediates")?);
            }
            (pool, "--ca-roots")
        }
        (None, None) => {
            if verification.ca_intermediates.is_some() {
                return Err(CliError::usage("--ca-intermediates needs --ca-roots"));
            }
            return Ok(None);
        }
    };
    let authorities = CertificateAuthority::chains_from_pool(&pool, flag);
    if authorities.is_empty() {
        return Err(CliError::new(format!(
            "{flag}: no chain of these certificates ends in a self-signed root certificate"
        )));
    }
    Ok(Some(authorities))
}

/// The refusal of a transparency-log upload (the default of `sign`, `sign-blob`, `attest` and
/// `attest-blob`), naming the flags that sign offline; `verb` is what the command does
/// ("sign", "attest").
pub fn refuse_tlog_upload(verb: &str) -> CliError {
    CliError::new(
        "uploading to the transparency log needs the network (Rekor, and cosign 3's signing config from TUF), which cosign-rs cannot reach or use yet",
    )
    .with_hint(format!(
        "to {verb} with a key offline, as cosign 3 does, pass --tlog-upload=false --use-signing-config=false"
    ))
}
