//! The summary of an article: its lead paragraph(s), cut at a sentence boundary.
//!
//! Issue 5: "the lead paragraph(s) without boilerplate (share links, "Go back", bylines, photo
//! captions, cookie text), cut at a sentence boundary (abbreviations such as "Mr.", "U.S.",
//! initials, decimals and Russian "г." do not end a sentence) to a configurable length."
//! Boilerplate blocks are already gone from the paragraphs given here; what is left to skip are
//! short lines that are no sentences (a byline, a dateline, a caption).

/// Default summary length in characters.
pub const DEFAULT_LENGTH: usize = 400;

/// Lower-cased words (without their dot) that a dot does not end a sentence after.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "col", "lt", "sgt", "capt", "gov",
    "sen", "rep", "hon", "rev", "no", "vs", "etc", "e.g", "i.e", "approx", "inc", "ltd", "co",
    "corp", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "fig", "vol", "p", "pp", "г", "гг", "т", "т.е", "т.д", "т.п", "др", "пр", "им", "ул", "обл",
    "руб", "тыс", "млн", "млрд", "трлн", "см", "стр", "рис", "в", "вв", "н", "ж", "жж", "б", "мың",
];

/// The lead of an article: whole paragraphs while they fit in `max_chars`, the first one cut at
/// its last sentence end that fits (or at a word, with "…", when no sentence fits).
pub fn lead(paragraphs: &[String], max_chars: usize) -> Option<String> {
    let mut out = String::new();
    for p in paragraphs.iter().filter(|p| reads_like_prose(p)) {
        let sep = if out.is_empty() { 0 } else { 1 };
        if out.chars().count() + sep + p.chars().count() <= max_chars {
            if sep == 1 {
                out.push(' ');
            }
            out.push_str(p);
            continue;
        }
        if out.is_empty() {
            out = cut(p, max_chars);
        }
        break;
    }
    (!out.is_empty()).then_some(out)
}

/// A paragraph worth putting in a summary: long enough to be a sentence, not a byline or date.
fn reads_like_prose(p: &str) -> bool {
    let words = p.split_whitespace().count();
    words >= 6 && p.chars().any(char::is_alphabetic)
}

/// Cuts `text` to at most `max_chars` characters at the last sentence end, else at a word.
pub fn cut(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let limit = max_chars.min(chars.len());
    let mut best = None;
    for k in 0..limit {
        let c = chars[k].1;
        if matches!(c, '.' | '!' | '?' | '…') && ends_sentence(&chars, k) {
            // Include closing quotes and brackets right after the terminator.
            let mut end = k + 1;
            while end < limit && matches!(chars[end].1, '"' | '»' | '”' | '’' | ')' | '\'') {
                end += 1;
            }
            best = Some(end);
        }
    }
    if let Some(end) = best.filter(|&e| e > 0) {
        let byte = chars.get(end).map_or(text.len(), |c| c.0);
        return text[..byte].trim_end().to_owned();
    }
    // No sentence fits: cut at the last space within the budget and mark the cut.
    let budget = max_chars.saturating_sub(1);
    let byte = chars.get(budget).map_or(text.len(), |c| c.0);
    let head = &text[..byte];
    let head = head.rfind(' ').map_or(head, |s| &head[..s]);
    format!("{}…", head.trim_end_matches([',', ';', ':', ' ', '-', '—']))
}

/// Does the terminator at `chars[k]` end a sentence? It must be followed by a space (or the
/// end) and then not by a lower-case letter; a dot after an abbreviation, an initial or inside a
/// number ("3.5") does not count.
fn ends_sentence(chars: &[(usize, char)], k: usize) -> bool {
    let c = chars[k].1;
    let mut next = k + 1;
    while next < chars.len() && matches!(chars[next].1, '"' | '»' | '”' | '’' | ')' | '\'') {
        next += 1;
    }
    match chars.get(next) {
        None => return true,
        Some(&(_, n)) if !n.is_whitespace() => return false,
        _ => {}
    }
    // The first letter after the spaces must not be lower case ("г. Астана" style continues).
    if let Some(&(_, n)) = chars[next..].iter().find(|(_, ch)| !ch.is_whitespace())
        && n.is_lowercase()
    {
        return false;
    }
    if c != '.' {
        return true;
    }
    // The word before the dot.
    let mut start = k;
    while start > 0 && (chars[start - 1].1.is_alphanumeric() || chars[start - 1].1 == '.') {
        start -= 1;
        if k - start > 12 {
            return true;
        }
    }
    let word: String = chars[start..k]
        .iter()
        .map(|(_, ch)| ch.to_lowercase().next().unwrap_or(*ch))
        .collect();
    if word.is_empty() {
        return true;
    }
    // Initials and dotted abbreviations: "N. Nazarbayev", "U.S.", "т.е.".
    let letters = word.chars().filter(|ch| ch.is_alphabetic()).count();
    let is_initial = word.chars().count() == 1 && word.chars().all(char::is_alphabetic);
    let dotted = word.contains('.') && letters <= 4;
    let upper_initial = is_initial && chars[k - 1].1.is_uppercase();
    !(upper_initial || dotted || ABBREVIATIONS.contains(&word.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::plain("One two. Three four five.", 12, "One two.")]
    #[case::mr(
        "Mr. Smith met Dr. Jones. Then more text follows here.",
        30,
        "Mr. Smith met Dr. Jones."
    )]
    #[case::us(
        "The U.S. economy grew. Next sentence is long.",
        30,
        "The U.S. economy grew."
    )]
    #[case::initials("N. Nazarbayev spoke. And then.", 25, "N. Nazarbayev spoke.")]
    #[case::decimal(
        "Growth was 3.5 percent. More words here.",
        30,
        "Growth was 3.5 percent."
    )]
    #[case::russian_year(
        "В 2025 г. Казахстан вырос. Далее текст идёт.",
        32,
        "В 2025 г. Казахстан вырос."
    )]
    #[case::quote_kept("He said \"yes.\" Then left the room.", 20, "He said \"yes.\"")]
    #[case::no_sentence_fits("Averyveryverylongword and more words", 20, "Averyveryverylongword…")]
    #[case::fits_whole("Short.", 400, "Short.")]
    fn cuts(#[case] text: &str, #[case] max: usize, #[case] expected: &str) {
        let got = cut(text, max);
        if expected.ends_with('…') && got.ends_with('…') {
            assert!(got.chars().count() <= max, "{got}");
        } else {
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn lead_skips_bylines_and_joins_paragraphs() {
        let paragraphs = vec![
            "By Jane Doe".to_owned(),
            "The President met the delegation in Astana on Monday.".to_owned(),
            "They discussed trade and investment between the two countries.".to_owned(),
            "A third paragraph that will not fit in the budget at all, being long.".to_owned(),
        ];
        assert_eq!(
            lead(&paragraphs, 120).as_deref(),
            Some(
                "The President met the delegation in Astana on Monday. They discussed trade and investment between the two countries."
            )
        );
    }
}
