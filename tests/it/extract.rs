//! The article extractor (issue 5): golden fixtures (`X.html` -> `X.expected.json`), named
//! checks on what must and must not come out, and a quality floor on a sample of the shared
//! benchmark pages, run through the real `herald extract --json`.
//!
//! `HERALD_BLESS=1 cargo test --test extract` rewrites the expected files after a deliberate
//! change; review the diff.

use crate::common;
use herald::extract::article::{Article, date_string, decode_file, extract};
use regex::Regex;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use url::Url;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract")
}

/// Extracts a fixture with the URL its expected file names.
fn run_fixture(name: &str) -> (Article, Value) {
    let dir = fixtures_dir();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("{name}.expected.json"))).unwrap(),
    )
    .unwrap();
    let url = Url::parse(expected["url"].as_str().unwrap()).unwrap();
    let html = decode_file(&std::fs::read(dir.join(format!("{name}.html"))).unwrap());
    (extract(&html, Some(&url), None), expected)
}

fn as_json(url: &Value, a: &Article) -> Value {
    json!({
        "url": url,
        "title": a.title,
        "date": a.date.as_ref().map(date_string),
        "image": a.image,
        "summary": a.summary,
        "text": a.text,
        "html": a.html,
    })
}

#[test]
fn golden_fixtures() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".html").map(str::to_owned)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 6, "fixtures missing: {names:?}");
    let bless = std::env::var_os("HERALD_BLESS").is_some();
    let mut failures = Vec::new();
    for name in &names {
        let (article, expected) = run_fixture(name);
        let actual = as_json(&expected["url"], &article);
        if bless {
            let path = fixtures_dir().join(format!("{name}.expected.json"));
            std::fs::write(path, serde_json::to_string_pretty(&actual).unwrap() + "\n").unwrap();
        } else if actual != expected {
            failures.push(format!(
                "{name}:\n  expected {}\n  actual   {}",
                serde_json::to_string_pretty(&expected).unwrap(),
                serde_json::to_string_pretty(&actual).unwrap()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn akorda_pages_lose_go_back_share_links_and_teasers() {
    for (name, lang_words) in [
        ("akorda_en", ["Go back", "Twitter", "More from Events"]),
        ("akorda_ru", ["Назад", "Печать", "Другие события"]),
        ("akorda_kz", ["Артқа", "Басып шығару", "Басқа жаңалықтар"]),
    ] {
        let (a, _) = run_fixture(name);
        assert_eq!(a.text.split("\n\n").count(), 3, "{name}: {}", a.text);
        for w in lang_words {
            assert!(!a.text.contains(w), "{name}: `{w}` in {}", a.text);
        }
        assert!(a.date.is_some(), "{name}: no date");
        assert_eq!(
            a.image.as_deref(),
            Some("https://www.akorda.kz/uploadMedia/2026/03/21/cover.jpg")
        );
        assert!(
            a.html
                .contains("https://www.akorda.kz/uploadMedia/2026/03/21/photo-1.jpg"),
            "{name}: {}",
            a.html
        );
    }
}

#[test]
fn summaries_cut_at_sentences_not_abbreviations() {
    let (a, _) = run_fixture("akorda_en");
    let summary = a.summary.unwrap();
    // Two whole paragraphs fit in 400 characters; "Mr." and "U.S." did not end the lead.
    assert!(summary.chars().count() <= 400, "{summary}");
    assert!(
        summary.ends_with("grew by 3.5 percent last year."),
        "{summary}"
    );
    let (a, _) = run_fixture("akorda_ru");
    let summary = a.summary.unwrap();
    assert!(!summary.ends_with("г."), "{summary}");
}

#[test]
fn windows_1251_page_reads_right() {
    let (a, _) = run_fixture("windows1251");
    assert!(
        a.text
            .contains("В Караганде в понедельник открыли новую школу"),
        "{}",
        a.text
    );
    assert!(!a.text.contains("Поделиться") && !a.text.contains("Читайте также"));
    assert_eq!(
        a.date.map(|d| date_string(&d)).as_deref(),
        Some("2026-03-20T09:15:00+05:00")
    );
}

#[test]
fn lazy_images_resolve_against_base_href_and_skip_trackers() {
    let (a, _) = run_fixture("lazy_images_base_href");
    assert_eq!(
        a.image.as_deref(),
        Some("https://cdn.example.org/news/2026/images/solar-farm.jpg")
    );
    assert!(
        a.html
            .contains("https://cdn.example.org/news/2026/images/chart-960.png"),
        "{}",
        a.html
    );
    assert!(
        !a.text.contains("newsletter") && !a.text.contains("Jane Doe"),
        "{}",
        a.text
    );
    assert_eq!(
        a.date.map(|d| date_string(&d)).as_deref(),
        Some("2026-03-19T08:00:00+00:00")
    );
}

#[test]
fn hostile_markup_is_read_and_defused() {
    let (a, _) = run_fixture("hostile");
    for bad in [
        "<script",
        "onclick",
        "onerror",
        "onload",
        "javascript:",
        "<iframe",
        "<style",
    ] {
        assert!(!a.html.contains(bad), "`{bad}` in {}", a.html);
    }
    assert!(!a.text.contains("injected") && !a.text.contains("color: red"));
    assert!(
        a.text.contains("misnested") && a.text.contains("Unclosed span"),
        "{}",
        a.text
    );
    assert!(
        a.text.contains("entity &bogus; and a real one é"),
        "{}",
        a.text
    );
    assert!(
        !a.text.chars().any(|c| c.is_control() && c != '\n'),
        "{:?}",
        a.text
    );
}

#[test]
fn a_20_mb_body_is_handled_quickly() {
    let paragraph = "<p>Some words of a very long page, repeated, with a comma, again.</p>";
    let mut html = String::from("<html><body><div class=\"content\">");
    while html.len() < 20 * 1024 * 1024 {
        html.push_str(paragraph);
        html.push_str("<div><span>");
    }
    let start = std::time::Instant::now();
    let a = extract(&html, None, None);
    assert!(a.text.len() > 1_000_000);
    // The page nests 280,000 levels deep; past the depth bound (1,024) tags are dropped, but
    // the HTML tree builder still searches the 1,024 open elements for each `<p>`: linear, with
    // a large constant in a debug build (80 s; 6 s in a release build). Quadratic would be hours.
    assert!(start.elapsed().as_secs() < 240, "{:?}", start.elapsed());
}

/// 200,000 unclosed `<div>`s (a hostile page): the work grows with the page, not with the square
/// of its depth (it took a minute before subtree ends were tabled; 0.24 s in a release build now).
#[test]
fn a_page_nested_200000_deep_is_handled_quickly() {
    let html = format!(
        "<html><body>{}The only words on the page, nested very deep, are these.</body></html>",
        "<div>".repeat(200_000)
    );
    let start = std::time::Instant::now();
    let a = extract(&html, None, None);
    assert!(a.text.contains("The only words on the page"), "{}", a.text);
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
}

/// A sample of the shared benchmark (`../shared/data/article-extraction`, MIT): every ninth page
/// in key order (21 pages) with its hand-marked text, carried in the repository so that a clone
/// with nothing beside it runs this test too. `HERALD_BENCH_DATA` names another folder of the
/// same form (e.g. the whole benchmark).
fn benchmark_dir() -> PathBuf {
    std::env::var_os("HERALD_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract/benchmark")
        })
}

/// The benchmark's metric (its README): 4-token shingles of `\w+` tokens; per-page precision
/// and recall, averaged; F1 of the two means.
fn f1(pairs: &[(String, String)]) -> (f64, f64, f64) {
    let token = Regex::new(r"\w+").unwrap();
    let shingles = |text: &str| -> HashMap<Vec<String>, i64> {
        let tokens: Vec<String> = token
            .find_iter(text)
            .map(|m| m.as_str().to_owned())
            .collect();
        let mut counts: HashMap<Vec<String>, i64> = HashMap::new();
        let n = tokens.len().saturating_sub(3).max(1);
        for i in 0..n {
            let end = (i + 4).min(tokens.len());
            *counts.entry(tokens[i..end].to_vec()).or_default() += 1;
        }
        counts
    };
    let (mut p_sum, mut r_sum) = (0.0, 0.0);
    for (truth, pred) in pairs {
        let (t, p) = (shingles(truth), shingles(pred));
        let (mut tp, mut fp, mut fn_) = (0i64, 0i64, 0i64);
        for key in t.keys().chain(p.keys().filter(|k| !t.contains_key(*k))) {
            let (a, b) = (
                t.get(key).copied().unwrap_or(0),
                p.get(key).copied().unwrap_or(0),
            );
            tp += a.min(b);
            fp += (b - a).max(0);
            fn_ += (a - b).max(0);
        }
        let (precision, recall) = if fp == 0 && fn_ == 0 {
            (1.0, 1.0)
        } else {
            (
                tp as f64 / (tp + fp).max(1) as f64,
                tp as f64 / (tp + fn_).max(1) as f64,
            )
        };
        p_sum += precision;
        r_sum += recall;
    }
    let n = pairs.len() as f64;
    let (p, r) = (p_sum / n, r_sum / n);
    (2.0 * p * r / (p + r), p, r)
}

/// The pages of [`benchmark_dir`] (every ninth page of the benchmark, 21 pages).
/// Measured on this sample when the floor was set: F1 0.982 (0.969 on all 181 pages).
const SAMPLE_F1_FLOOR: f64 = 0.97;

#[test]
fn benchmark_sample_stays_above_the_floor() {
    let dir = benchmark_dir();
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ground-truth.json")).unwrap())
            .unwrap();
    let mut sample: Vec<&String> = truth.as_object().unwrap().keys().collect();
    sample.sort();
    let files: Vec<PathBuf> = sample
        .iter()
        .map(|k| dir.join("html").join(format!("{k}.html.gz")))
        .collect();
    let out = common::herald_std_command()
        .arg("extract")
        .arg("--json")
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), sample.len(), "one line per input");
    let pairs: Vec<(String, String)> = sample
        .iter()
        .zip(&lines)
        .map(|(k, line)| {
            assert!(
                line["input"].as_str().unwrap().contains(k.as_str()),
                "order kept"
            );
            (
                truth[k.as_str()]["articleBody"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                line["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let (f1, p, r) = f1(&pairs);
    eprintln!(
        "benchmark sample: {} pages, F1 {f1:.4} P {p:.4} R {r:.4}",
        pairs.len()
    );
    assert!(
        f1 >= SAMPLE_F1_FLOOR,
        "F1 {f1:.4} fell below {SAMPLE_F1_FLOOR}"
    );
}

#[test]
fn json_lines_report_unreadable_inputs_and_keep_order() {
    let good = fixtures_dir().join("akorda_en.html");
    let out = common::herald_std_command()
        .args(["extract", "--json", "--url", "https://www.akorda.kz/en/x-1"])
        .arg(&good)
        .arg("/nonexistent/page.html")
        .output()
        .unwrap();
    assert!(out.status.success(), "one input was read: exit 0");
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0]["title"],
        "Head of State receives the Minister of Foreign Affairs"
    );
    assert!(lines[0].get("error").is_none());
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/page.html")
    );
    assert_eq!(lines[1]["text"], "");

    let out = common::herald_std_command()
        .args(["extract", "/nonexistent/page.html"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "nothing could be read: exit 1");
}

#[test]
fn configured_selectors_pick_body_date_and_image() {
    use herald::config::{ArticleSelectors, Pick};
    let pick = |css: &str, attr: Option<&str>| Pick {
        text: css.to_owned(),
        selector: Some(scraper::Selector::parse(css).unwrap()),
        attr: attr.map(str::to_owned),
    };
    let selectors = ArticleSelectors {
        body: Some(pick("div.content-text", None)),
        date: Some(pick("h5.date", None)),
        image: Some(pick("div.content-text img", Some("src"))),
    };
    let html = std::fs::read_to_string(fixtures_dir().join("akorda_ru.html")).unwrap();
    let url = Url::parse("https://www.akorda.kz/ru/some-slug-123456").unwrap();
    let a = extract(&html, Some(&url), Some(&selectors));
    assert_eq!(a.text.split("\n\n").count(), 3, "{}", a.text);
    assert!(
        !a.text.contains("Назад") && !a.text.contains("Печать"),
        "{}",
        a.text
    );
    assert_eq!(
        a.date.map(|d| date_string(&d)).as_deref(),
        Some("2026-03-21")
    );
    assert_eq!(
        a.image.as_deref(),
        Some("https://www.akorda.kz/uploadMedia/2026/03/21/photo-1.jpg")
    );
}

/// Pages written against the extractor's weak points (issue 21's red team; `redteam/README`):
/// a comment or review thread longer than the article, a "commentary" column, an article in a
/// "widget", a teaser whose JSON-LD holds the article, text split by `<br>` beside a column of
/// short paragraphs, a forum's first post and a newsletter named so (guards). Each page's text
/// must match its truth (`NAME.truth.txt`) with F1 0.95 or more.
#[test]
fn red_team_pages_read_right() {
    let dir = fixtures_dir().join("redteam");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".html").map(str::to_owned)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 8, "pages missing: {names:?}");
    for name in &names {
        let html = decode_file(&std::fs::read(dir.join(format!("{name}.html"))).unwrap());
        let truth = std::fs::read_to_string(dir.join(format!("{name}.truth.txt"))).unwrap();
        let a = extract(&html, None, None);
        let (f, p, r) = f1(&[(truth, a.text.clone())]);
        assert!(
            f >= 0.95,
            "{name}: F1 {f:.3} (P {p:.3} R {r:.3})\n{}",
            a.text
        );
    }
}

/// Red team: `--url` replaced the address of a fetched page too. It is for files only (its
/// help: "for resolving relative links when reading a file"); a page read from the network
/// resolves against its own final address (after a redirect), whatever `--url` says.
#[tokio::test]
async fn a_fetched_page_resolves_against_its_own_address_not_url() {
    use axum::{
        Router,
        response::{Html, Redirect},
        routing::get,
    };
    let page = "<html><head><title>Talks held</title>\
                <meta property=\"og:image\" content=\"pic.jpg\"></head><body><article>\
                <h1>Talks held</h1><p>The President held talks on cooperation in trade and \
                energy. The sides agreed to meet again next year.</p></article></body></html>";
    let app = Router::new()
        .route("/old", get(|| async { Redirect::permanent("/news/story") }))
        .route("/news/story", get(move || async move { Html(page) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let out = common::herald_command()
        .args([
            "extract",
            "--json",
            "--url",
            "https://example.org/elsewhere/",
        ])
        .arg(format!("http://{addr}/old"))
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        line["image"],
        format!("http://{addr}/news/pic.jpg"),
        "{line}"
    );
}
