//! The served feeds, read by a real third-party reader (Python feedparser) and checked against
//! JSON Feed 1.1; conditional requests; the merged `all` feed.

use crate::common;

use common::site::{release_en, release_kz, release_ru};
use common::{feedparser, spawn_app};
use reqwest::header;

#[tokio::test(flavor = "multi_thread")]
async fn rss_and_atom_parse_in_feedparser_and_keep_their_ids() {
    let t = spawn_app().await;
    for n in 1..=3 {
        t.site.publish("kz", release_kz(n, n as u32));
    }
    t.poll("akorda-kz").await.unwrap();
    let mut before = Vec::new();
    for ext in ["rss", "atom"] {
        let url = format!("{}/feeds/akorda-kz.{ext}", t.base);
        let parsed = tokio::task::spawn_blocking(move || feedparser(&url))
            .await
            .unwrap();
        assert_eq!(parsed["bozo"], 0, "{ext}: {}", parsed["bozo_exception"]);
        let entries = parsed["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 3, "{ext}");
        for e in entries {
            for k in ["id", "link", "title"] {
                assert!(
                    e[k].as_str().is_some_and(|s| !s.is_empty()),
                    "{ext}: {k} in {e}"
                );
            }
            assert!(e["published"].is_array(), "{ext}: no published date in {e}");
            assert_eq!(e["has_content"], true, "{ext}: {e}");
        }
        assert_eq!(
            entries[0]["title"],
            release_kz(3, 3).title,
            "{ext}: newest first"
        );
        before.push(entries.iter().map(|e| e["id"].clone()).collect::<Vec<_>>());
    }
    // Two more polls, one with a new release: the old ids stay the same.
    t.site.publish("kz", release_kz(4, 4));
    t.poll("akorda-kz").await.unwrap();
    t.poll("akorda-kz").await.unwrap();
    for (i, ext) in ["rss", "atom"].iter().enumerate() {
        let url = format!("{}/feeds/akorda-kz.{ext}", t.base);
        let parsed = tokio::task::spawn_blocking(move || feedparser(&url))
            .await
            .unwrap();
        let ids: Vec<_> = parsed["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].clone())
            .collect();
        assert_eq!(ids.len(), 4);
        assert_eq!(ids[1..], before[i][..], "{ext}");
    }
    t.stop().await;
}

/// Titles with an ampersand or a comparison read back in feedparser as written, from the RSS and
/// from the Atom feed. Before, Atom declared every title holding `&` or `<` as HTML, escaped
/// once more, and feedparser read "Tom &amp; Jerry".
#[tokio::test(flavor = "multi_thread")]
async fn titles_with_ampersands_and_comparisons_read_back_as_written() {
    let t = spawn_app().await;
    let titles = [
        "AT&T and Tom & Jerry sign a memorandum",
        "Growth where 3 < 4 and a > b",
    ];
    for (n, title) in titles.iter().enumerate() {
        let mut release = release_en(n as u64 + 1, n as u32 + 1);
        release.title = (*title).into();
        t.site.publish("en", release);
    }
    t.poll("akorda-en").await.unwrap();
    for ext in ["rss", "atom"] {
        let url = format!("{}/feeds/akorda-en.{ext}", t.base);
        let parsed = tokio::task::spawn_blocking(move || feedparser(&url))
            .await
            .unwrap();
        let mut read: Vec<String> = parsed["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["title"].as_str().unwrap().to_owned())
            .collect();
        read.reverse();
        assert_eq!(read, titles, "{ext}");
    }
    t.stop().await;
}

#[tokio::test]
async fn json_feed_has_the_required_fields() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    let r = t.get("/feeds/akorda-en.json").await;
    assert_eq!(
        r.headers()[header::CONTENT_TYPE].to_str().unwrap(),
        "application/feed+json; charset=utf-8"
    );
    let feed: serde_json::Value = r.json().await.unwrap();
    // JSON Feed 1.1: version, title and items are required; each item needs an id and
    // content_html or content_text; feed_url is the feed's own address.
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert!(feed["title"].is_string());
    assert_eq!(feed["feed_url"], format!("{}/feeds/akorda-en.json", t.base));
    assert_eq!(feed["language"], "en");
    let item = &feed["items"][0];
    assert!(item["id"].as_str().unwrap().starts_with("urn:uuid:"));
    assert!(item["content_html"].is_string() || item["content_text"].is_string());
    assert_eq!(item["title"], release_en(1, 1).title);
    assert!(item["url"].as_str().unwrap().starts_with("http://"));
    assert!(
        item["image"]
            .as_str()
            .unwrap()
            .ends_with("/uploadMedia/2026/03/1.jpg")
    );
    chrono::DateTime::parse_from_rfc3339(item["date_published"].as_str().unwrap()).unwrap();
    t.stop().await;
}

#[tokio::test]
async fn conditional_requests_get_304_until_something_changes() {
    let t = spawn_app().await;
    t.site.publish("ru", release_ru(1, 1));
    t.poll("akorda-ru").await.unwrap();
    for ext in ["rss", "atom", "json"] {
        let path = format!("/feeds/akorda-ru.{ext}");
        let first = t.get(&path).await;
        let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
        let modified = first.headers()[header::LAST_MODIFIED]
            .to_str()
            .unwrap()
            .to_owned();
        let url = format!("{}{path}", t.base);
        let by_etag = t.get_if_none_match(&path, &etag).await;
        assert_eq!(by_etag.status(), 304, "{ext}");
        assert_eq!(by_etag.headers()[header::ETAG], etag.as_str());
        let by_date = t
            .http
            .get(&url)
            .header(header::IF_MODIFIED_SINCE, &modified)
            .send()
            .await
            .unwrap();
        assert_eq!(by_date.status(), 304, "{ext}");
        let other = t.get_if_none_match(&path, "\"nope\"").await;
        assert_eq!(other.status(), 200, "{ext}");
    }
    let etag = t.get("/feeds/akorda-ru.rss").await.headers()[header::ETAG]
        .to_str()
        .unwrap()
        .to_owned();
    t.site.publish("ru", release_ru(2, 2));
    t.poll("akorda-ru").await.unwrap();
    let after = t.get_if_none_match("/feeds/akorda-ru.rss", &etag).await;
    assert_eq!(after.status(), 200);
    assert!(
        after
            .text()
            .await
            .unwrap()
            .contains(&release_ru(2, 2).title)
    );
    t.stop().await;
}

#[tokio::test]
async fn all_merges_every_source_newest_first() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 5));
    t.site.publish("ru", release_ru(1, 7));
    t.site.publish("kz", release_kz(1, 6));
    for id in ["akorda-en", "akorda-ru", "akorda-kz"] {
        t.poll(id).await.unwrap();
    }
    let feed: serde_json::Value = t.get("/feeds/all.json").await.json().await.unwrap();
    let titles: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            release_ru(1, 7).title.as_str(),
            &release_kz(1, 6).title,
            &release_en(1, 5).title
        ]
    );
    let langs: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["language"].as_str().unwrap())
        .collect();
    assert_eq!(langs, ["ru", "kk", "en"]);
    assert!(t.text("/feeds/all.rss").await.matches("<item>").count() == 3);
    assert_eq!(t.get("/feeds/nope.rss").await.status(), 404);
    assert_eq!(t.get("/feeds/akorda-en.html").await.status(), 404);
    t.stop().await;
}

