//! The admin poller against the strict fake Bot API: its long poll is not cut short by its own
//! client, and a refused token is said once, in `/healthz` too, then retried quietly with backoff.

use crate::common;

use common::{Setup, TestApp, spawn_app_with};
use fake_botapi::{FakeBotApi, FakeOptions};
use herald::telegram::Token;
use std::time::Duration;

async fn app(fake: &FakeBotApi, token: &str) -> TestApp {
    spawn_app_with(Setup {
        source_keys: vec![("akorda-en".into(), "channels = [\"en\"]".into())],
        token: Some(Token::new(token)),
        ..Setup::telegram(
            fake,
            "admins = [4242]\n\n[[channels]]\nid = \"en\"\nchat = \"@herald_en\"\n",
        )
    })
    .await
}

fn get_updates(fake: &FakeBotApi) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method.eq_ignore_ascii_case("getUpdates"))
        .count()
}

/// The harness gives Bot API calls a 3 s client timeout; getUpdates long-polls 25 s. The admin
/// poller's client must wait out the long poll: one getUpdates in 9 s, not one every 3 + 5 s.
#[tokio::test(flavor = "multi_thread")]
async fn the_long_poll_is_not_cut_short_by_the_client() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let t = app(&fake, fake_botapi::TOKEN).await;
    tokio::time::sleep(Duration::from_secs(9)).await;
    assert_eq!(get_updates(&fake), 1, "{:#?}", fake.requests());
    t.stop().await;
}

/// A wrong token: `/healthz` says "not authorized" (degraded, not down), and getUpdates is
/// retried with a growing wait, not every 5 s.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_is_reported_and_retried_with_backoff() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let t = app(&fake, "999:not-the-token").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let health = loop {
        let health = t.health().await;
        if health["telegram"]["ok"] == false {
            break health;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no refused token in {health}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(health["status"], "degraded");
    let why = health["telegram"]["last_error"].as_str().unwrap();
    assert!(why.contains("not authorized"), "{why}");
    assert!(!why.contains("not-the-token"), "the token leaked: {why}");
    // Waits of 5 s, then 10 s: calls at about 0, 5 and 15 s.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let calls = get_updates(&fake);
    assert!((2..=2).contains(&calls), "{calls} getUpdates in 12 s");
    t.stop().await;
}

/// Telegram's answer to a getUpdates while another process long-polls the same bot.
const CONFLICT: &str = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";

/// getUpdates failing again and again (here a 409: another process takes the bot's updates)
/// is a reported failure, not a silent one: `/healthz` says so (degraded), the metric counts
/// each failure, the admins are told once (a 409 leaves sends working); when getUpdates works
/// again, all of it clears and the admins hear so.
#[tokio::test(flavor = "multi_thread")]
async fn a_failing_admin_poller_is_reported_and_cleared_when_it_works() {
    use fake_botapi::{Fault, Match, command};
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    fake.inject(
        Fault::BadRequest(CONFLICT.into()),
        Match::any().method("getUpdates").times(3),
    );
    let t = app(&fake, fake_botapi::TOKEN).await;
    // Failures at about 0, 5 and 15 s: reported from the second, told at the third.
    let health = wait_for_health(&t, Duration::from_secs(12), |h| {
        h["telegram"]["ok"] == false
    })
    .await;
    assert_eq!(health["status"], "degraded", "{health}");
    let why = health["telegram"]["last_error"].as_str().unwrap();
    assert!(why.contains("admin commands get no answer"), "{why}");
    assert!(why.contains("another process"), "{why}");
    let told = |fake: &FakeBotApi, what: &str| {
        fake.messages_for(4242)
            .iter()
            .filter(|m| m.text.as_deref().unwrap_or_default().contains(what))
            .count()
    };
    common::eventually("the admins told", Duration::from_secs(15), || {
        told(&fake, "admin commands get no answer") == 1
    })
    .await;
    let metrics = t.text("/metrics").await;
    let failures: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("herald_admin_poll_failures_total "))
        .unwrap_or_else(|| panic!("{metrics}"))
        .trim()
        .parse()
        .unwrap();
    assert!(failures >= 3.0, "{failures}");

    // The fourth getUpdates (about 20 s later) works, and answers a command at once.
    fake.push_update(command(4242, "/status"));
    wait_for_health(&t, Duration::from_secs(30), |h| h["telegram"]["ok"] == true).await;
    common::eventually(
        "the admins told it works again",
        Duration::from_secs(10),
        || told(&fake, "answered again") == 1,
    )
    .await;
    assert_eq!(told(&fake, "admin commands get no answer"), 1, "told once");
    t.stop().await;
}

/// `/healthz` once `cond` holds, within `within`.
async fn wait_for_health(
    t: &TestApp,
    within: Duration,
    cond: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let health = t.health().await;
        if cond(&health) {
            return health;
        }
        assert!(tokio::time::Instant::now() < deadline, "{health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
