//! What a page says about its article besides the text: title, publication date, lead image,
//! and the JSON-LD `articleBody` some sites ship.

use super::dom::{Doc, Kind, Node};
use crate::dates::{ParsedDate, parse_date};
use url::Url;

/// Meta tags (`property`, `name` or `itemprop`) that carry the publication date, best first.
const DATE_META: &[&str] = &[
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "publishdate",
    "publish-date",
    "publish_date",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dc.date",
    "dcterms.date",
    "date",
    "article.published",
    "published_time",
    "og:published_time",
    "datecreated",
];

/// Meta tags for the lead image, best first.
const IMAGE_META: &[&str] = &[
    "og:image",
    "og:image:url",
    "og:image:secure_url",
    "twitter:image",
    "twitter:image:src",
];

/// The meta tags of a page: (lower-cased key, content), in document order.
pub fn meta_tags(doc: &Doc) -> Vec<(String, &str)> {
    doc.elements("meta")
        .filter_map(|i| {
            let n = doc.node(i);
            let key = n
                .attr("property")
                .or_else(|| n.attr("name"))
                .or_else(|| n.attr("itemprop"))?;
            let content = n.attr("content")?.trim();
            (!content.is_empty()).then(|| (key.trim().to_ascii_lowercase(), content))
        })
        .collect()
}

fn first_meta<'a>(meta: &[(String, &'a str)], keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| meta.iter().find(|(key, _)| key == k).map(|(_, v)| *v))
}

/// Values of the JSON-LD blocks of a page.
pub fn json_ld(doc: &Doc) -> Vec<serde_json::Value> {
    doc.elements("script")
        .filter(|&i| {
            doc.node(i)
                .attr("type")
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
        })
        .filter_map(|i| {
            let text = doc.children(i).find_map(|c| match &doc.node(c).kind {
                Kind::Text(t) => Some(&**t),
                _ => None,
            })?;
            serde_json::from_str(text.trim().trim_end_matches(';')).ok()
        })
        .collect()
}

/// The first string value of `key` anywhere in the JSON-LD values (objects, arrays, `@graph`),
/// looking at most a few levels deep.
pub fn json_ld_string<'a>(values: &'a [serde_json::Value], key: &str) -> Option<&'a str> {
    let mut stack: Vec<(&serde_json::Value, u8)> = values.iter().rev().map(|v| (v, 0)).collect();
    while let Some((v, depth)) = stack.pop() {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(s) = map.get(key).and_then(|s| s.as_str()) {
                    return Some(s);
                }
                if depth < 4 {
                    stack.extend(map.values().rev().map(|v| (v, depth + 1)));
                }
            }
            serde_json::Value::Array(items) if depth < 4 => {
                stack.extend(items.iter().rev().map(|v| (v, depth + 1)));
            }
            _ => {}
        }
    }
    None
}

pub fn title(doc: &Doc, meta: &[(String, &str)]) -> Option<String> {
    let from_meta = first_meta(meta, &["og:title", "twitter:title"]).map(str::to_owned);
    from_meta
        .or_else(|| {
            doc.elements("h1")
                .map(|i| element_text(doc, i))
                .find(|t| !t.is_empty())
        })
        .or_else(|| {
            doc.elements("title")
                .map(|i| element_text(doc, i))
                .find(|t| !t.is_empty())
        })
        .map(|t| crate::text::clean(&t))
        .filter(|t| !t.is_empty())
}

/// The text of an element, whitespace collapsed.
pub fn element_text(doc: &Doc, i: usize) -> String {
    let mut s = String::new();
    for j in i..doc.subtree_end(i) {
        if let Kind::Text(t) = &doc.node(j).kind {
            s.push_str(t);
        }
    }
    crate::text::clean(&s)
}

/// The publication date: meta tags, JSON-LD `datePublished`, `<time datetime>`, then short
/// texts that read as a date.
pub fn date(doc: &Doc, meta: &[(String, &str)], ld: &[serde_json::Value]) -> Option<ParsedDate> {
    DATE_META
        .iter()
        .filter_map(|k| meta.iter().find(|(key, _)| key == k).map(|(_, v)| *v))
        .find_map(|v| parse_date(v, None))
        .or_else(|| json_ld_string(ld, "datePublished").and_then(|v| parse_date(v, None)))
        .or_else(|| {
            doc.elements("time").find_map(|i| {
                let n = doc.node(i);
                n.attr("datetime")
                    .and_then(|v| parse_date(v, None))
                    .or_else(|| parse_date(&element_text(doc, i), None))
            })
        })
        .or_else(|| date_in_text(doc))
}

/// A short text node with a year in it that parses as a date (akorda.kz writes "21 March 2026"
/// in an `h5`/`span` with no markup of its own). Looks at the first few such texts only.
fn date_in_text(doc: &Doc) -> Option<ParsedDate> {
    let mut tries = 0;
    for (i, node) in doc.nodes.iter().enumerate() {
        let Kind::Text(t) = &node.kind else { continue };
        let t = t.trim();
        if t.len() < 6 || t.len() > 80 || !has_year(t) {
            continue;
        }
        let parent = doc.node(node.parent).name();
        if matches!(
            parent,
            "script" | "style" | "title" | "noscript" | "textarea"
        ) || i == 0
        {
            continue;
        }
        tries += 1;
        if let Some(d) = parse_date(t, None) {
            return Some(d);
        }
        if tries > 40 {
            break;
        }
    }
    None
}

