//! The command line as an admin uses it: the real binary, its exit codes and output shapes.

use crate::common;

use common::site::{FakeSite, Mode, release_en};
use common::{Setup, command_output as output, config_text, herald_command as herald, stderr};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

#[tokio::test]
async fn the_shipped_config_is_valid() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
    let o = output(herald().arg("check").arg("-c").arg(&shipped)).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[tokio::test]
async fn check_lists_every_problem_with_its_position_and_run_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        r#"[general]
data_dir = "data"
colour = "blue"

[[sources]]
id = "all"
url = "https://example.org/"
schedule = "*/10 * * * *"
timezone = "Asia/Almati"
channels = ["nowhere"]

[sources.list]
item = "div..card"
title = "h3"
link = "h3 a@href"
"#,
    )
    .unwrap();
    let o = output(herald().arg("check").arg("-c").arg(&path)).await;
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let shown = path.display().to_string();
    for (line, col) in [(3, 1), (6, 6), (8, 12), (9, 12), (10, 13), (13, 8)] {
        let prefix = format!("{shown}:{line}:{col}: ");
        assert!(
            err.contains(&prefix),
            "no problem at {line}:{col} in:\n{err}"
        );
    }
    // `run` refuses the same config with the same exit code.
    let o = output(herald().arg("run").arg("-c").arg(&path)).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(&format!("{shown}:8:12: ")));
}

#[tokio::test]
async fn config_path_comes_from_flag_then_env() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[general]\n").unwrap();
    let o = output(herald().arg("check").env("HERALD_CONFIG", &good)).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let missing = dir.path().join("missing.toml");
    let o = output(
        herald()
            .args(["check", "-c"])
            .arg(&missing)
            .env("HERALD_CONFIG", &good),
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(&format!("{}:1:1: ", missing.display())));
}

/// An empty HERALD_CONFIG is unset: ./config.toml is read (clap refused it as a missing value
/// of `--config`).
#[tokio::test]
async fn an_empty_config_variable_is_unset() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "[general]\n").unwrap();
    let o = output(
        herald()
            .arg("check")
            .env("HERALD_CONFIG", "")
            .current_dir(dir.path()),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("config.toml: ok"), "{out}");
}

