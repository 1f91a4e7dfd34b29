//! `herald suggest URL`: from a list page to a complete `[[sources]]` block, and the releases
//! that block reads (issue 24). The same discovery proposes new selectors when a source's stop
//! matching (the redesign alert) and answers `/add` in Telegram.
//!
//! The block is checked by herald's own config parser, and the preview is read with it by the
//! list reader the poller uses ([`crate::pipeline::read_list`]): what the admin sees is what
//! herald will read.

pub mod article;
pub mod list;

use crate::config::{self, Source};
use crate::dates;
use crate::extract::ExtractError;
use crate::fetch::{Fetched, Fetcher, Reach, Request};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use list::{Hints, ListProposal, NotFound};
use std::fmt::Write as _;
use url::Url;

/// What `suggest` is asked.
#[derive(Clone, Debug)]
pub struct Ask {
    pub url: Url,
    /// BCP 47 as given (checked here).
    pub language: Option<String>,
    pub timezone: Option<Tz>,
    /// The channels the new source posts to.
    pub channels: Vec<String>,
    pub user_agent: String,
    /// Release pages opened for `[sources.article]` at most.
    pub articles: usize,
}

/// A proposed source: the block and what it reads.
#[derive(Clone, Debug)]
pub struct Suggestion {
    pub id: String,
    /// The `[[sources]]` block, ready to paste.
    pub block: String,
    pub preview: Vec<PreviewRow>,
    pub notes: Vec<String>,
    /// The source's zone (UTC when not given): the days of the preview are its.
    pub timezone: Tz,
    /// The address is a feed (`kind = "feed"`): no selectors.
    pub feed: bool,
}

/// One release as the proposed selectors read it.
#[derive(Clone, Debug, PartialEq)]
pub struct PreviewRow {
    pub title: String,
    pub link: String,
    pub date: Option<dates::ParsedDate>,
}

/// Why no block was proposed.
#[derive(Debug, thiserror::Error)]
pub enum SuggestError {
    #[error("{0}")]
    Usage(String),
    #[error("fetch {url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("{url}: {found}{feed}")]
    NotFound {
        url: String,
        found: NotFound,
        /// The feed the page advertises, as a sentence to add ("" when none).
        feed: String,
    },
    /// The address answers something that is neither a web page nor a feed.
    #[error("{url}: not a list page nor a feed: received {received}")]
    NotAPage { url: String, received: String },
    /// The page is beyond what herald reads (nested deeper than any real page, a feed that
    /// cannot be parsed): a problem with the page, not with herald.
    #[error("{url}: {problem}")]
    Page { url: String, problem: String },
    /// A bug: the block written is refused by the config parser, or reads nothing.
    #[error("the proposed block does not work (a bug in herald, please report it): {0}")]
    Broken(String),
}

/// Fetches the page, finds the list, opens a few releases, and checks the block.
pub async fn suggest(fetcher: &Fetcher, ask: &Ask) -> Result<Suggestion, SuggestError> {
    let language = ask
        .language
        .as_deref()
        .map(config::language)
        .transpose()
        .map_err(SuggestError::Usage)?;
    let (page, content_type) = fetch(fetcher, &ask.url, &ask.user_agent, Reach::Any).await?;
    match body_kind(content_type.as_deref(), &page.1) {
        Body::Html => {}
        Body::Feed => {
            // The feed's own title and language (`en` when it names none).
            let head = feed_head(&page.1);
            let facts = SourceFacts {
                url: page.0.clone(),
                title: head.title.or_else(|| page_title(&page.1)),
                language: language.or(head.language).or_else(|| Some("en".into())),
                timezone: ask.timezone,
                channels: ask.channels.clone(),
            };
            let mut s = build(&facts, None, None, &page.1, &page.0)?;
            s.notes.extend(redirected(&ask.url, &page.0));
            return Ok(s);
        }
        Body::Other(received) => {
            return Err(SuggestError::NotAPage {
                url: ask.url.to_string(),
                received,
            });
        }
    }
    refuse_too_deep(&page.1, &page.0)?;
    let hints = Hints {
        language: language.clone().or_else(|| page_language(&page.1)),
        timezone: ask.timezone,
    };
    let feed = read_advertised(fetcher, &advertised_feeds(&page.1, &page.0), &page.0, ask).await;
    let mut proposal =
        list::discover(&page.1, &page.0, &hints).map_err(|found| SuggestError::NotFound {
            url: ask.url.to_string(),
            found,
            feed: match &feed {
                None => String::new(),
                Some(Advertised::Feed(f)) => format!(
                    "; the page advertises a feed, {f}: `herald suggest {f}` proposes a source \
                     that reads it"
                ),
                Some(Advertised::Broken(f, why)) => {
                    format!("; the page advertises a feed, {f}, which {why}")
                }
            },
        })?;
    match &feed {
        None => {}
        Some(Advertised::Feed(f)) => proposal.notes.insert(
            0,
            format!(
                "the page advertises a feed, {f}: a source reading it (`kind = \"feed\"`, \
                 `herald suggest {f}`) needs no selectors and survives a redesign"
            ),
        ),
        Some(Advertised::Broken(f, why)) => proposal.notes.insert(
            0,
            format!("the page advertises a feed, {f}, which {why}: the block reads the page"),
        ),
    }
    let source = SourceFacts {
        url: page.0.clone(),
        title: page_title(&page.1),
        language: hints.language.clone(),
        timezone: ask.timezone,
        channels: ask.channels.clone(),
    };
    // The day the list gives each release, for the article date to agree with.
    let list_only = build(&source, Some(&proposal), None, &page.1, &page.0)?;
    let days: std::collections::HashMap<&str, chrono::NaiveDate> = list_only
        .preview
        .iter()
        .filter_map(|r| {
            let day = list::written_day_in(r.date.as_ref()?, list_only.timezone);
            Some((r.link.as_str(), day))
        })
        .collect();
    let mut pages = Vec::new();
    let mut list_days = Vec::new();
    // Release pages that could not be read, and why; all of them are opened within one
    // deadline, so pages that never answer cost it once, not a fetch timeout each.
    let mut unread: Vec<(Url, String)> = Vec::new();
    let mut tried = 0;
    let deadline = tokio::time::Instant::now() + ARTICLES_WITHIN;
    for link in same_host_first(&proposal.links, &page.0)
        .into_iter()
        .take(ask.articles)
    {
        tried += 1;
        let reach = if link.host_str() == page.0.host_str() {
            Reach::Any
        } else {
            Reach::Public
        };
        match tokio::time::timeout_at(deadline, fetch(fetcher, &link, &ask.user_agent, reach)).await
        {
            Ok(Ok((p, _))) => {
                pages.push(p);
                list_days.push(days.get(link.as_str()).copied());
            }
            Ok(Err(e)) => {
                tracing::debug!("suggest: article {link} not read: {e}");
                let reason = match e {
                    SuggestError::Fetch { reason, .. } => reason,
                    e => e.to_string(),
                };
                unread.push((link, reason));
            }
            Err(_) => {
                unread.push((
                    link,
                    format!("no answer within {} s", ARTICLES_WITHIN.as_secs()),
                ));
                break;
            }
        }
    }
    let article = article::propose(&pages, &list_days, list_only.timezone);
    let mut s = build(&source, Some(&proposal), Some(&article), &page.1, &page.0)?;
    if let Some((link, why)) = unread.first() {
        s.notes.push(format!(
            "{} of {tried} release pages opened could not be read ({link}: {why}): {}",
            unread.len(),
            if pages.is_empty() {
                "no `[sources.article]` selectors could be looked for"
            } else {
                "the `[sources.article]` selectors are found on the others"
            }
        ));
    }
    s.notes.extend(redirected(&ask.url, &page.0));
    Ok(s)
}

