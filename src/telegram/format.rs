//! The Telegram post for one release (SPEC "The Telegram post"): a bold title, the lead cut at a
//! sentence boundary so that the whole post fits Telegram's limits, the date and a hashtag of the
//! source, and an inline keyboard of URL buttons ("Read", then the channel's share targets).
//!
//! Everything here is pure: `deliver` sends what [`format_post`] returns, `herald preview` prints
//! it with [`preview`], and [`plain_text`] is the fallback when Telegram refuses our markup.
//!
//! Layout of a post (`parse_mode` HTML):
//!
//! ```text
//! <b>Title</b>
//!
//! Summary, cut after a sentence.
//!
//! 21 March 2026 · #akorda_en
//! ```
//!
//! Text from the source is cleaned (control characters dropped, runs of spaces collapsed) and cut
//! as plain text first, then escaped: a cut can never land inside an entity or a tag, and the only
//! markup in a post is the one `<b>` around the title.

use crate::config::{Channel, ShareTarget, Source};
use crate::dates::format_day;
use crate::markup::{CAPTION_LIMIT, MESSAGE_LIMIT, check_markup, decode, escape, utf16_len};
use crate::model::{Item, Translation};
use crate::template::{Fields, PostTemplate};
use crate::text::{Keep, is_no_break_space};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use scraper::{Html, Node};
use unicode_segmentation::UnicodeSegmentation;
use url::Url;

/// The title as the `text` of the x and telegram share links, in UTF-16 units: long enough for
/// any real headline, short enough that the button URL stays reasonable.
const SHARE_TEXT_LIMIT: usize = 200;

/// A lead taken from the body gathers paragraphs until it holds this many characters, so that a
/// one-line first paragraph (a dateline, say) is not all there is.
const LEAD_MIN_CHARS: usize = 280;

/// Between the title, the summary and the date line.
const BLOCK_SEPARATOR: &str = "\n\n";

/// Marks a cut that is not at a sentence end (one UTF-16 unit).
const ELLIPSIS: char = '…';

/// Which Bot API method a post uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    SendPhoto,
    SendMessage,
}

impl Method {
    /// The Bot API method name: `"sendPhoto"` or `"sendMessage"`.
    pub fn name(self) -> &'static str {
        match self {
            Method::SendPhoto => "sendPhoto",
            Method::SendMessage => "sendMessage",
        }
    }

    /// The most UTF-16 code units, after entity parsing, that the caption or text may hold.
    pub fn limit(self) -> usize {
        match self {
            Method::SendPhoto => CAPTION_LIMIT,
            Method::SendMessage => MESSAGE_LIMIT,
        }
    }
}

/// An inline keyboard button that opens a URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub url: String,
}

/// One post, ready to send (parse_mode HTML).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Post {
    pub method: Method,
    /// The caption (SendPhoto) or the text (SendMessage), Telegram HTML.
    pub html: String,
    /// Photo URL for SendPhoto.
    pub photo: Option<String>,
    /// The page shown as link preview for SendMessage (the item's link).
    pub preview_url: Option<String>,
    /// "Read", then one button per configured share target, in the configured order. Empty when
    /// the item's link is not an absolute http(s) URL, which Telegram would refuse in a button.
    pub buttons: Vec<Button>,
    /// One button per translation of the release ("Русский", "Қазақша"), on a row of their own
    /// under the others; empty unless the source is in a `[[translations]]` group.
    pub languages: Vec<Button>,
}

impl Post {
    /// The buttons as inline keyboard rows: "Read" alone on the first row, the share buttons
    /// below it, three to a row so that labels stay legible on a phone.
    pub fn keyboard(&self) -> Vec<&[Button]> {
        let mut rows: Vec<&[Button]> = match self.buttons.split_first() {
            None => Vec::new(),
            Some((read, share)) => std::iter::once(std::slice::from_ref(read))
                .chain(share.chunks(3))
                .collect(),
        };
        if !self.languages.is_empty() {
            rows.push(&self.languages);
        }
        rows
    }
}

/// Formats the post for `item` of `source` for a channel with these share targets. With an image
/// and `allow_photo`, a sendPhoto whose caption fits 1024; otherwise a sendMessage fitting 4096.
///
/// `allow_photo = false` is the fallback when Telegram refused the photo: the same post as a
/// message with a link preview.
pub fn format_post(item: &Item, source: &Source, share: &[ShareTarget], allow_photo: bool) -> Post {
    let photo = item
        .image
        .as_deref()
        .filter(|_| allow_photo)
        .and_then(web_url);
    let method = if photo.is_some() {
        Method::SendPhoto
    } else {
        Method::SendMessage
    };
    shaped_post(item, source, share, method, photo)
}

/// The post for `item` as the caption of a photo (at most 1024 units, no link preview), even
/// when the item has no usable picture any more: the text for editing a photo post.
pub fn format_caption_for(item: &Item, source: &Source, channel: &Channel) -> Post {
    let photo = item.image.as_deref().and_then(web_url);
    let post = shaped_post(item, source, &channel.share, Method::SendPhoto, photo);
    with_template(post, item, source, channel)
}

fn shaped_post(
    item: &Item,
    source: &Source,
    share: &[ShareTarget],
    method: Method,
    photo: Option<String>,
) -> Post {
    let link = web_url(&item.link);
    let title = clean(&item.title, false);
    let mut summary = lead(item);
    if summary == title {
        // Some lists repeat the headline as the teaser: saying it twice helps nobody.
        summary.clear();
    }
    let footer = format!(
        "{} · #{}",
        format_day(item.published, source.timezone, &source.language),
        source.id.replace('-', "_")
    );
    let buttons = link
        .as_deref()
        .map(|link| buttons(link, &title, &source.language, share))
        .unwrap_or_default();
    Post {
        method,
        html: compose(&title, &summary, &footer, method.limit()),
        preview_url: if method == Method::SendMessage {
            link
        } else {
            None
        },
        photo,
        buttons,
        languages: Vec::new(),
    }
}

/// The post for `item` as `channel` gets it: its template's text when it has one (see
/// `template`), else the default post. Buttons, method and photo are the default post's.
pub fn format_post_for(item: &Item, source: &Source, channel: &Channel, allow_photo: bool) -> Post {
    let post = format_post(item, source, &channel.share, allow_photo);
    with_template(post, item, source, channel)
}

