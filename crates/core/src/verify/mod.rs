//! Image verification as a library: the one path `verify` (and, as they come,
//! `verify-attestation`, `manifest verify` and the admission webhook) takes. Pure, as
//! sigstore-go's `pkg/verify`: trusted material and a policy in ([`ImagePolicy`]), candidates
//! as bytes from any source ([`Candidate`]), the time as a parameter; a structured result out
//! ([`ImageVerification`]: each verified signature with its origin, content, signer and times;
//! each failure typed; the [`Verdict`]). [`verify_image`] documents the steps.

pub mod bundle;
mod candidate;
mod image;
pub mod keyless;
mod outcome;
mod policy;

pub use candidate::{Candidate, Origin, Unreadable};
pub use image::verify_image;
pub use outcome::{
    CandidateFailure, CertificateSummary, FailureReason, ImageVerification, SignedContent, Signer,
    Verdict, VerifiedSignature,
};
pub use policy::{
    Authority, ImagePolicy, KeyAuthority, KeyTransparencyLog, KeylessAuthority, Wanted,
};

#[cfg(test)]
mod tests;
