//! X.509 certificates as Sigstore uses them: a short-lived Fulcio leaf carrying the signer's
//! identity, verified against the certificate authorities of a trusted root at the time the
//! signature was made, with an embedded certificate transparency timestamp (SCT).
//!
//! Each check follows a rule of the Sigstore client spec ("Verification", "Certificate"):
//!
//! 1. "The certificate MUST chain to a trusted CA": each certificate's signature verifies with
//!    the key of the next, up to the CA's root, using only the trusted root's certificates.
//! 2. "... at the time of signing": every certificate of the chain, and the CA's own validity
//!    window in the trusted root, contain the signing time (from a verified log entry or
//!    timestamp, never the bundle's word alone).
//! 3. "The leaf MUST be for code signing": its extended key usage includes codeSigning.
//! 4. "The certificate MUST carry a verifiable SCT" (RFC 6962 section 3.2): one embedded SCT from
//!    a CT log of the trusted root verifies over the precertificate (the leaf's TBS without the
//!    SCT list) and the issuer's key hash.
//! 5. The identity (subject alternative name) and the OIDC issuer (Fulcio extension
//!    1.3.6.1.4.1.57264.1.8, or the older 1.1) match the policy, regular expressions anchored at
//!    both ends.

use der::asn1::{ObjectIdentifier, OctetString, Utf8StringRef};
use der::{Decode as _, Encode as _, Reader as _};

use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectAltName};

use crate::keys::{HashAlgorithm, PublicKey, SigningAlgorithm};

mod chain;
mod identity;
pub mod sct;

pub use chain::{verify_leaf, verify_leaf_requiring, SctRequirement};
pub use identity::{GithubClaim, IdentityPolicy};
use sct::{parse_sct_list, Sct};

/// The largest certificate we parse.
pub const CERTIFICATE_SIZE_LIMIT: usize = 64 * 1024;
/// The most SCTs we look at in one certificate.
const SCT_LIMIT: usize = 32;

const OID_SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const OID_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const OID_ANY_EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");
const OID_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const OID_SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");
/// Fulcio's OIDC issuer, a raw string (deprecated).
const OID_FULCIO_ISSUER_V1: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
/// Fulcio's OIDC issuer, a DER UTF8String.
const OID_FULCIO_ISSUER_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// Fulcio's username SAN (an otherName).
const OID_FULCIO_USERNAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateError {
    #[error("invalid certificate: {reason}")]
    Malformed { reason: String },
    #[error("certificate is {size} bytes, over the {CERTIFICATE_SIZE_LIMIT}-byte limit")]
    TooLarge { size: usize },
    #[error("unsupported certificate signature algorithm {oid}")]
    UnsupportedSignatureAlgorithm { oid: String },
    #[error("certificate chain could not be verified to a trusted root: {reason}")]
    Chain { reason: String },
    #[error("certificate is not valid at the signing time {time}: valid from {not_before} to {not_after}")]
    NotValidAt {
        time: i64,
        not_before: i64,
        not_after: i64,
    },
    #[error(
        "certificate is not for code signing (its extended key usages do not include codeSigning)"
    )]
    NotCodeSigning,
    #[error("no valid signed certificate timestamp (SCT) from a trusted CT log: {reason}")]
    Sct { reason: String },
    /// sigstore-go's words, which cosign prints.
    #[error("failed to verify certificate identity: no matching CertificateIdentity found, last error: {reason}")]
    IdentityMismatch { reason: String },
    #[error("invalid regular expression {pattern:?}: {reason}")]
    Regex { pattern: String, reason: String },
}

fn malformed(reason: impl std::fmt::Display) -> CertificateError {
    CertificateError::Malformed {
        reason: reason.to_string(),
    }
}

