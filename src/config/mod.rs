//! config.toml: read with spans, collect every problem with its line and column, then build the
//! runtime types (parsed cron, selectors, zones, URLs) once, so nothing fails later at 3 a.m.
//!
//! The document is parsed into toml's spanned `DeTable` and walked by hand: serde's
//! `deny_unknown_fields` would stop at the first problem, and `herald check` must list them all
//! (SPEC "Command line": `PATH:LINE:COL: message`, COL at the offending key or value).
//!
//! The reader: `diagnostics` (problems and their positions) and `table` (one TOML table,
//! its keys checked and its values typed). The sections, each read into its runtime types:
//! `general` (`[general]`, `[server]`, `[telegram]`), `channels`, `sources` with their
//! `selectors` and `cron` schedules, `translations`; `values` are the values more than
//! one section reads. `texts` keeps the TOML text that decides each source and channel, which
//! a reload compares; `live` is the config a reload swaps.

mod channels;
mod cron;
mod diagnostics;
mod environment;
mod file;
mod general;
mod live;
mod selectors;
mod sources;
mod table;
#[cfg(test)]
mod testing;
mod texts;
mod translations;
mod values;

pub use self::selectors::{ArticleSelectors, ListSelectors, Pick, SCOPE};
pub use channels::{Channel, ChatRef, ShareTarget};
pub use diagnostics::Diagnostic;
pub use environment::{data_dir_problem, delivery_off_warning};
pub use file::{MAX_BYTES, read_file};
pub use general::{
    Connections, DEFAULT_API_URL, DEFAULT_FEED_CACHE_MB, DEFAULT_FIRST_REQUEST_SECS,
    DEFAULT_IDLE_SECS, DEFAULT_LISTEN, DEFAULT_MAX_CONNECTIONS, DEFAULT_MIN_FREE_MB,
    DEFAULT_SEND_STALL_SECS, General, Server, Telegram, default_user_agent,
};
pub use live::LiveConfig;
pub use sources::{DEFAULT_POLL_DEADLINE_SECS, ImageRewrite, Source, SourceKind, language};
pub use texts::Texts;
pub use translations::TranslationGroup;
pub use values::passes;

use channels::channels;
use diagnostics::Report;
use general::{general, listen_address, public_url, server, telegram};
use sources::sources;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use table::Table;
use toml::de::{DeTable, DeValue};
use translations::translations;

/// The whole validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The path as given on the command line (used in diagnostics).
    pub path: PathBuf,
    pub general: General,
    pub server: Server,
    pub telegram: Telegram,
    pub channels: Vec<Channel>,
    pub sources: Vec<Source>,
    /// `[[translations]]`: groups of source ids whose releases are the same releases in other
    /// languages (each group has sources of distinct languages; a source is in one group at most).
    pub translations: Vec<TranslationGroup>,
    /// The text that decides each source and channel entry, which a reload compares.
    pub texts: Texts,
    /// Non-fatal remarks (e.g. `insecure_tls` in use), same format as errors.
    pub warnings: Vec<Diagnostic>,
    /// SHA-256 of the text this config was read from: the config watcher, starting after the
    /// config was read (and the database opened), compares the file with it, so that an edit
    /// made meanwhile is taken.
    pub text_digest: [u8; 32],
}

impl Config {
    /// The source with this id.
    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }

    /// The channel with this id.
    pub fn channel(&self, id: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.id == id)
    }

    /// The other sources of `source`'s `[[translations]]` group (empty when it has none).
    pub fn translations_of(&self, source: &str) -> Vec<&Source> {
        self.translation_group(source)
            .map(|group| {
                group
                    .sources
                    .iter()
                    .filter(|id| *id != source)
                    .filter_map(|id| self.source(id))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `[[translations]]` group of `source`, if any.
    pub fn translation_group(&self, source: &str) -> Option<&TranslationGroup> {
        self.translations
            .iter()
            .find(|group| group.sources.iter().any(|id| id == source))
    }
}

/// Reads and validates `path`; on failure returns every problem found, in file order.
pub fn load(path: &Path) -> Result<Config, Vec<Diagnostic>> {
    let bytes = read_file(path).map_err(|e| unreadable(path, &e))?;
    load_text(path, text_of(path, &bytes)?)
}

/// [`load`], for the commands that open the database (`check`, `run`, `poll`, `prune`): the data
/// folder as this process finds it ([`data_dir_problem`]) is one more problem of the config,
/// listed with the file's others, in file order.
pub fn load_with_data_dir(path: &Path) -> Result<Config, Vec<Diagnostic>> {
    let bytes = read_file(path).map_err(|e| unreadable(path, &e))?;
    let text = text_of(path, &bytes)?;
    let mut problems = match load_text(path, text) {
        Ok(config) => {
            return match data_dir_problem(&config, text) {
                Some(problem) => Err(vec![problem]),
                None => Ok(config),
            };
        }
        Err(problems) => problems,
    };
    // Told once: the file's own check says a `data_dir` that is a file at its value already.
    if let Some(problem) = environment::written_data_dir_problem(path, text, &base_dir_of(path))
        && !problems
            .iter()
            .any(|p| (p.line, p.col) == (problem.line, problem.col))
    {
        problems.push(problem);
        problems.sort_by_key(|p| (p.line, p.col));
    }
    Err(problems)
}

/// The folder relative paths of the config file `path` are relative to, absolute (so that
/// messages naming `data_dir` mean the same wherever they are read).
fn base_dir_of(path: &Path) -> PathBuf {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::path::absolute(folder).unwrap_or_else(|_| folder.to_path_buf())
}

/// The file's bytes as text; a byte that is not UTF-8 is reported where it is.
pub fn text_of<'b>(path: &Path, bytes: &'b [u8]) -> Result<&'b str, Vec<Diagnostic>> {
    std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        // The valid part is text: count its lines and the characters on the last one.
        let before = std::str::from_utf8(good).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let col = diagnostics::column(before.rsplit('\n').next().unwrap_or(""));
        let byte = bytes.get(e.valid_up_to()).copied().unwrap_or_default();
        vec![Diagnostic {
            path: path.display().to_string(),
            line,
            col,
            message: format!(
                "the byte 0x{byte:02X} is not UTF-8 text: the file must be saved as UTF-8 \
                 (an editor's \"encoding\" setting; Latin-1 or Windows-1251 text reads so)"
            ),
        }]
    })
}

