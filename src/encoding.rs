//! From a fetched body's bytes to text, decoded once.
//!
//! The order of evidence is RFC 7303's (and the HTML pre-scan's, which agrees on it): a byte-order
//! mark, else the HTTP `charset`, else the document's own declaration (an XML declaration's
//! `encoding=`, an HTML `<meta charset>`), else UTF-8. A declared encoding the bytes do not
//! decode in is passed over for the next evidence, the way Python feedparser falls back; bytes
//! that are not UTF-8 and declare nothing are guessed (chardetng). UTF-16 and UTF-32 are read
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
    let declared = [
        content_type.and_then(charset_param).map(str::to_owned),
        declared_in_document(body),
    ];
    for label in declared.iter().flatten() {
        if let Some(text) = decode_strictly(body, label) {
            return text;
        }
    }
    if let Ok(text) = std::str::from_utf8(body) {
        return text.to_owned();
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(body, true);
    let guess = detector.guess(None, true);
    guess.decode_without_bom_handling(body).0.into_owned()
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
    let label = label.trim().trim_matches(['"', '\'']).trim();
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
}
