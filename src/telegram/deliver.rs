//! The outbox workers: one task per channel takes the oldest queued delivery, sends it (or edits
//! the post) through teloxide within Telegram's limits, and takes it off the queue only with
//! Telegram's `message_id` recorded. A slow or broken channel never delays another.

use super::Token;
use super::admin::Alerts;
use super::digest;
use super::format::{self, Method, Post};
use super::limits::{ChatLimits, GlobalLimit, acquire};
use crate::app::LiveConfig;
use crate::config::{Channel, ChatRef, Source};
use crate::model::Item;
use crate::store::{ChannelState, Delivery, DeliveryKind, PostRecord, Queued, Store, StoreError};
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use teloxide::payloads::{
    EditMessageCaptionSetters, EditMessageReplyMarkupSetters, EditMessageTextSetters,
    SendMessageSetters, SendPhotoSetters,
};
use teloxide::prelude::Requester;
use teloxide::types::{
    ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, LinkPreviewOptions, MessageId,
    ParseMode, Recipient,
};
use teloxide::{ApiError, Bot, RequestError};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How long a blocked channel (kicked, not an admin, chat not found) waits before one more try:
/// the fix (adding the bot back) happens in Telegram, where herald cannot see it.
const BLOCKED_RETRY: Duration = Duration::from_secs(300);
/// Backoff after a failed send: doubles from the first value up to the cap. The cap is a minute
/// so that posts flow again within a minute of the Bot API coming back from a long outage.
const BACKOFF_FIRST: Duration = Duration::from_secs(2);
const BACKOFF_CAP: Duration = Duration::from_secs(60);
/// How often a worker looks again for disk space when the data folder is nearly full.
const DISK_RETRY: Duration = Duration::from_secs(10);
/// How often an idle worker looks at its queue without being woken.
const IDLE_CHECK: Duration = Duration::from_secs(2);

/// What a Telegram failure means for the delivery; the one place where errors become actions.
#[derive(Debug, PartialEq)]
pub enum Failure {
    /// 429: wait `retry_after`, then send the same message again.
    RetryAfter(Duration),
    /// The group became a supergroup with this id: send there from now on.
    Migrated(i64),
    /// Telegram could not use the photo URL: send the post as text instead.
    PhotoRefused,
    /// "can't parse entities": a bug in our formatter; send as plain text.
    BadMarkup(String),
    /// The bot cannot post to this chat until an admin fixes it.
    Blocked(String),
    /// "message is not modified" (the edit is already there) or "message to edit not found"
    /// (an admin deleted the post): nothing more to do, and never a reason to post again.
    EditMoot,
    /// No answer (timeout, connection lost): Telegram may have accepted it. Retry with backoff.
    Uncertain(String),
    /// Refused with an answer (5xx, other 4xx): not accepted. Retry with backoff.
    Refused(String),
}

/// A request error as text without the request's URL (which holds the token).
pub fn describe(e: &RequestError) -> String {
    match e {
        RequestError::Network(e) => network_error(e),
        other => other.to_string(),
    }
}

pub fn classify(e: &RequestError) -> Failure {
    match e {
        RequestError::RetryAfter(s) => Failure::RetryAfter(s.duration()),
        RequestError::MigrateToChatId(id) => Failure::Migrated(id.0),
        RequestError::Network(e) => Failure::Uncertain(network_error(e)),
        RequestError::Io(e) => Failure::Uncertain(e.to_string()),
        RequestError::InvalidJson { raw, .. } => {
            let raw: String = raw.chars().take(200).collect();
            Failure::Uncertain(format!("unreadable answer: {raw}"))
        }
        RequestError::Api(api) => classify_api(api),
    }
}

/// reqwest's own message names the URL, and a Bot API URL holds the token: describe the failure
/// from its kind and causes instead, so the token never reaches a log, `/healthz` or an alert.
fn network_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "network error"
    };
    let mut msg = kind.to_owned();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        msg.push_str(": ");
        msg.push_str(&inner.to_string());
        source = inner.source();
    }
    msg
}

