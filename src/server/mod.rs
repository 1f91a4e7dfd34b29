//! The HTTP side (SPEC "HTTP"): feeds (with ETag / Last-Modified / 304 and query options), the
//! index page, OPML, health and metrics. Feed documents are rendered on demand and cached until
//! their source changes.

mod described;
mod feeds;
mod index;
mod listen;
mod lru;
pub mod query;
mod tally;
pub mod zerocopy;

pub use listen::{Routes, serve};

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use chrono::Utc;
use serde_json::{Value, json};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;

use crate::shared::Shared;
use feeds::{FeedCache, Format};
use index::PageCache;

/// The Prometheus recorder is process-wide (the `metrics` facade is global by design); install it
/// once and hand the same handle to every app built in this process.
pub fn metrics_handle() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        OnceLock::new();
    HANDLE
        .get_or_init(|| {
            // Histograms as fixed buckets, not the exporter's default summaries: a summary
            // keeps a sketch of every sample of its window per label set, and with a
            // histogram per source that was most of the heap of a herald polling 1,000
            // sources (27 of 89 MB, heaptrack). Buckets cost a few counters each, and
            // Prometheus can sum them over sources.
            let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
                .set_buckets(HISTOGRAM_BUCKETS)
                .ok()?
                .install_recorder()
                .ok()?;
            described::describe();
            // Histogram samples pile up in the recorder until something drains them: a
            // scrape of /metrics does, and so does this upkeep, so that a herald nobody scrapes
            // does not grow by every poll's duration for ever.
            let upkeep = handle.clone();
            let started = std::thread::Builder::new()
                .name("herald-metrics".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(METRICS_UPKEEP);
                        upkeep.run_upkeep();
                    }
                });
            if let Err(e) = started {
                tracing::warn!(error = %e, "no metrics upkeep thread: histograms grow until /metrics is read");
            }
            Some(handle)
        })
        .clone()
}

/// The bucket bounds of every histogram, in seconds (a poll's duration: from a quick 304 to
/// the poll deadline's order of magnitude).
const HISTOGRAM_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// How often the recorder's histogram samples are folded into their buckets.
const METRICS_UPKEEP: Duration = Duration::from_secs(5);

#[derive(Clone)]
struct ServerState {
    shared: Arc<Shared>,
    cache: Arc<FeedCache>,
    page: Arc<PageCache>,
    /// `herald_feed_requests_total` by format and status, set from the serving threads' own
    /// counts ([`tally`]) when `/metrics` is read.
    requests: Arc<[[metrics::Counter; 2]; 3]>,
}

/// How long a request may take before it is answered 408. A feed request sets its timer only
/// around what can take long (a render, a compression): one answered from the cache sets none,
/// because a timer per request costs a wake-up of the runtime's time driver, a system call the
/// plain 304 would pay for nothing.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The router, with the way around it for a feed a serving thread already keeps
/// ([`feeds::from_memory`]).
pub fn routes(shared: Arc<Shared>) -> Routes {
    let counter = |format: Format, status: &'static str| metrics::counter!("herald_feed_requests_total", "format" => format.ext(), "status" => status);
    let requests = Format::ALL.map(|f| [counter(f, "200"), counter(f, "304")]);
    let state = ServerState {
        shared,
        cache: Arc::new(FeedCache::new()),
        page: Arc::default(),
        requests: Arc::new(requests),
    };
    // Feeds compress themselves (once per document, cached); the rest is compressed per request.
    let monitoring = Router::new()
        .route("/healthz", get(healthz).options(options))
        .route("/metrics", get(metrics_text).options(options))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            monitor_gate,
        ));
    let router = Router::new()
        .route("/", get(index::index).options(options))
        .route("/opml", get(index::opml).options(options))
        .merge(monitoring)
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .route("/feeds/{file}", get(feeds::feed).options(options))
        .fallback(not_found)
        // A bug must not show a reader a stack trace, nor drop the connection without an answer.
        .layer(CatchPanicLayer::custom(|_| {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }))
        // Every answer of the router says what it is: no browser guesses a type from a body.
        .layer(axum::middleware::map_response(nosniff))
        .with_state(state.clone());
    Routes {
        router,
        shortcut: Some(Arc::new(move |request| {
            // The router's panic guard, for this path too.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                feeds::from_memory(&state, request)
            }))
            .ok()
            .flatten()
        })),
    }
}

