//! Checking a bundle's transparency log (Rekor v1) entries against a trusted root, one step
//! per rule of the Sigstore client spec:
//!
//! 1. "The log entry MUST come from a log in the trusted root": its log id names a trusted log
//!    whose key was valid when the entry was integrated.
//! 2. "The entry MUST be for this artifact, signature and key": the canonicalized body (a
//!    `hashedrekord` v0.0.1) names the artifact's digest, the bundle's signature and the
//!    verification key.
//! 3. "An inclusion promise MUST verify": the signed entry timestamp is the log's signature
//!    over the canonical JSON `{"body","integratedTime","logID","logIndex"}`.
//! 4. "An inclusion proof MUST verify": the leaf hash walks up the audit path (RFC 6962) to
//!    the root hash, and a checkpoint signed by the log commits to that root and tree size.
//! 5. "The integrated time MUST NOT be in the future."
//! 6. "Entries count toward the threshold once per log."

use base64::Engine as _;

use crate::bundle::{Bundle, BundleVersion, InclusionProof, TransparencyLogEntry};
use crate::digest::{hex_encode, Digest};
use crate::keys::{PublicKey, SigningAlgorithm};
use crate::trust::certificate::Certificate;
use crate::trust::trusted_root::{TransparencyLogInstance, TrustedRoot};

