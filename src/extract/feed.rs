//! Upstream feeds (`kind = "feed"`): RSS 0.9x/1.0/2.0, Atom and JSON Feed, read with feed-rs and
//! turned into the same `Scraped` releases a list page gives.

use super::{ExtractError, canonical_link, clean_text, item_key, sanitize_html};
use crate::extract::dates::ParsedDate;
use crate::model::Scraped;
use regex::Regex;
use url::Url;

/// Every entry of an upstream feed, in the feed's order. Entries without a title or a usable
/// link are skipped.
pub fn feed_entries(
    text: &str,
    feed_url: &Url,
    id_pattern: Option<&Regex>,
) -> Result<Vec<Scraped>, ExtractError> {
    let feed = feed_rs::parser::parse(text.as_bytes())
        .map_err(|e| ExtractError::NotAFeed(e.to_string()))?;
    Ok(feed
        .entries
        .into_iter()
        .filter_map(|entry| read_entry(entry, feed_url, id_pattern))
        .collect())
}

fn read_entry(
    entry: feed_rs::model::Entry,
    feed_url: &Url,
    id_pattern: Option<&Regex>,
) -> Option<Scraped> {
    let href = entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or(entry.links.first())?
        .href
        .clone();
    let link = canonical_link(feed_url, &href)?;
    let title = clean_text(&html_to_text(&entry.title.as_ref()?.content));
    if title.is_empty() {
        return None;
    }
    let summary = entry
        .summary
        .as_ref()
        .map(|t| clean_text(&html_to_text(&t.content)))
        .filter(|s| !s.is_empty());
    let content_html = entry
        .content
        .as_ref()
        .and_then(|c| c.body.as_deref())
        .map(|body| sanitize_html(body, &link))
        .filter(|s| !s.trim().is_empty());
    let image = entry
        .media
        .iter()
        .flat_map(|m| {
            let contents = m
                .content
                .iter()
                .filter(|c| {
                    c.content_type
                        .as_ref()
                        .is_none_or(|t| t.to_string().starts_with("image/"))
                })
                .filter_map(|c| c.url.as_ref().map(Url::to_string));
            contents.chain(m.thumbnails.iter().map(|t| t.image.uri.clone()))
        })
        .find_map(|src| {
            let url = link.join(&src).ok()?;
            matches!(url.scheme(), "http" | "https").then(|| url.to_string())
        });
    let date = entry
        .published
        .or(entry.updated)
        .map(|d| ParsedDate::Absolute(d.fixed_offset()));
    Some(Scraped {
        key: item_key(&link, id_pattern),
        title,
        link: link.to_string(),
        date,
        summary,
        content_html,
        image,
    })
}

/// Titles and summaries in feeds are often HTML; feeds and posts want plain text.
fn html_to_text(s: &str) -> String {
    if !s.contains('<') && !s.contains('&') {
        return s.to_owned();
    }
    scraper::Html::parse_fragment(s)
        .root_element()
        .text()
        .collect::<String>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title><link>https://ex.org/</link>
<item><title>First &amp; best</title><link>/news/1?utm_source=rss</link><guid>1</guid>
<pubDate>Sat, 21 Mar 2026 10:00:00 +0500</pubDate><description>&lt;p&gt;Lead &lt;b&gt;one&lt;/b&gt;&lt;/p&gt;</description>
<media:content url="https://ex.org/1.jpg" medium="image" type="image/jpeg"/></item>
<item><title>No link</title></item>
</channel></rss>"#;

    const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:x</id><updated>2026-03-21T10:00:00Z</updated>
<entry><title type="html">&lt;i&gt;Second&lt;/i&gt;</title><id>urn:2</id><link rel="alternate" href="https://ex.org/news/2"/>
<updated>2026-03-21T10:00:00Z</updated><content type="html">&lt;p onclick="x()"&gt;Body&lt;script&gt;alert(1)&lt;/script&gt;&lt;a href="javascript:y()"&gt;l&lt;/a&gt;&lt;/p&gt;</content></entry>
</feed>"#;

    const JSON: &str = r#"{"version":"https://jsonfeed.org/version/1.1","title":"T","items":[
{"id":"3","url":"https://ex.org/news/3","title":"Third","content_html":"<p>Three</p>","date_published":"2026-03-21T10:00:00+05:00","image":"https://ex.org/3.jpg"}]}"#;

    #[rstest]
    #[case::rss(RSS, "First & best", "https://ex.org/news/1")]
    #[case::atom(ATOM, "Second", "https://ex.org/news/2")]
    #[case::json_feed(JSON, "Third", "https://ex.org/news/3")]
    fn upstream_feeds(#[case] text: &str, #[case] title: &str, #[case] link: &str) {
        let base = Url::parse("https://ex.org/feed").unwrap();
        let items = feed_entries(text, &base, None).unwrap();
        assert_eq!(items.len(), 1, "entries without a link are skipped");
        assert_eq!(items[0].title, title);
        assert_eq!(items[0].link, link);
        assert!(items[0].date.is_some());
    }

    #[test]
    fn rss_summary_is_plain_text_and_image_is_kept() {
        let base = Url::parse("https://ex.org/feed").unwrap();
        let item = &feed_entries(RSS, &base, None).unwrap()[0];
        assert_eq!(item.summary.as_deref(), Some("Lead one"));
        assert_eq!(item.image.as_deref(), Some("https://ex.org/1.jpg"));
    }

    #[test]
    fn atom_content_is_sanitized() {
        let base = Url::parse("https://ex.org/feed").unwrap();
        let html = feed_entries(ATOM, &base, None).unwrap()[0]
            .content_html
            .clone()
            .unwrap();
        assert!(html.contains("Body"), "{html}");
        assert!(
            !html.contains("script") && !html.contains("onclick") && !html.contains("javascript"),
            "{html}"
        );
    }

    #[test]
    fn not_a_feed_is_an_error() {
        let base = Url::parse("https://ex.org/feed").unwrap();
        assert!(matches!(
            feed_entries("<html><body>hi</body></html>", &base, None),
            Err(ExtractError::NotAFeed(_))
        ));
    }
}
