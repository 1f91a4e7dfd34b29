//! The digest of a burst (issue 10): when one poll makes more posts due for a channel than its
//! `digest_over`, the channel gets one message listing them instead of a post each.
//!
//! Layout (`parse_mode` HTML, no link preview):
//!
//! ```text
//! <b>Akorda — press releases</b>: 100 new releases (1/3)
//!
//! • <a href="https://…">Title of the oldest</a> · 1 March 2026
//! • <a href="https://…">Next title</a> · 2 March 2026
//!
//! #akorda_en
//! ```
//!
//! Oldest first. A digest longer than a message (4096 UTF-16 units after entity parsing) is
//! split between entries, never inside one, each part with the header and its number. Progress
//! is kept by item (issue 25): the outbox records how many of the digest's items Telegram has
//! accepted, and the next message is split from the rest. A reload that changes the source's
//! title (and so how many entries fit) or a restart between two messages then neither skips nor
//! repeats a release; only the part count in later headers may change.

use super::format::{clean, shorten, web_url};
use crate::config::{Source, SourceKind};
use crate::dates::format_day;
use crate::markup::escape_attribute;
use crate::markup::{MESSAGE_LIMIT, escape, utf16_len};
use crate::model::Item;
use crate::store::DigestText;
use std::ops::Range;
use url::Url;

/// A title in a digest is a line, not a post: a longer one is cut at a word.
const TITLE_LIMIT: usize = 300;
/// The source's title in the header.
const SOURCE_TITLE_LIMIT: usize = 200;
/// Entries (one link each) in one message. Telegram shows at most 100 formatting entities of a
/// message and drops the rest silently (tdlib/telegram-bot-api and TelegramBots issue #854:
/// "all tags after the 100th are ignored"); the header's bold, the hashtag and what Telegram
/// finds in titles (a `#tag`, an address) count too: a digest of short titles would list its
/// last releases without their links.
const ENTRIES_LIMIT: usize = 80;
/// Link addresses in one message, in bytes: Telegram refuses a message whose entities are too
/// large in all ("Entities_too_long", about 9,500 characters of links measured by the Bot API's
/// maintainers); kept well below.
const LINKS_LIMIT: usize = 6_000;

/// One message of a digest: its text, and which of the digest's items it lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestPart {
    pub text: DigestText,
    pub items: Range<usize>,
}

impl DigestPart {
    pub fn html(&self) -> String {
        self.text.html()
    }
}

/// The messages of the digest of `items` (oldest first), each within Telegram's message limit.
pub fn digest_parts(items: &[Item], source: &Source) -> Vec<DigestPart> {
    digest_parts_within(items, source, MESSAGE_LIMIT)
}

/// The messages still to send of the digest of `items` when its first `start` items went out in
/// `parts_done` messages: the rest split anew, numbered after those sent, with item ranges over
/// the whole digest. The header counts every release of the digest.
pub fn remaining_parts(
    items: &[Item],
    source: &Source,
    start: usize,
    parts_done: usize,
) -> Vec<DigestPart> {
    remaining_parts_within(items, source, start, parts_done, MESSAGE_LIMIT)
}

/// Where the rest of a digest starts: `items_done`, or for a record from before it (progress
/// by part number only) the start of part `parts_done` as split from the current config.
pub fn rest_start(items: &[Item], source: &Source, items_done: u32, parts_done: u32) -> usize {
    if items_done > 0 || parts_done == 0 {
        return items_done as usize;
    }
    digest_parts(items, source)
        .get(parts_done as usize)
        .map_or(items.len(), |p| p.items.start)
}

fn remaining_parts_within(
    items: &[Item],
    source: &Source,
    start: usize,
    parts_done: usize,
    limit: usize,
) -> Vec<DigestPart> {
    let start = start.min(items.len());
    if parts_done == 0 && start == 0 {
        return digest_parts_within(items, source, limit);
    }
    split(items, &items[start..], source, limit, start, parts_done)
}

fn digest_parts_within(items: &[Item], source: &Source, limit: usize) -> Vec<DigestPart> {
    split(items, items, source, limit, 0, 0)
}

