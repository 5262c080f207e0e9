//! `policy-controller`: Sigstore policy-controller's policies, from cosign-rs.
//!
//! `policy-controller test --policy FILE --image REF` is the check a CI pipeline runs before
//! deploying (policy-controller's `policy-tester`): the image is judged by every
//! `ClusterImagePolicy` in FILE that applies to it. Allowed: exit 0 and
//! `{"image","digest","allowed":true,"warnings"}` on stdout. Refused: exit 1 and
//! `{"errors":[...],"warnings":[...]}` (the tester's shape), each error naming the policy and
//! its failed authorities. An invalid policy file: exit 1 and the fields that are wrong.
//!
//! `policy-controller serve --tls-cert C --tls-key K --policy FILE [--address A]` is the
//! admission webhook ([`webhook`]).

mod cache;
mod kubernetes;
mod review;
mod webhook;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cosign_cluster_policy::evaluate::{judge, Context};

#[derive(Debug, Parser)]
#[command(
    name = "policy-controller",
    version,
    about = "Sigstore policy-controller's policies, checked by cosign-rs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Judge an image by the ClusterImagePolicies of a file, offline from any cluster (policy-controller's policy-tester)
    Test {
        /// a file of ClusterImagePolicy (and TrustRoot) resources, YAML, `---` between documents
        #[arg(long, value_name = "FILE")]
        policy: std::path::PathBuf,
        /// the image to judge
        #[arg(long, value_name = "REF")]
        image: String,
        /// the Kubernetes resource (YAML) that deploys the image: for policies that `match` resources, and for policy-level policies that include its spec, metadata or type
        #[arg(long, value_name = "FILE")]
        resource: Option<std::path::PathBuf>,
        /// a file of TrustRoot resources for keyless authorities' `trustRootRef` (besides those in --policy)
        #[arg(long, value_name = "FILE")]
        trustroot: Option<std::path::PathBuf>,
        /// the public Sigstore's trusted root (trusted_root.json, as `cosign verify --trusted-root` takes), for keyless authorities without a trustRootRef; default: the copy embedded in cosign-rs
        #[arg(long, value_name = "FILE")]
        trusted_root: Option<std::path::PathBuf>,
    },
    /// Serve the admission webhook (AdmissionReview v1 over HTTPS: /validate, /mutate, /healthz, /readyz) until interrupted
    Serve {
        /// address to listen on
        #[arg(long, default_value = "127.0.0.1:8443", value_name = "HOST:PORT")]
        address: String,
        /// the serving certificate chain (PEM), issued for the webhook Service's name
        #[arg(long, value_name = "FILE")]
        tls_cert: std::path::PathBuf,
        /// the private key of --tls-cert (PEM)
        #[arg(long, value_name = "FILE")]
        tls_key: std::path::PathBuf,
        /// a file of ClusterImagePolicy (and TrustRoot) resources, read again when it changes
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "kubernetes",
            conflicts_with = "kubernetes"
        )]
        policy: Option<std::path::PathBuf>,
        /// watch ClusterImagePolicy and TrustRoot resources through the Kubernetes API (in a pod: its service account; else --kube-api-url), reading keys of secretRefs from Secrets in --namespace
        #[arg(long)]
        kubernetes: bool,
        /// the API server's URL (default: in-cluster)
        #[arg(long, value_name = "URL", requires = "kubernetes")]
        kube_api_url: Option<String>,
        /// the API server's CA (PEM), with --kube-api-url
        #[arg(long, value_name = "FILE", requires = "kube_api_url")]
        kube_ca: Option<std::path::PathBuf>,
        /// a file holding a bearer token for the API server, with --kube-api-url
        #[arg(long, value_name = "FILE", requires = "kube_api_url")]
        kube_token_file: Option<std::path::PathBuf>,
        /// the namespace the Secrets of secretRefs are read from (default: the service account's)
        #[arg(long, value_name = "NAME", requires = "kubernetes")]
        namespace: Option<String>,
        /// the public Sigstore's trusted root (trusted_root.json), for keyless authorities without a trustRootRef; default: the copy embedded in cosign-rs
        #[arg(long, value_name = "FILE")]
        trusted_root: Option<std::path::PathBuf>,
        /// require clients (the Kubernetes API server) to present a certificate issued by this CA (PEM); without it, on an address other than loopback, anyone who can reach the port can ask for verdicts
        #[arg(long, value_name = "FILE")]
        client_ca: Option<std::path::PathBuf>,
        /// on SIGTERM, how long to keep answering (with /readyz failing) before the port closes, in seconds
        #[arg(long, default_value_t = 5, value_name = "SECONDS")]
        shutdown_delay: u64,
        /// how long an allowed image (by digest) is not verified again, in seconds (0: always verify); a change of the policies forgets every verdict
        #[arg(long, default_value_t = 300, value_name = "SECONDS")]
        cache_ttl: u64,
    },
}

