//! Finding the main text of a page and writing it out as text and as HTML.
//!
//! Three steps over the tree from [`super::dom`]:
//! 1. **Marking what is never content**: scripts, forms' controls, navigation, hidden elements,
//!    and asides or elements whose class or id names a known kind of boilerplate (share bars,
//!    comments, "related" teasers, newsletters, cookie notices, bylines, captions) — a name is
//!    weighed against how much text and how few links the element holds. Comment threads are
//!    also told by their shape (repeated items with a "Reply" control), whatever their name.
//! 2. **Scoring** (readability-style): every paragraph-like block of at least 25 characters gives
//!    its ancestors points for its length and commas, fewer the further up; a candidate's score
//!    is scaled by how little of its text is link text. The best candidate, with siblings that
//!    score nearly as well or read like paragraphs, is the article.
//! 3. **Cleaning while writing** (trafilatura-style): inside the article, link lists, blocks that
//!    are mostly links, headlines and short boilerplate lines ("Go back", "Share", "Advertisement",
//!    "BREAKING NEWS", "Read more…") are left out; each run of text between blocks or `<br>`s is
//!    weighed as a line, bare links included.

use super::dom::{Doc, Kind, NONE};
use regex::Regex;
use std::sync::LazyLock;

/// Class/id words that always mean boilerplate, whatever else the name says
/// ("related-articles", "article-share", "comment-content"). "comment" is not followed by an
/// "a": a "commentary" or a "commentator" column is the article.
static STRONG_JUNK: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new(concat!(
        "comment(?:[^a]|$)|disqus|share|sharing|social|related|recommend|newsletter|subscri|signup|",
        "cookie|consent|gdpr|breadcrumb|sidebar|widget|promo|sponsor|outbrain|taboola|",
        "popular|trending|readmore|read-more|more-stories|more-articles|more-from|",
        "author-bio|author-info|authorbox|author-box|byline|taglist|tag-list|toolbar|",
        "pagination|pager|modal|popup|sr-only|screen-reader|visually-hidden|visuallyhidden|",
        "caption|credit|rating|newsletter|paywall|subscription|login|signin|",
        "(?:^|[^a-z])(?:ad|ads|advert|advertisement|adsense|dfp|print|tags|meta|nav|navbar|menu|",
        "footer|masthead|banner|timestamp|dateline|skip|jump|follow|topics|keywords)(?:[^a-z]|$)|",
        // "hidden" hides only as a word of its own: `field--label-hidden` hides a label, Bootstrap's
        // `hidden-xs` hides on phones only.
        r"(?:^|\s)(?:hidden|is-hidden|hide|d-none)(?:\s|$)"
    ))
    .unwrap()
});

/// Class/id words of a picture's caption or credit.
static CAPTION: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new("caption|credit").unwrap()
});

/// Class/id words that suggest the article itself.
static POSITIVE: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new("article|body|content|entry|main|post|story|text|blog|prose").unwrap()
});

/// Class/id words that suggest boilerplate unless the name also suggests the article.
static WEAK_JUNK: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new("breaking|header|foot|extra|supplement|community|rss|shoutbox|skyscraper|aside|links|author|date|info|tool|overlay").unwrap()
});

/// Whether class and id names (as [`class_id`] writes them) suggest boilerplate: a weak junk
/// word and no word of the article's. A positive word counts only in a name whose last part is
/// no junk word, or in a part after the first: "post-author", "article-tools", "entry-info"
/// are a theme's author box, tools and info line (the theme's prefix names the post they belong
/// to); "post-content", "author-content", "story-body-supplemental" are the post.
fn weak_junk(names: &str) -> bool {
    WEAK_JUNK.is_match(names)
        && !names.split_ascii_whitespace().any(|name| {
            let mut parts = name.split(['-', '_']);
            let first = parts.next().unwrap_or(name);
            let last = name.rsplit(['-', '_']).next().unwrap_or(name);
            (POSITIVE.is_match(name) && !WEAK_JUNK.is_match(last))
                || parts.any(|p| POSITIVE.is_match(p))
                || (first == name && POSITIVE.is_match(first))
        })
}

/// Words of an error report control ("Found a mistake? Select the text and press
/// Ctrl+Enter"), in several languages, as pattern alternatives.
const ERROR_REPORT: &str = "mistake|error|typo|misprint|select the text|highlight the text\
    |ошибк|опечат|выделите|помилк|виділіть|қате|kļūd|klaid|viga|fehler|erreur|errore\
    |błąd|błęd|chyb|fout|erro|iezīmējiet|labojam|pažymėk|markieren|sélectionnez|selecciona\
    |zaznacz";

/// Short lines that are boilerplate wherever they stand: one or more of these, between
/// punctuation ("Go back | Twitter | Facebook | Print", "Поделиться: VK Telegram").
static JUNK_LINE: LazyLock<Regex> = LazyLock::new(|| {
    let items = [
        // Back to the list, print, share.
        r"go back|back|back to (?:the |all )*(?:news|list|top|home|homepage|main page|blog|articles",
        r"|posts|stories|press releases|releases|overview|index|search results|events|media)",
        r"|return to (?:the )?(?:list|news|top|homepage|home)",
        r"|share|share this(?: article| story| page| post| news)?|share (?:on|via|to) \w+",
        r"|print|print this(?: page| article| story)?|print version|printer[- ]friendly(?: version)?",
        r"|tweet|email|e-mail|copy link|copied|facebook|twitter|telegram|whatsapp|linkedin|vk",
        r"|vkontakte|odnoklassniki|instagram|youtube|viber|pinterest|reddit",
        // Teasers, subscriptions, advertising, counters.
        r"|advertisement|advertising|ad|sponsored|scroll to continue|read more|read next",
        r"|read (?:more|also|next)\s*:.*|related|related articles|related stories|related\s*:.*",
        r"|see also|see also\s*:.*|more from\b.*|more on\b.*|breaking news|subscribe\b.*",
        r"|sign up\b.*|follow us\b.*|image|photo|video|click here\b.*|continue reading\b.*",
        r"|loading|listen|listen to this article\b.*|comments?|\d+ (?:comments?|responses?|replies)",
        r"|views?:? *\d+|\d+ views|tags?:.*|photo\s*:.*|фото\s*:.*|сурет\s*:.*",
        // Russian.
        r"|назад|назад к (?:новостям|списку\w*|разделу|статьям)|вернуться",
        r"|вернуться (?:назад|к списку\b.*|к новостям|в раздел\b.*|на главную\b.*)",
        r"|возврат к списку\b.*|к списку новостей|на главную|все новости|поделиться",
        r"|поделиться (?:в|с) \w+|печать|версия для печати|распечатать|печатная версия",
        r"|подписывайтесь\b.*|подпишитесь\b.*|читайте (?:также|ещё|еще|нас)\b.*",
        r"|смотрите также\b.*|теги\s*:.*|метки\s*:.*|просмотров:? *\d+|\d+ просмотр\w*|реклама",
        r"|\d+ комментари\w*",
        // Kazakh.
        r"|артқа|басып шығару|бөлісу|жаңалықтар тізіміне оралу|тізімге оралу|басты бетке",
        r"|жазылыңыз\b.*|сондай-ақ оқыңыз\b.*|тегтер\s*:.*",
        // German, French, Spanish, Italian, Portuguese, Dutch, Polish: ad labels, share and
        // print controls, "read also" teasers.
        r"|anzeige|werbung|teilen|drucken|weiterlesen|lesen sie (?:auch|mehr)\b.*",
        r"|mehr zum thema\b.*|publicité|partager|imprimer|(?:à )?lire (?:aussi|la suite)\b.*",
        r"|publicidad|compartir|imprimir|leer más|le[ae] también\b.*|pubblicità|condividi",
        r"|leggi anche\b.*|publicidade|compartilhar|partilhar|leia (?:também|mais)\b.*",
        r"|advertentie|delen|lees (?:ook|meer)\b.*|reklama|udostępnij|drukuj",
        r"|czytaj (?:także|też|również|więcej)\b.*",
        // Japanese, Chinese, Korean: related articles, ads, share, print, "next article",
        // the editor's name and the error report control of Chinese news sites.
        r"|関連記事|関連キーワード|広告|シェア|印刷|相关阅读|相关新闻|相关文章|阅读下一篇",
        r"|广告|分享到?|打印|纠错|责任编辑\s*[:：].*|관련\s*기사|광고|공유하기",
        // "Found a mistake? Select the text and press Ctrl+Enter" (any language): Ctrl+Enter
        // with an error report's word on the line (a tutorial's "Press Ctrl+Enter to run the
        // cell" is text). (Not the copyright line: the benchmark's annotators keep it as the
        // article's last line.)
        r"|.*(?:",
        ERROR_REPORT,
        r").*\bctrl\s*\+\s*enter\b.*|.*\bctrl\s*\+\s*enter\b.*(?:",
        ERROR_REPORT,
        r").*",
        r"|kļūda rakstā|нашли ошибку|заметили ошибку",
    ]
    .concat();
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new(&format!(r"(?i)^\W*(?:{items})(?:\W+(?:{items}))*\W*$")).unwrap()
});

/// A gallery's or a list's pager: page numbers and arrows only ("<< < 1 2 … 14 > >>",
/// "‹ 3 / 14 ›"), an arrow at least (numbers alone may be a table's). See [`is_pager`] for
/// the shape it needs besides.
static PAGER_LINE: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new(r"^[\s\d/|…<>«»‹›←→]*[<>«»‹›←→][\s\d/|…<>«»‹›←→]*$").unwrap()
});

/// Whether a line is a pager: [`PAGER_LINE`]'s characters, with two arrows at least or an
/// arrow and two numbers ("> 65" or "< 18" alone is a comparison, not a pager).
fn is_pager(line: &str) -> bool {
    if !PAGER_LINE.is_match(line) {
        return false;
    }
    let arrows = line.chars().filter(|c| "<>«»‹›←→".contains(*c)).count();
    let numbers = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .count();
    arrows >= 2 || numbers >= 2
}

/// Characters (not counting spaces) up to which a line of text (a run between blocks or
/// `<br>`s) is weighed as a boilerplate line.
const JUNK_LINE_CHARS: u32 = 120;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Ordinary content or container.
    Normal,
    /// Never part of the main text (nor are its descendants).
    Junk,
}

/// Per-node figures, indexed like the tree.
struct Stats {
    role: Vec<Role>,
    /// Non-space characters of visible text.
    text: Vec<u32>,
    /// Non-space characters inside links.
    link: Vec<u32>,
    /// Text characters and commas not inside block children: the element's own paragraph.
    own: Vec<u32>,
    own_commas: Vec<u32>,
    /// Runs of an element's own text split by `<br>`: each scores as a paragraph.
    runs: Vec<u32>,
    /// The text nodes holding more than white space, in document order.
    text_nodes: Vec<usize>,
    /// The page's first `<h1>`, its headline ([`NONE`] without one).
    headline: usize,
}

