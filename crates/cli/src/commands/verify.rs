//! `cosign verify --key`: checks the legacy signatures of images (many at once, concurrently),
//! printing what cosign prints and exiting with its codes (10 no signatures, 11 tag not found,
//! 12 no matching signatures).
//!
//! Round trips per image: resolve the tag (one `HEAD`; none for a digest), the signature
//! manifest, then every payload blob in parallel.

use std::collections::BTreeMap;
use std::path::Path;

use cosign_core::bundle::{Bundle, BUNDLE_SIZE_LIMIT};
use cosign_core::bundle_verification::{verify_envelope, Artifact, VerifiedContent};
use cosign_core::certificate::{GithubClaim, IdentityPolicy};
use cosign_core::digest::Digest;
use cosign_core::keyless;
use cosign_core::keys::PublicKey;
use cosign_core::legacy_signature::{
    check_payload_claims, keyless_bundle, verify_layer, LayerCheck,
};
use cosign_core::manifest::ImageManifest;
use cosign_core::reference::ImageReference;
use cosign_core::simple_signing::SimpleSigningPayload;
use cosign_core::trusted_root::TrustedRoot;
use cosign_core::{in_toto, referrer};
use cosign_oci::layout::{kinds, Layout, LayoutError};
use cosign_oci::signatures::{self, ResolveError};
use cosign_oci::{Access, RegistryClient};
use futures::StreamExt as _;

use crate::args::{OutputFormat, VerifyArgs};
use crate::console::{self, Console};
use crate::error::{CliError, ExitCode};
use crate::key_files::load_key_reference;
use crate::registry_access;
use crate::settings::GlobalSettings;

/// What verifying one image gave: the signatures that verified, in both formats.
struct Verified {
    /// Legacy `.sig` payloads (raw bytes and parsed).
    payloads: Vec<LegacyVerified>,
    /// Bundles: cosign 3's synthesized output for each.
    bundles: Vec<String>,
}

/// The outcome of looking in one place: what verified, why the rest did not, and whether
/// there was anything there at all.
struct Findings<T> {
    verified: Vec<T>,
    failures: Vec<String>,
    found_any: bool,
}

impl<T> Default for Findings<T> {
    fn default() -> Self {
        Self {
            verified: Vec::new(),
            failures: Vec::new(),
            found_any: false,
        }
    }
}

