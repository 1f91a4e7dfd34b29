//! The bodies of herald's commands and how they print: `main.rs` parses the arguments and calls
//! one of these. Exit codes (SPEC): 0 done; 1 a runtime failure; 2 a bad config or bad usage.
//!
//! Output goes to stdout, one line at a time ([`out`]); diagnostics go to stderr ([`note`]), or
//! into the log for `herald run --log-format json` ([`Say`]).

mod check;
mod extract;
mod run;
mod sources;
mod suggest;

pub use check::check;
pub use extract::extract;
pub use run::{run, take_signals};
pub use sources::{poll, preview, prune};
pub use suggest::suggest;

use herald::app::Options;
use herald::config::{self, Config};
use herald::store::StoreError;
use herald::telegram::Token;
use std::fmt::Display;
use std::io::Write;

/// How a command ends when it does not succeed: the process's exit code and what to say (nothing
/// when the message is empty).
pub struct Exit(pub u8, pub String);

impl Exit {
    /// Whoever read stdout went away (`herald poll … | head`): stop quietly with exit 0, as
    /// ripgrep does. The reader chose to stop reading; nothing herald was asked to do failed (a
    /// poll has stored its result before printing it), and a `set -o pipefail` script should
    /// not fail because of `head`.
    fn reader_gone() -> Exit {
        Exit(0, String::new())
    }
}

impl From<anyhow::Error> for Exit {
    fn from(e: anyhow::Error) -> Self {
        Exit(1, format!("{e:#}"))
    }
}

/// Where diagnostics go. `herald run --log-format json` is a service whose stderr is a log:
/// there every line is a JSON log event, config warnings and the reason it stopped included.
/// Other commands print their diagnostics in the forms SPEC fixes (`PATH:LINE:COL: message`).
#[derive(Clone, Copy)]
pub enum Say {
    Plain,
    Log,
}

impl Say {
    fn warning(self, text: impl Display) {
        match self {
            Say::Plain => note(text),
            Say::Log => tracing::warn!("{text}"),
        }
    }

    fn error(self, text: impl Display) {
        match self {
            Say::Plain => note(text),
            Say::Log => tracing::error!("{text}"),
        }
    }

    /// Why herald stops: `herald: …` on a terminal, a plain error event in a log.
    pub fn failure(self, text: impl Display) {
        match self {
            Say::Plain => note(format_args!("herald: {text}")),
            Say::Log => tracing::error!("{text}"),
        }
    }
}

/// One line of a command's output on stdout.
fn out(text: impl Display) -> Result<(), Exit> {
    match writeln!(std::io::stdout().lock(), "{text}") {
        Ok(()) => Ok(()),
        Err(e) => Err(write_failure(e)),
    }
}

fn write_failure(e: std::io::Error) -> Exit {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Exit::reader_gone()
    } else {
        Exit(1, format!("writing the output: {e}"))
    }
}

/// One line on stderr. Unlike `eprintln!`, a closed stderr (`2>&1 | head`) is no panic.
fn note(text: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Loads the config, printing every problem (and warning) as `PATH:LINE:COL: message`.
pub fn load(path: &std::path::Path, say: Say) -> Result<Config, Exit> {
    told(path, say, config::load(path))
}

/// [`load`] for a command that opens the database (`check` judges it as `run` would meet it):
/// a data folder herald cannot make or write in is one more problem of the config (exit 2),
/// listed with the others, not a failure to open the database later.
pub fn load_for_database(path: &std::path::Path, say: Say) -> Result<Config, Exit> {
    told(path, say, config::load_with_data_dir(path))
}

/// A loaded config, its warnings said; or its problems said, and exit 2.
fn told(
    path: &std::path::Path,
    say: Say,
    loaded: Result<Config, Vec<config::Diagnostic>>,
) -> Result<Config, Exit> {
    match loaded {
        Ok(config) => {
            for w in &config.warnings {
                say.warning(w);
            }
            Ok(config)
        }
        Err(problems) => {
            for p in &problems {
                say.error(p);
            }
            let n = problems.len();
            Err(Exit(
                2,
                format!(
                    "{}: {n} problem{} found",
                    path.display(),
                    if n == 1 { "" } else { "s" }
                ),
            ))
        }
    }
}

fn app_options() -> Options {
    Options {
        token: Token::from_env(),
        ..Options::default()
    }
}

/// A database that is locked or unreadable is a runtime failure (exit 1) with a clear message.
fn store_failure(e: anyhow::Error) -> Exit {
    match e.downcast_ref::<StoreError>() {
        Some(StoreError::Locked(_)) => Exit(1, e.to_string()),
        _ => Exit(1, format!("{e:#}")),
    }
}

/// `poll` or `prune` while `herald run` holds the database: name the folder, say that another
/// herald is using it (SPEC) and what to do `instead`.
fn busy(e: anyhow::Error, instead: &str) -> Exit {
    match e.downcast_ref::<StoreError>() {
        Some(StoreError::Locked(dir)) => Exit(
            1,
            format!(
                "another herald is using the database in {}: {instead}",
                dir.display()
            ),
        ),
        _ => store_failure(e),
    }
}
