//! A config edit restarts exactly the parts whose text changed (issue 22): a source's task when
//! a value of its `[[sources]]` table changed, a chat's worker when its entry's table, `[telegram]`
//! or the quiet zone it inherits changed; an edit of comments or layout restarts nothing, and
//! neither does a `[general]` value, which a poll reads from the live config.
//!
//! A source task polls once within `first_poll_window` of each start (and its schedule fires
//! yearly here), so each start shows as one more request for its list page.

use crate::common;

use common::site::release_en;
use common::{Setup, TestApp, eventually, spawn_app_with};
use fake_botapi::{FAST_TELEGRAM, FakeBotApi, FakeOptions};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const WINDOW: Duration = Duration::from_millis(200);

/// Requests for each source's list page so far: en, ru, kz.
fn polls(t: &TestApp) -> [usize; 3] {
    ["en", "ru", "kz"].map(|lang| t.site.hits(&format!("/{lang}/events")))
}

/// The app with every source polled once at start, and those first polls done.
async fn polled_app() -> (TestApp, [usize; 3]) {
    let t = spawn_app_with(Setup {
        first_poll_window: Some(WINDOW),
        ..Setup::default()
    })
    .await;
    eventually("the first polls", WAIT, || {
        polls(&t).iter().all(|n| *n >= 1)
    })
    .await;
    tokio::time::sleep(WINDOW * 3).await;
    let before = polls(&t);
    (t, before)
}

fn edit(t: &TestApp, change: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let edited = change(text.clone());
    assert_ne!(edited, text, "the edit changes the file");
    std::fs::write(&t.config_path, edited).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_source_whose_values_changed_restarts() {
    let (t, before) = polled_app().await;
    edit(&t, |text| {
        text
            // akorda-en: the same values, written otherwise.
            .replacen(
                "title = \"Akorda — press releases\"",
                "# The English site.\ntitle   =   'Akorda — press releases'   # as the site says",
                1,
            )
            .replacen("id_pattern = '-(\\d+)$'", "id_pattern = \"-(\\\\d+)$\"", 1)
            // akorda-ru: a new title.
            .replacen("Акорда — пресс-релизы", "Акорда", 1)
    });
    eventually("the edit applied", WAIT, || {
        t.app.config().source("akorda-ru").unwrap().title == "Акорда"
    })
    .await;
    eventually("akorda-ru restarted", WAIT, || polls(&t)[1] > before[1]).await;
    tokio::time::sleep(WINDOW * 5).await;
    let after = polls(&t);
    assert_eq!(
        (after[0], after[2]),
        (before[0], before[2]),
        "akorda-en (written otherwise) and akorda-kz (untouched) were not restarted"
    );
    assert_eq!(after[1], before[1] + 1, "akorda-ru restarted once");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_general_value_restarts_no_source() {
    let (t, before) = polled_app().await;
    edit(&t, |text| {
        text.replacen(
            "user_agent = \"herald-test\"",
            "user_agent = \"herald-test/2\"",
            1,
        )
    });
    eventually("the edit applied", WAIT, || {
        t.app.config().general.user_agent == "herald-test/2"
    })
    .await;
    tokio::time::sleep(WINDOW * 5).await;
    assert_eq!(
        polls(&t),
        before,
        "a poll reads [general] as it is: no restart"
    );
    t.stop().await;
}

/// A two-hour window around now in `zone`, as `quiet_hours` writes it.
fn window_around_now(zone: chrono_tz::Tz) -> String {
    use chrono::Timelike;
    let now = chrono::Utc::now().with_timezone(&zone);
    let minute = (now.hour() * 60 + now.minute()) as i64;
    let at = |m: i64| {
        let m = m.rem_euclid(24 * 60);
        format!("{:02}:{:02}", m / 60, m % 60)
    };
    format!("{}-{}", at(minute - 60), at(minute + 60))
}

/// Whether `zone`'s time now falls inside `window` (`HH:MM-HH:MM`, possibly across midnight).
fn inside(window: &str, zone: chrono_tz::Tz) -> bool {
    use chrono::Timelike;
    let minutes = |hm: &str| {
        let (h, m) = hm.split_once(':').unwrap();
        h.parse::<u32>().unwrap() * 60 + m.parse::<u32>().unwrap()
    };
    let (start, end) = window.split_once('-').unwrap();
    let (start, end) = (minutes(start), minutes(end));
    let now = chrono::Utc::now().with_timezone(&zone);
    let now = now.hour() * 60 + now.minute();
    if start < end {
        (start..end).contains(&now)
    } else {
        now >= start || now < end
    }
}

/// `inherits` takes its quiet zone from akorda-en, its first source; `own` names it. Both hold
/// posts in their quiet hours, which are now in Almaty and not in Los Angeles.
#[tokio::test(flavor = "multi_thread")]
async fn an_inherited_zone_restarts_the_channels_that_take_it() {
    let almaty = chrono_tz::Asia::Almaty;
    let los_angeles = chrono_tz::America::Los_Angeles;
    let window = window_around_now(almaty);
    assert!(inside(&window, almaty) && !inside(&window, los_angeles));
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let channels = format!(
        "[[channels]]\nid = \"inherits\"\nchat = \"@inherits\"\n\
         quiet_hours = \"{window}\"\nquiet = \"hold\"\n\n\
         [[channels]]\nid = \"own\"\nchat = \"@own\"\n\
         quiet_hours = \"{window}\"\nquiet = \"hold\"\nquiet_timezone = \"Asia/Almaty\"\n"
    );
    let t = spawn_app_with(Setup {
        source_keys: vec![(
            "akorda-en".into(),
            "channels = [\"inherits\", \"own\"]".into(),
        )],
        ..Setup::telegram(&fake, &format!("{FAST_TELEGRAM}\n{channels}\n"))
    })
    .await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    let pending = |health: &serde_json::Value, id: &str| health["channels"][id]["pending"].clone();
    let health = t.health().await;
    assert_eq!(
        (pending(&health, "inherits"), pending(&health, "own")),
        (1.into(), 1.into()),
        "{health}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(fake.messages().is_empty(), "both hold their post");

    // akorda-en moves to Los Angeles: `inherits` is no longer in its quiet hours.
    edit(&t, |text| {
        text.replacen(
            "\ntimezone = \"Asia/Almaty\"",
            "\ntimezone = \"America/Los_Angeles\"",
            1,
        )
    });
    eventually("the post of `inherits` sent", WAIT, || {
        fake.messages_for("@inherits").len() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(fake.messages_for("@own").is_empty(), "`own` still holds");
    let health = t.health().await;
    assert_eq!(pending(&health, "own"), 1, "{health}");
    t.stop().await;
}
