//! A channel's `include` / `exclude` edited while a digest waits in its queue: a digest never
//! sent lists only the releases the filters pass now (README: a release that does not pass is
//! neither posted nor edited there), and goes when none does; the records of the releases left
//! out go with them, so a correction of one edits nothing, and a correction of a release listed
//! edits the message as sent. A digest whose message went out with its answer lost is sent as
//! it was: it may be in the chat already.

use crate::common;

use common::site::release_en;
use common::{Setup, TestApp, eventually, spawn_app_with};
use fake_botapi::{FakeBotApi, FakeOptions, Fault, Match, listed};
use herald::store::PostRecord;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// One channel `en` on `@herald_en` for akorda-en, a digest over 2 posts.
fn setup(fake: &FakeBotApi) -> Setup {
    Setup {
        source_keys: vec![(
            "akorda-en".into(),
            "channels = [\"en\"]\nbackfill = 4".into(),
        )],
        ..Setup::telegram(
            fake,
            "\n[[channels]]\nid = \"en\"\nchat = \"@herald_en\"\ndigest_over = 2\n",
        )
    }
}

/// The channel paused, four releases polled: one digest of them waits.
async fn digest_waits(t: &TestApp) {
    let store = &t.app.shared.store;
    store
        .update_channel_state("en", |s| s.paused = true)
        .unwrap();
    for n in 1..=4 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    assert_eq!(store.pending("en").unwrap(), 1, "one digest");
}

/// Adds `exclude = [pattern]` to the channel `en` (on `@herald_en`), and waits until herald
/// applied it.
pub(crate) async fn exclude(t: &TestApp, pattern: &str) {
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let edited = text.replace(
        "chat = \"@herald_en\"\n",
        &format!("chat = \"@herald_en\"\nexclude = [\"{pattern}\"]\n"),
    );
    assert_ne!(text, edited);
    std::fs::write(&t.config_path, edited).unwrap();
    eventually("the edit applies", Duration::from_secs(10), || {
        t.app
            .config()
            .channel("en")
            .is_some_and(|c| !c.exclude.is_empty())
    })
    .await;
}

/// The channel goes on; waits until its queue is empty.
async fn resume(t: &TestApp) {
    let store = &t.app.shared.store;
    store
        .update_channel_state("en", |s| s.paused = false)
        .unwrap();
    t.app.shared.wake.notify_waiters();
    eventually("the queue drains", WAIT, || {
        store.pending("en").unwrap() == 0
    })
    .await;
}

/// The record of release `n` in the channel.
fn record(t: &TestApp, n: u64) -> Option<PostRecord> {
    let title = release_en(n, 1).title;
    let store = &t.app.shared.store;
    let item = store
        .recent("akorda-en", 20)
        .unwrap()
        .into_iter()
        .find(|i| i.title == title)
        .unwrap();
    store.post_record("en", "akorda-en", &item.id).unwrap()
}

/// Corrects release `n`'s title and polls.
async fn correct(t: &TestApp, n: u64, title: &str) {
    t.site.correct(
        "en",
        100_000 + n,
        title,
        &format!("president-meets-delegation-{n}"),
    );
    let report = t.poll("akorda-en").await.unwrap();
    assert!(format!("{report:?}").contains("Changed"), "{report:?}");
}

