//! OpenID Connect identity tokens as Sigstore clients read them: a JWT whose claims name who
//! signs (`sub`, or `email` when the issuer verified it), for which service (`aud`, `sigstore`)
//! and until when (`exp`). The client does not check the token's signature (Fulcio does, against
//! the issuer's keys); it reads the claims to prove possession of its key over the identity and
//! to say early what is wrong with a token.
//!
//! A token is a bearer credential: [`IdentityToken`]'s `Debug` never shows it, and nothing here
//! puts it in an error message.

use base64::Engine as _;
use serde::Deserialize;

use crate::time::UnixTime;

/// The most of a token read (real ones are 1-2 KiB).
pub const TOKEN_SIZE_LIMIT: usize = 64 * 1024;

/// The audience Fulcio asks tokens to be minted for.
pub const SIGSTORE_AUDIENCE: &str = "sigstore";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    #[error("the identity token is {size} bytes, over the {TOKEN_SIZE_LIMIT}-byte limit")]
    TooLarge { size: usize },
    /// cosign's words for a token whose claims cannot be read.
    #[error("unable to get subject from identity token: {reason}")]
    Unreadable { reason: &'static str },
    #[error("the identity token is for {found:?}, not for {wanted:?} (its `aud` claim)")]
    Audience { wanted: String, found: Vec<String> },
    #[error("the identity token expired at {expired}: get a new one")]
    Expired { expired: UnixTime },
}

/// The claims a Sigstore client reads (no secret: the signature part is not kept here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
    pub expires: Option<UnixTime>,
    pub email: Option<String>,
    pub email_verified: bool,
    /// The `nonce` an interactive flow asked for, to be matched by the caller.
    pub nonce: Option<String>,
}

/// A parsed identity token: the raw JWT (sent to Fulcio only) and its claims.
#[derive(Clone)]
pub struct IdentityToken {
    raw: String,
    algorithm: String,
    claims: Claims,
}

impl std::fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityToken")
            .field("raw", &"<redacted>")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.claims.issuer)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    exp: Option<f64>,
    email: Option<String>,
    email_verified: Option<EmailVerified>,
    nonce: Option<String>,
}

/// Issuers write `email_verified` as a boolean, some as the string "true".
#[derive(Deserialize)]
#[serde(untagged)]
enum EmailVerified {
    Flag(bool),
    Text(String),
}

/// The three dot-separated parts of a compact JWS, the first two decoded.
fn split(raw: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut parts = raw.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if signature.is_empty() {
        return None;
    }
    let decode = |part: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .ok()
    };
    Some((decode(header)?, decode(payload)?))
}

impl IdentityToken {
    /// Reads a compact JWT's claims. The token is taken exactly as given (cosign does not
    /// trim a token file either).
    pub fn parse(raw: &str) -> Result<Self, TokenError> {
        if raw.len() > TOKEN_SIZE_LIMIT {
            return Err(TokenError::TooLarge { size: raw.len() });
        }
        let unreadable = |reason| TokenError::Unreadable { reason };
        let (header, payload) = split(raw).ok_or(unreadable("not a compact JWT"))?;
        let header: Header =
            serde_json::from_slice(&header).map_err(|_| unreadable("its header is not JSON"))?;
        let claims: RawClaims =
            serde_json::from_slice(&payload).map_err(|_| unreadable("its claims are not JSON"))?;
        let subject = claims
            .sub
            .filter(|sub| !sub.is_empty())
            .ok_or(unreadable("no `sub` claim"))?;
        let issuer = claims
            .iss
            .filter(|iss| !iss.is_empty())
            .ok_or(unreadable("no `iss` claim"))?;
        let audiences = match claims.aud {
            None => Vec::new(),
            Some(Audience::One(one)) => vec![one],
            Some(Audience::Many(many)) => many,
        };
        let expires = claims
            .exp
            .filter(|exp| exp.is_finite())
            .map(|exp| UnixTime::from_seconds(exp as i64));
        let email_verified = match claims.email_verified {
            Some(EmailVerified::Flag(flag)) => flag,
            Some(EmailVerified::Text(text)) => text == "true",
            None => false,
        };
        Ok(Self {
            raw: raw.to_owned(),
            algorithm: header.alg,
            claims: Claims {
                issuer,
                subject,
                audiences,
                expires,
                email: claims.email,
                email_verified,
                nonce: claims.nonce,
            },
        })
    }

    /// The JWT itself, for the `Authorization: Bearer` header and nowhere else.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The JWS algorithm its header names (`RS256`, `ES256`, ...).
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// What Fulcio puts in the certificate and what the proof of possession signs: the email
    /// when the issuer verified it, the subject otherwise.
    pub fn identity(&self) -> &str {
        match (&self.claims.email, self.claims.email_verified) {
            (Some(email), true) if !email.is_empty() => email,
            _ => &self.claims.subject,
        }
    }

    /// Whether the token was minted for `audience` (a token without `aud` is for anyone).
    pub fn check_audience(&self, audience: &str) -> Result<(), TokenError> {
        if self.claims.audiences.is_empty()
            || self.claims.audiences.iter().any(|found| found == audience)
        {
            Ok(())
        } else {
            Err(TokenError::Audience {
                wanted: audience.to_owned(),
                found: self.claims.audiences.clone(),
            })
        }
    }

