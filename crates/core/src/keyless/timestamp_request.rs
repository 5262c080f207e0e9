//! RFC 3161 timestamp requests as sigstore-go sends them for a signature: version 1, the
//! message imprint the SHA-256 of the signature bytes, no policy, no nonce, `certReq` false
//! (the TSA's certificates come from the trusted root, never from the response). The response
//! is checked by [`crate::trust::timestamp::verify`] before it goes in a bundle.

use der::asn1::OctetString;
use der::Encode as _;
use sha2::Digest as _;
use spki::AlgorithmIdentifier;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

/// The media type of the request body (and, with `-reply`, of the answer).
pub const REQUEST_MEDIA_TYPE: &str = "application/timestamp-query";

const OID_SHA256: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// Encoding the request failed (it cannot for a well-formed digest; kept typed, not a panic).
#[derive(Debug, thiserror::Error)]
#[error("encoding the timestamp request: {0}")]
pub struct RequestError(der::Error);

/// The DER `TimeStampReq` for `signature`.
pub fn request_for(signature: &[u8]) -> Result<Vec<u8>, RequestError> {
    let digest = sha2::Sha256::digest(signature);
    let request = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifier {
                oid: OID_SHA256,
                parameters: Some(der::Any::null()),
            },
            hashed_message: OctetString::new(digest.to_vec()).map_err(RequestError)?,
        },
        req_policy: None,
        nonce: None,
        cert_req: false,
        extensions: None,
    };
    request.to_der().map_err(RequestError)
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode as _;

    #[test]
    fn the_request_names_the_sha256_of_the_signature_and_nothing_else() {
        let der = request_for(b"signature bytes").expect("encodes");
        let parsed = TimeStampReq::from_der(&der).expect("parses");
        assert_eq!(parsed.version, TspVersion::V1);
        assert_eq!(parsed.message_imprint.hash_algorithm.oid, OID_SHA256);
        assert_eq!(
            parsed.message_imprint.hashed_message.as_bytes(),
            sha2::Sha256::digest(b"signature bytes").as_slice()
        );
        assert!(parsed.nonce.is_none() && parsed.req_policy.is_none() && !parsed.cert_req);
        // Byte for byte what `printf 'signature bytes' | openssl ts -query -data /dev/stdin
        // -sha256 -no_nonce` writes.
        let openssl = "30360201013031300d060960864801650304020105000420f4c2fee470729bcc60d90edfc687bb5b3e377cd31d39e7fadcc6d9978ff18df4";
        assert_eq!(
            der.iter()
                .map(|byte| format!("{byte:02x}"))
                .collect::<String>(),
            openssl
        );
    }
}
