//! `/feeds/{source}.{rss,atom,json}`: rendered once per change of the source, then served from
//! memory with ETag / Last-Modified / 304, `Cache-Control` from the schedule, and gzip or brotli
//! compressed once per document when a reader asks for it. The documents kept are bounded by
//! bytes (`[server] feed_cache_mb`), the least recently used going first.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::lru::ByteLru;
use super::query::{FeedQuery, QueryError};
use super::tally::{self, Count};
use super::zerocopy::shareable;
use super::{ServerState, lock};
use crate::config::{Config, Source};
use crate::model::Item;
use crate::render::{self, FeedMeta};
use crate::shared::Shared;
use crate::store::StoreError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub(super) const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    fn from_ext(ext: &str) -> Option<Format> {
        match ext {
            "rss" | "xml" => Some(Format::Rss),
            "atom" => Some(Format::Atom),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub(super) fn ext(self) -> &'static str {
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

    /// The media type alone (`type=` of links), without the charset.
    pub(super) fn media_type(self) -> &'static str {
        let full = self.content_type();
        &full[..full.find(';').unwrap_or(full.len())]
    }

    /// What the format is called on the index page.
    pub(super) fn label(self) -> &'static str {
        match self {
            Format::Rss => "RSS",
            Format::Atom => "Atom",
            Format::Json => "JSON Feed",
        }
    }
}

