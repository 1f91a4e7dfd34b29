//! Upstream feeds (`kind = "feed"`) read as well as Python feedparser reads them (issue 20):
//! documents served over a real socket with the content type a server would give them, polled
//! by a real app on a real database. The documents are the feeds corpus (copied into
//! `tests/fixtures/feeds-corpus/`, see its README) and small feeds written here for one rule
//! each.

use crate::common;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use common::{Setup, TestApp, spawn_app_with};
use herald::model::{ItemId, ItemState};
use herald::pipeline::PollReport;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What the fake upstream server answers, per path: content type and body.
type Documents = Arc<Mutex<HashMap<String, (String, Vec<u8>)>>>;

/// A local HTTP server that serves `Documents` byte for byte.
struct Upstream {
    base: String,
    docs: Documents,
}

impl Upstream {
    async fn start() -> Upstream {
        let docs = Documents::default();
        let app = Router::new().fallback(serve).with_state(docs.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Upstream { base, docs }
    }

    fn put(&self, path: &str, content_type: &str, body: impl Into<Vec<u8>>) -> String {
        self.docs
            .lock()
            .unwrap()
            .insert(path.to_owned(), (content_type.to_owned(), body.into()));
        format!("{}{path}", self.base)
    }
}

async fn serve(State(docs): State<Documents>, uri: Uri) -> impl IntoResponse {
    match docs.lock().unwrap().get(uri.path()) {
        Some((ct, body)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, ct.clone())],
            body.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// An app whose sources are the given (id, url, extra keys) upstream feeds.
async fn app_with(feeds: &[(&str, &str, &str)], data_dir: Option<PathBuf>) -> TestApp {
    let mut extra_config = String::new();
    for (id, url, keys) in feeds {
        extra_config.push_str(&format!(
            "[[sources]]\nid = \"{id}\"\nurl = \"{url}\"\nschedule = \"0 0 0 1 1 *\"\nkind = \"feed\"\nmax_page_items = 500\n{keys}\n\n"
        ));
    }
    spawn_app_with(Setup {
        extra_config,
        data_dir,
        ..Setup::default()
    })
    .await
}

/// Polls one feed document served with `content_type`: the report, or the poll's error.
async fn poll_one(content_type: &str, body: impl Into<Vec<u8>>) -> Result<PollReport, String> {
    let upstream = Upstream::start().await;
    let url = upstream.put("/feed", content_type, body);
    let app = app_with(&[("up", &url, "")], None).await;
    app.poll("up").await.map_err(|e| e.to_string())
}

fn titles(report: &PollReport) -> Vec<String> {
    report.items.iter().map(|o| o.item.title.clone()).collect()
}

fn rss_with_titles(titles: &[&str]) -> String {
    let items: String = titles
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "<item><title>{t}</title><link>https://ex.org/{i}</link><pubDate>Mon, 0{} Dec 2025 10:00:00 +0000</pubDate></item>\n",
                9 - i.min(8)
            )
        })
        .collect();
    format!(
        "<rss version=\"2.0\"><channel><title>T</title><link>https://ex.org/</link>\n{items}</channel></rss>"
    )
}

// ---- Red team (feeds): one local defect never costs the whole feed; dates; pictures ----

/// An RSS document whose root or channel was given a default namespace (Atom's, a site's own)
/// and one whose text holds a reference to no character are read whole, as feedparser reads
/// them: before, each was refused.
#[tokio::test]
async fn a_default_namespace_or_a_bad_character_reference_costs_no_entry() {
    let feed = rss_with_titles(&["One", "Two"]);
    for rewritten in [
        feed.replace(
            "<rss version=\"2.0\">",
            "<rss version=\"2.0\" xmlns=\"http://www.w3.org/2005/Atom\">",
        ),
        feed.replace("<channel>", "<channel xmlns=\"https://ex.org/ns/rss\">"),
        feed.replace("<title>One", "<title>One&#0;"),
        feed.replace("<title>Two", "<title>&#xDFFF;Two"),
    ] {
        let report = poll_one("application/rss+xml", rewritten.clone())
            .await
            .unwrap_or_else(|e| panic!("{rewritten}: {e}"));
        assert_eq!(titles(&report), ["One", "Two"], "{rewritten}");
    }
}

/// RFC 822/850 dates with a two-digit year are read as RFC 2822 reads them, in a zone the
/// date shapes do not know too (the year was read as the day, or as year 26); a date thrown out
/// as implausible (1970) is no date, so the entry takes its older neighbour's date and keeps its
/// place, instead of being dated when first seen, at the top.
#[tokio::test]
async fn two_digit_years_are_read_and_an_implausible_date_keeps_the_entry_in_place() {
    let rss = r#"<rss version="2.0"><channel><title>D</title><link>https://ex.org/</link>
        <item><title>MSK</title><link>https://ex.org/1</link><pubDate>Sat, 21 Mar 26 10:00:00 MSK</pubDate></item>
        <item><title>RFC 850</title><link>https://ex.org/2</link><pubDate>Friday, 20-Mar-26 10:00:00 GMT</pubDate></item>
        <item><title>Epoch</title><link>https://ex.org/3</link><pubDate>Thu, 01 Jan 1970 00:00:00 +0000</pubDate></item>
        <item><title>Far</title><link>https://ex.org/6</link><pubDate>Tue, 01 Jan 2999 00:00:00 +0000</pubDate></item>
        <item><title>ALMT</title><link>https://ex.org/4</link><pubDate>Fri, 05 Dec 25 10:00 ALMT</pubDate></item>
        <item><title>Day</title><link>https://ex.org/5</link><pubDate>Thu, 04 Dec 25</pubDate></item>
        </channel></rss>"#;
    let report = poll_one("application/rss+xml", rss).await.unwrap();
    let dates: Vec<(String, String)> = report
        .items
        .iter()
        .map(|o| (o.item.title.clone(), o.item.published.to_rfc3339()))
        .collect();
    let expected = [
        ("MSK", "2026-03-21T07:00:00+00:00"),
        ("RFC 850", "2026-03-20T10:00:00+00:00"),
        ("Epoch", "2025-12-05T05:00:00+00:00"),
        // More than a year ahead is no release's date either (issue 19's window).
        ("Far", "2025-12-05T05:00:00+00:00"),
        ("ALMT", "2025-12-05T05:00:00+00:00"),
        // A day without a time: its first instant in the source's zone (UTC here).
        ("Day", "2025-12-04T00:00:00+00:00"),
    ]
    .map(|(t, d)| (t.to_owned(), d.to_owned()));
    assert_eq!(dates, expected);
    // Said, as a list page's dates that give none are (it was silent).
    let warning = report.date_warning().unwrap_or_default();
    assert!(
        warning.starts_with("2 feed date(s) could not be read or are no release's")
            && warning.contains("Thu, 01 Jan 1970 00:00:00 +0000\" for https://ex.org/3"),
        "{warning}"
    );
}

