//! Golden fixtures for list pages shaped like akorda.kz's, read as the shipped `config.toml`'s
//! sources read them: `X.html` → `X.expected.json` beside it (relative links and `<base href>`,
//! tracking parameters, lazy images, thumbnails of full-size pictures, localized and relative
//! dates, escaped text, a card whose link is `javascript:`, cards that are not releases).
//! `HERALD_BLESS=1` rewrites the expected files after a deliberate change.

use crate::common;

use std::path::Path;
use std::time::Duration;
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

/// A list site whose pages a test sets: path and query → (status, body); 404 for any other.
#[derive(Clone, Default)]
struct Pages(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (u16, String)>>>);

impl Pages {
    /// Starts the site; returns its base URL.
    async fn serve(&self) -> String {
        let pages = self.clone();
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let page = pages.0.lock().unwrap().get(&uri.to_string()).cloned();
            async move {
                let (status, body) = page.unwrap_or((404, String::new()));
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    [("content-type", "text/html; charset=utf-8")],
                    body,
                )
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    fn set(&self, path: &str, status: u16, body: String) {
        self.0
            .lock()
            .unwrap()
            .insert(path.to_owned(), (status, body));
    }
}

/// A list page of `div.card`s: (link path, title, date text or none) each.
fn cards(releases: &[(&str, &str, Option<&str>)]) -> String {
    let cards: String = releases
        .iter()
        .map(|(path, title, date)| {
            let date = date.map(|d| format!("<h5>{d}</h5>")).unwrap_or_default();
            format!("<div class=\"card\"><h3><a href=\"{path}\">{title}</a></h3>{date}</div>\n")
        })
        .collect();
    format!("<html><body>{cards}</body></html>")
}

/// An app posting source `x` (`div.card`s at `{base}/list`, backfill 1) to channel `c` through
/// the fake Bot API.
async fn telegram_list_app(fake: &fake_botapi::FakeBotApi, base: &str) -> common::TestApp {
    common::spawn_app_with(common::Setup::telegram(
        fake,
        &format!(
            "[[channels]]\nid = \"c\"\nchat = \"@list_channel\"\n\n\
             [[sources]]\nid = \"x\"\nurl = \"{base}/list\"\nschedule = \"0 0 0 1 1 *\"\n\
             timezone = \"Asia/Almaty\"\nlanguage = \"en\"\nchannels = [\"c\"]\nbackfill = 1\n\
             [sources.list]\nitem = \"div.card\"\ntitle = \"h3 a\"\nlink = \"h3 a@href\"\n\
             date = \"h5\"\n"
        ),
    ))
    .await
}

/// An app with one more source, `x`, reading `div.card`s at `{base}/list` with `keys`.
async fn app_with_list(base: &str, keys: &str) -> common::TestApp {
    common::spawn_app_with(common::Setup {
        extra_config: format!(
            "[[sources]]\nid = \"x\"\nurl = \"{base}/list\"\nschedule = \"0 0 0 1 1 *\"\n\
             timezone = \"Asia/Almaty\"\nlanguage = \"en\"\n{keys}\n[sources.list]\n\
             item = \"div.card\"\ntitle = \"h3 a\"\nlink = \"h3 a@href\"\ndate = \"h5\"\n"
        ),
        ..common::Setup::default()
    })
    .await
}

/// Titles of source `x`'s JSON Feed, in order, with their dates.
async fn feed_of(t: &common::TestApp) -> Vec<(String, String)> {
    let feed: serde_json::Value = t.get("/feeds/x.json").await.json().await.unwrap();
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["title"].as_str().unwrap().to_owned(),
                i["date_published"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// SPEC: items of the same date keep the site's list order. A new release listed below a
/// stored one of the same date sorts below it, at the bottom or between two (a date-only
/// release of today is not dated after the one above it); stored releases keep their dates;
/// releases of other dates keep the dates' order.
#[tokio::test]
async fn releases_of_one_date_keep_the_site_order_across_polls() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "").await;
    let poll = |releases: Vec<(&'static str, &'static str, Option<&'static str>)>| {
        pages.set("/list", 200, cards(&releases));
        t.poll("x")
    };
    let a = ("/a", "Today A", Some("today"));
    let b = ("/b", "Today B", Some("today"));
    let c = ("/c", "March C", Some("3 March 2026"));
    let d = ("/d", "March D", Some("3 March 2026"));
    let e = ("/e", "March E", Some("3 March 2026"));
    let f = ("/f", "Earlier F", Some("2 March 2026"));
    poll(vec![a, c]).await.unwrap();
    let first = feed_of(&t).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    poll(vec![a, b, c, d]).await.unwrap();
    let titles = |feed: &[(String, String)]| -> Vec<String> {
        feed.iter().map(|(t, _)| t.clone()).collect()
    };
    let feed = feed_of(&t).await;
    assert_eq!(titles(&feed), ["Today A", "Today B", "March C", "March D"]);
    // Stored releases keep their dates.
    assert_eq!(feed[0], first[0]);
    assert_eq!(feed[2], first[1]);
    // One between two stored releases of the date, one above them all, one of another date
    // below.
    poll(vec![a, b, e, c, f, d]).await.unwrap();
    let feed = feed_of(&t).await;
    assert_eq!(
        titles(&feed),
        [
            "Today A",
            "Today B",
            "March E",
            "March C",
            "March D",
            "Earlier F"
        ]
    );
    let x = ("/x", "March X", Some("3 March 2026"));
    poll(vec![a, b, e, c, x, d, f]).await.unwrap();
    let feed = feed_of(&t).await;
    assert_eq!(
        titles(&feed),
        [
            "Today A",
            "Today B",
            "March E",
            "March C",
            "March X",
            "March D",
            "Earlier F"
        ]
    );
    t.stop().await;
}

/// `require_id` that skips every card (the site changed its addresses) is a fault reported
/// like selectors that match nothing, naming `id_pattern`; not "no news".
/// A user name and password in a source's `url` are the admin's secret: a failed fetch of the
/// list page, or of an older page, says the address without them (the poll's error, and
/// `/healthz`).
#[tokio::test]
async fn a_failed_fetch_never_shows_the_password_in_the_sources_url() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let with_secret = base.replacen("http://", "http://admin:hunter2@", 1);
    let t = app_with_list(&with_secret, "").await;
    let err = t.poll("x").await.unwrap_err().to_string();
    assert!(err.contains(&format!("{base}/list")), "{err}");
    let last = t.health().await["sources"]["x"]["last_error"]
        .as_str()
        .unwrap()
        .to_owned();
    for text in [&err, &last] {
        assert!(
            !text.contains("hunter2") && !text.contains("admin@"),
            "{text}"
        );
    }
    // An older page that fails: the walk's error names its address, bare too.
    pages.set(
        "/list",
        200,
        cards(&[("/news/one-1", "One", Some("3 March 2026"))]),
    );
    pages.set("/list?page=2", 500, String::new());
    let report = t.poll("x").await.unwrap();
    let walk = report.walk_error.unwrap();
    assert!(walk.contains(&format!("{base}/list?page=2")), "{walk}");
    assert!(!walk.contains("hunter2"), "{walk}");
    t.stop().await;
}

