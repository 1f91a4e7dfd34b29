//! What the real binary writes where, as a shell or a service manager sees it: output into a
//! pipe that closes early, logs without colour codes off a terminal, `--log-format json` lines
//! from the first to the last, and each `extract` error once.

use crate::common;

use common::site::{FakeSite, Mode, release_en};
use common::{Setup, command_output as output, config_text, herald_command as herald, stderr};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// A fake site with one release, and a config reading it (`setup` applied).
async fn instance(setup: &Setup) -> (FakeSite, tempfile::TempDir, PathBuf) {
    let site = FakeSite::start().await;
    site.publish("en", release_en(1, 20));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, config_text(&site, "http://127.0.0.1:8080", setup)).unwrap();
    (site, dir, config)
}

/// `herald preview … | head` and `herald poll --dry-run … | head`: the reader is gone before
/// herald writes (its end of the pipe is closed at once), and herald stops quietly with exit 0.
#[tokio::test(flavor = "multi_thread")]
async fn output_into_a_closed_pipe_ends_quietly() {
    let (_site, _dir, config) = instance(&Setup::default()).await;
    for args in [
        &["preview", "akorda-en"][..],
        &["poll", "akorda-en", "--dry-run"],
        &["poll", "akorda-en", "--dry-run", "--json"],
    ] {
        let mut child = herald()
            .args(args)
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let o = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            !err.to_lowercase().contains("broken pipe"),
            "{args:?}: {err}"
        );
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
    }
}

/// Logs into a pipe (journald, a file) carry no colour codes: they would show as noise.
#[tokio::test(flavor = "multi_thread")]
async fn logs_off_a_terminal_have_no_colour_codes() {
    let (site, _dir, config) = instance(&Setup::default()).await;
    site.set_mode("en", Mode::Error);
    // Debug: log lines of every kind (the command says the failure itself, not in the log).
    let o = output(
        herald()
            .args(["poll", "akorda-en", "-c"])
            .arg(&config)
            .env("RUST_LOG", "debug"),
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("DEBUG"), "no log line to look at: {err}");
    assert!(!err.contains("\x1b["), "colour codes in: {err:?}");
    // The time in the form of the index page and /status: "2026-12-05 12:21:47 UTC DEBUG …".
    let line = err.lines().find(|l| l.contains("DEBUG")).unwrap();
    let shown = regex::Regex::new(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC ").unwrap();
    assert!(shown.is_match(line), "{line}");
}

/// `herald run --log-format json`: every line on stderr is a JSON event, from the config's
/// warnings at start to the last line after SIGTERM.
#[tokio::test(flavor = "multi_thread")]
async fn run_with_json_logs_writes_nothing_but_json_lines() {
    let setup = Setup {
        source_keys: vec![("akorda-en".into(), "insecure_tls = true".into())],
        ..Setup::default()
    };
    let (_site, _dir, config) = instance(&setup).await;
    let mut child = herald()
        .args(["--log-format", "json", "run", "-c"])
        .arg(&config)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let started = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let running = line.contains("herald is running");
            seen.push(line);
            if running {
                return;
            }
        }
        panic!("herald run ended before it was running");
    })
    .await;
    assert!(started.is_ok(), "herald run did not start: {seen:#?}");
    let pid = child.id().unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            seen.push(line);
        }
    })
    .await
    .expect("herald run did not stop");
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), Some(0), "{seen:#?}");

    for line in &seen {
        let event: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}\nall: {seen:#?}"));
        assert!(event.get("level").is_some(), "{line}");
    }
    let warned = |needle: &str| {
        seen.iter()
            .any(|l| l.contains(needle) && l.contains("\"WARN\""))
    };
    assert!(warned("insecure_tls is on"), "config warning: {seen:#?}");
    assert!(warned("Telegram delivery is off"), "{seen:#?}");
}

/// An input `extract` cannot read is reported once, on stderr, not also on stdout.
#[tokio::test]
async fn an_extract_error_is_printed_once() {
    let missing = "/nonexistent/page.html";
    let o = output(herald().args(["extract", missing])).await;
    assert_eq!(o.status.code(), Some(1));
    let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert_eq!(all.matches(missing).count(), 1, "{all}");
    assert!(stderr(&o).contains(missing), "on stderr: {all}");
}
