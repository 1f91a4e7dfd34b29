//! Cron schedules, read in each source's own timezone.
//!
//! The next fire time is a pure function (`next_fire`): croner matches local wall-clock times
//! in a chrono-tz zone, so DST gaps and overlaps are handled per instant (a 02:30 job, or one at
//! 02:30 and 14:30, on a spring-forward day runs at 03:00; on a fall-back day it runs once;
//! every ten minutes stays every ten minutes). tokio-cron-scheduler was
//! not used: its zone support is a fixed offset taken when a job is made (wrong after a DST
//! change), it has no overlap guard, and with croner computing the instants all it would add is
//! a timer. Each source gets one task that sleeps until its next instant and then awaits the
//! poll, so a poll still running at its next tick is never started twice (the tick is skipped).

use chrono::{DateTime, Offset, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A parsed 6-field cron expression (seconds first), kept with its text. Schedules of the same
/// text share one parsed form: a parsed cron is a few kilobytes, a thousand sources usually
/// have a handful of distinct schedules, and every poll task holds a copy.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub expr: Arc<str>,
    pub cron: Arc<croner::Cron>,
}

impl Schedule {
    /// The schedule of `expr`, parsed as `cron`; `cron` is dropped for the parsed form of an
    /// earlier schedule of the same text that is still in use.
    pub fn new(expr: &str, cron: croner::Cron) -> Schedule {
        static IN_USE: Mutex<Option<HashMap<Box<str>, Weak<croner::Cron>>>> = Mutex::new(None);
        let mut in_use = IN_USE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let in_use = in_use.get_or_insert_with(HashMap::new);
        if let Some(shared) = in_use.get(expr).and_then(Weak::upgrade) {
            return Schedule {
                expr: expr.into(),
                cron: shared,
            };
        }
        // Forget the schedules no longer in use before adding one (the map stays as small as
        // the set of distinct schedules the configs loaded so far still use).
        in_use.retain(|_, cron| cron.strong_count() > 0);
        let cron = Arc::new(cron);
        in_use.insert(expr.into(), Arc::downgrade(&cron));
        Schedule {
            expr: expr.into(),
            cron,
        }
    }
}

/// The first instant strictly after `after` that `schedule` names in zone `tz`.
///
/// A schedule of fixed times of day (see [`fixed_times`]) is read on the local wall clock: a
/// time that a spring-forward gap skips runs at the gap's end (a 02:30 job runs at 03:00, once
/// however many of its times the gap holds), and a time that a fall-back overlap repeats runs in
/// the first pass only. croner does that for single values only: a list (`2,14`) made it an
/// interval job, which lost its run in the gap and ran twice in the overlap.
///
/// An interval job (`*/30`) keeps its real interval: croner walks naive local time and never
/// walks back into the repeated hour ("every 30 minutes" would pause for an hour and a half), so
/// the schedule is also read against each fixed offset the zone uses around `after`, and a
/// candidate counts only where the zone really has that offset; the earliest candidate wins.
pub fn next_fire(schedule: &Schedule, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if fixed_times(&schedule.cron) {
        return fixed_next(&schedule.cron, tz, after);
    }
    let zoned = zoned_next(schedule, tz, after);
    let offset_at = |t: DateTime<Utc>| t.with_timezone(&tz).offset().fix();
    let offsets = [
        offset_at(after),
        offset_at(after + chrono::Duration::days(1)),
    ];
    offsets
        .iter()
        .filter_map(|offset| {
            let t = schedule
                .cron
                .find_next_occurrence(&after.with_timezone(offset), false)
                .ok()?
                .with_timezone(&Utc);
            (offset_at(t) == *offset).then_some(t)
        })
        .chain(zoned)
        // Inside an overlap croner may answer the first pass's instant, which is in the past.
        .filter(|t| *t > after)
        .min()
}

