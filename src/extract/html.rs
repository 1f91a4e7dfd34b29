//! List pages: one element per release (`[sources.list] item`), and inside it the title, link,
//! date, summary and image, each read with a configured selector.

use super::{ExtractError, NoOwnLink, PageLinks, card_link, item_key, relative};
use crate::config::{ListSelectors, Pick};
use crate::dates;
use crate::model::Scraped;
use crate::text::clean;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use regex::Regex;
use scraper::selector::ToCss;
use scraper::{ElementRef, Html, Selector};
use std::collections::HashMap;
use std::sync::LazyLock;
use url::Url;

static BASE_HREF: LazyLock<Selector> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
    Selector::parse("base[href]").unwrap()
});

/// Pictures (an `image` pick without `@attr` reads the first one inside its element).
static IMAGES: LazyLock<Selector> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
    Selector::parse("img").unwrap()
});

/// Every link of a page (for the session it may carry: see `PageLinks`).
static ANCHORS: LazyLock<Selector> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
    Selector::parse("a[href]").unwrap()
});

/// Reads the value a `Pick` names inside `scope`: an attribute when `@attr` is given, else the
/// element's text with whitespace collapsed. `None` when nothing matches or the value is empty.
pub fn pick(scope: ElementRef<'_>, pick: &Pick) -> Option<String> {
    value_of(target(scope, pick)?, pick.attr.as_deref())
}

/// Reads the address a card's `link` names: with `@attr`, that attribute; without one, the
/// element's own `href`, else that of the first link inside it, else its text only when that
/// is an absolute http(s) address. An address field reads an address: `link = "h3 a"` (the
/// `@href` forgotten) must not make a release's address of its title.
pub fn pick_link(scope: ElementRef<'_>, pick: &Pick) -> Option<String> {
    if pick.attr.is_some() {
        return self::pick(scope, pick);
    }
    let target = target(scope, pick)?;
    let inner = || target.select(&ANCHORS).next();
    if let Some(href) = target
        .value()
        .attr("href")
        .or_else(|| inner()?.value().attr("href"))
    {
        let href = clean(href);
        return (!href.is_empty()).then_some(href);
    }
    value_of(target, None).filter(|text| {
        let lower = text.to_ascii_lowercase();
        (lower.starts_with("http://") || lower.starts_with("https://")) && !text.contains(' ')
    })
}

/// The element a pick reads: its selector's first match in `scope`, or `scope` itself.
fn target<'a>(scope: ElementRef<'a>, pick: &Pick) -> Option<ElementRef<'a>> {
    match &pick.selector {
        Some(sel) => scope.select(sel).next(),
        None => Some(scope),
    }
}

/// [`pick`] as herald read text before [`element_text`]: the text nodes joined as they come.
fn pick_as_before(scope: ElementRef<'_>, pick: &Pick) -> Option<String> {
    let target = target(scope, pick)?;
    let value = match pick.attr.as_deref() {
        Some(attr) => clean(target.value().attr(attr)?),
        None => clean(&target.text().collect::<String>()),
    };
    (!value.is_empty()).then_some(value)
}

/// An element's attribute `attr`, or without one its text ([`element_text`]), whitespace
/// collapsed; `None` when it shows nothing ([`crate::text::is_blank`]: a zero-width space).
fn value_of(target: ElementRef<'_>, attr: Option<&str>) -> Option<String> {
    let value = match attr {
        Some(attr) => clean(target.value().attr(attr)?),
        None => clean(&element_text(target)),
    };
    (!crate::text::is_blank(&value)).then_some(value)
}

/// An element's text as a reader sees it: a line break (`<br>`) or the edge of a block
/// (`<p>`, `<div>`, `<li>`, …) separates words, so that `Head<br>line` reads "Head line", not
/// "Headline"; the content of `<script>`, `<style>`, `<template>` and `<noscript>` is not
/// text. Whitespace is left for the caller to collapse.
pub fn element_text(element: ElementRef<'_>) -> String {
    text_without(element, &[])
}

/// [`element_text`] without the text of the elements `left_out` inside it (the title inside
/// the element a date is read from).
pub fn text_without(element: ElementRef<'_>, left_out: &[ElementRef<'_>]) -> String {
    use scraper::Node;
    let mut out = String::new();
    // Nodes still to visit, last first; `true`: the end of a block already opened.
    let mut stack = vec![(*element, false)];
    while let Some((node, closing)) = stack.pop() {
        match node.value() {
            Node::Text(text) => out.push_str(text),
            Node::Element(e) => {
                let name = e.name();
                if matches!(name, "script" | "style" | "template" | "noscript") {
                    continue;
                }
                if left_out.iter().any(|l| l.id() == node.id()) {
                    // What is left out still parts the words around it.
                    out.push(' ');
                    continue;
                }
                let block = super::article::is_block(name);
                if block {
                    out.push(' ');
                }
                if !closing {
                    if block {
                        stack.push((node, true));
                    }
                    stack.extend(node.children().rev().map(|c| (c, false)));
                }
            }
            _ => {}
        }
    }
    out
}

/// The base that relative links on this page resolve against: its `<base href>` when present
/// and a web address (`<base href="javascript:…">` would make every `href="#"` a script).
pub fn base_url(doc: &Html, page_url: &Url) -> Url {
    doc.select(&BASE_HREF)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| page_url.join(href.trim()).ok())
        .filter(|base| matches!(base.scheme(), "http" | "https"))
        .unwrap_or_else(|| page_url.clone())
}

/// Every release on a list page, in the page's order. Elements without a usable title or link
/// are skipped; a page where the item selector matches nothing is an error (a redesign, not a
/// quiet day).
/// When the page was read and in which zone: relative dates ("2 hours ago", "вчера") are read
/// against them.
#[derive(Clone, Copy, Debug)]
pub struct Reading {
    pub now: DateTime<Utc>,
    pub tz: Tz,
    /// Elements matching the item selector read at most (`max_page_items`); the rest of the
    /// page is left unread.
    pub max_items: usize,
    /// Numeric dates ("03/05/2026") are month first when the page itself gives no evidence
    /// (the source's region, [`dates::month_first_region`]).
    pub month_first: bool,
}

