//! Shared test harness: a fake site, and `spawn_app()` that runs the real herald (real sled in a
//! temp dir, real HTTP server on port 0) against it. One of each: `Setup::telegram(&fake, ..)`
//! points an app at the fake Bot API (the `fake-botapi` crate), `eventually` waits for a
//! condition, `answering` waits for herald to answer, `herald_command` starts the binary.
//!
//! Also a module of the binaries that run alone (`tests/*.rs`), which use a part of it each.

#![allow(dead_code)]

pub mod peers;
pub mod site;
pub mod truth;

use fake_botapi::FakeBotApi;
use herald::app::{App, Options};
use herald::fetch::FetcherOptions;
use herald::pipeline::{PollOptions, PollReport};
use herald::telegram::Token;
use site::FakeSite;
use std::path::PathBuf;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub struct TestApp {
    pub app: App,
    pub site: FakeSite,
    pub base: String,
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub http: reqwest::Client,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// What a test may change in the config.
pub struct Setup {
    /// Cron for every source; the default never fires during a test.
    pub schedule: String,
    pub extra_source_keys: String,
    /// Keys for one source only: (source id, TOML lines).
    pub source_keys: Vec<(String, String)>,
    /// Extra TOML put before the rest of the config (e.g. `[telegram]` and `[[channels]]`).
    pub extra_config: String,
    /// Extra keys of the `[server]` table (e.g. `websub_hub`).
    pub server_keys: String,
    /// Telegram on with this token.
    pub token: Option<Token>,
    /// Use this database folder (to restart on the same data); default: a fresh one.
    pub data_dir: Option<PathBuf>,
    /// The config as written, instead of one made for this app: a restart on the same data
    /// that keeps the addresses of the app before (its `public_url`, its sources' pages), so
    /// that its feeds can be the same bytes.
    pub config_text: Option<String>,
    /// Poll every source once within this long after start; default: only on the schedule.
    pub first_poll_window: Option<Duration>,
    /// The config path is a symlink to `real/config.toml` (`config_path` stays the link).
    pub symlinked_config: bool,
    /// The Bot API request timeout; default 3 s. teloxide reads a 5xx answer only after 10 s,
    /// so a test of what a 5xx means needs more.
    pub telegram_timeout: Option<Duration>,
    /// Replaces the first text with the second in the config file after it was read and the
    /// app made, before it runs (an edit made while herald starts).
    pub edited_before_run: Option<(String, String)>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            schedule: "0 0 0 1 1 *".into(),
            extra_source_keys: String::new(),
            source_keys: Vec::new(),
            extra_config: String::new(),
            server_keys: String::new(),
            token: None,
            data_dir: None,
            config_text: None,
            first_poll_window: None,
            symlinked_config: false,
            telegram_timeout: None,
            edited_before_run: None,
        }
    }
}