#[tokio::test]
async fn index_opml_and_metrics_are_served() {
    let t = spawn_app().await;
    let index = t.text("/").await;
    assert!(index.contains(&format!("href=\"{}/feeds/akorda-en.atom\"", t.base)));
    assert!(index.contains("rel=\"alternate\""));
    let opml = t.text("/opml").await;
    // The three sources and the merged feed, as on the index page.
    assert_eq!(opml.matches("<outline ").count(), 4);
    assert!(
        opml.contains(&format!("xmlUrl=\"{}/feeds/all.rss\"", t.base)),
        "{opml}"
    );
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    t.text("/feeds/akorda-en.rss").await;
    let metrics = t.text("/metrics").await;
    for name in [
        "herald_polls_total",
        "herald_poll_duration_seconds",
        "herald_feed_requests_total",
        "herald_source_items",
        "herald_build_info",
    ] {
        assert!(metrics.contains(name), "{name} missing in:\n{metrics}");
    }
    // A histogram of fixed buckets, not a summary: a summary's sketch per source grew to most
    // of the heap of a herald with 1,000 sources.
    assert!(
        metrics.contains("herald_poll_duration_seconds_bucket{"),
        "{metrics}"
    );
    t.stop().await;
}

/// The W3C Feed Validation Service's own code (`../shared/tools/w3c-feed-validate`, offline)
/// finds no error and no warning in any served RSS or Atom feed, hostile content included.
#[tokio::test(flavor = "multi_thread")]
async fn w3c_validator_accepts_every_feed() {
    let t = spawn_app().await;
    let mut hostile = release_en(1, 2);
    hostile.title = "<script>alert(1)</script> Tom & \"Jerry\" \u{1} — ok".into();
    hostile.summary = "A & B <b>bold</b> \u{7f}".into();
    t.site.publish("en", hostile);
    // Plain text with `&` and `<` that is no markup: `type="text"` in Atom.
    let mut plain = release_en(2, 3);
    plain.title = "AT&T and Tom & Jerry: 3 < 4".into();
    t.site.publish("en", plain);
    t.site.publish("kz", release_kz(1, 4));
    t.site.publish("ru", release_ru(1, 5));
    for id in ["akorda-en", "akorda-ru", "akorda-kz"] {
        t.poll(id).await.unwrap();
    }
    let mut urls: Vec<String> = ["akorda-en", "akorda-kz", "all"]
        .iter()
        .flat_map(|id| ["rss", "atom"].map(|ext| format!("{}/feeds/{id}.{ext}", t.base)))
        .collect();
    // Filtered feeds too: their self links carry the options.
    for path in [
        "/feeds/all.rss?limit=1&lang=kk",
        "/feeds/akorda-en.atom?include=tom&exclude=nothing",
        "/feeds/akorda-en.rss?include=nowhere",
    ] {
        urls.push(format!("{}{path}", t.base));
    }
    common::assert_w3c_valid(&urls).await;
    t.stop().await;
}

/// `?limit`, `?include`, `?exclude` and `?lang` (issue 6): each filtered feed is a feed of its
/// own, with its own self link and ETag; bad values are refused with a reason.
#[tokio::test(flavor = "multi_thread")]
async fn query_options_filter_feeds_and_keep_their_own_validators() {
    let t = spawn_app().await;
    for n in 1..=5 {
        let mut release = release_en(n, n as u32);
        if n == 2 || n == 4 {
            release.title = format!("State Visit number {n} begins");
        }
        if n == 5 {
            release.summary = "Talks during the VISIT went well.".into();
        }
        t.site.publish("en", release);
    }
    t.site.publish("kz", release_kz(1, 6));
    t.poll("akorda-en").await.unwrap();
    t.poll("akorda-kz").await.unwrap();
    let ids = |feed: &serde_json::Value| -> Vec<String> {
        feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                let url = i["url"].as_str().unwrap();
                url.rsplit('-').next().unwrap().to_owned()
            })
            .collect()
    };
    // The query asked, the canonical one (options in README's order: limit, include, exclude,
    // lang; the client follows the 301 there), and the items.
    for (query, canonical, expected) in [
        ("limit=2", "limit=2", vec!["100005", "100004"]),
        (
            "include=visit",
            "include=visit",
            vec!["100005", "100004", "100002"],
        ),
        (
            "include=visit&exclude=number+4",
            "include=visit&exclude=number+4",
            vec!["100005", "100002"],
        ),
        (
            "include=visit&limit=1",
            "limit=1&include=visit",
            vec!["100005"],
        ),
        ("exclude=VISIT", "exclude=VISIT", vec!["100003", "100001"]),
        ("lang=ru", "lang=ru", vec![]),
        (
            "utm_source=mail&lang=en&limit=3",
            "limit=3&lang=en",
            vec!["100005", "100004", "100003"],
        ),
    ] {
        let path = format!("/feeds/akorda-en.json?{query}");
        let r = t.get(&path).await;
        assert_eq!(r.status(), 200, "{query}");
        let feed: serde_json::Value = r.json().await.unwrap();
        assert_eq!(ids(&feed), expected, "{query}");
        assert_eq!(
            feed["feed_url"],
            format!("{}/feeds/akorda-en.json?{canonical}", t.base),
            "{query}: the self link names the options"
        );
    }
    // The merged feed by language; `kz` is read as `kk`.
    for lang in ["kk", "kz"] {
        let feed: serde_json::Value = t
            .get(&format!("/feeds/all.json?lang={lang}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(ids(&feed), ["300001"], "{lang}");
        assert_eq!(feed["language"], "kk");
    }
    // Own validators: a filtered feed's ETag is not the plain feed's, and each answers 304 to
    // its own tag only. Unknown options (trackers) leave the plain feed as it is.
    let (url, filtered_url) = ("/feeds/akorda-en.rss", "/feeds/akorda-en.rss?include=visit");
    let tag_of = |r: &reqwest::Response| r.headers()[header::ETAG].to_str().unwrap().to_owned();
    let plain = tag_of(&t.get(url).await);
    let tracked = tag_of(&t.get("/feeds/akorda-en.rss?utm_source=x").await);
    let filtered = tag_of(&t.get(filtered_url).await);
    assert_eq!(plain, tracked);
    assert_ne!(plain, filtered);
    let status = |path: &'static str, tag: String| {
        let t = &t;
        async move { t.get_if_none_match(path, &tag).await.status() }
    };
    assert_eq!(status(filtered_url, filtered.clone()).await, 304);
    assert_eq!(status(url, filtered.clone()).await, 200);
    assert_eq!(status(filtered_url, plain.clone()).await, 200);
    // Refused with a reason: a typo must not look like an unfiltered feed.
    for (query, status, words) in [
        ("limit=0", 400, "limit"),
        ("limit=all", 400, "limit"),
        ("include=", 400, "include"),
        ("lang=english+please", 400, "lang"),
        ("limit=1&limit=2", 400, "once"),
    ] {
        let r = t.get(&format!("/feeds/akorda-en.rss?{query}")).await;
        assert_eq!(r.status(), status, "{query}");
        assert!(r.text().await.unwrap().contains(words), "{query}");
    }
    let long = format!("/feeds/all.rss?include={}", "a".repeat(2000));
    assert_eq!(t.get(&long).await.status(), 414);
    t.stop().await;
}