/// Splits `rest` (the tail of `items` from `offset` on) into messages numbered after
/// `parts_done` sent ones.
fn split(
    items: &[Item],
    rest: &[Item],
    source: &Source,
    limit: usize,
    offset: usize,
    parts_done: usize,
) -> Vec<DigestPart> {
    let title = escape(&shorten(&clean(&source.title, false), SOURCE_TITLE_LIMIT));
    let footer = format!("#{}", source.id.replace('-', "_"));
    // The header's room is taken for the widest part number, known only after the split.
    let widest = header(
        &title,
        &source.language,
        items.len(),
        Some((99_999, 99_999)),
    );
    let frame = utf16_len(&crate::markup::decode(&widest)) + 2 + 2 + utf16_len(&footer);
    let room = limit.saturating_sub(frame);
    let entries: Vec<(String, usize, usize)> = rest
        .iter()
        .map(|item| {
            let html = entry(item, source, room);
            let length = utf16_len(&crate::markup::decode(&html));
            let link = web_url(&item.link).map_or(0, |link| link.len());
            (html, length, link)
        })
        .collect();
    let mut ranges: Vec<Range<usize>> = Vec::new();
    let mut start = 0;
    let (mut used, mut links) = (0, 0);
    for (i, (_, length, link)) in entries.iter().enumerate() {
        // Entries are separated by one line break.
        let needed = if i == start {
            *length
        } else {
            used + 1 + length
        };
        let full = needed > room || i - start >= ENTRIES_LIMIT || links + link > LINKS_LIMIT;
        if i > start && full {
            ranges.push(start..i);
            start = i;
            (used, links) = (*length, *link);
        } else {
            (used, links) = (needed, links + link);
        }
    }
    if start < entries.len() {
        ranges.push(start..entries.len());
    }
    let count = parts_done + ranges.len();
    ranges
        .into_iter()
        .enumerate()
        .map(|(k, range)| {
            let number = (count > 1).then_some((parts_done + k + 1, count));
            let lines = entries[range.clone()]
                .iter()
                .map(|(html, _, _)| html.clone())
                .collect();
            DigestPart {
                text: DigestText {
                    head: header(&title, &source.language, items.len(), number),
                    lines,
                    foot: escape(&footer),
                    keyboard: keyboard(source, &rest[range.start]),
                },
                items: range.start + offset..range.end + offset,
            }
        })
        .collect()
}

/// The text of a sent digest message once its releases read as `items` say (one per line, in
/// the message's order; `None` for one the store no longer holds, whose line stays as sent).
/// The header and the footer stay as sent: a correction changes a release, not the digest.
/// When the corrected lines would make the message too long, each corrected line gets the
/// room its line took before; when even that does not fit, the message stays as it is.
pub fn corrected(text: &DigestText, items: &[Option<Item>], source: &Source) -> DigestText {
    corrected_within(text, items, source, MESSAGE_LIMIT)
}

fn corrected_within(
    text: &DigestText,
    items: &[Option<Item>],
    source: &Source,
    limit: usize,
) -> DigestText {
    let visible = |html: &str| utf16_len(&crate::markup::decode(html));
    let rewrite = |room: &dyn Fn(&str) -> usize| DigestText {
        lines: text
            .lines
            .iter()
            .zip(items.iter().chain(std::iter::repeat(&None)))
            .map(|(line, item)| match item {
                Some(item) => entry(item, source, room(line)),
                None => line.clone(),
            })
            .collect(),
        ..text.clone()
    };
    let fresh = rewrite(&|_| limit);
    if visible(&fresh.html()) <= limit {
        return fresh;
    }
    let kept = rewrite(&|line| visible(line));
    if visible(&kept.html()) <= limit {
        return kept;
    }
    text.clone()
}

/// A digest message as plain text (sent without `parse_mode`): the fallback when Telegram
/// cannot parse its HTML. A plain text has no links, so each line keeps its release's address,
/// on the line below it (Telegram shows an address as a link): `• Title · date` then
/// `https://…`. Within Telegram's limit: when the addresses make it too long, the lines are cut
/// (at a word, evenly) to make room for them; addresses that still do not fit (a message near
/// its links limit) are left out from the last line up. The second value counts them.
pub fn plain(text: &DigestText) -> (String, usize) {
    plain_within(text, MESSAGE_LIMIT)
}

