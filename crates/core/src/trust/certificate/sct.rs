//! Certificate transparency (RFC 6962): the SCTs embedded in a Fulcio leaf, read from their
//! TLS encoding, and verified over the precertificate against the trusted root's CT logs.

use sha2::{Digest as _, Sha256};

use super::{malformed, Certificate, CertificateError, SCT_LIMIT};
use crate::keys::HashAlgorithm;
use crate::trust::trusted_root::TrustedRoot;

/// One SCT (RFC 6962 3.2), v1.
#[derive(Debug, Clone)]
pub(super) struct Sct {
    pub(super) log_id: [u8; 32],
    pub(super) timestamp: u64,
    pub(super) extensions: Vec<u8>,
    pub(super) hash_algorithm: u8,
    pub(super) signature: Vec<u8>,
}

/// A TLS-encoded reader over SCT bytes.
struct Tls<'a>(&'a [u8]);

impl<'a> Tls<'a> {
    fn take(&mut self, count: usize) -> Result<&'a [u8], CertificateError> {
        if self.0.len() < count {
            return Err(malformed("truncated SCT"));
        }
        let (head, rest) = self.0.split_at(count);
        self.0 = rest;
        Ok(head)
    }

    fn number(&mut self, width: usize) -> Result<u64, CertificateError> {
        Ok(self
            .take(width)?
            .iter()
            .fold(0u64, |value, byte| (value << 8) | u64::from(*byte)))
    }

    fn vector(&mut self, length_width: usize) -> Result<&'a [u8], CertificateError> {
        let length = usize::try_from(self.number(length_width)?).map_err(malformed)?;
        self.take(length)
    }
}

pub(super) fn parse_sct_list(bytes: &[u8]) -> Result<Vec<Sct>, CertificateError> {
    let mut list = Tls(Tls(bytes).vector(2)?);
    let mut scts = Vec::new();
    while !list.0.is_empty() {
        if scts.len() == SCT_LIMIT {
            return Err(malformed("too many SCTs"));
        }
        let mut sct = Tls(list.vector(2)?);
        if sct.number(1)? != 0 {
            // Not v1: not ours to read.
            continue;
        }
        let mut log_id = [0u8; 32];
        log_id.copy_from_slice(sct.take(32)?);
        let timestamp = sct.number(8)?;
        let extensions = sct.vector(2)?.to_vec();
        let hash_algorithm = u8::try_from(sct.number(1)?).map_err(malformed)?;
        let _signature_algorithm = sct.number(1)?;
        let signature = sct.vector(2)?.to_vec();
        scts.push(Sct {
            log_id,
            timestamp,
            extensions,
            hash_algorithm,
            signature,
        });
    }
    Ok(scts)
}

/// What an SCT's signature covers for a precertificate (RFC 6962 3.2): the version, the
/// signature type, the time in milliseconds, the entry type, the SHA-256 of the issuer's
/// SubjectPublicKeyInfo, the precertificate's TBS (the certificate's without its SCT list) and
/// the SCT's extensions. `None` when a length does not fit its field.
pub fn precertificate_entry(
    timestamp_millis: u64,
    issuer_key_hash: &[u8; 32],
    tbs: &[u8],
    extensions: &[u8],
) -> Option<Vec<u8>> {
    let tbs_length = u32::try_from(tbs.len())
        .ok()
        .filter(|length| *length < 1 << 24)?;
    let extensions_length = u16::try_from(extensions.len()).ok()?;
    let mut signed = Vec::with_capacity(tbs.len() + 64);
    signed.push(0); // version v1
    signed.push(0); // signature type: certificate_timestamp
    signed.extend(timestamp_millis.to_be_bytes());
    signed.extend([0, 1]); // entry type: precert_entry
    signed.extend(issuer_key_hash);
    signed.extend(tbs_length.to_be_bytes().get(1..).unwrap_or_default());
    signed.extend(tbs);
    signed.extend(extensions_length.to_be_bytes());
    signed.extend(extensions);
    Some(signed)
}

/// The TLS encoding of a one-SCT list (RFC 6962 3.3), as the SCT list extension holds it: an
/// SCT v1 by the log whose id (SHA-256 of its key) is `log_id`, at `timestamp_millis`, with no
/// extensions, whose `signature` (ECDSA with SHA-256, DER) covers [`precertificate_entry`].
pub fn sct_list(log_id: &[u8; 32], timestamp_millis: u64, signature: &[u8]) -> Option<Vec<u8>> {
    let signature_length = u16::try_from(signature.len()).ok()?;
    let mut sct = vec![0]; // version v1
    sct.extend(log_id);
    sct.extend(timestamp_millis.to_be_bytes());
    sct.extend([0, 0]); // no extensions
    sct.extend([4, 3]); // SHA-256, ECDSA
    sct.extend(signature_length.to_be_bytes());
    sct.extend(signature);
    let sct_length = u16::try_from(sct.len()).ok()?;
    let list_length = u16::try_from(sct.len() + 2).ok()?;
    let mut list = Vec::with_capacity(sct.len() + 4);
    list.extend(list_length.to_be_bytes());
    list.extend(sct_length.to_be_bytes());
    list.extend(sct);
    Some(list)
}

/// RFC 6962 3.2: the SCT's signature covers the precertificate entry.
pub(super) fn verify_sct(
    leaf: &Certificate,
    issuer: &Certificate,
    root: &TrustedRoot,
) -> Result<(), CertificateError> {
    let scts = leaf.scts()?;
    if scts.is_empty() {
        return Err(CertificateError::Sct {
            reason: "the certificate has none".to_owned(),
        });
    }
    let tbs = leaf.precertificate_tbs()?;
    let issuer_key_hash: [u8; 32] = Sha256::digest(issuer.spki_der()?).into();
    let mut reasons = Vec::new();
    for sct in &scts {
        let Some(log) = root.ct_log(&sct.log_id) else {
            reasons.push(format!(
                "log {} is not in the trusted root",
                crate::digest::hex_encode(&sct.log_id)
            ));
            continue;
        };
        let seconds = i64::try_from(sct.timestamp / 1000).unwrap_or(i64::MAX);
        if !log.valid_at(seconds) {
            reasons.push("the CT log's key was not valid then".to_owned());
            continue;
        }
        let Some(signed) =
            precertificate_entry(sct.timestamp, &issuer_key_hash, &tbs, &sct.extensions)
        else {
            return Err(malformed("TBS too long"));
        };
        let hash = match sct.hash_algorithm {
            4 => HashAlgorithm::Sha256,
            5 => HashAlgorithm::Sha384,
            6 => HashAlgorithm::Sha512,
            other => {
                reasons.push(format!("unsupported hash algorithm {other}"));
                continue;
            }
        };
        match log.public_key.verify_message(&signed, hash, &sct.signature) {
            Ok(()) => return Ok(()),
            Err(error) => reasons.push(format!("signature does not verify: {error}")),
        }
    }
    Err(CertificateError::Sct {
        reason: reasons.join("; "),
    })
}
