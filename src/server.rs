//! The HTTP side: feeds (with ETag / Last-Modified / 304), the index page, OPML, health and
//! metrics. Feed documents are rendered on demand and cached until the store changes.

use crate::app::Shared;
use crate::config::Source;
use crate::model::Item;
use crate::render::{self, FeedMeta};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};

/// The Prometheus recorder is process-wide (the `metrics` facade is global by design); install it
/// once and hand the same handle to every app built in this process.
pub fn metrics_handle() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        OnceLock::new();
    HANDLE
        .get_or_init(|| {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .install_recorder()
                .ok()
        })
        .clone()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    fn from_ext(ext: &str) -> Option<Format> {
        match ext {
            "rss" | "xml" => Some(Format::Rss),
            "atom" => Some(Format::Atom),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Rss => render::RSS_CONTENT_TYPE,
            Format::Atom => render::ATOM_CONTENT_TYPE,
            Format::Json => render::JSON_CONTENT_TYPE,
        }
    }
}

/// A rendered feed document with its validators.
struct Rendered {
    generation: u64,
    body: axum::body::Bytes,
    etag: String,
    last_modified: DateTime<Utc>,
    content_type: &'static str,
    /// The validators as header values, made once per rendering rather than per request.
    etag_header: Option<HeaderValue>,
    last_modified_header: Option<HeaderValue>,
}

/// Rendered documents by feed id, one slot per format (looked up by `&str`, no allocation).
type FeedCache = Mutex<HashMap<String, [Option<Arc<Rendered>>; 3]>>;

#[derive(Clone)]
struct ServerState {
    shared: Arc<Shared>,
    cache: Arc<FeedCache>,
    /// `herald_feed_requests_total` by format and status, registered once (a labelled
    /// `counter!` per request costs a key allocation and a registry lookup).
    requests: Arc<[[metrics::Counter; 2]; 3]>,
}

pub fn router(shared: Arc<Shared>) -> Router {
    let counter = |format: Format, status: &'static str| metrics::counter!("herald_feed_requests_total", "format" => format.ext(), "status" => status);
    let requests =
        [Format::Rss, Format::Atom, Format::Json].map(|f| [counter(f, "200"), counter(f, "304")]);
    let state = ServerState {
        shared,
        cache: Arc::default(),
        requests: Arc::new(requests),
    };
    Router::new()
        .route("/", get(index))
        .route("/feeds/{file}", get(feed))
        .route("/opml", get(opml))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .with_state(state)
}

async fn feed(
    State(state): State<ServerState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some((id, format)) = file
        .rsplit_once('.')
        .and_then(|(id, ext)| Some((id, Format::from_ext(ext)?)))
    else {
        return (StatusCode::NOT_FOUND, "no such feed\n").into_response();
    };
    let config = state.shared.config.get();
    if id != "all" && config.source(id).is_none() {
        // A source removed from the config keeps its items until `herald prune`: say so.
        let known = state.shared.store.known_sources().unwrap_or_default();
        if known.iter().any(|k| k == id) {
            return (
                StatusCode::GONE,
                "this feed's source was removed from the configuration\n",
            )
                .into_response();
        }
        return (StatusCode::NOT_FOUND, "no such feed\n").into_response();
    }
    let rendered = match rendered(&state, id, format).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(feed = %id, error = %e, "cannot render feed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable\n",
            )
                .into_response();
        }
    };
    let fresh = is_fresh(&headers, &rendered);
    state.requests[format as usize][usize::from(fresh)].increment(1);
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = rendered.body.clone().into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(rendered.content_type),
        );
        r
    };
    let h = response.headers_mut();
    if let Some(v) = &rendered.etag_header {
        h.insert(header::ETAG, v.clone());
    }
    if let Some(v) = &rendered.last_modified_header {
        h.insert(header::LAST_MODIFIED, v.clone());
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=60"),
    );
    response
}

/// RFC 9110 §13.1: If-None-Match wins over If-Modified-Since when both are present.
fn is_fresh(headers: &HeaderMap, r: &Rendered) -> bool {
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return inm.split(',').any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == r.etag
        });
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .is_some_and(|since| {
            r.last_modified.timestamp() <= DateTime::<Utc>::from(since).timestamp()
        })
}