#[tokio::test]
async fn require_id_skipping_every_card_is_a_reported_fault() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "id_pattern = '-(\\d{4,})$'\nrequire_id = true").await;
    pages.set(
        "/list",
        200,
        cards(&[("/n/one-1001", "One", Some("3 March 2026"))]),
    );
    t.poll("x").await.unwrap();
    pages.set(
        "/list",
        200,
        cards(&[
            ("/news/one", "One", Some("3 March 2026")),
            ("/news/two", "Two", Some("4 March 2026")),
        ]),
    );
    let err = t.poll("x").await.unwrap_err();
    assert!(err.to_string().contains("id_pattern"), "{err}");
    let health = t.health().await;
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["sources"]["x"]["ok"], false);
    let last = health["sources"]["x"]["last_error"].as_str().unwrap();
    assert!(last.contains("id_pattern"), "{last}");
    t.stop().await;
}

/// `require_id` keeps exactly the cards `id_pattern` keys: the pattern reads the link in the
/// form keys are made from (the query rebuilt as form pairs), though the link shown keeps its
/// query as written. Before, `require_id` tested the link as shown and skipped every card.
#[tokio::test]
async fn require_id_keeps_the_cards_the_pattern_keys() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(
        &base,
        "id_pattern = 'path=%2Fnews%2F(\\d+)'\nrequire_id = true",
    )
    .await;
    pages.set(
        "/list",
        200,
        cards(&[
            ("/item?path=/news/1001", "One", Some("3 March 2026")),
            ("/about", "About us", Some("3 March 2026")),
        ]),
    );
    let report = t.poll("x").await.unwrap();
    let titles: Vec<&str> = report.items.iter().map(|o| o.item.title.as_str()).collect();
    assert_eq!(titles, ["One"]);
    // The card left out is said, with its link.
    assert_eq!(report.no_id, [format!("{base}/about")]);
    let note = report.no_id_note().unwrap();
    assert!(
        note.starts_with("1 card(s) left out by `require_id`"),
        "{note}"
    );
    assert!(note.contains(&format!("{base}/about")), "{note}");
    t.stop().await;
}

/// `herald poll` says how many cards `require_id` left out, with an example link, in its
/// summary (with `--json` too): a card that is no release does not vanish without a word.
#[tokio::test]
async fn herald_poll_says_which_cards_require_id_left_out() {
    let pages = Pages::default();
    let base = pages.serve().await;
    pages.set(
        "/list",
        200,
        cards(&[
            ("/n/one-1001", "One", Some("3 March 2026")),
            ("/declarations", "Asset declarations", Some("3 March 2026")),
            ("/n/two-1002", "Two", Some("2 March 2026")),
            ("/about", "About us", None),
        ]),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[[sources]]\nid = \"x\"\nurl = \"{base}/list\"\nschedule = \"0 0 0 1 1 *\"\n\
             timezone = \"Asia/Almaty\"\nlanguage = \"en\"\nid_pattern = '-(\\d{{4,}})$'\n\
             require_id = true\n[sources.list]\nitem = \"div.card\"\ntitle = \"h3 a\"\n\
             link = \"h3 a@href\"\ndate = \"h5\"\n"
        ),
    )
    .unwrap();
    for json in [false, true] {
        let mut command = common::herald_command();
        command.args(["poll", "x", "--dry-run", "-c"]).arg(&path);
        if json {
            command.arg("--json");
        }
        let o = common::command_output(&mut command).await;
        let (stdout, stderr) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        );
        assert!(o.status.success(), "{stderr}");
        assert!(stdout.contains("One") && stdout.contains("Two"), "{stdout}");
        assert!(!stdout.contains("declarations"), "{stdout}");
        assert!(
            stderr.contains(&format!(
                "x: 2 card(s) left out by `require_id`: no id in the link (e.g. {base}/declarations)"
            )),
            "{stderr}"
        );
    }
}

/// A site that writes a session id into its links (PHP's trans_sid, servlet URL rewriting,
/// ASP.NET's cookieless sessions) hands herald, which sends no cookies, a fresh one on every
/// poll: the session is no part of a release's identity, nor of its link, so the second poll
/// finds nothing new.
#[tokio::test]
async fn session_ids_in_links_make_no_new_releases() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "").await;
    let page = |session: &str| {
        let (jsession, php, asp, sid) = (
            format!("/en/news/1;jsessionid={session}?id=1"),
            format!("/item.php?id=2&PHPSESSID={session}"),
            format!("/(S({session}))/news.aspx?id=3"),
            format!("/list.php?id=4&sessionid={session}"),
        );
        cards(&[
            (jsession.as_str(), "One", Some("3 March 2026")),
            (php.as_str(), "Two", Some("3 March 2026")),
            (asp.as_str(), "Three", Some("3 March 2026")),
            (sid.as_str(), "Four", Some("3 March 2026")),
            ("/list.php?id=5&sid=12", "Five", Some("3 March 2026")),
            ("/program?session_id=2", "Six", Some("3 March 2026")),
        ])
    };
    pages.set("/list", 200, page("a1b2c3d4e5f6a7b8c9d0e1f2a3"));
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.count(herald::model::ItemState::New), 6, "{report:?}");
    let links: Vec<String> = report.items.iter().map(|o| o.item.link.clone()).collect();
    assert_eq!(
        links,
        [
            format!("{base}/en/news/1?id=1"),
            format!("{base}/item.php?id=2"),
            format!("{base}/news.aspx?id=3"),
            format!("{base}/list.php?id=4"),
            format!("{base}/list.php?id=5&sid=12"),
            format!("{base}/program?session_id=2"),
        ]
    );
    pages.set("/list", 200, page("f9e8d7c6b5a4f3e2d1c0b9a8f7"));
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.count(herald::model::ItemState::New), 0, "{report:?}");
    assert_eq!(
        report.count(herald::model::ItemState::Known),
        6,
        "{report:?}"
    );
    t.stop().await;
}

