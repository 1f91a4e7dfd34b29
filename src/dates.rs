//! Dates as sources write them: parse the text, resolve it to an instant, write it back for a post.
//!
//! The journey has three pure steps:
//! 1. [`parse_date_in`]: page text (and the admin's optional `date_format`), read at `now` for a
//!    source in zone `tz` -> [`ParsedDate`], which records only what the text says (and the year
//!    of a year-less date); no zone has been applied yet. [`parse_date`] is the same on the wall
//!    clock, for callers that know no zone.
//! 2. [`resolve`]: [`ParsedDate`] + the source's `timezone` + when herald first saw the item ->
//!    a UTC instant (SPEC: "a date-only release gets its first-seen time when that falls on the
//!    same day").
//! 3. [`format_day`]: instant -> "21 марта 2026" for the Telegram post, in the source's language.
//!
//! Month words in English, Russian and Kazakh (Cyrillic or Latin), in any grammatical case
//! ("марта", "январе", "наурыздың", "қаңтардағы", "naýryzda"), are first rewritten to English
//! month names. After that a single set of patterns, and chrono's `%B`/`%b`, read all three
//! languages.
//!
//! Decisions:
//! - A date needs a day and a month. A year-less date ("21 марта", "March 21", common on news
//!   lists) gets the latest year that does not put it after today in the source's zone, with one
//!   day of tolerance for zones ([`parse_date_in`]): on 6 December "7 December" is this year's,
//!   "8 December" last year's. "март 2026" and "2026" give `None`: the 1st of the month would be a
//!   made-up date, and it would sort the item wrongly.
//! - A range ("5–7 March 2026", "5 марта – 7 марта 2026", "March 5–7, 2026",
//!   "05.03–07.03.2026") is dated by its first day.
//! - Numeric dates are day first ("21.03.2026", "21/03/2026"), as on akorda.kz and in Russian and
//!   Kazakh usage. They are read month first only when the second number cannot be a month
//!   ("03/21/2026").
//! - A year is read as written, from 1000 to 9999: "1 January 1800" and "1 January 2999" are
//!   dates. Too early or too late is the pipeline's to decide (issue 3, README "Limits": before
//!   1990 the release counts as undated and is dated when first seen; after now it is dated now):
//!   a date that reads but is implausible must not pass for one that cannot be read, which is
//!   dated when first seen, or by the release listed above it when that one is of the same day.
//! - A time of day is recognised only with a colon ("14:30"), right after the date (at most two
//!   words such as "года," or "at" between) or right before it. "10.15" would be too easily
//!   confused with numbers in the text. AM/PM is read (12 AM is 0h, 12 PM is 12h).
//! - A zone after the time is read when it is an offset ("+0300", "UTC+3", "(GMT+03:00)") or an
//!   abbreviation in [`NAMED_ZONES`] ("MSK", "ALMT", "CET"); an unknown word leaves the time in the
//!   source's zone.

use std::ops::RangeInclusive;
use std::sync::LazyLock;

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Timelike, Utc, Weekday,
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

/// Parses a date as written on a page, as [`parse_date_in`] does for a source whose zone is not
/// known: a year-less date is placed against the clock of the zone furthest ahead (UTC+14), so
/// that a day begun anywhere is never taken for last year's ([`resolve`] clamps a date after now).
pub fn parse_date(text: &str, format: Option<&str>) -> Option<ParsedDate> {
    parse_date_in(text, format, Utc::now(), UNKNOWN_ZONE)
}

/// The zone [`parse_date`] places year-less dates in: UTC+14 (the POSIX name inverts the sign).
const UNKNOWN_ZONE: Tz = chrono_tz::Etc::GMTMinus14;

/// Parses a date as written on a page of a source in zone `tz`, read at `now`.
///
/// `format` is the admin's optional chrono strftime format (e.g. `"%d %B %Y"`, or `"%d %B"`
/// without a year). Month names in English, Russian or Kazakh (Cyrillic or Latin) in any
/// grammatical case are understood with it too, and words around the date are ignored. When
/// `format` is absent or does not match, common shapes are recognised: "21 March 2026",
/// "March 21, 2026", "21.03.2026", "2026-03-21", "2026 жылғы 21 наурыз", RFC 3339, RFC 2822, each
/// optionally with a time of day and a zone, and the same without a year ("21 марта").
///
/// A year-less date gets the latest year that keeps it no later than tomorrow in `tz` (a day of
/// tolerance for the zones a site may write in). Returns `None` when no plausible date is found.
/// Never panics.
pub fn parse_date_in(
    text: &str,
    format: Option<&str>,
    now: DateTime<Utc>,
    tz: Tz,
) -> Option<ParsedDate> {
    read_at_clock_edges(text, |text| {
        let latest = latest_day(now, tz);
        let normalized = collapse_ranges(&normalize(text));
        format
            .and_then(|format| parse_with_format(&normalized, format, latest))
            // RFC 2822 wants "Mar", so the standard shapes see the text as written.
            .or_else(|| parse_standard(text.trim()))
            .or_else(|| parse_heuristic(&normalized, latest))
    })
}

/// Parses a date read from an attribute (`data-timestamp`, `datetime`, a `<meta>`'s `content`),
/// never from visible text, as [`parse_date_in`] does, and else as Unix time ([`unix_time`]):
/// `data-timestamp="1764931200"` is that second. The admin's `format` reads first.
pub fn parse_attribute_in(
    text: &str,
    format: Option<&str>,
    now: DateTime<Utc>,
    tz: Tz,
) -> Option<ParsedDate> {
    parse_date_in(text, format, now, tz).or_else(|| unix_time(text))
}

/// A whole value that is Unix time, an instant in UTC: 9 or 10 digits are seconds since 1970,
/// 12 or 13 milliseconds. Only for values read from an attribute: in text, "2026" or an
/// article's number is no date. A time before [`earliest_plausible`] (`100000000` is 1973) is no
/// date.
pub fn unix_time(value: &str) -> Option<ParsedDate> {
    let value = value.trim();
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: i64 = value.parse().ok()?;
    let instant = match value.len() {
        9 | 10 => DateTime::from_timestamp(number, 0)?,
        12 | 13 => DateTime::from_timestamp_millis(number)?,
        _ => return None,
    };
    let date = ParsedDate::Absolute(instant.fixed_offset());
    is_plausible(date).then_some(date)
}

/// Reads a date with `read`, its clock's edges read first as ISO 8601 and RFC 3339 (section 5.7)
/// allow them, for every date reader (list pages and feeds):
/// - "24:00" and "24:00:00" end their day: the next day's 00:00 (not that day's 00:00, which
///   put the release a day early); "24:00:01" and any later 24 h clock is no time, and the text
///   no date;
/// - a leap second ":60" is read as :59 of its minute ([`without_leap_second`]): written back
///   out as ":60" it is refused by readers (Python's `fromisoformat`, JavaScript's `Date`).
pub fn read_at_clock_edges(
    text: &str,
    read: impl FnOnce(&str) -> Option<ParsedDate>,
) -> Option<ParsedDate> {
    // A clock with a colon, its hour and minute, and its seconds (with their fraction) when it
    // has them; the characters around it are checked by hand (no look-around in `regex`).
    static CLOCK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})([.,][0-9]+)?)?").expect("a valid regex")
    });
    let mut rewritten = String::with_capacity(text.len());
    let mut copied = 0;
    // The time "24:00" was read as, and what is added to it to make it the next day's 00:00.
    let mut day_end: Option<(NaiveTime, TimeDelta)> = None;
    for caps in CLOCK.captures_iter(text) {
        let (Some(whole), Some(hour), Some(minute)) = (caps.get(0), caps.get(1), caps.get(2))
        else {
            continue;
        };
        let bounded = !text[..whole.start()].ends_with(|c: char| c.is_ascii_digit() || c == ':')
            && !text[whole.end()..].starts_with(|c: char| c.is_ascii_digit() || c == ':');
        if !bounded {
            continue;
        }
        let second = caps.get(3);
        let fraction = caps.get(4);
        if hour.as_str().parse() == Ok(24u32) {
            let zero = |m: Option<regex::Match<'_>>| {
                m.is_none_or(|m| m.as_str().chars().all(|c| matches!(c, '0' | '.' | ',')))
            };
            if !(minute.as_str() == "00" && zero(second) && zero(fraction)) {
                return None;
            }
            rewritten.push_str(&text[copied..hour.start()]);
            if second.is_some() {
                rewritten.push_str("23:59:59");
                day_end = NaiveTime::from_hms_opt(23, 59, 59).map(|t| (t, TimeDelta::seconds(1)));
            } else {
                rewritten.push_str("23:59");
                day_end = NaiveTime::from_hms_opt(23, 59, 0).map(|t| (t, TimeDelta::minutes(1)));
            }
            copied = second.map_or(minute.end(), |s| s.end());
        } else if let Some(second) = second.filter(|s| s.as_str() == "60") {
            rewritten.push_str(&text[copied..second.start()]);
            rewritten.push_str("59");
            copied = second.end();
        }
    }
    let date = if copied == 0 {
        read(text)
    } else {
        rewritten.push_str(&text[copied..]);
        read(&rewritten)
    }?;
    let date = without_leap_second(date);
    let Some((read_as, delta)) = day_end else {
        return Some(date);
    };
    let at_day_end = |t: NaiveDateTime| t.time().with_nanosecond(0) == Some(read_as);
    Some(match date {
        ParsedDate::Local(t) if at_day_end(t) => ParsedDate::Local(t.with_nanosecond(0)? + delta),
        ParsedDate::Absolute(t) if at_day_end(t.naive_local()) => {
            ParsedDate::Absolute(t.with_nanosecond(0)? + delta)
        }
        other => other,
    })
}

