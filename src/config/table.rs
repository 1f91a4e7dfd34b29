//! One TOML table of the spanned document, read key by key: unknown keys (with the likely
//! intended one), missing ones and wrong types are problems reported at their position.

use super::Pick;
use super::diagnostics::{Report, Span};
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

pub(super) type Value<'i> = Spanned<DeValue<'i>>;

/// One TOML table being checked: its entries, where its header is, and how messages name it.
pub(super) struct Table<'t, 'i> {
    entries: &'t DeTable<'i>,
    pub(super) span: Span,
    pub(super) name: String,
}

impl<'t, 'i> Table<'t, 'i> {
    pub(super) fn new(entries: &'t DeTable<'i>, span: Span, name: String) -> Self {
        Table {
            entries,
            span,
            name,
        }
    }

    /// Entries in file order (the map itself may be sorted by key).
    pub(super) fn in_order(&self) -> Vec<(&'t Spanned<DeString<'i>>, &'t Value<'i>)> {
        let mut entries: Vec<_> = self.entries.iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        entries
    }

    pub(super) fn check_keys(&self, r: &mut Report, allowed: &[&str]) {
        self.check_keys_but(r, allowed, &[]);
    }

    /// [`Table::check_keys`], saying nothing of the keys `said` (reported otherwise).
    pub(super) fn check_keys_but(&self, r: &mut Report, allowed: &[&str], said: &[&str]) {
        for (key, _) in self.in_order() {
            let k: &str = key.get_ref();
            if allowed.contains(&k) || said.contains(&k) {
                continue;
            }
            let hint = closest(k, allowed.iter().copied())
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            let expected = allowed.join(", ");
            let message = format!(
                "unknown key `{k}` in {} ({hint}expected one of: {expected})",
                self.name
            );
            r.error(&key.span(), message);
        }
    }

    pub(super) fn value(&self, key: &str) -> Option<&'t Value<'i>> {
        self.entries.get(key)
    }

    pub(super) fn key_span(&self, key: &str) -> Option<Span> {
        self.entries.get_key_value(key).map(|(k, _)| k.span())
    }

    /// Reports a missing required key at this table's header, unless a misspelling of it is
    /// there (reported already as an unknown key, with `key` as its likely meaning).
    pub(super) fn require(&self, r: &mut Report, key: &str) -> bool {
        let present = self.entries.contains_key(key);
        if !present && !self.misspelt(key) {
            r.error(&self.span, format!("missing key `{key}` in {}", self.name));
        }
        present
    }

    /// Whether `key` is absent but another key of this table is a near misspelling of it
    /// (`ulr` for `url`): what `key` would have said is then unknown, not missing.
    pub(super) fn misspelt(&self, key: &str) -> bool {
        !self.entries.contains_key(key)
            && self.entries.keys().any(|k| {
                let k: &str = k.get_ref();
                k != key && closest(k, [key]).is_some()
            })
    }

    /// Where a key is, as type errors name it: "`backfill` in [[sources]] `akorda-en`".
    pub(super) fn place(&self, key: &str) -> Place {
        Place {
            what: format!("`{key}` in {}", self.name),
            key: Some(key.to_owned()),
        }
    }

    /// Where an element of the array `key` is (see [`Self::place`]).
    pub(super) fn element_place(&self, key: &str) -> Place {
        Place {
            what: format!("each element of `{key}` in {}", self.name),
            key: None,
        }
    }

    pub(super) fn string(&self, r: &mut Report, key: &str) -> Option<(&'t str, Span)> {
        expect_str(r, self.value(key)?, &self.place(key))
    }

    pub(super) fn required_str(&self, r: &mut Report, key: &str) -> Option<(&'t str, Span)> {
        if self.require(r, key) {
            self.string(r, key)
        } else {
            None
        }
    }

    pub(super) fn integer(&self, r: &mut Report, key: &str) -> Option<(i64, Span)> {
        expect_int(r, self.value(key)?, &self.place(key))
    }

    /// An integer of at least `min` that fits `T`, or `default` when absent (or wrong: reported).
    pub(super) fn count<T: TryFrom<i64>>(
        &self,
        r: &mut Report,
        key: &str,
        min: i64,
        default: T,
    ) -> T {
        let Some((n, span)) = self.integer(r, key) else {
            return default;
        };
        if n < min {
            let want = if min > 0 {
                "a positive integer"
            } else {
                "zero or more"
            };
            r.error(&span, format!("`{key}` must be {want}, found {n}"));
            return default;
        }
        T::try_from(n).unwrap_or_else(|_| {
            r.error(&span, format!("`{key}` = {n} is too large"));
            default
        })
    }

