//! End to end: the real app against the fake site: what a poll stores, and how it reports.

use crate::common;

use common::site::{Mode, release_en, release_kz, release_ru};
use common::{Setup, spawn_app, spawn_app_with};
use herald::model::ItemState;
use std::time::Duration;

#[tokio::test]
async fn first_poll_stores_all_then_only_the_new_ones() {
    let t = spawn_app().await;
    for n in 1..=5 {
        t.site.publish("en", release_en(n, n as u32));
    }
    let first = t.poll("akorda-en").await.unwrap();
    assert_eq!(first.count(ItemState::New), 5);
    assert!(first.first_poll);

    t.site.publish("en", release_en(6, 10));
    t.site.publish("en", release_en(7, 10));
    let second = t.poll("akorda-en").await.unwrap();
    assert_eq!(second.count(ItemState::New), 2);
    assert_eq!(second.count(ItemState::Known), 5);
    assert!(!second.first_poll);
    assert_eq!(t.app.shared.store.count("akorda-en").unwrap(), 7);
    // The site's order is kept: newest first.
    let titles: Vec<String> = second.items.iter().map(|o| o.item.title.clone()).collect();
    assert_eq!(titles[0], release_en(7, 10).title);
    t.stop().await;
}

#[tokio::test]
async fn an_edited_title_is_changed_with_the_same_id() {
    let t = spawn_app().await;
    t.site.publish("ru", release_ru(1, 3));
    t.site.publish("ru", release_ru(2, 4));
    let first = t.poll("akorda-ru").await.unwrap();
    let id = first.items[1].item.id;

    t.site
        .edit_title("ru", release_ru(1, 3).id, "Исправленный заголовок");
    let second = t.poll("akorda-ru").await.unwrap();
    assert_eq!(second.count(ItemState::Changed), 1);
    assert_eq!(second.count(ItemState::New), 0);
    let changed = second
        .items
        .iter()
        .find(|o| o.state == ItemState::Changed)
        .unwrap();
    assert_eq!(changed.item.id, id);
    assert_eq!(changed.item.title, "Исправленный заголовок");

    let third = t.poll("akorda-ru").await.unwrap();
    assert!(third.unchanged || third.count(ItemState::Changed) == 0);
    let feed = t.text("/feeds/akorda-ru.rss").await;
    assert!(feed.contains("Исправленный заголовок"));
    assert_eq!(feed.matches("<item>").count(), 2);
    t.stop().await;
}

#[tokio::test]
async fn localized_dates_become_almaty_instants() {
    let t = spawn_app().await;
    t.site.publish("kz", release_kz(1, 21));
    t.site.publish("ru", release_ru(1, 21));
    t.site.publish("en", release_en(1, 21));
    for id in ["akorda-en", "akorda-ru", "akorda-kz"] {
        let report = t.poll(id).await.unwrap();
        let published = report.items[0].item.published;
        // 21 March 2026 00:00 in Asia/Almaty (UTC+5) is 20 March 19:00 UTC.
        assert_eq!(published.to_rfc3339(), "2026-03-20T19:00:00+00:00", "{id}");
    }
    t.stop().await;
}

#[tokio::test]
async fn older_pages_are_followed_while_they_hold_new_releases() {
    let t = spawn_app().await;
    for n in 1..=25 {
        t.site.publish("en", release_en(n, 1));
    }
    let first = t.poll("akorda-en").await.unwrap();
    assert_eq!(first.count(ItemState::New), 25);
    assert_eq!(first.pages, 3);

    // Twelve releases while herald was "down": page 1 is all new, page 2 partly.
    for n in 26..=37 {
        t.site.publish("en", release_en(n, 2));
    }
    let second = t.poll("akorda-en").await.unwrap();
    assert_eq!(second.count(ItemState::New), 12);
    assert_eq!(t.app.shared.store.count("akorda-en").unwrap(), 37);
    // Same date for all: the feed keeps the site's order.
    let feed = t.app.shared.store.recent("akorda-en", 3).unwrap();
    assert_eq!(feed[0].title, release_en(37, 2).title);
    assert_eq!(feed[1].title, release_en(36, 2).title);
    t.stop().await;
}

#[tokio::test]
async fn a_failing_source_is_reported_and_loses_nothing() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 1));
    t.site.publish("ru", release_ru(1, 1));
    t.poll("akorda-en").await.unwrap();

    t.site.set_mode("en", Mode::Error);
    let err = t.poll("akorda-en").await.unwrap_err();
    assert!(err.to_string().contains("500"), "{err}");
    t.site.set_mode("en", Mode::Redesigned);
    let err = t.poll("akorda-en").await.unwrap_err();
    assert!(err.to_string().contains("div.card"), "{err}");
    t.site.set_mode("en", Mode::Hang);
    let err = t.poll("akorda-en").await.unwrap_err();
    assert!(err.to_string().contains("timed out"), "{err}");

    // Other sources go on; stored items stay.
    assert_eq!(t.poll("akorda-ru").await.unwrap().count(ItemState::New), 1);
    assert_eq!(t.app.shared.store.count("akorda-en").unwrap(), 1);
    let health = t.health().await;
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["sources"]["akorda-en"]["ok"], false);
    assert_eq!(health["sources"]["akorda-en"]["consecutive_failures"], 3);
    assert_eq!(health["sources"]["akorda-en"]["items"], 1);
    assert_eq!(health["sources"]["akorda-ru"]["ok"], true);

    t.site.set_mode("en", Mode::Normal);
    t.poll("akorda-en").await.unwrap();
    let health = t.health().await;
    assert_eq!(health["status"], "ok");
    t.stop().await;
}

