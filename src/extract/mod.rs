//! Extraction: from a fetched page to the releases it shows. `html` reads list pages with the
//! configured selectors, `feed` reads upstream RSS/Atom/JSON Feed (dates are read by
//! [`crate::dates`]).
//! The helpers here are shared by both: canonical links, item keys, clean text, safe HTML.

pub mod article;
pub mod depth;
pub mod elements;
pub mod feed;
pub mod feed_dates;
pub mod html;
pub mod relative;

use regex::Regex;
use std::collections::{HashMap, HashSet};
use url::Url;

/// Item keys read links in the form they always had (see [`crate::model::link_key`]).
pub use crate::model::link_key;

/// Why a page yielded no releases; a fault to report, never "no news".
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The item selector matched nothing: the site was probably redesigned.
    #[error("selector `{0}` matched nothing on the list page")]
    NothingMatched(String),
    /// Items were found, but none had both a title and a link.
    #[error(
        "{found} elements matched `{item}`, but none had a title (`{title}`) and a link (`{link}`)"
    )]
    NoUsableItems {
        found: usize,
        item: String,
        title: String,
        link: String,
    },
    /// Releases were read, but with `require_id` none counts: no link carries the id
    /// `id_pattern` takes (the site changed its addresses, most likely).
    #[error(
        "{found} releases were read, but no link matches `id_pattern` (`{pattern}`), and `require_id` skips those: the site's addresses may have changed"
    )]
    NoIds { found: usize, pattern: String },
    /// The body is not a feed that could be parsed.
    #[error("not a readable RSS/Atom/JSON feed: {0}")]
    NotAFeed(String),
    /// The page nests elements deeper than any real list page (see `depth`).
    #[error(
        "the page nests elements {depth} deep (more than {}): refused, as no real list page does",
        depth::MAX_DEPTH
    )]
    TooDeep { depth: usize },
}

/// HTML's void elements: they never hold others and have no end tag.
pub(crate) fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
            | "keygen"
            | "frame"
    )
}

/// Query parameters that only track the reader and never identify a page.
fn is_tracking_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_")
        || matches!(
            name.as_str(),
            "fbclid"
                | "gclid"
                | "yclid"
                | "dclid"
                | "msclkid"
                | "mc_cid"
                | "mc_eid"
                | "_ga"
                | "_hsenc"
                | "_hsmi"
                | "igshid"
        )
}

/// Query parameters that carry a session id. herald sends no cookies, so a site that keeps
/// sessions in its links (PHP's trans_sid, servlet URL rewriting, ColdFusion) hands it a fresh
/// id on every poll: kept, it would make every release new on every poll.
/// Only names no site uses for its content: `sessionid` and `session_id` also name a
/// conference's sessions (`?session_id=2`), so only a token-like value of theirs goes; `sid`
/// names stories and sections as often as sessions (`?sid=12`, a story's hash) and stays.
fn is_session_param(name: &str, value: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("aspsessionid")
        || matches!(
            name.as_str(),
            "phpsessid" | "jsessionid" | "cfid" | "cftoken"
        )
        || (matches!(name.as_str(), "sessionid" | "session_id") && looks_like_token(value))
}

/// Whether a value looks like a session token: 16 or more letters and digits, of both kinds
/// (a UUID's hyphens aside).
fn looks_like_token(value: &str) -> bool {
    value.len() >= 16
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && value.bytes().any(|b| b.is_ascii_digit())
        && value.bytes().any(|b| b.is_ascii_alphabetic())
}

/// `path` without the session ids a server wrote into it: a servlet's `;jsessionid=…` path
/// parameter, and ASP.NET's cookieless segment (`/(S(…))/`, `/(X(1)S(…))/`). `None` when it
/// has none.
fn path_without_session(path: &str) -> Option<String> {
    let mut changed = false;
    let mut segments = Vec::new();
    for segment in path.split('/') {
        if is_cookieless_segment(segment) {
            changed = true;
            continue;
        }
        // `name;jsessionid=…` (and any path parameters after it) is `name`.
        let lower = segment.to_ascii_lowercase();
        match lower.find(";jsessionid=") {
            Some(at) => {
                changed = true;
                segments.push(&segment[..at]);
            }
            None => segments.push(segment),
        }
    }
    changed.then(|| segments.join("/"))
}

