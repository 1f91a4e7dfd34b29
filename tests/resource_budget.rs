//! The functional half of the resource budget (issue 19; the costs are measured by
//! `benches/resource_budget.sh`): for each worst input, nothing panics, the failure is reported
//! (`/healthz` `last_error`, `/metrics`), and the next poll and request work. Sizes are small so
//! that this stays fast; the deadlines are the configured ones, set low.
//!
//! Alone in its test binary: a child's peak memory as `wait4` reports it starts from the
//! memory of the process that started it (the kernel carries the parent's high-water mark
//! through the exec), so the starter must stay small.

#[path = "it/common/mod.rs"]
mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::site::Release;
use common::{Setup, TestApp, spawn_app_with};
use futures_util::stream;
use herald::pipeline::PollError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// How the hostile site's list page answers.
const NORMAL: u8 = 0;
/// Drip-feeds the page, a few bytes every 50 ms, for ever.
const DRIP: u8 = 1;
/// A body that never ends, as fast as the socket takes it.
const ENDLESS: u8 = 2;
/// 16 MiB of markup (past the 10 MiB cap) squeezed into a zlib stream (`Content-Encoding: deflate`).
const DEFLATE_BOMB: u8 = 3;
/// The three cards after 100,000 empty elements: past the elements a list page's tree holds.
const CARDS_PAST_THE_ELEMENTS_READ: u8 = 4;
/// The three cards, then 3 MiB of text: a large page (over 1 MiB).
const LARGE: u8 = 5;

fn list_page(n: usize) -> String {
    let cards: String = (1..=n)
        .map(|i| {
            format!(
                "<div class=\"card\"><h5>{i} March 2026</h5><h3><a href=\"/a/{i}\">Release {i}</a></h3></div>"
            )
        })
        .collect();
    format!("<html><head><meta charset=\"utf-8\"></head><body>{cards}</body></html>")
}

fn deflate_bomb() -> Vec<u8> {
    let chunk = "<div><b>x</b></div>".repeat(1 << 16);
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..(16 << 20) / chunk.len() {
        e.write_all(chunk.as_bytes()).unwrap();
    }
    e.finish().unwrap()
}

fn drip() -> Body {
    let head = stream::once(async { Ok::<_, std::io::Error>(Bytes::from_static(b"<html><body>")) });
    let rest = stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Some((Ok(Bytes::from_static(b"<div>")), ()))
    });
    Body::from_stream(futures_util::StreamExt::chain(head, rest))
}