fn has_year(t: &str) -> bool {
    let b = t.as_bytes();
    b.windows(4)
        .any(|w| (w.starts_with(b"19") || w.starts_with(b"20")) && w.iter().all(u8::is_ascii_digit))
}

/// The `src` an image really shows: lazy-loading attributes first, then the largest `srcset`
/// candidate, then `src` (unless it is a `data:` placeholder).
pub fn image_src(node: &Node) -> Option<&str> {
    const LAZY: &[&str] = &[
        "data-src",
        "data-lazy-src",
        "data-original",
        "data-lazy",
        "data-url",
        "data-hi-res-src",
    ];
    let usable = |v: &&str| {
        let v = v.trim();
        !v.is_empty() && !v.starts_with("data:")
    };
    LAZY.iter()
        .filter_map(|a| node.attr(a))
        .find(usable)
        .or_else(|| {
            ["srcset", "data-srcset"]
                .iter()
                .filter_map(|a| node.attr(a))
                .find_map(largest_in_srcset)
        })
        .or_else(|| node.attr("src").filter(usable))
        .map(str::trim)
}

/// The candidate with the largest width (or density) descriptor of a `srcset`.
fn largest_in_srcset(srcset: &str) -> Option<&str> {
    srcset
        .split(',')
        .filter_map(|c| {
            let mut parts = c.split_whitespace();
            let url = parts.next()?;
            let size = parts
                .next()
                .and_then(|d| d.trim_end_matches(['w', 'x']).parse::<f32>().ok())
                .unwrap_or(1.0);
            (!url.starts_with("data:")).then_some((url, size))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(url, _)| url)
}

/// Is this `<img>` plausibly a content picture, not a tracker, icon or logo?
fn is_content_image(node: &Node, src: &str) -> bool {
    let small = |a: &str| {
        node.attr(a)
            .and_then(|v| v.trim().trim_end_matches("px").parse::<u32>().ok())
            .is_some_and(|v| v < 100)
    };
    if small("width") || small("height") {
        return false;
    }
    let lower = src.to_ascii_lowercase();
    let names = format!(
        "{} {} {}",
        lower,
        node.attr("class").unwrap_or("").to_ascii_lowercase(),
        node.attr("alt").unwrap_or("").to_ascii_lowercase()
    );
    ![
        "logo", "icon", "avatar", "pixel", "spacer", "blank.", "tracking", "sprite", "1x1",
        "emoji", "badge", "button", "gravatar",
    ]
    .iter()
    .any(|w| names.contains(w))
        && !lower.ends_with(".svg")
}

/// The lead image: `og:image`/`twitter:image`, else the first content picture among `imgs`.
pub fn image(
    doc: &Doc,
    meta: &[(String, &str)],
    imgs: &[usize],
    base: Option<&Url>,
) -> Option<String> {
    let absolute = |src: &str| -> Option<String> {
        let url = match base {
            Some(b) => b.join(src.trim()).ok()?,
            None => Url::parse(src.trim()).ok()?,
        };
        matches!(url.scheme(), "http" | "https").then(|| url.to_string())
    };
    first_meta(meta, IMAGE_META).and_then(absolute).or_else(|| {
        imgs.iter().find_map(|&i| {
            let node = doc.node(i);
            let src = image_src(node)?;
            if is_content_image(node, src) {
                absolute(src)
            } else {
                None
            }
        })
    })
}

/// The page's `<base href>` resolved against its address, when that is a web address (a
/// `javascript:` base would make every `href="#"` a script), else the address itself.
pub fn base_url(doc: &Doc, page: Option<&Url>) -> Option<Url> {
    let href = doc
        .elements("base")
        .find_map(|i| doc.node(i).attr("href").map(str::trim));
    let base = match (page, href) {
        (Some(p), Some(h)) => p.join(h).ok(),
        (None, Some(h)) => Url::parse(h).ok(),
        (_, None) => None,
    };
    base.filter(|b| matches!(b.scheme(), "http" | "https"))
        .or_else(|| page.cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srcset_takes_the_widest() {
        assert_eq!(
            largest_in_srcset("a.jpg 320w, b.jpg 1024w, c.jpg 640w"),
            Some("b.jpg")
        );
        assert_eq!(largest_in_srcset("a.jpg 1x, b.jpg 2x"), Some("b.jpg"));
    }

    #[test]
    fn lazy_source_wins_over_placeholder() {
        let doc = Doc::parse(r#"<img src="data:image/gif;base64,R0lG" data-src="/real.jpg">"#);
        let img = doc.elements("img").next().unwrap();
        assert_eq!(image_src(doc.node(img)), Some("/real.jpg"));
    }

    #[test]
    fn json_ld_in_a_graph() {
        let doc = Doc::parse(
            r#"<script type="application/ld+json">{"@graph":[{"@type":"WebPage"},{"@type":"NewsArticle","datePublished":"2026-03-21T10:00:00+05:00"}]}</script>"#,
        );
        let ld = json_ld(&doc);
        assert_eq!(
            json_ld_string(&ld, "datePublished"),
            Some("2026-03-21T10:00:00+05:00")
        );
    }
}