/// A picture in the entry's body is its picture when the summary has none (a WordPress excerpt
/// beside a `content:encoded` that starts with one), and so is an item's own `itunes:image`; a
/// lazy-loaded picture is read, and shown, by its real source.
#[tokio::test]
async fn a_picture_in_the_body_is_the_release_picture() {
    let rss = r#"<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
        xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>P</title><link>https://ex.org/</link>
        <item><title>WP</title><link>https://ex.org/1</link><pubDate>Sat, 21 Mar 2026 10:00:00 GMT</pubDate>
        <description>Excerpt text only [&#8230;]</description>
        <content:encoded><![CDATA[<figure><img width="1024" src="https://ex.org/wp-content/uploads/2026/03/photo-1024x683.jpg"></figure><p>Article.</p>]]></content:encoded></item>
        <item><title>Lazy</title><link>https://ex.org/2</link><pubDate>Fri, 20 Mar 2026 10:00:00 GMT</pubDate>
        <description>&lt;img src="data:image/gif;base64,R0lGOD" data-src="https://ex.org/lazy.jpg"&gt;&lt;p&gt;Text&lt;/p&gt;</description></item>
        <item><title>Episode</title><link>https://ex.org/3</link><pubDate>Thu, 19 Mar 2026 10:00:00 GMT</pubDate>
        <description>Notes.</description><itunes:image href="https://ex.org/ep3.jpg"/></item>
        </channel></rss>"#;
    let report = poll_one("application/rss+xml", rss).await.unwrap();
    let images: Vec<Option<&str>> = report
        .items
        .iter()
        .map(|o| o.item.image.as_deref())
        .collect();
    assert_eq!(
        images,
        [
            Some("https://ex.org/wp-content/uploads/2026/03/photo-1024x683.jpg"),
            Some("https://ex.org/lazy.jpg"),
            Some("https://ex.org/ep3.jpg"),
        ]
    );
    let body = report.items[1].item.content_html.as_deref().unwrap();
    assert!(body.contains("src=\"https://ex.org/lazy.jpg\""), "{body}");
}

// ---- 1. Declared non-UTF-8 encodings are decoded once ----

#[rstest::rstest]
#[case::iso_8859_1("ISO-8859-1", "Glasfaserförderung im Landkreis")]
#[case::windows_1251("windows-1251", "Как Астана встречает зиму")]
#[case::koi8_r("KOI8-R", "Глава государства провёл совещание")]
#[case::shift_jis("Shift_JIS", "日本語のニュース記事")]
#[case::gb2312("GB2312", "中文新闻标题")]
#[case::euc_kr("EUC-KR", "한국어 뉴스 제목")]
#[case::big5("Big5", "中文新聞標題")]
#[tokio::test]
async fn a_declared_encoding_is_decoded_once(#[case] label: &str, #[case] title: &str) {
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap();
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"{label}\"?>\n{}",
        rss_with_titles(&[title])
    );
    let (bytes, _, unmappable) = encoding.encode(&text);
    assert!(!unmappable, "{label} cannot write {title}");
    let report = poll_one("application/rss+xml", bytes.into_owned())
        .await
        .unwrap();
    assert_eq!(titles(&report), [title]);
}

#[tokio::test]
async fn the_http_charset_wins_over_the_declaration_and_a_wrong_one_is_passed_over() {
    let title = "Президент провёл встречу";
    let body = |declared: &str| {
        encoding_rs::WINDOWS_1251
            .encode(&format!(
                "<?xml version=\"1.0\" encoding=\"{declared}\"?>{}",
                rss_with_titles(&[title])
            ))
            .0
            .into_owned()
    };
    // RFC 7303: the HTTP charset comes before the XML declaration.
    let report = poll_one(
        "application/rss+xml; charset=windows-1251",
        body("iso-8859-1"),
    )
    .await
    .unwrap();
    assert_eq!(titles(&report), [title]);
    // A header that says UTF-8 about bytes that are not UTF-8 is passed over for the declaration.
    let report = poll_one("application/rss+xml; charset=utf-8", body("windows-1251"))
        .await
        .unwrap();
    assert_eq!(titles(&report), [title]);
}

/// Every document of the corpus: decoded and read without a panic, refused only with a reason
/// that says what is wrong, and no title decoded twice (a round trip through a legacy encoding
/// back to UTF-8 would give different text).
#[test]
fn the_corpus_is_read_without_mojibake_and_refusals_say_why() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds-corpus");
    let manifest: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest.len(), 192);
    let base = url::Url::parse("https://upstream.example/feed").unwrap();
    let mut garbled = Vec::new();
    for doc in &manifest {
        let file = doc["file"].as_str().unwrap();
        let bytes = std::fs::read(root.join(file)).unwrap();
        let text = herald::encoding::decode(&bytes, doc["content_type"].as_str());
        match herald::extract::feed::feed_entries(&text, &base, None, usize::MAX) {
            Ok(read) => {
                for entry in &read.entries {
                    if looks_decoded_twice(&entry.title) {
                        garbled.push(format!("{file}: {}", entry.title));
                    }
                }
            }
            Err(e) => {
                let why = e.to_string();
                assert!(!why.contains("no root element"), "{file}: {why}");
            }
        }
    }
    assert!(garbled.is_empty(), "{garbled:#?}");
}

fn looks_decoded_twice(text: &str) -> bool {
    if text.is_ascii() {
        return false;
    }
    [
        encoding_rs::WINDOWS_1252,
        encoding_rs::WINDOWS_1251,
        encoding_rs::KOI8_R,
        encoding_rs::SHIFT_JIS,
        encoding_rs::GBK,
        encoding_rs::EUC_KR,
        encoding_rs::BIG5,
    ]
    .iter()
    .any(|enc| {
        let (bytes, _, unmappable) = enc.encode(text);
        !unmappable
            && std::str::from_utf8(&bytes).is_ok_and(|again| again != text && !again.is_ascii())
    })
}

// ---- 2. UTF-16 and UTF-32, with and without a byte-order mark ----

