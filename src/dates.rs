//! Dates as sources write them: parse the text, resolve it to an instant, write it back for a post.
//!
//! The journey has three pure steps:
//! 1. [`parse_date`]: page text (and the admin's optional `date_format`) -> [`ParsedDate`], which
//!    records only what the text says; no zone has been applied yet.
//! 2. [`resolve`]: [`ParsedDate`] + the source's `timezone` + when herald first saw the item ->
//!    a UTC instant (SPEC: "a date-only release gets its first-seen time when that falls on the
//!    same day").
//! 3. [`format_day`]: instant -> "21 марта 2026" for the Telegram post, in the source's language.
//!
//! Month words in English, Russian and Kazakh, in any grammatical case ("марта", "январе",
//! "наурыздың", "қаңтардағы"), are first rewritten to English month names. After that a single
//! set of patterns, and chrono's `%B`/`%b`, read all three languages.
//!
//! Decisions:
//! - A date needs a day, a month and a year. "март 2026", "21 марта" and "2026" give `None`: the
//!   1st of the month, or a guessed year, would be a made-up date, and it would sort the item wrongly.
//! - Numeric dates are day first ("21.03.2026", "21/03/2026"), as on akorda.kz and in Russian and
//!   Kazakh usage. They are read month first only when the second number cannot be a month
//!   ("03/21/2026").
//! - Years outside 1900..=2100 are not plausible publication dates.
//! - A time of day is recognised only with a colon ("14:30"), right after the date (at most two
//!   words such as "года," or "at" between) or right before it. "10.15" would be too easily
//!   confused with numbers in the text.

use std::ops::RangeInclusive;
use std::sync::LazyLock;

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use regex::{Captures, Regex};

/// What a date text says, before a timezone is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParsedDate {
    /// A calendar day only ("21 March 2026").
    Day(NaiveDate),
    /// A local wall-clock time without zone ("21 March 2026, 14:30").
    Local(NaiveDateTime),
    /// A time with an explicit offset (RFC 3339 / RFC 2822 / ISO 8601 with zone).
    Absolute(DateTime<FixedOffset>),
}

/// Parses a date as written on a page.
///
/// `format` is the admin's optional chrono strftime format (e.g. `"%d %B %Y"`). Month names in
/// English, Russian or Kazakh in any grammatical case are understood with it too, and words
/// around the date are ignored. When `format` is absent or does not match, common shapes are
/// recognised: "21 March 2026", "March 21, 2026", "21.03.2026", "2026-03-21", "2026 жылғы
/// 21 наурыз", RFC 3339, RFC 2822, each optionally with a time of day.
///
/// Returns `None` when no plausible date is found. Never panics.
pub fn parse_date(text: &str, format: Option<&str>) -> Option<ParsedDate> {
    let normalized = normalize(text);
    format
        .and_then(|format| parse_with_format(&normalized, format))
        // RFC 2822 wants "Mar", so the standard shapes see the text as written.
        .or_else(|| parse_standard(text.trim()))
        .or_else(|| parse_heuristic(&normalized))
}

/// The earliest date a release is believed to carry (1990-01-01): an earlier one ("01.01.1970",
/// a year-1 entry upstream) is a placeholder or an error of the site, and counts as no date.
/// Dates later than now are clamped to now by [`resolve`].
pub fn earliest_plausible() -> DateTime<Utc> {
    DateTime::from_timestamp(631_152_000, 0).unwrap_or(DateTime::UNIX_EPOCH)
}

/// Turns a parsed date into an instant, reading zone-less dates in `tz`.
///
/// - `Day(d)`: `first_seen` when that falls on day `d` in `tz`; otherwise the first instant of
///   day `d` in `tz` (00:00, or the end of the gap when the clocks jump over midnight).
/// - `Local(t)`: `t` in `tz`; the earlier instant when the clocks fall back, and the first
///   existing wall-clock time after `t` when `t` falls in a spring-forward gap.
/// - `Absolute(t)`: as is.
///
/// A result later than `now` is clamped to `now`: a date in the future is an error of the site.
pub fn resolve(
    date: ParsedDate,
    tz: Tz,
    first_seen: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let instant = match date {
        ParsedDate::Day(day) if local_date(first_seen, tz) == day => first_seen,
        ParsedDate::Day(day) => local_instant(tz, day.and_time(NaiveTime::MIN)),
        ParsedDate::Local(time) => local_instant(tz, time),
        ParsedDate::Absolute(time) => time.with_timezone(&Utc),
    };
    instant.min(now)
}

/// Writes a date for a Telegram post in the source's language and zone.
///
/// en "21 March 2026", ru "21 марта 2026" (genitive, as a date is said in Russian),
/// kk "21 наурыз 2026" (nominative, as Kazakh writes it); any other language gets the English
/// form. `lang` is a BCP 47 tag; only its primary subtag counts ("en-US" is "en"), and "kz" is
/// accepted for "kk" as in the configuration.
pub fn format_day(instant: DateTime<Utc>, tz: Tz, lang: &str) -> String {
    let day = local_date(instant, tz);
    let month = day.month0() as usize;
    let name = match primary_subtag(lang).as_str() {
        "ru" => RUSSIAN_GENITIVE[month],
        "kk" | "kz" => KAZAKH_MONTHS[month],
        _ => ENGLISH_MONTHS[month],
    };
    format!("{} {} {}", day.day(), name, day.year())
}

const ENGLISH_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const RUSSIAN_GENITIVE: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];

const KAZAKH_MONTHS: [&str; 12] = [
    "қаңтар",
    "ақпан",
    "наурыз",
    "сәуір",
    "мамыр",
    "маусым",
    "шілде",
    "тамыз",
    "қыркүйек",
    "қазан",
    "қараша",
    "желтоқсан",
];

/// Russian month stems without May; a case ending adds at most two letters ("марта", "мартом",
/// "январём"), which keeps longer words that merely start alike ("Мартынов") out.
const RUSSIAN_STEMS: [(&str, u32); 11] = [
    ("январ", 1),
    ("феврал", 2),
    ("март", 3),
    ("апрел", 4),
    ("июн", 6),
    ("июл", 7),
    ("август", 8),
    ("сентябр", 9),
    ("октябр", 10),
    ("ноябр", 11),
    ("декабр", 12),
];
const RUSSIAN_MAX_ENDING: usize = 2;

