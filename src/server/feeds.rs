//! `/feeds/{source}.{rss,atom,json}`: rendered once per change of the source, then served from
//! memory with ETag / Last-Modified / 304, `Cache-Control` from the schedule, and gzip or brotli
//! compressed once per document when a reader asks for it. The documents kept are bounded by
//! bytes (`[server] feed_cache_mb`), the least recently used going first.

use std::borrow::Cow;
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
    /// Server preference, best first: ties of `q` go to the earlier.
    const PREFERRED: [Coding; 3] = [Coding::Brotli, Coding::Gzip, Coding::Identity];

    /// The coding to send under `Accept-Encoding` (RFC 9110 §12.5.3): of those the reader
    /// accepts, the one with the highest `q`, ties going by [`Coding::PREFERRED`]. `q` and `Q`
    /// alike, names in any case, `x-gzip` for gzip; `q=0` refuses a coding, `*` stands for every
    /// coding not named, and identity is acceptable unless refused (`identity;q=0`, or `*;q=0`
    /// without naming it). Without the header, identity. When the reader refuses every coding
    /// herald has, identity all the same: the RFC lets a server disregard the header rather
    /// than answer 406, and a feed reader is better served by the plain document than by none.
    fn negotiate(headers: &HeaderMap) -> Coding {
        let Some(accept) = list_header(headers, header::ACCEPT_ENCODING) else {
            return Coding::Identity;
        };
        // (coding, q) as given; an element with a malformed `q` is left out.
        let given: Vec<(&str, f32)> = accept
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let name = pieces.next().unwrap_or_default().trim();
                let mut q = 1.0;
                for param in pieces {
                    let Some((key, value)) = param.split_once('=') else {
                        continue;
                    };
                    if key.trim().eq_ignore_ascii_case("q") {
                        q = value
                            .trim()
                            .parse::<f32>()
                            .ok()
                            .filter(|q| (0.0..=1.0).contains(q))?;
                    }
                }
                (!name.is_empty()).then_some((name, q))
            })
            .collect();
        let named = |coding: Coding| -> Option<f32> {
            let names: &[&str] = match coding {
                Coding::Brotli => &["br"],
                Coding::Gzip => &["gzip", "x-gzip"],
                Coding::Identity => &["identity"],
            };
            // The highest `q` the reader gave the coding under any of its names.
            given
                .iter()
                .filter(|(name, _)| names.iter().any(|n| name.eq_ignore_ascii_case(n)))
                .map(|&(_, q)| q)
                .reduce(f32::max)
        };
        let star = given
            .iter()
            .filter(|(name, _)| *name == "*")
            .map(|&(_, q)| q)
            .reduce(f32::max);
        let q_of = |coding: Coding| -> f32 {
            named(coding).or(star).unwrap_or(match coding {
                // Acceptable when not named, but last: a reader that names only codings
                // (`br;q=0.5, gzip;q=0.5`) wants one of them.
                Coding::Identity => f32::MIN_POSITIVE,
                _ => 0.0,
            })
        };
        let mut best = (Coding::Identity, 0.0);
        for coding in Coding::PREFERRED {
            let q = q_of(coding);
            if q > best.1 {
                best = (coding, q);
            }
        }
        best.0
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Every field line of the list header `name` as one list: RFC 9110 §5.3, a recipient combines
/// the lines of a field sent several times (`If-None-Match: "a"` then `If-None-Match: "b"`) in
/// their order, comma-separated. Only the first was read: a current tag on the second line got
/// 200, a `gzip` there the plain body. `None` without the header; a line that is not visible
/// ASCII is left out.
fn list_header(headers: &HeaderMap, name: header::HeaderName) -> Option<Cow<'_, str>> {
    let mut lines = headers.get_all(name).iter().filter_map(|v| v.to_str().ok());
    let first = lines.next()?;
    let Some(second) = lines.next() else {
        return Some(Cow::Borrowed(first));
    };
    let mut joined = format!("{first}, {second}");
    for line in lines {
        joined.push_str(", ");
        joined.push_str(line);
    }
    Some(Cow::Owned(joined))
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
    /// What the document holds and since when (`Last-Modified`).
    dated: Dated,
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

    /// `Last-Modified` as of now: `written` (the document's date, as `last_modified_header`
    /// writes it), or none while that is still ahead (two changes within a second, see
    /// [`Dated::after`]). RFC 9110 §8.8.2.1 never lets it be later than the answer's `Date`, and
    /// the `Date` itself would be no later than the date of the document before this one: a
    /// reader on libcurl (newsboat) that revalidates with `If-Modified-Since` then drops the
    /// body of the 200 as "not modified since" and keeps its new ETag, so it never sees this
    /// change. Without the header it takes the body. The date itself stays ahead: an
    /// `If-Modified-Since` of now is not fresh until it has passed.
    fn last_modified(&self, written: &HeaderValue) -> Option<HeaderValue> {
        (self.dated.modified.timestamp() <= Utc::now().timestamp()).then(|| written.clone())
    }

    /// RFC 9110 §13.1.2: If-None-Match (weak comparison) wins over If-Modified-Since. Only the
    /// tag of the representation that would be sent, in `coding`, matches (RFC 9111 §4.3.2: a
    /// 304 says the reader's copy is that representation); a tag of another coding is another
    /// representation, which the reader must be sent anew.
    /// RFC 9110 §13.1.1: an `If-Match` that names neither `*` nor this representation's tag
    /// (strong comparison: a weak tag never matches) fails, and the answer is 412. Without
    /// `If-Match`, §13.1.4: an `If-Unmodified-Since` earlier than the document's date fails
    /// too (one that is not a single HTTP date is ignored).
    fn fails_precondition(&self, headers: &HeaderMap, coding: Coding) -> bool {
        if let Some(tags) = list_header(headers, header::IF_MATCH) {
            return !tags.split(',').any(|tag| {
                let tag = tag.trim();
                tag == "*" || self.etags[coding.index()].as_bytes() == tag.as_bytes()
            });
        }
        let mut lines = headers.get_all(header::IF_UNMODIFIED_SINCE).iter();
        let (Some(line), None) = (lines.next(), lines.next()) else {
            return false;
        };
        line.to_str()
            .ok()
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .is_some_and(|since| {
                self.dated.modified.timestamp() > DateTime::<Utc>::from(since).timestamp()
            })
    }

    fn is_fresh(&self, headers: &HeaderMap, coding: Coding) -> bool {
        if let Some(inm) = list_header(headers, header::IF_NONE_MATCH) {
            return inm.split(',').any(|tag| {
                let tag = tag.trim();
                let tag = tag.strip_prefix("W/").unwrap_or(tag);
                tag == "*" || self.etags[coding.index()].as_bytes() == tag.as_bytes()
            });
        }
        headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            // RFC 9110 §13.1.3: a date later than the server's clock is not a valid one, and
            // the header is then ignored (a reader's clock ahead would freeze the feed).
            .filter(|since| *since <= std::time::SystemTime::now())
            .is_some_and(|since| {
                self.dated.modified.timestamp() <= DateTime::<Utc>::from(since).timestamp()
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
    /// What each document held and since when, kept longer than the documents (a few dozen
    /// bytes each, within `DATES_BYTES`): a document let go and rendered again alike keeps its
    /// `Last-Modified`, and so its ETag.
    dates: Mutex<ByteLru<Dated>>,
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

/// Bytes kept for the documents' dates (see `FeedCache::dates`): some ten thousand documents.
const DATES_BYTES: usize = 1 << 20;

/// Longest `Cache-Control: max-age` given to a feed, in seconds.
const MAX_AGE_CAP_SECS: u64 = 3600;

impl FeedCache {
    pub(super) fn new() -> FeedCache {
        let gauge = |pool: &'static str| metrics::gauge!("herald_feed_cache_bytes", "pool" => pool);
        FeedCache {
            plain: Mutex::default(),
            filtered: Mutex::default(),
            dates: Mutex::default(),
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

    /// What the last document rendered for `key` held, and since when.
    fn dated(&self, key: &CacheKey) -> Option<Dated> {
        lock(&self.dates).get(&key.key).copied()
    }

    /// Keeps `doc` within `budget` bytes for its pool.
    fn put(&self, key: &CacheKey, doc: Arc<Rendered>, budget: usize) {
        lock(&self.dates).put(
            key.key.clone(),
            doc.dated,
            std::mem::size_of::<Dated>(),
            DATES_BYTES,
        );
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
    // A file name that is not UTF-8 (`%FF.rss`) names no feed: 404, as any other.
    file: Result<Path<String>, axum::extract::rejection::PathRejection>,
    RawQuery(raw_query): RawQuery,
    // The request itself, not its `HeaderMap` (which axum extracts as a copy, an allocation
    // per header on every answer).
    request: axum::extract::Request,
) -> Response {
    // Read before the document is found current: see `remember`.
    let version = state.shared.versions.latest();
    let headers = request.headers();
    let Some((id, format)) = file.as_ref().ok().and_then(|Path(file)| {
        let (id, ext) = file.rsplit_once('.')?;
        Some((id, Format::from_ext(ext)?))
    }) else {
        return (StatusCode::NOT_FOUND, "no such feed\n").into_response();
    };
    // Which feed first (404, 410), then its options (400, 414).
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
    if let Some(moved) = to_canonical(&config, request.uri(), id, format, &query) {
        return moved;
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
    if doc.fails_precondition(headers, coding) {
        return (StatusCode::PRECONDITION_FAILED, "precondition failed\n").into_response();
    }
    let fresh = doc.is_fresh(headers, coding);
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
        doc.etags[coding.index()].clone(),
        doc.cache_control.clone(),
        || doc.last_modified(&doc.last_modified_header),
    )
}

/// Whether the query asked is the canonical one as a client may have rewritten it. The self link
/// must be the address fetched (the W3C validator warns otherwise), so any other spelling
/// (`%20` for `+`, a trailing `&`, a bare `?`) is redirected. The one rewrite allowed is an
/// escaped unreserved character (RFC 3986 §6.2.2.2: `%7E` is `~`), which Python's `requests`
/// decodes before each request; the canonical form holds none (see `FeedQuery::parse`), so a
/// client sent there asks for it as written and never loops.
fn same_options(asked: Option<&str>, canonical: Option<&str>) -> bool {
    asked.map(unreserved_decoded).as_deref() == canonical
}

/// `query` with each `%XX` that stands for an unreserved character (letters, digits, `-._~`)
/// written as that character; every other byte as it was.
fn unreserved_decoded(query: &str) -> String {
    let bytes = query.as_bytes();
    let mut out = String::with_capacity(query.len());
    let mut at = 0;
    while at < bytes.len() {
        let decoded = bytes
            .get(at + 1..at + 3)
            .filter(|_| bytes[at] == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        match decoded {
            Some(b) => {
                out.push(char::from(b));
                at += 3;
            }
            None => {
                // Copy up to the next `%` after this byte (a `%` is one byte: the slice starts
                // on a character either way).
                let from = at + usize::from(bytes[at] == b'%');
                let next = query[from..].find('%').map_or(query.len(), |i| from + i);
                out.push_str(&query[at..next]);
                at = next;
            }
        }
    }
    out
}

/// A permanent redirect to the feed's own address (its self link) when it was asked for by
/// another: the `.xml` spelling of `.rss`, an escaped path, or a query other than its canonical
/// options (`?utm_source=x`, `?include=%FF`, a bare `?`). The W3C validator and WebSub want the
/// self link to be the address fetched, and a reader told 301 keeps the right one.
fn to_canonical(
    config: &Config,
    uri: &axum::http::Uri,
    id: &str,
    format: Format,
    query: &FeedQuery,
) -> Option<Response> {
    let path = format!("/feeds/{id}.{}", format.ext());
    let canonical_query = (!query.is_empty()).then(|| query.canonical());
    if uri.path() == path && same_options(uri.query(), canonical_query) {
        return None;
    }
    let mut location = format!("{}{path}", config.general.public_url);
    if let Some(q) = canonical_query {
        location.push('?');
        location.push_str(q);
    }
    // Written as the document writes its self link.
    let location = crate::render::uri_safe(&location);
    let Ok(location) = HeaderValue::from_str(&location) else {
        // Not a header value (a public_url that checks let through): served where asked.
        tracing::warn!(%location, "a feed's own address cannot be a Location header");
        return None;
    };
    let mut response = (
        StatusCode::MOVED_PERMANENTLY,
        "moved to the feed's own address\n",
    )
        .into_response();
    response.headers_mut().insert(header::LOCATION, location);
    Some(response)
}

/// The answer for a document: 304 without a body, else 200 with `body` in `coding`, with its
/// `ETag` (of that coding), `Cache-Control` and, on a 200, `last_modified()` (when there is one).
///
/// A 304 carries only what RFC 9110 §15.4.5 asks of it: `ETag`, `Cache-Control`, `Vary` (and
/// `Date`). Its `SHOULD NOT` covers the rest: `Last-Modified` guides no cache that has the tag,
/// and `nosniff` speaks of a body there is none of. Readers keep the 200's `Last-Modified` (a
/// 304 updates only the fields it sends, RFC 9111 §4.3.4), and every byte less is one a reader
/// polling often, or a cache in front, does not parse.
fn respond(
    content_type: &'static str,
    coding: Coding,
    body: Option<Bytes>,
    etag: HeaderValue,
    cache_control: HeaderValue,
    last_modified: impl FnOnce() -> Option<HeaderValue>,
) -> Response {
    let vary = HeaderValue::from_static("accept-encoding");
    let Some(body) = body else {
        let mut response = Response::new(axum::body::Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        let h = response.headers_mut();
        h.reserve(4);
        h.insert(header::ETAG, etag);
        h.insert(header::CACHE_CONTROL, cache_control);
        h.insert(header::VARY, vary);
        return response;
    };
    let mut response = Response::new(axum::body::Body::from(body));
    let h = response.headers_mut();
    h.reserve(9);
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    match coding {
        Coding::Brotli => h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br")),
        Coding::Gzip => h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
        Coding::Identity => None,
    };
    h.insert(header::ETAG, etag);
    if let Some(last_modified) = last_modified() {
        h.insert(header::LAST_MODIFIED, last_modified);
    }
    h.insert(header::CACHE_CONTROL, cache_control);
    h.insert(header::VARY, vary);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
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
    // `If-Match` and `If-Unmodified-Since` are rare: the router answers them (412 when they
    // fail).
    if !path.starts_with("/feeds/")
        || request.headers().contains_key(header::IF_MATCH)
        || request.headers().contains_key(header::IF_UNMODIFIED_SINCE)
    {
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
        let fresh = kept.doc.is_fresh(headers, coding);
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
            kept.etags[coding.index()].clone(),
            kept.cache_control.clone(),
            || kept.doc.last_modified(&kept.last_modified),
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
    let before = state.cache.dated(key);
    let (filtered, key_owned) = (key.filtered, key.key.clone());
    let doc = in_time(bounded_blocking(move || {
        let plain = format!("{id_owned}.{}", format.ext());
        // Where the document's date is noted in the store, and what is noted there now.
        let (noted_at, noted, seen) = if filtered {
            let slots = FilteredSlots::read(&shared, &plain, &key_owned);
            let seen = match before {
                Some(dated) => Seen::Dated(dated),
                None => slots.seen(),
            };
            // A document asked for before in this run (its date is in memory) may push
            // another out of its slots; one asked for the first time only takes an empty one,
            // so that a flood of one-off options never pushes out the documents readers come
            // back for, nor writes once the slots are full.
            (slots.write_to(before.is_some()), slots.ours(), seen)
        } else {
            let noted = stored_date(&shared, &plain);
            let seen = before.or(noted).map_or(Seen::Never, Seen::Dated);
            (Some(plain.clone()), noted, seen)
        };
        // A filtered document whose date is not known is dated no earlier than its plain
        // feed's noted date, which moved with every change of the plain feed's bytes.
        let floor = match (filtered, seen) {
            (true, Seen::Never | Seen::Forgotten) => {
                stored_date(&shared, &plain).map(|d| d.modified)
            }
            _ => None,
        };
        let doc = render_feed(&shared, &id_owned, format, &query_owned, stamp, seen, floor)?;
        if noted != Some(doc.dated)
            && let Some(noted_at) = noted_at
            && let Err(e) =
                shared
                    .store
                    .set_feed_date(&noted_at, doc.dated.content, doc.dated.modified)
        {
            // The date served stays right while herald runs; after a restart, this feed's
            // `Last-Modified` becomes the time of its first answer (later, never earlier).
            tracing::warn!(feed = %noted_at, error = %e, "cannot note the feed's Last-Modified");
        }
        Ok::<_, StoreError>(doc)
    }))
    .await?
    .map_err(|e| StoreError::Sled(sled::Error::ReportableBug(e.to_string())))??;
    let doc = Arc::new(doc);
    state.cache.put(key, doc.clone(), budget);
    Ok(doc)
}

/// Slots of the store's feed dates kept for the filtered documents of each plain feed
/// (`x.atom?#0` … `x.atom?#31`): anyone can ask for new options without end, so their dates
/// are kept in a bounded number of places per feed, each document in one of two slots chosen
/// by its options. A document pushed out of its slots by others (or whose slot a concurrent
/// render took) has its date forgotten, and is dated anew as of its next render: later than
/// any date it was served with, never earlier (see [`Seen::Forgotten`]). With a few filtered
/// documents per feed, as readers ask for, each keeps its own slot and so its date, its bytes
/// and its validators across restarts. At most 32 × 3 formats × (sources + 1) entries of 40
/// bytes or so.
const FILTERED_SLOTS: u64 = 32;

/// The two slots a filtered document's date may be noted in, and what they hold.
struct FilteredSlots {
    tag: [u8; 8],
    names: [String; 2],
    held: [Option<Dated>; 2],
}

impl FilteredSlots {
    fn read(shared: &Shared, plain: &str, key: &str) -> FilteredSlots {
        let (tag, names) = FilteredSlots::names(plain, key);
        let held = [0, 1].map(|i| stored_date(shared, &names[i]));
        FilteredSlots { tag, names, held }
    }

    /// The tag of document `key` of plain feed `plain`, and the names of its two slots.
    fn names(plain: &str, key: &str) -> ([u8; 8], [String; 2]) {
        let tag = key_tag(key);
        let first = u64::from_be_bytes(tag) % FILTERED_SLOTS;
        let mut second =
            u64::from(u32::from_be_bytes([tag[0], tag[2], tag[4], tag[6]])) % FILTERED_SLOTS;
        if second == first {
            second = (first + 1) % FILTERED_SLOTS;
        }
        (tag, [first, second].map(|slot| format!("{plain}?#{slot}")))
    }

    /// Which slot holds this document's date, if one does.
    fn own(&self) -> Option<usize> {
        (0..2).find(|&i| self.held[i].is_some_and(|d| d.content[..8] == self.tag))
    }

    fn ours(&self) -> Option<Dated> {
        self.own().and_then(|i| self.held[i])
    }

    /// What is known of the document: its noted date; never seen if both its slots are still
    /// empty (a slot, once written, is never emptied: the document cannot have been pushed out
    /// of one); else forgotten.
    fn seen(&self) -> Seen {
        match self.ours() {
            Some(dated) => Seen::Dated(dated),
            None if self.held.iter().all(Option::is_none) => Seen::Never,
            None => Seen::Forgotten,
        }
    }

    /// The slot to note the document's date in: its own, else an empty one, else (when
    /// `may_push_out`) the one holding the oldest date; else none, and its date is not noted.
    fn write_to(&self, may_push_out: bool) -> Option<String> {
        let at = self
            .own()
            .or_else(|| (0..2).find(|&i| self.held[i].is_none()))
            .or_else(|| {
                may_push_out.then(|| {
                    (0..2)
                        .min_by_key(|&i| self.held[i].map(|d| d.modified))
                        .unwrap_or(0)
                })
            })?;
        Some(self.names[at].clone())
    }
}

/// The first 8 bytes of a digest of a filtered document's key (`x.atom?limit=1`): the first
/// half of its [`Dated::content`], which tells its noted date from another document's.
fn key_tag(key: &str) -> [u8; 8] {
    let mut tag = [0; 8];
    tag.copy_from_slice(&Sha256::digest(key.as_bytes())[..8]);
    tag
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

/// What a feed document holds, and since when. `Last-Modified` and the feed-level dates (RSS
/// `lastBuildDate`, Atom `updated`) must move whenever the document does: a reader that
/// revalidates with `If-Modified-Since` alone would otherwise get 304 for a feed that changed
/// without a newer item (an older-dated release, a new source title, a hub, a source gone from
/// `all`). So the date is the later of the newest item's time and the time the content was first
/// served as it is, and a change of content always moves it on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Dated {
    /// A digest of the document rendered with its newest item's time as its date (the date it
    /// finally carries is made from this one, so it cannot be in the digest).
    content: [u8; 16],
    modified: DateTime<Utc>,
}

impl Dated {
    /// The date of a document holding `content`, whose newest item has `newest`, after the
    /// document `before` (if known), at `now`. Whole seconds: HTTP dates have no finer ones.
    /// Two changes within a second put it a second ahead of `now`, so that it still moves:
    /// what is published of it is never later than the moment (see `Rendered::last_modified`).
    fn after(
        before: Option<Dated>,
        content: [u8; 16],
        newest: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Dated {
        let whole = |t: DateTime<Utc>| DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t);
        let newest = newest.map(whole);
        let now = whole(now);
        let modified = match before {
            Some(before) if before.content == content => {
                before.modified.max(newest.unwrap_or(before.modified))
            }
            // Changed: now at the earliest, and a second after the last date in any case (two
            // changes within one second, or a clock set back).
            Some(before) => now
                .max(before.modified + chrono::Duration::seconds(1))
                .max(newest.unwrap_or(now)),
            // Never seen (a new feed, a filtered one no longer kept, or a database from before
            // dates were kept): as of now, which no earlier answer can be after.
            None => now.max(newest.unwrap_or(now)),
        };
        Dated { content, modified }
    }

    /// The date of a filtered document (`?lang=`, `?limit=`, …), `newest` being the newest
    /// change of its items (stored or corrected, see `changed_at`), or for one that keeps none
    /// the newest of the items it was filtered from. Its date is noted in the store as a plain
    /// feed's is, in a bounded number of slots (see [`FilteredSlots`]): known (`before`), it
    /// keeps its date while its bytes stay, also across a restart (the same bytes, so the same
    /// ETag), and moves on as a plain feed's does when they change (an item's new "Also in"
    /// link, a new source title: a change that brings no item): RFC 9110 §13.1.3, a reader
    /// revalidating with `If-Modified-Since` alone must not get 304 for a document that
    /// changed. Never seen, it is dated by `newest`, or its plain feed's noted date (`floor`) if
    /// later; with neither, 1990-01-01, the earliest date the W3C validator calls plausible.
    /// Forgotten (pushed out of its slots), it may have been served with any date up to now:
    /// it is dated now, as a plain feed is on a change.
    fn filtered(
        before: Seen,
        floor: Option<DateTime<Utc>>,
        content: [u8; 16],
        newest: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Dated {
        let whole = |t: DateTime<Utc>| DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t);
        let of_items = newest
            .map_or(crate::dates::earliest_plausible(), whole)
            .max(crate::dates::earliest_plausible());
        let floor = floor.map_or(of_items, whole).max(of_items);
        let modified = match before {
            Seen::Dated(before) if before.content == content => before.modified.max(of_items),
            Seen::Dated(before) => whole(now)
                .max(before.modified + chrono::Duration::seconds(1))
                .max(of_items),
            Seen::Never => floor,
            Seen::Forgotten => whole(now).max(floor),
        };
        Dated { content, modified }
    }
}

/// What is known of a document's date before it is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seen {
    /// What it last held and since when (in memory, or noted in the store).
    Dated(Dated),
    /// Never served (as far as the store says).
    Never,
    /// Served perhaps, its date no longer known (a filtered document pushed out of its slots).
    Forgotten,
}

/// When a release last changed what a feed shows of it: stored (first seen) or corrected. A
/// release dated before the newest one still moves a filtered feed's date when it arrives.
fn changed_at(item: &Item) -> DateTime<Utc> {
    item.updated.max(item.first_seen)
}

/// The date noted for `feed`: a plain feed (`x.rss`) or a slot of its filtered documents' (see
/// [`Dated`], [`FilteredSlots`]); a store that cannot say counts as none.
fn stored_date(shared: &Shared, feed: &str) -> Option<Dated> {
    match shared.store.feed_date(feed) {
        Ok(found) => found.map(|(content, modified)| Dated { content, modified }),
        Err(e) => {
            tracing::warn!(feed = %feed, error = %e, "cannot read the feed's Last-Modified");
            None
        }
    }
}

/// What a feed is about: one source, or every source merged.
struct Subject<'a> {
    /// The newest `updated` of the items read before the query's filters (the date of a
    /// filtered document that keeps none of them).
    newest_read: Option<DateTime<Utc>>,
    title: String,
    home: String,
    language: Option<&'a str>,
    /// The polling interval in seconds (for `all`, the shortest of its sources'), if known.
    interval: Option<u64>,
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
            newest_read: None,
            title: source.title.clone(),
            home: super::site_page(shared, source)?,
            language: Some(source.language.as_str()),
            interval: interval_secs(source),
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
            // Each source's items as its own feed holds them: its newest `max_items`.
            let ids: Vec<(&str, usize)> = sources
                .iter()
                .map(|s| (s.id.as_str(), s.max_items))
                .collect();
            let mut langs: Vec<&str> = sources.iter().map(|s| s.language.as_str()).collect();
            langs.sort_unstable();
            langs.dedup();
            Subject {
                newest_read: None,
                title: "herald: all sources".to_owned(),
                home: format!("{public_url}/"),
                language: (langs.len() == 1).then(|| langs[0]),
                // Any of its sources' polls may change it.
                interval: sources.iter().copied().filter_map(interval_secs).min(),
                items: shared.store.recent_merged(&ids, merged_limit(config))?,
            }
        }
    };
    subject.newest_read = subject.items.iter().map(changed_at).max();
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
    before: Seen,
    floor: Option<DateTime<Utc>>,
) -> Result<Rendered, StoreError> {
    metrics::counter!("herald_feed_renders_total", "format" => format.ext()).increment(1);
    let config = shared.config.get();
    let mut subject = subject(shared, &config, id, query)?;
    // No date the document shows is later than the render (an instant claimed a moment ahead,
    // see `store::stamps`; RFC 9110 §8.8.2.1 for `Last-Modified`).
    let now = Utc::now();
    for item in &mut subject.items {
        item.updated = item.updated.min(now);
        item.published = item.published.min(item.updated);
    }
    let newest = subject.items.iter().map(|i| i.updated).max();
    // Fresh for one polling interval, but asked again at least hourly: a revalidation costs a
    // 304, and an admin's `/poll` can change a feed between scheduled polls.
    // Unknown (a schedule that never fires again): a minute.
    let max_age = subject.interval.unwrap_or(60).clamp(1, MAX_AGE_CAP_SECS);
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
        // RSS counts `ttl` in whole minutes: `max-age`'s, rounded up (an hour at most, as
        // `max-age` is, so that a reader asks again after an admin's `/poll`).
        ttl_minutes: Some(u32::try_from(max_age.div_ceil(60)).unwrap_or(u32::MAX)),
        // The date to digest the content with; see `Dated`.
        updated: newest.unwrap_or(DateTime::UNIX_EPOCH),
        hub: hub.as_deref(),
        translations: Some(&translations),
    };
    let draft = match format {
        Format::Rss => render::rss::render(&meta, &subject.items),
        Format::Atom => render::atom::render(&meta, &subject.items),
        Format::Json => render::json::render(&meta, &subject.items),
    };
    let digest = Sha256::digest(draft.as_bytes());
    let mut content = [0; 16];
    let dated = if query.is_empty() {
        content.copy_from_slice(&digest[..16]);
        let before = match before {
            Seen::Dated(dated) => Some(dated),
            Seen::Never | Seen::Forgotten => None,
        };
        Dated::after(before, content, newest, now)
    } else {
        // Its key's tag, then its bytes': see `FilteredSlots`.
        content[..8].copy_from_slice(&key_tag(&CacheKey::new(id, format, query).key));
        content[8..].copy_from_slice(&digest[..8]);
        let newest_change = subject.items.iter().map(changed_at).max();
        let newest = newest_change.or(subject.newest_read).map(|t| t.min(now));
        Dated::filtered(before, floor, content, newest, now)
    };
    // The document's own date: its `Last-Modified`, or its newest item's instant within that
    // second (a feed is not older than its entries), never later than the render.
    let shown = dated.modified.max(meta.updated).min(now);
    let body = if shown == meta.updated {
        draft
    } else {
        let redated = match format {
            Format::Rss => render::rss::redated(&draft, shown),
            Format::Atom => render::atom::redated(&draft, shown),
            // JSON Feed has no feed-level date.
            Format::Json => None,
        };
        redated.unwrap_or(draft)
    };
    let digest = Sha256::digest(body.as_bytes());
    let tag = crate::text::hex(&digest[..12]);
    let etag = |suffix: &str| {
        HeaderValue::from_str(&format!("\"{tag}{suffix}\"")).expect("hex is a valid header")
    };
    Ok(Rendered {
        stamp,
        body: shareable(body.into_bytes()),
        brotli: OnceLock::new(),
        gzip: OnceLock::new(),
        etags: [etag("-br"), etag("-gzip"), etag("")],
        dated,
        last_modified_header: http_date(dated.modified),
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

/// The schedule's usual interval in seconds: `Cache-Control: max-age` (at most an hour), and RSS
/// `ttl` in whole minutes. A schedule of seconds (`*/30 * * * * *`) keeps its 30 s as max-age.
fn interval_secs(source: &Source) -> Option<u64> {
    crate::schedule::interval(&source.schedule, source.timezone, Utc::now()).map(|i| i.as_secs())
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    /// Only the canonical query, or one that differs by escaped unreserved characters (what
    /// Python's `requests` rewrites by itself), is served where asked; another spelling of the
    /// same options is redirected, so that the self link is the address fetched.
    #[rstest]
    #[case::same(Some("include=visit"), Some("include=visit"), true)]
    #[case::none(None, None, true)]
    #[case::tilde_escaped(Some("include=%7Ex"), Some("include=~x"), true)]
    #[case::letter_escaped(Some("include=%76isit"), Some("include=visit"), true)]
    #[case::trailing_amp(Some("include=visit&"), Some("include=visit"), false)]
    #[case::space_as_pct20(Some("include=Visit%20to"), Some("include=Visit+to"), false)]
    #[case::bare_question_mark(Some(""), None, false)]
    #[case::reserved_escape_kept(Some("include=a%26b"), Some("include=a&b"), false)]
    #[case::not_utf8(Some("include=%FF\u{430}%"), Some("include=%EF%BF%BD"), false)]
    fn only_unreserved_escapes_are_the_same_options(
        #[case] asked: Option<&str>,
        #[case] canonical: Option<&str>,
        #[case] same: bool,
    ) {
        assert_eq!(same_options(asked, canonical), same);
    }

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
    #[case::highest_q_wins("gzip;q=1, br;q=0.1", Coding::Gzip)]
    #[case::upper_case_q_refuses("gzip;Q=0", Coding::Identity)]
    #[case::upper_case_q_weighs("br;Q=0.2, gzip;Q=0.9", Coding::Gzip)]
    #[case::x_gzip("x-gzip", Coding::Gzip)]
    #[case::x_gzip_refused("x-gzip;q=0, *", Coding::Brotli)]
    #[case::tie_goes_to_brotli("gzip;q=0.5, br;q=0.5", Coding::Brotli)]
    #[case::identity_preferred("identity;q=1, gzip;q=0.5", Coding::Identity)]
    #[case::identity_refused_gzip_low("identity;q=0, gzip;q=0.1", Coding::Gzip)]
    #[case::star_refused_identity_too("br;q=0.3, *;q=0", Coding::Brotli)]
    #[case::nothing_acceptable("*;q=0", Coding::Identity)]
    #[case::empty("", Coding::Identity)]
    #[case::malformed_q_ignored("br;q=high, gzip", Coding::Gzip)]
    #[case::low_q_beats_unnamed_identity("br;q=0.5, gzip;q=0.5", Coding::Brotli)]
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

    /// `Last-Modified` keeps its date while the content stays, and moves on (to now, at least a
    /// second later, never back) when it changes; the newest item's time is a floor.
    #[test]
    fn a_feeds_date_moves_only_forward_and_only_with_its_content() {
        let at = |secs: i64| DateTime::from_timestamp(secs, 0).unwrap();
        let (a, b) = ([1; 16], [2; 16]);
        let now = at(10_000) + chrono::Duration::milliseconds(700);
        let before = Dated {
            content: a,
            modified: at(5_000),
        };
        // Same content: the date it had, also after a restart (read back from the store).
        assert_eq!(Dated::after(Some(before), a, Some(at(4_000)), now), before);
        // Changed, without a newer item: now, in whole seconds.
        assert_eq!(
            Dated::after(Some(before), b, Some(at(4_000)), now).modified,
            at(10_000)
        );
        // Changed again within the same second, or after the clock went back: a second on.
        let last = Dated {
            content: a,
            modified: at(10_000),
        };
        assert_eq!(Dated::after(Some(last), b, None, now).modified, at(10_001));
        let ahead = Dated {
            content: a,
            modified: at(20_000),
        };
        assert_eq!(Dated::after(Some(ahead), b, None, now).modified, at(20_001));
        // An item dated later than now (a site's clock) is the floor.
        assert_eq!(
            Dated::after(Some(before), b, Some(at(30_000)), now).modified,
            at(30_000)
        );
        // Never seen: now, or the newest item's time if later.
        assert_eq!(
            Dated::after(None, a, Some(at(4_000)), now).modified,
            at(10_000)
        );
        assert_eq!(Dated::after(None, a, None, now).modified, at(10_000));
    }

    /// A document rendered for one source stays the cache's answer after a change of another
    /// source (no render), and not after a change of its own source or of the configuration.
    /// Counting renders cannot tell this in the `it` tests: `herald_feed_renders_total` is the
    /// process's, and the other tests of that binary render feeds meanwhile.
    #[test]
    fn another_sources_change_leaves_a_cached_feed_current() {
        let versions = crate::shared::FeedVersions::default();
        versions.source_changed("en");
        let cache = FeedCache::new();
        let key = CacheKey::new("en", Format::Rss, &FeedQuery::default());
        let header = |v: &'static str| HeaderValue::from_static(v);
        // What `rendered` keeps for the feed as of now.
        let render = || {
            let doc = Arc::new(Rendered {
                stamp: versions.stamp("en"),
                body: Bytes::from_static(b"<rss/>"),
                brotli: OnceLock::new(),
                gzip: OnceLock::new(),
                etags: [header("\"t-br\""), header("\"t-gzip\""), header("\"t\"")],
                dated: Dated {
                    content: [0; 16],
                    modified: DateTime::UNIX_EPOCH,
                },
                last_modified_header: http_date(DateTime::UNIX_EPOCH),
                cache_control: header("public, max-age=60"),
                content_type: Format::Rss.content_type(),
            });
            cache.put(&key, doc.clone(), 1 << 20);
            doc
        };
        let cached = |doc: &Arc<Rendered>| {
            cache
                .get(&key, versions.stamp("en"))
                .is_some_and(|hit| Arc::ptr_eq(&hit, doc))
        };
        let doc = render();
        assert!(cached(&doc));
        versions.source_changed("ru");
        assert!(cached(&doc), "a change of ru re-renders the en feed");
        versions.source_changed("en");
        assert!(!cached(&doc));
        let doc = render();
        versions.config_changed();
        assert!(!cached(&doc));
    }

    /// A filtered document not seen before is dated by its newest item (or the newest of those
    /// it was filtered from, passed in the same way), whatever the time of the render; its plain
    /// feed's noted date is a floor. With no item at all, a date the W3C validator calls plausible.
    #[test]
    fn a_filtered_feeds_date_comes_from_its_items() {
        let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap();
        let newest = Some(at(1_000_000_000));
        let dated = Dated::filtered(Seen::Never, None, [1; 16], newest, Utc::now());
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(
            Dated::filtered(Seen::Never, None, [1; 16], newest, Utc::now()),
            dated
        );
        assert_eq!(dated.modified, at(1_000_000_000));
        assert_eq!(
            Dated::filtered(Seen::Never, None, [1; 16], None, Utc::now()).modified,
            crate::dates::earliest_plausible()
        );
        let floor = Some(at(1_000_000_500));
        assert_eq!(
            Dated::filtered(Seen::Never, floor, [1; 16], newest, Utc::now()).modified,
            at(1_000_000_500)
        );
    }

    /// A filtered document whose bytes change with no newer item (an "Also in" link, a source
    /// title) moves its date on, as a plain one does (RFC 9110 §13.1.3); the same bytes keep it.
    #[test]
    fn a_filtered_feeds_date_moves_with_its_bytes() {
        let at = |s: i64| DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap();
        let newest = Some(at(4_000));
        let now = at(10_000) + chrono::Duration::milliseconds(300);
        let before = Dated::filtered(Seen::Never, None, [1; 16], newest, at(5_000));
        assert_eq!(before.modified, at(4_000));
        assert_eq!(
            Dated::filtered(Seen::Dated(before), None, [1; 16], newest, now),
            before
        );
        assert_eq!(
            Dated::filtered(Seen::Dated(before), None, [2; 16], newest, now).modified,
            at(10_000)
        );
        let last = Dated {
            content: [1; 16],
            modified: at(10_000),
        };
        assert_eq!(
            Dated::filtered(Seen::Dated(last), None, [2; 16], newest, now).modified,
            at(10_001)
        );
    }

    /// A filtered document whose date is forgotten (pushed out of its slots) may have been
    /// served with any date up to now: it is dated now (or its floor, or its items, if later),
    /// never by its items alone.
    #[test]
    fn a_forgotten_filtered_feed_is_dated_now() {
        let at = |s: i64| DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap();
        let now = at(10_000) + chrono::Duration::milliseconds(300);
        let newest = Some(at(4_000));
        let forgotten = |floor| Dated::filtered(Seen::Forgotten, floor, [1; 16], newest, now);
        assert_eq!(forgotten(None).modified, at(10_000));
        assert_eq!(forgotten(Some(at(20_000))).modified, at(20_000));
        assert_eq!(
            Dated::filtered(Seen::Never, None, [1; 16], newest, now).modified,
            at(4_000)
        );
    }

    /// However many options are asked for, a feed's filtered documents are noted in
    /// `FILTERED_SLOTS` places of the store (two each, never the plain feed's own), and the
    /// same options always in the same two.
    #[test]
    fn filtered_dates_are_noted_in_a_bounded_set_of_places() {
        let mut places = std::collections::HashSet::new();
        for n in 0..10_000 {
            let key = format!("x.atom?limit={n}");
            let (tag, names) = FilteredSlots::names("x.atom", &key);
            assert_eq!(tag, key_tag(&key));
            assert_ne!(names[0], names[1]);
            assert_eq!(FilteredSlots::names("x.atom", &key).1, names);
            for name in names {
                assert!(name.starts_with("x.atom?#"), "{name}");
                places.insert(name);
            }
        }
        assert_eq!(places.len() as u64, FILTERED_SLOTS);
    }

    /// A document asked for the first time takes its own slot or an empty one, never another
    /// document's: a flood of one-off options neither pushes out the documents readers come
    /// back for nor writes once their slots are full. One asked for again may push out the
    /// oldest date.
    #[test]
    fn only_a_document_asked_again_pushes_another_out() {
        let key = "x.atom?limit=7";
        let (tag, names) = FilteredSlots::names("x.atom", key);
        let at = |secs| DateTime::from_timestamp(secs, 0).unwrap();
        let dated = |first: u8, secs| Dated {
            content: [first; 16],
            modified: at(secs),
        };
        let full = FilteredSlots {
            tag,
            names: names.clone(),
            held: [Some(dated(1, 200)), Some(dated(2, 100))],
        };
        assert_eq!(full.write_to(false), None);
        assert_eq!(full.write_to(true).as_ref(), Some(&names[1]));
        let mut own = dated(0, 300);
        own.content[..8].copy_from_slice(&tag);
        let ours = FilteredSlots {
            held: [Some(dated(1, 200)), Some(own)],
            ..full
        };
        assert_eq!(ours.write_to(false).as_ref(), Some(&names[1]));
        let half = FilteredSlots {
            tag,
            names: names.clone(),
            held: [Some(dated(1, 200)), None],
        };
        assert_eq!(half.write_to(false).as_ref(), Some(&names[1]));
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