/// A date whose time is a leap second (chrono keeps one as a nanosecond past a second) read as
/// the last second of its minute, its fraction kept.
pub fn without_leap_second(date: ParsedDate) -> ParsedDate {
    const SECOND: u32 = 1_000_000_000;
    match date {
        ParsedDate::Local(t) if t.nanosecond() >= SECOND => t
            .with_nanosecond(t.nanosecond() - SECOND)
            .map_or(date, ParsedDate::Local),
        ParsedDate::Absolute(t) if t.nanosecond() >= SECOND => t
            .with_nanosecond(t.nanosecond() - SECOND)
            .map_or(date, ParsedDate::Absolute),
        other => other,
    }
}

/// The last day a year-less date may fall on: tomorrow in `tz`.
fn latest_day(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    let today = local_date(now, tz);
    today.succ_opt().unwrap_or(today)
}

/// The earliest date a release is believed to carry (1990-01-01): an earlier one ("01.01.1970",
/// a year-1 entry upstream) is a placeholder or an error of the site, and counts as no date.
/// Dates later than now are clamped to now by [`resolve`].
pub fn earliest_plausible() -> DateTime<Utc> {
    DateTime::from_timestamp(631_152_000, 0).unwrap_or(DateTime::UNIX_EPOCH)
}

/// Whether a parsed date is one a release may carry: not before [`earliest_plausible`] (a
/// "1970-01-01", a year 26). A date without a zone is read as UTC here: the source's zone moves
/// it by hours, not by years.
pub fn is_plausible(date: ParsedDate) -> bool {
    let instant = match date {
        ParsedDate::Day(day) => day.and_time(NaiveTime::MIN).and_utc(),
        ParsedDate::Local(time) => time.and_utc(),
        ParsedDate::Absolute(time) => time.with_timezone(&Utc),
    };
    instant >= earliest_plausible()
}

/// Whether a parsed date is one a release may carry at `now`: plausible ([`is_plausible`]) and
/// not more than a year ahead (issue 19: a date outside 1990 to a year ahead counts as no date;
/// one less than a year ahead is clamped to now by [`resolve`]).
pub fn in_window(date: ParsedDate, now: DateTime<Utc>) -> bool {
    let instant = match date {
        ParsedDate::Day(day) => day.and_time(NaiveTime::MIN).and_utc(),
        ParsedDate::Local(time) => time.and_utc(),
        ParsedDate::Absolute(time) => time.with_timezone(&Utc),
    };
    is_plausible(date) && instant <= now + chrono::Duration::days(366)
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
/// kk "21 наурыз 2026" (nominative, as Kazakh writes it), and as each language writes a date
/// for the others whose month names the date reader knows: fr "21 mars 2026" ("1er" for the
/// first), de "21. März 2026", es "21 de marzo de 2026", it "21 marzo 2026", pt "21 de março de
/// 2026", nl "21 maart 2026", pl "21 marca 2026", cs "21. března 2026", tr "21 Mart 2026",
/// uk "21 березня 2026"; any other language gets the English form. `lang` is a BCP 47 tag; only
/// its primary subtag counts ("en-US" is "en"), and "kz" is accepted for "kk" as in the
/// configuration.
pub fn format_day(instant: DateTime<Utc>, tz: Tz, lang: &str) -> String {
    let day = local_date(instant, tz);
    let month = day.month0() as usize;
    let (d, y) = (day.day(), day.year());
    match primary_subtag(lang).as_str() {
        "ru" => format!("{d} {} {y}", RUSSIAN_GENITIVE[month]),
        "kk" | "kz" => format!("{d} {} {y}", KAZAKH_MONTHS[month]),
        "fr" if d == 1 => format!("1er {} {y}", FRENCH_MONTHS[month]),
        "fr" => format!("{d} {} {y}", FRENCH_MONTHS[month]),
        "de" => format!("{d}. {} {y}", GERMAN_MONTHS[month]),
        "es" => format!("{d} de {} de {y}", SPANISH_MONTHS[month]),
        "it" => format!("{d} {} {y}", ITALIAN_MONTHS[month]),
        "pt" => format!("{d} de {} de {y}", PORTUGUESE_MONTHS[month]),
        "nl" => format!("{d} {} {y}", DUTCH_MONTHS[month]),
        "pl" => format!("{d} {} {y}", POLISH_GENITIVE[month]),
        "cs" => format!("{d}. {} {y}", CZECH_GENITIVE[month]),
        "tr" => format!("{d} {} {y}", TURKISH_MONTHS[month]),
        "uk" => format!("{d} {} {y}", UKRAINIAN_GENITIVE[month]),
        _ => format!("{d} {} {y}", ENGLISH_MONTHS[month]),
    }
}

/// Month names as each language writes them in a date (genitive where the language declines
/// them there), January first.
const FRENCH_MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const GERMAN_MONTHS: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];
const SPANISH_MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];
const ITALIAN_MONTHS: [&str; 12] = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
];
const PORTUGUESE_MONTHS: [&str; 12] = [
    "janeiro",
    "fevereiro",
    "março",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
];
const DUTCH_MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];
const POLISH_GENITIVE: [&str; 12] = [
    "stycznia",
    "lutego",
    "marca",
    "kwietnia",
    "maja",
    "czerwca",
    "lipca",
    "sierpnia",
    "września",
    "października",
    "listopada",
    "grudnia",
];
const CZECH_GENITIVE: [&str; 12] = [
    "ledna",
    "února",
    "března",
    "dubna",
    "května",
    "června",
    "července",
    "srpna",
    "září",
    "října",
    "listopadu",
    "prosince",
];
const TURKISH_MONTHS: [&str; 12] = [
    "Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim",
    "Kasım", "Aralık",
];
const UKRAINIAN_GENITIVE: [&str; 12] = [
    "січня",
    "лютого",
    "березня",
    "квітня",
    "травня",
    "червня",
    "липня",
    "серпня",
    "вересня",
    "жовтня",
    "листопада",
    "грудня",
];

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

/// Four-digit years: three digits or five are some other number.
const PLAUSIBLE_YEARS: RangeInclusive<i32> = 1000..=9999;

/// Kazakh month names in the Latin alphabet, without diacritics: the 2018 alphabet writes
/// "naýryz", "sáýir", "qyrkúiek", the 2021 one "säuır", "şılde", "qyrküiek"; [`fold_latin`]
/// brings all of them to these forms.
const KAZAKH_LATIN_MONTHS: [&str; 12] = [
    "qantar",
    "aqpan",
    "nauryz",
    "sauir",
    "mamyr",
    "mausym",
    "shilde",
    "tamyz",
    "qyrkuiek",
    "qazan",
    "qarasha",
    "jeltoqsan",
];

/// Month number (1-12) of a lower-cased word in English, Russian or Kazakh, any case form.
/// Whether `word` names a month, in any language and case form [`parse_date`] reads.
pub fn is_month_word(word: &str) -> bool {
    month_of_word(&word.to_lowercase()).is_some()
}

fn month_of_word(word: &str) -> Option<u32> {
    english_month(word)
        .or_else(|| russian_month(word))
        .or_else(|| kazakh_month(word))
        .or_else(|| kazakh_latin_month(word))
        .or_else(|| other_month(word))
}

/// Month names of other languages sites are written in, as whole lower-case words separated by
/// spaces: French, German, Spanish, Italian, Portuguese, Dutch, Polish, Czech, Turkish, Uzbek
/// and Ukrainian, in the forms dates use (the genitive too) and common abbreviations. A date
/// shape still has to hold the word between numbers, so a word that is also something else
/// ("mars", "mart") is read as a month only inside a date. Short abbreviations that are words
/// too (Polish "lis", Ukrainian "лист") are left out.
const OTHER_MONTHS: [&str; 12] = [
    "janvier janv januar jänner jän enero gennaio janeiro januari styczeń stycznia leden ledna ocak yanvar січень січня",
    "février fevrier févr fevr februar febrero febbraio fevereiro februari luty lutego únor února şubat subat fevral лютий лютого",
    "mars märz maerz mär marzo março marco maart marzec marca březen března mart березень березня",
    "avril avr abril aprile kwiecień kwietnia duben dubna nisan aprel квітень квітня",
    "mai mayo maggio maio mei maj maja květen května mayıs mayis травень травня",
    "juin juni junio giugno junho czerwiec czerwca červen června haziran iyun червень червня",
    "juillet juil juli julio luglio julho lipiec lipca červenec července temmuz iyul липень липня",
    "août aout agosto augustus sierpień sierpnia srpen srpna ağustos agustos avgust серпень серпня",
    "septembre septiembre setiembre settembre setembro wrzesień września září eylül eylul sentyabr вересень вересня",
    "octobre oktober okt octubre ottobre outubro październik października říjen října ekim oktyabr жовтень жовтня",
    "novembre noviembre novembro listopad listopada listopadu kasım kasim noyabr листопад листопада",
    "décembre decembre déc dezember dez diciembre dicembre dezembro grudzień grudnia prosinec prosince aralık aralik dekabr грудень грудня",
];