fn plain_within(text: &DigestText, limit: usize) -> (String, usize) {
    use crate::markup::decode;
    let head = decode(&text.head);
    let foot = decode(&text.foot);
    let lines: Vec<(String, Option<String>)> = text
        .lines
        .iter()
        .map(|line| (decode(line), line_address(line)))
        .collect();
    let join = |lines: &[(String, Option<String>)]| {
        let body: Vec<String> = lines
            .iter()
            .map(|(line, address)| match address {
                Some(address) => format!("{line}\n{address}"),
                None => line.clone(),
            })
            .collect();
        format!("{head}\n\n{}\n\n{foot}", body.join("\n"))
    };
    let whole = join(&lines);
    if utf16_len(&whole) <= limit || lines.is_empty() {
        return (whole, 0);
    }
    // The room left for the lines' own text once the frame and the addresses are counted.
    let frame = utf16_len(&head) + 4 + utf16_len(&foot) + lines.len() - 1;
    let addresses: usize = lines
        .iter()
        .filter_map(|(_, a)| a.as_ref().map(|a| utf16_len(a) + 1))
        .sum();
    let each = limit.saturating_sub(frame + addresses) / lines.len();
    let mut cut: Vec<(String, Option<String>)> = lines
        .iter()
        .map(|(line, address)| (shorten(line, each.max(MIN_PLAIN_LINE)), address.clone()))
        .collect();
    let mut left_out = 0;
    for i in (0..cut.len()).rev() {
        if utf16_len(&join(&cut)) <= limit {
            break;
        }
        if cut[i].1.take().is_some() {
            left_out += 1;
        }
    }
    (join(&cut), left_out)
}

/// The least a line of a plain digest is cut to, to make room for the addresses: the bullet
/// and a few words.
const MIN_PLAIN_LINE: usize = 24;

/// The address a digest line's title links to (`<a href="…">`), decoded; none for a line
/// without a link.
fn line_address(line: &str) -> Option<String> {
    let start = line.find("<a href=\"")? + "<a href=\"".len();
    let end = line[start..].find('"')? + start;
    Some(crate::markup::decode(&line[start..end]))
}

/// A digest message's one button: the source's site ("Website"; "Сайт" in Russian and Kazakh):
/// the list page of an HTML source, the home page of a feed's releases. Its address ends in a
/// fragment naming the message's first release (which no other digest message of the channel
/// lists), so that no two digest messages have the same keyboard: a message whose send went
/// unanswered is known again by its buttons alone, as a post is (`deliver::find_unanswered`),
/// and a message without buttons (someone else's) is never taken for it.
pub fn keyboard(source: &Source, first: &Item) -> Vec<Vec<(String, String)>> {
    let home = || {
        let mut url = Url::parse(&web_url(&first.link)?).ok()?;
        url.set_path("/");
        url.set_query(None);
        Some(url)
    };
    let mut url = match source.kind {
        SourceKind::Html => None,
        SourceKind::Feed => home(),
    }
    .unwrap_or_else(|| source.url.clone());
    url.set_fragment(Some(&format!("herald-{}", &first.id.hex()[..12])));
    let label = match source.language.split('-').next().unwrap_or_default() {
        "ru" | "kk" => "Сайт",
        _ => "Website",
    };
    vec![vec![(label.to_owned(), url.into())]]
}

/// `<b>Source</b>: N new releases (k/m)`, in the source's language (en, ru, kk).
fn header(title: &str, language: &str, n: usize, part: Option<(usize, usize)>) -> String {
    let primary = language.split('-').next().unwrap_or_default();
    let what = match primary {
        "ru" => format!("новых публикаций: {n}"),
        "kk" => format!("жаңа жарияланымдар: {n}"),
        _ if n == 1 => "1 new release".to_owned(),
        _ => format!("{n} new releases"),
    };
    let part = part.map(|(k, m)| format!(" ({k}/{m})")).unwrap_or_default();
    format!("<b>{title}</b>: {what}{part}")
}