/// A list page as read: its releases, and the date texts that could not be read, as
/// `(link, text)` (the release is then dated by when herald first sees it: say so).
#[derive(Clone, Debug, Default)]
pub struct ListRead {
    pub items: Vec<Scraped>,
    pub unreadable_dates: Vec<(String, String)>,
    /// Cards the item selector matched that are no release read: the admin must hear of them,
    /// or a page that lost its links would look like a quiet day.
    pub skipped: Vec<SkippedCard>,
    /// The page's own link to its next (older) page, `rel="next"` (see [`next_page`]).
    pub next_page: Option<Url>,
}

/// A page's own link to its next page: the first `<link rel="next">` or `<a rel="next">`, on
/// the page's host, not the page itself, and shaped as this list's next page (see
/// [`pager_step`]): a "next story" or "next month" link elsewhere on the page is none. A
/// pager numbered from 0 (Drupal's `?page=1` is its second page) or by path (`/page/2/`) is
/// followed as the site numbers it.
pub fn next_page(doc: &Html, base: &Url, page_url: &Url) -> Option<Url> {
    static NEXT: LazyLock<Selector> = LazyLock::new(|| {
        #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
        Selector::parse("link[rel~=next][href], a[rel~=next][href]").unwrap()
    });
    let href = doc.select(&NEXT).next()?.value().attr("href")?;
    let mut next = base.join(href.trim()).ok()?;
    next.set_fragment(None);
    let same_host = next.host_str() == page_url.host_str();
    let http = matches!(next.scheme(), "http" | "https");
    (same_host && http && next != *page_url && pager_step(page_url, &next)).then_some(next)
}

/// Whether `next` is shaped as a next page of the list at `page`: the same path (a pager by
/// query), the path with numbered segments after it (`/news` → `/news/page/2`), or the same
/// path but for segments holding numbers (`/news/page/2` → `/news/page/3`).
fn pager_step(page: &Url, next: &Url) -> bool {
    let (p, n) = (
        page.path().trim_end_matches('/'),
        next.path().trim_end_matches('/'),
    );
    let numbered = |segment: &str| segment.bytes().any(|b| b.is_ascii_digit());
    if p == n {
        return true;
    }
    if let Some(rest) = n.strip_prefix(p).and_then(|r| r.strip_prefix('/')) {
        return rest.split('/').any(numbered) && rest.split('/').count() <= 2;
    }
    let (ps, ns): (Vec<&str>, Vec<&str>) = (p.split('/').collect(), n.split('/').collect());
    ps.len() == ns.len()
        && ps
            .iter()
            .zip(&ns)
            .all(|(a, b)| a == b || (numbered(a) || a.is_empty()) && numbered(b))
}

/// A card on a list page not read as a release, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedCard {
    /// Its place among the cards read, from 1.
    pub card: usize,
    /// Its title, else its link as written ("" when it has neither), cut short: enough to
    /// find it on the page.
    pub shows: String,
    pub why: SkipReason,
}

/// Why a card is not read as a release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The title selector finds no text, nor an image with `alt` or `title`.
    NoTitle,
    /// The link selector finds no link.
    NoLink,
    /// A link that is not http(s): `javascript:`, `data:`, `mailto:`.
    NotHttp,
    /// A link to the list page itself, at an anchor at most (`#frag-1`).
    ListPage,
    /// The same release as a card above it (the same link or id).
    Duplicate,
    /// The same link or id as a card above, with another title: two releases the `link`
    /// selector (a category link read for each card) or `id_pattern` cannot tell apart.
    SameId,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::NoTitle => "no title",
            SkipReason::NoLink => "no link",
            SkipReason::NotHttp => "a link that is not http(s)",
            SkipReason::ListPage => "a link to the list page itself",
            SkipReason::Duplicate => "the same link as a card above",
            SkipReason::SameId => {
                "the same release (link or id) as a card above, with another title (check the `link` selector and `id_pattern`)"
            }
        }
    }
}

/// Whether two titles read the same, case, spacing and punctuation aside.
fn same_words(a: &str, b: &str) -> bool {
    let words = |t: &str| -> Vec<String> {
        t.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    words(a) == words(b)
}

impl std::fmt::Display for SkippedCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "card {} ({:?}): {}",
            self.card,
            self.shows,
            self.why.as_str()
        )
    }
}

pub fn list_page(
    html: &str,
    page_url: &Url,
    sel: &ListSelectors,
    id_pattern: Option<&Regex>,
    reading: Reading,
) -> Result<Vec<Scraped>, ExtractError> {
    list_page_read(html, page_url, sel, id_pattern, reading).map(|r| r.items)
}

