//! A `ClusterImagePolicy` checked as policy-controller checks it (its `Validate` methods): every
//! rule, message and field path the same, so a policy refused here is refused there with the
//! same words. Warnings (a short predicate type) are kept apart from errors.

use crate::field_error::{FieldError, FieldErrors, Level};
use crate::glob::Glob;
use crate::model::{
    Attestation, Authority, ClusterImagePolicySpec, Identity, KeyRef, KeylessRef, MatchResource,
    Policy, Source, StaticRef,
};

/// The predicate types cosign once took by a short name (deprecated: warned about).
const SHORT_PREDICATE_TYPES: [&str; 7] = [
    "custom",
    "slsaprovenance",
    "spdx",
    "spdxjson",
    "cyclonedx",
    "link",
    "vuln",
];
const KMS_SCHEMES: [&str; 4] = ["awskms://", "azurekms://", "hashivault://", "gcpkms://"];

/// The namespace policy-controller runs in: a key's `secretRef` may name only this one.
pub const SYSTEM_NAMESPACE: &str = "cosign-system";

/// Whether `spec.policy` or an attestation's: only the former may fetch the config or include
/// the resource.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PolicyPlace {
    Spec,
    Attestation,
}

/// Every error (and warning) of `spec`, paths from `spec.`.
pub fn validate(spec: &ClusterImagePolicySpec) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if spec.images.is_empty() {
        errors.push(FieldError::missing(&["images"]));
    }
    for (index, image) in spec.images.iter().enumerate() {
        let found = if image.glob.is_empty() {
            FieldError::missing(&["glob"]).into()
        } else {
            match Glob::compile(&image.glob) {
                Ok(_) => FieldErrors::default(),
                Err(error) => {
                    FieldError::invalid(&image.glob, "glob", &format!("glob is invalid: {error}"))
                        .into()
                }
            }
        };
        errors.extend(found.via_index("images", index));
    }
    if spec.authorities.is_empty() {
        errors.push(FieldError::missing(&["authorities"]));
    }
    for (index, authority) in spec.authorities.iter().enumerate() {
        errors.extend(validate_authority(authority).via_index("authorities", index));
    }
    if !spec.mode.is_empty() && spec.mode != "enforce" && spec.mode != "warn" {
        errors.push(FieldError::invalid(&spec.mode, "mode", "unsupported mode"));
    }
    for (index, resource) in spec.match_.iter().enumerate() {
        errors.extend(validate_match(resource).via_index("match", index));
    }
    // As policy-controller: the policy-level policy's paths carry no `policy.`.
    if let Some(policy) = &spec.policy {
        errors.extend(validate_policy(policy, PolicyPlace::Spec));
    }
    errors.via_field("spec")
}

fn validate_match(resource: &MatchResource) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if resource.selector.is_some()
        && resource.resource.is_empty()
        && resource.version.is_empty()
        && resource.group.is_empty()
    {
        errors.push(FieldError::invalid(
            &resource.resource,
            "selector",
            "selector requires a resource type to match the labels",
        ));
    }
    errors
}

fn validate_authority(authority: &Authority) -> FieldErrors {
    let mut errors = FieldErrors::default();
    let kinds = [
        authority.key.is_some(),
        authority.keyless.is_some(),
        authority.static_.is_some(),
    ];
    let given = kinds.iter().filter(|given| **given).count();
    if given == 0 {
        errors.push(FieldError::missing_one_of(&["key", "keyless", "static"]));
        return errors;
    }
    if given > 1 {
        errors.push(FieldError::multiple_one_of(&["key", "keyless", "static"]));
        return errors;
    }
    if let Some(key) = &authority.key {
        errors.extend(validate_key(key).via_field("key"));
    }
    if let Some(keyless) = &authority.keyless {
        errors.extend(validate_keyless(keyless).via_field("keyless"));
    }
    if let Some(static_) = &authority.static_ {
        errors.extend(validate_static(static_).via_field("static"));
        if !authority.attestations.is_empty() {
            errors.push(FieldError::multiple_one_of(&["static", "attestations"]));
        }
        if !authority.source.is_empty() {
            errors.push(FieldError::multiple_one_of(&["static", "source"]));
        }
        if authority.ctlog.is_some() {
            errors.push(FieldError::multiple_one_of(&["static", "ctlog"]));
        }
        if authority.rfc3161timestamp.is_some() {
            errors.push(FieldError::multiple_one_of(&["static", "rfc3161timestamp"]));
        }
    }
    if authority.source.len() > 1 {
        errors.push(FieldError::invalid(
            "source",
            "source",
            "only single source is supported",
        ));
    } else {
        for (index, source) in authority.source.iter().enumerate() {
            errors.extend(validate_source(source).via_index("source", index));
        }
    }
    for attestation in &authority.attestations {
        errors.extend(validate_attestation(attestation).via_field("attestations"));
    }
    errors
}

