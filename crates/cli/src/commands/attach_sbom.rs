//! `cosign attach sbom` (deprecated in cosign 3.1, as cosign says when it runs): an SBOM file,
//! unsigned, as the one layer of the image tagged `sha256-<hex>.sbom`, with the media type its
//! `--type` and `--input-format` give. Sign SBOMs with `cosign attest --type cyclonedx|spdxjson`.

use std::io::Read as _;

use cosign_core::digest::Digest;
use cosign_core::image::legacy_signature::Attachment;
use cosign_core::image::manifest::Descriptor;
use cosign_oci::signatures;
use cosign_oci::Access;

use crate::args::AttachSbomArgs;
use crate::console;
use crate::error::CliError;
use crate::registry_access;
use crate::settings::GlobalSettings;

/// cosign's notice for the SBOM attachment commands.
pub const SBOM_ATTACHMENT_DEPRECATION: &str = "WARNING: SBOM attachments are deprecated and support will be removed in a Cosign release soon after 2024-02-22 (see https://github.com/sigstore/cosign/issues/2755). Instead, please use SBOM attestations.";

/// The largest SBOM read.
const SBOM_SIZE_LIMIT: u64 = 128 * 1024 * 1024;

pub async fn run(args: &AttachSbomArgs, settings: &GlobalSettings) -> Result<(), CliError> {
    console::info(SBOM_ATTACHMENT_DEPRECATION);
    let sbom = args.sbom.clone().unwrap_or_default();
    let media_type = media_type(&sbom, &args.sbom_type, args.input_format.as_deref())?;
    console::info(format_args!(
        "WARNING: Attaching SBOMs this way does not sign them. To sign them, use 'cosign attest --predicate {sbom} --key <key path>'."
    ));
    if matches!(
        args.registry_referrers_mode,
        Some(crate::args::ReferrersModeArg::Oci11)
    ) {
        return Err(CliError::not_supported(
            "--registry-referrers-mode=oci-1-1 for SBOM attachments",
            "attach the SBOM under its tag (the default), or better, attest it: `cosign attest --type cyclonedx --predicate SBOM --key KEY IMAGE`",
        ));
    }
    let registry_access::ResolvedImage {
        reference,
        client,
        digest,
    } = registry_access::resolve(&args.image, &args.registry, settings, Access::Push).await?;
    let bytes = sbom_bytes(&sbom)?;
    let repository = registry_access::signature_repository(reference.repository())?;
    console::info(format_args!(
        "Uploading SBOM file for [{}] to [{repository}:{}] with mediaType [{media_type}].\n",
        reference.name(),
        Attachment::Sboms.tag(&digest)
    ));
    let layer = Descriptor {
        media_type: media_type.to_owned(),
        size: bytes.len() as u64,
        digest: Digest::sha256(&bytes),
        urls: None,
        annotations: None,
        platform: None,
        artifact_type: None,
    };
    signatures::put_attachment_image(
        &client,
        &repository,
        &digest,
        Attachment::Sboms,
        &bytes,
        layer,
    )
    .await
    .map_err(|error| CliError::new(error.to_string()))
}

/// cosign's choice of media type.
fn media_type(
    sbom: &str,
    sbom_type: &str,
    input_format: Option<&str>,
) -> Result<&'static str, CliError> {
    let looks_like_json = sbom.ends_with(".json");
    let format = input_format.filter(|format| !format.is_empty());
    match sbom_type {
        "cyclonedx" => match format {
            Some(other) if other != "xml" && other != "json" => Err(CliError::new(format!(
                "invalid SBOM input format: {other:?}, expected (json|xml)"
            ))),
            Some("json") => Ok("application/vnd.cyclonedx+json"),
            _ if looks_like_json => Ok("application/vnd.cyclonedx+json"),
            _ => Ok("application/vnd.cyclonedx+xml"),
        },
        "spdx" => match format {
            Some(other) if other != "text" && other != "json" => Err(CliError::new(format!(
                "invalid SBOM input format: {other:?}, expected (json|text)"
            ))),
            Some("json") => Ok("text/spdx+json"),
            _ if looks_like_json => Ok("text/spdx+json"),
            _ => Ok("text/spdx"),
        },
        "syft" => match format {
            Some(other) if other != "json" => Err(CliError::new(format!(
                "invalid SBOM input format: {other:?}, expected (json)"
            ))),
            _ => Ok("application/vnd.syft+json"),
        },
        other => Err(CliError::new(format!(
            "unknown SBOM type: {other:?}, expected (spdx|cyclonedx|syft)"
        ))),
    }
}

/// `-` (standard input), a file, or else the argument itself (as cosign reads it).
fn sbom_bytes(sbom: &str) -> Result<Vec<u8>, CliError> {
    if sbom == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(SBOM_SIZE_LIMIT + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| CliError::new(format!("reading standard input: {error}")))?;
        if bytes.len() as u64 > SBOM_SIZE_LIMIT {
            return Err(CliError::new(format!(
                "the SBOM is over the {SBOM_SIZE_LIMIT}-byte limit"
            )));
        }
        return Ok(bytes);
    }
    let path = std::path::Path::new(sbom);
    if path.is_file() {
        return crate::key_files::read_limited_to(path, SBOM_SIZE_LIMIT);
    }
    Ok(sbom.as_bytes().to_vec())
}
