//! Finding the list of releases on a page: the repeated block of sibling elements that each
//! hold a link with a title (and usually a date), and the selectors an admin would write for it.
//!
//! Decisions:
//! - Candidates are siblings under one parent with the same tag, all of them or those sharing
//!   one class (so `div.ad-slot` between `div.card`s stays out, and `story story--featured`
//!   stays in with `story`). Each candidate is scored by its members that have a distinct link
//!   with a title of a release's length, more for members with a date and inside the main
//!   content; dated releases (or cards with a picture and a teaser) rank above bare undated
//!   ones. The page's chrome (nav/header/footer/aside, a navigation role, classes such as
//!   `menu`, `sidebar`, `widget`, `popular`, a block headed "Most read" or "Читайте также")
//!   is never proposed, and an article's own page is refused as one. A class on `body` (or on
//!   a wrapper holding the main region) names the layout, not chrome; paragraphs led by a
//!   titled link are list items, not an article's body. The page's structure weighs too: a
//!   list after the page's `<h1>` in the element holding it scores more, one in the narrower
//!   of two grid columns (`col-4` beside `col-8`) half. Cards whose links have another shape
//!   than two thirds of the others' and carry a class of their own (a promotion) are left out
//!   by it (`div.card:not(.card--promo)`).
//! - Dates beside the releases are read from the side the page writes them: before (a `<dt>`,
//!   a date heading) or after (`<dt>TITLE</dt><dd>DATE</dd>`), decided by the list reader's
//!   own rule. Dates are judged as the poller reads them, relative ones ("2 hours ago") too.
//! - Selectors are tried from the shortest an admin would write (`div.card`, `h3 a`, `h5`) to
//!   longer ones anchored at the parent, and one is kept only when it picks, in every member,
//!   exactly the element found. Classes that look generated (`css-1x2y3z`, `sc-…`,
//!   `Card_link__9fZ2k`, `kQzTfg`) are never used; a position (`td:nth-of-type(4)`) only when
//!   no class or tag names the element alone. Pager and "more" links are no releases; when the
//!   best group gets no selectors that fit, the next groups are tried.
//! - Numeric dates are read by the evidence of the whole list: a first field over 12 means day
//!   first, a second one month first; without evidence, the language's region (en-US, or
//!   English in an America/… zone) decides, else day first. The order chosen, and why, is
//!   always a note; a `date_format` is written when the reader's default would not read the
//!   dates so, and it covers the time they carry.

use crate::config::SCOPE;
use crate::dates;
use crate::extract::html::ItemPlaces;
use crate::extract::{PageLinks, card_link};
use crate::text::clean;
use chrono::NaiveDate;
use chrono_tz::Tz;
use regex::Regex;
use scraper::{ElementRef, Html, Selector};
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;
use url::Url;

/// What the admin told `suggest` about the source.
#[derive(Clone, Debug, Default)]
pub struct Hints {
    /// BCP 47, normalized.
    pub language: Option<String>,
    pub timezone: Option<Tz>,
}

/// The `[sources.list]` selectors found, and what comes with them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListProposal {
    pub item: String,
    pub title: String,
    pub link: String,
    pub date: Option<String>,
    pub date_format: Option<String>,
    pub summary: Option<String>,
    pub image: Option<String>,
    pub id_pattern: Option<String>,
    pub require_id: bool,
    /// Links of the releases found, in page order (for opening a few articles).
    pub links: Vec<Url>,
    /// Things the admin should know (a date that cannot be read, …).
    pub notes: Vec<String>,
}

/// No list was found: what was tried.
#[derive(Clone, Debug)]
pub struct NotFound {
    pub groups: usize,
    pub best: Option<String>,
    /// The page is an article, and why it reads as one (`og:type` "article").
    pub article: Option<String>,
}

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(why) = &self.article {
            return write!(
                f,
                "this is an article, not a list of releases ({why}): give the address of the \
                 list page that links to it (the news section, the blog's index)"
            );
        }
        write!(
            f,
            "no list of releases found: looked at {} groups of repeated sibling elements for at \
             least {MIN_ITEMS} with each a distinct link whose text is a title ({MIN_TITLE_CHARS}+ \
             characters)",
            self.groups
        )?;
        if let Some(best) = &self.best {
            write!(f, "; the closest was {best}")?;
        }
        Ok(())
    }
}

/// What happens to releases the list dates not, said in its notes (`build` says otherwise
/// when the release pages carry a date).
pub const FIRST_SEEN: &str = "herald will date new releases by when it first sees them";
pub const UNTIL_FIRST_SEEN: &str = "until then new releases are dated when herald first sees them";

/// Fewer repeated items than this are no list.
const MIN_ITEMS: usize = 3;
/// A title is at least this many characters ("Home", "Next »", "1" are not).
const MIN_TITLE_CHARS: usize = 12;
/// Candidate groups tried for selectors, best first, before discovery gives up.
const MAX_PROPOSALS: usize = 8;

static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid regex")]
    Regex::new(r"^-?[A-Za-z_][A-Za-z0-9_-]*$").unwrap()
});

/// Classes written by CSS-in-JS and CSS modules: they change with every build.
static HASHED: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid regex")]
    Regex::new(r"^(?:css|sc|jsx|emotion|svelte|styled|tw)-").unwrap()
});