/// May is listed in full: a stem "ма" would also take Kazakh "мамыр" (May) and "маусым" (June).
const RUSSIAN_MAY: [&str; 6] = ["май", "мая", "мае", "маю", "маем", "маём"];

/// Abbreviations as written with a dot ("мар.", "сент."). "сен" is left out: in Kazakh it is "you".
const RUSSIAN_ABBREVIATIONS: [(&str, u32); 11] = [
    ("янв", 1),
    ("фев", 2),
    ("февр", 2),
    ("мар", 3),
    ("апр", 4),
    ("авг", 8),
    ("сент", 9),
    ("окт", 10),
    ("ноя", 11),
    ("нояб", 11),
    ("дек", 12),
];

/// Kazakh is agglutinative: case and possessive suffixes stack on the month name
/// ("наурызда", "наурыздың", "қаңтарындағы" = қаңтар + ындағы).
const KAZAKH_MAX_SUFFIX: usize = 7;

const PLAUSIBLE_YEARS: RangeInclusive<i32> = 1900..=2100;

/// Month number (1-12) of a lower-cased word in English, Russian or Kazakh, any case form.
fn month_of_word(word: &str) -> Option<u32> {
    english_month(word)
        .or_else(|| russian_month(word))
        .or_else(|| kazakh_month(word))
}

/// English words do not inflect: full names, three-letter abbreviations and "sept".
fn english_month(word: &str) -> Option<u32> {
    if word == "sept" {
        return Some(9);
    }
    ENGLISH_MONTHS
        .iter()
        .position(|name| word.eq_ignore_ascii_case(name) || word.eq_ignore_ascii_case(&name[..3]))
        .map(month_number)
}

fn russian_month(word: &str) -> Option<u32> {
    if RUSSIAN_MAY.contains(&word) {
        return Some(5);
    }
    let abbreviation = RUSSIAN_ABBREVIATIONS
        .iter()
        .find(|(short, _)| *short == word);
    let stem = || {
        RUSSIAN_STEMS
            .iter()
            .find(|(stem, _)| has_stem(word, stem, RUSSIAN_MAX_ENDING))
    };
    abbreviation.or_else(stem).map(|(_, month)| *month)
}

fn kazakh_month(word: &str) -> Option<u32> {
    KAZAKH_MONTHS
        .iter()
        .position(|name| has_stem(word, name, KAZAKH_MAX_SUFFIX))
        .map(month_number)
}

/// Whether `word` is `stem` followed by at most `max_suffix` letters.
fn has_stem(word: &str, stem: &str, max_suffix: usize) -> bool {
    word.strip_prefix(stem)
        .is_some_and(|suffix| suffix.chars().count() <= max_suffix)
}

/// Month number of an index into a 12-entry month table.
fn month_number(index: usize) -> u32 {
    index as u32 + 1
}

/// Rewrites every month word to its English name and every run of whitespace (NBSP included)
/// to one space, so that one set of patterns, and chrono's `%B`, read all three languages.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(first) = rest.chars().next() {
        let taken = if first.is_alphabetic() {
            let end = rest
                .find(|c: char| !c.is_alphabetic())
                .unwrap_or(rest.len());
            let word = &rest[..end];
            match month_of_word(&word.to_lowercase()) {
                Some(month) => out.push_str(ENGLISH_MONTHS[month as usize - 1]),
                None => out.push_str(word),
            }
            end
        } else if first.is_whitespace() {
            out.push(' ');
            rest.find(|c: char| !c.is_whitespace())
                .unwrap_or(rest.len())
        } else {
            out.push(first);
            first.len_utf8()
        };
        rest = &rest[taken..];
    }
    out
}

/// Tries the admin's format at every word start, so that words around the date are ignored
/// and whatever follows it is left over. An offset (`%z`) gives `Absolute`, a time `Local`.
fn parse_with_format(text: &str, format: &str) -> Option<ParsedDate> {
    word_starts(text).find_map(|start| {
        let window = &text[start..];
        let absolute =
            || DateTime::parse_and_remainder(window, format).map(|(t, _)| ParsedDate::Absolute(t));
        let local = || {
            NaiveDateTime::parse_and_remainder(window, format).map(|(t, _)| ParsedDate::Local(t))
        };
        let day =
            || NaiveDate::parse_and_remainder(window, format).map(|(d, _)| ParsedDate::Day(d));
        absolute()
            .or_else(|_| local())
            .or_else(|_| day())
            .ok()
            .and_then(plausible)
    })
}

/// Byte offsets where a word (or a sign) starts: the beginning of the text, or a non-space
/// character after one that is neither a letter nor a digit. Starting inside "121" would read 21.
fn word_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    let mut previous: Option<char> = None;
    text.char_indices().filter_map(move |(index, c)| {
        let starts = !c.is_whitespace() && !previous.is_some_and(char::is_alphanumeric);
        previous = Some(c);
        starts.then_some(index)
    })
}

/// The whole text as RFC 3339 ("2026-03-21T14:30:00+05:00") or RFC 2822 (feeds' pubDate).
fn parse_standard(text: &str) -> Option<ParsedDate> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_rfc2822(text))
        .ok()
        .map(ParsedDate::Absolute)
        .and_then(plausible)
}

fn plausible(date: ParsedDate) -> Option<ParsedDate> {
    let year = match date {
        ParsedDate::Day(day) => day.year(),
        ParsedDate::Local(time) => time.year(),
        ParsedDate::Absolute(time) => time.year(),
    };
    PLAUSIBLE_YEARS.contains(&year).then_some(date)
}

/// A date shape of the heuristic, matched against normalized text.
struct Shape {
    regex: Regex,
    /// Numeric day-first dates are read month first when the second number can't be a month.
    may_swap: bool,
}

