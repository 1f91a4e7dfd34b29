//! Golden fixtures for list pages shaped like akorda.kz's: `X.html` → `X.expected.json` beside
//! it (relative links and `<base href>`, tracking parameters, lazy images, localized and relative
//! dates, escaped text, a card whose link is `javascript:`). `HERALD_BLESS=1` rewrites the
//! expected files after a deliberate change.

mod common;

use herald::config::ListSelectors;
use herald::extract::html::{Reading, list_page};
use std::path::Path;
use url::Url;

fn selectors() -> ListSelectors {
    common::one_akorda_source().sources[0].list.clone().unwrap()
}

fn check(name: &str, lang: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/list");
    let html = std::fs::read_to_string(dir.join(format!("{name}.html"))).unwrap();
    let url = Url::parse(&format!("https://www.akorda.kz/{lang}/events")).unwrap();
    // Read "now" as 2026-03-21 10:00 in Almaty, so that relative dates are stable.
    let reading = Reading {
        now: "2026-03-21T05:00:00Z".parse().unwrap(),
        tz: chrono_tz::Asia::Almaty,
    };
    let re = regex::Regex::new(r"-(\d+)$").unwrap();
    let items = list_page(&html, &url, &selectors(), Some(&re), reading).unwrap();
    let got: Vec<serde_json::Value> = items
        .iter()
        .map(|s| {
            serde_json::json!({
                "key": s.key,
                "title": s.title,
                "link": s.link,
                "date": s.date.map(|d| format!("{d:?}")),
                "summary": s.summary,
                "image": s.image,
            })
        })
        .collect();
    let got = serde_json::to_string_pretty(&got).unwrap() + "\n";
    let expected_path = dir.join(format!("{name}.expected.json"));
    if std::env::var_os("HERALD_BLESS").is_some() {
        std::fs::write(&expected_path, &got).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
        panic!(
            "{} missing: run with HERALD_BLESS=1",
            expected_path.display()
        )
    });
    assert_eq!(got, expected, "{name}");
}

#[test]
fn akorda_en() {
    check("akorda_en", "en");
}

#[test]
fn akorda_ru() {
    check("akorda_ru", "ru");
}

#[test]
fn akorda_kz() {
    check("akorda_kz", "kz");
}