/// The problem of a config file that cannot be read (or is not UTF-8).
pub fn unreadable(path: &Path, e: &std::io::Error) -> Vec<Diagnostic> {
    vec![Diagnostic {
        path: path.display().to_string(),
        line: 1,
        col: 1,
        message: format!("cannot read config: {e}"),
    }]
}

/// Validates `text`, read from the config file `path`, as [`load`] does: relative paths are
/// resolved against the file's folder and the environment's overrides applied. (The config
/// watcher parses the very bytes it saw hold still.)
///
/// A file with nothing but blanks and comments is refused, by `check`, by `run` at start and
/// by a live reload alike: it is most often a save cut short (a full disk, a failed deploy
/// write), and taking it would drop every source and channel — live, or at the next start
/// over the same database (feeds answering 410, `/healthz` ok, nobody told).
pub fn load_text(path: &Path, text: &str) -> Result<Config, Vec<Diagnostic>> {
    if holds_nothing(text) {
        return Err(vec![Diagnostic {
            path: path.display().to_string(),
            line: 1,
            col: 1,
            message: EMPTY_FILE.to_owned(),
        }]);
    }
    let mut config = parse(path, text, &base_dir_of(path))?;
    apply_env_overrides(&mut config, |name| std::env::var(name).ok())?;
    // The address herald listens on is known only now (HERALD_LISTEN in a container).
    if let Some(warning) = environment::loopback_public_url_warning(&config, text) {
        config.warnings.push(warning);
    }
    Ok(config)
}

/// SHA-256 of a config's text (see [`Config::text_digest`]).
pub fn text_digest(text: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).into()
}

/// The problem of a config file that holds no key or table.
const EMPTY_FILE: &str = "the file is empty (or holds only comments): refused, as a save cut \
    short would otherwise drop every source and channel; a running herald keeps its config. A \
    config without sources still needs a table, e.g. `[general]`";

/// Whether a config text has no key or table: only blank lines and comments.
fn holds_nothing(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim_start_matches('\u{feff}').trim();
        line.is_empty() || line.starts_with('#')
    })
}

/// Environment variables that replace a key of the file when set and not blank (README,
/// "Docker"): a container's address and data folder belong to the image, not to the config
/// mounted into it. A relative `HERALD_DATA_DIR` is relative to the current folder, as in a
/// shell; `public_url` does not follow `HERALD_LISTEN`.
pub const ENV_OVERRIDES: [(&str, &str); 3] = [
    ("HERALD_DATA_DIR", "data_dir"),
    ("HERALD_LISTEN", "listen"),
    ("HERALD_PUBLIC_URL", "public_url"),
];

