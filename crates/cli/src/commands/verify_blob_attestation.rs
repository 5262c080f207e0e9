//! `cosign verify-blob-attestation`: a DSSE-signed in-toto statement about a blob, from a
//! Sigstore bundle, a legacy bundle or a bare envelope (`--signature`), checked with a key (or,
//! for a bundle, keylessly against a trusted root); with `--check-claims` (the default) a
//! subject must carry the blob's digest (or `--digest`/`--digestAlg`); the predicate must be of
//! `--type`. Prints `Verified OK` on stderr, as cosign does.

use cosign_core::bundle::attestation;
use cosign_core::bundle::in_toto::Statement;
use cosign_core::bundle::{Bundle, Envelope, BUNDLE_SIZE_LIMIT};
use cosign_core::digest::{hex_encode, Digest};
use cosign_core::keys::{HashAlgorithm, PublicKey};
use cosign_core::verify::bundle::{verify_envelope, Artifact, VerifiedContent};
use cosign_core::verify::keyless;

use crate::args::VerifyBlobAttestationArgs;
use crate::console;
use crate::error::CliError;
use crate::key_files::{load_key_reference, read_limited_to};

/// What the statement's subject must carry: an algorithm's name and the hex digest.
struct WantedDigest {
    algorithm: String,
    hex: String,
    /// The blob's SHA-256, when the blob was read (a keyless bundle's log entry needs it).
    sha256: Option<Digest>,
}

pub fn run(args: &VerifyBlobAttestationArgs) -> Result<(), CliError> {
    // Checked as cosign checks it; the envelope's signature is accepted with any of the
    // hashes (cosign_core::bundle::dsse::verify), so no narrower check follows.
    crate::commands::verify_blob::parse_signature_digest_algorithm(
        args.signature_digest_algorithm.as_deref(),
    )?;
    if args.signature.is_none() && args.bundle.is_none() {
        return Err(CliError::new(
            "please specify path to the DSSE envelope signature via --signature or --bundle",
        ));
    }
    if args.key.is_none() && args.bundle.is_none() {
        return Err(CliError::new(
            "provide a key with --key or --sk, a certificate to verify against with --certificate, or a bundle with --bundle",
        ));
    }
    let wanted = if args.check_claims {
        Some(wanted_digest(args)?)
    } else {
        None
    };
    let statement = match &args.key {
        Some(key_reference) => verify_with_key(args, key_reference)?,
        None => verify_keyless(args, wanted.as_ref())?,
    };
    if let Some(wanted) = &wanted {
        let named = statement.subject.iter().any(|subject| {
            subject
                .digest
                .get(&wanted.algorithm)
                .is_some_and(|hex| hex.eq_ignore_ascii_case(&wanted.hex))
        });
        if !named {
            return Err(CliError::new("no matching subject digest found"));
        }
    }
    let expected = attestation::predicate_type_uri(&args.predicate_type)
        .unwrap_or_else(|_| args.predicate_type.clone());
    if statement.predicate_type != expected {
        return Err(CliError::new(format!(
            "invalid predicate type, expected {} got {}",
            args.predicate_type, statement.predicate_type
        )));
    }
    console::info("Verified OK");
    Ok(())
}

/// The digest the subject must carry: the blob's (SHA-256, or `--digestAlg`), else `--digest`
/// with `--digestAlg`.
fn wanted_digest(args: &VerifyBlobAttestationArgs) -> Result<WantedDigest, CliError> {
    let algorithm = match args.digest_alg.as_deref() {
        None | Some("sha256") => HashAlgorithm::Sha256,
        Some("sha384") => HashAlgorithm::Sha384,
        Some("sha512") => HashAlgorithm::Sha512,
        Some(other) => {
            return Err(CliError::new(format!(
                "unsupported --digestAlg {other:?}; supported values are sha256, sha384, sha512"
            )))
        }
    };
    let name = args
        .digest_alg
        .clone()
        .unwrap_or_else(|| "sha256".to_owned());
    match (&args.blob, &args.digest, &args.digest_alg) {
        (Some(path), digest, _) => {
            if digest.is_some() {
                console::warn("Ignoring provided --digest in favor of provided blob");
            }
            let hashed = crate::blob::hash(path, algorithm != HashAlgorithm::Sha256)?;
            let hex = match &hashed.bytes {
                Some(bytes) => hex_encode(&algorithm.digest(bytes)),
                None => hashed.sha256.hex().to_owned(),
            };
            Ok(WantedDigest {
                algorithm: name,
                hex,
                sha256: Some(hashed.sha256),
            })
        }
        (None, Some(digest), Some(_)) => Ok(WantedDigest {
            algorithm: name,
            hex: digest.to_ascii_lowercase(),
            sha256: (algorithm == HashAlgorithm::Sha256)
                .then(|| format!("sha256:{}", digest.to_ascii_lowercase()).parse().ok())
                .flatten(),
        }),
        _ => Err(CliError::usage(
            "give the blob, or --digest with --digestAlg, for the subject check (or --check-claims=false)",
        )),
    }
}

