//! Policies from the Kubernetes API (`serve --kubernetes`): `ClusterImagePolicy`
//! (`policy.sigstore.dev/v1beta1`) and `TrustRoot` (`v1alpha1`) resources are listed and
//! watched with kube-rs; every change gives the webhook a new set of policies. As
//! policy-controller's reconciler does, a key given as a `secretRef` is read from a Secret in
//! the webhook's own namespace (one data entry, the PEM) and put inline.
//!
//! A resource that does not validate is reported and, if an earlier version of it validated,
//! that version is kept (so a bad edit does not drop a policy); one that never validated is
//! left out. The webhook is not ready until both kinds have been listed once.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::{watcher, WatchStreamExt as _};

use crate::webhook::Webhook;

/// A client for the API server (kube's has no `Debug`).
pub struct ApiServer(pub kube::Client);

impl std::fmt::Debug for ApiServer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ApiServer")
    }
}

/// How to reach the API server.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// The API server's URL; none: in-cluster (the service account's token and CA).
    pub url: Option<String>,
    /// The CA of the API server's certificate (PEM), with `url`.
    pub ca: Option<std::path::PathBuf>,
    /// A file holding a bearer token, with `url`.
    pub token_file: Option<std::path::PathBuf>,
    /// Where Secrets named by `secretRef`s are read; none: the service account's namespace.
    pub namespace: Option<String>,
}

/// A client for the API server, and the namespace Secrets are read from.
pub fn connect(connection: &Connection) -> Result<(kube::Client, String), String> {
    use rustls::pki_types::pem::PemObject as _;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = match &connection.url {
        None => kube::Config::incluster().map_err(|error| {
            format!("reading the in-cluster configuration (is this running in a pod?): {error}")
        })?,
        Some(url) => {
            let mut config = kube::Config::new(
                url.parse()
                    .map_err(|error| format!("the API server URL {url}: {error}"))?,
            );
            if let Some(path) = &connection.ca {
                let pem = cosign_cluster_policy::read_file(path).map_err(|e| e.to_string())?;
                let certificates =
                    rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
                        .map(|certificate| certificate.map(|certificate| certificate.to_vec()))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|error| format!("reading {}: {error}", path.display()))?;
                config.root_cert = Some(certificates);
            }
            if let Some(path) = &connection.token_file {
                let token = cosign_cluster_policy::read_file(path).map_err(|e| e.to_string())?;
                config.auth_info = kube::config::AuthInfo {
                    token: Some(secrecy::SecretString::from(token.trim().to_owned())),
                    ..Default::default()
                };
            }
            config
        }
    };
    let namespace = connection
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = kube::Client::try_from(config)
        .map_err(|error| format!("a client for the API server: {error}"))?;
    Ok((client, namespace))
}

fn resource(group_version: (&str, &str), kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(group_version.0, group_version.1, kind),
        plural,
    )
}

/// Which kind a watched resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Policy,
    TrustRoot,
}

/// Watches the resources until the process ends, installing each new set in `webhook`.
pub async fn watch(client: kube::Client, namespace: String, webhook: Arc<Webhook>) {
    let policies: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &resource(
            ("policy.sigstore.dev", "v1beta1"),
            "ClusterImagePolicy",
            "clusterimagepolicies",
        ),
    );
    let trust_roots: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &resource(
            ("policy.sigstore.dev", "v1alpha1"),
            "TrustRoot",
            "trustroots",
        ),
    );
    let secrets: Api<Secret> = Api::namespaced(client, &namespace);
    let events = futures::stream::select(
        watcher(policies, watcher::Config::default())
            .default_backoff()
            .map(|event| (Kind::Policy, event)),
        watcher(trust_roots, watcher::Config::default())
            .default_backoff()
            .map(|event| (Kind::TrustRoot, event)),
    );
    tokio::pin!(events);
    let mut current: BTreeMap<(Kind, String), serde_json::Value> = BTreeMap::new();
    // While a kind is being listed (again), what its list gave so far.
    let mut listing: BTreeMap<Kind, BTreeMap<String, serde_json::Value>> = BTreeMap::new();
    let mut listed: std::collections::BTreeSet<Kind> = std::collections::BTreeSet::new();
    let mut last_valid: BTreeMap<(Kind, String), serde_json::Value> = BTreeMap::new();
    while let Some((kind, event)) = events.next().await {
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                eprintln!("watching {kind:?} resources: {error}");
                continue;
            }
        };
        match event {
            watcher::Event::Init => {
                listing.insert(kind, BTreeMap::new());
                continue;
            }
            watcher::Event::InitApply(object) => {
                let name = object.metadata.name.clone().unwrap_or_default();
                listing
                    .entry(kind)
                    .or_default()
                    .insert(name, to_value(&object));
                continue;
            }
            watcher::Event::InitDone => {
                current.retain(|(held, _), _| *held != kind);
                for (name, value) in listing.remove(&kind).unwrap_or_default() {
                    current.insert((kind, name), value);
                }
                listed.insert(kind);
            }
            watcher::Event::Apply(object) => {
                let name = object.metadata.name.clone().unwrap_or_default();
                current.insert((kind, name), to_value(&object));
            }
            watcher::Event::Delete(object) => {
                let name = object.metadata.name.clone().unwrap_or_default();
                current.remove(&(kind, name.clone()));
                last_valid.remove(&(kind, name));
            }
        }
        if listed.len() < 2 {
            continue;
        }
        let loaded = load(&current, &mut last_valid, &secrets).await;
        eprintln!(
            "policies from the API server: {} ClusterImagePolicies, {} TrustRoots",
            loaded.policies.len(),
            loaded.trust_roots.len()
        );
        webhook.install(loaded);
    }
}

