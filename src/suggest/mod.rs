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
    #[error("{url}: {found}")]
    NotFound { url: String, found: NotFound },
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
    let page = fetch(fetcher, &ask.url, &ask.user_agent, Reach::Any).await?;
    let hints = Hints {
        language: language.clone().or_else(|| page_language(&page.1)),
        timezone: ask.timezone,
    };
    let proposal =
        list::discover(&page.1, &page.0, &hints).map_err(|found| SuggestError::NotFound {
            url: ask.url.to_string(),
            found,
        })?;
    let mut pages = Vec::new();
    for link in same_host_first(&proposal.links, &page.0)
        .into_iter()
        .take(ask.articles)
    {
        let reach = if link.host_str() == page.0.host_str() {
            Reach::Any
        } else {
            Reach::Public
        };
        match fetch(fetcher, &link, &ask.user_agent, reach).await {
            Ok(p) => pages.push(p),
            Err(e) => tracing::debug!("suggest: article {link} not read: {e}"),
        }
    }
    let article = article::propose(&pages);
    let source = SourceFacts {
        url: ask.url.clone(),
        title: page_title(&page.1),
        language: hints.language.clone(),
        timezone: ask.timezone,
        channels: ask.channels.clone(),
    };
    build(&source, &proposal, Some(&article), &page.1, &page.0)
}

/// The suggestion for a page already fetched, without article pages: the redesign alert's.
pub fn suggest_page(
    source: &Source,
    html: &str,
    page_url: &Url,
) -> Result<Suggestion, SuggestError> {
    let hints = Hints {
        language: Some(source.language.clone()),
        timezone: Some(source.timezone),
    };
    let proposal =
        list::discover(html, page_url, &hints).map_err(|found| SuggestError::NotFound {
            url: page_url.to_string(),
            found,
        })?;
    let facts = SourceFacts {
        url: source.url.clone(),
        title: Some(source.title.clone()),
        language: Some(source.language.clone()),
        timezone: Some(source.timezone),
        channels: source.channels.clone(),
    };
    let mut s = build(&facts, &proposal, None, html, page_url)?;
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

fn build(
    facts: &SourceFacts,
    proposal: &ListProposal,
    article: Option<&article::ArticleProposal>,
    html: &str,
    page_url: &Url,
) -> Result<Suggestion, SuggestError> {
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
    let preview = read_preview(source, html, page_url, Utc::now())
        .map_err(|e| SuggestError::Broken(e.to_string()))?;
    let mut notes = proposal.notes.clone();
    let undated = preview.iter().filter(|r| r.date.is_none()).count();
    if proposal.date.is_some() && undated > 0 {
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
        timezone: source.timezone,
    })
}

/// The releases `source` reads on this page, through the poller's own list reader.
pub fn read_preview(
    source: &Source,
    html: &str,
    page_url: &Url,
    now: DateTime<Utc>,
) -> Result<Vec<PreviewRow>, crate::pipeline::PollError> {
    Ok(crate::pipeline::read_list(source, html, page_url, now)?
        .into_iter()
        .map(|s| PreviewRow {
            title: s.title,
            link: s.link,
            date: s.date,
        })
        .collect())
}

async fn fetch(
    fetcher: &Fetcher,
    url: &Url,
    user_agent: &str,
    reach: Reach,
) -> Result<(Url, String), SuggestError> {
    let req = Request {
        user_agent,
        ..Request::default()
    };
    match fetcher.get_within(url, &req, reach).await {
        Ok(Fetched::Page(p)) => Ok((p.url, p.text)),
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
    p: &ListProposal,
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
        let mut out = format!(
            "\n\nProposed selectors for the new page (herald suggest):\n{}\nThey read {} releases",
            section.join("\n"),
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
            "# preview: {} releases read with these selectors (first page only)",
            self.preview.len()
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
