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
        // Forms of other schedulers: a zone prefix (cronie, Kubernetes) and Go's `@every`.
        if let Some((prefix, zone)) = fields
            .first()
            .and_then(|f| f.split_once('='))
            .filter(|(p, _)| p.eq_ignore_ascii_case("CRON_TZ") || p.eq_ignore_ascii_case("TZ"))
        {
            let rest = &fields[1..];
            let cron = if rest.len() == 5 {
                format!("0 {}", rest.join(" "))
            } else {
                rest.join(" ")
            };
            return Err(format!(
                "cron `{expr}` names its zone with `{prefix}=`: write `timezone = \"{zone}\"` \
                 in the source and `schedule = \"{cron}\"`"
            ));
        }
        if let [every, interval] = fields.as_slice()
            && every.eq_ignore_ascii_case("@every")
        {
            return Err(format!(
                "`@every` is not a cron: for `{expr}` write {}",
                every_as_cron(interval)
            ));
        }
        // A 5-field cron is the classic crontab shape; croner would read it with seconds = 0
        // silently, or reject it vaguely, so say exactly what to write instead.
        if fields.len() == 5 {
            return Err(format!(
                "cron `{expr}` has 5 fields; herald's schedules start with a seconds field: write `0 {}`",
                fields.join(" ")
            ));
        }
        if let [only] = fields.as_slice()
            && only.starts_with('@')
        {
            nickname(only)?;
        } else {
            if !(6..=7).contains(&fields.len()) {
                let n = fields.len();
                return Err(format!(
                    "cron `{expr}` has {n} field{}; write 6 (second minute hour day month \
                     weekday), or 7 with a year",
                    if n == 1 { "" } else { "s" }
                ));
            }
            for (field, spec) in fields.iter().zip(&CRON_FIELDS) {
                cron_field(field, spec)
                    .map_err(|problem| format!("invalid cron `{expr}`: {problem}"))?;
            }
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Required)
            .year(Year::Optional)
            .build();
        // Every field was checked above, so croner refusing it is a shape the check does not
        // know yet: say so in plain words rather than in croner's.
        let cron = parser.parse(&for_croner(&fields)).map_err(|_| {
            format!(
                "invalid cron `{expr}`: herald cannot read it; write 6 fields (second minute \
                 hour day month weekday) of numbers, ranges (1-5), steps (*/10) and lists (1,15)"
            )
        })?;
        Ok(Schedule::new(expr, cron))
    }
}

/// The cron as croner is given it: weekday 7 (Sunday) in `7L` written 0. croner reads 7 as
/// Sunday in a plain value, a range and `7#k`, but not in `7L`, which then never fires.
fn for_croner(fields: &[&str]) -> String {
    let mut fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
    if let Some(weekday) = fields.get_mut(5) {
        let (plus, list) = match weekday.strip_prefix('+') {
            Some(list) => ("+", list),
            None => ("", weekday.as_str()),
        };
        let parts: Vec<&str> = list
            .split(',')
            .map(|part| {
                if part.eq_ignore_ascii_case("7L") {
                    "0L"
                } else {
                    part
                }
            })
            .collect();
        *weekday = format!("{plus}{}", parts.join(","));
    }
    fields.join(" ")
}

/// A cron (with seconds) that fires every `interval` (`30s`, `10m`, `2h`, `1h30m` as Go writes
/// it), when the interval divides a minute, an hour or a day; else a ten-minute example.
fn every_as_cron(interval: &str) -> String {
    let mut seconds = 0_u64;
    let mut number = String::new();
    let mut read = true;
    for c in interval.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => 0,
        };
        match number.parse::<u64>() {
            Ok(n) if unit > 0 => seconds = seconds.saturating_add(n.saturating_mul(unit)),
            _ => read = false,
        }
        number.clear();
    }
    read &= number.is_empty();
    let seconds = read.then_some(seconds);
    let cron = cron_every(seconds);
    if seconds.is_some_and(|s| cron != cron_every(None) || s == 600) {
        format!("`{cron}` (a cron with seconds, read in the source's timezone)")
    } else {
        format!(
            "a cron with seconds: no cron fires every `{interval}` (it divides no minute, hour \
             or day), so pick an interval that does, e.g. `{cron}` for every ten minutes"
        )
    }
}