#[tokio::test]
async fn sources_are_polled_on_their_schedule_with_conditional_requests() {
    let t = spawn_app_with(Setup {
        schedule: "* * * * * *".into(),
        ..Setup::default()
    })
    .await;
    t.site.publish("en", release_en(1, 1));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let feed = t.text("/feeds/akorda-en.json").await;
        if feed.contains(&release_en(1, 1).title) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not polled in 10 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Later polls send the validators and get 304s.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(t.site.not_modified_answers() >= 1);
    t.stop().await;
}

#[tokio::test]
async fn article_pages_give_the_body_and_a_broken_one_holds_nothing_back() {
    let t = spawn_app_with(Setup {
        source_keys: vec![(
            "akorda-en".into(),
            "[sources.article]\nbody = \"div.content-text\"\nimage = \"meta[property='og:image']@content\"".into(),
        )],
        ..Setup::default()
    })
    .await;
    let mut plain = release_en(1, 1);
    plain.summary = String::new();
    plain.image = None;
    t.site.publish("en", plain);
    t.site.publish("en", release_en(2, 2));
    t.site.break_article(release_en(2, 2).id);
    let report = t.poll("akorda-en").await.unwrap();
    assert_eq!(report.count(ItemState::New), 2);
    let feed: serde_json::Value = t.get("/feeds/akorda-en.json").await.json().await.unwrap();
    let items = feed["items"].as_array().unwrap();
    // Release 2: its article page is broken; it goes out with the list page's data.
    assert_eq!(items[0]["title"], release_en(2, 2).title);
    assert_eq!(items[0]["summary"], release_en(2, 2).summary);
    // Release 1: body, lead and picture come from its article page.
    let html = items[1]["content_html"].as_str().unwrap();
    assert!(html.contains("signed a memorandum"), "{html}");
    assert!(
        !html.contains("Go back") && !html.contains("javascript"),
        "{html}"
    );
    assert!(
        items[1]["summary"]
            .as_str()
            .unwrap()
            .contains("The talks covered trade"),
        "{}",
        items[1]
    );
    assert!(
        items[1]["image"]
            .as_str()
            .unwrap()
            .ends_with("/uploadMedia/og/100001.jpg")
    );
    // The lead from the article page is not a correction: the next poll that reads the list
    // again finds release 1 known, not changed.
    t.site.publish("en", release_en(3, 3));
    let again = t.poll("akorda-en").await.unwrap();
    assert_eq!(again.count(ItemState::New), 1);
    assert_eq!(again.count(ItemState::Changed), 0);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_polls_of_one_source_at_once_store_each_release_once() {
    let t = spawn_app().await;
    for n in 1..=5 {
        t.site.publish("en", release_en(n, 1));
    }
    let (a, b) = tokio::join!(t.poll("akorda-en"), t.poll("akorda-en"));
    let new = a.unwrap().count(ItemState::New) + b.unwrap().count(ItemState::New);
    assert_eq!(new, 5);
    assert_eq!(t.app.shared.store.count("akorda-en").unwrap(), 5);
    assert_eq!(
        t.app.shared.store.recent("akorda-en", 100).unwrap().len(),
        5
    );
    t.stop().await;
}

/// SPEC: every source is polled once soon after start (spread over the first minute; a shorter
/// window here), though its schedule would not fire for months; the index page then says when
/// each source is polled next.
#[tokio::test(flavor = "multi_thread")]
async fn every_source_is_polled_soon_after_start() {
    let t = spawn_app_with(Setup {
        first_poll_window: Some(Duration::from_secs(2)),
        ..Default::default()
    })
    .await;
    let polled = |id: &str| {
        let state = t.app.shared.store.source_state(id).unwrap();
        state.last_success.is_some() || state.last_error.is_some()
    };
    common::eventually(
        "every source polled after start",
        Duration::from_secs(15),
        || {
            ["akorda-en", "akorda-ru", "akorda-kz"]
                .iter()
                .all(|id| polled(id))
        },
    )
    .await;
    // Each polled once: the next poll is not another start poll but the schedule's (1 January)
    // or, the fake site having no list yet, the failed poll's retry when its rest (a minute)
    // ends.
    let page = t.text("/").await;
    assert_eq!(page.matches("next poll").count(), 3, "{page}");
    let soonest = chrono::Utc::now() + chrono::Duration::seconds(40);
    for next in page.split("next poll <time datetime=\"").skip(1) {
        let at = chrono::DateTime::parse_from_rfc3339(&next[..next.find('"').unwrap()]).unwrap();
        assert!(at > soonest, "{page}");
    }
    assert!(!page.contains("not polled yet"), "{page}");
    t.stop().await;
}
