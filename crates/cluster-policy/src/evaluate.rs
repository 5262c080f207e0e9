//! An image judged by the policies that apply to it, as policy-controller judges it: every
//! policy one of whose globs matches the image (and whose `match`, if any, the resource) must
//! pass; a policy passes when any one of its
//! authorities does (each place signatures live in is read once, all at once, and every
//! authority checked against what it gave); a policy in `warn` mode that fails gives
//! warnings instead of errors; an image no policy covers is refused. Authorities are checked
//! with the shared verifier (`cosign_core::verify`) over what `cosign_oci` gathers:
//!
//! - `static`: `pass`, or `fail` with its message;
//! - `key` (inline `data`): the image's signatures, in the legacy `.sig` format; with no
//!   `ctlog` the transparency log is not checked, as policy-controller does (it skips the log
//!   when it has no log to check against); with `ctlog` the authority fails (a log entry for a
//!   key signature cannot be checked yet); a `source.oci` repository is where the signatures
//!   are looked for.
//!
//! - `keyless` with a `trustRootRef` to a `TrustRoot` of `sigstoreKeys`: a Fulcio certificate
//!   chaining to its CAs, with an embedded SCT of its CT logs (unless `insecureIgnoreSCT`),
//!   naming one of the identities (issuer and subject, exact or regular expressions); with
//!   `rfc3161timestamp` a signed timestamp of its TSAs is required and the transparency log is
//!   not checked (as policy-controller), else a transparency log entry of its logs is.
//!
//! - `attestations`: the authority's attestations (legacy `.att`, or bundles) are verified as
//!   its signatures are; then each wanted attestation needs one verified statement of its
//!   predicate type (cosign's short names or a URI) that its `policy` (Rego or CUE, inline)
//!   finds compliant, as [`cosign_policy::compliance`] evaluates it.
//!
//! When an authority passed and the policy has a policy-level `policy`, that policy is
//! evaluated over what passed (`{"authorityMatches": {...}}`, with the resource's `spec`,
//! `metadata` and type when asked), and the policy fails if it is not compliant.
//!
//! A keyless authority without a `trustRootRef` trusts the public Sigstore: the trusted root
//! the caller gives ([`Context::public_trusted_root`]: cosign-rs's embedded copy of the
//! public-good root, or the file its user names).

use cosign_core::digest::Digest;
use cosign_core::image::reference::{ImageReference, Repository};
use cosign_core::keys::PublicKey;
use cosign_core::time::UnixTime;
use cosign_core::trust::certificate::{IdentityPolicy, SctRequirement};
use cosign_core::verify::keyless::{LogRequirement, Requirements};
use cosign_core::verify::{
    verify_image, Authority as VerifierAuthority, ImagePolicy, KeyAuthority, KeyTransparencyLog,
    KeylessAuthority, Verdict, Wanted,
};
use cosign_core::verify::{Origin, SignedContent, Signer, VerifiedSignature};
use cosign_oci::candidates::{self, Formats};
use cosign_oci::RegistryClient;
use cosign_policy::rego::Evaluation;
use serde::Serialize;
use std::collections::BTreeMap;

use crate::load::TrustRoot;
use crate::model::{Attestation, Authority, ClusterImagePolicy, KeylessRef};

/// What the policies say of one image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    /// The digest the image was checked at (when it could be resolved).
    pub digest: Option<Digest>,
    /// Why the image is refused (empty: allowed).
    pub errors: Vec<String>,
    /// What is reported without refusing (policies in `warn` mode).
    pub warnings: Vec<String>,
}

impl Judgement {
    pub fn allowed(&self) -> bool {
        self.errors.is_empty()
    }
}