/// Patterns use `[0-9]` rather than `\d`, which would also match digits of other scripts.
/// `MONTH` stands for the English month names that [`normalize`] leaves in the text.
static SHAPES: LazyLock<Vec<Shape>> = LazyLock::new(|| {
    let months = format!("(?P<mon>{})", ENGLISH_MONTHS.join("|"));
    let shapes = [
        // 2026-03-21, 2026/03/21, 2026.03.21
        (
            r"(?P<y>[0-9]{4})[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})",
            false,
        ),
        // 21.03.2026, 21/03/2026, 21-03-2026
        (
            r"(?P<d>[0-9]{1,2})[./-](?P<m>[0-9]{1,2})[./-](?P<y>[0-9]{4})",
            true,
        ),
        // 21 March 2026, 21st of March, 2026, 21-Mar-2026, 1-го мая 2026
        (
            r"(?P<d>[0-9]{1,2})(?:st|nd|rd|th|-го)?\.?[ \-/]?(?:of )?MONTH\.?,?[ \-/]?(?P<y>[0-9]{4})",
            false,
        ),
        // March 21, 2026; Mar. 21 2026
        (
            r"MONTH\.?[ \-/]?(?P<d>[0-9]{1,2})(?:st|nd|rd|th)?,?[ \-/]?(?P<y>[0-9]{4})",
            false,
        ),
        // Kazakh order: 2026 жылғы 21 наурыз, 2026 ж. 21-наурыз
        (
            r"(?P<y>[0-9]{4})[ ,]?(?:\p{L}+\.?[ ,]?)?(?P<d>[0-9]{1,2})(?:-го)?[ \-]?MONTH\b",
            false,
        ),
        // 2026 жылғы наурыздың 21-і, 2026 March 21
        (
            r"(?P<y>[0-9]{4})[ ,]?(?:\p{L}+\.?[ ,]?)?MONTH\.?[ \-]?(?P<d>[0-9]{1,2})",
            false,
        ),
    ];
    shapes
        .into_iter()
        .map(|(pattern, may_swap)| Shape {
            regex: Regex::new(&pattern.replace("MONTH", &months)).expect("date shape compiles"),
            may_swap,
        })
        .collect()
});

/// Hours and minutes with a colon, optional seconds (fraction dropped) and AM/PM.
const CLOCK: &str = r"(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:\.[0-9]{1,9})?)?(?: ?(?P<ampm>[AaPp]\.?[Mm]\.?))?";

/// Characters that may separate a date from its time: "21 March 2026, 14:30", "… | 14:30".
const GLUE: &str = r"[ ,;|/\-–—]";

/// A time right after the date: "T14:30:00Z", ", 14:30", " года, 10:15", " at 10:00 +0500".
static TIME_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    let offset = r"(?: ?(?P<off>Z\b|[+-][0-9]{2}(?::?[0-9]{2})?|(?:UTC|GMT|UT)(?:[+-][0-9]{1,2}(?::?[0-9]{2})?)?\b))?";
    let pattern = format!(r"^(?:T|{GLUE}+(?:\p{{L}}+\.?{GLUE}+){{0,2}}){CLOCK}{offset}");
    Regex::new(&pattern).expect("time pattern compiles")
});

/// A time right before the date: "14:30, 21 March 2026", "10:15 21.03.2026".
static TIME_BEFORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"{CLOCK}{GLUE}*$")).expect("time pattern compiles"));

/// The earliest date in the text; of dates starting at the same place, the longest.
fn parse_heuristic(text: &str) -> Option<ParsedDate> {
    SHAPES
        .iter()
        .flat_map(|shape| {
            shape
                .regex
                .captures_iter(text)
                .filter_map(move |caps| found(text, shape, &caps))
        })
        .min_by_key(|found| (found.start, std::cmp::Reverse(found.end)))
        .map(|found| found.date)
}

/// A date found by the heuristic and the byte range it spans.
struct Found {
    start: usize,
    end: usize,
    date: ParsedDate,
}

fn found(text: &str, shape: &Shape, caps: &Captures) -> Option<Found> {
    let whole = caps.get(0)?;
    // A date glued to more digits is part of some other number ("121 March 2026", "2026-03-215").
    if digit_before(text, whole.start()) || digit_after(text, whole.end()) {
        return None;
    }
    let day = calendar_day(shape, caps)?;
    let (time, offset, end) = match time_after(&text[whole.end()..]) {
        Some((time, offset, length)) => (Some(time), offset, whole.end() + length),
        None => (time_before(&text[..whole.start()]), None, whole.end()),
    };
    let date = plausible(with_time(day, time, offset))?;
    Some(Found {
        start: whole.start(),
        end,
        date,
    })
}

fn digit_before(text: &str, index: usize) -> bool {
    text[..index]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_digit())
}

fn digit_after(text: &str, index: usize) -> bool {
    text[index..].starts_with(|c: char| c.is_ascii_digit())
}

fn calendar_day(shape: &Shape, caps: &Captures) -> Option<NaiveDate> {
    let year: i32 = number(caps, "y")?;
    let month = match caps.name("mon") {
        Some(name) => ENGLISH_MONTHS
            .iter()
            .position(|month| *month == name.as_str())
            .map(month_number)?,
        None => number(caps, "m")?,
    };
    let day = number(caps, "d")?;
    let (day, month) = if shape.may_swap && month > 12 && day <= 12 {
        (month, day)
    } else {
        (day, month)
    };
    NaiveDate::from_ymd_opt(year, month, day)
}

fn number<T: std::str::FromStr>(caps: &Captures, group: &str) -> Option<T> {
    caps.name(group)?.as_str().parse().ok()
}

/// The time (and offset) at the start of `rest`, with the number of bytes it spans.
fn time_after(rest: &str) -> Option<(NaiveTime, Option<FixedOffset>, usize)> {
    let caps = TIME_AFTER.captures(rest)?;
    let length = caps.get(0)?.end();
    if digit_after(rest, length) {
        return None;
    }
    let offset = caps.name("off").and_then(|off| parse_offset(off.as_str()));
    Some((clock(&caps)?, offset, length))
}

fn time_before(prefix: &str) -> Option<NaiveTime> {
    let caps = TIME_BEFORE.captures(prefix)?;
    let start = caps.get(0)?.start();
    if prefix[..start].ends_with(|c: char| c.is_ascii_digit() || c == ':') {
        return None;
    }
    clock(&caps)
}

fn clock(caps: &Captures) -> Option<NaiveTime> {
    let mut hour: u32 = number(caps, "h")?;
    let minute = number(caps, "mi")?;
    let second = match caps.name("s") {
        Some(second) => second.as_str().parse().ok()?,
        None => 0,
    };
    if let Some(ampm) = caps.name("ampm") {
        if !(1..=12).contains(&hour) {
            return None;
        }
        let pm = ampm.as_str().starts_with(['p', 'P']);
        hour = hour % 12 + if pm { 12 } else { 0 };
    }
    NaiveTime::from_hms_opt(hour, minute, second)
}