/// Whether an admin would write this class: a plain name, not a generated one.
pub fn stable_class(class: &str) -> bool {
    if !TOKEN.is_match(class) || HASHED.is_match(class) {
        return false;
    }
    // CSS modules: `Card_link__9fZ2k` (BEM's `news-item__title` is a word after `__`).
    if let Some((_, hash)) = class.rsplit_once("__")
        && (4..=8).contains(&hash.len())
        && hash
            .chars()
            .any(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    {
        return false;
    }
    // CSS modules with their own naming (`date_m3n4b`, `_card_x7f3a_4`): a `_`-separated part
    // of 4 to 8 characters mixing letters and digits is a hash.
    if class.split('_').any(|part| {
        (4..=8).contains(&part.len())
            && part.chars().all(|c| c.is_ascii_alphanumeric())
            && part.chars().any(|c| c.is_ascii_digit())
            && part.chars().any(|c| c.is_ascii_alphabetic())
    }) {
        return false;
    }
    // "kQzTfg", "x8Tq2": letters and digits without a word's shape (an upper-case letter after
    // a lower-case one, no separator) – but "newsItem" is a word.
    let core: String = class
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let digits = core.chars().filter(char::is_ascii_digit).count();
    let flips = core
        .as_bytes()
        .windows(2)
        .filter(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
        .count();
    let separated = class.contains(['-', '_']);
    let random_case = !separated && core.len() <= 8 && flips >= 2;
    let random_digits = digits >= 2 && digits * 3 >= core.len() && core.len() >= 5;
    !(random_case || random_digits)
}

fn classes(e: ElementRef<'_>) -> Vec<&str> {
    e.value().classes().filter(|c| stable_class(c)).collect()
}

fn sel(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

/// The element's text as the poller reads it (words apart at `<br>` and block edges, no script
/// or style text), whitespace collapsed.
pub(super) fn text_of(e: ElementRef<'_>) -> String {
    clean(&crate::extract::html::element_text(e))
}

/// One candidate: siblings under one parent.
struct Group<'a> {
    members: Vec<ElementRef<'a>>,
    /// The class they share (or none: all siblings of the tag).
    class: Option<String>,
}

/// What one member of a candidate holds.
#[derive(Clone)]
struct Member<'a> {
    element: ElementRef<'a>,
    link: ElementRef<'a>,
    href: Url,
    /// The element whose text is the title.
    title: ElementRef<'a>,
}

/// Finds the list on a page and the selectors for it.
pub fn discover(html: &str, page_url: &Url, hints: &Hints) -> Result<ListProposal, NotFound> {
    let doc = Html::parse_document(html);
    let base = crate::extract::html::base_url(&doc, page_url);
    // An article's own page lists no releases: its links are chrome and "related" blocks.
    if let Some(why) = article_page(&doc) {
        return Err(NotFound {
            groups: 0,
            best: None,
            article: Some(why),
        });
    }
    let groups = candidate_groups(&doc);
    let mut scored: Vec<((u8, f64), usize, Vec<Member<'_>>)> = Vec::new();
    let mut closest: Option<(usize, String)> = None;
    for (index, group) in groups.iter().enumerate() {
        let links = LinkReading::of(group, page_url, &base);
        let members: Vec<Member<'_>> = group
            .members
            .iter()
            .filter_map(|m| member(*m, &links))
            .collect();
        let distinct: HashSet<&str> = members.iter().map(|m| m.href.as_str()).collect();
        let describe = || {
            let e = group.members[0];
            format!(
                "{} `{}` elements with {} usable links",
                group.members.len(),
                element_css(e.value().name(), group.class.as_deref()),
                distinct.len()
            )
        };
        if closest.as_ref().is_none_or(|(n, _)| distinct.len() > *n) {
            closest = Some((distinct.len(), describe()));
        }
        if distinct.len() < MIN_ITEMS || members.len() * 5 < group.members.len() * 3 {
            continue;
        }
        // The page's chrome (a menu, "most read", "related") lists other pages, never the
        // source's releases: it is not proposed even when it is all there is (an article).
        if place_of(group.members[0]) == Place::Chrome {
            continue;
        }
        let like = alike(group, &members);
        if like.is_empty() {
            continue;
        }
        scored.push((score(group, &like), index, members));
    }
    // Best first; on a tie the group found first (a class's group comes before all the
    // siblings of its tag, so `div.card` wins over the same cards seen as `div`).
    scored.sort_by(|a, b| {
        b.0.0
            .cmp(&a.0.0)
            .then(b.0.1.total_cmp(&a.0.1))
            .then(a.1.cmp(&b.1))
    });
    // The best group may have no selectors that fit all its members (an unlike sibling among
    // them): the next ones are tried before giving up.
    for (_, index, members) in scored.iter().take(MAX_PROPOSALS) {
        let (members, left_out) = odd_members(members);
        let members = &members;
        if let Some(mut p) = propose(&doc, &groups[*index], members, hints, left_out.as_deref()) {
            let links = LinkReading::of(&groups[*index], page_url, &base);
            if let Some(hero) = featured(&groups[*index], members, &links) {
                add_featured(&doc, members, &hero, &mut p);
            }
            return Ok(p);
        }
    }
    let best = match scored.first() {
        Some((_, index, _)) => {
            let g = &groups[*index];
            Some(format!(
                "{} `{}` elements, but no selectors read the same title and link in each",
                g.members.len(),
                element_css(g.members[0].value().name(), g.class.as_deref())
            ))
        }
        None => closest.map(|(_, d)| d),
    };
    Err(NotFound {
        groups: groups.len(),
        best,
        article: None,
    })
}

/// Why the page reads as one article (its own page, not a list): it says so (`og:type`
/// "article", a JSON-LD `NewsArticle`, `Article` or `BlogPosting`), has one `h1`, and one
/// element after it holds three paragraphs or more of body text, before three links with a
/// title's text. `None` for anything else: a list page marked as an article by mistake has
/// its summaries in separate cards, and its list before any text of its own.
fn article_page(doc: &Html) -> Option<String> {
    static OG: LazyLock<Selector> = LazyLock::new(|| {
        #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
        Selector::parse("meta[property='og:type']").unwrap()
    });
    static LD: LazyLock<Selector> = LazyLock::new(|| {
        #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
        Selector::parse("script[type='application/ld+json']").unwrap()
    });
    static H1: LazyLock<Selector> = LazyLock::new(|| {
        #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
        Selector::parse("h1").unwrap()
    });
    const TYPES: [&str; 5] = [
        "Article",
        "NewsArticle",
        "BlogPosting",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
    ];
    let og = doc
        .select(&OG)
        .filter_map(|m| m.value().attr("content"))
        .any(|c| c.trim().eq_ignore_ascii_case("article"));
    let ld = doc.select(&LD).find_map(|script| {
        let value: serde_json::Value =
            serde_json::from_str(&script.text().collect::<String>()).ok()?;
        let top: Vec<&serde_json::Value> = match &value {
            serde_json::Value::Array(a) => a.iter().collect(),
            v => std::iter::once(v)
                .chain(
                    v.get("@graph")
                        .and_then(|g| g.as_array())
                        .into_iter()
                        .flatten(),
                )
                .collect(),
        };
        top.iter()
            .filter_map(|v| v.get("@type"))
            .flat_map(|t| match t {
                serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
                t => t.as_str().into_iter().collect::<Vec<_>>(),
            })
            .find(|t| TYPES.contains(t))
            .map(str::to_owned)
    });
    let why = match (og, ld) {
        (_, Some(t)) => format!("its JSON-LD says `{t}`"),
        (true, None) => "its `og:type` is \"article\"".to_owned(),
        (false, None) => return None,
    };
    let mut h1s = doc.select(&H1);
    let (Some(h1), None) = (h1s.next(), h1s.next()) else {
        return None;
    };
    // In document order from the `h1` on: the body text must come before any list (a list
    // page's own text, an "about this section" below its list, is no article's body).
    let mut titled_links = 0;
    for e in doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .skip_while(|e| e.id() != h1.id())
    {
        if e.value().name() == "a"
            && e.value().attr("href").is_some()
            && text_of(e).chars().count() >= MIN_TITLE_CHARS
        {
            titled_links += 1;
            if titled_links >= MIN_ITEMS {
                return None;
            }
        }
        // A paragraph led by a link with a title's text is a list item, not body prose; a
        // container whose paragraphs are mostly such items is a list.
        let (items, paragraphs): (Vec<ElementRef<'_>>, Vec<ElementRef<'_>>) = e
            .children()
            .filter_map(ElementRef::wrap)
            .filter(|c| c.value().name() == "p")
            .partition(|p| led_by_title(*p));
        let paragraphs: Vec<usize> = paragraphs
            .into_iter()
            .map(|p| text_of(p).chars().count())
            .filter(|n| *n >= 40)
            .collect();
        if paragraphs.len() >= 3
            && paragraphs.len() >= items.len()
            && paragraphs.iter().sum::<usize>() >= 300
        {
            return Some(why);
        }
    }
    None
}

/// Whether the paragraph opens with a link whose text reads as a title: only a date (or
/// nothing) stands before it. "1 December 2026 <a>The President held a meeting…</a>" is a
/// release in a list; "According to <a>the ministry's annual report</a>, …" is body prose.
fn led_by_title(p: ElementRef<'_>) -> bool {
    static A: LazyLock<Selector> = LazyLock::new(|| {
        #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
        Selector::parse("a[href]").unwrap()
    });
    let Some(link) = p.select(&A).next() else {
        return false;
    };
    let title = text_of(link);
    if title.chars().count() < MIN_TITLE_CHARS {
        return false;
    }
    let text = text_of(p);
    let Some(at) = text.find(&title) else {
        return false;
    };
    let before = text[..at].trim_matches(|c: char| !c.is_alphanumeric());
    before.is_empty() || (before.chars().count() <= 40 && date_in(before))
}

/// Every set of repeated siblings: per parent and tag, all of them and each shared class.
fn candidate_groups(doc: &Html) -> Vec<Group<'_>> {
    let mut out = Vec::new();
    for parent in doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
    {
        let mut by_tag: HashMap<&str, Vec<ElementRef<'_>>> = HashMap::new();
        let mut order: Vec<&str> = Vec::new();
        for child in parent.children().filter_map(ElementRef::wrap) {
            let name = child.value().name();
            if matches!(
                name,
                "script" | "style" | "br" | "hr" | "option" | "meta" | "link"
            ) {
                continue;
            }
            let entry = by_tag.entry(name).or_default();
            if entry.is_empty() {
                order.push(name);
            }
            entry.push(child);
        }
        for name in order {
            let children = &by_tag[name];
            if children.len() < MIN_ITEMS {
                continue;
            }
            let mut counts: HashMap<&str, usize> = HashMap::new();
            let mut class_order = Vec::new();
            for c in children {
                for class in classes(*c) {
                    let n = counts.entry(class).or_default();
                    if *n == 0 {
                        class_order.push(class);
                    }
                    *n += 1;
                }
            }
            for class in class_order {
                let n = counts[class];
                if n >= MIN_ITEMS && n < children.len() {
                    out.push(Group {
                        members: children
                            .iter()
                            .copied()
                            .filter(|c| {
                                c.value()
                                    .has_class(class, scraper::CaseSensitivity::CaseSensitive)
                            })
                            .collect(),
                        class: Some(class.to_owned()),
                    });
                }
            }
            out.push(Group {
                members: children.clone(),
                class: None,
            });
        }
        out.extend(cousin_groups(parent));
    }
    out
}

/// Repeated elements split over sibling containers of one kind (a date heading before each
/// day's `ul`, a blog's rows of two columns): the children of `parent`'s children of the same
/// tag and first class, taken together per tag, when two containers or more hold them.
fn cousin_groups(parent: ElementRef<'_>) -> Vec<Group<'_>> {
    let mut containers: HashMap<(&str, Option<&str>), Vec<ElementRef<'_>>> = HashMap::new();
    let mut order = Vec::new();
    for child in parent.children().filter_map(ElementRef::wrap) {
        let key = (child.value().name(), classes(child).first().copied());
        let entry = containers.entry(key).or_default();
        if entry.is_empty() {
            order.push(key);
        }
        entry.push(child);
    }
    let mut out = Vec::new();
    for key in order {
        let boxes = &containers[&key];
        if boxes.len() < 2 {
            continue;
        }
        let mut by_tag: HashMap<&str, (Vec<ElementRef<'_>>, usize)> = HashMap::new();
        let mut tags = Vec::new();
        for b in boxes {
            let mut seen = HashSet::new();
            for c in b.children().filter_map(ElementRef::wrap) {
                let name = c.value().name();
                if matches!(name, "script" | "style" | "br" | "hr" | "meta" | "link") {
                    continue;
                }
                let entry = by_tag.entry(name).or_default();
                if entry.0.is_empty() {
                    tags.push(name);
                }
                entry.0.push(c);
                if seen.insert(name) {
                    entry.1 += 1;
                }
            }
        }
        for tag in tags {
            let (members, holders) = &by_tag[tag];
            if members.len() >= MIN_ITEMS && *holders >= 2 {
                out.push(Group {
                    members: members.clone(),
                    class: None,
                });
            }
        }
    }
    out
}

fn element_css(tag: &str, class: Option<&str>) -> String {
    match class {
        Some(c) => format!("{tag}.{c}"),
        None => tag.to_owned(),
    }
}

/// How a group's links are read: as the list reader reads its cards' links
/// ([`crate::extract::card_link`]), so that discovery counts the releases the poller will.
/// A route fragment (`#/news/101`) tells cards apart where two or more of them route one page,
/// and a link to the list page itself names no release.
struct LinkReading<'u> {
    page: &'u Url,
    base: &'u Url,
    /// What the group's links tell as a whole (routes, a session; see `card_link`).
    page_links: PageLinks,
}

impl<'u> LinkReading<'u> {
    fn of(group: &Group<'_>, page: &'u Url, base: &'u Url) -> Self {
        static A: LazyLock<Selector> = LazyLock::new(|| {
            #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
            Selector::parse("a[href]").unwrap()
        });
        let hrefs: Vec<&str> = group
            .members
            .iter()
            .flat_map(|m| {
                let own = (m.value().name() == "a").then_some(*m);
                own.into_iter().chain(m.select(&A))
            })
            .filter_map(|a| a.value().attr("href"))
            .collect();
        LinkReading {
            page,
            base,
            page_links: PageLinks::read(base, &hrefs, &[]),
        }
    }

    /// The release a link names, as the list reader reads it; `None` for none.
    fn read(&self, href: &str) -> Option<Url> {
        card_link(self.page, self.base, href, &self.page_links).ok()
    }
}

/// The release a member shows: its main link (the one with the longest text, or the member
/// itself when it is the link) and its title.
fn member<'a>(element: ElementRef<'a>, links: &LinkReading<'_>) -> Option<Member<'a>> {
    let base = links.base;
    let usable = |a: &ElementRef<'_>| a.value().attr("href").and_then(|h| links.read(h));
    if element.value().name() == "a" {
        let href = usable(&element)?;
        let title = whole_card_title(element).or_else(|| title_inside(element))?;
        return Some(Member {
            element,
            link: element,
            href,
            title,
        });
    }
    static A: LazyLock<Selector> = LazyLock::new(|| {
        #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
        Selector::parse("a[href]").unwrap()
    });
    let links: Vec<(ElementRef<'a>, Url)> = element
        .select(&A)
        .filter_map(|a| usable(&a).map(|u| (a, u)))
        .collect();
    // A link in a heading (or a "title" element) whose text reads as a title is the release's
    // own: a "Read more: TITLE" button or a "Comments on TITLE" link beside it is longer.
    let in_heading = |a: &ElementRef<'_>| {
        a.ancestors()
            .filter_map(ElementRef::wrap)
            .take_while(|x| x.id() != element.id())
            .chain(std::iter::once(*a))
            .any(|x| {
                is_heading(x.value().name())
                    || x.value()
                        .classes()
                        .any(|c| c.to_ascii_lowercase().contains("title"))
            })
    };
    let (link, href) = match links
        .iter()
        .find(|(a, _)| in_heading(a) && text_of(*a).chars().count() >= MIN_TITLE_CHARS)
    {
        Some(found) => found.clone(),
        None => links
            .iter()
            .enumerate()
            .max_by_key(|(i, (a, _))| {
                // Ties go to the first link: `max_by_key` keeps the last maximum.
                (text_of(*a).chars().count(), std::cmp::Reverse(*i))
            })
            .map(|(_, l)| l.clone())?,
    };
    let title = if text_of(link).chars().count() >= MIN_TITLE_CHARS {
        whole_card_title(link).unwrap_or(link)
    } else {
        title_inside(link).or_else(|| title_inside(element))?
    };
    // A pager or a "more" link among the cards is no release.
    if pager_link(&href, base) || navigation_text(&text_of(title)) {
        return None;
    }
    Some(Member {
        element,
        link,
        href,
        title,
    })
}

/// Words that start a pager's or an archive's link ("Next page »", "Show all news",
/// "Следующая страница", "Барлық жаңалықтар"): such a link is a way through the list, not a
/// release. A real title starting so ("Next generation …") goes on with other words.
static NAVIGATION: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid regex")]
    Regex::new(
        r"(?ix)^(?:
            (?:next|previous|prev|older|newer|more|all)(?:(?:\s+\w+)?\s+(?:page|pages|posts|entries|news|articles|stories|releases|items|results|publications|events))?
            | (?:show|view|see|load|read|browse)\s+(?:all|more|older|the\s+archive)\b.*
            | (?:news\s+)?archive
            | (?:go\s+)?to\s+(?:the\s+)?(?:archive|all\s+news|next\s+page)\b.*
            | (?:следующ|предыдущ)\w*(?:\s+страниц\w*)?
            | далее | ещё | еще | больше(?:\s+новостей)? | архив(?:\s+новостей)?
            | (?:показать|загрузить|смотреть|все|читать)\s+(?:ещё|еще|все|больше|новости|архив)\b.*
            | (?:келесі|алдыңғы)(?:\s+бет)?
            | (?:барлық|барлығы|тағы|толығырақ)(?:\s+\w+)?
        )$",
    )
    .unwrap()
});

/// Whether a link's text is a pager's or a "more" button's (arrows and page numbers aside).
fn navigation_text(text: &str) -> bool {
    let words: String = text
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let words = clean(&words);
    let words = words.trim_matches(|c: char| c.is_ascii_digit() || c == ' ');
    words.is_empty() || NAVIGATION.is_match(words)
}

/// Whether a link turns the list's page (`?page=2`, `/page/3/`, Bitrix's `?PAGEN_1=2`): a
/// small page number, and otherwise the list's own address: no query key the list lacks
/// (`/index.php?page=news&id=1501` names a page of a site's script, not a page of the list).
fn pager_link(href: &Url, list: &Url) -> bool {
    let pager_key = |k: &str| {
        let k = k.to_ascii_lowercase();
        k == "page" || k == "paged" || k.starts_with("pagen_")
    };
    let small_number =
        |v: &str| (1..=4).contains(&v.len()) && v.chars().all(|c| c.is_ascii_digit());
    if href
        .query_pairs()
        .any(|(k, v)| pager_key(&k) && small_number(&v))
    {
        // The rest of the address is the list's: no query key the list lacks.
        let own: HashSet<String> = list.query_pairs().map(|(k, _)| k.into_owned()).collect();
        let rest_is_list = href
            .query_pairs()
            .filter(|(k, _)| !pager_key(k))
            .all(|(k, _)| own.contains(k.as_ref()));
        return rest_is_list;
    }
    href.path_segments().is_some_and(|s| {
        let s: Vec<&str> = s.filter(|x| !x.is_empty()).collect();
        s.windows(2).any(|w| w[0] == "page" && small_number(w[1]))
    })
}

