//! `[[sources]]`: the sites and feeds herald polls, one table each.

use super::cron::schedule_frequency;
use super::diagnostics::{Report, Span};
use super::selectors::{
    ArticleSelectors, LIST_KEYS, ListSelectors, article_selectors, list_selectors,
};
use super::table::{Table, expect_str};
use super::values::{
    config_regex, header_value, http_url, one_line_text, read_id, regexes, timezone, unique,
    written_id,
};
use crate::schedule::Schedule;
use chrono_tz::Tz;
use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use toml::de::DeValue;
use url::Url;

/// `[[sources]] poll_deadline_secs` when absent: room for the list pages (`max_pages`, each
/// fetch cut at 30 s) and the article pages of a first poll, yet well inside a 10-minute schedule.
pub const DEFAULT_POLL_DEADLINE_SECS: u64 = 300;

/// How a source's `url` is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Html,
    Feed,
}

/// `image_rewrite = [PATTERN, REPLACEMENT]`: the first match of `pattern` in an image URL is
/// replaced (`$1` names a group), e.g. akorda.kz's `…_smallThumb.jpg` becomes `….jpg`.
#[derive(Clone, Debug)]
pub struct ImageRewrite {
    pub pattern: Regex,
    pub replacement: String,
}

impl ImageRewrite {
    pub fn apply(&self, url: &str) -> String {
        self.pattern
            .replace(url, self.replacement.as_str())
            .into_owned()
    }
}

/// `[[sources]]`: one site or feed that herald polls.
#[derive(Clone, Debug)]
pub struct Source {
    pub id: String,
    pub title: String,
    pub url: Url,
    pub schedule: Schedule,
    pub timezone: Tz,
    /// Normalized BCP 47 ("kz" already turned into "kk").
    pub language: String,
    pub channels: Vec<String>,
    pub backfill: u32,
    pub kind: SourceKind,
    /// Present when `kind` is `Html`.
    pub list: Option<ListSelectors>,
    pub article: Option<ArticleSelectors>,
    pub include: Vec<Regex>,
    pub exclude: Vec<Regex>,
    pub max_items: usize,
    pub max_pages: u32,
    /// `max_page_items`: items read from one list page (or feed document) at most.
    pub max_page_items: usize,
    /// `max_new_per_poll`: new items stored by one poll at most; older new ones beyond it are
    /// remembered as seen, never announced.
    pub max_new_per_poll: usize,
    /// `poll_deadline_secs`: how long one poll may take, fetches and parsing of every page
    /// included; past it the poll is cut and fails (README "Limits").
    pub poll_deadline: Duration,
    /// Longest lead taken from an article page, in characters (cut at a sentence; default 400).
    pub summary_length: usize,
    pub id_pattern: Option<Regex>,
    /// Only links that match `id_pattern` are releases: other items of the list are skipped.
    pub require_id: bool,
    /// Rewrites each image URL (a thumbnail's into its full-size file's).
    pub image_rewrite: Option<ImageRewrite>,
    pub insecure_tls: bool,
    /// Extra request headers, in file order; names and values are valid HTTP.
    pub headers: Vec<(String, String)>,
}

const SOURCE_KEYS: &[&str] = &[
    "id",
    "title",
    "url",
    "schedule",
    "timezone",
    "language",
    "channels",
    "backfill",
    "kind",
    "list",
    "article",
    "include",
    "exclude",
    "max_items",
    "max_pages",
    "max_page_items",
    "max_new_per_poll",
    "poll_deadline_secs",
    "summary_length",
    "id_pattern",
    "require_id",
    "image_rewrite",
    "insecure_tls",
    "headers",
];

