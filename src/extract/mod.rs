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
    /// An upstream feed lists no entry now, though earlier polls stored releases from it (a
    /// feed moved or broken, not "no news"; a feed empty since its first poll is no fault).
    #[error(
        "the feed lists no entries now, though earlier polls read {stored} releases from it: its \
         address may serve another feed now, or whatever writes the feed broke"
    )]
    FeedEmptied { stored: usize },
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
    let mut changed = false;
    let mut kept: Vec<String> = Vec::new();
    for part in query.split('&') {
        if !part.contains(';') {
            if drop(part) {
                changed = true;
            } else {
                kept.push(part.to_owned());
            }
            continue;
        }
        // Some servers separate their parameters with `;` (SMF's `?PHPSESSID=…;topic=1.0`):
        // only the piece dropped goes, never the parameters beside it.
        let pieces: Vec<&str> = part.split(';').collect();
        let left: Vec<&str> = pieces.iter().copied().filter(|p| !drop(p)).collect();
        if left.len() < pieces.len() {
            changed = true;
            if !left.is_empty() {
                kept.push(left.join(";"));
            }
        } else {
            kept.push(part.to_owned());
        }
    }
    if changed {
        if kept.iter().all(String::is_empty) {
            url.set_query(None);
        } else {
            url.set_query(Some(&kept.join("&")));
        }
    }
}

