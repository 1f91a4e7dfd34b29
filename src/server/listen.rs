//! The accept loop: hyper with a bound on open connections, deadlines for connections that do
//! not ask anything (from accept to the first complete request head, then between requests),
//! each request told its peer's address (for `monitor_allow`), and a graceful stop. Connections
//! send file-backed bodies with `sendfile` (`zerocopy`).
//!
//! The deadlines are kept by a watchdog beside each connection, not by hyper: hyper-util reads
//! the first bytes (to tell HTTP/1 from an HTTP/2 preface) before hyper's header timeout starts,
//! so a client that sends nothing, or a part of the preface, was never cut off; and HTTP/2 has
//! no idle timeout. A connection is idle while no request of it is being answered (a request
//! counts from its complete head to the last byte of its answer). When every slot is taken, the
//! connection idle the longest is closed for the newcomer, so that idle clients cannot shut out
//! `/healthz` or anyone else; only connections busy answering make newcomers wait.
//!
//! A connection sending an answer is busy, not idle, until its last byte is written: hyper lets
//! go of an answer's body once the body is in its write buffer (HTTP/1), or holds it while the
//! peer's flow-control window stays shut (HTTP/2), so the watchdog also watches the socket's
//! writes ([`Watched`]). While an answer is in flight or a write waits for room, the client must
//! take at least [`STALL_PROGRESS`] bytes every `send_stall_secs`: a client that asks for a
//! large feed and never reads it is closed then, with the memory the answer holds.
//!
//! The server runs on a thread of its own with a single-threaded runtime: a cached feed is
//! answered without waiting on anything, so one thread serves tens of thousands of requests a
//! second, without the wake-ups and hand-overs of a shared multi-threaded runtime (about a tenth
//! more requests per second on 2 cores, benches/serve.sh), and polls and deliveries on the main
//! runtime never delay an answer. Slow work (rendering, the store) goes to the blocking pool as
//! before.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::{Frame, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::lock;
use super::zerocopy::ZeroCopy;
use crate::config::Connections;

/// Bytes a sending connection must get out within each `send_stall_secs` to count as moving:
/// more than the control frames (an HTTP/2 PING's answer is 17 bytes) a stalled client could
/// provoke to look alive.
const STALL_PROGRESS: usize = 1024;

/// How long a stop waits for requests in flight.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Serves `router` on `listener` within `limits` until `stop` is cancelled, on the HTTP thread.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Connections,
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
                        let listener = TcpListener::from_std(listener)?;
                        accept_loop(listener, router, limits, stop).await
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
    limits: Connections,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max));
    let open = Arc::new(OpenConnections::default());
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper's own header deadline agrees with the idle one (it starts when hyper waits for a
    // head: after version detection, and again at the end of each answer).
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle);
    let mut next_id = 0_u64;
    loop {
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
        // Room for it: a free slot, else the slot of the connection idle the longest; while
        // every connection is busy answering, it waits (and later ones in the kernel's backlog).
        let slot = loop {
            if let Ok(slot) = slots.clone().try_acquire_owned() {
                break Some(slot);
            }
            open.close_longest_idle();
            tokio::select! {
                slot = slots.clone().acquire_owned() => {
                    break Some(slot.expect("the semaphore is never closed"));
                }
                () = open.went_idle.notified() => {}
                () = stop.cancelled() => break None,
            }
        };
        let Some(slot) = slot else { break };
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let activity = Arc::new(Activity::new(open.went_idle.clone()));
        lock(&open.all).insert(next_id, activity.clone());
        let connection = Connection {
            stream,
            peer,
            activity,
            limits: limits.clone(),
            stop: stop.clone(),
        };
        let (router, builder, open) = (router.clone(), builder.clone(), open.clone());
        tokio::spawn(async move {
            connection.serve(router, &builder).await;
            lock(&open.all).remove(&next_id);
            drop(slot);
        });
    }
    drop(listener);
    // Every slot back means every connection ended.
    let all_back = slots.acquire_many(u32::try_from(limits.max).unwrap_or(u32::MAX));
    if tokio::time::timeout(STOP_GRACE, all_back).await.is_err() {
        tracing::debug!("requests still in flight at stop were cut off");
    }
    Ok(())
}

