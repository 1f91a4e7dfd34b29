//! Per-host politeness (issue 9): however many sources share a site and poll at once, the site
//! never holds more than `fetch::PER_HOST` connections from herald, counted by the site itself
//! from accept to close, over the real fetcher's keep-alive pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use herald::fetch::{Fetched, Fetcher, PER_HOST, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Connections open now and the most ever open at once.
#[derive(Default)]
struct Counts {
    open: AtomicUsize,
    most: AtomicUsize,
    requests: AtomicUsize,
}

/// A keep-alive HTTP/1.1 site that answers every GET with a small page and counts connections.
async fn counting_site() -> (String, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let counts = Arc::new(Counts::default());
    let shared = counts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let counts = shared.clone();
            let now = counts.open.fetch_add(1, Ordering::SeqCst) + 1;
            counts.most.fetch_max(now, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                'conn: loop {
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => break 'conn,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    buf.drain(..end);
                    counts.requests.fetch_add(1, Ordering::SeqCst);
                    let body = "<html><body><div class=\"card\">a release</div></body></html>";
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        break;
                    }
                }
                counts.open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (base, counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sources_on_one_site_share_two_connections() {
    let (base, counts) = counting_site().await;
    let fetcher = Fetcher::new(Default::default()).unwrap();
    // 12 sources of one site polled at once, 20 times each, as a one-minute schedule would.
    let mut polls = tokio::task::JoinSet::new();
    for source in 0..12 {
        let (fetcher, base) = (fetcher.clone(), base.clone());
        polls.spawn(async move {
            for round in 0..20 {
                let url = url::Url::parse(&format!("{base}/s/{source}?round={round}")).unwrap();
                let req = Request {
                    user_agent: "herald-test",
                    ..Request::default()
                };
                match fetcher.get(&url, &req).await {
                    Ok(Fetched::Page(page)) => assert!(page.text.contains("a release")),
                    other => panic!("fetch {url}: {other:?}"),
                }
            }
        });
    }
    while let Some(done) = polls.join_next().await {
        done.unwrap();
    }
    assert_eq!(counts.requests.load(Ordering::SeqCst), 240);
    let most = counts.most.load(Ordering::SeqCst);
    assert!(
        most <= PER_HOST,
        "the site saw {most} connections at once (at most {PER_HOST} allowed)"
    );
}
