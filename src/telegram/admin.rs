//! Messages to the admins (`[telegram] admins`): a source that starts failing or recovers, a
//! redesigned list page, a blocked channel, a post set aside, a refused config edit. One message
//! when a fault starts and one when it ends, never one per poll. Answers to admin commands go
//! through here too (`Alerts::send`), within the same per-chat limits.
//!
//! An alert, once decided, is kept in the store (`store::alerts`) until Telegram accepts it for
//! every admin, and sent from there by one worker (`Alerts::run`) with a doubling backoff for as
//! long as it takes, across restarts; `/healthz` (`alerts`) and `/metrics` show the alerts that
//! wait past their first tries, and the admin chats that refuse messages for good (blocked, not
//! found). Duplicates: a try that got no answer may have arrived, and the alert is sent again
//! (at least once beats never; each copy after such a try says it may be a second one). A
//! connection that could not be made sends nothing, so retrying it duplicates nothing.

use super::api::TelegramApi;
use super::deliver::SendError;
use super::limits::{ChatLimits, GlobalLimit, acquire, answered};
use crate::config::LiveConfig;
use crate::store::{AlertKey, PendingAlert, Store, StoreError};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use teloxide::types::{ChatId, ParseMode};
use teloxide::{Bot, RequestError};
use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;

/// How many times one message to an admin is sent in all while Telegram refuses it for now
/// (429, or a 5xx).
pub const SEND_TRIES: u32 = 4;

/// The wait after a round of stored alerts that left some unsent, doubled after each such round
/// up to `LAST_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const LAST_BACKOFF: Duration = Duration::from_secs(300);

/// Said under a copy of an alert sent again after a try that got no answer.
const SENT_AGAIN: &str =
    "\n\n(sent again: an earlier try got no answer from Telegram and may have arrived too)";

/// The stored alerts, for `/healthz`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertsHealth {
    /// Alerts (one per admin) Telegram has not taken yet.
    pub pending: usize,
    /// Why the last round left some unsent; `None` once a round sent them all.
    pub last_error: Option<String>,
    /// Admins (still in the config) whose chats refuse messages for good, with why.
    pub refused: Vec<(i64, String)>,
}

impl AlertsHealth {
    pub fn ok(&self) -> bool {
        self.refused.is_empty() && (self.pending == 0 || self.last_error.is_none())
    }
}

/// `A` is the Bot API: teloxide's `Bot`, or the delivery simulation's Telegram.
pub struct Alerts<A: TelegramApi = Bot> {
    pub bot: A,
    pub config: Arc<LiveConfig>,
    pub global: Arc<GlobalLimit>,
    /// Per chat (an admin's, or the chat a command came from): alerts and answers to commands
    /// go to the same chats and share their limits.
    limits: std::sync::Mutex<HashMap<i64, Arc<Mutex<ChatLimits>>>>,
    /// Per chat: held by an answer from its first message to its last, so that two commands
    /// answered at once (each in its own task) do not interleave their messages.
    speaking: std::sync::Mutex<HashMap<i64, Arc<Mutex<()>>>>,
    /// The subjects (set-aside deliveries' keys) of alerts being sent now: a chat worker that
    /// starts again meanwhile does not tell them twice.
    telling: std::sync::Mutex<HashSet<Vec<u8>>>,
    /// Where alerts wait until Telegram takes them (see `run`); without it (the delivery
    /// simulation) an alert is sent from a task of its own, with no stored copy.
    store: Option<Store>,
    /// An alert was stored: the worker looks at once.
    queued: Notify,
    /// Why the last round of stored alerts left some unsent (see `AlertsHealth::last_error`).
    failing: std::sync::Mutex<Option<String>>,
}

impl<A: TelegramApi> Alerts<A> {
    pub fn new(bot: A, config: Arc<LiveConfig>, global: Arc<GlobalLimit>) -> Alerts<A> {
        Alerts {
            bot,
            config,
            global,
            limits: Default::default(),
            speaking: Default::default(),
            telling: Default::default(),
            store: None,
            queued: Notify::new(),
            failing: Default::default(),
        }
    }

