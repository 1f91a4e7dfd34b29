//! `herald check`: the config's problems, or `ok` with what it holds.

use super::{Exit, Say, load, note, out};
use herald::config::{self, Config};

pub fn check(path: &std::path::Path) -> Result<(), Exit> {
    let config = load(path, Say::Plain)?;
    for w in renamed_source_warnings(&config) {
        note(w);
    }
    out(format_args!(
        "{}: ok ({} sources, {} channels)",
        path.display(),
        config.sources.len(),
        config.channels.len()
    ))
}

/// A source the database holds but the config no longer names may have been renamed: its items
/// would then get new ids and be announced again (SPEC). Warn, pointing at a configured source
/// the database does not know yet (the likely new name), else at the top of the file.
pub(super) fn renamed_source_warnings(config: &Config) -> Vec<config::Diagnostic> {
    let known = herald::store::known_sources_on_disk(&config.general.data_dir);
    let gone: Vec<&String> = known
        .iter()
        .filter(|id| config.source(id).is_none())
        .collect();
    if gone.is_empty() {
        return Vec::new();
    }
    let text = std::fs::read_to_string(&config.path).unwrap_or_default();
    let (line, col) = config
        .sources
        .iter()
        .filter(|s| !known.contains(&s.id))
        .find_map(|s| position_of(&text, &format!("\"{}\"", s.id)))
        .unwrap_or((1, 1));
    gone.into_iter()
        .map(|id| config::Diagnostic {
            path: config.path.display().to_string(),
            line,
            col,
            message: format!(
                "warning: the database in {} holds source `{id}`, which this config does not name: \
                 a renamed source's items get new ids and are announced again; if `{id}` is gone \
                 for good, run `herald prune {id}`",
                config.general.data_dir.display()
            ),
        })
        .collect()
}

/// 1-based line and column (in characters) of the first occurrence of `needle`.
fn position_of(text: &str, needle: &str) -> Option<(usize, usize)> {
    let at = text.find(needle)?;
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Some((line, col))
}
