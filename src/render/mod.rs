//! Feed documents: pure functions from stored items to RSS 2.0, Atom 1.0 and JSON Feed 1.1 text.
//!
//! SPEC "HTTP": every feed validates (W3C Feed Validation rules), carries a self link, and keeps
//! each item's GUID/id stable for ever, independent of `public_url`. Nothing here does I/O; the
//! server adds ETag / Last-Modified around what these functions return.
//!
//! What all three formats share lives here: the feed's description of itself ([`FeedMeta`]), the
//! removal of characters XML cannot carry ([`xml_safe`]), and the rule that picks an item's body.

pub mod atom;
pub mod json;
pub mod rss;

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::model::{Item, ItemId, Translation};

/// Each linked item's translations (see `translations`), by item id.
pub type Translations = HashMap<ItemId, Vec<Translation>>;

/// What a feed document says about itself.
#[derive(Clone, Copy, Debug)]
pub struct FeedMeta<'a> {
    /// Source id, or "all" for the merged feed; self links are {public_url}/feeds/{id}.{rss|atom|json}.
    pub id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    /// The page the feed stands for (the source's list page; for "all", public_url + "/").
    pub home_page_url: &'a str,
    /// general.public_url without trailing slash.
    pub public_url: &'a str,
    /// The request's query options with their `?` ("" for the plain feed): a filtered feed's self
    /// link is its own address.
    pub query: &'a str,
    /// BCP 47 ("kk" for Kazakh); None for a merged feed of several languages.
    pub language: Option<&'a str>,
    /// RSS <ttl> in minutes: the feed's `Cache-Control: max-age`, rounded up.
    pub ttl_minutes: Option<u32>,
    /// Feed-level updated time (newest item's `updated`, or the caller's fallback when empty).
    pub updated: DateTime<Utc>,
    /// The WebSub hub (`[server] websub_hub`), if any; advertised only by the plain feed (see
    /// [`FeedMeta::advertised_hub`]).
    pub hub: Option<&'a str>,
    /// Translations of the items, shown as "Also in" links; `None` or absent ids: none.
    pub translations: Option<&'a Translations>,
}

impl<'a> FeedMeta<'a> {
    /// Where this feed is served in the given format (`"rss"`, `"atom"`, `"json"`). The W3C
    /// validator warns when the self link differs from the URL it fetched (FACTS "Feed readers"),
    /// so this must be exactly the route of SPEC "HTTP": `/feeds/{source}.{ext}`.
    pub fn self_url(&self, extension: &str) -> String {
        format!(
            "{}/feeds/{}.{}{}",
            self.public_url, self.id, extension, self.query
        )
    }

    /// The hub the document names. herald pings the hub for the plain feeds' self links only
    /// (`websub::topics`): a filtered feed (`?lang=`, `?limit=`, …) has its own self link, a topic
    /// the hub would never hear of, so it names no hub (WebSub §4: a subscriber subscribes to
    /// the self link it finds beside the hub).
    pub fn advertised_hub(&self) -> Option<&'a str> {
        self.hub.filter(|_| self.query.is_empty())
    }
}

/// `Content-Type` of [`rss::render`]'s output.
pub const RSS_CONTENT_TYPE: &str = "application/rss+xml; charset=utf-8";
/// `Content-Type` of [`atom::render`]'s output.
pub const ATOM_CONTENT_TYPE: &str = "application/atom+xml; charset=utf-8";
/// `Content-Type` of [`json::render`]'s output.
pub const JSON_CONTENT_TYPE: &str = "application/feed+json; charset=utf-8";

/// Removes characters XML 1.0 forbids (C0 controls other than tab/LF/CR, U+FFFE/U+FFFF, lone
/// surrogates can't exist in Rust strings) — `rss` writes them raw.
///
/// XML 1.0 §2.2: `Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`;
/// escaping cannot help, `&#0;` is as invalid as a raw NUL. Also removed: what §2.2 asks authors
/// to avoid (DEL and the C1 controls U+007F–U+009F, the noncharacters U+FDD0–U+FDEF and U+xFFFE/
/// U+xFFFF of every plane) and U+FFFD: the W3C validator warns "contains bad characters" about
/// C1 controls and U+FFFD, and none of them means anything to a reader. Borrows when nothing is
/// removed, which is nearly always.
pub fn xml_safe(s: &str) -> Cow<'_, str> {
    if s.chars().all(is_kept) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|&c| is_kept(c)).collect())
    }
}