fn is_hard_skip(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "svg"
            | "math"
            | "iframe"
            | "object"
            | "embed"
            | "canvas"
            | "button"
            | "select"
            | "option"
            | "input"
            | "textarea"
            | "head"
            | "title"
            | "nav"
            | "dialog"
            | "audio"
            | "video"
            | "map"
            | "footer"
            | "header"
            | "figcaption"
            | "label"
            | "menu"
            | "time"
            | "link"
            | "meta"
    )
}

/// Is this `<time>` part of a sentence (text beside it in its parent), not a line of its own?
/// "The meeting on <time>Tuesday</time> agreed" keeps its date. (An `<address>` is never
/// skipped: inside the article it is a press release's contacts; elsewhere it is not picked.)
fn in_sentence(doc: &Doc, i: usize) -> bool {
    let node = &doc.nodes[i];
    node.name() == "time"
        && node.parent != NONE
        && doc
            .children(node.parent)
            .any(|c| matches!(&doc.nodes[c].kind, Kind::Text(t) if !is_blank(t)))
}

/// Is this a `<header>` inside an `<article>`? Its standfirst is the article's lead; its
/// headline and byline go by the usual rules.
fn article_header(doc: &Doc, i: usize) -> bool {
    if doc.nodes[i].name() != "header" {
        return false;
    }
    let mut a = doc.nodes[i].parent;
    while a != NONE {
        if doc.nodes[a].name() == "article" {
            return true;
        }
        a = doc.nodes[a].parent;
    }
    false
}

/// Block-level elements: text on either side of them is not one run.
pub fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "section"
            | "article"
            | "main"
            | "blockquote"
            | "pre"
            | "ul"
            | "ol"
            | "li"
            | "dl"
            | "dt"
            | "dd"
            | "table"
            | "tr"
            | "td"
            | "th"
            | "thead"
            | "tbody"
            | "tfoot"
            | "caption"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "hr"
            | "br"
            | "figure"
            | "body"
            | "html"
            | "center"
            | "form"
            | "fieldset"
            | "details"
            | "summary"
            | "hgroup"
            | "address"
            | "header"
            | "footer"
            | "nav"
            | "aside"
    )
}

fn count_text(s: &str) -> (u32, u32) {
    // Branch-free, so that the loop runs many bytes at a time (vectorised).
    let mut n = 0u32;
    let mut commas = 0u32;
    for &b in s.as_bytes() {
        // Count characters, not bytes: skip UTF-8 continuation bytes and ASCII space.
        n += u32::from(b & 0xC0 != 0x80 && !b.is_ascii_whitespace());
        commas += u32::from(b == b',');
    }
    (n, commas)
}

fn hidden(node: &super::dom::Node) -> bool {
    let Kind::Element { attrs, .. } = &node.kind else {
        return false;
    };
    // One look at each attribute (an element has each name at most once).
    attrs.iter().any(|a| match &*a.name.local {
        "hidden" => true,
        "aria-hidden" => &*a.value == "true",
        "style" => {
            let style: String = a
                .value
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_lowercase();
            style.contains("display:none") || style.contains("visibility:hidden")
        }
        _ => false,
    })
}

/// The whole text of a control that unfolds the rest of an article.
static UNFOLD: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new(concat!(
        r"(?i)^\W*(?:read more|show more|read the full (?:story|article)|continue reading|expand|",
        r"читать (?:далее|полностью|ещё|еще)|показать (?:полностью|ещё|еще)|развернуть|",
        r"подробнее|толығырақ|толық оқу|әрі қарай оқу)\W*$"
    ))
    .unwrap()
});

/// Is hidden element `i` the folded rest of a text — hidden by its style only, with a "Read
/// more" control just after it (one of the next two elements)? Its text is the article's,
/// shown by a click.
fn folded(doc: &Doc, i: usize) -> bool {
    let node = &doc.nodes[i];
    if node.attr("hidden").is_some() || node.attr("aria-hidden") == Some("true") {
        return false;
    }
    let mut next = node.next_sibling;
    let mut seen = 0;
    while next != NONE && seen < 2 {
        if doc.nodes[next].is_element() {
            seen += 1;
            let mut text = String::new();
            for j in (next + 1..doc.subtree_end(next)).take(50) {
                if let Kind::Text(t) = &doc.nodes[j].kind {
                    text.push_str(t);
                }
            }
            if text.len() <= 80 && UNFOLD.is_match(text.trim()) {
                return true;
            }
        }
        next = doc.nodes[next].next_sibling;
    }
    false
}

/// Lower-cased class and id of an element ("" when it has neither), without taxonomy classes:
/// `tag-promotion` or `category-comment-news` on a post say what it is about, not what part of
/// the page it is (WordPress puts every tag and category of the post in its class).
/// Written into `s` (cleared first), a buffer reused from one element to the next.
fn class_id(node: &super::dom::Node, s: &mut String) {
    s.clear();
    for word in node.attr("class").unwrap_or("").split_ascii_whitespace() {
        if !is_taxonomy(word) {
            s.push_str(word);
            s.push(' ');
        }
    }
    if let Some(i) = node.attr("id") {
        s.push_str(i);
    }
    s.make_ascii_lowercase();
    if FALSE_FRIENDS.is_match(s) {
        *s = FALSE_FRIENDS.replace_all(s, "~").into_owned();
    }
}

/// Ordinary words that hold a boilerplate word without being that thing: a "shareholder-update"
/// is no share bar, "footnotes" no footer, a "tooltip" no toolbar, an "infobox" of key facts no
/// info line, a "subheader" a heading of the article. They are masked before the names are
/// weighed (the junk words are matched inside compounds, "sharebar", "newfooter", on purpose).
static FALSE_FRIENDS: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new(concat!(
        "shareholder|footnote|football|tooltip|infobox|subhead|operating|accredit|candidate|",
        "validat|authorit|authoriz"
    ))
    .unwrap()
});

fn is_taxonomy(class: &str) -> bool {
    [
        "tag-",
        "tag_",
        "tags-",
        "category-",
        "category_",
        "post_tag-",
    ]
    .iter()
    .any(|p| {
        class
            .as_bytes()
            .get(..p.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(p.as_bytes()))
    })
}

/// Class/id words that mark boilerplate even on a big element: a comment thread can be
/// longer than the article it follows.
static ALWAYS_JUNK: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new("comment(?:[^a]|$)|disqus|respond|replies|cookie|consent|gdpr|newsletter").unwrap()
});

/// Class/id words of a comment or review thread.
static THREAD: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new("comment(?:[^a]|$)|disqus|replies|reviews").unwrap()
});

/// Class/id words of a single comment or review.
static COMMENT: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new("comment(?:[^a]|$)|review|reply").unwrap()
});

/// The whole text of a "Reply" control of a comment.
static REPLY: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new(concat!(
        r"(?i)^\W*(?:reply|reply to this comment|ответить|жауап беру|жауап қайтару|antworten|",
        r"répondre|responder|rispondi|odpowiedz|відповісти|yanıtla|cevapla)\W*$"
    ))
    .unwrap()
});

/// A comment's header line: "user0 wrote on 04.11.2026:", "Иван написал 12:30".
static WROTE: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new(r"(?i)\b(?:wrote|says|said|написал|написала|пишет|жазды|schrieb|a écrit)\b").unwrap()
});

/// A date or a time of day written in text ("04.11.2026", "2026-11-04", "12:30").
static DATE_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new(r"\b(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2})\b").unwrap()
});

/// Text (not counting spaces, nor link text) before an element from which a run of comments
/// after it is a thread below an article, not a forum's posts (whose first is the article).
const TEXT_BEFORE_THREAD: u32 = 200;

/// The items of comment threads found by their shape, not their names (`#responses`,
/// `#kommentarii`, `.msg`): three or more siblings of the same tag and class, each one a comment —
/// holding a "Reply" control, or opening with a line that names its writer and its date ("user0
/// wrote on 04.11.2026:") — standing after some text of the page's own (so that a forum's posts,
/// the first of which is the article, are not taken for one). `true` at each item.
pub fn thread_items(doc: &Doc) -> Vec<bool> {
    let n = doc.nodes.len();
    // Whether each element holds a "Reply" control (a link or button reading so, or a link to a
    // reply form).
    let mut reply = vec![false; n];
    for i in (1..n).rev() {
        let node = &doc.nodes[i];
        let own = match &node.kind {
            Kind::Text(t) => t.len() <= 60 && t.trim().len() <= 40 && REPLY.is_match(t),
            Kind::Element { .. } => {
                node.name() == "a"
                    && node.attr("href").is_some_and(|h| {
                        let h = h.to_ascii_lowercase();
                        h.contains("#reply") || h.contains("replytocom") || h.contains("reply=")
                    })
            }
            Kind::Document => false,
        };
        reply[i] |= own;
        let p = node.parent;
        if reply[i] && p != NONE {
            reply[p] = true;
        }
    }
    // Text outside links before each node, in document order.
    let mut before = vec![0u32; n + 1];
    let mut link_end = 0;
    for i in 0..n {
        let node = &doc.nodes[i];
        let mut add = 0;
        if node.name() == "a" && i >= link_end {
            link_end = doc.subtree_end(i);
        } else if let Kind::Text(t) = &node.kind
            && i >= link_end
            && !in_skipped(doc, i)
        {
            add = count_text(t).0;
        }
        before[i + 1] = before[i] + add;
    }
    let mut items = vec![false; n];
    // The element children of one parent, grouped by tag and class (in document order).
    let mut groups: std::collections::HashMap<(&str, Option<&str>), Vec<usize>> =
        std::collections::HashMap::new();
    for p in 0..n {
        if doc.children(p).nth(2).is_none() {
            continue;
        }
        groups.clear();
        for c in doc.children(p) {
            let node = &doc.nodes[c];
            if node.is_element() && (reply[c] || wrote_header(doc, c)) {
                groups
                    .entry((node.name(), node.attr("class")))
                    .or_default()
                    .push(c);
            }
        }
        for group in groups.values() {
            if group.len() >= 3 && before[group[0]] >= TEXT_BEFORE_THREAD {
                for &c in group {
                    items[c] = true;
                }
            }
        }
    }
    items
}

/// Whether a text node sits in an element that never holds content (a script, a style).
fn in_skipped(doc: &Doc, i: usize) -> bool {
    let p = doc.nodes[i].parent;
    p != NONE
        && matches!(
            doc.nodes[p].name(),
            "script" | "style" | "noscript" | "template" | "title"
        )
}

