//! The RFC 3161 timestamp authority, answering as Sigstore's timestamp-authority does: the
//! request's imprint (SHA-256, SHA-384 or SHA-512; SHA-1 refused as weak), its nonce echoed,
//! policy 1.3.6.1.4.1.57264.2, an accuracy of one second, a fresh 160-bit serial; a CMS
//! SignedData signed with ECDSA P-256 and SHA-256 over the content type, message digest,
//! signing time and the ESS signing-certificate-v2 attribute (which `openssl ts -verify`
//! requires), the certificate included when the request asks for it.

use der::asn1::{Any, GeneralizedTime, Int, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Decode as _, Encode as _};
use rand_core::RngCore as _;
use sha2::Digest as _;
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_tsp::{Accuracy, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

use crate::Failure;

const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// Sigstore's timestamp policy, what its TSA stamps unless asked for another.
const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.2");

/// The timestamping key and its certificate chain (leaf first).
#[derive(Debug)]
pub(crate) struct TimestampAuthority {
    pub(crate) key: cosign_core::keys::PrivateKey,
    pub(crate) chain: Vec<Vec<u8>>,
}

fn internal(what: &str) -> impl Fn(der::Error) -> Failure + '_ {
    move |error| Failure::Internal(format!("{what}: {error}"))
}

fn refused(message: &str) -> Failure {
    Failure::Client {
        status: 400,
        grpc: 3,
        message: message.to_owned(),
    }
}

fn algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, Failure> {
    let values = SetOfVec::try_from(vec![value]).map_err(internal("an attribute"))?;
    Ok(Attribute { oid, values })
}

fn any<T: der::Encode>(value: &T) -> Result<Any, Failure> {
    let der = value.to_der().map_err(internal("an attribute"))?;
    Any::from_der(&der).map_err(internal("an attribute"))
}

/// A DER TLV (the ESS structures have no type here).
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes = length.to_be_bytes();
        let significant: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | significant.len() as u8);
        out.extend(significant);
    }
    out.extend(content);
    out
}

impl TimestampAuthority {
    /// The DER `TimeStampResp` for a DER `TimeStampReq`, stamped at `now` (seconds).
    pub(crate) fn respond(&self, request: &[u8], now: i64) -> Result<Vec<u8>, Failure> {
        let request = TimeStampReq::from_der(request)
            .map_err(|_| refused("Error generating timestamp response"))?;
        let imprint = &request.message_imprint;
        let expected = match imprint.hash_algorithm.oid {
            SHA256 => 32,
            SHA384 => 48,
            SHA512 => 64,
            SHA1 => return Err(refused("Weak hash algorithm in timestamp request")),
            _ => return Err(refused("Error generating timestamp response")),
        };
        if imprint.hashed_message.as_bytes().len() != expected {
            return Err(refused(
                "Message digest has incorrect length for specified algorithm",
            ));
        }
        if request.req_policy.is_some_and(|policy| policy != POLICY) {
            return Err(refused("Error generating timestamp response"));
        }
        if request.extensions.is_some() {
            return Err(refused("Error generating timestamp response"));
        }
        let mut serial = [0u8; 20];
        rand_core::OsRng.fill_bytes(&mut serial);
        if let Some(first) = serial.first_mut() {
            *first &= 0x7f;
        }
        let seconds = std::time::Duration::from_secs(u64::try_from(now).unwrap_or_default());
        let info = TstInfo {
            version: TspVersion::V1,
            policy: POLICY,
            message_imprint: request.message_imprint.clone(),
            serial_number: Int::new(&serial).map_err(internal("a serial"))?,
            gen_time: GeneralizedTime::from_unix_duration(seconds).map_err(internal("a time"))?,
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce: request.nonce.clone(),
            tsa: None,
            extensions: None,
        };
        let info_der = info.to_der().map_err(internal("TSTInfo"))?;
        let leaf = self
            .chain
            .first()
            .ok_or_else(|| Failure::Internal("the TSA has no certificate".to_owned()))?;
        let certificate =
            x509_cert::Certificate::from_der(leaf).map_err(internal("the TSA certificate"))?;
        // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256 (left out), certHash }
        let cert_hash = tlv(0x04, &sha2::Sha256::digest(leaf));
        let signing_certificate = tlv(0x30, &tlv(0x30, &tlv(0x30, &cert_hash)));
        let signed_attributes = SetOfVec::try_from(vec![
            attribute(CONTENT_TYPE, any(&TST_INFO)?)?,
            attribute(
                MESSAGE_DIGEST,
                any(&OctetString::new(sha2::Sha256::digest(&info_der).to_vec())
                    .map_err(internal("a digest"))?)?,
            )?,
            attribute(
                SIGNING_TIME,
                any(&UtcTime::from_unix_duration(seconds).map_err(internal("a time"))?)?,
            )?,
            attribute(
                SIGNING_CERTIFICATE_V2,
                Any::from_der(&signing_certificate).map_err(internal("an attribute"))?,
            )?,
        ])
        .map_err(internal("the signed attributes"))?;
        let signed = signed_attributes
            .to_der()
            .map_err(internal("the signed attributes"))?;
        let signature = self
            .key
            .sign(&signed)
            .map_err(|error| Failure::Internal(error.to_string()))?;
        let signer = cms::signed_data::SignerInfo {
            version: cms::content_info::CmsVersion::V1,
            sid: cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(
                cms::cert::IssuerAndSerialNumber {
                    issuer: certificate.tbs_certificate.issuer.clone(),
                    serial_number: certificate.tbs_certificate.serial_number.clone(),
                },
            ),
            digest_alg: algorithm(SHA256),
            signed_attrs: Some(signed_attributes),
            signature_algorithm: algorithm(ECDSA_WITH_SHA256),
            signature: OctetString::new(signature).map_err(internal("a signature"))?,
            unsigned_attrs: None,
        };
        let certificates = if request.cert_req {
            let choices = vec![cms::cert::CertificateChoices::Certificate(certificate)];
            Some(cms::signed_data::CertificateSet(
                SetOfVec::try_from(choices).map_err(internal("certificates"))?,
            ))
        } else {
            None
        };
        let signed_data = cms::signed_data::SignedData {
            version: cms::content_info::CmsVersion::V3,
            digest_algorithms: SetOfVec::try_from(vec![algorithm(SHA256)])
                .map_err(internal("digest algorithms"))?,
            encap_content_info: cms::signed_data::EncapsulatedContentInfo {
                econtent_type: TST_INFO,
                econtent: Some(any(
                    &OctetString::new(info_der).map_err(internal("TSTInfo"))?
                )?),
            },
            certificates,
            crls: None,
            signer_infos: cms::signed_data::SignerInfos(
                SetOfVec::try_from(vec![signer]).map_err(internal("signer infos"))?,
            ),
        };
        let response = TimeStampResp {
            status: cmpv2::status::PkiStatusInfo {
                status: cmpv2::status::PkiStatus::Accepted,
                status_string: None,
                fail_info: None,
            },
            time_stamp_token: Some(cms::content_info::ContentInfo {
                content_type: SIGNED_DATA,
                content: any(&signed_data)?,
            }),
        };
        response.to_der().map_err(internal("the response"))
    }

    /// The chain as `GET /api/v1/timestamp/certchain` answers it: PEM, leaf first.
    pub(crate) fn chain_pem(&self) -> String {
        self.chain
            .iter()
            .filter_map(|der| cosign_core::trust::certificate::Certificate::from_der(der).ok())
            .map(|certificate| certificate.to_pem())
            .collect()
    }
}
