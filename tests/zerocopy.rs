//! A large feed goes out with `sendfile` from its file (issue 9), byte for byte as rendered.
//! Alone in its test binary: it reads a process-wide counter (bytes sent from files), which
//! another test's feeds would move.

#[path = "it/common/mod.rs"]
mod common;

use common::site::release_en;
use common::{Setup, feedparser, spawn_app_with};
use herald::server::zerocopy;
use reqwest::header;
use sha2::{Digest, Sha256};

/// A feed of 100 items is file-backed and sent from its file, and the reader gets the very bytes
/// that were rendered: the ETag is the start of their SHA-256, taken before the body moved.
#[tokio::test(flavor = "multi_thread")]
async fn a_large_feed_goes_out_from_its_file_unchanged() {
    let t = spawn_app_with(Setup {
        extra_source_keys: "max_items = 100".into(),
        ..Setup::default()
    })
    .await;
    t.site.set_per_page(100);
    for n in 1..=100 {
        t.site.publish("en", release_en(n, 1 + (n % 28) as u32));
    }
    t.poll("akorda-en").await.unwrap();
    // No compression asked for: the plain body is the one sent from a file.
    let raw = common::raw_client();
    let url = format!("{}/feeds/akorda-en.rss", t.base);
    let before = zerocopy::sent_from_files();
    let r = raw.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let tag = r.headers()[header::ETAG].to_str().unwrap().to_owned();
    let body = r.bytes().await.unwrap();
    assert!(
        body.len() > zerocopy::MIN_FILE_BACKED,
        "{} bytes",
        body.len()
    );
    // The server counts the bytes when `sendfile` returns, which may be after the client has
    // read them (another thread): wait a moment for the count.
    let wanted = body.len() as u64;
    common::eventually(
        "the body counted as sent from its file",
        std::time::Duration::from_secs(5),
        || zerocopy::sent_from_files() - before >= wanted,
    )
    .await;
    let digest: String = Sha256::digest(&body)[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(tag, format!("\"{digest}\""), "the bytes rendered");

    let file = t.dir.path().join("served.rss");
    std::fs::write(&file, &body).unwrap();
    let parsed = tokio::task::spawn_blocking(move || feedparser(file.to_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(parsed["bozo"], 0, "{}", parsed["bozo_exception"]);
    let mut titles: Vec<&str> = parsed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    titles.sort_unstable();
    let mut expected: Vec<String> = (1..=100).map(|n| release_en(n, 1).title).collect();
    expected.sort_unstable();
    assert_eq!(titles, expected);
    t.stop().await;
}
