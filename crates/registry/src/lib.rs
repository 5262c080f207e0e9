//! cosign-registry: the embedded OCI registry (`cosign registry serve`). The distribution
//! spec's endpoints (ping, blobs and uploads with mounts, manifests by tag and digest with their
//! exact bytes, tag listing with pagination, deletes) plus the OCI 1.1 referrers API, over plain
//! HTTP on a local address, in memory or in a directory.
#![forbid(unsafe_code)]

mod routes;
pub mod storage;

use std::sync::Arc;

pub use storage::Storage;

/// A running registry's shared state.
#[derive(Debug)]
pub struct Registry {
    storage: Storage,
    /// Log one line per request on stderr.
    verbose: bool,
}

impl Registry {
    pub fn new(storage: Storage, verbose: bool) -> Arc<Self> {
        Arc::new(Self { storage, verbose })
    }
}

/// Serves `registry` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    registry: Arc<Registry>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(_) => continue,
                };
                let registry = registry.clone();
                tokio::spawn(async move {
                    let _ = routes::serve_connection(stream, peer, registry).await;
                });
            }
        }
    }
}
