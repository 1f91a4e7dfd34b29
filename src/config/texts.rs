//! The text that decides each source and each channel entry: what a reload compares to know
//! which tasks to restart (a source's schedule, a chat's delivery worker), in place of the
//! `Debug` form of what was built from it.
//!
//! A part's text is its own table written in one canonical form, followed by each value it takes
//! from elsewhere in the file. The canonical form keeps the values and drops the writing: keys
//! sorted, strings and numbers as the values they stand for (`0x10` is `16`, `'a'` is `"a"`),
//! `[sources.list]` the same as `list = { … }`, no comments, no layout. So an edit of comments,
//! spaces or the order of keys restarts nothing, and any change of a value restarts the part.
//!
//! What a part takes from elsewhere:
//! - a channel entry takes `[telegram]` (its worker reads the chat's rate limits when it starts)
//!   and, when it has `quiet_hours` but no `quiet_timezone`, the zone it inherits: the
//!   `timezone` of the first source posting to it;
//! - a source takes nothing: `[general]` (`user_agent`, `public_url`, `min_free_mb`) and
//!   `[[translations]]` are read from the live config at each poll, so an edit of them applies at
//!   the next poll without a restart.

use super::Channel;
use std::collections::HashMap;
use std::fmt::Write;
use toml::de::{DeTable, DeValue};

/// The canonical text of each part of a config (see the module's comment).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Texts {
    /// By source id: its `[[sources]]` table.
    pub sources: HashMap<String, String>,
    /// By channel id: its `[[channels]]` table, `[telegram]` and the quiet zone it inherits.
    pub channels: HashMap<String, String>,
    /// `[general]`, `[server]` and `[telegram]` (`[[translations]]` are compared as read).
    pub rest: String,
}

impl Texts {
    /// The texts of the parts of `root` that were built: `channels` are the valid entries (with
    /// their inherited quiet zone resolved), `sources` the ids of the valid sources.
    pub(super) fn read(root: &DeTable<'_>, channels: &[Channel], sources: &[&str]) -> Texts {
        let telegram = root
            .get("telegram")
            .map_or_else(|| "{}".to_owned(), |t| canonical(t.get_ref()));
        let mut texts = Texts::default();
        for table in entries(root, "channels") {
            let Some(channel) = id(table).and_then(|id| channels.iter().find(|c| c.id == id))
            else {
                continue;
            };
            let mut text = canonical_table(table);
            let _ = write!(text, "\n[telegram] {telegram}");
            if !table.contains_key("quiet_timezone")
                && let Some(quiet) = &channel.quiet
            {
                let _ = write!(
                    text,
                    "\nquiet_timezone (inherited) = {:?}",
                    quiet.timezone.name()
                );
            }
            texts.channels.insert(channel.id.clone(), text);
        }
        for table in entries(root, "sources") {
            if let Some(id) = id(table).filter(|id| sources.contains(id)) {
                texts.sources.insert(id.to_owned(), canonical_table(table));
            }
        }
        let mut rest = String::new();
        let mut keys: Vec<_> = root
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.get_ref().as_ref(),
                    "sources" | "channels" | "translations"
                )
            })
            .collect();
        keys.sort_by(|(a, _), (b, _)| a.get_ref().cmp(b.get_ref()));
        for (key, value) in keys {
            let _ = writeln!(
                rest,
                "{:?} = {}",
                key.get_ref().as_ref(),
                canonical(value.get_ref())
            );
        }
        texts.rest = rest;
        texts
    }
}

/// The tables of `[[key]]`.
fn entries<'t, 'i>(root: &'t DeTable<'i>, key: &str) -> Vec<&'t DeTable<'i>> {
    let Some(DeValue::Array(items)) = root.get(key).map(|v| v.get_ref()) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        })
        .collect()
}

/// A `[[sources]]` or `[[channels]]` table's `id`.
fn id<'t>(table: &'t DeTable<'_>) -> Option<&'t str> {
    table.get("id")?.get_ref().as_str()
}