/// A content coding a reader accepts (RFC 9110 §12.5.3), best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Coding {
    /// Picks brotli, then gzip, among what `Accept-Encoding` allows (`q=0` refuses, `*` stands
    /// for any coding not named).
    fn negotiate(headers: &HeaderMap) -> Coding {
        let Some(accept) = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
        else {
            return Coding::Identity;
        };
        let q_of = |name: &str| -> Option<f32> {
            let mut star = None;
            for part in accept.split(',') {
                let mut pieces = part.split(';');
                let coding = pieces.next().unwrap_or_default().trim();
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                if coding.eq_ignore_ascii_case(name) {
                    return Some(q);
                }
                if coding == "*" {
                    star = Some(q);
                }
            }
            star
        };
        if q_of("br").is_some_and(|q| q > 0.0) {
            Coding::Brotli
        } else if q_of("gzip").is_some_and(|q| q > 0.0) {
            Coding::Gzip
        } else {
            Coding::Identity
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A rendered feed document with its validators, and its compressed forms once asked for.
pub(super) struct Rendered {
    stamp: u64,
    body: Bytes,
    brotli: OnceLock<Bytes>,
    gzip: OnceLock<Bytes>,
    /// Strong validators, one per coding: each coding is its own representation (RFC 9110
    /// §8.8.3), so the compressed bodies get tags of their own.
    etags: [HeaderValue; 3],
    last_modified: DateTime<Utc>,
    last_modified_header: HeaderValue,
    cache_control: HeaderValue,
    content_type: &'static str,
}

impl Rendered {
    /// The body in `coding`, compressed on first demand (off the async threads: a feed of 500
    /// items is a megabyte) and kept, and whether it was compressed now (the document grew).
    /// `None` if compressing failed: the caller sends the plain body, labelled as such.
    async fn encode(self: &Arc<Self>, coding: Coding) -> Result<Option<(Bytes, bool)>, Slow> {
        let slot = match coding {
            Coding::Brotli => &self.brotli,
            Coding::Gzip => &self.gzip,
            Coding::Identity => return Ok(Some((self.body.clone(), false))),
        };
        if let Some(bytes) = slot.get() {
            return Ok(Some((bytes.clone(), false)));
        }
        let doc = self.clone();
        let made = in_time(bounded_blocking(move || compress(coding, &doc.body))).await?;
        let Some(bytes) = made.ok().flatten() else {
            return Ok(None);
        };
        Ok(Some((slot.get_or_init(|| bytes).clone(), true)))
    }

    /// The bytes the document holds: its body, its compressed forms made so far, and about what
    /// its headers take.
    fn bytes(&self) -> usize {
        const HEADERS: usize = 512;
        let coded = |slot: &OnceLock<Bytes>| slot.get().map_or(0, Bytes::len);
        self.body.len() + coded(&self.brotli) + coded(&self.gzip) + HEADERS
    }

    /// RFC 9110 §13.1.2: If-None-Match (weak comparison) wins over If-Modified-Since. Any of the
    /// document's tags matches: each stands for this same version.
    fn is_fresh(&self, headers: &HeaderMap) -> bool {
        if let Some(inm) = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
        {
            return inm.split(',').any(|tag| {
                let tag = tag.trim();
                let tag = tag.strip_prefix("W/").unwrap_or(tag);
                tag == "*" || self.etags.iter().any(|e| e.as_bytes() == tag.as_bytes())
            });
        }
        headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .is_some_and(|since| {
                self.last_modified.timestamp() <= DateTime::<Utc>::from(since).timestamp()
            })
    }
}

fn compress(coding: Coding, body: &[u8]) -> Option<Bytes> {
    use std::io::Write;
    let mut out = Vec::with_capacity(body.len() / 4);
    let written = match coding {
        Coding::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(&mut out, flate2::Compression::new(6));
            encoder
                .write_all(body)
                .and_then(|()| encoder.finish().map(drop))
        }
        Coding::Brotli => {
            // Quality 6 of 11: within a few percent of the best size at a fraction of the time.
            let mut encoder = brotli::CompressorWriter::new(&mut out, 64 * 1024, 6, 22);
            encoder.write_all(body).and_then(|()| encoder.flush())
        }
        Coding::Identity => return Some(Bytes::copy_from_slice(body)),
    };
    written.ok().map(|()| shareable(out))
}

/// Rendered documents by feed (`id.ext`, and the canonical options of a filtered one), in two
/// pools of `feed_cache_mb` each: plain feeds, and filtered ones, which anyone can ask for new
/// ones of, so that a flood of options never pushes out the feeds every reader asks for.
pub(super) struct FeedCache {
    plain: Mutex<ByteLru<Arc<Rendered>>>,
    filtered: Mutex<ByteLru<Arc<Rendered>>>,
    /// `herald_feed_cache_bytes` of each pool (plain, filtered).
    bytes: [metrics::Gauge; 2],
}

/// Where a document is kept: its pool (filtered or not) and its key there.
struct CacheKey {
    filtered: bool,
    key: String,
}

impl CacheKey {
    fn new(id: &str, format: Format, query: &FeedQuery) -> CacheKey {
        let filtered = !query.is_empty();
        let key = if filtered {
            format!("{id}.{}?{}", format.ext(), query.canonical())
        } else {
            format!("{id}.{}", format.ext())
        };
        CacheKey { filtered, key }
    }
}

/// Longest `Cache-Control: max-age` given to a feed, in seconds.
const MAX_AGE_CAP_SECS: u32 = 3600;

impl FeedCache {
    pub(super) fn new() -> FeedCache {
        let gauge = |pool: &'static str| metrics::gauge!("herald_feed_cache_bytes", "pool" => pool);
        FeedCache {
            plain: Mutex::default(),
            filtered: Mutex::default(),
            bytes: [gauge("plain"), gauge("filtered")],
        }
    }

    fn pool(&self, key: &CacheKey) -> &Mutex<ByteLru<Arc<Rendered>>> {
        if key.filtered {
            &self.filtered
        } else {
            &self.plain
        }
    }

    fn get(&self, key: &CacheKey, stamp: u64) -> Option<Arc<Rendered>> {
        let hit = lock(self.pool(key)).get(&key.key).cloned();
        hit.filter(|doc| doc.stamp == stamp)
    }

    /// Keeps `doc` within `budget` bytes for its pool.
    fn put(&self, key: &CacheKey, doc: Arc<Rendered>, budget: usize) {
        let mut pool = lock(self.pool(key));
        let bytes = doc.bytes();
        pool.put(key.key.clone(), doc, bytes, budget);
        self.bytes[usize::from(key.filtered)].set(pool.bytes() as f64);
    }

    /// Marks `doc` used, putting it back if it was let go (a serving thread answered it from
    /// its own memory meanwhile).
    fn keep(&self, key: &CacheKey, doc: &Arc<Rendered>, budget: usize) {
        let kept = lock(self.pool(key))
            .get(&key.key)
            .is_some_and(|kept| Arc::ptr_eq(kept, doc));
        if !kept {
            self.put(key, doc.clone(), budget);
        }
    }

    /// Charges `doc` for a compressed form made after it was kept.
    fn grew(&self, key: &CacheKey, doc: &Arc<Rendered>, budget: usize) {
        let mut pool = lock(self.pool(key));
        pool.recharge(&key.key, |kept| Arc::ptr_eq(kept, doc), doc.bytes(), budget);
        self.bytes[usize::from(key.filtered)].set(pool.bytes() as f64);
    }
}

pub(super) async fn feed(
    State(state): State<ServerState>,
    Path(file): Path<String>,
    RawQuery(raw_query): RawQuery,
    // The request itself, not its `HeaderMap` (which axum extracts as a copy, an allocation
    // per header on every answer).
    request: axum::extract::Request,
) -> Response {
    // Read before the document is found current: see `remember`.
    let version = state.shared.versions.latest();
    let headers = request.headers();
    let Some((id, format)) = file
        .rsplit_once('.')
        .and_then(|(id, ext)| Some((id, Format::from_ext(ext)?)))
    else {
        return (StatusCode::NOT_FOUND, "no such feed\n").into_response();
    };
    let query = match FeedQuery::parse(raw_query.as_deref()) {
        Ok(q) => q,
        Err(e) => {
            let status = match e {
                QueryError::TooLong => StatusCode::URI_TOO_LONG,
                _ => StatusCode::BAD_REQUEST,
            };
            return (status, format!("{e}\n")).into_response();
        }
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
    let key = CacheKey::new(id, format, &query);
    let budget = config.server.feed_cache_bytes;
    let doc = match rendered(&state, id, format, &query, &key, budget).await {
        Ok(doc) => doc,
        Err(Slow::Timeout) => return timed_out(),
        Err(Slow::Store(e)) => {
            tracing::error!(feed = %id, error = %e, "cannot render feed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable\n",
            )
                .into_response();
        }
    };
    let mut coding = Coding::negotiate(headers);
    let fresh = doc.is_fresh(headers);
    tally::add(
        Count::FeedAnswers {
            format: format as usize,
            fresh,
        },
        1,
    );
    let body = if fresh {
        None
    } else {
        Some(match doc.encode(coding).await {
            Err(Slow::Timeout) => return timed_out(),
            Ok(Some((body, grew))) => {
                if grew {
                    state.cache.grew(&key, &doc, budget);
                }
                body
            }
            Ok(None) | Err(Slow::Store(_)) => {
                coding = Coding::Identity;
                doc.body.clone()
            }
        })
    };
    if query.is_empty() {
        remember(
            version,
            request.uri().path(),
            id,
            &key,
            &doc,
            format,
            budget,
        );
    }
    respond(
        doc.content_type,
        coding,
        body,
        [
            doc.etags[coding.index()].clone(),
            doc.last_modified_header.clone(),
            doc.cache_control.clone(),
        ],
    )
}

/// The answer for a document: 304 without a body, else 200 with `body` in `coding`; `validators`
/// are its `ETag` (of that coding), `Last-Modified` and `Cache-Control`.
fn respond(
    content_type: &'static str,
    coding: Coding,
    body: Option<Bytes>,
    validators: [HeaderValue; 3],
) -> Response {
    let mut response = match body {
        None => {
            let mut r = Response::new(axum::body::Body::empty());
            *r.status_mut() = StatusCode::NOT_MODIFIED;
            r.headers_mut().reserve(6);
            r
        }
        Some(body) => {
            let mut r = Response::new(axum::body::Body::from(body));
            let h = r.headers_mut();
            h.reserve(8);
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            match coding {
                Coding::Brotli => {
                    h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"))
                }
                Coding::Gzip => {
                    h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))
                }
                Coding::Identity => None,
            };
            r
        }
    };
    let [etag, last_modified, cache_control] = validators;
    let h = response.headers_mut();
    h.insert(header::ETAG, etag);
    h.insert(header::LAST_MODIFIED, last_modified);
    h.insert(header::CACHE_CONTROL, cache_control);
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// The feeds a serving thread answers from memory, without the router, the feed cache's lock,
/// or anything another thread writes: each thread keeps its own handles of the documents'
/// bodies and headers, so that answering a cached feed moves no count between cores, as
/// nginx's workers share nothing on that path either. Through the router a cached 100-item feed
/// took 9.7 µs of CPU an answer, against nginx's 7.8 (issue 23). Plain feeds only (no query),
/// by request path.
#[derive(Default)]
struct Hot {
    docs: HashMap<String, HotDoc>,
    /// The bytes charged for the documents: at most the thread's share of `feed_cache_mb`, so
    /// that all threads together hold on to no more than the feed cache may, beyond it (mostly
    /// the same documents: the bodies are shared).
    bytes: usize,
}

/// A document with this thread's own handles of its parts.
struct HotDoc {
    /// [`crate::shared::FeedVersions::latest`] when the document was last found current: it is
    /// answered from here while that has not moved, and looked at again when it has.
    version: u64,
    /// The feed (`id`) and its key in the feed cache.
    id: String,
    key: CacheKey,
    doc: Arc<Rendered>,
    /// What it counts for in [`Hot::bytes`].
    charged: usize,
    format: Format,
    /// The bodies by [`Coding::index`], as far as they were made when the document was taken.
    bodies: [Option<Bytes>; 3],
    etags: [HeaderValue; 3],
    last_modified: HeaderValue,
    cache_control: HeaderValue,
}

/// Documents a thread keeps at most (besides its share of the feed cache's bytes).
const HOT_MAX: usize = 256;

thread_local! {
    static HOT: RefCell<Hot> = RefCell::new(Hot::default());
}

/// A copy of `value` whose count only this thread touches.
fn own_header(value: &HeaderValue) -> HeaderValue {
    HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone())
}

