//! The resource budget (issue 19): herald, with its default limits, fed the worst input of each
//! kind at once — huge, deep and wide list pages, pages drip-fed a few bytes at a time, endless
//! bodies, gzip/brotli/deflate bombs, every encoding, hostile dates, slow article pages — while
//! clients bust the feed cache with distinct queries, park silent connections, and ask for
//! large feeds that they never read. Reports herald's peak RSS, the longest poll against its
//! deadline, `/healthz` answer times throughout, and the time from SIGTERM to exit.
//!
//!   cargo bench --bench resource_budget             (benches/run.sh budget runs it)
//!
//! Not part of `cargo test` (tests/it/resource_budget.rs asserts the functional part of each case).
//! Everything is on loopback and bounded in time (about two minutes). One figure per line,
//! `RESULT|scenario|herald|reference|ratio|target|verdict` for the table of benches/run.sh.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::stream;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

/// The poll deadline the bench configures (`poll_deadline_secs`): below the fetch timeout
/// (30 s), so that drip-fed pages meet it, and short enough for the run.
const POLL_DEADLINE_SECS: u64 = 20;
/// How long the hostile load runs before the stop.
const RUN: Duration = Duration::from_secs(75);
const CAP: usize = 10 * 1024 * 1024;

fn cards(n: usize, date: &str) -> String {
    (1..=n)
        .map(|i| {
            format!(
                "<div class=\"card\"><h5>{date}</h5><h3><a href=\"/a/{i}\">Release number {i}</a></h3><p>Lead of release {i}.</p></div>"
            )
        })
        .collect()
}

fn page(body: &str) -> String {
    format!("<html><head><meta charset=\"utf-8\"></head><body>{body}</body></html>")
}

fn compressed(coding: &str, total: usize) -> Vec<u8> {
    let chunk = "<div><b>x</b></div>".repeat(1 << 16);
    let rounds = total / chunk.len();
    match coding {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            (0..rounds).for_each(|_| e.write_all(chunk.as_bytes()).unwrap());
            e.finish().unwrap()
        }
        "deflate" => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            (0..rounds).for_each(|_| e.write_all(chunk.as_bytes()).unwrap());
            e.finish().unwrap()
        }
        _ => {
            let mut out = Vec::new();
            {
                let mut e = brotli::CompressorWriter::new(&mut out, 1 << 16, 9, 22);
                (0..rounds).for_each(|_| e.write_all(chunk.as_bytes()).unwrap());
            }
            out
        }
    }
}

fn drip(head: &'static [u8]) -> Body {
    let first = stream::once(async move { Ok::<_, std::io::Error>(Bytes::from_static(head)) });
    let rest = stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((Ok(Bytes::from_static(b"<div>")), ()))
    });
    Body::from_stream(futures_util::StreamExt::chain(first, rest))
}

fn with_type(content_type: &'static str, body: impl Into<Body>) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body.into()).into_response()
}

fn encoded(content_type: &'static str, coding: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_ENCODING, coding),
        ],
        body,
    )
        .into_response()
}

fn rss(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><link>http://x/</link><description>d</description>{items}</channel></rss>"
    )
}

fn rss_items(n: usize, date: &str) -> String {
    (1..=n)
        .map(|i| format!("<item><title>Item {i}</title><link>http://x/{i}</link><guid>g{i}</guid><pubDate>{date}</pubDate></item>"))
        .collect()
}

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(if big_endian {
            &[0xfe, 0xff]
        } else {
            &[0xff, 0xfe]
        });
    }
    for unit in text.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

