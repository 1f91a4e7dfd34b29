//! Source faults (issue 8): every way a site can break, each one source of its own on a hostile
//! local server, polled through the real pipeline. Each gives a typed error and a report in
//! `/healthz`, takes bounded time and memory, and leaves every other source working.

#[path = "it/common/mod.rs"]
mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::site::release_en;
use common::{Setup, spawn_app_with};
use futures_util::stream;
use herald::fetch::FetchError;
use herald::pipeline::PollError;

/// A list page in akorda's shape with `n` releases.
fn list_page(n: usize, title_prefix: &str) -> String {
    let cards: String = (1..=n)
        .map(|i| {
            format!(
                "<div class=\"card\"><h5>{i} March 2026</h5><h3><a href=\"/en/r-{i}\">{title_prefix} {i}</a></h3></div>"
            )
        })
        .collect();
    format!("<html><head><meta charset=\"utf-8\"></head><body>{cards}</body></html>")
}

fn zeros_compressed(coding: &str, megabytes: usize) -> Vec<u8> {
    let chunk = vec![0u8; 1 << 20];
    match coding {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            for _ in 0..megabytes {
                e.write_all(&chunk).unwrap();
            }
            e.finish().unwrap()
        }
        _ => {
            let mut out = Vec::new();
            {
                let mut e = brotli::CompressorWriter::new(&mut out, 1 << 16, 9, 22);
                for _ in 0..megabytes {
                    e.write_all(&chunk).unwrap();
                }
            }
            out
        }
    }
}

/// The hostile site: one route per fault.
async fn fault_site() -> SocketAddr {
    // 64 MiB of zeros each (six times the 10 MiB cap), sent as ~64 KiB.
    let gzip_bomb = zeros_compressed("gzip", 64);
    let brotli_bomb = zeros_compressed("br", 64);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let page = list_page(3, "Release");
    let cp1251 = {
        let text =
            list_page(2, "Глава государства провёл совещание").replace("utf-8", "windows-1251");
        encoding_rs::WINDOWS_1251.encode(&text).0.into_owned()
    };
    let app = Router::new()
        .route("/ok", get(move || async move { axum::response::Html(page) }))
        .route(
            "/status/{code}",
            get(|Path(code): Path<u16>| async move {
                StatusCode::from_u16(code).unwrap().into_response()
            }),
        )
        .route(
            "/timeout",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "late"
            }),
        )
        .route(
            "/redirect-loop",
            get(|| async { redirect("/redirect-loop") }),
        )
        .route(
            "/chain/{n}",
            get(|Path(n): Path<u32>| async move {
                if n == 0 {
                    redirect("/ok")
                } else {
                    redirect(&format!("/chain/{}", n - 1))
                }
            }),
        )
        .route(
            "/other-host",
            get(move || async move { redirect(&format!("http://localhost:{}/ok", addr.port())) }),
        )
        .route(
            "/huge",
            get(|| async {
                // 2 GiB of list markup, announced up front.
                let chunk = axum::body::Bytes::from(vec![b'x'; 1 << 16]);
                let body = stream::iter((0..32 * 1024).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
                Response::builder()
                    .header(header::CONTENT_LENGTH, 2u64 << 30)
                    .body(Body::from_stream(body))
                    .unwrap()
            }),
        )
        .route(
            "/huge-chunked",
            get(|| async {
                let chunk = axum::body::Bytes::from(
                    "<div class=\"card\"><h3><a href=\"/x\">x</a></h3></div>".repeat(1000),
                );
                let body = stream::iter((0..100_000).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
                Response::new(Body::from_stream(body))
            }),
        )
        .route(
            "/slow",
            get(|| async {
                let body = stream::unfold((), |()| async {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Some((Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"<div>")), ()))
                });
                Response::new(Body::from_stream(body))
            }),
        )
        .route(
            "/gzip-bomb",
            get(move || async move {
                ([(header::CONTENT_ENCODING, "gzip"), (header::CONTENT_TYPE, "text/html")], gzip_bomb)
            }),
        )
        .route(
            "/brotli-bomb",
            get(move || async move {
                ([(header::CONTENT_ENCODING, "br"), (header::CONTENT_TYPE, "text/html")], brotli_bomb)
            }),
        )
        .route(
            "/invalid-utf8",
            get(|| async {
                let mut body = list_page(2, "Broken \u{fffd} bytes").into_bytes();
                body.extend_from_slice(b"\xff\xfe\xc3\x28 trailing");
                ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body)
            }),
        )
        .route(
            "/wrong-charset",
            get(move || async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], cp1251) }),
        )
        .route("/empty", get(|| async { "" }))
        .route(
            "/not-a-list",
            get(|| async { axum::response::Html("<html><body><h1>Welcome</h1><p>No news here.</p></body></html>") }),
        )
        .route(
            "/not-xml",
            get(|| async { ([(header::CONTENT_TYPE, "application/rss+xml")], "this is { not xml") }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_owned())]).into_response()
}

