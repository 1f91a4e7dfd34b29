//! Values that more than one section reads: entry ids, URLs, header values, timezones and
//! regexes.

use super::diagnostics::{Report, Span};
use super::table::{Table, closest};
use chrono_tz::Tz;
use regex::{Regex, RegexBuilder};
use std::collections::HashMap;
use url::Url;

/// An absolute http or https URL with a host.
pub(super) fn http_url(key: &str, text: &str) -> Result<Url, String> {
    match Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(url),
        Ok(_) => Err(format!(
            "`{key}` must be an http:// or https:// URL, found `{text}`"
        )),
        Err(e) => Err(format!(
            "`{key}` `{text}` is not a valid absolute URL ({e}); write it in full, like https://example.org/news"
        )),
    }
}

pub(super) fn header_value(text: &str) -> Result<String, String> {
    reqwest::header::HeaderValue::from_str(text)
        .map(|_| text.to_string())
        .map_err(|_| format!("`{text}` is not a valid HTTP header value (no control characters)"))
}

/// A one-line text shown to people (a source's `title`, in feeds, the OPML file and the index
/// page): not blank, and without control characters (a newline, a tab, U+0000, an escape) or
/// the bidirectional overrides that would show the text reversed.
/// `default` says what applies when the key is left out.
pub(super) fn one_line_text(key: &str, text: &str, default: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err(format!(
            "`{key}` is empty: write one, or leave the key out to use {default}"
        ));
    }
    if let Some(c) = text.chars().find(|c| c.is_control() || is_bidi_control(*c)) {
        return Err(format!(
            "`{key}` `{text}` holds the control character U+{:04X}: it is one line of plain text \
             (no newlines, tabs or other invisible characters)",
            u32::from(c)
        ));
    }
    Ok(text.to_string())
}

/// A multi-line text shown to people (a channel's `template`): newlines and tabs are text,
/// other control characters and bidirectional overrides are not.
pub(super) fn multi_line_text(key: &str, text: &str) -> Result<(), String> {
    let bad =
        |c: &char| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_bidi_control(*c);
    match text.chars().find(bad) {
        None => Ok(()),
        Some(c) => Err(format!(
            "`{key}` holds the control character U+{:04X}: only newlines and tabs may be in it",
            u32::from(c)
        )),
    }
}

/// The bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `[a-z0-9-]+`: ids end up in URLs (`/feeds/{id}.rss`) and hashtags.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The table's `id`, checked for shape; `what` is "source" or "channel".
pub(super) fn read_id(r: &mut Report, t: &Table, what: &str) -> Option<(String, Span)> {
    let (id, span) = t.required_str(r, "id")?;
    if !valid_id(id) {
        r.error(&span, format!("{what} id `{id}` must match [a-z0-9-]+"));
        return None;
    }
    Some((id.to_string(), span))
}

/// Records the first line of each id; reports later ones as duplicates.
pub(super) fn unique(
    r: &mut Report,
    seen: &mut HashMap<String, usize>,
    what: &str,
    id: &str,
    span: &Span,
) -> bool {
    if let Some(first) = seen.get(id) {
        let message = format!("duplicate {what} id `{id}` (first defined at line {first})");
        r.error(span, message);
        return false;
    }
    seen.insert(id.to_string(), r.line(span.start));
    true
}

/// The `id` of a `[[sources]]` or `[[channels]]` entry as written, when it is a string: what
/// other entries may name it by, whatever else is wrong with it (or with the id itself).
pub(super) fn written_id(t: &Table) -> Option<String> {
    t.value("id")?.get_ref().as_str().map(str::to_string)
}

pub(super) fn timezone(text: &str) -> Result<Tz, String> {
    text.parse().map_err(|_| {
        let hint = zone_hint(text)
            .map(|hint| format!(" ({hint})"))
            .unwrap_or_default();
        format!("unknown timezone `{text}`{hint}; use an IANA name such as `Asia/Almaty` or `UTC`")
    })
}

