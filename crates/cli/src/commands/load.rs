//! `cosign load --dir DIR IMAGE`: pushes an image saved by `cosign save` (or by us) with its
//! signature and attestation images and its referrers. Blobs go before the manifests that
//! name them (cosign 3.1 pushes referrer manifests first, which registries that check
//! references refuse), and referrers are recorded in the fallback index where the registry
//! has no referrers API.

use cosign_core::image::legacy_signature::Attachment;
use cosign_core::image::reference::Target;
use cosign_oci::layout::{kinds, Layout};
use cosign_oci::referrers::ReferrersMode;
use cosign_oci::transfer::{self, Sink, Source};

use crate::args::LoadArgs;
use crate::error::CliError;
use crate::registry_access;
use crate::settings::GlobalSettings;

pub async fn run(args: &LoadArgs, settings: &GlobalSettings) -> Result<(), CliError> {
    let reference = registry_access::parse_reference(&args.image)
        .map_err(|error| error.context(format_args!("parsing image name {}", args.image)))?;
    let layout = Layout::open(&args.dir)
        .map_err(|error| CliError::new(format!("signed image index: {error}")))?;
    let entry = layout.signed_entry().ok_or_else(|| {
        CliError::new(format!(
            "signed image index: {} holds no image: no index.json entry annotated kind={} or kind={}",
            args.dir.display(),
            kinds::IMAGE,
            kinds::IMAGE_INDEX
        ))
        .with_hint("save an image with `cosign save --dir DIR IMAGE` first")
    })?;
    let root = layout
        .read_manifest(entry)
        .map_err(|error| CliError::new(format!("signed image: {error}")))?;
    if let Target::Digest(digest) = reference.target() {
        if digest != &root.digest {
            return Err(CliError::new(format!(
                "{} holds {}, not {digest}",
                args.dir.display(),
                root.digest
            ))
            .with_hint("load it under a tag, or under the digest it has"));
        }
    }
    let client = registry_access::client(&args.registry, settings)?;
    let source = Source::Layout(&layout);
    transfer::copy_tree(
        &source,
        &Sink::Registry {
            client: &client,
            repository: reference.repository(),
        },
        &root,
        &reference.identifier(),
    )
    .await
    .map_err(|error| CliError::new(format!("remote write: {error}")))?;

    let signature_repository = registry_access::signature_repository(reference.repository())?;
    let sink = Sink::Registry {
        client: &client,
        repository: &signature_repository,
    };
    for (kind, attachment) in [
        (kinds::SIGNATURES, Attachment::Signatures),
        (kinds::ATTESTATIONS, Attachment::Attestations),
    ] {
        let Some(entry) = layout.entry_of_kind(kind) else {
            continue;
        };
        let manifest = layout
            .read_manifest(entry)
            .map_err(|error| CliError::new(format!("{}: {error}", attachment.suffix())))?;
        transfer::copy_tree(&source, &sink, &manifest, &attachment.tag(&root.digest))
            .await
            .map_err(|error| CliError::new(format!("remote write: {error}")))?;
    }
    let referrers = layout
        .referrers_of(&root.digest)
        .map_err(|error| CliError::new(format!("reading referrers: {error}")))?;
    for referrer in &referrers {
        transfer::copy_tree(&source, &sink, referrer, &referrer.digest.to_string())
            .await
            .map_err(|error| CliError::new(format!("failed to upload manifest: {error}")))?;
        transfer::record_referrer(
            &client,
            &signature_repository,
            &root.digest,
            referrer,
            ReferrersMode::Auto,
        )
        .await
        .map_err(|error| CliError::new(format!("recording referrer: {error}")))?;
    }
    Ok(())
}
