//! Delivery integrity (issue 18), against the strict fake Bot API: posts of a source briefly out
//! of the config wait instead of being dropped; a channel paused while it waits for its turn
//! sends nothing more; a token set on an existing database posts its backfill at the next
//! scheduled poll even when the list page has not changed; a photo Telegram cannot use becomes
//! the text post; a post Telegram refuses for good is set aside (the queue goes on, the admins
//! are told once) until `/requeue`; a post found after a lost answer is recorded as the kind it
//! is; two entries on one chat share its limits and its search for a lost post; a digest
//! message whose answer was lost is found, not sent again; a queued delivery that cannot be read
//! is set aside, and the queue behind it goes on.

use crate::common;

use common::eventually;

use common::site::release_en;
use common::{Setup, TestApp, open_store, spawn_app_with};
use fake_botapi::{FAST_TELEGRAM, FakeBotApi, FakeOptions, Fault, Match, command};
use herald::pipeline::PollOptions;
use herald::store::PostRecord;
use std::time::Duration;

async fn fake() -> FakeBotApi {
    FakeBotApi::start(FakeOptions::default()).await
}

/// One channel `en` on `@herald_en` for akorda-en, Telegram's default limits (1/s, 20/min).
fn setup(fake: &FakeBotApi, backfill: u32) -> Setup {
    Setup {
        source_keys: vec![(
            "akorda-en".into(),
            format!("channels = [\"en\"]\nbackfill = {backfill}"),
        )],
        ..Setup::telegram(fake, "\n[[channels]]\nid = \"en\"\nchat = \"@herald_en\"\n")
    }
}