/// The title inside a link that holds a whole card (a picture, a heading, a date): the heading
/// or "title" element in it, else, when the link's text holds a date, its longest text that is
/// no date. `None` for a link that is its title alone.
fn whole_card_title(link: ElementRef<'_>) -> Option<ElementRef<'_>> {
    static TITLED: LazyLock<Selector> = LazyLock::new(|| {
        #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
        Selector::parse("h1, h2, h3, h4, h5, h6, [class*=title]").unwrap()
    });
    let long = |x: &ElementRef<'_>| text_of(*x).chars().count() >= MIN_TITLE_CHARS;
    if let Some(h) = link.select(&TITLED).find(long) {
        return Some(h);
    }
    let children: Vec<ElementRef<'_>> = link.children().filter_map(ElementRef::wrap).collect();
    if children.is_empty() || !children.iter().any(|c| date_in(&text_of(*c))) {
        return None;
    }
    // The first text of a title's length that is no date, a paragraph last: a card's title
    // comes before its teaser.
    let texts: Vec<ElementRef<'_>> = link
        .descendants()
        .filter_map(ElementRef::wrap)
        .skip(1)
        .filter(|x| x.children().filter_map(ElementRef::wrap).count() == 0)
        .filter(|x| long(x) && !date_in(&text_of(*x)))
        .collect();
    texts
        .iter()
        .find(|x| x.value().name() != "p")
        .or_else(|| texts.first())
        .copied()
}

/// A heading (or the element with the longest own text) inside `e` that reads as a title.
fn title_inside(e: ElementRef<'_>) -> Option<ElementRef<'_>> {
    static HEADING: LazyLock<Selector> = LazyLock::new(|| {
        #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
        Selector::parse("h1, h2, h3, h4, h5, h6, [class*=title]").unwrap()
    });
    let long = |x: &ElementRef<'_>| text_of(*x).chars().count() >= MIN_TITLE_CHARS;
    if let Some(h) = e.select(&HEADING).find(long) {
        return Some(h);
    }
    if long(&e) && e.children().filter_map(ElementRef::wrap).count() == 0 {
        return Some(e);
    }
    e.descendants()
        .filter_map(ElementRef::wrap)
        .filter(|x| x.children().filter_map(ElementRef::wrap).count() == 0)
        .filter(long)
        .max_by_key(|x| text_of(*x).chars().count())
}

/// The members that count for a group's score. When three quarters of a tag's siblings or
/// more share a class and the others lack it, those others (a pager, a "more" box, a banner
/// among the cards) are unlike the releases: the group of all the siblings then scores no
/// more than the group of the class, which wins the tie and reads no stranger.
fn alike<'a>(group: &Group<'_>, members: &[Member<'a>]) -> Vec<Member<'a>> {
    if group.class.is_some() {
        return members.to_vec();
    }
    // Counted over the members that hold a release's link (a pager already left out).
    let n = members.len();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for m in members {
        for c in classes(m.element) {
            *counts.entry(c).or_default() += 1;
        }
    }
    let Some(common) = counts
        .iter()
        .filter(|(_, k)| **k * 4 >= n * 3 && **k < n)
        .max_by_key(|(c, k)| (**k, std::cmp::Reverse(**c)))
        .map(|(c, _)| *c)
    else {
        return members.to_vec();
    };
    members
        .iter()
        .filter(|m| {
            m.element
                .value()
                .has_class(common, scraper::CaseSensitivity::CaseSensitive)
        })
        .cloned()
        .collect()
}

/// A group's rank: first its tier (dated or rich releases over bare undated ones; chrome is
/// left out before), then a score within the tier: members with a title, more for those with
/// a date or a picture and teaser, for long titles, and inside the page's main content.
fn score(group: &Group<'_>, members: &[Member<'_>]) -> (u8, f64) {
    let n = members.len() as f64;
    let titled = members
        .iter()
        .filter(|m| text_of(m.title).chars().count() >= MIN_TITLE_CHARS)
        .count() as f64;
    let dated = members.iter().filter(|m| find_date(m).is_some()).count() as f64;
    // A card with a picture and a teaser is a release's: a main list's cards are rich where
    // a "most read" widget's lines are bare.
    let rich = members.iter().filter(|m| rich_card(m)).count() as f64;
    let place = place_of(group.members[0]);
    let mut score = titled * (1.0 + dated.max(rich) / n);
    // Chrome never gets here (`discover` leaves it out).
    if place == Place::Content {
        score *= 1.5;
    }
    // The page's structure: the list under the page's own `<h1>` is its subject; one in the
    // narrower of two grid columns (`col-4` beside `col-8`) is a side list, whatever its size.
    if under_page_heading(group.members[0]) {
        score *= 1.3;
    }
    if in_narrow_column(group.members[0]) {
        score *= 0.5;
    }
    // A release list's titles are long: menus and tag clouds are short.
    let mean = members
        .iter()
        .map(|m| text_of(m.title).chars().count())
        .sum::<usize>() as f64
        / n;
    // A date lifts a list above an undated one, but not above rich cards: those weigh alike.
    let tier = u8::from(dated.max(rich) * 2.0 >= n);
    (tier, score * (mean.min(60.0) / 30.0).max(0.2))
}

/// Whether `e` comes after the page's one `<h1>` (outside the chrome) inside the element that
/// holds that heading: the list the page is titled for.
fn under_page_heading(e: ElementRef<'_>) -> bool {
    static H1: LazyLock<Selector> = LazyLock::new(|| {
        #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
        Selector::parse("h1").unwrap()
    });
    let Some(root) = e.ancestors().filter_map(ElementRef::wrap).last() else {
        return false;
    };
    let mut h1s = root.select(&H1).filter(|h| place_of(*h) != Place::Chrome);
    let (Some(h1), None) = (h1s.next(), h1s.next()) else {
        return false;
    };
    let Some(holder) = h1.parent().and_then(ElementRef::wrap) else {
        return false;
    };
    if matches!(holder.value().name(), "body" | "html") {
        return false;
    }
    let inside = e.ancestors().any(|a| a.id() == holder.id());
    // After the heading in document order: the heading's next siblings hold `e`, or are it.
    inside
        && h1
            .next_siblings()
            .filter_map(ElementRef::wrap)
            .any(|s| s.id() == e.id() || e.ancestors().any(|a| a.id() == s.id()))
}

/// A grid column's width from its class (`col-4`, `col-md-8`, `col-lg-3`), the widest named.
fn column_width(e: ElementRef<'_>) -> Option<u32> {
    static COL: LazyLock<Regex> = LazyLock::new(|| {
        #[expect(clippy::unwrap_used, reason = "a constant, valid regex")]
        Regex::new(r"^col-(?:(?:xs|sm|md|lg|xl|xxl)-)?(\d{1,2})$").unwrap()
    });
    e.value()
        .classes()
        .filter_map(|c| COL.captures(c)?.get(1)?.as_str().parse().ok())
        .max()
}

/// Whether `e` sits in a grid column with a wider column beside it (`col-4` beside `col-8`).
fn in_narrow_column(e: ElementRef<'_>) -> bool {
    e.ancestors().filter_map(ElementRef::wrap).any(|a| {
        column_width(a).is_some_and(|w| {
            a.prev_siblings()
                .chain(a.next_siblings())
                .filter_map(ElementRef::wrap)
                .filter_map(column_width)
                .any(|other| other > w)
        })
    })
}

/// Whether a member shows a picture and a teaser (a text of 40 characters or more besides its
/// title and its date).
fn rich_card(m: &Member<'_>) -> bool {
    static IMG: LazyLock<Selector> = LazyLock::new(|| {
        #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
        Selector::parse("img, picture").unwrap()
    });
    if m.element.select(&IMG).next().is_none() {
        return false;
    }
    let title = text_of(m.title);
    m.element
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| matches!(e.value().name(), "p" | "div" | "span" | "dd"))
        .any(|e| {
            let t = text_of(e);
            t.chars().count() >= 40 && !t.contains(&title) && !title.contains(&t) && !date_in(&t)
        })
}

/// Where on the page a group sits.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Place {
    /// Navigation, a header or footer, a sidebar or widget ("most read", "popular", tags).
    Chrome,
    /// The page's main content (`<main>`, `<article>`, `role=main`, `.content`, `#news`).
    Content,
    Other,
}

/// The place of `e`: chrome when it or an ancestor is `nav`/`header`/`footer`/`aside` or has a
/// navigation role; else the nearest element whose class or id names a place decides
/// (`div.top-menu`, `div.sidebar`, `ul.popular` are chrome; `div.main`, `#content` content).
/// A chrome name on `body`, or on a wrapper holding the main region, is layout.
fn place_of(e: ElementRef<'_>) -> Place {
    let chain: Vec<ElementRef<'_>> = std::iter::once(e)
        .chain(e.ancestors().filter_map(ElementRef::wrap))
        .collect();
    let chrome_role = |x: &ElementRef<'_>| {
        x.value().attr("role").is_some_and(|r| {
            matches!(
                r.trim().to_ascii_lowercase().as_str(),
                "navigation" | "banner" | "contentinfo" | "complementary" | "menu" | "menubar"
            )
        })
    };
    if chain.iter().any(|x| {
        matches!(x.value().name(), "nav" | "header" | "footer" | "aside")
            || chrome_role(x)
            || headed_as_chrome(*x)
    }) {
        return Place::Chrome;
    }
    // Classes on `html`/`body` name the page's layout (WordPress's `right-sidebar`), not a
    // block beside the news; so do those of a wrapper holding the main region (`sidebar-right`
    // around the posts and the widgets), when no element is named as the content.
    let layout = |x: &ElementRef<'_>| {
        matches!(x.value().name(), "html" | "body") || holds_main_region(*x, &chain)
    };
    for x in &chain {
        let names = x
            .value()
            .classes()
            .chain(x.value().id())
            .map(str::to_ascii_lowercase);
        let mut content = false;
        for name in names {
            match named_place(&name) {
                Place::Chrome if layout(x) => {}
                Place::Chrome => return Place::Chrome,
                Place::Content => content = true,
                Place::Other => {}
            }
        }
        let main_role = x
            .value()
            .attr("role")
            .is_some_and(|r| r.trim().eq_ignore_ascii_case("main"));
        if content || main_role || matches!(x.value().name(), "main" | "article") {
            return Place::Content;
        }
    }
    Place::Other
}

/// Whether `wrapper` (an element of `chain`, the candidate and its ancestors) holds the page's
/// main region: the page names no element as content, the wrapper holds more than half of the
/// page's text, and it holds a chrome block besides the candidate (the sidebar it is named
/// for). A widget named `widget-latest` holds only its own list, so it stays chrome.
fn holds_main_region(wrapper: ElementRef<'_>, chain: &[ElementRef<'_>]) -> bool {
    let Some(body) = wrapper
        .ancestors()
        .filter_map(ElementRef::wrap)
        .find(|a| a.value().name() == "body")
    else {
        return false;
    };
    let named_content = |x: &ElementRef<'_>| {
        matches!(x.value().name(), "main" | "article")
            || x.value()
                .attr("role")
                .is_some_and(|r| r.trim().eq_ignore_ascii_case("main"))
            || x.value()
                .classes()
                .chain(x.value().id())
                .any(|n| named_place(&n.to_ascii_lowercase()) == Place::Content)
    };
    if body
        .descendants()
        .filter_map(ElementRef::wrap)
        .any(|x| named_content(&x))
    {
        return false;
    }
    if text_of(wrapper).chars().count() * 2 <= text_of(body).chars().count() {
        return false;
    }
    // Outside the candidate's own container: a card's `entry-footer` is no sidebar.
    let container = chain.get(1).map(|c| c.id());
    let beside = |x: &ElementRef<'_>| {
        !chain.iter().any(|c| c.id() == x.id()) && !x.ancestors().any(|a| Some(a.id()) == container)
    };
    wrapper
        .descendants()
        .filter_map(ElementRef::wrap)
        .skip(1)
        .any(|x| {
            beside(&x)
                && (matches!(x.value().name(), "nav" | "header" | "footer" | "aside")
                    || x.value()
                        .classes()
                        .chain(x.value().id())
                        .any(|n| named_place(&n.to_ascii_lowercase()) == Place::Chrome))
        })
}

/// Headings of the blocks beside the news: "Most read", "Popular", "Related", "See also",
/// "Самое читаемое", "Популярное", "Читайте также", "Көп оқылған". The whole heading must be
/// one of them, so a release titled "Popular science festival opens" is no such heading.
static CHROME_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid regex")]
    Regex::new(
        r"(?ix)^(?:
            (?:
            (?:the\s+)?(?:most|top)\s+(?:read|viewed|popular|commented|shared)(?:\s+\w+)?
            | popular(?:\s+\w+)? | trending(?:\s+\w+)? | recommended(?:\s+\w+)?
            | related(?:\s+\w+)? | see\s+also | read\s+also | you\s+may\s+also\s+like
            | editor'?s'?\s+(?:picks?|choice) | (?:our\s+)?picks\s+for\s+you
            | (?:самое|самые)\s+(?:читаемое|читаемые|популярное|популярные|обсуждаемое|обсуждаемые)
            | популярное | популярные(?:\s+\w+)? | читайте\s+также | смотрите\s+также
            | похожие(?:\s+\w+)? | по\s+теме | рекомендуем | выбор\s+редакции
            | (?:(?:апта|ай|жыл)(?:\s+бойы)?\s+)?(?:ең\s+)?көп\s+оқылған(?:\s+\w+)?
            | танымал(?:\s+\w+)?
            | сондай[-\s]ақ\s+оқыңыз | тақырыпқа\s+қатысты | редакция\s+таңдауы
            )
            # a time span after it: Popular this month, Most read this week, … за неделю
            (?:\s+(?:
                (?:this|last|past|of\s+the)\s+(?:day|week|month|year)
                | today | now | right\s+now | this\s+week
                | за\s+(?:сутки|день|неделю|месяц|год)
                | (?:апта|ай|жыл)\s+бойы
            ))?
        )$",
    )
    .unwrap()
});

/// Whether `e` is a block headed as chrome: its first child, or the element just before it,
/// is a heading (or a "title" element) whose whole text is such a heading.
fn headed_as_chrome(e: ElementRef<'_>) -> bool {
    let chrome = |h: ElementRef<'_>| {
        let v = h.value();
        let heading = is_heading(v.name())
            || v.classes()
                .any(|c| c.to_ascii_lowercase().contains("title") || c.contains("heading"));
        heading && {
            let text = text_of(h);
            let text = text.trim_matches(|c: char| !c.is_alphanumeric());
            text.chars().count() <= 40 && CHROME_HEADING.is_match(text)
        }
    };
    e.children()
        .filter_map(ElementRef::wrap)
        .next()
        .is_some_and(chrome)
        || e.prev_siblings()
            .filter_map(ElementRef::wrap)
            .next()
            .is_some_and(chrome)
}

