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

/// [`burst`]; the digest's first message goes out, and Telegram goes down.
async fn burst_then_down(t: &TestApp, fake: &FakeBotApi) {
    burst(t).await;
    // Telegram's limit (one message a second in a chat) leaves time to go down in between.
    fake.wait_for_messages(1, WAIT).await;
    fake.set_down(true);
}

/// The digest goes out; after its first message Telegram is down, the title changes from
/// `before` to `after` (a reload, or a restart when `restart`), and Telegram comes back.
async fn digest_across_a_change(before: &str, after: &str, restart: bool) {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let data = tempfile::tempdir().unwrap();
    let mut t = spawn_app_with(setup(&fake, data.path())).await;
    retitle(&t, DEFAULT, before).await;
    burst_then_down(&t, &fake).await;
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
    let messages = fake.messages();
    let got = listed(&messages);
    assert_eq!(
        got,
        (1..=RELEASES).collect::<Vec<u64>>(),
        "each release once, oldest first ({} messages)",
        messages.len()
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shorter_title_after_the_first_message_loses_no_release() {
    digest_across_a_change(&long_title(), SHORT, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_longer_title_after_the_first_message_repeats_no_release() {
    digest_across_a_change(SHORT, &long_title(), false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_with_a_shorter_title_loses_no_release() {
    digest_across_a_change(&long_title(), SHORT, true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_with_a_longer_title_repeats_no_release() {
    digest_across_a_change(SHORT, &long_title(), true).await;
}

/// A release corrected while its digest waits (Telegram down after the first message) is listed
/// as corrected: its new title and its new address (the slug corrected, the id kept), as a
/// post that waited would be. Before, the digest listed the copy frozen when it was queued, and
/// the correction reached nobody.
#[tokio::test(flavor = "multi_thread")]
async fn a_release_corrected_while_its_digest_waits_is_listed_as_corrected() {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let data = tempfile::tempdir().unwrap();
    let t = spawn_app_with(setup(&fake, data.path())).await;
    burst_then_down(&t, &fake).await;
    assert_eq!(fake.messages().len(), 1);
    // The newest release, listed in the digest's last message, is corrected.
    let title = format!("Head of State receives the visiting delegation number {RELEASES}");
    t.site.correct(
        "en",
        100_000 + RELEASES,
        &title,
        "head-of-state-receives-visitors",
    );
    let report = t.poll("akorda-en").await.unwrap();
    assert!(format!("{report:?}").contains("Changed"), "{report:?}");
    fake.set_down(false);
    digest_is_out(&t).await;
    let messages = fake.messages();
    assert_eq!(listed(&messages), (1..=RELEASES).collect::<Vec<u64>>());
    let text = messages.last().unwrap().text.clone().unwrap();
    let moved = format!(
        "http://{}/en/head-of-state-receives-visitors-{}",
        t.site.addr,
        100_000 + RELEASES
    );
    assert!(text.contains(&title), "{text}");
    assert!(text.contains(&moved), "{text}");
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
