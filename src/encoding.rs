//! From a fetched body's bytes to text, decoded once.
//!
//! The order of evidence is RFC 7303's (and the HTML pre-scan's, which agrees on it): a byte-order
//! mark, else the HTTP `charset`, else the document's own declaration (an XML declaration's
//! `encoding=`, an HTML `<meta charset>`), else UTF-8. A declared encoding the bytes do not
//! decode in is passed over for the next evidence, the way Python feedparser falls back; bytes
//! that are not UTF-8 and declare nothing are windows-1252 (WHATWG's and feedparser's
//! fallback) unless chardetng's guess has letters of its own to show (a Cyrillic word, several
//! Polish letters in words), and a windows-1251 guess with Kazakh letters in its words is
//! KZ-1048. A label names one of the WHATWG encodings or KZ-1048 (Kazakh, which encoding_rs
//! lacks). Rules for what servers get wrong: UTF-8 text with stray bytes (at least as many
//! valid multibyte sequences as invalid ones; or any real UTF-8 with strays that lie as
//! windows-1252 letters and quotes do, alone between ASCII: text pasted from Word) is still
//! UTF-8 where UTF-8 is declared or nothing else holds, read sequence by sequence: each stray
//! byte is windows-1252 ("Word’s", "café") when the strays lie so, else U+FFFD, and a character
//! cut short is one U+FFFD; a document that declares UTF-8 itself and is UTF-8 text is UTF-8
//! whatever the HTTP header says; UTF-8 text (the first kind), strays and all, is UTF-8 whatever
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
    if own.as_deref().is_some_and(names_utf8) && census.is_mostly_utf8() {
        return census.decode_utf8(body);
    }
    for label in [&http, &own].into_iter().flatten() {
        if names_utf8(label) && census.is_mostly_utf8() {
            return census.decode_utf8(body);
        }
        // UTF-8 text under a single-byte charset is UTF-8: legacy single-byte text with a few
        // non-ASCII letters is practically never valid UTF-8, so the label is the server's (or
        // the template's) default, and believing it would store "â€™" for "’".
        if names_single_byte(label) && census.is_utf8_text() {
            return census.decode_utf8(body);
        }
        if let Some(text) = decode_strictly(body, label) {
            if misread(label, &text) {
                tracing::debug!(label, "the charset reads the body as no text: passed over");
                continue;
            }
            return text;
        }
    }
    if census.invalid == 0 || census.is_mostly_utf8() {
        return census.decode_utf8(body);
    }
    guess(body)
}

/// Bytes that declare nothing (or nothing that reads them) and are no UTF-8 text: windows-1252,
/// as WHATWG and Python feedparser fall back, unless chardetng's guess has positive evidence
/// in the text it reads (see `has_evidence`): a short Western title with one "£" or "ï" made
/// chardetng guess Latin-2 or Baltic ("Ł5 deal", "naīve"). A windows-1251 guess whose Cyrillic
/// words hold Kazakh letters is KZ-1048 (see `looks_kz1048`).
fn guess(body: &[u8]) -> String {
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(body, true);
    let guess = detector.guess(None, true);
    let western = encoding_rs::WINDOWS_1252
        .decode_without_bom_handling(body)
        .0;
    if guess == encoding_rs::WINDOWS_1252 {
        return western.into_owned();
    }
    let text = guess.decode_without_bom_handling(body).0;
    if !has_evidence(guess, &text, &western) {
        tracing::debug!(
            guess = guess.name(),
            "the guess has no evidence: windows-1252"
        );
        return western.into_owned();
    }
    if guess == encoding_rs::WINDOWS_1251 && looks_kz1048(&text) {
        return decode_kz1048(body);
    }
    text.into_owned()
}

