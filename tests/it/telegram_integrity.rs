//! Delivery integrity (issue 18), the Telegram side, against the strict fake Bot API: a 429's
//! `retry_after` holds across a restart and a config edit of the channel, and neither the edit
//! nor a stop waits for it; after a group became a supergroup, a correction of an earlier post
//! is never made to another message, and the channel's queue goes on; a search for a lost send
//! that cannot look says why the chat waits.

use crate::common;

use common::eventually;

use common::site::{Release, release_en};
use common::{Setup, TestApp, spawn_app_with};
use fake_botapi::{FAST_TELEGRAM, FakeBotApi, FakeOptions, Fault, Match, RequestRecord};
use std::path::Path;
use std::time::Duration;
use tokio::time::Instant;

const CHAT: &str = "@herald_en";

/// One channel `en` on `@herald_en` (share: x) for akorda-en, Telegram's default limits
/// (1/s, 20/min), `backfill = 1`, the database in `data_dir`.
fn setup(fake: &FakeBotApi, data_dir: &Path) -> Setup {
    Setup {
        source_keys: vec![(
            "akorda-en".into(),
            "channels = [\"en\"]\nbackfill = 1".into(),
        )],
        data_dir: Some(data_dir.to_path_buf()),
        ..Setup::telegram(
            fake,
            &format!("\n[[channels]]\nid = \"en\"\nchat = \"{CHAT}\"\nshare = [\"x\"]\n"),
        )
    }
}

/// The time of the first 429 the fake gave for `CHAT`.
async fn first_429(fake: &FakeBotApi) -> Instant {
    eventually("a 429", Duration::from_secs(15), || {
        fake.requests().iter().any(|r| r.status == 429)
    })
    .await;
    fake.requests()
        .iter()
        .find(|r| r.status == 429)
        .map(|r| r.time)
        .unwrap()
}

/// Requests for `CHAT` that arrived after `after`.
fn calls_after(fake: &FakeBotApi, after: Instant) -> Vec<RequestRecord> {
    fake.requests()
        .into_iter()
        .filter(|r| r.chat.as_deref() == Some(CHAT) && r.time > after)
        .collect()
}

/// A 429 with `retry_after = 8`, then a restart on the same database: the stop does not wait
/// for the hold, and the new run makes no call to the chat before the hold ends, then posts.
#[tokio::test(flavor = "multi_thread")]
async fn a_429_holds_across_a_restart_and_does_not_hold_up_the_stop() {
    const HOLD: u64 = 8;
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    fake.inject(
        Fault::TooManyRequests(HOLD as u32),
        Match::any().method("sendPhoto").chat(CHAT),
    );
    let t = spawn_app_with(setup(&fake, dir.path())).await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    let refused = first_429(&fake).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stopping = Instant::now();
    t.stop().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(3),
        "the stop waited {:?} for the hold",
        stopping.elapsed()
    );
    assert!(fake.messages().is_empty(), "posted during the hold");

    let t = spawn_app_with(setup(&fake, dir.path())).await;
    let got = fake
        .wait_for_messages(1, Duration::from_secs(HOLD + 10))
        .await;
    assert_eq!(got.len(), 1, "the queued post after the hold");
    let hold_end = refused + Duration::from_secs(HOLD);
    let early: Vec<_> = calls_after(&fake, refused)
        .into_iter()
        .filter(|r| r.time < hold_end)
        .collect();
    assert!(early.is_empty(), "called during the hold: {early:#?}");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

