//! `[general]`, `[server]` and `[telegram]`: one table each, every key with a default.

use super::diagnostics::Report;
use super::table::{Place, Table, Value, expect_int};
use super::values::{header_value, http_url};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::de::DeValue;
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
/// A `monitor_allow` entry as the server matches it: an IPv4-mapped IPv6 address or network
/// (`::ffff:10.0.0.0/104`, prefix 96 or more) as the IPv4 one it names, since the server turns
/// a mapped peer (a dual-stack socket's IPv4 client) into IPv4 before matching. Written as it
/// was, it passed `check` and never matched.
fn unmapped(net: ipnet::IpNet) -> ipnet::IpNet {
    match net {
        ipnet::IpNet::V6(v6) if v6.prefix_len() >= 96 => v6
            .addr()
            .to_ipv4_mapped()
            .and_then(|v4| ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).ok())
            .map_or(net, ipnet::IpNet::V4),
        _ => net,
    }
}

pub(super) fn server(r: &mut Report, t: &Table) -> Server {
    t.check_keys(r, SERVER_KEYS);
    let default: SocketAddr = DEFAULT_LISTEN
        .parse()
        .expect("the default address is valid");
    let listen = t
        .string(r, "listen")
        .and_then(|(text, span)| r.check(&span, listen_address(text)));
    let monitor_allow = t
        .strings(r, "monitor_allow")
        .into_iter()
        .filter_map(|(text, span)| {
            let parsed = text
                .parse::<ipnet::IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(unmapped)
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

/// `listen` (or `HERALD_LISTEN`): an IP address and a port. A host name is refused, not
/// resolved: `localhost` may be 127.0.0.1 or ::1, and which one would decide who can connect.
pub(super) fn listen_address(text: &str) -> Result<SocketAddr, String> {
    if let Ok(address) = text.parse() {
        return Ok(address);
    }
    let examples = "such as 127.0.0.1:8080 (this machine only), 0.0.0.0:8080 (every network) or \
                    [::1]:8080";
    if let Ok(std::net::IpAddr::V6(_)) = text.parse() {
        let split = text
            .rsplit_once(':')
            .filter(|(host, _)| host.parse::<std::net::Ipv6Addr>().is_ok());
        let example = match split {
            Some((host, port)) => format!("`[{host}]:{port}`"),
            None => format!("`[{text}]:8080`"),
        };
        return Err(format!(
            "listen `{text}` is an IPv6 address without a port: an IPv6 address is written in \
             brackets before its port, e.g. {example}"
        ));
    }
    let in_brackets = text.strip_prefix('[').and_then(|t| t.strip_suffix(']'));
    if text.parse::<std::net::IpAddr>().is_ok()
        || in_brackets.is_some_and(|t| t.parse::<std::net::Ipv6Addr>().is_ok())
    {
        return Err(format!(
            "listen `{text}` has no port: write the address and a port, {examples}"
        ));
    }
    if let Some(port) = text.strip_prefix(':') {
        return Err(format!(
            "listen `{text}` has no address before the port: write 0.0.0.0:{port} (every \
             network) or 127.0.0.1:{port} (this machine only)"
        ));
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !host.ends_with(':') => (host, port),
        _ => {
            return Err(format!(
                "listen `{text}` is not an IP address with a port: write one {examples}"
            ));
        }
    };
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "listen `{text}`: `{port}` is not a port number: write an IP address with a port, {examples}"
        ));
    }
    if port.parse::<u16>().is_err() {
        return Err(format!(
            "listen `{text}`: port {port} is out of range (0-65535)"
        ));
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<std::net::Ipv6Addr>().is_ok() {
        return Err(format!(
            "listen `{text}`: an IPv6 address is written in brackets before its port, e.g. `[{bare}]:{port}`"
        ));
    }
    Err(format!(
        "listen `{text}` names the host `{host}`: write an IP address instead, {examples}"
    ))
}

/// `data_dir` is a folder herald can make or use: not a file that is there already.
fn not_a_file(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_dir() => Err(format!(
            "`data_dir` {} is a file, not a folder: name a folder (herald makes it if missing)",
            path.display()
        )),
        _ => Ok(()),
    }
}

