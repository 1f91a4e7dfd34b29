//! Fetching pages from sources: one shared client with timeouts, a body-size cap, the configured
//! User-Agent, conditional GET (ETag / Last-Modified) and charset decoding that looks beyond the
//! HTTP header (BOM, `<meta charset>`, XML declaration, then a guess).

use crate::encoding::decode;
use crate::text::without_userinfo;
use futures_util::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime};
use url::Url;

/// Why a fetch failed; each variant is reported per source and retried with backoff.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No answer within the time allowed.
    #[error("timed out")]
    Timeout,
    /// The connection could not be made or broke off.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The server answered with an error status.
    #[error("HTTP status {0}")]
    Status(u16),
    /// The server answered 429 or 503 and said how many seconds to wait (`Retry-After`): the
    /// source's next poll is not sooner (within a day).
    #[error("HTTP status {0}; the site asks to wait {1} s (Retry-After)")]
    StatusWait(u16, u64),
    /// The body exceeded the size cap.
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
    /// The body arrived but its `Content-Encoding` (gzip, deflate, br) could not be undone.
    #[error("body not decoded: {0}")]
    Decode(String),
    /// Too many redirects, or a redirect loop.
    #[error("too many redirects")]
    Redirects,
    /// A header from the config could not be sent, or another request-level problem.
    #[error("request failed: {0}")]
    Request(String),
    /// An address found on a page leads somewhere herald does not go: not http(s), or a
    /// loopback, private, link-local or metadata address (see [`Reach::Public`]).
    #[error("not fetched: {0}")]
    NotAllowed(String),
    /// A 304 Not Modified to a request that named no earlier version (no `If-None-Match`, no
    /// `If-Modified-Since`): the server sent no page, and nothing says the old one still holds.
    #[error(
        "HTTP status 304 Not Modified to a request that named no earlier version: the server \
         sent no page"
    )]
    UnaskedNotModified,
}

/// Where a request may lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Anywhere: the admin's own URLs (list pages, feeds), and pages of a source that itself
    /// lives on a private network.
    Any,
    /// Public internet addresses only, over http(s): addresses taken from a page (article
    /// links), which anyone who controls the page could point at the host's own network. DNS
    /// answers are checked after resolution and every redirect is checked again.
    Public,
}

/// Limits that apply to every fetch.
#[derive(Clone, Debug)]
pub struct FetcherOptions {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body: usize,
    pub max_redirects: usize,
}

impl Default for FetcherOptions {
    fn default() -> Self {
        FetcherOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body: 10 * 1024 * 1024,
            max_redirects: 10,
        }
    }
}

/// What one request asks for.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    pub user_agent: &'a str,
    pub headers: &'a [(String, String)],
    /// Validators from the previous answer, for a conditional GET.
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
    pub insecure_tls: bool,
}

/// A page as fetched and decoded.
#[derive(Clone, Debug)]
pub struct Page {
    /// The URL after redirects: relative links resolve against it.
    pub url: Url,
    pub text: String,
    /// For a large page, its place among the [`LARGE_PAGES`] read and parsed at once, held
    /// until the page is dropped or its reader takes it (to free it once the text is parsed).
    pub large: Option<LargePage>,
    /// SHA-256 of the raw body, to skip unchanged pages cheaply.
    pub body_hash: [u8; 32],
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: Option<String>,
}

#[derive(Clone, Debug)]
pub enum Fetched {
    /// 304: nothing changed since the validators were taken.
    NotModified,
    Page(Box<Page>),
}

/// A body over this many bytes is a large page: at most [`LARGE_PAGES`] of them are read,
/// decoded and parsed at once in the whole process, whatever the number of sources, so that
/// memory stays bounded (a page costs its body, its text and its parsed tree at once).
pub const LARGE_PAGE_BYTES: usize = 1024 * 1024;
/// How many large pages may be in memory at once (see [`LARGE_PAGE_BYTES`]).
pub const LARGE_PAGES: usize = 2;
static LARGE_PAGE_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(LARGE_PAGES);

/// A large page's slot (see [`LARGE_PAGE_BYTES`]); freed when the last copy is dropped. Whoever
/// holds one never waits for another, so slots cannot deadlock.
#[derive(Clone, Debug)]
pub struct LargePage {
    _slot: std::sync::Arc<tokio::sync::SemaphorePermit<'static>>,
}

impl LargePage {
    async fn acquire() -> Result<LargePage, FetchError> {
        let waited = std::time::Instant::now();
        let permit = LARGE_PAGE_SLOTS
            .acquire()
            .await
            .map_err(|e| FetchError::Request(e.to_string()))?;
        let waited = waited.elapsed();
        if waited > Duration::from_millis(100) {
            tracing::debug!(?waited, "waited for a large page's slot");
        }
        Ok(LargePage {
            _slot: std::sync::Arc::new(permit),
        })
    }
}

