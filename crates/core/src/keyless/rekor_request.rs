//! Rekor v2's entry request for a signature over an artifact digest (`POST
//! /api/v2/log/entries`, `hashedRekordRequestV002`, as sigstore-go sends it): the SHA-256
//! digest, the signature and the verifier (a public key as DER, or a certificate) with its
//! key details. The entry that comes back is checked as any bundle's entry is
//! ([`crate::trust::transparency_log`]) before it is used.

use base64::Engine as _;

use crate::digest::Digest;
use crate::keys::KeyError;
/// Who the log is told signed: a key, or a certificate (keyless); the same as who the
/// entry's verification expects.
pub use crate::trust::transparency_log::Signer as Verifier;

/// The JSON body of `POST /api/v2/log/entries` for `signature` over the artifact whose
/// SHA-256 is `artifact`.
pub fn hashed_rekord_v002(
    artifact: &Digest,
    signature: &[u8],
    verifier: Verifier<'_>,
) -> Result<Vec<u8>, KeyError> {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let verifier = match verifier {
        Verifier::Key(key) => serde_json::json!({
            "publicKey": { "rawBytes": b64(&key.to_der()?) },
            "keyDetails": key.key_details(),
        }),
        Verifier::Certificate(certificate) => serde_json::json!({
            "x509Certificate": { "rawBytes": b64(certificate.der()) },
            "keyDetails": certificate.public_key().key_details(),
        }),
    };
    let body = serde_json::json!({
        "hashedRekordRequestV002": {
            "digest": b64(&artifact.bytes()),
            "signature": { "content": b64(signature), "verifier": verifier },
        }
    });
    Ok(body.to_string().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{PrivateKey, PublicKey};

    #[test]
    fn the_request_names_digest_signature_and_key() {
        let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
        let public = key.public_key();
        let artifact = Digest::sha256(b"blob");
        let body = hashed_rekord_v002(&artifact, b"sig", Verifier::Key(&public)).expect("body");
        let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let request = &json["hashedRekordRequestV002"];
        let decode = |value: &serde_json::Value| {
            base64::engine::general_purpose::STANDARD
                .decode(value.as_str().expect("string"))
                .expect("base64")
        };
        assert_eq!(decode(&request["digest"]), artifact.bytes());
        assert_eq!(decode(&request["signature"]["content"]), b"sig");
        let verifier = &request["signature"]["verifier"];
        assert_eq!(verifier["keyDetails"], "PKIX_ECDSA_P256_SHA_256");
        assert_eq!(
            PublicKey::from_der(&decode(&verifier["publicKey"]["rawBytes"])).ok(),
            Some(public)
        );
    }
}