/// What the admin likely meant by an unknown zone, when there is a meaningful guess: `UTC` for
/// `Z` or `+00:00`, the `Etc/GMT` name of a whole-hour offset (its sign reversed, as IANA
/// writes it), the zone of a city named alone (`Almaty`), else a near spelling of a name
/// (`Asia/Almati`), or the place of an abbreviation (`PST`); never a name one letter away
/// from a short word (`Z` is not `NZ`, `PST` not `EST`).
fn zone_hint(text: &str) -> Option<String> {
    let word = text.trim();
    if let Some(hours) = utc_offset(word) {
        return Some(match hours {
            Some(0) => "did you mean `UTC`?".to_string(),
            Some(h) => format!(
                "a fixed offset of {h:+} hours is written `Etc/GMT{:+}` (IANA reverses the sign); \
                 better, name the place, such as `Asia/Almaty`",
                -h
            ),
            None => "name the place whose clock it is, such as `Asia/Kolkata`".to_string(),
        });
    }
    let names = || chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
    let city = word.replace(' ', "_");
    if let Some(name) = names().find(|name| {
        name.rsplit('/')
            .next()
            .is_some_and(|last| last.eq_ignore_ascii_case(&city))
    }) {
        return Some(format!("did you mean `{name}`?"));
    }
    // A short word of letters is an abbreviation (PST, CEST, MSK): a zone one letter away is
    // another place, not a likely meaning.
    if word.len() <= 5 && word.bytes().all(|b| b.is_ascii_alphabetic()) {
        let upper = word.to_ascii_uppercase();
        let (_, zone) = ABBREVIATIONS.iter().find(|(a, _)| *a == upper)?;
        return Some(format!(
            "`{word}` is an abbreviation, not a zone: name the place, e.g. `{zone}`"
        ));
    }
    closest(word, names()).map(|name| format!("did you mean `{name}`?"))
}

/// Zone abbreviations people write, each with a place that keeps it (and changes with it).
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("PST", "America/Los_Angeles"),
    ("PDT", "America/Los_Angeles"),
    ("MDT", "America/Denver"),
    ("CST", "America/Chicago"),
    ("CDT", "America/Chicago"),
    ("EDT", "America/New_York"),
    ("BST", "Europe/London"),
    ("CEST", "Europe/Berlin"),
    ("EEST", "Europe/Athens"),
    ("MSK", "Europe/Moscow"),
    ("IST", "Asia/Kolkata"),
    ("JST", "Asia/Tokyo"),
    ("ALMT", "Asia/Almaty"),
    ("AQTT", "Asia/Aqtau"),
];

/// A zone written as an offset from UTC: `Z`, `UTC+5`, `GMT-03:00`, `+05:30`. `Some(Some(h))`
/// for a whole number of hours, `Some(None)` for another offset, `None` when `text` is no
/// offset.
fn utc_offset(text: &str) -> Option<Option<i32>> {
    let upper = text.to_ascii_uppercase();
    if matches!(upper.as_str(), "Z" | "UTC" | "GMT" | "UT" | "ZULU") {
        return Some(Some(0));
    }
    let rest = ["UTC", "GMT", "UT"]
        .iter()
        .find_map(|prefix| upper.strip_prefix(prefix))
        .unwrap_or(&upper)
        .trim();
    let (sign, digits) = match rest.chars().next()? {
        '+' => (1, &rest[1..]),
        '-' => (-1, &rest[1..]),
        c if c.is_ascii_digit() && rest.len() < upper.len() => (1, rest),
        _ => return None,
    };
    let (hours, minutes) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() == 4 => digits.split_at(2),
        None => (digits, "0"),
    };
    let all_digits =
        |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(hours) || !all_digits(minutes) {
        return None;
    }
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours > 14 || minutes > 59 {
        return None;
    }
    Some((minutes == 0).then_some(sign * hours))
}

/// `include` / `exclude`: words or regexes, matched case-insensitively, `ё` as `е`, typographic
/// apostrophes and hyphens as `'` and `-`, no-break spaces as spaces
/// ([`crate::text::filter_form`]; the text matched is read so too). A plain word or phrase
/// matches at the start of a word ([`crate::text::has_word_starting_with`]): `спорт` finds
/// "спорта", not "транспорт"; a regex matches as written.
pub(super) fn regexes(r: &mut Report, t: &Table, key: &str) -> Vec<Regex> {
    let patterns = t.strings(r, key);
    let compiled = patterns.into_iter().filter_map(|(text, span)| {
        if text.trim().is_empty() {
            let matches = if key == "include" { "keeps" } else { "drops" };
            r.error(
                &span,
                format!(
                    "`{key}` holds an empty pattern, which matches every title: it {matches} \
                     everything; remove it or write a word"
                ),
            );
            return None;
        }
        let pattern = if crate::text::is_plain_word(text) {
            let folded = crate::text::filter_form(text);
            format!(r"\b{}", regex::escape(folded.trim()))
        } else {
            crate::text::filter_pattern_form(text).into_owned()
        };
        r.check(&span, config_regex(key, &pattern, true))
    });
    compiled.collect()
}

/// A regex of the config; its error is one line naming the key: regex's own text draws the
/// pattern again over several lines with a caret under the fault.
pub(super) fn config_regex(key: &str, text: &str, case_insensitive: bool) -> Result<Regex, String> {
    let built = RegexBuilder::new(text)
        .case_insensitive(case_insensitive)
        .build();
    built.map_err(|e| {
        let problem = regex_problem(text, case_insensitive, &e);
        format!("`{key}`: invalid regex `{text}`: {problem}")
    })
}