/// A forum that keeps a cookieless reader's session in every link of the page (phpBB's
/// `&sid=`, vBulletin's `?s=`, new on each fetch): a session-like name that all the page's links
/// carry with one token value is the page's session, no part of a release; so too when the page
/// briefly lists one topic (its navigation links carry the session too).
#[tokio::test]
async fn a_session_every_link_of_a_forum_page_carries_makes_no_new_releases() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "").await;
    let page = |session: &str, topics: u32| {
        let links: Vec<String> = (1..=3)
            .map(|n| format!("/viewtopic.php?f=2&t={n}&sid={session}"))
            .chain((4..=5).map(|n| format!("/showthread.php?s={session}&t={n}")))
            .take(topics as usize)
            .collect();
        let cards_of: Vec<(&str, &str, Option<&str>)> = links
            .iter()
            .zip(["One", "Two", "Three", "Four", "Five"])
            .map(|(link, title)| (link.as_str(), title, Some("3 March 2026")))
            .collect();
        cards(&cards_of).replace(
            "<body>",
            &format!(
                "<body><a href=\"/index.php?sid={session}\">Index</a> <a href=\"/viewforum.php?f=2&amp;sid={session}\">Forum</a> <a href=\"/index.php?s={session}\">Home</a> <a href=\"/forumdisplay.php?f=2&amp;s={session}\">Board</a>"
            ),
        )
    };
    pages.set("/list", 200, page("0123456789abcdef0123456789abcdef", 5));
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.count(herald::model::ItemState::New), 5, "{report:?}");
    let links: Vec<String> = report.items.iter().map(|o| o.item.link.clone()).collect();
    assert_eq!(
        links,
        [
            format!("{base}/viewtopic.php?f=2&t=1"),
            format!("{base}/viewtopic.php?f=2&t=2"),
            format!("{base}/viewtopic.php?f=2&t=3"),
            format!("{base}/showthread.php?t=4"),
            format!("{base}/showthread.php?t=5"),
        ]
    );
    pages.set("/list", 200, page("fedcba9876543210fedcba9876543210", 5));
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.count(herald::model::ItemState::New), 0, "{report:?}");
    assert_eq!(
        report.count(herald::model::ItemState::Known),
        5,
        "{report:?}"
    );
    // The page briefly lists one topic: still known.
    pages.set("/list", 200, page("aaaabbbbccccdddd0000111122223333", 1));
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.count(herald::model::ItemState::New), 0, "{report:?}");
    t.stop().await;
}

/// An `id_pattern` that gives cards of other links and titles one id (here the year) cannot
/// tell those releases apart: the cards it merges are skipped and said (the poll's report,
/// `/healthz`'s `card_warning`, naming `id_pattern`), never silently; a card shown twice (the
/// same link) stays a silent duplicate.
#[tokio::test]
async fn cards_an_id_pattern_merges_are_reported() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "id_pattern = '/(\\d{4})/'").await;
    let day = Some("3 March 2026");
    pages.set(
        "/list",
        200,
        cards(&[
            ("/news/2026/alpha", "Alpha", day),
            ("/news/2026/alpha", "Alpha", day),
            ("/news/2026/beta", "Beta", day),
        ]),
    );
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.count(herald::model::ItemState::New), 1, "{report:?}");
    let warning = report.card_warning().expect("a warning");
    assert!(warning.starts_with("1 card(s)"), "{warning}");
    assert!(warning.contains("id_pattern"), "{warning}");
    assert!(warning.contains("Beta"), "{warning}");
    t.stop().await;
}

/// A pager numbered from 0 (Drupal: `?page=1` is the second page) or by path is walked as the
/// page's own `rel="next"` link says: releases published while herald was down are all read,
/// none of a page skipped; a "next" link not shaped as the list's next page is none.
#[tokio::test]
async fn the_walk_follows_the_pages_own_next_link() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "max_pages = 6").await;
    let day = Some("3 March 2026");
    let page = |releases: &[(&str, &str, Option<&str>)], next: Option<&str>| {
        let pager = next
            .map(|n| {
                format!("<ul class=\"pager\"><li><a href=\"{n}\" rel=\"next\">Next</a></li></ul>")
            })
            .unwrap_or_default();
        cards(releases).replace("</body>", &format!("{pager}</body>"))
    };
    let set = |path: &str, releases: &[(&str, &str, Option<&str>)], next: Option<&str>| {
        pages.set(path, 200, page(releases, next));
    };
    set(
        "/list",
        &[("/n/9", "Nine", day), ("/n/8", "Eight", day)],
        Some("?page=1"),
    );
    set(
        "/list?page=1",
        &[("/n/7", "Seven", day), ("/n/6", "Six", day)],
        Some("/list/page/3"),
    );
    set(
        "/list/page/3",
        &[("/n/5", "Five", day), ("/n/4", "Four", day)],
        Some("/list/page/4"),
    );
    // A "next" link of another kind (an archive) is no next page: the walk numbers on.
    set(
        "/list/page/4",
        &[("/n/3", "Three", day)],
        Some("/archive-2019.html"),
    );
    set("/archive-2019.html", &[("/old/1", "Old", day)], None);
    set("/list?page=5", &[("/n/2", "Two", day)], None);
    // What `?page=2` would read on such a site: the third page (never asked for).
    set(
        "/list?page=2",
        &[("/n/5", "Five", day), ("/n/4", "Four", day)],
        None,
    );
    let report = t.poll("x").await.unwrap();
    let titles: Vec<&str> = report.items.iter().map(|o| o.item.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Nine", "Eight", "Seven", "Six", "Five", "Four", "Three", "Two"
        ],
        "{report:?}"
    );
    t.stop().await;
}

/// Stories whose own id is `sid`, one of them shown twice (a featured card with an extra
/// parameter): no session, every story its own release with its own link, across polls.
#[tokio::test]
async fn story_ids_named_sid_are_no_session() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "").await;
    let day = Some("3 March 2026");
    pages.set(
        "/list",
        200,
        cards(&[
            ("/article.php?sid=X1b2c3d4e5f6&from=top", "Featured X", day),
            ("/article.php?sid=X1b2c3d4e5f6", "X", day),
            ("/article.php?sid=Y1b2c3d4e5f6", "Y", day),
        ]),
    );
    let report = t.poll("x").await.unwrap();
    let links: Vec<String> = report.items.iter().map(|o| o.item.link.clone()).collect();
    assert_eq!(
        links,
        [
            format!("{base}/article.php?sid=X1b2c3d4e5f6&from=top"),
            format!("{base}/article.php?sid=X1b2c3d4e5f6"),
            format!("{base}/article.php?sid=Y1b2c3d4e5f6"),
        ]
    );
    // Only X is left, shown twice: still two links of X, both known.
    pages.set(
        "/list",
        200,
        cards(&[
            ("/article.php?sid=X1b2c3d4e5f6&from=top", "Featured X", day),
            ("/article.php?sid=X1b2c3d4e5f6", "X", day),
        ]),
    );
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.count(herald::model::ItemState::New), 0, "{report:?}");
    t.stop().await;
}

/// Reading a page better is no correction: a release stored when herald joined a title's text
/// nodes as they came ("Headline" for `Head<br>line`) is known, not changed, once herald keeps
/// the words apart ("Head line"); a real correction still is one.
#[tokio::test]
async fn reading_a_title_better_is_no_correction() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "").await;
    let day = Some("3 March 2026");
    // As the former reading stored it.
    pages.set("/list", 200, cards(&[("/a", "Headline", day)]));
    t.poll("x").await.unwrap();
    pages.set("/list", 200, cards(&[("/a", "Head<br>line", day)]));
    let report = t.poll("x").await.unwrap();
    assert_eq!(
        report.count(herald::model::ItemState::Changed),
        0,
        "{report:?}"
    );
    pages.set(
        "/list",
        200,
        cards(&[("/a", "Head<br>line corrected", day)]),
    );
    let report = t.poll("x").await.unwrap();
    assert_eq!(
        report.count(herald::model::ItemState::Changed),
        1,
        "{report:?}"
    );
    t.stop().await;
}