/// A site whose list page (`/list`) answers as `mode` says, and whose article pages (`/a/N`)
/// drip-feed their bytes for ever.
async fn hostile_site(mode: Arc<AtomicU8>) -> SocketAddr {
    let bomb = Bytes::from(deflate_bomb());
    let list = move |State(mode): State<Arc<AtomicU8>>| {
        let bomb = bomb.clone();
        async move {
            match mode.load(Ordering::Acquire) {
                DRIP => Response::new(drip()),
                ENDLESS => {
                    let chunk = Bytes::from("<p>".repeat(1 << 14));
                    Response::new(Body::from_stream(stream::repeat_with(move || {
                        Ok::<_, std::io::Error>(chunk.clone())
                    })))
                }
                DEFLATE_BOMB => (
                    [
                        (header::CONTENT_ENCODING, "deflate"),
                        (header::CONTENT_TYPE, "text/html"),
                    ],
                    bomb,
                )
                    .into_response(),
                CARDS_PAST_THE_ELEMENTS_READ => axum::response::Html(
                    list_page(3).replace("<body>", &format!("<body>{}", "<i></i>".repeat(100_000))),
                )
                .into_response(),
                LARGE => axum::response::Html(list_page(3).replace(
                    "</body>",
                    &format!("<p>{}</p></body>", "words ".repeat(512 * 1024)),
                ))
                .into_response(),
                _ => axum::response::Html(list_page(3)).into_response(),
            }
        }
    };
    let app = Router::new()
        .route("/list", get(list))
        .route(
            "/a/{n}",
            get(|Path(_n): Path<u32>| async { Response::new(drip()) }),
        )
        .with_state(mode);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// An app with one more source, `id`, reading the hostile site's list page (and its
/// article pages when `articles`), with a poll deadline of `deadline_secs` (the tests' fetch
/// timeout is 2 s). Tests of other bounds than the deadline give it room: a debug build on a
/// busy machine reads a page of 100,000 elements in about a second.
async fn app_with_hostile_source(
    site: SocketAddr,
    id: &str,
    articles: bool,
    deadline_secs: u64,
) -> TestApp {
    let article = if articles {
        "[sources.article]\nbody = \"p\"\n"
    } else {
        ""
    };
    let extra = format!(
        "[[sources]]\nid = \"{id}\"\nurl = \"http://{site}/list\"\nschedule = \"0 0 0 1 1 *\"\n\
         timezone = \"UTC\"\nlanguage = \"en\"\nmax_pages = 1\npoll_deadline_secs = {deadline_secs}\n\
         [sources.list]\nitem = \"div.card\"\ntitle = \"h3 a\"\nlink = \"h3 a@href\"\ndate = \"h5\"\n\
         {article}\n"
    );
    spawn_app_with(Setup {
        extra_config: extra,
        ..Setup::default()
    })
    .await
}

async fn health_of(t: &TestApp, id: &str) -> serde_json::Value {
    let health = t.health().await;
    health["sources"][id].clone()
}

/// A site that drip-feeds its list page is cut at the poll's deadline (before the fetch's own
/// timeout), the failure is reported with the deadline's key, and the next poll works.
#[tokio::test(flavor = "multi_thread")]
async fn a_poll_past_its_deadline_is_cut_reported_and_the_next_one_works() {
    let mode = Arc::new(AtomicU8::new(DRIP));
    let t = app_with_hostile_source(hostile_site(mode.clone()).await, "drip", false, 1).await;
    let started = Instant::now();
    let result = t.poll("drip").await;
    let took = started.elapsed();
    assert!(
        matches!(result, Err(PollError::Deadline { secs: 1, .. })),
        "{result:?} after {took:?}"
    );
    let source = health_of(&t, "drip").await;
    assert_eq!(source["ok"], false, "{source}");
    assert_eq!(source["consecutive_failures"], 1, "{source}");
    let error = source["last_error"].as_str().unwrap();
    assert!(
        error.contains("deadline") && error.contains("poll_deadline_secs"),
        "{error}"
    );
    let metrics = t.text("/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("herald_poll_deadlines_total{source=\"drip\"} 1")),
        "{metrics}"
    );
    // Healthy sources and the server are untouched; the same source recovers.
    assert_eq!(t.get("/feeds/all.rss").await.status(), 200);
    mode.store(NORMAL, Ordering::Release);
    let report = t.poll("drip").await.unwrap();
    assert_eq!(report.items.len(), 3);
    assert_eq!(health_of(&t, "drip").await["ok"], true);
    t.stop().await;
}

/// Article pages that drip-feed their bytes cannot hold a poll past its deadline: the ones not
/// read by then are skipped, the releases are stored with their list data, and the skip is
/// counted.
#[tokio::test(flavor = "multi_thread")]
async fn slow_article_pages_cannot_hold_a_poll_past_its_deadline() {
    let mode = Arc::new(AtomicU8::new(NORMAL));
    let t = app_with_hostile_source(hostile_site(mode).await, "slow-articles", true, 1).await;
    let started = Instant::now();
    let report = t.poll("slow-articles").await.unwrap();
    let took = started.elapsed();
    // Without the deadline: three article fetches cut at 2 s each.
    assert!(took < Duration::from_millis(4500), "took {took:?}");
    assert_eq!(report.items.len(), 3);
    assert_eq!(t.app.shared.store.count("slow-articles").unwrap(), 3);
    let metrics = t.text("/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("herald_poll_deadlines_total{source=\"slow-articles\"} 1")),
        "{metrics}"
    );
    t.stop().await;
}

/// An endless body and a deflate bomb fail at the 10 MiB cap (counted after decompression),
/// reported, and the next poll works.
#[tokio::test(flavor = "multi_thread")]
async fn endless_bodies_and_deflate_bombs_stop_at_the_page_cap() {
    let mode = Arc::new(AtomicU8::new(ENDLESS));
    let t = app_with_hostile_source(hostile_site(mode.clone()).await, "bodies", false, 30).await;
    for (what, m) in [("endless", ENDLESS), ("deflate bomb", DEFLATE_BOMB)] {
        mode.store(m, Ordering::Release);
        let result = t.poll("bodies").await;
        let error = result.as_ref().map(|_| ()).unwrap_err().to_string();
        assert!(
            error.contains("larger than 10485760 bytes"),
            "{what}: {error}"
        );
        let source = health_of(&t, "bodies").await;
        assert_eq!(source["last_error"], error.as_str(), "{what}");
    }
    mode.store(NORMAL, Ordering::Release);
    assert_eq!(t.poll("bodies").await.unwrap().items.len(), 3);
    t.stop().await;
}

