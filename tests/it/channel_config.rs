//! Channel entries edited in the live config: renamed (same chat, new id) and removed. What
//! was posted is known by the chat it went to, and a queue is never stranded silently.

use crate::common;

use common::site::release_en;
use common::{Setup, TestApp, eventually, spawn_app_with};
use fake_botapi::{FAST_TELEGRAM, FakeBotApi, FakeOptions};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// An app whose `akorda-en` posts to channel `en` (`@herald_en`), with `backfill = 1`.
async fn app(fake: &FakeBotApi) -> TestApp {
    spawn_app_with(setup(fake, "en", None)).await
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
