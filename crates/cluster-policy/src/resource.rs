//! Which policies apply to the resource an image is deployed by (a policy's `match`), as
//! policy-controller decides: the resource type is guessed from the object's kind as
//! Kubernetes guesses it (lower case, plural: `Pod` is `pods`, `CronJob` is `cronjobs`), and
//! a `match` entry applies when its resource, group and version (or `*`) are the object's and
//! its label selector (if any) selects the object's labels. A policy without `match` applies
//! to every resource; one with `match` applies to none when there is no resource (the tester
//! without `--resource`).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::{ClusterImagePolicy, MatchResource};

/// A Kubernetes label selector (`metav1.LabelSelector`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: String,
    #[serde(default)]
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Whether the selector selects `labels` (an empty selector selects everything).
    pub fn selects(&self, labels: &BTreeMap<String, String>) -> Result<bool, String> {
        for (key, value) in &self.match_labels {
            if labels.get(key) != Some(value) {
                return Ok(false);
            }
        }
        for requirement in &self.match_expressions {
            let present = labels.get(&requirement.key);
            let selected = match requirement.operator.as_str() {
                "In" if requirement.values.is_empty() => return Err(wrong()),
                "NotIn" if requirement.values.is_empty() => return Err(wrong()),
                "In" => present.is_some_and(|value| requirement.values.contains(value)),
                "NotIn" => present.is_none_or(|value| !requirement.values.contains(value)),
                "Exists" if !requirement.values.is_empty() => return Err(wrong()),
                "DoesNotExist" if !requirement.values.is_empty() => return Err(wrong()),
                "Exists" => present.is_some(),
                "DoesNotExist" => present.is_none(),
                _ => return Err(wrong()),
            };
            if !selected {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// policy-controller's words for a selector it cannot use.
fn wrong() -> String {
    "policy with wrong match label selector".to_owned()
}

/// The resource type Kubernetes guesses for a kind (`meta.UnsafeGuessKindToResource`).
pub fn guess_resource(kind: &str) -> String {
    if kind.is_empty() {
        return String::new();
    }
    let singular = kind.to_lowercase();
    if singular.ends_with("endpoints") {
        return singular;
    }
    if let Some(stem) = singular.strip_suffix('s') {
        return format!("{stem}ses");
    }
    if let Some(stem) = singular.strip_suffix('y') {
        return format!("{stem}ies");
    }
    format!("{singular}s")
}

/// `(group, version)` of an `apiVersion` (`apps/v1`, or `v1` for the core group).
fn group_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

fn text<'a>(object: &'a serde_json::Value, key: &str) -> &'a str {
    object
        .get(key)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
}

/// The object's labels (`metadata.labels`).
pub fn labels(object: &serde_json::Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(serde_json::Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

impl MatchResource {
    /// Whether this entry applies to `object`.
    pub fn applies_to(&self, object: &serde_json::Value) -> Result<bool, String> {
        let (group, version) = group_version(text(object, "apiVersion"));
        if self.resource != guess_resource(text(object, "kind"))
            || (self.version != version && self.version != "*")
            || self.group != group
        {
            return Ok(false);
        }
        match &self.selector {
            None => Ok(true),
            Some(selector) => serde_json::from_value::<LabelSelector>(selector.clone())
                .map_err(|_| wrong())?
                .selects(&labels(object)),
        }
    }
}

impl ClusterImagePolicy {
    /// Whether the policy applies to resources like `resource` (see the module's text).
    pub fn applies_to_resource(
        &self,
        resource: Option<&serde_json::Value>,
    ) -> Result<bool, String> {
        if self.spec.match_.is_empty() {
            return Ok(true);
        }
        let Some(object) = resource else {
            return Ok(false);
        };
        for entry in &self.spec.match_ {
            if entry.applies_to(object)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_become_resources_as_kubernetes_guesses() {
        for (kind, resource) in [
            ("Pod", "pods"),
            ("Deployment", "deployments"),
            ("CronJob", "cronjobs"),
            ("ReplicaSet", "replicasets"),
            ("Ingress", "ingresses"),
            ("NetworkPolicy", "networkpolicies"),
            ("Endpoints", "endpoints"),
            ("", ""),
        ] {
            assert_eq!(guess_resource(kind), resource, "{kind}");
        }
    }

    fn entry(yaml: &str) -> MatchResource {
        serde_norway::from_str(yaml).expect("a match entry")
    }

    #[test]
    fn entries_match_type_version_and_labels() {
        let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"app": "web", "tier": "front"}}});
        let deployment =
            serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {}});
        let pods = entry("resource: pods\nversion: v1\n");
        assert_eq!(pods.applies_to(&pod), Ok(true));
        assert_eq!(pods.applies_to(&deployment), Ok(false));
        let deployments = entry("group: apps\nresource: deployments\nversion: \"*\"\n");
        assert_eq!(deployments.applies_to(&deployment), Ok(true));
        assert_eq!(
            entry("resource: deployments\nversion: v1\n").applies_to(&deployment),
            Ok(false),
            "the group must be the object's"
        );
        let web = entry("resource: pods\nversion: v1\nselector:\n  matchLabels: {app: web}\n");
        assert_eq!(web.applies_to(&pod), Ok(true));
        let db = entry("resource: pods\nversion: v1\nselector:\n  matchLabels: {app: db}\n");
        assert_eq!(db.applies_to(&pod), Ok(false));
        let expressions = entry("resource: pods\nversion: v1\nselector:\n  matchExpressions:\n  - {key: tier, operator: In, values: [front, back]}\n  - {key: legacy, operator: DoesNotExist}\n  - {key: app, operator: NotIn, values: [db]}\n");
        assert_eq!(expressions.applies_to(&pod), Ok(true));
        let exists = entry("resource: pods\nversion: v1\nselector:\n  matchExpressions:\n  - {key: owner, operator: Exists}\n");
        assert_eq!(exists.applies_to(&pod), Ok(false));
        let broken = entry("resource: pods\nversion: v1\nselector:\n  matchExpressions:\n  - {key: owner, operator: Near}\n");
        assert_eq!(broken.applies_to(&pod), Err(wrong()));
    }
}
