//! The summary of an article: its lead paragraph(s), cut at a sentence boundary.
//!
//! Issue 5: "the lead paragraph(s) without boilerplate (share links, "Go back", bylines, photo
//! captions, cookie text), cut at a sentence boundary (abbreviations such as "Mr.", "U.S.",
//! initials, decimals and Russian "г." do not end a sentence) to a configurable length."
//! Boilerplate blocks are already gone from the paragraphs given here; what is left to skip are
//! short lines that are no sentences (a byline, a dateline, a caption).

/// Default summary length in characters.
pub const DEFAULT_LENGTH: usize = 400;

/// The lead of an article: whole paragraphs while they fit in `max_chars`, the first one cut at
/// its last sentence end that fits (or at a word, with "…", when no sentence fits).
///
/// Only body paragraphs count: `headings` (the texts of the page's headings) are left out, and
/// so are bylines, photo captions and share or subscribe lines. A line without a sentence end
/// (a subheading in bold, a label) is left out when short; when long, it ends the lead, so that
/// it is never run into the next paragraph as if it were one sentence.
pub fn lead(paragraphs: &[String], headings: &[String], max_chars: usize) -> Option<String> {
    let mut out = String::new();
    for p in paragraphs {
        if !reads_like_prose(p) || is_boilerplate(p) || headings.iter().any(|h| h == p) {
            continue;
        }
        let ends = ends_sentence(p);
        if !ends && words(p) < 20 && p.chars().count() < 100 {
            continue;
        }
        let sep = if out.is_empty() { 0 } else { 1 };
        if out.chars().count() + sep + p.chars().count() <= max_chars {
            if sep == 1 {
                out.push(' ');
            }
            out.push_str(p);
            // A long line ending in a colon introduces what follows: read on.
            if ends || p.ends_with(':') {
                continue;
            }
            break;
        }
        if out.is_empty() {
            out = cut(p, max_chars);
        }
        break;
    }
    (!out.is_empty()).then_some(out)
}

/// Words of `p`, counted up to 64 (the rules here look at 30 at most): Chinese and Japanese
/// write no spaces between words, so two of their characters count as one.
fn words(p: &str) -> usize {
    let spaced = p.split_whitespace().take(64).count();
    // Only a line of few spaced words can be Chinese or Japanese text worth counting.
    if spaced >= 20 || p.is_ascii() {
        return spaced;
    }
    let cjk = p
        .chars()
        .take(400)
        .filter(|&c| ('\u{3040}'..='\u{9fff}').contains(&c))
        .count();
    spaced.max(cjk / 2)
}

/// Does `p` end with a sentence end (before closing quotes and brackets)?
fn ends_sentence(p: &str) -> bool {
    p.trim_end_matches(['"', '\'', '»', '”', '’', ')', ' ', '」', '』', '）'])
        .ends_with(['.', '!', '?', '…', '。', '！', '？'])
}

/// Starts of a photo caption or credit.
const CAPTION: &[&str] = &[
    "photo:",
    "photo by",
    "photos:",
    "photo credit",
    "photograph:",
    "image:",
    "credit:",
    "pictured:",
    "illustration:",
    "фото:",
    "фото -",
    "фото —",
    "фото –",
    "фото предоставлено",
    "фото пресс",
    "фотография:",
    "иллюстрация:",
    "сурет:",
    "сурет -",
    "сурет —",
    "©",
];

/// Words of a share, follow or subscribe line.
const SHARE: &[&str] = &[
    "share this",
    "share on",
    "subscribe",
    "follow us",
    "read more",
    "поделиться",
    "подписывайтесь",
    "подпишитесь",
    "читайте также",
    "читайте нас",
    "бөлісу",
    "жазылыңыз",
];

/// A byline ("By Jane Doe, Correspondent", "Автор: …"), a photo caption or credit, or a
/// share or subscribe line: not the lead, though it may read as a sentence.
fn is_boilerplate(p: &str) -> bool {
    let words = words(p);
    // Such lines are short; a long paragraph is read no further (nor copied).
    if words > 30 {
        return false;
    }
    let lower = p.to_lowercase();
    let byline = (p.starts_with("By ") && (words <= 4 || !ends_sentence(p)))
        || ["автор:", "авторы:", "автор -", "автор —", "авторлар:"]
            .iter()
            .any(|w| lower.starts_with(w))
        || ((p.starts_with("Автор ") || p.starts_with("Авторы ")) && words <= 5);
    byline
        || (words <= 30 && CAPTION.iter().any(|w| lower.starts_with(w)))
        || (words <= 20 && SHARE.iter().any(|w| lower.contains(w)))
}

/// A paragraph worth putting in a summary: long enough to be a sentence, not a byline or date.
/// A short one (three words or more) counts when it is a whole sentence: it starts with a
/// capital, ends with a sentence end, and holds no digit or colon (a dateline "Astana, 5
/// March.", a caption "Photo: Akorda.").
fn reads_like_prose(p: &str) -> bool {
    let words = words(p);
    if !p.chars().any(char::is_alphabetic) {
        return false;
    }
    if words >= 6 {
        return true;
    }
    let sentence = ends_sentence(p)
        && p.chars().next().is_some_and(char::is_uppercase)
        && !p.chars().any(|c| c.is_ascii_digit() || c == ':');
    words >= 3 && sentence
}