/// The `name=value` pieces of a query: separated by `&`, and by `;` too (some servers write
/// them so).
fn query_pieces(query: &str) -> impl Iterator<Item = &str> {
    query.split(['&', ';'])
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
    /// Reads the card links `cards` of a page whose links resolve against `base`, and the
    /// page's other links `others` (its navigation, its pages: a session is in them too).
    ///
    /// The page's session is a session-like name whose links (cards and others) all carry one
    /// token-like value, and which links to two pages or more carry (pages told apart by
    /// their path or by a parameter both have, not by one's extra parameter: a story's
    /// featured card `?sid=X&from=top` and its card `?sid=X` are one page). A story id under
    /// such a name differs from link to link, and stays.
    pub fn read(base: &Url, cards: &[&str], others: &[&str]) -> PageLinks {
        let mut routes: HashMap<Url, HashSet<String>> = HashMap::new();
        // By session-like name: the values seen, and the links carrying it, without it.
        let mut carried: HashMap<String, (HashSet<String>, HashSet<Url>)> = HashMap::new();
        let all = cards.iter().map(|href| (href, true));
        let all = all.chain(others.iter().map(|href| (href, false)));
        for (href, card) in all.take(MAX_PAGE_LINKS) {
            // A link of hostile length is no pager's nor session's (and is read at a cost).
            if href.len() > MAX_LINK_BYTES {
                continue;
            }
            let Some(link) = canonical_link(base, href) else {
                continue;
            };
            if card && let Some(route) = route_of(base, href) {
                routes.entry(link.clone()).or_default().insert(route);
            }
            // Only the page's own site writes its session into links: a partner's link with
            // its own `sid` says nothing of this page's.
            if link.host_str() != base.host_str() {
                continue;
            }
            let mut names: HashMap<String, String> = HashMap::new();
            for piece in query_pieces(link.query().unwrap_or_default()).take(MAX_LINK_PIECES) {
                if let Some((name, value)) = query_pair(piece) {
                    let name = name.to_ascii_lowercase();
                    if is_page_session_name(&name) {
                        names.entry(name).or_insert(value);
                    }
                }
            }
            for (name, value) in names {
                let mut without = link.clone();
                drop_query_parts(&mut without, |p| {
                    query_pair(p).is_some_and(|(n, _)| n.eq_ignore_ascii_case(&name))
                });
                let (values, on) = carried.entry(name).or_default();
                values.insert(value);
                on.insert(without);
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
                .filter_map(|(name, (values, on))| {
                    let mut values = values.into_iter();
                    let (Some(value), None) = (values.next(), values.next()) else {
                        return None;
                    };
                    (looks_like_session_value(&value) && two_pages(&on)).then_some((name, value))
                })
                .collect(),
        }
    }
}

/// Links of a page read for its session, at most (a page of ten thousand links is read on
/// its first ones).
const MAX_PAGE_LINKS: usize = 2_000;
/// Longest link read for a session (bytes), and most query pieces of one link.
const MAX_LINK_BYTES: usize = 2_048;
const MAX_LINK_PIECES: usize = 64;

/// Whether `links` name two pages or more: two differ in their path, or in the value of a
/// query parameter both have (an extra parameter alone, `?from=top`, names the same page).
fn two_pages(links: &HashSet<Url>) -> bool {
    let params = |url: &Url| -> HashMap<String, String> {
        query_pieces(url.query().unwrap_or_default())
            .filter_map(query_pair)
            .collect()
    };
    let read: Vec<(&str, &str, HashMap<String, String>)> = links
        .iter()
        .take(200)
        .map(|u| (u.host_str().unwrap_or_default(), u.path(), params(u)))
        .collect();
    read.iter().enumerate().any(|(i, (host, path, a))| {
        read[i + 1..].iter().any(|(other_host, other_path, b)| {
            host != other_host
                || path != other_path
                || a.iter().any(|(k, v)| b.get(k).is_some_and(|w| w != v))
        })
    })
}

/// Whether a value reads as a random token a server made up, not a name a site gave: 6 letters
/// and digits or more, of both kinds (phpBB's and vBulletin's 32 hex digits, Discuz!'s
/// `Qx7Lm2`), holding no year when short (a legislature's `session=2025R1`, a section's
/// `sid=en2024` name a session of their own: a year in a short value is a label, not chance).
fn looks_like_session_value(value: &str) -> bool {
    let alnum = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let digit = value.bytes().any(|b| b.is_ascii_digit());
    let letter = value.bytes().any(|b| b.is_ascii_alphabetic());
    let year = value.as_bytes().windows(4).any(|w| {
        matches!(&w[..2], b"19" | b"20") && w[2].is_ascii_digit() && w[3].is_ascii_digit()
    });
    alnum && digit && letter && (value.len() >= 16 || (value.len() >= 6 && !year))
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
/// would show as `<img src=…>` written out. A user name and password in `base` (a source
/// reached with `https://user:pass@host/…`) are left out of the links made from it: the body is
/// published.
pub fn sanitize_html(html: &str, base: &Url) -> String {
    let mut base = base.clone();
    let _ = base.set_username("");
    let _ = base.set_password(None);
    ammonia::Builder::default()
        .clean_content_tags(
            [
                "script", "style", "noscript", "iframe", "object", "template",
            ]
            .into_iter()
            .collect(),
        )
        .url_relative(ammonia::UrlRelative::RewriteWithBase(base))
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

    /// A session-like parameter is the page's session where all the page's links that have it
    /// carry one token value, and links to two pages or more do.
    #[rstest]
    #[case::phpbb(&["/t?t=1&sid=S", "/t?t=2&sid=S"], &[], &["/t?t=1", "/t?t=2"])]
    #[case::vbulletin_first(&["/x?s=S&t=1", "/x?s=S&t=2"], &[], &["/x?t=1", "/x?t=2"])]
    #[case::story_ids(&["/s?sid=a1b2c3d4e5f6a7b8c9d0", "/s?sid=0f9e8d7c6b5a4f3e2d1c"], &[], &["/s?sid=a1b2c3d4e5f6a7b8c9d0", "/s?sid=0f9e8d7c6b5a4f3e2d1c"])]
    #[case::one_link(&["/t?t=1&sid=S"], &[], &["/t?t=1&sid=S"])]
    #[case::one_card_and_the_page_links(&["/t?t=1&sid=S"], &["/index.php?sid=S", "/f?f=2&sid=S"], &["/t?t=1"])]
    #[case::not_a_token(&["/t?t=1&s=news", "/t?t=2&s=news"], &[], &["/t?t=1&s=news", "/t?t=2&s=news"])]
    #[case::other_name(&["/t?t=1&key=S", "/t?t=2&key=S"], &[], &["/t?t=1&key=S", "/t?t=2&key=S"])]
    #[case::a_story_featured_twice(&["/a.php?sid=X1b2c3d4e5f6&from=top", "/a.php?sid=X1b2c3d4e5f6"], &[], &["/a.php?sid=X1b2c3d4e5f6&from=top", "/a.php?sid=X1b2c3d4e5f6"])]
    #[case::stories_one_featured(&["/a.php?sid=X1b2c3d4e5f6&from=top", "/a.php?sid=X1b2c3d4e5f6", "/a.php?sid=Y1b2c3d4e5f6"], &[], &["/a.php?sid=X1b2c3d4e5f6&from=top", "/a.php?sid=X1b2c3d4e5f6", "/a.php?sid=Y1b2c3d4e5f6"])]
    #[case::two_values(&["/t?t=1&sid=S", "/t?t=2&sid=S", "/t?t=3&sid=ffff456789abcdef0123456789abcdef"], &[], &["/t?t=1&sid=S", "/t?t=2&sid=S", "/t?t=3&sid=ffff456789abcdef0123456789abcdef"])]
    #[case::discuz(&["/forum.php?mod=viewthread&tid=101&sid=Qx7Lm2", "/forum.php?mod=viewthread&tid=102&sid=Qx7Lm2"], &[], &["/forum.php?mod=viewthread&tid=101", "/forum.php?mod=viewthread&tid=102"])]
    #[case::discuz_small_letters(&["/forum.php?mod=viewthread&tid=101&sid=qx7lm2", "/forum.php?mod=viewthread&tid=102&sid=qx7lm2"], &[], &["/forum.php?mod=viewthread&tid=101", "/forum.php?mod=viewthread&tid=102"])]
    #[case::a_partners_link(&["/t?t=1&sid=S", "/t?t=2&sid=S"], &["https://partner.example/x?sid=a1b2c3d4e5f6a7b8c9d0"], &["/t?t=1", "/t?t=2"])]
    #[case::a_legislatures_session(&["/bills?session=2025R1&id=HB100", "/bills?session=2025R1&id=HB101"], &[], &["/bills?session=2025R1&id=HB100", "/bills?session=2025R1&id=HB101"])]
    #[case::a_sections_sid(&["/n?sid=en2024&id=1", "/n?sid=en2024&id=2"], &[], &["/n?sid=en2024&id=1", "/n?sid=en2024&id=2"])]
    #[case::semicolons(&["/index.php?topic=101.0;sid=S", "/index.php?topic=102.0;sid=S"], &[], &["/index.php?topic=101.0", "/index.php?topic=102.0"])]
    fn a_session_the_page_links_carry_is_no_part_of_a_link(
        #[case] cards: &[&str],
        #[case] others: &[&str],
        #[case] expected: &[&str],
    ) {
        // `S` stands for the session's value.
        const S: &str = "0123456789abcdef0123456789abcdef";
        let session = |h: &&str| h.replace("=S", &format!("={S}"));
        let cards: Vec<String> = cards.iter().map(session).collect();
        let others: Vec<String> = others.iter().map(session).collect();
        let cards: Vec<&str> = cards.iter().map(String::as_str).collect();
        let others: Vec<&str> = others.iter().map(String::as_str).collect();
        let page = Url::parse("https://forum.example/list").unwrap();
        let links = PageLinks::read(&page, &cards, &others);
        let got: Vec<String> = cards
            .iter()
            .map(|href| card_link(&page, &page, href, &links).unwrap().to_string())
            .collect();
        let expected: Vec<String> = expected
            .iter()
            .map(|e| format!("https://forum.example{}", session(e)))
            .collect();
        assert_eq!(got, expected);
    }

    /// A session id in a query whose parameters are separated by `;` goes alone: the
    /// parameters beside it stay (SMF writes `?PHPSESSID=…;topic=1.0`).
    #[rstest]
    #[case::session_first(
        "/index.php?PHPSESSID=a1b2c3d4e5f6a7b8c9d0;topic=101.0",
        "/index.php?topic=101.0"
    )]
    #[case::session_last(
        "/index.php?topic=101.0;PHPSESSID=a1b2c3d4e5f6a7b8c9d0",
        "/index.php?topic=101.0"
    )]
    #[case::among_others(
        "/i?a=1&topic=1;PHPSESSID=a1b2c3d4e5f6a7b8c9d0;b=2&c=3",
        "/i?a=1&topic=1;b=2&c=3"
    )]
    #[case::plain_semicolon("/i?q=a;b", "/i?q=a;b")]
    fn a_session_beside_semicolon_parameters_goes_alone(
        #[case] href: &str,
        #[case] expected: &str,
    ) {
        let base = Url::parse("https://forum.example/").unwrap();
        assert_eq!(
            canonical_link(&base, href).unwrap().as_str(),
            format!("https://forum.example{expected}")
        );
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

    #[test]
    fn links_made_from_a_base_with_a_password_leave_it_out() {
        let base = Url::parse("https://admin:hunter2@www.akorda.kz/en/x").unwrap();
        let out = sanitize_html(r#"<p><a href="/en/a-1">a</a><img src="b.jpg"></p>"#, &base);
        assert!(!out.contains("hunter2") && !out.contains("admin"), "{out}");
        assert!(out.contains("https://www.akorda.kz/en/a-1"), "{out}");
        assert!(out.contains("https://www.akorda.kz/en/b.jpg"), "{out}");
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