    /// Alerts kept in `store` until Telegram takes them, sent by `run`.
    pub fn with_store(mut self, store: Store) -> Alerts<A> {
        self.store = Some(store);
        self
    }

    /// Whether alerts are kept in a store (`with_store`) until Telegram takes them: a caller then
    /// stores its alert with `keep_with`, with the record of why, instead of sending it.
    pub fn durable(&self) -> bool {
        self.store.is_some()
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
    ///
    /// With a store, the alert is kept there and sent by `run`, for as long as it takes. It is
    /// flushed at once, in a task of its own (the caller does not wait for the disk): what
    /// decided it (a task that ended, a config warning) happens once, so an alert left to
    /// sled's next timed flush (every 500 ms) was lost to a `kill -9` or a power cut before it.
    pub fn tell_soon(self: &Arc<Self>, text: String) {
        if let Some(store) = &self.store {
            match self.keep_with(&text, |admins, text| store.queue_alert(admins, text)) {
                Ok(()) => {
                    let store = store.clone();
                    tokio::spawn(async move {
                        if let Err(e) = store.flush().await {
                            tracing::error!(error = %e, "could not flush an admin alert");
                        }
                    });
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not store an admin alert; sending it without a stored copy");
                }
            }
        }
        let alerts = self.clone();
        tokio::spawn(async move { alerts.tell(&text).await });
    }

    /// Stores the alert `text` for every admin with `write` (which may record, in the same
    /// transaction, why it was decided), and wakes the worker.
    pub fn keep_with(
        &self,
        text: &str,
        write: impl FnOnce(&[i64], &str) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let config = self.config.get();
        write(&config.telegram.admins, &cut(text))?;
        self.queued.notify_one();
        if let Some(store) = &self.store {
            metrics::gauge!("herald_admin_alerts_pending").set(store.pending_alert_count() as f64);
        }
        Ok(())
    }

    /// The stored alerts' state; `None` without a store.
    pub fn health(&self) -> Option<AlertsHealth> {
        let store = self.store.as_ref()?;
        let admins = self.config.get().telegram.admins.clone();
        let refused = store
            .admins_refused()
            .unwrap_or_default()
            .into_iter()
            .filter(|(admin, _)| admins.contains(admin))
            .collect();
        Some(AlertsHealth {
            pending: store.pending_alert_count(),
            last_error: self
                .failing
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            refused,
        })
    }

    /// Sends the stored alerts until `stop`: at start (those left by the last run), whenever
    /// one is stored, and, for an admin whose alerts a round left unsent, again after a wait
    /// that doubles with each such round (up to `LAST_BACKOFF`). Each admin has a next try of
    /// its own: one admin's failures never hold another's alerts.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let Some(store) = self.store.clone() else {
            return;
        };
        // Admins backing off: when to try again, the wait after that, and why.
        let mut backing_off: HashMap<i64, (tokio::time::Instant, Duration, String)> =
            HashMap::new();
        loop {
            let now = tokio::time::Instant::now();
            let waiting: HashSet<i64> = backing_off
                .iter()
                .filter(|(_, (at, _, _))| *at > now)
                .map(|(admin, _)| *admin)
                .collect();
            let round = tokio::select! {
                () = stop.cancelled() => return,
                round = self.send_round(&store, &waiting) => round,
            };
            let after = tokio::time::Instant::now();
            let store_error = match round {
                Ok(results) => {
                    // An admin tried with nothing left to send waits for nothing.
                    backing_off
                        .retain(|admin, _| waiting.contains(admin) || results.contains_key(admin));
                    for (admin, result) in results {
                        match result {
                            Ok(()) => {
                                backing_off.remove(&admin);
                            }
                            Err(why) => {
                                let wait = backing_off
                                    .get(&admin)
                                    .map_or(FIRST_BACKOFF, |(_, next, _)| *next);
                                tracing::warn!(admin, retry_in = ?wait, error = %why, "admin alerts wait for Telegram");
                                let next = (wait * 2).min(LAST_BACKOFF);
                                backing_off.insert(admin, (after + wait, next, why));
                            }
                        }
                    }
                    None
                }
                Err(e) => Some(e),
            };
            // Admins gone from the config wait for nothing.
            let admins = self.config.get().telegram.admins.clone();
            backing_off.retain(|admin, _| admins.contains(admin));
            let pending = store.pending_alert_count();
            metrics::gauge!("herald_admin_alerts_pending").set(pending as f64);
            let refused = self.health().map_or(0, |h| h.refused.len());
            metrics::gauge!("herald_admin_chats_refused").set(refused as f64);
            let mut errors: Vec<&str> = backing_off
                .values()
                .map(|(_, _, why)| why.as_str())
                .collect();
            errors.sort_unstable();
            let failing = match (&store_error, errors.is_empty()) {
                (Some(e), _) => Some(e.clone()),
                (None, true) => None,
                (None, false) => Some(errors.join("; ")),
            };
            *self.failing.lock().unwrap_or_else(|p| p.into_inner()) = failing;
            // A store that could not be read: the whole round again after the first wait.
            let next_try = match store_error {
                Some(_) => Some(after + FIRST_BACKOFF),
                None => backing_off.values().map(|(at, _, _)| *at).min(),
            };
            let retry = async {
                match next_try {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.queued.notified() => {}
                () = retry => {}
            }
        }
    }