/// The valid sources, and every source id defined (see [`written_id`]), so that a translation
/// group naming a broken source is not also told it does not exist. `channels` are the channel
/// ids defined, or `None` when `[[channels]]` could not be read (names are then not checked).
/// `lists_at`: where a misnamed `[source.list]` stands (reported already): the source above it
/// is not also told its list is missing.
pub(super) fn sources(
    r: &mut Report,
    root: &Table,
    channels: Option<&HashSet<String>>,
    lists_at: &[usize],
) -> (Vec<Source>, HashSet<String>) {
    let mut seen = HashMap::new();
    let mut defined = HashSet::new();
    let mut sources = Vec::new();
    let tables = root.array_of_tables(r, "sources");
    let list_said: HashSet<usize> = lists_at
        .iter()
        .filter_map(|&at| tables.iter().rposition(|t| t.span.start < at))
        .collect();
    for (n, t) in tables.into_iter().enumerate() {
        defined.extend(written_id(&t));
        let id = read_id(r, &t, "source").filter(|(id, span)| {
            if id == "all" {
                r.error(
                    span,
                    "source id `all` is reserved for the merged feed (/feeds/all.rss)",
                );
                return false;
            }
            unique(r, &mut seen, "source", id, span)
        });
        sources.extend(source(r, &t, id, channels, list_said.contains(&n)));
    }
    (sources, defined)
}

/// One `[[sources]]` table; `id` was read (and reported on) by the caller.
fn source(
    r: &mut Report,
    t: &Table,
    id: Option<(String, Span)>,
    channels: Option<&HashSet<String>>,
    list_said: bool,
) -> Option<Source> {
    let stray = stray_list_keys(r, t);
    t.check_keys_but(r, SOURCE_KEYS, &stray);
    // Messages name the source by its id as written, even a malformed one.
    let label = match t.value("id").map(|v| v.get_ref()) {
        Some(DeValue::String(id)) => id.to_string(),
        _ => "without an id".to_string(),
    };
    let title = t.string(r, "title").and_then(|(text, span)| {
        let default = format!("the source's id `{label}`");
        r.check(&span, one_line_text("title", text, &default))
    });
    let url = t
        .required_str(r, "url")
        .and_then(|(text, span)| r.check(&span, http_url("url", text)));
    let timezone = t
        .string(r, "timezone")
        .map_or(Some(Tz::UTC), |(text, span)| r.check(&span, timezone(text)));
    let schedule = t.required_str(r, "schedule").and_then(|(text, span)| {
        let schedule = r.check(&span, Schedule::parse(text))?;
        let zone = timezone.unwrap_or(Tz::UTC);
        match schedule_frequency(&schedule, zone, chrono::Utc::now()) {
            Ok(None) => Some(schedule),
            Ok(Some(warning)) => {
                r.warn(&span, format!("source `{label}`: {warning}"));
                Some(schedule)
            }
            Err(problem) => {
                r.error(&span, problem);
                None
            }
        }
    });
    let language = t
        .string(r, "language")
        .map_or(Some("en".to_string()), |(text, span)| {
            r.check(&span, language(text))
        });
    let kind = source_kind(r, t);
    let list = list_section(r, t, kind, &label, list_said || !stray.is_empty());
    let article = t
        .table(
            r,
            "article",
            format!("[sources.article] of source `{label}`"),
        )
        .map(|a| article_selectors(r, &a));
    let id_pattern = t
        .string(r, "id_pattern")
        .and_then(|(text, span)| r.check(&span, id_pattern(text)));
    let require_id = t.boolean(r, "require_id").is_some_and(|(on, span)| {
        if on
            && id_pattern.is_none()
            && t.value("id_pattern").is_none()
            && !t.misspelt("id_pattern")
        {
            r.error(
                &span,
                "`require_id` needs `id_pattern`: the regex that finds a release's id in its link",
            );
        }
        on
    });
    let image_rewrite = image_rewrite(r, t);
    let insecure_tls = insecure_tls(r, t, &label);
    // Everything is read before the `?`s below, so that every problem is reported.
    let channels = source_channels(r, t, &label, channels);
    let backfill = t.count(r, "backfill", 0, 1);
    let include = regexes(r, t, "include");
    let exclude = regexes(r, t, "exclude");
    let max_items = t.count(r, "max_items", 1, 100);
    let max_pages = t.count(r, "max_pages", 1, 3);
    let max_page_items = t.count(r, "max_page_items", 1, 1000);
    let max_new_per_poll = t.count(r, "max_new_per_poll", 1, 500);
    let poll_deadline = t.count(r, "poll_deadline_secs", 1, DEFAULT_POLL_DEADLINE_SECS);
    let summary_length: usize = t.count(r, "summary_length", 1, 400);
    let headers = headers(r, t, &label);
    let source = Source {
        title: title.unwrap_or_else(|| label.clone()),
        url: url?,
        schedule: schedule?,
        timezone: timezone?,
        language: language?,
        channels,
        backfill,
        kind: kind?,
        list,
        article,
        include,
        exclude,
        max_items,
        max_pages,
        max_page_items,
        max_new_per_poll,
        poll_deadline: Duration::from_secs(poll_deadline),
        summary_length,
        id_pattern,
        require_id,
        image_rewrite,
        insecure_tls,
        headers,
        id: id?.0,
    };
    Some(source)
}

