//! Relative dates as news sites print them for recent releases: "today", "yesterday, 14:30",
//! "3 hours ago", in English, Russian and Kazakh ("сегодня", "вчера", "2 часа назад"; "бүгін",
//! "кеше", "2 сағат бұрын"). They only make sense against the moment of reading, so they are
//! read separately from `dates::parse_date`.

use crate::dates::ParsedDate;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;
use regex::Regex;
use std::sync::LazyLock;

static AGO: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new(
        r"(?i)(\d{1,4})\s*(minutes?|mins?|hours?|hrs?|days?|минут[уы]?|мин\.?|час(?:а|ов)?|дн(?:я|ей)|день|минут|сағат|күн)\s*(ago|назад|бұрын)",
    )
    .unwrap()
});

static TIME: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new(r"\b([01]?\d|2[0-3]):([0-5]\d)\b").unwrap()
});

/// Reads a relative date against `now`, in zone `tz`. `None` when the text holds none.
pub fn parse_relative(text: &str, now: DateTime<Utc>, tz: Tz) -> Option<ParsedDate> {
    let lower = text.to_lowercase();
    if let Some(c) = AGO.captures(&lower) {
        let n: i64 = c[1].parse().ok()?;
        let unit = &c[2];
        let span = if unit.starts_with("мин") || unit.starts_with("min") {
            Duration::minutes(n)
        } else if unit.starts_with('h') || unit.starts_with("час") || unit.starts_with("сағат")
        {
            Duration::hours(n)
        } else {
            Duration::days(n)
        };
        return Some(ParsedDate::Absolute((now - span).fixed_offset()));
    }
    let today = now.with_timezone(&tz).date_naive();
    let day = if ["today", "сегодня", "бүгін"]
        .iter()
        .any(|w| lower.contains(w))
    {
        today
    } else if ["yesterday", "вчера", "кеше"]
        .iter()
        .any(|w| lower.contains(w))
    {
        today.pred_opt()?
    } else {
        return None;
    };
    match TIME.captures(&lower) {
        Some(c) => {
            let time = NaiveTime::from_hms_opt(c[1].parse().ok()?, c[2].parse().ok()?, 0)?;
            Some(ParsedDate::Local(day.and_time(time)))
        }
        None => Some(ParsedDate::Day(day)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use rstest::rstest;

    fn now() -> DateTime<Utc> {
        // 2026-03-21 10:00 in Almaty (UTC+5).
        DateTime::parse_from_rfc3339("2026-03-21T05:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn day(d: u32) -> ParsedDate {
        ParsedDate::Day(NaiveDate::from_ymd_opt(2026, 3, d).unwrap())
    }

    fn ago(minutes: i64) -> ParsedDate {
        ParsedDate::Absolute((now() - Duration::minutes(minutes)).fixed_offset())
    }

    #[rstest]
    #[case::en_today("Today", Some(day(21)))]
    #[case::en_yesterday("yesterday", Some(day(20)))]
    #[case::en_hours_ago("3 hours ago", Some(ago(180)))]
    #[case::en_minutes_ago("Published 15 minutes ago", Some(ago(15)))]
    #[case::ru_today_with_time("Сегодня, 14:30", Some(ParsedDate::Local(NaiveDate::from_ymd_opt(2026, 3, 21).unwrap().and_hms_opt(14, 30, 0).unwrap())))]
    #[case::ru_yesterday("вчера", Some(day(20)))]
    #[case::ru_hours_ago("2 часа назад", Some(ago(120)))]
    #[case::ru_days_ago("5 дней назад", Some(ago(5 * 24 * 60)))]
    #[case::kk_today("Бүгін", Some(day(21)))]
    #[case::kk_yesterday("кеше, 09:05", Some(ParsedDate::Local(NaiveDate::from_ymd_opt(2026, 3, 20).unwrap().and_hms_opt(9, 5, 0).unwrap())))]
    #[case::kk_hours_ago("4 сағат бұрын", Some(ago(240)))]
    #[case::kk_days_ago("2 күн бұрын", Some(ago(2 * 24 * 60)))]
    #[case::absolute_is_not_relative("21 March 2026", None)]
    fn relative_dates(#[case] text: &str, #[case] expected: Option<ParsedDate>) {
        assert_eq!(
            parse_relative(text, now(), chrono_tz::Asia::Almaty),
            expected
        );
    }
}
