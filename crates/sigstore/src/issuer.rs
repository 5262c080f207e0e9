//! The OIDC issuer: a discovery document, its JWKS, and `GET /token?sub=<identity>`, which
//! mints an RS256 ID token for any identity it is asked for (a lab's issuer: whoever can reach
//! it gets a token, which is why it listens on loopback). An email identity gets the `email`
//! and `email_verified` claims Fulcio reads for an email SAN. Fulcio's side checks tokens here:
//! signature, issuer, audience `sigstore`, expiry.

use base64::Engine as _;
use cosign_core::keys::PrivateKey;
use rand_core::RngCore as _;
use rsa::traits::PublicKeyParts as _;
use sha2::Digest as _;

use crate::Failure;

/// How long a token lives, in seconds.
pub(crate) const TOKEN_LIFETIME: i64 = 600;
/// The audience Fulcio expects.
pub(crate) const AUDIENCE: &str = "sigstore";
/// The longest identity a token is minted for.
const IDENTITY_LIMIT: usize = 256;

#[derive(Debug)]
pub(crate) struct Issuer {
    pub(crate) url: String,
    key: PrivateKey,
    public: rsa::RsaPublicKey,
    kid: String,
}

/// What Fulcio needs of a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Principal {
    pub(crate) subject: String,
    /// The `email` claim, when `email_verified` is true.
    pub(crate) email: Option<String>,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Why a token is not accepted (Fulcio answers all of them alike; this is for the log).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct TokenRefused(pub(crate) String);

impl Issuer {
    /// The issuer at `url` signing with `pkcs8` (an RSA key).
    pub(crate) fn new(url: String, pkcs8: &[u8]) -> Result<Self, Failure> {
        use rsa::pkcs8::DecodePrivateKey as _;
        let key = PrivateKey::from_pkcs8_der(pkcs8)
            .map_err(|error| Failure::Internal(format!("the issuer's key: {error}")))?;
        let public = rsa::RsaPrivateKey::from_pkcs8_der(pkcs8)
            .map_err(|error| Failure::Internal(format!("the issuer's key: {error}")))?
            .to_public_key();
        let spki = key
            .public_key()
            .to_der()
            .map_err(|error| Failure::Internal(error.to_string()))?;
        let kid = b64url(sha2::Sha256::digest(&spki).get(..16).unwrap_or_default());
        Ok(Self {
            url,
            key,
            public,
            kid,
        })
    }

    /// `/.well-known/openid-configuration`: what verifiers of its tokens need (its keys). It
    /// offers no OAuth flow (tokens come from `GET /token?sub=`), so it names no authorization
    /// or token endpoint a client could mistake for one.
    pub(crate) fn discovery(&self) -> Vec<u8> {
        serde_json::json!({
            "issuer": self.url,
            "jwks_uri": format!("{}/jwks", self.url),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "email", "email_verified"],
        })
        .to_string()
        .into_bytes()
    }

    /// The JWKS: the one RSA key tokens are signed with.
    pub(crate) fn jwks(&self) -> Vec<u8> {
        serde_json::json!({"keys": [{
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": b64url(&self.public.n().to_bytes_be()),
            "e": b64url(&self.public.e().to_bytes_be()),
        }]})
        .to_string()
        .into_bytes()
    }

    /// A token for `identity`, issued at `now`.
    pub(crate) fn mint(&self, identity: &str, now: i64) -> Result<String, Failure> {
        if identity.is_empty()
            || identity.len() > IDENTITY_LIMIT
            || identity
                .chars()
                .any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(Failure::Client {
                status: 400,
                grpc: 3,
                message: format!(
                    "sub must be 1 to {IDENTITY_LIMIT} characters, none of them space or control: GET /token?sub=alice@example.com"
                ),
            });
        }
        let mut nonce = [0u8; 16];
        rand_core::OsRng.fill_bytes(&mut nonce);
        let mut claims = serde_json::json!({
            "iss": self.url,
            "sub": identity,
            "aud": AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME,
            "jti": b64url(&nonce),
        });
        if let (true, Some(map)) = (is_email(identity), claims.as_object_mut()) {
            map.insert("email".to_owned(), identity.into());
            map.insert("email_verified".to_owned(), true.into());
        }
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let signature = self
            .key
            .sign(input.as_bytes())
            .map_err(|error| Failure::Internal(error.to_string()))?;
        Ok(format!("{input}.{}", b64url(&signature)))
    }

    /// The principal of `token` if this issuer signed it for Fulcio and it is valid at `now`.
    pub(crate) fn verify(&self, token: &str, now: i64) -> Result<Principal, TokenRefused> {
        let refused = |why: &str| TokenRefused(why.to_owned());
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(refused("not a JWT"));
        };
        let decode = |part: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part.trim_end_matches('='))
                .map_err(|_| refused("not base64url"))
        };
        let header: serde_json::Value =
            serde_json::from_slice(&decode(header)?).map_err(|_| refused("bad header"))?;
        if claim(&header, "alg") != "RS256" {
            return Err(refused("not signed with RS256"));
        }
        let claims: serde_json::Value =
            serde_json::from_slice(&decode(payload)?).map_err(|_| refused("bad claims"))?;
        if claim(&claims, "iss").as_str() != Some(self.url.as_str()) {
            return Err(TokenRefused(format!(
                "issued by {}, not by this issuer ({})",
                claim(&claims, "iss"),
                self.url
            )));
        }
        let input = token.len() - signature.len() - 1;
        self.key
            .public_key()
            .verify(
                token.get(..input).unwrap_or_default().as_bytes(),
                &decode(signature)?,
            )
            .map_err(|_| refused("the signature does not verify"))?;
        let audience_ok = match claim(&claims, "aud") {
            serde_json::Value::String(audience) => audience == AUDIENCE,
            serde_json::Value::Array(audiences) => audiences.iter().any(|a| a == AUDIENCE),
            _ => false,
        };
        if !audience_ok {
            return Err(refused("the audience is not sigstore"));
        }
        let expiry = claim(&claims, "exp")
            .as_i64()
            .ok_or_else(|| refused("no expiry"))?;
        if expiry <= now {
            return Err(refused("the token has expired"));
        }
        if claim(&claims, "nbf")
            .as_i64()
            .is_some_and(|not_before| not_before > now + 60)
        {
            return Err(refused("the token is not valid yet"));
        }
        let subject = claim(&claims, "sub")
            .as_str()
            .filter(|subject| !subject.is_empty())
            .ok_or_else(|| refused("no subject"))?
            .to_owned();
        let email = (claim(&claims, "email_verified") == true)
            .then(|| claim(&claims, "email").as_str().map(str::to_owned))
            .flatten();
        Ok(Principal { subject, email })
    }
}

/// A claim of a token (null when absent).
fn claim<'a>(claims: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    claims.get(name).unwrap_or(&serde_json::Value::Null)
}

/// Whether `identity` reads as an email address (one `@`, text on both sides, a dot after it).
pub(crate) fn is_email(identity: &str) -> bool {
    let mut parts = identity.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(local), Some(domain), None)
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
    )
}

/// A new RSA key for the issuer, PKCS #8 DER.
pub(crate) fn generate_key() -> Result<Vec<u8>, Failure> {
    use rsa::pkcs8::EncodePrivateKey as _;
    let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
        .map_err(|error| Failure::Internal(format!("making the issuer's key: {error}")))?;
    Ok(key
        .to_pkcs8_der()
        .map_err(|error| Failure::Internal(format!("making the issuer's key: {error}")))?
        .as_bytes()
        .to_vec())
}
