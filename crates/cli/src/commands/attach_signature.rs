//! `cosign attach signature`: adds a signature made elsewhere (a payload and its base64
//! signature) to an image's legacy signature image, as `sign` would have.

use std::io::Read as _;

use base64::Engine as _;
use cosign_core::image::legacy_signature::{self, ManifestFlavor};
use cosign_core::image::manifest::Descriptor;
use cosign_core::image::simple_signing;
use cosign_oci::signatures;
use cosign_oci::Access;

use crate::args::AttachSignatureArgs;
use crate::error::{io_error, CliError};
use crate::registry_access;
use crate::settings::GlobalSettings;

/// The largest payload or signature file we read.
const FILE_LIMIT: u64 = 16 * 1024 * 1024;

pub async fn run(args: &AttachSignatureArgs, settings: &GlobalSettings) -> Result<(), CliError> {
    if args.certificate.is_some()
        || args.certificate_chain.is_some()
        || args.rekor_response.is_some()
        || args.tsr.is_some()
    {
        return Err(CliError::not_supported(
            "attaching certificates, Rekor responses or timestamps",
            "attach the payload and signature only",
        ));
    }
    let registry_access::ResolvedImage {
        reference,
        client,
        digest,
    } = registry_access::resolve(&args.image, &args.registry, settings, Access::Push).await?;
    let payload = match &args.payload {
        Some(path) => read_limited(path)?,
        None => simple_signing::payload(
            &reference.repository().to_string(),
            &digest,
            &Default::default(),
        ),
    };
    let encoded = match args.signature.as_deref() {
        Some("-") => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .lock()
                .take(FILE_LIMIT)
                .read_to_end(&mut bytes)
                .map_err(|error| {
                    CliError::new(format!("reading signature from standard input: {error}"))
                })?;
            bytes
        }
        Some(path) => read_limited(std::path::Path::new(path))?,
        None => Vec::new(),
    };
    let encoded = String::from_utf8_lossy(&encoded).trim().to_owned();
    if encoded.is_empty() {
        return Err(CliError::new("empty signature"));
    }
    let signature = base64::engine::general_purpose::STANDARD
        .decode(&encoded)
        .map_err(|error| CliError::new(format!("signature is not base64: {error}")))?;
    let layer = legacy_signature::signature_layer(&payload, &signature);
    let repository = registry_access::signature_repository(reference.repository())?;
    let same = |candidate: &Descriptor| {
        candidate.digest == layer.digest && candidate.annotations == layer.annotations
    };
    signatures::append_legacy_signature(
        &client,
        &repository,
        &digest,
        &payload,
        &layer,
        signatures::LegacyAppend {
            attachment: cosign_core::image::legacy_signature::Attachment::Signatures,
            flavor: ManifestFlavor::Oci,
            is_duplicate: &same,
            replaces: &|_| false,
        },
    )
    .await
    .map_err(|error| CliError::new(error.to_string()))?;
    Ok(())
}

fn read_limited(path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    let file = std::fs::File::open(path).map_err(|error| io_error("open", path, &error))?;
    let mut bytes = Vec::new();
    file.take(FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| io_error("read", path, &error))?;
    if bytes.len() as u64 > FILE_LIMIT {
        return Err(CliError::new(format!(
            "{}: larger than {FILE_LIMIT} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}
