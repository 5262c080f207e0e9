//! Verifying one image's candidates against a policy: the one path a verification takes.
//!
//! For each candidate, in the order given:
//! 1. It must be readable; a bundle must parse. A bundle without a DSSE envelope (a message
//!    signature) is not an image signature and is not counted.
//! 2. Any authority of the policy may vouch for it: with a key, the signature verifies over
//!    the payload (legacy) or the envelope (bundle); keyless, the whole Sigstore evidence holds
//!    (certificate chain to the trusted root at each verified signing time, SCT, log entries,
//!    timestamps, identity). The first authority that vouches is the signer.
//! 3. What was signed must be about this image: a bundle's statement names its digest (always,
//!    as cosign 3.1 requires); a legacy payload names it when the policy checks claims.
//! 4. It must be what is wanted: a bundle whose statement has another predicate type than the
//!    one wanted is not counted (an attestation of another type never counts).
//! 5. With claims checked, the annotations asked for must be there.

use crate::bundle::in_toto::{self, Statement, StatementError};
use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::image::legacy_signature::{self, check_payload_claims, verify_layer, LayerCheck};
use crate::image::manifest::Descriptor;
use crate::time::UnixTime;
use crate::verify::bundle::{verify_envelope, Artifact, VerifiedContent};
use crate::verify::keyless;

use super::candidate::{Candidate, Origin};
use super::outcome::{
    CandidateFailure, CertificateSummary, FailureReason, ImageVerification, SignedContent, Signer,
    UnwantedStatement, VerifiedSignature,
};
use super::policy::{Authority, ImagePolicy, Wanted};

/// Verifies the signatures offered for the image `digest` against `policy`, at `now`.
pub fn verify_image(
    policy: &ImagePolicy,
    digest: &Digest,
    candidates: Vec<Candidate>,
    now: UnixTime,
) -> ImageVerification {
    let mut result = ImageVerification::default();
    for candidate in candidates {
        let origin = candidate.origin();
        let outcome = match candidate {
            Candidate::Legacy { layer, payload } => match (payload, &policy.wanted) {
                (Err(unreadable), _) => Err(FailureReason::Unreadable(unreadable)),
                (Ok(payload), Wanted::Signature) => legacy(policy, digest, &layer, payload, now)
                    .map(|verified| Counted::Verified(Box::new(verified))),
                (Ok(envelope), Wanted::Attestation { .. }) => {
                    legacy_attestation(policy, digest, &envelope)
                }
            },
            Candidate::Bundle { bundle, .. } => match bundle {
                Err(unreadable) => Err(FailureReason::Unreadable(unreadable)),
                Ok(bytes) => bundle_candidate(policy, digest, &bytes, now),
            },
        };
        match outcome {
            Ok(Counted::Verified(verified)) => {
                let (content, signer, times) = *verified;
                result.verified.push(VerifiedSignature {
                    origin,
                    content,
                    signer,
                    times,
                })
            }
            Ok(Counted::Unwanted(predicate_type)) => result.unwanted.push(UnwantedStatement {
                origin,
                predicate_type,
            }),
            Ok(Counted::NotASignature) => {}
            Err(reason) => result.failures.push(CandidateFailure { origin, reason }),
        }
    }
    result
}

type Verified = (SignedContent, Signer, Vec<UnixTime>);

/// What became of a candidate that did not fail.
enum Counted {
    Verified(Box<Verified>),
    /// A statement that verified, of another predicate type than wanted.
    Unwanted(String),
    /// Not a signature of this kind at all (a message signature in a bundle).
    NotASignature,
}

/// Tries each authority in turn; the first that vouches wins, else every one's reason.
fn any_authority<T>(
    policy: &ImagePolicy,
    mut attempt: impl FnMut(usize, &Authority) -> Result<T, FailureReason>,
) -> Result<T, FailureReason> {
    let mut reasons = Vec::new();
    for (index, authority) in policy.authorities.iter().enumerate() {
        match attempt(index, authority) {
            Ok(verified) => return Ok(verified),
            Err(reason) => reasons.push(reason),
        }
    }
    Err(match reasons.len() {
        1 => reasons
            .pop()
            .unwrap_or(FailureReason::Authorities(Vec::new())),
        _ => FailureReason::Authorities(reasons),
    })
}

