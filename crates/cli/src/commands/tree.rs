//! `cosign tree`: what is attached to an image: its legacy `.sig` signatures and its OCI
//! referrers (unless `--experimental-oci11=false` without `--registry-referrers-mode=oci-1-1`,
//! as in cosign).

use cosign_core::image::referrer;
use cosign_oci::referrers;
use cosign_oci::signatures::{self, ResolveError};
use cosign_oci::Access;

use crate::args::TreeArgs;
use crate::console::Console;
use crate::error::CliError;
use crate::registry_access;
use crate::settings::GlobalSettings;

pub async fn run(
    args: &TreeArgs,
    settings: &GlobalSettings,
    console: &mut Console,
) -> Result<(), CliError> {
    let reference = registry_access::parse_reference(&args.image)?;
    let client = registry_access::client(&args.registry, settings)?;
    console.out(
        format!(
            "📦 Supply Chain Security Related artifacts for an image: {}\n",
            args.image
        )
        .as_bytes(),
    )?;
    let digest = signatures::resolve_digest(&client, &reference, Access::Pull)
        .await
        .map_err(|error| match error {
            ResolveError::TagNotFound { source } | ResolveError::Registry { source } => {
                CliError::new(format!("entity not found in registry, error: {source}"))
            }
        })?;
    let repository = registry_access::signature_repository(reference.repository())?;
    let show_referrers = args.experimental_oci11
        || args.registry_referrers_mode == Some(crate::args::ReferrersModeArg::Oci11);
    let (signatures, referrers) = tokio::join!(
        signatures::fetch_signature_manifest(&client, &repository, &digest, Access::Pull),
        async {
            if show_referrers {
                referrers::with_manifests(&client, &repository, &digest, Access::Pull, |_| true)
                    .await
                    .map(|(found, _)| found)
            } else {
                Ok(Vec::new())
            }
        },
    );
    let signatures = signatures.map_err(|error| CliError::new(error.to_string()))?;
    let referrers = referrers.map_err(|error| CliError::new(error.to_string()))?;
    let mut text = String::new();
    if let Some((_, manifest)) = signatures.filter(|(_, manifest)| !manifest.layers.is_empty()) {
        text.push_str(&format!(
            "└── 🔐 Signatures for an image tag: {repository}:{}\n",
            cosign_core::image::legacy_signature::signature_tag(&digest)
        ));
        push_layers(&mut text, &manifest.layers);
    }
    for (entry, manifest) in referrers {
        let manifest = manifest.map_err(|error| CliError::new(error.to_string()))?;
        // cosign skips referrers without an artifact type.
        let Some(kind) = referrer::referrer_kind(&manifest) else {
            continue;
        };
        text.push_str(&format!(
            "└── 🔗 {kind} artifacts via OCI referrer: {repository}@{}\n",
            entry.digest
        ));
        push_layers(&mut text, &manifest.layers);
    }
    if text.is_empty() {
        return console.out(
            format!(
                "No Supply Chain Security Related Artifacts found for image {},\n start creating one with simply running$ cosign sign <img>",
                args.image
            )
            .as_bytes(),
        );
    }
    console.out(text.as_bytes())
}

fn push_layers(text: &mut String, layers: &[cosign_core::image::manifest::Descriptor]) {
    let count = layers.len();
    for (index, layer) in layers.iter().enumerate() {
        let branch = if index + 1 == count {
            "└──"
        } else {
            "├──"
        };
        text.push_str(&format!("   {branch} 🍒 {}\n", layer.digest));
    }
}