/// What is wrong with `text`, which regex refused: the syntax error, typed, from regex's own
/// parser, with a hint for the usual slips.
fn regex_problem(text: &str, case_insensitive: bool, e: &regex::Error) -> String {
    use regex_syntax::ast::ErrorKind as Ast;
    if let regex::Error::CompiledTooBig(limit) = e {
        return format!("it is too large once compiled (over {limit} bytes): make it simpler");
    }
    let parsed = regex_syntax::ParserBuilder::new()
        .case_insensitive(case_insensitive)
        .build()
        .parse(text);
    match parsed {
        Err(regex_syntax::Error::Parse(e)) => match e.kind() {
            Ast::GroupUnclosed => "unclosed group: a `(` has no `)`".into(),
            Ast::GroupUnopened => "a `)` has no `(` before it".into(),
            Ast::ClassUnclosed => "unclosed class: a `[` has no `]`".into(),
            Ast::RepetitionMissing => "`*`, `+`, `?` or `{n}` has nothing before it to repeat \
                (to match the character itself, put a backslash before it, e.g. `\\+`)"
                .into(),
            Ast::EscapeUnrecognized => {
                "unknown escape sequence (a backslash itself is written `\\\\`)".into()
            }
            kind => kind.to_string(),
        },
        Err(regex_syntax::Error::Translate(e)) => e.kind().to_string(),
        // Not a syntax error, or one of a kind added later: the last line of regex's text.
        _ => e
            .to_string()
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::testing::*;
    use rstest::rstest;

    #[rstest]
    #[case::zulu("Z", "did you mean `UTC`?")]
    #[case::zero_offset("+00:00", "did you mean `UTC`?")]
    #[case::utc_zero("UTC+0", "did you mean `UTC`?")]
    #[case::lower_case("utc", "did you mean `UTC`?")]
    #[case::whole_hours("UTC+5", "is written `Etc/GMT-5`")]
    #[case::negative_hours("GMT-03:00", "is written `Etc/GMT+3`")]
    #[case::half_hours("+05:30", "name the place whose clock it is")]
    #[case::city_alone("Almaty", "did you mean `Asia/Almaty`?")]
    #[case::city_with_a_space("new york", "did you mean `America/New_York`?")]
    #[case::misspelt("Asia/Almati", "did you mean `Asia/Almaty`?")]
    #[case::abbreviation(
        "PST",
        "`PST` is an abbreviation, not a zone: name the place, e.g. `America/Los_Angeles`"
    )]
    #[case::summer_abbreviation("cest", "e.g. `Europe/Berlin`")]
    fn zone_hints_are_meaningful(#[case] zone: &str, #[case] hint: &str) {
        let message = super::timezone(zone).expect_err("unknown");
        assert!(message.contains(hint), "{message}");
    }

    #[rstest]
    #[case::one_letter("X")]
    #[case::two_letters("QQ")]
    #[case::unknown_abbreviation("XST")]
    #[case::nonsense("Mars/Olympus")]
    fn no_hint_without_a_likely_zone(#[case] zone: &str) {
        let message = super::timezone(zone).expect_err("unknown");
        assert!(!message.contains("did you mean"), "{message}");
    }

    #[rstest]
    #[rustfmt::skip]
    #[case::unclosed_group("include", r"(\d+", "unclosed group: a `(` has no `)`")]
    #[case::unopened_group("exclude", r"\d+)", "a `)` has no `(` before it")]
    #[case::nothing_to_repeat("include", "*a", "`*`, `+`, `?` or `{n}` has nothing before it to repeat")]
    #[case::unclosed_class("exclude", "[abc", "unclosed class: a `[` has no `]`")]
    #[case::unknown_escape("include", r"x\q", "unknown escape sequence")]
    #[case::reversed_range("exclude", "[z-a]", "invalid character class range")]
    #[case::unknown_property("include", r"\p{Foo}", "Unicode property not found")]
    #[case::id_pattern_unclosed("id_pattern", r"-(\d+$", "unclosed group: a `(` has no `)`")]
    #[case::id_pattern_count("id_pattern", r"-(\d{2,1})$", "invalid repetition count range")]
    fn regex_problems_are_one_plain_line(#[case] key: &str, #[case] regex: &str, #[case] problem: &str) {
        let value = match key {
            "id_pattern" => format!("'{regex}'"),
            _ => format!("['{regex}']"),
        };
        let errors = errors(&format!("{FEED}{key} = {value}\n"));
        assert_eq!(errors.len(), 1, "{errors:#?}");
        let expected = format!("`{key}`: invalid regex `{regex}`: {problem}");
        assert!(errors[0].message.starts_with(&expected), "{}", errors[0]);
        assert_plain(&errors[0]);
    }
}