/// A listener that closes every connection as soon as it is made.
async fn resetting_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    addr
}

fn fault_source(id: &str, url: &str, kind: &str) -> String {
    let list = if kind == "html" {
        "[sources.list]\nitem = \"div.card\"\ntitle = \"h3 a\"\nlink = \"h3 a@href\"\ndate = \"h5\"\n"
    } else {
        ""
    };
    format!(
        "[[sources]]\nid = \"{id}\"\nurl = \"{url}\"\nschedule = \"0 0 0 1 1 *\"\n\
         timezone = \"Asia/Almaty\"\nlanguage = \"en\"\nkind = \"{kind}\"\nmax_pages = 1\n{list}\n"
    )
}

/// Peak resident memory of this process, in MiB.
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

#[derive(Debug)]
enum Expect {
    Timeout,
    Connect,
    Status(u16),
    TooLarge,
    Redirects,
    Extract,
    Items(usize, &'static str),
}

#[tokio::test(flavor = "multi_thread")]
async fn every_source_fault_is_typed_reported_bounded_and_isolated() {
    let site = fault_site().await;
    let reset = resetting_server().await;
    let base = format!("http://{site}");
    let cases: Vec<(&str, String, &str, Expect)> = vec![
        (
            "timeout",
            format!("{base}/timeout"),
            "html",
            Expect::Timeout,
        ),
        ("reset", format!("http://{reset}/"), "html", Expect::Connect),
        (
            "refused",
            "http://127.0.0.1:9/".to_owned(),
            "html",
            Expect::Connect,
        ),
        (
            "not-found",
            format!("{base}/status/404"),
            "html",
            Expect::Status(404),
        ),
        (
            "forbidden",
            format!("{base}/status/403"),
            "html",
            Expect::Status(403),
        ),
        (
            "server-error",
            format!("{base}/status/503"),
            "html",
            Expect::Status(503),
        ),
        (
            "redirect-loop",
            format!("{base}/redirect-loop"),
            "html",
            Expect::Redirects,
        ),
        (
            "long-chain",
            format!("{base}/chain/20"),
            "html",
            Expect::Redirects,
        ),
        (
            "short-chain",
            format!("{base}/chain/3"),
            "html",
            Expect::Items(3, "Release"),
        ),
        (
            "other-host",
            format!("{base}/other-host"),
            "html",
            Expect::Items(3, "Release"),
        ),
        ("huge", format!("{base}/huge"), "html", Expect::TooLarge),
        (
            "huge-chunked",
            format!("{base}/huge-chunked"),
            "html",
            Expect::TooLarge,
        ),
        ("slow", format!("{base}/slow"), "html", Expect::Timeout),
        (
            "gzip-bomb",
            format!("{base}/gzip-bomb"),
            "html",
            Expect::TooLarge,
        ),
        (
            "brotli-bomb",
            format!("{base}/brotli-bomb"),
            "html",
            Expect::TooLarge,
        ),
        (
            "invalid-utf8",
            format!("{base}/invalid-utf8"),
            "html",
            Expect::Items(2, "Broken"),
        ),
        (
            "wrong-charset",
            format!("{base}/wrong-charset"),
            "html",
            Expect::Items(2, "Глава государства"),
        ),
        ("empty", format!("{base}/empty"), "html", Expect::Extract),
        (
            "not-a-list",
            format!("{base}/not-a-list"),
            "html",
            Expect::Extract,
        ),
        (
            "not-xml",
            format!("{base}/not-xml"),
            "feed",
            Expect::Extract,
        ),
    ];
    let extra: String = cases
        .iter()
        .map(|(id, url, kind, _)| fault_source(id, url, kind))
        .collect();
    let t = spawn_app_with(Setup {
        extra_config: extra,
        ..Setup::default()
    })
    .await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();

    let mut table = Vec::new();
    for (id, _, _, expect) in &cases {
        let started = Instant::now();
        let result = t.poll(id).await;
        let took = started.elapsed();
        // The test client's timeout is 2 s: nothing may take much longer, whatever the site does.
        assert!(took < Duration::from_secs(6), "{id} took {took:?}");
        let fetch_error = |r: &Result<_, PollError>| match r {
            Err(PollError::Fetch { source, .. }) => Some(source.to_string()),
            _ => None,
        };
        let ok = match (expect, &result) {
            (
                Expect::Timeout,
                Err(PollError::Fetch {
                    source: FetchError::Timeout,
                    ..
                }),
            ) => true,
            (
                Expect::Connect,
                Err(PollError::Fetch {
                    source: FetchError::Connect(_),
                    ..
                }),
            ) => true,
            (
                Expect::Status(want),
                Err(PollError::Fetch {
                    source: FetchError::Status(got),
                    ..
                }),
            ) => want == got,
            (
                Expect::TooLarge,
                Err(PollError::Fetch {
                    source: FetchError::TooLarge(_),
                    ..
                }),
            ) => true,
            (
                Expect::Redirects,
                Err(PollError::Fetch {
                    source: FetchError::Redirects,
                    ..
                }),
            ) => true,
            (Expect::Extract, Err(PollError::Extract { .. })) => true,
            (Expect::Items(n, title), Ok(report)) => {
                let items = t.app.shared.store.recent(id, 10).unwrap();
                report.items.len() == *n
                    && items.len() == *n
                    && items.iter().all(|i| i.title.contains(title))
            }
            _ => false,
        };
        assert!(ok, "{id}: expected {expect:?}, got {result:?}");
        table.push(format!(
            "{id:<14} {:>6} ms  {}",
            took.as_millis(),
            fetch_error(&result)
                .or_else(|| result.as_ref().err().map(|e| e.to_string()))
                .unwrap_or_else(|| "ok".into())
        ));
    }
    println!("{}", table.join("\n"));
    // The caps hold: 2 GiB bodies and the bombs never sit in memory.
    let peak = peak_rss_mib();
    println!("peak RSS of the test process: {peak} MiB");
    assert!(peak < 400, "peak RSS {peak} MiB");

    // Reported per source; the healthy source and its feed are untouched.
    let health = t.health().await;
    assert_eq!(health["status"], "degraded");
    for (id, _, _, expect) in &cases {
        let s = &health["sources"][id];
        let failed = !matches!(expect, Expect::Items(..));
        assert_eq!(s["ok"], !failed, "{id}: {s}");
        if failed {
            assert_eq!(s["consecutive_failures"], 1, "{id}: {s}");
            assert!(
                s["last_error"].as_str().is_some_and(|e| !e.is_empty()),
                "{id}: {s}"
            );
        }
    }
    assert_eq!(health["sources"]["akorda-en"]["ok"], true);
    t.site.publish("en", release_en(2, 2));
    let report = t.poll_reporting_known("akorda-en").await.unwrap();
    assert_eq!(report.items.len(), 2);
    let feed = t.text("/feeds/akorda-en.rss").await;
    assert_eq!(feed.matches("<item>").count(), 2);
    t.stop().await;
}

/// SSRF: addresses taken from a page reach only the public internet, checked before connecting
/// (scheme, IP literals), after DNS resolution (names), and on every redirect (same check).
#[tokio::test]
async fn addresses_from_pages_never_reach_the_hosts_own_network() {
    use herald::fetch::{Fetched, Fetcher, FetcherOptions, Reach, Request};
    let site = fault_site().await;
    let fetcher = Fetcher::new(FetcherOptions {
        timeout: Duration::from_secs(2),
        ..FetcherOptions::default()
    })
    .unwrap();
    let req = Request {
        user_agent: "herald-test",
        ..Request::default()
    };
    for url in [
        format!("http://{site}/ok"),
        format!("http://localhost:{}/ok", site.port()),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[::1]/".to_owned(),
        "http://2130706433/".to_owned(),
        "file:///etc/passwd".to_owned(),
        "ftp://example.org/".to_owned(),
    ] {
        let parsed = url::Url::parse(&url).unwrap();
        let result = fetcher.get_within(&parsed, &req, Reach::Public).await;
        assert!(
            matches!(result, Err(FetchError::NotAllowed(_))),
            "{url}: {result:?}"
        );
    }
    // The admin's own addresses (and a source on a private network's pages) go anywhere.
    let own = url::Url::parse(&format!("http://localhost:{}/ok", site.port())).unwrap();
    assert!(matches!(
        fetcher.get_within(&own, &req, Reach::Any).await,
        Ok(Fetched::Page(_))
    ));
    assert!(herald::fetch::host_is_private(&own).await);
    assert!(
        !herald::fetch::host_is_private(&url::Url::parse("http://93.184.216.34/").unwrap()).await
    );
}