/// The page a source's published feeds, the index page and the OPML list link as its site: a
/// list page is the site's page; for an upstream feed (`kind = "feed"`), the site page the feed
/// names, once read, else the feed's own address. Without user name and password
/// ([`crate::text::address_without_userinfo`]).
fn site_page(
    shared: &Shared,
    source: &crate::config::Source,
) -> Result<String, crate::store::StoreError> {
    let site = match source.kind {
        crate::config::SourceKind::Feed => shared.store.source_state(&source.id)?.site,
        _ => None,
    };
    let site = site.unwrap_or_else(|| source.url.to_string());
    Ok(crate::text::address_without_userinfo(&site).into_owned())
}

/// Whether `peer` may read `/healthz` and `/metrics` under `allow` (empty: everyone).
fn monitor_allowed(allow: &[ipnet::IpNet], peer: Option<SocketAddr>) -> bool {
    if allow.is_empty() {
        return true;
    }
    let Some(peer) = peer else {
        return false;
    };
    let ip = match peer.ip() {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4),
        v4 => v4,
    };
    allow.iter().any(|net| net.contains(&ip))
}

/// A mutex's guard, poisoned or not: the data behind the server's locks (caches) stay usable.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `X-Content-Type-Options: nosniff` on `response` (feeds set it themselves, see
/// `feeds::respond`), but a 304: it has no body to sniff (RFC 9110 §15.4.5).
async fn nosniff(mut response: Response) -> Response {
    if response.status() == axum::http::StatusCode::NOT_MODIFIED {
        return response;
    }
    response
        .headers_mut()
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(axum::http::HeaderValue::from_static("nosniff"));
    response
}

/// The methods every resource answers (RFC 9110 §9.3.7: OPTIONS asks which).
const ALLOW: &str = "GET, HEAD, OPTIONS";

/// `OPTIONS` on a resource, or on the server as a whole (`OPTIONS *`): 204 with `Allow`.
async fn options() -> Response {
    (
        StatusCode::NO_CONTENT,
        [(header::ALLOW, axum::http::HeaderValue::from_static(ALLOW))],
    )
        .into_response()
}

async fn not_found(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    // `OPTIONS *` asks about the server, not a path: no route names it.
    if method == axum::http::Method::OPTIONS && uri.path() == "*" {
        return options().await;
    }
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

/// `/healthz` and `/metrics` for the addresses of `[server] monitor_allow` only, when it is set.
async fn monitor_gate(
    State(state): State<ServerState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let config = state.shared.config.get();
    let peer = peer.map(|Extension(ConnectInfo(addr))| addr);
    if monitor_allowed(&config.server.monitor_allow, peer) {
        next.run(request).await
    } else {
        (StatusCode::FORBIDDEN, "forbidden\n").into_response()
    }
}

async fn healthz(State(state): State<ServerState>) -> Response {
    let shared = state.shared.clone();
    let body = tokio::task::spawn_blocking(move || health(&shared)).await;
    match body {
        Ok(Ok(value)) if value["status"] == "down" => {
            (StatusCode::SERVICE_UNAVAILABLE, without_token(&value)).into_response()
        }
        Ok(Ok(value)) => without_token(&value).into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({
                "status": "down",
                "down": "the store: the database cannot be read",
                "sources": {},
                "channels": {},
            })),
        )
            .into_response(),
    }
}

/// `/healthz`'s JSON with the bot token cut out of every text in it (the errors it quotes are
/// cut where they are made; this is the last guard before an answer anyone may read).
fn without_token(value: &Value) -> impl IntoResponse {
    let text = value.to_string();
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::secret::redact(&text).into_owned(),
    )
}

