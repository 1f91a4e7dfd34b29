//! What an upstream answer that says nothing must not pass for: "no news". A 304 to a request
//! that named no version, and an upstream feed that listed releases and now lists none, are
//! failed polls, reported in `/healthz` like any other.

use crate::common;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use common::{Setup, TestApp, spawn_app_with};
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
