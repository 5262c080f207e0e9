//! `cosign verify-blob`: checks a blob against a Sigstore bundle (`--bundle`) or a bare
//! signature (`--signature`) with a key (`--key`) or, for bundles signed with a Fulcio
//! certificate, against a trusted root and an identity policy; hashing the blob as it streams by.

use base64::Engine as _;
use cosign_core::bundle::Bundle;
use cosign_core::keys::{HashAlgorithm, PublicKey};
use cosign_core::trust::transparency_log;
use cosign_core::verify::bundle::{leaf_certificate, verify_with_key, Artifact};
use cosign_core::verify::keyless;

use crate::args::VerifyBlobArgs;
use crate::blob;
use crate::console;
use crate::error::CliError;
use crate::key_files::load_key_reference;

/// The largest `--signature` file we read.
const SIGNATURE_LIMIT: u64 = 1024 * 1024;

pub fn run(args: &VerifyBlobArgs) -> Result<(), CliError> {
    let Some(key_reference) = &args.key else {
        return verify_keyless(args);
    };
    if args.verification.certificate.is_some()
        || args.identity.certificate_identity.is_some()
        || args.identity.certificate_identity_regexp.is_some()
        || args.identity.certificate_oidc_issuer.is_some()
        || args.identity.certificate_oidc_issuer_regexp.is_some()
    {
        return Err(CliError::usage(
            "--key cannot be combined with --certificate or --certificate-identity/--certificate-oidc-issuer",
        ));
    }
    if args.insecure_ignore_tlog {
        crate::trust::warn_ignored_tlog("blob");
    }
    let key = PublicKey::from_pem(&load_key_reference(key_reference)?)?;
    let hash_override = signature_digest_algorithm(args)?;
    let needs_bytes = !matches!(key.default_algorithm().hash(), Some(HashAlgorithm::Sha256))
        || matches!(key, PublicKey::Ed25519(_))
        || hash_override.is_some_and(|hash| hash != HashAlgorithm::Sha256);
    let bundle = match (&args.bundle, &args.signature) {
        (Some(path), _) => {
            let bytes = crate::key_files::read_limited_to(
                path,
                cosign_core::bundle::BUNDLE_SIZE_LIMIT as u64,
            )?;
            Some(load_bundle(&bytes)?)
        }
        (None, Some(_)) => None,
        (None, None) => {
            return Err(CliError::usage(
                "either --bundle or --signature must be given",
            ))
        }
    };
    let hashed = blob::hash(&args.blob, needs_bytes)?;
    let artifact = Artifact {
        sha256: &hashed.sha256,
        bytes: hashed.bytes.as_deref(),
    };
    if args.verification.use_signed_timestamps {
        let root = crate::trust::trusted_root(args.trusted_root.as_deref())?;
        check_signed_timestamps(bundle.as_ref(), &root)?;
    }
    match bundle {
        Some(bundle) => {
            verify_signature_with_key(&bundle, &key, artifact, hash_override)?;
            if !args.insecure_ignore_tlog {
                let root = crate::trust::trusted_root(args.trusted_root.as_deref())?;
                transparency_log::verify_entries(&bundle, &root, &hashed.sha256, &key, crate::trust::now(), 1)
                    .map_err(|error| {
                        CliError::new(format!("failed to verify log inclusion: {error}")).with_hint(
                            "a bundle signed with a key offline has no log entry: pass --insecure-ignore-tlog to verify it without one",
                        )
                    })?;
            }
        }
        None if !args.insecure_ignore_tlog => {
            return Err(
                CliError::new("a bare --signature carries no transparency log entry").with_hint(
                    "pass --insecure-ignore-tlog to verify it without one, or verify a --bundle",
                ),
            );
        }
        None => {
            let signature = read_signature(args.signature.as_deref().unwrap_or_default())?;
            // A bare signature: the same checks as a bundle without a declared digest.
            let bundle = Bundle::for_message_signature(&key, None, signature)?;
            verify_signature_with_key(&bundle, &key, artifact, hash_override)?;
        }
    }
    console::info("Verified OK");
    Ok(())
}

