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
//! `/healthz` or anyone else; when none is idle, the busy one taking its answers slowest is, if
//! it is slow ([`MIN_BUSY_RATE`]); only connections taking their answers fast make newcomers
//! wait.
//!
//! A connection sending an answer is busy, not idle, until its last byte is written: hyper lets
//! go of an answer's body once the body is in its write buffer (HTTP/1), or holds it while the
//! peer's flow-control window stays shut (HTTP/2), so the watchdog also watches the socket's
//! writes ([`Watched`]). While an answer is in flight or a write waits for room, the client must
//! take at least [`STALL_PROGRESS`] bytes every `send_stall_secs`: a client that asks for a
//! large feed and never reads it is closed then, with the memory the answer holds. Asking more
//! meanwhile does not restart that clock.
//!
//! The server runs on a thread per core, each with a single-threaded runtime accepting on its
//! own handle of the one listening socket, as nginx's workers do: a connection is served whole by
//! the thread that accepted it, so a cached feed is answered without any hand-over between
//! threads (a shared multi-threaded runtime's wake-ups cost about a tenth of the requests per
//! second, benches/serve.sh), and polls and deliveries on the main runtime never delay an
//! answer. A thread that accepts a connection while another serves fewer passes it to the one
//! serving the fewest, once, before serving it, so that keep-alive clients spread evenly over
//! every core.
//! The connection cap, the eviction of the longest idle connection and the deadlines hold across
//! all threads together. Slow work (rendering, the store) goes to the blocking pool as before.
//! A request first meets the [`Routes::shortcut`], which answers what its thread keeps in memory
//! (a cached feed) without the router; the router answers the rest.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering, fence};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::either::Either;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::lock;
use super::zerocopy::ZeroCopy;
use crate::config::Connections;

/// Bytes a sending connection must get out within each `send_stall_secs` to count as moving:
/// more than the control frames (an HTTP/2 PING's answer is 17 bytes) a stalled client could
/// provoke to look alive.
const STALL_PROGRESS: usize = 1024;

/// When every slot is taken and none is idle, a busy connection that took its answers at less
/// than this many bytes a second over the last [`SLOW_AFTER`] or more, busy throughout (never
/// idle, no answer of it being made by herald when looked at), is closed for a newcomer, the
/// slowest first: a client that reads just enough to pass the send-stall deadline, or keeps an
/// HTTP/2 window shut while it asks more, holds a slot only while nobody else needs it.
const MIN_BUSY_RATE: u64 = 8 * 1024;

/// How long a busy connection is measured before it may count as slow: the span between the
/// accept loop's first look at it (when every slot is taken) and a later one.
const SLOW_AFTER: Duration = Duration::from_secs(2);

/// Requests in flight at once on one HTTP/2 connection, at most.
const H2_MAX_STREAMS: u32 = 32;

/// How long a stop waits for requests in flight.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// At most this many serving threads, however many cores.
const MAX_THREADS: usize = 64;

/// Answers a request on the serving thread without the router, when it can: `None` sends the
/// request on to the router. It must be quick and must not block (it runs on the thread that
/// serves the connection).
pub type Shortcut = Arc<dyn Fn(&hyper::Request<Incoming>) -> Option<Response> + Send + Sync>;

/// What the server answers with: the router, and a shortcut tried first.
#[derive(Clone)]
pub struct Routes {
    pub router: Router,
    pub shortcut: Option<Shortcut>,
}

impl From<Router> for Routes {
    fn from(router: Router) -> Routes {
        Routes {
            router,
            shortcut: None,
        }
    }
}

/// Serves `routes` on `listener` within `limits` until `stop` is cancelled, on a thread per core.
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    limits: Connections,
    stop: CancellationToken,
) -> std::io::Result<()> {
    serve_on(serving_threads(), listener, routes, limits, stop).await
}

/// The serving threads [`serve`] runs: one per core, within [`MAX_THREADS`].
pub(super) fn serving_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, NonZeroUsize::get)
            .min(MAX_THREADS)
    })
}

