//! cosign-registry: the embedded OCI registry (`cosign registry serve`). The distribution
//! spec's endpoints (ping, blobs and uploads with mounts, manifests by tag and digest with their
//! exact bytes, tag listing with pagination, deletes) plus the OCI 1.1 referrers API, over HTTP
//! or TLS, open or behind htpasswd basic auth, with content on disk.
//!
//! It faces hostile clients: names, tags, digests and upload ids are checked against the spec's
//! grammar before use and every storage path is checked again ([`storage`]); bodies are streamed
//! with size caps; uploads are capped in number and expire; connections are capped and time out
//! when idle, so memory stays bounded whatever a client sends.
#![forbid(unsafe_code)]

pub mod auth;
mod manifests;
pub mod names;
mod request;
mod routes;
pub mod storage;
pub mod uploads;

use std::sync::Arc;
use std::time::Duration;

pub use auth::{BasicAuth, Htpasswd};
pub use cosign_server::{tls_config, ConnectionLimits};
pub use storage::Storage;
pub use uploads::UploadLimits;

/// How a registry is set up.
#[derive(Debug)]
pub struct RegistryConfig {
    pub storage: Storage,
    /// Log one line per request on stderr.
    pub verbose: bool,
    /// Basic auth against an htpasswd file; open to all when `None`.
    pub auth: Option<BasicAuth>,
    pub uploads: UploadLimits,
    pub connections: ConnectionLimits,
}

impl RegistryConfig {
    pub fn new(storage: Storage) -> Self {
        Self {
            storage,
            verbose: false,
            auth: None,
            uploads: UploadLimits::default(),
            connections: ConnectionLimits::default(),
        }
    }
}

/// A running registry's shared state.
#[derive(Debug)]
pub struct Registry {
    storage: Arc<Storage>,
    uploads: uploads::Uploads,
    verbose: bool,
    auth: Option<BasicAuth>,
    limits: ConnectionLimits,
}

impl Registry {
    pub fn new(config: RegistryConfig) -> Arc<Self> {
        let uploads = uploads::Uploads::new(&config.storage.uploads_dir(), config.uploads);
        Arc::new(Self {
            storage: Arc::new(config.storage),
            uploads,
            verbose: config.verbose,
            auth: config.auth,
            limits: config.connections,
        })
    }
}

impl cosign_server::Handler for Registry {
    fn handle(
        self: Arc<Self>,
        request: hyper::Request<hyper::body::Incoming>,
        peer: std::net::SocketAddr,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = cosign_server::Answer> + Send>> {
        Box::pin(routes::handle(request, self, peer))
    }
}

/// Serves `registry` on `listener` (over TLS when `tls` is given) until `shutdown` completes;
/// uploads left idle expire meanwhile.
pub async fn serve(
    listener: tokio::net::TcpListener,
    registry: Arc<Registry>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let expiring = registry.clone();
    let expiry = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(30));
        loop {
            every.tick().await;
            expiring.uploads.expire();
        }
    });
    let limits = registry.limits;
    let served = cosign_server::serve(listener, registry, limits, tls, shutdown).await;
    expiry.abort();
    served
}