/// A site that prints dates without a time gives every release of a day the same instant. Each
/// Atom entry still gets an `updated` of its own, unique within each feed and in `all`, in the
/// site's order within the day, and kept as it is by later polls (a reader re-shows an entry
/// whose `updated` moves).
#[tokio::test(flavor = "multi_thread")]
async fn atom_updated_is_unique_in_every_feed_and_stays() {
    let t = spawn_app().await;
    for n in 1..=4 {
        t.site.publish("en", release_en(n, 15));
    }
    for n in 1..=3 {
        t.site.publish("ru", release_ru(n, 15));
    }
    t.poll("akorda-en").await.unwrap();
    t.poll("akorda-ru").await.unwrap();
    let updated = |atom: &str| -> Vec<(String, String)> {
        let feed = atom_syndication::Feed::read_from(atom.as_bytes()).unwrap();
        feed.entries()
            .iter()
            .map(|e| (e.title().value.clone(), e.updated().to_rfc3339()))
            .collect()
    };
    let mut before = Vec::new();
    for id in ["akorda-en", "akorda-ru", "all"] {
        let entries = updated(&t.text(&format!("/feeds/{id}.atom")).await);
        let unique: std::collections::HashSet<&String> = entries.iter().map(|(_, u)| u).collect();
        assert_eq!(unique.len(), entries.len(), "{id}: {entries:#?}");
        before.push(entries);
    }
    // Newest first in the feed, and later in `updated` too: the site's order within the day.
    let en = &before[0];
    assert_eq!(en[0].0, release_en(4, 15).title);
    assert!(en.windows(2).all(|w| w[0].1 > w[1].1), "{en:#?}");
    // A later poll (a new release elsewhere) moves no stored entry's `updated`.
    t.site.publish("en", release_en(5, 16));
    t.poll("akorda-en").await.unwrap();
    t.poll("akorda-ru").await.unwrap();
    let after = updated(&t.text("/feeds/all.atom").await);
    for entry in &before[2] {
        assert!(after.contains(entry), "{entry:?} moved: {after:#?}");
    }
    let paths: Vec<String> = ["akorda-en", "akorda-ru", "all"]
        .iter()
        .map(|id| format!("{}/feeds/{id}.atom", t.base))
        .collect();
    common::assert_w3c_valid(&paths).await;
    t.stop().await;
}

/// A release dated before 1990 ("1 January 1970" read in Asia/Almaty is 1969 in UTC, which
/// made rendering panic and every feed answer 503) is kept, dated as an undated one (by its
/// neighbour in the list, never as the newest: issue 19), and every feed, filtered or not,
/// answers 200.
#[tokio::test(flavor = "multi_thread")]
async fn a_release_dated_before_1990_is_kept_and_feeds_answer() {
    let t = spawn_app().await;
    let mut old = release_en(1, 1);
    old.date = "1 January 1970".into();
    t.site.publish("en", old.clone());
    t.site.publish("en", release_en(2, 3));
    let started = chrono::Utc::now();
    t.poll("akorda-en").await.unwrap();
    for path in [
        "/feeds/akorda-en.rss",
        "/feeds/akorda-en.atom",
        "/feeds/akorda-en.json",
        "/feeds/all.rss?include=delegation",
    ] {
        let r = t.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
    }
    let items = t.app.shared.store.recent("akorda-en", 10).unwrap();
    let kept = items.iter().find(|i| i.title == old.title).unwrap();
    let other = items.iter().find(|i| i.title != old.title).unwrap();
    assert!(kept.published < started, "dated as new: {kept:?}");
    assert_eq!(kept.published, other.published, "{kept:?}");
    t.stop().await;
}

/// A 304 carries only what RFC 9110 §15.4.5 asks of it — `ETag`, `Cache-Control`, `Vary`,
/// `Date` — and no `Last-Modified`, `Content-Type`, `Content-Length` or `nosniff`: answered from
/// a serving thread's memory, through the router (a query), and for the OPML list alike.
#[tokio::test(flavor = "multi_thread")]
async fn a_304_carries_only_its_validators() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    for path in [
        "/feeds/akorda-en.rss",
        "/feeds/all.atom",
        "/feeds/akorda-en.json?limit=5",
        "/opml",
    ] {
        let first = t.get(path).await;
        assert_eq!(first.status(), 200, "{path}");
        for name in [header::ETAG, header::CACHE_CONTROL, header::CONTENT_TYPE] {
            assert!(first.headers().contains_key(&name), "{path}: 200 {name}");
        }
        let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
        // Several times on one connection: the later ones are answered from memory.
        for _ in 0..3 {
            let again = t.get_if_none_match(path, &etag).await;
            assert_eq!(again.status(), 304, "{path}");
            let headers = again.headers();
            assert_eq!(headers[header::ETAG], etag.as_str(), "{path}");
            for name in [header::CACHE_CONTROL, header::DATE] {
                assert!(headers.contains_key(&name), "{path}: 304 without {name}");
            }
            if path.starts_with("/feeds/") {
                assert_eq!(headers[header::VARY], "accept-encoding", "{path}");
            }
            for name in [
                header::LAST_MODIFIED,
                header::CONTENT_TYPE,
                header::CONTENT_LENGTH,
                header::X_CONTENT_TYPE_OPTIONS,
            ] {
                assert!(!headers.contains_key(&name), "{path}: 304 with {name}");
            }
        }
    }
    t.stop().await;
}

/// `herald_feed_requests_total{format, status}` as `/metrics` reads now.
pub(crate) async fn feed_answers(t: &common::TestApp, format: &str, status: &str) -> u64 {
    let wanted = format!("herald_feed_requests_total{{format=\"{format}\",status=\"{status}\"}} ");
    let metrics = t.text("/metrics").await;
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&wanted))
        .map_or(0, |n| n.trim().parse().unwrap())
}

