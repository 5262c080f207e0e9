//! `cosign sign --key`: signs images in the legacy format (a `sha256-<hex>.sig` signature
//! image), appending to existing signatures without losing concurrent signers' work. The key
//! is decrypted once, whatever the number of images.

use std::collections::BTreeMap;

use cosign_core::bundle::{dsse, in_toto};
use cosign_core::image::legacy_signature::{self, ManifestFlavor};
use cosign_core::image::manifest::{media_types, Descriptor, ImageIndex};
use cosign_core::image::reference::{ImageReference, Repository, Target};
use cosign_core::image::referrer;
use cosign_core::image::simple_signing;
use cosign_oci::referrers;
use cosign_oci::signatures::{self, AppendOutcome, ResolveError};
use cosign_oci::{Access, RegistryClient};
use futures::StreamExt as _;

use crate::args::SignArgs;
use crate::console;
use crate::error::CliError;
use crate::key_files::write_file;
use crate::registry_access;
use crate::settings::GlobalSettings;
use crate::signer::{Choice, Signer};

pub(crate) const TAG_REFERENCE_MESSAGE: &str =
    "uses a tag, not a digest, to identify the image to sign.
    This can lead you to sign a different image than the intended one. Please use a
    digest (example.com/ubuntu@sha256:abc123...) rather than tag
    (example.com/ubuntu:latest) for the input to cosign. The ability to refer to
    images by tag will be removed in a future release.
";

pub async fn run(args: &SignArgs, settings: &GlobalSettings) -> Result<(), CliError> {
    if args.new_bundle_format == Some(false) && args.bundle.is_some() {
        return Err(CliError::usage(
            "--bundle writes a Sigstore bundle: drop --new-bundle-format=false",
        ));
    }
    if args.new_bundle_format != Some(false)
        && (args.payload.is_some()
            || args.output_payload.is_some()
            || args.output_signature.is_some())
    {
        return Err(CliError::usage(
            "--payload, --output-payload and --output-signature apply to the legacy format: add --new-bundle-format=false",
        ));
    }
    let annotations = registry_access::parse_annotations(&args.annotations)?;
    let references = registry_access::parse_references(&args.images)?;
    let signer = Signer::choose(Choice {
        key: args.key.as_deref(),
        services: &args.services,
        certificate: &args.certificate,
        use_signing_config: args.use_signing_config,
        tlog_upload: args.tlog_upload,
        yes: args.yes,
        refuse_keyless_legacy: false,
        verb: "sign",
        key_context: "signing: getting signer: reading key",
    })
    .await?;
    let payload_override = match &args.payload {
        Some(path) => Some(
            std::fs::read(path).map_err(|error| crate::error::io_error("open", path, &error))?,
        ),
        None => None,
    };

    let client = registry_access::client(&args.registry, settings)?;
    for_each_image(&references, |reference, mut messages| {
        let (client, annotations, signer) = (&client, &annotations, &signer);
        let payload = payload_override.as_deref();
        async move {
            let targets = resolve_targets(client, reference, args.recursive).await?;
            for target in targets {
                sign_one(
                    client,
                    reference,
                    target,
                    signer,
                    annotations,
                    payload,
                    args,
                    &mut messages,
                )
                .await?;
            }
            Ok(messages)
        }
    })
    .await?;
    // Written once every image is signed: a failed run leaves nothing behind.
    if let (Some(certificate), Some(path)) = (signer.certificate_pem(), &args.output_certificate) {
        write_file(path, certificate.as_bytes(), 0o644)?;
    }
    Ok(())
}