/// [`list_page`], with the dates that could not be read. Numeric dates are read in one order
/// for the whole page, decided by the evidence of all of them ([`dates::numeric_format`]),
/// unless the admin set `date_format`.
pub fn list_page_read(
    html: &str,
    page_url: &Url,
    sel: &ListSelectors,
    id_pattern: Option<&Regex>,
    reading: Reading,
) -> Result<ListRead, ExtractError> {
    let doc = Html::parse_document(html);
    let base = base_url(&doc, page_url);
    let elements: Vec<ElementRef<'_>> = doc.select(&sel.item).take(reading.max_items).collect();
    let found = elements.len();
    let places = ItemPlaces::new(&elements);
    let after = sel
        .date
        .as_ref()
        .and_then(|p| p.selector.as_ref())
        .is_some_and(|s| places.dates_follow(&elements, |e| s.matches(&e)));
    let date_texts: Vec<Option<String>> = elements
        .iter()
        .map(|e| {
            sel.date
                .as_ref()
                .and_then(|p| date_text(*e, sel, p, &places, after))
        })
        .collect();
    let evidence = match (&sel.date_format, &sel.date) {
        (None, Some(_)) => dates::numeric_format(
            date_texts.iter().flatten().map(String::as_str),
            reading.month_first,
        ),
        _ => None,
    };
    let format = sel.date_format.as_deref().or(evidence.as_deref());
    let mut items: Vec<Scraped> = Vec::new();
    let mut unreadable_dates = Vec::new();
    let mut skipped = Vec::new();
    let mut keys: HashMap<String, (String, String, usize)> = HashMap::new();
    let hrefs: Vec<Option<String>> = elements.iter().map(|e| pick_link(*e, &sel.link)).collect();
    let cards: Vec<&str> = hrefs.iter().flatten().map(String::as_str).collect();
    let others: Vec<&str> = doc
        .select(&ANCHORS)
        .filter_map(|a| a.value().attr("href"))
        .collect();
    let page_links = PageLinks::read(&base, &cards, &others);
    let links = Links {
        page: page_url,
        base: &base,
        page_links: &page_links,
    };
    for (at, (element, date_text)) in elements.into_iter().zip(date_texts).enumerate() {
        let read = read_item(element, links, sel, format, id_pattern, reading, date_text).and_then(
            |(item, unread)| match keys.entry(item.key.clone()) {
                std::collections::hash_map::Entry::Vacant(place) => {
                    place.insert((item.link.clone(), item.title.clone(), 0));
                    Ok((item, unread))
                }
                // A card shown twice (a featured card and its place in the list, its title
                // worded a little otherwise) is one release. Cards of other titles under one
                // id but other links, or a third title under one link (a category link read
                // for every card), are releases the reading cannot tell apart, and the admin
                // must hear of it.
                std::collections::hash_map::Entry::Occupied(mut first) => {
                    let (link, title, others) = first.get_mut();
                    let other = !same_words(title, &item.title);
                    *others += usize::from(other);
                    let why = if other && (*link != item.link || *others > 1) {
                        SkipReason::SameId
                    } else {
                        SkipReason::Duplicate
                    };
                    Err((why, item.title))
                }
            },
        );
        match read {
            Ok((item, unread)) => {
                if let Some(text) = unread {
                    unreadable_dates.push((item.link.clone(), text));
                }
                items.push(item);
            }
            Err((why, shows)) => skipped.push(SkippedCard {
                card: at + 1,
                shows: shows.chars().take(80).collect(),
                why,
            }),
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
    Ok(ListRead {
        items,
        unreadable_dates,
        skipped,
        next_page: next_page(&doc, &base, page_url),
    })
}

/// The list page's address and the base its links resolve against (its `<base href>`).
#[derive(Clone, Copy)]
struct Links<'a> {
    page: &'a Url,
    base: &'a Url,
    /// What the cards' links tell as a whole (routes, a session; see `card_link`).
    page_links: &'a PageLinks,
}

/// One release, and the text of its date when that could not be read; or why the card is none,
/// with what it shows (its title, else its link).
fn read_item(
    element: ElementRef<'_>,
    links: Links<'_>,
    sel: &ListSelectors,
    format: Option<&str>,
    id_pattern: Option<&Regex>,
    reading: Reading,
    date_text: Option<String>,
) -> Result<(Scraped, Option<String>), (SkipReason, String)> {
    let base = links.base;
    // A title that is only an image (a logo, a photo with a caption in `alt`) reads as the
    // image's `alt` or `title`, as a reader without images sees it.
    let title = title_without_date(element, sel)
        .or_else(|| pick(element, &sel.title))
        .or_else(|| image_text(element, &sel.title));
    let (title, href) = match (title, pick_link(element, &sel.link)) {
        (Some(title), Some(href)) => (title, href),
        (title, None) => return Err((SkipReason::NoLink, title.unwrap_or_default())),
        (None, Some(href)) => return Err((SkipReason::NoTitle, href)),
    };
    let link = card_link(links.page, base, &href, links.page_links).map_err(|e| {
        let why = match e {
            NoOwnLink::NotHttp => SkipReason::NotHttp,
            NoOwnLink::ListPage => SkipReason::ListPage,
        };
        (why, title.clone())
    })?;
    // A date read from an attribute may be Unix time (`data-timestamp="1764931200"`); text
    // never is ("2026", an article's number).
    let in_attribute = sel.date.as_ref().is_some_and(|d| d.attr.is_some());
    let read = date_text.as_deref().and_then(|text| {
        if in_attribute {
            dates::parse_attribute_in(text, format, reading.now, reading.tz)
        } else {
            dates::parse_date_in(text, format, reading.now, reading.tz)
        }
        .or_else(|| relative::parse_relative(text, reading.now, reading.tz))
    });
    // A date before 1990 ("01.01.1970", a timestamp of 0) or more than a year ahead is a
    // placeholder or a slip: no date, kept in the list's order like one that does not read,
    // and said (issue 19).
    let date = read.filter(|d| dates::in_window(*d, reading.now));
    // A date selector that finds nothing is a date not read, like text that is no date: the
    // release would pass for the newest, and the admin must hear of it.
    let unread = match (&sel.date, date_text) {
        (Some(pick), None) => Some(no_date_text(pick)),
        (_, Some(text)) if read.is_some() && date.is_none() => Some(format!(
            "{text} (before 1990 or over a year ahead: counted as no date)"
        )),
        (_, text) => text.filter(|_| date.is_none()),
    };
    let summary = sel.summary.as_ref().and_then(|p| pick(element, p));
    // A title read without the date opening it was read with it before.
    let former_title = if title_without_date(element, sel).is_some() {
        pick(element, &sel.title)
    } else {
        pick_as_before(element, &sel.title)
    };
    let former_summary = sel
        .summary
        .as_ref()
        .and_then(|p| pick_as_before(element, p));
    let former_text = (former_title.as_ref() != Some(&title) || former_summary != summary)
        .then(|| former_title.map(|t| (t, former_summary)))
        .flatten();
    let image = sel
        .image
        .as_ref()
        .and_then(|p| pick_image(element, p))
        .and_then(|src| canonical_image(base, &src));
    let scraped = Scraped {
        key: item_key(&link, id_pattern),
        title,
        link: link.to_string(),
        date,
        summary,
        content_html: None,
        image,
        former_text,
    };
    Ok((scraped, unread))
}

/// The title without the date element that opens it (`<a><time>3 March 2026</time> TITLE</a>`
/// with `date = "a time@datetime"` reads "TITLE"): the date is the release's, not words of its
/// title. A date element further in the title ("Elections on <time>15 March</time>") is the
/// title's own, and stays. `None` when no date element opens the title.
fn title_without_date(item: ElementRef<'_>, sel: &ListSelectors) -> Option<String> {
    if sel.title.attr.is_some() {
        return None;
    }
    let title = target(item, &sel.title)?;
    let date = target(item, sel.date.as_ref()?)?;
    if date.id() == title.id() || !date.ancestors().any(|a| a.id() == title.id()) {
        return None;
    }
    let whole = value_of(title, None)?;
    let opening = value_of(date, None)?;
    let rest = clean(&text_without(title, &[date]));
    (whole.starts_with(&opening) && !crate::text::is_blank(&rest)).then_some(rest)
}

/// The `alt` or `title` of the first image a text pick's element holds (or is), for a title
/// that is only an image; `None` for an attribute pick or when no image says anything.
fn image_text(scope: ElementRef<'_>, pick: &Pick) -> Option<String> {
    if pick.attr.is_some() {
        return None;
    }
    target(scope, pick)?
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| e.value().name() == "img")
        .find_map(|img| {
            ["alt", "title"].into_iter().find_map(|attr| {
                let text = clean(img.value().attr(attr)?);
                (!text.is_empty()).then_some(text)
            })
        })
}