/// How long suggest spends opening release pages, all of them together.
const ARTICLES_WITHIN: std::time::Duration = std::time::Duration::from_secs(15);

/// What came of the feeds a page advertises.
#[derive(Debug, PartialEq)]
enum Advertised {
    /// A feed that was fetched and read (its address after redirects).
    Feed(Url),
    /// None could be read: the first, and why ("answered HTTP status 404", "is not a feed: …").
    Broken(Url, String),
}

/// Advertised feeds fetched and read at most.
const FEEDS_TRIED: usize = 3;

/// Fetches and reads the feeds the page advertises, in its order, until one reads as a feed
/// with entries: a feed is named to the admin only when herald has read it. `None` when the
/// page advertises none.
async fn read_advertised(
    fetcher: &Fetcher,
    feeds: &[Url],
    page: &Url,
    ask: &Ask,
) -> Option<Advertised> {
    let mut first_broken = None;
    for f in feeds.iter().take(FEEDS_TRIED) {
        match read_feed(fetcher, f, page, &ask.user_agent).await {
            Ok(at) => return Some(Advertised::Feed(at)),
            Err(why) => {
                tracing::debug!("suggest: advertised feed {f}: {why}");
                first_broken.get_or_insert_with(|| Advertised::Broken(f.clone(), why));
            }
        }
    }
    first_broken
}

/// One advertised feed, fetched and read as the poller reads a feed: its address after
/// redirects, or why it is none (said after "which").
async fn read_feed(
    fetcher: &Fetcher,
    feed: &Url,
    page: &Url,
    user_agent: &str,
) -> Result<Url, String> {
    // A feed on another host is fetched as any address found on a page is.
    let reach = if feed.host_str() == page.host_str() {
        Reach::Any
    } else {
        Reach::Public
    };
    let req = Request {
        user_agent,
        ..Request::default()
    };
    let fetched = match fetcher.get_within(feed, &req, reach).await {
        Ok(Fetched::Page(p)) => p,
        Ok(Fetched::NotModified) => {
            return Err("answered 304 Not Modified to an unconditional request".into());
        }
        Err(
            crate::fetch::FetchError::Status(code) | crate::fetch::FetchError::StatusWait(code, _),
        ) => {
            return Err(format!("answered HTTP status {code}"));
        }
        Err(e) => return Err(format!("could not be fetched ({e})")),
    };
    match body_kind(fetched.content_type.as_deref(), &fetched.text) {
        Body::Feed => {}
        Body::Html => return Err("is not a feed: it answered a web page".into()),
        Body::Other(received) => return Err(format!("is not a feed: it answered {received}")),
    }
    // Its first entry is enough (the reader warns of the others left unread: not here).
    let first = || crate::extract::feed::feed_entries(&fetched.text, &fetched.url, None, 1);
    match tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), first) {
        Ok(read) if !read.entries.is_empty() => Ok(fetched.url),
        Ok(_) => Err("reads as a feed but holds no entries".into()),
        Err(e) => Err(format!("is not a feed herald reads: {e}")),
    }
}

/// A note when the address asked redirects: the block reads the address the page is at.
fn redirected(asked: &Url, fetched: &Url) -> Option<String> {
    (asked != fetched).then(|| {
        format!("{asked} redirects to {fetched}: the block reads {fetched}, where the page is")
    })
}

/// What a feed says of itself: its title and language.
#[derive(Debug, Default, PartialEq)]
struct FeedHead {
    title: Option<String>,
    language: Option<String>,
}

/// The title and language a feed declares (RSS `<language>`, Atom's `xml:lang`, a JSON Feed's
/// `language`), read from its head only: the entries are never built (a feed may hold
/// hundreds of thousands). A language that is no BCP 47 tag is left out.
fn feed_head(text: &str) -> FeedHead {
    let body = text.trim_start_matches('\u{feff}').trim_start();
    let (title, language) = if body.starts_with('{') {
        #[derive(serde::Deserialize)]
        struct Head {
            title: Option<String>,
            language: Option<String>,
        }
        match serde_json::from_str::<Head>(body) {
            Ok(h) => (h.title, h.language),
            Err(_) => (None, None),
        }
    } else {
        xml_feed_head(body)
    };
    FeedHead {
        title: title
            .map(|t| crate::text::clean(&t))
            .filter(|t| !t.is_empty()),
        language: language.and_then(|l| config::language(l.trim()).ok()),
    }
}

