//! `cosign triangulate`: where cosign keeps an image's signatures (or attestations, SBOMs),
//! or with `--type digest` the image's own digest reference.

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
    let registry_access::ResolvedImage {
        reference, digest, ..
    } = registry_access::resolve(&args.image, &args.registry, settings, Access::Pull).await?;
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