/// SPEC: skipping certificate checks is "warned about at start-up".
fn insecure_tls(r: &mut Report, t: &Table, label: &str) -> bool {
    let Some((on, span)) = t.boolean(r, "insecure_tls") else {
        return false;
    };
    if on {
        let message = format!(
            "source `{label}`: insecure_tls is on: certificates are not checked for this source"
        );
        r.warn(&span, message);
    }
    on
}

/// Checks the shape of a BCP 47 tag and writes it in canonical case (`pt-br` -> `pt-BR`);
/// `kz` (the country code people often write for Kazakh) becomes `kk` (SPEC "config.toml").
pub fn language(text: &str) -> Result<String, String> {
    let bad =
        || format!("language `{text}` is not a BCP 47 tag such as `en`, `ru`, `kk` or `pt-BR`");
    let mut subtags = text.split('-');
    let primary = subtags.next().unwrap_or_default().to_ascii_lowercase();
    if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(bad());
    }
    let mut tag = if primary == "kz" {
        "kk".to_string()
    } else {
        primary
    };
    for sub in subtags {
        if sub.is_empty() || sub.len() > 8 || !sub.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad());
        }
        let alpha = sub.bytes().all(|b| b.is_ascii_alphabetic());
        tag.push('-');
        match sub.len() {
            2 if alpha => tag.push_str(&sub.to_ascii_uppercase()),
            4 if alpha => {
                tag.push_str(&sub[..1].to_ascii_uppercase());
                tag.push_str(&sub[1..].to_ascii_lowercase());
            }
            _ => tag.push_str(&sub.to_ascii_lowercase()),
        }
    }
    Ok(tag)
}

fn source_kind(r: &mut Report, t: &Table) -> Option<SourceKind> {
    match t.string(r, "kind") {
        // Unreadable or misspelt (reported): not known to be html either.
        None if t.value("kind").is_some() || t.misspelt("kind") => None,
        None => Some(SourceKind::Html),
        Some(("html", _)) => Some(SourceKind::Html),
        Some(("feed", _)) => Some(SourceKind::Feed),
        Some((other, span)) => {
            r.error(
                &span,
                format!("unknown kind `{other}` (expected one of: html, feed)"),
            );
            None
        }
    }
}

/// Keys of `[sources.list]` written in the source itself (`item`, `link`, `date` under
/// `[[sources]]`: the `[sources.list]` header left out), when it has no `[sources.list]`: one
/// problem at the first, saying to write the header above it. Returns the keys said.
fn stray_list_keys(r: &mut Report, t: &Table) -> Vec<&'static str> {
    let feed = t.value("kind").and_then(|v| v.get_ref().as_str()) == Some("feed");
    if feed || t.value("list").is_some() {
        return Vec::new();
    }
    let entries = t.in_order();
    let stray: Vec<&'static str> = LIST_KEYS
        .iter()
        .copied()
        .filter(|k| !SOURCE_KEYS.contains(k) && t.value(k).is_some())
        .collect();
    let Some((first, _)) = entries
        .iter()
        .find(|(key, _)| stray.contains(&key.get_ref().as_ref()))
    else {
        return Vec::new();
    };
    let at = first.span().start;
    let first: &str = first.get_ref();
    // A `title` after the first of them is the list's too (the source's own comes before).
    let written: Vec<String> = entries
        .iter()
        .filter(|(key, _)| key.span().start >= at && LIST_KEYS.contains(&key.get_ref().as_ref()))
        .map(|(key, _)| format!("`{}`", key.get_ref()))
        .collect();
    let message = format!(
        "{} in {} {} keys of the list page: write the header [sources.list] on the line above \
         `{first}` (the list's keys go under it, after the source's own)",
        written.join(", "),
        t.name,
        if written.len() == 1 {
            "is one of the"
        } else {
            "are"
        }
    );
    if let Some(span) = t.key_span(first) {
        r.error(&span, message);
    }
    stray
}

