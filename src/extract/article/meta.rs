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

/// Is this JSON-LD `@type` (a string or an array of them) an article: `Article` and its kinds
/// (`NewsArticle`, `ReportageNewsArticle`…), `BlogPosting`, `LiveBlogPosting`, `Report`?
fn is_article_type(t: &serde_json::Value) -> bool {
    let one = |s: &str| {
        let s = s.rsplit(['/', ':']).next().unwrap_or(s);
        s.ends_with("Article") || s.ends_with("Posting") || s == "Report"
    };
    match t {
        serde_json::Value::String(s) => one(s),
        serde_json::Value::Array(items) => items.iter().filter_map(|v| v.as_str()).any(one),
        _ => false,
    }
}

/// The objects of the JSON-LD values (objects, arrays, `@graph`) a few levels deep, in document
/// order, article-typed ones first: a page's `WebPage` or `WebSite` node has dates and images of
/// its own that are not the article's.
fn json_ld_objects(
    values: &[serde_json::Value],
) -> Vec<&serde_json::Map<String, serde_json::Value>> {
    let mut out = Vec::new();
    let mut stack: Vec<(&serde_json::Value, u8)> = values.iter().rev().map(|v| (v, 0)).collect();
    // The article is near the top: a JSON-LD of thousands of nodes (a catalogue, a site map)
    // is read no further than its first 256 objects.
    while let Some((v, depth)) = stack.pop() {
        if out.len() >= 256 {
            break;
        }
        match v {
            serde_json::Value::Object(map) => {
                out.push(map);
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
    // A stable sort keeps document order within each group.
    out.sort_by_key(|m| !m.get("@type").is_some_and(is_article_type));
    out
}

/// The image URLs a JSON-LD `image` value names: a URL, an `ImageObject` (`url` or
/// `contentUrl`), or an array of either.
fn json_ld_image_urls<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match v {
        serde_json::Value::String(s) => out.push(s),
        serde_json::Value::Object(m) => {
            if let Some(s) = m
                .get("url")
                .or_else(|| m.get("contentUrl"))
                .and_then(|s| s.as_str())
            {
                out.push(s);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items.iter().take(8) {
                if !item.is_array() {
                    json_ld_image_urls(item, out);
                }
            }
        }
        _ => {}
    }
}

/// The article's title: `og:title`/`twitter:title` (less a " | Site" suffix naming
/// `og:site_name`), else the headline on the page (see [`headline`]), else `<title>` less its
/// site-name suffix.
pub fn title(doc: &Doc, meta: &[(String, &str)], headline: Option<usize>) -> Option<String> {
    let site = first_meta(meta, &["og:site_name", "application-name"]);
    let shown = headline.map(|i| element_text(doc, i));
    let from_meta = first_meta(meta, &["og:title", "twitter:title"]).map(|t| {
        let t = crate::text::clean(t);
        headline_part(&t, shown.as_deref()).unwrap_or_else(|| cut_site_name(&t, site, false))
    });
    from_meta
        .filter(|t| !t.is_empty())
        .or_else(|| headline.map(|i| element_text(doc, i)))
        .filter(|t| !t.is_empty())
        .or_else(|| {
            doc.elements("title")
                .map(|i| element_text(doc, i))
                .find(|t| !t.is_empty())
                .map(|t| cut_site_name(&t, site, true))
        })
        .map(|t| crate::text::clean(&t))
        .filter(|t| !t.is_empty())
}

/// The headline shown on the page, when `title` is it and a shorter site or section name
/// joined by a separator ("Council passes the budget | CNN Politics", "TechCrunch | Council
/// passes…"). (A shorter headline is no article's: a section's name in an `h1`.)
fn headline_part(title: &str, headline: Option<&str>) -> Option<String> {
    let headline = headline?.trim();
    if headline.is_empty() {
        return None;
    }
    let (title_lower, headline_lower) = (title.to_lowercase(), headline.to_lowercase());
    TITLE_SEPARATORS.iter().find_map(|sep| {
        let rest = title_lower
            .strip_prefix(&headline_lower)
            .and_then(|r| r.strip_prefix(sep))
            .or_else(|| {
                title_lower
                    .strip_suffix(&headline_lower)
                    .and_then(|r| r.strip_suffix(sep))
            })?;
        (rest.trim().chars().count() < headline.chars().count()).then(|| headline.to_owned())
    })
}

const TITLE_SEPARATORS: &[&str] = &[" | ", " :: ", " • ", " · ", " — ", " – ", " - "];

/// `title` without a trailing " | Site Name". The part after the last separator goes when it
/// is the `site` name given, or, with `loose` (a `<title>`, which sites suffix as a rule), when
/// it is short (at most five words) after a bar, a colon pair or a bullet. A dash is cut only
/// before the known site name: "Covid-19 - what we know" is a whole title.
fn cut_site_name(title: &str, site: Option<&str>, loose: bool) -> String {
    // "Post | Section | Site": twice at most.
    let once = cut_site_name_once(title, site, loose);
    if once.len() < title.len() {
        return cut_site_name_once(&once, site, loose);
    }
    once
}

fn cut_site_name_once(title: &str, site: Option<&str>, loose: bool) -> String {
    let site = site.map(crate::text::clean).filter(|s| !s.is_empty());
    for &sep in TITLE_SEPARATORS {
        let Some(at) = title.rfind(sep) else { continue };
        let (head, tail) = (title[..at].trim(), title[at + sep.len()..].trim());
        if head.is_empty() {
            continue;
        }
        // The site's name, or a section of it ("CNN Politics" on CNN): up to three words, the
        // first a capital's ("Apple users explain" on Apple is the headline's own end).
        let named = site.as_deref().is_some_and(|s| {
            tail.eq_ignore_ascii_case(s)
                || tail
                    .get(..s.len() + 1)
                    .filter(|t| t.eq_ignore_ascii_case(&format!("{s} ")))
                    .and_then(|_| tail.get(s.len() + 1..))
                    .is_some_and(is_section_name)
        });
        let dash = matches!(sep, " — " | " – " | " - ");
        if named || (loose && !dash && tail.split_whitespace().count() <= 5) {
            return head.to_owned();
        }
    }
    title.to_owned()
}

/// Whether the words after a site's name in a title's tail are a section's name: at most
/// three, the first beginning with a capital or a digit ("Politics", "World News").
fn is_section_name(words: &str) -> bool {
    let count = words.split_whitespace().count();
    (1..=3).contains(&count)
        && words
            .trim_start()
            .chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
}

/// Class or id words of a site's own name or logo, not an article's.
const SITE_TITLE_WORDS: &[&str] = &[
    "site-title",
    "site-name",
    "sitename",
    "logo",
    "brand",
    "masthead",
];

/// Class words of an article's title when it is not an `h1` (blog themes write the site name
/// in the `h1` and each post's title in an `h2`).
const ENTRY_TITLE_WORDS: &[&str] = &[
    "entry-title",
    "post-title",
    "article-title",
    "news-title",
    "story-title",
    "headline",
];

fn names_contain(n: &Node, words: &[&str]) -> bool {
    ["class", "id"].iter().filter_map(|a| n.attr(a)).any(|v| {
        let v = v.to_ascii_lowercase();
        words.iter().any(|w| v.contains(w))
    })
}

/// The article's headline element: the one marked `itemprop="headline"`, else the first `h1`
/// outside the page's chrome (see [`chrome`]) that is not the site's name or logo, else the
/// first heading styled as an entry title, else the first heading of an `<article>` that the
/// `<title>` names.
pub fn headline(doc: &Doc, marks: &Marks) -> Option<usize> {
    let chrome = &marks.chrome;
    let has_text = |i: usize| !element_text(doc, i).is_empty();
    marks
        .headline_props
        .iter()
        .copied()
        .find(|&i| has_text(i))
        .or_else(|| {
            doc.elements("h1").find(|&i| {
                !chrome[i] && !names_contain(doc.node(i), SITE_TITLE_WORDS) && has_text(i)
            })
        })
        .or_else(|| {
            marks.headings.iter().copied().find(|&i| {
                let n = doc.node(i);
                matches!(n.name(), "h1" | "h2" | "h3")
                    && !chrome[i]
                    && names_contain(n, ENTRY_TITLE_WORDS)
                    && !names_contain(n, SITE_TITLE_WORDS)
                    && has_text(i)
            })
        })
        .or_else(|| {
            // The first heading of an `<article>`, when the page's `<title>` names it (else
            // it may be a section's heading).
            let title = doc.elements("title").next().map(|i| element_text(doc, i))?;
            let title = title.to_lowercase();
            let article = doc.elements("article").find(|&a| !chrome[a])?;
            (article..doc.subtree_end(article))
                .find(|&i| matches!(doc.node(i).name(), "h1" | "h2" | "h3") && !chrome[i])
                .filter(|&i| {
                    let text = element_text(doc, i).to_lowercase();
                    !text.is_empty() && title.contains(&text)
                })
        })
}

/// Class or id words of a readers' thread under an article.
const THREAD_WORDS: &[&str] = &[
    "comment",
    "discussion",
    "replies",
    "responses",
    "kommentar",
    "otzyv",
];

/// What one walk over a page finds for the metadata rules: the chrome, the elements marked as
/// the headline or the publication date (microdata), and the headings. One pass with the tag
/// and attribute names compared as interned atoms: it visits every node of every page.
pub struct Marks {
    /// Per node, whether it lies in the page's chrome or in a readers' thread: `nav`, `aside`,
    /// a `header` or `footer` outside the article (an article's own header holds its title and
    /// date), the ARIA roles of those, and elements whose class or id names a readers' thread.
    /// Dates and headlines there are the site's or the readers', not the article's.
    pub chrome: Vec<bool>,
    /// Elements (not `<meta>`) with `itemprop="headline"`, the first few.
    headline_props: Vec<usize>,
    /// Elements (not `<meta>`) with `itemprop="datePublished"`, the first few.
    date_props: Vec<usize>,
    /// `h1`–`h6` and `role="heading"` elements.
    headings: Vec<usize>,
}

impl Marks {
    pub fn of(doc: &Doc) -> Marks {
        use html5ever::local_name as n;
        let mut marks = Marks {
            chrome: vec![false; doc.nodes.len()],
            headline_props: Vec::new(),
            date_props: Vec::new(),
            headings: Vec::new(),
        };
        let mut in_article = vec![false; doc.nodes.len()];
        for (i, node) in doc.nodes.iter().enumerate() {
            let (up, up_article) = match node.parent {
                p if p < i => (marks.chrome[p], in_article[p]),
                _ => (false, false),
            };
            let Kind::Element { name, attrs } = &node.kind else {
                marks.chrome[i] = up;
                continue;
            };
            let name = name.clone();
            in_article[i] = up_article || name == n!("article") || name == n!("main");
            let mut chrome = up
                || name == n!("nav")
                || name == n!("aside")
                || (!up_article && (name == n!("header") || name == n!("footer")));
            let mut heading = matches!(
                name,
                n!("h1") | n!("h2") | n!("h3") | n!("h4") | n!("h5") | n!("h6")
            );
            let page = matches!(
                name,
                n!("html") | n!("body") | n!("main") | n!("article") | n!("meta")
            );
            for a in attrs {
                let v = &*a.value;
                match a.name.local {
                    n!("role") => {
                        chrome |= ["navigation", "complementary", "banner", "contentinfo"]
                            .iter()
                            .any(|r| v.eq_ignore_ascii_case(r));
                        heading |= v.eq_ignore_ascii_case("heading");
                    }
                    n!("class") | n!("id") if !page && !chrome => chrome = is_thread_name(v),
                    n!("itemprop") if name != n!("meta") => {
                        for w in v.split_whitespace() {
                            if w.eq_ignore_ascii_case("headline") && marks.headline_props.len() < 4
                            {
                                marks.headline_props.push(i);
                            }
                            if w.eq_ignore_ascii_case("datepublished") && marks.date_props.len() < 4
                            {
                                marks.date_props.push(i);
                            }
                        }
                    }
                    _ => {}
                }
            }
            marks.chrome[i] = chrome;
            if heading {
                marks.headings.push(i);
            }
        }
        marks
    }

    /// The texts of the headings, which a summary leaves out.
    pub fn heading_texts(&self, doc: &Doc) -> Vec<String> {
        self.headings
            .iter()
            .map(|&i| element_text(doc, i))
            .filter(|t| !t.is_empty())
            .collect()
    }
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

/// The publication date: meta tags, the JSON-LD article's `datePublished` (then any
/// `datePublished`), then the page's dates near the headline (see [`page_date`]).
pub fn date(
    doc: &Doc,
    meta: &[(String, &str)],
    ld: &[serde_json::Value],
    marks: &Marks,
    headline: Option<usize>,
    address: Option<&str>,
) -> Option<ParsedDate> {
    DATE_META
        .iter()
        .filter_map(|k| meta.iter().find(|(key, _)| key == k).map(|(_, v)| *v))
        .find_map(|v| parse_date(v, None))
        .or_else(|| json_ld_date(ld))
        .or_else(|| microdata_date(doc, marks))
        .or_else(|| page_date(doc, &marks.chrome, headline))
        .or_else(|| {
            // Every date is in the chrome: the first one anywhere but in a readers' thread or
            // beside the article (an aside's or a list's links to other stories, each with its
            // date), as a last resort (a site may wrap its whole page in a `<header>`). A page
            // without chrome has been read whole already. The day of the article's address
            // beats it, unless it falls on that day (then it is the exact time of that day).
            let chrome = marks.chrome.contains(&true).then(|| {
                let skipped = |i| in_thread(doc, i) || beside_article(doc, i);
                doc.elements("time")
                    .filter(|&i| !skipped(i))
                    .find_map(|i| time_date(doc, i))
                    .or_else(|| date_in_text(doc, skipped))
            });
            let chrome = chrome.flatten();
            match (address.and_then(url_date), chrome) {
                (Some(ParsedDate::Day(day)), Some(c)) if day_of(&c) == day => Some(c),
                (Some(from_address), _) => Some(from_address),
                (None, c) => c,
            }
        })
}

/// The calendar day a date falls on, as written (in its own zone).
fn day_of(date: &ParsedDate) -> chrono::NaiveDate {
    match date {
        ParsedDate::Day(d) => *d,
        ParsedDate::Local(t) => t.date(),
        ParsedDate::Absolute(t) => t.date_naive(),
    }
}

/// The day an article's address gives ("/2024/03/05/slug", "/2024-03-05-slug"): news sites
/// file their articles so.
fn url_date(address: &str) -> Option<ParsedDate> {
    let path = address.split(['?', '#']).next()?;
    let path = path.split_once("://").map_or(path, |(_, rest)| rest);
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let number = |s: &str, len: std::ops::RangeInclusive<usize>| -> Option<u32> {
        (len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let day = |y: u32, m: u32, d: u32| -> Option<ParsedDate> {
        let y = i32::try_from(y)
            .ok()
            .filter(|y| (1990..=2100).contains(y))?;
        chrono::NaiveDate::from_ymd_opt(y, m, d).map(ParsedDate::Day)
    };
    let from_parts = segments.windows(3).find_map(|w| {
        day(
            number(w[0], 4..=4)?,
            number(w[1], 1..=2)?,
            number(w[2], 1..=2)?,
        )
    });
    from_parts.or_else(|| {
        segments.iter().find_map(|s| {
            let s = s.get(..10)?;
            let mut parts = s.split('-');
            let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
            day(number(y, 4..=4)?, number(m, 2..=2)?, number(d, 2..=2)?)
        })
    })
}

/// Whether node `i` lies beside the article: in an `<aside>`, a `<nav>` or navigation
/// landmark, or a list item holding a link to another page (the other stories of a "More"
/// list; a byline's list of author and date is the article's). (Not any "complementary"
/// landmark: AO3 marks a work's own metadata, its date among them, so.)
fn beside_article(doc: &Doc, mut i: usize) -> bool {
    while i != super::dom::NONE && i < doc.nodes.len() {
        let n = doc.node(i);
        if matches!(n.name(), "aside" | "nav")
            || (n.name() == "li" && links_away(doc, i))
            || n.attr("role")
                .is_some_and(|r| r.eq_ignore_ascii_case("navigation"))
        {
            return true;
        }
        i = n.parent;
    }
    false
}

/// Whether element `i` holds a link to another page (not a `#` anchor of this one).
fn links_away(doc: &Doc, i: usize) -> bool {
    (i..doc.subtree_end(i)).any(|j| {
        let n = doc.node(j);
        n.name() == "a"
            && n.attr("href")
                .is_some_and(|h| !h.trim().is_empty() && !h.trim().starts_with('#'))
    })
}

/// Whether element or text `i` lies in an element whose class or id names a readers' thread.
fn in_thread(doc: &Doc, mut i: usize) -> bool {
    while i != super::dom::NONE && i < doc.nodes.len() {
        if is_thread(doc.node(i)) {
            return true;
        }
        i = doc.node(i).parent;
    }
    false
}

fn is_thread(n: &Node) -> bool {
    !matches!(n.name(), "html" | "body" | "main" | "article")
        && ["class", "id"]
            .iter()
            .filter_map(|a| n.attr(a))
            .any(is_thread_name)
}

/// Does a class or id value name a readers' thread ("comments", "discussion"…)?
fn is_thread_name(v: &str) -> bool {
    v.split_whitespace().any(|w| {
        THREAD_WORDS.iter().any(|t| contains_ignore_case(w, t))
            && !contains_ignore_case(w, "commentary")
    })
}

/// Does `hay` hold `needle` (lower-case ASCII), ignoring ASCII case? No allocation: this runs
/// on every class and id of a page.
fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The JSON-LD article's `datePublished` (see [`json_ld_objects`]). A bare day there is made
/// precise by another node's `datePublished` on the same day (a `WebPage` giving the time).
fn json_ld_date(ld: &[serde_json::Value]) -> Option<ParsedDate> {
    let mut dates = json_ld_objects(ld)
        .into_iter()
        .filter_map(|m| m.get("datePublished").and_then(|v| v.as_str()))
        .filter_map(|v| parse_date(v, None));
    let first = dates.next()?;
    let ParsedDate::Day(day) = first else {
        return Some(first);
    };
    Some(dates.take(8).find(|d| same_day(d, day)).unwrap_or(first))
}

/// Is `d` a time on `day` (not a bare day)?
fn same_day(d: &ParsedDate, day: chrono::NaiveDate) -> bool {
    match d {
        ParsedDate::Absolute(t) => t.date_naive() == day,
        ParsedDate::Local(t) => t.date() == day,
        ParsedDate::Day(_) => false,
    }
}

/// The date of the first element marked `itemprop="datePublished"` (microdata): its
/// `datetime` or `content`, else its text.
fn microdata_date(doc: &Doc, marks: &Marks) -> Option<ParsedDate> {
    marks.date_props.iter().find_map(|&i| {
        let n = doc.node(i);
        n.attr("datetime")
            .or_else(|| n.attr("content"))
            .and_then(|v| parse_date(v, None))
            .or_else(|| parse_date(&element_text(doc, i), None))
    })
}

/// A date the page shows: `<time datetime>` or a short text that reads as a date (akorda.kz
/// writes "21 March 2026" in an `h5`/`span` with no markup of its own), outside the chrome.
/// The first after the headline wins (the byline, the dateline), else the nearest before it
/// (a date above the title); without a headline, the first on the page. A date labelled as an
/// update ("Updated 5 Nov") gives way to one that is not, and one labelled as today's (a
/// masthead's "Сегодня: 7 декабря") is not the article's.
fn page_date(doc: &Doc, chrome: &[bool], headline: Option<usize>) -> Option<ParsedDate> {
    let from = headline.unwrap_or(0);
    let (after, after_update) = first_date(doc, chrome, from..doc.nodes.len());
    if after.is_some() {
        return after;
    }
    // Before the headline, nearest first: walk back in steps, each read forwards.
    let mut end = from;
    let mut before_update = None;
    while end > 0 {
        let start = end.saturating_sub(200);
        let (found, update) = last_date(doc, chrome, start..end);
        if found.is_some() {
            return found;
        }
        before_update = before_update.or(update);
        end = start;
        if from - end > 4000 {
            break;
        }
    }
    after_update.or(before_update)
}

/// The first date (not an update's) in `range` outside the chrome, and the first update's.
fn first_date(
    doc: &Doc,
    chrome: &[bool],
    range: std::ops::Range<usize>,
) -> (Option<ParsedDate>, Option<ParsedDate>) {
    let mut update = None;
    let mut tries = 0;
    let mut dates = dates_in(doc, chrome, range, &mut tries);
    while let Some((d, updated)) = dates.next() {
        if updated {
            update = update.or(Some(d));
            continue;
        }
        // A bare day made precise by the next dates of the same day (a byline's "March 10,
        // 2015" and a `<time>` with the hour further on).
        if let ParsedDate::Day(day) = d {
            let precise = dates
                .take(6)
                .find(|(e, updated)| !updated && same_day(e, day))
                .map(|(e, _)| e);
            return (Some(precise.unwrap_or(d)), update);
        }
        return (Some(d), update);
    }
    (None, update)
}

/// The last date (not an update's) in `range` outside the chrome, and the last update's.
fn last_date(
    doc: &Doc,
    chrome: &[bool],
    range: std::ops::Range<usize>,
) -> (Option<ParsedDate>, Option<ParsedDate>) {
    let (mut found, mut update) = (None, None);
    let mut tries = 0;
    for (d, updated) in dates_in(doc, chrome, range, &mut tries) {
        if updated {
            update = Some(d);
        } else {
            found = Some(d);
        }
    }
    (found, update)
}

/// The dates of `<time>` elements and short date texts in `range`, outside the chrome, with
/// whether each is labelled as an update. At most 60 texts are tried in all (`tries`).
fn dates_in<'a>(
    doc: &'a Doc,
    chrome: &'a [bool],
    range: std::ops::Range<usize>,
    tries: &'a mut u32,
) -> impl Iterator<Item = (ParsedDate, bool)> + 'a {
    let mut inside_time = 0;
    range.filter_map(move |i| {
        if *tries > 60 || chrome[i] {
            return None;
        }
        let n = doc.node(i);
        let stamp = matches!(&n.kind, Kind::Element { name, .. }
            if *name == html5ever::local_name!("time") || *name == html5ever::local_name!("abbr"));
        if stamp {
            inside_time = doc.subtree_end(i);
            *tries += 1;
            let d = time_date(doc, i)?;
            let label = label_before(doc, i) + " " + &element_text(doc, i);
            return labelled(d, &label);
        }
        if i < inside_time {
            return None;
        }
        let t = date_text(doc, i)?;
        *tries += 1;
        let d = parse_date(t, None)?;
        let label = label_before(doc, i) + " " + t;
        labelled(d, &label)
    })
}

/// The date of a `<time>`: its `datetime`, else its text; of an `<abbr>` (microformats write
/// `<abbr class="published" title="2015-03-10T08:05:41-07:00">`), its `title`, else its text.
fn time_date(doc: &Doc, i: usize) -> Option<ParsedDate> {
    let n = doc.node(i);
    n.attr(if n.name() == "abbr" {
        "title"
    } else {
        "datetime"
    })
    .and_then(|v| parse_date(v, None))
    .or_else(|| parse_date(&element_text(doc, i), None))
}

/// Words that mark a date as an update's, not the publication's.
const UPDATED: &[&str] = &[
    "updated",
    "modified",
    "edited",
    "обновлено",
    "обновлён",
    "обновлен",
    "изменено",
    "изменён",
    "жаңартылды",
    "өзгертілді",
];

/// Words that mark a date as today's (a masthead), not the article's.
const TODAY: &[&str] = &["today", "сегодня", "бүгін"];

/// `d` with whether `label` calls it an update; None when it calls it today's date.
fn labelled(d: ParsedDate, label: &str) -> Option<(ParsedDate, bool)> {
    let label = label.to_lowercase();
    if TODAY.iter().any(|w| label.contains(w)) {
        return None;
    }
    Some((d, UPDATED.iter().any(|w| label.contains(w))))
}

/// The text just before node `i` within its parent (a label such as "Updated" or "Published
/// on"): the text nodes among the few nodes before it.
fn label_before(doc: &Doc, i: usize) -> String {
    let parent = doc.node(i).parent;
    let mut s = String::new();
    for j in i.saturating_sub(3)..i {
        if j > parent
            && parent != super::dom::NONE
            && let Kind::Text(t) = &doc.node(j).kind
        {
            s.push_str(t);
        }
    }
    s
}

/// A short text node with a year in it (a date candidate), outside scripts and the like.
fn date_text(doc: &Doc, i: usize) -> Option<&str> {
    let node = doc.node(i);
    let Kind::Text(t) = &node.kind else {
        return None;
    };
    let t = t.trim();
    if i == 0 || t.len() < 6 || t.len() > 80 || !has_year(t) {
        return None;
    }
    let parent = doc.node(node.parent).name();
    (!matches!(
        parent,
        "script" | "style" | "title" | "noscript" | "textarea"
    ))
    .then_some(t)
}

/// The first short text that parses as a date, among the first 40 such texts not `skipped`.
fn date_in_text(doc: &Doc, skipped: impl Fn(usize) -> bool) -> Option<ParsedDate> {
    (0..doc.nodes.len())
        .filter_map(|i| date_text(doc, i).filter(|_| !skipped(i)))
        .take(40)
        .find_map(|t| parse_date(t, None))
}

fn has_year(t: &str) -> bool {
    let b = t.as_bytes();
    b.windows(4)
        .any(|w| (w.starts_with(b"19") || w.starts_with(b"20")) && w.iter().all(u8::is_ascii_digit))
}

/// The `src` an image really shows: lazy-loading attributes first, then the largest `srcset`
/// candidate, then `src` (unless it is a `data:` placeholder).
pub fn image_src(node: &Node) -> Option<&str> {
    crate::extract::html::image_address(|attr| node.attr(attr))
}

/// Words in an image's address, class or alt text that mark a tracker, icon or logo.
const NOT_CONTENT: &[&str] = &[
    "logo", "icon", "avatar", "pixel", "spacer", "blank", "tracking", "sprite", "1x1", "emoji",
    "badge", "button", "gravatar",
];

/// Words (sizes such as "2x" not counted) up to which a file name or alt text holding a
/// [`NOT_CONTENT`] word names the picture's role ("pixel", "site-logo-white",
/// "default-avatar", "CNN logo"); a longer one is a slug or a description of what it shows
/// ("google-pixel-8-review", "avatar-the-way-of-water"), whose words are the subject's.
const ROLE_NAME_WORDS: usize = 3;

/// The same for an `og:image` or a JSON-LD `image`, which a site sets for the article: only a
/// bare role name ("logo", "default-avatar") is the site's stand-in picture there
/// ("badge-of-honour.jpg" is the article's).
const META_ROLE_NAME_WORDS: usize = 2;

/// Whether `text`, split into words at anything but letters and digits, holds one of `words`
/// (or its plural), and has at most `max_words` words (not counting sizes).
fn names_role(text: &str, words: &[&str], max_words: usize) -> bool {
    let tokens = || {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
    };
    let role = tokens().any(|t| {
        words
            .iter()
            .any(|w| t == *w || t.strip_suffix('s') == Some(w))
    });
    role && tokens().filter(|t| !is_size(t)).count() <= max_words
}

/// A size in a file name: "2x", "32x32", "1200x800", "96px".
fn is_size(token: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    token.strip_suffix("px").is_some_and(digits)
        || token
            .split_once('x')
            .is_some_and(|(a, b)| digits(a) && (b.is_empty() || digits(b)))
}

/// An image address, lower-cased and without its query and fragment, as its host and its path.
fn host_and_path(src: &str) -> (String, String) {
    let lower = src.to_ascii_lowercase();
    let no_query = lower.split(['?', '#']).next().unwrap_or(&lower);
    match no_query.find("//") {
        Some(at) if !no_query[..at].contains('/') => {
            let after = &no_query[at + 2..];
            match after.find('/') {
                Some(slash) => (after[..slash].to_owned(), after[slash..].to_owned()),
                None => (after.to_owned(), String::new()),
            }
        }
        _ => (String::new(), no_query.to_owned()),
    }
}

/// Is this image address a logo, icon, avatar or tracker (or an SVG drawing) by its name? Its
/// words are read, not its substrings, and not the host's (a host named "pixel…" is no
/// tracker's sign; Gravatar's is an avatar's): a folder named so ("/icons/", "/avatars/") says
/// it, a "logo" anywhere in the file name, another such word in a file name of at most
/// `max_words` words (see [`ROLE_NAME_WORDS`]). "iconic-bridge.jpg", "fbappicon1_1020.jpg",
/// "google-pixel-8-review.jpg" are pictures.
fn names_not_content(src: &str, max_words: usize) -> bool {
    let (host, path) = host_and_path(src);
    let (dirs, file) = path.rsplit_once('/').unwrap_or(("", &path));
    let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    path.ends_with(".svg")
        || host.contains("gravatar")
        || names_role(dirs, NOT_CONTENT, usize::MAX)
        || names_role(stem, &["logo"], usize::MAX)
        || names_role(stem, NOT_CONTENT, max_words)
}

/// [`names_not_content`] for an `<img>` of the page.
fn is_logo_like(src: &str) -> bool {
    names_not_content(src, ROLE_NAME_WORDS)
}

/// [`names_not_content`] for an `og:image` or a JSON-LD `image`: the site's logo or a stand-in
/// put there when the article has no picture of its own.
fn is_site_logo(src: &str) -> bool {
    names_not_content(src, META_ROLE_NAME_WORDS)
}

/// Words in an image's address that mark a placeholder a lazy loader replaces.
const PLACEHOLDER: &[&str] = &[
    "placeholder",
    "lazy",
    "loading",
    "loader.",
    "transparent.",
    "grey.",
    "gray.",
];

/// Is this `<img>` plausibly a content picture, not a tracker, icon or logo?
fn is_content_image(node: &Node, src: &str) -> bool {
    let small = |a: &str| {
        node.attr(a)
            .and_then(|v| v.trim().trim_end_matches("px").parse::<u32>().ok())
            .is_some_and(|v| v < 100)
    };
    if small("width") || small("height") || is_logo_like(src) {
        return false;
    }
    let class = node.attr("class").unwrap_or("").to_ascii_lowercase();
    let alt = node.attr("alt").unwrap_or("").to_lowercase();
    !NOT_CONTENT.iter().any(|w| class.contains(w))
        && !names_role(&alt, NOT_CONTENT, ROLE_NAME_WORDS)
}

/// Is this image address a lazy loader's placeholder?
fn is_placeholder(src: &str) -> bool {
    let lower = src.to_ascii_lowercase();
    let file = lower.rsplit('/').next().unwrap_or(&lower);
    PLACEHOLDER.iter().any(|w| file.contains(w))
}

/// The contents of the page's `<noscript>` elements, in order, read from the page's source: the
/// parser skips them (a browser with scripts shows none of it), but a lazy loader's real image
/// is often only there. None when the count found differs from the parsed page's (a
/// `"<noscript"` in a script or comment), so that none is matched to the wrong element.
fn noscript_contents<'a>(doc: &Doc, source: &'a str) -> Option<Vec<&'a str>> {
    let lower = source.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(pos) = lower[at..].find("<noscript") {
        let open = at + pos;
        let Some(gt) = lower[open..].find('>') else {
            break;
        };
        let start = open + gt + 1;
        let end = lower[start..]
            .find("</noscript")
            .map_or(source.len(), |e| start + e);
        out.push(&source[start..end]);
        at = end;
    }
    (out.len() == doc.elements("noscript").count()).then_some(out)
}

/// The picture of the `<noscript>` right after image `i` (or after its parent, e.g. a
/// `<picture>` or link): the real image of a lazy loader that shows a placeholder until a script
/// runs. `noscripts`: see [`noscript_contents`].
fn noscript_image(doc: &Doc, i: usize, noscripts: &[&str]) -> Option<String> {
    let next_element = |j: usize| {
        let mut k = doc.node(j).next_sibling;
        while k != super::dom::NONE {
            let n = doc.node(k);
            match &n.kind {
                Kind::Text(t) if t.trim().is_empty() => k = n.next_sibling,
                _ => return Some(k),
            }
        }
        None
    };
    let parent = doc.node(i).parent;
    let k = [Some(i), (parent != super::dom::NONE).then_some(parent)]
        .into_iter()
        .flatten()
        .filter_map(next_element)
        .find(|&k| doc.node(k).name() == "noscript")?;
    let nth = doc.elements("noscript").take_while(|&j| j < k).count();
    let d = Doc::parse(noscripts.get(nth)?);
    let img = d.elements("img").next()?;
    let node = d.node(img);
    image_src(node)
        .filter(|src| is_content_image(node, src) && !is_placeholder(src))
        .map(str::to_owned)
}

/// The lead image: `og:image`/`twitter:image`, else the JSON-LD article's `image`, else the
/// first content picture among `imgs` (then the page's `amp-img`s); `source` is the HTML `doc`
/// was parsed from, for a placeholder's `<noscript>` image. An address that names a
/// logo, icon or tracker is passed over wherever it comes from.
pub fn image(
    doc: &Doc,
    meta: &[(String, &str)],
    ld: &[serde_json::Value],
    imgs: &[usize],
    source: &str,
    base: Option<&Url>,
) -> Option<String> {
    // Read only when a placeholder is met (it scans the whole source).
    let noscripts = std::cell::OnceCell::new();
    let absolute = |src: &str| -> Option<String> {
        let url = match base {
            Some(b) => b.join(src.trim()).ok()?,
            None => Url::parse(src.trim()).ok()?,
        };
        matches!(url.scheme(), "http" | "https").then(|| url.to_string())
    };
    let from_meta = IMAGE_META
        .iter()
        .flat_map(|k| meta.iter().filter(move |(key, _)| key == k))
        .map(|(_, v)| *v)
        .filter(|v| !is_site_logo(v))
        .find_map(absolute);
    let from_ld = || {
        let mut urls = Vec::new();
        for m in json_ld_objects(ld) {
            if let Some(v) = m.get("image") {
                json_ld_image_urls(v, &mut urls);
            }
        }
        urls.into_iter()
            .filter(|v| !is_site_logo(v))
            .find_map(absolute)
    };
    let from_page = || {
        imgs.iter().find_map(|&i| {
            let node = doc.node(i);
            let src = image_src(node);
            if src.is_none_or(is_placeholder)
                && let Some(real) = noscripts
                    .get_or_init(|| noscript_contents(doc, source))
                    .as_deref()
                    .and_then(|n| noscript_image(doc, i, n))
            {
                return absolute(&real);
            }
            let src = src?;
            (is_content_image(node, src) && !is_placeholder(src))
                .then(|| absolute(src))
                .flatten()
        })
    };
    let from_amp = || {
        let chrome = Marks::of(doc).chrome;
        doc.elements("amp-img").find_map(|i| {
            let node = doc.node(i);
            let src = image_src(node)?;
            (!chrome[i] && is_content_image(node, src))
                .then(|| absolute(src))
                .flatten()
        })
    };
    from_meta
        .or_else(from_ld)
        .or_else(from_page)
        .or_else(from_amp)
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
            crate::extract::html::largest_in_srcset("a.jpg 320w, b.jpg 1024w, c.jpg 640w"),
            Some("b.jpg")
        );
        assert_eq!(
            crate::extract::html::largest_in_srcset("a.jpg 1x, b.jpg 2x"),
            Some("b.jpg")
        );
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

    /// An image's role is read from its path's words, not from any substring of its address:
    /// a short file name or a folder naming a logo, icon or tracker is one; a slug naming the
    /// subject, a word that merely holds such a word, or the host is not.
    #[test]
    fn logo_words_are_read_by_word_in_the_path() {
        for (src, logo) in [
            ("https://example.com/static/logo.png", true),
            ("https://example.com/img/site-logo-white.png", true),
            ("https://example.com/avatars/123.jpg", true),
            ("https://example.com/t/pixel.gif", true),
            ("https://example.com/img/default-avatar.png", true),
            ("https://example.com/i/iconic-bridge.jpg", false),
            ("https://example.com/i/google-pixel-8-review.jpg", false),
            ("https://example.com/i/avatar-the-way-of-water.jpg", false),
            ("https://pixel-news.example.com/uploads/council.jpg", false),
            (
                "https://cdn.example.com/images/fbappicon1_1020.0_cinema_1200.0.jpg",
                false,
            ),
        ] {
            assert_eq!(is_logo_like(src), logo, "{src}");
        }
    }

    /// An `og:image` is passed over only when it is the site's logo or a stand-in named by
    /// its role alone: a slug holding such a word is the article's picture.
    #[test]
    fn og_image_is_dropped_only_as_the_sites_logo() {
        let image_of = |og: &str| {
            let html = format!(
                "<html><head><meta property=\"og:image\" content=\"{og}\"></head><body></body></html>"
            );
            let doc = Doc::parse(&html);
            let meta = meta_tags(&doc);
            image(&doc, &meta, &[], &[], &html, None)
        };
        for og in [
            "https://cdn.example.com/uploads/badge-of-honour.jpg",
            "https://cdn.example.com/uploads/icon-of-the-year.jpg",
            "https://cdn.example.com/images/fbappicon1_1020.0_cinema_1200.0.jpg",
            "https://pixel.example.com/uploads/council.jpg",
        ] {
            assert_eq!(image_of(og).as_deref(), Some(og));
        }
        assert_eq!(
            image_of("https://example.com/static/yonhap_logo_1200x800.jpg"),
            None
        );
    }
}