/// A list page's tree holds its first 100,000 elements (a tree costs a few hundred bytes per
/// element): cards past them are not read, and the poll says the selector matched nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_list_page_is_read_up_to_its_element_bound() {
    let mode = Arc::new(AtomicU8::new(CARDS_PAST_THE_ELEMENTS_READ));
    let t = app_with_hostile_source(hostile_site(mode.clone()).await, "elements", false, 30).await;
    let error = t
        .poll("elements")
        .await
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(error.contains("matched nothing"), "{error}");
    mode.store(NORMAL, Ordering::Release);
    assert_eq!(t.poll("elements").await.unwrap().items.len(), 3);
    t.stop().await;
}

/// Large pages wait for one of the process's few slots (memory stays bounded), but every one
/// of them is read: slots are freed when a page is parsed, never held while waiting for another.
#[tokio::test(flavor = "multi_thread")]
async fn many_large_pages_at_once_are_all_read() {
    let mode = Arc::new(AtomicU8::new(LARGE));
    let site = hostile_site(mode).await;
    let extra: String = (0..5)
        .map(|n| {
            format!(
                "[[sources]]\nid = \"large{n}\"\nurl = \"http://{site}/list?n={n}\"\nschedule = \"0 0 0 1 1 *\"\n\
                 timezone = \"UTC\"\nlanguage = \"en\"\nmax_pages = 1\n\
                 [sources.list]\nitem = \"div.card\"\ntitle = \"h3 a\"\nlink = \"h3 a@href\"\ndate = \"h5\"\n"
            )
        })
        .collect();
    let t = spawn_app_with(Setup {
        extra_config: extra,
        ..Setup::default()
    })
    .await;
    let ids: Vec<String> = (0..5).map(|n| format!("large{n}")).collect();
    let polls = ids.iter().map(|id| t.poll(id));
    for result in futures_util::future::join_all(polls).await {
        assert_eq!(result.unwrap().items.len(), 3);
    }
    t.stop().await;
}

/// Words that compress poorly (a linear congruential generator's letters): gzip keeps most of
/// their size, so that a gzip answer too is larger than what the kernel's buffers take.
fn noise(seed: u64, len: usize) -> String {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = String::with_capacity(len + 8);
    while out.len() < len {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        for k in 0..6 {
            out.push(char::from(b'a' + ((x >> (16 + 5 * k)) % 26) as u8));
        }
        out.push(' ');
    }
    out
}

/// A release with a lead long enough that 100 of them make a feed of about 3 MB, more than a
/// loopback socket's buffers hold.
fn long_release(n: u64) -> Release {
    Release {
        id: 100_000 + n,
        slug: format!("president-meets-delegation-{n}"),
        title: format!("Head of State receives delegation number {n}"),
        date: format!("{} March 2026", 1 + n % 28),
        summary: format!(
            "The President discussed cooperation, part {n}. {}",
            noise(n, 30_000)
        ),
        image: None,
        body: None,
    }
}

/// An app whose `akorda-en` feed holds 100 long releases, with a send stall deadline of 1 s
/// and idle deadlines far longer (so that only the send deadline can close a connection).
async fn app_with_a_large_feed() -> TestApp {
    let t = spawn_app_with(Setup {
        extra_source_keys: "max_items = 100".into(),
        server_keys: "send_stall_secs = 1\nidle_secs = 120\nfirst_request_secs = 120".into(),
        ..Setup::default()
    })
    .await;
    t.site.set_per_page(100);
    for n in 1..=100 {
        t.site.publish("en", long_release(n));
    }
    t.poll("akorda-en").await.unwrap();
    t
}

/// A connection whose client takes (almost) nothing: its receive buffer is small, so the
/// server's writes soon find no room.
async fn stingy_connection(base: &str) -> TcpStream {
    let addr: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(addr).await.unwrap()
}

