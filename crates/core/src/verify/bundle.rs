//! Verifying a Sigstore bundle against a public key (`--key`), as sigstore-go's verifier does
//! for key material, one step per check:
//!
//! 1. "The bundle's signature MUST verify with the key": for a message signature, over the
//!    artifact (through its digest); for a DSSE envelope, over PAE(payloadType, payload).
//! 2. "The artifact MUST match the signed content": the message digest in the bundle equals the
//!    artifact's; for DSSE, an in-toto subject carries the artifact's digest.
//!
//! Transparency log entries and timestamps are checked elsewhere (or skipped with
//! `--insecure-ignore-tlog`); this module is only the key and the content.

use crate::bundle::dsse::{self, EnvelopeError};
use crate::bundle::in_toto::{Statement, StatementError};
use crate::bundle::{hash_algorithm_from_name, Bundle, Envelope};
use crate::digest::Digest;
use crate::keys::{HashAlgorithm, KeyError, PublicKey, SigningAlgorithm};
use crate::trust::certificate::{Certificate, CertificateError};

/// What was signed, as far as the verifier knows it: always its SHA-256, and the bytes where
/// an algorithm needs them (Ed25519, and P-384/P-521 whose hash is not SHA-256); P-256 and RSA
/// keys verify from the digest alone, so a blob of any size is hashed in constant memory.
#[derive(Debug, Clone, Copy)]
pub struct Artifact<'a> {
    pub sha256: &'a Digest,
    pub bytes: Option<&'a [u8]>,
}