/// How long past its due instant a source's poll may wait to start before its task counts as
/// stuck: the poll before it may take its whole deadline and then fetch the page once more (a
/// redesign's proposal, one fetch: 30 s at most), a `/poll` may hold the source's turn as long,
/// and a busy machine stores slowly.
fn overdue_grace(source: &crate::config::Source) -> Duration {
    source
        .poll_deadline
        .saturating_mul(2)
        .saturating_add(Duration::from_secs(60))
}

/// Why `source` is never polled again, when its task found its schedule with no instant left
/// (its years past): no next poll is announced and the schedule names none after now.
fn schedule_ended(shared: &Shared, source: &crate::config::Source) -> Option<String> {
    let ended = shared.next_poll(&source.id).is_none()
        && crate::schedule::next_fire(&source.schedule, source.timezone, Utc::now()).is_none();
    ended.then(|| crate::schedule::ended_text(&source.schedule))
}

/// What `/healthz` says of one source, and what the index page's label says in words.
struct SourceVerdict {
    /// `/healthz`'s `ok`: no failure in a row, no overdue poll, a schedule with polls to come.
    ok: bool,
    /// Why its poll is late past its grace (its task is stuck), if it is.
    overdue: Option<String>,
    /// Why it is never polled again, if so.
    schedule_ended: Option<String>,
}

/// The one verdict on `source` (whose stored state is `st`): `/healthz` and the index page
/// both read it, so the page never says "ok" for a source `/healthz` calls not ok.
fn source_verdict(
    shared: &Shared,
    source: &crate::config::Source,
    st: &crate::store::SourceState,
) -> SourceVerdict {
    let grace = overdue_grace(source);
    let overdue = shared.poll_overdue(&source.id, grace).map(|late| {
        format!(
            "its poll due {} s ago has not started (its task is stuck, or stops before it polls)",
            (late + grace).as_secs()
        )
    });
    let schedule_ended = schedule_ended(shared, source);
    SourceVerdict {
        ok: st.consecutive_failures == 0 && overdue.is_none() && schedule_ended.is_none(),
        overdue,
        schedule_ended,
    }
}

