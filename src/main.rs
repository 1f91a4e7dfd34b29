//! The command line: parse the arguments, set up logging, run the asked-for command (its body
//! and its printing are in [`cli`]). Exit codes (SPEC): 0 done; 1 a runtime failure; 2 a bad
//! config or bad usage.

mod cli;

use clap::{Parser, Subcommand, ValueEnum};
use cli::{Exit, Say};
use herald::telegram::Token;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "herald",
    version,
    about = "Feeds and Telegram posts for websites without usable feeds"
)]
struct Cli {
    /// The configuration file (else $HERALD_CONFIG, else ./config.toml).
    #[arg(short, long, global = true)]
    config: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything: scheduler, HTTP server, Telegram delivery; stop on SIGINT/SIGTERM.
    Run,
    /// Validate the configuration; exit 0 when valid, 2 with every problem listed.
    Check,
    /// Poll one source now and print what it found (new / known / changed per item).
    Poll {
        /// The source's `id` in the config.
        source: String,
        /// Touch neither the database nor Telegram.
        #[arg(long)]
        dry_run: bool,
        /// One JSON object per item and line.
        #[arg(long)]
        json: bool,
    },
    /// Print the Telegram post(s) the newest item of a source would produce.
    Preview {
        /// The source's `id` in the config.
        source: String,
    },
    /// Delete the stored items of a source that is no longer in the config (ids are kept).
    Prune {
        /// The id of a source the database holds and the config no longer names.
        source: String,
    },
    /// Find the list of releases on a page and print a `[[sources]]` block for it, with a
    /// preview of what it reads; exit 1 when no list was found.
    Suggest {
        /// The list page (http or https).
        url: String,
        /// The page's language (BCP 47: en, ru, kk, en-US); else the page's `<html lang>`.
        #[arg(long)]
        language: Option<String>,
        /// The zone of dates printed without one (e.g. Asia/Almaty); else UTC.
        #[arg(long)]
        timezone: Option<String>,
    },
    /// Run the article extractor on files or URLs and print what it found.
    Extract {
        /// The page's address, for resolving relative links when reading a file.
        #[arg(long, value_parser = web_address)]
        url: Option<String>,
        /// One JSON object per input and line: {"input","title","date","image","summary","text"}.
        #[arg(long)]
        json: bool,
        /// HTML files (.html or .html.gz) or http(s) URLs, read in order.
        #[arg(required = true, value_name = "FILE_OR_URL", value_parser = file_or_web_address)]
        inputs: Vec<String>,
    },
}

/// An absolute http(s) address (`extract --url`). A bad argument is bad usage: clap says so
/// and exits 2 (SPEC), before anything is read.
fn web_address(text: &str) -> Result<String, String> {
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(text.into()),
        _ => Err(format!(
            "`{text}` is not a web address; write it in full, like https://example.org/news"
        )),
    }
}

/// An input of `extract`: a file name, or an address when it starts with http:// or https://
/// (which must then be one).
fn file_or_web_address(text: &str) -> Result<String, String> {
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        web_address(text)
    } else {
        Ok(text.into())
    }
}

/// glibc's allocator, left to itself, raises its mmap threshold after a large block is freed
/// (up to 32 MiB): the next large page body then comes from the heap, whose freed space it
/// rarely gives back, and with one arena per thread (8 per core) that space multiplies. A fixed
/// threshold and two arenas keep herald's memory near what it uses (issue 19: 240 MiB held
/// after the hostile inputs without this).
fn bound_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets the allocator's parameters; called before any other thread runs.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    // Freed space inside the heap stays in the process until the allocator gives it back,
    // which glibc does only at the heap's top: every few seconds, the whole free pages anywhere
    // in it go back to the system (a few milliseconds of work; issue 23: polling 1,000 changing
    // sources held ~20 MB more without it).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    let _ = std::thread::Builder::new()
        .name("herald-trim".into())
        .spawn(|| {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(10));
                // SAFETY: malloc_trim takes the allocator's own locks; any thread may call it.
                unsafe {
                    libc::malloc_trim(0);
                }
            }
        });
}

