//! RFC 3161 timestamps (a bundle's `timestampVerificationData`), verified against the timestamp
//! authorities of a trusted root, one step per rule:
//!
//! 1. "The response MUST be granted" (RFC 3161 2.4.2): status 0 or 1, with a token.
//! 2. "The token is a CMS SignedData over a TSTInfo" (RFC 3161 2.4.2, RFC 5652 5): the content
//!    type is id-ct-TSTInfo, one signer, signed attributes naming that content type and the
//!    digest of the TSTInfo.
//! 3. "The message imprint MUST be the hash of the signature" (Sigstore client spec,
//!    "Timestamps"): the TSTInfo's imprint is the hash of the bundle's signature bytes.
//! 4. "The signer MUST be a trusted TSA": the signed attributes verify with the key of a TSA
//!    leaf from the trusted root (certificates embedded in the token are never trusted), whose
//!    chain verifies link by link, whose certificates and trusted-root window all contain the
//!    timestamp's time, and whose leaf is for time stamping.
//!
//! The verified `genTime` is a signing time at which the signing certificate must be valid.

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode as _, Encode as _};
use x509_tsp::{TimeStampResp, TstInfo};

use crate::keys::HashAlgorithm;
use crate::trust::certificate::Certificate;
use crate::trust::trusted_root::{CertificateAuthority, TrustedRoot};

/// The largest timestamp response we parse.
pub const TIMESTAMP_SIZE_LIMIT: usize = 64 * 1024;