fn classify_api(e: &ApiError) -> Failure {
    match e {
        ApiError::CantParseEntities(text) => Failure::BadMarkup(text.clone()),
        ApiError::WrongFileIdOrUrl
        | ApiError::FailedToGetUrlContent
        | ApiError::ImageProcessFailed
        | ApiError::WrongHttpUrl
        | ApiError::RequestEntityTooLarge => Failure::PhotoRefused,
        ApiError::BotKicked
        | ApiError::BotKickedFromSupergroup
        | ApiError::BotKickedFromChannel
        | ApiError::BotBlocked
        | ApiError::ChatNotFound
        | ApiError::NotEnoughRightsToPostMessages
        | ApiError::GroupDeactivated
        | ApiError::UserDeactivated
        | ApiError::CantInitiateConversation
        | ApiError::InvalidToken => Failure::Blocked(e.to_string()),
        ApiError::MessageNotModified
        | ApiError::MessageToEditNotFound
        | ApiError::MessageCantBeEdited => Failure::EditMoot,
        ApiError::Unknown(text) if text.contains("wrong type of the web page content") => {
            Failure::PhotoRefused
        }
        ApiError::Unknown(text) if text.contains("message to edit not found") => Failure::EditMoot,
        _ => Failure::Refused(e.to_string()),
    }
}

/// Builds the bot: the token from the environment, the API base from the config, teloxide's
/// usual client settings with the request timeout given (teloxide's default is 17 s).
pub fn bot(token: &Token, api_url: &url::Url, timeout: Duration) -> Bot {
    let client = teloxide::net::default_reqwest_settings()
        .timeout(timeout)
        .build()
        .unwrap_or_default();
    Bot::with_client(token.expose(), client).set_api_url(api_url.clone())
}

/// What the workers share.
pub struct Deliverer {
    pub bot: Bot,
    pub store: Store,
    pub config: Arc<LiveConfig>,
    pub global: Arc<GlobalLimit>,
    /// Woken when a poll queued something.
    pub wake: Arc<Notify>,
    /// Tells the admins when a channel becomes blocked and when it works again.
    pub alerts: Option<Arc<Alerts>>,
    /// Cancelled when the database can no longer write: herald stops so that a restart
    /// reopens it.
    pub broken_store: CancellationToken,
}

/// How many message ids after the last known one may hold an unanswered post.
const PROBE_IDS: i32 = 3;

enum Probe {
    Found(i32),
    Absent,
    Failed(Failure),
}

enum Next {
    /// Done with this delivery; take the next one now.
    Now,
    /// Try again after this long.
    After(Duration),
}