fn wide(text: &str, unit: usize, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let chars = bom.then_some('\u{feff}').into_iter().chain(text.chars());
    for c in chars {
        if unit == 2 {
            let mut buf = [0u16; 2];
            for u in c.encode_utf16(&mut buf) {
                out.extend(if big_endian {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                });
            }
        } else {
            let u = c as u32;
            out.extend(if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
    }
    out
}

#[rstest::rstest]
#[case::utf16le(2, false, false)]
#[case::utf16be(2, true, false)]
#[case::utf16le_bom(2, false, true)]
#[case::utf16be_bom(2, true, true)]
#[case::utf32le(4, false, false)]
#[case::utf32be(4, true, false)]
#[case::utf32le_bom(4, false, true)]
#[case::utf32be_bom(4, true, true)]
#[tokio::test]
async fn wide_encodings_are_read_whole(
    #[case] unit: usize,
    #[case] big_endian: bool,
    #[case] bom: bool,
) {
    let names: Vec<String> = (1..=25)
        .map(|n| format!("Новость №{n} — ünïcödé"))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let declared = if unit == 2 { "UTF-16" } else { "UTF-32" };
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"{declared}\"?>\n{}",
        rss_with_titles(&names)
    );
    let report = poll_one("application/rss+xml", wide(&text, unit, big_endian, bom))
        .await
        .unwrap();
    assert_eq!(titles(&report), names);
}

// ---- 3. Identity: an entry's own guid/id, stable across the upgrade ----

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

#[tokio::test]
async fn entries_sharing_a_link_or_differing_after_the_hash_are_distinct() {
    let report = poll_one(
        "application/rss+xml",
        std::fs::read(fixture("feeds/podcast.xml")).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        titles(&report),
        [
            "Episode 2: Mountains",
            "Episode 1: Rivers",
            "Release notes 1.1",
            "Release notes 1.0",
            "Transcript index"
        ]
    );
    assert_eq!(
        report.items[2].item.link, "https://pod.example.org/notes#v1.1",
        "a feed entry's link keeps its fragment"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `tests/fixtures/feeds/legacy-db` was written by herald before issue 20 (commit 15354cf,
/// `herald poll pod`) polling `podcast.xml`: it stored 3 of its 5 entries, keyed by canonical
/// link. After the upgrade those 3 keep their GUIDs and are known; the 2 that were collapsed
/// into them come out as the new releases they are; nothing is announced twice.
#[tokio::test]
async fn a_database_written_before_keeps_its_identities() {
    let data = tempfile::tempdir().unwrap();
    copy_dir(&fixture("feeds/legacy-db"), data.path());
    let upstream = Upstream::start().await;
    // The feed has changed since (a third episode), so that a conditional poll reads it.
    let feed = std::fs::read_to_string(fixture("feeds/podcast.xml")).unwrap().replacen(
        "<item>",
        "<item><title>Episode 3: Seas</title><link>https://pod.example.org/show</link>\
         <guid isPermaLink=\"false\">pod-ep-3</guid><pubDate>Wed, 03 Dec 2025 09:00:00 +0000</pubDate></item>\n<item>",
        1,
    );
    let url = upstream.put("/podcast.xml", "application/rss+xml", feed);
    let app = app_with(&[("pod", &url, "")], Some(data.path().to_owned())).await;
    let report = app.poll_reporting_known("pod").await.unwrap();
    let mut states: Vec<(String, ItemState, String)> = report
        .items
        .iter()
        .map(|o| (o.item.title.clone(), o.state, o.item.id.guid()))
        .collect();
    let known = |title: &str, guid: &str| (title.to_owned(), ItemState::Known, guid.to_owned());
    assert_eq!(states.len(), 6, "{states:?}");
    assert_eq!(states.remove(0).1, ItemState::New, "the new episode");
    assert_eq!(
        states[0],
        known(
            "Episode 2: Mountains",
            "urn:uuid:e1879774-dd60-8358-b2e2-ab83e9bb6e65"
        )
    );
    assert_eq!(states[1].1, ItemState::New, "{states:?}");
    assert_eq!(
        states[2],
        known(
            "Release notes 1.1",
            "urn:uuid:d76b66b1-e34e-87a3-966e-b4bc094af5e0"
        )
    );
    assert_eq!(states[3].1, ItemState::New, "{states:?}");
    assert_eq!(
        states[4],
        known(
            "Transcript index",
            "urn:uuid:3bdd93d5-d13b-8ded-9898-071e9c3192a5"
        )
    );
    // The next poll (the feed unchanged but read again) finds every entry known, under the
    // same identities.
    let source = app.app.config().source("pod").unwrap().clone();
    let options = herald::pipeline::PollOptions {
        conditional: false,
        report_known: true,
    };
    let again = app.app.poll(&source, options).await.unwrap();
    assert!(
        again.items.iter().all(|o| o.state == ItemState::Known),
        "{:?}",
        again.items
    );
    let ids = |r: &PollReport| r.items.iter().map(|o| o.item.id).collect::<Vec<_>>();
    assert_eq!(ids(&again), ids(&report));
}

#[tokio::test]
async fn id_pattern_still_wins_over_the_guid() {
    let upstream = Upstream::start().await;
    let feed = "<rss version=\"2.0\"><channel><title>T</title>\
        <item><title>A</title><link>https://ex.org/news/a-17</link><guid>g-1</guid></item>\
        </channel></rss>";
    let url = upstream.put("/f", "application/rss+xml", feed);
    let app = app_with(&[("up", &url, "id_pattern = '-(\\d+)$'")], None).await;
    let report = app.poll("up").await.unwrap();
    assert_eq!(report.items[0].item.id, ItemId::new("up", "id:17"));
}

// ---- 4. Entries without a title or a <link>; RSS versions and namespaces ----

#[tokio::test]
async fn entries_without_a_title_or_a_link_are_kept_and_empty_ones_counted() {
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"Micro","items":[
        {"id":"https://micro.example/1","content_text":"Walked to the lake this morning. The ice is back."},
        {"id":"2","url":"https://micro.example/2","content_html":"<p>A photo of the <b>harbour</b></p>"},
        {"id":"3"}
    ]}"#;
    let report = poll_one("application/feed+json", json).await.unwrap();
    assert_eq!(
        titles(&report),
        ["Walked to the lake this morning.", "A photo of the harbour"]
    );
    assert_eq!(report.items[0].item.link, "https://micro.example/1");
    assert_eq!(report.skipped, 1, "the entry with neither link nor text");

    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id>
        <entry><title>Only an id</title><id>https://atom.example/posts/7</id><updated>2025-12-01T10:00:00Z</updated></entry>
        </feed>"#;
    let report = poll_one("application/atom+xml", atom).await.unwrap();
    assert_eq!(report.items[0].item.link, "https://atom.example/posts/7");

    let rss = r#"<rss version="2.0"><channel><title>R</title><link>https://rss.example/</link>
        <item><title>Permalink guid</title><guid>https://rss.example/p/1</guid></item>
        <item><title>Not a permalink</title><guid isPermaLink="false">https://rss.example/p/2</guid></item>
        <item><description>Only a description, which is enough.</description></item>
        <item><title>Relative permalink</title><guid>/p/3?x=1</guid></item>
        </channel></rss>"#;
    let report = poll_one("application/rss+xml", rss).await.unwrap();
    let links: Vec<&str> = report.items.iter().map(|o| o.item.link.as_str()).collect();
    assert_eq!(
        links[..3],
        [
            "https://rss.example/p/1",
            "https://rss.example/",
            "https://rss.example/"
        ]
    );
    // A relative permalink resolves against the feed's address, as feedparser reads it.
    assert!(
        links[3].starts_with("http://127.0.0.1:") && links[3].ends_with("/p/3?x=1"),
        "{}",
        links[3]
    );
    assert_eq!(titles(&report)[2], "Only a description, which is enough.");
}

#[rstest::rstest]
#[case::rss090("rsscrate/rss090.xml", 5, "New Status Updates")]
#[case::rss090_feedparser("feedparser-wellformed/rss090_item_title.xml", 1, "Item title")]
#[case::default_namespace(
    "feedparser-wellformed/rss2.0NSwithModules.xml",
    1,
    "Test Item - RSS2.0 w/ NS"
)]
#[case::prefixed_namespace(
    "feedparser-wellformed/rss2.0NSwithModulesNoDefNS.xml",
    1,
    "Test Item - - RSS2.0 w/ NS no default NS"
)]
#[case::no_version("rsscrate/dublincore.xml", 1, "")]
#[tokio::test]
async fn rss_of_every_version_and_namespace_is_read(
    #[case] file: &str,
    #[case] count: usize,
    #[case] first_title: &str,
) {
    let body = std::fs::read(fixture("feeds-corpus").join(file)).unwrap();
    let report = poll_one("application/rss+xml", body).await.unwrap();
    assert_eq!(report.items.len(), count, "{:?}", titles(&report));
    if !first_title.is_empty() {
        assert_eq!(report.items[0].item.title, first_title);
    }
}

#[rstest::rstest]
#[case::v094("0.94")]
#[case::v201("2.01")]
#[case::v093("0.93")]
#[case::empty("")]
#[tokio::test]
async fn rss_versions_feed_rs_does_not_know_are_read_as_rss_2(#[case] version: &str) {
    let feed = rss_with_titles(&["One", "Two"]).replace(
        "<rss version=\"2.0\">",
        &format!("<rss version=\"{version}\">"),
    );
    let report = poll_one("application/rss+xml", feed).await.unwrap();
    assert_eq!(titles(&report), ["One", "Two"]);
}

// ---- 5. Text constructs are text ----

#[tokio::test]
async fn plain_text_titles_keep_their_brackets() {
    let title = "The <dialog> element and Option<T>";
    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id>
        <entry><title type="text">The &lt;dialog&gt; element and Option&lt;T&gt;</title><id>urn:1</id>
        <link href="https://ex.org/1"/><updated>2025-12-01T10:00:00Z</updated></entry>
        <entry><title>The &lt;dialog&gt; element and Option&lt;T&gt;</title><id>urn:2</id>
        <link href="https://ex.org/2"/><updated>2025-12-01T09:00:00Z</updated></entry>
        <entry><title type="html">&lt;b&gt;Bold&lt;/b&gt; news</title><id>urn:3</id>
        <link href="https://ex.org/3"/><updated>2025-12-01T08:00:00Z</updated></entry>
        </feed>"#;
    let report = poll_one("application/atom+xml", atom).await.unwrap();
    assert_eq!(titles(&report), [title, title, "Bold news"]);
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
        {"id":"1","url":"https://ex.org/j1","title":"The <dialog> element and Option<T>","content_text":"x"}]}"#;
    let report = poll_one("application/feed+json", json).await.unwrap();
    assert_eq!(titles(&report), [title]);
    let rss = rss_with_titles(&["The &lt;dialog&gt; element and Option&lt;T&gt;"]);
    let report = poll_one("application/rss+xml", rss).await.unwrap();
    assert_eq!(titles(&report), [title]);
}