impl Cli {
    /// The config file: `-c`, else `HERALD_CONFIG`, else `./config.toml` (SPEC). An empty
    /// `HERALD_CONFIG` is unset, as a shell's `HERALD_CONFIG= herald check` means (clap refused
    /// it as a missing value of `--config`).
    fn config_path(&self) -> PathBuf {
        self.config
            .clone()
            .or_else(|| {
                std::env::var_os("HERALD_CONFIG")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| PathBuf::from("config.toml"))
    }
}

fn main() -> ExitCode {
    bound_allocator();
    let args = Cli::parse();
    if matches!(args.command, Command::Run) {
        // A reload (SIGHUP) before `run` takes it is not fatal: ignored until then (see
        // `herald::watch::hold_sighup`, which takes it before the config is read).
        // SAFETY: setting a signal's disposition to "ignore" before any other thread runs.
        unsafe {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
        }
    }
    // `run` is a service: its log is its report. Other commands print their outcome themselves.
    init_logging(args.log_format, !matches!(args.command, Command::Run));
    let say = match (&args.command, args.log_format) {
        (Command::Run, LogFormat::Json) => Say::Log,
        _ => Say::Plain,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say.failure(format_args!("cannot start the async runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    let outcome = runtime.block_on(dispatch(args, say));
    // The command is done (a `run` has stopped and flushed its database). Work left on the
    // blocking threads (a page still parsing after its poll was cut) is not waited for: a
    // stop must not wait on it (systemd would kill herald at its TimeoutStopSec).
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Exit(code, msg)) => {
            if !msg.is_empty() {
                say.failure(msg);
            }
            ExitCode::from(code)
        }
    }
}

fn init_logging(format: LogFormat, one_shot: bool) {
    use tracing_subscriber::prelude::*;
    // html5ever warns of parse errors it recovers from ("foster parenting not implemented" is
    // out of date: our tree sink does it); they are the page's, not herald's.
    // notify warns when a watched folder goes away, as Kubernetes' swap of a mounted config
    // map's folder does at every update: the reload works, and the watcher reports real errors.
    let default = || tracing_subscriber::EnvFilter::new("info,html5ever=error,notify=error");
    // A `RUST_LOG` that is no filter is said once logging is on, not dropped for the default in
    // silence (an admin who asked for `debug` would wonder where the lines went).
    let (filter, refused) = match std::env::var("RUST_LOG") {
        Ok(asked) if !asked.trim().is_empty() => {
            match tracing_subscriber::EnvFilter::try_new(&asked) {
                Ok(filter) => (filter, None),
                Err(e) => (default(), Some((asked, e))),
            }
        }
        _ => (default(), None),
    };
    // Made, the token is cut out of every log line from here on (herald::secret).
    let _ = Token::from_env();
    let colour = colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let said_by_the_command = SaidByTheCommand(one_shot);
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(colour)
        .with_writer(Redacted);
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Text => registry
            .with(layer.with_timer(ShownTime).with_filter(said_by_the_command))
            .init(),
        LogFormat::Json => registry
            .with(layer.json().with_filter(said_by_the_command))
            .init(),
    }
    if let Some((asked, e)) = refused {
        tracing::warn!("RUST_LOG={asked:?} is not a log filter ({e}): logging at info instead");
    }
}

/// Log events that a one-shot command (`herald poll`) says itself: the app logs a poll's
/// outcome ("polled", "poll failed") for the service's log, and the command, which prints the
/// outcome as its last line, would report it twice.
struct SaidByTheCommand(bool);

impl<S> tracing_subscriber::layer::Filter<S> for SaidByTheCommand {
    fn enabled(
        &self,
        _: &tracing::Metadata<'_>,
        _: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        true
    }