/// A cron (with seconds) firing every `seconds`, when the interval divides a minute, an hour or
/// a day; else (or without one) a ten-minute example.
pub(super) fn cron_every(seconds: Option<u64>) -> String {
    match seconds {
        Some(s @ 1..=59) if 60 % s == 0 => format!("*/{s} * * * * *"),
        Some(s) if s % 60 == 0 && (1..=59).contains(&(s / 60)) && 60 % (s / 60) == 0 => {
            format!("0 */{} * * * *", s / 60)
        }
        Some(s) if s % 3600 == 0 && (1..=23).contains(&(s / 3600)) && 24 % (s / 3600) == 0 => {
            format!("0 0 */{} * * *", s / 3600)
        }
        _ => "0 */10 * * * *".to_owned(),
    }
}

/// The nicknames croner reads, each the cron it stands for.
const NICKNAMES: [&str; 6] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@hourly",
];

fn nickname(word: &str) -> Result<(), String> {
    if NICKNAMES.iter().any(|n| n.eq_ignore_ascii_case(word)) {
        return Ok(());
    }
    Err(format!(
        "unknown schedule nickname `{word}` (herald accepts {}); or write a cron with seconds, \
         e.g. `0 */10 * * * *`",
        NICKNAMES.join(", ")
    ))
}

/// One field of a cron with seconds: its name, the values it takes, and the names that stand
/// for values (months and weekdays).
struct CronField {
    name: &'static str,
    min: u32,
    max: u32,
    /// The longest step: one less than the number of values (weekdays: 0-6, since 7 is
    /// Sunday again).
    most_step: u32,
    names: &'static [&'static str],
    /// `L`, `NW` in the day of month; `N#k`, `NL` in the weekday.
    kind: FieldKind,
}

#[derive(PartialEq)]
enum FieldKind {
    Plain,
    DayOfMonth,
    Weekday,
}

const MONTHS: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// The fields of a cron with seconds, in order (croner's ranges; weekdays 0-7, 0 and 7 both
/// Sunday).
const CRON_FIELDS: [CronField; 7] = [
    CronField {
        name: "seconds",
        min: 0,
        max: 59,
        most_step: 59,
        names: &[],
        kind: FieldKind::Plain,
    },
    CronField {
        name: "minutes",
        min: 0,
        max: 59,
        most_step: 59,
        names: &[],
        kind: FieldKind::Plain,
    },
    CronField {
        name: "hours",
        min: 0,
        max: 23,
        most_step: 23,
        names: &[],
        kind: FieldKind::Plain,
    },
    CronField {
        name: "day-of-month",
        min: 1,
        max: 31,
        most_step: 30,
        names: &[],
        kind: FieldKind::DayOfMonth,
    },
    CronField {
        name: "month",
        min: 1,
        max: 12,
        most_step: 11,
        names: MONTHS,
        kind: FieldKind::Plain,
    },
    CronField {
        name: "weekday",
        min: 0,
        max: 7,
        most_step: 6,
        names: WEEKDAYS,
        kind: FieldKind::Weekday,
    },
    CronField {
        name: "year",
        min: 1,
        max: 5000,
        most_step: 4999,
        names: &[],
        kind: FieldKind::Plain,
    },
];

impl CronField {
    /// What the field takes, for messages: "0-23", "1-12 or JAN-DEC".
    fn allowed(&self) -> String {
        let mut text = format!("{}-{}", self.min, self.max);
        if self.kind == FieldKind::Weekday {
            text.push_str(", 0 and 7 both Sunday");
        }
        if let (Some(first), Some(last)) = (self.names.first(), self.names.last()) {
            text.push_str(&format!(", or {first}-{last}"));
        }
        text
    }

    /// The number `word` stands for: digits, or a name of this field.
    fn value(&self, word: &str) -> Result<u32, String> {
        let upper = word.to_ascii_uppercase();
        let number = match self.names.iter().position(|n| *n == upper) {
            Some(i) => Some(i as u32 + u32::from(self.kind != FieldKind::Weekday)),
            None if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) => {
                Some(word.parse::<u32>().unwrap_or(u32::MAX))
            }
            None => None,
        };
        let Some(n) = number else {
            return Err(self.unreadable(word));
        };
        if !(self.min..=self.max).contains(&n) {
            return Err(format!(
                "{word} in the {} field is out of range ({})",
                self.name,
                self.allowed()
            ));
        }
        Ok(n)
    }

    fn unreadable(&self, word: &str) -> String {
        let extra = match self.kind {
            FieldKind::Plain if self.names.is_empty() => "",
            FieldKind::Plain => ", names such as JAN",
            FieldKind::DayOfMonth => {
                ", L (the last day) or NW (the weekday nearest day N, e.g. 15W)"
            }
            FieldKind::Weekday => {
                ", names such as MON, N#k (the k-th such weekday of the month, e.g. FRI#2) or NL \
                 (the last such weekday of the month, e.g. 5L)"
            }
        };
        format!(
            "`{word}` in the {} field is not a value it takes: write * or numbers in {}, ranges \
             (1-5), steps (*/10) and lists (1,15){extra}",
            self.name,
            self.allowed()
        )
    }
}

