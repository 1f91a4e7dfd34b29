//! Admin commands over Telegram, by long polling: `/status`, `/poll SOURCE`, `/pause X`,
//! `/resume X` (X a source or a channel), `/requeue CHANNEL`, `/check`, `/preview SOURCE`,
//! `/add URL [CHANNEL]` and `/add confirm` (see `add`). Only
//! user ids in `[telegram] admins` get an answer; anyone else gets none and a log line. Answers
//! keep Telegram's limits for their chat, shared with the alerts (see `admin::Alerts::send`). A
//! network error never ends the loop.

use crate::app::App;
use crate::config::{self, Config};
use crate::model::ItemState;
use crate::pipeline::PollOptions;
use crate::store::Store;
use crate::telegram::admin::Alerts;
use crate::telegram::api::TelegramApi;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use teloxide::Bot;
use teloxide::payloads::GetUpdatesSetters;
use teloxide::prelude::Requester;
use teloxide::types::{AllowedUpdate, BotCommand, ChatId, UpdateKind};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Long-poll wait per getUpdates call (seconds); Telegram allows up to 50.
const LONG_POLL: u32 = 25;

/// The admin poller's HTTP client timeout: longer than the long poll, so that a getUpdates with
/// nothing to report ends with Telegram's empty answer, not with the client giving up.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(LONG_POLL as u64 + 10);

/// The first wait after a failed getUpdates; it doubles with each failure in a row.
const FIRST_RETRY: Duration = Duration::from_secs(5);
/// The longest wait between getUpdates calls while they fail.
const LAST_RETRY: Duration = Duration::from_secs(300);
/// getUpdates failures in a row after which `/healthz` shows the admin poller failing (one
/// failure, soon retried, is not yet an outage).
const REPORT_AFTER: u32 = 2;
/// getUpdates failures in a row after which the admins are told, once, by message (Telegram
/// may still take messages: a 409 means another process takes the bot's updates).
const ALERT_AFTER: u32 = 3;

pub fn commands() -> Vec<BotCommand> {
    [
        (
            "status",
            "Sources and channels: last success, errors, queues",
        ),
        (
            "poll",
            "Poll a source now: /poll SOURCE (a paused one: /poll SOURCE anyway)",
        ),
        ("pause", "Pause a source or channel: /pause ID"),
        ("resume", "Resume a source or channel: /resume ID"),
        (
            "requeue",
            "Send a channel's set-aside posts again: /requeue CHANNEL",
        ),
        ("check", "Validate the config file on disk"),
        (
            "preview",
            "Show the post the newest item would make: /preview SOURCE",
        ),
        (
            "add",
            "Propose a source for a list page: /add URL [CHANNEL], then /add confirm",
        ),
    ]
    .into_iter()
    .map(|(c, d)| BotCommand::new(c, d))
    .collect()
}

/// Commands that fetch, and so may take as long as a site does: each runs in a task of its own
/// (`/add confirm` writes a file and is not one of them).
const FETCHING: [&str; 3] = ["/add", "/poll", "/preview"];
/// How many fetching commands run at once; another one meanwhile is answered "busy".
const FETCHING_AT_ONCE: usize = 3;
/// The longest a command runs: then it is given up and the admin told.
const COMMAND_DEADLINE: Duration = Duration::from_secs(120);
/// At a stop: how long the word to an admin whose command was cut short may take, and the
/// getUpdates that confirms the handled updates.
const LAST_WORDS: Duration = Duration::from_secs(2);

