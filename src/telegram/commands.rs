//! Admin commands over Telegram, by long polling: `/status`, `/poll SOURCE`, `/pause X`,
//! `/resume X` (X a source or a channel), `/check`, `/preview SOURCE`. Only user ids in
//! `[telegram] admins` get an answer; anyone else gets none and a log line. A network error
//! never ends the loop.

use crate::app::App;
use crate::config;
use crate::model::ItemState;
use crate::pipeline::PollOptions;
use chrono::Utc;
use std::time::Duration;
use teloxide::Bot;
use teloxide::payloads::GetUpdatesSetters;
use teloxide::prelude::Requester;
use teloxide::types::{AllowedUpdate, BotCommand, ChatId, UpdateKind};
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

pub fn commands() -> Vec<BotCommand> {
    [
        (
            "status",
            "Sources and channels: last success, errors, queues",
        ),
        ("poll", "Poll a source now: /poll SOURCE"),
        ("pause", "Pause a source or channel: /pause ID"),
        ("resume", "Resume a source or channel: /resume ID"),
        ("check", "Validate the config file on disk"),
        (
            "preview",
            "Show the post the newest item would make: /preview SOURCE",
        ),
    ]
    .into_iter()
    .map(|(c, d)| BotCommand::new(c, d))
    .collect()
}

/// Answers admin commands until `stop`.
pub async fn run(app: App, bot: Bot, stop: CancellationToken) {
    if let Err(e) = bot.set_my_commands(commands()).await {
        tracing::warn!(error = %e, "could not register the admin commands");
    }
    let mut offset: i32 = 0;
    let mut failures: u32 = 0;
    while !stop.is_cancelled() {
        let request = bot
            .get_updates()
            .offset(offset)
            .timeout(LONG_POLL)
            .allowed_updates(vec![AllowedUpdate::Message]);
        let updates = tokio::select! {
            () = stop.cancelled() => return,
            r = request => r,
        };
        let updates = match updates {
            Ok(u) => {
                failures = 0;
                if app.shared.set_telegram_refused(None) {
                    tracing::info!("Telegram accepts the bot token again");
                }
                u
            }
            Err(e) => {
                failures += 1;
                let wait = FIRST_RETRY
                    .saturating_mul(1 << failures.min(7).saturating_sub(1))
                    .min(LAST_RETRY);
                report_failure(&app, &e, failures, wait);
                tokio::select! {
                    () = stop.cancelled() => return,
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
            let answer = answer(&app, text).await;
            if let Err(e) = reply(&bot, ChatId(message.chat.id.0), answer).await {
                tracing::warn!(error = %crate::telegram::deliver::describe(&e), "could not answer an admin");
            }
        }
    }
}

/// Logs a failed getUpdates: a refused token once, clearly (and `/healthz` says so until it
/// works); other failures once per run of failures, then quietly while they go on.
fn report_failure(app: &App, e: &teloxide::RequestError, failures: u32, wait: Duration) {
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
        return;
    }
    let error = crate::telegram::deliver::describe(e);
    if failures == 1 {
        tracing::warn!(%error, "getUpdates failed; trying again with backoff");
    } else {
        tracing::debug!(%error, failures, retry_in = ?wait, "getUpdates failed again");
    }
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

/// Sends `answer` to `chat`: HTML with its parse mode when it fits one message, else (or when
/// Telegram refuses the markup) as plain text, cut to fit.
async fn reply(bot: &Bot, chat: ChatId, answer: Answer) -> Result<(), teloxide::RequestError> {
    use teloxide::payloads::SendMessageSetters;
    use teloxide::types::ParseMode;
    let plain = match answer {
        Answer::Text(text) => text,
        Answer::Html(html) => {
            if super::format::visible_utf16_len(&html) <= super::admin::MAX_TEXT {
                let sent = bot
                    .send_message(chat, html.clone())
                    .parse_mode(ParseMode::Html)
                    .await;
                match sent {
                    Err(teloxide::RequestError::Api(teloxide::ApiError::CantParseEntities(_))) => {}
                    other => return other.map(|_| ()),
                }
            }
            super::format::decode(&html)
        }
    };
    bot.send_message(chat, super::admin::cut(&plain))
        .await
        .map(|_| ())
}

/// The answer to one command line.
pub async fn answer(app: &App, text: &str) -> Answer {
    let mut words = text.split_whitespace();
    // "/status@herald_bot" in groups: drop the bot's name.
    let command = words.next().unwrap_or("").split('@').next().unwrap_or("");
    let arg = words.next();
    match (command, arg) {
        ("/status", _) => status(app).into(),
        ("/check", _) => check(app).into(),
        ("/poll", Some(id)) => poll(app, id).await.into(),
        ("/preview", Some(id)) => preview(app, id).await,
        ("/pause", Some(id)) => pause(app, id, true).into(),
        ("/resume", Some(id)) => pause(app, id, false).into(),
        ("/poll" | "/preview" | "/pause" | "/resume", None) => {
            format!("{command} needs an id: {command} ID").into()
        }
        _ => Answer::Text(
            "Commands: /status, /poll SOURCE, /pause ID, /resume ID, /check, /preview SOURCE"
                .into(),
        ),
    }
}

fn status(app: &App) -> String {
    let config = app.config();
    let store = &app.shared.store;
    let mut out = String::from("Sources\n");
    for s in &config.sources {
        let st = store.source_state(&s.id).unwrap_or_default();
        let next = app
            .shared
            .next_poll(&s.id)
            .or_else(|| crate::schedule::next_fire(&s.schedule, s.timezone, Utc::now()))
            .map(|t| crate::timefmt::show(t, s.timezone))
            .unwrap_or_else(|| "never".into());
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
            "• {}: {} queued{}{}\n",
            c.id,
            store.pending(&c.id).unwrap_or(0),
            if st.paused { "; paused" } else { "" },
            st.blocked
                .map(|b| format!("; blocked: {b}"))
                .unwrap_or_default(),
        ));
    }
    out
}

fn check(app: &App) -> String {
    let path = app.config().path.clone();
    match config::load(&path) {
        Ok(c) => format!(
            "{}: ok ({} sources, {} channels)",
            path.display(),
            c.sources.len(),
            c.channels.len()
        ),
        Err(problems) => problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

async fn poll(app: &App, id: &str) -> String {
    let config = app.config();
    let Some(source) = config.source(id) else {
        return format!("unknown source `{id}`");
    };
    let opts = PollOptions {
        conditional: false,
        dry_run: false,
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
    match super::preview_newest_html(&app.shared.fetcher, &config, source).await {
        Ok(html) => Answer::Html(html),
        Err(e) => Answer::Text(e),
    }
}

/// Pauses or resumes a source (no polls) or a channel (nothing sent; the queue keeps). An id
/// that names both (the shipped config uses `akorda-en` for each) is written `source:ID` or
/// `channel:ID`.
fn pause(app: &App, id: &str, paused: bool) -> String {
    let config = app.config();
    let store = &app.shared.store;
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
        app.shared.wake.notify_waiters();
    }
    match result {
        Ok(()) => format!(
            "{} {id} {verb}",
            if is_source { "source" } else { "channel" }
        ),
        Err(e) => format!("could not change {id}: {e}"),
    }
}
