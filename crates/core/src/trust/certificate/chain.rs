//! Chaining a leaf to a certificate authority of the trusted root, at every verified signing
//! time, with the SCT check as asked.

use super::sct::verify_sct;
use super::{Certificate, CertificateError};
use crate::trust::trusted_root::{CertificateAuthority, TrustedRoot};

/// Verifies that `leaf` chains to a certificate authority of `root` at every one of `times`
/// (seconds since 1970: the verified signing times), is for code signing, and carries an SCT
/// from a CT log of `root` (checked once: it does not depend on the time). Returns the CA's
/// certificate that issued the leaf.
pub fn verify_leaf(
    leaf: &Certificate,
    root: &TrustedRoot,
    times: &[i64],
) -> Result<Certificate, CertificateError> {
    verify_leaf_requiring(leaf, root, times, SctRequirement::Embedded)
}

/// Whether the leaf must carry an SCT from a trusted CT log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SctRequirement {
    /// The default: an embedded SCT, verified against the trusted root's CT logs.
    Embedded,
    /// cosign's `--insecure-ignore-sct`: the certificate is not checked for a CT log entry.
    InsecureIgnore,
}

/// [`verify_leaf`], with the SCT check as `sct` says.
pub fn verify_leaf_requiring(
    leaf: &Certificate,
    root: &TrustedRoot,
    times: &[i64],
    sct: SctRequirement,
) -> Result<Certificate, CertificateError> {
    for time in times {
        leaf.check_valid_at(*time)?;
    }
    if !leaf.is_code_signing() {
        return Err(CertificateError::NotCodeSigning);
    }
    let mut reasons = Vec::new();
    for authority in &root.certificate_authorities {
        match verify_chain(leaf, authority, times) {
            Ok(issuer) => {
                if sct == SctRequirement::Embedded {
                    verify_sct(leaf, &issuer, root)?;
                }
                return Ok(issuer);
            }
            Err(error) => reasons.push(error.to_string()),
        }
    }
    Err(CertificateError::Chain {
        reason: if reasons.is_empty() {
            "the trusted root has no certificate authority".to_owned()
        } else {
            reasons.join("; ")
        },
    })
}

/// The leaf's chain through one CA: signatures link by link to its last certificate (the
/// trust anchor), every certificate and the CA's window valid at each of `times`.
fn verify_chain(
    leaf: &Certificate,
    authority: &CertificateAuthority,
    times: &[i64],
) -> Result<Certificate, CertificateError> {
    for &time in times {
        if time < authority.valid_from || authority.valid_until.is_some_and(|end| time > end) {
            return Err(CertificateError::Chain {
                reason: format!("{} is not valid at {time}", authority.uri),
            });
        }
    }
    let issuer = authority
        .chain()
        .first()
        .ok_or_else(|| CertificateError::Chain {
            reason: format!("{} has no certificates", authority.uri),
        })?;
    if issuer.subject_der() != leaf.issuer_der() {
        return Err(CertificateError::Chain {
            reason: format!("{} did not issue the certificate", authority.uri),
        });
    }
    leaf.verify_signed_by(issuer)?;
    authority
        .links_verify()
        .map_err(|reason| CertificateError::Chain { reason })?;
    for certificate in authority.chain() {
        for time in times {
            certificate.check_valid_at(*time)?;
        }
        if !certificate.is_ca() {
            return Err(CertificateError::Chain {
                reason: "an issuing certificate is not a CA".to_owned(),
            });
        }
    }
    Ok(issuer.clone())
}