#[cfg(test)]
mod filter_tests {
    use crate::config::testing::*;
    use crate::text::filter_form;

    /// A plain word matches at the start of a word, in any case, `ё` as `е`; a regex as
    /// written.
    #[test]
    fn plain_filter_words_match_at_word_starts() {
        let config = parse_str(&format!(
            "{FEED}include = ['спорт', 'Visit', 'объединённых', 'state visit', 'number \\d$']\nexclude = ['war']\n"
        ))
        .unwrap();
        let source = &config.sources[0];
        let any = |patterns: &[regex::Regex], text: &str| {
            let text = filter_form(text);
            patterns.iter().any(|re| re.is_match(&text))
        };
        for yes in [
            "Итоги спорта за год",
            "Спорт и здоровье",
            "State visits to Turkey",
            "Организация Объединенных Наций",
            "A State Visit begins",
            "Delegation number 5",
        ] {
            assert!(any(&source.include, yes), "include should match {yes:?}");
        }
        for no in [
            "Транспорт и логистика",
            "The president will revisit the plan",
            "Delegation number 15",
        ] {
            assert!(!any(&source.include, no), "include should not match {no:?}");
        }
        assert!(any(&source.exclude, "War and peace"));
        assert!(!any(&source.exclude, "An award for software"));
    }

    /// A letter written as a base and a combining mark is the letter a reader sees: "Алёной"
    /// with `е` + U+0308 is "Алёной" (then "Аленой") to a filter; the dotted capital `İ` is
    /// `I` (lower-cased, it is two characters).
    #[test]
    fn filters_read_combining_marks_and_dotted_i_as_a_reader_sees_them() {
        let config = parse_str(&format!("{FEED}include = ['ален', 'İstanbul', 'CAFÉ']\n")).unwrap();
        let source = &config.sources[0];
        let any = |text: &str| {
            let text = filter_form(text);
            source.include.iter().any(|re| re.is_match(&text))
        };
        for yes in [
            "Встреча с Але\u{308}ной",
            "Встреча с Алёной",
            "ISTANBUL forum",
            "istanbul forum",
            "İstanbul forum",
            "Le cafe\u{301} du coin",
        ] {
            assert!(any(yes), "include should match {yes:?}");
        }
        // As the feed query reads its words: lower-cased first.
        let word = filter_form(&"İstanbul".to_lowercase()).into_owned();
        assert_eq!(word, "istanbul");
    }

    /// A site types its apostrophes, hyphens and spaces as it likes; the admin types them
    /// plainly, or copies them from the site. Either matches either (issue 25).
    #[test]
    fn filters_read_typographic_apostrophes_hyphens_and_spaces_as_plain_ones() {
        let config = parse_str(&format!(
            "{FEED}include = [\"president's address\", 'Kazakhstan-China', 'Nur\u{2011}Sultan', \
             'ел\u{a0}басы', 'one\u{2019}s [a\u{2011}c]x$']\n"
        ))
        .unwrap();
        let source = &config.sources[0];
        let any = |text: &str| {
            let text = filter_form(text);
            source.include.iter().any(|re| re.is_match(&text))
        };
        for yes in [
            "President\u{2019}s address to the nation",
            "President\u{02BC}s Address",
            "President`s address",
            "President's address",
            "Kazakhstan\u{2013}China business council",
            "Kazakhstan\u{2011}China",
            "Visit to Nur-Sultan",
            "Визит Ел\u{202f}басы",
            "everyone's -x",
        ] {
            assert!(any(yes), "include should match {yes:?}");
        }
        // The hyphen typed in a regex's class stays a literal hyphen, not a range.
        for no in [
            "President\u{2014}s address",
            "everyone's bx",
            "Kazakhstan China",
        ] {
            assert!(!any(no), "include should not match {no:?}");
        }
    }
}

/// `include`: at least one pattern must match the title or summary; `exclude`: none may.
pub fn passes(include: &[Regex], exclude: &[Regex], title: &str, summary: Option<&str>) -> bool {
    if include.is_empty() && exclude.is_empty() {
        return true;
    }
    // Read as the patterns were written (`ё` as `е`, `’` as `'`: see
    // `config::values::regexes`), or as the page wrote it: a pattern may name a folded
    // character by its escape (`\x{2019}`), which no folding of the pattern sees.
    let (folded_title, folded_summary) = (
        crate::text::filter_form(title),
        summary.map(crate::text::filter_form),
    );
    let matches = |re: &Regex| {
        re.is_match(&folded_title)
            || re.is_match(title)
            || folded_summary.as_deref().is_some_and(|t| re.is_match(t))
            || summary.is_some_and(|t| re.is_match(t))
    };
    (include.is_empty() || include.iter().any(matches)) && !exclude.iter().any(matches)
}
