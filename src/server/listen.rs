//! The accept loop: hyper with a bound on open connections, a deadline for request headers
//! (a client that trickles its headers cannot hold a connection), each request told its peer's
//! address (for `monitor_allow`), and a graceful stop. Connections send file-backed bodies with
//! `sendfile` (`zerocopy`).
//!
//! The server runs on a thread of its own with a single-threaded runtime: a cached feed is
//! answered without waiting on anything, so one thread serves tens of thousands of requests a
//! second, without the wake-ups and hand-overs of a shared multi-threaded runtime (about a tenth
//! more requests per second on 2 cores, benches/serve.sh), and polls and deliveries on the main
//! runtime never delay an answer. Slow work (rendering, the store) goes to the blocking pool as
//! before.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::zerocopy::ZeroCopy;

/// Open connections at most; more wait in the kernel's backlog until one closes.
pub const MAX_CONNECTIONS: usize = 512;
/// Time a client has to send a request's headers once it started, or, between requests on a
/// kept-alive connection, to start the next one.
const HEADER_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a stop waits for requests in flight.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Serves `router` on `listener` until `stop` is cancelled, on the HTTP thread.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    stop: CancellationToken,
) -> std::io::Result<()> {
    // The listener is registered with the caller's runtime: hand its socket over.
    let listener = listener.into_std()?;
    let (done, finished) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("herald-http".into())
        .spawn(move || {
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .and_then(|runtime| {
                    runtime.block_on(async {
                        accept_loop(TcpListener::from_std(listener)?, router, stop).await
                    })
                });
            let _ = done.send(result);
        })?;
    finished
        .await
        .unwrap_or_else(|_| Err(std::io::Error::other("the HTTP thread panicked")))
}

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = stop.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was taken:
                    // wait a moment rather than spin.
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let connection = builder
                .serve_connection_with_upgrades(TokioIo::new(ZeroCopy::new(stream)), service);
            if let Err(e) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(STOP_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::debug!("requests still in flight at stop were cut off");
    }
    Ok(())
}
