//! Keyless signing's inputs from outside: identity tokens (from a flag, a file, the
//! environment, an issuer) and Fulcio's answers.

use base64::Engine as _;
use proptest::prelude::*;

use super::mutate::config;
use crate::keyless::fulcio::parse_signing_cert_response;
use crate::keyless::identity_token::{is_rs256_token, IdentityToken};
use crate::keys::PrivateKey;

fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

proptest! {
    #![proptest_config(config(128))]

    /// Arbitrary text, and JWTs whose header and claims are arbitrary bytes: `Ok` or `Err`.
    #[test]
    fn identity_tokens_survive_arbitrary_input(
        text in ".{0,300}",
        header in proptest::collection::vec(any::<u8>(), 0..200),
        claims in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let _ = IdentityToken::parse(&text);
        let _ = is_rs256_token(&text);
        let jwt = format!("{}.{}.c2ln", encode(&header), encode(&claims));
        let _ = IdentityToken::parse(&jwt);
        let _ = is_rs256_token(&jwt);
    }

    /// Fulcio's answer, arbitrary bytes and arbitrary JSON certificate lists.
    #[test]
    fn fulcio_answers_survive_arbitrary_input(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        pems in proptest::collection::vec(".{0,200}", 0..4),
    ) {
        let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng).public_key();
        let _ = parse_signing_cert_response(&bytes, &key);
        let body = serde_json::json!({
            "signedCertificateEmbeddedSct": { "chain": { "certificates": pems } }
        })
        .to_string();
        prop_assert!(parse_signing_cert_response(body.as_bytes(), &key).is_err());
    }
}
