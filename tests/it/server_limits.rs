//! The HTTP server under abuse (issues 8 and 19), through the real binary: a bound on open
//! connections that idle clients cannot fill, deadlines for connections that ask nothing (before
//! their first request and between requests, HTTP/1 and HTTP/2), `/healthz` and `/metrics`
//! limited to `monitor_allow`, no path traversal, error answers that show no internals, and a
//! feed cache bounded by bytes.

use crate::common;

use std::time::{Duration, Instant};

use common::site::{FakeSite, release_en};
use common::{Setup, write_config_on_free_port};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::Child;

struct Running {
    child: Child,
    base: String,
    port: u16,
    dir: tempfile::TempDir,
    _site: FakeSite,
}

async fn start(extra_server_keys: &str) -> Running {
    let site = FakeSite::start().await;
    site.publish("en", release_en(1, 1));
    let dir = tempfile::tempdir().unwrap();
    let (config, port) = write_config_on_free_port(dir.path(), &site, &Setup::default());
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        &format!("listen = \"127.0.0.1:{port}\""),
        &format!("listen = \"127.0.0.1:{port}\"\n{extra_server_keys}"),
        1,
    );
    std::fs::write(&config, text).unwrap();
    let child = common::herald_command()
        .arg("run")
        .arg("-c")
        .arg(&config)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    common::answering(&format!("{base}/"), Duration::from_secs(20)).await;
    Running {
        child,
        base,
        port,
        dir,
        _site: site,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn monitoring_is_limited_and_errors_show_no_internals() {
    let mut r = start("monitor_allow = [\"10.0.0.0/8\", \"192.168.1.7\"]").await;
    let get = |path: &str| {
        let url = format!("{}{path}", r.base);
        async move { reqwest::get(url).await.unwrap() }
    };
    // Every answer, refused or not, says `nosniff`: no browser reads a body as another type.
    for (path, status) in [
        ("/healthz", 403),
        ("/metrics", 403),
        ("/", 200),
        ("/opml", 200),
        ("/feeds/all.rss", 200),
        ("/nothing", 404),
    ] {
        let answer = get(path).await;
        assert_eq!(answer.status(), status, "{path}");
        assert_eq!(
            answer
                .headers()
                .get("x-content-type-options")
                .map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{path}"
        );
    }

    let dir = r.dir.path().display().to_string();
    let client = reqwest::Client::new();
    for (method, path) in [
        ("GET", "/feeds/..%2F..%2F..%2Fetc%2Fpasswd"),
        ("GET", "/feeds/../../../../etc/passwd"),
        ("GET", "/%2e%2e/%2e%2e/etc/passwd"),
        ("GET", "/feeds/all.rss/../../config.toml"),
        ("GET", "/feeds/%00.rss"),
        ("GET", "/config.toml"),
        ("GET", "/data/db"),
        ("GET", "/feeds/all.rss?limit=-1"),
        ("POST", "/feeds/all.rss"),
        ("DELETE", "/"),
    ] {
        let response = client
            .request(method.parse().unwrap(), format!("{}{path}", r.base))
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(status.is_client_error(), "{method} {path}: {status}");
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{method} {path}"
        );
        let body = response.text().await.unwrap();
        for leak in ["root:", "[general]", "panicked", "src/", ".rs:", &dir] {
            assert!(
                !body.contains(leak),
                "{method} {path}: `{leak}` in {body:?}"
            );
        }
        assert!(body.len() < 200, "{method} {path}: {body:?}");
    }
    r.child.kill().await.unwrap();
}

/// The HTTP/2 client preface (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How a parked client opens its connection.
#[derive(Clone, Copy, Debug)]
enum Parked {
    Silent,
    HalfRequestLine,
    HalfPreface,
    Preface,
}

async fn park(port: u16, how: Parked) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let sent: &[u8] = match how {
        Parked::Silent => b"",
        Parked::HalfRequestLine => b"GET /feeds/all.rss HT",
        Parked::HalfPreface => &H2_PREFACE[..16],
        Parked::Preface => H2_PREFACE,
    };
    s.write_all(sent).await.unwrap();
    s
}

/// Reads (and drops) whatever the server sends until it closes the connection; how long that
/// took, or `None` if it stays open for `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(within, async {
        while let Ok(n @ 1..) = s.read(&mut buf).await {
            let _ = n;
        }
    })
    .await
    .ok()
    .map(|()| started.elapsed())
}

/// One HTTP/1.1 request on `s`, its answer read whole (the connection kept alive).
async fn http1_get(s: &mut TcpStream, path: &str) {
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before the answer");
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        let Some(head_end) = text.find("\r\n\r\n") else {
            continue;
        };
        let length: usize = text[..head_end]
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(str::to_owned)
            })
            .expect("a content-length")
            .parse()
            .unwrap();
        if got.len() >= head_end + 4 + length {
            assert!(text.starts_with("HTTP/1.1 200"), "{text}");
            return;
        }
    }
}