/// Checks one field of a cron, part by part (`1,5-9,*/10`), in the words an admin reads: every
/// value, range and step within the field's range. (croner's own errors do not name the field.)
fn cron_field(field: &str, spec: &CronField) -> Result<(), String> {
    let name = spec.name;
    // croner's `+` before the weekdays: match day of month AND weekday.
    let field = match spec.kind {
        FieldKind::Weekday => field.strip_prefix('+').unwrap_or(field),
        _ => field,
    };
    for part in field.split(',') {
        if part.is_empty() {
            return Err(format!(
                "the {name} field `{field}` has an empty item in its list (two commas, or one at \
                 an end); it takes {}",
                spec.allowed()
            ));
        }
        if part == "*" || (part == "?" && spec.kind != FieldKind::Plain) {
            continue;
        }
        if let Some((base, step)) = part.split_once('/') {
            let step_value = (!step.is_empty() && step.bytes().all(|b| b.is_ascii_digit()))
                .then(|| step.parse::<u32>().unwrap_or(u32::MAX));
            let Some(step_value) = step_value else {
                return Err(format!(
                    "step `{step}` in the {name} field is not a number (1-{}, e.g. */10)",
                    spec.most_step
                ));
            };
            if !(1..=spec.most_step).contains(&step_value) {
                return Err(format!(
                    "step {step} in the {name} field is out of range (1-{})",
                    spec.most_step
                ));
            }
            if base != "*" {
                range(base, spec)?;
            }
            continue;
        }
        match spec.kind {
            FieldKind::DayOfMonth if part.eq_ignore_ascii_case("L") => continue,
            FieldKind::DayOfMonth if part.to_ascii_uppercase().ends_with('W') => {
                let day = &part[..part.len() - 1];
                if day.is_empty() || !day.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!(
                        "`{part}` in the {name} field: W follows a day number in 1-31 (e.g. \
                         15W, the weekday nearest the 15th); herald does not read `{part}`"
                    ));
                }
                spec.value(day)?;
                continue;
            }
            FieldKind::Weekday if part.eq_ignore_ascii_case("L") => continue,
            FieldKind::Weekday => {
                if let Some((day, nth)) = part.split_once('#') {
                    spec.value(day)?;
                    if !matches!(nth, "1" | "2" | "3" | "4" | "5") {
                        return Err(format!(
                            "`{part}` in the {name} field: the week of the month after # is 1 to 5 \
                             (e.g. FRI#2, the second Friday), not `{nth}`"
                        ));
                    }
                    continue;
                }
                if let Some(day) = part
                    .strip_suffix('L')
                    .or_else(|| part.strip_suffix('l'))
                    .filter(|d| !d.is_empty())
                {
                    spec.value(day)?;
                    continue;
                }
            }
            _ => {}
        }
        range(part, spec)?;
    }
    Ok(())
}

/// `N` or `A-B` (low to high) in the field's range.
fn range(text: &str, spec: &CronField) -> Result<(), String> {
    let Some((low, high)) = text.split_once('-') else {
        spec.value(text)?;
        return Ok(());
    };
    if low.is_empty() || high.is_empty() || high.contains('-') {
        return Err(spec.unreadable(text));
    }
    let (a, b) = (spec.value(low)?, spec.value(high)?);
    // SUN as the end of a range is 7 (MON-SUN).
    let b = if spec.kind == FieldKind::Weekday && b == 0 && a > 0 {
        7
    } else {
        b
    };
    if a > b {
        return Err(format!(
            "the range {text} in the {} field runs backwards: write it low-high within {} (to \
             wrap past the end, write two ranges, e.g. `{low}-{},{}-{high}`)",
            spec.name,
            spec.allowed(),
            spec.max,
            spec.min
        ));
    }
    Ok(())
}

/// A schedule whose instants lie further apart than this fires "less than once a year", which
/// `check` warns about: 366 days, so that a yearly schedule passes in a leap year too.
const RARE_GAP: chrono::TimeDelta = chrono::TimeDelta::days(366);

/// How far ahead `check` looks for a gap of more than a year between instants (a year list
/// such as `2026,2030`).
const RARE_HORIZON: chrono::TimeDelta = chrono::TimeDelta::days(366 * 8);