/// At most this many requests to one host at a time, whatever the number of sources on it:
/// a site is never hit by a burst.
pub const PER_HOST: usize = 2;

/// How long a host's turn outlives its response, for the connection to be back in the pool.
const POOL_SETTLE: Duration = Duration::from_millis(20);

/// The shared HTTP client (and a second one that skips certificate checks, used only for sources
/// that ask for it with `insecure_tls`).
#[derive(Clone)]
pub struct Fetcher {
    /// Indexed by `insecure_tls`, then by [`Reach`] (`Any`, `Public`).
    clients: [[reqwest::Client; 2]; 2],
    options: FetcherOptions,
    hosts: std::sync::Arc<HostGates>,
}

/// One semaphore of `PER_HOST` permits per host name.
type HostGates =
    std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<tokio::sync::Semaphore>>>;

impl Fetcher {
    pub fn new(options: FetcherOptions) -> Result<Fetcher, FetchError> {
        let build = |insecure: bool, reach: Reach| {
            let builder = reqwest::Client::builder()
                .timeout(options.timeout)
                .connect_timeout(options.connect_timeout)
                .danger_accept_invalid_certs(insecure)
                // Bodies are decompressed here (see `decompress`), which reads what reqwest
                // refuses: raw deflate, and a body whose label is wrong.
                .gzip(false)
                .brotli(false)
                .deflate(false)
                // Idle connections kept per host: with `PER_HOST` requests at a time, a site never
                // sees more than that many connections from herald.
                .pool_max_idle_per_host(PER_HOST);
            let builder = match reach {
                Reach::Any => {
                    builder.redirect(reqwest::redirect::Policy::limited(options.max_redirects))
                }
                Reach::Public => builder
                    .redirect(public_redirects(options.max_redirects))
                    .dns_resolver(std::sync::Arc::new(PublicResolver)),
            };
            builder
                .build()
                .map_err(|e| FetchError::Request(e.to_string()))
        };
        Ok(Fetcher {
            clients: [
                [build(false, Reach::Any)?, build(false, Reach::Public)?],
                [build(true, Reach::Any)?, build(true, Reach::Public)?],
            ],
            options,
            hosts: Default::default(),
        })
    }

    /// Fetches an address the admin gave (anywhere).
    pub async fn get(&self, url: &Url, req: &Request<'_>) -> Result<Fetched, FetchError> {
        self.get_within(url, req, Reach::Any).await
    }

