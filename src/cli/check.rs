//! `herald check`: the config's problems, or `ok` with what it holds.

use super::{Exit, Say, load_for_database, note, out};

pub fn check(path: &std::path::Path) -> Result<(), Exit> {
    // The data folder as `run` would meet it here: one it cannot make is a problem too.
    let config = load_for_database(path, Say::Plain)?;
    for w in herald::app::renamed_source_warnings(&config) {
        note(w);
    }
    // Read as `load` read it: a file swapped for a FIFO meanwhile is no hang.
    let text = herald::config::read_file(path)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default();
    // The token is read from this environment, as `run` would read it here.
    let token_set = herald::telegram::Token::from_env().is_some();
    if let Some(w) = herald::config::delivery_off_warning(&config, &text, token_set) {
        note(w);
    }
    out(format_args!(
        "{}: ok ({} sources, {} channels)",
        path.display(),
        config.sources.len(),
        config.channels.len()
    ))
}