/// What an unread date "says" when the date selector found nothing in or before the release.
fn no_date_text(pick: &Pick) -> String {
    format!("(nothing: `{}` found no date)", pick.text)
}

/// An item's date text: its date selector's match inside it; when there is none, the nearest
/// element before the item that the selector itself matches ([`ItemPlaces::before`]): the `<dt>`
/// before a `<dd>`, the date heading before that day's releases. On a page whose dates follow
/// their titles (`after`, [`ItemPlaces::dates_follow`]) the match after the item, before the
/// next one: `<dt>TITLE</dt><dd>DATE</dd>`.
fn date_text(
    item: ElementRef<'_>,
    sel: &ListSelectors,
    date: &Pick,
    places: &ItemPlaces,
    after: bool,
) -> Option<String> {
    if let Some(text) = date_inside(item, sel, date) {
        return Some(text);
    }
    let selector = date.selector.as_ref()?;
    let target = if after {
        places.after(item, |e| selector.matches(&e))?
    } else {
        places.before(item, |e| selector.matches(&e))?
    };
    value_of(target, date.attr.as_deref())
}

/// The date a pick reads inside the item: with `@attr` that attribute; else its element's text
/// without the text of the title and the summary inside it. A date written in the item's own
/// text beside its title (`date = ":scope"`: `<li><a>TITLE</a> — 3 March 2026</li>`) is read
/// so, and neither a title naming a day nor its numbers are taken for the release's date.
/// A date selector that matches nothing inside the item but the item itself (`date = "li"` for
/// `item = "ul.news > li"`) reads the item as `:scope` does.
fn date_inside(item: ElementRef<'_>, sel: &ListSelectors, date: &Pick) -> Option<String> {
    let element = target(item, date).or_else(|| {
        date.selector
            .as_ref()
            .filter(|s| s.matches(&item))
            .map(|_| item)
    })?;
    if date.attr.is_some() {
        return value_of(element, date.attr.as_deref());
    }
    let inside: Vec<ElementRef<'_>> = std::iter::once(&sel.title)
        .chain(&sel.summary)
        .filter_map(|p| target(item, p))
        .filter(|e| e.ancestors().any(|a| a.id() == element.id()))
        .collect();
    let text = clean(&text_without(element, &inside));
    (!crate::text::is_blank(&text)).then_some(text)
}

/// Where a list's items sit: the element holding them all, and every element on the way from it
/// down to an item (elements are known by their address in the parsed tree).
pub struct ItemPlaces {
    container: Option<*const scraper::node::Element>,
    holding: std::collections::HashSet<*const scraper::node::Element>,
}

impl ItemPlaces {
    pub fn new(items: &[ElementRef<'_>]) -> ItemPlaces {
        let key = |e: ElementRef<'_>| -> *const scraper::node::Element { e.value() };
        let chain = |e: &ElementRef<'_>| -> Vec<*const scraper::node::Element> {
            e.ancestors()
                .filter_map(ElementRef::wrap)
                .map(key)
                .collect()
        };
        // The lowest ancestor common to every item.
        let mut common: Option<Vec<*const scraper::node::Element>> = None;
        for item in items {
            let mine = chain(item);
            common = Some(match common {
                None => mine,
                Some(c) => c.into_iter().filter(|a| mine.contains(a)).collect(),
            });
        }
        let container = common.and_then(|c| c.first().copied());
        let mut holding = std::collections::HashSet::new();
        for item in items {
            holding.insert(key(*item));
            for a in item.ancestors().filter_map(ElementRef::wrap) {
                if Some(key(a)) == container {
                    break;
                }
                holding.insert(key(a));
            }
        }
        ItemPlaces { container, holding }
    }

    /// The nearest element before `item`, among its own siblings and those of its ancestors
    /// below the container, for which `matches` holds. Items, and elements holding an item,
    /// are passed over (a date heading serves every release after it).
    pub fn before<'a>(
        &self,
        item: ElementRef<'a>,
        matches: impl Fn(ElementRef<'a>) -> bool,
    ) -> Option<ElementRef<'a>> {
        self.walk(item, matches, false, false)
    }

    /// The nearest element after `item`, among its own siblings and those of its ancestors
    /// below the container, for which `matches` holds, before the next item (or an element
    /// holding one): the date that follows its title.
    pub fn after<'a>(
        &self,
        item: ElementRef<'a>,
        matches: impl Fn(ElementRef<'a>) -> bool,
    ) -> Option<ElementRef<'a>> {
        self.walk(item, matches, true, true)
    }

    /// Whether the dates of the items that hold none follow their titles rather than precede
    /// them (a flat `<dt>TITLE</dt><dd>DATE</dd>…`, a heading and then its date): more of them
    /// have a match between them and the next item than between the previous item and them.
    /// Date headings, each above a day's releases, precede them; so does a tie (a pinned item
    /// without a date above date headings reads as a date line's list missing its last date:
    /// the reading before, as it always was, is kept).
    pub fn dates_follow<'a>(
        &self,
        items: &[ElementRef<'a>],
        matches: impl Fn(ElementRef<'a>) -> bool + Copy,
    ) -> bool {
        let bare: Vec<ElementRef<'a>> = items
            .iter()
            .copied()
            .filter(|i| !i.descendants().filter_map(ElementRef::wrap).any(matches))
            .collect();
        let count = |forward: bool| {
            bare.iter()
                .filter(|i| self.walk(**i, matches, forward, true).is_some())
                .count()
        };
        count(true) > count(false)
    }

    /// The nearest sibling (of the item, then of its ancestors below the container) on one
    /// side for which `matches` holds; items and elements holding one are passed over, or end
    /// the walk when `bounded`.
    fn walk<'a>(
        &self,
        item: ElementRef<'a>,
        matches: impl Fn(ElementRef<'a>) -> bool,
        forward: bool,
        bounded: bool,
    ) -> Option<ElementRef<'a>> {
        let key = |e: ElementRef<'_>| -> *const scraper::node::Element { e.value() };
        let mut node = item;
        loop {
            if Some(key(node)) == self.container {
                return None;
            }
            let siblings: Box<dyn Iterator<Item = ElementRef<'a>>> = if forward {
                Box::new(node.next_siblings().filter_map(ElementRef::wrap))
            } else {
                Box::new(node.prev_siblings().filter_map(ElementRef::wrap))
            };
            for s in siblings {
                if self.holding.contains(&key(s)) {
                    if bounded {
                        return None;
                    }
                    continue;
                }
                if matches(s) {
                    return Some(s);
                }
            }
            node = node.parent().and_then(ElementRef::wrap)?;
        }
    }
}

