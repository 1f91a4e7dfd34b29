//! Upstream feeds (`kind = "feed"`): RSS 0.90-2.0 (also without a version, in a namespace, or
//! as RDF), Atom 0.3/1.0 and JSON Feed, read with feed-rs and turned into the same `Scraped`
//! releases a list page gives. What a reader like Python feedparser reads is read here too:
//!
//! - identity: an entry's own guid/id, else its link, else a hash of its text (`id_pattern`
//!   still wins when it matches the link); a guid/id several entries of the document share
//!   identifies none of them (each by its link, else its text), but an entry listed twice
//!   (same guid/id, same link) is one entry keyed by it;
//! - an entry without a title gets one from its text; its link is its alternate link (an
//!   `atom:link` in RSS too), else a permalink guid or a URL id (against `xml:base`), else an
//!   `rdf:about`, else a link of a rel that may name a page, else the feed's home page (never a
//!   `self`/`edit`/`enclosure` link); an entry with neither link nor text is skipped and counted;
//! - text constructs written as text (Atom `type="text"` or no type, JSON Feed, RSS titles that
//!   hold no markup) stay text, escaped when they are the body; the text of scripts, styles,
//!   templates and the like is never text; an HTML summary without content is the body;
//! - the picture is an image (by type, `medium`, or file name), never audio or video; else the
//!   first `<img>` of the summary, else of the content (a lazy-loaded one by its real source,
//!   never inline data nor a tracking pixel), else the item's own `itunes:image`;
//! - dates in the common variants are read (`feed_dates`), JSON Feed's too; an entry without a
//!   readable date (or with one no release carries, "01 Jan 1970") takes its neighbour's, so
//!   that it keeps its place in the feed's order;
//! - a document that is no feed says what it is.
//!
//! The text handed in is already decoded ([`crate::encoding`]); an XML declaration's `encoding=`
//! is dropped before parsing, or feed-rs would decode the text a second time.

use super::{ExtractError, canonical_link, item_key, link_key, sanitize_html};
use crate::dates::ParsedDate;
use crate::extract::feed_dates::feed_date;
use crate::model::Scraped;
use crate::text::clean;
use feed_rs::model::{Entry, FeedType, Text};
use quick_xml::events::{BytesStart, Event};
use regex::Regex;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;
use url::Url;

/// The entries of an upstream feed, in the feed's order, and how many were skipped (neither a
/// link nor any text).
#[derive(Debug, Default)]
pub struct FeedEntries {
    pub entries: Vec<Scraped>,
    pub skipped: usize,
    /// `(link, text)` of entries whose date is written but does not read, or is no release's
    /// (before 1990, over a year ahead): such an entry takes its neighbour's date, and the
    /// poll says so.
    pub unreadable_dates: Vec<(String, String)>,
    /// Entries whose guid/id other entries of the document share, identified otherwise: the
    /// id each had, by the key it has now (a release stored under that id may be one of them).
    pub shared_ids: HashMap<String, String>,
    /// The page the feed names as its site's (its alternate link, `<link>` in RSS,
    /// `home_page_url` in a JSON Feed), when it names one.
    pub site: Option<Url>,
}

/// Every entry of an upstream feed, in the feed's order.
///
/// Entries past the first `max_entries` are left unread, with a warning: they are cut from the
/// document before feed-rs builds them, so that a feed of a hundred thousand entries costs what
/// its first `max_entries` cost.
pub fn feed_entries(
    text: &str,
    feed_url: &Url,
    id_pattern: Option<&Regex>,
    max_entries: usize,
) -> Result<FeedEntries, ExtractError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text).trim_start();
    if is_gzip(text) {
        // Read as feedparser reads it: not at all (the server labelled it wrongly).
        return Err(ExtractError::NotAFeed(
            "a gzip-compressed body sent without Content-Encoding: gzip".into(),
        ));
    }
    let text = crate::encoding::without_declared_encoding(past_junk(text));
    let body = text.trim_start();
    if body.is_empty() {
        return Err(ExtractError::NotAFeed("the document is empty".into()));
    }
    let unread = |read: usize| {
        tracing::warn!(feed = %feed_url, read, "the feed has more entries than are read (max_page_items); the rest are left unread");
    };
    let (mut document, mut facts) = if body.starts_with('{') || body.starts_with('[') {
        match json_items_bounded(body, max_entries)? {
            Some((document, facts, cut)) => {
                if cut {
                    unread(max_entries);
                }
                (Cow::Owned(document), Some(facts))
            }
            None => (Cow::Borrowed(body), None),
        }
    } else if body.starts_with('<') {
        let mut document = normalize_xml(body)?;
        if let Some(joined) = join_documents(&document) {
            // Read as feed readers read it: the entries of every document, in order.
            tracing::warn!(feed = %feed_url, "the feed is several XML documents written one after another (not well-formed); the entries of all of them are read");
            document = joined;
        }
        if let Some(cut) = kept_entries(&document, max_entries) {
            unread(max_entries);
            document = cut;
        }
        let facts = entry_facts(&document, feed_url);
        (Cow::Owned(document), Some(facts))
    } else {
        return Err(ExtractError::NotAFeed(format!(
            "neither XML nor JSON: the document starts with {:?}",
            body.chars().take(20).collect::<String>()
        )));
    };
    // A parser for each parse: one that has failed keeps state that makes the next one panic.
    let parse = |document: &str| {
        feed_rs::parser::Builder::new()
            // No made-up ids: an entry without its own id is identified by herald (`key`).
            .id_generator(|_, _, _| String::new())
            // Relative URLs (xml:base, links, enclosures, media) resolve against the
            // document's address; feed-rs drops a relative media URL it cannot resolve.
            .base_uri(Some(feed_url.as_str()))
            .build()
            .parse(document.as_bytes())
    };
    let mut parsed = parse(&document);
    if let (Err(feed_rs::parser::ParseFeedError::XmlReader(e)), Some(_)) = (&parsed, &facts)
        && let Some((mut repaired, damage)) = close_open_entries(&document)
            .map(|fixed| {
                let damage = "an entry left open where the next starts";
                (repair_xml(&fixed).unwrap_or(fixed), damage)
            })
            .or_else(|| repair_xml(&document).map(|fixed| (fixed, "")))
    {
        // Not well-formed: a bare `&`, HTML written into a title or a description, an entry
        // left open, documents written one after another. Read as feed readers read it, every
        // entry kept, rather than cut at the damage.
        tracing::warn!(feed = %feed_url, error = %e, damage, "the feed document is not well-formed XML; it is repaired and read");
        if let Some(cut) = kept_entries(&repaired, max_entries) {
            unread(max_entries);
            repaired = cut;
        }
        facts = Some(entry_facts(&repaired, feed_url));
        document = Cow::Owned(repaired);
        parsed = parse(&document);
    }
    if let (Err(feed_rs::parser::ParseFeedError::XmlReader(e)), Some(_)) = (&parsed, &facts)
        && let Some(whole) = complete_entries(&document)
    {
        // Cut short (a dropped connection, a full disk upstream) or broken past its last
        // whole entry: the entries before the damage are read, with a warning.
        tracing::warn!(feed = %feed_url, error = %e, "the feed document is not well-formed past its last whole entry; the entries before it are read");
        facts = Some(entry_facts(&whole, feed_url));
        document = Cow::Owned(whole);
        parsed = parse(&document);
    }
    let feed = match parsed {
        Ok(feed) => feed,
        // An `<rss>` or `<rdf:RDF>` without a `<channel>`: a feed of nothing, as feedparser
        // reads it (the root was checked above).
        Err(feed_rs::parser::ParseFeedError::ParseError(
            feed_rs::parser::ParseErrorKind::NoFeedRoot,
        )) if facts.as_ref().is_some_and(Vec::is_empty) => return Ok(FeedEntries::default()),
        Err(feed_rs::parser::ParseFeedError::ParseError(
            feed_rs::parser::ParseErrorKind::NoFeedRoot,
        )) if facts.is_some() => {
            return Err(ExtractError::NotAFeed(
                "a feed whose entries are not in a channel where a reader finds them".into(),
            ));
        }
        Err(e) => return Err(ExtractError::NotAFeed(parse_error(&document, &e))),
    };
    let facts = facts.unwrap_or_default();
    let written = facts.len();
    let entries = with_facts(feed.entries, facts);
    if entries.is_empty() && written > 0 {
        // Never a silent feed of nothing: entries that could not be read are said.
        return Err(ExtractError::NotAFeed(format!(
            "a feed whose {written} entries are not where a feed has them (none could be read)"
        )));
    }
    let site = feed
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .and_then(|l| canonical_link(feed_url, &l.href));
    let home = site.clone().unwrap_or_else(|| feed_url.clone());
    let reading = Reading {
        kind: feed.feed_type.clone(),
        feed_url,
        home: &home,
        id_pattern,
    };
    let mut out = FeedEntries {
        site: site.filter(|s| s != feed_url),
        ..FeedEntries::default()
    };
    let mut read = Vec::with_capacity(entries.len());
    for (entry, facts) in entries {
        match reading.entry(entry, facts.as_ref()) {
            Some(r) => read.push(r),
            None => out.skipped += 1,
        }
    }
    out.shared_ids = identify_sharers(&mut read, feed_url);
    out.unreadable_dates = read
        .iter()
        .filter_map(|r| Some((r.scraped.link.clone(), r.unread_date.clone()?)))
        .collect();
    out.entries = read.into_iter().map(|r| r.scraped).collect();
    keep_feed_order(&mut out.entries);
    Ok(out)
}

/// A guid/id that more than one entry of the document uses identifies none of them (a feed that
/// gives every entry its home page as guid would otherwise be one release, and its next entry an
/// edit of the last): those entries are identified by their link instead, else by a hash of what
/// they say (also when their link is another entry's key). Entries of the same guid/id and the
/// same link (without a link: the same title and text) are one entry listed twice, not sharers:
/// each keeps the key of the first, so that the poll drops the later ones as it drops any
/// repeated id (an id they share alone stays their key, as it always was). Said once per
/// document. Returns the shared id of each entry so re-keyed, by its new key.
fn identify_sharers(read: &mut [Read], feed_url: &Url) -> HashMap<String, String> {
    // The entry an entry is a copy of: the first of its id, link (else text) and title. Two
    // entries under one guid and one link with different titles (the parts of a series) are
    // two entries, as a reader shows them.
    let same = |r: &Read| {
        (
            r.scraped.key.clone(),
            r.by_link.clone().unwrap_or_else(|| r.by_content.clone()),
            r.scraped.title.clone(),
        )
    };
    let mut first_of: HashMap<(String, String, String), usize> = HashMap::new();
    let mut copy_of: Vec<Option<usize>> = Vec::with_capacity(read.len());
    let mut uses: HashMap<String, usize> = HashMap::new();
    for (i, r) in read.iter().enumerate() {
        if !r.from_id {
            copy_of.push(None);
            continue;
        }
        match first_of.entry(same(r)) {
            std::collections::hash_map::Entry::Occupied(first) => copy_of.push(Some(*first.get())),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(i);
                copy_of.push(None);
                *uses.entry(r.scraped.key.clone()).or_default() += 1;
            }
        }
    }
    let shared: HashSet<String> = uses
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(id, _)| id)
        .collect();
    if shared.is_empty() {
        return HashMap::new();
    }
    let is_sharer = |r: &Read| r.from_id && shared.contains(&r.scraped.key);
    let sharers = read.iter().filter(|r| is_sharer(r)).count();
    tracing::warn!(
        feed = %feed_url,
        ids = shared.len(),
        entries = sharers,
        example = %shared.iter().next().map_or("", String::as_str),
        "entries of the feed share a guid/id: each of them is identified by its link (else its text) instead"
    );
    // The keys no re-keyed entry may take: those of the other entries, and the links taken.
    let mut taken: HashSet<String> = read
        .iter()
        .filter(|r| !is_sharer(r))
        .map(|r| r.scraped.key.clone())
        .collect();
    let mut link_uses: HashMap<String, usize> = HashMap::new();
    for (r, copy) in read.iter().zip(&copy_of) {
        if is_sharer(r)
            && copy.is_none()
            && let Some(link) = &r.by_link
        {
            *link_uses.entry(link.clone()).or_default() += 1;
        }
    }
    let mut re_keyed = HashMap::new();
    for i in 0..read.len() {
        if !is_sharer(&read[i]) {
            continue;
        }
        let key = match copy_of[i] {
            // Re-keyed already: the first comes before its copies.
            Some(first) => read[first].scraped.key.clone(),
            None => {
                let r = &read[i];
                let key = r
                    .by_link
                    .clone()
                    .filter(|l| link_uses.get(l) == Some(&1) && !taken.contains(l))
                    .unwrap_or_else(|| r.by_content.clone());
                taken.insert(key.clone());
                key
            }
        };
        let r = &mut read[i];
        let id = std::mem::replace(&mut r.scraped.key, key.clone());
        r.from_id = false;
        re_keyed.insert(key, id);
    }
    re_keyed
}

/// feed-rs's entries, each with its raw facts. The facts line up with the entries when both saw
/// the same number; when feed-rs dropped the entries without a link (RSS 1.0 and 0.90), those
/// come back here from their facts alone. Otherwise feed-rs's reading stands alone.
fn with_facts(entries: Vec<Entry>, facts: Vec<Facts>) -> Vec<(Entry, Option<Facts>)> {
    if facts.len() == entries.len() {
        return entries
            .into_iter()
            .zip(facts.into_iter().map(Some))
            .collect();
    }
    if facts.iter().filter(|f| f.has_link).count() == entries.len() {
        let mut entries = entries.into_iter();
        return facts
            .into_iter()
            .filter_map(|f| {
                let entry = if f.has_link {
                    entries.next()?
                } else {
                    Entry::default()
                };
                Some((entry, Some(f)))
            })
            .collect();
    }
    entries.into_iter().map(|e| (e, None)).collect()
}

/// One entry as read, with what identifies it when its own id cannot.
struct Read {
    scraped: Scraped,
    /// The date it has written that gave no date (see [`FeedEntries::unreadable_dates`]).
    unread_date: Option<String>,
    /// Whether its key is its own guid/id.
    from_id: bool,
    /// Its own link, and a hash of its title and text.
    by_link: Option<String>,
    by_content: String,
}

/// What reading one entry needs of its feed.
struct Reading<'a> {
    kind: FeedType,
    feed_url: &'a Url,
    /// The feed's own page: the link of an entry that has none.
    home: &'a Url,
    id_pattern: Option<&'a Regex>,
}

