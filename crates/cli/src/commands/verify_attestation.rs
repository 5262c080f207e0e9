//! `cosign verify-attestation`: the image's attestations in both formats (the legacy
//! `sha256-<hex>.att` layers and Sigstore bundles among its referrers) verified by the library
//! like `verify`'s signatures, only those of the `--type` counted (an attestation of another
//! type never is: CVE-2022-35929), each then checked against the `--policy` files, and printed
//! as cosign prints them: one DSSE envelope per line on stdout, the checks on stderr, exit 1 on
//! any failure.

use std::path::Path;

use cosign_core::bundle::attestation;
use cosign_core::image::legacy_signature::Attachment;
use cosign_core::time::UnixTime;
use cosign_core::verify::{ImagePolicy, ImageVerification, SignedContent, Signer, Wanted};
use cosign_oci::candidates::Formats;
use cosign_policy::rego::Evaluation;
use cosign_policy::{go_list, Limits, Policies, PolicyError};
use futures::StreamExt as _;

use crate::args::VerifyAttestationArgs;
use crate::commands::verify::{
    authority, print_header, verify_local_image, verify_registry_image, AuthorityFlags,
};
use crate::console::{self, Console};
use crate::error::CliError;
use crate::registry_access;
use crate::settings::GlobalSettings;

pub async fn run(
    args: &VerifyAttestationArgs,
    settings: &GlobalSettings,
    console: &mut Console,
) -> Result<(), CliError> {
    // Checked as cosign checks it; an envelope's signature is accepted with any of the
    // hashes (cosign_core::bundle::dsse::verify), so no narrower check follows.
    crate::commands::verify_blob::parse_signature_digest_algorithm(
        args.signature_digest_algorithm.as_deref(),
    )?;
    // The policies are read and compiled first: a bad one is said before any network work.
    let evaluation = match std::env::current_exe() {
        Ok(program) => Evaluation::Worker { program },
        Err(error) => {
            return Err(CliError::new(format!(
                "finding this program to evaluate Rego policies in a child process: {error}"
            )))
        }
    };
    let policies =
        Policies::load(&args.policies, Limits::default(), evaluation).map_err(policy_error)?;
    let policy = policy(args)?;
    let formats = Formats {
        legacy: Some(Attachment::Attestations),
        bundles: args.new_bundle_format != Some(false),
    };
    let now = UnixTime::from_seconds(crate::trust::now());
    let check = Check {
        args,
        policy: &policy,
        policies: &policies,
    };
    if args.local_image {
        for path in &args.images {
            let (_, verification) = verify_local_image(Path::new(path), &policy, formats, now)?;
            check.conclude(path, &verification, console)?;
        }
        return Ok(());
    }
    let references = registry_access::parse_references(&args.images)?;
    let client = registry_access::client(&args.registry, settings)?;
    let policy_ref = &policy;
    let mut results = futures::stream::iter(references.iter().map(|reference| {
        let client = &client;
        async move {
            let (_, verification) =
                verify_registry_image(client, reference, policy_ref, formats, None, now).await?;
            Ok::<_, CliError>((reference, verification))
        }
    }))
    .buffered(args.max_workers.max(1));
    while let Some(result) = results.next().await {
        let (reference, verification) = result?;
        check.conclude(&reference.to_string(), &verification, console)?;
    }
    console::debug(format_args!("{} registry requests", client.request_count()));
    Ok(())
}

/// The policy the flags describe: who may vouch (as `verify`), attestations of `--type`.
fn policy(args: &VerifyAttestationArgs) -> Result<ImagePolicy, CliError> {
    let authority = authority(
        &AuthorityFlags {
            key: args.key.as_deref(),
            identity: &args.identity,
            trusted_root: args.trusted_root.as_deref(),
            verification: &args.verification,
            insecure_ignore_tlog: args.insecure_ignore_tlog,
        },
        "attestation",
    )?;
    // A short name's URI, or the value as given (cosign does not check it here).
    let predicate_type = attestation::predicate_type_uri(&args.predicate_type)
        .unwrap_or_else(|_| args.predicate_type.clone());
    Ok(ImagePolicy {
        authorities: vec![authority],
        wanted: Wanted::Attestation {
            predicate_type: Some(predicate_type),
        },
        annotations: Default::default(),
        check_claims: args.check_claims,
    })
}

