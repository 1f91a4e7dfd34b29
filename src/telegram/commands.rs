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
            Ok(u) => u,
            Err(e) => {
                tracing::warn!(error = %crate::telegram::deliver::describe(&e), "getUpdates failed; trying again");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(5)) => continue,
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
            if let Err(e) = bot
                .send_message(ChatId(message.chat.id.0), super::admin::cut(&answer))
                .await
            {
                tracing::warn!(error = %crate::telegram::deliver::describe(&e), "could not answer an admin");
            }
        }
    }
}

/// The answer to one command line, as plain text.
pub async fn answer(app: &App, text: &str) -> String {
    let mut words = text.split_whitespace();
    // "/status@herald_bot" in groups: drop the bot's name.
    let command = words.next().unwrap_or("").split('@').next().unwrap_or("");
    let arg = words.next();
    match (command, arg) {
        ("/status", _) => status(app),
        ("/check", _) => check(app),
        ("/poll", Some(id)) => poll(app, id).await,
        ("/preview", Some(id)) => preview(app, id).await,
        ("/pause", Some(id)) => pause(app, id, true),
        ("/resume", Some(id)) => pause(app, id, false),
        ("/poll" | "/preview" | "/pause" | "/resume", None) => {
            format!("{command} needs an id: {command} ID")
        }
        _ => {
            "Commands: /status, /poll SOURCE, /pause ID, /resume ID, /check, /preview SOURCE".into()
        }
    }
}

fn status(app: &App) -> String {
    let config = app.config();
    let store = &app.shared.store;
    let mut out = String::from("Sources\n");
    for s in &config.sources {
        let st = store.source_state(&s.id).unwrap_or_default();
        let next = crate::schedule::next_fire(&s.schedule, s.timezone, Utc::now())
            .map(|t| {
                t.with_timezone(&s.timezone)
                    .format("%Y-%m-%d %H:%M:%S %Z")
                    .to_string()
            })
            .unwrap_or_else(|| "never".into());
        out.push_str(&format!(
            "• {}{}: {} items; last success {}; next run {}{}\n",
            s.id,
            if st.paused { " (paused)" } else { "" },
            store.count(&s.id).unwrap_or(0),
            st.last_success
                .map(|t| t.to_rfc3339())
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

async fn preview(app: &App, id: &str) -> String {
    let config = app.config();
    let Some(source) = config.source(id) else {
        return format!("unknown source `{id}`");
    };
    super::preview_newest(&app.shared.fetcher, &config, source)
        .await
        .unwrap_or_else(|e| e)
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
        (true, false) => store.source_state(id).and_then(|mut st| {
            st.paused = paused;
            store.put_source_state(id, &st)
        }),
        (false, true) => store.channel_state(id).and_then(|mut st| {
            st.paused = paused;
            store.put_channel_state(id, &st)
        }),
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