async fn rendered(
    state: &ServerState,
    id: &str,
    format: Format,
) -> Result<Arc<Rendered>, crate::store::StoreError> {
    let generation = state.shared.generation.load(Ordering::SeqCst);
    if let Some(hit) = lock(&state.cache)
        .get(id)
        .and_then(|slots| slots[format as usize].as_ref())
        && hit.generation == generation
    {
        return Ok(hit.clone());
    }
    let shared = state.shared.clone();
    let id_owned = id.to_owned();
    let doc =
        tokio::task::spawn_blocking(move || render_feed(&shared, &id_owned, format, generation))
            .await
            .map_err(|e| {
                crate::store::StoreError::Sled(sled::Error::ReportableBug(e.to_string()))
            })??;
    let doc = Arc::new(doc);
    lock(&state.cache).entry(id.to_owned()).or_default()[format as usize] = Some(doc.clone());
    Ok(doc)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn render_feed(
    shared: &Shared,
    id: &str,
    format: Format,
    generation: u64,
) -> Result<Rendered, crate::store::StoreError> {
    let config = shared.config.get();
    let public_url = config.general.public_url.as_str();
    let all_title;
    let all_home = format!("{public_url}/");
    let (items, title, home, language, ttl): (Vec<Item>, &str, &str, Option<&str>, Option<u32>) =
        match config.source(id) {
            Some(source) => (
                shared.store.recent(&source.id, source.max_items)?,
                &source.title,
                source.url.as_str(),
                Some(source.language.as_str()),
                ttl_minutes(source),
            ),
            None => {
                let ids: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
                let limit = config
                    .sources
                    .iter()
                    .map(|s| s.max_items)
                    .max()
                    .unwrap_or(100);
                let mut langs: Vec<&str> =
                    config.sources.iter().map(|s| s.language.as_str()).collect();
                langs.sort_unstable();
                langs.dedup();
                all_title = "herald: all sources".to_owned();
                (
                    shared.store.recent_merged(&ids, limit)?,
                    all_title.as_str(),
                    all_home.as_str(),
                    (langs.len() == 1).then(|| langs[0]),
                    None,
                )
            }
        };
    let updated = items
        .iter()
        .map(|i| i.updated)
        .max()
        .unwrap_or(shared.started);
    let meta = FeedMeta {
        id,
        title,
        description: title,
        home_page_url: home,
        public_url,
        language,
        ttl_minutes: ttl,
        updated,
    };
    let body = match format {
        Format::Rss => render::rss::render(&meta, &items),
        Format::Atom => render::atom::render(&meta, &items),
        Format::Json => render::json::render(&meta, &items),
    };
    let digest = Sha256::digest(body.as_bytes());
    let etag = format!(
        "\"{}\"",
        digest[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    Ok(Rendered {
        generation,
        body: body.into(),
        etag_header: HeaderValue::from_str(&etag).ok(),
        last_modified_header: HeaderValue::from_str(&httpdate::fmt_http_date(updated.into())).ok(),
        etag,
        last_modified: updated,
        content_type: format.content_type(),
    })
}

/// RSS `ttl`: the schedule's usual interval in minutes (at least 1).
fn ttl_minutes(source: &Source) -> Option<u32> {
    let now = Utc::now();
    let a = crate::schedule::next_fire(&source.schedule, source.timezone, now)?;
    let b = crate::schedule::next_fire(&source.schedule, source.timezone, a)?;
    Some(((b - a).num_minutes().max(1)).min(u32::MAX as i64) as u32)
}

async fn healthz(State(state): State<ServerState>) -> Response {
    let shared = state.shared.clone();
    let body = tokio::task::spawn_blocking(move || health(&shared)).await;
    match body {
        Ok(Ok(value)) => axum::Json(value).into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "down", "sources": {}, "channels": {}})),
        )
            .into_response(),
    }
}

fn health(shared: &Shared) -> Result<Value, crate::store::StoreError> {
    let mut sources = serde_json::Map::new();
    let mut degraded = false;
    let config = shared.config.get();
    for source in &config.sources {
        let st = shared.store.source_state(&source.id)?;
        let ok = st.consecutive_failures == 0;
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
        let ok = st.blocked.is_none() && !failing_since_success;
        degraded |= !ok;
        channels.insert(
            channel.id.clone(),
            json!({
                "ok": ok,
                "pending": shared.store.pending(&channel.id)?,
                "last_error": st.blocked.clone().or(st.last_error),
                "last_success": st.last_success.map(|t| t.to_rfc3339()),
                "blocked": st.blocked.is_some(),
                "delivery": if shared.telegram.is_some() { "on" } else { "off" },
            }),
        );
    }
    Ok(json!({
        "status": if degraded { "degraded" } else { "ok" },
        "sources": sources,
        "channels": channels,
    }))
}

