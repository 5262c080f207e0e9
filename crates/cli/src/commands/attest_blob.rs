//! `cosign attest-blob`: an in-toto statement about a blob (with `--key`, or keyless) (subject: the blob's file name
//! and SHA-256, or `--hash`), signed as a DSSE envelope; written as a Sigstore bundle
//! (`--bundle`, cosign 3's default) or, with `--new-bundle-format=false`, as the envelope on
//! standard output (or `--output-signature`) and an optional legacy bundle. The blob is hashed
//! as it streams by.

use cosign_core::bundle::attestation::{self, PREDICATE_SIZE_LIMIT};
use cosign_core::bundle::dsse;
use cosign_core::bundle::in_toto::Statement;
use cosign_core::digest::Digest;
use cosign_core::UnixTime;

use crate::args::AttestBlobArgs;
use crate::blob;
use crate::console::{self, Console};
use crate::error::CliError;
use crate::key_files::{read_limited_to, write_file};
use crate::signer::{Choice, Signer};

pub fn run(args: &AttestBlobArgs, console: &mut Console) -> Result<(), CliError> {
    if args.predicate.is_some() == args.statement.is_some() {
        return Err(CliError::new(
            "one of --predicate or --statement must be set",
        ));
    }
    crate::signer::check_rekor_entry_type(&args.rekor_entry_type)?;
    let new_format = args.new_bundle_format != Some(false);
    if !new_format && args.rfc3161_timestamp_bundle.is_some() {
        // As cosign: the legacy format is never timestamped here.
        return Err(CliError::new("no RFC3161 timestamp found in bundle"));
    }
    if args.key.is_some() && args.tlog_upload {
        return Err(crate::trust::refuse_tlog_upload("attest"));
    }
    if new_format && args.bundle.is_none() {
        return Err(CliError::usage(
            "must specify --bundle with --new-bundle-format",
        ));
    }
    let statement = match (&args.statement, &args.predicate) {
        (Some(path), _) => {
            console::info(format_args!("Using statement from: {}", path.display()));
            let bytes = read_limited_to(path, PREDICATE_SIZE_LIMIT as u64)
                .map_err(|error| error.context("could not read statement"))?;
            Statement::parse(&bytes)
                .map_err(|error| CliError::new(format!("invalid statement: {error}")))?;
            bytes
        }
        (None, Some(predicate)) => statement_for_blob(args, predicate)?,
        (None, None) => {
            return Err(CliError::new(
                "one of --predicate or --statement must be set",
            ))
        }
    };
    let runtime = crate::runtime()?;
    let signer = runtime.block_on(Signer::choose(Choice {
        key: args.key.as_deref(),
        services: &args.services,
        certificate: &args.certificate,
        use_signing_config: args.use_signing_config,
        tlog_upload: args.tlog_upload,
        yes: args.yes,
        refuse_keyless_legacy: !new_format,
        verb: "attest",
        key_context: "creating bundle: reading key",
    }))?;
    let key = signer.key();
    let envelope = dsse::sign(key, dsse::IN_TOTO_PAYLOAD_TYPE, statement.clone())?;
    if !rustix::termios::isatty(std::io::stderr()) {
        console::info("Signing artifact...");
    }
    if new_format {
        let bundle =
            runtime.block_on(signer.envelope_bundle(envelope, &Digest::sha256(&statement)))?;
        let timestamp = match &args.rfc3161_timestamp_bundle {
            None => None,
            Some(path) => Some((
                path,
                crate::signer::timestamp_file(&bundle)
                    .ok_or_else(|| CliError::new("no RFC3161 timestamp found in bundle"))?,
            )),
        };
        if let Some(path) = &args.bundle {
            write_file(path, &bundle.to_json(), 0o600)?;
            console::info(format_args!("Wrote bundle to file {}", path.display()));
        }
        if let Some((path, timestamp)) = timestamp {
            write_file(path, timestamp.as_bytes(), 0o600)?;
            console::info(format_args!(
                "Timestamp wrote in the file {}",
                path.display()
            ));
        }
    } else {
        let envelope_json =
            serde_json::to_vec(&envelope).map_err(|error| CliError::new(error.to_string()))?;
        if let Some(path) = &args.bundle {
            let legacy = cosign_core::bundle::legacy_blob_bundle::write_for_key(
                &envelope_json,
                signer.legacy_bundle_cert()?.as_bytes(),
            );
            write_file(path, &legacy, 0o600)?;
            console::info(format_args!("Wrote bundle to file {}", path.display()));
        }
        match &args.output_signature {
            Some(path) => {
                write_file(path, &envelope_json, 0o600)?;
                console::info(format_args!("Signature written in {}", path.display()));
            }
            None => {
                let mut line = envelope_json;
                line.push(b'\n');
                console.out(&line)?;
            }
        }
    }
    if let Some(path) = &args.output_attestation {
        write_file(path, &statement, 0o600)?;
        console::info(format_args!("Attestation written in {}", path.display()));
    }
    if let Some(path) = &args.output_certificate {
        let Some(certificate) = signer.certificate_pem() else {
            // As in cosign: a key-based attestation has no certificate to write.
            return Err(CliError::new(format!(
                "no certificate found in bundle (signed with a key): {} not written",
                path.display()
            )));
        };
        write_file(path, certificate.as_bytes(), 0o644)?;
        console::info(format_args!("Certificate written in {}", path.display()));
    }
    Ok(())
}

/// The statement cosign makes for a predicate about a blob: subject name the blob's base name,
/// digest its SHA-256 (or `--hash`).
fn statement_for_blob(args: &AttestBlobArgs, predicate: &str) -> Result<Vec<u8>, CliError> {
    attestation::predicate_type_uri(&args.predicate_type)
        .map_err(|error| CliError::new(error.to_string()))?;
    let digest = match &args.hash {
        Some(hex) => format!("sha256:{}", hex.to_ascii_lowercase())
            .parse::<Digest>()
            .map_err(|error| CliError::usage(format!("--hash {hex:?}: {error}")))?,
        None => {
            if args.blob != "-" {
                console::info(format_args!("Using payload from: {}", args.blob));
            }
            blob::hash(&args.blob, false)?.sha256
        }
    };
    let predicate = if predicate == "-" {
        use std::io::Read as _;
        console::info("Using payload from: standard input");
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(PREDICATE_SIZE_LIMIT as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| CliError::new(format!("reading standard input: {error}")))?;
        bytes
    } else {
        console::info(format_args!("Using payload from: {predicate}"));
        read_limited_to(std::path::Path::new(predicate), PREDICATE_SIZE_LIMIT as u64)
            .map_err(|error| error.context("getting predicate reader"))?
    };
    // Go's path.Base: the last element, `-` for standard input.
    let name = args
        .blob
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|name| !name.is_empty())
        .unwrap_or("/")
        .to_owned();
    attestation::statement(
        &args.predicate_type,
        &predicate,
        &attestation::Subject { name, digest },
        UnixTime::from_seconds(crate::trust::now()),
    )
    .map_err(|error| CliError::new(error.to_string()))
}