/// What one class or id (lower case) says of the place: its words split at `-`, `_` and
/// digits; words after "with", "has" or "no" describe a neighbour (`content-with-sidebar`).
fn named_place(name: &str) -> Place {
    const CHROME: [&str; 11] = [
        "nav",
        "menu",
        "sidebar",
        "footer",
        "header",
        "widget",
        "popular",
        "breadcrumb",
        "trending",
        "related",
        "recommended",
    ];
    const MOST: [&str; 5] = [
        "mostread",
        "mostviewed",
        "mostpopular",
        "mostcommented",
        "topread",
    ];
    const CONTENT: [&str; 7] = [
        "main", "content", "news", "articles", "posts", "press", "releases",
    ];
    let squeezed: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
    if MOST.iter().any(|m| squeezed.contains(m)) {
        return Place::Chrome;
    }
    let mut content = false;
    for word in name
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
    {
        if matches!(word, "with" | "has" | "no") {
            break;
        }
        // `navbar`, `menu-item`, `sidebar-left`, `breadcrumbs`: the word starts so.
        if CHROME.iter().any(|c| word.starts_with(c)) {
            return Place::Chrome;
        }
        if CONTENT.contains(&word) {
            content = true;
        }
    }
    if content {
        Place::Content
    } else {
        Place::Other
    }
}

/// Whether the text holds a date herald reads, or a numeric one it could read with a format.
fn date_in(text: &str) -> bool {
    dates::has_numeric_date(text) || dates::parse_date(text, None).is_some()
}

/// Whether an element's text is a date as the poller reads one: [`date_in`], or a relative
/// date ("2 hours ago", "yesterday", "вчера, 18:00") when the text is short enough to be one
/// alone (a title saying "announced today" is none).
fn date_element_text(text: &str) -> bool {
    date_in(text) || relative_date(text)
}

/// A short text the poller reads as a relative date (`extract::relative`).
fn relative_date(text: &str) -> bool {
    text.chars().count() <= 30
        && crate::extract::relative::parse_relative(text, chrono::Utc::now(), chrono_tz::UTC)
            .is_some()
}

/// The element in `m` that carries its date, and the attribute it is read from: a `<time
/// datetime>` first; else a machine-readable date in an attribute of the member or an element
/// in it ([`date_attribute`]: `data-published`, `content` of `itemprop="datePublished"`) unless
/// the date shown disagrees with it; else the innermost element whose text outside the title
/// holds a date, the member itself when the date is in its own text ("TITLE — 3 March 2026").
/// The title (and a link whose text is the title) is never the date: "Elections will be held on
/// 15 March 2027" is a title that names a day.
fn find_date<'a>(m: &Member<'a>) -> Option<(ElementRef<'a>, Option<String>)> {
    let member = m.element;
    let link_is_title = text_of(m.link) == text_of(m.title);
    let in_title = |e: &ElementRef<'_>| {
        std::iter::once(e.id())
            .chain(e.ancestors().map(|a| a.id()))
            .take_while(|id| *id != member.id())
            .any(|id| id == m.title.id() || (link_is_title && id == m.link.id()))
    };
    static TIME: LazyLock<Selector> = LazyLock::new(|| {
        #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
        Selector::parse("time[datetime]").unwrap()
    });
    // A `<time>` that opens the title ("<a><time>3 March 2026</time> TITLE</a>") is the
    // release's date written before its title, not words of it; one further in the title
    // ("Elections on <time>15 March</time>") is the title's own.
    let title_text = text_of(m.title);
    let opens_title = |t: &ElementRef<'_>| {
        let text = text_of(*t);
        !text.is_empty() && text.len() < title_text.len() && title_text.starts_with(&text)
    };
    if let Some(t) = member.select(&TIME).find(|t| {
        (!in_title(t) || opens_title(t))
            && t.value()
                .attr("datetime")
                .is_some_and(|d| dates::parse_date(d, None).is_some())
    }) {
        return Some((t, Some("datetime".into())));
    }
    let shown = member
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| {
            e.value().name() != "a" || e.children().filter_map(ElementRef::wrap).count() == 0
        })
        .filter(|e| !in_title(e) && date_element_text(&date_text_of(m, *e)))
        .find(|e| {
            !e.children()
                .filter_map(ElementRef::wrap)
                .any(|c| !in_title(&c) && date_element_text(&date_text_of(m, c)))
        })
        .or_else(|| date_in(&own_text(member)).then_some(member));
    let attribute = member
        .descendants()
        .filter_map(ElementRef::wrap)
        .find_map(|e| {
            let (name, day) = date_attribute(e)?;
            Some((e, name, day))
        });
    if let Some((e, name, day)) = attribute {
        // Preferred over the date shown when they agree (a day apart, for the zones); a
        // shown date of another day is the release's, the attribute some other time.
        let agrees = shown.is_none_or(|s| {
            dates::parse_date(&date_text_of(m, s), None)
                .is_none_or(|d| (written_day(&d) - day).num_days().abs() <= 1)
        });
        if agrees {
            return Some((e, Some(name)));
        }
    }
    shown.map(|e| (e, None))
}

/// The text the list reader reads a date from in `e`: its text without the member's title
/// when that is inside it (`date = ":scope"` on "TITLE — 3 March 2026" reads "— 3 March
/// 2026"), as [`crate::extract::html`] reads it.
fn date_text_of(m: &Member<'_>, e: ElementRef<'_>) -> String {
    if m.title.id() != e.id() && m.title.ancestors().any(|a| a.id() == e.id()) {
        clean(&crate::extract::html::text_without(e, &[m.title]))
    } else {
        text_of(e)
    }
}

/// A machine-readable date in an attribute of `e` (its name and the day it says): `datetime`,
/// an attribute named for a publication date or time (`data-published`, `data-date`,
/// `data-time`, `data-pubdate`, `data-timestamp`, `data-unix`; not one of a change,
/// `data-modified`, `data-updated`), or the `content` of an element whose `itemprop` or
/// `property` names the publication (`<meta itemprop="datePublished">`,
/// `article:published_time`). Machine-readable: the year first,
/// `2026-03-03T10:00:00+05:00`, or Unix time (`1764931200`, in milliseconds `1764931200000`),
/// as the list reader reads an attribute.
fn date_attribute(e: ElementRef<'_>) -> Option<(String, NaiveDate)> {
    let v = e.value();
    let published = |name: &str| {
        let name = name.to_ascii_lowercase();
        ["date", "time", "publish", "unix", "epoch"]
            .iter()
            .any(|w| name.contains(w))
            && !["modif", "updat", "edit", "expir", "end"]
                .iter()
                .any(|w| name.contains(w))
    };
    let content = v
        .attr("itemprop")
        .or(v.attr("property"))
        .is_some_and(published);
    v.attrs().find_map(|(name, value)| {
        let named = name == "datetime"
            || (name.starts_with("data-") && published(name))
            || (name == "content" && content);
        let value = value.trim();
        let machine = value.len() >= 10
            && value.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && value.as_bytes()[4] == b'-';
        if !named {
            return None;
        }
        let date = if machine {
            dates::parse_date(value, None)?
        } else {
            dates::unix_time(value)?
        };
        Some((name.to_owned(), written_day(&date)))
    })
}

/// The text directly inside `e`, without its child elements'.
fn own_text(e: ElementRef<'_>) -> String {
    clean(
        &e.children()
            .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// A featured release above the list (a news site's hero card: `div.main-news` before
/// `div.news-grid > div.news-card`): the element just before the list's first member or just
/// before its container (through wrappers of one child), outside the chrome, holding a
/// release's link of the same shape as the members' (`/en/news/5510` beside `/en/news/5501`),
/// not one of theirs.
fn featured<'a>(
    group: &Group<'a>,
    members: &[Member<'a>],
    links: &LinkReading<'_>,
) -> Option<Member<'a>> {
    let first = group.members[0];
    let container = first.parent().and_then(ElementRef::wrap)?;
    let before = |e: ElementRef<'a>| e.prev_siblings().filter_map(ElementRef::wrap).next();
    let shape = link_shape;
    let wanted = shape(&members.first()?.href);
    if members.iter().any(|m| shape(&m.href) != wanted) {
        return None;
    }
    let hrefs: HashSet<&str> = members.iter().map(|m| m.href.as_str()).collect();
    [before(first), before(container)]
        .into_iter()
        .flatten()
        .find_map(|mut e| {
            // Through wrappers of one element (`section.main-news > div.main-news__hero`).
            loop {
                let mut children = e.children().filter_map(ElementRef::wrap);
                match (children.next(), children.next()) {
                    (Some(only), None) if only.value().name() != "a" => e = only,
                    _ => break,
                }
            }
            if is_heading(e.value().name()) || place_of(e) == Place::Chrome {
                return None;
            }
            // A featured release is one: an element linking to several releases is another
            // list (the main one, beside a side list), not a hero card.
            let releases: HashSet<String> = e
                .select(&A_HREF)
                .filter_map(|a| links.read(a.value().attr("href")?))
                .filter(|u| shape(u) == wanted)
                .map(String::from)
                .collect();
            if releases.len() > 1 {
                return None;
            }
            let m = member(e, links)?;
            (shape(&m.href) == wanted && !hrefs.contains(m.href.as_str())).then_some(m)
        })
}

/// A release link's shape: its host and its path's folders, digits as `0` (`/en/news/5510`
/// and `/en/news/5501` share one; `/promo/subscribe-1` has another).
fn link_shape(u: &Url) -> (Option<String>, Vec<String>) {
    let mut segments: Vec<String> = u
        .path_segments()
        .map(|s| {
            s.filter(|x| !x.is_empty())
                .map(|x| x.replace(|c: char| c.is_ascii_digit(), "0"))
                .collect()
        })
        .unwrap_or_default();
    segments.pop();
    (u.host_str().map(str::to_owned), segments)
}

/// Cards among the releases that are none (a promotion sharing the cards' class:
/// `div.card.card--promo` linking to `/promo/…` among `div.card`s linking to `/releases/N`):
/// members whose link has another shape than two thirds of the members' or more, which all
/// carry a class no other member has. The members kept, and that class (the item selector
/// leaves it out: `div.card:not(.card--promo)`).
fn odd_members<'a>(members: &[Member<'a>]) -> (Vec<Member<'a>>, Option<String>) {
    let unchanged = (members.to_vec(), None);
    let mut counts: HashMap<(Option<String>, Vec<String>), usize> = HashMap::new();
    for m in members {
        *counts.entry(link_shape(&m.href)).or_default() += 1;
    }
    let Some((common, n)) = counts.into_iter().max_by_key(|(_, n)| *n) else {
        return unchanged;
    };
    if n == members.len() || n * 3 < members.len() * 2 {
        return unchanged;
    }
    let (kept, odd): (Vec<Member<'a>>, Vec<Member<'a>>) = members
        .iter()
        .cloned()
        .partition(|m| link_shape(&m.href) == common);
    let class = classes(odd[0].element).into_iter().find(|c| {
        let has = |m: &Member<'_>| {
            m.element
                .value()
                .has_class(c, scraper::CaseSensitivity::CaseSensitive)
        };
        odd.iter().all(has) && !kept.iter().any(has)
    });
    match class {
        Some(c) => (kept, Some(c.to_owned())),
        None => unchanged,
    }
}

