//! A digest's progress survives a config change and a restart (issue 25): a 95-release digest
//! is split in messages; after the first one Telegram goes away, the source's title is shortened
//! (more entries fit a message) or lengthened (fewer fit), herald reloads (or is stopped and
//! started again on the same database), and Telegram comes back. Before, the parts were split
//! anew from the current config while the progress was a part number: releases were lost or
//! listed twice. Every release must be listed exactly once, oldest first.

use crate::common;

use common::site::release_en;
use common::{Setup, TestApp, eventually, spawn_app_with};
use fake_botapi::{FakeBotApi, FakeOptions, Fault, Match, listed};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);
const RELEASES: u64 = 95;
const SHORT: &str = "Akorda";
/// The title the test config starts with.
const DEFAULT: &str = "Akorda — press releases";

/// A title near the 200 characters the header keeps.
fn long_title() -> String {
    format!("Akorda — {}", "press releases of the President ".repeat(6))
}

fn setup(fake: &FakeBotApi, data_dir: &std::path::Path) -> Setup {
    Setup {
        source_keys: vec![(
            "akorda-en".into(),
            "channels = [\"d\"]\nbackfill = 0".into(),
        )],
        data_dir: Some(data_dir.to_path_buf()),
        ..Setup::telegram(
            fake,
            "\n[[channels]]\nid = \"d\"\nchat = \"@digest\"\ndigest_over = 10\n",
        )
    }
}

/// Waits until the digest's last message went out.
async fn digest_is_out(t: &TestApp) {
    let store = t.app.shared.store.clone();
    eventually("the digest is out", WAIT, || {
        store.pending("d").unwrap() == 0
    })
    .await;
}

/// Replaces the source's title in the config file, and waits until herald applied it.
async fn retitle(t: &TestApp, from: &str, to: &str) {
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let old = format!("title = \"{from}\"");
    assert!(text.contains(&old), "{text}");
    std::fs::write(
        &t.config_path,
        text.replacen(&old, &format!("title = \"{to}\""), 1),
    )
    .unwrap();
    eventually("the new title applies", Duration::from_secs(10), || {
        t.app.config().source("akorda-en").unwrap().title == to
    })
    .await;
}

/// A first poll with nothing due (backfill 0), then a burst of `RELEASES`: a digest is due.
async fn burst(t: &TestApp) {
    t.site.set_per_page(200);
    t.site.publish("en", release_en(0, 1));
    t.poll("akorda-en").await.unwrap();
    publish_burst(t);
    t.poll("akorda-en").await.unwrap();
}

/// The burst's releases on the site, without a poll.
fn publish_burst(t: &TestApp) {
    for n in 1..=RELEASES {
        // Dated in the order they are published (a day holds several: the page breaks ties).
        t.site
            .publish("en", release_en(n, 1 + (n * 27 / 100) as u32));
    }
}

/// [`burst`]; the digest's first message goes out, and Telegram goes down. With `cut`, the
/// answer to that message is lost (as it may be when Telegram goes down at that moment): it is
/// herald's first message in the chat, so herald cannot look for it before it sends it again.
async fn burst_then_down(t: &TestApp, fake: &FakeBotApi, cut: bool) {
    if cut {
        fake.inject(
            Fault::AcceptThenDrop,
            Match::any().method("sendMessage").times(1),
        );
    }
    burst(t).await;
    // Telegram's limit (one message a second in a chat) leaves time to go down in between.
    fake.wait_for_messages(1, WAIT).await;
    fake.set_down(true);
}

