//! The feed cache and HTTP caching (issue 6): a feed is rendered once per change of its source,
//! answers HEAD, compresses with gzip or brotli when asked (each coding its own strong ETag),
//! and says how long it stays fresh from the source's schedule. Alone in its test binary: it
//! reads a process-wide counter (renders, from `/metrics`).

#[path = "it/common/mod.rs"]
mod common;

use std::io::Read;

use common::site::{release_en, release_kz};
use common::{Setup, spawn_app_with};
use reqwest::header;

/// `herald_feed_renders_total` summed over formats.
async fn renders(t: &common::TestApp) -> u64 {
    t.text("/metrics")
        .await
        .lines()
        .filter(|l| l.starts_with("herald_feed_renders_total"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap() as u64)
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn feeds_render_once_per_change_and_speak_http_caching() {
    let t = spawn_app_with(Setup {
        // Every 20 minutes: `max-age` is the interval.
        schedule: "0 */20 * * * *".into(),
        ..Setup::default()
    })
    .await;
    t.site.publish("en", release_en(1, 1));
    t.site.publish("kz", release_kz(1, 2));
    t.poll("akorda-en").await.unwrap();
    t.poll("akorda-kz").await.unwrap();
    // A client that does not decompress, to see the codings as sent.
    let raw = common::raw_client();
    let url = format!("{}/feeds/akorda-en.rss", t.base);
    let plain = raw.get(&url).send().await.unwrap();
    let h = plain.headers().clone();
    assert_eq!(h[header::CACHE_CONTROL], "public, max-age=1200");
    assert_eq!(h[header::VARY], "accept-encoding");
    assert!(h.get(header::CONTENT_ENCODING).is_none());
    let tag = h[header::ETAG].to_str().unwrap().to_owned();
    assert!(tag.starts_with('"'), "a strong validator: {tag}");
    let body = plain.bytes().await.unwrap();

    // HEAD: the same headers, no body.
    let head = raw.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()[header::ETAG], tag.as_str());
    assert_eq!(
        head.headers()[header::CONTENT_TYPE],
        "application/rss+xml; charset=utf-8"
    );
    assert!(head.bytes().await.unwrap().is_empty());

    // gzip and brotli: the same document, a tag of its own per coding.
    for (accept, coding) in [("gzip", "gzip"), ("br;q=1, gzip;q=0.5", "br")] {
        let r = raw
            .get(&url)
            .header(header::ACCEPT_ENCODING, accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()[header::CONTENT_ENCODING], coding);
        let coded_tag = r.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert_ne!(coded_tag, tag, "{coding}");
        let packed = r.bytes().await.unwrap();
        assert!(packed.len() < body.len(), "{coding}");
        let mut unpacked = Vec::new();
        match coding {
            "gzip" => flate2::read::GzDecoder::new(&packed[..])
                .read_to_end(&mut unpacked)
                .unwrap(),
            _ => brotli::Decompressor::new(&packed[..], 4096)
                .read_to_end(&mut unpacked)
                .unwrap(),
        };
        assert_eq!(unpacked, body, "{coding}");
        // A tag revalidates the representation it names only (RFC 9111 §4.3.2): asked in the
        // same coding, 304; asked without compression, the plain body.
        let again = raw
            .get(&url)
            .header(header::ACCEPT_ENCODING, accept)
            .header(header::IF_NONE_MATCH, &coded_tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
        assert_eq!(again.headers()[header::ETAG], coded_tag.as_str());
        let plain = raw
            .get(&url)
            .header(header::IF_NONE_MATCH, &coded_tag)
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), 200);
        assert_eq!(plain.headers()[header::ETAG], tag.as_str());
    }

    // Rendering happens once per change of the source, not per request.
    for path in [
        "/feeds/akorda-en.rss",
        "/feeds/akorda-kz.rss",
        "/feeds/all.rss",
    ] {
        t.text(path).await;
    }
    // The plain body's tag, asked without compression (as `raw` asks).
    let revalidate = |tag: String| {
        let ask = raw.get(&url).header(header::IF_NONE_MATCH, tag).send();
        async move { ask.await.unwrap() }
    };
    let before = renders(&t).await;
    for _ in 0..5 {
        t.text("/feeds/akorda-en.rss").await;
        t.text("/feeds/all.rss").await;
        let r = revalidate(tag.clone()).await;
        assert_eq!(r.status(), 304);
    }
    assert_eq!(renders(&t).await, before, "served from the cache");
    // A change of akorda-kz re-renders its feed and `all`, and leaves akorda-en's cached.
    t.site.publish("kz", release_kz(2, 3));
    t.poll("akorda-kz").await.unwrap();
    let r = revalidate(tag.clone()).await;
    assert_eq!(r.status(), 304, "akorda-en did not change");
    assert_eq!(renders(&t).await, before);
    t.text("/feeds/akorda-kz.rss").await;
    t.text("/feeds/all.rss").await;
    assert_eq!(renders(&t).await, before + 2);
    t.stop().await;
}

/// The index page and OPML are compressed per request when asked, and carry the page's
/// security headers.
#[tokio::test(flavor = "multi_thread")]
async fn index_page_has_security_headers_and_compresses() {
    let t = spawn_app_with(Setup::default()).await;
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let r = raw
        .get(format!("{}/", t.base))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    let h = r.headers();
    assert_eq!(h[header::CONTENT_ENCODING], "gzip");
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"));
    let mut page = String::new();
    flate2::read::GzDecoder::new(&r.bytes().await.unwrap()[..])
        .read_to_string(&mut page)
        .unwrap();
    assert!(page.contains("<link rel=\"alternate\""));
    t.stop().await;
}
