//! Relative dates as news sites print them for recent releases: "today", "yesterday, 14:30",
//! "3 hours ago", in English, Russian and Kazakh ("сегодня", "вчера", "2 часа назад"; "бүгін",
//! "кеше", "2 сағат бұрын"). They only make sense against the moment of reading, so they are
//! read separately from `dates::parse_date`.

use crate::dates::{ParsedDate, on_day_at_written_time};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use regex::Regex;
use std::sync::LazyLock;

/// "3 hours ago", "час назад", "an hour ago", "2 ч. назад", "5m ago", "1 week ago",
/// "2 апта бұрын". A unit with no number means one; [`unit_span`] says how long each unit is.
static AGO: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::unwrap_used, reason = "a constant, valid pattern")]
    Regex::new(concat!(
        r"(?i)(?:\b(?P<n>[0-9]{1,4}|an?|one|одн[уа]|один|бір)\s*|\b)",
        r"(?P<unit>",
        r"seconds?|secs?|s|секунд[уы]?|сек",
        r"|minutes?|mins?|m|минут[уыа]?|мин",
        r"|полчаса|hours?|hrs?|hr|h|час(?:а|ов)?|ч|сағат|сағ",
        r"|days?|d|день|дня|дней|дн|сутки|суток|күн",
        r"|weeks?|wks?|wk|w|недел[юиья]|недель|нед|апта",
        r"|months?|mos?|месяц(?:а|ев)?|мес|ай",
        r"|years?|yrs?|yr|год(?:а)?|лет|жыл",
        r")(?:\.\s*|\s+)(?:ago|назад|бұрын)\b",
    ))
    .unwrap()
});

/// How long one `unit` of [`AGO`] is (lower-cased). A month is 30 days, a year 365.
fn unit_span(unit: &str) -> Duration {
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| unit.starts_with(p));
    if unit == "полчаса" {
        Duration::minutes(30)
    } else if unit == "s" || starts(&["sec", "сек"]) {
        Duration::seconds(1)
    } else if unit == "m" || starts(&["min", "мин"]) {
        Duration::minutes(1)
    } else if starts(&["h", "час", "ч", "сағ"]) {
        Duration::hours(1)
    } else if starts(&["w", "нед", "апта"]) {
        Duration::weeks(1)
    } else if starts(&["mo", "мес", "ай"]) {
        Duration::days(30)
    } else if starts(&["y", "год", "лет", "жыл"]) {
        Duration::days(365)
    } else {
        Duration::days(1)
    }
}

/// Words naming a day relative to today, whole words only: "позавчера" is not "вчера".
/// Kazakh "бүрсігүні" is left out: it is the day after tomorrow.
const DAYS_BACK: [(&[&str], i64); 9] = [
    (&["day", "before", "yesterday"], 2),
    (&["позавчера"], 2),
    (&["алдыңғы", "күні"], 2),
    (&["yesterday"], 1),
    (&["вчера"], 1),
    (&["кеше"], 1),
    (&["today"], 0),
    (&["сегодня"], 0),
    (&["бүгін"], 0),
];
const JUST_NOW: [&[&str]; 3] = [&["just", "now"], &["только", "что"], &["жаңа", "ғана"]];

