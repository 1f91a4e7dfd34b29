//! What admins see: live config edits (good ones apply, bad ones are refused and reported),
//! alerts when a source breaks and when it recovers.

use crate::common;

use common::eventually;

use common::site::{Mode, release_en, release_kz};
use common::{Setup, TestApp, spawn_app, spawn_app_with};
use fake_botapi::{ChatConfig, ChatKind, FakeBotApi, FakeOptions, command};
use std::time::Duration;

pub(crate) const ADMIN: i64 = 4242;

/// The fake Bot API with `ADMIN`'s private chat, and room for many answers a second.
pub(crate) async fn fake() -> FakeBotApi {
    FakeBotApi::start(FakeOptions {
        per_chat_per_second: 10,
        per_chat_per_minute: 600,
        chats: vec![ChatConfig {
            id: ADMIN,
            username: None,
            title: "admin".into(),
            kind: ChatKind::Private,
            bot_is_member: true,
        }],
        ..FakeOptions::default()
    })
    .await
}

/// akorda-en posting to channel `en` (`@herald_en`), `ADMIN` its admin.
pub(crate) async fn app(fake: &FakeBotApi, schedule: &str) -> TestApp {
    spawn_app_with(Setup {
        schedule: schedule.into(),
        source_keys: vec![("akorda-en".into(), "channels = [\"en\"]".into())],
        ..Setup::telegram(
            fake,
            &format!(
                "admins = [{ADMIN}]\nper_chat_per_second = 10\nper_chat_per_minute = 600\n\n\
                 [[channels]]\nid = \"en\"\nchat = \"@herald_en\"\n"
            ),
        )
    })
    .await
}

pub(crate) fn admin_texts(fake: &FakeBotApi) -> Vec<String> {
    fake.messages_for(ADMIN)
        .into_iter()
        .map(|m| m.text.unwrap_or_default())
        .collect()
}

