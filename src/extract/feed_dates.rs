//! Dates as upstream feeds write them. RFC 822/2822 (RSS) and RFC 3339 (Atom, JSON Feed) are the
//! rule, but real feeds write many variants: "Sat, Dec 16 2023 02:02:33 PM", offsets written
//! "+00:0" or "+5:30", zone names ("EST"), a space for the `T`, no seconds, no zone. Each is read
//! here; what is still not a date is handed to [`crate::dates::parse_date`], the list pages'
//! reader. A date without a zone stays zone-less (the source's `timezone` applies to it).

use crate::dates::{ParsedDate, parse_date};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use regex::Regex;
use std::sync::LazyLock;

/// Reads one date element's text. `None` when it holds no date.
pub fn feed_date(raw: &str) -> Option<ParsedDate> {
    let text = crate::text::collapse_whitespace(raw);
    if text.is_empty() {
        return None;
    }
    if let Ok(t) =
        DateTime::parse_from_rfc3339(&text).or_else(|_| DateTime::parse_from_rfc2822(&text))
    {
        return Some(ParsedDate::Absolute(t));
    }
    let (rest, offset) = split_zone(&text);
    let rest = without_weekday(rest);
    if let Some(local) = DATE_TIMES
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(rest, f).ok())
    {
        return Some(match offset {
            Some(offset) => ParsedDate::Absolute(local.and_local_timezone(offset).single()?),
            None => ParsedDate::Local(local),
        });
    }
    if let Some(day) = DATES
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(rest, f).ok())
    {
        return Some(ParsedDate::Day(day));
    }
    parse_date(&text, None)
}

/// Date-and-time shapes, tried on the text without its weekday and zone. `%b` also reads full
/// month names, `%d` and `%H` one digit.
const DATE_TIMES: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    // ISO 8601's basic format: "20231216T140233", "20231216T1402".
    "%Y%m%dT%H%M%S%.f",
    "%Y%m%dT%H%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d %b %Y %H:%M:%S%.f",
    "%d %b %Y %H:%M",
    "%d %b %y %H:%M:%S",
    "%d %b %y %H:%M",
    "%d-%b-%Y %H:%M:%S",
    "%b %d %Y %I:%M:%S %p",
    "%b %d %Y %I:%M %p",
    "%b %d, %Y %I:%M:%S %p",
    "%b %d, %Y %I:%M %p",
    "%d %b %Y %I:%M:%S %p",
    "%d %b %Y %I:%M %p",
    "%b %d %Y %H:%M:%S",
    "%b %d, %Y %H:%M:%S",
    "%b %d %Y %H:%M",
    "%b %d, %Y %H:%M",
    // asctime: "Dec 16 14:02:33 2023" (its weekday already dropped)
    "%b %d %H:%M:%S %Y",
];

const DATES: &[&str] = &["%Y-%m-%d", "%d %b %Y", "%b %d, %Y", "%b %d %Y", "%Y/%m/%d"];

