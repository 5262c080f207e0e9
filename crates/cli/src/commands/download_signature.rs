//! `cosign download signature`: each signature of an image as one JSON line: cosign 3's
//! Sigstore bundles (attached as OCI referrers) as compact bundle JSON, as cosign 3.1 prints
//! them, then the legacy `.sig` signatures in cosign's `SignedPayload` shape (cosign 3.1 stops
//! printing those once a bundle exists; both formats are printed here, as `verify` reads both).
//! Attestation bundles are left to `download attestation`.

use base64::Engine as _;
use cosign_core::bundle::Bundle;
use cosign_core::image::legacy_signature::{
    BUNDLE_ANNOTATION, RFC3161_TIMESTAMP_ANNOTATION, SIGNATURE_ANNOTATION,
};
use cosign_oci::signatures;
use cosign_oci::Access;

use crate::args::DownloadArgs;
use crate::console::Console;
use crate::error::CliError;
use crate::registry_access;
use crate::settings::GlobalSettings;

pub async fn run(
    args: &DownloadArgs,
    settings: &GlobalSettings,
    console: &mut Console,
) -> Result<(), CliError> {
    let registry_access::ResolvedImage {
        reference,
        client,
        digest,
    } = registry_access::resolve(&args.image, &args.registry, settings, Access::Pull).await?;
    let repository = registry_access::signature_repository(reference.repository())?;
    let (bundles, legacy) = tokio::join!(
        cosign_oci::bundles::attached_bundles(&client, &repository, &digest, Access::Pull),
        signatures::fetch_signature_manifest(&client, &repository, &digest, Access::Pull),
    );
    let (bundles, _) = bundles.map_err(|error| CliError::new(error.to_string()))?;
    let mut out = String::new();
    for attached in bundles.into_iter().filter(|bundle| bundle.is_signature()) {
        let bytes = attached
            .bundle
            .map_err(|error| CliError::new(error.to_string()))?;
        let bundle = Bundle::parse(&bytes).map_err(|error| {
            CliError::new(format!(
                "{repository}@{}: {error}",
                attached.manifest_digest
            ))
        })?;
        out.push_str(&String::from_utf8_lossy(&bundle.to_json()));
        out.push('\n');
    }
    let manifest = legacy
        .map_err(|error| CliError::new(error.to_string()))?
        .map(|(_, manifest)| manifest)
        .filter(|manifest| !manifest.layers.is_empty());
    let Some(manifest) = manifest else {
        if out.is_empty() {
            return Err(CliError::new(format!(
                "{}: no signatures associated",
                args.image
            )));
        }
        return console.out(out.as_bytes());
    };
    let payloads = signatures::fetch_payloads(&client, &repository, &manifest.layers).await;
    for (layer, payload) in manifest.layers.iter().zip(payloads) {
        let payload = payload.map_err(|error| CliError::new(error.to_string()))?;
        let json_or_null = |key: &str| {
            layer
                .annotation(key)
                .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
                .map_or_else(|| "null".to_owned(), |value| value.to_string())
        };
        out.push_str(&format!(
            r#"{{"Base64Signature":{},"Payload":"{}","Cert":null,"Chain":null,"Bundle":{},"RFC3161Timestamp":{}}}"#,
            cosign_core::go_json::string(layer.annotation(SIGNATURE_ANNOTATION).unwrap_or_default()),
            base64::engine::general_purpose::STANDARD.encode(&payload),
            json_or_null(BUNDLE_ANNOTATION),
            json_or_null(RFC3161_TIMESTAMP_ANNOTATION),
        ));
        out.push('\n');
    }
    console.out(out.as_bytes())
}
