//! List dates (issue 24, "Dates that cannot be read"): numeric dates read in one order decided
//! by the page's evidence and the source's region; a date herald cannot read is said, and the
//! release keeps its place in the list instead of passing for the newest; a dry run reads the
//! first page only.

use crate::common;

use axum::Router;
use axum::http::Uri;
use axum::response::Html;
use common::{command_output as output, herald_command as herald};
use herald::pipeline::{ListNotes, read_list_counted};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use url::Url;

fn source(extra: &str) -> herald::config::Config {
    let text = format!(
        "[[sources]]\nid = \"s\"\nurl = \"https://example.org/news\"\n\
         schedule = \"0 */10 * * * *\"\ntimezone = \"America/New_York\"\n{extra}\n\
         [sources.list]\nitem = \"li\"\ntitle = \"a\"\nlink = \"a@href\"\ndate = \"span\"\n"
    );
    herald::config::parse(
        std::path::Path::new("t.toml"),
        &text,
        std::path::Path::new("/tmp"),
    )
    .unwrap_or_else(|e| panic!("{e:?}"))
}

fn page(dates: &[&str]) -> String {
    let items: String = dates
        .iter()
        .enumerate()
        .map(|(i, d)| {
            format!("<li><a href=\"/r/{i}\">Release number {i}</a> <span>{d}</span></li>")
        })
        .collect();
    format!("<html><body><ul>{items}</ul></body></html>")
}

fn read_days(config: &herald::config::Config, html: &str) -> (Vec<Option<String>>, ListNotes) {
    let url = Url::parse("https://example.org/news").unwrap();
    let mut notes = ListNotes::default();
    let items = read_list_counted(
        &config.sources[0],
        html,
        &url,
        chrono::Utc::now(),
        &mut notes,
    )
    .unwrap();
    let days = items
        .iter()
        .map(|s| {
            s.date
                .map(|d| herald::suggest::list::written_day(&d).to_string())
        })
        .collect();
    (days, notes)
}

#[test]
fn a_field_over_12_decides_the_order_of_the_whole_list() {
    // 9 of these would be read day first without a word before issue 24.
    let html = page(&["03/21/2026", "03/05/2026", "02/11/2026"]);
    let (days, notes) = read_days(&source("language = \"ru\""), &html);
    assert_eq!(
        days,
        vec![
            Some("2026-03-21".into()),
            Some("2026-03-05".into()),
            Some("2026-02-11".into())
        ]
    );
    assert!(notes.unreadable_dates.is_empty());
    // And the other way round: a first field over 12 means day first, whatever the region.
    let html = page(&["21/03/2026", "05/03/2026"]);
    let (days, _) = read_days(&source("language = \"en-US\""), &html);
    assert_eq!(
        days,
        vec![Some("2026-03-21".into()), Some("2026-03-05".into())]
    );
}

#[test]
fn without_evidence_the_region_decides() {
    let html = page(&["03/05/2026", "03/02/2026"]);
    let (us, _) = read_days(&source("language = \"en-US\""), &html);
    assert_eq!(
        us,
        vec![Some("2026-03-05".into()), Some("2026-03-02".into())]
    );
    let (ru, _) = read_days(&source("language = \"ru\""), &html);
    assert_eq!(
        ru,
        vec![Some("2026-05-03".into()), Some("2026-02-03".into())]
    );
}

#[test]
fn dates_that_cannot_be_read_are_noted() {
    let html = page(&["21 March 2026", "21:40", "1711000000", "27.11.26"]);
    let (days, notes) = read_days(&source(""), &html);
    assert_eq!(days[0].as_deref(), Some("2026-03-21"));
    assert_eq!(
        days[3].as_deref(),
        Some("2026-11-27"),
        "a two-digit year is read"
    );
    let texts: Vec<&str> = notes
        .unreadable_dates
        .iter()
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(texts, vec!["21:40", "1711000000"]);
    assert!(notes.unreadable_dates[0].0.ends_with("/r/1"));
}

/// `herald poll --dry-run --json`: the warning on the item, its date the one above it (not the
/// poll's time), and only the first page fetched.
#[tokio::test]
async fn a_dry_run_says_which_date_it_could_not_read_and_reads_one_page() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let html = page(&["11 March 2026", "21:40", "2 March 2026"]);
    let app = Router::new().fallback(move |uri: Uri| {
        if uri.query().is_some_and(|q| q.contains("page=")) {
            counter.fetch_add(1, Ordering::SeqCst);
        }
        let html = html.clone();
        async move { Html(html) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[[sources]]\nid = \"s\"\nurl = \"http://{addr}/news\"\nschedule = \"0 */10 * * * *\"\n\
             timezone = \"UTC\"\n\n[sources.list]\nitem = \"li\"\ntitle = \"a\"\nlink = \"a@href\"\ndate = \"span\"\n"
        ),
    )
    .unwrap();
    let o = output(
        herald()
            .args(["poll", "s", "--dry-run", "--json", "-c"])
            .arg(&path),
    )
    .await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].get("warning").is_none());
    let warning = lines[1]["warning"].as_str().unwrap();
    assert!(warning.contains("\"21:40\""), "{warning}");
    assert_eq!(
        lines[1]["date"], lines[0]["date"],
        "kept its place under the release above"
    );
    assert!(lines[1]["date"].as_str().unwrap().starts_with("2026-03-11"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: 1 list date(s) could not be read"),
        "{err}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a dry run fetched older pages"
    );
}