/// The most hashes an inclusion proof may have (a tree of 2^64 leaves needs 64).
pub const PROOF_HASH_LIMIT: usize = 64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlogError {
    #[error("not enough verified log entries from transparency log: {verified} < {threshold}")]
    Threshold { verified: usize, threshold: usize },
    #[error("transparency log entry from an unknown log {log_id}")]
    UnknownLog { log_id: String },
    #[error("log entry integrated at {time}, outside the validity of the log's key")]
    OutsideLogValidity { time: i64 },
    #[error("log entry integrated in the future ({time})")]
    IntegratedInFuture { time: i64 },
    #[error("unsupported log entry kind {kind} {version}")]
    UnsupportedKind { kind: String, version: String },
    #[error("log entry body does not match: {what}")]
    BodyMismatch { what: &'static str },
    #[error("invalid signed entry timestamp")]
    InvalidSet,
    #[error("log entry has neither an inclusion promise nor an inclusion proof")]
    NoInclusion,
    #[error("bundles of v0.2 and later need an inclusion proof")]
    MissingInclusionProof,
    #[error("invalid inclusion proof: {reason}")]
    InvalidInclusionProof { reason: &'static str },
    #[error("invalid checkpoint: {reason}")]
    InvalidCheckpoint { reason: &'static str },
}

/// Who signed, as a log entry must name them: a public key, or a certificate (logged whole).
#[derive(Debug, Clone, Copy)]
pub enum Signer<'a> {
    Key(&'a PublicKey),
    Certificate(&'a Certificate),
}

/// Verifies the bundle's log entries for a message signature by `key` over an artifact whose
/// SHA-256 is `artifact`, at `now` (seconds since 1970). Returns the integrated times of the
/// entries that verified (one per log), if at least `threshold` logs vouched.
pub fn verify_entries(
    bundle: &Bundle,
    root: &TrustedRoot,
    artifact: &Digest,
    key: &PublicKey,
    now: i64,
    threshold: usize,
) -> Result<Vec<i64>, TlogError> {
    verify_entries_for(bundle, root, artifact, Signer::Key(key), now, threshold)
}

/// [`verify_entries`] for any signer. The integrated times returned are those a log signed
/// (a signed entry timestamp verified): only those may stand for the signing time.
pub fn verify_entries_for(
    bundle: &Bundle,
    root: &TrustedRoot,
    artifact: &Digest,
    key: Signer<'_>,
    now: i64,
    threshold: usize,
) -> Result<Vec<i64>, TlogError> {
    verify_entries_observed(bundle, root, artifact, key, now, threshold, &[])
}

/// [`verify_entries_for`], with the signing times other evidence (RFC 3161 timestamps) gave:
/// Rekor v2 entries carry no integrated time, so their log's key must have been valid at one
/// of those.
pub fn verify_entries_observed(
    bundle: &Bundle,
    root: &TrustedRoot,
    artifact: &Digest,
    key: Signer<'_>,
    now: i64,
    threshold: usize,
    observed: &[i64],
) -> Result<Vec<i64>, TlogError> {
    let version = bundle.version().unwrap_or(BundleVersion::V0_3);
    let mut logs_seen: Vec<&[u8]> = Vec::new();
    let mut times = Vec::new();
    let mut last_error = None;
    for entry in &bundle.verification_material.tlog_entries {
        match verify_entry(bundle, version, entry, root, artifact, key, now, observed) {
            Ok(()) => {
                if !logs_seen.contains(&entry.log_id.key_id.as_slice()) {
                    logs_seen.push(&entry.log_id.key_id);
                    // "Integrated time is trusted only when signed."
                    if entry.inclusion_promise.is_some() {
                        times.push(entry.integrated_time);
                    }
                }
            }
            Err(error) => last_error = Some(error),
        }
    }
    if logs_seen.len() < threshold {
        return Err(last_error.unwrap_or(TlogError::Threshold {
            verified: logs_seen.len(),
            threshold,
        }));
    }
    Ok(times)
}

#[allow(clippy::too_many_arguments)]
fn verify_entry(
    bundle: &Bundle,
    version: BundleVersion,
    entry: &TransparencyLogEntry,
    root: &TrustedRoot,
    artifact: &Digest,
    key: Signer<'_>,
    now: i64,
    observed: &[i64],
) -> Result<(), TlogError> {
    // 1. A trusted log, valid at the integrated time.
    let log = root
        .tlog(&entry.log_id.key_id)
        .ok_or_else(|| TlogError::UnknownLog {
            log_id: hex_encode(&entry.log_id.key_id),
        })?;
    let rekor_v2 = entry.kind_version.version == "0.0.2";
    if rekor_v2 && entry.integrated_time == 0 {
        // No integrated time: the log's key must be valid at a timestamp's time.
        if !observed.iter().any(|time| log.valid_at(*time)) {
            return Err(TlogError::OutsideLogValidity {
                time: observed.first().copied().unwrap_or_default(),
            });
        }
    } else if !log.valid_at(entry.integrated_time) {
        return Err(TlogError::OutsideLogValidity {
            time: entry.integrated_time,
        });
    }
    // 5. Not from the future.
    if entry.integrated_time > now {
        return Err(TlogError::IntegratedInFuture {
            time: entry.integrated_time,
        });
    }
    // 2. The body is this artifact, this signature, this key.
    check_body(bundle, entry, artifact, key)?;
    // 3. and 4.
    match (&entry.inclusion_promise, &entry.inclusion_proof) {
        (None, None) => return Err(TlogError::NoInclusion),
        (_, None) if version >= BundleVersion::V0_2 => {
            return Err(TlogError::MissingInclusionProof)
        }
        _ => {}
    }
    if let Some(promise) = &entry.inclusion_promise {
        verify_set(entry, log, &promise.signed_entry_timestamp)?;
    }
    if let Some(proof) = &entry.inclusion_proof {
        verify_inclusion_proof(&entry.canonicalized_body, proof)?;
        verify_checkpoint(proof, log)?;
    }
    Ok(())
}

fn check_body(
    bundle: &Bundle,
    entry: &TransparencyLogEntry,
    artifact: &Digest,
    signer: Signer<'_>,
) -> Result<(), TlogError> {
    let body: serde_json::Value =
        serde_json::from_slice(&entry.canonicalized_body).map_err(|_| TlogError::BodyMismatch {
            what: "body is not JSON",
        })?;
    let declared = (
        entry.kind_version.kind.as_str(),
        entry.kind_version.version.as_str(),
    );
    let text = |pointer: &str| body.pointer(pointer).and_then(serde_json::Value::as_str);
    // The body says what it is too; both must agree.
    if (text("/kind"), text("/apiVersion")) != (Some(declared.0), Some(declared.1)) {
        return Err(TlogError::BodyMismatch {
            what: "kind and version",
        });
    }
    match declared {
        ("hashedrekord", "0.0.1") => check_hashedrekord(bundle, &body, artifact, signer),
        ("dsse", "0.0.1") => check_dsse(bundle, &body, signer),
        ("intoto", "0.0.2") => check_intoto(bundle, &body, signer),
        ("hashedrekord", "0.0.2") => check_hashedrekord_v2(bundle, &body, artifact, signer),
        ("dsse", "0.0.2") => check_dsse_v2(bundle, &body, signer),
        (kind, version) => Err(TlogError::UnsupportedKind {
            kind: kind.to_owned(),
            version: version.to_owned(),
        }),
    }
}

/// `hashedrekord` v0.0.1: the artifact's digest, the bundle's message signature, the signer.
fn check_hashedrekord(
    bundle: &Bundle,
    body: &serde_json::Value,
    artifact: &Digest,
    signer: Signer<'_>,
) -> Result<(), TlogError> {
    let text = |pointer: &str| body.pointer(pointer).and_then(serde_json::Value::as_str);
    let Some(message) = &bundle.message_signature else {
        return Err(TlogError::BodyMismatch {
            what: "a hashedrekord entry for a bundle without a message signature",
        });
    };
    if text("/spec/data/hash/algorithm") != Some("sha256")
        || text("/spec/data/hash/value") != Some(artifact.hex())
    {
        return Err(TlogError::BodyMismatch {
            what: "artifact digest",
        });
    }
    let signature = base64::engine::general_purpose::STANDARD.encode(&message.signature);
    if text("/spec/signature/content") != Some(signature.as_str()) {
        return Err(TlogError::BodyMismatch { what: "signature" });
    }
    check_signer(text("/spec/signature/publicKey/content"), signer)
}

/// `dsse` v0.0.1: one signature, the envelope's; the hash of the envelope's payload; the
/// signer as verifier.
fn check_dsse(
    bundle: &Bundle,
    body: &serde_json::Value,
    signer: Signer<'_>,
) -> Result<(), TlogError> {
    let envelope = bundle_envelope(bundle)?;
    let logged = single_signature(body, "/spec/signatures")?;
    let signature = text(logged, "/signature").and_then(|encoded| decode(&encoded));
    check_envelope_signature(envelope, signature)?;
    check_payload_hash(envelope, text(body, "/spec/payloadHash/value"))?;
    check_signer(text(logged, "/verifier").as_deref(), signer)
}

/// `intoto` v0.0.2: as `dsse`, with the signature base64-encoded twice.
fn check_intoto(
    bundle: &Bundle,
    body: &serde_json::Value,
    signer: Signer<'_>,
) -> Result<(), TlogError> {
    let envelope = bundle_envelope(bundle)?;
    let logged = single_signature(body, "/spec/content/envelope/signatures")?;
    let signature = text(logged, "/sig")
        .and_then(|encoded| decode(&encoded))
        .and_then(|inner| decode(std::str::from_utf8(&inner).ok()?));
    check_envelope_signature(envelope, signature)?;
    check_payload_hash(envelope, text(body, "/spec/content/payloadHash/value"))?;
    check_signer(text(logged, "/publicKey").as_deref(), signer)
}

/// Rekor v2 `hashedrekord` v0.0.2: the artifact's digest, the signature, the verifier (a DER
/// certificate or public key), all base64.
fn check_hashedrekord_v2(
    bundle: &Bundle,
    body: &serde_json::Value,
    artifact: &Digest,
    signer: Signer<'_>,
) -> Result<(), TlogError> {
    let spec = body
        .pointer("/spec/hashedRekordV002")
        .ok_or(TlogError::BodyMismatch { what: "spec" })?;
    let text = |pointer: &str| spec.pointer(pointer).and_then(serde_json::Value::as_str);
    // A message signature is logged with the artifact's digest; a DSSE envelope with the
    // digest of what its one signature covers, PAE(payloadType, payload).
    let (digest, signature) = match (&bundle.message_signature, &bundle.dsse_envelope) {
        (Some(message), _) => (artifact.bytes(), message.signature.as_slice()),
        (None, Some(envelope)) => match envelope.signatures.as_slice() {
            [only] => (
                Digest::sha256(&crate::bundle::dsse::pae(
                    &envelope.payload_type,
                    &envelope.payload,
                ))
                .bytes(),
                only.sig.as_slice(),
            ),
            _ => {
                return Err(TlogError::BodyMismatch {
                    what: "signature count",
                })
            }
        },
        (None, None) => return Err(TlogError::BodyMismatch { what: "content" }),
    };
    if text("/data/algorithm") != Some("SHA2_256")
        || text("/data/digest").and_then(decode) != Some(digest)
    {
        return Err(TlogError::BodyMismatch {
            what: "artifact digest",
        });
    }
    if text("/signature/content").and_then(decode).as_deref() != Some(signature) {
        return Err(TlogError::BodyMismatch { what: "signature" });
    }
    check_verifier_v2(spec.pointer("/signature/verifier"), signer)
}

/// Rekor v2 `dsse` v0.0.2: the payload's hash, one signature (the envelope's), its verifier.
fn check_dsse_v2(
    bundle: &Bundle,
    body: &serde_json::Value,
    signer: Signer<'_>,
) -> Result<(), TlogError> {
    let envelope = bundle_envelope(bundle)?;
    let spec = body
        .pointer("/spec/dsseV002")
        .ok_or(TlogError::BodyMismatch { what: "spec" })?;
    if text(spec, "/payloadHash/algorithm").as_deref() != Some("SHA2_256")
        || text(spec, "/payloadHash/digest").and_then(|encoded| decode(&encoded))
            != Some(Digest::sha256(&envelope.payload).bytes())
    {
        return Err(TlogError::BodyMismatch {
            what: "payload hash",
        });
    }
    let logged = single_signature(spec, "/signatures")?;
    let signature = text(logged, "/content").and_then(|encoded| decode(&encoded));
    check_envelope_signature(envelope, signature)?;
    check_verifier_v2(logged.pointer("/verifier"), signer)
}

/// A Rekor v2 verifier: `x509Certificate.rawBytes` or `publicKey.rawBytes`, base64 DER.
fn check_verifier_v2(
    verifier: Option<&serde_json::Value>,
    signer: Signer<'_>,
) -> Result<(), TlogError> {
    let raw = |pointer: &str| {
        verifier
            .and_then(|value| value.pointer(pointer))
            .and_then(serde_json::Value::as_str)
            .and_then(decode)
    };
    let matches = match signer {
        Signer::Certificate(leaf) => {
            raw("/x509Certificate/rawBytes").as_deref() == Some(leaf.der())
        }
        Signer::Key(key) => {
            raw("/publicKey/rawBytes")
                .and_then(|der| PublicKey::from_der(&der).ok())
                .as_ref()
                == Some(key)
        }
    };
    if !matches {
        return Err(TlogError::BodyMismatch {
            what: match signer {
                Signer::Key(_) => "public key",
                Signer::Certificate(_) => "certificate",
            },
        });
    }
    Ok(())
}

/// The string at `pointer` in `value`.
fn text(value: &serde_json::Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// The one signature of the list at `pointer` (an entry for an envelope carries exactly one).
fn single_signature<'a>(
    value: &'a serde_json::Value,
    pointer: &str,
) -> Result<&'a serde_json::Value, TlogError> {
    let signatures = value
        .pointer(pointer)
        .and_then(serde_json::Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    match signatures {
        [logged] => Ok(logged),
        _ => Err(TlogError::BodyMismatch {
            what: "signature count",
        }),
    }
}

fn decode(encoded: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
}

fn bundle_envelope(bundle: &Bundle) -> Result<&crate::bundle::Envelope, TlogError> {
    bundle
        .dsse_envelope
        .as_ref()
        .ok_or(TlogError::BodyMismatch {
            what: "an envelope entry for a bundle without an envelope",
        })
}

fn check_envelope_signature(
    envelope: &crate::bundle::Envelope,
    logged: Option<Vec<u8>>,
) -> Result<(), TlogError> {
    match (envelope.signatures.as_slice(), logged) {
        ([signature], Some(logged)) if signature.sig == logged => Ok(()),
        _ => Err(TlogError::BodyMismatch { what: "signature" }),
    }
}

fn check_payload_hash(
    envelope: &crate::bundle::Envelope,
    logged: Option<String>,
) -> Result<(), TlogError> {
    if logged.as_deref() != Some(Digest::sha256(&envelope.payload).hex()) {
        return Err(TlogError::BodyMismatch {
            what: "payload hash",
        });
    }
    Ok(())
}

/// The logged key or certificate (base64 of its PEM) is the signer's.
fn check_signer(logged: Option<&str>, signer: Signer<'_>) -> Result<(), TlogError> {
    let logged = logged.and_then(decode);
    let matches = match (signer, &logged) {
        (Signer::Key(key), Some(pem)) => PublicKey::from_pem(pem).ok().as_ref() == Some(key),
        (Signer::Certificate(leaf), Some(pem)) => {
            Certificate::from_pem(pem).ok().as_ref() == Some(leaf)
        }
        (_, None) => false,
    };
    if !matches {
        return Err(TlogError::BodyMismatch {
            what: match signer {
                Signer::Key(_) => "public key",
                Signer::Certificate(_) => "certificate",
            },
        });
    }
    Ok(())
}

/// Rekor's signed entry timestamp: the log key's signature over the RFC 8785 canonical JSON of
/// the entry (keys in order, no spaces).
fn verify_set(
    entry: &TransparencyLogEntry,
    log: &TransparencyLogInstance,
    set: &[u8],
) -> Result<(), TlogError> {
    let canonical = format!(
        r#"{{"body":"{}","integratedTime":{},"logID":"{}","logIndex":{}}}"#,
        base64::engine::general_purpose::STANDARD.encode(&entry.canonicalized_body),
        entry.integrated_time,
        hex_encode(&entry.log_id.key_id),
        entry.log_index
    );
    log.public_key
        .verify(canonical.as_bytes(), set)
        .map_err(|_| TlogError::InvalidSet)
}

/// RFC 6962 section 2.1.1: recompute the root from the leaf and the audit path. Level by
/// level, a node has a sibling unless it is the last node of its level and a left child; the
/// sibling is on the left when the node's index is odd.
pub(crate) fn verify_inclusion_proof(body: &[u8], proof: &InclusionProof) -> Result<(), TlogError> {
    let invalid = |reason| TlogError::InvalidInclusionProof { reason };
    if proof.hashes.len() > PROOF_HASH_LIMIT {
        return Err(invalid("too many hashes"));
    }
    let (index, size) = (
        u64::try_from(proof.log_index).map_err(|_| invalid("negative index"))?,
        u64::try_from(proof.tree_size).map_err(|_| invalid("negative size"))?,
    );
    if index >= size {
        return Err(invalid("index beyond the tree"));
    }
    if proof.hashes.iter().any(|hash| hash.len() != 32) || proof.root_hash.len() != 32 {
        return Err(invalid("hash of the wrong length"));
    }
    let mut hash = crate::trust::merkle::leaf_hash(body);
    let (mut node, mut last) = (index, size - 1);
    let mut hashes = proof.hashes.iter();
    while last > 0 {
        if node % 2 == 1 || node < last {
            let sibling = hashes.next().ok_or(invalid("too few hashes"))?;
            hash = if node % 2 == 1 {
                crate::trust::merkle::node_hash(sibling, &hash)
            } else {
                crate::trust::merkle::node_hash(&hash, sibling)
            };
        }
        node /= 2;
        last /= 2;
    }
    if hashes.next().is_some() {
        return Err(invalid("too many hashes"));
    }
    if hash.as_slice() != proof.root_hash.as_slice() {
        return Err(invalid("root hash mismatch"));
    }
    Ok(())
}

/// A signed note (`origin\nsize\nroot\n[extensions]\n\n— name base64(keyhint ‖ signature)\n`):
/// one signature whose key hint is the log's must verify over the text before the blank
/// line, and the note must commit to the proof's size and root.
pub(crate) fn verify_checkpoint(
    proof: &InclusionProof,
    log: &TransparencyLogInstance,
) -> Result<(), TlogError> {
    let invalid = |reason| TlogError::InvalidCheckpoint { reason };
    let Some(checkpoint) = &proof.checkpoint else {
        return Err(invalid("missing"));
    };
    let envelope = checkpoint.envelope.as_str();
    let split = envelope.find("\n\n").ok_or(invalid("no blank line"))?;
    let (text, signatures) = (
        envelope.get(..split + 1).unwrap_or_default(),
        envelope.get(split + 2..).unwrap_or_default(),
    );
    let mut lines = text.lines();
    let origin = lines
        .next()
        .filter(|line| !line.is_empty())
        .ok_or(invalid("no origin"))?;
    let size: i64 = lines
        .next()
        .and_then(|line| line.parse().ok())
        .ok_or(invalid("no size"))?;
    let root = lines
        .next()
        .and_then(|line| base64::engine::general_purpose::STANDARD.decode(line).ok())
        .ok_or(invalid("no root hash"))?;
    if size != proof.tree_size || root != proof.root_hash {
        return Err(invalid("does not commit to the proof's tree"));
    }
    let key_hint = log.log_id.get(..4).ok_or(invalid("log id too short"))?;
    let name = origin.split(" - ").next().unwrap_or(origin);
    let verified = signatures.lines().take(16).any(|line| {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return false;
        };
        let Some((signer, encoded)) = rest.rsplit_once(' ') else {
            return false;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
            return false;
        };
        let (hint, signature) = (decoded.get(..4), decoded.get(4..));
        signer == name
            && hint == Some(key_hint)
            && signature.is_some_and(|signature| {
                verify_note_signature(&log.public_key, text.as_bytes(), signature)
            })
    });
    if verified {
        Ok(())
    } else {
        Err(invalid("no valid signature from the log"))
    }
}

fn verify_note_signature(key: &PublicKey, text: &[u8], signature: &[u8]) -> bool {
    match key {
        PublicKey::Ed25519(_) => key
            .verify_with(SigningAlgorithm::Ed25519, text, signature)
            .is_ok(),
        _ => key.verify(text, signature).is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conformance(case: &str) -> (Bundle, PublicKey) {
        let base = format!(
            "{}/../../../shared/conformance/bundle-verify/{case}",
            env!("CARGO_MANIFEST_DIR")
        );
        let bundle =
            Bundle::parse(&std::fs::read(format!("{base}/bundle.sigstore.json")).expect("bundle"))
                .expect("parses");
        let key = PublicKey::from_pem(&std::fs::read(format!("{base}/key.pub")).expect("key"))
            .expect("key");
        (bundle, key)
    }

    fn artifact() -> Digest {
        let path = format!(
            "{}/../../../shared/conformance/bundle-verify/a.txt",
            env!("CARGO_MANIFEST_DIR")
        );
        Digest::sha256(&std::fs::read(path).expect("artifact"))
    }

    fn root() -> TrustedRoot {
        TrustedRoot::parse(include_bytes!("../../data/public-good-trusted_root.json"))
            .expect("root")
    }

    const NOW: i64 = 1_795_000_000;

    #[test]
    fn the_managed_key_happy_path_verifies() {
        let (bundle, key) = conformance("managed-key-happy-path");
        let times = verify_entries(&bundle, &root(), &artifact(), &key, NOW, 1).expect("verifies");
        assert_eq!(times, vec![1_766_077_479]);
    }

    #[test]
    fn each_tampering_is_caught() {
        let (bundle, key) = conformance("managed-key-happy-path");
        let root = root();
        // Another artifact.
        assert_eq!(
            verify_entries(&bundle, &root, &Digest::sha256(b"other"), &key, NOW, 1),
            Err(TlogError::BodyMismatch {
                what: "artifact digest"
            })
        );
        // Before it was integrated.
        assert!(matches!(
            verify_entries(&bundle, &root, &artifact(), &key, 1_000_000_000, 1),
            Err(TlogError::IntegratedInFuture { .. })
        ));
        // A corrupted SET.
        let mut set = bundle.clone();
        set.verification_material.tlog_entries[0]
            .inclusion_promise
            .as_mut()
            .expect("promise")
            .signed_entry_timestamp[10] ^= 1;
        assert_eq!(
            verify_entries(&set, &root, &artifact(), &key, NOW, 1),
            Err(TlogError::InvalidSet)
        );
        // A proof hash flipped.
        let mut proof = bundle.clone();
        proof.verification_material.tlog_entries[0]
            .inclusion_proof
            .as_mut()
            .expect("proof")
            .hashes[3][0] ^= 1;
        assert!(matches!(
            verify_entries(&proof, &root, &artifact(), &key, NOW, 1),
            Err(TlogError::InvalidInclusionProof { .. })
        ));
        // A proof for another leaf.
        let mut leaf = bundle.clone();
        leaf.verification_material.tlog_entries[0]
            .inclusion_proof
            .as_mut()
            .expect("proof")
            .log_index += 1;
        assert!(matches!(
            verify_entries(&leaf, &root, &artifact(), &key, NOW, 1),
            Err(TlogError::InvalidInclusionProof { .. })
        ));
        // A checkpoint with another key hint.
        let mut hint = bundle.clone();
        let checkpoint = hint.verification_material.tlog_entries[0]
            .inclusion_proof
            .as_mut()
            .expect("proof")
            .checkpoint
            .as_mut()
            .expect("checkpoint");
        checkpoint.envelope = checkpoint.envelope.replace("wNI9a", "xNI9a");
        assert!(matches!(
            verify_entries(&hint, &root, &artifact(), &key, NOW, 1),
            Err(TlogError::InvalidCheckpoint { .. })
        ));
        // The same log twice does not make two.
        let mut twice = bundle.clone();
        let entry = twice.verification_material.tlog_entries[0].clone();
        twice.verification_material.tlog_entries.push(entry);
        assert_eq!(
            verify_entries(&twice, &root, &artifact(), &key, NOW, 2),
            Err(TlogError::Threshold {
                verified: 1,
                threshold: 2
            })
        );
        // Another key.
        let (_, _) = conformance("managed-key-happy-path");
        let other =
            crate::keys::PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng).public_key();
        assert_eq!(
            verify_entries(&bundle, &root, &artifact(), &other, NOW, 1),
            Err(TlogError::BodyMismatch { what: "public key" })
        );
    }
}
