//! From a fetched body's bytes to text, decoded once.
//!
//! The order of evidence is RFC 7303's (and the HTML pre-scan's, which agrees on it): a byte-order
//! mark, else the HTTP `charset`, else the document's own declaration (an XML declaration's
//! `encoding=`, an HTML `<meta charset>`), else UTF-8. A declared encoding the bytes do not
//! decode in is passed over for the next evidence, the way Python feedparser falls back; bytes
//! that are not UTF-8 and declare nothing are guessed (chardetng). Three rules for what servers
//! get wrong: UTF-8 text with a few stray bytes is still UTF-8 where UTF-8 is declared or
//! nothing else holds (the strays become U+FFFD, the rest is not thrown to a guess); a document
//! that declares UTF-8 itself and is UTF-8 text is UTF-8 whatever the HTTP header says; UTF-8
//! text (multibyte sequences, at most a few stray bytes) is UTF-8 whatever single-byte charset
//! the header or the document names; and a declared single-byte charset that plainly misreads the bytes is passed over for the next
//! evidence (Latin-1 that reads words of only À-ÿ letters: Cyrillic in windows-1251 or KOI8-R;
//! a Cyrillic charset that reads capitals after small letters: KOI8-R in windows-1251, UTF-8 in
//! either). UTF-16 and UTF-32 are read
//! with or without a byte-order mark (XML 1.0, appendix F). Nothing here fails: what cannot be
//! decoded becomes U+FFFD.
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
    // The document says UTF-8 and its bytes are UTF-8 text (multibyte sequences, at most a few
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

/// How a body reads as UTF-8: its characters, the multibyte ones among them, and the invalid
/// sequences (each would become one U+FFFD).
#[derive(Clone, Copy, Debug, Default)]
struct Utf8Census {
    chars: usize,
    multibyte: usize,
    invalid: usize,
}

impl Utf8Census {
    fn of(body: &[u8]) -> Utf8Census {
        let mut census = Utf8Census::default();
        for chunk in body.utf8_chunks() {
            for c in chunk.valid().chars() {
                census.chars += 1;
                census.multibyte += usize::from(!c.is_ascii());
            }
            if !chunk.invalid().is_empty() {
                census.chars += 1;
                census.invalid += 1;
            }
        }
        census
    }

    /// UTF-8 text, perhaps with a few stray bytes: it has multibyte sequences, at most 1 % of its
    /// characters are invalid sequences (one at least is allowed, for a short document), and the
    /// valid multibyte sequences outnumber the invalid ones ten to one. A legacy body (Cyrillic
    /// in windows-1251, French in Latin-1) is nearly all invalid sequences where it is not ASCII,
    /// so it never passes.
    fn is_utf8_text(&self) -> bool {
        self.multibyte > 0
            && self.invalid <= (self.chars / 100).max(1)
            && self.invalid.saturating_mul(10) <= self.multibyte
    }
}

/// Whether `label` names UTF-8.
fn names_utf8(label: &str) -> bool {
    Encoding::for_label(clean_label(label).as_bytes()) == Some(encoding_rs::UTF_8)
}

/// Whether `label` names a single-byte charset (Latin-1, windows-1251, KOI8-R, … and ASCII,
/// which WHATWG reads as windows-1252).
fn names_single_byte(label: &str) -> bool {
    Encoding::for_label(clean_label(label).as_bytes()).is_some_and(Encoding::is_single_byte)
}

/// Whether `text`, decoded in the single-byte charset `label` names, is plainly not what the
/// bytes say: Latin-1 (ISO-8859-1, windows-1252, ISO-8859-15: the default many servers send
/// whatever the body is) that reads another script, or one Cyrillic charset that reads another
/// one's bytes (windows-1251 and KOI8-R swap the cases of the letters).
fn misread(label: &str, text: &str) -> bool {
    let Some(encoding) = Encoding::for_label(clean_label(label).as_bytes()) else {
        return false;
    };
    if encoding == encoding_rs::WINDOWS_1252 || encoding == encoding_rs::ISO_8859_15 {
        misread_as_latin(text)
    } else if [
        encoding_rs::WINDOWS_1251,
        encoding_rs::KOI8_R,
        encoding_rs::KOI8_U,
        encoding_rs::ISO_8859_5,
        encoding_rs::IBM866,
        encoding_rs::X_MAC_CYRILLIC,
    ]
    .contains(&encoding)
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
    let encoding = Encoding::for_label(label.as_bytes())?;
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

    /// One document of `tests/fixtures/encoding` and the content type it is served with.
    fn fixture(name: &str) -> (Vec<u8>, String) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/encoding/");
        let body = std::fs::read(format!("{dir}{name}.xml")).unwrap();
        let header = std::fs::read_to_string(format!("{dir}{name}.xml.hdr")).unwrap();
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
    fn many_stray_bytes_are_no_longer_a_few() {
        // Three stray bytes per title of 17 Cyrillic letters: over 1 % of the characters, so
        // the body is no UTF-8 text, and the guess reads it (as anything but Cyrillic).
        let body = cyrillic_feed(" encoding=\"utf-8\"", b"\x96\x97\x98", 4);
        let text = decode(&body, Some("text/xml; charset=utf-8"));
        assert!(!text.contains("Глава"), "{text}");
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
}
