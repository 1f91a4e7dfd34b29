//! Atom 1.0 (RFC 4287).
//!
//! `atom_syndication` validates nothing (FACTS "rss 2.1 / atom_syndication"), so what RFC 4287
//! requires is ensured here: a permanent feed id, an author (given once, at feed level, which
//! §4.1.1 allows for every entry), a self link, and `published` on each entry as well as
//! `updated`, because feedparser gives an entry with only `updated` no date (FACTS "Feed readers").

use atom_syndication::{Content, Entry, Feed, Generator, Link, Person, Text};
use chrono::{DateTime, FixedOffset, Utc};
use sha2::{Digest, Sha256};

use super::{
    FeedMeta, body_with_translations, clean, escape_html, present, summary_text, translations_of,
    uri_safe, xml_safe,
};
use crate::model::Item;

/// Renders an Atom 1.0 document; `items` arrive newest first and keep that order.
pub fn render(meta: &FeedMeta, items: &[Item]) -> String {
    let feed = Feed {
        title: text_construct(meta.title),
        // A filtered feed is a feed of its own (`?include=visit`), with an id of its own.
        id: feed_id(&format!("{}{}", meta.id, meta.query)),
        updated: fixed(meta.updated),
        // A person's name is plain text, with no `type` to say otherwise: written as a title is
        // in RSS, so that no reader (and no validator) takes a `<b>` in it for a tag.
        authors: vec![Person {
            name: plain_name(meta.title),
            ..Person::default()
        }],
        generator: Some(Generator {
            value: "herald".to_owned(),
            ..Generator::default()
        }),
        links: feed_links(meta),
        subtitle: present(Some(meta.description)).map(text_construct),
        lang: meta.language.map(clean),
        entries: items.iter().map(|item| entry(meta, item)).collect(),
        ..Feed::default()
    };
    let bytes = feed
        .write_to(Vec::new())
        .expect("writing XML into a Vec cannot fail");
    String::from_utf8(bytes).expect("atom_syndication writes UTF-8")
}

/// The self link, the page the feed stands for, and the WebSub hub when one is configured and the
/// feed is a plain one.
fn feed_links(meta: &FeedMeta) -> Vec<Link> {
    let mut links = vec![
        link("self", meta.self_url("atom"), Some("application/atom+xml")),
        link(
            "alternate",
            meta.home_page_url.to_owned(),
            Some("text/html"),
        ),
    ];
    if let Some(hub) = meta.advertised_hub() {
        links.push(link("hub", hub.to_owned(), None));
    }
    links
}

fn entry(meta: &FeedMeta, item: &Item) -> Entry {
    // In the merged feed the feed has no `xml:lang`; each entry's texts then carry their own.
    let lang = present(Some(&item.language))
        .filter(|&lang| meta.language != Some(lang))
        .map(clean);
    let mut links = vec![link("alternate", item.link.clone(), None)];
    if let Some(image) = present(item.image.as_deref()) {
        // RFC 4287 §4.2.7.2: `length` is advisory; the W3C validator accepts an enclosure without
        // it or a type (validate.sh), which RSS's `<enclosure>` would require.
        links.push(link("enclosure", image.to_owned(), None));
    }
    // RFC 4287 §4.2.7.4: each translation is an alternate of its own `hreflang`, which keeps
    // the combination of type and hreflang distinct from the main alternate link.
    for t in translations_of(meta, item) {
        let mut alternate = link("alternate", t.link.clone(), Some("text/html"));
        alternate.hreflang = Some(clean(&t.language));
        alternate.title = Some(clean(crate::lang::name(&t.language)));
        links.push(alternate);
    }
    Entry {
        title: Text {
            lang: lang.clone(),
            ..text_construct(&item.title)
        },
        // SPEC "HTTP": ids are stable for ever and never depend on `public_url`.
        id: item.id.guid(),
        updated: fixed(item.updated),
        published: Some(fixed(item.published)),
        links,
        summary: summary_text(item).map(|summary| Text {
            lang: lang.clone(),
            ..text_construct(&summary)
        }),
        content: Some(Content {
            lang,
            value: Some(body_with_translations(meta, item)),
            content_type: Some("html".to_owned()),
            ..Content::default()
        }),
        ..Entry::default()
    }
}

/// A title or summary, which are plain text, and go out as `type="text"`, so that every reader
/// reads them as written ("AT&T", "a < b"). Text that reads as markup (a tag such as
/// `<script>`, or an entity name such as `&amp;`) goes out as `type="html"`, escaped once more
/// (RFC 4287 §3.1.1.2): the W3C validator warns "should not contain HTML unless declared in the
/// type attribute" about `type="text"` holding those, and a reader that wrongly renders text as
/// HTML then still shows `<script>` instead of running it.
fn text_construct(text: &str) -> Text {
    let text = xml_safe(text);
    if reads_as_markup(&text) {
        Text::html(escape_html(&text))
    } else {
        Text::plain(text)
    }
}

