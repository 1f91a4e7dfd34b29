//! What the config's unit tests share: the SPEC example and minimal valid entries.

use super::*;
use regex::Regex;

/// The config.toml block of SPEC.md, verbatim.
pub(super) const SPEC_EXAMPLE: &str = r#"[general]
data_dir   = "data"                      # sled database lives here
public_url = "http://127.0.0.1:8080"     # absolute base for self links in feeds, OPML, index page
user_agent = "herald (+https://example.org/bot)"

[server]
listen = "127.0.0.1:8080"

[telegram]
api_url = "https://api.telegram.org"     # a local Bot API server, or a test double, may be named here
admins  = [123456789]                    # user ids allowed to use admin commands

[[channels]]
id    = "akorda-en"                      # referenced by sources
chat  = "@akorda_news_en"                # "@username" (string) or a numeric chat id (integer, e.g. -1001234567890)
share = ["x", "facebook", "telegram"]    # share buttons in this order; also "whatsapp", "vk", "linkedin"

[[sources]]
id        = "akorda-en"                  # [a-z0-9-]+, unique; feed URLs use it; "all" is reserved
title     = "Akorda — press releases"
url       = "https://www.akorda.kz/en/events"   # list page; relative links resolve against it
schedule  = "0 */10 * * * *"             # cron with seconds field, read in `timezone`
timezone  = "Asia/Almaty"                # also the zone of dates printed without one
language  = "en"                         # BCP 47: "en", "ru", "kk" ("kz" is accepted for "kk"); feeds write "kk"
channels  = ["akorda-en"]                # may be empty: feed only
backfill  = 1                            # on the very first poll, post only this many newest items
kind      = "html"                       # "html" (selectors below) or "feed" (url is RSS/Atom/JSON Feed)

[sources.list]                           # how to find items on the list page
item    = "div.card"                     # one element per release
title   = "h3 a"                         # text of the first match
link    = "h3 a@href"                    # "@attr" reads an attribute; relative URLs are resolved
date    = "h5"                           # e.g. "21 March 2026", "21 марта 2026 года", "21 наурыз 2026 ж."
date_format = "%d %B %Y"                 # optional; month names of the source's language (any case
                                     # form) are understood, words around the date are ignored
summary = "p"                            # optional
image   = "img@src"                      # optional

[sources.article]                        # optional: open each new item's page for more
body    = "div.content-text"             # omitted: the main text is found automatically
date    = "time@datetime"
image   = "meta[property='og:image']@content"
"#;

/// A second, Kazakh source using the optional keys, appended to the SPEC example.
pub(super) const KAZAKH_SOURCE: &str = r#"
[[sources]]
id = "akorda-kz"
url = "https://www.akorda.kz/kz/events"
schedule = "30 */10 * * * *"
language = "KZ"
kind = "feed"
include = ["Президент", "^Указ"]
exclude = ["sport"]
max_items = 50
id_pattern = '-(\d+)$'
insecure_tls = true
headers = { "Accept-Language" = "kk", "X-Test" = "1" }
"#;

/// A minimal valid feed source: lines 1-5.
pub(super) const FEED: &str = "[[sources]]\nid = \"a\"\nurl = \"https://example.org/\"\nschedule = \"0 0 * * * *\"\nkind = \"feed\"\n";
/// A minimal valid html source: lines 1-8.
pub(super) const HTML: &str = "[[sources]]\nid = \"a\"\nurl = \"https://example.org/\"\nschedule = \"0 0 * * * *\"\n[sources.list]\nitem = \"div\"\ntitle = \"h3\"\nlink = \"a@href\"\n";
/// A minimal valid channel: lines 1-3.
pub(super) const CHANNEL: &str = "[[channels]]\nid = \"c\"\nchat = \"@c_news\"\n";

pub(super) fn parse_str(text: &str) -> Result<Config, Vec<Diagnostic>> {
    parse(Path::new("config.toml"), text, Path::new("/etc/herald"))
}

pub(super) fn errors(text: &str) -> Vec<Diagnostic> {
    match parse_str(text) {
        Ok(_) => panic!("config should be rejected:\n{text}"),
        Err(errors) => errors,
    }
}

/// A diagnostic as printed is one line in an admin's words: no library's multi-line text,
/// no "report this to the developer", no Rust names such as `DanglingCombinator`.
pub(super) fn assert_plain(d: &Diagnostic) {
    let line = d.to_string();
    assert!(!line.contains(['\n', '\r']), "{line:?}");
    assert!(!line.to_lowercase().contains("report this"), "{line}");
    let camel = Regex::new(r"\b[A-Z][a-z]+[A-Z][A-Za-z]*\b").expect("valid");
    assert!(!camel.is_match(&line), "a Rust name in {line}");
}
