//! Where sentences end, in English, Russian and Kazakh: shared by the Telegram post (which cuts
//! the summary to fit Telegram's limits) and the article extractor (which cuts the lead). And
//! which characters a source's text may not carry into a post or a feed beyond the control
//! characters: the bidirectional overrides and isolates ([`is_bidi_control`]).

/// The bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): a
/// title holding U+202E (RIGHT-TO-LEFT OVERRIDE) shows its text reversed, which can make a
/// post or a feed item read as something it is not (text spoofing, CVE-2021-42574's trick).
/// Dropped wherever source text is cleaned (issue 25). Right-to-left text itself stays, and so
/// do the marks U+200E and U+200F, which reorder nothing beyond their neighbours.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
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
    !(single_dot && abbreviation_before(chars, start))
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
    // Initials and dotted abbreviations: "N", "U.S", "т.е".
    let initials = !word.is_empty()
        && word.split('.').all(|part| {
            let mut letters = part.chars();
            letters.next().is_some_and(char::is_alphabetic) && letters.next().is_none()
        });
    initials || ABBREVIATIONS.contains(&word.as_str())
}

/// Lower-cased abbreviations (without their final dot) that are usually followed by more of the
/// same sentence, in English, Russian and Kazakh. Ones that often end a sentence ("etc.", "т.д.")
/// are left out: there, cutting one sentence early is the smaller harm.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "vs", "jr", "sr", "no", "nos", "gen", "gov", "sen",
    "rep", "col", "lt", "sgt", "capt", "hon", "rev", "approx", "dept", "inc", "corp", "ltd", "co",
    "e.g", "i.e", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", "fig", "vol", "pp", "гг", "вв", "им", "ул", "обл", "пр", "др", "проф", "акад", "млн",
    "млрд", "трлн", "тыс", "руб", "долл", "напр", "ст", "стр", "рис", "см", "жж", "мыс", "мың",
];

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

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_two_lowercase_digits_a_byte() {
        assert_eq!(super::hex(&[0, 0x0f, 0xab, 0xff]), "000fabff");
    }
}
