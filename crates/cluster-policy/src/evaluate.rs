//! An image judged by the policies that apply to it, as policy-controller judges it: every
//! policy one of whose globs matches the image must pass; a policy passes when any one of its
//! authorities does (each place signatures live in is read once, all at once, and every
//! authority checked against what it gave); a policy in `warn` mode that fails gives
//! warnings instead of errors; an image no policy covers is refused. Authorities are checked
//! with the shared verifier (`cosign_core::verify`) over what `cosign_oci` gathers:
//!
//! - `static`: `pass`, or `fail` with its message;
//! - `key` (inline `data`): the image's signatures, in the legacy `.sig` format, or as bundles
//!   with `signatureFormat: bundle`; with no `ctlog` the transparency log is not checked, as
//!   policy-controller does (it skips the log when it has no log to check against), and a
//!   `source.oci` repository is where the signatures are looked for.
//!
//! - `keyless` with a `trustRootRef` to a `TrustRoot` of `sigstoreKeys`: a Fulcio certificate
//!   chaining to its CAs, with an embedded SCT of its CT logs (unless `insecureIgnoreSCT`),
//!   naming one of the identities (issuer and subject, exact or regular expressions); with
//!   `rfc3161timestamp` a signed timestamp of its TSAs is required and the transparency log is
//!   not checked (as policy-controller), else a transparency log entry of its logs is.
//!
//! Attestations and the policy-level `policy` come next, and keyless authorities on the
//! public Sigstore (its trusted root comes from TUF); until then such an authority fails with
//! an error that says so (the image is never allowed by it).

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
use cosign_oci::candidates::{self, Formats};
use cosign_oci::RegistryClient;

use crate::load::TrustRoot;
use crate::model::{Authority, ClusterImagePolicy, KeylessRef};

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

/// What checking needs: the registry, the `TrustRoot`s `trustRootRef`s name, and the time.
#[derive(Debug)]
pub struct Context<'a> {
    pub client: &'a RegistryClient,
    pub trust_roots: &'a [TrustRoot],
    pub now: UnixTime,
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
        let Err(failures) = judge_policy(policy, &reference, &digest, &fetched, context) else {
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

/// Where an authority's signatures are: a repository, as bundles (else legacy `.sig`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    repository: Repository,
    bundles: bool,
}

/// What each place gave: its candidates, or why it could not be read.
type Fetched = Vec<(Place, Result<Vec<cosign_core::verify::Candidate>, String>)>;

/// Where `authority` looks for signatures (none for a static authority, or one that checks
/// attestations): `source.oci` when given, else the image's repository.
fn place(authority: &Authority, reference: &ImageReference) -> Result<Option<Place>, String> {
    if authority.static_.is_some() || !authority.attestations.is_empty() {
        return Ok(None);
    }
    let repository = match authority.source.first().map(|source| source.oci.as_str()) {
        Some(oci) if !oci.is_empty() => Repository::parse(oci).map_err(|e| e.to_string())?,
        _ => reference.repository().clone(),
    };
    Ok(Some(Place {
        repository,
        bundles: authority.signature_format == "bundle",
    }))
}

async fn read_place(
    place: &Place,
    digest: &Digest,
    client: &RegistryClient,
) -> Result<Vec<cosign_core::verify::Candidate>, String> {
    let formats = Formats {
        legacy: (!place.bundles)
            .then_some(cosign_core::image::legacy_signature::Attachment::Signatures),
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

/// A policy's verdict: passed, or every authority's failure.
fn judge_policy(
    policy: &ClusterImagePolicy,
    reference: &ImageReference,
    digest: &Digest,
    fetched: &Fetched,
    context: &Context<'_>,
) -> Result<(), Vec<String>> {
    let results: Vec<Result<(), String>> = policy
        .spec
        .authorities
        .iter()
        .map(|authority| judge_authority(authority, reference, digest, fetched, context))
        .collect();
    if results.iter().any(Result::is_ok) {
        return Ok(());
    }
    Err(results.into_iter().filter_map(Result::err).collect())
}

fn judge_authority(
    authority: &Authority,
    reference: &ImageReference,
    digest: &Digest,
    fetched: &Fetched,
    context: &Context<'_>,
) -> Result<(), String> {
    let name = &authority.name;
    if let Some(static_) = &authority.static_ {
        return match static_.action.as_str() {
            "pass" => Ok(()),
            _ => Err(format!("disallowed by static policy: {}", static_.message)),
        };
    }
    if !authority.attestations.is_empty() {
        return Err(format!(
            "authority {name}: attestations are not supported by cosign-rs's policy-controller yet"
        ));
    }
    let (kind, verifier) = if let Some(keyless) = &authority.keyless {
        ("keyless", keyless_authority(keyless, authority, context))
    } else {
        let key = authority
            .key
            .as_ref()
            .filter(|key| !key.data.is_empty())
            .ok_or_else(|| format!("there are no public keys for authority {name}"))?;
        ("key", key_authority(&key.data, authority))
    };
    let failed = |why: String| {
        format!(
            "signature {kind} validation failed for authority {name} for {}: {why}",
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
    verify_signatures(verifier, digest, found, context.now).map_err(failed)
}

/// A field of the resource, if set.
fn given(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

fn key_authority(pem: &str, authority: &Authority) -> Result<VerifierAuthority, String> {
    if authority.signature_format == "bundle" {
        return Err("when using the new bundle format, the authority must be keyless".to_owned());
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
    if keyless.trust_root_ref.is_empty() {
        return Err("a keyless authority needs a trustRootRef to a TrustRoot with sigstoreKeys: the public Sigstore's trusted root comes from its TUF repository, which cosign-rs's policy-controller does not fetch yet".to_owned());
    }
    let root = context
        .trust_roots
        .iter()
        .find(|root| root.metadata.name == keyless.trust_root_ref)
        .ok_or_else(|| format!("trustRootRef {} not found", keyless.trust_root_ref))?;
    let trusted_root = crate::trust_root::trusted_root(root)?;
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

/// Whether `verifier` vouches for one of the signatures `found` for the image; the reason
/// when not.
fn verify_signatures(
    verifier: VerifierAuthority,
    digest: &Digest,
    found: Vec<cosign_core::verify::Candidate>,
    now: UnixTime,
) -> Result<(), String> {
    let policy = ImagePolicy {
        authorities: vec![verifier],
        wanted: Wanted::Signature,
        annotations: Default::default(),
        check_claims: true,
    };
    let verification = verify_image(&policy, digest, found, now);
    match verification.verdict() {
        Verdict::Verified => Ok(()),
        Verdict::NoSignatures => Err("no signatures found".to_owned()),
        Verdict::NoneVerified { .. } => Err(format!(
            "no matching signatures: {}",
            verification
                .failures
                .iter()
                .map(|failure| failure.reason.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        )),
    }
}