/// A handle of `body` whose count only this thread touches (the same bytes, at the same
/// address: a file-backed body is still sent from its file).
fn own_body(body: &Bytes) -> Bytes {
    Bytes::from_owner(body.clone())
}

impl Hot {
    fn remove(&mut self, path: &str) {
        if let Some(old) = self.docs.remove(path) {
            self.bytes -= old.charged;
        }
    }
}

/// Keeps `doc` (feed `id`, found current after `version` was read) for this thread's answers
/// to `path`.
fn remember(
    version: u64,
    path: &str,
    id: &str,
    key: &CacheKey,
    doc: &Arc<Rendered>,
    format: Format,
    budget: usize,
) {
    let _ = HOT.try_with(|hot| {
        let mut hot = hot.borrow_mut();
        if hot
            .docs
            .get(path)
            .is_some_and(|kept| kept.version > version)
        {
            // Found current after a later change than this one was.
            return;
        }
        hot.remove(path);
        let bytes = doc.bytes();
        let share = budget / super::listen::serving_threads();
        if bytes > share {
            return;
        }
        // Within bounds: this thread's share of the feed cache's budget, and `HOT_MAX`
        // documents. Those found current longest ago go first (the feed cache keeps them).
        while hot.docs.len() >= HOT_MAX || hot.bytes + bytes > share {
            let Some(oldest) = hot
                .docs
                .iter()
                .min_by_key(|(_, kept)| kept.version)
                .map(|(path, _)| path.clone())
            else {
                break;
            };
            hot.remove(&oldest);
        }
        hot.bytes += bytes;
        let kept = HotDoc {
            version,
            id: id.to_owned(),
            key: CacheKey {
                filtered: key.filtered,
                key: key.key.clone(),
            },
            doc: doc.clone(),
            charged: bytes,
            format,
            bodies: [
                doc.brotli.get().map(own_body),
                doc.gzip.get().map(own_body),
                Some(own_body(&doc.body)),
            ],
            etags: doc.etags.each_ref().map(own_header),
            last_modified: own_header(&doc.last_modified_header),
            cache_control: own_header(&doc.cache_control),
        };
        hot.docs.insert(path.to_owned(), kept);
    });
}