/// `value` in the canonical form: one line, keys sorted, values as they read.
pub(super) fn canonical(value: &DeValue<'_>) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn canonical_table(table: &DeTable<'_>) -> String {
    let mut out = String::new();
    write_table(&mut out, table);
    out
}

fn write_value(out: &mut String, value: &DeValue<'_>) {
    match value {
        DeValue::String(s) => {
            let _ = write!(out, "{:?}", s.as_ref());
        }
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => {
                let _ = write!(out, "{n}");
            }
            Err(_) => out.push_str(i.as_str()),
        },
        DeValue::Float(f) => match f.as_str().parse::<f64>() {
            Ok(x) => {
                let _ = write!(out, "{x:?}");
            }
            Err(_) => out.push_str(f.as_str()),
        },
        DeValue::Boolean(b) => {
            let _ = write!(out, "{b}");
        }
        DeValue::Datetime(d) => {
            let _ = write!(out, "{d}");
        }
        DeValue::Array(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                write_value(out, item.get_ref());
            }
            out.push(']');
        }
        DeValue::Table(table) => write_table(out, table),
    }
}

fn write_table(out: &mut String, table: &DeTable<'_>) {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by(|(a, _), (b, _)| a.get_ref().cmp(b.get_ref()));
    out.push('{');
    for (n, (key, value)) in entries.into_iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{:?} = ", key.get_ref().as_ref());
        write_value(out, value.get_ref());
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::*;

    fn texts(text: &str) -> Texts {
        parse_str(text).unwrap_or_else(|e| panic!("{e:#?}")).texts
    }

    #[test]
    fn the_writing_of_a_table_is_not_its_text() {
        let plain = texts(&format!("{HTML}{CHANNEL}"));
        let written = "# the feed\n[[sources]]\nurl = 'https://example.org/'  # list\n\
                       id = \"a\"\nschedule = \"0 0 * * * *\"\n\
                       list = { link = \"a@href\", item = \"div\", \"title\" = \"h3\" }\n\
                       [[channels]]\nchat = \"@c_news\"\n\n\nid = \"c\"\n";
        assert_eq!(texts(written), plain);
    }

    #[test]
    fn a_value_is_its_text() {
        let plain = texts(&format!("{FEED}max_items = 16\n"));
        assert_eq!(texts(&format!("{FEED}max_items = 0x10\n")), plain);
        assert_ne!(texts(&format!("{FEED}max_items = 17\n")), plain);
        assert_ne!(texts(&format!("{FEED}include = [\"a\"]\n")), plain);
    }

    #[test]
    fn a_channel_takes_telegram_and_the_zone_it_inherits() {
        let quiet = "quiet_hours = \"23:00-07:00\"\n";
        let own = format!("quiet_timezone = \"Asia/Almaty\"\n{quiet}");
        let text = |zone: &str, telegram: &str| {
            let d = CHANNEL
                .replace("\"c\"", "\"d\"")
                .replace("@c_news", "@d_news");
            texts(&format!(
                "{telegram}{CHANNEL}{quiet}{d}{own}{FEED}timezone = \"{zone}\"\nchannels = [\"c\", \"d\"]\n"
            ))
        };
        let before = text("Asia/Almaty", "");
        let zone = text("Europe/Berlin", "");
        assert_ne!(
            zone.channels["c"], before.channels["c"],
            "inherits the zone"
        );
        assert_eq!(zone.channels["d"], before.channels["d"], "has its own");
        assert_ne!(zone.sources["a"], before.sources["a"]);
        let limits = text("Asia/Almaty", "[telegram]\nper_chat_per_minute = 10\n");
        assert_ne!(limits.channels["c"], before.channels["c"]);
        assert_ne!(limits.channels["d"], before.channels["d"]);
        assert_eq!(limits.sources, before.sources);
        assert_ne!(limits.rest, before.rest);
    }

    #[test]
    fn general_is_no_part_of_a_source() {
        let before = texts(FEED);
        let after = texts(&format!("[general]\nuser_agent = \"other\"\n{FEED}"));
        assert_eq!(after.sources, before.sources);
        assert_ne!(after.rest, before.rest);
    }
}
