//! The feed cache is bounded by bytes (issue 19): a flood of distinct `?limit=` requests keeps
//! the filtered documents (with their compressed forms) within `[server] feed_cache_mb`, the
//! least recently used going first, and answers stay right. Alone in its test binary: it reads
//! a process-wide gauge (`herald_feed_cache_bytes`, from `/metrics`).

#[path = "it/common/mod.rs"]
mod common;

use common::site::release_en;
use common::{Setup, spawn_app_with};
use reqwest::header;

const BUDGET: f64 = 1024.0 * 1024.0;

/// `herald_feed_cache_bytes` of `pool`.
async fn cache_bytes(t: &common::TestApp, pool: &str) -> f64 {
    let prefix = format!("herald_feed_cache_bytes{{pool=\"{pool}\"}} ");
    let text = t.text("/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix}in {text}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn filtered_feeds_stay_within_the_byte_budget() {
    let t = spawn_app_with(Setup {
        server_keys: "feed_cache_mb = 1".into(),
        extra_source_keys: "max_items = 100".into(),
        ..Setup::default()
    })
    .await;
    t.site.set_per_page(100);
    for n in 1..=100 {
        t.site.publish("en", release_en(n, 1 + (n % 28) as u32));
    }
    t.poll("akorda-en").await.unwrap();
    let raw = common::raw_client();
    let get = |query: String, coding: Option<&'static str>| {
        let request = raw.get(format!("{}/feeds/akorda-en.rss{query}", t.base));
        let request = match coding {
            Some(coding) => request.header(header::ACCEPT_ENCODING, coding),
            None => request,
        };
        async move {
            let r = request.send().await.unwrap();
            assert_eq!(r.status(), 200, "{query}");
            let tag = r.headers()[header::ETAG].to_str().unwrap().to_owned();
            (tag, r.bytes().await.unwrap())
        }
    };
    let (plain_tag, plain) = get(String::new(), None).await;
    assert!(plain.len() > 40_000, "{} bytes", plain.len());

    // Each variant is 0.5 to 50 KB, twice that with its gzip form: far more than 1 MiB in all.
    let mut tags = Vec::new();
    for n in 1..=100 {
        let (tag, body) = get(format!("?limit={n}"), None).await;
        let items = String::from_utf8_lossy(&body).matches("<item>").count();
        assert_eq!(items, n, "?limit={n}");
        if n % 2 == 0 {
            get(format!("?limit={n}"), Some("gzip")).await;
        }
        tags.push(tag);
        if n % 10 == 0 {
            let filtered = cache_bytes(&t, "filtered").await;
            assert!(filtered <= BUDGET, "{filtered} bytes after {n} variants");
        }
    }
    let filtered = cache_bytes(&t, "filtered").await;
    assert!(
        filtered > BUDGET / 2.0,
        "the cache is used: {filtered} bytes"
    );
    assert!(cache_bytes(&t, "plain").await >= plain.len() as f64);

    // Answers stay right: a variant pushed out long ago is rendered again alike, a kept one
    // is served again, both revalidate, and the plain feed was never pushed out.
    for n in [1, 100] {
        let (tag, _) = get(format!("?limit={n}"), None).await;
        assert_eq!(tag, tags[n - 1], "?limit={n}");
        let again = raw
            .get(format!("{}/feeds/akorda-en.rss?limit={n}", t.base))
            .header(header::IF_NONE_MATCH, &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "?limit={n}");
    }
    assert_eq!(get(String::new(), None).await, (plain_tag, plain));
    t.stop().await;
}
