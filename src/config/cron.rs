//! A source's `schedule`: a cron with seconds, checked for steps that croner would take in a
//! surprising way and for instants that never (or hardly ever) come.

use crate::schedule::Schedule;
use chrono_tz::Tz;

impl Schedule {
    /// Parses a cron expression whose first field is seconds (6 fields, or 7 with a year).
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        use croner::parser::{CronParser, Seconds, Year};
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if fields.is_empty() {
            return Err(
                "schedule is empty: write a cron with seconds, e.g. `0 */10 * * * *`".into(),
            );
        }
        // A 5-field cron is the classic crontab shape; croner would read it with seconds = 0
        // silently, or reject it vaguely, so say exactly what to write instead.
        if fields.len() == 5 {
            return Err(format!(
                "cron `{expr}` has 5 fields; herald's schedules start with a seconds field: write `0 {}`",
                fields.join(" ")
            ));
        }
        let nickname = fields.len() == 1 && expr.trim_start().starts_with('@');
        if !nickname && !(6..=7).contains(&fields.len()) {
            return Err(format!(
                "cron `{expr}` has {} fields; write 6 (second minute hour day month weekday), \
                 or 7 with a year",
                fields.len()
            ));
        }
        if !nickname {
            cron_steps(expr, &fields)?;
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Required)
            .year(Year::Optional)
            .build();
        let cron = parser
            .parse(expr)
            .map_err(|e| format!("invalid cron `{expr}`: {e}"))?;
        Ok(Schedule::new(expr, cron))
    }
}