/// `[sources.list]`: required for `kind = "html"`, meaningless for `kind = "feed"`. Not said
/// missing when its keys stand in the source (`stray`, reported already).
fn list_section(
    r: &mut Report,
    t: &Table,
    kind: Option<SourceKind>,
    label: &str,
    stray: bool,
) -> Option<ListSelectors> {
    let name = format!("[sources.list] of source `{label}`");
    let list = t.table(r, "list", name);
    match (kind, &list, t.key_span("list")) {
        (Some(SourceKind::Feed), _, Some(span)) => {
            let message = format!(
                "source `{label}` has kind = \"feed\": [sources.list] applies only to kind = \"html\""
            );
            r.error(&span, message);
            // What is in it does not apply either: its missing keys are no further problems.
            return None;
        }
        (Some(SourceKind::Html), None, None) if !t.misspelt("list") && !stray => {
            let message = format!(
                "missing [sources.list] in {} (required when kind = \"html\"; \
                 use kind = \"feed\" for an RSS/Atom/JSON feed)",
                t.name
            );
            r.error(&t.span, message);
        }
        _ => {}
    }
    list.and_then(|l| list_selectors(r, &l))
}

/// The source's channel ids; each must name a `[[channels]]` entry (when `known`), once.
fn source_channels(
    r: &mut Report,
    t: &Table,
    label: &str,
    known: Option<&HashSet<String>>,
) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for (id, span) in t.strings(r, "channels") {
        if known.is_some_and(|known| !known.contains(id)) {
            let message = format!(
                "source `{label}` names channel `{id}`, which is not defined in [[channels]]"
            );
            r.error(&span, message);
        } else if ids.iter().any(|seen| seen == id) {
            r.error(
                &span,
                format!("source `{label}` names channel `{id}` twice"),
            );
        } else {
            ids.push(id.to_string());
        }
    }
    ids
}

/// `image_rewrite = [PATTERN, REPLACEMENT]`.
fn image_rewrite(r: &mut Report, t: &Table) -> Option<ImageRewrite> {
    let span = t.value("image_rewrite")?.span();
    match t.strings(r, "image_rewrite").as_slice() {
        [(pattern, pattern_span), (replacement, replacement_span)] => {
            let pattern = r.check(pattern_span, config_regex("image_rewrite", pattern, false))?;
            r.check(replacement_span, replacement_groups(&pattern, replacement))?;
            Some(ImageRewrite {
                pattern,
                replacement: (*replacement).to_owned(),
            })
        }
        _ => {
            r.error(
                &span,
                "`image_rewrite` takes two strings, a regex and what replaces its match, e.g. ['_smallThumb(\\.\\w+)$', '$1']",
            );
            None
        }
    }
}

/// Every group that `replacement` names (`$1`, `${1}`, `$name`, `${name}`) is one of
/// `pattern`'s: regex would put nothing in place of another, silently. `$$` is a dollar sign.
fn replacement_groups(pattern: &Regex, replacement: &str) -> Result<(), String> {
    let mut rest = replacement;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            rest = after;
            continue;
        }
        let (name, after) = match rest.strip_prefix('{') {
            Some(inner) => match inner.split_once('}') {
                Some((name, after)) => (name, after),
                None => (inner, ""),
            },
            None => {
                // As regex reads `$name`: the longest run of letters, digits and `_`.
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                rest.split_at(end)
            }
        };
        rest = after;
        if name.is_empty() {
            continue;
        }
        let exists = match name.parse::<usize>() {
            Ok(n) => n < pattern.captures_len(),
            Err(_) => pattern.capture_names().flatten().any(|n| n == name),
        };
        if !exists {
            let groups = pattern.captures_len() - 1;
            let digits = name.len() - name.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let hint = if digits > 0 && digits < name.len() {
                format!(
                    "a group's number followed by letters is written `${{{}}}{}`",
                    &name[..digits],
                    &name[digits..]
                )
            } else {
                "write `$$` for a dollar sign".to_string()
            };
            return Err(format!(
                "`image_rewrite`: the replacement `{replacement}` names group `{name}`, which \
                 the regex `{}` does not have (it has {groups} group{}; {hint})",
                pattern.as_str(),
                if groups == 1 { "" } else { "s" }
            ));
        }
    }
    Ok(())
}

