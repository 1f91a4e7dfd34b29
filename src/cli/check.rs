//! `herald check`: the config's problems, or `ok` with what it holds.

use super::{Exit, Say, load, note, out};

pub fn check(path: &std::path::Path) -> Result<(), Exit> {
    let config = load(path, Say::Plain)?;
    for w in herald::app::renamed_source_warnings(&config) {
        note(w);
    }
    out(format_args!(
        "{}: ok ({} sources, {} channels)",
        path.display(),
        config.sources.len(),
        config.channels.len()
    ))
}
