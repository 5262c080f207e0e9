//! `cosign attach attestation --attestation FILE... IMAGE`: attestations signed elsewhere,
//! attached as cosign does: a file holding a Sigstore bundle becomes an OCI 1.1 referrer (the
//! fallback tag where the registry has no referrers API); a file of DSSE envelopes (one JSON
//! value after another) adds each as a layer of the legacy `sha256-<hex>.att` image, appended
//! without losing concurrent writers' layers. Nothing is verified here: `verify-attestation`
//! does that.

use std::path::Path;

use cosign_core::bundle::dsse::{self, StringEnvelope};
use cosign_core::bundle::in_toto::Statement;
use cosign_core::bundle::{Bundle, BUNDLE_SIZE_LIMIT};
use cosign_core::digest::Digest;
use cosign_core::image::legacy_signature::{self, Attachment, ManifestFlavor};
use cosign_core::image::manifest::Descriptor;
use cosign_core::image::reference::{ImageReference, Target};
use cosign_core::image::referrer;
use cosign_oci::signatures::{self, LegacyAppend};
use cosign_oci::{referrers, RegistryClient};

use crate::args::AttachAttestationArgs;
use crate::commands::sign::{resolve_targets, TAG_REFERENCE_MESSAGE};
use crate::console;
use crate::error::CliError;
use crate::key_files::read_limited_to;
use crate::registry_access;
use crate::settings::GlobalSettings;

pub async fn run(args: &AttachAttestationArgs, settings: &GlobalSettings) -> Result<(), CliError> {
    let reference = registry_access::parse_reference(&args.image)?;
    let client = registry_access::client(&args.registry, settings)?;
    let mut target = None;
    for path in &args.attestations {
        // cosign prints this without a line break.
        console::info_partial(format_args!("Using payload from: {}", path.display()));
        if let Target::Tag(_) = reference.target() {
            console::warn(format_args!(
                "Image reference {reference} {TAG_REFERENCE_MESSAGE}"
            ));
        }
        let image = match &target {
            Some(image) => Clone::clone(image),
            None => {
                let resolved = resolve_targets(&client, &reference, false)
                    .await?
                    .into_iter()
                    .next()
                    .ok_or_else(|| CliError::new(format!("{reference}: no image")))?;
                target = Some(resolved.clone());
                resolved
            }
        };
        let bytes = read_limited_to(path, BUNDLE_SIZE_LIMIT as u64)?;
        match Bundle::parse(&bytes) {
            Ok(bundle) => attach_bundle(&client, &reference, image, &bundle).await?,
            Err(_) => attach_envelopes(&client, &reference, &image.digest, path, &bytes)
                .await
                .map_err(|error| {
                    error.context(format!("attaching payload from {}", path.display()))
                })?,
        }
    }
    Ok(())
}

/// A Sigstore bundle with a DSSE envelope, attached as a referrer announcing its predicate type.
async fn attach_bundle(
    client: &RegistryClient,
    reference: &ImageReference,
    image: Descriptor,
    bundle: &Bundle,
) -> Result<(), CliError> {
    let envelope = bundle
        .dsse_envelope
        .as_ref()
        .ok_or_else(|| CliError::new("bundle does not have DSSE envelope"))?;
    let statement = Statement::parse(&envelope.payload)
        .map_err(|_| CliError::new("unable to understand bundle envelope statement"))?;
    let repository = registry_access::signature_repository(reference.repository())?;
    let digest = image.digest.clone();
    let bytes = bundle.to_json();
    let manifest = referrer::bundle_referrer(
        &bytes,
        &statement.predicate_type,
        image,
        &crate::time::rfc3339_utc_now(),
    );
    referrers::push(
        client,
        &repository,
        &digest,
        &[referrer::EMPTY_CONFIG, &bytes],
        &manifest,
        referrers::ReferrersMode::Auto,
    )
    .await
    .map(|_| ())
    .map_err(|error| CliError::new(format!("writing bundle: {error}")))
}

/// Each DSSE envelope of the file, as a layer of the `.att` image.
async fn attach_envelopes(
    client: &RegistryClient,
    reference: &ImageReference,
    digest: &Digest,
    path: &Path,
    bytes: &[u8],
) -> Result<(), CliError> {
    let repository = registry_access::signature_repository(reference.repository())?;
    let stream = serde_json::Deserializer::from_slice(bytes).into_iter::<StringEnvelope>();
    for envelope in stream {
        let envelope = envelope.map_err(|error| {
            CliError::new(format!("{}: not a DSSE envelope: {error}", path.display()))
        })?;
        if envelope.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
            return Err(CliError::new(format!(
                "invalid payloadType {} on envelope. Expected {}",
                envelope.payload_type,
                dsse::IN_TOTO_PAYLOAD_TYPE
            )));
        }
        if envelope.signatures.is_empty() {
            return Err(CliError::new(
                "could not attach attestation without having signatures",
            ));
        }
        let layer_bytes = envelope.to_go_json().into_bytes();
        let layer = legacy_signature::attestation_layer(&layer_bytes, None);
        signatures::append_legacy_signature(
            client,
            &repository,
            digest,
            &layer_bytes,
            &layer,
            LegacyAppend {
                attachment: Attachment::Attestations,
                flavor: ManifestFlavor::Oci,
                is_duplicate: &|_| false,
                replaces: &|_| false,
            },
        )
        .await
        .map_err(|error| CliError::new(error.to_string()))?;
    }
    Ok(())
}