/// `post` with the text of `channel`'s template, if it has one, within the post's limit.
fn with_template(post: Post, item: &Item, source: &Source, channel: &Channel) -> Post {
    let Some(template) = &channel.template else {
        return post;
    };
    match templated_text(template, item, source, post.method.limit()) {
        Ok(html) => Post { html, ..post },
        Err(reason) => {
            // Counted where an admin looks: a template that fails on every release of some
            // shape (a one-sentence summary, say) would otherwise go unnoticed for ever.
            metrics::counter!("herald_template_fallbacks_total", "channel" => channel.id.clone())
                .increment(1);
            tracing::warn!(channel = %channel.id, item = %item.id, %reason, "the channel's template gave no usable post; sending the default post");
            post
        }
    }
}

/// How many times the summary is cut before it is dropped: the first cut aims at the room left,
/// so one is usually enough.
const TEMPLATE_CUTS: usize = 6;

/// The template's text for `item`, well-formed and within `limit` UTF-16 units after entity
/// parsing: the summary is cut (at a sentence, else a word) until the text fits, and dropped if
/// it must. The title is whole when the text fits with it, else cut to half the limit. `Err`
/// says why no text fits (then the default post goes out).
pub fn templated_text(
    template: &PostTemplate,
    item: &Item,
    source: &Source,
    limit: usize,
) -> Result<String, String> {
    templated_text_with(template, item, source, limit, limit)
        .or_else(|_| templated_text_with(template, item, source, limit, limit / 2))
}

/// [`templated_text`] with the title cut to at most `title_room` units.
fn templated_text_with(
    template: &PostTemplate,
    item: &Item,
    source: &Source,
    limit: usize,
    title_room: usize,
) -> Result<String, String> {
    let title = shorten(&clean(&item.title, false), title_room);
    let mut summary = lead(item);
    if summary == title {
        summary.clear();
    }
    let mut fields = Fields {
        title,
        summary: String::new(),
        link: web_url(&item.link).unwrap_or_else(|| item.link.clone()),
        date: format_day(item.published, source.timezone, &source.language),
        source_id: source.id.clone(),
        source_title: source.title.clone(),
        hashtag: crate::template::hashtag(&source.id),
        language: source.language.clone(),
        image: item.image.as_deref().and_then(web_url),
    };
    let mut render = |summary: &str| -> Result<(String, usize), String> {
        fields.summary = summary.to_owned();
        let html = template.render(&fields)?;
        check_markup(&html)?;
        let text = decode(&html);
        if text.trim().is_empty() {
            return Err("the text is empty".into());
        }
        Ok((html, utf16_len(&text)))
    };
    let (html, length) = render(&summary)?;
    if length <= limit {
        return Ok(html);
    }
    let (bare, base) = render("")?;
    if base > limit {
        return Err(format!(
            "{base} characters without the summary; the limit is {limit}"
        ));
    }
    // A template may print the summary more than once: each unit of summary costs `per` units
    // of text, so the first cut aims at the room left divided by that.
    let full = utf16_len(&summary).max(1);
    let per = ((length - base) as f64 / full as f64).max(1.0);
    let mut budget = ((limit - base) as f64 / per) as usize;
    for _ in 0..TEMPLATE_CUTS {
        let cut = fit_summary(&summary, budget);
        if cut.is_empty() {
            break;
        }
        let (html, length) = render(&cut)?;
        if length <= limit {
            return Ok(html);
        }
        let over = ((length - limit) as f64 / per).ceil() as usize;
        budget = utf16_len(&cut).saturating_sub(over.max(1));
    }
    Ok(bare)
}

/// The language buttons of a post: each translation's page, labelled with its language's own
/// name; links Telegram would refuse are left out.
pub fn language_buttons(translations: &[Translation]) -> Vec<Button> {
    translations
        .iter()
        .filter_map(|t| {
            Some(Button {
                label: crate::lang::name(&t.language).to_owned(),
                url: web_url(&t.link)?,
            })
        })
        .collect()
}

/// The same post as plain text (no HTML, no parse_mode): the fallback when Telegram answers
/// "can't parse entities". Its length is the post's visible length, so it fits the same limit.
pub fn plain_text(post: &Post) -> String {
    decode(&post.html)
}

/// What `herald preview` prints for a post: the method name on the first line, then the
/// text/caption exactly as it would be sent, then one line `label <url>` per button. Lines are
/// joined by `\n`, without a newline at the end.
pub fn preview(post: &Post) -> String {
    let mut out = format!("{}\n{}", post.method.name(), post.html);
    for button in &post.buttons {
        out.push_str(&format!("\n{} <{}>", button.label, button.url));
    }
    out
}

/// [`preview`] in Telegram HTML, for `/preview` in Telegram: the method in italics, the post's
/// text as Telegram would show it, then one line per button, the label linking to its URL.
pub fn preview_html(post: &Post) -> String {
    let mut out = format!("<i>{}</i>\n{}", post.method.name(), post.html);
    for button in post.buttons.iter().chain(&post.languages) {
        out.push_str(&format!(
            "\n<a href=\"{}\">{}</a>",
            crate::markup::escape_attribute(&button.url),
            escape(&button.label)
        ));
    }
    out
}

/// The least room (UTF-16 units) a cut summary gets: with less, it is left out.
const MIN_SUMMARY_ROOM: usize = 40;

/// The post's text: the title in bold, the summary, and the date line. The title is whole
/// whenever it fits beside the date line; the summary takes the room left (cut at a sentence,
/// else a word, or left out). The date line always stays, so the text is never empty.
fn compose(title: &str, summary: &str, footer: &str, limit: usize) -> String {
    let separator = utf16_len(BLOCK_SEPARATOR);
    let footer = shorten(footer, limit);
    let mut used = utf16_len(&footer);
    let title = shorten(title, limit.saturating_sub(used + separator));
    if !title.is_empty() {
        used += utf16_len(&title) + separator;
    }
    let room = limit.saturating_sub(used + separator);
    // Beside a title that takes nearly all the room, a summary cut to a few words says
    // nothing: left out.
    let summary = if utf16_len(summary) > room && room < MIN_SUMMARY_ROOM {
        String::new()
    } else {
        fit_summary(summary, room)
    };
    let mut blocks = Vec::with_capacity(3);
    if !title.is_empty() {
        blocks.push(format!("<b>{}</b>", escape(&title)));
    }
    if !summary.is_empty() {
        blocks.push(escape(&summary));
    }
    blocks.push(escape(&footer));
    blocks.join(BLOCK_SEPARATOR)
}