/// ASP.NET's cookieless session segment: `(S(…))`, or several `L(…)` groups one of which is
/// `S(…)`, in parentheses (`(X(1)S(abc)F(def))`).
fn is_cookieless_segment(segment: &str) -> bool {
    let Some(inner) = segment.strip_prefix('(').and_then(|s| s.strip_suffix(')')) else {
        return false;
    };
    let mut rest = inner;
    let mut session = false;
    while !rest.is_empty() {
        let mut chars = rest.chars();
        let (Some(letter), Some('(')) = (chars.next(), chars.next()) else {
            return false;
        };
        if !letter.is_ascii_alphabetic() {
            return false;
        }
        let Some(close) = rest.find(')') else {
            return false;
        };
        let value = &rest[2..close];
        if value.contains('(') {
            return false;
        }
        session |= letter.eq_ignore_ascii_case(&'S') && !value.is_empty();
        rest = &rest[close + 1..];
    }
    session
}

/// Resolves `href` against `base` and canonicalizes it: fragment dropped, tracking and session
/// parameters removed, only http(s) accepted (a `javascript:` or `data:` link is no link at
/// all).
pub fn canonical_link(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let mut url = base.join(href).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    if let Some(path) = path_without_session(url.path()) {
        url.set_path(&path);
    }
    drop_query_parts(&mut url, is_tracking_part);
    Some(url)
}

/// Cuts out of `url`'s query the `name=value` pieces `drop` picks, as written: the others stay
/// byte for byte and in their order (a server may read `?123`, `?x=1;y=2` or `&flag` its own
/// way).
fn drop_query_parts(url: &mut Url, drop: impl Fn(&str) -> bool) {
    let Some(query) = url.query() else {
        return;
    };
    let parts: Vec<&str> = query.split('&').collect();
    let kept: Vec<&str> = parts.iter().copied().filter(|part| !drop(part)).collect();
    if kept.len() < parts.len() {
        let query = kept.join("&");
        if kept.iter().all(|part| part.is_empty()) {
            url.set_query(None);
        } else {
            url.set_query(Some(&query));
        }
    }
}

/// Why a list card's link names no release of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoOwnLink {
    /// Not an http(s) link (`javascript:`, `data:`, `mailto:`), or none at all.
    NotHttp,
    /// The list page itself, at an anchor at most (`#frag-1`).
    ListPage,
}

/// A list card's link, as [`canonical_link`] reads it, unless it names the list page itself
/// (`page`, or the `base` its links resolve against): every card would then be one release. A
/// page that routes by fragment (`#/news/1`, `#!news-1`, a single-page site) has its releases
/// there, so such a fragment is kept, in the item's identity and its link, when it is what
/// tells the release apart: on a link to the list page itself, or on a page other cards of the
/// list link to with other routes (`routed`, see [`routed_pages`]). A route on a link no other
/// card shares stays out (a release stored under the page keeps its identity). Any other
/// fragment on the list page is an anchor there, and the card has no link of its own.
/// A session parameter the page wrote into its links ([`PageLinks`]) is no part of the link.
pub fn card_link(page: &Url, base: &Url, href: &str, links: &PageLinks) -> Result<Url, NoOwnLink> {
    let mut link = canonical_link(base, href).ok_or(NoOwnLink::NotHttp)?;
    let names = |list: &Url| canonical_link(list, list.as_str()).is_some_and(|l| l == link);
    let on_list = names(page) || names(base);
    if on_list || links.routed.contains(&link) {
        match route_of(base, href) {
            Some(route) => link.set_fragment(Some(&route)),
            None if on_list => return Err(NoOwnLink::ListPage),
            None => {}
        }
    }
    if !links.sessions.is_empty() {
        drop_query_parts(&mut link, |part| {
            query_pair(part).is_some_and(|(name, value)| {
                links.sessions.contains(&(name.to_ascii_lowercase(), value))
            })
        });
    }
    Ok(link)
}

