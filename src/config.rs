//! config.toml: read with spans, collect every problem with its line and column, then build the
//! runtime types (parsed cron, selectors, zones, URLs) once, so nothing fails later at 3 a.m.
//!
//! The document is parsed into toml's spanned `DeTable` and walked by hand: serde's
//! `deny_unknown_fields` would stop at the first problem, and `herald check` must list them all
//! (SPEC "Command line": `PATH:LINE:COL: message`, COL at the offending key or value).

use crate::quiet::{QuietHours, QuietMode};
use crate::schedule::Schedule;
use crate::template::PostTemplate;
use chrono_tz::Tz;
use regex::{Regex, RegexBuilder};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};
use url::Url;

/// One problem found in a config file, printed as `PATH:LINE:COL: message` (1-based).
/// The running configuration; replaced as a whole by a good edit.
pub struct LiveConfig(RwLock<Arc<Config>>);

impl LiveConfig {
    pub fn new(config: Config) -> LiveConfig {
        LiveConfig(RwLock::new(Arc::new(config)))
    }

    pub fn get(&self) -> Arc<Config> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts `config` in force for every later `get`.
    pub fn set(&self, config: Config) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            one_line(&self.path),
            self.line,
            self.col,
            one_line(&self.message)
        )
    }
}

/// `text` with control characters written as escapes (`\n`, `\u{1b}`): a diagnostic is one
/// line (SPEC `PATH:LINE:COL: message`), even when it quotes a value holding a newline.
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    let escape = |c: char| -> String {
        if c.is_control() {
            c.escape_default().collect()
        } else {
            c.to_string()
        }
    };
    text.chars().map(escape).collect::<String>().into()
}

/// The whole validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The path as given on the command line (used in diagnostics).
    pub path: PathBuf,
    pub general: General,
    pub server: Server,
    pub telegram: Telegram,
    pub channels: Vec<Channel>,
    pub sources: Vec<Source>,
    /// `[[translations]]`: groups of source ids whose releases are the same releases in other
    /// languages (each group has sources of distinct languages; a source is in one group at most).
    pub translations: Vec<TranslationGroup>,
    /// Non-fatal remarks (e.g. `insecure_tls` in use), same format as errors.
    pub warnings: Vec<Diagnostic>,
}

/// `[general]`.
#[derive(Clone, Debug)]
pub struct General {
    /// Absolute, or relative to the config file's folder already resolved.
    pub data_dir: PathBuf,
    /// Base for self links; no trailing slash.
    pub public_url: String,
    pub user_agent: String,
    /// Space kept free in `data_dir` (`min_free_mb`, default 32): below it herald takes no new
    /// releases or posts, so that the database never meets a full disk.
    pub min_free_bytes: u64,
}

/// `[general] min_free_mb` when not given.
pub const DEFAULT_MIN_FREE_MB: u64 = 32;

/// `[server]`.
#[derive(Clone, Debug)]
pub struct Server {
    pub listen: SocketAddr,
    /// Who may read `/healthz` and `/metrics` (addresses or networks); empty: everyone.
    pub monitor_allow: Vec<ipnet::IpNet>,
    /// A WebSub hub (W3C WebSub §4) that the feeds advertise and that herald pings when a feed
    /// changes; `None`: feeds name no hub and nothing is pinged.
    pub websub_hub: Option<Url>,
    /// Bounds on client connections; they apply at start (like `listen`).
    pub connections: Connections,
    /// `feed_cache_mb` in bytes: rendered feeds kept in memory, with their compressed forms, up
    /// to this much for plain feeds and as much again for filtered ones (`?limit=` …).
    pub feed_cache_bytes: usize,
}

/// `[server]` bounds on client connections (README "Limits").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connections {
    /// `max_connections`: open at once at most; when all are taken, the one idle the longest is
    /// closed for a newcomer.
    pub max: usize,
    /// `first_request_secs`: from accept to the connection's first complete request head.
    pub first_request: Duration,
    /// `idle_secs`: between requests (from the end of an answer to the next request head).
    pub idle: Duration,
    /// `send_stall_secs`: while an answer is being sent, how long the client may take nothing
    /// of it (no progress writing it) before the connection is closed.
    pub send_stall: Duration,
}

/// `[server] max_connections` when absent.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 512;
/// `[server] first_request_secs` when absent.
pub const DEFAULT_FIRST_REQUEST_SECS: u64 = 10;
/// `[server] idle_secs` when absent.
pub const DEFAULT_IDLE_SECS: u64 = 60;
/// `[[sources]] poll_deadline_secs` when absent: room for the list pages (`max_pages`, each
/// fetch cut at 30 s) and the article pages of a first poll, yet well inside a 10-minute schedule.
pub const DEFAULT_POLL_DEADLINE_SECS: u64 = 300;
/// `[server] send_stall_secs` when absent.
pub const DEFAULT_SEND_STALL_SECS: u64 = 30;
/// `[server] feed_cache_mb` when absent.
pub const DEFAULT_FEED_CACHE_MB: u32 = 32;

impl Default for Connections {
    fn default() -> Connections {
        Connections {
            max: DEFAULT_MAX_CONNECTIONS as usize,
            first_request: Duration::from_secs(DEFAULT_FIRST_REQUEST_SECS),
            idle: Duration::from_secs(DEFAULT_IDLE_SECS),
            send_stall: Duration::from_secs(DEFAULT_SEND_STALL_SECS),
        }
    }
}

/// `[telegram]`; the bot token is never here (SPEC: only `TELOXIDE_TOKEN`).
#[derive(Clone, Debug)]
pub struct Telegram {
    pub api_url: Url,
    pub admins: Vec<i64>,
    pub per_chat_per_second: u32,
    pub per_chat_per_minute: u32,
    pub global_per_second: u32,
}

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
}

/// How a source's `url` is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Html,
    Feed,
}

/// A selector with an optional `@attr` suffix: `"h3 a@href"`. An empty selector part (`"@href"`)
/// means the element itself. Without `@attr` the value is the element's text.
#[derive(Clone, Debug)]
pub struct Pick {
    pub text: String,
    pub selector: Option<scraper::Selector>,
    pub attr: Option<String>,
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

/// `[sources.list]`: how items are found on a list page.
#[derive(Clone, Debug)]
pub struct ListSelectors {
    pub item: scraper::Selector,
    pub title: Pick,
    pub link: Pick,
    pub date: Option<Pick>,
    pub date_format: Option<String>,
    pub summary: Option<Pick>,
    pub image: Option<Pick>,
}

/// `[sources.article]`: what to read from each new item's own page.
#[derive(Clone, Debug)]
pub struct ArticleSelectors {
    pub body: Option<Pick>,
    pub date: Option<Pick>,
    pub image: Option<Pick>,
}

/// `[[translations]]`: sources publishing the same releases in other languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranslationGroup {
    /// Source ids, one per language.
    pub sources: Vec<String>,
    /// `same_ids` (default false): the site gives a release the same numeric id in its link in
    /// every language, so equal ids count as evidence (never enough alone). README
    /// "Translations" says how to tell.
    pub same_ids: bool,
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

impl Config {
    /// The source with this id.
    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }

    /// The channel with this id.
    pub fn channel(&self, id: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.id == id)
    }

    /// The other sources of `source`'s `[[translations]]` group (empty when it has none).
    pub fn translations_of(&self, source: &str) -> Vec<&Source> {
        self.translation_group(source)
            .map(|group| {
                group
                    .sources
                    .iter()
                    .filter(|id| *id != source)
                    .filter_map(|id| self.source(id))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `[[translations]]` group of `source`, if any.
    pub fn translation_group(&self, source: &str) -> Option<&TranslationGroup> {
        self.translations
            .iter()
            .find(|group| group.sources.iter().any(|id| id == source))
    }
}

/// `[server] listen` when absent.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// `[telegram] api_url` when absent.
pub const DEFAULT_API_URL: &str = "https://api.telegram.org";

/// `[general] user_agent` when absent.
pub fn default_user_agent() -> String {
    format!(
        "herald/{} (+https://github.com/herald)",
        env!("CARGO_PKG_VERSION")
    )
}

/// Reads and validates `path`; on failure returns every problem found, in file order.
pub fn load(path: &Path) -> Result<Config, Vec<Diagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(path, &e))?;
    load_text(path, &text)
}

/// The problem of a config file that cannot be read (or is not UTF-8).
pub fn unreadable(path: &Path, e: &std::io::Error) -> Vec<Diagnostic> {
    vec![Diagnostic {
        path: path.display().to_string(),
        line: 1,
        col: 1,
        message: format!("cannot read config: {e}"),
    }]
}

/// Validates `text`, read from the config file `path`, as [`load`] does: relative paths are
/// resolved against the file's folder and the environment's overrides applied. (The config
/// watcher parses the very bytes it saw hold still.)
pub fn load_text(path: &Path, text: &str) -> Result<Config, Vec<Diagnostic>> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Absolute, so that messages naming `data_dir` mean the same wherever they are read.
    let base_dir = std::path::absolute(folder).unwrap_or_else(|_| folder.to_path_buf());
    let mut config = parse(path, text, &base_dir)?;
    apply_env_overrides(&mut config, |name| std::env::var(name).ok())?;
    Ok(config)
}

/// Environment variables that replace a key of the file when set and not empty (README,
/// "Docker"): a container's address and data folder belong to the image, not to the config
/// mounted into it. A relative `HERALD_DATA_DIR` is relative to the current folder, as in a
/// shell; `public_url` does not follow `HERALD_LISTEN`.
pub const ENV_OVERRIDES: [(&str, &str); 3] = [
    ("HERALD_DATA_DIR", "data_dir"),
    ("HERALD_LISTEN", "listen"),
    ("HERALD_PUBLIC_URL", "public_url"),
];

