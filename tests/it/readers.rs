//! herald's feeds, OPML and index page as real readers see them: newsboat (RSS, Atom, OPML
//! import), feedsmith from npm (JSON Feed, RSS, Atom) and headless Chromium (the index page).

use crate::common;

use common::peers::{Chromium, Newsboat, feedsmith};
use common::site::{release_en, release_kz, release_ru};
use common::{Setup, TestApp, spawn_app, spawn_app_with};
use fake_botapi::{FakeBotApi, FakeOptions};

/// Three sources with a few releases each, Kazakh and Russian titles included.
async fn app_with_releases() -> TestApp {
    let t = spawn_app().await;
    for n in 1..=3 {
        t.site.publish("en", release_en(n, n as u32));
    }
    for n in 1..=2 {
        t.site.publish("kz", release_kz(n, n as u32 + 3));
        t.site.publish("ru", release_ru(n, n as u32 + 5));
    }
    for id in ["akorda-en", "akorda-ru", "akorda-kz"] {
        t.poll(id).await.unwrap();
    }
    t
}

fn titles_of(rows: &[(String, String)], feed: &str) -> Vec<String> {
    let mut titles: Vec<String> = rows
        .iter()
        .filter(|(url, _)| url == feed)
        .map(|(_, title)| title.clone())
        .collect();
    titles.sort();
    titles
}

fn sorted(titles: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = titles.into_iter().collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn newsboat_reads_rss_and_atom_with_every_item_and_title() {
    let t = app_with_releases().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(newsboat) = Newsboat::new(&dir.path().join("sources")) else {
        return;
    };
    let en_rss = format!("{}/feeds/akorda-en.rss", t.base);
    let kz_atom = format!("{}/feeds/akorda-kz.atom", t.base);
    let all_rss = format!("{}/feeds/all.rss", t.base);
    newsboat.set_urls(&[en_rss.clone(), kz_atom.clone()]);
    // `all` repeats the sources' GUIDs (the same items), so it gets a newsboat of its own.
    let merged = Newsboat::new(&dir.path().join("all")).unwrap();
    merged.set_urls(std::slice::from_ref(&all_rss));
    let (rows, merged_rows) =
        tokio::task::spawn_blocking(move || (newsboat.reload(), merged.reload()))
            .await
            .unwrap();
    assert_eq!(
        titles_of(&rows, &en_rss),
        sorted((1..=3).map(|n| release_en(n, 1).title))
    );
    assert_eq!(
        titles_of(&rows, &kz_atom),
        sorted((1..=2).map(|n| release_kz(n, 1).title))
    );
    assert_eq!(
        titles_of(&merged_rows, &all_rss).len(),
        7,
        "{merged_rows:?}"
    );
    t.stop().await;
}

/// newsboat revalidates with what our 200 gave it and takes our 304 (which carries only its
/// validators, RFC 9110 §15.4.5) as "unchanged": its items stay, and the next change reaches it,
/// also within the second of the one before.
#[tokio::test(flavor = "multi_thread")]
async fn newsboat_revalidates_with_304_and_then_sees_the_next_release() {
    let t = app_with_releases().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(newsboat) = Newsboat::new(&dir.path().join("sources")) else {
        return;
    };
    // Through a proxy that counts this test's 304s (`/metrics` counts every test's in the
    // process).
    let (base, not_modified) = counting_proxy(t.base.trim_start_matches("http://")).await;
    let rss = format!("{base}/feeds/akorda-en.rss");
    let atom = format!("{base}/feeds/akorda-ru.atom");
    newsboat.set_urls(&[rss.clone(), atom.clone()]);
    let newsboat = std::sync::Arc::new(newsboat);
    let reload = || {
        let newsboat = newsboat.clone();
        async move {
            tokio::task::spawn_blocking(move || newsboat.reload())
                .await
                .unwrap()
        }
    };
    // All within one second (the feeds are first dated at the first reload): the new release's
    // feed is dated a second ahead, and a `Last-Modified` of now would be the one newsboat has,
    // which made libcurl drop the new body as "not modified since" (and newsboat keep its tag).
    common::at_a_second_start().await;
    // newsboat sends the validators it stored from the second reload on.
    let first = reload().await;
    assert_eq!(reload().await, first);
    let fresh = || not_modified.load(std::sync::atomic::Ordering::SeqCst);
    // Twice: what it keeps after a 304 still revalidates.
    for _ in 0..2 {
        let before = fresh();
        assert_eq!(reload().await, first);
        assert_eq!(fresh(), before + 2, "newsboat did not revalidate");
    }
    t.site.publish("en", release_en(4, 9));
    t.poll("akorda-en").await.unwrap();
    let third = reload().await;
    assert_eq!(
        titles_of(&third, &rss),
        sorted((1..=4).map(|n| release_en(n, 1).title))
    );
    assert_eq!(titles_of(&third, &atom), titles_of(&first, &atom));
    t.stop().await;
}

/// A TCP proxy to `upstream` (host:port): its base URL, and the count of 304 answers that
/// passed through it.
async fn counting_proxy(
    upstream: &str,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const STATUS: &[u8] = b"HTTP/1.1 304 ";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (upstream, seen) = (upstream.to_owned(), count.clone());
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let (upstream, seen) = (upstream.clone(), seen.clone());
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let (mut from_client, mut to_client) = client.split();
                let (mut from_server, mut to_server) = server.split();
                let up = tokio::io::copy(&mut from_client, &mut to_server);
                let down = async {
                    let (mut buf, mut carry) = (vec![0; 64 * 1024], Vec::new());
                    loop {
                        let n = from_server.read(&mut buf).await?;
                        if n == 0 {
                            return to_client.shutdown().await;
                        }
                        carry.extend_from_slice(&buf[..n]);
                        let found = carry.windows(STATUS.len()).filter(|w| *w == STATUS);
                        seen.fetch_add(found.count(), std::sync::atomic::Ordering::SeqCst);
                        // What may hold the start of a status line cut by the read.
                        carry.drain(..carry.len().saturating_sub(STATUS.len() - 1));
                        to_client.write_all(&buf[..n]).await?;
                    }
                };
                let _ = tokio::join!(up, down);
            });
        }
    });
    (base, count)
}

