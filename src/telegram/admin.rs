//! Messages to the admins (`[telegram] admins`): a source that starts failing or recovers, a
//! redesigned list page, a blocked channel, a refused config edit. One message when a fault
//! starts and one when it ends, never one per poll.

use super::limits::{ChatLimits, GlobalLimit, acquire};
use crate::app::LiveConfig;
use std::collections::HashMap;
use std::sync::Arc;
use teloxide::Bot;
use teloxide::prelude::Requester;
use teloxide::types::ChatId;
use tokio::sync::Mutex;

/// Telegram's own limit for one message text (UTF-16 units; plain text here, so characters
/// outside the BMP are the only ones counting double).
pub(super) const MAX_TEXT: usize = 4096;

pub struct Alerts {
    pub bot: Bot,
    pub config: Arc<LiveConfig>,
    pub global: Arc<GlobalLimit>,
    limits: Mutex<HashMap<i64, ChatLimits>>,
}

impl Alerts {
    pub fn new(bot: Bot, config: Arc<LiveConfig>, global: Arc<GlobalLimit>) -> Alerts {
        Alerts {
            bot,
            config,
            global,
            limits: Mutex::new(HashMap::new()),
        }
    }

    /// Sends `text` (plain, no parse mode) to every admin. Failures are logged, not retried: an
    /// alert is also in the log, `/healthz` and `/metrics`.
    pub async fn tell(&self, text: &str) {
        let config = self.config.get();
        let text = cut(text);
        let mut limits = self.limits.lock().await;
        for admin in &config.telegram.admins {
            let chat = limits.entry(*admin).or_insert_with(|| {
                ChatLimits::new(
                    config.telegram.per_chat_per_second,
                    config.telegram.per_chat_per_minute,
                    &[],
                )
            });
            acquire(chat, &self.global).await;
            if let Err(e) = self.bot.send_message(ChatId(*admin), text.clone()).await {
                tracing::warn!(admin, error = %e, "could not alert an admin");
            }
        }
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
        if units > MAX_TEXT - 1 {
            out.push('…');
            break;
        }
        out.push(c);
    }
    out
}
