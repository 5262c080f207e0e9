//! Fulcio's v2 API as sigstore-go speaks it (`POST /api/v2/signingCert`): the request body for
//! an ephemeral key with its proof of possession, and the issued chain read from the answer.
//! The chain is only parsed here; it is trusted after the caller verifies it (and its SCT)
//! against the trusted root, before the certificate is used.

use base64::Engine as _;
use serde::Deserialize;

use crate::keyless::identity_token::IdentityToken;
use crate::keys::{KeyError, PrivateKey, PublicKey};
use crate::trust::certificate::{Certificate, CertificateError};

/// The most of Fulcio's answer read (a chain of three certificates is about 3 KiB).
pub const RESPONSE_SIZE_LIMIT: usize = 256 * 1024;

/// The path of the v2 endpoint, after the service's base URL.
pub const SIGNING_CERT_PATH: &str = "/api/v2/signingCert";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FulcioError {
    #[error("Fulcio's answer is {size} bytes, over the {RESPONSE_SIZE_LIMIT}-byte limit")]
    TooLarge { size: usize },
    #[error("Fulcio's answer is not a signing certificate response: {reason}")]
    Malformed { reason: String },
    #[error("Fulcio's answer holds no certificate")]
    NoCertificate,
    #[error("a certificate from Fulcio does not parse: {source}")]
    Certificate {
        #[source]
        source: CertificateError,
    },
    #[error("Fulcio issued a certificate for another key than the one it was asked to certify")]
    AnotherKey,
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The name Fulcio's API gives a key's algorithm.
fn algorithm_name(key: &PublicKey) -> &'static str {
    match key {
        PublicKey::EcdsaP256(_) | PublicKey::EcdsaP384(_) | PublicKey::EcdsaP521(_) => "ECDSA",
        PublicKey::Rsa(_) => "RSA",
        PublicKey::Ed25519(_) => "ED25519",
    }
}

/// The proof of possession: the key's signature over the token's identity (its verified
/// email, else its subject), as sigstore-go makes it.
pub fn proof_of_possession(key: &PrivateKey, token: &IdentityToken) -> Result<Vec<u8>, KeyError> {
    key.sign(token.identity().as_bytes())
}

/// The JSON body of `POST /api/v2/signingCert` for `key` (the token goes in the
/// `Authorization: Bearer` header, never in the body).
pub fn signing_cert_request(key: &PrivateKey, token: &IdentityToken) -> Result<Vec<u8>, KeyError> {
    let public = key.public_key();
    let proof = proof_of_possession(key, token)?;
    let body = serde_json::json!({
        "publicKeyRequest": {
            "publicKey": {
                "algorithm": algorithm_name(&public),
                "content": public.to_pem()?,
            },
            "proofOfPossession": base64::engine::general_purpose::STANDARD.encode(proof),
        }
    });
    Ok(body.to_string().into_bytes())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    signed_certificate_embedded_sct: Option<Issued>,
    signed_certificate_detached_sct: Option<Issued>,
}

#[derive(Deserialize)]
struct Issued {
    chain: Chain,
}

#[derive(Deserialize)]
struct Chain {
    certificates: Vec<String>,
}

/// What Fulcio issued: the leaf first, then the chain up to (not always including) the root.
#[derive(Debug, Clone)]
pub struct IssuedChain {
    pub leaf: Certificate,
    pub chain: Vec<Certificate>,
    /// Whether the SCT is embedded in the leaf (the only kind this client accepts later: a
    /// detached SCT is for Fulcio instances without an embedded-SCT log).
    pub embedded_sct: bool,
}