    /// Fetches an address, refusing what `reach` does not allow before any connection is made.
    pub async fn get_within(
        &self,
        url: &Url,
        req: &Request<'_>,
        reach: Reach,
    ) -> Result<Fetched, FetchError> {
        if reach == Reach::Public {
            check_public_url(url)?;
        }
        let host = url.host_str().unwrap_or("").to_owned();
        let gate = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts
                .entry(host)
                .or_insert_with(|| std::sync::Arc::new(tokio::sync::Semaphore::new(PER_HOST)))
                .clone()
        };
        let turn = gate
            .acquire_owned()
            .await
            .map_err(|e| FetchError::Request(e.to_string()))?;
        let result = self.get_now(url, req, reach).await;
        // hyper hands a finished connection back to its pool from a task of its own, a moment
        // after the body's last byte: a request to the host started in that moment finds the
        // pool empty and opens a third connection. The host's next turn waits for that moment
        // (the caller does not).
        tokio::spawn(async move {
            tokio::time::sleep(POOL_SETTLE).await;
            drop(turn);
        });
        result
    }

    async fn get_now(
        &self,
        url: &Url,
        req: &Request<'_>,
        reach: Reach,
    ) -> Result<Fetched, FetchError> {
        let client = &self.clients[usize::from(req.insecure_tls)][match reach {
            Reach::Any => 0,
            Reach::Public => 1,
        }];
        let headers = request_headers(req)?;
        let conditional = headers.contains_key(header::IF_NONE_MATCH)
            || headers.contains_key(header::IF_MODIFIED_SINCE);
        let response = client
            .get(url.clone())
            .headers(headers)
            .send()
            .await
            .map_err(FetchError::from_reqwest)?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            // RFC 9110 15.4.5: 304 answers a conditional GET. One to a plain GET (a CDN or a
            // site stuck on it) would otherwise read as "unchanged" for ever: no items, a
            // fresh last success, never stale and never told.
            return if conditional {
                Ok(Fetched::NotModified)
            } else {
                Err(FetchError::UnaskedNotModified)
            };
        }
        if !status.is_success() {
            let code = status.as_u16();
            let asked = matches!(code, 429 | 503)
                .then(|| response.headers().get(header::RETRY_AFTER))
                .flatten()
                .and_then(|value| retry_after_secs(value.to_str().ok()?, SystemTime::now()));
            return Err(match asked {
                Some(secs) => FetchError::StatusWait(code, secs),
                None => FetchError::Status(code),
            });
        }
        let final_url = response.url().clone();
        let headers = response.headers().clone();
        let (body, large) = self.read_capped(response).await?;
        let (body, large) = self.decompress(body, large, &headers, url).await?;
        let header_str = |name: HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header_str(header::CONTENT_TYPE);
        Ok(Fetched::Page(Box::new(Page {
            url: final_url,
            text: decode(&body, content_type.as_deref()),
            large,
            body_hash: Sha256::digest(&body).into(),
            etag: header_str(header::ETAG),
            last_modified: header_str(header::LAST_MODIFIED),
            content_type,
        })))
    }

    /// The body, at most `max_body` bytes (after decompression), and the large page's slot
    /// when it is one: taken before the body grows past [`LARGE_PAGE_BYTES`].
    async fn read_capped(
        &self,
        response: reqwest::Response,
    ) -> Result<(Vec<u8>, Option<LargePage>), FetchError> {
        let cap = self.options.max_body;
        let url = response.url().clone();
        let announced = response.content_length().map(|n| n as usize);
        // A compressed body's length says nothing of the text's; a plain one's is exact.
        let compressed = response.headers().contains_key(header::CONTENT_ENCODING);
        let mut large = None;
        let mut body = Vec::new();
        if let Some(n) = announced.filter(|_| !compressed) {
            if n > LARGE_PAGE_BYTES {
                large = Some(LargePage::acquire().await?);
            }
            body.reserve_exact(n.min(cap));
        }
        let mut stream = response.bytes_stream();
        let mut first = true;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(FetchError::from_reqwest)?;
            // Over the cap by its announced length: refused at once, unless it is a feed.
            if std::mem::take(&mut first)
                && announced.is_some_and(|n| n > cap)
                && !looks_like_feed(&chunk)
            {
                return Err(FetchError::TooLarge(cap));
            }
            let len = body.len() + chunk.len();
            if len > cap {
                if !looks_like_feed(if body.is_empty() { &chunk } else { &body }) {
                    return Err(FetchError::TooLarge(cap));
                }
                body.extend_from_slice(&chunk[..cap - body.len()]);
                tracing::warn!(url = %without_userinfo(&url), max_body = cap, "the feed is larger than the cap: it is read up to the cap, its entries past it are left unread");
                break;
            }
            if len > LARGE_PAGE_BYTES && large.is_none() {
                large = Some(LargePage::acquire().await?);
                // Room up to the cap at once rather than doubling past it: pages not written
                // cost no memory.
                body.reserve_exact(cap - body.len());
            }
            body.extend_from_slice(&chunk);
        }
        body.shrink_to_fit();
        Ok((body, large))
    }

    /// The body with its `Content-Encoding` undone (codings in the reverse of their order), at
    /// most `max_body` bytes; the large page's slot is taken before the text grows past
    /// [`LARGE_PAGE_BYTES`]. A body that is not in the coding its label names (no gzip magic;
    /// a deflate or brotli stream that fails at once on what reads as a text document) is read
    /// as it came, with a note in the log, as feed readers do.
    async fn decompress(
        &self,
        mut body: Vec<u8>,
        mut large: Option<LargePage>,
        headers: &HeaderMap,
        url: &Url,
    ) -> Result<(Vec<u8>, Option<LargePage>), FetchError> {
        let codings: Vec<String> = headers
            .get_all(header::CONTENT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|c| c.trim().to_ascii_lowercase())
            .filter(|c| !c.is_empty() && c != "identity")
            .collect();
        for coding in codings.iter().rev() {
            let Some(coding) = Coding::named(coding) else {
                tracing::info!(url = %without_userinfo(url), coding, "unknown Content-Encoding: body read as it came");
                continue;
            };
            if !coding.may_be(&body) {
                tracing::info!(url = %without_userinfo(url), ?coding, "body labelled so is not: read as it came");
                continue;
            }
            match self.inflate(coding, &body, &mut large, url).await {
                Ok(out) => body = out,
                Err(Inflate::TooLarge) => return Err(FetchError::TooLarge(self.options.max_body)),
                Err(Inflate::Broken(_)) if coding.no_magic() && looks_like_text(&body) => {
                    tracing::info!(url = %without_userinfo(url), ?coding, "body labelled so is not: read as it came");
                }
                Err(Inflate::Broken(e)) => {
                    return Err(FetchError::Decode(format!("{} body: {e}", coding.name())));
                }
            }
        }
        Ok((body, large))
    }

    /// `raw` decoded in `coding`, in steps of 64 KiB, up to `max_body` bytes.
    async fn inflate(
        &self,
        coding: Coding,
        raw: &[u8],
        large: &mut Option<LargePage>,
        url: &Url,
    ) -> Result<Vec<u8>, Inflate> {
        use std::io::Read;
        let cap = self.options.max_body;
        let mut reader: Box<dyn Read + Send + '_> = match coding {
            Coding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(raw)),
            Coding::Deflate if is_zlib_header(raw) => Box::new(flate2::read::ZlibDecoder::new(raw)),
            Coding::Deflate => Box::new(flate2::read::DeflateDecoder::new(raw)),
            Coding::Brotli => Box::new(brotli::Decompressor::new(raw, 1 << 16)),
        };
        let mut out = Vec::new();
        let mut step = vec![0u8; 1 << 16];
        loop {
            let n = match reader.read(&mut step) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Inflate::Broken(e.to_string())),
            };
            if out.len() + n > cap {
                if !looks_like_feed(&out) {
                    return Err(Inflate::TooLarge);
                }
                out.extend_from_slice(&step[..cap - out.len()]);
                tracing::warn!(url = %without_userinfo(url), max_body = cap, "the feed is larger than the cap once decompressed: it is read up to the cap, its entries past it are left unread");
                break;
            }
            if out.len() + n > LARGE_PAGE_BYTES && large.is_none() {
                *large = Some(
                    LargePage::acquire()
                        .await
                        .map_err(|e| Inflate::Broken(e.to_string()))?,
                );
            }
            out.extend_from_slice(&step[..n]);
        }
        out.shrink_to_fit();
        Ok(out)
    }
}

