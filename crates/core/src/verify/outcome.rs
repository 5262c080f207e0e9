//! What verifying an image gave: each signature that verified (where it came from, what it
//! says, who signed it, when), each candidate that did not and why (typed), and the verdict.

use crate::bundle::in_toto::{Statement, StatementError};
use crate::bundle::BundleError;
use crate::image::legacy_signature::LayerVerificationError;
use crate::image::simple_signing::SimpleSigningPayload;
use crate::time::UnixTime;
use crate::trust::certificate::{Certificate, GithubClaim};
use crate::verify::bundle::BundleVerificationError;
use crate::verify::keyless::KeylessError;

use super::candidate::{Origin, Unreadable};

/// The result for one image.
#[derive(Debug, Default)]
pub struct ImageVerification {
    /// The signatures that verified, in the order the candidates came.
    pub verified: Vec<VerifiedSignature>,
    /// The candidates that counted but did not verify.
    pub failures: Vec<CandidateFailure>,
    /// Statements that verified but are not what is wanted: their predicate types (so an
    /// attestation of another type is named, never counted).
    pub unwanted: Vec<UnwantedStatement>,
}

/// A statement that verified but is not what the policy wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnwantedStatement {
    pub origin: Origin,
    pub predicate_type: String,
}

/// A signature that verified.
#[derive(Debug, Clone)]
pub struct VerifiedSignature {
    pub origin: Origin,
    pub content: SignedContent,
    pub signer: Signer,
    /// The signing times a log or a timestamp authority vouched for (none for a key whose log
    /// was ignored).
    pub times: Vec<UnixTime>,
}

/// What a signature covers.
#[derive(Debug, Clone)]
pub enum SignedContent {
    /// A legacy simple-signing payload: its bytes as stored, and parsed.
    SimpleSigning {
        raw: Vec<u8>,
        payload: SimpleSigningPayload,
    },
    /// An in-toto statement in a DSSE envelope: its bytes as signed, parsed, and the envelope
    /// as JSON (a legacy layer's bytes as stored; a bundle's envelope as Go encodes it).
    Statement {
        raw: Vec<u8>,
        statement: Statement,
        envelope: Vec<u8>,
    },
}

/// Who made a signature.
#[derive(Debug, Clone)]
pub enum Signer {
    /// The policy's key at this index of its authorities.
    Key { authority: usize },
    /// A certificate that chained to the trusted root and named a wanted identity.
    Certificate {
        authority: usize,
        summary: CertificateSummary,
    },
}

/// What cosign shows of a signing certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSummary {
    /// The first subject alternative name.
    pub subject: String,
    /// Fulcio's first issuer extension (1.3.6.1.4.1.57264.1.1).
    pub issuer: Option<String>,
    /// The GitHub workflow claims it carries (non-empty ones).
    pub github_claims: Vec<(GithubClaim, String)>,
}

impl CertificateSummary {
    pub fn of(certificate: &Certificate) -> Self {
        let github_claims = [
            GithubClaim::Trigger,
            GithubClaim::Sha,
            GithubClaim::Name,
            GithubClaim::Repository,
            GithubClaim::Ref,
        ]
        .into_iter()
        .filter_map(|claim| {
            certificate
                .github_claim(claim)
                .filter(|value| !value.is_empty())
                .map(|value| (claim, value))
        })
        .collect();
        Self {
            subject: certificate
                .subject_alternative_names()
                .into_iter()
                .next()
                .unwrap_or_default(),
            issuer: certificate
                .oidc_issuer_v1()
                .filter(|issuer| !issuer.is_empty()),
            github_claims,
        }
    }
}

/// A candidate that did not verify.
#[derive(Debug)]
pub struct CandidateFailure {
    pub origin: Origin,
    pub reason: FailureReason,
}

/// Why a candidate did not verify. Messages are cosign's where cosign has one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FailureReason {
    /// Its bytes could not be had.
    #[error("{0}")]
    Unreadable(Unreadable),
    /// A bundle that is not a bundle.
    #[error("{0}")]
    Bundle(BundleError),
    /// A legacy layer that does not verify with the key (or whose claims are wrong).
    #[error("{0}")]
    Layer(LayerVerificationError),
    /// A bundle that does not verify with the key.
    #[error("{0}")]
    Content(BundleVerificationError),
    /// A signature whose certificate evidence does not hold.
    #[error("{0}")]
    Keyless(KeylessError),
    /// A legacy layer's certificate that names none of the identities, in cosign's words for
    /// that path (the bundle path's are sigstore-go's, in [`KeylessError`]).
    #[error(
        "none of the expected identities matched what was in the certificate, got subjects [{}] with issuer {issuer}",
        subjects.join(" ")
    )]
    LegacyIdentity {
        subjects: Vec<String>,
        issuer: String,
    },
    /// A statement without the wanted annotations (or not naming the image).
    #[error("{0}")]
    Statement(StatementError),
    /// A legacy attestation layer whose envelope no key signed (cosign's DSSE verifier's words,
    /// without the bundle path's prefix).
    #[error("{}", legacy_envelope_message(.0))]
    LegacyEnvelope(crate::bundle::dsse::EnvelopeError),
    /// A legacy attestation layer that is not a DSSE envelope.
    #[error("parsing DSSE envelope: {0}")]
    Envelope(serde_json::Error),
    /// What cosign-rs cannot check yet (named in the message).
    #[error("{0} is not supported by cosign-rs yet")]
    Unsupported(&'static str),
    /// No authority vouched for it: one reason per authority, in the policy's order.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Authorities(Vec<FailureReason>),
}

fn legacy_envelope_message(error: &crate::bundle::dsse::EnvelopeError) -> String {
    let text = error.to_string();
    text.strip_prefix("could not verify envelope: ")
        .map(str::to_owned)
        .unwrap_or(text)
}

/// The verdict on an image, as cosign decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// At least one signature verified.
    Verified,
    /// Nothing that counts was found (cosign's exit 10).
    NoSignatures,
    /// Signatures were found, none verified. `legacy` when a legacy one was among them
    /// (cosign's exit 12, "no matching signatures"); else only bundles (exit 1, "no matching
    /// attestations").
    NoneVerified { legacy: bool },
}

impl ImageVerification {
    pub fn verdict(&self) -> Verdict {
        if !self.verified.is_empty() {
            return Verdict::Verified;
        }
        if self.failures.is_empty() {
            return Verdict::NoSignatures;
        }
        Verdict::NoneVerified {
            legacy: self
                .failures
                .iter()
                .any(|failure| matches!(failure.origin, Origin::LegacyLayer(_))),
        }
    }
}