/// A parsed certificate, with the exact bytes it was parsed from.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
    public_key: PublicKey,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Certificate {
    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        if der.len() > CERTIFICATE_SIZE_LIMIT {
            return Err(CertificateError::TooLarge { size: der.len() });
        }
        crate::der_limits::check(der).map_err(malformed)?;
        let parsed = x509_cert::Certificate::from_der(der).map_err(malformed)?;
        let spki = parsed
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(malformed)?;
        let public_key = PublicKey::from_der(&spki).map_err(malformed)?;
        Ok(Self {
            der: der.to_vec(),
            parsed,
            public_key,
        })
    }

    /// From PEM (`CERTIFICATE`), the first one in `input`.
    pub fn from_pem(input: &[u8]) -> Result<Self, CertificateError> {
        let block = crate::pem::decode_first(input)
            .filter(|block| block.label == "CERTIFICATE")
            .ok_or_else(|| malformed("no PEM CERTIFICATE block"))?;
        Self::from_der(&block.contents)
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate as one PEM block.
    pub fn to_pem(&self) -> String {
        crate::pem::encode("CERTIFICATE", self.der())
    }

    /// Every certificate in PEM `input` (`CERTIFICATE` blocks, in order).
    pub fn all_from_pem(input: &[u8]) -> Result<Vec<Self>, CertificateError> {
        let text = String::from_utf8_lossy(input);
        let mut certificates = Vec::new();
        let mut rest = text.as_ref();
        while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
            let block = rest.get(start..).unwrap_or_default();
            let end = block
                .find("-----END CERTIFICATE-----")
                .ok_or_else(|| malformed("unterminated PEM block"))?
                + "-----END CERTIFICATE-----".len();
            certificates.push(Self::from_pem(
                block.get(..end).unwrap_or_default().as_bytes(),
            )?);
            rest = block.get(end..).unwrap_or_default();
        }
        if certificates.is_empty() {
            return Err(malformed("no PEM CERTIFICATE block"));
        }
        Ok(certificates)
    }

    /// The first value of a subject attribute (`2.5.4.3`: common name, `2.5.4.10`:
    /// organization), as text.
    pub fn subject_attribute(&self, oid: &str) -> Option<String> {
        let oid = ObjectIdentifier::new(oid).ok()?;
        self.parsed
            .tbs_certificate
            .subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .find(|attribute| attribute.oid == oid)
            .and_then(|attribute| {
                attribute
                    .value
                    .decode_as::<der::asn1::PrintableStringRef<'_>>()
                    .map(|value| value.as_str().to_owned())
                    .or_else(|_| {
                        attribute
                            .value
                            .decode_as::<Utf8StringRef<'_>>()
                            .map(|value| value.as_str().to_owned())
                    })
                    .ok()
            })
    }

    /// The DER of the subject name.
    pub fn subject_der(&self) -> Vec<u8> {
        self.parsed
            .tbs_certificate
            .subject
            .to_der()
            .unwrap_or_default()
    }

    /// The DER of the issuer name.
    pub fn issuer_der(&self) -> Vec<u8> {
        self.parsed
            .tbs_certificate
            .issuer
            .to_der()
            .unwrap_or_default()
    }

    pub fn is_self_issued(&self) -> bool {
        self.subject_der() == self.issuer_der()
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The DER of the subject public key info.
    fn spki_der(&self) -> Result<Vec<u8>, CertificateError> {
        self.parsed
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(malformed)
    }

    /// `notBefore` and `notAfter`, in seconds since 1970.
    pub fn validity(&self) -> (i64, i64) {
        let validity = &self.parsed.tbs_certificate.validity;
        let seconds = |time: x509_cert::time::Time| {
            i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
        };
        (seconds(validity.not_before), seconds(validity.not_after))
    }

    /// Whether `time` lies in the validity window, bounds included (RFC 5280 4.1.2.5).
    pub fn check_valid_at(&self, time: i64) -> Result<(), CertificateError> {
        let (not_before, not_after) = self.validity();
        if time < not_before || time > not_after {
            return Err(CertificateError::NotValidAt {
                time,
                not_before,
                not_after,
            });
        }
        Ok(())
    }

    fn extension(&self, oid: ObjectIdentifier) -> Option<&[u8]> {
        self.parsed
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|extension| extension.extn_id == oid)
            .map(|extension| extension.extn_value.as_bytes())
    }

    pub fn is_ca(&self) -> bool {
        self.extension(OID_BASIC_CONSTRAINTS)
            .and_then(|value| BasicConstraints::from_der(value).ok())
            .is_some_and(|constraints| constraints.ca)
    }

    /// Whether the certificate may sign code: its extended key usages include codeSigning or
    /// anyExtendedKeyUsage, or it has none (no restriction, RFC 5280 4.2.1.12: as Go's x509,
    /// hence cosign and sigstore-go, read it).
    pub fn is_code_signing(&self) -> bool {
        self.extension(OID_EKU).is_none()
            || self.has_extended_key_usage(OID_CODE_SIGNING)
            || self.has_extended_key_usage(OID_ANY_EXTENDED_KEY_USAGE)
    }

    pub fn is_time_stamping(&self) -> bool {
        self.has_extended_key_usage(OID_TIME_STAMPING)
    }

    fn has_extended_key_usage(&self, usage: ObjectIdentifier) -> bool {
        self.extension(OID_EKU)
            .and_then(|value| ExtendedKeyUsage::from_der(value).ok())
            .is_some_and(|usages| usages.0.contains(&usage))
    }

    /// The subject alternative names Fulcio puts identities in: URIs, emails, and its
    /// username otherName.
    pub fn subject_alternative_names(&self) -> Vec<String> {
        let Some(names) = self
            .extension(OID_SAN)
            .and_then(|value| SubjectAltName::from_der(value).ok())
        else {
            return Vec::new();
        };
        names
            .0
            .iter()
            .filter_map(|name| match name {
                GeneralName::UniformResourceIdentifier(value) | GeneralName::Rfc822Name(value) => {
                    Some(value.to_string())
                }
                GeneralName::OtherName(other) if other.type_id == OID_FULCIO_USERNAME => other
                    .value
                    .decode_as::<Utf8StringRef<'_>>()
                    .ok()
                    .map(|value| value.as_str().to_owned()),
                _ => None,
            })
            .collect()
    }

    /// The OIDC issuer in Fulcio's first extension (1.3.6.1.4.1.57264.1.1, a raw string),
    /// which cosign prints.
    pub fn oidc_issuer_v1(&self) -> Option<String> {
        self.extension(OID_FULCIO_ISSUER_V1)
            .and_then(|value| std::str::from_utf8(value).ok())
            .map(str::to_owned)
    }

    /// The OIDC issuer Fulcio recorded.
    pub fn oidc_issuer(&self) -> Option<String> {
        if let Some(value) = self.extension(OID_FULCIO_ISSUER_V2) {
            return Utf8StringRef::from_der(value)
                .ok()
                .map(|issuer| issuer.as_str().to_owned());
        }
        self.extension(OID_FULCIO_ISSUER_V1)
            .and_then(|value| std::str::from_utf8(value).ok())
            .map(str::to_owned)
    }

    /// The to-be-signed part, exactly as encoded.
    fn tbs_der(&self) -> Result<&[u8], CertificateError> {
        let mut reader = der::SliceReader::new(&self.der).map_err(malformed)?;
        let _outer = der::Header::decode(&mut reader).map_err(malformed)?;
        reader.tlv_bytes().map_err(malformed)
    }

    /// Whether `issuer`'s key signed this certificate.
    pub fn verify_signed_by(&self, issuer: &Certificate) -> Result<(), CertificateError> {
        let oid = self.parsed.signature_algorithm.oid.to_string();
        let signature = self.parsed.signature.raw_bytes();
        let tbs = self.tbs_der()?;
        let key = issuer.public_key();
        let outcome = match oid.as_str() {
            "1.2.840.10045.4.3.2" | "1.2.840.113549.1.1.11" => {
                key.verify_message(tbs, HashAlgorithm::Sha256, signature)
            }
            "1.2.840.10045.4.3.3" | "1.2.840.113549.1.1.12" => {
                key.verify_message(tbs, HashAlgorithm::Sha384, signature)
            }
            "1.2.840.10045.4.3.4" | "1.2.840.113549.1.1.13" => {
                key.verify_message(tbs, HashAlgorithm::Sha512, signature)
            }
            "1.3.101.112" => key.verify_with(SigningAlgorithm::Ed25519, tbs, signature),
            _ => return Err(CertificateError::UnsupportedSignatureAlgorithm { oid }),
        };
        outcome.map_err(|error| CertificateError::Chain {
            reason: format!("signature does not verify with the issuer's key: {error}"),
        })
    }

    /// The signed certificate timestamps embedded in the certificate (RFC 6962 3.3).
    fn scts(&self) -> Result<Vec<Sct>, CertificateError> {
        let Some(value) = self.extension(OID_SCT_LIST) else {
            return Ok(Vec::new());
        };
        let inner = OctetString::from_der(value).map_err(malformed)?;
        parse_sct_list(inner.as_bytes())
    }

    /// The precertificate's TBS: this certificate's, without the SCT list extension.
    fn precertificate_tbs(&self) -> Result<Vec<u8>, CertificateError> {
        let mut tbs = self.parsed.tbs_certificate.clone();
        if let Some(extensions) = tbs.extensions.as_mut() {
            extensions.retain(|extension| extension.extn_id != OID_SCT_LIST);
        }
        tbs.to_der().map_err(malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::trusted_root::{CertificateAuthority, TrustedRoot};
    use sha2::{Digest as _, Sha256};

    /// The leaf of a conformance bundle signed by Sigstore's public-good Fulcio, and the time
    /// its log entry was integrated.
    fn public_good_leaf() -> (Certificate, i64, TrustedRoot) {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json"
        );
        let bytes = std::fs::read(path).expect("the conformance vectors beside the checkout");
        let bundle = crate::bundle::Bundle::parse(&bytes).unwrap();
        let leaf = crate::verify::bundle::leaf_certificate(&bundle)
            .unwrap()
            .unwrap();
        let time = bundle.verification_material.tlog_entries[0].integrated_time;
        let root = TrustedRoot::parse(crate::trust::trusted_root::PUBLIC_GOOD).unwrap();
        (leaf, time, root)
    }

    #[test]
    fn a_fulcio_leaf_verifies_at_its_signing_time_only() {
        let (leaf, time, root) = public_good_leaf();
        let issuer = verify_leaf(&leaf, &root, &[time]).unwrap();
        assert!(issuer.is_ca());
        assert!(leaf.is_code_signing());
        // Expired (Fulcio leaves live ten minutes), or not yet valid.
        let (not_before, not_after) = leaf.validity();
        assert!(matches!(
            verify_leaf(&leaf, &root, &[not_after + 1]),
            Err(CertificateError::NotValidAt { .. })
        ));
        assert!(verify_leaf(&leaf, &root, &[not_before - 1]).is_err());
        // Every signing time counts: one outside the window is enough to refuse.
        assert!(verify_leaf(&leaf, &root, &[time, not_after + 1]).is_err());
        assert!(
            verify_leaf(&leaf, &root, &[not_after]).is_ok(),
            "bounds included"
        );
    }

    #[test]
    fn a_leaf_needs_a_trusted_ca_and_a_trusted_ct_log() {
        let (leaf, time, root) = public_good_leaf();
        let no_logs = TrustedRoot {
            ct_logs: Vec::new(),
            ..root.clone()
        };
        assert!(matches!(
            verify_leaf(&leaf, &no_logs, &[time]),
            Err(CertificateError::Sct { .. })
        ));
        let no_authorities = TrustedRoot {
            certificate_authorities: Vec::new(),
            ..root.clone()
        };
        assert!(matches!(
            verify_leaf(&leaf, &no_authorities, &[time]),
            Err(CertificateError::Chain { .. })
        ));
        // A CA whose window ends before the signing time is not trusted for it.
        let mut expired = root.clone();
        for authority in &mut expired.certificate_authorities {
            authority.valid_until = Some(time - 1);
        }
        assert!(verify_leaf(&leaf, &expired, &[time]).is_err());
        // A CA chain missing its trust anchor's signature link: the leaf under the root alone.
        let mut rootless = root;
        rootless.certificate_authorities = rootless
            .certificate_authorities
            .iter()
            .map(|authority| {
                let anchor = authority.chain().last().cloned().into_iter().collect();
                CertificateAuthority::new(&authority.uri, anchor, authority.valid_from, None)
            })
            .collect();
        assert!(verify_leaf(&leaf, &rootless, &[time]).is_err());
    }

    #[test]
    fn a_tampered_sct_does_not_verify() {
        let (leaf, time, root) = public_good_leaf();
        let der = leaf.der().to_vec();
        // The SCT's signature sits at the end of its extension: flip a byte inside it, keeping
        // the certificate parseable (its own signature then fails too, so check the SCT alone).
        let parsed = Certificate::from_der(&der).unwrap();
        let issuer = verify_leaf(&parsed, &root, &[time]).unwrap();
        let mut scts = parsed.scts().unwrap();
        assert_eq!(scts.len(), 1);
        if let Some(byte) = scts[0].signature.last_mut() {
            *byte ^= 1;
        }
        let tbs = parsed.precertificate_tbs().unwrap();
        assert!(tbs.len() < parsed.tbs_der().unwrap().len());
        let log = root.ct_log(&scts[0].log_id).unwrap();
        let issuer_key_hash: [u8; 32] = Sha256::digest(issuer.spki_der().unwrap()).into();
        let mut signed = vec![0u8, 0];
        signed.extend(scts[0].timestamp.to_be_bytes());
        signed.extend([0, 1]);
        signed.extend(issuer_key_hash);
        signed.extend((tbs.len() as u32).to_be_bytes().get(1..).unwrap());
        signed.extend(&tbs);
        signed.extend((scts[0].extensions.len() as u16).to_be_bytes());
        signed.extend(&scts[0].extensions);
        let digest = HashAlgorithm::Sha256.digest(&signed);
        assert!(log
            .public_key
            .verify_digest(&digest, HashAlgorithm::Sha256, &scts[0].signature)
            .is_err());
        let original = parsed.scts().unwrap();
        assert!(log
            .public_key
            .verify_digest(&digest, HashAlgorithm::Sha256, &original[0].signature)
            .is_ok());
    }

    #[test]
    fn the_identity_and_issuer_must_both_match() {
        let (leaf, _, _) = public_good_leaf();
        let subject = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
        let issuer = "https://token.actions.githubusercontent.com";
        assert_eq!(leaf.oidc_issuer().as_deref(), Some(issuer));
        assert!(IdentityPolicy::new(Some(subject), None, Some(issuer), None)
            .unwrap()
            .check(&leaf)
            .is_ok());
        assert!(IdentityPolicy::new(
            Some(subject),
            None,
            Some("https://accounts.google.com"),
            None
        )
        .unwrap()
        .check(&leaf)
        .is_err());
        // Matches only unanchored: refused.
        assert!(
            IdentityPolicy::new(None, Some("sigstore-conformance"), Some(issuer), None)
                .unwrap()
                .check(&leaf)
                .is_err()
        );
        assert!(IdentityPolicy::new(
            None,
            Some("https://github.com/sigstore-conformance/.*"),
            None,
            Some("https://token\\.actions\\..*")
        )
        .unwrap()
        .check(&leaf)
        .is_ok());
    }

    #[test]
    fn github_workflow_claims_must_match_exactly() {
        let (leaf, _, _) = public_good_leaf();
        let policy = || {
            IdentityPolicy::new(
                None,
                Some(".*"),
                Some("https://token.actions.githubusercontent.com"),
                None,
            )
            .unwrap()
        };
        assert_eq!(
            leaf.github_claim(GithubClaim::Trigger).as_deref(),
            Some("workflow_dispatch")
        );
        assert!(policy()
            .with_claim(GithubClaim::Trigger, "workflow_dispatch")
            .with_claim(GithubClaim::Ref, "refs/heads/main")
            .check(&leaf)
            .is_ok());
        assert!(policy()
            .with_claim(GithubClaim::Trigger, "push")
            .check(&leaf)
            .is_err());
    }

    #[test]
    fn identity_patterns_are_anchored() {
        let policy = IdentityPolicy::new(
            None,
            Some("https://github.com/org/.*"),
            Some("https://issuer"),
            None,
        )
        .unwrap();
        assert!(policy.subject.matches("https://github.com/org/repo"));
        assert!(!policy.subject.matches("evil https://github.com/org/repo"));
        let unanchored = IdentityPolicy::new(None, Some("org/repo"), None, None).unwrap();
        assert!(!unanchored.subject.matches("https://github.com/org/repo"));
        assert!(IdentityPolicy::new(None, Some("("), None, None).is_err());
    }

    #[test]
    fn sct_lists_are_parsed_and_bounded() {
        let mut sct = vec![0u8];
        sct.extend([7u8; 32]);
        sct.extend(1_000u64.to_be_bytes());
        sct.extend([0, 0]);
        sct.extend([4, 3, 0, 2, 0xAA, 0xBB]);
        let mut list = (sct.len() as u16).to_be_bytes().to_vec();
        list.extend(&sct);
        let mut bytes = (list.len() as u16).to_be_bytes().to_vec();
        bytes.extend(&list);
        let parsed = parse_sct_list(&bytes).unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].timestamp, 1_000);
        assert_eq!(parsed[0].signature, vec![0xAA, 0xBB]);
        assert!(parse_sct_list(&bytes[..bytes.len() - 1]).is_err());
    }
}