fn other_month(word: &str) -> Option<u32> {
    OTHER_MONTHS
        .iter()
        .position(|forms| forms.split(' ').any(|form| form == word))
        .map(month_number)
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

/// Kazakh in Latin letters takes the same suffixes as in Cyrillic ("naýryzda", "qarashadaǵy").
fn kazakh_latin_month(word: &str) -> Option<u32> {
    let folded = fold_latin(word);
    KAZAKH_LATIN_MONTHS
        .iter()
        .position(|name| has_stem(&folded, name, KAZAKH_MAX_SUFFIX))
        .map(month_number)
}

/// A lower-case Kazakh Latin word without its diacritics, in the letters of
/// [`KAZAKH_LATIN_MONTHS`]: á ä → a, ý ú ü ū → u, ı → i, ş → sh, ǵ ğ → g, ń ñ → n, ó ö → o.
fn fold_latin(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        match c {
            'á' | 'ä' => out.push('a'),
            'ý' | 'ú' | 'ü' | 'ū' => out.push('u'),
            'ı' | 'í' => out.push('i'),
            'ş' => out.push_str("sh"),
            'ǵ' | 'ğ' => out.push('g'),
            'ń' | 'ñ' => out.push('n'),
            'ó' | 'ö' => out.push('o'),
            other => out.push(other),
        }
    }
    out
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
/// A format without a year ("%d %B") reads the year as [`infer_year`] does.
fn parse_with_format(text: &str, format: &str, latest: NaiveDate) -> Option<ParsedDate> {
    use chrono::format::{Parsed, StrftimeItems, parse_and_remainder};
    word_starts(text).find_map(|start| {
        let mut parsed = Parsed::new();
        parse_and_remainder(&mut parsed, &text[start..], StrftimeItems::new(format)).ok()?;
        let has_year = parsed.year().is_some()
            || parsed.year_mod_100().is_some()
            || parsed.isoyear().is_some()
            || parsed.timestamp().is_some();
        if has_year {
            return from_parsed(&parsed);
        }
        // The latest year that keeps the date (and its weekday, when one is written) no later
        // than `latest`. A weekday repeats on a date within 28 years.
        (0..=28).find_map(|back| {
            let mut dated = parsed.clone();
            dated.set_year(i64::from(latest.year() - back)).ok()?;
            from_parsed(&dated).filter(|date| day_of(*date) <= latest)
        })
    })
}

fn from_parsed(parsed: &chrono::format::Parsed) -> Option<ParsedDate> {
    parsed
        .to_datetime()
        .map(ParsedDate::Absolute)
        .or_else(|_| {
            parsed
                .to_naive_datetime_with_offset(0)
                .map(ParsedDate::Local)
        })
        .or_else(|_| parsed.to_naive_date().map(ParsedDate::Day))
        .ok()
        .and_then(plausible)
}

/// The calendar day a parsed date names, as written (before any zone is applied).
fn day_of(date: ParsedDate) -> NaiveDate {
    match date {
        ParsedDate::Day(day) => day,
        ParsedDate::Local(time) => time.date(),
        ParsedDate::Absolute(time) => time.naive_local().date(),
    }
}

/// Weekday names as written in dates, in English, Russian and Kazakh (Cyrillic and Latin), in
/// the forms dates use ("Thu", "четверг", "в среду", "бейсенбі"), Monday first.
const WEEKDAY_WORDS: [&[&str]; 7] = [
    &[
        "monday",
        "mon",
        "понедельник",
        "пн",
        "дүйсенбі",
        "dúısenbi",
        "duisenbi",
    ],
    &[
        "tuesday",
        "tue",
        "tues",
        "вторник",
        "вт",
        "сейсенбі",
        "seısenbi",
        "seisenbi",
    ],
    &[
        "wednesday",
        "wed",
        "среда",
        "среду",
        "ср",
        "сәрсенбі",
        "sársenbi",
        "sarsenbi",
    ],
    &[
        "thursday",
        "thu",
        "thur",
        "thurs",
        "четверг",
        "чт",
        "бейсенбі",
        "beısenbi",
        "beisenbi",
    ],
    &["friday", "fri", "пятница", "пятницу", "пт", "жұма", "juma"],
    &[
        "saturday",
        "sat",
        "суббота",
        "субботу",
        "сб",
        "сенбі",
        "senbi",
    ],
    &["sunday", "sun", "воскресенье", "вс", "жексенбі", "jeksenbi"],
];

/// The one weekday `text` names, if it names exactly one: a date's weekday decides what its
/// numbers alone leave open ("Thu, 03/05/2026" is 5 March; "Четверг, 5 марта" this year or
/// the latest year it fell on a Thursday).
fn written_weekday(text: &str) -> Option<Weekday> {
    let mut named = None;
    for word in text.split(|c: char| !c.is_alphabetic()) {
        if word.is_empty() {
            continue;
        }
        let word = word.to_lowercase();
        let Some(index) = WEEKDAY_WORDS
            .iter()
            .position(|forms| forms.contains(&word.as_str()))
        else {
            continue;
        };
        let weekday = Weekday::try_from(index as u8).ok()?;
        match named {
            Some(other) if other != weekday => return None,
            _ => named = Some(weekday),
        }
    }
    named
}

/// The latest year that puts day `day` of month `month` no later than `latest`; 29 February
/// looks back up to eight years. A written `weekday` that fits the year before and not that
/// one takes the year before: a list without years shows the past months, and a weekday that
/// fits neither is a slip of the site, not a date years back.
fn infer_year(
    month: u32,
    day: u32,
    latest: NaiveDate,
    weekday: Option<Weekday>,
) -> Option<NaiveDate> {
    let mut years = (0..=8).filter_map(|back| {
        NaiveDate::from_ymd_opt(latest.year() - back, month, day).filter(|date| *date <= latest)
    });
    let first = years.next()?;
    match (weekday, years.next()) {
        (Some(weekday), Some(before))
            if first.weekday() != weekday && before.weekday() == weekday =>
        {
            Some(before)
        }
        _ => Some(first),
    }
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
    /// The shape has no year: it is inferred ([`infer_year`]).
    year_less: bool,
}

/// Patterns use `[0-9]` rather than `\d`, which would also match digits of other scripts.
/// `MONTH` stands for the English month names that [`normalize`] leaves in the text.
static SHAPES: LazyLock<Vec<Shape>> = LazyLock::new(|| {
    let shapes = [
        // 2026-03-21, 2026/03/21, 2026.03.21
        (
            r"(?P<y>[0-9]{4})[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})",
            false,
            false,
        ),
        // 2026年3月21日, 2026년 3월 21일
        (
            r"(?P<y>[0-9]{4}) ?[年년] ?(?P<m>[0-9]{1,2}) ?[月월] ?(?P<d>[0-9]{1,2})",
            false,
            false,
        ),
        // 21.03.2026, 21/03/2026, 21-03-2026
        (
            r"(?P<d>[0-9]{1,2})[./-](?P<m>[0-9]{1,2})[./-](?P<y>[0-9]{4})",
            true,
            false,
        ),
        // 21.03.26: a two-digit year, day first as in Russian and Kazakh usage; dots only
        // ("03/21/26" may be American).
        (
            r"(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})\.(?P<yy>[0-9]{2})",
            false,
            false,
        ),
        // 21 March 2026, 21st of March, 2026, 21-Mar-2026, 1-го мая 2026
        (
            r"(?P<d>[0-9]{1,2})(?:st|nd|rd|th|-го|er)?\.?[ \-/]?(?:of |de |del )?MONTH\.?,?[ \-/]?(?:de |del )?(?P<y>[0-9]{4})",
            false,
            false,
        ),
        // March 21, 2026; Mar. 21 2026
        (
            r"MONTH\.?[ \-/]?(?P<d>[0-9]{1,2})(?:st|nd|rd|th)?,?[ \-/]?(?P<y>[0-9]{4})",
            false,
            false,
        ),
        // Kazakh order: 2026 жылғы 21 наурыз, 2026 ж. 21-наурыз
        (
            r"(?P<y>[0-9]{4})[ ,]?(?:\p{L}+\.?[ ,]?)?(?P<d>[0-9]{1,2})(?:-го)?[ \-]?MONTH\b",
            false,
            false,
        ),
        // 2026 жылғы наурыздың 21-і, 2026 March 21
        (
            r"(?P<y>[0-9]{4})[ ,]?(?:\p{L}+\.?[ ,]?)?MONTH\.?[ \-]?(?P<d>[0-9]{1,2})",
            false,
            false,
        ),
        // Without a year: 21 March, 21-го марта, 21st of March, 21-наурыз
        (
            r"(?P<d>[0-9]{1,2})(?:st|nd|rd|th|-го|er)?\.?[ \-/]?(?:of |de |del )?MONTH\b\.?",
            false,
            true,
        ),
        // Without a year: March 21, Mar. 21st
        (
            r"\bMONTH\.?[ \-/]?(?P<d>[0-9]{1,2})(?:st|nd|rd|th)?\b",
            false,
            true,
        ),
    ];
    shapes
        .into_iter()
        .map(|(pattern, may_swap, year_less)| Shape {
            regex: Regex::new(&pattern.replace("MONTH", &month_group("mon")))
                .expect("date shape compiles"),
            may_swap,
            year_less,
        })
        .collect()
});

/// The English month names as a named group.
fn month_group(name: &str) -> String {
    format!("(?P<{name}>{})", ENGLISH_MONTHS.join("|"))
}

/// Hours and minutes with a colon, optional seconds (fraction dropped) and AM/PM.
const CLOCK: &str = r"(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:\.[0-9]{1,9})?)?(?: ?(?P<ampm>[AaPp]\.?[Mm]\b\.?))?";

/// Characters that may separate a date from its time: "21 March 2026, 14:30", "… | 14:30".
const GLUE: &str = r"[ ,;|/\-–—]";

/// Zone abbreviations read after a time. Those of Russia and Kazakhstan, and the American "ET"
/// and "PT", name a region, so the offset is the one it had on the day ("MSK" was +4 in
/// 2011-2014, "ALMT" +6 before March 2024, "ET" is -4 in summer); the others are fixed. Abbreviations that name two different offsets (CST: China or the US
/// Central; AST) are left out: the time then stays in the source's zone.
const NAMED_ZONES: [(&str, NamedZone); 52] = {
    use NamedZone::{Fixed, Region};
    [
        ("UTC", Fixed(0)),
        ("GMT", Fixed(0)),
        ("UT", Fixed(0)),
        ("Z", Fixed(0)),
        ("WET", Fixed(0)),
        ("WEST", Fixed(60)),
        ("BST", Fixed(60)),
        ("CET", Fixed(60)),
        ("CEST", Fixed(120)),
        ("EET", Fixed(120)),
        ("EEST", Fixed(180)),
        ("TRT", Fixed(180)),
        ("MSK", Region(chrono_tz::Europe::Moscow)),
        ("МСК", Region(chrono_tz::Europe::Moscow)),
        ("мск", Region(chrono_tz::Europe::Moscow)),
        ("MSD", Fixed(240)),
        ("SAMT", Region(chrono_tz::Europe::Samara)),
        ("GST", Fixed(240)),
        ("AZT", Fixed(240)),
        ("GET", Fixed(240)),
        ("YEKT", Region(chrono_tz::Asia::Yekaterinburg)),
        ("ALMT", Region(chrono_tz::Asia::Almaty)),
        ("QYZT", Region(chrono_tz::Asia::Qyzylorda)),
        ("AQTT", Region(chrono_tz::Asia::Aqtau)),
        ("ORAT", Region(chrono_tz::Asia::Oral)),
        ("UZT", Fixed(300)),
        ("TJT", Fixed(300)),
        ("TMT", Fixed(300)),
        ("PKT", Fixed(300)),
        ("IST", Fixed(330)),
        ("OMST", Region(chrono_tz::Asia::Omsk)),
        ("KGT", Fixed(360)),
        ("NOVT", Region(chrono_tz::Asia::Novosibirsk)),
        ("KRAT", Region(chrono_tz::Asia::Krasnoyarsk)),
        ("ICT", Fixed(420)),
        ("IRKT", Region(chrono_tz::Asia::Irkutsk)),
        ("HKT", Fixed(480)),
        ("SGT", Fixed(480)),
        ("YAKT", Region(chrono_tz::Asia::Yakutsk)),
        ("JST", Fixed(540)),
        ("KST", Fixed(540)),
        ("VLAT", Region(chrono_tz::Asia::Vladivostok)),
        ("AEST", Fixed(600)),
        ("AEDT", Fixed(660)),
        ("ET", Region(chrono_tz::America::New_York)),
        ("PT", Region(chrono_tz::America::Los_Angeles)),
        ("EST", Fixed(-300)),
        ("EDT", Fixed(-240)),
        ("CDT", Fixed(-300)),
        ("MST", Fixed(-420)),
        ("PST", Fixed(-480)),
        ("PDT", Fixed(-420)),
    ]
};

/// What a zone abbreviation stands for: minutes east of UTC, or a region's offset on the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NamedZone {
    Fixed(i32),
    Region(Tz),
}