/// Whether the seconds, minutes and hours of `cron` name fixed times of day: single values,
/// lists and ranges (`30`, `2,14`, `9-17`, `2/23`), not `*` nor a step that repeats over the
/// whole field (`*/10`, `5/10`, `0-59/15`), which make an interval job.
fn fixed_times(cron: &croner::Cron) -> bool {
    let p = &cron.pattern;
    let field = |from_wildcard: bool, step: u16, max: u16, matches: &dyn Fn(u32) -> bool| {
        let values: Vec<u16> = (0..=max).filter(|v| matches(u32::from(*v))).collect();
        let repeats = step > 1
            && values.len() > 1
            && values.first().is_some_and(|first| *first < step)
            && values.last().is_some_and(|last| max - *last < step);
        !from_wildcard && !repeats
    };
    field(p.seconds.from_wildcard, p.seconds.step, 59, &|v| {
        p.second_match(v).unwrap_or(false)
    }) && field(p.minutes.from_wildcard, p.minutes.step, 59, &|v| {
        p.minute_match(v).unwrap_or(false)
    }) && field(p.hours.from_wildcard, p.hours.step, 23, &|v| {
        p.hour_match(v).unwrap_or(false)
    })
}

/// [`next_fire`] for a schedule of fixed times of day: croner finds the matching wall-clock
/// times (read as UTC, which has neither gap nor overlap), each taken to its instant in `tz` by
/// [`wall_instant`]; the first one after `after` wins. Wall-clock order is instant order there,
/// so the search starts at `after`'s own wall-clock time.
fn fixed_next(cron: &croner::Cron, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut wall = after.with_timezone(&tz).naive_local();
    loop {
        // Each step moves `wall` forward; croner's search ends at its last year.
        wall = cron
            .find_next_occurrence(&wall.and_utc(), false)
            .ok()?
            .naive_utc();
        let t = wall_instant(tz, wall);
        if t > after {
            return Some(t);
        }
    }
}

/// The instant a fixed-time job due at wall-clock `wall` in `tz` runs: in an overlap the first
/// pass, in a gap the gap's end (the first instant after it).
fn wall_instant(tz: Tz, wall: chrono::NaiveDateTime) -> DateTime<Utc> {
    use chrono::TimeZone;
    match tz.from_local_datetime(&wall) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        chrono::LocalResult::None => {
            // The first instant whose wall-clock time is past `wall`: zones are within a day of
            // UTC, so it lies within a day of `wall` read as UTC; sought by whole seconds, at
            // which zones change.
            let later = |secs: i64| {
                DateTime::from_timestamp(secs, 0)
                    .is_none_or(|t| t.with_timezone(&tz).naive_local() > wall)
            };
            let day = 24 * 3600;
            let at = wall.and_utc().timestamp();
            let (mut before, mut past) = (at - day, at + day);
            while past - before > 1 {
                let mid = before + (past - before) / 2;
                if later(mid) {
                    past = mid;
                } else {
                    before = mid;
                }
            }
            DateTime::from_timestamp(past, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
        }
    }
}

/// The last instant of a schedule whose year field bounds it (years and ranges of years): its
/// source is not polled after it. `None` for a schedule without a year field, or with a part
/// that runs on for ever (`*`, `*/2`, `2026/2`): croner's last year is not the schedule's.
pub fn last_fire(schedule: &Schedule, tz: Tz) -> Option<DateTime<Utc>> {
    let years = schedule.expr.split_whitespace().nth(6)?;
    let endless = |part: &str| {
        let range = part.split('/').next().unwrap_or(part);
        range == "*" || (part.contains('/') && !range.contains('-'))
    };
    if years.split(',').any(endless) {
        return None;
    }
    let end = chrono::NaiveDate::from_ymd_opt(croner::YEAR_UPPER_LIMIT, 12, 31)?
        .and_hms_opt(23, 59, 59)?;
    if fixed_times(&schedule.cron) {
        // The last wall-clock time, run as `next_fire` runs it (croner's own backward search
        // answers the instant before a gap, at which the job never runs).
        let wall = schedule
            .cron
            .find_previous_occurrence(&end.and_utc(), true)
            .ok()?
            .naive_utc();
        return Some(wall_instant(tz, wall));
    }
    // An interval job runs at no instant of a gap, and croner's backward search skips them.
    let end = chrono::TimeZone::from_local_datetime(&tz, &end).earliest()?;
    let last = schedule
        .cron
        .find_previous_occurrence(&end, true)
        .ok()?
        .with_timezone(&Utc);
    Some(last)
}