/// [`serve`] on `threads` threads.
async fn serve_on(
    threads: usize,
    listener: TcpListener,
    routes: Routes,
    limits: Connections,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let threads = threads.max(1);
    // The watchdogs' clock starts before any connection's.
    epoch();
    // The listener is registered with the caller's runtime: hand its socket over, and give each
    // thread a handle of its own (the same socket: the kernel gives each connection to one).
    let listener = listener.into_std()?;
    let stop = stop.child_token();
    let (inboxes, receivers): (Vec<_>, Vec<_>) =
        (0..threads).map(|_| mpsc::unbounded_channel()).unzip();
    let pool = Arc::new(Pool {
        slots: Arc::new(Semaphore::new(limits.max)),
        open: Arc::new(OpenConnections::default()),
        next_id: AtomicU64::new(0),
        load: (0..threads).map(|_| AtomicUsize::new(0)).collect(),
        inboxes,
    });
    let mut finished = Vec::with_capacity(threads);
    for (index, inbox) in receivers.into_iter().enumerate() {
        let worker = Worker {
            index,
            pool: pool.clone(),
            routes: routes.clone(),
            limits: limits.clone(),
            stop: stop.clone(),
        };
        let listener = listener.try_clone()?;
        let (done, finish) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name(format!("herald-http-{index}"))
            .spawn(move || {
                let result = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .and_then(|runtime| {
                        runtime.block_on(async {
                            let listener = TcpListener::from_std(listener)?;
                            worker.run(listener, inbox).await
                        })
                    });
                let _ = done.send(result);
            });
        if let Err(e) = spawned {
            // The threads already running stop with the rest.
            stop.cancel();
            return Err(e);
        }
        finished.push(finish);
    }
    drop(listener);
    let mut result = Ok(());
    for finish in finished {
        let ended = finish
            .await
            .unwrap_or_else(|_| Err(std::io::Error::other("an HTTP thread panicked")));
        if let Err(e) = ended {
            // One thread failing stops them all: a server on fewer cores than it says is not
            // left running unnoticed.
            stop.cancel();
            result = result.and(Err(e));
        }
    }
    result
}

/// What the serving threads share: the connection slots and the open connections (for the cap
/// and the eviction of the idle), and how many connections each thread serves.
struct Pool {
    slots: Arc<Semaphore>,
    open: Arc<OpenConnections>,
    next_id: AtomicU64,
    /// Connections each thread serves now.
    load: Vec<AtomicUsize>,
    /// Where to pass a connection to each thread.
    inboxes: Vec<mpsc::UnboundedSender<Accepted>>,
}

impl Pool {
    /// The thread a connection accepted by `me` should go to: `me`, unless another serves fewer
    /// connections than `me` does (then the one serving the fewest).
    fn thread_for(&self, me: usize) -> usize {
        let load = |i: usize| self.load[i].load(Ordering::Acquire);
        let (fewest, least) = (0..self.load.len())
            .map(|i| (i, load(i)))
            .min_by_key(|&(_, n)| n)
            .unwrap_or((me, 0));
        if load(me) > least { fewest } else { me }
    }
}

/// An accepted connection with its slot, on its way to the thread that serves it.
struct Accepted {
    stream: std::net::TcpStream,
    peer: SocketAddr,
    slot: OwnedSemaphorePermit,
}

/// One serving thread's accept loop and connections.
struct Worker {
    index: usize,
    pool: Arc<Pool>,
    routes: Routes,
    limits: Connections,
    stop: CancellationToken,
}

