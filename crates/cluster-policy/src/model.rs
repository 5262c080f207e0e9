//! The resources as policy-controller's API defines them (`policy.sigstore.dev`): field names
//! exactly as its JSON tags, unknown fields refused (its tester decodes with
//! `DisallowUnknownFields`). `v1alpha1` and `v1beta1` have the same fields, so one model reads
//! both.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The metadata policy-controller reads (the rest of a Kubernetes `ObjectMeta` is accepted and
/// ignored).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Metadata {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// A `ClusterImagePolicy`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterImagePolicy {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: Metadata,
    pub spec: ClusterImagePolicySpec,
    #[serde(default)]
    pub status: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterImagePolicySpec {
    #[serde(default)]
    pub images: Vec<ImagePattern>,
    #[serde(default)]
    pub authorities: Vec<Authority>,
    /// The policy over the authorities' results.
    #[serde(default)]
    pub policy: Option<Policy>,
    /// `enforce` (the default) or `warn`.
    #[serde(default)]
    pub mode: String,
    #[serde(default, rename = "match")]
    pub match_: Vec<MatchResource>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ImagePattern {
    #[serde(default)]
    pub glob: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MatchResource {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub resource: String,
    #[serde(default)]
    pub selector: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Authority {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub key: Option<KeyRef>,
    #[serde(default)]
    pub keyless: Option<KeylessRef>,
    #[serde(default, rename = "static")]
    pub static_: Option<StaticRef>,
    #[serde(default)]
    pub source: Vec<Source>,
    #[serde(default)]
    pub ctlog: Option<TlogRef>,
    #[serde(default)]
    pub attestations: Vec<Attestation>,
    #[serde(default)]
    pub rfc3161timestamp: Option<TimestampRef>,
    /// `legacy` or `bundle` (not validated by policy-controller).
    #[serde(default)]
    pub signature_format: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeyRef {
    #[serde(default)]
    pub secret_ref: Option<SecretReference>,
    #[serde(default)]
    pub data: String,
    #[serde(default)]
    pub kms: String,
    #[serde(default)]
    pub hash_algorithm: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecretReference {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeylessRef {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub identities: Vec<Identity>,
    #[serde(default, rename = "ca-cert")]
    pub ca_cert: Option<KeyRef>,
    #[serde(default)]
    pub trust_root_ref: String,
    #[serde(default, rename = "insecureIgnoreSCT")]
    pub insecure_ignore_sct: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Identity {
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default, rename = "issuerRegExp")]
    pub issuer_regexp: String,
    #[serde(default, rename = "subjectRegExp")]
    pub subject_regexp: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StaticRef {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Source {
    #[serde(default)]
    pub oci: String,
    #[serde(default)]
    pub signature_pull_secrets: Vec<SecretName>,
    #[serde(default)]
    pub tag_prefix: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecretName {
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TlogRef {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub trust_root_ref: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TimestampRef {
    #[serde(default)]
    pub trust_root_ref: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Attestation {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub predicate_type: String,
    #[serde(default)]
    pub policy: Option<Policy>,
}

/// A CUE or Rego policy: inline, from a ConfigMap, or fetched (pinned by its SHA-256).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Policy {
    #[serde(default, rename = "type")]
    pub type_: String,
    #[serde(default)]
    pub data: String,
    #[serde(default)]
    pub remote: Option<RemotePolicy>,
    #[serde(default)]
    pub config_map_ref: Option<ConfigMapReference>,
    #[serde(default)]
    pub fetch_config_file: Option<bool>,
    #[serde(default)]
    pub include_spec: Option<bool>,
    #[serde(default)]
    pub include_object_meta: Option<bool>,
    #[serde(default)]
    pub include_type_meta: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RemotePolicy {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub sha256sum: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigMapReference {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub key: String,
}
