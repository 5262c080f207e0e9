//! `cosign verify --key`: checks the legacy signatures of images (many at once, concurrently),
//! printing what cosign prints and exiting with its codes (10 no signatures, 11 tag not found,
//! 12 no matching signatures).
//!
//! Round trips per image: resolve the tag (one `HEAD`; none for a digest), the signature
//! manifest, then every payload blob in parallel.

use std::collections::BTreeMap;

use cosign_core::digest::Digest;
use cosign_core::keys::PublicKey;
use cosign_core::legacy_signature::{verify_layer, LayerCheck};
use cosign_core::reference::ImageReference;
use cosign_core::simple_signing::SimpleSigningPayload;
use cosign_oci::signatures::{self, ResolveError};
use cosign_oci::{Access, RegistryClient};
use futures::StreamExt as _;

use crate::args::{OutputFormat, VerifyArgs};
use crate::console::{self, Console};
use crate::error::{CliError, ExitCode};
use crate::key_files::load_key_reference;
use crate::registry_access;
use crate::settings::GlobalSettings;

/// What verifying one image gave: its verified payloads (raw bytes and parsed).
struct Verified {
    payloads: Vec<(Vec<u8>, SimpleSigningPayload)>,
}

pub async fn run(
    args: &VerifyArgs,
    settings: &GlobalSettings,
    console: &mut Console,
) -> Result<(), CliError> {
    let Some(key_reference) = &args.key else {
        return Err(CliError::not_supported(
            "keyless verification (no --key)",
            "verify with the signer's public key: `cosign verify --key cosign.pub --insecure-ignore-tlog IMAGE`",
        ));
    };
    if args.new_bundle_format == Some(true) {
        return Err(CliError::not_supported(
            "--new-bundle-format=true (Sigstore bundles as OCI referrers)",
            "verify legacy signatures: drop the flag or pass --new-bundle-format=false",
        ));
    }
    if args.local_image.is_some() {
        return Err(CliError::not_supported(
            "--local-image",
            "verify the image in a registry",
        ));
    }
    if args.trusted_root.is_some() {
        return Err(CliError::not_supported(
            "--trusted-root",
            "verify key-based signatures with --insecure-ignore-tlog",
        ));
    }
    if args.insecure_ignore_tlog {
        console::warn("Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature.");
    } else {
        return Err(CliError::new(
            "verifying the transparency log needs Sigstore's trusted root (from its TUF repository, over the network), which cosign-rs cannot fetch or check yet",
        )
        .with_hint("for signatures made with a key, pass --insecure-ignore-tlog to verify them offline"));
    }
    let key_bytes = load_key_reference(key_reference)?;
    let key = PublicKey::from_pem(&key_bytes).map_err(CliError::from)?;
    let annotations = registry_access::parse_annotations(&args.annotations)?;
    let wanted = (!args.annotations.is_empty()).then_some(&annotations);
    let references = args
        .images
        .iter()
        .map(|image| registry_access::parse_reference(image))
        .collect::<Result<Vec<_>, _>>()?;
    let client = registry_access::client(&args.registry, settings)?;

    // All images at once (up to --max-workers), reported in the order given.
    let workers = args.max_workers.max(1);
    let mut results = futures::stream::iter(references.iter().map(|reference| {
        let client = &client;
        let key = &key;
        async move { verify_image(client, reference, key, wanted, args.check_claims).await }
    }))
    .buffered(workers);

    let mut index = 0;
    while let Some(result) = results.next().await {
        let reference = references
            .get(index)
            .ok_or_else(|| CliError::new("internal: result without image"))?;
        index += 1;
        let verified = result?;
        print_header(reference, args, wanted.is_some());
        print_payloads(console, &verified, args.output)?;
    }
    console::debug(format_args!("{} registry requests", client.request_count()));
    Ok(())
}

