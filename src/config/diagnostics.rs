//! Problems found in a config file, and where: byte offsets turned into `LINE:COL`, every
//! problem collected (in file order) rather than the first one only.

use super::Config;
use std::ops::Range;
use std::path::Path;

/// One problem found in a config file, printed as `PATH:LINE:COL: message` (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            one_line(&self.path),
            self.line,
            self.col,
            one_line(&self.message)
        )
    }
}

/// `text` with control characters written as escapes (`\n`, `\u{1b}`): a diagnostic is one
/// line (SPEC `PATH:LINE:COL: message`), even when it quotes a value holding a newline.
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    let escape = |c: char| -> String {
        if c.is_control() {
            c.escape_default().collect()
        } else {
            c.to_string()
        }
    };
    text.chars().map(escape).collect::<String>().into()
}

pub(super) type Span = Range<usize>;

/// The 1-based column (in characters) after `before`, the text of a line up to a place in it,
/// not counting a byte order mark at its start (which editors do not show).
pub(super) fn column(before: &str) -> usize {
    before.trim_start_matches('\u{feff}').chars().count() + 1
}

/// Every problem found so far, with what is needed to turn byte offsets into line:col.
pub(super) struct Report<'a> {
    path: String,
    pub(super) text: &'a str,
    line_starts: Vec<usize>,
    pub(super) errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl<'a> Report<'a> {
    pub(super) fn new(path: &Path, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Report {
            path: path.display().to_string(),
            text,
            line_starts,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset; never panics. Columns on the
    /// first line are counted after a byte order mark, which an editor does not show.
    pub(super) fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        (line, column(&self.text[start..offset]))
    }

    pub(super) fn line(&self, offset: usize) -> usize {
        self.position(offset).0
    }

    pub(super) fn diagnostic(&self, span: &Span, message: String) -> Diagnostic {
        let (line, col) = self.position(span.start);
        Diagnostic {
            path: self.path.clone(),
            line,
            col,
            message,
        }
    }

    pub(super) fn error(&mut self, span: &Span, message: impl Into<String>) {
        self.errors.push(self.diagnostic(span, message.into()));
    }

    /// A remark that does not stop the config, printed `PATH:LINE:COL: warning: message` (as
    /// `check` prints its other warnings).
    pub(super) fn warn(&mut self, span: &Span, message: impl Into<String>) {
        let message = format!("warning: {}", message.into());
        self.warnings.push(self.diagnostic(span, message));
    }

    /// Keeps `Ok` values; reports `Err` messages at `span`.
    pub(super) fn check<T>(&mut self, span: &Span, result: Result<T, String>) -> Option<T> {
        result.map_err(|m| self.error(span, m)).ok()
    }

    /// A TOML syntax error. `lists` are the top-level keys written as lists of tables
    /// (`[[sources]]`), so that a `[sources]` beside them is told apart from a repeated key.
    pub(super) fn syntax_error(&mut self, e: &toml::de::Error, lists: &[&str]) {
        let span = e.span().unwrap_or(0..0);
        let message = match (e.message(), self.text.get(span.clone())) {
            ("duplicate key", Some(key)) if !key.is_empty() => self.duplicate(key, &span, lists),
            (m, _) if m.starts_with("invalid multi-line") => {
                // The parser stops at the end of the file: the slip is where the string opens.
                let quotes = if m.contains("literal") {
                    "'''"
                } else {
                    "\"\"\""
                };
                match self.unclosed_opening(quotes) {
                    Some(opening) => {
                        let message = format!(
                            "invalid TOML: a {quotes}…{quotes} string opened here is never \
                             closed: end it with {quotes}"
                        );
                        self.error(&(opening..opening), message);
                        return;
                    }
                    None => format!("invalid TOML: {}", toml_problem(m)),
                }
            }
            (m, _) => {
                let said = self
                    .said_in_place(m, &span)
                    .unwrap_or_else(|| toml_problem(m));
                format!("invalid TOML: {said}")
            }
        };
        self.error(&span, message);
    }

    /// Where the multi-line string delimited by `quotes` that is never closed opens: the last
    /// of the delimiters when they are odd in number (a heuristic for the usual slip, a missing
    /// closing delimiter; comments and one-line strings are not told apart).
    fn unclosed_opening(&self, quotes: &str) -> Option<usize> {
        let at: Vec<usize> = self.text.match_indices(quotes).map(|(i, _)| i).collect();
        at.last().copied().filter(|_| at.len() % 2 == 1)
    }

    /// The true slip behind the toml parser's words where the line shows it: a header not
    /// closed (`[[sources]`), a key with no value (`backfill =`), two values (`backfill = 1 2`),
    /// a word not quoted (`data_dir = data`, said with the value to write).
    fn said_in_place(&self, message: &str, span: &Span) -> Option<String> {
        let start = span.start.min(self.text.len());
        let line_start = self.line_starts[self.line(start) - 1];
        let line_end = self.text[line_start..]
            .find('\n')
            .map_or(self.text.len(), |i| line_start + i);
        let line = self.text[line_start..line_end].trim_end_matches('\r');
        let code = line.split('#').next().unwrap_or_default().trim();
        if message.starts_with("unclosed array") || message.starts_with("unclosed table") {
            // A header, not an array value: `[[sources]` or `[general`.
            if !code.starts_with('[') || code.contains('=') {
                return None;
            }
            let name = code.trim_matches(|c| c == '[' || c == ']').trim();
            let write = if code.starts_with("[[") {
                format!("[[{name}]]")
            } else {
                format!("[{name}]")
            };
            return Some(format!(
                "the section header `{code}` is not closed: write {write}"
            ));
        }
        if !message.starts_with("string values must be quoted") {
            return None;
        }
        let (key, _) = code.split_once('=')?;
        let key = key.trim();
        let after_equals = line_start + line.find('=')? + 1;
        let from = start.min(line_end).max(after_equals);
        // The value is what follows the `=` only when the parser stopped at its start (inside
        // an array it stopped at one element).
        if !self.text[after_equals..from].trim().is_empty() {
            return None;
        }
        let value = self.text[from..line_end]
            .split('#')
            .next()
            .unwrap_or_default()
            .trim();
        if value.is_empty() {
            return Some(format!(
                "`{key}` has no value after the `=`: write one, e.g. {key} = 3 or {key} = \"text\""
            ));
        }
        let words: Vec<&str> = value.split_whitespace().collect();
        let plain = |w: &str| {
            w.parse::<f64>().is_ok() || matches!(w, "true" | "false") || w.starts_with(['"', '\''])
        };
        if words.len() > 1 && words.iter().all(|w| plain(w)) {
            return Some(format!(
                "`{key}` has more than one value (`{value}`): one value per key, e.g. {key} = {}; \
                 a list is written [{}]",
                words[0],
                words.join(", ")
            ));
        }
        let quoted = value.replace('\\', "\\\\").replace('"', "\\\"");
        Some(format!(
            "a text value must be in quotes: write {key} = \"{quoted}\""
        ))
    }

    /// What a repeated `key` means: a `[key]` table beside a `[[key]]` list, a section
    /// written twice, or a key set twice.
    fn duplicate(&self, key: &str, span: &Span, lists: &[&str]) -> String {
        let headers = |header: String| {
            self.text
                .lines()
                .filter(|line| line.split('#').next().unwrap_or_default().trim() == header)
                .count()
        };
        let (tables, arrays) = (headers(format!("[{key}]")), headers(format!("[[{key}]]")));
        let list = lists.contains(&key);
        // Where the second one is: a header (`[[sources]]`), or a key inside a table.
        let line_start = self.line_starts[self.line(span.start) - 1];
        let at_header = self.text[line_start..].trim_start().starts_with('[');
        match (tables, arrays) {
            (1.., 1..) if list => format!(
                "[{key}] and [[{key}]] clash: {key} are written [[{key}]], each one under its own \
                 [[{key}]] header"
            ),
            (1.., 1..) => format!(
                "[{key}] and [[{key}]] clash: [{key}] is one section, written once as [{key}]"
            ),
            (2.., 0) if list => format!(
                "[{key}] is written twice: {key} are written [[{key}]], each one under its own \
                 [[{key}]] header"
            ),
            (2.., 0) => format!("[{key}] is written twice: put all its keys under one [{key}]"),
            _ if list && arrays > 0 && at_header => format!(
                "`{key}` is set both as a key and as [[{key}]]: {key} are written [[{key}]] only"
            ),
            // `[sources.list]` twice under one `[[sources]]`.
            _ if at_header && self.code_of_line(span.start) == format!("[sources.{key}]") => {
                format!(
                    "[sources.{key}] is written twice under one [[sources]]: put all its keys \
                     under one [sources.{key}]; a new source starts with its own [[sources]] \
                     header above its [sources.{key}]"
                )
            }
            _ if !at_header && self.header_above(span.start) == "[[sources]]" && key == "title" => {
                "duplicate key `title` in [[sources]]: a source has one title; if this one is the \
                 list page's selector (with `item` and `link`), write the header [sources.list] \
                 on the line above the list's keys"
                    .to_owned()
            }
            _ => format!("duplicate key `{key}`"),
        }
    }

    /// The line holding byte `at`, comment and blanks aside.
    fn code_of_line(&self, at: usize) -> &str {
        let start = self.line_starts[self.line(at) - 1];
        let line = self.text[start..].lines().next().unwrap_or_default();
        line.split('#').next().unwrap_or_default().trim()
    }

    /// The section header (`[[sources]]`, `[general]`) above byte `at`, as written; empty at the
    /// top level.
    fn header_above(&self, at: usize) -> &str {
        let before = &self.text[..at.min(self.text.len())];
        before
            .lines()
            .rev()
            .map(|line| line.split('#').next().unwrap_or_default().trim())
            .find(|code| code.starts_with('['))
            .unwrap_or_default()
    }

    pub(super) fn finish(mut self, mut config: Config) -> Result<Config, Vec<Diagnostic>> {
        // Sections are checked one after another, not in file order: sort (stably) at the end.
        let key = |d: &Diagnostic| (d.line, d.col);
        self.errors.sort_by_key(key);
        self.warnings.sort_by_key(key);
        if self.errors.is_empty() {
            config.warnings = self.warnings;
            Ok(config)
        } else {
            Err(self.errors)
        }
    }
}

/// The toml parser's words for the usual slips, said as what to write; others as it says them.
fn toml_problem(message: &str) -> String {
    const SLIPS: &[(&str, &str)] = &[
        (
            "invalid basic string",
            "a \"…\" string is not closed on its line: end it with `\"` (or use \"\"\"…\"\"\" for \
             several lines)",
        ),
        (
            "invalid literal string",
            "a '…' string is not closed on its line: end it with `'` (or use '''…''' for several \
             lines)",
        ),
        (
            "string values must be quoted",
            "a text value must be in quotes, e.g. key = \"value\"",
        ),
        (
            "unexpected key or value",
            "something follows the value on the same line: one `key = value` per line (a `#` \
             starts a comment)",
        ),
        (
            "missing escaped value",
            "unknown escape after a backslash in a \"…\" string: write `\\\\` for a backslash, or \
             use a '…' string, which has no escapes",
        ),
        (
            "unexpected leading zero",
            "a number does not start with 0 (write 1, not 01)",
        ),
        ("unclosed array", "an array's `[` is not closed with `]`"),
        (
            "unclosed table",
            "a section header's `[` is not closed with `]`",
        ),
        (
            "unquoted keys cannot be empty",
            "a key is missing before the `=`",
        ),
    ];
    SLIPS
        .iter()
        .find(|(start, _)| message.starts_with(start))
        .map_or_else(|| message.to_string(), |(_, said)| (*said).to_string())
}

#[cfg(test)]
mod tests {
    use crate::config::testing::*;

    #[test]
    fn every_problem_is_listed_in_file_order() {
        let text = "[general]\n\
                    colour = \"red\"\n\
                    [[sources]]\n\
                    id = \"B\"\n\
                    schedule = \"0 */10 * * *\"\n\
                    timezone = \"Mars/Olympus\"\n\
                    kind = \"feed\"\n\
                    channels = [\"nowhere\"]\n";
        let errors = errors(text);
        let at: Vec<_> = errors.iter().map(|d| (d.line, d.col)).collect();
        assert_eq!(
            at,
            [(2, 1), (3, 1), (4, 6), (5, 12), (6, 12), (8, 13)],
            "{errors:#?}"
        );
        assert!(errors[1].message.contains("missing key `url`"));
        assert_eq!(
            errors[0].to_string(),
            format!("config.toml:2:1: {}", errors[0].message)
        );
    }

    #[rstest::rstest]
    #[case::unclosed_string("title = \"abc\n", "a \"…\" string is not closed on its line")]
    #[case::unclosed_literal("title = 'abc\n", "a '…' string is not closed on its line")]
    #[case::unquoted(
        "data_dir = data\n",
        "a text value must be in quotes: write data_dir = \"data\""
    )]
    #[case::unquoted_in_array("channels = [en]\n", "a text value must be in quotes")]
    #[case::no_value("backfill =\n", "`backfill` has no value after the `=`")]
    #[case::no_value_then_a_comment(
        "backfill =   # three\n",
        "`backfill` has no value after the `=`"
    )]
    #[case::two_values(
        "backfill = 1 2\n",
        "`backfill` has more than one value (`1 2`): one value per key, e.g. backfill = 1; a list is written [1, 2]"
    )]
    #[case::list_header(
        "[[sources]\nid = \"a\"\n",
        "the section header `[[sources]` is not closed: write [[sources]]"
    )]
    #[case::two_on_a_line("x = 'a' y = 'b'\n", "something follows the value on the same line")]
    #[case::bad_escape("x = \"\\q\"\n", "unknown escape after a backslash")]
    #[case::leading_zero("x = 01\n", "a number does not start with 0")]
    #[case::unclosed_array("x = [1, 2\n", "an array's `[` is not closed with `]`")]
    #[case::unclosed_header(
        "[general\n",
        "the section header `[general` is not closed: write [general]"
    )]
    #[case::no_key("= 1\n", "a key is missing before the `=`")]
    fn toml_slips_are_said_in_words(#[case] text: &str, #[case] said: &str) {
        let errors = errors(text);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        let expected = format!("invalid TOML: {said}");
        assert!(errors[0].message.starts_with(&expected), "{}", errors[0]);
    }

    #[test]
    fn a_value_with_a_newline_is_quoted_on_one_line() {
        let errors = errors(&FEED.replace("\"a\"", "\"a\\nb\""));
        let line = errors[0].to_string();
        assert_eq!(
            line,
            "config.toml:2:6: source id `a\\nb` must match [a-z0-9-]+"
        );
    }
}
