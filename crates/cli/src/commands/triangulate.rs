//! `cosign triangulate`: where cosign keeps an image's signatures (or attestations, SBOMs),
//! or with `--type digest` the image's own digest reference.

use cosign_oci::signatures::{self, ResolveError};
use cosign_oci::Access;

use crate::args::{AttachmentType, TriangulateArgs};
use crate::console::Console;
use crate::error::CliError;
use crate::registry_access;
use crate::settings::GlobalSettings;

pub async fn run(
    args: &TriangulateArgs,
    settings: &GlobalSettings,
    console: &mut Console,
) -> Result<(), CliError> {
    let reference = registry_access::parse_reference(&args.image)?;
    let client = registry_access::client(&args.registry, settings)?;
    let digest = signatures::resolve_digest(&client, &reference, Access::Pull)
        .await
        .map_err(|error| match error {
            ResolveError::TagNotFound { source } | ResolveError::Registry { source } => {
                CliError::new(source.to_string())
            }
        })?;
    let line = match args.kind {
        AttachmentType::Digest => format!("{}@{digest}", reference.repository()),
        kind => {
            let suffix = match kind {
                AttachmentType::Attestation => "att",
                AttachmentType::Sbom => "sbom",
                _ => "sig",
            };
            let repository = registry_access::signature_repository(reference.repository())?;
            format!("{repository}:{}.{suffix}", digest.tag_form())
        }
    };
    console.out(format!("{line}\n").as_bytes())
}
