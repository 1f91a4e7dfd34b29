//! Where sentences end, in English, Russian and Kazakh: shared by the Telegram post (which cuts
//! the summary to fit Telegram's limits) and the article extractor (which cuts the lead). And
//! the one whitespace cleaner ([`clean`], [`clean_keeping`]): runs of whitespace made one space,
//! and the characters a source's text may not carry into a post or a feed dropped: the control
//! characters and the bidirectional overrides and isolates ([`is_bidi_control`]).

/// Text as the filters (`include` / `exclude`, `?include=`) read it, and as their words are
/// read, so that a filter matches however the site typed the same text:
/// - `ё` as `е`, which Russian and Kazakh writers often leave undotted ("объединённых",
///   "объединенных");
/// - the apostrophe's typographic forms (’ ‘ ‛ ʼ ′ ´ ` ＇) as `'`: "President’s" is
///   "president's" to a filter;
/// - the hyphen's forms (U+2010 hyphen, U+2011 non-breaking hyphen, U+2012 figure dash,
///   U+2013 en dash, small and full-width hyphen-minus) as `-`: "Kazakhstan–China" and
///   "2025‑2026" are written with either. The em dash (U+2014) stays: it parts clauses, it does
///   not join words;
/// - the no-break and thin spaces (U+00A0, U+2007, U+2009, U+202F) as a space;
/// - one Unicode form (NFC): a letter written as a base and a combining mark ("е" and U+0308)
///   is the precomposed letter ("ё", then `е`) that a reader sees alike;
/// - the dotted capital `İ` as `I`, and the dot that lower-casing it leaves after `i` (U+0307)
///   dropped: "İstanbul" is "Istanbul" and "istanbul" to a filter.
pub fn filter_form(text: &str) -> std::borrow::Cow<'_, str> {
    fold_for_filters(text, "-")
}

/// A filter's regex read as [`filter_form`] reads text: the same characters folded, a hyphen's
/// form written `\-` so that it stays a literal hyphen inside a class (`[a‑z]` must not become
/// the range `[a-z]`).
pub fn filter_pattern_form(pattern: &str) -> std::borrow::Cow<'_, str> {
    fold_for_filters(pattern, r"\-")
}

/// What [`filter_form`] folds `c` to, `hyphen` for a hyphen's form; `None` when it stays.
fn folded_char(c: char, hyphen: &'static str) -> Option<&'static str> {
    Some(match c {
        'ё' => "е",
        'Ё' => "Е",
        'İ' => "I",
        '\u{2019}' | '\u{2018}' | '\u{201B}' | '\u{02BC}' | '\u{2032}' | '\u{00B4}' | '`'
        | '\u{FF07}' => "'",
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{FE63}' | '\u{FF0D}' => hyphen,
        '\u{00A0}' | '\u{2007}' | '\u{2009}' | '\u{202F}' => " ",
        _ => return None,
    })
}

fn fold_for_filters<'t>(text: &'t str, hyphen: &'static str) -> std::borrow::Cow<'t, str> {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    let composed: std::borrow::Cow<'t, str> = match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => std::borrow::Cow::Borrowed(text),
        _ => std::borrow::Cow::Owned(text.nfc().collect()),
    };
    let dot_after_i =
        |prev: Option<char>, c: char| c == '\u{307}' && matches!(prev, Some('i' | 'I'));
    let mut prev = None;
    let folds = composed.chars().any(|c| {
        let fold = folded_char(c, hyphen).is_some() || dot_after_i(prev, c);
        prev = Some(c);
        fold
    });
    if !folds {
        return composed;
    }
    let mut out = String::with_capacity(composed.len());
    let mut prev = None;
    for c in composed.chars() {
        match folded_char(c, hyphen) {
            Some(s) => out.push_str(s),
            None if dot_after_i(prev, c) => {}
            None => out.push(c),
        }
        prev = Some(c);
    }
    std::borrow::Cow::Owned(out)
}