/// A release in which the configured date selector finds nothing has a date not read: the
/// poll warns, /healthz says so, and the release is dated by the one above it, not as new.
#[tokio::test]
async fn a_date_selector_finding_nothing_is_warned_about() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "").await;
    pages.set(
        "/list",
        200,
        cards(&[
            ("/a", "Dated", Some("3 March 2026")),
            ("/b", "Dateless", None),
        ]),
    );
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.unreadable_dates.len(), 1, "{report:?}");
    assert!(report.unreadable_dates[0].0.ends_with("/b"));
    let health = t.health().await;
    let warning = health["sources"]["x"]["date_warning"].as_str().unwrap();
    assert!(warning.contains("could not be read"), "{warning}");
    let feed = feed_of(&t).await;
    assert_eq!(feed[1].0, "Dateless");
    assert_eq!(feed[1].1, feed[0].1, "dated by the release above it");
    t.stop().await;
}

/// A release without a date of its own is never dated earlier than the day it is first seen:
/// with no `date` selector, a new card below a card stored on another day (here a card
/// pinned at the top, first seen long ago) is dated when first seen, not at that card's
/// time; below a release of the day it is first seen, it keeps its place under it.
#[tokio::test]
async fn a_release_without_a_date_is_never_backdated_by_another_day() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = common::spawn_app_with(common::Setup {
        extra_config: format!(
            "[[sources]]\nid = \"x\"\nurl = \"{base}/list\"\nschedule = \"0 0 0 1 1 *\"\n\
             timezone = \"Asia/Almaty\"\nlanguage = \"en\"\n[sources.list]\n\
             item = \"div.card\"\ntitle = \"h3 a\"\nlink = \"h3 a@href\"\n"
        ),
        ..common::Setup::default()
    })
    .await;
    // The pinned card, stored when first seen 40 days ago.
    let store = &t.app.shared.store;
    let link = format!("{base}/pinned");
    let at = chrono::Utc::now() - chrono::Duration::days(40);
    let pinned = herald::model::Item {
        id: herald::model::ItemId::new("x", &link),
        source: "x".into(),
        title: "Pinned".into(),
        link,
        summary: None,
        content_html: None,
        image: None,
        language: "en".into(),
        published: at,
        updated: at,
        first_seen: at,
        seq: store.next_seq().unwrap(),
    };
    store
        .commit(&herald::store::Commit {
            source: "x",
            new: &[pinned],
            corrected: &[],
            deliveries: &[],
            baselines: &[],
            content_digests: &std::collections::HashMap::new(),
            max_items: 100,
            links: &[],
            unlinks: &[],
            seen_only: &[],
            restored: &[],
        })
        .await
        .unwrap();
    pages.set(
        "/list",
        200,
        cards(&[
            ("/pinned", "Pinned", None),
            ("/new-1", "New one", None),
            ("/new-2", "New two", None),
        ]),
    );
    let before = chrono::Utc::now();
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.count(herald::model::ItemState::New), 2, "{report:?}");
    for o in &report.items {
        if o.item.title.starts_with("New") {
            assert!(
                o.item.published >= before - chrono::Duration::seconds(1),
                "{} dated {}, the pinned card's time",
                o.item.title,
                o.item.published
            );
        }
    }
    // The feed: the new releases above the pinned one, in the page's order.
    let feed = feed_of(&t).await;
    let titles: Vec<&str> = feed.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(titles, ["New one", "New two", "Pinned"]);
    t.stop().await;
}

/// An older page that fails cuts the walk short: /healthz shows it, and the next poll reads
/// on, though the first page is unchanged. A page that is not there (404) ends the list
/// without a fault.
#[tokio::test]
async fn a_walk_cut_short_by_an_error_is_resumed() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "").await;
    pages.set(
        "/list",
        200,
        cards(&[
            ("/a", "A", Some("5 March 2026")),
            ("/b", "B", Some("5 March 2026")),
        ]),
    );
    pages.set("/list?page=2", 500, "oops".into());
    let first = t.poll("x").await.unwrap();
    assert_eq!(first.count(herald::model::ItemState::New), 2);
    assert!(first.walk_error.is_some());
    let health = t.health().await;
    assert_eq!(health["sources"]["x"]["ok"], false, "{health}");
    let last = health["sources"]["x"]["last_error"].as_str().unwrap();
    assert!(last.contains("page 2"), "{last}");

    pages.set(
        "/list?page=2",
        200,
        cards(&[
            ("/c", "C", Some("4 March 2026")),
            ("/d", "D", Some("4 March 2026")),
        ]),
    );
    let second = t.poll("x").await.unwrap();
    assert_eq!(second.count(herald::model::ItemState::New), 2, "{second:?}");
    assert!(second.walk_error.is_none());
    assert_eq!(t.app.shared.store.count("x").unwrap(), 4);
    let health = t.health().await;
    assert_eq!(health["sources"]["x"]["ok"], true, "{health}");
    // The walk is done: the next poll sees page 1 unchanged and reads nothing more.
    let third = t.poll("x").await.unwrap();
    assert!(third.unchanged);
    t.stop().await;
}

/// A fake Bot API with one admin chat (`admin`), a site, and an app reading source `id`
/// (`div.card`s at the site's `/list`) whose faults the admin is told.
async fn app_told_to_admin(
    id: &str,
    admin: i64,
) -> (fake_botapi::FakeBotApi, Pages, common::TestApp) {
    let fake = fake_botapi::FakeBotApi::start(fake_botapi::FakeOptions {
        chats: vec![fake_botapi::ChatConfig {
            id: admin,
            username: None,
            title: "admin".into(),
            kind: fake_botapi::ChatKind::Private,
            bot_is_member: true,
        }],
        ..fake_botapi::FakeOptions::default()
    })
    .await;
    let pages = Pages::default();
    let base = pages.serve().await;
    let mut setup = common::Setup::telegram(&fake, &format!("admins = [{admin}]\n"));
    setup.extra_config.push_str(&format!(
        "[[sources]]\nid = \"{id}\"\nurl = \"{base}/list\"\nschedule = \"0 0 0 1 1 *\"\n\
         language = \"en\"\n[sources.list]\nitem = \"div.card\"\ntitle = \"h3 a\"\n\
         link = \"h3 a@href\"\ndate = \"h5\"\n"
    ));
    let t = common::spawn_app_with(setup).await;
    (fake, pages, t)
}

/// The texts of the messages sent to `chat`.
fn texts_to(fake: &fake_botapi::FakeBotApi, chat: i64) -> Vec<String> {
    fake.messages_for(chat)
        .into_iter()
        .map(|m| m.text.unwrap_or_default())
        .collect()
}

