//! `[[channels]]`: the Telegram chats sources post to, with their buttons, filters, template,
//! digests and quiet hours.

use super::diagnostics::{Report, Span};
use super::table::{Table, expect_int, type_error};
use super::values::{multi_line_text, read_id, regexes, timezone, unique, written_id};
use crate::quiet::{QuietHours, QuietMode};
use crate::template::PostTemplate;
use chrono_tz::Tz;
use regex::Regex;
use std::collections::{HashMap, HashSet};
use toml::de::{DeTable, DeValue};

/// Where a channel's posts go: `Username` keeps the leading `@`, as the Bot API's `chat_id` wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatRef {
    Username(String),
    Id(i64),
}

/// A share button under a Telegram post (SPEC "The Telegram post").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShareTarget {
    X,
    Facebook,
    Telegram,
    Whatsapp,
    Vk,
    Linkedin,
}

impl ShareTarget {
    /// Every target, in the order the SPEC lists them.
    pub const ALL: [ShareTarget; 6] = [
        ShareTarget::X,
        ShareTarget::Facebook,
        ShareTarget::Telegram,
        ShareTarget::Whatsapp,
        ShareTarget::Vk,
        ShareTarget::Linkedin,
    ];

    /// The name used in config.toml (`"x"`, `"facebook"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ShareTarget::X => "x",
            ShareTarget::Facebook => "facebook",
            ShareTarget::Telegram => "telegram",
            ShareTarget::Whatsapp => "whatsapp",
            ShareTarget::Vk => "vk",
            ShareTarget::Linkedin => "linkedin",
        }
    }

    /// The target named `name` in config.toml, if any.
    pub fn from_name(name: &str) -> Option<ShareTarget> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// `[[channels]]`: a Telegram chat that sources post to.
#[derive(Clone, Debug)]
pub struct Channel {
    pub id: String,
    pub chat: ChatRef,
    pub share: Vec<ShareTarget>,
    /// Like a source's `include` / `exclude`, for this channel only: a release that does not
    /// pass is neither posted nor edited here (other channels of the source still get it).
    pub include: Vec<Regex>,
    pub exclude: Vec<Regex>,
    /// The post's text, when not the default layout.
    pub template: Option<PostTemplate>,
    /// When one poll makes more than this many posts due here, one digest goes out instead.
    pub digest_over: Option<usize>,
    /// Silent hours (`quiet_hours`, `quiet_timezone`, `quiet`).
    pub quiet: Option<QuietHours>,
}

impl Channel {
    /// Whether this channel's posts may differ from the default post of its sources (a filter
    /// or a template): `herald preview` then shows channel by channel.
    pub fn customized(&self) -> bool {
        self.template.is_some() || !self.include.is_empty() || !self.exclude.is_empty()
    }

    /// Whether a release with this title and summary passes the channel's own `include` /
    /// `exclude` (see [`super::passes`]).
    pub fn admits(&self, title: &str, summary: Option<&str>) -> bool {
        super::passes(&self.include, &self.exclude, title, summary)
    }
}

const CHANNEL_KEYS: &[&str] = &[
    "id",
    "chat",
    "share",
    "include",
    "exclude",
    "template",
    "digest_over",
    "quiet_hours",
    "quiet_timezone",
    "quiet",
];