/// An image `Pick`: with an `@attr` other than `src` (`@data-original`, a `<meta>`'s
/// `@content`), that attribute when it holds an address (not empty, not an inline `data:`
/// placeholder). Else (`@src`, no `@attr`, or nothing there) the picture the element shows, its
/// own or that of the first `<img>` inside it, by [`image_address`]: `src` is where lazy loaders
/// put a placeholder, and `image = "img"`, the `@src` forgotten, reads the picture, never text.
/// Another element with no `<img>` in it gives no picture.
pub fn pick_image(scope: ElementRef<'_>, image: &Pick) -> Option<String> {
    let target = target(scope, image)?;
    if image.attr.as_deref().is_some_and(|a| a != "src")
        && let Some(value) = value_of(target, image.attr.as_deref())
        && !value.starts_with("data:")
    {
        return Some(value);
    }
    // Only an `<img>` is read by the picture's rule: a link's `data-url` is the page it leads
    // to, not a picture.
    let img = match target.value().name() {
        "img" => target,
        _ => target.select(&IMAGES).next()?,
    };
    image_address(|attr| img.value().attr(attr))
        .map(clean)
        .filter(|v| !v.is_empty())
}

/// The address an `<img>` shows, from its attributes (`attr` reads one): a lazy loader's first
/// (`data-src` and its kin: `src` then holds a placeholder or nothing), else the largest
/// candidate of a `srcset`, else `src`; never an inline `data:` URI. One rule for list cards
/// and article pages.
pub fn image_address<'a>(attr: impl Fn(&str) -> Option<&'a str>) -> Option<&'a str> {
    const LAZY: [&str; 6] = [
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
        .filter_map(|a| attr(a))
        .find(usable)
        .or_else(|| {
            ["data-lazy-srcset", "data-srcset", "srcset"]
                .iter()
                .filter_map(|a| attr(a))
                .find_map(largest_in_srcset)
        })
        .or_else(|| attr("src").filter(usable))
        .map(str::trim)
}