/// A walk cut short poll after poll is a failing source: `/metrics` counts those polls apart
/// from ok ones (metrics are the process's: the source has an id of its own), the admins are
/// told once the cut has lasted `FAILING_AFTER` polls, and told again when a walk gets through.
#[tokio::test(flavor = "multi_thread")]
async fn a_walk_cut_poll_after_poll_is_reported_as_failing() {
    const ADMIN: i64 = 4242;
    let (fake, pages, t) = app_told_to_admin("walk-cut", ADMIN).await;
    let day = Some("5 March 2026");
    pages.set("/list", 200, cards(&[("/a", "A", day), ("/b", "B", day)]));
    pages.set("/list?page=2", 500, "oops".into());
    for _ in 0..4 {
        assert!(t.poll("walk-cut").await.unwrap().walk_error.is_some());
    }
    let metrics = t.text("/metrics").await;
    let polls = |result: &str| {
        metrics
            .lines()
            .find(|l| {
                l.starts_with("herald_polls_total")
                    && l.contains(&format!("result=\"{result}\""))
                    && l.contains("source=\"walk-cut\"")
            })
            .map(|l| l.rsplit(' ').next().unwrap().to_owned())
    };
    assert_eq!(polls("walk_cut").as_deref(), Some("4"), "{metrics}");
    assert_eq!(polls("ok"), None, "{metrics}");
    let admin_texts = || texts_to(&fake, ADMIN);
    common::eventually("the failing alert", Duration::from_secs(10), || {
        !admin_texts().is_empty()
    })
    .await;
    pages.set(
        "/list?page=2",
        200,
        cards(&[("/c", "C", Some("4 March 2026"))]),
    );
    assert!(t.poll("walk-cut").await.unwrap().walk_error.is_none());
    common::eventually("the recovery alert", Duration::from_secs(10), || {
        admin_texts().len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let texts = admin_texts();
    assert_eq!(texts.len(), 2, "{texts:#?}");
    assert!(
        texts[0].contains("is failing (3 polls in a row)") && texts[0].contains("page 2"),
        "{}",
        texts[0]
    );
    assert!(texts[1].contains("works again"), "{}", texts[1]);
    t.stop().await;
}

/// The next poll reads on from where the cut walk stopped even when newer releases pushed the
/// releases it missed a page further down.
#[tokio::test]
async fn a_cut_walk_reads_on_past_releases_pushed_down() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "").await;
    let day = Some("5 March 2026");
    pages.set("/list", 200, cards(&[("/a", "A", day), ("/b", "B", day)]));
    pages.set("/list?page=2", 503, String::new());
    assert!(t.poll("x").await.unwrap().walk_error.is_some());
    // Two releases since: A and B are on page 2 now, the missed C and D on page 3.
    let today = Some("today");
    pages.set(
        "/list",
        200,
        cards(&[("/n1", "N1", today), ("/n2", "N2", today)]),
    );
    pages.set(
        "/list?page=2",
        200,
        cards(&[("/a", "A", day), ("/b", "B", day)]),
    );
    let missed = Some("4 March 2026");
    pages.set(
        "/list?page=3",
        200,
        cards(&[("/c", "C", missed), ("/d", "D", missed)]),
    );
    let second = t.poll("x").await.unwrap();
    assert_eq!(second.count(herald::model::ItemState::New), 4, "{second:?}");
    assert!(second.walk_error.is_none());
    assert_eq!(t.app.shared.store.count("x").unwrap(), 6);
    t.stop().await;
}

/// The releases a cut first walk leaves to the next poll belong to the first poll's backfill:
/// they are stored, not posted; what is new after that is.
#[tokio::test(flavor = "multi_thread")]
async fn releases_read_on_after_a_cut_first_walk_are_not_posted() {
    use fake_botapi::{FakeBotApi, FakeOptions};
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = telegram_list_app(&fake, &base).await;
    let day = Some("5 March 2026");
    let (a, b) = (("/a", "Release A", day), ("/b", "Release B", day));
    pages.set("/list", 200, cards(&[a, b]));
    pages.set("/list?page=2", 500, String::new());
    t.poll("x").await.unwrap();
    let first = fake.wait_for_messages(1, Duration::from_secs(10)).await;
    let older = Some("4 March 2026");
    pages.set(
        "/list?page=2",
        200,
        cards(&[("/c", "Release C", older), ("/d", "Release D", older)]),
    );
    let second = t.poll("x").await.unwrap();
    assert_eq!(second.count(herald::model::ItemState::New), 2);
    pages.set(
        "/list",
        200,
        cards(&[("/e", "Release E", Some("6 March 2026")), a, b]),
    );
    t.poll("x").await.unwrap();
    let all = fake.wait_for_messages(2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let texts: Vec<String> = fake
        .messages()
        .iter()
        .map(|m| m.text.clone().or(m.caption.clone()).unwrap_or_default())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:#?}");
    assert!(texts[0].contains("Release A"), "{texts:#?}");
    assert!(texts[1].contains("Release E"), "{texts:#?}");
    assert_eq!(first.len(), 1);
    assert_eq!(all.len(), 2);
    t.stop().await;
}

/// An older page that keeps failing (a 500 at every poll) keeps a channel's first poll
/// waiting for a whole walk a few polls only: then the first poll counts as done, and a burst
/// is posted whole, not only its backfill.
#[tokio::test(flavor = "multi_thread")]
async fn an_older_page_that_keeps_failing_holds_the_first_poll_a_few_polls_only() {
    use fake_botapi::{FakeBotApi, FakeOptions};
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = telegram_list_app(&fake, &base).await;
    let a = ("/a", "Release A", Some("5 March 2026"));
    pages.set("/list", 200, cards(&[a]));
    pages.set("/list?page=2", 500, String::new());
    for _ in 0..3 {
        t.poll("x").await.unwrap();
    }
    let day = Some("6 March 2026");
    let burst = [("/e", "Release E", day), ("/f", "Release F", day)];
    pages.set("/list", 200, cards(&[burst[1], burst[0], a]));
    t.poll("x").await.unwrap();
    fake.wait_for_messages(3, Duration::from_secs(10)).await;
    let texts: Vec<String> = fake
        .messages()
        .iter()
        .map(|m| m.text.clone().or(m.caption.clone()).unwrap_or_default())
        .collect();
    assert_eq!(texts.len(), 3, "{texts:#?}");
    assert!(texts[0].contains("Release A"), "{texts:#?}");
    t.stop().await;
}

/// An older page that shows no release (a list read to its end, a site without `?page=N`) or
/// is not there (404) ends the walk: no fault, nothing left for the next poll.
#[tokio::test]
async fn an_older_page_without_releases_ends_the_list() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "").await;
    pages.set("/list", 200, cards(&[("/a", "A", Some("5 March 2026"))]));
    pages.set(
        "/list?page=2",
        200,
        "<html><body><p>No more news</p></body></html>".into(),
    );
    let first = t.poll("x").await.unwrap();
    assert!(first.walk_error.is_none(), "{first:?}");
    assert_eq!(first.pages, 2);
    let health = t.health().await;
    assert_eq!(health["sources"]["x"]["ok"], true, "{health}");
    assert!(t.poll("x").await.unwrap().unchanged);
    t.stop().await;
}

/// Writes `t`'s config with `from` replaced by `to` and waits until the app has taken it.
async fn edit_config(
    t: &common::TestApp,
    from: &str,
    to: &str,
    applied: impl Fn(&common::TestApp) -> bool,
) {
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let edited = text.replacen(from, to, 1);
    assert_ne!(edited, text, "`{from}` is not in the config");
    std::fs::write(&t.config_path, edited).unwrap();
    common::eventually("edit applied", Duration::from_secs(10), || applied(t)).await;
}

