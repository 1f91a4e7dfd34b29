//! RSS 2.0 (<https://www.rssboard.org/rss-specification>) with the extensions readers expect:
//! `atom:link rel="self"`, `content:encoded` for the full body and `media:content` for the image.
//!
//! The `rss` crate escapes text but writes control characters raw and declares no namespace by
//! itself except `content:` (FACTS "rss 2.1 / atom_syndication"), so every string passes through
//! `xml_safe` and the `atom:`/`media:` namespaces are declared here.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rss::extension::{Extension, ExtensionMap};
use rss::{Channel, Guid, Item as RssItem};

use super::{
    FeedMeta, body_html, body_with_translations, clean, escape_html, plain_title, present,
    summary_text, translations_of, uri_safe,
};
use crate::model::Item;

const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";

/// Renders an RSS 2.0 document; `items` arrive newest first and keep that order.
pub fn render(meta: &FeedMeta, items: &[Item]) -> String {
    let mut namespaces = BTreeMap::from([("atom".to_owned(), ATOM_NS.to_owned())]);
    if items
        .iter()
        .any(|item| present(item.image.as_deref()).is_some())
    {
        namespaces.insert("media".to_owned(), MEDIA_NS.to_owned());
    }
    let channel = Channel {
        title: plain_title(meta.title),
        link: uri_safe(meta.home_page_url),
        // Plain text like the title (a source's title, a filtered feed's words): no markup.
        description: plain_title(meta.description),
        language: meta.language.map(clean),
        last_build_date: Some(rfc822(meta.updated)),
        generator: Some("herald".to_owned()),
        ttl: meta.ttl_minutes.map(|minutes| minutes.to_string()),
        // The W3C validator warns about a feed without `atom:link rel="self"` (FACTS "Feed readers").
        extensions: channel_links(meta),
        namespaces,
        items: items.iter().map(|item| rss_item(meta, item)).collect(),
        ..Channel::default()
    };
    let bytes = channel
        .write_to(Vec::new())
        .expect("writing XML into a Vec cannot fail");
    hex_refs_outside_cdata(&String::from_utf8(bytes).expect("the rss crate writes UTF-8"))
}

/// Rewrites the writer's `&lt;` and `&amp;` as `&#x3C;` and `&#x26;` everywhere but in CDATA.
///
/// RSS has no way to say whether a title is text or HTML. The RSS Best Practices Profile
/// ("Encoding & and <") settles it: "encode & and < in plain text using hexadecimal character
/// references", and the W3C validator warns "title should not contain HTML" about plain text
/// that parses to an entity name (`&copy;` from a site that escaped twice) or to `<` and a letter
/// unless it is written so (end tags are `plain_title`'s job). To an XML parser both spellings are
/// the same character. CDATA sections (`description`, `content:encoded`) hold HTML and are left as
/// written.
fn hex_refs_outside_cdata(xml: &str) -> String {
    const OPEN: &str = "<![CDATA[";
    const CLOSE: &str = "]]>";
    let mut out = String::with_capacity(xml.len() + xml.len() / 16);
    let mut rest = xml;
    while let Some(start) = rest.find(OPEN) {
        let (plain, cdata) = rest.split_at(start);
        out.push_str(&plain.replace("&lt;", "&#x3C;").replace("&amp;", "&#x26;"));
        // The writer always closes what it opens; without a close, keep the rest as it is.
        let end = cdata.find(CLOSE).map_or(cdata.len(), |i| i + CLOSE.len());
        out.push_str(&cdata[..end]);
        rest = &cdata[end..];
    }
    out.push_str(&rest.replace("&lt;", "&#x3C;").replace("&amp;", "&#x26;"));
    out
}

/// `atom:link rel="self"`, and `rel="hub"` when a WebSub hub is configured and the feed is a
/// plain one (WebSub §4: a publisher advertises its hub and the topic, the self link, in the feed
/// itself).
fn channel_links(meta: &FeedMeta) -> ExtensionMap {
    let mut links = single_extension(
        "atom",
        "link",
        [
            ("href", uri_safe(&meta.self_url("rss"))),
            ("rel", "self".to_owned()),
            ("type", "application/rss+xml".to_owned()),
        ],
    );
    if let Some(hub) = meta.advertised_hub() {
        let hub_link = Extension {
            name: "atom:link".to_owned(),
            attrs: BTreeMap::from([
                ("href".to_owned(), uri_safe(hub)),
                ("rel".to_owned(), "hub".to_owned()),
            ]),
            ..Extension::default()
        };
        if let Some(list) = links
            .get_mut("atom")
            .and_then(|names| names.get_mut("link"))
        {
            list.push(hub_link);
        }
    }
    links
}