/// Applies [`ENV_OVERRIDES`], read through `var`, saying in the log which keys they replace; a
/// bad value is a problem of the config (at 1:1, naming the variable).
fn apply_env_overrides(
    config: &mut Config,
    var: impl Fn(&str) -> Option<String>,
) -> Result<(), Vec<Diagnostic>> {
    let mut problems = Vec::new();
    for (name, key) in ENV_OVERRIDES {
        let Some(text) = var(name).filter(|v| !v.is_empty()) else {
            continue;
        };
        let applied = match key {
            "data_dir" => std::path::absolute(&text)
                .map(|dir| config.general.data_dir = dir)
                .map_err(|e| format!("`{text}` is not a usable folder: {e}")),
            "listen" => text
                .parse()
                .map(|addr| config.server.listen = addr)
                .map_err(|_| {
                    format!("`{text}` is not an address with a port, e.g. `0.0.0.0:8080`")
                }),
            "public_url" => public_url(&text).map(|url| config.general.public_url = url),
            other => unreachable!("ENV_OVERRIDES names no key `{other}`"),
        };
        match applied {
            Ok(()) => tracing::info!("{key} = {text} (from {name}, in place of the config's)"),
            Err(message) => problems.push(Diagnostic {
                path: config.path.display().to_string(),
                line: 1,
                col: 1,
                message: format!("environment variable {name}: {message}"),
            }),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Validates `text` as the config file `path_as_given`, resolving relative paths against
/// `base_dir`; on failure returns every problem found, in file order.
pub fn parse(path_as_given: &Path, text: &str, base_dir: &Path) -> Result<Config, Vec<Diagnostic>> {
    let mut r = Report::new(path_as_given, text);
    let (root, syntax) = DeTable::parse_recoverable(text);
    if let Some(first) = syntax
        .iter()
        .min_by_key(|e| e.span().map_or(0, |s| s.start))
    {
        r.syntax_error(first);
        return Err(r.errors);
    }
    let empty = DeTable::new();
    let root = Table::new(root.get_ref(), 0..0, "the top level of the file".into());
    root.check_keys(&mut r, TOP_KEYS);
    let section = root.section(&mut r, "server", &empty);
    let server = server(&mut r, &section);
    let section = root.section(&mut r, "general", &empty);
    let general = general(&mut r, &section, &server, base_dir);
    let section = root.section(&mut r, "telegram", &empty);
    let telegram = telegram(&mut r, &section);
    let (channels, known) = channels(&mut r, &root);
    let (sources, defined) = sources(&mut r, &root, &known);
    let translations = translations(&mut r, &root, &sources, &defined);
    let config = Config {
        path: path_as_given.to_path_buf(),
        general,
        server,
        telegram,
        channels,
        sources,
        translations,
        warnings: Vec::new(),
    };
    r.finish(config)
}

impl Pick {
    /// Parses `"selector@attr"`. The split is at the last `@` outside `[...]` that is followed by
    /// an attribute name up to the end, so `a[href*='@x']` stays one selector.
    pub fn parse(text: &str) -> Result<Pick, String> {
        let (css, attr) = split_attr(text.trim());
        let css = css.trim();
        let selector = if css.is_empty() {
            if attr.is_none() {
                return Err("empty selector".into());
            }
            None
        } else {
            let parsed = scraper::Selector::parse(css)
                .map_err(|e| format!("invalid CSS selector `{css}`: {}", selector_problem(&e)))?;
            Some(parsed)
        };
        Ok(Pick {
            text: text.to_string(),
            selector,
            attr: attr.map(str::to_string),
        })
    }
}

/// What is wrong with a selector, in an admin's words: scraper's own text for most of these is
/// "Unexpected error occurred. Please report this to the developer" followed by a Rust enum.
fn selector_problem(e: &scraper::error::SelectorErrorKind) -> &'static str {
    use scraper::error::SelectorErrorKind as Scraper;
    use selectors::parser::SelectorParseErrorKind as Css;
    const PSEUDO_ELEMENT_NAME: &str = "`::` must be followed by the name of a pseudo-element";
    match e {
        Scraper::UnexpectedToken => {
            "a character or word where it cannot be (check brackets, quotes and punctuation)"
        }
        Scraper::EndOfLine => {
            "it ends too early: a `[`, `(` or quote is left open, or a name or value is missing \
             (after `.`, `#`, `:` or `=`)"
        }
        Scraper::InvalidAtRule | Scraper::InvalidAtRuleBody | Scraper::QualRuleInvalid => {
            "this is CSS of a style sheet, not a selector"
        }
        Scraper::TooManyNestedBlocks => "brackets are nested too deeply",
        Scraper::ExpectedColonOnPseudoElement | Scraper::ExpectedIdentityOnPseudoElement => {
            PSEUDO_ELEMENT_NAME
        }
        Scraper::UnexpectedSelectorParseError(kind) => match kind {
            Css::EmptySelector => {
                "a selector is missing (by a comma, a combinator or a bracket), or starts with a \
                 character that cannot begin one (a tag, .class, #id or [attribute])"
            }
            Css::DanglingCombinator => "a combinator (>, +, ~) must be followed by a selector",
            Css::ClassNeedsIdent => "`.` must be followed by a class name",
            Css::NoIdentForPseudo => "`:` must be followed by a pseudo-class name",
            Css::UnsupportedPseudoClassOrElement => {
                "this pseudo-class or pseudo-element is not supported (supported: :first-child, \
                 :nth-child(n), :not(…), :has(…), :is(…) and the like)"
            }
            Css::UnexpectedIdent => "a word where it cannot be",
            Css::NoQualifiedNameInAttributeSelector | Css::InvalidQualNameInAttr => {
                "`[` must be followed by an attribute name, e.g. [href] or [lang='en']"
            }
            Css::UnexpectedTokenInAttributeSelector | Css::BadValueInAttr => {
                "an attribute test is [name], or [name=value] with =, ~=, |=, ^=, $= or *=, the \
                 value a word or quoted, e.g. [lang='en']"
            }
            Css::ExpectedNamespace
            | Css::ExpectedBarInAttr
            | Css::ExplicitNamespaceUnexpectedToken => {
                "`|` names an XML namespace, which selectors for HTML pages do not use"
            }
            Css::NonCompoundSelector
            | Css::NonPseudoElementAfterSlotted
            | Css::InvalidPseudoElementAfterSlotted
            | Css::InvalidPseudoElementInsideWhere
            | Css::InvalidState => {
                "a pseudo-class or pseudo-element is used where it is not allowed"
            }
            Css::PseudoElementExpectedColon | Css::PseudoElementExpectedIdent => {
                PSEUDO_ELEMENT_NAME
            }
        },
    }
}

/// Splits `h3 a@href` into `("h3 a", Some("href"))`; see [`Pick::parse`].
fn split_attr(text: &str) -> (&str, Option<&str>) {
    let mut depth = 0usize;
    let mut quote = None;
    let mut split = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '@') if depth == 0 && is_attr_name(&text[i + 1..]) => split = Some(i),
            _ => {}
        }
    }
    match split {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    }
}

/// An HTML attribute name as selectors are written: `href`, `data-src`, `xlink:href`.
fn is_attr_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
}

impl Schedule {
    /// Parses a cron expression whose first field is seconds (6 fields, or 7 with a year).
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        use croner::parser::{CronParser, Seconds, Year};
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if fields.is_empty() {
            return Err(
                "schedule is empty: write a cron with seconds, e.g. `0 */10 * * * *`".into(),
            );
        }
        // A 5-field cron is the classic crontab shape; croner would read it with seconds = 0
        // silently, or reject it vaguely, so say exactly what to write instead.
        if fields.len() == 5 {
            return Err(format!(
                "cron `{expr}` has 5 fields; herald's schedules start with a seconds field: write `0 {}`",
                fields.join(" ")
            ));
        }
        let nickname = fields.len() == 1 && expr.trim_start().starts_with('@');
        if !nickname && !(6..=7).contains(&fields.len()) {
            return Err(format!(
                "cron `{expr}` has {} fields; write 6 (second minute hour day month weekday), \
                 or 7 with a year",
                fields.len()
            ));
        }
        if !nickname {
            cron_steps(expr, &fields)?;
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Required)
            .year(Year::Optional)
            .build();
        let cron = parser
            .parse(expr)
            .map_err(|e| format!("invalid cron `{expr}`: {e}"))?;
        Ok(Schedule::new(expr, cron))
    }
}