/// One HTTP/2 request (prior knowledge, RFC 9113 §3.3) on a fresh connection, its answer read
/// to the end of its stream.
async fn http2_get(port: u16, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut out = H2_PREFACE.to_vec();
    // SETTINGS, empty.
    out.extend_from_slice(&[0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&common::h2_get_headers(path));
    s.write_all(&out).await.unwrap();
    loop {
        let mut head = [0u8; 9];
        s.read_exact(&mut head).await.unwrap();
        let length = usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
        let mut payload = vec![0u8; length];
        s.read_exact(&mut payload).await.unwrap();
        let (kind, flags, stream) = (head[3], head[4], head[8]);
        assert_ne!(kind, 0x7, "GOAWAY: {payload:?}");
        if stream == 1 && matches!(kind, 0x0 | 0x1) && flags & 0x1 != 0 {
            return s;
        }
    }
}

/// Connections that ask nothing are cut off: from accept to the first request head, and between
/// requests, over HTTP/1 and HTTP/2 alike (issue 19).
#[tokio::test(flavor = "multi_thread")]
async fn connections_that_ask_nothing_are_closed_at_their_deadlines() {
    let mut r = start("first_request_secs = 1\nidle_secs = 3").await;
    let mut waiting = Vec::new();
    for how in [
        Parked::Silent,
        Parked::HalfRequestLine,
        Parked::HalfPreface,
        Parked::Preface,
    ] {
        let mut s = park(r.port, how).await;
        waiting.push(tokio::spawn(async move {
            (
                format!("{how:?}"),
                closed_within(&mut s, Duration::from_secs(8)).await,
            )
        }));
    }
    let mut http1 = TcpStream::connect(("127.0.0.1", r.port)).await.unwrap();
    http1_get(&mut http1, "/feeds/all.rss").await;
    http1_get(&mut http1, "/healthz").await;
    // Half of a next request's head: still idle, at the deadline between requests.
    http1
        .write_all(b"GET /healthz HTTP/1.1\r\nHo")
        .await
        .unwrap();
    waiting.push(tokio::spawn(async move {
        (
            "HTTP/1.1 kept alive, then half a head".into(),
            closed_within(&mut http1, Duration::from_secs(8)).await,
        )
    }));
    let mut http2 = http2_get(r.port, "/feeds/all.rss").await;
    waiting.push(tokio::spawn(async move {
        (
            "HTTP/2 after a request".into(),
            closed_within(&mut http2, Duration::from_secs(8)).await,
        )
    }));
    for (i, task) in waiting.into_iter().enumerate() {
        let (what, closed) = task.await.unwrap();
        let took = closed.unwrap_or_else(|| panic!("{what}: still open after 8 s"));
        // The first request's deadline is 1 s; the idle one, between requests, 3 s.
        let (least, most) = if i < 4 { (0.8, 2.5) } else { (2.8, 4.5) };
        assert!(
            (least..most).contains(&took.as_secs_f64()),
            "{what}: closed after {took:?}"
        );
    }
    r.child.kill().await.unwrap();
}

/// When idle clients hold every connection slot, the one idle the longest makes room for a
/// newcomer: `/healthz` answers at once, and every parked connection is closed in the end.
#[tokio::test(flavor = "multi_thread")]
async fn idle_connections_cannot_shut_out_healthz() {
    let mut r = start("max_connections = 8\nfirst_request_secs = 2").await;
    let mut parked = Vec::new();
    for n in 0..24 {
        let how = [
            Parked::Silent,
            Parked::HalfRequestLine,
            Parked::HalfPreface,
            Parked::Preface,
        ][n % 4];
        parked.push(park(r.port, how).await);
    }
    let started = Instant::now();
    // Without room made for it, /healthz would wait for the idle ones' deadline (10 s). 3 s,
    // not the 1 s the resource budget bench holds herald to: this runs beside the whole suite
    // on 2 cores (once in 12 runs it took longer than 1 s there).
    let health = tokio::time::timeout(
        Duration::from_secs(3),
        reqwest::get(format!("{}/healthz", r.base)),
    )
    .await
    .expect("/healthz did not answer within 3 s")
    .unwrap();
    assert_eq!(health.status(), 200, "after {:?}", started.elapsed());
    for (n, s) in parked.iter_mut().enumerate() {
        assert!(
            closed_within(s, Duration::from_secs(5)).await.is_some(),
            "parked connection {n} still open"
        );
    }
    r.child.kill().await.unwrap();
}

/// The default bound of 512 connections, filled with idle ones, still lets `/healthz` in; a
/// header that never ends is cut off at the first request's deadline (10 s by default).
#[tokio::test(flavor = "multi_thread")]
async fn idle_clients_do_not_fill_the_default_bound_and_slow_headers_are_cut_off() {
    let mut r = start("").await;
    let mut idle = Vec::new();
    for _ in 0..520 {
        idle.push(TcpStream::connect(("127.0.0.1", r.port)).await.unwrap());
    }
    // Without room made for it, /healthz would wait for the idle ones' deadline (10 s). 3 s,
    // not the 1 s the resource budget bench holds herald to: this runs beside the whole suite
    // on 2 cores (once in 12 runs it took longer than 1 s there).
    let health = tokio::time::timeout(
        Duration::from_secs(3),
        reqwest::get(format!("{}/healthz", r.base)),
    )
    .await
    .expect("/healthz did not answer within 3 s")
    .unwrap();
    assert_eq!(health.status(), 200);
    // The newest connection: not the one closed for a newcomer.
    let mut slow = TcpStream::connect(("127.0.0.1", r.port)).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let took = closed_within(&mut slow, Duration::from_secs(15))
        .await
        .expect("the server keeps a half-sent request for ever");
    assert!(
        (9.0..12.0).contains(&took.as_secs_f64()),
        "closed after {took:?}"
    );
    drop(idle);
    r.child.kill().await.unwrap();
}

/// An HTTP/2 HEADERS frame on `stream` asking `GET path` (END_STREAM | END_HEADERS).
fn h2_get_on(stream: u8, path: &str) -> Vec<u8> {
    let mut frame = common::h2_get_headers(path);
    frame[8] = stream;
    frame
}

/// Clients that keep every slot busy by taking their answers slowly cannot shut out a newcomer:
/// HTTP/1 clients that pipeline requests and read 2 KB a second (enough to pass the send-stall
/// deadline for ever), and HTTP/2 clients whose flow-control window is shut and that ask
/// something new every half second (each new request used to restart the send-stall clock).
/// When every slot is busy, the one taking its answers slowest makes room.
#[tokio::test(flavor = "multi_thread")]
async fn slow_readers_cannot_shut_out_healthz() {
    let mut r = start("max_connections = 6\nsend_stall_secs = 60").await;
    let mut holders = Vec::new();
    for _ in 0..3 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let s = socket
            .connect(format!("127.0.0.1:{}", r.port).parse().unwrap())
            .await
            .unwrap();
        let (mut read, mut write) = s.into_split();
        holders.push(tokio::spawn(async move {
            let ask = "GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\n\r\n".repeat(30_000);
            let _ = write.write_all(ask.as_bytes()).await;
            std::future::pending::<()>().await;
        }));
        holders.push(tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok(1..) = read.read(&mut buf).await {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }));
    }
    for _ in 0..3 {
        let s = TcpStream::connect(("127.0.0.1", r.port)).await.unwrap();
        let (mut read, mut write) = s.into_split();
        holders.push(tokio::spawn(async move {
            let mut out = H2_PREFACE.to_vec();
            // SETTINGS: SETTINGS_INITIAL_WINDOW_SIZE (4) = 0: no stream may be sent any data.
            out.extend_from_slice(&[0, 0, 6, 0x4, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
            out.extend_from_slice(&h2_get_on(1, "/feeds/all.rss"));
            if write.write_all(&out).await.is_err() {
                return;
            }
            for stream in (3..=99).step_by(2) {
                tokio::time::sleep(Duration::from_millis(500)).await;
                if write.write_all(&h2_get_on(stream, "/")).await.is_err() {
                    return;
                }
            }
        }));
        holders.push(tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(1..) = read.read(&mut buf).await {}
        }));
    }
    // Every slot taken and busy.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let started = Instant::now();
    let health = tokio::time::timeout(
        Duration::from_secs(10),
        reqwest::get(format!("{}/healthz", r.base)),
    )
    .await
    .expect("/healthz did not answer within 10 s: slow clients hold every slot")
    .unwrap();
    assert_eq!(health.status(), 200, "after {:?}", started.elapsed());
    for holder in holders {
        holder.abort();
    }
    r.child.kill().await.unwrap();
}

/// A client that sends its request and shuts its side of the connection at once (`nc -N`,
/// `printf … | nc`) still gets the answer, for each request it sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_request_then_a_half_close_is_answered() {
    let mut r = start("").await;
    for request in [
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /feeds/akorda-en.rss HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let mut s = TcpStream::connect(("127.0.0.1", r.port)).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        s.shutdown().await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer))
            .await
            .expect("answered and closed")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        let answers = answer.matches("HTTP/1.1 200 OK").count();
        assert_eq!(answers, request.matches("GET").count(), "{answer}");
    }
    r.child.kill().await.unwrap();
}
