//! `cosign verify`: the flags become an [`ImagePolicy`]; each image's signatures are gathered
//! in both formats (`cosign_oci::candidates`) and verified by the library
//! (`cosign_core::verify`), many images at once; the result is printed as cosign prints it,
//! with its exit codes (10 no signatures, 11 tag not found, 12 no matching signatures).
//!
//! Round trips per image: the tag's manifest (one `GET`, hashed; none for a digest), then the
//! `.sig` manifest, the referrers API and its fallback tag side by side, then every payload
//! and bundle in parallel.

use std::collections::BTreeMap;
use std::path::Path;

use cosign_core::digest::Digest;
use cosign_core::image::legacy_signature::Attachment;
use cosign_core::image::reference::ImageReference;
use cosign_core::keys::PublicKey;
use cosign_core::time::UnixTime;
use cosign_core::trust::certificate::GithubClaim;
use cosign_core::verify::{
    verify_image, Authority, Candidate, CertificateSummary, ImagePolicy, ImageVerification,
    KeyAuthority, KeyTransparencyLog, Origin, SignedContent, Signer, Verdict, VerifiedSignature,
    Wanted,
};
use cosign_oci::candidates::{self, Formats, Gathered};
use cosign_oci::layout::{kinds, Layout, LayoutError};
use cosign_oci::signatures::{self, ResolveError};
use cosign_oci::RegistryClient;
use futures::StreamExt as _;

use crate::args::{OutputFormat, VerifyArgs};
use crate::console::{self, Console};
use crate::error::{CliError, ExitCode};
use crate::key_files::load_key_reference;
use crate::registry_access;
use crate::settings::GlobalSettings;

pub async fn run(
    args: &VerifyArgs,
    settings: &GlobalSettings,
    console: &mut Console,
) -> Result<(), CliError> {
    run_on(args, &args.images, settings, console).await
}

/// `cosign verify` with the flags of `args` on `images` (what `dockerfile verify` and
/// `manifest verify` found).
pub async fn run_on(
    args: &VerifyArgs,
    images: &[String],
    settings: &GlobalSettings,
    console: &mut Console,
) -> Result<(), CliError> {
    // Checked as cosign checks it; a signature is accepted with any of the hashes
    // (cosign_core::keys::PublicKey::verify_payload), so no narrower check follows.
    crate::commands::verify_blob::parse_signature_digest_algorithm(
        args.signature_digest_algorithm.as_deref(),
    )?;
    let policy = policy(args)?;
    let detached = detached_signature(args, &policy)?;
    let formats = Formats {
        legacy: Some(Attachment::Signatures),
        bundles: args.new_bundle_format != Some(false),
    };
    let now = UnixTime::from_seconds(crate::trust::now());
    if args.local_image {
        for path in images {
            let (digest, verification) =
                verify_local_image(Path::new(path), &policy, formats, now)?;
            conclude(&verification)?;
            // A saved image has no name: cosign leaves the reference empty too.
            print_result(path, "", &digest, &verification, args, &policy, console)?;
        }
        return Ok(());
    }
    let references = registry_access::parse_references(images)?;
    let client = registry_access::client(&args.registry, settings)?;

    // All images at once (up to --max-workers), reported in the order given.
    let workers = args.max_workers.max(1);
    let (policy_ref, detached) = (&policy, detached.as_ref());
    let mut results =
        futures::stream::iter(references.iter().map(|reference| {
            let client = &client;
            async move {
                verify_registry_image(client, reference, policy_ref, formats, detached, now).await
            }
        }))
        .buffered(workers);
    let mut index = 0;
    while let Some(result) = results.next().await {
        let reference = references
            .get(index)
            .ok_or_else(|| CliError::new("internal: result without image"))?;
        index += 1;
        let (digest, verification) = result?;
        conclude(&verification)?;
        print_result(
            &reference.to_string(),
            &reference.name(),
            &digest,
            &verification,
            args,
            &policy,
            console,
        )?;
    }
    console::debug(format_args!("{} registry requests", client.request_count()));
    Ok(())
}

/// The policy the flags describe: `--key` (the log skipped by name, as cosign requires
/// offline), or keyless (the identity flags, the trusted root, the named requirements); the
/// annotations and `--check-claims`.
fn policy(args: &VerifyArgs) -> Result<ImagePolicy, CliError> {
    let authority = authority(
        &AuthorityFlags {
            key: args.key.as_deref(),
            identity: &args.identity,
            trusted_root: args.trusted_root.as_deref(),
            verification: &args.verification,
            insecure_ignore_tlog: args.insecure_ignore_tlog,
        },
        "signature",
    )?;
    Ok(ImagePolicy {
        authorities: vec![authority],
        wanted: Wanted::Signature,
        annotations: registry_access::parse_annotations(&args.annotations)?,
        check_claims: args.check_claims,
    })
}

