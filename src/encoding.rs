//! From a fetched body's bytes to text, decoded once.
//!
//! The order of evidence is RFC 7303's (and the HTML pre-scan's, which agrees on it): a byte-order
//! mark, else the HTTP `charset`, else the document's own declaration (an XML declaration's
//! `encoding=`, an HTML `<meta charset>`), else UTF-8. A declared encoding the bytes do not
//! decode in is passed over for the next evidence, the way Python feedparser falls back; bytes
//! that are not UTF-8 and declare nothing are guessed (chardetng). A label names one of the
//! WHATWG encodings or KZ-1048 (Kazakh, which encoding_rs lacks). Rules for what servers get
//! wrong: UTF-8 text with stray bytes (at least as many valid multibyte sequences as invalid
//! ones) is still UTF-8 where UTF-8 is declared or nothing else holds (the strays become U+FFFD,
//! the rest is not thrown to a guess); a document that declares UTF-8 itself and is UTF-8 text
//! is UTF-8 whatever the HTTP header says; UTF-8 text, strays and all, is UTF-8 whatever
//! single-byte charset the header or the document names; and a declared single-byte charset
//! that plainly misreads the bytes is passed over for the next evidence (Latin-1 that reads
//! words of only À-ÿ letters: Cyrillic in windows-1251 or KOI8-R; a Cyrillic charset that reads
//! capitals after small letters: KOI8-R in windows-1251, UTF-8 in either). UTF-16 and UTF-32
//! are read with or without a byte-order mark (XML 1.0, appendix F). Nothing here fails: what
//! cannot be decoded becomes U+FFFD.
//!
//! A leaf module: it uses nothing else of herald.

use encoding_rs::Encoding;
use std::borrow::Cow;

/// The Unicode encodings that are not ASCII-compatible: a declaration read from ASCII bytes can
/// never truly name one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wide {
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