/// Answers admin commands until `stop`. A command that fetches runs in a task of its own (at
/// most [`FETCHING_AT_ONCE`] at once), so that it holds no other; every command ends at a stop,
/// and the updates handled are confirmed to Telegram before this returns, so that a restart
/// does not run them again.
pub async fn run(app: App, bot: Bot, stop: CancellationToken) {
    // Made with the admin bot, from the same token: never missing while this runs.
    let Some(alerts) = app.shared.alerts.clone() else {
        tracing::error!("admin commands without Telegram alerts: not answering");
        return;
    };
    if let Err(e) = bot.set_my_commands(commands()).await {
        tracing::warn!(error = %e, "could not register the admin commands");
    }
    // This bot's username: `/status@name` is answered only when `name` is it.
    let mut me: Option<String> = None;
    let slots = Arc::new(Semaphore::new(FETCHING_AT_ONCE));
    let mut fetching: JoinSet<()> = JoinSet::new();
    let mut offset: i32 = 0;
    let mut failures: u32 = 0;
    // The admins were told that commands get no answer (told again when they do).
    let mut alerted = false;
    'poll: while !stop.is_cancelled() {
        while fetching.try_join_next().is_some() {}
        let request = bot
            .get_updates()
            .offset(offset)
            .timeout(LONG_POLL)
            .allowed_updates(vec![AllowedUpdate::Message]);
        let updates = tokio::select! {
            () = stop.cancelled() => break,
            r = request => r,
        };
        let updates = match updates {
            Ok(u) => {
                if failures > 0 {
                    tracing::info!(
                        failures,
                        "getUpdates works again: admin commands are answered"
                    );
                }
                failures = 0;
                app.shared.set_telegram_refused(None);
                if std::mem::take(&mut alerted) {
                    alerts.tell_soon("✅ herald: admin commands are answered again.".into());
                }
                u
            }
            Err(e) => {
                failures += 1;
                metrics::counter!("herald_admin_poll_failures_total").increment(1);
                let wait = FIRST_RETRY
                    .saturating_mul(1 << failures.min(7).saturating_sub(1))
                    .min(LAST_RETRY);
                if let Some(text) = report_failure(&app, &e, failures, wait)
                    && !alerted
                {
                    alerts.tell_soon(format!("⚠️ herald: {text}"));
                    alerted = true;
                }
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = tokio::time::sleep(wait) => continue,
                }
            }
        };
        for update in updates {
            offset = offset.max(update.id.0 as i32 + 1);
            let UpdateKind::Message(message) = update.kind else {
                continue;
            };
            let (Some(text), Some(from)) = (message.text(), message.from.as_ref()) else {
                continue;
            };
            if !text.starts_with('/') {
                continue;
            }
            let user = from.id.0 as i64;
            if !app.config().telegram.admins.contains(&user) {
                tracing::warn!(user, command = %text.split_whitespace().next().unwrap_or(""), "command from a user who is not an admin; ignored");
                continue;
            }
            if let Some(name) = addressee(text) {
                if me.is_none() {
                    me = bot_username(&bot).await;
                }
                if !me
                    .as_deref()
                    .is_some_and(|me| me.eq_ignore_ascii_case(name))
                {
                    tracing::debug!(user, to = name, "a command for another bot; ignored");
                    continue;
                }
            }
            let chat = ChatId(message.chat.id.0);
            if fetches(text) {
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    let busy = format!(
                        "Busy: {FETCHING_AT_ONCE} commands that fetch are running; send {} again in a moment.",
                        command_of(text)
                    );
                    tokio::select! {
                        () = stop.cancelled() => break 'poll,
                        sent = alerts.send_whole(chat, &busy) => log_reply(sent),
                    }
                    continue;
                };
                if command_of(text) == "/add" {
                    super::add::forget_proposal(&app, user);
                }
                let (app, alerts, text, stop) =
                    (app.clone(), alerts.clone(), text.to_owned(), stop.clone());
                fetching.spawn(async move {
                    answer_in_time(&app, &alerts, chat, user, &text, &stop).await;
                    drop(slot);
                });
            } else {
                tokio::select! {
                    () = stop.cancelled() => break 'poll,
                    () = answer_in_time(&app, &alerts, chat, user, text, &stop) => {}
                }
            }
        }
    }
    // The commands cut short say so (each within `LAST_WORDS`).
    let _ = tokio::time::timeout(LAST_WORDS + Duration::from_millis(500), async {
        while fetching.join_next().await.is_some() {}
    })
    .await;
    fetching.abort_all();
    confirm_handled(&bot, offset).await;
}

