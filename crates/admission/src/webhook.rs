//! `policy-controller serve`: the admission webhook. AdmissionReview v1 over HTTPS at
//! `/validate` (every image of the object judged by the policies; a tag is refused, as
//! policy-controller refuses it: the mutating webhook resolves tags first) and `/mutate` (tags
//! resolved to digests, a JSONPatch, so what runs is what was verified); `/healthz` and
//! `/readyz`. An answer that cannot be given within the API server's `?timeout=` (less a
//! margin) is an error (HTTP 500), and the webhook's `failurePolicy` decides. Policies come
//! from a file, read again when it changes (a file that no longer validates is reported and
//! the policies before it are kept). `/metrics` counts the reviews answered, by endpoint and
//! verdict, and their total time, in Prometheus' text format.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use cosign_cluster_policy::evaluate::{judge, Context, Judgement};
use cosign_cluster_policy::Loaded;
use cosign_core::image::reference::ImageReference;
use cosign_server::{body, Answer, ConnectionLimits, RequestBody};
use futures::StreamExt as _;
use hyper::{Method, StatusCode};

use crate::cache::{self, VerdictCache};
use crate::review;

/// The largest AdmissionReview taken (Kubernetes objects are at most about 1.5 MiB).
const REVIEW_LIMIT: u64 = 4 * 1024 * 1024;
/// What is kept of the API server's timeout to send the answer back.
const ANSWER_MARGIN: Duration = Duration::from_millis(500);
/// Images judged (or resolved) at once for one review; each distinct image once.
const IMAGES_AT_ONCE: usize = 16;
/// The API server's default webhook timeout, when the request names none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The webhook's state.
#[derive(Debug)]
pub struct Webhook {
    policies: RwLock<Arc<Current>>,
    /// The policy file (and when it was last read); none when policies come from the API.
    policy_file: Option<PathBuf>,
    loaded_at: RwLock<Option<SystemTime>>,
    /// Whether policies were loaded (from the API server: once both kinds were listed).
    ready: std::sync::atomic::AtomicBool,
    client: cosign_oci::RegistryClient,
    limits: ConnectionLimits,
    metrics: std::sync::Mutex<Metrics>,
    /// Where Rego policies run (a worker process of this program).
    evaluation: cosign_policy::rego::Evaluation,
    /// The public Sigstore's trusted root (keyless authorities without a trustRootRef).
    public_trusted_root: cosign_core::trust::trusted_root::TrustedRoot,
    /// Images allowed lately, by digest.
    cache: VerdictCache,
    /// The API server, with `--kubernetes` (for pods' `imagePullSecrets`).
    kubernetes: std::sync::OnceLock<crate::kubernetes::ApiServer>,
    /// Set when the webhook is stopping: `/readyz` says so, so that the Service stops sending
    /// reviews here before the port closes.
    stopping: std::sync::atomic::AtomicBool,
}

/// The policies in force, and which version of them they are (for the cache).
#[derive(Debug)]
struct Current {
    generation: u64,
    loaded: Loaded,
    /// Whether a verdict can be kept for an image whatever resource deploys it (no
    /// policy-level policy includes the resource).
    cacheable: bool,
}

impl Current {
    fn new(generation: u64, loaded: Loaded) -> Self {
        // A verdict that depends on the resource (which policies `match` it, what a
        // policy-level policy sees of it) cannot be reused for another resource.
        let cacheable = loaded.policies.iter().all(|policy| {
            policy.spec.match_.is_empty()
                && policy.spec.policy.as_ref().is_none_or(|level| {
                    level.include_spec != Some(true)
                        && level.include_object_meta != Some(true)
                        && level.include_type_meta != Some(true)
                })
        });
        Self {
            generation,
            loaded,
            cacheable,
        }
    }
}

/// Reviews answered: by endpoint and verdict (`allowed`, `denied`, `error`), and the seconds
/// they took.
#[derive(Debug, Default)]
struct Metrics {
    reviews: std::collections::BTreeMap<(&'static str, &'static str), u64>,
    seconds: f64,
}