impl Worker {
    async fn run(
        self,
        listener: TcpListener,
        mut inbox: mpsc::UnboundedReceiver<Accepted>,
    ) -> std::io::Result<()> {
        // No timer for hyper: the watchdog keeps every deadline, a head read slowly included (a
        // connection is idle until a head is complete). hyper's header deadline set a timer
        // per request, and read the clock for it, on every keep-alive request.
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // A client may send its request and shut its side at once (`nc -N`): it still waits
        // for the answer.
        builder.http1().header_read_timeout(None).half_close(true);
        // An HTTP/2 client may ask this many things at once on one connection (hyper's default
        // is 200): each waits for a render turn or holds an answer, and a feed reader asks one
        // feed at a time.
        builder.http2().max_concurrent_streams(H2_MAX_STREAMS);
        let mut connections = JoinSet::new();
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
                Some(passed) = inbox.recv() => {
                    // Counted in this thread's load by the thread that passed it.
                    match TcpStream::from_std(passed.stream) {
                        Ok(stream) => {
                            self.spawn(&mut connections, &builder, stream, passed.peer, passed.slot);
                        }
                        Err(e) => {
                            self.pool.load[self.index].fetch_sub(1, Ordering::AcqRel);
                            tracing::debug!(error = %e, "a passed connection could not be served");
                        }
                    }
                    continue;
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                () = self.stop.cancelled() => break,
            };
            let Some(slot) = self.slot().await else { break };
            let _ = stream.set_nodelay(true);
            let to = self.pool.thread_for(self.index);
            if to != self.index {
                self.pool.load[to].fetch_add(1, Ordering::AcqRel);
                let passed = stream
                    .into_std()
                    .map(|stream| Accepted { stream, peer, slot });
                match passed.map(|passed| self.pool.inboxes[to].send(passed)) {
                    Ok(Ok(())) => continue,
                    // That thread has ended (the server is stopping): the connection closes.
                    Ok(Err(_)) | Err(_) => {
                        self.pool.load[to].fetch_sub(1, Ordering::AcqRel);
                        continue;
                    }
                }
            }
            self.pool.load[self.index].fetch_add(1, Ordering::AcqRel);
            self.spawn(&mut connections, &builder, stream, peer, slot);
        }
        drop(listener);
        inbox.close();
        // Connections passed here but not begun close with the inbox; the others finish their
        // answers within the grace.
        while let Ok(passed) = inbox.try_recv() {
            drop(passed);
            self.pool.load[self.index].fetch_sub(1, Ordering::AcqRel);
        }
        let all_ended = async { while connections.join_next().await.is_some() {} };
        if tokio::time::timeout(STOP_GRACE, all_ended).await.is_err() {
            tracing::debug!("requests still in flight at stop were cut off");
        }
        Ok(())
    }

    /// Room for a new connection: a free slot, else the slot of the connection idle the longest
    /// (on any thread), else that of the busy connection taking its answers slowest, if it is
    /// slow ([`MIN_BUSY_RATE`]); while every connection is busy and none is slow, it waits (and
    /// later ones in the kernel's backlog). `None`: the server stops.
    async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        let Pool { slots, open, .. } = &*self.pool;
        loop {
            if let Ok(slot) = slots.clone().try_acquire_owned() {
                return Some(slot);
            }
            open.make_room();
            tokio::select! {
                slot = slots.clone().acquire_owned() => {
                    return Some(slot.expect("the semaphore is never closed"));
                }
                () = open.went_idle.notified() => {}
                // A busy connection may have become slow enough to give way since.
                () = tokio::time::sleep(SLOW_AFTER / 4) => {}
                () = self.stop.cancelled() => return None,
            }
        }
    }

    /// Serves a connection counted in this thread's load until it ends.
    fn spawn(
        &self,
        connections: &mut JoinSet<()>,
        builder: &auto::Builder<TokioExecutor>,
        stream: TcpStream,
        peer: SocketAddr,
        slot: OwnedSemaphorePermit,
    ) {
        let id = self.pool.next_id.fetch_add(1, Ordering::Relaxed);
        let open = self.pool.open.clone();
        let activity = Arc::new(Activity::new(
            open.went_idle.clone(),
            self.pool.slots.clone(),
            &self.limits,
        ));
        lock(&open.all).insert(id, activity.clone());
        let connection = Connection {
            stream,
            peer,
            activity,
            stop: self.stop.clone(),
        };
        let (routes, builder, pool, index) = (
            self.routes.clone(),
            builder.clone(),
            self.pool.clone(),
            self.index,
        );
        connections.spawn(async move {
            connection.serve(routes, &builder).await;
            lock(&open.all).remove(&id);
            pool.load[index].fetch_sub(1, Ordering::AcqRel);
            drop(slot);
        });
    }
}

/// The open connections, for closing the one idle the longest when every slot is taken.
#[derive(Default)]
struct OpenConnections {
    all: Mutex<HashMap<u64, Arc<Activity>>>,
    /// Told whenever a connection finishes answering (the accept loop may be waiting for one).
    went_idle: Arc<Notify>,
}