/// Runs the command `text` from `user` and answers it in `chat`, within [`COMMAND_DEADLINE`]. A
/// stop ends it at once, with a word to the admin that it was cut short.
async fn answer_in_time<A: TelegramApi>(
    app: &App,
    alerts: &Alerts<A>,
    chat: ChatId,
    user: i64,
    text: &str,
    stop: &CancellationToken,
) {
    let command = command_of(text);
    let answer = tokio::select! {
        () = stop.cancelled() => {
            let words = format!(
                "herald is stopping: {command} was not finished. Send it again once herald is back."
            );
            let _ = tokio::time::timeout(LAST_WORDS, alerts.send_whole(chat, &words)).await;
            return;
        }
        answer = tokio::time::timeout(deadline_of(app, text), answer_from(app, user, text)) => {
            answer.unwrap_or_else(|_| {
                tracing::warn!(user, command, "an admin command took too long; given up");
                Answer::Text(format!(
                    "{command} was given up after {} s.",
                    deadline_of(app, text).as_secs()
                ))
            })
        }
    };
    tokio::select! {
        () = stop.cancelled() => {}
        sent = reply(alerts, chat, answer) => log_reply(sent),
    }
}

/// How long the command `text` may run: [`COMMAND_DEADLINE`], or for `/poll SOURCE` what the
/// poll itself may take — its turn (a scheduled poll of the source may be running: its
/// `poll_deadline_secs`), then its own `poll_deadline_secs`, and a minute to store what it
/// found — so that a slow but working poll is never cut short by the command.
fn deadline_of(app: &App, text: &str) -> Duration {
    let mut words = text.split_whitespace();
    if command_of(text) != "/poll" {
        return COMMAND_DEADLINE;
    }
    let id = words.nth(1).unwrap_or("");
    let id = id.strip_prefix("source:").unwrap_or(id);
    app.config().source(id).map_or(COMMAND_DEADLINE, |source| {
        source
            .poll_deadline
            .saturating_mul(2)
            .saturating_add(Duration::from_secs(60))
            .max(COMMAND_DEADLINE)
    })
}

fn log_reply(sent: Result<(), teloxide::RequestError>) {
    if let Err(e) = sent {
        tracing::warn!(error = %crate::telegram::deliver::describe(&e), "could not answer an admin");
    }
}

/// The command word of a command line, without a bot's name: `/status` of `/status@bot x`.
fn command_of(text: &str) -> &str {
    let word = text.split_whitespace().next().unwrap_or("");
    word.split('@').next().unwrap_or("")
}

/// The bot a command line names (`/status@herald_bot` in groups), if it names one.
fn addressee(text: &str) -> Option<&str> {
    let word = text.split_whitespace().next().unwrap_or("");
    word.split_once('@').map(|(_, name)| name)
}

/// Whether the command line fetches (see [`FETCHING`]).
fn fetches(text: &str) -> bool {
    let second = text.split_whitespace().nth(1);
    let command = command_of(text);
    FETCHING.contains(&command) && !(command == "/add" && second == Some("confirm"))
}

/// This bot's username, from getMe; `None` (logged) when Telegram does not say.
async fn bot_username(bot: &Bot) -> Option<String> {
    match bot.get_me().await {
        Ok(me) => me.user.username.clone(),
        Err(e) => {
            tracing::warn!(error = %crate::telegram::deliver::describe(&e), "getMe failed: commands naming a bot are not answered until it works");
            None
        }
    }
}

/// Confirms the updates handled (Bot API getUpdates: "an update is considered confirmed as soon
/// as getUpdates is called with an offset higher than its update_id"), so that a restart does
/// not run the last ones again. Bounded by [`LAST_WORDS`].
async fn confirm_handled(bot: &Bot, offset: i32) {
    if offset == 0 {
        return;
    }
    let request = bot
        .get_updates()
        .offset(offset)
        .timeout(0)
        .limit(1)
        .allowed_updates(vec![AllowedUpdate::Message]);
    match tokio::time::timeout(LAST_WORDS, request).await {
        Ok(Ok(_)) => tracing::debug!(offset, "handled admin commands confirmed"),
        Ok(Err(e)) => {
            tracing::warn!(error = %crate::telegram::deliver::describe(&e), "could not confirm the handled admin commands: the last may run again after a restart");
        }
        Err(_) => tracing::warn!(
            "Telegram did not confirm the handled admin commands in time: the last may run again after a restart"
        ),
    }
}