/// Whether `text` holds what an HTML reader would take for markup: a `<` opening a tag (a
/// letter, `/`, `!` or `?` after it) or an `&` starting a character reference (`&name;`,
/// `&#…`, or one of the names HTML reads without a semicolon, such as `&amp`).
fn reads_as_markup(text: &str) -> bool {
    let opens_tag = |rest: &str| {
        rest.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'))
    };
    text.match_indices(['<', '&']).any(|(at, mark)| {
        let rest = &text[at + 1..];
        if mark == "<" {
            opens_tag(rest)
        } else {
            starts_reference(rest)
        }
    })
}

/// Whether `rest`, after an `&`, makes it a character reference to an HTML reader (`&name;`,
/// `&#…`, or one of the names HTML reads without a semicolon, such as `&amp`).
fn starts_reference(rest: &str) -> bool {
    if let Some(number) = rest.strip_prefix('#') {
        return number.starts_with(|c: char| c.is_ascii_digit() || c == 'x' || c == 'X');
    }
    let end = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let name = &rest[..end];
    (end > 0 && rest[end..].starts_with(';'))
        || ["amp", "lt", "gt", "quot", "nbsp", "copy", "reg"]
            .iter()
            .any(|legacy| name.to_ascii_lowercase().starts_with(legacy))
}

/// A person's name, which Atom makes plain text with no `type` to say otherwise: as a title in
/// RSS (see `plain_title`), and with a U+2060 WORD JOINER after an `&` that would start a
/// character reference (`&amp;` from a site that escaped twice), so that neither a reader nor
/// the W3C validator ("name should not contain HTML") reads markup in it.
fn plain_name(text: &str) -> String {
    let text = super::plain_title(text);
    let mut out = String::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        out.push(c);
        if c == '&' && starts_reference(&text[at + 1..]) {
            out.push('\u{2060}');
        }
    }
    out
}

fn link(rel: &str, href: String, mime_type: Option<&str>) -> Link {
    Link {
        href: uri_safe(&href),
        rel: rel.to_owned(),
        mime_type: mime_type.map(str::to_owned),
        ..Link::default()
    }
}

/// The document [`render`] gives with `meta.updated` set to `updated`, from one it gave with
/// another date: the feed's `updated` comes before every entry's, and the entries need not be
/// rendered again.
pub fn redated(body: &str, updated: DateTime<Utc>) -> Option<String> {
    super::with_first_element_text(body, "updated", &fixed(updated).to_rfc3339())
}

fn fixed(time: DateTime<Utc>) -> DateTime<FixedOffset> {
    super::to_micros(time).fixed_offset()
}