/// Whether the server closed `s` while its client read nothing of the answer: reads nothing for
/// 3 s (three send deadlines), then takes what is left as fast as it comes, and sees the end
/// of the connection within 5 s (an open connection would send the answer whole and wait).
async fn closed_while_stalling(s: &mut TcpStream) -> bool {
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut buf = vec![0u8; 64 * 1024];
    tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(1..) = s.read(&mut buf).await {}
    })
    .await
    .is_ok()
}

/// A client that asks for a large feed and does not read it is closed at the send stall
/// deadline: over HTTP/1 (the feed sent with `sendfile`), and over HTTP/2 with a shut
/// flow-control window. A client that reads slowly but
/// steadily gets the whole feed; `/healthz` answers throughout.
#[tokio::test(flavor = "multi_thread")]
async fn clients_that_do_not_read_their_answer_are_closed_at_the_send_deadline() {
    let t = app_with_a_large_feed().await;
    let plain = common::raw_client();
    let feed = format!("{}/feeds/akorda-en.rss", t.base);
    let size = plain
        .get(&feed)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    assert!(size > 2_500_000, "{size} bytes");
    let mut stalled = Vec::new();
    // The plain feed is file-backed: it goes out with `sendfile`. (A compressed form, from the
    // heap, passes through the same watched socket, but the kernel's buffers take a whole
    // one of a size a test can afford.)
    let mut s = stingy_connection(&t.base).await;
    s.write_all(b"GET /feeds/akorda-en.rss HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    stalled.push(("HTTP/1, sendfile", s));
    stalled.push((
        "HTTP/2, window shut",
        http2_request_with_no_window(&t.base).await,
    ));
    let mut waiting = Vec::new();
    for (what, mut s) in stalled {
        waiting.push(tokio::spawn(async move {
            (what, closed_while_stalling(&mut s).await)
        }));
    }
    // A slow but steady reader is not cut off: 64 KiB every 100 ms, the answer whole.
    let steady = {
        let addr: SocketAddr = t.base.trim_start_matches("http://").parse().unwrap();
        tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(
                b"GET /feeds/akorda-en.rss HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .await
            .unwrap();
            let mut got = Vec::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return got,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
        })
    };
    for _ in 0..5 {
        assert_eq!(t.get("/healthz").await.status(), 200);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for task in waiting {
        let (what, closed) = task.await.unwrap();
        assert!(closed, "{what}: still open");
    }
    let got = steady.await.unwrap();
    let head_end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(got.len() - head_end, size, "the steady reader's body");
    let metrics = t.text("/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("herald_send_stalls_total ") && !l.ends_with(" 0")),
        "{metrics}"
    );
    // The feed is still served to a reader.
    let again = plain
        .get(&feed)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(again.len(), size);
    t.stop().await;
}

/// An HTTP/2 request (prior knowledge) for the large feed from a client whose SETTINGS give
/// the server no flow-control window (RFC 9113 §6.9.2): no DATA may be sent until a
/// WINDOW_UPDATE that never comes.
async fn http2_request_with_no_window(base: &str) -> TcpStream {
    let addr: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    // SETTINGS: SETTINGS_INITIAL_WINDOW_SIZE (0x4) = 0.
    out.extend_from_slice(&[0, 0, 6, 0x4, 0, 0, 0, 0, 0, 0, 0x4, 0, 0, 0, 0]);
    out.extend_from_slice(&common::h2_get_headers("/feeds/akorda-en.rss"));
    s.write_all(&out).await.unwrap();
    s
}

/// A stop is not held up by a poll that a site drip-feeds, nor by a client that reads nothing:
/// the real binary exits at once after SIGTERM (its fetch timeout is 30 s, its wait for polls
/// in flight 10 s).
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_is_not_held_up_by_a_drip_fed_poll_or_a_stalled_client() {
    let mode = Arc::new(AtomicU8::new(DRIP));
    let hostile = hostile_site(mode).await;
    let site = common::site::FakeSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup {
        extra_config: format!(
            "[[sources]]\nid = \"drip\"\nurl = \"http://{hostile}/list\"\nschedule = \"* * * * * *\"\n\
             timezone = \"UTC\"\nlanguage = \"en\"\n\
             [sources.list]\nitem = \"div.card\"\ntitle = \"h3 a\"\nlink = \"h3 a@href\"\n"
        ),
        ..Setup::default()
    };
    let (config, port) = common::write_config_on_free_port(dir.path(), &site, &setup);
    let mut child = common::herald_command()
        .arg("run")
        .arg("-c")
        .arg(&config)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    common::eventually("herald answers", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    })
    .await;
    // The drip-fed poll has started (every second), and is in flight.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut parked = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    parked
        .write_all(b"GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let pid = child.id().unwrap().to_string();
    let signalled = Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("no exit within 20 s after SIGTERM")
        .unwrap();
    let took = signalled.elapsed();
    assert!(status.success(), "{status}");
    // Without cutting the poll, the stop waits 10 s for it.
    assert!(took < Duration::from_secs(7), "exit took {took:?}");
    drop(parked);
}

/// Peak memory (KiB) and exit of `herald ARGS`, run as a process of its own: at most 60 s.
fn peak_kib_of_herald(args: &[&str]) -> (i64, std::process::ExitStatus) {
    use std::os::unix::process::ExitStatusExt;
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by wait4 below, which also reports its peak memory"
    )]
    let child = common::herald_std_command()
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = i32::try_from(child.id()).unwrap();
    let watchdog = std::thread::spawn(move || {
        let start = Instant::now();
        // SAFETY: kill(2) with signal 0 only checks that the process still exists.
        while start.elapsed() < Duration::from_secs(60) && unsafe { libc::kill(pid, 0) } == 0 {
            std::thread::sleep(Duration::from_millis(100));
        }
        if start.elapsed() >= Duration::from_secs(60) {
            // SAFETY: our own child, not yet waited for (wait4 below is still blocked on it).
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        start.elapsed()
    });
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4(2) fills in; `pid` is our own child, waited for once.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    assert!(
        watchdog.join().unwrap() < Duration::from_secs(60),
        "herald {args:?} took more than 60 s"
    );
    (usage.ru_maxrss, std::process::ExitStatus::from_raw(status))
}