impl Metrics {
    fn text(&self, cached_images: usize) -> String {
        let mut out = String::from(
            "# HELP policy_controller_admission_reviews_total AdmissionReviews answered, by endpoint and verdict.\n# TYPE policy_controller_admission_reviews_total counter\n",
        );
        for ((endpoint, verdict), count) in &self.reviews {
            out.push_str(&format!(
                "policy_controller_admission_reviews_total{{endpoint=\"{endpoint}\",verdict=\"{verdict}\"}} {count}\n"
            ));
        }
        out.push_str(&format!(
            "# HELP policy_controller_admission_review_seconds_total Time spent answering AdmissionReviews.\n# TYPE policy_controller_admission_review_seconds_total counter\npolicy_controller_admission_review_seconds_total {}\n",
            self.seconds
        ));
        out.push_str(&format!(
            "# HELP policy_controller_cached_images Images whose allowed verdict is cached.\n# TYPE policy_controller_cached_images gauge\npolicy_controller_cached_images {cached_images}\n"
        ));
        out
    }
}

fn now() -> cosign_core::time::UnixTime {
    let seconds = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        });
    cosign_core::time::UnixTime::from_seconds(seconds)
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
}

/// The policies (and trust roots) of `path`, as the webhook applies them.
fn read_policies(path: &std::path::Path) -> Result<Loaded, String> {
    let loaded = cosign_cluster_policy::load_file(path).map_err(|error| match error {
        cosign_cluster_policy::FileError::Invalid(invalid) => {
            format!("{}: {invalid}", path.display())
        }
        other => other.to_string(),
    })?;
    for warning in &loaded.warnings {
        eprintln!("{}: {warning}", path.display());
    }
    Ok(loaded)
}

/// Where policies come from.
#[derive(Debug)]
pub enum PolicySource {
    /// A file, read again when it changes.
    File(PathBuf),
    /// The Kubernetes API ([`crate::kubernetes`]), which installs them as they change.
    Kubernetes,
}

/// How the webhook checks.
#[derive(Debug)]
pub struct Settings {
    pub limits: ConnectionLimits,
    /// Where Rego policies run.
    pub evaluation: cosign_policy::rego::Evaluation,
    /// How long an allowed image's verdict is kept.
    pub cache_ttl: Duration,
    /// The public Sigstore's trusted root (keyless authorities without a trustRootRef).
    pub public_trusted_root: cosign_core::trust::trusted_root::TrustedRoot,
}

impl Webhook {
    pub fn new(
        source: PolicySource,
        client: cosign_oci::RegistryClient,
        settings: Settings,
    ) -> Result<Arc<Self>, String> {
        let (policy_file, loaded_at, policies, ready) = match source {
            PolicySource::File(path) => {
                let loaded_at = modified(&path);
                let policies = read_policies(&path)?;
                (Some(path), loaded_at, policies, true)
            }
            PolicySource::Kubernetes => (None, None, Loaded::default(), false),
        };
        Ok(Arc::new(Self {
            policies: RwLock::new(Arc::new(Current::new(0, policies))),
            policy_file,
            loaded_at: RwLock::new(loaded_at),
            ready: std::sync::atomic::AtomicBool::new(ready),
            client,
            limits: settings.limits,
            metrics: std::sync::Mutex::new(Metrics::default()),
            evaluation: settings.evaluation,
            public_trusted_root: settings.public_trusted_root,
            cache: VerdictCache::new(settings.cache_ttl, cache::CAPACITY),
            stopping: std::sync::atomic::AtomicBool::new(false),
            kubernetes: std::sync::OnceLock::new(),
        }))
    }

    /// The API server to read pods' pull secrets from.
    pub fn attach_kubernetes(&self, client: kube::Client) {
        let _ = self.kubernetes.set(crate::kubernetes::ApiServer(client));
    }

    /// A registry client with the credentials of the pod's `imagePullSecrets` first (read from
    /// its namespace through the API server), when it names some and the API is at hand.
    async fn pod_registry_client(
        &self,
        request: &review::Request,
    ) -> Option<cosign_oci::RegistryClient> {
        let api = self.kubernetes.get()?;
        let names = review::pull_secrets(&request.kind, &request.object);
        if names.is_empty() {
            return None;
        }
        let keychains =
            match crate::kubernetes::pull_secret_credentials(&api.0, &request.namespace, &names)
                .await
            {
                Ok(keychains) => keychains,
                Err(error) => {
                    // As the API server's kubelet would, go on without them.
                    eprintln!("{error}; going on with the webhook's own credentials");
                    return None;
                }
            };
        let credentials = PullSecrets {
            keychains,
            fallback: cosign_oci::auth::DockerConfigKeychain::from_environment(&|name| {
                std::env::var(name).ok()
            }),
        };
        match cosign_oci::RegistryClient::new(
            cosign_oci::ClientOptions::default(),
            Box::new(credentials),
        ) {
            Ok(client) => Some(client),
            Err(error) => {
                eprintln!("a registry client with the pod's pull secrets: {error}");
                None
            }
        }
    }

