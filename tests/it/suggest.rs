//! `herald suggest URL` (issue 24) through the real binary against a local fake site serving
//! the list pages of `tests/fixtures/suggest/`: the printed block is accepted by `herald check`,
//! and read by the poller's own list reader it yields exactly the expected releases (title,
//! link and the date as written). `heldout/` is only scored (`heldout_score`, ignored).

use crate::common;

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Html;
use common::{command_output as output, herald_command as herald};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use url::Url;

const ORIGIN: &str = "http://site.test";

fn fixtures(set: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/suggest")
        .join(set);
    let mut all: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    all.sort();
    all
}

struct Pages {
    list: String,
    article: String,
}

/// Serves `list` at `/news/` (and a redirect to it at `/old-news`), an RSS feed at `/feed.xml`,
/// 404 at every path under `/gone/`, no answer for two minutes under `/stall/`, and the article
/// page at every other path.
async fn serve(list: &str, article: &str) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let pages = Arc::new(Pages {
        list: list.replace(ORIGIN, &origin),
        article: article.replace(ORIGIN, &origin),
    });
    let app = Router::new()
        .fallback(|State(p): State<Arc<Pages>>, uri: Uri| async move {
            use axum::response::IntoResponse;
            match uri.path() {
                "/news/" => Html(p.list.clone()).into_response(),
                "/old-news" => axum::response::Redirect::permanent("/news/").into_response(),
                "/feed.xml" => (
                    [(axum::http::header::CONTENT_TYPE, "application/rss+xml")],
                    feed_fixture("rss.xml"),
                )
                    .into_response(),
                path if path.starts_with("/gone/") => {
                    axum::http::StatusCode::NOT_FOUND.into_response()
                }
                path if path.starts_with("/stall/") => {
                    tokio::time::sleep(std::time::Duration::from_secs(120)).await;
                    axum::http::StatusCode::NOT_FOUND.into_response()
                }
                _ => Html(p.article.clone()).into_response(),
            }
        })
        .with_state(pages);
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (origin, task)
}

/// (date, title, link) rows.
type Rows = Vec<(String, String, String)>;

fn expected(dir: &Path, origin: &str) -> Rows {
    std::fs::read_to_string(dir.join("expected.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].to_owned(),
                f[1].to_owned(),
                f[2].replace(ORIGIN, origin),
            )
        })
        .collect()
}

/// What one fixture gave: the suggest output, and the releases its block reads.
struct Outcome {
    status: Option<i32>,
    stdout: String,
    stderr: String,
    got: Rows,
    want: Rows,
    check_ok: bool,
    /// Cards the block's item selector matches that the reader skips (every poll warns of
    /// them), as the reader describes them.
    skipped: Vec<String>,
}

