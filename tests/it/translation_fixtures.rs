//! Translation linking measured on fixtures (issue 10): the releases of
//! `tests/fixtures/translations/{en,ru,kk}.json` (akorda-shaped cards and article texts, near
//! duplicates included: several releases a day, decrees sharing one generic picture, releases
//! that differ in one number, a translation out a day later, releases missing in a language) are
//! published on the fake site day by day, English first, and the real app polls each source after
//! each publication. The links it stores are compared with `truth.json`.
//!
//! The second set, `tests/fixtures/translations/hard/` (issue 25, made by
//! `scripts/translation_fixtures.py`), holds what misled linking before: stock pictures shared by
//! different releases (a telephone call with France in English and with Egypt in Russian on one
//! day, neither with a number), languages numbering their pages independently (an English-only
//! release with the id of a Russian decree), and translations out a day later.
//!
//! `cargo test --test translation_fixtures -- --nocapture` prints the figures.

use crate::common;

use common::site::Release;
use common::truth::{Key, expected_pairs, load};
use common::{Setup, TestApp, spawn_app_with};
use herald::model::ItemId;
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};

/// Recall reached on each set with the rules of issue 25, names across scripts included (0.762
/// and 0.403; without names 0.738 and 0.331; figures and the sweep in
/// `benches/translations.md`); the test allows a small margin below it, and no wrong link at all.
/// The hard set's 0.403 became 0.370 when names had to be rare over each source's history
/// (issue 25's red team: the head of state's name linked two calls): on its first day no
/// source holds ten releases, so no name counts there (the audience with Uzbekistan's
/// ambassador, and the Russian and Kazakh calls with Italy, linked before on "Президент"
/// alone), and "Spain" no longer matches "Испании", as "Niger" must not match "Нигерии".
///
/// 0.762 became 0.738 on the issue 10 set (and the floor 0.75 became 0.73) when a lone count
/// under 100 beside a picture not yet known to be rare stopped being the text's evidence (issue
/// 25, second round: a stock picture seen for the first time, the date and "25 joint projects"
/// linked a call with France to one with Egypt): the narrow-format talks with Uzbekistan on the
/// fifth day, under a picture of their own that a short history cannot tell from a stock one,
/// share only "22" and are no longer linked. The hard set stays at 0.370.
const MIN_RECALL: f64 = 0.73;
const MIN_RECALL_HARD: f64 = 0.36;

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
    measure("", &LANGS, MIN_RECALL).await;
}

/// The same releases arriving in the other order: Kazakh first, English last.
#[tokio::test(flavor = "multi_thread")]
async fn linking_on_fixtures_has_no_wrong_link_kazakh_first() {
    let mut order = LANGS;
    order.reverse();
    measure("", &order, MIN_RECALL).await;
}

/// Issue 25: stock pictures, independent ids, same-day calls with different countries.
#[tokio::test(flavor = "multi_thread")]
async fn hard_cases_have_no_wrong_link_english_first() {
    measure("hard", &LANGS, MIN_RECALL_HARD).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hard_cases_have_no_wrong_link_russian_first() {
    measure("hard", &[LANGS[1], LANGS[2], LANGS[0]], MIN_RECALL_HARD).await;
}

async fn measure(set: &str, order: &[(&str, &str)], min_recall: f64) {
    let t = translations_app().await;
    let mut fixtures: HashMap<&str, Vec<Fixture>> = HashMap::new();
    for (lang, _) in LANGS {
        fixtures.insert(
            lang,
            serde_json::from_str(&load(set, &format!("{lang}.json"))).unwrap(),
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

    let expected = expected_pairs(set);
    let store = &t.app.shared.store;
    // The item id herald gave each release, found by its link (`…-{id}`).
    let mut item_of: HashMap<Key, ItemId> = HashMap::new();
    let mut release_of: HashMap<ItemId, Key> = HashMap::new();
    for (lang, source) in LANGS {
        for item in store.recent(source, 1000).unwrap() {
            let n: u64 = item.link.rsplit('-').next().unwrap().parse().unwrap();
            item_of.insert((lang.to_string(), n), item.id);
            release_of.insert(item.id, (lang.to_string(), n));
        }
    }
    let mut found = BTreeSet::new();
    for (lang, source) in LANGS {
        for f in &fixtures[lang] {
            let me: Key = (lang.to_string(), f.id);
            let id = item_of[&me];
            let links = store.translations(source, &id).unwrap();
            let languages: BTreeSet<&str> = links.iter().map(|l| l.language.as_str()).collect();
            assert_eq!(languages.len(), links.len(), "one per language: {links:?}");
            for link in links {
                let other = release_of[&link.id].clone();
                // Stored on both sides.
                let back = store.translations(&link.source, &link.id).unwrap();
                assert!(back.iter().any(|b| b.id == id), "{other:?} not linked back");
                found.insert((me.clone().min(other.clone()), me.clone().max(other)));
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
        "translation links on fixtures{}{set}, {} first: {} pairs expected, {} found, {right} right, {} wrong: precision {precision:.3}, recall {recall:.3}",
        if set.is_empty() { "" } else { " " },
        order[0].0,
        expected.len(),
        found.len(),
        wrong.len()
    );
    let missed: Vec<_> = expected.difference(&found).collect();
    println!("missed pairs: {missed:?}");
    assert!(wrong.is_empty(), "wrong links: {wrong:?}");
    assert!(recall >= min_recall, "recall {recall:.3} < {min_recall}");
    t.stop().await;
}