/// RSS and Atom: the root's `xml:lang`, the channel's `<language>` and its first `<title>`,
/// before the first `<item>` or `<entry>`.
fn xml_feed_head(body: &str) -> (Option<String>, Option<String>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(body);
    let (mut title, mut language) = (None, None);
    let mut depth = 0usize;
    let mut inside: Option<&'static str> = None;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let local = e.local_name();
                let name: &str = local.as_ref();
                if matches!(name, "item" | "entry") {
                    break;
                }
                if depth == 0 {
                    language = e
                        .attributes()
                        .flatten()
                        .find(|a| {
                            let key: &str = a.key.as_ref();
                            key == "xml:lang"
                        })
                        .and_then(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .ok()
                                .map(|v| v.into_owned())
                        });
                }
                depth += 1;
                inside = match name {
                    "title" if title.is_none() => Some("title"),
                    "language" if language.is_none() => Some("language"),
                    _ => None,
                };
                text.clear();
            }
            Ok(Event::Text(t)) if inside.is_some() => {
                let t: &str = t.as_ref();
                text.push_str(t);
            }
            Ok(Event::CData(t)) if inside.is_some() => {
                let t: &str = t.as_ref();
                text.push_str(t);
            }
            Ok(Event::GeneralRef(r)) if inside.is_some() => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    text.push(c);
                } else if let Some(c) = quick_xml::escape::resolve_predefined_entity(r.as_ref()) {
                    text.push_str(c);
                }
            }
            Ok(Event::End(_)) => {
                match inside.take() {
                    Some("title") => title = Some(std::mem::take(&mut text)),
                    Some(_) => language = Some(std::mem::take(&mut text)),
                    None => {}
                }
                depth = depth.saturating_sub(1);
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
        if title.is_some() && language.is_some() {
            break;
        }
    }
    (title, language)
}

/// The suggestion for a page already fetched, without article pages: the redesign alert's.
pub fn suggest_page(
    source: &Source,
    html: &str,
    page_url: &Url,
) -> Result<Suggestion, SuggestError> {
    refuse_too_deep(html, page_url)?;
    let hints = Hints {
        language: Some(source.language.clone()),
        timezone: Some(source.timezone),
    };
    let proposal =
        list::discover(html, page_url, &hints).map_err(|found| SuggestError::NotFound {
            url: page_url.to_string(),
            found,
            feed: String::new(),
        })?;
    let facts = SourceFacts {
        url: source.url.clone(),
        title: Some(source.title.clone()),
        language: Some(source.language.clone()),
        timezone: Some(source.timezone),
        channels: source.channels.clone(),
    };
    let mut s = build(&facts, Some(&proposal), None, html, page_url)?;
    s.id = source.id.clone();
    Ok(s)
}

/// What the block says about the source besides its selectors.
struct SourceFacts {
    url: Url,
    title: Option<String>,
    language: Option<String>,
    timezone: Option<Tz>,
    channels: Vec<String>,
}

/// A block written, checked by the config parser, and read on its page.
struct Read {
    id: String,
    block: String,
    timezone: Tz,
    preview: Vec<PreviewRow>,
    /// Cards the list reader skipped (not the ones showing a release twice): the poll warns
    /// of each.
    skipped: Vec<crate::extract::html::SkippedCard>,
}