/// Whether a filter's plain word (letters, digits, spaces, hyphens, apostrophes) is in `text`
/// at the start of a word: "visit" is in "Visits" and "visited", not in "revisit"; "спорт" in
/// "спорта", not in "транспорт"; "war" not in "award". Both are in lower case, in
/// [`filter_form`].
pub fn has_word_starting_with(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        !text[..at]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
    })
}

/// Whether a filter's text is a plain word or phrase (matched at word starts), not a regex.
pub fn is_plain_word(text: &str) -> bool {
    !text.trim().is_empty()
        && filter_form(text)
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '\''))
}

/// The bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): a
/// title holding U+202E (RIGHT-TO-LEFT OVERRIDE) shows its text reversed, which can make a
/// post or a feed item read as something it is not (text spoofing, CVE-2021-42574's trick).
/// Dropped wherever source text is cleaned (issue 25). Right-to-left text itself stays, and so
/// do the marks U+200E and U+200F, which reorder nothing beyond their neighbours.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `text` shows nothing: only whitespace, control characters and invisible format
/// characters (Unicode's Cf: zero-width spaces and joiners U+200B–U+200D, U+2060, the byte
/// order mark U+FEFF, the soft hyphen, bidi marks and controls, …). A title made of them
/// (`&#1;&#2; &#8203;`) was published as a blank entry; now it is no title.
pub fn is_blank(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_whitespace() || c.is_control() || is_invisible_format(c))
}

/// The format characters (Cf) that show nothing by themselves.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{61C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// What [`clean_keeping`] keeps of a text that [`clean`] changes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Keep {
    /// A run of whitespace that holds a line break becomes one line break (else one space).
    pub line_breaks: bool,
    /// No-break spaces ([`is_no_break_space`]) stay as written instead of being read as a gap:
    /// a post keeps them, they are there so that a line does not break.
    pub no_break_spaces: bool,
    /// Control characters and bidi controls stay: for text that is matched and never shown (a
    /// date, a junk-line test), whose matching must not change.
    pub controls: bool,
}

/// Text from a source made fit for a feed or a post: each run of whitespace one space, ends
/// trimmed, control characters (which readers and XML reject) read as whitespace
/// (`Control\x01chars` is two words, not "Controlchars"), bidi controls ([`is_bidi_control`])
/// dropped.
pub fn clean(text: &str) -> String {
    clean_keeping(text, Keep::default())
}

/// Each run of whitespace one space, ends trimmed, nothing else changed.
pub fn collapse_whitespace(text: &str) -> String {
    clean_keeping(
        text,
        Keep {
            controls: true,
            ..Keep::default()
        },
    )
}

/// [`clean`], keeping what `keep` says.
///
/// Runs of kept characters are copied whole (a list page's text is mostly such runs, and the
/// poll cleans every field of every item); only the characters between them are looked at one
/// by one.
pub fn clean_keeping(text: &str, keep: Keep) -> String {
    let mut out = String::with_capacity(text.len());
    // The gap before the next character kept: one space, or one line break.
    let mut gap: Option<char> = None;
    // Where the run of kept characters not yet copied starts.
    let mut run: Option<usize> = None;
    let bytes = text.as_bytes();
    let mut next = 0;
    while next < bytes.len() {
        let at = next;
        // Printable ASCII is kept whatever `keep` says: the common case, decided at once, and
        // a run of it passed over a byte at a time.
        if (b'!'..=b'~').contains(&bytes[at]) {
            next = at + 1;
            while next < bytes.len() && (b'!'..=b'~').contains(&bytes[next]) {
                next += 1;
            }
        } else {
            // `at` is a character boundary: only whole characters are passed over.
            let Some(c) = text[at..].chars().next() else {
                break;
            };
            next = at + c.len_utf8();
            let kept = !(c.is_whitespace() && !(keep.no_break_spaces && is_no_break_space(c)))
                && (keep.controls || !(c.is_control() || is_bidi_control(c)));
            if !kept {
                if let Some(start) = run.take() {
                    out.push_str(&text[start..at]);
                }
                if keep.line_breaks && is_line_break(c) {
                    gap = Some('\n');
                } else if c.is_whitespace() && !(keep.no_break_spaces && is_no_break_space(c))
                    || c.is_control()
                {
                    // A control dropped is a gap: it stood between words.
                    gap.get_or_insert(' ');
                }
                continue;
            }
        }
        // Kept: a run starts here unless one is open.
        if run.is_none() {
            // A dropped character leaves no gap of its own: "a \u{202E} b" is "a b".
            if let Some(gap) = gap.take().filter(|_| !out.is_empty()) {
                out.push(gap);
            }
            run = Some(at);
        }
    }
    if let Some(start) = run {
        out.push_str(&text[start..]);
    }
    out
}

fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// The no-break spaces: U+00A0, U+2007 (figure space), U+202F (narrow no-break space).
pub fn is_no_break_space(c: char) -> bool {
    matches!(c, '\u{a0}' | '\u{2007}' | '\u{202f}')
}

/// The byte offset of the last sentence end in `text` whose prefix fits `budget`, each character
/// counting `units(c)` (`char::len_utf16` for Telegram's limits, 1 for plain characters). A
/// sentence ends at a line break, or after `.`, `!`, `?` or `…` (with any closing quotes or
/// brackets) that is followed by a space and then not by a lower-case letter; a `.` after an
/// initial ("N. Nazarbayev", "U.S.") or a common abbreviation ("e.g.", "млрд.") ends nothing.
pub fn last_sentence_end(text: &str, budget: usize, units_of: fn(char) -> usize) -> Option<usize> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut best = None;
    let mut units = 0;
    let mut k = 0;
    while k < chars.len() && units <= budget {
        let (at, c) = chars[k];
        if c == '\n' {
            if at > 0 {
                best = Some(at);
            }
        } else if is_terminator(c) {
            // The whole cluster: "?!", "...", ".»", "!)".
            let mut end = k;
            let mut end_units = units;
            while end < chars.len() && (is_terminator(chars[end].1) || is_closer(chars[end].1)) {
                end_units += units_of(chars[end].1);
                end += 1;
            }
            if end_units > budget {
                break;
            }
            if ends_sentence(&chars, k, end) {
                best = Some(chars.get(end).map_or(text.len(), |&(at, _)| at));
            }
            units = end_units;
            k = end;
            continue;
        }
        units += units_of(c);
        k += 1;
    }
    best
}

/// The byte offset just past the first sentence of `text` (its stop and any closing quotes or
/// brackets, or before its first line break), by the rule of [`last_sentence_end`]; `None`
/// when the text is one sentence.
pub fn first_sentence_end(text: &str) -> Option<usize> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        if chars[k].1 == '\n' && k > 0 {
            return Some(chars[k].0);
        }
        if !is_terminator(chars[k].1) {
            k += 1;
            continue;
        }
        let mut end = k;
        while end < chars.len() && (is_terminator(chars[end].1) || is_closer(chars[end].1)) {
            end += 1;
        }
        if k > 0 && ends_sentence(&chars, k, end) {
            return chars.get(end).map(|&(at, _)| at);
        }
        k = end;
    }
    None
}

/// Whether the punctuation `chars[start..end]` ends a sentence (see [`last_sentence_end`]).
fn ends_sentence(chars: &[(usize, char)], start: usize, end: usize) -> bool {
    match chars.get(end) {
        None => return true,
        Some(&(_, c)) if !c.is_whitespace() => return false, // "3.5", "akorda.kz", "?!x"
        Some(_) => {}
    }
    let next = chars[end..]
        .iter()
        .take(8)
        .map(|&(_, c)| c)
        .find(|c| !c.is_whitespace());
    if next.is_some_and(char::is_lowercase) {
        return false; // "e.g. the", "5 млрд. тенге", "… and then"
    }
    let single_dot =
        chars[start].1 == '.' && !chars[start + 1..end].iter().any(|&(_, c)| is_terminator(c));
    !(single_dot && (abbreviation_before(chars, start) || list_number_before(chars, start)))
}