/// The fields of a cron with seconds, in order, and the values each takes (croner's ranges,
/// except that weekdays count 0-6: croner's 7 is Sunday again).
const CRON_FIELDS: [(&str, u32, u32); 7] = [
    ("seconds", 0, 59),
    ("minutes", 0, 59),
    ("hours", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("weekday", 0, 6),
    ("year", 1, 5000),
];

/// Refuses a step (`*/N`, `A-B/N`, `A/N`) of 0 or longer than its field: croner refuses `*/0`
/// in words of its own, and takes `*/70` in the minutes, which fires at minute 0 only.
fn cron_steps(expr: &str, fields: &[&str]) -> Result<(), String> {
    for (field, (name, min, max)) in fields.iter().zip(CRON_FIELDS) {
        for part in field.split(',') {
            // Other shapes of step (`*/x`) are left to croner to refuse.
            let Some(Ok(step)) = part.split_once('/').map(|(_, n)| n.parse::<u32>()) else {
                continue;
            };
            let most = max - min;
            if !(1..=most).contains(&step) {
                return Err(format!(
                    "invalid cron `{expr}`: step {step} in the {name} field is out of range (1-{most})"
                ));
            }
        }
    }
    Ok(())
}

/// A schedule whose instants lie further apart than this fires "less than once a year", which
/// `check` warns about: 366 days, so that a yearly schedule passes in a leap year too.
const RARE_GAP: chrono::TimeDelta = chrono::TimeDelta::days(366);

/// How `schedule` fires from `now` on, read in `tz`: never again is an error (30 February);
/// a warning when it fires less than once a year (29 February) or only once or twice more (a
/// year field). Judged by its next three instants.
pub(super) fn schedule_frequency(
    schedule: &Schedule,
    tz: Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<String>, String> {
    let expr = &schedule.expr;
    let mut instants = Vec::new();
    let mut after = now;
    while instants.len() < 3 {
        let Some(next) = crate::schedule::next_fire(schedule, tz, after) else {
            break;
        };
        instants.push(next);
        after = next;
    }
    let show = |t: &chrono::DateTime<chrono::Utc>| crate::timefmt::show(*t, tz);
    match instants.as_slice() {
        [] => Err(format!(
            "cron `{expr}` never fires: no date matches it (such as 30 February, or a year past)"
        )),
        [once] => Ok(Some(format!(
            "cron `{expr}` fires once more, at {}, and then never",
            show(once)
        ))),
        [first, last] => Ok(Some(format!(
            "cron `{expr}` fires twice more, at {} and {}, and then never",
            show(first),
            show(last)
        ))),
        [first, second, third] if *second - *first > RARE_GAP || *third - *second > RARE_GAP => {
            Ok(Some(format!(
                "cron `{expr}` fires less than once a year (next at {}, then {})",
                show(first),
                show(second)
            )))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::*;
    use rstest::rstest;

    #[rstest]
    #[rustfmt::skip]
    #[case::minutes_step_too_long("0 */70 * * * *", "invalid cron `0 */70 * * * *`: step 70 in the minutes field is out of range (1-59)")]
    #[case::minutes_step_of_a_range("0 5-50/60 * * * *", "step 60 in the minutes field is out of range (1-59)")]
    #[case::hours_step_too_long("0 0 */24 * * *", "step 24 in the hours field is out of range (1-23)")]
    #[case::weekday_step_too_long("0 0 0 * * */7", "step 7 in the weekday field is out of range (1-6)")]
    #[case::step_zero("0 */0 * * * *", "step 0 in the minutes field is out of range (1-59)")]
    #[case::thirtieth_of_february("0 0 0 30 2 *", "cron `0 0 0 30 2 *` never fires")]
    #[case::thirty_first_of_april("0 0 0 31 4 *", "cron `0 0 0 31 4 *` never fires")]
    #[case::a_past_year("0 0 0 1 1 * 2020", "never fires")]
    fn schedule_rejects(#[case] expr: &str, #[case] problem: &str) {
        let errors = errors(&FEED.replace("0 0 * * * *", expr));
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].message.contains(problem), "{}", errors[0]);
        assert_eq!((errors[0].line, errors[0].col), (4, 12));
        assert_plain(&errors[0]);
    }

    #[test]
    fn a_schedule_firing_less_than_once_a_year_is_a_warning() {
        let config = parse_str(&FEED.replace("0 0 * * * *", "0 0 0 29 2 *")).expect("valid");
        assert_eq!(config.warnings.len(), 1, "{:#?}", config.warnings);
        let warning = &config.warnings[0];
        assert_eq!((warning.line, warning.col), (4, 12));
        let expected = "warning: source `a`: cron `0 0 0 29 2 *` fires less than once a year";
        assert!(warning.message.starts_with(expected), "{warning}");
    }

    #[rstest]
    #[case::every_59_minutes("0 */59 * * * *")]
    #[case::every_23_hours("0 0 */23 * * *")]
    #[case::every_6_weekdays("0 0 0 * * */6")]
    #[case::yearly("0 0 0 1 1 *")]
    #[case::thirty_first("0 0 0 31 * *")]
    #[case::nickname("@weekly")]
    fn usual_schedules_pass_without_warning(#[case] expr: &str) {
        let config = parse_str(&FEED.replace("0 0 * * * *", expr)).expect("valid");
        assert!(config.warnings.is_empty(), "{:#?}", config.warnings);
    }

    #[test]
    fn schedule_frequency_is_judged_by_the_next_instants() {
        use chrono::TimeZone;
        let now = chrono::Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let of = |expr| schedule_frequency(&Schedule::parse(expr).expect("parses"), Tz::UTC, now);
        assert_eq!(of("0 0 0 1 1 *"), Ok(None));
        assert_eq!(
            of("0 0 0 29 2 *"),
            Ok(Some(
                "cron `0 0 0 29 2 *` fires less than once a year \
                 (next at 2028-02-29 00:00:00 UTC, then 2032-02-29 00:00:00 UTC)"
                    .into()
            ))
        );
        assert_eq!(
            of("0 0 0 1 1 * 2027"),
            Ok(Some(
                "cron `0 0 0 1 1 * 2027` fires once more, at 2027-01-01 00:00:00 UTC, and then never"
                    .into()
            ))
        );
        assert!(of("0 0 0 1 1 * 2026").is_err_and(|e| e.contains("never fires")));
    }

    #[rstest]
    #[case::seven_fields("0 0 12 * * * 2030")]
    #[case::nickname("@daily")]
    #[case::names("0 30 9 * * MON-FRI")]
    fn schedule_accepts(#[case] expr: &str) {
        Schedule::parse(expr).unwrap_or_else(|e| panic!("{e}"));
    }
}