fn health(shared: &Shared) -> Result<Value, crate::store::StoreError> {
    let mut sources = serde_json::Map::new();
    let mut degraded = false;
    let config = shared.config.get();
    // The scheduler is down when no source is polled on time and some source is overdue
    // (sources whose schedule names no future instant are neither).
    let (mut on_time, mut overdue_sources) = (false, Vec::new());
    for source in &config.sources {
        let st = shared.store.source_state(&source.id)?;
        let SourceVerdict {
            ok,
            overdue,
            schedule_ended,
        } = source_verdict(shared, source, &st);
        match overdue {
            Some(_) => overdue_sources.push(source.id.as_str()),
            None => on_time |= shared.next_poll(&source.id).is_some(),
        }
        degraded |= !ok;
        sources.insert(
            source.id.clone(),
            json!({
                "ok": ok,
                "last_success": st.last_success.map(|t| t.to_rfc3339()),
                "last_error": st.last_error,
                "last_error_at": st.last_error_at.map(|t| t.to_rfc3339()),
                "consecutive_failures": st.consecutive_failures,
                "stale": st.stale,
                "paused": st.paused,
                "date_warning": st.date_warning,
                "card_warning": st.card_warning,
                "pages_warning": st.pages_warning,
                "overdue": overdue,
                "schedule_ended": schedule_ended,
                "items": shared.store.count(&source.id)?,
            }),
        );
    }
    let mut channels = serde_json::Map::new();
    for channel in &config.channels {
        let st = shared.store.channel_state(&channel.id)?;
        let failing_since_success = match (st.last_error_at, st.last_success) {
            (Some(err), Some(ok)) => err > ok,
            (Some(_), None) => true,
            (None, _) => false,
        };
        // Held by a 429: nothing goes to the chat until `held_until`.
        let held = held_until(&shared.store, channel, &st, Utc::now());
        let ok = st.blocked.is_none() && !failing_since_success && held.is_none();
        degraded |= !ok;
        channels.insert(
            channel.id.clone(),
            json!({
                "ok": ok,
                "pending": shared.store.pending(&channel.id)?,
                "set_aside": shared.store.set_aside_count(&channel.id)?,
                "last_error": st.blocked.clone().or(st.last_error),
                "last_success": st.last_success.map(|t| t.to_rfc3339()),
                "blocked": st.blocked.is_some(),
                "held_until": held.map(|t| t.to_rfc3339()),
                "paused": st.paused,
                "delivery": if shared.telegram.is_some() { "on" } else { "off" },
                // What the channel's include/exclude kept out; a long run of nothing passing
                // is noted (the filters may be wrong), without making the service degraded.
                "filtered": st.filtered,
                "filtered_in_a_row": st.filtered_in_a_row,
                "note": (st.filtered_in_a_row >= crate::pipeline::FILTERED_WARN).then(|| format!(
                    "the channel's include/exclude kept out each of the last {} new releases",
                    st.filtered_in_a_row
                )),
            }),
        );
    }
    // Queues of channel entries no longer in the config: no worker sends them, and they wait
    // until the entry is back (or `herald prune`). Shown, never dropped silently.
    let configured = |id: &str| config.channels.iter().any(|c| c.id == id);
    for (id, pending, set_aside) in shared.store.unconfigured_queues(configured)? {
        let st = shared.store.channel_state(&id)?;
        degraded = true;
        channels.insert(
            id.clone(),
            json!({
                "ok": false,
                "pending": pending,
                "set_aside": set_aside,
                "last_error": unconfigured_error(&id, pending + set_aside),
                "last_success": st.last_success.map(|t| t.to_rfc3339()),
                "blocked": st.blocked.is_some(),
                "paused": st.paused,
                "delivery": "off",
                "configured": false,
            }),
        );
    }
    // Telegram as a whole (the bot token): null without a token.
    let telegram = shared.telegram.as_ref().map(|_| {
        let refused = shared.telegram_refused();
        degraded |= refused.is_some();
        json!({"ok": refused.is_none(), "last_error": refused})
    });
    // Admin alerts kept until Telegram takes them: null without a token. Alerts that wait past
    // a failed round, or an admin chat that refuses them for good, make the status degraded.
    let alerts = shared.alerts.as_ref().and_then(|a| a.health()).map(|h| {
        degraded |= !h.ok();
        json!({
            "ok": h.ok(),
            "pending": h.pending,
            "last_error": h.last_error,
            "refused": h.refused.iter().map(|(admin, why)| (admin.to_string(), why.clone())).collect::<std::collections::BTreeMap<_, _>>(),
        })
    });
    // The WebSub pings: null without a hub; feeds the hub refused after every attempt (still
    // to ping, tried again later) make the status degraded.
    let websub = shared.websub.health().map(|h| {
        degraded |= h.undelivered > 0;
        json!({
            "ok": h.undelivered == 0,
            "undelivered": h.undelivered,
            "last_error": h.last_error,
        })
    });
    // The config file: an edit refused leaves herald running the config before it, which
    // the file on disk no longer says: degraded until the file is good again.
    let config_file = shared.config_health();
    let refused = !config_file.problems.is_empty();
    degraded |= refused;
    let config_file = json!({
        "ok": !refused,
        "last_error": refused.then(|| format!(
            "the config file was refused ({} problem{}); herald runs the config before the edit",
            config_file.problems.len(),
            if config_file.problems.len() == 1 { "" } else { "s" }
        )),
        "problems": config_file.problems,
        "at": config_file.at.map(|t| t.to_rfc3339()),
        "last_success": config_file.last_success.map(|t| t.to_rfc3339()),
    });
    let down = (!on_time && !overdue_sources.is_empty()).then(|| {
        format!(
            "the scheduler: no source is polled when due ({} overdue)",
            overdue_sources.join(", ")
        )
    });
    Ok(json!({
        "status": if down.is_some() { "down" } else if degraded { "degraded" } else { "ok" },
        "down": down,
        "config": config_file,
        "sources": sources,
        "channels": channels,
        "telegram": telegram,
        "alerts": alerts,
        "websub": websub,
    }))
}