fn annotations_wanted(policy: &ImagePolicy) -> Option<&std::collections::BTreeMap<String, String>> {
    (!policy.annotations.is_empty()).then_some(&policy.annotations)
}

/// A legacy `.sig` layer: the payload is the layer's blob, signed by the authority.
fn legacy(
    policy: &ImagePolicy,
    digest: &Digest,
    layer: &Descriptor,
    payload: Vec<u8>,
    now: UnixTime,
) -> Result<Verified, FailureReason> {
    any_authority(policy, |index, authority| match authority {
        Authority::Key(key) => {
            let check = LayerCheck {
                key: &key.key,
                image_digest: digest,
                annotations: annotations_wanted(policy),
                check_claims: policy.check_claims,
            };
            let parsed = verify_layer(layer, &payload, check).map_err(FailureReason::Layer)?;
            Ok((
                SignedContent::SimpleSigning {
                    raw: payload.clone(),
                    payload: parsed,
                },
                Signer::Key { authority: index },
                Vec::new(),
            ))
        }
        Authority::Keyless(keyless) => {
            let bundle =
                legacy_signature::keyless_bundle(layer, &payload, keyless.certificate.as_deref())
                    .map_err(FailureReason::Layer)?;
            let sha256 = Digest::sha256(&payload);
            let artifact = Artifact {
                sha256: &sha256,
                bytes: Some(&payload),
            };
            let verified = keyless::verify_for_authority(&bundle, artifact, keyless, now.seconds())
                .map_err(|error| match error {
                    keyless::KeylessError::Identity(_) => legacy_identity_mismatch(&bundle),
                    other => FailureReason::Keyless(other),
                })?;
            let parsed = check_payload_claims(
                &payload,
                digest,
                annotations_wanted(policy),
                policy.check_claims,
            )
            .map_err(FailureReason::Layer)?;
            Ok((
                SignedContent::SimpleSigning {
                    raw: payload.clone(),
                    payload: parsed,
                },
                Signer::Certificate {
                    authority: index,
                    summary: CertificateSummary::of(&verified.certificate),
                },
                verified
                    .times
                    .into_iter()
                    .map(UnixTime::from_seconds)
                    .collect(),
            ))
        }
    })
}

/// A bundle referrer: its DSSE envelope verified by an authority, its statement naming the
/// image; `None` when it is not what is wanted (a message signature, an attestation of
/// another kind).
fn bundle_candidate(
    policy: &ImagePolicy,
    digest: &Digest,
    bytes: &[u8],
    now: UnixTime,
) -> Result<Counted, FailureReason> {
    let bundle = Bundle::parse(bytes).map_err(FailureReason::Bundle)?;
    let Some(envelope) = &bundle.dsse_envelope else {
        return Ok(Counted::NotASignature);
    };
    let (content, signer, times) = any_authority(policy, |index, authority| match authority {
        Authority::Key(key) => verify_envelope(envelope, &key.key, Some(digest))
            .map(|content| (content, Signer::Key { authority: index }, Vec::new()))
            .map_err(FailureReason::Content),
        Authority::Keyless(keyless) => {
            let artifact = Artifact {
                sha256: digest,
                bytes: None,
            };
            let verified = keyless::verify_for_authority(&bundle, artifact, keyless, now.seconds())
                .map_err(FailureReason::Keyless)?;
            Ok((
                verified.content,
                Signer::Certificate {
                    authority: index,
                    summary: CertificateSummary::of(&verified.certificate),
                },
                verified
                    .times
                    .into_iter()
                    .map(UnixTime::from_seconds)
                    .collect(),
            ))
        }
    })?;
    let VerifiedContent::Envelope {
        payload,
        statement: Some(statement),
    } = content
    else {
        return Ok(Counted::NotASignature);
    };
    // The statement names the image: checked by the key path already, and here for all.
    let envelope = serde_json::to_vec(envelope).unwrap_or_default();
    counted_statement(
        policy,
        digest,
        (payload, statement, envelope),
        signer,
        times,
        true,
    )
}

