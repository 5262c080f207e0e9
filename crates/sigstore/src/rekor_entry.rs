//! Rekor v2's entry requests turned into the entries it logs (rekor-tiles' `hashedrekord` and
//! `dsse` v0.0.2): the request is read strictly (an unknown field is refused, as protojson
//! refuses it), the signature is verified with the verifier it names, and the logged body is
//! the entry's RFC 8785 canonical JSON (keys sorted, no spaces), byte for byte what rekor-tiles
//! writes, so its leaf hash is the one a verifier recomputes.

use base64::Engine as _;
use cosign_core::digest::Digest;
use cosign_core::keys::{HashAlgorithm, PublicKey};
use cosign_core::trust::certificate::Certificate;
use serde::Deserialize;

/// The most signatures, and verifiers, a DSSE entry may carry: each signature is tried against
/// each verifier, so both are capped to bound a request's work.
const DSSE_SIGNATURES_LIMIT: usize = 8;

/// Why an entry is refused (rekor-tiles answers 400 to both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Invalid {
    /// Not a request for an entry of a known type: answered with the reason itself.
    Request(String),
    /// A request for an entry that is not valid: answered, as rekor-tiles answers, with
    /// "invalid hashedrekord request" (the reason is for the server's log).
    Entry(String),
}

impl Invalid {
    pub(crate) fn reason(&self) -> &str {
        match self {
            Self::Request(reason) | Self::Entry(reason) => reason,
        }
    }

