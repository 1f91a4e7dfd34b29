//! Any list page: releases or a typed error; every release links to a web page.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::LazyLock;

static CONFIG: LazyLock<herald::config::Config> = LazyLock::new(|| {
    let text = "[general]\ndata_dir = \"d\"\n[[sources]]\nid = \"s\"\nurl = \"https://www.akorda.kz/en/events\"\n\
                schedule = \"0 */10 * * * *\"\ntimezone = \"Asia/Almaty\"\n[sources.list]\nitem = \"div.card\"\n\
                title = \"h3 a\"\nlink = \"h3 a@href\"\ndate = \"h5\"\nsummary = \"p\"\nimage = \"img@src\"\n";
    herald::config::parse(Path::new("c.toml"), text, Path::new("/tmp")).unwrap()
});

fn is_web(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let source = &CONFIG.sources[0];
    let reading = herald::extract::html::Reading { now: chrono::Utc::now(), tz: source.timezone, max_items: source.max_page_items };
    if let Ok(items) = herald::extract::html::list_page(&html, &source.url, source.list.as_ref().unwrap(), None, reading) {
        for item in items {
            assert!(is_web(&item.link), "{}", item.link);
            if let Some(image) = &item.image {
                assert!(is_web(image), "{image}");
            }
        }
    }
});