impl Reading<'_> {
    fn entry(&self, entry: Entry, facts: Option<&Facts>) -> Option<Read> {
        let id = entry.id.trim().to_owned();
        let own_link = self.own_link(&entry, facts, &id);
        // Relative URLs in the entry's HTML resolve against the `xml:base` in effect, as
        // feed readers resolve them, else against the entry's own page.
        let base = facts
            .and_then(|f| f.base.as_ref())
            .or(own_link.as_ref())
            .unwrap_or(self.home);
        // The content's and the summary's own `xml:base` (or one above them) wins.
        let content_base = facts.and_then(|f| f.content_base.as_ref()).unwrap_or(base);
        let summary_base = facts.and_then(|f| f.summary_base.as_ref()).unwrap_or(base);
        // HTML written unescaped into a summary: its whole content (feed-rs keeps the text up to
        // its first tag).
        let markup_text = |markup: &Option<String>| {
            markup
                .as_deref()
                .map(|m| clean(&html_to_text(m)))
                .filter(|s| !s.is_empty())
        };
        // The summary as the HTML it holds, when it is HTML (RSS descriptions are; an Atom
        // summary says so by its type; a JSON Feed summary is text).
        let summary_html: Option<&str> = facts
            .and_then(|f| f.summary_markup.as_deref())
            .or_else(|| {
                let t = entry.summary.as_ref()?;
                self.is_html(t, false).then_some(t.content.as_str())
            })
            .or_else(|| {
                matches!(self.kind, FeedType::RSS0 | FeedType::RSS1 | FeedType::RSS2)
                    .then(|| facts?.description.as_deref())
                    .flatten()
            });
        let summary = facts
            .and_then(|f| markup_text(&f.summary_markup))
            .or_else(|| {
                entry
                    .summary
                    .as_ref()
                    .map(|t| self.text_of(t, false))
                    .filter(|s| !s.is_empty())
            })
            .or_else(|| {
                let raw = facts?.description.as_deref()?;
                Some(clean(&html_to_text(raw))).filter(|s| !s.is_empty())
            });
        let (content_html, content_text) = self.content_of(&entry, facts, content_base);
        // No description and no content: a lead of another namespace (a podcast's
        // `itunes:summary` or `itunes:subtitle`, a video's `media:description`), as text.
        let had_summary = summary.is_some();
        let summary = summary.or_else(|| {
            if content_text.is_some() {
                return None;
            }
            let mut leads: Vec<&(usize, String)> = facts?.leads.iter().collect();
            leads.sort_by_key(|(rank, _)| *rank);
            leads
                .into_iter()
                .map(|(_, text)| clean(&html_entities(text)))
                .find(|t| !t.is_empty())
        });
        // No content: a summary that holds HTML (a list, links, a picture) is the body,
        // sanitized as content is, and stays the plain-text lead too.
        let content_html = content_html.or_else(|| {
            summary_html
                .filter(|h| holds_elements(h))
                .map(|h| sanitize_html(&lazy_images(h), summary_base))
                .filter(|h| !h.trim().is_empty())
        });
        let title = facts
            .and_then(|f| markup_text(&f.title_markup))
            .or_else(|| {
                entry
                    .title
                    .as_ref()
                    .map(|t| self.text_of(t, true))
                    .filter(|t| !t.is_empty())
            })
            // A title feed-rs does not read (`dc:title`, an item it dropped): as RSS reads.
            .or_else(|| rss_title_text(facts?.title.as_deref()?));
        // An entry of two `<title>`s (a broken feed) is titled by the first, as feedparser
        // reads it; feed-rs reads the last. The title read before is kept for what was made of
        // it (the content key, the stored release: no correction).
        let first_title = facts
            .filter(|f| f.plain_titles > 1)
            .and_then(|f| rss_title_text(f.first_plain_title.as_deref()?));
        let (title, title_read_before) = match first_title {
            Some(first) if title.as_ref() != Some(&first) => (Some(first), title),
            _ => (title, None),
        };
        let text = summary.as_deref().or(content_text.as_deref());
        if own_link.is_none() && title.is_none() && text.is_none() {
            return None;
        }
        // The title and summary as read before leads were: a release stored then is no
        // correction for the lead read now.
        let from_lead = summary.is_some() && !had_summary;
        let former_title = title
            .clone()
            .or_else(|| own_link.as_ref().map(Url::to_string));
        let mut former_text = former_title
            .clone()
            .filter(|_| from_lead)
            .map(|title| (title, None));
        // The title as read before the first of two titles won, or as made from the text
        // before abbreviations and initials were read ("Dr." for "Dr. Smith met ..."): the
        // entry keeps the key made of it, and a release stored with it is no correction.
        let title_before = title_read_before
            .or_else(|| text.filter(|_| title.is_none()).map(title_cut_at_any_stop));
        let title = title
            .or_else(|| text.map(title_from_text))
            .unwrap_or_else(|| own_link.as_ref().map_or_else(String::new, Url::to_string));
        if let Some(before) = title_before.as_ref().filter(|&t| *t != title)
            && former_text.is_none()
        {
            former_text = Some((before.clone(), summary.clone()));
        }
        let link = own_link.clone().unwrap_or_else(|| self.home.clone());
        // The pattern reads the link as list pages give it (no fragment).
        let plain = canonical_link(&link, link.as_str()).unwrap_or_else(|| link.clone());
        // What identifies the entry when its own id does not (none, or one other entries of the
        // document share): its link, else a hash of what it says.
        // In the form keys were made from before links kept their query as written.
        let by_link = own_link.as_ref().map(link_key);
        // Made of the text as read before leads were, so that such an entry keeps its key.
        let by_content = match (&former_text, from_lead) {
            (Some((title, _)), true) => content_key(title, None),
            _ => content_key(title_before.as_ref().unwrap_or(&title), text),
        };
        let (key, from_id) = match self.id_pattern.filter(|re| re.is_match(&link_key(&plain))) {
            Some(re) => (item_key(&plain, Some(re)), false),
            None if !id.is_empty() => (id, true),
            None => (
                by_link
                    .clone()
                    .or_else(|| self.former_link(&entry).as_ref().map(link_key))
                    .unwrap_or_else(|| by_content.clone()),
                false,
            ),
        };
        let image = image_of(&entry, facts, base)
            .or_else(|| self.image_attachment(&entry, base))
            .or_else(|| {
                let url = base.join(facts?.thumbnail.as_deref()?.trim()).ok()?;
                matches!(url.scheme(), "http" | "https").then(|| url.to_string())
            })
            // A picture in the text: the summary's, else the body's (a WordPress excerpt has
            // none, its `content:encoded` starts with one), else one the item names by itself.
            .or_else(|| first_image(summary_html?, summary_base))
            .or_else(|| first_image(content_html.as_deref()?, content_base))
            .or_else(|| {
                let url = Url::parse(facts?.item_image.as_deref()?).ok()?;
                matches!(url.scheme(), "http" | "https").then(|| url.to_string())
            });
        let parsed = entry.published.or(entry.updated);
        let read = facts
            .and_then(|f| f.dates.iter().find_map(|raw| feed_date(raw)))
            .or_else(|| {
                parsed
                    .map(|d| {
                        crate::dates::without_leap_second(ParsedDate::Absolute(d.fixed_offset()))
                    })
                    .filter(|d| crate::dates::is_plausible(*d))
            });
        // More than a year ahead is no release's date either (issue 19's window; within a
        // year a date ahead is dated now).
        let date = read.filter(|d| crate::dates::in_window(*d, chrono::Utc::now()));
        // A date written that gave none is said (a feed without dates says nothing).
        let written = facts
            .and_then(|f| {
                f.dates
                    .iter()
                    .map(|raw| raw.trim())
                    .find(|raw| !raw.is_empty())
            })
            .map(str::to_owned)
            .or_else(|| parsed.map(|d| d.to_rfc3339()));
        let unread_date = written.filter(|_| date.is_none());
        Some(Read {
            unread_date,
            scraped: Scraped {
                key,
                title,
                link: link.to_string(),
                date,
                summary,
                content_html,
                image,
                former_text,
            },
            from_id,
            by_link,
            by_content,
        })
    }

    /// The entry's own page. In order: a link that is the entry's alternate (`rel="alternate"`
    /// or no rel, which means the same), of feed-rs's reading or of the document (an
    /// `atom:link` in an RSS item, which feed-rs does not read); a permalink guid or an id that
    /// is a URL (resolved against the `xml:base` in effect on it); an RSS 1.0 item's
    /// `rdf:about`; a link of another rel that may name a page (`related`, `via`, one herald
    /// does not know). Never a link to the entry as an API resource or a file (`self`, `edit`,
    /// `enclosure`, ...), nor its comments: with none of these, the feed's home page stands in
    /// (the caller's `home`).
    fn own_link(&self, entry: &Entry, facts: Option<&Facts>, id: &str) -> Option<Url> {
        // Links of both readings, feed-rs's first, as (rel, href).
        // Comments are never the entry's page, nor a JSON Feed attachment (feed-rs gives it as a
        // link of no rel, with the attachment's MIME type).
        let comments = |l: &feed_rs::model::Link| {
            l.target.is_some()
                || l.rel.as_deref() == Some("replies")
                || (self.kind == FeedType::JSON && l.media_type.is_some())
        };
        let links: Vec<(Option<&str>, &str)> = entry
            .links
            .iter()
            .filter(|l| !comments(l))
            .map(|l| (l.rel.as_deref(), l.href.as_str()))
            .chain(
                facts
                    .map(|f| f.links.as_slice())
                    .unwrap_or_default()
                    .iter()
                    .map(|(rel, href)| (rel.as_deref(), href.as_str())),
            )
            .collect();
        // Of several alternates, a page (HTML, XHTML, or no type said) before another kind of
        // file (a PDF, an audio file), as feed readers choose.
        let types: Vec<(&str, &str)> = entry
            .links
            .iter()
            .filter_map(|l| Some((l.href.as_str(), l.media_type.as_deref()?)))
            .chain(
                facts
                    .map(|f| f.link_types.as_slice())
                    .unwrap_or_default()
                    .iter()
                    .map(|(href, t)| (href.as_str(), t.as_str())),
            )
            .collect();
        let is_page = |href: &str| {
            types.iter().filter(|(h, _)| *h == href).all(|(_, t)| {
                let t = t.trim().to_ascii_lowercase();
                t.is_empty() || t.starts_with("text/html") || t.starts_with("application/xhtml+xml")
            })
        };
        let alternates: Vec<&str> = links
            .iter()
            .filter(|(rel, _)| rel.is_none_or(|r| r.eq_ignore_ascii_case("alternate")))
            .map(|(_, href)| *href)
            .collect();
        let alternate = alternates
            .iter()
            .filter(|href| is_page(href))
            .chain(alternates.iter().filter(|href| !is_page(href)))
            .find_map(|href| feed_link(self.feed_url, href));
        if alternate.is_some() {
            return alternate;
        }
        // A permalink guid (RSS: a guid is one unless it says `isPermaLink="false"`, and may
        // be relative) or an id that is a URL (Atom, JSON Feed) links the entry.
        let absolute = id.starts_with("http://") || id.starts_with("https://");
        let id_links = match self.kind {
            FeedType::RSS0 | FeedType::RSS1 | FeedType::RSS2 => {
                facts.is_none_or(|f| f.guid_is_permalink != Some(false))
                    && (absolute || id.contains(['/', '?']))
            }
            FeedType::Atom | FeedType::JSON => absolute,
        };
        let id_base = facts
            .and_then(|f| f.guid_base.as_ref().or(f.base.as_ref()))
            .unwrap_or(self.feed_url);
        id_links
            .then(|| feed_link(id_base, id))
            .flatten()
            .or_else(|| feed_link(self.feed_url, facts?.about.as_deref()?))
            .or_else(|| {
                links
                    .iter()
                    .filter(|(rel, _)| rel.is_some_and(|r| !names_no_page(r)))
                    .find_map(|(_, href)| feed_link(self.feed_url, href))
            })
    }

    /// The link an entry without an id and without a page link (only `self`, `edit`,
    /// `enclosure`, ...) was identified by before herald told page links from the others: its
    /// first link that is not its comments, as feed-rs reads them. It stays the entry's key, so
    /// that an upgraded database announces nothing again; the entry links the feed's home.
    fn former_link(&self, entry: &Entry) -> Option<Url> {
        let not_comments = |l: &&feed_rs::model::Link| {
            l.target.is_none() && l.rel.as_deref().is_none_or(|r| r != "replies")
        };
        let href = entry
            .links
            .iter()
            .filter(not_comments)
            .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
            .or(entry.links.iter().find(not_comments))?;
        feed_link(self.feed_url, &href.href)
    }

    /// A picture attached to the entry as a file: an Atom `<link rel="enclosure">` or a JSON
    /// Feed attachment whose type is an image's.
    fn image_attachment(&self, entry: &Entry, base: &Url) -> Option<String> {
        entry
            .links
            .iter()
            .filter(|l| {
                l.rel.as_deref() == Some("enclosure")
                    || (self.kind == FeedType::JSON && l.rel.is_none())
            })
            .filter(|l| {
                l.media_type
                    .as_deref()
                    .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("image/"))
            })
            .find_map(|l| {
                let url = base.join(l.href.trim()).ok()?;
                matches!(url.scheme(), "http" | "https").then(|| url.to_string())
            })
    }

    /// The entry's content as sanitized HTML, and as text. Atom content of type text (or of no
    /// type) is text: escaped into HTML, read as written. HTML is HTML; XHTML is markup.
    fn content_of(
        &self,
        entry: &Entry,
        facts: Option<&Facts>,
        base: &Url,
    ) -> (Option<String>, Option<String>) {
        let html_content = |body: &str| {
            let html =
                Some(sanitize_html(&lazy_images(body), base)).filter(|s| !s.trim().is_empty());
            let text = Some(clean(&html_to_text(body))).filter(|s| !s.is_empty());
            (html, text)
        };
        if let Some(markup) = facts.and_then(|f| f.content_markup.as_deref()) {
            return html_content(markup);
        }
        let Some(content) = entry.content.as_ref() else {
            return (None, None);
        };
        let Some(body) = content.body.as_deref() else {
            return (None, None);
        };
        let is_text = self.kind == FeedType::Atom
            && content.content_type.to_string().starts_with("text/plain");
        if !is_text {
            return html_content(body);
        }
        let text = html_entities(body);
        let plain = clean(&text);
        if plain.is_empty() {
            return (None, None);
        }
        let html = quick_xml::escape::escape(text.trim()).replace('\n', "<br>\n");
        (Some(format!("<p>{html}</p>")), Some(plain))
    }

    /// Whether a text construct holds HTML. RSS says nothing of a title's type: as feedparser
    /// does, it is HTML when it holds an end tag or an entity, else text; an RSS description is
    /// HTML. Atom says it by its type; JSON Feed's text fields are text.
    fn is_html(&self, t: &Text, is_title: bool) -> bool {
        match self.kind {
            FeedType::JSON => false,
            FeedType::Atom => !t.content_type.to_string().starts_with("text/plain"),
            FeedType::RSS0 | FeedType::RSS1 | FeedType::RSS2 => {
                !is_title || looks_like_html(&t.content)
            }
        }
    }

    /// A text construct as plain text. HTML is made text; text stays text, even when it holds
    /// brackets ("Option<T>").
    fn text_of(&self, t: &Text, is_title: bool) -> String {
        if self.is_html(t, is_title) {
            clean(&html_to_text(&t.content))
        } else if self.kind == FeedType::JSON {
            clean(&t.content)
        } else {
            clean(&html_entities(&t.content))
        }
    }
}

/// Text with the named HTML entities XML does not define (`&rsquo;`, `&nbsp;`) decoded: feed-rs
/// leaves them as written, feed readers read them whatever the element's type. The five XML
/// entities were decoded already, and are left alone (`&amp;amp;` stays `&amp;`).
fn html_entities(text: &str) -> Cow<'_, str> {
    static ENTITY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"&[A-Za-z][A-Za-z0-9]{1,31};").expect("a valid regex"));
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    ENTITY.replace_all(text, |c: &regex::Captures<'_>| {
        let entity = &c[0];
        if matches!(entity, "&amp;" | "&lt;" | "&gt;" | "&quot;" | "&apos;") {
            return entity.to_owned();
        }
        let decoded = html_to_text(entity);
        if decoded.is_empty() {
            entity.to_owned()
        } else {
            decoded
        }
    })
}

/// An entry's link as the feed wrote it, made absolute and rid of tracking parameters; unlike a
/// list page's card, its `#fragment` is kept (entries of one page may differ only by it).
fn feed_link(base: &Url, href: &str) -> Option<Url> {
    let mut link = canonical_link(base, href)?;
    if let Some(fragment) = base.join(href.trim()).ok().as_ref().and_then(Url::fragment) {
        link.set_fragment(Some(fragment));
    }
    Some(link)
}

/// The identity of an entry with neither id nor link: a hash of what it says.
fn content_key(title: &str, text: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(title.as_bytes());
    hasher.update([0u8]);
    hasher.update(text.unwrap_or("").as_bytes());
    format!("sha256:{}", crate::text::hex(&hasher.finalize()[..16]))
}

/// A title as RSS writes it (text, or HTML escaped in it) as text; `None` when it holds none.
fn rss_title_text(raw: &str) -> Option<String> {
    let text = if looks_like_html(raw) {
        html_to_text(raw)
    } else {
        raw.to_owned()
    };
    Some(clean(&text)).filter(|t| !t.is_empty())
}

/// Whether the text is a gzip stream's bytes read as text: its magic (0x1F 0x8B, the second
/// byte whatever character the body's charset makes of it) and the deflate method (8), RFC 1952
/// section 2.3.1.
fn is_gzip(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next() == Some('\u{1f}') && chars.next().is_some() && chars.next() == Some('\u{8}')
}

/// The most a made-up title holds, in characters.
pub const MADE_TITLE_MAX: usize = 100;

/// A title for an entry that has none (a JSON Feed microblog post, an RSS item with only a
/// description): its first sentence, cut at a word to at most [`MADE_TITLE_MAX`] characters, as
/// feed readers show such entries (issue 20). A full stop after an initial ("J. K. Rowling",
/// "А. Смаилов"), an abbreviation ("Dr.", "No. 5", "2026 г.") or inside a dotted one ("U.S.",
/// "т.е.") ends no sentence, nor does any stop followed by a word in lower case.
pub fn title_from_text(text: &str) -> String {
    let text = clean(text);
    let end = crate::text::first_sentence_end(&text).unwrap_or(text.len());
    cut_title(text[..end].trim_end())
}

/// The title [`title_from_text`] made before it read abbreviations and initials: cut at the
/// first stop followed by a space. Kept for what was made of it (an entry's content key, the
/// title a stored release has).
fn title_cut_at_any_stop(text: &str) -> String {
    let text = clean(text);
    let mut end = text.len();
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '!' | '?' | '。' | '！' | '？' | '…') {
            let next = text[i + c.len_utf8()..].chars().next();
            if next.is_none_or(char::is_whitespace) && i > 0 {
                end = i + c.len_utf8();
                break;
            }
        }
    }
    cut_title(&text[..end])
}

/// A title at most [`MADE_TITLE_MAX`] characters long: `sentence`, or its words up to the last
/// one that fits, with an ellipsis.
fn cut_title(sentence: &str) -> String {
    if sentence.chars().count() <= MADE_TITLE_MAX {
        return sentence.to_owned();
    }
    // Cut at the last space that leaves room for the ellipsis.
    let limit = sentence
        .char_indices()
        .nth(MADE_TITLE_MAX - 1)
        .map_or(sentence.len(), |(i, _)| i);
    let cut = if sentence[limit..].starts_with(' ') {
        Some(limit)
    } else {
        sentence[..limit].rfind(' ')
    };
    let cut = cut.filter(|&i| i > 0).unwrap_or(limit);
    format!(
        "{}…",
        sentence[..cut].trim_end_matches([' ', ',', ';', ':', '-', '—'])
    )
}

fn looks_like_html(s: &str) -> bool {
    static MARKUP: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"</[A-Za-z][A-Za-z0-9]*\s*>|<[A-Za-z][A-Za-z0-9]*\s*/>|&(#[0-9]+|#x[0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);")
            .expect("a valid regex")
    });
    MARKUP.is_match(s)
}

/// The entry's picture among its media: a `media:content` or enclosure that is an image (an
/// `image/*` type; without a type, `medium="image"`; with neither, a URL whose file is an
/// image's), else a thumbnail. Audio, video and documents are never the picture.
fn image_of(entry: &Entry, facts: Option<&Facts>, base: &Url) -> Option<String> {
    let medium = |url: &str| {
        facts?
            .media_medium
            .iter()
            .find(|(u, _)| u == url)
            .map(|(_, m)| m.as_str())
    };
    entry
        .media
        .iter()
        .flat_map(|m| {
            let contents = m.content.iter().filter_map(|c| {
                let url = c.url.as_ref()?.to_string();
                let image = match &c.content_type {
                    Some(t) => t.to_string().to_ascii_lowercase().starts_with("image/"),
                    None => match medium(&url) {
                        Some(m) => m == "image",
                        None => has_image_extension(&url),
                    },
                };
                image.then_some(url)
            });
            contents.chain(m.thumbnails.iter().map(|t| t.image.uri.clone()))
        })
        .find_map(|src| {
            let url = base.join(&src).ok()?;
            matches!(url.scheme(), "http" | "https").then(|| url.to_string())
        })
}

/// Whether a URL's file name ends as an image's does.
fn has_image_extension(url: &str) -> bool {
    let Ok(url) = Url::parse(url) else {
        return false;
    };
    let name = url.path().rsplit('/').next().unwrap_or_default();
    let Some((_, extension)) = name.rsplit_once('.') else {
        return false;
    };
    matches!(
        extension.to_ascii_lowercase().as_str(),
        "jpg"
            | "jpeg"
            | "jpe"
            | "png"
            | "gif"
            | "webp"
            | "avif"
            | "svg"
            | "bmp"
            | "jxl"
            | "heic"
            | "heif"
            | "tif"
            | "tiff"
    )
}

/// The first picture of an entry's HTML (`<img src>`, or the real source of a lazy-loaded one,
/// [`lazy_images`]), when it is no tracking pixel (a width or height of 1 or 2) nor inline data
/// (`data:`), resolved against `base`.
fn first_image(html: &str, base: &Url) -> Option<String> {
    static IMG: LazyLock<scraper::Selector> = LazyLock::new(|| {
        #[expect(clippy::unwrap_used, reason = "a constant, valid selector")]
        scraper::Selector::parse("img[src]").unwrap()
    });
    if !html.contains("<img") && !html.contains("<IMG") {
        return None;
    }
    let doc = scraper::Html::parse_fragment(&lazy_images(html));
    doc.select(&IMG).find_map(|img| {
        let tiny = ["width", "height"].iter().any(|a| {
            img.value()
                .attr(a)
                .and_then(|v| v.trim().trim_end_matches("px").parse::<u32>().ok())
                .is_some_and(|n| n <= 2)
        });
        if tiny {
            return None;
        }
        let url = base.join(img.value().attr("src")?.trim()).ok()?;
        matches!(url.scheme(), "http" | "https").then(|| url.to_string())
    })
}

/// Attributes lazy-loading scripts keep an image's real source in.
const LAZY_SOURCES: &[&str] = &["data-src", "data-lazy-src", "data-original"];

/// HTML with each lazy-loaded `<img>` (no `src`, or a `data:` placeholder, and the real source
/// in `data-src`, `data-lazy-src` or `data-original`) given its real source as `src`: it is the
/// picture, and the body shows it, where sanitizing would leave an `<img>` of no source.
fn lazy_images(html: &str) -> Cow<'_, str> {
    static IMG: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)<img\s[^<>]*>").expect("a valid regex"));
    static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)\s([a-z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>]+))"#)
            .expect("a valid regex")
    });
    if !LAZY_SOURCES.iter().any(|a| html.contains(a)) {
        return Cow::Borrowed(html);
    }
    IMG.replace_all(html, |c: &regex::Captures<'_>| {
        let tag = &c[0];
        let mut src = None;
        let mut lazy = None;
        for a in ATTRIBUTE.captures_iter(tag) {
            let name = a[1].to_ascii_lowercase();
            let value = a
                .get(2)
                .or(a.get(3))
                .or(a.get(4))
                .map_or("", |v| v.as_str());
            if name == "src" {
                src = Some(a.get(0).map_or(0..0, |m| m.range()));
                if !value.trim_start().to_ascii_lowercase().starts_with("data:") {
                    return tag.to_owned();
                }
            } else if lazy.is_none()
                && LAZY_SOURCES.contains(&name.as_str())
                && !value.trim().is_empty()
            {
                lazy = Some(value.replace('"', "&quot;"));
            }
        }
        let Some(lazy) = lazy else {
            return tag.to_owned();
        };
        let mut tag = tag.to_owned();
        if let Some(range) = src {
            tag.replace_range(range, "");
        }
        tag.insert_str("<img".len(), &format!(" src=\"{lazy}\""));
        tag
    })
}

/// Whether a text holds an HTML element (a start or end tag), not merely brackets or entities.
fn holds_elements(text: &str) -> bool {
    static TAG: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>").expect("a valid regex")
    });
    TAG.is_match(text)
}

/// Link relations that never name the entry's own page: the entry as an API resource, its
/// files, its comments, the feed's paging and hubs.
fn names_no_page(rel: &str) -> bool {
    matches!(
        rel.to_ascii_lowercase().as_str(),
        "self"
            | "edit"
            | "edit-media"
            | "enclosure"
            | "replies"
            | "license"
            | "payment"
            | "hub"
            | "first"
            | "last"
            | "next"
            | "previous"
            | "prev"
            | "search"
            | "icon"
            | "stylesheet"
    )
}

/// An entry without a readable date takes the date of the nearest dated entry after it (older,
/// in a newest-first feed), else before it: it then sorts next to its neighbours, in the feed's
/// order, instead of coming out as new at the top. With no date anywhere, nothing changes (each
/// entry is dated when first seen, and the feed's order is kept among them).
fn keep_feed_order(entries: &mut [Scraped]) {
    // The nearest date below each entry, found in one pass from the end (a scan per undated
    // entry was quadratic in a long feed without dates).
    let mut below: Vec<Option<ParsedDate>> = vec![None; entries.len()];
    let mut next = None;
    for (i, entry) in entries.iter().enumerate().rev() {
        below[i] = next;
        next = entry.date.or(next);
    }
    let mut above = None;
    for (entry, below) in entries.iter_mut().zip(below) {
        match entry.date {
            Some(date) => above = Some(date),
            None => entry.date = below.or(above),
        }
    }
}

