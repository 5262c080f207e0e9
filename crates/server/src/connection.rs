//! One client connection: plain HTTP or TLS (told apart by the first byte, so a client speaking
//! the other one gets a clear answer instead of a hang), an idle deadline on the socket, a
//! deadline for request headers, bounded buffers.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

use crate::idle::IdleTimeout;
use crate::{ConnectionLimits, Handler};

/// The most a connection buffers of what the client sends (headers included).
const READ_BUFFER_MAX: usize = 64 * 1024;
/// The first byte of a TLS record carrying a handshake (a ClientHello).
const TLS_HANDSHAKE: u8 = 0x16;

pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    handler: Arc<dyn Handler>,
    limits: ConnectionLimits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    draining: tokio::sync::watch::Receiver<bool>,
) {
    let mut first = [0u8; 1];
    let peeked = tokio::time::timeout(limits.header_read, stream.peek(&mut first)).await;
    if !matches!(peeked, Ok(Ok(1))) {
        return;
    }
    let speaks_tls = first[0] == TLS_HANDSHAKE;
    let stream = IdleTimeout::new(stream, limits.idle);
    match (tls, speaks_tls) {
        (None, false) => http(stream, peer, handler, limits, draining).await,
        (Some(acceptor), true) => {
            let accepted = tokio::time::timeout(limits.header_read, acceptor.accept(stream)).await;
            if let Ok(Ok(stream)) = accepted {
                http(stream, peer, handler, limits, draining).await;
            }
        }
        // cosign tries HTTPS first even on loopback: answer at once, as Go's servers do, so it
        // falls back to HTTP instead of waiting; a plain request to the TLS port learns why.
        (None, true) => refuse(stream, "Client sent an HTTPS request to an HTTP server.\n").await,
        (Some(_), false) => {
            refuse(stream, "Client sent an HTTP request to an HTTPS server.\n").await
        }
    }
}

async fn refuse(mut stream: IdleTimeout<TcpStream>, message: &str) {
    let answer = format!("HTTP/1.0 400 Bad Request\r\nConnection: close\r\n\r\n{message}");
    let _ = stream.write_all(answer.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn http<S>(
    stream: S,
    peer: SocketAddr,
    handler: Arc<dyn Handler>,
    limits: ConnectionLimits,
    mut draining: tokio::sync::watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request| {
        let answer = handler.clone().handle(request, peer);
        async move { Ok::<_, std::convert::Infallible>(answer.await) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .max_buf_size(READ_BUFFER_MAX)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(connection);
    if *draining.borrow() {
        connection.as_mut().graceful_shutdown();
    }
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = draining.wait_for(|draining| *draining) => {}
    }
    // Shutting down: the request in flight is answered, then the connection closes.
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}
