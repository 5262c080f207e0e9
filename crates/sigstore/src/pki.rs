//! The certificates the local Sigstore makes: its self-signed roots, the TSA's certificate, and
//! Fulcio's short-lived leaves with an embedded SCT. Every one is signed by an ECDSA P-256 key
//! with SHA-256, its serial 20 random bytes, its subject key id the SHA-1 of the key (RFC 5280
//! 4.2.1.2), as Fulcio and Go's x509 write them.

use std::str::FromStr as _;
use std::time::Duration;

use cosign_core::keys::{PrivateKey, PublicKey};
use der::asn1::{BitString, Ia5String, OctetString};
use der::{Decode as _, Encode as _};
use rand_core::RngCore as _;
use sha2::Digest as _;
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

use crate::Failure;

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
/// Fulcio's OIDC issuer extensions: v1 holds the URL's raw bytes, v2 a DER UTF8String.
const FULCIO_ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
const FULCIO_ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// Fulcio's extension for the token's `sub`, a DER UTF8String.
const FULCIO_SUBJECT: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.24");
/// RFC 6962 3.3: the SCT list, an OCTET STRING holding the TLS-encoded list.
const SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// A key and certificate that issues certificates.
#[derive(Debug)]
pub(crate) struct Authority {
    pub(crate) key: PrivateKey,
    pub(crate) certificate: Certificate,
    pub(crate) der: Vec<u8>,
}

/// Whom a leaf names: Fulcio writes an email address or a URI as the only name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SubjectName {
    Email(String),
    Uri(String),
}

/// A code-signing leaf to issue: for `key`, naming `subject`, issued by `issuer` (the OIDC
/// issuer's URL) for the token's `sub`, valid from `not_before` for `lifetime` seconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Leaf<'a> {
    pub(crate) key: &'a PublicKey,
    pub(crate) subject: &'a SubjectName,
    pub(crate) issuer: &'a str,
    pub(crate) token_subject: &'a str,
    pub(crate) not_before: i64,
    pub(crate) lifetime: i64,
}

/// What a CT log signs SCTs with.
#[derive(Debug)]
pub(crate) struct CtLog<'a> {
    pub(crate) key: &'a PrivateKey,
    pub(crate) log_id: [u8; 32],
}

fn failure(what: &str) -> impl Fn(der::Error) -> Failure + '_ {
    move |error| Failure::Internal(format!("{what}: {error}"))
}

fn spki(key: &PublicKey) -> Result<SubjectPublicKeyInfoOwned, Failure> {
    let der = key
        .to_der()
        .map_err(|error| Failure::Internal(error.to_string()))?;
    SubjectPublicKeyInfoOwned::from_der(&der).map_err(failure("a public key"))
}

/// RFC 5280 4.2.1.2 (1): the SHA-1 of the subjectPublicKey bits.
fn key_id(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    sha1::Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec()
}

fn serial() -> Result<SerialNumber, Failure> {
    let mut bytes = [0u8; 20];
    rand_core::OsRng.fill_bytes(&mut bytes);
    if let Some(first) = bytes.first_mut() {
        *first &= 0x7f;
        *first |= 0x01;
    }
    SerialNumber::new(&bytes).map_err(failure("a serial number"))
}

fn time(seconds: i64) -> Result<Time, Failure> {
    let since = Duration::from_secs(u64::try_from(seconds).unwrap_or_default());
    let utc = der::asn1::UtcTime::from_unix_duration(since).map_err(failure("a time"))?;
    Ok(Time::UtcTime(utc))
}

fn extension<T: der::Encode + der::oid::AssociatedOid>(
    value: &T,
    critical: bool,
) -> Result<Extension, Failure> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der().map_err(failure("an extension"))?)
            .map_err(failure("an extension"))?,
    })
}

fn raw_extension(oid: ObjectIdentifier, value: Vec<u8>) -> Result<Extension, Failure> {
    Ok(Extension {
        extn_id: oid,
        critical: false,
        extn_value: OctetString::new(value).map_err(failure("an extension"))?,
    })
}