fn to_value(object: &DynamicObject) -> serde_json::Value {
    serde_json::to_value(object).unwrap_or_default()
}

/// Every resource loaded (keys from Secrets put inline); see the module's text for invalid ones.
async fn load(
    current: &BTreeMap<(Kind, String), serde_json::Value>,
    last_valid: &mut BTreeMap<(Kind, String), serde_json::Value>,
    secrets: &Api<Secret>,
) -> cosign_cluster_policy::Loaded {
    let mut loaded = cosign_cluster_policy::Loaded::default();
    for (key, object) in current {
        let mut object = object.clone();
        let checked = match inline_secrets(&mut object, secrets).await {
            Ok(()) => cosign_cluster_policy::load(&object.to_string()).map_err(|e| e.to_string()),
            Err(error) => Err(error),
        };
        let one = match checked {
            Ok(one) => {
                last_valid.insert(key.clone(), object);
                one
            }
            Err(error) => {
                let kept = last_valid
                    .get(key)
                    .and_then(|valid| cosign_cluster_policy::load(&valid.to_string()).ok());
                eprintln!(
                    "{:?} {}: {error}{}",
                    key.0,
                    key.1,
                    if kept.is_some() {
                        " (its last valid version is kept)"
                    } else {
                        " (left out)"
                    }
                );
                match kept {
                    Some(one) => one,
                    None => continue,
                }
            }
        };
        loaded.policies.extend(one.policies);
        loaded.trust_roots.extend(one.trust_roots);
        loaded.warnings.extend(one.warnings);
    }
    loaded
}

/// Puts each `key.secretRef` (and `keyless.ca-cert.secretRef`) of a ClusterImagePolicy inline
/// as `data`, from the Secret of that name in the webhook's namespace, as policy-controller's
/// reconciler does.
async fn inline_secrets(
    object: &mut serde_json::Value,
    secrets: &Api<Secret>,
) -> Result<(), String> {
    let Some(authorities) = object
        .pointer_mut("/spec/authorities")
        .and_then(serde_json::Value::as_array_mut)
    else {
        return Ok(());
    };
    for authority in authorities {
        for pointer in ["/key", "/keyless/ca-cert"] {
            let Some(key) = authority.pointer_mut(pointer) else {
                continue;
            };
            let Some(name) = key
                .pointer("/secretRef/name")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
            else {
                continue;
            };
            let data = secret_data(&name, secrets).await?;
            if let Some(fields) = key.as_object_mut() {
                fields.remove("secretRef");
                fields.insert("data".to_owned(), serde_json::Value::String(data));
            }
        }
    }
    Ok(())
}

async fn secret_data(name: &str, secrets: &Api<Secret>) -> Result<String, String> {
    let secret = secrets
        .get_opt(name)
        .await
        .map_err(|error| format!("reading secret {name:?}: {error}"))?
        .ok_or_else(|| format!("secret {name:?} not found"))?;
    let data = secret.data.unwrap_or_default();
    let mut entries = data.into_values();
    match (entries.next(), entries.next()) {
        (None, _) => Err(format!("secret {name:?} contains no data")),
        (Some(_), Some(_)) => Err(format!(
            "secret {name:?} contains multiple data entries, only one is supported"
        )),
        (Some(bytes), None) => {
            String::from_utf8(bytes.0).map_err(|_| format!("secret {name:?}: the key is not text"))
        }
    }
}

/// Registry credentials from a namespace's pull secrets (`kubernetes.io/dockerconfigjson` or
/// the older `kubernetes.io/dockercfg`), in the order named, before `fallback`. Only the
/// `auths` of a secret are used: a credential helper named in one (`credsStore`,
/// `credHelpers`) would be a program the webhook runs on a namespace user's say.
pub async fn pull_secret_credentials(
    client: &kube::Client,
    namespace: &str,
    names: &[String],
) -> Result<Vec<cosign_oci::auth::DockerConfigKeychain>, String> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let mut keychains = Vec::new();
    for name in names {
        let secret = secrets
            .get_opt(name)
            .await
            .map_err(|error| format!("reading imagePullSecret {namespace}/{name}: {error}"))?
            .ok_or_else(|| format!("imagePullSecret {namespace}/{name} not found"))?;
        let data = secret.data.unwrap_or_default();
        let auths = if let Some(config) = data.get(".dockerconfigjson") {
            serde_json::from_slice::<serde_json::Value>(&config.0)
                .ok()
                .and_then(|config| config.get("auths").cloned())
        } else {
            data.get(".dockercfg")
                .and_then(|config| serde_json::from_slice::<serde_json::Value>(&config.0).ok())
        };
        let auths = auths
            .ok_or_else(|| format!("imagePullSecret {namespace}/{name} holds no docker config"))?;
        let config = serde_json::json!({ "auths": auths }).to_string();
        let keychain = cosign_oci::auth::DockerConfigKeychain::from_json(config.as_bytes())
            .ok_or_else(|| {
                format!("imagePullSecret {namespace}/{name}: an unreadable docker config")
            })?;
        keychains.push(keychain);
    }
    Ok(keychains)
}