/// The hostile upstream: one route per worst input. Returns its address and the source
/// blocks of the config (`id`, path, kind, extra keys).
async fn hostile_upstream() -> (
    SocketAddr,
    Vec<(&'static str, &'static str, &'static str, &'static str)>,
) {
    let flat = Bytes::from(page(&"<b>x</b>".repeat((CAP - 200) / 8)));
    let wide = {
        // Nine tenths of the cap (a card's numbers grow to 5 digits).
        let one = cards(1, "21 March 2026").len() + 12;
        Bytes::from(page(&cards(CAP * 9 / 10 / one, "21 March 2026")))
    };
    let deep = Bytes::from(format!(
        "{}{}",
        "<div>".repeat(200_000),
        page(&cards(3, "21 March 2026"))
    ));
    let gzip = Bytes::from(compressed("gzip", 256 << 20));
    let br = Bytes::from(compressed("br", 256 << 20));
    let deflate = Bytes::from(compressed("deflate", 256 << 20));
    let hostile_dates = Bytes::from(page(
        &[
            "01.01.1970",
            "1 January 0001",
            "31 December 9999",
            "0000-00-00",
            "31 February 2026",
            "99999999999 March 2026",
            "-1 March 2026",
            "1 March -44",
            "1969-12-31T23:59:59Z",
            "9999999-01-01",
        ]
        .iter()
        .enumerate()
        .map(|(i, d)| {
            format!(
                "<div class=\"card\"><h5>{d}</h5><h3><a href=\"/d/{i}\">Dated {i}</a></h3></div>"
            )
        })
        .collect::<String>(),
    ));
    let feed_dates = Bytes::from(rss(&[
        "Mon, 01 Jan 0001 00:00:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Thu, 01 Jan 1970 00:00:00 +1400",
        "not a date",
        "Wed, 31 Dec 1969 23:59:59 -1200",
    ]
    .iter()
    .enumerate()
    .map(|(i, d)| {
        format!(
            "<item><title>Dated {i}</title><link>http://x/{i}</link><pubDate>{d}</pubDate></item>"
        )
    })
    .collect::<String>()));
    let feed = rss(&rss_items(50, "Sat, 21 Mar 2026 10:00:00 GMT"));
    let html = page(&cards(20, "21 марта 2026 года"));
    let utf16be_feed = Bytes::from(utf16(
        &feed.replace("?>", " encoding=\"utf-16\"?>"),
        true,
        false,
    ));
    let utf16le_feed = Bytes::from(utf16(&feed, false, true));
    let utf16be_html = Bytes::from(utf16(&html, true, false));
    let cp1251 = Bytes::from(
        encoding_rs::WINDOWS_1251
            .encode(&html.replace("utf-8", "windows-1251"))
            .0
            .into_owned(),
    );
    let sjis = Bytes::from(
        encoding_rs::SHIFT_JIS
            .encode(&page(&cards(20, "2026年3月21日")))
            .0
            .into_owned(),
    );
    let gb18030 = Bytes::from(
        encoding_rs::GB18030
            .encode(&page(&cards(20, "2026年3月21日")))
            .0
            .into_owned(),
    );
    // Feeds of tiny entries just under the 10 MiB page cap: ~170,000 of them in RSS, ~190,000
    // in a JSON Feed, where max_page_items (1,000) are read.
    let tiny = |i: usize| format!("<item><title>T{i}</title><link>http://x/{i}</link></item>");
    let many_items_feed = Bytes::from(rss(&(1..)
        .map(tiny)
        .scan(0, |len, item| {
            *len += item.len();
            (*len < 10 * 1024 * 1024 - 200).then_some(item)
        })
        .collect::<String>()));
    let tiny_json = |i: usize| format!("{{\"id\":\"{i}\",\"url\":\"http://x/{i}\"}},");
    let json_items: String = (1..)
        .map(tiny_json)
        .scan(0, |len, item| {
            *len += item.len();
            (*len < 10 * 1024 * 1024 - 200).then_some(item)
        })
        .collect();
    let many_items_json = Bytes::from(format!(
        "{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[{}]}}",
        json_items.trim_end_matches(',')
    ));
    let invalid_utf8 = Bytes::from([html.as_bytes(), b"\xff\xfe\xc3\x28\xed\xa0\x80"].concat());
    let many_cards = Bytes::from(page(&cards(60, "21 March 2026")));

    let r = |b: &Bytes, ct: &'static str| {
        let b = b.clone();
        get(move || async move { with_type(ct, b) })
    };
    let e = |b: &Bytes, coding: &'static str| {
        let b = b.clone();
        get(move || async move { encoded("text/html", coding, b.to_vec()) })
    };
    let app = Router::new()
        .route("/ok", r(&many_cards, "text/html; charset=utf-8"))
        .route("/flat", r(&flat, "text/html; charset=utf-8"))
        .route("/wide", r(&wide, "text/html; charset=utf-8"))
        .route("/deep", r(&deep, "text/html; charset=utf-8"))
        .route(
            "/over",
            get(|| async {
                let chunk = Bytes::from(vec![b'x'; 1 << 16]);
                Response::builder()
                    .header(header::CONTENT_LENGTH, 4u64 << 30)
                    .body(Body::from_stream(stream::iter(
                        (0..64 * 1024).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
                    )))
                    .unwrap()
            }),
        )
        .route(
            "/endless",
            get(|| async {
                let chunk = Bytes::from(cards(100, "21 March 2026"));
                Response::new(Body::from_stream(stream::repeat_with(move || {
                    Ok::<_, std::io::Error>(chunk.clone())
                })))
            }),
        )
        .route(
            "/drip",
            get(|| async { Response::new(drip(b"<html><body>")) }),
        )
        .route(
            "/drip-feed",
            get(|| async {
                with_type(
                    "application/rss+xml",
                    drip(b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"),
                )
            }),
        )
        .route("/gzip", e(&gzip, "gzip"))
        .route("/br", e(&br, "br"))
        .route("/deflate", e(&deflate, "deflate"))
        .route("/dates", r(&hostile_dates, "text/html; charset=utf-8"))
        .route("/feed-dates", r(&feed_dates, "application/rss+xml"))
        .route("/utf16be-feed", r(&utf16be_feed, "application/rss+xml"))
        .route("/utf16le-feed", r(&utf16le_feed, "application/rss+xml"))
        .route("/utf16be-html", r(&utf16be_html, "text/html"))
        .route(
            "/many-items-feed",
            r(&many_items_feed, "application/rss+xml"),
        )
        .route(
            "/many-items-json",
            r(&many_items_json, "application/feed+json"),
        )
        .route("/cp1251", r(&cp1251, "text/html; charset=utf-8"))
        .route("/sjis", r(&sjis, "text/html"))
        .route("/gb18030", r(&gb18030, "text/html"))
        .route(
            "/invalid-utf8",
            r(&invalid_utf8, "text/html; charset=utf-8"),
        )
        .route("/slow-articles", r(&many_cards, "text/html; charset=utf-8"))
        // Article pages (of the slow source) come a few bytes at a time.
        .route(
            "/a/{n}",
            get(|Path(_n): Path<u32>| async {
                Response::new(drip(b"<html><body><div class=\"content-text\"><p>"))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let sources = vec![
        ("ok", "/ok", "html", "max_items = 100"),
        ("flat", "/flat", "html", ""),
        ("wide", "/wide", "html", ""),
        ("deep", "/deep", "html", ""),
        ("over", "/over", "html", ""),
        ("endless", "/endless", "html", ""),
        ("drip", "/drip", "html", ""),
        ("drip-feed", "/drip-feed", "feed", ""),
        ("gzip-bomb", "/gzip", "html", ""),
        ("br-bomb", "/br", "html", ""),
        ("deflate-bomb", "/deflate", "html", ""),
        ("dates", "/dates", "html", ""),
        ("feed-dates", "/feed-dates", "feed", ""),
        ("utf16be-feed", "/utf16be-feed", "feed", ""),
        ("utf16le-feed", "/utf16le-feed", "feed", ""),
        ("utf16be-html", "/utf16be-html", "html", ""),
        ("many-items-feed", "/many-items-feed", "feed", ""),
        ("many-items-json", "/many-items-json", "feed", ""),
        ("cp1251", "/cp1251", "html", ""),
        ("sjis", "/sjis", "html", ""),
        ("gb18030", "/gb18030", "html", ""),
        ("invalid-utf8", "/invalid-utf8", "html", ""),
        (
            "slow-articles",
            "/slow-articles",
            "html",
            "[sources.article]\nbody = \"div.content-text\"",
        ),
    ];
    (addr, sources)
}

fn config(
    dir: &std::path::Path,
    port: u16,
    upstream: SocketAddr,
    sources: &[(&str, &str, &str, &str)],
) -> std::path::PathBuf {
    let mut text = format!(
        "[general]\ndata_dir = \"data\"\npublic_url = \"http://127.0.0.1:{port}\"\n\
         [server]\nlisten = \"127.0.0.1:{port}\"\n"
    );
    for (id, path, kind, extra) in sources {
        let list = if *kind == "html" {
            "[sources.list]\nitem = \"div.card\"\ntitle = \"h3 a\"\nlink = \"h3 a@href\"\ndate = \"h5\"\nsummary = \"p\"\n"
        } else {
            ""
        };
        // The article block must follow the list block; other keys precede both.
        let (keys, article) = match extra.split_once("[sources.article]") {
            Some((keys, article)) => (keys, format!("[sources.article]{article}\n")),
            None => (*extra, String::new()),
        };
        text.push_str(&format!(
            "[[sources]]\nid = \"{id}\"\nurl = \"http://{upstream}{path}\"\nschedule = \"*/15 * * * * *\"\n\
             timezone = \"Asia/Almaty\"\nlanguage = \"en\"\nkind = \"{kind}\"\n\
             poll_deadline_secs = {POLL_DEADLINE_SECS}\n{keys}\n{list}{article}\n"
        ));
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `VmHWM` (peak) and `VmRSS` of a process, in MiB.
fn memory_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// A client that asks for `path` and never reads the answer (a small receive buffer).
async fn stalled_reader(port: u16, path: &str) -> Option<TcpStream> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.set_recv_buffer_size(4096).ok()?;
    let mut s = socket.connect(([127, 0, 0, 1], port).into()).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .ok()?;
    Some(s)
}

async fn silent(port: u16, sent: &'static [u8]) -> Option<TcpStream> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    s.write_all(sent).await.ok()?;
    Some(s)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn result(name: &str, value: String, target: &str, met: bool) {
    println!(
        "RESULT|budget: {name}|{value}|-|-|{target}|{}",
        if met { "met" } else { "NOT met" }
    );
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it, and a
    // benchmark has no place in the tests.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // Thousands of parked connections: the bench's own descriptors (herald raises its own).
    herald::server::zerocopy::raise_open_files_limit();
    let (upstream, sources) = hostile_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = config(dir.path(), port, upstream, &sources);
    let mut herald = tokio::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("run")
        .arg("-c")
        .arg(&config)
        .env_remove("TELOXIDE_TOKEN")
        .env("RUST_LOG", "warn,herald=warn")
        .stderr(std::fs::File::create(dir.path().join("herald.log")).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = herald.id().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let started = Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "herald did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "herald (pid {pid}) up; {} hostile sources, poll_deadline_secs = {POLL_DEADLINE_SECS}; running {RUN:?}",
        sources.len()
    );

    // /healthz, every 200 ms from start to stop, each on a fresh connection.
    let stopping = Arc::new(AtomicBool::new(false));
    let health = {
        let (base, stopping) = (base.clone(), stopping.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .pool_max_idle_per_host(0)
                .build()
                .unwrap();
            let mut times = Vec::new();
            let mut failures = 0;
            while !stopping.load(Ordering::Acquire) {
                let t = Instant::now();
                match client.get(format!("{base}/healthz")).send().await {
                    Ok(r) if r.status().is_success() => times.push(t.elapsed().as_secs_f64()),
                    _ => failures += 1,
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            (times, failures)
        })
    };
    // Clients: every 5 s, 100 more silent or half-spoken connections (kept), 20 readers that
    // never read a large feed, and 200 distinct cache-busting queries.
    let mut held = Vec::new();
    let mut busting = 0_u32;
    let load_until = Instant::now() + RUN;
    let mut peak_sampled: f64 = 0.0;
    while Instant::now() < load_until {
        for n in 0..100 {
            let sent: &'static [u8] = match n % 4 {
                0 => b"",
                1 => b"GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\nX-Slow: ",
                2 => b"PRI * HTTP/2.0\r\n",
                _ => b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            };
            if let Some(s) = silent(port, sent).await {
                held.push(s);
            }
        }
        for n in 0..20 {
            let path = if n % 2 == 0 {
                "/feeds/all.rss"
            } else {
                "/feeds/ok.atom"
            };
            if let Some(s) = stalled_reader(port, path).await {
                held.push(s);
            }
        }
        let mut queries = Vec::new();
        for _ in 0..200 {
            busting += 1;
            let url = match busting % 3 {
                0 => format!("{base}/feeds/all.rss?limit={}", busting % 500 + 1),
                1 => format!("{base}/feeds/all.json?include=r{busting}"),
                _ => format!(
                    "{base}/feeds/all.atom?limit={}&x={busting}",
                    busting % 100 + 1
                ),
            };
            let http = http.clone();
            queries.push(tokio::spawn(async move {
                if let Ok(r) = http
                    .get(url)
                    .header("Accept-Encoding", "gzip, br")
                    .send()
                    .await
                {
                    let _ = r.bytes().await;
                }
            }));
        }
        for q in queries {
            let _ = q.await;
        }
        peak_sampled = peak_sampled.max(memory_mib(pid).1);
        // Old parked connections the server has closed are let go.
        held.retain(|s| s.peer_addr().is_ok());
        if held.len() > 2000 {
            held.drain(..1000);
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let (peak, rss_now) = memory_mib(pid);
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let status: serde_json::Value = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // /healthz is measured while herald runs: after SIGTERM it is meant to stop answering.
    stopping.store(true, Ordering::Release);
    let (mut times, failures) = health.await.unwrap();
    // SIGTERM with everything still going (drip-fed polls, parked and stalled clients).
    let term = Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(60), herald.wait()).await;
    let stop_secs = term.elapsed().as_secs_f64();
    drop(held);

    println!("\nper source (last_error, or items):");
    for (id, ..) in &sources {
        let s = &status["sources"][id];
        let what = s["last_error"]
            .as_str()
            .map_or_else(|| format!("ok, {} items", s["items"]), str::to_owned);
        println!("  {id:<14} {}", what.chars().take(150).collect::<String>());
    }
    // The longest poll: the largest `quantile="1"` of herald_poll_duration_seconds.
    let longest = metrics
        .lines()
        .filter(|l| l.starts_with("herald_poll_duration_seconds{") && l.contains("quantile=\"1\""))
        .filter_map(|l| {
            let source = l.split("source=\"").nth(1)?.split('"').next()?.to_owned();
            Some((l.rsplit(' ').next()?.parse::<f64>().ok()?, source))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let count = |name: &str| -> f64 {
        metrics
            .lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .fold(0.0, |a, b| a + b)
    };
    let panics: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("herald_polls_total") && l.contains("result=\"panic\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, |a, b| a + b);
    println!(
        "\npolls cut at their deadline: {}, send stalls closed: {}, polls that panicked: {panics}, cache-busting requests: {busting}",
        count("herald_poll_deadlines_total"),
        count("herald_send_stalls_total"),
    );
    let worst_health = times.iter().copied().fold(0.0, f64::max);
    let median_health = median(&mut times);
    println!(
        "healthz: {} answers, {failures} failed, median {:.1} ms, worst {:.1} ms",
        times.len(),
        median_health * 1000.0,
        worst_health * 1000.0
    );
    println!(
        "RSS: peak (VmHWM) {peak:.0} MiB, sampled max {peak_sampled:.0} MiB, at the end {rss_now:.0} MiB"
    );
    println!(
        "SIGTERM to exit: {stop_secs:.2} s ({:?})",
        exit.map(|r| r.map(|s| s.code()))
    );

    result(
        "peak RSS, all hostile inputs at once",
        format!("{peak:.0} MiB"),
        "<= 200 MiB",
        peak <= 200.0,
    );
    if let Some((secs, source)) = longest {
        result(
            &format!("longest poll ({source})"),
            format!("{secs:.1} s"),
            &format!("<= deadline {POLL_DEADLINE_SECS} s"),
            secs <= POLL_DEADLINE_SECS as f64 + 1.0,
        );
    }
    result(
        "/healthz answer time, worst of the run",
        format!(
            "{:.0} ms (median {:.1} ms, {failures} failed)",
            worst_health * 1000.0,
            median_health * 1000.0
        ),
        "< 1000 ms",
        worst_health < 1.0 && failures == 0,
    );
    result(
        "SIGTERM to exit",
        format!("{stop_secs:.2} s"),
        "< 10 s",
        stop_secs < 10.0,
    );
    result(
        "polls that panicked",
        format!("{panics}"),
        "0",
        panics == 0.0,
    );
}