/// Whether `text`, the body as the guessed charset reads it, shows that charset at work rather
/// than windows-1252 (`western`): letters that only the guess reads so and that sit in words
/// of their own script (a Cyrillic letter next to a Cyrillic one, a Polish "ą" next to a Latin
/// letter), at least three of them, or two that windows-1252 reads as no letter ("¯Ó£W" for
/// "ŻÓŁW"). A multibyte guess (CJK) needs two letters of its script side by side. "Ł5",
/// "Š2026" (no word) and "naīve" (one letter, "ï" a letter too) are no evidence.
fn has_evidence(guess: &'static Encoding, text: &str, western: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let in_word = |i: usize| {
        let own = script(chars[i]);
        own.is_some()
            && ((i > 0 && script(chars[i - 1]) == own)
                || chars.get(i + 1).is_some_and(|&c| script(c) == own))
    };
    if guess.is_single_byte() {
        let (mut differing, mut no_letter) = (0usize, 0usize);
        for (i, (w, &c)) in western.chars().zip(&chars).enumerate() {
            if w != c && in_word(i) {
                differing += 1;
                no_letter += usize::from(!w.is_alphabetic());
            }
        }
        differing >= 3 || no_letter >= 2
    } else {
        let letters = (0..chars.len())
            .filter(|&i| !chars[i].is_ascii() && in_word(i))
            .count();
        letters >= 2
    }
}

/// The script a letter is written in, as far as telling charsets apart needs: Latin (ASCII
/// letters and the accented ones up to Latin Extended-B, and Vietnamese), Greek, Cyrillic,
/// Armenian, Hebrew, Arabic, Thai, or CJK (kana, Han, Hangul). Not a letter, or another script
/// (IPA, symbols): none.
fn script(c: char) -> Option<u8> {
    if !c.is_alphabetic() {
        return None;
    }
    Some(match u32::from(c) {
        0x41..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF => 0,
        0x370..=0x3FF | 0x1F00..=0x1FFF => 1,
        0x400..=0x52F => 2,
        0x530..=0x58F => 3,
        0x590..=0x5FF => 4,
        0x600..=0x6FF | 0x750..=0x77F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => 5,
        0xE00..=0xE7F => 6,
        0x1100..=0x11FF | 0x3040..=0x30FF | 0x3400..=0x9FFF | 0xAC00..=0xD7AF => 7,
        0xF900..=0xFAFF | 0xFF66..=0xFF9F => 7,
        _ => return None,
    })
}

/// Whether Cyrillic text read as windows-1251 is KZ-1048, the Kazakh charset that differs from
/// it only in some letters: in words (next to a Cyrillic letter), windows-1251's readings of
/// KZ-1048's Қ қ Һ һ Ұ ұ Ә ә Ң ң (Ќ ќ Ћ ћ Ў ў Ј ј Ѕ ѕ, letters Russian and Ukrainian never
/// write), at least two of them and two different ones (Belarusian writes "ў" alone), with one
/// of the letters Kazakh shares with Ukrainian (І, and Ғ Ө Ү that windows-1251 reads as Є Ґ Ї:
/// alone no evidence, Ukrainian text is full of them), which Serbian and Macedonian (writing
/// "ј", "ќ", "ѕ", "ћ") never write; and the Serbian and Macedonian letters KZ-1048 keeps
/// (Ђ Ѓ Љ Њ Џ) are not there, or barely.
fn looks_kz1048(text: &str) -> bool {
    let cyrillic = |c: Option<&char>| {
        c.is_some_and(|c| ('\u{400}'..='\u{4ff}').contains(c) && c.is_alphabetic())
    };
    let chars: Vec<char> = text.chars().collect();
    let (mut kazakh, mut kinds, mut others, mut shared) = (0usize, Vec::new(), 0usize, 0usize);
    for (i, c) in chars.iter().enumerate() {
        if !(cyrillic(i.checked_sub(1).and_then(|j| chars.get(j))) || cyrillic(chars.get(i + 1))) {
            continue;
        }
        let lower = c.to_lowercase().next().unwrap_or(*c);
        if "ќћўјѕ".contains(lower) {
            kazakh += 1;
            if !kinds.contains(&lower) {
                kinds.push(lower);
            }
        } else if "ђѓљњџ".contains(lower) {
            others += 1;
        } else if "ієґї".contains(lower) {
            shared += 1;
        }
    }
    kazakh >= 2 && kinds.len() >= 2 && shared > 0 && others * 10 < kazakh
}