fn rss_item(meta: &FeedMeta, item: &Item) -> RssItem {
    let translations = translations_of(meta, item);
    // `description` is HTML to readers (the crate writes it as CDATA): a plain summary is escaped
    // so that its `<` and `&` are shown, not parsed; without one, the body stands in.
    let description = match summary_text(item) {
        Some(summary) => escape_html(&summary),
        None => body_html(item),
    };
    // The "Also in" links go with the full body; an item without one gets the body made up.
    let content = match present(item.content_html.as_deref()) {
        _ if !translations.is_empty() => Some(body_with_translations(meta, item)),
        Some(html) => Some(clean(html)),
        None => None,
    };
    RssItem {
        title: Some(plain_title(&item.title)),
        link: Some(uri_safe(&item.link)),
        description: Some(description),
        // SPEC "HTTP": GUIDs are stable for ever and never depend on `public_url`.
        guid: Some(Guid {
            value: item.id.guid(),
            permalink: false,
        }),
        pub_date: Some(rfc822(item.published)),
        content,
        // The length and type an `<enclosure>` requires are unknown, so the image goes in Media
        // RSS, which needs neither.
        extensions: match present(item.image.as_deref()) {
            Some(image) => single_extension(
                "media",
                "content",
                [("url", uri_safe(image)), ("medium", "image".to_owned())],
            ),
            None => ExtensionMap::new(),
        },
        ..RssItem::default()
    }
}

/// An extension map holding one empty element `prefix:name` with the given attributes.
fn single_extension<const N: usize>(
    prefix: &str,
    name: &str,
    attrs: [(&str, String); N],
) -> ExtensionMap {
    let element = Extension {
        name: format!("{prefix}:{name}"),
        attrs: attrs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        ..Extension::default()
    };
    BTreeMap::from([(
        prefix.to_owned(),
        BTreeMap::from([(name.to_owned(), vec![element])]),
    )])
}

/// RFC 822 date as RSS 2.0 requires, in UTC with a numeric zone. Formatted by hand rather than
/// with `to_rfc2822`, which panics outside the years 0–9999.
/// The document [`render`] gives with `meta.updated` set to `updated`, from one it gave with
/// another date: the feed's `lastBuildDate` is the only place that date is written, and the
/// items need not be rendered again.
pub fn redated(body: &str, updated: DateTime<Utc>) -> Option<String> {
    super::with_first_element_text(body, "lastBuildDate", &rfc822(updated))
}