/// What a list page's card links tell as a whole, and one link alone cannot.
#[derive(Debug, Default)]
pub struct PageLinks {
    /// The pages (links without their fragment) that two or more cards link to with different
    /// routes (`/app/#/news/1`, `/app/#/news/2`): there the route tells releases apart.
    routed: HashSet<Url>,
    /// Session parameters (lower-cased name, value) the page wrote into its links: a forum
    /// keeps a cookieless reader's session in every link it serves (phpBB's `sid`,
    /// vBulletin's `s`), new on each fetch. Such a name reads a session only where two cards
    /// or more that link to different pages carry one token-like value: a story's own `?sid=`
    /// differs from card to card and stays.
    sessions: HashSet<(String, String)>,
}

impl PageLinks {
    /// Reads the card links `hrefs` of a page whose links resolve against `base`.
    pub fn read<'h>(base: &Url, hrefs: impl IntoIterator<Item = &'h str>) -> PageLinks {
        let mut routes: HashMap<Url, HashSet<String>> = HashMap::new();
        // By session-like name and value: the links that carry it.
        let mut carried: HashMap<(String, String), HashSet<Url>> = HashMap::new();
        for href in hrefs {
            let Some(link) = canonical_link(base, href) else {
                continue;
            };
            if let Some(route) = route_of(base, href) {
                routes.entry(link.clone()).or_default().insert(route);
            }
            for part in link.query().unwrap_or_default().split('&') {
                if let Some((name, value)) = query_pair(part) {
                    let name = name.to_ascii_lowercase();
                    if is_page_session_name(&name) && looks_like_token(&value) {
                        carried
                            .entry((name, value))
                            .or_default()
                            .insert(link.clone());
                    }
                }
            }
        }
        PageLinks {
            routed: routes
                .into_iter()
                .filter(|(_, routes)| routes.len() > 1)
                .map(|(link, _)| link)
                .collect(),
            sessions: carried
                .into_iter()
                .filter(|(_, on)| on.len() > 1)
                .map(|(session, _)| session)
                .collect(),
        }
    }
}

/// Names a forum or CMS keeps a cookieless reader's session under, in every link of a page
/// (phpBB `sid`, vBulletin `s`, others `sess`, `session`, `sessid`); each also names other
/// things, so only [`PageLinks`] decides, from a whole page.
fn is_page_session_name(name: &str) -> bool {
    matches!(name, "sid" | "s" | "sess" | "session" | "sessid")
}

/// One `name=value` piece of a query, as a form decodes it (`+` and percent escapes).
fn query_pair(part: &str) -> Option<(String, String)> {
    url::form_urlencoded::parse(part.as_bytes())
        .next()
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
}

/// A link's fragment when it is a route (`#/…`, `#!…`).
fn route_of(base: &Url, href: &str) -> Option<String> {
    let url = base.join(href.trim()).ok()?;
    let fragment = url.fragment()?;
    (fragment.starts_with('/') || fragment.starts_with('!')).then(|| fragment.to_owned())
}

/// Whether one `name=value` piece of a query is a tracking or session parameter (read as a
/// form decodes it: `+` and percent escapes).
fn is_tracking_part(part: &str) -> bool {
    query_pair(part)
        .is_some_and(|(name, value)| is_tracking_param(&name) || is_session_param(&name, &value))
}