/// Does element `i`, a container (a paragraph is not a comment), open with a line naming a
/// writer and a date ("user0 wrote on 04.11.2026:")? The line is its first text, up to a `<br>`
/// or a block, of 100 characters at most.
fn wrote_header(doc: &Doc, i: usize) -> bool {
    if !matches!(
        doc.nodes[i].name(),
        "div" | "li" | "article" | "section" | "dd" | "td" | "blockquote"
    ) {
        return false;
    }
    let mut line = String::new();
    for j in (i + 1..doc.subtree_end(i)).take(50) {
        match &doc.nodes[j].kind {
            Kind::Text(t) => {
                line.push_str(t);
                if line.len() > 400 {
                    return false;
                }
            }
            Kind::Element { name, .. } if (is_block(name) && !line.trim().is_empty()) => break,
            _ => {}
        }
    }
    let line = line.trim();
    !line.is_empty()
        && line.bytes().any(|b| b.is_ascii_digit())
        && line.chars().count() <= 100
        && WROTE.is_match(line)
        && DATE_TEXT.is_match(line)
}

/// Characters (not counting spaces) from which a block with few links reads as prose, whatever
/// its name: a paragraph or two.
const PROSE_CHARS: u32 = 400;

/// `by_name`: whether class and id names mark boilerplate (off for the last fallback, when the
/// names threw the whole article away; comment threads are left out even then).
fn compute_stats(doc: &Doc, by_name: bool) -> Stats {
    let n = doc.nodes.len();
    let mut role = vec![Role::Normal; n];
    // Top-down (a parent's index is below its children's): elements that are never content.
    for i in 1..n {
        let node = &doc.nodes[i];
        if node.parent != NONE && role[node.parent] == Role::Junk {
            role[i] = Role::Junk;
        } else if let Kind::Element { name, .. } = &node.kind
            && ((is_hard_skip(name) && !in_sentence(doc, i) && !article_header(doc, i))
                || (hidden(node) && !folded(doc, i)))
        {
            role[i] = Role::Junk;
        }
    }
    let first = sums(doc, &role, None);
    let Sums {
        text: ref raw,
        link: ref raw_link,
        ref stops,
        ..
    } = first;
    let mut holds_body = vec![false; n];
    for i in (1..n).rev() {
        if doc.nodes[i].attr("itemprop") == Some("articleBody") {
            holds_body[i] = true;
        }
        let p = doc.nodes[i].parent;
        if holds_body[i] && p != NONE {
            holds_body[p] = true;
        }
    }
    // Boilerplate by class or id (or an `<aside>`, a landmark role). A name is evidence, weighed
    // against what the element holds: never an element that holds most of the page's text
    // ("content-with-sidebar", "post-meta", "byline-author" wrap whole posts), nor a small one
    // that reads as prose (a "widget" of text, a body "field--label-hidden"); comment threads
    // and consent notices are left out whatever they hold, unless they hold most of the page.
    let page = raw[0].max(1) as f32;
    let mut names = String::new();
    // How many elements inside each one are named as comments, and how many of its children
    // repeat the tag and class of the child before them (the items of a thread).
    let mut comments = vec![0u32; n];
    let mut repeated = vec![0u32; n];
    for i in (1..n).rev() {
        let node = &doc.nodes[i];
        if node.parent == NONE || !matches!(node.kind, Kind::Element { .. }) {
            continue;
        }
        class_id(node, &mut names);
        let own = u32::from(COMMENT.is_match(&names));
        comments[node.parent] += comments[i] + own;
    }
    for (i, count) in repeated.iter_mut().enumerate() {
        let mut before: Option<usize> = None;
        for c in doc.children(i) {
            let child = &doc.nodes[c];
            if !matches!(child.kind, Kind::Element { .. }) {
                continue;
            }
            let class = child.attr("class").unwrap_or("");
            if !class.is_empty()
                && before.is_some_and(|b| {
                    doc.nodes[b].name() == child.name() && doc.nodes[b].attr("class") == Some(class)
                })
            {
                *count += 1;
            }
            before = Some(c);
        }
    }
    let thread = thread_items(doc);
    for i in 1..n {
        let node = &doc.nodes[i];
        if role[i] == Role::Junk {
            continue;
        }
        if (node.parent != NONE && role[node.parent] == Role::Junk) || thread[i] {
            role[i] = Role::Junk;
            continue;
        }
        let Kind::Element { name, .. } = &node.kind else {
            continue;
        };
        if matches!(&**name, "html" | "body" | "article" | "main" | "a") || holds_body[i] {
            continue;
        }
        class_id(node, &mut names);
        // A paragraph is weighed by its text, not its name, except as a picture's caption or
        // credit ("<p class=caption>", WordPress's "wp-caption-text").
        if &**name == "p" {
            if by_name && CAPTION.is_match(&names) {
                role[i] = Role::Junk;
            }
            continue;
        }
        let landmark = &**name == "aside"
            || node.attr("role").is_some_and(|r| {
                matches!(
                    r,
                    "navigation" | "complementary" | "contentinfo" | "banner" | "dialog"
                )
            });
        if names.is_empty() && !landmark {
            continue;
        }
        let share = raw[i] as f32 / page;
        let few_links = raw_link[i] * 5 < raw[i];
        // A comment thread (an element named so that holds several comments named so) is never
        // the article, however long it runs; a single comment-named element that holds most of
        // the page is the post (a forum's first post).
        if comments[i].max(repeated[i]) >= 3 && THREAD.is_match(&names) {
            role[i] = Role::Junk;
            continue;
        }
        if !by_name {
            continue;
        }
        if share >= 0.5 && few_links {
            continue;
        }
        // Prose: sentences (one end per 250 characters at least), few links, a paragraph or two.
        let prose = few_links && raw[i] >= PROSE_CHARS && stops[i] * 250 >= raw[i];
        // An `<aside>` is beside the article by definition, unless its name says it is the post;
        // other names are weighed only on small elements (big ones wrap whole pages).
        let aside =
            &**name == "aside" && (!POSITIVE.is_match(&names) || STRONG_JUNK.is_match(&names));
        let junk = ALWAYS_JUNK.is_match(&names)
            || (!prose
                && (share < 0.25 || aside)
                && (landmark || STRONG_JUNK.is_match(&names) || weak_junk(&names)));
        if junk {
            role[i] = Role::Junk;
        }
    }
    let Sums {
        text, link, commas, ..
    } = sums(doc, &role, Some(&first));
    let mut own = vec![0u32; n];
    let mut own_commas = vec![0u32; n];
    for i in (1..n).rev() {
        let node = &doc.nodes[i];
        let p = node.parent;
        if role[i] == Role::Junk || p == NONE {
            continue;
        }
        if let Kind::Text(_) = node.kind {
            own[p] += text[i];
            own_commas[p] += commas[i];
        } else if !is_block(node.name()) {
            own[p] += text[i];
            own_commas[p] += commas[i];
        }
    }
    // Runs of an element's own text between `<br>`s (and its block children).
    let mut runs = vec![0u32; n];
    for (i, count) in runs.iter_mut().enumerate() {
        if own[i] == 0 {
            continue;
        }
        let mut in_run = false;
        for c in doc.children(i) {
            let child = &doc.nodes[c];
            if role[c] == Role::Junk {
                continue;
            }
            let name = child.name();
            if name == "br" || is_block(name) {
                in_run = false;
            } else if text[c] > 0 && !in_run {
                in_run = true;
                *count += 1;
            }
        }
    }
    let text_nodes = (0..n)
        .filter(|&i| matches!(&doc.nodes[i].kind, Kind::Text(t) if !is_blank(t)))
        .collect();
    Stats {
        headline: doc.elements("h1").next().unwrap_or(NONE),
        role,
        text,
        link,
        own,
        own_commas,
        runs,
        text_nodes,
    }
}

/// Bottom-up sums over the nodes that are not junk: text characters, link characters, commas,
/// and sentence ends. With `first`, the sums of an earlier pass over the same page whose junk
/// was a subset of `role`'s: each text node's own figures are read from it rather than counted
/// again (a text node has no children, so its sums are its own figures), and sentence ends are
/// left at 0.
fn sums(doc: &Doc, role: &[Role], first: Option<&Sums>) -> Sums {
    let n = doc.nodes.len();
    let mut sums = Sums {
        text: vec![0u32; n],
        link: vec![0u32; n],
        commas: vec![0u32; n],
        stops: vec![0u32; n],
    };
    for i in (1..n).rev() {
        if role[i] == Role::Junk {
            continue;
        }
        let node = &doc.nodes[i];
        match &node.kind {
            Kind::Text(t) => match first {
                Some(f) => {
                    sums.text[i] += f.text[i];
                    sums.commas[i] += f.commas[i];
                }
                None => {
                    let (len, c) = count_text(t);
                    sums.text[i] += len;
                    sums.commas[i] += c;
                    sums.stops[i] += count_stops(t);
                }
            },
            Kind::Element { name, .. } if *name == html5ever::local_name!("a") => {
                sums.link[i] = sums.text[i];
            }
            _ => {}
        }
        let p = node.parent;
        if p != NONE {
            sums.text[p] += sums.text[i];
            sums.link[p] += sums.link[i];
            sums.commas[p] += sums.commas[i];
            sums.stops[p] += sums.stops[i];
        }
    }
    sums
}

/// Whether `t` is all white space (`str::trim` would leave nothing): the indentation between
/// tags, most text nodes of a page, is told by its bytes without decoding characters.
fn is_blank(t: &str) -> bool {
    t.bytes().all(|b| b.is_ascii_whitespace()) || t.trim().is_empty()
}

/// Bottom-up sums over the nodes that are not junk: text characters, link characters, commas
/// and sentence ends.
struct Sums {
    text: Vec<u32>,
    link: Vec<u32>,
    commas: Vec<u32>,
    stops: Vec<u32>,
}

/// Sentence ends: a full stop, question or exclamation mark followed by a space or the end,
/// or an ideographic full stop. Read byte by byte (the marks are ASCII, the ideographic ones
/// three bytes each); a character is decoded only after a mark.
fn count_stops(s: &str) -> u32 {
    let bytes = s.as_bytes();
    let mut n = 0;
    // Sixteen bytes at a time: most hold no mark, and are told so without a branch per byte.
    for (c, chunk) in bytes.chunks(16).enumerate() {
        if !chunk.iter().fold(false, |any, &b| {
            any | matches!(b, b'.' | b'!' | b'?' | 0xE3 | 0xEF)
        }) {
            continue;
        }
        for (i, &b) in chunk.iter().enumerate() {
            let i = c * 16 + i;
            match b {
                b'.' | b'!' | b'?' if s[i + 1..].chars().next().is_none_or(char::is_whitespace) => {
                    n += 1
                }
                // '。' (E3 80 82), '！' (EF BC 81), '？' (EF BC 9F).
                0xE3 | 0xEF
                    if matches!(
                        bytes.get(i..i + 3),
                        Some([0xE3, 0x80, 0x82] | [0xEF, 0xBC, 0x81] | [0xEF, 0xBC, 0x9F])
                    ) =>
                {
                    n += 1
                }
                _ => {}
            }
        }
    }
    n
}