/// A byte that is not part of a UTF-8 sequence, read as windows-1252 (text pasted from Word
/// into a UTF-8 page: 0x92 is "’", 0xE9 "é"). The five bytes windows-1252 leaves undefined
/// (0x81, 0x8D, 0x8F, 0x90, 0x9D) are U+FFFD, not the C1 controls WHATWG maps them to.
fn windows_1252_byte(byte: u8) -> char {
    match byte {
        0x81 | 0x8D | 0x8F | 0x90 | 0x9D => char::REPLACEMENT_CHARACTER,
        _ => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(&[byte])
            .0
            .chars()
            .next()
            .unwrap_or(char::REPLACEMENT_CHARACTER),
    }
}

/// How a body reads as UTF-8: its valid multibyte sequences and its invalid ones (each would
/// become one U+FFFD), and how its stray bytes (those in no valid sequence) lie.
#[derive(Clone, Copy, Debug, Default)]
struct Utf8Census {
    multibyte: usize,
    /// Those of three or four bytes (’ “ ” — …, CJK): a legacy single-byte body forms one by
    /// chance far more rarely than a two-byte one (`É’` in windows-1252 is C9 92, valid).
    long: usize,
    /// Two-byte sequences that read as real text: a Latin-1 letter or sign or a Latin
    /// Extended-A letter (U+00A0-U+017F: "é", "ü", "©", "«"), or a letter of another script
    /// next to a letter of its own script (a Cyrillic word). A chance pair of legacy bytes reads
    /// as IPA ("É’" is "ɒ") or as a lone letter of a script foreign to its neighbours ("ÓŁ" in
    /// windows-1250 is a Cyrillic "ӣ" before a "W").
    plausible_pairs: usize,
    invalid: usize,
    /// Bytes in no valid sequence, and those of them in runs of three or more such bytes.
    stray_bytes: usize,
    stray_bytes_in_runs: usize,
    /// Invalid sequences of one byte: a character pasted from windows-1252 ("é" between ASCII).
    /// A cut UTF-8 character is two or more bytes (a lead byte and its continuation bytes).
    lone_strays: usize,
}

impl Utf8Census {
    fn of(body: &[u8]) -> Utf8Census {
        let mut census = Utf8Census::default();
        let mut run = 0usize;
        let end_run = |census: &mut Utf8Census, run: &mut usize| {
            if *run >= 3 {
                census.stray_bytes_in_runs += *run;
            }
            *run = 0;
        };
        for chunk in body.utf8_chunks() {
            if !chunk.valid().is_empty() {
                end_run(&mut census, &mut run);
            }
            let chars: Vec<char> = chunk.valid().chars().collect();
            for (i, &c) in chars.iter().enumerate() {
                if c.is_ascii() {
                    continue;
                }
                census.multibyte += 1;
                census.long += usize::from(c.len_utf8() >= 3);
                if c.len_utf8() == 2 {
                    let own = script(c);
                    let beside = |j: Option<usize>| {
                        j.and_then(|j| chars.get(j))
                            .is_some_and(|&n| own.is_some() && script(n) == own)
                    };
                    census.plausible_pairs += usize::from(
                        ('\u{a0}'..='\u{17f}').contains(&c)
                            || beside(i.checked_sub(1))
                            || beside(Some(i + 1)),
                    );
                }
            }
            let invalid = chunk.invalid().len();
            census.invalid += usize::from(invalid > 0);
            census.lone_strays += usize::from(invalid == 1);
            census.stray_bytes += invalid;
            run += invalid;
        }
        end_run(&mut census, &mut run);
        census
    }

    /// UTF-8 text with stray bytes, whichever way: `is_utf8_text`, or UTF-8 with the strays of
    /// text pasted from windows-1252 (`has_windows_strays`).
    fn is_mostly_utf8(&self) -> bool {
        self.is_utf8_text() || self.has_windows_strays()
    }