    /// Puts `policies` in force (a new version: the cached verdicts are forgotten).
    pub fn install(&self, policies: Loaded) {
        let mut current = self
            .policies
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *current = Arc::new(Current::new(current.generation + 1, policies));
        drop(current);
        self.cache.clear();
        self.ready.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Reads the policy file again if it changed since it was last read.
    pub fn reload_if_changed(&self) {
        let Some(policy_file) = &self.policy_file else {
            return;
        };
        let current = modified(policy_file);
        let last = *self
            .loaded_at
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if current == last {
            return;
        }
        match read_policies(policy_file) {
            Ok(policies) => {
                self.install(policies);
                eprintln!("policies read again from {}", policy_file.display());
            }
            Err(error) => eprintln!("keeping the policies read before: {error}"),
        }
        *self
            .loaded_at
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = current;
    }

    fn policies(&self) -> Arc<Current> {
        self.policies
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    async fn route(self: Arc<Self>, request: hyper::Request<hyper::body::Incoming>) -> Answer {
        let path = request.uri().path().to_owned();
        let timeout = request
            .uri()
            .query()
            .and_then(|query| {
                query
                    .split('&')
                    .find_map(|pair| pair.strip_prefix("timeout="))
                    .and_then(parse_go_duration)
            })
            .unwrap_or(DEFAULT_TIMEOUT);
        match (request.method().clone(), path.as_str()) {
            (Method::GET, "/readyz")
                if self.stopping.load(std::sync::atomic::Ordering::Relaxed) =>
            {
                text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n")
            }
            (Method::GET, "/readyz") if !self.ready.load(std::sync::atomic::Ordering::Relaxed) => {
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the policies are not loaded yet\n",
                )
            }
            (Method::GET, "/healthz" | "/readyz") => text(StatusCode::OK, "ok\n"),
            (Method::GET, "/metrics") => {
                let metrics = self
                    .metrics
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .text(self.cache.len());
                text(StatusCode::OK, &metrics)
            }
            (Method::POST, "/validate" | "/mutate") => {
                let body = RequestBody::new(request.into_body(), self.limits.body_idle);
                let deadline = timeout
                    .saturating_sub(ANSWER_MARGIN)
                    .max(Duration::from_millis(100));
                let review = async {
                    let body = body
                        .collect(REVIEW_LIMIT)
                        .await
                        .map_err(|e| e.to_string())?;
                    let request = review::parse(&body).map_err(|e| e.0)?;
                    let response = if path == "/mutate" {
                        self.mutate(&request).await
                    } else {
                        self.validate(&request).await
                    };
                    let allowed = response.get("allowed") == Some(&serde_json::Value::Bool(true));
                    Ok::<_, String>((review::answer(&request.uid, response), allowed))
                };
                let started = std::time::Instant::now();
                let (answer, verdict) = match tokio::time::timeout(deadline, review).await {
                    Ok(Ok((answer, allowed))) => (
                        json(StatusCode::OK, answer),
                        if allowed { "allowed" } else { "denied" },
                    ),
                    Ok(Err(error)) => (text(StatusCode::BAD_REQUEST, &format!("{error}\n")), "error"),
                    Err(_) => (
                        text(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            &format!("the images could not be verified within {deadline:?}: the webhook's failurePolicy decides\n"),
                        ),
                        "error",
                    ),
                };
                let endpoint = if path == "/mutate" {
                    "/mutate"
                } else {
                    "/validate"
                };
                let mut metrics = self
                    .metrics
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                *metrics.reviews.entry((endpoint, verdict)).or_default() += 1;
                metrics.seconds += started.elapsed().as_secs_f64();
                answer
            }
            _ => text(StatusCode::NOT_FOUND, "not found\n"),
        }
    }

    /// Every image must be a digest that every applying policy allows.
    async fn validate(&self, request: &review::Request) -> serde_json::Value {
        if request.operation == "DELETE" {
            return review::allowed(&[], &[]);
        }
        let images = review::images(&request.kind, &request.object);
        let policies = self.policies();
        // Each distinct digest is judged once, a few at a time.
        let mut distinct: Vec<String> = images
            .iter()
            .map(|container| container.image.clone())
            .filter(|image| {
                image
                    .parse::<ImageReference>()
                    .is_ok_and(|reference| reference.digest().is_some())
            })
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        // The pod's pull secrets are read only when a registry will be asked.
        let all_cached = policies.cacheable
            && distinct
                .iter()
                .all(|image| self.cache.get(policies.generation, image).is_some());
        let pod_client = if all_cached {
            None
        } else {
            self.pod_registry_client(request).await
        };
        let context = Context {
            client: pod_client.as_ref().unwrap_or(&self.client),
            trust_roots: &policies.loaded.trust_roots,
            public_trusted_root: &self.public_trusted_root,
            now: now(),
            evaluation: &self.evaluation,
            resource: Some(&request.object),
        };
        let judging: Vec<_> = distinct
            .into_iter()
            .map(|image| self.judge_one(&policies, image, &context))
            .collect();
        let judgements: std::collections::HashMap<String, _> = futures::stream::iter(judging)
            .buffer_unordered(IMAGES_AT_ONCE)
            .collect()
            .await;
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        for container in &images {
            let Some(judgement) = judgements.get(container.image.as_str()) else {
                errors.push(format!(
                    "invalid value: {} must be an image digest: {}",
                    container.image, container.field
                ));
                continue;
            };
            let name =
                |message: &String| format!("{}: {}: {message}", container.field, container.image);
            errors.extend(judgement.errors.iter().map(name));
            warnings.extend(judgement.warnings.iter().map(name));
        }
        if errors.is_empty() {
            review::allowed(&warnings, &[])
        } else {
            review::denied(&errors.join("\n"), &warnings)
        }
    }

    /// `image` and what the policies say of it: from the cache, or judged (and kept when it
    /// may be).
    async fn judge_one(
        &self,
        policies: &Current,
        image: String,
        context: &Context<'_>,
    ) -> (String, Arc<Judgement>) {
        if policies.cacheable {
            if let Some(judgement) = self.cache.get(policies.generation, &image) {
                return (image, judgement);
            }
        }
        let judgement = judge(&policies.loaded.policies, &image, context).await;
        if policies.cacheable {
            self.cache.put(policies.generation, &image, &judgement);
        }
        (image, Arc::new(judgement))
    }

    /// `image` (a tag) and the same image by the digest its tag names now.
    async fn pin(
        &self,
        client: &cosign_oci::RegistryClient,
        image: String,
    ) -> (String, Result<String, String>) {
        let pinned = match image.parse::<ImageReference>() {
            Ok(reference) => {
                cosign_oci::signatures::resolve_digest(client, &reference, cosign_oci::Access::Pull)
                    .await
                    .map(|digest| reference.with_digest(digest).to_string())
                    .map_err(|error| error.to_string())
            }
            Err(error) => Err(error.to_string()),
        };
        (image, pinned)
    }

    /// Tags resolved to digests (`repository@sha256:...`), as a JSONPatch.
    async fn mutate(&self, request: &review::Request) -> serde_json::Value {
        if request.operation == "DELETE" {
            return review::allowed(&[], &[]);
        }
        let images = review::images(&request.kind, &request.object);
        // Each distinct tag is resolved once, a few at a time.
        let mut tags: Vec<String> = images
            .iter()
            .map(|container| container.image.clone())
            .filter(|image| {
                image
                    .parse::<ImageReference>()
                    .is_ok_and(|reference| reference.digest().is_none())
            })
            .collect();
        tags.sort_unstable();
        tags.dedup();
        let pod_client = self.pod_registry_client(request).await;
        let client = pod_client.as_ref().unwrap_or(&self.client);
        let resolving: Vec<_> = tags
            .into_iter()
            .map(|image| self.pin(client, image))
            .collect();
        let resolved: std::collections::HashMap<String, Result<String, String>> =
            futures::stream::iter(resolving)
                .buffer_unordered(IMAGES_AT_ONCE)
                .collect()
                .await;
        let mut patch = Vec::new();
        let mut errors = Vec::new();
        for container in &images {
            match container.image.parse::<ImageReference>() {
                Err(error) => {
                    errors.push(format!("{}: {}: {error}", container.field, container.image))
                }
                Ok(reference) if reference.digest().is_some() => {}
                Ok(_) => match resolved.get(container.image.as_str()) {
                    Some(Ok(pinned)) => patch.push(serde_json::json!({
                        "op": "replace",
                        "path": container.pointer,
                        "value": pinned,
                    })),
                    Some(Err(error)) => {
                        errors.push(format!("{}: {}: {error}", container.field, container.image))
                    }
                    None => {}
                },
            }
        }
        if errors.is_empty() {
            review::allowed(&[], &patch)
        } else {
            review::denied(&errors.join("\n"), &[])
        }
    }
}

/// A pod's pull secrets, in the order it names them, then the webhook's own credentials.
#[derive(Debug)]
struct PullSecrets {
    keychains: Vec<cosign_oci::auth::DockerConfigKeychain>,
    fallback: cosign_oci::auth::DockerConfigKeychain,
}

impl cosign_oci::auth::CredentialSource for PullSecrets {
    fn credentials(&self, registry: &str) -> Option<cosign_oci::auth::Credentials> {
        self.keychains
            .iter()
            .find_map(|keychain| keychain.credentials(registry))
            .or_else(|| self.fallback.credentials(registry))
    }
}

/// A Go duration as the API server writes `?timeout=` (`10s`, `500ms`, `1m`, `1m30s`).
fn parse_go_duration(text: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.')?;
        let (number, after) = rest.split_at(digits);
        let value: f64 = number.parse().ok()?;
        let unit_end = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        let seconds = match unit {
            "h" => value * 3600.0,
            "m" => value * 60.0,
            "s" => value,
            "ms" => value / 1000.0,
            "us" | "µs" => value / 1_000_000.0,
            "ns" => value / 1_000_000_000.0,
            _ => return None,
        };
        total += Duration::try_from_secs_f64(seconds).ok()?;
        rest = next;
    }
    Some(total)
}

