//! Per-channel options (issue 10) end to end: filters, templates, digests of bursts and silent
//! hours, with the real app, real sled, real teloxide and the strict fake Bot API.

use crate::common;

use common::site::{Release, release_en};
use common::{Setup, TestApp, eventually, spawn_app_with};
use fake_botapi::{FAST_TELEGRAM, FakeBotApi, FakeOptions, SentMessage, listed};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// An app whose `akorda-en` posts to the `[[channels]]` given, with these source keys.
async fn app(fake: &FakeBotApi, channels: &str, en_keys: &str) -> TestApp {
    spawn_app_with(setup(fake, channels, en_keys)).await
}

fn setup(fake: &FakeBotApi, channels: &str, en_keys: &str) -> Setup {
    Setup {
        source_keys: vec![("akorda-en".into(), en_keys.into())],
        ..Setup::telegram(fake, &format!("{FAST_TELEGRAM}\n{channels}\n"))
    }
}

/// A release whose title says it is a visit abroad.
fn visit(n: u64, day: u32) -> Release {
    Release {
        title: format!("State visit to country number {n}"),
        ..release_en(n, day)
    }
}

/// Which releases (by their number in the title) a chat's messages are about, in order.
fn numbers(messages: &[SentMessage]) -> Vec<u64> {
    messages
        .iter()
        .map(|m| {
            let text = m.caption.as_ref().or(m.text.as_ref()).unwrap();
            let title = text.split("</b>").next().unwrap();
            title.rsplit(' ').next().unwrap().parse().unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_split_one_source_between_an_everything_channel_and_a_visits_channel() {
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let channels = r#"
[[channels]]
id = "all"
chat = "@all_news"

[[channels]]
id = "abroad"
chat = "@abroad_news"
include = ["visit"]
exclude = ["number 5$"]
"#;
    let t = app(&fake, channels, "channels = [\"all\", \"abroad\"]").await;
    t.site.publish("en", visit(1, 1));
    t.site.publish("en", release_en(2, 2));
    t.poll("akorda-en").await.unwrap();
    // backfill = 1 counts the newest release that passes each channel's filters.
    fake.wait_for_messages(2, WAIT).await;
    t.site.publish("en", release_en(3, 3));
    t.site.publish("en", visit(4, 4));
    t.site.publish("en", visit(5, 5));
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(6, WAIT).await;
    assert_eq!(numbers(&fake.messages_for("@all_news")), [2, 3, 4, 5]);
    assert_eq!(numbers(&fake.messages_for("@abroad_news")), [1, 4]);

    // A correction edits the post where there is one, and only there.
    t.site.edit_title(
        "en",
        100_003,
        "Head of State receives delegation number 3 (corrected)",
    );
    t.site
        .edit_title("en", 100_004, "State visit to country number 4 (corrected)");
    t.poll("akorda-en").await.unwrap();
    eventually("three edits", WAIT, || fake.edits().len() == 3).await;
    let mut edited: Vec<(String, bool)> = fake
        .edits()
        .iter()
        .map(|e| {
            (
                e.chat.clone(),
                e.caption.as_ref().unwrap().contains("number 4"),
            )
        })
        .collect();
    edited.sort();
    assert_eq!(
        edited,
        [
            ("@abroad_news".to_string(), true),
            ("@all_news".to_string(), false),
            ("@all_news".to_string(), true)
        ]
    );
    assert_eq!(fake.messages().len(), 6, "nothing posted twice");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_template_writes_the_post_escapes_the_site_and_keeps_the_caption_limit() {
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let channels = r#"
[[channels]]
id = "plain"
chat = "@plain_news"

[[channels]]
id = "custom"
chat = "@custom_news"
share = ["x"]
template = '''
🇰🇿 <b>{{ title }}</b>
{{ summary }}
<i>{{ date }}</i> · {{ source_title }} · <a href="{{ link }}">{{ language | upper }}</a> {{ hashtag }}'''
"#;
    let t = app(&fake, channels, "channels = [\"plain\", \"custom\"]").await;
    let hostile = Release {
        title: "Talks on <b>trade</b> & \"energy\"".into(),
        summary: "The sides met. ".repeat(150),
        ..release_en(7, 7)
    };
    t.site.publish("en", hostile);
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(2, WAIT).await;
    let custom = &fake.messages_for("@custom_news")[0];
    let caption = custom.caption.as_ref().unwrap();
    assert!(
        caption.starts_with(
            "🇰🇿 <b>Talks on &lt;b&gt;trade&lt;/b&gt; &amp; &quot;energy&quot;</b>\nThe sides met. The sides met."
        ),
        "{caption}"
    );
    assert!(
        caption
            .contains("The sides met.\n<i>7 March 2026</i> · Akorda — press releases · <a href=\""),
        "the summary is cut after a sentence: {caption}"
    );
    assert!(
        caption.ends_with("-100007\">EN</a> #akorda_en"),
        "{caption}"
    );
    // Telegram's own count: the fake measures the caption after entity parsing.
    assert!(
        custom.plain.encode_utf16().count() <= 1024,
        "{}",
        custom.plain
    );
    assert!(
        custom.plain.encode_utf16().count() > 900,
        "the room is used: {}",
        custom.plain
    );
    let labels: Vec<&str> = custom.reply_markup.as_ref().unwrap()["inline_keyboard"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter())
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["Read", "X"], "buttons stay as they are");
    // Without a template, the default post.
    let plain = &fake.messages_for("@plain_news")[0];
    assert!(
        plain
            .caption
            .as_ref()
            .unwrap()
            .starts_with("<b>Talks on &lt;b&gt;trade"),
        "{:?}",
        plain.caption
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

/// Publishes a burst of 100 releases after a first poll (which posts one).
async fn burst_of_100(fake: &FakeBotApi, t: &TestApp) {
    t.site.set_per_page(200);
    t.site.publish("en", release_en(0, 1));
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(1, WAIT).await;
    for n in 1..=100 {
        // Dated in the order they are published (a day holds several: the page breaks ties).
        t.site
            .publish("en", release_en(n, 1 + (n * 27 / 100) as u32));
    }
    t.poll("akorda-en").await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_becomes_one_digest_listing_each_release_once_and_never_again() {
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let channels = "[[channels]]\nid = \"b\"\nchat = \"@burst\"\ndigest_over = 10\n";
    let t = app(&fake, channels, "channels = [\"b\"]").await;
    burst_of_100(&fake, &t).await;
    eventually("all 100 releases listed", WAIT, || {
        listed(&fake.messages()).len() >= 100
    })
    .await;
    let digest: Vec<SentMessage> = fake.messages().split_off(1);
    println!(
        "FIGURE: a 100-release burst with digest_over = 10: {} Telegram message(s)",
        digest.len()
    );
    assert_eq!(
        listed(&digest),
        (1..=100).collect::<Vec<u64>>(),
        "oldest first, each once"
    );
    assert!(digest.len() <= 3, "{}", digest.len());
    let mut buttons = std::collections::HashSet::new();
    for (k, m) in digest.iter().enumerate() {
        assert_eq!(m.method.to_lowercase(), "sendmessage");
        // One button to the site, its address unique to the message.
        let rows = m.reply_markup.as_ref().unwrap()["inline_keyboard"].clone();
        assert_eq!(rows[0][0]["text"], "Website", "{rows}");
        let url = rows[0][0]["url"].as_str().unwrap().to_owned();
        assert!(
            url.starts_with(&format!("http://{}/en/", t.site.addr)) && url.contains("#herald-"),
            "{url}"
        );
        assert!(
            buttons.insert(url),
            "each digest message has a keyboard of its own"
        );
        let preview = m.link_preview_options.as_ref().unwrap();
        assert_eq!(preview["is_disabled"], true);
        let text = m.text.as_ref().unwrap();
        let header = format!(
            "<b>Akorda — press releases</b>: 100 new releases ({}/{})",
            k + 1,
            digest.len()
        );
        assert!(text.starts_with(&header), "{text}");
        assert!(text.ends_with("\n\n#akorda_en"), "{text}");
    }

    // Corrected, polled again, or joined by a new release: no release of the digest is posted
    // again; the correction edits the digest message that lists it.
    t.site.edit_title(
        "en",
        100_050,
        "Head of State receives delegation number 50 (corrected)",
    );
    t.site.publish("en", release_en(101, 28));
    t.poll("akorda-en").await.unwrap();
    let now = fake.wait_for_messages(digest.len() + 2, WAIT).await;
    assert_eq!(numbers(&now[now.len() - 1..]), [101]);
    t.poll("akorda-en").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.messages().len(), digest.len() + 2);
    let edits = fake.edits();
    let listing = digest
        .iter()
        .find(|m| listed(std::slice::from_ref(m)).contains(&50))
        .unwrap();
    assert_eq!(edits.len(), 1, "{edits:?}");
    assert_eq!(edits[0].message_id, listing.message_id);
    assert!(
        edits[0]
            .text
            .as_ref()
            .unwrap()
            .contains("number 50 (corrected)<"),
        "{edits:?}"
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_digest_a_burst_is_a_post_per_release() {
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let channels = "[[channels]]\nid = \"b\"\nchat = \"@burst\"\n";
    let t = app(&fake, channels, "channels = [\"b\"]").await;
    burst_of_100(&fake, &t).await;
    let posts = fake
        .wait_for_messages(101, Duration::from_secs(60))
        .await
        .split_off(1);
    println!(
        "FIGURE: a 100-release burst without a digest: {} Telegram messages",
        posts.len()
    );
    assert_eq!(numbers(&posts), (1..=100).collect::<Vec<u64>>());
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_hours_send_without_notification_in_that_channel_only() {
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let channels = r#"
[[channels]]
id = "night"
chat = "@night_news"
quiet_hours = "00:00-24:00"
quiet_timezone = "Asia/Almaty"
quiet = "silent"

[[channels]]
id = "day"
chat = "@day_news"
"#;
    let t = app(&fake, channels, "channels = [\"night\", \"day\"]").await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    // Each chat gets its post once. Under load a send may be tried again (a timeout, a lost
    // answer): what matters is that every request to a chat carries that chat's choice.
    eventually("a post in each chat", WAIT, || {
        fake.messages_for("@night_news").len() == 1 && fake.messages_for("@day_news").len() == 1
    })
    .await;
    let sends: Vec<(String, Option<serde_json::Value>)> = fake
        .requests()
        .iter()
        .filter(|r| r.method.starts_with("send"))
        .map(|r| {
            (
                r.chat.clone().unwrap(),
                r.params.get("disable_notification").cloned(),
            )
        })
        .collect();
    for chat in ["@night_news", "@day_news"] {
        assert!(sends.iter().any(|(c, _)| c == chat), "{sends:?}");
    }
    for (chat, silent) in sends {
        let expected = (chat == "@night_news").then_some(serde_json::json!(true));
        assert_eq!(silent, expected, "{chat}");
    }
    t.stop().await;
    assert_eq!(fake.messages().len(), 2, "{:?}", fake.messages());
}

/// A post picked before a hold window begins that then waits out its chat's 429 must look at
/// the window again before it goes: it waits for the window's end (issue 18). Real time: the
/// window starts at the next wall-clock minute, so this test takes 20 to 80 seconds.
#[tokio::test(flavor = "multi_thread")]
async fn a_post_waiting_out_a_429_into_a_hold_window_waits_for_the_window() {
    use chrono::{Timelike, Utc};
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    // The window: the first whole minute at least 15 s away (start-up, poll and the first
    // send happen before it), two minutes long, in UTC.
    let start = {
        let t = Utc::now() + chrono::Duration::seconds(15);
        let next = t.with_second(0).unwrap().with_nanosecond(0).unwrap();
        next + chrono::Duration::minutes(1)
    };
    let end = start + chrono::Duration::minutes(2);
    let window = format!(
        "[[channels]]\nid = \"h\"\nchat = \"@held_news\"\nquiet_hours = \"{}-{}\"\n\
         quiet_timezone = \"UTC\"\nquiet = \"hold\"\n",
        start.format("%H:%M"),
        end.format("%H:%M")
    );
    let t = spawn_app_with(setup(&fake, &window, "channels = [\"h\"]")).await;
    t.site.publish("en", release_en(1, 1));
    // The first send meets a 429 whose hold ends a few seconds into the window.
    let retry = (start - Utc::now()).num_seconds() + 5;
    fake.inject(
        fake_botapi::Fault::TooManyRequests(u32::try_from(retry).unwrap()),
        fake_botapi::Match::any().chat("@held_news"),
    );
    t.poll("akorda-en").await.unwrap();
    eventually("the send that meets the 429", WAIT, || {
        fake.requests().iter().any(|r| r.status == 429)
    })
    .await;
    assert!(
        Utc::now() < start,
        "the test's premise: the 429 came before the window"
    );
    // The hold ends inside the window: nothing may go out until the window ends.
    let hold_end = start + chrono::Duration::seconds(5);
    let wait = (hold_end - Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(4);
    tokio::time::sleep(wait).await;
    assert!(Utc::now() < end);
    assert_eq!(
        fake.messages().len(),
        0,
        "a post went out inside its hold window after waiting out a 429"
    );
    let health = t.health().await;
    assert_eq!(health["channels"]["h"]["pending"], 1, "{health}");

    // The window ends (the admin removes it): the post goes out, once, and no call came early.
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let edited = text.replace("quiet = \"hold\"\n", "");
    assert_ne!(edited, text);
    std::fs::write(&t.config_path, edited).unwrap();
    let got = fake.wait_for_messages(1, WAIT).await;
    assert_eq!(numbers(&got), [1]);
    let violations = fake.violations();
    assert!(
        violations.is_empty(),
        "no call before its retry_after: {violations:?}"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hold_keeps_posts_queued_during_the_window_while_edits_go_through() {
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let data = tempfile::tempdir().unwrap();
    let plain = "[[channels]]\nid = \"h\"\nchat = \"@held_news\"\n";
    let mut first = setup(&fake, plain, "channels = [\"h\"]");
    first.data_dir = Some(data.path().to_path_buf());
    let t = spawn_app_with(first).await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(1, WAIT).await;
    t.stop().await;

    // The same database, now with a window that holds posts all day.
    let held = format!("{plain}quiet_hours = \"00:00-24:00\"\nquiet = \"hold\"\n");
    let mut second = setup(&fake, &held, "channels = [\"h\"]");
    second.data_dir = Some(data.path().to_path_buf());
    let t = spawn_app_with(second).await;
    t.site.publish("en", release_en(1, 1));
    t.site.edit_title(
        "en",
        100_001,
        "Head of State receives delegation number 1 (corrected)",
    );
    t.site.publish("en", release_en(2, 2));
    t.poll("akorda-en").await.unwrap();
    eventually("the correction's edit", WAIT, || fake.edits().len() == 1).await;
    assert!(
        fake.edits()[0]
            .caption
            .as_ref()
            .unwrap()
            .contains("(corrected)")
    );
    let health = t.health().await;
    assert_eq!(health["channels"]["h"]["pending"], 1, "{health}");
    assert_eq!(
        fake.messages().len(),
        1,
        "the new post waits for the window's end"
    );

    // The window ends (here: the admin removes it; the channel's worker restarts with the
    // reloaded config): the held post goes out.
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let edited = text.replace("quiet_hours = \"00:00-24:00\"\nquiet = \"hold\"\n", "");
    assert_ne!(edited, text);
    std::fs::write(&t.config_path, edited).unwrap();
    let got = fake.wait_for_messages(2, WAIT).await;
    assert_eq!(got.len(), 2);
    assert_eq!(numbers(&got[1..]), [2]);
    assert_eq!(fake.edits().len(), 1);
    t.stop().await;
}

/// Red team of issue 25: a channel whose filters keep out every release (`include =
/// ["zzzqqq"]`) posted nothing and left no trace. Each release kept out is counted
/// (`herald_posts_filtered_total{channel}`, the channel's stored state), and a run of
/// `FILTERED_WARN` kept out in a row is there to see; one that passes ends the run.
#[tokio::test(flavor = "multi_thread")]
async fn releases_kept_out_by_a_channels_filters_are_counted() {
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let channels = r#"
[[channels]]
id = "all"
chat = "@all_news"

[[channels]]
id = "none"
chat = "@none_news"
include = ["zzzqqq"]
"#;
    let t = app(&fake, channels, "channels = [\"all\", \"none\"]").await;
    t.site.set_per_page(100);
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    let n = herald::pipeline::FILTERED_WARN;
    for i in 0..n {
        t.site.publish("en", release_en(10 + i, 2));
    }
    t.poll("akorda-en").await.unwrap();
    let store = &t.app.shared.store;
    let none = store.channel_state("none").unwrap();
    assert_eq!(none.filtered, n + 1);
    assert!(none.filtered_in_a_row >= n, "{none:?}");
    let all = store.channel_state("all").unwrap();
    assert_eq!((all.filtered, all.filtered_in_a_row), (0, 0));
    let metrics = t.text("/metrics").await;
    assert!(
        metrics.lines().any(|l| l.starts_with(&format!(
            "herald_posts_filtered_total{{channel=\"none\"}} {}",
            n + 1
        ))),
        "{metrics}"
    );
    let health = t.health().await;
    let entry = &health["channels"]["none"];
    assert_eq!(entry["filtered"], n + 1, "{health}");
    assert!(
        entry["note"].as_str().unwrap().contains("kept out"),
        "{health}"
    );
    assert!(health["channels"]["all"]["note"].is_null(), "{health}");
    // A release that passes ends the run.
    t.site.publish(
        "en",
        Release {
            title: "Head of State on zzzqqq".into(),
            ..release_en(99, 3)
        },
    );
    t.poll("akorda-en").await.unwrap();
    assert_eq!(store.channel_state("none").unwrap().filtered_in_a_row, 0);
    t.stop().await;
}