/// The answer to a plain `GET` of a feed this thread keeps current, with the body in a coding
/// it has (`None`: the router answers, and the thread may keep the document then).
///
/// After any change (of any feed, or of the configuration), a kept document is looked at again
/// when it is next asked for: still current (its own feed did not change), it is kept on, and
/// marked used in the feed cache (put back if the cache let it go meanwhile), so that the feeds
/// asked for most, answered here and never through the cache, are not the first it drops.
pub(super) fn from_memory<B>(state: &ServerState, request: &Request<B>) -> Option<Response> {
    if request.method() != Method::GET || request.uri().query().is_some() {
        return None;
    }
    let path = request.uri().path();
    if !path.starts_with("/feeds/") {
        return None;
    }
    let version = state.shared.versions.latest();
    HOT.try_with(|hot| {
        let mut hot = hot.borrow_mut();
        let kept = hot.docs.get_mut(path)?;
        if kept.version != version {
            if kept.doc.stamp != state.shared.versions.stamp(&kept.id) {
                hot.remove(path);
                return None;
            }
            kept.version = version;
            let budget = state.shared.config.get().server.feed_cache_bytes;
            state.cache.keep(&kept.key, &kept.doc, budget);
        }
        let headers = request.headers();
        let coding = Coding::negotiate(headers);
        let fresh = kept.doc.is_fresh(headers);
        let body = if fresh {
            None
        } else {
            Some(kept.bodies[coding.index()].clone()?)
        };
        tally::add(
            Count::FeedAnswers {
                format: kept.format as usize,
                fresh,
            },
            1,
        );
        Some(respond(
            kept.doc.content_type,
            coding,
            body,
            [
                kept.etags[coding.index()].clone(),
                kept.last_modified.clone(),
                kept.cache_control.clone(),
            ],
        ))
    })
    .ok()
    .flatten()
}