fn text(status: StatusCode, message: &str) -> Answer {
    let mut answer = hyper::Response::new(body::full(message.to_owned()));
    *answer.status_mut() = status;
    answer
}

fn json(status: StatusCode, bytes: Vec<u8>) -> Answer {
    let mut answer = hyper::Response::new(body::full(bytes));
    *answer.status_mut() = status;
    if let Ok(value) = "application/json".parse() {
        answer
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    answer
}

impl cosign_server::Handler for Webhook {
    fn handle(
        self: Arc<Self>,
        request: hyper::Request<hyper::body::Incoming>,
        _peer: SocketAddr,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Answer> + Send>> {
        Box::pin(self.route(request))
    }
}

/// Serves `webhook` over TLS on `listener` until `shutdown`, reading the policy file again
/// when it changes.
/// Serves until `shutdown` completes; then `/readyz` fails for `shutdown_delay` while reviews
/// are still answered (the API server may still send some until the endpoints are updated),
/// then the port closes and the reviews in flight are finished.
pub async fn serve(
    listener: tokio::net::TcpListener,
    webhook: Arc<Webhook>,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl std::future::Future<Output = ()>,
    shutdown_delay: Duration,
) -> std::io::Result<()> {
    let stopping = webhook.clone();
    let shutdown = async move {
        shutdown.await;
        stopping
            .stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
        eprintln!(
            "stopping: not ready; the port closes in {} s, then the reviews in flight are finished",
            shutdown_delay.as_secs_f64()
        );
        tokio::time::sleep(shutdown_delay).await;
    };
    let watched = webhook.clone();
    let watcher = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(2));
        loop {
            every.tick().await;
            watched.reload_if_changed();
        }
    });
    let limits = webhook.limits;
    let served = cosign_server::serve(listener, webhook, limits, Some(tls), shutdown).await;
    watcher.abort();
    served
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn go_durations_as_the_api_server_writes_them() {
        assert_eq!(parse_go_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration("s"), None);
    }
}
