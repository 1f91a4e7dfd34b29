//! config.toml: read with spans, collect every problem with its line and column, then build the
//! runtime types (parsed cron, selectors, zones, URLs) once, so nothing fails later at 3 a.m.

use chrono_tz::Tz;
use regex::Regex;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use url::Url;

/// One problem found in a config file, printed as `PATH:LINE:COL: message` (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}", self.path, self.line, self.col, self.message)
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// The path as given on the command line (used in diagnostics).
    pub path: PathBuf,
    pub general: General,
    pub server: Server,
    pub telegram: Telegram,
    pub channels: Vec<Channel>,
    pub sources: Vec<Source>,
    /// Non-fatal remarks (e.g. `insecure_tls` in use), same format as errors.
    pub warnings: Vec<Diagnostic>,
}

#[derive(Clone, Debug)]
pub struct General {
    /// Absolute, or relative to the config file's folder already resolved.
    pub data_dir: PathBuf,
    /// Base for self links; no trailing slash.
    pub public_url: String,
    pub user_agent: String,
}

#[derive(Clone, Debug)]
pub struct Server {
    pub listen: SocketAddr,
}

#[derive(Clone, Debug)]
pub struct Telegram {
    pub api_url: Url,
    pub admins: Vec<i64>,
    pub per_chat_per_second: u32,
    pub per_chat_per_minute: u32,
    pub global_per_second: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatRef {
    Username(String),
    Id(i64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShareTarget {
    X,
    Facebook,
    Telegram,
    Whatsapp,
    Vk,
    Linkedin,
}

#[derive(Clone, Debug)]
pub struct Channel {
    pub id: String,
    pub chat: ChatRef,
    pub share: Vec<ShareTarget>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Html,
    Feed,
}

/// A parsed 6-field cron expression (seconds first), kept with its text.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub expr: String,
    pub cron: croner::Cron,
}

/// A selector with an optional `@attr` suffix: `"h3 a@href"`. An empty selector part (`"@href"`)
/// means the element itself. Without `@attr` the value is the element's text.
#[derive(Clone, Debug)]
pub struct Pick {
    pub text: String,
    pub selector: Option<scraper::Selector>,
    pub attr: Option<String>,
}

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

#[derive(Clone, Debug)]
pub struct ArticleSelectors {
    pub body: Option<Pick>,
    pub date: Option<Pick>,
    pub image: Option<Pick>,
}

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
    pub id_pattern: Option<Regex>,
    pub insecure_tls: bool,
    pub headers: Vec<(String, String)>,
}

impl Config {
    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }
}

/// Reads and validates `path`; on failure returns every problem found, in file order.
pub fn load(path: &Path) -> Result<Config, Vec<Diagnostic>> {
    let _ = path;
    unimplemented!("config::load is being written")
}