/// Reads the featured release too, by a selector list (`div.news-card, div.main-news`) for the
/// item and for each field the hero's own selector beside the list's, when every member
/// still picks what it did; else a note says the featured release is not read.
fn add_featured(doc: &Html, members: &[Member<'_>], hero: &Member<'_>, p: &mut ListProposal) {
    let note = |p: &mut ListProposal| {
        p.notes.push(format!(
            "a featured release above the list (\"{}\") is not read by these selectors: add its \
             element to `item` (a selector list, `a, b`) to read it",
            text_of(hero.title)
        ));
    };
    if p.link == "@href" {
        return note(p);
    }
    let hero_item = anchors_of(hero.element).into_iter().find(|css| {
        sel(css).is_some_and(|s| {
            let got: Vec<ElementRef<'_>> = doc.select(&s).collect();
            got.len() == 1 && got[0].id() == hero.element.id()
        })
    });
    let Some(hero_item) = hero_item else {
        return note(p);
    };
    // One field: `css@attr` as is when it picks `target` in the hero, else `css, hero_css@attr`.
    let extend = |field: &str, target: ElementRef<'_>| -> Option<String> {
        let (css, attr) = match field.rsplit_once('@') {
            Some((c, a)) => (c, Some(a)),
            None => (field, None),
        };
        let s = sel(css)?;
        let with_attr = |c: String| match attr {
            Some(a) => format!("{c}@{a}"),
            None => c,
        };
        // The field's selector as is, when in the hero it picks the target, or (a text field)
        // an element reading the same text: the link around a card's heading.
        if hero.element.select(&s).next().is_some_and(|f| {
            f.id() == target.id() || (attr.is_none() && text_of(f) == text_of(target))
        }) {
            return Some(field.to_owned());
        }
        // Anchored at the hero, so it picks nothing in the members (`div.main-news a`).
        let own = relative_selector(&[(hero.element, target)])?;
        let union = format!("{css}, {hero_item} {own}");
        let u = sel(&union)?;
        let same = members.iter().all(|m| {
            m.element.select(&u).next().map(|e| e.id())
                == m.element.select(&s).next().map(|e| e.id())
        });
        let picks = hero
            .element
            .select(&u)
            .next()
            .is_some_and(|f| f.id() == target.id());
        (same && picks).then(|| with_attr(union))
    };
    let title = extend(&p.title, hero.title);
    let link = extend(&p.link, hero.link);
    let date = match &p.date {
        None => Some(None),
        // A date of the item itself (`:scope`, `@data-published`) is the hero's own too.
        Some(d) if d == SCOPE || d.starts_with('@') => find_date(hero)
            .filter(|(e, _)| e.id() == hero.element.id())
            .map(|_| Some(d.clone())),
        Some(d) => find_date(hero).and_then(|(e, _)| extend(d, e)).map(Some),
    };
    let (Some(title), Some(link), Some(date)) = (title, link, date) else {
        return note(p);
    };
    p.item = format!("{}, {hero_item}", p.item);
    p.title = title;
    p.link = link;
    p.date = date;
    p.links.insert(0, hero.href.clone());
}

/// Builds the proposal for the chosen group: every selector verified against every member.
fn propose(
    doc: &Html,
    group: &Group<'_>,
    members: &[Member<'_>],
    hints: &Hints,
    left_out: Option<&str>,
) -> Option<ListProposal> {
    let item = item_selector(doc, group, members)?;
    // Cards of the item's kind that are no releases (a promotion) are left out by their class,
    // when the item selector is one selector (no list `a, b`).
    let item = match left_out {
        Some(c) if !item.contains(',') => {
            let css = format!("{item}:not(.{c})");
            let wanted: HashSet<_> = members.iter().map(|m| m.element.id()).collect();
            let got: Vec<ElementRef<'_>> = doc.select(&sel(&css)?).collect();
            let exact = wanted.iter().all(|id| got.iter().any(|e| e.id() == *id))
                && got
                    .iter()
                    .all(|e| wanted.contains(&e.id()) || !has_link(*e));
            if !exact {
                return None;
            }
            css
        }
        _ => item,
    };
    let elements: Vec<ElementRef<'_>> = members.iter().map(|m| m.element).collect();
    let links: Vec<_> = members.iter().map(|m| (m.element, m.link)).collect();
    let titles: Vec<_> = members.iter().map(|m| (m.element, m.title)).collect();
    let (link, title) = if members.iter().all(|m| m.link.id() == m.element.id()) {
        // The item is the link (`a.news-item`): its own `href`.
        ("@href".to_owned(), title_selector(&titles)?)
    } else {
        let link_sel = relative_selector(&links)
            .or_else(|| same_href_selector(members))
            .or_else(|| positional_selector(&links))?;
        let same = members.iter().all(|m| m.title.id() == m.link.id());
        let title = match relative_selector(&links) {
            Some(l) if same => l,
            _ => title_selector(&titles)?,
        };
        (format!("{link_sel}@href"), title)
    };
    let mut proposal = ListProposal {
        item,
        title,
        link,
        links: members.iter().map(|m| m.href.clone()).collect(),
        ..ListProposal::default()
    };
    date_selector(members, hints, &mut proposal);
    proposal.summary = summary_selector(members, &proposal);
    proposal.image = image_selector(&elements);
    id_pattern(&mut proposal);
    Some(proposal)
}

/// The item selector: the shortest that selects exactly the members (elements it selects
/// beyond them must hold no link, such as a table's header row).
fn item_selector(doc: &Html, group: &Group<'_>, members: &[Member<'_>]) -> Option<String> {
    let first = group.members[0];
    let tag = first.value().name();
    let wanted: HashSet<_> = group.members.iter().map(|m| m.id()).collect();
    let releases: HashSet<_> = members.iter().map(|m| m.element.id()).collect();
    let mut shared: Vec<&str> = classes(first)
        .into_iter()
        .filter(|c| {
            group.members.iter().all(|m| {
                m.value()
                    .has_class(c, scraper::CaseSensitivity::CaseSensitive)
            })
        })
        .collect();
    if let Some(c) = &group.class {
        shared.retain(|s| *s == c.as_str());
        if shared.is_empty() {
            shared.push(c.as_str());
        }
    }
    shared.sort_by_key(|c| (!looks_like_item(c), c.len()));
    let mut tries: Vec<String> = Vec::new();
    for c in &shared {
        tries.push(format!("{tag}.{c}"));
    }
    let parent = first.parent().and_then(ElementRef::wrap)?;
    let anchors = anchors_of(parent);
    let suffix = match shared.first() {
        Some(c) => format!("{tag}.{c}"),
        None => tag.to_owned(),
    };
    for a in &anchors {
        tries.push(format!("{a} > {suffix}"));
        tries.push(format!("{a} {suffix}"));
    }
    if let Some(grand) = parent.parent().and_then(ElementRef::wrap) {
        for g in anchors_of(grand) {
            tries.push(format!("{g} > {} > {suffix}", parent.value().name()));
        }
    }
    tries.extend(structural_path(parent, &suffix));
    tries.push(tag.to_owned());
    tries.into_iter().find(|css| {
        let Some(s) = sel(css) else { return false };
        let got: Vec<ElementRef<'_>> = doc.select(&s).collect();
        let got_ids: HashSet<_> = got.iter().map(|e| e.id()).collect();
        releases.iter().all(|id| got_ids.contains(id))
            && got
                .iter()
                .filter(|e| !wanted.contains(&e.id()))
                .all(|e| !has_link(*e))
    })
}

/// Where no class names the list (CSS-in-JS pages: `div.css-1q2w3e4` all the way up), a
/// path of child steps from the nearest ancestor with a stable name (`div#__next`, `main`):
/// `div#__next > div > div:nth-of-type(2) > div`. A step has a position only where siblings of
/// its tag stand beside it.
fn structural_path(parent: ElementRef<'_>, suffix: &str) -> Option<String> {
    let mut steps: Vec<String> = Vec::new();
    let mut e = parent;
    for _ in 0..8 {
        if let Some(anchor) = anchors_of(e).into_iter().next() {
            steps.reverse();
            let path: String = steps.iter().map(|s| format!(" > {s}")).collect();
            return Some(format!("{anchor}{path} > {suffix}"));
        }
        let tag = e.value().name();
        let same = |x: &ElementRef<'_>| x.value().name() == tag;
        let before = e
            .prev_siblings()
            .filter_map(ElementRef::wrap)
            .filter(same)
            .count();
        let after = e
            .next_siblings()
            .filter_map(ElementRef::wrap)
            .filter(same)
            .count();
        steps.push(if before + after == 0 {
            tag.to_owned()
        } else {
            format!("{tag}:nth-of-type({})", before + 1)
        });
        e = e.parent().and_then(ElementRef::wrap)?;
        if matches!(e.value().name(), "html") {
            return None;
        }
    }
    None
}

fn has_link(e: ElementRef<'_>) -> bool {
    e.value().name() == "a" && e.value().attr("href").is_some()
        || e.select(&A_HREF).next().is_some()
}

static TIME_ANY: LazyLock<Selector> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
    Selector::parse("time").unwrap()
});

static A_HREF: LazyLock<Selector> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
    Selector::parse("a[href]").unwrap()
});

fn looks_like_item(class: &str) -> bool {
    let c = class.to_ascii_lowercase();
    [
        "item", "card", "news", "post", "entry", "release", "story", "article", "row",
    ]
    .iter()
    .any(|w| c.contains(w))
}

/// How an admin would name this element alone: `tag.class` for its stable classes, `#id`.
pub(super) fn anchors_of(e: ElementRef<'_>) -> Vec<String> {
    let tag = e.value().name();
    let mut out: Vec<String> = classes(e)
        .into_iter()
        .map(|c| format!("{tag}.{c}"))
        .collect();
    if let Some(id) = e.value().id().filter(|id| stable_class(id)) {
        out.push(format!("{tag}#{id}"));
    }
    if matches!(
        tag,
        "main" | "article" | "section" | "table" | "tbody" | "ul" | "ol" | "dl"
    ) {
        out.push(tag.to_owned());
    }
    out
}

/// A selector, relative to each item, whose first match is the given target in every pair.
fn relative_selector(pairs: &[(ElementRef<'_>, ElementRef<'_>)]) -> Option<String> {
    let (item, target) = *pairs.first()?;
    let mut tries: Vec<String> = Vec::new();
    let tag = target.value().name();
    let target_classes = classes(target);
    // `h3 a`: a link in a heading, as admins write it.
    let parent = target.parent().and_then(ElementRef::wrap);
    if let Some(p) = parent.filter(|p| p.id() != item.id()) {
        let ptag = p.value().name();
        if is_heading(ptag) {
            tries.push(format!("{ptag} {tag}"));
        }
    }
    for c in &target_classes {
        tries.push(format!("{tag}.{c}"));
    }
    tries.push(tag.to_owned());
    // `meta[itemprop='datePublished']` among other `meta`s of a card.
    if let Some(prop) = target
        .value()
        .attr("itemprop")
        .filter(|p| TOKEN.is_match(p))
    {
        tries.push(format!("{tag}[itemprop='{prop}']"));
    }
    for c in &target_classes {
        tries.push(format!(".{c}"));
    }
    for a in target.ancestors().filter_map(ElementRef::wrap) {
        if a.id() == item.id() {
            break;
        }
        for anchor in anchors_of(a) {
            tries.push(format!("{anchor} {tag}"));
        }
        if is_heading(a.value().name()) {
            tries.push(format!("{} {tag}", a.value().name()));
        }
    }
    tries.into_iter().find(|css| {
        sel(css).is_some_and(|s| {
            pairs.iter().all(|(item, target)| {
                item.select(&s)
                    .next()
                    .is_some_and(|f| f.id() == target.id())
            })
        })
    })
}

/// A selector by position, for a target that no class or tag names alone (the second `<a>`
/// after a picture's link, the fourth `<td>`, the second `<span>`): `tag:nth-of-type(k)`,
/// anchored at the target's parent when that is not the item. Tried last: positions break
/// when a site adds a column, so a name is always preferred.
fn positional_selector(pairs: &[(ElementRef<'_>, ElementRef<'_>)]) -> Option<String> {
    let (item, target) = *pairs.first()?;
    let tag = target.value().name();
    let k = target
        .prev_siblings()
        .filter_map(ElementRef::wrap)
        .filter(|e| e.value().name() == tag)
        .count()
        + 1;
    let mut tries = vec![format!("{tag}:nth-of-type({k})")];
    if let Some(p) = target.parent().and_then(ElementRef::wrap)
        && p.id() != item.id()
    {
        let ptag = p.value().name();
        for anchor in anchors_of(p) {
            tries.push(format!("{anchor} > {tag}:nth-of-type({k})"));
        }
        tries.push(format!("{ptag} > {tag}:nth-of-type({k})"));
    }
    tries.into_iter().find(|css| {
        sel(css).is_some_and(|s| {
            pairs.iter().all(|(item, target)| {
                item.select(&s)
                    .next()
                    .is_some_and(|f| f.id() == target.id())
            })
        })
    })
}