    /// Refuses a token that expired at `now` (cosign leaves this to Fulcio's 400; saying it
    /// before any request is clearer).
    pub fn check_expiry(&self, now: UnixTime) -> Result<(), TokenError> {
        match self.claims.expires {
            Some(expired) if expired <= now => Err(TokenError::Expired { expired }),
            _ => Ok(()),
        }
    }
}

/// How cosign reads `--identity-token VALUE`: the value is the token when it is a compact JWT
/// signed with RS256; anything else is the path of a file that holds one.
pub fn is_rs256_token(value: &str) -> bool {
    value.len() <= TOKEN_SIZE_LIMIT
        && split(value)
            .and_then(|(header, _)| serde_json::from_slice::<Header>(&header).ok())
            .is_some_and(|header| header.alg == "RS256")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(header: &str, claims: &str) -> String {
        let encode = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
        format!("{}.{}.c2lnbmF0dXJl", encode(header), encode(claims))
    }

    #[test]
    fn reads_the_claims_and_picks_a_verified_email_over_the_subject() {
        let token = jwt(
            r#"{"alg":"RS256","kid":"1"}"#,
            r#"{"iss":"https://issuer.example","sub":"user-1","aud":"sigstore","exp":2000000000,"email":"dev@example.com","email_verified":true}"#,
        );
        let parsed = IdentityToken::parse(&token).expect("parses");
        assert_eq!(parsed.identity(), "dev@example.com");
        assert_eq!(parsed.claims().issuer, "https://issuer.example");
        assert_eq!(parsed.claims().audiences, ["sigstore"]);
        assert_eq!(parsed.algorithm(), "RS256");
        assert_eq!(parsed.expose(), token);
        assert!(is_rs256_token(&token));
        parsed.check_audience(SIGSTORE_AUDIENCE).expect("audience");
        parsed
            .check_expiry(UnixTime::from_seconds(1_999_999_999))
            .expect("not expired yet");
        assert_eq!(
            parsed.check_expiry(UnixTime::from_seconds(2_000_000_000)),
            Err(TokenError::Expired {
                expired: UnixTime::from_seconds(2_000_000_000)
            })
        );
    }

    #[test]
    fn an_unverified_email_leaves_the_subject_as_the_identity() {
        for verified in [
            r#""email_verified":false"#,
            r#""email_verified":"no""#,
            r#""x":1"#,
        ] {
            let token = jwt(
                r#"{"alg":"ES256"}"#,
                &format!(
                    r#"{{"iss":"https://i","sub":"repo:org/app:ref:refs/heads/main","aud":["a","sigstore"],"email":"x@y",{verified}}}"#
                ),
            );
            let parsed = IdentityToken::parse(&token).expect("parses");
            assert_eq!(parsed.identity(), "repo:org/app:ref:refs/heads/main");
            parsed.check_audience("sigstore").expect("one of two");
            // Not RS256: cosign would open it as a file.
            assert!(!is_rs256_token(&token));
        }
    }

    #[test]
    fn refuses_what_is_not_a_token_without_repeating_it() {
        let secret = "not-a-jwt-but-a-secret";
        for bad in [
            secret.to_owned(),
            "a.b".to_owned(),
            "a.b.c.d".to_owned(),
            jwt(r#"{"alg":"RS256"}"#, "[]"),
            jwt(r#"{"alg":"RS256"}"#, r#"{"iss":"https://i"}"#),
            jwt(r#"{"alg":"RS256"}"#, r#"{"sub":"s"}"#),
            format!(
                "{}.",
                jwt(r#"{"alg":"RS256"}"#, "{}")
                    .rsplit_once('.')
                    .map(|(head, _)| head)
                    .unwrap_or_default()
            ),
        ] {
            let error = IdentityToken::parse(&bad).expect_err(&bad);
            assert!(
                error
                    .to_string()
                    .starts_with("unable to get subject from identity token"),
                "{error}"
            );
            assert!(!error.to_string().contains(secret));
        }
        let huge = "a".repeat(TOKEN_SIZE_LIMIT + 1);
        assert_eq!(
            IdentityToken::parse(&huge).err(),
            Some(TokenError::TooLarge { size: huge.len() })
        );
    }

    #[test]
    fn the_debug_form_never_shows_the_token() {
        let token = jwt(r#"{"alg":"RS256"}"#, r#"{"iss":"https://i","sub":"s"}"#);
        let parsed = IdentityToken::parse(&token).expect("parses");
        let shown = format!("{parsed:?}");
        assert!(!shown.contains(&token[..20]), "{shown}");
        assert!(shown.contains("<redacted>"));
        assert_eq!(
            parsed.check_audience("sigstore"),
            Ok(()),
            "a token without aud is for anyone"
        );
    }

    #[test]
    fn another_audience_is_named() {
        let token = jwt(
            r#"{"alg":"RS256"}"#,
            r#"{"iss":"https://i","sub":"s","aud":"kubernetes"}"#,
        );
        let parsed = IdentityToken::parse(&token).expect("parses");
        assert_eq!(
            parsed.check_audience("sigstore").map_err(|e| e.to_string()),
            Err(
                r#"the identity token is for ["kubernetes"], not for "sigstore" (its `aud` claim)"#
                    .to_owned()
            )
        );
    }
}