/// Whether the `.` at `chars[dot]` follows the number of a list inside a sentence: a number of
/// one or two digits right after a colon ("two tasks: 1. Raise …").
fn list_number_before(chars: &[(usize, char)], dot: usize) -> bool {
    let digits = chars[..dot]
        .iter()
        .rev()
        .take_while(|&&(_, c)| c.is_ascii_digit())
        .count();
    if !(1..=2).contains(&digits) {
        return false;
    }
    chars[..dot - digits]
        .iter()
        .rev()
        .map(|&(_, c)| c)
        .find(|c| !c.is_whitespace())
        == Some(':')
}

/// Whether the word that ends at the `.` at `chars[dot]` is an initial or an abbreviation.
fn abbreviation_before(chars: &[(usize, char)], dot: usize) -> bool {
    // Words longer than this are no abbreviations; the bound keeps the scan linear.
    const LONGEST: usize = 16;
    let mut word: Vec<char> = chars[..dot]
        .iter()
        .rev()
        .take(LONGEST + 1)
        .map(|&(_, c)| c)
        .take_while(|c| !c.is_whitespace())
        .collect();
    if word.len() > LONGEST {
        return false;
    }
    word.reverse();
    let word: String = word
        .into_iter()
        .skip_while(|&c| is_opener(c))
        .collect::<String>()
        .to_lowercase();
    // Initials and dotted abbreviations: "N", "U.S", "т.е", hyphenated initials "К.-Ж",
    // "J.-C"; not the "etc." ones.
    let initials = !word.is_empty()
        && !ENDS_LIKE_ETC.contains(&word.as_str())
        && word.split('.').all(|part| {
            let mut letters = part.trim_start_matches(['-', '‐', '‑', '–']).chars();
            letters.next().is_some_and(char::is_alphabetic) && letters.next().is_none()
        });
    initials || ABBREVIATIONS.contains(&word.as_str())
}

/// Lower-cased abbreviations (without their final dot) that are usually followed by more of the
/// same sentence, in English, Russian and Kazakh. Ones that often end a sentence ("etc.", "т.д.")
/// are left out: there, cutting one sentence early is the smaller harm.
const ABBREVIATIONS: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "st",
    "vs",
    "jr",
    "sr",
    "no",
    "nos",
    "gen",
    "gov",
    "sen",
    "rep",
    "col",
    "lt",
    "sgt",
    "capt",
    "hon",
    "rev",
    "approx",
    "dept",
    "inc",
    "corp",
    "ltd",
    "co",
    "e.g",
    "i.e",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "fig",
    "vol",
    "pp",
    "cmdr",
    "adm",
    "maj",
    "pres",
    "mt",
    "ft",
    "ave",
    "blvd",
    "rd",
    "ch",
    "ed",
    "eds",
    "bn",
    "bln",
    "mln",
    "trln",
    "гг",
    "вв",
    "им",
    "ул",
    "обл",
    "р-н",
    "пр",
    "просп",
    "пер",
    "корп",
    "кв",
    "мкр",
    "тел",
    "проф",
    "акад",
    "млн",
    "млрд",
    "трлн",
    "тыс",
    "руб",
    "долл",
    "тг",
    "напр",
    "ст",
    "стр",
    "рис",
    "см",
    "жж",
    "мыс",
    "мың",
];

/// Dotted abbreviations meaning "and so on" (Russian "т.д.", "т.п.", Kazakh "т.б."): they often
/// end a sentence, so a capital after them starts the next one.
const ENDS_LIKE_ETC: &[&str] = &["т.д", "т.п", "т.б", "т.с.с"];

fn is_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？')
}

fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | '»' | '”' | '’' | ')' | ']')
}