fn is_kept(c: char) -> bool {
    let code = u32::from(c);
    let allowed = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{FFFC}' | '\u{10000}'..);
    let noncharacter = (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE;
    // Bidi overrides and isolates reorder what a reader shows (text spoofing, issue 25).
    allowed && !noncharacter && !crate::text::is_bidi_control(c)
}

/// `xml_safe`, owned: the feed crates take `String`s.
fn clean(s: &str) -> String {
    xml_safe(s).into_owned()
}

/// A URL as a feed writes it (a link, an image, the home page, the self link): XML-safe, and in
/// the form RFC 3986 §2 allows, so that neither the W3C validator ("Invalid character in a URI")
/// nor a strict reader rejects it. A byte outside the unreserved and reserved characters is
/// percent-encoded (UTF-8, as RFC 3987 §3.1 maps an IRI), and so is a `%` not followed by two hex
/// digits; an existing `%XX` stays as written. `[` and `]` are kept only in the host, where an
/// IPv6 literal needs them. A URL already in that form comes back unchanged.
pub(crate) fn uri_safe(url: &str) -> String {
    let url = xml_safe(url);
    let url = crate::text::address_without_userinfo(&url);
    // The authority runs from after `scheme://` to the next `/`, `?` or `#`.
    let authority = url.find("://").map_or(0..0, |at| {
        let start = at + 3;
        let end = url[start..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |i| start + i);
        start..end
    });
    let bytes = url.as_bytes();
    let mut out = String::with_capacity(url.len());
    for (at, &b) in bytes.iter().enumerate() {
        let kept = match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => true,
            b':' | b'/' | b'?' | b'#' | b'@' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*'
            | b'+' | b',' | b';' | b'=' => true,
            b'[' | b']' => authority.contains(&at),
            b'%' => bytes
                .get(at + 1..at + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
            _ => false,
        };
        if kept {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Escapes plain text for use inside HTML (content and quoted attributes), so that a summary
/// saying `<script>` is shown, not run (SPEC "HTTP": nothing from a source can inject script into
/// a reader).
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A title (or any text of the feed's own that RSS 2.0, JSON Feed or an Atom name call plain: the
/// feed's description, its author), which many readers render as HTML all the same. A `<` that
/// would open a tag there (`<` then a letter, `/`, `!` or `?`, HTML's "tag open state") gets a
/// U+2060 WORD JOINER after it: invisible, but no reader parses a tag, so a title saying
/// `<script>` is shown, never run (SPEC "HTTP"), and the W3C validator's "title should not
/// contain HTML", which hexadecimal references alone do not silence for end tags, goes away.
///
/// Where it is needed: RSS has no way to say "this is text", and the validator warns about
/// `&#x3C;/b>` in an RSS title or an Atom `<name>` (checked offline). Atom titles and summaries
/// do without it: they say `type="html"` when they read as markup (see `atom::text_construct`;
/// `type="text"` holding `</b>` draws the same warning). JSON Feed calls its title and summary
/// plain text, but readers that render them as HTML exist, so they keep it (tests/it/hostile.rs).
pub(crate) fn plain_title(text: &str) -> String {
    let text = xml_safe(text);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        let opens_tag = chars
            .peek()
            .is_some_and(|&next| next.is_ascii_alphabetic() || matches!(next, '/' | '!' | '?'));
        if c == '<' && opens_tag {
            out.push('\u{2060}');
        }
    }
    out
}

/// An optional text that is really there: blank strings count as absent, so no feed carries an
/// empty `<description>` or `"summary": ""`.
fn present(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

/// The item's plain-text summary, XML-safe, when it has one.
fn summary_text(item: &Item) -> Option<String> {
    present(item.summary.as_deref()).map(clean)
}

/// The item's body as HTML, XML-safe: its (already sanitized) `content_html`, else its summary
/// escaped into a paragraph, else its title likewise. Falling back to the title means every
/// entry has a body: feedparser then gives every entry `content`/`summary`, and JSON Feed 1.1
/// requires `content_html` or `content_text` on each item anyway.
fn body_html(item: &Item) -> String {
    if let Some(html) = present(item.content_html.as_deref()) {
        return clean(html);
    }
    let text = present(item.summary.as_deref()).unwrap_or(&item.title);
    format!("<p>{}</p>", escape_html(&xml_safe(text)))
}

/// The item's translations, in the order stored (one per language).
fn translations_of<'t>(meta: &FeedMeta<'t>, item: &Item) -> &'t [Translation] {
    meta.translations
        .and_then(|t| t.get(&item.id))
        .map_or(&[], Vec::as_slice)
}

/// `body_html`, with an "Also in: Русский, Қазақша" paragraph of links to the item's
/// translations when it has any (the item's own text is left as it is).
fn body_with_translations(meta: &FeedMeta, item: &Item) -> String {
    let mut body = body_html(item);
    body.push_str(&also_in(item, translations_of(meta, item)));
    body
}

/// The "Also in" paragraph ("" without translations): the label in the item's language, each
/// language named in its own, with `hreflang` on the link.
fn also_in(item: &Item, translations: &[Translation]) -> String {
    if translations.is_empty() {
        return String::new();
    }
    let label = match item.language.split('-').next().unwrap_or_default() {
        "ru" => "Другие языки:",
        "kk" => "Басқа тілдерде:",
        _ => "Also in:",
    };
    let links: Vec<String> = translations
        .iter()
        .map(|t| {
            format!(
                "<a href=\"{}\" hreflang=\"{}\">{}</a>",
                escape_html(&uri_safe(&t.link)),
                escape_html(&xml_safe(&t.language)),
                escape_html(crate::lang::name(&t.language))
            )
        })
        .collect();
    format!("<p>{label} {}</p>", links.join(", "))
}

/// `body` with the text of its first `<tag>` element set to `text`. The RSS and Atom writers put
/// the feed's own date (`lastBuildDate`, `updated`) before any item's, and escape every `<` of
/// text, so the first such element is the feed's. `None` when there is none.
fn with_first_element_text(body: &str, tag: &str, text: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = start + body[start..].find(&format!("</{tag}>"))?;
    let mut out = String::with_capacity(body.len() + text.len());
    out.push_str(&body[..start]);
    out.push_str(text);
    out.push_str(&body[end..]);
    Some(out)
}

/// RFC 3339 in UTC, the form Atom and JSON Feed both accept, with a fraction of a second only
/// when there is one (an item's `updated` is a microsecond of its own, see `store::stamps`;
/// dates of whole seconds are written as they always were), as Atom's writer does.
fn rfc3339(time: DateTime<Utc>) -> String {
    to_micros(time).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `time` to the microsecond, the finest an item's `updated` has: a `published` taken from the
/// moment a release was first seen (a date-only release seen that day) has nanoseconds, which
/// were written as nine digits beside `updated`'s six. Only what is written: the stored dates
/// (and the ids made from them) are as they were.
fn to_micros(time: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    time.trunc_subsecs(6)
}

/// A sample of hostile and ordinary items shared by the three formats' tests.
#[cfg(test)]
pub(crate) mod samples {
    use chrono::{DateTime, TimeZone, Utc};

    use super::FeedMeta;
    use crate::model::{Item, ItemId};

    pub const PUBLIC_URL: &str = "https://feeds.example.org";

    pub fn time(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 15, 7).unwrap()
    }

    pub fn meta(public_url: &str) -> FeedMeta<'_> {
        FeedMeta {
            id: "akorda-kk",
            title: "Ақорда — баспасөз релиздері & news",
            description: "Press releases of the President of Kazakhstan, in Kazakh",
            home_page_url: "https://www.akorda.kz/kz/events?type=press&page=1",
            public_url,
            query: "",
            language: Some("kk"),
            ttl_minutes: Some(30),
            updated: time(9, 12),
            hub: None,
            translations: None,
        }
    }

    /// The merged feed: no single language, no schedule.
    pub fn meta_all(public_url: &str) -> FeedMeta<'_> {
        FeedMeta {
            id: "all",
            title: "herald: all sources",
            description: "Every release from every source",
            home_page_url: "https://feeds.example.org/",
            public_url,
            query: "",
            language: None,
            ttl_minutes: None,
            updated: time(9, 12),
            hub: None,
            translations: None,
        }
    }

    fn item(key: &str, title: &str, day: u32) -> Item {
        Item {
            id: ItemId::new("akorda-kk", key),
            source: "akorda-kk".into(),
            title: title.into(),
            link: format!("https://www.akorda.kz/kz/{key}"),
            summary: None,
            content_html: None,
            image: None,
            language: "kk".into(),
            published: time(day, 9),
            updated: time(day, 10),
            first_seen: time(day, 10),
            seq: u64::from(day),
        }
    }

    /// Newest first, as the store hands them out.
    pub fn items() -> Vec<Item> {
        vec![
            Item {
                summary: Some(
                    "Мемлекет басшысы «Ақорда» резиденциясында кездесу өткізді. 🇰🇿".into(),
                ),
                content_html: Some(
                    "<p>Мемлекет басшысы <b>кездесу</b> өткізді &amp; сөз сөйледі.</p>\
                     <p><img src=\"https://www.akorda.kz/img/1.jpg\" alt=\"\"></p>"
                        .into(),
                ),
                image: Some("https://www.akorda.kz/img/1.jpg?w=800&h=600".into()),
                ..item("kk-meeting-9", "Мемлекет басшысы кездесу өткізді", 9)
            },
            Item {
                summary: Some(
                    "Tom & Jerry <b>not bold</b>\u{0} and \u{1b}[31m escapes\u{FFFE}\u{85}\u{FFFD}"
                        .into(),
                ),
                link: "https://www.akorda.kz/kz/search?q=a&page=2&lang=kk".into(),
                ..item(
                    "hostile-8",
                    "<script>alert('x')</script> Tom & Jerry\u{0}\u{1b}[0m ✨🎉",
                    8,
                )
            },
            Item {
                summary: Some("Only a summary, no content, no image.".into()),
                language: "ru".into(),
                ..item("summary-only-7", "Глава государства провёл совещание", 7)
            },
            // Text that looks like entities once parsed, as double-escaping sites produce.
            item(
                "bare-6",
                &format!(
                    "{}&copy; &#39;R&D&#39;",
                    "Very long title that goes on. ".repeat(40)
                ),
                6,
            ),
            Item {
                content_html: Some("<p>Content without summary.</p>".into()),
                summary: Some("   ".into()),
                ..item("content-only-5", "Content, blank summary", 5)
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case::clean("Ақорда 🇰🇿 & <b>", "Ақорда 🇰🇿 & <b>")]
    #[case::keeps_tab_lf_cr("a\tb\nc\rd", "a\tb\nc\rd")]
    #[case::nul_and_escape("a\u{0}b\u{1b}[0mc", "ab[0mc")]
    #[case::all_c0_but_whitespace("\u{1}\u{8}\u{b}\u{c}\u{e}\u{1f}x", "x")]
    #[case::nonchars("a\u{FFFE}b\u{FFFF}c\u{FDD0}d\u{1FFFF}", "abcd")]
    #[case::c1_del_and_replacement("a\u{7F}\u{80}\u{85}\u{9F}b\u{FFFD}c", "abc")]
    #[case::nbsp_and_bom_kept("a\u{A0}b\u{FEFF}", "a\u{A0}b\u{FEFF}")]
    #[case::astral_kept("😀\u{10FFFD}", "😀\u{10FFFD}")]
    fn xml_safe_removes_only_forbidden_chars(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(xml_safe(input), expected);
    }

    #[test]
    fn xml_safe_borrows_clean_text() {
        assert!(matches!(xml_safe("plain"), Cow::Borrowed("plain")));
    }

    #[rstest]
    #[case::content_wins(Some("<p>c</p>"), Some("s"), "<p>c</p>")]
    #[case::summary_escaped(None, Some("a < b & c"), "<p>a &lt; b &amp; c</p>")]
    #[case::blank_content_is_absent(Some(" "), Some("s"), "<p>s</p>")]
    #[case::title_last(None, None, "<p>T &amp; &lt;i&gt;</p>")]
    fn body_html_picks_content_then_summary_then_title(
        #[case] content: Option<&str>,
        #[case] summary: Option<&str>,
        #[case] expected: &str,
    ) {
        let mut item = samples::items().remove(3);
        item.title = "T & <i>".into();
        item.content_html = content.map(Into::into);
        item.summary = summary.map(Into::into);
        assert_eq!(body_html(&item), expected);
    }

    #[rstest]
    #[case::plain(
        "https://a.example/kz/news?id=1&p=2#x",
        "https://a.example/kz/news?id=1&p=2#x"
    )]
    #[case::pipes_and_braces(
        "https://a.example/a|b^c{d}`e?q=[1]",
        "https://a.example/a%7Cb%5Ec%7Bd%7D%60e?q=%5B1%5D"
    )]
    #[case::ipv6_host_kept("http://[::1]:8080/x[y]", "http://[::1]:8080/x%5By%5D")]
    #[case::escapes_kept_stray_percent_encoded(
        "https://a.example/%D0%B0%zz%",
        "https://a.example/%D0%B0%25zz%25"
    )]
    #[case::non_ascii_and_space(
        "https://a.example/жаңа бет",
        "https://a.example/%D0%B6%D0%B0%D2%A3%D0%B0%20%D0%B1%D0%B5%D1%82"
    )]
    #[case::quotes_and_angles("https://a.example/\"<x>\\", "https://a.example/%22%3Cx%3E%5C")]
    #[case::userinfo_dropped_query_kept(
        "http://admin:hunter2@a.example:8080/feed.xml?api_key=K&u=a@b",
        "http://a.example:8080/feed.xml?api_key=K&u=a@b"
    )]
    #[case::user_only_and_at_in_password("https://me:p@ss@a.example#f@g", "https://a.example/#f@g")]
    fn uri_safe_writes_rfc3986_form(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(uri_safe(input), expected);
        assert_eq!(uri_safe(expected), expected, "already in form: unchanged");
    }

    /// Every URL a feed writes (item link, image, home page, self link) is in RFC 3986 form in
    /// all three formats; the item's id is left as it is.
    #[test]
    fn feeds_write_urls_in_rfc3986_form() {
        let raw = "https://a.example/n|1^{2}[3]`?q=a|b";
        let encoded = "https://a.example/n%7C1%5E%7B2%7D%5B3%5D%60?q=a%7Cb";
        let mut meta = samples::meta("http://127.0.0.1:8080");
        meta.home_page_url = "https://a.example/list|all";
        meta.query = "?include=a|b";
        let mut items = samples::items();
        items[0].link = raw.to_owned();
        items[0].image = Some(format!("{raw}&img"));
        for (format, doc) in [
            ("rss", rss::render(&meta, &items)),
            ("atom", atom::render(&meta, &items)),
            ("json", json::render(&meta, &items)),
        ] {
            for bad in ["|", "^", "{2}", "[3]", "`"] {
                assert!(!doc.contains(bad), "{format} writes {bad:?}: {doc}");
            }
            assert!(doc.contains(encoded), "{format}: {doc}");
            assert!(
                doc.contains("https://a.example/list%7Call"),
                "{format}: {doc}"
            );
            assert!(doc.contains("?include=a%7Cb"), "{format}: {doc}");
            assert!(doc.contains(&items[0].id.guid()), "{format}: {doc}");
        }
    }

    /// JSON Feed's summary is plain text that readers may render as HTML: a tag in it is
    /// written so that none opens, as in the title.
    #[test]
    fn json_summary_opens_no_tag() {
        let meta = samples::meta("http://127.0.0.1:8080");
        let mut items = samples::items();
        items[0].summary = Some("<img src=x onerror=alert(1)> hi".to_owned());
        let doc: serde_json::Value = serde_json::from_str(&json::render(&meta, &items)).unwrap();
        let summary = doc["items"][0]["summary"].as_str().unwrap();
        assert!(!summary.contains("<img"), "{summary}");
        assert_eq!(
            summary.replace('\u{2060}', ""),
            "<img src=x onerror=alert(1)> hi"
        );
    }

    /// An item's `updated` is a microsecond of its own (`store::stamps`): Atom and JSON Feed
    /// write its fraction, and a whole second as before, without one.
    #[test]
    fn a_fraction_of_a_second_is_written_only_when_there_is_one() {
        let mut items = samples::items();
        let whole = items[1].updated;
        items[0].updated = samples::time(20, 7) + chrono::Duration::microseconds(250);
        let meta = samples::meta(samples::PUBLIC_URL);
        let atom = atom::render(&meta, &items);
        assert!(atom.contains(":15:07.000250+00:00</updated>"), "{atom}");
        let whole_atom = whole.fixed_offset().to_rfc3339();
        assert!(!whole_atom.contains('.'));
        assert!(
            atom.contains(&format!("<updated>{whole_atom}</updated>")),
            "{atom}"
        );
        let json: serde_json::Value = serde_json::from_str(&json::render(&meta, &items)).unwrap();
        assert_eq!(
            json["items"][0]["date_modified"],
            "2026-03-20T07:15:07.000250Z"
        );
        assert_eq!(
            json["items"][1]["date_modified"],
            whole.to_rfc3339_opts(SecondsFormat::Secs, true)
        );
    }

    #[test]
    fn self_url_follows_the_feed_route() {
        let meta = samples::meta("http://127.0.0.1:8080");
        assert_eq!(
            meta.self_url("rss"),
            "http://127.0.0.1:8080/feeds/akorda-kk.rss"
        );
    }

    /// The hub is named beside the plain self link only, the one topic herald pings; a filtered
    /// feed's self link carries its query, and names no hub in any format.
    #[rstest]
    #[case::plain("", true)]
    #[case::filtered("?lang=en", false)]
    #[case::limited("?limit=5", false)]
    fn only_the_plain_feed_names_the_hub(#[case] query: &str, #[case] named: bool) {
        let hub = "https://hub.example/";
        let mut meta = samples::meta("http://127.0.0.1:8080");
        meta.hub = Some(hub);
        meta.query = query;
        let items = samples::items();
        for (format, doc) in [
            ("rss", rss::render(&meta, &items)),
            ("atom", atom::render(&meta, &items)),
            ("json", json::render(&meta, &items)),
        ] {
            assert!(doc.contains(&meta.self_url(format)), "{format}: {doc}");
            assert_eq!(doc.contains(hub), named, "{format} {query:?}: {doc}");
        }
    }

    /// Writes the sample feeds for the W3C validator and feedparser (see `validate.sh`):
    /// `HERALD_RENDER_OUT=dir HERALD_PUBLIC_URL=http://127.0.0.1:PORT cargo test -- --ignored`.
    #[test]
    #[ignore = "writes files for external validators; run by validate.sh"]
    fn write_samples_for_external_validators() {
        let out = std::path::PathBuf::from(std::env::var("HERALD_RENDER_OUT").unwrap());
        let public_url = std::env::var("HERALD_PUBLIC_URL").unwrap();
        let feeds = out.join("feeds");
        std::fs::create_dir_all(&feeds).unwrap();
        let items = samples::items();
        for meta in [samples::meta(&public_url), samples::meta_all(&public_url)] {
            for (items, suffix) in [(&items[..], ""), (&[][..], "-empty")] {
                let meta = FeedMeta {
                    id: &format!("{}{suffix}", meta.id),
                    ..meta
                };
                for (extension, text) in [
                    ("rss", rss::render(&meta, items)),
                    ("atom", atom::render(&meta, items)),
                    ("json", json::render(&meta, items)),
                ] {
                    let path = feeds.join(format!("{}.{extension}", meta.id));
                    std::fs::write(path, text).unwrap();
                }
            }
        }
    }
}
