//! `cosign attest`: an in-toto statement about an image (the predicate file typed by
//! `--type`, or a whole `--statement`), signed as a DSSE envelope; pushed as cosign 3 does (a
//! Sigstore bundle attached as an OCI 1.1 referrer, the fallback tag where the registry has no
//! referrers API) or, with `--new-bundle-format=false`, as a layer of the legacy
//! `sha256-<hex>.att` image, appended without losing concurrent writers' layers (`--replace`
//! drops the layers of the same predicate type). `-r` attests each image of an index too, as
//! cosign 2.5 did. The key is decrypted once for all images; without `--key`, one keyless
//! certificate serves them all, each bundle timestamped and logged (bundle format only).

use std::io::Read as _;

use cosign_core::bundle::attestation::{self, PREDICATE_SIZE_LIMIT};
use cosign_core::bundle::dsse;
use cosign_core::bundle::in_toto::Statement;
use cosign_core::image::legacy_signature::{self, Attachment, ManifestFlavor};
use cosign_core::image::manifest::Descriptor;
use cosign_core::image::reference::ImageReference;
use cosign_core::image::referrer;
use cosign_core::UnixTime;
use cosign_oci::signatures::{self, LegacyAppend};
use cosign_oci::{referrers, RegistryClient};

use crate::args::AttestArgs;
use crate::commands::sign::{for_each_image, resolve_targets};
use crate::console;
use crate::error::CliError;
use crate::key_files::write_file;
use crate::registry_access;
use crate::settings::GlobalSettings;
use crate::signer::{Choice, Signer};

/// What is attested: the predicate file (where it came from, its bytes, its type), or a whole
/// statement.
enum Content {
    Predicate {
        source: String,
        bytes: Vec<u8>,
        type_name: String,
    },
    Statement(Vec<u8>),
}

pub async fn run(args: &AttestArgs, settings: &GlobalSettings) -> Result<(), CliError> {
    let new_format = args.new_bundle_format != Some(false);
    if new_format && args.no_upload && args.bundle.is_none() {
        return Err(CliError::usage(
            "must enable upload to the OCI registry or specify a local --bundle path with --new-bundle-format",
        ));
    }
    crate::signer::check_rekor_entry_type(&args.rekor_entry_type)?;
    let content = read_content(args)?;
    let references = registry_access::parse_references(&args.images)?;
    let signer = Signer::choose(Choice {
        key: args.key.as_deref(),
        services: &args.services,
        certificate: &args.certificate,
        use_signing_config: args.use_signing_config,
        tlog_upload: args.tlog_upload,
        yes: args.yes,
        refuse_keyless_legacy: !new_format,
        verb: "attest",
        key_context: "signing: getting signer: reading key",
    })
    .await?;
    let client = registry_access::client(&args.registry, settings)?;
    let now = UnixTime::from_seconds(crate::trust::now());
    for_each_image(&references, |reference, mut messages| {
        let (client, signer, content) = (&client, &signer, &content);
        async move {
            if let Content::Predicate { source, .. } = content {
                messages.push(format!("Using payload from: {source}"));
            }
            for target in resolve_targets(client, reference, args.recursive).await? {
                attest_one(
                    client,
                    reference,
                    target,
                    signer,
                    content,
                    args,
                    now,
                    &mut messages,
                )
                .await?;
            }
            Ok(messages)
        }
    })
    .await
}