/// The content codings herald asks for (`Accept-Encoding`) and undoes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coding {
    Gzip,
    /// zlib-wrapped (RFC 9110) or raw (what some servers send): told by the zlib header.
    Deflate,
    Brotli,
}

impl Coding {
    fn named(name: &str) -> Option<Coding> {
        match name {
            "gzip" | "x-gzip" => Some(Coding::Gzip),
            "deflate" => Some(Coding::Deflate),
            "br" => Some(Coding::Brotli),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "br",
        }
    }

    /// A coding whose streams have no magic bytes to check first (raw deflate, brotli).
    fn no_magic(self) -> bool {
        !matches!(self, Coding::Gzip)
    }

    /// Whether `body` can be in this coding, as far as its first bytes tell: an empty body or
    /// one without the gzip magic is in no coding at all.
    fn may_be(self, body: &[u8]) -> bool {
        match self {
            Coding::Gzip => body.starts_with(&[0x1f, 0x8b]),
            Coding::Deflate | Coding::Brotli => !body.is_empty(),
        }
    }
}

/// Whether a body opens as an XML feed (RSS, RDF or Atom root, after an optional BOM, XML
/// declaration, comments and doctype). A feed over the size cap is read up to the cap (its
/// reader keeps the whole entries before the cut), while any other page over it is refused.
fn looks_like_feed(body: &[u8]) -> bool {
    let head = &body[..body.len().min(4096)];
    let mut rest = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    loop {
        rest = rest.trim_ascii_start();
        let skip = if rest.starts_with(b"<?") {
            b"?>".as_slice()
        } else if rest.starts_with(b"<!--") {
            b"-->".as_slice()
        } else if rest.starts_with(b"<!") {
            b">".as_slice()
        } else {
            break;
        };
        match rest.windows(skip.len()).position(|w| w == skip) {
            Some(at) => rest = &rest[at + skip.len()..],
            None => return false,
        }
    }
    let root: Vec<u8> = rest
        .get(1..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| !b.is_ascii_whitespace() && **b != b'>' && **b != b'/')
        .map(u8::to_ascii_lowercase)
        .collect();
    rest.starts_with(b"<")
        && matches!(
            root.rsplit(|b| *b == b':').next().unwrap_or_default(),
            b"rss" | b"rdf" | b"feed" | b"channel"
        )
}

/// Why a body could not be decompressed.
enum Inflate {
    TooLarge,
    Broken(String),
}

/// Whether `raw` opens with a zlib header (RFC 1950): method 8 (deflate), a window of at most
/// 32 KiB, and the check bits that make the first two bytes a multiple of 31.
fn is_zlib_header(raw: &[u8]) -> bool {
    match raw {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

/// Whether `body` opens the way a text document does: a byte-order mark, or (after blanks) `<`
/// or `{`.
fn looks_like_text(body: &[u8]) -> bool {
    if body.starts_with(b"\xEF\xBB\xBF")
        || body.starts_with(b"\xFF\xFE")
        || body.starts_with(b"\xFE\xFF")
    {
        return true;
    }
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    start.is_some_and(|at| matches!(body[at], b'<' | b'{'))
}

fn request_headers(req: &Request<'_>) -> Result<HeaderMap, FetchError> {
    let mut map = HeaderMap::new();
    let value = |v: &str| {
        HeaderValue::from_str(v).map_err(|e| FetchError::Request(format!("header value: {e}")))
    };
    map.insert(header::USER_AGENT, value(req.user_agent)?);
    map.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("gzip, deflate, br"),
    );
    map.insert(
        header::ACCEPT,
        HeaderValue::from_static(
            "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/feed+json,application/xml;q=0.9,*/*;q=0.8",
        ),
    );
    if let Some(etag) = req.etag {
        map.insert(header::IF_NONE_MATCH, value(etag)?);
    }
    if let Some(lm) = req.last_modified {
        map.insert(header::IF_MODIFIED_SINCE, value(lm)?);
    }
    for (name, v) in req.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| FetchError::Request(format!("header name `{name}`: {e}")))?;
        map.insert(name, value(v)?);
    }
    Ok(map)
}