fn main() -> ExitCode {
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Rego policies are evaluated in a child of this program, whose memory the kernel caps
    // (cosign-policy's worker); not a command users type.
    if raw
        .get(1)
        .is_some_and(|first| first == cosign_policy::rego::WORKER_ARGUMENT)
    {
        let code = cosign_policy::rego::worker_main(raw.get(2..).unwrap_or_default());
        return ExitCode::from(u8::try_from(code).unwrap_or(2));
    }
    let cli = Cli::parse_from(raw);
    match cli.command {
        Command::Test {
            policy,
            image,
            resource,
            trustroot,
            trusted_root,
        } => match public_trusted_root(trusted_root.as_deref()) {
            Ok(public) => test(
                &policy,
                &image,
                resource.as_deref(),
                trustroot.as_deref(),
                public,
            ),
            Err(error) => fail(&error),
        },
        Command::Serve {
            address,
            tls_cert,
            tls_key,
            policy,
            kubernetes,
            kube_api_url,
            kube_ca,
            kube_token_file,
            namespace,
            trusted_root,
            client_ca,
            shutdown_delay,
            cache_ttl,
        } => serve(
            &address,
            TlsFiles {
                certificate: &tls_cert,
                key: &tls_key,
                client_ca: client_ca.as_deref(),
            },
            match policy {
                Some(path) if !kubernetes => Source::File(path),
                _ => Source::Kubernetes(kubernetes::Connection {
                    url: kube_api_url,
                    ca: kube_ca,
                    token_file: kube_token_file,
                    namespace,
                }),
            },
            trusted_root.as_deref(),
            Durations {
                cache_ttl: std::time::Duration::from_secs(cache_ttl),
                shutdown_delay: std::time::Duration::from_secs(shutdown_delay),
            },
        ),
    }
}

/// The public Sigstore's trusted root: the file given, else the public-good root embedded in
/// cosign-rs.
fn public_trusted_root(
    path: Option<&std::path::Path>,
) -> Result<cosign_core::trust::trusted_root::TrustedRoot, String> {
    use cosign_core::trust::trusted_root::{TrustedRoot, PUBLIC_GOOD};
    let Some(path) = path else {
        return TrustedRoot::parse(PUBLIC_GOOD).map_err(|error| error.to_string());
    };
    // The same 4 MiB cap as policy files (a trusted root's own limit).
    let text = cosign_cluster_policy::read_file(path).map_err(|error| error.to_string())?;
    TrustedRoot::parse(text.as_bytes()).map_err(|error| format!("{}: {error}", path.display()))
}

/// Rego policies run in a worker: this program, started again (in process if its path is
/// unknown, with the time limit only).
fn rego_evaluation() -> cosign_policy::rego::Evaluation {
    match std::env::current_exe() {
        Ok(program) => cosign_policy::rego::Evaluation::Worker { program },
        Err(_) => cosign_policy::rego::Evaluation::InProcess,
    }
}

/// A registry client with the credentials of the docker config (`DOCKER_CONFIG`).
fn registry_client() -> Result<cosign_oci::RegistryClient, String> {
    let keychain =
        cosign_oci::auth::DockerConfigKeychain::from_environment(&|name| std::env::var(name).ok());
    cosign_oci::RegistryClient::new(cosign_oci::ClientOptions::default(), Box::new(keychain))
        .map_err(|error| error.to_string())
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())
}

/// The webhook's TLS files.
#[derive(Debug)]
struct TlsFiles<'a> {
    certificate: &'a std::path::Path,
    key: &'a std::path::Path,
    client_ca: Option<&'a std::path::Path>,
}

/// The webhook's times.
#[derive(Debug)]
struct Durations {
    cache_ttl: std::time::Duration,
    shutdown_delay: std::time::Duration,
}

/// Where the webhook's policies come from.
#[derive(Debug)]
enum Source {
    File(std::path::PathBuf),
    Kubernetes(kubernetes::Connection),
}