    pub(super) fn boolean(&self, r: &mut Report, key: &str) -> Option<(bool, Span)> {
        let v = self.value(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some((*b, v.span())),
            other => type_error(r, v, &self.place(key), "a boolean (true or false)", other),
        }
    }

    pub(super) fn array(&self, r: &mut Report, key: &str) -> Option<&'t [Value<'i>]> {
        let v = self.value(key)?;
        match v.get_ref() {
            DeValue::Array(a) => Some(a),
            other => type_error(r, v, &self.place(key), "an array", other),
        }
    }

    /// The strings of an array; elements of another type are reported and skipped.
    pub(super) fn strings(&self, r: &mut Report, key: &str) -> Vec<(&'t str, Span)> {
        let items = self.array(r, key).unwrap_or_default();
        let place = self.element_place(key);
        items
            .iter()
            .filter_map(|v| expect_str(r, v, &place))
            .collect()
    }

    pub(super) fn table(&self, r: &mut Report, key: &str, name: String) -> Option<Table<'t, 'i>> {
        let v = self.value(key)?;
        match v.get_ref() {
            DeValue::Table(t) => Some(Table::new(t, v.span(), name)),
            other => type_error(r, v, &self.place(key), "a table", other),
        }
    }

    /// An optional `[key]` section, or an empty one when absent.
    pub(super) fn section(
        &self,
        r: &mut Report,
        key: &str,
        empty: &'t DeTable<'i>,
    ) -> Table<'t, 'i> {
        let name = format!("[{key}]");
        self.table(r, key, name.clone())
            .unwrap_or_else(|| Table::new(empty, 0..0, name))
    }

    /// The tables of `[[key]]`, each named by its `id` (or its position when it has none).
    pub(super) fn array_of_tables(&self, r: &mut Report, key: &str) -> Vec<Table<'t, 'i>> {
        let Some(v) = self.value(key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            let found = v.get_ref().type_str();
            let message = format!(
                "`{key}` must be an array of tables, written [[{key}]]; found {}",
                article(found)
            );
            r.error(&v.span(), message);
            return Vec::new();
        };
        let mut tables = Vec::new();
        for (n, item) in items.iter().enumerate() {
            match item.get_ref() {
                DeValue::Table(t) => {
                    let name = match t.get("id").and_then(|id| id.get_ref().as_str()) {
                        Some(id) => format!("[[{key}]] `{id}`"),
                        None => format!("[[{key}]] #{}", n + 1),
                    };
                    tables.push(Table::new(t, item.span(), name));
                }
                other => {
                    let place = Place {
                        what: format!("each entry of `{key}` (written [[{key}]])"),
                        key: None,
                    };
                    type_error::<()>(r, item, &place, "a table", other);
                }
            }
        }
        tables
    }

    pub(super) fn pick(&self, r: &mut Report, key: &str) -> Option<Pick> {
        let (text, span) = self.string(r, key)?;
        r.check(&span, Pick::parse(text))
    }

    pub(super) fn required_pick(&self, r: &mut Report, key: &str) -> Option<Pick> {
        if self.require(r, key) {
            self.pick(r, key)
        } else {
            None
        }
    }
}

/// Where a value is, for its type error: what to call it ("`backfill` in [[sources]] `x`")
/// and, for a key's own value, the key (the message then says `write KEY = VALUE`).
pub(super) struct Place {
    pub(super) what: String,
    pub(super) key: Option<String>,
}

pub(super) fn expect_str<'t>(
    r: &mut Report,
    v: &'t Value<'_>,
    place: &Place,
) -> Option<(&'t str, Span)> {
    match v.get_ref() {
        DeValue::String(s) => Some((s.as_ref(), v.span())),
        other => type_error(r, v, place, "a string", other),
    }
}

pub(super) fn expect_int(r: &mut Report, v: &Value<'_>, place: &Place) -> Option<(i64, Span)> {
    match v.get_ref() {
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Some((n, v.span())),
            Err(_) => {
                let message = format!(
                    "{} is the integer {i}, which does not fit in 64 bits",
                    place.what
                );
                r.error(&v.span(), message);
                None
            }
        },
        other => type_error(r, v, place, "an integer", other),
    }
}