#[tokio::test]
async fn bad_usage_exits_2() {
    let o = output(herald().args(["poll"])).await;
    assert_eq!(o.status.code(), Some(2));
    let o = output(herald().args(["frobnicate"])).await;
    assert_eq!(o.status.code(), Some(2));
    // A bad value of an argument is bad usage too, whichever argument it is; the message
    // quotes it.
    for (args, bad) in [
        (&["extract", "--url", "notaurl", "page.html"][..], "notaurl"),
        (
            &["extract", "--url", "ftp://example.org/", "page.html"],
            "ftp://example.org/",
        ),
        (&["extract", "--url", "/news/1", "page.html"], "/news/1"),
        (
            &["extract", "https://exa mple.org/"],
            "https://exa mple.org/",
        ),
        (&["extract", "page.html", "http://"], "http://"),
        (&["suggest", "notaurl"], "notaurl"),
    ] {
        let o = output(herald().args(args)).await;
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("`{bad}`")),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

struct Instance {
    site: FakeSite,
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
}

async fn instance() -> Instance {
    let site = FakeSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let text = config_text(&site, "http://127.0.0.1:8080", &Setup::default());
    std::fs::write(&config, text).unwrap();
    Instance { site, dir, config }
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

/// A poll's outcome is said once, as the command's last line, whether it stores or not (the
/// app's "poll failed" or "polled" log line would say it a second time).
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_poll_is_reported_once() {
    let i = instance().await;
    i.site.set_mode("en", Mode::Error);
    for dry_run in [true, false] {
        let mut command = herald();
        command.args(["poll", "akorda-en", "-c"]).arg(&i.config);
        if dry_run {
            command.arg("--dry-run");
        }
        let o = output(command.env("RUST_LOG", "info")).await;
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let err = stderr(&o);
        let said: Vec<&str> = err.lines().filter(|l| l.contains("500")).collect();
        assert_eq!(said.len(), 1, "dry run {dry_run}: {err}");
        assert!(said[0].starts_with("herald: akorda-en: "), "{err}");
    }
    i.site.set_mode("en", Mode::Normal);
    i.site.publish("en", release_en(1, 20));
    let o = output(
        herald()
            .args(["poll", "akorda-en", "-c"])
            .arg(&i.config)
            .env("RUST_LOG", "info"),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    let said: Vec<&str> = err.lines().filter(|l| l.contains("1 new")).collect();
    assert_eq!(said.len(), 1, "{err}");
    assert!(!err.contains(" polled "), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn poll_prints_one_json_line_per_item_with_its_state() {
    let i = instance().await;
    i.site.publish("en", release_en(1, 20));
    i.site.publish("en", release_en(2, 21));

    let dry = output(
        herald()
            .args(["poll", "akorda-en", "--dry-run", "--json", "-c"])
            .arg(&i.config),
    )
    .await;
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert!(
        !i.dir.path().join("data").exists(),
        "a dry run created the database"
    );

    let first = output(
        herald()
            .args(["poll", "akorda-en", "--json", "-c"])
            .arg(&i.config),
    )
    .await;
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let lines = json_lines(&first);
    assert_eq!(lines.len(), 2);
    for line in &lines {
        let keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(keys.len(), 5, "{line}");
        for k in ["id", "state", "title", "link", "date"] {
            assert!(line.get(k).is_some(), "{k} missing in {line}");
        }
        assert_eq!(line["state"], "new");
    }
    assert_eq!(lines[0]["title"], release_en(2, 21).title);
    assert_eq!(lines[0]["date"], "2026-03-21T00:00:00+05:00");
    assert!(lines[0]["link"].as_str().unwrap().ends_with("-100002"));

    i.site.publish("en", release_en(3, 22));
    let second = output(
        herald()
            .args(["poll", "akorda-en", "--json", "-c"])
            .arg(&i.config),
    )
    .await;
    let states: Vec<String> = json_lines(&second)
        .iter()
        .map(|l| l["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, ["new", "known", "known"]);
    // Ids are stable between runs.
    assert_eq!(json_lines(&second)[1]["id"], lines[0]["id"]);

    let unknown = output(herald().args(["poll", "nope", "-c"]).arg(&i.config)).await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("unknown source"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_herald_on_the_same_database_is_refused() {
    let i = instance().await;
    i.site.publish("en", release_en(1, 20));
    // A fixed port, so that the test can tell when the running herald is up.
    let port = listen_on_a_fixed_port(&i.config);
    let mut running = herald()
        .args(["run", "-c"])
        .arg(&i.config)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until_up(port, &mut running).await;
    let refused = output(herald().args(["poll", "akorda-en", "-c"]).arg(&i.config)).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("another herald"),
        "{}",
        stderr(&refused)
    );
    let data_dir = i.dir.path().join("data");
    assert!(
        stderr(&refused).contains(&data_dir.display().to_string()),
        "{}",
        stderr(&refused)
    );
    // It says what to do instead: poll through the running herald, or stop it first.
    for hint in ["/poll akorda-en", "stop it first", "--dry-run"] {
        assert!(stderr(&refused).contains(hint), "{}", stderr(&refused));
    }
    let prune = output(herald().args(["prune", "gone", "-c"]).arg(&i.config)).await;
    assert_eq!(prune.status.code(), Some(1), "{}", stderr(&prune));
    for hint in [
        "another herald",
        &data_dir.display().to_string(),
        "stop it first",
        "herald prune gone",
    ] {
        assert!(stderr(&prune).contains(hint), "{}", stderr(&prune));
    }
    // Beside it, a dry run still works.
    let dry = output(
        herald()
            .args(["poll", "akorda-en", "--dry-run", "-c"])
            .arg(&i.config),
    )
    .await;
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));

    // SIGTERM stops it cleanly.
    let pid = running.id().unwrap() as i32;
    assert_eq!(send_signal(pid, 15), 0);
    let status = tokio::time::timeout(Duration::from_secs(20), running.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

/// A reload (SIGHUP, the unit's `ExecReload`) sent while `run` is still starting is never
/// fatal: SIGHUP's default action ended the process until the config watcher took it, which
/// systemd counts as a clean exit and does not restart. One sent then re-reads the config.
#[tokio::test(flavor = "multi_thread")]
async fn a_reload_while_starting_is_not_fatal() {
    let i = instance().await;
    let port = listen_on_a_fixed_port(&i.config);
    let mut running = herald()
        .args(["run", "-c"])
        .arg(&i.config)
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = running.id().unwrap() as i32;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    // Once `run` takes SIGTERM (the first thing it does: before that, the process is still
    // being loaded) until it answers, every stage of its start meets one.
    let catches_term = || {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .is_some_and(|mask| mask & (1 << (libc::SIGTERM - 1)) != 0)
    };
    while !catches_term() {
        assert!(running.try_wait().unwrap().is_none(), "herald run ended");
        assert!(tokio::time::Instant::now() < deadline, "no SIGTERM handler");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    loop {
        // SAFETY: kill(2) on the child's pid; it has not been reaped (try_wait below says so).
        assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
        if reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .is_ok()
        {
            break;
        }
        let status = running.try_wait().unwrap();
        assert!(status.is_none(), "herald run ended on SIGHUP: {status:?}");
        assert!(tokio::time::Instant::now() < deadline, "not up");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(running.try_wait().unwrap().is_none());
    assert_eq!(send_signal(pid, 15), 0);
    let out = tokio::time::timeout(Duration::from_secs(20), running.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(err.contains("SIGHUP: re-reading the config"), "{err}");
}

/// Writes a free port into the config's `listen`, so that a test can tell when `run` is up.
fn listen_on_a_fixed_port(config: &std::path::Path) -> u16 {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = std::fs::read_to_string(config).unwrap();
    std::fs::write(
        config,
        text.replace("127.0.0.1:0", &format!("127.0.0.1:{port}")),
    )
    .unwrap();
    port
}

/// Waits (up to 20 s) until the `herald run` listening on `port` answers `/healthz`.
async fn wait_until_up(port: u16, running: &mut tokio::process::Child) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .is_err()
    {
        assert!(
            running.try_wait().unwrap().is_none(),
            "herald run exited early"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "herald run did not come up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn send_signal(pid: i32, sig: i32) -> i32 {
    std::process::Command::new("kill")
        .args([format!("-{sig}"), pid.to_string()])
        .status()
        .map(|s| if s.success() { 0 } else { 1 })
        .unwrap_or(1)
}

#[tokio::test(flavor = "multi_thread")]
async fn check_warns_when_a_known_source_was_renamed() {
    let i = instance().await;
    i.site.publish("en", release_en(1, 20));
    let polled = output(herald().args(["poll", "akorda-en", "-c"]).arg(&i.config)).await;
    assert_eq!(polled.status.code(), Some(0), "{}", stderr(&polled));
    let text = std::fs::read_to_string(&i.config).unwrap();
    std::fs::write(
        &i.config,
        text.replace("\"akorda-en\"", "\"akorda-english\""),
    )
    .unwrap();
    let o = output(herald().arg("check").arg("-c").arg(&i.config)).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "a warning is not an error: {}",
        stderr(&o)
    );
    let line = text
        .lines()
        .position(|l| l.contains("\"akorda-en\""))
        .unwrap()
        + 1;
    let expected = format!("{}:{line}:6: warning: ", i.config.display());
    assert!(stderr(&o).contains(&expected), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("herald prune akorda-en"),
        "{}",
        stderr(&o)
    );
    // `run` says it too, in the log (a systemd service never runs `check`).
    let port = listen_on_a_fixed_port(&i.config);
    let mut running = herald()
        .args(["run", "-c"])
        .arg(&i.config)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until_up(port, &mut running).await;
    assert_eq!(send_signal(running.id().unwrap() as i32, 15), 0);
    let o = tokio::time::timeout(Duration::from_secs(20), running.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(log.contains("holds source `akorda-en`"), "{log}");
}

/// `prune` is for sources the config no longer names: one neither the config nor the database
/// knows is an unknown SOURCE (exit 1), and a configured one is refused.
#[tokio::test(flavor = "multi_thread")]
async fn prune_refuses_unknown_and_configured_sources() {
    let i = instance().await;
    let data_dir = i.dir.path().join("data");
    let prune = |id: &str| {
        let mut cmd = herald();
        cmd.args(["prune", id, "-c"]).arg(&i.config);
        cmd
    };
    // No database yet: nothing is known, and none is created.
    let o = output(&mut prune("nosuch")).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown source `nosuch`"),
        "{}",
        stderr(&o)
    );
    assert!(!data_dir.exists(), "prune created a database");

    i.site.publish("en", release_en(1, 20));
    let polled = output(herald().args(["poll", "akorda-en", "-c"]).arg(&i.config)).await;
    assert_eq!(polled.status.code(), Some(0), "{}", stderr(&polled));
    let o = output(&mut prune("akorda-en")).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("still in"), "{}", stderr(&o));

    let text = std::fs::read_to_string(&i.config).unwrap();
    std::fs::write(&i.config, text.replace("\"akorda-en\"", "\"akorda-gone\"")).unwrap();
    let o = output(&mut prune("nosuch")).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("unknown source `nosuch`") && err.contains("akorda-en"),
        "names the source it could prune: {err}"
    );
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    let o = output(&mut prune("akorda-en")).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("akorda-en: 1 stored items deleted"));
    // Pruned, its ids are still kept: pruning again is no error.
    let o = output(&mut prune("akorda-en")).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("akorda-en: 0 stored items deleted"));
}

#[tokio::test(flavor = "multi_thread")]
async fn log_format_json_writes_json_lines() {
    let i = instance().await;
    i.site.set_mode("en", common::site::Mode::Error);
    // Debug: log lines of every kind (the command says the failure itself, not in the log).
    let o = output(
        herald()
            .args(["--log-format", "json", "poll", "akorda-en", "-c"])
            .arg(&i.config)
            .env("RUST_LOG", "debug"),
    )
    .await;
    assert_eq!(
        o.status.code(),
        Some(1),
        "a failed fetch is a runtime failure"
    );
    let err = stderr(&o);
    let (said, logged): (Vec<&str>, Vec<&str>) =
        err.lines().partition(|l| l.starts_with("herald: "));
    assert_eq!(said.len(), 1, "{err}");
    assert!(!logged.is_empty(), "no log line in:\n{err}");
    for line in logged {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
        assert!(
            event["level"].is_string() && event["fields"].is_object(),
            "{line}"
        );
    }
}

/// A `RUST_LOG` that is no filter is said (once, naming it), and logging goes on at info; an
/// empty one is the default, in silence.
#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_log_filter_is_said_and_the_default_used() {
    let i = instance().await;
    i.site.publish("en", release_en(1, 20));
    for (filter, warned) in [("herald=[", true), ("info,herald=lots", true), ("", false)] {
        let o = output(
            herald()
                .args(["poll", "akorda-en", "-c"])
                .arg(&i.config)
                .env("RUST_LOG", filter),
        )
        .await;
        assert_eq!(o.status.code(), Some(0), "{filter}: {}", stderr(&o));
        let err = stderr(&o);
        let said = err
            .lines()
            .filter(|l| l.contains("is not a log filter"))
            .collect::<Vec<_>>();
        if warned {
            assert_eq!(said.len(), 1, "{filter}: {err}");
            assert!(said[0].contains(&format!("{filter:?}")), "{err}");
        } else {
            assert!(said.is_empty(), "{err}");
        }
    }
}

/// A damaged database, or one of another format, stops herald at start with a message that
/// names the folder and says what to do; nothing in it is reset.
#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_or_foreign_database_is_refused_never_reset() {
    let i = instance().await;
    i.site.publish("en", release_en(1, 20));
    let o = output(herald().args(["poll", "akorda-en", "-c"]).arg(&i.config)).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let data = i.dir.path().join("data");
    let main = data.join("db").join("db");
    let pristine = std::fs::read(&main).unwrap();

    // Another format: a newer (or older) herald wrote it.
    {
        let db = sled::open(data.join("db")).unwrap();
        db.insert("format", "7").unwrap();
        db.flush().unwrap();
    }
    for args in [&["run"][..], &["poll", "akorda-en"]] {
        let o = output(herald().args(args).arg("-c").arg(&i.config)).await;
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("has format 7") && err.contains(&data.display().to_string()),
            "{err}"
        );
        let db = sled::open(data.join("db")).unwrap();
        assert_eq!(
            db.get("format").unwrap().as_deref(),
            Some(&b"7"[..]),
            "{args:?}"
        );
        assert!(
            !db.open_tree("items").unwrap().is_empty(),
            "{args:?}: items gone"
        );
    }

    // Damaged files: the start of the main file overwritten with noise.
    let mut noise = pristine.clone();
    let mut x: u32 = 12345;
    for b in noise.iter_mut().take(4096) {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *b = (x >> 16) as u8;
    }
    std::fs::write(&main, &noise).unwrap();
    let o = output(herald().args(["run", "-c"]).arg(&i.config)).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("is damaged")
            && err.contains("will not reset")
            && err.contains(&data.display().to_string()),
        "{err}"
    );
    assert!(
        std::fs::read(&main).unwrap() == noise,
        "the damaged file was rewritten"
    );
}
