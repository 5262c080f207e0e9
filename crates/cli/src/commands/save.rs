//! `cosign save --dir DIR IMAGE`: writes the image (or index, with its child images), its
//! signature and attestation images, and its referrers (Sigstore bundles) to an OCI image
//! layout with cosign's `kind` annotations. Unlike cosign, referrers are listed in the
//! layout's index too, so they are not garbage to tools that clean unreferenced blobs.

use cosign_core::image::legacy_signature::Attachment;
use cosign_core::image::manifest::media_types;
use cosign_oci::layout::{kinds, LayoutWriter};
use cosign_oci::signatures::{self, ResolveError};
use cosign_oci::transfer::{self, Sink, Source};
use cosign_oci::Access;

use crate::args::SaveArgs;
use crate::error::CliError;
use crate::registry_access;
use crate::settings::GlobalSettings;

pub async fn run(args: &SaveArgs, settings: &GlobalSettings) -> Result<(), CliError> {
    let reference = registry_access::parse_reference(&args.image)
        .map_err(|error| error.context(format_args!("parsing image name {}", args.image)))?;
    let client = registry_access::client(&args.registry, settings)?;
    // One GET gives the digest and the manifest.
    let root = signatures::fetch_manifest(&client, &reference, Access::Pull)
        .await
        .map_err(|error| match error {
            ResolveError::TagNotFound { source } | ResolveError::Registry { source } => {
                CliError::new(format!("resolving digest: {source}"))
            }
        })?;
    let signature_repository = registry_access::signature_repository(reference.repository())?;
    let attached = transfer::attached_in_registry(
        &client,
        &signature_repository,
        &root.digest,
        &[Attachment::Signatures, Attachment::Attestations],
        true,
    )
    .await
    .map_err(|error| CliError::new(format!("getting referrers: {error}")))?;

    let mut writer =
        LayoutWriter::create(&args.dir).map_err(|error| CliError::new(error.to_string()))?;
    {
        let sink = Sink::Layout(&writer);
        let image_source = Source::Registry {
            client: &client,
            repository: reference.repository(),
        };
        let signature_source = Source::Registry {
            client: &client,
            repository: &signature_repository,
        };
        transfer::copy_tree(&image_source, &sink, &root, "")
            .await
            .map_err(|error| CliError::new(format!("writing the image: {error}")))?;
        for (_, manifest) in &attached.images {
            transfer::copy_tree(&signature_source, &sink, manifest, "")
                .await
                .map_err(|error| CliError::new(format!("appending signatures: {error}")))?;
        }
        for manifest in &attached.referrers {
            transfer::copy_tree(&signature_source, &sink, manifest, "")
                .await
                .map_err(|error| CliError::new(format!("appending referrers: {error}")))?;
        }
    }
    let root_kind = if media_types::is_index(&root.media_type) {
        kinds::IMAGE_INDEX
    } else {
        kinds::IMAGE
    };
    writer.add_entry(&root, Some(root_kind));
    for (attachment, manifest) in &attached.images {
        let kind = match attachment {
            Attachment::Signatures => kinds::SIGNATURES,
            Attachment::Attestations => kinds::ATTESTATIONS,
            Attachment::Sboms => continue,
        };
        writer.add_entry(manifest, Some(kind));
    }
    for manifest in &attached.referrers {
        writer.add_entry(manifest, None);
    }
    writer
        .finish()
        .map_err(|error| CliError::new(error.to_string()))?;
    Ok(())
}
