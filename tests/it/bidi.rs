//! Bidirectional overrides and isolates in a source's text (issue 25): a title carrying U+202E
//! (RIGHT-TO-LEFT OVERRIDE) would show reversed in a reader or a channel, a way to make a post
//! read as something it is not. They are dropped from titles and summaries in the feeds and in
//! Telegram posts; right-to-left text and the marks U+200E/U+200F stay.

use crate::common;

use common::site::{Release, release_en};
use common::{Setup, spawn_app_with};
use fake_botapi::{FakeBotApi, FakeOptions};
use std::time::Duration;

const OVERRIDES: [char; 9] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}',
];

#[tokio::test(flavor = "multi_thread")]
async fn bidi_overrides_never_reach_a_feed_or_a_post() {
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let t = spawn_app_with(Setup {
        source_keys: vec![("akorda-en".into(), "channels = [\"c\"]".into())],
        ..Setup::telegram(
            &fake,
            &format!(
                "{}\n[[channels]]\nid = \"c\"\nchat = \"@bidi_test\"\n",
                fake_botapi::FAST_TELEGRAM
            ),
        )
    })
    .await;
    t.site.publish(
        "en",
        Release {
            title: "Decree \u{202E}fdp.exe\u{202C} signed \u{2067}שלום\u{2069} \u{200F}مرحبا"
                .into(),
            summary: "Read \u{202D}the\u{202C} \u{2066}decree\u{2069} here.".into(),
            ..release_en(1, 3)
        },
    );
    t.poll("akorda-en").await.unwrap();
    let posts = fake.wait_for_messages(1, Duration::from_secs(20)).await;
    let post = posts[0].caption.clone().or(posts[0].text.clone()).unwrap();
    assert!(
        post.contains("Decree fdp.exe signed שלום \u{200F}مرحبا"),
        "{post:?}"
    );
    assert!(post.contains("Read the decree here."), "{post:?}");
    for path in [
        "/feeds/akorda-en.rss",
        "/feeds/akorda-en.atom",
        "/feeds/akorda-en.json",
    ] {
        let feed = t.text(path).await;
        assert!(feed.contains("fdp.exe signed שלום"), "{path}: {feed}");
        assert!(!feed.contains(OVERRIDES), "{path}: {feed:?}");
    }
    assert!(!post.contains(OVERRIDES), "{post:?}");
    t.stop().await;
}
