//! Judgements about a source's health that need more than one poll: staleness (the newest
//! release is far older than the source's usual rhythm).

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// A source is never called stale before this much silence, however busy it usually is.
const MIN_SILENCE: Duration = Duration::days(2);
/// Silence counts as unusual at this many times the usual gap between releases.
const FACTOR: i32 = 10;
/// Releases closer together than this are one moment of publishing: a site that prints dates
/// without a time gives a day's releases one time (its midnight, or when herald first saw them).
const SAME_MOMENT: Duration = Duration::minutes(1);
/// Fewer moments of publishing than this say nothing about a rhythm (for a site without times,
/// fewer days with releases).
const MIN_MOMENTS: usize = 5;

/// True when the newest release (`published`) is far older than the usual gap between the
/// source's moments of publishing: the median of the gaps among the newest ones, times ten, and
/// at least two days. Releases of one moment count once, so that ten releases of a site without
/// times, stored by its first poll, make no gap of zero (which left the two-day floor to decide
/// alone); fewer than five moments are not enough history to judge.
///
/// A source none of whose recent releases fell on a Saturday or Sunday (in its zone `tz`)
/// publishes on weekdays: its weekends are not silence. Without that, a site printing dates only,
/// whose releases are first seen at 10:00 and 15:00 each weekday (a median gap of 5 hours), was
/// called stale every Sunday afternoon.
pub fn is_stale(published: &[DateTime<Utc>], now: DateTime<Utc>, tz: Tz) -> bool {
    let mut newest_first = published.to_vec();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    let mut moments: Vec<DateTime<Utc>> = Vec::with_capacity(newest_first.len());
    for time in newest_first {
        if moments
            .last()
            .is_none_or(|&later| later - time >= SAME_MOMENT)
        {
            moments.push(time);
        }
    }
    if moments.len() < MIN_MOMENTS {
        return false;
    }
    let mut gaps: Vec<Duration> = moments.windows(2).map(|w| w[0] - w[1]).collect();
    gaps.sort_unstable();
    let median = gaps[gaps.len() / 2];
    let mut silence = now - moments[0];
    if !moments
        .iter()
        .any(|t| is_weekend(t.with_timezone(&tz).date_naive()))
    {
        silence -= weekend_time(moments[0], now, tz);
    }
    silence > (median * FACTOR).max(MIN_SILENCE)
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// How much of the time from `from` to `to` falls on a Saturday or Sunday in `tz`.
fn weekend_time(from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> Duration {
    // The instant a local day starts (after a gap at midnight, when the clocks resume).
    let start = |day: NaiveDate| {
        (0..3)
            .find_map(|hour| {
                tz.from_local_datetime(&day.and_hms_opt(hour, 0, 0)?)
                    .earliest()
            })
            .map_or(to, |t| t.with_timezone(&Utc))
    };
    let mut total = Duration::zero();
    let mut day = from.with_timezone(&tz).date_naive();
    while let Some(next) = day.succ_opt() {
        if start(day) >= to {
            break;
        }
        if is_weekend(day) {
            let (a, b) = (start(day).max(from), start(next).min(to));
            if b > a {
                total += b - a;
            }
        }
        day = next;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn daily(n: i64, newest_days_ago: i64) -> Vec<DateTime<Utc>> {
        let now = Utc::now();
        (0..n)
            .map(|i| now - Duration::days(newest_days_ago + i))
            .collect()
    }

    #[rstest]
    #[case::daily_source_quiet_for_a_day(daily(20, 1), false)]
    #[case::daily_source_quiet_for_nine_days(daily(20, 9), false)]
    #[case::daily_source_quiet_for_eleven_days(daily(20, 11), true)]
    #[case::too_few_releases_to_judge(daily(4, 100), false)]
    fn staleness(#[case] published: Vec<DateTime<Utc>>, #[case] stale: bool) {
        assert_eq!(is_stale(&published, Utc::now(), chrono_tz::UTC), stale);
    }

    /// A site without times: ten releases stored by the first poll, a few a day over three
    /// days, the newest 52 hours old. Three days are not enough history.
    #[test]
    fn a_few_days_of_date_only_releases_are_not_a_rhythm() {
        let now = Utc::now();
        let midnight = |days_ago: i64| now - Duration::hours(52 + 24 * days_ago);
        let published: Vec<_> = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
            .into_iter()
            .map(midnight)
            .collect();
        assert!(!is_stale(&published, now, chrono_tz::UTC));
    }

    /// A site without times, two releases a day for six days: its rhythm is a day, not zero,
    /// so 52 hours of silence is not stale, and 11 days are.
    #[test]
    fn date_only_releases_count_by_day() {
        let now = Utc::now();
        let published: Vec<_> = (0..12)
            .map(|i| now - Duration::hours(52 + 24 * (i / 2)))
            .collect();
        assert!(!is_stale(&published, now, chrono_tz::UTC));
        assert!(is_stale(
            &published,
            now + Duration::days(9),
            chrono_tz::UTC
        ));
    }

    /// A site without times publishing on weekdays, its releases first seen at 10:00 and 15:00
    /// (a median gap of 5 hours): a weekend is not silence (Friday 15:00 to Sunday 17:01 was
    /// stale each week); a silent week still is.
    #[test]
    fn a_weekday_publisher_is_not_stale_over_a_weekend() {
        let tz = chrono_tz::Europe::Berlin;
        let at = |day: u32, hour: u32, minute: u32| {
            tz.with_ymd_and_hms(2026, 11, day, hour, minute, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        // Monday 23 to Friday 27 November 2026.
        let published: Vec<_> = (23..=27)
            .flat_map(|day| [at(day, 10, 0), at(day, 15, 0)])
            .collect();
        assert!(!is_stale(&published, at(29, 17, 1), tz), "Sunday");
        assert!(!is_stale(&published, at(30, 9, 0), tz), "Monday morning");
        let a_week_later = at(27, 23, 0) + Duration::days(7);
        assert!(is_stale(&published, a_week_later, tz), "a week later");
    }

    #[test]
    fn a_busy_source_gets_two_days_at_least() {
        let now = Utc::now();
        // Hourly releases, newest 30 hours ago: more than ten gaps, less than two days.
        let hourly: Vec<_> = (0..20).map(|i| now - Duration::hours(30 + i)).collect();
        assert!(!is_stale(&hourly, now, chrono_tz::UTC));
    }
}
