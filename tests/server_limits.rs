//! The HTTP server under abuse (issue 8), through the real binary: a bound on open connections,
//! a deadline for request headers, `/healthz` and `/metrics` limited to `monitor_allow`, no path
//! traversal, and error answers that show no internals.

mod common;

use std::time::Duration;

use common::site::{FakeSite, release_en};
use common::{Setup, write_config_on_free_port};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

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
    let child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("run")
        .arg("-c")
        .arg(&config)
        .env_remove("TELOXIDE_TOKEN")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{base}/")).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "herald did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
    assert_eq!(get("/healthz").await.status(), 403);
    assert_eq!(get("/metrics").await.status(), 403);
    assert_eq!(get("/").await.status(), 200);
    assert_eq!(get("/feeds/all.rss").await.status(), 200);

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

/// A client that starts a request and never finishes its headers is cut off; one that holds
/// every connection slot makes others wait, never crash the server, and they get answers as soon
/// as slots free up.
#[tokio::test(flavor = "multi_thread")]
async fn slow_headers_are_cut_off_and_connections_are_bounded() {
    let mut r = start("").await;
    let mut slow = TcpStream::connect(("127.0.0.1", r.port)).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let mut buf = [0u8; 512];
    let read = tokio::time::timeout(Duration::from_secs(40), slow.read(&mut buf))
        .await
        .expect("the server keeps a half-sent request for ever");
    assert!(
        matches!(read, Ok(0) | Err(_)) || String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 408"),
        "{read:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(35));

    // Fill every slot with idle connections.
    let mut idle = Vec::new();
    for _ in 0..herald::server::MAX_CONNECTIONS {
        idle.push(TcpStream::connect(("127.0.0.1", r.port)).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let waiting = tokio::spawn({
        let url = format!("{}/feeds/all.rss", r.base);
        async move {
            let started = tokio::time::Instant::now();
            let status = reqwest::Client::new()
                .get(url)
                .send()
                .await
                .unwrap()
                .status();
            (status, started.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !waiting.is_finished(),
        "answered beyond the connection bound"
    );
    idle.truncate(herald::server::MAX_CONNECTIONS - 10);
    let (status, took) = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("no answer once slots were free")
        .unwrap();
    assert_eq!(status, 200);
    assert!(took >= Duration::from_secs(2), "{took:?}");
    drop(idle);
    r.child.kill().await.unwrap();
}