/// `--use-signed-timestamps` with a key: at least one RFC 3161 timestamp in the bundle verifies
/// against the trusted root's timestamp authorities.
fn check_signed_timestamps(
    bundle: Option<&Bundle>,
    root: &cosign_core::trust::trusted_root::TrustedRoot,
) -> Result<(), CliError> {
    let Some(bundle) = bundle else {
        return Err(CliError::new(
            "--use-signed-timestamps needs a --bundle that carries RFC 3161 timestamps",
        ));
    };
    let verified = cosign_core::trust::timestamp::verify_all(bundle, root)
        .map_err(|error| CliError::new(format!("unable to verify signed timestamps: {error}")))?
        .len();
    if verified == 0 {
        return Err(CliError::new(
            "threshold not met for verified signed timestamps: 0 < 1",
        ));
    }
    Ok(())
}

/// A `--bundle` file: a Sigstore bundle, or cosign's legacy blob bundle.
fn load_bundle(bytes: &[u8]) -> Result<Bundle, CliError> {
    if cosign_core::bundle::legacy_blob_bundle::is_legacy_bundle(bytes) {
        return cosign_core::bundle::legacy_blob_bundle::parse(bytes)
            .map_err(|error| CliError::new(format!("loading bundle: {error}")));
    }
    Bundle::parse(bytes).map_err(|error| CliError::new(format!("loading bundle: {error}")))
}

/// cosign's hidden `--signature-digest-algorithm` (sha256, sha384, sha512).
fn signature_digest_algorithm(args: &VerifyBlobArgs) -> Result<Option<HashAlgorithm>, CliError> {
    parse_signature_digest_algorithm(args.signature_digest_algorithm.as_deref())
}

/// The value of `--signature-digest-algorithm`, checked as cosign checks it.
pub(crate) fn parse_signature_digest_algorithm(
    value: Option<&str>,
) -> Result<Option<HashAlgorithm>, CliError> {
    match value {
        None => Ok(None),
        Some("sha256") => Ok(Some(HashAlgorithm::Sha256)),
        Some("sha384") => Ok(Some(HashAlgorithm::Sha384)),
        Some("sha512") => Ok(Some(HashAlgorithm::Sha512)),
        Some("sha224") => Err(CliError::not_supported(
            "--signature-digest-algorithm sha224",
            "use sha256, sha384 or sha512",
        )),
        Some(other) => Err(CliError::usage(format!(
            "unsupported digest algorithm {other:?}: use sha256, sha384 or sha512"
        ))),
    }
}

/// Checks the bundle's signature over the blob with `key`. A message signature without a
/// recorded digest (a bare `--signature`, a legacy bundle) is checked with the key's own hash
/// (what cosign 3.1 signs with: SHA-384 for P-384, SHA-512 for P-521) or, failing that, with
/// SHA-256 (what cosign 3.1's `verify-blob` checks by default): each accepts what the other
/// writes. `--signature-digest-algorithm` names the one hash to use instead.
fn verify_signature_with_key(
    bundle: &Bundle,
    key: &PublicKey,
    artifact: Artifact<'_>,
    hash_override: Option<HashAlgorithm>,
) -> Result<(), CliError> {
    let bare = bundle.message_signature.as_ref().filter(|signature| {
        signature
            .message_digest
            .as_ref()
            .is_none_or(|digest| digest.digest.is_empty())
    });
    let is_ecdsa = matches!(
        key,
        PublicKey::EcdsaP256(_) | PublicKey::EcdsaP384(_) | PublicKey::EcdsaP521(_)
    );
    let digest_of = |hash: HashAlgorithm| match (hash, artifact.bytes) {
        (HashAlgorithm::Sha256, _) => Some(artifact.sha256.bytes()),
        (other, Some(bytes)) => Some(other.digest(bytes)),
        (_, None) => None,
    };
    match (bare, hash_override) {
        (Some(signature), Some(hash)) if is_ecdsa => {
            let digest = digest_of(hash)
                .ok_or_else(|| CliError::new("internal: the blob was not kept for hashing"))?;
            key.verify_digest(&digest, hash, &signature.signature)
                .map_err(|error| CliError::new(error.to_string()))
        }
        (Some(signature), None) if is_ecdsa => {
            let first = verify_with_key(bundle, key, Some(artifact));
            match first {
                Ok(_) => Ok(()),
                Err(error) => key
                    .verify_digest(
                        &artifact.sha256.bytes(),
                        HashAlgorithm::Sha256,
                        &signature.signature,
                    )
                    .map_err(|_| CliError::new(error.to_string())),
            }
        }
        _ => verify_with_key(bundle, key, Some(artifact))
            .map(|_| ())
            .map_err(|error| CliError::new(error.to_string())),
    }
}

