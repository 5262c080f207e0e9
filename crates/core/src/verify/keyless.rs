//! Verifying a bundle signed with a Fulcio certificate, end to end, in the order of the Sigstore
//! client spec's "Verification" section:
//!
//! 1. "The signature MUST verify with the certificate's key over the artifact" (and, for DSSE,
//!    an in-toto subject names the artifact).
//! 2. "Each RFC 3161 timestamp MUST verify" against the trusted root's timestamp authorities;
//!    its time is a signing time.
//! 3. "Each transparency log entry MUST verify" (body, inclusion proof, checkpoint, signed entry
//!    timestamp); a signed integrated time is a signing time. Rekor v2 entries have none: their
//!    log's key must be valid at a timestamp's time.
//! 4. "There MUST be at least one verified signing time", and "the certificate MUST chain to a
//!    trusted CA, with an SCT from a trusted CT log, at every one of them". With the log
//!    ignored by name (cosign's `--insecure-ignore-tlog`) and no timestamp, the only time left
//!    is the current one, as in cosign: the certificate must be valid now.
//! 5. "The certificate's identity MUST match the policy."

use crate::bundle::Bundle;
use crate::trust::certificate::{
    self, Certificate, CertificateError, IdentityPolicy, SctRequirement,
};
use crate::trust::timestamp::{self, TimestampError};
use crate::trust::transparency_log::{self, Signer, TlogError};
use crate::trust::trusted_root::TrustedRoot;
use crate::verify::bundle::{
    leaf_certificate, verify_with_certificate, Artifact, BundleVerificationError, VerifiedContent,
};

