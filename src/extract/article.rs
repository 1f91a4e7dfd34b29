//! Article pages: the main text, title, date, lead image and summary of one page (the
//! `herald extract` command, in the binary's `cli`, reads the pages and prints what this finds).
//!
//! The stages, each in its own module:
//! - [`dom`]: the page parsed as browsers parse it (html5ever) into a flat tree in document order;
//! - [`content`]: finding the article (readability-style scoring) and writing it out without
//!   boilerplate (trafilatura-style cleaning) as text and HTML;
//! - [`meta`]: title, date, image from meta tags, JSON-LD, `<time>` and the text;
//! - [`summary`]: the lead, cut at a sentence boundary.
//!
//! With `[sources.article]` selectors, `body`, `date` and `image` come from them instead (read
//! with `scraper`, like list pages); the body is still cleaned of share bars and "Go back" links.
//! Quality and speed are measured by `bash benches/extraction/run.sh` (issue 5).

mod content;
// List pages separate words at the same block edges (`html::element_text`).
pub(crate) use content::is_block;
mod dom;
mod meta;
#[cfg(test)]
mod meta_rules;
pub mod summary;

use crate::config::ArticleSelectors;
use crate::dates::ParsedDate;
use std::borrow::Cow;
use url::Url;

/// What the extractor found on one page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Article {
    pub title: Option<String>,
    pub date: Option<ParsedDate>,
    /// Absolute http(s) URL of the lead image.
    pub image: Option<String>,
    /// The lead, at most [`Options::summary_length`] characters.
    pub summary: Option<String>,
    /// The main text, paragraphs separated by blank lines.
    pub text: String,
    /// The main text as sanitized HTML with absolute URLs (empty without a page URL to make
    /// them absolute against, as relative links in a feed would point nowhere).
    pub html: String,
}

/// Settings of one extraction.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    /// The page's address: relative links and images resolve against it (and `<base href>`).
    pub url: Option<&'a Url>,
    /// The source's `[sources.article]` selectors; `body` None means "find it automatically".
    pub selectors: Option<&'a ArticleSelectors>,
    /// Summary length in characters.
    pub summary_length: usize,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            url: None,
            selectors: None,
            summary_length: summary::DEFAULT_LENGTH,
        }
    }
}

/// Extracts the article of one page. `url` resolves relative links; `selectors` are the
/// source's `[sources.article]` — when `body` is None the main text is found automatically.
pub fn extract(html: &str, url: Option<&Url>, selectors: Option<&ArticleSelectors>) -> Article {
    extract_with(
        html,
        &Options {
            url,
            selectors,
            ..Options::default()
        },
    )
}

/// [`extract`] with every setting.
pub fn extract_with(html: &str, options: &Options<'_>) -> Article {
    let doc = dom::Doc::parse(html);
    let base = meta::base_url(&doc, options.url);
    let meta_tags = meta::meta_tags(&doc);
    let ld = meta::json_ld(&doc);
    let picked = options
        .selectors
        .filter(|s| s.body.is_some() || s.date.is_some() || s.image.is_some())
        .map(|s| Picked::read(html, s, base.as_ref()));

    let body = match picked.as_ref().and_then(|p| p.body.as_deref()) {
        Some(fragment) => {
            let fragment = dom::Doc::parse(fragment);
            let main = content::main_text(&fragment, Some(0), base.is_some());
            (main, Some(fragment))
        }
        None => (content::main_text(&doc, None, base.is_some()), None),
    };
    let (mut main, fragment) = body;
    // A page that shows a teaser of what its JSON-LD `articleBody` holds in full (a paywall, a
    // "read more" button): the metadata's text is the article.
    if fragment.is_none()
        && let Some(ld_body) = meta::json_ld_string(&ld, "articleBody")
    {
        let shown = content::text_chars(&main.text);
        let full = content::from_article_body(ld_body);
        if content::text_chars(&full.text) > shown.saturating_mul(2).max(200) {
            let images = std::mem::take(&mut main.images);
            main = full;
            main.images = images;
            if base.is_none() {
                main.html.clear();
            }
        }
    }
    let image_doc = fragment.as_ref().unwrap_or(&doc);

    let marks = meta::Marks::of(&doc);
    let headline = meta::headline(&doc, &marks);
    let date = picked.as_ref().and_then(|p| p.date).or_else(|| {
        // The page's address, else the one it gives for itself.
        let address = options.url.map(Url::as_str).or_else(|| {
            meta_tags
                .iter()
                .find(|(k, _)| k == "og:url")
                .map(|(_, v)| *v)
        });
        meta::date(&doc, &meta_tags, &ld, &marks, headline, address)
    });
    let image = picked.as_ref().and_then(|p| p.image.clone()).or_else(|| {
        let source = picked
            .as_ref()
            .and_then(|p| p.body.as_deref())
            .filter(|_| fragment.is_some())
            .unwrap_or(html);
        meta::image(
            image_doc,
            &meta_tags,
            &ld,
            &main.images,
            source,
            base.as_ref(),
        )
    });
    let html = base
        .as_ref()
        .map(|b| crate::extract::sanitize_html(&main.html, b))
        .unwrap_or_default();
    Article {
        title: meta::title(&doc, &meta_tags, headline),
        date,
        image,
        summary: summary::lead(
            &main.paragraphs,
            &match &fragment {
                Some(f) => meta::Marks::of(f).heading_texts(f),
                None => marks.heading_texts(&doc),
            },
            options.summary_length,
        ),
        text: main.text,
        html,
    }
}

