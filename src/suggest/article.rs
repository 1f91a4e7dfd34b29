//! `[sources.article]` from a few release pages: the article extractor finds the main text,
//! and the element that holds it is named by a stable selector that works on every page read.

use super::list::{anchors_of, stable_class, text_of};
use crate::dates;
use crate::extract::article;
use crate::text::clean;
use chrono::NaiveDate;
use chrono_tz::Tz;
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

/// Proposes article selectors from pages `(url, html)` of the same source; `list_days` holds
/// the day the list gives each page's release (`None` where it gives none), read in `tz`.
pub fn propose(
    pages: &[(url::Url, String)],
    list_days: &[Option<NaiveDate>],
    tz: Tz,
) -> ArticleProposal {
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
    let date = article_date(&docs, list_days, tz);
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

/// The `[sources.article]` date: `article:published_time`, else a `<time datetime>` named by
/// a selector whose first match reads a date on most pages read, and different dates on
/// different pages (a header's "today" reads the same day on each: it is the day the pages
/// were read, not their releases'), each the day the list gives the release where it gives
/// one (a day apart at most: the list may write another zone's day). Of the `<time>`s, those
/// outside the page's chrome first, and of them the one nearest the page's `h1`.
fn article_date(
    docs: &[(Html, String)],
    list_days: &[Option<NaiveDate>],
    tz: Tz,
) -> Option<String> {
    // The values a selector reads, on the pages where it reads a date: more than half of them
    // (a page may lack its date or write it wrong), each agreeing with the list's day.
    let read = |css: &str, attr: &str| -> Option<Vec<String>> {
        let s = Selector::parse(css).ok()?;
        let mut values = Vec::new();
        for (i, (d, _)) in docs.iter().enumerate() {
            let Some(v) = d.select(&s).next().and_then(|e| e.value().attr(attr)) else {
                continue;
            };
            let v = v.trim().to_owned();
            let Some(date) = dates::parse_date(&v, None) else {
                continue;
            };
            let day = super::list::written_day_in(&date, tz);
            if let Some(listed) = list_days.get(i).copied().flatten()
                && (day - listed).num_days().abs() > 1
            {
                return None;
            }
            values.push(v);
        }
        (values.len() * 2 > docs.len()).then_some(values)
    };
    // One page read proves nothing either way; two or more must not all agree.
    let differ = |values: &[String]| values.len() < 2 || values.iter().any(|v| *v != values[0]);
    let meta = "meta[property='article:published_time']";
    if read(meta, "content").is_some_and(|v| differ(&v)) {
        return Some(format!("{meta}@content"));
    }
    let (first, _) = docs.first()?;
    let order: Vec<ElementRef<'_>> = first
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .collect();
    let position = |e: ElementRef<'_>| order.iter().position(|x| x.id() == e.id());
    let h1 = Selector::parse("h1")
        .ok()
        .and_then(|s| first.select(&s).next())
        .and_then(position)
        .unwrap_or(0);
    let Ok(time) = Selector::parse("time[datetime]") else {
        return None;
    };
    let h1_element = Selector::parse("h1")
        .ok()
        .and_then(|s| first.select(&s).next());
    // A `<time>` in the page's chrome (its menu, sidebar or footer, a site header that holds
    // no `h1` and lies in no article) is the page's, not the release's: tried last.
    let chrome = |t: ElementRef<'_>| {
        let chain: Vec<ElementRef<'_>> = t.ancestors().filter_map(ElementRef::wrap).collect();
        let in_article = chain
            .iter()
            .any(|a| matches!(a.value().name(), "article" | "main"));
        chain.iter().any(|a| match a.value().name() {
            "nav" | "footer" | "aside" => true,
            "header" => {
                !in_article && !h1_element.is_some_and(|h| h.ancestors().any(|x| x.id() == a.id()))
            }
            _ => false,
        })
    };
    let mut times: Vec<(bool, usize, ElementRef<'_>)> = first
        .select(&time)
        .filter_map(|t| Some((chrome(t), position(t)?.abs_diff(h1), t)))
        .collect();
    times.sort_by_key(|(chrome, distance, _)| (*chrome, *distance));
    for (_, _, t) in times {
        let mut names: Vec<String> = stable_class_names(t)
            .into_iter()
            .map(|c| format!("time.{c}"))
            .collect();
        for a in t.ancestors().filter_map(ElementRef::wrap).take(4) {
            names.extend(anchors_of(a).into_iter().map(|a| format!("{a} time")));
        }
        names.push("time".into());
        for css in names {
            // The name must pick this very element first on the page.
            let names_it = Selector::parse(&css)
                .ok()
                .and_then(|s| first.select(&s).next())
                .is_some_and(|f| f.id() == t.id());
            if names_it && read(&css, "datetime").is_some_and(|v| differ(&v)) {
                return Some(format!("{css}@datetime"));
            }
        }
    }
    None
}

fn stable_class_names(e: ElementRef<'_>) -> Vec<&str> {
    e.value().classes().filter(|c| stable_class(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A release page of the red team's: a header's "today" before the article's own date.
    fn page(n: u32, day: u32) -> (url::Url, String) {
        let html = format!(
            r#"<html><body><header class="top"><div class="today">Today: <time
            datetime="2026-12-06">6 December 2026</time></div></header><div class="content"><div
            class="news-detail"><h1>Release number {n} of the ministry</h1><div class="news-date"><time
            datetime="2026-12-{day:02}T10:00:00+05:00">{day} December 2026</time></div><div
            class="news-text"><p>The first paragraph of release {n}, telling what happened in some
            detail and with facts, long enough to be the page's main text.</p><p>A second paragraph
            with quotes of officials and more detail on the event of this week in the region.</p>
            <p>A third paragraph on the plans for the months to come for the region's people.</p>
            </div></div></div><footer>2026</footer></body></html>"#
        );
        (
            url::Url::parse(&format!("https://x.test/press/{n}")).unwrap(),
            html,
        )
    }

    fn day(d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2026, 12, d)
    }

    #[test]
    fn the_article_date_is_the_one_that_differs_between_pages_not_the_headers_today() {
        let utc = chrono_tz::UTC;
        let p = propose(&[page(1, 5), page(2, 3), page(3, 1)], &[], utc);
        assert_eq!(
            p.date.as_deref(),
            Some("div.news-date time@datetime"),
            "{p:?}"
        );
        // One page read: the `<time>` nearest the `h1`.
        let p = propose(&[page(1, 5)], &[], utc);
        assert_eq!(
            p.date.as_deref(),
            Some("div.news-date time@datetime"),
            "{p:?}"
        );
        // The same day in the article's place on every page is no release date either.
        let p = propose(&[page(1, 6), page(2, 6)], &[], utc);
        assert_eq!(p.date, None, "{p:?}");
    }

    #[test]
    fn a_headers_date_is_no_article_date_even_when_it_varies_and_one_page_is_wrong() {
        // The red team's release pages: one page's "today" differs, one article date is no
        // date at all ("2026-12-00").
        let (u, odd_today) = page(1, 5);
        let odd_today = (
            u,
            odd_today.replace("datetime=\"2026-12-06\"", "datetime=\"2026-11-11\""),
        );
        let (u, bad_date) = page(2, 3);
        let bad_date = (u, bad_date.replace("2026-12-03T", "2026-12-00T"));
        let p = propose(&[odd_today, bad_date, page(3, 1)], &[], chrono_tz::UTC);
        assert_eq!(
            p.date.as_deref(),
            Some("div.news-date time@datetime"),
            "{p:?}"
        );
        // The article's date below its text, farther from the `h1` than the header's.
        let (u, html) = page(4, 2);
        let start = html.find("<div class=\"news-date\">").unwrap();
        let end = start + html[start..].find("</div>").unwrap() + "</div>".len();
        let date = html[start..end].to_owned();
        let below = html.replacen(&date, "", 1).replace(
            "</div></div></div><footer>",
            &format!("</div>{date}</div></div><footer>"),
        );
        assert!(
            below.find(&date) > below.find("A third paragraph"),
            "{below}"
        );
        let p = propose(&[(u, below)], &[], chrono_tz::UTC);
        assert_eq!(
            p.date.as_deref(),
            Some("div.news-date time@datetime"),
            "{p:?}"
        );
    }

    #[test]
    fn the_article_date_agrees_with_the_lists_day() {
        let utc = chrono_tz::UTC;
        // One page: the header's "today" (the 6th) is the list's day, the article's is not.
        let p = propose(&[page(1, 1)], &[day(6)], utc);
        assert_eq!(p.date.as_deref(), Some("div.today time@datetime"), "{p:?}");
        let p = propose(&[page(1, 5), page(2, 3)], &[day(5), day(3)], utc);
        assert_eq!(
            p.date.as_deref(),
            Some("div.news-date time@datetime"),
            "{p:?}"
        );
        // A list that disagrees with every `<time>`: none is proposed.
        let p = propose(&[page(1, 5), page(2, 3)], &[day(20), None], utc);
        assert_eq!(p.date, None, "{p:?}");
    }
}