/// A feed asked for again and again on one keep-alive connection is answered from its serving
/// thread's memory (issue 23); such answers still follow every change, a poll and an edit of
/// the configuration alike, and each is counted in `/metrics`.
#[tokio::test(flavor = "multi_thread")]
async fn feeds_answered_from_memory_follow_every_change_and_are_counted() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    let path = "/feeds/akorda-en.rss";
    let first = t.text(path).await;
    let (ok, fresh) = (
        feed_answers(&t, "rss", "200").await,
        feed_answers(&t, "rss", "304").await,
    );
    let tag = t.get(path).await.headers()[header::ETAG]
        .to_str()
        .unwrap()
        .to_owned();
    for _ in 0..4 {
        assert_eq!(t.text(path).await, first);
        assert_eq!(t.get_if_none_match(path, &tag).await.status(), 304);
    }
    // At least these (the counters are the process's: another test of this binary may serve
    // an RSS feed meanwhile, as a CI run saw).
    assert!(feed_answers(&t, "rss", "200").await >= ok + 5);
    assert!(feed_answers(&t, "rss", "304").await >= fresh + 4);

    // A change of another source: this feed is still current, the same document with the same
    // validators. (Whether it was rendered again is not counted here: the renders counter is
    // the process's, and other tests of this binary render RSS meanwhile, as a parallel run
    // saw; `another_sources_change_leaves_a_cached_feed_current` in the lib tests holds that.)
    t.site.publish("ru", release_ru(1, 1));
    t.poll("akorda-ru").await.unwrap();
    for _ in 0..3 {
        assert_eq!(t.text(path).await, first);
        assert_eq!(t.get_if_none_match(path, &tag).await.status(), 304);
    }

    // A poll that stores a release: the next answer has it, and the old tag is stale.
    t.site.publish("en", release_en(2, 2));
    t.poll("akorda-en").await.unwrap();
    let after_poll = t.get_if_none_match(path, &tag).await;
    assert_eq!(after_poll.status(), 200);
    let after_poll = after_poll.text().await.unwrap();
    assert!(after_poll.contains(&release_en(2, 2).title));
    for _ in 0..3 {
        assert_eq!(t.text(path).await, after_poll);
    }

    // An edit of the source's title: once the configuration is reloaded, the feed says so.
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let edited = text.replacen(
        "title = \"Akorda — press releases\"",
        "title = \"Akorda, renamed\"",
        1,
    );
    assert_ne!(edited, text);
    std::fs::write(&t.config_path, edited).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !t.text(path).await.contains("Akorda, renamed") {
        assert!(
            std::time::Instant::now() < deadline,
            "the renamed title is not served"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    t.stop().await;
}

/// A feed's `ETag`, `Last-Modified` and body, answered to `GET path` with `If-Modified-Since:
/// since` when given.
async fn validators(
    t: &common::TestApp,
    path: &str,
    since: Option<&str>,
) -> (u16, String, String, String) {
    let mut ask = t.http.get(format!("{}{path}", t.base));
    if let Some(since) = since {
        ask = ask.header(header::IF_MODIFIED_SINCE, since);
    }
    let r = ask.send().await.unwrap();
    let status = r.status().as_u16();
    let etag = r.headers()[header::ETAG].to_str().unwrap().to_owned();
    // A 304 sends none (RFC 9110 §15.4.5): the reader keeps the 200's.
    let modified = match r.headers().get(header::LAST_MODIFIED) {
        Some(modified) => modified.to_str().unwrap().to_owned(),
        None => {
            assert_eq!(status, 304, "{path}: a 200 without Last-Modified");
            since.unwrap().to_owned()
        }
    };
    (status, etag, modified, r.text().await.unwrap())
}

/// The feed-level date a document carries (RSS `lastBuildDate`, Atom `updated`, the first of
/// its kind), as seconds; `None` for JSON Feed, which has none.
fn feed_date(body: &str) -> Option<i64> {
    let inner = |tag: &str| {
        let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
        let end = start + body[start..].find('<')?;
        Some(body[start..end].to_owned())
    };
    if body.contains("<rss") {
        let text = inner("lastBuildDate")?;
        return Some(
            chrono::DateTime::parse_from_rfc2822(&text)
                .unwrap()
                .timestamp(),
        );
    }
    if body.contains("<feed") {
        let text = inner("updated")?;
        return Some(
            chrono::DateTime::parse_from_rfc3339(&text)
                .unwrap()
                .timestamp(),
        );
    }
    None
}

/// A filtered feed first seen is dated by its items, never by the render: its `Last-Modified`
/// and feed date are its newest entry's `updated` (one dated by the render would get other bytes,
/// another ETag, where its noted date was pushed out). Its plain feed's kept date is a floor
/// (none here: no plain feed of the same id and format is asked before).
#[tokio::test(flavor = "multi_thread")]
async fn a_filtered_feed_is_dated_by_its_items() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 5));
    t.site.publish("en", release_en(2, 6));
    t.poll("akorda-en").await.unwrap();
    let polled = chrono::Utc::now().timestamp();
    // A document dated when rendered would say a later second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for path in [
        "/feeds/akorda-en.atom?limit=1",
        "/feeds/all.atom?lang=en",
        "/feeds/all.rss?include=nothing-matches-this",
    ] {
        let (status, _, modified, body) = validators(&t, path, None).await;
        assert_eq!(status, 200, "{path}");
        // The newest change of its entries (stored or corrected, never before their
        // `updated`); with none kept, of the entries it was filtered from (the plain feed's).
        let plain = validators(&t, "/feeds/akorda-en.atom", None).await.3;
        let entry = newest_entry_updated(&body)
            .or_else(|| newest_entry_updated(&plain))
            .unwrap();
        let modified = http_seconds(&modified);
        assert!(
            entry <= modified && modified <= polled,
            "{path}: {modified}, entries {entry}, polled {polled}: {body}"
        );
        assert_eq!(feed_date(&body), Some(modified), "{path}");
    }
    t.stop().await;
}

/// The latest `<updated>` among an Atom document's entries, as seconds.
fn newest_entry_updated(atom: &str) -> Option<i64> {
    atom.split("<entry")
        .skip(1)
        .filter_map(|entry| {
            let start = entry.find("<updated>")? + "<updated>".len();
            let end = start + entry[start..].find('<')?;
            chrono::DateTime::parse_from_rfc3339(&entry[start..end])
                .ok()
                .map(|t| t.timestamp())
        })
        .max()
}

fn http_seconds(date: &str) -> i64 {
    let at = httpdate::parse_http_date(date).unwrap();
    at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// `Last-Modified` and the feed-level dates move on whenever a feed's document (its ETag)
/// changes, also when no newer item came: a release dated before the newest, a new source title.
/// A reader revalidating with `If-Modified-Since` alone got 304 for a feed that had changed.
#[tokio::test(flavor = "multi_thread")]
async fn last_modified_moves_whenever_the_feed_changes() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 5));
    t.poll("akorda-en").await.unwrap();
    let paths = [
        "/feeds/akorda-en.rss",
        "/feeds/akorda-en.atom",
        "/feeds/akorda-en.json",
        "/feeds/all.rss",
        "/feeds/all.atom",
        // Filtered documents: dated by their releases' changes, so an older release arriving
        // moves them too, and so does any other change of their bytes (a new source title).
        "/feeds/akorda-en.atom?limit=10",
        "/feeds/all.rss?lang=en",
    ];
    let mut seen = Vec::new();
    for path in paths {
        let (status, etag, modified, body) = validators(&t, path, None).await;
        assert_eq!(status, 200);
        if let Some(date) = feed_date(&body) {
            assert_eq!(date, http_seconds(&modified), "{path}: {body}");
        }
        // Unchanged: 304 by date.
        let (status, again, ..) = validators(&t, path, Some(&modified)).await;
        assert_eq!((status, &again), (304, &etag), "{path}");
        seen.push((etag, modified));
    }
    // Changes that bring no newer item: an older release, then a new title for the source.
    let older = || t.site.publish("en", release_en(2, 3));
    let retitle = || {
        let text = std::fs::read_to_string(&t.config_path).unwrap();
        let edited = text.replacen("Akorda — press releases", "Akorda — news", 1);
        std::fs::write(&t.config_path, edited).unwrap();
    };
    for (step, change) in [
        ("an older release", &older as &dyn Fn()),
        ("a new title", &retitle),
    ] {
        // HTTP dates have whole seconds: a change in a later one.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        change();
        if step == "a new title" {
            common::eventually(
                "the title edit applied",
                std::time::Duration::from_secs(10),
                || t.app.config().sources[0].title == "Akorda — news",
            )
            .await;
        } else {
            t.poll("akorda-en").await.unwrap();
        }
        for (path, (etag, modified)) in paths.iter().zip(&mut seen) {
            // `all` does not show its sources' titles.
            if step == "a new title" && path.starts_with("/feeds/all") {
                continue;
            }
            let (status, new_etag, new_modified, body) = validators(&t, path, Some(modified)).await;
            assert_eq!(
                status, 200,
                "{step}: {path} answered 304 to If-Modified-Since"
            );
            assert_ne!(&new_etag, etag, "{step}: {path}");
            assert!(
                http_seconds(&new_modified) > http_seconds(modified),
                "{step}: {path}: Last-Modified {new_modified} after {modified}"
            );
            if let Some(date) = feed_date(&body) {
                assert_eq!(date, http_seconds(&new_modified), "{step}: {path}");
            }
            (*etag, *modified) = (new_etag, new_modified);
        }
    }
    t.stop().await;
}