/// Writes the block, checks it with the config parser and reads its page with it.
fn read_block(
    facts: &SourceFacts,
    proposal: Option<&ListProposal>,
    article: Option<&article::ArticleProposal>,
    html: &str,
    page_url: &Url,
) -> Result<Read, SuggestError> {
    let id = source_id(&facts.url);
    let block = write_block(&id, facts, proposal, article);
    // Checked alone, with stand-ins for the channels it names (the config it goes into has
    // them: `/add` checks the whole file again before writing).
    let mut checked = block.clone();
    for c in &facts.channels {
        let _ = write!(
            checked,
            "\n[[channels]]\nid = {}\nchat = \"@check\"\n",
            q(c)
        );
    }
    let parsed = config::parse(
        std::path::Path::new("suggested.toml"),
        &checked,
        std::path::Path::new("."),
    )
    .map_err(|problems| {
        SuggestError::Broken(
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let source = parsed
        .source(&id)
        .ok_or_else(|| SuggestError::Broken("the block names no source".into()))?;
    let mut counted = crate::pipeline::ListNotes::default();
    let mut read = || read_preview_counted(source, html, page_url, Utc::now(), &mut counted);
    // A list block may be a trial (`build` narrows its item selector): the reader's warnings
    // (the cards it skipped) are not logged but said in the notes.
    let preview = if proposal.is_some() {
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), read)
    } else {
        read()
    };
    let preview = preview.map_err(|e| match e {
        crate::pipeline::PollError::Extract {
            url,
            source: source @ (ExtractError::TooDeep { .. } | ExtractError::NotAFeed(_)),
        } => SuggestError::Page {
            url,
            problem: source.to_string(),
        },
        e => SuggestError::Broken(e.to_string()),
    })?;
    Ok(Read {
        timezone: source.timezone,
        id,
        block,
        preview,
        skipped: counted.skipped_cards,
    })
}

/// The block for the list `proposal` found, or for a feed (`None`: `kind = "feed"`), checked by
/// the config parser, and its preview.
///
/// The block must read its own page as the poller will, without skipping a card: a card the
/// item selector matches and the reader skips (a table's header row, no link) would be
/// warned of at every poll. Then the item selector is narrowed to the elements holding the
/// link and the title (`tbody > tr:has(td a)`) when that reads the same releases and skips
/// none; else a note says which cards are skipped.
fn build(
    facts: &SourceFacts,
    proposal: Option<&ListProposal>,
    article: Option<&article::ArticleProposal>,
    html: &str,
    page_url: &Url,
) -> Result<Suggestion, SuggestError> {
    let mut read = read_block(facts, proposal, article, html, page_url)?;
    let mut proposal = proposal.cloned();
    let mut skipped_note = None;
    if let Some(p) = proposal.as_mut()
        && let Some(first) = read.skipped.first()
    {
        let narrowed = narrower_items(p).into_iter().find_map(|item| {
            let narrow = ListProposal { item, ..p.clone() };
            let r = read_block(facts, Some(&narrow), article, html, page_url).ok()?;
            // The same releases (their dates may be read against another instant).
            let same = |a: &[PreviewRow], b: &[PreviewRow]| {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| x.title == y.title && x.link == y.link)
            };
            (r.skipped.is_empty() && same(&r.preview, &read.preview)).then_some((narrow, r))
        });
        match narrowed {
            Some((narrow, r)) => {
                *p = narrow;
                read = r;
            }
            None => {
                skipped_note = Some(format!(
                    "{} card(s) the item selector matches are no release the reader reads (e.g. \
                     {first}): every poll will say they were skipped; narrow `item` to the \
                     releases",
                    read.skipped.len()
                ));
            }
        }
    }
    let proposal = proposal.as_ref();
    let Read {
        id,
        block,
        timezone,
        preview,
        ..
    } = read;
    let mut notes = proposal.map(|p| p.notes.clone()).unwrap_or_default();
    notes.extend(skipped_note);
    let max = crate::extract::elements::MAX_ELEMENTS;
    if proposal.is_some() && crate::extract::elements::cut_after(html, max).is_some() {
        notes.push(format!(
            "the page has more than {max} elements: herald reads the releases before them only"
        ));
    }
    // A release the list dates not takes its page's date (`[sources.article] date`).
    if let Some(date) = article.and_then(|a| a.date.as_deref()) {
        let by_page = format!(
            "new releases are dated from their own pages (`[sources.article] date = {}`)",
            q(date)
        );
        for n in &mut notes {
            *n = n
                .replace(list::FIRST_SEEN, &by_page)
                .replace(list::UNTIL_FIRST_SEEN, &format!("until then {by_page}"));
        }
    }
    let undated = preview.iter().filter(|r| r.date.is_none()).count();
    if proposal.is_some_and(|p| p.date.is_some()) && undated > 0 {
        notes.push(format!(
            "{undated} of {} releases have a date herald cannot read: set `date_format`, or a \
             better `date` selector (e.g. `time@datetime`)",
            preview.len()
        ));
    }
    Ok(Suggestion {
        id,
        block,
        preview,
        notes,
        timezone,
        feed: proposal.is_none(),
    })
}

/// Item selectors narrower than the proposal's: its elements that hold the link, the title,
/// or both (`tbody > tr:has(td a)` leaves out a header row of `th` cells). None for a selector
/// list (a featured card's beside the list's).
fn narrower_items(p: &ListProposal) -> Vec<String> {
    if p.item.contains(',') {
        return Vec::new();
    }
    let element = |css: &str| {
        let e = css.split('@').next().unwrap_or("").trim().to_owned();
        (!e.is_empty() && !e.contains(',')).then_some(e)
    };
    let (link, title) = (element(&p.link), element(&p.title));
    let mut items = Vec::new();
    match &link {
        Some(l) => items.push(format!("{}:has({l}[href])", p.item)),
        // The item is the link.
        None => items.push(format!("{}[href]", p.item)),
    }
    if let Some(t) = &title {
        items.push(format!("{}:has({t})", p.item));
        if let Some(l) = &link
            && l != t
        {
            items.push(format!("{}:has({l}[href]):has({t})", p.item));
        }
    }
    items
}

/// The releases `source` reads on this page, through the poller's own list reader, each once
/// as the poller counts them: by the item id of its key (a pinned release listed again below
/// is one release).
pub fn read_preview(
    source: &Source,
    html: &str,
    page_url: &Url,
    now: DateTime<Utc>,
) -> Result<Vec<PreviewRow>, crate::pipeline::PollError> {
    read_preview_counted(
        source,
        html,
        page_url,
        now,
        &mut crate::pipeline::ListNotes::default(),
    )
}

/// [`read_preview`], with what the reader noted (the cards it skipped).
fn read_preview_counted(
    source: &Source,
    html: &str,
    page_url: &Url,
    now: DateTime<Utc>,
    counted: &mut crate::pipeline::ListNotes,
) -> Result<Vec<PreviewRow>, crate::pipeline::PollError> {
    let mut seen = std::collections::HashSet::new();
    Ok(
        crate::pipeline::read_list_counted(source, html, page_url, now, counted)?
            .into_iter()
            .filter(|s| seen.insert(crate::model::ItemId::new(&source.id, &s.key)))
            .map(|s| PreviewRow {
                title: s.title,
                link: s.link,
                date: s.date,
            })
            .collect(),
    )
}

/// The page (its address after redirects, its text) and its content type.
async fn fetch(
    fetcher: &Fetcher,
    url: &Url,
    user_agent: &str,
    reach: Reach,
) -> Result<((Url, String), Option<String>), SuggestError> {
    let req = Request {
        user_agent,
        ..Request::default()
    };
    match fetcher.get_within(url, &req, reach).await {
        Ok(Fetched::Page(p)) => Ok(((p.url, p.text), p.content_type)),
        Ok(Fetched::NotModified) => Err(SuggestError::Fetch {
            url: url.to_string(),
            reason: "304 Not Modified to an unconditional request".into(),
        }),
        Err(e) => Err(SuggestError::Fetch {
            url: url.to_string(),
            reason: e.to_string(),
        }),
    }
}

