//! Any bytes as an upstream feed (`kind = "feed"`): decoded and read without a panic, whatever
//! the content type says (issue 20: a UTF-16BE body without a BOM once panicked).
#![no_main]
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [Option<&str>; 4] = [
    None,
    Some("application/rss+xml"),
    Some("text/xml; charset=windows-1251"),
    Some("application/atom+xml; charset=utf-16"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(pick) % CONTENT_TYPES.len()];
    let text = herald::fetch::decode(body, content_type);
    let base = url::Url::parse("https://upstream.example/feed").unwrap();
    let _ = herald::extract::feed::feed_entries(&text, &base, None);
});