impl FetchError {
    /// What a reqwest error means: refused by the address rule, timed out, too many redirects, no
    /// connection, or another request error.
    fn from_reqwest(e: reqwest::Error) -> FetchError {
        // The address is said by whoever reports the failure: reqwest's text would say it again.
        let e = e.without_url();
        if let Some(refused) = find_cause::<Refused>(&e) {
            FetchError::NotAllowed(refused.0.clone())
        } else if e.is_timeout() {
            FetchError::Timeout
        } else if e.is_redirect() {
            FetchError::Redirects
        } else if e.is_decode() {
            FetchError::Decode(root_cause(&e))
        } else if e.is_connect() || e.is_body() || e.is_request() {
            FetchError::Connect(root_cause(&e))
        } else {
            FetchError::Request(root_cause(&e))
        }
    }
}

/// The first error of type `T` in `e`'s chain of causes.
fn find_cause<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        current = err.source();
    }
    None
}

/// Why [`Reach::Public`] refused an address.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

/// Whether `ip` is a public unicast address: not loopback, private (RFC 1918, IPv6 unique
/// local), link-local (which holds the cloud metadata address 169.254.169.254), shared (CGNAT),
/// unspecified, broadcast, multicast, documentation or reserved; IPv4-mapped IPv6 is judged as
/// the IPv4 address it carries.
pub fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// Refuses a URL [`Reach::Public`] must not fetch, as far as the URL alone tells: a scheme other
/// than http(s), or a host written as a non-public IP address (names are judged once resolved).
fn check_public_url(url: &Url) -> Result<(), FetchError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::NotAllowed(format!(
            "{}: only http and https addresses are followed",
            url.scheme()
        )));
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => std::net::IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => std::net::IpAddr::V6(ip),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err(FetchError::NotAllowed("no host".into())),
    };
    if is_public(ip) {
        Ok(())
    } else {
        Err(FetchError::NotAllowed(format!(
            "{ip} is not a public address"
        )))
    }
}

/// Redirects for [`Reach::Public`]: each hop is checked like the first address.
fn public_redirects(max: usize) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= max {
            return attempt.error(Refused(format!("more than {max} redirects")));
        }
        match check_public_url(attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(e) => {
                let reason = format!("redirect to {}: {e}", without_userinfo(attempt.url()));
                attempt.error(Refused(reason))
            }
        }
    })
}

/// A resolver that answers only with public addresses, so a name that points at the host's own
/// network (or is made to, between two lookups) is refused at connection time.
struct PublicResolver;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let all: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<std::net::SocketAddr> =
                all.iter().copied().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                let reason = match all.first() {
                    Some(a) => format!("{host} resolves to {}, not a public address", a.ip()),
                    None => format!("{host} has no address"),
                };
                return Err(Box::new(Refused(reason)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether a source's own host is on a private network (an intranet site, or a test double on
/// loopback): then the addresses on its pages may be private too.
pub async fn host_is_private(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => !is_public(ip.into()),
        Some(url::Host::Ipv6(ip)) => !is_public(ip.into()),
        Some(url::Host::Domain(name)) => {
            let port = url.port_or_known_default().unwrap_or(80);
            match tokio::net::lookup_host((name, port)).await {
                Ok(addrs) => addrs.into_iter().any(|a| !is_public(a.ip())),
                Err(_) => false,
            }
        }
        None => false,
    }
}

/// reqwest's own message is often just "error sending request"; the cause says what happened.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        msg = format!("{msg}: {inner}");
        source = inner.source();
    }
    msg
}

