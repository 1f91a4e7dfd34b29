//! Any text (and any `date_format`): a date or nothing, never a panic.
#![no_main]
use chrono::TimeZone;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (format, value) = text.split_once('\u{1}').unwrap_or(("", &text));
    let _ = herald::extract::dates::parse_date(value, None);
    if !format.is_empty() {
        let _ = herald::extract::dates::parse_date(value, Some(format));
    }
    let now = chrono::Utc.with_ymd_and_hms(2026, 3, 21, 12, 0, 0).unwrap();
    let _ = herald::extract::relative::parse_relative(value, now, chrono_tz::Asia::Almaty);
});
