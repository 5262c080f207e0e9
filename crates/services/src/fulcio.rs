//! Fulcio (`POST {ca}/api/v2/signingCert`, the token as a bearer): a certificate for an
//! ephemeral key, whose chain to a certificate authority of the trusted root and whose embedded
//! SCT from one of its CT logs are verified before it is returned. A certificate that will not
//! verify later is refused now, before anything is signed with its key.

use cosign_core::keyless::fulcio::{self, FulcioError, IssuedChain, RESPONSE_SIZE_LIMIT};
use cosign_core::keyless::identity_token::IdentityToken;
use cosign_core::keys::PrivateKey;
use cosign_core::trust::certificate::{verify_leaf_requiring, CertificateError, SctRequirement};
use cosign_core::TrustedRoot;

use crate::http::{post_with, Credential, HttpError, Service};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateRequestError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("{0}")]
    Answer(#[from] FulcioError),
    #[error("the certificate authority at {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error(
        "the certificate Fulcio at {url} issued does not verify against the trusted root: {source}"
    )]
    Untrusted {
        url: String,
        #[source]
        source: CertificateError,
    },
}

/// Asks the CA at `ca` (its base URL) for a certificate of `key`'s public key for the
/// identity in `token`, and verifies it against `root` as it arrives (now: a certificate is
/// valid from the second it was issued), its SCT included.
pub async fn signing_certificate(
    client: &reqwest::Client,
    ca: &url::Url,
    token: &IdentityToken,
    key: &PrivateKey,
    root: &TrustedRoot,
    sct: SctRequirement,
) -> Result<IssuedChain, CertificateRequestError> {
    let url = crate::http::endpoint(ca, fulcio::SIGNING_CERT_PATH).map_err(|error| {
        CertificateRequestError::BadUrl {
            url: ca.to_string(),
            reason: error.to_string(),
        }
    })?;
    let body = fulcio::signing_cert_request(key, token).map_err(FulcioError::from)?;
    let (_, answer) = post_with(
        client,
        Service("Fulcio"),
        &url,
        ("application/json", &body),
        Some(Credential::Bearer(token.expose())),
        200,
        RESPONSE_SIZE_LIMIT,
    )
    .await?;
    let issued = fulcio::parse_signing_cert_response(&answer, &key.public_key())?;
    verify_leaf_requiring(&issued.leaf, root, &[crate::http::now()], sct).map_err(|source| {
        CertificateRequestError::Untrusted {
            url: url.to_string(),
            source,
        }
    })?;
    Ok(issued)
}
