//! Hostile pages (issue 8): a site whose titles, summaries, links, images and article bodies are
//! XSS vectors (`tests/fixtures/xss/vectors.html`, patterns of the OWASP filter-evasion list
//! written down by us). Nothing of them may reach a reader as script, event handler,
//! `javascript:`/`data:`/`vbscript:` URL or CSS: not in RSS, Atom or JSON Feed, not on the index
//! page, not in a Telegram post or its buttons.

use crate::common;

use axum::Router;
use axum::extract::Path;
use axum::response::Html;
use axum::routing::get;
use common::{Setup, spawn_app_with};
use fake_botapi::{FakeBotApi, FakeOptions};
use std::time::Duration;

const VECTORS: &str = include_str!("../fixtures/xss/vectors.html");
const RELEASES: usize = 8;

fn entity_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A list page whose cards carry the vectors as text (escaped, so they survive as `<script>`
/// characters in titles and summaries) and as markup (image sources), and article pages whose
/// bodies are the vectors themselves.
async fn hostile_site() -> String {
    let vectors: Vec<&str> = VECTORS.lines().filter(|l| !l.trim().is_empty()).collect();
    let list = {
        let cards: String = (1..=RELEASES)
            .map(|i| {
                let v = vectors[i % vectors.len()];
                let img = match i % 3 {
                    0 => "javascript:alert(1)",
                    1 => "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+",
                    _ => "/img/ok.jpg\" onerror=\"alert(1)",
                };
                format!(
                    "<div class=\"card\"><img src=\"{img}\"><h5>{i} March 2026</h5>\
                     <h3><a href=\"/a/{i}\">Release {i} {t}</a></h3><p>{s} \u{202e}reversed</p></div>",
                    t = entity_escape(v),
                    s = entity_escape(vectors[(i + 7) % vectors.len()]),
                )
            })
            .collect();
        format!(
            "<html><body>{cards}<div class=\"card\"><h5>1 March 2026</h5><h3><a href=\"javascript:alert(1)\">Script link</a></h3></div></body></html>"
        )
    };
    let article = move |Path(i): Path<usize>| {
        let body = format!(
            "<html><head><meta property=\"og:image\" content=\"javascript:alert({i})\"></head><body>\
             <div class=\"content-text\"><p>The President held talks on cooperation, release {i}. \
             The sides agreed to meet again.</p>{VECTORS}</div></body></html>"
        );
        async move { Html(body) }
    };
    let app = Router::new()
        .route("/list", get(move || async move { Html(list) }))
        .route("/a/{i}", get(article));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// Elements no reader should ever get from herald.
const FORBIDDEN_ELEMENTS: &[&str] = &[
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "style", "link", "meta",
    "base", "form", "input", "button", "svg", "math", "template", "xss",
];

/// Elements the HTML parser itself adds around a fragment.
const STRUCTURE: &[&str] = &["html", "head", "body"];

/// Whether a URL attribute's value is harmless: an http(s)/mailto address or a fragment.
fn harmless_url(value: &str) -> bool {
    let squeezed: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    squeezed.starts_with("http://")
        || squeezed.starts_with("https://")
        || squeezed.starts_with("mailto:")
        || squeezed.starts_with('#')
}

/// Asserts that `html` (a fragment, as a reader would render it) carries nothing active.
fn assert_harmless(html: &str, context: &str) {
    let doc = scraper::Html::parse_fragment(html);
    for node in doc.tree.nodes() {
        let Some(el) = node.value().as_element() else {
            continue;
        };
        let name = el.name();
        assert!(
            !FORBIDDEN_ELEMENTS.contains(&name),
            "{context}: <{name}> in {html}"
        );
        for (attr, value) in el.attrs() {
            let attr = attr.to_ascii_lowercase();
            assert!(!attr.starts_with("on"), "{context}: {attr}= in {html}");
            assert!(
                !matches!(
                    attr.as_str(),
                    "style" | "srcdoc" | "formaction" | "background"
                ),
                "{context}: {attr}= in {html}"
            );
            if matches!(
                attr.as_str(),
                "href" | "src" | "action" | "data" | "poster" | "srcset" | "xlink:href" | "cite"
            ) {
                assert!(harmless_url(value), "{context}: {attr}={value:?} in {html}");
            }
        }
    }
}

/// A title or other plain text field: rendered as HTML by careless readers, it must still hold
/// no element at all.
fn assert_plain(text: &str, context: &str) {
    let doc = scraper::Html::parse_fragment(text);
    let elements: Vec<&str> = doc
        .tree
        .nodes()
        .filter_map(|n| n.value().as_element())
        .map(|e| e.name())
        .filter(|name| !STRUCTURE.contains(name))
        .collect();
    assert!(
        elements.is_empty(),
        "{context}: {elements:?} in plain text {text:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn xss_vectors_never_reach_feeds_index_or_telegram() {
    let site = hostile_site().await;
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let t = spawn_app_with(Setup::telegram(
        &fake,
        &format!(
            r#"{fast}
[[channels]]
id = "hostile"
chat = "@hostile_channel"
share = ["x", "facebook", "telegram", "whatsapp", "vk", "linkedin"]

[[sources]]
id = "hostile"
title = "<script>alert('feed title')</script> Hostile & co"
url = "{site}/list"
schedule = "0 0 0 1 1 *"
timezone = "Asia/Almaty"
language = "en"
channels = ["hostile"]
backfill = 20
max_pages = 1

{list}
[sources.article]
body = "div.content-text"
image = "meta[property='og:image']@content"
"#,
            list = common::AKORDA_LIST,
            fast = fake_botapi::FAST_TELEGRAM,
        ),
    ))
    .await;
    let report = t.poll("hostile").await.unwrap();
    assert_eq!(
        report.items.len(),
        RELEASES,
        "the javascript: link is no release"
    );
    let messages = fake
        .wait_for_messages(RELEASES, Duration::from_secs(30))
        .await;
    assert_eq!(messages.len(), RELEASES);

    // JSON Feed: every HTML field harmless, every URL http(s).
    let json: serde_json::Value = t.get("/feeds/hostile.json").await.json().await.unwrap();
    assert_plain(json["title"].as_str().unwrap(), "json feed title");
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), RELEASES);
    for item in items {
        let html = item["content_html"].as_str().unwrap();
        assert!(
            html.contains("The President held talks"),
            "the article body is kept: {html}"
        );
        assert_harmless(html, "json content_html");
        assert_plain(item["title"].as_str().unwrap(), "json title");
        assert!(
            item["title"].as_str().unwrap().starts_with("Release "),
            "shown, as text"
        );
        assert!(harmless_url(item["url"].as_str().unwrap()));
        if let Some(image) = item["image"].as_str() {
            assert!(harmless_url(image), "json image {image}");
        }
    }
    // RSS and Atom, read by a parser: bodies harmless, titles plain, links http(s).
    for ext in ["rss", "atom"] {
        let body = t
            .get(&format!("/feeds/hostile.{ext}"))
            .await
            .bytes()
            .await
            .unwrap();
        let feed = feed_rs::parser::parse(&body[..]).unwrap();
        assert_plain(&feed.title.as_ref().unwrap().content, "feed title");
        assert_eq!(feed.entries.len(), RELEASES);
        for entry in &feed.entries {
            let title = &entry.title.as_ref().unwrap().content;
            assert_plain(title, &format!("{ext} title"));
            for link in &entry.links {
                assert!(harmless_url(&link.href), "{ext} link {}", link.href);
            }
            if let Some(content) = entry.content.as_ref().and_then(|c| c.body.as_deref()) {
                assert_harmless(content, &format!("{ext} content"));
            }
            if let Some(summary) = &entry.summary {
                assert_harmless(&summary.content, &format!("{ext} summary"));
            }
            for media in &entry.media {
                for content in &media.content {
                    if let Some(url) = &content.url {
                        assert!(harmless_url(url.as_str()), "{ext} media {url}");
                    }
                }
            }
        }
    }
    // The index page: what it shows, and the discovery links of its head.
    let page = scraper::Html::parse_document(&t.text("/").await);
    let main = page
        .select(&scraper::Selector::parse("main").unwrap())
        .next()
        .unwrap();
    assert_harmless(&main.html(), "index page");
    assert!(main.text().collect::<String>().contains("Release 8"));
    for link in page.select(&scraper::Selector::parse("head link").unwrap()) {
        assert!(harmless_url(link.value().attr("href").unwrap()));
    }
    // Telegram: what the post shows, its links and its buttons.
    for m in &messages {
        let html = m.caption.clone().or(m.text.clone()).unwrap();
        assert_harmless(&html, "telegram post");
        if let Some(photo) = &m.photo {
            assert!(harmless_url(photo), "photo {photo}");
        }
        for row in m.reply_markup.as_ref().unwrap()["inline_keyboard"]
            .as_array()
            .unwrap()
        {
            for button in row.as_array().unwrap() {
                let url = button["url"].as_str().unwrap();
                assert!(harmless_url(url), "button {url}");
            }
        }
    }
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}