// ---- 6. Dates ----

#[tokio::test]
async fn common_date_variants_are_read_and_an_undated_entry_keeps_its_place() {
    let rss = r#"<rss version="2.0" xmlns:dcterms="http://purl.org/dc/terms/"><channel><title>D</title>
        <item><title>PM</title><link>https://ex.org/1</link><pubDate>Sat, Dec 16 2023 02:02:33 PM</pubDate></item>
        <item><title>Short offset</title><link>https://ex.org/2</link><pubDate>2023-12-15T10:00:00+00:0</pubDate></item>
        <item><title>Undated</title><link>https://ex.org/3</link></item>
        <item><title>Modified</title><link>https://ex.org/4</link><dcterms:modified>2002-09-28T20:01:19Z</dcterms:modified></item>
        </channel></rss>"#;
    let report = poll_one("application/rss+xml", rss).await.unwrap();
    let dates: Vec<String> = report
        .items
        .iter()
        .map(|o| o.item.published.to_rfc3339())
        .collect();
    assert_eq!(
        dates,
        [
            "2023-12-16T14:02:33+00:00",
            "2023-12-15T10:00:00+00:00",
            // The undated entry takes its older neighbour's date: it stays between them.
            "2002-09-28T20:01:19+00:00",
            "2002-09-28T20:01:19+00:00",
        ]
    );
}

// ---- 7. A document that is no feed says what it is ----

#[rstest::rstest]
#[case::html(
    "text/html",
    "<!DOCTYPE html><html><head><title>Home</title></head><body>hi</body></html>",
    "not a feed: an HTML page"
)]
#[case::other_root(
    "application/xml",
    "<?xml version=\"1.0\"?><opml version=\"2.0\"><body/></opml>",
    "the root element is <opml>"
)]
#[case::empty("application/rss+xml", "", "the document is empty")]
#[case::json_not_feed("application/json", "{\"hello\": \"world\"}", "JSON Feed")]
#[case::broken_xml(
    "application/rss+xml",
    "<?xml version=\"1.0\"?><rss version=\"2.0\" <channel>",
    "not well-formed XML"
)]
#[tokio::test]
async fn what_is_not_a_feed_says_what_it_is(
    #[case] content_type: &str,
    #[case] body: &str,
    #[case] says: &str,
) {
    let error = poll_one(content_type, body).await.unwrap_err();
    assert!(error.contains(says), "{error}");
    assert!(!error.contains("no root element"), "{error}");
}

/// Microsoft's CDF, which feedparser reads: items with their titles, summaries, dates and links
/// (made absolute against the channel's BASE), channels nested in channels.
#[tokio::test]
async fn a_cdf_channel_is_read_as_feedparser_reads_it() {
    let cdf = "<CHANNEL BASE=\"http://base.example.org/\" HREF=\"http://www.example.org/\">\
        <TITLE>Channel</TITLE><ABSTRACT>About it</ABSTRACT>\
        <ITEM HREF=\"/item/1?a=1&amp;b=2\" LASTMOD=\"2004-04-06T23:05:43-05:00\"><TITLE>First &amp; best</TITLE>\
        <ABSTRACT>One</ABSTRACT></ITEM>\
        <CHANNEL><TITLE>Inner</TITLE><ITEM HREF=\"http://other.example/2\" LASTMOD=\"2004-04-05T10:00\">\
        <TITLE>Second</TITLE></ITEM></CHANNEL></CHANNEL>";
    let report = poll_one("application/xml", cdf).await.unwrap();
    let mut read: Vec<(String, String, String)> = report
        .items
        .iter()
        .map(|o| {
            let published = o.item.published.to_rfc3339();
            (o.item.title.clone(), o.item.link.clone(), published)
        })
        .collect();
    read.sort();
    assert_eq!(
        read,
        [
            (
                "First & best".to_owned(),
                "http://base.example.org/item/1?a=1&b=2".to_owned(),
                "2004-04-07T04:05:43+00:00".to_owned()
            ),
            (
                "Second".to_owned(),
                "http://other.example/2".to_owned(),
                "2004-04-05T10:00:00+00:00".to_owned()
            ),
        ]
    );
}

/// A feed cut short (a dropped connection, a broken end tag) keeps the entries that ended
/// before the damage, as feedparser's loose reading does; damage before any entry ends is
/// still refused with its reason.
#[tokio::test]
async fn a_feed_cut_short_keeps_its_whole_entries() {
    let feed = rss_with_titles(&["One", "Two", "Three"]);
    let cut = &feed[..feed.find("<item><title>Three").unwrap() + 20];
    let report = poll_one("application/rss+xml", cut).await.unwrap();
    assert_eq!(titles(&report), ["One", "Two"]);
    let unclosed_root = feed.replace("</rss>", "</rss");
    let report = poll_one("application/rss+xml", unclosed_root)
        .await
        .unwrap();
    assert_eq!(titles(&report).len(), 3);
    let error = poll_one(
        "application/rss+xml",
        &feed[..feed.find("<item>").unwrap() + 10],
    )
    .await
    .unwrap_err();
    assert!(error.contains("not well-formed XML"), "{error}");
}

// ---- Nothing panics on input ----

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// A real feed cut, spliced with arbitrary bytes and served in any encoding form: decoded
    /// and read, or refused with a reason, never a panic.
    #[test]
    fn any_damage_to_a_feed_is_read_or_refused_never_a_panic(
        cut in 0usize..2000,
        insert in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        form in 0usize..5,
    ) {
        let feed = std::fs::read(fixture("feeds/podcast.xml")).unwrap();
        let at = cut.min(feed.len());
        let mut body = feed[..at].to_vec();
        body.extend(&insert);
        body.extend(&feed[at..]);
        let body = match form {
            0 => body,
            1 => [b"\xef\xbb\xbf".as_slice(), &body].concat(),
            2 => body.iter().flat_map(|&b| [0, b]).collect(),
            3 => body.iter().flat_map(|&b| [b, 0, 0, 0]).collect(),
            _ => [b"\xff\xfe".as_slice(), &body].concat(),
        };
        let text = herald::encoding::decode(&body, Some("application/rss+xml"));
        let base = url::Url::parse("https://upstream.example/feed").unwrap();
        if let Err(e) = herald::extract::feed::feed_entries(&text, &base, None, usize::MAX) {
            proptest::prop_assert!(!e.to_string().is_empty());
        }
    }
}

/// A feed as a careless server writes it: a PHP warning before the document, a bare `&` in the
/// channel and in a link, HTML written unescaped into titles and descriptions, prefixes never
/// declared. Every item is polled, as feedparser reads them all.
#[tokio::test]
async fn a_carelessly_written_feed_is_polled_whole() {
    let body = concat!(
        "<br />\n<b>Warning</b>:  session_start(): headers already sent in <b>/srv/feed.php</b><br />\n",
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>News & views</title>",
        "<link>https://ex.org/</link>",
        "<item><title>Tom & Jerry</title><link>https://ex.org/a?x=1&y=2</link>",
        "<description>Line<br>two</description><pubDate>Mon, 08 Dec 2025 10:00:00 +0000</pubDate></item>",
        "<item><title>Second <b>one</b></title><link>https://ex.org/b</link>",
        "<content:encoded><![CDATA[<p>Body</p>]]></content:encoded>",
        "<media:thumbnail url=\"https://ex.org/b.jpg\"/><pubDate>Sun, 07 Dec 2025 10:00:00 +0000</pubDate></item>",
        "</channel></rss>"
    );
    let report = poll_one("application/rss+xml", body).await.unwrap();
    assert_eq!(titles(&report), ["Tom & Jerry", "Second one"]);
    assert_eq!(report.items[0].item.link, "https://ex.org/a?x=1&y=2");
    assert_eq!(
        report.items[1].item.image.as_deref(),
        Some("https://ex.org/b.jpg")
    );
}

// ---- Identity when upstream guids are shared or change ----