/// With a key: the envelope from the bundle (Sigstore or legacy) or `--signature` file.
fn verify_with_key(
    args: &VerifyBlobAttestationArgs,
    key_reference: &str,
) -> Result<Statement, CliError> {
    let key = PublicKey::from_pem(&load_key_reference(key_reference)?)?;
    let envelope = match (&args.bundle, &args.signature) {
        (Some(path), _) => {
            let bytes = read_limited_to(path, BUNDLE_SIZE_LIMIT as u64)?;
            let bundle = load_bundle(&bytes)?;
            if !args.insecure_ignore_tlog {
                return Err(CliError::new(
                    "verifying the transparency log entry of an attestation signed with a key needs Sigstore's trusted root and a log entry, which cosign-rs does not check for blob attestations yet",
                )
                .with_hint("for attestations made with a key offline, pass --insecure-ignore-tlog"));
            }
            bundle
                .dsse_envelope
                .ok_or_else(|| CliError::new("bundle does not contain a DSSE envelope"))?
        }
        (None, Some(path)) => {
            if !args.insecure_ignore_tlog {
                return Err(
                    CliError::new("a bare --signature carries no transparency log entry")
                        .with_hint("pass --insecure-ignore-tlog to verify it without one, or verify a --bundle"),
                );
            }
            let bytes = read_limited_to(path, BUNDLE_SIZE_LIMIT as u64)
                .map_err(|error| error.context(format!("reading {}", path.display())))?;
            serde_json::from_slice::<Envelope>(&bytes).map_err(|error| {
                CliError::new(format!("{}: not a DSSE envelope: {error}", path.display()))
            })?
        }
        (None, None) => unreachable_args()?,
    };
    if args.insecure_ignore_tlog {
        crate::trust::warn_ignored_tlog("blob attestation");
    }
    match verify_envelope(&envelope, &key, None)
        .map_err(|error| CliError::new(error.to_string()))?
    {
        VerifiedContent::Envelope {
            statement: Some(statement),
            ..
        } => Ok(statement),
        _ => Err(CliError::new(format!(
            "the envelope's payload type is {:?}, not an in-toto statement",
            envelope.payload_type
        ))),
    }
}

/// Keyless: the bundle's certificate, chain, SCT, log entry and identity, for the blob.
fn verify_keyless(
    args: &VerifyBlobAttestationArgs,
    wanted: Option<&WantedDigest>,
) -> Result<Statement, CliError> {
    crate::trust::identity_policy(&args.identity)?;
    let Some(path) = &args.bundle else {
        return unreachable_args();
    };
    let Some(sha256) = wanted.and_then(|wanted| wanted.sha256.clone()) else {
        return Err(CliError::not_supported(
            "keyless verification of a blob attestation without the blob's SHA-256",
            "give the blob (or --digest with --digestAlg sha256)",
        ));
    };
    let bytes = read_limited_to(path, BUNDLE_SIZE_LIMIT as u64)?;
    let bundle =
        Bundle::parse(&bytes).map_err(|error| CliError::new(format!("loading bundle: {error}")))?;
    let authority = crate::trust::keyless_authority(
        &args.identity,
        args.trusted_root.as_deref(),
        &args.verification,
        args.insecure_ignore_tlog,
        "blob attestation",
    )?;
    let verified = keyless::verify_for_authority(
        &bundle,
        Artifact {
            sha256: &sha256,
            bytes: None,
        },
        &authority,
        crate::trust::now(),
    )
    .map_err(|error| CliError::new(error.to_string()))?;
    match verified.content {
        VerifiedContent::Envelope {
            statement: Some(statement),
            ..
        } => Ok(statement),
        _ => Err(CliError::new("bundle does not contain a DSSE envelope")),
    }
}

fn unreachable_args<T>() -> Result<T, CliError> {
    Err(CliError::new(
        "please specify path to the DSSE envelope signature via --signature or --bundle",
    ))
}

/// A `--bundle` file: a Sigstore bundle, or cosign's legacy blob bundle (whose signature is the
/// envelope).
fn load_bundle(bytes: &[u8]) -> Result<Bundle, CliError> {
    if cosign_core::bundle::legacy_blob_bundle::is_legacy_bundle(bytes) {
        let legacy = cosign_core::bundle::legacy_blob_bundle::parse(bytes)
            .map_err(|error| CliError::new(format!("loading bundle: {error}")))?;
        return envelope_from_legacy(legacy);
    }
    Bundle::parse(bytes).map_err(|error| CliError::new(format!("loading bundle: {error}")))
}

/// A legacy bundle keeps the envelope JSON as its "signature".
fn envelope_from_legacy(mut bundle: Bundle) -> Result<Bundle, CliError> {
    if bundle.dsse_envelope.is_some() {
        return Ok(bundle);
    }
    let signature = bundle
        .message_signature
        .take()
        .ok_or_else(|| CliError::new("bundle does not contain a DSSE envelope"))?;
    let envelope: Envelope = serde_json::from_slice(&signature.signature).map_err(|error| {
        CliError::new(format!(
            "the legacy bundle's signature is not a DSSE envelope: {error}"
        ))
    })?;
    bundle.dsse_envelope = Some(envelope);
    Ok(bundle)
}
