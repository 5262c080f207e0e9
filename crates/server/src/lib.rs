//! cosign-server: what every server of cosign-rs shares (`registry serve`, `sigstore serve`, the
//! admission webhook). Plain HTTP or TLS on one listener, told apart by the first byte; a cap on
//! connections served at once (more are closed on accept); deadlines for request headers, the
//! TLS handshake and idle sockets; request bodies read piece by piece under a size cap and an
//! idle deadline ([`body`]). A server is a [`Handler`]: it answers one request at a time and
//! never sees a connection, so its memory and time per client are these limits'.
#![forbid(unsafe_code)]

pub mod body;
mod connection;
mod idle;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub use body::{AnswerBody, BodyError, RequestBody};
pub use hyper;

/// An answer to one request.
pub type Answer = hyper::Response<AnswerBody>;

/// A server's request handling.
pub trait Handler: Send + Sync + 'static {
    /// The answer to `request`, from the client at `peer`.
    fn handle(
        self: Arc<Self>,
        request: hyper::Request<hyper::body::Incoming>,
        peer: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = Answer> + Send>>;
}

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
    /// At shutdown, how long requests in flight have to finish (idle connections are closed at
    /// once; a connection still busy after this is dropped).
    pub drain: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 256,
            idle: Duration::from_secs(60),
            header_read: Duration::from_secs(30),
            body_idle: Duration::from_secs(30),
            drain: Duration::from_secs(10),
        }
    }
}

/// Serves `handler` on `listener` (over TLS when `tls` is given) until `shutdown` completes;
/// then accepts nothing more, lets each connection finish the request it is answering (an idle
/// one is closed), and returns when all are done or after `limits.drain`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    handler: Arc<dyn Handler>,
    limits: ConnectionLimits,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let (draining, drain_signal) = tokio::sync::watch::channel(false);
    loop {
        tokio::select! {
            () = &mut shutdown => {
                drop(listener);
                let _ = draining.send(true);
                // Every slot back: every connection closed.
                let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
                let _ = tokio::time::timeout(limits.drain, slots.acquire_many(all)).await;
                return Ok(());
            }
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                // Over the cap: closed at once, so a flood costs nothing but the accept.
                let Ok(slot) = slots.clone().try_acquire_owned() else { continue };
                // Answers go out as soon as they are written: without this, a response written
                // in two pieces (TLS records, headers then body) waits for the client's delayed
                // ACK, tens of milliseconds.
                let _ = stream.set_nodelay(true);
                let handler = handler.clone();
                let acceptor = acceptor.clone();
                let drain_signal = drain_signal.clone();
                tokio::spawn(async move {
                    connection::serve(stream, peer, handler, limits, acceptor, drain_signal).await;
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
    tls_config_with_client_ca(certificate, key, None)
}

/// [`tls_config`], and when `client_ca` is given, clients must present a certificate issued
/// by one of its certificates (PEM), as the Kubernetes API server does for webhooks when its
/// admission configuration gives it one.
pub fn tls_config_with_client_ca(
    certificate: &std::path::Path,
    key: &std::path::Path,
    client_ca: Option<&std::path::Path>,
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
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|certificates| certificates.collect())
                .map_err(|error| {
                    format!("reading certificates from {}: {error}", path.display())
                })?;
            for certificate in certificates {
                roots.add(certificate).map_err(|error| {
                    format!("a client CA certificate in {}: {error}", path.display())
                })?;
            }
            if roots.is_empty() {
                return Err(format!("no certificate in {}", path.display()));
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|error| format!("the client CA in {}: {error}", path.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|error| format!("the certificate and key do not go together: {error}"))?;
    Ok(Arc::new(config))
}