/// Waits until the chat lists each release once, oldest first: a copy sent again after a lost
/// answer is deleted once the earlier copy is found below it.
async fn each_release_once(fake: &FakeBotApi) {
    let all = (1..=RELEASES).collect::<Vec<u64>>();
    let within = Duration::from_secs(10);
    let deadline = tokio::time::Instant::now() + within;
    while listed(&in_chat(fake)) != all {
        let chat = in_chat(fake);
        assert!(
            tokio::time::Instant::now() < deadline,
            "each release once, oldest first ({} messages): {:?}",
            chat.len(),
            listed(&chat)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The digest goes out; after its first message Telegram is down (its answer lost when `cut`),
/// the title changes from `before` to `after` (a reload, or a restart when `restart`), and
/// Telegram comes back.
async fn digest_across_a_change(before: &str, after: &str, restart: bool, cut: bool) {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let data = tempfile::tempdir().unwrap();
    let mut t = spawn_app_with(setup(&fake, data.path())).await;
    retitle(&t, DEFAULT, before).await;
    burst_then_down(&t, &fake, cut).await;
    let first = fake.messages();
    assert_eq!(first.len(), 1, "the first message only: {first:#?}");
    assert!(
        first[0].text.as_ref().unwrap().contains("(1/"),
        "a split digest: {first:#?}"
    );
    if restart {
        // Stopped, started again on the same database, and the config edited.
        t.stop().await;
        t = spawn_app_with(setup(&fake, data.path())).await;
        retitle(&t, DEFAULT, after).await;
    } else {
        retitle(&t, before, after).await;
    }
    fake.set_down(false);
    digest_is_out(&t).await;
    each_release_once(&fake).await;
    if cut {
        // The first copy stays, made to read as the copy sent again (split anew).
        let chat = in_chat(&fake);
        assert_eq!(chat[0].message_id, 1, "{chat:#?}");
        assert_eq!(fake.messages().iter().filter(|m| m.deleted).count(), 1);
        assert!(edited(&fake, 1), "{:#?}", fake.edits());
    }
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shorter_title_after_the_first_message_loses_no_release() {
    digest_across_a_change(&long_title(), SHORT, false, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_longer_title_after_the_first_message_repeats_no_release() {
    digest_across_a_change(SHORT, &long_title(), false, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_with_a_shorter_title_loses_no_release() {
    digest_across_a_change(&long_title(), SHORT, true, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_with_a_longer_title_repeats_no_release() {
    digest_across_a_change(SHORT, &long_title(), true, false).await;
}

/// The first message's answer lost as well: it is sent again, split anew (more releases fit),
/// and the earlier copy found below it is made to read as the copy sent again (listing the
/// releases it left for the next message before).
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_first_answer_and_a_shorter_title_list_each_release_once() {
    digest_across_a_change(&long_title(), SHORT, false, true).await;
}

/// The same with fewer releases fitting: the earlier copy lists more than the copy sent again,
/// and is made to list only those (the others go out in the next message).
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_first_answer_and_a_longer_title_list_each_release_once() {
    digest_across_a_change(SHORT, &long_title(), false, true).await;
}

/// A restart between: the look below the copy sent again is made by the new process.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_first_answer_and_a_restart_list_each_release_once() {
    digest_across_a_change(SHORT, &long_title(), true, true).await;
}

/// A release corrected while its digest waits (Telegram down after the first message) is listed
/// as corrected: its new title and its new address (the slug corrected, the id kept), as a
/// post that waited would be. Before, the digest listed the copy frozen when it was queued, and
/// the correction reached nobody.
#[tokio::test(flavor = "multi_thread")]
async fn a_release_corrected_while_its_digest_waits_is_listed_as_corrected() {
    // The newest release, listed in the digest's last message.
    corrected_while_the_digest_waits(false, RELEASES).await;
}

/// The same when the answer to the digest's first message is lost as Telegram goes down, and
/// the release corrected is listed in that message: the message is sent again (corrected), the
/// earlier copy found below it is edited to read so, and the copy sent again deleted.
#[tokio::test(flavor = "multi_thread")]
async fn a_release_corrected_while_its_digest_waits_after_a_lost_answer_is_listed_once() {
    corrected_while_the_digest_waits(true, 1).await;
}

/// Corrects release `n` while the digest waits (Telegram down after its first message, whose
/// answer is lost when `cut`), and checks that the message listing it in the chat lists it as
/// corrected, each release once.
async fn corrected_while_the_digest_waits(cut: bool, n: u64) {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let data = tempfile::tempdir().unwrap();
    let t = spawn_app_with(setup(&fake, data.path())).await;
    burst_then_down(&t, &fake, cut).await;
    assert_eq!(fake.messages().len(), 1);
    let title = format!("Head of State receives the visiting delegation number {n}");
    t.site
        .correct("en", 100_000 + n, &title, "head-of-state-receives-visitors");
    let report = t.poll("akorda-en").await.unwrap();
    assert!(format!("{report:?}").contains("Changed"), "{report:?}");
    fake.set_down(false);
    digest_is_out(&t).await;
    each_release_once(&fake).await;
    let messages = in_chat(&fake);
    let text = messages
        .iter()
        .find(|m| listed(std::slice::from_ref(m)).contains(&n))
        .and_then(|m| m.text.clone())
        .unwrap();
    let moved = format!(
        "http://{}/en/head-of-state-receives-visitors-{}",
        t.site.addr,
        100_000 + n
    );
    assert!(text.contains(&title), "{text}");
    assert!(text.contains(&moved), "{text}");
    if cut {
        assert_eq!(messages[0].message_id, 1, "the earlier copy stays");
        assert!(edited(&fake, 1), "{:#?}", fake.edits());
    }
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

/// The same correction made while the digest's next message waits out a 429 (its message was
/// built when the wait began, before the correction): it is built again once the chat's turn
/// comes, and lists the release as corrected.
#[tokio::test(flavor = "multi_thread")]
async fn a_release_corrected_during_a_429_hold_is_listed_as_corrected() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let data = tempfile::tempdir().unwrap();
    let t = spawn_app_with(setup(&fake, data.path())).await;
    fake.inject(
        Fault::TooManyRequests(4),
        Match::any().method("sendMessage").times(1),
    );
    burst(&t).await;
    // The first message meets the 429: the worker takes the next turn at once and waits in it.
    eventually("the 429", WAIT, || {
        fake.requests().iter().any(|r| r.status == 429)
    })
    .await;
    assert!(fake.messages().is_empty());
    let title = "Head of State receives the visiting delegation number 1";
    t.site
        .correct("en", 100_001, title, "head-of-state-receives-visitors");
    t.poll("akorda-en").await.unwrap();
    digest_is_out(&t).await;
    let messages = fake.messages();
    assert_eq!(listed(&messages), (1..=RELEASES).collect::<Vec<u64>>());
    let first = messages[0].text.clone().unwrap();
    assert!(first.contains(title), "{first}");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

/// The digest message listing `n`, and its text as it stands.
fn message_listing(fake: &FakeBotApi, n: u64) -> (i64, String) {
    fake.messages()
        .into_iter()
        .find(|m| listed(std::slice::from_ref(m)).contains(&n))
        .map(|m| (m.message_id, m.text.unwrap()))
        .unwrap_or_else(|| panic!("no message lists {n}"))
}

/// Corrects release `n`'s title (its slug too when `slug`) and polls.
async fn correct(t: &TestApp, n: u64, title: &str, slug: &str) {
    t.site.correct("en", 100_000 + n, title, slug);
    let report = t.poll("akorda-en").await.unwrap();
    assert!(format!("{report:?}").contains("Changed"), "{report:?}");
}

/// A release corrected after its digest message went out: the message is edited, the release's
/// line rewritten (title and address), the header and the other lines as they were. Corrections
/// of one message made together go out in one edit; a later one keeps the earlier; and after a
/// restart the message is still known. Before, corrections of releases listed in a digest were
/// never sent: the release had no post of its own to edit.
#[tokio::test(flavor = "multi_thread")]
async fn a_release_corrected_after_its_digest_went_out_edits_the_digest_message() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let data = tempfile::tempdir().unwrap();
    let mut t = spawn_app_with(setup(&fake, data.path())).await;
    burst(&t).await;
    digest_is_out(&t).await;
    let (first_id, first_text) = message_listing(&fake, 1);
    let (last_id, last_text) = message_listing(&fake, RELEASES);
    assert_ne!(first_id, last_id, "a split digest");
    let sent = fake.messages().len();

    // Two releases of the first message and one of the last, in one poll.
    let one = "Head of State receives the visiting delegation number 1";
    let two = "Head of State welcomes the delegation number 2";
    let newest = format!("Head of State meets the delegation number {RELEASES}");
    t.site
        .correct("en", 100_001, one, "head-of-state-receives-visitors");
    t.site
        .correct("en", 100_002, two, "president-meets-delegation-2");
    correct(
        &t,
        RELEASES,
        &newest,
        &format!("president-meets-delegation-{RELEASES}"),
    )
    .await;
    eventually("both messages edited", WAIT, || {
        let edits = fake.edits();
        edits.iter().any(|e| e.message_id == first_id)
            && edits.iter().any(|e| e.message_id == last_id)
    })
    .await;
    // Then nothing more: the second correction of the first message went out with the first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let edits = fake.edits();
    assert_eq!(edits.len(), 2, "one edit per message: {edits:#?}");
    assert!(
        edits.iter().all(|e| e.method == "editMessageText"),
        "{edits:#?}"
    );
    assert_eq!(fake.messages().len(), sent, "nothing sent anew");

    let (_, first_now) = message_listing(&fake, 1);
    let moved = format!(
        "http://{}/en/head-of-state-receives-visitors-100001",
        t.site.addr
    );
    assert!(
        first_now.contains(one) && first_now.contains(two),
        "{first_now}"
    );
    assert!(first_now.contains(&moved), "{first_now}");
    assert!(
        !first_now.contains(">Head of State receives delegation number 1<"),
        "{first_now}"
    );
    // The header and every other line as sent.
    let unchanged = |before: &str, after: &str, changed: &[u64]| {
        let lines = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| !changed.iter().any(|n| l.contains(&format!("number {n}<"))))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(lines(before), lines(after));
    };
    unchanged(&first_text, &first_now, &[1, 2]);
    let (_, last_now) = message_listing(&fake, RELEASES);
    assert!(last_now.contains(&newest), "{last_now}");
    unchanged(&last_text, &last_now, &[RELEASES]);
    assert_eq!(
        listed(&fake.messages()),
        (1..=RELEASES).collect::<Vec<u64>>()
    );

    // After a restart (its test site is new: the same releases, the same corrections), a
    // second correction of release 1 keeps release 2's.
    t.stop().await;
    t = spawn_app_with(setup(&fake, data.path())).await;
    t.site.set_per_page(200);
    t.site.publish("en", release_en(0, 1));
    publish_burst(&t);
    t.site
        .correct("en", 100_002, two, "president-meets-delegation-2");
    t.site.correct(
        "en",
        100_000 + RELEASES,
        &newest,
        &format!("president-meets-delegation-{RELEASES}"),
    );
    let again = "Head of State hosts the delegation number 1";
    correct(&t, 1, again, "head-of-state-receives-visitors").await;
    eventually("the message edited again", WAIT, || fake.edits().len() == 3).await;
    let (_, text) = message_listing(&fake, 1);
    assert!(text.contains(again) && text.contains(two), "{text}");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

/// Whether the text of message `message_id` was edited.
fn edited(fake: &FakeBotApi, message_id: i64) -> bool {
    fake.edits()
        .iter()
        .any(|e| e.message_id == message_id && e.method == "editMessageText")
}

/// The messages in the chat now: those accepted and not deleted since.
fn in_chat(fake: &FakeBotApi) -> Vec<fake_botapi::SentMessage> {
    fake.messages().into_iter().filter(|m| !m.deleted).collect()
}

/// The digest's first message is herald's first in the chat (a first poll with `backfill = 0`),
/// and its answer is lost: with no message of its own to look after, herald cannot look for it,
/// so it goes out again. Once accepted, the ids below the copy sent again are looked at, as for
/// a post: the earlier copy is found, the digest's releases recorded there (a later correction
/// edits it) and the copy sent again deleted. Before, digest messages got no look below, and
/// the first message's releases stayed in the chat twice.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_to_the_first_digest_message_leaves_one_copy() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let data = tempfile::tempdir().unwrap();
    let t = spawn_app_with(setup(&fake, data.path())).await;
    fake.inject(
        Fault::AcceptThenDrop,
        Match::any().method("sendMessage").times(1),
    );
    burst(&t).await;
    digest_is_out(&t).await;
    eventually("one copy of each release in the chat", WAIT, || {
        listed(&in_chat(&fake)) == (1..=RELEASES).collect::<Vec<u64>>()
    })
    .await;
    let chat = in_chat(&fake);
    let first = &chat[0];
    assert_eq!(first.message_id, 1, "the earlier copy is kept: {chat:#?}");
    let deleted: Vec<i64> = fake
        .messages()
        .iter()
        .filter(|m| m.deleted)
        .map(|m| m.message_id)
        .collect();
    assert_eq!(deleted, [2], "the copy sent again is deleted");

    // A correction of a release of that message edits the copy kept.
    let title = "Head of State receives the visiting delegation number 1";
    correct(&t, 1, title, "head-of-state-receives-visitors").await;
    eventually("the kept copy edited", WAIT, || {
        fake.edits().iter().any(|e| {
            e.method == "editMessageText" && e.text.as_deref().is_some_and(|x| x.contains(title))
        })
    })
    .await;
    let (message_id, text) = message_listing(&fake, 1);
    assert_eq!(message_id, 1, "{text}");
    assert!(text.contains(title), "{text}");
    assert_eq!(
        listed(&in_chat(&fake)),
        (1..=RELEASES).collect::<Vec<u64>>()
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

const ADMIN: i64 = 4242;

/// Telegram cannot parse a digest's HTML ("can't parse entities": a formatter bug) and herald
/// sends it as plain text. A plain text has no links: each release's address is kept below its
/// line (they were all dropped: titles and dates only). The fallback is counted, named in the
/// channel's /healthz and told to the admins (it was one ERROR log line).
#[tokio::test(flavor = "multi_thread")]
async fn a_digest_sent_as_plain_text_keeps_its_links_and_is_reported() {
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let dir = tempfile::tempdir().unwrap();
    let t = spawn_app_with(Setup {
        source_keys: vec![(
            "akorda-en".into(),
            "channels = [\"d\"]\nbackfill = 0".into(),
        )],
        data_dir: Some(dir.path().to_path_buf()),
        ..Setup::telegram(
            &fake,
            &format!(
                "admins = [{ADMIN}]\n\n[[channels]]\nid = \"d\"\nchat = \"@digest\"\ndigest_over = 1\n"
            ),
        )
    })
    .await;
    t.site.publish("en", release_en(0, 1));
    t.poll("akorda-en").await.unwrap();
    for n in 1..=3 {
        t.site.publish("en", release_en(n, n as u32));
    }
    fake.inject(
        Fault::BadRequest(
            "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3"
                .into(),
        ),
        Match::any().method("sendMessage").chat("@digest"),
    );
    t.poll("akorda-en").await.unwrap();
    digest_is_out(&t).await;
    let sent = fake.messages_for("@digest");
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].parse_mode, None, "{sent:#?}");
    let items = t.app.shared.store.recent("akorda-en", 10).unwrap();
    for n in 1..=3 {
        let title = release_en(n, n as u32).title;
        let item = items.iter().find(|i| i.title == title).unwrap();
        assert!(
            sent[0].plain.contains(&title) && sent[0].plain.contains(&item.link),
            "{} lost its link: {}",
            item.link,
            sent[0].plain
        );
    }
    let metrics = t.text("/metrics").await;
    assert!(
        metrics.contains("herald_telegram_plain_fallbacks_total{channel=\"d\"} 1"),
        "{metrics}"
    );
    let h = t.health().await;
    let why = h["channels"]["d"]["last_error"]
        .as_str()
        .unwrap_or_default();
    assert!(why.contains("plain text"), "{h}");
    eventually("the admins are told", Duration::from_secs(15), || {
        fake.messages_for(ADMIN)
            .iter()
            .any(|m| m.plain.contains("plain text") && m.plain.contains("channel d"))
    })
    .await;
    t.stop().await;
}
