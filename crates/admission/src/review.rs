//! Kubernetes admission (AdmissionReview `admission.k8s.io/v1`): the images an object under
//! admission runs, where each is in it, and the answers, as policy-controller gives them.
//! Pods, and the resources that carry a pod template (Deployments, ReplicaSets, StatefulSets,
//! DaemonSets, Jobs: `spec.template`; CronJobs: `spec.jobTemplate.spec.template`), with every
//! container kind (`containers`, `initContainers`, `ephemeralContainers`).

use base64::Engine as _;

/// One image of the object: where it is (a JSON pointer, and the field path Kubernetes names
/// in messages) and the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerImage {
    pub pointer: String,
    pub field: String,
    pub image: String,
}

/// The request part of an AdmissionReview.
#[derive(Debug, Clone)]
pub struct Request {
    pub uid: serde_json::Value,
    pub kind: String,
    pub operation: String,
    /// The namespace of the object (for its `imagePullSecrets`).
    pub namespace: String,
    pub object: serde_json::Value,
}

/// Why a review cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadReview(pub String);

pub fn parse(body: &[u8]) -> Result<Request, BadReview> {
    let review: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| BadReview(format!("not an AdmissionReview: {error}")))?;
    if review.get("apiVersion").and_then(|v| v.as_str()) != Some("admission.k8s.io/v1") {
        return Err(BadReview(
            "only admission.k8s.io/v1 AdmissionReviews are answered".to_owned(),
        ));
    }
    let request = review
        .get("request")
        .ok_or_else(|| BadReview("the AdmissionReview has no request".to_owned()))?;
    let text = |field: &str| {
        request
            .get(field)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    Ok(Request {
        uid: request.get("uid").cloned().unwrap_or_default(),
        kind: request
            .get("kind")
            .and_then(|kind| kind.get("kind"))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned(),
        operation: text("operation"),
        namespace: text("namespace"),
        object: request.get("object").cloned().unwrap_or_default(),
    })
}

/// Where the pod spec is in an object of `kind` (none for kinds without pods).
fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Pod" => "/spec",
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "ReplicationController" => "/spec/template/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        _ => return None,
    })
}

/// The names in the pod spec's `imagePullSecrets`.
pub fn pull_secrets(kind: &str, object: &serde_json::Value) -> Vec<String> {
    pod_spec_pointer(kind)
        .and_then(|pointer| object.pointer(pointer))
        .and_then(|spec| spec.get("imagePullSecrets"))
        .and_then(serde_json::Value::as_array)
        .map(|secrets| {
            secrets
                .iter()
                .filter_map(|secret| secret.get("name")?.as_str())
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Every container image of `object` (a `kind`), in order: init, then regular, then
/// ephemeral containers.
pub fn images(kind: &str, object: &serde_json::Value) -> Vec<ContainerImage> {
    let Some(pointer) = pod_spec_pointer(kind) else {
        return Vec::new();
    };
    let Some(spec) = object.pointer(pointer) else {
        return Vec::new();
    };
    let field_prefix = pointer.trim_start_matches('/').replace('/', ".");
    let mut found = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let Some(containers) = spec.get(list).and_then(|v| v.as_array()) else {
            continue;
        };
        for (index, container) in containers.iter().enumerate() {
            if let Some(image) = container.get("image").and_then(|v| v.as_str()) {
                found.push(ContainerImage {
                    pointer: format!("{pointer}/{list}/{index}/image"),
                    field: format!("{field_prefix}.{list}[{index}].image"),
                    image: image.to_owned(),
                });
            }
        }
    }
    found
}

/// The AdmissionReview answering `uid`.
pub fn answer(uid: &serde_json::Value, response: serde_json::Value) -> Vec<u8> {
    let mut response = response;
    if let Some(map) = response.as_object_mut() {
        map.insert("uid".to_owned(), uid.clone());
    }
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": response,
    })
    .to_string()
    .into_bytes()
}

/// Allowed, with warnings, and a JSONPatch when there are operations.
pub fn allowed(warnings: &[String], patch: &[serde_json::Value]) -> serde_json::Value {
    let mut response = serde_json::json!({"allowed": true});
    if let Some(map) = response.as_object_mut() {
        if !warnings.is_empty() {
            map.insert("warnings".to_owned(), warnings.into());
        }
        if !patch.is_empty() {
            let bytes = serde_json::Value::Array(patch.to_vec()).to_string();
            map.insert("patchType".to_owned(), "JSONPatch".into());
            map.insert(
                "patch".to_owned(),
                base64::engine::general_purpose::STANDARD
                    .encode(bytes)
                    .into(),
            );
        }
    }
    response
}

/// Denied, with the message the API server shows (`admission webhook ... denied the request:
/// <message>`).
pub fn denied(message: &str, warnings: &[String]) -> serde_json::Value {
    let mut response = serde_json::json!({
        "allowed": false,
        "status": {"status": "Failure", "message": message, "reason": "BadRequest", "code": 400},
    });
    if let (Some(map), false) = (response.as_object_mut(), warnings.is_empty()) {
        map.insert("warnings".to_owned(), warnings.into());
    }
    response
}
