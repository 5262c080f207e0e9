//! `cosign tree`: what is attached to an image. Legacy signatures for now; attestations,
//! SBOMs and OCI referrers arrive with the bundle format.

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
    let signatures =
        signatures::fetch_signature_manifest(&client, &repository, &digest, Access::Pull)
            .await
            .map_err(|error| CliError::new(error.to_string()))?;
    let Some((_, manifest)) = signatures.filter(|(_, manifest)| !manifest.layers.is_empty()) else {
        return console.out(
            format!(
                "No Supply Chain Security Related Artifacts found for image {},\n start creating one with simply running$ cosign sign <img>",
                args.image
            )
            .as_bytes(),
        );
    };
    let mut text = format!(
        "└── 🔐 Signatures for an image tag: {repository}:{}\n",
        cosign_core::legacy_signature::signature_tag(&digest)
    );
    let count = manifest.layers.len();
    for (index, layer) in manifest.layers.iter().enumerate() {
        let branch = if index + 1 == count {
            "└──"
        } else {
            "├──"
        };
        text.push_str(&format!("   {branch} 🍒 {}\n", layer.digest));
    }
    console.out(text.as_bytes())
}