/// What a keyless bundle proved.
#[derive(Debug, Clone)]
pub struct VerifiedKeyless {
    pub content: VerifiedContent,
    pub certificate: Certificate,
    /// The verified signing times (seconds since 1970).
    pub times: Vec<i64>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeylessError {
    #[error("the bundle carries no certificate")]
    NoCertificate,
    #[error("{0}")]
    Certificate(CertificateError),
    #[error("{0}")]
    Content(#[from] BundleVerificationError),
    #[error("unable to verify signed timestamps: {0}")]
    Timestamp(#[from] TimestampError),
    #[error("failed to verify log inclusion: {0}")]
    Tlog(#[from] TlogError),
    #[error("no signed signing time: neither a signed entry timestamp nor an RFC 3161 timestamp")]
    NoSigningTime,
    #[error("threshold not met for verified signed timestamps: {found} < {required}")]
    TooFewTimestamps { found: usize, required: usize },
    #[error("verifying the certificate: {0}")]
    Chain(CertificateError),
    #[error("{0}")]
    Identity(CertificateError),
    #[error("no certificate identity to check the certificate against")]
    NoIdentity,
    #[error("the signature's certificate is not the one given (--certificate)")]
    NotThePinnedCertificate,
}

/// What a keyless verification requires besides the spec's steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirements {
    /// The certificate's embedded SCT (cosign's `--insecure-ignore-sct` drops the check).
    pub sct: SctRequirement,
    /// At least this many verified RFC 3161 timestamps (cosign's `--use-signed-timestamps`: 1).
    pub signed_timestamps: usize,
    /// Whether a transparency log entry is required.
    pub transparency_log: LogRequirement,
}

/// Whether a keyless signature must be in a transparency log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogRequirement {
    /// The default: one verified entry of a log of the trusted root.
    Entry,
    /// cosign's `--insecure-ignore-tlog`: entries are not checked; without a timestamp the
    /// certificate is checked at the current time.
    InsecureIgnore,
}

impl Default for Requirements {
    fn default() -> Self {
        Self {
            sct: SctRequirement::Embedded,
            signed_timestamps: 0,
            transparency_log: LogRequirement::Entry,
        }
    }
}

/// Verifies `bundle` over `artifact` against `root` and `policy`, at `now` (seconds since
/// 1970).
pub fn verify(
    bundle: &Bundle,
    artifact: Artifact<'_>,
    root: &TrustedRoot,
    policy: &IdentityPolicy,
    now: i64,
) -> Result<VerifiedKeyless, KeylessError> {
    verify_requiring(bundle, artifact, root, policy, now, Requirements::default())
}

/// [`verify`], with `requirements`.
pub fn verify_requiring(
    bundle: &Bundle,
    artifact: Artifact<'_>,
    root: &TrustedRoot,
    policy: &IdentityPolicy,
    now: i64,
    requirements: Requirements,
) -> Result<VerifiedKeyless, KeylessError> {
    verify_any_identity(
        bundle,
        artifact,
        root,
        std::slice::from_ref(policy),
        now,
        requirements,
    )
}

/// [`verify_requiring`] where the certificate may name any one of `identities` (the
/// evidence is checked once; the first identity's mismatch is reported when none matches).
pub fn verify_any_identity(
    bundle: &Bundle,
    artifact: Artifact<'_>,
    root: &TrustedRoot,
    identities: &[IdentityPolicy],
    now: i64,
    requirements: Requirements,
) -> Result<VerifiedKeyless, KeylessError> {
    let leaf = leaf_certificate(bundle)
        .ok_or(KeylessError::NoCertificate)?
        .map_err(KeylessError::Certificate)?;
    verify_leaf_and_evidence(bundle, leaf, artifact, root, identities, now, requirements)
}

/// Verifies `bundle` over `artifact` for a keyless authority: its trusted root, identities
/// and requirements, and its certificate if it pins one (cosign's `--certificate`: the
/// signature is checked with that certificate, and a bundle carrying another is refused).
pub fn verify_for_authority(
    bundle: &Bundle,
    artifact: Artifact<'_>,
    authority: &crate::verify::KeylessAuthority,
    now: i64,
) -> Result<VerifiedKeyless, KeylessError> {
    let carried = leaf_certificate(bundle)
        .transpose()
        .map_err(KeylessError::Certificate)?;
    let leaf = match (&authority.certificate, carried) {
        (None, Some(carried)) => carried,
        (None, None) => return Err(KeylessError::NoCertificate),
        (Some(pinned), Some(carried)) if carried.der() != pinned.der() => {
            return Err(KeylessError::NotThePinnedCertificate)
        }
        (Some(pinned), _) => (**pinned).clone(),
    };
    verify_leaf_and_evidence(
        bundle,
        leaf,
        artifact,
        &authority.trusted_root,
        &authority.identities,
        now,
        authority.requirements,
    )
}

fn verify_leaf_and_evidence(
    bundle: &Bundle,
    leaf: Certificate,
    artifact: Artifact<'_>,
    root: &TrustedRoot,
    identities: &[IdentityPolicy],
    now: i64,
    requirements: Requirements,
) -> Result<VerifiedKeyless, KeylessError> {
    // 1.
    let content = verify_with_certificate(bundle, &leaf, Some(artifact))?;
    // 2.
    let mut times = timestamp::verify_all(bundle, root)?;
    if times.len() < requirements.signed_timestamps {
        return Err(KeylessError::TooFewTimestamps {
            found: times.len(),
            required: requirements.signed_timestamps,
        });
    }
    // 3.
    if requirements.transparency_log == LogRequirement::Entry {
        let logged = transparency_log::verify_entries_observed(
            bundle,
            root,
            artifact.sha256,
            Signer::Certificate(&leaf),
            now,
            1,
            &times,
        )?;
        times.extend(logged);
    }
    // 4.
    if times.is_empty() {
        if requirements.transparency_log == LogRequirement::InsecureIgnore {
            times.push(now);
        } else {
            return Err(KeylessError::NoSigningTime);
        }
    }
    certificate::verify_leaf_requiring(&leaf, root, &times, requirements.sct)
        .map_err(KeylessError::Chain)?;
    // 5.
    let mut mismatch = None;
    for identity in identities {
        match identity.check(&leaf) {
            Ok(()) => {
                mismatch = None;
                break;
            }
            Err(error) => {
                mismatch.get_or_insert(error);
            }
        }
    }
    if identities.is_empty() {
        return Err(KeylessError::NoIdentity);
    }
    if let Some(error) = mismatch {
        return Err(KeylessError::Identity(error));
    }
    Ok(VerifiedKeyless {
        content,
        certificate: leaf,
        times,
    })
}