/// Decodes a body to text. See the module's documentation for the order of evidence.
pub fn decode(body: &[u8], content_type: Option<&str>) -> String {
    if body.starts_with(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(&body[3..]).into_owned();
    }
    if let Some((wide, skip)) = sniff_wide(body) {
        return decode_wide(&body[skip..], wide);
    }
    let http = content_type.and_then(charset_param).map(str::to_owned);
    let own = declared_in_document(body);
    let census = Utf8Census::of(body);
    // The document says UTF-8 and its bytes are UTF-8 text (multibyte sequences, perhaps some
    // stray bytes): a legacy charset in the HTTP header is the server's default, not the
    // document's. Legacy text is practically never valid UTF-8 once it has a few non-ASCII
    // letters, so the bytes settle it.
    if own.as_deref().is_some_and(names_utf8) && census.is_utf8_text() {
        return String::from_utf8_lossy(body).into_owned();
    }
    for label in [&http, &own].into_iter().flatten() {
        // UTF-8 text under a single-byte charset is UTF-8: legacy single-byte text with a few
        // non-ASCII letters is practically never valid UTF-8, so the label is the server's (or
        // the template's) default, and believing it would store "â€™" for "’".
        if (names_utf8(label) || names_single_byte(label)) && census.is_utf8_text() {
            return String::from_utf8_lossy(body).into_owned();
        }
        if let Some(text) = decode_strictly(body, label) {
            if misread(label, &text) {
                tracing::debug!(label, "the charset reads the body as no text: passed over");
                continue;
            }
            return text;
        }
    }
    if census.invalid == 0 || census.is_utf8_text() {
        return String::from_utf8_lossy(body).into_owned();
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(body, true);
    let guess = detector.guess(None, true);
    guess.decode_without_bom_handling(body).0.into_owned()
}

/// How a body reads as UTF-8: its valid multibyte sequences and its invalid ones (each would
/// become one U+FFFD).
#[derive(Clone, Copy, Debug, Default)]
struct Utf8Census {
    multibyte: usize,
    /// Those of three or four bytes (’ “ ” — …, CJK): a legacy single-byte body forms one by
    /// chance far more rarely than a two-byte one (`É’` in windows-1252 is C9 92, valid).
    long: usize,
    invalid: usize,
}

impl Utf8Census {
    fn of(body: &[u8]) -> Utf8Census {
        let mut census = Utf8Census::default();
        for chunk in body.utf8_chunks() {
            for c in chunk.valid().chars().filter(|c| !c.is_ascii()) {
                census.multibyte += 1;
                census.long += usize::from(c.len_utf8() >= 3);
            }
            census.invalid += usize::from(!chunk.invalid().is_empty());
        }
        census
    }

    /// UTF-8 text, perhaps with stray bytes: it has valid multibyte sequences, and at least as
    /// many of them as invalid ones. A legacy single-byte body read as UTF-8 is the other way
    /// round: each of its non-ASCII letters (Cyrillic in windows-1251, "é" in Latin-1) is an
    /// invalid sequence, as it is followed by a letter or ASCII where UTF-8 wants continuation
    /// bytes, while a valid sequence comes only by chance (a capital before "ё" or a no-break
    /// space), so such a body has many invalid sequences and few or no valid ones. English UTF-8
    /// text has few multibyte characters (’ “ ” —), so a count of the whole text (a share of
    /// its characters, a margin of ten to one) threw it to the guess for one stray byte, and
    /// every "’" became "â€™".
    ///
    /// Two-byte sequences (Cyrillic, accented Latin) weigh less: a windows-1252 "É’", a
    /// windows-1250 "ŻÓ" or a KOI8 "ё" pair is valid UTF-8 by chance, so beyond the three- and
    /// four-byte ones a body is UTF-8 only with three of them per invalid one.
    fn is_utf8_text(&self) -> bool {
        self.multibyte > 0
            && (self.invalid <= self.long || self.invalid.saturating_mul(3) <= self.multibyte)
    }
}

/// A charset a label names: one of the WHATWG Encoding Standard's (encoding_rs), or KZ-1048, the
/// Kazakh single-byte charset it does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Charset {
    Whatwg(&'static Encoding),
    Kz1048,
}

impl Charset {
    /// The charset `label` names, if any: every label is resolved here.
    fn for_label(label: &str) -> Option<Charset> {
        let label = clean_label(label);
        if is_kz1048_label(label) {
            return Some(Charset::Kz1048);
        }
        Encoding::for_label(label.as_bytes()).map(Charset::Whatwg)
    }

    fn is(self, encoding: &'static Encoding) -> bool {
        self == Charset::Whatwg(encoding)
    }
}

/// Whether `label` names KZ-1048 (STRK1048-2002): IANA's names "KZ-1048", "STRK1048-2002",
/// "RK1048", "csKZ1048", and Python's "kz1048", "kz_1048", "strk1048_2002", in any case, with `-`
/// or `_` anywhere.
fn is_kz1048_label(label: &str) -> bool {
    let bare: String = label
        .chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    matches!(
        bare.as_str(),
        "kz1048" | "rk1048" | "strk10482002" | "cskz1048"
    )
}

/// KZ-1048's bytes 0x80-0xFF (its lower half is ASCII), from the standard's mapping (the one
/// Python's `kz1048` codec has). It is windows-1251 with the Kazakh letters in place of some
/// Serbian, Macedonian and Ukrainian ones; 0x98 is undefined (U+FFFD).
const KZ1048_HIGH: [char; 128] = [
    '\u{0402}', '\u{0403}', '\u{201A}', '\u{0453}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{20AC}', '\u{2030}', '\u{0409}', '\u{2039}', '\u{040A}', '\u{049A}', '\u{04BA}', '\u{040F}',
    '\u{0452}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{FFFD}', '\u{2122}', '\u{0459}', '\u{203A}', '\u{045A}', '\u{049B}', '\u{04BB}', '\u{045F}',
    '\u{00A0}', '\u{04B0}', '\u{04B1}', '\u{04D8}', '\u{00A4}', '\u{04E8}', '\u{00A6}', '\u{00A7}',
    '\u{0401}', '\u{00A9}', '\u{0492}', '\u{00AB}', '\u{00AC}', '\u{00AD}', '\u{00AE}', '\u{04AE}',
    '\u{00B0}', '\u{00B1}', '\u{0406}', '\u{0456}', '\u{04E9}', '\u{00B5}', '\u{00B6}', '\u{00B7}',
    '\u{0451}', '\u{2116}', '\u{0493}', '\u{00BB}', '\u{04D9}', '\u{04A2}', '\u{04A3}', '\u{04AF}',
    '\u{0410}', '\u{0411}', '\u{0412}', '\u{0413}', '\u{0414}', '\u{0415}', '\u{0416}', '\u{0417}',
    '\u{0418}', '\u{0419}', '\u{041A}', '\u{041B}', '\u{041C}', '\u{041D}', '\u{041E}', '\u{041F}',
    '\u{0420}', '\u{0421}', '\u{0422}', '\u{0423}', '\u{0424}', '\u{0425}', '\u{0426}', '\u{0427}',
    '\u{0428}', '\u{0429}', '\u{042A}', '\u{042B}', '\u{042C}', '\u{042D}', '\u{042E}', '\u{042F}',
    '\u{0430}', '\u{0431}', '\u{0432}', '\u{0433}', '\u{0434}', '\u{0435}', '\u{0436}', '\u{0437}',
    '\u{0438}', '\u{0439}', '\u{043A}', '\u{043B}', '\u{043C}', '\u{043D}', '\u{043E}', '\u{043F}',
    '\u{0440}', '\u{0441}', '\u{0442}', '\u{0443}', '\u{0444}', '\u{0445}', '\u{0446}', '\u{0447}',
    '\u{0448}', '\u{0449}', '\u{044A}', '\u{044B}', '\u{044C}', '\u{044D}', '\u{044E}', '\u{044F}',
];

/// The body in KZ-1048. Its one undefined byte, 0x98, is a U+FFFD rather than a reason to pass
/// the label over: windows-1251, its twin, leaves the same byte undefined and encoding_rs decodes
/// it there (as U+0098) all the same, while the guess that would come next knows no KZ-1048.
fn decode_kz1048(body: &[u8]) -> String {
    body.iter()
        .map(|&b| match b {
            0..0x80 => char::from(b),
            _ => KZ1048_HIGH[usize::from(b - 0x80)],
        })
        .collect()
}

/// Whether `label` names UTF-8.
fn names_utf8(label: &str) -> bool {
    Charset::for_label(label).is_some_and(|c| c.is(encoding_rs::UTF_8))
}

/// Whether `label` names a single-byte charset (Latin-1, windows-1251, KOI8-R, KZ-1048, … and
/// ASCII, which WHATWG reads as windows-1252).
fn names_single_byte(label: &str) -> bool {
    match Charset::for_label(label) {
        Some(Charset::Whatwg(encoding)) => encoding.is_single_byte(),
        Some(Charset::Kz1048) => true,
        None => false,
    }
}

/// Whether `text`, decoded in the single-byte charset `label` names, is plainly not what the
/// bytes say: Latin-1 (ISO-8859-1, windows-1252, ISO-8859-15: the default many servers send
/// whatever the body is) that reads another script, or one Cyrillic charset that reads another
/// one's bytes (windows-1251 and KOI8-R swap the cases of the letters).
fn misread(label: &str, text: &str) -> bool {
    let Some(charset) = Charset::for_label(label) else {
        return false;
    };
    if charset.is(encoding_rs::WINDOWS_1252) || charset.is(encoding_rs::ISO_8859_15) {
        misread_as_latin(text)
    } else if charset == Charset::Kz1048
        || [
            encoding_rs::WINDOWS_1251,
            encoding_rs::KOI8_R,
            encoding_rs::KOI8_U,
            encoding_rs::ISO_8859_5,
            encoding_rs::IBM866,
            encoding_rs::X_MAC_CYRILLIC,
        ]
        .into_iter()
        .any(|encoding| charset.is(encoding))
    {
        misread_as_cyrillic(text)
    } else {
        false
    }
}

/// Whether Cyrillic text is the bytes of another charset: words are written in lower case, in
/// capitals, or with a capital first, and a word with a capital after a small letter
/// ("рТЕЪЙДЕОФ", KOI8-R read as windows-1251; "РџСЂРµР·", UTF-8 read so) is a rare brand name.
/// At least three such words, and one word in ten, is no text.
fn misread_as_cyrillic(text: &str) -> bool {
    let cyrillic = |c: char| ('\u{400}'..='\u{4ff}').contains(&c);
    let (mut inverted, mut words) = (0usize, 0usize);
    for word in text.split(|c: char| !cyrillic(c)) {
        let letters: Vec<char> = word.chars().collect();
        if letters.len() < 2 {
            continue;
        }
        words += 1;
        if letters
            .windows(2)
            .any(|pair| pair[0].is_lowercase() && pair[1].is_uppercase())
        {
            inverted += 1;
        }
    }
    inverted >= 3 && inverted * 10 >= words
}

/// Whether text decoded as Latin-1 is another script's bytes: in a Latin language the accented
/// letters sit inside words of ASCII letters ("café", "über"), while Cyrillic or Greek from a
/// legacy single-byte charset comes out as words made only of letters from U+00C0-U+00FF
/// ("Ïðåçèäåíò"). Such words of two letters or more are counted: at least three, and more of
/// them than words that mix the two.
fn misread_as_latin(text: &str) -> bool {
    let high = |c: char| ('\u{c0}'..='\u{ff}').contains(&c);
    let (mut only_high, mut mixed) = (0usize, 0usize);
    for word in text.split(|c: char| !(c.is_ascii_alphabetic() || high(c))) {
        let letters = word.chars().count();
        let highs = word.chars().filter(|&c| high(c)).count();
        if highs == 0 {
            continue;
        }
        if highs == letters && letters >= 2 {
            only_high += 1;
        } else {
            mixed += 1;
        }
    }
    only_high >= 3 && only_high > mixed
}

/// The text with its XML declaration (if any) no longer naming an encoding: it is Unicode text
/// now, and a parser that believed the old declaration would decode it a second time. A
/// byte-order mark left in the text goes too.
pub fn without_declared_encoding(text: &str) -> Cow<'_, str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text.trim_start();
    if !rest.starts_with("<?xml") {
        return Cow::Borrowed(text);
    }
    let Some(end) = rest.find("?>") else {
        return Cow::Borrowed(text);
    };
    let declaration = &rest[..end];
    let lower = declaration.to_ascii_lowercase();
    let Some(at) = lower.find("encoding") else {
        return Cow::Borrowed(text);
    };
    // `encoding` `=` quoted value: drop the pseudo-attribute, keep the rest of the declaration.
    let after = &declaration[at + "encoding".len()..];
    let eq = after.len() - after.trim_start().len();
    let Some(after_eq) = after[eq..].strip_prefix('=') else {
        return Cow::Borrowed(text);
    };
    let value = after_eq.trim_start();
    let Some(quote) = value.chars().next().filter(|c| matches!(c, '"' | '\'')) else {
        return Cow::Borrowed(text);
    };
    let Some(close) = value[1..].find(quote) else {
        return Cow::Borrowed(text);
    };
    let cut_end = declaration.len() - value.len() + 1 + close + 1;
    let mut out = String::with_capacity(text.len());
    out.push_str(&rest[..at]);
    out.push_str(&rest[cut_end..]);
    Cow::Owned(out)
}

