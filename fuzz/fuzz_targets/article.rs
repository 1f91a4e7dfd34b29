//! Any article page: the extracted HTML holds no script, handler, style or non-web URL.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let url = url::Url::parse("https://www.akorda.kz/en/a-1").unwrap();
    let article = herald::extract::article::extract(&html, Some(&url), None);
    let doc = scraper::Html::parse_fragment(&article.html);
    for node in doc.tree.nodes() {
        let Some(el) = node.value().as_element() else { continue };
        assert!(!matches!(el.name(), "script" | "style" | "iframe" | "object" | "embed" | "svg" | "math" | "base" | "form"), "{}", article.html);
        for (name, value) in el.attrs() {
            assert!(!name.starts_with("on") && name != "style", "{}", article.html);
            if matches!(name, "href" | "src") {
                let v = value.trim().to_ascii_lowercase();
                assert!(v.starts_with("http://") || v.starts_with("https://") || v.starts_with("mailto:"), "{}", article.html);
            }
        }
    }
});