async fn verify_image(
    client: &RegistryClient,
    reference: &ImageReference,
    key: &PublicKey,
    annotations: Option<&BTreeMap<String, String>>,
    check_claims: bool,
) -> Result<Verified, CliError> {
    let digest = signatures::resolve_digest(client, reference, Access::Pull)
        .await
        .map_err(|error| match error {
            ResolveError::TagNotFound { source } => {
                CliError::new(format!("image tag not found: {source}"))
                    .with_exit_code(ExitCode::TagNotFound)
            }
            ResolveError::Registry { source } => CliError::new(source.to_string()),
        })?;
    let repository = registry_access::signature_repository(reference.repository())?;
    let Some((_, manifest)) =
        signatures::fetch_signature_manifest(client, &repository, &digest, Access::Pull)
            .await
            .map_err(|error| CliError::new(error.to_string()))?
    else {
        return Err(no_signatures());
    };
    if manifest.layers.is_empty() {
        return Err(no_signatures());
    }
    let payloads = signatures::fetch_payloads(client, &repository, &manifest.layers).await;
    let mut verified = Vec::new();
    let mut failures = Vec::new();
    for (layer, payload) in manifest.layers.iter().zip(payloads) {
        let outcome = payload
            .map_err(|error| error.to_string())
            .and_then(|payload| {
                verify_layer(
                    layer,
                    &payload,
                    check(key, &digest, annotations, check_claims),
                )
                .map(|parsed| (payload, parsed))
                .map_err(|error| error.to_string())
            });
        match outcome {
            Ok(ok) => verified.push(ok),
            Err(message) => failures.push(message),
        }
    }
    if verified.is_empty() {
        return Err(
            CliError::new(format!("no matching signatures: {}", failures.join("\n ")))
                .with_exit_code(ExitCode::NoMatchingSignatures),
        );
    }
    Ok(Verified { payloads: verified })
}

fn check<'a>(
    key: &'a PublicKey,
    digest: &'a Digest,
    annotations: Option<&'a BTreeMap<String, String>>,
    check_claims: bool,
) -> LayerCheck<'a> {
    LayerCheck {
        key,
        image_digest: digest,
        annotations,
        check_claims,
    }
}

fn no_signatures() -> CliError {
    CliError::new("no signatures found").with_exit_code(ExitCode::NoSignatures)
}

fn print_header(reference: &ImageReference, args: &VerifyArgs, annotations: bool) {
    console::info(format_args!("\nVerification for {reference} --"));
    console::info("The following checks were performed on each of these signatures:");
    if args.check_claims {
        if annotations {
            console::info("  - The specified annotations were verified.");
        }
        console::info("  - The cosign claims were validated");
    }
    console::info("  - The signatures were verified against the specified public key");
}

fn print_payloads(
    console: &mut Console,
    verified: &Verified,
    output: OutputFormat,
) -> Result<(), CliError> {
    match output {
        OutputFormat::Text => {
            for (raw, _) in &verified.payloads {
                let mut line = raw.clone();
                line.push(b'\n');
                console.out(&line)?;
            }
            Ok(())
        }
        OutputFormat::Json => {
            let items: Vec<String> = verified
                .payloads
                .iter()
                .map(|(_, parsed)| payload_json(parsed))
                .collect();
            console.out(format!("\n[{}]\n", items.join(",")).as_bytes())
        }
    }
}

/// cosign re-encodes each payload through its `SimpleContainerImage` type: only these fields,
/// in this order, `optional` with sorted keys or `null`.
fn payload_json(payload: &SimpleSigningPayload) -> String {
    use cosign_core::go_json;
    let optional = match &payload.optional {
        None => "null".to_owned(),
        Some(map) => {
            let sorted: BTreeMap<&String, &serde_json::Value> = map.iter().collect();
            String::from_utf8(go_json::to_vec(&sorted).unwrap_or_default()).unwrap_or_default()
        }
    };
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":{}}},"image":{{"docker-manifest-digest":{}}},"type":{}}},"optional":{optional}}}"#,
        go_json::string(&payload.critical.identity.docker_reference),
        go_json::string(&payload.critical.image.docker_manifest_digest),
        go_json::string(&payload.critical.kind),
    )
}