/// What checking needs: the registry, the `TrustRoot`s `trustRootRef`s name, the time, where
/// Rego policies run, and the resource being admitted (for policies that include it).
#[derive(Debug)]
pub struct Context<'a> {
    pub client: &'a RegistryClient,
    pub trust_roots: &'a [TrustRoot],
    /// The public Sigstore's trusted root, for keyless authorities without a `trustRootRef`.
    pub public_trusted_root: &'a cosign_core::trust::trusted_root::TrustedRoot,
    pub now: UnixTime,
    pub evaluation: &'a Evaluation,
    pub resource: Option<&'a serde_json::Value>,
}

/// Judges `image` (a reference as a pod names it) by `policies`.
pub async fn judge(
    policies: &[ClusterImagePolicy],
    image: &str,
    context: &Context<'_>,
) -> Judgement {
    let mut judgement = Judgement::default();
    let reference: ImageReference = match image.parse() {
        Ok(reference) => reference,
        Err(error) => {
            judgement.errors.push(format!("{image}: {error}"));
            return judgement;
        }
    };
    let mut applying = Vec::new();
    for policy in policies {
        match policy.applies_to_resource(context.resource) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(error) => {
                judgement.errors.push(error);
                return judgement;
            }
        }
        match policy.applies_to(image) {
            Ok(true) => applying.push(policy),
            Ok(false) => {}
            Err(error) => judgement.errors.push(format!("{image}: {error}")),
        }
    }
    if applying.is_empty() {
        judgement
            .errors
            .push(format!("{image} is uncovered by policy"));
        return judgement;
    }
    let digest = match cosign_oci::signatures::resolve_digest(
        context.client,
        &reference,
        cosign_oci::Access::Pull,
    )
    .await
    {
        Ok(digest) => digest,
        Err(error) => {
            judgement.errors.push(format!("{image}: {error}"));
            return judgement;
        }
    };
    judgement.digest = Some(digest.clone());
    // Each place signatures live in is read once, whatever number of authorities look there.
    let mut places: Vec<Place> = Vec::new();
    for authority in applying.iter().flat_map(|policy| &policy.spec.authorities) {
        if let Ok(Some(place)) = place(authority, &reference) {
            if !places.contains(&place) {
                places.push(place);
            }
        }
    }
    let reads = places
        .iter()
        .map(|place| read_place(place, &digest, context.client));
    let fetched: Fetched = places
        .iter()
        .cloned()
        .zip(futures::future::join_all(reads).await)
        .collect();
    for policy in &applying {
        let Err(failures) = judge_policy(policy, &reference, &digest, &fetched, context).await
        else {
            continue;
        };
        let message = format!(
            "failed policy: {}: {}",
            policy.metadata.name,
            failures.join("; ")
        );
        if policy.spec.mode == "warn" {
            judgement.warnings.push(message);
        } else {
            judgement.errors.push(message);
        }
    }
    judgement
}

/// Where an authority's signatures (or attestations) are: a repository, as bundles (else the
/// legacy `.sig` or `.att` image).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    repository: Repository,
    bundles: bool,
    attestations: bool,
}

/// What each place gave: its candidates, or why it could not be read.
type Fetched = Vec<(Place, Result<Vec<cosign_core::verify::Candidate>, String>)>;

/// Where `authority` looks (nowhere for a static authority): `source.oci` when given, else the
/// image's repository.
fn place(authority: &Authority, reference: &ImageReference) -> Result<Option<Place>, String> {
    if authority.static_.is_some() {
        return Ok(None);
    }
    let repository = match authority.source.first().map(|source| source.oci.as_str()) {
        Some(oci) if !oci.is_empty() => Repository::parse(oci).map_err(|e| e.to_string())?,
        _ => reference.repository().clone(),
    };
    Ok(Some(Place {
        repository,
        bundles: authority.signature_format == "bundle",
        // Bundles of both kinds come from the same referrers: one read serves both.
        attestations: !authority.attestations.is_empty() && authority.signature_format != "bundle",
    }))
}