async fn rendered(
    state: &ServerState,
    id: &str,
    format: Format,
    query: &FeedQuery,
    key: &CacheKey,
    budget: usize,
) -> Result<Arc<Rendered>, Slow> {
    let stamp = state.shared.versions.stamp(id);
    if let Some(hit) = state.cache.get(key, stamp) {
        return Ok(hit);
    }
    let shared = state.shared.clone();
    let (id_owned, query_owned) = (id.to_owned(), query.clone());
    let doc = in_time(bounded_blocking(move || {
        render_feed(&shared, &id_owned, format, &query_owned, stamp)
    }))
    .await?
    .map_err(|e| StoreError::Sled(sled::Error::ReportableBug(e.to_string())))??;
    let doc = Arc::new(doc);
    state.cache.put(key, doc.clone(), budget);
    Ok(doc)
}

/// Renders and compressions running at once in the whole process, at most: two per core. Each
/// distinct query (`?limit=1`, `?limit=2`, …) misses the cache and costs a render; without a
/// bound, a flood of them filled the blocking pool and took every core, and `/healthz` waited
/// behind them. Those over the bound wait for a turn within the request's time (else 408); a
/// render whose request gave up meanwhile still holds its turn to its end.
fn render_turns() -> &'static Arc<tokio::sync::Semaphore> {
    static TURNS: OnceLock<Arc<tokio::sync::Semaphore>> = OnceLock::new();
    TURNS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Arc::new(tokio::sync::Semaphore::new(2 * cores))
    })
}

/// Runs `work` on the blocking pool when its turn comes (see [`render_turns`]).
async fn bounded_blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    let turn = render_turns()
        .clone()
        .acquire_owned()
        .await
        .expect("the render turns are never closed");
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        work()
    })
    .await
}

/// Why a feed request that missed the cache got no document.
enum Slow {
    /// Rendering or compressing took longer than `REQUEST_TIMEOUT`.
    Timeout,
    Store(StoreError),
}

impl From<StoreError> for Slow {
    fn from(e: StoreError) -> Slow {
        Slow::Store(e)
    }
}

