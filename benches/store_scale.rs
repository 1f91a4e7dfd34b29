//! Storage at scale (issue 9), a benchmark, not a test: 1,000 sources × 100 items (100,000
//! items, realistic sizes) stored through `Store::commit`, each posted to 3 channels (300,000
//! delivery records, taken through the outbox as the delivery worker does); then a second round
//! of 100 newer items per source pushes the first 100,000 out of the feeds (their ids stay
//! remembered) and the sweep forgets their 300,000 post records. Reports the data folder's size
//! against the raw item bytes after each step, the time to reopen the store, and the time to
//! read one source's feed window and the merged window of all sources.
//!   cargo bench --bench store_scale
//! The database lives on tmpfs (`/dev/shm`) when there is one (see `main`).
//! `HERALD_BENCH_KEEP=DIR` leaves the database in DIR (for `benches/run.sh`, which then times
//! `herald run` from start to serving on it).
use std::collections::HashMap;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use herald::model::{Item, ItemId};
use herald::store::{Commit, DeliveryKind, NewDelivery, PostRecord, Store};

const SOURCES: usize = 1000;
const PER_SOURCE: u32 = 100;
const CHANNELS_PER_SOURCE: usize = 3;

/// Real article bodies (the extraction benchmark's hand-marked texts, `../shared/data`), so that
/// item sizes and how well they compress are those of real releases; a synthetic text when the
/// data is not beside the repository.
fn bodies() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/article-extraction/ground-truth.json"
    );
    let parsed: Option<serde_json::Map<String, serde_json::Value>> = std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let mut texts: Vec<String> = parsed
        .into_iter()
        .flat_map(|map| map.into_values())
        .filter_map(|page| Some(page.get("articleBody")?.as_str()?.to_owned()))
        .collect();
    if texts.is_empty() {
        eprintln!(
            "store_scale: {path} not found; using a synthetic body (put the article-extraction \
             benchmark in ../shared/data/article-extraction for real sizes)"
        );
        texts.push("The talks covered trade, investment, energy, transport and culture, and the sides signed several documents. ".repeat(12));
    }
    texts
}

/// Release `n` of `source`: a real body (at most 8,000 characters, cut at a paragraph), its
/// opening as the summary, its first sentence as the title.
fn item(source: &str, n: u32, seq: u64, bodies: &[String]) -> Item {
    let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
        + chrono::Duration::minutes(i64::from(n) * 37);
    let link = format!("https://www.{source}.example.kz/en/news/president-receives-delegation-{n}");
    let body = &bodies[(seq as usize * 7919) % bodies.len()];
    let mut paragraphs = String::new();
    for p in body.split('\n').map(str::trim).filter(|p| !p.is_empty()) {
        if paragraphs.len() + p.len() > 8000 && !paragraphs.is_empty() {
            break;
        }
        paragraphs.push_str(&format!("<p>{p}</p>"));
    }
    let words: Vec<&str> = body.split_whitespace().collect();
    let title = words.iter().take(12).copied().collect::<Vec<_>>().join(" ");
    let summary = words.iter().take(50).copied().collect::<Vec<_>>().join(" ");
    Item {
        id: ItemId::new(source, &link),
        source: source.to_owned(),
        title: format!("{title} ({n})"),
        link,
        summary: Some(summary),
        content_html: Some(paragraphs),
        image: Some(format!(
            "https://www.{source}.example.kz/uploadMedia/2026/{n}.jpg"
        )),
        language: "en".into(),
        published: t,
        updated: t,
        first_seen: t,
        seq,
    }
}

fn dir_size(path: &std::path::Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(path).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        total += if meta.is_dir() {
            dir_size(&entry.path())
        } else {
            meta.len()
        };
    }
    total
}