/// During a 30 s hold the channel's share buttons are edited (its worker is restarted), then a
/// source's title: both edits apply within seconds, the new worker keeps the hold, and the stop
/// is prompt.
#[tokio::test(flavor = "multi_thread")]
async fn a_config_edit_and_a_stop_during_a_long_hold_complete_at_once() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    fake.inject(
        Fault::TooManyRequests(30),
        Match::any().method("sendPhoto").chat(CHAT),
    );
    let t = spawn_app_with(setup(&fake, dir.path())).await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    let refused = first_429(&fake).await;

    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let shares = text.replacen("share = [\"x\"]", "share = [\"x\", \"telegram\"]", 1);
    assert_ne!(shares, text);
    let editing = Instant::now();
    std::fs::write(&t.config_path, &shares).unwrap();
    eventually("the share edit is read", Duration::from_secs(10), || {
        t.app.config().channels[0].share.len() == 2
    })
    .await;
    // Edits are applied one after the other: the second applies only once the first one's
    // channel restart is done.
    let titled = shares.replacen(
        "title = \"Akorda — press releases\"",
        "title = \"Akorda, edited\"",
        1,
    );
    assert_ne!(titled, shares);
    std::fs::write(&t.config_path, titled).unwrap();
    eventually("the edit after it applies", Duration::from_secs(10), || {
        t.app.config().source("akorda-en").unwrap().title == "Akorda, edited"
    })
    .await;
    assert!(
        editing.elapsed() < Duration::from_secs(12),
        "{:?}",
        editing.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;

    let stopping = Instant::now();
    t.stop().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(3),
        "the stop waited {:?} for the hold",
        stopping.elapsed()
    );
    assert!(
        calls_after(&fake, refused).is_empty(),
        "the restarted worker called during the hold: {:#?}",
        calls_after(&fake, refused)
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

/// A text post (no image), release `n`.
fn text_release(n: u64) -> Release {
    Release {
        image: None,
        ..release_en(n, n as u32)
    }
}

/// A group whose posts are text: the group becomes a supergroup (every later call to it answers
/// `migrate_to_chat_id`) after the first post, the next post follows it, then the first
/// release is corrected. The correction cannot reach its post (Telegram gave it another id in
/// the supergroup, unknown to herald): it is skipped, no message in the supergroup changes, and
/// the next post still arrives.
#[tokio::test(flavor = "multi_thread")]
async fn after_a_migration_a_correction_never_edits_another_post() {
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (-1001_i64, -1002_i64);
    let t: TestApp = spawn_app_with(Setup {
        source_keys: vec![(
            "akorda-en".into(),
            "channels = [\"grp\"]\nbackfill = 1".into(),
        )],
        data_dir: Some(dir.path().to_path_buf()),
        ..Setup::telegram(
            &fake,
            &format!("{FAST_TELEGRAM}\n[[channels]]\nid = \"grp\"\nchat = {old}\n"),
        )
    })
    .await;
    t.site.publish("en", text_release(1));
    t.poll("akorda-en").await.unwrap();
    let first = fake.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(first[0].chat, old.to_string());

    fake.inject(Fault::Migrate(new), Match::any().chat(old).times(1_000));
    t.site.publish("en", text_release(2));
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(2, Duration::from_secs(10)).await;
    assert_eq!(fake.messages_for(new).len(), 1, "{:#?}", fake.messages());

    let corrected = format!("Corrected: {}", text_release(1).title);
    t.site.edit_title("en", text_release(1).id, &corrected);
    t.poll("akorda-en").await.unwrap();
    t.site.publish("en", text_release(3));
    t.poll("akorda-en").await.unwrap();
    let got = fake.wait_for_messages(3, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 3, "the queue stalled: {got:#?}");

    let in_new = fake.messages_for(new);
    assert_eq!(in_new.len(), 2);
    for (m, n) in in_new.iter().zip([2, 3]) {
        assert!(m.plain.contains(&text_release(n).title), "{m:#?}");
        assert_eq!(m.edit_count, 0, "another post was edited: {m:#?}");
    }
    let edits_in_new: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.chat == Some(new.to_string()) && r.method.starts_with("edit"))
        .collect();
    assert!(edits_in_new.is_empty(), "{edits_in_new:#?}");
    assert!(
        fake.edits().iter().all(|e| e.chat != new.to_string()),
        "{:#?}",
        fake.edits()
    );
    eventually("nothing left queued", Duration::from_secs(5), || {
        t.app.shared.store.pending("grp").unwrap() == 0
    })
    .await;
    t.stop().await;
}

const ADMIN: i64 = 4242;

/// One channel entry `id` on `chat` for akorda-en (`backfill`), the fast limits, admins told.
fn entry_setup(fake: &FakeBotApi, id: &str, chat: &str, backfill: u32) -> Setup {
    Setup {
        source_keys: vec![(
            "akorda-en".into(),
            format!("channels = [\"{id}\"]\nbackfill = {backfill}"),
        )],
        ..Setup::telegram(
            fake,
            &format!(
                "{FAST_TELEGRAM}admins = [{ADMIN}]\n\n[[channels]]\nid = \"{id}\"\nchat = \"{chat}\"\n"
            ),
        )
    }
}

/// The number after `name{channel="id"} ` in a /metrics text.
fn metric(metrics: &str, name: &str, id: &str) -> Option<u64> {
    let prefix = format!("{name}{{channel=\"{id}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|n| n.trim().parse().ok())
}

/// A post's answer is lost, and the search for it cannot look: the bot was kicked, so every
/// probe is refused. That is the channel's failure as a refused send is: /healthz says blocked
/// and why, /metrics counts the probe's error, the admins are told; nothing is sent again.
#[tokio::test(flavor = "multi_thread")]
async fn a_search_that_cannot_look_shows_why_the_chat_waits() {
    const CHAT: &str = "@herald_probed";
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let t = spawn_app_with(entry_setup(&fake, "probed", CHAT, 1)).await;
    fake.inject(
        Fault::AcceptThenDrop,
        Match::any().method("sendMessage").chat(CHAT),
    );
    fake.inject(
        Fault::Forbidden,
        Match::any()
            .method("editMessageReplyMarkup")
            .chat(CHAT)
            .times(1_000),
    );
    t.site.publish("en", text_release(1));
    t.poll("akorda-en").await.unwrap();
    let alerts = || fake.messages_for(ADMIN);
    eventually("the admins are told", Duration::from_secs(20), || {
        !alerts().is_empty()
    })
    .await;
    let told = &alerts()[0].plain;
    assert!(told.contains("probed") && told.contains("kicked"), "{told}");
    let h = t.health().await;
    let channel = &h["channels"]["probed"];
    assert_eq!(
        (&channel["ok"], &channel["blocked"], &channel["pending"]),
        (
            &serde_json::json!(false),
            &serde_json::json!(true),
            &serde_json::json!(1)
        ),
        "{h}"
    );
    let why = channel["last_error"].as_str().unwrap_or_default();
    assert!(why.contains("kicked"), "{h}");
    // The lost answer counts one error, the refused probe another.
    let metrics = t.text("/metrics").await;
    let errors = metric(&metrics, "herald_telegram_errors_total", "probed");
    assert!(errors.is_some_and(|n| n >= 2), "{metrics}");
    assert_eq!(fake.messages_for(CHAT).len(), 1, "sent again");
    t.stop().await;
}