/// A page nested deeper than the list reader reads is refused before discovery parses it
/// (the poller would refuse it too).
fn refuse_too_deep(html: &str, url: &Url) -> Result<(), SuggestError> {
    match crate::extract::depth::too_deep(html) {
        Some(depth) => Err(SuggestError::Page {
            url: url.to_string(),
            problem: ExtractError::TooDeep { depth }.to_string(),
        }),
        None => Ok(()),
    }
}

/// What a fetched body is.
#[derive(Debug, PartialEq)]
enum Body {
    Html,
    /// RSS, Atom or a JSON Feed.
    Feed,
    /// Anything else, described for the admin ("`application/pdf` (a PDF document)").
    Other(String),
}

/// Tells a feed and a web page from what is neither, by the body first (servers often send
/// feeds as `text/xml` or `text/html`, and pages as `text/plain`) and the content type next.
fn body_kind(content_type: Option<&str>, text: &str) -> Body {
    let mime = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let body = text.trim_start_matches('\u{feff}').trim_start();
    let head: String = body
        .chars()
        .take(4096)
        .collect::<String>()
        .to_ascii_lowercase();
    let received = |what: &str| {
        if mime.is_empty() {
            format!("{what} (no content type)")
        } else {
            format!("{what} (content type `{mime}`)")
        }
    };
    if body.is_empty() {
        return Body::Other(received("an empty body"));
    }
    if head.starts_with('<') {
        // Past an XML declaration, comments and processing instructions: the first element.
        let mut rest = head.as_str();
        loop {
            rest = rest.trim_start();
            let skip = if rest.starts_with("<?") {
                rest.find("?>").map(|i| i + 2)
            } else if rest.starts_with("<!--") {
                rest.find("-->").map(|i| i + 3)
            } else {
                None
            };
            match skip {
                Some(i) => rest = &rest[i..],
                None => break,
            }
        }
        let feed_root = ["<rss", "<feed", "<rdf:rdf"]
            .iter()
            .any(|r| rest.starts_with(r));
        if feed_root {
            return Body::Feed;
        }
        if ["<urlset", "<sitemapindex"]
            .iter()
            .any(|r| rest.starts_with(r))
        {
            return Body::Other(received("XML that is not a feed (a sitemap)"));
        }
        // An XML document whose root is no page's (`<?xml …?><data>`); XHTML is a page.
        let page_root = rest.starts_with("<!doctype") || rest.starts_with("<html");
        if head.starts_with("<?xml") && !page_root {
            return Body::Other(received("XML that is not a feed"));
        }
        return Body::Html;
    }
    if head.starts_with('{') || head.starts_with('[') {
        return if head.contains("jsonfeed.org/version") {
            Body::Feed
        } else {
            Body::Other(received("JSON that is not a JSON Feed"))
        };
    }
    if body.starts_with("%PDF") || mime == "application/pdf" {
        return Body::Other(received("a PDF document"));
    }
    let odd = body
        .chars()
        .take(4096)
        .filter(|c| *c == '\u{fffd}' || (c.is_control() && !c.is_whitespace()))
        .count();
    if odd * 20 > body.chars().take(4096).count() {
        return Body::Other(received("binary data"));
    }
    if mime.contains("html") {
        return Body::Html;
    }
    Body::Other(received("text that is not HTML"))
}