fn channels_of(source: &str) -> Vec<String> {
    let channels = std::env::var("HERALD_BENCH_CHANNELS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CHANNELS_PER_SOURCE);
    (0..channels).map(|k| format!("{source}-c{k}")).collect()
}

/// Stores items `from..from + PER_SOURCE` of every source, each with a post per channel.
/// Returns the raw JSON bytes of the items stored.
async fn fill(store: &Store, ids: &[String], from: u32, seq: &mut u64, bodies: &[String]) -> u64 {
    let content_digests = HashMap::new();
    let mut raw = 0;
    for id in ids {
        let items: Vec<Item> = (from..from + PER_SOURCE)
            .map(|n| {
                *seq += 1;
                item(id, n, *seq, bodies)
            })
            .collect();
        raw += items
            .iter()
            .map(|i| serde_json::to_vec(i).unwrap().len() as u64)
            .sum::<u64>();
        let deliveries: Vec<NewDelivery> = channels_of(id)
            .into_iter()
            .flat_map(|channel| {
                // The copy the poll queues (`pipeline::queued_copy`): the body only when the
                // post's lead must come from it.
                items.iter().map(move |i| NewDelivery {
                    channel: channel.clone(),
                    kind: DeliveryKind::Post,
                    item: herald::pipeline::queued_copy(i, DeliveryKind::Post),
                    items: Vec::new(),
                })
            })
            .collect();
        store
            .commit(&Commit {
                source: id,
                new: &items,
                corrected: &[],
                deliveries: &deliveries,
                baselines: &[],
                content_digests: &content_digests,
                max_items: PER_SOURCE as usize,
                links: &[],
                unlinks: &[],
                seen_only: &[],
                restored: &[],
            })
            .await
            .unwrap();
    }
    raw
}

/// Sends every queued post as the delivery worker does (in flight, then accepted), 64
/// channels at a time. Returns how many were sent.
async fn deliver_all(store: &Store, ids: &[String]) -> usize {
    let channels: Vec<String> = ids.iter().flat_map(|id| channels_of(id)).collect();
    let mut sent = 0;
    for batch in channels.chunks(64) {
        let mut tasks = tokio::task::JoinSet::new();
        for channel in batch {
            let (store, channel) = (store.clone(), channel.clone());
            tasks.spawn(async move {
                let mut n = 0;
                while let Some(mut queued) = store.next_delivery(&channel).unwrap() {
                    store.mark_in_flight(&mut queued).await.unwrap();
                    n += 1;
                    let record = PostRecord::Sent {
                        chat: format!("@{channel}"),
                        message_id: n,
                        photo: true,
                        at: Utc::now(),
                        chat_id: None,
                    };
                    store
                        .complete_post(&channel, &queued, record)
                        .await
                        .unwrap();
                }
                n as usize
            });
        }
        while let Some(n) = tasks.join_next().await {
            sent += n.unwrap();
        }
    }
    sent
}

/// sled's cache: herald's (`app::STORE_CACHE_BYTES`), or `HERALD_BENCH_CACHE_MB` to compare.
fn cache_bytes() -> u64 {
    std::env::var("HERALD_BENCH_CACHE_MB")
        .ok()
        .and_then(|mb| mb.parse::<u64>().ok())
        .map_or(herald::app::STORE_CACHE_BYTES, |mb| mb << 20)
}

fn line(label: &str, value: String) {
    println!("  {label:<44} {value}");
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it, and a
    // benchmark has no place in the tests.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // On tmpfs when there is one: the 600,000 posts below each fsync twice (in flight, then
    // sent), which takes half an hour on this machine's disk (3 ms a sync) and seconds in
    // memory. Sizes are the same, and a reopen reads files from the page cache either way.
    let shm = std::path::Path::new("/dev/shm");
    let temp = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let dir = std::env::var_os("HERALD_BENCH_KEEP")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    // HERALD_BENCH_SOURCES=N: fewer sources, for a quick look.
    let sources: usize = std::env::var("HERALD_BENCH_SOURCES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(SOURCES);
    let ids: Vec<String> = (0..sources).map(|i| format!("source-{i:04}")).collect();
    let mb = |bytes: u64| format!("{:.1} MB", bytes as f64 / 1e6);
    println!(
        "store at scale: {sources} sources x {PER_SOURCE} items = {} items, {} channels per source",
        sources * PER_SOURCE as usize,
        channels_of("").len()
    );
    let bodies = bodies();
    let mut seq = 0;
    let store = Store::open(&dir, cache_bytes()).unwrap();
    let started = Instant::now();
    let raw = fill(&store, &ids, 0, &mut seq, &bodies).await;
    store.flush().await.unwrap();
    line(
        &format!("fill ({sources} commits)"),
        format!("{:.2} s", started.elapsed().as_secs_f64()),
    );
    let started = Instant::now();
    let sent = deliver_all(&store, &ids).await;
    line(
        &format!("deliver {sent} posts (in flight, then sent)"),
        format!("{:.2} s", started.elapsed().as_secs_f64()),
    );
    store.flush().await.unwrap();
    let size = dir_size(&dir);
    line("raw item bytes (JSON)", mb(raw));
    line(
        &format!(
            "data folder, {} items + {sent} posts",
            sources * PER_SOURCE as usize
        ),
        format!("{} ({:.2}x raw)", mb(size), size as f64 / raw as f64),
    );

    // A second round: 100,000 newer items (and their posts) push the first ones out of the feeds.
    // HERALD_BENCH_ONE_ROUND=1 stops after the first (benches/ceiling.sh: a million items).
    let one_round = std::env::var_os("HERALD_BENCH_ONE_ROUND").is_some();
    let raw2 = if one_round {
        raw
    } else {
        let raw2 = fill(&store, &ids, PER_SOURCE, &mut seq, &bodies).await;
        deliver_all(&store, &ids).await;
        store.flush().await.unwrap();
        let size = dir_size(&dir);
        line(
            "after a 2nd round (200,000 seen, 600,000 posts)",
            format!(
                "{} ({:.2}x the raw items kept)",
                mb(size),
                size as f64 / raw2 as f64
            ),
        );
        let started = Instant::now();
        let swept = store
            .sweep_posts(Utc::now() + chrono::Duration::days(1))
            .unwrap();
        store.flush().await.unwrap();
        line(
            &format!("sweep: {swept} post records of items gone"),
            format!("{:.2} s", started.elapsed().as_secs_f64()),
        );
        raw2
    };
    drop(store);
    let opened = Instant::now();
    let store = Store::open(&dir, cache_bytes()).unwrap();
    let open_time = opened.elapsed();
    let size = dir_size(&dir);
    line(
        "data folder after the sweep and a reopen",
        format!(
            "{} ({:.2}x the raw items kept)",
            mb(size),
            size as f64 / raw2 as f64
        ),
    );
    line(
        "reopen (Store::open)",
        format!("{:.1} ms", open_time.as_secs_f64() * 1e3),
    );
    let t = Instant::now();
    let one = store.recent(&ids[ids.len() / 2], 100).unwrap();
    let one_time = t.elapsed();
    let refs: Vec<(&str, usize)> = ids.iter().map(|id| (id.as_str(), 100)).collect();
    let t = Instant::now();
    let all = store.recent_merged(&refs, 100).unwrap();
    let all_time = t.elapsed();
    assert_eq!((one.len(), all.len()), (100, 100));
    line(
        "one source's 100 newest",
        format!("{:.2} ms", one_time.as_secs_f64() * 1e3),
    );
    line(
        "merged 100 newest of all",
        format!("{:.1} ms", all_time.as_secs_f64() * 1e3),
    );
    println!(
        "RESULT|storage: data folder / raw items kept|{}|{}|{:.2}|<= 3.00|{}",
        mb(size),
        mb(raw2),
        size as f64 / raw2 as f64,
        if size <= 3 * raw2 { "met" } else { "NOT met" }
    );
    println!(
        "RESULT|storage: reopen 100,000 items + 300,000 posts|{:.1} ms|-|-|<= 1000 ms|{}",
        open_time.as_secs_f64() * 1e3,
        if open_time.as_millis() <= 1000 {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "RESULT|storage: merged feed of 1,000 sources|{:.1} ms|-|-|no scan|met (k-way merge)",
        all_time.as_secs_f64() * 1e3
    );
}
