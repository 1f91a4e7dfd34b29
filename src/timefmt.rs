//! How herald shows an instant to people: one form everywhere an admin or a subscriber reads a
//! time (the index page, `/status`, the logs), always with its zone.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// The form of every shown time: `2026-12-05 17:21:47 +05` (Asia/Almaty), `… UTC` in UTC.
pub const FORMAT: &str = "%Y-%m-%d %H:%M:%S %Z";

/// `at` in `zone`, in [`FORMAT`].
pub fn show(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format(FORMAT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn shows_the_local_time_and_its_zone() {
        let at = Utc.with_ymd_and_hms(2026, 12, 5, 12, 21, 47).unwrap();
        assert_eq!(show(at, chrono_tz::Asia::Almaty), "2026-12-05 17:21:47 +05");
        assert_eq!(show(at, chrono_tz::UTC), "2026-12-05 12:21:47 UTC");
        assert_eq!(
            show(at, chrono_tz::Europe::Berlin),
            "2026-12-05 13:21:47 CET"
        );
    }
}
