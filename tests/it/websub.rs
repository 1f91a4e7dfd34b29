//! WebSub (issues 10 and 25): with `[server] websub_hub` the plain feeds advertise the hub and
//! still validate (a filtered feed, whose self link no ping names, advertises none); every feed is
//! pinged once at each start, and a poll that stores news or a config edit that changes a feed
//! pings the hub for each changed feed, in the background: a hub that fails is retried, counted,
//! shown in `/healthz` and tried again later until it takes the ping; a hub that hangs blocks
//! neither polls nor feeds. The hub here is a stand-in on 127.0.0.1 that records every ping.

use crate::common;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::site::{release_en, release_ru};
use common::{Setup, TestApp, assert_w3c_valid, eventually, spawn_app, spawn_app_with};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// Takes each ping after 700 ms.
    Slow,
    /// Answers with this redirect status to `/moved`, which takes a `POST` (recorded in
    /// `moved`) and shows a page to a `GET` (counted in `landing_gets`).
    Redirect(u16),
    /// Answers the first ping 429 with `Retry-After: 2`, takes the rest.
    BusyOnce,
}

#[derive(Clone)]
struct Hub {
    url: String,
    /// Every request's form fields, in arrival order.
    pings: Arc<Mutex<Vec<HashMap<String, String>>>>,
    /// The forms `POST`ed to `/moved`.
    moved: Arc<Mutex<Vec<HashMap<String, String>>>>,
    /// `GET`s of `/moved` (a redirect followed as a `GET`, its form lost).
    landing_gets: Arc<AtomicUsize>,
    mode: Arc<Mutex<HubMode>>,
}

#[derive(Clone)]
struct HubState {
    pings: Arc<Mutex<Vec<HashMap<String, String>>>>,
    moved: Arc<Mutex<Vec<HashMap<String, String>>>>,
    landing_gets: Arc<AtomicUsize>,
    mode: Arc<Mutex<HubMode>>,
}

impl Hub {
    async fn start(mode: HubMode) -> Hub {
        let state = HubState {
            pings: Default::default(),
            moved: Default::default(),
            landing_gets: Default::default(),
            mode: Arc::new(Mutex::new(mode)),
        };
        let app = Router::new()
            .route("/hub", post(answer))
            .route("/moved", post(moved).get(landing))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hub", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Hub {
            url,
            pings: state.pings,
            moved: state.moved,
            landing_gets: state.landing_gets,
            mode: state.mode,
        }
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

async fn answer(
    State(hub): State<HubState>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let topic = form.get("hub.url").cloned().unwrap_or_default();
    let first = {
        let mut pings = hub.pings.lock().unwrap();
        pings.push(form);
        pings.len() == 1
    };
    let mode = *hub.mode.lock().unwrap();
    match mode {
        // WebSub hubs commonly accept a publish notification with 204 (or 202).
        HubMode::Accept => StatusCode::NO_CONTENT.into_response(),
        HubMode::Fail => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        HubMode::RefuseOne => {
            if topic.ends_with("/feeds/akorda-en.rss") {
                StatusCode::BAD_REQUEST.into_response()
            } else {
                StatusCode::NO_CONTENT.into_response()
            }
        }
        HubMode::Hang => {
            std::future::pending::<()>().await;
            StatusCode::NO_CONTENT.into_response()
        }
        HubMode::Slow => {
            tokio::time::sleep(Duration::from_millis(700)).await;
            StatusCode::NO_CONTENT.into_response()
        }
        HubMode::Redirect(status) => (
            StatusCode::from_u16(status).unwrap(),
            [(header::LOCATION, "/moved")],
        )
            .into_response(),
        HubMode::BusyOnce if first => {
            (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "2")]).into_response()
        }
        HubMode::BusyOnce => StatusCode::NO_CONTENT.into_response(),
    }
}

async fn moved(
    State(hub): State<HubState>,
    Form(form): Form<HashMap<String, String>>,
) -> StatusCode {
    hub.moved.lock().unwrap().push(form);
    StatusCode::ACCEPTED
}

async fn landing(State(hub): State<HubState>) -> &'static str {
    hub.landing_gets.fetch_add(1, Ordering::SeqCst);
    "Welcome to our new hub"
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
    // Asked once in the round: a refusal is not retried before the others are asked.
    let pings = hub.pings();
    let last_new = every
        .iter()
        .map(|u| pings.iter().position(|p| &p["hub.url"] == u).unwrap())
        .max()
        .unwrap();
    let asked = pings[..=last_new]
        .iter()
        .filter(|p| p["hub.url"] == refused)
        .count();
    assert_eq!(asked, 1, "{pings:?}");
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

