//! `cosign bundle create`: a v0.3 Sigstore bundle assembled from a signature made elsewhere
//! (`--signature`, or cosign's legacy `--bundle` file, or a DSSE `--attestation`), the
//! artifact, and the key (`--key`) or certificate (`--certificate`) that made it, as cosign 3.1
//! assembles it. The signature is checked before the bundle is written (cosign writes bundles
//! that cannot verify). Finding the signature's entry in Rekor needs the network: offline,
//! `--ignore-tlog` is required.

use base64::Engine as _;
use cosign_core::bundle::{
    self, Bundle, Envelope, HashOutput, MessageSignature, TimestampVerificationData,
    VerificationMaterial,
};
use cosign_core::keys::{HashAlgorithm, PublicKey};

use crate::args::BundleCreateArgs;
use crate::console::Console;
use crate::error::CliError;
use crate::key_files::{load_key_reference, read_limited_to, write_file};

/// The largest signature, certificate, timestamp or attestation file read.
const INPUT_LIMIT: u64 = 16 * 1024 * 1024;

pub fn run(args: &BundleCreateArgs, console: &mut Console) -> Result<(), CliError> {
    let Some(artifact) = &args.artifact else {
        return Err(CliError::usage("must supply --artifact"));
    };
    if args.bundle.is_none() && args.signature.is_none() {
        return Err(CliError::usage(
            "must at least supply signature via --bundle or --signature",
        ));
    }
    if args.sk {
        return Err(crate::error::hardware_keys_not_supported());
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let decode = |what: &str, text: &[u8]| {
        let text: Vec<u8> = text
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        engine
            .decode(text)
            .map_err(|error| CliError::new(format!("{what}: illegal base64 data: {error}")))
    };
    let mut signature: Option<Vec<u8>> = None;
    let mut envelope: Option<Envelope> = None;
    let mut certificate: Option<cosign_core::trust::certificate::Certificate> = None;
    if let Some(path) = &args.bundle {
        let legacy =
            cosign_core::bundle::legacy_blob_bundle::parse(&read_limited_to(path, INPUT_LIMIT)?)
                .map_err(|error| CliError::new(error.to_string()))?;
        if !legacy.verification_material.tlog_entries.is_empty() {
            return Err(CliError::new(
                "the bundle's Rekor entry carries a promise but no inclusion proof, and fetching the proof needs the network, which cosign-rs does not use",
            ));
        }
        if let Some(chain) = &legacy.verification_material.x509_certificate_chain {
            if let Some(first) = chain.certificates.first() {
                certificate = Some(
                    cosign_core::trust::certificate::Certificate::from_der(&first.raw_bytes)
                        .map_err(|error| CliError::new(error.to_string()))?,
                );
            }
        }
        if let Some(message) = legacy.message_signature {
            // cosign's legacy bundle for an attestation holds the whole DSSE envelope.
            match serde_json::from_slice::<Envelope>(&message.signature) {
                Ok(parsed) => envelope = Some(parsed),
                Err(_) => signature = Some(message.signature),
            }
        }
    }
    if let Some(path) = &args.signature {
        signature = Some(decode("--signature", &read_limited_to(path, INPUT_LIMIT)?)?);
    }
    let timestamp = match &args.rfc3161_timestamp {
        Some(path) => {
            #[derive(serde::Deserialize)]
            struct Timestamp {
                #[serde(rename = "SignedRFC3161Timestamp")]
                signed: String,
            }
            let parsed: Timestamp = serde_json::from_slice(&read_limited_to(path, INPUT_LIMIT)?)
                .map_err(|error| CliError::new(format!("--rfc3161-timestamp: {error}")))?;
            Some(decode("--rfc3161-timestamp", parsed.signed.as_bytes())?)
        }
        None => None,
    };
    if let Some(path) = &args.certificate {
        let pem = decode("--certificate", &read_limited_to(path, INPUT_LIMIT)?)?;
        certificate = Some(
            cosign_core::trust::certificate::Certificate::from_pem(&pem)
                .map_err(|_| CliError::new("unable to decode provided certificate"))?,
        );
    }
    if let Some(path) = &args.attestation {
        let parsed: Envelope = serde_json::from_slice(&read_limited_to(path, INPUT_LIMIT)?)
            .map_err(|error| CliError::new(format!("--attestation: {error}")))?;
        envelope = Some(parsed);
    }
    let key = match &args.key {
        Some(reference) => Some(PublicKey::from_pem(&load_key_reference(reference)?)?),
        None => None,
    };
    let (verifier, material) = match (&certificate, &key) {
        (Some(certificate), _) => (
            certificate.public_key().clone(),
            VerificationMaterial {
                certificate: Some(bundle::Certificate {
                    raw_bytes: certificate.der().to_vec(),
                }),
                ..VerificationMaterial::default()
            },
        ),
        (None, Some(key)) => (
            key.clone(),
            VerificationMaterial {
                public_key: Some(bundle::PublicKeyIdentifier {
                    hint: bundle::public_key_hint(key)?,
                }),
                ..VerificationMaterial::default()
            },
        ),
        (None, None) => {
            return Err(CliError::new(
                "invalid bundle: validation error: missing verification material",
            ))
        }
    };
    if !args.ignore_tlog {
        return Err(CliError::new(
            "finding the signature's entry in the transparency log (Rekor) needs the network, which cosign-rs does not use",
        )
        .with_hint("pass --ignore-tlog to create a bundle without a log entry"));
    }
    let mut material = material;
    material.timestamp_verification_data =
        timestamp.map(|signed_timestamp| TimestampVerificationData {
            rfc3161_timestamps: vec![bundle::Rfc3161Timestamp { signed_timestamp }],
        });
    // cosign 3.1 names v0.3 with the older spelling of the media type here.
    let mut created = Bundle {
        media_type: bundle::MEDIA_TYPE_V0_3_LEGACY.to_owned(),
        verification_material: material,
        message_signature: None,
        dsse_envelope: None,
    };
    match (envelope, signature) {
        (Some(mut envelope), _) => {
            for signature in &mut envelope.signatures {
                signature.keyid = None;
            }
            cosign_core::bundle::dsse::verify(&envelope, &verifier).map_err(|error| {
                CliError::new(format!("the attestation does not verify: {error}"))
            })?;
            created.dsse_envelope = Some(envelope);
        }
        (None, Some(signature)) => {
            let message_digest = signed_digest(artifact, &verifier, &signature)?;
            created.message_signature = Some(MessageSignature {
                message_digest: Some(message_digest),
                signature,
            });
        }
        (None, None) => {
            return Err(CliError::usage(
                "must at least supply signature via --bundle or --signature",
            ))
        }
    }
    let json = created.to_json();
    match &args.out {
        Some(path) => write_file(path, &json, 0o600),
        None => {
            let mut line = json;
            line.push(b'\n');
            console.out(&line)
        }
    }
}

/// The digest of the artifact the signature covers: with the key's own hash (SHA-384 for
/// P-384, ...) or SHA-256, whichever the signature verifies with (cosign records SHA-256
/// whatever the key, which a P-384 signature made by cosign does not verify against).
fn signed_digest(
    artifact: &std::path::Path,
    key: &PublicKey,
    signature: &[u8],
) -> Result<HashOutput, CliError> {
    let bytes = std::fs::read(artifact)
        .map_err(|error| crate::error::io_error("open", artifact, &error))?;
    let mut hashes = vec![HashAlgorithm::Sha256];
    if let Some(own) = key.default_algorithm().hash() {
        hashes.insert(0, own);
    }
    hashes.dedup();
    for hash in hashes {
        let digest = hash.digest(&bytes);
        let verified = match key {
            PublicKey::Ed25519(_) => key.verify(&bytes, signature).is_ok(),
            _ => key.verify_digest(&digest, hash, signature).is_ok(),
        };
        if verified {
            return Ok(HashOutput {
                algorithm: bundle::hash_algorithm_name(hash).to_owned(),
                digest,
            });
        }
    }
    Err(CliError::new(
        "the signature does not verify over the artifact with the given key or certificate",
    ))
}