fn link_density(stats: &Stats, i: usize) -> f32 {
    if stats.text[i] == 0 {
        0.0
    } else {
        stats.link[i] as f32 / stats.text[i] as f32
    }
}

/// Is `i` a block whose own text (outside its block children) reads as a paragraph?
fn is_paragraph(doc: &Doc, i: usize) -> bool {
    matches!(
        doc.nodes[i].name(),
        "p" | "pre"
            | "td"
            | "blockquote"
            | "h2"
            | "h3"
            | "h4"
            | "li"
            | "dd"
            | "div"
            | "section"
            | "article"
            | "main"
            | "center"
            | "font"
            | "span"
    )
}

fn tag_weight(name: &str) -> f32 {
    match name {
        "div" | "article" | "section" | "main" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    }
}

fn class_weight(doc: &Doc, i: usize) -> f32 {
    let node = &doc.nodes[i];
    let mut names = String::new();
    class_id(node, &mut names);
    let mut w = 0.0;
    if names.is_empty() {
        return w;
    }
    if POSITIVE.is_match(&names) {
        w += 25.0;
    }
    if WEAK_JUNK.is_match(&names) {
        w -= 25.0;
    }
    if node.attr("itemprop") == Some("articleBody") {
        w += 50.0;
    }
    w
}

/// The main text's container(s), in document order.
fn find_article(doc: &Doc, stats: &Stats) -> Vec<usize> {
    let n = doc.nodes.len();
    let mut score = vec![f32::NAN; n];
    for i in 1..n {
        if stats.role[i] == Role::Junk || stats.own[i] < 25 || !is_paragraph(doc, i) {
            continue;
        }
        // A paragraph's own points: one, plus commas, plus one per 100 characters (up to 3).
        // Text inside links is not the paragraph's own prose: a "kudos" line of 4,000 linked
        // names with commas between them, a list of references, earn little.
        // Text split by `<br>` into lines is that many paragraphs, each earning its points.
        let runs = stats.runs[i].max(1) as f32;
        let points = (runs
            + stats.own_commas[i] as f32
            + runs * (stats.own[i] as f32 / runs / 100.0).min(3.0))
            * (1.0 - link_density(stats, i));
        // Text written straight into a container (`<div>text<br>text</div>`) is a paragraph of
        // that container, as if wrapped in a `<p>`: its points start there.
        let mut ancestor = match doc.nodes[i].name() {
            "div" | "section" | "article" | "main" | "td" => i,
            _ => doc.nodes[i].parent,
        };
        let mut level = 0;
        while ancestor != NONE && ancestor != 0 && level < 5 {
            if score[ancestor].is_nan() {
                score[ancestor] =
                    tag_weight(doc.nodes[ancestor].name()) + class_weight(doc, ancestor);
            }
            let divider = match level {
                0 => 1.0,
                1 => 2.0,
                l => l as f32 * 3.0,
            };
            score[ancestor] += points / divider;
            ancestor = doc.nodes[ancestor].parent;
            level += 1;
        }
    }
    let mut best = NONE;
    let mut best_score = f32::MIN;
    for (i, s) in score.iter_mut().enumerate() {
        if s.is_nan() {
            continue;
        }
        *s *= 1.0 - link_density(stats, i);
        if *s > best_score {
            best_score = *s;
            best = i;
        }
    }
    if best == NONE {
        return body_or_root(doc);
    }
    // An article split into chunks marked alike (the same tag and class) around a picture or a
    // pull quote, at different depths: the chunks' common ancestor is the article.
    best = with_twins(doc, stats, best);
    // The best candidate's parent, or an ancestor, scoring clearly higher than the last one
    // below it gained more from paragraphs of its own than the distance cost: the article's
    // opening sits beside a box holding the rest ("read more"). Readability walks up so; here
    // the gain must be a tenth and the ancestor no more links than the candidate. The best
    // score stays the candidate's, so that the alternatives below are not weighed lower.
    let mut last = best_score;
    let floor = best_score / 3.0;
    let mut up = doc.nodes[best].parent;
    while up != NONE && !matches!(doc.nodes[up].name(), "body" | "html" | "") {
        if !score[up].is_nan() {
            if score[up] < floor {
                break;
            }
            if score[up] > last * 1.1 && link_density(stats, up) <= link_density(stats, best) + 0.05
            {
                best = up;
                break;
            }
            last = score[up];
        }
        up = doc.nodes[up].parent;
    }
    // Articles split into chunks or cards: when other candidates score nearly as well and sit
    // close by, their common ancestor is the article (readability does the same).
    let alternatives: Vec<usize> = (0..n)
        .filter(|&i| {
            !score[i].is_nan()
                && i != best
                && score[i] >= 0.75 * best_score
                && !(best < i && i < doc.subtree_end(best))
                && !(i < best && best < doc.subtree_end(i))
        })
        .collect();
    if !alternatives.is_empty() {
        let mut ancestor = doc.nodes[best].parent;
        for _ in 0..3 {
            if ancestor == NONE || matches!(doc.nodes[ancestor].name(), "body" | "html" | "") {
                break;
            }
            let end = doc.subtree_end(ancestor);
            if alternatives.iter().any(|&a| ancestor < a && a < end)
                && link_density(stats, ancestor) < 0.3
            {
                best = ancestor;
                best_score = best_score.max(score[ancestor]);
                break;
            }
            ancestor = doc.nodes[ancestor].parent;
        }
    }
    // An only child carries no more than its parent: take the parent (readability does too).
    while doc.nodes[best].parent != NONE
        && doc.nodes[best].parent != 0
        && !matches!(doc.nodes[doc.nodes[best].parent].name(), "body" | "html")
        && doc
            .children(doc.nodes[best].parent)
            .filter(|&c| doc.nodes[c].is_element() || stats.text[c] > 0)
            .count()
            == 1
    {
        best = doc.nodes[best].parent;
    }
    let parent = doc.nodes[best].parent;
    if parent == NONE {
        return vec![best];
    }
    let threshold = (best_score * 0.2).max(10.0);
    // The element just before the best one: a lead or standfirst in a block of its own
    // ("<div class=lead>", a `<header>` in the `<article>`) sits there.
    let elements: Vec<usize> = doc
        .children(parent)
        .filter(|&c| doc.nodes[c].is_element())
        .collect();
    let at = elements.iter().position(|&c| c == best);
    let next_to = |c: usize| at.is_some_and(|k| k > 0 && elements[k - 1] == c);
    let mut picked = Vec::new();
    for sibling in doc.children(parent) {
        if sibling == best {
            picked.push(sibling);
            continue;
        }
        if stats.role[sibling] == Role::Junk || stats.text[sibling] == 0 {
            continue;
        }
        // A sibling marked alike (tag and class) is judged by its best block: an article in
        // chunks wraps each paragraph in a few layers of `<div>`s, and the points fade on the
        // way up.
        let alike = doc.nodes[sibling].name() == doc.nodes[best].name()
            && doc.nodes[sibling].attr("class") == doc.nodes[best].attr("class");
        let s = if alike {
            (sibling..doc.subtree_end(sibling))
                .map(|d| score[d])
                .filter(|v| !v.is_nan())
                .fold(score[sibling], f32::max)
        } else {
            score[sibling]
        };
        // A box of its own beside the article — named as boilerplate (a prose "sidebar" is let
        // through the names only as the article itself), or following it and opening with a
        // heading of a level the article does not use ("More", "About the region") — is not
        // part of it. (A box before it with a heading is a summary: "Key points".)
        // (Siblings alike without a class share no mark.)
        let marked_alike = alike && doc.nodes[sibling].attr("class").is_some();
        if !marked_alike
            && (junk_name(doc, sibling)
                || (sibling > best && own_heading(doc, stats, sibling, best)))
        {
            continue;
        }
        let density = link_density(stats, sibling);
        let len = stats.text[sibling];
        let paragraph = wraps_one_paragraph(doc, stats, sibling);
        // A sibling that is mostly links (a "kudos" line, a list of tags) does not continue
        // the article, whatever its score.
        let keep = (!s.is_nan() && s >= threshold && density < 0.5)
            || (paragraph && len > 80 && density < 0.25)
            || (paragraph && len > 0 && density == 0.0 && ends_sentence(doc, sibling))
            || (next_to(sibling) && len > 80 && density < 0.1 && ends_sentence(doc, sibling));
        if keep {
            picked.push(sibling);
        }
    }
    picked
}

/// Whether element `i` is a `<p>`, or a `<div>`/`<section>` holding nothing but one (through
/// more such wrappers): a paragraph either way. Some sites wrap each paragraph of the article's
/// opening in a `<div>` of its own ("firstPar", "secondPar") before the block holding the rest;
/// readability likewise reads a `<div>` around a single `<p>` as that `<p>`.
fn wraps_one_paragraph(doc: &Doc, stats: &Stats, mut i: usize) -> bool {
    loop {
        match doc.nodes[i].name() {
            "p" => return true,
            "div" | "section" if stats.own[i] == 0 => {
                let mut elements = doc
                    .children(i)
                    .filter(|&c| doc.nodes[c].is_element() && stats.role[c] != Role::Junk);
                match (elements.next(), elements.next()) {
                    (Some(only), None) => i = only,
                    _ => return false,
                }
            }
            _ => return false,
        }
    }
}

/// Whether the class or id of element `i` (or its tag or role) names boilerplate.
fn junk_name(doc: &Doc, i: usize) -> bool {
    let node = &doc.nodes[i];
    let mut names = String::new();
    class_id(node, &mut names);
    node.name() == "aside"
        || node.attr("role") == Some("complementary")
        || (!names.is_empty() && (STRONG_JUNK.is_match(&names) || weak_junk(&names)))
}

/// The heading (`h2`…`h6`) element `i`'s text opens with, if any.
fn opening_heading<'a>(doc: &'a Doc, stats: &Stats, i: usize) -> Option<&'a str> {
    let end = doc.subtree_end(i);
    let from = stats.text_nodes.partition_point(|&j| j < i);
    let first = stats.text_nodes[from..]
        .iter()
        .copied()
        .take_while(|&j| j < end)
        .find(|&j| stats.role[j] != Role::Junk)?;
    let mut a = doc.nodes[first].parent;
    while a != NONE && a != i {
        let name = doc.nodes[a].name();
        if matches!(name, "h2" | "h3" | "h4" | "h5" | "h6") {
            return Some(name);
        }
        a = doc.nodes[a].parent;
    }
    None
}

/// Whether `sibling` opens with a heading of a level that the article `best` holds none of:
/// a box of its own, not the article's next section.
fn own_heading(doc: &Doc, stats: &Stats, sibling: usize, best: usize) -> bool {
    let Some(h) = opening_heading(doc, stats, sibling) else {
        return false;
    };
    !(best..doc.subtree_end(best)).any(|j| doc.nodes[j].name() == h && stats.role[j] != Role::Junk)
}

