//! Golden fixtures for list pages shaped like akorda.kz's, read as the shipped `config.toml`'s
//! sources read them: `X.html` → `X.expected.json` beside it (relative links and `<base href>`,
//! tracking parameters, lazy images, thumbnails of full-size pictures, localized and relative
//! dates, escaped text, a card whose link is `javascript:`, cards that are not releases).
//! `HERALD_BLESS=1` rewrites the expected files after a deliberate change.

use crate::common;

use std::path::Path;
use url::Url;

fn shipped() -> herald::config::Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
    herald::config::load(&path).unwrap_or_else(|p| panic!("{p:?}"))
}

fn check(name: &str, lang: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/list");
    let html = std::fs::read_to_string(dir.join(format!("{name}.html"))).unwrap();
    let url = Url::parse(&format!("https://www.akorda.kz/{lang}/events")).unwrap();
    let config = shipped();
    let source = config.source(&format!("akorda-{lang}")).unwrap();
    // Read "now" as 2026-03-21 10:00 in Almaty, so that relative dates are stable.
    let now = "2026-03-21T05:00:00Z".parse().unwrap();
    let items = herald::pipeline::read_list(source, &html, &url, now).unwrap();
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

/// `require_id` without `id_pattern`, and an `image_rewrite` that is not [regex, replacement],
/// are config errors at their line.
#[test]
fn require_id_and_image_rewrite_are_checked() {
    let base = "[[sources]]\nid = \"s\"\nurl = \"https://www.akorda.kz/en/events\"\n\
                schedule = \"0 */10 * * * *\"\n";
    let cases = [
        ("require_id = true\n", 5, "`require_id` needs `id_pattern`"),
        (
            "image_rewrite = ['_thumb']\n",
            5,
            "`image_rewrite` takes two strings",
        ),
        ("image_rewrite = ['(_thumb', '']\n", 5, "image_rewrite"),
    ];
    for (keys, line, message) in cases {
        let text = format!("{base}{keys}{}", common::AKORDA_LIST);
        let problems = herald::config::parse(Path::new("c.toml"), &text, Path::new("/tmp"))
            .err()
            .unwrap_or_else(|| panic!("accepted: {keys}"));
        let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with(&format!("c.toml:{line}:")),
            "{lines:?}"
        );
        assert!(lines[0].contains(message), "{lines:?}");
    }
}