/// Titles and summaries in feeds are often HTML; feeds and posts want plain text. Parsed as a
/// browser would (every named entity, comments and CDATA), unlike `markup::decode`, which reads
/// only Telegram's subset of HTML (four named entities) for what Telegram shows.
fn html_to_text(s: &str) -> String {
    if !s.contains('<') && !s.contains('&') {
        return s.to_owned();
    }
    // A line break or a block's edge separates words, as a reader shows them: `One<br>Two`
    // and `<p>One</p><p>Two</p>` read "One Two", not "OneTwo" (a space before each such tag:
    // the text's whitespace is collapsed afterwards).
    static BREAKING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)<(/?)(br|p|div|li|ul|ol|dl|dt|dd|h[1-6]|tr|td|th|table|blockquote|pre|hr|section|article|header|footer|figure|figcaption|aside|nav|main)\b",
        )
        .expect("a valid regex")
    });
    let spaced = BREAKING.replace_all(s, " <$1$2");
    // A fragment nested past any real text (an entry's description of 40,000 `<div>`s) would
    // take the tree builder time growing with its depth squared: its tags are dropped before,
    // and its text read flat.
    static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<[^>]*>").expect("a valid regex"));
    let spaced = match spaced.matches('<').count() > crate::extract::depth::MAX_DEPTH
        && crate::extract::depth::too_deep(&spaced).is_some()
    {
        true => std::borrow::Cow::Owned(TAG.replace_all(&spaced, " ").into_owned()),
        false => spaced,
    };
    let fragment = scraper::Html::parse_fragment(&spaced);
    let mut out = String::new();
    // Depth first, in document order, without recursion (fragments may nest deep); what an
    // element whose content is no text holds is never visited.
    let mut stack = vec![*fragment.root_element()];
    while let Some(node) = stack.pop() {
        match node.value() {
            scraper::Node::Element(e) if NOT_TEXT.contains(&e.name()) => continue,
            scraper::Node::Text(t) => out.push_str(t),
            _ => {}
        }
        stack.extend(node.children().rev());
    }
    out
}

/// Elements whose content is never text a reader sees: scripts and styles, templates, what
/// shows only without scripts or frames, embedded frames and applets.
const NOT_TEXT: &[&str] = &[
    "script", "style", "template", "noscript", "iframe", "noembed", "noframes", "applet", "object",
    "head", "title",
];

/// feed-rs's error, in words that say what is wrong with the document.
fn parse_error(document: &str, e: &feed_rs::parser::ParseFeedError) -> String {
    use feed_rs::parser::ParseFeedError as E;
    let json = document.starts_with('{') || document.starts_with('[');
    match e {
        E::XmlReader(e) => format!("not well-formed XML: {e}"),
        E::JsonSerde(e) => format!("JSON, but not a JSON Feed: {e}"),
        E::JsonUnsupportedVersion(v) => {
            format!("a JSON Feed of a version herald does not know: {v}")
        }
        E::ParseError(_) | E::IoError(_) if json => format!("not a readable JSON Feed: {e}"),
        E::ParseError(_) | E::IoError(_) => format!("not a readable RSS/Atom feed: {e}"),
    }
}

/// An XML document with the names of its elements in lower case, but for the RSS names that
/// are written in camel case (`pubDate`, `lastBuildDate`): an `<RSS>` document written in
/// capitals, read as feedparser reads it.
fn lowercase_element_names(text: &str) -> String {
    static NAME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"<(/?)([A-Za-z_][\w.:-]*)").expect("a valid regex"));
    NAME.replace_all(text, |c: &regex::Captures<'_>| {
        let name = c[2].to_ascii_lowercase();
        let name = match name.as_str() {
            "pubdate" => "pubDate".to_owned(),
            "lastbuilddate" => "lastBuildDate".to_owned(),
            "managingeditor" => "managingEditor".to_owned(),
            "webmaster" => "webMaster".to_owned(),
            "skiphours" => "skipHours".to_owned(),
            "skipdays" => "skipDays".to_owned(),
            "textinput" => "textInput".to_owned(),
            _ => name,
        };
        format!("<{}{name}", &c[1])
    })
    .into_owned()
}

/// An RSS document whose items were written after `</channel>` (feedparser reads them; feed-rs
/// reads only the channel's): its channel is closed after them instead. Items in an `<rss>`
/// without a channel get one around them.
fn items_into_channel(mut text: String) -> String {
    let Some(close) = text.rfind("</channel>") else {
        // No channel at all: one is made around the items (feedparser reads them).
        if !text.contains("<channel") && text.contains("<item") {
            let Ok(root) = root_element(&text) else {
                return text;
            };
            if root.empty {
                return text;
            }
            let end = text.rfind("</rss").filter(|&e| e >= root.span.1);
            text.insert_str(end.unwrap_or(text.len()), "</channel>");
            text.insert_str(root.span.1, "<channel>");
        }
        return text;
    };
    let after = &text[close + "</channel>".len()..];
    if !after.contains("<item") {
        return text;
    }
    let end = after
        .rfind("</rss")
        .map_or(text.len(), |i| close + "</channel>".len() + i);
    text.insert_str(end, "</channel>");
    text.replace_range(close..close + "</channel>".len(), "");
    text
}

/// An `<rss>` document with the default namespace declared on its `<rss>`, `<channel>` or
/// `<item>` elements dropped: an RSS element is RSS whatever default namespace it was given
/// (`<rss xmlns="http://www.w3.org/2005/Atom">`, a site's own URI), as feedparser reads it,
/// where feed-rs would look for the channel and its items in that namespace and find none.
/// Prefixed declarations stay.
fn rss_in_no_namespace(text: &str) -> Cow<'_, str> {
    static TAG: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"<(?:rss|channel|item)\s[^<>]*\bxmlns\s*=[^<>]*>").expect("a valid regex")
    });
    static DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"\s+xmlns\s*=\s*(?:"[^"]*"|'[^']*')"#).expect("a valid regex")
    });
    TAG.replace_all(text, |c: &regex::Captures<'_>| {
        DEFAULT.replace_all(&c[0], "").into_owned()
    })
}

/// Namespaces the RSS family was written in over the years, read as the one feed-rs knows.
const RSS_NAMESPACES: &[&str] = &[
    "http://my.netscape.com/rdf/simple/0.9/",
    "http://channel.netscape.com/rdf/simple/0.9/",
    "http://backend.userland.com/rss2",
    "http://backend.userland.com/rss",
    "http://blogs.law.harvard.edu/tech/rss",
    "http://purl.org/rss/2.0/",
    "http://purl.org/net/rss1.1#",
];
const RSS_NAMESPACE: &str = "http://purl.org/rss/1.0/";
const ATOM03_NAMESPACE: &str = "http://purl.org/atom/ns#";
const ATOM_NAMESPACE: &str = "http://www.w3.org/2005/Atom";

/// The RSS versions feed-rs reads as they are; any other `<rss>` (none, "", "0.93", "0.94",
/// "2.01", ...) is read as RSS 2.0, a superset of them all, as feedparser does.
const RSS_VERSIONS: &[&str] = &["0.91", "0.92", "2.0"];

/// Checks that an XML document is a feed, saying what it is when it is not, and rewrites what
/// feed-rs would refuse or misread in a feed: an `<rss>` version it does not know and the older
/// RSS and Atom namespaces.
fn normalize_xml(text: &str) -> Result<String, ExtractError> {
    let text = &*internal_entities(text);
    let root = root_element(text)?;
    let local = root.local.as_str();
    let mut out = match local.to_ascii_lowercase().as_str() {
        // `<RSS>`: feed-rs finds no root in it; feedparser reads it, names in any case.
        "rss" if root.name != "rss" && root.name.eq_ignore_ascii_case("rss") => {
            return normalize_xml(&lowercase_element_names(text));
        }
        "rss" => {
            let version = root.version.as_deref().map(str::trim);
            let out = if version.is_some_and(|v| RSS_VERSIONS.contains(&v)) {
                text.to_owned()
            } else {
                format!(
                    "{}{}{}",
                    &text[..root.span.0],
                    root.rewritten_rss(),
                    &text[root.span.1..]
                )
            };
            rss_in_no_namespace(&items_into_channel(out)).into_owned()
        }
        "rdf" => text.to_owned(),
        "feed" | "entry" => atom_text_types(&atom_base64(text)).into_owned(),
        "html" => {
            return Err(ExtractError::NotAFeed(
                "not a feed: an HTML page (its root element is <html>)".into(),
            ));
        }
        "channel" => cdf_as_rss(text)?,
        _ => {
            return Err(ExtractError::NotAFeed(format!(
                "not a feed: the root element is <{}>, where a feed has <rss>, <rdf:RDF> or <feed>",
                root.name
            )));
        }
    };
    for old in RSS_NAMESPACES {
        for quote in ['"', '\''] {
            out = out.replace(
                &format!("{quote}{old}{quote}"),
                &format!("{quote}{RSS_NAMESPACE}{quote}"),
            );
        }
    }
    for quote in ['"', '\''] {
        out = out.replace(
            &format!("{quote}{ATOM03_NAMESPACE}{quote}"),
            &format!("{quote}{ATOM_NAMESPACE}{quote}"),
        );
    }
    let out = readable_character_references(&out);
    Ok(known_namespaces(windows_1252_references(&out).into_owned()))
}

/// The most text the expansion of internal entities adds to a document, in bytes: past it the
/// references are left as written ("billion laughs" stays harmless; values hold no references,
/// so each reference costs at most one value).
const ENTITY_EXPANSION_MAX: usize = 1024 * 1024;

/// The document with the general entities its internal DTD subset declares (`<!DOCTYPE rss [
/// <!ENTITY custom "Custom Ent"> ]>`) expanded where they are referenced (`&custom;`), as
/// feedparser reads them; the XML reader leaves them as written. Only entities of a plain text
/// value are read: none of an external value (`SYSTEM`, `PUBLIC`), no parameter entity, none
/// whose value holds a reference or markup (so no expansion expands again); the five XML
/// predefines are never redeclared. References in CDATA sections and comments stay as written.
fn internal_entities(text: &str) -> Cow<'_, str> {
    static SUBSET: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"<!DOCTYPE\s[^\[>]*\[").expect("a valid regex"));
    static DECLARATION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"<!ENTITY\s+([A-Za-z_][A-Za-z0-9._-]*)\s+(?:"([^"&<%]*)"|'([^'&<%]*)')\s*>"#)
            .expect("a valid regex")
    });
    static REFERENCE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"&([A-Za-z_][A-Za-z0-9._-]*);").expect("a valid regex"));
    // The DOCTYPE comes before the root element: looked for in the prolog only.
    let prolog_end = text
        .match_indices('<')
        .map(|(i, _)| i)
        .find(|&i| text[i + 1..].starts_with(|c: char| c.is_alphabetic()))
        .unwrap_or(text.len());
    let Some(subset) = SUBSET.find(&text[..prolog_end]) else {
        return Cow::Borrowed(text);
    };
    let Some(subset_len) = text[subset.end()..].find("]") else {
        return Cow::Borrowed(text);
    };
    let declared = &text[subset.end()..subset.end() + subset_len];
    let mut values: HashMap<&str, String> = HashMap::new();
    for c in DECLARATION.captures_iter(declared) {
        let (Some(name), Some(value)) = (c.get(1), c.get(2).or(c.get(3))) else {
            continue;
        };
        if ["amp", "lt", "gt", "quot", "apos"].contains(&name.as_str()) {
            continue;
        }
        // The first declaration of a name binds (XML 1.0, section 4.2). Quotes are written as
        // references: the value may be in an attribute.
        values.entry(name.as_str()).or_insert_with(|| {
            value
                .as_str()
                .replace('"', "&quot;")
                .replace('\'', "&apos;")
        });
    }
    if values.is_empty() {
        return Cow::Borrowed(text);
    }
    let body_start = subset.end() + subset_len;
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..body_start]);
    let mut added = 0usize;
    let mut expand = |part: &str, out: &mut String| {
        let mut copied = 0;
        for c in REFERENCE.captures_iter(part) {
            let (Some(whole), Some(value)) = (c.get(0), values.get(&c[1])) else {
                continue;
            };
            if added + value.len() > ENTITY_EXPANSION_MAX {
                break;
            }
            added += value.len();
            out.push_str(&part[copied..whole.start()]);
            out.push_str(value);
            copied = whole.end();
        }
        out.push_str(&part[copied..]);
    };
    let mut rest = &text[body_start..];
    while let Some(at) = rest.find("<!") {
        expand(&rest[..at], &mut out);
        rest = &rest[at..];
        let len = section_len(rest, &[("<![CDATA[", "]]>"), ("<!--", "-->")]).unwrap_or(2);
        out.push_str(&rest[..len]);
        rest = &rest[len..];
    }
    expand(rest, &mut out);
    Cow::Owned(out)
}

/// The document with each numeric character reference XML cannot read dropped: one to no
/// character (`&#0;`, a surrogate such as `&#xD800;`, a number past U+10FFFF) costs that
/// character, as feedparser reads it, where the parser would refuse the whole feed. `&#X41;`,
/// written with a capital X, is read as `&#x41;`.
fn readable_character_references(text: &str) -> Cow<'_, str> {
    static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"&#(?:([0-9]+)|([xX])([0-9A-Fa-f]+));").expect("a valid regex")
    });
    if !text.contains("&#") {
        return Cow::Borrowed(text);
    }
    REFERENCE.replace_all(text, |c: &regex::Captures<'_>| {
        let code = match (c.get(1), c.get(3)) {
            (Some(decimal), _) => decimal.as_str().parse::<u32>().ok(),
            (None, Some(hex)) => u32::from_str_radix(hex.as_str(), 16).ok(),
            (None, None) => None,
        };
        match code.filter(|&n| n != 0).and_then(char::from_u32) {
            Some(_) if c.get(2).is_some_and(|x| x.as_str() == "X") => {
                format!("&#x{};", &c[3])
            }
            Some(_) => c[0].to_owned(),
            None => String::new(),
        }
    })
}

/// Elements whose content feeds write as HTML, often without escaping it, by local name.
const TEXT_ELEMENTS: &[&str] = &[
    "title",
    "description",
    "summary",
    "content",
    "encoded",
    "subtitle",
];

/// Documents written one after another (each from its own `<?xml …?>` declaration) made one:
/// the entries of the later ones are added after the first's last entry, as feed readers read
/// them. None when the document is one.
fn join_documents(text: &str) -> Option<String> {
    let starts: Vec<usize> = text
        .match_indices("<?xml")
        .map(|(at, _)| at)
        .filter(|&at| text[..at].trim_end().ends_with('>'))
        .collect();
    let first = &text[..*starts.first()?];
    // A declaration written inside the first document (in a CDATA section) starts none.
    if !is_whole_document(first) {
        return None;
    }
    let last = entry_spans(first).last()?.end;
    let mut more = String::new();
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    for (start, end) in starts.iter().copied().zip(ends) {
        let next = &text[start..end];
        for span in entry_spans(next) {
            more.push('\n');
            more.push_str(&next[span.start..span.end]);
        }
    }
    (!more.is_empty()).then(|| format!("{}{more}{}", &first[..last], &first[last..]))
}

/// Whether a text is one XML document whose root element is closed at its end.
fn is_whole_document(text: &str) -> bool {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let (mut depth, mut rooted) = (0usize, false);
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => {
                depth += 1;
                rooted = true;
            }
            Ok(Event::Empty(_)) => rooted = true,
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Eof) => return rooted && depth == 0,
            Err(_) => return false,
            Ok(_) => {}
        }
    }
}

