//! Dates as upstream feeds write them. RFC 822/2822 (RSS) and RFC 3339 (Atom, JSON Feed) are the
//! rule, but real feeds write many variants: "Sat, Dec 16 2023 02:02:33 PM", offsets written
//! "+00:0" or "+5:30", zone names ("EST"), a space for the `T`, no seconds, no zone. Each is read
//! here; what is still not a date is handed to [`crate::dates::parse_date`], the list pages'
//! reader. A date without a zone stays zone-less (the source's `timezone` applies to it).

use crate::dates::{ParsedDate, is_plausible, parse_date, read_at_clock_edges};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// Reads one date element's text. `None` when it holds no date, or one no release carries
/// ([`crate::dates::is_plausible`]: "Thu, 01 Jan 1970", a year 26): such an entry is undated,
/// and takes its neighbour's date as an undated entry does, rather than being dated when first
/// seen (which put it at the top of the feed, and made a first poll's backfill post it).
pub fn feed_date(raw: &str) -> Option<ParsedDate> {
    read_at_clock_edges(raw, read_date).filter(|date| is_plausible(*date))
}

fn read_date(raw: &str) -> Option<ParsedDate> {
    let text = crate::text::collapse_whitespace(raw);
    if text.is_empty() {
        return None;
    }
    let text = four_digit_year(&text);
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

/// An RFC 822 or RFC 850 date written with a two-digit year ("Sat, 21 Mar 26 10:00:00 MSK",
/// "Saturday, 21-Mar-26 10:00:00 GMT", "21 Mar 26") with its year written in full, as RFC 2822
/// (section 4.3) reads it: 2000 added to a year below 50, else 1900. The shapes below, and the
/// list pages' reader a date of a zone they do not know falls to, would read "26" as a year 26
/// or as the day.
fn four_digit_year(text: &str) -> Cow<'_, str> {
    static SHORT_YEAR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)^((?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?)([0-9]{1,2})[\s-]+((?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?)[\s-]+([0-9]{2})(\s|,|$)",
        )
        .expect("a valid regex")
    });
    SHORT_YEAR.replace(text, |c: &regex::Captures<'_>| {
        let short: i32 = c[4].parse().unwrap_or(0);
        let year = short + if short < 50 { 2000 } else { 1900 };
        format!("{}{} {} {year}{}", &c[1], &c[2], &c[3], &c[5])
    })
}

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
    // Two-digit years (RFC 2822 section 4.3), with a zone the shapes do not know.
    #[case::short_year_msk("Sat, 21 Mar 26 10:00:00 MSK", "2026-03-21T10:00:00+03:00")]
    #[case::short_year_almt("Fri, 05 Dec 25 10:00 ALMT", "2025-12-05T10:00:00+05:00")]
    #[case::short_year_cet("Sat, 21 Mar 26 10:00:00 CET", "2026-03-21T10:00:00+01:00")]
    #[case::short_year_gmt("Sat, 21 Mar 26 10:00 GMT", "2026-03-21T10:00:00+00:00")]
    #[case::short_year_no_zone("21 Mar 26 10:00:00", "2026-03-21T10:00:00")]
    #[case::short_year_day("21 Mar 26", "2026-03-21")]
    #[case::short_year_weekday_day("Sat, 21 Mar 26", "2026-03-21")]
    #[case::rfc850("Saturday, 21-Mar-26 10:00:00 GMT", "2026-03-21T10:00:00+00:00")]
    #[case::rfc850_no_weekday("21-Mar-26 10:00:00 GMT", "2026-03-21T10:00:00+00:00")]
    #[case::last_century("Sun, 21 Mar 99 10:00:00 +0000", "1999-03-21T10:00:00+00:00")]
    #[case::comment_zone("Mon, 02 Mar 26 09:00:00 +0500 (ALMT)", "2026-03-02T09:00:00+05:00")]
    // 24:00 ends its day: the next day's 00:00 (ISO 8601, RFC 3339 section 5.7).
    #[case::day_end_rfc822("Mon, 02 Mar 2026 24:00:00 GMT", "2026-03-03T00:00:00+00:00")]
    #[case::day_end_rfc3339("2026-03-02T24:00:00Z", "2026-03-03T00:00:00+00:00")]
    #[case::day_end_fraction("2026-03-31T24:00:00.000+05:00", "2026-04-01T00:00:00+05:00")]
    #[case::day_end_no_seconds("2026-03-02 24:00", "2026-03-03T00:00:00")]
    // A leap second is the last second of its minute, never written back out as :60.
    #[case::leap_second_rfc3339("2025-12-31T23:59:60Z", "2025-12-31T23:59:59+00:00")]
    #[case::leap_second_rfc822("Wed, 31 Dec 2025 23:59:60 GMT", "2025-12-31T23:59:59+00:00")]
    #[case::leap_second_any_day("2026-03-05T12:00:60.5+01:00", "2026-03-05T12:00:59.500+01:00")]
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
    #[case::past_day_end("Mon, 02 Mar 2026 24:00:01 GMT")]
    #[case::past_day_end_minutes("2026-03-02T24:30Z")]
    fn no_date_is_none(#[case] raw: &str) {
        assert_eq!(feed_date(raw), None);
    }
}
