//! herald as a service, through the real binary: SIGHUP reloads, the token never shows, SIGTERM
//! in the middle of deliveries loses nothing.

use crate::common;

use common::site::{FakeSite, release_en};
use common::{Setup, write_config_on_free_port};
use fake_botapi::{FakeBotApi, FakeOptions, Fault, Match};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Child;

struct Service {
    site: FakeSite,
    api: FakeBotApi,
    _dir: tempfile::TempDir,
    config: PathBuf,
    log: PathBuf,
    port: u16,
}

async fn service(schedule: &str) -> Service {
    let api = FakeBotApi::start(FakeOptions {
        per_chat_per_second: 10,
        per_chat_per_minute: 600,
        ..FakeOptions::default()
    })
    .await;
    let site = FakeSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup {
        schedule: schedule.into(),
        source_keys: vec![(
            "akorda-en".into(),
            "channels = [\"en\"]\nbackfill = 0\nmax_pages = 5".into(),
        )],
        ..Setup::telegram(
            &api,
            "per_chat_per_second = 10\nper_chat_per_minute = 600\n\n\
             [[channels]]\nid = \"en\"\nchat = \"@herald_en\"\n",
        )
    };
    let (config, port) = write_config_on_free_port(dir.path(), &site, &setup);
    let log = dir.path().join("herald.log");
    Service {
        site,
        api,
        config,
        log,
        port,
        _dir: dir,
    }
}

fn start(s: &Service, rust_log: &str) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&s.log)
        .unwrap();
    common::herald_command()
        .args(["run", "-c"])
        .arg(&s.config)
        .env("TELOXIDE_TOKEN", fake_botapi::TOKEN)
        .env("RUST_LOG", rust_log)
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap()
}

async fn up(s: &Service) {
    let health = format!("http://127.0.0.1:{}/healthz", s.port);
    common::answering(&health, Duration::from_secs(20)).await;
}

fn signal(child: &Child, sig: &str) {
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success()
    );
}

async fn log_contains(path: &Path, needle: &str, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if std::fs::read_to_string(path)
            .unwrap_or_default()
            .contains(needle)
        {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_the_config() {
    let s = service("0 0 0 1 1 *").await;
    let mut child = start(&s, "info");
    up(&s).await;
    signal(&child, "-HUP");
    assert!(
        log_contains(
            &s.log,
            "SIGHUP: re-reading the config",
            Duration::from_secs(10)
        )
        .await
    );
    assert!(log_contains(&s.log, "config re-read: no change", Duration::from_secs(10)).await);
    signal(&child, "-TERM");
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_never_appears_in_logs_answers_or_check() {
    let s = service("* * * * * *").await;
    s.api.inject(
        Fault::AcceptThenDrop,
        Match::any().method("sendMessage").times(1),
    );
    s.api.inject(
        Fault::AcceptThenDrop,
        Match::any().method("sendPhoto").times(1),
    );
    s.site.publish("en", release_en(1, 1));
    let mut child = start(&s, "trace");
    up(&s).await;
    // Wait for the baseline poll, then a release whose first send loses its answer.
    tokio::time::sleep(Duration::from_secs(2)).await;
    s.site.publish("en", release_en(2, 2));
    s.api.wait_for_messages(1, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut served = String::new();
    for path in [
        "/healthz",
        "/metrics",
        "/",
        "/opml",
        "/feeds/all.rss",
        "/feeds/nope.rss",
    ] {
        let body = reqwest::get(format!("http://127.0.0.1:{}{path}", s.port))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        served.push_str(&body);
    }
    let health = served;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(log.len() > 1000, "expected a trace log");
    assert!(
        log.contains("will retry"),
        "the lost answer should have been logged"
    );
    let secret = fake_botapi::TOKEN.split(':').nth(1).unwrap();
    assert!(!log.contains(secret), "the token is in the log");
    assert!(
        !health.contains(secret),
        "the token is in an HTTP answer: {health}"
    );
    // `herald check` with the token in its environment, on a good and a broken config.
    let broken = s.config.with_file_name("broken.toml");
    std::fs::write(&broken, "[general\npublic_url = 1\n").unwrap();
    for config in [&s.config, &broken] {
        let out = common::herald_std_command()
            .args(["check", "-c"])
            .arg(config)
            .env("TELOXIDE_TOKEN", fake_botapi::TOKEN)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.is_empty());
        assert!(
            !text.contains(secret),
            "the token is in `herald check`: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_deliveries_loses_nothing() {
    let s = service("* * * * * *").await;
    s.site.publish("en", release_en(0, 1));
    let mut child = start(&s, "warn");
    up(&s).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    for n in 1..=30 {
        s.site.publish("en", release_en(n, 2));
    }
    s.api.wait_for_messages(5, Duration::from_secs(20)).await;
    signal(&child, "-TERM");
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0), "a clean stop");
    let during = s.api.messages().len();
    assert!(
        during < 30,
        "stopped before the end of the burst ({during})"
    );
    let mut child = start(&s, "warn");
    s.api.wait_for_messages(30, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let posts: Vec<String> = s
        .api
        .messages()
        .iter()
        .map(|m| m.caption.clone().unwrap_or_default())
        .collect();
    assert_eq!(posts.len(), 30, "each release once");
    for (n, p) in (1..=30).zip(&posts) {
        assert!(
            p.contains(&format!("number {n}<")),
            "out of order at {n}: {p}"
        );
    }
}