/// The end of the 429 hold on the chat of `channel` (whose state is `state`), when it is still
/// to come: no call goes to the chat before it. Telegram's `retry_after` may be long (an hour
/// after a flood), and the hold is the chat's, whichever of its entries met the 429: it is
/// kept with the entry that met it, and under the chat's key (its id, `@name` in lower case,
/// or the id it migrated to; see `store::ChatCalls`) for every worker of the chat.
fn held_until(
    store: &crate::store::Store,
    channel: &crate::config::Channel,
    state: &crate::store::ChannelState,
    now: chrono::DateTime<Utc>,
) -> Option<chrono::DateTime<Utc>> {
    use crate::config::ChatRef;
    let (written, resolved) = match &channel.chat {
        ChatRef::Username(name) => (
            name.to_lowercase(),
            store.chat_id(name).ok().flatten().map(|id| id.to_string()),
        ),
        ChatRef::Id(id) => (id.to_string(), None),
    };
    let keys = std::iter::once(written)
        .chain(state.migrated_to.map(|id| id.to_string()))
        .chain(resolved);
    keys.filter_map(|key| store.chat_calls(&key).ok()?.held_until)
        .chain(state.held_until)
        .filter(|&until| until > now)
        .max()
}

/// What `/healthz` says of a channel id that has queued deliveries but is no longer in the
/// config (also what the reload that removed it tells the admins).
pub fn unconfigured_error(id: &str, queued: usize) -> String {
    format!(
        "channel {id} is no longer in the config: its {queued} queued deliveries wait, unsent, until it is back"
    )
}