/// A byte-order mark, or (without one) the way `<` opens a document in a wide encoding.
/// Returns the encoding and how many bytes of mark to skip.
fn sniff_wide(body: &[u8]) -> Option<(Wide, usize)> {
    match body {
        [0xFF, 0xFE, 0, 0, ..] => Some((Wide::Utf32Le, 4)),
        [0, 0, 0xFE, 0xFF, ..] => Some((Wide::Utf32Be, 4)),
        [0xFF, 0xFE, ..] => Some((Wide::Utf16Le, 2)),
        [0xFE, 0xFF, ..] => Some((Wide::Utf16Be, 2)),
        // No mark: a text document never starts with a NUL byte in an ASCII-compatible
        // encoding, so the place of the NULs around its first characters tells the width and
        // the byte order.
        [0, 0, 0, a, ..] if *a != 0 => Some((Wide::Utf32Be, 0)),
        [a, 0, 0, 0, ..] if *a != 0 => Some((Wide::Utf32Le, 0)),
        [0, a, 0, b, ..] if *a != 0 && *b != 0 => Some((Wide::Utf16Be, 0)),
        [a, 0, b, 0, ..] if *a != 0 && *b != 0 => Some((Wide::Utf16Le, 0)),
        _ => None,
    }
}

fn decode_wide(body: &[u8], wide: Wide) -> String {
    match wide {
        Wide::Utf16Le => encoding_rs::UTF_16LE
            .decode_without_bom_handling(body)
            .0
            .into_owned(),
        Wide::Utf16Be => encoding_rs::UTF_16BE
            .decode_without_bom_handling(body)
            .0
            .into_owned(),
        Wide::Utf32Le | Wide::Utf32Be => {
            let mut out = String::with_capacity(body.len() / 4);
            let mut units = body.chunks_exact(4);
            for unit in &mut units {
                let bytes = [unit[0], unit[1], unit[2], unit[3]];
                let code = if wide == Wide::Utf32Le {
                    u32::from_le_bytes(bytes)
                } else {
                    u32::from_be_bytes(bytes)
                };
                out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            if !units.remainder().is_empty() {
                out.push(char::REPLACEMENT_CHARACTER);
            }
            out
        }
    }
}

/// The body in the encoding `label` names, if that is an encoding these (ASCII-compatible)
/// bytes can be in and they decode in it without error.
fn decode_strictly(body: &[u8], label: &str) -> Option<String> {
    let label = clean_label(label);
    let lower = label.to_ascii_lowercase();
    // WHATWG reads "us-ascii" as windows-1252, which decodes any byte; ASCII it is, strictly.
    if matches!(
        lower.as_str(),
        "us-ascii" | "ascii" | "ansi_x3.4-1968" | "iso646-us" | "us" | "iso-ir-6"
    ) {
        return body
            .is_ascii()
            .then(|| String::from_utf8_lossy(body).into_owned());
    }
    // UTF-16 or UTF-32 named by bytes that were sniffed as ASCII-compatible: the name is wrong.
    if lower.starts_with("utf-16")
        || lower.starts_with("utf-32")
        || lower.starts_with("ucs-")
        || matches!(
            lower.as_str(),
            "utf16" | "utf32" | "u16" | "u32" | "unicode"
        )
    {
        return None;
    }
    let encoding = match Charset::for_label(label)? {
        Charset::Kz1048 => return Some(decode_kz1048(body)),
        Charset::Whatwg(encoding) => encoding,
    };
    if encoding == encoding_rs::REPLACEMENT {
        return None;
    }
    encoding
        .decode_without_bom_handling_and_without_replacement(body)
        .map(Cow::into_owned)
}

/// A label without the quotes and spaces a header or a document may put around it.
fn clean_label(label: &str) -> &str {
    label.trim().trim_matches(['"', '\'']).trim()
}

fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("charset").then_some(v.trim())
    })
}

