//! The subscribe page `/` and the OPML list `/opml`.
//!
//! The page is plain HTML with one inline stylesheet, allowed by its hash in the page's Content
//! Security Policy; no script, no external assets. Everything from the config or a source is
//! escaped, and only http(s) addresses become links.

use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use super::feeds::Format;
use super::{ServerState, lock};
use crate::config::{ChatRef, Config, Source};
use crate::model::Item;
use crate::render::{escape_html, xml_safe};
use crate::shared::Shared;
use crate::store::{SourceState, StoreError};
use crate::text::address_without_userinfo;

/// Newest items listed under each source.
const NEWEST: usize = 5;
/// The page is rebuilt at most this often while no feed changed (it shows health, which
/// changes without a feed changing).
const PAGE_MAX_AGE: Duration = Duration::from_secs(5);

const STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #1d232b; --muted: #5b6470; --bg: #f6f7f9; --card: #fff;
  --line: #dde1e6; --accent: #0b5cad; --ok: #1c7c3a; --bad: #b3261e; --warn: #8a5a00; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ed; --muted: #a3acb7; --bg: #14171b;
  --card: #1d2126; --line: #343a42; --accent: #7db4ff; --ok: #6fcf8f; --bad: #ff8a80; --warn: #f0c060; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 60rem; margin: 0 auto; padding: 1rem 1.25rem; }
header h1 { margin: .5rem 0 .25rem; font-size: 1.75rem; }
header p, footer { color: var(--muted); }
a { color: var(--accent); }
a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.all { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .75rem 0 0; }
main { display: grid; gap: 1rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: .75rem; padding: 1rem 1.25rem; }
section h2 { margin: 0 0 .25rem; font-size: 1.25rem; }
.meta { margin: 0 0 .75rem; color: var(--muted); font-size: .9rem; }
.status { font-weight: 600; }
.status.ok { color: var(--ok); } .status.failing { color: var(--bad); } .status.other { color: var(--warn); }
.subscribe { display: flex; flex-wrap: wrap; gap: .5rem; margin: 0 0 .75rem; padding: 0; list-style: none; }
.subscribe a, .all a { display: inline-block; padding: .3rem .75rem; border: 1px solid var(--line);
  border-radius: 999px; text-decoration: none; font-weight: 600; font-size: .9rem; }
.subscribe a:hover, .all a:hover { border-color: var(--accent); }
ol { margin: 0; padding-left: 1.25rem; }
li { margin: .25rem 0; }
li time { color: var(--muted); font-size: .85rem; margin-left: .35rem; white-space: nowrap; }
.empty { color: var(--muted); margin: 0; }
"#;

/// `Content-Security-Policy` of the page: nothing may load or run but the page's own stylesheet.
fn content_security_policy() -> &'static HeaderValue {
    static CSP: OnceLock<HeaderValue> = OnceLock::new();
    CSP.get_or_init(|| {
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
        HeaderValue::from_str(&format!(
            "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; \
             form-action 'none'; frame-ancestors 'none'"
        ))
        .expect("base64 is a valid header")
    })
}

/// The last page built, with the feed version it saw and when.
#[derive(Default)]
pub(super) struct PageCache(Mutex<Option<(u64, Instant, Bytes)>>);

pub(super) async fn index(State(state): State<ServerState>) -> Response {
    let stamp = state.shared.versions.stamp("all");
    let cached = lock(&state.page.0)
        .as_ref()
        .filter(|(s, at, _)| *s == stamp && at.elapsed() < PAGE_MAX_AGE)
        .map(|(_, _, page)| page.clone());
    let page = match cached {
        Some(page) => page,
        None => {
            let shared = state.shared.clone();
            match tokio::task::spawn_blocking(move || page(&shared)).await {
                Ok(Ok(page)) => {
                    let page = Bytes::from(page);
                    *lock(&state.page.0) = Some((stamp, Instant::now(), page.clone()));
                    page
                }
                _ => {
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "the store is unavailable\n",
                    )
                        .into_response();
                }
            }
        }
    };
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            content_security_policy().clone(),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    (headers, page).into_response()
}

