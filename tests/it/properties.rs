//! Property tests over bad input (issue 8): for any config text, date text, list page, article
//! page and stored item, the parsers and renderers return a result (never panic) and what they
//! produce is valid: diagnostics point inside the file, links are web addresses, article HTML
//! carries nothing active, and every feed parses back in a real parser with the same items.

use crate::common;

use std::path::Path;

use chrono::{TimeZone, Utc};
use herald::extract::html::{Reading, list_page};
use herald::model::{Item, ItemId};
use herald::render::{self, FeedMeta};
use proptest::prelude::*;
use url::Url;

const SHIPPED: &str = include_str!("../../config.toml");

/// Pieces of hostile and ordinary markup, put together at random.
fn markup() -> impl Strategy<Value = String> {
    let href = prop_oneof![
        Just("javascript:alert(1)".to_owned()),
        Just("JaVaScRiPt:alert(1)".to_owned()),
        Just("data:text/html,<script>alert(1)</script>".to_owned()),
        Just("vbscript:x".to_owned()),
        Just("  ".to_owned()),
        Just("http://[::1]/x".to_owned()),
        Just("//evil.invalid/x".to_owned()),
        "/[a-z0-9/-]{0,12}",
        "https://[a-z]{1,8}\\.kz/[a-z0-9-]{0,10}",
        "\\PC{0,12}",
    ];
    let piece = prop_oneof![
        Just("<div class=\"card\">".to_owned()),
        Just("</div>".to_owned()),
        Just("<p>".to_owned()),
        Just("</p>".to_owned()),
        Just("<script>alert(1)</script>".to_owned()),
        Just("<style>p{}</style>".to_owned()),
        Just("<!--".to_owned()),
        Just("<svg onload=alert(1)>".to_owned()),
        Just("<table><tr><td>".to_owned()),
        Just("<h5>21 March 2026</h5>".to_owned()),
        Just("<h5>21 наурыз 2026 ж.</h5>".to_owned()),
        href.clone()
            .prop_map(|h| format!("<h3><a href=\"{h}\">Title of a release, long enough.</a></h3>")),
        href.clone()
            .prop_map(|h| format!("<img src=\"{h}\" onerror=\"alert(1)\">")),
        href.clone()
            .prop_map(|h| format!("<a href=\"{h}\" onclick=\"x()\">link</a>")),
        href.prop_map(|h| format!("<base href=\"{h}\">")),
        "\\PC{0,40}"
            .prop_map(|t| format!("<p>{t}. The President said, at length, more words.</p>")),
        "\\PC{0,20}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn is_web(url: &str) -> bool {
    Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// Nothing active in extracted article HTML: no script-capable element, no event handler, no
/// style, no URL that is not http(s)/mailto/relative-made-absolute.
fn assert_inert(html: &str) -> Result<(), TestCaseError> {
    let doc = scraper::Html::parse_fragment(html);
    for node in doc.tree.nodes() {
        let Some(el) = node.value().as_element() else {
            continue;
        };
        prop_assert!(
            !matches!(
                el.name(),
                "script"
                    | "style"
                    | "iframe"
                    | "object"
                    | "embed"
                    | "svg"
                    | "math"
                    | "base"
                    | "form"
            ),
            "<{}> in {html}",
            el.name()
        );
        for (name, value) in el.attrs() {
            prop_assert!(
                !name.starts_with("on") && name != "style",
                "{name} in {html}"
            );
            if matches!(name, "href" | "src") {
                let v = value.trim().to_ascii_lowercase();
                prop_assert!(
                    v.starts_with("http://")
                        || v.starts_with("https://")
                        || v.starts_with("mailto:"),
                    "{name}={value} in {html}"
                );
            }
        }
    }
    Ok(())
}

fn item(
    n: u32,
    title: String,
    summary: Option<String>,
    content: Option<String>,
    link: String,
    image: Option<String>,
) -> Item {
    let time = Utc.with_ymd_and_hms(2026, 3, 1 + n % 28, 9, 0, 0).unwrap();
    Item {
        id: ItemId::new("s", &format!("key-{n}")),
        source: "s".into(),
        title,
        link,
        summary,
        content_html: content,
        image,
        language: "kk".into(),
        published: time,
        updated: time,
        first_seen: time,
        seq: u64::from(n),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any damage to the shipped config gives a config or positioned diagnostics, never a panic.
    #[test]
    fn config_parsing_never_panics(cut in 0usize..SHIPPED.len(), insert in any::<String>(), drop in 0usize..200) {
        let mut text = SHIPPED.to_owned();
        let at = (0..=cut).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        let end = (at + drop).min(text.len());
        let end = (end..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
        text.replace_range(at..end, &insert);
        if let Err(problems) = herald::config::parse(Path::new("c.toml"), &text, Path::new("/tmp")) {
            let lines = text.lines().count().max(1) + 1;
            for p in problems {
                prop_assert!(p.line >= 1 && p.line <= lines, "{p}");
                prop_assert!(p.col >= 1, "{p}");
            }
        }
    }

    /// Any text, with or without a configured format, parses to a date or to nothing.
    #[test]
    fn date_parsing_never_panics(text in "\\PC{0,40}", format in prop_oneof![Just(None), Just(Some("%d %B %Y".to_owned())), Just(Some("%Y-%m-%d %H:%M".to_owned())), "%[a-zA-Z%:. -]{0,12}".prop_map(Some)]) {
        let _ = herald::dates::parse_date(&text, format.as_deref());
        let now = Utc.with_ymd_and_hms(2026, 3, 21, 12, 0, 0).unwrap();
        let _ = herald::extract::relative::parse_relative(&text, now, chrono_tz::Asia::Almaty);
    }

    /// Any list page: releases or a typed error; every release links to a web page, and so does
    /// its picture.
    #[test]
    fn list_extraction_yields_only_web_links(html in markup()) {
        let config = common::one_akorda_source();
        let source = &config.sources[0];
        let reading = Reading { now: Utc::now(), tz: source.timezone, max_items: source.max_page_items, month_first: false };
        if let Ok(items) = list_page(&html, &source.url, source.list.as_ref().unwrap(), None, reading) {
            for item in items {
                prop_assert!(is_web(&item.link), "link {}", item.link);
                if let Some(image) = &item.image {
                    prop_assert!(is_web(image), "image {image}");
                }
                prop_assert!(!item.title.trim().is_empty());
            }
        }
    }

    /// Any article page: the extracted HTML is inert.
    #[test]
    fn article_extraction_is_inert(html in markup()) {
        let url = Url::parse("https://www.akorda.kz/en/a-1").unwrap();
        let article = herald::extract::article::extract(&html, Some(&url), None);
        assert_inert(&article.html)?;
        if let Some(image) = &article.image {
            prop_assert!(is_web(image), "image {image}");
        }
    }

    /// Any stored items (any characters at all): RSS, Atom and JSON Feed parse back in real
    /// parsers with the same items, in order, with their GUIDs.
    #[test]
    fn feeds_always_parse_back(
        raw in prop::collection::vec((any::<String>(), prop::option::of(any::<String>()), prop::option::of(any::<String>()), any::<String>(), prop::option::of(any::<String>())), 0..6),
        title in any::<String>(),
    ) {
        let items: Vec<Item> = raw
            .into_iter()
            .enumerate()
            .map(|(n, (t, s, c, l, i))| item(n as u32, t, s, c, format!("https://www.akorda.kz/{}", url::form_urlencoded::byte_serialize(l.as_bytes()).collect::<String>()), i.map(|i| format!("https://www.akorda.kz/img?{}", url::form_urlencoded::byte_serialize(i.as_bytes()).collect::<String>()))))
            .collect();
        let meta = FeedMeta {
            id: "s",
            title: &title,
            description: &title,
            home_page_url: "https://www.akorda.kz/kz/events",
            public_url: "https://feeds.example.org",
            query: "",
            language: Some("kk"),
            ttl_minutes: Some(10),
            updated: Utc.with_ymd_and_hms(2026, 3, 29, 0, 0, 0).unwrap(),
            hub: None,
            translations: None,
        };
        let guids: Vec<String> = items.iter().map(|i| i.id.guid()).collect();

        let rss = render::rss::render(&meta, &items);
        let channel = rss::Channel::read_from(rss.as_bytes());
        prop_assert!(channel.is_ok(), "RSS does not parse: {:?}\n{rss}", channel.err());
        let got: Vec<String> = channel.unwrap().items.iter().map(|i| i.guid.as_ref().unwrap().value.clone()).collect();
        prop_assert_eq!(&got, &guids);

        let atom = render::atom::render(&meta, &items);
        let feed = atom_syndication::Feed::read_from(atom.as_bytes());
        prop_assert!(feed.is_ok(), "Atom does not parse: {:?}\n{atom}", feed.err());
        let got: Vec<String> = feed.unwrap().entries.iter().map(|e| e.id.clone()).collect();
        prop_assert_eq!(&got, &guids);

        let json = render::json::render(&meta, &items);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let got: Vec<String> = value["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
        prop_assert_eq!(&got, &guids);
        for feed_text in [&rss, &atom] {
            prop_assert!(feed_rs::parser::parse(feed_text.as_bytes()).is_ok());
        }
    }
}
