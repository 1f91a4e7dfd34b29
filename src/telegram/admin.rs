//! Messages to the admins (`[telegram] admins`): a source that starts failing or recovers, a
//! redesigned list page, a blocked channel, a post set aside, a refused config edit. One message
//! when a fault starts and one when it ends, never one per poll. Answers to admin commands go
//! through here too (`Alerts::send`), within the same per-chat limits.

use super::limits::{ChatLimits, GlobalLimit, acquire, answered};
use crate::config::LiveConfig;
use std::collections::HashMap;
use std::sync::Arc;
use teloxide::payloads::SendMessageSetters;
use teloxide::prelude::Requester;
use teloxide::types::{ChatId, ParseMode};
use teloxide::{Bot, RequestError};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// How many times one message to an admin is sent in all while Telegram answers 429.
const SEND_TRIES: u32 = 4;

pub struct Alerts {
    pub bot: Bot,
    pub config: Arc<LiveConfig>,
    pub global: Arc<GlobalLimit>,
    /// Per chat (an admin's, or the chat a command came from): alerts and answers to commands
    /// go to the same chats and share their limits.
    limits: std::sync::Mutex<HashMap<i64, Arc<Mutex<ChatLimits>>>>,
}

impl Alerts {
    pub fn new(bot: Bot, config: Arc<LiveConfig>, global: Arc<GlobalLimit>) -> Alerts {
        Alerts {
            bot,
            config,
            global,
            limits: Default::default(),
        }
    }

    /// Sends `text` (plain, no parse mode) to every admin. A failure other than 429 is logged,
    /// not retried: an alert is also in the log, `/healthz` and `/metrics`.
    pub async fn tell(&self, text: &str) {
        let config = self.config.get();
        let text = cut(text);
        for admin in &config.telegram.admins {
            if let Err(e) = self.send(ChatId(*admin), &text, None).await {
                tracing::warn!(admin, error = %super::deliver::describe(&e), "could not alert an admin");
            }
        }
    }

    /// Sends one message to `chat` within Telegram's limits: the chat's own (Bot API: about one
    /// message per second per chat), shared by alerts and answers, and the global one. On a 429
    /// the chat waits `retry_after` and the same message goes again, up to `SEND_TRIES` times in
    /// all; the last answer is returned, for the caller to log.
    pub async fn send(
        &self,
        chat: ChatId,
        text: &str,
        parse_mode: Option<ParseMode>,
    ) -> Result<(), RequestError> {
        let limits = self.chat_limits(chat.0);
        let mut tries = 1;
        loop {
            {
                let mut limits = limits.lock().await;
                // Never stopped (see `chat_limits`): the message waits for its turn to the end.
                let _ = acquire(&mut limits, &self.global).await;
            }
            let mut request = self.bot.send_message(chat, text);
            if let Some(mode) = parse_mode {
                request = request.parse_mode(mode);
            }
            let result = request.await;
            answered(&mut *limits.lock().await, &self.global);
            match result {
                Err(RequestError::RetryAfter(wait)) if tries < SEND_TRIES => {
                    tracing::warn!(chat = chat.0, retry_after = ?wait.duration(), "Telegram asked to slow down; sending the message to the admin again");
                    limits.lock().await.hold(wait.duration());
                    tries += 1;
                }
                answer => return answer.map(drop),
            }
        }
    }

    /// The limits of one chat, made at its first message.
    fn chat_limits(&self, chat: i64) -> Arc<Mutex<ChatLimits>> {
        let config = self.config.get();
        let mut all = self.limits.lock().unwrap_or_else(|p| p.into_inner());
        all.entry(chat)
            .or_insert_with(|| {
                Arc::new(Mutex::new(ChatLimits::new(
                    config.telegram.per_chat_per_second,
                    config.telegram.per_chat_per_minute,
                    &[],
                    // No stop signal: a message to an admin waits for its turn to the end.
                    CancellationToken::new(),
                )))
            })
            .clone()
    }
}

/// `text` within one Telegram message (never empty: Telegram refuses an empty text).
pub(crate) fn cut(text: &str) -> String {
    if text.trim().is_empty() {
        return "(empty)".into();
    }
    let mut out = String::new();
    let mut units = 0;
    for c in text.chars() {
        units += c.len_utf16();
        if units > crate::markup::MESSAGE_LIMIT - 1 {
            out.push('…');
            break;
        }
        out.push(c);
    }
    out
}
