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

/// The day `days` before today (UTC), written "5 March" and "5 марта", and as "YYYY-MM-DD".
fn days_ago(days: i64) -> (String, String, String) {
    use chrono::Datelike;
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const RU: [&str; 12] = [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ];
    let d = (chrono::Utc::now() - chrono::Duration::days(days)).date_naive();
    let m = d.month0() as usize;
    (
        format!("{} {}", d.day(), EN[m]),
        format!("{} {}", d.day(), RU[m]),
        d.to_string(),
    )
}

/// The red team's list page forms (rt-lists d1-d6): ranges, zones, AM/PM, Kazakh Latin months,
/// year-less dates, relative dates without a number. Each is read, and read right.
#[test]
fn dates_in_many_written_forms_are_read() {
    let (en, ru, iso) = days_ago(3);
    let texts = [
        "5–7 March 2026",
        "March 5–7, 2026",
        "5 марта – 7 марта 2026",
        "05.03.2026 – 07.03.2026",
        "27 Qarasha 2026",
        "5 naýryz 2026",
        en.as_str(),
        ru.as_str(),
    ];
    let html = page(&texts);
    let (days, notes) = read_days(&source("language = \"ru\""), &html);
    assert!(
        notes.unreadable_dates.is_empty(),
        "{:?}",
        notes.unreadable_dates
    );
    let expected = [
        "2026-03-05",
        "2026-03-05",
        "2026-03-05",
        "2026-03-05",
        "2026-11-27",
        "2026-03-05",
        iso.as_str(),
        iso.as_str(),
    ];
    let days: Vec<&str> = days.iter().map(|d| d.as_deref().unwrap_or("-")).collect();
    assert_eq!(days, expected);
}

/// A zone after the time, and a relative date's AM/PM, reach the stored instant.
#[test]
fn zones_and_the_meridiem_reach_the_instant() {
    let config = source("");
    let html = page(&[
        "5 March 2026 14:30 MSK",
        "5 March 2026 14:30 (UTC+3)",
        "5 March 2026 14:30 Astana time",
    ]);
    let url = Url::parse("https://example.org/news").unwrap();
    let mut notes = ListNotes::default();
    let now = chrono::Utc::now();
    let items = read_list_counted(&config.sources[0], &html, &url, now, &mut notes).unwrap();
    let instants: Vec<String> = items
        .iter()
        .map(|s| {
            let d = s.date.expect("a date");
            herald::dates::resolve(d, config.sources[0].timezone, now, now).to_rfc3339()
        })
        .collect();
    assert_eq!(
        instants,
        vec![
            "2026-03-05T11:30:00+00:00",
            "2026-03-05T11:30:00+00:00",
            // No known zone: the source's (New York, UTC-5).
            "2026-03-05T19:30:00+00:00",
        ]
    );
}

/// A config with `date_format` and a poll of a page written that way, end to end.
async fn check_and_poll(
    date_format: &str,
    dates: &[&str],
) -> (std::process::Output, Option<Vec<serde_json::Value>>) {
    let html = page(dates);
    let app = Router::new().fallback(move || {
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
             timezone = \"Asia/Almaty\"\nlanguage = \"ru\"\n\n[sources.list]\nitem = \"li\"\ntitle = \"a\"\n\
             link = \"a@href\"\ndate = \"span\"\ndate_format = \"{date_format}\"\n"
        ),
    )
    .unwrap();
    let checked = output(herald().args(["check", "-c"]).arg(&path)).await;
    if !checked.status.success() {
        return (checked, None);
    }
    let o = output(
        herald()
            .args(["poll", "s", "--dry-run", "--json", "-c"])
            .arg(&path),
    )
    .await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (checked, Some(lines))
}

#[tokio::test]
async fn a_date_format_without_a_year_is_checked_and_reads_the_latest_year() {
    let (_, ru, iso) = days_ago(3);
    let (checked, lines) = check_and_poll("%d %B", &[&ru, "5 марта"]).await;
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let lines = lines.unwrap();
    assert_eq!(lines.len(), 2);
    assert!(
        lines.iter().all(|l| l.get("warning").is_none()),
        "{lines:?}"
    );
    // A date-only release is dated at the start of its day in the source's zone (Almaty).
    assert_eq!(
        lines[0]["date"],
        format!("{iso}T00:00:00+05:00"),
        "{lines:?}"
    );
    // 5 March: this year's once it has begun in Almaty (a day of tolerance), else last year's.
    use chrono::Datelike;
    let latest = (chrono::Utc::now() + chrono::Duration::hours(5 + 24)).date_naive();
    let this_year = chrono::NaiveDate::from_ymd_opt(latest.year(), 3, 5).unwrap();
    let year = if this_year <= latest {
        latest.year()
    } else {
        latest.year() - 1
    };
    assert_eq!(lines[1]["date"], format!("{year}-03-05T00:00:00+05:00"));
}

#[tokio::test]
async fn a_date_format_that_can_never_read_a_date_fails_the_check() {
    let (checked, lines) = check_and_poll("%B %Y", &["март 2026"]).await;
    assert_eq!(checked.status.code(), Some(2));
    assert!(lines.is_none());
    let err = String::from_utf8_lossy(&checked.stderr);
    assert!(
        err.contains("date_format `%B %Y` names no day of the month (%d)"),
        "{err}"
    );
}