/// Eight sources more than the setup's three: 36 feeds, more than a round takes (32).
fn eight_more_sources() -> String {
    (1..=8)
        .map(|i| {
            format!(
                "[[sources]]\nid = \"extra-{i}\"\nurl = \"https://e.org/{i}\"\n\
                 schedule = \"0 0 0 1 1 *\"\nkind = \"feed\"\nlanguage = \"en\"\n\n"
            )
        })
        .collect()
}

/// Removing `websub_hub` leaves the worker idle, though more than a round's worth of feeds were
/// still to ping: it drops its queue (the store keeps it for a start with a hub) and waits for a
/// config edit, never waking again and again with nothing it can do.
#[tokio::test(flavor = "multi_thread")]
async fn removing_the_hub_leaves_the_worker_idle() {
    let hub = Hub::start(HubMode::Slow).await;
    let t = spawn_app_with(Setup {
        server_keys: format!("websub_hub = \"{}\"\n", hub.url),
        extra_config: eight_more_sources(),
        ..Setup::default()
    })
    .await;
    hub.wait_for(1).await;
    // A worker that spins never yields: it holds a runtime thread for good, and the test would
    // hang (timers stop; after a failed assertion the runtime cannot be dropped) rather than
    // fail. It ends the test process with the reason instead (on stderr, not captured).
    fn spins() -> ! {
        use std::io::Write;
        let _ = std::io::stderr()
            .write_all(b"removing_the_hub_leaves_the_worker_idle: the WebSub worker spins\n");
        std::process::abort();
    }
    let (done, watch) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
            watch.recv_timeout(Duration::from_secs(120))
        {
            spins();
        }
    });
    edit_config(
        &t,
        |text| text.replacen(&format!("websub_hub = \"{}\"\n", hub.url), "", 1),
        |c| c.server.websub_hub.is_none(),
    )
    .await;
    // The ping in flight ends (700 ms); then there is nothing to do. (Blocking sleeps: they
    // need no runtime thread.)
    std::thread::sleep(Duration::from_millis(1500));
    let websub = &t.app.shared.websub;
    let (rounds, pings) = (websub.rounds(), hub.pings().len());
    assert!(pings < 36, "{pings}");
    std::thread::sleep(Duration::from_secs(1));
    if websub.rounds() != rounds {
        spins();
    }
    assert_eq!(hub.pings().len(), pings);
    assert_eq!(t.health().await["websub"], serde_json::Value::Null);
    t.stop().await;
    let _ = done.send(());
}

/// A hub whose address answers 301, 302 or 303 has taken no ping: a client that follows turns
/// the `POST` into a `GET` without the form. Each ping stays undelivered, and the error names
/// where the hub points, for the admin to fix `websub_hub`.
#[rstest::rstest]
#[case::moved_permanently(301)]
#[case::found(302)]
#[case::see_other(303)]
#[tokio::test(flavor = "multi_thread")]
async fn a_hub_redirecting_the_post_away_takes_no_ping(#[case] status: u16) {
    let hub = Hub::start(HubMode::Redirect(status)).await;
    let t = app_with_hub(&hub).await;
    eventually("every feed undelivered", Duration::from_secs(20), || {
        t.app
            .shared
            .websub
            .health()
            .is_some_and(|h| h.undelivered == 12)
    })
    .await;
    let error = t.app.shared.websub.health().unwrap().last_error.unwrap();
    let moved = hub.url.replace("/hub", "/moved");
    assert!(
        error.contains(&format!("hub answered {status}")) && error.contains(&moved),
        "{error}"
    );
    assert!(hub.moved.lock().unwrap().is_empty());
    assert_eq!(hub.landing_gets.load(Ordering::SeqCst), 0);
    t.stop().await;
}