/// The document's own word on its encoding: the XML declaration's `encoding=` when the document
/// opens with one, else an HTML `charset=` (or a stray `encoding=`) in the first 2 KiB, the way
/// a browser's pre-scan looks, without trusting anything past that window.
fn declared_in_document(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(2048)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let trimmed = head.trim_start();
    if trimmed.starts_with("<?xml") {
        let declaration = &trimmed[..trimmed.find("?>").unwrap_or(trimmed.len())];
        return value_after(declaration, "encoding");
    }
    ["charset", "encoding"]
        .iter()
        .find_map(|key| value_after(&head, key))
}

/// The value of the first `key=value` (optionally quoted, spaces around `=` allowed) in `text`.
fn value_after(text: &str, key: &str) -> Option<String> {
    let mut from = 0;
    while let Some(pos) = text[from..].find(key) {
        let rest = text[from + pos + key.len()..].trim_start();
        from += pos + key.len();
        let Some(rest) = rest.strip_prefix('=') else {
            continue;
        };
        let rest = rest.trim_start().trim_start_matches(['"', '\'']);
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
            .collect();
        if !name.is_empty() {
            return Some(name);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::double_quotes(
        "<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss/>",
        "<?xml version=\"1.0\" ?><rss/>"
    )]
    #[case::single_quotes_and_spaces(
        "\u{feff}<?xml version='1.0' encoding = 'KOI8-R' standalone='yes'?><a/>",
        "<?xml version='1.0'  standalone='yes'?><a/>"
    )]
    #[case::no_encoding("<?xml version=\"1.0\"?><a/>", "<?xml version=\"1.0\"?><a/>")]
    #[case::no_declaration("<a encoding=\"x\"/>", "<a encoding=\"x\"/>")]
    fn the_declaration_no_longer_names_an_encoding(#[case] text: &str, #[case] expected: &str) {
        assert_eq!(without_declared_encoding(text), expected);
    }

    #[test]
    fn us_ascii_is_strict_and_the_declaration_is_next() {
        let body = [
            b"<?xml version=\"1.0\" encoding=\"windows-1251\"?><t>".as_slice(),
            &encoding_rs::WINDOWS_1251.encode("Акорда").0,
            b"</t>",
        ]
        .concat();
        assert!(decode(&body, Some("text/xml; charset=us-ascii")).contains("Акорда"));
    }

    #[test]
    fn a_wide_declaration_in_ascii_bytes_is_wrong() {
        let body = "<?xml version=\"1.0\" encoding=\"utf-16\"?><t>ü</t>".as_bytes();
        assert!(decode(body, None).contains("<t>ü</t>"));
    }

    #[test]
    fn utf32_without_a_mark_and_a_broken_tail() {
        let mut body: Vec<u8> = "<a>Ж</a>"
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect();
        body.extend([0, 0]);
        assert_eq!(decode(&body, None), "<a>Ж</a>\u{fffd}");
    }

    /// One document of `tests/fixtures/encoding` (`NAME.xml`, else `NAME.json`) and the content
    /// type it is served with.
    fn fixture(name: &str) -> (Vec<u8>, String) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/encoding/");
        let file = ["xml", "json"]
            .iter()
            .map(|ext| format!("{dir}{name}.{ext}"))
            .find(|file| std::path::Path::new(file).exists())
            .unwrap();
        let body = std::fs::read(&file).unwrap();
        let header = std::fs::read_to_string(format!("{file}.hdr")).unwrap();
        let header: serde_json::Value = serde_json::from_str(&header).unwrap();
        (body, header["content_type"].as_str().unwrap().to_owned())
    }

    #[rstest]
    #[case::stray_byte_declared_twice("b1", "Президент провёл совещание по экономике", 1)]
    #[case::stray_byte_declared_in_the_prolog("b2", "Президент провёл совещание по экономике", 1)]
    #[case::stray_byte_kazakh("b3", "Мемлекет басшысы Қазақстан халқына", 1)]
    #[case::utf8_under_windows_1251("c1", "Президент провёл совещание", 0)]
    #[case::kazakh_utf8_under_windows_1251("c2", "Мемлекет басшысы Қазақстан халқына", 0)]
    #[case::utf8_under_koi8_r("c3", "Глава государства", 0)]
    #[case::windows_1251_under_latin_1("p4", "Президент провёл совещание", 0)]
    #[case::english_stray_declared_in_the_prolog("u1", "President’s visit to “Astana”", 1)]
    #[case::english_stray_declared_nowhere("u2", "Officials’ meeting", 1)]
    #[case::english_cut_ellipsis("u3", "He said “welcome” and the talk went on…", 1)]
    #[case::english_stray_under_latin_1("u4", "<title>President’s visit</title>", 1)]
    #[case::kz_1048_in_the_prolog(
        "k1",
        "Қазақстан халқына Жолдау жариялады: әділетті, қауіпсіз, өркенді",
        0
    )]
    #[case::rk1048_in_the_header("k2", "Қазақ тіліндегі мәтін.", 0)]
    #[case::kz_1048_json_feed("k3", "\"title\": \"Қазақстан\"", 0)]
    fn servers_wrong_charsets_are_read_right(
        #[case] name: &str,
        #[case] title: &str,
        #[case] strays: usize,
    ) {
        let (body, content_type) = fixture(name);
        let text = decode(&body, Some(&content_type));
        assert!(text.contains(title), "{name}: {text}");
        assert_eq!(text.matches('\u{fffd}').count(), strays, "{name}: {text}");
    }

    fn cyrillic_feed(prolog: &str, stray: &[u8], repeat: usize) -> Vec<u8> {
        let mut body = format!("<?xml version=\"1.0\"{prolog}?><rss><channel>").into_bytes();
        for _ in 0..repeat {
            body.extend_from_slice("<item><title>Глава государства – ".as_bytes());
            body.extend_from_slice(stray);
            body.extend_from_slice("</title></item>".as_bytes());
        }
        body.extend_from_slice(b"</channel></rss>");
        body
    }

    /// Legacy text that forms a two-byte UTF-8 sequence by chance (windows-1252 "É’" is C9 92)
    /// is still read as what it is, not as UTF-8 with strays.
    #[rstest::rstest]
    #[case::windows_1252(encoding_rs::WINDOWS_1252, "BEYONCÉ’S Pokémon")]
    #[case::windows_1250(encoding_rs::WINDOWS_1250, "ŻÓŁW i kot")]
    fn a_chance_two_byte_sequence_is_no_utf8_text(
        #[case] encoding: &'static Encoding,
        #[case] text: &str,
    ) {
        let (bytes, _, _) = encoding.encode(text);
        let read = decode(&bytes, Some("text/html"));
        assert!(!read.contains('\u{fffd}'), "{read}");
    }

    #[test]
    fn a_few_stray_bytes_leave_utf8_text_utf8() {
        let body = cyrillic_feed("", b"\x96", 1);
        // Declared in the header, or nothing declared (UTF-8 is the default).
        for content_type in [Some("text/xml; charset=UTF-8"), Some("text/xml"), None] {
            let text = decode(&body, content_type);
            assert!(text.contains("Глава государства – \u{fffd}<"), "{text}");
        }
        // A header that says us-ascii is wrong, and the rest is UTF-8 text.
        assert!(decode(&body, Some("text/xml; charset=us-ascii")).contains("Глава"));
    }

    #[test]
    fn strays_fewer_than_the_multibyte_characters_leave_utf8_text_utf8() {
        // Three stray bytes per title of 17 multibyte characters (over 1 % of the characters,
        // which once sent the body to the guess, read as anything but Cyrillic).
        let body = cyrillic_feed(" encoding=\"utf-8\"", b"\x96\x97\x98", 4);
        let text = decode(&body, Some("text/xml; charset=utf-8"));
        assert!(
            text.contains("Глава государства – \u{fffd}\u{fffd}\u{fffd}<"),
            "{text}"
        );
        assert_eq!(text.matches('\u{fffd}').count(), 12, "{text}");
    }

    /// One stray byte in English UTF-8 text, which has few multibyte characters (here three):
    /// the text stays UTF-8 whatever is declared, and so it does with as many strays as
    /// multibyte characters; one stray more and the body is no UTF-8 text (the guess reads it).
    #[rstest]
    #[case::declared_in_the_header(Some("text/xml; charset=utf-8"), "")]
    #[case::declared_in_the_prolog(Some("text/xml"), " encoding=\"UTF-8\"")]
    #[case::declared_nowhere(None, "")]
    #[case::under_latin_1(Some("text/xml; charset=iso-8859-1"), "")]
    #[case::under_windows_1252_in_the_prolog(None, " encoding=\"windows-1252\"")]
    #[case::under_kz_1048(Some("text/xml; charset=kz-1048"), "")]
    fn english_utf8_text_with_a_stray_byte_is_utf8(
        #[case] content_type: Option<&str>,
        #[case] prolog: &str,
    ) {
        let words = "President’s visit to “Astana”";
        let with_strays = |strays: usize| {
            let mut body =
                format!("<?xml version=\"1.0\"{prolog}?><rss><title>{words}</title>").into_bytes();
            for _ in 0..strays {
                body.extend_from_slice(b"<p>Caf\xe9</p>");
            }
            body.extend_from_slice(b"</rss>");
            body
        };
        for strays in 1..=3 {
            let text = decode(&with_strays(strays), content_type);
            assert!(text.contains(words), "{strays}: {text}");
            assert_eq!(text.matches("Caf\u{fffd}<").count(), strays, "{text}");
        }
        let text = decode(&with_strays(4), content_type);
        assert!(!text.contains(words), "{text}");
    }

    /// Cyrillic in windows-1251 has a valid UTF-8 sequence here and there (a capital before
    /// "і", "ё" or a no-break space: "Ві", "В\u{a0}"), but an invalid one for nearly every
    /// other letter: declared UTF-8, it is still no UTF-8 text.
    #[rstest]
    #[case::ukrainian(
        "Він сказав, що В\u{a0}Києві відбулася зустріч. Після неї Віктор і Віра поїхали до Ніжина"
    )]
    #[case::russian("Пётр и Фёдор: В\u{a0}Астане Чёрный «НУР» — С\u{a0}утра Жёлтый Лёд")]
    fn windows_1251_with_chance_utf8_sequences_is_no_utf8_text(#[case] words: &str) {
        let body = [
            b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><title>".as_slice(),
            &encoding_rs::WINDOWS_1251.encode(words).0,
            b"</title></rss>",
        ]
        .concat();
        let census = Utf8Census::of(&body);
        assert!(census.multibyte >= 4, "{census:?}");
        for content_type in [Some("text/xml; charset=utf-8"), None] {
            let text = decode(&body, content_type);
            assert!(text.contains(words), "{text}");
        }
    }

    #[rstest]
    #[case::cyrillic_windows_1251("Глава государства провёл совещание", encoding_rs::WINDOWS_1251)]
    #[case::french_latin_1(
        "Le président a présidé à la réunion d’été où l’on a vu",
        encoding_rs::WINDOWS_1252
    )]
    fn legacy_text_declared_utf8_is_no_utf8_text(
        #[case] words: &str,
        #[case] encoding: &'static Encoding,
    ) {
        let body = [
            b"<html><head><meta charset=\"utf-8\"></head><body><p>".as_slice(),
            &encoding.encode(words).0,
            b"</p></body></html>",
        ]
        .concat();
        let text = decode(&body, Some("text/html; charset=utf-8"));
        assert!(text.contains(words), "{text}");
    }

    #[test]
    fn the_document_says_utf8_in_html_too() {
        let body =
            "<html><head><meta charset=\"utf-8\"></head><body>Ақорда: Президент</body></html>";
        let text = decode(body.as_bytes(), Some("text/html; charset=windows-1251"));
        assert!(text.contains("Ақорда: Президент"), "{text}");
    }

    #[test]
    fn without_its_own_word_the_http_charset_still_wins() {
        // RFC 7303's order: the header before the guess, when the document says nothing and
        // its bytes are no UTF-8 text.
        let words = "Zażółć gęślą jaźń: Wałbrzych, Łódź i Świętokrzyskie";
        let body = [
            b"<rss><title>".as_slice(),
            &encoding_rs::ISO_8859_2.encode(words).0,
            b"</title></rss>",
        ]
        .concat();
        let text = decode(&body, Some("text/xml; charset=iso-8859-2"));
        assert!(text.contains(words), "{text}");
    }

    /// UTF-8 text under a single-byte charset, named by the header or by the document, reads
    /// as UTF-8: "President’s visit", not "Presidentâ€™s visit".
    #[rstest]
    #[case::latin_1_header(Some("text/html; charset=ISO-8859-1"), "")]
    #[case::windows_1252_header(Some("text/html; charset=windows-1252"), "")]
    #[case::latin_1_meta(Some("text/html"), "<meta charset=\"iso-8859-1\">")]
    #[case::latin_1_meta_no_header(None, "<meta charset=\"iso-8859-1\">")]
    #[case::both(
        Some("text/html; charset=iso-8859-1"),
        "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\">"
    )]
    #[case::ascii_header(Some("text/html; charset=us-ascii"), "")]
    #[case::koi8_r_meta(Some("text/html"), "<meta charset=\"koi8-r\">")]
    fn utf8_text_under_a_single_byte_charset_is_utf8(
        #[case] content_type: Option<&str>,
        #[case] meta: &str,
    ) {
        for words in [
            "President’s visit to France — “a new era” for both",
            "Глава государства",
            "Le président à l’été",
        ] {
            let body = format!("<html><head>{meta}</head><body><p>{words}</p></body></html>");
            let text = decode(body.as_bytes(), content_type);
            assert!(text.contains(words), "{content_type:?} {meta}: {text}");
        }
    }

    /// A stray byte among UTF-8 text under a Latin-1 header: still UTF-8 text (the census's
    /// allowance), the stray a U+FFFD.
    #[test]
    fn utf8_text_with_a_stray_byte_under_latin_1_is_utf8() {
        let mut body = "<p>".as_bytes().to_vec();
        for _ in 0..20 {
            body.extend_from_slice("Президент — “визит” ".as_bytes());
        }
        body.extend_from_slice(b"\x96</p>");
        let text = decode(&body, Some("text/html; charset=iso-8859-1"));
        assert!(text.contains("Президент — “визит” \u{fffd}<"), "{text}");
    }

    #[rstest]
    #[case::french("Le président a présidé à la réunion d'été, où l'on a vu ça.")]
    #[case::german("Über die Größe der Öl- und Gasförderung: Bürger äußern sich.")]
    #[case::icelandic("Það er ég sem á þessa bók, því að hún er mín. Ó já, ég.")]
    #[case::portuguese("Às vezes é difícil: a ação do coração e a razão, à noite.")]
    #[case::danish("Øen i Århus er smuk, og én ø til: Æblet. Å, sådan.")]
    fn latin_text_stays_latin(#[case] words: &str) {
        let body = [
            b"<?xml version=\"1.0\" encoding=\"windows-1251\"?><t>".as_slice(),
            &encoding_rs::WINDOWS_1252.encode(words).0,
            b"</t>",
        ]
        .concat();
        let text = decode(&body, Some("text/xml; charset=ISO-8859-1"));
        assert!(text.contains(words), "{text}");
    }

    #[rstest]
    #[case::koi8_r_declared(encoding_rs::KOI8_R, " encoding=\"koi8-r\"")]
    #[case::windows_1251_guessed(encoding_rs::WINDOWS_1251, "")]
    fn a_latin_charset_that_reads_no_latin_text_is_passed_over(
        #[case] encoding: &'static Encoding,
        #[case] prolog: &str,
    ) {
        let words = "Глава государства провёл совещание по вопросам экономики и финансов";
        let body = [
            format!("<?xml version=\"1.0\"{prolog}?><t>").as_bytes(),
            &encoding.encode(words).0,
            b"</t>",
        ]
        .concat();
        let text = decode(&body, Some("text/xml; charset=ISO-8859-1"));
        assert!(text.contains(words), "{text}");
    }

    fn declared_feed(prolog_label: &str, encoding: &'static Encoding, titles: &str) -> Vec<u8> {
        [
            format!("<?xml version=\"1.0\" encoding=\"{prolog_label}\"?><rss><title>").as_bytes(),
            &encoding.encode(titles).0,
            b"</title></rss>",
        ]
        .concat()
    }

    const NEWS: &str = "Президент провёл совещание по экономике. Глава государства встретился с \
                        министром. Правительство Казахстана и Астана: новости";

    #[rstest]
    #[case::koi8_r_under_windows_1251("windows-1251", "koi8-r", encoding_rs::KOI8_R)]
    #[case::windows_1251_under_koi8_r("koi8-r", "windows-1251", encoding_rs::WINDOWS_1251)]
    #[case::ibm866_under_windows_1251("windows-1251", "cp866", encoding_rs::IBM866)]
    fn one_cyrillic_charset_read_as_another_is_passed_over(
        #[case] http: &str,
        #[case] own: &str,
        #[case] encoding: &'static Encoding,
    ) {
        let body = declared_feed(own, encoding, NEWS);
        let text = decode(&body, Some(&format!("text/xml; charset={http}")));
        assert!(text.contains(NEWS), "{text}");
    }

    #[test]
    fn utf8_read_as_windows_1251_is_passed_over() {
        let body = format!("<rss><title>{NEWS}</title></rss>");
        let text = decode(body.as_bytes(), Some("text/xml; charset=windows-1251"));
        assert!(text.contains(NEWS), "{text}");
    }

    #[rstest]
    #[case::capitals("ПРЕЗИДЕНТ ПРОВЁЛ СОВЕЩАНИЕ. ГЛАВА ГОСУДАРСТВА ВСТРЕТИЛСЯ С МИНИСТРОМ")]
    #[case::brand_names(
        "ВКонтакте и МегаФон: новости. Компания ВКонтакте провела встречу с министром, \
         а МегаФон открыл салон в Астане; эксперты обсудили цифровую экономику страны"
    )]
    fn cyrillic_text_with_odd_cases_keeps_the_http_charset(#[case] titles: &str) {
        let body = declared_feed("koi8-r", encoding_rs::WINDOWS_1251, titles);
        let text = decode(&body, Some("text/xml; charset=windows-1251"));
        assert!(text.contains(titles), "{text}");
    }

    /// Kazakh text in KZ-1048, written with the table the decoder reads (its ASCII as is).
    fn kz1048(text: &str) -> Vec<u8> {
        text.chars()
            .map(|c| match c {
                '\0'..='\u{7f}' => c as u8,
                _ => 0x80 + KZ1048_HIGH.iter().position(|&k| k == c).unwrap() as u8,
            })
            .collect()
    }

    const KAZAKH: &str = "Мемлекет басшысы Қазақстан халқына Жолдау жариялады: әділетті, \
                          қауіпсіз, өркенді ел. Ұлттық құрылтай, Үкімет, ғылым, Һ, «Ң»";

    #[test]
    fn the_kz_1048_table_is_windows_1251_but_for_the_kazakh_letters() {
        let windows_1251 = encoding_rs::WINDOWS_1251
            .decode_without_bom_handling(&(0x80..=0xFF).collect::<Vec<u8>>())
            .0
            .chars()
            .collect::<Vec<char>>();
        let kazakh = "ҚҺқһҰұӘӨҒҮөғәҢңү";
        for (i, (&kz, &cyr)) in KZ1048_HIGH.iter().zip(&windows_1251).enumerate() {
            if i == 0x18 {
                assert_eq!(kz, '\u{fffd}');
            } else if kz != cyr {
                assert!(kazakh.contains(kz), "0x{:X}: {kz} for {cyr}", i + 0x80);
            }
        }
        assert!(kazakh.chars().all(|c| KZ1048_HIGH.contains(&c)));
    }

    /// KZ-1048 named any way IANA or Python names it, by the header, the XML declaration, or an
    /// HTML meta charset (list and article pages).
    #[rstest]
    #[case::header(Some("text/xml; charset=KZ-1048"), "<?xml version=\"1.0\"?><rss>")]
    #[case::header_rk1048(Some("application/rss+xml; charset=\"RK1048\""), "<rss>")]
    #[case::header_strk(Some("text/xml; charset=STRK1048-2002"), "<rss>")]
    #[case::prolog(None, "<?xml version=\"1.0\" encoding=\"kz-1048\"?><rss>")]
    #[case::prolog_python(Some("text/xml"), "<?xml version='1.0' encoding='kz1048'?><rss>")]
    #[case::prolog_python_underscore(None, "<?xml version=\"1.0\" encoding=\"KZ_1048\"?><rss>")]
    #[case::prolog_strk_underscore(None, "<?xml version=\"1.0\" encoding=\"strk1048_2002\"?><rss>")]
    #[case::meta_charset(
        Some("text/html"),
        "<html><head><meta charset=\"kz-1048\"></head><body>"
    )]
    #[case::meta_http_equiv(
        None,
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=rk1048\"></head><body>"
    )]
    #[case::over_a_windows_1251_prolog(
        Some("text/xml; charset=kz-1048"),
        "<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss>"
    )]
    fn kz_1048_is_decoded_wherever_it_is_named(
        #[case] content_type: Option<&str>,
        #[case] head: &str,
    ) {
        let body = [head.as_bytes(), &kz1048(KAZAKH), b"</rss>"].concat();
        let text = decode(&body, content_type);
        assert!(text.contains(KAZAKH), "{text}");
    }

    /// Windows-1251 stays windows-1251: its bytes for Ќ ћ Ў ў Ј Ґ Є Ї ґ є ј Ѕ ѕ ї are KZ-1048's
    /// Kazakh letters, read only where KZ-1048 is named.
    #[rstest]
    #[case::declared("<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss>", None)]
    #[case::in_the_header("<rss>", Some("text/xml; charset=windows-1251"))]
    fn windows_1251_is_not_kz_1048(#[case] head: &str, #[case] content_type: Option<&str>) {
        for words in [
            "Мемлекет басшысы Казахстан халкына Жолдау жариялады: адiлеттi, кауiпсiз ел",
            "Україна: Ґрунт, їжа, Євген; Ќ, ћ, Ў, ў, Ј, Ѕ, ѕ, ј — Ніжин і Київ",
        ] {
            let body = [
                head.as_bytes(),
                &encoding_rs::WINDOWS_1251.encode(words).0,
                b"</rss>",
            ]
            .concat();
            let text = decode(&body, content_type);
            assert!(text.contains(words), "{text}");
        }
    }

    #[test]
    fn a_kz_1048_byte_it_leaves_undefined_is_a_replacement_character() {
        let mut body = b"<?xml version=\"1.0\" encoding=\"kz-1048\"?><t>".to_vec();
        body.extend_from_slice(&kz1048(KAZAKH));
        body.extend_from_slice(b"\x98</t>");
        let text = decode(&body, None);
        assert!(text.contains(&format!("{KAZAKH}\u{fffd}</t>")), "{text}");
    }
}