/// The document with each entry still open where another starts closed there (with the
/// elements open inside it); None when there is none.
fn close_open_entries(text: &str) -> Option<String> {
    let is_entry =
        |local: &[u8]| local.eq_ignore_ascii_case(b"item") || local.eq_ignore_ascii_case(b"entry");
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let mut open: Vec<(String, bool)> = Vec::new();
    let mut out = String::new();
    let mut copied = 0;
    loop {
        let before = position(&reader);
        match reader.read_event() {
            Ok(Event::Start(tag)) => {
                let entry = is_entry(tag.local_name().as_ref().as_bytes());
                if entry && let Some(at) = open.iter().rposition(|(_, e)| *e) {
                    out.push_str(&text[copied..before]);
                    copied = before;
                    for (name, _) in open.drain(at..).rev() {
                        out.push_str(&format!("</{name}>"));
                    }
                }
                open.push((tag.name().as_ref().to_owned(), entry));
            }
            Ok(Event::End(tag)) => {
                let name = tag.name();
                if let Some(at) = open.iter().rposition(|(n, _)| n.as_str() == name.as_ref()) {
                    open.truncate(at);
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// How many text elements without an end tag are looked for before no more are: each look
/// reads the rest of the document.
const MAX_UNCLOSED: usize = 8;

/// A document that is not well-formed XML, repaired as feed readers read such feeds: every `&`
/// that starts no entity or character reference is escaped, a `<` that starts no markup is
/// escaped, and the content of a text element (title, description, ...) that is not
/// well-formed markup is made text (a CDATA section), as the HTML it mostly is. None when
/// nothing was changed. One pass over the document: each element's content is checked once.
fn repair_xml(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    // Names of text elements that have no end tag past some point: not searched again.
    let mut unclosed: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(['<', '&']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('&') {
            rest = &rest[push_ampersand(rest, &mut out)..];
            continue;
        }
        // Sections whose text is not markup, copied as they are.
        let sections = [
            ("<![CDATA[", "]]>"),
            ("<!--", "-->"),
            ("<?", "?>"),
            ("<!", ">"),
        ];
        if let Some(end) = section_len(rest, &sections) {
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        let closing = rest.starts_with("</");
        let name_at = if closing { 2 } else { 1 };
        // The name ends at the next `<` at the latest: each scan stops there (one pass in all).
        let name_len = rest[name_at..]
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/' || c == '<')
            .unwrap_or(rest.len() - name_at);
        let name = &rest[name_at..name_at + name_len];
        if !name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_' || c == ':')
        {
            out.push_str("&lt;");
            rest = &rest[1..];
            continue;
        }
        // A tag that never ends is damage this repair does not guess at: left as written.
        let Some(tag_len) = tag_end(rest) else {
            out.push('<');
            rest = &rest[1..];
            continue;
        };
        let tag = &rest[..tag_len];
        escape_ampersands(tag, &mut out);
        rest = &rest[tag_len..];
        let local = name.rsplit(':').next().unwrap_or(name);
        if closing
            || tag.ends_with("/>")
            || !TEXT_ELEMENTS.iter().any(|t| t.eq_ignore_ascii_case(local))
            || unclosed.iter().any(|u| u == name)
            || unclosed.len() >= MAX_UNCLOSED
        {
            continue;
        }
        let Some(inner_len) = end_tag_at(rest, name) else {
            unclosed.push(name.to_owned());
            continue;
        };
        let inner = &rest[..inner_len];
        let mut escaped = String::with_capacity(inner.len());
        escape_ampersands(inner, &mut escaped);
        if well_formed(&escaped) {
            out.push_str(&escaped);
        } else {
            out.push_str("<![CDATA[");
            out.push_str(&inner.replace("]]>", "]]]]><![CDATA[>"));
            out.push_str("]]>");
        }
        rest = &rest[inner_len..];
    }
    out.push_str(rest);
    (out != text).then_some(out)
}

/// The length of the tag `text` starts with, up to its `>` (quoted values may hold one).
fn tag_end(text: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            // No `<` in a tag, not even in a quoted value: a tag that runs into the next one
            // was never a tag (and each scan stops at the next `<`: one pass in all).
            (_, '<') if i > 0 => return None,
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// Where the end tag `</name>` starts in `text`, if it has one.
fn end_tag_at(text: &str, name: &str) -> Option<usize> {
    let needle = format!("</{name}");
    let mut from = 0;
    while let Some(i) = text[from..].find(&needle) {
        let at = from + i;
        let after = text[at + needle.len()..].trim_start();
        if after.starts_with('>') {
            return Some(at);
        }
        from = at + needle.len();
    }
    None
}

/// Whether a piece of XML content is well-formed on its own: every element closed in order.
fn well_formed(content: &str) -> bool {
    let mut reader = quick_xml::Reader::from_str(content);
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            Ok(Event::Eof) => return depth == 0,
            Err(_) => return false,
            Ok(_) => {}
        }
    }
}

/// The length of the section (`<![CDATA[…]]>`, say: an (open, close) pair of `sections`)
/// `text` starts with, to its close or the end of `text`; None when it starts none.
fn section_len(text: &str, sections: &[(&str, &str)]) -> Option<usize> {
    let (open, close) = sections.iter().find(|(open, _)| text.starts_with(open))?;
    Some(
        text[open.len()..]
            .find(close)
            .map_or(text.len(), |i| open.len() + i + close.len()),
    )
}

/// `text` with every `&` that starts no entity or character reference escaped, CDATA sections
/// and comments left as they are.
fn escape_ampersands(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(at) = rest.find(['&', '<']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(end) = section_len(rest, &[("<![CDATA[", "]]>"), ("<!--", "-->")]) {
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if rest.starts_with('&') {
            rest = &rest[push_ampersand(rest, out)..];
        } else {
            out.push('<');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
}

/// The `&` that `text` starts with, escaped unless it starts a reference (`&name;`, `&#9;`,
/// `&#x9;`). One of the legacy entities HTML reads without their `;` (`&amp item`, `&copy
/// 2026`) is that reference, as feedparser reads it; followed by a letter or digit it is not
/// (`&ampersand`, where HTML would read `&` and "ersand", is left as written), nor followed by
/// `=` (a URL's query: `?a=1&reg=2`, as HTML reads attributes). Returns the
/// length of `text` it stands for.
fn push_ampersand(text: &str, out: &mut String) -> usize {
    let after = &text[1..];
    let body_len = after
        .char_indices()
        .take(40)
        .find(|&(_, c)| c == ';')
        .map(|(i, _)| i);
    let is_reference = body_len.is_some_and(|n| {
        let body = &after[..n];
        if let Some(hex) = body.strip_prefix("#x").or_else(|| body.strip_prefix("#X")) {
            !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit())
        } else if let Some(digits) = body.strip_prefix('#') {
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
        } else {
            body.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && body
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        }
    });
    if is_reference {
        out.push('&');
        return 1;
    }
    let legacy = LEGACY_ENTITIES.iter().find(|(name, _)| {
        after.starts_with(name)
            && !after[name.len()..]
                .starts_with(|c: char| c.is_alphanumeric() || c == ';' || c == '=')
    });
    match legacy {
        Some((name, reference)) => {
            out.push_str(reference);
            1 + name.len()
        }
        None => {
            out.push_str("&amp;");
            1
        }
    }
}

/// HTML's legacy named references that are read without their `;`, the common ones, by name
/// (case matters, as in HTML), with the XML reference to the same character.
const LEGACY_ENTITIES: &[(&str, &str)] = &[
    ("amp", "&amp;"),
    ("AMP", "&amp;"),
    ("lt", "&lt;"),
    ("LT", "&lt;"),
    ("gt", "&gt;"),
    ("GT", "&gt;"),
    ("quot", "&quot;"),
    ("QUOT", "&quot;"),
    ("nbsp", "&#160;"),
    ("copy", "&#169;"),
    ("COPY", "&#169;"),
    ("reg", "&#174;"),
    ("REG", "&#174;"),
];

/// An Atom 0.3 document with the text constructs written in `mode="base64"` decoded: their
/// text written escaped (`mode="escaped"`), read then as their type says. One that does not
/// decode to UTF-8 text is left as written.
fn atom_base64(text: &str) -> Cow<'_, str> {
    use base64::Engine;
    static BASE64: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?s)(<(?:[A-Za-z_][\w.-]*:)?(?:title|subtitle|summary|content|tagline|info|copyright)\s[^<>]*?)\bmode\s*=\s*(?:"base64"|'base64')([^<>]*>)([^<]*)</"#)
            .expect("a valid regex")
    });
    if !text.contains("base64") {
        return Cow::Borrowed(text);
    }
    BASE64.replace_all(text, |c: &regex::Captures<'_>| {
        let encoded: String = c[3].chars().filter(|c| !c.is_whitespace()).collect();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_bytes())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        match decoded {
            Some(decoded) => format!(
                "{}mode=\"escaped\"{}{}</",
                &c[1],
                &c[2],
                quick_xml::escape::escape(decoded.as_str())
            ),
            None => c[0].to_owned(),
        }
    })
}

/// An Atom document with the `type` (and Atom 0.3 `mode`) of its text constructs written as
/// one of the three feed-rs reads: `text`, `html` or `xhtml`. feed-rs refuses the whole feed for
/// any other type of one element (`text/plain`, `HTML`, `application/xhtml+xml`); feedparser
/// reads them. A type it does not know is read as text. A `<content src=…>` keeps its MIME
/// type, as the spec wants one there.
fn atom_text_types(text: &str) -> Cow<'_, str> {
    static TAG: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"<(?:[A-Za-z_][\w.-]*:)?(?:title|subtitle|summary|content|rights|tagline|info|copyright)\s[^<>]*>")
            .expect("a valid regex")
    });
    static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(\s)(type|mode)\s*=\s*(?:"([^"]*)"|'([^']*)')"#).expect("a valid regex")
    });
    TAG.replace_all(text, |tag: &regex::Captures<'_>| {
        let tag = &tag[0];
        if tag.starts_with("<media:") {
            return tag.to_owned();
        }
        let mut kind = None;
        let mut mode = None;
        for a in ATTRIBUTE.captures_iter(tag) {
            let value = a.get(3).or(a.get(4)).map_or("", |v| v.as_str());
            match &a[2] {
                "type" => kind = Some(value.trim().to_ascii_lowercase()),
                _ => mode = Some(value.trim().to_ascii_lowercase()),
            }
        }
        let src = [" src=", "\tsrc=", "\nsrc="]
            .iter()
            .any(|a| tag.contains(a));
        if src || (kind.is_none() && mode.is_none()) {
            return tag.to_owned();
        }
        let kind = kind.unwrap_or_else(|| "text".to_owned());
        let html = matches!(kind.as_str(), "html" | "text/html");
        let xhtml = matches!(kind.as_str(), "xhtml" | "application/xhtml+xml");
        let canonical = match mode.as_deref() {
            Some("escaped") if kind != "text" && kind != "text/plain" => "html",
            Some("xml") if html || xhtml => "xhtml",
            _ if html => "html",
            _ if xhtml => "xhtml",
            _ => "text",
        };
        let rewritten = ATTRIBUTE.replace_all(tag, |a: &regex::Captures<'_>| {
            if &a[2] == "type" {
                format!("{}type=\"{canonical}\"", &a[1])
            } else {
                String::new()
            }
        });
        rewritten.into_owned()
    })
}

/// Namespaces of the extensions feeds use, by their usual prefix: a prefix used but never
/// declared (feedparser reads `<content:encoded>` in an `<rss>` that forgot `xmlns:content`)
/// is declared on the root, as the namespace it always stands for.
const KNOWN_PREFIXES: &[(&str, &str)] = &[
    ("content", "http://purl.org/rss/1.0/modules/content/"),
    ("media", "http://search.yahoo.com/mrss/"),
    ("dc", "http://purl.org/dc/elements/1.1/"),
    ("atom", "http://www.w3.org/2005/Atom"),
    ("itunes", "http://www.itunes.com/dtds/podcast-1.0.dtd"),
    ("podcast", "https://podcastindex.org/namespace/1.0"),
    ("wfw", "http://wellformedweb.org/CommentAPI/"),
    ("dcterms", "http://purl.org/dc/terms/"),
    ("slash", "http://purl.org/rss/1.0/modules/slash/"),
    ("georss", "http://www.georss.org/georss"),
    ("feedburner", "http://rssnamespace.org/feedburner/ext/1.0"),
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
];

/// Namespace URIs written with a small difference from the one a reader knows (no trailing
/// slash, https, another case), and the one they stand for.
const VARIANT_NAMESPACES: &[(&str, &str)] = &[
    (
        "http://search.yahoo.com/mrss",
        "http://search.yahoo.com/mrss/",
    ),
    (
        "https://search.yahoo.com/mrss/",
        "http://search.yahoo.com/mrss/",
    ),
    (
        "https://search.yahoo.com/mrss",
        "http://search.yahoo.com/mrss/",
    ),
    (
        "http://video.search.yahoo.com/mrss",
        "http://search.yahoo.com/mrss/",
    ),
    (
        "http://video.search.yahoo.com/mrss/",
        "http://search.yahoo.com/mrss/",
    ),
    (
        "http://purl.org/rss/1.0/modules/content",
        "http://purl.org/rss/1.0/modules/content/",
    ),
    (
        "https://purl.org/rss/1.0/modules/content/",
        "http://purl.org/rss/1.0/modules/content/",
    ),
    (
        "http://purl.org/dc/elements/1.1",
        "http://purl.org/dc/elements/1.1/",
    ),
    (
        "https://purl.org/dc/elements/1.1/",
        "http://purl.org/dc/elements/1.1/",
    ),
    (
        "http://purl.org/dc/elements/1.0/",
        "http://purl.org/dc/elements/1.1/",
    ),
    (
        "https://www.itunes.com/dtds/podcast-1.0.dtd",
        "http://www.itunes.com/dtds/podcast-1.0.dtd",
    ),
    (
        "http://www.itunes.com/DTDs/Podcast-1.0.dtd",
        "http://www.itunes.com/dtds/podcast-1.0.dtd",
    ),
    (
        "https://www.itunes.com/DTDs/Podcast-1.0.dtd",
        "http://www.itunes.com/dtds/podcast-1.0.dtd",
    ),
    (
        "http://www.w3.org/2005/Atom/",
        "http://www.w3.org/2005/Atom",
    ),
    (
        "https://www.w3.org/2005/Atom",
        "http://www.w3.org/2005/Atom",
    ),
    (
        "https://podcastindex.org/namespace/1.0/",
        "https://podcastindex.org/namespace/1.0",
    ),
    (
        "http://podcastindex.org/namespace/1.0",
        "https://podcastindex.org/namespace/1.0",
    ),
];

/// The document with the known variant namespace URIs written as the standard ones and the
/// well-known prefixes it uses but never declares declared on its root. Two passes over the
/// document, whatever its size: one over its declarations, one over its prefixed names.
fn known_namespaces(text: String) -> String {
    static DECLARATION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"xmlns(?::([A-Za-z_][\w.-]*))?\s*=\s*(?:"([^"]*)"|'([^']*)')"#)
            .expect("a valid regex")
    });
    static PREFIXED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"<([A-Za-z_][\w.-]*):").expect("a valid regex"));
    let mut declared: Vec<String> = Vec::new();
    let mut text = match DECLARATION.replace_all(&text, |c: &regex::Captures<'_>| {
        if let Some(prefix) = c.get(1) {
            declared.push(prefix.as_str().to_owned());
        }
        let uri = c.get(2).or(c.get(3)).map_or("", |u| u.as_str());
        match VARIANT_NAMESPACES
            .iter()
            .find(|(variant, _)| *variant == uri)
        {
            Some((_, standard)) => {
                let prefix = c
                    .get(1)
                    .map_or(String::new(), |p| format!(":{}", p.as_str()));
                format!("xmlns{prefix}=\"{standard}\"")
            }
            None => c[0].to_owned(),
        }
    }) {
        Cow::Owned(rewritten) => rewritten,
        Cow::Borrowed(_) => text,
    };
    let mut used: Vec<&str> = Vec::new();
    for c in PREFIXED.captures_iter(&text) {
        let prefix = c.get(1).map_or("", |p| p.as_str());
        if let Some((known, _)) = KNOWN_PREFIXES.iter().find(|(k, _)| *k == prefix)
            && !used.contains(known)
        {
            used.push(known);
        }
    }
    let missing: String = KNOWN_PREFIXES
        .iter()
        .filter(|(prefix, _)| used.contains(prefix) && !declared.iter().any(|d| d == prefix))
        .map(|(prefix, uri)| format!(" xmlns:{prefix}=\"{uri}\""))
        .collect();
    if missing.is_empty() {
        return text;
    }
    let Ok(root) = root_element(&text) else {
        return text;
    };
    let tag = &text[root.span.0..root.span.1];
    let end = root.span.0 + tag.trim_end_matches('>').trim_end_matches('/').len();
    text.insert_str(end, &missing);
    text
}

/// How far into a document a feed's start is looked for past junk written before it.
const JUNK_MAX: usize = 64 * 1024;

/// A document with what a server wrote before the feed (a PHP warning, a blank line of HTML)
/// dropped: when it starts with neither an XML declaration, markup declarations (a comment, a
/// DOCTYPE, a processing instruction), a feed root nor JSON, it is read from the first
/// `<?xml` or feed root (`<rss`, `<feed`, `<rdf:RDF`) in its first [`JUNK_MAX`] bytes, if any.
fn past_junk(body: &str) -> &str {
    let lower = |s: &str| s.to_ascii_lowercase();
    let starts = |s: &str, at: usize| {
        ["<?xml", "<rss", "<feed", "<rdf:rdf"].iter().any(|root| {
            s[at..].starts_with(root)
                && s[at + root.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| c.is_whitespace() || c == '>' || c == '/')
        })
    };
    let mut window_end = body.len().min(JUNK_MAX);
    while !body.is_char_boundary(window_end) {
        window_end -= 1;
    }
    let window = lower(&body[..window_end]);
    if starts(&window, 0)
        || window.starts_with("<!")
        || window.starts_with("<?")
        || window.starts_with('{')
        || window.starts_with('[')
    {
        return body;
    }
    window
        .match_indices('<')
        .map(|(i, _)| i)
        .find(|&i| starts(&window, i))
        .map_or(body, |i| &body[i..])
}

/// The document with its numeric character references to U+0080-U+009F (C1 controls, which
/// no feed means) made references to the windows-1252 characters of those bytes, as HTML5
/// reads them: `&#146;` is a right quote, not a control that cleaning deletes. A run of
/// references to 0x80-0xFF that spells one UTF-8 character (`&#226;&#128;&#166;`, UTF-8 read
/// as Latin-1 and escaped) is that character, as feedparser reads it.
fn windows_1252_references(text: &str) -> Cow<'_, str> {
    static REFERENCES: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,7});)+")
            .expect("a valid regex")
    });
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    REFERENCES.replace_all(text, |c: &regex::Captures<'_>| {
        let written: Vec<&str> = c[0].split_inclusive(';').collect();
        // Each reference's code point (0 for a name of two code points).
        let codes: Vec<u32> = written
            .iter()
            .map(|r| {
                let r = r.trim_start_matches('&').trim_end_matches(';');
                match r.strip_prefix('#') {
                    Some(n) => match n.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).unwrap_or(0),
                        None => n.parse().unwrap_or(0),
                    },
                    // HTML's own table (`acirc;` is 0xE2), as html5ever reads them.
                    None => html5ever::data::NAMED_ENTITIES
                        .get(format!("{r};").as_str())
                        .filter(|(_, second)| *second == 0)
                        .map_or(0, |(code, _)| *code),
                }
            })
            .collect();
        let mut out = String::new();
        let mut i = 0;
        while i < codes.len() {
            let utf8 = match codes[i] {
                0xC2..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF4 => 4,
                _ => 0,
            };
            let spelled = (utf8 > 0 && i + utf8 <= codes.len())
                .then(|| {
                    let bytes: Vec<u8> = codes[i..i + utf8]
                        .iter()
                        .filter_map(|&b| u8::try_from(b).ok())
                        .collect();
                    std::str::from_utf8(&bytes)
                        .ok()
                        .and_then(|s| s.chars().next())
                        .filter(|_| bytes.len() == utf8)
                })
                .flatten();
            if let Some(ch) = spelled {
                out.push_str(&format!("&#{};", u32::from(ch)));
                i += utf8;
                continue;
            }
            let high = usize::try_from(codes[i])
                .ok()
                .filter(|_| written[i].starts_with("&#"))
                .and_then(|n| n.checked_sub(0x80))
                // HTML5's replacements for references to C1 controls: windows-1252's characters.
                .and_then(|n| html5ever::data::C1_REPLACEMENTS.get(n).copied().flatten());
            match high {
                Some(ch) => out.push_str(&format!("&#{};", u32::from(ch))),
                None => out.push_str(written[i]),
            }
            i += 1;
        }
        out
    })
}

/// The document up to the end of its last whole entry (`<item>` or `<entry>`), with the elements
/// still open there closed: None when the damage comes before any entry ends.
fn complete_entries(text: &str) -> Option<String> {
    let ends = entry_ends(text, usize::MAX);
    ends.last.map(|end| end.closed(text))
}

/// The document up to the end of its `max`-th entry, with the elements still open there closed,
/// when another entry starts after it: None when it has no more than `max` entries.
fn first_entries(text: &str, max: usize) -> Option<String> {
    let ends = entry_ends(text, max);
    match ends.last {
        Some(end) if ends.more => Some(end.closed(text)),
        _ => None,
    }
}

/// The document with only `max` of its entries, when it has more: its first `max`, unless its
/// dates run oldest-first (or in no order), where its newest `max` by date, kept in the
/// document's order; None when it has no more than `max`. A feed that lists its oldest entry
/// first would otherwise never show a new one past the cut.
fn kept_entries(text: &str, max: usize) -> Option<String> {
    let first = first_entries(text, max)?;
    let spans = entry_spans(text);
    if spans.len() <= max {
        return Some(first);
    }
    let dates: Vec<Option<chrono::NaiveDateTime>> =
        spans.iter().map(|span| span.date.map(date_order)).collect();
    let Some(keep) = newest(&dates, max) else {
        return Some(first);
    };
    let mut out = text[..spans[0].start].to_owned();
    for i in keep {
        out.push_str(&text[spans[i].start..spans[i].end]);
        out.push('\n');
    }
    let last = spans.last().map_or(text.len(), |span| span.end);
    out.push_str(&text[last..]);
    Some(out)
}

/// A date as a point to order entries by: UTC when it has a zone, else as written.
fn date_order(date: ParsedDate) -> chrono::NaiveDateTime {
    match date {
        ParsedDate::Absolute(t) => t.naive_utc(),
        ParsedDate::Local(t) => t,
        ParsedDate::Day(d) => d.and_time(chrono::NaiveTime::MIN),
    }
}

/// Which `max` entries of a document to keep, by their dates in document order (an undated
/// entry takes the date of the one before it): None when its first `max` (its dates run
/// newest-first, or too few are dated to tell), else the indices of its newest `max` by date
/// (the later of two of the same date), in document order.
fn newest(dates: &[Option<chrono::NaiveDateTime>], max: usize) -> Option<Vec<usize>> {
    let dated: Vec<chrono::NaiveDateTime> = dates.iter().flatten().copied().collect();
    match (dated.first(), dated.last()) {
        (Some(first), Some(last)) if dated.len() >= 2 && first < last => {}
        _ => return None,
    }
    let mut held = None;
    let mut order: Vec<(Option<chrono::NaiveDateTime>, usize)> = dates
        .iter()
        .enumerate()
        .map(|(i, d)| {
            held = d.or(held);
            (held, i)
        })
        .collect();
    order.sort_by(|a, b| b.cmp(a));
    let mut keep: Vec<usize> = order.into_iter().take(max).map(|(_, i)| i).collect();
    keep.sort_unstable();
    Some(keep)
}

/// One top-level entry of a document: where it starts and ends, and its first readable date
/// (publication before update).
struct EntrySpan {
    start: usize,
    end: usize,
    date: Option<ParsedDate>,
}