/// Reads a relative date against `now`, in zone `tz`. `None` when the text holds none.
/// A time written with a day word ("yesterday at 3:15 PM", "вчера в 23:30 МСК") is read as the
/// dates of `dates::parse_date` are: AM/PM, seconds, a zone.
pub fn parse_relative(text: &str, now: DateTime<Utc>, tz: Tz) -> Option<ParsedDate> {
    let lower = text.to_lowercase();
    if let Some(c) = AGO.captures(&lower) {
        let n: i64 = match c.name("n").map(|n| n.as_str()) {
            Some(digits) if digits.starts_with(|c: char| c.is_ascii_digit()) => {
                digits.parse().ok()?
            }
            _ => 1,
        };
        let span = unit_span(&c["unit"]).checked_mul(i32::try_from(n).ok()?)?;
        let at = now.checked_sub_signed(span)?;
        return Some(ParsedDate::Absolute(at.fixed_offset()));
    }
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |phrase: &[&str]| words.windows(phrase.len()).any(|w| w == phrase);
    if JUST_NOW.iter().any(|phrase| has(phrase)) {
        return Some(ParsedDate::Absolute(now.fixed_offset()));
    }
    let back = DAYS_BACK
        .iter()
        .find(|(phrase, _)| has(phrase))
        .map(|(_, back)| *back)?;
    let today = now.with_timezone(&tz).date_naive();
    let day = today.checked_sub_signed(Duration::days(back))?;
    Some(on_day_at_written_time(day, text))
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

    fn at(d: u32, h: u32, mi: u32) -> ParsedDate {
        ParsedDate::Local(
            NaiveDate::from_ymd_opt(2026, 3, d)
                .unwrap()
                .and_hms_opt(h, mi, 0)
                .unwrap(),
        )
    }

    #[rstest]
    #[case::en_pm("yesterday at 3:15 PM", at(20, 15, 15))]
    #[case::en_am("Today, 1:05 AM", at(21, 1, 5))]
    #[case::ru_pm("Вчера в 11:30 PM", at(20, 23, 30))]
    #[case::noon("today 12:10 pm", at(21, 12, 10))]
    #[case::midnight("today 12:10 am", at(21, 0, 10))]
    #[case::dotted("yesterday, 4:00 p.m.", at(20, 16, 0))]
    #[case::narrow_space("yesterday at 3:15\u{202f}PM", at(20, 15, 15))]
    #[case::twenty_four_hours("вчера, 23:50", at(20, 23, 50))]
    #[case::with_zone(
        "вчера в 14:30 МСК",
        ParsedDate::Absolute(
            DateTime::parse_from_rfc3339("2026-03-20T14:30:00+03:00").unwrap()
        )
    )]
    fn the_time_after_a_day_word_is_read_as_dates_read_it(
        #[case] text: &str,
        #[case] expected: ParsedDate,
    ) {
        assert_eq!(
            parse_relative(text, now(), chrono_tz::Asia::Almaty),
            Some(expected)
        );
    }

    #[rstest]
    #[case::ru("позавчера", Some(day(19)))]
    #[case::ru_capitalised_with_time("Позавчера, 10:00", Some(at(19, 10, 0)))]
    #[case::en("day before yesterday", Some(day(19)))]
    #[case::en_the("The day before yesterday at 9:00", Some(at(19, 9, 0)))]
    #[case::kk("алдыңғы күні", Some(day(19)))]
    #[case::en_yesterday_still("yesterday", Some(day(20)))]
    #[case::word_inside_another("вчерашний", None)]
    #[case::today_inside_another("todays", None)]
    #[case::kazakh_day_after_tomorrow("бүрсігүні", None)]
    fn days_are_whole_words(#[case] text: &str, #[case] expected: Option<ParsedDate>) {
        assert_eq!(
            parse_relative(text, now(), chrono_tz::Asia::Almaty),
            expected
        );
    }

    #[rstest]
    #[case::ru_hour("час назад", 60)]
    #[case::en_an_hour("an hour ago", 60)]
    #[case::en_a_minute("a minute ago", 1)]
    #[case::ru_minute("минуту назад", 1)]
    #[case::ru_one_minute("одну минуту назад", 1)]
    #[case::ru_half_hour("полчаса назад", 30)]
    #[case::ru_h_abbreviated("2 ч. назад", 120)]
    #[case::ru_min_abbreviated("5 мин. назад", 5)]
    #[case::ru_sec_abbreviated("30 сек. назад", 0)]
    #[case::ru_days_abbreviated("3 дн. назад", 3 * 24 * 60)]
    #[case::ru_weeks_abbreviated("2 нед. назад", 14 * 24 * 60)]
    #[case::ru_weeks("2 недели назад", 14 * 24 * 60)]
    #[case::ru_week("неделю назад", 7 * 24 * 60)]
    #[case::en_week("1 week ago", 7 * 24 * 60)]
    #[case::en_weeks("3 weeks ago", 21 * 24 * 60)]
    #[case::en_h("2h ago", 120)]
    #[case::en_min("5 min ago", 5)]
    #[case::en_m("5m ago", 5)]
    #[case::en_d("3d ago", 3 * 24 * 60)]
    #[case::kk_hour("сағат бұрын", 60)]
    #[case::kk_week("апта бұрын", 7 * 24 * 60)]
    #[case::kk_weeks("2 апта бұрын", 14 * 24 * 60)]
    #[case::kk_minutes("10 минут бұрын", 10)]
    #[case::kk_sag_abbreviated("3 сағ. бұрын", 180)]
    #[case::en_month("a month ago", 30 * 24 * 60)]
    fn spans_ago(#[case] text: &str, #[case] minutes: i64) {
        let got = parse_relative(text, now(), chrono_tz::Asia::Almaty);
        let Some(ParsedDate::Absolute(t)) = got else {
            panic!("{text}: {got:?}");
        };
        let back = now() - t.with_timezone(&Utc);
        assert_eq!(back.num_minutes(), minutes, "{text}");
    }

    #[rstest]
    #[case::en("just now")]
    #[case::ru("только что")]
    #[case::kk("жаңа ғана")]
    fn just_now_is_now(#[case] text: &str) {
        assert_eq!(
            parse_relative(text, now(), chrono_tz::Asia::Almaty),
            Some(ParsedDate::Absolute(now().fixed_offset()))
        );
    }

    #[rstest]
    #[case::chicago("Chicago 5 days")]
    #[case::no_ago_word("5 hours")]
    #[case::unit_inside_word("the sago ago")]
    fn not_relative(#[case] text: &str) {
        assert_eq!(parse_relative(text, now(), chrono_tz::Asia::Almaty), None);
    }
}