/// Chunks of one article: elements of the same tag whose class starts with the same word as
/// `best`'s ("story-body story-body-1", "story-body story-body-2"), holding a paragraph or two
/// of prose with few links, within five levels of it (the depth up to which paragraphs score
/// their ancestors). Returns the lowest ancestor holding one, or `best` itself.
fn with_twins(doc: &Doc, stats: &Stats, best: usize) -> usize {
    let first_class =
        |i: usize| -> Option<&str> { doc.nodes[i].attr("class")?.split_ascii_whitespace().next() };
    let Some(class) = first_class(best) else {
        return best;
    };
    let name = doc.nodes[best].name();
    let best_end = doc.subtree_end(best);
    let mut ancestor = doc.nodes[best].parent;
    for _ in 0..5 {
        if ancestor == NONE || matches!(doc.nodes[ancestor].name(), "body" | "html" | "") {
            break;
        }
        let twin = (ancestor + 1..doc.subtree_end(ancestor)).any(|j| {
            // Neither inside `best` nor one of its ancestors.
            (j >= best_end || (j < best && doc.subtree_end(j) <= best))
                && stats.role[j] != Role::Junk
                && doc.nodes[j].name() == name
                && stats.text[j] >= PROSE_CHARS
                && link_density(stats, j) < 0.25
                && first_class(j) == Some(class)
        });
        if twin {
            return ancestor;
        }
        ancestor = doc.nodes[ancestor].parent;
    }
    best
}

fn ends_sentence(doc: &Doc, i: usize) -> bool {
    let end = doc.subtree_end(i);
    (i..end)
        .rev()
        .find_map(|j| match &doc.nodes[j].kind {
            Kind::Text(t) if !t.trim().is_empty() => {
                Some(t.trim_end().ends_with(['.', '!', '?', '…', '"', '”']))
            }
            _ => None,
        })
        .unwrap_or(false)
}

fn body_or_root(doc: &Doc) -> Vec<usize> {
    vec![doc.elements("body").next().unwrap_or(0)]
}

/// Should this element be left out of the article while writing it?
fn drop_in_article(doc: &Doc, stats: &Stats, i: usize, top: bool) -> bool {
    let node = &doc.nodes[i];
    let name = node.name();
    if stats.role[i] == Role::Junk {
        return true;
    }
    // The page's headline is not its text; further `<h1>`s inside the article are its section
    // headings (Medium writes them so).
    if name == "h1" && (i == stats.headline || top) {
        return true;
    }
    if top {
        return false;
    }
    let text = stats.text[i];
    let density = link_density(stats, i);
    match name {
        "ul" | "ol" | "dl" | "table" | "div" | "section" | "p" | "li" | "span" | "h2" | "h3"
        | "h4" | "h5" | "h6" | "blockquote" | "figure" => {
            // Link density is weighed on the list, not on its items: an item that is all link
            // ("Here is our year in review!") is one of the list's points like its neighbours.
            // Nor on a `<span>` inside a run of text: a link wrapped in a span mid-sentence.
            let part = name == "li"
                || (name == "span" && node.parent != NONE && stats.own[node.parent] > text);
            if !part && text > 0 && density > 0.5 && !(name == "p" && text > 200) {
                return true;
            }
            if matches!(name, "div" | "section" | "ul" | "table") && density > 0.33 && text < 400 {
                return true;
            }
            if text > 0 && text < 80 && is_junk_line(doc, stats, i) {
                return true;
            }
            false
        }
        _ => false,
    }
}

/// Whether the short text of element `i` is a "Go back" / "Share" / "Print" line. Only the text
/// nodes of the subtree are read (a short text has few), so a deep subtree costs no more.
fn is_junk_line(doc: &Doc, stats: &Stats, i: usize) -> bool {
    let mut s = String::new();
    let end = doc.subtree_end(i);
    let first = stats.text_nodes.partition_point(|&j| j < i);
    for &j in stats.text_nodes[first..].iter().take_while(|&&j| j < end) {
        if let Kind::Text(t) = &doc.nodes[j].kind {
            s.push_str(t);
            s.push(' ');
        }
    }
    let s = crate::text::collapse_whitespace(&s);
    JUNK_LINE.is_match(&s) || (is_pager(&s) && !in_table_cell(doc, i))
}

/// Whether element `i` is a table cell or inside one.
fn in_table_cell(doc: &Doc, mut i: usize) -> bool {
    while i != NONE {
        if matches!(doc.nodes[i].name(), "td" | "th") {
            return true;
        }
        i = doc.nodes[i].parent;
    }
    false
}

/// The article found on a page (or in the `root` subtree given by a selector).
pub struct MainText {
    /// Paragraphs separated by blank lines.
    pub text: String,
    /// The kept elements as HTML (not yet sanitized; URLs as written); empty unless asked for.
    pub html: String,
    /// The paragraphs of `text`, in order (for the summary).
    pub paragraphs: Vec<String>,
    /// The `<img>` elements kept, in order (for the lead image).
    pub images: Vec<usize>,
}

/// Finds and writes out the main text. `root`: a subtree already known to be the article;
/// `html`: write [`MainText::html`] too (only read when the page has a URL to resolve its links
/// against).
pub fn main_text(doc: &Doc, root: Option<usize>, html: bool) -> MainText {
    let stats = compute_stats(doc, true);
    let roots = match root {
        Some(r) => vec![r],
        None => find_article(doc, &stats),
    };
    let mut text = write(doc, &stats, &roots, false, html);
    // A gallery: the pictures' captions inside the article hold more text than the rest of
    // it. The captions are its text then (elsewhere they repeat what the article says).
    let written = count_text(&text.text).0;
    if caption_chars(doc, &roots) > written {
        let mut w = Writer {
            with_html: html,
            captions: true,
            ..Writer::default()
        };
        for &r in &roots {
            w.write(doc, &stats, r);
        }
        text = w.finish();
    }
    if root.is_some() {
        return text;
    }
    // The cleaning while writing must not throw the article away: when it leaves nothing, or
    // much less than the blocks found hold, write them again with only what is never content
    // left out; when even that is empty, the page's body.
    let found: u32 = roots.iter().map(|&r| stats.text[r]).sum();
    let written = count_text(&text.text).0;
    if written > 0 && written * 3 >= found {
        return text;
    }
    let lenient = write(doc, &stats, &roots, true, html);
    if count_text(&lenient.text).0 > written {
        return lenient;
    }
    if written == 0 {
        // Names can be wrong ("widget-area main-story"): search again without them.
        let blind = compute_stats(doc, false);
        let roots = find_article(doc, &blind);
        let again = write(doc, &blind, &roots, true, html);
        if count_text(&again.text).0 > 0 {
            return again;
        }
        return write(doc, &blind, &body_or_root(doc), true, html);
    }
    text
}

/// The article's text as a page's JSON-LD `articleBody` gives it: plain text with a paragraph a
/// line, or HTML. Used when the page shows much less of the article than its metadata holds.
/// Characters of the text of the `<figcaption>`s inside the `roots`.
fn caption_chars(doc: &Doc, roots: &[usize]) -> u32 {
    let mut n = 0;
    for &r in roots {
        let end = doc.subtree_end(r);
        let mut j = r;
        while j < end {
            if doc.nodes[j].name() == "figcaption" {
                n += caption_text(doc, j).map_or(0, |t| count_text(&t).0);
                j = doc.subtree_end(j);
            } else {
                j += 1;
            }
        }
    }
    n
}

/// The text of the `<figcaption>` `i` (its scripts and styles left out), or `None` if it is
/// hidden.
fn caption_text(doc: &Doc, i: usize) -> Option<String> {
    if hidden(&doc.nodes[i]) {
        return None;
    }
    let mut s = String::new();
    for j in i + 1..doc.subtree_end(i) {
        if let Kind::Text(t) = &doc.nodes[j].kind
            && !in_skipped(doc, j)
        {
            s.push_str(t);
        }
    }
    Some(s)
}

/// Entities are decoded (`&amp;`, `&nbsp;`, `&#8217;`), and HTML written escaped
/// (`&lt;p&gt;…`, as some sites put it there) is read as HTML: no tag nor entity is left in the
/// text.
pub fn from_article_body(body: &str) -> MainText {
    let decoded;
    let body = if !body.contains('<') && body.contains('&') {
        decoded = decode_entities(body);
        &decoded
    } else {
        body
    };
    if body.contains('<') {
        return main_text(&Doc::parse(body), Some(0), true);
    }
    let paragraphs: Vec<String> = body
        .lines()
        .map(crate::text::clean)
        .filter(|l| !l.is_empty())
        .collect();
    let mut html = String::new();
    for p in &paragraphs {
        html.push_str("<p>");
        html_escape(p, &mut html);
        html.push_str("</p>");
    }
    MainText {
        text: paragraphs.join("\n\n"),
        html,
        paragraphs,
        images: Vec::new(),
    }
}

/// `text` with its character references decoded, read as HTML would read them (line breaks
/// kept).
fn decode_entities(text: &str) -> String {
    let doc = Doc::parse(text);
    let mut out = String::with_capacity(text.len());
    for node in &doc.nodes {
        if let Kind::Text(t) = &node.kind {
            out.push_str(t);
        }
    }
    out
}

/// Characters of `text` (not counting spaces).
pub fn text_chars(text: &str) -> u32 {
    count_text(text).0
}

/// Writes out the `roots`; `lenient`: leave out only what is never content (no cleaning).
fn write(doc: &Doc, stats: &Stats, roots: &[usize], lenient: bool, html: bool) -> MainText {
    let mut w = Writer {
        lenient,
        with_html: html,
        ..Writer::default()
    };
    for &r in roots {
        w.write(doc, stats, r);
    }
    w.finish()
}

#[derive(Default)]
struct Writer {
    lenient: bool,
    /// Whether `html` is written.
    with_html: bool,
    paragraphs: Vec<String>,
    current: String,
    html: String,
    images: Vec<usize>,
    /// Whether `<figcaption>`s are written (a gallery's text), as paragraphs.
    captions: bool,
    /// Kept elements of `html` open now.
    depth: usize,
    /// Where the current run of text began: the length of `html` and `images`, and `depth`,
    /// then. A run that is a boilerplate line is cut back to there.
    mark: (usize, usize, usize),
    /// The block elements open now, innermost last.
    blocks: Vec<usize>,
    /// Tables open now: in a table neither a repeated line nor a pager's shape is left out.
    tables: usize,
    /// Whether the current run began at a `<br>`.
    after_br: bool,
    /// Whether the run being flushed ends at a `<br>`.
    before_br: bool,
    /// The block holding the last paragraph written, when that paragraph may be a gallery's
    /// slide title (see [`Writer::slide_block`]).
    last_slide: Option<usize>,
}

const KEEP_HTML: &[&str] = &[
    "p",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "code",
    "a",
    "img",
    "figure",
    "em",
    "strong",
    "b",
    "i",
    "br",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
    "dl",
    "dt",
    "dd",
    "sub",
    "sup",
];