/// The valid channels, every channel id defined (see [`written_id`]), so that a source naming
/// a broken channel is not also told it does not exist, and where each valid template is
/// written (for [`check_templates`], once the sources are read).
pub(super) fn channels(
    r: &mut Report,
    root: &Table,
) -> (Vec<Channel>, HashSet<String>, HashMap<String, Span>) {
    let mut seen = HashMap::new();
    let mut defined = HashSet::new();
    let mut channels = Vec::new();
    let mut template_spans = HashMap::new();
    for t in root.array_of_tables(r, "channels") {
        t.check_keys(r, CHANNEL_KEYS);
        defined.extend(written_id(&t));
        let id = read_id(r, &t, "channel")
            .filter(|(id, span)| unique(r, &mut seen, "channel", id, span));
        let chat = chat(r, &t);
        let share = share(r, &t);
        let include = regexes(r, &t, "include");
        let exclude = regexes(r, &t, "exclude");
        let mut template_span = None;
        let template = t.string(r, "template").and_then(|(text, span)| {
            template_span = Some(span.clone());
            template(r, text, &span)
        });
        let digest_over = t
            .value("digest_over")
            .map(|_| t.count(r, "digest_over", 1, 0usize))
            .filter(|n| *n > 0);
        let fallback_zone = id
            .as_ref()
            .map_or(Tz::UTC, |(id, _)| first_source_zone(root, id));
        let quiet = quiet(r, &t, fallback_zone);
        if let (Some((id, _)), Some(chat)) = (id, chat) {
            if let (Some(span), Some(_)) = (template_span, &template) {
                template_spans.insert(id.clone(), span);
            }
            channels.push(Channel {
                id,
                chat,
                share,
                include,
                exclude,
                template,
                digest_over,
                quiet,
            });
        }
    }
    (channels, defined, template_spans)
}

/// Each channel's template rendered for the sources that post to it (issue 25): a branch on
/// the source (`source_id`, `hashtag`, `source_title`, its language or date) is checked as that
/// source's posts take it, not only as the built-in samples do. Reported at the template.
pub(super) fn check_templates(
    r: &mut Report,
    channels: &[Channel],
    spans: &HashMap<String, Span>,
    sources: &[super::Source],
) {
    for channel in channels {
        let (Some(template), Some(span)) = (&channel.template, spans.get(&channel.id)) else {
            continue;
        };
        let posting: Vec<crate::template::SampleSource> = sources
            .iter()
            .filter(|s| s.channels.contains(&channel.id))
            .map(|s| crate::template::SampleSource {
                id: &s.id,
                title: &s.title,
                language: &s.language,
                timezone: s.timezone,
            })
            .collect();
        if let Err(problem) = template.check_sources(&posting) {
            r.error(span, format!("template: {}", problem.message));
        }
    }
}

/// The timezone of the first source (in file order) that posts to channel `id`, read from the
/// document as written (sources are checked after channels); UTC when none names one.
fn first_source_zone(root: &Table, id: &str) -> Tz {
    let Some(DeValue::Array(sources)) = root.value("sources").map(|v| v.get_ref()) else {
        return Tz::UTC;
    };
    let names_channel = |t: &DeTable| match t.get("channels").map(|v| v.get_ref()) {
        Some(DeValue::Array(ids)) => ids.iter().any(|v| v.get_ref().as_str() == Some(id)),
        _ => false,
    };
    sources
        .iter()
        .filter_map(|s| match s.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        })
        .find(|t| names_channel(t))
        .and_then(|t| t.get("timezone")?.get_ref().as_str()?.parse().ok())
        .unwrap_or(Tz::UTC)
}

/// A channel's `template`, compiled and checked. Each problem is reported where it is in the
/// file when the value is written without escapes (so its text is the file's text), else at
/// the start of the value.
fn template(r: &mut Report, text: &str, span: &Span) -> Option<PostTemplate> {
    if let Err(problem) = multi_line_text("template", text) {
        r.error(span, problem);
        return None;
    }
    let problems = match PostTemplate::compile(text) {
        Ok(t) => return Some(t),
        Err(e) => e,
    };
    let start = r
        .text
        .get(span.clone())
        .and_then(|raw| template_start(raw, text));
    for mut problem in problems {
        // minijinja's words for a template that does more work than one post may take (its
        // "fuel"): say what that means for the template.
        if problem.message.contains("out of fuel") {
            problem.message = "template: it does too much work for one post (a loop runs too \
                               long, such as a range of thousands inside another loop): make \
                               it do less"
                .into();
        }
        let within = problem.offset.zip(start).map(|(offset, s)| s + offset);
        let at = within.map_or(span.clone(), |w| span.start + w..span.start + w);
        r.error(&at, problem.message);
    }
    None
}

