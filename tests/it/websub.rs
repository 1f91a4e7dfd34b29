//! WebSub (issue 10): with `[server] websub_hub` the feeds advertise the hub and still validate,
//! and a poll that stores news pings the hub for each changed feed, in the background: a hub that
//! fails is retried and counted, a hub that hangs blocks neither polls nor feeds. The hub here is a
//! stand-in on 127.0.0.1 that records every ping.

use crate::common;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::routing::post;
use common::site::{release_en, release_ru};
use common::{Setup, TestApp, assert_w3c_valid, spawn_app, spawn_app_with};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the stand-in hub answers.
#[derive(Clone, Copy, PartialEq)]
enum HubMode {
    Accept,
    Fail,
    Hang,
}

#[derive(Clone)]
struct Hub {
    url: String,
    /// Every request's form fields, in arrival order.
    pings: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

impl Hub {
    async fn start(mode: HubMode) -> Hub {
        let pings: Arc<Mutex<Vec<HashMap<String, String>>>> = Default::default();
        let app = Router::new()
            .route("/hub", post(answer))
            .with_state((pings.clone(), mode));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hub", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Hub { url, pings }
    }

    fn pings(&self) -> Vec<HashMap<String, String>> {
        self.pings.lock().unwrap().clone()
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

type HubState = (Arc<Mutex<Vec<HashMap<String, String>>>>, HubMode);

async fn answer(
    State((pings, mode)): State<HubState>,
    Form(form): Form<HashMap<String, String>>,
) -> StatusCode {
    pings.lock().unwrap().push(form);
    match mode {
        // WebSub hubs commonly accept a publish notification with 204 (or 202).
        HubMode::Accept => StatusCode::NO_CONTENT,
        HubMode::Fail => StatusCode::INTERNAL_SERVER_ERROR,
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

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_hub_is_retried_counted_and_blocks_nothing() {
    let hub = Hub::start(HubMode::Fail).await;
    let t = app_with_hub(&hub).await;
    t.site.publish("en", release_en(1, 2));
    t.poll("akorda-en").await.unwrap();
    // Three attempts (the test setting) for each of the six topics.
    let pings = hub.wait_for(18).await;
    let first = &pings[0]["hub.url"];
    assert_eq!(
        pings.iter().filter(|p| &p["hub.url"] == first).count(),
        3,
        "{pings:?}"
    );
    // Counted once the last attempt failed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = t.text("/metrics").await;
        if metrics.contains(r#"herald_websub_pings_total{result="failed"}"#) {
            assert!(metrics.contains("herald_websub_retries_total"), "{metrics}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Polls and feeds went on all along.
    t.site.publish("en", release_en(2, 3));
    let report = t.poll_reporting_known("akorda-en").await.unwrap();
    assert_eq!(report.items.len(), 2);
    assert!(t.text("/feeds/akorda-en.rss").await.contains("number 2"));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hanging_hub_blocks_neither_polls_nor_feeds() {
    let hub = Hub::start(HubMode::Hang).await;
    let t = app_with_hub(&hub).await;
    t.site.publish("en", release_en(1, 2));
    t.poll("akorda-en").await.unwrap();
    // The first ping is now held by the hub.
    hub.wait_for(1).await;
    t.site.publish("ru", release_ru(1, 3));
    let report = t.poll("akorda-ru").await.unwrap();
    assert_eq!(report.items.len(), 1);
    let feed = t.text("/feeds/all.atom").await;
    assert!(feed.contains("№ 1") && feed.contains("number 1"), "{feed}");
    t.stop().await;
}

/// Issue 25: pings pending at a stop are not lost. The hub holds the first ping; herald stops
/// with the other five still queued; started again on the same database (with a hub that
/// answers), it pings all six feeds, though its first poll finds nothing new.
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
    let pings = hub.wait_for(6).await;
    let urls: BTreeSet<String> = pings.iter().map(|p| p["hub.url"].clone()).collect();
    // The feeds' links under the public_url of the new start.
    assert_eq!(urls, topics(&t, &["akorda-en", "all"]));
    // Made once: nothing is left over for a third start.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hub.pings().len(), 6, "{:?}", hub.pings());
    assert!(t.app.shared.store.websub_pending().unwrap().is_empty());
    t.stop().await;
}
