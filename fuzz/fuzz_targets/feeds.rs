//! Any item text: RSS, Atom and JSON Feed parse back in real parsers with the item's GUID.
#![no_main]
use chrono::TimeZone;
use herald::model::{Item, ItemId};
use herald::render::{self, FeedMeta};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{1}');
    let title = parts.next().unwrap_or_default().to_owned();
    let summary = parts.next().map(str::to_owned);
    let content = parts.next().map(str::to_owned);
    let feed_title = parts.next().unwrap_or("feed").to_owned();
    let time = chrono::Utc.with_ymd_and_hms(2026, 3, 21, 9, 0, 0).unwrap();
    let item = Item {
        id: ItemId::new("s", &title),
        source: "s".into(),
        title,
        link: "https://www.akorda.kz/kz/a-1".into(),
        summary,
        content_html: content,
        image: None,
        language: "kk".into(),
        published: time,
        updated: time,
        first_seen: time,
        seq: 1,
    };
    let meta = FeedMeta {
        id: "s",
        title: &feed_title,
        description: &feed_title,
        home_page_url: "https://www.akorda.kz/kz/events",
        public_url: "https://feeds.example.org",
        query: "",
        language: Some("kk"),
        ttl_minutes: Some(10),
        updated: time,
        hub: None,
        translations: None,
    };
    let items = [item];
    let guid = items[0].id.guid();
    let rss = render::rss::render(&meta, &items);
    let channel = rss::Channel::read_from(rss.as_bytes()).expect("RSS parses");
    assert_eq!(channel.items[0].guid.as_ref().unwrap().value, guid);
    let atom = render::atom::render(&meta, &items);
    let feed = atom_syndication::Feed::read_from(atom.as_bytes()).expect("Atom parses");
    assert_eq!(feed.entries[0].id, guid);
    let json: serde_json::Value = serde_json::from_str(&render::json::render(&meta, &items)).expect("JSON parses");
    assert_eq!(json["items"][0]["id"], guid);
});