/// A verified statement: counted when it is what is wanted, names the image (always for a
/// bundle; for a legacy attestation when claims are checked) and carries the annotations.
fn counted_statement(
    policy: &ImagePolicy,
    digest: &Digest,
    (payload, statement, envelope): (Vec<u8>, Statement, Vec<u8>),
    signer: Signer,
    times: Vec<UnixTime>,
    subject_always: bool,
) -> Result<Counted, FailureReason> {
    let wanted = is_wanted(&policy.wanted, &statement);
    if !wanted && policy.wanted == Wanted::Signature {
        return Ok(Counted::NotASignature);
    }
    // For attestations, the claims first and the type after, as cosign: a statement of
    // another type about another image is a failure, not merely unwanted.
    let subject = statement.subject_for(digest);
    if subject_always || policy.check_claims {
        let subject = subject.ok_or(FailureReason::Statement(StatementError::NoMatchingSubject))?;
        if policy.check_claims {
            if let Some(wanted) = annotations_wanted(policy) {
                if !subject.has_annotations(wanted) {
                    return Err(FailureReason::Statement(StatementError::Annotations));
                }
            }
        }
    }
    if !wanted {
        return Ok(Counted::Unwanted(statement.predicate_type));
    }
    Ok(Counted::Verified(Box::new((
        SignedContent::Statement {
            raw: payload,
            statement,
            envelope,
        },
        signer,
        times,
    ))))
}

/// A layer of the legacy attestation image (`sha256-<hex>.att`): a DSSE envelope, signed by
/// the authority (with a key; a certificate-signed one is not checked yet).
fn legacy_attestation(
    policy: &ImagePolicy,
    digest: &Digest,
    layer_bytes: &[u8],
) -> Result<Counted, FailureReason> {
    let envelope: crate::bundle::Envelope =
        serde_json::from_slice(layer_bytes).map_err(FailureReason::Envelope)?;
    let (content, signer) = any_authority(policy, |index, authority| match authority {
        Authority::Key(key) => crate::verify::bundle::verify_envelope(&envelope, &key.key, None)
            .map(|content| (content, Signer::Key { authority: index }))
            .map_err(|error| match error {
                // cosign's words for a legacy layer: the DSSE verifier's own.
                crate::verify::bundle::BundleVerificationError::Envelope { source } => {
                    FailureReason::LegacyEnvelope(source)
                }
                other => FailureReason::Content(other),
            }),
        Authority::Keyless(_) => Err(FailureReason::Unsupported(
            "keyless verification of legacy attestation layers",
        )),
    })?;
    let VerifiedContent::Envelope {
        payload,
        statement: Some(statement),
    } = content
    else {
        return Ok(Counted::NotASignature);
    };
    counted_statement(
        policy,
        digest,
        (payload, statement, layer_bytes.to_vec()),
        signer,
        Vec::new(),
        false,
    )
}

fn is_wanted(wanted: &Wanted, statement: &Statement) -> bool {
    let is_signature = statement.predicate_type == in_toto::COSIGN_SIGN_PREDICATE;
    match wanted {
        Wanted::Signature => is_signature,
        Wanted::Attestation { predicate_type } => {
            !is_signature
                && predicate_type
                    .as_deref()
                    .is_none_or(|wanted| statement.predicate_type == wanted)
        }
    }
}

impl Origin {
    /// The legacy layer, for a signature that came from one.
    pub fn legacy_layer(&self) -> Option<&Descriptor> {
        match self {
            Self::LegacyLayer(layer) => Some(layer),
            Self::Referrer(_) => None,
        }
    }
}

/// cosign's legacy-path refusal of a certificate naming none of the identities: its subjects
/// and OIDC issuer.
fn legacy_identity_mismatch(bundle: &crate::bundle::Bundle) -> FailureReason {
    let leaf = bundle
        .verification_material
        .x509_certificate_chain
        .as_ref()
        .and_then(|chain| chain.certificates.first())
        .and_then(|certificate| {
            crate::trust::certificate::Certificate::from_der(&certificate.raw_bytes).ok()
        });
    FailureReason::LegacyIdentity {
        subjects: leaf
            .as_ref()
            .map(crate::trust::certificate::Certificate::subject_alternative_names)
            .unwrap_or_default(),
        issuer: leaf
            .as_ref()
            .and_then(crate::trust::certificate::Certificate::oidc_issuer)
            .unwrap_or_default(),
    }
}