/// Reports a failed getUpdates. A refused token is said once, clearly, and `/healthz` says so
/// until it works (no message can reach the admins then). Any other failure is logged (a
/// warning at the first of a run, then quietly), shown in `/healthz` (`telegram.last_error`,
/// status degraded) from the [`REPORT_AFTER`]th in a row until a getUpdates works, and from the
/// [`ALERT_AFTER`]th its text is returned, for the admins.
fn report_failure(
    app: &App,
    e: &teloxide::RequestError,
    failures: u32,
    wait: Duration,
) -> Option<String> {
    use teloxide::{ApiError, RequestError};
    if let RequestError::Api(ApiError::InvalidToken) = e {
        let why = "Telegram: not authorized (the bot token in TELOXIDE_TOKEN was refused)";
        if app.shared.set_telegram_refused(Some(why.into())) {
            tracing::error!(
                "{why}; admin commands and posts wait until a good token is set (retrying quietly)"
            );
        } else {
            tracing::debug!(retry_in = ?wait, "{why}");
        }
        return None;
    }
    let error = crate::telegram::deliver::describe(e);
    let why = match e {
        RequestError::Api(ApiError::TerminatedByOtherGetUpdates) => format!(
            "admin commands get no answer: another process takes this bot's updates (another herald, or a webhook?); posts and alerts still go out ({error})"
        ),
        _ => format!("admin commands get no answer: getUpdates fails ({error})"),
    };
    if failures == 1 {
        tracing::warn!(%error, "getUpdates failed; trying again with backoff");
    } else {
        tracing::debug!(%error, failures, retry_in = ?wait, "getUpdates failed again");
    }
    if failures >= REPORT_AFTER && app.shared.set_telegram_refused(Some(why.clone())) {
        tracing::error!(failures, "{why}");
    }
    (failures == ALERT_AFTER).then(|| format!("{why}; {failures} failures in a row."))
}

/// An answer to an admin: plain text, or Telegram HTML (a preview shows the post as it looks).
pub enum Answer {
    Text(String),
    Html(String),
}

impl From<String> for Answer {
    fn from(text: String) -> Answer {
        Answer::Text(text)
    }
}

/// Sends `answer` to `chat`, within the chat's limits (see `Alerts::send`): HTML with its parse
/// mode when it fits one message, else (or when Telegram refuses the markup) as plain text,
/// whole, in as many messages as it takes (split at line ends; see `Alerts::send_whole`).
pub async fn reply<A: TelegramApi>(
    alerts: &Alerts<A>,
    chat: ChatId,
    answer: Answer,
) -> Result<(), teloxide::RequestError> {
    use teloxide::types::ParseMode;
    // One answer at a time in the chat: none of another's messages between this one's.
    let _turn = alerts.answer_turn(chat).await;
    let plain = match answer {
        Answer::Text(text) => text,
        Answer::Html(html) => {
            if crate::markup::visible_utf16_len(&html) <= crate::markup::MESSAGE_LIMIT {
                match alerts.send(chat, &html, Some(ParseMode::Html)).await {
                    Err(teloxide::RequestError::Api(teloxide::ApiError::CantParseEntities(_))) => {}
                    other => return other,
                }
            }
            crate::markup::decode(&html)
        }
    };
    alerts.send_pieces(chat, &plain).await
}

/// The answer to one command line from `user` (an admin): `/add` belongs to the admin who
/// asked, the other commands to every admin alike.
pub async fn answer_from(app: &App, user: i64, text: &str) -> Answer {
    let mut words = text.split_whitespace();
    let command = words.next().unwrap_or("").split('@').next().unwrap_or("");
    if command == "/add" {
        let args: Vec<&str> = words.collect();
        return super::add::add(app, user, &args).await.into();
    }
    answer(app, text).await
}