/// What identifies an item within its source: the `id_pattern` capture when it matches the
/// canonical link (so a corrected slug is an edit), else the canonical link itself.
///
/// Both read the link in its key form ([`link_key`]), the form keys were made from before links
/// kept their query as written, so that stored items keep their identity.
pub fn item_key(link: &Url, id_pattern: Option<&Regex>) -> String {
    let key = link_key(link);
    id_pattern
        .and_then(|re| re.captures(&key))
        .and_then(|c| c.get(1))
        .map(|m| format!("id:{}", m.as_str()))
        .unwrap_or(key)
}

/// Sanitizes HTML from a source: only harmless tags and attributes survive, relative URLs are
/// made absolute against `base`, links get `rel="noopener noreferrer"`. What a page shows only
/// without scripts or plug-ins (`<noscript>`, the fallback inside `<iframe>`, `<object>`,
/// `<template>`) goes with its content: the parser reads a `<noscript>`'s markup as text, which
/// would show as `<img src=…>` written out.
pub fn sanitize_html(html: &str, base: &Url) -> String {
    ammonia::Builder::default()
        .clean_content_tags(
            [
                "script", "style", "noscript", "iframe", "object", "template",
            ]
            .into_iter()
            .collect(),
        )
        .url_relative(ammonia::UrlRelative::RewriteWithBase(base.clone()))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::relative_path("/ru/some-slug-123456", "https://www.akorda.kz/ru/some-slug-123456")]
    #[case::fragment_dropped("/en/a-1#top", "https://www.akorda.kz/en/a-1")]
    #[case::utm_removed("/en/a-1?utm_source=tg&utm_medium=x", "https://www.akorda.kz/en/a-1")]
    #[case::real_query_kept(
        "/en/a?id=5&utm_campaign=z&fbclid=1",
        "https://www.akorda.kz/en/a?id=5"
    )]
    #[case::host_case_folded("HTTPS://WWW.Akorda.KZ/en/a-1", "https://www.akorda.kz/en/a-1")]
    #[case::dot_segments("/en/../en/./a-1", "https://www.akorda.kz/en/a-1")]
    #[case::relative_to_page("a-2", "https://www.akorda.kz/en/a-2")]
    #[case::bare_value("/a?123", "https://www.akorda.kz/a?123")]
    #[case::semicolons("/a?x=1;y=2", "https://www.akorda.kz/a?x=1;y=2")]
    #[case::flag_and_punctuation(
        "/a?path=/news/2026/03&t=a,b:c&flag",
        "https://www.akorda.kz/a?path=/news/2026/03&t=a,b:c&flag"
    )]
    #[case::tracking_cut_as_written(
        "/a?b=2&utm_source=tg&a=1;x&&flag&fbclid=9&c=%2F+",
        "https://www.akorda.kz/a?b=2&a=1;x&&flag&c=%2F+"
    )]
    #[case::tracking_name_escaped("/a?id=5&utm%5Fsource=x", "https://www.akorda.kz/a?id=5")]
    #[case::only_tracking_and_empty("/a?utm_source=x&&gclid=1", "https://www.akorda.kz/a")]
    #[case::servlet_session(
        "/en/news/1;jsessionid=A1B2C3D4E5?id=1",
        "https://www.akorda.kz/en/news/1?id=1"
    )]
    #[case::servlet_session_upper(
        "/app;JSESSIONID=a1b2.node0/news/2",
        "https://www.akorda.kz/app/news/2"
    )]
    #[case::php_session(
        "item.php?id=1&PHPSESSID=9k2l1m3n4b5v6c7x8z9a0s1d2f",
        "https://www.akorda.kz/en/item.php?id=1"
    )]
    #[case::asp_session(
        "/a?ASPSESSIONIDQQGGQGPA=KHBNCPOAEHIB&id=7",
        "https://www.akorda.kz/a?id=7"
    )]
    #[case::session_ids(
        "/a?sessionid=x1b2c3d4e5f6a7b8c9&id=7&session_id=y2k3j4h5g6f7d8s9a0",
        "https://www.akorda.kz/a?id=7"
    )]
    #[case::conference_session(
        "/program?session_id=2",
        "https://www.akorda.kz/program?session_id=2"
    )]
    #[case::uuid_session(
        "/a?sessionid=3f2504e0-4f89-11d3-9a0c-0305e82c3301&id=7",
        "https://www.akorda.kz/a?id=7"
    )]
    #[case::coldfusion("/a?id=7&CFID=1234&CFTOKEN=56789012", "https://www.akorda.kz/a?id=7")]
    #[case::aspnet_cookieless(
        "/(S(lit3py55t21z5v55vlm25s55))/news.aspx?id=7",
        "https://www.akorda.kz/news.aspx?id=7"
    )]
    #[case::aspnet_cookieless_groups(
        "/app/(X(1)S(3f5kpa55zirqa2jkoa3gxj55))/news.aspx",
        "https://www.akorda.kz/app/news.aspx"
    )]
    #[case::sid_hash_names_a_story(
        "/a?id=7&sid=0f3e9a7c2b1d4e5f6a7b8c9d0e1f2a3b",
        "https://www.akorda.kz/a?id=7&sid=0f3e9a7c2b1d4e5f6a7b8c9d0e1f2a3b"
    )]
    #[case::sid_section("/a?sid=12&id=7", "https://www.akorda.kz/a?sid=12&id=7")]
    #[case::sid_word(
        "/a?sid=internationalnews",
        "https://www.akorda.kz/a?sid=internationalnews"
    )]
    #[case::other_path_parameter("/a;v=2/b;x", "https://www.akorda.kz/a;v=2/b;x")]
    #[case::brackets_not_a_session("/(about)/a", "https://www.akorda.kz/(about)/a")]
    fn canonical_links(#[case] href: &str, #[case] expected: &str) {
        let base = Url::parse("https://www.akorda.kz/en/events").unwrap();
        assert_eq!(canonical_link(&base, href).unwrap().as_str(), expected);
    }

    #[rstest]
    #[case::javascript("javascript:alert(1)")]
    #[case::data("data:text/html,hi")]
    #[case::empty("  ")]
    #[case::mailto("mailto:a@b.c")]
    fn rejected_links(#[case] href: &str) {
        let base = Url::parse("https://www.akorda.kz/en/events").unwrap();
        assert_eq!(canonical_link(&base, href), None);
    }

    /// A card linking to the list page itself names a release only by a route fragment
    /// (`#/…`, `#!…`), which is then kept; an anchor (`#frag-1`) or no fragment names none.
    #[rstest]
    #[case::route("#/news/1", Ok("https://www.akorda.kz/en/events?page=1#/news/1"))]
    #[case::hashbang("#!news-2", Ok("https://www.akorda.kz/en/events?page=1#!news-2"))]
    #[case::anchor("#frag-1", Err(NoOwnLink::ListPage))]
    #[case::page_itself("?page=1&utm_source=x", Err(NoOwnLink::ListPage))]
    #[case::empty_fragment("#", Err(NoOwnLink::ListPage))]
    #[case::other_page("/en/a-1#top", Ok("https://www.akorda.kz/en/a-1"))]
    #[case::other_page_route("/en/a#/x", Ok("https://www.akorda.kz/en/a"))]
    #[case::javascript("javascript:void(0)", Err(NoOwnLink::NotHttp))]
    fn card_links(#[case] href: &str, #[case] expected: Result<&str, NoOwnLink>) {
        let page = Url::parse("https://www.akorda.kz/en/events?page=1").unwrap();
        let got = card_link(&page, &page, href, &PageLinks::default());
        assert_eq!(got.as_ref().map(Url::as_str).map_err(|e| *e), expected);
    }

    /// A session-like parameter is the page's session where links to two pages or more carry
    /// one token value.
    #[rstest]
    #[case::phpbb(&["/t?t=1&sid=0123456789abcdef0123456789abcdef", "/t?t=2&sid=0123456789abcdef0123456789abcdef"], &["/t?t=1", "/t?t=2"])]
    #[case::vbulletin_first(&["/x?s=0123456789abcdef0123456789abcdef&t=1", "/x?s=0123456789abcdef0123456789abcdef&t=2"], &["/x?t=1", "/x?t=2"])]
    #[case::story_ids(&["/s?sid=a1b2c3d4e5f6a7b8c9d0", "/s?sid=0f9e8d7c6b5a4f3e2d1c"], &["/s?sid=a1b2c3d4e5f6a7b8c9d0", "/s?sid=0f9e8d7c6b5a4f3e2d1c"])]
    #[case::one_link(&["/t?t=1&sid=0123456789abcdef0123456789abcdef"], &["/t?t=1&sid=0123456789abcdef0123456789abcdef"])]
    #[case::not_a_token(&["/t?t=1&s=news", "/t?t=2&s=news"], &["/t?t=1&s=news", "/t?t=2&s=news"])]
    #[case::other_name(&["/t?t=1&key=0123456789abcdef0123456789abcdef", "/t?t=2&key=0123456789abcdef0123456789abcdef"], &["/t?t=1&key=0123456789abcdef0123456789abcdef", "/t?t=2&key=0123456789abcdef0123456789abcdef"])]
    #[case::a_story_among_them(&["/t?t=1&sid=0123456789abcdef0123456789abcdef", "/t?t=2&sid=0123456789abcdef0123456789abcdef", "/t?t=3&sid=ffff456789abcdef0123456789abcdef"], &["/t?t=1", "/t?t=2", "/t?t=3&sid=ffff456789abcdef0123456789abcdef"])]
    fn a_session_every_card_link_carries_is_no_part_of_a_link(
        #[case] hrefs: &[&str],
        #[case] expected: &[&str],
    ) {
        let page = Url::parse("https://forum.example/list").unwrap();
        let links = PageLinks::read(&page, hrefs.iter().copied());
        let got: Vec<String> = hrefs
            .iter()
            .map(|href| card_link(&page, &page, href, &links).unwrap().to_string())
            .collect();
        let expected: Vec<String> = expected
            .iter()
            .map(|e| format!("https://forum.example{e}"))
            .collect();
        assert_eq!(got, expected);
    }

    /// Keys stored before links kept their query as written are the keys made now.
    #[rstest]
    #[case::plain("/en/a-1", "https://www.akorda.kz/en/a-1")]
    #[case::bare_value("/a?123", "https://www.akorda.kz/a?123=")]
    #[case::semicolons("/a?x=1;y=2", "https://www.akorda.kz/a?x=1%3By%3D2")]
    #[case::punctuation(
        "/a?path=/news/2026/03&t=a,b:c&flag&utm_source=x",
        "https://www.akorda.kz/a?path=%2Fnews%2F2026%2F03&t=a%2Cb%3Ac&flag="
    )]
    #[case::empty_query("/a?", "https://www.akorda.kz/a")]
    fn item_keys_keep_their_former_form(#[case] href: &str, #[case] expected: &str) {
        let base = Url::parse("https://www.akorda.kz/en/events").unwrap();
        let link = canonical_link(&base, href).unwrap();
        assert_eq!(item_key(&link, None), expected);
        let re = Regex::new(r"(\?.*)$").unwrap();
        let query = expected.find('?').map_or("", |at| &expected[at..]);
        if !query.is_empty() {
            assert_eq!(item_key(&link, Some(&re)), format!("id:{query}"));
        }
    }

    /// The link as keys were made before queries were kept as written.
    fn former_canonical(base: &Url, href: &str) -> Option<Url> {
        let mut url = base.join(href.trim()).ok()?;
        url.set_fragment(None);
        if url.query().is_some() {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, v)| !is_tracking_param(k) && !is_session_param(k, v))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            if kept.is_empty() {
                url.set_query(None);
            } else {
                url.query_pairs_mut().clear().extend_pairs(kept);
            }
        }
        Some(url)
    }

    proptest::proptest! {
        /// Whatever the query, the key is the one the former canonical link gave.
        #[test]
        fn keys_of_any_query_are_the_former_ones(
            query in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::string::string_regex("[a-z0-9;:,/+%=.~-]{0,8}").unwrap(),
                    proptest::string::string_regex("(utm_[a-z]{1,5}|fbclid|gclid|utm%5Fid)(=[a-z0-9]{0,4})?").unwrap(),
                    proptest::string::string_regex("[а-я ]{0,4}").unwrap(),
                ],
                0..6,
            )
        ) {
            let base = Url::parse("https://www.akorda.kz/en/events").unwrap();
            let href = format!("/a?{}", query.join("&"));
            let now = canonical_link(&base, &href).unwrap();
            let before = former_canonical(&base, &href).unwrap();
            proptest::prop_assert_eq!(item_key(&now, None), before.to_string());
        }
    }

    /// A release linked with a new session id on every poll is one release: the session is no
    /// part of its key; a link without one keeps its key.
    #[rstest]
    #[case::servlet(
        "/n/1;jsessionid=AAAA1111?id=1",
        "/n/1;jsessionid=BBBB2222?id=1",
        "/n/1?id=1"
    )]
    #[case::php(
        "/item.php?id=1&PHPSESSID=aaaa1111bbbb2222cccc3333dd",
        "/item.php?id=1&PHPSESSID=eeee4444ffff5555gggg6666hh",
        "/item.php?id=1"
    )]
    #[case::aspnet(
        "/(S(aaaa1111))/n.aspx?id=1",
        "/(S(bbbb2222))/n.aspx?id=1",
        "/n.aspx?id=1"
    )]
    fn a_session_id_is_no_part_of_the_key(
        #[case] first: &str,
        #[case] second: &str,
        #[case] plain: &str,
    ) {
        let base = Url::parse("https://www.akorda.kz/en/events").unwrap();
        let key = |href: &str| item_key(&canonical_link(&base, href).unwrap(), None);
        assert_eq!(key(first), key(second));
        assert_eq!(key(first), key(plain));
        assert_eq!(key(plain), base.join(plain).unwrap().as_str());
    }

    #[test]
    fn id_pattern_makes_slug_edits_the_same_item() {
        let re = Regex::new(r"-(\d+)$").unwrap();
        let a = Url::parse("https://www.akorda.kz/en/meeting-with-minister-123456").unwrap();
        let b = Url::parse("https://www.akorda.kz/en/meeting-with-the-minister-123456").unwrap();
        assert_eq!(item_key(&a, Some(&re)), item_key(&b, Some(&re)));
        assert_ne!(item_key(&a, None), item_key(&b, None));
    }

    #[test]
    fn sanitizer_removes_script_and_resolves_urls() {
        let base = Url::parse("https://www.akorda.kz/en/x").unwrap();
        let out = sanitize_html(
            r#"<p onclick="x()">Hi<script>alert(1)</script><img src="/a.jpg" onerror="y()"><a href="javascript:z()">l</a></p>"#,
            &base,
        );
        assert!(!out.contains("script") && !out.contains("onerror") && !out.contains("javascript"));
        assert!(out.contains("https://www.akorda.kz/a.jpg"), "{out}");
    }

    /// A lazy-loaded picture's `<noscript>` copy does not show as markup written out, nor does
    /// the fallback text of an embed.
    #[test]
    fn what_shows_only_without_scripts_is_left_out() {
        let base = Url::parse("https://example.org/").unwrap();
        let out = sanitize_html(
            r#"<p>Text.</p><img data-src="/a.jpg" class="lazy"><noscript><img src="/a.jpg"></noscript><iframe src="https://v.example/1">Your browser cannot show this.</iframe><template><p>later</p></template>"#,
            &base,
        );
        assert_eq!(out, "<p>Text.</p><img>", "{out}");
    }
}
