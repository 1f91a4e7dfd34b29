//! Channel entries edited in the live config: renamed (same chat, new id) and removed. What
//! was posted is known by the chat it went to, and a queue is never stranded silently.

use crate::common;

use common::site::release_en;
use common::{Setup, TestApp, eventually, spawn_app_with};
use fake_botapi::{ChatConfig, ChatKind, FAST_TELEGRAM, FakeBotApi, FakeOptions, Fault, Match};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const ADMIN: i64 = 4242;

/// An app whose `akorda-en` posts to channel `en` (`@herald_en`), with `backfill = 1`.
async fn app(fake: &FakeBotApi) -> TestApp {
    spawn_app_with(setup(fake, "en", None)).await
}

/// As `app` with channel `id`, and more `[telegram]` keys.
async fn app_with(fake: &FakeBotApi, id: &str, telegram_keys: &str) -> TestApp {
    let mut setup = setup(fake, id, None);
    setup.extra_config =
        setup
            .extra_config
            .replacen(FAST_TELEGRAM, &format!("{FAST_TELEGRAM}{telegram_keys}"), 1);
    spawn_app_with(setup).await
}

/// `akorda-en` posting to channel `id` (`@herald_en`), with `backfill = 1`, on the database
/// in `data` (default: a fresh one).
fn setup(fake: &FakeBotApi, id: &str, data: Option<&std::path::Path>) -> Setup {
    Setup {
        source_keys: vec![("akorda-en".into(), format!("channels = [\"{id}\"]"))],
        data_dir: data.map(std::path::Path::to_path_buf),
        ..Setup::telegram(
            fake,
            &format!("{FAST_TELEGRAM}\n[[channels]]\nid = \"{id}\"\nchat = \"@herald_en\"\n"),
        )
    }
}

/// Writes the config with each (from, to) replaced once and waits for the app to run it.
async fn edit_config(t: &TestApp, edits: &[(&str, &str)], applied: impl Fn(&TestApp) -> bool) {
    let mut text = std::fs::read_to_string(&t.config_path).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{from} in {text}");
        text = text.replacen(from, to, 1);
    }
    std::fs::write(&t.config_path, text).unwrap();
    eventually("the config edit applied", WAIT, || applied(t)).await;
}

/// The edits that rename channel `en` to `to` (its entry and its source's list).
fn rename_en(to: &str) -> [(String, String); 2] {
    [
        ("id = \"en\"".into(), format!("id = \"{to}\"")),
        (
            "channels = [\"en\"]".into(),
            format!("channels = [\"{to}\"]"),
        ),
    ]
}

fn has_channel(t: &TestApp, id: &str) -> bool {
    t.app.config().channels.iter().any(|c| c.id == id)
}

fn caption_has(m: &fake_botapi::SentMessage, title: &str) -> bool {
    m.caption
        .as_deref()
        .or(m.text.as_deref())
        .unwrap_or_default()
        .contains(title)
}

/// A channel entry renamed (same chat, new id, its source's list updated) is not a new
/// channel: its first poll under the new id backfills nothing already posted to the chat, and
/// only what is new goes out, once.
#[tokio::test(flavor = "multi_thread")]
async fn a_renamed_channel_posts_nothing_again_into_its_chat() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let t = app(&fake).await;
    for n in 1..=3 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    let first = fake.wait_for_messages(1, WAIT).await;
    assert!(caption_has(&first[0], &release_en(3, 3).title));

    let rename = rename_en("english");
    let edits: Vec<(&str, &str)> = rename
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    edit_config(&t, &edits, |t| {
        has_channel(t, "english") && !has_channel(t, "en")
    })
    .await;
    // The first poll of the source for `english`: release 3 is in the chat already.
    t.poll("akorda-en").await.unwrap();
    t.site.publish("en", release_en(4, 4));
    t.poll("akorda-en").await.unwrap();
    let all = fake.wait_for_messages(2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let all_now = fake.messages();
    assert_eq!(all_now.len(), 2, "{all_now:#?}");
    assert!(
        caption_has(&all[1], &release_en(4, 4).title),
        "{:#?}",
        all[1]
    );
    assert_eq!(all[1].chat, "@herald_en");
    let health = t.health().await;
    assert_eq!(health["channels"]["english"]["pending"], 0, "{health}");
    assert!(health["channels"].get("en").is_none(), "{health}");
    t.stop().await;
}