/// What a bundle verified: for DSSE, the exact payload bytes and the parsed statement.
#[derive(Debug, Clone)]
pub enum VerifiedContent {
    Message,
    Envelope {
        payload: Vec<u8>,
        statement: Option<Statement>,
    },
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleVerificationError {
    /// cosign 3: `failed to verify signature: could not verify message: <why>`.
    #[error("failed to verify signature: could not verify message: {source}")]
    Message {
        #[source]
        source: KeyError,
    },
    #[error("failed to verify signature: {source}")]
    Envelope {
        #[source]
        source: EnvelopeError,
    },
    #[error("message digest in the bundle ({in_bundle}) does not match the artifact ({artifact})")]
    MessageDigestMismatch { in_bundle: String, artifact: Digest },
    #[error("unsupported message digest algorithm {algorithm:?}")]
    DigestAlgorithm { algorithm: String },
    #[error("{source}")]
    Statement {
        #[from]
        source: StatementError,
    },
    #[error("the bundle's payload type is {payload_type:?}, not an in-toto statement")]
    PayloadType { payload_type: String },
    #[error("the bundle carries a certificate: verify it with --certificate-identity and --certificate-oidc-issuer, not --key")]
    CertificateMaterial,
    #[error("this key type needs the artifact itself, not only its digest")]
    NeedsArtifactBytes,
}

/// Checks `bundle` against `key` and, if given, the artifact it should cover.
pub fn verify_with_key(
    bundle: &Bundle,
    key: &PublicKey,
    artifact: Option<Artifact<'_>>,
) -> Result<VerifiedContent, BundleVerificationError> {
    let material = &bundle.verification_material;
    if material.public_key.is_none()
        && (material.certificate.is_some() || material.x509_certificate_chain.is_some())
    {
        return Err(BundleVerificationError::CertificateMaterial);
    }
    verify_content(bundle, key, artifact)
}

/// The bundle's signing certificate: `certificate` (v0.3), else the first of
/// `x509CertificateChain` (v0.1, v0.2; the rest of that chain is never trusted).
pub fn leaf_certificate(bundle: &Bundle) -> Option<Result<Certificate, CertificateError>> {
    let material = &bundle.verification_material;
    let raw = material.certificate.as_ref().or_else(|| {
        material
            .x509_certificate_chain
            .as_ref()
            .and_then(|chain| chain.certificates.first())
    })?;
    Some(Certificate::from_der(&raw.raw_bytes))
}

/// Checks the bundle's signature with the key of its (already verified) certificate and,
/// if given, the artifact it should cover.
pub fn verify_with_certificate(
    bundle: &Bundle,
    leaf: &Certificate,
    artifact: Option<Artifact<'_>>,
) -> Result<VerifiedContent, BundleVerificationError> {
    verify_content(bundle, leaf.public_key(), artifact)
}

fn verify_content(
    bundle: &Bundle,
    key: &PublicKey,
    artifact: Option<Artifact<'_>>,
) -> Result<VerifiedContent, BundleVerificationError> {
    if let Some(signature) = &bundle.message_signature {
        let Some(artifact) = artifact else {
            return Err(BundleVerificationError::NeedsArtifactBytes);
        };
        verify_message(key, artifact, &signature.signature)?;
        // The digest the bundle declares must be the artifact's (`{}`: pure Ed25519, none).
        if let Some(declared) = signature
            .message_digest
            .as_ref()
            .filter(|declared| !declared.algorithm.is_empty())
        {
            let algorithm = hash_algorithm_from_name(&declared.algorithm).ok_or_else(|| {
                BundleVerificationError::DigestAlgorithm {
                    algorithm: declared.algorithm.clone(),
                }
            })?;
            let actual = match (algorithm, artifact.bytes) {
                (HashAlgorithm::Sha256, _) => artifact.sha256.hex().to_owned(),
                (other, Some(bytes)) => crate::digest::hex_encode(&other.digest(bytes)),
                (_, None) => return Err(BundleVerificationError::NeedsArtifactBytes),
            };
            if crate::digest::hex_encode(&declared.digest) != actual {
                return Err(BundleVerificationError::MessageDigestMismatch {
                    in_bundle: crate::digest::hex_encode(&declared.digest),
                    artifact: artifact.sha256.clone(),
                });
            }
        }
        return Ok(VerifiedContent::Message);
    }
    let envelope = bundle
        .dsse_envelope
        .as_ref()
        .ok_or(BundleVerificationError::NeedsArtifactBytes)?;
    verify_envelope(envelope, key, artifact.map(|artifact| artifact.sha256))
}

fn verify_message(
    key: &PublicKey,
    artifact: Artifact<'_>,
    signature: &[u8],
) -> Result<(), BundleVerificationError> {
    let error = |source| BundleVerificationError::Message { source };
    match key {
        PublicKey::Ed25519(_) => {
            let bytes = artifact
                .bytes
                .ok_or(BundleVerificationError::NeedsArtifactBytes)?;
            // cosign signs blobs with pure Ed25519 when there is no log, Ed25519ph otherwise.
            key.verify_with(SigningAlgorithm::Ed25519, bytes, signature)
                .or_else(|_| key.verify_with(SigningAlgorithm::Ed25519Prehashed, bytes, signature))
                .map_err(error)
        }
        _ if key.default_algorithm().hash() == Some(HashAlgorithm::Sha256) => {
            let digest = artifact.sha256.bytes();
            key.verify_digest(&digest, HashAlgorithm::Sha256, signature)
                .map_err(error)
        }
        // P-384 and P-521 sign SHA-384 and SHA-512 of the message: they need the bytes.
        _ => {
            let bytes = artifact
                .bytes
                .ok_or(BundleVerificationError::NeedsArtifactBytes)?;
            key.verify(bytes, signature).map_err(error)
        }
    }
}

/// Verifies a DSSE envelope with `key`; if `subject` is given, an in-toto subject must name it.
pub fn verify_envelope(
    envelope: &Envelope,
    key: &PublicKey,
    subject: Option<&Digest>,
) -> Result<VerifiedContent, BundleVerificationError> {
    dsse::verify(envelope, key).map_err(|source| BundleVerificationError::Envelope { source })?;
    let statement = if envelope.payload_type == dsse::IN_TOTO_PAYLOAD_TYPE {
        Some(Statement::parse(&envelope.payload)?)
    } else {
        None
    };
    if let Some(digest) = subject {
        let statement = statement
            .as_ref()
            .ok_or_else(|| BundleVerificationError::PayloadType {
                payload_type: envelope.payload_type.clone(),
            })?;
        if statement.subject_for(digest).is_none() {
            return Err(StatementError::NoMatchingSubject.into());
        }
    }
    Ok(VerifiedContent::Envelope {
        payload: envelope.payload.clone(),
        statement,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PrivateKey;

    #[test]
    fn message_bundles_verify_only_for_their_artifact_and_key() {
        let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
        let blob = b"hello\n";
        let digest = Digest::sha256(blob);
        let signature = key.sign(blob).expect("signs");
        let bundle = Bundle::for_message_signature(
            &key.public_key(),
            Some((HashAlgorithm::Sha256, HashAlgorithm::Sha256.digest(blob))),
            signature,
        )
        .expect("bundle");
        let artifact = Artifact {
            sha256: &digest,
            bytes: Some(blob),
        };
        verify_with_key(&bundle, &key.public_key(), Some(artifact)).expect("verifies");
        // Another blob.
        let other = Digest::sha256(b"tampered\n");
        let error = verify_with_key(
            &bundle,
            &key.public_key(),
            Some(Artifact {
                sha256: &other,
                bytes: None,
            }),
        )
        .expect_err("tampered");
        assert_eq!(
            error.to_string(),
            "failed to verify signature: could not verify message: invalid signature when validating ASN.1 encoded signature"
        );
        // Another key.
        let stranger = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng).public_key();
        assert!(verify_with_key(&bundle, &stranger, Some(artifact)).is_err());
        // A bundle whose signature is right but whose declared digest lies.
        let mut lying = bundle.clone();
        if let Some(message) = lying.message_signature.as_mut() {
            message.message_digest.as_mut().expect("digest").digest = vec![0; 32];
        }
        assert!(matches!(
            verify_with_key(&lying, &key.public_key(), Some(artifact)),
            Err(BundleVerificationError::MessageDigestMismatch { .. })
        ));
    }

    #[test]
    fn envelopes_must_name_the_subject() {
        let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
        let image = Digest::sha256(b"image manifest");
        let statement =
            crate::bundle::in_toto::image_signature_statement(&image, &Default::default());
        let envelope = dsse::sign(&key, dsse::IN_TOTO_PAYLOAD_TYPE, statement).expect("signs");
        let bundle = Bundle::for_envelope(&key.public_key(), envelope.clone()).expect("bundle");
        verify_with_key(
            &bundle,
            &key.public_key(),
            Some(Artifact {
                sha256: &image,
                bytes: None,
            }),
        )
        .expect("verifies");
        let other = Digest::sha256(b"another image");
        let error =
            verify_envelope(&envelope, &key.public_key(), Some(&other)).expect_err("other subject");
        assert_eq!(error.to_string(), "no matching subject digest found");
        let stranger = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng).public_key();
        let error = verify_envelope(&envelope, &stranger, Some(&image)).expect_err("wrong key");
        assert_eq!(
            error.to_string(),
            "failed to verify signature: could not verify envelope: accepted signatures do not match threshold, Found: 0, Expected 1"
        );
    }

    #[test]
    fn ed25519_blob_signatures_verify_pure_and_prehashed() {
        let key =
            crate::keys::import_private_key(include_bytes!("../keys/fixtures/ed25519.pkcs8.pem"))
                .expect("key");
        let blob = b"blob";
        let digest = Digest::sha256(blob);
        for algorithm in [
            SigningAlgorithm::Ed25519,
            SigningAlgorithm::Ed25519Prehashed,
        ] {
            let signature = key.sign_with(algorithm, blob).expect("signs");
            let bundle =
                Bundle::for_message_signature(&key.public_key(), None, signature).expect("bundle");
            verify_with_key(
                &bundle,
                &key.public_key(),
                Some(Artifact {
                    sha256: &digest,
                    bytes: Some(blob),
                }),
            )
            .expect("verifies");
        }
    }
}