/// A value of the wrong type: says where it is, what it must be, the value as written, and
/// what to write instead ("`backfill` in [[sources]] `x` must be an integer, found the string
/// \"1\": write backfill = 1").
pub(super) fn type_error<T>(
    r: &mut Report,
    v: &Value<'_>,
    place: &Place,
    expected: &str,
    found: &DeValue<'_>,
) -> Option<T> {
    let span = v.span();
    let raw = r.text.get(span.clone()).unwrap_or_default().trim();
    let written = shortened(raw);
    let found_text = match found {
        DeValue::Table(_) if !written.starts_with('{') => "a table".to_owned(),
        _ => format!("the {} {written}", found.type_str()),
    };
    let instead = match (place.key.as_deref(), found) {
        // A schedule is a cron text: a number in its place was meant as seconds between polls.
        (Some("schedule"), DeValue::Integer(n)) => Some(cron_every(n.as_str())),
        _ => suggestion(expected, found, raw),
    };
    let write = match (&place.key, instead) {
        (Some(key), Some(value)) => format!(": write {key} = {value}"),
        (None, Some(value)) => format!(": write {value}"),
        (Some(key), None) => format!(" (e.g. {})", example(key, expected)),
        (None, None) => String::new(),
    };
    r.error(
        &span,
        format!(
            "{} must be {expected}, found {found_text}{write}",
            place.what
        ),
    );
    None
}

/// A value as written, cut to a length a one-line message can quote.
fn shortened(written: &str) -> String {
    const MAX: usize = 60;
    if written.chars().count() <= MAX {
        return written.to_owned();
    }
    let cut: String = written.chars().take(MAX).collect();
    format!("{cut}…")
}

/// The value the admin most likely meant, in the expected type, when the one written says it:
/// `"1"` for an integer is `1`, `1` for a string is `"1"`, `"true"` for a boolean is `true`,
/// `"x"` for an array is `["x"]`.
fn suggestion(expected: &str, found: &DeValue<'_>, written: &str) -> Option<String> {
    let wants = |kind: &str| expected.starts_with(kind);
    match found {
        DeValue::String(s) if wants("an integer") => {
            let n: i64 = s.trim().replace('_', "").parse().ok()?;
            Some(n.to_string())
        }
        DeValue::Float(_) if wants("an integer") => {
            let f: f64 = written.replace('_', "").parse().ok()?;
            (f.fract() == 0.0 && f.abs() < 9e15).then(|| format!("{}", f as i64))
        }
        DeValue::String(s) if wants("a boolean") => match s.trim() {
            "true" | "yes" | "on" => Some("true".to_owned()),
            "false" | "no" | "off" => Some("false".to_owned()),
            _ => None,
        },
        DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_) | DeValue::Datetime(_)
            if expected == "a string" =>
        {
            Some(format!("\"{written}\""))
        }
        DeValue::String(_) if wants("an array") => Some(format!("[{written}]")),
        _ => None,
    }
}

/// A cron schedule (with seconds) polling every `seconds` (as written in the file), when the
/// interval divides a minute, an hour or a day; else a ten-minute example.
fn cron_every(seconds: &str) -> String {
    let cron = super::cron::cron_every(seconds.replace('_', "").parse::<u64>().ok());
    format!("\"{cron}\" (a cron text with seconds, read in the source's timezone)")
}

/// A value of the expected type, to show the form: `key = 1`, `key = "text"`.
fn example(key: &str, expected: &str) -> String {
    // The one array of integers: Telegram user ids.
    let value = if key == "admins" {
        "[123456789]"
    } else if expected.starts_with("an integer") {
        "10"
    } else if expected.starts_with("a boolean") {
        "true"
    } else if expected.starts_with("an array") {
        "[\"…\"]"
    } else if expected.starts_with("a table") {
        return format!("{key} = {{ … }}, or a section of its own");
    } else if expected.contains("@username") {
        "\"@username\""
    } else {
        "\"…\""
    };
    format!("{key} = {value}")
}

/// "integer" -> "an integer".
pub(super) fn article(type_name: &str) -> String {
    let an = type_name.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {type_name}", if an { "an" } else { "a" })
}

/// The candidate nearest to a misspelt `word`, when it is near enough to be a likely typo.
pub(super) fn closest<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let word = word.to_lowercase();
    // One slip in a short word, two in a longer one; more is a different word.
    let limit = if word.chars().count() <= 4 { 1 } else { 2 };
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance in characters, a swap of two neighbours counting as one edit ("titel").
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // rows[i][j]: distance between a[..i] and b[..j] (optimal string alignment).
    let mut rows = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}