/// A feed that changes twice within a second is dated a second ahead the second time, and its
/// 200 then carries no `Last-Modified` until that second has come: one of now would equal the
/// reader's, and a libcurl reader (newsboat) revalidating with `If-Modified-Since` drops a 200
/// whose date is not later than the one it sent. Once the second has come, it is sent, later
/// than the one before.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_change_within_a_second_is_never_dated_as_the_first() {
    let t = spawn_app().await;
    common::at_a_second_start().await;
    t.site.publish("en", release_en(1, 5));
    t.poll("akorda-en").await.unwrap();
    let paths = ["/feeds/akorda-en.rss", "/feeds/all.atom"];
    let mut first = Vec::new();
    for path in paths {
        let (status, etag, modified, _) = validators(&t, path, None).await;
        assert_eq!(status, 200, "{path}");
        first.push((etag, modified));
    }
    t.site.publish("en", release_en(2, 6));
    t.poll("akorda-en").await.unwrap();
    for (path, (etag, modified)) in paths.iter().zip(&first) {
        let r = t
            .http
            .get(format!("{}{path}", t.base))
            .header(header::IF_NONE_MATCH, etag)
            .header(header::IF_MODIFIED_SINCE, modified)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_ne!(&r.headers()[header::ETAG], etag.as_str(), "{path}");
        if let Some(new) = r.headers().get(header::LAST_MODIFIED) {
            let new = new.to_str().unwrap();
            assert!(
                http_seconds(new) > http_seconds(modified),
                "{path}: Last-Modified {new}, the same as the document before"
            );
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for (path, (_, modified)) in paths.iter().zip(&first) {
        let (status, _, new, _) = validators(&t, path, None).await;
        assert_eq!(status, 200, "{path}");
        assert!(http_seconds(&new) > http_seconds(modified), "{path}: {new}");
    }
    t.stop().await;
}

/// A 304 says the reader's copy is the representation that would be sent: a tag of another
/// content coding is another representation. `Accept-Encoding` weighs codings by `q` (`Q` too)
/// and knows `x-gzip`.
#[tokio::test(flavor = "multi_thread")]
async fn conditional_requests_and_codings_agree() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 5));
    t.poll("akorda-en").await.unwrap();
    let http = common::raw_client();
    let path = format!("{}/feeds/akorda-en.rss", t.base);
    let ask = |accept: &'static str, tag: Option<String>| {
        let mut r = http.get(&path).header(header::ACCEPT_ENCODING, accept);
        if let Some(tag) = tag {
            r = r.header(header::IF_NONE_MATCH, tag);
        }
        async move {
            let r = r.send().await.unwrap();
            let coding = r
                .headers()
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap().to_owned());
            let etag = r.headers()[header::ETAG].to_str().unwrap().to_owned();
            (r.status().as_u16(), coding, etag)
        }
    };
    let (_, coding, gzip_tag) = ask("gzip", None).await;
    assert_eq!(coding.as_deref(), Some("gzip"));
    // Twice: through the router, then from the serving thread's memory.
    for _ in 0..2 {
        let (status, coding, tag) = ask("br", Some(gzip_tag.clone())).await;
        assert_eq!((status, coding.as_deref()), (200, Some("br")));
        assert_ne!(tag, gzip_tag);
        let (status, _, tag) = ask("gzip", Some(gzip_tag.clone())).await;
        assert_eq!((status, &tag), (304, &gzip_tag));
        let (status, _, _) = ask("identity", Some(gzip_tag.clone())).await;
        assert_eq!(status, 200);
    }
    for (accept, expected) in [
        ("gzip;q=1, br;q=0.1", Some("gzip")),
        ("gzip;Q=0", None),
        ("x-gzip", Some("gzip")),
        ("br;q=0.5, gzip;q=0.5", Some("br")),
    ] {
        let (status, coding, _) = ask(accept, None).await;
        assert_eq!((status, coding.as_deref()), (200, expected), "{accept}");
    }
    t.stop().await;
}