impl Writer {
    /// Ends the current run of text (at a block or a `<br>`): a paragraph, unless it is a
    /// boilerplate line ("Go back Twitter Facebook Print", "Версия для печати") of bare links or
    /// text, which is left out of the text and, when its tags close within it, of the HTML.
    fn flush(&mut self, doc: &Doc) {
        let p = crate::text::clean(&self.current);
        if !p.is_empty() {
            let short = count_text(&p).0 <= JUNK_LINE_CHARS;
            let slide = self.slide_block(doc);
            // A short title said again at once, from a slide of its own: a gallery's slide
            // title, once a slide (not a number; not a sentence).
            let again = match (slide, self.last_slide) {
                (Some(b), Some(last)) => {
                    b != last
                        && !(doc.nodes[b].parent == doc.nodes[last].parent
                            && doc.nodes[b].name() == "p")
                        && self.paragraphs.last() == Some(&p)
                        && p.chars().any(char::is_alphabetic)
                        && !p.ends_with(['.', '!', '?', '…', '"', '”', '。', '！', '？'])
                }
                _ => false,
            };
            let pager = self.tables == 0 && is_pager(&p);
            let junk = JUNK_LINE.is_match(&p) || pager || again;
            if !self.lenient && short && junk {
                let (html, images, depth) = self.mark;
                if depth == self.depth {
                    self.html.truncate(html);
                    self.images.truncate(images);
                }
            } else {
                self.paragraphs.push(p);
                self.last_slide = slide;
            }
        }
        self.current.clear();
    }

    /// The block holding the current run when the run may be a gallery's slide title: not in
    /// a table, not a list item's, not a line of `<br>`-separated lines (verses repeat).
    fn slide_block(&self, doc: &Doc) -> Option<usize> {
        let b = *self.blocks.last()?;
        let plain = self.tables == 0
            && !self.after_br
            && !self.before_br
            && !matches!(doc.nodes[b].name(), "li" | "dt" | "dd" | "td" | "th");
        plain.then_some(b)
    }

    /// A run of text begins here.
    fn set_mark(&mut self) {
        self.mark = (self.html.len(), self.images.len(), self.depth);
        self.after_br = false;
    }

    fn write(&mut self, doc: &Doc, stats: &Stats, root: usize) {
        self.set_mark();
        // Iterative walk: (node, entering?).
        let mut stack = vec![(root, true)];
        while let Some((i, entering)) = stack.pop() {
            let node = &doc.nodes[i];
            match &node.kind {
                Kind::Text(t) => {
                    if entering {
                        self.current.push_str(t);
                        if self.with_html {
                            html_escape(t, &mut self.html);
                        }
                    }
                }
                Kind::Element { name, .. } => {
                    let name: &str = name;
                    if entering {
                        if self.captions && name == "figcaption" {
                            self.flush(doc);
                            if let Some(t) = caption_text(doc, i) {
                                self.current.push_str(&t);
                                if self.with_html {
                                    self.html.push_str("<p>");
                                    html_escape(&t, &mut self.html);
                                    self.html.push_str("</p>");
                                }
                            }
                            self.flush(doc);
                            self.set_mark();
                            continue;
                        }
                        if drop_in_article(doc, stats, i, self.lenient || i == root) {
                            continue;
                        }
                        if is_block(name) {
                            self.before_br = name == "br";
                            self.flush(doc);
                            self.before_br = false;
                        }
                        if name == "br" {
                            if self.with_html {
                                self.html.push_str("<br>");
                            }
                            self.set_mark();
                            self.after_br = true;
                            continue;
                        }
                        if name == "table" {
                            self.tables += 1;
                        }
                        if self.with_html && KEEP_HTML.contains(&name) {
                            open_tag(node, name, &mut self.html);
                            if name != "img" {
                                self.depth += 1;
                            }
                        }
                        if name == "img" {
                            self.images.push(i);
                        }
                        if is_block(name) {
                            self.set_mark();
                            self.blocks.push(i);
                        }
                        stack.push((i, false));
                        push_children(&mut stack, doc, i);
                    } else {
                        if is_block(name) {
                            self.flush(doc);
                            self.blocks.pop();
                        }
                        if name == "table" {
                            self.tables = self.tables.saturating_sub(1);
                        }
                        if self.with_html && KEEP_HTML.contains(&name) && name != "img" {
                            self.html.push_str("</");
                            self.html.push_str(name);
                            self.html.push('>');
                            self.depth = self.depth.saturating_sub(1);
                        }
                        if is_block(name) {
                            self.set_mark();
                        }
                    }
                }
                Kind::Document => {
                    if entering {
                        push_children(&mut stack, doc, i);
                    }
                }
            }
        }
        self.flush(doc);
    }

    fn finish(self) -> MainText {
        MainText {
            text: self.paragraphs.join("\n\n"),
            html: self.html,
            paragraphs: self.paragraphs,
            images: self.images,
        }
    }
}

/// Pushes the children of `i` on the walk's stack, the first on top.
fn push_children(stack: &mut Vec<(usize, bool)>, doc: &Doc, i: usize) {
    let from = stack.len();
    stack.extend(doc.children(i).map(|c| (c, true)));
    stack[from..].reverse();
}

fn open_tag(node: &super::dom::Node, name: &str, out: &mut String) {
    out.push('<');
    out.push_str(name);
    let attrs: &[&str] = match name {
        "a" => &["href"],
        "img" => &["src", "alt"],
        _ => &[],
    };
    for &a in attrs {
        let value = if a == "src" {
            super::meta::image_src(node)
        } else {
            node.attr(a)
        };
        if let Some(v) = value {
            out.push(' ');
            out.push_str(a);
            out.push_str("=\"");
            html_escape(v, out);
            out.push('"');
        }
    }
    out.push('>');
}

fn html_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            // Control characters are illegal in XML feeds (issue 5, "Sanitizing").
            c if c.is_control() && !matches!(c, '\n' | '\t') => {}
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sentence ends as the character-by-character reading counted them (issue 21 reads bytes).
    #[test]
    fn sentence_ends() {
        for (text, stops) in [
            ("One. Two! Three? Four.", 4),
            ("3.14 e.g.x a.\u{a0}b a.\u{2003}b", 2),
            ("Ends here.", 1),
            ("句子。句子！句子？", 3),
            ("？。！... !", 5),
            ("", 0),
        ] {
            assert_eq!(count_stops(text), stops, "{text}");
        }
    }
}

#[cfg(test)]
mod thread_tests {
    use super::*;

    fn body(html: &str) -> String {
        main_text(&Doc::parse(html), None, false).text
    }

    fn sentence(word: &str) -> String {
        format!(
            "<p>The {word} council met on Tuesday and agreed to repair the old bridge before the winter comes to the valley.</p>"
        )
    }

    /// A date or an address inside a sentence is part of it; standing alone, it is left out.
    #[test]
    fn time_and_address_inside_a_sentence_are_kept() {
        let text: String = (0..3).map(|_| sentence("district")).collect();
        let html = format!(
            "<html><body><article><h1>M</h1><p><time>3 November 2026</time></p>{text}\
             <p>The meeting on <time>Tuesday 3 November</time> agreed the plan, the mayor said at \
             <address>City Hall, Main Street</address> after the vote.</p></article></body></html>"
        );
        let text = body(&html);
        assert!(text.contains("on Tuesday 3 November agreed"), "{text}");
        assert!(text.contains("City Hall, Main Street"), "{text}");
        assert!(!text.contains("3 November 2026"), "{text}");
    }

    /// A standfirst in the article's `<header>`, or in its own block just before the body, is
    /// the article's lead.
    #[test]
    fn a_lead_before_the_body_is_kept() {
        let text: String = (0..5).map(|_| sentence("district")).collect();
        for lead in [
            "<header><h1>Rail</h1><p class=\"standfirst\">The long rail strike ended on Monday \
             when the union and the operator signed a new pay deal after talks.</p></header>",
            "<h1>Rail</h1><div class=\"lead\">The long rail strike ended on Monday when the \
             union and the operator signed a new pay deal after talks.</div>",
        ] {
            let html = format!(
                "<html><body><article>{lead}<div class=\"body\">{text}</div></article>\
                 <div class=\"sidebar\"><a href=\"/x\">Most read story of the day</a></div></body></html>"
            );
            let out = body(&html);
            assert!(out.contains("rail strike ended"), "{out}");
            assert!(out.contains("district council"), "{out}");
        }
    }

    /// An article in chunks marked alike, each paragraph wrapped in layers of `<div>`s, keeps
    /// every chunk.
    #[test]
    fn chunks_marked_alike_are_all_kept() {
        let chunks: String = (0..6)
            .map(|i| {
                format!(
                    "<div class=\"t-rec\"><div class=\"t-container\"><div class=\"t-col\">\
                     <div class=\"t-text\">Chunk {i}: the museum reopened on Saturday, \
                     and the town came to see the new hall, its lights, and its old maps.</div>\
                     </div></div></div>"
                )
            })
            .collect();
        let html = format!(
            "<html><body><div class=\"t-records\"><div class=\"t-rec\"><h1>Museum</h1></div>{chunks}\
             </div><div class=\"t-rec foot\"><a href=\"/a\">Contacts</a></div></body></html>"
        );
        let out = body(&html);
        for i in 0..6 {
            assert!(out.contains(&format!("Chunk {i}:")), "{out}");
        }
    }

    /// A "commentary" column is an opinion article, not a comment thread.
    #[test]
    fn a_commentary_column_is_the_article() {
        let text: String = (0..4).map(|_| sentence("district")).collect();
        let items: String = (0..8)
            .map(|_| format!("<li class=\"comment\">{}</li>", sentence("reader")))
            .collect();
        let html = format!(
            "<html><body><div class=\"commentary\"><h1>Why</h1>{text}</div>\
             <ol class=\"comment-list\">{items}</ol></body></html>"
        );
        let text = body(&html);
        assert!(text.contains("district council"), "{text}");
        assert!(!text.contains("reader council"), "{text}");
    }

    /// A long comment thread of repeated items is left out even when it holds most of the page.
    #[test]
    fn a_long_thread_is_not_the_article() {
        let article = sentence("town");
        let items: String = (0..12)
            .map(|i| {
                format!(
                    "<div class=\"c-item\"><div class=\"c-user\">user{i}</div>{}</div>",
                    sentence("reader")
                )
            })
            .collect();
        let html = format!(
            "<html><body><div class=\"article\"><h1>T</h1>{article}{article}</div>\
             <div id=\"comments\">{items}</div></body></html>"
        );
        let text = body(&html);
        assert!(text.contains("town council"), "{text}");
        assert!(!text.contains("reader council"), "{text}");
    }

    /// A forum's first post, named as a comment, is still the article when it holds the page.
    #[test]
    fn a_single_comment_named_post_holding_the_page_is_kept() {
        let post: String = (0..6).map(|_| sentence("forum")).collect();
        let html = format!(
            "<html><body><h1>Q</h1><div class=\"commentText\">{post}</div>\
             <div class=\"commentText\">{}</div></body></html>",
            sentence("reply")
        );
        assert!(body(&html).contains("forum council"), "{}", body(&html));
    }