/// How many of its next instants `check` looks at, at most, for a schedule firing more than
/// once a minute: two minutes of one firing every second.
const OFTEN_SAMPLE: usize = 120;

/// How `schedule` fires from `now` on, read in `tz`: never again is an error (30 February);
/// a warning when it fires less than once a year (29 February, years `2026,2030`), only once or
/// twice more (a year field), or more than once a minute (`*/10 * * * * *`, minutes written in
/// the seconds field). Judged by its next instants (and, with a year field, its longest gap
/// over eight years).
pub(super) fn schedule_frequency(
    schedule: &Schedule,
    tz: Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<String>, String> {
    let expr = &schedule.expr;
    let mut instants = Vec::new();
    let mut after = now;
    // Three, or two minutes' worth (to see how many fall in a minute).
    let enough = |instants: &[chrono::DateTime<chrono::Utc>]| match instants {
        [first, .., last] if instants.len() >= 3 => {
            instants.len() >= OFTEN_SAMPLE || *last - *first > chrono::TimeDelta::minutes(2)
        }
        _ => false,
    };
    while !enough(&instants) {
        let Some(next) = crate::schedule::next_fire(schedule, tz, after) else {
            break;
        };
        instants.push(next);
        after = next;
    }
    let show = |t: &chrono::DateTime<chrono::Utc>| crate::timefmt::show(*t, tz);
    match instants.as_slice() {
        // A schedule with a year field whose years are past ran out: it was a good schedule,
        // and a config that ran must not become one herald refuses to start with (or reload)
        // by the date alone. Said, not refused.
        // (Only one that fired once: 30 February of any year never did, and is refused.)
        [] if expr.split_whitespace().count() == 7
            && crate::schedule::next_fire(schedule, tz, now - chrono::Duration::days(366 * 30))
                .is_some() =>
        {
            Ok(Some(format!(
                "cron `{expr}` fires no more (no instant is left in its years): the source is \
                 polled once at start, then no more, and /healthz and the admins are told so"
            )))
        }
        // Its times fall only in a spring-forward gap of `tz` (`0 */10 2 28 3 * 2027` in
        // Berlin): the date exists, the clock skips the times.
        [] if crate::schedule::next_fire(
            schedule,
            Tz::UTC,
            now - chrono::Duration::days(366 * 30),
        )
        .is_some() =>
        {
            Err(format!(
                "cron `{expr}` never fires in {tz}: each of its times falls in a daylight-saving \
                 gap there, when the clocks skip them"
            ))
        }
        [] => Err(format!(
            "cron `{expr}` never fires: no date matches it (such as 30 February)"
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
        [first, ..] => {
            // A year field other than `*` may leave years out (`2026,2030`): looked for over
            // the next years. Else a gap of over a year shows among the next instants (29
            // February).
            let years = expr.split_whitespace().nth(6).is_some_and(|y| y != "*");
            let seen = instants
                .windows(2)
                .find(|w| w[1] - w[0] > RARE_GAP)
                .map(|w| (w[0], w[1]));
            let rare = if years {
                longest_gap(schedule, tz, *first, *first + RARE_HORIZON)
            } else {
                seen
            };
            let rare = rare.map(|(from, to)| {
                if from == *first {
                    format!(
                        "cron `{expr}` fires less than once a year (next at {}, then {})",
                        show(&from),
                        show(&to)
                    )
                } else {
                    format!(
                        "cron `{expr}` fires less than once a year (after {} the next is {})",
                        show(&from),
                        show(&to)
                    )
                }
            });
            let often = rare.is_none().then(|| too_often(expr, &instants)).flatten();
            // Its years end: the source is polled until then, and never after.
            let ends = crate::schedule::last_fire(schedule, tz).map(|last| {
                format!(
                    "cron `{expr}` fires for the last time at {} (its years end there): after \
                     that the source is not polled",
                    show(&last)
                )
            });
            let said: Vec<String> = [rare, often, ends].into_iter().flatten().collect();
            Ok((!said.is_empty()).then(|| said.join("; ")))
        }
    }
}

/// Two instants of `schedule` more than [`RARE_GAP`] apart with none between, the first before
/// `until`, looked for from the instant `first` on. Dense instants are passed over a day at a
/// time; a gap near a year long is then measured from its true start.
fn longest_gap(
    schedule: &Schedule,
    tz: Tz,
    first: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
) -> Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
    let next = |t| crate::schedule::next_fire(schedule, tz, t);
    let day = chrono::TimeDelta::days(1);
    // `last` is an instant, `at` a moment no earlier, with none between them after the first
    // step skipped a day.
    let (mut last, mut at) = (first, first);
    while at < until {
        let to = next(at)?;
        if to - at > RARE_GAP - day {
            let mut from = last;
            while let Some(t) = next(from).filter(|t| *t < to) {
                from = t;
            }
            if to - from > RARE_GAP {
                return Some((from, to));
            }
        }
        last = to;
        at = if to - at < day { at + day } else { to };
    }
    None
}

/// The warning for a cron some of whose instants lie less than a minute apart (each is a
/// request to the site), judged by its next `instants`; `None` when none do. Its first field
/// is seconds, so `*/10 * * * * *` is every ten seconds, not minutes: say what to write for
/// minutes.
fn too_often(expr: &str, instants: &[chrono::DateTime<chrono::Utc>]) -> Option<String> {
    let minute = chrono::TimeDelta::minutes(1);
    let gaps: Vec<chrono::TimeDelta> = instants
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|gap| *gap < minute)
        .collect();
    let shortest = gaps.iter().min()?.num_seconds();
    // The most instants within one minute.
    let most = (0..instants.len())
        .map(|i| {
            instants[i..]
                .iter()
                .take_while(|t| **t - instants[i] < minute)
                .count()
        })
        .max()
        .unwrap_or(0);
    let seconds = |n: i64| match n {
        1 => "1 second".to_owned(),
        n => format!("{n} seconds"),
    };
    // Evenly through its minutes (`*/10`, `0,30`): every so many seconds; else how many times
    // in a minute, how close.
    let even = gaps.iter().all(|gap| gap.num_seconds() == shortest)
        && i64::try_from(most).unwrap_or(i64::MAX) * shortest >= 60;
    let rate = if even {
        match shortest {
            ..=1 => "every second, more than once a minute".to_owned(),
            n => format!("every {n} seconds, more than once a minute"),
        }
    } else {
        let times = match most {
            2 => "twice".to_owned(),
            n => format!("{n} times"),
        };
        format!(
            "{times} within a minute, as little as {} apart",
            seconds(shortest)
        )
    };
    let fields: Vec<&str> = expr.split_whitespace().collect();
    let instead = match fields.as_slice() {
        // The seconds field holds what was meant for the minutes: move it there.
        [seconds, "*", rest @ ..] => {
            let cron = format!("0 {seconds} {}", rest.join(" "));
            match seconds.strip_prefix("*/") {
                _ if *seconds == "*" => format!("for every minute write `{cron}`"),
                Some(n) => format!("for every {n} minutes write `{cron}`"),
                None => format!("for minutes write `{cron}`"),
            }
        }
        [_, rest @ ..] => format!("for once a minute at most write `0 {}`", rest.join(" ")),
        [] => String::new(),
    };
    Some(format!(
        "cron `{expr}` fires {rate} (the first of its fields is seconds), each time a request \
         to the site: {instead}"
    ))
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
    #[case::thirtieth_of_february_of_any_year("0 0 0 30 2 * *", "never fires")]
    #[case::hour_too_large("0 0 25 * * *", "invalid cron `0 0 25 * * *`: 25 in the hours field is out of range (0-23)")]
    #[case::minute_too_large("0 60 * * * *", "60 in the minutes field is out of range (0-59)")]
    #[case::day_zero("0 0 0 0 * *", "0 in the day-of-month field is out of range (1-31)")]
    #[case::month_thirteen("0 0 0 1 13 *", "13 in the month field is out of range (1-12, or JAN-DEC)")]
    #[case::weekday_eight("0 0 0 * * 8", "8 in the weekday field is out of range (0-7, 0 and 7 both Sunday, or SUN-SAT)")]
    #[case::second_in_a_list("0,61 0 * * * *", "61 in the seconds field is out of range (0-59)")]
    #[case::year_too_large("0 0 0 1 1 * 6000", "6000 in the year field is out of range (1-5000)")]
    #[case::backwards_range("0 5-2 * * * *", "the range 5-2 in the minutes field runs backwards")]
    #[case::range_end_too_large("0 0 20-25 * * *", "25 in the hours field is out of range (0-23)")]
    #[case::range_start_of_a_step("0 70-80/5 * * * *", "70 in the minutes field is out of range (0-59)")]
    #[case::sixth_sunday("0 0 0 * * SUN#6", "`SUN#6` in the weekday field: the week of the month after # is 1 to 5")]
    #[case::last_weekday("0 0 0 LW * *", "`LW` in the day-of-month field: W follows a day number")]
    #[case::nearest_weekday_of_day_40("0 0 0 40W * *", "40 in the day-of-month field is out of range (1-31)")]
    #[case::month_name_in_weekdays("0 0 0 * * MAR", "`MAR` in the weekday field is not a value it takes")]
    #[case::question_mark_in_hours("0 0 ? * * *", "`?` in the hours field is not a value it takes")]
    #[case::empty_list_item("0 1,,2 * * * *", "the minutes field `1,,2` has an empty item in its list (two commas, or one at an end); it takes 0-59")]
    #[case::step_not_a_number("0 */x * * * *", "step `x` in the minutes field is not a number (1-59, e.g. */10)")]
    #[case::zone_prefix("CRON_TZ=Asia/Almaty 0 */10 * * * *", "cron `CRON_TZ=Asia/Almaty 0 */10 * * * *` names its zone with `CRON_TZ=`: write `timezone = \"Asia/Almaty\"` in the source and `schedule = \"0 */10 * * * *\"`")]
    #[case::zone_prefix_five_fields("TZ=UTC */5 * * * *", "cron `TZ=UTC */5 * * * *` names its zone with `TZ=`: write `timezone = \"UTC\"` in the source and `schedule = \"0 */5 * * * *\"`")]
    #[case::go_every("@every 10m", "`@every` is not a cron: for `@every 10m` write `0 */10 * * * *` (a cron with seconds, read in the source's timezone)")]
    #[case::go_every_hours("@every 2h", "`@every` is not a cron: for `@every 2h` write `0 0 */2 * * *` (a cron with seconds, read in the source's timezone)")]
    #[case::go_every_seconds("@every 1m30s", "`@every` is not a cron: for `@every 1m30s` write a cron with seconds: no cron fires every `1m30s` (it divides no minute, hour or day), so pick an interval that does, e.g. `0 */10 * * * *` for every ten minutes")]
    #[case::go_every_ten_minutes("@every 600s", "`@every` is not a cron: for `@every 600s` write `0 */10 * * * *` (a cron with seconds, read in the source's timezone)")]
    #[case::one_field("bad", "cron `bad` has 1 field; write 6 (second minute hour day month weekday), or 7 with a year")]
    #[case::four_fields("0 0 * *", "cron `0 0 * *` has 4 fields; write 6")]
    #[case::unknown_nickname("@reboot", "unknown schedule nickname `@reboot` (herald accepts @yearly, @annually, @monthly, @weekly, @daily, @hourly)")]
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

    /// Minutes written in the seconds field (a five-field "every 10 minutes" with a seconds
    /// field added) poll the site every few seconds: a warning naming the interval and the cron
    /// for minutes.
    #[rstest]
    #[rustfmt::skip]
    #[case::every_ten_seconds("*/10 * * * * *", "cron `*/10 * * * * *` fires every 10 seconds, more than once a minute (the first of its fields is seconds), each time a request to the site: for every 10 minutes write `0 */10 * * * *`")]
    #[case::every_second("* * * * * *", "cron `* * * * * *` fires every second, more than once a minute (the first of its fields is seconds), each time a request to the site: for every minute write `0 * * * * *`")]
    #[case::a_list_of_seconds("0,30 * * * * *", "fires every 30 seconds, more than once a minute (the first of its fields is seconds), each time a request to the site: for minutes write `0 0,30 * * * *`")]
    #[case::seconds_in_one_hour("*/5 0 9 * * *", "fires every 5 seconds, more than once a minute (the first of its fields is seconds), each time a request to the site: for once a minute at most write `0 0 9 * * *`")]
    #[case::twice_a_minute_unevenly("0,59 * * * * *", "cron `0,59 * * * * *` fires twice within a minute, as little as 1 second apart (the first of its fields is seconds), each time a request to the site: for minutes write `0 0,59 * * * *`")]
    #[case::twice_a_day_a_second_apart("58,59 0 9 * * *", "cron `58,59 0 9 * * *` fires twice within a minute, as little as 1 second apart (the first of its fields is seconds), each time a request to the site: for once a minute at most write `0 0 9 * * *`")]
    #[case::unevenly_through_the_minute("*/7 * * * * *", "cron `*/7 * * * * *` fires 9 times within a minute, as little as 4 seconds apart (the first of its fields is seconds), each time a request to the site: for every 7 minutes write `0 */7 * * * *`")]
    fn a_schedule_firing_more_than_once_a_minute_is_a_warning(
        #[case] expr: &str,
        #[case] expected: &str,
    ) {
        let config = parse_str(&FEED.replace("0 0 * * * *", expr)).expect("valid");
        assert_eq!(config.warnings.len(), 1, "{:#?}", config.warnings);
        let warning = &config.warnings[0];
        assert_eq!((warning.line, warning.col), (4, 12));
        assert!(
            warning.message.starts_with("warning: source `a`: ") && warning.message.ends_with(expected),
            "{warning}"
        );
    }

    #[rstest]
    #[case::every_minute("0 * * * * *")]
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
        // Its years past, a schedule ran out: said, not refused.
        assert_eq!(
            of("0 0 0 1 1 * 2026"),
            Ok(Some(
                "cron `0 0 0 1 1 * 2026` fires no more (no instant is left in its years): the \
                 source is polled once at start, then no more, and /healthz and the admins are told so"
                    .into()
            ))
        );
        // Its years end: said, with the last instant (polling stops there).
        assert_eq!(
            of("0 0 0 * * * 2026"),
            Ok(Some(
                "cron `0 0 0 * * * 2026` fires for the last time at 2026-12-31 00:00:00 UTC (its \
                 years end there): after that the source is not polled"
                    .into()
            ))
        );
        let in_almaty = schedule_frequency(
            &Schedule::parse("0 30 9 * * MON-FRI 2026-2027").expect("parses"),
            chrono_tz::Asia::Almaty,
            now,
        );
        assert_eq!(
            in_almaty,
            Ok(Some(
                "cron `0 30 9 * * MON-FRI 2026-2027` fires for the last time at 2027-12-31 \
                 09:30:00 +05 (its years end there): after that the source is not polled"
                    .into()
            ))
        );
        let both = of("*/10 * * * * * 2026").unwrap().unwrap();
        assert!(both.contains("fires every 10 seconds"), "{both}");
        assert!(
            both.ends_with("fires for the last time at 2026-12-31 23:59:50 UTC (its years end there): after that the source is not polled"),
            "{both}"
        );
        // A gap of years after its first instants: looked for over the next years.
        assert_eq!(
            of("0 0 0 * * * 2026,2030"),
            Ok(Some(
                "cron `0 0 0 * * * 2026,2030` fires less than once a year (after 2026-12-31 \
                 00:00:00 UTC the next is 2030-01-01 00:00:00 UTC); cron `0 0 0 * * * 2026,2030` \
                 fires for the last time at 2030-12-31 00:00:00 UTC (its years end there): after \
                 that the source is not polled"
                    .into()
            ))
        );
        // Every year, every other year, every third from 2026: no end to tell (croner's last
        // year, 5000 or so, is not the schedule's); the skipped years are gaps of over a year.
        assert_eq!(of("0 0 0 1 1 * *"), Ok(None));
        assert_eq!(
            of("0 0 0 * * * */2"),
            Ok(Some(
                "cron `0 0 0 * * * */2` fires less than once a year (after 2027-12-31 00:00:00 \
                 UTC the next is 2029-01-01 00:00:00 UTC)"
                    .into()
            ))
        );
        let every_third = of("0 0 0 * * * 2026/3").unwrap().unwrap();
        assert!(!every_third.contains("last time"), "{every_third}");
        assert!(
            of("0 0 0 * * * 2026-2030/2")
                .unwrap()
                .unwrap()
                .contains("2030-12-31")
        );
    }

    /// Fixed times in a list run once after a spring-forward gap, as a single time does: the
    /// check names that run, and refuses no schedule for times the gap skips on its date.
    #[test]
    fn fixed_times_in_a_dst_gap_run_at_its_end() {
        use chrono::TimeZone;
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap();
        let berlin = |expr| {
            schedule_frequency(
                &Schedule::parse(expr).expect("parses"),
                chrono_tz::Europe::Berlin,
                now,
            )
        };
        assert_eq!(
            berlin("0 30 2,14 28 3 * 2027"),
            Ok(Some(
                "cron `0 30 2,14 28 3 * 2027` fires twice more, at 2027-03-28 03:00:00 CEST and \
                 2027-03-28 14:30:00 CEST, and then never"
                    .into()
            ))
        );
        assert_eq!(
            berlin("0 0,30 2 28 3 * 2027"),
            Ok(Some(
                "cron `0 0,30 2 28 3 * 2027` fires once more, at 2027-03-28 03:00:00 CEST, and \
                 then never"
                    .into()
            ))
        );
        assert_eq!(
            berlin("0 30 2/23 31 10 * 2027"),
            Ok(Some(
                "cron `0 30 2/23 31 10 * 2027` fires once more, at 2027-10-31 02:30:00 CEST, and \
                 then never"
                    .into()
            ))
        );
        // The last instant named is one it fires at: after the gap, not the second before it.
        let last = berlin("0 30 2 24,25,26 3 * 2028").unwrap().unwrap();
        assert!(
            last.ends_with(
                "fires for the last time at 2028-03-26 03:00:00 CEST (its years end \
                 there): after that the source is not polled"
            ),
            "{last}"
        );
        // Every ten minutes keeps real intervals, so none is left in the gap: refused, in the
        // gap's words, not 30 February's.
        assert_eq!(
            berlin("0 */10 2 28 3 * 2027"),
            Err(
                "cron `0 */10 2 28 3 * 2027` never fires in Europe/Berlin: each of its times \
                 falls in a daylight-saving gap there, when the clocks skip them"
                    .into()
            )
        );
    }

    #[rstest]
    #[case::seven_fields("0 0 12 * * * 2030")]
    #[case::nickname("@daily")]
    #[case::names("0 30 9 * * MON-FRI")]
    #[case::monday_to_sunday("0 0 12 * * MON-SUN")]
    #[case::sunday_as_seven("0 0 12 * * 7")]
    #[case::month_names("0 0 12 1 JAN-MAR,dec *")]
    #[case::last_day("0 0 0 L * *")]
    #[case::nearest_weekday("0 0 0 15W * *")]
    #[case::last_friday("0 0 0 * * 5L")]
    #[case::second_friday("0 0 0 * * FRI#2")]
    #[case::question_marks("0 0 0 ? * MON")]
    #[case::step_from_a_value("0 5/15 * * * *")]
    #[case::nickname_in_capitals("@Daily")]
    fn schedule_accepts(#[case] expr: &str) {
        Schedule::parse(expr).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Weekday 7 is Sunday in every form the weekday field takes, as 0 and SUN are: a value,
    /// a range, `N#k`, `NL` (7L was read as a weekday that never comes: "never fires").
    #[rstest]
    #[case::value("7", "0")]
    #[case::last("7L", "0L")]
    #[case::last_lower_case("7l", "SUNL")]
    #[case::last_in_a_list("1,7L", "1,0L")]
    #[case::last_matching_the_day_too("+7L", "+0L")]
    #[case::nth("7#2", "SUN#2")]
    #[case::range("5-7", "5-6,0")]
    #[case::range_of_a_step("1-7/3", "1,4,0")]
    fn weekday_seven_is_sunday_in_every_form(#[case] seven: &str, #[case] zero: &str) {
        use chrono::TimeZone;
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap();
        let fires = |weekday: &str| {
            let expr = format!("0 0 9 * * {weekday}");
            let schedule = Schedule::parse(&expr).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                schedule_frequency(&schedule, Tz::UTC, now),
                Ok(None),
                "{expr}"
            );
            let mut after = now;
            (0..6)
                .map(|_| {
                    after = crate::schedule::next_fire(&schedule, Tz::UTC, after).unwrap();
                    after
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(fires(seven), fires(zero), "{seven} and {zero}");
    }

    /// Whatever is written in a field, the check refuses it in its own words before croner
    /// sees it: croner refusing a cron the check let through ends in the fallback message,
    /// which no value here may reach.
    #[test]
    fn every_refused_field_is_refused_by_the_check() {
        let words = [
            "*",
            "0",
            "7",
            "59",
            "60",
            "5-2",
            "2-5",
            "*/0",
            "*/5",
            "1/5",
            "1-9/2",
            "L",
            "W",
            "15W",
            "LW",
            "W15",
            "#",
            "1#6",
            "1#0",
            "2#3",
            "MON",
            "JAN",
            "SUN-SAT",
            "?",
            "a",
            "-1",
            "1-",
            "1-2-3",
            "1,,2",
            ",1",
            "+1",
            "3L",
            "L3",
            "99999999999",
            "1/x",
            "*/",
            "/5",
            "5#L",
            "@daily",
            "1.5",
            "MONDAY",
            "*-1",
            "**",
        ];
        let base = ["0", "0", "0", "1", "1", "*", "2030"];
        for at in 0..7 {
            for word in words {
                let mut fields = base;
                fields[at] = word;
                let expr = fields.join(" ");
                if let Err(problem) = Schedule::parse(&expr) {
                    assert!(
                        !problem.contains("cannot read it"),
                        "the check let `{expr}` through to croner: {problem}"
                    );
                    assert!(problem.contains(" field"), "{expr}: {problem}");
                }
            }
        }
    }
}
