//! Rekor's entry requests, as sigstore-go sends them, and Rekor v1's answer read into a bundle's
//! log entry. Rekor v2 (`POST /api/v2/log/entries`): `hashedRekordRequestV002` with the SHA-256
//! digest, the signature and the verifier (a public key as DER, or a certificate) with its key
//! details; for a DSSE envelope the digest is that of what its signature covers, PAE(type,
//! payload), as cosign 3.1 logs it. Rekor v1 (`POST /api/v1/log/entries`): `hashedrekord`
//! v0.0.1 for a message signature, `dsse` v0.0.1 for an envelope, the verifier as base64 PEM.
//! The entry that comes back is checked as any bundle's entry is
//! ([`crate::trust::transparency_log`]) before it is used.

use base64::Engine as _;

use crate::bundle::{
    Bundle, Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId, TransparencyLogEntry,
};
use crate::digest::Digest;
use crate::keys::KeyError;
/// Who the log is told signed: a key, or a certificate (keyless); the same as who the
/// entry's verification expects.
pub use crate::trust::transparency_log::Signer as Verifier;

/// The JSON body of `POST /api/v2/log/entries` for `signature` over the artifact whose
/// SHA-256 is `artifact`.
pub fn hashed_rekord_v002(
    artifact: &Digest,
    signature: &[u8],
    verifier: Verifier<'_>,
) -> Result<Vec<u8>, KeyError> {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let verifier = match verifier {
        Verifier::Key(key) => serde_json::json!({
            "publicKey": { "rawBytes": b64(&key.to_der()?) },
            "keyDetails": key.key_details(),
        }),
        Verifier::Certificate(certificate) => serde_json::json!({
            "x509Certificate": { "rawBytes": b64(certificate.der()) },
            "keyDetails": certificate.public_key().key_details(),
        }),
    };
    let body = serde_json::json!({
        "hashedRekordRequestV002": {
            "digest": b64(&artifact.bytes()),
            "signature": { "content": b64(signature), "verifier": verifier },
        }
    });
    Ok(body.to_string().into_bytes())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// What a bundle logs: the artifact digest and signature of a message signature, or the
/// envelope and the digest of the PAE its one signature covers.
fn logged_signature(bundle: &Bundle, artifact: &Digest) -> Option<(Digest, Vec<u8>)> {
    if let Some(message) = &bundle.message_signature {
        return Some((artifact.clone(), message.signature.clone()));
    }
    let envelope = bundle.dsse_envelope.as_ref()?;
    let [signature] = envelope.signatures.as_slice() else {
        return None;
    };
    let pae = crate::bundle::dsse::pae(&envelope.payload_type, &envelope.payload);
    Some((Digest::sha256(&pae), signature.sig.clone()))
}

/// Why no request can be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    #[error(
        "nothing to log: the bundle has neither a message signature nor a singly signed envelope"
    )]
    NoSignature,
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The Rekor v2 request for the signature `bundle` carries (`artifact`: the SHA-256 of the
/// signed blob, for a message signature).
pub fn request_v2(
    bundle: &Bundle,
    artifact: &Digest,
    verifier: Verifier<'_>,
) -> Result<Vec<u8>, RequestError> {
    let (digest, signature) =
        logged_signature(bundle, artifact).ok_or(RequestError::NoSignature)?;
    Ok(hashed_rekord_v002(&digest, &signature, verifier)?)
}

fn verifier_pem(verifier: Verifier<'_>) -> Result<String, KeyError> {
    Ok(match verifier {
        Verifier::Key(key) => key.to_pem()?,
        Verifier::Certificate(certificate) => certificate.to_pem(),
    })
}

/// The Rekor v1 request for the signature `bundle` carries: `hashedrekord` v0.0.1 for a
/// message signature over the blob whose SHA-256 is `artifact`, `dsse` v0.0.1 for an envelope.
pub fn request_v1(
    bundle: &Bundle,
    artifact: &Digest,
    verifier: Verifier<'_>,
) -> Result<Vec<u8>, RequestError> {
    let verifier = b64(verifier_pem(verifier)?.as_bytes());
    let body = match (&bundle.message_signature, &bundle.dsse_envelope) {
        (Some(message), _) => hashed_rekord_v001(artifact, &message.signature, &verifier),
        (None, Some(envelope)) => {
            // The envelope in DSSE's own JSON, as Rekor's `dsse` type reads it.
            let signatures: Vec<serde_json::Value> = envelope
                .signatures
                .iter()
                .map(|signature| serde_json::json!({ "sig": b64(&signature.sig) }))
                .collect();
            let envelope = serde_json::json!({
                "payloadType": envelope.payload_type,
                "payload": b64(&envelope.payload),
                "signatures": signatures,
            });
            serde_json::json!({
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {
                    "proposedContent": {
                        "envelope": envelope.to_string(),
                        "verifiers": [verifier],
                    }
                }
            })
        }
        (None, None) => return Err(RequestError::NoSignature),
    };
    Ok(body.to_string().into_bytes())
}

/// The Rekor v1 `hashedrekord` v0.0.1 request for `signature` over the artifact whose SHA-256
/// is `artifact`, by `verifier` (base64 of its PEM), as cosign logs blobs and legacy image
/// signatures.
pub fn hashed_rekord_v001(
    artifact: &Digest,
    signature: &[u8],
    verifier: &str,
) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": { "hash": { "algorithm": "sha256", "value": artifact.hex() } },
            "signature": { "content": b64(signature), "publicKey": { "content": verifier } },
        }
    })
}