/// What the configured selectors found.
struct Picked {
    /// The inner HTML of the body element.
    body: Option<String>,
    date: Option<ParsedDate>,
    image: Option<String>,
}

impl Picked {
    fn read(html: &str, sel: &ArticleSelectors, base: Option<&Url>) -> Picked {
        // The selectors read a tree built as it comes; a page nested past any real article
        // would take the tree builder time growing with its depth squared (800,000 `<div>`s
        // fit in the body limit: hours). It is read as the automatic reader reads it,
        // flattened, without the selectors.
        if let Some(depth) = crate::extract::depth::too_deep(html) {
            tracing::warn!(
                depth,
                "an article page nested too deep for its selectors: read without them"
            );
            return Picked {
                body: None,
                date: None,
                image: None,
            };
        }
        let doc = scraper::Html::parse_document(html);
        let root = doc.root_element();
        let body = sel
            .body
            .as_ref()
            .and_then(|p| p.selector.as_ref())
            .and_then(|s| root.select(s).next())
            .map(|e| e.inner_html());
        let date = sel
            .date
            .as_ref()
            .and_then(|p| crate::extract::html::pick(root, p))
            .and_then(|t| crate::dates::parse_date(&t, None));
        let image = sel.image.as_ref().and_then(|p| {
            let src = crate::extract::html::pick_image(root, p)?;
            let url = match base {
                Some(b) => b.join(&src).ok()?,
                None => Url::parse(&src).ok()?,
            };
            matches!(url.scheme(), "http" | "https").then(|| url.to_string())
        });
        Picked { body, date, image }
    }
}

/// A date as `herald extract` prints it: RFC 3339 when the page gives a zone; a zone-less local
/// time or a bare day as written (the source's timezone is applied later, by the pipeline).
pub fn date_string(date: &ParsedDate) -> String {
    match date {
        ParsedDate::Absolute(t) => t.to_rfc3339(),
        ParsedDate::Local(t) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
        ParsedDate::Day(d) => d.format("%Y-%m-%d").to_string(),
    }
}

/// Decodes a page read from a file. Valid UTF-8 that declares no other charset is taken as
/// is (the common case, and the benchmark's: a full `chardetng` pass over every page would cost
/// more than the extraction), and so is valid UTF-8 with characters past ASCII whatever it
/// declares: text in a legacy charset is almost never valid UTF-8 by chance, while a page saved
/// as UTF-8 often keeps the `charset=gb2312` it was served with. Anything else goes through
/// [`crate::encoding::decode`].
pub fn decode_file(bytes: &[u8]) -> String {
    decode_bytes(bytes).into_owned()
}

/// [`decode_file`] without a copy of the common case: the page's own bytes as text.
pub fn decode_bytes(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && (!text.is_ascii() || declared_charset(bytes).is_none_or(|c| c == "utf-8" || c == "utf8"))
    {
        return Cow::Borrowed(text.strip_prefix('\u{feff}').unwrap_or(text));
    }
    Cow::Owned(crate::encoding::decode(bytes, None))
}

/// The charset named in the first 2 KiB (`charset=` or XML `encoding=`), lower-cased.
fn declared_charset(bytes: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]).to_ascii_lowercase();
    ["charset=", "encoding="].iter().find_map(|key| {
        let pos = head.find(key)?;
        let rest = head[pos + key.len()..].trim_start_matches(['"', '\'', ' ']);
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
            .collect();
        (!name.is_empty()).then_some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page nested past any real article is not given to the selectors (whose tree builder
    /// would take time growing with the depth squared): it is read flattened, as without them.
    #[test]
    fn a_page_nested_too_deep_is_read_without_the_selectors() {
        let depth = crate::extract::depth::MAX_DEPTH + 100;
        let html = format!(
            "<html><body>{}<div class='content-text'>Deep text</div>{}</body></html>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let sel = ArticleSelectors {
            body: Some(crate::config::Pick::parse("div.content-text").unwrap()),
            date: None,
            image: None,
        };
        assert_eq!(Picked::read(&html, &sel, None).body, None);
        let shallow = "<html><body><div class='content-text'>Text</div></body></html>";
        assert!(Picked::read(shallow, &sel, None).body.is_some());
    }

    fn page(ld_body: &str) -> String {
        format!(
            "<html><head><script type=\"application/ld+json\">{{\"@type\":\"NewsArticle\",\
             \"articleBody\":{}}}</script></head><body><h1>Budget</h1><article>\
             <p>The council passed the budget.</p><a href=\"/subscribe\">Subscribe to read</a>\
             </article></body></html>",
            serde_json::Value::from(ld_body)
        )
    }

    /// A teaser page whose JSON-LD holds the whole article gives the whole article.
    #[test]
    fn json_ld_article_body_fills_a_teaser() {
        let full = "The council passed the budget on Tuesday after a long debate about schools.\n\
                    Teachers welcomed the new money, and the mayor said roads come next year.\n\
                    The opposition voted against it, saying the plan borrows too much for too little.\n\
                    A final vote on the harbour works is expected before the winter holidays begin.";
        let a = extract(&page(full), None, None);
        assert!(a.text.contains("roads come next year"), "{}", a.text);
        assert_eq!(a.text.split("\n\n").count(), 4, "{}", a.text);
    }

    /// A short `articleBody` (a description) does not replace the page's text.
    #[test]
    fn a_short_article_body_is_not_used() {
        let a = extract(&page("Budget news."), None, None);
        assert!(a.text.contains("passed the budget"), "{}", a.text);
        assert!(!a.text.contains("Budget news"), "{}", a.text);
    }
}