impl OpenConnections {
    /// Every slot is taken: closes the connection idle the longest; when none is idle, the busy
    /// one taking its answers slowest, if it is slower than [`MIN_BUSY_RATE`].
    fn make_room(&self) {
        let all = lock(&self.all);
        if all.values().any(|a| a.is_idle()) {
            let longest = all
                .values()
                .filter(|a| a.is_idle() && !a.closing.load(Ordering::Acquire))
                .min_by_key(|a| *lock(&a.idle_since));
            if let Some(activity) = longest {
                activity.close_when_idle();
            }
            // Else room is already being made.
            return;
        }
        let now = Instant::now();
        let slowest = all
            .values()
            .filter_map(|a| a.slow_rate(now).map(|rate| (rate, a)))
            .min_by_key(|(rate, _)| *rate);
        if let Some((_, activity)) = slowest {
            activity.evict();
        }
    }
}

/// What the watchdog of a connection knows of it.
///
/// The watchdog sleeps until a time it arms ([`Activity::armed`]), no later than the
/// connection's deadline. A change that brings the deadline before that time wakes it
/// ([`Activity::nudge`]); any other change is seen when it wakes, so that a keep-alive
/// connection's requests wake it not at all (two wake-ups and two timers per request cost a
/// tenth of a cached answer's CPU).
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
    /// Bytes written in all, and how many times the connection went idle.
    sent: AtomicU64,
    idles: AtomicU64,
    /// What the accept loop saw of it when it last looked for a slow connection (only while
    /// every slot is taken): a busy span's start.
    looked: Mutex<Option<Look>>,
    /// Closed for a newcomer while busy: it took its answers too slowly ([`MIN_BUSY_RATE`]).
    evicted: AtomicBool,
    /// Wakes the watchdog: its deadline came nearer, or the connection is to close.
    changed: Notify,
    /// When the watchdog wakes next, in nanoseconds after [`epoch`].
    armed: AtomicU64,
    went_idle: Arc<Notify>,
    /// Every thread's connection slots: a connection going idle tells an accept loop that may
    /// be waiting for one (only when none is free).
    slots: Arc<Semaphore>,
    first_request: Duration,
    idle: Duration,
    send_stall: Duration,
}

impl Activity {
    fn new(went_idle: Arc<Notify>, slots: Arc<Semaphore>, limits: &Connections) -> Activity {
        Activity {
            in_flight: AtomicUsize::new(0),
            making: AtomicUsize::new(0),
            asked: AtomicBool::new(false),
            idle_since: Mutex::new(Instant::now()),
            closing: AtomicBool::new(false),
            blocked: AtomicBool::new(false),
            progress_at: Mutex::new(Instant::now()),
            unstamped: AtomicUsize::new(0),
            sent: AtomicU64::new(0),
            idles: AtomicU64::new(0),
            looked: Mutex::new(None),
            evicted: AtomicBool::new(false),
            changed: Notify::new(),
            armed: AtomicU64::new(0),
            went_idle,
            slots,
            first_request: limits.first_request,
            idle: limits.idle,
            send_stall: limits.send_stall,
        }
    }