async fn read_place(
    place: &Place,
    digest: &Digest,
    client: &RegistryClient,
) -> Result<Vec<cosign_core::verify::Candidate>, String> {
    use cosign_core::image::legacy_signature::Attachment;
    let formats = Formats {
        legacy: (!place.bundles).then_some(if place.attestations {
            Attachment::Attestations
        } else {
            Attachment::Signatures
        }),
        bundles: place.bundles,
    };
    let gathered = candidates::from_registry(client, &place.repository, digest, formats).await;
    if place.bundles {
        gathered.referrers
    } else {
        gathered.legacy
    }
    .map_err(|error| error.to_string())
}

/// What an authority that passed vouched for, as policy-controller hands it to a policy-level
/// policy (`authorityMatches`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct AuthorityMatch {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<PolicySignature>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attestations: BTreeMap<String, Vec<PolicyAttestation>>,
    #[serde(rename = "static", skip_serializing_if = "std::ops::Not::not")]
    pub static_: bool,
}

/// A signature that verified: an id, and who signed it (keyless).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PolicySignature {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subject: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub issuer: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub github_workflow_trigger: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub github_workflow_sha: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub github_workflow_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub github_workflow_repo: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub github_workflow_ref: String,
}

/// An attestation that verified and passed its policy.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PolicyAttestation {
    #[serde(flatten)]
    pub signature: PolicySignature,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub predicate_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub digest: String,
}

/// A policy's verdict: passed, or every failure (of each authority, and of the policy-level
/// policy).
async fn judge_policy(
    policy: &ClusterImagePolicy,
    reference: &ImageReference,
    digest: &Digest,
    fetched: &Fetched,
    context: &Context<'_>,
) -> Result<(), Vec<String>> {
    let mut matches = BTreeMap::new();
    let mut failures = Vec::new();
    for authority in &policy.spec.authorities {
        match judge_authority(authority, reference, digest, fetched, context).await {
            Ok(found) => {
                matches.insert(authority.name.clone(), found);
            }
            Err(failure) => failures.push(failure),
        }
    }
    if matches.is_empty() {
        return Err(failures);
    }
    let Some(level) = &policy.spec.policy else {
        return Ok(());
    };
    let input = policy_input(level, matches, context.resource);
    let Ok(input) = serde_json::to_vec(&input) else {
        failures.push("encoding the policy's input".to_owned());
        return Err(failures);
    };
    if level.fetch_config_file == Some(true) {
        failures.push("fetchConfigFile is not supported by cosign-rs's policy-controller yet: the policy was not evaluated".to_owned());
        return Err(failures);
    }
    match run_policy("ClusterImagePolicy", level, input, context).await {
        Ok(()) => Ok(()),
        Err(failure) => {
            failures.push(failure);
            Err(failures)
        }
    }
}

/// What a policy-level policy evaluates: the authorities that passed, and what of the resource
/// it asks for.
fn policy_input(
    level: &crate::model::Policy,
    matches: BTreeMap<String, AuthorityMatch>,
    resource: Option<&serde_json::Value>,
) -> serde_json::Value {
    let mut input = serde_json::Map::new();
    input.insert(
        "authorityMatches".to_owned(),
        serde_json::to_value(matches).unwrap_or_default(),
    );
    if let Some(resource) = resource {
        let mut include = |asked: Option<bool>, key: &str, value: Option<serde_json::Value>| {
            if let (Some(true), Some(value)) = (asked, value) {
                input.insert(key.to_owned(), value);
            }
        };
        include(level.include_spec, "spec", resource.get("spec").cloned());
        include(
            level.include_object_meta,
            "metadata",
            resource.get("metadata").cloned(),
        );
        let type_meta = serde_json::json!({
            "kind": resource.get("kind").cloned().unwrap_or_default(),
            "apiVersion": resource.get("apiVersion").cloned().unwrap_or_default(),
        });
        include(level.include_type_meta, "typemeta", Some(type_meta));
    }
    serde_json::Value::Object(input)
}

