//! Telegram delivery end to end: the real app, real teloxide, and the strict fake Bot API.

use crate::common;

use common::site::{release_en, release_ru};
use common::{Setup, TestApp, eventually, spawn_app_with};
use fake_botapi::{FakeBotApi, FakeOptions, Fault, Match};
use std::time::Duration;

/// Limits for tests: fast, but still enforced by the fake and obeyed by herald.
const FAST: (u32, u32, u32) = (10, 600, 30);

async fn fake(limits: (u32, u32, u32)) -> FakeBotApi {
    FakeBotApi::start(FakeOptions {
        per_chat_per_second: limits.0,
        per_chat_per_minute: limits.1,
        global_per_second: limits.2,
        ..FakeOptions::default()
    })
    .await
}

/// An app whose `akorda-en` posts to `@herald_en` (share x, telegram) and `akorda-ru` to
/// `@herald_ru`, with `backfill = 1`.
async fn app(fake: &FakeBotApi, limits: (u32, u32, u32), extra: &str) -> TestApp {
    spawn_app_with(telegram_setup(fake, limits, extra)).await
}

fn telegram_setup(fake: &FakeBotApi, limits: (u32, u32, u32), extra: &str) -> Setup {
    Setup {
        source_keys: vec![
            (
                "akorda-en".into(),
                "channels = [\"en\"]\nmax_pages = 10".into(),
            ),
            ("akorda-ru".into(), "channels = [\"ru\"]".into()),
        ],
        extra_source_keys: extra.into(),
        ..Setup::telegram(
            fake,
            &format!(
                r#"per_chat_per_second = {}
per_chat_per_minute = {}
global_per_second = {}

[[channels]]
id = "en"
chat = "@herald_en"
share = ["x", "telegram"]

[[channels]]
id = "ru"
chat = "@herald_ru"
share = ["vk"]
"#,
                limits.0, limits.1, limits.2,
            ),
        )
    }
}

/// Whether each of `messages` is the post of release `numbers[k]` (dated its number's day).
fn posted_in_order(numbers: &[u64], messages: &[fake_botapi::SentMessage]) -> Vec<bool> {
    numbers
        .iter()
        .zip(messages)
        .map(|(n, m)| {
            m.caption
                .as_ref()
                .unwrap()
                .contains(&release_en(*n, *n as u32).title)
        })
        .collect()
}