    /// When the names throw everything away ("widget"), the article is searched again without
    /// them, still leaving the comment thread out.
    #[test]
    fn names_that_leave_nothing_are_ignored_but_threads_still_go() {
        let post: String = (0..3)
            .map(|_| "<p>รัฐบาลประกาศแผนพัฒนาระบบขนส่งสาธารณะในกรุงเทพมหานครและปริมณฑลเพื่อลดปัญหา</p>")
            .collect();
        let items: String = (0..10)
            .map(|_| {
                format!(
                    "<li class=\"comment\"><div class=\"comment-content\">{}</div></li>",
                    sentence("reader")
                )
            })
            .collect();
        let html = format!(
            "<html><body><div class=\"post-content widget-text\">{post}</div>\
             <div id=\"comments\" class=\"comments-area\"><h2>10 thoughts</h2><ol class=\"comment-list\">{items}</ol></div></body></html>"
        );
        let text = body(&html);
        assert!(text.contains("รัฐบาล"), "{text}");
        assert!(!text.contains("reader council"), "{text}");
    }
}

#[cfg(test)]
mod shape_tests {
    use super::*;

    fn body(html: &str) -> String {
        main_text(&Doc::parse(html), None, false).text
    }

    fn sentence(word: &str) -> String {
        format!(
            "<p>The {word} council met on Tuesday and agreed to repair the old bridge before the winter comes to the valley.</p>"
        )
    }

    /// A comment thread is told by its shape whatever its name: repeated items, each with a
    /// writer, a date and a "Reply" link (in any language), or opening with "X wrote on DATE:".
    #[test]
    fn a_thread_is_told_by_its_shape() {
        let article: String = (0..3).map(|_| sentence("town")).collect();
        let items = |reply: &str| -> String {
            (0..5)
                .map(|i| {
                    format!(
                        "<div class=\"post\"><div class=\"who\"><a href=\"/u{i}\">user{i}</a> \
                         <time datetime=\"2026-11-0{i}\">Nov {i}</time></div>{}{}\
                         <a href=\"#\">{reply}</a></div>",
                        sentence("reader"),
                        sentence("reader")
                    )
                })
                .collect()
        };
        for (name, reply) in [
            ("discussion", "Reply"),
            ("kommentarii", "Ответить"),
            ("pikirler", "Жауап беру"),
        ] {
            let html = format!(
                "<html><body><main><article><h1>T</h1>{article}</article>\
                 <section id=\"{name}\">{}</section></main></body></html>",
                items(reply)
            );
            let text = body(&html);
            assert!(text.contains("town council"), "{name}: {text}");
            assert!(!text.contains("reader council"), "{name}: {text}");
        }
        let wrote: String = (0..4)
            .map(|i| {
                format!(
                    "<div class=\"msg\"><b>user{i}</b> wrote on 0{i}.11.2026:<br>The reader \
                     council met on Tuesday and agreed to repair the old bridge before the \
                     winter comes to the valley, and more besides that.</div>"
                )
            })
            .collect();
        let html = format!(
            "<html><body><div class=\"text\"><h1>T</h1>{article}<div class=\"thread\">{wrote}</div>\
             </div></body></html>"
        );
        let text = body(&html);
        assert!(text.contains("town council"), "{text}");
        assert!(!text.contains("reader council"), "{text}");
    }

    /// Repeated items with a time and a writer but no "Reply" (a live blog's entries) are the
    /// article; so are a forum's posts with "Reply" links, the first of which opens the page.
    #[test]
    fn entries_without_replies_and_forum_posts_are_kept() {
        let entries: String = (0..5)
            .map(|i| {
                format!(
                    "<article class=\"entry\"><header><time>2{i}:00</time><span>By Staff</span>\
                     </header>{}</article>",
                    sentence(&format!("live{i}"))
                )
            })
            .collect();
        let text = body(&format!(
            "<html><body><main><h1>Live</h1><div class=\"feed\">{entries}</div></main></body></html>"
        ));
        assert!(
            text.contains("live0 council") && text.contains("live4 council"),
            "{text}"
        );
        let posts: String = (0..4)
            .map(|i| {
                format!(
                    "<div class=\"post\"><a href=\"/u{i}\">user{i}</a>{}{}<a href=\"#r\">Reply</a></div>",
                    sentence(&format!("forum{i}")),
                    sentence("more")
                )
            })
            .collect();
        let text = body(&format!(
            "<html><body><h1>Question</h1><div class=\"topic\">{posts}</div></body></html>"
        ));
        assert!(text.contains("forum0 council"), "{text}");
    }

    /// Lines of bare links or text between blocks or `<br>`s that are back / print / share /
    /// subscribe / read-also boilerplate are left out, in English, Russian and Kazakh, also when
    /// a selector gives the article; lines that only begin with such a word are kept.
    #[test]
    fn boilerplate_lines_of_bare_links_are_left_out() {
        let article: String = (0..3).map(|_| sentence("town")).collect();
        let lines = [
            "<a href=\"/en/events\">Go back</a> <a href=\"https://twitter.com/x\">Twitter</a> \
             <a href=\"https://facebook.com/x\">Facebook</a> <a href=\"javascript:print()\">Print</a>",
            "<a href=\"/ru\">Назад</a>",
            "<a href=\"/ru/news\">Возврат к списку</a>",
            "<a href=\"/ru/news\">Вернуться к списку новостей</a>",
            "<a href=\"?print=y\">Версия для печати</a>",
            "Бөлісу: <a href=\"#\">Facebook</a> | <a href=\"#\">Telegram</a>",
            "<a href=\"/kz/news\">Жаңалықтар тізіміне оралу</a>",
            "Подписывайтесь на наш канал в <a href=\"https://t.me/x\">Telegram</a>",
            "<a href=\"#\">Share this article</a>",
            "<a href=\"#\">Share on Facebook</a>",
            "<a href=\"/news\">← Back to news</a>",
            "<a href=\"#\">Print this page</a>",
            "Читайте также: <a href=\"/a\">Тарифы вырастут</a>",
            "Фото: пресс-служба акимата",
        ];
        for line in lines {
            let html = format!(
                "<html><body><div class=\"content-text\"><h1>T</h1>{article}{line}<br>\
                 Back to school: the ministry opened new classes.<br>Share prices rose on Monday.\
                 </div></body></html>"
            );
            let doc = Doc::parse(&html);
            let root = doc.elements("div").next().unwrap_or(0);
            for (how, out) in [
                ("found", main_text(&doc, None, true)),
                ("selector", main_text(&doc, Some(root), true)),
            ] {
                assert!(
                    out.text.contains("town council"),
                    "{how} {line}: {}",
                    out.text
                );
                assert!(
                    out.text.contains("Back to school: the ministry"),
                    "{how}: {}",
                    out.text
                );
                assert!(
                    out.text.contains("Share prices rose"),
                    "{how}: {}",
                    out.text
                );
                assert_eq!(out.paragraphs.len(), 5, "{how} {line}: {}", out.text);
                assert!(
                    !out.html.contains("href=\"#\""),
                    "{how} {line}: {}",
                    out.html
                );
                assert!(!out.html.contains("/news\""), "{how} {line}: {}", out.html);
            }
        }
    }

    /// A prose box beside the article — named "sidebar", or opening with a heading of its own —
    /// is not appended to it; the article's next section (a heading of a level it uses) is kept.
    #[test]
    fn a_prose_box_beside_the_article_is_left_out() {
        let article: String = (0..4).map(|_| sentence("town")).collect();
        let side: String = (0..3)
            .map(|_| {
                "<p>The region lies in the north of the country and is home to many farms, lakes \
                 and forests, and its towns hold fairs every weekend.</p>"
            })
            .collect();
        for (open, close) in [
            ("<div class=\"side\"><h3>More</h3>", "</div>"),
            ("<div id=\"sidebar\"><div class=\"block\">", "</div></div>"),
        ] {
            let html = format!(
                "<html><body><div class=\"main\"><h1>T</h1><div class=\"txt\">{article}</div></div>\
                 {open}{side}{close}</body></html>"
            );
            let text = body(&html);
            assert!(text.contains("town council"), "{open}: {text}");
            assert!(!text.contains("region lies"), "{open}: {text}");
        }
        let html = format!(
            "<html><body><div class=\"part-one\"><h2>One</h2>{article}</div>\
             <div class=\"part-two\"><h2>Two</h2>{}{}{}</div></body></html>",
            sentence("valley"),
            sentence("valley"),
            sentence("valley")
        );
        let text = body(&html);
        assert!(text.contains("town council"), "{text}");
        assert!(text.contains("valley council"), "{text}");
    }

    /// An `<address>` block in the article (a press release's contacts) is kept; one in the
    /// page's footer is not.
    #[test]
    fn contacts_in_an_address_are_kept() {
        let article: String = (0..4).map(|_| sentence("town")).collect();
        let html = format!(
            "<html><body><article><h1>T</h1>{article}<address>Press office of the ministry<br>\
             Tel.: +7 (7172) 74-00-00<br>press@example.kz</address></article>\
             <footer><address>1 Main Street, Example City</address></footer></body></html>"
        );
        let text = body(&html);
        assert!(text.contains("Press office of the ministry"), "{text}");
        assert!(text.contains("press@example.kz"), "{text}");
        assert!(!text.contains("Main Street"), "{text}");
    }

    /// JSON-LD `articleBody` text keeps no entity nor tag: entities are decoded, and HTML
    /// written escaped is read as HTML.
    #[test]
    fn article_body_entities_and_escaped_tags_are_decoded() {
        let out = from_article_body(
            "&lt;p&gt;Rock &amp;amp; roll came to the town hall.&lt;/p&gt;&lt;p&gt;The second \
             paragraph.&lt;/p&gt;",
        );
        assert_eq!(
            out.paragraphs,
            [
                "Rock & roll came to the town hall.",
                "The second paragraph."
            ],
            "{}",
            out.text
        );
        let out = from_article_body("Tom&#8217;s caf&eacute; &amp; bar\nA&nbsp;second line");
        assert_eq!(
            out.paragraphs,
            ["Tom\u{2019}s caf\u{e9} & bar", "A second line"],
            "{}",
            out.text
        );
    }