/// The reading digest tells how page 1 was read, not how far the walk went: with an older
/// page that keeps failing, the polls after the first are no rereads, and a title corrected
/// on page 1 is a correction (a reread would take it for a reading change, known).
#[tokio::test]
async fn a_correction_is_one_while_an_older_page_keeps_failing() {
    use herald::model::ItemState;
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "").await;
    let day = Some("3 March 2026");
    pages.set(
        "/list",
        200,
        cards(&[("/a", "A", day), ("/b", "B", day), ("/c", "C", day)]),
    );
    pages.set("/list?page=2", 500, String::new());
    assert_eq!(t.poll("x").await.unwrap().count(ItemState::New), 3);
    t.poll("x").await.unwrap();
    pages.set(
        "/list",
        200,
        cards(&[
            ("/a", "A corrected", day),
            ("/b", "B", day),
            ("/c", "C", day),
        ]),
    );
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.count(ItemState::Changed), 1, "{report:?}");
    assert_eq!(report.count(ItemState::Known), 2, "{report:?}");
    t.stop().await;
}

/// A site that tells its releases apart by query alone (`/news.php?id=101`): an `id_pattern`
/// added to read the id keeps every release's identity (matched by its whole address), so
/// none is new again.
#[tokio::test]
async fn an_id_pattern_edit_keeps_releases_told_apart_by_query() {
    use herald::model::ItemState;
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "# x keys").await;
    let day = Some("3 March 2026");
    pages.set(
        "/list",
        200,
        cards(&[
            ("/news.php?id=103", "Three", day),
            ("/news.php?id=102", "Two", day),
            ("/news.php?id=101", "One", day),
        ]),
    );
    assert_eq!(t.poll("x").await.unwrap().count(ItemState::New), 3);
    edit_config(&t, "# x keys", "id_pattern = 'id=(\\d+)'", |t| {
        t.app.config().source("x").unwrap().id_pattern.is_some()
    })
    .await;
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.count(ItemState::New), 0, "{report:?}");
    assert_eq!(report.count(ItemState::Known), 3, "{report:?}");
    assert_eq!(feed_of(&t).await.len(), 3);
    t.stop().await;
}

/// A title corrected on the site while the admin edits how the source is read: the poll that
/// reads the page the new way announces nothing (known), but the feed shows the page's
/// reading, not the stored one for ever (later polls compare with the new reading).
#[tokio::test]
async fn a_reread_poll_leaves_no_stale_entry_in_the_feed() {
    use herald::model::ItemState;
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "# x keys").await;
    let day = Some("3 March 2026");
    pages.set("/list", 200, cards(&[("/a", "A", day), ("/b", "B", day)]));
    assert_eq!(t.poll("x").await.unwrap().count(ItemState::New), 2);
    pages.set(
        "/list",
        200,
        cards(&[("/a", "A corrected", day), ("/b", "B", day)]),
    );
    edit_config(&t, "# x keys", "summary_length = 123", |t| {
        t.app.config().source("x").unwrap().summary_length == 123
    })
    .await;
    // The feed as served after the edit, before the poll (kept in the feed cache).
    assert_eq!(feed_of(&t).await.len(), 2);
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.count(ItemState::Changed), 0, "{report:?}");
    assert_eq!(report.count(ItemState::New), 0, "{report:?}");
    let titles: Vec<String> = feed_of(&t).await.into_iter().map(|(t, _)| t).collect();
    assert!(titles.contains(&"A corrected".to_owned()), "{titles:?}");
    assert!(!titles.contains(&"A".to_owned()), "{titles:?}");
    assert!(t.poll("x").await.unwrap().unchanged);
    t.stop().await;
}

/// An article page's time refines a list date without one (SPEC: a release's date is its own
/// where the site gives it): "8 December" on the list and 00:20 that day on the article page
/// is 00:20; an article date of another day leaves the list's day.
#[tokio::test]
async fn an_article_time_refines_a_list_date_of_the_same_day() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(
        &base,
        "[sources.article]\nbody = \"div.text\"\ndate = \"time@datetime\"\n",
    )
    .await;
    let tz = chrono_tz::Asia::Almaty;
    let day = (chrono::Utc::now().with_timezone(&tz) - chrono::Duration::days(2)).date_naive();
    let shown = day.format("%-d %B %Y").to_string();
    pages.set(
        "/list",
        200,
        cards(&[
            ("/a", "Refined", Some(&shown)),
            ("/b", "Other day", Some(&shown)),
        ]),
    );
    let article = |at: String| {
        format!(
            "<html><body><time datetime=\"{at}\">{at}</time>\
             <div class=\"text\"><p>The article's text, told at some length.</p></div></body></html>"
        )
    };
    pages.set("/a", 200, article(format!("{day}T00:20")));
    pages.set(
        "/b",
        200,
        article(format!("{}T10:00", day.succ_opt().unwrap())),
    );
    let report = t.poll("x").await.unwrap();
    let dates: Vec<String> = report
        .items
        .iter()
        .map(|o| o.item.published.with_timezone(&tz).to_rfc3339())
        .collect();
    assert_eq!(
        dates,
        [
            format!("{day}T00:20:00+05:00"),
            format!("{day}T00:00:00+05:00")
        ]
    );
    t.stop().await;
}

/// A release back after `herald prune` (its ids kept) is read as a new one is, its article
/// page too, and keeps the date the feed showed before the prune (an undated one was dated
/// when first seen: read again, it would be dated now).
#[tokio::test]
async fn a_release_back_after_a_prune_is_read_whole_and_keeps_its_date() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "[sources.article]\nbody = \"div.text\"\n").await;
    pages.set("/list", 200, cards(&[("/a", "A", None)]));
    pages.set(
        "/a",
        200,
        "<html><body><div class=\"text\"><p>Article text of a, told at some length.</p></div></body></html>"
            .into(),
    );
    let first = t.poll("x").await.unwrap();
    let before = first.items[0].item.clone();
    assert!(
        before
            .content_html
            .as_deref()
            .is_some_and(|h| h.contains("Article text of a")),
        "{before:?}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(t.app.shared.store.prune("x").await.unwrap(), 1);
    let back = t.poll("x").await.unwrap();
    assert_eq!(back.restored, 1);
    let after = &back.items[0].item;
    assert_eq!(after.id, before.id);
    assert_eq!(after.published, before.published);
    assert_eq!(after.content_html, before.content_html);
    t.stop().await;
}