/// The seconds a `Retry-After` value asks for (RFC 9110 10.2.3): a number of seconds, or an
/// HTTP date (a date already past asks for none). Anything else is not read.
fn retry_after_secs(value: &str, now: SystemTime) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).map_or(0, |left| left.as_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::utf8_header("Привет".as_bytes().to_vec(), Some("text/html; charset=utf-8"), "Привет")]
    #[case::cp1251_meta_only(
        [b"<html><head><meta charset=\"windows-1251\"></head><body>".as_slice(), &encoding_rs::WINDOWS_1251.encode("Президент").0, b"</body>"].concat(),
        Some("text/html"),
        "Президент"
    )]
    #[case::cp1251_http_equiv(
        [b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">".as_slice(), &encoding_rs::WINDOWS_1251.encode("Астана").0].concat(),
        None,
        "Астана"
    )]
    #[case::koi8r_meta_only(
        [b"<html><head><meta charset=\"koi8-r\"></head><body>".as_slice(), &encoding_rs::KOI8_R.encode("Глава государства").0].concat(),
        Some("text/html"),
        "Глава государства"
    )]
    #[case::koi8r_guessed(
        encoding_rs::KOI8_R.encode("Глава государства провёл совещание по вопросам экономики и торговли").0.to_vec(),
        None,
        "Глава государства провёл совещание"
    )]
    #[case::xml_declaration(
        [b"<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss>".as_slice(), &encoding_rs::WINDOWS_1251.encode("Акорда").0].concat(),
        None,
        "Акорда"
    )]
    #[case::bom_wins_over_header(
        [b"\xEF\xBB\xBF".as_slice(), "Қазақстан".as_bytes()].concat(),
        Some("text/html; charset=iso-8859-1"),
        "Қазақстан"
    )]
    #[case::guessed_without_any_label(
        encoding_rs::WINDOWS_1251.encode("Президент Республики Казахстан провёл встречу с делегацией").0.to_vec(),
        None,
        "Президент Республики Казахстан провёл встречу с делегацией"
    )]
    fn decodes(#[case] body: Vec<u8>, #[case] ct: Option<&str>, #[case] expected: &str) {
        assert!(
            decode(&body, ct).contains(expected),
            "{}",
            decode(&body, ct)
        );
    }

    #[rstest]
    #[case::public_v4("93.184.216.34", true)]
    #[case::loopback("127.0.0.1", false)]
    #[case::private_10("10.1.2.3", false)]
    #[case::private_172("172.16.0.1", false)]
    #[case::private_192("192.168.1.1", false)]
    #[case::metadata("169.254.169.254", false)]
    #[case::cgnat("100.64.0.1", false)]
    #[case::unspecified("0.0.0.0", false)]
    #[case::zero_net("0.1.2.3", false)]
    #[case::broadcast("255.255.255.255", false)]
    #[case::public_v6("2a00:1450:4001:81c::200e", true)]
    #[case::loopback_v6("::1", false)]
    #[case::ula("fd00::1", false)]
    #[case::link_local_v6("fe80::1", false)]
    #[case::mapped_loopback("::ffff:127.0.0.1", false)]
    #[case::mapped_public("::ffff:93.184.216.34", true)]
    fn public_addresses(#[case] ip: &str, #[case] public: bool) {
        assert_eq!(is_public(ip.parse().unwrap()), public, "{ip}");
    }

    #[rstest]
    #[case::file("file:///etc/passwd")]
    #[case::ftp("ftp://example.org/x")]
    #[case::loopback("http://127.0.0.1:8080/admin")]
    #[case::metadata("http://169.254.169.254/latest/meta-data/")]
    #[case::ipv6("http://[::1]/")]
    #[case::decimal_ip("http://2130706433/")]
    fn public_reach_refuses_before_connecting(#[case] url: &str) {
        let url = Url::parse(url).unwrap();
        assert!(
            matches!(check_public_url(&url), Err(FetchError::NotAllowed(_))),
            "{url}"
        );
    }

    #[test]
    fn a_wrong_utf8_header_loses_to_the_bytes() {
        let body = [
            b"<html><body><p>".as_slice(),
            &encoding_rs::WINDOWS_1251
                .encode("Глава государства провёл совещание по вопросам экономики")
                .0,
        ]
        .concat();
        let text = decode(&body, Some("text/html; charset=utf-8"));
        assert!(text.contains("Глава государства"), "{text}");
    }

    #[test]
    fn invalid_utf8_does_not_fail() {
        let text = decode(b"abc \xff\xfe def", Some("text/html; charset=utf-8"));
        assert!(text.starts_with("abc "));
    }

    /// A feed in windows-1251, as the red team's g3 and g8 carry it.
    fn feed() -> Vec<u8> {
        let text = "<?xml version=\"1.0\" encoding=\"windows-1251\"?>\n<rss version=\"2.0\"><channel>\
                    <title>Новости</title><item><title>Президент провёл совещание</title>\
                    <link>http://example.com/ru/1</link></item></channel></rss>";
        encoding_rs::WINDOWS_1251.encode(text).0.into_owned()
    }

    fn zlib(body: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(body).unwrap();
        e.finish().unwrap()
    }

    fn raw_deflate(body: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(body).unwrap();
        e.finish().unwrap()
    }

    fn gzip(body: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(body).unwrap();
        e.finish().unwrap()
    }

    fn brotli(body: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut out = Vec::new();
        {
            let mut e = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            e.write_all(body).unwrap();
        }
        out
    }

    /// Serves `body` once per request, labelled with `coding`, and answers with what herald
    /// made of it (a fetcher capped at `max_body` bytes).
    async fn fetch_coded(
        coding: &'static str,
        body: Vec<u8>,
        max_body: usize,
    ) -> Result<Fetched, FetchError> {
        use axum::response::IntoResponse;
        let app = axum::Router::new().route(
            "/feed",
            axum::routing::get(move |headers: HeaderMap| async move {
                // Compressed answers go only to who asks for them.
                let asked = headers
                    .get(header::ACCEPT_ENCODING)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let body = if ["gzip", "deflate", "br"].iter().all(|c| asked.contains(c)) {
                    body
                } else {
                    format!("<asked>{asked}</asked>").into_bytes()
                };
                let mut response = body.into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/xml"),
                );
                if coding != "none" {
                    response
                        .headers_mut()
                        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
                }
                response
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let fetcher = Fetcher::new(FetcherOptions {
            max_body,
            ..FetcherOptions::default()
        })
        .unwrap();
        let url = Url::parse(&format!("http://{addr}/feed")).unwrap();
        let request = Request {
            user_agent: "herald-test",
            ..Request::default()
        };
        let result = fetcher.get(&url, &request).await;
        server.abort();
        result
    }

    /// What `fetcher.get` makes of the one route `/feed` of `app`, served on loopback.
    async fn fetch_from(app: axum::Router, request: Request<'_>) -> Result<Fetched, FetchError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let fetcher = Fetcher::new(FetcherOptions::default()).unwrap();
        let url = Url::parse(&format!("http://{addr}/feed")).unwrap();
        let result = fetcher.get(&url, &request).await;
        server.abort();
        result
    }

    /// The red team (F3): a server that answers 304 to everything made a source "unchanged"
    /// for ever. A 304 is unchanged only when the request named a version; otherwise it is a
    /// failed fetch.
    #[rstest]
    #[case::plain(None, None, false)]
    #[case::etag(Some("\"v1\""), None, true)]
    #[case::last_modified(None, Some("Mon, 07 Dec 2026 10:00:00 GMT"), true)]
    #[tokio::test]
    async fn a_304_is_unchanged_only_for_a_conditional_request(
        #[case] etag: Option<&str>,
        #[case] last_modified: Option<&str>,
        #[case] unchanged: bool,
    ) {
        let app = axum::Router::new().route(
            "/feed",
            axum::routing::get(|| async { reqwest::StatusCode::NOT_MODIFIED }),
        );
        let request = Request {
            user_agent: "herald-test",
            etag,
            last_modified,
            ..Request::default()
        };
        match fetch_from(app, request).await {
            Ok(Fetched::NotModified) => assert!(unchanged, "a plain GET's 304 read as unchanged"),
            Err(FetchError::UnaskedNotModified) => assert!(!unchanged, "a conditional 304 refused"),
            other => panic!("{other:?}"),
        }
    }

    /// A 429 or 503 saying how long to wait is kept with its wait (the source's next poll is not
    /// sooner: `app::backoff`'s caller); other statuses and unreadable values are plain statuses.
    #[rstest]
    #[case::seconds(429, "120", Some(120))]
    #[case::date_ahead(503, "Fri, 01 Jan 2100 00:00:00 GMT", None)]
    #[case::date_past(503, "Mon, 07 Dec 2020 10:00:00 GMT", Some(0))]
    #[case::not_a_wait(429, "soon", None)]
    #[case::other_status(500, "120", None)]
    #[tokio::test]
    async fn a_retry_after_on_429_or_503_is_kept(
        #[case] status: u16,
        #[case] value: &'static str,
        #[case] secs: Option<u64>,
    ) {
        let app = axum::Router::new().route(
            "/feed",
            axum::routing::get(move || async move {
                (
                    reqwest::StatusCode::from_u16(status).unwrap(),
                    [(header::RETRY_AFTER, value)],
                )
            }),
        );
        let request = Request {
            user_agent: "herald-test",
            ..Request::default()
        };
        match (fetch_from(app, request).await, secs) {
            (Err(FetchError::StatusWait(code, got)), Some(want)) => {
                assert_eq!((code, got), (status, want));
            }
            (Err(FetchError::StatusWait(code, got)), None) => {
                // A date far ahead is a long wait, not none.
                assert!(
                    value.contains("2100") && code == status && got > 1 << 30,
                    "{got}"
                );
            }
            (Err(FetchError::Status(code)), None) => assert_eq!(code, status),
            (other, _) => panic!("{other:?}"),
        }
    }

    fn text_of(fetched: Result<Fetched, FetchError>) -> String {
        match fetched {
            Ok(Fetched::Page(page)) => page.text,
            other => panic!("no page: {other:?}"),
        }
    }

    #[rstest]
    #[case::zlib_deflate("deflate", zlib(&feed()))]
    #[case::raw_deflate("deflate", raw_deflate(&feed()))]
    #[case::gzip("gzip", gzip(&feed()))]
    #[case::x_gzip("x-gzip", gzip(&feed()))]
    #[case::gzip_twice("gzip, gzip", gzip(&gzip(&feed())))]
    #[case::brotli("br", brotli(&feed()))]
    #[case::gzip_label_on_plain("gzip", feed())]
    #[case::deflate_label_on_plain("deflate", feed())]
    #[case::brotli_label_on_plain("br", feed())]
    #[case::unknown_label_on_plain("compress", feed())]
    #[tokio::test]
    async fn every_coding_and_a_wrong_label_are_read(
        #[case] coding: &'static str,
        #[case] body: Vec<u8>,
    ) {
        let text = text_of(fetch_coded(coding, body, 1 << 20).await);
        assert!(
            text.contains("<title>Президент провёл совещание</title>"),
            "{coding}: {text}"
        );
    }

    /// A failed connection says what failed, not the address again: whoever reports it names
    /// the address ("fetch URL: connection failed: …").
    #[tokio::test]
    async fn a_failed_connection_does_not_repeat_the_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let fetcher = Fetcher::new(FetcherOptions::default()).unwrap();
        let url = Url::parse(&format!("http://{addr}/feed")).unwrap();
        let request = Request {
            user_agent: "herald-test",
            ..Request::default()
        };
        let error = fetcher.get(&url, &request).await.unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, FetchError::Connect(_)), "{error:?}");
        assert!(!text.contains(&addr.to_string()), "{text}");
    }

    #[rstest]
    #[case::gzip_cut_short("gzip", { let g = gzip(&feed()); g[..g.len() / 2].to_vec() })]
    #[case::gzip_garbled("gzip", { let mut g = gzip(&feed()); g[12..40].fill(0xff); g })]
    #[case::zlib_garbled("deflate", { let mut z = zlib(&feed()); z[2..30].fill(0xff); z })]
    #[case::brotli_garbled("br", { let mut b = brotli(&feed()); b[..20].fill(0xff); b })]
    #[tokio::test]
    async fn a_body_that_does_not_decompress_is_a_decoding_failure(
        #[case] coding: &'static str,
        #[case] body: Vec<u8>,
    ) {
        let error = fetch_coded(coding, body, 1 << 20).await.unwrap_err();
        assert!(
            matches!(error, FetchError::Decode(_)),
            "{coding}: {error:?}"
        );
        assert!(
            error.to_string().starts_with("body not decoded: "),
            "{error}"
        );
    }

    #[rstest]
    #[case::gzip("gzip", gzip(&vec![b' '; 3 << 20]))]
    #[case::raw_deflate("deflate", raw_deflate(&vec![b' '; 3 << 20]))]
    #[case::brotli("br", brotli(&vec![b' '; 3 << 20]))]
    #[tokio::test]
    async fn decompression_stops_at_the_body_cap(
        #[case] coding: &'static str,
        #[case] body: Vec<u8>,
    ) {
        let error = fetch_coded(coding, body, 2 << 20).await.unwrap_err();
        assert!(
            matches!(error, FetchError::TooLarge(n) if n == 2 << 20),
            "{error:?}"
        );
    }

    /// A feed of `n` entries of about 100 bytes each.
    fn long_feed(n: usize) -> Vec<u8> {
        let mut feed = String::from(
            "<?xml version=\"1.0\"?>\n<!-- big -->\n<rss version=\"2.0\"><channel><title>T</title>",
        );
        for i in 0..n {
            feed.push_str(&format!(
                "<item><title>Entry {i}</title><link>https://ex.org/{i}</link><description>Text {i}.</description></item>\n"
            ));
        }
        feed.push_str("</channel></rss>");
        feed.into_bytes()
    }

    /// A feed over the body cap is read up to the cap (plain or decompressed); any other page
    /// over the cap is refused.
    #[rstest]
    #[case::plain("none", long_feed(40_000))]
    #[case::gzip("gzip", gzip(&long_feed(40_000)))]
    #[tokio::test]
    async fn a_feed_over_the_cap_is_read_up_to_it(
        #[case] coding: &'static str,
        #[case] body: Vec<u8>,
    ) {
        let cap = 1 << 20;
        let text = text_of(fetch_coded(coding, body, cap).await);
        assert_eq!(text.len(), cap);
        assert!(text.starts_with("<?xml"), "{}", &text[..40]);
        // Its reader keeps the whole entries before the cut (tests/it/upstream_feeds.rs,
        // `a_feed_cut_short_keeps_its_whole_entries`).
        let page = [b"<html><body>".as_slice(), &vec![b'x'; 2 << 20]].concat();
        let error = fetch_coded("none", page, cap).await.unwrap_err();
        assert!(matches!(error, FetchError::TooLarge(_)), "{error:?}");
    }

    #[test]
    fn feeds_are_told_by_their_root() {
        assert!(looks_like_feed(
            b"\xef\xbb\xbf<?xml version=\"1.0\"?><!DOCTYPE rss><rss>"
        ));
        assert!(looks_like_feed(
            b"<feed xmlns=\"http://www.w3.org/2005/Atom\">"
        ));
        assert!(looks_like_feed(b"<rdf:RDF xmlns:rdf=\"x\">"));
        assert!(!looks_like_feed(b"<!DOCTYPE html><html>"));
        assert!(!looks_like_feed(b"{\"items\": []}"));
    }
}