async fn run(dir: &Path) -> Outcome {
    let list = std::fs::read_to_string(dir.join("list.html")).unwrap();
    let article =
        std::fs::read_to_string(dir.parent().unwrap().parent().unwrap().join("article.html"))
            .unwrap();
    let (origin, task) = serve(&list, &article).await;
    let url = format!("{origin}/news/");
    let args: Vec<String> = std::fs::read_to_string(dir.join("args"))
        .map(|a| a.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let o = output(herald().arg("suggest").arg(&url).args(&args)).await;
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let want = expected(dir, &origin);
    let mut got = Vec::new();
    let mut check_ok = false;
    let mut skipped = Vec::new();
    if o.status.success() {
        // The printed text, as is, is a config file herald accepts.
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config.toml");
        std::fs::write(&path, &stdout).unwrap();
        let c = output(herald().arg("check").arg("-c").arg(&path)).await;
        check_ok = c.status.success();
        let config = herald::config::load(&path).unwrap_or_else(|p| panic!("{p:?}\n{stdout}"));
        let source = &config.sources[0];
        let html = list.replace(ORIGIN, &origin);
        let mut notes = herald::pipeline::ListNotes::default();
        let items = herald::pipeline::read_list_counted(
            source,
            &html,
            &Url::parse(&url).unwrap(),
            chrono::Utc::now(),
            &mut notes,
        )
        .unwrap_or_default();
        skipped = notes
            .skipped_cards
            .iter()
            .map(ToString::to_string)
            .collect();
        // Each release once, as the poller counts them (by the item id of its key).
        let mut seen = std::collections::HashSet::new();
        got = items
            .into_iter()
            .filter(|s| seen.insert(herald::model::ItemId::new(&source.id, &s.key)))
            .map(|s| {
                let date = s
                    .date
                    .map(|d| herald::suggest::list::written_day_in(&d, source.timezone).to_string())
                    .unwrap_or_default();
                (date, s.title, s.link)
            })
            .collect();
    }
    task.abort();
    Outcome {
        status: o.status.code(),
        stdout,
        stderr,
        got,
        want,
        check_ok,
        skipped,
    }
}

/// Precision and recall of releases (title + link + date exact) over a set, per fixture too.
async fn score(set: &str) -> (usize, usize, usize, Vec<String>) {
    let (mut tp, mut found, mut wanted) = (0, 0, 0);
    let mut lines = Vec::new();
    for dir in fixtures(set) {
        let o = run(&dir).await;
        let hits = o.got.iter().filter(|r| o.want.contains(r)).count();
        tp += hits;
        found += o.got.len();
        wanted += o.want.len();
        lines.push(format!(
            "{:<32} exit {:?} check {} found {:>2} expected {:>2} exact {:>2}",
            dir.file_name().unwrap().to_string_lossy(),
            o.status,
            o.check_ok,
            o.got.len(),
            o.want.len(),
            hits
        ));
    }
    (tp, found, wanted, lines)
}

fn report(set: &str, (tp, found, wanted, lines): &(usize, usize, usize, Vec<String>)) {
    for l in lines {
        println!("{l}");
    }
    println!(
        "{set}: precision {}/{} = {:.3}, recall {}/{} = {:.3}",
        tp,
        found,
        *tp as f64 / (*found).max(1) as f64,
        tp,
        wanted,
        *tp as f64 / (*wanted).max(1) as f64
    );
}

#[tokio::test]
async fn every_development_page_gets_a_block_that_reads_exactly_its_releases() {
    reads_exactly("dev").await;
}

/// The red team's pages (`redteam/`): each one a rule discovery broke (a pager among the
/// cards, a picture's link before the title's, navigation beside the news, …).
#[tokio::test]
async fn every_red_team_page_gets_a_block_that_reads_exactly_its_releases() {
    reads_exactly("redteam").await;
}

/// Every page of `set` gets a block `herald check` accepts, which reads exactly its releases,
/// and the preview printed counts them.
async fn reads_exactly(set: &str) {
    let mut failures = Vec::new();
    for dir in fixtures(set) {
        let o = run(&dir).await;
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if o.status != Some(0) || !o.check_ok || o.got != o.want {
            failures.push(format!(
                "== {name}: exit {:?}, check {}\n{}\n{}\ngot  {:#?}\nwant {:#?}",
                o.status, o.check_ok, o.stdout, o.stderr, o.got, o.want
            ));
        }
        // The block reads its own page without skipping a card (the poll would warn of each
        // at every poll), or says which it skips.
        if !o.skipped.is_empty() && !o.stdout.contains("card(s) the item selector matches") {
            failures.push(format!(
                "== {name}: the block skips cards and says nothing: {:?}\n{}",
                o.skipped, o.stdout
            ));
        }
        // The preview printed is what the block reads.
        if o.status == Some(0) {
            assert!(
                o.stdout.contains(&format!(
                    "# preview: {} releases read with these selectors",
                    o.got.len()
                )),
                "{name}: {}",
                o.stdout
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test]
#[ignore = "prints figures: precision and recall over the development pages"]
async fn dev_score() {
    report("dev", &score("dev").await);
}

#[tokio::test]
#[ignore = "the held-out third: scored once, at the end (issue 24)"]
async fn heldout_score() {
    report("dev", &score("dev").await);
    report("heldout", &score("heldout").await);
}

#[tokio::test]
#[ignore = "prints figures: precision and recall over the CMS pages (cms/)"]
async fn cms_score() {
    report("cms", &score("cms").await);
}

#[tokio::test]
async fn selectors_are_short_and_stable() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/suggest/dev/cards-lazy-idpattern");
    let o = run(&dir).await;
    assert_eq!(o.status, Some(0), "{}", o.stderr);
    for line in [
        "item = \"div.card\"",
        "title = \"h3 a\"",
        "link = \"h3 a@href\"",
        "date = \"h5\"",
        "image = \"img.card-img-top@src\"",
        "id_pattern = '-(\\d+)$'",
        "require_id = true",
        "body = \"div.content-text\"",
        "image = \"meta[property='og:image']@content\"",
    ] {
        assert!(
            o.stdout.lines().any(|l| l == line),
            "{line} missing:\n{}",
            o.stdout
        );
    }
    assert!(!o.stdout.contains("nth-child"), "{}", o.stdout);
}

#[tokio::test]
async fn a_page_without_a_list_exits_1_and_says_what_was_tried() {
    let page = "<html><body><nav><a href='/'>Home</a><a href='/a'>About</a></nav><p>Hello</p></body></html>";
    let (origin, task) = serve(page, page).await;
    let o = output(herald().arg("suggest").arg(format!("{origin}/news/"))).await;
    task.abort();
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no list of releases found"), "{err}");
    assert!(err.contains("looked at"), "{err}");
}

/// An address that redirects: the block reads the address the page is at, and says so.
#[tokio::test]
async fn a_redirected_address_gets_the_final_one_in_its_block() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/suggest/redteam/popular");
    let list = std::fs::read_to_string(dir.join("list.html")).unwrap();
    let (origin, task) = serve(&list, &list).await;
    let o = output(herald().arg("suggest").arg(format!("{origin}/old-news"))).await;
    task.abort();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains(&format!("url = \"{origin}/news/\"")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{origin}/old-news redirects to {origin}/news/")),
        "{stdout}"
    );
}

/// An article's own page (the red team's): its only repeated links are its menu, a "related"
/// block and a "most read" widget. Chrome is never proposed; the page is named an article.
#[tokio::test]
async fn an_article_page_exits_1_and_asks_for_the_list_page() {
    let page = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/suggest/article-page-ru.html"),
    )
    .unwrap();
    let (origin, task) = serve(&page, &page).await;
    let o = output(herald().arg("suggest").arg(format!("{origin}/news/"))).await;
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{err}\n{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(err.contains("this is an article"), "{err}");
    assert!(err.contains("list page"), "{err}");
    // Its comments feed is no source of releases.
    assert!(!err.contains("comments/rss"), "{err}");
    task.abort();
    // Unmarked (no `og:type`, no JSON-LD), its chrome is still no list.
    let unmarked = page
        .replace(r#"<meta property="og:type" content="article">"#, "")
        .replace("NewsArticle", "Thing");
    let (origin, task) = serve(&unmarked, &unmarked).await;
    let o = output(herald().arg("suggest").arg(format!("{origin}/news/"))).await;
    task.abort();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{err}\n{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(err.contains("no list of releases found"), "{err}");
}

#[tokio::test]
async fn bad_arguments_exit_2() {
    let o = output(herald().args(["suggest", "ftp://x/"])).await;
    assert_eq!(o.status.code(), Some(2));
    let o =
        output(herald().args(["suggest", "http://127.0.0.1:9/", "--timezone", "Mars/Base"])).await;
    assert_eq!(o.status.code(), Some(2));
}

/// Serves `body` as `content_type` at every path.
async fn serve_typed(
    content_type: &'static str,
    body: Vec<u8>,
) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let body = Arc::new(body);
    let app = Router::new().fallback(move || {
        let body = Arc::clone(&body);
        async move {
            (
                [(axum::http::header::CONTENT_TYPE, content_type)],
                body.as_ref().clone(),
            )
        }
    });
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (origin, task)
}

fn feed_fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/suggest/feeds")
            .join(name),
    )
    .unwrap()
}

#[tokio::test]
async fn a_feed_address_gets_a_feed_block_that_check_accepts() {
    for (name, content_type) in [
        ("rss.xml", "application/rss+xml"),
        ("atom.xml", "text/xml"),
        ("feed.json", "application/json"),
    ] {
        let (origin, task) = serve_typed(content_type, feed_fixture(name)).await;
        let o = output(herald().arg("suggest").arg(format!("{origin}/{name}"))).await;
        task.abort();
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{name}: {stderr}");
        assert!(
            stdout.lines().any(|l| l == "kind = \"feed\""),
            "{name}:\n{stdout}"
        );
        assert!(!stdout.contains("[sources.list]"), "{name}:\n{stdout}");
        assert!(
            stdout.contains("# preview: 4 releases read from the feed"),
            "{name}:\n{stdout}"
        );
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config.toml");
        std::fs::write(&path, &stdout).unwrap();
        let c = output(herald().arg("check").arg("-c").arg(&path)).await;
        assert!(
            c.status.success(),
            "{name}: {}\n{stdout}",
            String::from_utf8_lossy(&c.stderr)
        );
    }
}

#[tokio::test]
async fn a_page_advertising_a_feed_says_so_and_still_proposes_its_list() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/suggest/redteam/advertises");
    let o = run(&dir).await;
    assert_eq!(o.status, Some(0), "{}", o.stderr);
    assert_eq!(o.got, o.want, "{}", o.stdout);
    let note = o
        .stdout
        .lines()
        .find(|l| l.starts_with("# note: the page advertises a feed"))
        .unwrap_or_else(|| panic!("no note of the feed:\n{}", o.stdout));
    assert!(note.contains("/feed.xml"), "{note}");
}