/// Splits a trailing zone off: a numeric offset in any of its loose spellings ("+00:0",
/// "+5:30", "-0800", "+03"), `Z`, or a zone name RFC 822 knows.
fn split_zone(text: &str) -> (&str, Option<FixedOffset>) {
    static NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:\s*(?:GMT|UTC|UT))?\s*([+-])([0-9]{1,2})(?::?([0-9]{1,2}))?$").unwrap()
    });
    static BASIC: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[0-9]{8}T[0-9]{4}").unwrap());
    static NAMED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\s*\b(Z|GMT|UTC|UT|[ECMP][SD]T)$|(?:[0-9])(Z)$").unwrap()
    });
    if let Some((c, whole)) = NUMERIC.captures(text).and_then(|c| {
        let whole = c.get(0)?;
        Some((c, whole))
    }) {
        let before = &text[..whole.start()];
        // A date's own dashes ("2023-12-16") are no offset: an offset follows a time (in ISO
        // 8601's basic format too: "20231216T140233+0100").
        if before.ends_with(|ch: char| ch.is_ascii_digit())
            && (before.contains(':') || BASIC.is_match(before))
        {
            let hours: i32 = c[2].parse().unwrap_or(0);
            let minutes: i32 = c
                .get(3)
                .map_or(Some(0), |m| m.as_str().parse().ok())
                .unwrap_or(0);
            let seconds = (hours * 60 + minutes) * 60 * if &c[1] == "-" { -1 } else { 1 };
            if let Some(offset) = FixedOffset::east_opt(seconds) {
                return (before.trim_end(), Some(offset));
            }
        }
    }
    if let Some(c) = NAMED.captures(text) {
        let name = c.get(1).or(c.get(2)).map_or("", |m| m.as_str());
        let hours = match name.to_ascii_uppercase().as_str() {
            "EDT" => -4,
            "EST" | "CDT" => -5,
            "CST" | "MDT" => -6,
            "MST" | "PDT" => -7,
            "PST" => -8,
            _ => 0,
        };
        let cut = c.get(1).map_or_else(|| text.len() - 1, |m| m.start());
        return (text[..cut].trim_end(), FixedOffset::east_opt(hours * 3600));
    }
    (text, None)
}

/// "Sat, 16 Dec 2023" or "Saturday 16 Dec 2023" without the weekday, which the date already
/// fixes (and which is often wrong).
fn without_weekday(text: &str) -> &str {
    static WEEKDAY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)^(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+").unwrap());
    WEEKDAY.find(text).map_or(text, |m| &text[m.end()..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::rfc822("Sat, 16 Dec 2023 14:02:33 +0000", "2023-12-16T14:02:33+00:00")]
    #[case::month_first_with_pm("Sat, Dec 16 2023 02:02:33 PM", "2023-12-16T14:02:33")]
    #[case::short_offset("2023-12-16T14:02:33+00:0", "2023-12-16T14:02:33+00:00")]
    #[case::one_digit_hour_offset("2023-12-16 14:02:33 +5:30", "2023-12-16T14:02:33+05:30")]
    #[case::zone_name("Sat, 16 Dec 2023 09:02:33 EST", "2023-12-16T09:02:33-05:00")]
    #[case::gmt_offset("16 Dec 2023 14:02 GMT+0300", "2023-12-16T14:02:00+03:00")]
    #[case::no_seconds_z("2023-12-16T14:02Z", "2023-12-16T14:02:00+00:00")]
    #[case::full_weekday(
        "Saturday, 16 December 2023 14:02:33 +0000",
        "2023-12-16T14:02:33+00:00"
    )]
    #[case::asctime("Sat Dec 16 14:02:33 2023", "2023-12-16T14:02:33")]
    #[case::date_only("2023-12-16", "2023-12-16")]
    #[case::basic_iso_z("20231216T140233Z", "2023-12-16T14:02:33+00:00")]
    #[case::basic_iso_offset("20231216T140233+0100", "2023-12-16T14:02:33+01:00")]
    #[case::basic_iso_no_seconds("20231216T1402Z", "2023-12-16T14:02:00+00:00")]
    #[case::basic_iso_fraction("20231216T140233.5-05:00", "2023-12-16T14:02:33.500-05:00")]
    #[case::basic_iso_local("20231216T140233", "2023-12-16T14:02:33")]
    #[case::space_for_t("2023-12-16 14:02:33", "2023-12-16T14:02:33")]
    fn reads_the_variants_feeds_write(#[case] raw: &str, #[case] expected: &str) {
        let got = match feed_date(raw) {
            Some(ParsedDate::Absolute(t)) => t.to_rfc3339(),
            Some(ParsedDate::Local(t)) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
            Some(ParsedDate::Day(d)) => d.to_string(),
            None => "none".into(),
        };
        assert_eq!(got, expected, "{raw}");
    }

    #[rstest]
    #[case("")]
    #[case("soon")]
    #[case("+00:0")]
    fn no_date_is_none(#[case] raw: &str) {
        assert_eq!(feed_date(raw), None);
    }
}