/// An RSS document of `(title, link, guid, pubDate)` items; an empty date writes none.
fn rss_items(items: &[(&str, &str, &str, &str)]) -> String {
    let items: String = items
        .iter()
        .map(|(title, link, guid, date)| {
            let date = if date.is_empty() {
                String::new()
            } else {
                format!("<pubDate>{date}</pubDate>")
            };
            format!(
                "<item><title>{title}</title><link>{link}</link><guid isPermaLink=\"false\">{guid}</guid><description>{title} text.</description>{date}</item>\n"
            )
        })
        .collect();
    format!(
        "<rss version=\"2.0\"><channel><title>T</title><link>https://ex.org/</link>\n{items}</channel></rss>"
    )
}

fn states(report: &PollReport) -> Vec<(String, ItemState)> {
    report
        .items
        .iter()
        .map(|o| (o.item.title.clone(), o.state))
        .collect()
}

fn state(title: &str, state: ItemState) -> (String, ItemState) {
    (title.to_owned(), state)
}

/// A guid that every entry of the feed carries (its home page) identifies none of them: each
/// is a release of its own, and the next entry at the top is new, never an edit of the last.
#[tokio::test]
async fn entries_sharing_a_guid_are_distinct_and_the_next_one_is_new() {
    let upstream = Upstream::start().await;
    let home = "https://ex.org/";
    let day = |h: u8| format!("Thu, 05 Mar 2026 {h:02}:00:00 GMT");
    let (d12, d11, d10, d9) = (day(12), day(11), day(10), day(9));
    let first = rss_items(&[
        ("Story 3", "https://ex.org/s/3", home, &d11),
        ("Story 2", "https://ex.org/s/2", home, &d10),
        ("Story 1", "https://ex.org/s/1", home, &d9),
    ]);
    let url = upstream.put("/f", "application/rss+xml", first);
    let app = app_with(&[("up", &url, "")], None).await;
    let report = app.poll("up").await.unwrap();
    assert_eq!(
        states(&report),
        [
            state("Story 3", ItemState::New),
            state("Story 2", ItemState::New),
            state("Story 1", ItemState::New)
        ]
    );
    let next = rss_items(&[
        ("Story 4", "https://ex.org/s/4", home, &d12),
        ("Story 3", "https://ex.org/s/3", home, &d11),
        ("Story 2", "https://ex.org/s/2", home, &d10),
        ("Story 1", "https://ex.org/s/1", home, &d9),
    ]);
    upstream.put("/f", "application/rss+xml", next);
    let report = app.poll_reporting_known("up").await.unwrap();
    assert_eq!(
        states(&report),
        [
            state("Story 4", ItemState::New),
            state("Story 3", ItemState::Known),
            state("Story 2", ItemState::Known),
            state("Story 1", ItemState::Known)
        ]
    );
}

/// A release stored under its own guid keeps it when a later entry starts to share that guid
/// (it is no longer the entry's key, but it stays the stored release's identity), and again
/// when the guid is its own once more. The feed has no dates, so only the shared guid tells.
#[tokio::test]
async fn a_stored_release_keeps_its_guid_when_others_start_to_share_it() {
    let upstream = Upstream::start().await;
    let url = upstream.put(
        "/f",
        "application/rss+xml",
        rss_items(&[
            ("Alpha", "https://ex.org/a", "g", ""),
            ("Beta", "https://ex.org/b", "b", ""),
        ]),
    );
    let app = app_with(&[("up", &url, "")], None).await;
    let report = app.poll("up").await.unwrap();
    let alpha = report.items[0].item.id;
    assert_eq!(alpha, ItemId::new("up", "g"));
    upstream.put(
        "/f",
        "application/rss+xml",
        rss_items(&[
            ("Gamma", "https://ex.org/c", "g", ""),
            ("Alpha", "https://ex.org/a", "g", ""),
            ("Beta", "https://ex.org/b", "b", ""),
        ]),
    );
    let report = app.poll_reporting_known("up").await.unwrap();
    assert_eq!(
        states(&report),
        [
            state("Gamma", ItemState::New),
            state("Alpha", ItemState::Known),
            state("Beta", ItemState::Known)
        ]
    );
    assert_eq!(report.items[1].item.id, alpha);
    // Gamma leaves; the guid is Alpha's alone again.
    upstream.put(
        "/f",
        "application/rss+xml",
        rss_items(&[
            ("Alpha", "https://ex.org/a", "g", ""),
            ("Beta", "https://ex.org/b", "b", ""),
        ]),
    );
    let report = app.poll_reporting_known("up").await.unwrap();
    assert!(
        report.items.iter().all(|o| o.state == ItemState::Known),
        "{:?}",
        states(&report)
    );
    assert_eq!(report.items[0].item.id, alpha);
}

/// An entry whose guid changed (same link, title, text and date; its old guid gone from the
/// feed) is the release already stored, not a second post. Entries that only look alike are
/// never one: an episode sharing the show's link under another title, a recurring entry of the
/// same title and text on another date.
#[tokio::test]
async fn a_changed_guid_is_the_same_release_but_two_entries_are_never_one() {
    let upstream = Upstream::start().await;
    let day = |d: u8| format!("{d:02} Feb 2026 10:00:00 GMT");
    let (d2, d3, d4, d5, d9) = (day(2), day(3), day(4), day(5), day(9));
    let url = upstream.put(
        "/f",
        "application/rss+xml",
        rss_items(&[
            ("Item 4", "https://ex.org/4", "m-4", &d4),
            ("Item 3", "https://ex.org/3", "m-3", &d3),
            ("Episode 1", "https://ex.org/show", "ep-1", &d3),
            ("Weekly digest", "https://ex.org/digest", "w-1", &d2),
        ]),
    );
    let app = app_with(&[("up", &url, "")], None).await;
    app.poll("up").await.unwrap();
    upstream.put(
        "/f",
        "application/rss+xml",
        rss_items(&[
            ("Weekly digest", "https://ex.org/digest", "w-2", &d9),
            ("Episode 2", "https://ex.org/show", "ep-2", &d5),
            ("Item 4", "https://ex.org/4", "m-4", &d4),
            ("Item 3", "https://ex.org/3", "m-3-v2", &d3),
        ]),
    );
    let report = app.poll_reporting_known("up").await.unwrap();
    assert_eq!(
        states(&report),
        [
            state("Weekly digest", ItemState::New),
            state("Episode 2", ItemState::New),
            state("Item 4", ItemState::Known),
            state("Item 3", ItemState::Known)
        ]
    );
    assert_eq!(report.items[3].item.id, ItemId::new("up", "m-3"));
    // The same document read again: still the stored release.
    let source = app.app.config().source("up").unwrap().clone();
    let options = herald::pipeline::PollOptions {
        conditional: false,
        report_known: true,
    };
    let report = app.app.poll(&source, options).await.unwrap();
    assert_eq!(report.items[3].item.id, ItemId::new("up", "m-3"));
    assert_eq!(report.items[3].state, ItemState::Known);
}