    /// One round: every stored alert sent once (each admin's in order, up to the first that
    /// Telegram does not take now). Err: why some are left.
    #[cfg(test)]
    async fn send_stored(&self, store: &Store) -> Result<(), String> {
        let results = self.send_round(store, &HashSet::new()).await?;
        let errors: Vec<String> = results.into_values().filter_map(Result::err).collect();
        match errors.is_empty() {
            true => Ok(()),
            false => Err(errors.join("; ")),
        }
    }

    /// One round for the admins not in `skip`: each one's stored alerts sent in order, up to
    /// the first that Telegram does not take now. Per admin with alerts: Err, why some are
    /// left. Err: the store could not be read.
    async fn send_round(
        &self,
        store: &Store,
        skip: &HashSet<i64>,
    ) -> Result<BTreeMap<i64, Result<(), String>>, String> {
        let pending = store.pending_alerts().map_err(|e| e.to_string())?;
        let admins = self.config.get().telegram.admins.clone();
        let mut by_admin: BTreeMap<i64, Vec<(AlertKey, PendingAlert)>> = BTreeMap::new();
        for (key, alert) in pending {
            if !admins.contains(&alert.admin) {
                tracing::warn!(admin = alert.admin, alert = %alert.text, "an alert for an admin no longer in the config is dropped");
                store.alert_done(&key).map_err(|e| e.to_string())?;
            } else if !skip.contains(&alert.admin) {
                by_admin.entry(alert.admin).or_default().push((key, alert));
            }
        }
        let rounds = by_admin.into_iter().map(|(admin, alerts)| async move {
            (admin, self.send_to_admin(store, admin, alerts).await)
        });
        Ok(futures_util::future::join_all(rounds)
            .await
            .into_iter()
            .collect())
    }