/// Evaluates an inline policy off the async workers (Rego runs in a worker process, CUE in
/// the `cue` tool). A policy kept in a ConfigMap or fetched from a URL is refused, never taken
/// as empty (an empty CUE policy would allow anything).
async fn run_policy(
    name: &str,
    policy: &crate::model::Policy,
    input: Vec<u8>,
    context: &Context<'_>,
) -> Result<(), String> {
    if policy.remote.is_some() || policy.config_map_ref.is_some() {
        return Err(format!(
            "policy for {name}: a policy from a ConfigMap or a URL is not supported by cosign-rs's policy-controller yet: give it inline, as `data`"
        ));
    }
    let (name, type_, data) = (name.to_owned(), policy.type_.clone(), policy.data.clone());
    let evaluation = context.evaluation.clone();
    tokio::task::spawn_blocking(move || {
        cosign_policy::compliance::evaluate(
            &name,
            &type_,
            &data,
            &input,
            cosign_policy::Limits::default(),
            &evaluation,
        )
    })
    .await
    .unwrap_or_else(|error| Err(format!("evaluating the policy: {error}")))
}

async fn judge_authority(
    authority: &Authority,
    reference: &ImageReference,
    digest: &Digest,
    fetched: &Fetched,
    context: &Context<'_>,
) -> Result<AuthorityMatch, String> {
    let name = &authority.name;
    if let Some(static_) = &authority.static_ {
        return match static_.action.as_str() {
            "pass" => Ok(AuthorityMatch {
                static_: true,
                ..AuthorityMatch::default()
            }),
            _ => Err(format!("disallowed by static policy: {}", static_.message)),
        };
    }
    let (kind, verifier) = if let Some(keyless) = &authority.keyless {
        ("keyless", keyless_authority(keyless, authority, context))
    } else {
        if let Some(key) = authority.key.as_ref().filter(|key| key.data.is_empty()) {
            if key.secret_ref.is_some() {
                return Err(format!("authority {name}: a key from a Secret (secretRef) is not supported by cosign-rs's policy-controller yet (it does not read the Kubernetes API): give the key inline, as key.data"));
            }
            if !key.kms.is_empty() {
                return Err(format!("authority {name}: KMS keys are not supported by cosign-rs's policy-controller: give the public key inline, as key.data"));
            }
        }
        let key = authority
            .key
            .as_ref()
            .filter(|key| !key.data.is_empty())
            .ok_or_else(|| format!("there are no public keys for authority {name}"))?;
        ("key", key_authority(&key.data, authority))
    };
    let what = if authority.attestations.is_empty() {
        "signature"
    } else {
        "attestation"
    };
    let failed = |why: String| {
        format!(
            "{what} {kind} validation failed for authority {name} for {}: {why}",
            reference.name()
        )
    };
    let verifier = verifier.map_err(failed)?;
    let place = place(authority, reference).map_err(failed)?;
    let found = fetched
        .iter()
        .find(|(read, _)| Some(read) == place.as_ref())
        .map(|(_, found)| found.clone())
        .unwrap_or_else(|| Ok(Vec::new()))
        .map_err(failed)?;
    if authority.attestations.is_empty() {
        let verified = verify_signatures(verifier, digest, found, Wanted::Signature, context.now)
            .map_err(|unverified| match unverified {
            Unverified::NoneFound => failed("no signatures found".to_owned()),
            Unverified::Failed(reasons) => failed(format!("no matching signatures: {reasons}")),
        })?;
        return Ok(AuthorityMatch {
            signatures: verified.iter().map(policy_signature).collect(),
            ..AuthorityMatch::default()
        });
    }
    let wanted = Wanted::Attestation {
        predicate_type: None,
    };
    let verified = match verify_signatures(verifier, digest, found, wanted, context.now) {
        Ok(verified) => verified,
        Err(Unverified::NoneFound) => {
            return Err(format!(
                "no matching attestations for authority {name} for {}",
                reference.name()
            ))
        }
        Err(Unverified::Failed(reasons)) => {
            return Err(failed(format!("no matching attestations: {reasons}")))
        }
    };
    let mut attestations = BTreeMap::new();
    for wanted in &authority.attestations {
        let passed = check_attestation(wanted, &verified, context).await?;
        attestations.insert(wanted.name.clone(), passed);
    }
    Ok(AuthorityMatch {
        attestations,
        ..AuthorityMatch::default()
    })
}