/// The fields of a cron with seconds, in order, and the values each takes (croner's ranges,
/// except that weekdays count 0-6: croner's 7 is Sunday again).
const CRON_FIELDS: [(&str, u32, u32); 7] = [
    ("seconds", 0, 59),
    ("minutes", 0, 59),
    ("hours", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("weekday", 0, 6),
    ("year", 1, 5000),
];

/// Refuses a step (`*/N`, `A-B/N`, `A/N`) of 0 or longer than its field: croner refuses `*/0`
/// in words of its own, and takes `*/70` in the minutes, which fires at minute 0 only.
fn cron_steps(expr: &str, fields: &[&str]) -> Result<(), String> {
    for (field, (name, min, max)) in fields.iter().zip(CRON_FIELDS) {
        for part in field.split(',') {
            // Other shapes of step (`*/x`) are left to croner to refuse.
            let Some(Ok(step)) = part.split_once('/').map(|(_, n)| n.parse::<u32>()) else {
                continue;
            };
            let most = max - min;
            if !(1..=most).contains(&step) {
                return Err(format!(
                    "invalid cron `{expr}`: step {step} in the {name} field is out of range (1-{most})"
                ));
            }
        }
    }
    Ok(())
}

/// A schedule whose instants lie further apart than this fires "less than once a year", which
/// `check` warns about: 366 days, so that a yearly schedule passes in a leap year too.
const RARE_GAP: chrono::TimeDelta = chrono::TimeDelta::days(366);

/// How `schedule` fires from `now` on, read in `tz`: never again is an error (30 February);
/// a warning when it fires less than once a year (29 February) or only once or twice more (a
/// year field). Judged by its next three instants.
fn schedule_frequency(
    schedule: &Schedule,
    tz: Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<String>, String> {
    let expr = &schedule.expr;
    let mut instants = Vec::new();
    let mut after = now;
    while instants.len() < 3 {
        let Some(next) = crate::schedule::next_fire(schedule, tz, after) else {
            break;
        };
        instants.push(next);
        after = next;
    }
    let show = |t: &chrono::DateTime<chrono::Utc>| crate::timefmt::show(*t, tz);
    match instants.as_slice() {
        [] => Err(format!(
            "cron `{expr}` never fires: no date matches it (such as 30 February, or a year past)"
        )),
        [once] => Ok(Some(format!(
            "cron `{expr}` fires once more, at {}, and then never",
            show(once)
        ))),
        [first, last] => Ok(Some(format!(
            "cron `{expr}` fires twice more, at {} and {}, and then never",
            show(first),
            show(last)
        ))),
        [first, second, third] if *second - *first > RARE_GAP || *third - *second > RARE_GAP => {
            Ok(Some(format!(
                "cron `{expr}` fires less than once a year (next at {}, then {})",
                show(first),
                show(second)
            )))
        }
        _ => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// Collecting problems

type Span = Range<usize>;
type Value<'i> = Spanned<DeValue<'i>>;

/// Every problem found so far, with what is needed to turn byte offsets into line:col.
struct Report<'a> {
    path: String,
    text: &'a str,
    line_starts: Vec<usize>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl<'a> Report<'a> {
    fn new(path: &Path, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Report {
            path: path.display().to_string(),
            text,
            line_starts,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset; never panics.
    fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        (line, self.text[start..offset].chars().count() + 1)
    }

    fn line(&self, offset: usize) -> usize {
        self.position(offset).0
    }

    fn diagnostic(&self, span: &Span, message: String) -> Diagnostic {
        let (line, col) = self.position(span.start);
        Diagnostic {
            path: self.path.clone(),
            line,
            col,
            message,
        }
    }

    fn error(&mut self, span: &Span, message: impl Into<String>) {
        self.errors.push(self.diagnostic(span, message.into()));
    }

    /// A remark that does not stop the config, printed `PATH:LINE:COL: warning: message` (as
    /// `check` prints its other warnings).
    fn warn(&mut self, span: &Span, message: impl Into<String>) {
        let message = format!("warning: {}", message.into());
        self.warnings.push(self.diagnostic(span, message));
    }

    /// Keeps `Ok` values; reports `Err` messages at `span`.
    fn check<T>(&mut self, span: &Span, result: Result<T, String>) -> Option<T> {
        result.map_err(|m| self.error(span, m)).ok()
    }

    fn syntax_error(&mut self, e: &toml::de::Error) {
        let span = e.span().unwrap_or(0..0);
        let message = match (e.message(), self.text.get(span.clone())) {
            ("duplicate key", Some(key)) if !key.is_empty() => format!("duplicate key `{key}`"),
            (m, _) => format!("invalid TOML: {m}"),
        };
        self.error(&span, message);
    }

    fn finish(mut self, mut config: Config) -> Result<Config, Vec<Diagnostic>> {
        // Sections are checked one after another, not in file order: sort (stably) at the end.
        let key = |d: &Diagnostic| (d.line, d.col);
        self.errors.sort_by_key(key);
        self.warnings.sort_by_key(key);
        if self.errors.is_empty() {
            config.warnings = self.warnings;
            Ok(config)
        } else {
            Err(self.errors)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading one table

/// One TOML table being checked: its entries, where its header is, and how messages name it.
struct Table<'t, 'i> {
    entries: &'t DeTable<'i>,
    span: Span,
    name: String,
}

impl<'t, 'i> Table<'t, 'i> {
    fn new(entries: &'t DeTable<'i>, span: Span, name: String) -> Self {
        Table {
            entries,
            span,
            name,
        }
    }

    /// Entries in file order (the map itself may be sorted by key).
    fn in_order(&self) -> Vec<(&'t Spanned<DeString<'i>>, &'t Value<'i>)> {
        let mut entries: Vec<_> = self.entries.iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        entries
    }

    fn check_keys(&self, r: &mut Report, allowed: &[&str]) {
        for (key, _) in self.in_order() {
            let k: &str = key.get_ref();
            if allowed.contains(&k) {
                continue;
            }
            let hint = closest(k, allowed.iter().copied())
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            let expected = allowed.join(", ");
            let message = format!(
                "unknown key `{k}` in {} ({hint}expected one of: {expected})",
                self.name
            );
            r.error(&key.span(), message);
        }
    }

    fn value(&self, key: &str) -> Option<&'t Value<'i>> {
        self.entries.get(key)
    }

    fn key_span(&self, key: &str) -> Option<Span> {
        self.entries.get_key_value(key).map(|(k, _)| k.span())
    }

    /// Reports a missing required key at this table's header.
    fn require(&self, r: &mut Report, key: &str) -> bool {
        let present = self.entries.contains_key(key);
        if !present {
            r.error(&self.span, format!("missing key `{key}` in {}", self.name));
        }
        present
    }

    fn string(&self, r: &mut Report, key: &str) -> Option<(&'t str, Span)> {
        expect_str(r, self.value(key)?)
    }

    fn required_str(&self, r: &mut Report, key: &str) -> Option<(&'t str, Span)> {
        if self.require(r, key) {
            self.string(r, key)
        } else {
            None
        }
    }

    fn integer(&self, r: &mut Report, key: &str) -> Option<(i64, Span)> {
        expect_int(r, self.value(key)?)
    }

    /// An integer of at least `min` that fits `T`, or `default` when absent (or wrong: reported).
    fn count<T: TryFrom<i64>>(&self, r: &mut Report, key: &str, min: i64, default: T) -> T {
        let Some((n, span)) = self.integer(r, key) else {
            return default;
        };
        if n < min {
            let want = if min > 0 {
                "a positive integer"
            } else {
                "zero or more"
            };
            r.error(&span, format!("`{key}` must be {want}, found {n}"));
            return default;
        }
        T::try_from(n).unwrap_or_else(|_| {
            r.error(&span, format!("`{key}` = {n} is too large"));
            default
        })
    }

    fn boolean(&self, r: &mut Report, key: &str) -> Option<(bool, Span)> {
        let v = self.value(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some((*b, v.span())),
            other => type_error(r, v, "a boolean (true or false)", other),
        }
    }

    fn array(&self, r: &mut Report, key: &str) -> Option<&'t [Value<'i>]> {
        let v = self.value(key)?;
        match v.get_ref() {
            DeValue::Array(a) => Some(a),
            other => type_error(r, v, "an array", other),
        }
    }

    /// The strings of an array; elements of another type are reported and skipped.
    fn strings(&self, r: &mut Report, key: &str) -> Vec<(&'t str, Span)> {
        let items = self.array(r, key).unwrap_or_default();
        items.iter().filter_map(|v| expect_str(r, v)).collect()
    }

    fn table(&self, r: &mut Report, key: &str, name: String) -> Option<Table<'t, 'i>> {
        let v = self.value(key)?;
        match v.get_ref() {
            DeValue::Table(t) => Some(Table::new(t, v.span(), name)),
            other => type_error(r, v, "a table", other),
        }
    }

    /// An optional `[key]` section, or an empty one when absent.
    fn section(&self, r: &mut Report, key: &str, empty: &'t DeTable<'i>) -> Table<'t, 'i> {
        let name = format!("[{key}]");
        self.table(r, key, name.clone())
            .unwrap_or_else(|| Table::new(empty, 0..0, name))
    }

    /// The tables of `[[key]]`, each named by its `id` (or its position when it has none).
    fn array_of_tables(&self, r: &mut Report, key: &str) -> Vec<Table<'t, 'i>> {
        let Some(v) = self.value(key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            let found = v.get_ref().type_str();
            let message = format!(
                "`{key}` must be an array of tables, written [[{key}]]; found {}",
                article(found)
            );
            r.error(&v.span(), message);
            return Vec::new();
        };
        let mut tables = Vec::new();
        for (n, item) in items.iter().enumerate() {
            match item.get_ref() {
                DeValue::Table(t) => {
                    let name = match t.get("id").and_then(|id| id.get_ref().as_str()) {
                        Some(id) => format!("[[{key}]] `{id}`"),
                        None => format!("[[{key}]] #{}", n + 1),
                    };
                    tables.push(Table::new(t, item.span(), name));
                }
                other => {
                    type_error::<()>(r, item, "a table", other);
                }
            }
        }
        tables
    }

    fn pick(&self, r: &mut Report, key: &str) -> Option<Pick> {
        let (text, span) = self.string(r, key)?;
        r.check(&span, Pick::parse(text))
    }

    fn required_pick(&self, r: &mut Report, key: &str) -> Option<Pick> {
        if self.require(r, key) {
            self.pick(r, key)
        } else {
            None
        }
    }
}

fn expect_str<'t>(r: &mut Report, v: &'t Value<'_>) -> Option<(&'t str, Span)> {
    match v.get_ref() {
        DeValue::String(s) => Some((s.as_ref(), v.span())),
        other => type_error(r, v, "a string", other),
    }
}

fn expect_int(r: &mut Report, v: &Value<'_>) -> Option<(i64, Span)> {
    match v.get_ref() {
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Some((n, v.span())),
            Err(_) => {
                r.error(&v.span(), format!("integer {i} does not fit in 64 bits"));
                None
            }
        },
        other => type_error(r, v, "an integer", other),
    }
}

fn type_error<T>(r: &mut Report, v: &Value<'_>, expected: &str, found: &DeValue<'_>) -> Option<T> {
    let found = article(found.type_str());
    r.error(&v.span(), format!("expected {expected}, found {found}"));
    None
}

/// "integer" -> "an integer".
fn article(type_name: &str) -> String {
    let an = type_name.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {type_name}", if an { "an" } else { "a" })
}

/// The candidate nearest to a misspelt `word`, when it is near enough to be a likely typo.
fn closest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let word = word.to_lowercase();
    // One slip in a short word, two in a longer one; more is a different word.
    let limit = if word.chars().count() <= 4 { 1 } else { 2 };
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance in characters, a swap of two neighbours counting as one edit ("titel").
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // rows[i][j]: distance between a[..i] and b[..j] (optimal string alignment).
    let mut rows = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

// ---------------------------------------------------------------------------------------------
// Sections

const TOP_KEYS: &[&str] = &[
    "general",
    "server",
    "telegram",
    "channels",
    "sources",
    "translations",
];
const TRANSLATION_KEYS: &[&str] = &["sources", "same_ids"];
const GENERAL_KEYS: &[&str] = &["data_dir", "public_url", "user_agent", "min_free_mb"];
const SERVER_KEYS: &[&str] = &[
    "listen",
    "monitor_allow",
    "websub_hub",
    "max_connections",
    "first_request_secs",
    "idle_secs",
    "send_stall_secs",
    "feed_cache_mb",
];
const TELEGRAM_KEYS: &[&str] = &[
    "api_url",
    "admins",
    "per_chat_per_second",
    "per_chat_per_minute",
    "global_per_second",
];
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
const LIST_KEYS: &[&str] = &[
    "item",
    "title",
    "link",
    "date",
    "date_format",
    "summary",
    "image",
];
const ARTICLE_KEYS: &[&str] = &["body", "date", "image"];

fn server(r: &mut Report, t: &Table) -> Server {
    t.check_keys(r, SERVER_KEYS);
    let default: SocketAddr = DEFAULT_LISTEN
        .parse()
        .expect("the default address is valid");
    let listen = t.string(r, "listen").and_then(|(text, span)| {
        let parsed = text.parse().map_err(|_| {
            format!("listen `{text}` is not an address with a port, e.g. `127.0.0.1:8080`")
        });
        r.check(&span, parsed)
    });
    let monitor_allow = t
        .strings(r, "monitor_allow")
        .into_iter()
        .filter_map(|(text, span)| {
            let parsed = text
                .parse::<ipnet::IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    format!(
                        "monitor_allow `{text}` is not an address or network, e.g. `10.0.0.0/8`"
                    )
                });
            r.check(&span, parsed)
        })
        .collect();
    let websub_hub = t
        .string(r, "websub_hub")
        .and_then(|(text, span)| r.check(&span, http_url("websub_hub", text)));
    let max: u32 = t.count(r, "max_connections", 1, DEFAULT_MAX_CONNECTIONS);
    let first_request = t.count(r, "first_request_secs", 1, DEFAULT_FIRST_REQUEST_SECS);
    let idle = t.count(r, "idle_secs", 1, DEFAULT_IDLE_SECS);
    let send_stall = t.count(r, "send_stall_secs", 1, DEFAULT_SEND_STALL_SECS);
    let feed_cache_mb: u32 = t.count(r, "feed_cache_mb", 1, DEFAULT_FEED_CACHE_MB);
    Server {
        listen: listen.unwrap_or(default),
        monitor_allow,
        websub_hub,
        connections: Connections {
            max: max as usize,
            first_request: Duration::from_secs(first_request),
            idle: Duration::from_secs(idle),
            send_stall: Duration::from_secs(send_stall),
        },
        feed_cache_bytes: (feed_cache_mb as usize).saturating_mul(1024 * 1024),
    }
}

fn general(r: &mut Report, t: &Table, server: &Server, base_dir: &Path) -> General {
    t.check_keys(r, GENERAL_KEYS);
    let data_dir = match t.string(r, "data_dir") {
        Some(("", span)) => {
            r.error(&span, "`data_dir` is empty: name a folder, e.g. \"data\"");
            PathBuf::new()
        }
        Some((dir, _)) => base_dir.join(dir),
        None => base_dir.join("data"),
    };
    let public_url = match t.string(r, "public_url") {
        Some((text, span)) => r.check(&span, public_url(text)).unwrap_or_default(),
        None => format!("http://{}", server.listen),
    };
    let user_agent = match t.string(r, "user_agent") {
        Some((text, span)) => r.check(&span, header_value(text)).unwrap_or_default(),
        None => default_user_agent(),
    };
    let min_free_mb: u64 = t.count(r, "min_free_mb", 0, DEFAULT_MIN_FREE_MB);
    General {
        data_dir,
        public_url,
        user_agent,
        min_free_bytes: min_free_mb.saturating_mul(1024 * 1024),
    }
}

/// An absolute http(s) base URL, without its trailing slash so that `{base}/feeds/..` works.
fn public_url(text: &str) -> Result<String, String> {
    let url = http_url("public_url", text)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "`public_url` `{text}` must not have a query or fragment"
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// An absolute http or https URL with a host.
fn http_url(key: &str, text: &str) -> Result<Url, String> {
    match Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(url),
        Ok(_) => Err(format!(
            "`{key}` must be an http:// or https:// URL, found `{text}`"
        )),
        Err(e) => Err(format!(
            "`{key}` `{text}` is not a valid absolute URL ({e}); write it in full, like https://example.org/news"
        )),
    }
}

fn header_value(text: &str) -> Result<String, String> {
    reqwest::header::HeaderValue::from_str(text)
        .map(|_| text.to_string())
        .map_err(|_| format!("`{text}` is not a valid HTTP header value (no control characters)"))
}

fn telegram(r: &mut Report, t: &Table) -> Telegram {
    t.check_keys(r, TELEGRAM_KEYS);
    let default_api = Url::parse(DEFAULT_API_URL).expect("the default Bot API URL is valid");
    let api_url = t
        .string(r, "api_url")
        .and_then(|(text, span)| r.check(&span, http_url("api_url", text)));
    let admins = t.array(r, "admins").unwrap_or_default();
    let admins = admins
        .iter()
        .filter_map(|v| expect_int(r, v))
        .map(|(n, _)| n)
        .collect();
    // SPEC "Guarantees": Telegram's own limits are the defaults.
    Telegram {
        api_url: api_url.unwrap_or(default_api),
        admins,
        per_chat_per_second: t.count(r, "per_chat_per_second", 1, 1),
        per_chat_per_minute: t.count(r, "per_chat_per_minute", 1, 20),
        global_per_second: t.count(r, "global_per_second", 1, 30),
    }
}

/// `[a-z0-9-]+`: ids end up in URLs (`/feeds/{id}.rss`) and hashtags.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The table's `id`, checked for shape; `what` is "source" or "channel".
fn read_id(r: &mut Report, t: &Table, what: &str) -> Option<(String, Span)> {
    let (id, span) = t.required_str(r, "id")?;
    if !valid_id(id) {
        r.error(&span, format!("{what} id `{id}` must match [a-z0-9-]+"));
        return None;
    }
    Some((id.to_string(), span))
}

/// Records the first line of each id; reports later ones as duplicates.
fn unique(
    r: &mut Report,
    seen: &mut HashMap<String, usize>,
    what: &str,
    id: &str,
    span: &Span,
) -> bool {
    if let Some(first) = seen.get(id) {
        let message = format!("duplicate {what} id `{id}` (first defined at line {first})");
        r.error(span, message);
        return false;
    }
    seen.insert(id.to_string(), r.line(span.start));
    true
}

/// The `id` of a `[[sources]]` or `[[channels]]` entry as written, when it is a string: what
/// other entries may name it by, whatever else is wrong with it (or with the id itself).
fn written_id(t: &Table) -> Option<String> {
    t.value("id")?.get_ref().as_str().map(str::to_string)
}

/// The valid channels, and every channel id defined (see [`written_id`]), so that a source naming
/// a broken channel is not also told it does not exist.
fn channels(r: &mut Report, root: &Table) -> (Vec<Channel>, HashSet<String>) {
    let mut seen = HashMap::new();
    let mut defined = HashSet::new();
    let mut channels = Vec::new();
    for t in root.array_of_tables(r, "channels") {
        t.check_keys(r, CHANNEL_KEYS);
        defined.extend(written_id(&t));
        let id = read_id(r, &t, "channel")
            .filter(|(id, span)| unique(r, &mut seen, "channel", id, span));
        let chat = chat(r, &t);
        let share = share(r, &t);
        let include = regexes(r, &t, "include");
        let exclude = regexes(r, &t, "exclude");
        let template = t
            .string(r, "template")
            .and_then(|(text, span)| template(r, text, &span));
        let digest_over = t
            .value("digest_over")
            .map(|_| t.count(r, "digest_over", 1, 0usize))
            .filter(|n| *n > 0);
        let fallback_zone = id
            .as_ref()
            .map_or(Tz::UTC, |(id, _)| first_source_zone(root, id));
        let quiet = quiet(r, &t, fallback_zone);
        if let (Some((id, _)), Some(chat)) = (id, chat) {
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
    (channels, defined)
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

/// A channel's `template`, compiled and checked. A problem is reported where it is in the file
/// when the value is written without escapes (so its text is the file's text), else at the
/// start of the value.
fn template(r: &mut Report, text: &str, span: &Span) -> Option<PostTemplate> {
    let problem = match PostTemplate::compile(text) {
        Ok(t) => return Some(t),
        Err(e) => e,
    };
    let within = problem
        .offset
        .and_then(|offset| Some(template_start(r.text.get(span.clone())?, text)? + offset));
    let at = within.map_or(span.clone(), |w| span.start + w..span.start + w);
    r.error(&at, problem.message);
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
    if t.value("quiet_hours").is_none() {
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
        DeValue::Integer(_) => expect_int(r, v).map(|(n, _)| ChatRef::Id(n)),
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
        None => text.parse().ok().map(ChatRef::Id),
    }
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

/// The valid sources, and every source id defined (see [`written_id`]), so that a translation
/// group naming a broken source is not also told it does not exist.
fn sources(
    r: &mut Report,
    root: &Table,
    channels: &HashSet<String>,
) -> (Vec<Source>, HashSet<String>) {
    let mut seen = HashMap::new();
    let mut defined = HashSet::new();
    let mut sources = Vec::new();
    for t in root.array_of_tables(r, "sources") {
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
        sources.extend(source(r, &t, id, channels));
    }
    (sources, defined)
}

/// `[[translations]]`: each group names at least two defined sources, of distinct languages, and
/// a source belongs to one group at most (a release has one translation per language). A group
/// naming a source that is `defined` but broken (reported already) is checked as far as it can
/// be, and not kept.
fn translations(
    r: &mut Report,
    root: &Table,
    sources: &[Source],
    defined: &HashSet<String>,
) -> Vec<TranslationGroup> {
    let mut grouped: HashMap<String, usize> = HashMap::new();
    let mut groups = Vec::new();
    for t in root.array_of_tables(r, "translations") {
        t.check_keys(r, TRANSLATION_KEYS);
        if !t.require(r, "sources") {
            continue;
        }
        let mut group: Vec<String> = Vec::new();
        let mut languages: HashMap<String, String> = HashMap::new();
        let mut ok = true;
        let same_ids = t.boolean(r, "same_ids").is_some_and(|(on, _)| on);
        for (id, span) in t.strings(r, "sources") {
            if !defined.contains(id) {
                r.error(
                    &span,
                    format!(
                        "[[translations]] names source `{id}`, which is not defined in [[sources]]"
                    ),
                );
                ok = false;
                continue;
            }
            if group.iter().any(|g| g == id) {
                r.error(&span, format!("[[translations]] names source `{id}` twice"));
                ok = false;
                continue;
            }
            if let Some(line) = grouped.get(id) {
                r.error(
                    &span,
                    format!(
                        "source `{id}` is already in the [[translations]] group at line {line}"
                    ),
                );
                ok = false;
                continue;
            }
            match sources.iter().find(|s| s.id == id) {
                // Broken, and said so at the source: its language may be unknown.
                None => ok = false,
                Some(source) => {
                    if let Some(other) = languages.get(&source.language) {
                        r.error(
                            &span,
                            format!(
                                "[[translations]]: `{id}` and `{other}` are both in language `{}`; a group links one source per language",
                                source.language
                            ),
                        );
                        ok = false;
                        continue;
                    }
                    languages.insert(source.language.clone(), id.to_string());
                }
            }
            group.push(id.to_string());
        }
        let line = r.line(t.span.start);
        if ok && group.len() < 2 {
            r.error(
                &t.span,
                "[[translations]] needs at least two sources, e.g. sources = [\"site-en\", \"site-ru\"]",
            );
            continue;
        }
        for id in &group {
            grouped.insert(id.clone(), line);
        }
        if ok {
            groups.push(TranslationGroup {
                sources: group,
                same_ids,
            });
        }
    }
    groups
}

/// One `[[sources]]` table; `id` was read (and reported on) by the caller.
fn source(
    r: &mut Report,
    t: &Table,
    id: Option<(String, Span)>,
    channels: &HashSet<String>,
) -> Option<Source> {
    t.check_keys(r, SOURCE_KEYS);
    // Messages name the source by its id as written, even a malformed one.
    let label = match t.value("id").map(|v| v.get_ref()) {
        Some(DeValue::String(id)) => id.to_string(),
        _ => "without an id".to_string(),
    };
    let title = t.string(r, "title").map(|(s, _)| s.to_string());
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
    let list = list_section(r, t, kind, &label);
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
        if on && id_pattern.is_none() && t.value("id_pattern").is_none() {
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

fn timezone(text: &str) -> Result<Tz, String> {
    text.parse().map_err(|_| {
        let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
        let hint = closest(text, names)
            .map(|name| format!(" (did you mean `{name}`?)"))
            .unwrap_or_default();
        format!("unknown timezone `{text}`{hint}; use an IANA name such as `Asia/Almaty` or `UTC`")
    })
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
        None if t.value("kind").is_some() => None,
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

/// `[sources.list]`: required for `kind = "html"`, meaningless for `kind = "feed"`.
fn list_section(
    r: &mut Report,
    t: &Table,
    kind: Option<SourceKind>,
    label: &str,
) -> Option<ListSelectors> {
    let name = format!("[sources.list] of source `{label}`");
    let list = t.table(r, "list", name);
    match (kind, &list, t.key_span("list")) {
        (Some(SourceKind::Feed), _, Some(span)) => {
            let message = format!(
                "source `{label}` has kind = \"feed\": [sources.list] applies only to kind = \"html\""
            );
            r.error(&span, message);
        }
        (Some(SourceKind::Html), None, None) => {
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

fn list_selectors(r: &mut Report, t: &Table) -> Option<ListSelectors> {
    t.check_keys(r, LIST_KEYS);
    let item = t
        .required_str(r, "item")
        .and_then(|(text, span)| r.check(&span, item_selector(text)));
    let title = t.required_pick(r, "title");
    let link = t.required_pick(r, "link");
    let date = t.pick(r, "date");
    let date_format = t.string(r, "date_format").and_then(|(text, span)| {
        if t.value("date").is_none() {
            r.error(
                &span,
                "`date_format` is set but `date` (where the date is read) is not",
            );
        }
        r.check(&span, date_format(text))
    });
    // Read before the `?`s below, so that their problems are reported too.
    let summary = t.pick(r, "summary");
    let image = t.pick(r, "image");
    Some(ListSelectors {
        item: item?,
        title: title?,
        link: link?,
        date,
        date_format,
        summary,
        image,
    })
}

/// `item` selects elements, so an `@attr` suffix makes no sense there.
fn item_selector(text: &str) -> Result<scraper::Selector, String> {
    let pick = Pick::parse(text)?;
    match (pick.selector, pick.attr) {
        (Some(selector), None) => Ok(selector),
        (_, Some(attr)) => Err(format!(
            "`item` selects elements, not values: drop `@{attr}` from `{text}`"
        )),
        (None, None) => Err("empty selector".into()),
    }
}

/// A chrono strftime format that names at least some part of a date.
fn date_format(text: &str) -> Result<String, String> {
    use chrono::format::{Fixed, Item, Numeric, StrftimeItems};
    let mut has_date = false;
    for item in StrftimeItems::new(text) {
        match item {
            Item::Error => {
                return Err(format!(
                    "date_format `{text}` is not a valid strftime format (e.g. `%d %B %Y`)"
                ));
            }
            Item::Numeric(
                Numeric::Year
                | Numeric::YearDiv100
                | Numeric::YearMod100
                | Numeric::IsoYear
                | Numeric::Month
                | Numeric::Day
                | Numeric::Ordinal
                | Numeric::Timestamp,
                _,
            )
            | Item::Fixed(
                Fixed::ShortMonthName | Fixed::LongMonthName | Fixed::RFC2822 | Fixed::RFC3339,
            ) => {
                has_date = true;
            }
            _ => {}
        }
    }
    if has_date {
        Ok(text.to_string())
    } else {
        Err(format!(
            "date_format `{text}` has no date in it: use %d, %m or %B, %Y (e.g. `%d %B %Y`)"
        ))
    }
}

fn article_selectors(r: &mut Report, t: &Table) -> ArticleSelectors {
    t.check_keys(r, ARTICLE_KEYS);
    ArticleSelectors {
        body: t.pick(r, "body"),
        date: t.pick(r, "date"),
        image: t.pick(r, "image"),
    }
}

/// The source's channel ids; each must name a `[[channels]]` entry, once.
fn source_channels(r: &mut Report, t: &Table, label: &str, known: &HashSet<String>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for (id, span) in t.strings(r, "channels") {
        if !known.contains(id) {
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

/// `include` / `exclude`: words or regexes, matched case-insensitively.
fn regexes(r: &mut Report, t: &Table, key: &str) -> Vec<Regex> {
    let patterns = t.strings(r, key);
    let compiled = patterns
        .into_iter()
        .filter_map(|(text, span)| r.check(&span, config_regex(key, text, true)));
    compiled.collect()
}

/// A regex of the config; its error is one line naming the key: regex's own text draws the
/// pattern again over several lines with a caret under the fault.
fn config_regex(key: &str, text: &str, case_insensitive: bool) -> Result<Regex, String> {
    let built = RegexBuilder::new(text)
        .case_insensitive(case_insensitive)
        .build();
    built.map_err(|e| {
        let problem = regex_problem(text, case_insensitive, &e);
        format!("`{key}`: invalid regex `{text}`: {problem}")
    })
}

/// What is wrong with `text`, which regex refused: the syntax error, typed, from regex's own
/// parser, with a hint for the usual slips.
fn regex_problem(text: &str, case_insensitive: bool, e: &regex::Error) -> String {
    use regex_syntax::ast::ErrorKind as Ast;
    if let regex::Error::CompiledTooBig(limit) = e {
        return format!("it is too large once compiled (over {limit} bytes): make it simpler");
    }
    let parsed = regex_syntax::ParserBuilder::new()
        .case_insensitive(case_insensitive)
        .build()
        .parse(text);
    match parsed {
        Err(regex_syntax::Error::Parse(e)) => match e.kind() {
            Ast::GroupUnclosed => "unclosed group: a `(` has no `)`".into(),
            Ast::GroupUnopened => "a `)` has no `(` before it".into(),
            Ast::ClassUnclosed => "unclosed class: a `[` has no `]`".into(),
            Ast::RepetitionMissing => "`*`, `+`, `?` or `{n}` has nothing before it to repeat \
                (to match the character itself, put a backslash before it, e.g. `\\+`)"
                .into(),
            Ast::EscapeUnrecognized => {
                "unknown escape sequence (a backslash itself is written `\\\\`)".into()
            }
            kind => kind.to_string(),
        },
        Err(regex_syntax::Error::Translate(e)) => e.kind().to_string(),
        // Not a syntax error, or one of a kind added later: the last line of regex's text.
        _ => e
            .to_string()
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_string(),
    }
}

/// `image_rewrite = [PATTERN, REPLACEMENT]`.
fn image_rewrite(r: &mut Report, t: &Table) -> Option<ImageRewrite> {
    let span = t.value("image_rewrite")?.span();
    match t.strings(r, "image_rewrite").as_slice() {
        [(pattern, pattern_span), (replacement, _)] => {
            let pattern = r.check(pattern_span, config_regex("image_rewrite", pattern, false))?;
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
        let value = expect_str(r, v).and_then(|(text, span)| r.check(&span, header_value(text)));
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
    use rstest::rstest;

    /// The config.toml block of SPEC.md, verbatim.
    const SPEC_EXAMPLE: &str = r#"[general]
data_dir   = "data"                      # sled database lives here
public_url = "http://127.0.0.1:8080"     # absolute base for self links in feeds, OPML, index page
user_agent = "herald (+https://example.org/bot)"

[server]
listen = "127.0.0.1:8080"

[telegram]
api_url = "https://api.telegram.org"     # a local Bot API server, or a test double, may be named here
admins  = [123456789]                    # user ids allowed to use admin commands

[[channels]]
id    = "akorda-en"                      # referenced by sources
chat  = "@akorda_news_en"                # "@username" (string) or a numeric chat id (integer, e.g. -1001234567890)
share = ["x", "facebook", "telegram"]    # share buttons in this order; also "whatsapp", "vk", "linkedin"

[[sources]]
id        = "akorda-en"                  # [a-z0-9-]+, unique; feed URLs use it; "all" is reserved
title     = "Akorda — press releases"
url       = "https://www.akorda.kz/en/events"   # list page; relative links resolve against it
schedule  = "0 */10 * * * *"             # cron with seconds field, read in `timezone`
timezone  = "Asia/Almaty"                # also the zone of dates printed without one
language  = "en"                         # BCP 47: "en", "ru", "kk" ("kz" is accepted for "kk"); feeds write "kk"
channels  = ["akorda-en"]                # may be empty: feed only
backfill  = 1                            # on the very first poll, post only this many newest items
kind      = "html"                       # "html" (selectors below) or "feed" (url is RSS/Atom/JSON Feed)

[sources.list]                           # how to find items on the list page
item    = "div.card"                     # one element per release
title   = "h3 a"                         # text of the first match
link    = "h3 a@href"                    # "@attr" reads an attribute; relative URLs are resolved
date    = "h5"                           # e.g. "21 March 2026", "21 марта 2026 года", "21 наурыз 2026 ж."
date_format = "%d %B %Y"                 # optional; month names of the source's language (any case
                                         # form) are understood, words around the date are ignored
summary = "p"                            # optional
image   = "img@src"                      # optional

[sources.article]                        # optional: open each new item's page for more
body    = "div.content-text"             # omitted: the main text is found automatically
date    = "time@datetime"
image   = "meta[property='og:image']@content"
"#;

    /// A second, Kazakh source using the optional keys, appended to the SPEC example.
    const KAZAKH_SOURCE: &str = r#"
[[sources]]
id = "akorda-kz"
url = "https://www.akorda.kz/kz/events"
schedule = "30 */10 * * * *"
language = "KZ"
kind = "feed"
include = ["Президент", "^Указ"]
exclude = ["sport"]
max_items = 50
id_pattern = '-(\d+)$'
insecure_tls = true
headers = { "Accept-Language" = "kk", "X-Test" = "1" }
"#;

    /// A minimal valid feed source: lines 1-5.
    const FEED: &str = "[[sources]]\nid = \"a\"\nurl = \"https://example.org/\"\nschedule = \"0 0 * * * *\"\nkind = \"feed\"\n";

    /// A minimal valid html source: lines 1-8.
    const HTML: &str = "[[sources]]\nid = \"a\"\nurl = \"https://example.org/\"\nschedule = \"0 0 * * * *\"\n[sources.list]\nitem = \"div\"\ntitle = \"h3\"\nlink = \"a@href\"\n";

    /// A minimal valid channel: lines 1-3.
    const CHANNEL: &str = "[[channels]]\nid = \"c\"\nchat = \"@c_news\"\n";

    fn parse_str(text: &str) -> Result<Config, Vec<Diagnostic>> {
        parse(Path::new("config.toml"), text, Path::new("/etc/herald"))
    }

    fn errors(text: &str) -> Vec<Diagnostic> {
        match parse_str(text) {
            Ok(_) => panic!("config should be rejected:\n{text}"),
            Err(errors) => errors,
        }
    }

    #[test]
    fn spec_example_parses() {
        let text = format!("{SPEC_EXAMPLE}{KAZAKH_SOURCE}");
        let config = parse_str(&text).unwrap_or_else(|e| panic!("{e:#?}"));
        assert_eq!(config.general.data_dir, Path::new("/etc/herald/data"));
        assert_eq!(config.general.public_url, "http://127.0.0.1:8080");
        assert_eq!(config.telegram.admins, [123456789]);
        assert_eq!(config.telegram.per_chat_per_minute, 20);
        assert_eq!(
            config.channels[0].chat,
            ChatRef::Username("@akorda_news_en".into())
        );
        let share = &config.channels[0].share;
        assert_eq!(
            share,
            &[ShareTarget::X, ShareTarget::Facebook, ShareTarget::Telegram]
        );

        let en = config.source("akorda-en").expect("akorda-en");
        assert_eq!(en.timezone, chrono_tz::Asia::Almaty);
        assert_eq!(en.channels, ["akorda-en"]);
        let list = en.list.as_ref().expect("list");
        assert_eq!(list.link.attr.as_deref(), Some("href"));
        assert_eq!(list.date_format.as_deref(), Some("%d %B %Y"));
        let article = en.article.as_ref().expect("article");
        assert_eq!(
            article.image.as_ref().and_then(|p| p.attr.as_deref()),
            Some("content")
        );

        let kz = config.source("akorda-kz").expect("akorda-kz");
        assert_eq!(kz.language, "kk");
        assert_eq!(kz.title, "akorda-kz");
        assert_eq!(kz.kind, SourceKind::Feed);
        assert_eq!((kz.max_items, kz.max_pages, kz.backfill), (50, 3, 1));
        assert!(
            kz.include[1].is_match("указ о ..."),
            "include is case-insensitive"
        );
        assert_eq!(
            kz.headers[0],
            ("Accept-Language".to_string(), "kk".to_string())
        );
        assert!(kz.id_pattern.is_some() && kz.insecure_tls);
        assert_eq!(config.warnings.len(), 1);
        assert_eq!((config.warnings[0].line, config.warnings[0].col), (54, 16));
        assert!(config.warnings[0].message.contains("insecure_tls is on"));
    }

    #[test]
    fn empty_file_gives_defaults() {
        let config = parse_str("").expect("an empty config is valid");
        assert_eq!(config.server.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.general.public_url, "http://127.0.0.1:8080");
        assert_eq!(config.general.data_dir, Path::new("/etc/herald/data"));
        assert!(config.general.user_agent.starts_with("herald/"));
        assert_eq!(
            config.telegram.api_url.as_str(),
            "https://api.telegram.org/"
        );
        let limits = &config.telegram;
        let limits = (
            limits.per_chat_per_second,
            limits.per_chat_per_minute,
            limits.global_per_second,
        );
        assert_eq!(limits, (1, 20, 30));
        assert!(config.sources.is_empty() && config.channels.is_empty());
    }

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

    #[test]
    fn translation_groups() {
        let text = format!(
            "{FEED}{}{}[[translations]]\nsources = [\"a\", \"b\"]\n",
            FEED.replace("\"a\"", "\"b\"")
                .replace("kind", "language = \"ru\"\nkind"),
            FEED.replace("\"a\"", "\"c\"")
        );
        let config = parse_str(&text).expect("valid");
        assert_eq!(config.translations.len(), 1);
        assert_eq!(config.translations[0].sources, ["a", "b"]);
        assert!(!config.translations[0].same_ids, "off by default");
        let shared = parse_str(&format!("{text}same_ids = true\n")).expect("valid");
        assert!(shared.translations[0].same_ids);
        let ids = |id| -> Vec<String> {
            config
                .translations_of(id)
                .iter()
                .map(|s| s.id.clone())
                .collect()
        };
        assert_eq!(ids("a"), ["b"]);
        assert_eq!(ids("b"), ["a"]);
        assert!(ids("c").is_empty());
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
    }

    #[rstest]
    #[rustfmt::skip]
    #[case::syntax_error("[general]\ndata_dir = data\n", 2, 12, "invalid TOML")]
    #[case::duplicate_key("[server]\nlisten = \"127.0.0.1:1\"\nlisten = \"x\"\n", 3, 1, "duplicate key `listen`")]
    #[case::unknown_top_level("[genral]\n", 1, 2, "unknown key `genral` in the top level of the file (did you mean `general`?")]
    #[case::unknown_in_general("[general]\ndata_dri = \"x\"\n", 2, 1, "unknown key `data_dri` in [general]")]
    #[case::unknown_in_sources(&format!("{FEED}titel = \"x\"\n"), 6, 1, "unknown key `titel` in [[sources]] `a` (did you mean `title`? expected one of: id, title, url")]
    #[case::unknown_in_list(&format!("{HTML}summry = \"p\"\n"), 9, 1, "unknown key `summry` in [sources.list] of source `a`")]
    #[case::unknown_list_table(&format!("{FEED}[sources.lsit]\n"), 6, 10, "unknown key `lsit`")]
    #[case::wrong_type(&format!("{FEED}backfill = \"1\"\n"), 6, 12, "expected an integer, found a string")]
    #[case::negative(&format!("{FEED}max_items = 0\n"), 6, 13, "`max_items` must be a positive integer, found 0")]
    #[case::too_large(&format!("{FEED}backfill = 99999999999\n"), 6, 12, "`backfill` = 99999999999 is too large")]
    #[case::integer_overflow(&format!("{FEED}backfill = 99999999999999999999\n"), 6, 12, "does not fit in 64 bits")]
    #[case::missing_key("[[sources]]\nid = \"a\"\nschedule = \"0 0 * * * *\"\nkind = \"feed\"\n", 1, 1, "missing key `url` in [[sources]] `a`")]
    #[case::missing_id("x = 1\n[[sources]]\nurl = \"https://e.org\"\nschedule = \"0 0 * * * *\"\nkind = \"feed\"\n", 2, 1, "missing key `id` in [[sources]] #1")]
    #[case::five_field_cron(&FEED.replace("0 0 * * * *", "0 */10 * * *"), 4, 12, "cron `0 */10 * * *` has 5 fields; herald's schedules start with a seconds field: write `0 0 */10 * * *`")]
    #[case::invalid_cron(&FEED.replace("0 0 * * * *", "0 0 25 * * *"), 4, 12, "invalid cron `0 0 25 * * *`")]
    #[case::cron_field_count(&FEED.replace("0 0 * * * *", "* *"), 4, 12, "has 2 fields")]
    #[case::bad_css(&HTML.replace("item = \"div\"", "item = \"div[\""), 6, 8, "invalid CSS selector `div[`")]
    #[case::bad_pick(&HTML.replace("\"a@href\"", "\"a >@href\""), 8, 8, "invalid CSS selector `a >`")]
    #[case::item_with_attr(&HTML.replace("item = \"div\"", "item = \"div@id\""), 6, 8, "drop `@id`")]
    #[case::unknown_timezone(&format!("{FEED}timezone = \"Asia/Almati\"\n"), 6, 12, "unknown timezone `Asia/Almati` (did you mean `Asia/Almaty`?)")]
    #[case::bad_language(&format!("{FEED}language = \"english language\"\n"), 6, 12, "language `english language` is not a BCP 47 tag")]
    #[case::bad_url(&FEED.replace("https://example.org/", "www.akorda.kz/en"), 3, 7, "`url` `www.akorda.kz/en` is not a valid absolute URL")]
    #[case::not_http(&FEED.replace("https://example.org/", "ftp://example.org/"), 3, 7, "must be an http:// or https:// URL")]
    #[case::bad_api_url("[telegram]\napi_url = \"api.telegram.org\"\n", 2, 11, "`api_url`")]
    #[case::bad_hub("[server]\nwebsub_hub = \"pubsubhubbub.appspot.com\"\n", 2, 14, "`websub_hub` `pubsubhubbub.appspot.com` is not a valid absolute URL")]
    #[case::hub_not_http("[server]\nwebsub_hub = \"ftp://hub.example/\"\n", 2, 14, "`websub_hub` must be an http:// or https:// URL")]
    #[case::translation_unknown_source(&format!("{FEED}[[translations]]\nsources = [\"a\", \"zz\"]\n"), 7, 17, "[[translations]] names source `zz`, which is not defined in [[sources]]")]
    #[case::translation_same_language(&format!("{FEED}{}[[translations]]\nsources = [\"a\", \"b\"]\n", FEED.replace("\"a\"", "\"b\"")), 12, 17, "`b` and `a` are both in language `en`")]
    #[case::translation_alone(&format!("{FEED}[[translations]]\nsources = [\"a\"]\n"), 6, 1, "[[translations]] needs at least two sources")]
    #[case::translation_unknown_key(&format!("{FEED}[[translations]]\nsource = [\"a\"]\n"), 7, 1, "unknown key `source` in [[translations]] #1 (did you mean `sources`?")]
    #[case::bad_listen("[server]\nlisten = \"localhost\"\n", 2, 10, "listen `localhost` is not an address with a port")]
    #[case::no_connections("[server]\nmax_connections = 0\n", 2, 19, "`max_connections` must be a positive integer, found 0")]
    #[case::no_idle_time("[server]\nidle_secs = 0\n", 2, 13, "`idle_secs` must be a positive integer, found 0")]
    #[case::malformed_id(&FEED.replace("\"a\"", "\"Akorda_EN\""), 2, 6, "source id `Akorda_EN` must match [a-z0-9-]+")]
    #[case::reserved_all(&FEED.replace("\"a\"", "\"all\""), 2, 6, "`all` is reserved for the merged feed")]
    #[case::duplicate_source(&format!("{FEED}{FEED}"), 7, 6, "duplicate source id `a` (first defined at line 2)")]
    #[case::duplicate_channel(&format!("{CHANNEL}{CHANNEL}"), 5, 6, "duplicate channel id `c` (first defined at line 2)")]
    #[case::unknown_channel(&format!("{CHANNEL}{FEED}channels = [\"c\", \"x\"]\n"), 9, 18, "source `a` names channel `x`, which is not defined in [[channels]]")]
    #[case::bad_chat(&CHANNEL.replace("@c_news", "c_news"), 3, 8, "chat `c_news` must be \"@username\" or a numeric chat id")]
    #[case::unknown_share(&format!("{CHANNEL}share = [\"x\", \"fb\"]\n"), 4, 15, "unknown share target `fb` (expected one of: x, facebook, telegram, whatsapp, vk, linkedin)")]
    #[case::duplicate_share(&format!("{CHANNEL}share = [\"x\", \"x\"]\n"), 4, 15, "share target `x` is listed twice")]
    #[case::bad_regex(&format!("{FEED}include = [\"(unclosed\"]\n"), 6, 12, "`include`: invalid regex `(unclosed`")]
    #[case::channel_regex(&format!("{CHANNEL}exclude = [\"(x\"]\n"), 4, 12, "`exclude`: invalid regex `(x`")]
    #[case::digest_zero(&format!("{CHANNEL}digest_over = 0\n"), 4, 15, "`digest_over` must be a positive integer, found 0")]
    #[case::digest_string(&format!("{CHANNEL}digest_over = \"10\"\n"), 4, 15, "expected an integer, found a string")]
    #[case::quiet_hours_shape(&format!("{CHANNEL}quiet_hours = \"23-07\"\n"), 4, 15, "quiet_hours `23-07` is not a window such as \"23:00-07:00\"")]
    #[case::quiet_hours_empty_window(&format!("{CHANNEL}quiet_hours = \"08:00-08:00\"\n"), 4, 15, "starts where it ends")]
    #[case::quiet_mode(&format!("{CHANNEL}quiet_hours = \"23:00-07:00\"\nquiet = \"mute\"\n"), 5, 9, "unknown quiet `mute` (expected one of: silent, hold)")]
    #[case::quiet_timezone(&format!("{CHANNEL}quiet_hours = \"23:00-07:00\"\nquiet_timezone = \"Asia/Almati\"\n"), 5, 18, "unknown timezone `Asia/Almati`")]
    #[case::quiet_without_hours(&format!("{CHANNEL}quiet = \"hold\"\n"), 4, 1, "`quiet` is set but `quiet_hours`")]
    #[case::template_syntax(&format!("{CHANNEL}template = \"<b>{{{{ title </b>\"\n"), 4, 26, "template: syntax error")]
    #[case::template_unknown_field(&format!("{CHANNEL}template = '''\n<b>{{{{ titel }}}}</b>'''\n"), 5, 7, "template: unknown field `titel` (fields: title, summary, link")]
    #[case::template_with_escapes(&format!("{CHANNEL}template = \"\\t{{{{ titel }}}}\"\n"), 4, 12, "unknown field `titel`")]
    #[case::template_foreign_tag(&format!("{CHANNEL}template = \"<h1>{{{{ title }}}}</h1>\"\n"), 4, 13, "`<h1>` is not a Telegram tag")]
    #[case::unknown_channel_key(&format!("{CHANNEL}digest = 5\n"), 4, 1, "unknown key `digest` in [[channels]] `c`")]
    #[case::id_pattern_without_group(&format!("{FEED}id_pattern = '-\\d+$'\n"), 6, 14, "has no capture group")]
    #[case::list_missing(&FEED.replace("kind = \"feed\"\n", ""), 1, 1, "missing [sources.list] in [[sources]] `a` (required when kind = \"html\"")]
    #[case::list_for_feed(&format!("{FEED}[sources.list]\nitem = \"div\"\n"), 6, 10, "has kind = \"feed\": [sources.list] applies only to kind = \"html\"")]
    #[case::unknown_kind(&FEED.replace("\"feed\"", "\"rss\""), 5, 8, "unknown kind `rss` (expected one of: html, feed)")]
    #[case::bad_date_format(&format!("{HTML}date = \"h5\"\ndate_format = \"%Q\"\n"), 10, 15, "date_format `%Q` is not a valid strftime format")]
    #[case::date_format_without_date(&format!("{HTML}date = \"h5\"\ndate_format = \"%H:%M\"\n"), 10, 15, "has no date in it")]
    #[case::bad_header(&format!("{FEED}headers = {{ \"Bad Name\" = \"x\" }}\n"), 6, 13, "`Bad Name` is not a valid HTTP header name")]
    #[case::sources_not_array("[sources]\nid = \"a\"\n", 1, 1, "`sources` must be an array of tables, written [[sources]]; found a table")]
    #[case::columns_count_characters(&format!("{FEED}headers = {{ \"X-Ä\" = \"ü\", \"Y\" = 1 }}\n"), 6, 32, "expected a string, found an integer")]
    fn rejects(
        #[case] text: &str,
        #[case] line: usize,
        #[case] col: usize,
        #[case] fragment: &str,
    ) {
        let errors = errors(text);
        let found = errors.iter().find(|d| d.message.contains(fragment));
        let Some(found) = found else {
            panic!("no error contains {fragment:?}; got {errors:#?}");
        };
        assert_eq!((found.line, found.col), (line, col), "{found}");
        assert_eq!(found.path, "config.toml");
    }

    #[test]
    fn every_problem_is_listed_in_file_order() {
        let text = "[general]\n\
                    colour = \"red\"\n\
                    [[sources]]\n\
                    id = \"B\"\n\
                    schedule = \"0 */10 * * *\"\n\
                    timezone = \"Mars/Olympus\"\n\
                    kind = \"feed\"\n\
                    channels = [\"nowhere\"]\n";
        let errors = errors(text);
        let at: Vec<_> = errors.iter().map(|d| (d.line, d.col)).collect();
        assert_eq!(
            at,
            [(2, 1), (3, 1), (4, 6), (5, 12), (6, 12), (8, 13)],
            "{errors:#?}"
        );
        assert!(errors[1].message.contains("missing key `url`"));
        assert_eq!(
            errors[0].to_string(),
            format!("config.toml:2:1: {}", errors[0].message)
        );
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

    /// A diagnostic as printed is one line in an admin's words: no library's multi-line text,
    /// no "report this to the developer", no Rust names such as `DanglingCombinator`.
    fn assert_plain(d: &Diagnostic) {
        let line = d.to_string();
        assert!(!line.contains(['\n', '\r']), "{line:?}");
        assert!(!line.to_lowercase().contains("report this"), "{line}");
        let camel = Regex::new(r"\b[A-Z][a-z]+[A-Z][A-Za-z]*\b").expect("valid");
        assert!(!camel.is_match(&line), "a Rust name in {line}");
    }

    #[rstest]
    #[rustfmt::skip]
    #[case::dangling_combinator("div >", "a combinator (>, +, ~) must be followed by a selector")]
    #[case::double_combinator("div >> p", "a combinator (>, +, ~) must be followed by a selector")]
    #[case::double_dot("div..card", "`.` must be followed by a class name")]
    #[case::open_bracket("h3 a[", "it ends too early: a `[`, `(` or quote is left open")]
    #[case::attribute_without_value("a[href=]", "it ends too early")]
    #[case::leading_combinator("> div", "a selector is missing")]
    #[case::trailing_comma("div,", "a selector is missing")]
    #[case::bare_hash("#", "a selector is missing")]
    #[case::unknown_pseudo_class("a:foo", "this pseudo-class or pseudo-element is not supported")]
    #[case::unknown_pseudo_element("a::after", "this pseudo-class or pseudo-element is not supported")]
    #[case::colon_without_name("a:", "it ends too early")]
    #[case::namespace("a|b", "`|` names an XML namespace")]
    #[case::attribute_without_name("a[=x]", "`[` must be followed by an attribute name")]
    #[case::stray_parenthesis("div)", "a character or word where it cannot be")]
    fn selector_problems_are_one_plain_line(#[case] css: &str, #[case] problem: &str) {
        let text = HTML.replace("title = \"h3\"", &format!("title = '{css}'"));
        let errors = errors(&text);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        let expected = format!("invalid CSS selector `{css}`: {problem}");
        assert!(errors[0].message.starts_with(&expected), "{}", errors[0]);
        assert_eq!((errors[0].line, errors[0].col), (7, 9));
        assert_plain(&errors[0]);
    }

    #[test]
    fn optional_list_selectors_are_checked_beside_a_broken_item() {
        let text =
            HTML.replace("\"div\"", "\"div >\"") + "summary = \"p:foo\"\nimage = \"a|b@src\"\n";
        let errors = errors(&text);
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [6, 9, 10], "{errors:#?}");
    }

    #[rstest]
    #[rustfmt::skip]
    #[case::unclosed_group("include", r"(\d+", "unclosed group: a `(` has no `)`")]
    #[case::unopened_group("exclude", r"\d+)", "a `)` has no `(` before it")]
    #[case::nothing_to_repeat("include", "*a", "`*`, `+`, `?` or `{n}` has nothing before it to repeat")]
    #[case::unclosed_class("exclude", "[abc", "unclosed class: a `[` has no `]`")]
    #[case::unknown_escape("include", r"x\q", "unknown escape sequence")]
    #[case::reversed_range("exclude", "[z-a]", "invalid character class range")]
    #[case::unknown_property("include", r"\p{Foo}", "Unicode property not found")]
    #[case::id_pattern_unclosed("id_pattern", r"-(\d+$", "unclosed group: a `(` has no `)`")]
    #[case::id_pattern_count("id_pattern", r"-(\d{2,1})$", "invalid repetition count range")]
    fn regex_problems_are_one_plain_line(#[case] key: &str, #[case] regex: &str, #[case] problem: &str) {
        let value = match key {
            "id_pattern" => format!("'{regex}'"),
            _ => format!("['{regex}']"),
        };
        let errors = errors(&format!("{FEED}{key} = {value}\n"));
        assert_eq!(errors.len(), 1, "{errors:#?}");
        let expected = format!("`{key}`: invalid regex `{regex}`: {problem}");
        assert!(errors[0].message.starts_with(&expected), "{}", errors[0]);
        assert_plain(&errors[0]);
    }

    #[test]
    fn a_value_with_a_newline_is_quoted_on_one_line() {
        let errors = errors(&FEED.replace("\"a\"", "\"a\\nb\""));
        let line = errors[0].to_string();
        assert_eq!(
            line,
            "config.toml:2:6: source id `a\\nb` must match [a-z0-9-]+"
        );
    }

    #[rstest]
    #[rustfmt::skip]
    #[case::minutes_step_too_long("0 */70 * * * *", "invalid cron `0 */70 * * * *`: step 70 in the minutes field is out of range (1-59)")]
    #[case::minutes_step_of_a_range("0 5-50/60 * * * *", "step 60 in the minutes field is out of range (1-59)")]
    #[case::hours_step_too_long("0 0 */24 * * *", "step 24 in the hours field is out of range (1-23)")]
    #[case::weekday_step_too_long("0 0 0 * * */7", "step 7 in the weekday field is out of range (1-6)")]
    #[case::step_zero("0 */0 * * * *", "step 0 in the minutes field is out of range (1-59)")]
    #[case::thirtieth_of_february("0 0 0 30 2 *", "cron `0 0 0 30 2 *` never fires")]
    #[case::thirty_first_of_april("0 0 0 31 4 *", "cron `0 0 0 31 4 *` never fires")]
    #[case::a_past_year("0 0 0 1 1 * 2020", "never fires")]
    fn schedule_rejects(#[case] expr: &str, #[case] problem: &str) {
        let errors = errors(&FEED.replace("0 0 * * * *", expr));
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].message.contains(problem), "{}", errors[0]);
        assert_eq!((errors[0].line, errors[0].col), (4, 12));
        assert_plain(&errors[0]);
    }

    #[test]
    fn a_schedule_firing_less_than_once_a_year_is_a_warning() {
        let config = parse_str(&FEED.replace("0 0 * * * *", "0 0 0 29 2 *")).expect("valid");
        assert_eq!(config.warnings.len(), 1, "{:#?}", config.warnings);
        let warning = &config.warnings[0];
        assert_eq!((warning.line, warning.col), (4, 12));
        let expected = "warning: source `a`: cron `0 0 0 29 2 *` fires less than once a year";
        assert!(warning.message.starts_with(expected), "{warning}");
    }

    #[rstest]
    #[case::every_59_minutes("0 */59 * * * *")]
    #[case::every_23_hours("0 0 */23 * * *")]
    #[case::every_6_weekdays("0 0 0 * * */6")]
    #[case::yearly("0 0 0 1 1 *")]
    #[case::thirty_first("0 0 0 31 * *")]
    #[case::nickname("@weekly")]
    fn usual_schedules_pass_without_warning(#[case] expr: &str) {
        let config = parse_str(&FEED.replace("0 0 * * * *", expr)).expect("valid");
        assert!(config.warnings.is_empty(), "{:#?}", config.warnings);
    }

    #[test]
    fn schedule_frequency_is_judged_by_the_next_instants() {
        use chrono::TimeZone;
        let now = chrono::Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let of = |expr| schedule_frequency(&Schedule::parse(expr).expect("parses"), Tz::UTC, now);
        assert_eq!(of("0 0 0 1 1 *"), Ok(None));
        assert_eq!(
            of("0 0 0 29 2 *"),
            Ok(Some(
                "cron `0 0 0 29 2 *` fires less than once a year \
                 (next at 2028-02-29 00:00:00 UTC, then 2032-02-29 00:00:00 UTC)"
                    .into()
            ))
        );
        assert_eq!(
            of("0 0 0 1 1 * 2027"),
            Ok(Some(
                "cron `0 0 0 1 1 * 2027` fires once more, at 2027-01-01 00:00:00 UTC, and then never"
                    .into()
            ))
        );
        assert!(of("0 0 0 1 1 * 2026").is_err_and(|e| e.contains("never fires")));
    }

    #[rstest]
    #[case::text("h3 a", Some("h3 a"), None)]
    #[case::attribute("h3 a@href", Some("h3 a"), Some("href"))]
    #[case::element_itself("@href", None, Some("href"))]
    #[case::attribute_selector(
        "meta[property='og:image']@content",
        Some("meta[property='og:image']"),
        Some("content")
    )]
    #[case::at_inside_brackets("a[href*='@x']", Some("a[href*='@x']"), None)]
    #[case::at_inside_brackets_then_attr("a[href*='@x']@href", Some("a[href*='@x']"), Some("href"))]
    #[case::dashed_attribute("img@data-src", Some("img"), Some("data-src"))]
    fn pick_parses(#[case] text: &str, #[case] css: Option<&str>, #[case] attr: Option<&str>) {
        let pick = Pick::parse(text).expect("valid pick");
        assert_eq!(pick.text, text);
        assert_eq!(pick.attr.as_deref(), attr);
        assert_eq!(pick.selector.is_some(), css.is_some());
        assert_eq!(split_attr(text).0, css.unwrap_or(""));
    }

    #[rstest]
    #[case::invalid_css("h3 a[", "invalid CSS selector `h3 a[`")]
    #[case::empty("", "empty selector")]
    #[case::lone_at("@", "invalid CSS selector `@`")]
    fn pick_rejects(#[case] text: &str, #[case] fragment: &str) {
        let error = Pick::parse(text).expect_err("invalid pick");
        assert!(error.contains(fragment), "{error}");
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

    #[rstest]
    #[case::seven_fields("0 0 12 * * * 2030")]
    #[case::nickname("@daily")]
    #[case::names("0 30 9 * * MON-FRI")]
    fn schedule_accepts(#[case] expr: &str) {
        Schedule::parse(expr).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn load_reports_unreadable_file_at_1_1() {
        let path = Path::new("/nonexistent/herald/config.toml");
        let errors = load(path).expect_err("no such file");
        assert_eq!((errors.len(), errors[0].line, errors[0].col), (1, 1, 1));
        assert!(
            errors[0].message.starts_with("cannot read config: "),
            "{}",
            errors[0]
        );
        assert_eq!(errors[0].path, "/nonexistent/herald/config.toml");
    }

    #[test]
    fn load_resolves_data_dir_next_to_the_file() {
        let dir = std::env::temp_dir().join(format!("herald-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("herald.toml");
        std::fs::write(&path, "[general]\ndata_dir = \"state/db\"\n").expect("write");
        let config = load(&path);
        std::fs::remove_dir_all(&dir).expect("cleanup");
        let config = config.unwrap_or_else(|e| panic!("{e:#?}"));
        assert_eq!(config.general.data_dir, dir.join("state/db"));
        assert_eq!(config.path, path);
    }

    #[test]
    fn environment_overrides_replace_their_keys() {
        let mut config = parse_str("[general]\ndata_dir = \"data\"\n").expect("valid");
        let env = |name: &str| match name {
            "HERALD_DATA_DIR" => Some("/data".to_owned()),
            "HERALD_LISTEN" => Some("0.0.0.0:8080".to_owned()),
            "HERALD_PUBLIC_URL" => Some("https://feeds.example.org/".to_owned()),
            _ => None,
        };
        apply_env_overrides(&mut config, env).expect("good values");
        assert_eq!(config.general.data_dir, Path::new("/data"));
        assert_eq!(config.server.listen.to_string(), "0.0.0.0:8080");
        assert_eq!(config.general.public_url, "https://feeds.example.org");
    }

    #[test]
    fn empty_environment_overrides_change_nothing_and_bad_ones_are_named() {
        let mut config = parse_str("[general]\ndata_dir = \"data\"\n").expect("valid");
        apply_env_overrides(&mut config, |_| Some(String::new())).expect("empty is unset");
        assert_eq!(config.general.data_dir, Path::new("/etc/herald/data"));
        let bad = |name: &str| (name != "HERALD_DATA_DIR").then(|| "nonsense".to_owned());
        let errors = apply_env_overrides(&mut config, bad).expect_err("bad values");
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with("environment variable HERALD_LISTEN: `nonsense`"));
        assert!(messages[1].starts_with("environment variable HERALD_PUBLIC_URL: "));
    }

    /// Random edits of a valid config must give a Config or diagnostics, never a panic.
    #[test]
    fn mutations_never_panic() {
        let base: Vec<char> = format!("{SPEC_EXAMPLE}{KAZAKH_SOURCE}").chars().collect();
        let pieces = [
            "[",
            "]",
            "@",
            "\"",
            "'",
            "=",
            "*",
            "\n",
            "{",
            "}",
            ",",
            "-",
            "0x",
            "9",
            "é",
            "[[sources]]\n",
            "[sources.list]\n",
            "#",
            "\\",
            "@href",
            "L",
            "?",
            " ",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % bound as u64) as usize
        };
        for _ in 0..1500 {
            let mut text = base.clone();
            for _ in 0..1 + next(4) {
                let at = next(text.len());
                match next(3) {
                    0 => {
                        text.remove(at);
                    }
                    1 => text
                        .splice(at..at, pieces[next(pieces.len())].chars())
                        .for_each(drop),
                    _ => text[at] = pieces[next(pieces.len())].chars().next().unwrap_or(' '),
                }
            }
            let text: String = text.into_iter().collect();
            if let Err(errors) = parse_str(&text) {
                assert!(
                    errors.iter().all(|d| d.line >= 1 && d.col >= 1),
                    "{errors:#?}"
                );
            }
        }
    }
}