/// A feed of tiny entries up to the 10 MiB page cap (~170,000 of them) costs what its first
/// `max_page_items` cost, in RSS and in a JSON Feed: the entries past them are cut from the
/// document before any is built. Before, every entry was built and then dropped: a dry-run poll
/// peaked at 420 MB (RSS) and 620 MB (JSON Feed), and took minutes.
#[tokio::test(flavor = "multi_thread")]
async fn a_feed_of_many_entries_costs_what_its_first_entries_cost() {
    fn up_to_the_cap(entry: impl Fn(usize) -> String) -> String {
        let mut out = String::new();
        for i in 1.. {
            let e = entry(i);
            if out.len() + e.len() > 10 * 1024 * 1024 - 200 {
                break;
            }
            out.push_str(&e);
        }
        out
    }
    let rss = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><link>http://x/</link>{}</channel></rss>",
        up_to_the_cap(|i| format!("<item><title>T{i}</title><link>http://x/{i}</link></item>"))
    );
    let json = format!(
        "{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[{}]}}",
        up_to_the_cap(|i| format!("{{\"id\":\"{i}\",\"url\":\"http://x/{i}\"}},"))
            .trim_end_matches(',')
    );
    let app = Router::new()
        .route("/rss", get(move || async move { rss }))
        .route("/json", get(move || async move { json }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let mut toml = String::from("[server]\nlisten = \"127.0.0.1:0\"\n");
    for id in ["rss", "json"] {
        toml.push_str(&format!(
            "[[sources]]\nid = \"{id}\"\nurl = \"http://{site}/{id}\"\nkind = \"feed\"\n\
             schedule = \"0 0 0 1 1 *\"\nlanguage = \"en\"\n"
        ));
    }
    std::fs::write(&config, toml).unwrap();
    for id in ["rss", "json"] {
        let config = config.to_str().unwrap().to_owned();
        let (peak_kib, status) = tokio::task::spawn_blocking(move || {
            peak_kib_of_herald(&["--config", &config, "poll", id, "--dry-run"])
        })
        .await
        .unwrap();
        assert!(status.success(), "{id}: {status}");
        // About 55 MiB (RSS) and 80 MiB (JSON) on a quiet machine; one CI run on a busy one
        // saw 183 MiB (the allocator's arenas per thread). The bound tells that apart from
        // building every entry (420 and 620 MB).
        assert!(
            peak_kib < 300 * 1024,
            "{id}: a dry-run poll peaked at {} MiB",
            peak_kib / 1024
        );
    }
}