/// The flags that choose who may vouch, shared by `verify` and `verify-attestation`.
pub(crate) struct AuthorityFlags<'a> {
    pub key: Option<&'a str>,
    pub identity: &'a crate::args::CertificateIdentityArgs,
    pub trusted_root: Option<&'a str>,
    pub verification: &'a crate::args::VerificationArgs,
    pub insecure_ignore_tlog: bool,
}

/// The authority the flags name; `what` is cosign's word in its warning ("signature",
/// "attestation").
pub(crate) fn authority(flags: &AuthorityFlags<'_>, what: &str) -> Result<Authority, CliError> {
    match flags.key {
        Some(key_reference) => {
            if flags.trusted_root.is_some() {
                return Err(CliError::not_supported(
                    "--trusted-root with --key",
                    "verify key-based signatures with --insecure-ignore-tlog",
                ));
            }
            if flags.insecure_ignore_tlog {
                crate::trust::warn_ignored_tlog(what);
            } else {
                return Err(CliError::new(
                    "verifying the transparency log needs Sigstore's trusted root (from its TUF repository, over the network), which cosign-rs cannot fetch or check yet",
                )
                .with_hint("for signatures made with a key, pass --insecure-ignore-tlog to verify them offline"));
            }
            if flags.verification.use_signed_timestamps {
                return Err(CliError::not_supported(
                    "--use-signed-timestamps with --key",
                    "RFC 3161 timestamps are checked against a trusted root's timestamp authorities, which key-based image verification does not take yet: verify keyless signatures with --use-signed-timestamps, or blobs with `cosign verify-blob --key --trusted-root`",
                ));
            }
            let key_bytes = load_key_reference(key_reference)?;
            Ok(Authority::Key(KeyAuthority {
                key: PublicKey::from_pem(&key_bytes).map_err(CliError::from)?,
                transparency_log: KeyTransparencyLog::InsecureIgnored,
            }))
        }
        None => Ok(Authority::Keyless(crate::trust::keyless_authority(
            flags.identity,
            flags.trusted_root,
            flags.verification,
            flags.insecure_ignore_tlog,
            what,
        )?)),
    }
}

pub(crate) fn is_keyless(policy: &ImagePolicy) -> bool {
    matches!(policy.authorities.first(), Some(Authority::Keyless(_)))
}

pub(crate) async fn verify_registry_image(
    client: &RegistryClient,
    reference: &ImageReference,
    policy: &ImagePolicy,
    formats: Formats,
    detached: Option<&Detached>,
    now: UnixTime,
) -> Result<(Digest, ImageVerification), CliError> {
    let digest = signatures::resolve_digest(client, reference, cosign_oci::Access::Pull)
        .await
        .map_err(|error| match error {
            ResolveError::TagNotFound { source } => {
                CliError::new(format!("image tag not found: {source}"))
                    .with_exit_code(ExitCode::TagNotFound)
            }
            ResolveError::Registry { source } => CliError::new(source.to_string()),
        })?;
    if let Some(detached) = detached {
        // `--signature` (and `--payload`): that signature instead of the registry's.
        let candidate = detached.candidate(reference, &digest);
        return Ok((
            digest.clone(),
            verify_image(policy, &digest, vec![candidate], now),
        ));
    }
    let repository = registry_access::signature_repository(reference.repository())?;
    let gathered = candidates::from_registry(client, &repository, &digest, formats).await;
    let verification = verify_gathered(policy, &digest, gathered, now, |error| {
        CliError::new(error.to_string())
    })?;
    Ok((digest, verification))
}

/// Verifies what both places gave. A place that failed to answer is an error (a registry
/// error, not "unsigned"), unless the other already gave a signature that verifies.
fn verify_gathered<E: std::fmt::Display>(
    policy: &ImagePolicy,
    digest: &Digest,
    gathered: Gathered<E>,
    now: UnixTime,
    error: impl Fn(&E) -> CliError,
) -> Result<ImageVerification, CliError> {
    let (legacy, referrers) = (gathered.legacy, gathered.referrers);
    let failed = match (&legacy, &referrers) {
        (Err(failure), _) | (_, Err(failure)) => Some(error(failure)),
        _ => None,
    };
    let candidates: Vec<Candidate> = legacy
        .unwrap_or_default()
        .into_iter()
        .chain(referrers.unwrap_or_default())
        .collect();
    let verification = verify_image(policy, digest, candidates, now);
    match failed {
        Some(failure) if verification.verified.is_empty() => Err(failure),
        Some(failure) => {
            console::debug(format_args!("one place failed: {failure}"));
            Ok(verification)
        }
        None => Ok(verification),
    }
}