#[tokio::test]
async fn a_body_that_is_no_page_is_refused_naming_what_came() {
    let noise: Vec<u8> = (0..4000u32).map(|i| (i * 7919 % 251) as u8).collect();
    for (content_type, body, what) in [
        (
            "application/pdf",
            b"%PDF-1.4\n%\xe2\xe3\n1 0 obj".to_vec(),
            "a PDF document",
        ),
        (
            "application/json",
            br#"{"status":"ok","items":[1,2,3]}"#.to_vec(),
            "JSON that is not a JSON Feed",
        ),
        ("text/html", Vec::new(), "an empty body"),
        ("application/octet-stream", noise, "binary data"),
    ] {
        let (origin, task) = serve_typed(content_type, body).await;
        let o = output(herald().arg("suggest").arg(format!("{origin}/x"))).await;
        task.abort();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{content_type}: {err}");
        assert!(o.stdout.is_empty(), "{content_type}");
        assert!(err.contains(what), "{content_type}: {err}");
        assert!(err.contains(&format!("`{content_type}`")), "{err}");
    }
}

/// The preview lists the releases `herald poll --dry-run` reads with the block, in its order
/// and each once (a pinned release listed again below it is one release).
#[tokio::test]
async fn the_preview_lists_what_poll_reads() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/suggest/redteam/pinned-dup");
    let list = std::fs::read_to_string(dir.join("list.html")).unwrap();
    let (origin, task) = serve(&list, "<html></html>").await;
    let o = output(herald().arg("suggest").arg(format!("{origin}/news/"))).await;
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let preview: Vec<String> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("# preview:"))
        .skip(1)
        .filter(|l| !l.starts_with("#  "))
        .map(|l| l.get(14..).unwrap_or("").to_owned())
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("config.toml");
    std::fs::write(&path, &stdout).unwrap();
    let id = herald::config::load(&path).unwrap().sources[0].id.clone();
    let p = output(
        herald()
            .args(["poll", &id, "--dry-run", "--json", "-c"])
            .arg(&path),
    )
    .await;
    task.abort();
    assert!(p.status.success(), "{}", String::from_utf8_lossy(&p.stderr));
    let polled: Vec<String> = String::from_utf8_lossy(&p.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["title"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(polled.len(), 4, "{polled:?}");
    assert_eq!(preview, polled, "{stdout}");
}

/// A page over a limit of the reader (nested 5,000 deep) is a problem with the page, said so,
/// not "a bug in herald".
#[tokio::test]
async fn a_page_over_the_readers_limits_is_reported_as_the_pages_problem() {
    let cards: String = (0..5)
        .map(|i| {
            format!(
                "<div class='card'><h3><a href='/n/{i}'>A release title number {i}</a></h3></div>"
            )
        })
        .collect();
    let page = format!(
        "<html><body>{}{cards}{}</body></html>",
        "<div>".repeat(5000),
        "</div>".repeat(5000)
    );
    let (origin, task) = serve(&page, &page).await;
    let o = output(herald().arg("suggest").arg(format!("{origin}/news/"))).await;
    task.abort();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("nests elements"), "{err}");
    assert!(!err.contains("bug in herald"), "{err}");
}