/// An address fit for `href`: http(s) only (no `javascript:`, `data:` or relative surprises),
/// without user name and password ([`address_without_userinfo`]), escaped.
fn href(url: &str) -> Option<String> {
    let parsed = url::Url::parse(&address_without_userinfo(url)).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| escape(parsed.as_str()))
}

fn time_tag(time: DateTime<Utc>, zone: Tz, with_clock: bool) -> String {
    let local = time.with_timezone(&zone);
    let shown = if with_clock {
        crate::timefmt::show(time, zone)
    } else {
        local.format("%-d %b %Y").to_string()
    };
    format!(
        "<time datetime=\"{}\">{shown}</time>",
        time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

/// What the page says about a source's health, and the class that colours it: `/healthz`'s
/// verdict ([`super::source_verdict`]) in words. Not ok is never "ok".
fn status(state: &SourceState, verdict: &super::SourceVerdict) -> (String, &'static str) {
    let paused = if state.paused { "paused, " } else { "" };
    let n = state.consecutive_failures;
    if n > 0 {
        let text = if n == 1 {
            format!("{paused}failing (1 failure)")
        } else {
            format!("{paused}failing ({n} failures in a row)")
        };
        (text, "failing")
    } else if verdict.schedule_ended.is_some() {
        (format!("{paused}schedule ended: no more polls"), "failing")
    } else if verdict.overdue.is_some() {
        (format!("{paused}poll overdue"), "failing")
    } else if !verdict.ok {
        // A reason `/healthz` adds and this page does not know yet: not ok, all the same.
        (format!("{paused}not ok (see /healthz)"), "failing")
    } else if state.paused {
        ("paused".into(), "other")
    } else if state.last_success.is_none() {
        ("not polled yet".into(), "other")
    } else if state.stale {
        ("ok, but no news for unusually long".into(), "other")
    } else {
        ("ok".into(), "ok")
    }
}

/// The source's public Telegram channels, while delivery is on: without a bot token nothing is
/// ever posted there, and a reader sent to an empty channel would wait for nothing (`/healthz`
/// says `"delivery": "off"`, `check` warns).
fn telegram_links(shared: &Shared, config: &Config, source: &Source) -> String {
    if shared.telegram.is_none() {
        return String::new();
    }
    source
        .channels
        .iter()
        .filter_map(|c| telegram_link(config, c))
        .collect()
}

fn telegram_link(config: &Config, channel_id: &str) -> Option<String> {
    let channel = config.channel(channel_id)?;
    match &channel.chat {
        ChatRef::Username(name) => {
            let bare = name.trim_start_matches('@');
            Some(format!(
                "<li><a href=\"https://t.me/{u}\">Telegram @{u}</a></li>",
                u = escape(bare)
            ))
        }
        // A numeric chat is private or has no public address.
        ChatRef::Id(_) => None,
    }
}

/// Text from the config or the store, for the index page and the OPML file: escaped for an
/// element or an attribute, without the characters XML forbids (a title with a NUL checks
/// clean in an old config; the OPML must still parse).
fn escape(text: &str) -> String {
    escape_html(&xml_safe(text))
}

fn feed_links(base: &str, id: &str, what: &str) -> String {
    let mut out = String::new();
    for format in Format::ALL {
        let _ = write!(
            out,
            "<li><a href=\"{base}/feeds/{id}.{ext}\" type=\"{mime}\" aria-label=\"{what}: {label}\">{label}</a></li>",
            base = escape(base),
            id = escape(id),
            what = escape(what),
            ext = format.ext(),
            mime = format.media_type(),
            label = format.label(),
        );
    }
    out
}

fn source_section(shared: &Shared, config: &Config, source: &Source) -> Result<String, StoreError> {
    let base = config.general.public_url.as_str();
    let items = shared.store.recent(&source.id, NEWEST)?;
    let count = shared.store.count(&source.id)?;
    let state = shared.store.source_state(&source.id)?;
    let (status, class) = status(&state, &super::source_verdict(shared, source, &state));
    let id = escape(&source.id);
    let title = escape(&source.title);
    let lang = escape(&source.language);
    // Never later than the page (an instant claimed a moment ahead, see `store::stamps`).
    let updated = match items
        .iter()
        .map(|i| i.updated)
        .max()
        .map(|t| t.min(Utc::now()))
    {
        Some(t) => format!("updated {}", time_tag(t, source.timezone, true)),
        None => "no items yet".into(),
    };
    let next = match shared.next_poll(&source.id) {
        Some(t) if !state.paused => format!(" · next poll {}", time_tag(t, source.timezone, true)),
        _ => String::new(),
    };
    let page_link = href(&super::site_page(shared, source)?)
        .map(|u| format!(" · <a href=\"{u}\">source page</a>"))
        .unwrap_or_default();
    let mut out = String::new();
    let _ = write!(
        out,
        "<section id=\"source-{id}\" aria-labelledby=\"title-{id}\">\n\
         <h2 id=\"title-{id}\" lang=\"{lang}\" dir=\"auto\">{title}</h2>\n\
         <p class=\"meta\"><span class=\"status {class}\">{status}</span> · {language} ({lang}) · \
         {count} {items_word} · {updated}{next}{page_link}</p>\n\
         <ul class=\"subscribe\" aria-label=\"Subscribe to {title}\">{links}{telegram}</ul>\n",
        status = escape(&status),
        language = escape(crate::lang::name(&source.language)),
        items_word = if count == 1 { "item" } else { "items" },
        links = feed_links(base, &source.id, &source.title),
        telegram = telegram_links(shared, config, source),
    );
    if items.is_empty() {
        out.push_str("<p class=\"empty\">Nothing published yet.</p>\n");
    } else {
        out.push_str("<ol class=\"items\">\n");
        for item in &items {
            out.push_str(&item_line(item, source.timezone));
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</section>\n");
    Ok(out)
}

fn item_line(item: &Item, zone: Tz) -> String {
    let title = escape(&item.title);
    let lang = escape(&item.language);
    let shown = match href(&item.link) {
        // `dir="auto"`: a right-to-left title does not reorder the date beside it.
        Some(link) => format!("<a href=\"{link}\" lang=\"{lang}\" dir=\"auto\">{title}</a>"),
        None => format!("<span lang=\"{lang}\" dir=\"auto\">{title}</span>"),
    };
    format!(
        "<li>{shown} {}</li>\n",
        time_tag(item.published, zone, false)
    )
}

fn page(shared: &Shared) -> Result<String, StoreError> {
    let config = shared.config.get();
    let base = config.general.public_url.as_str();
    let mut discovery = String::new();
    let all = [("all", "All sources")];
    let feeds = all.into_iter().chain(
        config
            .sources
            .iter()
            .map(|s| (s.id.as_str(), s.title.as_str())),
    );
    for (id, title) in feeds {
        for format in Format::ALL {
            let _ = writeln!(
                discovery,
                "<link rel=\"alternate\" type=\"{mime}\" title=\"{title} ({label})\" href=\"{base}/feeds/{id}.{ext}\">",
                mime = format.media_type(),
                label = format.label(),
                title = escape(title),
                base = escape(base),
                id = escape(id),
                ext = format.ext(),
            );
        }
    }
    // The header offers Telegram only when some source shows a public channel's link.
    let shows_telegram = config
        .sources
        .iter()
        .any(|s| !telegram_links(shared, &config, s).is_empty());
    let mut sections = String::new();
    for source in &config.sources {
        sections.push_str(&source_section(shared, &config, source)?);
    }
    if config.sources.is_empty() {
        sections.push_str("<p class=\"empty\">No sources are configured.</p>\n");
    }
    let n = config.sources.len();
    Ok(format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <title>herald — feeds</title>\n{discovery}<style>{STYLE}</style>\n</head>\n<body>\n\
         <header>\n<h1>herald</h1>\n<p>Feeds of {n} {sources_word}, for your feed reader{or_telegram}. \
         Copy a link into your reader, or open it in one.</p>\n\
         <ul class=\"all subscribe\" aria-label=\"Every source in one feed\"><li>All sources:</li>{all_links}\
         <li><a href=\"{base_e}/opml\" type=\"text/x-opml\">OPML</a></li></ul>\n</header>\n\
         <main>\n{sections}</main>\n\
         <footer>Feeds also accept <code>?limit=N</code>, <code>?include=word</code>, \
         <code>?exclude=word</code> and <code>?lang=xx</code>. Served by herald {version}.</footer>\n\
         </body>\n</html>\n",
        sources_word = if n == 1 { "source" } else { "sources" },
        or_telegram = if shows_telegram { " or Telegram" } else { "" },
        all_links = feed_links(base, "all", "All sources"),
        base_e = escape(base),
        version = env!("CARGO_PKG_VERSION"),
    ))
}

pub(super) async fn opml(
    State(state): State<ServerState>,
    request_headers: axum::http::HeaderMap,
) -> Response {
    let shared = state.shared.clone();
    let Ok(Ok(body)) = tokio::task::spawn_blocking(move || opml_text(&shared)).await else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the store is unavailable\n",
        )
            .into_response();
    };
    // Weak: the same list is also sent compressed (per request, by the router's layer).
    let digest = Sha256::digest(body.as_bytes());
    let tag = format!(
        "W/\"{}\"",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..12])
    );
    let tag = HeaderValue::from_str(&tag).expect("base64 is a valid header");
    // As the page: asked again each time, answered 304 while the list is the same.
    let validators = [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, tag.clone()),
    ];
    if matches_none_match(&request_headers, &tag) {
        // A 304 carries its validators only (RFC 9110 §15.4.5), as a feed's does.
        return (StatusCode::NOT_MODIFIED, validators).into_response();
    }
    let content_type = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/x-opml; charset=utf-8"),
    )];
    (content_type, validators, body).into_response()
}