/// Verifies an image saved by `cosign save` (`--local-image`): the signature image the layout
/// names, and the bundles among its manifests whose subject is the image. No network.
pub(crate) fn verify_local_image(
    path: &Path,
    policy: &ImagePolicy,
    formats: Formats,
    now: UnixTime,
) -> Result<(Digest, ImageVerification), CliError> {
    let layout_error = |error: &LayoutError| {
        CliError::new(format!(
            "loading OCI layout from {}: {error}",
            path.display()
        ))
    };
    let layout = Layout::open(path).map_err(|error| layout_error(&error))?;
    let entry = layout.signed_entry().ok_or_else(|| {
        CliError::new("must verify either an image index or image").with_hint(format!(
            "{} has no index.json entry annotated kind={} (or {}), as `cosign save` writes",
            path.display(),
            kinds::IMAGE,
            kinds::IMAGE_INDEX
        ))
    })?;
    let digest = entry.digest.clone();
    let gathered = candidates::from_layout(&layout, &digest, formats);
    let verification = verify_gathered(policy, &digest, gathered, now, layout_error)?;
    Ok((digest, verification))
}

/// cosign's error and exit code when nothing verified.
fn conclude(verification: &ImageVerification) -> Result<(), CliError> {
    let reasons = || {
        verification
            .failures
            .iter()
            .map(|failure| failure.reason.to_string())
            .collect::<Vec<_>>()
            .join("\n ")
    };
    match verification.verdict() {
        Verdict::Verified => Ok(()),
        Verdict::NoSignatures => {
            Err(CliError::new("no signatures found").with_exit_code(ExitCode::NoSignatures))
        }
        // Only bundles: cosign 3's message and exit code.
        Verdict::NoneVerified { legacy: false } => Err(CliError::new(format!(
            "no matching attestations: {}",
            reasons()
        ))),
        Verdict::NoneVerified { legacy: true } => Err(CliError::new(format!(
            "no matching signatures: {}",
            reasons()
        ))
        .with_exit_code(ExitCode::NoMatchingSignatures)),
    }
}

/// A signature given on the command line (cosign's `--signature`, with `--payload` or the
/// payload cosign would have signed for the image).
pub(crate) struct Detached {
    signature: Vec<u8>,
    payload: Option<Vec<u8>>,
}

impl Detached {
    fn candidate(&self, reference: &ImageReference, digest: &Digest) -> Candidate {
        let payload = self.payload.clone().unwrap_or_else(|| {
            cosign_core::image::simple_signing::payload(
                &reference.repository().to_string(),
                digest,
                &BTreeMap::new(),
            )
        });
        Candidate::Legacy {
            layer: Box::new(cosign_core::image::legacy_signature::signature_layer(
                &payload,
                &self.signature,
            )),
            payload: Ok(payload),
        }
    }
}

/// The largest `--signature` or `--payload` file read.
const DETACHED_LIMIT: u64 = 1024 * 1024;