/// The answer to one command line.
pub async fn answer(app: &App, text: &str) -> Answer {
    let mut words = text.split_whitespace();
    // "/status@herald_bot" in groups: drop the bot's name.
    let command = words.next().unwrap_or("").split('@').next().unwrap_or("");
    let arg = words.next();
    let anyway = words.next() == Some("anyway");
    match (command, arg) {
        ("/status", _) => {
            let next_poll = |id: &str| app.shared.next_poll(id);
            status(&app.shared.store, &app.config(), next_poll, Utc::now()).into()
        }
        ("/check", _) => check(app).into(),
        ("/poll", Some(id)) => poll(app, id, anyway).await.into(),
        ("/preview", Some(id)) => preview(app, id).await,
        ("/pause", Some(id)) => {
            pause(&app.shared.store, &app.config(), &app.shared.wake, id, true).into()
        }
        ("/resume", Some(id)) => pause(
            &app.shared.store,
            &app.config(),
            &app.shared.wake,
            id,
            false,
        )
        .into(),
        ("/requeue", Some(id)) => requeue(&app.shared.store, &app.config(), &app.shared.wake, id)
            .await
            .into(),
        ("/poll" | "/preview" | "/pause" | "/resume" | "/requeue", None) => {
            format!("{command} needs an id: {command} ID").into()
        }
        _ => Answer::Text(
            "Commands: /status, /poll SOURCE, /pause ID, /resume ID, /requeue CHANNEL, /check, \
             /preview SOURCE, /add URL [CHANNEL]"
                .into(),
        ),
    }
}

