//! List pages: one element per release (`[sources.list] item`), and inside it the title, link,
//! date, summary and image, each read with a configured selector.

use super::{ExtractError, canonical_link, clean_text, dates, item_key};
use crate::config::{ListSelectors, Pick};
use crate::model::Scraped;
use regex::Regex;
use scraper::selector::ToCss;
use scraper::{ElementRef, Html, Selector};
use std::sync::LazyLock;
use url::Url;

static BASE_HREF: LazyLock<Selector> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
    Selector::parse("base[href]").unwrap()
});

/// Reads the value a `Pick` names inside `scope`: an attribute when `@attr` is given, else the
/// element's text with whitespace collapsed. `None` when nothing matches or the value is empty.
pub fn pick(scope: ElementRef<'_>, pick: &Pick) -> Option<String> {
    let target = match &pick.selector {
        Some(sel) => scope.select(sel).next()?,
        None => scope,
    };
    let value = match &pick.attr {
        Some(attr) => clean_text(target.value().attr(attr)?),
        None => clean_text(&target.text().collect::<String>()),
    };
    (!value.is_empty()).then_some(value)
}

/// The base that relative links on this page resolve against: its `<base href>` when present.
pub fn base_url(doc: &Html, page_url: &Url) -> Url {
    doc.select(&BASE_HREF)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| page_url.join(href.trim()).ok())
        .unwrap_or_else(|| page_url.clone())
}

/// Every release on a list page, in the page's order. Elements without a usable title or link
/// are skipped; a page where the item selector matches nothing is an error (a redesign, not a
/// quiet day).
pub fn list_page(
    html: &str,
    page_url: &Url,
    sel: &ListSelectors,
    id_pattern: Option<&Regex>,
) -> Result<Vec<Scraped>, ExtractError> {
    let doc = Html::parse_document(html);
    let base = base_url(&doc, page_url);
    let mut found = 0;
    let mut items = Vec::new();
    for element in doc.select(&sel.item) {
        found += 1;
        if let Some(item) = read_item(element, &base, sel, id_pattern) {
            items.push(item);
        }
    }
    if found == 0 {
        return Err(ExtractError::NothingMatched(sel.item.to_css_string()));
    }
    if items.is_empty() {
        return Err(ExtractError::NoUsableItems {
            found,
            item: sel.item.to_css_string(),
            title: sel.title.text.clone(),
            link: sel.link.text.clone(),
        });
    }
    Ok(items)
}

fn read_item(
    element: ElementRef<'_>,
    base: &Url,
    sel: &ListSelectors,
    id_pattern: Option<&Regex>,
) -> Option<Scraped> {
    let title = pick(element, &sel.title)?;
    let link = canonical_link(base, &pick(element, &sel.link)?)?;
    let date = sel
        .date
        .as_ref()
        .and_then(|p| pick(element, p))
        .and_then(|text| dates::parse_date(&text, sel.date_format.as_deref()));
    let summary = sel.summary.as_ref().and_then(|p| pick(element, p));
    let image = sel
        .image
        .as_ref()
        .and_then(|p| pick(element, p))
        .and_then(|src| canonical_image(base, &src));
    Some(Scraped {
        key: item_key(&link, id_pattern),
        title,
        link: link.to_string(),
        date,
        summary,
        content_html: None,
        image,
    })
}

/// Image URLs keep their query (it often selects the size) but must be absolute http(s).
fn canonical_image(base: &Url, src: &str) -> Option<String> {
    let mut url = base.join(src.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.set_fragment(None);
    Some(url.to_string())
}
