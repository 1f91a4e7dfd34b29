//! `[general]`, `[server]` and `[telegram]`: one table each, every key with a default.

use super::diagnostics::Report;
use super::table::{Table, expect_int};
use super::values::{header_value, http_url};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

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
pub(super) fn server(r: &mut Report, t: &Table) -> Server {
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

pub(super) fn general(r: &mut Report, t: &Table, server: &Server, base_dir: &Path) -> General {
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
pub(super) fn public_url(text: &str) -> Result<String, String> {
    let url = http_url("public_url", text)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "`public_url` `{text}` must not have a query or fragment"
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

pub(super) fn telegram(r: &mut Report, t: &Table) -> Telegram {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::*;

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
}