impl Deliverer {
    /// Delivers `channel`'s queue, oldest first, until `stop`.
    pub async fn run_channel(self: Arc<Self>, channel: Channel, stop: CancellationToken) {
        let config = self.config.get();
        let tg = &config.telegram;
        let recent = match self.store.channel_state(&channel.id) {
            Ok(state) => state.recent_calls,
            Err(_) => Vec::new(),
        };
        let mut limits = ChatLimits::new(tg.per_chat_per_second, tg.per_chat_per_minute, &recent);
        let mut backoff = BACKOFF_FIRST;
        while !stop.is_cancelled() {
            let paused = self
                .store
                .channel_state(&channel.id)
                .is_ok_and(|s| s.paused);
            let holding = channel.quiet.as_ref().is_some_and(|q| q.holds(Utc::now()));
            // A delivery whose source is not in the config (removed, maybe for a moment) waits
            // in its place; the rest of the queue goes on. Only `herald prune` deletes it.
            let config = self.config.get();
            let configured = |d: &Delivery| config.source(&d.item.source).is_some();
            let next = if paused {
                Ok(None)
            } else if holding {
                // Silent hours with `quiet = "hold"`: posts wait for the window's end; a
                // correction still edits its post at once.
                self.store.next_delivery_where(&channel.id, |d| {
                    d.kind == DeliveryKind::Edit && configured(d)
                })
            } else {
                self.store.next_delivery_where(&channel.id, configured)
            };
            let room = self
                .store
                .ensure_room(self.config.get().general.min_free_bytes);
            let wait = match next {
                // A post is sent only once its in-flight mark is stored: no room, no post.
                Ok(Some(_)) if room.is_err() => {
                    if let Err(e) = room {
                        tracing::warn!(channel = %channel.id, error = %e, "posts wait for disk space");
                    }
                    DISK_RETRY
                }
                Ok(Some(mut queued)) => {
                    match self.deliver(&channel, &mut limits, &mut queued).await {
                        Ok(Next::Now) => {
                            backoff = BACKOFF_FIRST;
                            continue;
                        }
                        Ok(Next::After(d)) if d == BLOCKED_RETRY => d,
                        Ok(Next::After(_)) => {
                            let d = backoff;
                            backoff = (backoff * 2).min(BACKOFF_CAP);
                            d
                        }
                        Err(e) => {
                            tracing::error!(channel = %channel.id, error = %e, "outbox unavailable");
                            if Store::is_broken(&e) {
                                self.broken_store.cancel();
                            }
                            BACKOFF_FIRST
                        }
                    }
                }
                Ok(None) => IDLE_CHECK,
                Err(e) => {
                    tracing::error!(channel = %channel.id, error = %e, "outbox unavailable");
                    BACKOFF_FIRST
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn deliver(
        &self,
        channel: &Channel,
        limits: &mut ChatLimits,
        queued: &mut Queued,
    ) -> Result<Next, StoreError> {
        let snapshot = &queued.delivery.item;
        // The newest stored version: a correction made while the post waited goes out with it.
        let item = self
            .store
            .item(&snapshot.source, &snapshot.id)?
            .unwrap_or_else(|| snapshot.clone());
        let config = self.config.get();
        let Some(source) = config.source(&item.source) else {
            // Removed from the config since it was picked: it waits (see `run_channel`).
            tracing::info!(channel = %channel.id, source = %item.source, "source not in the config; its queued post waits");
            return Ok(Next::Now);
        };
        match queued.delivery.kind {
            DeliveryKind::Post => self.post(channel, source, &item, limits, queued).await,
            DeliveryKind::Edit => self.edit(channel, source, &item, limits, queued).await,
            DeliveryKind::Digest => self.digest(channel, source, limits, queued).await,
        }
    }

    async fn post(
        &self,
        channel: &Channel,
        source: &Source,
        item: &Item,
        limits: &mut ChatLimits,
        queued: &mut Queued,
    ) -> Result<Next, StoreError> {
        let mut state = self.store.channel_state(&channel.id)?;
        let chat = recipient(&channel.chat, state.migrated_to);
        let mut post = self.format(item, source, channel, true)?;
        if queued.delivery.in_flight {
            // The last attempt got no answer (a lost connection, or herald died mid-send): find
            // out whether Telegram has the post before sending it again.
            let last = self.store.last_message_id(&channel.id)?;
            match self.find_unanswered(&chat, &post, last, limits).await {
                Probe::Found(message_id) => {
                    tracing::info!(channel = %channel.id, item = %item.id, message_id, "an unanswered post had arrived; not sending it again");
                    let record = sent_record(&chat, message_id, &post);
                    self.store
                        .complete_post(&channel.id, queued, record)
                        .await?;
                    self.succeeded(&channel.id, &mut state, limits)?;
                    return Ok(Next::Now);
                }
                Probe::Absent => {}
                Probe::Failed(failure) => return self.failed(channel, &mut state, limits, failure),
            }
        }
        let mut plain = false;
        loop {
            if !self
                .begin_send(&channel.id, &mut state, limits, queued)
                .await?
            {
                return Ok(Next::Now);
            }
            let silent = channel
                .quiet
                .as_ref()
                .is_some_and(|q| q.silences(Utc::now()));
            let sent = send(&self.bot, chat.clone(), &post, plain, silent).await;
            let failure = match sent {
                Ok(message) => {
                    let record = sent_record(&chat, message.id.0, &post);
                    self.store
                        .complete_post(&channel.id, queued, record)
                        .await?;
                    if queued.delivery.uncertain_sends > 0 {
                        tracing::warn!(channel = %channel.id, item = %item.id, uncertain = queued.delivery.uncertain_sends, "posted after an unanswered attempt: a duplicate is possible");
                    }
                    metrics::counter!("herald_telegram_sent_total", "channel" => channel.id.clone()).increment(1);
                    tracing::info!(
                        channel = %channel.id,
                        source = %item.source,
                        item = %item.id,
                        method = post.method.name(),
                        message_id = message.id.0,
                        queued_secs = (Utc::now() - queued.delivery.enqueued).num_seconds(),
                        "posted"
                    );
                    self.succeeded(&channel.id, &mut state, limits)?;
                    return Ok(Next::Now);
                }
                Err(e) => classify(&e),
            };
            if !matches!(failure, Failure::Uncertain(_)) {
                self.store.mark_not_sent(queued)?;
            }
            match failure {
                Failure::PhotoRefused if post.method == Method::SendPhoto => {
                    tracing::warn!(channel = %channel.id, photo = ?post.photo, "Telegram refused the photo; posting as text");
                    post = self.format(item, source, channel, false)?;
                }
                Failure::BadMarkup(reason) if !plain => {
                    tracing::error!(channel = %channel.id, %reason, html = %post.html, "Telegram could not parse our HTML (a formatter bug); posting as plain text");
                    plain = true;
                }
                other => return self.failed(channel, &mut state, limits, other),
            }
        }
    }

    /// Sends the next message of a digest (the first one Telegram has not accepted yet); an
    /// accepted message records its items as delivered, with the digest's progress, in one
    /// step. A message whose send went unanswered is sent again: a digest has no keyboard
    /// to look for it by (see `find_unanswered`), so a duplicate is possible after a crash.
    async fn digest(
        &self,
        channel: &Channel,
        source: &Source,
        limits: &mut ChatLimits,
        queued: &mut Queued,
    ) -> Result<Next, StoreError> {
        let items = queued.delivery.items.clone();
        let parts = digest::digest_parts(&items, source);
        let mut state = self.store.channel_state(&channel.id)?;
        let chat = recipient(&channel.chat, state.migrated_to);
        // One message per call: the worker comes back for the next one, so a stop, a pause or
        // a hold window that begins falls between two messages of a digest.
        if let Some(part) = parts.get(queued.delivery.parts_done as usize) {
            if queued.delivery.in_flight {
                tracing::warn!(channel = %channel.id, part = queued.delivery.parts_done + 1, "a digest message went unanswered; sending it again (a duplicate is possible)");
            }
            let mut plain = false;
            loop {
                if !self
                    .begin_send(&channel.id, &mut state, limits, queued)
                    .await?
                {
                    return Ok(Next::Now);
                }
                let text = if plain {
                    format::decode(&part.html)
                } else {
                    part.html.clone()
                };
                let silent = channel
                    .quiet
                    .as_ref()
                    .is_some_and(|q| q.silences(Utc::now()));
                let mut req = self
                    .bot
                    .send_message(chat.clone(), text)
                    .link_preview_options(no_preview());
                if silent {
                    req = req.disable_notification(true);
                }
                if !plain {
                    req = req.parse_mode(ParseMode::Html);
                }
                let failure = match req.await {
                    Ok(message) => {
                        let record = PostRecord::Digest {
                            chat: chat_text(&chat),
                            message_id: message.id.0,
                            at: Utc::now(),
                        };
                        let last = part.items.end == items.len();
                        let listed = &items[part.items.clone()];
                        self.store
                            .complete_digest_part(&channel.id, queued, listed, record, last)
                            .await?;
                        metrics::counter!("herald_telegram_sent_total", "channel" => channel.id.clone()).increment(1);
                        tracing::info!(
                            channel = %channel.id,
                            source = %source.id,
                            items = listed.len(),
                            part = queued.delivery.parts_done,
                            parts = parts.len(),
                            message_id = message.id.0,
                            "digest sent"
                        );
                        self.succeeded(&channel.id, &mut state, limits)?;
                        break;
                    }
                    Err(e) => classify(&e),
                };
                if !matches!(failure, Failure::Uncertain(_)) {
                    self.store.mark_not_sent(queued)?;
                }
                match failure {
                    Failure::BadMarkup(reason) if !plain => {
                        tracing::error!(channel = %channel.id, %reason, "Telegram could not parse the digest's HTML (a formatter bug); sending it as plain text");
                        plain = true;
                    }
                    other => return self.failed(channel, &mut state, limits, other),
                }
            }
        } else {
            // Nothing left to send (an empty digest, or a split that no longer has this part).
            self.store.complete(queued).await?;
        }
        Ok(Next::Now)
    }

    /// Waits for the chat's and the global turn, then marks the delivery in flight. The call's
    /// time is written with the in-flight mark (one flush), so a restarted herald knows how many
    /// calls this chat had in the last minute. Answers false, and marks nothing, when the channel
    /// was paused meanwhile (an admin's `/pause` may land while the worker waits for its turn).
    async fn begin_send(
        &self,
        channel: &str,
        state: &mut ChannelState,
        limits: &mut ChatLimits,
        queued: &mut Queued,
    ) -> Result<bool, StoreError> {
        acquire(limits, &self.global).await;
        state.recent_calls = limits.recent();
        self.save_state(channel, state)?;
        if state.paused {
            tracing::info!(channel, "paused while waiting for its turn; nothing sent");
            return Ok(false);
        }
        self.store.mark_in_flight(queued).await?;
        Ok(true)
    }

    /// Writes the worker's view of the channel's state, keeping `paused` as stored (it is the
    /// admins' field), and brings the worker's copy up to date with it.
    fn save_state(&self, channel: &str, state: &mut ChannelState) -> Result<(), StoreError> {
        let stored = self.store.update_channel_state(channel, |current| {
            let paused = current.paused;
            *current = state.clone();
            current.paused = paused;
        })?;
        state.paused = stored.paused;
        Ok(())
    }

    /// The post of `item` for `channel`, with a button per known translation: every post and
    /// edit is made here, so a correction's edit keeps the language buttons.
    fn format(
        &self,
        item: &Item,
        source: &Source,
        channel: &Channel,
        allow_photo: bool,
    ) -> Result<Post, StoreError> {
        let mut post = format::format_post_for(item, source, channel, allow_photo);
        post.languages =
            format::language_buttons(&self.store.translations(&item.source, &item.id)?);
        Ok(post)
    }

    /// Looks for a post whose send went unanswered. Bots cannot read a channel's history, but
    /// they can edit their own messages: re-applying the post's own keyboard to the ids just
    /// after the last one herald knows answers "not modified" exactly where that post is, and
    /// changes nothing anywhere (another poster's message "can't be edited", a missing one is
    /// "not found").
    async fn find_unanswered(
        &self,
        chat: &Recipient,
        post: &Post,
        last_known: Option<i32>,
        limits: &mut ChatLimits,
    ) -> Probe {
        // Only ids after every post herald has recorded: none of those can be another of our
        // posts, so re-applying this keyboard there cannot change one.
        let first = last_known.map_or(1, |id| id + 1);
        for id in first..first + PROBE_IDS {
            acquire(limits, &self.global).await;
            let answer = self
                .bot
                .edit_message_reply_markup(chat.clone(), MessageId(id))
                .reply_markup(keyboard(post))
                .await;
            match answer {
                // A bot can only edit its own messages, and this one now carries this post's
                // keyboard: it is the post.
                Ok(_) => return Probe::Found(id),
                Err(RequestError::Api(ApiError::MessageNotModified)) => return Probe::Found(id),
                Err(RequestError::Api(
                    ApiError::MessageToEditNotFound | ApiError::MessageCantBeEdited,
                )) => continue,
                Err(e) => match classify(&e) {
                    Failure::EditMoot | Failure::Refused(_) | Failure::BadMarkup(_) => continue,
                    other => return Probe::Failed(other),
                },
            }
        }
        Probe::Absent
    }

    async fn edit(
        &self,
        channel: &Channel,
        source: &Source,
        item: &Item,
        limits: &mut ChatLimits,
        queued: &mut Queued,
    ) -> Result<Next, StoreError> {
        let Some(PostRecord::Sent {
            chat,
            message_id,
            photo,
            ..
        }) = self
            .store
            .post_record(&channel.id, &item.source, &item.id)?
        else {
            // Never posted here (before the channel's backfill) or still queued: the queued post
            // reads the corrected item when it goes out.
            self.store.complete(queued).await?;
            return Ok(Next::Now);
        };
        let mut state = self.store.channel_state(&channel.id)?;
        let chat = match state.migrated_to {
            Some(id) => Recipient::Id(ChatId(id)),
            None => recipient_from_text(&chat),
        };
        let post = self.format(item, source, channel, photo)?;
        let mut plain = false;
        loop {
            acquire(limits, &self.global).await;
            let failure =
                match edit(&self.bot, chat.clone(), MessageId(message_id), &post, plain).await {
                    Ok(()) => Failure::EditMoot,
                    Err(e) => classify(&e),
                };
            match failure {
                Failure::EditMoot => {
                    tracing::info!(channel = %channel.id, item = %item.id, message_id, "post edited");
                    self.store.complete(queued).await?;
                    self.succeeded(&channel.id, &mut state, limits)?;
                    return Ok(Next::Now);
                }
                Failure::BadMarkup(reason) if !plain => {
                    tracing::error!(channel = %channel.id, %reason, html = %post.html, "Telegram could not parse our HTML (a formatter bug); editing as plain text");
                    plain = true;
                }
                other => return self.failed(channel, &mut state, limits, other),
            }
        }
    }

    fn succeeded(
        &self,
        channel: &str,
        state: &mut ChannelState,
        limits: &ChatLimits,
    ) -> Result<(), StoreError> {
        if state.blocked.is_some() {
            tracing::info!(channel, "channel works again");
            self.alert(format!("✅ herald: channel {channel} works again."));
        }
        state.recent_calls = limits.recent();
        state.blocked = None;
        state.last_success = Some(Utc::now());
        self.save_state(channel, state)
    }

    /// Records a failure and says when to try the same delivery again.
    fn failed(
        &self,
        channel: &Channel,
        state: &mut ChannelState,
        limits: &mut ChatLimits,
        failure: Failure,
    ) -> Result<Next, StoreError> {
        let id = channel.id.clone();
        state.recent_calls = limits.recent();
        metrics::counter!("herald_telegram_errors_total", "channel" => id.clone()).increment(1);
        let next = match &failure {
            Failure::RetryAfter(d) => {
                metrics::counter!("herald_telegram_429_total", "channel" => id.clone())
                    .increment(1);
                tracing::warn!(channel = %id, retry_after = ?d, "Telegram asked to slow down");
                limits.hold(*d);
                return Ok(Next::Now);
            }
            Failure::Migrated(new_id) => {
                tracing::warn!(channel = %id, new_id, "chat migrated; following it");
                state.migrated_to = Some(*new_id);
                Next::Now
            }
            Failure::Blocked(reason) => {
                if state.blocked.is_none() {
                    tracing::error!(channel = %id, %reason, "channel blocked: posts stay queued until the bot can post again");
                    self.alert(format!(
                        "⚠️ herald: channel {id} is blocked ({reason}). Its posts stay queued; herald tries again every {} minutes.",
                        BLOCKED_RETRY.as_secs() / 60
                    ));
                }
                state.blocked = Some(reason.clone());
                Next::After(BLOCKED_RETRY)
            }
            Failure::Uncertain(reason) | Failure::Refused(reason) => {
                tracing::warn!(channel = %id, %reason, "delivery failed; will retry");
                Next::After(BACKOFF_FIRST)
            }
            Failure::PhotoRefused | Failure::BadMarkup(_) | Failure::EditMoot => {
                tracing::warn!(channel = %id, ?failure, "delivery refused; will retry");
                Next::After(BACKOFF_FIRST)
            }
        };
        state.last_error = Some(match &failure {
            Failure::Blocked(r) | Failure::Uncertain(r) | Failure::Refused(r) => r.clone(),
            other => format!("{other:?}"),
        });
        state.last_error_at = Some(Utc::now());
        self.save_state(&id, state)?;
        Ok(next)
    }
}

impl Deliverer {
    /// Sends an admin alert without holding up the channel's queue.
    fn alert(&self, text: String) {
        if let Some(alerts) = self.alerts.clone() {
            tokio::spawn(async move { alerts.tell(&text).await });
        }
    }
}

/// Where an accepted post is, for later edits.
fn sent_record(chat: &Recipient, message_id: i32, post: &Post) -> PostRecord {
    PostRecord::Sent {
        chat: chat_text(chat),
        message_id,
        photo: post.method == Method::SendPhoto,
        at: Utc::now(),
    }
}

fn recipient(chat: &ChatRef, migrated_to: Option<i64>) -> Recipient {
    match (migrated_to, chat) {
        (Some(id), _) => Recipient::Id(ChatId(id)),
        (None, ChatRef::Id(id)) => Recipient::Id(ChatId(*id)),
        (None, ChatRef::Username(name)) => Recipient::ChannelUsername(name.clone()),
    }
}

fn chat_text(r: &Recipient) -> String {
    match r {
        Recipient::Id(id) => id.0.to_string(),
        Recipient::ChannelUsername(name) => name.clone(),
    }
}

fn recipient_from_text(text: &str) -> Recipient {
    match text.parse::<i64>() {
        Ok(id) => Recipient::Id(ChatId(id)),
        Err(_) => Recipient::ChannelUsername(text.to_owned()),
    }
}

/// The post's button rows (see `Post::keyboard`) as Telegram URL buttons.
fn keyboard(post: &Post) -> InlineKeyboardMarkup {
    let rows = post.keyboard().into_iter().map(|row| {
        row.iter()
            .filter_map(|b| {
                Some(InlineKeyboardButton::url(
                    b.label.clone(),
                    b.url.parse().ok()?,
                ))
            })
            .collect::<Vec<_>>()
    });
    InlineKeyboardMarkup::new(rows)
}

fn link_preview(post: &Post) -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: post.preview_url.is_none(),
        url: post.preview_url.clone(),
        prefer_small_media: false,
        prefer_large_media: true,
        show_above_text: false,
    }
}

/// A digest lists many links: no preview of any of them.
fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// Sends a post; `silent` during a channel's silent hours (Bot API `disable_notification`).
async fn send(
    bot: &Bot,
    chat: Recipient,
    post: &Post,
    plain: bool,
    silent: bool,
) -> Result<teloxide::types::Message, RequestError> {
    let text = if plain {
        format::plain_text(post)
    } else {
        post.html.clone()
    };
    match (post.method, &post.photo) {
        (Method::SendPhoto, Some(photo)) => {
            let url = photo
                .parse()
                .map_err(|_| RequestError::Api(ApiError::WrongFileIdOrUrl))?;
            let mut req = bot
                .send_photo(chat, InputFile::url(url))
                .caption(text)
                .reply_markup(keyboard(post));
            if silent {
                req = req.disable_notification(true);
            }
            if !plain {
                req = req.parse_mode(ParseMode::Html);
            }
            req.await
        }
        _ => {
            let mut req = bot
                .send_message(chat, text)
                .link_preview_options(link_preview(post))
                .reply_markup(keyboard(post));
            if silent {
                req = req.disable_notification(true);
            }
            if !plain {
                req = req.parse_mode(ParseMode::Html);
            }
            req.await
        }
    }
}

async fn edit(
    bot: &Bot,
    chat: Recipient,
    message_id: MessageId,
    post: &Post,
    plain: bool,
) -> Result<(), RequestError> {
    let text = if plain {
        format::plain_text(post)
    } else {
        post.html.clone()
    };
    if post.method == Method::SendPhoto {
        let mut req = bot
            .edit_message_caption(chat, message_id)
            .caption(text)
            .reply_markup(keyboard(post));
        if !plain {
            req = req.parse_mode(ParseMode::Html);
        }
        req.await.map(|_| ())
    } else {
        let mut req = bot
            .edit_message_text(chat, message_id, text)
            .link_preview_options(link_preview(post))
            .reply_markup(keyboard(post));
        if !plain {
            req = req.parse_mode(ParseMode::Html);
        }
        req.await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_map_to_actions() {
        assert_eq!(
            classify(&RequestError::RetryAfter(
                teloxide::types::Seconds::from_seconds(7)
            )),
            Failure::RetryAfter(Duration::from_secs(7))
        );
        assert_eq!(
            classify(&RequestError::MigrateToChatId(ChatId(-100123))),
            Failure::Migrated(-100123)
        );
        assert!(matches!(
            classify(&RequestError::Api(ApiError::BotKickedFromChannel)),
            Failure::Blocked(_)
        ));
        assert!(matches!(
            classify(&RequestError::Api(ApiError::ChatNotFound)),
            Failure::Blocked(_)
        ));
        assert_eq!(
            classify(&RequestError::Api(ApiError::MessageToEditNotFound)),
            Failure::EditMoot
        );
        assert_eq!(
            classify(&RequestError::Api(ApiError::MessageNotModified)),
            Failure::EditMoot
        );
        assert!(matches!(
            classify(&RequestError::Api(ApiError::CantParseEntities("x".into()))),
            Failure::BadMarkup(_)
        ));
        assert_eq!(
            classify(&RequestError::Api(ApiError::Unknown(
                "Bad Request: wrong type of the web page content".into()
            ))),
            Failure::PhotoRefused
        );
        assert!(matches!(
            classify(&RequestError::Api(ApiError::Unknown(
                "Internal Server Error".into()
            ))),
            Failure::Refused(_)
        ));
    }
}