    /// Neither answering a request nor waiting to write an answer's bytes.
    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0 && !self.blocked.load(Ordering::Acquire)
    }

    /// When the connection is to close if it stays as it is: idle, at its idle (or first
    /// request) deadline; sending, when its send stalled for `send_stall_secs`. `None`: too far
    /// ahead to represent.
    fn deadline(&self) -> Option<Instant> {
        if !self.is_idle() {
            if self.making.load(Ordering::Acquire) > 0 {
                return None;
            }
            return lock(&self.progress_at).checked_add(self.send_stall);
        }
        let allowed = if self.asked.load(Ordering::Acquire) {
            self.idle
        } else {
            self.first_request
        };
        lock(&self.idle_since).checked_add(allowed)
    }

    /// When the watchdog should wake: the deadline, but no later than the shortest deadline
    /// from now, so that no later change can bring the deadline before it (the deadlines a
    /// request's steps set are all at least that far ahead).
    fn wake_at(&self) -> Instant {
        let soonest = Instant::now()
            .checked_add(self.send_stall.min(self.idle).min(self.first_request))
            .unwrap_or_else(far_future);
        self.deadline().map_or(soonest, |at| at.min(soonest))
    }

    /// The watchdog sleeps until `at`. True when the deadline changed meanwhile to before it
    /// (a change its notifier may have judged by the time armed before): look again.
    fn arm(&self, at: Instant) -> bool {
        self.armed.store(since_epoch(at), Ordering::SeqCst);
        // Pairs with the fence in `nudge`: either the change is seen here, or the notifier
        // sees this time.
        fence(Ordering::SeqCst);
        self.deadline().is_some_and(|due| due < at)
    }

    /// After a change that may bring the deadline nearer: wakes the watchdog if the deadline
    /// is now before the time it sleeps to.
    fn nudge(&self) {
        fence(Ordering::SeqCst);
        let armed = self.armed.load(Ordering::SeqCst);
        if self.deadline().is_some_and(|due| since_epoch(due) < armed) {
            self.changed.notify_one();
        }
    }

    /// Marks the connection to close as soon as it is idle (now, if it is).
    fn close_when_idle(&self) {
        self.closing.store(true, Ordering::Release);
        self.changed.notify_one();
    }

    /// How fast (bytes a second) the connection took its answers since the accept loop first
    /// looked at it, when that is slow enough for it to give way to a newcomer: busy at every
    /// look (not idle, no answer of it being made by herald, whose time that is), never idle in
    /// between, for at least [`SLOW_AFTER`], at under [`MIN_BUSY_RATE`]. `None` otherwise; a
    /// connection found busy starts (or, past [`SLOW_AFTER`] and fast, starts again) its span.
    fn slow_rate(&self, now: Instant) -> Option<u64> {
        let mut looked = lock(&self.looked);
        if self.is_idle()
            || self.making.load(Ordering::Acquire) > 0
            || self.evicted.load(Ordering::Acquire)
        {
            *looked = None;
            return None;
        }
        let here = Look {
            at: now,
            sent: self.sent.load(Ordering::Acquire),
            idles: self.idles.load(Ordering::Acquire),
        };
        let Some(start) = looked.filter(|start| start.idles == here.idles) else {
            *looked = Some(here);
            return None;
        };
        let span = now.saturating_duration_since(start.at);
        if span < SLOW_AFTER {
            return None;
        }
        let taken = here.sent.saturating_sub(start.sent);
        let rate =
            u64::try_from(u128::from(taken) * 1000 / span.as_millis().max(1)).unwrap_or(u64::MAX);
        if rate >= MIN_BUSY_RATE {
            *looked = Some(here);
            return None;
        }
        Some(rate)
    }

    /// Closes the connection now, busy or not.
    fn evict(&self) {
        self.evicted.store(true, Ordering::Release);
        self.changed.notify_one();
    }

    fn made_progress(&self) {
        *lock(&self.progress_at) = Instant::now();
        self.unstamped.store(0, Ordering::Release);
    }

    /// What a write on the socket came to: `Some(n)` bytes written, `None` no room.
    fn wrote(&self, written: Option<usize>) {
        let Some(n) = written else {
            if !self.blocked.swap(true, Ordering::AcqRel) {
                // From idle (an answer handed over whole) to sending: the send deadline counts
                // from the last progress, maybe before the time the watchdog sleeps to.
                self.nudge();
            }
            return;
        };
        self.sent.fetch_add(n as u64, Ordering::AcqRel);
        if self.unstamped.fetch_add(n, Ordering::AcqRel) + n >= STALL_PROGRESS {
            self.made_progress();
        }
        if n > 0 && self.blocked.swap(false, Ordering::AcqRel) && self.is_idle() {
            self.went_idle_now();
        }
    }

    fn went_idle_now(&self) {
        self.idles.fetch_add(1, Ordering::AcqRel);
        *lock(&self.idle_since) = Instant::now();
        if self.closing.load(Ordering::Acquire) {
            self.changed.notify_one();
        } else {
            self.nudge();
        }
        if self.slots.available_permits() == 0 {
            self.went_idle.notify_one();
        }
    }
}