/// A source whose list shows no summary takes its releases' summaries from their article
/// pages. A reread poll (a reading edit) reads the list only, not the article pages of known
/// releases: the feed keeps the summaries the articles gave, not the list's none.
#[tokio::test]
async fn a_reread_poll_keeps_the_summaries_article_pages_gave() {
    use herald::model::ItemState;
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "# x keys\n[sources.article]\nbody = \"div.text\"\n").await;
    let day = Some("3 March 2026");
    pages.set("/list", 200, cards(&[("/a", "A", day), ("/b", "B", day)]));
    for page in ["a", "b"] {
        pages.set(
            &format!("/{page}"),
            200,
            format!(
                "<html><body><div class=\"text\"><p>Article text of {page}, told at length.</p></div></body></html>"
            ),
        );
    }
    assert_eq!(t.poll("x").await.unwrap().count(ItemState::New), 2);
    let before = t.get("/feeds/x.json").await.text().await.unwrap();
    assert!(before.contains("Article text of a"), "{before}");
    pages.set(
        "/list",
        200,
        cards(&[("/a", "A corrected", day), ("/b", "B", day)]),
    );
    edit_config(&t, "# x keys", "summary_length = 123", |t| {
        t.app.config().source("x").unwrap().summary_length == 123
    })
    .await;
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.refreshed, 1, "{report:?}");
    let after = t.get("/feeds/x.json").await.text().await.unwrap();
    assert!(after.contains("A corrected"), "{after}");
    let feed: serde_json::Value = serde_json::from_str(&after).unwrap();
    for item in feed["items"].as_array().unwrap() {
        let summary = item["summary"].as_str().unwrap_or_default();
        assert!(summary.contains("Article text of"), "{item}");
    }
    t.stop().await;
}

/// An `id_pattern` edit gives every stored release its new key at once, not only those the
/// reread poll reads: a later poll that walks on to page 2 finds its releases known, not new.
#[tokio::test]
async fn an_id_pattern_edit_keeps_the_releases_of_older_pages() {
    use herald::model::ItemState;
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "# x keys").await;
    let day = Some("3 March 2026");
    pages.set(
        "/list",
        200,
        cards(&[("/news/3-three", "Three", day), ("/news/2-two", "Two", day)]),
    );
    pages.set(
        "/list?page=2",
        200,
        cards(&[("/news/1-one", "One", day), ("/news/0-zero", "Zero", day)]),
    );
    assert_eq!(t.poll("x").await.unwrap().count(ItemState::New), 4);
    edit_config(&t, "# x keys", "id_pattern = '/news/(\\d+)'", |t| {
        t.app.config().source("x").unwrap().id_pattern.is_some()
    })
    .await;
    // The reread poll reads page 1 only: nothing on it is new.
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.count(ItemState::New), 0, "{report:?}");
    assert_eq!(report.pages, 1, "{report:?}");
    // A new release on page 1: the poll walks on to page 2.
    pages.set(
        "/list",
        200,
        cards(&[
            ("/news/4-four", "Four", day),
            ("/news/3-three", "Three", day),
            ("/news/2-two", "Two", day),
        ]),
    );
    let report = t.poll("x").await.unwrap();
    assert!(report.pages >= 2, "{report:?}");
    assert_eq!(report.count(herald::model::ItemState::New), 1, "{report:?}");
    assert_eq!(feed_of(&t).await.len(), 5);
    t.stop().await;
}

/// An edit that changes no release's reading (a filter, the pages walked, the request's
/// headers) makes the next poll read the page, but no reread: a title corrected on the site
/// meanwhile is a correction.
#[tokio::test]
async fn an_edit_of_what_is_kept_reads_the_page_without_a_reread() {
    use herald::model::ItemState;
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "# x keys").await;
    let day = Some("3 March 2026");
    pages.set("/list", 200, cards(&[("/a", "A", day), ("/b", "B", day)]));
    assert_eq!(t.poll("x").await.unwrap().count(ItemState::New), 2);
    assert!(t.poll("x").await.unwrap().unchanged);
    // The page unchanged: the edit alone makes the poll read it.
    edit_config(&t, "# x keys", "max_pages = 2\n# x keys", |t| {
        t.app.config().source("x").unwrap().max_pages == 2
    })
    .await;
    let report = t.poll("x").await.unwrap();
    assert!(!report.unchanged, "{report:?}");
    assert!(t.poll("x").await.unwrap().unchanged);
    pages.set(
        "/list",
        200,
        cards(&[("/a", "A corrected", day), ("/b", "B", day)]),
    );
    edit_config(&t, "# x keys", "exclude = ['^nothing like this$']", |t| {
        !t.app.config().source("x").unwrap().exclude.is_empty()
    })
    .await;
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.count(ItemState::Changed), 1, "{report:?}");
    assert_eq!(report.refreshed, 0, "{report:?}");
    t.stop().await;
}

/// A card without a title is reported in the poll's warning; a card showing a release twice (a
/// featured card and its place in the list) is the same release, nothing to fix: not reported.
#[tokio::test]
async fn a_release_shown_twice_is_not_a_skipped_card() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "").await;
    pages.set(
        "/list",
        200,
        cards(&[
            ("/news/one", "One", Some("3 March 2026")),
            ("/news/two", "Two", Some("4 March 2026")),
            ("/news/one", "One", Some("3 March 2026")),
            ("/news/three", " ", Some("5 March 2026")),
        ]),
    );
    let report = t.poll("x").await.unwrap();
    let warning = report
        .card_warning()
        .expect("the untitled card is reported");
    assert!(warning.starts_with("1 card(s)"), "{warning}");
    assert!(warning.contains("no title"), "{warning}");
    let health = t.health().await;
    assert_eq!(health["sources"]["x"]["card_warning"], warning.as_str());
    pages.set(
        "/list",
        200,
        cards(&[
            ("/news/one", "One", Some("3 March 2026")),
            ("/news/one", "One", Some("3 March 2026")),
        ]),
    );
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.card_warning(), None);
    let health = t.health().await;
    assert_eq!(
        health["sources"]["x"]["card_warning"],
        serde_json::Value::Null
    );
    t.stop().await;
}

/// A site whose links move to another host (here the configured host's other name, as after a
/// redirect to a new domain) keeps its releases: the same text under the same path on the
/// source's own host is the release known; a release new there is new, and so is one whose
/// text differs (two hosts may both have a `/news/b`).
#[tokio::test]
async fn releases_whose_links_moved_to_another_host_stay_known() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "").await;
    pages.set(
        "/list",
        200,
        cards(&[
            ("/news/a", "One", Some("3 March 2026")),
            ("/news/b", "Two", Some("2 March 2026")),
        ]),
    );
    t.poll("x").await.unwrap();
    let moved = base.replace("127.0.0.1", "localhost");
    let (a, b, c) = (
        format!("{moved}/news/a"),
        format!("{moved}/news/b"),
        format!("{moved}/news/c"),
    );
    pages.set(
        "/list",
        200,
        cards(&[
            (&c, "Three", Some("4 March 2026")),
            (&a, "One", Some("3 March 2026")),
            (&b, "Two, other text", Some("2 March 2026")),
        ]),
    );
    let report = t.poll_reporting_known("x").await.unwrap();
    let states: Vec<(&str, herald::model::ItemState)> = report
        .items
        .iter()
        .map(|o| (o.item.title.as_str(), o.state))
        .collect();
    assert_eq!(
        states,
        [
            ("Three", herald::model::ItemState::New),
            ("One", herald::model::ItemState::Known),
            ("Two, other text", herald::model::ItemState::New)
        ]
    );
    // The release known takes its new link in the feed (no correction, nothing announced),
    // and is known under it from then on.
    let feed: serde_json::Value = t.get("/feeds/x.json").await.json().await.unwrap();
    let url_of = |title: &str| {
        feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["title"] == title)
            .map(|i| i["url"].as_str().unwrap().to_owned())
    };
    assert_eq!(url_of("One").as_deref(), Some(a.as_str()), "{feed}");
    let report = t.poll_reporting_known("x").await.unwrap();
    assert!(
        report
            .items
            .iter()
            .all(|o| o.state == herald::model::ItemState::Known),
        "{report:?}"
    );
    t.stop().await;
}