#[tokio::test(flavor = "multi_thread")]
async fn opml_imports_into_newsboat_and_its_feeds_load() {
    let t = app_with_releases().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(newsboat) = Newsboat::new(dir.path()) else {
        return;
    };
    let opml = t.get("/opml").await;
    assert_eq!(opml.headers()["content-type"], "text/x-opml; charset=utf-8");
    let opml_path = dir.path().join("herald.opml");
    std::fs::write(&opml_path, opml.bytes().await.unwrap()).unwrap();
    let rows = tokio::task::spawn_blocking(move || {
        newsboat.import_opml(&opml_path);
        let mut urls = newsboat.urls();
        urls.sort();
        (urls, newsboat.reload())
    })
    .await
    .unwrap();
    let (urls, rows) = rows;
    // The merged feed too, as the index page offers it; its items have the sources' GUIDs,
    // which newsboat keeps once.
    let expected: Vec<String> = ["akorda-en", "akorda-kz", "akorda-ru", "all"]
        .iter()
        .map(|id| format!("{}/feeds/{id}.rss", t.base))
        .collect();
    assert_eq!(urls, expected);
    assert_eq!(rows.len(), 7, "{rows:?}");
    assert_eq!(
        titles_of(&rows, &expected[2]),
        sorted((1..=2).map(|n| release_ru(n, 1).title))
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn feedsmith_reads_json_feed_rss_and_atom_alike() {
    let t = app_with_releases().await;
    let mut ids_by_format = Vec::new();
    for (ext, format) in [("json", "json"), ("rss", "rss"), ("atom", "atom")] {
        let url = format!("{}/feeds/akorda-en.{ext}", t.base);
        let url2 = url.clone();
        let Some(read) = tokio::task::spawn_blocking(move || feedsmith(&url2))
            .await
            .unwrap()
        else {
            return;
        };
        assert_eq!(read["format"], format, "{read}");
        let items = read["items"].as_array().unwrap();
        let titles: Vec<String> = items
            .iter()
            .map(|i| i["title"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            titles,
            (1..=3)
                .rev()
                .map(|n| release_en(n, 1).title)
                .collect::<Vec<_>>(),
            "{ext}: every item, newest first"
        );
        assert_eq!(read["feed_url"], url, "{ext}: self link");
        for item in items {
            for key in ["id", "url", "date_published"] {
                assert!(item[key].is_string(), "{ext}: {key} in {item}");
            }
            assert_eq!(item["has_content"], true, "{ext}: {item}");
        }
        ids_by_format.push(items.iter().map(|i| i["id"].clone()).collect::<Vec<_>>());
    }
    // One GUID per item whatever the format: a reader switching formats re-shows nothing.
    assert_eq!(ids_by_format[0], ids_by_format[1]);
    assert_eq!(ids_by_format[0], ids_by_format[2]);
    for id in &ids_by_format[0] {
        assert!(id.as_str().unwrap().starts_with("urn:uuid:"), "{id}");
    }
    t.stop().await;
}

/// The index page in a real browser: every source with its title, language, health, count and
/// subscribe links (feeds and Telegram), the newest items, discovery links; hostile titles shown
/// as text; the inline stylesheet allowed by the page's CSP. Leaves a screenshot in
/// `target/index-page.png` (`docs/index-page.png` is one of these).
#[tokio::test(flavor = "multi_thread")]
async fn index_page_in_headless_chromium_shows_every_source_and_link() {
    // Delivery on (a token, the fake Bot API): the page shows the channels then only.
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let setup = Setup {
        source_keys: vec![(
            "akorda-en".into(),
            r#"channels = ["news-en", "private"]"#.into(),
        )],
        ..Setup::telegram(
            &fake,
            r#"
[[channels]]
id = "news-en"
chat = "@akorda_news_en"

[[channels]]
id = "private"
chat = -1001234567890
"#,
        )
    };
    let t = spawn_app_with(setup).await;
    let mut hostile = release_en(9, 9);
    hostile.title = "<img src=x onerror=alert(1)> <script>alert(2)</script> Tom & Jerry".into();
    t.site.publish("en", release_en(1, 1));
    t.site.publish("en", hostile.clone());
    t.site.publish("kz", release_kz(1, 2));
    t.poll("akorda-en").await.unwrap();
    t.poll("akorda-kz").await.unwrap();
    let Some(chromium) = Chromium::new() else {
        return;
    };
    let url = format!("{}/", t.base);
    let response = t.get("/").await;
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'sha256-"),
        "{csp}"
    );
    let (url2, shot) = (
        url.clone(),
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("index-page.png"),
    );
    let shot2 = shot.clone();
    let (dom, log) = tokio::task::spawn_blocking(move || {
        chromium.screenshot(&url2, &shot2, 1100, 1500);
        chromium.dump_dom(&url2)
    })
    .await
    .unwrap();
    assert!(
        !log.contains("Content Security Policy"),
        "the page broke its own CSP:\n{log}"
    );
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);

    let doc = scraper::Html::parse_document(&dom);
    let select = |css: &str| -> Vec<scraper::ElementRef<'_>> {
        doc.select(&scraper::Selector::parse(css).unwrap())
            .collect()
    };
    assert!(select("script, img, iframe, [onerror]").is_empty(), "{dom}");
    let alternates = select("head link[rel=alternate]");
    assert_eq!(alternates.len(), 4 * 3, "all + 3 sources, 3 formats each");
    let base = &t.base;
    for (id, title, lang, items) in [
        ("akorda-en", "Akorda — press releases", "en", 2),
        ("akorda-ru", "Акорда — пресс-релизы", "ru", 0),
        ("akorda-kz", "Ақорда — баспасөз хабарламалары", "kk", 1),
    ] {
        let section = select(&format!("section#source-{id}"));
        assert_eq!(section.len(), 1, "{id} in {dom}");
        let section = section[0];
        let text: String = section.text().collect();
        let h2: String = section
            .select(&scraper::Selector::parse("h2").unwrap())
            .next()
            .unwrap()
            .text()
            .collect();
        assert_eq!(h2, title);
        assert!(text.contains(&format!("({lang})")), "{text}");
        assert!(text.contains(&format!("{items} item")), "{text}");
        let status = if items > 0 { "ok" } else { "not polled yet" };
        assert!(text.contains(status), "{text}");
        let hrefs: Vec<&str> = section
            .select(&scraper::Selector::parse("a").unwrap())
            .filter_map(|a| a.value().attr("href"))
            .collect();
        for ext in ["rss", "atom", "json"] {
            let feed = format!("{base}/feeds/{id}.{ext}");
            assert!(hrefs.contains(&feed.as_str()), "{feed} in {hrefs:?}");
            assert!(
                alternates
                    .iter()
                    .any(|l| l.value().attr("href") == Some(feed.as_str())),
                "discovery link for {feed}"
            );
        }
        let listed = section
            .select(&scraper::Selector::parse("ol.items li").unwrap())
            .count();
        assert_eq!(listed, items, "{id}");
    }
    let en: String = select("section#source-akorda-en")[0].text().collect();
    assert!(
        en.contains(&hostile.title),
        "the hostile title is shown as text"
    );
    assert!(en.contains(&release_en(1, 1).title));
    let telegram: Vec<&str> = select("section#source-akorda-en a[href^='https://t.me/']")
        .iter()
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert_eq!(
        telegram,
        ["https://t.me/akorda_news_en"],
        "a private chat has no link"
    );
    assert!(
        select(&format!("a[href='{base}/opml']")).len() == 1,
        "OPML link"
    );
    assert_eq!(
        select(&format!("a[href='{base}/feeds/all.rss']")).len(),
        1,
        "all sources"
    );
    t.stop().await;
}

