//! DSSE (Dead Simple Signing Envelope): the pre-authentication encoding that is what gets
//! signed, signing an envelope, and verifying one against a key.
//!
//! Spec: "PAE(type, body) = "DSSEv1" + SP + LEN(type) + SP + type + SP + LEN(body) + SP + body",
//! LEN as ASCII decimal, SP a space.

use crate::bundle::{Envelope, EnvelopeSignature};
use crate::keys::{KeyError, PrivateKey, PublicKey};

/// The payload type of in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The bytes DSSE signs for `payload_type` and `payload`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// Signs `payload` into an envelope with one signature.
pub fn sign(key: &PrivateKey, payload_type: &str, payload: Vec<u8>) -> Result<Envelope, KeyError> {
    let signature = key.sign_payload(&pae(payload_type, &payload))?;
    Ok(Envelope {
        payload,
        payload_type: payload_type.to_owned(),
        signatures: vec![EnvelopeSignature {
            sig: signature,
            keyid: None,
        }],
    })
}

/// A DSSE envelope as cosign's Go types hold one (`ssldsse.Envelope`, `AttestationPayload`):
/// every field a string, as found (nothing decoded or checked), written back with
/// `json.Marshal`'s field order by [`StringEnvelope::to_go_json`].
#[derive(Debug, Clone, serde::Deserialize)]
pub struct StringEnvelope {
    #[serde(rename = "payloadType", default)]
    pub payload_type: String,
    #[serde(default)]
    pub payload: String,
    #[serde(default)]
    pub signatures: Vec<StringSignature>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct StringSignature {
    #[serde(default)]
    pub keyid: String,
    #[serde(default)]
    pub sig: String,
}

impl StringEnvelope {
    /// `json.Marshal` of cosign's envelope type: payloadType, payload, signatures (keyid, sig).
    pub fn to_go_json(&self) -> String {
        let signatures: Vec<String> = self
            .signatures
            .iter()
            .map(|signature| {
                format!(
                    r#"{{"keyid":{},"sig":{}}}"#,
                    crate::go_json::string(&signature.keyid),
                    crate::go_json::string(&signature.sig)
                )
            })
            .collect();
        format!(
            r#"{{"payloadType":{},"payload":{},"signatures":[{}]}}"#,
            crate::go_json::string(&self.payload_type),
            crate::go_json::string(&self.payload),
            signatures.join(",")
        )
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// cosign 3's words for a wrong key.
    #[error("could not verify envelope: accepted signatures do not match threshold, Found: 0, Expected 1")]
    NoValidSignature,
    #[error("envelope has no signatures")]
    NoSignatures,
}

/// Verifies that at least one of the envelope's signatures is `key`'s over the PAE, signed in
/// any of the ways cosign and cosign-rs sign ([`PublicKey::verify_payload`]: cosign checks
/// SHA-256 and pure Ed25519, so by default it refuses its own P-384, P-521 and Ed25519
/// attestations).
pub fn verify(envelope: &Envelope, key: &PublicKey) -> Result<(), EnvelopeError> {
    if envelope.signatures.is_empty() {
        return Err(EnvelopeError::NoSignatures);
    }
    let message = pae(&envelope.payload_type, &envelope.payload);
    if envelope
        .signatures
        .iter()
        .any(|signature| key.verify_payload(&message, &signature.sig).is_ok())
    {
        Ok(())
    } else {
        Err(EnvelopeError::NoValidSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_the_spec_encoding() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn a_p384_signature_over_the_sha256_of_the_pae_is_accepted_as_cosign_checks_it() {
        use ecdsa::signature::hazmat::PrehashSigner as _;
        use sha2::Digest as _;
        let secret = p384::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let key = PublicKey::EcdsaP384(*secret.verifying_key());
        let payload = b"{\"a\":1}".to_vec();
        let signed = |message: &[u8]| {
            let signature: p384::ecdsa::Signature = secret
                .sign_prehash(&sha2::Sha256::digest(message))
                .expect("signs");
            signature.to_der().as_bytes().to_vec()
        };
        let envelope = |sig: Vec<u8>| Envelope {
            payload: payload.clone(),
            payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
            signatures: vec![EnvelopeSignature { sig, keyid: None }],
        };
        let good = envelope(signed(&pae(IN_TOTO_PAYLOAD_TYPE, &payload)));
        verify(&good, &key).expect("SHA-256 of the PAE");
        let other = envelope(signed(&pae(IN_TOTO_PAYLOAD_TYPE, b"{\"a\":2}")));
        assert_eq!(verify(&other, &key), Err(EnvelopeError::NoValidSignature));
    }

    #[test]
    fn signs_and_verifies_and_refuses_swaps() {
        let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
        let envelope = sign(&key, IN_TOTO_PAYLOAD_TYPE, b"{\"a\":1}".to_vec()).expect("signs");
        verify(&envelope, &key.public_key()).expect("verifies");
        let stranger = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng).public_key();
        assert_eq!(
            verify(&envelope, &stranger),
            Err(EnvelopeError::NoValidSignature)
        );
        let mut swapped = envelope.clone();
        swapped.payload = b"{\"a\":2}".to_vec();
        assert_eq!(
            verify(&swapped, &key.public_key()),
            Err(EnvelopeError::NoValidSignature)
        );
        let mut retyped = envelope;
        retyped.payload_type = "text/plain".to_owned();
        assert_eq!(
            verify(&retyped, &key.public_key()),
            Err(EnvelopeError::NoValidSignature)
        );
    }
}
