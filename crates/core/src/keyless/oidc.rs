//! The pure parts of the interactive OIDC flows (authorization code with PKCE, RFC 7636; the
//! device flow, RFC 8628, needs none): the PKCE verifier and challenge, and the random `state`
//! and `nonce` values a browser flow checks on its way back.

use base64::Engine as _;
use rand_core::CryptoRngCore;
use sha2::Digest as _;

/// A PKCE pair: the verifier, kept, and its S256 challenge, sent in the authorization request.
#[derive(Clone)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl std::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

/// 32 random bytes, base64url without padding (43 characters: a valid PKCE verifier, state or
/// nonce).
pub fn random_token(rng: &mut impl CryptoRngCore) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Pkce {
    pub fn new(rng: &mut impl CryptoRngCore) -> Self {
        let verifier = random_token(rng);
        Self::from_verifier(verifier)
    }

    /// The S256 challenge of `verifier`: base64url(SHA-256(verifier)).
    pub fn from_verifier(verifier: String) -> Self {
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()));
        Self {
            verifier,
            challenge,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        let pkce = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_owned());
        assert_eq!(
            pkce.challenge,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let fresh = Pkce::new(&mut rand_core::OsRng);
        assert_eq!(fresh.verifier.len(), 43);
        assert_ne!(fresh.verifier, Pkce::new(&mut rand_core::OsRng).verifier);
    }
}