/// A look at a busy connection (see [`Activity::slow_rate`]).
#[derive(Clone, Copy)]
struct Look {
    at: Instant,
    sent: u64,
    idles: u64,
}

/// The instant the watchdogs' armed times count from.
fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// `at` in nanoseconds after [`epoch`] (0 before it, `u64::MAX` past what a u64 holds).
fn since_epoch(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch()).as_nanos()).unwrap_or(u64::MAX)
}

/// An instant later than any deadline (about 30 years ahead).
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
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
        // The send clock starts now, unless answers before this one are still stuck: a
        // pipelining client that reads nothing (HTTP/1: the socket is full), or one that keeps
        // its flow-control window shut (HTTP/2: the answers wait in hyper, and the socket is
        // not full), must not keep its connection by asking more.
        let handed_over = activity
            .in_flight
            .load(Ordering::Acquire)
            .saturating_sub(activity.making.load(Ordering::Acquire));
        if !activity.blocked.load(Ordering::Acquire) && handed_over <= 1 {
            activity.made_progress();
        }
        // The deadline is now the send deadline.
        activity.nudge();
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
    stop: CancellationToken,
}

/// The 400 that RFC 9112 §3.2 requires for an HTTP/1.1 request without a `Host` header, and
/// for a request of any version with more than one (HTTP/2 names the host in `:authority`).
fn without_one_host<B>(request: &hyper::Request<B>) -> Option<Response> {
    let hosts = request
        .headers()
        .get_all(axum::http::header::HOST)
        .iter()
        .count();
    let missing = hosts == 0 && request.version() == axum::http::Version::HTTP_11;
    (missing || hosts > 1).then(|| {
        (
            axum::http::StatusCode::BAD_REQUEST,
            [(
                axum::http::header::X_CONTENT_TYPE_OPTIONS,
                axum::http::HeaderValue::from_static("nosniff"),
            )],
            "the request must name its host once (Host header)\n",
        )
            .into_response()
    })
}

/// `response` without `Content-Length` when it is a 304. axum writes the length of the (empty)
/// body on every answer to HEAD, so a 304 to HEAD said `content-length: 0`, which RFC 9110
/// §8.6 forbids unless it is the length of the 200's body; a 304 to GET had none. No 304
/// carries one, whatever the route, method, coding or HTTP version.
fn without_length_if_304(mut response: Response) -> Response {
    if response.status() == axum::http::StatusCode::NOT_MODIFIED {
        response
            .headers_mut()
            .remove(axum::http::header::CONTENT_LENGTH);
    }
    response
}

