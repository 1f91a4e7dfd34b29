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
