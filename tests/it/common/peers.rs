//! Third-party programs that read herald's output in the tests: newsboat (Debian), feedsmith
//! (npm, in `tests/peers`) and headless Chromium (Debian). `scripts/test` installs them and sets
//! `HERALD_PEERS=required`; without it, a test whose peer is missing says so and passes.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The program to run for `name`, or None (after saying why) when it is missing and allowed to be.
pub fn find(name: &str, env: &str) -> Option<PathBuf> {
    let program = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(name));
    let found = Command::new(&program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(program);
    }
    assert!(
        std::env::var("HERALD_PEERS").as_deref() != Ok("required"),
        "{name} is required (HERALD_PEERS=required) but `{} --version` fails; run scripts/peers",
        program.display()
    );
    eprintln!("SKIPPED: {name} is not installed (scripts/peers installs it)");
    None
}

fn run(command: &mut Command) -> String {
    let out = command.output().expect("the peer starts");
    assert!(
        out.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// newsboat with its own home, config, URL list and cache under `dir`.
pub struct Newsboat {
    program: PathBuf,
    dir: PathBuf,
}

impl Newsboat {
    pub fn new(dir: &Path) -> Option<Newsboat> {
        let program = find("newsboat", "HERALD_NEWSBOAT")?;
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("config"), "").unwrap();
        std::fs::write(dir.join("urls"), "").unwrap();
        Some(Newsboat {
            program,
            dir: dir.to_owned(),
        })
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.env("HOME", &self.dir)
            .env("XDG_CONFIG_HOME", self.dir.join("xdg-config"))
            .env("XDG_DATA_HOME", self.dir.join("xdg-data"))
            .env("LANG", "C.UTF-8")
            .env("LC_ALL", "C.UTF-8")
            .arg("-C")
            .arg(self.dir.join("config"))
            .arg("-u")
            .arg(self.dir.join("urls"))
            .arg("-c")
            .arg(self.dir.join("cache.db"));
        c
    }

    pub fn set_urls(&self, urls: &[String]) {
        std::fs::write(self.dir.join("urls"), urls.join("\n") + "\n").unwrap();
    }

    pub fn urls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("urls"))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| l.split_whitespace().next().unwrap().to_owned())
            .collect()
    }

    /// `newsboat -i FILE`: adds the OPML file's feeds to the URL list.
    pub fn import_opml(&self, opml: &Path) {
        run(self.command().arg("-i").arg(opml));
    }

    /// `newsboat -x reload`, then the items newsboat stored: (feed URL, title), per its cache.
    /// newsboat keeps one item per GUID across all its feeds, so a list holding both a source's
    /// feed and `all` shows each shared item under one of them only.
    pub fn reload(&self) -> Vec<(String, String)> {
        run(self.command().args(["-x", "reload"]));
        let python = std::env::var("HERALD_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = "import json, sqlite3, sys\n\
            db = sqlite3.connect(sys.argv[1])\n\
            rows = db.execute('select feedurl, title from rss_item order by feedurl, pubDate desc, id').fetchall()\n\
            print(json.dumps(rows))";
        let out = run(Command::new(python)
            .args(["-c", script])
            .arg(self.dir.join("cache.db")));
        serde_json::from_str(&out).unwrap()
    }
}

/// Reads a served feed with feedsmith (`tests/peers/read-feed.mjs`): what it detected and read.
pub fn feedsmith(url: &str) -> Option<serde_json::Value> {
    let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers");
    let node = find("node", "HERALD_NODE")?;
    if !peers.join("node_modules/feedsmith").exists() {
        assert!(
            std::env::var("HERALD_PEERS").as_deref() != Ok("required"),
            "feedsmith is missing: run `npm ci --prefix tests/peers` (scripts/peers does)"
        );
        eprintln!("SKIPPED: feedsmith is not installed (npm ci --prefix tests/peers)");
        return None;
    }
    let out = run(Command::new(node).arg(peers.join("read-feed.mjs")).arg(url));
    Some(serde_json::from_str(&out).unwrap())
}

/// Headless Chromium, started as the machine allows (no sandbox as root, no background
/// networking on a closed network), each time with a fresh profile.
pub struct Chromium {
    program: PathBuf,
}

impl Chromium {
    pub fn new() -> Option<Chromium> {
        Some(Chromium {
            program: find("chromium", "HERALD_CHROMIUM")?,
        })
    }

    fn command(&self, profile: &Path) -> Command {
        let mut c = Command::new(&self.program);
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
        c
    }

    /// The DOM after loading `url`, and what Chromium logged (console messages, CSP reports).
    pub fn dump_dom(&self, url: &str) -> (String, String) {
        let profile = tempfile::tempdir().unwrap();
        let out = self
            .command(profile.path())
            .arg("--dump-dom")
            .arg(url)
            .output()
            .unwrap();
        assert!(out.status.success(), "chromium --dump-dom failed");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// A PNG of `url` at the given window size.
    pub fn screenshot(&self, url: &str, path: &Path, width: u32, height: u32) {
        let profile = tempfile::tempdir().unwrap();
        let out = self
            .command(profile.path())
            .arg("--hide-scrollbars")
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("--screenshot={}", path.display()))
            .arg(url)
            .output()
            .unwrap();
        assert!(
            out.status.success() && path.exists(),
            "chromium --screenshot failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