/// Cuts `text` to at most `max_chars` characters at the last sentence end, else at a word.
pub fn cut(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    if let Some(end) = crate::text::last_sentence_end(text, max_chars, |_| 1).filter(|&e| e > 0) {
        return text[..end].trim_end().to_owned();
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    // No sentence fits: cut at the last space within the budget and mark the cut.
    let budget = max_chars.saturating_sub(1);
    let byte = chars.get(budget).map_or(text.len(), |c| c.0);
    let head = &text[..byte];
    let head = head.rfind(' ').map_or(head, |s| &head[..s]);
    format!("{}…", head.trim_end_matches([',', ';', ':', ' ', '-', '—']))
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
    #[case::etc_ends_a_sentence(
        "Обсуждались энергетика, транспорт и т.д. Далее выступил министр.",
        50,
        "Обсуждались энергетика, транспорт и т.д."
    )]
    #[case::etc_inside_a_sentence(
        "Энергетика, транспорт и т.д. были темами. Далее слово.",
        45,
        "Энергетика, транспорт и т.д. были темами."
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

    /// A short lead sentence is the lead; a short dateline or caption is not.
    #[rstest]
    #[case::short_lead("Глава государства провел совещание.", true)]
    #[case::short_exclamation("The talks went well!", true)]
    #[case::quoted("He said: “We agree.”", false)]
    #[case::dateline("Astana, 5 March 2026.", false)]
    #[case::caption("Photo: Akorda press service.", false)]
    #[case::no_sentence_end("Read more about it", false)]
    #[case::two_words("Thank you.", false)]
    #[case::lowercase("and so it went.", false)]
    fn a_short_paragraph_counts_when_it_is_a_sentence(#[case] p: &str, #[case] prose: bool) {
        assert_eq!(reads_like_prose(p), prose, "{p}");
    }

    #[test]
    fn a_short_first_sentence_stays_in_the_lead() {
        let paragraphs = [
            "Глава государства провел совещание.".to_owned(),
            "На совещании обсуждались вопросы развития энергетики страны.".to_owned(),
        ];
        assert_eq!(
            lead(&paragraphs, &[], 400).as_deref(),
            Some(
                "Глава государства провел совещание. На совещании обсуждались вопросы развития энергетики страны."
            )
        );
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
            lead(&paragraphs, &[], 120).as_deref(),
            Some(
                "The President met the delegation in Astana on Monday. They discussed trade and investment between the two countries."
            )
        );
    }

    /// A line without a sentence end is never run into the next paragraph: a short one (a
    /// subheading, a label) is left out, a long one ends the lead.
    #[test]
    fn a_line_without_a_sentence_end_is_not_glued_to_the_next() {
        let long =
            "The council approved the plan for the new bridge after a long debate and the work \
                    will start in spring with the first pillars"
                .to_owned();
        let paragraphs = [
            "Council decides".to_owned(),
            long.clone(),
            "Residents welcomed the decision.".to_owned(),
        ];
        assert_eq!(lead(&paragraphs, &[], 400), Some(long));
    }

    /// Headings, bylines, captions and share lines are not the lead, even when they read as
    /// sentences.
    #[rstest]
    #[case::heading("What the council decided on Tuesday evening.")]
    #[case::byline("By Jane Doe, Education Correspondent, Astana bureau")]
    #[case::short_byline("By Jane Doe.")]
    #[case::caption("Photo: pupils at a rural school in the Akmola region.")]
    #[case::caption_ru("Фото: пресс-служба акимата.")]
    #[case::caption_kz("Сурет: Ақорданың баспасөз қызметі.")]
    #[case::byline_ru("Автор: Иван Петров.")]
    #[case::share("Share this story on Facebook, Twitter and Telegram.")]
    #[case::subscribe("Подписывайтесь на наш канал в Telegram.")]
    fn not_the_lead(#[case] line: &str) {
        let body = "The council approved the plan for the new bridge after a long debate.";
        let paragraphs = [line.to_owned(), body.to_owned()];
        let headings = ["What the council decided on Tuesday evening.".to_owned()];
        assert_eq!(lead(&paragraphs, &headings, 400).as_deref(), Some(body));
    }

    /// A sentence that starts with "By" is not a byline.
    #[test]
    fn a_sentence_starting_with_by_is_prose() {
        let p = "By Tuesday, the council had approved the plan for the bridge.".to_owned();
        assert_eq!(lead(std::slice::from_ref(&p), &[], 400), Some(p));
    }

    /// Chinese and Japanese sentences end with their own full stops.
    #[test]
    fn cjk_sentences_end_the_lead_line() {
        let p = "肉をくわえたイヌが、橋を渡っていました。".to_owned();
        assert_eq!(lead(std::slice::from_ref(&p), &[], 400), Some(p));
    }
}