fn validate_static(static_: &StaticRef) -> FieldErrors {
    match static_.action.as_str() {
        "" => FieldError::missing(&["action"]).into(),
        "pass" | "fail" => FieldErrors::default(),
        other => FieldError::invalid(other, "action", "unsupported action").into(),
    }
}

fn validate_key(key: &KeyRef) -> FieldErrors {
    let mut errors = FieldErrors::default();
    let one_of = ["data", "kms", "secretref"];
    if key.data.is_empty() && key.kms.is_empty() && key.secret_ref.is_none() {
        errors.push(FieldError::missing_one_of(&one_of));
    }
    if !key.hash_algorithm.is_empty()
        && !["sha224", "sha256", "sha384", "sha512"]
            .contains(&key.hash_algorithm.to_ascii_lowercase().as_str())
    {
        errors.push(FieldError::invalid(
            &key.hash_algorithm,
            "hashAlgorithm",
            "",
        ));
    }
    if !key.data.is_empty() {
        if !key.kms.is_empty() || key.secret_ref.is_some() {
            errors.push(FieldError::multiple_one_of(&one_of));
        }
        if cosign_core::keys::PublicKey::from_pem(key.data.as_bytes()).is_err() {
            errors.push(FieldError::invalid(&key.data, "data", ""));
        }
    } else if !key.kms.is_empty() && key.secret_ref.is_some() {
        errors.push(FieldError::multiple_one_of(&one_of));
    }
    if !key.kms.is_empty() && !KMS_SCHEMES.iter().any(|scheme| key.kms.starts_with(scheme)) {
        errors.push(FieldError::invalid(
            &key.kms,
            "kms",
            &format!(
                "malformed KMS format, should be prefixed by any of the supported providers: {:?}",
                KMS_SCHEMES
            ),
        ));
    }
    if let Some(secret) = &key.secret_ref {
        if !secret.namespace.is_empty() && secret.namespace != SYSTEM_NAMESPACE {
            errors.push(FieldError::invalid(
                &secret.namespace,
                "secretref.namespace",
                "secretref.namespace is invalid. If set, it should use the same namespace where the policy-controller was deployed",
            ));
        }
    }
    errors
}

fn validate_keyless(keyless: &KeylessRef) -> FieldErrors {
    let mut errors = FieldErrors::default();
    match (&keyless.url, &keyless.ca_cert) {
        (None, None) => errors.push(FieldError::missing_one_of(&["url", "ca-cert"])),
        (Some(_), Some(_)) => errors.push(FieldError::multiple_one_of(&["url", "ca-cert"])),
        _ => {}
    }
    if let Some(ca) = &keyless.ca_cert {
        errors.extend(validate_key(ca).via_field("ca-cert"));
    }
    if keyless.identities.is_empty() {
        errors.push(FieldError::missing(&["identities"]));
    }
    for (index, identity) in keyless.identities.iter().enumerate() {
        errors.extend(validate_identity(identity).via_index("identities", index));
    }
    errors
}

fn validate_regex(expression: &str, field: &str) -> FieldErrors {
    match regex::Regex::new(expression) {
        Ok(_) => FieldErrors::default(),
        Err(error) => {
            FieldError::invalid(expression, field, &format!("regex is invalid: {error}")).into()
        }
    }
}

fn validate_identity(identity: &Identity) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if !identity.issuer.is_empty() && !identity.issuer_regexp.is_empty() {
        errors.push(FieldError::multiple_one_of(&["issuer", "issuerRegExp"]));
    }
    if !identity.subject.is_empty() && !identity.subject_regexp.is_empty() {
        errors.push(FieldError::multiple_one_of(&["subject", "subjectRegExp"]));
    }
    if !identity.issuer_regexp.is_empty() {
        errors.extend(validate_regex(&identity.issuer_regexp, "issuerRegExp"));
    }
    if !identity.subject_regexp.is_empty() {
        errors.extend(validate_regex(&identity.subject_regexp, "subjectRegExp"));
    }
    if identity.subject.is_empty() && identity.subject_regexp.is_empty() {
        errors.push(FieldError::missing(&["subject", "subjectRegExp"]));
    }
    if identity.issuer.is_empty() && identity.issuer_regexp.is_empty() {
        errors.push(FieldError::missing(&["issuer", "issuerRegExp"]));
    }
    errors
}