/// Takes source `id` out of the config file and waits until herald runs without it; returns
/// the file's text before.
async fn remove_source(t: &TestApp, id: &str) -> String {
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let start = text.find(&format!("\n[[sources]]\nid = \"{id}\"")).unwrap();
    let end = start + 1 + text[start + 1..].find("\n[[sources]]").unwrap();
    std::fs::write(
        &t.config_path,
        format!("{}{}", &text[..start], &text[end..]),
    )
    .unwrap();
    eventually("source removed", Duration::from_secs(10), || {
        t.app.config().source(id).is_none()
    })
    .await;
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_edit_adding_a_source_posts_its_backfill() {
    let fake = fake().await;
    let t = app(&fake, "0 0 0 1 1 *").await;
    t.site.publish("kz", release_kz(1, 1));
    t.site.publish("kz", release_kz(2, 2));
    // The admin adds a source (the kz list page, under a new id, polled every second).
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let edited = text.replacen(
        "id = \"akorda-kz\"",
        "id = \"akorda-kk\"\nchannels = [\"en\"]",
        1,
    );
    let edited = edited.replace(
        "schedule = \"0 0 0 1 1 *\"\ntimezone = \"Asia/Almaty\"\nlanguage = \"kz\"",
        "schedule = \"* * * * * *\"\ntimezone = \"Asia/Almaty\"\nlanguage = \"kz\"",
    );
    assert_ne!(edited, text);
    std::fs::write(&t.config_path, edited).unwrap();
    let got = fake.wait_for_messages(1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].chat, "@herald_en");
    let post = got[0].text.clone().or(got[0].caption.clone()).unwrap();
    assert!(post.contains(&release_kz(2, 2).title), "{post}");
    assert!(post.contains("#akorda_kk"), "{post}");
    // The new feed is served, the removed one is gone.
    assert_eq!(t.get("/feeds/akorda-kk.rss").await.status(), 200);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_edit_is_refused_reported_and_feeds_stay() {
    let fake = fake().await;
    let t = app(&fake, "0 0 0 1 1 *").await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    let before = t.text("/feeds/akorda-en.rss").await;
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    std::fs::write(
        &t.config_path,
        text.replacen(
            "timezone = \"Asia/Almaty\"",
            "timezone = \"Asia/Almati\"",
            1,
        ),
    )
    .unwrap();
    eventually("admin told", Duration::from_secs(10), || {
        admin_texts(&fake).iter().any(|t| t.contains("refused"))
    })
    .await;
    let report = admin_texts(&fake)
        .into_iter()
        .find(|t| t.contains("refused"))
        .unwrap();
    let at = format!("{}:", t.config_path.display());
    assert!(
        report.contains(&at) && report.contains("Asia/Almati"),
        "{report}"
    );
    assert_eq!(t.text("/feeds/akorda-en.rss").await, before);
    assert_eq!(t.app.config().sources[0].timezone, chrono_tz::Asia::Almaty);
    // Fixing the file applies again.
    std::fs::write(
        &t.config_path,
        text.replace(
            "title = \"Akorda — press releases\"",
            "title = \"Akorda (edited)\"",
        ),
    )
    .unwrap();
    eventually("edit applied", Duration::from_secs(10), || {
        t.app.config().sources[0].title == "Akorda (edited)"
    })
    .await;
    assert!(
        t.text("/feeds/akorda-en.rss")
            .await
            .contains("Akorda (edited)")
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redesign_alerts_once_and_recovery_once() {
    let fake = fake().await;
    let t = app(&fake, "0 0 0 1 1 *").await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    t.site.set_mode("en", Mode::Redesigned);
    for _ in 0..4 {
        assert!(t.poll("akorda-en").await.is_err());
    }
    t.site.set_mode("en", Mode::Normal);
    t.poll("akorda-en").await.unwrap();
    t.poll("akorda-en").await.unwrap();
    eventually("two alerts", Duration::from_secs(10), || {
        admin_texts(&fake).len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let texts = admin_texts(&fake);
    assert_eq!(texts.len(), 2, "{texts:#?}");
    assert!(
        texts[0].contains("redesigned") && texts[0].contains("div.card"),
        "{}",
        texts[0]
    );
    assert!(texts[1].contains("works again"), "{}", texts[1]);

    // A plain outage is reported after three failures, once.
    t.site.set_mode("en", Mode::Error);
    for _ in 0..5 {
        assert!(t.poll("akorda-en").await.is_err());
    }
    eventually("outage alert", Duration::from_secs(10), || {
        admin_texts(&fake).len() >= 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let texts = admin_texts(&fake);
    assert_eq!(texts.len(), 3, "{texts:#?}");
    assert!(
        texts[2].contains("failing (3 polls in a row)"),
        "{}",
        texts[2]
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_commands_answer_admins_only() {
    let fake = fake().await;
    let t = app(&fake, "0 0 0 1 1 *").await;
    let mut release = release_en(1, 1);
    release.title = "Trade & investment talks".into();
    t.site.publish("en", release);
    // A stranger first: no answer.
    fake.push_update(command(999, "/status"));
    fake.push_update(command(ADMIN, "/poll akorda-en"));
    eventually("poll answered", Duration::from_secs(15), || {
        !admin_texts(&fake).is_empty()
    })
    .await;
    assert_eq!(
        admin_texts(&fake)[0],
        "akorda-en: 1 new, 0 changed, 0 known"
    );
    fake.push_update(command(ADMIN, "/status"));
    eventually("status answered", Duration::from_secs(15), || {
        admin_texts(&fake).len() >= 2
    })
    .await;
    let status = &admin_texts(&fake)[1];
    assert!(status.contains("• akorda-en: 1 items"), "{status}");
    assert!(status.contains("• en: "), "{status}");
    fake.push_update(command(ADMIN, "/pause akorda-en"));
    fake.push_update(command(ADMIN, "/check"));
    eventually("pause and check", Duration::from_secs(15), || {
        admin_texts(&fake).len() >= 4
    })
    .await;
    let texts = admin_texts(&fake);
    assert_eq!(texts[2], "source akorda-en paused");
    assert!(
        texts[3].ends_with("ok (3 sources, 1 channels)"),
        "{}",
        texts[3]
    );
    assert!(t.app.shared.store.source_state("akorda-en").unwrap().paused);
    // One time form with its zone: the source's (Asia/Almaty, "+05").
    assert!(status.contains("last success 20"), "{status}");
    assert!(status.contains(" +05; next run 20"), "{status}");

    // /preview shows the post as Telegram shows it: sent as HTML, so no raw `<b>` or `&amp;`.
    fake.push_update(command(ADMIN, "/preview akorda-en"));
    fake.push_update(command(ADMIN, "/pause channel:en"));
    eventually("preview and channel pause", Duration::from_secs(15), || {
        fake.messages_for(ADMIN).len() >= 6
    })
    .await;
    // /preview fetches, in a task of its own: the /pause after it may be answered first.
    let messages = fake.messages_for(ADMIN);
    let preview = messages[4..6]
        .iter()
        .find(|m| m.parse_mode.is_some())
        .unwrap();
    assert_eq!(preview.parse_mode.as_deref(), Some("HTML"), "{preview:?}");
    assert!(!preview.plain.contains("<b>"), "{}", preview.plain);
    assert!(
        preview.plain.contains("Trade & investment"),
        "{}",
        preview.plain
    );
    assert!(
        preview.entities.iter().any(|e| e["type"] == "bold"),
        "{preview:?}"
    );
    assert!(admin_texts(&fake)[4..6].contains(&"channel en paused".to_owned()));
    let health = t.health().await;
    assert_eq!(health["channels"]["en"]["paused"], true, "{health}");
    assert_eq!(health["sources"]["akorda-en"]["paused"], true, "{health}");
    assert!(
        fake.messages_for(999).is_empty(),
        "a stranger got an answer"
    );
    let registered = fake
        .requests()
        .iter()
        .any(|r| r.method.eq_ignore_ascii_case("setMyCommands") && r.status == 200);
    assert!(registered, "commands not registered");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_silent_for_far_longer_than_usual_is_flagged_stale_once_after_its_first_poll() {
    let fake = fake().await;
    let t = app(&fake, "0 0 0 1 1 *").await;
    // Daily releases in March 2026, then nothing for months.
    for n in 1..=6 {
        t.site.publish("en", release_en(n, n as u32));
    }
    // The first poll stores the site's past: no silence herald saw, so nothing is judged.
    t.poll("akorda-en").await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(admin_texts(&fake).is_empty(), "{:#?}", admin_texts(&fake));
    assert_eq!(t.health().await["sources"]["akorda-en"]["stale"], false);
    t.poll("akorda-en").await.unwrap();
    eventually("stale alert", Duration::from_secs(10), || {
        !admin_texts(&fake).is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let texts = admin_texts(&fake);
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(texts[0].contains("far longer than usual"), "{}", texts[0]);
    let health = t.health().await;
    assert_eq!(health["sources"]["akorda-en"]["stale"], true);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_source_answers_410_until_pruned() {
    let fake = fake().await;
    let t = app(&fake, "0 0 0 1 1 *").await;
    t.site.publish("ru", common::site::release_ru(1, 1));
    t.poll("akorda-ru").await.unwrap();
    assert_eq!(t.get("/feeds/akorda-ru.rss").await.status(), 200);
    remove_source(&t, "akorda-ru").await;
    assert_eq!(t.get("/feeds/akorda-ru.rss").await.status(), 410);
    // Its items are still in the database.
    assert_eq!(t.app.shared.store.count("akorda-ru").unwrap(), 1);
    assert_eq!(t.get("/feeds/never-was.rss").await.status(), 404);
    t.stop().await;
}

/// A source removed from the config, pruned, then put back: the releases its list page still
/// shows are in its feed again under their old ids (the same GUIDs), counted as known, and no
/// channel hears of them again.
#[tokio::test(flavor = "multi_thread")]
async fn a_pruned_source_that_returns_has_its_releases_in_the_feed_again_unannounced() {
    let fake = fake().await;
    let t = app(&fake, "0 0 0 1 1 *").await;
    for n in 1..=3 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    let guids = |feed: &serde_json::Value| -> Vec<String> {
        feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let before: serde_json::Value = t.get("/feeds/akorda-en.json").await.json().await.unwrap();
    assert_eq!(guids(&before).len(), 3, "{before:#}");
    // The first poll's backfill goes out; then the channel hears nothing more.
    fake.wait_for_messages(1, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posted = fake.messages_for("@herald_en").len();
    assert!(posted >= 1);

    let text = remove_source(&t, "akorda-en").await;
    assert_eq!(t.app.shared.store.prune("akorda-en").await.unwrap(), 3);
    std::fs::write(&t.config_path, &text).unwrap();
    eventually("source back", Duration::from_secs(10), || {
        t.app.config().source("akorda-en").is_some()
    })
    .await;

    let report = t.poll("akorda-en").await.unwrap();
    use herald::model::ItemState;
    assert_eq!(report.count(ItemState::New), 0);
    assert_eq!(report.count(ItemState::Known), 3);
    assert_eq!(report.restored, 3);
    let after: serde_json::Value = t.get("/feeds/akorda-en.json").await.json().await.unwrap();
    assert_eq!(guids(&after), guids(&before), "{after:#}");
    // Read as a new release is, article page and all, and dated as the feed showed it.
    let shown = |feed: &serde_json::Value, key: &str| -> Vec<serde_json::Value> {
        let items = feed["items"].as_array().unwrap();
        items.iter().map(|i| i[key].clone()).collect()
    };
    for key in ["date_published", "content_html", "image"] {
        assert_eq!(shown(&after, key), shown(&before, key), "{key}: {after:#}");
    }
    assert_eq!(t.health().await["sources"]["akorda-en"]["items"], 3);
    // The next release is news as ever, and the only post since the backfill; the releases
    // back in the feed are known, not stored again.
    t.site.publish("en", release_en(4, 4));
    let next = t.poll("akorda-en").await.unwrap();
    assert_eq!(
        (
            next.count(ItemState::New),
            next.count(ItemState::Known),
            next.restored
        ),
        (1, 3, 0)
    );
    eventually("the new release posted", Duration::from_secs(15), || {
        fake.messages_for("@herald_en").len() > posted
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let sent = fake.messages_for("@herald_en");
    assert_eq!(sent.len(), posted + 1, "{sent:#?}");
    let last = sent.last().unwrap();
    let last = last.text.clone().or(last.caption.clone()).unwrap();
    assert!(last.contains(&release_en(4, 4).title), "{last}");
    t.stop().await;
}

/// Eight commands at once, with Telegram's own limit of one message a second per chat: every
/// command gets its answer, paced, none lost to a 429, and the chat's limit is never broken.
#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_commands_gets_every_answer_within_the_chat_limit() {
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
    let t = spawn_app_with(Setup::telegram(&fake, &format!("admins = [{ADMIN}]\n"))).await;
    for _ in 0..8 {
        fake.push_update(command(ADMIN, "/status"));
    }
    eventually("eight answers", Duration::from_secs(30), || {
        admin_texts(&fake).len() >= 8
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let texts = admin_texts(&fake);
    assert_eq!(texts.len(), 8, "{texts:#?}");
    assert!(texts.iter().all(|t| t.starts_with("Sources")), "{texts:#?}");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}

/// An alert never holds up a poll: while Telegram takes 6 s to answer each message to the
/// admin, the poll that starts an outage alert (the third failure in a row) and the next one
/// return at once, and the alert still arrives.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_admin_chat_does_not_hold_up_polls() {
    let fake = fake().await;
    let t = app(&fake, "0 0 0 1 1 *").await;
    fake.inject(
        fake_botapi::Fault::Delay(Duration::from_secs(6)),
        fake_botapi::Match::any()
            .method("sendMessage")
            .chat(ADMIN)
            .times(10),
    );
    t.site.set_mode("en", Mode::Error);
    for n in 1..=4 {
        let started = std::time::Instant::now();
        assert!(t.poll("akorda-en").await.is_err());
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(3),
            "poll {n} took {took:?}: it waited for the alert"
        );
    }
    eventually("the outage alert", Duration::from_secs(15), || {
        admin_texts(&fake)
            .iter()
            .any(|t| t.contains("failing (3 polls in a row)"))
    })
    .await;
    t.stop().await;
}

/// Writes the config with `from` replaced by `to` (the first time it is written) and waits
/// until the running app has taken the edit (`applied`).
async fn edit_config(t: &TestApp, from: &str, to: &str, applied: impl Fn(&TestApp) -> bool) {
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let edited = text.replacen(from, to, 1);
    assert_ne!(edited, text, "`{from}` is not in the config");
    std::fs::write(&t.config_path, edited).unwrap();
    eventually("edit applied", Duration::from_secs(10), || applied(t)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_of_how_a_source_is_read_rereads_its_unchanged_page_and_announces_nothing() {
    use herald::model::ItemState;
    let t = spawn_app().await;
    // The source reads no summary at first.
    edit_config(&t, "summary = \"p\"\n", "", |t| {
        t.app.config().sources[0]
            .list
            .as_ref()
            .unwrap()
            .summary
            .is_none()
    })
    .await;
    t.site.publish("en", release_en(1, 1));
    t.site.publish("en", release_en(2, 2));
    let first = t.poll("akorda-en").await.unwrap();
    assert_eq!(first.count(ItemState::New), 2);
    assert!(t.poll("akorda-en").await.unwrap().unchanged);
    // The admin adds the summary: the unchanged page is read again with it, its releases are
    // known (no correction to announce), and the next poll is as before.
    edit_config(&t, "h5\"\n", "h5\"\nsummary = \"p\"\n", |t| {
        t.app.config().sources[0]
            .list
            .as_ref()
            .unwrap()
            .summary
            .is_some()
    })
    .await;
    let reread = t.poll("akorda-en").await.unwrap();
    assert!(!reread.unchanged, "the edit is not read: {reread:?}");
    assert_eq!(reread.count(ItemState::Known), 2, "{reread:?}");
    assert_eq!(reread.count(ItemState::Changed), 0, "{reread:?}");
    assert_eq!(reread.count(ItemState::New), 0, "{reread:?}");
    assert!(t.poll("akorda-en").await.unwrap().unchanged);
    // A release published after the edit is read with the summary.
    t.site.publish("en", release_en(3, 3));
    let next = t.poll_reporting_known("akorda-en").await.unwrap();
    assert_eq!(next.count(ItemState::New), 1);
    assert_eq!(next.count(ItemState::Changed), 0, "{next:?}");
    let new = next
        .items
        .iter()
        .find(|o| o.state == ItemState::New)
        .unwrap();
    assert_eq!(
        new.item.summary.as_deref(),
        Some(release_en(3, 3).summary.as_str())
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_release_keeps_its_identity_through_an_id_pattern_edit() {
    use herald::model::ItemState;
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 1));
    t.site.publish("en", release_en(2, 2));
    assert_eq!(t.poll("akorda-en").await.unwrap().count(ItemState::New), 2);
    // Without `id_pattern` the releases are keyed by their links: still the same releases.
    edit_config(&t, "id_pattern = '-(\\d+)$'\n", "", |t| {
        t.app.config().sources[0].id_pattern.is_none()
    })
    .await;
    let report = t.poll("akorda-en").await.unwrap();
    assert_eq!(report.count(ItemState::New), 0, "{report:?}");
    assert_eq!(report.count(ItemState::Known), 2, "{report:?}");
    t.site.publish("en", release_en(3, 3));
    let report = t.poll("akorda-en").await.unwrap();
    assert_eq!(report.count(ItemState::New), 1, "{report:?}");
    assert_eq!(report.count(ItemState::Known), 2, "{report:?}");
    // And back: keyed by the pattern again, nothing is new.
    edit_config(
        &t,
        "language = \"en\"\n",
        "language = \"en\"\nid_pattern = '-(\\d+)$'\n",
        |t| t.app.config().sources[0].id_pattern.is_some(),
    )
    .await;
    let report = t.poll("akorda-en").await.unwrap();
    assert_eq!(report.count(ItemState::New), 0, "{report:?}");
    assert_eq!(report.count(ItemState::Known), 3, "{report:?}");
    t.site.publish("en", release_en(4, 4));
    let report = t.poll("akorda-en").await.unwrap();
    assert_eq!(report.count(ItemState::New), 1, "{report:?}");
    // The feed holds each release once.
    let feed = t.text("/feeds/akorda-en.rss").await;
    assert_eq!(feed.matches("<item>").count(), 4, "{feed}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_rename_of_a_source_is_told_to_the_admins() {
    let fake = fake().await;
    let t = app(&fake, "0 0 0 1 1 *").await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    edit_config(&t, "id = \"akorda-en\"", "id = \"akorda-en2\"", |t| {
        t.app.config().source("akorda-en2").is_some()
    })
    .await;
    eventually("admin told of the rename", Duration::from_secs(10), || {
        admin_texts(&fake)
            .iter()
            .any(|t| t.contains("holds source `akorda-en`") && t.contains("herald prune akorda-en"))
    })
    .await;
    // Told once: a later edit that does not remove it again tells nothing more.
    edit_config(
        &t,
        "title = \"Akorda — press releases\"",
        "title = \"Akorda\"",
        |t| t.app.config().sources[0].title == "Akorda",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let told = admin_texts(&fake)
        .iter()
        .filter(|t| t.contains("holds source `akorda-en`"))
        .count();
    assert_eq!(told, 1);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_edit_shows_in_healthz_and_metrics_until_the_file_is_good() {
    let t = spawn_app().await;
    let health = t.health().await;
    assert_eq!(health["status"], "ok", "{health:#}");
    assert_eq!(health["config"]["ok"], true, "{health:#}");
    assert!(health["config"]["last_success"].is_string(), "{health:#}");
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    std::fs::write(
        &t.config_path,
        text.replacen("Asia/Almaty", "Asia/Almati", 1),
    )
    .unwrap();
    let mut health = t.health().await;
    for _ in 0..100 {
        if health["config"]["ok"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        health = t.health().await;
    }
    assert_eq!(health["status"], "degraded", "{health:#}");
    assert_eq!(health["config"]["ok"], false, "{health:#}");
    let problems = health["config"]["problems"].as_array().unwrap();
    assert!(
        problems.len() == 1 && problems[0].as_str().unwrap().contains("Asia/Almati"),
        "{health:#}"
    );
    assert!(health["config"]["at"].is_string(), "{health:#}");
    let metrics = t.text("/metrics").await;
    let failures = metrics
        .lines()
        .find_map(|l| l.strip_prefix("herald_config_reload_failures_total "))
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(failures.trim().parse::<f64>().unwrap() >= 1.0, "{metrics}");
    assert!(
        metrics.contains("herald_config_last_reload_success_timestamp_seconds "),
        "{metrics}"
    );
    // The file made good again: healthy again.
    std::fs::write(&t.config_path, &text).unwrap();
    let mut health = t.health().await;
    for _ in 0..100 {
        if health["config"]["ok"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        health = t.health().await;
    }
    assert_eq!(health["config"]["ok"], true, "{health:#}");
    assert_eq!(health["status"], "ok", "{health:#}");
    assert!(health["config"]["problems"].as_array().unwrap().is_empty());
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_show_no_gauges_of_a_source_the_config_no_longer_names() {
    let t = spawn_app().await;
    let metrics = t.text("/metrics").await;
    let gauge = "herald_source_consecutive_failures{source=\"akorda-kz\"}";
    assert!(metrics.contains(gauge), "{metrics}");
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let at = text.find("\n[[sources]]\nid = \"akorda-kz\"").unwrap();
    std::fs::write(&t.config_path, &text[..at]).unwrap();
    eventually("source removed", Duration::from_secs(10), || {
        t.app.config().source("akorda-kz").is_none()
    })
    .await;
    let metrics = t.text("/metrics").await;
    // (Counters of it stay: they count what happened. Other tests of this process may also
    // have a source of that id, whose counters show here too: the recorder is global.)
    for gauge in [
        "herald_source_items",
        "herald_source_consecutive_failures",
        "herald_source_stale",
        "herald_source_poll_overdue_seconds",
    ] {
        let series = format!("{gauge}{{source=\"akorda-kz\"}}");
        assert!(!metrics.contains(&series), "{series}: {metrics}");
    }
    assert!(
        metrics.contains("herald_source_consecutive_failures{source=\"akorda-en\"}"),
        "{metrics}"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_described_and_counters_are_there_before_they_count() {
    let fake = fake().await;
    let t = app(&fake, "0 0 0 1 1 *").await;
    let metrics = t.text("/metrics").await;
    for sample in [
        "herald_admin_poll_failures_total ",
        "herald_config_reload_failures_total ",
        "herald_telegram_429_total{channel=\"en\"} ",
        "herald_telegram_errors_total{channel=\"en\"} ",
        "herald_items_new_total{source=\"akorda-en\"} ",
    ] {
        assert!(
            metrics.lines().any(|l| l.starts_with(sample)),
            "no `{sample}`: {metrics}"
        );
    }
    // Every metric shown says what it is.
    for line in metrics.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split_whitespace().nth(2).unwrap();
        assert!(
            metrics.contains(&format!("# HELP {name} ")),
            "no HELP for {name}: {metrics}"
        );
    }
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_of_how_a_source_is_read_while_herald_was_stopped_is_read_at_the_next_poll() {
    use herald::model::ItemState;
    let data = tempfile::tempdir().unwrap();
    let setup = |keys: &str| Setup {
        data_dir: Some(data.path().to_path_buf()),
        source_keys: vec![("akorda-en".into(), keys.into())],
        ..Setup::default()
    };
    let t = spawn_app_with(setup("")).await;
    t.site.publish("en", release_en(1, 1));
    t.site.publish("en", release_en(2, 2));
    assert_eq!(t.poll("akorda-en").await.unwrap().count(ItemState::New), 2);
    t.stop().await;
    // The same page, herald started again with the same config: nothing to read.
    let t = spawn_app_with(setup("")).await;
    t.site.publish("en", release_en(1, 1));
    t.site.publish("en", release_en(2, 2));
    assert!(t.poll("akorda-en").await.unwrap().unchanged);
    t.stop().await;
    // Started with an edit of how the source is read: the page is read again.
    let t = spawn_app_with(setup("exclude = ['number 1$']")).await;
    t.site.publish("en", release_en(1, 1));
    t.site.publish("en", release_en(2, 2));
    let report = t.poll("akorda-en").await.unwrap();
    assert!(!report.unchanged, "{report:?}");
    assert_eq!(report.count(ItemState::Known), 1, "{report:?}");
    assert_eq!(report.count(ItemState::New), 0, "{report:?}");
    t.stop().await;
}
