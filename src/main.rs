//! The command line: parse arguments, load the config, run the asked-for command.
//! Exit codes (SPEC): 0 done; 1 a runtime failure; 2 a bad config or bad usage.

use clap::{Parser, Subcommand, ValueEnum};
use herald::app::{App, Options};
use herald::config::{self, Config};
use herald::model::ItemState;
use herald::pipeline::{Mode, PollOptions, Poller};
use herald::store::{Store, StoreError};
use herald::telegram::Token;
use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "herald",
    version,
    about = "Feeds and Telegram posts for websites without usable feeds"
)]
struct Cli {
    /// The configuration file (else $HERALD_CONFIG, else ./config.toml).
    #[arg(
        short,
        long,
        global = true,
        env = "HERALD_CONFIG",
        default_value = "config.toml"
    )]
    config: PathBuf,
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
        #[arg(long)]
        url: Option<String>,
        /// One JSON object per input and line: {"input","title","date","image","summary","text"}.
        #[arg(long)]
        json: bool,
        /// HTML files (.html or .html.gz) or http(s) URLs, read in order.
        #[arg(required = true, value_name = "FILE_OR_URL")]
        inputs: Vec<String>,
    },
}

/// A failure with its exit code.
struct Failure(u8, String);

impl Failure {
    /// Whoever read stdout went away (`herald poll … | head`): stop quietly with exit 0, as
    /// ripgrep does. The reader chose to stop reading; nothing herald was asked to do failed (a
    /// poll has stored its result before printing it), and a `set -o pipefail` script should
    /// not fail because of `head`.
    fn reader_gone() -> Failure {
        Failure(0, String::new())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure(1, format!("{e:#}"))
    }
}

/// Where diagnostics go. `herald run --log-format json` is a service whose stderr is a log:
/// there every line is a JSON log event, config warnings and the reason it stopped included.
/// Other commands print their diagnostics in the forms SPEC fixes (`PATH:LINE:COL: message`).
#[derive(Clone, Copy)]
enum Say {
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
    fn failure(self, text: impl Display) {
        match self {
            Say::Plain => note(format_args!("herald: {text}")),
            Say::Log => tracing::error!("{text}"),
        }
    }
}

/// One line of a command's output on stdout.
fn out(text: impl Display) -> Result<(), Failure> {
    match writeln!(std::io::stdout().lock(), "{text}") {
        Ok(()) => Ok(()),
        Err(e) => Err(write_failure(e)),
    }
}

fn write_failure(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Failure::reader_gone()
    } else {
        Failure(1, format!("writing the output: {e}"))
    }
}

/// One line on stderr. Unlike `eprintln!`, a closed stderr (`2>&1 | head`) is no panic.
fn note(text: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
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

fn main() -> ExitCode {
    bound_allocator();
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let say = match (&cli.command, cli.log_format) {
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
    match runtime.block_on(dispatch(cli, say)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, msg)) => {
            if !msg.is_empty() {
                say.failure(msg);
            }
            ExitCode::from(code)
        }
    }
}

