//! Storage at scale (issue 9), a benchmark, not a test: 1,000 sources × 100 items (100,000
//! items, realistic sizes) stored through `Store::commit`, then: the data folder's size against
//! the raw item bytes, the time to reopen the store, and the time to read one source's feed
//! window and the merged window of all sources.
//!   cargo bench --bench store_scale
use std::collections::HashMap;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use herald::model::{Item, ItemId};
use herald::store::{Commit, Store};

fn item(source: &str, n: u32, seq: u64) -> Item {
    let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
        + chrono::Duration::minutes(i64::from(n) * 37);
    let link = format!("https://www.{source}.example.kz/en/news/president-receives-delegation-{n}");
    Item {
        id: ItemId::new(source, &link),
        source: source.to_owned(),
        title: format!("Head of State receives the delegation of a partner country, meeting number {n}"),
        link,
        summary: Some("The President discussed cooperation in trade, energy and transport. Both sides agreed to continue the dialogue at the level of ministries and to meet again next year.".repeat(2)),
        content_html: Some(format!("<p>{}</p>", "The talks covered trade, investment, energy, transport and culture, and the sides signed several documents. ".repeat(12))),
        image: Some(format!("https://www.{source}.example.kz/uploadMedia/2026/{n}.jpg")),
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

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it, and a
    // benchmark has no place in the tests.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let sources = 1000;
    let per_source = 100;
    let dir = tempfile::tempdir().unwrap();
    let fingerprints = HashMap::new();
    let mut raw = 0u64;
    let ids: Vec<String> = (0..sources).map(|i| format!("source-{i:04}")).collect();
    let started = Instant::now();
    {
        let store = Store::open(dir.path(), herald::app::STORE_CACHE_BYTES).unwrap();
        let mut seq = 0;
        for id in &ids {
            let items: Vec<Item> = (0..per_source)
                .map(|n| {
                    seq += 1;
                    item(id, n, seq)
                })
                .collect();
            raw += items
                .iter()
                .map(|i| serde_json::to_vec(i).unwrap().len() as u64)
                .sum::<u64>();
            store
                .commit(&Commit {
                    source: id,
                    new: &items,
                    corrected: &[],
                    deliveries: &[],
                    baselines: &[],
                    fingerprints: &fingerprints,
                    max_items: per_source as usize,
                    links: &[],
                })
                .await
                .unwrap();
        }
        store.flush().await.unwrap();
    }
    let filled = started.elapsed();
    let size = dir_size(dir.path());
    let opened = Instant::now();
    let store = Store::open(dir.path(), herald::app::STORE_CACHE_BYTES).unwrap();
    let open_time = opened.elapsed();
    let t = Instant::now();
    let one = store.recent("source-0500", 100).unwrap();
    let one_time = t.elapsed();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let t = Instant::now();
    let all = store.recent_merged(&refs, 100).unwrap();
    let all_time = t.elapsed();
    assert_eq!((one.len(), all.len()), (100, 100));
    println!(
        "store at scale: {sources} sources x {per_source} items = {} items",
        sources * per_source
    );
    println!(
        "  fill (1,000 commits):        {:>8.2} s",
        filled.as_secs_f64()
    );
    println!(
        "  raw item bytes (JSON):       {:>8.1} MB",
        raw as f64 / 1e6
    );
    println!(
        "  data folder:                 {:>8.1} MB ({:.2}x raw)",
        size as f64 / 1e6,
        size as f64 / raw as f64
    );
    println!(
        "  reopen (Store::open):        {:>8.1} ms",
        open_time.as_secs_f64() * 1e3
    );
    println!(
        "  one source's 100 newest:     {:>8.2} ms",
        one_time.as_secs_f64() * 1e3
    );
    println!(
        "  merged 100 newest of all:    {:>8.1} ms",
        all_time.as_secs_f64() * 1e3
    );
}
