//! `cosign clean`: removes an image's signatures, attestations and SBOMs, after asking
//! unless `-f`: the legacy `.sig`/`.att`/`.sbom` tags and cosign 3's Sigstore bundles attached
//! as OCI referrers, with their entries in the referrers fallback index.
//!
//! As cosign 3.1: `all` removes every kind, `referrer` every bundle. Unlike it, `signature`
//! and `attestation` also remove the bundles of that kind (cosign 3.1 leaves them, so the image
//! still verifies after cleaning its signatures), and the fallback index is rewritten, not
//! deleted, when another tool's referrers are listed in it.

use cosign_oci::referrers::{self, Forgotten, ReferrersSource};
use cosign_oci::signatures::{self, ResolveError};
use cosign_oci::{bundles, Access, RegistryClient, RegistryError};

use crate::args::{CleanArgs, CleanType};
use crate::console;
use crate::error::CliError;
use crate::registry_access;
use crate::settings::GlobalSettings;

pub async fn run(args: &CleanArgs, settings: &GlobalSettings) -> Result<(), CliError> {
    if !args.force {
        console::warn(prompt(args.kind));
        console::confirm_continue()?;
    }
    let reference = registry_access::parse_reference(&args.image)?;
    let client = registry_access::client(&args.registry, settings)?;
    let digest = signatures::resolve_digest(&client, &reference, Access::Push)
        .await
        .map_err(|error| match error {
            ResolveError::TagNotFound { source } | ResolveError::Registry { source } => {
                CliError::new(format!("resolving digest: {source}"))
            }
        })?;
    let suffixes: &[&str] = match args.kind {
        CleanType::Signature => &["sig"],
        CleanType::Attestation => &["att"],
        CleanType::Sbom => &["sbom"],
        CleanType::Referrer => &[],
        CleanType::All => &["sig", "att", "sbom"],
    };
    let repository = registry_access::signature_repository(reference.repository())?;
    for suffix in suffixes {
        let tag = format!("{}.{suffix}", digest.tag_form());
        let target = format!("{repository}:{tag}");
        match delete(&client, &repository, &tag).await {
            Ok(true) => console::info(format_args!("Removed {target} from {}", args.image)),
            Ok(false) => {}
            Err(error) => eprintln!("could not delete {target} from {}:\n{error}", args.image),
        }
    }
    if args.kind != CleanType::Sbom {
        clean_bundles(&client, &repository, &digest, args).await?;
    }
    Ok(())
}

/// Removes the bundle referrers `args.kind` names: first from the fallback index (as cosign
/// does, so nothing lists a deleted manifest for long), then the manifests themselves.
async fn clean_bundles(
    client: &RegistryClient,
    repository: &cosign_core::image::reference::Repository,
    digest: &cosign_core::digest::Digest,
    args: &CleanArgs,
) -> Result<(), CliError> {
    let (found, source) = bundles::bundle_referrers(client, repository, digest, Access::Push)
        .await
        .map_err(|error| CliError::new(error.to_string()))?;
    let doomed: Vec<_> = found
        .into_iter()
        .filter(|bundle| match args.kind {
            CleanType::Signature => bundle.is_signature(),
            CleanType::Attestation => !bundle.is_signature(),
            CleanType::Referrer | CleanType::All => true,
            CleanType::Sbom => false,
        })
        .map(|bundle| bundle.manifest_digest)
        .collect();
    if doomed.is_empty() {
        return Ok(());
    }
    if source == ReferrersSource::FallbackTag {
        let index = format!("{repository}:{}", digest.tag_form());
        match referrers::forget(client, repository, digest, &doomed).await {
            Ok(Forgotten::Deleted(index_digest)) => console::info(format_args!(
                "Removed {repository}@{index_digest} from {}",
                args.image
            )),
            Ok(Forgotten::Rewritten | Forgotten::Nothing) => {}
            Err(error) => eprintln!("could not delete {index} from {}:\n{error}", args.image),
        }
    }
    for manifest in doomed {
        let target = format!("{repository}@{manifest}");
        let (registry, path) = (repository.registry(), repository.path());
        match client
            .delete_manifest(registry, path, &manifest.to_string())
            .await
        {
            Ok(()) => console::info(format_args!("Removed {target} from {}", args.image)),
            Err(error) if error.is_not_found() => {}
            Err(error) => eprintln!("could not delete {target} from {}:\n{error}", args.image),
        }
    }
    Ok(())
}

/// Deletes a tag's manifest: by tag, or, where the registry refuses that (distribution answers
/// 400 or 405), by its digest. `false` if there was nothing to delete.
async fn delete(
    client: &RegistryClient,
    repository: &cosign_core::image::reference::Repository,
    tag: &str,
) -> Result<bool, RegistryError> {
    let (registry, path) = (repository.registry(), repository.path());
    match client.delete_manifest(registry, path, tag).await {
        Ok(()) => Ok(true),
        Err(error) if error.is_not_found() => Ok(false),
        Err(error) if matches!(error.status(), Some(400 | 405)) => {
            let Some(manifest) = client
                .get_manifest(registry, path, tag, Access::Push)
                .await?
            else {
                return Ok(false);
            };
            match client
                .delete_manifest(registry, path, &manifest.digest.to_string())
                .await
            {
                Ok(()) => Ok(true),
                Err(error) if error.is_not_found() => Ok(false),
                Err(error) => Err(error),
            }
        }
        Err(error) => Err(error),
    }
}

fn prompt(kind: CleanType) -> &'static str {
    match kind {
        CleanType::Signature => "this will remove all signatures from the image",
        CleanType::Sbom => "this will remove all SBOMs from the image",
        CleanType::Attestation => "this will remove all attestations from the image",
        CleanType::Referrer => {
            "this will remove all referrer attestations and/or signatures from the image"
        }
        CleanType::All => "this will remove all signatures, SBOMs and attestations from the image",
    }
}