/// A link selector whose first match, in every member, points where the member's link does
/// (Bitrix's news.list links the picture and then the title to one page: `a` reads it).
fn same_href_selector(members: &[Member<'_>]) -> Option<String> {
    let first = members.first()?.link;
    let mut tries: Vec<String> = classes(first)
        .into_iter()
        .map(|c| format!("a.{c}"))
        .collect();
    tries.push("a".into());
    tries.into_iter().find(|css| {
        sel(css).is_some_and(|s| {
            members.iter().all(|m| {
                m.element.select(&s).next().is_some_and(|a| {
                    a.value().attr("href").map(str::trim)
                        == m.link.value().attr("href").map(str::trim)
                })
            })
        })
    })
}

/// The title selector: for the title element itself, else for the element inside it that holds
/// all its text (`<a><b>TITLE</b></a>` after a picture's link: `b`).
fn title_selector(titles: &[(ElementRef<'_>, ElementRef<'_>)]) -> Option<String> {
    relative_selector(titles)
        .or_else(|| {
            let inner: Vec<(ElementRef<'_>, ElementRef<'_>)> = titles
                .iter()
                .map(|(item, title)| {
                    let text = text_of(*title);
                    title
                        .descendants()
                        .filter_map(ElementRef::wrap)
                        .skip(1)
                        .find(|e| text_of(*e) == text)
                        .map(|e| (*item, e))
                })
                .collect::<Option<Vec<_>>>()?;
            relative_selector(&inner)
        })
        .or_else(|| positional_selector(titles))
}

fn is_heading(tag: &str) -> bool {
    matches!(tag, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// The dates the selector is chosen by: all of them when one selector names each, else those
/// the selector of most of them names, when that is half the items or more (one release
/// with its date somewhere else does not cost the list its date selector).
fn majority<'a>(
    chosen: Vec<(ElementRef<'a>, ElementRef<'a>)>,
    items: usize,
) -> Vec<(ElementRef<'a>, ElementRef<'a>)> {
    if chosen.iter().all(|(i, d)| i.id() == d.id()) || relative_selector(&chosen).is_some() {
        return chosen;
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for pair in &chosen {
        if let Some(css) = relative_selector(std::slice::from_ref(pair)) {
            match counts.iter_mut().find(|(c, _)| *c == css) {
                Some((_, n)) => *n += 1,
                None => counts.push((css, 1)),
            }
        }
    }
    // The most common; on a tie the first seen.
    let Some((css, _)) = counts
        .iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .and_then(|(css, n)| Some((sel(css)?, n)))
    else {
        return chosen;
    };
    let kept: Vec<(ElementRef<'a>, ElementRef<'a>)> = chosen
        .iter()
        .filter(|(i, d)| i.select(&css).next().is_some_and(|f| f.id() == d.id()))
        .copied()
        .collect();
    if kept.len() * 2 >= items {
        kept
    } else {
        chosen
    }
}

/// The date selector (and `date_format` for numeric dates), or a note why there is none.
fn date_selector(members: &[Member<'_>], hints: &Hints, p: &mut ListProposal) {
    let items: Vec<ElementRef<'_>> = members.iter().map(|m| m.element).collect();
    let items = items.as_slice();
    let found: Vec<(&Member<'_>, ElementRef<'_>, Option<String>)> = members
        .iter()
        .filter_map(|m| find_date(m).map(|(d, attr)| (m, d, attr)))
        .collect();
    let (css, texts) = if found.len() * 2 < items.len() {
        match date_beside(items) {
            Some((css, texts, follow)) => {
                p.notes.push(format!(
                    "the releases hold no date: each one's is read from the nearest `{css}` {}",
                    if follow {
                        "after it (the page writes each date after its title)"
                    } else {
                        "before it"
                    }
                ));
                (css, texts)
            }
            None => {
                if let Some((css, texts)) = date_like(items) {
                    let example = texts.first().map_or("", String::as_str);
                    p.date = Some(css);
                    if texts.iter().all(|t| t.len() == 10 && UNIX_TIME.is_match(t)) {
                        p.date_format = Some("%s".into());
                        p.notes.push(format!(
                            "the releases' dates are Unix timestamps (e.g. \"{example}\"): read \
                             with `date_format = \"%s\"`"
                        ));
                        return;
                    }
                    let what = if UNIX_TIME.is_match(example) {
                        "look like Unix timestamps, which herald cannot read"
                    } else {
                        "are in an element made for dates, but herald cannot read them"
                    };
                    p.notes.push(format!(
                        "the releases' dates (e.g. \"{example}\") {what}: set \
                         `date_format` to the way they are written, or `date` to another element \
                         ({UNTIL_FIRST_SEEN})"
                    ));
                    return;
                }
                p.notes.push(format!(
                    "no date found in most items ({} of {}): {FIRST_SEEN}",
                    found.len(),
                    items.len()
                ));
                return;
            }
        }
    } else {
        // Read from an attribute when half the dates or more are: the one most of them are in
        // (on a tie the first seen).
        let mut names: Vec<(&str, usize)> = Vec::new();
        for name in found.iter().filter_map(|f| f.2.as_deref()) {
            match names.iter_mut().find(|(n, _)| *n == name) {
                Some((_, count)) => *count += 1,
                None => names.push((name, 1)),
            }
        }
        let attr = names
            .iter()
            .rev()
            .max_by_key(|(_, count)| *count)
            .filter(|(_, count)| count * 2 >= found.len())
            .map(|(name, _)| (*name).to_owned());
        let chosen: Vec<(ElementRef<'_>, ElementRef<'_>)> = found
            .iter()
            .filter(|f| f.2 == attr)
            .map(|f| (f.0.element, f.1))
            .collect();
        let chosen = majority(chosen, items.len());
        // A date that is not the first of its tag (the fourth `<td>`, a second `<span>`) and
        // has no class of its own is named by its position; one in the item's own text, or in
        // an attribute of the item itself, is the item's (`:scope`, `@data-published`).
        let css = if chosen.iter().all(|(i, d)| i.id() == d.id()) {
            Some(if attr.is_some() {
                String::new()
            } else {
                SCOPE.to_owned()
            })
        } else {
            relative_selector(&chosen).or_else(|| positional_selector(&chosen))
        };
        let Some(css) = css else {
            p.notes
                .push("the dates are not in an element of their own: no date selector".into());
            return;
        };
        if let Some(attr) = attr {
            p.date = Some(format!("{css}@{attr}"));
            return;
        }
        let texts = found
            .iter()
            .filter(|f| chosen.iter().any(|(_, d)| d.id() == f.1.id()))
            .map(|f| date_text_of(f.0, f.1))
            .collect();
        (css, texts)
    };
    p.date = Some(css);
    let month_first =
        dates::month_first_region(hints.language.as_deref().unwrap_or(""), hints.timezone);
    let order = dates::numeric_order(texts.iter().map(String::as_str), month_first);
    p.date_format = order.as_ref().and_then(|o| o.format.clone());
    if let Some(o) = &order {
        // The order is a guess without a number over 12: the admin is told which one and why.
        p.notes.push(format!(
            "numeric dates are read {} first, decided by {}",
            if o.month_first { "month" } else { "day" },
            o.why
        ));
    }
    // Judged as the poller reads them: a relative date ("2 hours ago") is read.
    let unread =
        |t: &str| dates::parse_date(t, p.date_format.as_deref()).is_none() && !relative_date(t);
    let unreadable = texts.iter().filter(|t| unread(t)).count();
    if unreadable > 0 {
        p.notes.push(format!(
            "{unreadable} of {} dates cannot be read (e.g. \"{}\"): set `date_format`",
            texts.len(),
            texts.iter().find(|t| unread(t)).map_or("", String::as_str)
        ));
    }
}

/// A Unix timestamp: seconds (10 digits) or milliseconds (13) since 1970.
static UNIX_TIME: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid regex")]
    Regex::new(r"^(?:\d{10}|\d{13})$").unwrap()
});

/// An element in most items that holds a date herald cannot read: a `<time>`, an element whose
/// class, id or `itemprop` names a date (`span.date`, `div.post-time`, `published`), or a Unix
/// timestamp. Its selector and texts, so that the admin is pointed at `date_format`.
fn date_like(items: &[ElementRef<'_>]) -> Option<(String, Vec<String>)> {
    let names_a_date = |e: ElementRef<'_>| {
        let v = e.value();
        v.name() == "time"
            || v.classes()
                .chain(v.id())
                .chain(v.attr("itemprop"))
                .any(|name| {
                    name.to_ascii_lowercase()
                        .split(|c: char| !c.is_ascii_alphabetic())
                        .any(|w| {
                            matches!(
                                w,
                                "date"
                                    | "time"
                                    | "datetime"
                                    | "pubdate"
                                    | "published"
                                    | "posted"
                                    | "datepublished"
                            )
                        })
                })
    };
    let pairs: Vec<(ElementRef<'_>, ElementRef<'_>)> = items
        .iter()
        .filter_map(|item| {
            item.descendants()
                .filter_map(ElementRef::wrap)
                .skip(1)
                .find(|e| {
                    let t = text_of(*e);
                    !t.is_empty()
                        && t.chars().count() <= 40
                        && !has_link(*e)
                        && (names_a_date(*e) || UNIX_TIME.is_match(&t))
                })
                .map(|e| (*item, e))
        })
        .collect();
    if pairs.len() * 2 < items.len() {
        return None;
    }
    let css = relative_selector(&pairs).or_else(|| positional_selector(&pairs))?;
    Some((css, pairs.iter().map(|(_, e)| text_of(*e)).collect()))
}

/// Dates written beside the releases rather than inside them (a `<dt>` before each `<dd>`, a
/// date heading before each day's releases, or a `<dd>` after each `<dt>` title): the selector
/// of those elements, which the list reader follows from an item without a date of its own to
/// the nearest match before it ([`ItemPlaces::before`]), or after it when the page's dates
/// follow their titles ([`ItemPlaces::dates_follow`]: read by the same rule here), and the date
/// texts it reads so, and whether they follow. Kept only when that selector reads exactly the
/// dates found, for at least half of the items.
fn date_beside<'a>(items: &[ElementRef<'a>]) -> Option<(String, Vec<String>, bool)> {
    let places = ItemPlaces::new(items);
    let is_date = |e: ElementRef<'a>| {
        let t = text_of(e);
        t.chars().count() <= 60 && date_element_text(&t) && !has_link(e)
    };
    let follow = places.dates_follow(items, is_date);
    let nearest = |item: ElementRef<'a>, s: &dyn Fn(ElementRef<'a>) -> bool| {
        if follow {
            places.after(item, s)
        } else {
            places.before(item, s)
        }
    };
    let found: Vec<(ElementRef<'a>, ElementRef<'a>)> = items
        .iter()
        .filter_map(|i| nearest(*i, &is_date).map(|d| (*i, d)))
        .collect();
    if found.len() * 2 < items.len() {
        return None;
    }
    let first = found[0].1;
    let tag = first.value().name();
    let mut tries: Vec<String> = classes(first)
        .into_iter()
        .map(|c| format!("{tag}.{c}"))
        .collect();
    tries.push(tag.to_owned());
    let css = tries.into_iter().find(|css| {
        sel(css).is_some_and(|s| {
            let matches = |e: ElementRef<'a>| s.matches(&e);
            // The reader decides the side by this selector: it must decide as found here.
            places.dates_follow(items, matches) == follow
                && found.iter().all(|(item, date)| {
                    nearest(*item, &matches).is_some_and(|d| d.id() == date.id())
                })
        })
    })?;
    Some((
        css,
        found.iter().map(|(_, d)| text_of(*d)).collect(),
        follow,
    ))
}