fn serve(
    address: &str,
    tls: TlsFiles<'_>,
    source: Source,
    trusted_root: Option<&std::path::Path>,
    durations: Durations,
) -> ExitCode {
    let public = match public_trusted_root(trusted_root) {
        Ok(public) => public,
        Err(error) => return fail(&error),
    };
    let tls = match cosign_server::tls_config_with_client_ca(
        tls.certificate,
        tls.key,
        tls.client_ca,
    ) {
        Ok(config) => {
            let loopback = address
                .parse::<std::net::SocketAddr>()
                .is_ok_and(|address| address.ip().is_loopback())
                || address.starts_with("localhost:");
            if tls.client_ca.is_none() && !loopback {
                eprintln!("WARNING: serving {address} without --client-ca: any client that can reach it can ask for verdicts (and make the webhook read registries). Give the API server a client certificate (its AdmissionConfiguration kubeConfigFile) and pass its CA as --client-ca, or restrict who reaches the port (a NetworkPolicy).");
            }
            config
        }
        Err(error) => return fail(&error),
    };
    let client = match registry_client() {
        Ok(client) => client,
        Err(error) => return fail(&error),
    };
    let settings = webhook::Settings {
        limits: cosign_server::ConnectionLimits::default(),
        evaluation: rego_evaluation(),
        cache_ttl: durations.cache_ttl,
        public_trusted_root: public,
    };
    let (policy_source, connection) = match source {
        Source::File(path) => (webhook::PolicySource::File(path), None),
        Source::Kubernetes(connection) => (webhook::PolicySource::Kubernetes, Some(connection)),
    };
    let webhook = match webhook::Webhook::new(policy_source, client, settings) {
        Ok(webhook) => webhook,
        Err(error) => return fail(&error),
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&error),
    };
    let served = runtime.block_on(async {
        if let Some(connection) = connection {
            let (api, namespace) = kubernetes::connect(&connection)?;
            eprintln!("watching ClusterImagePolicy and TrustRoot resources; Secrets from namespace {namespace}");
            webhook.attach_kubernetes(api.clone());
            tokio::spawn(kubernetes::watch(api, namespace, webhook.clone()));
        }
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|error| format!("listening on {address}: {error}"))?;
        let bound = listener
            .local_addr()
            .map_err(|error| format!("listening on {address}: {error}"))?;
        eprintln!("serving the admission webhook on https://{bound} (/validate, /mutate)");
        webhook::serve(
            listener,
            webhook,
            tls,
            shutdown_signal(),
            durations.shutdown_delay,
        )
        .await
        .map_err(|error| format!("serving: {error}"))
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("Error: {message}");
    ExitCode::FAILURE
}

fn test(
    policy: &std::path::Path,
    image: &str,
    resource: Option<&std::path::Path>,
    trustroot: Option<&std::path::Path>,
    public: cosign_core::trust::trusted_root::TrustedRoot,
) -> ExitCode {
    let mut loaded = match cosign_cluster_policy::load_file(policy) {
        Ok(loaded) => loaded,
        Err(cosign_cluster_policy::FileError::Invalid(error)) => {
            return fail(&format!("CIP is invalid: {error}"))
        }
        Err(error) => return fail(&error.to_string()),
    };
    if let Some(path) = trustroot {
        match cosign_cluster_policy::load_file(path) {
            Ok(extra) => loaded.trust_roots.extend(extra.trust_roots),
            Err(error) => return fail(&error.to_string()),
        }
    }
    let resource = match resource.map(read_resource).transpose() {
        Ok(resource) => resource,
        Err(error) => return fail(&error),
    };
    let client = match registry_client() {
        Ok(client) => client,
        Err(error) => return fail(&error),
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&error),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        });
    let context = Context {
        client: &client,
        trust_roots: &loaded.trust_roots,
        public_trusted_root: &public,
        now: cosign_core::time::UnixTime::from_seconds(now),
        evaluation: &rego_evaluation(),
        resource: resource.as_ref(),
    };
    let judgement = runtime.block_on(judge(&loaded.policies, image, &context));
    let mut warnings = loaded.warnings.clone();
    warnings.extend(judgement.warnings.iter().cloned());
    if judgement.allowed() {
        let result = serde_json::json!({
            "image": image,
            "digest": judgement.digest.as_ref().map(ToString::to_string),
            "allowed": true,
            "warnings": warnings,
        });
        println!("{result}");
        ExitCode::SUCCESS
    } else {
        let mut result = serde_json::Map::new();
        result.insert("errors".to_owned(), judgement.errors.into());
        if !warnings.is_empty() {
            result.insert("warnings".to_owned(), warnings.into());
        }
        let result = serde_json::Value::Object(result);
        println!("{result}");
        ExitCode::FAILURE
    }
}

/// The tester's `--resource`: a Kubernetes object with `metadata`, `spec`, `kind` and
/// `apiVersion` (policy-tester's checks and words).
fn read_resource(path: &std::path::Path) -> Result<serde_json::Value, String> {
    let text = cosign_cluster_policy::read_file(path).map_err(|error| error.to_string())?;
    let object: serde_json::Value =
        serde_norway::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
    for key in ["metadata", "spec", "kind", "apiVersion"] {
        if object.get(key).is_none() {
            return Err(format!("kubernetes resource is missing {key} key"));
        }
    }
    Ok(object)
}

/// Completes on Ctrl-C or SIGTERM (what Kubernetes sends a pod it stops).
async fn shutdown_signal() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