/// The entries (`<item>`, `<entry>`, not nested in another) of a document, read to its end or
/// to its first damage.
fn entry_spans(text: &str) -> Vec<EntrySpan> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let mut out = Vec::new();
    let mut depth = 0usize;
    // The open entry: its depth and start; the date element being read, with its rank.
    let mut open: Option<(usize, usize)> = None;
    let mut reading: Option<(usize, String)> = None;
    let mut found: Vec<(usize, String)> = Vec::new();
    loop {
        let before = position(&reader);
        match reader.read_event() {
            Ok(Event::Start(tag)) => {
                depth += 1;
                let local = tag.local_name().as_ref().to_ascii_lowercase();
                match open {
                    None if local == "item" || local == "entry" => {
                        open = Some((depth, before));
                        found.clear();
                    }
                    Some((d, _)) if depth == d + 1 => {
                        reading = PUBLISHED
                            .iter()
                            .chain(UPDATED)
                            .position(|n| n.eq_ignore_ascii_case(&local))
                            .map(|rank| (rank, String::new()));
                    }
                    _ => {}
                }
            }
            Ok(Event::Text(t)) => {
                if let Some((_, text)) = reading.as_mut() {
                    text.push_str(&t);
                }
            }
            Ok(Event::CData(t)) => {
                if let Some((_, text)) = reading.as_mut() {
                    text.push_str(&t);
                }
            }
            Ok(Event::End(_)) => {
                if let Some((d, start)) = open {
                    if depth == d + 1
                        && let Some(date) = reading.take()
                    {
                        found.push(date);
                    }
                    if depth == d {
                        found.sort_by_key(|(rank, _)| *rank);
                        out.push(EntrySpan {
                            start,
                            end: position(&reader),
                            date: found.iter().find_map(|(_, raw)| feed_date(raw)),
                        });
                        open = None;
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    out
}

/// Where a document's entries end, read up to the end of its `max`-th entry (and the start of
/// the entry after it, if any) or to the first damage.
struct EntryEnds {
    /// The end of the last whole entry read, and the elements still open there.
    last: Option<EntryEnd>,
    /// Whether another entry starts after the `max`-th.
    more: bool,
}

struct EntryEnd {
    at: usize,
    open: Vec<String>,
}

impl EntryEnd {
    fn closed(&self, text: &str) -> String {
        let mut whole = text[..self.at].to_owned();
        for name in self.open.iter().rev() {
            whole.push_str(&format!("</{name}>"));
        }
        whole
    }
}

fn entry_ends(text: &str, max: usize) -> EntryEnds {
    let is_entry =
        |local: &str| local.eq_ignore_ascii_case("item") || local.eq_ignore_ascii_case("entry");
    let mut reader = quick_xml::Reader::from_str(text);
    let mut open: Vec<String> = Vec::new();
    let mut out = EntryEnds {
        last: None,
        more: false,
    };
    let mut count = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(tag)) => {
                if count >= max && is_entry(tag.local_name().as_ref()) {
                    out.more = true;
                    break;
                }
                open.push(tag.name().as_ref().to_owned());
            }
            Ok(Event::Empty(tag)) if count >= max && is_entry(tag.local_name().as_ref()) => {
                out.more = true;
                break;
            }
            Ok(Event::End(tag)) => {
                open.pop();
                if is_entry(tag.local_name().as_ref()) {
                    count += 1;
                    out.last = Some(EntryEnd {
                        at: position(&reader),
                        open: open.clone(),
                    });
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    out
}

/// A JSON document's top-level object with its `items` cut to the first `max` when it has more
/// (and whether it had), made what feed-rs reads ([`json_feed_facts`]), with its items' facts;
/// None for a document that is not an object. The items past `max` are skipped as they are
/// read, never built. Anything that is not valid JSON is refused here, with serde's reason.
#[allow(clippy::type_complexity)]
fn json_items_bounded(
    body: &str,
    max: usize,
) -> Result<Option<(String, Vec<Facts>, bool)>, ExtractError> {
    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Value};
    use std::fmt;

    /// The top-level object with its items bounded, and whether any were cut; None for a
    /// document that is not an object (read to its end, never built).
    struct Top(usize);
    /// An `items` value: an array keeps its first `max` elements, anything else is kept whole.
    struct Items(usize);

    impl<'de> Visitor<'de> for Top {
        type Value = Option<(Map<String, Value>, bool)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON document")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let (mut out, mut cut) = (Map::new(), false);
            while let Some(key) = map.next_key::<String>()? {
                let value = if key == "items" {
                    let (items, more) = map.next_value_seed(Items(self.0))?;
                    cut |= more;
                    items
                } else {
                    map.next_value::<Value>()?
                };
                out.insert(key, value);
            }
            Ok(Some((out, cut)))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    impl<'de> DeserializeSeed<'de> for Items {
        type Value = (Value, bool);
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Items {
        type Value = (Value, bool);
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut kept = Vec::new();
            let mut more = false;
            while kept.len() < self.0 {
                match seq.next_element::<Value>()? {
                    Some(item) => kept.push(item),
                    None => return Ok((Value::Array(kept), false)),
                }
            }
            // Past the first `max`: the newest `max` by date are kept beside them, in case the
            // items run oldest-first (see `newest`); an undated item takes the date before it.
            let mut dates: Vec<Option<chrono::NaiveDateTime>> =
                kept.iter().map(json_item_date).collect();
            let mut held = None;
            let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<Ranked>> = kept
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    held = json_item_date(item).or(held);
                    std::cmp::Reverse(Ranked(held, i, item.clone()))
                })
                .collect();
            let mut index = kept.len();
            while let Some(item) = seq.next_element::<Value>()? {
                more = true;
                let date = json_item_date(&item);
                dates.push(date);
                held = date.or(held);
                heap.push(std::cmp::Reverse(Ranked(held, index, item)));
                if heap.len() > self.0 {
                    heap.pop();
                }
                index += 1;
            }
            if newest(&dates, self.0).is_some() {
                let mut newest: Vec<Ranked> = heap.into_iter().map(|r| r.0).collect();
                newest.sort_by_key(|r| r.1);
                kept = newest.into_iter().map(|r| r.2).collect();
            }
            Ok((Value::Array(kept), more))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            let value =
                serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            Ok((value, false))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok((Value::from(v), false))
        }
        fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
            Ok((Value::from(v), false))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok((Value::from(v), false))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok((Value::from(v), false))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            Ok((Value::from(v), false))
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok((Value::Null, false))
        }
    }

    /// An item with its date and place, ordered by them (the item itself is not compared).
    struct Ranked(Option<chrono::NaiveDateTime>, usize, Value);
    impl PartialEq for Ranked {
        fn eq(&self, other: &Self) -> bool {
            (self.0, self.1) == (other.0, other.1)
        }
    }
    impl Eq for Ranked {}
    impl PartialOrd for Ranked {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Ranked {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            (self.0, self.1).cmp(&(other.0, other.1))
        }
    }
    fn json_item_date(item: &Value) -> Option<chrono::NaiveDateTime> {
        ["date_published", "date_modified"]
            .iter()
            .find_map(|k| feed_date(item.get(k)?.as_str()?))
            .map(date_order)
    }

    let mut reader = serde_json::Deserializer::from_str(body);
    let read = serde::Deserializer::deserialize_any(&mut reader, Top(max))
        .and_then(|top| reader.end().map(|()| top))
        .map_err(|e| ExtractError::NotAFeed(format!("not valid JSON: {e}")))?;
    match read {
        Some((mut top, cut)) => {
            let facts = json_feed_facts(&mut top);
            serde_json::to_string(&top)
                .map(|document| Some((document, facts, cut)))
                .map_err(|e| ExtractError::NotAFeed(format!("not valid JSON: {e}")))
        }
        None => Ok(None),
    }
}

/// A JSON Feed made what feed-rs reads, the way feedparser reads it, with the [`Facts`] of its
/// items (their images, which feed-rs does not read):
///
/// - an id written as a number is that number as a string (the spec says so);
/// - an author written as a string is an author of that name; a missing title is empty;
/// - an attachment without a `mime_type` has an unknown one, one without a URL is dropped;
/// - a string field of another type is dropped, not the whole feed;
/// - `content_text` alone is text: escaped, its line breaks kept as `<br>`.
fn json_feed_facts(top: &mut serde_json::Map<String, serde_json::Value>) -> Vec<Facts> {
    use serde_json::Value;
    fn as_text(value: &Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    fn author(value: &mut Value) {
        if let Value::String(name) = value {
            *value = serde_json::json!({ "name": name });
        }
        if !value.is_object() {
            *value = Value::Null;
        }
    }
    fn authors(object: &mut serde_json::Map<String, Value>) {
        if let Some(a) = object.get_mut("author") {
            author(a);
        }
        if let Some(Value::Array(list)) = object.get_mut("authors") {
            list.iter_mut().for_each(author);
            list.retain(Value::is_object);
        } else {
            object.remove("authors");
        }
    }
    for key in ["title", "version"] {
        match top.get(key).and_then(as_text) {
            Some(text) => {
                top.insert(key.to_owned(), Value::String(text));
            }
            None if key == "title" => {
                top.insert(key.to_owned(), Value::String(String::new()));
            }
            None => {}
        }
    }
    for key in [
        "home_page_url",
        "feed_url",
        "description",
        "icon",
        "favicon",
        "language",
    ] {
        if top.get(key).is_some_and(|v| !v.is_string()) {
            top.remove(key);
        }
    }
    authors(top);
    let Some(Value::Array(items)) = top.get_mut("items") else {
        return Vec::new();
    };
    // What is not an object is no item (feed-rs refuses the feed for it).
    items.retain(Value::is_object);
    let mut facts = Vec::with_capacity(items.len());
    for item in items.iter_mut() {
        let Value::Object(item) = item else { continue };
        for key in ["id", "title"] {
            match item.get(key).and_then(as_text) {
                Some(text) => {
                    item.insert(key.to_owned(), Value::String(text));
                }
                None => {
                    item.remove(key);
                }
            }
        }
        for key in [
            "url",
            "external_url",
            "content_html",
            "content_text",
            "summary",
            "image",
            "banner_image",
            "date_published",
            "date_modified",
        ] {
            if item.get(key).is_some_and(|v| !v.is_string()) {
                item.remove(key);
            }
        }
        authors(item);
        match item.get_mut("tags") {
            Some(Value::Array(tags)) => tags.retain(Value::is_string),
            Some(_) => {
                item.remove("tags");
            }
            None => {}
        }
        match item.get_mut("attachments") {
            Some(Value::Array(attachments)) => {
                attachments.retain(|a| a.get("url").is_some_and(Value::is_string));
                for a in attachments.iter_mut().filter_map(Value::as_object_mut) {
                    if !a.get("mime_type").is_some_and(Value::is_string) {
                        a.insert(
                            "mime_type".to_owned(),
                            Value::String("application/octet-stream".to_owned()),
                        );
                    }
                    if a.get("title").is_some_and(|v| !v.is_string()) {
                        a.remove("title");
                    }
                    if a.get("size_in_bytes").is_some_and(|v| !v.is_u64()) {
                        a.remove("size_in_bytes");
                    }
                }
            }
            Some(_) => {
                item.remove("attachments");
            }
            None => {}
        }
        if !item.contains_key("content_html")
            && let Some(Value::String(text)) = item.remove("content_text")
        {
            let html = quick_xml::escape::escape(text.as_str()).replace('\n', "<br>\n");
            item.insert("content_html".to_owned(), Value::String(html));
        }
        let image = ["image", "banner_image"]
            .iter()
            .find_map(|k| item.get(*k).and_then(Value::as_str))
            .filter(|u| !u.trim().is_empty())
            .map(str::to_owned);
        // Its dates as written, read as RSS dates are (feed-rs reads RFC 3339 only, not
        // "2026-03-05 04:00:00").
        let dates = ["date_published", "date_modified"]
            .iter()
            .filter_map(|k| item.get(*k).and_then(Value::as_str).map(str::to_owned))
            .collect();
        facts.push(Facts {
            thumbnail: image,
            dates,
            ..Facts::default()
        });
    }
    facts
}

/// Microsoft's Channel Definition Format (1997), which feedparser reads: a `<CHANNEL>` of
/// `<ITEM HREF=… LASTMOD=…>`s with a `<TITLE>` and an `<ABSTRACT>` each, channels nested in
/// channels. Rewritten as the RSS 2.0 it amounts to, links made absolute against the channel's
/// `BASE` (else left as written, to resolve against the feed's address).
fn cdf_as_rss(text: &str) -> Result<String, ExtractError> {
    use quick_xml::escape::escape;
    #[derive(Default)]
    struct Item {
        href: Option<String>,
        lastmod: Option<String>,
        title: String,
        summary: String,
    }
    let attribute = |tag: &BytesStart<'_>, name: &str| -> Option<String> {
        tag.attributes().flatten().find_map(|a| {
            a.key.as_ref().eq_ignore_ascii_case(name).then(|| {
                quick_xml::escape::unescape(&a.value)
                    .map_or_else(|_| a.value.to_string(), |v| v.into_owned())
            })
        })
    };
    let mut reader = quick_xml::Reader::from_str(text);
    let (mut title, mut link, mut base) = (String::new(), None::<String>, None::<Url>);
    let mut items: Vec<Item> = Vec::new();
    let mut item: Option<Item> = None;
    // The element whose text is being read: TITLE or ABSTRACT, of the item or the channel.
    let mut field: Option<String> = None;
    loop {
        let event = reader.read_event().map_err(|e| {
            ExtractError::NotAFeed(format!("not well-formed XML (a CDF channel): {e}"))
        })?;
        match event {
            Event::Start(tag) | Event::Empty(tag) => {
                let name = tag.local_name().as_ref().to_ascii_uppercase();
                match name.as_str() {
                    "CHANNEL" => {
                        if base.is_none() {
                            base = attribute(&tag, "BASE").and_then(|b| Url::parse(&b).ok());
                        }
                        if link.is_none() {
                            link = attribute(&tag, "HREF");
                        }
                    }
                    "ITEM" => {
                        items.extend(item.take());
                        item = Some(Item {
                            href: attribute(&tag, "HREF"),
                            lastmod: attribute(&tag, "LASTMOD"),
                            ..Item::default()
                        });
                    }
                    "TITLE" | "ABSTRACT" => field = Some(name),
                    _ => {}
                }
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                let piece = match &event {
                    Event::Text(t) => t.to_string(),
                    Event::CData(t) => t.to_string(),
                    Event::GeneralRef(r) => match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => quick_xml::escape::resolve_predefined_entity(r)
                            .unwrap_or_default()
                            .to_owned(),
                    },
                    _ => continue,
                };
                let target = match (&mut item, field.as_deref()) {
                    (Some(i), Some("TITLE")) => &mut i.title,
                    (Some(i), Some(_)) => &mut i.summary,
                    (None, Some("TITLE")) if items.is_empty() => &mut title,
                    _ => continue,
                };
                target.push_str(&piece);
            }
            Event::End(tag) => {
                let name = tag.local_name();
                if name.as_ref().eq_ignore_ascii_case("ITEM") {
                    items.extend(item.take());
                } else if name.as_ref().eq_ignore_ascii_case("TITLE")
                    || name.as_ref().eq_ignore_ascii_case("ABSTRACT")
                {
                    field = None;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    items.extend(item.take());
    let mut rss = format!(
        "<rss version=\"2.0\"><channel><title>{}</title>",
        escape(title.trim())
    );
    if let Some(link) = &link {
        rss.push_str(&format!("<link>{}</link>", escape(link.as_str())));
    }
    for i in &items {
        rss.push_str("<item>");
        if !i.title.trim().is_empty() {
            rss.push_str(&format!("<title>{}</title>", escape(i.title.trim())));
        }
        if let Some(href) = &i.href {
            let absolute = base
                .as_ref()
                .and_then(|b| b.join(href).ok())
                .map_or_else(|| href.clone(), String::from);
            rss.push_str(&format!("<link>{}</link>", escape(absolute.as_str())));
        }
        if !i.summary.trim().is_empty() {
            rss.push_str(&format!(
                "<description>{}</description>",
                escape(i.summary.trim())
            ));
        }
        if let Some(date) = i.lastmod.as_deref().and_then(cdf_date) {
            rss.push_str(&format!("<pubDate>{}</pubDate>", date.to_rfc2822()));
        }
        rss.push_str("</item>");
    }
    rss.push_str("</channel></rss>");
    Ok(rss)
}

/// A CDF `LASTMOD`: ISO 8601, with or without seconds and offset (without one: UTC).
fn cdf_date(text: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let text = text.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(d);
    }
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .map(|n| n.and_utc().fixed_offset())
}

/// The first element of an XML document.
struct Root {
    /// As written, with its prefix.
    name: String,
    local: String,
    version: Option<String>,
    /// Its start tag's byte range, and the tag's attributes other than `version`.
    span: (usize, usize),
    attributes: Vec<(String, String)>,
    empty: bool,
}

impl Root {
    fn rewritten_rss(&self) -> String {
        let mut tag = format!("<{}", self.name);
        for (key, value) in &self.attributes {
            let quote = if value.contains('"') { '\'' } else { '"' };
            tag.push_str(&format!(" {key}={quote}{value}{quote}"));
        }
        tag.push_str(" version=\"2.0\"");
        tag.push_str(if self.empty { "/>" } else { ">" });
        tag
    }
}

fn root_element(text: &str) -> Result<Root, ExtractError> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        let start = position(&reader);
        let event = reader.read_event().map_err(|e| {
            ExtractError::NotAFeed(format!(
                "not well-formed XML before its first element: {e} (at byte {})",
                reader.error_position()
            ))
        })?;
        let (tag, empty) = match event {
            Event::Start(tag) => (tag, false),
            Event::Empty(tag) => (tag, true),
            Event::Eof => {
                return Err(ExtractError::NotAFeed(
                    "an XML document without any element".into(),
                ));
            }
            _ => continue,
        };
        return Ok(root_of(&tag, empty, (start, position(&reader))));
    }
}

fn position(reader: &quick_xml::Reader<&[u8]>) -> usize {
    usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX)
}

fn root_of(tag: &BytesStart<'_>, empty: bool, span: (usize, usize)) -> Root {
    let name = tag.name().as_ref().to_owned();
    let local = tag.local_name().as_ref().to_owned();
    let mut version = None;
    let mut attributes = Vec::new();
    for attr in tag.attributes().with_checks(false).flatten() {
        let key = attr.key.as_ref().to_owned();
        let value = attr.value.to_string();
        if key == "version" {
            version = Some(value);
        } else {
            attributes.push((key, value));
        }
    }
    Root {
        name,
        local,
        version,
        span,
        attributes,
        empty,
    }
}

/// What feed-rs does not keep of an entry, as written: its date elements' texts (the ones that
/// say when it was published first, then the ones that say when it was updated), whether its
/// RSS guid is a permalink, a title or description in another namespace, whether it has a
/// link (feed-rs drops an RSS 1.0/0.90 item that has none), and the whole content of a title,
/// summary or content written as unescaped HTML (feed-rs keeps only its text up to the first
/// tag).
#[derive(Debug, Default)]
struct Facts {
    dates: Vec<String>,
    guid_is_permalink: Option<bool>,
    /// Its first title and description of any namespace (`dc:title` too), as written.
    title: Option<String>,
    description: Option<String>,
    has_link: bool,
    /// The inner markup of its first title, first description/summary and first content
    /// (`content:encoded`, Atom `content`), when that element holds child elements (and is not
    /// Atom XHTML, which feed-rs reads whole).
    title_markup: Option<String>,
    /// Its `<title>` children (no prefix: not `dc:title`, `media:title`), and the first one's
    /// content as written: of two, the first is the title (feed-rs reads the last).
    plain_titles: usize,
    first_plain_title: Option<String>,
    summary_markup: Option<String>,
    content_markup: Option<String>,
    /// The URL of its first `media:thumbnail`: feed-rs keeps one only beside a `media:content`.
    thumbnail: Option<String>,
    /// The picture its own `<itunes:image href=…>` (any prefix) names, resolved against the
    /// `xml:base` in effect: feed-rs reads it only on the channel.
    item_image: Option<String>,
    /// Its `<link href=…>` children (Atom links, `atom:link` in an RSS item, which feed-rs does
    /// not read there), as (rel, href resolved against the `xml:base` in effect).
    links: Vec<(Option<String>, String)>,
    /// The `type` of those links that say one, by href as in `links`.
    link_types: Vec<(String, String)>,
    /// Its `rdf:about` (RSS 1.0: the item's own URI), resolved.
    about: Option<String>,
    /// The `xml:base` in effect on its guid/id and on the entry itself, when the document
    /// declares one (a relative permalink guid and relative URLs in its HTML resolve there).
    guid_base: Option<Url>,
    base: Option<Url>,
    /// The `xml:base` in effect on its first content and on its first summary/description
    /// (their own, or one above them), when the document declares one: their HTML's relative
    /// URLs resolve there.
    content_base: Option<Url>,
    summary_base: Option<Url>,
    /// The `medium` of its `media:content`s, by URL (feed-rs drops it).
    media_medium: Vec<(String, String)>,
    /// Its plain-text leads of other namespaces, the first of each kind by rank (see
    /// [`lead_rank`]): the summary of an entry without description or content.
    leads: Vec<(usize, String)>,
}

/// The rank of an element that holds an entry's lead as plain text, when it is one: a podcast's
/// `itunes:summary`, then its `itunes:subtitle`, then a `media:description` (YouTube puts it in
/// a `media:group`).
fn lead_rank(tag: &BytesStart<'_>) -> Option<usize> {
    let name = tag.name();
    let prefix = name.prefix()?.into_inner().to_ascii_lowercase();
    let local = name.local_name().into_inner().to_ascii_lowercase();
    match (prefix.as_str(), local.as_str()) {
        ("itunes", "summary") => Some(0),
        ("itunes", "subtitle") => Some(1),
        ("media", "description") => Some(2),
        _ => None,
    }
}

/// Which text of an entry is being read.
#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Date(usize),
    Title,
    Description,
    /// An Atom summary or any other summary: only its markup is kept.
    Summary,
    Content,
}

/// The element of an entry being read.
struct OpenText {
    slot: Slot,
    text: String,
    /// Where its content starts, whether it holds child elements, and whether its markup
    /// counts (not XHTML, not a media element).
    start: usize,
    children: bool,
    markup: bool,
    /// It is a `<title>` of no prefix.
    plain_title: bool,
}