async fn metrics_text(State(state): State<ServerState>) -> Response {
    let shared = state.shared.clone();
    let _ = tokio::task::spawn_blocking(move || set_gauges(&shared)).await;
    let text = state
        .shared
        .metrics
        .as_ref()
        .map(|h| h.render())
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

/// Gauges read from the store at scrape time: items per source, queue length and age of the
/// oldest queued delivery per channel, and the build.
fn set_gauges(shared: &Shared) {
    let config = shared.config.get();
    metrics::gauge!("herald_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    for s in &config.sources {
        if let Ok(n) = shared.store.count(&s.id) {
            metrics::gauge!("herald_source_items", "source" => s.id.clone()).set(n as f64);
        }
        if let Ok(st) = shared.store.source_state(&s.id) {
            metrics::gauge!("herald_source_consecutive_failures", "source" => s.id.clone())
                .set(f64::from(st.consecutive_failures));
        }
    }
    for c in &config.channels {
        if let Ok(n) = shared.store.pending(&c.id) {
            metrics::gauge!("herald_channel_pending", "channel" => c.id.clone()).set(n as f64);
        }
        let age = match shared.store.next_delivery(&c.id) {
            Ok(Some(q)) => (Utc::now() - q.delivery.enqueued).num_milliseconds() as f64 / 1000.0,
            _ => 0.0,
        };
        metrics::gauge!("herald_channel_oldest_pending_seconds", "channel" => c.id.clone())
            .set(age.max(0.0));
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn index(State(state): State<ServerState>) -> Response {
    let config = state.shared.config.get();
    let base = &config.general.public_url;
    let mut links = String::new();
    let mut rows = String::new();
    for (id, title) in std::iter::once(("all", "All sources")).chain(
        config
            .sources
            .iter()
            .map(|s| (s.id.as_str(), s.title.as_str())),
    ) {
        let (id, title) = (escape(id), escape(title));
        links.push_str(&format!(
            "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"{title} (RSS)\" href=\"{base}/feeds/{id}.rss\">\n\
             <link rel=\"alternate\" type=\"application/atom+xml\" title=\"{title} (Atom)\" href=\"{base}/feeds/{id}.atom\">\n\
             <link rel=\"alternate\" type=\"application/feed+json\" title=\"{title} (JSON Feed)\" href=\"{base}/feeds/{id}.json\">\n"
        ));
        rows.push_str(&format!(
            "<li><strong>{title}</strong>: <a href=\"{base}/feeds/{id}.rss\">RSS</a> · \
             <a href=\"{base}/feeds/{id}.atom\">Atom</a> · <a href=\"{base}/feeds/{id}.json\">JSON Feed</a></li>\n"
        ));
    }
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>herald feeds</title>\n{links}</head>\n<body><main><h1>herald feeds</h1>\n<ul>\n{rows}</ul>\n\
         <p><a href=\"{base}/opml\">OPML of all feeds</a></p></main></body></html>\n"
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

async fn opml(State(state): State<ServerState>) -> Response {
    let config = state.shared.config.get();
    let base = &config.general.public_url;
    let mut outlines = String::new();
    for s in &config.sources {
        outlines.push_str(&format!(
            "    <outline type=\"rss\" text=\"{t}\" title=\"{t}\" xmlUrl=\"{base}/feeds/{id}.rss\" htmlUrl=\"{home}\" language=\"{lang}\"/>\n",
            t = escape(&s.title),
            id = escape(&s.id),
            home = escape(s.url.as_str()),
            lang = escape(&s.language),
        ));
    }
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n  <head>\n    <title>herald feeds</title>\n    \
         <dateCreated>{}</dateCreated>\n  </head>\n  <body>\n{outlines}  </body>\n</opml>\n",
        state.shared.started.to_rfc2822()
    );
    ([(header::CONTENT_TYPE, "text/x-opml; charset=utf-8")], body).into_response()
}