/// The open connections, for closing the one idle the longest when every slot is taken.
#[derive(Default)]
struct OpenConnections {
    all: Mutex<HashMap<u64, Arc<Activity>>>,
    /// Told whenever a connection finishes answering (the accept loop may be waiting for one).
    went_idle: Arc<Notify>,
}

impl OpenConnections {
    fn close_longest_idle(&self) {
        let all = lock(&self.all);
        let longest = all
            .values()
            .filter(|a| a.is_idle() && !a.closing.load(Ordering::Acquire))
            .min_by_key(|a| *lock(&a.idle_since));
        if let Some(activity) = longest {
            activity.closing.store(true, Ordering::Release);
            activity.changed.notify_one();
        }
    }
}

/// What the watchdog of a connection knows of it.
struct Activity {
    /// Requests whose head was read and whose answer is not wholly sent yet.
    in_flight: AtomicUsize,
    /// Requests of those whose answer herald is still making (no send deadline meanwhile: the
    /// time is herald's, not the client's).
    making: AtomicUsize,
    /// Whether a request head was ever read (which deadline applies while idle).
    asked: AtomicBool,
    /// Since when no request is in flight (at first: the accept).
    idle_since: Mutex<Instant>,
    /// Set to close the connection as soon as it is idle (its slot is wanted).
    closing: AtomicBool,
    /// A write found the socket full and no write has gone through since: bytes of an answer
    /// are waiting for the client to read.
    blocked: AtomicBool,
    /// When the connection last made progress sending (an answer was made, or
    /// [`STALL_PROGRESS`] more bytes went out).
    progress_at: Mutex<Instant>,
    /// Bytes written since `progress_at`.
    unstamped: AtomicUsize,
    /// Wakes the watchdog: the connection went idle, or is to close.
    changed: Notify,
    went_idle: Arc<Notify>,
}

impl Activity {
    fn new(went_idle: Arc<Notify>) -> Activity {
        Activity {
            in_flight: AtomicUsize::new(0),
            making: AtomicUsize::new(0),
            asked: AtomicBool::new(false),
            idle_since: Mutex::new(Instant::now()),
            closing: AtomicBool::new(false),
            blocked: AtomicBool::new(false),
            progress_at: Mutex::new(Instant::now()),
            unstamped: AtomicUsize::new(0),
            changed: Notify::new(),
            went_idle,
        }
    }

    /// Neither answering a request nor waiting to write an answer's bytes.
    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0 && !self.blocked.load(Ordering::Acquire)
    }

    /// When the connection is to close if it stays as it is: idle, at its idle (or first
    /// request) deadline; sending, when its send stalled for `send_stall_secs`. `None`: too far
    /// ahead to represent.
    fn deadline(&self, limits: &Connections) -> Option<Instant> {
        if !self.is_idle() {
            if self.making.load(Ordering::Acquire) > 0 {
                return None;
            }
            return lock(&self.progress_at).checked_add(limits.send_stall);
        }
        let allowed = if self.asked.load(Ordering::Acquire) {
            limits.idle
        } else {
            limits.first_request
        };
        lock(&self.idle_since).checked_add(allowed)
    }

    fn made_progress(&self) {
        *lock(&self.progress_at) = Instant::now();
        self.unstamped.store(0, Ordering::Release);
    }

    /// What a write on the socket came to: `Some(n)` bytes written, `None` no room.
    fn wrote(&self, written: Option<usize>) {
        let Some(n) = written else {
            if !self.blocked.swap(true, Ordering::AcqRel) {
                // From idle (an answer handed over whole) to sending: the watchdog's deadline
                // changes.
                self.changed.notify_one();
            }
            return;
        };
        if self.unstamped.fetch_add(n, Ordering::AcqRel) + n >= STALL_PROGRESS {
            self.made_progress();
        }
        if n > 0 && self.blocked.swap(false, Ordering::AcqRel) && self.is_idle() {
            self.went_idle_now();
        }
    }

    fn went_idle_now(&self) {
        *lock(&self.idle_since) = Instant::now();
        self.changed.notify_one();
        self.went_idle.notify_one();
    }
}