/// Where the value `text` starts inside its TOML string `raw` (quotes included), when the
/// string holds it verbatim; `None` when escapes make the two differ.
fn template_start(raw: &str, text: &str) -> Option<usize> {
    for quote in [r#"""""#, "'''", "\"", "'"] {
        let Some(inner) = raw
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        else {
            continue;
        };
        // A newline right after an opening triple quote is not part of the value.
        let skip = match (quote.len(), inner) {
            (3, i) if i.starts_with("\r\n") => 2,
            (3, i) if i.starts_with('\n') => 1,
            _ => 0,
        };
        return (inner.get(skip..) == Some(text)).then_some(quote.len() + skip);
    }
    None
}

/// `quiet_hours`, `quiet_timezone` (default: `zone`, the first source's) and `quiet` (default
/// "silent").
fn quiet(r: &mut Report, t: &Table, zone: Tz) -> Option<QuietHours> {
    let window = t
        .string(r, "quiet_hours")
        .and_then(|(text, span)| r.check(&span, QuietHours::parse_window(text)));
    let timezone = t
        .string(r, "quiet_timezone")
        .and_then(|(text, span)| r.check(&span, timezone(text)));
    let mode = t.string(r, "quiet").and_then(|(text, span)| {
        let mode = QuietMode::from_name(text)
            .ok_or_else(|| format!("unknown quiet `{text}` (expected one of: silent, hold)"));
        r.check(&span, mode)
    });
    if t.value("quiet_hours").is_none() && !t.misspelt("quiet_hours") {
        for key in ["quiet_timezone", "quiet"] {
            if let Some(span) = t.key_span(key) {
                let message =
                    format!("`{key}` is set but `quiet_hours` (e.g. \"23:00-07:00\") is not");
                r.error(&span, message);
            }
        }
    }
    let (start, end) = window?;
    Some(QuietHours {
        start,
        end,
        timezone: timezone.unwrap_or(zone),
        mode: mode.unwrap_or(QuietMode::Silent),
    })
}

fn chat(r: &mut Report, t: &Table) -> Option<ChatRef> {
    if !t.require(r, "chat") {
        return None;
    }
    let v = t.value("chat")?;
    match v.get_ref() {
        DeValue::Integer(_) => {
            let (n, _) = expect_int(r, v, &t.place("chat"))?;
            r.check(&v.span(), chat_id(n))
        }
        DeValue::String(s) => {
            let parsed = parse_chat(s).ok_or_else(|| {
                format!(
                    "chat `{s}` must be \"@username\" or a numeric chat id such as -1001234567890"
                )
            });
            r.check(&v.span(), parsed)
        }
        other => type_error(
            r,
            v,
            &t.place("chat"),
            "a string (\"@username\") or an integer (chat id)",
            other,
        ),
    }
}

/// `"@name"` or a chat id written as a string (`"-100123"`).
fn parse_chat(text: &str) -> Option<ChatRef> {
    match text.strip_prefix('@') {
        Some(name)
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            Some(ChatRef::Username(text.to_string()))
        }
        Some(_) => None,
        None => text.parse().ok().and_then(|n| chat_id(n).ok()),
    }
}

/// A numeric chat id: any but 0, which names no chat.
fn chat_id(n: i64) -> Result<ChatRef, String> {
    if n == 0 {
        return Err(
            "chat 0 names no chat: write the channel's id (-100…) or its \"@username\"".into(),
        );
    }
    Ok(ChatRef::Id(n))
}