/// SPEC: "a regex whose first group, taken from the link, identifies an item".
fn id_pattern(text: &str) -> Result<Regex, String> {
    let regex = config_regex("id_pattern", text, false)?;
    if regex.captures_len() < 2 {
        return Err(format!(
            "`id_pattern` `{text}` has no capture group: put the id part in parentheses, e.g. `-(\\d+)$`"
        ));
    }
    Ok(regex)
}

/// `headers`: extra request headers, checked as HTTP so a request never fails on them later.
fn headers(r: &mut Report, t: &Table, label: &str) -> Vec<(String, String)> {
    let Some(table) = t.table(r, "headers", format!("`headers` of source `{label}`")) else {
        return Vec::new();
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for (key, v) in table.in_order() {
        let name: &str = key.get_ref();
        let value = expect_str(r, v, &table.place(name))
            .and_then(|(text, span)| r.check(&span, header_value(text)));
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            r.error(
                &key.span(),
                format!("`{name}` is not a valid HTTP header name"),
            );
        } else if headers
            .iter()
            .any(|(seen, _)| seen.eq_ignore_ascii_case(name))
        {
            r.error(
                &key.span(),
                format!("header `{name}` is set twice (names ignore case)"),
            );
        } else if let Some(value) = value {
            headers.push((name.to_string(), value));
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::*;
    use rstest::rstest;

    #[test]
    fn source_defaults() {
        let config = parse_str(HTML).expect("valid");
        let s = &config.sources[0];
        assert_eq!(
            (s.title.as_str(), s.language.as_str(), s.timezone),
            ("a", "en", Tz::UTC)
        );
        assert_eq!(
            (s.kind, s.backfill, s.max_items, s.max_pages),
            (SourceKind::Html, 1, 100, 3)
        );
        assert!(s.channels.is_empty() && s.headers.is_empty() && !s.insecure_tls);
    }

    /// Issue 17: a source with a problem of its own is still defined for a [[translations]] group
    /// naming it, and a channel for a source naming it: only the real problem is reported.
    #[rstest]
    #[case::bad_timezone(&HTML.replace("schedule", "timezone = \"Asia/Almati\"\nschedule"), "akorda-en", "unknown timezone `Asia/Almati`")]
    #[case::bad_selector(&HTML.replace("\"div\"", "\"div >\""), "akorda-en", "invalid CSS selector `div >`")]
    #[case::bad_schedule(&HTML.replace("0 0 * * * *", "0 0 0 30 2 *"), "akorda-en", "never fires")]
    #[case::missing_url(&HTML.replace("url = \"https://example.org/\"\n", ""), "akorda-en", "missing key `url`")]
    #[case::malformed_id(HTML, "Akorda-EN", "source id `Akorda-EN` must match [a-z0-9-]+")]
    fn a_broken_source_is_still_defined(
        #[case] source: &str,
        #[case] id: &str,
        #[case] problem: &str,
    ) {
        let source = source.replace("\"a\"", &format!("\"{id}\""));
        let russian = FEED.replace("\"a\"", "\"akorda-ru\"") + "language = \"ru\"\n";
        let text =
            format!("{source}{russian}[[translations]]\nsources = [\"{id}\", \"akorda-ru\"]\n");
        let errors = errors(&text);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].message.contains(problem), "{}", errors[0]);
    }

    #[rstest]
    #[case::plain("en", "en")]
    #[case::kazakh_alias("kz", "kk")]
    #[case::upper("RU", "ru")]
    #[case::region("pt-br", "pt-BR")]
    #[case::script("sr-latn-rs", "sr-Latn-RS")]
    fn language_normalizes(#[case] text: &str, #[case] expected: &str) {
        assert_eq!(language(text).as_deref(), Ok(expected));
    }
}
