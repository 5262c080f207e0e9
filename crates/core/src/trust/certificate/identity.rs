//! Who must have signed: the certificate's identity (subject alternative name) and OIDC issuer,
//! exact or by regular expressions anchored at both ends, and the GitHub workflow claims.

use der::asn1::ObjectIdentifier;

use super::{Certificate, CertificateError};

/// Who must have signed: `--certificate-identity[-regexp]` and
/// `--certificate-oidc-issuer[-regexp]`, and the GitHub workflow claims Fulcio recorded
/// (`--certificate-github-workflow-*`), each exact.
#[derive(Debug, Clone)]
pub struct IdentityPolicy {
    pub(super) subject: Matcher,
    pub(super) issuer: Matcher,
    claims: Vec<(GithubClaim, String)>,
}

/// The GitHub workflow claims of Fulcio's first extensions (1.3.6.1.4.1.57264.1.2 to 1.6, raw
/// strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GithubClaim {
    Trigger,
    Sha,
    Name,
    Repository,
    Ref,
}

impl GithubClaim {
    fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Trigger => ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.2"),
            Self::Sha => ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.3"),
            Self::Name => ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.4"),
            Self::Repository => ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.5"),
            Self::Ref => ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.6"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Trigger => "GithubWorkflowTrigger",
            Self::Sha => "GithubWorkflowSHA",
            Self::Name => "GithubWorkflowName",
            Self::Repository => "GithubWorkflowRepository",
            Self::Ref => "GithubWorkflowRef",
        }
    }
}

impl Certificate {
    /// A GitHub workflow claim Fulcio recorded, if any.
    pub fn github_claim(&self, claim: GithubClaim) -> Option<String> {
        self.extension(claim.oid())
            .and_then(|value| std::str::from_utf8(value).ok())
            .map(str::to_owned)
    }
}

#[derive(Debug, Clone)]
pub(super) enum Matcher {
    Exact(String),
    /// The pattern as given, and compiled anchored at both ends.
    Pattern(String, regex::Regex),
    Any,
}

impl Matcher {
    fn new(exact: Option<&str>, pattern: Option<&str>) -> Result<Self, CertificateError> {
        match (exact, pattern) {
            (Some(exact), _) => Ok(Self::Exact(exact.to_owned())),
            (None, Some(pattern)) => regex::Regex::new(&format!("^(?:{pattern})$"))
                .map(|compiled| Self::Pattern(pattern.to_owned(), compiled))
                .map_err(|error| CertificateError::Regex {
                    pattern: pattern.to_owned(),
                    reason: error.to_string(),
                }),
            (None, None) => Ok(Self::Any),
        }
    }

    /// Why `value` does not match, in sigstore-go's words (`what`: "SAN", "issuer").
    fn mismatch(&self, what: &str, value: &str) -> String {
        match self {
            Self::Exact(expected) => format!("expected {what} value {expected:?}, got {value:?}"),
            Self::Pattern(pattern, _) => format!(
                "expected {what} value to match regex {pattern:?} (all of it: cosign-rs anchors patterns, write .*{pattern}.* to match anywhere), got {value:?}"
            ),
            Self::Any => String::new(),
        }
    }

    pub(super) fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(expected) => expected == value,
            Self::Pattern(_, compiled) => compiled.is_match(value),
            Self::Any => true,
        }
    }
}

impl IdentityPolicy {
    /// Exact values win over patterns, as in cosign; regular expressions must match the whole
    /// value. An absent subject or issuer matches anything (cosign requires both; its CLI checks).
    pub fn new(
        subject: Option<&str>,
        subject_regexp: Option<&str>,
        issuer: Option<&str>,
        issuer_regexp: Option<&str>,
    ) -> Result<Self, CertificateError> {
        Ok(Self {
            subject: Matcher::new(subject, subject_regexp)?,
            issuer: Matcher::new(issuer, issuer_regexp)?,
            claims: Vec::new(),
        })
    }

    /// Also requires a GitHub workflow claim to be exactly `value`.
    pub fn with_claim(mut self, claim: GithubClaim, value: &str) -> Self {
        self.claims.push((claim, value.to_owned()));
        self
    }

    pub fn check(&self, leaf: &Certificate) -> Result<(), CertificateError> {
        let subjects = leaf.subject_alternative_names();
        let issuer = leaf.oidc_issuer().unwrap_or_default();
        if !self.issuer.matches(&issuer) {
            return Err(CertificateError::IdentityMismatch {
                reason: self.issuer.mismatch("issuer", &issuer),
            });
        }
        if subjects.iter().any(|subject| self.subject.matches(subject)) {
            for (claim, expected) in &self.claims {
                let actual = leaf.github_claim(*claim).unwrap_or_default();
                if &actual != expected {
                    return Err(CertificateError::IdentityMismatch {
                        reason: format!(
                            "expected {} to be {expected:?}, got {actual:?}",
                            claim.name()
                        ),
                    });
                }
            }
            return Ok(());
        }
        Err(CertificateError::IdentityMismatch {
            reason: self
                .subject
                .mismatch("SAN", subjects.first().map_or("", String::as_str)),
        })
    }
}
