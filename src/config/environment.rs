//! What a valid config does where it runs: channels with no bot token to post with, links to a
//! loopback address served to readers on other machines (warnings), and a `data_dir` herald
//! cannot make or write (a problem of `check`). They depend on the environment
//! (`TELOXIDE_TOKEN`, `HERALD_LISTEN`, `HERALD_DATA_DIR`, the user, the mounts), so the file
//! alone does not decide them.

use super::{Config, Diagnostic};
use std::net::IpAddr;
use std::path::Path;
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

/// `data_dir` (after `HERALD_DATA_DIR`) as this process finds it: a problem when herald could
/// neither make it nor write in it, judged without making anything. The folder when it exists,
/// else the nearest folder above it that does: a file in the way, a read-only file system, a
/// kernel file system (`/proc`, `/sys`), or a folder this user may not write in. Said at
/// `data_dir` in `text` (1:1 when the environment named it).
pub fn data_dir_problem(config: &Config, text: &str) -> Option<Diagnostic> {
    folder_problem(&config.path, &config.general.data_dir, text)
}

/// [`data_dir_problem`] for a config that has other problems (so no [`Config`]): the folder
/// `HERALD_DATA_DIR` names, else the file's `[general] data_dir` (relative to `base_dir`; none
/// written is `data` there). Nothing when the file's value is not a string (a problem of its
/// own, told already).
pub(super) fn written_data_dir_problem(
    path: &Path,
    text: &str,
    base_dir: &Path,
) -> Option<Diagnostic> {
    let dir = match std::env::var("HERALD_DATA_DIR") {
        Ok(dir) if !dir.trim().is_empty() => std::path::absolute(dir).ok()?,
        _ => {
            let (document, _) = toml::de::DeTable::parse_recoverable(text);
            let general = document.get_ref().get("general").map(|g| g.get_ref());
            match general.and_then(|g| g.as_table()?.get("data_dir")) {
                None => base_dir.join("data"),
                Some(value) => match value.get_ref().as_str() {
                    Some(dir) if !dir.is_empty() => base_dir.join(dir),
                    _ => return None,
                },
            }
        }
    };
    folder_problem(path, &dir, text)
}

/// Why `dir`, the data folder of the config file `path` (its text `text`), cannot be used.
fn folder_problem(path: &Path, dir: &Path, text: &str) -> Option<Diagnostic> {
    let from_env = std::env::var("HERALD_DATA_DIR").is_ok_and(|v| !v.trim().is_empty());
    let why = unusable_folder(dir)?;
    let (line, col) = if from_env {
        (1, 1)
    } else {
        value_position(text, "data_dir").unwrap_or((1, 1))
    };
    let named = if from_env {
        " (from HERALD_DATA_DIR)"
    } else {
        ""
    };
    Some(Diagnostic {
        path: path.display().to_string(),
        line,
        col,
        message: format!(
            "`data_dir` {}{named} cannot be used: {why}; name a folder herald can make or \
             write in",
            dir.display()
        ),
    })
}

/// Why herald could not make `dir` or write in it, if so.
fn unusable_folder(dir: &Path) -> Option<String> {
    let mut at = dir;
    loop {
        match std::fs::metadata(at) {
            Ok(meta) if meta.is_dir() => break,
            Ok(_) => return Some(format!("{} is a file, not a folder", at.display())),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                at = at.parent()?;
            }
            Err(e) => return Some(format!("{} cannot be read: {e}", at.display())),
        }
    }
    let made = if at == dir {
        String::new()
    } else {
        " (where it would be made)".to_owned()
    };
    let place = at.display();
    if let Some(kind) = kernel_file_system(at) {
        return Some(format!(
            "{place}{made} is on the {kind} file system, where no folder can be made"
        ));
    }
    if rustix::fs::statvfs(at)
        .is_ok_and(|v| v.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY))
    {
        return Some(format!("{place}{made} is on a read-only file system"));
    }
    let access = rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK;
    match rustix::fs::access(at, access) {
        Ok(()) => None,
        Err(_) => Some(format!(
            "this user (uid {}) may not write in {place}{made} (run check as the user herald \
             runs as)",
            rustix::process::geteuid().as_raw(),
        )),
    }
}

/// The name of the kernel's file system that `path` is on, when it is one where no folder can
/// be made (`/proc`, `/sys` and their kind); writable for root by its modes, so `access` does not
/// tell.
fn kernel_file_system(path: &Path) -> Option<&'static str> {
    const KINDS: [(i64, &str); 10] = [
        (0x9fa0, "proc"),
        (0x6265_6572, "sysfs"),
        (0x0027_e0eb, "cgroup"),
        (0x6367_7270, "cgroup2"),
        (0x1cd1, "devpts"),
        (0x7363_6673, "securityfs"),
        (0x6462_6720, "debugfs"),
        (0x7472_6163, "tracefs"),
        (0xcafe_4a11, "bpf"),
        (0x6265_6570, "configfs"),
    ];
    let kind = rustix::fs::statfs(path).ok()?.f_type as i64;
    KINDS
        .iter()
        .find(|(magic, _)| *magic == kind)
        .map(|(_, name)| *name)
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
    let col = super::diagnostics::column(before.rsplit('\n').next().unwrap_or(""));
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

    /// What herald could not make or write in is refused, judged without making anything.
    #[test]
    fn a_data_dir_herald_cannot_make_is_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let refused = [
            (
                "/proc/herald",
                "/proc (where it would be made) is on the proc file system",
            ),
            (
                "/proc/herald/data",
                "/proc (where it would be made) is on the proc file system",
            ),
            ("/sys/kernel/herald", "is on the sysfs file system"),
            (
                &format!("{}/a/b", file.display()),
                "file is a file, not a folder",
            ),
        ];
        for (data_dir, why) in refused {
            let text = format!("[general]\nuser_agent = \"x\"\ndata_dir = \"{data_dir}\"\n");
            let config = parse_str(&text).expect("valid");
            let p = data_dir_problem(&config, &text).expect(data_dir);
            assert_eq!((p.line, p.col), (3, 12), "{p}");
            assert!(
                p.message
                    .starts_with(&format!("`data_dir` {data_dir} cannot be used: "))
                    && p.message.contains(why),
                "{p}"
            );
            assert!(!Path::new(data_dir).exists(), "nothing made");
        }
        for fine in [dir.path().to_path_buf(), dir.path().join("new/deeper")] {
            let text = format!("[general]\ndata_dir = \"{}\"\n", fine.display());
            let config = parse_str(&text).expect("valid");
            assert_eq!(data_dir_problem(&config, &text), None, "{}", fine.display());
        }
        assert!(!dir.path().join("new").exists(), "nothing made");
    }

    #[test]
    fn a_value_is_found_after_its_key() {
        let text = "a = 1\n  public_url= 'x'\npublic_urls = 2\n";
        assert_eq!(value_position(text, "public_url"), Some((2, 15)));
        assert_eq!(value_position(text, "user_agent"), None);
    }
}
