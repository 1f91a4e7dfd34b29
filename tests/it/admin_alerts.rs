//! An admin alert, once decided, reaches the admins however long Telegram fails to take it:
//! kept in the store, sent again with backoff, and after a restart (SPEC, Guarantees: nothing
//! fails silently). Meanwhile `/healthz` says so.

use crate::common;

use common::eventually;
use common::site::{Mode, release_en};
use common::{Setup, TestApp, spawn_app_with};
use fake_botapi::{ChatConfig, ChatKind, FakeBotApi, FakeOptions};
use std::time::Duration;

const ADMIN: i64 = 4242;

async fn fake() -> FakeBotApi {
    FakeBotApi::start(FakeOptions {
        chats: vec![ChatConfig {
            id: ADMIN,
            username: None,
            title: "admin".into(),
            kind: ChatKind::Private,
            bot_is_member: true,
        }],
        ..FakeOptions::fast()
    })
    .await
}

fn setup(fake: &FakeBotApi, data_dir: Option<&std::path::Path>) -> Setup {
    Setup {
        data_dir: data_dir.map(std::path::Path::to_path_buf),
        ..setup_with(fake, "")
    }
}

/// `extra` follows the `[telegram]` table.
fn setup_with(fake: &FakeBotApi, extra: &str) -> Setup {
    Setup::telegram(
        fake,
        &format!("admins = [{ADMIN}]\n{}{extra}", fake_botapi::FAST_TELEGRAM),
    )
}

fn admin_texts(fake: &FakeBotApi) -> Vec<String> {
    fake.messages_for(ADMIN)
        .into_iter()
        .map(|m| m.text.unwrap_or_default())
        .collect()
}

/// Waits until `/healthz`'s `alerts` satisfies `cond`.
async fn alerts_health(t: &TestApp, what: &str, cond: impl Fn(&serde_json::Value) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let health = t.health().await;
        if cond(&health["alerts"]) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within 15 s: {health}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Breaks `akorda-en` after a good poll until herald decides to tell the admins.
async fn break_source(t: &TestApp) {
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    t.site.set_mode("en", Mode::Error);
    for _ in 0..3 {
        assert!(t.poll("akorda-en").await.is_err());
    }
    assert!(
        t.app
            .shared
            .store
            .source_state("akorda-en")
            .unwrap()
            .alerted
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_the_bot_api_did_not_take_for_a_while_still_reaches_the_admin() {
    let fake = fake().await;
    let t = spawn_app_with(setup(&fake, None)).await;
    // Unreachable while the alert is decided and for its first tries. (A 5xx would do too, but
    // teloxide waits 10 s on each before answering.)
    fake.set_down(true);
    break_source(&t).await;
    // Past its first tries, the alert waits, and /healthz says so.
    alerts_health(&t, "healthz shows the alert waiting", |a| a["ok"] == false).await;
    let health = t.health().await;
    assert_eq!(health["alerts"]["ok"], false, "{health}");
    assert_eq!(health["alerts"]["pending"], 1, "{health}");
    assert!(
        health["alerts"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("admin 4242")),
        "{health}"
    );
    assert_eq!(health["status"], "degraded", "{health}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    fake.set_down(false);
    eventually("the alert arrives", Duration::from_secs(20), || {
        admin_texts(&fake)
            .iter()
            .any(|t| t.contains("akorda-en is failing (3 polls in a row)"))
    })
    .await;
    alerts_health(&t, "healthz ok again", |a| {
        a["ok"] == true && a["pending"] == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(admin_texts(&fake).len(), 1, "{:#?}", admin_texts(&fake));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_not_sent_before_a_restart_is_sent_after_it() {
    let data = tempfile::tempdir().unwrap();
    // The first run's Bot API is unreachable for its whole life.
    let unreachable = fake().await;
    unreachable.set_down(true);
    let t = spawn_app_with(setup(&unreachable, Some(data.path()))).await;
    break_source(&t).await;
    alerts_health(&t, "healthz shows the alert waiting", |a| {
        a["ok"] == false && a["pending"] == 1
    })
    .await;
    t.stop().await;
    assert!(admin_texts(&unreachable).is_empty());

    let fake = fake().await;
    let t = spawn_app_with(setup(&fake, Some(data.path()))).await;
    eventually(
        "the alert arrives after the restart",
        Duration::from_secs(15),
        || {
            admin_texts(&fake)
                .iter()
                .any(|t| t.contains("akorda-en is failing (3 polls in a row)"))
        },
    )
    .await;
    alerts_health(&t, "nothing left", |a| a["ok"] == true && a["pending"] == 0).await;
    t.stop().await;
}

/// A channel blocked while the admin's chat answers 429 past every try of the first send: the
/// blocked alert was recorded as told and lost; it is kept until Telegram takes it.
#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_channel_alert_the_admin_chat_did_not_take_at_first_still_arrives() {
    use fake_botapi::{Fault, Match};
    let fake = fake().await;
    let t = spawn_app_with(Setup {
        source_keys: vec![("akorda-en".into(), "channels = [\"en\"]".into())],
        ..setup_with(
            &fake,
            "\n[[channels]]\nid = \"en\"\nchat = \"@herald_en\"\n",
        )
    })
    .await;
    fake.inject(
        Fault::Forbidden,
        Match::any().chat("@herald_en").times(1000),
    );
    fake.inject(
        Fault::TooManyRequests(1),
        Match::any()
            .method("sendMessage")
            .chat(ADMIN)
            .times(herald::telegram::admin::SEND_TRIES as usize),
    );
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    eventually("the blocked alert arrives", Duration::from_secs(25), || {
        admin_texts(&fake)
            .iter()
            .any(|t| t.contains("channel en is blocked"))
    })
    .await;
    alerts_health(&t, "nothing left", |a| a["ok"] == true && a["pending"] == 0).await;
    t.stop().await;
}
