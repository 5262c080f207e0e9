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
mod body;
mod connection;
mod idle;
mod manifests;
pub mod names;
mod request;
mod routes;
pub mod storage;
pub mod uploads;

use std::sync::Arc;
use std::time::Duration;

pub use auth::{BasicAuth, Htpasswd};
pub use storage::Storage;
pub use uploads::UploadLimits;

/// Limits on connections and the time a client may take.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections served at once; more are closed at once.
    pub max_connections: usize,
    /// A connection that moves no byte for this long is closed.
    pub idle: Duration,
    /// The time a client has to send a request's headers (and the TLS handshake).
    pub header_read: Duration,
    /// The longest wait for the next piece of a request body.
    pub body_idle: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 256,
            idle: Duration::from_secs(60),
            header_read: Duration::from_secs(30),
            body_idle: Duration::from_secs(30),
        }
    }
}

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

/// Serves `registry` on `listener` (over TLS when `tls` is given) until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    registry: Arc<Registry>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let slots = Arc::new(tokio::sync::Semaphore::new(registry.limits.max_connections));
    let mut expiry = tokio::time::interval(Duration::from_secs(30));
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            _ = expiry.tick() => registry.uploads.expire(),
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                // Over the cap: closed at once, so a flood costs nothing but the accept.
                let Ok(slot) = slots.clone().try_acquire_owned() else { continue };
                let registry = registry.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    connection::serve(stream, peer, registry, acceptor).await;
                    drop(slot);
                });
            }
        }
    }
}

/// A TLS configuration from PEM files: a certificate chain and its private key.
pub fn tls_config(
    certificate: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificate)
        .and_then(|certificates| certificates.collect())
        .map_err(|error| {
            format!(
                "reading certificates from {}: {error}",
                certificate.display()
            )
        })?;
    if chain.is_empty() {
        return Err(format!("no certificate in {}", certificate.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|error| format!("reading a private key from {}: {error}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| format!("the certificate and key do not go together: {error}"))?;
    Ok(Arc::new(config))
}