/// Applies [`ENV_OVERRIDES`], read through `var`, saying in the log which keys they replace; a
/// bad value is a problem of the config (at 1:1, naming the variable).
fn apply_env_overrides(
    config: &mut Config,
    var: impl Fn(&str) -> Option<String>,
) -> Result<(), Vec<Diagnostic>> {
    let mut problems = Vec::new();
    for (name, key) in ENV_OVERRIDES {
        let Some(text) = var(name).filter(|v| !v.is_empty()) else {
            continue;
        };
        // Only spaces is unset too (README): said in the log, as every override is.
        if text.trim().is_empty() {
            tracing::warn!("{name} is set but blank: ignored, the config's {key} applies");
            continue;
        }
        let applied = match key {
            "data_dir" => std::path::absolute(&text)
                .map(|dir| config.general.data_dir = dir)
                .map_err(|e| format!("`{text}` is not a usable folder: {e}")),
            "listen" => listen_address(&text).map(|addr| config.server.listen = addr),
            "public_url" => public_url(&text).map(|url| config.general.public_url = url),
            other => unreachable!("ENV_OVERRIDES names no key `{other}`"),
        };
        match applied {
            Ok(()) => tracing::info!("{key} = {text} (from {name}, in place of the config's)"),
            Err(message) => problems.push(Diagnostic {
                path: config.path.display().to_string(),
                line: 1,
                col: 1,
                message: format!("environment variable {name}: {message}"),
            }),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Validates `text` as the config file `path_as_given`, resolving relative paths against
/// `base_dir`; on failure returns every problem found, in file order.
pub fn parse(path_as_given: &Path, text: &str, base_dir: &Path) -> Result<Config, Vec<Diagnostic>> {
    let mut r = Report::new(path_as_given, text);
    let (document, syntax) = DeTable::parse_recoverable(text);
    if let Some(first) = syntax
        .iter()
        .min_by_key(|e| e.span().map_or(0, |s| s.start))
    {
        r.syntax_error(first, LIST_KEYS);
        return Err(r.errors);
    }
    let empty = DeTable::new();
    let root = Table::new(document.get_ref(), 0..0, "the top level of the file".into());
    let misplaced = misnamed_source_sections(&mut r, &root);
    let names: Vec<&str> = misplaced.iter().map(|(name, _)| name.as_str()).collect();
    root.check_keys_but(&mut r, TOP_KEYS, &names);
    let section = root.section(&mut r, "server", &empty);
    let server = server(&mut r, &section);
    let section = root.section(&mut r, "general", &empty);
    let general = general(&mut r, &section, &server, base_dir);
    let section = root.section(&mut r, "telegram", &empty);
    let telegram = telegram(&mut r, &section);
    let (channels, known, template_spans) = channels(&mut r, &root);
    // A section that could not be read (misnamed or of the wrong shape, reported already)
    // leaves references to it unchecked: each would be a false "not defined" follow-on.
    let known = readable(&root, "channels").then_some(&known);
    // `[[source]]` then `[sources.list]`: the list made `sources` a table, which is no further
    // problem than the misnamed `source` (reported).
    let (sources, defined) = if only_source_sections(root.value("sources").map(|v| v.get_ref()))
        && misnamed(&root, "sources")
    {
        (Vec::new(), HashSet::new())
    } else {
        let lists_at: Vec<usize> = misplaced.iter().map(|(_, at)| *at).collect();
        sources(&mut r, &root, known, &lists_at)
    };
    let defined = if readable(&root, "sources") {
        defined
    } else {
        sources_named_by_translations(&root)
    };
    let translations = translations(&mut r, &root, &sources, &defined);
    channels::check_templates(&mut r, &channels, &template_spans, &sources);
    let ids: Vec<&str> = sources.iter().map(|s| s.id.as_str()).collect();
    let texts = Texts::read(document.get_ref(), &channels, &ids);
    let config = Config {
        path: path_as_given.to_path_buf(),
        general,
        server,
        telegram,
        channels,
        sources,
        translations,
        texts,
        warnings: Vec::new(),
        text_digest: text_digest(text),
    };
    r.finish(config)
}

/// Whether the ids of the top-level array of tables `key` are all known: it is neither of
/// another shape (`[sources]` for `[[sources]]`) nor misnamed (`[[source]]`, an unknown key
/// close to `key`), and each entry has a string `id`. When not, references to it are not
/// checked (each would be a false "not defined").
fn readable(root: &Table, key: &str) -> bool {
    let shaped = match root.value(key).map(|v| v.get_ref()) {
        None => true,
        // Every entry a table with an id: an entry whose id cannot be read may be the one a
        // reference names.
        Some(DeValue::Array(items)) => items.iter().all(|item| match item.get_ref() {
            DeValue::Table(t) => t
                .get("id")
                .is_some_and(|id| id.get_ref().as_str().is_some()),
            _ => false,
        }),
        Some(_) => false,
    };
    shaped && !misnamed(root, key)
}

/// Whether an unknown top-level key is `key` misnamed: close to its name (`[[source]]`), or
/// like it by its content.
fn misnamed(root: &Table, key: &str) -> bool {
    root.in_order().into_iter().any(|(name, value)| {
        let name: &str = name.get_ref();
        !TOP_KEYS.contains(&name)
            && (table::closest(name, TOP_KEYS.iter().copied()) == Some(key)
                || looks_like(value.get_ref(), key))
    })
}

/// Whether `value` is a table of a source's sub-sections only (`list`, `article`): what
/// `[source.list]` makes of `source`, or `[sources.list]` of `sources` after `[[source]]`.
fn only_source_sections(value: Option<&DeValue>) -> bool {
    match value {
        Some(DeValue::Table(t)) => {
            !t.is_empty()
                && t.keys().all(|k| {
                    let k: &str = k.get_ref();
                    matches!(k, "list" | "article")
                })
        }
        _ => false,
    }
}

/// A source's sub-section under a misspelt name (`[source.list]` for `[sources.list]`): one
/// problem each, saying what to write. Returns each misnamed key with where its header is, so
/// that the source above it is not also told its list is missing.
fn misnamed_source_sections(r: &mut Report, root: &Table) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    for (name, value) in root.in_order() {
        let name: &str = name.get_ref();
        let DeValue::Table(t) = value.get_ref() else {
            continue;
        };
        if TOP_KEYS.contains(&name)
            || table::closest(name, TOP_KEYS.iter().copied()) != Some("sources")
            || !only_source_sections(Some(value.get_ref()))
        {
            continue;
        }
        let Some(span) = root.key_span(name) else {
            continue;
        };
        for sub in t.keys() {
            let sub: &str = sub.get_ref();
            let message = format!(
                "[{name}.{sub}] is no section herald knows: write [sources.{sub}] (the {sub} of \
                 the [[sources]] above it)"
            );
            r.error(&span, message);
        }
        found.push((name.to_owned(), span.start));
    }
    found
}

/// Whether an unknown top-level section reads like `key` by its content (`[[feeds]]` whose
/// entries have a `url` or `schedule` are sources; with a `chat`, channels), however far its
/// name is from `key`.
fn looks_like(value: &DeValue, key: &str) -> bool {
    let marks: &[&str] = match key {
        "sources" => &["url", "schedule"],
        "channels" => &["chat"],
        _ => return false,
    };
    let has_marks = |t: &DeTable| marks.iter().any(|m| t.contains_key(*m));
    match value {
        DeValue::Table(t) => has_marks(t),
        DeValue::Array(items) => items.iter().any(|item| match item.get_ref() {
            DeValue::Table(t) => has_marks(t),
            _ => false,
        }),
        _ => false,
    }
}

/// Every source id that a `[[translations]]` group names: what counts as defined when
/// `[[sources]]` cannot be read, so that no group is told its sources do not exist.
fn sources_named_by_translations(root: &Table) -> HashSet<String> {
    let Some(DeValue::Array(groups)) = root.value("translations").map(|v| v.get_ref()) else {
        return HashSet::new();
    };
    let named = groups.iter().filter_map(|group| match group.get_ref() {
        DeValue::Table(t) => match t.get("sources").map(|v| v.get_ref()) {
            Some(DeValue::Array(ids)) => Some(ids),
            _ => None,
        },
        _ => None,
    });
    named
        .flatten()
        .filter_map(|id| id.get_ref().as_str().map(str::to_string))
        .collect()
}

/// The top-level keys written as lists of tables (`[[sources]]`).
const LIST_KEYS: &[&str] = &["channels", "sources", "translations"];

const TOP_KEYS: &[&str] = &[
    "general",
    "server",
    "telegram",
    "channels",
    "sources",
    "translations",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::*;
    use rstest::rstest;

    #[test]
    fn spec_example_parses() {
        let text = format!("{SPEC_EXAMPLE}{KAZAKH_SOURCE}");
        let config = parse_str(&text).unwrap_or_else(|e| panic!("{e:#?}"));
        assert_eq!(config.general.data_dir, Path::new("/etc/herald/data"));
        assert_eq!(config.general.public_url, "http://127.0.0.1:8080");
        assert_eq!(config.telegram.admins, [123456789]);
        assert_eq!(config.telegram.per_chat_per_minute, 20);
        assert_eq!(
            config.channels[0].chat,
            ChatRef::Username("@akorda_news_en".into())
        );
        let share = &config.channels[0].share;
        assert_eq!(
            share,
            &[ShareTarget::X, ShareTarget::Facebook, ShareTarget::Telegram]
        );

        let en = config.source("akorda-en").expect("akorda-en");
        assert_eq!(en.timezone, chrono_tz::Asia::Almaty);
        assert_eq!(en.channels, ["akorda-en"]);
        let list = en.list.as_ref().expect("list");
        assert_eq!(list.link.attr.as_deref(), Some("href"));
        assert_eq!(list.date_format.as_deref(), Some("%d %B %Y"));
        let article = en.article.as_ref().expect("article");
        assert_eq!(
            article.image.as_ref().and_then(|p| p.attr.as_deref()),
            Some("content")
        );

        let kz = config.source("akorda-kz").expect("akorda-kz");
        assert_eq!(kz.language, "kk");
        assert_eq!(kz.title, "akorda-kz");
        assert_eq!(kz.kind, SourceKind::Feed);
        assert_eq!((kz.max_items, kz.max_pages, kz.backfill), (50, 3, 1));
        assert!(
            kz.include[1].is_match("указ о ..."),
            "include is case-insensitive"
        );
        assert_eq!(
            kz.headers[0],
            ("Accept-Language".to_string(), "kk".to_string())
        );
        assert!(kz.id_pattern.is_some() && kz.insecure_tls);
        assert_eq!(config.warnings.len(), 1);
        assert_eq!((config.warnings[0].line, config.warnings[0].col), (54, 16));
        assert!(config.warnings[0].message.contains("insecure_tls is on"));
    }

    #[rstest]
    #[rustfmt::skip]
    #[case::syntax_error("[general]\ndata_dir = data\n", 2, 12, "invalid TOML")]
    #[case::duplicate_key("[server]\nlisten = \"127.0.0.1:1\"\nlisten = \"x\"\n", 3, 1, "duplicate key `listen`")]
    #[case::table_beside_list(&format!("[sources]\nid = \"x\"\n{FEED}"), 3, 3, "[sources] and [[sources]] clash: sources are written [[sources]], each one under its own [[sources]] header")]
    #[case::list_beside_table(&format!("{FEED}[sources]\n"), 6, 2, "[sources] and [[sources]] clash")]
    #[case::list_table_twice("[channels]\n[channels]\n", 2, 2, "[channels] is written twice: channels are written [[channels]]")]
    #[case::section_twice("[general]\n[general]\n", 2, 2, "[general] is written twice: put all its keys under one [general]")]
    #[case::section_beside_list("[general]\n[[general]]\n", 2, 3, "[general] and [[general]] clash: [general] is one section")]
    #[case::key_beside_list(&format!("sources = 1\n{FEED}"), 2, 3, "`sources` is set both as a key and as [[sources]]")]
    #[case::key_twice_in_a_list(&format!("{FEED}{}[[translations]]\nsources = [\"a\", \"b\"]\nsources = []\n", FEED.replace("\"a\"", "\"b\"")), 13, 1, "duplicate key `sources`")]
    #[case::unknown_top_level("[genral]\n", 1, 2, "unknown key `genral` in the top level of the file (did you mean `general`?")]
    #[case::unknown_in_general("[general]\ndata_dri = \"x\"\n", 2, 1, "unknown key `data_dri` in [general]")]
    #[case::unknown_in_sources(&format!("{FEED}titel = \"x\"\n"), 6, 1, "unknown key `titel` in [[sources]] `a` (did you mean `title`? expected one of: id, title, url")]
    #[case::unknown_in_list(&format!("{HTML}summry = \"p\"\n"), 9, 1, "unknown key `summry` in [sources.list] of source `a`")]
    #[case::unknown_list_table(&format!("{FEED}[sources.lsit]\n"), 6, 10, "unknown key `lsit`")]
    #[case::wrong_type(&format!("{FEED}backfill = \"1\"\n"), 6, 12, "`backfill` in [[sources]] `a` must be an integer, found the string \"1\": write backfill = 1")]
    #[case::wrong_type_no_hint(&format!("{FEED}backfill = \"three\"\n"), 6, 12, "`backfill` in [[sources]] `a` must be an integer, found the string \"three\" (e.g. backfill = 10)")]
    #[case::float_for_integer(&format!("{FEED}max_items = 20.0\n"), 6, 13, "`max_items` in [[sources]] `a` must be an integer, found the float 20.0: write max_items = 20")]
    #[case::integer_for_string(&format!("{FEED}id_pattern = 5\n"), 6, 14, "`id_pattern` in [[sources]] `a` must be a string, found the integer 5: write id_pattern = \"5\"")]
    #[case::seconds_for_schedule(&FEED.replace("\"0 0 * * * *\"", "600"), 4, 12, "`schedule` in [[sources]] `a` must be a string, found the integer 600: write schedule = \"0 */10 * * * *\" (a cron text with seconds")]
    #[case::odd_seconds_for_schedule(&FEED.replace("\"0 0 * * * *\"", "7"), 4, 12, "found the integer 7: write schedule = \"0 */10 * * * *\"")]
    #[case::string_for_boolean(&format!("{FEED}require_id = \"true\"\n"), 6, 14, "`require_id` in [[sources]] `a` must be a boolean (true or false), found the string \"true\": write require_id = true")]
    #[case::string_for_array(&format!("{FEED}include = \"visit\"\n"), 6, 11, "`include` in [[sources]] `a` must be an array, found the string \"visit\": write include = [\"visit\"]")]
    #[case::admin_as_name("[telegram]\nadmins = [\"@me\"]\n", 2, 11, "each element of `admins` in [telegram] must be a user's numeric id, found the string \"@me\"")]
    #[case::server_type("[server]\nidle_secs = \"60\"\n", 2, 13, "`idle_secs` in [server] must be an integer, found the string \"60\": write idle_secs = 60")]
    #[case::negative(&format!("{FEED}max_items = 0\n"), 6, 13, "`max_items` must be a positive integer, found 0")]
    #[case::too_large(&format!("{FEED}backfill = 99999999999\n"), 6, 12, "`backfill` = 99999999999 is too large")]
    #[case::integer_overflow(&format!("{FEED}backfill = 99999999999999999999\n"), 6, 12, "does not fit in 64 bits")]
    #[case::missing_key("[[sources]]\nid = \"a\"\nschedule = \"0 0 * * * *\"\nkind = \"feed\"\n", 1, 1, "missing key `url` in [[sources]] `a`")]
    #[case::missing_id("x = 1\n[[sources]]\nurl = \"https://e.org\"\nschedule = \"0 0 * * * *\"\nkind = \"feed\"\n", 2, 1, "missing key `id` in [[sources]] #1")]
    #[case::five_field_cron(&FEED.replace("0 0 * * * *", "0 */10 * * *"), 4, 12, "cron `0 */10 * * *` has 5 fields; herald's schedules start with a seconds field: write `0 0 */10 * * *`")]
    #[case::invalid_cron(&FEED.replace("0 0 * * * *", "0 0 25 * * *"), 4, 12, "invalid cron `0 0 25 * * *`")]
    #[case::cron_field_count(&FEED.replace("0 0 * * * *", "* *"), 4, 12, "has 2 fields")]
    #[case::bad_css(&HTML.replace("item = \"div\"", "item = \"div[\""), 6, 8, "invalid CSS selector `div[`")]
    #[case::bad_pick(&HTML.replace("\"a@href\"", "\"a >@href\""), 8, 8, "invalid CSS selector `a >@href`: a combinator")]
    #[case::item_with_attr(&HTML.replace("item = \"div\"", "item = \"div@id\""), 6, 8, "drop `@id`")]
    #[case::unknown_timezone(&format!("{FEED}timezone = \"Asia/Almati\"\n"), 6, 12, "unknown timezone `Asia/Almati` (did you mean `Asia/Almaty`?)")]
    #[case::bad_language(&format!("{FEED}language = \"english language\"\n"), 6, 12, "language `english language` is not a BCP 47 tag")]
    #[case::bad_url(&FEED.replace("https://example.org/", "www.akorda.kz/en"), 3, 7, "`url` `www.akorda.kz/en` is not a valid absolute URL")]
    #[case::not_http(&FEED.replace("https://example.org/", "ftp://example.org/"), 3, 7, "must be an http:// or https:// URL")]
    #[case::bad_api_url("[telegram]\napi_url = \"api.telegram.org\"\n", 2, 11, "`api_url`")]
    #[case::bad_hub("[server]\nwebsub_hub = \"pubsubhubbub.appspot.com\"\n", 2, 14, "`websub_hub` `pubsubhubbub.appspot.com` is not a valid absolute URL")]
    #[case::hub_not_http("[server]\nwebsub_hub = \"ftp://hub.example/\"\n", 2, 14, "`websub_hub` must be an http:// or https:// URL")]
    #[case::translation_unknown_source(&format!("{FEED}[[translations]]\nsources = [\"a\", \"zz\"]\n"), 7, 17, "[[translations]] names source `zz`, which is not defined in [[sources]]")]
    #[case::translation_same_language(&format!("{FEED}{}[[translations]]\nsources = [\"a\", \"b\"]\n", FEED.replace("\"a\"", "\"b\"")), 12, 17, "`b` and `a` are both in language `en`")]
    #[case::translation_alone(&format!("{FEED}[[translations]]\nsources = [\"a\"]\n"), 6, 1, "[[translations]] needs at least two sources")]
    #[case::translation_unknown_key(&format!("{FEED}[[translations]]\nsource = [\"a\"]\n"), 7, 1, "unknown key `source` in [[translations]] #1 (did you mean `sources`?")]
    #[case::bad_listen("[server]\nlisten = \"localhost\"\n", 2, 10, "listen `localhost` is not an IP address with a port")]
    #[case::listen_host_name("[server]\nlisten = \"localhost:8080\"\n", 2, 10, "listen `localhost:8080` names the host `localhost`: write an IP address instead")]
    #[case::no_connections("[server]\nmax_connections = 0\n", 2, 19, "`max_connections` must be a positive integer, found 0")]
    #[case::no_idle_time("[server]\nidle_secs = 0\n", 2, 13, "`idle_secs` must be a positive integer, found 0")]
    #[case::malformed_id(&FEED.replace("\"a\"", "\"Akorda_EN\""), 2, 6, "source id `Akorda_EN` must match [a-z0-9-]+")]
    #[case::reserved_all(&FEED.replace("\"a\"", "\"all\""), 2, 6, "`all` is reserved for the merged feed")]
    #[case::duplicate_source(&format!("{FEED}{FEED}"), 7, 6, "duplicate source id `a` (first defined at line 2)")]
    #[case::duplicate_channel(&format!("{CHANNEL}{CHANNEL}"), 5, 6, "duplicate channel id `c` (first defined at line 2)")]
    #[case::unknown_channel(&format!("{CHANNEL}{FEED}channels = [\"c\", \"x\"]\n"), 9, 18, "source `a` names channel `x`, which is not defined in [[channels]]")]
    #[case::bad_chat(&CHANNEL.replace("@c_news", "c_news"), 3, 8, "chat `c_news` must be \"@username\" or a numeric chat id")]
    #[case::unknown_share(&format!("{CHANNEL}share = [\"x\", \"fb\"]\n"), 4, 15, "unknown share target `fb` (expected one of: x, facebook, telegram, whatsapp, vk, linkedin)")]
    #[case::duplicate_share(&format!("{CHANNEL}share = [\"x\", \"x\"]\n"), 4, 15, "share target `x` is listed twice")]
    #[case::bad_regex(&format!("{FEED}include = [\"(unclosed\"]\n"), 6, 12, "`include`: invalid regex `(unclosed`")]
    #[case::channel_regex(&format!("{CHANNEL}exclude = [\"(x\"]\n"), 4, 12, "`exclude`: invalid regex `(x`")]
    #[case::digest_zero(&format!("{CHANNEL}digest_over = 0\n"), 4, 15, "`digest_over` must be a positive integer, found 0")]
    #[case::digest_string(&format!("{CHANNEL}digest_over = \"10\"\n"), 4, 15, "`digest_over` in [[channels]] `c` must be an integer, found the string \"10\": write digest_over = 10")]
    #[case::quiet_hours_shape(&format!("{CHANNEL}quiet_hours = \"23-07\"\n"), 4, 15, "quiet_hours `23-07` is not a window such as \"23:00-07:00\"")]
    #[case::quiet_hours_empty_window(&format!("{CHANNEL}quiet_hours = \"08:00-08:00\"\n"), 4, 15, "starts where it ends")]
    #[case::quiet_mode(&format!("{CHANNEL}quiet_hours = \"23:00-07:00\"\nquiet = \"mute\"\n"), 5, 9, "unknown quiet `mute` (expected one of: silent, hold)")]
    #[case::quiet_timezone(&format!("{CHANNEL}quiet_hours = \"23:00-07:00\"\nquiet_timezone = \"Asia/Almati\"\n"), 5, 18, "unknown timezone `Asia/Almati`")]
    #[case::quiet_without_hours(&format!("{CHANNEL}quiet = \"hold\"\n"), 4, 1, "`quiet` is set but `quiet_hours`")]
    #[case::template_syntax(&format!("{CHANNEL}template = \"<b>{{{{ title </b>\"\n"), 4, 26, "template: syntax error")]
    #[case::template_unknown_field(&format!("{CHANNEL}template = '''\n<b>{{{{ titel }}}}</b>'''\n"), 5, 7, "template: unknown field `titel` (fields: title, summary, link")]
    #[case::template_with_escapes(&format!("{CHANNEL}template = \"\\t{{{{ titel }}}}\"\n"), 4, 12, "unknown field `titel`")]
    #[case::template_runs_too_long(&format!("{CHANNEL}template = \"{{% for i in range(100000) %}}{{% for j in range(1000) %}}x{{% endfor %}}{{% endfor %}}\"\n"), 4, 67, "template: it does too much work for one post (a loop runs too long")]
    #[case::template_foreign_tag(&format!("{CHANNEL}template = \"<h1>{{{{ title }}}}</h1>\"\n"), 4, 13, "`<h1>` is not a Telegram tag")]
    #[case::unknown_channel_key(&format!("{CHANNEL}digest = 5\n"), 4, 1, "unknown key `digest` in [[channels]] `c`")]
    #[case::id_pattern_without_group(&format!("{FEED}id_pattern = '-\\d+$'\n"), 6, 14, "has no capture group")]
    #[case::list_missing(&FEED.replace("kind = \"feed\"\n", ""), 1, 1, "missing [sources.list] in [[sources]] `a` (required when kind = \"html\"")]
    #[case::list_for_feed(&format!("{FEED}[sources.list]\nitem = \"div\"\n"), 6, 10, "has kind = \"feed\": [sources.list] applies only to kind = \"html\"")]
    #[case::unknown_kind(&FEED.replace("\"feed\"", "\"rss\""), 5, 8, "unknown kind `rss` (expected one of: html, feed)")]
    #[case::bad_date_format(&format!("{HTML}date = \"h5\"\ndate_format = \"%Q\"\n"), 10, 15, "date_format `%Q` is not a valid strftime format")]
    #[case::date_format_without_date(&format!("{HTML}date = \"h5\"\ndate_format = \"%H:%M\"\n"), 10, 15, "has no date in it")]
    #[case::bad_header(&format!("{FEED}headers = {{ \"Bad Name\" = \"x\" }}\n"), 6, 13, "`Bad Name` is not a valid HTTP header name")]
    #[case::sources_not_array("[sources]\nid = \"a\"\n", 1, 1, "`sources` must be an array of tables, written [[sources]]; found a table")]
    #[case::title_control_characters(&format!("{FEED}title = \"a\\u0000b\\u0007c\"\n"), 6, 9, "`title` `a\u{0}b\u{7}c` holds the control character U+0000: it is one line")]
    #[case::title_newline(&format!("{FEED}title = \"a\\nb\"\n"), 6, 9, "holds the control character U+000A")]
    #[case::title_tab(&format!("{FEED}title = \"a\\tb\"\n"), 6, 9, "holds the control character U+0009")]
    #[case::title_reversed(&format!("{FEED}title = \"a\u{202e}b\"\n"), 6, 9, "holds the control character U+202E")]
    #[case::title_empty(&format!("{FEED}title = \"\"\n"), 6, 9, "`title` is empty: write one, or leave the key out to use the source's id `a`")]
    #[case::title_blank(&format!("{FEED}title = \"  \"\n"), 6, 9, "`title` is empty")]
    #[case::template_control_character(&format!("{CHANNEL}template = \"{{{{ title }}}}\\u001b\"\n"), 4, 12, "`template` holds the control character U+001B")]
    #[case::public_url_with_credentials("[general]\npublic_url = \"https://user:pw@feeds.example.org/\"\n", 2, 14, "`public_url` `https://user:pw@feeds.example.org/` holds a user name or password")]
    #[case::public_url_with_a_user("[general]\npublic_url = \"https://user@feeds.example.org/\"\n", 2, 14, "holds a user name or password")]
    #[case::image_rewrite_missing_group(&format!("{FEED}image_rewrite = ['(a)', '$2']\n"), 6, 25, "`image_rewrite`: the replacement `$2` names group `2`, which the regex `(a)` does not have (it has 1 group")]
    #[case::image_rewrite_missing_name(&format!("{FEED}image_rewrite = ['(?P<x>a)', '${{y}}.jpg']\n"), 6, 30, "names group `y`")]
    #[case::image_rewrite_name_runs_on(&format!("{FEED}image_rewrite = ['_thumb(\\.jpg)$', '$1_big']\n"), 6, 36, "names group `1_big`, which the regex `_thumb(\\.jpg)$` does not have (it has 1 group; a group's number followed by letters is written `${1}_big`")]
    #[case::include_empty(&format!("{FEED}include = ['']\n"), 6, 12, "`include` holds an empty pattern, which matches every title: it keeps everything")]
    #[case::exclude_blank(&format!("{FEED}exclude = ['x', ' ']\n"), 6, 17, "`exclude` holds an empty pattern")]
    #[case::user_agent_empty("[general]\nuser_agent = \"\"\n", 2, 14, "`user_agent` is empty")]
    #[case::selector_empty(&HTML.replace("title = \"h3\"", "title = \"\""), 7, 9, "the selector is empty: write one such as `h3 a`")]
    #[case::multi_line_string_not_closed("[general]\nuser_agent = \"\"\"x\nmore\n\n[server]\nlisten = \"1.2.3.4:5\"\n", 2, 14, "invalid TOML: a \"\"\"…\"\"\" string opened here is never closed: end it with \"\"\"")]
    #[case::multi_line_literal_not_closed("[general]\nuser_agent = '''x\nmore\n", 2, 14, "invalid TOML: a '''…''' string opened here is never closed")]
    #[case::list_twice(&format!("{HTML}[sources.list]\nitem = \"p\"\n"), 9, 10, "[sources.list] is written twice under one [[sources]]: put all its keys under one [sources.list]; a new source starts with its own [[sources]] header")]
    #[case::article_twice(&format!("{HTML}[sources.article]\nbody = \"p\"\n[sources.article]\ndate = \"p\"\n"), 11, 10, "[sources.article] is written twice under one [[sources]]")]
    #[case::columns_count_characters(&format!("{FEED}headers = {{ \"X-Ä\" = \"ü\", \"Y\" = 1 }}\n"), 6, 32, "`Y` in `headers` of source `a` must be a string, found the integer 1: write Y = \"1\"")]
    fn rejects(
        #[case] text: &str,
        #[case] line: usize,
        #[case] col: usize,
        #[case] fragment: &str,
    ) {
        let errors = errors(text);
        let found = errors.iter().find(|d| d.message.contains(fragment));
        let Some(found) = found else {
            panic!("no error contains {fragment:?}; got {errors:#?}");
        };
        assert_eq!((found.line, found.col), (line, col), "{found}");
        assert_eq!(found.path, "config.toml");
    }

    /// A section misnamed (an unknown key close to its name) or of the wrong shape is reported
    /// once: what names its entries is not also told they are not defined.
    #[rstest]
    #[rustfmt::skip]
    #[case::channels_misnamed(&format!("{}{FEED}channels = [\"c\"]\n", CHANNEL.replace("[[channels]]", "[[channel]]")), "unknown key `channel` in the top level of the file (did you mean `channels`?")]
    #[case::channels_capitalised(&format!("{}{FEED}channels = [\"c\"]\n", CHANNEL.replace("[[channels]]", "[[Channels]]")), "unknown key `Channels`")]
    #[case::channels_single_brackets(&format!("{}{FEED}channels = [\"c\"]\n", CHANNEL.replace("[[channels]]", "[channels]")), "`channels` must be an array of tables, written [[channels]]; found a table")]
    #[case::channels_not_tables(&format!("channels = [\"c\"]\n{FEED}channels = [\"c\"]\n"), "each entry of `channels` (written [[channels]]) must be a table, found the string \"c\"")]
    #[case::sources_misnamed(&format!("{}[source.list]\nitem = \"div\"\n[[translations]]\nsources = [\"a\", \"b\"]\n", FEED.replace("[[sources]]", "[[source]]")), "unknown key `source` in the top level of the file (did you mean `sources`?")]
    #[case::sources_single_brackets(&format!("{}[[translations]]\nsources = [\"a\", \"b\"]\n", FEED.replace("[[sources]]", "[sources]")), "`sources` must be an array of tables")]
    #[case::list_of_a_feed(&format!("{FEED}[sources.list]\nitem = \"div\"\n"), "has kind = \"feed\": [sources.list] applies only to kind = \"html\"")]
    #[case::channel_id_misspelt(&format!("{}{FEED}channels = [\"c\"]\n", CHANNEL.replace("id =", "idd =")), "unknown key `idd` in [[channels]] #1 (did you mean `id`?")]
    #[case::channel_id_not_a_string(&format!("{}{FEED}channels = [\"c\"]\n", CHANNEL.replace("\"c\"", "3")), "`id` in [[channels]] #1 must be a string, found the integer 3: write id = \"3\"")]
    #[case::source_id_misspelt(&format!("{}{FEED}[[translations]]\nsources = [\"a\", \"b\"]\n", FEED.replace("id =", "di =")), "unknown key `di` in [[sources]] #1 (did you mean `id`?")]
    #[case::url_misspelt(&FEED.replace("url =", "ulr ="), "unknown key `ulr` in [[sources]] `a` (did you mean `url`?")]
    #[case::chat_misspelt(&CHANNEL.replace("chat =", "chta ="), "unknown key `chta` in [[channels]] `c` (did you mean `chat`?")]
    #[case::kind_misspelt(&FEED.replace("kind =", "knid ="), "unknown key `knid`")]
    #[case::list_misspelt(&HTML.replace("[sources.list]", "[sources.lsit]"), "unknown key `lsit`")]
    #[case::list_title_misspelt(&HTML.replace("title =", "titel ="), "unknown key `titel` in [sources.list] of source `a` (did you mean `title`?")]
    #[case::translation_sources_misspelt(&format!("{FEED}[[translations]]\nsoruces = [\"a\"]\n"), "unknown key `soruces` in [[translations]] #1 (did you mean `sources`?")]
    #[case::quiet_hours_misspelt(&format!("{CHANNEL}quiet_hour = \"23:00-07:00\"\nquiet = \"hold\"\n"), "unknown key `quiet_hour` in [[channels]] `c` (did you mean `quiet_hours`?")]
    #[case::date_misspelt(&format!("{HTML}dat = \"h5\"\ndate_format = \"%d %B %Y\"\n"), "unknown key `dat`")]
    #[case::id_pattern_misspelt(&format!("{FEED}id_patern = '-(\\d+)$'\nrequire_id = true\n"), "unknown key `id_patern`")]
    #[case::sources_named_otherwise(&format!("{}[[translations]]\nsources = [\"a\", \"b\"]\n", FEED.replace("[[sources]]", "[[feeds]]")), "unknown key `feeds` in the top level of the file")]
    #[case::channels_named_otherwise(&format!("{}{FEED}channels = [\"c\"]\n", CHANNEL.replace("[[channels]]", "[[chats]]")), "unknown key `chats` in the top level of the file")]
    #[case::sources_misnamed_before_its_list(&HTML.replace("[[sources]]", "[[source]]"), "unknown key `source` in the top level of the file (did you mean `sources`?")]
    #[case::list_misnamed(&HTML.replace("[sources.list]", "[source.list]"), "[source.list] is no section herald knows: write [sources.list] (the list of the [[sources]] above it)")]
    #[case::article_misnamed(&format!("{HTML}[source.article]\nbody = \"main\"\n"), "[source.article] is no section herald knows: write [sources.article]")]
    #[case::list_header_left_out(&HTML.replace("[sources.list]\n", ""), "`item`, `title`, `link` in [[sources]] `a` are keys of the list page: write the header [sources.list] on the line above `item`")]
    #[case::list_header_left_out_after_a_title(&HTML.replace("id = \"a\"\n", "id = \"a\"\ntitle = \"A\"\n").replace("[sources.list]\n", ""), "duplicate key `title` in [[sources]]: a source has one title; if this one is the list page's selector (with `item` and `link`), write the header [sources.list] on the line above the list's keys")]
    #[case::list_header_left_out_no_title(&HTML.replace("[sources.list]\n", "").replace("title = \"h3\"\n", ""), "`item`, `link` in [[sources]] `a` are keys of the list page: write the header [sources.list] on the line above `item`")]
    #[case::list_key_left_out(&FEED.replace("kind = \"feed\"\n", "date = \"time\"\n"), "`date` in [[sources]] `a` is one of the keys of the list page: write the header [sources.list] on the line above `date`")]
    fn a_misread_section_gives_no_follow_on_errors(#[case] text: &str, #[case] problem: &str) {
        let errors = errors(text);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].message.contains(problem), "{}", errors[0]);
    }

    /// A misnamed section elsewhere leaves the references checked.
    #[test]
    fn references_are_checked_beside_an_unrelated_misnamed_section() {
        let text = format!("[genral]\n{CHANNEL}{FEED}channels = [\"c\", \"x\"]\n");
        let errors = errors(&text);
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(
            errors[1]
                .message
                .contains("channel `x`, which is not defined")
        );
    }

    /// A file saved with a byte order mark (Windows' Notepad): columns on its first line are
    /// the editor's, counted after the mark (they were one more).
    #[test]
    fn columns_are_counted_after_a_byte_order_mark() {
        let at = |text: &str| {
            errors(text)
                .iter()
                .map(|d| (d.line, d.col))
                .collect::<Vec<_>>()
        };
        for text in [
            "[genral]\n",
            "[general]\nfoo = 1\n",
            "x = \"\n",
            "a = 1\nb = [1, \"x\"]\n",
        ] {
            assert_eq!(at(&format!("\u{feff}{text}")), at(text), "{text}");
        }
        assert_eq!(at("\u{feff}[genral]\n"), [(1, 2)]);
        let bytes = b"\xef\xbb\xbf[general] # caf\xe9\n";
        let errors = text_of(Path::new("config.toml"), bytes).expect_err("not UTF-8");
        assert_eq!((errors[0].line, errors[0].col), (1, 16), "{errors:?}");
    }

    #[test]
    fn load_reports_unreadable_file_at_1_1() {
        let path = Path::new("/nonexistent/herald/config.toml");
        let errors = load(path).expect_err("no such file");
        assert_eq!((errors.len(), errors[0].line, errors[0].col), (1, 1, 1));
        assert!(
            errors[0].message.starts_with("cannot read config: "),
            "{}",
            errors[0]
        );
        assert_eq!(errors[0].path, "/nonexistent/herald/config.toml");
    }

    #[test]
    fn a_byte_that_is_not_utf8_is_reported_where_it_is() {
        let bytes = b"[general]\nuser_agent = \"caf\xe9\"\n";
        let errors = text_of(Path::new("c.toml"), bytes).expect_err("not UTF-8");
        assert_eq!(
            errors[0].to_string(),
            "c.toml:2:18: the byte 0xE9 is not UTF-8 text: the file must be saved as UTF-8 \
             (an editor's \"encoding\" setting; Latin-1 or Windows-1251 text reads so)"
        );
        assert_eq!(text_of(Path::new("c.toml"), b"x = 1\n"), Ok("x = 1\n"));
    }

    #[test]
    fn load_resolves_data_dir_next_to_the_file() {
        let dir = std::env::temp_dir().join(format!("herald-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("herald.toml");
        std::fs::write(&path, "[general]\ndata_dir = \"state/db\"\n").expect("write");
        let config = load(&path);
        std::fs::remove_dir_all(&dir).expect("cleanup");
        let config = config.unwrap_or_else(|e| panic!("{e:#?}"));
        assert_eq!(config.general.data_dir, dir.join("state/db"));
        assert_eq!(config.path, path);
    }

    #[test]
    fn environment_overrides_replace_their_keys() {
        let mut config = parse_str("[general]\ndata_dir = \"data\"\n").expect("valid");
        let env = |name: &str| match name {
            "HERALD_DATA_DIR" => Some("/data".to_owned()),
            "HERALD_LISTEN" => Some("0.0.0.0:8080".to_owned()),
            "HERALD_PUBLIC_URL" => Some("https://feeds.example.org/".to_owned()),
            _ => None,
        };
        apply_env_overrides(&mut config, env).expect("good values");
        assert_eq!(config.general.data_dir, Path::new("/data"));
        assert_eq!(config.server.listen.to_string(), "0.0.0.0:8080");
        assert_eq!(config.general.public_url, "https://feeds.example.org");
    }

    #[test]
    fn empty_environment_overrides_change_nothing_and_bad_ones_are_named() {
        let mut config = parse_str("[general]\ndata_dir = \"data\"\n").expect("valid");
        apply_env_overrides(&mut config, |_| Some(String::new())).expect("empty is unset");
        assert_eq!(config.general.data_dir, Path::new("/etc/herald/data"));
        apply_env_overrides(&mut config, |_| Some(" \t ".into())).expect("blank is unset");
        assert_eq!(config.general.data_dir, Path::new("/etc/herald/data"));
        assert_eq!(config.server.listen.to_string(), DEFAULT_LISTEN);
        let bad = |name: &str| (name != "HERALD_DATA_DIR").then(|| "nonsense".to_owned());
        let errors = apply_env_overrides(&mut config, bad).expect_err("bad values");
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with("environment variable HERALD_LISTEN: listen `nonsense`"));
        assert!(messages[1].starts_with("environment variable HERALD_PUBLIC_URL: "));
    }

    /// Random edits of a valid config must give a Config or diagnostics, never a panic.
    #[test]
    fn mutations_never_panic() {
        let base: Vec<char> = format!("{SPEC_EXAMPLE}{KAZAKH_SOURCE}").chars().collect();
        let pieces = [
            "[",
            "]",
            "@",
            "\"",
            "'",
            "=",
            "*",
            "\n",
            "{",
            "}",
            ",",
            "-",
            "0x",
            "9",
            "é",
            "[[sources]]\n",
            "[sources.list]\n",
            "#",
            "\\",
            "@href",
            "L",
            "?",
            " ",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % bound as u64) as usize
        };
        for _ in 0..1500 {
            let mut text = base.clone();
            for _ in 0..1 + next(4) {
                let at = next(text.len());
                match next(3) {
                    0 => {
                        text.remove(at);
                    }
                    1 => text
                        .splice(at..at, pieces[next(pieces.len())].chars())
                        .for_each(drop),
                    _ => text[at] = pieces[next(pieces.len())].chars().next().unwrap_or(' '),
                }
            }
            let text: String = text.into_iter().collect();
            if let Err(errors) = parse_str(&text) {
                assert!(
                    errors.iter().all(|d| d.line >= 1 && d.col >= 1),
                    "{errors:#?}"
                );
            }
        }
    }
}