pub fn is_opener(c: char) -> bool {
    matches!(c, '"' | '\'' | '«' | '“' | '„' | '‘' | '(' | '[')
}

/// Bytes in lowercase hexadecimal, two digits each (ids, hashes, ETags).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// An address as an error, a warning or a log line may show it: without the user name and
/// password a source's `url` may carry (`http://user:secret@host/`), which are the admin's
/// secret and must not reach `/healthz`, the logs or an admin alert.
pub fn without_userinfo(url: &url::Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut bare = url.clone();
    // Only an address without a host (`mailto:`, `data:`) refuses these, and it has no
    // userinfo to take away.
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    bare.to_string()
}

/// `url` (as text) as herald publishes it: without the user name and password of its authority
/// (`http://admin:pw@host/feed` is `http://host/feed`). A source's address may carry them to
/// reach its site, and every HTTP answer is public (herald refuses a `public_url` with them for
/// the same reason). The query stays: it is part of the site's own address. Every writer of an
/// address into an answer (the feeds, the index page, the OPML list) goes through here.
/// An address that does not parse, or has no userinfo, is left as it is (borrowed).
pub fn address_without_userinfo(url: &str) -> std::borrow::Cow<'_, str> {
    match url::Url::parse(url) {
        Ok(parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            std::borrow::Cow::Owned(without_userinfo(&parsed))
        }
        _ => std::borrow::Cow::Borrowed(url),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_address_shown_loses_its_user_name_and_password() {
        let url = |s: &str| url::Url::parse(s).unwrap();
        assert_eq!(
            without_userinfo(&url("http://admin:hunter2@127.0.0.1:8080/missing?page=2")),
            "http://127.0.0.1:8080/missing?page=2"
        );
        assert_eq!(
            without_userinfo(&url("https://admin@example.org/")),
            "https://example.org/"
        );
        assert_eq!(
            without_userinfo(&url("https://:hunter2@example.org/a")),
            "https://example.org/a"
        );
        assert_eq!(
            without_userinfo(&url("https://example.org/a@b")),
            "https://example.org/a@b"
        );
    }

    use super::*;

    /// The first sentence, by the one rule posts, summaries and made-up titles share: no end
    /// after initials (hyphenated ones too: "К.-Ж. Токаев", "J.-C. Juncker"), known
    /// abbreviations ("bln.", "Dr.", "г.") or a list's number after a colon.
    #[rstest::rstest]
    #[case::plain("First one. Second one.", "First one.")]
    #[case::hyphenated_initials_ru(
        "Глава государства К.-Ж. Токаев подписал. Далее.",
        "Глава государства К.-Ж. Токаев подписал."
    )]
    #[case::hyphenated_initials_en(
        "Signed by J.-C. Juncker today. More.",
        "Signed by J.-C. Juncker today."
    )]
    #[case::hyphenated_initials_kk(
        "Шара Қ.-Ж. Тоқаевтың қатысуымен өтті. Одан әрі.",
        "Шара Қ.-Ж. Тоқаевтың қатысуымен өтті."
    )]
    #[case::billion(
        "Trade reached 5 bln. US dollars this year. More.",
        "Trade reached 5 bln. US dollars this year."
    )]
    #[case::list_number(
        "He set two tasks: 1. Raise wages. 2. Build roads.",
        "He set two tasks: 1. Raise wages."
    )]
    #[case::year_mark(
        "В 2026 г. Президент подписал закон. Далее.",
        "В 2026 г. Президент подписал закон."
    )]
    #[case::doctor(
        "Dr. Smith met Mr. Jones today. More.",
        "Dr. Smith met Mr. Jones today."
    )]
    #[case::us("The U.S. Senate voted. More.", "The U.S. Senate voted.")]
    #[case::numbered_sentence("It was 2026. Then more.", "It was 2026.")]
    #[case::line("First line\nSecond line.", "First line")]
    fn first_sentences(#[case] text: &str, #[case] first: &str) {
        let end = first_sentence_end(text).unwrap_or(text.len());
        assert_eq!(text[..end].trim_end(), first);
    }

    #[test]
    fn hex_is_two_lowercase_digits_a_byte() {
        assert_eq!(hex(&[0, 0x0f, 0xab, 0xff]), "000fabff");
    }

    /// The cleaners as their callers had them before there was one: `split_whitespace` joined by
    /// spaces, with controls dropped (`extract::clean_text`) or not (the date reader's and the
    /// junk-line test's).
    fn by_words(text: &str, drop_controls: bool) -> String {
        // Since controls read as gaps: as whitespace before the split.
        let text: String = text
            .chars()
            .map(|c| {
                if drop_controls && c.is_control() {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        text.split_whitespace()
            .map(|w| {
                w.chars()
                    .filter(|c| !drop_controls || !is_bidi_control(*c))
                    .collect::<String>()
            })
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    const SAMPLES: &[&str] = &[
        "",
        "   ",
        "  a\u{0}b \n\t c\u{1b} ",
        " a \u{202E} b",
        "\u{202E}gpj.exe \u{2066}x\u{2069} \u{202B} שלום \u{200F}مرحبا",
        "1\u{a0}500 \u{2007}x\u{202f}y",
        "line one\r\n\n  line two \u{2028} three\u{85}",
        "\u{1}\u{2}",
        "tab\tand\u{b}vertical\u{c}feed",
    ];

    #[test]
    fn clean_and_collapse_are_the_word_joins_they_replace() {
        for text in SAMPLES {
            assert_eq!(clean(text), by_words(text, true), "{text:?}");
            assert_eq!(collapse_whitespace(text), by_words(text, false), "{text:?}");
        }
    }

    #[test]
    fn clean_collapses_whitespace_and_controls() {
        // A control removed leaves a gap, as the words it stood between.
        assert_eq!(clean("  a\u{0}b \n\t c\u{1b} "), "a b c");
        assert_eq!(
            clean("Control\u{1}chars\u{85}and\u{9f}C1"),
            "Control chars and C1"
        );
        // A one-letter first word stays (the first version of the bidi rule dropped it: "6
        // March 2026" lost its day).
        assert_eq!(clean("6 March 2026"), "6 March 2026");
        assert_eq!(clean(" a \u{202E} b"), "a b");
        // Issue 25: overrides and isolates go, right-to-left text and its marks stay.
        assert_eq!(
            clean("\u{202E}gpj.exe \u{2066}x\u{2069} \u{202B} שלום \u{200F}مرحبا"),
            "gpj.exe x שלום \u{200F}مرحبا"
        );
    }

    /// The cleaner's rule one character at a time (how it was first written): the oracle for
    /// the run-copying one.
    fn by_characters(text: &str, keep: Keep) -> String {
        let mut out = String::new();
        let mut gap: Option<char> = None;
        for c in text.chars() {
            if keep.line_breaks && is_line_break(c) {
                gap = Some('\n');
            } else if c.is_whitespace() && !(keep.no_break_spaces && is_no_break_space(c))
                || !keep.controls && c.is_control()
            {
                gap.get_or_insert(' ');
            } else if keep.controls || !(c.is_control() || is_bidi_control(c)) {
                if let Some(gap) = gap.take().filter(|_| !out.is_empty()) {
                    out.push(gap);
                }
                out.push(c);
            }
        }
        out
    }

    /// Text rich in what the cleaner treats apart: spaces, breaks, no-break spaces, controls,
    /// bidi controls, next to ASCII and non-ASCII letters.
    fn tricky_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::Strategy;
        let pieces = proptest::sample::select(vec![
            " ",
            "\n",
            "\r\n",
            "\t",
            "\u{a0}",
            "\u{2007}",
            "\u{202f}",
            "\u{85}",
            "\u{2028}",
            "\u{0}",
            "\u{1b}",
            "\u{7f}",
            "\u{202e}",
            "\u{2066}",
            "\u{200f}",
            "a",
            "Zq",
            "6",
            "é",
            "Астана",
            "שלום",
            "—",
            "~!",
        ]);
        proptest::collection::vec(pieces, 0..24).prop_map(|p| p.concat())
    }

    proptest::proptest! {
        #[test]
        fn runs_are_copied_as_the_characters_were(
            text in proptest::prop_oneof![tricky_text(), proptest::prelude::any::<String>()],
            line_breaks: bool,
            no_break_spaces: bool,
            controls: bool,
        ) {
            let keep = Keep { line_breaks, no_break_spaces, controls };
            proptest::prop_assert_eq!(clean_keeping(&text, keep), by_characters(&text, keep));
        }

        #[test]
        fn any_text_cleans_as_the_word_joins_did(text in proptest::prelude::any::<String>()) {
            proptest::prop_assert_eq!(clean(&text), by_words(&text, true));
            proptest::prop_assert_eq!(collapse_whitespace(&text), by_words(&text, false));
        }
    }

    /// Whitespace, controls and invisible format characters are blank; anything shown is not.
    #[test]
    fn blank_text_shows_nothing() {
        for blank in [
            "",
            " \u{a0}",
            "\u{1}\u{2} \u{200b}",
            "\u{200c}\u{200d}\u{2060}\u{feff}\u{202e}",
        ] {
            assert!(is_blank(blank), "{blank:?}");
        }
        for shown in ["a", "\u{200b}x", "·", "\u{3000}-"] {
            assert!(!is_blank(shown), "{shown:?}");
        }
    }

    #[test]
    fn a_post_keeps_no_break_spaces_and_may_keep_lines() {
        let post = Keep {
            no_break_spaces: true,
            ..Keep::default()
        };
        let lines = Keep {
            line_breaks: true,
            ..post
        };
        assert_eq!(
            clean_keeping(" 1\u{a0}500 \u{1} руб ", post),
            "1\u{a0}500 руб"
        );
        assert_eq!(clean_keeping("a \r\n \n b  c\n", lines), "a\nb c");
        assert_eq!(clean_keeping("a \r\n \n b  c\n", post), "a b c");
    }
}

#[cfg(test)]
mod filter_word_tests {
    use super::*;

    #[test]
    fn a_filter_word_is_found_at_word_starts_only() {
        assert!(has_word_starting_with("итоги спорта", "спорт"));
        assert!(!has_word_starting_with("транспорт", "спорт"));
        assert!(has_word_starting_with("state visits", "visit"));
        assert!(!has_word_starting_with("an award", "war"));
        assert!(has_word_starting_with("war", "war"));
        assert!(has_word_starting_with("(war)", "war"));
        assert_eq!(filter_form("Объединённых Ёлок"), "Объединенных Елок");
        assert!(is_plain_word("state visit"));
        assert!(!is_plain_word("number \\d$"));
    }

    /// `?include=president's` finds "President’s address" (issue 25): the text and the word
    /// are read alike, apostrophes, hyphens and no-break spaces folded.
    #[test]
    fn typographic_apostrophes_hyphens_and_spaces_read_as_plain_ones() {
        let text = filter_form("president\u{2019}s address, nur\u{2011}sultan, 25\u{a0}000");
        assert_eq!(text, "president's address, nur-sultan, 25 000");
        assert!(has_word_starting_with(&text, &filter_form("president's")));
        assert!(has_word_starting_with(
            &text,
            &filter_form("president\u{02bc}s")
        ));
        assert!(has_word_starting_with(&text, "nur-sultan"));
        assert!(has_word_starting_with(&text, "25 000"));
        assert!(is_plain_word("president\u{2019}s address"));
        // The em dash parts clauses: it stays.
        assert_eq!(filter_form("a\u{2014}b"), "a\u{2014}b");
        // In a regex a hyphen's form stays a literal hyphen, inside a class too.
        assert_eq!(filter_pattern_form("[a\u{2011}c]"), "[a\\-c]");
    }
}