    /// Sends `alerts` to `admin` in order; each leaves the store when Telegram took it.
    async fn send_to_admin(
        &self,
        store: &Store,
        admin: i64,
        alerts: Vec<(AlertKey, PendingAlert)>,
    ) -> Result<(), String> {
        let stored = |r: Result<(), StoreError>| r.map_err(|e| format!("admin {admin}: {e}"));
        for (n, (key, alert)) in alerts.iter().enumerate() {
            let text = match alert.unanswered {
                0 => alert.text.clone(),
                _ => cut(&format!("{}{SENT_AGAIN}", alert.text)),
            };
            let Err(e) = self.send(ChatId(admin), &text, None).await else {
                stored(store.alert_done(key))?;
                stored(store.set_admin_refused(admin, None))?;
                continue;
            };
            let why = super::deliver::describe(&e);
            // A refused token is the bot's, not the chat's: the alerts wait for a good one
            // (`/healthz` says "Telegram: not authorized").
            if matches!(e, RequestError::Api(teloxide::ApiError::InvalidToken)) {
                return Err(format!("admin {admin}: {why}"));
            }
            match admin_failure(&e) {
                // The chat takes nothing until someone fixes it (the admin blocked the bot,
                // never started it, the id is wrong or is a bot's): its alerts are dropped, and
                // `/healthz` and `/metrics` say so until a message to it is accepted.
                AdminFailure::ChatRefuses => {
                    tracing::error!(admin, error = %why, dropped = alerts.len() - n, alert = %alert.text, "an admin's chat refuses messages; its alerts are dropped");
                    stored(store.set_admin_refused(admin, Some(&why)))?;
                    for (key, _) in &alerts[n..] {
                        stored(store.alert_done(key))?;
                    }
                    return Ok(());
                }
                // Telegram may have taken it: sent again, with a note.
                AdminFailure::Unanswered => {
                    stored(store.alert_unanswered(key))?;
                    return Err(format!("admin {admin}: {why}"));
                }
                AdminFailure::ForNow => return Err(format!("admin {admin}: {why}")),
            }
        }
        Ok(())
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

    /// Sends `text` (plain) to `chat` whole: as many messages as it takes (see [`pieces`]), in
    /// order, each within the chat's limits, none of another answer's between them. Stops at
    /// the first that Telegram does not take.
    pub async fn send_whole(&self, chat: ChatId, text: &str) -> Result<(), RequestError> {
        let _turn = self.answer_turn(chat).await;
        self.send_pieces(chat, text).await
    }

    /// [`Alerts::send_whole`] for a caller that holds the chat's [`Alerts::answer_turn`].
    pub async fn send_pieces(&self, chat: ChatId, text: &str) -> Result<(), RequestError> {
        for piece in pieces(text) {
            self.send(chat, &piece, None).await?;
        }
        Ok(())
    }

    /// The chat's turn to be answered, held from an answer's first message to its last.
    pub async fn answer_turn(&self, chat: ChatId) -> tokio::sync::OwnedMutexGuard<()> {
        let speaking = self
            .speaking
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(chat.0)
            .or_default()
            .clone();
        speaking.lock_owned().await
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

/// What a failed send of an alert to an admin's chat means.
#[derive(Debug, PartialEq)]
enum AdminFailure {
    /// The chat refuses messages until someone acts.
    ChatRefuses,
    /// No answer: Telegram may have taken it.
    Unanswered,
    /// Passes (a 429, a 5xx, no connection): the alert waits.
    ForNow,
}

/// An alert is plain text cut to one message, so a 400 for it is about the chat (its id is
/// wrong: "chat not found", "PEER_ID_INVALID"), not the message, and sending again changes
/// nothing; so is a chat that is a bot's (`CantTalkWithBots`).
fn admin_failure(e: &RequestError) -> AdminFailure {
    if matches!(e, RequestError::Api(teloxide::ApiError::CantTalkWithBots)) {
        return AdminFailure::ChatRefuses;
    }
    match SendError::from_request(e) {
        SendError::Blocked(_)
        | SendError::Migrated(_)
        | SendError::Rejected(_)
        | SendError::BadMarkup(_)
        | SendError::PhotoRefused
        | SendError::EditMoot
        | SendError::WrongEditKind { .. } => AdminFailure::ChatRefuses,
        SendError::Uncertain(_) => AdminFailure::Unanswered,
        SendError::RetryAfter(_) | SendError::Refused(_) | SendError::Unreached(_) => {
            AdminFailure::ForNow
        }
    }
}

/// `text` as the messages that carry it whole, in order: split at line ends, each message at
/// most one Telegram message long (Bot API: text is 1-4096 characters, counted in UTF-16
/// units); a single longer line is split at a space, else between two graphemes. Lines of only
/// blanks at a message's edges are left out (Telegram trims them, and refuses an empty text);
/// an empty `text` is one "(empty)".
pub(crate) fn pieces(text: &str) -> Vec<String> {
    let limit = crate::markup::MESSAGE_LIMIT;
    let units = |s: &str| s.encode_utf16().count();
    // One message's worth goes as it is.
    if units(text) <= limit && !text.trim().is_empty() {
        return vec![text.to_owned()];
    }
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, out: &mut Vec<String>| {
        let piece = current.trim_end();
        if !piece.trim().is_empty() {
            out.push(piece.to_owned());
        }
        current.clear();
    };
    for line in text.split_inclusive('\n') {
        if units(line.trim_end_matches('\n')) > limit {
            flush(&mut current, &mut out);
            out.extend(split_line(line.trim_end(), limit));
            continue;
        }
        if units(&current) + units(line.trim_end_matches('\n')) > limit {
            flush(&mut current, &mut out);
        }
        current.push_str(line);
    }
    flush(&mut current, &mut out);
    if out.is_empty() {
        out.push("(empty)".into());
    }
    out
}

/// One line longer than `limit` UTF-16 units as parts of at most `limit`: each ends at its
/// last space when it has one in its second half, else at a grapheme's end.
fn split_line(line: &str, limit: usize) -> Vec<String> {
    use unicode_segmentation::UnicodeSegmentation;
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut units = 0;
    // A grapheme longer than a message (a letter under thousands of marks) goes by characters.
    let units_of = line
        .graphemes(true)
        .flat_map(|g| match g.encode_utf16().count() > limit {
            true => g
                .char_indices()
                .map(|(at, c)| &g[at..at + c.len_utf8()])
                .collect(),
            false => vec![g],
        });
    for g in units_of {
        let n = g.encode_utf16().count();
        if units + n > limit && !part.is_empty() {
            let space = part
                .rfind(char::is_whitespace)
                .filter(|&at| at > part.len() / 2);
            let rest = match space {
                Some(at) => {
                    let rest = part[at..].trim_start().to_owned();
                    part.truncate(at);
                    rest
                }
                None => String::new(),
            };
            parts.push(std::mem::replace(&mut part, rest));
            units = part.encode_utf16().count();
        }
        part.push_str(g);
        units += n;
    }
    if !part.trim().is_empty() {
        parts.push(part);
    }
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
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
        texts: std::sync::Mutex<Vec<String>>,
        /// Each message's chat and text.
        sent: std::sync::Mutex<Vec<(i64, String)>>,
        /// A chat that answers every message with a 5xx.
        failing: Option<i64>,
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
            chat: ChatId,
            text: &str,
            _: Option<ParseMode>,
        ) -> Result<(), RequestError> {
            self.sent.lock().unwrap().push((chat.0, text.to_owned()));
            if self.failing == Some(chat.0) {
                return Err(RequestError::Api(ApiError::Unknown("Bad Gateway".into())));
            }
            self.calls.lock().unwrap().push(Instant::now());
            self.texts.lock().unwrap().push(text.to_owned());
            tokio::time::sleep(self.takes).await;
            let answer = self.answers.lock().unwrap().pop_front();
            answer.unwrap_or(Ok(()))
        }
    }

    fn alerts(api: Scripted) -> Alerts<Scripted> {
        alerts_for(api, "[7]")
    }

    fn alerts_for(api: Scripted, admins: &str) -> Alerts<Scripted> {
        let dir = std::path::Path::new(".");
        let text = format!("[telegram]\nadmins = {admins}\n");
        let config =
            crate::config::parse(&dir.join("config.toml"), &text, dir).expect("a valid config");
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

    #[tokio::test(start_paused = true)]
    async fn a_stored_alert_without_an_answer_goes_again_saying_so() {
        let lost = || {
            Err(RequestError::Io(Arc::new(
                std::io::ErrorKind::ConnectionReset.into(),
            )))
        };
        let api = Scripted {
            answers: std::sync::Mutex::new([lost()].into()),
            ..Scripted::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let alerts = alerts(api).with_store(store.clone());
        alerts
            .keep_with("one", |a, t| store.queue_alert(a, t))
            .unwrap();
        alerts
            .keep_with("two", |a, t| store.queue_alert(a, t))
            .unwrap();
        // The first round stops at the try without an answer; the next sends both, in order.
        assert!(alerts.send_stored(&store).await.is_err());
        assert_eq!(store.pending_alert_count(), 2);
        alerts.send_stored(&store).await.unwrap();
        assert_eq!(store.pending_alert_count(), 0);
        let texts = alerts.bot.texts.lock().unwrap().clone();
        assert_eq!(
            texts,
            ["one".to_owned(), format!("one{SENT_AGAIN}"), "two".into()]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn one_admins_backoff_never_delays_anothers_alerts() {
        let api = Scripted {
            failing: Some(7),
            ..Scripted::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let alerts = Arc::new(alerts_for(api, "[7, 8]").with_store(store.clone()));
        let stop = CancellationToken::new();
        let worker = tokio::spawn(alerts.clone().run(stop.clone()));
        alerts
            .keep_with("one", |a, t| store.queue_alert(a, t))
            .unwrap();
        // Admin 7's chat has failed round after round: its wait is long by now.
        tokio::time::sleep(Duration::from_secs(100)).await;
        let to_8 = |alerts: &Alerts<Scripted>| {
            let sent = alerts.bot.sent.lock().unwrap();
            sent.iter().filter(|(chat, _)| *chat == 8).count()
        };
        assert_eq!(to_8(&alerts), 1);
        alerts
            .keep_with("two", |a, t| store.queue_alert(a, t))
            .unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(to_8(&alerts), 2, "{:?}", alerts.bot.sent.lock().unwrap());
        let health = alerts.health().unwrap();
        assert!(health.last_error.unwrap().contains("admin 7"));
        assert_eq!(health.pending, 2);
        stop.cancel();
        worker.await.unwrap();
    }

    fn units(s: &str) -> usize {
        s.encode_utf16().count()
    }

    /// A long answer (a `/status` of 120 sources) arrives whole, in order, split at line ends.
    #[tokio::test(start_paused = true)]
    async fn a_long_answer_goes_whole_in_several_messages_split_at_line_ends() {
        let lines: Vec<String> = (0..120)
            .map(|n| format!("• source-{n:03}: 12 items; last success 2026-03-01 10:00 +05; next run 2026-03-01 10:15 +05"))
            .chain(["Channels".to_owned(), "• en: 0 queued".to_owned()])
            .collect();
        let text = lines.join("\n") + "\n";
        assert!(units(&text) > 4096 * 2);
        let alerts = alerts(Scripted::default());
        alerts.send_whole(ChatId(7), &text).await.unwrap();
        let sent = alerts.bot.texts.lock().unwrap().clone();
        assert_eq!(sent.len(), 3, "{sent:#?}");
        assert!(sent.iter().all(|m| units(m) <= 4096));
        let got: Vec<&str> = sent.iter().flat_map(|m| m.lines()).collect();
        assert_eq!(got, lines);
    }

    /// Two long answers sent at once to one chat (two commands answered in their own tasks)
    /// arrive one after the other, never interleaved.
    #[tokio::test(start_paused = true)]
    async fn two_answers_at_once_do_not_interleave() {
        let answer = |name: &str| {
            (0..150)
                .map(|n| format!("{name} line {n:03}: {}", "x".repeat(60)))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (first, second) = (answer("first"), answer("second"));
        assert!(pieces(&first).len() >= 3);
        let alerts = alerts(Scripted::default());
        let (a, b) = tokio::join!(
            alerts.send_whole(ChatId(7), &first),
            alerts.send_whole(ChatId(7), &second)
        );
        a.unwrap();
        b.unwrap();
        let sent = alerts.bot.texts.lock().unwrap().clone();
        let owners: Vec<&str> = sent.iter().map(|m| m.split(' ').next().unwrap()).collect();
        let changes = owners.windows(2).filter(|w| w[0] != w[1]).count();
        assert_eq!(changes, 1, "{owners:?}");
        let got: Vec<&str> = sent.iter().flat_map(|m| m.lines()).collect();
        let (first, second) = (first.lines(), second.lines());
        let whole: Vec<&str> = match owners[0] {
            "first" => first.chain(second).collect(),
            _ => second.chain(first).collect(),
        };
        assert_eq!(got, whole);
    }

    #[test]
    fn a_line_longer_than_a_message_is_split_at_a_space_or_a_grapheme() {
        let words = "słowo ".repeat(1500);
        let parts = pieces(&format!("head\n{words}\ntail"));
        assert_eq!(parts[0], "head");
        assert_eq!(parts.last().unwrap(), "tail");
        let middle = &parts[1..parts.len() - 1];
        assert!(middle.len() >= 2, "{middle:?}");
        assert!(
            middle
                .iter()
                .all(|p| units(p) <= 4096 && p.ends_with("słowo"))
        );
        assert_eq!(middle.join(" "), words.trim_end());
        // No space: cut between graphemes (a flag is two characters, one grapheme).
        let flags = "🇰🇿".repeat(1500);
        let parts = pieces(&flags);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| units(p) <= 4096));
        assert_eq!(parts.concat(), flags);
        assert_eq!(pieces("  \n\n"), ["(empty)"]);
    }

    #[test]
    fn a_400_or_a_bots_chat_means_the_admin_chat_refuses() {
        let api = |e: ApiError| admin_failure(&RequestError::Api(e));
        let text = |t: &str| api(ApiError::Unknown(t.into()));
        assert_eq!(
            text("Bad Request: PEER_ID_INVALID"),
            AdminFailure::ChatRefuses
        );
        assert_eq!(api(ApiError::ChatNotFound), AdminFailure::ChatRefuses);
        assert_eq!(api(ApiError::CantTalkWithBots), AdminFailure::ChatRefuses);
        assert_eq!(
            api(ApiError::CantInitiateConversation),
            AdminFailure::ChatRefuses
        );
        assert_eq!(text("Internal Server Error"), AdminFailure::ForNow);
    }

    #[tokio::test(start_paused = true)]
    async fn a_persistent_400_marks_the_admin_chat_refused() {
        let bad = || {
            Err(RequestError::Api(ApiError::Unknown(
                "Bad Request: PEER_ID_INVALID".into(),
            )))
        };
        let api = Scripted {
            answers: std::sync::Mutex::new([bad()].into()),
            ..Scripted::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let alerts = alerts(api).with_store(store.clone());
        alerts
            .keep_with("one", |a, t| store.queue_alert(a, t))
            .unwrap();
        alerts.send_stored(&store).await.unwrap();
        let health = alerts.health().unwrap();
        assert_eq!(health.pending, 0);
        assert_eq!(health.refused.len(), 1, "{health:?}");
        assert!(!health.ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_chat_that_refuses_for_good_drops_its_alerts_and_says_so() {
        let api = Scripted {
            answers: std::sync::Mutex::new([Err(RequestError::Api(ApiError::BotBlocked))].into()),
            ..Scripted::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let alerts = alerts(api).with_store(store.clone());
        alerts
            .keep_with("one", |a, t| store.queue_alert(a, t))
            .unwrap();
        alerts
            .keep_with("two", |a, t| store.queue_alert(a, t))
            .unwrap();
        alerts.send_stored(&store).await.unwrap();
        let health = alerts.health().unwrap();
        assert_eq!(health.pending, 0);
        assert_eq!(health.refused.len(), 1);
        assert!(!health.ok());
        // A message accepted later clears it.
        alerts
            .keep_with("three", |a, t| store.queue_alert(a, t))
            .unwrap();
        alerts.send_stored(&store).await.unwrap();
        assert!(alerts.health().unwrap().ok());
    }

    /// An alert decided by `tell_soon` is on disk at once, not at sled's next timed flush: what
    /// decided it (a task that ended, a config warning) happens once, so a `kill -9` in between
    /// lost it for good. The database's files are copied while it is open (what a kill leaves
    /// on disk) and the copy is read; sled's timer is off, so only herald's own flush counts.
    #[tokio::test(flavor = "multi_thread")]
    async fn an_alert_told_soon_is_on_disk_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_flushed_on_demand(dir.path()).unwrap();
        let alerts = Arc::new(alerts(Scripted::default()).with_store(store.clone()));
        alerts.tell_soon("⚠️ herald: the poller ended; restarting it".into());
        assert_eq!(store.pending_alert_count(), 1);
        // The flush runs in a task of its own: a copy taken during it may not open yet.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let copy = tempfile::tempdir().unwrap();
            copy_tree(dir.path(), copy.path());
            let on_disk = Store::open(copy.path(), 1 << 20).map(|s| s.pending_alert_count());
            if matches!(on_disk, Ok(1)) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the alert is not on disk: {on_disk:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Copies the folder `from` (files and folders) into `to`.
    fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                std::fs::create_dir_all(&target).unwrap();
                copy_tree(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
}
