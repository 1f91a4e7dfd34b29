//! Translation linking measured on fixtures (issue 10): the releases of
//! `tests/fixtures/translations/{en,ru,kk}.json` (akorda-shaped cards and article texts, near
//! duplicates included: several releases a day, decrees sharing one generic picture, releases
//! that differ in one number, a translation out a day later, releases missing in a language) are
//! published on the fake site day by day, English first, and the real app polls each source after
//! each publication. The links it stores are compared with `truth.json`.
//!
//! `cargo test --test translation_fixtures -- --nocapture` prints the figures.

mod common;

use common::site::Release;
use common::{Setup, TestApp, spawn_app_with};
use herald::model::ItemId;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Recall reached on the fixtures when this was written: 103 of 122 pairs (0.844) in either
/// arrival order; the test allows a small margin below it, and no wrong link at all.
///
/// How the threshold (`herald::translations::THRESHOLD`, 3.0) trades them, English first:
/// 1.0: 117 links, 1 wrong (two releases alone on a sparse day, each missing its translation);
/// 2.0: 116, none wrong, recall 0.951; 2.5: 112, recall 0.918; 3.0: 103, recall 0.844. The
/// shipped 3.0 keeps a point of safety above the last wrong link seen.
const MIN_RECALL: f64 = 0.80;

#[derive(Deserialize)]
struct Fixture {
    id: u64,
    slug: String,
    date: String,
    day: u32,
    title: String,
    image: Option<String>,
    text: String,
}

const LANGS: [(&str, &str); 3] = [
    ("en", "akorda-en"),
    ("ru", "akorda-ru"),
    ("kk", "akorda-kz"),
];

fn load(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/translations")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The site's path segment for a language ("kz" on akorda.kz).
fn site_lang(lang: &str) -> &str {
    if lang == "kk" { "kz" } else { lang }
}

pub async fn translations_app() -> TestApp {
    spawn_app_with(Setup {
        extra_config: "[[translations]]\nsources = [\"akorda-en\", \"akorda-ru\", \"akorda-kz\"]\n"
            .into(),
        extra_source_keys: "max_pages = 10\n[sources.article]\nbody = \"div.content-text\"\n"
            .into(),
        ..Setup::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn linking_on_fixtures_has_no_wrong_link_english_first() {
    measure(&LANGS).await;
}

/// The same releases arriving in the other order: Kazakh first, English last.
#[tokio::test(flavor = "multi_thread")]
async fn linking_on_fixtures_has_no_wrong_link_kazakh_first() {
    let mut order = LANGS;
    order.reverse();
    measure(&order).await;
}

async fn measure(order: &[(&str, &str)]) {
    let t = translations_app().await;
    let mut fixtures: HashMap<&str, Vec<Fixture>> = HashMap::new();
    for (lang, _) in LANGS {
        fixtures.insert(
            lang,
            serde_json::from_str(&load(&format!("{lang}.json"))).unwrap(),
        );
    }
    // Day by day: each language publishes its releases of the day, and is polled.
    let days: BTreeSet<u32> = fixtures.values().flatten().map(|f| f.day).collect();
    for day in days {
        for &(lang, source) in order {
            let todays: Vec<&Fixture> = fixtures[lang].iter().filter(|f| f.day == day).collect();
            if todays.is_empty() {
                continue;
            }
            for f in todays {
                t.site.publish(
                    site_lang(lang),
                    Release {
                        id: f.id,
                        slug: f.slug.clone(),
                        title: f.title.clone(),
                        date: f.date.clone(),
                        summary: String::new(),
                        image: f.image.clone(),
                        body: Some(f.text.clone()),
                    },
                );
            }
            t.poll(source).await.unwrap();
        }
    }

    // Every pair of languages of each release, as (smaller id, larger id).
    let truth: Vec<BTreeMap<String, serde_json::Value>> =
        serde_json::from_str(&load("truth.json")).unwrap();
    let mut expected = BTreeSet::new();
    for row in &truth {
        let ids: Vec<u64> = ["en", "ru", "kk"]
            .iter()
            .filter_map(|l| row.get(*l).and_then(|v| v.as_u64()))
            .collect();
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                expected.insert((*a.min(b), *a.max(b)));
            }
        }
    }
    let store = &t.app.shared.store;
    // The item id herald gave each release, found by its link (`…-{id}`).
    let mut item_of: HashMap<u64, ItemId> = HashMap::new();
    let mut release_of: HashMap<ItemId, u64> = HashMap::new();
    for (_, source) in LANGS {
        for item in store.recent(source, 1000).unwrap() {
            let n: u64 = item.link.rsplit('-').next().unwrap().parse().unwrap();
            item_of.insert(n, item.id);
            release_of.insert(item.id, n);
        }
    }
    let mut found = BTreeSet::new();
    for (lang, source) in LANGS {
        for f in &fixtures[lang] {
            let id = item_of[&f.id];
            let links = store.translations(source, &id).unwrap();
            let languages: BTreeSet<&str> = links.iter().map(|l| l.language.as_str()).collect();
            assert_eq!(languages.len(), links.len(), "one per language: {links:?}");
            for link in links {
                let other = release_of[&link.id];
                // Stored on both sides.
                let back = store.translations(&link.source, &link.id).unwrap();
                assert!(back.iter().any(|b| b.id == id), "{} not linked back", other);
                found.insert((f.id.min(other), f.id.max(other)));
            }
        }
    }
    let wrong: Vec<_> = found.difference(&expected).collect();
    let right = found.intersection(&expected).count();
    let precision = if found.is_empty() {
        1.0
    } else {
        right as f64 / found.len() as f64
    };
    let recall = right as f64 / expected.len() as f64;
    println!(
        "translation links on fixtures, {} first: {} pairs expected, {} found, {right} right, {} wrong: precision {precision:.3}, recall {recall:.3}",
        order[0].0,
        expected.len(),
        found.len(),
        wrong.len()
    );
    let missed: Vec<_> = expected.difference(&found).collect();
    println!("missed pairs: {missed:?}");
    assert!(wrong.is_empty(), "wrong links: {wrong:?}");
    assert!(recall >= MIN_RECALL, "recall {recall:.3} < {MIN_RECALL}");
    t.stop().await;
}
