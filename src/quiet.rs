//! Silent hours of a channel (issue 10): a daily window, read in a timezone, during which new
//! posts either go out without a notification (`quiet = "silent"`, Bot API
//! `disable_notification`) or stay queued until the window ends (`quiet = "hold"`). Edits are
//! never held nor silenced: a correction should reach a post as soon as it can.
//!
//! Everything here is pure: the outbox worker asks [`QuietHours::contains`] before each send,
//! with the time of [`clock::now`], the one clock the delivery code reads.

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;

/// Minutes in a day: `24:00`, the only end that is not a time of day, closes a window at midnight.
const DAY: u32 = 24 * 60;

/// What happens to posts inside the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuietMode {
    /// Sent at once, without a notification sound.
    Silent,
    /// Kept queued; sent when the window ends, oldest first.
    Hold,
}

impl QuietMode {
    /// The mode named in config.toml (`"silent"`, `"hold"`).
    pub fn from_name(name: &str) -> Option<QuietMode> {
        match name {
            "silent" => Some(QuietMode::Silent),
            "hold" => Some(QuietMode::Hold),
            _ => None,
        }
    }
}

/// A channel's `quiet_hours`, `quiet_timezone` and `quiet`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuietHours {
    /// Minutes after local midnight: the window is `[start, end)`, wrapping midnight when
    /// `end <= start` (`23:00-07:00`).
    pub start: u32,
    pub end: u32,
    pub timezone: Tz,
    pub mode: QuietMode,
}

impl QuietHours {
    /// Parses `"HH:MM-HH:MM"` into minutes after midnight. The end may be `24:00`; a window
    /// that starts where it ends is refused, as it says nothing clear (none, or all day?).
    pub fn parse_window(text: &str) -> Result<(u32, u32), String> {
        let bad = || {
            format!(
                "quiet_hours `{text}` is not a window such as \"23:00-07:00\" (HH:MM-HH:MM, local time; \
                 \"00:00-24:00\" is all day)"
            )
        };
        let (start, end) = text.split_once('-').ok_or_else(bad)?;
        let start = minutes(start.trim(), false).ok_or_else(bad)?;
        let end = minutes(end.trim(), true).ok_or_else(bad)?;
        if start == end % DAY && end != DAY {
            return Err(format!(
                "quiet_hours `{text}` starts where it ends: write \"00:00-24:00\" for all day"
            ));
        }
        Ok((start, end))
    }

    /// Whether `now` falls inside the window, in the window's timezone.
    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&self.timezone);
        let minute = local.hour() * 60 + local.minute();
        if self.start < self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }

    /// Whether a new post must wait now.
    pub fn holds(&self, now: DateTime<Utc>) -> bool {
        self.mode == QuietMode::Hold && self.contains(now)
    }

    /// Whether a post sent now goes without a notification.
    pub fn silences(&self, now: DateTime<Utc>) -> bool {
        self.mode == QuietMode::Silent && self.contains(now)
    }
}

/// The one "now" of the delivery code (quiet hours, the chats' calls and 429 holds as kept in
/// the store, the outbox's times). In production it is the wall clock, `Utc::now()`. The
/// delivery simulation (tests/delivery_simulation.rs) runs on tokio's paused clock: it calls
/// [`clock::follow_tokio`] so that this clock starts at a fixed instant and advances with the
/// simulated time, and quiet hours and the calls of the last minute are read on the same time
/// the simulated Telegram counts in, whatever the wall clock does meanwhile.
pub mod clock {
    use chrono::{DateTime, Utc};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::time::Instant;

    /// Set once a simulation follows tokio's clock; never in production.
    static FOLLOWING: AtomicBool = AtomicBool::new(false);
    /// The wall time that tokio's instant stands for.
    static BASE: Mutex<Option<(DateTime<Utc>, Instant)>> = Mutex::new(None);

    /// Now: `Utc::now()`, or the simulated time once [`follow_tokio`] was called.
    pub fn now() -> DateTime<Utc> {
        if FOLLOWING.load(Ordering::Acquire)
            && let Some((wall, at)) = *BASE.lock().unwrap_or_else(|p| p.into_inner())
            && let Ok(elapsed) =
                chrono::Duration::from_std(Instant::now().saturating_duration_since(at))
            && let Some(now) = wall.checked_add_signed(elapsed)
        {
            return now;
        }
        Utc::now()
    }

