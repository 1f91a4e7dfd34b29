//! The answers beside the feed documents (SPEC "HTTP"): `/opml` revalidates and dates itself by
//! the config it lists; `/healthz` and `/metrics` say `nosniff` too.

use crate::common;

use std::time::Duration;

use common::spawn_app;

/// `/opml` is asked again each time (`no-cache`, as `/`) and answers 304 to its ETag while the
/// list is the same. A reload that changes the list changes its tag and its `dateModified`
/// (before, `dateCreated` stayed the process's start whatever a reload added).
#[tokio::test(flavor = "multi_thread")]
async fn opml_revalidates_and_is_dated_by_its_config() {
    let t = spawn_app().await;
    for path in ["/healthz", "/metrics"] {
        let answer = t.get(path).await;
        assert_eq!(
            answer.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
    let first = t.get("/opml").await;
    assert_eq!(first.headers()["cache-control"], "no-cache");
    assert_eq!(first.headers()["x-content-type-options"], "nosniff");
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    let before = first.text().await.unwrap();
    let date = |opml: &str| {
        let (_, rest) = opml.split_once("<dateModified>").expect(opml);
        rest.split_once("</dateModified>").unwrap().0.to_owned()
    };
    let again = t.get_if_none_match("/opml", &tag).await;
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], tag.as_str());

    // A reload adds words to a title, a second later at least (RFC 2822 counts seconds).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    std::fs::write(
        &t.config_path,
        text.replace("Akorda — press releases", "Akorda — news"),
    )
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let after = loop {
        let opml = t.text("/opml").await;
        if opml.contains("Akorda — news") {
            break opml;
        }
        assert!(tokio::time::Instant::now() < deadline, "never reloaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_ne!(date(&after), date(&before), "{after}");
    assert_eq!(t.get_if_none_match("/opml", &tag).await.status(), 200);
    t.stop().await;
}

/// `OPTIONS` on every resource, and on the server (`OPTIONS *`), answers 204 with the methods
/// it takes (RFC 9110 §9.3.7); before, 405.
#[tokio::test(flavor = "multi_thread")]
async fn options_answers_which_methods_are_allowed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = spawn_app().await;
    for path in [
        "/",
        "/opml",
        "/feeds/akorda-en.rss",
        "/feeds/all.json",
        "/healthz",
    ] {
        let answer = t
            .http
            .request(reqwest::Method::OPTIONS, format!("{}{path}", t.base))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 204, "{path}");
        assert_eq!(answer.headers()["allow"], "GET, HEAD, OPTIONS", "{path}");
    }
    let address = t.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(b"OPTIONS * HTTP/1.1\r\nHost: herald\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    assert!(
        answer.to_lowercase().contains("allow: get, head, options"),
        "{answer}"
    );
    t.stop().await;
}