fn share(r: &mut Report, t: &Table) -> Vec<ShareTarget> {
    let mut targets = Vec::new();
    for (name, span) in t.strings(r, "share") {
        match ShareTarget::from_name(name) {
            Some(target) if targets.contains(&target) => {
                r.error(&span, format!("share target `{name}` is listed twice"));
            }
            Some(target) => targets.push(target),
            None => {
                let expected: Vec<_> = ShareTarget::ALL.iter().map(|t| t.name()).collect();
                let message = format!(
                    "unknown share target `{name}` (expected one of: {})",
                    expected.join(", ")
                );
                r.error(&span, message);
            }
        }
    }
    targets
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::*;

    /// Every problem of a template is listed, each at its place (only the first was).
    #[test]
    fn every_template_problem_is_listed_where_it_is() {
        let text =
            format!("{CHANNEL}template = \"{{{{ titel }}}} <div>x</div> {{{{ summery }}}}\"\n");
        let told: Vec<(usize, usize, String)> = errors(&text)
            .into_iter()
            .map(|d| {
                (
                    d.line,
                    d.col,
                    d.message.split(" (").next().unwrap_or("").to_owned(),
                )
            })
            .collect();
        assert_eq!(
            told,
            [
                (4, 16, "template: unknown field `titel`".to_owned()),
                (4, 25, "`<div>` is not a Telegram tag".to_owned()),
                (4, 41, "template: unknown field `summery`".to_owned()),
            ]
        );
    }

    #[test]
    fn chat_ids_and_public_url() {
        let text = "[general]\npublic_url = \"https://news.example.org/herald/\"\n\
                    [[channels]]\nid = \"a\"\nchat = -1001234567890\n\
                    [[channels]]\nid = \"b\"\nchat = \"-100123\"\n";
        let config = parse_str(text).expect("valid");
        assert_eq!(config.general.public_url, "https://news.example.org/herald");
        assert_eq!(config.channels[0].chat, ChatRef::Id(-1001234567890));
        assert_eq!(config.channels[1].chat, ChatRef::Id(-100123));
        for chat in ["0", "\"0\""] {
            let text = format!("[[channels]]\nid = \"a\"\nchat = {chat}\n");
            let errors = parse_str(&text).expect_err("chat 0 names no chat");
            assert!(format!("{errors:?}").contains("chat"), "{errors:?}");
        }
    }

    #[test]
    fn channel_options_parse_with_their_defaults() {
        let text = format!(
            "{CHANNEL}include = [\"visit\"]\nexclude = [\"sport\"]\ndigest_over = 10\n\
             quiet_hours = \"23:00-07:00\"\ntemplate = \"<b>{{{{ title }}}}</b>\"\n\
             [[channels]]\nid = \"d\"\nchat = \"@d\"\nquiet_hours = \"22:00-24:00\"\n\
             quiet_timezone = \"Europe/Berlin\"\nquiet = \"hold\"\n\
             [[channels]]\nid = \"e\"\nchat = \"@e\"\nquiet_hours = \"01:00-02:00\"\n\
             {FEED}timezone = \"Asia/Almaty\"\nchannels = [\"c\"]\n"
        );
        let config = parse_str(&text).unwrap_or_else(|e| panic!("{e:#?}"));
        let c = config.channel("c").expect("c");
        assert!(c.include[0].is_match("State VISIT") && c.exclude[0].is_match("sport"));
        assert_eq!(c.digest_over, Some(10));
        let template = c.template.as_ref().map(|t| t.source());
        assert_eq!(template, Some("<b>{{ title }}</b>"));
        assert!(c.customized());
        let quiet = c.quiet.as_ref().expect("quiet hours");
        assert_eq!((quiet.start, quiet.end), (23 * 60, 7 * 60));
        // Default: the zone of the first source posting to the channel, and "silent".
        assert_eq!(quiet.timezone, chrono_tz::Asia::Almaty);
        assert_eq!(quiet.mode, QuietMode::Silent);
        let d = config.channel("d").expect("d");
        let quiet = d.quiet.as_ref().expect("quiet hours");
        assert_eq!(
            (quiet.timezone, quiet.mode),
            (chrono_tz::Europe::Berlin, QuietMode::Hold)
        );
        assert!(!d.customized() && d.digest_over.is_none() && d.template.is_none());
        // No source posts to `e`: UTC.
        let e = config.channel("e").expect("e");
        assert_eq!(e.quiet.as_ref().map(|q| q.timezone), Some(Tz::UTC));
    }

    #[test]
    fn a_broken_channel_is_still_defined() {
        let text = format!("[[channels]]\nid = \"c\"\n{FEED}channels = [\"c\"]\n");
        let errors = errors(&text);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            errors[0]
                .message
                .contains("missing key `chat` in [[channels]] `c`")
        );
    }

    #[test]
    fn a_channel_with_a_malformed_id_is_still_defined() {
        let text = format!(
            "{}{FEED}channels = [\"C\"]\n",
            CHANNEL.replace("\"c\"", "\"C\"")
        );
        let errors = errors(&text);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].message.contains("channel id `C` must match"));
    }
}