/// A stored entry's date is compared as it read when the entry was first seen: a date-only
/// entry of that day (dated when first seen) and one dated in the future (dated when first
/// seen, the future being an error of the site) are still the stored release when their guid
/// changes, and a correction of link and title under the same guid is a correction, not a new
/// release whose "link, title and date all differ".
#[tokio::test]
async fn a_date_read_as_first_seen_still_identifies_the_release() {
    let upstream = Upstream::start().await;
    let tz = chrono_tz::Asia::Almaty;
    let now = chrono::Utc::now();
    let day = |ago: i64| {
        (now.with_timezone(&tz) - chrono::Duration::days(ago))
            .format("%Y-%m-%d")
            .to_string()
    };
    let (today, older) = (day(0), day(3));
    let ahead = (now + chrono::Duration::hours(3)).to_rfc2822();
    let feed = |guids: [&str; 4], fixed: (&str, &str)| {
        rss_items(&[
            ("Ahead", "https://ex.org/ahead", guids[0], &ahead),
            ("Today", "https://ex.org/today", guids[1], &today),
            ("Older", "https://ex.org/older", guids[2], &older),
            (fixed.0, fixed.1, guids[3], &today),
        ])
    };
    let url = upstream.put(
        "/f",
        "application/rss+xml",
        feed(
            ["guid-F", "guid-A", "guid-C", "guid-K"],
            ("Draft", "https://ex.org/draft"),
        ),
    );
    let app = app_with(&[("up", &url, "timezone = \"Asia/Almaty\"")], None).await;
    let first = app.poll("up").await.unwrap();
    assert_eq!(first.items.len(), 4);
    upstream.put(
        "/f",
        "application/rss+xml",
        feed(
            ["guid-F2", "guid-B", "guid-C2", "guid-K"],
            ("Final", "https://ex.org/final"),
        ),
    );
    let report = app.poll_reporting_known("up").await.unwrap();
    assert_eq!(
        states(&report),
        [
            state("Ahead", ItemState::Known),
            state("Today", ItemState::Known),
            state("Older", ItemState::Known),
            state("Final", ItemState::Changed)
        ]
    );
    let ids = |r: &PollReport| r.items.iter().map(|o| o.item.id).collect::<Vec<_>>();
    assert_eq!(ids(&report), ids(&first), "each stays the release stored");
}

/// An upstream summary that holds HTML (a list, links, a picture) and no separate content keeps
/// its markup in herald's own feeds, and its picture is the item's image; a plain-text summary
/// stays escaped text.
#[tokio::test]
async fn an_html_summary_keeps_its_markup_in_herald_feeds() {
    let upstream = Upstream::start().await;
    let feed = r#"<rss version="2.0"><channel><title>T</title><link>https://ex.org/</link>
<item><title>Listed</title><link>https://ex.org/1</link><guid isPermaLink="false">l-1</guid>
<description>&lt;ul&gt;&lt;li&gt;First point&lt;/li&gt;&lt;li&gt;&lt;a href="https://ex.org/more"&gt;More&lt;/a&gt;&lt;/li&gt;&lt;/ul&gt;&lt;img src="/pics/1.jpg"&gt;</description>
<pubDate>Thu, 05 Mar 2026 10:00:00 GMT</pubDate></item>
</channel></rss>"#;
    let url = upstream.put("/f", "application/rss+xml", feed);
    let app = app_with(&[("up", &url, "")], None).await;
    let report = app.poll("up").await.unwrap();
    let item = &report.items[0].item;
    assert_eq!(item.summary.as_deref(), Some("First point More"));
    assert_eq!(item.image.as_deref(), Some("https://ex.org/pics/1.jpg"));
    let json: serde_json::Value = serde_json::from_str(&app.text("/feeds/up.json").await).unwrap();
    let body = json["items"][0]["content_html"]
        .as_str()
        .unwrap_or_default();
    assert!(
        body.contains("<li>First point</li>") && body.contains("href=\"https://ex.org/more\""),
        "{body}"
    );
}

/// A feed that lists the same entry twice (same guid, same link; the copy's text edited) lists
/// one entry: it keeps the guid it was stored under and is announced once, whatever the copy
/// says. Entries without a link that share a guid are told apart by what they say: the one that
/// reads as the release stored under that guid keeps it.
#[tokio::test]
async fn an_entry_listed_twice_keeps_its_guid_and_is_not_announced_again() {
    let upstream = Upstream::start().await;
    let url = upstream.put(
        "/f",
        "application/rss+xml",
        rss_items(&[("Alpha", "https://ex.org/a", "g", "")]),
    );
    let app = app_with(&[("up", &url, "")], None).await;
    let report = app.poll("up").await.unwrap();
    let alpha = report.items[0].item.id;
    assert_eq!(alpha, ItemId::new("up", "g"));
    let twice = rss_items(&[
        ("Alpha", "https://ex.org/a", "g", ""),
        ("Alpha", "https://ex.org/a", "g", ""),
    ]);
    upstream.put("/f", "application/rss+xml", twice.clone());
    let report = app.poll_reporting_known("up").await.unwrap();
    assert_eq!(states(&report), [state("Alpha", ItemState::Known)]);
    assert_eq!(report.items[0].item.id, alpha);
    // The copy's text edited: still the one release, under its guid.
    upstream.put(
        "/f",
        "application/rss+xml",
        twice.replacen("Alpha text.", "Alpha text, edited.", 1),
    );
    let report = app.poll_reporting_known("up").await.unwrap();
    assert_eq!(report.items.len(), 1, "{:?}", states(&report));
    assert_eq!(report.items[0].item.id, alpha);
    assert_ne!(report.items[0].state, ItemState::New);
}

/// An RSS document of `(title, guid)` items without links.
fn rss_unlinked(items: &[(&str, &str)]) -> String {
    let items: String = items
        .iter()
        .map(|(title, guid)| {
            format!(
                "<item><title>{title}</title><guid isPermaLink=\"false\">{guid}</guid><description>{title} text.</description></item>\n"
            )
        })
        .collect();
    format!(
        "<rss version=\"2.0\"><channel><title>T</title><link>https://ex.org/</link>\n{items}</channel></rss>"
    )
}

/// Entries without a link sharing the guid a release is stored under are all at its address
/// (the feed's home): the one that reads as it keeps it; the other is new.
#[tokio::test]
async fn of_sharers_at_the_stored_address_the_one_reading_as_it_keeps_the_guid() {
    let upstream = Upstream::start().await;
    let url = upstream.put("/f", "application/rss+xml", rss_unlinked(&[("Alpha", "h")]));
    let app = app_with(&[("up", &url, "")], None).await;
    let report = app.poll("up").await.unwrap();
    let alpha = report.items[0].item.id;
    assert_eq!(alpha, ItemId::new("up", "h"));
    upstream.put(
        "/f",
        "application/rss+xml",
        rss_unlinked(&[("Beta", "h"), ("Alpha", "h")]),
    );
    let report = app.poll_reporting_known("up").await.unwrap();
    assert_eq!(
        states(&report),
        [
            state("Beta", ItemState::New),
            state("Alpha", ItemState::Known)
        ]
    );
    assert_eq!(report.items[1].item.id, alpha);
}

/// A release past `max_items` (no longer in the feed, still known) keeps its guid when other
/// entries start to share it: it is not announced again.
#[tokio::test]
async fn a_release_past_max_items_keeps_its_guid_when_others_share_it() {
    let upstream = Upstream::start().await;
    let day = |d: u8| format!("{d:02} Feb 2026 10:00:00 GMT");
    let (d2, d3, d4) = (day(2), day(3), day(4));
    let url = upstream.put(
        "/f",
        "application/rss+xml",
        rss_items(&[("Alpha", "https://ex.org/a", "g", &d2)]),
    );
    let app = app_with(&[("up", &url, "max_items = 1")], None).await;
    let report = app.poll("up").await.unwrap();
    let alpha = report.items[0].item.id;
    upstream.put(
        "/f",
        "application/rss+xml",
        rss_items(&[
            ("Beta", "https://ex.org/b", "b", &d3),
            ("Alpha", "https://ex.org/a", "g", &d2),
        ]),
    );
    app.poll("up").await.unwrap();
    upstream.put(
        "/f",
        "application/rss+xml",
        rss_items(&[
            ("Gamma", "https://ex.org/c", "g", &d4),
            ("Beta", "https://ex.org/b", "b", &d3),
            ("Alpha", "https://ex.org/a", "g", &d2),
        ]),
    );
    let report = app.poll_reporting_known("up").await.unwrap();
    assert_eq!(
        states(&report),
        [
            state("Gamma", ItemState::New),
            state("Beta", ItemState::Known),
            state("Alpha", ItemState::Known)
        ]
    );
    assert_eq!(report.items[2].item.id, alpha);
}