pub async fn run(
    args: &VerifyArgs,
    settings: &GlobalSettings,
    console: &mut Console,
) -> Result<(), CliError> {
    let key;
    let keyless;
    let verifier = match &args.key {
        Some(key_reference) => {
            if args.trusted_root.is_some() {
                return Err(CliError::not_supported(
                    "--trusted-root with --key",
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
            if args.verification.use_signed_timestamps {
                return Err(CliError::not_supported(
                    "--use-signed-timestamps with --key",
                    "RFC 3161 timestamps are checked against a trusted root's timestamp authorities, which key-based image verification does not take yet: verify keyless signatures with --use-signed-timestamps, or blobs with `cosign verify-blob --key --trusted-root`",
                ));
            }
            let key_bytes = load_key_reference(key_reference)?;
            key = PublicKey::from_pem(&key_bytes).map_err(CliError::from)?;
            Verifier::Key(&key)
        }
        None => {
            keyless = keyless_context(args)?;
            Verifier::Keyless(&keyless)
        }
    };
    let annotations = registry_access::parse_annotations(&args.annotations)?;
    let wanted = (!args.annotations.is_empty()).then_some(&annotations);
    let detached = detached_signature(args, verifier)?;
    let formats = Formats {
        legacy: true,
        bundles: args.new_bundle_format != Some(false),
    };
    if args.local_image {
        for path in &args.images {
            let verified = verify_local_image(
                Path::new(path),
                verifier,
                wanted,
                args.check_claims,
                formats,
            )?;
            print_header(
                path,
                args,
                wanted.is_some(),
                !verified.bundles.is_empty(),
                verifier,
            );
            print_payloads(console, &verified, args.output)?;
        }
        return Ok(());
    }
    let references = args
        .images
        .iter()
        .map(|image| registry_access::parse_reference(image))
        .collect::<Result<Vec<_>, _>>()?;
    let client = registry_access::client(&args.registry, settings)?;

    // All images at once (up to --max-workers), reported in the order given.
    let workers = args.max_workers.max(1);
    let detached = detached.as_ref();
    let mut results = futures::stream::iter(references.iter().map(|reference| {
        let client = &client;
        async move {
            verify_image(
                client,
                reference,
                verifier,
                wanted,
                args.check_claims,
                formats,
                detached,
            )
            .await
        }
    }))
    .buffered(workers);

    let mut index = 0;
    while let Some(result) = results.next().await {
        let reference = references
            .get(index)
            .ok_or_else(|| CliError::new("internal: result without image"))?;
        index += 1;
        let verified = result?;
        print_header(
            &reference.to_string(),
            args,
            wanted.is_some(),
            !verified.bundles.is_empty(),
            verifier,
        );
        print_payloads(console, &verified, args.output)?;
    }
    console::debug(format_args!("{} registry requests", client.request_count()));
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn verify_image(
    client: &RegistryClient,
    reference: &ImageReference,
    verifier: Verifier<'_>,
    annotations: Option<&BTreeMap<String, String>>,
    check_claims: bool,
    formats: Formats,
    detached: Option<&Detached>,
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
    let check = Checks {
        verifier,
        digest: &digest,
        annotations,
        check_claims,
    };
    if let Some(detached) = detached {
        // `--signature` (and `--payload`): that signature instead of the registry's.
        let payload = detached.payload.clone().unwrap_or_else(|| {
            cosign_core::simple_signing::payload(
                &reference.repository().to_string(),
                &digest,
                &BTreeMap::new(),
            )
        });
        let layer = cosign_core::legacy_signature::signature_layer(&payload, &detached.signature);
        let legacy = check_legacy(&[layer], vec![Ok(payload)], &check);
        return conclude(legacy, Findings::default());
    }
    // Both places at once: the legacy `.sig` image and the referrers.
    let (legacy, bundles) = tokio::join!(
        async {
            if formats.legacy {
                legacy_signatures(client, &repository, &digest, &check).await
            } else {
                Ok(Findings::default())
            }
        },
        async {
            if formats.bundles {
                bundle_signatures(client, reference, &repository, &digest, &check).await
            } else {
                Ok(Findings::default())
            }
        }
    );
    let (legacy, bundles) = match (legacy, bundles) {
        (Ok(legacy), Ok(bundles)) => (legacy, bundles),
        // A registry that failed to answer is a registry error, unless the other place
        // already gave a signature that verifies.
        (Ok(legacy), Err(error)) if !legacy.verified.is_empty() => {
            console::debug(format_args!("listing referrers failed: {error}"));
            (legacy, Findings::default())
        }
        (Err(error), Ok(bundles)) if !bundles.verified.is_empty() => {
            console::debug(format_args!("reading legacy signatures failed: {error}"));
            (Findings::default(), bundles)
        }
        (Err(error), _) | (_, Err(error)) => return Err(error),
    };
    conclude(legacy, bundles)
}

/// The verdict on an image from what both places gave: what verified, or cosign's error and
/// exit code for why nothing did.
fn conclude(
    legacy: Findings<LegacyVerified>,
    bundles: Findings<String>,
) -> Result<Verified, CliError> {
    if !legacy.verified.is_empty() || !bundles.verified.is_empty() {
        return Ok(Verified {
            payloads: legacy.verified,
            bundles: bundles.verified,
        });
    }
    match (legacy.found_any, bundles.found_any) {
        (false, false) => Err(no_signatures()),
        // Only bundles: cosign 3's message and exit code.
        (false, true) => Err(CliError::new(format!(
            "no matching attestations: {}",
            bundles.failures.join("\n ")
        ))),
        _ => {
            let failures: Vec<String> = legacy
                .failures
                .into_iter()
                .chain(bundles.failures)
                .collect();
            Err(
                CliError::new(format!("no matching signatures: {}", failures.join("\n ")))
                    .with_exit_code(ExitCode::NoMatchingSignatures),
            )
        }
    }
}

/// Verifies an image saved by `cosign save` (`--local-image`): the signature image the layout
/// names, and the bundles among its manifests whose subject is the image. No network.
fn verify_local_image(
    path: &Path,
    verifier: Verifier<'_>,
    annotations: Option<&BTreeMap<String, String>>,
    check_claims: bool,
    formats: Formats,
) -> Result<Verified, CliError> {
    let layout_error = |error: LayoutError| {
        CliError::new(format!(
            "loading OCI layout from {}: {error}",
            path.display()
        ))
    };
    let layout = Layout::open(path).map_err(layout_error)?;
    let entry = layout.signed_entry().ok_or_else(|| {
        CliError::new("must verify either an image index or image").with_hint(format!(
            "{} has no index.json entry annotated kind={} (or {}), as `cosign save` writes",
            path.display(),
            kinds::IMAGE,
            kinds::IMAGE_INDEX
        ))
    })?;
    let digest = entry.digest.clone();
    let check = Checks {
        verifier,
        digest: &digest,
        annotations,
        check_claims,
    };
    let mut legacy = Findings::default();
    if let Some(entry) = layout
        .entry_of_kind(kinds::SIGNATURES)
        .filter(|_| formats.legacy)
    {
        let manifest = layout.read_manifest(entry).map_err(layout_error)?;
        let parsed = ImageManifest::parse(&manifest.bytes)
            .map_err(|error| CliError::new(format!("{}: {error}", entry.digest)))?;
        let payloads = parsed
            .layers
            .iter()
            .map(|layer| {
                layout
                    .read_blob(
                        &layer.digest,
                        layer.size.min(signatures::ATTACHMENT_SIZE_LIMIT as u64),
                    )
                    .map_err(|error| error.to_string())
            })
            .collect();
        legacy = check_legacy(&parsed.layers, payloads, &check);
    }
    let mut bundles = Findings::default();
    if formats.bundles {
        let outcomes = layout
            .referrers_of(&digest)
            .map_err(layout_error)?
            .iter()
            .map(|referrer| {
                let manifest =
                    ImageManifest::parse(&referrer.bytes).map_err(|error| error.to_string())?;
                let Some(layer) = referrer::bundle_layer(&manifest) else {
                    return Ok(None);
                };
                let bytes = layout
                    .read_blob(&layer.digest, layer.size.min(BUNDLE_SIZE_LIMIT as u64))
                    .map_err(|error| error.to_string())?;
                // A saved image has no name: cosign leaves the reference empty too.
                check_bundle(&bytes, &check, &digest, "")
            })
            .collect();
        bundles = bundle_findings(outcomes);
    }
    conclude(legacy, bundles)
}

/// A signature given on the command line (cosign's `--signature`, with `--payload` or the
/// payload cosign would have signed for the image).
struct Detached {
    signature: Vec<u8>,
    payload: Option<Vec<u8>>,
}

/// The largest `--signature` or `--payload` file read.
const DETACHED_LIMIT: u64 = 1024 * 1024;

fn detached_signature(
    args: &VerifyArgs,
    verifier: Verifier<'_>,
) -> Result<Option<Detached>, CliError> {
    use base64::Engine as _;
    let Some(signature) = &args.signature else {
        if args.payload.is_some() {
            return Err(CliError::usage(
                "--payload names the payload of a --signature: give both",
            ));
        }
        return Ok(None);
    };
    if matches!(verifier, Verifier::Keyless(_)) || args.local_image {
        return Err(CliError::not_supported(
            "--signature without --key, or with --local-image",
            "verify a detached signature with --key against an image in a registry",
        ));
    }
    if signature.starts_with("http://") || signature.starts_with("https://") {
        return Err(CliError::not_supported(
            "a --signature URL",
            "download the signature and pass its file",
        ));
    }
    let path = Path::new(signature);
    let text = if path.exists() {
        crate::key_files::read_limited_to(path, DETACHED_LIMIT)?
    } else {
        signature.as_bytes().to_vec()
    };
    let text: Vec<u8> = text
        .into_iter()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let signature = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map_err(|error| CliError::new(format!("--signature: illegal base64 data: {error}")))?;
    let payload = match &args.payload {
        Some(path) => Some(crate::key_files::read_limited_to(path, DETACHED_LIMIT)?),
        None => None,
    };
    Ok(Some(Detached { signature, payload }))
}

/// Which formats to look at: both by default, legacy only with `--new-bundle-format=false`.
#[derive(Debug, Clone, Copy)]
struct Formats {
    legacy: bool,
    bundles: bool,
}

async fn legacy_signatures(
    client: &RegistryClient,
    repository: &cosign_core::reference::Repository,
    digest: &Digest,
    check: &Checks<'_>,
) -> Result<Findings<LegacyVerified>, CliError> {
    let Some((_, manifest)) =
        signatures::fetch_signature_manifest(client, repository, digest, Access::Pull)
            .await
            .map_err(|error| CliError::new(error.to_string()))?
    else {
        return Ok(Findings::default());
    };
    let payloads = signatures::fetch_payloads(client, repository, &manifest.layers)
        .await
        .into_iter()
        .map(|payload| payload.map_err(|error| error.to_string()))
        .collect();
    Ok(check_legacy(&manifest.layers, payloads, check))
}

/// Checks each layer of a signature image against its payload (or the error reading it).
fn check_legacy(
    layers: &[cosign_core::manifest::Descriptor],
    payloads: Vec<Result<Vec<u8>, String>>,
    check: &Checks<'_>,
) -> Findings<LegacyVerified> {
    let mut findings = Findings {
        found_any: !layers.is_empty(),
        ..Findings::default()
    };
    for (layer, payload) in layers.iter().zip(payloads) {
        let outcome = payload.and_then(|payload| match check.verifier {
            Verifier::Key(key) => {
                let layer_check = LayerCheck {
                    key,
                    image_digest: check.digest,
                    annotations: check.annotations,
                    check_claims: check.check_claims,
                };
                verify_layer(layer, &payload, layer_check)
                    .map(|parsed| LegacyVerified {
                        raw: payload,
                        parsed,
                        keyless: None,
                    })
                    .map_err(|error| error.to_string())
            }
            Verifier::Keyless(context) => check_legacy_keyless(layer, payload, check, context),
        });
        match outcome {
            Ok(ok) => findings.verified.push(ok),
            Err(message) => findings.failures.push(message),
        }
    }
    findings
}

/// A legacy signature that verified: the payload as stored and parsed, and for a keyless one
/// what cosign adds to its output.
struct LegacyVerified {
    raw: Vec<u8>,
    parsed: SimpleSigningPayload,
    keyless: Option<KeylessDetails>,
}

/// The certificate's identity and claims, and the Rekor bundle annotation, as cosign prints them.
struct KeylessDetails {
    subject: String,
    /// Fulcio's first issuer extension (1.3.6.1.4.1.57264.1.1), which cosign prints.
    issuer: Option<String>,
    claims: Vec<(GithubClaim, String)>,
    /// The `dev.sigstore.cosign/bundle` annotation, re-encoded as cosign's `RekorBundle`.
    rekor_bundle: Option<String>,
}

/// A legacy layer signed with a certificate: the same checks as a keyless bundle, then the
/// payload's claims.
fn check_legacy_keyless(
    layer: &cosign_core::manifest::Descriptor,
    payload: Vec<u8>,
    check: &Checks<'_>,
    context: &KeylessContext,
) -> Result<LegacyVerified, String> {
    let bundle = keyless_bundle(layer, &payload).map_err(|error| error.to_string())?;
    let sha256 = Digest::sha256(&payload);
    let artifact = Artifact {
        sha256: &sha256,
        bytes: Some(&payload),
    };
    let verified = keyless::verify_requiring(
        &bundle,
        artifact,
        &context.root,
        &context.policy,
        context.now,
        context.requirements,
    )
    .map_err(|error| error.to_string())?;
    let parsed = check_payload_claims(
        &payload,
        check.digest,
        check.annotations,
        check.check_claims,
    )
    .map_err(|error| error.to_string())?;
    let certificate = &verified.certificate;
    let claims = [
        GithubClaim::Trigger,
        GithubClaim::Sha,
        GithubClaim::Name,
        GithubClaim::Repository,
        GithubClaim::Ref,
    ]
    .into_iter()
    .filter_map(|claim| {
        certificate
            .github_claim(claim)
            .filter(|value| !value.is_empty())
            .map(|value| (claim, value))
    })
    .collect();
    Ok(LegacyVerified {
        raw: payload,
        parsed,
        keyless: Some(KeylessDetails {
            subject: certificate
                .subject_alternative_names()
                .into_iter()
                .next()
                .unwrap_or_default(),
            issuer: certificate
                .oidc_issuer_v1()
                .filter(|issuer| !issuer.is_empty()),
            claims,
            rekor_bundle: layer
                .annotation(cosign_core::legacy_signature::BUNDLE_ANNOTATION)
                .and_then(rekor_bundle_json),
        }),
    })
}

/// cosign's `RekorBundle` as Go encodes it: `SignedEntryTimestamp`, then `Payload` with `body`,
/// `integratedTime`, `logIndex`, `logID`.
fn rekor_bundle_json(annotation: &str) -> Option<String> {
    use cosign_core::go_json::string;
    let value: serde_json::Value = serde_json::from_str(annotation).ok()?;
    let payload = value.get("Payload")?;
    Some(format!(
        r#"{{"SignedEntryTimestamp":{},"Payload":{{"body":{},"integratedTime":{},"logIndex":{},"logID":{}}}}}"#,
        string(value.get("SignedEntryTimestamp")?.as_str()?),
        string(payload.get("body")?.as_str()?),
        payload.get("integratedTime")?.as_i64()?,
        payload.get("logIndex")?.as_i64()?,
        string(payload.get("logID")?.as_str()?),
    ))
}

/// The bundles among the image's referrers: each fetched and checked in parallel.
async fn bundle_signatures(
    client: &RegistryClient,
    reference: &ImageReference,
    repository: &cosign_core::reference::Repository,
    digest: &Digest,
    check: &Checks<'_>,
) -> Result<Findings<String>, CliError> {
    let (bundles, _) =
        cosign_oci::bundles::attached_bundles(client, repository, digest, Access::Pull)
            .await
            .map_err(|error| CliError::new(error.to_string()))?;
    let outcomes = bundles
        .into_iter()
        .map(|attached| {
            let bytes = attached.bundle.map_err(|error| error.to_string())?;
            check_bundle(&bytes, check, digest, &reference.name())
        })
        .collect();
    Ok(bundle_findings(outcomes))
}

/// Sorts the outcomes of checking bundles: verified outputs, failures, and whether any was a
/// signature at all (`Ok(None)`: not a signature bundle, so not counted).
fn bundle_findings(outcomes: Vec<Result<Option<String>, String>>) -> Findings<String> {
    let mut findings = Findings::default();
    for outcome in outcomes {
        match outcome {
            Ok(Some(output)) => {
                findings.found_any = true;
                findings.verified.push(output);
            }
            Ok(None) => {}
            Err(message) => {
                findings.found_any = true;
                findings.failures.push(message);
            }
        }
    }
    findings
}

/// Checks one bundle against the key and the image digest: `Ok(Some(output))` for a verified
/// image signature, `Ok(None)` for something else (an attestation, a message signature).
fn check_bundle(
    bytes: &[u8],
    check: &Checks<'_>,
    digest: &Digest,
    docker_reference: &str,
) -> Result<Option<String>, String> {
    let bundle = Bundle::parse(bytes).map_err(|error| error.to_string())?;
    let Some(envelope) = &bundle.dsse_envelope else {
        return Ok(None);
    };
    let verified = match check.verifier {
        // The statement must name this image whatever --check-claims says (as cosign 3.1):
        // a bundle made for another image proves nothing about this one.
        Verifier::Key(key) => {
            verify_envelope(envelope, key, Some(digest)).map_err(|error| error.to_string())?
        }
        // The whole keyless check: certificate, log entry, timestamps, identity; the
        // statement must name the image.
        Verifier::Keyless(context) => {
            let artifact = Artifact {
                sha256: digest,
                bytes: None,
            };
            keyless::verify_requiring(
                &bundle,
                artifact,
                &context.root,
                &context.policy,
                context.now,
                context.requirements,
            )
            .map_err(|error| error.to_string())?
            .content
        }
    };
    let VerifiedContent::Envelope {
        statement: Some(statement),
        ..
    } = verified
    else {
        return Ok(None);
    };
    if statement.predicate_type != in_toto::COSIGN_SIGN_PREDICATE {
        // An attestation, not a signature.
        return Ok(None);
    }
    let subject_annotations = statement
        .subject_for(digest)
        .and_then(|subject| subject.annotations.clone());
    if check.check_claims {
        if let Some(wanted) = check.annotations {
            let subject = statement
                .subject_for(digest)
                .ok_or("no matching subject digest found")?;
            if !subject.has_annotations(wanted) {
                return Err("missing or incorrect annotation".to_owned());
            }
        }
    }
    Ok(Some(bundle_output(
        docker_reference,
        digest,
        &statement.predicate_type,
        subject_annotations,
    )))
}

/// cosign 3's output for a verified bundle: the reference as given (with its tag), the
/// predicate type as `type`, the subject's annotations (or `{}`) as `optional`.
fn bundle_output(
    docker_reference: &str,
    digest: &Digest,
    predicate_type: &str,
    annotations: Option<serde_json::Map<String, serde_json::Value>>,
) -> String {
    use cosign_core::go_json;
    let optional = {
        let sorted: BTreeMap<String, serde_json::Value> =
            annotations.unwrap_or_default().into_iter().collect();
        String::from_utf8(go_json::to_vec(&sorted).unwrap_or_default()).unwrap_or_default()
    };
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":{}}},"image":{{"docker-manifest-digest":{}}},"type":{}}},"optional":{optional}}}"#,
        go_json::string(docker_reference),
        go_json::string(&digest.to_string()),
        go_json::string(predicate_type),
    )
}

/// How signatures are checked: with a public key, or keyless against a trusted root and an
/// identity policy.
#[derive(Clone, Copy)]
enum Verifier<'a> {
    Key(&'a PublicKey),
    Keyless(&'a KeylessContext),
}

struct KeylessContext {
    root: TrustedRoot,
    policy: IdentityPolicy,
    now: i64,
    requirements: keyless::Requirements,
}

/// What every signature of one image is checked against.
struct Checks<'a> {
    verifier: Verifier<'a>,
    digest: &'a Digest,
    annotations: Option<&'a BTreeMap<String, String>>,
    check_claims: bool,
}

/// Keyless verification's inputs: cosign's identity flags (both required), the trusted root
/// (`--trusted-root`, else the embedded public-good root with cosign's `SIGSTORE_*` overrides).
fn keyless_context(args: &VerifyArgs) -> Result<KeylessContext, CliError> {
    let policy = crate::trust::identity_policy(&args.identity)?;
    if args.insecure_ignore_tlog {
        return Err(crate::trust::refuse_ignored_tlog());
    }
    Ok(KeylessContext {
        root: crate::trust::trusted_root(args.trusted_root.as_deref())?,
        policy,
        now: crate::trust::now(),
        requirements: crate::trust::keyless_requirements(&args.verification),
    })
}

fn no_signatures() -> CliError {
    CliError::new("no signatures found").with_exit_code(ExitCode::NoSignatures)
}

fn print_header(
    reference: &str,
    args: &VerifyArgs,
    annotations: bool,
    bundles: bool,
    verifier: Verifier<'_>,
) {
    console::info(format_args!("\nVerification for {reference} --"));
    console::info("The following checks were performed on each of these signatures:");
    if args.check_claims {
        if annotations {
            console::info("  - The specified annotations were verified.");
        }
        console::info("  - The cosign claims were validated");
    }
    if bundles || matches!(verifier, Verifier::Keyless(_)) {
        // cosign 3 prints this on the bundle path, with --insecure-ignore-tlog too, and
        // wherever a log entry was verified.
        console::info("  - Existence of the claims in the transparency log was verified offline");
    }
    match verifier {
        Verifier::Key(_) => {
            console::info("  - The signatures were verified against the specified public key")
        }
        Verifier::Keyless(_) => console::info(
            "  - The code-signing certificate was verified using trusted certificate authority certificates",
        ),
    }
}

fn print_payloads(
    console: &mut Console,
    verified: &Verified,
    output: OutputFormat,
) -> Result<(), CliError> {
    match output {
        OutputFormat::Text => {
            for output in &verified.bundles {
                console.out(format!("{output}\n").as_bytes())?;
            }
            for verified in &verified.payloads {
                if let Some(details) = &verified.keyless {
                    console::info(format_args!("Certificate subject: {}", details.subject));
                    if let Some(issuer) = &details.issuer {
                        console::info(format_args!("Certificate issuer URL: {issuer}"));
                    }
                    for (claim, value) in &details.claims {
                        console::info(format_args!("{}: {value}", claim_label(*claim)));
                    }
                }
                let mut line = verified.raw.clone();
                line.push(b'\n');
                console.out(&line)?;
            }
            Ok(())
        }
        OutputFormat::Json => {
            let items: Vec<String> = verified
                .bundles
                .iter()
                .cloned()
                .chain(verified.payloads.iter().map(payload_json))
                .collect();
            console.out(format!("\n[{}]\n", items.join(",")).as_bytes())
        }
    }
}

/// cosign re-encodes each payload through its `SimpleContainerImage` type: only these fields,
/// in this order, `optional` with sorted keys or `null`; for a certificate, its subject, issuer
/// and GitHub claims (under both their names) and the Rekor bundle are added to `optional`.
fn payload_json(verified: &LegacyVerified) -> String {
    use cosign_core::go_json;
    let payload = &verified.parsed;
    let mut optional: Option<BTreeMap<String, String>> = payload.optional.as_ref().map(|map| {
        map.iter()
            .map(|(key, value)| {
                let text = String::from_utf8(go_json::to_vec(value).unwrap_or_default())
                    .unwrap_or_default();
                (key.clone(), text)
            })
            .collect()
    });
    if let Some(details) = &verified.keyless {
        let entries = optional.get_or_insert_with(BTreeMap::new);
        entries.insert("Subject".to_owned(), go_json::string(&details.subject));
        if let Some(issuer) = &details.issuer {
            entries.insert("Issuer".to_owned(), go_json::string(issuer));
            entries.insert("1.3.6.1.4.1.57264.1.1".to_owned(), go_json::string(issuer));
        }
        for (claim, value) in &details.claims {
            let (oid, name) = claim_keys(*claim);
            entries.insert(oid.to_owned(), go_json::string(value));
            entries.insert(name.to_owned(), go_json::string(value));
        }
        if let Some(bundle) = &details.rekor_bundle {
            entries.insert("Bundle".to_owned(), bundle.clone());
        }
    }
    let optional = match optional {
        None => "null".to_owned(),
        Some(entries) => {
            let fields: Vec<String> = entries
                .iter()
                .map(|(key, value)| format!("{}:{value}", go_json::string(key)))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
    };
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":{}}},"image":{{"docker-manifest-digest":{}}},"type":{}}},"optional":{optional}}}"#,
        go_json::string(&payload.critical.identity.docker_reference),
        go_json::string(&payload.critical.image.docker_manifest_digest),
        go_json::string(&payload.critical.kind),
    )
}

/// A GitHub claim's keys in cosign's JSON output: its OID and its readable name.
fn claim_keys(claim: GithubClaim) -> (&'static str, &'static str) {
    match claim {
        GithubClaim::Trigger => ("1.3.6.1.4.1.57264.1.2", "githubWorkflowTrigger"),
        GithubClaim::Sha => ("1.3.6.1.4.1.57264.1.3", "githubWorkflowSha"),
        GithubClaim::Name => ("1.3.6.1.4.1.57264.1.4", "githubWorkflowName"),
        GithubClaim::Repository => ("1.3.6.1.4.1.57264.1.5", "githubWorkflowRepository"),
        GithubClaim::Ref => ("1.3.6.1.4.1.57264.1.6", "githubWorkflowRef"),
    }
}

/// A GitHub claim as cosign's text output labels it.
fn claim_label(claim: GithubClaim) -> &'static str {
    match claim {
        GithubClaim::Trigger => "GitHub Workflow Trigger",
        GithubClaim::Sha => "GitHub Workflow SHA",
        GithubClaim::Name => "GitHub Workflow Name",
        GithubClaim::Repository => "GitHub Workflow Repository",
        GithubClaim::Ref => "GitHub Workflow Ref",
    }
}