/// Why a source on `schedule`, which has no instant left, is not polled: for `/healthz` and the
/// admins.
pub fn ended_text(schedule: &Schedule) -> String {
    format!(
        "its schedule `{}` fires no more (no instant is left in its years): it is not polled \
         again until the schedule is changed",
        schedule.expr
    )
}

/// croner's own answer in `tz`. Inside an overlap it may name the first pass's instant, which is
/// already past; then the search starts again an hour later, past the repeated wall-clock hour.
fn zoned_next(schedule: &Schedule, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut from = after;
    for _ in 0..4 {
        let t = schedule
            .cron
            .find_next_occurrence(&from.with_timezone(&tz), false)
            .ok()?
            .with_timezone(&Utc);
        if t > after {
            return Some(t);
        }
        from += chrono::Duration::hours(1);
    }
    None
}

/// The schedule's usual interval: the gap between its next two instants after `now`.
pub fn interval(schedule: &Schedule, tz: Tz, now: DateTime<Utc>) -> Option<Duration> {
    let a = next_fire(schedule, tz, now)?;
    let b = next_fire(schedule, tz, a)?;
    (b - a).to_std().ok()
}

/// The longest delay [`spread`] gives a source after its schedule's instant.
const MAX_SPREAD: Duration = Duration::from_secs(60);

/// A fraction in [0, 1) taken from `key`: the same key always gets the same fraction.
fn fraction(key: &str) -> f64 {
    let digest = crate::model::ItemId::new("spread", key).0;
    f64::from(u16::from_be_bytes([digest[0], digest[1]])) / 65536.0
}

/// A source's fixed delay after each instant of its schedule: a fraction of half the schedule's
/// usual interval (at most a minute), taken from the source id. A thousand sources on
/// `0 * * * * *` then poll over the first half of each minute, not all at second 0, and each
/// source keeps the same rhythm from one run to the next.
pub fn spread(key: &str, schedule: &Schedule, tz: Tz, now: DateTime<Utc>) -> Duration {
    let interval = interval(schedule, tz, now).unwrap_or_default();
    let window = (interval / 2).min(MAX_SPREAD);
    window.mul_f64(fraction(key))
}

/// How long after start a source is polled for the first time: a fraction of `window` taken
/// from the source id, so that sources started together are not all polled at once.
pub fn start_delay(key: &str, window: Duration) -> Duration {
    window.mul_f64(fraction(key))
}

/// When a task runs its job.
#[derive(Clone, Debug)]
pub struct Timing {
    pub schedule: Schedule,
    /// The zone the schedule is read in.
    pub tz: Tz,
    /// The delay after each instant (see [`spread`]).
    pub offset: Duration,
    /// Run once this long after the task starts, before the first instant of the schedule.
    pub first: Option<Duration>,
}

