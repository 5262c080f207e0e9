//! `cosign sign-blob --key`: signs a blob; cosign 3's default writes a Sigstore bundle (v0.3)
//! with `--bundle`, `--new-bundle-format=false` prints the base64 signature as cosign 2 did.
//! The blob is hashed as it streams by (P-256 keys sign the digest), so its size does not
//! matter.

use base64::Engine as _;
use cosign_core::bundle::Bundle;
use cosign_core::keys::{HashAlgorithm, PrivateKey, SigningAlgorithm};

use crate::args::SignBlobArgs;
use crate::blob;
use crate::console::{self, Console};
use crate::error::CliError;
use crate::key_files::{decrypt_key_reference, write_file};
use crate::signing_certificate::SigningCertificate;

pub fn run(args: &SignBlobArgs, console: &mut Console) -> Result<(), CliError> {
    let Some(key_reference) = &args.key else {
        return run_keyless(args, None);
    };
    if args.services.issue_certificate {
        crate::signing_certificate::refuse_with_issued(&args.certificate)?;
        let key =
            decrypt_key_reference(key_reference, "signing blob: getting signer: reading key")?;
        return run_keyless(args, Some(key));
    }
    if args.services.identity_token.is_some() || args.services.signing_config.is_some() {
        return Err(CliError::usage(
            "--identity-token and --signing-config are for keyless signing: drop --key, or drop them",
        ));
    }
    let new_format = args.new_bundle_format.unwrap_or(true);
    if args.tlog_upload {
        return Err(crate::trust::refuse_tlog_upload("sign"));
    }
    if new_format && args.bundle.is_none() {
        return Err(CliError::usage(
            "must specify --bundle with --new-bundle-format",
        ));
    }
    crate::trust::check_signing_trusted_root(&args.services)?;
    let key = decrypt_key_reference(key_reference, "signing blob: getting signer: reading key")?;
    let certificate = SigningCertificate::load(&args.certificate, &key)?;
    let algorithm = signing_algorithm(args, &key)?;
    if args.blob != "-" {
        console::info(format_args!("Using payload from: {}", args.blob));
    }
    let hashed = blob::hash(
        &args.blob,
        !key.signs_sha256_digests() || algorithm != SigningAlgorithm::EcdsaP256Sha256,
    )?;
    // The digest the signature covers, as cosign 3 records it in the bundle.
    let message_digest = match (algorithm.hash(), &hashed.bytes) {
        (None, _) => None,
        (Some(HashAlgorithm::Sha256), _) => Some((HashAlgorithm::Sha256, hashed.sha256.bytes())),
        (Some(other), Some(bytes)) => Some((other, other.digest(bytes))),
        (Some(other), None) => {
            return Err(CliError::new(format!(
                "internal: {other:?} digest without the blob"
            )))
        }
    };
    let signature = match &hashed.bytes {
        None => key.sign_sha256_digest(&hashed.sha256.bytes())?,
        Some(bytes) => key.sign_with(algorithm, bytes)?,
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(&signature);
    if new_format {
        if !rustix::termios::isatty(std::io::stderr()) {
            console::info("Signing artifact...");
        }
        let mut bundle =
            Bundle::for_message_signature(&key.public_key(), message_digest, signature)?;
        if let Some(certificate) = &certificate {
            bundle = bundle.with_certificate(certificate.leaf.der().to_vec());
        }
        if let Some(path) = &args.bundle {
            write_file(path, &bundle.to_json(), 0o644)?;
            console::info(format_args!("Wrote bundle to file {}", path.display()));
        }
    } else if let Some(path) = &args.bundle {
        // As cosign: the signature, and the certificate's PEM (else the public key's).
        let cert = match &certificate {
            Some(certificate) => certificate.leaf_pem(),
            None => key.public_key().to_pem()?,
        };
        let legacy =
            cosign_core::bundle::legacy_blob_bundle::write_for_key(&signature, cert.as_bytes());
        write_file(path, &legacy, 0o644)?;
        console::info(format_args!("Wrote bundle to file {}", path.display()));
    }
    let text = if args.b64 {
        encoded.into_bytes()
    } else {
        signature_bytes(&encoded)
    };
    match &args.output_signature {
        Some(path) => {
            write_file(path, &text, 0o644)?;
            console::info(format_args!("Wrote signature to file {}", path.display()));
        }
        None if !new_format => {
            let mut line = text;
            line.push(b'\n');
            console.out(&line)?;
        }
        None => {}
    }
    match (&args.output_certificate, &certificate) {
        (Some(path), Some(certificate)) => write_certificate(args, path, &certificate.leaf_pem())?,
        // As in cosign: a signature made with a key alone has no certificate to write.
        (Some(path), None) => console::debug(format_args!(
            "no certificate to write to {}: signing with a key",
            path.display()
        )),
        (None, _) => {}
    }
    Ok(())
}

/// `--output-certificate`: the certificate's PEM, base64-encoded unless `--b64=false`, as
/// cosign writes it.
fn write_certificate(
    args: &SignBlobArgs,
    path: &std::path::Path,
    pem: &str,
) -> Result<(), CliError> {
    let bytes = if args.b64 {
        base64::engine::general_purpose::STANDARD
            .encode(pem)
            .into_bytes()
    } else {
        pem.as_bytes().to_vec()
    };
    write_file(path, &bytes, 0o644)?;
    console::info(format_args!("Wrote certificate to file {}", path.display()));
    Ok(())
}

fn signature_bytes(encoded: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap_or_default()
}

/// `--signing-algorithm`, checked against the key; pure Ed25519 for Ed25519 keys, since
/// cosign signs blobs that way when there is no transparency log.
fn signing_algorithm(args: &SignBlobArgs, key: &PrivateKey) -> Result<SigningAlgorithm, CliError> {
    let default = match key.default_algorithm() {
        SigningAlgorithm::Ed25519Prehashed => SigningAlgorithm::Ed25519,
        other => other,
    };
    let Some(name) = &args.signing_algorithm else {
        return Ok(default);
    };
    let wanted: SigningAlgorithm =
        name.parse()
            .map_err(|error: cosign_core::keys::UnknownSigningAlgorithm| {
                CliError::usage(error.to_string())
            })?;
    if wanted != key.default_algorithm() && wanted != default {
        return Err(CliError::usage(format!(
            "signing algorithm {wanted} does not match the {} key in --key",
            key.key_type()
        )));
    }
    Ok(wanted)
}

/// `sign-blob` without a key: an ephemeral key (or `key`, with `--issue-certificate`)
/// certified by Fulcio for the caller's identity, the signature timestamped and logged as the
/// signing config says, in a v0.3 bundle.
fn run_keyless(args: &SignBlobArgs, key: Option<PrivateKey>) -> Result<(), CliError> {
    if key.is_none() {
        crate::signing_certificate::refuse_without_key(&args.certificate)?;
    }
    let new_format = args.new_bundle_format.unwrap_or(true);
    if !new_format {
        return Err(CliError::not_supported(
            "keyless signing in the legacy format (--new-bundle-format=false)",
            "write a Sigstore bundle: `cosign sign-blob --bundle BUNDLE FILE`",
        ));
    }
    if args.bundle.is_none() {
        return Err(CliError::usage(
            "must specify --bundle with --new-bundle-format",
        ));
    }
    if args.signing_algorithm.is_some() {
        return Err(CliError::not_supported(
            "--signing-algorithm with keyless signing",
            "drop --signing-algorithm: the ephemeral key is ECDSA P-256 with SHA-256",
        ));
    }
    // The blob first: a missing file fails before any service is asked.
    if args.blob != "-" {
        console::info(format_args!("Using payload from: {}", args.blob));
    }
    let hashed = blob::hash(&args.blob, false)?;
    let runtime = crate::runtime()?;
    let bundle = runtime.block_on(async {
        let signer = crate::keyless::KeylessSigner::start(
            &args.services,
            args.use_signing_config,
            args.tlog_upload,
            key,
            args.yes,
        )
        .await?;
        let digest = hashed.sha256.bytes();
        let signature = signer.key().sign_sha256_digest(&digest)?;
        let bundle = Bundle::for_message_signature(
            &signer.key().public_key(),
            Some((HashAlgorithm::Sha256, digest)),
            signature,
        )?
        .with_certificate(signer.leaf().der().to_vec());
        let bundle = signer.complete(bundle, &hashed.sha256).await?;
        Ok::<_, CliError>((bundle, signer.leaf_pem()))
    })?;
    let (bundle, certificate) = bundle;
    if let Some(path) = &args.bundle {
        write_file(path, &bundle.to_json(), 0o644)?;
        console::info(format_args!("Wrote bundle to file {}", path.display()));
    }
    if let Some(path) = &args.output_certificate {
        write_certificate(args, path, &certificate)?;
    }
    // As cosign: written when the signature was timestamped.
    if let (Some(path), Some(timestamp)) = (
        &args.rfc3161_timestamp,
        crate::signer::timestamp_file(&bundle),
    ) {
        write_file(path, timestamp.as_bytes(), 0o600)?;
        console::info(format_args!("Wrote timestamp to file {}", path.display()));
    }
    if let Some(path) = &args.output_signature {
        let encoded = base64::engine::general_purpose::STANDARD.encode(bundle.signature_bytes());
        let text = if args.b64 {
            encoded.into_bytes()
        } else {
            bundle.signature_bytes().to_vec()
        };
        write_file(path, &text, 0o644)?;
        console::info(format_args!("Wrote signature to file {}", path.display()));
    }
    Ok(())
}