/// A zone written after a time: an offset, an abbreviation of [`NAMED_ZONES`] (bracketed or
/// not), "(UTC+3)", "(GMT+03:00)", "по московскому времени".
static ZONE: LazyLock<String> = LazyLock::new(|| {
    let mut names: Vec<&str> = NAMED_ZONES.iter().map(|(name, _)| *name).collect();
    // Longer names first, so that "CEST" is not read as "CET" and a rest.
    names.sort_by_key(|name| std::cmp::Reverse(name.len()));
    names.dedup();
    format!(
        r"(?: ?(?P<off>[+-][0-9]{{2}}(?::?[0-9]{{2}})?|\(?(?:UTC|GMT|UT) ?[+-] ?[0-9]{{1,2}}(?::?[0-9]{{2}})?\)?|\(?(?:{})\b\)?|(?i:по московскому времени)))?",
        names.join("|")
    )
});

/// A time right after the date: "T14:30:00Z", ", 14:30", " года, 10:15", " at 10:00 +0500".
static TIME_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    let zone = ZONE.as_str();
    let pattern = format!(r"^(?:T|{GLUE}+(?:\p{{L}}+\.?{GLUE}+){{0,2}}){CLOCK}{zone}");
    Regex::new(&pattern).expect("time pattern compiles")
});

/// A time right before the date: "14:30, 21 March 2026", "10:15 MSK 21.03.2026".
static TIME_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    let zone = ZONE.as_str();
    Regex::new(&format!(r"{CLOCK}{zone}{GLUE}*$")).expect("time pattern compiles")
});

/// A time anywhere in a text: "вчера в 11:30 PM", "Today, 1:05 AM".
static TIME_ANYWHERE: LazyLock<Regex> = LazyLock::new(|| {
    let zone = ZONE.as_str();
    Regex::new(&format!(r"(?:^|[^0-9:.]){CLOCK}{zone}")).expect("time pattern compiles")
});

/// Day `day` at the first time of day written in `text` (with its zone, when one is written),
/// read as the dates of [`parse_date`] are: relative dates ("вчера в 11:30 PM") share it.
/// Without a time, the day alone.
pub fn on_day_at_written_time(day: NaiveDate, text: &str) -> ParsedDate {
    // One space for any run of spaces: "3:15\u{202f}PM" as ICU writes it.
    let text = normalize(text);
    let text = text.as_str();
    let time = TIME_ANYWHERE.captures_iter(text).find_map(|caps| {
        let end = caps.get(0)?.end();
        if text[end..].starts_with(|c: char| c.is_ascii_digit() || c == ':') {
            return None;
        }
        Some((clock(&caps)?, zone(&caps)))
    });
    match time {
        Some((time, zone)) => with_time(day, Some(time), zone),
        None => ParsedDate::Day(day),
    }
}

/// Ranges are dated by their first day: each rewrites a range to its first day, with the end's
/// year (less one when the range crosses the new year). A range of days reads "5–7", "5-7",
/// "5 — 7", "5 to 7" or "с 5 по 7".
static RANGES: LazyLock<Vec<(Regex, Rewrite)>> = LazyLock::new(|| {
    let dash = r"(?: ?[\-‐‑‒–—―−] ?| (?:to|по|до|till|until) )";
    let tight = r"[\-‐‑‒–—―−]";
    let ord = r"(?:st|nd|rd|th|-го)?";
    let before = r"(?P<pre>^|[^0-9.:/])";
    let after = r"(?P<post>[^0-9:]|$)";
    let year = r"(?:,?[ \-/]?(?P<y>[0-9]{4}))?";
    let m1 = month_group("m1");
    let m2 = month_group("m2");
    let ranges: [(String, Rewrite); 6] = [
        // 5–7 March 2026, 2026 жылғы 5–7 наурыз
        (
            format!(
                r"{before}(?P<d1>[0-9]{{1,2}}){ord}{dash}[0-9]{{1,2}}(?P<rest>{ord}\.?[ \-/]?(?:of )?{m1})"
            ),
            |c| format!("{}{}{}", &c["pre"], &c["d1"], &c["rest"]),
        ),
        // 5 марта – 7 апреля 2026, 30 December – 2 January 2026
        (
            format!(
                r"{before}(?P<d1>[0-9]{{1,2}}){ord}\.?[ \-/]?(?:of )?{m1}\.?,?{dash}[0-9]{{1,2}}{ord}\.?[ \-/]?(?:of )?{m2}\.?{year}"
            ),
            |c| format!("{}{} {}{}", &c["pre"], &c["d1"], &c["m1"], start_year(c)),
        ),
        // March 5–7, 2026
        (
            format!(
                r"\b{m1}\.?[ ]?(?P<d1>[0-9]{{1,2}}){ord}{dash}[0-9]{{1,2}}{ord}(?:,?[ ]?(?P<y>[0-9]{{4}})|{after})"
            ),
            |c| {
                format!(
                    "{} {}{}{}",
                    &c["m1"],
                    &c["d1"],
                    start_year_comma(c),
                    post(c)
                )
            },
        ),
        // March 30 – April 2, 2026
        (
            format!(
                r"\b{m1}\.?[ ]?(?P<d1>[0-9]{{1,2}}){ord}{dash}{m2}\.?[ ]?[0-9]{{1,2}}{ord}(?:,?[ ]?(?P<y>[0-9]{{4}})|{after})"
            ),
            |c| {
                format!(
                    "{} {}{}{}",
                    &c["m1"],
                    &c["d1"],
                    start_year_comma(c),
                    post(c)
                )
            },
        ),
        // 05.03 – 07.03.2026
        (
            format!(
                r"{before}(?P<d1>[0-9]{{1,2}})(?P<sep>[./])(?P<n1>[0-9]{{1,2}})\.?{dash}[0-9]{{1,2}}[./](?P<n2>[0-9]{{1,2}})[./](?P<y>[0-9]{{4}})"
            ),
            |c| {
                let year = number::<i32>(c, "y").unwrap_or_default();
                let (n1, n2) = (
                    number::<u32>(c, "n1").unwrap_or_default(),
                    number::<u32>(c, "n2").unwrap_or_default(),
                );
                let year = if n1 > n2 && n1 <= 12 { year - 1 } else { year };
                let sep = &c["sep"];
                format!("{}{}{sep}{}{sep}{year}", &c["pre"], &c["d1"], &c["n1"])
            },
        ),
        // 05–07.03.2026 (no spaces: "2 – 15.03.2026" may be a number and a date)
        (
            format!(
                r"{before}(?P<d1>[0-9]{{1,2}}){tight}[0-9]{{1,2}}(?P<rest>[./][0-9]{{1,2}}[./][0-9]{{4}})"
            ),
            |c| format!("{}{}{}", &c["pre"], &c["d1"], &c["rest"]),
        ),
    ];
    ranges
        .into_iter()
        .map(|(pattern, rewrite)| (Regex::new(&pattern).expect("range compiles"), rewrite))
        .collect()
});

