//! Any item: the Telegram post stays inside Telegram's limits (counted as Telegram counts them)
//! and its buttons are web addresses.
#![no_main]
use herald::model::{Item, ItemId};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::LazyLock;

static CONFIG: LazyLock<herald::config::Config> = LazyLock::new(|| {
    let text = "[general]\ndata_dir = \"d\"\n[[channels]]\nid = \"c\"\nchat = \"@c\"\n\
                share = [\"x\", \"facebook\", \"telegram\", \"whatsapp\", \"vk\", \"linkedin\"]\n\
                [[sources]]\nid = \"akorda-kz\"\nurl = \"https://www.akorda.kz/kz/events\"\n\
                schedule = \"0 */10 * * * *\"\ntimezone = \"Asia/Almaty\"\nlanguage = \"kk\"\nchannels = [\"c\"]\n\
                [sources.list]\nitem = \"div\"\ntitle = \"a\"\nlink = \"a@href\"\n";
    herald::config::parse(Path::new("c.toml"), text, Path::new("/tmp")).unwrap()
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{1}');
    let title = parts.next().unwrap_or_default().to_owned();
    let summary = parts.next().map(str::to_owned);
    let link = parts.next().unwrap_or("https://www.akorda.kz/kz/a-1").to_owned();
    let image = parts.next().map(str::to_owned);
    let now = chrono::Utc::now();
    let item = Item {
        id: ItemId::new("akorda-kz", &title),
        source: "akorda-kz".into(),
        title,
        link,
        summary,
        content_html: None,
        image,
        language: "kk".into(),
        published: now,
        updated: now,
        first_seen: now,
        seq: 1,
    };
    let source = &CONFIG.sources[0];
    let share = &CONFIG.channels[0].share;
    for photo in [true, false] {
        let post = herald::telegram::format::format_post(&item, source, share, photo);
        let limit = if post.photo.is_some() { 1024 } else { 4096 };
        assert!(herald::telegram::format::visible_utf16_len(&post.html) <= limit, "{}", post.html);
        for b in &post.buttons {
            assert!(b.url.starts_with("https://") || b.url.starts_with("http://"), "{}", b.url);
        }
    }
});