/// A feed the page advertises is named only once herald has fetched and read it: one that
/// answers 404, or a web page, is said to be so, and no `kind = "feed"` source is offered for
/// it, whether the page has a list or not.
#[tokio::test]
async fn an_advertised_feed_is_named_only_when_it_reads_as_one() {
    let cards: String = (0..4)
        .map(|i| {
            format!(
                "<article class='post'><h2><a href='/posts/{i}'>A post about the topic {i}</a></h2>\
                 <time>{} March 2026</time></article>",
                10 + i
            )
        })
        .collect();
    let with = |href: &str, body: &str| {
        format!(
            "<html lang='en'><head><title>Blog</title><link rel='alternate' \
             type='application/rss+xml' title='Blog' href='{href}'></head><body><main>{body}\
             </main></body></html>"
        )
    };
    for (href, why) in [
        ("/gone/feed.xml", "which answered HTTP status 404"),
        ("/blog.rss", "which is not a feed: it answered a web page"),
    ] {
        // A list beside it: the block reads the list, and the note says what the feed is.
        let page = with(href, &cards);
        let (origin, task) = serve(&page, "<html><body><p>An article.</p></body></html>").await;
        let o = output(herald().arg("suggest").arg(format!("{origin}/news/"))).await;
        task.abort();
        let stdout = String::from_utf8_lossy(&o.stdout);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{href}: {stderr}");
        let note = stdout
            .lines()
            .find(|l| l.starts_with("# note: the page advertises a feed"))
            .unwrap_or_else(|| panic!("{href}: no note of the feed:\n{stdout}"));
        assert!(note.contains(&format!("{origin}{href}, {why}")), "{note}");
        assert!(!stdout.contains("needs no selectors"), "{href}:\n{stdout}");
        assert!(!stdout.contains("kind = \"feed\""), "{href}:\n{stdout}");
        // No list: exit 1, and no `herald suggest FEED` to try.
        let page = with(href, "<p>Nothing listed here yet.</p>");
        let (origin, task) = serve(&page, &page).await;
        let o = output(herald().arg("suggest").arg(format!("{origin}/news/"))).await;
        task.abort();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{href}: {err}");
        assert!(err.contains(&format!("{origin}{href}, {why}")), "{err}");
        assert!(!err.contains("proposes a source"), "{err}");
    }
    // A feed that reads is offered, with or without a list.
    let page = with("/feed.xml", "<p>Nothing listed here yet.</p>");
    let (origin, task) = serve(&page, &page).await;
    let o = output(herald().arg("suggest").arg(format!("{origin}/news/"))).await;
    task.abort();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "`herald suggest {origin}/feed.xml` proposes a source"
        )),
        "{err}"
    );
}