/// The feed's `<id>`: RFC 4287 §4.2.6 wants it permanent, so it derives from the feed id alone
/// (never `public_url`, SPEC "HTTP"), as a version-8 UUID over SHA-256("herald-feed:" + id).
pub fn feed_id(id: &str) -> String {
    let digest = Sha256::digest(format!("herald-feed:{id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80; // RFC 9562 version 8
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 9562 variant
    format!("urn:uuid:{}", uuid::Uuid::from_bytes(bytes).hyphenated())
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::render::samples;
    use atom_syndication::TextType;

    /// Setting the feed's date afterwards gives the document rendered with that date (the
    /// items' own dates, sample 1's included, left alone).
    #[test]
    fn redated_is_the_document_rendered_with_that_date() {
        let items = samples::items();
        let mut meta = samples::meta(samples::PUBLIC_URL);
        meta.updated = items[1].updated;
        let first = render(&meta, &items);
        meta.updated = samples::time(20, 7);
        assert_eq!(
            redated(&first, meta.updated).as_deref(),
            Some(&*render(&meta, &items))
        );
    }

    fn parse(xml: &str) -> Feed {
        Feed::read_from(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}: {xml}"))
    }

    #[test]
    fn parses_back_with_ids_and_order_kept() {
        let items = samples::items();
        let feed = parse(&render(&samples::meta(samples::PUBLIC_URL), &items));
        let ids: Vec<_> = feed.entries.iter().map(|e| e.id.clone()).collect();
        let expected: Vec<_> = items.iter().map(|i| i.id.guid()).collect();
        assert_eq!(ids, expected);
        for (entry, item) in feed.entries.iter().zip(&items) {
            assert_eq!(entry.published, Some(fixed(item.published)));
            assert_eq!(entry.updated, fixed(item.updated));
            assert_eq!(entry.links[0].href, item.link);
            assert_eq!(
                entry.content.as_ref().unwrap().content_type.as_deref(),
                Some("html")
            );
        }
    }

    #[test]
    fn feed_describes_itself() {
        let feed = parse(&render(
            &samples::meta(samples::PUBLIC_URL),
            &samples::items(),
        ));
        assert_eq!(feed.id, feed_id("akorda-kk"));
        assert_eq!(feed.lang.as_deref(), Some("kk"));
        assert_eq!(feed.authors[0].name, "Ақорда — баспасөз релиздері & news");
        assert_eq!(feed.title.value, "Ақорда — баспасөз релиздері & news");
        assert_eq!(feed.title.r#type, TextType::Text);
        assert_eq!(feed.updated, fixed(samples::time(9, 12)));
        let self_link = feed.links.iter().find(|l| l.rel == "self").unwrap();
        assert_eq!(
            self_link.href,
            "https://feeds.example.org/feeds/akorda-kk.atom"
        );
        assert_eq!(self_link.mime_type.as_deref(), Some("application/atom+xml"));
    }

    #[rstest]
    #[case::source("akorda-kk", "urn:uuid:")]
    #[case::merged("all", "urn:uuid:")]
    fn feed_id_is_a_stable_v8_urn(#[case] id: &str, #[case] prefix: &str) {
        let urn = feed_id(id);
        assert!(urn.starts_with(prefix));
        assert_eq!(urn, feed_id(id));
        assert_eq!(&urn[9 + 14..9 + 15], "8");
        // Moving herald to another host must not change the id.
        let a = render(&samples::meta("https://a.example"), &[]);
        let b = render(&samples::meta("https://b.example"), &[]);
        assert_eq!(parse(&a).id, parse(&b).id);
    }

    #[test]
    fn hostile_text_is_escaped_and_stripped() {
        let xml = render(&samples::meta(samples::PUBLIC_URL), &samples::items());
        assert!(!xml.contains('\u{0}') && !xml.contains('\u{1b}') && !xml.contains('\u{FFFE}'));
        assert!(!xml.contains("<script>"), "{xml}");
        let entry = &parse(&xml).entries[1];
        // Declared as HTML and escaped once more, so that it is shown, never run.
        assert_eq!(entry.title.r#type, TextType::Html);
        assert_eq!(
            entry.title.value,
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Tom &amp; Jerry[0m ✨🎉"
        );
        assert_eq!(entry.summary.as_ref().unwrap().r#type, TextType::Html);
        assert_eq!(
            entry.content.as_ref().unwrap().value.as_deref(),
            Some("<p>Tom &amp; Jerry &lt;b&gt;not bold&lt;/b&gt; and [31m escapes</p>")
        );
    }

    /// Text is text unless an HTML reader would take part of it for markup: then it is
    /// declared HTML and escaped once more.
    #[rstest]
    #[case::ampersand("AT&T and Tom & Jerry", false)]
    #[case::comparison("a < b, 3<4 and x <= y", false)]
    #[case::generic("Option<T> in Rust", true)]
    #[case::end_tag("x </b> y", true)]
    // No U+2060 in Atom titles or summaries: `type="html"` keeps the text as written.
    #[case::start_tag("President signs law on <education>", true)]
    #[case::entity_name("Tom &amp; Jerry", true)]
    #[case::numeric_reference("&#169; 2026", true)]
    #[case::no_reference("R&D, &# and & alone", false)]
    #[case::legacy_name("&amp without a semicolon", true)]
    #[case::numeric_without_semicolon("&#169 2026", true)]
    fn text_is_declared_html_only_when_it_reads_as_markup(#[case] text: &str, #[case] html: bool) {
        let construct = text_construct(text);
        let wanted = if html { TextType::Html } else { TextType::Text };
        assert_eq!(construct.r#type, wanted, "{text}");
        // What a reader gets back either way.
        let read = if html {
            crate::markup::decode(&construct.value)
        } else {
            construct.value.clone()
        };
        assert_eq!(read, text);
    }

    #[rstest]
    #[case::full(0, true, true)]
    #[case::summary_only(2, true, false)]
    #[case::bare(3, false, false)]
    #[case::blank_summary(4, false, false)]
    fn entry_parts_follow_what_is_known(
        #[case] index: usize,
        #[case] has_summary: bool,
        #[case] has_image: bool,
    ) {
        let items = samples::items();
        let feed = parse(&render(&samples::meta(samples::PUBLIC_URL), &items));
        let entry = &feed.entries[index];
        assert_eq!(entry.summary.is_some(), has_summary);
        let enclosure = entry.links.iter().find(|l| l.rel == "enclosure");
        assert_eq!(
            enclosure.map(|l| l.href.as_str()),
            items[index].image.as_deref()
        );
        assert_eq!(enclosure.is_some(), has_image);
    }

    #[test]
    fn merged_feed_marks_each_entry_language() {
        let items = samples::items();
        let feed = parse(&render(&samples::meta_all(samples::PUBLIC_URL), &items));
        assert_eq!(feed.lang, None);
        assert_eq!(feed.entries[2].title.lang.as_deref(), Some("ru"));
        assert_eq!(feed.entries[0].title.lang.as_deref(), Some("kk"));
        // In a Kazakh feed, the Russian entry alone says so.
        let feed = parse(&render(&samples::meta(samples::PUBLIC_URL), &items));
        assert_eq!(feed.entries[0].title.lang, None);
        assert_eq!(feed.entries[2].title.lang.as_deref(), Some("ru"));
        assert_eq!(feed.entries[2].title.r#type, TextType::Text);
    }

    #[test]
    fn empty_feed_is_well_formed() {
        let feed = parse(&render(&samples::meta_all(samples::PUBLIC_URL), &[]));
        assert!(feed.entries.is_empty());
        assert_eq!(feed.id, feed_id("all"));
    }
}
