//! Delivery integrity (issue 18), against the strict fake Bot API: posts of a source briefly out
//! of the config wait instead of being dropped; a channel paused while it waits for its turn
//! sends nothing more; a token set on an existing database posts its backfill at the next
//! scheduled poll even when the list page has not changed.

mod common;

use common::botapi::{FakeBotApi, FakeOptions};
use common::site::release_en;
use common::{Setup, TestApp, spawn_app_with};
use herald::pipeline::PollOptions;
use herald::telegram::Token;
use std::time::Duration;

async fn fake() -> FakeBotApi {
    FakeBotApi::start(FakeOptions::default()).await
}

/// One channel `en` on `@herald_en` for akorda-en, Telegram's default limits (1/s, 20/min).
fn setup(fake: &FakeBotApi, backfill: u32) -> Setup {
    Setup {
        extra_config: format!(
            "[telegram]\napi_url = \"{}\"\n\n[[channels]]\nid = \"en\"\nchat = \"@herald_en\"\n",
            fake.url()
        ),
        source_keys: vec![(
            "akorda-en".into(),
            format!("channels = [\"en\"]\nbackfill = {backfill}"),
        )],
        token: Some(Token::new(common::botapi::TOKEN)),
        ..Setup::default()
    }
}

async fn eventually(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn config_without(t: &TestApp, id: &str) {
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let start = text.find(&format!("[[sources]]\nid = \"{id}\"")).unwrap();
    let end = text[start + 1..]
        .find("[[sources]]")
        .map_or(text.len(), |e| start + 1 + e);
    let mut cut = text.clone();
    cut.replace_range(start..end, "");
    std::fs::write(&t.config_path, cut).unwrap();
    eventually("the edit applies", Duration::from_secs(10), || {
        t.app.config().source(id).is_none()
    })
    .await;
    // Keep the original for `config_restored`.
    std::fs::write(t.dir.path().join("config.full"), text).unwrap();
}

async fn config_restored(t: &TestApp, id: &str) {
    let text = std::fs::read_to_string(t.dir.path().join("config.full")).unwrap();
    std::fs::write(&t.config_path, text).unwrap();
    eventually("the source is back", Duration::from_secs(10), || {
        t.app.config().source(id).is_some()
    })
    .await;
}

/// Six posts wait behind the per-chat limit (1/s); the source leaves the config for a few
/// seconds and comes back: every post still arrives, once, in order.
#[tokio::test(flavor = "multi_thread")]
async fn posts_of_a_source_briefly_out_of_the_config_wait_for_it() {
    let fake = fake().await;
    let t = spawn_app_with(setup(&fake, 6)).await;
    for n in 1..=6 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(1, Duration::from_secs(10)).await;
    config_without(&t, "akorda-en").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let while_out = fake.messages().len();
    assert!(t.app.shared.store.pending("en").unwrap() >= 6 - while_out);
    config_restored(&t, "akorda-en").await;
    let got = fake.wait_for_messages(6, Duration::from_secs(20)).await;
    let titles: Vec<String> = got.iter().map(|m| m.plain.clone()).collect();
    for (i, n) in (1..=6).enumerate() {
        assert!(titles[i].contains(&release_en(n, 1).title), "{titles:#?}");
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fake.messages().len(), 6, "a post twice");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

/// `/pause` (the store's paused flag, as the command sets it) lands while the worker waits for
/// its next turn (1 message a second): nothing more is sent, and the pause stays.
#[tokio::test(flavor = "multi_thread")]
async fn a_channel_paused_while_waiting_for_its_turn_sends_nothing_more() {
    let fake = fake().await;
    let t = spawn_app_with(setup(&fake, 5)).await;
    for n in 1..=5 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(1, Duration::from_secs(10)).await;
    let store = &t.app.shared.store;
    store
        .update_channel_state("en", |s| s.paused = true)
        .unwrap();
    let sent = fake.messages().len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(fake.messages().len(), sent, "sent after the pause");
    assert!(
        store.channel_state("en").unwrap().paused,
        "the pause was undone"
    );
    assert_eq!(store.pending("en").unwrap(), 5 - sent);
    store
        .update_channel_state("en", |s| s.paused = false)
        .unwrap();
    t.app.shared.wake.notify_waiters();
    fake.wait_for_messages(5, Duration::from_secs(15)).await;
    t.stop().await;
}

/// A database polled without a token, then herald started with one: the next scheduled
/// (conditional) poll finds the same list page, and still posts the backfill.
#[tokio::test(flavor = "multi_thread")]
async fn a_token_set_later_posts_the_backfill_at_the_next_poll_of_an_unchanged_page() {
    let fake = fake().await;
    let dir = tempfile::tempdir().unwrap();
    let mut first = setup(&fake, 1);
    first.token = None;
    first.data_dir = Some(dir.path().to_path_buf());
    let t = spawn_app_with(first).await;
    for n in 1..=3 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    t.stop().await;

    let mut second = setup(&fake, 1);
    second.data_dir = Some(dir.path().to_path_buf());
    let t = spawn_app_with(second).await;
    for n in 1..=3 {
        t.site.publish("en", release_en(n, n as u32));
    }
    let source = t.app.config().source("akorda-en").unwrap().clone();
    let scheduled = PollOptions {
        conditional: true,
        dry_run: false,
    };
    t.app.poll(&source, scheduled).await.unwrap();
    let got = fake.wait_for_messages(1, Duration::from_secs(10)).await;
    assert!(got[0].plain.contains(&release_en(3, 3).title), "{got:#?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.messages().len(), 1, "only the backfill");
    t.stop().await;
}
