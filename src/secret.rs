//! The bot token, kept out of every text herald shows: log lines, `/healthz`, alerts and the
//! errors they quote. The token travels in every Bot API URL (`/bot{token}/sendMessage`), so
//! an error page that repeats its request's path, or a dependency that logs a URL, carries it —
//! percent-encoded as a URL writes it, or escaped as a JSON log line or a `Debug` string does.
//! Each of those forms is cut, of the whole token and of its secret part (after the bot's id).

use std::borrow::Cow;
use std::sync::RwLock;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What stands where a token was.
pub const MARK: &str = "<token>";

/// The forms of every token made in this process (one in `herald run`; tests make several),
/// longest first.
static FORMS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Tokens kept at most: a process has one, a test run a few.
const TOKENS_MAX: usize = 64;

/// Registers a token: from now on [`redact`] cuts it. Called wherever a token is made.
pub fn keep_out(token: &str) {
    let mut kept = FORMS.write().unwrap_or_else(|p| p.into_inner());
    let new = forms(token);
    if new.iter().all(|form| kept.contains(form)) || kept.len() > TOKENS_MAX * 32 {
        return;
    }
    kept.extend(new);
    kept.sort_by_key(|form| std::cmp::Reverse(form.len()));
    kept.dedup();
}

/// `text` with every form of the registered tokens replaced by [`MARK`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let kept = FORMS.read().unwrap_or_else(|p| p.into_inner());
    match redact_with(&kept, text) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(cut) => Cow::Owned(cut),
    }
}

fn redact_with<'a>(forms: &[String], text: &'a str) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for form in forms {
        if out.contains(form.as_str()) {
            out = Cow::Owned(out.replace(form.as_str(), MARK));
        }
    }
    out
}

/// Characters a URL's path leaves as they are beside letters and digits (RFC 3986's unreserved
/// and the sub-delimiters and `:`/`@` a path segment may hold).
const PATH_KEEPS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=');

/// Only what a URL may not hold at all is escaped (the WHATWG path set): how a URL parser
/// writes a path it was given raw.
const PATH_ESCAPES: &AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// The ways `token` may be written: as it is, percent-encoded (every byte but letters and
/// digits, a path segment's way, a parser's way, in upper and lower case hex), and escaped as
/// JSON and `Debug` write strings (once and twice); the same for the part after the bot's id,
/// when that is long enough to be a secret of its own. Longest first, so that a longer form is
/// cut whole before a shorter one inside it.
fn forms(token: &str) -> Vec<String> {
    let token = token.trim();
    let mut parts = vec![token];
    if let Some((_, secret)) = token.split_once(':')
        && secret.chars().count() >= 16
    {
        parts.push(secret);
    }
    let mut forms = Vec::new();
    for part in parts {
        let encoded = [
            utf8_percent_encode(part, NON_ALPHANUMERIC).to_string(),
            utf8_percent_encode(part, PATH_KEEPS).to_string(),
            utf8_percent_encode(part, PATH_ESCAPES).to_string(),
        ];
        for form in encoded {
            forms.push(lower_hex(&form));
            forms.push(form);
        }
        let json = escaped_json(part);
        let debug = escaped_debug(part);
        forms.push(escaped_json(&json));
        forms.push(escaped_debug(&debug));
        forms.push(escaped_json(&debug));
        forms.push(json);
        forms.push(debug);
        forms.push(part.to_owned());
    }
    forms.retain(|form| !form.is_empty());
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    forms.dedup();
    forms
}

fn escaped_json(text: &str) -> String {
    unquoted(serde_json::to_string(text).unwrap_or_default())
}

fn escaped_debug(text: &str) -> String {
    unquoted(format!("{text:?}"))
}

/// A quoted string's inside.
fn unquoted(quoted: String) -> String {
    match quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
        Some(inside) => inside.to_owned(),
        None => quoted,
    }
}

/// `%C3%A9` as `%c3%a9`: a percent-encoding's hex digits in lower case.
fn lower_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut left = 0;
    for c in encoded.chars() {
        if c == '%' {
            left = 2;
            out.push(c);
        } else if left > 0 {
            left -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const PLAIN: &str = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
    const ODD: &str = "123:ab\"c\\d%e f/é<x>yz-0123456789";

    fn cut(token: &str, text: &str) -> String {
        redact_with(&forms(token), text).into_owned()
    }

    #[rstest]
    #[case::as_it_is(PLAIN, "oops /bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/GetUpdates")]
    #[case::secret_alone(PLAIN, "token AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw refused")]
    #[case::every_byte_escaped(
        ODD,
        "/bot123:ab%22c%5Cd%25e%20f%2F%C3%A9%3Cx%3Eyz%2D0123456789/SetMyCommands"
    )]
    #[case::lower_case_hex(ODD, "/bot123:ab%22c%5cd%25e%20f%2f%c3%a9%3cx%3eyz-0123456789/x")]
    #[case::as_a_parser_writes_it(ODD, "/bot123:ab%22c\\d%e%20f/%C3%A9%3Cx%3Eyz-0123456789/x")]
    #[case::json(ODD, r#"{"error":"raw: 123:ab\"c\\d%e f/é<x>yz-0123456789"}"#)]
    #[case::json_of_debug(ODD, r#"{"error":"raw: \"123:ab\\\"c\\\\d%e f/é<x>yz-0123456789\""}"#)]
    fn every_form_of_the_token_is_cut(#[case] token: &str, #[case] text: &str) {
        let out = cut(token, text);
        assert!(out.contains(MARK), "{out}");
        for secret in ["AAHdqTcvCH1vGWJx", "0123456789"] {
            assert!(!out.contains(secret), "{secret} left in {out}");
        }
    }

    #[test]
    fn other_text_is_left_alone() {
        let text = "sendMessage failed: Bad Request: chat not found (chat 123)";
        assert!(matches!(redact_with(&forms(PLAIN), text), Cow::Borrowed(_)));
        // A short secret part is not a secret of its own: "123:ab" cuts only the whole token.
        assert_eq!(cut("123:ab", "ab and 123:ab"), "ab and <token>");
    }
}
