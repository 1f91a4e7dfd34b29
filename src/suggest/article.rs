//! `[sources.article]` from a few release pages: the article extractor finds the main text,
//! and the element that holds it is named by a stable selector that works on every page read.

use super::list::{stable_class, text_of};
use crate::dates;
use crate::extract::article;
use crate::text::clean;
use scraper::{ElementRef, Html, Selector};

/// `[sources.article]` keys found; all `None` when nothing common was found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArticleProposal {
    pub body: Option<String>,
    pub date: Option<String>,
    pub image: Option<String>,
}

impl ArticleProposal {
    pub fn is_empty(&self) -> bool {
        self.body.is_none() && self.date.is_none() && self.image.is_none()
    }
}

/// Proposes article selectors from pages `(url, html)` of the same source.
pub fn propose(pages: &[(url::Url, String)]) -> ArticleProposal {
    if pages.is_empty() {
        return ArticleProposal::default();
    }
    let docs: Vec<(Html, String)> = pages
        .iter()
        .map(|(url, html)| {
            let text = article::extract(html, Some(url), None).text;
            (Html::parse_document(html), clean(&text))
        })
        .collect();
    // The first page's candidates, kept when they name the body on every page read.
    let (first_doc, first_text) = &docs[0];
    let body = body_candidates(first_doc, first_text)
        .into_iter()
        .find(|css| {
            Selector::parse(css).ok().is_some_and(|s| {
                docs.iter()
                    .all(|(d, t)| d.select(&s).next().is_some_and(|e| covers(&text_of(e), t)))
            })
        });
    let common = |css: &str, attr: &str, check: &dyn Fn(&str) -> bool| {
        let s = Selector::parse(css).ok()?;
        docs.iter()
            .all(|(d, _)| {
                d.select(&s)
                    .next()
                    .and_then(|e| e.value().attr(attr))
                    .is_some_and(check)
            })
            .then(|| format!("{css}@{attr}"))
    };
    let is_date = |v: &str| dates::parse_date(v, None).is_some();
    let date = common(
        "meta[property='article:published_time']",
        "content",
        &is_date,
    )
    .or_else(|| common("time", "datetime", &is_date));
    let image = common("meta[property='og:image']", "content", &|v: &str| {
        !v.trim().is_empty()
    });
    ArticleProposal { body, date, image }
}

/// Whether `container` holds the extracted text without much more: its start and end, and
/// at most twice its length.
fn covers(container: &str, extracted: &str) -> bool {
    if extracted.chars().count() < 40 {
        return false;
    }
    let head: String = extracted.chars().take(40).collect();
    let tail: String = {
        let v: Vec<char> = extracted.chars().collect();
        v[v.len().saturating_sub(40)..].iter().collect()
    };
    container.contains(&head)
        && container.contains(&tail)
        && container.chars().count() <= extracted.chars().count() * 2
}

/// Selectors (`div.content-text`, `article#main`) of the elements holding the extracted text,
/// the tightest first.
fn body_candidates(doc: &Html, extracted: &str) -> Vec<String> {
    let mut found: Vec<(usize, String)> = Vec::new();
    for e in doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
    {
        let tag = e.value().name();
        if !matches!(tag, "div" | "article" | "section" | "main") {
            continue;
        }
        let text = text_of(e);
        if !covers(&text, extracted) {
            continue;
        }
        let mut names: Vec<String> = e
            .value()
            .classes()
            .filter(|c| stable_class(c))
            .map(|c| format!("{tag}.{c}"))
            .collect();
        if let Some(id) = e.value().id().filter(|id| stable_class(id)) {
            names.push(format!("{tag}#{id}"));
        }
        if matches!(tag, "article" | "main") {
            names.push(tag.to_owned());
        }
        for css in names {
            // The name must pick this very element first on the page.
            let first = Selector::parse(&css)
                .ok()
                .and_then(|s| doc.select(&s).next())
                .is_some_and(|f| f.id() == e.id());
            if first {
                found.push((text.chars().count(), css));
            }
        }
    }
    found.sort_by_key(|(len, _)| *len);
    found.into_iter().map(|(_, css)| css).collect()
}