/// A site that lists its releases oldest first: the backfill is still the newest by date, and
/// new releases still go out oldest first (the feeds order by date; so do the posts).
#[tokio::test(flavor = "multi_thread")]
async fn a_page_listing_oldest_first_backfills_the_newest_by_date() {
    let fake = fake(FAST).await;
    let t = app(&fake, FAST, "").await;
    // `publish` puts a release on top: the page reads 1, 2, 3 from the top.
    for n in (1..=3).rev() {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    let first = fake.wait_for_messages(1, Duration::from_secs(10)).await;
    let caption = first[0].caption.clone().unwrap();
    assert!(caption.contains(&release_en(3, 3).title), "{caption}");
    // Two more on top, oldest first again: the page reads 5, 6, 1, 2, 3.
    t.site.publish("en", release_en(6, 6));
    t.site.publish("en", release_en(5, 5));
    t.poll("akorda-en").await.unwrap();
    let all = fake.wait_for_messages(3, Duration::from_secs(10)).await;
    assert_eq!(
        posted_in_order(&[5, 6], &all[1..]),
        [true, true],
        "oldest first: {all:#?}"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn first_poll_backfills_then_each_new_release_is_posted_once_in_order() {
    let fake = fake(FAST).await;
    let t = app(&fake, FAST, "").await;
    for n in 1..=3 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    let first = fake.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(first.len(), 1, "backfill = 1 posts only the newest");
    assert!(
        first[0]
            .caption
            .as_ref()
            .unwrap()
            .contains(&release_en(3, 3).title)
    );

    t.site.publish("en", release_en(4, 4));
    t.site.publish("en", release_en(5, 5));
    t.poll("akorda-en").await.unwrap();
    t.poll("akorda-en").await.unwrap();
    let all = fake.wait_for_messages(3, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all_now = fake.messages();
    assert_eq!(all_now.len(), 3, "{all_now:#?}");
    assert_eq!(
        posted_in_order(&[4, 5], &all[1..]),
        [true, true],
        "oldest first"
    );

    let m = &all[2];
    assert_eq!(m.method.to_lowercase(), "sendphoto");
    assert_eq!(m.chat, "@herald_en");
    assert_eq!(m.parse_mode.as_deref(), Some("HTML"));
    let caption = m.caption.as_ref().unwrap();
    assert!(
        caption.starts_with(&format!("<b>{}</b>", release_en(5, 5).title)),
        "{caption}"
    );
    assert!(caption.contains("5 March 2026"), "{caption}");
    assert!(caption.contains("#akorda_en"), "{caption}");
    assert!(
        m.photo
            .as_ref()
            .unwrap()
            .ends_with("/uploadMedia/2026/03/5.jpg")
    );
    let rows = m.reply_markup.as_ref().unwrap()["inline_keyboard"]
        .as_array()
        .unwrap()
        .clone();
    let labels: Vec<String> = rows
        .iter()
        .flat_map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|b| b["text"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(labels, ["Read", "X", "Telegram"]);
    let read = rows[0][0]["url"].as_str().unwrap();
    assert!(read.ends_with("-100005"), "{read}");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sixty_releases_at_once_all_arrive_within_the_limits_and_none_twice() {
    let fake = fake(FAST).await;
    let t = app(&fake, FAST, "").await;
    t.site.publish("en", release_en(0, 1));
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(1, Duration::from_secs(10)).await;
    for n in 1..=60 {
        t.site.publish("en", release_en(n, 2));
    }
    let report = t.poll("akorda-en").await.unwrap();
    assert_eq!(report.count(herald::model::ItemState::New), 60);
    let all = fake.wait_for_messages(61, Duration::from_secs(60)).await;
    assert_eq!(all.len(), 61);
    for (i, m) in all[1..].iter().enumerate() {
        let title = release_en(i as u64 + 1, 2).title;
        assert!(
            m.caption.as_ref().unwrap().contains(&title),
            "message {i} is not {title}"
        );
    }
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    let health = t.health().await;
    assert_eq!(health["channels"]["en"]["pending"], 0);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_correction_edits_the_post_and_a_deleted_post_is_left_alone() {
    let fake = fake(FAST).await;
    let t = app(&fake, FAST, "").await;
    t.site.publish("ru", release_ru(1, 1));
    t.poll("akorda-ru").await.unwrap();
    let posted = fake.wait_for_messages(1, Duration::from_secs(10)).await;

    t.site
        .edit_title("ru", release_ru(1, 1).id, "Исправлено: встреча");
    t.poll("akorda-ru").await.unwrap();
    eventually("an edit", Duration::from_secs(15), || {
        !fake.edits().is_empty()
    })
    .await;
    let edits = fake.edits();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].message_id, posted[0].message_id);
    assert!(
        edits[0]
            .caption
            .as_ref()
            .unwrap()
            .contains("Исправлено: встреча")
    );
    assert_eq!(fake.messages().len(), 1, "an edit, not a new post");

    // An admin deletes the post; a later correction must not bring it back.
    assert!(fake.delete_message(&posted[0].chat, posted[0].message_id));
    t.site
        .edit_title("ru", release_ru(1, 1).id, "Исправлено ещё раз");
    t.poll("akorda-ru").await.unwrap();
    eventually("a second edit", Duration::from_secs(15), || {
        fake.requests()
            .iter()
            .filter(|r| r.method.to_lowercase().starts_with("edit"))
            .count()
            >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.messages().iter().filter(|m| !m.deleted).count(), 0);
    assert_eq!(fake.messages().len(), 1);
    let health = t.health().await;
    assert_eq!(health["channels"]["ru"]["pending"], 0);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_channel_keeps_its_posts_and_never_delays_another() {
    let fake = fake(FAST).await;
    let t = app(&fake, FAST, "").await;
    fake.inject(
        Fault::Forbidden,
        Match::any()
            .method("sendPhoto")
            .chat("@herald_ru")
            .times(1000),
    );
    t.site.publish("ru", release_ru(1, 1));
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-ru").await.unwrap();
    t.poll("akorda-en").await.unwrap();
    let got = fake.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].chat, "@herald_en");
    eventually("a 403", Duration::from_secs(15), || {
        fake.requests().iter().any(|r| r.status == 403)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = t.health().await;
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["channels"]["ru"]["ok"], false);
    assert_eq!(health["channels"]["ru"]["pending"], 1);
    assert!(
        health["channels"]["ru"]["last_error"]
            .as_str()
            .unwrap()
            .contains("kicked"),
        "{health}"
    );
    assert_eq!(health["channels"]["en"]["ok"], true);
    assert_eq!(fake.messages_for("@herald_ru").len(), 0);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_photo_falls_back_to_a_message_with_a_link_preview() {
    let fake = fake(FAST).await;
    let t = app(&fake, FAST, "").await;
    fake.inject(
        Fault::PhotoRejected,
        Match::any().method("sendPhoto").times(1),
    );
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    let got = fake.wait_for_messages(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].method.to_lowercase(), "sendmessage");
    assert!(
        got[0]
            .text
            .as_ref()
            .unwrap()
            .contains(&release_en(1, 1).title)
    );
    let preview = got[0].link_preview_options.as_ref().unwrap();
    assert!(
        preview["url"].as_str().unwrap().ends_with("-100001"),
        "{preview}"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_pauses_the_chat_then_the_same_post_goes_out() {
    let fake = fake(FAST).await;
    let t = app(&fake, FAST, "").await;
    fake.inject(
        Fault::TooManyRequests(2),
        Match::any().method("sendPhoto").times(1),
    );
    t.site.publish("en", release_en(1, 1));
    let start = tokio::time::Instant::now();
    t.poll("akorda-en").await.unwrap();
    let got = fake.wait_for_messages(1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1);
    assert!(start.elapsed() >= Duration::from_secs(2));
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

/// Three releases polled while no token was set; then an app with the token on the same store,
/// whose site lists the first `listed` releases: its first poll posts only the backfill, the
/// newest of them. Returns that poll's report.
async fn backfill_after_a_later_token(listed: u64) -> herald::pipeline::PollReport {
    let fake = fake(FAST).await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = telegram_setup(&fake, FAST, "");
    setup.token = None;
    setup.data_dir = Some(dir.path().to_path_buf());
    let t = spawn_app_with(setup).await;
    for n in 1..=3 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    let site = t.site.clone();
    t.stop().await;

    let mut setup = telegram_setup(&fake, FAST, "");
    setup.data_dir = Some(dir.path().to_path_buf());
    let t = spawn_app_with(setup).await;
    // The new app has its own fake site: give it the same releases, and any newer.
    for n in 1..=listed {
        t.site.publish("en", release_en(n, n as u32));
    }
    drop(site);
    let report = t.poll("akorda-en").await.unwrap();
    let got = fake.wait_for_messages(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.messages().len(), 1, "only the backfill");
    let newest = release_en(listed, listed as u32).title;
    assert!(got[0].caption.as_ref().unwrap().contains(&newest));
    t.stop().await;
    report
}

/// The backfill of a channel's first poll takes known releases too: a scheduled poll, which
/// otherwise leaves them unread (issue 23), reads them back when a channel needs its backfill.
#[tokio::test(flavor = "multi_thread")]
async fn a_later_token_backfills_a_known_release_when_nothing_is_new() {
    let report = backfill_after_a_later_token(3).await;
    assert_eq!(report.count(herald::model::ItemState::Known), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_token_nothing_is_queued_and_a_later_token_starts_with_backfill() {
    backfill_after_a_later_token(4).await;
}

/// A channel that had its first poll, then a run without a token storing new releases, then
/// the token again: the first poll after it counts as a first poll (SPEC), posting the backfill
/// (the newest release, never posted), not nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_token_set_again_after_a_run_without_one_starts_with_backfill() {
    let fake = fake(FAST).await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = telegram_setup(&fake, FAST, "");
    setup.data_dir = Some(dir.path().to_path_buf());
    let t = spawn_app_with(setup).await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(1, Duration::from_secs(10)).await;
    t.stop().await;

    let mut setup = telegram_setup(&fake, FAST, "");
    setup.token = None;
    setup.data_dir = Some(dir.path().to_path_buf());
    let t = spawn_app_with(setup).await;
    for n in 1..=3 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    t.stop().await;

    let mut setup = telegram_setup(&fake, FAST, "");
    setup.data_dir = Some(dir.path().to_path_buf());
    let t = spawn_app_with(setup).await;
    for n in 1..=3 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    let got = fake.wait_for_messages(2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.messages().len(), 2, "the first post and the backfill");
    assert!(
        got[1]
            .caption
            .as_ref()
            .unwrap()
            .contains(&release_en(3, 3).title)
    );
    t.stop().await;
}

/// A release posted, then gone from the feed (past `max_items`) and its post record swept a
/// month later, is never posted again by a backfill: after a run without a token, the first
/// poll's backfill takes the newest releases still in the feed only.
#[tokio::test(flavor = "multi_thread")]
async fn a_backfill_never_posts_again_a_release_gone_from_the_feed() {
    let fake = fake(FAST).await;
    let dir = tempfile::tempdir().unwrap();
    let keys = "max_items = 1\nbackfill = 2";
    let mut setup = telegram_setup(&fake, FAST, keys);
    setup.data_dir = Some(dir.path().to_path_buf());
    let t = spawn_app_with(setup).await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(1, Duration::from_secs(10)).await;
    t.site.publish("en", release_en(2, 2));
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(2, Duration::from_secs(10)).await;
    t.stop().await;
    // A month on: the record of release 1, gone from the feed, is swept.
    let store = common::open_store(dir.path());
    assert!(
        store
            .sweep_posts(chrono::Utc::now() + chrono::Duration::days(1))
            .unwrap()
            > 0
    );
    drop(store);

    let mut setup = telegram_setup(&fake, FAST, keys);
    setup.token = None;
    setup.data_dir = Some(dir.path().to_path_buf());
    let t = spawn_app_with(setup).await;
    t.stop().await;

    let mut setup = telegram_setup(&fake, FAST, keys);
    setup.data_dir = Some(dir.path().to_path_buf());
    let t = spawn_app_with(setup).await;
    for n in 1..=2 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fake.messages().len(), 2, "{:?}", fake.messages());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_lost_on_the_wire_does_not_duplicate_the_post() {
    let fake = fake(FAST).await;
    let t = app(&fake, FAST, "").await;
    // Two posts already there, so the lost one is not the channel's first message.
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(1, Duration::from_secs(10)).await;
    fake.inject(
        Fault::AcceptThenDrop,
        Match::any().method("sendPhoto").times(1),
    );
    t.site.publish("en", release_en(2, 2));
    t.site.publish("en", release_en(3, 3));
    t.poll("akorda-en").await.unwrap();
    eventually("a dropped answer", Duration::from_secs(15), || {
        fake.requests().iter().any(|r| r.dropped)
    })
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while t.health().await["channels"]["en"]["pending"] != 0 {
        assert!(tokio::time::Instant::now() < deadline, "queue not drained");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let titles: Vec<String> = fake
        .messages()
        .iter()
        .map(|m| m.caption.clone().unwrap())
        .collect();
    assert_eq!(titles.len(), 3, "{titles:#?}");
    let probed = fake
        .requests()
        .iter()
        .any(|r| r.method.eq_ignore_ascii_case("editMessageReplyMarkup"));
    assert!(probed, "herald should have looked for the unanswered post");
    for (m, n) in titles.iter().zip(1..) {
        assert!(m.contains(&release_en(n, n as u32).title), "{m}");
    }
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_answer_counts_as_unanswered_and_is_not_posted_twice() {
    let fake = fake(FAST).await;
    let t = app(&fake, FAST, "").await;
    // herald's first post in the chat: the search for the next one has an id to start after.
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    wait_until_pending(&t, "en", 0, Duration::from_secs(20)).await;
    // Accepted at once, answered after herald's 3 s timeout.
    fake.inject(
        Fault::Delay(Duration::from_secs(5)),
        Match::any().method("sendPhoto").times(1),
    );
    t.site.publish("en", release_en(2, 2));
    t.poll("akorda-en").await.unwrap();
    wait_until_pending(&t, "en", 0, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(fake.messages().len(), 2, "{:#?}", fake.messages());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_error_is_retried_and_a_migrated_chat_is_followed() {
    let fake = fake(FAST).await;
    let t = app(&fake, FAST, "").await;
    fake.inject(
        Fault::ServerError(502),
        Match::any().method("sendPhoto").chat("@herald_en").times(1),
    );
    fake.inject(
        Fault::Migrate(-100777),
        Match::any().method("sendPhoto").chat("@herald_ru").times(1),
    );
    t.site.publish("en", release_en(1, 1));
    t.site.publish("ru", release_ru(1, 1));
    t.poll("akorda-en").await.unwrap();
    t.poll("akorda-ru").await.unwrap();
    // teloxide waits 10 s inside a request that met a 5xx before it reports it.
    wait_until_pending(&t, "en", 0, Duration::from_secs(40)).await;
    wait_until_pending(&t, "ru", 0, Duration::from_secs(10)).await;
    assert_eq!(fake.messages_for("@herald_en").len(), 1);
    assert_eq!(
        fake.messages_for("-100777").len(),
        1,
        "{:#?}",
        fake.messages()
    );
    // Later posts go to the new chat directly.
    t.site.publish("ru", release_ru(2, 2));
    t.poll("akorda-ru").await.unwrap();
    fake.wait_for_messages(3, Duration::from_secs(10)).await;
    assert_eq!(fake.messages_for("-100777").len(), 2);
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

/// The Bot API unreachable for a while, then a 5xx and a 429 on the way back: every post
/// arrives once, in order, within the limits, and herald needs no restart.
#[tokio::test(flavor = "multi_thread")]
async fn an_outage_then_errors_lose_nothing_and_keep_the_order() {
    let fake = fake(FAST).await;
    let t = app(&fake, FAST, "").await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(1, Duration::from_secs(10)).await;

    fake.set_down(true);
    for n in 2..=6 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    tokio::time::sleep(Duration::from_secs(15)).await;
    assert_eq!(
        fake.messages_for("@herald_en").len(),
        1,
        "nothing got through"
    );
    let health = t.health().await;
    assert_eq!(health["channels"]["en"]["pending"], 5, "{health}");
    assert_eq!(health["channels"]["en"]["ok"], false, "{health}");

    fake.inject(
        Fault::ServerError(502),
        Match::any().method("sendPhoto").chat("@herald_en").times(1),
    );
    fake.inject(
        Fault::TooManyRequests(3),
        Match::any().method("sendPhoto").chat("@herald_en").times(1),
    );
    fake.set_down(false);
    wait_until_pending(&t, "en", 0, Duration::from_secs(90)).await;
    let titles: Vec<String> = fake
        .messages_for("@herald_en")
        .iter()
        .map(|m| m.caption.clone().or(m.text.clone()).unwrap_or_default())
        .collect();
    assert_eq!(titles.len(), 6, "{titles:#?}");
    for (i, text) in titles.iter().enumerate() {
        let title = release_en(i as u64 + 1, 1).title;
        assert!(
            text.contains(&title),
            "post {i} is not release {}: {text}",
            i + 1
        );
    }
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    let health = t.health().await;
    assert_eq!(health["channels"]["en"]["ok"], true, "{health}");
    t.stop().await;
}

async fn wait_until_pending(t: &TestApp, channel: &str, n: u64, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let health = t.health().await;
        if health["channels"][channel]["pending"] == n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{channel}: {health}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A correction stored while the post waits out a 429 (read and formatted before the wait,
/// still only queued) reaches the chat: the post goes out, and an edit after it carries the
/// correction; one message in all.
#[tokio::test(flavor = "multi_thread")]
async fn a_correction_made_while_the_post_waits_out_a_429_reaches_the_chat() {
    let fake = fake(FAST).await;
    let t = app(&fake, FAST, "").await;
    fake.inject(
        Fault::TooManyRequests(5),
        Match::any().method("sendPhoto").times(1),
    );
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    eventually("the 429", Duration::from_secs(15), || {
        fake.requests().iter().any(|r| r.status == 429)
    })
    .await;
    // The worker has read the release again and waits for the hold's end.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let corrected = "Corrected: the President met the delegation";
    t.site.edit_title("en", release_en(1, 1).id, corrected);
    t.poll("akorda-en").await.unwrap();
    let posted = fake.wait_for_messages(1, Duration::from_secs(15)).await;
    let carries = |text: Option<&String>| text.is_some_and(|t| t.contains(corrected));
    eventually(
        "the correction in the chat",
        Duration::from_secs(15),
        || {
            carries(posted[0].caption.as_ref())
                || fake
                    .edits()
                    .iter()
                    .any(|e| carries(e.caption.as_ref()) || carries(e.text.as_ref()))
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.messages().len(), 1, "an edit, not a second post");
    wait_until_pending(&t, "en", 0, Duration::from_secs(10)).await;
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

/// `/healthz` once it shows `channel` held, or after 2 s: the fake records a 429 before herald
/// has read the answer and stored the hold.
async fn health_once_held(t: &TestApp, channel: &str) -> serde_json::Value {
    let mut health = t.health().await;
    for _ in 0..40 {
        if health["channels"][channel]["held_until"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        health = t.health().await;
    }
    health
}

/// A 429 holds the chat for `retry_after`: while the hold lasts, `/healthz` shows the channel
/// held (`held_until`, when it ends; not ok, the status degraded), and once the post went
/// through after it, ok again and no hold.
#[tokio::test(flavor = "multi_thread")]
async fn a_chat_held_by_a_429_shows_in_healthz_while_the_hold_lasts() {
    let fake = fake(FAST).await;
    let t = app(&fake, FAST, "").await;
    fake.inject(
        Fault::TooManyRequests(6),
        Match::any().method("sendPhoto").chat("@herald_en").times(1),
    );
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    eventually("the 429", Duration::from_secs(10), || {
        fake.requests().iter().any(|r| r.status == 429)
    })
    .await;
    let health = health_once_held(&t, "en").await;
    let en = &health["channels"]["en"];
    let until = en["held_until"]
        .as_str()
        .unwrap_or_else(|| panic!("{health}"));
    let until = chrono::DateTime::parse_from_rfc3339(until).unwrap();
    let left = until.signed_duration_since(chrono::Utc::now());
    assert!(
        left > chrono::Duration::seconds(3) && left <= chrono::Duration::seconds(8),
        "held for {left} more: {health}"
    );
    assert_eq!(en["ok"], false, "{health}");
    assert_eq!(en["pending"], 1, "{health}");
    assert_eq!(health["status"], "degraded", "{health}");
    // The other channel's chat is not held.
    assert!(health["channels"]["ru"]["held_until"].is_null(), "{health}");

    wait_until_pending(&t, "en", 0, Duration::from_secs(20)).await;
    let health = t.health().await;
    assert!(health["channels"]["en"]["held_until"].is_null(), "{health}");
    assert_eq!(health["channels"]["en"]["ok"], true, "{health}");
    assert_eq!(fake.messages_for("@herald_en").len(), 1);
    t.stop().await;
}

/// The hold is the chat's: an entry that posts to the same chat as the one that met the 429
/// shows it too.
#[tokio::test(flavor = "multi_thread")]
async fn a_429_hold_shows_on_every_entry_of_the_chat() {
    let fake = fake(FAST).await;
    let mut setup = telegram_setup(&fake, FAST, "");
    setup
        .extra_config
        .push_str("\n[[channels]]\nid = \"en2\"\nchat = \"@herald_en\"\n");
    let t = spawn_app_with(setup).await;
    fake.inject(
        Fault::TooManyRequests(6),
        Match::any().method("sendPhoto").chat("@herald_en").times(1),
    );
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    eventually("the 429", Duration::from_secs(10), || {
        fake.requests().iter().any(|r| r.status == 429)
    })
    .await;
    let health = health_once_held(&t, "en2").await;
    assert!(
        health["channels"]["en2"]["held_until"].is_string(),
        "{health}"
    );
    assert_eq!(
        health["channels"]["en2"]["held_until"], health["channels"]["en"]["held_until"],
        "{health}"
    );
    assert!(health["channels"]["ru"]["held_until"].is_null(), "{health}");
    t.stop().await;
}

/// An app whose Bot API is at `addr` (no fake: a test's own server, or none), posting source
/// `akorda-en` to channel `c` (`@herald_c`, with `channel_keys`) with `backfill`.
fn bot_api_at(addr: &str, channel_keys: &str, backfill: u32) -> Setup {
    Setup {
        extra_config: format!(
            "[telegram]\napi_url = \"http://{addr}\"\n[[channels]]\nid = \"c\"\nchat = \"@herald_c\"\n{channel_keys}"
        ),
        token: Some(herald::telegram::Token::new(fake_botapi::TOKEN)),
        source_keys: vec![(
            "akorda-en".into(),
            format!("channels = [\"c\"]\nbackfill = {backfill}"),
        )],
        ..Setup::default()
    }
}

/// A Bot API that takes each request and closes the connection without an answer (a post may
/// have arrived): the post and the searches for it are retried after a backoff that doubles,
/// never every 2 s for as long as Telegram cannot be reached. Returns the paths asked.
#[tokio::test(flavor = "multi_thread")]
async fn an_unanswering_bot_api_is_retried_with_a_doubling_backoff() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let asked = std::sync::Arc::new(std::sync::Mutex::new(
        Vec::<(std::time::Instant, String)>::new(),
    ));
    let record = asked.clone();
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        while let Ok((mut socket, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0_u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&head)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                record
                    .lock()
                    .unwrap()
                    .push((std::time::Instant::now(), line));
                // Dropped without an answer.
            });
        }
    });
    let setup = bot_api_at(&addr.to_string(), "", 1);
    let t = spawn_app_with(setup).await;
    t.site.publish("en", release_en(1, 1));
    let start = std::time::Instant::now();
    t.poll("akorda-en").await.unwrap();
    tokio::time::sleep(Duration::from_secs(13)).await;
    let calls: Vec<(Duration, String)> = asked
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, l)| !l.contains("getUpdates") && !l.contains("getMe"))
        .map(|(at, l)| (at.duration_since(start), l.clone()))
        .collect();
    // Tries (each a search and a send again) at about 0, 2, 6 and 14 s; every 2 s before.
    assert!(!calls.is_empty(), "no call was made");
    let late: Vec<_> = calls
        .iter()
        .filter(|(at, _)| *at > Duration::from_secs(8))
        .collect();
    assert!(late.is_empty(), "calls between 8 and 13 s: {calls:#?}");
    t.stop().await;
}

/// A Bot API no connection reaches (nothing listens): the sends never left, so nothing is
/// looked for and no duplicate is feared; a digest is not reported as possibly sent twice.
#[tokio::test(flavor = "multi_thread")]
async fn sends_that_never_reached_the_bot_api_fear_no_duplicate() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let setup = bot_api_at(&closed.to_string(), "digest_over = 1\n", 3);
    let t = spawn_app_with(setup).await;
    for n in 1..=3 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    eventually("a failed send", Duration::from_secs(10), || {
        t.app
            .shared
            .store
            .channel_state("c")
            .unwrap()
            .last_error
            .is_some_and(|e| e.contains("connection failed"))
    })
    .await;
    tokio::time::sleep(Duration::from_secs(7)).await;
    let metrics = t.text("/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l == "herald_telegram_uncertain_sends_total{channel=\"c\"} 0"),
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("uncertain"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let state = t.app.shared.store.channel_state("c").unwrap();
    assert!(
        !state
            .last_error
            .unwrap_or_default()
            .contains("duplicate is possible"),
    );
    t.stop().await;
}