/// `work` within the request's time (see `REQUEST_TIMEOUT`): the only timers a feed request sets.
async fn in_time<T>(work: impl Future<Output = T>) -> Result<T, Slow> {
    tokio::time::timeout(super::REQUEST_TIMEOUT, work)
        .await
        .map_err(|_| Slow::Timeout)
}

/// The answer to a request that took longer than `REQUEST_TIMEOUT`, as the other routes give it.
fn timed_out() -> Response {
    StatusCode::REQUEST_TIMEOUT.into_response()
}

/// What a feed is about: one source, or every source merged.
struct Subject<'a> {
    title: String,
    home: String,
    language: Option<&'a str>,
    ttl: Option<u32>,
    items: Vec<Item>,
}

/// The merged feed holds as many items as the largest source feed.
fn merged_limit(config: &Config) -> usize {
    config
        .sources
        .iter()
        .map(|s| s.max_items)
        .max()
        .unwrap_or(100)
}

fn subject<'a>(
    shared: &Shared,
    config: &'a Config,
    id: &str,
    query: &FeedQuery,
) -> Result<Subject<'a>, StoreError> {
    let public_url = config.general.public_url.as_str();
    let mut subject = match config.source(id) {
        Some(source) => Subject {
            title: source.title.clone(),
            home: source.url.to_string(),
            language: Some(source.language.as_str()),
            ttl: ttl_minutes(source),
            items: if query.wants_language(&source.language) {
                shared.store.recent(&source.id, source.max_items)?
            } else {
                Vec::new()
            },
        },
        None => {
            let sources: Vec<&Source> = config
                .sources
                .iter()
                .filter(|s| query.wants_language(&s.language))
                .collect();
            let ids: Vec<&str> = sources.iter().map(|s| s.id.as_str()).collect();
            let mut langs: Vec<&str> = sources.iter().map(|s| s.language.as_str()).collect();
            langs.sort_unstable();
            langs.dedup();
            Subject {
                title: "herald: all sources".to_owned(),
                home: format!("{public_url}/"),
                language: (langs.len() == 1).then(|| langs[0]),
                ttl: config.sources.iter().filter_map(ttl_minutes).min(),
                items: shared.store.recent_merged(&ids, merged_limit(config))?,
            }
        }
    };
    if query.filters() {
        subject.items.retain(|item| query.keeps(item));
        subject.title = format!("{} ({})", subject.title, query.describe());
    }
    if let Some(limit) = query.limit {
        subject.items.truncate(limit);
    }
    Ok(subject)
}

fn render_feed(
    shared: &Shared,
    id: &str,
    format: Format,
    query: &FeedQuery,
    stamp: u64,
) -> Result<Rendered, StoreError> {
    metrics::counter!("herald_feed_renders_total", "format" => format.ext()).increment(1);
    let config = shared.config.get();
    let subject = subject(shared, &config, id, query)?;
    let updated = subject
        .items
        .iter()
        .map(|i| i.updated)
        .max()
        .unwrap_or(shared.started);
    let query_suffix = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.canonical())
    };
    let hub = config.server.websub_hub.as_ref().map(|u| u.to_string());
    let translations = translations_of(shared, &subject.items)?;
    let meta = FeedMeta {
        id,
        title: &subject.title,
        description: &subject.title,
        home_page_url: &subject.home,
        public_url: &config.general.public_url,
        query: &query_suffix,
        language: subject.language,
        ttl_minutes: subject.ttl,
        updated,
        hub: hub.as_deref(),
        translations: Some(&translations),
    };
    let body = match format {
        Format::Rss => render::rss::render(&meta, &subject.items),
        Format::Atom => render::atom::render(&meta, &subject.items),
        Format::Json => render::json::render(&meta, &subject.items),
    };
    let digest = Sha256::digest(body.as_bytes());
    let tag = crate::text::hex(&digest[..12]);
    let etag = |suffix: &str| {
        HeaderValue::from_str(&format!("\"{tag}{suffix}\"")).expect("hex is a valid header")
    };
    // Fresh for one polling interval, but asked again at least hourly: a revalidation costs a
    // 304, and an admin's `/poll` can change a feed between scheduled polls.
    let max_age = (subject.ttl.unwrap_or(1).max(1).saturating_mul(60)).min(MAX_AGE_CAP_SECS);
    Ok(Rendered {
        stamp,
        body: shareable(body.into_bytes()),
        brotli: OnceLock::new(),
        gzip: OnceLock::new(),
        etags: [etag("-br"), etag("-gzip"), etag("")],
        last_modified: updated,
        last_modified_header: http_date(updated),
        cache_control: HeaderValue::from_str(&format!("public, max-age={max_age}"))
            .expect("digits are a valid header"),
        content_type: format.content_type(),
    })
}