/// How a matched range is written as its first day.
type Rewrite = fn(&Captures) -> String;

/// " 2026" for a range's start, a year earlier when its first month is later than its last.
fn start_year(c: &Captures) -> String {
    let Some(year) = number::<i32>(c, "y") else {
        return String::new();
    };
    let month = |group: &str| {
        c.name(group)
            .and_then(|m| ENGLISH_MONTHS.iter().position(|name| *name == m.as_str()))
    };
    let crosses = matches!((month("m1"), month("m2")), (Some(a), Some(b)) if a > b);
    format!(" {}", if crosses { year - 1 } else { year })
}

fn start_year_comma(c: &Captures) -> String {
    let year = start_year(c);
    if year.is_empty() {
        year
    } else {
        format!(",{year}")
    }
}

fn post<'t>(c: &Captures<'t>) -> &'t str {
    c.name("post").map_or("", |m| m.as_str())
}

/// Rewrites each date range in normalized text to its first day ([`RANGES`]).
fn collapse_ranges(text: &str) -> String {
    let mut out = text.to_owned();
    for (regex, rewrite) in RANGES.iter() {
        if regex.is_match(&out) {
            out = regex
                .replace_all(&out, |c: &Captures| rewrite(c))
                .into_owned();
        }
    }
    out
}

/// The earliest date in the text; of dates starting at the same place, the longest. A date
/// with a year is preferred to one without, and a year of our times ([`LIKELY_YEARS`]) to a far
/// one: a number before a date ("№ 1100 21 марта 2026", "v1.2.1234, 21 March 2026") may read as
/// a far year, and must not win over the date beside it.
fn parse_heuristic(text: &str, latest: NaiveDate) -> Option<ParsedDate> {
    let earliest = |year_less: bool, likely: bool| {
        SHAPES
            .iter()
            .filter(|shape| shape.year_less == year_less)
            .flat_map(|shape| {
                shape
                    .regex
                    .captures_iter(text)
                    .filter_map(move |caps| found(text, shape, &caps, latest))
            })
            .filter(|found| !likely || LIKELY_YEARS.contains(&year_of(found.date)))
            .min_by_key(|found| (found.start, std::cmp::Reverse(found.end)))
    };
    earliest(false, true)
        .or_else(|| earliest(false, false))
        .or_else(|| earliest(true, false))
        .map(|found| found.date)
}

/// Years a page of today dates its releases in; others are read only when nothing else is.
const LIKELY_YEARS: RangeInclusive<i32> = 1900..=2100;

fn year_of(date: ParsedDate) -> i32 {
    match date {
        ParsedDate::Day(d) => d.year(),
        ParsedDate::Local(t) => t.year(),
        ParsedDate::Absolute(t) => t.year(),
    }
}

/// A date found by the heuristic and the byte range it spans.
struct Found {
    start: usize,
    end: usize,
    date: ParsedDate,
}

/// After a year-less date, a number that is not a time is its (implausible) year or part of
/// something else: "21 March 1066", "March 21, 99".
static NUMBER_AFTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[.,]? ?[0-9]").expect("pattern compiles"));
static CLOCK_AFTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[.,]? ?[0-9]{1,2}:[0-9]{2}").expect("pattern compiles"));
/// Before a year-less date, a year: "1066 жылғы 21 наурыз".
static YEAR_BEFORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9]{3,}[ ,]?(?:\p{L}+\.?[ ,]?)?$").expect("pattern compiles"));

fn found(text: &str, shape: &Shape, caps: &Captures, latest: NaiveDate) -> Option<Found> {
    let whole = caps.get(0)?;
    // A date glued to more digits is part of some other number ("121 March 2026", "2026-03-215").
    if digit_before(text, whole.start()) || digit_after(text, whole.end()) {
        return None;
    }
    if shape.year_less {
        let rest = &text[whole.end()..];
        if (NUMBER_AFTER.is_match(rest) && !CLOCK_AFTER.is_match(rest))
            || YEAR_BEFORE.is_match(&text[..whole.start()])
        {
            return None;
        }
    }
    let day = calendar_day(shape, caps, latest, written_weekday(text))?;
    let (time, zone, end) = match time_after(&text[whole.end()..]) {
        Some((time, zone, length)) => (Some(time), zone, whole.end() + length),
        None => match time_before(&text[..whole.start()]) {
            Some((time, zone)) => (Some(time), zone, whole.end()),
            None => (None, None, whole.end()),
        },
    };
    let date = plausible(with_time(day, time, zone))?;
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

fn calendar_day(
    shape: &Shape,
    caps: &Captures,
    latest: NaiveDate,
    weekday: Option<Weekday>,
) -> Option<NaiveDate> {
    let month = match caps.name("mon") {
        Some(name) => ENGLISH_MONTHS
            .iter()
            .position(|month| *month == name.as_str())
            .map(month_number)?,
        None => number(caps, "m")?,
    };
    let day = number(caps, "d")?;
    if shape.year_less {
        return infer_year(month, day, latest, weekday);
    }
    // A two-digit year is read as chrono's %y reads it: 00-69 is 20xx, 70-99 19xx.
    let year: i32 = match number::<i32>(caps, "yy") {
        Some(yy) => yy + if yy < 70 { 2000 } else { 1900 },
        None => number(caps, "y")?,
    };
    let as_written = NaiveDate::from_ymd_opt(year, month, day);
    let swapped = NaiveDate::from_ymd_opt(year, day, month).filter(|_| shape.may_swap);
    match (as_written, swapped) {
        // The written weekday fits only the month-first reading: "Thu, 03/05/2026".
        (Some(written), Some(swapped))
            if weekday.is_some_and(|w| written.weekday() != w && swapped.weekday() == w) =>
        {
            Some(swapped)
        }
        (None, swapped) => swapped,
        (written, _) => written,
    }
}

fn number<T: std::str::FromStr>(caps: &Captures, group: &str) -> Option<T> {
    caps.name(group)?.as_str().parse().ok()
}

/// A zone written after a time: its offset, or the region whose offset on the day counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Zone {
    Fixed(FixedOffset),
    Region(Tz),
}

/// The time (and zone) at the start of `rest`, with the number of bytes it spans.
fn time_after(rest: &str) -> Option<(NaiveTime, Option<Zone>, usize)> {
    let caps = TIME_AFTER.captures(rest)?;
    let length = caps.get(0)?.end();
    if digit_after(rest, length) {
        return None;
    }
    Some((clock(&caps)?, zone(&caps), length))
}

fn time_before(prefix: &str) -> Option<(NaiveTime, Option<Zone>)> {
    let caps = TIME_BEFORE.captures(prefix)?;
    let start = caps.get(0)?.start();
    if prefix[..start].ends_with(|c: char| c.is_ascii_digit() || c == ':') {
        return None;
    }
    Some((clock(&caps)?, zone(&caps)))
}

fn zone(caps: &Captures) -> Option<Zone> {
    caps.name("off").and_then(|off| parse_zone(off.as_str()))
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

/// "Z", "UTC", "GMT+5", "(UTC+3)", "+05:00", "+0500", "-03", "MSK", "(CET)". Real offsets stay
/// within ±14 hours; a larger one is more likely the end of a range such as "14:30-15:30" than
/// a zone.
fn parse_zone(text: &str) -> Option<Zone> {
    let text: String = text
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | ' '))
        .collect::<String>()
        .to_uppercase();
    if text.starts_with("ПОМОСКОВСКОМУ") {
        return Some(Zone::Region(chrono_tz::Europe::Moscow));
    }
    if let Some((_, named)) = NAMED_ZONES.iter().find(|(name, _)| *name == text) {
        return match *named {
            NamedZone::Fixed(minutes) => FixedOffset::east_opt(minutes * 60).map(Zone::Fixed),
            NamedZone::Region(tz) => Some(Zone::Region(tz)),
        };
    }
    let signed = ["UTC", "GMT", "UT"]
        .iter()
        .find_map(|name| text.strip_prefix(name))
        .unwrap_or(&text);
    let sign = signed.chars().next()?;
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
    FixedOffset::east_opt(if sign == '-' { -seconds } else { seconds }).map(Zone::Fixed)
}