/// Text of the feed's own (a source title with markup, a filtered feed's words taken from its
/// address) is plain in every field that holds it: RSS `description`, Atom `author`, JSON Feed
/// `description`, as titles are. The W3C validator warned "should not contain HTML".
#[tokio::test(flavor = "multi_thread")]
async fn feed_level_text_is_plain_in_every_field() {
    let t = spawn_app().await;
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let title = "Akorda <b>bold</b> &amp; co";
    std::fs::write(
        &t.config_path,
        text.replacen("Akorda — press releases", title, 1),
    )
    .unwrap();
    common::eventually(
        "the title edit applied",
        std::time::Duration::from_secs(10),
        || t.app.config().sources[0].title == title,
    )
    .await;
    t.site.publish("en", release_en(1, 5));
    t.poll("akorda-en").await.unwrap();
    let rss = t.text("/feeds/akorda-en.rss").await;
    let description = rss
        .split("<description>")
        .nth(1)
        .and_then(|d| d.split("</description>").next())
        .unwrap();
    assert!(description.contains("&#x3C;\u{2060}b"), "{description}");
    let atom = t.text("/feeds/akorda-en.atom").await;
    let author = atom
        .split("<name>")
        .nth(1)
        .unwrap()
        .split("</name>")
        .next()
        .unwrap();
    assert!(author.contains("&lt;\u{2060}b&gt;"), "{author}");
    let json: serde_json::Value = t.get("/feeds/akorda-en.json").await.json().await.unwrap();
    assert!(
        json["description"]
            .as_str()
            .unwrap()
            .contains("<\u{2060}b>"),
        "{json}"
    );
    let marked = "include=%3Ci%3Ex%3C%2Fi%3E";
    let json: serde_json::Value = t
        .get(&format!("/feeds/all.json?{marked}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        !json["description"].as_str().unwrap().contains("<i>"),
        "{json}"
    );
    let urls: Vec<String> = [
        "/feeds/akorda-en.rss".to_owned(),
        "/feeds/akorda-en.atom".to_owned(),
        format!("/feeds/all.rss?{marked}"),
        format!("/feeds/all.atom?{marked}"),
    ]
    .iter()
    .map(|path| format!("{}{path}", t.base))
    .collect();
    common::assert_w3c_valid(&urls).await;
    t.stop().await;
}

/// A feed is served at its own address only, the one its self link names: another spelling
/// (`.xml`, an escaped path, a query other than its canonical options) is redirected there.
/// What names no feed is 404 before any option is looked at, a file name that is not UTF-8
/// included.
#[tokio::test(flavor = "multi_thread")]
async fn feeds_are_served_at_their_own_address() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 5));
    t.poll("akorda-en").await.unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (asked, own) in [
        ("/feeds/akorda-en.xml", "/feeds/akorda-en.rss"),
        ("/feeds/akorda%2Den.rss", "/feeds/akorda-en.rss"),
        ("/feeds/akorda-en.rss?", "/feeds/akorda-en.rss"),
        ("/feeds/akorda-en.rss?utm_source=x", "/feeds/akorda-en.rss"),
        (
            "/feeds/akorda-en.atom?utm_source=x&limit=2",
            "/feeds/akorda-en.atom?limit=2",
        ),
        (
            "/feeds/all.rss?include=%FF%FE",
            "/feeds/all.rss?include=%EF%BF%BD%EF%BF%BD",
        ),
        // The same options spelt otherwise: the self link must be the address fetched.
        (
            "/feeds/all.rss?include=visit&",
            "/feeds/all.rss?include=visit",
        ),
        (
            "/feeds/all.json?include=a%20b",
            "/feeds/all.json?include=a+b",
        ),
        // One address per document: the options in a fixed order (limit, include, exclude,
        // lang), the values of one option by their text, one given twice once.
        (
            "/feeds/all.atom?lang=en&limit=2",
            "/feeds/all.atom?limit=2&lang=en",
        ),
        (
            "/feeds/akorda-en.atom?lang=en&exclude=x&include=b&include=a&limit=3",
            "/feeds/akorda-en.atom?limit=3&include=a&include=b&exclude=x&lang=en",
        ),
        (
            "/feeds/all.json?include=a&include=a",
            "/feeds/all.json?include=a",
        ),
    ] {
        let r = http.get(format!("{}{asked}", t.base)).send().await.unwrap();
        assert_eq!(r.status(), 301, "{asked}");
        let location = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
        assert_eq!(location, format!("{}{own}", t.base), "{asked}");
        // The address redirected to is served, and names itself.
        let r = http.get(&location).send().await.unwrap();
        assert_eq!(r.status(), 200, "{own}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains(&location.replace('&', "&amp;")),
            "{own}"
        );
    }
    // Escaped unreserved characters are served where asked: a client that decodes `%7E` to
    // `~` before each request (Python's requests) would loop if sent to `%7E` (the canonical
    // form writes `~` itself, so it is never sent there).
    for path in [
        "/feeds/akorda-en.rss?limit=2",
        "/feeds/all.atom?limit=2&lang=en",
        "/feeds/all.atom",
        "/feeds/all.json?include=a+b",
        "/feeds/all.rss?include=~x",
        "/feeds/all.rss?include=%7Ex",
        "/feeds/all.rss?include=%7ex",
    ] {
        let r = http.get(format!("{}{path}", t.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    for path in [
        "/feeds/%FF.rss",
        "/feeds/nope.rss?limit=0",
        "/feeds/nope.rss?include=",
    ] {
        let r = http.get(format!("{}{path}", t.base)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(r.text().await.unwrap(), "no such feed\n", "{path}");
    }
    t.stop().await;
}

/// RFC 9112 §3.2: an HTTP/1.1 request without `Host`, or any with two, is answered 400; an
/// HTTP/1.0 request may leave it out.
#[tokio::test(flavor = "multi_thread")]
async fn a_request_names_its_host_once() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = spawn_app().await;
    let addr = t.base.trim_start_matches("http://").to_owned();
    for (head, status) in [
        ("GET /feeds/all.rss HTTP/1.1\r\n", "400"),
        (
            "GET /feeds/all.rss HTTP/1.1\r\nHost: a\r\nHost: b\r\n",
            "400",
        ),
        ("GET / HTTP/1.1\r\n", "400"),
        ("GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\n", "200"),
        ("GET /feeds/all.rss HTTP/1.0\r\n", "200"),
    ] {
        // Twice on fresh connections: the first asks the router, the second may be answered
        // from the serving thread's memory.
        for _ in 0..2 {
            let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
            s.write_all(format!("{head}Connection: close\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut answer = Vec::new();
            s.read_to_end(&mut answer).await.unwrap();
            let answer = String::from_utf8_lossy(&answer);
            assert!(
                answer.split(' ').nth(1) == Some(status),
                "{head:?}: {answer}"
            );
        }
    }
    t.stop().await;
}

/// The head of an answer read from a raw socket: a client library may drop or add
/// `Content-Length` on a 304, so the bytes on the wire are read.
async fn raw_head(addr: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    answer
        .split_once("\r\n\r\n")
        .map_or(answer.clone(), |(head, _)| head.to_owned())
}

/// RFC 9110 §8.6: a 304 carries no `Content-Length` unless it is the 200's. A 304 to HEAD said
/// `content-length: 0` (axum writes the empty body's length on every answer to HEAD); none
/// carries one now: GET or HEAD, any coding, plain or filtered, from the router or from a
/// serving thread's memory.
#[tokio::test(flavor = "multi_thread")]
async fn no_304_carries_a_content_length() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 5));
    t.poll("akorda-en").await.unwrap();
    let addr = t.base.trim_start_matches("http://").to_owned();
    for path in [
        "/feeds/akorda-en.rss",
        "/feeds/akorda-en.atom",
        "/feeds/akorda-en.json",
        "/feeds/all.rss?limit=1",
    ] {
        for coding in ["identity", "gzip"] {
            let asked = format!(
                "GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {coding}\r\n\
                 Connection: close\r\n\r\n"
            );
            let head = raw_head(&addr, &asked).await;
            assert!(head.starts_with("HTTP/1.1 200"), "{path} {coding}: {head}");
            let etag = head
                .lines()
                .find_map(|l| l.strip_prefix("etag: "))
                .unwrap_or_else(|| panic!("{path}: no etag in {head}"))
                .to_owned();
            for method in ["GET", "HEAD"] {
                // Twice: the second GET of a plain feed is answered from the thread's memory.
                for round in 0..2 {
                    let asked = format!(
                        "{method} {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {coding}\r\n\
                         If-None-Match: {etag}\r\nConnection: close\r\n\r\n"
                    );
                    let head = raw_head(&addr, &asked).await;
                    let context = format!("{method} {path} {coding} #{round}");
                    assert!(head.starts_with("HTTP/1.1 304"), "{context}: {head}");
                    assert!(
                        !head.to_ascii_lowercase().contains("content-length"),
                        "{context}: {head}"
                    );
                }
            }
        }
    }
    t.stop().await;
}

/// `Cache-Control: max-age` is the polling interval in seconds, at most an hour; RSS `ttl`
/// is max-age in whole minutes, rounded up. A schedule of every 30 seconds gave max-age=60
/// (whole minutes of the `ttl`); a yearly one said `<ttl>525600</ttl>` while readers were
/// asked to come back within the hour.
#[tokio::test(flavor = "multi_thread")]
async fn max_age_is_the_polling_interval_in_seconds() {
    for (schedule, max_age, ttl) in [
        ("*/30 * * * * *", "30", Some("1")),
        ("0 */5 * * * *", "300", Some("5")),
        // Every six hours, yearly: fresh for an hour, asked again at least that often.
        ("0 0 */6 * * *", "3600", Some("60")),
        ("0 0 0 1 1 *", "3600", Some("60")),
    ] {
        let t = common::spawn_app_with(common::Setup {
            schedule: schedule.into(),
            ..common::Setup::default()
        })
        .await;
        t.site.publish("en", release_en(1, 5));
        t.poll("akorda-en").await.unwrap();
        for path in [
            "/feeds/akorda-en.rss",
            "/feeds/akorda-en.atom",
            "/feeds/akorda-en.json",
            "/feeds/all.rss",
            "/feeds/all.json?lang=en",
        ] {
            let r = t.get(path).await;
            assert_eq!(
                r.headers()[header::CACHE_CONTROL],
                format!("public, max-age={max_age}").as_str(),
                "{schedule}: {path}"
            );
            if let Some(ttl) = ttl.filter(|_| path.contains(".rss")) {
                let body = r.text().await.unwrap();
                assert!(
                    body.contains(&format!("<ttl>{ttl}</ttl>")),
                    "{schedule}: {path}: {body}"
                );
            }
        }
        t.stop().await;
    }
}

/// No date a feed publishes is later than the answer: 60 releases of today (a date without a
/// time, so each is dated when first seen) stored at once got `updated` a whole second apart,
/// the last a minute ahead, and with it `Last-Modified` after `Date` (RFC 9110 §8.8.2.1),
/// `lastBuildDate`, Atom's `updated` and JSON Feed's `date_modified` in the future. Each entry
/// keeps an `updated` of its own, at a finer instant.
#[tokio::test(flavor = "multi_thread")]
async fn no_published_date_is_ahead_of_the_answer() {
    let t = spawn_app().await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Almaty)
        .format("%-d %B %Y")
        .to_string();
    for n in 1..=60 {
        let mut release = release_en(n, 1);
        release.date = today.clone();
        t.site.publish("en", release);
    }
    t.poll("akorda-en").await.unwrap();
    for path in [
        "/feeds/akorda-en.rss",
        "/feeds/akorda-en.atom",
        "/feeds/akorda-en.json",
        "/feeds/all.atom",
        "/feeds/akorda-en.atom?limit=5",
    ] {
        let r = t.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        let date = http_seconds(r.headers()[header::DATE].to_str().unwrap());
        // None while the document's date is ahead (see `a_second_change_within_a_second…`).
        let modified = r.headers().get(header::LAST_MODIFIED);
        let modified = modified.map(|m| http_seconds(m.to_str().unwrap()));
        let body = r.text().await.unwrap();
        assert!(
            modified.is_none_or(|modified| modified <= date),
            "{path}: Last-Modified {modified:?} after Date {date}"
        );
        if let Some(feed) = feed_date(&body) {
            assert!(feed <= date, "{path}: the feed's date {feed} after {date}");
        }
        let now = chrono::Utc::now();
        let mut seen = std::collections::HashSet::new();
        let entry_dates: Vec<String> = if path.contains(".json") {
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            json["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["date_modified"].as_str().unwrap().to_owned())
                .collect()
        } else if path.contains(".atom") {
            body.split("<entry")
                .skip(1)
                .map(|e| {
                    let start = e.find("<updated>").unwrap() + "<updated>".len();
                    e[start..start + e[start..].find('<').unwrap()].to_owned()
                })
                .collect()
        } else {
            Vec::new()
        };
        for text in entry_dates {
            let at = chrono::DateTime::parse_from_rfc3339(&text).unwrap();
            assert!(at <= now, "{path}: an entry updated {text}, after {now}");
            assert!(seen.insert(text.clone()), "{path}: {text} twice");
        }
    }
    // Fractions of a second and all: valid, and no two entries with one `updated`.
    let paths: Vec<String> = ["akorda-en.atom", "akorda-en.rss", "all.atom"]
        .iter()
        .map(|feed| format!("{}/feeds/{feed}", t.base))
        .collect();
    common::assert_w3c_valid(&paths).await;
    t.stop().await;
}

/// RFC 9110 §5.3: a list header sent as several field lines is one list. `If-None-Match` with
/// the current tag on its second line is a 304, and `Accept-Encoding: deflate` then
/// `Accept-Encoding: gzip` gets gzip, from the router and from a serving thread's memory alike.
#[tokio::test(flavor = "multi_thread")]
async fn list_headers_sent_on_several_lines_are_read_whole() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 5));
    t.poll("akorda-en").await.unwrap();
    let addr = t.base.trim_start_matches("http://").to_owned();
    for path in ["/feeds/akorda-en.rss", "/feeds/all.atom?limit=1"] {
        let asked = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let head = raw_head(&addr, &asked).await;
        let etag = head
            .lines()
            .find_map(|l| l.strip_prefix("etag: "))
            .unwrap_or_else(|| panic!("{path}: no etag in {head}"))
            .to_owned();
        // Twice: the second GET of a plain feed is answered from the thread's memory.
        for round in 0..2 {
            let asked = format!(
                "GET {path} HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"other\"\r\n\
                 If-None-Match: {etag}\r\nConnection: close\r\n\r\n"
            );
            let head = raw_head(&addr, &asked).await;
            assert!(head.starts_with("HTTP/1.1 304"), "{path} #{round}: {head}");
            let asked = format!(
                "GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: deflate\r\n\
                 Accept-Encoding: gzip\r\nConnection: close\r\n\r\n"
            );
            let head = raw_head(&addr, &asked).await.to_ascii_lowercase();
            assert!(
                head.contains("content-encoding: gzip"),
                "{path} #{round}: {head}"
            );
        }
    }
    t.stop().await;
}

