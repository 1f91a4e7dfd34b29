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