/// A paragraph of text beside the title (40+ characters) in most items.
fn summary_selector(members: &[Member<'_>], p: &ListProposal) -> Option<String> {
    let pairs: Vec<(ElementRef<'_>, ElementRef<'_>)> = members
        .iter()
        .filter_map(|m| {
            let title = text_of(m.title);
            let e = m
                .element
                .descendants()
                .filter_map(ElementRef::wrap)
                .filter(|e| matches!(e.value().name(), "p" | "div" | "span" | "dd"))
                .find(|e| {
                    let t = text_of(*e);
                    t.chars().count() >= 40
                        && !t.contains(&title)
                        && !title.contains(&t)
                        && e.select(&TIME_ANY).next().is_none()
                        && !e.select(&A_HREF).any(|a| a.id() == m.link.id())
                        && !date_in(&t)
                })?;
            Some((m.element, e))
        })
        .collect();
    if pairs.len() * 5 < members.len() * 3 {
        return None;
    }
    relative_selector(&pairs).filter(|s| Some(s) != p.date.as_ref())
}

/// The first picture of the items: `img@src`, or the lazy-loading attribute when `src` holds
/// a placeholder file.
fn image_selector(items: &[ElementRef<'_>]) -> Option<String> {
    static IMG: LazyLock<Selector> = LazyLock::new(|| {
        #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
        Selector::parse("img").unwrap()
    });
    let pairs: Vec<(ElementRef<'_>, ElementRef<'_>)> = items
        .iter()
        .filter_map(|i| i.select(&IMG).next().map(|img| (*i, img)))
        .collect();
    if pairs.len() * 2 < items.len() {
        return None;
    }
    let css = relative_selector(&pairs)?;
    let img = pairs[0].1.value();
    let src = img.attr("src").unwrap_or("").trim();
    let placeholder = src.is_empty() || src.starts_with("data:");
    let lazy = ["data-src", "data-lazy-src", "data-original"]
        .into_iter()
        .find(|a| img.attr(a).is_some_and(|v| !v.trim().is_empty()));
    Some(match lazy {
        Some(attr) if !placeholder => format!("{css}@{attr}"),
        _ => format!("{css}@src"),
    })
}

/// `id_pattern` when the links carry a numeric id (3+ digits) that is unique per release;
/// `require_id` when a few links (a fifth at most) carry none: those cards are not releases.
/// A release shown twice (a pinned card and its place in the list) is one release, as the
/// list reader counts it (by its link's key): its id is not counted twice.
fn id_pattern(p: &mut ListProposal) {
    const PATTERNS: [&str; 6] = [
        r"-(\d+)$",
        r"/(\d+)/?$",
        r"[?&]id=(\d+)",
        // Bitrix's detail pages: `detail.php?ID=41230`.
        r"[?&]ID=(\d+)",
        r"(\d+)\.html?$",
        r"/(\d+)-[^/]*$",
    ];
    let mut seen = HashSet::new();
    let releases: Vec<&Url> = p
        .links
        .iter()
        .filter(|l| seen.insert(crate::model::link_key(l)))
        .collect();
    let n = releases.len();
    for pattern in PATTERNS {
        let Ok(re) = Regex::new(pattern) else {
            continue;
        };
        let ids: Vec<&str> = releases
            .iter()
            .filter_map(|l| re.captures(l.as_str()).and_then(|c| c.get(1)))
            .map(|m| m.as_str())
            .filter(|id| id.len() >= 3)
            .collect();
        let unique: HashSet<&&str> = ids.iter().collect();
        if ids.len() >= MIN_ITEMS && unique.len() == ids.len() && ids.len() * 5 >= n * 4 {
            p.id_pattern = Some(pattern.to_owned());
            if ids.len() < n {
                p.require_id = true;
                p.notes.push(format!(
                    "{} of {n} items have no id in their link and are left out (`require_id`)",
                    n - ids.len()
                ));
            }
            return;
        }
    }
}

/// The date of a release as its page writes it (the day, whatever the zone), for previews; a
/// time with a zone gives its day in UTC ([`written_day_in`] gives it in the source's zone).
pub fn written_day(date: &dates::ParsedDate) -> NaiveDate {
    written_day_in(date, chrono_tz::UTC)
}

/// [`written_day`], a time with a zone ("2026-03-26T00:40:00+05:00") read in `tz`, the source's
/// zone: a page writes the day of its own zone (the 26th here, which is the 25th in UTC).
pub fn written_day_in(date: &dates::ParsedDate, tz: Tz) -> NaiveDate {
    match date {
        dates::ParsedDate::Day(d) => *d,
        dates::ParsedDate::Local(t) => t.date(),
        dates::ParsedDate::Absolute(t) => t.with_timezone(&tz).date_naive(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::plain("card", true)]
    #[case::bem("news-item__title", true)]
    #[case::camel("newsItem", true)]
    #[case::emotion("css-1x2y3z", false)]
    #[case::styled("sc-1q2w3e", false)]
    #[case::module("NewsCard_link__9fZ2k", false)]
    #[case::random("kQzTfg", false)]
    #[case::random_digits("x8Tq2", false)]
    #[case::module_suffix("date_m3n4b", false)]
    #[case::module_wrapped("_card_x7f3a_4", false)]
    #[case::module_wrapped_date("_date_m3n4b_9", false)]
    #[case::snake("news_item_2", true)]
    #[case::snake_words("news_list_block", true)]
    #[case::bootstrap("col-md-4", true)]
    #[case::button("btn-primary", true)]
    fn stable_classes(#[case] class: &str, #[case] stable: bool) {
        assert_eq!(stable_class(class), stable, "{class}");
    }

    #[rstest]
    #[case::next("Next page »", true)]
    #[case::numbers("1 2 3 Next »", true)]
    #[case::ru("Следующая страница »", true)]
    #[case::all_news("Show all news from the archive", true)]
    #[case::kk("Барлық жаңалықтар", true)]
    #[case::more("Ещё", true)]
    #[case::all_press("All press releases →", true)]
    #[case::older("Older posts", true)]
    #[case::short_release("Next generation summit", false)]
    #[case::release("Next generation satellites launched today", false)]
    #[case::archive_release("National archive opens a new reading hall", false)]
    #[case::all_release("All regions report a record harvest", false)]
    fn navigation_texts(#[case] text: &str, #[case] navigation: bool) {
        assert_eq!(navigation_text(text), navigation, "{text}");
    }

    fn page(cards: &str) -> ListProposal {
        let html = format!("<html lang='en'><body><div class='list'>{cards}</div></body></html>");
        let url = Url::parse("https://x.test/news/").unwrap();
        discover(&html, &url, &Hints::default()).unwrap()
    }

    /// Links to routes of the list page are the releases the reader reads: kept whole, each
    /// one (a link to the list page without a route names none).
    #[test]
    fn route_links_are_read_as_the_list_reader_reads_them() {
        let cards: String = (0..4)
            .map(|i| {
                format!(
                    "<div class='card'><a href='#/news/{i}'>A release routed by the app {i}</a></div>"
                )
            })
            .collect();
        let p = page(&cards);
        assert_eq!(p.item, "div.card");
        let links: Vec<&str> = p.links.iter().map(Url::as_str).collect();
        assert_eq!(
            links,
            (0..4)
                .map(|i| format!("https://x.test/news/#/news/{i}"))
                .collect::<Vec<_>>()
        );
    }

    /// The same release twice (pinned above the list) counts once for `id_pattern`.
    #[test]
    fn a_release_listed_twice_keeps_its_id_pattern() {
        let mut p = ListProposal {
            links: [
                "https://x.test/n/a-1003",
                "https://x.test/n/a-1000",
                "https://x.test/n/a-1001",
                "https://x.test/n/a-1002",
                "https://x.test/n/a-1003",
            ]
            .iter()
            .map(|l| Url::parse(l).unwrap())
            .collect(),
            ..ListProposal::default()
        };
        id_pattern(&mut p);
        assert_eq!(p.id_pattern.as_deref(), Some(r"-(\d+)$"));
        assert!(!p.require_id);
    }

    fn dated(dates: &[&str]) -> ListProposal {
        let cards: String = dates
            .iter()
            .enumerate()
            .map(|(i, d)| {
                format!(
                    "<div class='news-item'><h3><a href='/n/{i}'>Some release title for a date \
                     test {i}</a></h3><span class='date'>{d}</span></div>"
                )
            })
            .collect();
        page(&cards)
    }

    #[test]
    fn a_date_herald_cannot_read_gets_its_selector_and_a_note_on_date_format() {
        // Kazakh in the Arabic script (abai.kz): month names herald does not read.
        let p = dated(&["30 قاڭتار 2026", "29 قاڭتار 2026", "28 قاڭتار 2026"]);
        assert_eq!(p.date.as_deref(), Some("span.date"), "{p:?}");
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("30 قاڭتار 2026") && n.contains("`date_format`")),
            "{p:?}"
        );
    }

    #[test]
    fn a_numeric_date_format_keeps_the_time_and_the_order_is_stated() {
        let p = dated(&[
            "03/13/2026 2:30 PM",
            "03/12/2026 11:00 AM",
            "02/27/2026 4:45 PM",
        ]);
        assert_eq!(p.date_format.as_deref(), Some("%m/%d/%Y %I:%M %p"), "{p:?}");
        assert!(
            p.notes.iter().any(|n| n.contains("read month first")),
            "{p:?}"
        );
        // No evidence, no format written: the order chosen is still said.
        let p = dated(&["05.03.2026", "04.03.2026", "03.03.2026"]);
        assert_eq!(p.date_format, None);
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("read day first") && n.contains("default")),
            "{p:?}"
        );
    }

    #[test]
    fn unix_timestamps_are_read_with_date_format_s() {
        let p = dated(&["1772668800", "1772582400", "1772496000"]);
        assert_eq!(p.date.as_deref(), Some("span.date"), "{p:?}");
        assert_eq!(p.date_format.as_deref(), Some("%s"));
        assert!(
            p.notes.iter().any(|n| n.contains("Unix timestamps")),
            "{p:?}"
        );
    }

    #[test]
    fn a_summary_never_holds_part_of_the_title() {
        // The lead repeats the start of the title: it is no summary (nor is the title one).
        let cards: String = (0..4)
            .map(|i| {
                format!(
                    "<div class='card'><h3><a href='/n/{i}'>The government approves the national \
                     road programme for the years 2026 to 2030 ({i})</a></h3><div class='lead'>The \
                     government approves the national road programme</div><span>{} March 2026</span></div>",
                    5 - i
                )
            })
            .collect();
        let p = page(&cards);
        assert_eq!(p.title, "h3 a");
        assert_eq!(p.summary, None, "{p:?}");
    }

    #[test]
    fn a_link_holding_a_whole_card_has_its_heading_for_title() {
        let cards: String = (0..4)
            .map(|i| {
                format!(
                    "<div class='tile'><a href='/p/{i}'><img src='/i/{i}.jpg'><h4>Ministry signs \
                     agreement number {i}</h4><span class='meta'>{} March 2026</span></a></div>",
                    5 - i
                )
            })
            .collect();
        let p = page(&cards);
        assert_eq!(
            (p.title.as_str(), p.link.as_str()),
            ("h4", "a@href"),
            "{p:?}"
        );
        assert_eq!(p.date.as_deref(), Some("span.meta"));
    }

    #[test]
    fn a_list_page_marked_as_an_article_is_read_as_a_list() {
        // og:type "article" on a section page, with its own text below its list.
        let cards: String = (0..4)
            .map(|i| format!("<div class='card'><h3><a href='/n/{i}'>Release number {i} of the ministry</a></h3></div>"))
            .collect();
        let about: String = (0..3)
            .map(|i| format!("<p>About this section, paragraph {i}: what the ministry publishes here, how often it does so and where to ask.</p>"))
            .collect();
        let page = |body: &str| {
            format!(
                "<html><head><meta property='og:type' content='article'></head><body><main>\
                 <h1>Press releases</h1>{body}</main></body></html>"
            )
        };
        let url = Url::parse("https://x.test/news/").unwrap();
        let list = page(&format!("{cards}<div class='about'>{about}</div>"));
        let p = discover(&list, &url, &Hints::default());
        assert_eq!(p.map(|p| p.item).ok().as_deref(), Some("div.card"));
        // The text before the links: an article with links below it.
        let article = page(&format!("<div class='about'>{about}</div>{cards}"));
        let found = discover(&article, &url, &Hints::default()).unwrap_err();
        assert!(found.article.is_some(), "{found}");
    }

    #[rstest]
    #[case::dated(
        "<p><span>1 December 2026</span> <a href='/n/1'>The minister held a meeting on roads</a><br>A teaser.</p>",
        true
    )]
    #[case::first(
        "<p><a href='/n/1'>The minister held a meeting on roads</a> A teaser follows.</p>",
        true
    )]
    #[case::inline(
        "<p>According to <a href='/r'>the ministry's annual report on roads</a>, the work goes on.</p>",
        false
    )]
    #[case::short(
        "<p><a href='/r'>Report</a> says the work on the roads goes on.</p>",
        false
    )]
    #[case::none(
        "<p>The work on the regional roads goes on, the ministry says.</p>",
        false
    )]
    fn paragraphs_led_by_a_title(#[case] p: &str, #[case] led: bool) {
        let doc = Html::parse_document(&format!("<html><body>{p}</body></html>"));
        let p = doc.select(&sel("p").unwrap()).next().unwrap();
        assert_eq!(led_by_title(p), led);
    }

    #[test]
    fn paragraphs_that_are_mostly_linked_items_are_a_list_not_an_article() {
        let items: String = (0..8)
            .map(|i| format!("<p><span>{} December 2026</span> <a href='/n/{i}'>The minister held a meeting number {i}</a><br>The head of the ministry was briefed on the progress of the programme.</p>", i + 1))
            .collect();
        let prose: String = (0..3)
            .map(|i| format!("<p>Paragraph {i} of the body: the minister was briefed on the programme, its costs and the work left to do this year.</p>"))
            .collect();
        let inline: String = (0..3)
            .map(|i| format!("<p>Paragraph {i}: according to <a href='/r/{i}'>the ministry's annual report on roads</a>, the work on the regional roads goes on this year.</p>"))
            .collect();
        let page = |body: &str| {
            Html::parse_document(&format!(
                "<html><head><meta property='og:type' content='article'></head><body><main>\
                 <h1>News</h1><div class='news'>{body}</div></main></body></html>"
            ))
        };
        assert_eq!(article_page(&page(&items)), None);
        // An intro of three paragraphs above eight items is still a list.
        assert_eq!(article_page(&page(&format!("{prose}{items}"))), None);
        // Body prose with links inside its sentences is an article's.
        assert!(article_page(&page(&inline)).is_some());
        assert!(article_page(&page(&prose)).is_some());
    }

    #[rstest]
    #[case::body_class(
        "<body class='home blog right-sidebar'><div class='loop'>{cards}</div><div class='widget-area'>{side}</div></body>",
        Place::Other
    )]
    #[case::wrapper(
        "<body><div class='wrap sidebar-right'><div class='loop'>{cards}</div><div class='widget-area'>{side}</div></div></body>",
        Place::Other
    )]
    #[case::wrapper_with_content_elsewhere(
        "<body><div id='content'>{side}</div><div class='wrap sidebar-right'><div class='loop'>{cards}</div><div class='widget-area'>x</div></div></body>",
        Place::Chrome
    )]
    #[case::widget_alone(
        "<body><div class='widget-latest'><div class='loop'>{cards}</div></div><div>{side}</div></body>",
        Place::Chrome
    )]
    #[case::sidebar_holding_the_list(
        "<body><div class='sidebar'><div class='loop'>{cards}</div></div><div>{side}</div></body>",
        Place::Chrome
    )]
    fn layout_classes_do_not_make_the_main_list_chrome(#[case] body: &str, #[case] place: Place) {
        let cards: String = (0..8)
            .map(|i| format!("<div class='entry'><h2><a href='/p/{i}'>The minister held a meeting number {i}</a></h2><p>The head of the ministry was briefed on the programme.</p></div>"))
            .collect();
        let side = "<ul><li><a href='/a'>About us</a></li><li><a href='/c'>Contacts</a></li></ul>";
        let html = format!(
            "<html>{}</html>",
            body.replace("{cards}", &cards).replace("{side}", side)
        );
        let doc = Html::parse_document(&html);
        let card = doc.select(&sel("div.entry").unwrap()).next().unwrap();
        assert_eq!(place_of(card), place, "{body}");
    }

    #[rstest]
    #[case::most_read_ru("<h4>Самое читаемое</h4><ul class='list-group'>", Place::Chrome)]
    #[case::related_en(
        "<div class='box'><h3>Related articles</h3><ul class='list-group'>",
        Place::Chrome
    )]
    #[case::kk(
        "<h2 class='block-title'>Көп оқылған</h2><ul class='list-group'>",
        Place::Chrome
    )]
    #[case::see_also("<h5>See also:</h5><ul class='list-group'>", Place::Chrome)]
    #[case::popular_this_month("<h2>Popular this month</h2><ul class='list-group'>", Place::Chrome)]
    #[case::ru_week(
        "<h3>Самое читаемое за неделю</h3><ul class='list-group'>",
        Place::Chrome
    )]
    #[case::kk_week("<h3>Апта бойы көп оқылған</h3><ul class='list-group'>", Place::Chrome)]
    #[case::editors("<h3>Editor's picks</h3><ul class='list-group'>", Place::Chrome)]
    #[case::section("<h4>Экономика</h4><ul class='list-group'>", Place::Other)]
    #[case::title(
        "<h4>Popular science festival opens in the capital</h4><ul class='list-group'>",
        Place::Other
    )]
    fn blocks_headed_as_chrome(#[case] head: &str, #[case] place: Place) {
        let html =
            format!("<html><body><div class='col'>{head}<li>x</li></ul></div></body></html>");
        let doc = Html::parse_document(&html);
        let ul = doc.select(&sel("ul.list-group").unwrap()).next().unwrap();
        assert_eq!(place_of(ul), place, "{head}");
    }

    /// The list under the page's `<h1>` in the wide column beats a larger dated list in the
    /// narrow column beside it, whatever the side list's heading says.
    #[test]
    fn a_side_list_in_the_narrow_column_loses_to_the_list_under_the_page_heading() {
        let items = |from: usize, n: usize, day: usize| -> String {
            (0..n)
                .map(|i| {
                    format!(
                        "<div class='news-item'><a href='/news/{}'>A release of the ministry number {i}</a>\
                         <div class='news-date'>{} February 2026</div></div>",
                        from + i,
                        day - i
                    )
                })
                .collect()
        };
        let html = format!(
            "<html lang='en'><body><main><div class='row'><div class='col-8'><h1>News</h1>{}</div>\
             <div class='col-4'><h2>Lo más leído</h2>{}</div></div></main></body></html>",
            items(9500, 5, 27),
            items(9580, 8, 12)
        );
        let url = Url::parse("https://x.test/news/").unwrap();
        let p = discover(&html, &url, &Hints::default()).unwrap();
        assert_eq!(p.item, "div.col-8 > div.news-item", "{p:?}");
    }

    /// Without grid columns, the list after the page's `<h1>` in the element holding it beats a
    /// slightly larger dated list beside that element.
    #[test]
    fn the_list_under_the_page_heading_beats_a_slightly_larger_one_beside_it() {
        let items = |from: usize, n: usize| -> String {
            (0..n)
                .map(|i| {
                    format!(
                        "<div class='news-item'><a href='/news/{}'>A release of the ministry number {i}</a>\
                         <div class='news-date'>{} February 2026</div></div>",
                        from + i,
                        20 - i
                    )
                })
                .collect()
        };
        let html = format!(
            "<html lang='en'><body><main><div class='lead'><h1>News</h1>{}</div>\
             <div class='extra'><h2>Lo más leído</h2>{}</div></main></body></html>",
            items(9500, 5),
            items(9580, 6)
        );
        let url = Url::parse("https://x.test/news/").unwrap();
        let p = discover(&html, &url, &Hints::default()).unwrap();
        assert_eq!(p.item, "div.lead > div.news-item", "{p:?}");
    }

    /// An element before the list that links to several releases is another list, not a
    /// featured release above it: no note of one, no selector list.
    #[test]
    fn a_block_of_several_releases_before_the_list_is_no_featured_release() {
        let items: String = (0..6)
            .map(|i| {
                format!(
                    "<li><a href='/news/{}'>A release of the ministry number {i}</a> \
                     <span>{} March 2026</span></li>",
                    100 + i,
                    20 - i
                )
            })
            .collect();
        let html = format!(
            "<html lang='en'><body><div class='wrap'><div class='other'><p><a href='/news/900'>Another \
             block's first release link</a></p><p><a href='/news/901'>Another block's second release \
             link</a></p></div><ul class='list'>{items}</ul></div></body></html>"
        );
        let url = Url::parse("https://x.test/news/").unwrap();
        let p = discover(&html, &url, &Hints::default()).unwrap();
        assert_eq!(p.item, "ul.list > li", "{p:?}");
        assert!(!p.notes.iter().any(|n| n.contains("featured")), "{p:?}");
    }

    /// A `<time datetime>` opening each title link is the release's date (`time@datetime`),
    /// which the list reader leaves out of the title.
    #[test]
    fn a_time_opening_the_title_link_is_the_date() {
        let items: String = (0..5)
            .map(|i| {
                format!(
                    "<li><a href='/releases/{}'><time datetime='2026-03-{:02}'>{} March 2026</time> \
                     A release of the ministry number {i}</a></li>",
                    9000 + i,
                    20 - i,
                    20 - i
                )
            })
            .collect();
        let p = page(&format!("<ul class='news'>{items}</ul>"));
        assert_eq!(p.date.as_deref(), Some("time@datetime"), "{p:?}");
        assert!(
            !p.notes
                .iter()
                .any(|n| n.contains("not in an element") || n.contains("titles hold")),
            "{p:?}"
        );
    }

    /// A date in the item's own text beside its title, in no element of its own, is the
    /// item's: `date = ":scope"`, which the list reader reads outside the title (a title with
    /// numbers or a day in it is no date).
    /// Four items of `shape`: `{i}` their number (0–3), `{d}` their day (20 down to 17).
    fn four_items(shape: &str) -> String {
        (0..4)
            .map(|i| {
                shape
                    .replace("{i}", &i.to_string())
                    .replace("{d}", &(20 - i).to_string())
            })
            .collect()
    }

    #[rstest]
    #[case::dash(
        "<li><a href='/n/{i}'>Decree 1{i} of 05.01.2026 on prices</a> — {d} March 2026</li>"
    )]
    #[case::text_after_break(
        "<li><a href='/n/{i}'>Talks on 7 February number {i}</a><br>{d}.03.2026</li>"
    )]
    fn a_date_in_the_items_own_text_is_read_from_the_item(#[case] shape: &str) {
        let items = four_items(shape);
        let p = page(&format!("<ul class='news'>{items}</ul>"));
        assert_eq!(p.date.as_deref(), Some(SCOPE), "{p:?}");
        assert!(
            !p.notes.iter().any(|n| n.contains("cannot be read")),
            "{p:?}"
        );
    }

    /// A machine-readable date in an attribute of the item or of an element in it is the date
    /// (`@data-published`, `meta@content`), before the date shown when both say the same day;
    /// a shown date of another day is the release's.
    #[rstest]
    #[case::item_attribute(
        "<article class='post' data-published='2026-03-{d}T10:00:00+05:00'><h2><a href='/p/{i}'>A release of the ministry {i}</a></h2><span class='date'>{d} March 2026</span></article>",
        "@data-published"
    )]
    #[case::child_attribute(
        "<article class='post'><h2><a href='/p/{i}'>A release of the ministry {i}</a></h2><div class='meta' data-date='2026-03-{d}'>Press office</div></article>",
        "div.meta@data-date"
    )]
    #[case::meta_content(
        "<article class='post'><meta itemprop='datePublished' content='2026-03-{d}'><h2><a href='/p/{i}'>A release of the ministry {i}</a></h2></article>",
        "meta@content"
    )]
    #[case::meta_among_metas(
        "<article class='post'><meta itemprop='image' content='/i/{i}.jpg'><meta itemprop='datePublished' content='2026-03-{d}'><h2><a href='/p/{i}'>A release of the ministry {i}</a></h2></article>",
        "meta[itemprop='datePublished']@content"
    )]
    #[case::shown_date_of_another_day(
        "<article class='post' data-time='2026-04-{d}T10:00:00Z'><h2><a href='/p/{i}'>A release of the ministry {i}</a></h2><span class='date'>{d} March 2026</span></article>",
        "span.date"
    )]
    #[case::a_change_is_no_publication(
        "<article class='post' data-modified='2026-03-{d}'><h2><a href='/p/{i}'>A release of the ministry {i}</a></h2><span class='date'>{d} March 2026</span></article>",
        "span.date"
    )]
    #[case::unix_seconds_of_the_item(
        "<article class='post' data-timestamp='17729{d}000'><h2><a href='/p/{i}'>A release of the ministry {i}</a></h2><div class='meta'>Press office</div></article>",
        "@data-timestamp"
    )]
    #[case::unix_milliseconds_before_the_day_shown(
        "<article class='post'><h2><a href='/p/{i}'>A release of the ministry {i}</a></h2><time class='when' data-unix='17729{d}000000'>7 March 2026</time></article>",
        "time.when@data-unix"
    )]
    #[case::unix_time_before_1990_is_no_date(
        "<article class='post' data-timestamp='1000000{d}'><h2><a href='/p/{i}'>A release of the ministry {i}</a></h2><span class='date'>{d} March 2026</span></article>",
        "span.date"
    )]
    fn a_date_in_an_attribute(#[case] shape: &str, #[case] date: &str) {
        let items = four_items(shape);
        let p = page(&items);
        assert_eq!(p.date.as_deref(), Some(date), "{p:?}");
    }

    /// Relative dates are read by the poller ("2 hours ago", "yesterday", "вчера, 18:00"), so
    /// suggest proposes their element and says nothing of `date_format`.
    #[rstest]
    #[case::en_ago(&["2 hours ago", "5 hours ago", "yesterday", "2 days ago", "1 week ago"], "ago")]
    #[case::en_date_class(&["2 hours ago", "yesterday", "2 days ago", "3 days ago"], "date")]
    #[case::ru_mixed(&["сегодня, 14:30", "вчера, 18:00", "вчера, 07:45", "1 марта 2026, 23:59"], "when")]
    fn relative_dates_are_read_as_the_poller_reads_them(
        #[case] dates: &[&str],
        #[case] class: &str,
    ) {
        let cards: String = dates
            .iter()
            .enumerate()
            .map(|(i, d)| {
                format!(
                    "<li class='feed-item'><a href='/releases/{}'>A release of the ministry \
                     number {i}</a> <span class='{class}'>{d}</span></li>",
                    400 + i
                )
            })
            .collect();
        let p = page(&format!("<ul class='feed'>{cards}</ul>"));
        assert_eq!(p.date, Some(format!("span.{class}")), "{p:?}");
        assert!(
            !p.notes
                .iter()
                .any(|n| n.contains("date_format") || n.contains("no date")),
            "{p:?}"
        );
    }

    #[test]
    fn the_date_selector_follows_most_items_when_one_has_its_date_elsewhere() {
        let cards: String = (0..5)
            .map(|i| {
                let date = format!("{} March 2026", 9 - i);
                let date = if i == 2 {
                    format!("<em>{date}</em>")
                } else {
                    format!("<span class='date'>{date}</span>")
                };
                format!("<div class='news-item'><h3><a href='/n/{i}'>Some release title number {i}</a></h3>{date}</div>")
            })
            .collect();
        let p = page(&cards);
        assert_eq!(p.date.as_deref(), Some("span.date"), "{p:?}");
    }

    #[rstest]
    #[case::menu("top-menu", Place::Chrome)]
    #[case::navbar("navbar", Place::Chrome)]
    #[case::wordpress("menu-item", Place::Chrome)]
    #[case::most_read("mostread__article", Place::Chrome)]
    #[case::popular("c-article-most-popular__item", Place::Chrome)]
    #[case::news_sidebar("news-sidebar", Place::Chrome)]
    #[case::layout("content-with-sidebar", Place::Content)]
    #[case::main("main", Place::Content)]
    #[case::news("news-list", Place::Content)]
    #[case::card("card", Place::Other)]
    fn named_places(#[case] name: &str, #[case] place: Place) {
        assert_eq!(named_place(name), place, "{name}");
    }

    #[rstest]
    #[case::query("https://x.test/news?page=2", true)]
    #[case::bitrix("https://x.test/news/?PAGEN_1=3", true)]
    #[case::path("https://x.test/news/page/3/", true)]
    #[case::script_list("https://x.test/index.php?page=2&section=news", true)]
    #[case::post("https://x.test/?p=123", false)]
    #[case::story("https://x.test/news/page-turner-wins-award", false)]
    #[case::script_page("https://x.test/index.php?page=news&id=1501", false)]
    #[case::script_item("https://x.test/index.php?page=3&id=1501", false)]
    fn pager_links(#[case] url: &str, #[case] pager: bool) {
        let list = Url::parse("https://x.test/index.php?section=news").unwrap();
        assert_eq!(pager_link(&Url::parse(url).unwrap(), &list), pager, "{url}");
    }
}