pub(super) fn general(r: &mut Report, t: &Table, server: &Server, base_dir: &Path) -> General {
    t.check_keys(r, GENERAL_KEYS);
    let data_dir = match t.string(r, "data_dir") {
        Some(("", span)) => {
            r.error(&span, "`data_dir` is empty: name a folder, e.g. \"data\"");
            PathBuf::new()
        }
        Some((dir, span)) => {
            let path = base_dir.join(dir);
            r.check(&span, not_a_file(&path));
            path
        }
        None => base_dir.join("data"),
    };
    let public_url = match t.string(r, "public_url") {
        Some((text, span)) => r.check(&span, public_url(text)).unwrap_or_default(),
        None => format!("http://{}", server.listen),
    };
    let user_agent = match t.string(r, "user_agent") {
        Some((text, span)) if text.trim().is_empty() => {
            let message = "`user_agent` is empty: sites refuse requests without one; leave the \
                           key out for herald's own";
            r.error(&span, message);
            String::new()
        }
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
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`public_url` `{text}` holds a user name or password: it would be written into \
             every self link of the feeds, the OPML file and the index page; give the address \
             people use, without credentials"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "`public_url` `{text}` must not have a query or fragment"
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// One element of `admins`: a Telegram user's id. A name (`"@bob"`) is refused saying how to
/// find the id (commands come with their sender's id, never a name); 0 or a negative id (a
/// group's, whence no command comes) is taken with a warning, as it never matches.
fn admin(r: &mut Report, v: &Value<'_>, place: &Place) -> Option<i64> {
    if let DeValue::String(name) = v.get_ref()
        && name.trim().parse::<i64>().is_err()
    {
        r.error(
            &v.span(),
            format!(
                "each element of `admins` in [telegram] must be a user's numeric id, found the \
                 string \"{name}\": commands reach herald with their sender's id, not a name. To \
                 read yours, send /status to the bot from that account while herald runs: its \
                 log says \"command from a user who is not an admin; ignored\" with \
                 user=<your id>; then write admins = [<your id>]"
            ),
        );
        return None;
    }
    let (id, span) = expect_int(r, v, place)?;
    if id <= 0 {
        let what = if id == 0 {
            "no one's id"
        } else {
            "a group's or channel's id, not a user's"
        };
        r.warn(
            &span,
            format!(
                "`admins` holds {id}, which is {what}: commands come from users (a positive id), \
                 so it never matches; write the id of the person who sends the commands"
            ),
        );
    }
    Some(id)
}

pub(super) fn telegram(r: &mut Report, t: &Table) -> Telegram {
    t.check_keys(r, TELEGRAM_KEYS);
    let default_api = Url::parse(DEFAULT_API_URL).expect("the default Bot API URL is valid");
    let api_url = t
        .string(r, "api_url")
        .and_then(|(text, span)| r.check(&span, http_url("api_url", text)));
    let place = t.element_place("admins");
    let admins = t
        .array(r, "admins")
        .unwrap_or_default()
        .iter()
        .filter_map(|v| admin(r, v, &place))
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

    /// `admins` holds user ids: a name is refused saying how to find the id, a group's id or 0
    /// is a warning (it never matches), and the hint for a bare integer is an array of ids.
    #[test]
    fn admins_are_user_ids() {
        use crate::config::testing::{errors, parse_str};
        let config = parse_str("[telegram]\nadmins = [0, -1001234, 42]\n").expect("warnings only");
        assert_eq!(config.telegram.admins, [0, -1001234, 42]);
        let warned: Vec<(usize, usize)> = config.warnings.iter().map(|w| (w.line, w.col)).collect();
        assert_eq!(warned, [(2, 11), (2, 14)], "{:?}", config.warnings);
        assert!(
            config.warnings[0]
                .message
                .contains("0, which is no one's id")
        );
        assert!(
            config.warnings[1]
                .message
                .contains("a group's or channel's id")
        );
        let e = errors("[telegram]\nadmins = [\"@bob\"]\n");
        assert_eq!((e.len(), e[0].line, e[0].col), (1, 2, 11), "{e:?}");
        assert!(e[0].message.contains("send /status to the bot"), "{}", e[0]);
        let e = errors("[telegram]\nadmins = 12\n");
        assert!(
            e[0].message.ends_with("(e.g. admins = [123456789])"),
            "{}",
            e[0]
        );
    }

    /// An IPv4-mapped entry names the IPv4 client it maps (the server matches peers as IPv4).
    #[test]
    fn mapped_monitor_allow_entries_are_read_as_ipv4() {
        let text = "[server]\nmonitor_allow = [\"::ffff:127.0.0.1\", \"::ffff:10.0.0.0/104\", \
                    \"::FFFF:192.168.1.1/128\", \"::ffff:0:0/95\", \"::1\", \"10.1.0.0/16\"]\n";
        let config = crate::config::testing::parse_str(text).expect("valid");
        let allowed: Vec<String> = config
            .server
            .monitor_allow
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            allowed,
            [
                "127.0.0.1/32",
                "10.0.0.0/8",
                "192.168.1.1/32",
                "::ffff:0.0.0.0/95",
                "::1/128",
                "10.1.0.0/16"
            ]
        );
    }
    use crate::config::testing::*;

    #[rstest::rstest]
    #[case::host_name(
        "localhost:8080",
        "listen `localhost:8080` names the host `localhost`: write an IP address instead, such as 127.0.0.1:8080"
    )]
    #[case::no_port("127.0.0.1", "listen `127.0.0.1` has no port")]
    #[case::no_address(
        ":8080",
        "listen `:8080` has no address before the port: write 0.0.0.0:8080"
    )]
    #[case::host_without_port("localhost", "is not an IP address with a port")]
    #[case::port_not_a_number("127.0.0.1:http", "`http` is not a port number")]
    #[case::port_too_large("127.0.0.1:70000", "port 70000 is out of range (0-65535)")]
    #[case::ipv6_without_brackets(
        "::1:8080",
        "an IPv6 address is written in brackets before its port, e.g. `[::1]:8080`"
    )]
    #[case::ipv6_in_brackets_without_port(
        "[::1]",
        "listen `[::1]` has no port: write the address and a port"
    )]
    fn listen_problems_say_what_to_write(#[case] text: &str, #[case] problem: &str) {
        let message = listen_address(text).expect_err("refused");
        assert!(message.contains(problem), "{message}");
    }

    #[test]
    fn a_data_dir_that_is_a_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data");
        std::fs::write(&file, "").unwrap();
        let text = format!("[general]\ndata_dir = \"{}\"\n", file.display());
        let errors = parse_str(&text).expect_err("a file is no folder");
        assert!(
            format!("{errors:?}").contains("is a file, not a folder"),
            "{errors:?}"
        );
        let text = format!("[general]\ndata_dir = \"{}\"\n", dir.path().display());
        parse_str(&text).expect("a folder is");
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
}
