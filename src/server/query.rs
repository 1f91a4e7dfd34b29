//! Query options on feed URLs (issue 6): `?limit=N`, `?include=word`, `?exclude=word` and
//! `?lang=tag`, applied after the source's own `include`/`exclude`/`max_items`.
//!
//! Words are plain text, not patterns: the options are public, and a regex from the street could
//! cost a render its time. Matching is case-insensitive over the title and the summary. Several
//! `include`s keep an item that has any of them; several `exclude`s drop an item that has any.

use std::fmt;

use crate::model::Item;

/// Longest query string served; longer ones are refused (414).
pub const MAX_QUERY_BYTES: usize = 1024;
/// Most words and languages one query may name in all.
const MAX_TERMS: usize = 16;
/// Longest word in `include`/`exclude`, in characters.
const MAX_WORD_CHARS: usize = 100;
/// Largest `limit` accepted (the feed holds at most the source's `max_items` anyway).
const MAX_LIMIT: usize = 10_000;

/// A feed request's options, parsed and bounded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedQuery {
    pub limit: Option<usize>,
    /// Lower-cased.
    include: Vec<String>,
    /// Lower-cased.
    exclude: Vec<String>,
    /// BCP 47 in canonical case (`kz` written `kk`).
    langs: Vec<String>,
    /// The recognized options in their fixed order (see `parse`), form-encoded: the cache key
    /// and the feed's self link (the W3C validator wants the self link to be the address it
    /// fetched, and the server redirects every other spelling here).
    canonical: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum QueryError {
    TooLong,
    TooManyTerms,
    BadLimit(String),
    BadWord(String),
    BadLanguage(String),
    /// An option that takes one value, given twice (`?limit=1&limit=2`): which one was meant
    /// cannot be known, so neither is picked silently.
    Repeated(&'static str),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::TooLong => write!(f, "the query is longer than {MAX_QUERY_BYTES} bytes"),
            QueryError::TooManyTerms => {
                write!(f, "at most {MAX_TERMS} include, exclude and lang values")
            }
            QueryError::BadLimit(v) => {
                write!(
                    f,
                    "limit must be a whole number from 1 to {MAX_LIMIT}, not `{v}`"
                )
            }
            QueryError::BadWord(v) => write!(
                f,
                "include and exclude take a word of 1 to {MAX_WORD_CHARS} characters, not `{v}`"
            ),
            QueryError::Repeated(name) => write!(f, "{name} may be given once only"),
            QueryError::BadLanguage(v) => {
                write!(
                    f,
                    "lang must be a language tag such as `en` or `kk`, not `{v}`"
                )
            }
        }
    }
}

