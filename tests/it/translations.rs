//! Linked translations end to end (issue 10): the real app polls an English and a Russian list
//! page of the fake akorda.kz; when the Russian release of an English one appears, both feed
//! entries get "Also in" links (GUIDs unchanged, feeds still valid), and the Telegram posts get
//! language buttons, the earlier post by an edit through the outbox, kept by a later correction.

use crate::common;

use common::site::Release;
use common::{Setup, TestApp, assert_w3c_valid, eventually, spawn_app_with};
use fake_botapi::{FAST_TELEGRAM, FakeBotApi, FakeOptions};
use herald::model::ItemState;
use std::time::Duration;

const GROUP: &str = "[[translations]]\nsources = [\"akorda-en\", \"akorda-ru\", \"akorda-kz\"]\n";
const ARTICLE: &str = "[sources.article]\nbody = \"div.content-text\"\n";

fn release(id: u64, slug: &str, title: &str, date: &str, image: &str, body: &str) -> Release {
    Release {
        id,
        slug: slug.into(),
        title: title.into(),
        date: date.into(),
        summary: String::new(),
        image: Some(image.into()),
        body: Some(body.into()),
    }
}

fn almaty_en() -> Release {
    release(
        510001,
        "akim-almaty",
        "Head of State receives Akim of Almaty",
        "2 March 2026",
        "/uploadMedia/2026/03/almaty_report.jpg",
        "The Head of State received Akim of Almaty.\n\nIn 2025 the city's product grew by 7.2 percent and 48 schools were built.",
    )
}

fn almaty_ru() -> Release {
    release(
        520001,
        "akim-almaty",
        "Глава государства принял акима Алматы",
        // Out a day later, as translations often are.
        "3 марта 2026 года",
        "/uploadMedia/2026/03/almaty_report.jpg",
        "Глава государства принял акима Алматы.\n\nВ 2025 году продукт города вырос на 7,2 процента, построено 48 школ.",
    )
}

/// The day before (a candidate still), nothing else in common with the Almaty release.
fn energy_en() -> Release {
    release(
        510002,
        "energy-minister",
        "President receives Minister of Energy",
        "1 March 2026",
        "/uploadMedia/2026/03/energy.jpg",
        "Oil production in 2025 amounted to 96.2 million tonnes.",
    )
}

/// Corrects the Russian Almaty release's title and slug (same id) and polls it: its new link.
async fn correct_the_russian_slug(t: &TestApp) -> String {
    t.site.correct(
        "ru",
        520001,
        "Глава государства принял акима города Алматы",
        "akim-goroda-almaty",
    );
    t.poll("akorda-ru").await.unwrap();
    format!("http://{}/ru/akim-goroda-almaty-520001", t.site.addr)
}

async fn json(t: &TestApp, path: &str) -> serde_json::Value {
    serde_json::from_str(&t.text(path).await).unwrap()
}