const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimestampError {
    #[error("invalid timestamp: {reason}")]
    Malformed { reason: String },
    #[error("timestamp response is {size} bytes, over the {TIMESTAMP_SIZE_LIMIT}-byte limit")]
    TooLarge { size: usize },
    #[error("timestamp was not granted")]
    NotGranted,
    #[error("timestamp message imprint does not match the signature")]
    ImprintMismatch,
    #[error("timestamp signed attributes do not match its content: {what}")]
    AttributeMismatch { what: &'static str },
    #[error("timestamp is not signed by a trusted timestamp authority: {reason}")]
    Untrusted { reason: String },
}

fn malformed(reason: impl std::fmt::Display) -> TimestampError {
    TimestampError::Malformed {
        reason: reason.to_string(),
    }
}

/// Verifies an RFC 3161 timestamp response over `signature` and returns its time (seconds
/// since 1970).
pub fn verify(
    response: &[u8],
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<i64, TimestampError> {
    if response.len() > TIMESTAMP_SIZE_LIMIT {
        return Err(TimestampError::TooLarge {
            size: response.len(),
        });
    }
    // 1.
    crate::der_limits::check(response).map_err(malformed)?;
    let response = TimeStampResp::from_der(response).map_err(malformed)?;
    if !matches!(
        response.status.status,
        cmpv2::status::PkiStatus::Accepted | cmpv2::status::PkiStatus::GrantedWithMods
    ) {
        return Err(TimestampError::NotGranted);
    }
    let token: ContentInfo = response
        .time_stamp_token
        .ok_or(TimestampError::NotGranted)?;
    // 2.
    if token.content_type != OID_SIGNED_DATA {
        return Err(malformed("the token is not CMS SignedData"));
    }
    let signed =
        SignedData::from_der(&token.content.to_der().map_err(malformed)?).map_err(malformed)?;
    if signed.encap_content_info.econtent_type != OID_TST_INFO {
        return Err(malformed("the token's content is not a TSTInfo"));
    }
    let content = signed
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| malformed("the token has no content"))?;
    let tst_der = OctetString::from_der(&content.to_der().map_err(malformed)?)
        .map_err(malformed)?
        .into_bytes();
    let tst = TstInfo::from_der(&tst_der).map_err(malformed)?;
    let signers = signed.signer_infos.0.as_slice();
    let [signer] = signers else {
        return Err(malformed(format!(
            "{} signers where one is expected",
            signers.len()
        )));
    };
    // 3.
    let imprint_hash = hash_for(&tst.message_imprint.hash_algorithm.oid)?;
    if imprint_hash.digest(signature) != tst.message_imprint.hashed_message.as_bytes() {
        return Err(TimestampError::ImprintMismatch);
    }
    let signer_hash = hash_for(&signer.digest_alg.oid)?;
    let attributes = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| malformed("no signed attributes"))?;
    let attribute = |oid: ObjectIdentifier| {
        attributes
            .iter()
            .find(|attribute| attribute.oid == oid)
            .and_then(|attribute| attribute.values.iter().next())
    };
    let declared_type =
        attribute(OID_CONTENT_TYPE).and_then(|value| value.decode_as::<ObjectIdentifier>().ok());
    if declared_type != Some(OID_TST_INFO) {
        return Err(TimestampError::AttributeMismatch {
            what: "content type",
        });
    }
    let declared_digest = attribute(OID_MESSAGE_DIGEST)
        .and_then(|value| value.decode_as::<OctetString>().ok())
        .map(OctetString::into_bytes);
    if declared_digest.as_deref() != Some(signer_hash.digest(&tst_der).as_slice()) {
        return Err(TimestampError::AttributeMismatch {
            what: "message digest",
        });
    }
    let signed_attributes = attributes.to_der().map_err(malformed)?;
    let time = i64::try_from(tst.gen_time.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    // 4.
    let mut reasons = Vec::new();
    for authority in &root.timestamp_authorities {
        match check_authority(
            authority,
            time,
            &signed_attributes,
            signer_hash,
            signer.signature.as_bytes(),
        ) {
            Ok(()) => return Ok(time),
            Err(reason) => reasons.push(format!("{}: {reason}", authority.uri)),
        }
    }
    Err(TimestampError::Untrusted {
        reason: if reasons.is_empty() {
            "the trusted root has no timestamp authority".to_owned()
        } else {
            reasons.join("; ")
        },
    })
}

fn check_authority(
    authority: &CertificateAuthority,
    time: i64,
    signed_attributes: &[u8],
    hash: HashAlgorithm,
    signature: &[u8],
) -> Result<(), String> {
    if time < authority.valid_from || authority.valid_until.is_some_and(|end| time > end) {
        return Err(format!("not valid at {time}"));
    }
    let leaf: &Certificate = authority
        .chain()
        .first()
        .ok_or_else(|| "no certificates".to_owned())?;
    leaf.public_key()
        .verify_message(signed_attributes, hash, signature)
        .map_err(|error| format!("signature does not verify: {error}"))?;
    if !leaf.is_time_stamping() {
        return Err("the leaf is not for time stamping".to_owned());
    }
    authority.links_verify()?;
    for certificate in authority.chain() {
        certificate
            .check_valid_at(time)
            .map_err(|error| error.to_string())?;
    }
    Ok(())
}

fn hash_for(oid: &ObjectIdentifier) -> Result<HashAlgorithm, TimestampError> {
    match oid.to_string().as_str() {
        "2.16.840.1.101.3.4.2.1" => Ok(HashAlgorithm::Sha256),
        "2.16.840.1.101.3.4.2.2" => Ok(HashAlgorithm::Sha384),
        "2.16.840.1.101.3.4.2.3" => Ok(HashAlgorithm::Sha512),
        other => Err(malformed(format!("unsupported hash algorithm {other}"))),
    }
}

/// Every RFC 3161 timestamp of `bundle`, each verified over the bundle's signature against
/// `root` (the Sigstore client spec: "Each RFC 3161 timestamp MUST verify"): their times.
pub fn verify_all(
    bundle: &crate::bundle::Bundle,
    root: &TrustedRoot,
) -> Result<Vec<i64>, TimestampError> {
    let signature = bundle.signature_bytes();
    bundle
        .verification_material
        .timestamp_verification_data
        .iter()
        .flat_map(|data| &data.rfc3161_timestamps)
        .map(|stamp| verify(&stamp.signed_timestamp, signature, root))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Rekor v2 conformance bundle's timestamp, the signature it covers, and its root.
    fn case() -> (Vec<u8>, Vec<u8>, TrustedRoot) {
        let base = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/conformance/bundle-verify/rekor2-happy-path"
        );
        let bundle = crate::bundle::Bundle::parse(
            &std::fs::read(format!("{base}/bundle.sigstore.json")).expect("bundle"),
        )
        .expect("parses");
        let root =
            TrustedRoot::parse(&std::fs::read(format!("{base}/trusted_root.json")).expect("root"))
                .expect("parses");
        let stamp = bundle
            .verification_material
            .timestamp_verification_data
            .expect("timestamps")
            .rfc3161_timestamps
            .remove(0)
            .signed_timestamp;
        let signature = bundle.message_signature.expect("message").signature;
        (stamp, signature, root)
    }

    #[test]
    fn a_timestamp_from_a_trusted_authority_gives_its_time() {
        let (stamp, signature, root) = case();
        let time = verify(&stamp, &signature, &root).expect("verifies");
        let authority = &root.timestamp_authorities[0];
        assert!(time >= authority.valid_from);
    }

    #[test]
    fn a_timestamp_over_another_signature_is_refused() {
        let (stamp, mut signature, root) = case();
        signature[10] ^= 1;
        assert_eq!(
            verify(&stamp, &signature, &root),
            Err(TimestampError::ImprintMismatch)
        );
    }

    #[test]
    fn a_timestamp_outside_its_authority_window_is_refused() {
        let (stamp, signature, mut root) = case();
        let time = verify(&stamp, &signature, &root).expect("verifies");
        for authority in &mut root.timestamp_authorities {
            authority.valid_until = Some(time - 1);
        }
        assert!(matches!(
            verify(&stamp, &signature, &root),
            Err(TimestampError::Untrusted { .. })
        ));
        // Ending exactly at the timestamp's time: still inside (bounds included).
        for authority in &mut root.timestamp_authorities {
            authority.valid_until = Some(time);
        }
        assert!(verify(&stamp, &signature, &root).is_ok());
    }

    #[test]
    fn a_timestamp_needs_a_trusted_authority_and_intact_bytes() {
        let (stamp, signature, root) = case();
        let nobody = TrustedRoot {
            timestamp_authorities: Vec::new(),
            ..root.clone()
        };
        assert!(matches!(
            verify(&stamp, &signature, &nobody),
            Err(TimestampError::Untrusted { .. })
        ));
        // Any flipped byte of the TSTInfo (the time, the imprint...) or of the signer's
        // signature (the last bytes) is caught. (Bytes of the certificates the token embeds,
        // or of its unsigned list of digest algorithms, are not trusted or used.)
        let tst_start = stamp
            .windows(11)
            .position(|window| {
                window
                    == [
                        0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10,
                    ]
            })
            .expect("id-ct-TSTInfo");
        let tst = tst_start + 16..tst_start + 190;
        let signature_bytes = stamp.len() - 40..stamp.len();
        for index in tst.chain(signature_bytes) {
            let mut tampered = stamp.clone();
            tampered[index] ^= 0x01;
            assert!(
                verify(&tampered, &signature, &root).is_err(),
                "byte {index} flipped and still accepted"
            );
        }
    }
}