impl Setup {
    /// Telegram on, against the fake Bot API `fake`: its token, and in `extra_config` a
    /// `[telegram]` table with the fake's `api_url`, then `config` (more `[telegram]` keys, then
    /// `[[channels]]` and any other tables).
    pub fn telegram(fake: &FakeBotApi, config: &str) -> Setup {
        Setup {
            extra_config: format!("[telegram]\napi_url = \"{}\"\n{config}", fake.url()),
            token: Some(Token::new(fake_botapi::TOKEN)),
            ..Setup::default()
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Setup::default()).await
}

/// `App::new`, waiting a moment while the database is still locked. A test that reopens the
/// data folder of an app it stopped can meet the lock of that app for a little while: a child
/// process another test of this binary starts (fork or vfork, then exec) holds a copy of every
/// open file until its exec closes them, and with them sled's lock.
async fn open_app(config: herald::config::Config, options: herald::app::Options) -> App {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match App::new(config.clone(), options.clone()) {
            Ok(app) => return app,
            Err(e)
                if matches!(
                    e.downcast_ref::<herald::store::StoreError>(),
                    Some(herald::store::StoreError::Locked(_))
                ) && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
}

/// Opens the data folder of an app the test stopped, waiting a moment while its lock is still
/// held (by the stopped app's tasks, or by a child process another test started; see
/// `open_app`).
pub fn open_store(dir: &std::path::Path) -> herald::store::Store {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match herald::store::Store::open(dir, 1 << 20) {
            Err(herald::store::StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other.unwrap(),
        }
    }
}

pub async fn spawn_app_with(setup: Setup) -> TestApp {
    let site = FakeSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config_path = dir.path().join("config.toml");
    let text = setup
        .config_text
        .clone()
        .unwrap_or_else(|| config_text(&site, &base, &setup));
    if setup.symlinked_config {
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join("config.toml"), text).unwrap();
        std::os::unix::fs::symlink(real.join("config.toml"), &config_path).unwrap();
    } else {
        std::fs::write(&config_path, text).unwrap();
    }
    let config = herald::config::load(&config_path).unwrap_or_else(|problems| {
        panic!(
            "test config invalid: {}",
            problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    let options = Options {
        token: setup.token.clone(),
        fetcher: FetcherOptions {
            timeout: Duration::from_secs(2),
            ..FetcherOptions::default()
        },
        telegram_timeout: Some(setup.telegram_timeout.unwrap_or(Duration::from_secs(3))),
        // Fast retries, so that a test of a failing hub sees them all.
        websub: herald::websub::PingOptions {
            timeout: Duration::from_secs(1),
            attempts: 3,
            first_backoff: Duration::from_millis(10),
            retry_later: Duration::from_millis(500),
        },
        first_poll_window: setup.first_poll_window,
    };
    let app = open_app(config, options).await;
    if let Some((from, to)) = &setup.edited_before_run {
        let text = std::fs::read_to_string(&config_path).unwrap();
        std::fs::write(&config_path, text.replacen(from.as_str(), to, 1)).unwrap();
    }
    let stop = CancellationToken::new();
    let task = tokio::spawn(app.clone().run(listener, stop.clone()));
    // Serving means started: the config watcher and the schedules are in place.
    answering(&format!("{base}/healthz"), Duration::from_secs(20)).await;
    let http = reqwest::Client::new();
    TestApp {
        app,
        site,
        base,
        dir,
        config_path,
        http,
        stop,
        task,
    }
}

/// How akorda.kz's list pages (and the fake site's) are read: the `[sources.list]` block.
pub const AKORDA_LIST: &str = r#"[sources.list]
item = "div.card"
title = "h3 a"
link = "h3 a@href"
date = "h5"
summary = "p"
image = "img@src"
"#;

/// A config of one source reading akorda.kz's English list page, for tests of the pure parts.
pub fn one_akorda_source() -> herald::config::Config {
    let text = format!(
        "[[sources]]\nid = \"s\"\nurl = \"https://www.akorda.kz/en/events\"\n\
         schedule = \"0 */10 * * * *\"\ntimezone = \"Asia/Almaty\"\n{AKORDA_LIST}"
    );
    herald::config::parse(
        std::path::Path::new("one.toml"),
        &text,
        std::path::Path::new("/tmp"),
    )
    .unwrap_or_else(|e| panic!("{e:?}"))
}

pub fn config_text(site: &FakeSite, base: &str, setup: &Setup) -> String {
    let mut text = setup.extra_config.clone();
    text.push_str(&format!(
        r#"
[general]
data_dir = "{data_dir}"
public_url = "{base}"
user_agent = "herald-test"

[server]
listen = "127.0.0.1:0"
{server_keys}
"#,
        server_keys = setup.server_keys,
        data_dir = setup
            .data_dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "data".into()),
    ));
    for (id, lang, title) in [
        ("akorda-en", "en", "Akorda — press releases"),
        ("akorda-ru", "ru", "Акорда — пресс-релизы"),
        ("akorda-kz", "kz", "Ақорда — баспасөз хабарламалары"),
    ] {
        text.push_str(&format!(
            r#"
[[sources]]
id = "{id}"
title = "{title}"
url = "{url}"
schedule = "{schedule}"
timezone = "Asia/Almaty"
language = "{lang}"
id_pattern = '-(\d+)$'
{extra}
{own}

{list}"#,
            list = AKORDA_LIST,
            url = site.list_url(lang),
            schedule = setup.schedule,
            extra = setup.extra_source_keys,
            own = setup
                .source_keys
                .iter()
                .filter(|(s, _)| s == id)
                .map(|(_, keys)| keys.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        ));
    }
    text
}

/// For tests that run the binary: a free port, and a config file in `dir` that listens on it.
pub fn write_config_on_free_port(
    dir: &std::path::Path,
    site: &FakeSite,
    setup: &Setup,
) -> (PathBuf, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = config_text(site, &format!("http://127.0.0.1:{port}"), setup).replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    let config = dir.join("config.toml");
    std::fs::write(&config, text).unwrap();
    (config, port)
}

impl TestApp {
    /// A poll as the schedule runs it: conditional, known releases counted, not reported.
    pub async fn poll(&self, id: &str) -> Result<PollReport, herald::pipeline::PollError> {
        self.poll_with(id, false).await
    }

    /// A conditional poll that also reports every known release (as `herald poll` lists them).
    pub async fn poll_reporting_known(
        &self,
        id: &str,
    ) -> Result<PollReport, herald::pipeline::PollError> {
        self.poll_with(id, true).await
    }

    async fn poll_with(
        &self,
        id: &str,
        report_known: bool,
    ) -> Result<PollReport, herald::pipeline::PollError> {
        let source = self.app.config().source(id).unwrap().clone();
        let options = PollOptions {
            conditional: true,
            report_known,
        };
        self.app.poll(&source, options).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// A conditional GET of `path` with `If-None-Match: tag`.
    pub async fn get_if_none_match(&self, path: &str, tag: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::IF_NONE_MATCH, tag)
            .send()
            .await
            .unwrap()
    }

    /// `/healthz`, as JSON.
    pub async fn health(&self) -> serde_json::Value {
        self.get("/healthz").await.json().await.unwrap()
    }

    pub async fn text(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.text().await.unwrap()
    }

    pub async fn stop(self) {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
    }
}

/// Runs the W3C Feed Validation Service's code (`../shared/tools/w3c-feed-validate`, offline)
/// on `urls` and asserts that it finds no error and no warning in any. The validator exists only
/// beside the project on our machines (CI has it): without it this prints one SKIPPED line and
/// checks nothing, so that a clone with nothing beside it still runs the rest of its test.
pub async fn assert_w3c_valid(urls: &[String]) {
    let tool =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/w3c-feed-validate");
    if !tool.exists() {
        // Once per test binary, and past libtest's capture (which hides `eprintln!` of passing
        // tests), so that the run says what it did not check.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: W3C validator not found (../shared/tools)"
            );
        });
        return;
    }
    // Its first run makes its venv; two tests doing that at once would see a half-made one.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    let out = tokio::process::Command::new(&tool)
        .args(urls)
        .output()
        .await
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "validator:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        report.matches("errors=0 warnings=0").count(),
        urls.len(),
        "{report}"
    );
}