/// The same, renamed while herald was stopped: the start moves the old id's records.
#[tokio::test(flavor = "multi_thread")]
async fn a_channel_renamed_while_herald_was_stopped_posts_nothing_again() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let data = tempfile::tempdir().unwrap();
    let t = spawn_app_with(setup(&fake, "en", Some(data.path()))).await;
    for n in 1..=3 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(1, WAIT).await;
    t.stop().await;

    let t = spawn_app_with(setup(&fake, "english", Some(data.path()))).await;
    for n in 1..=3 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    t.site.publish("en", release_en(4, 4));
    t.poll("akorda-en").await.unwrap();
    let all = fake.wait_for_messages(2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let all_now = fake.messages();
    assert_eq!(all_now.len(), 2, "{all_now:#?}");
    assert!(
        caption_has(&all[1], &release_en(4, 4).title),
        "{:#?}",
        all[1]
    );
    t.stop().await;
}

/// A channel entry removed from the config with posts still queued (its chat refused them):
/// the queue stays, `/healthz` shows it (degraded, not ok, its pending count, why), the
/// metrics keep its pending gauge, the admins are told once; put back, its posts go out.
#[tokio::test(flavor = "multi_thread")]
async fn a_removed_channel_with_queued_posts_is_shown_and_its_posts_go_out_when_it_is_back() {
    let fake = FakeBotApi::start(FakeOptions {
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
    // An id of its own: the metrics recorder is the test process's, shared with other tests.
    let t = app_with(&fake, "gone-en", &format!("admins = [{ADMIN}]\n")).await;
    // Kicked once: the post stays queued (the worker tries again only after minutes).
    fake.inject(
        Fault::Forbidden,
        Match::any().method("sendPhoto").chat("@herald_en").times(1),
    );
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    eventually("the 403", WAIT, || {
        fake.requests().iter().any(|r| r.status == 403)
    })
    .await;

    let before = std::fs::read_to_string(&t.config_path).unwrap();
    let entry = "[[channels]]\nid = \"gone-en\"\nchat = \"@herald_en\"\n";
    edit_config(&t, &[(entry, ""), ("channels = [\"gone-en\"]", "")], |t| {
        !has_channel(t, "gone-en")
    })
    .await;
    let health = t.health().await;
    assert_eq!(health["status"], "degraded", "{health}");
    let en = &health["channels"]["gone-en"];
    assert_eq!(en["ok"], false, "{health}");
    assert_eq!(en["pending"], 1, "{health}");
    assert!(
        en["last_error"]
            .as_str()
            .unwrap()
            .contains("no longer in the config"),
        "{health}"
    );
    let metrics = t.text("/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("herald_channel_pending{channel=\"gone-en\"} 1")),
        "{metrics}"
    );
    let told = |fake: &FakeBotApi| {
        fake.messages_for(ADMIN)
            .into_iter()
            .filter(|m| {
                m.text
                    .as_deref()
                    .unwrap_or_default()
                    .contains("no longer in the config")
            })
            .count()
    };
    eventually("the admins told", WAIT, || told(&fake) == 1).await;

    std::fs::write(&t.config_path, &before).unwrap();
    eventually("the channel back", WAIT, || has_channel(&t, "gone-en")).await;
    eventually("the post in its chat", WAIT, || {
        !fake.messages_for("@herald_en").is_empty()
    })
    .await;
    let posted = fake.messages_for("@herald_en");
    assert_eq!(posted.len(), 1, "{posted:#?}");
    assert!(caption_has(&posted[0], &release_en(1, 1).title));
    let mut pending = serde_json::Value::Null;
    for _ in 0..50 {
        pending = t.health().await["channels"]["gone-en"]["pending"].clone();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(pending, 0);
    assert_eq!(told(&fake), 1, "told once");
    t.stop().await;
}

/// An entry removed beside another that posts to the same chat is a removal, not a rename:
/// its records stay under its id (shown as no longer configured while it has a queue), and
/// the remaining entry, which has records of its own, takes none of them.
#[tokio::test(flavor = "multi_thread")]
async fn an_entry_removed_beside_another_on_its_chat_is_not_taken_as_renamed() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let mut setup = setup(&fake, "en", None);
    setup.source_keys = vec![("akorda-en".into(), "channels = [\"en\", \"en2\"]".into())];
    setup
        .extra_config
        .push_str("\n[[channels]]\nid = \"en2\"\nchat = \"@herald_en\"\n");
    let t = spawn_app_with(setup).await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    let store = &t.app.shared.store;
    eventually("both entries have records", WAIT, || {
        let ids = store.channel_ids().unwrap();
        ids.iter().any(|i| i == "en") && ids.iter().any(|i| i == "en2")
    })
    .await;
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let text = text
        .replacen("channels = [\"en\", \"en2\"]", "channels = [\"en\"]", 1)
        .replacen(
            "\n[[channels]]\nid = \"en2\"\nchat = \"@herald_en\"\n",
            "\n",
            1,
        );
    std::fs::write(&t.config_path, text).unwrap();
    eventually("en2 removed", WAIT, || !has_channel(&t, "en2")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ids = store.channel_ids().unwrap();
    assert!(
        ids.iter().any(|i| i == "en2"),
        "en2's records were moved: {ids:?}"
    );
    t.stop().await;
}

/// Whether channel `en` of `t` posts to `chat` in the running config.
fn names_chat(t: &TestApp, chat: &str) -> bool {
    t.app
        .config()
        .channels
        .iter()
        .any(|c| c.id == "en" && format!("{:?}", c.chat).contains(chat))
}

/// Posts `n` releases (1..=n) on `t`'s site, polls, and waits for `count` messages in all.
async fn post_releases(t: &TestApp, fake: &FakeBotApi, n: u64, count: usize) {
    for k in 1..=n {
        t.site.publish("en", release_en(k, k as u32));
    }
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(count, WAIT).await;
}

/// The chat of channel `en` migrated (a group became a supergroup): its posts follow the new
/// id. Then the entry is given another chat: the migration belonged to the chat that migrated,
/// so the posts go to the chat the entry names now, at the reload that changed it.
#[tokio::test(flavor = "multi_thread")]
async fn a_migration_is_dropped_when_the_entry_names_another_chat() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let t = app(&fake).await;
    fake.inject(
        Fault::Migrate(-100_777),
        Match::any().method("sendPhoto").chat("@herald_en").times(1),
    );
    post_releases(&t, &fake, 1, 1).await;
    assert_eq!(
        fake.messages_for("-100777").len(),
        1,
        "{:#?}",
        fake.messages()
    );

    edit_config(
        &t,
        &[("chat = \"@herald_en\"", "chat = \"@herald_other\"")],
        |t| names_chat(t, "herald_other"),
    )
    .await;
    post_releases(&t, &fake, 2, 2).await;
    let other = fake.messages_for("@herald_other");
    assert_eq!(other.len(), 1, "{:#?}", fake.messages());
    assert!(caption_has(&other[0], &release_en(2, 2).title));
    assert_eq!(fake.messages_for("-100777").len(), 1);
    t.stop().await;
}

/// The same, the chat changed while herald was stopped: the migration, kept in the store, is
/// dropped at the start.
#[tokio::test(flavor = "multi_thread")]
async fn a_migration_is_dropped_when_the_entry_named_another_chat_while_stopped() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let data = tempfile::tempdir().unwrap();
    let t = spawn_app_with(setup(&fake, "en", Some(data.path()))).await;
    fake.inject(
        Fault::Migrate(-100_777),
        Match::any().method("sendPhoto").chat("@herald_en").times(1),
    );
    post_releases(&t, &fake, 1, 1).await;
    assert_eq!(
        fake.messages_for("-100777").len(),
        1,
        "{:#?}",
        fake.messages()
    );
    t.stop().await;

    let mut moved = setup(&fake, "en", Some(data.path()));
    moved.extra_config =
        moved
            .extra_config
            .replacen("chat = \"@herald_en\"", "chat = \"@herald_other\"", 1);
    let t = spawn_app_with(moved).await;
    post_releases(&t, &fake, 2, 2).await;
    let other = fake.messages_for("@herald_other");
    assert_eq!(other.len(), 1, "{:#?}", fake.messages());
    assert!(caption_has(&other[0], &release_en(2, 2).title));
    t.stop().await;
}

/// A migrated chat's entry edited in another key (its chat unchanged) keeps following the
/// migration.
#[tokio::test(flavor = "multi_thread")]
async fn a_migration_holds_while_the_entry_names_the_chat_that_migrated() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let t = app(&fake).await;
    fake.inject(
        Fault::Migrate(-100_777),
        Match::any().method("sendPhoto").chat("@herald_en").times(1),
    );
    post_releases(&t, &fake, 1, 1).await;
    edit_config(
        &t,
        &[(
            "chat = \"@herald_en\"",
            "chat = \"@herald_en\"\nshare = [\"telegram\"]",
        )],
        |t| t.app.config().channels.iter().any(|c| !c.share.is_empty()),
    )
    .await;
    post_releases(&t, &fake, 2, 2).await;
    assert_eq!(
        fake.messages_for("-100777").len(),
        2,
        "{:#?}",
        fake.messages()
    );
    t.stop().await;
}
