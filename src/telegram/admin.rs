//! Messages to the admins (`[telegram] admins`): a source that starts failing or recovers, a
//! redesigned list page, a blocked channel, a post set aside, a refused config edit. One message
//! when a fault starts and one when it ends, never one per poll. Answers to admin commands go
//! through here too (`Alerts::send`), within the same per-chat limits.

use super::api::TelegramApi;
use super::deliver::SendError;
use super::limits::{ChatLimits, GlobalLimit, acquire, answered};
use crate::config::LiveConfig;
use std::collections::HashMap;
use std::sync::Arc;
use teloxide::types::{ChatId, ParseMode};
use teloxide::{Bot, RequestError};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// How many times one message to an admin is sent in all while Telegram refuses it for now
/// (429, or a 5xx).
pub const SEND_TRIES: u32 = 4;

/// `A` is the Bot API: teloxide's `Bot`, or the delivery simulation's Telegram.
pub struct Alerts<A: TelegramApi = Bot> {
    pub bot: A,
    pub config: Arc<LiveConfig>,
    pub global: Arc<GlobalLimit>,
    /// Per chat (an admin's, or the chat a command came from): alerts and answers to commands
    /// go to the same chats and share their limits.
    limits: std::sync::Mutex<HashMap<i64, Arc<Mutex<ChatLimits>>>>,
}

impl<A: TelegramApi> Alerts<A> {
    pub fn new(bot: A, config: Arc<LiveConfig>, global: Arc<GlobalLimit>) -> Alerts<A> {
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
    /// the chat waits `retry_after` and the same message goes again, and so on a 5xx at the
    /// chat's next turn, up to `SEND_TRIES` times in all; the last answer is returned, for the
    /// caller to log. A request without an answer is not sent again: it may have arrived (a
    /// duplicate), and a connection that does not answer would hold the caller up once more.
    pub async fn send(
        &self,
        chat: ChatId,
        text: &str,
        parse_mode: Option<ParseMode>,
    ) -> Result<(), RequestError> {
        let limits = self.chat_limits(chat.0);
        let mut tries = 1;
        loop {
            let result = {
                // One call at a time per chat, from its turn to its answer (alerts are sent from
                // many tasks at once): the next one counts its turn from this one's answer, and
                // waits for a 429's hold.
                let mut limits = limits.lock().await;
                // Never stopped (see `chat_limits`): the message waits for its turn to the end.
                let _ = acquire(&mut limits, &self.global).await;
                let result = self.bot.send_text_message(chat, text, parse_mode).await;
                answered(&mut limits, &self.global);
                if let Err(RequestError::RetryAfter(wait)) = &result {
                    // Also after the last try: the next message to the chat waits as well.
                    limits.hold(wait.duration());
                }
                result
            };
            match result {
                Err(RequestError::RetryAfter(wait)) if tries < SEND_TRIES => {
                    tracing::warn!(chat = chat.0, retry_after = ?wait.duration(), "Telegram asked to slow down; sending the message to the admin again");
                    tries += 1;
                }
                Err(e)
                    if tries < SEND_TRIES
                        && matches!(SendError::from_request(&e), SendError::Refused(_)) =>
                {
                    tracing::warn!(chat = chat.0, error = %super::deliver::describe(&e), "Telegram could not take the message to the admin; sending it again");
                    tries += 1;
                }
                answer => return answer,
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