/// A feed that numbers its entries by position gives each guid to another release at every
/// post: a guid names the stored release only while its link, title or date still agrees. A new
/// release under an old number is new (keyed by its link), the releases that moved down keep
/// their identity, the next poll of the same document is quiet, and a title corrected under the
/// same link and date is still a correction.
#[tokio::test]
async fn a_reused_positional_guid_is_a_new_release_not_an_edit() {
    let upstream = Upstream::start().await;
    let day = |d: u8| format!("{d:02} Feb 2026 10:00:00 GMT");
    let (d1, d2, d3, d4) = (day(1), day(2), day(3), day(4));
    let url = upstream.put(
        "/f",
        "application/rss+xml",
        rss_items(&[
            ("Story A", "https://ex.org/a", "1", &d3),
            ("Story B", "https://ex.org/b", "2", &d2),
            ("Story C", "https://ex.org/c", "3", &d1),
        ]),
    );
    let app = app_with(&[("up", &url, "")], None).await;
    app.poll("up").await.unwrap();
    let next = rss_items(&[
        ("Story D", "https://ex.org/d", "1", &d4),
        ("Story A", "https://ex.org/a", "2", &d3),
        ("Story B", "https://ex.org/b", "3", &d2),
    ]);
    upstream.put("/f", "application/rss+xml", next);
    let report = app.poll_reporting_known("up").await.unwrap();
    assert_eq!(
        states(&report),
        [
            state("Story D", ItemState::New),
            state("Story A", ItemState::Known),
            state("Story B", ItemState::Known)
        ]
    );
    assert_eq!(report.items[1].item.id, ItemId::new("up", "1"));
    assert_eq!(report.items[2].item.id, ItemId::new("up", "2"));
    let d = report.items[0].item.id;
    // The same document again: nothing new, nothing changed, the same identities.
    let source = app.app.config().source("up").unwrap().clone();
    let options = herald::pipeline::PollOptions {
        conditional: false,
        report_known: true,
    };
    let report = app.app.poll(&source, options).await.unwrap();
    assert!(
        report.items.iter().all(|o| o.state == ItemState::Known),
        "{:?}",
        states(&report)
    );
    assert_eq!(report.items[0].item.id, d);
    // A corrected title under the same link and date is a correction.
    upstream.put(
        "/f",
        "application/rss+xml",
        rss_items(&[
            ("Story D", "https://ex.org/d", "1", &d4),
            ("Story A, corrected", "https://ex.org/a", "2", &d3),
            ("Story B", "https://ex.org/b", "3", &d2),
        ]),
    );
    let report = app.poll_reporting_known("up").await.unwrap();
    assert_eq!(
        states(&report),
        [
            state("Story D", ItemState::Known),
            state("Story A, corrected", ItemState::Changed),
            state("Story B", ItemState::Known)
        ]
    );
    assert_eq!(report.items[1].item.id, ItemId::new("up", "1"));
}

/// A guid kept by its entry with a corrected title (same link and date) is a correction.
#[tokio::test]
async fn a_corrected_title_under_its_guid_is_a_correction() {
    let upstream = Upstream::start().await;
    let d = "02 Feb 2026 10:00:00 GMT";
    let url = upstream.put(
        "/f",
        "application/rss+xml",
        rss_items(&[("Old title", "https://ex.org/a", "g1", d)]),
    );
    let app = app_with(&[("up", &url, "")], None).await;
    app.poll("up").await.unwrap();
    upstream.put(
        "/f",
        "application/rss+xml",
        rss_items(&[("New title", "https://ex.org/a?utm=x", "g1", d)]),
    );
    let report = app.poll_reporting_known("up").await.unwrap();
    assert_eq!(states(&report), [state("New title", ItemState::Changed)]);
    assert_eq!(report.items[0].item.id, ItemId::new("up", "g1"));
}

/// A feed without guids whose site moved to https, and began ending its paths with a slash:
/// its releases, known under their former links, are known still (nothing announced again, no
/// correction), and a release new under the new form is new.
#[tokio::test]
async fn a_feed_without_guids_whose_links_changed_form_announces_nothing_again() {
    for (scheme, slash) in [("https", ""), ("http", "/"), ("https", "/")] {
        let upstream = Upstream::start().await;
        let doc = |scheme: &str, slash: &str, extra: &str| {
            format!(
                "<rss version=\"2.0\"><channel><title>T</title><link>{scheme}://ex.org/</link>\n{extra}\
                 <item><title>Story A</title><link>{scheme}://ex.org/a{slash}</link><pubDate>02 Feb 2026 10:00:00 GMT</pubDate></item>\n\
                 <item><title>Story B</title><link>{scheme}://ex.org/news/b{slash}?lang=en</link><pubDate>01 Feb 2026 10:00:00 GMT</pubDate></item>\n\
                 </channel></rss>"
            )
        };
        let url = upstream.put("/f", "application/rss+xml", doc("http", "", ""));
        let app = app_with(&[("up", &url, "")], None).await;
        app.poll("up").await.unwrap();
        let new = format!(
            "<item><title>Story C</title><link>{scheme}://ex.org/c{slash}</link><pubDate>03 Feb 2026 10:00:00 GMT</pubDate></item>\n"
        );
        upstream.put("/f", "application/rss+xml", doc(scheme, slash, &new));
        let report = app.poll_reporting_known("up").await.unwrap();
        assert_eq!(
            states(&report),
            [
                state("Story C", ItemState::New),
                state("Story A", ItemState::Known),
                state("Story B", ItemState::Known)
            ],
            "{scheme} {slash}"
        );
        // The feed links the releases as the site now writes them.
        let feed: serde_json::Value = app.get("/feeds/up.json").await.json().await.unwrap();
        let urls: Vec<&str> = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["url"].as_str().unwrap())
            .collect();
        assert_eq!(
            urls,
            [
                format!("{scheme}://ex.org/c{slash}"),
                format!("{scheme}://ex.org/a{slash}"),
                format!("{scheme}://ex.org/news/b{slash}?lang=en"),
            ],
            "{scheme} {slash}"
        );
        // Moving back is no news either.
        upstream.put("/f", "application/rss+xml", doc("http", "", &new));
        let report = app.poll_reporting_known("up").await.unwrap();
        assert!(
            report.items.iter().all(|i| i.state == ItemState::Known),
            "{scheme} {slash}: {:?}",
            states(&report)
        );
    }
}

/// A page listing both `/a` and `/a/` (or both schemes) lists two releases: the second is not
/// taken for the first.
#[tokio::test]
async fn links_differing_only_in_form_on_one_page_stay_two_releases() {
    let upstream = Upstream::start().await;
    let url = upstream.put(
        "/f",
        "application/rss+xml",
        "<rss version=\"2.0\"><channel><title>T</title><link>http://ex.org/</link>\n\
         <item><title>Story A</title><link>http://ex.org/a</link></item>\n</channel></rss>"
            .to_owned(),
    );
    let app = app_with(&[("up", &url, "")], None).await;
    app.poll("up").await.unwrap();
    upstream.put(
        "/f",
        "application/rss+xml",
        "<rss version=\"2.0\"><channel><title>T</title><link>http://ex.org/</link>\n\
         <item><title>Story A2</title><link>http://ex.org/a/</link></item>\n\
         <item><title>Story A</title><link>http://ex.org/a</link></item>\n</channel></rss>"
            .to_owned(),
    );
    let report = app.poll_reporting_known("up").await.unwrap();
    assert_eq!(
        states(&report),
        [
            state("Story A2", ItemState::New),
            state("Story A", ItemState::Known)
        ]
    );
}

/// A feed without guids whose links dropped `www.`: its releases are known still; one whose
/// text changed with the move is a correction of it, not a new release (the same site).
#[tokio::test]
async fn a_feed_without_guids_that_dropped_www_announces_nothing_again() {
    let upstream = Upstream::start().await;
    let doc = |host: &str, b_title: &str| {
        format!(
            "<rss version=\"2.0\"><channel><title>T</title><link>https://{host}/</link>\n\
             <item><title>Story A</title><link>https://{host}/a</link></item>\n\
             <item><title>{b_title}</title><link>https://{host}/b</link></item>\n\
             </channel></rss>"
        )
    };
    let url = upstream.put("/f", "application/rss+xml", doc("www.ex.org", "Story B"));
    let app = app_with(&[("up", &url, "")], None).await;
    app.poll("up").await.unwrap();
    upstream.put("/f", "application/rss+xml", doc("ex.org", "Story B2"));
    let report = app.poll_reporting_known("up").await.unwrap();
    assert_eq!(
        states(&report),
        [
            state("Story A", ItemState::Known),
            state("Story B2", ItemState::Changed)
        ]
    );
}

