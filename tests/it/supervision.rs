//! SPEC "nothing fails silently", through the real binary: a poll that panics is a failed poll
//! of that source (in `/healthz`, `/metrics`), a source task that dies is reported and started
//! again, and every other source goes on. The panics are planted with test hooks
//! (`HERALD_TEST_PANIC_IN_POLL`, `HERALD_TEST_PANIC_IN_TASK`: source ids). A scheduler that
//! polls no source when due is down: `/healthz` answers 503.

use crate::common;

use common::site::{FakeSite, release_en, release_kz, release_ru};
use common::{Setup, spawn_app_with, write_config_on_free_port};
use fake_botapi::{ChatConfig, ChatKind, FakeBotApi, FakeOptions};
use serde_json::Value;
use std::time::Duration;

/// A fake site with a release in each language.
async fn site_with_releases() -> FakeSite {
    let site = FakeSite::start().await;
    site.publish("en", release_en(1, 20));
    site.publish("ru", release_ru(1, 20));
    site.publish("kz", release_kz(1, 20));
    site
}

/// `herald run` on a config of `site`'s sources polled on `schedule` in `dir`, with `env`;
/// returns the process and its base URL.
fn run_herald(
    dir: &std::path::Path,
    site: &FakeSite,
    schedule: &str,
    extra_source_keys: &str,
    env: &[(&str, &str)],
) -> (tokio::process::Child, String) {
    let setup = Setup {
        schedule: schedule.into(),
        extra_source_keys: extra_source_keys.into(),
        ..Setup::default()
    };
    let (config, port) = write_config_on_free_port(dir, site, &setup);
    let mut command = common::herald_command();
    command.args(["run", "-c"]).arg(&config);
    for (key, value) in env {
        command.env(key, value);
    }
    (command.spawn().unwrap(), format!("http://127.0.0.1:{port}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn panics_are_failures_that_are_reported_and_survived() {
    let site = site_with_releases().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = run_herald(
        dir.path(),
        &site,
        "*/2 * * * * *",
        "",
        &[
            ("HERALD_TEST_PANIC_IN_POLL", "akorda-en"),
            ("HERALD_TEST_PANIC_IN_TASK", "akorda-kz"),
            ("RUST_LOG", "info"),
        ],
    );
    let health = |h: &Value, id: &str, key: &str| h["sources"][id][key].clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let h = loop {
        let h: Option<Value> = match reqwest::get(format!("{base}/healthz")).await {
            Ok(r) => r.json().await.ok(),
            Err(_) => None,
        };
        if let Some(h) = &h
            && health(h, "akorda-en", "consecutive_failures").as_u64() >= Some(1)
            && health(h, "akorda-kz", "consecutive_failures").as_u64() >= Some(2)
            && !health(h, "akorda-ru", "last_success").is_null()
        {
            break h.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not reported: {h:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(h["status"], "degraded", "{h}");
    // The poll's panic: a failed poll with the panic's message.
    let en = health(&h, "akorda-en", "last_error");
    assert!(en.as_str().unwrap().contains("planted"), "{h}");
    assert_eq!(health(&h, "akorda-en", "ok"), false);
    // The task's panic: reported, and the task started again (twice by now).
    let kz = health(&h, "akorda-kz", "last_error");
    assert!(kz.as_str().unwrap().contains("restarting"), "{h}");
    // The healthy source goes on.
    assert_eq!(health(&h, "akorda-ru", "ok"), true, "{h}");
    let metrics = text_of(&format!("{base}/metrics")).await;
    assert!(
        metrics.contains(r#"herald_polls_total{source="akorda-en",result="panic"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"herald_task_failures_total{task="source akorda-kz"}"#),
        "{metrics}"
    );
    // And herald still stops cleanly.
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("no exit within 10 s after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status}");
}

/// Every source task stops before it polls (a bug at their start): no poll starts when due, and
/// once the grace is over (twice the poll deadline and a minute) `/healthz` says the scheduler
/// is down, with 503, each source overdue, and `/metrics` says by how long. Before that it is
/// degraded, 200. A herald beside it whose other sources are polled on time is degraded only.
#[tokio::test(flavor = "multi_thread")]
async fn a_scheduler_that_polls_no_source_when_due_is_down() {
    let site = FakeSite::start().await;
    let (dir, other_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (schedule, deadline) = ("*/2 * * * * *", "poll_deadline_secs = 1");
    let every = ("HERALD_TEST_PANIC_IN_TASK", "akorda-en,akorda-ru,akorda-kz");
    let (mut child, base) = run_herald(dir.path(), &site, schedule, deadline, &[every]);
    let one = ("HERALD_TEST_PANIC_IN_TASK", "akorda-kz");
    let (mut other, other_base) = run_herald(other_dir.path(), &site, schedule, deadline, &[one]);
    let healthz = || async {
        let r = reqwest::get(format!("{base}/healthz")).await.ok()?;
        let code = r.status().as_u16();
        Some((code, r.json::<Value>().await.ok()?))
    };
    let started = tokio::time::Instant::now();
    let deadline = started + Duration::from_secs(90);
    let mut seen_degraded = false;
    let h = loop {
        match healthz().await {
            Some((503, h)) => break h,
            Some((200, h)) => {
                assert_eq!(h["status"], "degraded", "{h}");
                assert!(h["sources"]["akorda-en"]["overdue"].is_null(), "{h}");
                seen_degraded = true;
            }
            other => assert!(other.is_none(), "{other:?}"),
        }
        assert!(tokio::time::Instant::now() < deadline, "never down");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    // Not before the grace: 2 × 1 s + 60 s.
    assert!(
        started.elapsed() >= Duration::from_secs(62),
        "{:?}",
        started.elapsed()
    );
    assert!(seen_degraded);
    assert_eq!(h["status"], "down", "{h}");
    assert!(h["down"].as_str().unwrap().contains("scheduler"), "{h}");
    for id in ["akorda-en", "akorda-ru", "akorda-kz"] {
        let overdue = h["sources"][id]["overdue"].as_str().unwrap_or_default();
        assert!(overdue.contains("has not started"), "{h}");
        assert_eq!(h["sources"][id]["ok"], false, "{h}");
    }
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let late: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix(r#"herald_source_poll_overdue_seconds{source="akorda-en"} "#))
        .expect("the gauge")
        .parse()
        .unwrap();
    assert!(late > 0.0, "{metrics}");
    let answer = reqwest::get(format!("{other_base}/healthz")).await.unwrap();
    assert_eq!(answer.status(), 200);
    let h: Value = answer.json().await.unwrap();
    assert_eq!(h["status"], "degraded", "{h}");
    assert!(h["down"].is_null(), "{h}");
    assert!(h["sources"]["akorda-kz"]["overdue"].is_string(), "{h}");
    assert!(h["sources"]["akorda-en"]["overdue"].is_null(), "{h}");
    child.kill().await.unwrap();
    other.kill().await.unwrap();
}

/// A schedule whose years are past (it ran out) is said at start, not refused. Its source is
/// polled once at start (as every source is), then no more, and it is no task failure:
/// restarted (and its source polled) and reported for ever. It is not ok in `/healthz`, which
/// says why, and `/metrics` counts it.
#[tokio::test(flavor = "multi_thread")]
async fn a_schedule_that_ran_out_is_said_not_restarted() {
    let site = site_with_releases().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = run_herald(dir.path(), &site, "0 0 0 1 1 * 2020", "", &[]);
    // Said once the poll at start is made: within the first minute.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(80);
    let h = loop {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
            && let Ok(h) = r.json::<Value>().await
            && h["sources"]["akorda-en"]["schedule_ended"].is_string()
        {
            break h;
        }
        assert!(tokio::time::Instant::now() < deadline, "never said");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Long enough for a supervisor to have restarted an ended task twice (1 s, then 2 s).
    tokio::time::sleep(Duration::from_secs(4)).await;
    let h2: Value = reqwest::get(format!("{base}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Polled once at start, not again.
    assert!(h["sources"]["akorda-en"]["last_success"].is_string(), "{h}");
    assert_eq!(
        h["sources"]["akorda-en"]["last_success"], h2["sources"]["akorda-en"]["last_success"],
        "polled again: {h2}"
    );
    for h in [&h, &h2] {
        let en = &h["sources"]["akorda-en"];
        assert_eq!(en["consecutive_failures"], 0, "{h}");
        assert!(en["last_error"].is_null(), "{h}");
        assert_eq!(en["ok"], false, "{h}");
        let why = en["schedule_ended"].as_str().unwrap_or_default();
        assert!(why.contains("`0 0 0 1 1 * 2020` fires no more"), "{h}");
        assert_eq!(h["status"], "degraded", "{h}");
    }
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("herald_source_schedule_ended{source=\"akorda-en\"} 1"),
        "{metrics}"
    );
    // The index page says so too, not "ok".
    let page = text_of(&format!("{base}/")).await;
    assert!(
        page.contains("<span class=\"status failing\">schedule ended: no more polls</span>"),
        "{page}"
    );
    child.kill().await.unwrap();
}

/// The admins are told once that a source's schedule has no instant left (here after its poll
/// at start), each source in its own alert; not again after a restart.
#[tokio::test(flavor = "multi_thread")]
async fn the_admins_are_told_once_that_a_schedule_ran_out() {
    const ADMIN: i64 = 4242;
    let fake = FakeBotApi::start(FakeOptions {
        per_chat_per_second: 10,
        per_chat_per_minute: 600,
        chats: vec![ChatConfig {
            id: ADMIN,
            username: None,
            title: "admin".into(),
            kind: ChatKind::Private,
            bot_is_member: true,
        }],
        ..FakeOptions::default()
    })
    .await;
    let data = tempfile::tempdir().unwrap();
    let setup = || Setup {
        schedule: "0 0 0 1 1 * 2020".into(),
        first_poll_window: Some(Duration::from_millis(300)),
        data_dir: Some(data.path().to_path_buf()),
        ..Setup::telegram(
            &fake,
            &format!("admins = [{ADMIN}]\nper_chat_per_second = 10\nper_chat_per_minute = 600\n"),
        )
    };
    let t = spawn_app_with(setup()).await;
    let told = || -> Vec<String> {
        fake.messages_for(ADMIN)
            .into_iter()
            .map(|m| m.text.unwrap_or_default())
            .filter(|text| text.contains("fires no more"))
            .collect()
    };
    common::eventually("the admins told", Duration::from_secs(15), || {
        told().len() >= 3
    })
    .await;
    // Past the first-poll window, and time for more alerts had there been any.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let told = told();
    assert_eq!(told.len(), 3, "{told:#?}");
    for id in ["akorda-en", "akorda-ru", "akorda-kz"] {
        let one: Vec<&String> = told
            .iter()
            .filter(|t| t.contains(&format!("source {id}:")))
            .collect();
        assert_eq!(one.len(), 1, "{told:#?}");
        assert!(one[0].contains("it is not polled again"), "{}", one[0]);
    }
    // Polled once at start (every source is; this site lists nothing, so the poll failed).
    let h: Value = t.get("/healthz").await.json().await.unwrap();
    for id in ["akorda-en", "akorda-ru", "akorda-kz"] {
        let source = &h["sources"][id];
        assert_eq!(source["consecutive_failures"], 1, "polled once: {h}");
    }
    t.stop().await;
    // A restart polls them once more and finds the schedules still out: nothing new to tell.
    let t = spawn_app_with(setup()).await;
    common::eventually("polled after the restart", Duration::from_secs(15), || {
        let state = t.app.shared.store.source_state("akorda-kz");
        state.is_ok_and(|s| s.consecutive_failures >= 2)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let again: Vec<String> = fake
        .messages_for(ADMIN)
        .into_iter()
        .filter_map(|m| m.text)
        .filter(|text| text.contains("fires no more"))
        .collect();
    assert_eq!(again.len(), 3, "told again after a restart: {again:#?}");
    t.stop().await;
}

/// The body of a GET of `url`, as text.
async fn text_of(url: &str) -> String {
    reqwest::get(url).await.unwrap().text().await.unwrap()
}