/// "Z", "UTC", "GMT+5", "+05:00", "+0500", "-03". Real offsets stay within ±14 hours; a larger
/// one is more likely the end of a range such as "14:30-15:30" than a zone.
fn parse_offset(text: &str) -> Option<FixedOffset> {
    let signed = ["UTC", "GMT", "UT", "Z"]
        .iter()
        .find_map(|name| text.strip_prefix(name))
        .unwrap_or(text);
    let Some(sign) = signed.chars().next() else {
        return FixedOffset::east_opt(0);
    };
    let digits: String = signed[sign.len_utf8()..]
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let (hours, minutes) = if digits.len() <= 2 {
        (digits.as_str(), "0")
    } else {
        digits.split_at(digits.len() - 2)
    };
    let hours: i32 = hours.parse().ok()?;
    let minutes: i32 = minutes.parse().ok()?;
    if hours > 14 || minutes >= 60 {
        return None;
    }
    let seconds = (hours * 60 + minutes) * 60;
    FixedOffset::east_opt(if sign == '-' { -seconds } else { seconds })
}

fn with_time(day: NaiveDate, time: Option<NaiveTime>, offset: Option<FixedOffset>) -> ParsedDate {
    let Some(time) = time else {
        return ParsedDate::Day(day);
    };
    let local = day.and_time(time);
    offset
        .and_then(|offset| offset.from_local_datetime(&local).single())
        .map_or(ParsedDate::Local(local), ParsedDate::Absolute)
}

/// The instant that wall-clock time `local` names in `tz`: the earlier one when the clocks fall
/// back, and the first existing wall-clock time after `local` when it falls in a gap.
fn local_instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    if let Some(instant) = tz.from_local_datetime(&local).earliest() {
        return instant.with_timezone(&Utc);
    }
    // Gaps last less than a day and end on a whole minute in tzdata, so scanning forward by
    // minutes finds the first existing time (for a day, the first instant of that day).
    const MINUTES_PER_DAY: i64 = 24 * 60;
    let minute = local
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(local);
    (1..=MINUTES_PER_DAY)
        .filter_map(|k| minute.checked_add_signed(TimeDelta::minutes(k)))
        .find_map(|t| tz.from_local_datetime(&t).earliest())
        .map_or_else(|| local.and_utc(), |instant| instant.with_timezone(&Utc))
}

/// The calendar day of `instant` in `tz`. chrono's `date_naive` panics at the very ends of its
/// range; there the UTC day is close enough.
fn local_date(instant: DateTime<Utc>, tz: Tz) -> NaiveDate {
    let utc = instant.naive_utc();
    utc.checked_add_offset(tz.offset_from_utc_datetime(&utc).fix())
        .unwrap_or(utc)
        .date()
}

/// "en-US" -> "en", "RU" -> "ru".
fn primary_subtag(lang: &str) -> String {
    lang.split(['-', '_'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// "03/05/2026", "27.11.26": two numbers and a year, in an order the text alone may not tell.
static NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[^0-9./-])([0-9]{1,2})([./-])([0-9]{1,2})([./-])([0-9]{4}|[0-9]{2})(?:[^0-9]|$)",
    )
    .expect("numeric date pattern compiles")
});

/// Whether `text` holds a numeric date ("03/05/2026", "27.11.26"), readable or not.
pub fn has_numeric_date(text: &str) -> bool {
    NUMERIC.is_match(text)
}

/// The format that reads the numeric dates of one list page the same way, decided by the
/// evidence of all of them (issue 24): a first number over 12 means day first for the whole
/// list, a second one month first; without either, `month_first` (the source's region, see
/// [`month_first_region`]). `None` when no text holds a numeric date, or when the dates are
/// day first with a four-digit year (the reader's own default, which also keeps their time of
/// day). A two-digit year ("27.11.26") gets `%y`. When every date carries a time after it
/// ("03/13/2026 2:30 PM"), the format reads it too (`%m/%d/%Y %I:%M %p`).
pub fn numeric_format<'a>(
    texts: impl IntoIterator<Item = &'a str>,
    month_first: bool,
) -> Option<String> {
    numeric_order(texts, month_first)?.format
}

/// How the numeric dates of a list are read, and why (for `suggest`'s note).
#[derive(Clone, Debug, PartialEq)]
pub struct NumericOrder {
    pub month_first: bool,
    /// What decided the order: "a first number over 12 (\"21.03.2026\")", ….
    pub why: String,
    /// The `date_format` to write: `None` when the reader's own default reads them so.
    pub format: Option<String>,
}

/// A time of day right after a numeric date: its separator, hours and minutes, seconds, and
/// AM/PM with the space before it.
static NUMERIC_TIME_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\s*,\s*|\s+(?:at|в|kl\.|um|à)\s+|\s+)([0-9]{1,2}):[0-9]{2}(:[0-9]{2})?(?:(\s*)([AaPp]\.?[Mm]\.?))?")
        .expect("time pattern compiles")
});

/// [`numeric_format`], with the order chosen and what decided it. `None` when no text holds a
/// numeric date.
pub fn numeric_order<'a>(
    texts: impl IntoIterator<Item = &'a str>,
    month_first: bool,
) -> Option<NumericOrder> {
    let mut first: Option<(String, String, usize)> = None;
    let mut day_first_seen: Option<String> = None;
    let mut month_first_seen: Option<String> = None;
    // The time written after the dates: its format when every date has one of one shape.
    let mut time: Option<Option<String>> = None;
    for text in texts {
        let Some(c) = NUMERIC.captures(text) else {
            continue;
        };
        let (a, b) = (
            c[1].parse::<u32>().unwrap_or(0),
            c[3].parse::<u32>().unwrap_or(0),
        );
        let written = || format!("{}{}{}{}{}", &c[1], &c[2], &c[3], &c[4], &c[5]);
        if a > 12 && day_first_seen.is_none() {
            day_first_seen = Some(written());
        }
        if b > 12 && month_first_seen.is_none() {
            month_first_seen = Some(written());
        }
        if first.is_none() {
            first = Some((c[2].to_owned(), c[4].to_owned(), c[5].len()));
        }
        let end = c.get(5).map_or(text.len(), |m| m.end());
        let this = NUMERIC_TIME_AFTER.captures(&text[end..]).map(|t| {
            // The glue as written: ", ", " at ", " в " or a space.
            let glue = t[1].trim();
            let sep = match glue {
                "" => " ".to_owned(),
                "," => ", ".to_owned(),
                word => format!(" {word} "),
            };
            let seconds = if t.get(3).is_some() { ":%S" } else { "" };
            match t.get(5) {
                Some(_) => format!(
                    "{sep}%I:%M{seconds}{}%p",
                    t.get(4)
                        .map_or("", |s| if s.as_str().is_empty() { "" } else { " " })
                ),
                None => format!("{sep}%H:%M{seconds}"),
            }
        });
        time = Some(match time {
            None => this,
            Some(t) if t == this => t,
            Some(_) => None,
        });
    }
    let (sep1, sep2, year_len) = first?;
    let (month_first, why) = if let Some(d) = day_first_seen {
        (false, format!("a first number over 12 (\"{d}\")"))
    } else if let Some(m) = month_first_seen {
        (true, format!("a second number over 12 (\"{m}\")"))
    } else if month_first {
        (
            true,
            "no number over 12; the source's language and region write month first".into(),
        )
    } else {
        (false, "no number over 12; day first is the default".into())
    };
    let year = if year_len == 2 { "%y" } else { "%Y" };
    let time = time.flatten().unwrap_or_default();
    let format = match (month_first, year_len) {
        (true, _) => Some(format!("%m{sep1}%d{sep2}{year}{time}")),
        (false, 2) => Some(format!("%d{sep1}%m{sep2}{year}{time}")),
        (false, _) => None,
    };
    Some(NumericOrder {
        month_first,
        why,
        format,
    })
}