/// `• <a href="link">Title</a> · date`: the title links to the release (plain text when the
/// link is not a web address), both escaped; at most `room` units long.
fn entry(item: &Item, source: &Source, room: usize) -> String {
    let date = format_day(item.published, source.timezone, &source.language);
    let fixed = utf16_len("• ") + utf16_len(" · ") + utf16_len(&date);
    let title = shorten(
        &clean(&item.title, false),
        TITLE_LIMIT.min(room.saturating_sub(fixed)),
    );
    let title = match web_url(&item.link) {
        Some(link) if !title.is_empty() => {
            format!(
                "<a href=\"{}\">{}</a>",
                escape_attribute(&link),
                escape(&title)
            )
        }
        _ => escape(&title),
    };
    format!("• {title} · {}", escape(&date))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markup::check_markup;
    use crate::markup::visible_utf16_len;
    use crate::model::ItemId;
    use chrono::{DateTime, Utc};
    use rstest::rstest;
    use std::path::Path;

    fn source(language: &str) -> Source {
        let text = format!(
            "[[sources]]\nid = \"akorda-en\"\ntitle = \"Akorda & co\"\nurl = \"https://www.akorda.kz/en/events\"\n\
             schedule = \"0 */10 * * * *\"\ntimezone = \"Asia/Almaty\"\nlanguage = \"{language}\"\nkind = \"feed\"\n"
        );
        let mut config =
            crate::config::parse(Path::new("c.toml"), &text, Path::new("/")).expect("valid source");
        config.sources.remove(0)
    }

    fn item(n: usize, title: &str) -> Item {
        let published: DateTime<Utc> = "2026-03-20T20:30:00Z".parse().unwrap();
        let link = format!("https://www.akorda.kz/en/release-{n}?a=1&b=2");
        Item {
            id: ItemId::new("akorda-en", &link),
            source: "akorda-en".into(),
            title: title.into(),
            link,
            summary: None,
            content_html: None,
            image: None,
            language: "en".into(),
            published,
            updated: published,
            first_seen: published,
            seq: n as u64,
        }
    }

    fn items(n: usize, title_len: usize) -> Vec<Item> {
        (0..n).map(|i| item(i, &"x".repeat(title_len))).collect()
    }

    /// The plain-text fallback keeps each release's address (a plain text has no links): the
    /// line, then its address, decoded.
    #[test]
    fn a_plain_digest_keeps_every_address() {
        let list = vec![item(1, "Tom & <Jerry>"), item(2, "Second")];
        let parts = digest_parts(&list, &source("en"));
        let (text, left_out) = plain(&parts[0].text);
        assert_eq!(left_out, 0);
        for i in &list {
            assert!(text.contains(&format!("\n{}", i.link)), "{text}");
        }
        assert!(text.contains("Tom & <Jerry>"), "{text}");
        assert!(
            text.starts_with("Akorda & co: 2 new releases\n\n• Tom & <Jerry>"),
            "{text}"
        );
    }

    /// A digest full to the limit: the addresses make its plain form longer, so its lines are
    /// cut to make room; it still fits, and every address that fits is there.
    #[test]
    fn a_plain_digest_fits_the_limit() {
        let list = items(60, 120);
        let parts = digest_parts(&list, &source("en"));
        for part in &parts {
            let (text, left_out) = plain(&part.text);
            assert!(utf16_len(&text) <= MESSAGE_LIMIT, "{}", utf16_len(&text));
            let shown = part.text.lines.len() - left_out;
            let addresses = text.matches("https://www.akorda.kz/en/release-").count();
            assert_eq!(addresses, shown, "{text}");
            assert!(left_out < part.text.lines.len(), "{text}");
        }
    }

    #[test]
    fn a_short_digest_is_one_message_listing_every_item_escaped() {
        let list = vec![item(1, "Tom & <Jerry>"), item(2, "Second")];
        let parts = digest_parts(&list, &source("en"));
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].items, 0..2);
        assert_eq!(
            parts[0].html(),
            "<b>Akorda &amp; co</b>: 2 new releases\n\n\
             • <a href=\"https://www.akorda.kz/en/release-1?a=1&amp;b=2\">Tom &amp; &lt;Jerry&gt;</a> · 21 March 2026\n\
             • <a href=\"https://www.akorda.kz/en/release-2?a=1&amp;b=2\">Second</a> · 21 March 2026\n\n\
             #akorda_en"
        );
        assert_eq!(check_markup(&parts[0].html()), Ok(()));
    }

    #[rstest]
    #[case::ru("ru", "новых публикаций: 3", "21 марта 2026")]
    #[case::kk("kk", "жаңа жарияланымдар: 3", "21 наурыз 2026")]
    fn header_and_dates_in_the_source_language(
        #[case] language: &str,
        #[case] header: &str,
        #[case] date: &str,
    ) {
        let parts = digest_parts(&items(3, 10), &source(language));
        assert!(parts[0].html().contains(header), "{}", parts[0].html());
        assert!(parts[0].html().contains(date), "{}", parts[0].html());
    }

    #[rstest]
    #[case::hundred_short(100, 60)]
    #[case::hundred_long(100, 290)]
    #[case::many_emoji_titles(40, 0)]
    #[case::one_huge_title(1, 5000)]
    fn parts_cover_every_item_once_in_order_within_the_limit(
        #[case] n: usize,
        #[case] title_len: usize,
    ) {
        let list: Vec<Item> = if title_len == 0 {
            (0..n).map(|i| item(i, &"😀".repeat(250))).collect()
        } else {
            items(n, title_len)
        };
        let parts = digest_parts(&list, &source("en"));
        let mut next = 0;
        for (k, part) in parts.iter().enumerate() {
            assert_eq!(part.items.start, next, "parts are consecutive");
            next = part.items.end;
            assert!(visible_utf16_len(&part.html()) <= MESSAGE_LIMIT, "part {k}");
            assert_eq!(check_markup(&part.html()), Ok(()), "part {k}");
            assert_eq!(part.html().matches("• ").count(), part.items.len());
            if parts.len() > 1 {
                let number = format!("({}/{})", k + 1, parts.len());
                assert!(part.html().contains(&number), "{number}");
            }
        }
        assert_eq!(next, n, "every item is listed");
    }

    #[test]
    fn split_falls_between_entries() {
        // A small limit to see the split: each entry is whole in exactly one part.
        let list = items(10, 20);
        let parts = digest_parts_within(&list, &source("en"), 200);
        assert!(parts.len() > 1);
        for part in &parts {
            assert!(visible_utf16_len(&part.html()) <= 200, "{}", part.html());
            for line in part.html().lines().filter(|l| l.starts_with('•')) {
                assert!(line.ends_with("· 21 March 2026"), "{line}");
            }
        }
    }

    /// Telegram drops the formatting past a message's 100th entity, and refuses a message whose
    /// links are too long in all: a digest of short titles, or of long addresses, is split by
    /// its links as well as by its length.
    #[rstest]
    #[case::short_titles(300, 1, 80)]
    #[case::long_addresses(60, 900, 6)]
    fn links_per_message_are_bounded(
        #[case] n: usize,
        #[case] address_len: usize,
        #[case] most: usize,
    ) {
        let list: Vec<Item> = (0..n)
            .map(|i| {
                let mut one = item(i, "Visit");
                one.link = format!("https://www.akorda.kz/{}-{i}", "a".repeat(address_len));
                one
            })
            .collect();
        let parts = digest_parts(&list, &source("en"));
        let mut listed = 0;
        for part in &parts {
            let links = part.html().matches("<a href=").count();
            assert!(links <= most, "{links} links in one message");
            let bytes: usize = part.items.clone().map(|i| list[i].link.len()).sum();
            assert!(bytes <= LINKS_LIMIT, "{bytes}");
            listed += links;
        }
        assert_eq!(listed, n, "every release listed once");
    }

    /// A correction rewrites its release's line and nothing else; a line grown past the
    /// message's room is cut to the room its line took; a release no longer stored keeps its
    /// line as sent.
    #[test]
    fn a_correction_rewrites_its_line_within_the_message() {
        let list = items(3, 20);
        let limit = 400;
        let parts = digest_parts_within(&list, &source("en"), limit);
        assert_eq!(parts.len(), 1);
        let sent = &parts[0].text;
        let mut fixed = list[1].clone();
        fixed.title = "Corrected & <b>".into();
        let now = |item: &Item| {
            let listed = [None, Some(item.clone()), Some(list[2].clone())];
            corrected_within(sent, &listed, &source("en"), limit)
        };
        let text = now(&fixed);
        assert_eq!((&text.head, &text.foot), (&sent.head, &sent.foot));
        assert_eq!(text.lines[0], sent.lines[0]);
        assert_eq!(text.lines[2], sent.lines[2]);
        assert!(
            text.lines[1].contains(">Corrected &amp; &lt;b&gt;</a>"),
            "{}",
            text.lines[1]
        );
        assert_eq!(check_markup(&text.html()), Ok(()));

        fixed.title = "y".repeat(2000);
        let text = now(&fixed);
        assert!(visible_utf16_len(&text.html()) <= limit, "{}", text.html());
        assert!(text.lines[1].contains("yyyy"), "{}", text.lines[1]);
        assert_eq!(text.lines[0], sent.lines[0]);
    }

    #[test]
    fn a_link_that_is_not_a_web_address_is_plain_text() {
        let mut one = item(1, "Title");
        one.link = "javascript:alert(1)".into();
        let parts = digest_parts(&[one], &source("en"));
        assert!(parts[0].html().contains("• Title · 21 March 2026"));
        assert!(!parts[0].html().contains("<a "));
        assert!(parts[0].html().contains(": 1 new release\n"));
    }
}
