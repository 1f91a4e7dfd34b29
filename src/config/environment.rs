//! Warnings about what a valid config does where it runs: channels with no bot token to post
//! with, and links to a loopback address served to readers on other machines. They depend on
//! the environment (`TELOXIDE_TOKEN`, `HERALD_LISTEN`), so the file alone does not decide them.

use super::{Config, Diagnostic};
use std::net::IpAddr;
use url::{Host, Url};

/// Channels are configured but `TELOXIDE_TOKEN` is not set (`token_set` false): delivery is off,
/// nothing is posted to them. Said at the first `[[channels]]` of the file (`text`).
pub fn delivery_off_warning(config: &Config, text: &str, token_set: bool) -> Option<Diagnostic> {
    let n = config.channels.len();
    if n == 0 || token_set {
        return None;
    }
    let (line, col) = position_of(text, "[[channels]]").unwrap_or((1, 1));
    let (channels, them) = if n == 1 {
        ("channel is", "it")
    } else {
        ("channels are", "them")
    };
    Some(Diagnostic {
        path: config.path.display().to_string(),
        line,
        col,
        message: format!(
            "warning: {n} Telegram {channels} configured, but TELOXIDE_TOKEN is not set in this \
             environment: herald run here has delivery off and posts nothing to {them} (the index \
             page leaves {them} out; /healthz says \"delivery\": \"off\"). Set TELOXIDE_TOKEN \
             to the bot's token where herald runs (the unit's EnvironmentFile, \
             deploy/herald.env, the Kubernetes Secret)"
        ),
    })
}

/// herald listens on an address other machines reach (`0.0.0.0:8080`, as a container's
/// `HERALD_LISTEN` says) while `public_url`, which every self link of the feeds, the OPML file
/// and the index page is built from, is a loopback address (`http://127.0.0.1:8080`, the shipped
/// one): each reader elsewhere is sent to their own machine. Said at `public_url` in `text`.
pub(super) fn loopback_public_url_warning(config: &Config, text: &str) -> Option<Diagnostic> {
    let listen = config.server.listen;
    let url = &config.general.public_url;
    if listen.ip().is_loopback() || !reaches_only_this_machine(url) {
        return None;
    }
    let (line, col) = value_position(text, "public_url").unwrap_or((1, 1));
    Some(Diagnostic {
        path: config.path.display().to_string(),
        line,
        col,
        message: format!(
            "warning: herald listens on {listen}, open to other machines, but public_url is \
             {url}, which every reader reads as their own machine: the feeds' self links, the \
             OPML file and the index page send readers elsewhere there. Set public_url (or \
             HERALD_PUBLIC_URL) to the address readers use, e.g. https://feeds.example.org"
        ),
    })
}

/// Whether `url`'s host is this machine wherever it is opened: a loopback address, `localhost`,
/// or the unspecified address (0.0.0.0, ::).
fn reaches_only_this_machine(url: &str) -> bool {
    let Ok(url) = Url::parse(url) else {
        return false;
    };
    let local = |ip: IpAddr| ip.is_loopback() || ip.is_unspecified();
    match url.host() {
        Some(Host::Ipv4(ip)) => local(ip.into()),
        Some(Host::Ipv6(ip)) => local(ip.into()),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        None => false,
    }
}

/// Where `needle` first stands in `text`: 1-based line and column.
fn position_of(text: &str, needle: &str) -> Option<(usize, usize)> {
    let at = text.find(needle)?;
    Some(line_col(text, at))
}

/// Where the value of the first `key = value` line of `text` starts: 1-based line and column.
fn value_position(text: &str, key: &str) -> Option<(usize, usize)> {
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.trim_start().strip_prefix(key)
            && let Some(value) = rest.trim_start().strip_prefix('=')
        {
            let at = line.len() - value.trim_start().len();
            return Some(line_col(text, start + at));
        }
        start += line.len();
    }
    None
}

fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::*;

    const CHANNELS: &str = "[[channels]]\nid = \"c\"\nchat = \"@c\"\n\n\
                            [[channels]]\nid = \"d\"\nchat = -1001\n";

    #[test]
    fn channels_without_a_token_are_a_warning() {
        let text = format!("[general]\nuser_agent = \"x\"\n\n{CHANNELS}");
        let config = parse_str(&text).expect("valid");
        let w = delivery_off_warning(&config, &text, false).expect("a warning");
        assert_eq!((w.line, w.col), (4, 1));
        assert!(
            w.message.starts_with(
                "warning: 2 Telegram channels are configured, but TELOXIDE_TOKEN is not set in \
                 this environment: herald run here has delivery off and posts nothing to them"
            ),
            "{w}"
        );
        assert_eq!(delivery_off_warning(&config, &text, true), None);
        let none = parse_str("[general]\nuser_agent = \"x\"\n").expect("valid");
        assert_eq!(delivery_off_warning(&none, "", false), None);
    }

    #[test]
    fn a_loopback_public_url_served_to_other_machines_is_a_warning() {
        let text = "[general]\npublic_url = \"http://127.0.0.1:8080\"\n\n\
                    [server]\nlisten = \"0.0.0.0:8080\"\n";
        let config = parse_str(text).expect("valid");
        let w = loopback_public_url_warning(&config, text).expect("a warning");
        assert_eq!((w.line, w.col), (2, 14));
        assert!(
            w.message.starts_with(
                "warning: herald listens on 0.0.0.0:8080, open to other machines, but public_url \
                 is http://127.0.0.1:8080, which every reader reads as their own machine"
            ),
            "{w}"
        );
    }

    #[test]
    fn loopback_or_public_addresses_on_both_sides_are_no_warning() {
        for (listen, url, warned) in [
            ("127.0.0.1:8080", "http://127.0.0.1:8080", false),
            ("[::1]:8080", "http://localhost:8080", false),
            ("0.0.0.0:8080", "https://feeds.example.org", false),
            ("192.0.2.7:8080", "http://192.0.2.7:8080", false),
            ("0.0.0.0:8080", "http://localhost:8080", true),
            ("[::]:8080", "http://[::1]:8080/", true),
            ("0.0.0.0:8080", "http://0.0.0.0:8080", true),
            ("10.0.0.2:80", "http://app.localhost", true),
        ] {
            let text =
                format!("[general]\npublic_url = \"{url}\"\n[server]\nlisten = \"{listen}\"\n");
            let config = parse_str(&text).expect("valid");
            let w = loopback_public_url_warning(&config, &text);
            assert_eq!(w.is_some(), warned, "{listen} {url}: {w:?}");
        }
    }

    #[test]
    fn a_value_is_found_after_its_key() {
        let text = "a = 1\n  public_url= 'x'\npublic_urls = 2\n";
        assert_eq!(value_position(text, "public_url"), Some((2, 15)));
        assert_eq!(value_position(text, "user_agent"), None);
    }
}