/// A table whose header row sits in `<tbody>` beside its data rows: the block's item selector
/// matches the releases only, so that no poll reports a card skipped.
#[tokio::test]
async fn a_table_header_row_is_no_card_the_block_reads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/suggest/redteam/table-header-in-tbody");
    let o = run(&dir).await;
    assert_eq!(o.status, Some(0), "{}", o.stderr);
    assert_eq!(o.got, o.want, "{}", o.stdout);
    assert!(o.skipped.is_empty(), "{:?}\n{}", o.skipped, o.stdout);
    assert!(
        !o.stdout.contains("card(s) the item selector"),
        "{}",
        o.stdout
    );
}

/// Cards linking to routes of the list page (`#/news/210`) are releases, as the poller reads
/// them: discovery counts their links with the route kept.
#[tokio::test]
async fn cards_told_apart_by_their_routes_are_a_list() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/suggest/redteam/hash-routes");
    let o = run(&dir).await;
    assert_eq!(o.status, Some(0), "{}", o.stderr);
    assert_eq!(o.got, o.want, "{}", o.stdout);
}

/// A page whose only dates are Unix time in an attribute of each card (`data-timestamp`):
/// suggest proposes that attribute, and its block reads each release's day.
#[tokio::test]
async fn unix_time_in_an_attribute_is_proposed_as_the_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/suggest/redteam/date-in-unix-attribute-en");
    let o = run(&dir).await;
    assert_eq!(o.status, Some(0), "{}", o.stderr);
    assert!(
        o.stdout.contains("date = \"@data-timestamp\""),
        "{}",
        o.stdout
    );
    assert_eq!(o.got, o.want, "{}", o.stdout);
}