/// Cards the list reader skips are counted in `/metrics` (metrics are the process's: the
/// source has an id of its own) and told to the admins once when they start, and once when
/// every card reads again; a poll skipping the same cards again says nothing more.
#[tokio::test(flavor = "multi_thread")]
async fn skipped_cards_are_counted_and_told_once() {
    const ADMIN: i64 = 4343;
    let (fake, pages, t) = app_told_to_admin("cards-skipped", ADMIN).await;
    let day = Some("5 March 2026");
    let broken = "<div class=\"card\"><h3><span>No link</span></h3><h5>5 March 2026</h5></div>";
    let with_broken = cards(&[("/a", "A", day)]).replace("<body>", &format!("<body>{broken}"));
    pages.set("/list", 200, with_broken.clone());
    t.poll("cards-skipped").await.unwrap();
    pages.set(
        "/list",
        200,
        with_broken.replace("</body>", "<p>changed</p></body>"),
    );
    t.poll("cards-skipped").await.unwrap();
    let metrics = t.text("/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l == "herald_list_cards_skipped_total{source=\"cards-skipped\"} 2"),
        "{metrics}"
    );
    let admin_texts = || texts_to(&fake, ADMIN);
    common::eventually("the skipped-cards alert", Duration::from_secs(10), || {
        !admin_texts().is_empty()
    })
    .await;
    pages.set("/list", 200, cards(&[("/a", "A", day)]));
    t.poll("cards-skipped").await.unwrap();
    common::eventually("the recovery alert", Duration::from_secs(10), || {
        admin_texts().len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let texts = admin_texts();
    assert_eq!(texts.len(), 2, "{texts:#?}");
    assert!(
        texts[0].contains("1 card(s) of the list page skipped"),
        "{}",
        texts[0]
    );
    assert!(
        texts[1].contains("every card of the list page reads again"),
        "{}",
        texts[1]
    );
    // A source failing long enough to be told, which works again with a card skipped: both
    // said at once, the skipped card not left for a later changed poll (the next may be a 304).
    pages.set("/list", 500, "down".into());
    for _ in 0..3 {
        let _ = t.poll("cards-skipped").await;
    }
    common::eventually("the failing alert", Duration::from_secs(10), || {
        admin_texts().len() >= 3
    })
    .await;
    pages.set("/list", 200, with_broken.clone());
    t.poll("cards-skipped").await.unwrap();
    common::eventually("the works-again alert", Duration::from_secs(10), || {
        admin_texts().len() >= 4
    })
    .await;
    let texts = admin_texts();
    assert!(texts[2].contains("is failing"), "{texts:#?}");
    assert!(texts[3].contains("works again"), "{texts:#?}");
    assert!(
        texts[3].contains("1 card(s) of the list page skipped"),
        "{texts:#?}"
    );
    t.stop().await;
}

/// A poll after the first whose walk reaches `max_pages` on a page of new releases only has
/// missed the releases past it (more were published since the last poll than the pages show):
/// said in the poll's report and `/healthz`, not silently. A first poll reads its pages as
/// history, and a walk that ends at a known release misses nothing: neither is said.
#[tokio::test]
async fn a_walk_stopped_by_max_pages_among_new_releases_is_reported() {
    let pages = Pages::default();
    let base = pages.serve().await;
    let t = app_with_list(&base, "max_pages = 2").await;
    let day = Some("3 March 2026");
    pages.set(
        "/list",
        200,
        cards(&[("/n/2", "Two", day), ("/n/1", "One", day)]),
    );
    pages.set("/list?page=2", 200, cards(&[("/n/0", "Zero", day)]));
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.pages_warning(), None, "a first poll: {report:?}");
    // Four releases since: two pages of news, a fifth past them.
    pages.set(
        "/list",
        200,
        cards(&[("/n/6", "Six", day), ("/n/5", "Five", day)]),
    );
    pages.set(
        "/list?page=2",
        200,
        cards(&[("/n/4", "Four", day), ("/n/3", "Three", day)]),
    );
    pages.set(
        "/list?page=3",
        200,
        cards(&[("/n/2", "Two", day), ("/n/1", "One", day)]),
    );
    let report = t.poll("x").await.unwrap();
    let warning = report
        .pages_warning()
        .expect("releases past max_pages are reported");
    assert!(warning.contains("`max_pages` = 2"), "{warning}");
    let health = t.health().await;
    assert_eq!(health["sources"]["x"]["pages_warning"], warning.as_str());
    // One release since: the walk ends at a known one; the warning goes.
    pages.set(
        "/list",
        200,
        cards(&[("/n/7", "Seven", day), ("/n/6", "Six", day)]),
    );
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.count(herald::model::ItemState::New), 1, "{report:?}");
    assert_eq!(report.pages_warning(), None, "{report:?}");
    let health = t.health().await;
    assert!(
        health["sources"]["x"]["pages_warning"].is_null(),
        "{health}"
    );
    // A list that ends at `max_pages` (its second page is not there) misses nothing, however
    // new its first page is.
    pages.set(
        "/list",
        200,
        cards(&[("/n/9", "Nine", day), ("/n/8", "Eight", day)]),
    );
    pages.set("/list?page=2", 404, String::new());
    let report = t.poll("x").await.unwrap();
    assert_eq!(report.count(herald::model::ItemState::New), 2, "{report:?}");
    assert_eq!(report.pages_warning(), None, "{report:?}");
    t.stop().await;
}

/// A title that shows nothing (controls, a zero-width space) is no title: the card is skipped
/// and reported, not published as a blank entry; a control removed between words leaves them
/// two words.
#[test]
fn a_title_of_invisible_characters_is_no_title() {
    let config = common::one_akorda_source();
    let html = "<html><body>\
        <div class='card'><h3><a href='/en/a-1'>&#1;&#2; &#8203; </a></h3><h5>7 March 2026</h5></div>\
        <div class='card'><h3><a href='/en/a-2'>&#xFEFF;&#x200D;&#x2060;</a></h3><h5>7 March 2026</h5></div>\
        <div class='card'><h3><a href='/en/a-3'>Control&#1;chars</a></h3><h5>7 March 2026</h5></div>\
        </body></html>";
    let url = Url::parse("https://www.akorda.kz/en/events").unwrap();
    let now = "2026-03-21T05:00:00Z".parse().unwrap();
    let mut notes = herald::pipeline::ListNotes::default();
    let items =
        herald::pipeline::read_list_counted(&config.sources[0], html, &url, now, &mut notes)
            .unwrap();
    let titles: Vec<&str> = items.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles, ["Control chars"]);
    let skipped: Vec<(usize, &str)> = notes
        .skipped_cards
        .iter()
        .map(|c| (c.card, c.why.as_str()))
        .collect();
    assert_eq!(skipped, [(1, "no title"), (2, "no title")]);
}