    /// A gallery — captions holding more text than the rest of the article — keeps its
    /// captions; an article with a captioned picture does not.
    #[test]
    fn a_gallery_keeps_its_captions() {
        let figures: String = (0..4)
            .map(|i| {
                format!(
                    "<figure><img src=\"/g/{i}.jpg\"><figcaption>Picture {i}: water reached the \
                     first floor of houses in the old town on Monday morning.</figcaption></figure>"
                )
            })
            .collect();
        let html = format!(
            "<html><body><article><h1>Floods in pictures</h1>{}{figures}</article></body></html>",
            sentence("town")
        );
        let text = body(&html);
        assert!(text.contains("town council"), "{text}");
        assert!(
            text.contains("Picture 0: water") && text.contains("Picture 3"),
            "{text}"
        );
        let article: String = (0..6).map(|_| sentence("town")).collect();
        let html = format!(
            "<html><body><article><h1>T</h1>{article}<figure><img src=\"/a.jpg\">\
             <figcaption>Picture: the old bridge.</figcaption></figure></article></body></html>"
        );
        assert!(!body(&html).contains("Picture"), "{}", body(&html));
    }

    /// The folded rest of an article (hidden by its style, a "Read more" control after it) is
    /// its text; hidden text without such a control is not.
    #[test]
    fn the_folded_rest_of_an_article_is_kept() {
        let shown = sentence("town");
        let rest = format!("{}{}", sentence("folded"), sentence("folded"));
        for (toggle, kept) in [
            ("<a href=\"#\" class=\"show-more\">Read more</a>", true),
            ("<button>Читать полностью</button>", true),
            ("<a href=\"/about\">About us</a>", false),
        ] {
            let html = format!(
                "<html><body><article><h1>T</h1><div class=\"text\">{shown}{shown}\
                 <div class=\"more\" style=\"display: none\">{rest}</div>{toggle}</div>\
                 </article></body></html>"
            );
            let text = body(&html);
            assert!(text.contains("town council"), "{text}");
            assert_eq!(text.contains("folded council"), kept, "{toggle}: {text}");
            assert!(!text.contains("Read more"), "{text}");
        }
    }

    /// Paragraphs wrapped one per `<div>` before (or after) the block holding the rest of the
    /// article are its paragraphs, each of them, not only the one next to the block.
    #[test]
    fn paragraphs_wrapped_one_per_div_are_kept() {
        let body_text: String = (0..8).map(|_| sentence("town")).collect();
        let wrapped: String = ["first", "second", "third", "fourth", "fifth"]
            .iter()
            .map(|w| format!("<div class=\"{w}Par\"><p>The {w} opening line tells what happened there on the day.</p></div>"))
            .collect();
        let html = format!(
            "<html><body><div class=\"story\"><h1>T</h1><div id=\"main\">{wrapped}\
             <div class=\"related-links\"><ul><li><a href=\"/a\">Another story</a></li></ul></div>\
             <div class=\"body\">{body_text}</div></div></div></body></html>"
        );
        let text = body(&html);
        for w in ["first", "second", "third", "fourth", "fifth"] {
            assert!(text.contains(&format!("The {w} opening")), "{w}: {text}");
        }
        assert!(text.contains("town council"), "{text}");
        assert!(!text.contains("Another story"), "{text}");
    }

    /// Boilerplate lines in other languages than English and Russian are left out: ad labels,
    /// share controls, "read also" teasers, the editor's name, "press Ctrl+Enter" (whole short
    /// lines only: a sentence holding such a word is kept).
    #[test]
    fn boilerplate_lines_in_other_languages_are_left_out() {
        let article: String = (0..4).map(|_| sentence("town")).collect();
        for line in [
            "Anzeige",
            "Lesen Sie auch: Der neue Bahnhof",
            "Publicité",
            "Lire aussi",
            "Leer más",
            "Reklama",
            "関連記事",
            "相关阅读",
            "【纠错】 【责任编辑:张樵苏 】",
            "阅读下一篇：",
            "Iezīmējiet tekstu un spiediet Ctrl+Enter, lai nosūtītu labojamo teksta fragmentu!",
        ] {
            let html = format!(
                "<html><body><article><h1>T</h1>{article}<p>{line}</p>{article}</article></body></html>"
            );
            let text = body(&html);
            assert!(text.contains("town council"), "{text}");
            assert!(!text.contains(line), "{line}: {text}");
        }
        for line in [
            "Found a typo? Select it and press Ctrl+Enter",
            "Нашли опечатку? Выделите текст и нажмите Ctrl + Enter",
        ] {
            let html = format!(
                "<html><body><article><h1>T</h1>{article}<p>{line}</p>{article}</article></body></html>"
            );
            assert!(!body(&html).contains(line), "{line}: {}", body(&html));
        }
        // Ctrl+Enter without an error report's word is a tutorial's step.
        let steps = "<ol><li>Open the notebook.</li><li>Type the query in the cell.</li>\
                     <li>Press Ctrl+Enter to run the cell.</li></ol>";
        let html = format!(
            "<html><body><article><h1>T</h1>{article}{steps}{article}</article></body></html>"
        );
        assert!(
            body(&html).contains("Press Ctrl+Enter to run"),
            "{}",
            body(&html)
        );
        let kept = "<p>Die Anzeige wurde am Montag bei der Polizei erstattet.</p>";
        let html =
            format!("<html><body><article><h1>T</h1>{article}{kept}</article></body></html>");
        assert!(body(&html).contains("Die Anzeige wurde"), "{}", body(&html));
    }

    /// Class words that merely hold a boilerplate word (a "shareholder" holds "share", a
    /// "footnote" "foot", a "subheader" "header") do not make an element boilerplate; the
    /// compounds that are boilerplate ("sharebar", "newfooter") still do.
    #[test]
    fn class_words_holding_a_junk_word_are_not_junk() {
        let article: String = (0..6).map(|_| sentence("town")).collect();
        let box_of = |class: &str| {
            format!(
                "<div class=\"{class}\"><p>Shareholders approved the plan by a wide margin at the \
                 annual meeting in March.</p></div>"
            )
        };
        for (class, kept) in [
            ("shareholder-notes", true),
            ("footnotes", true),
            ("tooltip-host", true),
            ("infobox", true),
            ("subheader", true),
            ("sharebar", false),
            ("newfooter", false),
        ] {
            let html = format!(
                "<html><body><article><h1>T</h1>{article}{}</article></body></html>",
                box_of(class)
            );
            let text = body(&html);
            assert!(text.contains("town council"), "{text}");
            assert_eq!(
                text.contains("Shareholders approved"),
                kept,
                "{class}: {text}"
            );
        }
    }

    /// A theme's prefix ("post-", "entry-", "article-", "story_") on a junk word names whose
    /// box it is, not the article: "post-author", "article-tools" are left out; a name whose
    /// article word is not only the prefix ("story-body-supplemental") is the article.
    #[test]
    fn a_themes_prefix_does_not_make_a_junk_name_the_article() {
        let article: String = (0..6).map(|_| sentence("town")).collect();
        for (class, kept) in [
            ("post-author", false),
            ("entry-author", false),
            ("article-info", false),
            ("post-info", false),
            ("article-tools", false),
            ("story_tools", false),
            ("story-body-supplemental", true),
            ("author-content", true),
        ] {
            let html = format!(
                "<html><body><article><h1>T</h1>{article}<div class=\"{class}\"><p>Jane Doe \
                 covers politics and the economy for the paper.</p></div></article></body></html>"
            );
            let text = body(&html);
            assert!(text.contains("town council"), "{text}");
            assert_eq!(text.contains("Jane Doe"), kept, "{class}: {text}");
        }
    }

    /// A gallery's controls are no text: a slide title said again for each slide is written
    /// once, a pager of numbers and arrows not at all; numbers repeated in a table stay.
    #[test]
    fn gallery_titles_and_pagers_are_left_out() {
        let article: String = ["town", "city", "county", "district"]
            .iter()
            .map(|w| sentence(w))
            .collect();
        let slides: String = (0..6)
            .map(|_| "<div class=\"slide\"><p>Weather threatens holiday plans</p></div>")
            .collect();
        let pager = "<div class=\"nav-links\"><a href=\"#\">&lt;&lt;</a> <a href=\"#\">&lt;</a> \
                     <a href=\"#\">1</a> <a href=\"#\">2</a> <span>3</span> <a href=\"#\">&gt;</a> \
                     <a href=\"#\">&gt;&gt;</a></div>";
        let table = "<table><tr><td>6</td></tr><tr><td>6</td></tr></table>";
        let html = format!(
            "<html><body><article><h1>T</h1>{slides}{pager}{article}{table}</article></body></html>"
        );
        let text = body(&html);
        assert!(text.contains("town council"), "{text}");
        assert_eq!(text.matches("Weather threatens").count(), 1, "{text}");
        assert!(!text.contains('<') && !text.contains('>'), "{text}");
        assert_eq!(text.matches("\n6").count(), 2, "{text}");
    }

    /// A paragraph named as a picture's caption or credit is left out, however long; other
    /// paragraph names do not count.
    #[test]
    fn a_caption_paragraph_is_left_out() {
        let article: String = (0..4).map(|_| sentence("town")).collect();
        let html = format!(
            "<html><body><article><h1>T</h1><img src=\"/a.jpg\"><p class=\"caption\">Residents \
             gather by the old bridge on Tuesday, as the council meets to decide its fate.</p>\
             <p class=\"photo-credit\">Jane Doe for the Daily Example</p>\
             <p class=\"lead\">The lead paragraph says what the council did, and why it matters.</p>\
             {article}</article></body></html>"
        );
        let text = body(&html);
        assert!(text.contains("town council"), "{text}");
        assert!(text.contains("The lead paragraph"), "{text}");
        assert!(!text.contains("Residents gather"), "{text}");
        assert!(!text.contains("Jane Doe"), "{text}");
    }

    /// Table cells and `<br>` lines are no gallery controls: a row's equal cells, a
    /// comparison ("> 65") in a cell and a verse said three times all stay.
    #[test]
    fn table_cells_and_verses_are_not_slide_titles_or_pagers() {
        let article: String = ["town", "city", "county", "district"]
            .iter()
            .map(|w| sentence(w))
            .collect();
        let table = "<table><tr><th>Quarter</th><th>Plan</th><th>Actual</th></tr>\
                     <tr><td>Q1</td><td>N/A</td><td>N/A</td></tr>\
                     <tr><td>Q2</td><td>Yes</td><td>Yes</td></tr>\
                     <tr><td>Age</td><td>&gt; 65</td><td>&lt; 18</td></tr></table>";
        let lyrics = "<p>Let it be<br>Let it be<br>Let it be</p>";
        let html = format!(
            "<html><body><article><h1>T</h1>{article}{table}{lyrics}{article}</article></body></html>"
        );
        let text = body(&html);
        assert_eq!(text.matches("N/A").count(), 2, "{text}");
        assert_eq!(text.matches("Yes").count(), 2, "{text}");
        assert!(text.contains("> 65") && text.contains("< 18"), "{text}");
        assert_eq!(text.matches("Let it be").count(), 3, "{text}");
        let html = main_text(&Doc::parse(&html), None, true).html;
        assert_eq!(html.matches("<td>N/A</td>").count(), 2, "{html}");
        assert!(html.contains("<td>&gt; 65</td>"), "{html}");
    }
}