fn init_logging(format: LogFormat) {
    // html5ever warns of parse errors it recovers from ("foster parenting not implemented" is
    // out of date: our tree sink does it); they are the page's, not herald's.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,html5ever=error"));
    let redact = Redacted(Token::from_env().map(|t| t.secret_for_redaction()));
    let colour = colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(redact);
    match format {
        LogFormat::Text => builder.with_timer(ShownTime).init(),
        LogFormat::Json => builder.json().init(),
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

/// Log output with the bot token cut out, whatever a dependency logs at whatever level
/// (reqwest names Bot API URLs, which hold the token).
#[derive(Clone)]
struct Redacted(Option<String>);

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Redacted {
    type Writer = RedactedLine;

    fn make_writer(&'a self) -> RedactedLine {
        RedactedLine {
            token: self.0.clone(),
            buf: Vec::new(),
        }
    }
}

/// One log event, written to stderr when dropped.
struct RedactedLine {
    token: Option<String>,
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
        let text = match &self.token {
            Some(token) => text.replace(token.as_str(), "<token>"),
            None => text.into_owned(),
        };
        let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
    }
}

async fn dispatch(cli: Cli, say: Say) -> Result<(), Failure> {
    let config = |path: &std::path::Path| load(path, say);
    match cli.command {
        Command::Check => check(&cli.config),
        Command::Run => run(config(&cli.config)?).await,
        Command::Poll {
            source,
            dry_run,
            json,
        } => poll(config(&cli.config)?, &source, dry_run, json).await,
        Command::Prune { source } => prune(config(&cli.config)?, &source).await,
        Command::Preview { source } => preview(config(&cli.config)?, &source).await,
        Command::Extract { url, json, inputs } => extract(&inputs, url.as_deref(), json).await,
        Command::Suggest {
            url,
            language,
            timezone,
        } => suggest(&url, language, timezone.as_deref()).await,
    }
}

/// Loads the config, printing every problem (and warning) as `PATH:LINE:COL: message`.
fn load(path: &std::path::Path, say: Say) -> Result<Config, Failure> {
    match config::load(path) {
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
            Err(Failure(
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

fn check(path: &std::path::Path) -> Result<(), Failure> {
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
fn renamed_source_warnings(config: &Config) -> Vec<config::Diagnostic> {
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

async fn run(config: Config) -> Result<(), Failure> {
    let stop = CancellationToken::new();
    stop_on_signal(stop.clone())?;
    let listen = config.server.listen;
    herald::server::zerocopy::raise_open_files_limit();
    let app = App::new(config, app_options()).map_err(store_failure)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Failure(1, format!("cannot listen on {listen}: {e}")))?;
    tracing::info!(
        listen = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        sources = app.config().sources.len(),
        "herald is running"
    );
    app.run(listener, stop).await?;
    Ok(())
}

fn app_options() -> Options {
    Options {
        token: Token::from_env(),
        ..Options::default()
    }
}

/// SIGINT or SIGTERM starts a clean stop. The handlers are registered before this returns, so a
/// signal that arrives while herald is still starting is not lost (nor fatal).
fn stop_on_signal(stop: CancellationToken) -> Result<(), Failure> {
    use tokio::signal::unix::{SignalKind, signal};
    let register =
        |kind| signal(kind).map_err(|e| Failure(1, format!("cannot handle signals: {e}")));
    let mut term = register(SignalKind::terminate())?;
    let mut int = register(SignalKind::interrupt())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("stopping");
        stop.cancel();
    });
    Ok(())
}

/// A database that is locked or unreadable is a runtime failure (exit 1) with a clear message.
fn store_failure(e: anyhow::Error) -> Failure {
    match e.downcast_ref::<StoreError>() {
        Some(StoreError::Locked(_)) => Failure(1, e.to_string()),
        _ => Failure(1, format!("{e:#}")),
    }
}

async fn poll(config: Config, id: &str, dry_run: bool, json: bool) -> Result<(), Failure> {
    let Some(source) = config.source(id).cloned() else {
        return Err(unknown_source(&config, id));
    };
    let opts = PollOptions { conditional: false };
    let report = if dry_run {
        // A dry run never opens the database: it must work beside a running herald, and it
        // must not create one. Every release therefore shows as new.
        let fetcher = herald::fetch::Fetcher::new(Default::default())
            .map_err(|e| Failure(1, e.to_string()))?;
        let poller = Poller::new(&fetcher, &config, id, Mode::DryRun, false);
        poller.poll(&source, opts).await
    } else {
        let app = App::new(config.clone(), app_options()).map_err(|e| {
            busy(
                e,
                &format!(
                    "let it poll `{id}` (send `/poll {id}` to its admin bot, or wait for the \
                     schedule), or stop it first; `herald poll {id} --dry-run` works beside it"
                ),
            )
        })?;
        let report = app.poll(&source, opts).await;
        app.shared
            .store
            .flush()
            .await
            .map_err(|e| Failure(1, e.to_string()))?;
        report
    }
    .map_err(|e| Failure(1, format!("{id}: {e}")))?;
    for o in &report.items {
        let date = o
            .item
            .published
            .with_timezone(&source.timezone)
            .to_rfc3339();
        let unread = report
            .unreadable_dates
            .iter()
            .find(|(link, _)| *link == o.item.link)
            .map(|(_, text)| text);
        if json {
            let mut line = serde_json::json!({
                "id": o.item.id.guid(),
                "state": o.state.as_str(),
                "title": o.item.title,
                "link": o.item.link,
                "date": date,
            });
            if let Some(text) = unread {
                line["warning"] = serde_json::json!(format!(
                    "date \"{text}\" could not be read; dated by the release listed above it"
                ));
            }
            out(line)?;
        } else {
            out(format_args!(
                "{:<7} {date}  {}\n        {}",
                o.state.as_str(),
                o.item.title,
                o.item.link
            ))?;
        }
    }
    note(format_args!(
        "{id}: {} new, {} changed, {} known{}{}",
        report.count(ItemState::New),
        report.count(ItemState::Changed),
        report.count(ItemState::Known),
        match report.skipped {
            0 => String::new(),
            n => format!(", {n} skipped (neither a link nor any text)"),
        },
        if dry_run {
            " (dry run: nothing stored)"
        } else {
            ""
        }
    ));
    if let Some(warning) = report.date_warning() {
        note(format_args!("{id}: warning: {warning}"));
    }
    Ok(())
}

/// Fetches the list page (touching no database) and prints the post(s) its newest release
/// would make: one per channel of the source, or one without share buttons when it has none.
async fn preview(config: Config, id: &str) -> Result<(), Failure> {
    let Some(source) = config.source(id).cloned() else {
        return Err(unknown_source(&config, id));
    };
    let fetcher =
        herald::fetch::Fetcher::new(Default::default()).map_err(|e| Failure(1, e.to_string()))?;
    let text = herald::app::preview::preview_newest(&fetcher, &config, &source)
        .await
        .map_err(|e| Failure(1, e))?;
    out(text)
}

fn unknown_source(config: &Config, id: &str) -> Failure {
    let known: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
    Failure(
        1,
        format!(
            "unknown source `{id}` (the config has: {})",
            known.join(", ")
        ),
    )
}

async fn prune(config: Config, id: &str) -> Result<(), Failure> {
    if config.source(id).is_some() {
        return Err(Failure(
            1,
            format!(
                "source `{id}` is still in {}: remove it from the config first",
                config.path.display()
            ),
        ));
    }
    let dir = &config.general.data_dir;
    // Opening would create an empty database, which holds no source either.
    if !dir.join("db").exists() {
        return Err(Failure(
            1,
            format!(
                "unknown source `{id}`: there is no database in {} yet",
                dir.display()
            ),
        ));
    }
    let store = Store::open(dir, herald::app::STORE_CACHE_BYTES).map_err(|e| {
        busy(
            e.into(),
            &format!("stop it first, then run `herald prune {id}` again"),
        )
    })?;
    let store_error = |e: StoreError| Failure(1, e.to_string());
    if !store.holds(id).map_err(store_error)? {
        let gone: Vec<String> = store
            .known_sources()
            .map_err(store_error)?
            .into_iter()
            .filter(|s| config.source(s).is_none())
            .collect();
        return Err(Failure(
            1,
            format!(
                "unknown source `{id}`: the database in {} holds nothing of it (sources it holds \
                 that the config no longer names: {})",
                dir.display(),
                if gone.is_empty() {
                    "none".to_owned()
                } else {
                    gone.join(", ")
                }
            ),
        ));
    }
    let n = store.prune(id).await.map_err(store_error)?;
    out(format_args!(
        "{id}: {n} stored items deleted; their ids are kept, so they will not be announced again"
    ))
}

/// `poll` or `prune` while `herald run` holds the database: name the folder, say that another
/// herald is using it (SPEC) and what to do `instead`.
fn busy(e: anyhow::Error, instead: &str) -> Failure {
    match e.downcast_ref::<StoreError>() {
        Some(StoreError::Locked(dir)) => Failure(
            1,
            format!(
                "another herald is using the database in {}: {instead}",
                dir.display()
            ),
        ),
        _ => store_failure(e),
    }
}

/// `herald suggest`: the block and its preview on stdout; exit 1 when no list was found or the
/// page could not be fetched, 2 for a bad URL, language or zone.
async fn suggest(
    url: &str,
    language: Option<String>,
    timezone: Option<&str>,
) -> Result<(), Failure> {
    let url = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| Failure(2, format!("`{url}` is not an http(s) URL")))?;
    let timezone = timezone
        .map(|z| {
            z.parse::<chrono_tz::Tz>()
                .map_err(|_| Failure(2, format!("unknown timezone `{z}` (e.g. Asia/Almaty, UTC)")))
        })
        .transpose()?;
    let fetcher =
        herald::fetch::Fetcher::new(Default::default()).map_err(|e| Failure(1, e.to_string()))?;
    let ask = herald::suggest::Ask {
        url,
        language,
        timezone,
        channels: Vec::new(),
        user_agent: config::default_user_agent(),
        articles: 3,
    };
    match herald::suggest::suggest(&fetcher, &ask).await {
        Ok(s) => {
            let text = s.render();
            match std::io::stdout().lock().write_all(text.as_bytes()) {
                Ok(()) => Ok(()),
                Err(e) => Err(write_failure(e)),
            }
        }
        Err(herald::suggest::SuggestError::Usage(e)) => Err(Failure(2, e)),
        Err(e) => Err(Failure(1, e.to_string())),
    }
}

/// `herald extract`: each unreadable input is reported once (on stderr); exit 1 when none
/// could be read.
async fn extract(inputs: &[String], url: Option<&str>, json: bool) -> Result<(), Failure> {
    let failed = herald::extract::article::run_cli(
        inputs,
        url,
        json,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    )
    .await
    .map_err(write_failure)?;
    match failed {
        n if n < inputs.len() => Ok(()),
        1 => Err(Failure(1, String::new())),
        n => Err(Failure(1, format!("none of the {n} inputs could be read"))),
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