/// Runs `work` on each image, [`CONCURRENT_IMAGES`] at a time, and prints each image's
/// messages together, in the order the images were given (starting with cosign's warning for
/// an image named by tag); the first failure, in that order, ends the run.
pub(crate) async fn for_each_image<'a, Work, Done>(
    references: &'a [ImageReference],
    work: Work,
) -> Result<(), CliError>
where
    Work: Fn(&'a ImageReference, Vec<String>) -> Done,
    Done: std::future::Future<Output = Result<Vec<String>, CliError>>,
{
    let mut results = futures::stream::iter(references.iter().map(|reference| {
        let mut messages = Vec::new();
        if let Target::Tag(_) = reference.target() {
            messages.push(format!(
                "WARNING: Image reference {reference} {TAG_REFERENCE_MESSAGE}"
            ));
        }
        work(reference, messages)
    }))
    .buffered(CONCURRENT_IMAGES);
    while let Some(result) = results.next().await {
        for message in result? {
            console::info(message);
        }
    }
    Ok(())
}

/// How many images are signed at once. Each image's push is a dozen round trips plus a settle
/// wait before the fallback index is read back (what keeps concurrent signers' entries), so a
/// run is bound by latency, not bandwidth: 32 at once took a 50-image keyless run through 25 ms
/// proxies from 8.0 s (8 at once) and 5.6 s (16) to 3.6 s (`scripts/bench.sh 3 sign`).
const CONCURRENT_IMAGES: usize = 32;

/// The digests to sign for a reference: its own, and with `-r` each manifest of an index.
pub(crate) async fn resolve_targets(
    client: &RegistryClient,
    reference: &ImageReference,
    recursive: bool,
) -> Result<Vec<Descriptor>, CliError> {
    let manifest = signatures::fetch_manifest(client, reference, Access::Push)
        .await
        .map_err(|error| resolve_error(reference, error))?;
    let mut targets = vec![Descriptor {
        media_type: manifest.media_type.clone(),
        size: manifest.bytes.len() as u64,
        digest: manifest.digest.clone(),
        urls: None,
        annotations: None,
        platform: None,
        artifact_type: None,
    }];
    if recursive && media_types::is_index(&manifest.media_type) {
        let index =
            ImageIndex::parse(&manifest.bytes).map_err(|error| CliError::new(error.to_string()))?;
        targets.extend(index.manifests.into_iter().map(|entry| Descriptor {
            annotations: None,
            platform: None,
            artifact_type: None,
            ..entry
        }));
    }
    Ok(targets)
}

/// cosign 3's default: an in-toto statement in a DSSE envelope, in a Sigstore bundle, pushed
/// as an OCI 1.1 referrer of the image (or listed under the fallback tag).
#[allow(clippy::too_many_arguments)]
async fn sign_with_bundle(
    client: &RegistryClient,
    reference: &ImageReference,
    target: Descriptor,
    signer: &Signer,
    annotations: &BTreeMap<String, String>,
    args: &SignArgs,
    messages: &mut Vec<String>,
) -> Result<(), CliError> {
    let statement = in_toto::image_signature_statement(&target.digest, annotations);
    let envelope = dsse::sign(signer.key(), dsse::IN_TOTO_PAYLOAD_TYPE, statement)?;
    let bundle = signer
        .envelope_bundle(envelope, &target.digest)
        .await?
        .to_json();
    if let Some(path) = &args.bundle {
        write_file(path, &bundle, 0o600)?;
    }
    if !args.upload {
        return Ok(());
    }
    let repository = push_destination(reference, messages)?;
    let subject_digest = target.digest.clone();
    let manifest = referrer::bundle_referrer(
        &bundle,
        in_toto::COSIGN_SIGN_PREDICATE,
        target,
        &crate::time::rfc3339_utc_now(),
    );
    let mode = match args.registry_referrers_mode {
        None => referrers::ReferrersMode::Auto,
        Some(crate::args::ReferrersModeArg::Legacy) => referrers::ReferrersMode::FallbackTag,
        Some(crate::args::ReferrersModeArg::Oci11) => referrers::ReferrersMode::Api,
    };
    referrers::push(
        client,
        &repository,
        &subject_digest,
        &[referrer::EMPTY_CONFIG, &bundle],
        &manifest,
        mode,
    )
    .await
    .map_err(|error| CliError::new(format!("signing [{reference}]: {error}")))?;
    Ok(())
}

/// Where the signature goes (the image's repository, or `COSIGN_REPOSITORY`), announced as
/// cosign 3 announces it: a spinner on a terminal, `Signing artifact...` otherwise, then
/// `Pushing signature to: <repository>`.
fn push_destination(
    reference: &ImageReference,
    messages: &mut Vec<String>,
) -> Result<Repository, CliError> {
    let repository = registry_access::signature_repository(reference.repository())?;
    if !rustix::termios::isatty(std::io::stderr()) {
        messages.push("Signing artifact...".to_owned());
    }
    messages.push(format!("Pushing signature to: {repository}"));
    Ok(repository)
}

fn resolve_error(reference: &ImageReference, error: ResolveError) -> CliError {
    match error {
        ResolveError::TagNotFound { source } => {
            CliError::new(format!("signing [{reference}]: accessing entity: {source}"))
        }
        ResolveError::Registry { source } => {
            CliError::new(format!("signing [{reference}]: accessing entity: {source}"))
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn sign_one(
    client: &RegistryClient,
    reference: &ImageReference,
    target: Descriptor,
    signer: &Signer,
    annotations: &BTreeMap<String, String>,
    payload_override: Option<&[u8]>,
    args: &SignArgs,
    messages: &mut Vec<String>,
) -> Result<(), CliError> {
    if args.new_bundle_format != Some(false) {
        return sign_with_bundle(
            client,
            reference,
            target,
            signer,
            annotations,
            args,
            messages,
        )
        .await;
    }
    let key = signer.key();
    let digest = &target.digest;
    let payload = match payload_override {
        Some(bytes) => bytes.to_vec(),
        None => simple_signing::payload(&reference.repository().to_string(), digest, annotations),
    };
    let signature = key.sign_payload(&payload)?;
    if let Some(path) = &args.output_signature {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&signature);
        write_file(path, encoded.as_bytes(), 0o644)?;
    }
    if let Some(path) = &args.output_payload {
        write_file(path, &payload, 0o644)?;
    }
    if !args.upload {
        return Ok(());
    }
    let repository = push_destination(reference, messages)?;
    let layer = signer.legacy_layer(&payload, &signature).await?;
    let public_key = key.public_key();
    let flavor = if std::env::var("COSIGN_DOCKER_MEDIA_TYPES")
        .is_ok_and(|value| value == "1" || value == "true")
    {
        ManifestFlavor::Docker
    } else {
        ManifestFlavor::Oci
    };
    let is_duplicate = |candidate: &cosign_core::image::manifest::Descriptor| {
        legacy_signature::is_same_signature(candidate, &layer, &payload, &public_key)
    };
    let outcome = signatures::append_legacy_signature(
        client,
        &repository,
        digest,
        &payload,
        &layer,
        signatures::LegacyAppend {
            attachment: legacy_signature::Attachment::Signatures,
            flavor,
            is_duplicate: &is_duplicate,
            replaces: &|_| false,
        },
    )
    .await
    .map_err(|error| CliError::new(format!("signing [{reference}]: {error}")))?;
    if outcome == AppendOutcome::AlreadyPresent {
        console::debug(format_args!(
            "{reference}: the same signature is already there"
        ));
    }
    Ok(())
}
