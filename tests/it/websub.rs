//! WebSub (issues 10 and 25): with `[server] websub_hub` the plain feeds advertise the hub and
//! still validate (a filtered feed, whose self link no ping names, advertises none); every feed is
//! pinged once at each start, and a poll that stores news or a config edit that changes a feed
//! pings the hub for each changed feed, in the background: a hub that fails is retried, counted,
//! shown in `/healthz` and tried again later until it takes the ping; a hub that hangs blocks
//! neither polls nor feeds. The hub here is a stand-in on 127.0.0.1 that records every ping.

use crate::common;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::routing::post;
use common::site::{release_en, release_ru};
use common::{Setup, TestApp, assert_w3c_valid, eventually, spawn_app, spawn_app_with};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the stand-in hub answers.
#[derive(Clone, Copy, PartialEq)]
enum HubMode {
    Accept,
    Fail,
    Hang,
    /// Refuses (400) the RSS feed of akorda-en, takes the rest.
    RefuseOne,
}

#[derive(Clone)]
struct Hub {
    url: String,
    /// Every request's form fields, in arrival order.
    pings: Arc<Mutex<Vec<HashMap<String, String>>>>,
    mode: Arc<Mutex<HubMode>>,
}

impl Hub {
    async fn start(mode: HubMode) -> Hub {
        let pings: Arc<Mutex<Vec<HashMap<String, String>>>> = Default::default();
        let mode = Arc::new(Mutex::new(mode));
        let app = Router::new()
            .route("/hub", post(answer))
            .with_state((pings.clone(), mode.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hub", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Hub { url, pings, mode }
    }

    /// Answers from now on as `mode` says.
    fn answer_as(&self, mode: HubMode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn pings(&self) -> Vec<HashMap<String, String>> {
        self.pings.lock().unwrap().clone()
    }

    /// The topics of the pings so far.
    fn urls(&self) -> BTreeSet<String> {
        self.pings().iter().map(|p| p["hub.url"].clone()).collect()
    }

    /// Waits for the pings of every feed that herald makes after start, checks that each feed
    /// was pinged once, and forgets them, so that a test counts what comes after.
    async fn after_start(&self, t: &TestApp) {
        let every = topics(t, &["akorda-en", "akorda-ru", "akorda-kz", "all"]);
        let pings = self.wait_for(every.len()).await;
        let urls: BTreeSet<String> = pings.iter().map(|p| p["hub.url"].clone()).collect();
        assert_eq!(urls, every, "{pings:?}");
        self.pings.lock().unwrap().clear();
    }

    /// Waits (up to 20 s) until the pings so far name exactly `urls`, each once, and no more
    /// arrive for 300 ms.
    async fn wait_for_exactly(&self, urls: &BTreeSet<String>) {
        let pings = self.wait_for(urls.len()).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let later = self.pings();
        assert_eq!(later.len(), pings.len(), "each feed once: {later:?}");
        assert_eq!(&self.urls(), urls, "{later:?}");
    }

    /// Waits (up to 20 s) until at least `n` requests arrived.
    async fn wait_for(&self, n: usize) -> Vec<HashMap<String, String>> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let pings = self.pings();
            if pings.len() >= n {
                return pings;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the hub got {} requests, expected {n}: {pings:?}",
                pings.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

type HubState = (
    Arc<Mutex<Vec<HashMap<String, String>>>>,
    Arc<Mutex<HubMode>>,
);

async fn answer(
    State((pings, mode)): State<HubState>,
    Form(form): Form<HashMap<String, String>>,
) -> StatusCode {
    pings.lock().unwrap().push(form);
    let mode = *mode.lock().unwrap();
    match mode {
        // WebSub hubs commonly accept a publish notification with 204 (or 202).
        HubMode::Accept => StatusCode::NO_CONTENT,
        HubMode::Fail => StatusCode::INTERNAL_SERVER_ERROR,
        HubMode::RefuseOne => {
            let last = pings.lock().unwrap().last().cloned().unwrap_or_default();
            if last["hub.url"].ends_with("/feeds/akorda-en.rss") {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::NO_CONTENT
            }
        }
        HubMode::Hang => {
            std::future::pending::<()>().await;
            StatusCode::NO_CONTENT
        }
    }
}

async fn app_with_hub(hub: &Hub) -> TestApp {
    spawn_app_with(Setup {
        server_keys: format!("websub_hub = \"{}\"\n", hub.url),
        ..Setup::default()
    })
    .await
}

/// The self links of these feeds in every format.
fn topics(t: &TestApp, ids: &[&str]) -> BTreeSet<String> {
    ids.iter()
        .flat_map(|id| ["rss", "atom", "json"].map(|ext| format!("{}/feeds/{id}.{ext}", t.base)))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn feeds_advertise_the_hub_and_still_validate() {
    let hub = Hub::start(HubMode::Accept).await;
    let t = app_with_hub(&hub).await;
    t.site.publish("en", release_en(1, 2));
    t.poll("akorda-en").await.unwrap();
    let rss = t.text("/feeds/akorda-en.rss").await;
    assert!(
        rss.contains(&format!(r#"<atom:link href="{}" rel="hub">"#, hub.url)),
        "{rss}"
    );
    // The topic stays the self link.
    assert!(rss.contains(&format!(
        r#"<atom:link href="{}/feeds/akorda-en.rss" rel="self""#,
        t.base
    )));
    let atom = t.text("/feeds/akorda-en.atom").await;
    assert!(
        atom.contains(&format!(r#"<link href="{}" rel="hub"/>"#, hub.url)),
        "{atom}"
    );
    let json: serde_json::Value = serde_json::from_str(&t.text("/feeds/all.json").await).unwrap();
    assert_eq!(
        json["hubs"],
        serde_json::json!([{"type": "WebSub", "url": hub.url}])
    );
    let urls: Vec<String> = ["akorda-en", "all"]
        .iter()
        .flat_map(|id| ["rss", "atom"].map(|ext| format!("{}/feeds/{id}.{ext}", t.base)))
        .collect();
    assert_w3c_valid(&urls).await;
    t.stop().await;
}

/// A filtered feed's self link carries its query: a topic herald never pings. Such a feed names
/// no hub, in any format, so that no reader subscribes to a topic the hub never hears of.
#[tokio::test(flavor = "multi_thread")]
async fn filtered_feeds_name_no_hub() {
    let hub = Hub::start(HubMode::Accept).await;
    let t = app_with_hub(&hub).await;
    t.site.publish("en", release_en(1, 2));
    t.poll("akorda-en").await.unwrap();
    for (path, self_link) in [
        (
            "/feeds/akorda-en.atom?lang=en",
            "/feeds/akorda-en.atom?lang=en",
        ),
        ("/feeds/all.json?limit=5", "/feeds/all.json?limit=5"),
        ("/feeds/all.rss?limit=1", "/feeds/all.rss?limit=1"),
        (
            "/feeds/akorda-en.json?lang=en",
            "/feeds/akorda-en.json?lang=en",
        ),
    ] {
        let text = t.text(path).await;
        assert!(
            text.contains(&format!("{}{self_link}", t.base)),
            "{path}: {text}"
        );
        assert!(!text.contains(&hub.url), "{path} names the hub: {text}");
    }
    // The plain feeds, whose self links are pinged, still name it.
    for ext in ["rss", "atom", "json"] {
        let text = t.text(&format!("/feeds/all.{ext}")).await;
        assert!(text.contains(&hub.url), "{ext}: {text}");
    }
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_hub_feeds_name_none() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 2));
    t.poll("akorda-en").await.unwrap();
    for ext in ["rss", "atom", "json"] {
        let text = t.text(&format!("/feeds/akorda-en.{ext}")).await;
        assert!(!text.contains("hub"), "{ext}: {text}");
    }
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn news_pings_the_hub_once_per_changed_feed() {
    let hub = Hub::start(HubMode::Accept).await;
    let t = app_with_hub(&hub).await;
    hub.after_start(&t).await;
    t.site.publish("en", release_en(1, 2));
    t.poll("akorda-en").await.unwrap();
    let pings = hub.wait_for(6).await;
    assert!(
        pings.iter().all(|p| p["hub.mode"] == "publish"),
        "{pings:?}"
    );
    let urls: BTreeSet<String> = pings.iter().map(|p| p["hub.url"].clone()).collect();
    assert_eq!(urls, topics(&t, &["akorda-en", "all"]));
    assert_eq!(pings.len(), 6, "each feed once: {pings:?}");

    // A poll that finds nothing new pings nothing; the next news pings its own feeds only.
    t.poll("akorda-en").await.unwrap();
    t.site.publish("ru", release_ru(1, 3));
    t.poll("akorda-ru").await.unwrap();
    let pings = hub.wait_for(12).await;
    let urls: BTreeSet<String> = pings[6..].iter().map(|p| p["hub.url"].clone()).collect();
    assert_eq!(urls, topics(&t, &["akorda-ru", "all"]));
    assert_eq!(pings.len(), 12, "{pings:?}");
    t.stop().await;
}

/// Issue 25: a hub that refuses a ping after every attempt does not lose it. The feed stays
/// pending in the store, `/healthz` and `/metrics` show it, and it is tried again later until the
/// hub takes it; polls and feeds go on all along.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_ping_is_kept_shown_and_made_when_the_hub_is_back() {
    let hub = Hub::start(HubMode::Fail).await;
    let t = app_with_hub(&hub).await;
    // What the admins would be told (this app has no Telegram).
    let told: Arc<Mutex<Vec<String>>> = Default::default();
    let sink = told.clone();
    t.app
        .shared
        .websub
        .report_to(move |text| sink.lock().unwrap().push(text));
    let every = topics(&t, &["akorda-en", "akorda-ru", "akorda-kz", "all"]);
    // Three attempts (the test setting) for each of the first two of the twelve feeds pinged
    // after start; the hub failed on both after all of them (it is down), so the other ten
    // wait for the next round without a request each (a hub that is down took every attempt
    // and backoff of every feed).
    let pings = hub.wait_for(6).await;
    let tried: BTreeSet<&String> = pings.iter().map(|p| &p["hub.url"]).collect();
    assert_eq!(tried.len(), 2, "{pings:?}");
    // Shown where an admin looks, and kept in the store.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let health = t.health().await;
        if health["websub"]["undelivered"] == 12 {
            let made = hub.pings();
            assert!(made.len() < 12, "a request per feed in one round: {made:?}");
            assert_eq!(health["status"], "degraded", "{health}");
            assert_eq!(health["websub"]["ok"], false, "{health}");
            let error = health["websub"]["last_error"].as_str().unwrap();
            assert!(error.contains("500"), "{health}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{health}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let metrics = t.text("/metrics").await;
    assert!(
        metrics.contains("herald_websub_undelivered_topics 12"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"herald_websub_pings_total{result="failed"}"#),
        "{metrics}"
    );
    assert!(metrics.contains("herald_websub_retries_total"), "{metrics}");
    let pending: BTreeSet<String> = t
        .app
        .shared
        .store
        .websub_pending()
        .unwrap()
        .into_iter()
        .map(|path| format!("{}{path}", t.base))
        .collect();
    assert_eq!(pending, every);

    // Polls and feeds went on all along.
    t.site.publish("en", release_en(2, 3));
    let report = t.poll_reporting_known("akorda-en").await.unwrap();
    assert_eq!(report.items.len(), 1);
    assert!(t.text("/feeds/akorda-en.rss").await.contains("number 2"));

    // A hub that keeps refusing is told to the admins, once.
    eventually("the admins are told", Duration::from_secs(20), || {
        !told.lock().unwrap().is_empty()
    })
    .await;
    {
        let told = told.lock().unwrap();
        assert_eq!(told.len(), 1, "{told:?}");
        assert!(told[0].contains("WebSub hub has refused"), "{told:?}");
        assert!(told[0].contains("500"), "{told:?}");
    }

    // The hub is back: every refused feed is pinged, with no new change to carry it.
    hub.answer_as(HubMode::Accept);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let health = t.health().await;
        if health["websub"]["undelivered"] == 0 {
            assert_eq!(health["status"], "ok", "{health}");
            assert_eq!(health["websub"]["ok"], true, "{health}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{health}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(hub.urls(), every);
    assert!(t.app.shared.store.websub_pending().unwrap().is_empty());
    eventually(
        "the admins hear the hub is back",
        Duration::from_secs(5),
        || told.lock().unwrap().len() == 2,
    )
    .await;
    assert!(told.lock().unwrap()[1].contains("takes feed pings again"));
    let metrics = t.text("/metrics").await;
    assert!(
        metrics.contains("herald_websub_undelivered_topics 0"),
        "{metrics}"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hanging_hub_blocks_neither_polls_nor_feeds() {
    let hub = Hub::start(HubMode::Hang).await;
    let t = app_with_hub(&hub).await;
    // The first ping is now held by the hub.
    hub.wait_for(1).await;
    t.site.publish("en", release_en(1, 2));
    t.poll("akorda-en").await.unwrap();
    t.site.publish("ru", release_ru(1, 3));
    let report = t.poll("akorda-ru").await.unwrap();
    assert_eq!(report.items.len(), 1);
    let feed = t.text("/feeds/all.atom").await;
    assert!(feed.contains("№ 1") && feed.contains("number 1"), "{feed}");
    t.stop().await;
}

/// Issue 25: pings pending at a stop are not lost. The hub holds the first ping; herald stops
/// with the others still queued; started again on the same database (with a hub that answers),
/// it pings every feed once, though its first poll finds nothing new.
#[tokio::test(flavor = "multi_thread")]
async fn pings_pending_at_a_stop_are_made_after_the_next_start() {
    let hanging = Hub::start(HubMode::Hang).await;
    let data = tempfile::tempdir().unwrap();
    let setup = |hub: &Hub| Setup {
        server_keys: format!("websub_hub = \"{}\"\n", hub.url),
        data_dir: Some(data.path().to_path_buf()),
        ..Setup::default()
    };
    let t = spawn_app_with(setup(&hanging)).await;
    t.site.publish("en", release_en(1, 2));
    t.poll("akorda-en").await.unwrap();
    hanging.wait_for(1).await;
    t.stop().await;
    assert_eq!(hanging.pings().len(), 1, "the others were still queued");

    let hub = Hub::start(HubMode::Accept).await;
    let t = spawn_app_with(setup(&hub)).await;
    // The feeds' links under the public_url of the new start, each once.
    hub.wait_for_exactly(&topics(&t, &["akorda-en", "akorda-ru", "akorda-kz", "all"]))
        .await;
    assert!(t.app.shared.store.websub_pending().unwrap().is_empty());
    t.stop().await;
}

/// Issue 25: a change the store never noted as a ping to make (a kill between a poll's write
/// and the note; here a poll while no hub was set) still reaches the hub: every feed is pinged
/// once at each start.
#[tokio::test(flavor = "multi_thread")]
async fn every_feed_is_pinged_once_at_each_start() {
    let data = tempfile::tempdir().unwrap();
    let t = spawn_app_with(Setup {
        data_dir: Some(data.path().to_path_buf()),
        ..Setup::default()
    })
    .await;
    t.site.publish("en", release_en(1, 2));
    assert_eq!(t.poll("akorda-en").await.unwrap().items.len(), 1);
    t.stop().await;

    let hub = Hub::start(HubMode::Accept).await;
    let t = spawn_app_with(Setup {
        server_keys: format!("websub_hub = \"{}\"\n", hub.url),
        data_dir: Some(data.path().to_path_buf()),
        ..Setup::default()
    })
    .await;
    hub.wait_for_exactly(&topics(&t, &["akorda-en", "akorda-ru", "akorda-kz", "all"]))
        .await;
    let health = t.health().await;
    assert_eq!(
        health["websub"],
        serde_json::json!({"ok": true, "undelivered": 0, "last_error": null}),
        "{health}"
    );
    t.stop().await;
}

/// Rewrites the config file with `edit` and waits until the running config shows `applied`.
async fn edit_config(
    t: &TestApp,
    edit: impl Fn(&str) -> String,
    applied: impl Fn(&herald::config::Config) -> bool,
) {
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit changes the config");
    std::fs::write(&t.config_path, edited).unwrap();
    eventually("config reloaded", Duration::from_secs(15), || {
        applied(&t.app.config())
    })
    .await;
}

/// Issue 25: a config edit that changes what a feed serves pings that feed (and `all`'s, which
/// shows every source); a new hub hears of every feed.
#[tokio::test(flavor = "multi_thread")]
async fn a_config_edit_that_changes_a_feed_pings_it() {
    let hub = Hub::start(HubMode::Accept).await;
    let t = app_with_hub(&hub).await;
    hub.after_start(&t).await;

    // A source's title.
    edit_config(
        &t,
        |text| text.replacen("Akorda — press releases", "Akorda — news", 1),
        |c| c.source("akorda-en").unwrap().title == "Akorda — news",
    )
    .await;
    hub.wait_for_exactly(&topics(&t, &["akorda-en", "all"]))
        .await;
    assert!(
        t.text("/feeds/akorda-en.atom")
            .await
            .contains("Akorda — news")
    );
    hub.pings.lock().unwrap().clear();

    // How many items a feed holds.
    edit_config(
        &t,
        |text| text.replacen("id = \"akorda-ru\"", "id = \"akorda-ru\"\nmax_items = 5", 1),
        |c| c.source("akorda-ru").unwrap().max_items == 5,
    )
    .await;
    hub.wait_for_exactly(&topics(&t, &["akorda-ru", "all"]))
        .await;
    hub.pings.lock().unwrap().clear();

    // A removed source: its feed is gone, and `all` no longer shows it.
    edit_config(
        &t,
        |text| {
            let at = text.find("[[sources]]\nid = \"akorda-kz\"").unwrap();
            text[..at].to_owned()
        },
        |c| c.source("akorda-kz").is_none(),
    )
    .await;
    hub.wait_for_exactly(&topics(&t, &["akorda-kz", "all"]))
        .await;
    assert_ne!(t.get("/feeds/akorda-kz.rss").await.status(), 200);
    hub.pings.lock().unwrap().clear();

    // A new hub hears of every feed; the old one of nothing more.
    let other = Hub::start(HubMode::Accept).await;
    edit_config(
        &t,
        |text| text.replacen(&hub.url, &other.url, 1),
        |c| c.server.websub_hub.as_ref().map(|u| u.as_str()) == Some(other.url.as_str()),
    )
    .await;
    other
        .wait_for_exactly(&topics(&t, &["akorda-en", "akorda-ru", "all"]))
        .await;
    assert!(hub.pings().is_empty(), "{:?}", hub.pings());
    t.stop().await;
}

/// A hub that refuses one feed for good (a 400 for it, the others taken) holds back no other:
/// every other feed is pinged, after start and with news, and the refused one shows.
#[tokio::test(flavor = "multi_thread")]
async fn a_feed_the_hub_refuses_holds_back_no_other() {
    let hub = Hub::start(HubMode::RefuseOne).await;
    let t = app_with_hub(&hub).await;
    let every = topics(&t, &["akorda-en", "akorda-ru", "akorda-kz", "all"]);
    let refused = format!("{}/feeds/akorda-en.rss", t.base);
    eventually("every feed asked", Duration::from_secs(20), || {
        hub.urls() == every
    })
    .await;
    eventually("the refused feed shown", Duration::from_secs(20), || {
        t.app.shared.websub.health().is_some_and(|h| {
            h.undelivered == 1 && h.last_error.is_some_and(|e| e.starts_with(&refused))
        })
    })
    .await;
    // News after it, retried rounds between: the others still go through.
    hub.pings.lock().unwrap().clear();
    t.site.publish("ru", release_ru(1, 2));
    t.poll("akorda-ru").await.unwrap();
    let news = topics(&t, &["akorda-ru", "all"]);
    eventually("the news pinged", Duration::from_secs(20), || {
        news.iter().all(|u| hub.urls().contains(u))
    })
    .await;
    assert!(
        !hub.urls()
            .contains(&format!("{}/feeds/akorda-en.atom", t.base))
    );
    t.stop().await;
}