impl FeedQuery {
    /// Parses a raw query string (without `?`). Unknown keys are ignored (trackers add `utm_*`);
    /// known keys with bad values are refused, so a typo is seen rather than silently unfiltered.
    pub fn parse(raw: Option<&str>) -> Result<FeedQuery, QueryError> {
        let raw = raw.unwrap_or_default();
        if raw.len() > MAX_QUERY_BYTES {
            return Err(QueryError::TooLong);
        }
        let mut q = FeedQuery::default();
        let mut canonical = url::form_urlencoded::Serializer::new(String::new());
        // One address per document: the options in a fixed order (README's: limit, include,
        // exclude, lang), the values of one option by their text, and a word or language given
        // twice once.
        // Another order is then another spelling, which the server redirects to this one.
        let mut options: Vec<_> = url::form_urlencoded::parse(raw.as_bytes())
            .filter_map(|(key, value)| Some((option_rank(&key)?, key, value)))
            .collect();
        options.sort_unstable();
        // A second `limit` stays an error even when it repeats the first.
        options.dedup_by(|a, b| a == b && a.1 != "limit");
        for (_, key, value) in options {
            match &*key {
                "limit" => {
                    if q.limit.is_some() {
                        return Err(QueryError::Repeated("limit"));
                    }
                    let n = value
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| QueryError::BadLimit(shorten(&value)))?;
                    q.limit = Some(n);
                }
                "include" | "exclude" => {
                    let word = value.trim();
                    let chars = word.chars().count();
                    if chars == 0 || chars > MAX_WORD_CHARS {
                        return Err(QueryError::BadWord(shorten(&value)));
                    }
                    let list = if key == "include" {
                        &mut q.include
                    } else {
                        &mut q.exclude
                    };
                    list.push(crate::text::filter_form(&word.to_lowercase()).into_owned());
                }
                "lang" => {
                    let tag = crate::config::language(value.trim())
                        .map_err(|_| QueryError::BadLanguage(shorten(&value)))?;
                    q.langs.push(tag);
                }
                _ => continue,
            }
            if q.include.len() + q.exclude.len() + q.langs.len() > MAX_TERMS {
                return Err(QueryError::TooManyTerms);
            }
            canonical.append_pair(&key, &value);
        }
        // The serializer escapes `~` as `%7E`, which RFC 3986 §2.3 calls unreserved and
        // Python's `requests` decodes before each request: a client sent to `%7E` would ask for
        // `~` again. The canonical form writes it as itself, a spelling no client rewrites.
        q.canonical = canonical.finish().replace("%7E", "~");
        Ok(q)
    }

    /// True when no option was given: the plain feed.
    pub fn is_empty(&self) -> bool {
        self.canonical.is_empty()
    }

    /// The recognized options, form-encoded, in their fixed order ("" for none).
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// Whether the options pick items by content (`include`, `exclude`, `lang`), as opposed to
    /// only cutting the list short.
    pub fn filters(&self) -> bool {
        !(self.include.is_empty() && self.exclude.is_empty() && self.langs.is_empty())
    }

    /// Whether a source in `language` can hold items this query keeps.
    pub fn wants_language(&self, language: &str) -> bool {
        self.langs.is_empty() || self.langs.iter().any(|l| same_language(l, language))
    }

    /// Whether `item` passes `include`, `exclude` and `lang`.
    pub fn keeps(&self, item: &Item) -> bool {
        if !self.wants_language(&item.language) {
            return false;
        }
        if self.include.is_empty() && self.exclude.is_empty() {
            return true;
        }
        let mut text = item.title.to_lowercase();
        if let Some(summary) = &item.summary {
            text.push('\n');
            text.push_str(&summary.to_lowercase());
        }
        let text = crate::text::filter_form(&text);
        let has = |w: &String| crate::text::has_word_starting_with(&text, w);
        (self.include.is_empty() || self.include.iter().any(has)) && !self.exclude.iter().any(has)
    }

    /// A few words for the feed's title: "include: visit; lang: kk" ("" when nothing filters).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (name, values) in [
            ("include", &self.include),
            ("exclude", &self.exclude),
            ("lang", &self.langs),
        ] {
            if !values.is_empty() {
                parts.push(format!("{name}: {}", values.join(", ")));
            }
        }
        parts.join("; ")
    }
}

/// Where an option goes in the canonical query; `None` for a key that is not an option.
fn option_rank(key: &str) -> Option<u8> {
    ["limit", "include", "exclude", "lang"]
        .iter()
        .position(|k| *k == key)
        .and_then(|i| u8::try_from(i).ok())
}

/// `pt` asks for `pt-BR` too; `pt-BR` asks for `pt-BR` only.
fn same_language(asked: &str, language: &str) -> bool {
    let language = crate::config::language(language).unwrap_or_else(|_| language.to_owned());
    asked == language || (!asked.contains('-') && language.split('-').next() == Some(asked))
}