/// A request in flight on its connection, from its complete head until its answer's body is
/// dropped (sent, or the connection ended).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: &Arc<Activity>) -> (InFlight, Making) {
        activity.asked.store(true, Ordering::Release);
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.making.fetch_add(1, Ordering::AcqRel);
        (InFlight(activity.clone()), Making(activity.clone()))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        if activity.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 && activity.is_idle() {
            activity.went_idle_now();
        }
    }
}

/// A request whose answer herald is making, until the answer (head and body) is handed to
/// hyper, or the request is dropped.
struct Making(Arc<Activity>);

impl Drop for Making {
    fn drop(&mut self) {
        let activity = &self.0;
        activity.making.fetch_sub(1, Ordering::AcqRel);
        // The send clock starts now, unless answers before this one are still stuck (a
        // pipelining client that reads nothing must not keep its connection by asking more).
        if !activity.blocked.load(Ordering::Acquire) {
            activity.made_progress();
        }
        // The watchdog's deadline is now the send deadline.
        activity.changed.notify_one();
    }
}

/// An answer's body that keeps its request counted in flight until it is dropped. Frames pass
/// through untouched (a file-backed body still reaches `ZeroCopy` as the same bytes).
struct Tracked {
    body: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// One accepted connection with what its watchdog needs.
struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    activity: Arc<Activity>,
    limits: Connections,
    stop: CancellationToken,
}

impl Connection {
    /// Serves the connection until the client closes it, it errs, it stays idle past its
    /// deadline, its slot is wanted while it is idle, or the server stops.
    async fn serve(self, router: Router, builder: &auto::Builder<TokioExecutor>) {
        let Connection {
            stream,
            peer,
            activity,
            limits,
            stop,
        } = self;
        let service = {
            let activity = activity.clone();
            hyper::service::service_fn(move |mut request: hyper::Request<_>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                let (in_flight, making) = InFlight::start(&activity);
                let answer = router.clone().oneshot(request);
                async move {
                    let response = answer.await?;
                    drop(making);
                    Ok::<_, Infallible>(response.map(|body| Tracked {
                        body,
                        _in_flight: in_flight,
                    }))
                }
            })
        };
        let io = Watched {
            io: ZeroCopy::new(stream),
            activity: activity.clone(),
        };
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
        tokio::pin!(connection);
        let mut stopping = false;
        loop {
            let deadline = activity.deadline(&limits);
            tokio::select! {
                biased;
                ended = connection.as_mut() => {
                    if let Err(e) = ended {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                () = stop.cancelled(), if !stopping => {
                    stopping = true;
                    if activity.is_idle() {
                        return;
                    }
                    // Answers in flight are finished, then the connection closes.
                    connection.as_mut().graceful_shutdown();
                }
                () = activity.changed.notified() => {
                    if activity.is_idle() && (stopping || activity.closing.load(Ordering::Acquire)) {
                        tracing::debug!(%peer, "idle connection closed: its slot is wanted");
                        return;
                    }
                }
                () = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    if activity.is_idle() {
                        tracing::debug!(%peer, "idle connection closed at its deadline");
                        return;
                    }
                    if activity.deadline(&limits).is_some_and(|at| at <= Instant::now()) {
                        metrics::counter!("herald_send_stalls_total").increment(1);
                        tracing::debug!(%peer, "connection closed: its client took no part of the answer for send_stall_secs");
                        return;
                    }
                }
            }
        }
    }
}

/// The connection's socket, reporting each write's outcome to the watchdog ([`Activity::wrote`]).
/// Vectored writes pass through as they are, so that `ZeroCopy` still finds file-backed bodies.
struct Watched {
    io: ZeroCopy,
    activity: Arc<Activity>,
}

impl Watched {
    fn report(&self, outcome: &Poll<std::io::Result<usize>>) {
        match outcome {
            Poll::Ready(Ok(n)) => self.activity.wrote(Some(*n)),
            Poll::Pending => self.activity.wrote(None),
            Poll::Ready(Err(_)) => {}
        }
    }
}

impl tokio::io::AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let outcome = Pin::new(&mut self.io).poll_write(cx, buf);
        self.report(&outcome);
        outcome
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let outcome = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.report(&outcome);
        outcome
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