fn policy_error(error: PolicyError) -> CliError {
    let hint = error.hint();
    let error = CliError::new(error.to_string());
    match hint {
        Some(hint) => error.with_hint(hint),
        None => error,
    }
}

struct Check<'a> {
    args: &'a VerifyAttestationArgs,
    policy: &'a ImagePolicy,
    policies: &'a Policies,
}

impl Check<'_> {
    /// cosign's order for one image: nothing verified is an error; each verified attestation
    /// of the type goes through the policies (CUE, then Rego); any violation is an error;
    /// none of the type is an error; then the header, and the envelopes on stdout.
    fn conclude(
        &self,
        shown: &str,
        verification: &ImageVerification,
        console: &mut Console,
    ) -> Result<(), CliError> {
        if verification.verified.is_empty() && verification.unwanted.is_empty() {
            let reasons: Vec<String> = verification
                .failures
                .iter()
                .map(|failure| failure.reason.to_string())
                .collect();
            return Err(CliError::new(format!(
                "no matching attestations: {}",
                reasons.join("\n ")
            )));
        }
        let mut violations = Vec::new();
        for signature in &verification.verified {
            let SignedContent::Statement { raw, .. } = &signature.content else {
                continue;
            };
            violations.extend(self.check_policies(raw));
        }
        if !violations.is_empty() {
            console::info(format_args!(
                "There are {} number of errors occurred during the validation:\n",
                violations.len()
            ));
            for violation in &violations {
                console::info(format_args!("- {violation}"));
            }
            return Err(CliError::new(format!(
                "{} validation errors occurred",
                violations.len()
            )));
        }
        if verification.verified.is_empty() {
            let found: Vec<&str> = verification
                .unwanted
                .iter()
                .map(|unwanted| unwanted.predicate_type.as_str())
                .collect();
            return Err(CliError::new(format!(
                "none of the attestations matched the predicate type: {}, found: {}",
                self.args.predicate_type,
                found.join(",")
            )));
        }
        let bundles = verification
            .verified
            .iter()
            .any(|signature| signature.origin.legacy_layer().is_none());
        print_header(shown, self.args.check_claims, false, bundles, self.policy);
        for signature in &verification.verified {
            let SignedContent::Statement { envelope, .. } = &signature.content else {
                continue;
            };
            if let Signer::Certificate { summary, .. } = &signature.signer {
                if signature.origin.legacy_layer().is_some() {
                    console::info(format_args!("Certificate subject: {}", summary.subject));
                    if let Some(issuer) = &summary.issuer {
                        console::info(format_args!("Certificate issuer URL: {issuer}"));
                    }
                }
            }
            let mut line = envelope.clone();
            line.push(b'\n');
            console.out(&line)?;
        }
        Ok(())
    }

    /// The statement through the CUE policies, then (if they passed) the Rego ones.
    fn check_policies(&self, statement: &[u8]) -> Vec<cosign_policy::Violation> {
        if let Some(cue) = self.policies.cue() {
            console::info(format_args!(
                "will be validating against CUE policies: {}",
                go_list(cue.paths())
            ));
            if let Err(violation) = cue.check(statement) {
                return vec![violation];
            }
        }
        if let Some(rego) = self.policies.rego() {
            console::info(format_args!(
                "will be validating against Rego policies: {}",
                go_list(rego.paths())
            ));
            if let Err(violation) = rego.check(statement) {
                return vec![violation];
            }
        }
        Vec::new()
    }
}