/// `--predicate FILE` (or `-` for standard input) with `--type`, or `--statement FILE`.
fn read_content(args: &AttestArgs) -> Result<Content, CliError> {
    match (&args.predicate, &args.statement) {
        (Some(_), Some(_)) => Err(CliError::usage(
            "one of --predicate or --statement must be set",
        )),
        (None, None) => Err(CliError::usage("predicate cannot be empty")),
        (None, Some(path)) => {
            console::info(format_args!("Using statement from: {}", path.display()));
            let bytes = crate::key_files::read_limited_to(path, PREDICATE_SIZE_LIMIT as u64)?;
            Statement::parse(&bytes)
                .map_err(|error| CliError::new(format!("invalid statement: {error}")))?;
            Ok(Content::Statement(bytes))
        }
        (Some(path), None) => {
            attestation::predicate_type_uri(&args.predicate_type)
                .map_err(|error| CliError::new(error.to_string()))?;
            let (source, bytes) = if path == "-" {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .take(PREDICATE_SIZE_LIMIT as u64 + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|error| CliError::new(format!("reading standard input: {error}")))?;
                ("standard input".to_owned(), bytes)
            } else {
                let bytes = crate::key_files::read_limited_to(
                    std::path::Path::new(path),
                    PREDICATE_SIZE_LIMIT as u64,
                )?;
                (path.clone(), bytes)
            };
            Ok(Content::Predicate {
                source,
                bytes,
                type_name: args.predicate_type.clone(),
            })
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn attest_one(
    client: &RegistryClient,
    reference: &ImageReference,
    target: Descriptor,
    signer: &Signer,
    content: &Content,
    args: &AttestArgs,
    now: UnixTime,
    messages: &mut Vec<String>,
) -> Result<(), CliError> {
    let failed =
        |error: &dyn std::fmt::Display| CliError::new(format!("signing {reference}: {error}"));
    let statement = match content {
        Content::Predicate {
            bytes, type_name, ..
        } => attestation::statement(
            type_name,
            bytes,
            &attestation::Subject {
                name: reference.repository().to_string(),
                digest: target.digest.clone(),
            },
            now,
        )
        .map_err(|error| failed(&error))?,
        Content::Statement(bytes) => {
            // A statement brought whole must be about this image.
            let parsed = Statement::parse(bytes).map_err(|error| failed(&error))?;
            if parsed.subject_for(&target.digest).is_none() {
                return Err(failed(&format!(
                    "the statement's subjects do not name {}",
                    target.digest
                )));
            }
            bytes.clone()
        }
    };
    let predicate_type = Statement::parse(&statement)
        .map(|parsed| parsed.predicate_type)
        .map_err(|error| failed(&error))?;
    let key = signer.key();
    let envelope = dsse::sign(key, dsse::IN_TOTO_PAYLOAD_TYPE, statement)?;
    if !rustix::termios::isatty(std::io::stderr()) {
        messages.push("Signing artifact...".to_owned());
    }
    if args.new_bundle_format != Some(false) {
        let bundle = signer
            .envelope_bundle(envelope, &target.digest)
            .await?
            .to_json();
        if let Some(path) = &args.bundle {
            write_file(path, &bundle, 0o600)?;
            messages.push(format!("Wrote bundle to file {}", path.display()));
        }
        if args.no_upload {
            return Ok(());
        }
        let repository = registry_access::signature_repository(reference.repository())?;
        let subject = target.digest.clone();
        let manifest = referrer::bundle_referrer(
            &bundle,
            &predicate_type,
            target,
            &crate::time::rfc3339_utc_now(),
        );
        referrers::push(
            client,
            &repository,
            &subject,
            &[referrer::EMPTY_CONFIG, &bundle],
            &manifest,
            referrers::ReferrersMode::Auto,
        )
        .await
        .map_err(|error| CliError::new(format!("writing bundle: {error}")))?;
        return Ok(());
    }
    let envelope_json =
        serde_json::to_vec(&envelope).map_err(|error| CliError::new(error.to_string()))?;
    if let Some(path) = &args.bundle {
        let legacy = cosign_core::bundle::legacy_blob_bundle::write_for_key(
            &envelope_json,
            signer.legacy_bundle_cert()?.as_bytes(),
        );
        write_file(path, &legacy, 0o600)?;
        messages.push(format!("Wrote bundle to file {}", path.display()));
    }
    if args.no_upload {
        return Ok(());
    }
    let repository = registry_access::signature_repository(reference.repository())?;
    let mut layer = legacy_signature::attestation_layer(&envelope_json, Some(&predicate_type));
    signer.annotate_attestation_layer(&mut layer);
    let replaces = |candidate: &Descriptor| {
        let same_type = candidate.annotation(legacy_signature::PREDICATE_TYPE_ANNOTATION)
            == Some(predicate_type.as_str());
        args.replace && same_type
    };
    signatures::append_legacy_signature(
        client,
        &repository,
        &target.digest,
        &envelope_json,
        &layer,
        LegacyAppend {
            attachment: Attachment::Attestations,
            flavor: ManifestFlavor::Oci,
            // The same envelope (same bytes: a deterministic signature over the same statement)
            // with the same annotations is already there: cosign's dupe detector adds nothing.
            is_duplicate: &|candidate: &Descriptor| {
                candidate.digest == layer.digest && candidate.annotations == layer.annotations
            },
            replaces: &replaces,
        },
    )
    .await
    .map_err(|error| failed(&error))?;
    Ok(())
}
