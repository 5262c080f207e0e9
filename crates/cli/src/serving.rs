//! What the serving commands (`registry serve`, `sigstore serve`) share: the addresses a
//! `--address` names, checked by the caller before anything listens, and the signal that stops
//! a server (Ctrl-C or SIGTERM).

use std::net::SocketAddr;

use crate::error::CliError;

/// Resolves `address` (HOST:PORT), lets `check` refuse any of its addresses, then listens on
/// them; the listener and the address it got (port 0 picks one).
pub(crate) async fn listen(
    address: &str,
    check: impl Fn(SocketAddr) -> Result<(), CliError>,
) -> Result<(tokio::net::TcpListener, SocketAddr), CliError> {
    let listening =
        |error: std::io::Error| CliError::new(format!("listening on {address}: {error}"));
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host(address)
        .await
        .map_err(listening)?
        .collect();
    for resolved in &addresses {
        check(*resolved)?;
    }
    let listener = tokio::net::TcpListener::bind(addresses.as_slice())
        .await
        .map_err(listening)?;
    let bound = listener.local_addr().map_err(listening)?;
    Ok((listener, bound))
}

/// Completes on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