/// A feed that lists a release both ways during a move (the old link pinned above the new
/// list, the same text): one release, known, never a second post; with another text the
/// other link is another release.
#[tokio::test]
async fn a_release_listed_both_ways_during_a_move_is_one() {
    let upstream = Upstream::start().await;
    let item = |title: &str, link: &str| {
        format!("<item><title>{title}</title><link>{link}</link></item>\n")
    };
    let doc = |items: &str| {
        format!(
            "<rss version=\"2.0\"><channel><title>T</title><link>https://ex.org/</link>\n{items}</channel></rss>"
        )
    };
    let url = upstream.put(
        "/f",
        "application/rss+xml",
        doc(&item("Story A", "http://ex.org/a")),
    );
    let app = app_with(&[("up", &url, "")], None).await;
    app.poll("up").await.unwrap();
    let both = [
        item("Story A", "http://ex.org/a"),
        item("Story A", "https://ex.org/a"),
        item("Story A", "https://ex.org/a/"),
        item("Story C", "https://ex.org/c"),
        item("Story C", "https://www.ex.org/c"),
        item("Story D", "https://ex.org/d"),
        item("Story D2", "https://ex.org/d/"),
    ]
    .concat();
    upstream.put("/f", "application/rss+xml", doc(&both));
    let report = app.poll_reporting_known("up").await.unwrap();
    assert_eq!(
        states(&report),
        [
            state("Story A", ItemState::Known),
            state("Story C", ItemState::New),
            state("Story D", ItemState::New),
            state("Story D2", ItemState::New),
        ]
    );
    // The new form listed above the old one (pinned below): still one release, known.
    let url_e = upstream.put(
        "/g",
        "application/rss+xml",
        doc(&item("Story E", "http://ex.org/e")),
    );
    let app = app_with(&[("up2", &url_e, "")], None).await;
    app.poll("up2").await.unwrap();
    let reversed = [
        item("Story E", "https://ex.org/e"),
        item("Story E", "http://ex.org/e"),
    ]
    .concat();
    upstream.put("/g", "application/rss+xml", doc(&reversed));
    let report = app.poll_reporting_known("up2").await.unwrap();
    assert_eq!(states(&report), [state("Story E", ItemState::Known)]);
}

/// A feed source's published feeds link the site's page the upstream feed names (its RSS
/// `<link>`), not the upstream feed's own XML; without one, the feed's address stays.
#[tokio::test]
async fn a_feed_sources_home_page_is_the_site_the_feed_names() {
    let upstream = Upstream::start().await;
    let named = upstream.put(
        "/named",
        "application/rss+xml",
        "<rss version=\"2.0\"><channel><title>T</title><link>https://ex.org/news/</link>\n\
         <item><title>Story A</title><link>https://ex.org/a</link></item>\n</channel></rss>"
            .to_owned(),
    );
    let unnamed = upstream.put(
        "/unnamed",
        "application/atom+xml",
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title><id>urn:x</id>\
         <updated>2026-01-01T00:00:00Z</updated>\
         <entry><title>Story B</title><id>urn:b</id><link href=\"https://ex.org/b\"/>\
         <updated>2026-01-01T00:00:00Z</updated></entry></feed>"
            .to_owned(),
    );
    let app = app_with(&[("named", &named, ""), ("unnamed", &unnamed, "")], None).await;
    for (id, home) in [
        ("named", "https://ex.org/news/"),
        ("unnamed", unnamed.as_str()),
    ] {
        app.poll(id).await.unwrap();
        let json: serde_json::Value = app
            .get(&format!("/feeds/{id}.json"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(json["home_page_url"], home, "{id}");
        let atom = app
            .get(&format!("/feeds/{id}.atom"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            atom.contains(&format!(
                "<link href=\"{home}\" rel=\"alternate\" type=\"text/html\"/>"
            )),
            "{id}: {atom}"
        );
        // The index page's "source page" link and the OPML `htmlUrl` are that page too.
        let page = app.text("/").await;
        assert!(
            page.contains(&format!("<a href=\"{home}\">source page</a>")),
            "{id}: {page}"
        );
        let opml = app.text("/opml").await;
        assert!(
            opml.contains(&format!("/feeds/{id}.rss\" htmlUrl=\"{home}\"")),
            "{id}: {opml}"
        );
    }
    // The site moves, its entries do not: the feeds served before (and kept) link the new page.
    upstream.put(
        "/named",
        "application/rss+xml",
        "<rss version=\"2.0\"><channel><title>T</title><link>https://ex.org/press/</link>\n\
         <item><title>Story A</title><link>https://ex.org/a</link></item>\n</channel></rss>"
            .to_owned(),
    );
    app.poll("named").await.unwrap();
    let json: serde_json::Value = app.get("/feeds/named.json").await.json().await.unwrap();
    assert_eq!(json["home_page_url"], "https://ex.org/press/");
}

// ---- Charsets: UTF-8 with a stray byte, KZ-1048 ----

/// English UTF-8 has few multibyte characters; one stray byte (a Latin-1 "é") among them leaves
/// the feed UTF-8, declared so or not, even under a Latin-1 header: "President’s", never
/// "Presidentâ€™s"; the stray is read as windows-1252 ("é"), as text pasted into a UTF-8 page
/// from a Western one is.
#[rstest::rstest]
#[case::declared("application/rss+xml; charset=utf-8")]
#[case::undeclared("application/rss+xml")]
#[case::under_latin_1("text/xml; charset=iso-8859-1")]
#[tokio::test]
async fn one_stray_byte_leaves_an_english_utf8_feed_utf8(#[case] content_type: &str) {
    let mut body =
        rss_with_titles(&["President’s visit to “Astana”", "Minister’s statement"]).into_bytes();
    let quote = "”</title>".as_bytes();
    let at = body.windows(quote.len()).position(|w| w == quote).unwrap() + 3;
    body.splice(at..at, *b" caf\xe9");
    let report = poll_one(content_type, body).await.unwrap();
    assert_eq!(
        titles(&report),
        ["President’s visit to “Astana” café", "Minister’s statement"]
    );
}

/// Kazakh text in KZ-1048 (windows-1251 but for the Kazakh letters), named by the header or the
/// XML declaration.
#[rstest::rstest]
#[case::header("text/xml; charset=RK1048", "")]
#[case::prolog("application/xml", "<?xml version=\"1.0\" encoding=\"KZ-1048\"?>\n")]
#[tokio::test]
async fn a_kz_1048_feed_keeps_its_kazakh_letters(#[case] content_type: &str, #[case] prolog: &str) {
    let title = "Қазақстан халқына Жолдау: әділетті, қауіпсіз, өркенді ел, ұлттық құндылық";
    let kazakh = [
        ('Қ', 0x8D),
        ('қ', 0x9D),
        ('ә', 0xBC),
        ('ө', 0xB4),
        ('ұ', 0xA2),
        ('ү', 0xBF),
        ('і', 0xB3),
    ];
    let text = format!("{prolog}{}", rss_with_titles(&[title]));
    let body: Vec<u8> = text
        .chars()
        .flat_map(|c| match kazakh.iter().find(|(k, _)| *k == c) {
            Some(&(_, byte)) => vec![byte],
            None => encoding_rs::WINDOWS_1251
                .encode(c.encode_utf8(&mut [0; 4]))
                .0
                .into_owned(),
        })
        .collect();
    let report = poll_one(content_type, body).await.unwrap();
    assert_eq!(titles(&report), [title]);
}