/// A value quoted back in an error, cut so that an error stays short.
fn shorten(value: &str) -> String {
    value.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::render::samples;

    #[test]
    fn no_query_is_the_plain_feed() {
        for raw in [None, Some(""), Some("utm_source=x&fbclid=1")] {
            let q = FeedQuery::parse(raw).unwrap();
            assert!(q.is_empty(), "{raw:?}");
            assert_eq!(q.canonical(), "");
        }
    }

    #[test]
    fn canonical_keeps_known_options_in_a_fixed_order() {
        let q = FeedQuery::parse(Some("utm_source=a&include=State+visit&limit=5&lang=kz")).unwrap();
        assert_eq!(q.canonical(), "limit=5&include=State+visit&lang=kz");
        assert_eq!(q.limit, Some(5));
        assert_eq!(q.describe(), "include: state visit; lang: kk");
    }

    /// The same options in any order, or one given twice, are one document with one address;
    /// the canonical query parses to itself (the redirect to it does not loop).
    #[rstest]
    #[case::order("lang=en&limit=2", "limit=2&lang=en")]
    #[case::all_four(
        "lang=ru&exclude=b&include=a&limit=3",
        "limit=3&include=a&exclude=b&lang=ru"
    )]
    #[case::values("include=visit&include=state", "include=state&include=visit")]
    #[case::twice("include=a&lang=en&include=a", "include=a&lang=en")]
    #[case::unknown_between("include=a&utm_source=x&limit=1", "limit=1&include=a")]
    fn one_canonical_query_per_document(#[case] raw: &str, #[case] canonical: &str) {
        let q = FeedQuery::parse(Some(raw)).unwrap();
        assert_eq!(q.canonical(), canonical);
        let again = FeedQuery::parse(Some(canonical)).unwrap();
        assert_eq!(again, q);
        assert_eq!(again.describe(), q.describe());
    }

    /// The canonical spelling is one that clients send as written: `~` stays itself.
    #[test]
    fn canonical_writes_tilde_as_itself() {
        for raw in ["include=~x", "include=%7Ex", "include=%7ex"] {
            assert_eq!(
                FeedQuery::parse(Some(raw)).unwrap().canonical(),
                "include=~x"
            );
        }
    }

    #[rstest]
    #[case::zero("limit=0", QueryError::BadLimit("0".into()))]
    #[case::text("limit=ten", QueryError::BadLimit("ten".into()))]
    #[case::huge("limit=99999999999999999999", QueryError::BadLimit("99999999999999999999".into()))]
    #[case::empty_word("include=", QueryError::BadWord(String::new()))]
    #[case::bad_lang("lang=english%20please", QueryError::BadLanguage("english please".into()))]
    #[case::repeated_limit("limit=1&limit=2", QueryError::Repeated("limit"))]
    #[case::too_many(
        &(0..17).map(|n| format!("exclude=w{n}&")).collect::<String>(),
        QueryError::TooManyTerms
    )]
    #[case::repeated_same_limit("limit=1&limit=1", QueryError::Repeated("limit"))]
    #[case::too_long(&format!("include={}", "a".repeat(1100)), QueryError::TooLong)]
    fn bad_options_are_refused(#[case] raw: &str, #[case] expected: QueryError) {
        assert_eq!(FeedQuery::parse(Some(raw)), Err(expected));
    }

    #[rstest]
    // Sample titles: 0 "Мемлекет басшысы кездесу өткізді" (kk), 1 "<script>… Tom & Jerry" (kk),
    // 2 "Глава государства провёл совещание" (ru), 3 "Very long title…" (kk), 4 "Content, blank summary" (kk).
    #[case::include_case_insensitive("include=TOM", &[1])]
    #[case::include_any("include=jerry&include=совещание", &[1, 2])]
    #[case::include_reads_summary("include=only+a+summary", &[2])]
    #[case::exclude_any("exclude=tom&exclude=title", &[0, 2, 4])]
    #[case::include_then_exclude("include=e&exclude=content", &[1])]
    #[case::lang("lang=ru", &[2])]
    #[case::lang_alias("lang=kz", &[0, 1, 3, 4])]
    #[case::no_match("include=nowhere", &[])]
    #[case::yo_as_ye("include=%D0%BF%D1%80%D0%BE%D0%B2%D0%B5%D0%BB", &[2])]
    #[case::word_starts_only("include=%D0%BE%D0%B2%D0%B5%D1%89", &[])]
    fn keeps_what_the_options_ask_for(#[case] raw: &str, #[case] kept: &[usize]) {
        let q = FeedQuery::parse(Some(raw)).unwrap();
        let got: Vec<usize> = samples::items()
            .iter()
            .enumerate()
            .filter(|(_, item)| q.keeps(item))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(got, kept);
    }

    #[rstest]
    #[case("pt", "pt-BR", true)]
    #[case("pt-BR", "pt", false)]
    #[case("kk", "kz", true)]
    #[case("en", "ru", false)]
    fn language_match(#[case] asked: &str, #[case] language: &str, #[case] expected: bool) {
        assert_eq!(same_language(asked, language), expected);
    }
}