/// A pinned card listed again below is one release, as the reader counts it: it does not stop
/// `id_pattern`, and the off-site ad card among the releases is left out (by its own class,
/// `promo`, which no release has, or else by `require_id`).
#[tokio::test]
async fn a_pinned_duplicate_does_not_stop_the_id_pattern() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/suggest/redteam/pinned-beside-offsite-ad");
    let o = run(&dir).await;
    assert_eq!(o.status, Some(0), "{}", o.stderr);
    assert!(
        o.stdout.lines().any(|l| l == "id_pattern = '-(\\d+)$'"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .lines()
            .any(|l| l == "require_id = true" || l == "item = \"div.news-item:not(.promo)\""),
        "{}",
        o.stdout
    );
    assert_eq!(o.got, o.want, "{}", o.stdout);
}

/// Release pages that cannot be read (404) or never answer are said in a note, and those that
/// never answer cost suggest one deadline for all of them, not a fetch timeout each.
#[tokio::test]
async fn release_pages_that_cannot_be_read_are_named_and_do_not_stall_suggest() {
    for (folder, why) in [
        ("gone", "HTTP status 404"),
        ("stall", "no answer within 15 s"),
    ] {
        let cards: String = (0..5)
            .map(|i| {
                format!(
                    "<div class='card'><h3><a href='/{folder}/{}'>A release of the ministry \
                     number {i}</a></h3><span class='date'>{} March 2026</span></div>",
                    100 + i,
                    20 - i
                )
            })
            .collect();
        let list = format!("<html lang='en'><body><main>{cards}</main></body></html>");
        let (origin, task) = serve(&list, "<html></html>").await;
        let started = std::time::Instant::now();
        let o = output(herald().arg("suggest").arg(format!("{origin}/news/"))).await;
        let took = started.elapsed();
        task.abort();
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert_eq!(o.status.code(), Some(0), "{stdout}");
        let note = stdout
            .lines()
            .find(|l| l.contains("release pages opened could not be read"))
            .unwrap_or_else(|| panic!("{folder}: no note:\n{stdout}"));
        assert!(note.contains(why), "{folder}: {note}");
        assert!(
            note.contains("no `[sources.article]` selectors"),
            "{folder}: {note}"
        );
        assert!(took.as_secs() < 45, "{folder}: took {took:?}");
    }
}