fn detached_signature(
    args: &VerifyArgs,
    policy: &ImagePolicy,
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
    if is_keyless(policy) || args.local_image {
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

/// cosign's stderr header, then each verified signature: bundles first, then the legacy
/// payloads, as JSON (one array) or text (one per line, with the certificate's lines on
/// stderr).
fn print_result(
    shown: &str,
    docker_reference: &str,
    digest: &Digest,
    verification: &ImageVerification,
    args: &VerifyArgs,
    policy: &ImagePolicy,
    console: &mut Console,
) -> Result<(), CliError> {
    let (bundles, legacy): (Vec<&VerifiedSignature>, Vec<&VerifiedSignature>) = verification
        .verified
        .iter()
        .partition(|signature| matches!(signature.origin, Origin::Referrer(_)));
    print_header(
        shown,
        args.check_claims,
        !policy.annotations.is_empty(),
        !bundles.is_empty(),
        policy,
    );
    let bundle_outputs: Vec<String> = bundles
        .iter()
        .filter_map(|signature| match &signature.content {
            SignedContent::Statement { statement, .. } => Some(bundle_output(
                docker_reference,
                digest,
                &statement.predicate_type,
                statement
                    .subject_for(digest)
                    .and_then(|subject| subject.annotations.clone()),
            )),
            SignedContent::SimpleSigning { .. } => None,
        })
        .collect();
    match args.output {
        OutputFormat::Text => {
            for output in &bundle_outputs {
                console.out(format!("{output}\n").as_bytes())?;
            }
            for signature in legacy {
                if let Signer::Certificate { summary, .. } = &signature.signer {
                    console::info(format_args!("Certificate subject: {}", summary.subject));
                    if let Some(issuer) = &summary.issuer {
                        console::info(format_args!("Certificate issuer URL: {issuer}"));
                    }
                    for (claim, value) in &summary.github_claims {
                        console::info(format_args!("{}: {value}", claim_label(*claim)));
                    }
                }
                if let SignedContent::SimpleSigning { raw, .. } = &signature.content {
                    let mut line = raw.clone();
                    line.push(b'\n');
                    console.out(&line)?;
                }
            }
            Ok(())
        }
        OutputFormat::Json => {
            let items: Vec<String> = bundle_outputs
                .into_iter()
                .chain(legacy.into_iter().filter_map(payload_json))
                .collect();
            console.out(format!("\n[{}]\n", items.join(",")).as_bytes())
        }
    }
}

pub(crate) fn print_header(
    reference: &str,
    check_claims: bool,
    annotations: bool,
    bundles: bool,
    policy: &ImagePolicy,
) {
    console::info(format_args!("\nVerification for {reference} --"));
    console::info("The following checks were performed on each of these signatures:");
    if check_claims {
        if annotations {
            console::info("  - The specified annotations were verified.");
        }
        console::info("  - The cosign claims were validated");
    }
    if bundles || is_keyless(policy) {
        // cosign 3 prints this on the bundle path, with --insecure-ignore-tlog too, and
        // wherever a log entry was verified.
        console::info("  - Existence of the claims in the transparency log was verified offline");
    }
    if is_keyless(policy) {
        console::info(
            "  - The code-signing certificate was verified using trusted certificate authority certificates",
        );
    } else {
        console::info("  - The signatures were verified against the specified public key");
    }
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

/// cosign re-encodes each payload through its `SimpleContainerImage` type: only these fields,
/// in this order, `optional` with sorted keys or `null`; for a certificate, its subject, issuer
/// and GitHub claims (under both their names), the Rekor bundle and the RFC 3161 timestamp are
/// added to `optional`.
fn payload_json(signature: &VerifiedSignature) -> Option<String> {
    use cosign_core::go_json;
    let SignedContent::SimpleSigning { payload, .. } = &signature.content else {
        return None;
    };
    let mut optional: Option<BTreeMap<String, String>> = payload.optional.as_ref().map(|map| {
        map.iter()
            .map(|(key, value)| {
                let text = String::from_utf8(go_json::to_vec(value).unwrap_or_default())
                    .unwrap_or_default();
                (key.clone(), text)
            })
            .collect()
    });
    if let Signer::Certificate { summary, .. } = &signature.signer {
        let entries = optional.get_or_insert_with(BTreeMap::new);
        add_certificate(entries, summary);
        let rekor_bundle = signature
            .origin
            .legacy_layer()
            .and_then(|layer| {
                layer.annotation(cosign_core::image::legacy_signature::BUNDLE_ANNOTATION)
            })
            .and_then(rekor_bundle_json);
        if let Some(bundle) = rekor_bundle {
            entries.insert("Bundle".to_owned(), bundle);
        }
        let timestamp = signature
            .origin
            .legacy_layer()
            .and_then(|layer| {
                layer.annotation(cosign_core::image::legacy_signature::RFC3161_TIMESTAMP_ANNOTATION)
            })
            .and_then(|annotation| {
                let value: serde_json::Value = serde_json::from_str(annotation).ok()?;
                let signed = value.get("SignedRFC3161Timestamp")?.as_str()?;
                Some(format!(
                    r#"{{"SignedRFC3161Timestamp":{}}}"#,
                    go_json::string(signed)
                ))
            });
        if let Some(timestamp) = timestamp {
            entries.insert("RFC3161Timestamp".to_owned(), timestamp);
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
    Some(format!(
        r#"{{"critical":{{"identity":{{"docker-reference":{}}},"image":{{"docker-manifest-digest":{}}},"type":{}}},"optional":{optional}}}"#,
        go_json::string(&payload.critical.identity.docker_reference),
        go_json::string(&payload.critical.image.docker_manifest_digest),
        go_json::string(&payload.critical.kind),
    ))
}

/// The certificate's subject, issuer and GitHub claims, as cosign adds them to `optional`.
fn add_certificate(entries: &mut BTreeMap<String, String>, summary: &CertificateSummary) {
    use cosign_core::go_json;
    entries.insert("Subject".to_owned(), go_json::string(&summary.subject));
    if let Some(issuer) = &summary.issuer {
        entries.insert("Issuer".to_owned(), go_json::string(issuer));
        entries.insert("1.3.6.1.4.1.57264.1.1".to_owned(), go_json::string(issuer));
    }
    for (claim, value) in &summary.github_claims {
        let (oid, name) = claim_keys(*claim);
        entries.insert(oid.to_owned(), go_json::string(value));
        entries.insert(name.to_owned(), go_json::string(value));
    }
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