/// [`hashed_rekord_v001`] for a verifier, as request bytes.
pub fn hashed_rekord_request_v001(
    artifact: &Digest,
    signature: &[u8],
    verifier: Verifier<'_>,
) -> Result<Vec<u8>, KeyError> {
    let verifier = b64(verifier_pem(verifier)?.as_bytes());
    Ok(hashed_rekord_v001(artifact, signature, &verifier)
        .to_string()
        .into_bytes())
}

/// Why Rekor v1's answer is not an entry.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ResponseError(pub String);

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Entry {
    body: String,
    integrated_time: i64,
    #[serde(rename = "logID")]
    log_id: String,
    log_index: i64,
    verification: Option<V1Verification>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Verification {
    inclusion_proof: Option<V1Proof>,
    signed_entry_timestamp: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Proof {
    #[serde(default)]
    checkpoint: String,
    #[serde(default)]
    hashes: Vec<String>,
    log_index: i64,
    root_hash: String,
    tree_size: i64,
}

/// Reads Rekor v1's answer to an entry's creation (`{uuid: entry}`; the entry named by
/// `uuid`, Rekor's `ETag`, when given) as a bundle's log entry. Not verified here.
pub fn parse_v1_response(
    answer: &[u8],
    uuid: Option<&str>,
) -> Result<TransparencyLogEntry, ResponseError> {
    let bad = |reason: &str| ResponseError(reason.to_owned());
    let entries: std::collections::BTreeMap<String, V1Entry> =
        serde_json::from_slice(answer).map_err(|error| ResponseError(error.to_string()))?;
    let entry = match uuid.and_then(|uuid| entries.get(uuid)) {
        Some(entry) => entry,
        None if entries.len() == 1 => entries.values().next().ok_or_else(|| bad("no entry"))?,
        None => return Err(bad("not exactly one entry")),
    };
    let hex = |text: &str, what: &str| {
        crate::digest::hex_decode(text).ok_or_else(|| ResponseError(format!("{what} is not hex")))
    };
    let body = base64::engine::general_purpose::STANDARD
        .decode(&entry.body)
        .map_err(|_| bad("body is not base64"))?;
    let kind: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| bad("body is not JSON"))?;
    let text = |name: &str| {
        kind.get(name)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let verification = entry
        .verification
        .as_ref()
        .ok_or_else(|| bad("no verification"))?;
    let inclusion_promise = match &verification.signed_entry_timestamp {
        Some(set) => Some(InclusionPromise {
            signed_entry_timestamp: base64::engine::general_purpose::STANDARD
                .decode(set)
                .map_err(|_| bad("signedEntryTimestamp is not base64"))?,
        }),
        None => None,
    };
    let inclusion_proof = match &verification.inclusion_proof {
        Some(proof) => Some(InclusionProof {
            log_index: proof.log_index,
            root_hash: hex(&proof.root_hash, "rootHash")?,
            tree_size: proof.tree_size,
            hashes: proof
                .hashes
                .iter()
                .map(|hash| hex(hash, "an inclusion proof hash"))
                .collect::<Result<_, _>>()?,
            checkpoint: Some(Checkpoint {
                envelope: proof.checkpoint.clone(),
            }),
        }),
        None => None,
    };
    Ok(TransparencyLogEntry {
        log_index: entry.log_index,
        log_id: LogId {
            key_id: hex(&entry.log_id, "logID")?,
        },
        kind_version: KindVersion {
            kind: text("kind"),
            version: text("apiVersion"),
        },
        integrated_time: entry.integrated_time,
        inclusion_promise,
        inclusion_proof,
        canonicalized_body: body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{PrivateKey, PublicKey};

    #[test]
    fn the_request_names_digest_signature_and_key() {
        let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
        let public = key.public_key();
        let artifact = Digest::sha256(b"blob");
        let body = hashed_rekord_v002(&artifact, b"sig", Verifier::Key(&public)).expect("body");
        let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let request = &json["hashedRekordRequestV002"];
        let decode = |value: &serde_json::Value| {
            base64::engine::general_purpose::STANDARD
                .decode(value.as_str().expect("string"))
                .expect("base64")
        };
        assert_eq!(decode(&request["digest"]), artifact.bytes());
        assert_eq!(decode(&request["signature"]["content"]), b"sig");
        let verifier = &request["signature"]["verifier"];
        assert_eq!(verifier["keyDetails"], "PKIX_ECDSA_P256_SHA_256");
        assert_eq!(
            PublicKey::from_der(&decode(&verifier["publicKey"]["rawBytes"])).ok(),
            Some(public)
        );
    }
}