/// A signature made with a certificate (Fulcio's, or one the signer brought): the certificate
/// chains to a CA of the trusted root (or of `--certificate-chain`/`--ca-roots`) at the time a
/// log or timestamp authority signed (with `--insecure-ignore-tlog` and no timestamp: now),
/// carries an SCT from a trusted CT log (unless `--insecure-ignore-sct`), names the expected
/// identity and issuer, and its key made the signature; the log entry is for this artifact,
/// signature and certificate. The certificate comes from the `--bundle`, or from
/// `--certificate` for a bare `--signature`.
fn verify_keyless(args: &VerifyBlobArgs) -> Result<(), CliError> {
    // The identity flags are checked first, as cosign does.
    crate::trust::identity_policy(&args.identity)?;
    let authority = crate::trust::keyless_authority(
        &args.identity,
        args.trusted_root.as_deref(),
        &args.verification,
        args.insecure_ignore_tlog,
        "blob",
    )?;
    let bundle = match (&args.bundle, &args.signature, &authority.certificate) {
        (Some(path), _, _) => load_bundle(&crate::key_files::read_limited_to(
            path,
            cosign_core::bundle::BUNDLE_SIZE_LIMIT as u64,
        )?)?,
        (None, Some(signature), Some(certificate)) => {
            let signature = read_signature(signature)?;
            Bundle::for_message_signature(certificate.public_key(), None, signature)?
                .with_certificate(certificate.der().to_vec())
        }
        (None, Some(_), None) => {
            return Err(CliError::not_supported(
                "keyless verification of a bare --signature without its certificate",
                "give the signer's certificate with --certificate, or verify the --bundle the signer wrote",
            ))
        }
        (None, None, _) => {
            return Err(CliError::usage(
                "either --bundle or --signature must be given",
            ))
        }
    };
    let leaf = match (&authority.certificate, leaf_certificate(&bundle)) {
        (Some(pinned), _) => (**pinned).clone(),
        (None, Some(leaf)) => leaf.map_err(|error| CliError::new(error.to_string()))?,
        (None, None) => {
            return Err(CliError::new("the bundle carries no certificate")
                .with_hint("it was signed with a key: verify it with --key"))
        }
    };
    let needs_bytes = !matches!(
        leaf.public_key().default_algorithm().hash(),
        Some(cosign_core::keys::HashAlgorithm::Sha256)
    ) || matches!(leaf.public_key(), PublicKey::Ed25519(_));
    let hashed = blob::hash(&args.blob, needs_bytes)?;
    let artifact = Artifact {
        sha256: &hashed.sha256,
        bytes: hashed.bytes.as_deref(),
    };
    keyless::verify_for_authority(&bundle, artifact, &authority, crate::trust::now())
        .map_err(|error| CliError::new(error.to_string()))?;
    console::info("Verified OK");
    Ok(())
}

/// `--signature`: a file holding the base64 signature (or raw bytes), or the base64 itself.
fn read_signature(value: &str) -> Result<Vec<u8>, CliError> {
    let path = std::path::Path::new(value);
    let text = if path.exists() {
        crate::key_files::read_limited_to(path, SIGNATURE_LIMIT)?
    } else {
        value.as_bytes().to_vec()
    };
    let trimmed = String::from_utf8_lossy(&text).trim().to_owned();
    match base64::engine::general_purpose::STANDARD.decode(trimmed.as_bytes()) {
        Ok(decoded) => Ok(decoded),
        Err(_) => Ok(text),
    }
}
