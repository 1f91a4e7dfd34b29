//! Messages to the admins (`[telegram] admins`): a source that starts failing or recovers, a
//! redesigned list page, a blocked channel, a post set aside, a refused config edit. One message
//! when a fault starts and one when it ends, never one per poll. Answers to admin commands go
//! through here too (`Alerts::send`), within the same per-chat limits.

use super::api::TelegramApi;
use super::deliver::SendError;
use super::limits::{ChatLimits, GlobalLimit, acquire, answered};
use crate::config::LiveConfig;
use std::collections::{HashMap, HashSet};
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
    /// The subjects (set-aside deliveries' keys) of alerts being sent now: a chat worker that
    /// starts again meanwhile does not tell them twice.
    telling: std::sync::Mutex<HashSet<Vec<u8>>>,
}

impl<A: TelegramApi> Alerts<A> {
    pub fn new(bot: A, config: Arc<LiveConfig>, global: Arc<GlobalLimit>) -> Alerts<A> {
        Alerts {
            bot,
            config,
            global,
            limits: Default::default(),
            telling: Default::default(),
        }
    }

    /// Claims the alert about `subject`: false while another one about it is being sent.
    pub fn claim(&self, subject: &[u8]) -> bool {
        let mut telling = self.telling.lock().unwrap_or_else(|p| p.into_inner());
        telling.insert(subject.to_vec())
    }

    /// How many claimed alerts are on their way.
    pub fn sending(&self) -> usize {
        self.telling.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// The alert about `subject` is sent (or given up on): another may be claimed.
    pub fn release(&self, subject: &[u8]) {
        let mut telling = self.telling.lock().unwrap_or_else(|p| p.into_inner());
        telling.remove(subject);
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

    /// Sends `text` to every admin in a task of its own, for callers that must not wait for
    /// Telegram: a poll (which holds its source's turn), a supervisor, a reload in the main
    /// loop. At about one message a second per admin chat, and up to a request's timeout each
    /// while Telegram does not answer, a burst of alerts (many sources failing at once) would
    /// hold those up for hours.
    pub fn tell_soon(self: &Arc<Self>, text: String) {
        let alerts = self.clone();
        tokio::spawn(async move { alerts.tell(&text).await });
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
                        && matches!(
                            SendError::from_request(&e),
                            SendError::Refused(_) | SendError::Unreached(_)
                        ) =>
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::api::Accepted;
    use crate::telegram::format::Post;
    use std::collections::VecDeque;
    use std::time::Duration;
    use teloxide::ApiError;
    use teloxide::types::{Recipient, Seconds};
    use tokio::time::Instant;

    /// Answers each message with the next scripted answer (then Ok) after `takes`, and notes
    /// when each call started.
    #[derive(Default)]
    struct Scripted {
        answers: std::sync::Mutex<VecDeque<Result<(), RequestError>>>,
        takes: Duration,
        calls: std::sync::Mutex<Vec<Instant>>,
    }

    impl TelegramApi for Scripted {
        async fn send_post(
            &self,
            _: Recipient,
            _: &Post,
            _: bool,
            _: bool,
        ) -> Result<Accepted, RequestError> {
            unreachable!("alerts send text messages only")
        }
        async fn send_digest(
            &self,
            _: Recipient,
            _: String,
            _: &[Vec<(String, String)>],
            _: bool,
            _: bool,
        ) -> Result<Accepted, RequestError> {
            unreachable!("alerts send text messages only")
        }
        async fn edit_post(
            &self,
            _: Recipient,
            _: i32,
            _: &Post,
            _: bool,
        ) -> Result<(), RequestError> {
            unreachable!("alerts send text messages only")
        }
        async fn edit_digest(
            &self,
            _: Recipient,
            _: i32,
            _: String,
            _: &[Vec<(String, String)>],
            _: bool,
        ) -> Result<(), RequestError> {
            unreachable!("alerts send text messages only")
        }
        async fn set_keyboard(
            &self,
            _: Recipient,
            _: i32,
            _: &[Vec<(String, String)>],
        ) -> Result<(), RequestError> {
            unreachable!("alerts send text messages only")
        }
        async fn delete_message(&self, _: Recipient, _: i32) -> Result<(), RequestError> {
            unreachable!("alerts send text messages only")
        }
        async fn chat_id(&self, _: Recipient) -> Result<i64, RequestError> {
            unreachable!("alerts send text messages only")
        }
        async fn send_text_message(
            &self,
            _: ChatId,
            _: &str,
            _: Option<ParseMode>,
        ) -> Result<(), RequestError> {
            self.calls.lock().unwrap().push(Instant::now());
            tokio::time::sleep(self.takes).await;
            let answer = self.answers.lock().unwrap().pop_front();
            answer.unwrap_or(Ok(()))
        }
    }

    fn alerts(api: Scripted) -> Alerts<Scripted> {
        let dir = std::path::Path::new(".");
        let config =
            crate::config::parse(&dir.join("config.toml"), "[telegram]\nadmins = [7]\n", dir)
                .expect("a valid config");
        Alerts::new(
            api,
            Arc::new(LiveConfig::new(config)),
            Arc::new(GlobalLimit::new(30)),
        )
    }

    fn calls(alerts: &Alerts<Scripted>) -> Vec<Instant> {
        alerts.bot.calls.lock().unwrap().clone()
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_on_the_last_try_still_holds_the_chat() {
        let wait = || Err(RequestError::RetryAfter(Seconds::from_seconds(30)));
        let api = Scripted {
            answers: std::sync::Mutex::new((0..SEND_TRIES).map(|_| wait()).collect()),
            ..Scripted::default()
        };
        let alerts = alerts(api);
        let given_up = alerts.send(ChatId(7), "first", None).await;
        assert!(matches!(given_up, Err(RequestError::RetryAfter(_))));
        let answered = Instant::now();
        alerts.send(ChatId(7), "second", None).await.unwrap();
        let calls = calls(&alerts);
        assert_eq!(calls.len(), SEND_TRIES as usize + 1);
        assert!(calls[SEND_TRIES as usize] >= answered + Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn a_5xx_is_sent_again_and_a_400_is_not() {
        let api = Scripted {
            answers: std::sync::Mutex::new(
                [
                    Err(RequestError::Api(ApiError::Unknown(
                        "Internal Server Error".into(),
                    ))),
                    Ok(()),
                    Err(RequestError::Api(ApiError::Unknown(
                        "Bad Request: message is too long".into(),
                    ))),
                ]
                .into(),
            ),
            ..Scripted::default()
        };
        let alerts = alerts(api);
        alerts.send(ChatId(7), "once more", None).await.unwrap();
        assert_eq!(calls(&alerts).len(), 2);
        assert!(alerts.send(ChatId(7), "refused", None).await.is_err());
        assert_eq!(calls(&alerts).len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn messages_to_one_chat_go_one_at_a_time() {
        let api = Scripted {
            takes: Duration::from_secs(2),
            ..Scripted::default()
        };
        let alerts = alerts(api);
        let (a, b) = tokio::join!(
            alerts.send(ChatId(7), "one", None),
            alerts.send(ChatId(7), "two", None)
        );
        a.unwrap();
        b.unwrap();
        let calls = calls(&alerts);
        // The second waits for the first's answer, then a second more.
        assert!(calls[1] >= calls[0] + Duration::from_secs(3), "{calls:?}");
    }
}