impl Connection {
    /// Serves the connection until the client closes it, it errs, it stays idle past its
    /// deadline, its slot is wanted while it is idle, or the server stops.
    async fn serve(self, routes: Routes, builder: &auto::Builder<TokioExecutor>) {
        let Connection {
            stream,
            peer,
            activity,
            stop,
        } = self;
        let service = {
            let activity = activity.clone();
            let Routes { router, shortcut } = routes;
            hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                let (in_flight, making) = InFlight::start(&activity);
                let answer = match without_one_host(&request)
                    .or_else(|| shortcut.as_ref().and_then(|answer| answer(&request)))
                {
                    Some(response) => Either::Left(std::future::ready(Ok(response))),
                    None => {
                        request.extensions_mut().insert(ConnectInfo(peer));
                        Either::Right(router.clone().oneshot(request))
                    }
                };
                async move {
                    let response = without_length_if_304(answer.await?);
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
            let wake = activity.wake_at();
            if activity.arm(wake) {
                continue;
            }
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
                    // Answers in flight are finished, then the connection closes (when it
                    // goes idle, the watchdog is told).
                    connection.as_mut().graceful_shutdown();
                    activity.closing.store(true, Ordering::Release);
                }
                () = activity.changed.notified() => {
                    if activity.evicted.load(Ordering::Acquire) {
                        metrics::counter!("herald_slow_connections_closed_total").increment(1);
                        tracing::debug!(%peer, "busy connection closed: its slot is wanted and it takes its answers too slowly");
                        return;
                    }
                    if activity.is_idle() && activity.closing.load(Ordering::Acquire) {
                        tracing::debug!(%peer, "idle connection closed: its slot is wanted");
                        return;
                    }
                }
                () = tokio::time::sleep_until(wake) => {
                    let due = activity.deadline().is_some_and(|at| at <= Instant::now());
                    if due && activity.is_idle() {
                        tracing::debug!(%peer, "idle connection closed at its deadline");
                        return;
                    }
                    if due {
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

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Whether the watchdog of `activity` has been woken (and clears it).
    fn woken(activity: &Activity) -> bool {
        activity.changed.notified().now_or_never().is_some()
    }

    fn activity() -> Arc<Activity> {
        let limits = Connections {
            max: 4,
            first_request: Duration::from_secs(10),
            idle: Duration::from_secs(60),
            send_stall: Duration::from_secs(30),
        };
        Arc::new(Activity::new(
            Arc::new(Notify::new()),
            Arc::new(Semaphore::new(4)),
            &limits,
        ))
    }

    #[tokio::test]
    async fn a_keep_alive_requests_steps_do_not_wake_the_watchdog() {
        let activity = activity();
        assert!(!activity.arm(activity.wake_at()));
        for _ in 0..3 {
            let (in_flight, making) = InFlight::start(&activity);
            drop(making);
            activity.wrote(Some(200));
            drop(in_flight);
            assert!(!woken(&activity), "a request's steps woke the watchdog");
        }
        // It wakes at the latest when the shortest deadline from its last look would be due.
        assert!(activity.wake_at() <= Instant::now() + Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_change_that_brings_the_deadline_nearer_wakes_the_watchdog() {
        let activity = activity();
        // The watchdog sleeps to a time past the send deadline that a stalled write will have.
        let (in_flight, making) = InFlight::start(&activity);
        *lock(&activity.progress_at) = Instant::now() - Duration::from_secs(29);
        assert!(!activity.arm(Instant::now() + Duration::from_secs(5)));
        drop(making);
        // `Making`'s drop restarts the send clock; a write that finds no room keeps it.
        assert!(!woken(&activity));
        *lock(&activity.progress_at) = Instant::now() - Duration::from_secs(29);
        activity.wrote(None);
        assert!(
            woken(&activity),
            "a stalled write did not wake the watchdog"
        );
        // Marked to close: woken when it goes idle.
        activity.closing.store(true, Ordering::Release);
        activity.wrote(Some(10));
        drop(in_flight);
        assert!(woken(&activity));
    }

    /// Asks `GET /` on an open keep-alive connection and returns the answer's body.
    async fn ask(stream: &mut tokio::net::TcpStream) -> String {
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: herald\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        let mut buf = [0_u8; 1024];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before the answer ended");
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .unwrap()
                    .parse()
                    .unwrap();
                if body.len() >= length {
                    return body.to_string();
                }
            }
        }
    }

    /// Keep-alive connections spread over the serving threads, and the connection cap holds
    /// across them: each answer names the thread that made it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_spread_over_every_thread_within_one_cap() {
        let router = Router::new().route(
            "/",
            axum::routing::get(|| async {
                std::thread::current().name().unwrap_or("?").to_string()
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let limits = Connections {
            max: 12,
            ..Connections::default()
        };
        let stop = CancellationToken::new();
        let server = tokio::spawn(serve_on(3, listener, router.into(), limits, stop.clone()));
        let mut open = Vec::new();
        let mut served = std::collections::BTreeMap::<String, usize>::new();
        for _ in 0..12 {
            let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
            *served.entry(ask(&mut stream).await).or_default() += 1;
            open.push(stream);
        }
        assert_eq!(
            served,
            ["herald-http-0", "herald-http-1", "herald-http-2"]
                .map(|name| (name.to_string(), 4))
                .into(),
            "12 open connections, 4 on each of 3 threads"
        );
        // A 13th is over the cap of all threads together: the one idle the longest (the first)
        // is closed for it, whichever thread serves it.
        let mut over = tokio::net::TcpStream::connect(address).await.unwrap();
        ask(&mut over).await;
        let mut buf = [0_u8; 16];
        let first = tokio::time::timeout(Duration::from_secs(5), open[0].read(&mut buf))
            .await
            .expect("the longest idle connection is closed");
        assert_eq!(first.unwrap(), 0);
        ask(&mut open[11]).await;
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
}
