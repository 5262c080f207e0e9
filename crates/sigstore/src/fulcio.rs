//! The Fulcio-compatible CA: `POST /api/v2/signingCert` as Fulcio answers it. The token (from
//! the body's credentials, else the `Authorization: Bearer` header) must be this stack's
//! issuer's; the key comes with a proof of possession (a signature over the token's email, or
//! its subject) or as a certificate signing request (its own signature); the leaf is a
//! 10-minute code-signing certificate naming the email (or the subject as a URI), with
//! Fulcio's issuer and subject extensions and the SCT of this stack's CT log embedded. Every
//! refusal is Fulcio's: 400 with its message.

use base64::Engine as _;
use cosign_core::keys::PublicKey;
use der::{Decode as _, Encode as _};
use serde::Deserialize;

use crate::issuer::{is_email, Issuer};
use crate::pki::{Authority, CtLog, SubjectName};
use crate::Failure;

/// How long a leaf is valid, in seconds.
pub(crate) const LEAF_LIFETIME: i64 = 600;

const INVALID_TOKEN: &str = "There was an error processing the identity token";
const INVALID_SIGNATURE: &str = "The signature supplied in the request could not be verified";
const INVALID_PUBLIC_KEY: &str = "The public key supplied in the request could not be parsed";
const INVALID_CSR: &str = "The certificate signing request could not be parsed";
const INSECURE_KEY: &str = "The public key supplied in the request is insecure";

fn refused(message: &str) -> Failure {
    Failure::Client {
        status: 400,
        grpc: 3,
        message: message.to_owned(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigningCertRequest {
    #[serde(default)]
    credentials: Credentials,
    public_key_request: Option<PublicKeyRequest>,
    #[serde(default)]
    certificate_signing_request: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Credentials {
    #[serde(default)]
    oidc_identity_token: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublicKeyRequest {
    public_key: Option<PublicKeyField>,
    #[serde(default)]
    proof_of_possession: String,
}

#[derive(Debug, Deserialize)]
struct PublicKeyField {
    #[serde(default)]
    content: String,
}

/// What issues leaves.
#[derive(Debug)]
pub(crate) struct Fulcio<'a> {
    pub(crate) issuer: &'a Issuer,
    pub(crate) ca: &'a Authority,
    pub(crate) ct: CtLog<'a>,
}

/// Fulcio's allowed keys: ECDSA P-256/384/521, RSA of 2048 to 4096 bits, Ed25519.
fn check_key(key: &PublicKey) -> Result<(), Failure> {
    match key {
        PublicKey::Rsa(rsa) if !(2048..=4096).contains(&rsa.bits()) => Err(refused(INSECURE_KEY)),
        _ => Ok(()),
    }
}

fn public_key(content: &str) -> Result<PublicKey, Failure> {
    let text = content.trim();
    if text.starts_with("-----BEGIN") {
        return PublicKey::from_pem(text.as_bytes()).map_err(|_| refused(INVALID_PUBLIC_KEY));
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| refused(INVALID_PUBLIC_KEY))?;
    PublicKey::from_der(&der).map_err(|_| refused(INVALID_PUBLIC_KEY))
}

/// The key of a certificate signing request (base64 of its PEM), once its signature verifies.
fn csr_key(encoded: &str) -> Result<PublicKey, Failure> {
    let pem = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| refused(INVALID_CSR))?;
    let text = String::from_utf8(pem).map_err(|_| refused(INVALID_CSR))?;
    let body: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| refused(INVALID_CSR))?;
    let request = x509_cert::request::CertReq::from_der(&der).map_err(|_| refused(INVALID_CSR))?;
    let spki = request
        .info
        .public_key
        .to_der()
        .map_err(|_| refused(INVALID_CSR))?;
    let key = PublicKey::from_der(&spki).map_err(|_| refused(INVALID_PUBLIC_KEY))?;
    check_key(&key)?;
    let info = request.info.to_der().map_err(|_| refused(INVALID_CSR))?;
    let signature = request
        .signature
        .as_bytes()
        .ok_or_else(|| refused(INVALID_SIGNATURE))?;
    key.verify_payload(&info, signature)
        .map_err(|_| refused(INVALID_SIGNATURE))?;
    Ok(key)
}

impl Fulcio<'_> {
    /// The answer to a signing-certificate request, at `now`: the leaf and the CA's chain (PEM,
    /// leaf first), and why the token was refused when it was (for the server's log).
    pub(crate) fn signing_cert(
        &self,
        body: &[u8],
        bearer: Option<&str>,
        now: i64,
    ) -> Result<Vec<String>, (Failure, Option<String>)> {
        let request: SigningCertRequest = serde_json::from_slice(body)
            .map_err(|error| (refused(&format!("invalid request body: {error}")), None))?;
        let token = if request.credentials.oidc_identity_token.is_empty() {
            bearer.unwrap_or_default()
        } else {
            request.credentials.oidc_identity_token.as_str()
        };
        let principal = self
            .issuer
            .verify(token, now)
            .map_err(|why| (refused(INVALID_TOKEN), Some(why.0)))?;
        let (subject, challenge) = match &principal.email {
            Some(email) if is_email(email) => (SubjectName::Email(email.clone()), email.clone()),
            _ if principal.subject.contains(':') && !is_email(&principal.subject) => (
                SubjectName::Uri(principal.subject.clone()),
                principal.subject.clone(),
            ),
            _ => {
                return Err((
                    refused(INVALID_TOKEN),
                    Some(format!(
                        "the subject {:?} is neither a verified email nor a URI",
                        principal.subject
                    )),
                ))
            }
        };
        let key = match (
            &request.public_key_request,
            request.certificate_signing_request.is_empty(),
        ) {
            (Some(key_request), true) => {
                let content = key_request
                    .public_key
                    .as_ref()
                    .map(|key| key.content.as_str())
                    .unwrap_or_default();
                let key = public_key(content).map_err(|failure| (failure, None))?;
                check_key(&key).map_err(|failure| (failure, None))?;
                let proof = base64::engine::general_purpose::STANDARD
                    .decode(key_request.proof_of_possession.trim())
                    .map_err(|_| (refused(INVALID_SIGNATURE), None))?;
                key.verify_payload(challenge.as_bytes(), &proof)
                    .map_err(|_| (refused(INVALID_SIGNATURE), None))?;
                key
            }
            (None, false) => {
                csr_key(&request.certificate_signing_request).map_err(|failure| (failure, None))?
            }
            _ => {
                return Err((
                    refused("one of publicKeyRequest or certificateSigningRequest is required"),
                    None,
                ))
            }
        };
        let leaf = self
            .ca
            .code_signing(
                &crate::pki::Leaf {
                    key: &key,
                    subject: &subject,
                    issuer: &self.issuer.url,
                    token_subject: &principal.subject,
                    not_before: now,
                    lifetime: LEAF_LIFETIME,
                },
                &self.ct,
            )
            .map_err(|failure| (failure, None))?;
        [leaf.as_slice(), self.ca.der.as_slice()]
            .iter()
            .map(|der| {
                cosign_core::trust::certificate::Certificate::from_der(der)
                    .map(|certificate| certificate.to_pem().trim().to_owned())
                    .map_err(|error| (Failure::Internal(error.to_string()), None))
            })
            .collect()
    }
}