    fn event_enabled(
        &self,
        event: &tracing::Event<'_>,
        _: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        if !self.0 || !event.metadata().target().starts_with("herald::app") {
            return true;
        }
        let mut message = MessageIs(&["poll failed", "polled"], false);
        event.record(&mut message);
        !message.1
    }
}

/// Whether an event's message is one of those given.
struct MessageIs(&'static [&'static str], bool);

impl tracing::field::Visit for MessageIs {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.1 = self.0.contains(&value);
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.1 = self.0.contains(&format!("{value:?}").as_str());
        }
    }
}

/// Text log lines carry the time in the form the index page and `/status` use (with its zone,
/// UTC here); JSON lines keep RFC 3339, for machines.
struct ShownTime;

impl tracing_subscriber::fmt::time::FormatTime for ShownTime {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        write!(
            w,
            "{}",
            herald::timefmt::show(chrono::Utc::now(), chrono_tz::UTC)
        )
    }
}

/// Whether log lines carry colour (ANSI codes): only on a terminal, where they show as colour
/// (journald, files and pipes would show the codes as noise), and never when `NO_COLOR` is set
/// to anything non-empty (no-color.org).
fn colour(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Log output with the bot token cut out (every form [`herald::secret`] knows), whatever a
/// dependency logs at whatever level (reqwest names Bot API URLs, which hold the token).
#[derive(Clone, Copy)]
struct Redacted;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Redacted {
    type Writer = RedactedLine;

    fn make_writer(&'a self) -> RedactedLine {
        RedactedLine { buf: Vec::new() }
    }
}

/// One log event, written to stderr when dropped.
struct RedactedLine {
    buf: Vec<u8>,
}

impl std::io::Write for RedactedLine {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactedLine {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buf);
        let text = herald::secret::redact(&text);
        let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
    }
}

async fn dispatch(args: Cli, say: Say) -> Result<(), Exit> {
    let path = args.config_path();
    let config = |path: &std::path::Path| cli::load(path, say);
    // The commands that open the database: a data folder they cannot use is a config problem.
    let with_database = |path: &std::path::Path| cli::load_for_database(path, say);
    match args.command {
        Command::Check => cli::check(&path),
        Command::Run => {
            let stop = cli::take_signals()?;
            cli::run(with_database(&path)?, stop).await
        }
        Command::Poll {
            source,
            dry_run,
            json,
        } => {
            // `--dry-run` touches no database.
            let config = if dry_run {
                config(&path)?
            } else {
                with_database(&path)?
            };
            cli::poll(config, &source, dry_run, json).await
        }
        Command::Prune { source } => cli::prune(with_database(&path)?, &source).await,
        Command::Preview { source } => cli::preview(config(&path)?, &source).await,
        Command::Extract { url, json, inputs } => cli::extract(&inputs, url.as_deref(), json).await,
        Command::Suggest {
            url,
            language,
            timezone,
        } => cli::suggest(&url, language, timezone.as_deref()).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::ffi::OsStr;

    /// `herald SUB --help` describes every argument: no line in it without a text.
    #[test]
    fn every_argument_of_every_command_has_a_help_text() {
        let mut cli = Cli::command();
        cli.build();
        let mut commands = vec![&cli];
        commands.extend(cli.get_subcommands());
        for command in commands {
            for arg in command.get_arguments() {
                assert!(
                    arg.get_help().is_some(),
                    "`herald {}`: argument `{}` has no help text",
                    command.get_name(),
                    arg.get_id()
                );
            }
        }
    }

    #[test]
    fn colour_only_on_a_terminal_and_never_with_no_color() {
        assert!(colour(true, None));
        assert!(
            colour(true, Some(OsStr::new(""))),
            "an empty NO_COLOR is unset"
        );
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(false, None));
        assert!(!colour(false, Some(OsStr::new("1"))));
    }
}