/// Whether the post's lead comes from the item's body (it has no summary with text): a queued
/// copy of an item keeps its body only then.
pub fn lead_needs_body(item: &Item) -> bool {
    summary_lead(item).is_empty()
}

fn summary_lead(item: &Item) -> String {
    item.summary
        .as_deref()
        .map(|s| clean(s, true))
        .unwrap_or_default()
}

/// The item's lead as plain text: its summary, else the first paragraph(s) of its body, else "".
pub(super) fn lead(item: &Item) -> String {
    let summary = summary_lead(item);
    if !summary.is_empty() {
        return summary;
    }
    item.content_html
        .as_deref()
        .map(first_paragraphs)
        .unwrap_or_default()
}

/// The first paragraph(s) of an HTML body as plain text, one line each: paragraphs are added
/// until the lead holds [`LEAD_MIN_CHARS`]. A paragraph is the text of one block element;
/// scripts, styles and figure captions are not part of the text.
fn first_paragraphs(html: &str) -> String {
    const BLOCKS: [&str; 19] = [
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "table",
        "tr",
        "td",
        "section",
        "article",
        "figure",
        "pre",
    ];
    const SKIPPED: [&str; 5] = ["script", "style", "template", "noscript", "figcaption"];
    // Ancestors looked at per text node: bounds the work on absurdly deep markup.
    const DEPTH: usize = 64;
    let document = Html::parse_fragment(html);
    let mut paragraphs: Vec<String> = Vec::new();
    let mut chars = 0;
    let mut current = String::new();
    let mut current_block = None;
    let mut flush = |current: &mut String, paragraphs: &mut Vec<String>| {
        let paragraph = clean(current, false);
        current.clear();
        if !paragraph.is_empty() {
            chars += paragraph.chars().count();
            paragraphs.push(paragraph);
        }
        chars
    };
    for node in document.tree.root().descendants() {
        let text = match node.value() {
            Node::Text(text) => text,
            // A line break ends a line: the text before it never runs into the text after.
            Node::Element(e) if e.name() == "br" => {
                current.push(' ');
                continue;
            }
            _ => continue,
        };
        let mut block = None;
        let mut skipped = false;
        for ancestor in node.ancestors().take(DEPTH) {
            if let Node::Element(element) = ancestor.value() {
                if SKIPPED.contains(&element.name()) {
                    skipped = true;
                    break;
                }
                if block.is_none() && BLOCKS.contains(&element.name()) {
                    block = Some(ancestor.id());
                }
            }
        }
        if skipped {
            continue;
        }
        if block != current_block {
            if flush(&mut current, &mut paragraphs) >= LEAD_MIN_CHARS {
                return paragraphs.join("\n");
            }
            current_block = block;
        }
        current.push_str(text);
    }
    flush(&mut current, &mut paragraphs);
    paragraphs.join("\n")
}

/// Source text made fit for a post: as a feed's (`text::clean`), but no-break spaces are kept,
/// they are there so that a line does not break; `keep_lines` keeps one line break where a run
/// of whitespace held one.
pub(super) fn clean(text: &str, keep_lines: bool) -> String {
    let keep = Keep {
        line_breaks: keep_lines,
        no_break_spaces: true,
        controls: false,
    };
    crate::text::clean_keeping(text, keep)
}

/// `text` whole when it fits `budget` UTF-16 units, else cut at a word with "…".
pub(super) fn shorten(text: &str, budget: usize) -> String {
    if utf16_len(text) <= budget {
        text.to_string()
    } else {
        cut_at_word(text, budget)
    }
}

/// The summary whole when it fits `budget` UTF-16 units; else up to the last sentence end that
/// fits; else, when even the first sentence is too long, cut at a word with "…". May be empty.
pub(super) fn fit_summary(text: &str, budget: usize) -> String {
    if utf16_len(text) <= budget {
        return text.to_string();
    }
    match crate::text::last_sentence_end(text, budget, char::len_utf16) {
        Some(end) => text[..end].trim_end().to_string(),
        None => cut_at_word(text, budget),
    }
}

/// `text` cut at the last word end that leaves room for "…" within `budget` UTF-16 units, then
/// "…". A first word longer than that is cut between characters. Empty when nothing fits.
fn cut_at_word(text: &str, budget: usize) -> String {
    let Some(room) = budget.checked_sub(ELLIPSIS.len_utf16()) else {
        return String::new();
    };
    let mut units = 0;
    let mut word_end = None;
    let mut char_end = text.len();
    let mut in_word = false;
    for (at, c) in text.char_indices() {
        let space = c.is_whitespace() && !is_no_break_space(c);
        if space && in_word {
            word_end = Some(at);
        }
        in_word = !space;
        units += c.len_utf16();
        if units > room {
            char_end = at;
            break;
        }
    }
    if char_end == text.len() {
        return text.to_string();
    }
    // A word longer than the room is cut between characters as a reader sees them (grapheme
    // clusters, found in the whole text), never inside one: not half a flag, an emoji without
    // its skin tone, a letter without its accent.
    let char_end = text
        .grapheme_indices(true)
        .map(|(at, _)| at)
        .take_while(|&at| at <= char_end)
        .last()
        .unwrap_or(0);
    let cut = text[..word_end.unwrap_or(char_end)]
        // Nothing dangles before the ellipsis: no comma, dash, opening quote or joiner.
        .trim_end_matches(|c: char| {
            c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '–' | '—' | '\u{200d}')
        })
        .trim_end_matches(crate::text::is_opener);
    if cut.is_empty() {
        return String::new();
    }
    format!("{cut}{ELLIPSIS}")
}

/// `link` as an absolute http(s) URL in the `url` crate's normal form; `None` for anything else,
/// which Telegram would refuse as a button or a photo.
pub(super) fn web_url(link: &str) -> Option<String> {
    let url = Url::parse(link.trim()).ok()?;
    // A link made from a source address with a user name and password carries them: a post
    // is public, so they are left out (the feeds do the same).
    matches!(url.scheme(), "http" | "https").then(|| crate::text::without_userinfo(&url))
}

