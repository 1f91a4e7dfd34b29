//! Judgements about a source's health that need more than one poll: staleness (the newest
//! release is far older than the source's usual rhythm).

use chrono::{DateTime, Duration, Utc};

/// A source is never called stale before this much silence, however busy it usually is.
const MIN_SILENCE: Duration = Duration::days(2);
/// Silence counts as unusual at this many times the usual gap between releases.
const FACTOR: i32 = 10;

/// True when the newest release (`published`, newest first) is far older than the usual gap
/// between the source's releases: the median of the gaps among the newest ones, times ten, and
/// at least two days. Fewer than five releases say nothing about a rhythm.
pub fn is_stale(published: &[DateTime<Utc>], now: DateTime<Utc>) -> bool {
    if published.len() < 5 {
        return false;
    }
    let mut gaps: Vec<Duration> = published
        .windows(2)
        .map(|w| (w[0] - w[1]).max(Duration::zero()))
        .collect();
    gaps.sort_unstable();
    let median = gaps[gaps.len() / 2];
    let silence = now - published[0];
    silence > (median * FACTOR).max(MIN_SILENCE)
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
        assert_eq!(is_stale(&published, Utc::now()), stale);
    }

    #[test]
    fn a_busy_source_gets_two_days_at_least() {
        let now = Utc::now();
        // Hourly releases, newest 30 hours ago: more than ten gaps, less than two days.
        let hourly: Vec<_> = (0..20).map(|i| now - Duration::hours(30 + i)).collect();
        assert!(!is_stale(&hourly, now));
    }
}
