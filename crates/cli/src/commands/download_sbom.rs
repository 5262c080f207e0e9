//! `cosign download sbom` (deprecated in cosign 3.1, as cosign says when it runs): the SBOM
//! attached by `cosign attach sbom` (the one layer of the `sha256-<hex>.sbom` image), written to
//! stdout as stored, its media type on stderr. Nothing proves who made it: attest SBOMs instead.

use cosign_core::image::legacy_signature::Attachment;
use cosign_oci::{signatures, Access};

use crate::args::DownloadSbomArgs;
use crate::commands::attach_sbom::SBOM_ATTACHMENT_DEPRECATION;
use crate::commands::download_attestation::image_digest;
use crate::console::{self, Console};
use crate::error::CliError;
use crate::registry_access;
use crate::settings::GlobalSettings;

pub async fn run(
    args: &DownloadSbomArgs,
    settings: &GlobalSettings,
    console: &mut Console,
) -> Result<(), CliError> {
    console::info(SBOM_ATTACHMENT_DEPRECATION);
    console::info("WARNING: Downloading SBOMs this way does not ensure its authenticity. If you want to ensure a tamper-proof SBOM, download it using 'cosign download attestation <image uri>'.");
    let reference = registry_access::parse_reference(&args.image)?;
    let client = registry_access::client(&args.registry, settings)?;
    let digest = image_digest(&client, &reference, args.platform.as_deref()).await?;
    let repository = registry_access::signature_repository(reference.repository())?;
    let manifest = signatures::fetch_attachment_manifest(
        &client,
        &repository,
        &digest,
        Attachment::Sboms,
        Access::Pull,
    )
    .await
    .map_err(|error| CliError::new(error.to_string()))?;
    let Some(layer) = manifest.and_then(|(_, manifest)| manifest.layers.into_iter().next()) else {
        return Err(CliError::new("no sbom attached to reference"));
    };
    console::info(format_args!(
        "Found SBOM of media type: {}",
        layer.media_type
    ));
    let media_type = layer.media_type.clone();
    let mut payloads =
        signatures::fetch_payloads(&client, &repository, std::slice::from_ref(&layer)).await;
    let bytes = payloads
        .pop()
        .ok_or_else(|| CliError::new(format!("no {media_type} layer")))?
        .map_err(|error| CliError::new(error.to_string()))?;
    console.out(&bytes)
}