/// The verified statements of `wanted`'s predicate type its policy finds compliant (at least
/// one), or policy-controller's reason: the first policy failure, else the types there were.
async fn check_attestation(
    wanted: &Attestation,
    verified: &[VerifiedSignature],
    context: &Context<'_>,
) -> Result<Vec<PolicyAttestation>, String> {
    let uri = cosign_core::bundle::attestation::PREDICATE_TYPES
        .iter()
        .find(|(short, _)| *short == wanted.predicate_type)
        .map_or(wanted.predicate_type.as_str(), |(_, uri)| *uri);
    let mut first_failure = None;
    let mut seen = std::collections::BTreeSet::new();
    let mut passed = Vec::new();
    for signature in verified {
        let SignedContent::Statement { raw, statement, .. } = &signature.content else {
            continue;
        };
        seen.insert(statement.predicate_type.clone());
        if statement.predicate_type != uri {
            continue;
        }
        if let Some(policy) = wanted.policy.as_ref().filter(|p| !p.type_.is_empty()) {
            let outcome = run_policy(&wanted.name, policy, raw.clone(), context).await;
            if let Err(failure) = outcome {
                first_failure.get_or_insert(failure);
                continue;
            }
        }
        passed.push(PolicyAttestation {
            signature: policy_signature(signature),
            predicate_type: wanted.predicate_type.clone(),
            digest: origin_digest(&signature.origin),
        });
    }
    if !passed.is_empty() {
        return Ok(passed);
    }
    Err(first_failure.unwrap_or_else(|| {
        let types: Vec<String> = seen.into_iter().collect();
        format!(
            "no matching attestations with type {}, checked the following predicateTypes: {}",
            wanted.predicate_type,
            go_quote(&types.join(","))
        )
    }))
}

/// Go's `%q` of a string.
fn go_quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// The digest of what carried a signature: the legacy layer's, or the referrer manifest's.
fn origin_digest(origin: &Origin) -> String {
    match origin {
        Origin::LegacyLayer(layer) => layer.digest.to_string(),
        Origin::Referrer(manifest) => manifest.to_string(),
    }
}

/// What a policy sees of a signature. Its id is, as policy-controller's, the SHA-256 of the
/// signature and the certificate's PEM for a legacy layer; a bundle's is its referrer
/// manifest's digest.
fn policy_signature(signature: &VerifiedSignature) -> PolicySignature {
    use cosign_core::image::legacy_signature::{CERTIFICATE_ANNOTATION, SIGNATURE_ANNOTATION};
    use sha2::Digest as _;
    let id = match &signature.origin {
        Origin::LegacyLayer(layer) => {
            let annotation = |key: &str| {
                layer
                    .annotations
                    .as_ref()
                    .and_then(|annotations| annotations.get(key))
                    .cloned()
                    .unwrap_or_default()
            };
            let mut hash = sha2::Sha256::new();
            let signature_bytes = base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                annotation(SIGNATURE_ANNOTATION),
            )
            .unwrap_or_default();
            hash.update(&signature_bytes);
            hash.update(annotation(CERTIFICATE_ANNOTATION).as_bytes());
            cosign_core::digest::hex_encode(&hash.finalize())
        }
        Origin::Referrer(manifest) => manifest.hex().to_owned(),
    };
    let mut found = PolicySignature {
        id,
        ..PolicySignature::default()
    };
    if let Signer::Certificate { summary, .. } = &signature.signer {
        use cosign_core::trust::certificate::GithubClaim;
        found.subject = summary.subject.clone();
        found.issuer = summary.issuer.clone().unwrap_or_default();
        for (claim, value) in &summary.github_claims {
            let field = match claim {
                GithubClaim::Trigger => &mut found.github_workflow_trigger,
                GithubClaim::Sha => &mut found.github_workflow_sha,
                GithubClaim::Name => &mut found.github_workflow_name,
                GithubClaim::Repository => &mut found.github_workflow_repo,
                GithubClaim::Ref => &mut found.github_workflow_ref,
            };
            field.clone_from(value);
        }
    }
    found
}