/// A date that reads but cannot be a publication date (issue 19: outside 1990 to a year ahead)
/// counts as no date: the release keeps its place in the list (dated as an undated one, by the
/// release above it), never put at the top as the newest, and the admin hears of it. One in
/// the future within a year is dated now (issue 3).
#[test]
fn far_dates_count_as_no_date_and_keep_the_list_order() {
    let next_month = (chrono::Utc::now() + chrono::Duration::days(30)).format("%-d %B %Y");
    let next_month = next_month.to_string();
    let html = page(&[
        "21 March 2026",
        "1 January 2999",
        "1 January 1800",
        "01.01.1970",
        &next_month,
    ]);
    let (days, notes) = read_days(&source(""), &html);
    assert_eq!(days[0], Some("2026-03-21".into()));
    assert_eq!(days[1..4], [None, None, None], "{days:?}");
    assert!(days[4].is_some(), "{days:?}");
    let said: Vec<&str> = notes
        .unreadable_dates
        .iter()
        .map(|(_, text)| text.as_str())
        .collect();
    assert_eq!(said.len(), 3, "{said:?}");
    assert!(
        said.iter().all(|t| t.contains("counted as no date")),
        "{said:?}"
    );
    let now = chrono::Utc::now();
    let tz = chrono_tz::America::New_York;
    let day = |y| herald::dates::ParsedDate::Day(chrono::NaiveDate::from_ymd_opt(y, 1, 1).unwrap());
    assert_eq!(herald::dates::resolve(day(2999), tz, now, now), now);
    assert!(!herald::dates::in_window(day(2999), now));
    assert!(!herald::dates::in_window(day(1800), now));
}

/// Cards (`div.card`) dated in an attribute of each card: `stamps[i]` in `data-timestamp`, the
/// card's visible text `shown[i]`.
fn stamped_cards(stamps: &[&str], shown: &str) -> String {
    let cards: String = stamps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "<div class=\"card\" data-timestamp=\"{s}\"><a href=\"/r/{i}\">Release number \
                 {i}</a> <span class=\"date\">{shown}</span></div>"
            )
        })
        .collect();
    format!("<html><body><main>{cards}</main></body></html>")
}

/// `herald poll --dry-run --json` of `html` served, for a source in Almaty with `list`.
async fn dry_run(list: &str, html: String) -> Vec<serde_json::Value> {
    let app = Router::new().fallback(move || {
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
             timezone = \"Asia/Almaty\"\n\n[sources.list]\nitem = \"div.card\"\ntitle = \"a\"\n\
             link = \"a@href\"\n{list}\n"
        ),
    )
    .unwrap();
    let checked = output(herald().args(["check", "-c"]).arg(&path)).await;
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let o = output(
        herald()
            .args(["poll", "s", "--dry-run", "--json", "-c"])
            .arg(&path),
    )
    .await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A date read from an attribute that is a whole Unix time is that instant (UTC), written in
/// the source's zone: seconds (9–10 digits) or milliseconds (12–13). One before 1990
/// (`100000000`, 1973) or of another length (`12345678901`) is no date, said as one.
#[tokio::test]
async fn unix_time_in_an_attribute_is_the_instant() {
    let html = stamped_cards(
        &["1764931200", "1764844800000", "100000000", "12345678901"],
        "Press office",
    );
    let lines = dry_run("date = \":scope@data-timestamp\"", html).await;
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0]["date"], "2025-12-05T15:40:00+05:00", "{lines:?}");
    assert_eq!(lines[1]["date"], "2025-12-04T15:40:00+05:00", "{lines:?}");
    assert!(
        lines[..2].iter().all(|l| l.get("warning").is_none()),
        "{lines:?}"
    );
    for (line, stamp) in lines[2..].iter().zip(["100000000", "12345678901"]) {
        let warning = line["warning"].as_str().unwrap_or_default();
        assert!(warning.contains(stamp), "{lines:?}");
    }
}

/// `date_format = "%s"` still reads first, and reads an instant: Unix time is UTC, not a
/// wall-clock time of the source's zone; milliseconds, which `%s` does not read, are read too.
#[tokio::test]
async fn unix_time_read_with_percent_s_is_the_instant() {
    let html = stamped_cards(&["1764931200", "1764844800000"], "Press office");
    let lines = dry_run(
        "date = \":scope@data-timestamp\"\ndate_format = \"%s\"",
        html,
    )
    .await;
    let dates: Vec<&serde_json::Value> = lines.iter().map(|l| &l["date"]).collect();
    assert_eq!(
        dates,
        ["2025-12-05T15:40:00+05:00", "2025-12-04T15:40:00+05:00"],
        "{lines:?}"
    );
}

/// Only an attribute is read as Unix time: the same number, or a year, in the text of a date
/// element is no date, and is said.
#[test]
fn unix_time_in_text_is_no_date() {
    let html = stamped_cards(&["1764931200", "1764844800"], "1764931200");
    let config = |date: &str| {
        let text = format!(
            "[[sources]]\nid = \"s\"\nurl = \"https://example.org/news\"\n\
             schedule = \"0 */10 * * * *\"\n\n[sources.list]\nitem = \"div.card\"\n\
             title = \"a\"\nlink = \"a@href\"\ndate = \"{date}\"\n"
        );
        herald::config::parse(
            std::path::Path::new("t.toml"),
            &text,
            std::path::Path::new("/tmp"),
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
    };
    let (days, notes) = read_days(&config("span.date"), &html);
    assert_eq!(days, [None, None]);
    assert_eq!(notes.unreadable_dates.len(), 2);
    let (days, _) = read_days(
        &config("span.date"),
        &html.replace(">1764931200<", ">2026<"),
    );
    assert_eq!(days, [None, None]);
    let (days, notes) = read_days(&config(":scope@data-timestamp"), &html);
    assert_eq!(days, [Some("2025-12-05".into()), Some("2025-12-04".into())]);
    assert!(notes.unreadable_dates.is_empty());
}