    /// UTF-8 text with strays of windows-1252 text in it (pasted from Word into a UTF-8 page):
    /// real UTF-8 (a three- or four-byte sequence, or plausible two-byte ones, then at least one
    /// per ten stray bytes), and stray bytes that lie as Latin text's do, alone or in pairs
    /// between ASCII ("Word’s", "café", "Größe"; a run of three or more at most for a quarter of
    /// them). Legacy Cyrillic, Greek or CJK text is runs of non-ASCII bytes, one word each;
    /// legacy Latin text forms a plausible UTF-8 sequence practically never.
    fn has_windows_strays(&self) -> bool {
        (self.long > 0
            || (self.plausible_pairs > 0 && self.stray_bytes <= self.plausible_pairs * 10))
            && self.latin_strays()
    }

    /// Whether the stray bytes lie as those of a Latin text in windows-1252: alone or in pairs.
    fn latin_strays(&self) -> bool {
        self.stray_bytes_in_runs.saturating_mul(4) <= self.stray_bytes
    }

    /// The body as UTF-8 with stray bytes: each stray byte read as windows-1252 when they lie as
    /// a Latin text's do, except a UTF-8 character cut short (a lead byte and its continuation
    /// bytes, as a cut "…" leaves), which is one U+FFFD; strays that lie otherwise are a U+FFFD
    /// per invalid sequence.
    ///
    /// Two windows-1252 characters side by side can look like a cut character: a letter that is
    /// a lead byte in UTF-8 and a sign that is a continuation byte ("é…" is E9 85, "à" and a
    /// no-break space E0 A0). In a body whose other strays are lone windows-1252 bytes (text
    /// pasted from Word), such a pair is read as the two characters it is there; in a body with
    /// no lone stray, as a cut character.
    fn decode_utf8(&self, body: &[u8]) -> String {
        // The signs Word pastes after a letter: "…", the quotes, the dashes, a no-break space.
        // Other continuation bytes after a lead byte read as a cut character (a cut "’" or "…"
        // is E2 80, "€" in windows-1252).
        const PASTED_SIGNS: [u8; 8] = [0x85, 0x91, 0x92, 0x93, 0x94, 0x96, 0x97, 0xA0];
        let windows = self.latin_strays();
        let pasted = windows && self.lone_strays > 0;
        let mut out = String::with_capacity(body.len());
        for chunk in body.utf8_chunks() {
            out.push_str(chunk.valid());
            match chunk.invalid() {
                [] => {}
                &[byte] if windows => out.push(windows_1252_byte(byte)),
                &[letter, sign]
                    if pasted
                        && windows_1252_byte(letter).is_alphabetic()
                        && PASTED_SIGNS.contains(&sign) =>
                {
                    out.push(windows_1252_byte(letter));
                    out.push(windows_1252_byte(sign));
                }
                _ => out.push(char::REPLACEMENT_CHARACTER),
            }
        }
        out
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

    /// `stray`: how the stray byte reads (windows-1252, or a U+FFFD for a cut character), or
    /// nothing when there is none.
    #[rstest]
    #[case::stray_byte_declared_twice(
        "b1",
        "Президент провёл совещание по экономике",
        "новости – здесь"
    )]
    #[case::stray_byte_declared_in_the_prolog(
        "b2",
        "Президент провёл совещание по экономике",
        "новости – здесь"
    )]
    #[case::stray_byte_kazakh("b3", "Мемлекет басшысы Қазақстан халқына", "Ақорда \u{a0}<")]
    #[case::utf8_under_windows_1251("c1", "Президент провёл совещание", "")]
    #[case::kazakh_utf8_under_windows_1251("c2", "Мемлекет басшысы Қазақстан халқына", "")]
    #[case::utf8_under_koi8_r("c3", "Глава государства", "")]
    #[case::windows_1251_under_latin_1("p4", "Президент провёл совещание", "")]
    #[case::english_stray_declared_in_the_prolog(
        "u1",
        "President’s visit to “Astana”",
        "Café opening"
    )]
    #[case::english_stray_declared_nowhere("u2", "Officials’ meeting", "Café opening")]
    #[case::english_cut_ellipsis(
        "u3",
        "He said “welcome” and the talk went on…",
        "cut here \u{fffd} mid"
    )]
    #[case::english_stray_under_latin_1("u4", "<title>President’s visit</title>", "Café<")]
    #[case::kz_1048_in_the_prolog(
        "k1",
        "Қазақстан халқына Жолдау жариялады: әділетті, қауіпсіз, өркенді",
        ""
    )]
    #[case::rk1048_in_the_header("k2", "Қазақ тіліндегі мәтін.", "")]
    #[case::kz_1048_json_feed("k3", "\"title\": \"Қазақстан\"", "")]
    fn servers_wrong_charsets_are_read_right(
        #[case] name: &str,
        #[case] title: &str,
        #[case] stray: &str,
    ) {
        let (body, content_type) = fixture(name);
        let text = decode(&body, Some(&content_type));
        assert!(text.contains(title), "{name}: {text}");
        assert!(text.contains(stray), "{name}: {text}");
        let cut = usize::from(stray.contains('\u{fffd}'));
        assert_eq!(text.matches('\u{fffd}').count(), cut, "{name}: {text}");
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
            assert!(text.contains("Глава государства – –<"), "{text}");
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
    /// the text stays UTF-8 whatever is declared (the stray read as windows-1252), and so it
    /// does with as many strays as multibyte characters. Under a single-byte charset, one
    /// stray more and the body is no UTF-8 text (the charset reads it); declared UTF-8 or
    /// nothing, strays that lie as windows-1252 letters do leave it UTF-8.
    #[rstest]
    #[case::declared_in_the_header(Some("text/xml; charset=utf-8"), "", true)]
    #[case::declared_in_the_prolog(Some("text/xml"), " encoding=\"UTF-8\"", true)]
    #[case::declared_nowhere(None, "", true)]
    #[case::under_latin_1(Some("text/xml; charset=iso-8859-1"), "", false)]
    #[case::under_windows_1252_in_the_prolog(None, " encoding=\"windows-1252\"", false)]
    // KZ-1048 reads "’" as "вЂ™", no Cyrillic text: passed over, and UTF-8 is what is left.
    #[case::under_kz_1048(Some("text/xml; charset=kz-1048"), "", true)]
    fn english_utf8_text_with_a_stray_byte_is_utf8(
        #[case] content_type: Option<&str>,
        #[case] prolog: &str,
        #[case] utf8_or_nothing: bool,
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
            assert_eq!(text.matches("Café<").count(), strays, "{text}");
        }
        let text = decode(&with_strays(4), content_type);
        assert_eq!(text.contains(words), utf8_or_nothing, "{text}");
        if utf8_or_nothing {
            assert_eq!(text.matches("Café<").count(), 4, "{text}");
        }
    }

    /// Two pasted windows-1252 characters that look like a cut UTF-8 character (a letter that
    /// is a lead byte, then a sign that is a continuation byte) are read as those two where
    /// the body's other strays are pasted windows-1252 too; alone, they are a cut character.
    #[rstest]
    #[case::e_acute_and_ellipsis(b"caf\xe9\x85".as_slice(), "café…")]
    #[case::a_grave_and_no_break_space(b"voil\xe0\xa0!".as_slice(), "voilà\u{a0}!")]
    #[case::o_circumflex_and_ellipsis(b"bient\xf4\x85".as_slice(), "bientô…")]
    fn pasted_pairs_that_look_like_a_cut_character(#[case] pair: &[u8], #[case] read: &str) {
        let feed = |also_lone: bool| {
            let mut body =
                b"<rss><title>President\xe2\x80\x99s \xe2\x80\x9cvisit\xe2\x80\x9d</title><p>"
                    .to_vec();
            body.extend_from_slice(pair);
            if also_lone {
                body.extend_from_slice(b"</p><p>Word\x92s");
            }
            body.extend_from_slice(b"</p></rss>");
            body
        };
        let text = decode(&feed(true), Some("text/xml; charset=utf-8"));
        assert!(text.contains("President’s “visit”"), "{text}");
        assert!(text.contains(read), "{text}");
        assert!(text.contains("Word’s"), "{text}");
        let text = decode(&feed(false), Some("text/xml; charset=utf-8"));
        assert!(text.contains("President’s “visit”"), "{text}");
        assert_eq!(text.matches('\u{fffd}').count(), 1, "{text}");
    }

    /// A character cut after its first two bytes (a cut "’" or "…" is E2 80) stays one U+FFFD
    /// beside pasted windows-1252 strays: "€" is no sign Word pastes after a letter.
    #[test]
    fn a_cut_character_beside_pasted_strays_is_still_cut() {
        let body = b"<rss><title>President\xe2\x80\x99s</title><p>Word\x92s</p><p>cut here \xe2\x80</p></rss>";
        let text = decode(body, Some("text/xml; charset=utf-8"));
        assert!(text.contains("Word’s"), "{text}");
        assert!(text.contains("cut here \u{fffd}<"), "{text}");
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
    /// allowance), the stray read as windows-1252.
    #[test]
    fn utf8_text_with_a_stray_byte_under_latin_1_is_utf8() {
        let mut body = "<p>".as_bytes().to_vec();
        for _ in 0..20 {
            body.extend_from_slice("Президент — “визит” ".as_bytes());
        }
        body.extend_from_slice(b"\x96</p>");
        let text = decode(&body, Some("text/html; charset=iso-8859-1"));
        assert!(text.contains("Президент — “визит” –<"), "{text}");
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

    /// A small RSS document around `title`'s bytes, declaring nothing.
    fn rss_titled(title: &[u8]) -> Vec<u8> {
        [
            b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><item><title>".as_slice(),
            title,
            b"</title></item></channel></rss>",
        ]
        .concat()
    }

    /// UTF-8 text with a few valid multibyte characters and a stray byte from text pasted from
    /// windows-1252: each valid sequence is UTF-8, each stray byte windows-1252 (one that
    /// charset leaves undefined a U+FFFD), declared UTF-8 or nothing.
    #[rstest]
    #[case::latin_1_letter(b"\xff".as_slice(), "bad ÿ byte")]
    #[case::windows_quote(b"\x92", "bad ’ byte")]
    #[case::latin_1_e_acute(b"\xe9", "bad é byte")]
    #[case::undefined_in_windows_1252(b"\x81", "bad \u{fffd} byte")]
    fn utf8_with_a_windows_1252_stray_reads_each_sequence(
        #[case] stray: &[u8],
        #[case] read: &str,
    ) {
        let body = [
            b"<rss><item><title>valid \xc3\xa9</title></item><item><title>bad ".as_slice(),
            stray,
            b" byte</title></item><item><title>third \xc3\xbc</title></item></rss>",
        ]
        .concat();
        for content_type in [None, Some("application/rss+xml; charset=utf-8")] {
            let text = decode(&body, content_type);
            for title in ["valid é", read, "third ü"] {
                assert!(text.contains(title), "{content_type:?}: {text}");
            }
        }
    }

    #[rstest]
    #[case::five_quotes_and_a_windows_one(
        b"\xe2\x80\x99a \xe2\x80\x99b \xe2\x80\x99c \xe2\x80\x99d \xe2\x80\x99e Word\x92s".as_slice(),
        "’a ’b ’c ’d ’e Word’s"
    )]
    #[case::two_letters_and_three_strays(
        b"Caf\xc3\xa9 two na\xc3\xafve, Word\x92s caf\xe9 \x93x\x94",
        "Café two naïve, Word’s café “x”"
    )]
    fn utf8_with_windows_1252_strays_is_utf8_and_windows_1252(
        #[case] title: &[u8],
        #[case] read: &str,
    ) {
        let text = decode(&rss_titled(title), None);
        assert!(text.contains(&format!("<title>{read}</title>")), "{text}");
    }

    /// Legacy Cyrillic that forms a three-byte UTF-8 sequence by chance ("её»" is E5 B8 BB, a
    /// CJK character) is still no UTF-8 text: its strays are words, not isolated letters.
    #[test]
    fn legacy_words_around_a_chance_utf8_sequence_stay_legacy() {
        let words = "«Новости» № 5 — всё о её «жизни» и её»";
        let body = rss_titled(&encoding_rs::WINDOWS_1251.encode(words).0);
        assert_eq!(Utf8Census::of(&body).long, 1);
        let text = decode(&body, None);
        assert!(text.contains(words), "{text}");
    }

    /// Short Western text with one or two high bytes and nothing declared is windows-1252
    /// (chardetng guessed Latin-2 or Baltic: "Ł5 deal", "Š2026", "naīve", "naļve").
    #[rstest]
    #[case::pound("£5 deal")]
    #[case::copyright("©2026 report")]
    #[case::diaeresis("The naïve approach")]
    #[case::quotes_and_diaeresis("Smart ’quote’ naïve")]
    fn a_short_western_text_declaring_nothing_is_windows_1252(#[case] words: &str) {
        let body = rss_titled(&encoding_rs::WINDOWS_1252.encode(words).0);
        for content_type in [None, Some("application/rss+xml")] {
            let text = decode(&body, content_type);
            assert!(text.contains(&format!("<title>{words}</title>")), "{text}");
        }
    }

    /// The guess still reads what has letters of its own: Central European, Turkish, Greek,
    /// Hebrew, Japanese, even short.
    #[rstest]
    #[case::polish(
        encoding_rs::WINDOWS_1250,
        "Zażółć gęślą jaźń: Wałbrzych, Łódź i Świętokrzyskie"
    )]
    #[case::polish_latin_2(encoding_rs::ISO_8859_2, "Zażółć gęślą jaźń: Wałbrzych i Łódź")]
    #[case::polish_capitals(encoding_rs::WINDOWS_1250, "ŻÓŁW i kot")]
    #[case::czech(encoding_rs::WINDOWS_1250, "Příliš žluťoučký kůň úpěl ďábelské ódy")]
    #[case::turkish(encoding_rs::WINDOWS_1254, "Türkiye'de şu anda ağır kış")]
    #[case::greek(encoding_rs::WINDOWS_1253, "Ειδήσεις")]
    #[case::hebrew(encoding_rs::WINDOWS_1255, "חדשות היום")]
    #[case::japanese(encoding_rs::SHIFT_JIS, "東京のニュース")]
    fn a_guess_with_letters_of_its_own_is_kept(
        #[case] encoding: &'static Encoding,
        #[case] words: &str,
    ) {
        let text = decode(&rss_titled(&encoding.encode(words).0), None);
        assert!(text.contains(&format!("<title>{words}</title>")), "{text}");
    }

    /// Kazakh in KZ-1048 declaring nothing: chardetng guesses windows-1251 ("Ќазаќстан"), and
    /// its Kazakh letters in words make it KZ-1048.
    #[test]
    fn kazakh_declaring_nothing_is_kz_1048() {
        let words = "Қазақстан Президенті әкімдермен кездесу өткізді";
        let text = decode(&rss_titled(&kz1048(words)), None);
        assert!(text.contains(&format!("<title>{words}</title>")), "{text}");
        let text = decode(&rss_titled(&kz1048(KAZAKH)), None);
        assert!(text.contains(KAZAKH), "{text}");
    }

    /// Other Cyrillic languages guessed windows-1251 stay windows-1251, their letters at
    /// KZ-1048's Kazakh places and all.
    #[rstest]
    #[case::russian("«Новости» № 5 — всё о её «жизни»: Ёлка и ёж")]
    #[case::ukrainian("Україна: Ґрунт, їжа, Євген, Київ і Ніжин, ґанок, єдність")]
    #[case::serbian("Београд: ђаци, љубав, њива, џеп, моја кућа, ћерка, Ђорђе")]
    #[case::macedonian("Македонија: ќе дојде, ѕвезда, Скопје, моја куќа")]
    #[case::belarusian("Беларусь: праўда, Мінск, саўдзел, воўк")]
    fn other_cyrillic_guessed_stays_windows_1251(#[case] words: &str) {
        let text = decode(
            &rss_titled(&encoding_rs::WINDOWS_1251.encode(words).0),
            None,
        );
        assert!(text.contains(&format!("<title>{words}</title>")), "{text}");
    }
}