async fn metrics_text(State(state): State<ServerState>) -> Response {
    let shared = state.shared.clone();
    let shown = tokio::task::spawn_blocking(move || set_gauges(&shared))
        .await
        .unwrap_or_default();
    for (format, counters) in state.requests.iter().enumerate() {
        for (fresh, counter) in [false, true].into_iter().zip(counters) {
            counter.absolute(tally::total(tally::Count::FeedAnswers { format, fresh }));
        }
    }
    let text = state
        .shared
        .metrics
        .as_ref()
        .map(|h| without_gone_ids(&h.render(), &shown))
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// The ids whose per-id gauges `/metrics` shows: the sources the config names, and the
/// channels it names or that still have a queue (see [`set_gauges`]).
#[derive(Default)]
struct Shown {
    sources: HashSet<String>,
    channels: HashSet<String>,
}

/// Gauges that describe one source or channel as it is now (not counts of what happened).
const PER_ID_GAUGES: &[(&str, &str)] = &[
    ("herald_source_items", "source"),
    ("herald_source_consecutive_failures", "source"),
    ("herald_source_stale", "source"),
    ("herald_source_poll_overdue_seconds", "source"),
    ("herald_source_schedule_ended", "source"),
    ("herald_channel_pending", "channel"),
    ("herald_channel_set_aside", "channel"),
    ("herald_channel_oldest_pending_seconds", "channel"),
];

/// The rendered metrics without the per-id gauges of ids no longer shown (a source or channel
/// removed by a reload): the recorder keeps every series it was given until the process ends,
/// and a gauge of a removed source would go on saying it fails.
fn without_gone_ids(text: &str, shown: &Shown) -> String {
    let gone = |line: &str| {
        let Some((name, labels)) = line.split_once('{') else {
            return false;
        };
        let Some((_, label)) = PER_ID_GAUGES.iter().find(|(g, _)| *g == name) else {
            return false;
        };
        let ids = if *label == "source" {
            &shown.sources
        } else {
            &shown.channels
        };
        let key = format!("{label}=\"");
        let id = labels
            .split_once(&key)
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(id, _)| id);
        id.is_some_and(|id| !ids.contains(id))
    };
    let mut out = String::with_capacity(text.len());
    for line in text.lines().filter(|line| !gone(line)) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Gauges read from the store at scrape time: items per source, queue length, set-aside
/// deliveries and age of the oldest queued delivery per channel, and the build. Returns the
/// ids they were set for.
fn set_gauges(shared: &Shared) -> Shown {
    let mut shown = Shown::default();
    let config = shared.config.get();
    described::register_counters(&config);
    metrics::gauge!("herald_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    for s in &config.sources {
        shown.sources.insert(s.id.clone());
        if let Ok(n) = shared.store.count(&s.id) {
            metrics::gauge!("herald_source_items", "source" => s.id.clone()).set(n as f64);
        }
        if let Ok(st) = shared.store.source_state(&s.id) {
            metrics::gauge!("herald_source_consecutive_failures", "source" => s.id.clone())
                .set(f64::from(st.consecutive_failures));
        }
        let overdue = shared.poll_overdue(&s.id, overdue_grace(s));
        metrics::gauge!("herald_source_poll_overdue_seconds", "source" => s.id.clone())
            .set(overdue.map_or(0.0, |late| late.as_secs_f64()));
        let ended = schedule_ended(shared, s).is_some();
        metrics::gauge!("herald_source_schedule_ended", "source" => s.id.clone())
            .set(f64::from(u8::from(ended)));
    }
    // The feeds the WebSub hub refused after every attempt, still to ping (with a hub only).
    if let Some(websub) = shared.websub.health() {
        metrics::gauge!("herald_websub_undelivered_topics").set(websub.undelivered as f64);
    }
    // The queues of entries no longer in the config keep their gauges (see `health`).
    let configured = |id: &str| config.channels.iter().any(|c| c.id == id);
    let gone = shared
        .store
        .unconfigured_queues(configured)
        .unwrap_or_default();
    let ids = config
        .channels
        .iter()
        .map(|c| c.id.clone())
        .chain(gone.into_iter().map(|(id, _, _)| id));
    for id in ids {
        shown.channels.insert(id.clone());
        if let Ok(n) = shared.store.pending(&id) {
            metrics::gauge!("herald_channel_pending", "channel" => id.clone()).set(n as f64);
        }
        if let Ok(n) = shared.store.set_aside_count(&id) {
            metrics::gauge!("herald_channel_set_aside", "channel" => id.clone()).set(n as f64);
        }
        let age = match shared.store.next_delivery(&id) {
            Ok(Some(q)) => (Utc::now() - q.delivery.enqueued).num_milliseconds() as f64 / 1000.0,
            _ => 0.0,
        };
        metrics::gauge!("herald_channel_oldest_pending_seconds", "channel" => id.clone())
            .set(age.max(0.0));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grace of a source with a huge poll deadline (the config takes any positive number)
    /// is as long as a duration goes: no overflow, no panic turning `/healthz` into a 503.
    #[test]
    fn the_overdue_grace_of_a_huge_deadline_does_not_overflow() {
        let text = "[general]\ndata_dir = \"d\"\n[server]\nlisten = \"127.0.0.1:0\"\n\
                    [[sources]]\nid = \"a\"\nurl = \"https://ex.org/\"\nschedule = \"0 0 * * * *\"\n\
                    kind = \"feed\"\npoll_deadline_secs = 9223372036854775807\n";
        let dir = std::path::Path::new(".");
        let config = crate::config::parse(std::path::Path::new("c.toml"), text, dir).unwrap();
        let grace = overdue_grace(&config.sources[0]);
        assert!(grace >= config.sources[0].poll_deadline);
    }

    #[test]
    fn monitor_allow_list() {
        let allow: Vec<ipnet::IpNet> =
            vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        let at = |s: &str| Some(s.parse::<SocketAddr>().unwrap());
        assert!(monitor_allowed(&[], at("8.8.8.8:1")));
        assert!(monitor_allowed(&allow, at("10.1.2.3:5")));
        assert!(monitor_allowed(&allow, at("[::1]:5")));
        assert!(monitor_allowed(&allow, at("[::ffff:10.0.0.1]:5")));
        assert!(!monitor_allowed(&allow, at("127.0.0.1:5")));
        assert!(!monitor_allowed(&allow, None));
    }
}