/// A channel on the index page is a promise of posts: without a bot token (delivery off)
/// nothing is posted there, so the page names no Telegram channel and offers feeds only; with
/// one, the public channels are linked, and the header offers Telegram only when one is.
#[tokio::test(flavor = "multi_thread")]
async fn index_page_shows_telegram_channels_only_while_delivery_is_on() {
    let channels = "[[channels]]\nid = \"news-en\"\nchat = \"@akorda_news_en\"\n";
    let keys = vec![("akorda-en".into(), r#"channels = ["news-en"]"#.into())];
    let off = spawn_app_with(Setup {
        extra_config: channels.into(),
        source_keys: keys.clone(),
        ..Setup::default()
    })
    .await;
    let page = off.get("/").await.text().await.unwrap();
    assert!(!page.contains("t.me/"), "delivery off, yet:\n{page}");
    assert!(!page.contains("Telegram"), "delivery off, yet:\n{page}");
    assert!(page.contains("for your feed reader."), "{page}");
    let health = off.get("/healthz").await.text().await.unwrap();
    assert!(health.contains(r#""delivery":"off""#), "{health}");
    off.stop().await;

    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let on = spawn_app_with(Setup {
        source_keys: keys,
        ..Setup::telegram(&fake, channels)
    })
    .await;
    let page = on.get("/").await.text().await.unwrap();
    assert!(
        page.contains(r#"<a href="https://t.me/akorda_news_en">Telegram @akorda_news_en</a>"#),
        "{page}"
    );
    assert!(page.contains("for your feed reader or Telegram."), "{page}");
    on.stop().await;

    // Delivery on, but the only channel is private (a numeric chat): no t.me link, so the
    // header does not offer Telegram either.
    let private = "[[channels]]\nid = \"news-en\"\nchat = -1001234567890\n";
    let on = spawn_app_with(Setup {
        source_keys: vec![("akorda-en".into(), r#"channels = ["news-en"]"#.into())],
        ..Setup::telegram(&fake, private)
    })
    .await;
    let page = on.get("/").await.text().await.unwrap();
    assert!(!page.contains("t.me/"), "{page}");
    assert!(page.contains("for your feed reader."), "{page}");
    on.stop().await;
}

/// The README's screenshot (`docs/index-page.png`): the index page with releases as akorda.kz
/// prints them (made-up texts of the site's kind) and the channels the shipped config names.
/// Written to `target/tmp/index-page-readme.png`; copy it to `docs/` when the page changes.
#[tokio::test(flavor = "multi_thread")]
async fn index_page_screenshot_for_the_readme() {
    // Delivery on (the fake Bot API), as a deployment with channels has it.
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let setup = Setup {
        source_keys: ["en", "ru", "kz"]
            .iter()
            .map(|l| {
                (
                    format!("akorda-{l}"),
                    format!("channels = [\"akorda-{l}\"]"),
                )
            })
            .collect(),
        // The shipped schedule, so that the page shows a next poll as it would.
        schedule: "0 */10 * * * *".into(),
        ..Setup::telegram(
            &fake,
            "[[channels]]\nid = \"akorda-en\"\nchat = \"@akorda_news_en\"\n\n\
             [[channels]]\nid = \"akorda-ru\"\nchat = \"@akorda_news_ru\"\n\n\
             [[channels]]\nid = \"akorda-kz\"\nchat = \"@akorda_news_kz\"\n",
        )
    };
    let t = spawn_app_with(setup).await;
    let titles = [
        (
            "en",
            [
                "Head of State receives the Minister of Foreign Affairs",
                "President holds a meeting on the development of the energy sector",
                "Head of State has a telephone conversation with the President of France",
            ],
        ),
        (
            "ru",
            [
                "Глава государства принял министра иностранных дел",
                "Президент провел совещание по развитию энергетики",
                "Состоялся телефонный разговор с Президентом Франции",
            ],
        ),
        (
            "kz",
            [
                "Мемлекет басшысы Сыртқы істер министрін қабылдады",
                "Президент энергетика саласын дамыту жөнінде кеңес өткізді",
                "Мемлекет басшысы Франция Президентімен телефон арқылы сөйлесті",
            ],
        ),
    ];
    for (lang, list) in titles {
        for (n, title) in list.iter().enumerate() {
            let n = n as u64 + 1;
            let mut release = match lang {
                "en" => release_en(n, 20 + n as u32),
                "ru" => release_ru(n, 20 + n as u32),
                _ => release_kz(n, 20 + n as u32),
            };
            release.title = (*title).into();
            t.site.publish(lang, release);
        }
        t.poll(&format!("akorda-{lang}")).await.unwrap();
    }
    let Some(chromium) = Chromium::new() else {
        return;
    };
    let url = format!("{}/", t.base);
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("index-page-readme.png");
    let path = shot.clone();
    tokio::task::spawn_blocking(move || chromium.screenshot(&url, &path, 1100, 1000))
        .await
        .unwrap();
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    t.stop().await;
}