/// The largest candidate of a `srcset` ("a.jpg 480w, b.jpg 1024w", "a.jpg 1x, b.jpg 2x"; a
/// candidate without a descriptor is 1x), never a `data:` URI; the last of equals.
pub fn largest_in_srcset(srcset: &str) -> Option<&str> {
    let mut best: Option<(&str, f32)> = None;
    let mut rest = srcset;
    loop {
        // As the HTML standard reads it: commas and spaces before a candidate are skipped; its
        // URL is the run of non-space characters after (commas inside it are the URL's, as in
        // "w_400,h_300"); a comma ending that run ends the candidate, else its descriptors
        // run to the next comma.
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if rest.is_empty() {
            break;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (run, after) = rest.split_at(end);
        let url = run.trim_end_matches(',');
        let descriptors = if url.len() < run.len() {
            rest = after;
            ""
        } else {
            let stop = after.find(',').unwrap_or(after.len());
            rest = &after[stop..];
            &after[..stop]
        };
        let size = descriptors
            .split_whitespace()
            .next()
            .and_then(|d| d.trim_end_matches(['w', 'x']).parse::<f32>().ok())
            .unwrap_or(1.0);
        if !url.is_empty()
            && !url.starts_with("data:")
            && best.is_none_or(|(_, largest)| size >= largest)
        {
            best = Some((url, size));
        }
    }
    best.map(|(url, _)| url)
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

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn selectors(item: &str, date: &str) -> ListSelectors {
        ListSelectors {
            item: Selector::parse(item).unwrap(),
            title: Pick::parse("a").unwrap(),
            link: Pick::parse("a@href").unwrap(),
            date: Some(Pick::parse(date).unwrap()),
            date_format: None,
            summary: None,
            image: None,
        }
    }

    /// (title, written day) of each release read.
    fn dated(html: &str, sel: &ListSelectors) -> Vec<(String, Option<String>)> {
        let reading = Reading {
            now: chrono::Utc::now(),
            tz: chrono_tz::Asia::Almaty,
            max_items: 100,
            month_first: false,
        };
        let url = Url::parse("https://example.org/news/").unwrap();
        list_page(html, &url, sel, None, reading)
            .unwrap()
            .into_iter()
            .map(|s| {
                let day = s.date.map(|d| match d {
                    dates::ParsedDate::Day(d) => d.to_string(),
                    dates::ParsedDate::Local(t) => t.date().to_string(),
                    dates::ParsedDate::Absolute(t) => t.date_naive().to_string(),
                });
                (s.title, day)
            })
            .collect()
    }

    /// A date in the item's own text beside its title, in no element of its own (`date =
    /// ":scope"`), is read from the text outside the title: a day or numbers in the title are
    /// not the release's date. A machine-readable attribute of the item is read as well.
    #[rstest]
    #[case::dash_after_title(
        "<ul class='news'><li><a href='/n/1'>Decree 12 of 05.01.2026 on prices</a> — 3 March 2026</li>\
         <li><a href='/n/2'>Talks on 7 February went well</a> — 2 March 2026</li></ul>",
        "ul.news > li",
        ":scope"
    )]
    #[case::the_items_own_selector(
        "<ul class='news'><li><a href='/n/1'>Decree 12 of 05.01.2026 on prices</a> — 3 March 2026</li>\
         <li><a href='/n/2'>Talks on 7 February went well</a> — 2 March 2026</li></ul>",
        "ul.news > li",
        "li"
    )]
    #[case::text_node_after_a_break(
        "<div><p class='item'><a href='/n/1'>Plan for 2027 and 2028</a><br>03.03.2026</p>\
         <p class='item'><a href='/n/2'>Report 1 of 12.01.2025</a><br>02.03.2026</p></div>",
        "p.item",
        ":scope"
    )]
    #[case::item_attribute(
        "<div><article data-published='2026-03-03T10:00:00+05:00'><a href='/n/1'>Release on 9 May</a></article>\
         <article data-published='2026-03-02T10:00:00+05:00'><a href='/n/2'>Release on 8 May</a></article></div>",
        "article",
        ":scope@data-published"
    )]
    #[case::meta_content(
        "<div><article><meta itemprop='datePublished' content='2026-03-03'><a href='/n/1'>Release one</a></article>\
         <article><meta itemprop='datePublished' content='2026-03-02'><a href='/n/2'>Release two</a></article></div>",
        "article",
        "meta[itemprop='datePublished']@content"
    )]
    fn a_date_in_the_items_own_text_or_attribute(
        #[case] html: &str,
        #[case] item: &str,
        #[case] date: &str,
    ) {
        let got = dated(html, &selectors(item, date));
        let days: Vec<Option<&str>> = got.iter().map(|(_, d)| d.as_deref()).collect();
        assert_eq!(days, [Some("2026-03-03"), Some("2026-03-02")], "{got:?}");
    }

    /// A date element opening the title is the release's date, not words of its title; one
    /// further in the title is the title's own.
    #[test]
    fn a_date_opening_the_title_is_left_out_of_it() {
        let html = "<ul class='news'>\
            <li><a href='/n/1'><time datetime='2026-03-03'>3 March</time> Ministry report</a></li>\
            <li><a href='/n/2'>Elections on <time datetime='2026-03-15'>15 March</time></a></li></ul>";
        let got = dated(html, &selectors("ul.news > li", "a time@datetime"));
        assert_eq!(
            got,
            [
                ("Ministry report".to_owned(), Some("2026-03-03".to_owned())),
                (
                    "Elections on 15 March".to_owned(),
                    Some("2026-03-15".to_owned())
                ),
            ]
        );
    }

    /// A release whose date is in the element before it: the `<dt>` of a `<dd>`, and a date
    /// heading serving every release after it, also from outside the release's own parent.
    #[rstest]
    #[case::dt_dd(
        "<dl><dt>28.03.2026</dt><dd><a href='/a'>Release A</a></dd><dt>26.03.2026</dt><dd><a href='/b'>Release B</a></dd><dd><a href='/c'>Release C</a></dd></dl>",
        "dd",
        "dt"
    )]
    #[case::headings_flat(
        "<div><h3>28 March 2026</h3><p class='r'><a href='/a'>Release A</a></p><h3>26 March 2026</h3><p class='r'><a href='/b'>Release B</a></p><p class='r'><a href='/c'>Release C</a></p></div>",
        "p.r",
        "h3"
    )]
    #[case::headings_before_lists(
        "<section><h4>28 наурыз 2026 ж.</h4><ul><li><a href='/a'>Release A</a></li></ul><h4>26 наурыз 2026 ж.</h4><ul><li><a href='/b'>Release B</a></li><li><a href='/c'>Release C</a></li></ul></section>",
        "li",
        "h4"
    )]
    fn dates_in_the_element_before_the_release(
        #[case] html: &str,
        #[case] item: &str,
        #[case] date: &str,
    ) {
        let got = dated(html, &selectors(item, date));
        let day = |d: &str| Some(d.to_owned());
        assert_eq!(
            got,
            vec![
                ("Release A".into(), day("2026-03-28")),
                ("Release B".into(), day("2026-03-26")),
                ("Release C".into(), day("2026-03-26")),
            ]
        );
    }

    /// A page whose dates follow their titles (`<dt>TITLE</dt><dd>DATE</dd>`, a heading and then
    /// its date line): each release reads the date after it, not the previous release's.
    #[rstest]
    #[case::dt_then_dd(
        "<dl><dt><a href='/a'>Release A</a></dt><dd>28.03.2026</dd><dt><a href='/b'>Release B</a></dt><dd>26.03.2026</dd><dt><a href='/c'>Release C</a></dt><dd>25.03.2026</dd></dl>",
        "dt",
        "dd"
    )]
    #[case::heading_then_date(
        "<div><h3><a href='/a'>Release A</a></h3><div class='d'>28 March 2026</div><p>Teaser.</p><h3><a href='/b'>Release B</a></h3><div class='d'>26 March 2026</div><p>Teaser.</p><h3><a href='/c'>Release C</a></h3><div class='d'>25 March 2026</div></div>",
        "h3",
        "div.d"
    )]
    fn dates_in_the_element_after_the_release(
        #[case] html: &str,
        #[case] item: &str,
        #[case] date: &str,
    ) {
        let got = dated(html, &selectors(item, date));
        let day = |d: &str| Some(d.to_owned());
        assert_eq!(
            got,
            vec![
                ("Release A".into(), day("2026-03-28")),
                ("Release B".into(), day("2026-03-26")),
                ("Release C".into(), day("2026-03-25")),
            ]
        );
    }

    /// A pinned release without a date above date headings (review): as many items have a date
    /// heading after them as before, so the headings are read as they always were, each for the
    /// releases below it; the pinned one has none.
    #[test]
    fn a_pinned_item_above_date_headings_keeps_them_read_before() {
        let html = "<div class='news'><div class='item'><a href='/r/9'>Pinned: how to apply</a></div>\
            <h4 class='date'>28 March 2026</h4><div class='item'><a href='/r/3'>Release C</a></div>\
            <h4 class='date'>27 March 2026</h4><div class='item'><a href='/r/2'>Release B</a></div>\
            <h4 class='date'>26 March 2026</h4><div class='item'><a href='/r/1'>Release A</a></div></div>";
        let got = dated(html, &selectors("div.item", "h4.date"));
        let day = |d: &str| Some(d.to_owned());
        assert_eq!(
            got,
            vec![
                ("Pinned: how to apply".into(), None),
                ("Release C".into(), day("2026-03-28")),
                ("Release B".into(), day("2026-03-27")),
                ("Release A".into(), day("2026-03-26")),
            ]
        );
    }

    /// An address field reads an address: a `link` or `image` written without `@href`/`@src`
    /// reads the element's own attribute (or that of the link or picture inside it), never its
    /// text; a text that is an absolute address is read as written.
    #[rstest]
    #[case::link_on_the_anchor(
        "h3 a",
        "img",
        Some("https://example.org/news/a-1"),
        Some("https://example.org/p/1.jpg")
    )]
    #[case::link_around_the_anchor(
        "h3",
        "div.photo",
        Some("https://example.org/news/a-1"),
        Some("https://example.org/p/1.jpg")
    )]
    #[case::text_address(
        "span.url",
        "img@src",
        Some("https://example.org/news/a-1"),
        Some("https://example.org/p/1.jpg")
    )]
    #[case::no_address("h5", "img", None, None)]
    fn address_fields_read_addresses(
        #[case] link: &str,
        #[case] image: &str,
        #[case] want_link: Option<&str>,
        #[case] want_image: Option<&str>,
    ) {
        let html = "<div class='card'><h3><a href='/news/a-1'>Meeting with the governor</a></h3>\
                    <span class='url'>https://example.org/news/a-1</span><h5>28 March 2026</h5>\
                    <div class='photo'><img src='/p/1.jpg' alt='A photo'></div></div>";
        let sel = ListSelectors {
            title: Pick::parse("h3").unwrap(),
            link: Pick::parse(link).unwrap(),
            image: Some(Pick::parse(image).unwrap()),
            ..selectors("div.card", "h5")
        };
        let reading = Reading {
            now: chrono::Utc::now(),
            tz: chrono_tz::Asia::Almaty,
            max_items: 100,
            month_first: false,
        };
        let url = Url::parse("https://example.org/news/").unwrap();
        let read = list_page_read(html, &url, &sel, None, reading);
        match want_link {
            Some(want) => {
                let items = read.unwrap().items;
                assert_eq!(items[0].link, want);
                assert_eq!(items[0].image.as_deref(), want_image);
            }
            None => assert!(read.is_err() || read.unwrap().items.is_empty()),
        }
    }

    /// A card without a date of its own does not take its neighbour's: items are passed over.
    #[test]
    fn a_card_without_a_date_takes_no_other_cards_date() {
        let html = "<div class='list'><div class='card'><a href='/a'>Release A</a><h5>28 March 2026</h5></div><div class='card'><a href='/b'>Release B</a></div></div>";
        let got = dated(html, &selectors("div.card", "h5"));
        assert_eq!(got[0].1.as_deref(), Some("2026-03-28"));
        assert_eq!(got[1].1, None);
    }

    /// A date selector that finds nothing in a release (nor before it) is a date not read:
    /// noted with the release's link, as text that is no date is.
    #[test]
    fn a_date_selector_finding_nothing_is_an_unread_date() {
        let html = "<div class='list'><div class='card'><a href='/a'>Release A</a><h5>28 March 2026</h5></div><div class='card'><a href='/b'>Release B</a></div><div class='card'><a href='/c'>Release C</a><h5>no date here</h5></div></div>";
        let reading = Reading {
            now: chrono::Utc::now(),
            tz: chrono_tz::Asia::Almaty,
            max_items: 100,
            month_first: false,
        };
        let url = Url::parse("https://example.org/news/").unwrap();
        let read = list_page_read(html, &url, &selectors("div.card", "h5"), None, reading).unwrap();
        let links: Vec<&str> = read
            .unreadable_dates
            .iter()
            .map(|(l, _)| l.as_str())
            .collect();
        assert_eq!(
            links,
            ["https://example.org/b", "https://example.org/c"],
            "{:?}",
            read.unreadable_dates
        );
        assert!(read.unreadable_dates[0].1.contains("`h5`"));
        assert_eq!(read.unreadable_dates[1].1, "no date here");
        // Without a date selector, no date is expected and none is missed.
        let mut sel = selectors("div.card", "h5");
        sel.date = None;
        let read = list_page_read(html, &url, &sel, None, reading).unwrap();
        assert!(read.unreadable_dates.is_empty());
    }

    /// Each card of `cards` in a `div.card`, read as a list page at `url` (no date selector).
    fn read_cards(cards: &[&str], url: &str) -> ListRead {
        let html: String = cards
            .iter()
            .map(|c| format!("<div class='card'>{c}</div>"))
            .collect();
        let mut sel = selectors("div.card", "h5");
        sel.date = None;
        let reading = Reading {
            now: chrono::Utc::now(),
            tz: chrono_tz::Asia::Almaty,
            max_items: 100,
            month_first: false,
        };
        let url = Url::parse(url).unwrap();
        list_page_read(&html, &url, &sel, None, reading).unwrap()
    }

    /// Cards told apart only by a route fragment on another page than the list (`/app/#/news/1`,
    /// `/app/#/news/2`) are releases of their own; a route on a link no other card shares stays
    /// out of the link (`/m#/comments` is `/m`, as it was stored before).
    #[test]
    fn routes_that_tell_cards_apart_are_kept() {
        let cards = [
            "<a href='/app/#/news/1'>Release 1</a>",
            "<a href='/app/#/news/2'>Release 2</a>",
            "<a href='/app/#!/news/3'>Release 3</a>",
            "<a href='/m#/comments'>Release M</a>",
        ];
        let read = read_cards(&cards, "https://example.org/index.html");
        let links: Vec<&str> = read.items.iter().map(|s| s.link.as_str()).collect();
        assert_eq!(
            links,
            [
                "https://example.org/app/#/news/1",
                "https://example.org/app/#/news/2",
                "https://example.org/app/#!/news/3",
                "https://example.org/m",
            ]
        );
        assert!(read.skipped.is_empty(), "{:?}", read.skipped.len());
    }

    /// Every card the item selector matches is a release or is reported with why: no title, no
    /// link, a link that is not http(s), the list page itself (an anchor), the same link as a
    /// card above. An image-only title reads as the image's `alt` (or `title`); a route
    /// fragment on the list page's address is a release of its own.
    /// A `link` that reads one link for every card (a category link) merges releases: a
    /// third title under one link is reported, not dropped in silence.
    #[test]
    fn one_link_for_cards_of_other_titles_is_reported() {
        let cards = [
            "<a href='/news'>Meeting</a>",
            "<a href='/news'>Visit</a>",
            "<a href='/news'>Decree</a>",
        ];
        let read = read_cards(&cards, "https://example.org/list");
        let skipped: Vec<(usize, SkipReason)> =
            read.skipped.iter().map(|s| (s.card, s.why)).collect();
        assert_eq!(
            skipped,
            [(2, SkipReason::Duplicate), (3, SkipReason::SameId)]
        );
    }

    #[test]
    fn every_card_is_read_or_reported() {
        let cards = [
            "<a href='/a'>Release A</a>",
            "<a href='/b'>   </a>",
            "<a href='/c'><img src='/c.jpg' alt='Release C'></a>",
            "<a href='/d'><img src='/d.jpg' title='Release D'></a>",
            "<a href='javascript:void(0)'>Release E</a>",
            "<a href='data:text/html,x'>Release F</a>",
            "<a href='/a?utm_source=x'>Release A again</a>",
            "<a href='#frag-1'>Release G</a>",
            "<a href='#frag-2'>Release H</a>",
            "<a href='#/news/9'>Release I</a>",
            "<a href='#!news-10'>Release J</a>",
            "<span>Release K, no link</span>",
            "<a href='/l'><img src='/l.jpg'></a>",
        ];
        let read = read_cards(&cards, "https://example.org/news/");
        let items: Vec<(&str, &str)> = read
            .items
            .iter()
            .map(|s| (s.title.as_str(), s.link.as_str()))
            .collect();
        assert_eq!(
            items,
            [
                ("Release A", "https://example.org/a"),
                ("Release C", "https://example.org/c"),
                ("Release D", "https://example.org/d"),
                ("Release I", "https://example.org/news/#/news/9"),
                ("Release J", "https://example.org/news/#!news-10"),
            ]
        );
        let skipped: Vec<(usize, SkipReason)> =
            read.skipped.iter().map(|s| (s.card, s.why)).collect();
        assert_eq!(
            skipped,
            [
                (2, SkipReason::NoTitle),
                (5, SkipReason::NotHttp),
                (6, SkipReason::NotHttp),
                (7, SkipReason::Duplicate),
                (8, SkipReason::ListPage),
                (9, SkipReason::ListPage),
                (12, SkipReason::NoLink),
                (13, SkipReason::NoTitle),
            ]
        );
        assert_eq!(read.skipped[3].shows, "Release A again");
        assert_eq!(read.items.len() + read.skipped.len(), cards.len());
    }

    /// Line breaks and block edges separate words; scripts and styles are not text.
    #[rstest]
    #[case::br("<a href='/a'>Президент<br>встретился</a>", "Президент встретился")]
    #[case::blocks(
        "<a href='/a'><div>Headline one</div><div>Standfirst</div></a>",
        "Headline one Standfirst"
    )]
    #[case::block_then_text("<a href='/a'><p>One</p>two<br/>three</a>", "One two three")]
    #[case::inline_joins("<a href='/a'>Pre<b>si</b>dent</a>", "President")]
    #[case::script(
        "<a href='/a'>Visible<script>var x = 1;</script><style>a{}</style><noscript>no js</noscript><template>tpl</template> text</a>",
        "Visible text"
    )]
    fn text_is_read_as_a_reader_sees_it(#[case] inner: &str, #[case] expected: &str) {
        let html = format!("<ul><li>{inner}</li></ul>");
        let doc = Html::parse_document(&html);
        let li = doc.select(&Selector::parse("li").unwrap()).next().unwrap();
        assert_eq!(
            pick(li, &Pick::parse("a").unwrap()).as_deref(),
            Some(expected)
        );
    }

    #[rstest]
    #[case::plain(r#"<img src="/a.jpg">"#, Some("/a.jpg"))]
    #[case::lazy_data_src(
        r#"<img src="data:image/gif;base64,R0l" data-src="/real.jpg">"#,
        Some("/real.jpg")
    )]
    #[case::empty_src_srcset(
        r#"<img src="" srcset="/s.jpg 480w, /l.jpg 1024w, /m.jpg 800w">"#,
        Some("/l.jpg")
    )]
    #[case::nothing(r#"<img alt="x">"#, None)]
    // A lazy loader's placeholder in `src` is not the picture (the article reader's rule).
    #[case::placeholder_src(
        r#"<img src="/img/placeholder.gif" data-src="/real.jpg">"#,
        Some("/real.jpg")
    )]
    #[case::srcset_over_src(
        r#"<img src="/s.jpg" data-srcset="/s.jpg 1x, /l.jpg 2x">"#,
        Some("/l.jpg")
    )]
    // Commas inside a candidate's URL are the URL's (Cloudinary's and imgix's parameters).
    #[case::srcset_url_commas(
        r#"<img srcset="https://res.example/upload/w_400,h_300/a.jpg 1x, https://res.example/upload/w_800,h_600/a.jpg 2x">"#,
        Some("https://res.example/upload/w_800,h_600/a.jpg")
    )]
    #[case::srcset_imgix_commas(
        r#"<img srcset="/a.jpg?crop=faces,center&w=800 800w,/a.jpg?crop=faces,center&w=400 400w">"#,
        Some("/a.jpg?crop=faces,center&w=800")
    )]
    fn list_images(#[case] html: &str, #[case] expected: Option<&str>) {
        let doc = Html::parse_fragment(&format!("<div><figure>{html}</figure></div>"));
        let div = doc.select(&Selector::parse("div").unwrap()).next().unwrap();
        let image = Pick::parse("img@src").unwrap();
        assert_eq!(pick_image(div, &image).as_deref(), expected);
        // Without `@src`, or naming the element around the picture: the same picture.
        for pick in ["img", "figure"] {
            let image = Pick::parse(pick).unwrap();
            assert_eq!(pick_image(div, &image).as_deref(), expected, "{pick}");
        }
    }

    /// The picture's rule reads an `<img>` only: a link named as the image, with no `<img>` in
    /// it, gives no picture (its `data-url` is the page it leads to).
    #[test]
    fn a_target_without_an_img_gives_no_picture() {
        let doc = Html::parse_fragment(
            r#"<div><a class="thumb" data-url="https://site.example/news/article-1" data-src="/a.jpg"></a></div>"#,
        );
        let div = doc.select(&Selector::parse("div").unwrap()).next().unwrap();
        assert_eq!(pick_image(div, &Pick::parse("a.thumb").unwrap()), None);
        assert_eq!(pick_image(div, &Pick::parse("a.thumb@src").unwrap()), None);
        assert_eq!(
            pick_image(div, &Pick::parse("a.thumb@data-src").unwrap()).as_deref(),
            Some("/a.jpg")
        );
    }

    /// An attribute other than `src` is the admin's word: read as named.
    #[test]
    fn a_named_image_attribute_is_read_as_named() {
        let doc = Html::parse_fragment(
            r#"<div><img src="/s.jpg" data-src="/lazy.jpg" data-full="/full.jpg"></div>"#,
        );
        let div = doc.select(&Selector::parse("div").unwrap()).next().unwrap();
        let pick = |p: &str| pick_image(div, &Pick::parse(p).unwrap());
        assert_eq!(pick("img@data-full").as_deref(), Some("/full.jpg"));
        assert_eq!(pick("img@src").as_deref(), Some("/lazy.jpg"));
        // Named but empty: the picture the element shows.
        assert_eq!(pick("img@data-none").as_deref(), Some("/lazy.jpg"));
    }
}