/// A hub moved with 307 or 308 gets the same `POST` at its new address.
#[rstest::rstest]
#[case::temporary(307)]
#[case::permanent(308)]
#[tokio::test(flavor = "multi_thread")]
async fn a_hub_moved_with_307_or_308_gets_the_post_there(#[case] status: u16) {
    let hub = Hub::start(HubMode::Redirect(status)).await;
    let t = app_with_hub(&hub).await;
    let every = topics(&t, &["akorda-en", "akorda-ru", "akorda-kz", "all"]);
    eventually(
        "every feed pinged at /moved",
        Duration::from_secs(20),
        || {
            let moved = hub.moved.lock().unwrap();
            moved.iter().all(|p| p["hub.mode"] == "publish")
                && moved
                    .iter()
                    .map(|p| p["hub.url"].clone())
                    .collect::<BTreeSet<_>>()
                    == every
        },
    )
    .await;
    eventually("nothing undelivered", Duration::from_secs(5), || {
        t.app
            .shared
            .websub
            .health()
            .is_some_and(|h| h.undelivered == 0)
    })
    .await;
    assert_eq!(hub.landing_gets.load(Ordering::SeqCst), 0);
    t.stop().await;
}

/// The `rel="self"` link of a feed document: RSS's `atom:link`, Atom's `link`, JSON Feed's
/// `feed_url`.
fn self_link(document: &str, ext: &str) -> String {
    if ext == "json" {
        let json: serde_json::Value = serde_json::from_str(document).unwrap();
        return json["feed_url"].as_str().unwrap().to_owned();
    }
    let rel = document.find(r#"rel="self""#).expect(document);
    let href = document[..rel].rfind(r#"href=""#).unwrap() + r#"href=""#.len();
    let end = href + document[href..].find('"').unwrap();
    document[href..end].replace("&amp;", "&")
}

/// Every ping's topic is byte for byte the self link of the document it names, also under a
/// `public_url` with a path and characters a URI must percent-encode.
#[tokio::test(flavor = "multi_thread")]
async fn every_ping_names_the_self_link_of_its_document() {
    let hub = Hub::start(HubMode::Accept).await;
    let t = app_with_hub(&hub).await;
    hub.after_start(&t).await;
    let public = format!("{}/news|x^y/[v1]", t.base);
    edit_config(
        &t,
        |text| {
            text.replacen(
                &format!("public_url = \"{}\"", t.base),
                &format!("public_url = \"{public}\""),
                1,
            )
        },
        |c| c.general.public_url.contains("/news"),
    )
    .await;
    let pings = hub.wait_for(12).await;
    let pinged: BTreeSet<String> = pings.iter().map(|p| p["hub.url"].clone()).collect();
    let mut links = BTreeSet::new();
    for id in ["akorda-en", "akorda-ru", "akorda-kz", "all"] {
        for ext in ["rss", "atom", "json"] {
            let document = t.text(&format!("/feeds/{id}.{ext}")).await;
            links.insert(self_link(&document, ext));
        }
    }
    assert_eq!(pinged, links);
    assert!(
        links
            .iter()
            .all(|l| l.contains("/news%7Cx%5Ey/%5Bv1%5D/feeds/")),
        "{links:?}"
    );
    t.stop().await;
}

/// A 429 is the hub asking for quiet as a whole: the ping is not retried at once, no other
/// ping (news included) is made before its `Retry-After`, and then every feed is.
#[tokio::test(flavor = "multi_thread")]
async fn a_hub_that_asks_to_wait_is_left_alone_for_its_retry_after() {
    let hub = Hub::start(HubMode::BusyOnce).await;
    let t = app_with_hub(&hub).await;
    hub.wait_for(1).await;
    let asked = tokio::time::Instant::now();
    t.site.publish("en", release_en(1, 2));
    t.poll("akorda-en").await.unwrap();
    eventually("every feed waits", Duration::from_secs(1), || {
        t.app
            .shared
            .websub
            .health()
            .is_some_and(|h| h.undelivered == 12)
    })
    .await;
    let health = t.health().await;
    let error = health["websub"]["last_error"].as_str().unwrap();
    assert!(error.contains("429"), "{health}");
    tokio::time::sleep_until(asked + Duration::from_millis(1500)).await;
    assert_eq!(hub.pings().len(), 1, "{:?}", hub.pings());
    let every = topics(&t, &["akorda-en", "akorda-ru", "akorda-kz", "all"]);
    eventually("every feed pinged", Duration::from_secs(20), || {
        hub.urls() == every
    })
    .await;
    eventually("nothing undelivered", Duration::from_secs(5), || {
        t.app
            .shared
            .websub
            .health()
            .is_some_and(|h| h.undelivered == 0)
    })
    .await;
    t.stop().await;
}