/// Waits for the wall clock's next whole second: what follows (up to most of a second) falls
/// within one HTTP date.
pub async fn at_a_second_start() {
    let nanos = chrono::Utc::now().timestamp_subsec_nanos() as u64;
    tokio::time::sleep(std::time::Duration::from_nanos(1_000_000_000 - nanos)).await;
}

/// Waits until `cond` holds, checking every 50 ms; fails the test, naming `what`, after `within`.
pub async fn eventually(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until herald (an app or a process) answers a GET of `url`, checking every 20 ms; fails
/// the test after `within`.
pub async fn answering(url: &str, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while reqwest::get(url).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "herald did not answer {url} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An HTTP/2 HEADERS frame on stream 1 asking `GET path` (END_STREAM | END_HEADERS), for tests
/// that speak HTTP/2 by hand. HPACK (RFC 7541): :method GET, :scheme http (static table), :path
/// and :authority as literals with indexed names.
pub fn h2_get_headers(path: &str) -> Vec<u8> {
    let mut block = vec![0x82, 0x86, 0x04, path.len() as u8];
    block.extend_from_slice(path.as_bytes());
    block.extend_from_slice(&[0x01, 1, b'x']);
    let mut frame = vec![0, 0, block.len() as u8, 0x1, 0x5, 0, 0, 0, 1];
    frame.extend_from_slice(&block);
    frame
}

/// An HTTP client that asks for no compression and decompresses nothing: bodies as sent.
pub fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .build()
        .unwrap()
}

/// Reads a served feed with Python feedparser (a real third-party reader) and returns its
/// summary as JSON: bozo flag, and per entry id, link, title, published, has_content.
pub fn feedparser(url: &str) -> serde_json::Value {
    let python = std::env::var("HERALD_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = r#"
import json, sys, feedparser
d = feedparser.parse(sys.argv[1])
print(json.dumps({
  "bozo": int(bool(d.bozo)), "bozo_exception": str(d.get("bozo_exception", "")),
  "version": d.version,
  "title": d.feed.get("title"),
  "entries": [{
    "id": e.get("id"), "link": e.get("link"), "title": e.get("title"),
    "published": e.get("published_parsed") is not None and list(e.published_parsed)[:6],
    "has_content": bool(e.get("content") or e.get("summary")),
  } for e in d.entries],
}))
"#;
    let out = std::process::Command::new(&python)
        .args(["-c", script, url])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e} (run the tests with scripts/test)"));
    assert!(
        out.status.success(),
        "feedparser failed (is it installed? run the tests with scripts/test): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The real `herald` binary with a clean environment (no config path, no token, warnings only),
/// killed if dropped before it ends. Every test that runs herald as a process starts it here (a
/// test sets what it needs on top: a token, another `RUST_LOG`).
pub fn herald_command() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::from(herald_std_command());
    cmd.kill_on_drop(true);
    cmd
}

/// [`herald_command`] as a `std` command, for a test that blocks on it or reaps it itself
/// (`wait4` for its peak memory). Not killed on drop: wait for it.
pub fn herald_std_command() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_herald"));
    cmd.env_remove("HERALD_CONFIG")
        .env_remove("TELOXIDE_TOKEN")
        .env("RUST_LOG", "warn");
    cmd
}

/// What a finished process wrote to stderr, as text.
pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `cmd` to its end, at most 60 s.
pub async fn command_output(cmd: &mut tokio::process::Command) -> std::process::Output {
    tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("herald did not finish in 60 s")
        .unwrap()
}