fn with_time(day: NaiveDate, time: Option<NaiveTime>, zone: Option<Zone>) -> ParsedDate {
    let Some(time) = time else {
        return ParsedDate::Day(day);
    };
    let local = day.and_time(time);
    let absolute = zone.and_then(|zone| match zone {
        Zone::Fixed(offset) => offset.from_local_datetime(&local).single(),
        Zone::Region(tz) => tz
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.fixed_offset()),
    });
    absolute.map_or(ParsedDate::Local(local), ParsedDate::Absolute)
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
    Regex::new(r"^(\s*,\s*|\s+(?:at|в|kl\.|um|à|-|–|\|)\s+|\s+)([0-9]{1,2}):[0-9]{2}(:[0-9]{2})?(?:(\s*)([AaPp]\.?[Mm]\.?))?")
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
    // Each date read day first and month first, in the list's order.
    let mut readings = Vec::new();
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
            day_first_seen = Some(format!("a first number over 12 (\"{}\")", written()));
        }
        if b > 12 && month_first_seen.is_none() {
            month_first_seen = Some(format!("a second number over 12 (\"{}\")", written()));
        }
        let year = match c[5].parse::<i32>().unwrap_or(0) {
            yy if c[5].len() == 2 => yy + if yy < 70 { 2000 } else { 1900 },
            year => year,
        };
        let day_first = NaiveDate::from_ymd_opt(year, b, a);
        let month_first = NaiveDate::from_ymd_opt(year, a, b);
        // A weekday written beside the date that fits one reading only.
        if let Some(weekday) = written_weekday(text) {
            let on = |date: Option<NaiveDate>| date.is_some_and(|d| d.weekday() == weekday);
            let why = || format!("its weekday (\"{}\")", text.trim());
            match (on(day_first), on(month_first)) {
                (true, false) if day_first_seen.is_none() => day_first_seen = Some(why()),
                (false, true) if month_first_seen.is_none() => month_first_seen = Some(why()),
                _ => {}
            }
        }
        readings.push((day_first, month_first));
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
    let (month_first, why) = if let Some(why) = day_first_seen {
        (false, why)
    } else if let Some(why) = month_first_seen {
        (true, why)
    } else if let Some(month_first) = order_by_sequence(&readings) {
        let way = if month_first {
            "month first"
        } else {
            "day first"
        };
        (
            month_first,
            format!("no number over 12; the list's dates are in order only when read {way}"),
        )
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

/// The reading under which a list's dates, as listed, are in order (newest first or oldest
/// first) when the other reading puts them out of order: `Some(true)` for month first. Needs
/// three dates at least, each read both ways, and two different days in the ordered reading.
fn order_by_sequence(readings: &[(Option<NaiveDate>, Option<NaiveDate>)]) -> Option<bool> {
    if readings.len() < 3 {
        return None;
    }
    let read = |month_first: bool| -> Option<Vec<NaiveDate>> {
        readings
            .iter()
            .map(|(day_first, month)| if month_first { *month } else { *day_first })
            .collect()
    };
    let ordered = |dates: &[NaiveDate]| {
        dates.windows(2).any(|w| w[0] != w[1])
            && (dates.windows(2).all(|w| w[0] >= w[1]) || dates.windows(2).all(|w| w[0] <= w[1]))
    };
    match (read(false), read(true)) {
        (Some(day_first), Some(month_first)) => {
            match (ordered(&day_first), ordered(&month_first)) {
                (true, false) => Some(false),
                (false, true) => Some(true),
                _ => None,
            }
        }
        _ => None,
    }
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
    // Too early or too late is the pipeline's to decide (first seen, now): the text is a date.
    #[case::early_year("21 March 1066", day(1066, 3, 21))]
    #[case::early_year_month_first("March 21, 1066", day(1066, 3, 21))]
    #[case::early_year_kazakh_order("1066 жылғы 21 наурыз", day(1066, 3, 21))]
    #[case::year_1800("1 January 1800", day(1800, 1, 1))]
    #[case::far_future("1 January 2999", day(2999, 1, 1))]
    // A number before the date that reads as a far year does not win over it.
    #[case::number_before_a_date_ru("Постановление № 1100 21 марта 2026 г.", day(2026, 3, 21))]
    #[case::number_before_a_date_order("Приказ № 5000 от 5 мая 2026", day(2026, 5, 5))]
    #[case::version_before_a_date("v1.2.1234 published 21 March 2026", day(2026, 3, 21))]
    #[case::numbers_before_a_numeric_date("Report 3.4.1500, 21.03.2026", day(2026, 3, 21))]
    #[case::month_day_year("March 21, 2026", day(2026, 3, 21))]
    #[case::short_month("21 Mar 2026", day(2026, 3, 21))]
    #[case::short_month_dot_first("Mar. 21, 2026", day(2026, 3, 21))]
    #[case::upper_case("21 MARCH 2026", day(2026, 3, 21))]
    #[case::words_before("Published: 21 March 2026", day(2026, 3, 21))]
    #[case::words_after("21 March 2026 — Akorda", day(2026, 3, 21))]
    #[case::with_time("21 March 2026, 14:30", local(2026, 3, 21, 14, 30))]
    // 24:00 ends its day (ISO 8601): the next day's 00:00; a later 24 h clock is no date.
    #[case::day_end("21 марта 2026, 24:00", local(2026, 3, 22, 0, 0))]
    #[case::day_end_in_a_range("21 March 2026, 18:00–24:00", local(2026, 3, 21, 18, 0))]
    #[case::past_day_end("21 марта 2026, 24:10", None)]
    // A leap second is the last second of its minute (the heuristic read no time at all).
    #[case::leap_second("21 March 2026, 14:30:60", NaiveTime::from_hms_opt(14, 30, 59).map(|t| ParsedDate::Local(NaiveDate::from_ymd_opt(2026, 3, 21).unwrap().and_time(t))))]
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
    #[case::two_digit_year("21.03.26", day(2026, 3, 21))]
    #[case::two_digit_year_with_time("05.03.26 14:30", local(2026, 3, 5, 14, 30))]
    #[case::two_digit_year_last_century("21.03.99", day(1999, 3, 21))]
    #[case::two_digit_year_is_not_in_an_address("192.168.10.15", None)]
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

    /// An attribute's whole value of 9–10 digits is Unix seconds, of 12–13 milliseconds (UTC);
    /// before 1990, of another length, or with anything else in it, no Unix time. Text is never
    /// read so; the admin's format reads first.
    #[rstest]
    #[case::seconds("1764931200", None, absolute("2025-12-05T10:40:00Z"))]
    #[case::milliseconds("1764931200000", None, absolute("2025-12-05T10:40:00Z"))]
    #[case::milliseconds_kept("1764931200250", None, absolute("2025-12-05T10:40:00.250Z"))]
    #[case::nine_digits("999999999", None, absolute("2001-09-09T01:46:39Z"))]
    #[case::twelve_digits("999999999999", None, absolute("2001-09-09T01:46:39.999Z"))]
    #[case::spaces_around(" 1764931200 ", None, absolute("2025-12-05T10:40:00Z"))]
    #[case::seconds_with_s("1764931200", Some("%s"), absolute("2025-12-05T10:40:00Z"))]
    #[case::milliseconds_with_s("1764931200000", Some("%s"), absolute("2025-12-05T10:40:00Z"))]
    #[case::format_first("2603211430", Some("%y%m%d%H%M"), local(2026, 3, 21, 14, 30))]
    #[case::before_1990("100000000", None, None)]
    #[case::eleven_digits("12345678901", None, None)]
    #[case::eight_digits("17649312", None, None)]
    #[case::signed("-1764931200", None, None)]
    #[case::decimal("1764931200.5", None, None)]
    #[case::words("1764931200 views", None, None)]
    fn an_attribute_holding_unix_time(
        #[case] value: &str,
        #[case] format: Option<&str>,
        #[case] expected: Option<ParsedDate>,
    ) {
        let now = utc("2026-03-21T12:00:00Z");
        assert_eq!(
            parse_attribute_in(value, format, now, chrono_tz::UTC),
            expected
        );
        assert_eq!(parse_date_in(value, None, now, chrono_tz::UTC), None);
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
    #[case::glued_to_number("121 March 2026")]
    #[case::kazakhstan_is_not_october("Қазақстан 2026 21")]
    #[case::surname_is_not_march("21 Мартынов 2026")]
    fn rejects(#[case] text: &str) {
        assert_eq!(parse_date(text, None), None);
        assert_eq!(parse_date(text, Some("%d %B %Y")), None);
    }

    /// Month names of other languages read as the three of the SPEC are.
    #[rstest]
    #[case::french("5 mars 2026", day(2026, 3, 5))]
    #[case::french_accented("1er décembre 2025 à 14h", day(2025, 12, 1))]
    #[case::german("5. März 2026, 10:30", local(2026, 3, 5, 10, 30))]
    #[case::german_abbreviation("5. Dez. 2025", day(2025, 12, 5))]
    #[case::spanish("5 de marzo de 2026", day(2026, 3, 5))]
    #[case::portuguese("5 de março de 2026", day(2026, 3, 5))]
    #[case::italian("5 settembre 2025", day(2025, 9, 5))]
    #[case::dutch("5 mei 2026", day(2026, 5, 5))]
    #[case::polish("5 października 2025", day(2025, 10, 5))]
    #[case::czech("5. listopadu 2025", day(2025, 11, 5))]
    #[case::ukrainian("5 березня 2026", day(2026, 3, 5))]
    #[case::turkish("5 Mart 2026", day(2026, 3, 5))]
    #[case::uzbek("5-mart, 2026", day(2026, 3, 5))]
    #[case::chinese("2026年3月5日", day(2026, 3, 5))]
    #[case::korean("2026년 3월 5일", day(2026, 3, 5))]
    fn reads_month_names_of_other_languages(
        #[case] text: &str,
        #[case] expected: Option<ParsedDate>,
    ) {
        assert_eq!(parse_date(text, None), expected);
    }

    /// A numeric date's weekday tells day and month apart where the numbers cannot: 5 March
    /// 2026 was a Thursday, 3 May a Sunday.
    #[rstest]
    #[case::month_first_by_weekday("Thu, 03/05/2026 - 10:30", local(2026, 3, 5, 10, 30))]
    #[case::day_first_by_weekday("Sun, 03/05/2026 - 10:30", local(2026, 5, 3, 10, 30))]
    #[case::ru_abbreviation("Чт, 03.05.2026", day(2026, 3, 5))]
    #[case::weekday_fitting_neither("Wed, 03/05/2026", day(2026, 5, 3))]
    #[case::two_weekdays_say_nothing("Thu, 03/05/2026 (Sun)", day(2026, 5, 3))]
    #[case::no_weekday("03/05/2026", day(2026, 5, 3))]
    fn a_written_weekday_orders_a_numeric_date(
        #[case] text: &str,
        #[case] expected: Option<ParsedDate>,
    ) {
        assert_eq!(parse_date(text, None), expected);
    }

    /// A list's dates read one way: a weekday that fits only the month-first reading is
    /// evidence for the whole list, like a number over 12 (Drupal's "Thu, 03/05/2026 - 10:30").
    #[test]
    fn a_written_weekday_is_evidence_for_a_lists_order() {
        let texts = ["Thu, 03/05/2026 - 10:30", "Wed, 03/04/2026 - 09:00"];
        let order = numeric_order(texts, false).unwrap();
        assert!(order.month_first, "{order:?}");
        assert!(order.why.contains("weekday"), "{order:?}");
        let format = order.format.unwrap();
        assert_eq!(format, "%m/%d/%Y - %H:%M");
        assert_eq!(parse_date(texts[1], Some(&format)), local(2026, 3, 4, 9, 0));
        let texts = ["Sun, 03/05/2026", "Sat, 02/05/2026"];
        assert!(!numeric_order(texts, true).unwrap().month_first);
    }

    /// With no number over 12 and no weekday, the list's own order tells: Drupal's
    /// "12/04/2026 - 15:30" list, newest first, is in order only when read month first.
    #[test]
    fn the_lists_order_tells_day_and_month_apart() {
        let texts = [
            "12/04/2026 - 15:30",
            "12/02/2026 - 10:00",
            "11/10/2026 - 09:00",
            "11/03/2026 - 18:45",
        ];
        let order = numeric_order(texts, false).unwrap();
        assert!(order.month_first, "{order:?}");
        assert!(order.why.contains("in order"), "{order:?}");
        // Day first it is: 4 December, 2 December, 10 November, 3 November.
        let texts = ["04.12.2026", "02.12.2026", "10.11.2026", "03.11.2026"];
        assert!(!numeric_order(texts, true).unwrap().month_first);
        // In order both ways, or neither way, or too few: the region decides.
        for texts in [
            &["01.02.2026", "01.02.2026", "01.01.2026"][..],
            &["04.12.2026", "02.05.2026", "10.11.2026"][..],
            &["12/04/2026", "12/02/2026"][..],
        ] {
            assert!(
                numeric_order(texts.iter().copied(), true)
                    .unwrap()
                    .month_first
            );
            assert!(
                !numeric_order(texts.iter().copied(), false)
                    .unwrap()
                    .month_first
            );
        }
    }

    /// 20:40 UTC on 6 December 2026: already 01:40 on the 7th in Almaty (UTC+5).
    fn evening() -> DateTime<Utc> {
        utc("2026-12-06T20:40:00Z")
    }

    #[rstest]
    #[case::ru("5 марта", chrono_tz::UTC, day(2026, 3, 5))]
    #[case::en_month_first("March 5", chrono_tz::UTC, day(2026, 3, 5))]
    #[case::kk_hyphen("5-наурыз", chrono_tz::UTC, day(2026, 3, 5))]
    #[case::weekday_before("Четверг, 5 марта", chrono_tz::UTC, day(2026, 3, 5))]
    // A written weekday keeps to the years the date fell on it.
    // A written weekday that fits last year and not this one takes last year (5 March 2025
    // was a Wednesday); one that fits neither is ignored (5 March was a Friday in 2021 only).
    #[case::weekday_of_last_year("Wednesday, 5 March", chrono_tz::UTC, day(2025, 3, 5))]
    #[case::weekday_ru("среда, 5 марта", chrono_tz::UTC, day(2025, 3, 5))]
    #[case::weekday_kk("Сәрсенбі, 5 наурыз", chrono_tz::UTC, day(2025, 3, 5))]
    #[case::weekday_abbreviated("Wed 5 Mar", chrono_tz::UTC, day(2025, 3, 5))]
    #[case::weekday_fitting_neither_year("Friday, 5 March", chrono_tz::UTC, day(2026, 3, 5))]
    #[case::weekday_beside_a_time(
        "Sat, 14:00, 2 December",
        chrono_tz::UTC,
        local(2026, 12, 2, 14, 0)
    )]
    #[case::with_time("5 марта, 14:30", chrono_tz::UTC, local(2026, 3, 5, 14, 30))]
    #[case::time_first("14:30, 5 марта", chrono_tz::UTC, local(2026, 3, 5, 14, 30))]
    #[case::today_in_utc("6 December", chrono_tz::UTC, day(2026, 12, 6))]
    // Tomorrow in the source's zone is the tolerance; the day after is last year's.
    #[case::tomorrow_in_utc("7 December", chrono_tz::UTC, day(2026, 12, 7))]
    #[case::two_days_ahead_in_utc("8 December", chrono_tz::UTC, day(2025, 12, 8))]
    #[case::tomorrow_in_almaty("8 December", chrono_tz::Asia::Almaty, day(2026, 12, 8))]
    #[case::two_days_ahead_in_almaty("9 December", chrono_tz::Asia::Almaty, day(2025, 12, 9))]
    #[case::leap_day("29 February", chrono_tz::UTC, day(2024, 2, 29))]
    #[case::new_year("31 декабря", chrono_tz::UTC, day(2025, 12, 31))]
    #[case::with_year_is_as_written("8 December 2026", chrono_tz::UTC, day(2026, 12, 8))]
    fn a_year_less_date_gets_the_latest_year_not_after_tomorrow(
        #[case] text: &str,
        #[case] tz: Tz,
        #[case] expected: Option<ParsedDate>,
    ) {
        assert_eq!(parse_date_in(text, None, evening(), tz), expected);
    }

    #[rstest]
    #[case::day_month("5 марта", "%d %B", day(2026, 3, 5))]
    #[case::month_day("03/05", "%m/%d", day(2026, 3, 5))]
    #[case::with_time("5 March 23:10", "%d %B %H:%M", local(2026, 3, 5, 23, 10))]
    #[case::ahead_is_last_year("9 December", "%d %B", day(2025, 12, 9))]
    // 5 March was a Thursday in 2026, 2020 and 2015: the latest year whose weekday fits.
    #[case::weekday_picks_the_year("Thursday, 5 March", "%A, %d %B", day(2026, 3, 5))]
    #[case::weekday_of_an_earlier_year("Friday, 5 March", "%A, %d %B", day(2021, 3, 5))]
    fn a_format_without_a_year_reads_the_latest_year(
        #[case] text: &str,
        #[case] format: &str,
        #[case] expected: Option<ParsedDate>,
    ) {
        assert_eq!(
            parse_date_in(text, Some(format), evening(), chrono_tz::UTC),
            expected
        );
    }

    #[test]
    fn parse_date_places_a_year_less_date_in_the_zone_furthest_ahead() {
        // Today anywhere on Earth is at most tomorrow at UTC+14: such a date is this year's.
        let ahead = Utc::now() + TimeDelta::hours(14);
        let text = format!(
            "{} {}",
            ahead.day(),
            ENGLISH_MONTHS[ahead.month0() as usize]
        );
        assert_eq!(
            parse_date(&text, None),
            day(ahead.year(), ahead.month(), ahead.day()),
            "{text}"
        );
    }

    #[rstest]
    #[case::days_en_dash("5–7 March 2026", day(2026, 3, 5))]
    #[case::days_hyphen("5-7 March 2026", day(2026, 3, 5))]
    #[case::days_spaced_em_dash("5 — 7 March 2026", day(2026, 3, 5))]
    #[case::days_ordinal("5th–7th March 2026", day(2026, 3, 5))]
    #[case::days_ru("5–7 марта 2026 года", day(2026, 3, 5))]
    #[case::days_ru_po("с 5 по 7 марта 2026 года", day(2026, 3, 5))]
    #[case::days_kk_year_first("2026 жылғы 5-7 наурыз", day(2026, 3, 5))]
    #[case::day_month_twice_ru("5 марта – 7 марта 2026", day(2026, 3, 5))]
    #[case::day_month_twice_tight("5 марта—7 апреля 2026", day(2026, 3, 5))]
    #[case::across_new_year("30 December – 2 January 2026", day(2025, 12, 30))]
    #[case::month_days("March 5–7, 2026", day(2026, 3, 5))]
    #[case::month_days_hyphen("March 5-7 2026", day(2026, 3, 5))]
    #[case::month_day_month_day("March 30 – April 2, 2026", day(2026, 3, 30))]
    #[case::numeric_full("05.03.2026 – 07.03.2026", day(2026, 3, 5))]
    #[case::numeric_day_month("05.03–07.03.2026", day(2026, 3, 5))]
    #[case::numeric_days("05-07.03.2026", day(2026, 3, 5))]
    #[case::full_dates("5 March 2026 – 7 March 2026", day(2026, 3, 5))]
    #[case::time_range_is_kept("5 March 2026, 14:30–16:00", local(2026, 3, 5, 14, 30))]
    #[case::dash_before_time("5 March 2026 - 14:30", local(2026, 3, 5, 14, 30))]
    fn a_range_is_dated_by_its_first_day(#[case] text: &str, #[case] expected: Option<ParsedDate>) {
        assert_eq!(
            parse_date_in(text, None, evening(), chrono_tz::UTC),
            expected
        );
        // A format without a time reads the day alone.
        let day = expected.map(|date| ParsedDate::Day(day_of(date)));
        assert_eq!(
            parse_date_in(text, Some("%d %B %Y"), evening(), chrono_tz::UTC),
            day,
            "with a date_format"
        );
    }

    #[test]
    fn a_year_less_range_is_dated_by_its_first_day() {
        let at = |text| parse_date_in(text, None, evening(), chrono_tz::UTC);
        assert_eq!(at("5–7 марта"), day(2026, 3, 5));
        assert_eq!(at("March 5–7"), day(2026, 3, 5));
        assert_eq!(at("March 5 - 14:30"), local(2026, 3, 5, 14, 30));
    }

    #[rstest]
    #[case::msk("5 March 2026 14:30 MSK", absolute("2026-03-05T14:30:00+03:00"))]
    #[case::msk_cyrillic("5 марта 2026, 14:30 МСК", absolute("2026-03-05T14:30:00+03:00"))]
    #[case::msk_lower("5 марта 2026, 14:30 мск", absolute("2026-03-05T14:30:00+03:00"))]
    #[case::msk_words(
        "5 марта 2026 года в 14:30 по московскому времени",
        absolute("2026-03-05T14:30:00+03:00")
    )]
    // Moscow was UTC+4 from 2011 to 2014: the abbreviation names the region.
    #[case::msk_2012("5 March 2012 14:30 MSK", absolute("2012-03-05T14:30:00+04:00"))]
    #[case::bracketed_utc("5 March 2026 14:30 (UTC+3)", absolute("2026-03-05T14:30:00+03:00"))]
    #[case::bracketed_gmt_minutes(
        "5 March 2026 14:30 (GMT+03:00)",
        absolute("2026-03-05T14:30:00+03:00")
    )]
    #[case::utc_spaced("5 March 2026 14:30 UTC +3", absolute("2026-03-05T14:30:00+03:00"))]
    #[case::bracketed_name("5 March 2026 14:30 (CET)", absolute("2026-03-05T14:30:00+01:00"))]
    #[case::cest("5 July 2026 14:30 CEST", absolute("2026-07-05T14:30:00+02:00"))]
    #[case::eet("5 March 2026 14:30 EET", absolute("2026-03-05T14:30:00+02:00"))]
    #[case::almt("5 March 2026 14:30 ALMT", absolute("2026-03-05T14:30:00+05:00"))]
    #[case::almt_before_2024("5 March 2023 14:30 ALMT", absolute("2023-03-05T14:30:00+06:00"))]
    #[case::qyzt("5 March 2026 14:30 QYZT", absolute("2026-03-05T14:30:00+05:00"))]
    #[case::gmt("5 March 2026 14:30 GMT", absolute("2026-03-05T14:30:00+00:00"))]
    #[case::pm_and_zone("March 5, 2026 2:30 PM EST", absolute("2026-03-05T14:30:00-05:00"))]
    #[case::et_in_summer("July 5, 2026 2:30 p.m. ET", absolute("2026-07-05T14:30:00-04:00"))]
    #[case::zone_before_date("14:30 MSK, 5 March 2026", absolute("2026-03-05T14:30:00+03:00"))]
    #[case::unknown_name_is_local("5 March 2026 14:30 Astana time", local(2026, 3, 5, 14, 30))]
    #[case::unknown_abbreviation_is_local("5 March 2026 14:30 XYZT", local(2026, 3, 5, 14, 30))]
    #[case::ambiguous_cst_is_local("5 March 2026 14:30 CST", local(2026, 3, 5, 14, 30))]
    fn a_zone_after_the_time_is_read(#[case] text: &str, #[case] expected: Option<ParsedDate>) {
        assert_eq!(parse_date(text, None), expected);
    }

    #[rstest]
    #[case::pm("March 21, 2026 at 2:30 PM", local(2026, 3, 21, 14, 30))]
    #[case::noon("21 March 2026 12:05 PM", local(2026, 3, 21, 12, 5))]
    #[case::midnight("21 March 2026 12:05 AM", local(2026, 3, 21, 0, 5))]
    #[case::dotted("21 March 2026 11:30 p.m.", local(2026, 3, 21, 23, 30))]
    #[case::am_starting_a_word("21 March 2026 10:15 amsterdam", local(2026, 3, 21, 10, 15))]
    fn the_meridiem_is_read(#[case] text: &str, #[case] expected: Option<ParsedDate>) {
        assert_eq!(parse_date(text, None), expected);
    }

    #[rstest]
    #[case::latin_2018("27 Qarasha 2026", day(2026, 11, 27))]
    #[case::latin_lower("5 nauryz 2026", day(2026, 3, 5))]
    #[case::latin_diacritics("5 naýryz 2026", day(2026, 3, 5))]
    #[case::latin_upper("5 NAÝRYZ 2026", day(2026, 3, 5))]
    #[case::latin_2021("5 Säuır 2026", day(2026, 4, 5))]
    #[case::latin_2021_shilde("5 Şılde 2026", day(2026, 7, 5))]
    #[case::latin_suffix("2026 jylǵy 5 naýryzda", day(2026, 3, 5))]
    #[case::latin_with_format("5 qyrkúiek 2026", day(2026, 9, 5))]
    fn kazakh_latin_months(#[case] text: &str, #[case] expected: Option<ParsedDate>) {
        assert_eq!(parse_date(text, None), expected);
        assert_eq!(parse_date(text, Some("%d %B %Y")), expected);
    }

    #[rstest]
    #[case::qantar("qantar", 1)]
    #[case::aqpan("aqpan", 2)]
    #[case::nauryz("nauryz", 3)]
    #[case::nauryz_diacritic("naýryz", 3)]
    #[case::sauir("sauir", 4)]
    #[case::sauir_diacritics("sáýir", 4)]
    #[case::mamyr("mamyr", 5)]
    #[case::mausym("mausym", 6)]
    #[case::mausym_diacritic("maýsym", 6)]
    #[case::shilde("shilde", 7)]
    #[case::tamyz("tamyz", 8)]
    #[case::qyrkuiek("qyrkuiek", 9)]
    #[case::qyrkuiek_diacritic("qyrkúiek", 9)]
    #[case::qazan("qazan", 10)]
    #[case::qarasha("qarasha", 11)]
    #[case::jeltoqsan("jeltoqsan", 12)]
    fn every_kazakh_latin_month(#[case] word: &str, #[case] month: u32) {
        assert_eq!(month_of_word(word), Some(month));
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
    #[case::french("fr", "21 mars 2026")]
    #[case::german("de-AT", "21. März 2026")]
    #[case::spanish("es", "21 de marzo de 2026")]
    #[case::italian("it", "21 marzo 2026")]
    #[case::portuguese("pt-BR", "21 de março de 2026")]
    #[case::dutch("nl", "21 maart 2026")]
    #[case::polish("pl", "21 marca 2026")]
    #[case::czech("cs", "21. března 2026")]
    #[case::turkish("tr", "21 Mart 2026")]
    #[case::ukrainian("uk", "21 березня 2026")]
    #[case::other("fi", "21 March 2026")]
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
        let langs = [
            "en", "ru", "kk", "fr", "de", "es", "it", "pt", "nl", "pl", "cs", "tr", "uk",
        ];
        // Every month, and the first of a month (French "1er").
        for lang in langs {
            for (month, d) in (1..=12).map(|m| (m, 15)).chain([(5, 1)]) {
                let at = utc(&format!("2026-{month:02}-{d:02}T12:00:00Z"));
                let text = format_day(at, chrono_tz::UTC, lang);
                let date = parse_date(&text, None).expect("own output parses");
                assert_eq!(date, day(2026, month, d).expect("valid"), "{lang}: {text}");
                let instant = resolve(date, chrono_tz::UTC, now, now);
                assert_eq!(format_day(instant, chrono_tz::UTC, lang), text);
            }
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
