//! What an upstream answer that says nothing must not pass for: "no news". A 304 to a request
//! that named no version, and an upstream feed that listed releases and now lists none, are
//! failed polls, reported in `/healthz` like any other.

use crate::common;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use common::{Setup, TestApp, spawn_app_with};
use herald::model::ItemState;
use std::sync::{Arc, Mutex};

/// What the fake upstream answers on every path: a status and an RSS body.
type Answer = Arc<Mutex<(StatusCode, String)>>;

/// A local server giving `answer` to every request, whatever its headers.
async fn upstream(answer: Answer) -> String {
    async fn serve(State(answer): State<Answer>) -> impl IntoResponse {
        let (status, body) = answer.lock().unwrap().clone();
        (
            status,
            [(header::CONTENT_TYPE, "application/rss+xml")],
            body,
        )
    }
    let app = Router::new().fallback(serve).with_state(answer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/feed", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// An app whose one source `up` is the upstream feed at `url`.
async fn app_reading(url: &str) -> TestApp {
    spawn_app_with(Setup {
        extra_config: format!(
            "[[sources]]\nid = \"up\"\nurl = \"{url}\"\nschedule = \"0 0 0 1 1 *\"\nkind = \"feed\"\n\n"
        ),
        ..Setup::default()
    })
    .await
}

fn rss(entries: &[&str]) -> String {
    let items: String = entries
        .iter()
        .map(|t| format!("<item><title>{t}</title><link>https://ex.org/{t}</link></item>\n"))
        .collect();
    format!(
        "<rss version=\"2.0\"><channel><title>T</title><link>https://ex.org/</link>\n{items}</channel></rss>"
    )
}

/// The source's entry in `/healthz`.
async fn health_of(t: &TestApp) -> serde_json::Value {
    t.health().await["sources"]["up"].clone()
}

/// The red team (F3): a server (a CDN) answering 304 to everything made the source
/// "unchanged" for ever: ok, no release, a fresh last success, never stale, never told. A 304
/// to a request that sent no validators is a failed fetch now.
#[tokio::test]
async fn a_304_to_a_request_without_validators_is_a_failed_poll() {
    let answer = Answer::new(Mutex::new((StatusCode::NOT_MODIFIED, String::new())));
    let t = app_reading(&upstream(answer).await).await;
    for _ in 0..2 {
        let e = t.poll("up").await.expect_err("a 304 to a plain GET");
        assert!(e.to_string().contains("304 Not Modified"), "{e}");
    }
    let h = health_of(&t).await;
    assert_eq!(h["ok"], false, "{h}");
    assert_eq!(h["consecutive_failures"], 2, "{h}");
    assert!(h["last_success"].is_null(), "{h}");
    t.stop().await;
}

/// The red team (F4): an upstream feed that had listed releases and began to serve a valid
/// feed with no entry was polled "ok", no new release, no alert; a list page that empties is a
/// fault at once. Now the emptied feed is a failed poll, and a feed with entries again works
/// again.
#[tokio::test]
async fn a_feed_that_lists_nothing_after_it_listed_releases_is_a_failed_poll() {
    let answer = Answer::new(Mutex::new((StatusCode::OK, rss(&["one", "two"]))));
    let t = app_reading(&upstream(answer.clone()).await).await;
    assert_eq!(t.poll("up").await.unwrap().count(ItemState::New), 2);
    answer.lock().unwrap().1 = rss(&[]);
    let e = t.poll("up").await.expect_err("an emptied feed");
    assert!(
        e.to_string()
            .contains("the feed lists no entries now, though earlier polls read 2 releases"),
        "{e}"
    );
    let h = health_of(&t).await;
    assert_eq!(h["ok"], false, "{h}");
    assert_eq!(h["items"], 2, "the releases stay: {h}");
    answer.lock().unwrap().1 = rss(&["three", "two", "one"]);
    assert_eq!(t.poll("up").await.unwrap().count(ItemState::New), 1);
    assert_eq!(health_of(&t).await["ok"], true);
    t.stop().await;
}

/// A feed empty from its first poll is a new feed, not a fault: it polls ok until it lists
/// something.
#[tokio::test]
async fn a_feed_empty_from_its_first_poll_is_no_fault() {
    let answer = Answer::new(Mutex::new((StatusCode::OK, rss(&[]))));
    let t = app_reading(&upstream(answer.clone()).await).await;
    for _ in 0..2 {
        let report = t.poll("up").await.expect("an empty new feed");
        assert_eq!(report.count(ItemState::New), 0);
    }
    assert_eq!(health_of(&t).await["ok"], true);
    answer.lock().unwrap().1 = rss(&["one"]);
    assert_eq!(t.poll("up").await.unwrap().count(ItemState::New), 1);
    t.stop().await;
}