/// [`setup`] with `ADMIN` as the one admin.
fn setup_with_admin(fake: &FakeBotApi, backfill: u32) -> Setup {
    let mut s = setup(fake, backfill);
    s.extra_config = s
        .extra_config
        .replace("[telegram]\n", &format!("[telegram]\nadmins = [{ADMIN}]\n"));
    s
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

/// Posts wait (the channel paused); the channel's `exclude` is edited meanwhile to keep one
/// of them out: when the channel goes on, that one is not posted (README: a release that does
/// not pass is neither posted nor edited there), the others are, once each.
#[tokio::test(flavor = "multi_thread")]
async fn a_filter_edited_while_posts_wait_keeps_the_waiting_ones_out_too() {
    let fake = fake().await;
    let t = spawn_app_with(setup(&fake, 3)).await;
    let store = &t.app.shared.store;
    store
        .update_channel_state("en", |s| s.paused = true)
        .unwrap();
    for n in 1..=3 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    assert_eq!(store.pending("en").unwrap(), 3);
    crate::digest_filters::exclude(&t, "number 2").await;
    store
        .update_channel_state("en", |s| s.paused = false)
        .unwrap();
    t.app.shared.wake.notify_waiters();
    eventually("the queue drains", Duration::from_secs(15), || {
        store.pending("en").unwrap() == 0
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let texts: Vec<String> = fake
        .messages()
        .into_iter()
        .map(|m| m.text.or(m.caption).unwrap_or_default())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:#?}");
    assert!(
        texts.iter().all(|t| !t.contains("delegation number 2")),
        "{texts:#?}"
    );
    // A correction of the release kept out edits nothing there.
    let mut corrected = release_en(2, 2);
    corrected.title.push_str(" (corrected)");
    t.site.publish("en", corrected);
    t.poll("akorda-en").await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(store.pending("en").unwrap(), 0);
    assert_eq!(fake.messages().len(), 2);
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
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
        report_known: false,
    };
    t.app.poll(&source, scheduled).await.unwrap();
    let got = fake.wait_for_messages(1, Duration::from_secs(10)).await;
    assert!(got[0].plain.contains(&release_en(3, 3).title), "{got:#?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.messages().len(), 1, "only the backfill");
    t.stop().await;
}

const ADMIN: i64 = 4242;

/// Telegram refuses two photos in ways teloxide does not name (bad dimensions, a URL it could
/// not fetch): each post goes out at once as the text post, and each photo is tried only once.
#[tokio::test(flavor = "multi_thread")]
async fn a_photo_telegram_cannot_use_becomes_the_text_post() {
    let fake = fake().await;
    let t = spawn_app_with(setup(&fake, 2)).await;
    for refusal in [
        "Bad Request: PHOTO_INVALID_DIMENSIONS",
        "Bad Request: WEBPAGE_CURL_FAILED",
    ] {
        fake.inject(
            Fault::BadRequest(refusal.into()),
            Match::any().method("sendPhoto"),
        );
    }
    for n in 1..=2 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    let got = fake.wait_for_messages(2, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 2, "{got:#?}");
    for (m, n) in got.iter().zip(1..) {
        assert_eq!(m.method, "sendMessage", "{m:#?}");
        assert!(m.plain.contains(&release_en(n, 1).title), "{m:#?}");
    }
    let photos = fake.requests().into_iter();
    assert_eq!(photos.filter(|r| r.method == "sendPhoto").count(), 2);
    t.stop().await;
}

/// An answer that repeats its request's path (as a proxy's error page does) carries the bot
/// token: it is cut out of the error everywhere it is shown — `/healthz`, the admins' alert,
/// the channel's `last_error` — and `<token>` stands there instead.
#[tokio::test(flavor = "multi_thread")]
async fn the_token_in_an_answer_is_never_shown() {
    let fake = fake().await;
    let t = spawn_app_with(setup_with_admin(&fake, 1)).await;
    let refusal = format!(
        "Bad Request: BUTTON_URL_INVALID in /bot{}/sendPhoto",
        fake_botapi::TOKEN
    );
    fake.inject(
        Fault::BadRequest(refusal),
        Match::any().chat("@herald_en").times(2),
    );
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    eventually("the admins are told", Duration::from_secs(15), || {
        !fake.messages_for(ADMIN).is_empty()
    })
    .await;
    let told = fake.messages_for(ADMIN)[0].plain.clone();
    let health = t.health().await.to_string();
    let last_error = t.health().await["channels"]["en"]["last_error"].clone();
    for shown in [&told, &health, &last_error.to_string()] {
        assert!(
            !shown.contains(fake_botapi::TOKEN),
            "the token shown: {shown}"
        );
        assert!(shown.contains("/bot<token>/sendPhoto"), "{shown}");
    }
    t.stop().await;
}

/// The oldest of three posts is refused for good (as a photo, then as text): it is set aside,
/// the two after it go out, the admins are told once, `/healthz` and `/metrics` count it, and
/// nothing is sent again until `/requeue en` puts it back in the queue.
#[tokio::test(flavor = "multi_thread")]
async fn a_post_refused_for_good_is_set_aside_until_requeued() {
    let fake = fake().await;
    let t = spawn_app_with(setup_with_admin(&fake, 3)).await;
    let refusal = "Bad Request: BUTTON_URL_INVALID";
    fake.inject(
        Fault::BadRequest(refusal.into()),
        Match::any().chat("@herald_en").times(2),
    );
    for n in 1..=3 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    let channel = || fake.messages_for("@herald_en");
    eventually("the queue goes on", Duration::from_secs(15), || {
        channel().len() >= 2
    })
    .await;
    for (m, n) in channel().iter().zip([2, 3]) {
        assert!(m.plain.contains(&release_en(n, 1).title), "{m:#?}");
    }
    let alerts = || -> Vec<String> {
        fake.messages_for(ADMIN)
            .into_iter()
            .map(|m| m.plain)
            .collect()
    };
    eventually("the admins are told", Duration::from_secs(10), || {
        !alerts().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let told = alerts();
    assert_eq!(told.len(), 1, "told once: {told:#?}");
    for part in [&release_en(1, 1).title, refusal, "/requeue en"] {
        assert!(told[0].contains(part), "{part}: {}", told[0]);
    }
    let refused = fake.requests().into_iter().filter(|r| r.status == 400);
    assert_eq!(refused.count(), 2, "not retried");
    assert_eq!(channel().len(), 2);
    let h = t.health().await;
    assert_eq!(
        (
            &h["channels"]["en"]["pending"],
            &h["channels"]["en"]["set_aside"]
        ),
        (&serde_json::json!(0), &serde_json::json!(1)),
        "{h}"
    );
    let metrics = t.text("/metrics").await;
    // The recorder is the process's: other tests' channels named "en" may count here too.
    let set_aside = metrics
        .lines()
        .find_map(|l| l.strip_prefix("herald_posts_set_aside_total{channel=\"en\"} "))
        .and_then(|n| n.trim().parse::<u64>().ok());
    assert!(set_aside.is_some_and(|n| n >= 1), "{metrics}");

    fake.push_update(command(ADMIN, "/requeue en"));
    eventually(
        "the requeued post goes out",
        Duration::from_secs(15),
        || channel().len() >= 3,
    )
    .await;
    assert!(channel()[2].plain.contains(&release_en(1, 1).title));
    eventually("/requeue answered", Duration::from_secs(10), || {
        alerts().iter().any(|a| a.contains("1 set-aside post"))
    })
    .await;
    let h = t.health().await;
    assert_eq!(h["channels"]["en"]["set_aside"], 0, "{h}");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

/// herald stopped between setting a post aside and telling the admins (a kill, or a stop while
/// the alert waited for its turn): the next start tells them, once; the start after that does
/// not tell them again.
#[tokio::test(flavor = "multi_thread")]
async fn an_alert_lost_to_a_stop_is_sent_at_the_next_start() {
    let fake = fake().await;
    let dir = tempfile::tempdir().unwrap();
    let with_admin = || Setup {
        data_dir: Some(dir.path().to_path_buf()),
        ..setup_with_admin(&fake, 1)
    };
    let alerts = || fake.messages_for(ADMIN);
    let recorded = |t: &TestApp| {
        let store = t.app.shared.store.clone();
        eventually("and that is recorded", Duration::from_secs(5), move || {
            store.untold_set_aside("en").unwrap().is_empty()
        })
    };
    let t = spawn_app_with(with_admin()).await;
    fake.inject(
        Fault::BadRequest("Bad Request: BUTTON_URL_INVALID".into()),
        Match::any().chat("@herald_en").times(2),
    );
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    eventually("the admins are told", Duration::from_secs(15), || {
        alerts().len() == 1
    })
    .await;
    recorded(&t).await;
    t.stop().await;

    // What a kill right after setting the post aside leaves: set aside, the admins not told.
    {
        let store = open_store(dir.path());
        assert_eq!(store.requeue("en").await.unwrap(), 1);
        let mut post = store.next_delivery("en").unwrap().unwrap();
        store.mark_in_flight(&mut post).await.unwrap();
        store
            .set_aside(&post, "Bad Request: BUTTON_URL_INVALID")
            .await
            .unwrap();
        store.flush().await.unwrap();
    }

    let t = spawn_app_with(with_admin()).await;
    eventually("told at start", Duration::from_secs(15), || {
        alerts().len() == 2
    })
    .await;
    assert!(
        alerts()[1].plain.contains(&release_en(1, 1).title),
        "{:#?}",
        alerts()
    );
    recorded(&t).await;
    t.stop().await;

    let t = spawn_app_with(with_admin()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(alerts().len(), 2, "told once: {:#?}", alerts());
    assert!(
        fake.messages_for("@herald_en").is_empty(),
        "still set aside"
    );
    let h = t.health().await;
    assert_eq!(h["channels"]["en"]["set_aside"], 1, "{h}");
    t.stop().await;
}

/// The photo is refused and the text post's answer is lost; herald finds the post and records
/// it as the text post it sent (the send's mark keeps its kind; before marks, it was recorded
/// as the photo post herald first meant to send, and a correction's caption edit met "there is
/// no caption in the message to edit"). Each correction edits that message's text.
#[tokio::test(flavor = "multi_thread")]
async fn a_correction_of_a_post_found_after_a_lost_answer_edits_its_text() {
    let fake = fake().await;
    let t = spawn_app_with(setup(&fake, 1)).await;
    // herald's first post in the chat: a search has a known id to start after.
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(1, Duration::from_secs(10)).await;
    fake.inject(Fault::PhotoRejected, Match::any().method("sendPhoto"));
    fake.inject(Fault::AcceptThenDrop, Match::any().method("sendMessage"));
    t.site.publish("en", release_en(2, 1));
    t.poll("akorda-en").await.unwrap();
    eventually("the post is found", Duration::from_secs(20), || {
        t.app.shared.store.pending("en").unwrap() == 0
    })
    .await;
    let posted = fake.messages();
    assert_eq!(posted.len(), 2);
    assert_eq!(posted[1].method, "sendMessage");

    for (n, title) in ["Corrected: delegation of Japan", "Corrected again"]
        .into_iter()
        .enumerate()
    {
        t.site.edit_title("en", release_en(2, 1).id, title);
        t.poll("akorda-en").await.unwrap();
        eventually("the post is edited", Duration::from_secs(15), || {
            fake.edits().len() > n
        })
        .await;
        let edit = &fake.edits()[n];
        assert_eq!(
            (edit.method.as_str(), edit.message_id),
            ("editMessageText", posted[1].message_id)
        );
        assert!(edit.text.as_ref().unwrap().contains(title), "{edit:#?}");
    }
    let captions = fake.requests().into_iter();
    let captions = captions.filter(|r| r.method == "editMessageCaption");
    assert_eq!(captions.count(), 0, "the record knows the post's kind");
    assert_eq!(fake.messages().len(), 2, "edits, never a new post");
    t.stop().await;
}

/// Two entries on one chat, one written as `@name` and one as the chat's id, with different
/// buttons. They share the chat's limits (the strict fake counts per chat), and when the answer
/// to one entry's post is lost, the search finds that post and touches no other: no message is
/// changed, none is sent twice.
#[tokio::test(flavor = "multi_thread")]
async fn two_entries_on_one_chat_share_its_limits_and_the_search_for_a_lost_post() {
    const CHAT: i64 = -1_001_234_567_890;
    let fake = FakeBotApi::start(FakeOptions {
        chats: vec![fake_botapi::ChatConfig::channel(CHAT, "herald_en")],
        ..FakeOptions::default()
    })
    .await;
    let t = spawn_app_with(Setup {
        source_keys: vec![(
            "akorda-en".into(),
            "channels = [\"en\", \"en-vk\"]\nbackfill = 2".into(),
        )],
        ..Setup::telegram(
            &fake,
            &format!(
                "\n[[channels]]\nid = \"en\"\nchat = \"@herald_en\"\nshare = [\"x\"]\n\n\
                 [[channels]]\nid = \"en-vk\"\nchat = {CHAT}\nshare = [\"vk\"]\n"
            ),
        )
    })
    .await;
    t.site.publish("en", release_en(1, 1));
    t.site.publish("en", release_en(2, 1));
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(4, Duration::from_secs(20)).await;

    // The next post's answer is lost; two more releases follow.
    fake.inject(Fault::AcceptThenDrop, Match::any().method("sendPhoto"));
    t.site.publish("en", release_en(3, 2));
    t.site.publish("en", release_en(4, 2));
    t.poll("akorda-en").await.unwrap();
    let store = &t.app.shared.store;
    eventually("every post is out", Duration::from_secs(40), || {
        store.pending("en").unwrap() + store.pending("en-vk").unwrap() == 0
    })
    .await;

    let messages = fake.messages();
    assert_eq!(
        messages.len(),
        8,
        "each release once per entry: {messages:#?}"
    );
    assert!(
        messages.iter().all(|m| m.edit_count == 0),
        "a message was changed: {messages:#?}"
    );
    let buttons = |m: &fake_botapi::SentMessage| m.reply_markup.as_ref().unwrap().to_string();
    for id in ["en", "en-vk"] {
        let target = if id == "en" { "twitter.com" } else { "vk.com" };
        for item in store.recent("akorda-en", 10).unwrap() {
            let record = store.post_record(id, "akorda-en", &item.id).unwrap();
            let Some(PostRecord::Sent { message_id, .. }) = record else {
                panic!("{id}: {} is not posted: {record:?}", item.id);
            };
            let m = messages
                .iter()
                .find(|m| m.message_id == i64::from(message_id))
                .unwrap();
            assert!(
                buttons(m).contains(target),
                "{id}'s record points at another post: {m:#?}"
            );
        }
    }
    let violations = fake.violations();
    assert!(
        violations.is_empty(),
        "the entries share the chat's limits: {violations:#?}"
    );
    t.stop().await;
}

/// A digest message whose answer was lost is looked for before it is sent again, as a post is:
/// found, it is recorded, and the chat gets it once.
#[tokio::test(flavor = "multi_thread")]
async fn a_digest_message_whose_answer_was_lost_is_found_not_sent_again() {
    let fake = fake().await;
    let mut setup = setup(&fake, 3);
    setup.extra_config.push_str("digest_over = 2\n");
    let t = spawn_app_with(setup).await;
    // herald's first post in the chat: a search has a known id to start after.
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(1, Duration::from_secs(10)).await;
    fake.inject(Fault::AcceptThenDrop, Match::any().method("sendMessage"));
    for n in 2..=4 {
        t.site.publish("en", release_en(n, 1));
    }
    t.poll("akorda-en").await.unwrap();
    let store = &t.app.shared.store;
    eventually("the digest is out", Duration::from_secs(30), || {
        store.pending("en").unwrap() == 0
    })
    .await;
    let messages = fake.messages();
    assert_eq!(messages.len(), 2, "one digest message, once: {messages:#?}");
    assert!(
        messages[1].plain.contains("delegation number 4"),
        "{messages:#?}"
    );
    let probes = fake.requests().into_iter();
    assert_eq!(
        probes
            .filter(|r| r.method == "editMessageReplyMarkup")
            .count(),
        1,
        "found at the first id after the last known one"
    );
    for item in store.recent("akorda-en", 10).unwrap() {
        if item.title.contains("number 1") {
            continue;
        }
        let record = store.post_record("en", "akorda-en", &item.id).unwrap();
        assert!(
            matches!(record, Some(PostRecord::Digest { message_id: 2, .. })),
            "{record:?}"
        );
    }
    t.stop().await;
}

/// A queued delivery whose record cannot be read (written here straight into the database, as
/// damage or a foreign writer would leave it) is ahead of a post: it is set aside (counted by
/// `/healthz`), the channel's state says why, and the post behind it goes out.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_queued_delivery_is_set_aside_and_the_queue_goes_on() {
    let fake = fake().await;
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::Config::new()
            .path(dir.path().join("db"))
            .open()
            .unwrap();
        let mut key = b"en\0".to_vec();
        key.extend_from_slice(&0_u64.to_be_bytes());
        let outbox = db.open_tree("outbox").unwrap();
        outbox.insert(key, &b"{not a delivery"[..]).unwrap();
        db.flush().unwrap();
    }
    let mut with_dir = setup(&fake, 1);
    with_dir.data_dir = Some(dir.path().to_path_buf());
    let t = spawn_app_with(with_dir).await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    let got = fake.wait_for_messages(1, Duration::from_secs(15)).await;
    assert_eq!(
        got.len(),
        1,
        "the queue stalled behind the unreadable record"
    );
    assert!(got[0].plain.contains(&release_en(1, 1).title), "{got:#?}");
    let store = &t.app.shared.store;
    eventually("nothing left queued", Duration::from_secs(5), || {
        store.pending("en").unwrap() == 0
    })
    .await;
    let h = t.health().await;
    let channel = &h["channels"]["en"];
    assert_eq!(channel["set_aside"], 1, "{h}");
    let why = channel["last_error"].as_str().unwrap_or_default();
    assert!(why.contains("unreadable"), "{h}");
    t.stop().await;
}

/// One text-only channel `id` on `chat`, admins told, Telegram's limits made short.
fn probed_setup(fake: &FakeBotApi, id: &str, chat: &str) -> Setup {
    Setup {
        source_keys: vec![(
            "akorda-en".into(),
            format!("channels = [\"{id}\"]\nbackfill = 1"),
        )],
        ..Setup::telegram(
            fake,
            &format!(
                "{FAST_TELEGRAM}admins = [{ADMIN}]\n\n[[channels]]\nid = \"{id}\"\nchat = \"{chat}\"\n"
            ),
        )
    }
}

fn text_release(n: u64) -> common::site::Release {
    common::site::Release {
        image: None,
        ..release_en(n, n as u32)
    }
}

/// Publishes text release `n`, polls, and waits until nothing is queued for `id`.
async fn post_and_drain(t: &TestApp, id: &str, n: u64) {
    t.site.publish("en", text_release(n));
    t.poll("akorda-en").await.unwrap();
    let store = &t.app.shared.store;
    eventually("the queue drains", Duration::from_secs(40), || {
        store.pending(id).unwrap() == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
}

fn item_of(t: &TestApp, n: u64) -> herald::model::Item {
    let title = text_release(n).title;
    let items = t.app.shared.store.recent("akorda-en", 20).unwrap();
    items.into_iter().find(|i| i.title == title).unwrap()
}

/// A message of a channel admin (the bot may edit others' posts) is between herald's posts,
/// and herald's next post's answer is lost. The search's probe gives the admin's message the
/// post's buttons, and that probe's answer is lost too (`fault`: the connection dropped, or a
/// 5xx after the edit was made). Tried again, the admin's message answers "not modified": by
/// herald's own doing, so it proves nothing. The search goes on, finds the post above it, and
/// puts the admin's message back as it was; a correction edits the post, never the admin's
/// message. (The probe's "not modified" was taken for the post: the release was recorded at the
/// admin's message, which kept herald's buttons and got its corrections.)
async fn a_lost_probe_answer_is_no_proof(fault: Fault, id: &str, chat: &str) {
    let fake = FakeBotApi::start(FakeOptions {
        bot_edits_others: true,
        ..FakeOptions::fast()
    })
    .await;
    let t = spawn_app_with(probed_setup(&fake, id, chat)).await;
    post_and_drain(&t, id, 1).await;
    let other = fake.post_as_other(chat, "An admin's own post", &[]);
    fake.inject(
        Fault::AcceptThenDrop,
        Match::any().method("sendMessage").chat(chat),
    );
    fake.inject(
        fault,
        Match::any().method("editMessageReplyMarkup").chat(chat),
    );
    post_and_drain(&t, id, 2).await;
    let messages = fake.messages_for(chat);
    assert_eq!(messages.len(), 3, "{messages:#?}");
    let admins = messages.iter().find(|m| m.message_id == other).unwrap();
    assert!(
        admins.reply_markup.is_none(),
        "the admin's message kept the post's buttons: {admins:#?}"
    );
    let post = messages.iter().find(|m| m.message_id == other + 1).unwrap();
    assert!(post.plain.contains(&text_release(2).title), "{post:#?}");
    let store = &t.app.shared.store;
    let record = store.post_record(id, "akorda-en", &item_of(&t, 2).id);
    assert!(
        matches!(record, Ok(Some(PostRecord::Sent { message_id, .. })) if i64::from(message_id) == other + 1),
        "{record:?}"
    );
    let corrected = format!("Corrected: {}", text_release(2).title);
    t.site.edit_title("en", text_release(2).id, &corrected);
    t.poll("akorda-en").await.unwrap();
    eventually("the correction is made", Duration::from_secs(15), || {
        fake.messages_for(chat)
            .iter()
            .any(|m| m.message_id == other + 1 && m.plain.contains(&corrected))
    })
    .await;
    let admins = fake.messages_for(chat);
    let admins = admins.iter().find(|m| m.message_id == other).unwrap();
    assert!(
        admins.plain == "An admin's own post" && admins.reply_markup.is_none(),
        "{admins:#?}"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_probe_whose_answer_was_dropped_proves_nothing() {
    a_lost_probe_answer_is_no_proof(Fault::AcceptThenDrop, "dropped", "@herald_probe_dropped")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_probe_answered_by_a_5xx_after_its_edit_proves_nothing() {
    a_lost_probe_answer_is_no_proof(
        Fault::AcceptThenServerError(500),
        "failed",
        "@herald_probe_500",
    )
    .await;
}

/// A fresh database posts into a chat that holds an older message of the bot (with buttons of
/// its own). herald's first post gets a 5xx (Telegram may have it) and, knowing no id in the
/// chat, herald sends it again; below the copy sent again, the probe of the older message gives
/// it the post's buttons, and that probe's answer is lost. Tried again, the older message
/// answers "not modified": herald's own doing, no proof that it is an earlier copy. The post
/// stays recorded at the copy sent again (not deleted: it is the only real post), the
/// correction edits it, and the admins are told that a message may keep buttons not its own.
/// (It was taken for the earlier copy: the real post was deleted and the correction overwrote
/// the bot's older message.)
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_probe_below_a_copy_sent_again_never_takes_another_message_for_the_post() {
    use teloxide::payloads::SendMessageSetters;
    use teloxide::prelude::Requester;
    use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, Recipient};
    const CHAT: &str = "@herald_probe_below";
    let fake = FakeBotApi::start(FakeOptions {
        first_message_id: 1000,
        ..FakeOptions::fast()
    })
    .await;
    let t = spawn_app_with(probed_setup(&fake, "below", CHAT)).await;
    let own = InlineKeyboardButton::url("Own", "https://example.org/own".parse().unwrap());
    fake.bot()
        .send_message(
            Recipient::ChannelUsername(CHAT.into()),
            "An old post of the bot",
        )
        .reply_markup(InlineKeyboardMarkup::new([[own]]))
        .await
        .unwrap();
    fake.inject(
        Fault::ServerError(502),
        Match::any().method("sendMessage").chat(CHAT),
    );
    fake.inject(
        Fault::AcceptThenDrop,
        Match::any().method("editMessageReplyMarkup").chat(CHAT),
    );
    post_and_drain(&t, "below", 1).await;
    let store = &t.app.shared.store;
    eventually("the look below ends", Duration::from_secs(20), || {
        store.looks_back(CHAT, &[]).unwrap().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let messages = fake.messages_for(CHAT);
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(
        messages.iter().all(|m| !m.deleted),
        "the only real post was deleted: {messages:#?}"
    );
    let record = store.post_record("below", "akorda-en", &item_of(&t, 1).id);
    assert!(
        matches!(
            record,
            Ok(Some(PostRecord::Sent {
                message_id: 1001,
                ..
            }))
        ),
        "{record:?}"
    );
    let corrected = format!("Corrected: {}", text_release(1).title);
    t.site.edit_title("en", text_release(1).id, &corrected);
    t.poll("akorda-en").await.unwrap();
    eventually("the correction is made", Duration::from_secs(15), || {
        fake.messages_for(CHAT)
            .iter()
            .any(|m| m.message_id == 1001 && m.plain.contains(&corrected))
    })
    .await;
    let old = &fake.messages_for(CHAT)[0];
    assert_eq!(old.plain, "An old post of the bot", "{old:#?}");
    eventually("the admins are told", Duration::from_secs(15), || {
        fake.messages_for(ADMIN)
            .iter()
            .any(|m| m.plain.contains("message 1000") && m.plain.contains("duplicate"))
    })
    .await;
    t.stop().await;
}

/// The number after `name{channel="id"} ` in a /metrics text.
fn metric(metrics: &str, name: &str, id: &str) -> Option<u64> {
    let prefix = format!("{name}{{channel=\"{id}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|n| n.trim().parse().ok())
}

/// A post to a group is accepted but its answer is lost, then the group becomes a supergroup:
/// the search for it is told the chat moved, and the post goes out again in the supergroup. It
/// may be there twice (the old group's history holds the first copy): the admins are told, the
/// uncertain sends are counted, and /healthz says it in words (it showed the Debug form of
/// the error, "Migrated(-1001555000555)", and said nothing of a duplicate).
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_send_that_went_out_again_after_a_migration_is_reported() {
    const CHAT: &str = "@herald_grp_moved";
    const NEW: i64 = -1_001_555_000_555;
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let t = spawn_app_with(probed_setup(&fake, "moved", CHAT)).await;
    post_and_drain(&t, "moved", 1).await;
    fake.inject(
        Fault::AcceptThenDrop,
        Match::any().method("sendMessage").chat(CHAT),
    );
    fake.inject(Fault::Migrate(NEW), Match::any().chat(CHAT).times(1_000));
    post_and_drain(&t, "moved", 2).await;
    assert_eq!(fake.messages_for(CHAT).len(), 2, "{:#?}", fake.messages());
    let moved = fake.messages_for(NEW);
    assert_eq!(moved.len(), 1, "{:#?}", fake.messages());
    assert!(
        moved[0].plain.contains(&text_release(2).title),
        "{moved:#?}"
    );
    let metrics = t.text("/metrics").await;
    assert_eq!(
        metric(&metrics, "herald_telegram_uncertain_sends_total", "moved"),
        Some(1),
        "{metrics}"
    );
    let h = t.health().await;
    let why = h["channels"]["moved"]["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // The send that follows learns the migration too: the last error says so, in words.
    assert!(why.contains("supergroup"), "{h}");
    assert!(!why.contains("Migrated("), "{h}");
    eventually("the admins are told", Duration::from_secs(15), || {
        fake.messages_for(ADMIN).iter().any(|m| {
            m.plain.contains("duplicate is possible") && m.plain.contains(&text_release(2).title)
        })
    })
    .await;
    t.stop().await;
}
