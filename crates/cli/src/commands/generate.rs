//! `cosign generate` (deprecated in cosign 3.1): the simple-signing payload `sign` would sign
//! for an image, unsigned, on standard output without a trailing newline.

use cosign_core::image::simple_signing;
use cosign_oci::Access;

use crate::args::GenerateArgs;
use crate::console::Console;
use crate::error::CliError;
use crate::registry_access;
use crate::settings::GlobalSettings;

pub async fn run(
    args: &GenerateArgs,
    settings: &GlobalSettings,
    console: &mut Console,
) -> Result<(), CliError> {
    let annotations = registry_access::parse_annotations(&args.annotations)?;
    let registry_access::ResolvedImage {
        reference, digest, ..
    } = registry_access::resolve(&args.image, &args.registry, settings, Access::Pull).await?;
    let payload =
        simple_signing::payload(&reference.repository().to_string(), &digest, &annotations);
    console.out(&payload)
}