/// `Last-Modified` for `time`. httpdate writes only instants from 1970 to 9999 (it panics outside
/// them): an item stored with an older date (a site's "01.01.1970" read in Asia/Almaty) is
/// written as the first instant it can write.
fn http_date(time: DateTime<Utc>) -> HeaderValue {
    let writable = time.clamp(
        DateTime::UNIX_EPOCH,
        DateTime::UNIX_EPOCH + chrono::Duration::days(365 * 8000),
    );
    HeaderValue::from_str(&httpdate::fmt_http_date(writable.into()))
        .expect("an HTTP date is a valid header")
}

/// The stored translations of the feed's items (most have none).
fn translations_of(shared: &Shared, items: &[Item]) -> Result<render::Translations, StoreError> {
    let mut out = render::Translations::new();
    for item in items {
        let found = shared.store.translations(&item.source, &item.id)?;
        if !found.is_empty() {
            out.insert(item.id, found);
        }
    }
    Ok(out)
}

/// RSS `ttl` and `Cache-Control: max-age`: the schedule's usual interval in minutes (at least 1).
fn ttl_minutes(source: &Source) -> Option<u32> {
    let interval = crate::schedule::interval(&source.schedule, source.timezone, Utc::now())?;
    Some(
        u32::try_from(interval.as_secs() / 60)
            .unwrap_or(u32::MAX)
            .max(1),
    )
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    /// However many requests ask for renders at once, no more than the bound run at a time,
    /// and every one runs in the end.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn renders_at_once_are_bounded() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let bound = render_turns().available_permits();
        let (now, most, done) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let asks: Vec<_> = (0..bound * 4)
            .map(|_| {
                let (now, most, done) = (now.clone(), most.clone(), done.clone());
                tokio::spawn(bounded_blocking(move || {
                    let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(running, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    now.fetch_sub(1, Ordering::SeqCst);
                    done.fetch_add(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for ask in asks {
            ask.await.unwrap().unwrap();
        }
        assert_eq!(done.load(Ordering::SeqCst), bound * 4);
        let most = most.load(Ordering::SeqCst);
        assert!((1..=bound).contains(&most), "{most} at once, bound {bound}");
    }

    #[rstest]
    #[case::none(None, Coding::Identity)]
    #[case::gzip("gzip, deflate", Coding::Gzip)]
    #[case::br_preferred("gzip, deflate, br", Coding::Brotli)]
    #[case::br_refused("gzip, br;q=0", Coding::Gzip)]
    #[case::star("*", Coding::Brotli)]
    #[case::star_but_not_br("br;q=0, *;q=0.5", Coding::Gzip)]
    #[case::deflate_only("deflate", Coding::Identity)]
    #[case::identity_only("identity", Coding::Identity)]
    #[case::case_and_spaces(" GZIP ; q=0.8 ", Coding::Gzip)]
    fn negotiates_coding(
        #[case] accept: impl Into<Option<&'static str>>,
        #[case] expected: Coding,
    ) {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept.into() {
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(accept));
        }
        assert_eq!(Coding::negotiate(&headers), expected);
    }

    #[test]
    fn compressed_bodies_decompress_to_the_original() {
        use std::io::Read;
        let body = "<rss>Ақорда & news</rss>\n".repeat(500);
        let gz = compress(Coding::Gzip, body.as_bytes()).unwrap();
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
        let br = compress(Coding::Brotli, body.as_bytes()).unwrap();
        let mut out = String::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
        assert!(br.len() < body.len() / 10 && gz.len() < body.len() / 10);
    }
}