/// Runs `job` once `timing.first` after the start (when set, and sooner than the schedule's
/// first instant; a schedule with no instant left runs that once), then at every instant of the schedule (each delayed by `timing.offset`) until `stop` is cancelled. Before each wait,
/// `announce` is told when the job runs next. A job that overruns its next tick delays it: the
/// next instant is computed after the job ends. A job may answer an instant before which it must
/// not run again (a failing source's rest): it runs again at that instant, not at the schedule's
/// first instant after it (a daily source that fails is tried again minutes later, not the next
/// day), and ticks before it are skipped; a run that answers nothing goes back to the schedule.
/// A schedule with no instant left ends the runs, retries too.
pub async fn run_every<F, Fut>(
    timing: Timing,
    stop: CancellationToken,
    announce: impl FnMut(Option<DateTime<Utc>>),
    job: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<DateTime<Utc>>>,
{
    run_by_clock(Utc::now, timing, stop, announce, job).await;
}

/// [`run_every`] with the wall clock `now` (a test moves it).
///
/// The wall clock may be set back (a VM restored from a snapshot, NTP correcting a clock that
/// ran ahead): no wait is then longer than it was when it began, measured on the monotonic
/// clock, and the schedule goes on from the clock's new time; a job may then run once more for
/// an instant it ran for (harmless: a poll finds what it found), never D late.
async fn run_by_clock<F, Fut>(
    now: impl Fn() -> DateTime<Utc>,
    timing: Timing,
    stop: CancellationToken,
    mut announce: impl FnMut(Option<DateTime<Utc>>),
    mut job: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<DateTime<Utc>>>,
{
    let Timing {
        schedule,
        tz,
        offset,
        first,
    } = timing;
    let offset = chrono::Duration::from_std(offset).unwrap_or_default();
    let mut after = now();
    // When a failed run asked to run again (its rest's end).
    let mut retry_at: Option<DateTime<Utc>> = None;
    let first_at = first.map(|d| after + chrono::Duration::from_std(d).unwrap_or_default());
    // The first poll after start is the schedule's own when that comes sooner. A schedule with
    // no instant left (its years past) runs once at start too (SPEC: every source is polled
    // once soon after start), then no more.
    let scheduled = next_fire(&schedule, tz, after).map(|t| t + offset);
    if let Some(at) = first_at.filter(|at| scheduled.is_none_or(|s| *at < s)) {
        announce(Some(at));
        if !sleep_until(&now, at, &stop).await {
            return;
        }
        retry_at = job().await;
        after = now();
    }
    loop {
        let Some(next) = next_fire(&schedule, tz, after) else {
            tracing::warn!(schedule = %schedule.expr, "schedule has no future instant");
            announce(None);
            return;
        };
        // After a failure the next run is the rest's end, whatever the schedule says then: an
        // instant inside the rest is skipped, and one long after it (a daily schedule) is not
        // waited for.
        let at = retry_at.take().unwrap_or(next + offset);
        announce(Some(at));
        if !sleep_until(&now, at, &stop).await {
            return;
        }
        retry_at = job().await;
        // Never fire twice for one instant: the next is looked for after the job's end (a
        // clock set back to before the instant is taken as it is, else the next wait would be
        // as much longer as the clock went back).
        after = now();
    }
}

/// Sleeps until the wall-clock instant `at` (by `now`), in steps of at most 30 s so that a clock
/// set forward (NTP, suspend) brings the wake-up nearer; a clock set back does not put it off:
/// the sleep lasts at most what was left at its start, on the monotonic clock. Returns false
/// when stopped first.
async fn sleep_until(
    now: &impl Fn() -> DateTime<Utc>,
    at: DateTime<Utc>,
    stop: &CancellationToken,
) -> bool {
    let latest = (at - now())
        .to_std()
        .ok()
        .and_then(|left| tokio::time::Instant::now().checked_add(left));
    loop {
        let left = at - now();
        let Ok(left) = left.to_std() else {
            return !stop.is_cancelled();
        };
        let left = match latest {
            Some(latest) => left.min(latest.saturating_duration_since(tokio::time::Instant::now())),
            None => left,
        };
        if left.is_zero() {
            return !stop.is_cancelled();
        }
        let step = left.min(Duration::from_secs(30));
        tokio::select! {
            () = stop.cancelled() => return false,
            () = tokio::time::sleep(step) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn schedule(expr: &str) -> Schedule {
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Required)
            .build()
            .parse(expr)
            .unwrap();
        Schedule {
            expr: expr.into(),
            cron: Arc::new(cron),
        }
    }

    #[test]
    fn schedules_of_one_text_share_their_parsed_form() {
        let parse = |expr: &str| {
            croner::parser::CronParser::builder()
                .seconds(croner::parser::Seconds::Required)
                .build()
                .parse(expr)
                .unwrap()
        };
        let a = Schedule::new("7 */3 * * * *", parse("7 */3 * * * *"));
        let b = Schedule::new("7 */3 * * * *", parse("7 */3 * * * *"));
        let other = Schedule::new("8 */3 * * * *", parse("8 */3 * * * *"));
        assert!(Arc::ptr_eq(&a.cron, &b.cron));
        assert!(!Arc::ptr_eq(&a.cron, &other.cron));
        let weak = Arc::downgrade(&a.cron);
        drop((a, b));
        assert!(
            weak.upgrade().is_none(),
            "nothing keeps a schedule no longer in use"
        );
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn fires(expr: &str, tz: Tz, from: &str, n: usize) -> Vec<String> {
        let s = schedule(expr);
        let mut t = utc(from);
        (0..n)
            .map(|_| {
                t = next_fire(&s, tz, t).unwrap();
                t.to_rfc3339()
            })
            .collect()
    }

    #[rstest]
    #[case::almaty_is_utc_plus_5(
        "0 0 9 * * *", chrono_tz::Asia::Almaty, "2026-03-21T00:00:00Z",
        &["2026-03-21T04:00:00+00:00", "2026-03-22T04:00:00+00:00"]
    )]
    #[case::berlin_fixed_time_in_spring_gap_runs_after_the_gap(
        "0 30 2 * * *", chrono_tz::Europe::Berlin, "2026-03-28T12:00:00Z",
        // 28th: CET (UTC+1); 29th: 02:30 does not exist, runs at 03:00 CEST; 30th: CEST (UTC+2).
        &["2026-03-29T01:00:00+00:00", "2026-03-30T00:30:00+00:00"]
    )]
    #[case::berlin_hourly_across_spring_gap(
        "0 0 * * * *", chrono_tz::Europe::Berlin, "2026-03-29T00:30:00Z",
        &["2026-03-29T01:00:00+00:00", "2026-03-29T02:00:00+00:00"]
    )]
    #[case::berlin_fixed_time_in_fall_overlap_runs_once(
        "0 30 2 * * *", chrono_tz::Europe::Berlin, "2026-10-24T12:00:00Z",
        // 25th: 02:30 happens twice; only the first (CEST, UTC+2) fires. 26th: CET (UTC+1).
        &["2026-10-25T00:30:00+00:00", "2026-10-26T01:30:00+00:00"]
    )]
    #[case::berlin_list_of_hours_runs_after_the_spring_gap(
        "0 30 2,14 * * *", chrono_tz::Europe::Berlin, "2026-03-28T12:00:00Z",
        // 14:30 CET; 02:30 is skipped: 03:00 CEST; 14:30 CEST (not 12 hours' wait).
        &["2026-03-28T13:30:00+00:00", "2026-03-29T01:00:00+00:00", "2026-03-29T12:30:00+00:00"]
    )]
    #[case::berlin_list_of_minutes_in_the_spring_gap_runs_once(
        "0 0,30 2 * * *", chrono_tz::Europe::Berlin, "2026-03-28T12:00:00Z",
        // 02:00 and 02:30 are both skipped: one run at 03:00 CEST; then 02:00 CEST.
        &["2026-03-29T01:00:00+00:00", "2026-03-30T00:00:00+00:00"]
    )]
    #[case::berlin_list_of_hours_in_fall_overlap_runs_once(
        "0 30 2,14 * * *", chrono_tz::Europe::Berlin, "2026-10-24T20:00:00Z",
        // 02:30 CEST only (not 02:30 CET too), then 14:30 CET.
        &["2026-10-25T00:30:00+00:00", "2026-10-25T13:30:00+00:00"]
    )]
    #[case::berlin_step_naming_one_hour_in_fall_overlap_runs_once(
        "0 30 2/23 * * *", chrono_tz::Europe::Berlin, "2026-10-24T12:00:00Z",
        &["2026-10-25T00:30:00+00:00", "2026-10-26T01:30:00+00:00"]
    )]
    #[case::berlin_every_thirty_minutes_keeps_real_intervals_in_fall(
        "0 */30 * * * *", chrono_tz::Europe::Berlin, "2026-10-24T23:50:00Z",
        &["2026-10-25T00:00:00+00:00", "2026-10-25T00:30:00+00:00", "2026-10-25T01:00:00+00:00", "2026-10-25T01:30:00+00:00", "2026-10-25T02:00:00+00:00"]
    )]
    #[case::berlin_daily_9am_before_and_after_dst(
        "0 0 9 * * *", chrono_tz::Europe::Berlin, "2026-10-24T12:00:00Z",
        &["2026-10-25T08:00:00+00:00", "2026-10-26T08:00:00+00:00"]
    )]
    #[case::seconds_field_is_honoured(
        "*/20 * * * * *", chrono_tz::UTC, "2026-01-01T00:00:00Z",
        &["2026-01-01T00:00:20+00:00", "2026-01-01T00:00:40+00:00", "2026-01-01T00:01:00+00:00"]
    )]
    fn next_fire_times(
        #[case] expr: &str,
        #[case] tz: Tz,
        #[case] from: &str,
        #[case] expected: &[&str],
    ) {
        assert_eq!(fires(expr, tz, from, expected.len()), expected);
    }

    /// An interval schedule keeps its real interval through both of Berlin's 2026 changes: no
    /// pause, no burst, never backwards.
    #[rstest]
    #[case::spring("2026-03-28T20:00:00Z")]
    #[case::fall("2026-10-24T20:00:00Z")]
    fn ten_minute_schedule_is_regular_across_dst(#[case] from: &str) {
        let s = schedule("0 */10 * * * *");
        let mut t = utc(from);
        for _ in 0..(12 * 6) {
            let next = next_fire(&s, chrono_tz::Europe::Berlin, t).unwrap();
            assert_eq!((next - t).num_minutes(), 10, "after {t}");
            t = next;
        }
    }

    /// The wall clock set back an hour while a job runs, and again while the task waits: the
    /// job still runs every second (before: after the hour had passed again).
    #[tokio::test]
    async fn a_clock_set_back_does_not_pause_the_schedule() {
        use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
        let stop = CancellationToken::new();
        let back = Arc::new(AtomicI64::new(0));
        let runs = Arc::new(AtomicUsize::new(0));
        let timing = Timing {
            schedule: schedule("* * * * * *"),
            tz: chrono_tz::UTC,
            offset: Duration::ZERO,
            first: None,
        };
        let clock = {
            let back = back.clone();
            move || Utc::now() - chrono::Duration::seconds(back.load(Ordering::SeqCst))
        };
        let (b, n) = (back.clone(), runs.clone());
        let task = tokio::spawn(run_by_clock(
            clock,
            timing,
            stop.clone(),
            |_| {},
            move || {
                let (b, n) = (b.clone(), n.clone());
                async move {
                    if n.fetch_add(1, Ordering::SeqCst) == 1 {
                        b.fetch_add(3600, Ordering::SeqCst);
                    }
                    None
                }
            },
        ));
        tokio::time::sleep(Duration::from_millis(3200)).await;
        back.fetch_add(3600, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(3000)).await;
        stop.cancel();
        task.await.unwrap();
        let n = runs.load(Ordering::SeqCst);
        assert!(n >= 5, "{n} runs in 6.2 s of a job due every second");
    }

    /// A clock for `run_by_clock` that starts at `start` and moves with tokio's (paused) time.
    fn paused_clock(start: &str) -> impl Fn() -> DateTime<Utc> + Clone + use<> {
        let (wall, mono) = (utc(start), tokio::time::Instant::now());
        move || wall + chrono::Duration::from_std(mono.elapsed()).unwrap()
    }

    /// Runs `job` on `expr` from `start` by a paused clock for `run_for`; answers when it ran,
    /// and what was announced.
    async fn runs_for(
        expr: &str,
        start: &str,
        first: Option<Duration>,
        run_for: Duration,
        job: impl Fn(usize, DateTime<Utc>) -> Option<DateTime<Utc>> + Send + Sync + 'static,
    ) -> (Vec<DateTime<Utc>>, Vec<Option<DateTime<Utc>>>) {
        let clock = paused_clock(start);
        let stop = CancellationToken::new();
        let ran = Arc::new(Mutex::new(Vec::new()));
        let announced = Arc::new(Mutex::new(Vec::new()));
        let timing = Timing {
            schedule: schedule(expr),
            tz: chrono_tz::UTC,
            offset: Duration::ZERO,
            first,
        };
        let (r, a, c) = (ran.clone(), announced.clone(), clock.clone());
        let job = Arc::new(job);
        let task = tokio::spawn(run_by_clock(
            clock,
            timing,
            stop.clone(),
            move |t| a.lock().unwrap().push(t),
            move || {
                let (r, c, job) = (r.clone(), c.clone(), job.clone());
                async move {
                    let mut ran = r.lock().unwrap();
                    ran.push(c());
                    job(ran.len(), c())
                }
            },
        ));
        tokio::time::sleep(run_for).await;
        stop.cancel();
        task.await.unwrap();
        let ran = ran.lock().unwrap().clone();
        let announced = announced.lock().unwrap().clone();
        (ran, announced)
    }

    /// A daily source that fails at 09:00 (a DNS blip) is tried again when its rest ends (here
    /// a minute, then two), not the next day; once a try works it is back on its schedule.
    #[tokio::test(start_paused = true)]
    async fn a_failed_run_is_tried_again_when_its_rest_ends() {
        let two_days = Duration::from_secs(2 * 24 * 3600);
        let (ran, _) = runs_for(
            "0 0 9 * * *",
            "2026-12-07T08:59:50Z",
            None,
            two_days,
            |n, now| {
                let rest = [Some(60), Some(120), None][(n - 1).min(2)];
                rest.map(|secs| now + chrono::Duration::seconds(secs))
            },
        )
        .await;
        let ran: Vec<String> = ran
            .iter()
            .map(|t| t.format("%d %H:%M:%S").to_string())
            .collect();
        assert_eq!(
            ran,
            ["07 09:00:00", "07 09:01:00", "07 09:03:00", "08 09:00:00",]
        );
    }

    /// A schedule with no instant left runs nothing, not even the first run after start, and
    /// says it has no next run; one whose last instant comes runs until then, and then stops.
    #[tokio::test(start_paused = true)]
    async fn a_schedule_that_ran_out_runs_no_more() {
        let day = Duration::from_secs(24 * 3600);
        let first = Some(Duration::from_secs(1));
        let start = "2026-12-07T12:00:00Z";
        let (ran, announced) = runs_for("0 0 0 1 1 * 2020", start, first, day, |_, _| None).await;
        assert_eq!(ran.len(), 1, "once at start, then no more: {ran:?}");
        assert_eq!(announced.last(), Some(&None));
        let start = "2026-12-31T23:59:15Z";
        let (ran, announced) =
            runs_for("*/10 * * * * * 2026", start, first, day, |_, _| None).await;
        let ran: Vec<String> = ran
            .iter()
            .map(|t| t.format("%H:%M:%S").to_string())
            .collect();
        assert_eq!(
            ran,
            ["23:59:16", "23:59:20", "23:59:30", "23:59:40", "23:59:50"]
        );
        assert_eq!(announced.last(), Some(&None));
    }

    /// A fast schedule's instants inside a rest are skipped: the next run is the rest's end.
    #[tokio::test(start_paused = true)]
    async fn the_instants_inside_a_rest_are_skipped() {
        let five_minutes = Duration::from_secs(5 * 60);
        let (ran, _) = runs_for(
            "0 * * * * *",
            "2026-12-07T08:59:50Z",
            None,
            five_minutes,
            |n, now| (n == 1).then(|| now + chrono::Duration::seconds(150)),
        )
        .await;
        let ran: Vec<String> = ran
            .iter()
            .map(|t| t.format("%H:%M:%S").to_string())
            .collect();
        assert_eq!(ran, ["09:00:00", "09:02:30", "09:03:00", "09:04:00"]);
    }

    #[tokio::test]
    async fn a_slow_job_is_never_run_twice_at_once() {
        let stop = CancellationToken::new();
        let running = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (r, n) = (running.clone(), runs.clone());
        let timing = Timing {
            schedule: schedule("* * * * * *"),
            tz: chrono_tz::UTC,
            offset: Duration::ZERO,
            first: None,
        };
        let task = tokio::spawn(run_every(
            timing,
            stop.clone(),
            |_| {},
            move || {
                let (r, n) = (r.clone(), n.clone());
                async move {
                    let was = r.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    assert_eq!(was, 0, "overlapping run");
                    n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(2500)).await;
                    r.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    None
                }
            },
        ));
        tokio::time::sleep(Duration::from_millis(4500)).await;
        stop.cancel();
        task.await.unwrap();
        let n = runs.load(std::sync::atomic::Ordering::SeqCst);
        assert!((1..=2).contains(&n), "{n} runs in 4.5 s of a 2.5 s job");
    }

    /// A schedule that fires once a year still runs its job soon after start when `first` is
    /// set, and says when it runs next, before and after.
    #[tokio::test]
    async fn first_run_comes_soon_after_start_then_the_schedule() {
        let stop = CancellationToken::new();
        let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let announced = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let timing = Timing {
            schedule: schedule("0 0 0 1 1 *"),
            tz: chrono_tz::UTC,
            offset: Duration::ZERO,
            first: Some(Duration::from_millis(200)),
        };
        let started = Utc::now();
        let (n, a) = (runs.clone(), announced.clone());
        let task = tokio::spawn(run_every(
            timing,
            stop.clone(),
            move |t| a.lock().unwrap().push(t),
            move || {
                n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async { None }
            },
        ));
        tokio::time::sleep(Duration::from_millis(800)).await;
        stop.cancel();
        task.await.unwrap();
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
        let announced = announced.lock().unwrap().clone();
        assert_eq!(announced.len(), 2, "{announced:?}");
        let first = announced[0].unwrap();
        assert!(first > started && first < started + chrono::Duration::seconds(1));
        assert!(announced[1].unwrap() > started + chrono::Duration::days(1));
    }

    /// A schedule that fires before the start window's poll is not held back by it.
    #[tokio::test]
    async fn a_sooner_schedule_beats_the_first_poll_window() {
        let stop = CancellationToken::new();
        let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let timing = Timing {
            schedule: schedule("* * * * * *"),
            tz: chrono_tz::UTC,
            offset: Duration::ZERO,
            first: Some(Duration::from_secs(60)),
        };
        let n = runs.clone();
        let task = tokio::spawn(run_every(
            timing,
            stop.clone(),
            |_| {},
            move || {
                n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async { None }
            },
        ));
        tokio::time::sleep(Duration::from_millis(2500)).await;
        stop.cancel();
        task.await.unwrap();
        assert!(runs.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    }

    #[test]
    fn start_delays_cover_the_window() {
        let window = Duration::from_secs(60);
        let delays: Vec<Duration> = (0..200)
            .map(|i| start_delay(&format!("source-{i}"), window))
            .collect();
        assert!(delays.iter().all(|d| *d < window));
        assert!(delays.iter().any(|d| *d < Duration::from_secs(10)));
        assert!(delays.iter().any(|d| *d > Duration::from_secs(50)));
        assert_eq!(
            start_delay("akorda-en", window),
            start_delay("akorda-en", window)
        );
    }

    #[test]
    fn spread_covers_half_the_interval_at_most_a_minute() {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 21, 12, 0, 0).unwrap();
        let minutely = schedule("0 * * * * *");
        let offsets: Vec<Duration> = (0..1000)
            .map(|i| spread(&format!("source-{i}"), &minutely, chrono_tz::UTC, now))
            .collect();
        assert!(offsets.iter().all(|o| *o < Duration::from_secs(30)));
        let seconds: std::collections::HashSet<u64> = offsets.iter().map(|o| o.as_secs()).collect();
        assert_eq!(
            seconds.len(),
            30,
            "a thousand sources use every second of the window"
        );
        let mut per_second = std::collections::HashMap::<u64, usize>::new();
        for o in &offsets {
            *per_second.entry(o.as_secs()).or_default() += 1;
        }
        assert!(per_second.values().all(|&n| n < 70), "{per_second:?}");
        // Same id, same offset; a daily schedule is delayed at most a minute.
        assert_eq!(
            spread("akorda-en", &minutely, chrono_tz::UTC, now),
            spread(
                "akorda-en",
                &minutely,
                chrono_tz::UTC,
                now + chrono::Duration::hours(5)
            )
        );
        let daily = schedule("0 0 9 * * *");
        assert!(spread("akorda-en", &daily, chrono_tz::UTC, now) <= Duration::from_secs(60));
        let every_second = schedule("* * * * * *");
        assert!(spread("x", &every_second, chrono_tz::UTC, now) < Duration::from_millis(500));
    }
}