/// Date elements an entry may carry, by local name: publication first, then update.
const PUBLISHED: &[&str] = &["pubDate", "published", "issued", "created", "date"];
const UPDATED: &[&str] = &["updated", "modified", "lastBuildDate"];

/// The [`Facts`] of each `<item>`/`<entry>` in document order. Reading stops at the first
/// error of the XML (feed-rs's reading then stands alone, as the counts will differ).
fn entry_facts(text: &str, feed_url: &Url) -> Vec<Facts> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let mut out: Vec<Facts> = Vec::new();
    // The `xml:base`s declared on the open elements, with the depth of each.
    let mut bases: Vec<(usize, Url)> = Vec::new();
    // Depth of the open entry, and of the element whose text is being read (with its rank).
    let mut depth = 0usize;
    let mut entry_depth: Option<usize> = None;
    let mut reading: Option<OpenText> = None;
    let mut found: Vec<(usize, String)> = Vec::new();
    // Which of title, summary and content were seen in the open entry.
    let mut seen = [false; 3];
    // The lead being read (`lead_rank`): its rank, depth and text.
    let mut lead: Option<(usize, usize, String)> = None;
    loop {
        let before = position(&reader);
        let Ok(event) = reader.read_event() else {
            break;
        };
        match event {
            Event::Start(tag) => {
                depth += 1;
                let current = bases.last().map_or(feed_url, |(_, b)| b);
                if let Some(base) =
                    raw_attribute(&tag, "xml:base").and_then(|b| current.join(b.trim()).ok())
                {
                    bases.push((depth, base));
                }
                let base = bases.last().map(|(_, b)| b);
                if entry_depth.is_some() {
                    thumbnail_of(&tag, out.last_mut());
                    media_of(&tag, base.unwrap_or(feed_url), out.last_mut());
                    item_image_of(&tag, base.unwrap_or(feed_url), out.last_mut());
                    if let Some(rank) = lead_rank(&tag) {
                        lead = Some((rank, depth, String::new()));
                    }
                }
                // Names are matched in any case, as feedparser does (`<pubdate>`, `<Title>`).
                let local = tag.local_name().as_ref().to_ascii_lowercase();
                match entry_depth {
                    None if local == "item" || local == "entry" => {
                        entry_depth = Some(depth);
                        out.push(Facts {
                            about: raw_attribute(&tag, "rdf:about")
                                .and_then(|a| base.unwrap_or(feed_url).join(a.trim()).ok())
                                .map(String::from),
                            base: base.cloned(),
                            ..Facts::default()
                        });
                        found.clear();
                        seen = [false; 3];
                    }
                    Some(d) if depth == d + 1 => {
                        let attribute = |name: &str| {
                            tag.attributes()
                                .with_checks(false)
                                .flatten()
                                .find(|a| a.key.local_name().as_ref().eq_ignore_ascii_case(name))
                                .map(|a| a.value.trim().to_ascii_lowercase())
                        };
                        if local == "guid"
                            && let Some(facts) = out.last_mut()
                        {
                            facts.guid_is_permalink =
                                attribute("isPermaLink").map(|v| v != "false");
                        }
                        if (local == "guid" || local == "id")
                            && let Some(facts) = out.last_mut()
                        {
                            facts.guid_base = base.cloned();
                        }
                        if local == "link"
                            && let Some(facts) = out.last_mut()
                        {
                            facts.has_link = true;
                            link_of(&tag, base.unwrap_or(feed_url), facts);
                        }
                        let slot = match local.as_str() {
                            // Leads of other namespaces are not the entry's description.
                            _ if lead_rank(&tag).is_some() => None,
                            "title" => Some(Slot::Title),
                            "description" => Some(Slot::Description),
                            "summary" => Some(Slot::Summary),
                            "content" | "encoded" => Some(Slot::Content),
                            _ => PUBLISHED
                                .iter()
                                .chain(UPDATED)
                                .position(|n| n.eq_ignore_ascii_case(&local))
                                .map(Slot::Date),
                        };
                        let xhtml = attribute("type")
                            .is_some_and(|t| t == "xhtml" || t.contains("xhtml+xml"));
                        let media = tag.name().prefix().is_some_and(|p| p.as_ref() == "media")
                            || attribute("url").is_some()
                            || attribute("src").is_some();
                        if let Some(facts) = out.last_mut() {
                            match slot {
                                Some(Slot::Content) if facts.content_base.is_none() => {
                                    facts.content_base = base.cloned();
                                }
                                Some(Slot::Description | Slot::Summary)
                                    if facts.summary_base.is_none() =>
                                {
                                    facts.summary_base = base.cloned();
                                }
                                _ => {}
                            }
                        }
                        let plain_title = local == "title" && tag.name().prefix().is_none();
                        if plain_title && let Some(facts) = out.last_mut() {
                            facts.plain_titles += 1;
                        }
                        reading = slot.map(|slot| OpenText {
                            slot,
                            text: String::new(),
                            start: position(&reader),
                            children: false,
                            markup: !xhtml && !media,
                            plain_title,
                        });
                    }
                    Some(d) if depth > d + 1 => {
                        if let Some(r) = reading.as_mut() {
                            r.children = true;
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let Some(r) = reading.as_mut() {
                    r.text.push_str(&t);
                }
                if let Some((_, _, text)) = lead.as_mut() {
                    text.push_str(&t);
                }
            }
            Event::CData(t) => {
                if let Some(r) = reading.as_mut() {
                    r.text.push_str(&t);
                }
                if let Some((_, _, text)) = lead.as_mut() {
                    text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => quick_xml::escape::resolve_predefined_entity(&r)
                        .unwrap_or_default()
                        .to_owned(),
                };
                if let Some(reading) = reading.as_mut() {
                    reading.text.push_str(&resolved);
                }
                if let Some((_, _, text)) = lead.as_mut() {
                    text.push_str(&resolved);
                }
            }
            Event::Empty(tag) => {
                // An empty element's own `xml:base` applies to its attributes.
                let current = bases.last().map_or(feed_url, |(_, b)| b);
                let own = raw_attribute(&tag, "xml:base").and_then(|b| current.join(b.trim()).ok());
                let base = own.as_ref().unwrap_or(current);
                if entry_depth.is_some() {
                    thumbnail_of(&tag, out.last_mut());
                    media_of(&tag, base, out.last_mut());
                    item_image_of(&tag, base, out.last_mut());
                }
                if entry_depth.is_some_and(|d| depth == d)
                    && tag.local_name().as_ref().eq_ignore_ascii_case("link")
                    && let Some(facts) = out.last_mut()
                {
                    facts.has_link = true;
                    link_of(&tag, base, facts);
                }
                if entry_depth.is_some_and(|d| depth > d)
                    && let Some(r) = reading.as_mut()
                {
                    r.children = true;
                }
            }
            Event::End(_) => {
                if let Some((rank, _, text)) = lead.take_if(|(_, d, _)| *d == depth)
                    && let Some(facts) = out.last_mut()
                    && !facts.leads.iter().any(|(r, _)| *r == rank)
                {
                    facts.leads.push((rank, text));
                }
                if let Some(d) = entry_depth {
                    if depth == d + 1
                        && let Some(r) = reading.take()
                        && let Some(facts) = out.last_mut()
                    {
                        let which = match r.slot {
                            Slot::Title => Some(0),
                            Slot::Description | Slot::Summary => Some(1),
                            Slot::Content => Some(2),
                            Slot::Date(_) => None,
                        };
                        if let Some(which) = which
                            && !std::mem::replace(&mut seen[which], true)
                            && r.children
                            && r.markup
                        {
                            let markup = text[r.start..before.max(r.start)]
                                .replace("<![CDATA[", "")
                                .replace("]]>", "");
                            let field = match which {
                                0 => &mut facts.title_markup,
                                1 => &mut facts.summary_markup,
                                _ => &mut facts.content_markup,
                            };
                            *field = Some(markup);
                        }
                        match r.slot {
                            Slot::Date(rank) => found.push((rank, r.text)),
                            Slot::Title => {
                                if r.plain_title && facts.first_plain_title.is_none() {
                                    facts.first_plain_title = Some(r.text.clone());
                                }
                                facts.title.get_or_insert(r.text);
                            }
                            Slot::Description => {
                                facts.description.get_or_insert(r.text);
                            }
                            Slot::Summary | Slot::Content => {}
                        }
                    }
                    if depth == d {
                        entry_depth = None;
                        found.sort_by_key(|(rank, _)| *rank);
                        if let Some(facts) = out.last_mut() {
                            facts.dates = found.drain(..).map(|(_, raw)| raw).collect();
                        }
                    }
                }
                if bases.last().is_some_and(|(d, _)| *d == depth) {
                    bases.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// An attribute's value as written (entities decoded), its name matched in any case; a prefixed
/// name (`xml:base`) is matched whole, another by its local name.
fn raw_attribute(tag: &BytesStart<'_>, name: &str) -> Option<String> {
    tag.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| {
            let key = if name.contains(':') {
                a.key.as_ref()
            } else {
                a.key.local_name().into_inner()
            };
            key.eq_ignore_ascii_case(name)
        })
        .map(|a| {
            quick_xml::escape::unescape(&a.value)
                .map_or_else(|_| a.value.to_string(), |v| v.into_owned())
        })
}

/// Keeps a `<link href=…>` of an entry (rel, href resolved against `base`).
fn link_of(tag: &BytesStart<'_>, base: &Url, facts: &mut Facts) {
    let Some(href) = raw_attribute(tag, "href").filter(|h| !h.trim().is_empty()) else {
        return;
    };
    let Ok(href) = base.join(href.trim()) else {
        return;
    };
    let rel = raw_attribute(tag, "rel").map(|r| r.trim().to_ascii_lowercase());
    if let Some(kind) = raw_attribute(tag, "type") {
        facts.link_types.push((href.to_string(), kind));
    }
    facts.links.push((rel, href.to_string()));
}

/// Keeps the `medium` of a `media:content` (any prefix), by its URL resolved against `base`.
fn media_of(tag: &BytesStart<'_>, base: &Url, facts: Option<&mut Facts>) {
    let Some(facts) = facts else { return };
    if tag.local_name().as_ref() != "content" {
        return;
    }
    let (Some(url), Some(medium)) = (raw_attribute(tag, "url"), raw_attribute(tag, "medium"))
    else {
        return;
    };
    if let Ok(url) = base.join(url.trim()) {
        facts
            .media_medium
            .push((url.to_string(), medium.trim().to_ascii_lowercase()));
    }
}

/// Keeps the picture an entry's `<itunes:image href=…>` (any prefix: an `image` with an
/// `href`) names, if it has none yet.
fn item_image_of(tag: &BytesStart<'_>, base: &Url, facts: Option<&mut Facts>) {
    let Some(facts) = facts else { return };
    if facts.item_image.is_some() || !tag.local_name().as_ref().eq_ignore_ascii_case("image") {
        return;
    }
    facts.item_image = raw_attribute(tag, "href")
        .and_then(|href| base.join(href.trim()).ok())
        .map(String::from);
}

/// Keeps the URL of a `media:thumbnail` (any prefix) as the entry's thumbnail, if it has none.
fn thumbnail_of(tag: &BytesStart<'_>, facts: Option<&mut Facts>) {
    let Some(facts) = facts else { return };
    if facts.thumbnail.is_some() || tag.local_name().as_ref() != "thumbnail" {
        return;
    }
    facts.thumbnail = tag
        .attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().as_ref() == "url")
        .map(|a| {
            quick_xml::escape::unescape(&a.value)
                .map_or_else(|_| a.value.to_string(), |v| v.into_owned())
        })
        .filter(|u| !u.trim().is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    /// An entry's HTML nested past any real text is read flat: its words, entities read.
    #[test]
    fn a_fragment_nested_too_deep_is_read_flat() {
        let depth = crate::extract::depth::MAX_DEPTH + 100;
        let html = format!(
            "{}Hello &amp; <b>world</b>{}",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let text = html_to_text(&html);
        assert_eq!(
            text.split_whitespace().collect::<Vec<_>>(),
            ["Hello", "&", "world"]
        );
    }

    const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title><link>https://ex.org/</link>
<item><title>First &amp; best</title><link>/news/1?utm_source=rss</link><guid>1</guid>
<pubDate>Sat, 21 Mar 2026 10:00:00 +0500</pubDate><description>&lt;p&gt;Lead &lt;b&gt;one&lt;/b&gt;&lt;/p&gt;</description>
<media:content url="https://ex.org/1.jpg" medium="image" type="image/jpeg"/></item>
<item><title>No link</title></item>
</channel></rss>"#;

    const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:x</id><updated>2026-03-21T10:00:00Z</updated>
<entry><title type="html">&lt;i&gt;Second&lt;/i&gt;</title><id>urn:2</id><link rel="alternate" href="https://ex.org/news/2"/>
<updated>2026-03-21T10:00:00Z</updated><content type="html">&lt;p onclick="x()"&gt;Body&lt;script&gt;alert(1)&lt;/script&gt;&lt;a href="javascript:y()"&gt;l&lt;/a&gt;&lt;/p&gt;</content></entry>
</feed>"#;

    const JSON: &str = r#"{"version":"https://jsonfeed.org/version/1.1","title":"T","items":[
{"id":"3","url":"https://ex.org/news/3","title":"Third","content_html":"<p>Three</p>","date_published":"2026-03-21T10:00:00+05:00","image":"https://ex.org/3.jpg"}]}"#;

    fn read(text: &str) -> Vec<Scraped> {
        let base = Url::parse("https://ex.org/feed").unwrap();
        feed_entries(text, &base, None, usize::MAX).unwrap().entries
    }

    #[rstest]
    #[case::rss(RSS, "First & best", "https://ex.org/news/1")]
    #[case::atom(ATOM, "Second", "https://ex.org/news/2")]
    #[case::json_feed(JSON, "Third", "https://ex.org/news/3")]
    fn upstream_feeds(#[case] text: &str, #[case] title: &str, #[case] link: &str) {
        let items = read(text);
        assert_eq!(items[0].title, title);
        assert_eq!(items[0].link, link);
        assert!(items[0].date.is_some());
    }

    /// An entry without a guid is keyed by its link in the form keys always had (the query
    /// rebuilt as form pairs), while the link itself keeps its query as written: an upgrade
    /// announces no stored entry again.
    #[test]
    fn a_link_keeps_its_query_and_its_key_the_form_it_had() {
        let rss = "<rss version=\"2.0\"><channel><title>t</title><link>https://ex.org/</link>\
                   <item><title>One</title><link>https://ex.org/n?123</link></item>\
                   <item><title>Two</title><link>https://ex.org/n?path=/a/b&amp;t=a,b:c</link></item>\
                   </channel></rss>";
        let items = read(rss);
        assert_eq!(items[0].link, "https://ex.org/n?123");
        assert_eq!(items[0].key, "https://ex.org/n?123=");
        assert_eq!(items[1].link, "https://ex.org/n?path=/a/b&t=a,b:c");
        assert_eq!(items[1].key, "https://ex.org/n?path=%2Fa%2Fb&t=a%2Cb%3Ac");
    }

    #[test]
    fn rss_summary_is_plain_text_and_image_is_kept() {
        let item = &read(RSS)[0];
        assert_eq!(item.summary.as_deref(), Some("Lead one"));
        assert_eq!(item.image.as_deref(), Some("https://ex.org/1.jpg"));
    }

    #[test]
    fn atom_content_is_sanitized() {
        let html = read(ATOM)[0].content_html.clone().unwrap();
        assert!(html.contains("Body"), "{html}");
        assert!(
            !html.contains("script") && !html.contains("onclick") && !html.contains("javascript"),
            "{html}"
        );
    }

    #[rstest]
    #[case::html_page("<!DOCTYPE html><html><body>hi</body></html>", "an HTML page")]
    #[case::other_root(
        "<?xml version=\"1.0\"?><opml version=\"2.0\"/>",
        "the root element is <opml>"
    )]
    #[case::empty("  \n", "empty")]
    #[case::not_xml("hello", "neither XML nor JSON")]
    // A gzip body without its Content-Encoding, read as windows-1252 and as UTF-8.
    #[case::gzip_unlabelled(
        "\u{1f}‹\u{8}\0]Ö\u{2}\u{3}",
        "a gzip-compressed body sent without Content-Encoding: gzip"
    )]
    #[case::gzip_unlabelled_utf8(
        "\u{1f}\u{fffd}\u{8}\0\0\0\0\0",
        "a gzip-compressed body sent without Content-Encoding: gzip"
    )]
    #[case::bad_json("{\"version\": ", "not valid JSON")]
    #[case::broken_xml(
        "<?xml version=\"1.0\"?><rss version=\"2.0\" <channel>",
        "not well-formed XML"
    )]
    fn what_is_not_a_feed_is_said(#[case] text: &str, #[case] says: &str) {
        let base = Url::parse("https://ex.org/feed").unwrap();
        match feed_entries(text, &base, None, usize::MAX) {
            Err(ExtractError::NotAFeed(why)) => assert!(why.contains(says), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn atom_0_3_is_read_with_its_issued_date() {
        let atom03 = r#"<?xml version="1.0" encoding="utf-8"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Old</title>
<link rel="alternate" type="text/html" href="http://example.org/"/>
<entry><title>Atom-Powered Robots Run Amok</title>
<link rel="alternate" type="text/html" href="http://example.org/2003/12/13/atom03"/>
<id>tag:example.org,2003:3.2397</id><issued>2003-12-13T08:29:29-04:00</issued>
<modified>2003-12-13T18:30:02Z</modified></entry></feed>"#;
        let items = read(atom03);
        assert_eq!(items[0].title, "Atom-Powered Robots Run Amok");
        assert_eq!(items[0].link, "http://example.org/2003/12/13/atom03");
        assert_eq!(items[0].key, "tag:example.org,2003:3.2397");
        let Some(ParsedDate::Absolute(date)) = items[0].date else {
            panic!("{:?}", items[0].date)
        };
        assert_eq!(date.to_rfc3339(), "2003-12-13T08:29:29-04:00");
    }

    fn rss_items(items: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>C &amp; D</title><link>https://ex.org/</link>{items}</channel></rss>"
        )
    }

    #[test]
    fn bare_ampersands_and_raw_html_are_read_not_cut() {
        let doc = rss_items(concat!(
            "<item><title>Tom & Jerry</title><link>https://ex.org/a?x=1&y=2</link></item>",
            "<item><title>Two</title><link>https://ex.org/2</link><description>Line<br>two & more</description></item>",
            "<item><title>A &amp; B &c</title><link>https://ex.org/3</link><description>x < y</description></item>",
            "<item><title>Four ]]> end</title><link>https://ex.org/4</link><description>a <p>b</description></item>",
            "<item><title><![CDATA[Five & six]]></title><link>https://ex.org/5</link><description>Five & <![CDATA[six & <b>seven</b>]]></description></item>",
        ));
        let doc = doc.replace("C &amp; D", "C & D");
        let doc = doc.replace("C &amp; D", "C & D");
        let items = read(&doc);
        let titles: Vec<_> = items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Tom & Jerry",
                "Two",
                "A & B &c",
                "Four ]]> end",
                "Five & six"
            ]
        );
        assert_eq!(items[0].link, "https://ex.org/a?x=1&y=2");
        assert_eq!(items[1].summary.as_deref(), Some("Line two & more"));
        assert_eq!(items[2].summary.as_deref(), Some("x < y"));
        assert_eq!(items[3].summary.as_deref(), Some("a b"));
        assert_eq!(items[4].summary.as_deref(), Some("Five & six & seven"));
        // What a CDATA section holds is text as written, in a document repaired around it.
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>Bits & bobs</title><id>urn:t</id>
<entry><title type="text"><![CDATA[Q&amp;A & more]]></title><id>urn:1</id><link href="https://ex.org/1"/></entry></feed>"#;
        assert_eq!(read(atom)[0].title, "Q&amp;A & more");
    }

    #[test]
    fn a_cut_short_document_still_keeps_its_whole_entries() {
        let doc = rss_items(
            "<item><title>One & all</title><link>https://ex.org/1</link></item><item><title>Tw",
        );
        let doc = &doc[..doc.find("<title>Tw").unwrap() + 9];
        let items = read(doc);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].title, "One & all");
    }

    #[test]
    fn repair_stays_linear_on_hostile_markup() {
        let mut doc = rss_items("<item><title>x</title></item>");
        for _ in 0..20_000 {
            doc.push_str("<a \"<title><x:title><description>&&<");
        }
        // Tag names that never end (no space, `>` or `/` anywhere after them).
        doc.push_str(&"<a".repeat(200_000));
        let started = std::time::Instant::now();
        let _ = repair_xml(&doc);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn inline_html_in_a_description_or_content_is_read_whole() {
        let doc = rss_items(concat!(
            "<item><title>One</title><link>https://ex.org/1</link>",
            "<description>First line<br/>Second <b>line</b></description>",
            "<content:encoded xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><p>Para one</p><p>Para two</p></content:encoded></item>",
        ));
        let item = &read(&doc)[0];
        assert_eq!(item.summary.as_deref(), Some("First line Second line"));
        let html = item.content_html.as_deref().unwrap_or_default();
        assert!(
            html.contains("Para one") && html.contains("Para two"),
            "{html}"
        );
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:t</id>
<entry><title type="html">A <b>bold</b> move</title><id>urn:1</id><link href="https://ex.org/1"/>
<summary type="html">Lead <i>in</i> here</summary><content type="html">Body <p>more</p> end</content></entry></feed>"#;
        let item = &read(atom)[0];
        assert_eq!(item.title, "A bold move");
        assert_eq!(item.summary.as_deref(), Some("Lead in here"));
        let html = item.content_html.as_deref().unwrap_or_default();
        assert!(
            html.contains("Body") && html.contains("more") && html.contains("end"),
            "{html}"
        );
    }

    #[rstest]
    #[case::text_plain(r#"type="text/plain""#, "Plain <b> text")]
    #[case::upper_html(r#"type="HTML""#, "Plain text")]
    #[case::atom03_xhtml(r#"type="application/xhtml+xml" mode="xml""#, "Plain <b> text")]
    #[case::application_xml(r#"type="application/xml""#, "Plain <b> text")]
    #[case::text_html(r#"type="text/html" mode="escaped""#, "Plain text")]
    fn any_atom_text_type_is_read(#[case] attributes: &str, #[case] title: &str) {
        let atom = format!(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:t</id>
<entry><title {attributes}>Plain &lt;b&gt; text</title><id>urn:1</id><link href="https://ex.org/1"/>
<content {attributes}>Body</content></entry>
<entry><title>Two</title><id>urn:2</id><link href="https://ex.org/2"/></entry></feed>"#
        );
        let items = read(&atom);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].title, title);
    }

    #[test]
    fn undeclared_and_variant_namespaces_are_read() {
        let doc = concat!(
            "<rss version=\"2.0\"><channel><title>T</title><link>https://ex.org/</link>",
            "<item><title>One</title><link>https://ex.org/1</link>",
            "<content:encoded><![CDATA[<p>Full body</p>]]></content:encoded>",
            "<media:thumbnail url=\"https://ex.org/1.jpg\"/></item></channel></rss>"
        );
        let item = &read(doc)[0];
        assert!(
            item.content_html
                .as_deref()
                .unwrap_or_default()
                .contains("Full body")
        );
        assert_eq!(item.image.as_deref(), Some("https://ex.org/1.jpg"));
        let doc = concat!(
            "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss\"><channel><title>T</title>",
            "<item><title>One</title><link>https://ex.org/1</link>",
            "<media:content url=\"https://ex.org/2.jpg\" medium=\"image\"/></item></channel></rss>"
        );
        assert_eq!(read(doc)[0].image.as_deref(), Some("https://ex.org/2.jpg"));
    }

    #[rstest]
    #[case::php_warning(
        "<br />\n<b>Warning</b>:  Cannot modify header information in <b>/var/www/feed.php</b> on line <b>3</b><br />\n"
    )]
    #[case::text_line("Deprecated: function x() is deprecated\n")]
    #[case::blank_html("<p></p>\n")]
    fn junk_before_the_feed_is_skipped(#[case] junk: &str) {
        // The text is decoded already: the declaration after the junk is dropped too.
        let doc = format!(
            "{junk}<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss version=\"2.0\"><channel><title>T</title><item><title>Café</title><link>https://ex.org/1</link></item></channel></rss>"
        );
        assert_eq!(read(&doc)[0].title, "Café");
        let doc = format!(
            "{junk}<?xml version=\"1.0\"?>{}",
            rss_items("<item><title>One</title><link>https://ex.org/1</link></item>")
                .trim_start_matches("<?xml version=\"1.0\"?>")
        );
        let items = read(&doc);
        assert_eq!(items[0].title, "One");
    }

    #[test]
    fn relative_urls_resolve_against_xml_base_then_the_document() {
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="/blog/"><title>T</title><id>urn:t</id>
<entry><title>One</title><id>urn:1</id><link href="posts/1"/></entry></feed>"#;
        assert_eq!(read(atom)[0].link, "https://ex.org/blog/posts/1");
        let rss = concat!(
            "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\"><channel><title>T</title>",
            "<item><title>One</title><link>https://ex.org/news/1</link>",
            "<media:thumbnail url=\"//cdn.ex.org/1.jpg\"/></item>",
            "<item><title>Two</title><link>https://ex.org/news/2</link>",
            "<enclosure url=\"/img/2.jpg\" type=\"image/jpeg\" length=\"1\"/></item></channel></rss>"
        );
        let items = read(rss);
        assert_eq!(items[0].image.as_deref(), Some("https://cdn.ex.org/1.jpg"));
        assert_eq!(items[1].image.as_deref(), Some("https://ex.org/img/2.jpg"));
    }

    #[test]
    fn windows_1252_references_are_the_characters_they_mean() {
        let doc = rss_items(
            "<item><title>It&#146;s ok &#150; &#x93;quoted&#x94;</title><link>https://ex.org/1</link></item>",
        );
        assert_eq!(
            read(&doc)[0].title,
            "It\u{2019}s ok \u{2013} \u{201c}quoted\u{201d}"
        );
        // UTF-8 bytes read as Latin-1 and escaped one by one: the character they spell.
        let doc = rss_items(
            "<item><title>Wait&#226;&#128;&#166; &#233;t&#xE9; &#194; &acirc;&#128;&brvbar; &eacute;&eacute;</title><link>https://ex.org/1</link></item>",
        );
        assert_eq!(
            read(&doc)[0].title,
            "Wait\u{2026} \u{e9}t\u{e9} \u{c2} \u{2026} \u{e9}\u{e9}"
        );
    }

    #[test]
    fn html_entities_are_decoded_in_text_titles() {
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:t</id>
<entry><title type="text">It&rsquo;s&nbsp;here &amp;amp; now</title><id>urn:1</id><link href="https://ex.org/1"/></entry></feed>"#;
        assert_eq!(read(atom)[0].title, "It\u{2019}s here &amp; now");
    }

    #[test]
    fn a_comments_link_is_never_the_entry_link() {
        let doc = rss_items(concat!(
            "<item><title>One</title><comments>https://ex.org/1#comments</comments>",
            "<guid>https://ex.org/1</guid></item>",
            "<item><title>Two</title><comments>https://ex.org/2/comments</comments>",
            "<link>https://ex.org/2</link><guid isPermaLink=\"false\">two</guid></item>",
        ));
        let items = read(&doc);
        assert_eq!(items[0].link, "https://ex.org/1");
        assert_eq!(items[1].link, "https://ex.org/2");
        assert_eq!(items[1].key, "two");
    }

    #[rstest]
    #[case::items_after_the_channel(
        "<rss version=\"2.0\"><channel><title>T</title><item><title>One</title><link>https://ex.org/1</link></item></channel><item><title>Two</title><link>https://ex.org/2</link></item></rss>",
        &["One", "Two"]
    )]
    #[case::capitals(
        "<RSS version=\"2.0\"><CHANNEL><TITLE>T</TITLE><ITEM><TITLE>One</TITLE><LINK>https://ex.org/1</LINK><PUBDATE>Sat, 21 Mar 2026 10:00:00 +0000</PUBDATE></ITEM></CHANNEL></RSS>",
        &["One"]
    )]
    #[case::no_channel(
        "<rss version=\"2.0\"><item><title>One</title><link>https://ex.org/1</link></item></rss>",
        &["One"]
    )]
    #[case::capital_root(
        "<RSS version=\"2.0\"><channel><title>T</title><item><title>One</title><link>https://ex.org/1</link></item></channel></RSS>",
        &["One"]
    )]
    fn entries_a_reader_finds_are_never_a_silent_nothing(
        #[case] doc: &str,
        #[case] titles: &[&str],
    ) {
        let items = read(doc);
        let read: Vec<_> = items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(read, titles);
        if doc.contains("PUBDATE") {
            assert!(items.iter().all(|i| i.date.is_some()));
        }
    }

    #[test]
    fn date_element_names_are_matched_in_any_case() {
        let doc = rss_items(
            "<item><title>One</title><link>https://ex.org/1</link><pubdate>Sat, 21 Mar 2026 10:00:00 +0000</pubdate></item>",
        );
        let Some(ParsedDate::Absolute(date)) = read(&doc)[0].date else {
            panic!("no date")
        };
        assert_eq!(date.to_rfc3339(), "2026-03-21T10:00:00+00:00");
    }

    #[test]
    fn json_feeds_of_any_common_shape_are_read() {
        let doc = r#"{"version":"https://jsonfeed.org/version/1.1","author":"Ann",
"items":[
{"id":123,"url":"https://ex.org/1","title":"One","content_text":"Line one\nLine <two>",
 "image":"/img/1.jpg","author":"Bob","attachments":[{"url":"https://ex.org/a.mp3"}]},
{"id":"b","url":"https://ex.org/2","title":"Two","banner_image":"https://ex.org/2.jpg","content_html":"<p>x</p>"}
]}"#;
        let items = read(doc);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].key, "123");
        assert_eq!(items[0].image.as_deref(), Some("https://ex.org/img/1.jpg"));
        assert_eq!(items[1].image.as_deref(), Some("https://ex.org/2.jpg"));
        let html = items[0].content_html.as_deref().unwrap_or_default();
        assert!(
            html.contains("Line one<br>") && html.contains("&lt;two&gt;"),
            "{html}"
        );
    }

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/feeds")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn read_all(text: &str) -> FeedEntries {
        let base = Url::parse("https://ex.org/feed").unwrap();
        feed_entries(text, &base, None, usize::MAX).unwrap()
    }

    #[test]
    fn a_guid_several_entries_share_identifies_none_of_them() {
        let read = read_all(&fixture("shared-guids.xml"));
        let keys: Vec<&str> = read.entries.iter().map(|e| e.key.as_str()).collect();
        // Shared with distinct links: each by its link; a unique guid stays the key.
        assert_eq!(
            keys[..4],
            [
                "https://shared.example/news/41",
                "u-40",
                "https://shared.example/news/39",
                "https://shared.example/news/38",
            ]
        );
        // Same guid and same link, different titles (the parts of a series): two entries, each
        // by its text, the link being shared too.
        assert!(
            keys[4..].iter().all(|k| k.starts_with("sha256:")),
            "{keys:?}"
        );
        assert_ne!(keys[4], keys[5]);
        assert_eq!(
            read.shared_ids
                .get("https://shared.example/news/39")
                .map(String::as_str),
            Some("https://shared.example/")
        );
        assert!(!read.shared_ids.contains_key("u-40"));
    }

    #[test]
    fn an_entry_listed_twice_is_one_sharer_of_its_guid() {
        let read = read_all(&rss_items(
            "<item><title>A</title><link>https://ex.org/a</link><guid isPermaLink=\"false\">g</guid><description>One.</description></item>\
             <item><title>A</title><link>https://ex.org/a</link><guid isPermaLink=\"false\">g</guid><description>One, edited.</description></item>\
             <item><title>B</title><link>https://ex.org/b</link><guid isPermaLink=\"false\">g</guid></item>\
             <item><title>Home</title><guid isPermaLink=\"false\">h</guid><description>Same.</description></item>\
             <item><title>Home</title><guid isPermaLink=\"false\">h</guid><description>Same.</description></item>\
             <item><title>Other</title><guid isPermaLink=\"false\">h2</guid><description>First.</description></item>\
             <item><title>Other</title><guid isPermaLink=\"false\">h2</guid><description>Second.</description></item>",
        ));
        let keys: Vec<&str> = read.entries.iter().map(|e| e.key.as_str()).collect();
        // Both copies of A take its link: the poll keeps the first as one release.
        assert_eq!(
            keys[..5],
            [
                "https://ex.org/a",
                "https://ex.org/a",
                "https://ex.org/b",
                "h",
                "h"
            ]
        );
        assert_eq!(read.shared_ids.get(keys[0]).map(String::as_str), Some("g"));
        assert!(!read.shared_ids.contains_key("h"));
        // Without a link, entries that say different things are two.
        assert!(keys[5].starts_with("sha256:") && keys[6].starts_with("sha256:"));
        assert_ne!(keys[5], keys[6]);
    }

    #[test]
    fn an_entry_without_an_id_or_a_page_link_keeps_the_key_its_link_gave_it() {
        let read = read_all(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title><link href=\"https://ex.org/\"/>\
             <entry><title>Only self</title><link rel=\"self\" href=\"https://ex.org/api/7\"/><summary>S</summary></entry></feed>",
        );
        let entry = &read.entries[0];
        assert_eq!(entry.key, "https://ex.org/api/7");
        assert_eq!(entry.link, "https://ex.org/");
    }

    #[test]
    fn scripts_styles_and_templates_are_never_text() {
        let items = read(&fixture("hidden-text.xml"));
        let summary = items[0].summary.as_deref().unwrap_or_default();
        assert_eq!(summary, "The council met today.");
        assert_eq!(items[1].title, "Budget passed");
        for hidden in [
            "gallery",
            "tracker",
            "Enable scripts",
            "Card template",
            "no frames",
        ] {
            assert!(!summary.contains(hidden), "{summary}");
        }
    }

    #[test]
    fn atom_text_is_text_and_html_is_html() {
        let items = read(&fixture("text-constructs.xml"));
        assert_eq!(
            items[0].summary.as_deref(),
            Some("Use Vec<u8> when n < 10 & keep <b> as written.")
        );
        let html = items[0].content_html.as_deref().unwrap_or_default();
        assert!(
            html.contains("if a&lt;b then &lt;script&gt;run()&lt;/script&gt; is shown")
                && html.contains("<br>")
                && html.contains("&lt;em&gt;stays&lt;/em&gt;"),
            "{html}"
        );
        // No type is text too.
        let html = items[1].content_html.as_deref().unwrap_or_default();
        assert!(
            html.contains("A &lt;tag&gt; inside and words after it."),
            "{html}"
        );
        assert_eq!(items[1].summary.as_deref(), None, "content is no summary");
        let html = items[2].content_html.as_deref().unwrap_or_default();
        assert!(html.contains("<em>markup</em>"), "{html}");
        let html = items[3].content_html.as_deref().unwrap_or_default();
        assert!(html.contains("<a href=\"https://tc.example/l\""), "{html}");
        // JSON Feed: content_html is the body, content_text the text beside it.
        let json = read(&fixture("json-dates.json"));
        assert_eq!(json[3].summary.as_deref(), Some("Plain <b> text"));
        let html = json[3].content_html.as_deref().unwrap_or_default();
        assert!(html.contains("<b>bold</b>"), "{html}");
        assert_eq!(json[0].content_html.as_deref(), Some("one"));
    }

    #[test]
    fn an_html_summary_without_content_is_the_body() {
        let items = read(&fixture("text-constructs.xml"));
        let html = items[4].content_html.as_deref().unwrap_or_default();
        assert!(
            html.contains("<li>One</li>")
                && html.contains("href=\"https://tc.example/x\"")
                && html.contains("Two"),
            "{html}"
        );
        assert_eq!(items[4].summary.as_deref(), Some("One Two"));
        // A text summary is no body (herald's feeds escape it as the text it is).
        assert_eq!(items[5].content_html, None);
        assert_eq!(items[5].summary.as_deref(), Some("Plain <ul> words."));
        // An RSS description holding HTML likewise; one of words alone is no body.
        let items = read(&fixture("media-kinds.xml"));
        let html = items[6].content_html.as_deref().unwrap_or_default();
        assert!(
            html.contains("<img") && html.contains("Text seven"),
            "{html}"
        );
        assert_eq!(items[6].summary.as_deref(), Some("Text seven"));
        let items = read(&fixture("hidden-text.xml"));
        assert_eq!(items[1].content_html, None);
        let html = items[0].content_html.as_deref().unwrap_or_default();
        assert!(
            html.contains("The council met today.") && !html.contains("tracker"),
            "{html}"
        );
    }

    #[test]
    fn only_images_are_the_picture() {
        let items = read(&fixture("media-kinds.xml"));
        let images: Vec<Option<&str>> = items.iter().map(|i| i.image.as_deref()).collect();
        assert_eq!(
            images,
            [
                None,
                None,
                None,
                Some("https://media.example/pic?id=4"),
                Some("https://media.example/5.JPG"),
                Some("https://media.example/6t.png"),
                // The description's picture, past its tracking pixel.
                Some("https://media.example/up/7.jpg"),
                Some("https://media.example/8.png"),
            ]
        );
    }

    #[test]
    fn an_entry_links_to_its_page_never_to_an_api_or_the_home_page() {
        let items = read(&fixture("links.xml"));
        let links: Vec<&str> = items.iter().map(|i| i.link.as_str()).collect();
        assert_eq!(
            links,
            [
                "https://links.example/a/1",
                "https://links.example/a/2",
                "https://links.example/news/p/3",
                "https://links.example/other/p/4",
                // Only a self link: the feed's home page stands in.
                "https://links.example/",
            ]
        );
        let items = read(&fixture("links-atom.xml"));
        let links: Vec<&str> = items.iter().map(|i| i.link.as_str()).collect();
        assert_eq!(
            links,
            [
                "https://al.example/",
                "https://al.example/2",
                "https://al.example/3",
                "https://al.example/4",
                "https://al.example/5",
            ]
        );
        // A JSON Feed attachment is no page: the URL id links the item.
        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","home_page_url":"https://jf.example/","items":[
{"id":"https://jf.example/ep/1","title":"Episode","attachments":[{"url":"https://cdn.jf.example/1.mp3","mime_type":"audio/mpeg"}]}]}"#;
        assert_eq!(read(json)[0].link, "https://jf.example/ep/1");
        let items = read(&fixture("links-rdf.xml"));
        let links: Vec<&str> = items.iter().map(|i| i.link.as_str()).collect();
        assert_eq!(
            links,
            ["https://rdf.example/a/1", "https://rdf.example/a/2/page"]
        );
    }

    #[test]
    fn json_feed_dates_are_read_as_rss_dates_are() {
        let items = read(&fixture("json-dates.json"));
        let dates: Vec<String> = items
            .iter()
            .map(|i| match i.date {
                Some(ParsedDate::Absolute(t)) => t.to_rfc3339(),
                Some(ParsedDate::Local(t)) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            dates,
            [
                "2026-03-05T04:00:00",
                "2026-03-05T03:00:00+00:00",
                "2026-03-05T02:00:00+01:00",
                "2026-03-05T01:00:00+00:00",
            ]
        );
    }

    #[rstest]
    #[case::sentence("Shipped the new build. It has fixes.", "Shipped the new build.")]
    #[case::short("just a note", "just a note")]
    #[case::decimal_is_no_end("Version 2.5 is out today", "Version 2.5 is out today")]
    // A full stop after an initial, an abbreviation or in a dotted one ends no sentence.
    #[case::title_abbreviations(
        "Dr. Smith met Mr. Jones today. More.",
        "Dr. Smith met Mr. Jones today."
    )]
    #[case::dotted_acronym("The U.S. Senate voted. More later.", "The U.S. Senate voted.")]
    #[case::initials(
        "J. K. Rowling released a book. More.",
        "J. K. Rowling released a book."
    )]
    #[case::number_sign("No. 5 on the list is new. More.", "No. 5 on the list is new.")]
    #[case::russian_year(
        "В 2026 г. Президент подписал закон. Далее.",
        "В 2026 г. Президент подписал закон."
    )]
    #[case::russian_dotted("Т.е. это важно. Далее.", "Т.е. это важно.")]
    #[case::cyrillic_initial(
        "Встреча с А. Смаиловым прошла. Далее.",
        "Встреча с А. Смаиловым прошла."
    )]
    #[case::lower_case_next("Yahoo! announced it. More.", "Yahoo! announced it.")]
    #[case::sentence_before_digit("It shipped. 2026 is next.", "It shipped.")]
    #[case::closing_quote("He said \"go.\" Then he left.", "He said \"go.\"")]
    #[case::version_number_ends("We shipped 2.5. Then 2.6.", "We shipped 2.5.")]
    #[case::long_cut_at_a_word(
        "word word word word word word word word word word word word word word word word word word word word wordy word",
        "word word word word word word word word word word word word word word word word word word word word…"
    )]
    fn titles_made_from_text(#[case] text: &str, #[case] title: &str) {
        let made = title_from_text(text);
        assert_eq!(made, title);
        assert!(made.chars().count() <= MADE_TITLE_MAX);
    }

    /// Of two `<title>`s in an item (a broken feed), the first is the title, as feedparser
    /// reads it. The title read before (the last) keeps the key of an entry without guid or
    /// link, and is no correction.
    #[test]
    fn the_first_of_two_titles_is_the_title() {
        let rss = r#"<rss version="2.0"><channel><title>T</title>
<item><title>First</title><title>Second</title><link>https://ex.org/a</link></item>
<item><title>One</title><title>Two</title><description>Text.</description></item>
<item><title>Only</title><dc:title xmlns:dc="http://purl.org/dc/elements/1.1/">Dc</dc:title><link>https://ex.org/c</link></item>
</channel></rss>"#;
        let items = read(rss);
        assert_eq!(items[0].title, "First");
        assert_eq!(items[1].title, "One");
        assert_eq!(items[1].key, content_key("Two", Some("Text.")));
        assert_eq!(
            items[1].former_text,
            Some(("Two".to_owned(), Some("Text.".to_owned())))
        );
        assert_eq!(items[2].title, "Only");
        assert_eq!(items[2].former_text, None);
    }

    /// In a feed the XML reader refuses and that is repaired, HTML's legacy entities written
    /// without their `;` read as HTML reads them (feedparser: "Third & item").
    #[rstest]
    #[case::amp("Third &amp item", "Third & item")]
    #[case::copy("&copy 2026 Co", "© 2026 Co")]
    #[case::lt_gt("a &lt b &gt c", "a < b > c")]
    #[case::bare("AT&T wins", "AT&T wins")]
    #[case::longer_name("an &ampersand here", "an &ampersand here")]
    #[case::query("?a=1&reg=2", "?a=1&reg=2")]
    fn legacy_entities_without_semicolon_read_in_a_repaired_feed(
        #[case] written: &str,
        #[case] title: &str,
    ) {
        // The bare `&` in the other item makes the document ill-formed.
        let rss = format!(
            r#"<rss version="2.0"><channel><title>T</title><item><title>{written}</title><link>https://ex.org/a</link></item><item><title>Fish & chips</title><link>https://ex.org/b</link></item></channel></rss>"#
        );
        let items = read(&rss);
        assert_eq!(items[0].title, title);
        assert_eq!(items[1].title, "Fish & chips");
    }

    /// The general entities of an internal DTD subset are expanded where they are referenced,
    /// as feedparser expands them; only those of a plain text value, and within a bound.
    #[test]
    fn internal_dtd_entities_are_expanded() {
        let rss = r#"<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY custom "Custom Ent">
<!ENTITY quoted 'say "hi"'>
<!ENTITY outside SYSTEM "file:///etc/passwd">
<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;">
]>
<rss version="2.0"><channel><title>T</title>
<item><title>A &custom; title</title><link>https://ex.org/a?x=&quoted;</link>
<description><![CDATA[kept &custom;]]> &lol; &lol2; &outside;</description></item>
</channel></rss>"#;
        let items = read(rss);
        assert_eq!(items[0].title, "A Custom Ent title");
        assert_eq!(
            items[0].summary.as_deref(),
            Some("kept &custom; lol &lol2; &outside;")
        );
        // A large value referenced many times expands up to the bound, no further.
        let big = "x".repeat(10_000);
        let refs = "&big;".repeat(1_000);
        let doc = format!(
            "<!DOCTYPE rss [<!ENTITY big \"{big}\">]><rss version=\"2.0\"><channel><title>{refs}</title></channel></rss>"
        );
        let expanded = internal_entities(&doc);
        assert!(expanded.len() <= doc.len() + ENTITY_EXPANSION_MAX);
        assert!(expanded.len() > doc.len() + ENTITY_EXPANSION_MAX - big.len() * 2);
    }

    /// A title now made past an abbreviation keeps the entry's key (made of the title as it was
    /// made before), and the release stored with that title is no correction.
    #[test]
    fn a_title_made_anew_keeps_the_key_and_is_no_correction() {
        let text = "Dr. Smith met Mr. Jones today. More.";
        let rss = format!(
            "<rss version=\"2.0\"><channel><title>T</title><item><description>{text}</description></item></channel></rss>"
        );
        let items = read(&rss);
        assert_eq!(items[0].title, "Dr. Smith met Mr. Jones today.");
        assert_eq!(items[0].key, content_key("Dr.", Some(text)));
        assert_eq!(
            items[0].former_text,
            Some(("Dr.".to_owned(), Some(text.to_owned())))
        );
        // A title made as before is no new reading.
        let rss = rss.replace(text, "Shipped it. More.");
        assert_eq!(read(&rss)[0].former_text, None);
    }

    /// An entry with neither description nor content takes its lead from `itunes:summary`,
    /// else `itunes:subtitle`, else a `media:description` (in a `media:group` too), as text.
    #[test]
    fn podcast_and_video_leads_are_the_summary_without_a_description() {
        let items = read(&fixture("rt-itunes.xml"));
        assert_eq!(
            items[0].summary.as_deref(),
            Some("Episode one summary & notes")
        );
        // Stored before leads were read, it is no correction: it read as its title alone.
        assert_eq!(items[0].former_text, Some(("Ep 1".to_owned(), None)));
        // Content, no description: the content is the text, no lead is taken.
        assert_eq!(items[1].summary, None);
        let items = read(&fixture("rt-itunes-subtitle.xml"));
        assert_eq!(items[0].summary.as_deref(), Some("Only a subtitle here"));
        let items = read(&fixture("rt-youtube.xml"));
        let summary = items[0].summary.as_deref().unwrap_or_default();
        assert!(
            summary.starts_with("In this video we talk about things."),
            "{summary:?}"
        );
        // A description wins over any lead.
        let rss = r#"<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>T</title>
<item><title>E</title><link>https://ex.org/e</link><itunes:summary>Lead</itunes:summary><description>Desc</description></item></channel></rss>"#;
        assert_eq!(read(rss)[0].summary.as_deref(), Some("Desc"));
    }

    /// A feed longer than `max_entries` whose dates run oldest-first keeps its newest entries,
    /// in RSS, Atom and JSON Feed; one that runs newest-first keeps its first, as before.
    #[test]
    fn an_oldest_first_feed_cut_keeps_its_newest_entries() {
        let base = Url::parse("https://ex.org/feed").unwrap();
        let titles = |text: &str| -> Vec<String> {
            feed_entries(text, &base, None, 3)
                .unwrap()
                .entries
                .into_iter()
                .map(|e| e.title)
                .collect()
        };
        let rss = |order: &[u8]| {
            let items: String = order
                .iter()
                .map(|d| format!("<item><title>E{d}</title><link>https://ex.org/{d}</link><pubDate>{d:02} Feb 2026 10:00:00 GMT</pubDate></item>\n"))
                .collect();
            format!("<rss version=\"2.0\"><channel><title>T</title>{items}</channel></rss>")
        };
        let atom = |order: &[u8]| {
            let entries: String = order
                .iter()
                .map(|d| format!("<entry><title>E{d}</title><id>urn:{d}</id><link href=\"https://ex.org/{d}\"/><updated>2026-02-{d:02}T10:00:00Z</updated></entry>\n"))
                .collect();
            format!("<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title>{entries}</feed>")
        };
        let json = |order: &[u8]| {
            let items: Vec<String> = order
                .iter()
                .map(|d| format!("{{\"id\":\"{d}\",\"url\":\"https://ex.org/{d}\",\"title\":\"E{d}\",\"content_text\":\"t\",\"date_published\":\"2026-02-{d:02}T10:00:00Z\"}}"))
                .collect();
            format!(
                "{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"T\",\"items\":[{}]}}",
                items.join(",")
            )
        };
        let oldest_first: Vec<u8> = (1..=9).collect();
        let newest_first: Vec<u8> = (1..=9).rev().collect();
        for make in [&rss as &dyn Fn(&[u8]) -> String, &atom, &json] {
            assert_eq!(titles(&make(&oldest_first)), ["E7", "E8", "E9"]);
            assert_eq!(titles(&make(&newest_first)), ["E9", "E8", "E7"]);
            // In no order: the newest three by date, in the document's order.
            assert_eq!(titles(&make(&[2, 9, 1, 5, 8, 3, 7])), ["E9", "E8", "E7"]);
        }
    }

    /// Atom 0.3 text written in `mode="base64"` is decoded before it is read.
    #[test]
    fn atom_03_base64_content_is_decoded() {
        let items = read(&fixture("rt-atom03.xml"));
        let html = items[1].content_html.as_deref().unwrap_or_default();
        assert!(html.contains("<p>base64 body</p>"), "{html}");
        assert!(!html.contains("PHA+"), "{html}");
        // Escaped content is read as before.
        let html = items[0].content_html.as_deref().unwrap_or_default();
        assert!(html.contains("<p>escaped body</p>"), "{html}");
    }

    /// Of several alternate links, the page (HTML, XHTML, no type) is the entry's link, not a
    /// PDF listed before it.
    #[test]
    fn of_several_alternates_the_page_is_the_link() {
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><id>urn:f</id>
<entry><title>Two</title><id>urn:b5</id><link rel="alternate" type="application/pdf" href="https://ex.org/p5.pdf"/><link rel="alternate" type="text/html" href="https://ex.org/p5.html"/><updated>2025-12-05T10:00:00Z</updated></entry>
<entry><title>One</title><id>urn:b6</id><link rel="alternate" type="application/pdf" href="https://ex.org/p6.pdf"/><updated>2025-12-05T10:00:00Z</updated></entry>
</feed>"#;
        let items = read(atom);
        assert_eq!(items[0].link, "https://ex.org/p5.html");
        // A lone alternate of another type is still the link.
        assert_eq!(items[1].link, "https://ex.org/p6.pdf");
    }

    /// An `xml:base` on the content or summary element itself, or nested under the entry's and
    /// the feed's, resolves that element's HTML.
    #[test]
    fn xml_base_on_the_content_element_resolves_its_html() {
        let base = Url::parse("https://ex.org/feed").unwrap();
        let read = feed_entries(&fixture("rt-xml-base.xml"), &base, None, usize::MAX).unwrap();
        let html = read.entries[0].content_html.as_deref().unwrap_or_default();
        assert!(html.contains("https://ex.org/blog/img/a.png"), "{html}");
        assert!(html.contains("https://ex.org/blog/img/x"), "{html}");
        assert_eq!(read.entries[0].link, "https://ex.org/blog/2025/post-1");
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><id>urn:f</id>
<entry><title>S</title><id>urn:s</id><link href="https://ex.org/p"/><summary type="html" xml:base="https://cdn.ex.org/s/">&lt;p&gt;&lt;img src="b.png"&gt; &lt;a href="y"&gt;y&lt;/a&gt;&lt;/p&gt;</summary></entry></feed>"#;
        let read = feed_entries(atom, &base, None, usize::MAX).unwrap();
        let html = read.entries[0].content_html.as_deref().unwrap_or_default();
        assert!(html.contains("https://cdn.ex.org/s/y"), "{html}");
        assert_eq!(
            read.entries[0].image.as_deref(),
            Some("https://cdn.ex.org/s/b.png")
        );
    }

    /// Broken documents keep what feed readers keep: an `<item>` left open before the next
    /// one is an entry of its own, and a second document written after the first adds its
    /// entries.
    #[test]
    fn broken_documents_keep_their_complete_entries() {
        let titles = |name: &str| -> Vec<String> {
            read(&fixture(name)).into_iter().map(|e| e.title).collect()
        };
        assert_eq!(
            titles("rt-unclosed-item.xml"),
            ["Unclosed item", "Second in first"]
        );
        assert_eq!(
            titles("rt-two-documents.xml"),
            ["First doc item", "Second doc item"]
        );
        // A declaration quoted in an entry's text is no second document.
        let quoted = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>Code</title><link>https://ex.org/c</link><description><![CDATA[<pre>
<?xml version="1.0"?><item><title>Not an entry</title></item></pre>]]></description></item>
<item><title>Next</title><link>https://ex.org/n</link></item></channel></rss>"#;
        let titles: Vec<String> = read(quoted).into_iter().map(|e| e.title).collect();
        assert_eq!(titles, ["Code", "Next"]);
    }

    /// An Atom enclosure link and a JSON Feed attachment of an image type are the picture;
    /// one of another type is not.
    #[test]
    fn image_enclosures_and_attachments_are_pictures() {
        let items = read(&fixture("rt-json-attachment.json"));
        assert_eq!(items[0].image.as_deref(), Some("http://j.org/7.png"));
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><id>urn:f</id>
<entry><title>Pic</title><id>urn:1</id><link href="https://ex.org/1"/><link rel="enclosure" type="image/jpeg" href="https://ex.org/1.jpg"/><updated>2025-12-05T10:00:00Z</updated></entry>
<entry><title>Audio</title><id>urn:2</id><link href="https://ex.org/2"/><link rel="enclosure" type="audio/mpeg" href="https://ex.org/2.mp3"/><updated>2025-12-05T10:00:00Z</updated></entry>
</feed>"#;
        let items = read(atom);
        assert_eq!(items[0].image.as_deref(), Some("https://ex.org/1.jpg"));
        assert_eq!(items[1].image, None);
    }

    /// An RSS element is RSS whatever default namespace it was given, on the root, the channel
    /// or an item (red team: the whole feed was refused as "entries not where a feed has them").
    #[rstest]
    #[case::atom_on_root(r#"<rss version="2.0" xmlns="http://www.w3.org/2005/Atom"><channel>"#)]
    #[case::unknown_on_root(r#"<rss version="2.0" xmlns='https://ex.org/my-rss'><channel>"#)]
    #[case::atom_on_channel(r#"<rss version="2.0"><channel xmlns="http://www.w3.org/2005/Atom">"#)]
    #[case::with_prefixes(
        r#"<rss xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns="urn:x" version="2.0"><channel>"#
    )]
    fn an_rss_element_in_a_default_namespace_is_rss(#[case] head: &str) {
        let rss = format!(
            "{head}<title>T</title><link>https://ex.org/</link>\
             <item xmlns=\"urn:y\"><title>One</title><link>https://ex.org/1</link>\
             <pubDate>Sat, 21 Mar 2026 10:00:00 GMT</pubDate></item>\
             <item><title>Two</title><link>https://ex.org/2</link></item></channel></rss>"
        );
        let items = read(&rss);
        let titles: Vec<&str> = items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["One", "Two"]);
        assert!(items[0].date.is_some());
    }

    /// A numeric character reference to no character costs that character, never the feed.
    #[rstest]
    #[case::zero("&#0;")]
    #[case::zeros("&#00;")]
    #[case::high_surrogate("&#xD800;")]
    #[case::low_surrogate("&#xDFFF;")]
    #[case::past_unicode("&#x110000;")]
    #[case::overflow("&#99999999999;")]
    fn an_invalid_character_reference_costs_only_itself(#[case] reference: &str) {
        let rss = format!(
            "<rss version=\"2.0\"><channel><title>T</title><link>https://ex.org/</link>\
             <item><title>Bad {reference} ref</title><link>https://ex.org/1</link>\
             <description>Body{reference}.</description></item>\
             <item><title>Next</title><link>https://ex.org/2</link></item></channel></rss>"
        );
        let items = read(&rss);
        let titles: Vec<&str> = items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["Bad ref", "Next"]);
        assert_eq!(items[0].summary.as_deref(), Some("Body."));
    }

    #[test]
    fn a_capital_x_reference_is_read() {
        let rss = "<rss version=\"2.0\"><channel><title>T</title>\
             <item><title>&#X41;&#x42;&#67;</title><link>https://ex.org/1</link></item>\
             </channel></rss>";
        assert_eq!(read(rss)[0].title, "ABC");
    }

    /// A date no release carries (1970-01-01, a year 26, "0000-00-00") is no date: the entry
    /// takes its neighbour's date as an undated entry does, rather than its first-seen time.
    #[test]
    fn an_implausible_date_is_no_date() {
        let rss = "<rss version=\"2.0\"><channel><title>T</title><link>https://ex.org/</link>\
             <item><title>A</title><link>https://ex.org/1</link><pubDate>Sat, 21 Mar 2026 10:00:00 GMT</pubDate></item>\
             <item><title>B</title><link>https://ex.org/2</link><pubDate>Thu, 01 Jan 1970 00:00:00 +0000</pubDate></item>\
             <item><title>C</title><link>https://ex.org/3</link><pubDate>0026-03-21</pubDate></item>\
             <item><title>D</title><link>https://ex.org/4</link><pubDate>0000-00-00 00:00:00</pubDate></item>\
             <item><title>E</title><link>https://ex.org/5</link><pubDate>Fri, 20 Mar 2026 10:00:00 GMT</pubDate></item>\
             </channel></rss>";
        let items = read(rss);
        let older = items[4].date;
        assert!(older.is_some());
        for item in &items[1..4] {
            assert_eq!(item.date, older, "{}", item.title);
        }
    }

    /// A picture in the entry's text is its picture: the summary's, else the content's (a
    /// WordPress excerpt has none, its `content:encoded` starts with one; Atom HTML content; a
    /// JSON Feed's `content_html`), else the item's own `itunes:image`. Inline data and
    /// tracking pixels are passed over; a lazy-loaded `<img>` is read by its real source.
    #[test]
    fn a_picture_in_the_body_or_an_item_image_is_the_entry_picture() {
        let rss = r#"<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
             xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>T</title>
             <link>https://ex.org/</link><itunes:image href="https://ex.org/show.jpg"/>
             <item><title>WP</title><link>https://ex.org/1</link><description>Excerpt [&#8230;]</description>
             <content:encoded><![CDATA[<figure><img width="1" height="1" src="https://px.ex.org/p.gif"><img src="data:image/gif;base64,R0lGOD"><img width="1024" src="/up/photo-1024x683.jpg"></figure><p>Body.</p>]]></content:encoded></item>
             <item><title>Lazy</title><link>https://ex.org/2</link>
             <description>&lt;img src="data:image/gif;base64,R0lGOD" data-src="https://ex.org/lazy.jpg"&gt;&lt;p&gt;Text&lt;/p&gt;</description></item>
             <item><title>Podcast</title><link>https://ex.org/3</link><description>Text.</description>
             <itunes:image href="https://ex.org/ep3.jpg"/></item>
             <item><title>None</title><link>https://ex.org/4</link><description>Text.</description></item>
             </channel></rss>"#;
        let items = read(rss);
        let images: Vec<Option<&str>> = items.iter().map(|i| i.image.as_deref()).collect();
        assert_eq!(
            images,
            [
                Some("https://ex.org/up/photo-1024x683.jpg"),
                Some("https://ex.org/lazy.jpg"),
                Some("https://ex.org/ep3.jpg"),
                // The channel's picture is the show's, no entry's.
                None,
            ]
        );
        // The lazy picture is shown in the body by its real source, not as an empty `<img>`.
        let body = items[1].content_html.as_deref().unwrap();
        assert!(
            body.contains(r#"<img src="https://ex.org/lazy.jpg">"#),
            "{body}"
        );

        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:t</id>
             <entry><title>A</title><id>urn:1</id><link href="https://ex.org/a/1"/><updated>2026-03-21T10:00:00Z</updated>
             <summary>Text only.</summary>
             <content type="html">&lt;p&gt;Hello &lt;img src="pic.jpg"&gt;&lt;/p&gt;</content></entry></feed>"#;
        assert_eq!(
            read(atom)[0].image.as_deref(),
            Some("https://ex.org/a/pic.jpg")
        );

        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"T","items":[
             {"id":"1","url":"https://ex.org/j/1","title":"J","content_html":"<p>HTML <img src=\"/i/2.jpg\"></p>"}]}"#;
        assert_eq!(
            read(json)[0].image.as_deref(),
            Some("https://ex.org/i/2.jpg")
        );
    }

    #[rstest]
    #[case::data_placeholder(
        r#"<img src="data:image/gif;base64,R0" data-src="a.jpg" alt="x">"#,
        r#"<img src="a.jpg" data-src="a.jpg" alt="x">"#
    )]
    #[case::no_src(
        r#"<IMG class=lazy data-lazy-src='a.jpg'>"#,
        r#"<IMG src="a.jpg" class=lazy data-lazy-src='a.jpg'>"#
    )]
    #[case::real_src_stays(
        r#"<img src="b.jpg" data-src="a.jpg">"#,
        r#"<img src="b.jpg" data-src="a.jpg">"#
    )]
    #[case::nothing_lazy(r#"<img src="data:x">"#, r#"<img src="data:x">"#)]
    fn lazy_images_get_their_real_source(#[case] html: &str, #[case] expected: &str) {
        assert_eq!(lazy_images(html), expected);
    }
}