/// A field of the resource, if set.
fn given(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

fn key_authority(pem: &str, authority: &Authority) -> Result<VerifierAuthority, String> {
    if authority.signature_format == "bundle" {
        return Err("when using the new bundle format, the authority must be keyless".to_owned());
    }
    if authority.ctlog.is_some() {
        // policy-controller then requires a log entry for each signature; the shared verifier
        // cannot check one for a key yet, and skipping it would be weaker than what was asked.
        return Err("a key authority with `ctlog` (a transparency log entry required) is not supported by cosign-rs's policy-controller yet: its signatures are never accepted; remove `ctlog` to accept key signatures without a log entry".to_owned());
    }
    let key = PublicKey::from_pem(pem.as_bytes()).map_err(|error| error.to_string())?;
    Ok(VerifierAuthority::Key(KeyAuthority {
        key,
        transparency_log: KeyTransparencyLog::InsecureIgnored,
    }))
}

fn keyless_authority(
    keyless: &KeylessRef,
    authority: &Authority,
    context: &Context<'_>,
) -> Result<VerifierAuthority, String> {
    let trusted_root = if keyless.trust_root_ref.is_empty() {
        // The public Sigstore (policy-controller's default `url`).
        context.public_trusted_root.clone()
    } else {
        let root = context
            .trust_roots
            .iter()
            .find(|root| root.metadata.name == keyless.trust_root_ref)
            .ok_or_else(|| format!("trustRootRef {} not found", keyless.trust_root_ref))?;
        crate::trust_root::trusted_root(root)?
    };
    let identities = keyless
        .identities
        .iter()
        .map(|identity| {
            IdentityPolicy::new(
                given(&identity.subject),
                given(&identity.subject_regexp),
                given(&identity.issuer),
                given(&identity.issuer_regexp),
            )
            .map_err(|error| error.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let timestamps = authority.rfc3161timestamp.is_some();
    let requirements = Requirements {
        sct: if keyless.insecure_ignore_sct == Some(true) {
            SctRequirement::InsecureIgnore
        } else {
            SctRequirement::Embedded
        },
        signed_timestamps: usize::from(timestamps),
        // As policy-controller: with signed timestamps the log is not checked.
        transparency_log: if timestamps {
            LogRequirement::InsecureIgnore
        } else {
            LogRequirement::Entry
        },
    };
    Ok(VerifierAuthority::Keyless(KeylessAuthority {
        trusted_root,
        identities,
        requirements,
        certificate: None,
    }))
}

/// Why no signature (or attestation) counted.
enum Unverified {
    /// There were none.
    NoneFound,
    /// Each one's reason, joined.
    Failed(String),
}

/// The signatures (or attestations) `found` for the image that `verifier` vouches for (at
/// least one).
fn verify_signatures(
    verifier: VerifierAuthority,
    digest: &Digest,
    found: Vec<cosign_core::verify::Candidate>,
    wanted: Wanted,
    now: UnixTime,
) -> Result<Vec<VerifiedSignature>, Unverified> {
    let policy = ImagePolicy {
        authorities: vec![verifier],
        wanted,
        annotations: Default::default(),
        check_claims: true,
    };
    let verification = verify_image(&policy, digest, found, now);
    match verification.verdict() {
        Verdict::Verified => Ok(verification.verified),
        Verdict::NoSignatures => Err(Unverified::NoneFound),
        Verdict::NoneVerified { .. } => Err(Unverified::Failed(
            verification
                .failures
                .iter()
                .map(|failure| failure.reason.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )),
    }
}