    /// The message the client is answered with.
    pub(crate) fn answer(&self) -> &str {
        match self {
            Self::Request(reason) => reason,
            Self::Entry(_) => "invalid hashedrekord request",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateEntryRequest {
    hashed_rekord_request_v002: Option<HashedRekordRequest>,
    dsse_request_v002: Option<DsseRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HashedRekordRequest {
    #[serde(default)]
    digest: String,
    signature: Option<Signature>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Signature {
    #[serde(default)]
    content: String,
    verifier: Option<Verifier>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Verifier {
    public_key: Option<RawBytes>,
    x509_certificate: Option<RawBytes>,
    #[serde(default)]
    key_details: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawBytes {
    #[serde(default)]
    raw_bytes: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DsseRequest {
    envelope: Option<Envelope>,
    #[serde(default)]
    verifiers: Vec<Verifier>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Envelope {
    #[serde(default)]
    payload: String,
    #[serde(default)]
    payload_type: String,
    #[serde(default)]
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeSignature {
    #[serde(default)]
    sig: String,
    #[serde(default)]
    keyid: String,
}

/// An entry ready to log: its canonical body and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) body: Vec<u8>,
    pub(crate) kind: &'static str,
}

fn decode(field: &str, text: &str) -> Result<Vec<u8>, Invalid> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| Invalid::Entry(format!("{field}: not base64")))
}

/// A verifier's key, the hash its key details sign with, and its canonical JSON.
struct ParsedVerifier {
    key: PublicKey,
    hash: HashAlgorithm,
    /// Pure Ed25519 (DSSE only): the message is signed, not a digest.
    ed25519: bool,
    json: serde_json::Value,
}

impl ParsedVerifier {
    /// Verifies `signature` over `message` with the one algorithm the key details name.
    fn verify_message(&self, message: &[u8], signature: &[u8]) -> bool {
        if self.ed25519 {
            return self
                .key
                .verify_with(
                    cosign_core::keys::SigningAlgorithm::Ed25519,
                    message,
                    signature,
                )
                .is_ok();
        }
        self.key
            .verify_message(message, self.hash, signature)
            .is_ok()
    }
}

fn hash_for(key_details: &str) -> Option<HashAlgorithm> {
    Some(match key_details {
        "PKIX_ECDSA_P256_SHA_256"
        | "PKIX_RSA_PKCS1V15_2048_SHA256"
        | "PKIX_RSA_PKCS1V15_3072_SHA256"
        | "PKIX_RSA_PKCS1V15_4096_SHA256" => HashAlgorithm::Sha256,
        "PKIX_ECDSA_P384_SHA_384" => HashAlgorithm::Sha384,
        "PKIX_ECDSA_P521_SHA_512" => HashAlgorithm::Sha512,
        _ => return None,
    })
}

/// `pure_ed25519`: whether an Ed25519 key may sign (it signs messages, never a digest).
fn parse_verifier(verifier: &Verifier, pure_ed25519: bool) -> Result<ParsedVerifier, Invalid> {
    let ed25519 = pure_ed25519 && verifier.key_details == "PKIX_ED25519";
    let hash = hash_for(&verifier.key_details)
        .or(ed25519.then_some(HashAlgorithm::Sha256))
        .ok_or_else(|| {
            Invalid::Entry(format!(
                "unsupported key details {:?}",
                verifier.key_details
            ))
        })?;
    let (key, json) = match (&verifier.public_key, &verifier.x509_certificate) {
        (Some(key), None) => {
            let der = decode("publicKey.rawBytes", &key.raw_bytes)?;
            let parsed = PublicKey::from_der(&der)
                .map_err(|error| Invalid::Entry(format!("parsing verifier: {error}")))?;
            let json = serde_json::json!({
                "keyDetails": verifier.key_details,
                "publicKey": {"rawBytes": key.raw_bytes},
            });
            (parsed, json)
        }
        (None, Some(certificate)) => {
            let der = decode("x509Certificate.rawBytes", &certificate.raw_bytes)?;
            let parsed = Certificate::from_der(&der)
                .map_err(|error| Invalid::Entry(format!("parsing verifier: {error}")))?;
            let json = serde_json::json!({
                "keyDetails": verifier.key_details,
                "x509Certificate": {"rawBytes": certificate.raw_bytes},
            });
            (parsed.public_key().clone(), json)
        }
        _ => {
            return Err(Invalid::Entry(
                "must contain either a public key or X.509 certificate".to_owned(),
            ))
        }
    };
    if key.key_details() != verifier.key_details
        && !(matches!(key, PublicKey::Rsa(_)) && verifier.key_details.starts_with("PKIX_RSA"))
    {
        return Err(Invalid::Entry(format!(
            "key details {:?} do not match the key ({})",
            verifier.key_details,
            key.key_details()
        )));
    }
    Ok(ParsedVerifier {
        key,
        hash,
        ed25519,
        json,
    })
}

/// RFC 8785 canonical JSON of the values entries hold (strings, arrays and objects): compact,
/// object keys in order, strings escaped as RFC 8785 (and serde_json) escape them.
fn canonical(value: &serde_json::Value) -> Vec<u8> {
    fn write(value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (position, key) in keys.into_iter().enumerate() {
                    if position > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::from(key.as_str()).to_string());
                    out.push(':');
                    if let Some(value) = map.get(key) {
                        write(value, out);
                    }
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (position, item) in items.iter().enumerate() {
                    if position > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out.into_bytes()
}

/// The entry a `POST /api/v2/log/entries` body asks for, or why it is refused.
pub(crate) fn entry_from_request(body: &[u8]) -> Result<Entry, Invalid> {
    let request: CreateEntryRequest = serde_json::from_slice(body)
        .map_err(|error| Invalid::Request(format!("proto: {error}")))?;
    match (
        request.hashed_rekord_request_v002,
        request.dsse_request_v002,
    ) {
        (Some(hashed), None) => hashed_rekord(&hashed),
        (None, Some(dsse)) => dsse_entry(&dsse),
        _ => Err(Invalid::Request(
            "invalid type, must be hashedrekord or dsse".to_owned(),
        )),
    }
}

fn hashed_rekord(request: &HashedRekordRequest) -> Result<Entry, Invalid> {
    let signature = request
        .signature
        .as_ref()
        .ok_or_else(|| Invalid::Entry("missing signature".to_owned()))?;
    let content = decode("signature.content", &signature.content)?;
    if content.is_empty() {
        return Err(Invalid::Entry("missing signature".to_owned()));
    }
    let verifier = signature
        .verifier
        .as_ref()
        .ok_or_else(|| Invalid::Entry("missing verifier".to_owned()))?;
    let digest = decode("digest", &request.digest)?;
    if digest.is_empty() {
        return Err(Invalid::Entry("missing digest".to_owned()));
    }
    let parsed = parse_verifier(verifier, false)?;
    let expected = match parsed.hash {
        HashAlgorithm::Sha256 => 32,
        HashAlgorithm::Sha384 => 48,
        HashAlgorithm::Sha512 => 64,
    };
    if digest.len() != expected {
        return Err(Invalid::Entry(format!(
            "digest length ({}) does not match expected size ({expected})",
            digest.len()
        )));
    }
    parsed
        .key
        .verify_digest(&digest, parsed.hash, &content)
        .map_err(|_| Invalid::Entry("verifying signature: invalid signature".to_owned()))?;
    let algorithm = match parsed.hash {
        HashAlgorithm::Sha256 => "SHA2_256",
        HashAlgorithm::Sha384 => "SHA2_384",
        HashAlgorithm::Sha512 => "SHA2_512",
    };
    let entry = serde_json::json!({
        "apiVersion": "0.0.2",
        "kind": "hashedrekord",
        "spec": {"hashedRekordV002": {
            "data": {"algorithm": algorithm, "digest": request.digest},
            "signature": {"content": signature.content, "verifier": parsed.json},
        }},
    });
    Ok(Entry {
        body: canonical(&entry),
        kind: "hashedrekord",
    })
}

fn dsse_entry(request: &DsseRequest) -> Result<Entry, Invalid> {
    let envelope = request
        .envelope
        .as_ref()
        .ok_or_else(|| Invalid::Entry("missing envelope".to_owned()))?;
    if envelope.signatures.is_empty() {
        return Err(Invalid::Entry("envelope has no signatures".to_owned()));
    }
    if request.verifiers.is_empty() {
        return Err(Invalid::Entry("missing verifiers".to_owned()));
    }
    if envelope.signatures.len() > DSSE_SIGNATURES_LIMIT
        || request.verifiers.len() > DSSE_SIGNATURES_LIMIT
    {
        return Err(Invalid::Entry(format!(
            "at most {DSSE_SIGNATURES_LIMIT} signatures and {DSSE_SIGNATURES_LIMIT} verifiers"
        )));
    }
    // What the entry would keep (each signature and its verifier), refused before any
    // signature is checked when it cannot fit.
    let kept: usize = envelope
        .signatures
        .iter()
        .map(|signature| signature.sig.len())
        .sum::<usize>()
        + request
            .verifiers
            .iter()
            .map(|verifier| {
                let key = verifier
                    .public_key
                    .as_ref()
                    .or(verifier.x509_certificate.as_ref());
                key.map_or(0, |key| key.raw_bytes.len())
            })
            .max()
            .unwrap_or(0)
            * envelope.signatures.len();
    if kept > crate::log::ENTRY_LIMIT {
        return Err(Invalid::Entry(format!(
            "the entry would be larger than {} bytes",
            crate::log::ENTRY_LIMIT
        )));
    }
    let mut distinct = std::collections::HashSet::new();
    if !envelope
        .signatures
        .iter()
        .all(|signature| distinct.insert(&signature.sig))
    {
        return Err(Invalid::Entry(
            "the envelope repeats a signature".to_owned(),
        ));
    }
    let payload = decode("envelope.payload", &envelope.payload)?;
    let pae = cosign_core::bundle::dsse::pae(&envelope.payload_type, &payload);
    let verifiers = request
        .verifiers
        .iter()
        .map(|verifier| parse_verifier(verifier, true))
        .collect::<Result<Vec<_>, _>>()?;
    let mut signatures = Vec::with_capacity(envelope.signatures.len());
    for signature in &envelope.signatures {
        let sig = decode("envelope.signatures.sig", &signature.sig)?;
        let _ = &signature.keyid;
        let verifier = verifiers
            .iter()
            .find(|verifier| verifier.verify_message(&pae, &sig))
            .ok_or_else(|| {
                Invalid::Entry("could not verify envelope signature with any verifier".to_owned())
            })?;
        signatures.push(serde_json::json!({
            "content": signature.sig,
            "verifier": verifier.json,
        }));
    }
    let payload_hash = Digest::sha256(&payload);
    let entry = serde_json::json!({
        "apiVersion": "0.0.2",
        "kind": "dsse",
        "spec": {"dsseV002": {
            "payloadHash": {
                "algorithm": "SHA2_256",
                "digest": base64::engine::general_purpose::STANDARD.encode(payload_hash.bytes()),
            },
            "signatures": signatures,
        }},
    });
    Ok(Entry {
        body: canonical(&entry),
        kind: "dsse",
    })
}