fn utf8(text: &str) -> Result<Vec<u8>, Failure> {
    der::asn1::Utf8StringRef::new(text)
        .and_then(|utf8| utf8.to_der())
        .map_err(failure("a UTF8String"))
}

fn ecdsa_sha256() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ECDSA_WITH_SHA256,
        parameters: None,
    }
}

/// `tbs` signed by `key`: the certificate's DER.
fn sign(tbs: TbsCertificate, key: &PrivateKey) -> Result<(Certificate, Vec<u8>), Failure> {
    let tbs_der = tbs.to_der().map_err(failure("a certificate"))?;
    let signature = key
        .sign(&tbs_der)
        .map_err(|error| Failure::Internal(error.to_string()))?;
    let certificate = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: ecdsa_sha256(),
        signature: BitString::from_bytes(&signature).map_err(failure("a signature"))?,
    };
    let der = certificate.to_der().map_err(failure("a certificate"))?;
    Ok((certificate, der))
}

impl Authority {
    /// A self-signed CA certificate for `key`, named `subject`, valid from `not_before` for
    /// `lifetime` seconds; a path length of 1 lets it sign an intermediate.
    pub(crate) fn root(
        key: PrivateKey,
        subject: &str,
        not_before: i64,
        lifetime: i64,
    ) -> Result<Self, Failure> {
        let name = Name::from_str(subject).map_err(failure("a name"))?;
        let info = spki(&key.public_key())?;
        let id = key_id(&info);
        let extensions = vec![
            extension(&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign), true)?,
            extension(
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: Some(1),
                },
                true,
            )?,
            extension(
                &SubjectKeyIdentifier(OctetString::new(id).map_err(failure("a key id"))?),
                false,
            )?,
        ];
        let tbs = TbsCertificate {
            version: Version::V3,
            serial_number: serial()?,
            signature: ecdsa_sha256(),
            issuer: name.clone(),
            validity: Validity {
                not_before: time(not_before)?,
                not_after: time(not_before.saturating_add(lifetime))?,
            },
            subject: name,
            subject_public_key_info: info,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions),
        };
        let (certificate, der) = sign(tbs, &key)?;
        Ok(Self {
            key,
            certificate,
            der,
        })
    }

    /// An authority from its key and the certificate made for it before.
    pub(crate) fn from_parts(key: PrivateKey, der: Vec<u8>) -> Result<Self, Failure> {
        let certificate = Certificate::from_der(&der).map_err(failure("a stored certificate"))?;
        Ok(Self {
            key,
            certificate,
            der,
        })
    }

    fn subject_key_id(&self) -> Result<Vec<u8>, Failure> {
        Ok(key_id(
            &self.certificate.tbs_certificate.subject_public_key_info,
        ))
    }

    fn authority_key_id(&self) -> Result<Extension, Failure> {
        extension(
            &AuthorityKeyIdentifier {
                key_identifier: Some(
                    OctetString::new(self.subject_key_id()?).map_err(failure("a key id"))?,
                ),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
            false,
        )
    }

    fn leaf_tbs(
        &self,
        subject: Name,
        key: &PublicKey,
        not_before: i64,
        lifetime: i64,
        mut extensions: Vec<Extension>,
    ) -> Result<TbsCertificate, Failure> {
        let info = spki(key)?;
        let id = key_id(&info);
        extensions.insert(
            2,
            extension(
                &SubjectKeyIdentifier(OctetString::new(id).map_err(failure("a key id"))?),
                false,
            )?,
        );
        extensions.insert(3, self.authority_key_id()?);
        Ok(TbsCertificate {
            version: Version::V3,
            serial_number: serial()?,
            signature: ecdsa_sha256(),
            issuer: self.certificate.tbs_certificate.subject.clone(),
            validity: Validity {
                not_before: time(not_before)?,
                not_after: time(not_before.saturating_add(lifetime))?,
            },
            subject,
            subject_public_key_info: info,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions),
        })
    }

    /// The certificate of a timestamping key (RFC 3161 2.3: a critical extended key usage of
    /// time stamping only).
    pub(crate) fn timestamping(
        &self,
        key: &PublicKey,
        subject: &str,
        not_before: i64,
        lifetime: i64,
    ) -> Result<Vec<u8>, Failure> {
        let name = Name::from_str(subject).map_err(failure("a name"))?;
        let extensions = vec![
            extension(&KeyUsage(KeyUsages::DigitalSignature.into()), true)?,
            extension(&ExtendedKeyUsage(vec![TIME_STAMPING]), true)?,
        ];
        let tbs = self.leaf_tbs(name, key, not_before, lifetime, extensions)?;
        Ok(sign(tbs, &self.key)?.1)
    }

    /// A Fulcio code-signing leaf as `leaf` describes it, with the SCT `log` signs over its precertificate
    /// embedded, as Fulcio lays it out: key usage, extended key usage, the key ids, the
    /// (critical: the subject is empty) alternative name, the issuer v1 and v2, the subject,
    /// then the SCT list.
    pub(crate) fn code_signing(
        &self,
        leaf: &Leaf<'_>,
        log: &CtLog<'_>,
    ) -> Result<Vec<u8>, Failure> {
        let Leaf {
            key,
            subject,
            issuer,
            token_subject,
            not_before,
            lifetime,
        } = *leaf;
        let name = match subject {
            SubjectName::Email(email) => GeneralName::Rfc822Name(
                Ia5String::new(email).map_err(|_| Failure::refused("the email is not ASCII"))?,
            ),
            SubjectName::Uri(uri) => GeneralName::UniformResourceIdentifier(
                Ia5String::new(uri).map_err(|_| Failure::refused("the URI is not ASCII"))?,
            ),
        };
        let extensions = vec![
            extension(&KeyUsage(KeyUsages::DigitalSignature.into()), true)?,
            extension(&ExtendedKeyUsage(vec![CODE_SIGNING]), false)?,
            extension(&SubjectAltName(vec![name]), true)?,
            raw_extension(FULCIO_ISSUER_V1, issuer.as_bytes().to_vec())?,
            raw_extension(FULCIO_ISSUER_V2, utf8(issuer)?)?,
            raw_extension(FULCIO_SUBJECT, utf8(token_subject)?)?,
        ];
        let mut tbs = self.leaf_tbs(Name::default(), key, not_before, lifetime, extensions)?;
        let precertificate = tbs.to_der().map_err(failure("a certificate"))?;
        let issuer_key_hash: [u8; 32] = sha2::Sha256::digest(
            self.certificate
                .tbs_certificate
                .subject_public_key_info
                .to_der()
                .map_err(failure("a public key"))?,
        )
        .into();
        let millis = u64::try_from(not_before).unwrap_or_default() * 1000;
        let entry = cosign_core::trust::certificate::sct::precertificate_entry(
            millis,
            &issuer_key_hash,
            &precertificate,
            &[],
        )
        .ok_or_else(|| Failure::Internal("the precertificate is too long".to_owned()))?;
        let signature = log
            .key
            .sign(&entry)
            .map_err(|error| Failure::Internal(error.to_string()))?;
        let list = cosign_core::trust::certificate::sct::sct_list(&log.log_id, millis, &signature)
            .ok_or_else(|| Failure::Internal("the SCT is too long".to_owned()))?;
        let wrapped = OctetString::new(list)
            .and_then(|list| list.to_der())
            .map_err(failure("an SCT list"))?;
        if let Some(extensions) = tbs.extensions.as_mut() {
            extensions.push(raw_extension(SCT_LIST, wrapped)?);
        }
        Ok(sign(tbs, &self.key)?.1)
    }
}
