//! `cosign download attestation`: each attestation of an image as one JSON line, as cosign 3.1
//! prints them: the Sigstore bundles among its referrers first (compact bundle JSON), then the
//! layers of the legacy `sha256-<hex>.att` image as `{"payloadType","payload","signatures"}`;
//! `--predicate-type` keeps those whose statement has that type (and makes finding none an
//! error). Nothing is verified: `verify-attestation` does that.

use base64::Engine as _;
use cosign_core::bundle::attestation;
use cosign_core::bundle::dsse::StringEnvelope;
use cosign_core::bundle::in_toto::Statement;
use cosign_core::bundle::Bundle;
use cosign_core::digest::Digest;
use cosign_core::image::legacy_signature::Attachment;
use cosign_core::image::reference::ImageReference;
use cosign_oci::{signatures, Access, RegistryClient};

use crate::args::DownloadAttestationArgs;
use crate::console::Console;
use crate::error::CliError;
use crate::registry_access;
use crate::settings::GlobalSettings;

pub async fn run(
    args: &DownloadAttestationArgs,
    settings: &GlobalSettings,
    console: &mut Console,
) -> Result<(), CliError> {
    let predicate_type = match &args.predicate_type {
        Some(name) if !name.is_empty() => Some(
            attestation::predicate_type_uri(name)
                .map_err(|error| CliError::new(error.to_string()))?,
        ),
        _ => None,
    };
    let reference = registry_access::parse_reference(&args.image)?;
    let client = registry_access::client(&args.registry, settings)?;
    let digest = image_digest(&client, &reference, args.platform.as_deref()).await?;
    let repository = registry_access::signature_repository(reference.repository())?;
    let (bundles, legacy) = tokio::join!(
        cosign_oci::bundles::attached_bundles(&client, &repository, &digest, Access::Pull),
        signatures::fetch_attachment_manifest(
            &client,
            &repository,
            &digest,
            Attachment::Attestations,
            Access::Pull
        ),
    );
    let wanted = |statement: Option<Statement>| match &predicate_type {
        None => true,
        Some(wanted) => statement.is_some_and(|statement| &statement.predicate_type == wanted),
    };
    let mut out = Vec::new();
    let (bundles, _) = bundles.map_err(|error| CliError::new(error.to_string()))?;
    for attached in bundles {
        let Ok(bytes) = attached.bundle else { continue };
        let Ok(bundle) = Bundle::parse(&bytes) else {
            continue;
        };
        let statement = bundle
            .dsse_envelope
            .as_ref()
            .and_then(|envelope| Statement::parse(&envelope.payload).ok());
        if !wanted(statement) {
            continue;
        }
        out.extend_from_slice(&bundle.to_json());
        out.push(b'\n');
    }
    let manifest = legacy.map_err(|error| CliError::new(error.to_string()))?;
    if let Some((_, manifest)) = manifest {
        let payloads = signatures::fetch_payloads(&client, &repository, &manifest.layers).await;
        for payload in payloads {
            let payload = payload.map_err(|error| CliError::new(error.to_string()))?;
            let envelope: StringEnvelope = serde_json::from_slice(&payload)
                .map_err(|error| CliError::new(format!("unmarshaling payload: {error}")))?;
            if predicate_type.is_some() {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(&envelope.payload)
                    .map_err(|error| CliError::new(format!("decoding payload: {error}")))?;
                let statement = Statement::parse(&decoded)
                    .map_err(|error| CliError::new(format!("unmarshaling statement: {error}")))?;
                if !wanted(Some(statement)) {
                    continue;
                }
            }
            out.extend_from_slice(envelope.to_go_json().as_bytes());
            out.push(b'\n');
        }
    }
    if let (Some(predicate_type), true) = (&predicate_type, out.is_empty()) {
        return Err(CliError::new(format!(
            "no attestations with predicate type '{predicate_type}' found"
        )));
    }
    console.out(&out)
}

/// The image's digest, or with `--platform` that of the index's image for the platform.
pub(crate) async fn image_digest(
    client: &RegistryClient,
    reference: &ImageReference,
    platform: Option<&str>,
) -> Result<Digest, CliError> {
    let Some(platform) = platform else {
        return registry_access::resolve_with(client, reference, Access::Pull).await;
    };
    let root = signatures::fetch_manifest(client, reference, Access::Pull)
        .await
        .map_err(|error| CliError::new(error.to_string()))?;
    let chosen =
        registry_access::select_platform(client, reference.repository(), &root, platform).await?;
    Ok(chosen.digest)
}