/// A digest of four waits; `exclude` is edited to keep one out. The digest goes out listing the
/// three others (its header counting three); the one kept out has no record, so its correction
/// edits nothing; a correction of a release listed edits the message, which still lists the
/// three. Before, the digest listed all four.
#[tokio::test(flavor = "multi_thread")]
async fn a_digest_waiting_when_a_filter_is_edited_lists_only_what_passes() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let t = spawn_app_with(setup(&fake)).await;
    digest_waits(&t).await;
    exclude(&t, "number 2").await;
    resume(&t).await;
    let messages = fake.messages();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(listed(&messages), [1, 3, 4], "{messages:#?}");
    let text = messages[0].text.clone().unwrap();
    assert!(text.contains(": 3 new releases"), "{text}");
    let message_id = messages[0].message_id;
    assert_eq!(record(&t, 2), None);
    for n in [1, 3, 4] {
        assert!(
            matches!(record(&t, n), Some(PostRecord::Digest { message_id: id, .. }) if i64::from(id) == message_id),
            "{n}: {:?}",
            record(&t, n)
        );
    }

    // The release kept out: its correction edits nothing.
    correct(&t, 2, "Head of State hosts the delegation number 2").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(fake.edits().is_empty(), "{:#?}", fake.edits());

    // A release listed: its line is rewritten, the message lists the same three.
    let title = "Head of State hosts the delegation number 3";
    correct(&t, 3, title).await;
    eventually("the digest message edited", WAIT, || {
        !fake.edits().is_empty()
    })
    .await;
    let messages = fake.messages();
    assert_eq!(messages.len(), 1, "nothing sent anew: {messages:#?}");
    assert_eq!(listed(&messages), [1, 3, 4], "{messages:#?}");
    let now = messages[0].text.clone().unwrap();
    assert!(now.contains(title), "{now}");
    assert!(now.contains(": 3 new releases"), "{now}");
    eventually("the edit is recorded", WAIT, || pending(&t) == 0).await;
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

fn pending(t: &TestApp) -> usize {
    t.app.shared.store.pending("en").unwrap()
}

/// A digest every release of which the edited filter keeps out is not sent, and its releases'
/// records go: a later correction edits nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_digest_whose_every_release_an_edited_filter_keeps_out_is_not_sent() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let t = spawn_app_with(setup(&fake)).await;
    digest_waits(&t).await;
    exclude(&t, "delegation").await;
    resume(&t).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(fake.messages().is_empty(), "{:#?}", fake.messages());
    for n in 1..=4 {
        assert_eq!(record(&t, n), None, "{n}");
    }
    correct(&t, 1, "Head of State hosts the delegation number 1").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(pending(&t), 0);
    assert!(fake.messages().is_empty() && fake.edits().is_empty());
    t.stop().await;
}

/// The digest's message goes out and its answer is lost; Telegram goes down before herald can
/// look for it, and meanwhile `exclude` is edited to keep one release out. The message may be
/// in the chat as sent (it is): the digest is not changed, the chat lists each of the four once,
/// and each release is recorded in that message.
#[tokio::test(flavor = "multi_thread")]
async fn a_digest_whose_answer_was_lost_is_not_changed_by_an_edited_filter() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let t = spawn_app_with(setup(&fake)).await;
    digest_waits(&t).await;
    fake.inject(
        Fault::AcceptThenDrop,
        Match::any().method("sendMessage").times(1),
    );
    t.app
        .shared
        .store
        .update_channel_state("en", |s| s.paused = false)
        .unwrap();
    t.app.shared.wake.notify_waiters();
    eventually("the digest message is sent", WAIT, || {
        !fake.messages().is_empty()
    })
    .await;
    fake.set_down(true);
    exclude(&t, "number 2").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    fake.set_down(false);
    eventually("the queue drains", WAIT, || pending(&t) == 0).await;
    // A copy sent again is deleted once the earlier one is found below it.
    let in_chat = || -> Vec<_> { fake.messages().into_iter().filter(|m| !m.deleted).collect() };
    eventually("each release once in the chat", WAIT, || {
        listed(&in_chat()) == [1, 2, 3, 4]
    })
    .await;
    let in_chat = in_chat();
    let message_id = in_chat[0].message_id;
    for n in 1..=4 {
        assert!(
            matches!(record(&t, n), Some(PostRecord::Digest { message_id: id, .. }) if i64::from(id) == message_id),
            "{n}: {:?}",
            record(&t, n)
        );
    }
    t.stop().await;
}