/// The answer to `/status` at `now`: each source's state and next poll (`next_poll` when the
/// scheduler knows it, else its schedule's next time), each channel's queue.
pub fn status(
    store: &Store,
    config: &Config,
    next_poll: impl Fn(&str) -> Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> String {
    let mut out = String::from("Sources\n");
    for s in &config.sources {
        let st = store.source_state(&s.id).unwrap_or_default();
        // A paused source has no next run: it is not polled until resumed.
        let next = match st.paused {
            true => "none (paused)".into(),
            false => next_poll(&s.id)
                .or_else(|| crate::schedule::next_fire(&s.schedule, s.timezone, now))
                .map(|t| crate::timefmt::show(t, s.timezone))
                .unwrap_or_else(|| "never".into()),
        };
        out.push_str(&format!(
            "• {}{}: {} items; last success {}; next run {}{}\n",
            s.id,
            if st.paused { " (paused)" } else { "" },
            store.count(&s.id).unwrap_or(0),
            st.last_success
                .map(|t| crate::timefmt::show(t, s.timezone))
                .unwrap_or_else(|| "never".into()),
            next,
            match (&st.last_error, st.consecutive_failures) {
                (Some(e), n) if n > 0 => format!("; failing ({n}): {e}"),
                _ => String::new(),
            }
        ));
    }
    out.push_str("Channels\n");
    for c in &config.channels {
        let st = store.channel_state(&c.id).unwrap_or_default();
        out.push_str(&format!(
            "• {}: {} queued{}{}{}\n",
            c.id,
            store.pending(&c.id).unwrap_or(0),
            match store.set_aside_count(&c.id).unwrap_or(0) {
                0 => String::new(),
                n => format!("; {n} set aside (/requeue {})", c.id),
            },
            if st.paused { "; paused" } else { "" },
            st.blocked
                .map(|b| format!("; blocked: {b}"))
                .unwrap_or_default(),
        ));
    }
    out
}

/// `/check`: what `herald check` prints for the file on disk, line for line: its problems, or its
/// warnings (config warnings, renamed sources, delivery off without a token) and the `ok` line.
/// The token is this herald's own (it answers, so it has one).
fn check(app: &App) -> String {
    let path = app.config().path.clone();
    let c = match config::load(&path) {
        Ok(c) => c,
        Err(problems) => {
            let n = problems.len();
            let mut lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            lines.push(format!(
                "herald: {}: {n} problem{} found",
                path.display(),
                if n == 1 { "" } else { "s" }
            ));
            return lines.join("\n");
        }
    };
    let mut lines: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
    lines.extend(
        super::renamed_source_warnings(&c)
            .iter()
            .map(ToString::to_string),
    );
    let text = config::read_file(&path)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default();
    if let Some(problem) = config::data_dir_problem(&c, &text) {
        lines.push(problem.to_string());
        lines.push(format!("herald: {}: 1 problem found", path.display()));
        return lines.join("\n");
    }
    let token_set = app.shared.telegram.is_some();
    if let Some(w) = config::delivery_off_warning(&c, &text, token_set) {
        lines.push(w.to_string());
    }
    lines.push(format!(
        "{}: ok ({} sources, {} channels)",
        path.display(),
        c.sources.len(),
        c.channels.len()
    ));
    lines.join("\n")
}

/// `/poll SOURCE`: polls it now. A paused source is not polled (its posts would go out) unless
/// the admin adds `anyway`.
async fn poll(app: &App, id: &str, anyway: bool) -> String {
    let config = app.config();
    let Some(source) = config.source(id) else {
        return format!("unknown source `{id}`");
    };
    let paused = app.shared.store.source_state(id).is_ok_and(|st| st.paused);
    if paused && !anyway {
        return format!(
            "{id} is paused: not polled. /resume {id} resumes it; /poll {id} anyway polls it once."
        );
    }
    let opts = PollOptions {
        conditional: false,
        report_known: true,
    };
    match app.poll(source, opts).await {
        Ok(r) => format!(
            "{id}: {} new, {} changed, {} known",
            r.count(ItemState::New),
            r.count(ItemState::Changed),
            r.count(ItemState::Known)
        ),
        Err(e) => format!("{id}: poll failed: {e}"),
    }
}

async fn preview(app: &App, id: &str) -> Answer {
    let config = app.config();
    let Some(source) = config.source(id) else {
        return Answer::Text(format!("unknown source `{id}`"));
    };
    match super::preview::preview_newest_html(&app.shared.fetcher, &config, source).await {
        Ok(html) => Answer::Html(html),
        Err(e) => Answer::Text(e),
    }
}

/// `/requeue CHANNEL`: puts a channel's set-aside deliveries (refused by Telegram for good) back
/// in its queue, each at its original place: they go out first, oldest first, before the posts
/// queued after them. `wake` wakes the channel workers. The answer.
pub async fn requeue(store: &Store, config: &Config, wake: &Notify, id: &str) -> String {
    let id = id.strip_prefix("channel:").unwrap_or(id);
    if config.channel(id).is_none() {
        return format!("no channel `{id}`");
    }
    match store.requeue(id).await {
        Ok(0) => format!("channel {id}: no post is set aside"),
        Ok(n) => {
            wake.notify_waiters();
            format!("channel {id}: {n} set-aside post(s) queued again, in their original place")
        }
        Err(e) => format!("could not requeue {id}: {e}"),
    }
}

/// `/pause ID` and `/resume ID`: pauses or resumes a source (no polls) or a channel (nothing
/// sent; the queue keeps). An id that names both (the shipped config uses `akorda-en` for each)
/// is written `source:ID` or `channel:ID`. `wake` wakes the channel workers on a resume. The
/// answer.
pub fn pause(store: &Store, config: &Config, wake: &Notify, id: &str, paused: bool) -> String {
    let (kind, id) = match id.split_once(':') {
        Some((k @ ("source" | "channel"), rest)) => (Some(k), rest),
        _ => (None, id),
    };
    let is_source = config.source(id).is_some() && kind != Some("channel");
    let is_channel = config.channel(id).is_some() && kind != Some("source");
    let verb = if paused { "paused" } else { "resumed" };
    let result = match (is_source, is_channel) {
        (true, true) => {
            return format!("`{id}` is a source and a channel: write source:{id} or channel:{id}");
        }
        (false, false) => return format!("no source or channel `{id}`"),
        // One atomic change of the one field: a poll or a send finishing meanwhile keeps it.
        (true, false) => store
            .update_source_state(id, |st| st.paused = paused)
            .map(drop),
        (false, true) => store
            .update_channel_state(id, |st| st.paused = paused)
            .map(drop),
    };
    if !paused {
        wake.notify_waiters();
    }
    match result {
        Ok(()) => format!(
            "{} {id} {verb}",
            if is_source { "source" } else { "channel" }
        ),
        Err(e) => format!("could not change {id}: {e}"),
    }
}