fn rfc822(time: DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::render::samples;

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

    fn parse(xml: &str) -> Channel {
        Channel::read_from(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}: {xml}"))
    }

    #[test]
    fn parses_back_with_guids_and_order_kept() {
        let items = samples::items();
        let xml = render(&samples::meta(samples::PUBLIC_URL), &items);
        let channel = parse(&xml);
        let guids: Vec<_> = channel
            .items
            .iter()
            .map(|i| i.guid.clone().unwrap())
            .collect();
        let expected: Vec<_> = items.iter().map(|i| i.id.guid()).collect();
        assert_eq!(
            guids.iter().map(|g| g.value.clone()).collect::<Vec<_>>(),
            expected
        );
        assert!(guids.iter().all(|g| !g.permalink));
        assert_eq!(
            channel.items[1].link.as_deref(),
            Some(items[1].link.as_str())
        );
    }

    #[test]
    fn channel_describes_itself() {
        let xml = render(&samples::meta(samples::PUBLIC_URL), &samples::items());
        let channel = parse(&xml);
        assert_eq!(channel.title, "Ақорда — баспасөз релиздері & news");
        assert_eq!(channel.language.as_deref(), Some("kk"));
        assert_eq!(channel.ttl.as_deref(), Some("30"));
        assert_eq!(channel.generator.as_deref(), Some("herald"));
        assert_eq!(
            channel.last_build_date.as_deref(),
            Some("Mon, 09 Mar 2026 12:15:07 +0000")
        );
        let self_link = &channel.extensions["atom"]["link"][0];
        assert_eq!(
            self_link.attrs["href"],
            "https://feeds.example.org/feeds/akorda-kk.rss"
        );
        assert_eq!(self_link.attrs["rel"], "self");
        assert!(xml.contains(r#"xmlns:atom="http://www.w3.org/2005/Atom""#));
        assert!(xml.contains(r#"xmlns:media="http://search.yahoo.com/mrss/""#));
        assert!(xml.contains(r#"xmlns:content="http://purl.org/rss/1.0/modules/content/""#));
    }

    #[test]
    fn hostile_text_is_escaped_and_stripped() {
        let xml = render(&samples::meta(samples::PUBLIC_URL), &samples::items());
        assert!(!xml.contains('\u{0}') && !xml.contains('\u{1b}') && !xml.contains('\u{FFFE}'));
        assert!(!xml.contains("<script>"));
        assert!(xml.contains(
            "<title>&#x3C;\u{2060}script&gt;alert(&apos;x&apos;)&#x3C;\u{2060}/script&gt; Tom &#x26; Jerry"
        ));
        assert!(xml.contains("search?q=a&#x26;page=2&#x26;lang=kk"));
        let item = &parse(&xml).items[1];
        assert_eq!(
            item.title.as_deref(),
            Some("<\u{2060}script>alert('x')<\u{2060}/script> Tom & Jerry[0m ✨🎉")
        );
        // Description is HTML: the summary's own markup must reach the reader as text.
        assert_eq!(
            item.description.as_deref(),
            Some("Tom &amp; Jerry &lt;b&gt;not bold&lt;/b&gt; and [31m escapes")
        );
    }

    #[rstest]
    #[case::plain_text("a < b, c<3 & d", "a < b, c<3 & d")]
    #[case::tags(
        "<b>x</b><!--c--><?p",
        "<\u{2060}b>x<\u{2060}/b><\u{2060}!--c--><\u{2060}?p"
    )]
    #[case::control_chars_too("a\u{0}<i>", "a<\u{2060}i>")]
    fn titles_cannot_open_tags(#[case] title: &str, #[case] expected: &str) {
        assert_eq!(plain_title(title), expected);
    }

    #[rstest]
    #[case::plain("<a>x &amp; &lt;y&gt;</a>", "<a>x &#x26; &#x3C;y&gt;</a>")]
    #[case::cdata_untouched(
        "<t>&lt;</t><d><![CDATA[&lt;p&gt; &amp;]]></d><t>&amp;</t>",
        "<t>&#x3C;</t><d><![CDATA[&lt;p&gt; &amp;]]></d><t>&#x26;</t>"
    )]
    #[case::split_cdata(
        "<![CDATA[a]]]]><![CDATA[>&amp;]]>&amp;",
        "<![CDATA[a]]]]><![CDATA[>&amp;]]>&#x26;"
    )]
    #[case::attribute(r#"<l href="?a=1&amp;b=2"/>"#, r#"<l href="?a=1&#x26;b=2"/>"#)]
    fn plain_text_uses_hex_references(#[case] xml: &str, #[case] expected: &str) {
        assert_eq!(hex_refs_outside_cdata(xml), expected);
    }

    #[rstest]
    #[case::full(0, true, true, true)]
    #[case::summary_only(2, false, false, true)]
    #[case::bare(3, false, false, false)]
    #[case::content_blank_summary(4, true, false, false)]
    fn item_parts_follow_what_is_known(
        #[case] index: usize,
        #[case] has_content: bool,
        #[case] has_image: bool,
        #[case] description_is_summary: bool,
    ) {
        let items = samples::items();
        let channel = parse(&render(&samples::meta(samples::PUBLIC_URL), &items));
        let (item, rendered) = (&items[index], &channel.items[index]);
        assert_eq!(rendered.content.is_some(), has_content);
        assert_eq!(rendered.extensions.contains_key("media"), has_image);
        assert!(rendered.enclosure.is_none());
        let description = rendered.description.as_deref().unwrap();
        assert_eq!(
            description == escape_html(item.summary.as_deref().unwrap_or_default()),
            description_is_summary
        );
        assert_eq!(rendered.pub_date, Some(rfc822(item.published)));
    }

    #[test]
    fn empty_feed_is_well_formed() {
        let xml = render(&samples::meta_all(samples::PUBLIC_URL), &[]);
        let channel = parse(&xml);
        assert!(channel.items.is_empty());
        assert_eq!(channel.language, None);
        assert_eq!(channel.ttl, None);
        assert!(!xml.contains("xmlns:media"));
    }
}