/// A source's address may carry a user name and password (to reach its site): no answer
/// publishes them, not the index page's "source page" link, the OPML `htmlUrl`, nor the feeds'
/// site link (RSS `<link>`, Atom alternate, JSON Feed `home_page_url`). The query stays.
#[tokio::test(flavor = "multi_thread")]
async fn a_sources_user_name_and_password_are_never_published() {
    let t = common::spawn_app_with(common::Setup {
        extra_config: "[[sources]]\nid = \"secret\"\nkind = \"feed\"\n\
                       url = \"http://admin:hunter2@127.0.0.1:9/feed.xml?api_key=SECRETKEY\"\n\
                       schedule = \"0 0 0 1 1 *\"\n\n"
            .into(),
        ..common::Setup::default()
    })
    .await;
    for path in [
        "/",
        "/opml",
        "/feeds/secret.rss",
        "/feeds/secret.atom",
        "/feeds/secret.json",
    ] {
        let body = t.text(path).await;
        assert!(
            !body.contains("hunter2") && !body.contains("admin"),
            "{path}: {body}"
        );
        assert!(
            body.contains("127.0.0.1:9/feed.xml?api_key=SECRETKEY"),
            "{path}: {body}"
        );
    }
    t.stop().await;
}

/// The status of `GET path` with `headers`.
async fn status_of(t: &common::TestApp, path: &str, headers: Vec<(&'static str, String)>) -> u16 {
    let mut request = t.http.get(format!("{}{path}", t.base));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request.send().await.unwrap().status().as_u16()
}

/// RFC 9110 §13.1.1 and §13.1.3: an `If-Match` naming no current tag of the feed is answered
/// 412 (its own tag, or `*`, 200), also once a serving thread keeps the feed; an
/// `If-Modified-Since` later than the server's clock is no valid date and is ignored (before,
/// a reader whose clock ran a day ahead got 304 for every change).
#[tokio::test(flavor = "multi_thread")]
async fn if_match_and_a_future_if_modified_since() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    let path = "/feeds/akorda-en.rss";
    let get = |headers: Vec<(&'static str, String)>| status_of(&t, path, headers);
    let first = t.get(path).await;
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    for _ in 0..3 {
        assert_eq!(get(vec![("if-match", "\"other\"".into())]).await, 412);
        assert_eq!(get(vec![("if-match", format!("\"x\", {tag}"))]).await, 200);
        assert_eq!(get(vec![("if-match", "*".into())]).await, 200);
        assert_eq!(get(vec![("if-match", format!("W/{tag}"))]).await, 412);
    }
    let tomorrow = httpdate::fmt_http_date(
        std::time::SystemTime::now() + std::time::Duration::from_secs(86_400),
    );
    assert_eq!(get(vec![("if-modified-since", tomorrow)]).await, 200);
    t.stop().await;
}

/// A filtered feed's date never goes back and moves on with its bytes across restarts too, and
/// the same content keeps its bytes and validators: its date is kept in the store as a plain
/// feed's is. Before, a restart dated it by its items or its plain feed's last noted date: a
/// source retitled while herald was stopped got 304 for `If-Modified-Since` of the date before
/// (the 200 kept that date with a new ETag), and a date moved on by a change went back to the
/// older one after the next restart.
#[tokio::test(flavor = "multi_thread")]
async fn a_filtered_feeds_date_holds_across_restarts() {
    let data = tempfile::tempdir().unwrap();
    let setup = |text: Option<String>| common::Setup {
        data_dir: Some(data.path().to_path_buf()),
        config_text: text,
        ..common::Setup::default()
    };
    let t = common::spawn_app_with(setup(None)).await;
    t.site.publish("en", release_en(1, 5));
    t.site.publish("en", release_en(2, 6));
    t.poll("akorda-en").await.unwrap();
    let path = "/feeds/akorda-en.atom?limit=1";
    let plain = "/feeds/akorda-en.atom";
    assert_eq!(validators(&t, plain, None).await.0, 200);
    let (status, etag, first, _) = validators(&t, path, None).await;
    assert_eq!(status, 200);
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    t.stop().await;
    // Retitled while stopped, in a later second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let retitled = text.replacen("Akorda — press releases", "Akorda — news", 1);
    let t = common::spawn_app_with(setup(Some(retitled.clone()))).await;
    let (status, moved_tag, moved, body) = validators(&t, path, Some(&first)).await;
    assert_eq!(status, 200, "changed bytes, not modified since {first}");
    assert!(body.contains("Akorda — news"), "{body}");
    assert_ne!(moved_tag, etag);
    assert!(
        http_seconds(&moved) > http_seconds(&first),
        "{moved} after {first}"
    );
    t.stop().await;
    // The same content after another restart: the same date, bytes and tag.
    let t = common::spawn_app_with(setup(Some(retitled))).await;
    let (status, tag, again, same) = validators(&t, path, None).await;
    assert_eq!(status, 200);
    assert_eq!((&tag, &again), (&moved_tag, &moved));
    assert_eq!(same, body);
    assert_eq!(validators(&t, path, Some(&moved)).await.0, 304);
    t.stop().await;
}

/// `all` holds each source's items as its own feed does: no more than its `max_items`, also
/// when a reload lowered it before any poll trimmed the source.
#[tokio::test(flavor = "multi_thread")]
async fn all_holds_no_more_of_a_source_than_its_max_items() {
    let t = spawn_app().await;
    for n in 1..=4 {
        t.site.publish("en", release_en(n, n as u32));
    }
    t.poll("akorda-en").await.unwrap();
    let entries = |body: &str| body.matches("<entry").count();
    assert_eq!(entries(&t.text("/feeds/all.atom").await), 4);
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let edited = text.replacen("id = \"akorda-en\"", "id = \"akorda-en\"\nmax_items = 2", 1);
    std::fs::write(&t.config_path, edited).unwrap();
    common::eventually(
        "max_items applied",
        std::time::Duration::from_secs(10),
        || t.app.config().source("akorda-en").unwrap().max_items == 2,
    )
    .await;
    let own = t.text("/feeds/akorda-en.atom").await;
    let all = t.text("/feeds/all.atom").await;
    assert_eq!(entries(&own), 2, "{own}");
    assert_eq!(entries(&all), 2, "{all}");
    for n in [4, 3] {
        assert!(all.contains(&release_en(n, 1).title), "{all}");
    }
    t.stop().await;
}

/// RFC 9110 §13.1.4: without `If-Match`, an `If-Unmodified-Since` earlier than the feed's
/// date fails (412); at or after it, or not a single date, the feed is sent. Asked several
/// times, so that the serving thread's own answers are tried too.
#[tokio::test(flavor = "multi_thread")]
async fn if_unmodified_since_before_the_feeds_date_fails() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    let path = "/feeds/akorda-en.rss";
    let get = |headers: Vec<(&'static str, String)>| status_of(&t, path, headers);
    let first = t.get(path).await;
    let modified = first.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    let at = httpdate::parse_http_date(&modified).unwrap();
    let earlier = httpdate::fmt_http_date(at - std::time::Duration::from_secs(1));
    for _ in 0..3 {
        assert_eq!(
            get(vec![("if-unmodified-since", earlier.clone())]).await,
            412
        );
        assert_eq!(
            get(vec![("if-unmodified-since", modified.clone())]).await,
            200
        );
        assert_eq!(
            get(vec![("if-unmodified-since", "yesterday".into())]).await,
            200
        );
        // `If-Match` is evaluated instead when there is one.
        let both = vec![
            ("if-match", "*".to_owned()),
            ("if-unmodified-since", earlier.clone()),
        ];
        assert_eq!(get(both).await, 200);
        assert_eq!(get(vec![]).await, 200);
    }
    t.stop().await;
}

/// A date-only release first seen the day it is dated is published at the moment it was first
/// seen: written, like every `updated`, to the microsecond (nine digits were written).
#[tokio::test(flavor = "multi_thread")]
async fn published_dates_have_at_most_microseconds() {
    let t = spawn_app().await;
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Almaty);
    let mut release = release_en(1, 1);
    release.date = today.format("%-d %B %Y").to_string();
    t.site.publish("en", release);
    t.poll("akorda-en").await.unwrap();
    let atom = t.text("/feeds/akorda-en.atom").await;
    let json: serde_json::Value =
        serde_json::from_str(&t.text("/feeds/akorda-en.json").await).unwrap();
    let published = [
        json["items"][0]["date_published"]
            .as_str()
            .unwrap()
            .to_owned(),
        {
            let start = atom.find("<published>").unwrap() + "<published>".len();
            atom[start..start + atom[start..].find('<').unwrap()].to_owned()
        },
    ];
    for date in published {
        let fraction = date.split_once('.').map_or(0, |(_, rest)| {
            rest.chars().take_while(char::is_ascii_digit).count()
        });
        assert!(fraction <= 6, "{date}");
    }
    t.stop().await;
}