/// The feeds a page names in its head (`<link rel="alternate" type="application/rss+xml">`,
/// Atom, JSON Feed), as absolute addresses, the page's own first: comment feeds are left out
/// (they carry comments, not releases), and a feed whose path lies under the page's, whose
/// title names the page (its heading or its title), or whose `hreflang` is the page's language comes before
/// the site-wide one (a WordPress category page names `/feed/` first, its own feed last).
fn advertised_feeds(html: &str, page_url: &Url) -> Vec<Url> {
    let doc = scraper::Html::parse_document(html);
    let Ok(s) = scraper::Selector::parse("link[rel][href][type]") else {
        return Vec::new();
    };
    let base = crate::extract::html::base_url(&doc, page_url);
    // The page's names, lower case: its `h1` (and what follows a "Category:" in it) and its
    // title before " | " or " — ".
    let mut names: Vec<String> = Vec::new();
    if let Some(h) = scraper::Selector::parse("h1")
        .ok()
        .and_then(|h| doc.select(&h).next())
    {
        let h = crate::text::clean(&h.text().collect::<String>());
        if let Some((_, rest)) = h.rsplit_once(':') {
            names.push(rest.trim().to_owned());
        }
        names.push(h);
    }
    if let Some(t) = page_title(html) {
        let first = [" | ", " — ", " – ", " - ", " » "]
            .iter()
            .filter_map(|sep| t.split_once(sep).map(|(head, _)| head))
            .min_by_key(|head| head.len())
            .unwrap_or(&t);
        names.push(first.trim().to_owned());
    }
    let names: Vec<String> = names
        .into_iter()
        .map(|n| n.to_lowercase())
        .filter(|n| n.chars().count() >= 3)
        .collect();
    let lang = doc.root_element().value().attr("lang").map(str::to_owned);
    let mut ranked = doc
        .select(&s)
        .filter(|l| {
            let v = l.value();
            let alternate = v.attr("rel").is_some_and(|r| {
                r.split_ascii_whitespace()
                    .any(|w| w.eq_ignore_ascii_case("alternate"))
            });
            // "application/rss+xml; charset=utf-8": the type without its parameters.
            let kind = v
                .attr("type")
                .and_then(|t| t.split(';').next())
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            alternate
                && matches!(
                    kind.as_str(),
                    "application/rss+xml"
                        | "application/atom+xml"
                        | "application/feed+json"
                        | "application/rdf+xml"
                )
        })
        .filter_map(|l| {
            let url = base.join(l.value().attr("href")?.trim()).ok()?;
            Some((l, url))
        })
        .filter(|(_, u)| matches!(u.scheme(), "http" | "https"))
        .filter(|(l, u)| {
            let title = l.value().attr("title").unwrap_or("").to_lowercase();
            let path = u.path().to_lowercase();
            !["comment", "коммент", "пікір"]
                .iter()
                .any(|w| title.contains(w) || path.contains(w))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(l, u)| {
            let v = l.value();
            let own_path = page_url.path().trim_end_matches('/');
            let under = !own_path.is_empty() && u.path().starts_with(own_path);
            let title = crate::text::clean(v.attr("title").unwrap_or("")).to_lowercase();
            let named = names.iter().any(|n| title.contains(n.as_str()));
            let language = v.attr("hreflang").is_some_and(|h| {
                lang.as_deref()
                    .is_some_and(|p| primary(h).eq_ignore_ascii_case(primary(p)))
            });
            (
                2 * u8::from(under) + u8::from(named) + u8::from(language),
                u,
            )
        })
        .collect::<Vec<_>>();
    // Best first; on a tie the page's order.
    ranked.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
    ranked.into_iter().map(|(_, u)| u).collect()
}

/// A language tag's first part (`en` of `en-US`).
fn primary(tag: &str) -> &str {
    tag.trim().split(['-', '_']).next().unwrap_or("")
}

/// Links on the page's own host first (their pages are the site's release pages).
fn same_host_first(links: &[Url], page: &Url) -> Vec<Url> {
    let (mut own, other): (Vec<Url>, Vec<Url>) = links
        .iter()
        .cloned()
        .partition(|l| l.host_str() == page.host_str());
    own.extend(other);
    own
}

/// `<html lang>`, else a guess from the script of the page's text.
fn page_language(html: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    if let Some(lang) = doc.root_element().value().attr("lang")
        && let Ok(l) = config::language(lang.trim())
    {
        return Some(l);
    }
    let text: String = doc.root_element().text().collect();
    let kazakh = text
        .chars()
        .filter(|c| "әғқңөұүһіӘҒҚҢӨҰҮҺІ".contains(*c))
        .count();
    let cyrillic = text
        .chars()
        .filter(|c| ('\u{400}'..='\u{4ff}').contains(c))
        .count();
    Some(if kazakh > 10 {
        "kk".into()
    } else if cyrillic > 50 {
        "ru".into()
    } else {
        "en".into()
    })
}

fn page_title(html: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let s = scraper::Selector::parse("title").ok()?;
    let t = crate::text::clean(&doc.select(&s).next()?.text().collect::<String>());
    (!t.is_empty()).then_some(t)
}

/// `[a-z0-9-]+` from the host and path: `www.gov.example/en/news` -> `gov-example-en-news`.
pub fn source_id(url: &Url) -> String {
    let host = url.host_str().unwrap_or("site");
    let host = host.strip_prefix("www.").unwrap_or(host);
    let raw = format!("{host}{}", url.path());
    let mut id = String::new();
    for c in raw.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    let id = id.trim_matches('-');
    let id: String = id.chars().take(48).collect();
    let id = id.trim_end_matches('-');
    if id.is_empty() || id == "all" {
        "new-source".into()
    } else {
        id.to_owned()
    }
}

/// A TOML string: basic, escaped.
fn q(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// Writes the `[[sources]]` block (with the proposal's notes as comments).
fn write_block(
    id: &str,
    facts: &SourceFacts,
    p: Option<&ListProposal>,
    article: Option<&article::ArticleProposal>,
) -> String {
    let mut b = String::new();
    let _ = writeln!(b, "[[sources]]");
    let _ = writeln!(b, "id = {}", q(id));
    if let Some(t) = &facts.title {
        let _ = writeln!(b, "title = {}", q(t));
    }
    let _ = writeln!(b, "url = {}", q(facts.url.as_str()));
    let _ = writeln!(b, "schedule = \"0 */15 * * * *\"");
    match facts.timezone {
        Some(tz) => {
            let _ = writeln!(b, "timezone = {}", q(tz.name()));
        }
        None => {
            let _ = writeln!(
                b,
                "timezone = \"UTC\"   # the zone of dates printed without one: check it"
            );
        }
    }
    let _ = writeln!(
        b,
        "language = {}",
        q(facts.language.as_deref().unwrap_or("en"))
    );
    let channels: Vec<String> = facts.channels.iter().map(|c| q(c)).collect();
    let _ = writeln!(b, "channels = [{}]", channels.join(", "));
    let Some(p) = p else {
        let _ = writeln!(b, "kind = \"feed\"");
        return b;
    };
    let _ = writeln!(b, "kind = \"html\"");
    if let Some(re) = &p.id_pattern {
        let _ = writeln!(b, "id_pattern = '{re}'");
        if p.require_id {
            let _ = writeln!(b, "require_id = true");
        }
    }
    let _ = writeln!(b);
    let _ = writeln!(b, "[sources.list]");
    let _ = writeln!(b, "item = {}", q(&p.item));
    let _ = writeln!(b, "title = {}", q(&p.title));
    let _ = writeln!(b, "link = {}", q(&p.link));
    if let Some(d) = &p.date {
        let _ = writeln!(b, "date = {}", q(d));
    }
    if let Some(f) = &p.date_format {
        let _ = writeln!(b, "date_format = {}", q(f));
    }
    if let Some(s) = &p.summary {
        let _ = writeln!(b, "summary = {}", q(s));
    }
    if let Some(i) = &p.image {
        let _ = writeln!(b, "image = {}", q(i));
    }
    if let Some(a) = article.filter(|a| !a.is_empty()) {
        let _ = writeln!(b);
        let _ = writeln!(b, "[sources.article]");
        for (key, value) in [("body", &a.body), ("date", &a.date), ("image", &a.image)] {
            if let Some(v) = value {
                let _ = writeln!(b, "{key} = {}", q(v));
            }
        }
    }
    b
}

impl Suggestion {
    /// For the redesign alert: the proposed `[sources.list]` section and a short preview.
    pub fn list_proposal_text(&self) -> String {
        let section: Vec<&str> = self
            .block
            .lines()
            .skip_while(|l| *l != "[sources.list]")
            .take_while(|l| !l.trim().is_empty())
            .collect();
        // The keys of `[[sources]]` the preview was read with (an id in the links, cards
        // without one left out) belong to the proposal too.
        let source_keys: Vec<String> = self
            .block
            .lines()
            .take_while(|l| *l != "[sources.list]")
            .filter(|l| l.starts_with("id_pattern = ") || l.starts_with("require_id = "))
            .map(|l| format!("{l}   # in [[sources]]"))
            .collect();
        let mut lines = source_keys;
        lines.extend(section.iter().map(|l| (*l).to_owned()));
        let mut out = format!(
            "\n\nProposed selectors for the new page (herald suggest):\n{}\nThey read {} releases",
            lines.join("\n"),
            self.preview.len()
        );
        out.push_str(if self.preview.is_empty() { "." } else { ":" });
        for r in self.preview.iter().take(3) {
            let date = r.date.as_ref().map_or_else(
                || "(no date)".to_owned(),
                |d| list::written_day_in(d, self.timezone).to_string(),
            );
            let _ = write!(out, "\n• {date} {}", r.title);
        }
        out
    }

    /// The block, then the notes and the preview as TOML comments (so the whole is pasteable).
    pub fn render(&self) -> String {
        let mut out = self.block.clone();
        let _ = writeln!(out);
        for n in &self.notes {
            let _ = writeln!(out, "# note: {n}");
        }
        let _ = writeln!(
            out,
            "# preview: {} releases read {}",
            self.preview.len(),
            if self.feed {
                "from the feed"
            } else {
                "with these selectors (first page only)"
            }
        );
        for r in &self.preview {
            let date = r.date.as_ref().map_or_else(
                || "(no date)".to_owned(),
                |d| list::written_day_in(d, self.timezone).to_string(),
            );
            let _ = writeln!(out, "# {date:<10}  {}", r.title);
            let _ = writeln!(out, "#             {}", r.link);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::xhtml(
        Some("application/xhtml+xml"),
        "<?xml version='1.0'?><html><body/></html>",
        Body::Html
    )]
    #[case::plain_html(Some("text/plain"), "<!DOCTYPE html><html></html>", Body::Html)]
    #[case::rss_as_html(
        Some("text/html"),
        "<?xml version='1.0'?><!-- hi --><rss version='2.0'/>",
        Body::Feed
    )]
    #[case::rdf(None, "<rdf:RDF xmlns:rdf='x'></rdf:RDF>", Body::Feed)]
    #[case::json_feed(
        Some("application/json"),
        "{\"version\": \"https://jsonfeed.org/version/1\"}",
        Body::Feed
    )]
    fn bodies(#[case] content_type: Option<&str>, #[case] text: &str, #[case] kind: Body) {
        assert_eq!(body_kind(content_type, text), kind);
    }

    #[test]
    fn the_redesign_proposal_holds_the_id_keys_its_preview_was_read_with() {
        let s = Suggestion {
            id: "x".into(),
            block: "[[sources]]\nid = \"x\"\nkind = \"html\"\nid_pattern = '-(\\d+)$'\n\
                    require_id = true\n\n[sources.list]\nitem = \"div.card\"\ntitle = \"h3 a\"\n\
                    link = \"h3 a@href\"\n"
                .into(),
            preview: Vec::new(),
            notes: Vec::new(),
            timezone: chrono_tz::UTC,
            feed: false,
        };
        let text = s.list_proposal_text();
        assert!(
            text.contains("id_pattern = '-(\\d+)$'   # in [[sources]]"),
            "{text}"
        );
        assert!(
            text.contains("require_id = true   # in [[sources]]"),
            "{text}"
        );
        assert!(
            text.contains("[sources.list]\nitem = \"div.card\""),
            "{text}"
        );
    }

    #[test]
    fn undated_releases_are_said_to_take_the_article_date_when_one_is_written() {
        let cards: String = (0..4)
            .map(|i| {
                format!("<div class='card'><h3><a href='/n/{i}'>Undated release number {i} of the site</a></h3></div>")
            })
            .collect();
        let html = format!("<html lang='en'><body><main>{cards}</main></body></html>");
        let url = Url::parse("https://x.test/news/").unwrap();
        let proposal = list::discover(&html, &url, &Hints::default()).unwrap();
        let facts = SourceFacts {
            url: url.clone(),
            title: None,
            language: Some("en".into()),
            timezone: None,
            channels: Vec::new(),
        };
        let notes = |article: &article::ArticleProposal| {
            build(&facts, Some(&proposal), Some(article), &html, &url)
                .unwrap()
                .notes
                .join("\n")
        };
        let without = notes(&article::ArticleProposal::default());
        assert!(without.contains(list::FIRST_SEEN), "{without}");
        let with = notes(&article::ArticleProposal {
            date: Some("div.news-date time@datetime".into()),
            ..article::ArticleProposal::default()
        });
        assert!(!with.contains("first sees them"), "{with}");
        assert!(
            with.contains("dated from their own pages (`[sources.article] date = \"div.news-date time@datetime\"`)"),
            "{with}"
        );
    }

    #[test]
    fn advertised_feeds_are_read_with_their_type_parameters_and_not_other_json() {
        let page = r#"<html><head>
            <link rel="alternate" type="application/rss+xml; charset=utf-8" href="/rss">
            <link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/7">
            <link rel="stylesheet" type="text/css" href="/a.css">
            <link rel="Alternate" type="application/atom+xml" href="atom.xml">
            </head><body></body></html>"#;
        let url = Url::parse("https://x.test/news/").unwrap();
        let feeds: Vec<String> = advertised_feeds(page, &url)
            .iter()
            .map(ToString::to_string)
            .collect();
        // The feed under the page's path first.
        assert_eq!(
            feeds,
            ["https://x.test/news/atom.xml", "https://x.test/rss"]
        );
    }

    #[test]
    fn the_pages_own_feed_is_advertised_first_and_comment_feeds_never() {
        // WordPress on a category page: the site's feed, its comments, then the category's.
        let page = r#"<html lang="en-US"><head><title>Press Releases | Ministry</title>
            <link rel="alternate" type="application/rss+xml" title="Ministry &raquo; Feed" href="/feed/">
            <link rel="alternate" type="application/rss+xml" title="Ministry &raquo; Comments Feed" href="/comments/feed/">
            <link rel="alternate" type="application/rss+xml" title="Ministry &raquo; Press Releases Category Feed" href="/category/press/feed/">
            </head><body><h1>Category: Press Releases</h1></body></html>"#;
        let feeds = |url: &str| -> Vec<String> {
            advertised_feeds(page, &Url::parse(url).unwrap())
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        let want = [
            "https://x.test/category/press/feed/",
            "https://x.test/feed/",
        ];
        assert_eq!(feeds("https://x.test/category/press/"), want);
        // Named by the heading alone, wherever the page is.
        assert_eq!(feeds("https://x.test/news/"), want);
        // By the path alone.
        let page = page
            .replace("<h1>Category: Press Releases</h1>", "")
            .replace("Press Releases |", "News |");
        assert_eq!(
            advertised_feeds(
                &page,
                &Url::parse("https://x.test/category/press/").unwrap()
            )
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
            want
        );
        // An article's comments feed is no feed of releases.
        let article = r#"<html><head><link rel="alternate" type="application/rss+xml"
            title="Комментарии к статье" href="/news/12345/comments/rss"></head></html>"#;
        assert!(
            advertised_feeds(article, &Url::parse("https://x.test/news/12345").unwrap()).is_empty()
        );
    }

    #[rstest]
    #[case::rss(
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Новости &amp; пресс-релизы</title>\
         <link>http://x/</link><language>ru-RU</language><item><title>Item</title>\
         <language>en</language></item></channel></rss>",
        Some("Новости & пресс-релизы"),
        Some("ru-RU")
    )]
    #[case::atom(
        "<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom' xml:lang='kk'>\
         <title type='text'>Жаңалықтар</title><entry><title>Entry</title></entry></feed>",
        Some("Жаңалықтар"),
        Some("kk")
    )]
    #[case::json(
        r#"{"version": "https://jsonfeed.org/version/1.1", "title": "Press", "language": "en-GB", "items": []}"#,
        Some("Press"),
        Some("en-GB")
    )]
    #[case::rss_without_language(
        "<rss version='2.0'><channel><title><![CDATA[Press room]]></title><item><title>x</title></item></channel></rss>",
        Some("Press room"),
        None
    )]
    #[case::bad_language(
        "<rss version='2.0'><channel><title>T</title><language>English</language></channel></rss>",
        Some("T"),
        None
    )]
    fn a_feed_says_its_title_and_language(
        #[case] text: &str,
        #[case] title: Option<&str>,
        #[case] language: Option<&str>,
    ) {
        let head = feed_head(text);
        assert_eq!(head.title.as_deref(), title);
        assert_eq!(head.language.as_deref(), language);
    }

    /// Narrower item selectors keep the proposal's and ask for the link, the title or both;
    /// a selector list (a featured card's beside the list's) gets none.
    #[test]
    fn narrower_items_hold_the_link_and_the_title() {
        let p = ListProposal {
            item: "tbody > tr".into(),
            title: "td a".into(),
            link: "td a@href".into(),
            ..ListProposal::default()
        };
        assert_eq!(
            narrower_items(&p),
            ["tbody > tr:has(td a[href])", "tbody > tr:has(td a)"]
        );
        let apart = ListProposal {
            item: "div.card".into(),
            title: "h3".into(),
            link: "a.more@href".into(),
            ..ListProposal::default()
        };
        assert_eq!(
            narrower_items(&apart),
            [
                "div.card:has(a.more[href])",
                "div.card:has(h3)",
                "div.card:has(a.more[href]):has(h3)",
            ]
        );
        let own = ListProposal {
            item: "a.news".into(),
            title: "span".into(),
            link: "@href".into(),
            ..ListProposal::default()
        };
        assert_eq!(narrower_items(&own), ["a.news[href]", "a.news:has(span)"]);
        let featured = ListProposal {
            item: "div.card, div.hero".into(),
            ..p
        };
        assert!(narrower_items(&featured).is_empty());
    }

    #[test]
    fn a_sitemap_or_other_xml_is_no_page() {
        let sitemap = "<?xml version='1.0' encoding='UTF-8'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'><url><loc>https://x.test/</loc></url></urlset>";
        assert_eq!(
            body_kind(Some("application/xml"), sitemap),
            Body::Other(
                "XML that is not a feed (a sitemap) (content type `application/xml`)".into()
            )
        );
        assert_eq!(
            body_kind(
                Some("text/xml"),
                "<?xml version='1.0'?><data><row>1</row></data>"
            ),
            Body::Other("XML that is not a feed (content type `text/xml`)".into())
        );
    }

    #[test]
    fn a_redirect_is_noted_with_the_address_the_block_reads() {
        let asked = Url::parse("http://x.test/news").unwrap();
        let at = Url::parse("https://x.test/news/").unwrap();
        assert_eq!(
            redirected(&asked, &at).as_deref(),
            Some(
                "http://x.test/news redirects to https://x.test/news/: the block reads https://x.test/news/, where the page is"
            )
        );
        assert_eq!(redirected(&at, &at), None);
    }

    #[test]
    fn text_without_markup_is_no_page() {
        let Body::Other(what) = body_kind(Some("text/plain"), "just some words") else {
            panic!("read as a page or a feed");
        };
        assert_eq!(what, "text that is not HTML (content type `text/plain`)");
    }
}