/// Reads Fulcio's answer and checks that the leaf certifies `requested` (the key the request
/// was for): a certificate for another key is refused before anything is signed with it.
pub fn parse_signing_cert_response(
    body: &[u8],
    requested: &PublicKey,
) -> Result<IssuedChain, FulcioError> {
    if body.len() > RESPONSE_SIZE_LIMIT {
        return Err(FulcioError::TooLarge { size: body.len() });
    }
    let response: Response =
        serde_json::from_slice(body).map_err(|error| FulcioError::Malformed {
            reason: error.to_string(),
        })?;
    let (issued, embedded_sct) = match (
        response.signed_certificate_embedded_sct,
        response.signed_certificate_detached_sct,
    ) {
        (Some(issued), _) => (issued, true),
        (None, Some(issued)) => (issued, false),
        (None, None) => {
            return Err(FulcioError::Malformed {
                reason: "neither signedCertificateEmbeddedSct nor signedCertificateDetachedSct"
                    .to_owned(),
            })
        }
    };
    let mut certificates = issued
        .chain
        .certificates
        .iter()
        .map(|pem| {
            Certificate::from_pem(pem.as_bytes())
                .map_err(|source| FulcioError::Certificate { source })
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter();
    let leaf = certificates.next().ok_or(FulcioError::NoCertificate)?;
    if leaf.public_key() != requested {
        return Err(FulcioError::AnotherKey);
    }
    Ok(IssuedChain {
        leaf,
        chain: certificates.collect(),
        embedded_sct,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> IdentityToken {
        let encode = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
        let raw = format!(
            "{}.{}.c2ln",
            encode(r#"{"alg":"RS256"}"#),
            encode(r#"{"iss":"https://issuer.example","sub":"user-1","aud":"sigstore"}"#)
        );
        IdentityToken::parse(&raw).expect("token")
    }

    #[test]
    fn the_request_carries_the_public_key_and_a_proof_over_the_identity() {
        let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
        let token = token();
        let body = signing_cert_request(&key, &token).expect("request");
        let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let request = &json["publicKeyRequest"];
        assert_eq!(request["publicKey"]["algorithm"], "ECDSA");
        let pem = request["publicKey"]["content"].as_str().expect("PEM");
        assert_eq!(
            PublicKey::from_pem(pem.as_bytes()).ok(),
            Some(key.public_key())
        );
        let proof = base64::engine::general_purpose::STANDARD
            .decode(request["proofOfPossession"].as_str().expect("proof"))
            .expect("base64");
        key.public_key()
            .verify(b"user-1", &proof)
            .expect("a signature over the subject");
        // The token itself is not in the body.
        assert!(!String::from_utf8_lossy(&body).contains(token.expose()));
    }

    #[test]
    fn a_real_fulcio_chain_is_read_and_must_certify_the_requested_key() {
        let bundle = crate::bundle::Bundle::parse(include_bytes!(
            "../fuzz_properties/fixtures/keyless-v0.3.bundle.json"
        ))
        .expect("bundle");
        let leaf = crate::verify::bundle::leaf_certificate(&bundle)
            .expect("a certificate")
            .expect("parses");
        let pem = crate::pem::encode("CERTIFICATE", leaf.der());
        for (field, embedded) in [
            ("signedCertificateEmbeddedSct", true),
            ("signedCertificateDetachedSct", false),
        ] {
            let body =
                serde_json::json!({ field: { "chain": { "certificates": [pem] } } }).to_string();
            let issued = parse_signing_cert_response(body.as_bytes(), leaf.public_key())
                .expect("the leaf certifies the key");
            assert_eq!(issued.leaf, leaf);
            assert!(issued.chain.is_empty());
            assert_eq!(issued.embedded_sct, embedded);
            let another = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng).public_key();
            assert!(matches!(
                parse_signing_cert_response(body.as_bytes(), &another),
                Err(FulcioError::AnotherKey)
            ));
        }
    }

    #[test]
    fn an_answer_without_a_certificate_or_for_another_key_is_refused() {
        let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng).public_key();
        for (body, expected) in [
            (&b"{}"[..], "neither"),
            (b"not json", "not a signing certificate response"),
            (
                br#"{"signedCertificateEmbeddedSct":{"chain":{"certificates":[]}}}"#,
                "holds no certificate",
            ),
            (
                br#"{"signedCertificateEmbeddedSct":{"chain":{"certificates":["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]}}}"#,
                "does not parse",
            ),
        ] {
            let error = parse_signing_cert_response(body, &key).expect_err("refused");
            assert!(error.to_string().contains(expected), "{error}");
        }
        let huge = vec![b' '; RESPONSE_SIZE_LIMIT + 1];
        assert!(matches!(
            parse_signing_cert_response(&huge, &key),
            Err(FulcioError::TooLarge { .. })
        ));
    }
}
