//! Policy files read as policy-controller's tester reads them: YAML documents separated by
//! `---` lines, each a `ClusterImagePolicy` (`policy.sigstore.dev/v1alpha1` or `v1beta1`) or a
//! `TrustRoot` (`v1alpha1`), unknown fields refused, defaults applied (mode `enforce`, authority
//! names `authority-<i>`, keyless authorities without a CA on public Fulcio), then validated:
//! an invalid policy is refused with the fields that are wrong.

use crate::field_error::{FieldErrors, Level};
use crate::model::ClusterImagePolicy;
use crate::validate::validate;

pub const GROUP: &str = "policy.sigstore.dev";
/// The Fulcio a keyless authority without `url` or `ca-cert` trusts.
pub const PUBLIC_FULCIO: &str = "https://fulcio.sigstore.dev";

/// A `TrustRoot`: the Sigstore instance a `trustRootRef` names.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrustRoot {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: crate::model::Metadata,
    pub spec: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub status: Option<serde_json::Value>,
}

/// What a policy file holds.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub policies: Vec<ClusterImagePolicy>,
    pub trust_roots: Vec<TrustRoot>,
    /// Warnings about valid policies (`policy <i>: ...`).
    pub warnings: Vec<String>,
}

/// Why a policy file is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    #[error("document {document}: {message}")]
    Yaml { document: usize, message: String },
    #[error("unknown type: {0}")]
    UnknownType(String),
    #[error("policy {name:?} is invalid: {errors}")]
    Invalid { name: String, errors: FieldErrors },
}

/// The largest policy file read (policy-controller's resources are a few KiB each).
pub const FILE_SIZE_LIMIT: u64 = 4 * 1024 * 1024;

/// Why a policy file cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is larger than {FILE_SIZE_LIMIT} bytes")]
    TooLarge { path: String },
    #[error(transparent)]
    Invalid(#[from] LoadError),
}

/// Reads the resources of the file at `path` (at most [`FILE_SIZE_LIMIT`] bytes).
pub fn load_file(path: &std::path::Path) -> Result<Loaded, FileError> {
    Ok(load(&read_file(path)?)?)
}

/// A policy or resource file's text, read with the size cap.
pub fn read_file(path: &std::path::Path) -> Result<String, FileError> {
    use std::io::Read as _;
    let shown = path.display().to_string();
    let read = |source| FileError::Read {
        path: shown.clone(),
        source,
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(read)?
        .take(FILE_SIZE_LIMIT + 1)
        .read_to_string(&mut text)
        .map_err(read)?;
    if text.len() as u64 > FILE_SIZE_LIMIT {
        return Err(FileError::TooLarge { path: shown });
    }
    Ok(text)
}

/// Reads every resource of `text`.
pub fn load(text: &str) -> Result<Loaded, LoadError> {
    let mut loaded = Loaded::default();
    for (document, body) in documents(text).iter().enumerate() {
        if body
            .lines()
            .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
        {
            continue;
        }
        let value: serde_json::Value =
            serde_norway::from_str(body).map_err(|error| LoadError::Yaml {
                document,
                message: error.to_string(),
            })?;
        let api_version = value
            .get("apiVersion")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let kind = value.get("kind").and_then(|v| v.as_str()).unwrap_or("");
        let typed = |error: serde_json::Error| LoadError::Yaml {
            document,
            message: error.to_string(),
        };
        match (api_version, kind) {
            (version, "ClusterImagePolicy")
                if version == format!("{GROUP}/v1beta1")
                    || version == format!("{GROUP}/v1alpha1") =>
            {
                let mut policy: ClusterImagePolicy =
                    serde_json::from_value(value).map_err(typed)?;
                apply_defaults(&mut policy);
                let errors = validate(&policy.spec);
                let refused = errors.filter(Level::Error);
                if !refused.is_empty() {
                    return Err(LoadError::Invalid {
                        name: policy.metadata.name.clone(),
                        errors: refused,
                    });
                }
                let warnings = errors.filter(Level::Warning);
                if !warnings.is_empty() {
                    let index = loaded.policies.len();
                    loaded.warnings.push(format!("policy {index}: {warnings}"));
                }
                loaded.policies.push(policy);
            }
            (version, "TrustRoot") if version == format!("{GROUP}/v1alpha1") => {
                let root: TrustRoot = serde_json::from_value(value).map_err(typed)?;
                let given = ["remote", "repository", "sigstoreKeys"]
                    .iter()
                    .filter(|field| root.spec.contains_key(**field))
                    .count();
                if given != 1 {
                    let error = if given == 0 {
                        crate::field_error::FieldError::missing_one_of(&[
                            "remote",
                            "repository",
                            "sigstoreKeys",
                        ])
                    } else {
                        crate::field_error::FieldError::multiple_one_of(&[
                            "remote",
                            "repository",
                            "sigstoreKeys",
                        ])
                    };
                    return Err(LoadError::Invalid {
                        name: root.metadata.name.clone(),
                        errors: FieldErrors::from(error).via_field("spec"),
                    });
                }
                loaded.trust_roots.push(root);
            }
            (version, kind) => {
                let (group, version) = version.split_once('/').unwrap_or(("", version));
                return Err(LoadError::UnknownType(format!(
                    "{group}/{version}, Kind={kind}"
                )));
            }
        }
    }
    Ok(loaded)
}

/// The YAML documents of `text`: split at each `---` line.
fn documents(text: &str) -> Vec<String> {
    let mut documents = vec![String::new()];
    for line in text.lines() {
        let marker = line.trim_end();
        if marker == "---" || marker.starts_with("--- ") || marker.starts_with("---#") {
            documents.push(String::new());
        } else if let Some(last) = documents.last_mut() {
            last.push_str(line);
            last.push('\n');
        }
    }
    documents
}

/// policy-controller's defaults (`SetDefaults`).
fn apply_defaults(policy: &mut ClusterImagePolicy) {
    if policy.spec.mode.is_empty() {
        policy.spec.mode = "enforce".to_owned();
    }
    for (index, authority) in policy.spec.authorities.iter_mut().enumerate() {
        if authority.name.is_empty() {
            authority.name = format!("authority-{index}");
        }
        if let Some(keyless) = authority.keyless.as_mut() {
            if keyless.url.is_none() && keyless.ca_cert.is_none() {
                keyless.url = Some(PUBLIC_FULCIO.to_owned());
            }
        }
    }
}