/// Whether `If-None-Match` names `tag` (or is `*`), compared weakly (RFC 9110 §13.1.2).
fn matches_none_match(headers: &axum::http::HeaderMap, tag: &HeaderValue) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let ours = opaque(tag.to_str().unwrap_or_default());
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || opaque(t) == ours)
}

/// The OPML list of every feed; each source's `htmlUrl` is the page its feeds link as their
/// site ([`super::site_page`]).
fn opml_text(shared: &Shared) -> Result<String, StoreError> {
    let config = shared.config.get();
    let base = escape(&config.general.public_url);
    // The merged feed first, as the index page offers it.
    let mut outlines = format!(
        "    <outline type=\"rss\" text=\"All sources\" title=\"All sources\" xmlUrl=\"{base}/feeds/all.rss\" htmlUrl=\"{base}/\"/>\n"
    );
    for s in &config.sources {
        let _ = writeln!(
            outlines,
            "    <outline type=\"rss\" text=\"{t}\" title=\"{t}\" xmlUrl=\"{base}/feeds/{id}.rss\" htmlUrl=\"{home}\" language=\"{lang}\"/>",
            t = escape(&s.title),
            id = escape(&s.id),
            home = escape(&super::site_page(shared, s)?),
            lang = escape(&s.language),
        );
    }
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n  <head>\n    \
         <title>herald feeds</title>\n    <dateModified>{}</dateModified>\n    \
         <docs>http://opml.org/spec2.opml</docs>\n  </head>\n  <body>\n{outlines}  </body>\n</opml>\n",
        // When the running config was taken (at start or by the last reload), not the
        // process's start: a reload may have added sources since.
        shared
            .config_health()
            .last_success
            .unwrap_or(shared.started)
            .to_rfc2822()
    );
    Ok(body)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case::http(
        "https://www.akorda.kz/en/a?b=1&c=2",
        Some("https://www.akorda.kz/en/a?b=1&amp;c=2")
    )]
    #[case::script("javascript:alert(1)", None)]
    #[case::data("data:text/html,<script>alert(1)</script>", None)]
    #[case::vbscript("vbscript:msgbox", None)]
    #[case::relative("/en/a", None)]
    #[case::quote("https://x.org/\"><script>", Some("https://x.org/%22%3E%3Cscript%3E"))]
    #[case::userinfo(
        "http://admin:hunter2@x.org/f?api_key=K",
        Some("http://x.org/f?api_key=K")
    )]
    fn only_web_addresses_become_links(#[case] url: &str, #[case] expected: Option<&str>) {
        assert_eq!(href(url).as_deref(), expected);
    }

    /// A title is the config's text: quotes, markup and characters XML forbids in it must
    /// neither end an attribute nor make the page or the OPML file ill-formed.
    #[test]
    fn a_title_cannot_break_the_markup() {
        let title = "Akorda \"official\" <b>news</b> & more\u{0}\u{7}";
        let links = feed_links("http://127.0.0.1:1", "a", title);
        assert!(
            links.contains(
                "aria-label=\"Akorda &quot;official&quot; &lt;b&gt;news&lt;/b&gt; &amp; more: RSS\""
            ),
            "{links}"
        );
        let mut reader = quick_xml::Reader::from_str(&links);
        let mut elements = 0;
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(quick_xml::events::Event::Start(e)) => {
                    elements += 1;
                    for attribute in e.attributes() {
                        attribute.unwrap();
                    }
                }
                Ok(_) => {}
                Err(e) => panic!("{e}: {links}"),
            }
        }
        assert_eq!(elements, 2 * Format::ALL.len(), "{links}");
        assert_eq!(escape("a\u{0}b\u{1b}c\"d"), "abc&quot;d");
    }

    /// A right-to-left title is isolated (`dir="auto"`): the date after it keeps its place.
    #[test]
    fn a_title_is_shown_in_its_own_direction() {
        let mut item = crate::render::samples::items().remove(0);
        item.title = "مؤتمر صحفي".into();
        let line = item_line(&item, chrono_tz::UTC);
        assert!(line.contains("dir=\"auto\">مؤتمر صحفي</"), "{line}");
    }

    /// The label follows `/healthz`'s verdict: a source polled well once whose schedule has
    /// ended, or whose poll is overdue, is not "ok" on the page either.
    #[rstest]
    #[case::ok(None, None, "ok", "ok")]
    #[case::ended(
        Some("`0 0 0 1 1 * 2020` fires no more"),
        None,
        "schedule ended: no more polls",
        "failing"
    )]
    #[case::overdue(
        None,
        Some("its poll due 700 s ago has not started"),
        "poll overdue",
        "failing"
    )]
    fn the_label_says_what_healthz_says(
        #[case] ended: Option<&str>,
        #[case] overdue: Option<&str>,
        #[case] text: &str,
        #[case] class: &str,
    ) {
        let state = SourceState {
            last_success: Some(Utc::now()),
            ..SourceState::default()
        };
        let verdict = super::super::SourceVerdict {
            ok: ended.is_none() && overdue.is_none(),
            overdue: overdue.map(Into::into),
            schedule_ended: ended.map(Into::into),
        };
        assert_eq!(status(&state, &verdict), (text.to_owned(), class));
        let paused = SourceState {
            paused: true,
            ..state
        };
        let (text, _) = status(&paused, &verdict);
        assert!(text.starts_with("paused"), "{text}");
    }

    #[test]
    fn csp_allows_exactly_the_page_style() {
        let csp = content_security_policy().to_str().unwrap();
        assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"));
        assert!(!csp.contains("script-src"), "no script is allowed at all");
    }
}