    /// For simulations on tokio's paused clock only: from this call on, [`now`] is `start` plus
    /// the tokio time elapsed since (in the runtime it is called in). Called again (a new
    /// runtime, the next seed), it starts over.
    #[doc(hidden)]
    pub fn follow_tokio(start: DateTime<Utc>) {
        *BASE.lock().unwrap_or_else(|p| p.into_inner()) = Some((start, Instant::now()));
        FOLLOWING.store(true, Ordering::Release);
    }
}

/// `"07:30"` as minutes after midnight; `"24:00"` only when `end`.
fn minutes(text: &str, end: bool) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    let digits = |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || m.len() != 2 || !digits(m) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) if end => Some(DAY),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn hours(window: &str, tz: Tz, mode: QuietMode) -> QuietHours {
        let (start, end) = QuietHours::parse_window(window).expect("valid window");
        QuietHours {
            start,
            end,
            timezone: tz,
            mode,
        }
    }

    #[rstest]
    #[case::night("23:00-07:00", (23 * 60, 7 * 60))]
    #[case::day("09:30-18:00", (9 * 60 + 30, 18 * 60))]
    #[case::single_digit_hour("7:05-9:00", (7 * 60 + 5, 9 * 60))]
    #[case::all_day("00:00-24:00", (0, DAY))]
    #[case::until_midnight("22:00-24:00", (22 * 60, DAY))]
    #[case::spaces(" 23:00 - 07:00 ", (23 * 60, 7 * 60))]
    fn windows_parse(#[case] text: &str, #[case] expected: (u32, u32)) {
        assert_eq!(QuietHours::parse_window(text), Ok(expected));
    }

    #[rstest]
    #[case::no_dash("23:00")]
    #[case::hour_25("25:00-07:00")]
    #[case::minute_60("23:60-07:00")]
    #[case::start_24("24:00-07:00")]
    #[case::one_digit_minute("23:0-07:00")]
    #[case::words("night")]
    #[case::empty("")]
    #[case::same("08:00-08:00")]
    #[case::negative("-1:00-07:00")]
    fn windows_rejected(#[case] text: &str) {
        assert!(QuietHours::parse_window(text).is_err(), "{text}");
    }

    #[rstest]
    // Asia/Almaty is UTC+5 all year.
    #[case::before_start("23:00-07:00", "2026-03-20T17:59:00Z", false)]
    #[case::at_start("23:00-07:00", "2026-03-20T18:00:00Z", true)]
    #[case::after_midnight("23:00-07:00", "2026-03-20T20:30:00Z", true)]
    #[case::last_minute("23:00-07:00", "2026-03-21T01:59:59Z", true)]
    #[case::at_end("23:00-07:00", "2026-03-21T02:00:00Z", false)]
    #[case::daytime_window_inside("09:00-18:00", "2026-03-21T05:00:00Z", true)]
    #[case::daytime_window_outside("09:00-18:00", "2026-03-21T14:00:00Z", false)]
    #[case::all_day("00:00-24:00", "2026-03-21T18:59:59Z", true)]
    #[case::until_midnight_late("22:00-24:00", "2026-03-21T18:59:00Z", true)]
    #[case::until_midnight_after("22:00-24:00", "2026-03-21T19:00:00Z", false)]
    fn window_contains(#[case] window: &str, #[case] now: &str, #[case] inside: bool) {
        let q = hours(window, chrono_tz::Asia::Almaty, QuietMode::Hold);
        let now: DateTime<Utc> = now.parse().unwrap();
        assert_eq!(q.contains(now), inside);
        assert_eq!(q.holds(now), inside);
        assert!(!q.silences(now), "a hold window never silences");
    }

    #[test]
    fn silent_mode_silences_and_never_holds() {
        let q = hours("00:00-24:00", Tz::UTC, QuietMode::Silent);
        let now: DateTime<Utc> = "2026-03-21T12:00:00Z".parse().unwrap();
        assert!(q.silences(now) && !q.holds(now));
    }

    #[test]
    fn window_follows_daylight_saving_time() {
        // Europe/Berlin: 23:00 local is 22:00 UTC in winter and 21:00 UTC in summer.
        let q = hours("23:00-07:00", chrono_tz::Europe::Berlin, QuietMode::Silent);
        let winter: DateTime<Utc> = "2026-01-15T21:30:00Z".parse().unwrap();
        let summer: DateTime<Utc> = "2026-07-15T21:30:00Z".parse().unwrap();
        assert!(!q.contains(winter));
        assert!(q.contains(summer));
    }
}
