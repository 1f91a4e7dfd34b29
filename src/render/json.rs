//! JSON Feed 1.1 (<https://www.jsonfeed.org/version/1.1/>).
//!
//! JSON could carry control characters, but the same text is stripped as in the XML feeds so
//! that all three formats say the same thing. Absent values are omitted rather than `null`: the
//! spec treats a missing key as "unknown" and some readers reject `null` where a string belongs.

use serde::Serialize;

use super::{
    FeedMeta, body_with_translations, clean, plain_title, present, rfc3339, summary_text, uri_safe,
};
use crate::model::Item;

const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: String,
    home_page_url: String,
    feed_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    /// JSON Feed 1.1 `hubs`: the WebSub hub, when one is configured and the feed is a plain one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub>,
    items: Vec<JsonItem<'a>>,
}

#[derive(Serialize)]
struct Hub {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    /// JSON Feed 1.1: "unique for that item for that feed over time" — the same GUID as RSS/Atom.
    id: String,
    url: String,
    title: String,
    /// Required (or `content_text`) on every item; see `body_html` for the fallbacks.
    content_html: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
}

/// Renders a JSON Feed 1.1 document; `items` arrive newest first and keep that order.
pub fn render(meta: &FeedMeta, items: &[Item]) -> String {
    let feed = JsonFeed {
        version: VERSION,
        title: plain_title(meta.title),
        home_page_url: uri_safe(meta.home_page_url),
        feed_url: uri_safe(&meta.self_url("json")),
        description: present(Some(meta.description)).map(plain_title),
        language: meta.language.map(clean),
        hubs: meta
            .advertised_hub()
            .map(|url| Hub {
                kind: "WebSub",
                url: uri_safe(url),
            })
            .into_iter()
            .collect(),
        items: items.iter().map(|item| json_item(meta, item)).collect(),
    };
    serde_json::to_string_pretty(&feed).expect("a struct of strings always serializes")
}

fn json_item<'i>(meta: &FeedMeta, item: &'i Item) -> JsonItem<'i> {
    JsonItem {
        id: item.id.guid(),
        url: uri_safe(&item.link),
        title: plain_title(&item.title),
        content_html: body_with_translations(meta, item),
        // Plain text, which readers may render as HTML all the same: protected like the title.
        summary: summary_text(item).map(|summary| plain_title(&summary)),
        image: present(item.image.as_deref()).map(uri_safe),
        date_published: rfc3339(item.published),
        date_modified: rfc3339(item.updated),
        language: present(Some(&item.language)),
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;
    use serde_json::Value;

    use super::*;
    use crate::render::samples;

    fn parse(meta: &FeedMeta, items: &[Item]) -> Value {
        serde_json::from_str(&render(meta, items)).unwrap()
    }

    #[test]
    fn required_fields_present_and_order_kept() {
        let items = samples::items();
        let feed = parse(&samples::meta(samples::PUBLIC_URL), &items);
        assert_eq!(feed["version"], VERSION);
        assert_eq!(feed["title"], "Ақорда — баспасөз релиздері & news");
        assert_eq!(
            feed["feed_url"],
            "https://feeds.example.org/feeds/akorda-kk.json"
        );
        assert_eq!(feed["language"], "kk");
        let rendered = feed["items"].as_array().unwrap();
        assert_eq!(rendered.len(), items.len());
        for (json, item) in rendered.iter().zip(&items) {
            assert_eq!(json["id"], item.id.guid());
            assert_eq!(json["url"], item.link);
            assert!(json["content_html"].as_str().is_some_and(|c| !c.is_empty()));
            assert_eq!(json["date_published"], rfc3339(item.published));
            assert_eq!(json["date_modified"], rfc3339(item.updated));
        }
    }

    #[rstest]
    #[case::full(0, true, true)]
    #[case::hostile(1, true, false)]
    #[case::bare(3, false, false)]
    #[case::blank_summary(4, false, false)]
    fn absent_values_are_omitted_not_null(
        #[case] index: usize,
        #[case] has_summary: bool,
        #[case] has_image: bool,
    ) {
        let feed = parse(&samples::meta(samples::PUBLIC_URL), &samples::items());
        let item = feed["items"][index].as_object().unwrap();
        assert_eq!(item.contains_key("summary"), has_summary);
        assert_eq!(item.contains_key("image"), has_image);
        assert!(item.values().all(|v| !v.is_null()));
    }

    #[test]
    fn hostile_text_is_stripped_and_escaped_in_html() {
        let feed = parse(&samples::meta(samples::PUBLIC_URL), &samples::items());
        let item = &feed["items"][1];
        // Plain text, with a word joiner after each `<` that would open a tag for a reader
        // that renders titles as HTML.
        assert_eq!(
            item["title"],
            "<\u{2060}script>alert('x')<\u{2060}/script> Tom & Jerry[0m ✨🎉"
        );
        assert_eq!(
            item["content_html"],
            "<p>Tom &amp; Jerry &lt;b&gt;not bold&lt;/b&gt; and [31m escapes</p>"
        );
        assert_eq!(
            item["url"],
            "https://www.akorda.kz/kz/search?q=a&page=2&lang=kk"
        );
    }

    #[test]
    fn empty_merged_feed_is_valid() {
        let feed = parse(&samples::meta_all(samples::PUBLIC_URL), &[]);
        assert_eq!(feed["version"], VERSION);
        assert_eq!(feed["items"], Value::Array(vec![]));
        assert!(feed.get("language").is_none());
    }
}