fn guids(feed: &serde_json::Value) -> Vec<String> {
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_later_translation_adds_also_in_links_and_keeps_guids() {
    let t = spawn_app_with(Setup {
        extra_config: GROUP.into(),
        extra_source_keys: ARTICLE.into(),
        ..Setup::default()
    })
    .await;
    t.site.publish("en", almaty_en());
    t.site.publish("en", energy_en());
    t.poll("akorda-en").await.unwrap();
    let before = json(&t, "/feeds/akorda-en.json").await;
    assert!(!before.to_string().contains("Also in"), "{before}");

    t.site.publish("ru", almaty_ru());
    let report = t.poll("akorda-ru").await.unwrap();
    assert_eq!(report.linked, ["akorda-en"]);

    let en = json(&t, "/feeds/akorda-en.json").await;
    assert_eq!(guids(&en), guids(&before), "GUIDs never change");
    let ru_link = format!("http://{}/ru/akim-almaty-520001", t.site.addr);
    let en_link = format!("http://{}/en/akim-almaty-510001", t.site.addr);
    let items = en["items"].as_array().unwrap();
    let almaty = items.iter().find(|i| i["url"] == en_link.as_str()).unwrap();
    let content = almaty["content_html"].as_str().unwrap();
    assert!(
        content.ends_with(&format!(
            r#"<p>Also in: <a href="{ru_link}" hreflang="ru">Русский</a></p>"#
        )),
        "{content}"
    );
    let energy = items.iter().find(|i| i["url"] != en_link.as_str()).unwrap();
    assert!(!energy["content_html"].as_str().unwrap().contains("Also in"));

    let ru = json(&t, "/feeds/akorda-ru.json").await;
    let content = ru["items"][0]["content_html"].as_str().unwrap();
    assert!(
        content.contains(&format!(
            r#"Другие языки: <a href="{en_link}" hreflang="en">English</a>"#
        )),
        "{content}"
    );
    let atom = t.text("/feeds/akorda-en.atom").await;
    assert!(
        atom.contains(&format!(
            r#"href="{ru_link}" rel="alternate" hreflang="ru""#
        )),
        "{atom}"
    );
    let rss = t.text("/feeds/akorda-en.rss").await;
    assert!(rss.contains("Русский</a>"), "{rss}");

    // The Russian release's slug is corrected (same id): the English entry's link follows.
    let moved = correct_the_russian_slug(&t).await;
    let en = t.text("/feeds/akorda-en.json").await;
    assert!(en.contains(&moved), "{en}");
    assert!(!en.contains(&ru_link), "{en}");
    let atom = t.text("/feeds/akorda-en.atom").await;
    assert!(
        atom.contains(&format!(r#"href="{moved}" rel="alternate" hreflang="ru""#)),
        "{atom}"
    );

    let urls: Vec<String> = ["akorda-en", "akorda-ru", "all"]
        .iter()
        .flat_map(|id| ["rss", "atom"].map(|ext| format!("{}/feeds/{id}.{ext}", t.base)))
        .collect();
    assert_w3c_valid(&urls).await;
    t.stop().await;
}

/// A corrected slug alone (same id, same title and summary) is a correction: the release's own
/// feed entry and its translation's "Also in" link move to the new address.
#[tokio::test(flavor = "multi_thread")]
async fn a_corrected_address_alone_is_a_correction() {
    let t = spawn_app_with(Setup {
        extra_config: GROUP.into(),
        extra_source_keys: ARTICLE.into(),
        ..Setup::default()
    })
    .await;
    t.site.publish("en", almaty_en());
    t.poll("akorda-en").await.unwrap();
    t.site.publish("ru", almaty_ru());
    assert_eq!(t.poll("akorda-ru").await.unwrap().linked, ["akorda-en"]);
    t.site
        .correct("ru", 520001, &almaty_ru().title, "akim-goroda-almaty");
    let report = t.poll("akorda-ru").await.unwrap();
    assert_eq!(report.count(ItemState::Changed), 1, "{report:?}");
    let moved = format!("http://{}/ru/akim-goroda-almaty-520001", t.site.addr);
    let ru = json(&t, "/feeds/akorda-ru.json").await;
    assert_eq!(ru["items"][0]["url"], moved.as_str(), "{ru}");
    let en = t.text("/feeds/akorda-en.json").await;
    assert!(en.contains(&moved), "{en}");
    // Polled again unchanged: known, nothing more.
    let again = t.poll("akorda-ru").await.unwrap();
    assert_eq!(again.count(ItemState::Changed), 0, "{again:?}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_translations_config_nothing_is_linked() {
    let t = spawn_app_with(Setup {
        extra_source_keys: ARTICLE.into(),
        ..Setup::default()
    })
    .await;
    t.site.publish("en", almaty_en());
    t.poll("akorda-en").await.unwrap();
    t.site.publish("ru", almaty_ru());
    let report = t.poll("akorda-ru").await.unwrap();
    assert!(report.linked.is_empty());
    assert!(!t.text("/feeds/all.json").await.contains("hreflang"));
    t.stop().await;
}

fn labels(markup: &Option<serde_json::Value>) -> Vec<Vec<(String, String)>> {
    markup.as_ref().unwrap()["inline_keyboard"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|b| {
                    (
                        b["text"].as_str().unwrap().to_owned(),
                        b["url"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn posts_get_language_buttons_by_an_edit_that_a_correction_keeps() {
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let t = spawn_app_with(Setup {
        // The article table last: the keys after it would belong to it.
        source_keys: vec![
            (
                "akorda-en".into(),
                format!("channels = [\"en\"]\n{ARTICLE}"),
            ),
            (
                "akorda-ru".into(),
                format!("channels = [\"ru\"]\n{ARTICLE}"),
            ),
        ],
        ..Setup::telegram(
            &fake,
            &format!(
                "{FAST_TELEGRAM}\n\
                 [[channels]]\nid = \"en\"\nchat = \"@herald_en\"\nshare = [\"x\"]\n\
                 [[channels]]\nid = \"ru\"\nchat = \"@herald_ru\"\nshare = [\"vk\"]\n\n{GROUP}"
            ),
        )
    })
    .await;
    let ru_link = format!("http://{}/ru/akim-almaty-520001", t.site.addr);
    let en_link = format!("http://{}/en/akim-almaty-510001", t.site.addr);

    t.site.publish("en", almaty_en());
    t.poll("akorda-en").await.unwrap();
    let en_post = fake.wait_for_messages(1, Duration::from_secs(10)).await;
    let rows = labels(&en_post[0].reply_markup);
    assert_eq!(rows.len(), 2, "Read, then share: {rows:?}");

    // The translation appears: its post has an English button, the English post gets a
    // Russian one by an edit.
    t.site.publish("ru", almaty_ru());
    t.poll("akorda-ru").await.unwrap();
    let posts = fake.wait_for_messages(2, Duration::from_secs(10)).await;
    let ru_post = posts.iter().find(|m| m.chat.contains("herald_ru")).unwrap();
    let rows = labels(&ru_post.reply_markup);
    assert_eq!(rows.last().unwrap(), &[("English".to_owned(), en_link)]);
    eventually(
        "the edit that adds the buttons",
        Duration::from_secs(15),
        || !fake.edits().is_empty(),
    )
    .await;
    let edits = fake.edits();
    assert_eq!(edits.len(), 1, "{edits:?}");
    assert_eq!(edits[0].message_id, en_post[0].message_id);
    let rows = labels(&edits[0].reply_markup);
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows.last().unwrap(),
        &[("Русский".to_owned(), ru_link.clone())]
    );

    // A correction of the English release edits the post again, buttons kept.
    t.site.edit_title(
        "en",
        510001,
        "Head of State receives the Akim of Almaty city",
    );
    t.poll("akorda-en").await.unwrap();
    eventually("the second edit", Duration::from_secs(15), || {
        fake.edits().len() >= 2
    })
    .await;
    let edit = &fake.edits()[1];
    assert!(edit.caption.as_ref().unwrap().contains("Almaty city"));
    assert_eq!(
        labels(&edit.reply_markup).last().unwrap(),
        &[("Русский".to_owned(), ru_link)]
    );

    // The Russian slug is corrected: the English post's button follows it, by an edit.
    let moved = correct_the_russian_slug(&t).await;
    let button = [("Русский".to_owned(), moved)];
    eventually(
        "the English post's button follows",
        Duration::from_secs(15),
        || {
            fake.edits().iter().any(|e| {
                e.message_id == en_post[0].message_id
                    && labels(&e.reply_markup).last() == Some(&button.to_vec())
            })
        },
    )
    .await;
    assert_eq!(fake.messages().len(), 2, "edits, never new posts");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    t.stop().await;
}