/// "Read", then one button per share target in the configured order.
fn buttons(link: &str, title: &str, language: &str, share: &[ShareTarget]) -> Vec<Button> {
    let text = shorten(title, SHARE_TEXT_LIMIT);
    let read = Button {
        label: crate::lang::read_label(language).to_string(),
        url: link.to_string(),
    };
    std::iter::once(read)
        .chain(share.iter().map(|&target| Button {
            label: share_label(target).to_string(),
            url: share_url(target, link, &text),
        }))
        .collect()
}

/// "Read" in the source's language (SPEC): "Читать" for ru, "Оқу" for kk, "Read" otherwise.
fn share_label(target: ShareTarget) -> &'static str {
    match target {
        ShareTarget::X => "X",
        ShareTarget::Facebook => "Facebook",
        ShareTarget::Telegram => "Telegram",
        ShareTarget::Whatsapp => "WhatsApp",
        ShareTarget::Vk => "VK",
        ShareTarget::Linkedin => "LinkedIn",
    }
}

/// Everything but RFC 3986's unreserved characters (ALPHA / DIGIT / "-" / "." / "_" / "~") is
/// percent-encoded, so a space is `%20` and `&`, `?`, `#` in a parameter cannot end it early.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// The share link of `target` for a page (SPEC "The Telegram post"); `text` is the short title.
fn share_url(target: ShareTarget, link: &str, text: &str) -> String {
    let url = encode(link);
    match target {
        ShareTarget::X => format!(
            "https://twitter.com/intent/tweet?url={url}&text={}",
            encode(text)
        ),
        ShareTarget::Facebook => format!("https://www.facebook.com/sharer/sharer.php?u={url}"),
        ShareTarget::Telegram => {
            format!("https://t.me/share/url?url={url}&text={}", encode(text))
        }
        ShareTarget::Whatsapp => format!(
            "https://wa.me/?text={}",
            encode(format!("{text} {link}").trim_start())
        ),
        ShareTarget::Vk => format!("https://vk.com/share.php?url={url}"),
        ShareTarget::Linkedin => {
            format!("https://www.linkedin.com/sharing/share-offsite/?url={url}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markup::visible_utf16_len;
    use crate::model::ItemId;
    use chrono::{DateTime, Utc};
    use proptest::prelude::*;
    use rstest::rstest;
    use std::path::Path;

    const LINK: &str = "https://www.akorda.kz/en/president-met-123456";
    const IMAGE: &str = "https://www.akorda.kz/uploadMedia/cover.jpg";

    fn source(id: &str, language: &str) -> Source {
        let text = format!(
            "[[sources]]\nid = \"{id}\"\ntitle = \"Akorda\"\nurl = \"https://www.akorda.kz/en/events\"\n\
             schedule = \"0 */10 * * * *\"\ntimezone = \"Asia/Almaty\"\nlanguage = \"{language}\"\n\
             kind = \"feed\"\n"
        );
        let mut config = crate::config::parse(Path::new("config.toml"), &text, Path::new("/"))
            .expect("test source is valid");
        config.sources.remove(0)
    }

    fn item(title: &str, summary: Option<&str>) -> Item {
        // 20:30 UTC on the 20th is 21 March in Almaty (UTC+5): the date line is the source's.
        let published: DateTime<Utc> = "2026-03-20T20:30:00Z".parse().unwrap();
        Item {
            id: ItemId::new("akorda-en", LINK),
            source: "akorda-en".into(),
            title: title.into(),
            link: LINK.into(),
            summary: summary.map(String::from),
            content_html: None,
            image: Some(IMAGE.into()),
            language: "en".into(),
            published,
            updated: published,
            first_seen: published,
            seq: 1,
        }
    }

    fn en() -> Source {
        source("akorda-en", "en")
    }

    /// The text of the post's summary block (between the title and the date line).
    fn summary_of(post: &Post) -> String {
        let blocks: Vec<&str> = post.html.split(BLOCK_SEPARATOR).collect();
        assert_eq!(blocks.len(), 3, "{}", post.html);
        blocks[1].to_string()
    }

    #[rstest]
    #[case::en(
        "akorda-en",
        "en",
        "President Tokayev met with the Prime Minister",
        "The Head of State heard a report on the economy. Growth reached 6%.",
        "<b>President Tokayev met with the Prime Minister</b>\n\n\
         The Head of State heard a report on the economy. Growth reached 6%.\n\n\
         21 March 2026 · #akorda_en",
        "Read"
    )]
    #[case::ru(
        "akorda-ru",
        "ru",
        "Глава государства провёл встречу с Премьер-министром",
        "Президент заслушал доклад об итогах года. Рост экономики составил 6%.",
        "<b>Глава государства провёл встречу с Премьер-министром</b>\n\n\
         Президент заслушал доклад об итогах года. Рост экономики составил 6%.\n\n\
         21 марта 2026 · #akorda_ru",
        "Читать"
    )]
    #[case::kk(
        "akorda-kz",
        "kk",
        "Мемлекет басшысы Премьер-министрмен кездесті",
        "Президент жыл қорытындысы туралы баяндама тыңдады.",
        "<b>Мемлекет басшысы Премьер-министрмен кездесті</b>\n\n\
         Президент жыл қорытындысы туралы баяндама тыңдады.\n\n\
         21 наурыз 2026 · #akorda_kz",
        "Оқу"
    )]
    fn post_shape(
        #[case] id: &str,
        #[case] language: &str,
        #[case] title: &str,
        #[case] summary: &str,
        #[case] html: &str,
        #[case] read: &str,
    ) {
        let post = format_post(
            &item(title, Some(summary)),
            &source(id, language),
            &[],
            true,
        );
        assert_eq!(post.method, Method::SendPhoto);
        assert_eq!(post.html, html);
        assert_eq!(post.photo.as_deref(), Some(IMAGE));
        assert_eq!(post.preview_url, None);
        let read = Button {
            label: read.into(),
            url: LINK.into(),
        };
        assert_eq!(post.buttons, [read]);
    }

    #[test]
    fn without_photo_a_message_with_the_link_previewed() {
        let post = format_post(&item("Title", None), &en(), &[], false);
        assert_eq!(post.method, Method::SendMessage);
        assert_eq!(post.method.name(), "sendMessage");
        assert_eq!(post.photo, None);
        assert_eq!(post.preview_url.as_deref(), Some(LINK));
        assert_eq!(post.html, "<b>Title</b>\n\n21 March 2026 · #akorda_en");
    }

    #[test]
    fn source_markup_is_escaped_and_control_characters_dropped() {
        let item = item(
            "<script>alert(1)</script> & co\u{0}\u{7}\t\r\n now",
            Some("Tom & Jerry <b>bold</b> &amp; \u{1b}[31mred.\r\n\r\nNext line."),
        );
        let post = format_post(&item, &en(), &[], true);
        assert_eq!(
            post.html,
            "<b>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co now</b>\n\n\
             Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt; &amp;amp; [31mred.\nNext line.\n\n\
             21 March 2026 · #akorda_en"
        );
        assert_eq!(
            plain_text(&post),
            "<script>alert(1)</script> & co now\n\n\
             Tom & Jerry <b>bold</b> &amp; [31mred.\nNext line.\n\n21 March 2026 · #akorda_en"
        );
    }

    #[rstest]
    #[case::x(
        ShareTarget::X,
        "X",
        "https://twitter.com/intent/tweet?url=https%3A%2F%2Fwww.akorda.kz%2Fru%2Fvstrecha%3Fid%3D1%26x%3D2%23top\
         &text=%D0%92%D1%81%D1%82%D1%80%D0%B5%D1%87%D0%B0%20%26%20%C2%AB%D0%B8%D1%82%D0%BE%D0%B3%D0%B8%C2%BB%3F%20%231"
    )]
    #[case::facebook(
        ShareTarget::Facebook,
        "Facebook",
        "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fwww.akorda.kz%2Fru%2Fvstrecha%3Fid%3D1%26x%3D2%23top"
    )]
    #[case::telegram(
        ShareTarget::Telegram,
        "Telegram",
        "https://t.me/share/url?url=https%3A%2F%2Fwww.akorda.kz%2Fru%2Fvstrecha%3Fid%3D1%26x%3D2%23top\
         &text=%D0%92%D1%81%D1%82%D1%80%D0%B5%D1%87%D0%B0%20%26%20%C2%AB%D0%B8%D1%82%D0%BE%D0%B3%D0%B8%C2%BB%3F%20%231"
    )]
    #[case::whatsapp(
        ShareTarget::Whatsapp,
        "WhatsApp",
        "https://wa.me/?text=%D0%92%D1%81%D1%82%D1%80%D0%B5%D1%87%D0%B0%20%26%20%C2%AB%D0%B8%D1%82%D0%BE%D0%B3%D0%B8%C2%BB%3F%20%231\
         %20https%3A%2F%2Fwww.akorda.kz%2Fru%2Fvstrecha%3Fid%3D1%26x%3D2%23top"
    )]
    #[case::vk(
        ShareTarget::Vk,
        "VK",
        "https://vk.com/share.php?url=https%3A%2F%2Fwww.akorda.kz%2Fru%2Fvstrecha%3Fid%3D1%26x%3D2%23top"
    )]
    #[case::linkedin(
        ShareTarget::Linkedin,
        "LinkedIn",
        "https://www.linkedin.com/sharing/share-offsite/?url=https%3A%2F%2Fwww.akorda.kz%2Fru%2Fvstrecha%3Fid%3D1%26x%3D2%23top"
    )]
    fn share_urls(#[case] target: ShareTarget, #[case] label: &str, #[case] url: &str) {
        let mut item = item("Встреча & «итоги»? #1", None);
        item.link = "https://www.akorda.kz/ru/vstrecha?id=1&x=2#top".into();
        let post = format_post(&item, &source("akorda-ru", "ru"), &[target], true);
        assert_eq!(post.buttons[0].url, item.link);
        assert_eq!(post.buttons[1].label, label);
        assert_eq!(post.buttons[1].url, url);
    }

    #[test]
    fn buttons_keep_the_configured_order_and_rows() {
        let share = [
            ShareTarget::Vk,
            ShareTarget::X,
            ShareTarget::Whatsapp,
            ShareTarget::Facebook,
        ];
        let post = format_post(&item("Title", None), &en(), &share, true);
        let labels: Vec<&str> = post.buttons.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["Read", "VK", "X", "WhatsApp", "Facebook"]);
        let rows: Vec<usize> = post.keyboard().iter().map(|row| row.len()).collect();
        assert_eq!(rows, [1, 3, 1]);
    }

    #[test]
    fn cyrillic_link_is_normalized_then_encoded() {
        let mut item = item("Title", None);
        item.link = "https://www.akorda.kz/ru/встреча".into();
        let post = format_post(&item, &en(), &[ShareTarget::Vk], false);
        let normal = "https://www.akorda.kz/ru/%D0%B2%D1%81%D1%82%D1%80%D0%B5%D1%87%D0%B0";
        assert_eq!(post.buttons[0].url, normal);
        assert_eq!(post.preview_url.as_deref(), Some(normal));
        assert_eq!(
            post.buttons[1].url,
            "https://vk.com/share.php?url=https%3A%2F%2Fwww.akorda.kz%2Fru%2F%25D0%25B2%25D1%2581\
             %25D1%2582%25D1%2580%25D0%25B5%25D1%2587%25D0%25B0"
        );
    }

    #[test]
    fn share_text_is_a_short_title() {
        let title = "word ".repeat(100);
        let post = format_post(&item(&title, None), &en(), &[ShareTarget::X], true);
        let url = Url::parse(&post.buttons[1].url).unwrap();
        let text = url.query_pairs().find(|(k, _)| k == "text").unwrap().1;
        assert!(text.chars().count() <= SHARE_TEXT_LIMIT, "{text}");
        assert!(text.ends_with("word…"), "{text}");
    }

    #[test]
    fn a_user_name_and_password_in_a_link_are_never_posted() {
        let mut item = item("Встреча", None);
        item.link = "https://admin:hunter2@www.akorda.kz/ru/vstrecha?id=1".into();
        let post = format_post(
            &item,
            &source("akorda-ru", "ru"),
            &[ShareTarget::Telegram],
            true,
        );
        let shown = format!("{post:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(
            post.buttons[0].url,
            "https://www.akorda.kz/ru/vstrecha?id=1"
        );
    }

    #[test]
    fn a_link_telegram_would_refuse_gives_no_buttons() {
        let mut item = item("Title", None);
        item.link = "javascript:alert(1)".into();
        let post = format_post(&item, &en(), &[ShareTarget::X], false);
        assert!(post.buttons.is_empty());
        assert_eq!(post.preview_url, None);
    }

    /// "Sentence number 1 is here. Sentence number 2 is here. …"
    fn sentences(count: usize) -> String {
        (1..=count)
            .map(|n| format!("Sentence number {n} is here."))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[rstest]
    #[case::caption(true, CAPTION_LIMIT, 100)]
    #[case::message(false, MESSAGE_LIMIT, 400)]
    fn long_summary_is_cut_after_the_last_sentence_that_fits(
        #[case] photo: bool,
        #[case] limit: usize,
        #[case] count: usize,
    ) {
        let full = sentences(count);
        let post = format_post(&item("Title", Some(&full)), &en(), &[], photo);
        let length = visible_utf16_len(&post.html);
        assert!(length <= limit, "{length}");
        let summary = summary_of(&post);
        assert!(
            full.starts_with(&summary) && summary.ends_with(" is here."),
            "{summary}"
        );
        // The next sentence would not have fitted.
        let next = full[summary.len()..].split_inclusive('.').next().unwrap();
        assert!(length + utf16_len(next) > limit, "{length} + {next}");
    }

    #[test]
    fn emoji_count_two_units() {
        // 600 emoji are 600 chars but 1200 UTF-16 units: too many for a caption.
        let summary = "😀".repeat(300) + ". " + &"😀".repeat(300) + ".";
        let post = format_post(&item("Title", Some(&summary)), &en(), &[], true);
        assert_eq!(summary_of(&post), "😀".repeat(300) + ".");
        let post = format_post(&item("Title", Some(&"😀".repeat(3000))), &en(), &[], true);
        let length = visible_utf16_len(&post.html);
        assert!(
            (CAPTION_LIMIT - 2..=CAPTION_LIMIT).contains(&length),
            "{length}"
        );
        assert!(summary_of(&post).ends_with("😀…"));
    }

    #[test]
    fn one_giant_sentence_is_cut_at_a_word() {
        let summary = "word, ".repeat(1000);
        let post = format_post(&item("Title", Some(&summary)), &en(), &[], true);
        assert!(visible_utf16_len(&post.html) <= CAPTION_LIMIT);
        assert!(summary_of(&post).ends_with(" word…"), "{}", post.html);
    }

    #[test]
    fn giant_title_is_cut_at_a_word() {
        let title = "Headline ".repeat(1000);
        let post = format_post(&item(&title, Some("Summary.")), &en(), &[], true);
        assert!(visible_utf16_len(&post.html) <= CAPTION_LIMIT);
        assert!(post.html.starts_with("<b>Headline Headline"));
        // The title takes the room the date line leaves; no summary fits beside it.
        assert!(
            post.html
                .ends_with("Headline…</b>\n\n21 March 2026 · #akorda_en"),
            "{}",
            post.html
        );
        // Without a summary the title still leaves room for the date line.
        let post = format_post(&item(&"x".repeat(5000), None), &en(), &[], false);
        assert!(visible_utf16_len(&post.html) <= MESSAGE_LIMIT);
        assert!(post.html.ends_with("x…</b>\n\n21 March 2026 · #akorda_en"));
    }

    #[test]
    fn summary_from_the_body_when_there_is_none() {
        let mut item = item("Title", None);
        item.content_html = Some(
            "<figure><img src=\"a.jpg\"><figcaption>Photo: press service</figcaption></figure>\
             <script>var x = 1;</script>\
             <p>The Head of State met <a href=\"#\">students</a> &amp; teachers.</p>\
             <p>He   wished them success.</p>"
                .into(),
        );
        let post = format_post(&item, &en(), &[], true);
        assert_eq!(
            summary_of(&post),
            "The Head of State met students &amp; teachers.\nHe wished them success."
        );
    }

    /// A long title that fits beside the date line is whole; the summary takes what is left.
    /// Before, a title was cut at half the limit even when the whole post would fit.
    #[test]
    fn a_long_title_that_fits_is_whole() {
        let title = format!("{}end", "Long headline words ".repeat(38));
        let summary = "First sentence of the lead. Second sentence of it.";
        let post = format_post(&item(&title, Some(summary)), &en(), &[], true);
        assert!(
            post.html.starts_with(&format!("<b>{title}</b>")),
            "{}",
            post.html
        );
        assert!(visible_utf16_len(&post.html) <= CAPTION_LIMIT);
        let longer = format!("{title} {}", "more ".repeat(40));
        let post = format_post(&item(&longer, Some(summary)), &en(), &[], true);
        assert!(visible_utf16_len(&post.html) <= CAPTION_LIMIT);
        assert!(post.html.contains("<b>Long headline"), "{}", post.html);
    }

    /// A line break inside a paragraph ends a line: sentences on either side stay apart.
    #[test]
    fn a_line_break_in_the_body_keeps_sentences_apart() {
        let html = "<p>The President arrived in Astana.<br>He met the delegation.<br/><b>Talks</b> went well.</p>";
        assert_eq!(
            first_paragraphs(html),
            "The President arrived in Astana. He met the delegation. Talks went well."
        );
    }

    #[test]
    fn body_lead_stops_after_enough_paragraphs() {
        let paragraph = sentences(12);
        let html = format!("<div><p>{paragraph}</p><p>Second.</p></div>");
        assert_eq!(first_paragraphs(&html), paragraph);
        assert_eq!(first_paragraphs("text <b>only</b>"), "text only");
        assert_eq!(first_paragraphs(""), "");
    }

    #[test]
    fn summary_equal_to_the_title_is_not_repeated() {
        let post = format_post(&item("Same  words", Some("Same words")), &en(), &[], true);
        assert_eq!(post.html, "<b>Same words</b>\n\n21 March 2026 · #akorda_en");
    }

    #[rstest]
    #[case::initial("Met N. Nazarbayev today. Then more.", "Met N. Nazarbayev today.")]
    #[case::dotted("The U.S. President called. Then more.", "The U.S. President called.")]
    #[case::eg(
        "Some, e.g. Kazakhstan, agreed. Then more.",
        "Some, e.g. Kazakhstan, agreed."
    )]
    #[case::lower("Cost 5 млрд. тенге в год. Далее ещё.", "Cost 5 млрд. тенге в год.")]
    #[case::ru_initial(
        "Встреча с Н. Назарбаевым прошла. Далее ещё.",
        "Встреча с Н. Назарбаевым прошла."
    )]
    #[case::kk_year("2026 ж. Астанада өтті! Одан әрі.", "2026 ж. Астанада өтті!")]
    #[case::quote("He said «Yes.» Then more.", "He said «Yes.»")]
    #[case::number("Growth was 3.5 percent? Then more.", "Growth was 3.5 percent?")]
    #[case::line("First line\nSecond line goes on.", "First line")]
    fn sentence_ends(#[case] text: &str, #[case] expected: &str) {
        let budget = utf16_len(text) - 3;
        assert_eq!(fit_summary(text, budget), expected);
    }

    #[rstest]
    #[case::fits("short", 5, "short")]
    #[case::word("hello big world", 12, "hello big…")]
    #[case::comma("hello, world", 11, "hello…")]
    #[case::one_word("abcdefgh", 5, "abcd…")]
    #[case::nothing("abc", 1, "")]
    #[case::zero("abc", 0, "")]
    // Never inside what a reader sees as one character.
    #[case::flag("AB🇰🇿🇰🇿🇰🇿", 9, "AB🇰🇿…")]
    #[case::skin_tone("Ok👍🏽👍🏽", 5, "Ok…")]
    #[case::accent("cafe\u{301}s", 5, "caf…")]
    fn word_cuts(#[case] text: &str, #[case] budget: usize, #[case] expected: &str) {
        assert_eq!(shorten(text, budget), expected);
    }

    #[rstest]
    #[case::plain("abc", 3)]
    #[case::bold("<b>ab</b>", 2)]
    #[case::named("&lt;&gt;&amp;&quot;", 4)]
    #[case::numeric("&#128512;&#x41;", 3)]
    #[case::unknown("&nbsp;", 6)]
    #[case::bare("a & b &amp", 10)]
    #[case::emoji("😀", 2)]
    fn visible_length(#[case] html: &str, #[case] expected: usize) {
        assert_eq!(visible_utf16_len(html), expected);
    }

    #[test]
    fn preview_prints_method_text_and_buttons() {
        let post = format_post(
            &item("A & B", Some("Lead.")),
            &en(),
            &[ShareTarget::Vk],
            true,
        );
        assert_eq!(
            preview(&post),
            "sendPhoto\n<b>A &amp; B</b>\n\nLead.\n\n21 March 2026 · #akorda_en\n\
             Read <https://www.akorda.kz/en/president-met-123456>\n\
             VK <https://vk.com/share.php?url=https%3A%2F%2Fwww.akorda.kz%2Fen%2Fpresident-met-123456>"
        );
    }

    /// Telegram's HTML rules as our posts use them: `<b>` and `</b>` balanced, and every `&` an
    /// entity. Returns the visible text, decoded independently of `decode`.
    fn check_html(html: &str) -> String {
        let mut rest = html;
        let mut bold = false;
        while let Some(at) = rest.find(['<', '>', '&']) {
            let tail = &rest[at..];
            let tag_or_entity = ["<b>", "</b>", "&lt;", "&gt;", "&amp;", "&quot;"]
                .into_iter()
                .find(|t| tail.starts_with(t));
            match tag_or_entity {
                Some("<b>") => {
                    assert!(!bold, "nested <b> in {html}");
                    bold = true;
                }
                Some("</b>") => {
                    assert!(bold, "unopened </b> in {html}");
                    bold = false;
                }
                Some(_) => {}
                None => panic!("stray markup at {tail:.20?} in {html:.200?}"),
            }
            rest = &tail[tag_or_entity.unwrap().len()..];
        }
        assert!(!bold, "unclosed <b> in {html}");
        html.replace("<b>", "")
            .replace("</b>", "")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    }

    fn any_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            any::<char>().prop_map(String::from),
            "[a-zA-Zа-яА-ЯәқөүұһіңғӘҚ]{1,12}",
            Just(" ".to_string()),
            prop::sample::select(vec![
                "<b>",
                "</b>",
                "<i>",
                "&amp;",
                "&",
                "&lt",
                "<",
                ">",
                "&#128512;",
                "\u{0}",
                "\u{1b}",
                "\n",
                "\r\n",
                "\t",
                "\u{a0}",
                "\u{200d}",
                ". ",
                "! ",
                "?",
                "…",
                "N. ",
                "e.g. ",
                "«",
                "»",
                "\"",
                "😀",
                "👨‍👩‍👧",
                "é",
                "\u{301}",
                "#tag",
                "@name",
            ])
            .prop_map(String::from),
        ];
        (prop::collection::vec(piece, 0..120), 1usize..60)
            .prop_map(|(pieces, repeat)| pieces.concat().repeat(repeat))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn any_post_is_valid_and_fits(
            title in any_text(),
            summary in prop::option::of(any_text()),
            link in prop_oneof![
                Just(LINK.to_string()),
                Just("https://www.akorda.kz/ru/встреча?a=1&b=2#x".to_string()),
                any_text(),
            ],
            photo in any::<bool>(),
            language in prop::sample::select(vec!["en", "ru", "kk"]),
        ) {
            let mut item = item(&title, summary.as_deref());
            item.link = link.clone();
            let post = format_post(&item, &source("akorda-en", language), &ShareTarget::ALL, photo);
            let visible = check_html(&post.html);
            prop_assert_eq!(visible_utf16_len(&post.html), utf16_len(&visible));
            prop_assert_eq!(plain_text(&post), visible.clone());
            prop_assert!(utf16_len(&visible) <= post.method.limit());
            prop_assert!(!visible.trim().is_empty());
            prop_assert!(!visible.chars().any(|c| c.is_control() && c != '\n'));
            for button in &post.buttons {
                prop_assert!(Url::parse(&button.url).is_ok(), "{}", button.url);
            }
            if let Some(x) = post.buttons.get(1) {
                // Every parameter survives the round trip: nothing in the link ends it early.
                let url = Url::parse(&x.url).unwrap();
                let shared = url.query_pairs().find(|(k, _)| k == "url").unwrap().1;
                prop_assert_eq!(shared.as_ref(), post.buttons[0].url.as_str());
            }
        }
    }

    /// Posts shaped by a channel's template (`telegram::template` compiles and checks it).
    mod templated {
        use super::*;
        use crate::markup::check_markup;

        /// The channel `c` with `keys`, and a source in Almaty posting to it.
        fn channel_and_source(keys: &str) -> (crate::config::Channel, crate::config::Source) {
            let text = format!(
                "[[channels]]\nid = \"c\"\nchat = \"@c\"\n{keys}\n\
                 [[sources]]\nid = \"akorda-en\"\ntitle = \"Akorda\"\nurl = \"https://www.akorda.kz/en/events\"\n\
                 schedule = \"0 */10 * * * *\"\ntimezone = \"Asia/Almaty\"\nkind = \"feed\"\nchannels = [\"c\"]\n"
            );
            let config = crate::config::parse(
                std::path::Path::new("c.toml"),
                &text,
                std::path::Path::new("/"),
            )
            .unwrap_or_else(|e| panic!("{e:#?}"));
            (config.channels[0].clone(), config.sources[0].clone())
        }

        fn release(title: &str, summary: &str) -> crate::model::Item {
            let published: chrono::DateTime<chrono::Utc> = "2026-03-20T20:30:00Z".parse().unwrap();
            let link = "https://www.akorda.kz/en/release-1";
            crate::model::Item {
                id: crate::model::ItemId::new("akorda-en", link),
                source: "akorda-en".into(),
                title: title.into(),
                link: link.into(),
                summary: Some(summary.into()),
                content_html: None,
                image: Some("https://www.akorda.kz/uploadMedia/1.jpg".into()),
                language: "en".into(),
                published,
                updated: published,
                first_seen: published,
                seq: 1,
            }
        }

        #[test]
        fn a_long_summary_is_cut_at_a_sentence_until_the_caption_fits() {
            let (channel, source) = channel_and_source(
                "template = \"<b>{{ title }}</b>\\n{{ summary }}\\n<i>{{ summary }}</i>\"",
            );
            let item = release("Title", &"The sides met. ".repeat(200));
            let post = format_post_for(&item, &source, &channel, true);
            assert_eq!(post.method, Method::SendPhoto);
            let length = visible_utf16_len(&post.html);
            assert!((900..=1024).contains(&length), "{length}: {}", post.html);
            assert!(
                post.html.starts_with("<b>Title</b>\nThe sides met."),
                "{}",
                post.html
            );
            assert!(post.html.ends_with("The sides met.</i>"), "{}", post.html);
            assert_eq!(check_markup(&post.html), Ok(()));
            // Sent as a message instead (a refused photo), the same template gets 4096.
            let message = format_post_for(&item, &source, &channel, false);
            assert!(visible_utf16_len(&message.html) > 1024);
            assert_eq!(message.buttons, post.buttons);
        }

        /// A long title that fits is whole in a template's post too; one that does not is cut.
        #[test]
        fn a_long_title_that_fits_is_whole_in_a_template() {
            let (channel, source) =
                channel_and_source("template = \"<b>{{ title }}</b>\\n{{ summary }}\"");
            let title = format!("{}end", "Long headline words ".repeat(38));
            let post = format_post_for(&release(&title, "A summary."), &source, &channel, true);
            assert!(
                post.html.starts_with(&format!("<b>{title}</b>")),
                "{}",
                post.html
            );
            let giant = "Headline ".repeat(300);
            let post = format_post_for(&release(&giant, "A summary."), &source, &channel, true);
            assert!(visible_utf16_len(&post.html) <= 1024, "{}", post.html);
            assert!(
                post.html.starts_with("<b>Headline Headline"),
                "{}",
                post.html
            );
        }

        #[rstest]
        #[case::too_long_without_summary(
            "template = \"{{ title }}{% if title == 'Title' %}{% for i in range(1100) %}.{% endfor %}{% endif %}\"",
            "Title"
        )]
        #[case::markup_broken_by_a_filter(
            "template = \"{% filter upper %}{{ title }}{% endfilter %}\"",
            "Tom & Jerry"
        )]
        #[case::no_template("", "Title")]
        fn otherwise_the_default_post(#[case] keys: &str, #[case] title: &str) {
            let (channel, source) = channel_and_source(keys);
            let item = release(title, "A summary.");
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
            let counts = recorder.handle();
            let post = metrics::with_local_recorder(&recorder, || {
                format_post_for(&item, &source, &channel, true)
            });
            assert_eq!(post, format_post(&item, &source, &channel.share, true));
            // A template that gave no post is counted where an admin looks.
            let fell_back = counts.render().contains(&format!(
                "herald_template_fallbacks_total{{channel=\"{}\"}} 1",
                channel.id
            ));
            assert_eq!(fell_back, !keys.is_empty(), "{}", counts.render());
        }

        proptest::proptest! {
            #![proptest_config(proptest::prelude::ProptestConfig::with_cases(100))]

            /// Whatever a site writes, a templated post is well-formed Telegram HTML within the
            /// limit, or the default post (itself proven so in `format`).
            #[test]
            fn any_templated_post_is_valid_and_fits(
                title in "[a-zA-Z <>&\"'.!?😀\n]{0,400}",
                summary in "[a-zA-Zа-я <>&\"'.!?😀\n]{0,3000}",
                photo in proptest::prelude::any::<bool>(),
            ) {
                let (channel, source) = channel_and_source(
                    "template = \"<b>{{ title }}</b> {{ summary }}\\n<blockquote>{{ summary|upper }}</blockquote>\\n{{ hashtag }}\"",
                );
                let post = format_post_for(&release(&title, &summary), &source, &channel, photo);
                proptest::prop_assert_eq!(check_markup(&post.html), Ok(()));
                proptest::prop_assert!(visible_utf16_len(&post.html) <= post.method.limit());
            }
        }
    }
}
