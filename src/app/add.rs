//! `/add URL [CHANNEL]` and `/add confirm` (issue 24): an admin gives a list page, herald
//! proposes the `[[sources]]` block `herald suggest` would print, with its preview; confirmed
//! within ten minutes by the same admin, the block is appended to config.toml (the file's own
//! text, comments and layout stay as they are; `toml_edit` checks that only one source was
//! added), and the ordinary reload, `check` included, makes it
//! live. A config herald may not write (read-only: the shipped unit, container and ConfigMap)
//! is not written: the admin gets the block to paste. Every write is logged.

use crate::app::App;
use crate::config;
use crate::suggest::{self, Ask};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// How long a proposal waits for `/add confirm`.
pub const EXPIRES: Duration = Duration::from_secs(600);

/// A test hook (tests/add_command.rs): a proposal's lifetime in seconds, so that the real
/// binary's expiry is tested without waiting ten minutes.
const TEST_EXPIRES_ENV: &str = "HERALD_TEST_ADD_EXPIRES_SECS";

/// [`EXPIRES`], unless the test hook sets another lifetime.
fn lifetime() -> Duration {
    std::env::var(TEST_EXPIRES_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(EXPIRES, Duration::from_secs)
}

/// A block waiting for its admin's confirmation.
#[derive(Debug)]
struct Proposal {
    id: String,
    block: String,
    made: Instant,
}

/// Proposals per (config file, admin): one each, the latest.
static PROPOSALS: LazyLock<Mutex<HashMap<(PathBuf, i64), Proposal>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn proposals() -> std::sync::MutexGuard<'static, HashMap<(PathBuf, i64), Proposal>> {
    PROPOSALS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Drops `user`'s proposal, if any: a new `/add URL` from them is on its way, and an
/// `/add confirm` sent meanwhile must not write the one before it (the new one runs in a task
/// of its own, so the confirm may be answered first).
pub fn forget_proposal(app: &App, user: i64) {
    proposals().remove(&(app.config().path.clone(), user));
}

/// The answer to `/add ARGS` from `user` (an admin: checked by the caller).
pub async fn add(app: &App, user: i64, args: &[&str]) -> String {
    match args {
        ["confirm"] => confirm(app, user),
        [url] => propose(app, user, url, None).await,
        [url, channel] => propose(app, user, url, Some(channel)).await,
        _ => "Usage: /add URL [CHANNEL] proposes a source for a list page; /add confirm writes it \
              into the config"
            .into(),
    }
}

async fn propose(app: &App, user: i64, url: &str, channel: Option<&str>) -> String {
    let config = app.config();
    let Some(url) = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
    else {
        return format!("`{url}` is not an http(s) URL");
    };
    if let Some(c) = channel
        && config.channel(c).is_none()
    {
        let known: Vec<&str> = config.channels.iter().map(|c| c.id.as_str()).collect();
        return format!("no channel `{c}` (channels: {})", known.join(", "));
    }
    let ask = Ask {
        url,
        language: None,
        timezone: None,
        channels: channel.map(str::to_owned).into_iter().collect(),
        user_agent: config.general.user_agent.clone(),
        articles: 3,
    };
    let mut s = match suggest::suggest(&app.shared.fetcher, &ask).await {
        Ok(s) => s,
        Err(e) => return format!("No source proposed: {e}"),
    };
    // An id the config already has gets a number.
    let base = s.id.clone();
    let mut n = 2;
    while config.source(&s.id).is_some() {
        s.id = format!("{base}-{n}");
        n += 1;
    }
    if s.id != base {
        s.block = s.block.replacen(
            &format!("id = \"{base}\""),
            &format!("id = \"{}\"", s.id),
            1,
        );
    }
    s.block = bounded_title(&s.block);
    let mut text = format!("Proposed source `{}`:\n\n{}", s.id, s.block);
    for note in &s.notes {
        text.push_str(&format!("\nNote: {note}"));
    }
    text.push_str(&format!("\nPreview ({} releases):\n", s.preview.len()));
    for r in s.preview.iter().take(5) {
        let date = r.date.as_ref().map_or_else(
            || "(no date)".to_owned(),
            |d| suggest::list::written_day_in(d, s.timezone).to_string(),
        );
        text.push_str(&format!("• {date} {}\n  {}\n", r.title, r.link));
    }
    text.push_str("\nSend /add confirm within 10 minutes to add it to the config.");
    proposals().insert(
        (config.path.clone(), user),
        Proposal {
            id: s.id,
            block: s.block,
            made: Instant::now(),
        },
    );
    text
}

/// The longest source title `/add` writes, in characters: a page's `<title>` can be pages long.
const TITLE_CHARS: usize = 200;

/// The block with its source's `title = "…"` (a page's `<title>`) cut to [`TITLE_CHARS`] at a
/// word, with an ellipsis; the rest of the block as it was.
fn bounded_title(block: &str) -> String {
    let mut out = String::with_capacity(block.len());
    let mut in_source = true;
    for line in block.split_inclusive('\n') {
        if line.starts_with('[') && !line.starts_with("[[sources]]") {
            in_source = false;
        }
        let title = line
            .strip_prefix("title = ")
            .filter(|_| in_source)
            .and_then(|_| toml::from_str::<toml::Table>(line).ok())
            .and_then(|t| t.get("title")?.as_str().map(str::to_owned))
            .filter(|t| t.chars().count() > TITLE_CHARS);
        match title {
            Some(t) => {
                let cut = crate::extract::article::summary::cut(&t, TITLE_CHARS);
                out.push_str(&format!("title = {}\n", toml::Value::String(cut)));
            }
            None => out.push_str(line),
        }
    }
    out
}

/// What `/add confirm` finds of the admin's proposal.
#[derive(Debug)]
enum Taken {
    Live(Proposal),
    Expired,
    None,
}

/// Takes `user`'s proposal for the config at `path` out of `all` (an expired one too: it is
/// gone either way), live when made at most `lifetime` before `now`. Only the asking admin's
/// own key is looked at: another admin's proposal is never theirs to confirm.
fn take(
    all: &mut HashMap<(PathBuf, i64), Proposal>,
    path: &Path,
    user: i64,
    now: Instant,
    lifetime: Duration,
) -> Taken {
    match all.remove(&(path.to_path_buf(), user)) {
        Some(p) if now.saturating_duration_since(p.made) <= lifetime => Taken::Live(p),
        Some(_) => Taken::Expired,
        None => Taken::None,
    }
}

fn confirm(app: &App, user: i64) -> String {
    let path = app.config().path.clone();
    let taken = take(&mut proposals(), &path, user, Instant::now(), lifetime());
    let proposal = match taken {
        Taken::Live(p) => p,
        Taken::Expired => {
            tracing::info!(user, path = %path.display(), "/add confirm: the proposal expired; nothing written");
            return "Your proposal expired (10 minutes): nothing was written. Send /add URL again."
                .into();
        }
        Taken::None => return "No proposal of yours to confirm: send /add URL first.".into(),
    };
    match write(&path, &proposal.block) {
        Ok(()) => {
            tracing::info!(user, source = %proposal.id, path = %path.display(), "config written by /add confirm: source added");
            format!(
                "Source `{}` written into {}; it goes live with the reload (checked first; a \
                 refused edit is reported here).",
                proposal.id,
                path.display()
            )
        }
        Err(Refused::ReadOnly(why)) => {
            tracing::info!(user, source = %proposal.id, path = %path.display(), "/add confirm: the config is read-only; block sent to paste");
            format!(
                "The config {} cannot be written by herald ({why}). Paste this block into it \
                 yourself:\n\n{}",
                path.display(),
                proposal.block
            )
        }
        Err(Refused::Invalid(problems)) => {
            format!("Not written: the config with this source would not pass check:\n{problems}")
        }
    }
}

/// Why the block was not written.
enum Refused {
    ReadOnly(String),
    Invalid(String),
}

/// Appends `block` to the config at `path`, keeping its comments and layout, after checking
/// that the result passes `check`. A file without write permission, or on a read-only file
/// system, is not touched.
fn write(path: &Path, block: &str) -> Result<(), Refused> {
    let meta = std::fs::metadata(path).map_err(|e| Refused::ReadOnly(e.to_string()))?;
    if meta.permissions().readonly() {
        return Err(Refused::ReadOnly("the file is read-only".into()));
    }
    // Read as every reader of the config reads it (a regular file, bounded); a FIFO here would
    // also block the write below.
    let bytes = config::read_file(path).map_err(|e| Refused::ReadOnly(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|e| Refused::ReadOnly(e.to_string()))?;
    let new_text = appended(&text, block).map_err(Refused::Invalid)?;
    let base = path.parent().unwrap_or(Path::new("."));
    if let Err(problems) = config::parse(path, &new_text, base) {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(Refused::Invalid(lines.join("\n")));
    }
    // The file itself is rewritten (not replaced by a rename): a symlinked config stays a
    // symlink, and the watch sees one edit.
    std::fs::write(path, new_text).map_err(|e| Refused::ReadOnly(e.to_string()))
}

/// The config text with the block appended at its end, the file's own text untouched (its
/// comments and layout too). `toml_edit` checks the result: the file's tables are all kept as
/// they were, and `sources` gained exactly the block's one entry, last.
pub fn appended(text: &str, block: &str) -> Result<String, String> {
    let before: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| format!("the config is not valid TOML: {e}"))?;
    // The block's lines end as most of the file's do (a CRLF file stays CRLF).
    let crlf = text.matches("\r\n").count() * 2 > text.matches('\n').count();
    let eol = if crlf { "\r\n" } else { "\n" };
    let mut new_text = text.to_owned();
    if !new_text.is_empty() && !new_text.ends_with('\n') {
        new_text.push_str(eol);
    }
    new_text.push_str(eol);
    new_text.push_str(&block.replace("\r\n", "\n").replace('\n', eol));
    let after: toml_edit::DocumentMut = new_text
        .parse()
        .map_err(|e| format!("the config with the block is not valid TOML: {e}"))?;
    let count = |d: &toml_edit::DocumentMut| {
        d.get("sources")
            .and_then(|s| s.as_array_of_tables())
            .map_or(0, |a| a.len())
    };
    if count(&after) != count(&before) + 1 {
        return Err("the block did not add exactly one [[sources]] entry".into());
    }
    let same = before
        .iter()
        .filter(|(k, _)| *k != "sources")
        .all(|(k, v)| after.get(k).map(|a| a.to_string()) == Some(v.to_string()));
    if !same {
        return Err("the block would change other tables of the config".into());
    }
    Ok(new_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposal(made: Instant) -> Proposal {
        Proposal {
            id: "s".into(),
            block: "[[sources]]".into(),
            made,
        }
    }

    /// A proposal lives ten minutes, and only for the admin who asked.
    #[test]
    fn a_proposal_expires_after_ten_minutes_and_is_its_admins_alone() {
        let path = Path::new("/etc/herald/config.toml");
        let made = Instant::now();
        let mut all = HashMap::new();
        let fresh = |all: &mut HashMap<_, _>| {
            all.insert((path.to_path_buf(), 1), proposal(made));
        };
        fresh(&mut all);
        let just = made + Duration::from_secs(599);
        assert!(matches!(
            take(&mut all, path, 2, just, EXPIRES),
            Taken::None
        ));
        assert!(matches!(
            take(&mut all, path, 1, just, EXPIRES),
            Taken::Live(_)
        ));
        // Taken once: a second confirm finds nothing.
        assert!(matches!(
            take(&mut all, path, 1, just, EXPIRES),
            Taken::None
        ));
        fresh(&mut all);
        let edge = made + EXPIRES;
        assert!(matches!(
            take(&mut all, path, 1, edge, EXPIRES),
            Taken::Live(_)
        ));
        fresh(&mut all);
        let late = made + EXPIRES + Duration::from_millis(1);
        assert!(matches!(
            take(&mut all, path, 1, late, EXPIRES),
            Taken::Expired
        ));
        // The expired proposal is gone.
        assert!(matches!(
            take(&mut all, path, 1, late, EXPIRES),
            Taken::None
        ));
        // Another config's proposal of the same admin is another proposal.
        fresh(&mut all);
        let other = Path::new("/srv/other.toml");
        assert!(matches!(
            take(&mut all, other, 1, just, EXPIRES),
            Taken::None
        ));
        assert_eq!(all.len(), 1);
    }

    /// A page `<title>` of 5,600 characters becomes a title of at most 200, cut at a word; the
    /// list's `title` selector and the rest of the block stay.
    #[test]
    fn a_long_page_title_is_cut_at_a_word() {
        let long = "Ministry news and more ".repeat(250);
        let block = format!(
            "[[sources]]\nid = \"s\"\ntitle = {}\nurl = \"https://a.example/\"\n\n[sources.list]\nitem = \"li\"\ntitle = \"h3 a\"\n",
            toml::Value::String(long.clone())
        );
        let out = bounded_title(&block);
        let v: toml::Table = toml::from_str(&out).unwrap();
        let source = &v["sources"][0];
        let title = source["title"].as_str().unwrap();
        assert!(title.chars().count() <= TITLE_CHARS, "{title}");
        assert!(title.ends_with("news…"), "{title}");
        assert!(long.starts_with(title.trim_end_matches('…')));
        assert_eq!(source["list"]["title"].as_str(), Some("h3 a"));
        assert_eq!(source["url"].as_str(), Some("https://a.example/"));
        // A short title is left as it was.
        let short = "[[sources]]\nid = \"s\"\ntitle = \"News\"\n";
        assert_eq!(bounded_title(short), short);
    }

    /// A config written with CRLF line ends gets the block with CRLF too; an LF one with LF.
    #[test]
    fn the_block_takes_the_files_line_ending() {
        let block = "[[sources]]\nid = \"b\"\nurl = \"https://b.example/\"\n";
        let text = "# mine\r\n[[sources]]\r\nid = \"a\"\r\nurl = \"https://a.example/\"";
        let out = appended(text, block).unwrap();
        assert!(out.starts_with(text), "{out:?}");
        assert_eq!(
            out.matches('\n').count(),
            out.matches("\r\n").count(),
            "{out:?}"
        );
        assert!(
            out.ends_with("id = \"b\"\r\nurl = \"https://b.example/\"\r\n"),
            "{out:?}"
        );
        let lf = appended("[general]\n", block).unwrap();
        assert!(!lf.contains('\r'), "{lf:?}");
    }

    #[test]
    fn appending_keeps_comments_and_layout() {
        let text = "# my sources\n[general]\ndata_dir = \"data\"   # here\n\n[[sources]]\nid = \"a\"  # first\nurl = \"https://a.example/\"\n\n[sources.list]\nitem = \"li\"\ntitle = \"a\"\nlink = \"a@href\"\n\n[[channels]]\nid = \"c\"\nchat = \"@c\"\n";
        let block = "[[sources]]\nid = \"b\"\nurl = \"https://b.example/\"\n\n[sources.list]\nitem = \"div.card\"\ntitle = \"h3 a\"\nlink = \"h3 a@href\"\n";
        let out = appended(text, block).unwrap();
        assert!(out.starts_with(text), "{out}");
        assert!(out.contains("data_dir = \"data\"   # here"), "{out}");
        assert!(out.contains("id = \"a\"  # first"), "{out}");
        assert!(out.contains("item = \"div.card\""), "{out}");
        let v: toml::Value = toml::from_str(&out).unwrap();
        assert_eq!(v["sources"].as_array().unwrap().len(), 2);
        assert_eq!(v["sources"][1]["list"]["item"].as_str(), Some("div.card"));
        assert_eq!(v["channels"][0]["id"].as_str(), Some("c"));
    }
}