/// Whether a source writes numeric dates month first: its language's region is the United
/// States (or another country that does), or, with no region given, it writes English in an
/// America/… zone (Latin America writes day first, in Spanish or Portuguese).
pub fn month_first_region(language: &str, tz: Option<Tz>) -> bool {
    let mut parts = language.split('-');
    let primary = parts.next().unwrap_or("").to_ascii_lowercase();
    let region = parts
        .find(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()))
        .map(str::to_ascii_uppercase);
    match region.as_deref() {
        Some(r) => matches!(r, "US" | "PH" | "FM" | "MH" | "PW"),
        None => primary == "en" && tz.is_some_and(|tz| tz.name().starts_with("America/")),
    }
}

#[cfg(test)]
mod numeric_tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::day_first_evidence(&["21/03/2026", "03/05/2026"], true, None)]
    #[case::month_first_evidence(&["03/21/2026", "03/05/2026"], false, Some("%m/%d/%Y"))]
    #[case::region_decides(&["03/05/2026", "03/02/2026"], true, Some("%m/%d/%Y"))]
    #[case::default_day_first(&["03/05/2026"], false, None)]
    #[case::two_digit_year(&["27.11.26"], false, Some("%d.%m.%y"))]
    #[case::words(&["21 March 2026", "2026-03-05"], true, None)]
    #[case::us_time(&["03/13/2026 2:30 PM", "03/12/2026 11:00 AM"], true, Some("%m/%d/%Y %I:%M %p"))]
    #[case::us_time_24(&["03/13/2026, 14:30", "03/12/2026, 09:00"], true, Some("%m/%d/%Y, %H:%M"))]
    #[case::yy_time(&["27.11.26 21:40:05"], false, Some("%d.%m.%y %H:%M:%S"))]
    #[case::us_at(&["03/02/2026 at 4:15 PM", "03/05/2026 at 9:00 AM"], true, Some("%m/%d/%Y at %I:%M %p"))]
    #[case::some_without_time(&["03/13/2026 2:30 PM", "03/12/2026"], true, Some("%m/%d/%Y"))]
    fn numeric_orders(
        #[case] texts: &[&str],
        #[case] month_first: bool,
        #[case] expected: Option<&str>,
    ) {
        assert_eq!(
            numeric_format(texts.iter().copied(), month_first).as_deref(),
            expected
        );
    }

    #[test]
    fn a_us_page_keeps_the_time_its_dates_carry() {
        let texts = ["03/13/2026 2:30 PM", "03/12/2026 11:00 AM"];
        let format = numeric_format(texts, false).unwrap();
        assert_eq!(
            parse_date(texts[0], Some(&format)),
            Some(ParsedDate::Local(
                NaiveDate::from_ymd_opt(2026, 3, 13)
                    .unwrap()
                    .and_hms_opt(14, 30, 0)
                    .unwrap()
            ))
        );
    }

    #[test]
    fn a_time_after_at_is_read_too() {
        let texts = ["03/02/2026 at 4:15 PM", "03/05/2026 at 9:00 AM"];
        let format = numeric_format(texts, true).unwrap();
        assert_eq!(
            parse_date(texts[0], Some(&format)),
            Some(ParsedDate::Local(
                NaiveDate::from_ymd_opt(2026, 3, 2)
                    .unwrap()
                    .and_hms_opt(16, 15, 0)
                    .unwrap()
            ))
        );
    }

    #[test]
    fn the_order_chosen_says_why() {
        let o = numeric_order(["21.03.2026", "03.05.2026"], true).unwrap();
        assert!(!o.month_first);
        assert!(o.why.contains("21.03.2026"), "{}", o.why);
        let o = numeric_order(["03.05.2026"], false).unwrap();
        assert!(!o.month_first);
        assert!(o.why.contains("default"), "{}", o.why);
    }

    #[test]
    fn a_us_page_is_read_month_first_for_every_date() {
        let format = numeric_format(["03/05/2026", "03/21/2026"], false).unwrap();
        assert_eq!(
            parse_date("03/05/2026", Some(&format)),
            Some(ParsedDate::Day(
                NaiveDate::from_ymd_opt(2026, 3, 5).unwrap()
            ))
        );
        assert_eq!(
            parse_date("27.11.26", Some("%d.%m.%y")),
            Some(ParsedDate::Day(
                NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
            ))
        );
    }

    #[rstest]
    #[case("en-US", None, true)]
    #[case("en", Some(chrono_tz::America::New_York), true)]
    #[case("en", Some(chrono_tz::Europe::London), false)]
    #[case("en-GB", Some(chrono_tz::America::New_York), false)]
    #[case("ru", None, false)]
    fn regions(#[case] lang: &str, #[case] tz: Option<Tz>, #[case] expected: bool) {
        assert_eq!(month_first_region(lang, tz), expected);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn day(y: i32, m: u32, d: u32) -> Option<ParsedDate> {
        NaiveDate::from_ymd_opt(y, m, d).map(ParsedDate::Day)
    }

    fn local(y: i32, m: u32, d: u32, h: u32, mi: u32) -> Option<ParsedDate> {
        let time = NaiveTime::from_hms_opt(h, mi, 0)?;
        NaiveDate::from_ymd_opt(y, m, d).map(|day| ParsedDate::Local(day.and_time(time)))
    }

    fn absolute(rfc3339: &str) -> Option<ParsedDate> {
        DateTime::parse_from_rfc3339(rfc3339)
            .ok()
            .map(ParsedDate::Absolute)
    }

    fn utc(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .expect("test instant is RFC 3339")
            .with_timezone(&Utc)
    }

    #[rstest]
    #[case::day_month_year("21 March 2026", day(2026, 3, 21))]
    #[case::month_day_year("March 21, 2026", day(2026, 3, 21))]
    #[case::short_month("21 Mar 2026", day(2026, 3, 21))]
    #[case::short_month_dot_first("Mar. 21, 2026", day(2026, 3, 21))]
    #[case::upper_case("21 MARCH 2026", day(2026, 3, 21))]
    #[case::words_before("Published: 21 March 2026", day(2026, 3, 21))]
    #[case::words_after("21 March 2026 — Akorda", day(2026, 3, 21))]
    #[case::with_time("21 March 2026, 14:30", local(2026, 3, 21, 14, 30))]
    #[case::at_time_pm("March 21, 2026 at 2:30 PM", local(2026, 3, 21, 14, 30))]
    #[case::ordinal("1st of May, 2026", day(2026, 5, 1))]
    #[case::sept("5 Sept 2026", day(2026, 9, 5))]
    #[case::nbsp("21\u{a0}March\u{a0}2026", day(2026, 3, 21))]
    #[case::dotted("21.03.2026", day(2026, 3, 21))]
    #[case::slashed("21/03/2026", day(2026, 3, 21))]
    #[case::us_slashed_when_unambiguous("03/21/2026", day(2026, 3, 21))]
    #[case::dotted_time_before("10:15 21.03.2026", local(2026, 3, 21, 10, 15))]
    #[case::iso_day("2026-03-21", day(2026, 3, 21))]
    #[case::iso_offset("2026-03-21T14:30:00+05:00", absolute("2026-03-21T14:30:00+05:00"))]
    #[case::iso_zulu("2026-03-21T14:30:00Z", absolute("2026-03-21T14:30:00Z"))]
    #[case::iso_space_local("2026-03-21 14:30", local(2026, 3, 21, 14, 30))]
    #[case::iso_in_words(
        "updated 2026-03-21T14:30+05:00.",
        absolute("2026-03-21T14:30:00+05:00")
    )]
    #[case::rfc2822(
        "Sat, 21 Mar 2026 14:30:00 +0500",
        absolute("2026-03-21T14:30:00+05:00")
    )]
    #[case::rfc2822_gmt("Sat, 21 Mar 2026 09:30:00 GMT", absolute("2026-03-21T09:30:00Z"))]
    #[case::time_range_is_not_offset("21.03.2026 14:30-15:30", local(2026, 3, 21, 14, 30))]
    fn parses_english_and_numeric(#[case] text: &str, #[case] expected: Option<ParsedDate>) {
        assert_eq!(parse_date(text, None), expected);
    }

    #[rstest]
    #[case::genitive_goda("21 марта 2026 года", day(2026, 3, 21))]
    #[case::genitive_g("21 марта 2026 г.", day(2026, 3, 21))]
    #[case::capitalised("21 Марта 2026", day(2026, 3, 21))]
    #[case::upper_case("21 МАРТА 2026 ГОДА", day(2026, 3, 21))]
    #[case::may("1 мая 2026", day(2026, 5, 1))]
    #[case::june("3 июня 2026", day(2026, 6, 3))]
    #[case::with_time("12 декабря 2025 года, 10:15", local(2025, 12, 12, 10, 15))]
    #[case::time_first("10:15, 12 декабря 2025", local(2025, 12, 12, 10, 15))]
    #[case::nominative_january("15 январь 2026", day(2026, 1, 15))]
    #[case::nominative_may("9 май 2026", day(2026, 5, 9))]
    #[case::prepositional("15 январе 2026 года", day(2026, 1, 15))]
    #[case::ordinal_go("1-го мая 2026 года", day(2026, 5, 1))]
    #[case::abbreviated("21 мар. 2026", day(2026, 3, 21))]
    #[case::abbreviated_sept("2 сент. 2025 г.", day(2025, 9, 2))]
    #[case::year_glued("21 марта 2026г.", day(2026, 3, 21))]
    fn parses_russian(#[case] text: &str, #[case] expected: Option<ParsedDate>) {
        assert_eq!(parse_date(text, None), expected);
    }

    #[rstest]
    #[case::ru_january(1, "января")]
    #[case::ru_february(2, "февраля")]
    #[case::ru_march(3, "марта")]
    #[case::ru_april(4, "апреля")]
    #[case::ru_may(5, "мая")]
    #[case::ru_june(6, "июня")]
    #[case::ru_july(7, "июля")]
    #[case::ru_august(8, "августа")]
    #[case::ru_september(9, "сентября")]
    #[case::ru_october(10, "октября")]
    #[case::ru_november(11, "ноября")]
    #[case::ru_december(12, "декабря")]
    #[case::kk_january(1, "қаңтар")]
    #[case::kk_february(2, "ақпан")]
    #[case::kk_march(3, "наурыз")]
    #[case::kk_april(4, "сәуір")]
    #[case::kk_may(5, "мамыр")]
    #[case::kk_june(6, "маусым")]
    #[case::kk_july(7, "шілде")]
    #[case::kk_august(8, "тамыз")]
    #[case::kk_september(9, "қыркүйек")]
    #[case::kk_october(10, "қазан")]
    #[case::kk_november(11, "қараша")]
    #[case::kk_december(12, "желтоқсан")]
    fn every_month_name(#[case] month: u32, #[case] name: &str) {
        assert_eq!(
            parse_date(&format!("1 {name} 2026"), None),
            day(2026, month, 1)
        );
    }

    #[rstest]
    #[case::day_first_zh("21 наурыз 2026 ж.", day(2026, 3, 21))]
    #[case::day_first_zhyl("21 наурыз 2026 жыл", day(2026, 3, 21))]
    #[case::year_first("2026 жылғы 21 наурыз", day(2026, 3, 21))]
    #[case::year_first_zh("2026 ж. 21 наурыз", day(2026, 3, 21))]
    #[case::locative("2026 жылы 21 наурызда", day(2026, 3, 21))]
    #[case::genitive("2026 жылғы 21 наурыздың", day(2026, 3, 21))]
    #[case::attributive("2026 жылғы 5 қаңтардағы", day(2026, 1, 5))]
    #[case::hyphen("2026 жылғы 21-наурыз", day(2026, 3, 21))]
    #[case::month_then_day("2026 жылғы наурыздың 21-і", day(2026, 3, 21))]
    #[case::upper_case("1 ҚАЗАН 2025 Ж.", day(2025, 10, 1))]
    #[case::capitalised("1 Қазан 2025 ж.", day(2025, 10, 1))]
    #[case::with_time("21 наурыз 2026 ж., 14:30", local(2026, 3, 21, 14, 30))]
    #[case::june_not_may("3 маусым 2026", day(2026, 6, 3))]
    #[case::may_not_russian("3 мамыр 2026", day(2026, 5, 3))]
    fn parses_kazakh(#[case] text: &str, #[case] expected: Option<ParsedDate>) {
        assert_eq!(parse_date(text, None), expected);
    }

    #[rstest]
    #[case::ru_month("21 марта 2026 года", "%d %B %Y", day(2026, 3, 21))]
    #[case::kk_month("21 наурыз 2026 ж.", "%d %B %Y", day(2026, 3, 21))]
    #[case::words_around(
        "Опубликовано: 21 марта 2026 года в Астане",
        "%d %B %Y",
        day(2026, 3, 21)
    )]
    #[case::local_time(
        "March 21, 2026 at 10:00",
        "%B %d, %Y at %H:%M",
        local(2026, 3, 21, 10, 0)
    )]
    #[case::slashes("21/03/2026", "%d/%m/%Y", day(2026, 3, 21))]
    #[case::month_first_honoured("03/04/2026", "%m/%d/%Y", day(2026, 3, 4))]
    #[case::short_month("21 мар. 2026", "%d %b. %Y", day(2026, 3, 21))]
    #[case::offset(
        "21.03.2026 14:30 +0500",
        "%d.%m.%Y %H:%M %z",
        absolute("2026-03-21T14:30:00+05:00")
    )]
    #[case::kazakh_order("2026 жылғы 21 наурыз", "%Y жылғы %d %B", day(2026, 3, 21))]
    #[case::falls_back_to_heuristic("2026-03-21", "%d %B %Y", day(2026, 3, 21))]
    #[case::bad_format_falls_back("21 March 2026", "%Q %", day(2026, 3, 21))]
    #[case::no_day_in_format("март 2026", "%B %Y", None)]
    fn parses_with_format(
        #[case] text: &str,
        #[case] format: &str,
        #[case] expected: Option<ParsedDate>,
    ) {
        assert_eq!(parse_date(text, Some(format)), expected);
    }

    #[rstest]
    #[case::february_31("31 February 2026")]
    #[case::numeric_february_31("31.02.2026")]
    #[case::empty("")]
    #[case::blank("  \t ")]
    #[case::no_date("no date here")]
    #[case::year_alone("2026")]
    #[case::out_of_range("99.99.2026")]
    #[case::month_and_year_en("March 2026")]
    #[case::month_and_year_ru("март 2026")]
    #[case::prepositional_without_day("в январе 2026 года")]
    #[case::month_and_year_kk("2026 жылғы наурыз")]
    #[case::day_and_month_only("21 марта")]
    #[case::implausible_year("21 March 1066")]
    #[case::glued_to_number("121 March 2026")]
    #[case::kazakhstan_is_not_october("Қазақстан 2026 21")]
    #[case::surname_is_not_march("21 Мартынов 2026")]
    fn rejects(#[case] text: &str) {
        assert_eq!(parse_date(text, None), None);
        assert_eq!(parse_date(text, Some("%d %B %Y")), None);
    }

    #[rstest]
    #[case::kazakh_may("мамыр", Some(5))]
    #[case::kazakh_june("маусым", Some(6))]
    #[case::russian_may("мая", Some(5))]
    #[case::kazakh_october_dative("қазанға", Some(10))]
    #[case::kazakhstan("қазақстан", None)]
    #[case::russian_mother("мама", None)]
    #[case::long_word_from_stem("мартабасы", None)]
    #[case::english_verb_may("may", Some(5))]
    #[case::marching("marching", None)]
    fn month_words(#[case] word: &str, #[case] expected: Option<u32>) {
        assert_eq!(month_of_word(word), expected);
    }

    #[rstest]
    // 2026-03-21 13:00 in Almaty (UTC+5 since 2024-03-01).
    #[case::seen_same_day("2026-03-21T08:00:00Z", "2026-03-21T08:00:00Z")]
    // 01:00 on the 21st in Almaty, still the 20th in UTC.
    #[case::seen_same_local_day("2026-03-20T20:00:00Z", "2026-03-20T20:00:00Z")]
    #[case::seen_later("2026-03-23T08:00:00Z", "2026-03-20T19:00:00Z")]
    #[case::seen_day_before("2026-03-20T10:00:00Z", "2026-03-20T19:00:00Z")]
    fn resolves_day(#[case] first_seen: &str, #[case] expected: &str) {
        let date = ParsedDate::Day(NaiveDate::from_ymd_opt(2026, 3, 21).expect("valid"));
        let now = utc("2026-04-01T00:00:00Z");
        let got = resolve(date, chrono_tz::Asia::Almaty, utc(first_seen), now);
        assert_eq!(got, utc(expected));
    }

    #[rstest]
    #[case::local_almaty(
        local(2026, 3, 21, 14, 30),
        chrono_tz::Asia::Almaty,
        "2026-03-21T09:30:00Z"
    )]
    #[case::absolute_as_is(
        absolute("2026-03-21T14:30:00+03:00"),
        chrono_tz::Asia::Almaty,
        "2026-03-21T11:30:00Z"
    )]
    #[case::berlin_gap(
        local(2026, 3, 29, 2, 30),
        chrono_tz::Europe::Berlin,
        "2026-03-29T01:00:00Z"
    )]
    #[case::berlin_fold_earliest(
        local(2026, 10, 25, 2, 30),
        chrono_tz::Europe::Berlin,
        "2026-10-25T00:30:00Z"
    )]
    // Chile springs forward at midnight: 2026-09-06 starts at 01:00 -03.
    #[case::day_starting_in_gap(
        day(2026, 9, 6),
        chrono_tz::America::Santiago,
        "2026-09-06T04:00:00Z"
    )]
    #[case::future_clamped(day(2026, 12, 2), chrono_tz::Asia::Almaty, "2026-12-01T00:00:00Z")]
    #[case::future_absolute_clamped(
        absolute("2027-01-01T00:00:00Z"),
        chrono_tz::UTC,
        "2026-12-01T00:00:00Z"
    )]
    fn resolves(#[case] date: Option<ParsedDate>, #[case] tz: Tz, #[case] expected: &str) {
        let date = date.expect("valid test date");
        let first_seen = utc("2026-01-01T00:00:00Z");
        let now = utc("2026-12-01T00:00:00Z");
        assert_eq!(resolve(date, tz, first_seen, now), utc(expected));
    }

    #[test]
    fn resolve_clamps_first_seen_to_now() {
        let date = ParsedDate::Day(NaiveDate::from_ymd_opt(2026, 3, 21).expect("valid"));
        let now = utc("2026-03-21T10:00:00Z");
        let first_seen = utc("2026-03-21T12:00:00Z");
        assert_eq!(resolve(date, chrono_tz::Asia::Almaty, first_seen, now), now);
    }

    #[rstest]
    #[case::english("en", "21 March 2026")]
    #[case::english_region("en-US", "21 March 2026")]
    #[case::russian("ru", "21 марта 2026")]
    #[case::russian_upper("RU-ru", "21 марта 2026")]
    #[case::kazakh("kk", "21 наурыз 2026")]
    #[case::kazakh_alias("kz", "21 наурыз 2026")]
    #[case::other("de", "21 March 2026")]
    #[case::empty("", "21 March 2026")]
    fn formats_day(#[case] lang: &str, #[case] expected: &str) {
        let instant = utc("2026-03-21T08:00:00Z");
        assert_eq!(format_day(instant, chrono_tz::Asia::Almaty, lang), expected);
    }

    #[test]
    fn formats_day_in_the_source_zone() {
        // 19:30 UTC on the 20th is 00:30 on the 21st in Almaty.
        let instant = utc("2026-03-20T19:30:00Z");
        assert_eq!(format_day(instant, chrono_tz::UTC, "en"), "20 March 2026");
        assert_eq!(
            format_day(instant, chrono_tz::Asia::Almaty, "en"),
            "21 March 2026"
        );
        assert_eq!(
            format_day(instant, chrono_tz::Asia::Almaty, "ru"),
            "21 марта 2026"
        );
        assert_eq!(
            format_day(instant, chrono_tz::Asia::Almaty, "kk"),
            "21 наурыз 2026"
        );
    }

    #[test]
    fn parsed_dates_round_trip_through_format_day() {
        let now = utc("2030-01-01T00:00:00Z");
        for (lang, month) in [("en", 3usize), ("ru", 4), ("kk", 10)] {
            let text = format_day(utc("2026-01-15T12:00:00Z"), chrono_tz::UTC, lang);
            let date = parse_date(&text, None).expect("own output parses");
            assert_eq!(
                date,
                day(2026, 1, 15).expect("valid"),
                "{lang}: {text} (#{month})"
            );
            let instant = resolve(date, chrono_tz::UTC, now, now);
            assert_eq!(format_day(instant, chrono_tz::UTC, lang), text);
        }
    }

    /// A small deterministic generator, so that the garbage is the same on every run.
    fn lcg(state: &mut u64) -> usize {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(*state >> 33).unwrap_or_default()
    }

    #[test]
    fn garbage_never_panics() {
        let pieces = [
            "21",
            "2026",
            "99",
            "0",
            "1",
            ":",
            "::",
            ".",
            "-",
            "/",
            ",",
            " ",
            "\u{a0}",
            "T",
            "Z",
            "+05:00",
            "-1400",
            "+99",
            "UTC",
            "GMT+",
            "марта",
            "мая",
            "наурыздағы",
            "жылғы",
            "ж.",
            "March",
            "may",
            "PM",
            "a.m.",
            "é",
            "𝔘",
            "٣",
            "年",
            "\u{0}",
            "\u{301}",
            "ǅ",
            "İ",
            "ß",
            "st",
            "-го",
            "12:60",
            "24:00",
            "23:59:60",
            "9999999999",
            "%",
            "\n",
        ];
        let formats = [
            None,
            Some("%d %B %Y"),
            Some("%Y-%m-%dT%H:%M:%S%z"),
            Some("%"),
            Some("%Q%E%"),
            Some("%s"),
            Some("%+"),
            Some("%B %d, %Y at %I:%M %p"),
            Some(""),
        ];
        let mut state = 42;
        for _ in 0..3000 {
            let length = lcg(&mut state) % 24;
            let text: String = (0..length)
                .map(|_| pieces[lcg(&mut state) % pieces.len()])
                .collect();
            for format in formats {
                if let Some(date) = parse_date(&text, format) {
                    let now = utc("2030-01-01T00:00:00Z");
                    let instant = resolve(date, chrono_tz::Asia::Almaty, now, now);
                    format_day(instant, chrono_tz::Asia::Almaty, "kk");
                }
            }
        }
        let long = "21 марта 2026 года 14:30 ".repeat(2000) + &"9".repeat(10_000);
        assert_eq!(parse_date(&long, None), local(2026, 3, 21, 14, 30));
        assert!(parse_date(&"𝔘".repeat(50_000), Some("%d %B %Y")).is_none());
    }

    #[test]
    fn extreme_instants_never_panic() {
        let extremes = [
            ParsedDate::Local(NaiveDateTime::MIN),
            ParsedDate::Local(NaiveDateTime::MAX),
            ParsedDate::Day(NaiveDate::MIN),
            ParsedDate::Day(NaiveDate::MAX),
        ];
        for date in extremes {
            for tz in [chrono_tz::Pacific::Kiritimati, chrono_tz::Etc::GMTPlus12] {
                for first_seen in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
                    let instant = resolve(date, tz, first_seen, DateTime::<Utc>::MAX_UTC);
                    format_day(instant, tz, "ru");
                    format_day(first_seen, tz, "kk");
                }
            }
        }
    }
}