fn validate_source(source: &Source) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if !source.oci.is_empty() {
        if let Err(error) = cosign_core::image::reference::Repository::parse(&source.oci) {
            errors.push(FieldError::invalid(&source.oci, "oci", &error.to_string()));
        }
    }
    for (index, secret) in source.signature_pull_secrets.iter().enumerate() {
        if secret.name.is_empty() {
            errors.extend(
                FieldErrors::from(FieldError::missing(&["name"]))
                    .via_index("signaturePullSecrets", index),
            );
        }
    }
    errors
}

fn validate_attestation(attestation: &Attestation) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if attestation.name.is_empty() {
        errors.push(FieldError::missing(&["name"]));
    }
    let predicate = attestation.predicate_type.as_str();
    if predicate.is_empty() {
        errors.push(FieldError::missing(&["predicateType"]));
    } else if SHORT_PREDICATE_TYPES.contains(&predicate) || !is_request_uri(predicate) {
        errors.push(
            FieldError::invalid(
                predicate,
                "predicateType",
                "deprecated value, please use RFC 3986 conformant values",
            )
            .at(Level::Warning),
        );
    }
    if let Some(policy) = &attestation.policy {
        errors.extend(validate_policy(policy, PolicyPlace::Attestation).via_field("policy"));
    }
    errors
}

/// What Go's `url.ParseRequestURI` accepts: an absolute URI (a scheme) or an absolute path.
fn is_request_uri(text: &str) -> bool {
    if text.starts_with('/') {
        return true;
    }
    match text.split_once(':') {
        Some((scheme, _)) => {
            let mut characters = scheme.chars();
            characters.next().is_some_and(|c| c.is_ascii_alphabetic())
                && characters.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

fn validate_policy(policy: &Policy, place: PolicyPlace) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if policy.type_ != "cue" && policy.type_ != "rego" {
        errors.push(FieldError::invalid(
            &policy.type_,
            "type",
            "only [cue,rego] are supported at the moment",
        ));
    }
    let sources = [
        !policy.data.is_empty(),
        policy.config_map_ref.is_some(),
        policy.remote.is_some(),
    ];
    let one_of = ["data", "configMapRef", "remote"];
    match sources.iter().filter(|given| **given).count() {
        0 => errors.push(FieldError::missing(&one_of)),
        1 => {}
        3 => {
            errors.push(FieldError::multiple_one_of(&one_of));
            errors.push(FieldError::multiple_one_of(&one_of));
        }
        _ => errors.push(FieldError::multiple_one_of(&one_of)),
    }
    if let Some(remote) = &policy.remote {
        let mut remote_errors = FieldErrors::default();
        let https_host = remote
            .url
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.split('/').next().unwrap_or_default().is_empty());
        if !https_host {
            remote_errors.push(FieldError::invalid(
                &remote.url,
                "url",
                "url valid is invalid. host and https scheme are expected",
            ));
        }
        if remote.sha256sum.is_empty() {
            remote_errors.push(FieldError::missing(&["sha256sum"]));
        }
        errors.extend(remote_errors.via_field("remote"));
    }
    if let Some(reference) = &policy.config_map_ref {
        let mut reference_errors = FieldErrors::default();
        if reference.name.is_empty() {
            reference_errors.push(FieldError::missing(&["name"]));
        }
        if reference.key.is_empty() {
            reference_errors.push(FieldError::missing(&["key"]));
        }
        errors.extend(reference_errors.via_field("configMapRef"));
    }
    if place == PolicyPlace::Attestation {
        for (set, field) in [
            (policy.fetch_config_file.is_some(), "fetchConfigFile"),
            (policy.include_spec.is_some(), "includeSpec"),
            (policy.include_object_meta.is_some(), "includeObjectMeta"),
            (policy.include_type_meta.is_some(), "includeTypeMeta"),
        ] {
            if set {
                errors.push(FieldError::disallowed(&[field]));
            }
        }
    }
    errors
}
