//! The outbox workers: one task per channel takes the oldest queued delivery, sends it (or edits
//! the post) through teloxide within Telegram's limits, and takes it off the queue only with
//! Telegram's `message_id` recorded. A slow or broken channel never delays another.

use super::Token;
use super::admin::Alerts;
use super::api::{self, Accepted, TelegramApi};
use super::digest;
use super::format::{self, Method, Post};
use super::limits::{ChatLimits, GlobalLimit, acquire, answered};
use crate::config::LiveConfig;
use crate::config::{Channel, ChatRef, Source};
use crate::model::Item;
use crate::quiet::clock;
use crate::store::{
    ChannelState, ChatCalls, Delivery, DeliveryKind, DigestCopy, DigestMessage, DigestPartSent,
    LookBack, OwedRestore, PostRecord, Queued, SendMark, Store, StoreError,
};
use chrono::{DateTime, Utc};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;
use teloxide::types::{ChatId, Recipient};
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

/// What a failed Bot API call (a send, an edit, a search's probe) means for the delivery; the
/// one place where Telegram's errors become actions.
#[derive(Debug, PartialEq)]
pub enum SendError {
    /// 429: wait `retry_after`, then send the same message again.
    RetryAfter(Duration),
    /// The group became a supergroup with this id: send there from now on.
    Migrated(i64),
    /// Telegram could not use the photo (its URL, its size, its dimensions): send the post as
    /// text instead.
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
    /// The edit's method does not fit the message ("there is no caption / no text in the
    /// message to edit"): the message is a photo (`photo`) or a text, not what herald recorded.
    /// Edit it the other way.
    WrongEditKind { photo: bool },
    /// 400 Bad Request that no fallback handles: sent again, it is refused again. The delivery
    /// is set aside, for an admin to `/requeue`.
    Rejected(String),
    /// Refused with an answer (5xx, other 4xx): not accepted. Retry with backoff.
    Refused(String),
    /// No connection could be made (refused, unreachable, a connect timeout): the request
    /// never left, so Telegram cannot have it. Retry with backoff; nothing to look for.
    Unreached(String),
}

/// A request error as text without the request's URL (which holds the token), nor the token
/// anywhere else (an error page may repeat its request's path).
pub fn describe(e: &RequestError) -> String {
    let text = match e {
        RequestError::Network(e) => network_error(e),
        other => other.to_string(),
    };
    crate::secret::redact(&text).into_owned()
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

impl SendError {
    /// What teloxide's error (the real Bot API's, or the simulation's) means for the delivery.
    pub fn from_request(e: &RequestError) -> SendError {
        match e {
            RequestError::RetryAfter(s) => SendError::RetryAfter(s.duration()),
            RequestError::MigrateToChatId(id) => SendError::Migrated(id.0),
            // No connection was made (refused, unreachable, a connect timeout): the request
            // never left, so Telegram cannot have it. Retried with backoff, nothing to look for.
            RequestError::Network(e) if e.is_connect() => SendError::Unreached(network_error(e)),
            RequestError::Network(e) => SendError::Uncertain(network_error(e)),
            RequestError::Io(e) => SendError::Uncertain(e.to_string()),
            RequestError::InvalidJson { raw, .. } => {
                let raw: String = raw.chars().take(200).collect();
                SendError::Uncertain(format!("unreadable answer: {raw}"))
            }
            RequestError::Api(api) => SendError::from_api(api),
        }
    }

    fn from_api(e: &ApiError) -> SendError {
        match e {
            ApiError::CantParseEntities(text) => SendError::BadMarkup(text.clone()),
            ApiError::WrongFileIdOrUrl
            | ApiError::FailedToGetUrlContent
            | ApiError::ImageProcessFailed
            | ApiError::WrongHttpUrl
            | ApiError::RequestEntityTooLarge => SendError::PhotoRefused,
            ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::BotBlocked
            | ApiError::ChatNotFound
            | ApiError::NotEnoughRightsToPostMessages
            | ApiError::GroupDeactivated
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::InvalidToken => SendError::Blocked(e.to_string()),
            ApiError::MessageNotModified
            | ApiError::MessageToEditNotFound
            | ApiError::MessageCantBeEdited
            | ApiError::MessageIdInvalid => SendError::EditMoot,
            // teloxide names only some of Telegram's answers; the rest arrive as their text.
            ApiError::Unknown(text) => SendError::from_text(text),
            // Every other answer teloxide names is a 400 ("Bad Request: message is too long",
            // "BUTTON_URL_INVALID", …) except a few that herald never calls for (webhooks,
            // getUpdates conflicts): retried like an unknown answer.
            other => {
                let text = other.to_string();
                if text.starts_with("Bad Request") {
                    SendError::Rejected(text)
                } else {
                    SendError::Refused(text)
                }
            }
        }
    }

    /// What an answer that teloxide does not name means. Photo refusals seen from Telegram:
    /// "PHOTO_INVALID_DIMENSIONS", "PHOTO_SAVE_FILE_INVALID", "WEBPAGE_CURL_FAILED",
    /// "WEBPAGE_MEDIA_EMPTY", "wrong type of the web page content", "not enough rights to send
    /// photos to the chat". A 5xx arrives here too ("Internal Server Error"): retried.
    fn from_text(text: &str) -> SendError {
        const PHOTO: [&str; 5] = [
            "PHOTO_",
            "WEBPAGE_",
            "IMAGE_PROCESS_FAILED",
            "wrong type of the web page content",
            "to send photos",
        ];
        const NO_RIGHTS: [&str; 4] = [
            "not enough rights",
            "have no rights",
            "CHAT_WRITE_FORBIDDEN",
            "CHAT_ADMIN_REQUIRED",
        ];
        if PHOTO.iter().any(|p| text.contains(p)) {
            SendError::PhotoRefused
        } else if text.contains("message to edit not found") {
            SendError::EditMoot
        } else if text.contains("there is no caption in the message to edit") {
            SendError::WrongEditKind { photo: false }
        } else if text.contains("there is no text in the message to edit") {
            SendError::WrongEditKind { photo: true }
        } else if NO_RIGHTS.iter().any(|p| text.contains(p)) || text.starts_with("Forbidden") {
            // Every post would be refused alike: the channel waits for an admin, as when kicked.
            SendError::Blocked(text.to_owned())
        } else if text.starts_with("Bad Request") {
            SendError::Rejected(text.to_owned())
        } else {
            SendError::Refused(text.to_owned())
        }
    }
    /// A failure that passes (a 429's hold, a 5xx, no answer, no connection, the bot blocked
    /// until an admin acts): the call is worth making again later.
    fn is_for_now(&self) -> bool {
        matches!(
            self,
            SendError::Uncertain(_)
                | SendError::Refused(_)
                | SendError::Unreached(_)
                | SendError::RetryAfter(_)
                | SendError::Blocked(_)
        )
    }

    /// The error in words, for `/healthz`, the logs and the admins.
    fn text(&self) -> String {
        match self {
            SendError::Blocked(r)
            | SendError::Uncertain(r)
            | SendError::Refused(r)
            | SendError::Unreached(r)
            | SendError::Rejected(r)
            | SendError::BadMarkup(r) => crate::secret::redact(r).into_owned(),
            SendError::RetryAfter(d) => {
                format!(
                    "Telegram asked to wait {} s (too many requests)",
                    d.as_secs()
                )
            }
            SendError::Migrated(id) => {
                format!("the group became a supergroup (id {id}); herald follows it")
            }
            SendError::PhotoRefused => "Telegram could not use the photo".into(),
            SendError::EditMoot => {
                "the message to edit is gone, cannot be edited, or already reads so".into()
            }
            SendError::WrongEditKind { photo: true } => {
                "the message to edit is a photo, not a text".into()
            }
            SendError::WrongEditKind { photo: false } => {
                "the message to edit is a text, not a photo".into()
            }
        }
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

/// What the workers share. `A` is the Bot API: teloxide's `Bot`, or the simulation's Telegram.
pub struct Deliverer<A: TelegramApi = Bot> {
    pub api: A,
    pub store: Store,
    pub config: Arc<LiveConfig>,
    pub global: Arc<GlobalLimit>,
    /// Woken when a poll queued something.
    pub wake: Arc<Notify>,
    /// Tells the admins when a channel becomes blocked and when it works again.
    pub alerts: Option<Arc<Alerts<A>>>,
    /// Cancelled when the database can no longer write: herald stops so that a restart
    /// reopens it.
    pub broken_store: CancellationToken,
    /// Notified when herald learns the numeric id of a chat written as `@name` (getChat, or an
    /// accepted send): the app builds the chat groups again, so that entries written either
    /// way join one worker.
    pub regroup: Arc<Notify>,
}

/// The channel entries that post to one Telegram chat (e.g. one template per language): one
/// worker sends for all of them, so they share the chat's rate limits, its last known message
/// id, and the rule that a send whose answer was lost is looked for before anything else goes
/// to the chat.
#[derive(Clone, Debug)]
pub struct ChatGroup {
    /// The chat's numeric id when known (`@name` resolved by getChat), else its `@name`.
    pub key: String,
    pub entries: Vec<Channel>,
    /// The `@name` (lower case) the group is written as, when herald could not learn its id
    /// while an entry of the config is written as a numeric id: that entry may be the same
    /// chat, served by another worker. The group's worker sends nothing until the id is known
    /// (see `await_chat_id`).
    pub unresolved: Option<String>,
}

impl ChatGroup {
    /// The chat as its entries write it (`@name` in lower case, or the id): the keys an earlier
    /// worker may have known it by, before the name was resolved or the group migrated.
    pub fn aliases(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|c| match &c.chat {
                ChatRef::Username(name) => name.to_lowercase(),
                ChatRef::Id(id) => id.to_string(),
            })
            .collect()
    }

    /// The worker's name: its entries' ids.
    pub fn name(&self) -> String {
        let ids: Vec<&str> = self.entries.iter().map(|c| c.id.as_str()).collect();
        ids.join("+")
    }
}

/// A search for a lost send ends, the send absent, after this many ids in a row past the
/// newest message herald knows in the chat answer "message to edit not found": message ids
/// are given in order, so a run of missing ids is the end of the chat (a few may be messages
/// deleted by an admin). Messages of other posters are there, and do not count.
const MISSES_TO_END: u32 = 10;
/// At most this many ids are looked at by one search: beyond, the outcome stays unknown (a
/// chat where others post that much between two posts of herald is not searched for ever).
const MAX_PROBES: u32 = 100;
/// How often a search puts back the buttons of a message it changed, waiting out each 429,
/// before it gives up for now (the restore stays owed, and is made before anything else).
const RESTORE_TRIES: u32 = 5;
/// How long a reload may wait for Telegram to name the chats of `@name` entries (getChat).
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the worker of an unresolved `@name` asks getChat again: from `BACKOFF_FIRST`,
/// doubling up to this.
const RESOLVE_RETRY_CAP: Duration = Duration::from_secs(300);

/// Where a search for a lost send looks.
#[derive(Clone, Copy)]
enum Direction<'a> {
    /// Upward, from the id after the newest one herald knows in the chat (None: it knows
    /// none, and cannot look).
    After(Option<i32>),
    /// Downward, from the id below `from` (a copy sent again) to the one above `floor` (the
    /// newest id herald knew before; None: to the chat's first id).
    /// `skip`: herald's own recorded messages there, stepped over.
    Below {
        from: i32,
        floor: Option<i32>,
        skip: &'a [i32],
    },
}

enum Probe {
    Found(i32),
    Absent,
    /// Nothing tells whether the send arrived: herald knows no message id in the chat (no
    /// search may start there without changing messages it cannot put back), or the search
    /// met no end within `MAX_PROBES` ids. Why, in words.
    Unknown(String),
    Failed(SendError),
    /// The worker was told to stop before it could look.
    Stopped,
    /// Below a copy sent again: the message at this id took the keyboard as a change. It is
    /// left as it is now (with the keyboard) for the caller, who knows what it may have had.
    Took(i32),
    /// The message at this id has the sought buttons ("not modified"), but a probe of
    /// herald's that set them there went unanswered (no answer, a 5xx, a stop or a kill during
    /// the call): they may be herald's doing, so whether it is the post is unknown. Never taken
    /// for the post: upward, the send is not known to have arrived (it goes out again, and the
    /// look below the copy sent again meets this id); downward, it is a message of unknown
    /// buttons, reported.
    Unsure(i32),
}

/// What a search for an unanswered send looks for (see `find_unanswered`).
#[derive(Clone, Copy)]
enum Sought<'a> {
    /// A post, by its keyboard's rows of (label, URL).
    Post(&'a [Vec<(String, String)>]),
    /// A digest message sent by a version before digest messages had a button of their own:
    /// the one message of ours without a keyboard.
    Digest,
}

/// What a chat's worker does next.
enum Work<'g> {
    /// Put back the buttons of a message that a search changed (see `OwedRestore`).
    Restore(OwedRestore),
    /// Look below a post sent again for its earlier copy (see `look_back`).
    LookBack(LookBack),
    /// Look for the message of a send whose answer was lost (of the channel entry `channel`,
    /// which may have left the config).
    Search {
        channel: String,
        queued: Queued,
        mark: Box<SendMark>,
    },
    /// Send (or edit) this delivery of this entry.
    Deliver {
        channel: &'g Channel,
        queued: Queued,
    },
}

impl Work<'_> {
    /// The id of the channel entry the work is for.
    fn channel(&self) -> &str {
        match self {
            Work::Restore(owed) => &owed.chat_key,
            Work::LookBack(look) => &look.channel,
            Work::Search { channel, .. } => channel,
            Work::Deliver { channel, .. } => &channel.id,
        }
    }
}

/// What the chat's worker does after a piece of work.
enum Next {
    /// Done with this delivery (or nothing to do now): take the next one at once.
    Now,
    /// Not done, but its next step follows at once (a send whose search could not be made
    /// goes out again): the backoff is not reset, as Telegram answered nothing.
    Again,
    /// Not done (no answer, a 5xx, a search that could not look): try again after the worker's
    /// backoff, which doubles with each such failure in a row.
    Backoff,
    /// The bot cannot post to the chat: try again after `BLOCKED_RETRY`.
    Blocked,
    /// Telegram refused it for good, for this reason: set it aside and go on with the queue.
    SetAside(String),
}

/// What a delivery is made for: the channel entry and its chat, the source, the item (the
/// newest stored version; a digest's first).
#[derive(Clone, Copy)]
struct Target<'a> {
    channel: &'a Channel,
    group: &'a ChatGroup,
    source: &'a Source,
    item: &'a Item,
}

/// A copy of a post in its chat that herald records the post at: where it is, and what it
/// was sent with.
struct CopyAt<'a> {
    chat_key: &'a str,
    chat: String,
    chat_id: Option<i64>,
    message_id: i32,
    keyboard: Vec<Vec<(String, String)>>,
    photo: bool,
}

/// One Bot API call's worth of a delivery: the kinds of work a chat's worker does, each with
/// what it needs for its call. `deliver` does for all of them alike what they share (wait for
/// the chat's turn, call, read Telegram's answer, fall back or fail); the methods below that
/// `match` on it hold what differs: how it is prepared (`job`), marked (`Job::mark`), called and
/// recorded (`attempt`), and which fallbacks it has (`fall_back`).
enum Job {
    /// A new post, to the channel's chat.
    Post { chat: Recipient, post: Post },
    /// The next message of a digest, to the channel's chat: it lists `listed`, the last of the
    /// digest's items when `last`; `parts` is how many messages the digest has in all.
    DigestPart {
        chat: Recipient,
        part: digest::DigestPart,
        listed: Vec<Item>,
        last: bool,
        parts: usize,
    },
    /// A correction: the edit of the post `message_id` in the chat it was sent to (message ids
    /// are per chat), made `at`. `found_photo` says whether the message is a photo once Telegram
    /// said it is not what the record says.
    Edit {
        chat: Recipient,
        /// The chat and its id as the post's record names them, for the record written again.
        record_chat: String,
        chat_id: Option<i64>,
        message_id: i32,
        at: DateTime<Utc>,
        post: Post,
        found_photo: Option<bool>,
    },
    /// A correction of a release listed in a digest: the edit of the digest message
    /// `message_id` in the chat it was sent to, to read as `message` (its lines rewritten).
    DigestEdit {
        chat: Recipient,
        /// The chat as the digest's record names it: where its text is kept.
        record_chat: String,
        message_id: i32,
        message: DigestMessage,
    },
}

impl Job {
    /// What the send is, stored with its in-flight mark so that a search for it after a lost
    /// answer needs nothing from the config. An edit is never marked: made twice, it changes
    /// nothing, so a lost answer needs no search.
    fn mark(&self, group: &ChatGroup) -> Option<SendMark> {
        match self {
            Job::Post { chat, post } => Some(SendMark {
                chat_key: group.key.clone(),
                chat: chat_text(chat),
                keyboard: Some(api::rows(post)),
                photo: post.method == Method::SendPhoto,
                digest_items: None,
                digest_text: None,
                chat_id: None,
                floor: None,
            }),
            Job::DigestPart { chat, part, .. } => Some(SendMark {
                chat_key: group.key.clone(),
                chat: chat_text(chat),
                keyboard: Some(part.text.keyboard.clone()),
                photo: false,
                digest_items: Some((part.items.start, part.items.end)),
                digest_text: Some(part.text.clone()),
                chat_id: None,
                floor: None,
            }),
            Job::Edit { .. } | Job::DigestEdit { .. } => None,
        }
    }
}

/// How one call went.
enum Called {
    /// Telegram has the message, or the edit (or has nothing to change): recorded.
    Done,
    /// Telegram refused it, or gave no answer.
    Failed(SendError),
}

impl<A: TelegramApi> Deliverer<A> {
    /// Groups the channel entries by the chat they post to. An entry written as `@name` and one
    /// written as the chat's numeric id are the same chat: the name is resolved by getChat (once;
    /// the answer is stored), only when both forms are in the config. A chat that migrated is
    /// known by its new id.
    ///
    /// Two workers never serve one chat: they would break its rate limits, and each would take
    /// the other's send in flight for a lost one and search the chat for it, changing the
    /// other's posts. So a name left unresolved (Telegram unreachable within `RESOLVE_TIMEOUT`,
    /// or getChat refused) while an entry is written as an id makes a group marked
    /// `unresolved`: its worker sends nothing (no post, no edit, no search) and asks getChat
    /// again in the background; once the id is known it asks the app to group again
    /// (`regroup`), which stops it and the worker of the id (awaited) before one worker starts
    /// for the chat. Its entries' posts wait meanwhile, and `/healthz` says why.
    pub async fn chat_groups(&self, channels: &[Channel]) -> Vec<ChatGroup> {
        let mixed = channels.iter().any(|c| matches!(c.chat, ChatRef::Id(_)))
            && channels
                .iter()
                .any(|c| matches!(c.chat, ChatRef::Username(_)));
        let deadline = tokio::time::Instant::now() + RESOLVE_TIMEOUT;
        let mut groups: Vec<ChatGroup> = Vec::new();
        for channel in channels {
            let migrated = self
                .store
                .channel_state(&channel.id)
                .ok()
                .and_then(|s| s.migrated_to);
            let (key, unresolved) = match (migrated, &channel.chat) {
                (Some(id), _) | (None, &ChatRef::Id(id)) => (id.to_string(), None),
                (None, ChatRef::Username(name)) => {
                    match self.resolve(name, mixed.then_some(deadline)).await {
                        Ok(id) => (id.to_string(), None),
                        // Only the other form in the config can be the same chat, and only
                        // while Telegram may yet name it: a name it refuses for good ("chat
                        // not found") names no chat, and its posts fail and are reported as
                        // any blocked chat's are.
                        Err(for_now) => (
                            name.to_lowercase(),
                            (mixed && for_now).then(|| name.to_lowercase()),
                        ),
                    }
                }
            };
            match groups.iter_mut().find(|g| g.key == key) {
                Some(group) => group.entries.push(channel.clone()),
                None => groups.push(ChatGroup {
                    key,
                    entries: vec![channel.clone()],
                    unresolved,
                }),
            }
        }
        groups
    }

    /// The numeric id of the chat `@name`: stored, or asked of Telegram before `deadline`.
    /// Else whether Telegram may name it later (`true`: no answer, a 5xx, a 429) or refused it
    /// for good (`false`: "chat not found", the bot kicked or the token refused; or not asked).
    async fn resolve(
        &self,
        name: &str,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<i64, bool> {
        if let Ok(Some(id)) = self.store.chat_id(name) {
            return Ok(id);
        }
        let deadline = deadline.ok_or(false)?;
        let asked = self
            .api
            .chat_id(Recipient::ChannelUsername(name.to_owned()));
        match tokio::time::timeout_at(deadline, asked).await {
            Ok(Ok(id)) => {
                if let Err(e) = self.store.set_chat_id(name, id) {
                    tracing::warn!(chat = name, error = %e, "could not store the chat's id");
                }
                Ok(id)
            }
            Ok(Err(e)) => {
                let for_now = !matches!(
                    SendError::from_request(&e),
                    SendError::Blocked(_) | SendError::Rejected(_)
                );
                if for_now {
                    tracing::warn!(chat = name, error = %describe(&e), "could not learn the chat's id; its entries wait until Telegram names it");
                } else {
                    tracing::warn!(chat = name, error = %describe(&e), "Telegram names no such chat; its entries post to it apart (and are reported when refused)");
                }
                Err(for_now)
            }
            Err(_) => {
                tracing::warn!(
                    chat = name,
                    "Telegram did not name the chat in time; its entries wait until it does"
                );
                Err(true)
            }
        }
    }

    /// The worker of an unresolved `@name` (see `chat_groups`): sends nothing, asks getChat
    /// until Telegram names the chat, then asks the app to group again (and again, later, if
    /// this worker is still running then: the id could not be stored, say) until `stop`.
    async fn await_chat_id(&self, group: &ChatGroup, name: &str, stop: &CancellationToken) {
        let mut wait = BACKOFF_FIRST;
        loop {
            let known = match self.store.chat_id(name) {
                Ok(Some(id)) => Some(id),
                _ => {
                    let asked = self
                        .api
                        .chat_id(Recipient::ChannelUsername(name.to_owned()));
                    let why = match tokio::time::timeout(RESOLVE_TIMEOUT, asked).await {
                        Ok(Ok(id)) => {
                            if let Err(e) = self.store.set_chat_id(name, id) {
                                tracing::warn!(chat = name, error = %e, "could not store the chat's id");
                            }
                            return self.regroup_after(id, name, stop).await;
                        }
                        // Refused for good ("chat not found", the bot kicked): the name names
                        // no chat the id's entries post to. Grouped again, it is a chat of its
                        // own (see `chat_groups`), whose posts are refused and reported blocked.
                        Ok(Err(e))
                            if matches!(
                                SendError::from_request(&e),
                                SendError::Blocked(_) | SendError::Rejected(_)
                            ) =>
                        {
                            tracing::warn!(chat = name, error = %describe(&e), "Telegram names no such chat; grouping its entries again, apart");
                            return self.ask_regroup(stop).await;
                        }
                        Ok(Err(e)) => describe(&e),
                        Err(_) => "no answer in time".to_owned(),
                    };
                    tracing::warn!(chat = name, error = %why, retry_in = ?wait, "Telegram does not name the chat yet; its posts wait");
                    let text = format!(
                        "the id of {name} is not known yet (getChat: {why}); its posts wait, so that one worker serves the chat"
                    );
                    for channel in &group.entries {
                        let noted = self.store.update_channel_state(&channel.id, |s| {
                            s.last_error = Some(text.clone());
                            s.last_error_at = Some(clock::now());
                        });
                        if let Err(e) = noted {
                            tracing::warn!(channel = %channel.id, error = %e, "cannot record the error");
                        }
                    }
                    None
                }
            };
            if let Some(id) = known {
                return self.regroup_after(id, name, stop).await;
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            wait = (wait * 2).min(RESOLVE_RETRY_CAP);
        }
    }

    /// Asks the app to group the chats again now that `name` is known as `id`, until `stop`
    /// (the app stops this worker when it does).
    async fn regroup_after(&self, id: i64, name: &str, stop: &CancellationToken) {
        tracing::info!(
            chat = name,
            id,
            "Telegram named the chat; grouping its entries again"
        );
        self.ask_regroup(stop).await;
    }

    /// Asks the app to group the chats again, and again after a doubling wait, until `stop`
    /// (the app stops this worker when it groups them).
    async fn ask_regroup(&self, stop: &CancellationToken) {
        let mut wait = BACKOFF_FIRST;
        loop {
            self.regroup.notify_one();
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            wait = (wait * 2).min(RESOLVE_RETRY_CAP);
        }
    }

    /// Delivers the queues of `group`'s entries until `stop`: a send whose answer was lost
    /// first (whichever entry it belongs to), then the oldest due delivery of any entry.
    pub async fn run_chat(self: Arc<Self>, group: ChatGroup, stop: CancellationToken) {
        if let Some(name) = &group.unresolved {
            return self.await_chat_id(&group, name, &stop).await;
        }
        let config = self.config.get();
        let tg = &config.telegram;
        // The chat's calls of the last minute, and a 429's hold, as the earlier workers of the
        // chat left them (before a restart, a kill or a config edit; entries' states hold them
        // as databases from before kept them).
        let earlier: Vec<ChannelState> = group
            .entries
            .iter()
            .map(|c| self.store.channel_state(&c.id).unwrap_or_default())
            .collect();
        // Kept under the chat's key, or under the key an earlier worker knew it by (the chat as
        // an entry writes it, before a name was resolved or the group migrated).
        let kept: Vec<ChatCalls> = std::iter::once(group.key.clone())
            .chain(group.aliases())
            .map(|key| self.store.chat_calls(&key).unwrap_or_default())
            .collect();
        let mut recent: Vec<DateTime<Utc>> = earlier
            .iter()
            .flat_map(|s| s.recent_calls.iter().copied())
            .chain(kept.iter().flat_map(|k| k.recent.iter().copied()))
            .collect();
        recent.sort();
        recent.dedup();
        let (store, key) = (self.store.clone(), group.key.clone());
        let mut limits = ChatLimits::new(
            tg.per_chat_per_second,
            tg.per_chat_per_minute,
            &recent,
            stop.clone(),
        )
        .kept_by(Box::new(move |recent, held_until| {
            let calls = ChatCalls {
                recent: recent.to_vec(),
                held_until,
            };
            if let Err(e) = store.set_chat_calls(&key, &calls) {
                tracing::warn!(chat = %key, error = %e, "could not keep the chat's calls");
            }
        }));
        // A 429 met by a worker before this one still holds: Telegram expects no call to the
        // chat until it ends.
        let holds = earlier.iter().filter_map(|s| s.held_until);
        if let Some(until) = holds.chain(kept.iter().filter_map(|k| k.held_until)).max() {
            limits.resume_hold(until);
        }
        self.tell_untold(&group);
        let mut backoff = BACKOFF_FIRST;
        while !stop.is_cancelled() {
            let next = self.next_for_chat(&group);
            let room = self
                .store
                .ensure_room(self.config.get().general.min_free_bytes);
            let wait = match (next, room) {
                (Ok(None), _) => IDLE_CHECK,
                // A post is sent only once its in-flight mark is stored: no room, no post.
                (Ok(Some(_)), Err(e)) => {
                    tracing::warn!(chat = %group.key, error = %e, "posts wait for disk space");
                    DISK_RETRY
                }
                (Ok(Some(work)), Ok(())) => {
                    let channel = work.channel().to_owned();
                    match self.work(&group, work, &mut limits).await {
                        // Set aside (by `work`): the queue goes on.
                        Ok(Next::Now | Next::SetAside(_)) => {
                            backoff = BACKOFF_FIRST;
                            continue;
                        }
                        Ok(Next::Again) => continue,
                        Ok(Next::Blocked) => BLOCKED_RETRY,
                        Ok(Next::Backoff) => {
                            let d = backoff;
                            backoff = (backoff * 2).min(BACKOFF_CAP);
                            d
                        }
                        Err(e) => {
                            tracing::error!(%channel, error = %e, "outbox unavailable");
                            if Store::is_broken(&e) {
                                self.broken_store.cancel();
                            } else {
                                self.outbox_failed(&group, &e).await;
                            }
                            BACKOFF_FIRST
                        }
                    }
                }
                (Err(e), _) => {
                    tracing::error!(chat = %group.key, error = %e, "outbox unavailable");
                    if !Store::is_broken(&e) {
                        self.outbox_failed(&group, &e).await;
                    }
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

    /// A store error that is not the disk's (a record that cannot be read) met by the chat's
    /// worker: it lasts, so it is not only logged. Each entry's state says it (`last_error`,
    /// `/healthz` not ok until a send goes through) and the errors metric counts it; a queued
    /// delivery whose record cannot be read is one record's fault, and is set aside (counted,
    /// the admins told) so that the queue behind it goes on.
    async fn outbox_failed(&self, group: &ChatGroup, error: &StoreError) {
        for channel in &group.entries {
            let id = &channel.id;
            match self.store.set_aside_unreadable(id).await {
                Ok(reasons) => {
                    for reason in reasons {
                        metrics::counter!("herald_posts_set_aside_total", "channel" => id.clone())
                            .increment(1);
                        tracing::error!(channel = %id, %reason, "a queued delivery cannot be read; set aside, the queue goes on");
                        if let Some(alerts) = &self.alerts {
                            alerts.tell_soon(format!(
                                "⚠️ herald: channel {id}: a queued delivery cannot be read ({reason}). It is set aside and the next posts go on."
                            ));
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(channel = %id, error = %e, "cannot look for unreadable queued deliveries");
                }
            }
            metrics::counter!("herald_telegram_errors_total", "channel" => id.clone()).increment(1);
            let text = format!("outbox: {error}");
            let noted = self.store.update_channel_state(id, |s| {
                s.last_error = Some(text.clone());
                s.last_error_at = Some(clock::now());
            });
            if let Err(e) = noted {
                tracing::warn!(channel = %id, error = %e, "cannot record the outbox's error");
            }
        }
    }

    /// Does one piece of work: looks for an unanswered send, or delivers (and sets aside
    /// what Telegram refused for good).
    async fn work(
        &self,
        group: &ChatGroup,
        work: Work<'_>,
        limits: &mut ChatLimits,
    ) -> Result<Next, StoreError> {
        match work {
            Work::Restore(owed) => self.restore(group, &owed, limits).await,
            Work::LookBack(look) => self.look_back(look, limits).await,
            Work::Search {
                channel,
                mut queued,
                mark,
            } => self.search(&channel, &mut queued, &mark, limits).await,
            Work::Deliver {
                channel,
                mut queued,
            } => {
                let outcome = match self.deliver(channel, group, limits, &mut queued).await {
                    Ok(Next::SetAside(reason)) => self.set_aside(channel, &queued, &reason).await,
                    other => other,
                };
                self.share_migration(group, channel);
                outcome
            }
        }
    }

    /// What the chat's worker does next. A send whose answer was lost is looked for before
    /// anything else goes to the chat, even when its entry is paused or holding (looking sends
    /// nothing): only then is every message of ours after the chat's last known one that post,
    /// so that the search cannot touch another post. Then the oldest due delivery of the
    /// entries not paused: in silent hours with `quiet = "hold"` only edits are due (a
    /// correction still edits its post at once), and a delivery whose source is not in the
    /// config (removed, maybe for a moment) waits in its place; only `herald prune` deletes it.
    fn next_for_chat<'g>(&self, group: &'g ChatGroup) -> Result<Option<Work<'g>>, StoreError> {
        // Buttons a search took from a message that is not its post are put back first: until
        // then a search would take that message for the post.
        let aliases = group.aliases();
        if let Some(owed) = self
            .store
            .owed_restores(&group.key, &aliases)?
            .into_iter()
            .next()
        {
            return Ok(Some(Work::Restore(owed)));
        }
        // A post sent again is looked for below before anything else goes to the chat: until
        // then the only message of the bot between its earlier copy and it is that copy.
        if let Some(look) = self
            .store
            .looks_back(&group.key, &aliases)?
            .into_iter()
            .next()
        {
            return Ok(Some(Work::LookBack(look)));
        }
        // Marked sends need nothing from the config to be looked for: also those of an entry
        // or a source that left the config since.
        if let Some((channel, queued, mark)) = self
            .store
            .in_flight_where(|channel, mark| self.claims(group, &aliases, channel, mark))?
            .into_iter()
            .next()
        {
            return Ok(Some(Work::Search {
                channel,
                queued,
                mark: Box::new(mark),
            }));
        }
        let config = self.config.get();
        let configured = |d: &Delivery| config.source(&d.item.source).is_some();
        // Sends marked by versions before the marks: looked for as before, by the entry, once
        // it may send.
        for channel in &group.entries {
            if self.may_send(channel)?
                && let Some(queued) = self.store.in_flight_delivery(&channel.id)?
                && configured(&queued.delivery)
            {
                return Ok(Some(Work::Deliver { channel, queued }));
            }
        }
        let mut oldest: Option<(&Channel, Queued)> = None;
        for channel in &group.entries {
            if self.store.channel_state(&channel.id)?.paused {
                continue;
            }
            let holding = channel
                .quiet
                .as_ref()
                .is_some_and(|q| q.holds(clock::now()));
            let next = if holding {
                self.store.next_delivery_where(&channel.id, |d| {
                    d.kind == DeliveryKind::Edit && configured(d)
                })?
            } else {
                self.store.next_delivery_where(&channel.id, configured)?
            };
            if let Some(queued) = next
                && oldest
                    .as_ref()
                    .is_none_or(|(_, o)| queued.delivery.enqueued < o.delivery.enqueued)
            {
                oldest = Some((channel, queued));
            }
        }
        Ok(oldest.map(|(channel, queued)| Work::Deliver { channel, queued }))
    }

    /// Whether the chat's worker looks for the send marked `mark` by the entry `channel`: it
    /// went to this chat, by the key the worker knows it by (or an earlier one), or by its
    /// numeric id (a chat keeps its id when its `@name` changes). A mark of one of the group's
    /// own entries whose chat no other entry in the config serves is looked for here too: the
    /// entry's `@name` changed before herald learnt the chat's id.
    fn claims(
        &self,
        group: &ChatGroup,
        aliases: &[String],
        channel: &str,
        mark: &SendMark,
    ) -> bool {
        if mark.chat_key == group.key || aliases.contains(&mark.chat_key) {
            return true;
        }
        let number = |text: &str| self.chat_number(text);
        // Marked by the worker of another group of the config (by its key, or a form its
        // entries write the chat in): that worker looks for it. It may be its ordinary send in
        // flight, not a lost one.
        let config = self.config.get();
        let others = config
            .channels
            .iter()
            .filter(|c| !group.entries.iter().any(|e| e.id == c.id));
        for other in others {
            let form = match &other.chat {
                ChatRef::Username(name) => name.to_lowercase(),
                ChatRef::Id(id) => id.to_string(),
            };
            let migrated = self
                .store
                .channel_state(&other.id)
                .ok()
                .and_then(|s| s.migrated_to);
            let key = migrated
                .or_else(|| number(&form))
                .map_or_else(|| form.clone(), |id| id.to_string());
            if mark.chat_key == key || mark.chat_key.to_lowercase() == form {
                return false;
            }
        }
        let ours: Vec<i64> = std::iter::once(group.key.as_str())
            .chain(aliases.iter().map(String::as_str))
            .filter_map(number)
            .collect();
        let theirs: Vec<i64> = mark
            .chat_id
            .into_iter()
            .chain(number(&mark.chat_key))
            .chain(number(&mark.chat))
            .collect();
        if theirs.iter().any(|id| ours.contains(id)) {
            return true;
        }
        if !group.entries.iter().any(|c| c.id == channel) {
            return false;
        }
        let served_elsewhere = config
            .channels
            .iter()
            .filter(|c| !group.entries.iter().any(|e| e.id == c.id))
            .any(|c| {
                let form = match &c.chat {
                    ChatRef::Username(name) => name.to_lowercase(),
                    ChatRef::Id(id) => id.to_string(),
                };
                form == mark.chat_key.to_lowercase()
                    || form == mark.chat.to_lowercase()
                    || number(&form).is_some_and(|id| theirs.contains(&id))
            });
        !served_elsewhere
    }

    /// Looks for the message of a send whose answer was lost (see `find_unanswered`), by its
    /// mark: found, it is recorded as delivered; absent, the delivery is queued as before and
    /// goes out in its turn when its entry and source are in the config.
    async fn search(
        &self,
        channel: &str,
        queued: &mut Queued,
        mark: &SendMark,
        limits: &mut ChatLimits,
    ) -> Result<Next, StoreError> {
        // By the chat's id when known: an `@name` may have changed since the send.
        let chat_id = mark.chat_id.or_else(|| self.chat_number(&mark.chat));
        let chat = chat_id.map_or_else(
            || recipient_from_text(&mark.chat),
            |id| Recipient::Id(ChatId(id)),
        );
        let mut last = self.last_in_chat(&mark.chat)?;
        if let Some(id) = chat_id {
            last = last.max(self.last_in_chat(&id.to_string())?);
        }
        let sought = match mark.keyboard.as_deref() {
            Some(rows) => Sought::Post(rows),
            None => Sought::Digest,
        };
        let key = &mark.chat_key;
        let probe = self
            .find_unanswered(key, &chat, sought, Direction::After(last), limits)
            .await;
        match probe {
            Probe::Found(message_id) => {
                tracing::info!(channel, message_id, kind = ?queued.delivery.kind, "an unanswered send had arrived; not sending it again");
                let at = clock::now();
                let items = queued.delivery.items.clone();
                match (queued.delivery.kind, mark.digest_items) {
                    (DeliveryKind::Digest, Some((from, to))) if from < to && to <= items.len() => {
                        // As a post's below (a send of this message before may not have been
                        // looked for): the ids below it are owed a look.
                        let copy = CopyAt {
                            chat_key: &mark.chat_key,
                            chat: mark.chat.clone(),
                            chat_id,
                            message_id,
                            keyboard: mark.keyboard.clone().unwrap_or_default(),
                            photo: false,
                        };
                        let listed = &items[from..to];
                        let digest = mark.digest_text.as_ref().map(|text| DigestCopy {
                            items: listed.iter().map(|i| i.id).collect(),
                            text: text.clone(),
                        });
                        let look = self.owed_look(channel, &listed[0], queued, copy, digest)?;
                        let record = PostRecord::Digest {
                            chat: mark.chat.clone(),
                            message_id,
                            at,
                            chat_id,
                        };
                        let part = DigestPartSent {
                            items: listed,
                            record,
                            text: mark.digest_text.as_ref(),
                            last: to == items.len(),
                            look: look.as_ref(),
                        };
                        self.store
                            .complete_digest_part_in(channel, Some(&mark.chat_key), queued, part)
                            .await?;
                    }
                    _ => {
                        // The copy found may be one sent again after a send that could not be
                        // looked for (another message of herald's went to the chat between, so
                        // this search starts above the earlier copy): the ids below it are
                        // looked at for that copy, as after a copy sent again and answered.
                        let copy = CopyAt {
                            chat_key: &mark.chat_key,
                            chat: mark.chat.clone(),
                            chat_id,
                            message_id,
                            keyboard: mark.keyboard.clone().unwrap_or_default(),
                            photo: mark.photo,
                        };
                        let look =
                            self.owed_look(channel, &queued.delivery.item, queued, copy, None)?;
                        let record = PostRecord::Sent {
                            chat: mark.chat.clone(),
                            message_id,
                            photo: mark.photo,
                            at,
                            chat_id,
                        };
                        self.store
                            .complete_post_looking_back(
                                channel,
                                Some(&mark.chat_key),
                                queued,
                                record,
                                look.as_ref(),
                            )
                            .await?;
                        if look.is_some() {
                            tracing::info!(
                                channel,
                                message_id,
                                uncertain = queued.delivery.uncertain_sends,
                                "found after an unanswered attempt: looking below it for the earlier copy"
                            );
                        }
                    }
                }
                // The chat answered: a block or an error the search met before is over.
                let mut state = self.store.channel_state(channel)?;
                self.succeeded(channel, &mut state, limits)?;
                Ok(Next::Now)
            }
            Probe::Absent => {
                tracing::info!(channel, kind = ?queued.delivery.kind, "an unanswered send did not arrive; it goes out in its turn");
                self.store.mark_not_sent(queued)?;
                Ok(Next::Now)
            }
            // The search could not be made (Telegram unreachable): the send goes out again in
            // its turn, and the backoff, which only a call Telegram answers resets, goes on.
            Probe::Unknown(why) => {
                // Known by its buttons (a mark from before digest messages had one is not):
                // looked for below the copy sent again.
                let below = queued.delivery.kind == DeliveryKind::Post || mark.keyboard.is_some();
                self.uncertain(channel, queued, &why, below).await?;
                Ok(Next::Again)
            }
            // A message with its buttons that may have them from herald's own probe: not known
            // to be the post. The send goes out again, and the look below the copy sent again
            // meets this message and reports it.
            Probe::Unsure(id) => {
                let below = queued.delivery.kind == DeliveryKind::Post || mark.keyboard.is_some();
                let why = unsure_why(id);
                self.uncertain(channel, queued, &why, below).await?;
                Ok(Next::Again)
            }
            // Only a look below a copy sent again is told this (`Direction::Below`).
            Probe::Stopped | Probe::Took(_) => Ok(Next::Now),
            // The group became a supergroup, where the message (if it arrived) has an id herald
            // never learnt: nothing to look for; the delivery goes out in its turn, to the
            // supergroup, and may be there twice (in the old group's history and in the
            // supergroup): said, never silent.
            Probe::Failed(SendError::Migrated(new_id)) => {
                tracing::warn!(
                    channel,
                    new_id,
                    "an unanswered send went to a group that has since become a supergroup; it goes out again there: a duplicate is possible"
                );
                self.store.mark_not_sent(queued)?;
                let item = &queued.delivery.item;
                let what = match queued.delivery.kind {
                    DeliveryKind::Digest => format!(
                        "a digest message of {} releases of {}",
                        queued.delivery.items.len(),
                        item.source
                    ),
                    _ => format!("the post of “{}” ({})", item.title, item.link),
                };
                self.possible_duplicate(
                    channel,
                    format!(
                        "{what}: its answer was lost, and the group then became a supergroup (id {new_id}), where it cannot be looked for; sent again there, a duplicate is possible"
                    ),
                );
                Ok(Next::Now)
            }
            // A search that could not look is a failed call like a failed send: the chat waits
            // for it (nothing else goes there first), so the channel's state, the metrics and
            // the admins say why (a 429's hold, blocked, a 5xx, no answer).
            Probe::Failed(failure) => {
                tracing::warn!(
                    channel,
                    ?failure,
                    "could not look for an unanswered send; trying again"
                );
                // Nothing is set aside for a search: the send it looks for may have arrived.
                self.failed_for_now(channel, limits, failure)
            }
        }
    }

    /// A migration learnt by one entry holds for every entry on the chat.
    fn share_migration(&self, group: &ChatGroup, served: &Channel) {
        let Ok(Some(new_id)) = self.store.channel_state(&served.id).map(|s| s.migrated_to) else {
            return;
        };
        for other in group.entries.iter().filter(|c| c.id != served.id) {
            let _ = self.store.update_channel_state(&other.id, |s| {
                s.migrated_to = Some(new_id);
            });
        }
    }

    /// The newest message id herald knows in the chat a send went to (`chat` as the send named
    /// it), from the records of that very chat only: message ids are per chat, and the records
    /// of a channel entry and of a chat key mix the ids of the chats the entry posted to (before
    /// and after its `chat` changed in the config, or its group became a supergroup). The same
    /// chat written another way (an `@name` and the numeric id Telegram gave for it, whichever
    /// entry wrote it, in the config or not) counts too. A chat with no such record (none since the record exists) is looked up in the post
    /// records; none there either: herald has no message in it, and a search starts at its
    /// first id.
    /// The ids of herald's recorded messages in `chat` (known by any of its names) above
    /// `floor` and below `from`.
    fn recorded_between(
        &self,
        chat: &str,
        floor: Option<i32>,
        from: i32,
    ) -> Result<Vec<i32>, StoreError> {
        let mut forms = vec![chat.to_lowercase()];
        if let Some(number) = self.chat_number(chat) {
            forms.push(number.to_string());
            forms.extend(self.store.chat_names(number)?);
        }
        let lowest = floor.unwrap_or(0);
        self.store.recorded_in(&forms, lowest, from)
    }

    /// The chat's names as records may hold them: as written (lower case), its numeric id when
    /// known, and the `@name`s learnt for that id.
    fn chat_forms(&self, chat: &str) -> Result<Vec<String>, StoreError> {
        let mut forms = vec![chat.to_lowercase()];
        if let Some(number) = self.chat_number(chat) {
            forms.push(number.to_string());
            forms.extend(self.store.chat_names(number)?);
        }
        forms.sort();
        forms.dedup();
        Ok(forms)
    }

    fn last_in_chat(&self, chat: &str) -> Result<Option<i32>, StoreError> {
        let forms = self.chat_forms(chat)?;
        let mut last = None;
        for form in &forms {
            last = last.max(self.store.last_message_sent_to(form)?);
        }
        match last {
            Some(id) => Ok(Some(id)),
            None => self.store.newest_recorded_in(&forms),
        }
    }

    /// Delivers one Bot API call's worth of `queued`: a post, the next message of a digest, or
    /// the edit of a post (see `Job`). Waits for the chat's turn, calls, and reads Telegram's
    /// answer: accepted, it is recorded; refused, a fallback may apply (HTML sent as plain text,
    /// and what `fall_back` says for each kind) and the call is made again; else the failure
    /// says what comes next (see `failed`).
    async fn deliver(
        &self,
        channel: &Channel,
        group: &ChatGroup,
        limits: &mut ChatLimits,
        queued: &mut Queued,
    ) -> Result<Next, StoreError> {
        let config = self.config.get();
        let Some(source) = config.source(&queued.delivery.item.source) else {
            // Removed from the config since it was picked: it waits (see `next_for_chat`).
            tracing::info!(channel = %channel.id, source = %queued.delivery.item.source, "source not in the config; its queued post waits");
            return Ok(Next::Now);
        };
        if self.kept_out(channel, queued).await? {
            return Ok(Next::Now);
        }
        let snapshot = &queued.delivery.item;
        // The newest stored version: a correction made while the post waited goes out with it.
        let item = self
            .store
            .item(&snapshot.source, &snapshot.id)?
            .unwrap_or_else(|| snapshot.clone());
        let target = Target {
            channel,
            group,
            source,
            item: &item,
        };
        let mut state = self.store.channel_state(&channel.id)?;
        let mut job = match self.job(&target, &mut state, limits, queued).await? {
            ControlFlow::Continue(job) => job,
            ControlFlow::Break(next) => return Ok(next),
        };
        let mut plain = false;
        loop {
            let mark = self.mark_of(&job, group);
            let turn = match &mark {
                Some(mark) => {
                    self.begin_send(&channel.id, &mut state, limits, queued, mark)
                        .await?
                }
                // An edit waits for the chat's turn, and is made even when a pause or quiet
                // hours began meanwhile: a correction edits its post at once.
                None => acquire(limits, &self.global).await.is_ok(),
            };
            if !turn {
                return Ok(Next::Now);
            }
            if matches!(job, Job::DigestPart { .. })
                && let Some(fresh) = self.digest_job(queued, source, channel, &state)?
            {
                // The turn may have come after a wait (the chat's rate, a 429's hold): what
                // was corrected meanwhile is listed as corrected, and the mark names the
                // releases this message lists.
                if let Some(marked) = self.mark_of(&fresh, group)
                    && Some(&marked) != mark.as_ref()
                {
                    self.store.remark_send(queued, &marked).await?;
                }
                job = fresh;
            }
            let called = self.attempt(&job, &target, plain, queued).await;
            answered(limits, &self.global);
            let error = match called? {
                Called::Done => {
                    self.succeeded(&channel.id, &mut state, limits)?;
                    return Ok(Next::Now);
                }
                Called::Failed(error) => error,
            };
            // An answer that says the send was refused: no longer in flight. Without one
            // (`Uncertain`), or with a server error (`Refused`: a 5xx may come after Telegram
            // stored the message), it stays marked, to be looked for before it is sent again.
            if mark.is_some() && !matches!(error, SendError::Uncertain(_) | SendError::Refused(_)) {
                self.store.mark_not_sent(queued)?;
            }
            let fallback = match error {
                SendError::BadMarkup(reason) if !plain => {
                    let html = match &job {
                        Job::Post { post, .. } | Job::Edit { post, .. } => post.html.clone(),
                        Job::DigestPart { part, .. } => part.html(),
                        Job::DigestEdit { message, .. } => message.text.html(),
                    };
                    tracing::error!(channel = %channel.id, %reason, html = %snippet(&html, LOGGED_HTML), "Telegram could not parse our HTML (a formatter bug); sending it as plain text");
                    self.sent_plain(&channel.id, &mut state, &job, &reason);
                    plain = true;
                    ControlFlow::Continue(())
                }
                error => {
                    self.fall_back(&mut job, &target, error, &mut state, limits, queued)
                        .await?
                }
            };
            if let ControlFlow::Break(next) = fallback {
                return Ok(next);
            }
        }
    }

    /// The channel's filters, edited while `queued` waited, keep out what it would send now:
    /// not sent, as if kept out when queued (README: a release that does not pass is neither
    /// posted nor edited there). A post leaves the queue with its record; a digest lists only
    /// the releases that pass (the others leave it with their records), and goes when none
    /// does. Each read as stored now, as it would go out. Only what was never sent: a send
    /// whose answer was lost (or is in flight) may be in the chat as it was, and a digest one
    /// of whose messages went out counts its releases in every header. True when nothing is
    /// left to send.
    async fn kept_out(&self, channel: &Channel, queued: &mut Queued) -> Result<bool, StoreError> {
        let delivery = &queued.delivery;
        let never_sent = !delivery.in_flight
            && delivery.uncertain_sends == 0
            && delivery.lost_keyboards.is_empty();
        if !never_sent {
            return Ok(false);
        }
        let admits = |item: &Item| channel.admits(&item.title, item.summary.as_deref());
        let filtered = |n: usize| {
            metrics::counter!("herald_posts_filtered_total", "channel" => channel.id.clone())
                .increment(n as u64);
        };
        match delivery.kind {
            DeliveryKind::Post => {
                let item = self
                    .store
                    .item(&delivery.item.source, &delivery.item.id)?
                    .unwrap_or_else(|| delivery.item.clone());
                if admits(&item) {
                    return Ok(false);
                }
                tracing::info!(channel = %channel.id, source = %item.source, item = %item.id, "a queued post the channel's filters now keep out is not sent");
                filtered(1);
                self.store.drop_filtered_post(&channel.id, queued).await?;
                Ok(true)
            }
            DeliveryKind::Digest if delivery.parts_done == 0 && delivery.items_done == 0 => {
                let out: Vec<usize> = self
                    .newest(&delivery.items)?
                    .iter()
                    .enumerate()
                    .filter(|(_, item)| !admits(item))
                    .map(|(k, _)| k)
                    .collect();
                if out.is_empty() {
                    return Ok(false);
                }
                let left = delivery.items.len() - out.len();
                tracing::info!(channel = %channel.id, source = %delivery.item.source, kept_out = out.len(), left, "releases of a queued digest that the channel's filters now keep out are not listed");
                filtered(out.len());
                self.store
                    .drop_filtered_from_digest(&channel.id, queued, &out)
                    .await?;
                Ok(left == 0)
            }
            DeliveryKind::Digest | DeliveryKind::Edit => Ok(false),
        }
    }

    /// HTML that Telegram could not parse goes out as plain text: a formatter bug, and a message
    /// that reads less well (no bold, no links but the addresses a digest keeps), so it is
    /// never only logged. Counted (`herald_telegram_plain_fallbacks_total`), named in the
    /// channel's `last_error` (saved with the call's outcome), and the admins are told when
    /// that changes: once for a run of such messages, not once each.
    fn sent_plain(&self, channel: &str, state: &mut ChannelState, job: &Job, reason: &str) {
        metrics::counter!("herald_telegram_plain_fallbacks_total", "channel" => channel.to_owned())
            .increment(1);
        let what = match job {
            Job::Post { .. } => "a post".to_owned(),
            Job::Edit { .. } => "a correction of a post".to_owned(),
            Job::DigestPart { part, .. } => match digest::plain(&part.text).1 {
                0 => "a digest message (each release's address is kept below its line)".to_owned(),
                n => format!(
                    "a digest message (each release's address is kept below its line, but {n} did not fit and are left out)"
                ),
            },
            Job::DigestEdit { .. } => "a correction of a digest message".to_owned(),
        };
        let text = format!(
            "Telegram could not parse the HTML of {what} ({reason}); it went out as plain text. A formatter bug: please report it"
        );
        // The reason names a byte offset, which differs from message to message.
        let told = state
            .last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("Telegram could not parse the HTML of"));
        state.last_error = Some(text.clone());
        state.last_error_at = Some(clock::now());
        if !told && let Some(alerts) = &self.alerts {
            alerts.tell_soon(format!("⚠️ herald: channel {channel}: {text}."));
        }
    }

    /// Each of `items` as stored now, or as queued when the store no longer holds it.
    fn newest(&self, items: &[Item]) -> Result<Vec<Item>, StoreError> {
        items
            .iter()
            .map(|queued| {
                Ok(self
                    .store
                    .item(&queued.source, &queued.id)?
                    .unwrap_or_else(|| queued.clone()))
            })
            .collect()
    }

    /// The next message of the digest `queued`, `None` when none is left. It lists the newest
    /// stored version of each release, as a post does: a correction made while the digest
    /// waited (a title, a corrected slug) goes out with it.
    fn digest_job(
        &self,
        queued: &Queued,
        source: &Source,
        channel: &Channel,
        state: &ChannelState,
    ) -> Result<Option<Job>, StoreError> {
        let items = self.newest(&queued.delivery.items)?;
        // Split from the first item not yet accepted (issue 25): a reload may have changed the
        // source's title, and with it the split; so may a correction.
        let (done, parts_done) = (queued.delivery.items_done, queued.delivery.parts_done);
        let start = digest::rest_start(&items, source, done, parts_done);
        let parts = digest::remaining_parts(&items, source, start, parts_done as usize);
        let count = parts_done as usize + parts.len();
        Ok(parts.into_iter().next().map(|part| Job::DigestPart {
            chat: recipient(&channel.chat, state.migrated_to),
            listed: items[part.items.clone()].to_vec(),
            last: part.items.end == items.len(),
            part,
            parts: count,
        }))
    }

    /// The edit of the digest message `message_id` in `chat` that lists the release `queued`
    /// corrects: the message with the line of each release it lists read anew from the store
    /// (so one edit carries every correction made so far). Nothing to call when the message is
    /// unknown (sent by a version that kept no text) or would read as it does.
    async fn digest_edit(
        &self,
        queued: &Queued,
        source: &Source,
        channel: &Channel,
        (chat, to): (&str, Recipient),
        message_id: i32,
    ) -> Result<ControlFlow<Next, Job>, StoreError> {
        let Some(mut message) = self.store.digest_message(chat, message_id)? else {
            tracing::info!(channel = %channel.id, item = %queued.delivery.item.id, message_id, "the release is listed in a digest message whose text herald did not keep; the correction is not sent");
            self.store.complete(queued).await?;
            return Ok(ControlFlow::Break(Next::Now));
        };
        let items = message
            .items
            .iter()
            .map(|id| self.store.item(&message.source, id))
            .collect::<Result<Vec<_>, _>>()?;
        let text = digest::corrected(&message.text, &items, source);
        if text == message.text {
            self.store.complete(queued).await?;
            return Ok(ControlFlow::Break(Next::Now));
        }
        message.text = text;
        Ok(ControlFlow::Continue(Job::DigestEdit {
            chat: to,
            record_chat: chat.to_owned(),
            message_id,
            message,
        }))
    }

    /// The job for `queued`, or what comes next when there is no call to make: an edit of a
    /// post that was never sent here, a digest with nothing left, a post whose unanswered send
    /// is found to have arrived.
    async fn job(
        &self,
        target: &Target<'_>,
        state: &mut ChannelState,
        limits: &mut ChatLimits,
        queued: &mut Queued,
    ) -> Result<ControlFlow<Next, Job>, StoreError> {
        let Target {
            channel,
            group,
            source,
            item,
        } = *target;
        match queued.delivery.kind {
            DeliveryKind::Post => {
                let chat = recipient(&channel.chat, state.migrated_to);
                let post = self.format(item, source, channel, true)?;
                if queued.delivery.in_flight {
                    // Marked by a version before send marks (marked ones are looked for first,
                    // see `search`): find out whether Telegram has the post before sending it
                    // again.
                    let last = self.last_in_chat(&chat_text(&chat))?;
                    let rows = api::rows(&post);
                    let sought = Sought::Post(&rows);
                    match self
                        .find_unanswered(&group.key, &chat, sought, Direction::After(last), limits)
                        .await
                    {
                        Probe::Found(message_id) => {
                            tracing::info!(channel = %channel.id, item = %item.id, message_id, "an unanswered post had arrived; not sending it again");
                            let chat_id = self.chat_number(&chat_text(&chat));
                            let copy = CopyAt {
                                chat_key: &group.key,
                                chat: chat_text(&chat),
                                chat_id,
                                message_id,
                                keyboard: rows.clone(),
                                photo: post.method == Method::SendPhoto,
                            };
                            let look = self.owed_look(&channel.id, item, queued, copy, None)?;
                            let record = sent_record(&chat, message_id, chat_id, &post);
                            self.store
                                .complete_post_looking_back(
                                    &channel.id,
                                    Some(&group.key),
                                    queued,
                                    record,
                                    look.as_ref(),
                                )
                                .await?;
                            self.succeeded(&channel.id, state, limits)?;
                            return Ok(ControlFlow::Break(Next::Now));
                        }
                        Probe::Absent => {}
                        Probe::Unknown(why) => {
                            self.uncertain(&channel.id, queued, &why, true).await?;
                        }
                        Probe::Unsure(id) => {
                            self.uncertain(&channel.id, queued, &unsure_why(id), true)
                                .await?;
                        }
                        // Only a look below a copy sent again is told `Took`.
                        Probe::Stopped | Probe::Took(_) => {
                            return Ok(ControlFlow::Break(Next::Now));
                        }
                        Probe::Failed(error) => {
                            let next = self.failed(&channel.id, state, limits, error)?;
                            return Ok(ControlFlow::Break(next));
                        }
                    }
                }
                Ok(ControlFlow::Continue(Job::Post { chat, post }))
            }
            // One message per call: the worker comes back for the next one, so a stop, a pause
            // or a hold window that begins falls between two messages of a digest.
            DeliveryKind::Digest => {
                let Some(job) = self.digest_job(queued, source, channel, state)? else {
                    // Nothing left to send (an empty digest, or a split that no longer has
                    // this part).
                    self.store.complete(queued).await?;
                    return Ok(ControlFlow::Break(Next::Now));
                };
                if queued.delivery.in_flight {
                    // Marked by a version before send marks (marked ones are looked for first,
                    // see `search`): nothing to know it by.
                    tracing::warn!(channel = %channel.id, part = queued.delivery.parts_done + 1, "a digest message went unanswered before an upgrade; sending it again (a duplicate is possible)");
                }
                Ok(ControlFlow::Continue(job))
            }
            DeliveryKind::Edit => {
                let record = self
                    .store
                    .post_record(&channel.id, &item.source, &item.id)?;
                let (chat, message_id, photo, at, chat_id) = match record {
                    Some(PostRecord::Sent {
                        chat,
                        message_id,
                        photo,
                        at,
                        chat_id,
                    }) => (chat, message_id, photo, at, chat_id),
                    Some(PostRecord::Digest {
                        chat,
                        message_id,
                        chat_id,
                        ..
                    }) => {
                        let to = self.record_recipient(&chat, chat_id);
                        return self
                            .digest_edit(queued, source, channel, (&chat, to), message_id)
                            .await;
                    }
                    // Never posted here (before the channel's backfill) or still queued: the
                    // queued post reads the corrected item when it goes out.
                    Some(PostRecord::Queued) | None => {
                        self.store.complete(queued).await?;
                        return Ok(ControlFlow::Break(Next::Now));
                    }
                };
                // Message ids are per chat: the post is edited in the chat it was sent to,
                // even when the channel posts elsewhere now (its group became a supergroup).
                // The same id in another chat is another message.
                Ok(ControlFlow::Continue(Job::Edit {
                    chat: self.record_recipient(&chat, chat_id),
                    record_chat: chat,
                    chat_id,
                    message_id,
                    at,
                    post: self.format(item, source, channel, photo)?,
                    found_photo: None,
                }))
            }
        }
    }

    /// Makes the job's call and, when Telegram took it, records where the message is (in the
    /// outbox's transaction that takes it off the queue, or counts the digest's part).
    async fn attempt(
        &self,
        job: &Job,
        target: &Target<'_>,
        plain: bool,
        queued: &mut Queued,
    ) -> Result<Called, StoreError> {
        let Target {
            channel,
            group,
            source,
            item,
        } = *target;
        let silent = || {
            channel
                .quiet
                .as_ref()
                .is_some_and(|q| q.silences(clock::now()))
        };
        match job {
            Job::Post { chat, post } => {
                let message = match self
                    .api
                    .send_post(chat.clone(), post, plain, silent())
                    .await
                {
                    Ok(message) => message,
                    Err(e) => return Ok(Called::Failed(SendError::from_request(&e))),
                };
                // Sent again after an unanswered send that could not be looked for: the ids
                // below it are looked at for the earlier copy (`look_back`), owed durably with
                // the record, before anything else goes to the chat.
                let copy = CopyAt {
                    chat_key: &group.key,
                    chat: chat_text(chat),
                    chat_id: Some(message.chat_id),
                    message_id: message.message_id,
                    keyboard: api::rows(post),
                    photo: post.method == Method::SendPhoto,
                };
                let look = self.owed_look(&channel.id, item, queued, copy, None)?;
                self.learn_chat_id(channel, message);
                let record = sent_record(chat, message.message_id, Some(message.chat_id), post);
                self.store
                    .complete_post_looking_back(
                        &channel.id,
                        Some(&group.key),
                        queued,
                        record,
                        look.as_ref(),
                    )
                    .await?;
                if look.is_some() {
                    tracing::info!(channel = %channel.id, item = %item.id, uncertain = queued.delivery.uncertain_sends, "posted after an unanswered attempt: looking below it for the earlier copy");
                }
                metrics::counter!("herald_telegram_sent_total", "channel" => channel.id.clone())
                    .increment(1);
                tracing::info!(
                    channel = %channel.id,
                    source = %item.source,
                    item = %item.id,
                    method = post.method.name(),
                    message_id = message.message_id,
                    queued_secs = (clock::now() - queued.delivery.enqueued).num_seconds(),
                    "posted"
                );
            }
            Job::DigestPart {
                chat,
                part,
                listed,
                last,
                parts,
            } => {
                let text = if plain {
                    digest::plain(&part.text).0
                } else {
                    part.html()
                };
                let sent = self
                    .api
                    .send_digest(chat.clone(), text, &part.text.keyboard, plain, silent())
                    .await;
                let message = match sent {
                    Ok(message) => message,
                    Err(e) => return Ok(Called::Failed(SendError::from_request(&e))),
                };
                self.learn_chat_id(channel, message);
                // Sent again after an unanswered send that could not be looked for: looked
                // for below, as a post is.
                let copy = CopyAt {
                    chat_key: &group.key,
                    chat: chat_text(chat),
                    chat_id: Some(message.chat_id),
                    message_id: message.message_id,
                    keyboard: part.text.keyboard.clone(),
                    photo: false,
                };
                let digest = DigestCopy {
                    items: listed.iter().map(|i| i.id).collect(),
                    text: part.text.clone(),
                };
                let look = match listed.first() {
                    Some(first) => {
                        self.owed_look(&channel.id, first, queued, copy, Some(digest))?
                    }
                    None => None,
                };
                let record = PostRecord::Digest {
                    chat: chat_text(chat),
                    message_id: message.message_id,
                    at: clock::now(),
                    chat_id: Some(message.chat_id),
                };
                let sent = DigestPartSent {
                    items: listed,
                    record,
                    text: Some(&part.text),
                    last: *last,
                    look: look.as_ref(),
                };
                self.store
                    .complete_digest_part_in(&channel.id, Some(&group.key), queued, sent)
                    .await?;
                if look.is_some() {
                    tracing::info!(channel = %channel.id, message_id = message.message_id, "digest message sent after an unanswered attempt: looking below it for the earlier copy");
                }
                metrics::counter!("herald_telegram_sent_total", "channel" => channel.id.clone())
                    .increment(1);
                tracing::info!(
                    channel = %channel.id,
                    source = %source.id,
                    items = listed.len(),
                    part = queued.delivery.parts_done,
                    parts,
                    message_id = message.message_id,
                    "digest sent"
                );
            }
            Job::Edit {
                chat,
                record_chat,
                chat_id,
                message_id,
                at,
                post,
                found_photo,
            } => {
                let edited = self
                    .api
                    .edit_post(chat.clone(), *message_id, post, plain)
                    .await;
                match edited.map_err(|e| SendError::from_request(&e)) {
                    Ok(()) => {
                        tracing::info!(channel = %channel.id, item = %item.id, message_id, "post edited");
                    }
                    // "Not modified" (the edit is there already) or "not found" (an admin
                    // deleted the post): nothing more to do.
                    Err(SendError::EditMoot) => {
                        tracing::info!(channel = %channel.id, item = %item.id, message_id, "the post needed no edit (as corrected already, or deleted)");
                    }
                    Err(error) => return Ok(Called::Failed(error)),
                }
                match found_photo {
                    // Recorded as it really is, so that the next correction fits at once.
                    Some(photo) => {
                        let record = PostRecord::Sent {
                            chat: record_chat.clone(),
                            message_id: *message_id,
                            photo: *photo,
                            at: *at,
                            chat_id: *chat_id,
                        };
                        self.store
                            .complete_post(&channel.id, queued, record)
                            .await?;
                    }
                    None => self.store.complete(queued).await?,
                }
            }
            Job::DigestEdit {
                chat,
                record_chat,
                message_id,
                message,
            } => {
                let text = if plain {
                    digest::plain(&message.text).0
                } else {
                    message.text.html()
                };
                let edited = self
                    .api
                    .edit_digest(
                        chat.clone(),
                        *message_id,
                        text,
                        &message.text.keyboard,
                        plain,
                    )
                    .await;
                match edited.map_err(|e| SendError::from_request(&e)) {
                    Ok(()) => {
                        tracing::info!(channel = %channel.id, item = %item.id, message_id, "digest message edited");
                    }
                    Err(SendError::EditMoot) => {
                        tracing::info!(channel = %channel.id, item = %item.id, message_id, "the digest message needed no edit (as corrected already, or deleted)");
                    }
                    Err(error) => return Ok(Called::Failed(error)),
                }
                self.store
                    .complete_digest_edit(queued, record_chat, *message_id, message)
                    .await?;
            }
        }
        Ok(Called::Done)
    }

    /// What follows a refusal (or no answer) that plain text does not mend: the job changed
    /// for one more call (Continue), or what comes next.
    async fn fall_back(
        &self,
        job: &mut Job,
        target: &Target<'_>,
        error: SendError,
        state: &mut ChannelState,
        limits: &mut ChatLimits,
        queued: &mut Queued,
    ) -> Result<ControlFlow<Next>, StoreError> {
        let Target {
            channel,
            source,
            item,
            ..
        } = *target;
        match (job, error) {
            // Any refusal of a photo post gets the text post's chance before it is set aside:
            // Telegram names many photo problems, not all of them known here.
            (
                Job::Post { post, .. },
                error @ (SendError::PhotoRefused | SendError::Rejected(_)),
            ) if post.method == Method::SendPhoto => {
                tracing::warn!(channel = %channel.id, photo = ?post.photo, failure = ?error, "Telegram refused the photo post; posting as text");
                *post = self.format(item, source, channel, false)?;
                Ok(ControlFlow::Continue(()))
            }
            // The record says photo where the message is a text, or the other way round (a
            // post found after a lost answer is recorded as the photo post it was meant to
            // be; a text fallback may have gone out): the same message, edited the other way.
            (
                Job::Edit {
                    message_id,
                    post,
                    found_photo: found_photo @ None,
                    ..
                },
                SendError::WrongEditKind { photo },
            ) => {
                tracing::warn!(channel = %channel.id, item = %item.id, message_id = *message_id, photo, "the post is not of the kind recorded; editing it the other way");
                *found_photo = Some(photo);
                *post = if photo {
                    Post {
                        languages: post.languages.clone(),
                        ..format::format_caption_for(item, source, channel)
                    }
                } else {
                    self.format(item, source, channel, false)?
                };
                Ok(ControlFlow::Continue(()))
            }
            (
                Job::Edit { message_id, .. } | Job::DigestEdit { message_id, .. },
                SendError::WrongEditKind { .. },
            ) => {
                // Neither a text nor a caption to edit: nothing herald could change there.
                tracing::warn!(channel = %channel.id, item = %item.id, message_id = *message_id, "the post has neither a text nor a caption to edit; the correction is not sent");
                self.store.complete(queued).await?;
                Ok(ControlFlow::Break(Next::Now))
            }
            (
                Job::Edit {
                    chat, message_id, ..
                }
                | Job::DigestEdit {
                    chat, message_id, ..
                },
                SendError::Migrated(new_id),
            ) => {
                // The post's group became a supergroup: the post lives on there under an id
                // herald never learnt, so there is nothing it may edit.
                tracing::warn!(channel = %channel.id, item = %item.id, message_id = *message_id, new_id, "the post's group became a supergroup, where its message id is unknown; the correction is not sent");
                self.store.complete(queued).await?;
                if self.is_current_chat(chat, target.group, channel, state) {
                    // The channel's own chat: later posts go to the supergroup.
                    tracing::warn!(channel = %channel.id, new_id, "chat migrated; following it");
                    state.recent_calls = limits.recent();
                    state.migrated_to = Some(new_id);
                    self.save_state(&channel.id, state)?;
                }
                Ok(ControlFlow::Break(Next::Now))
            }
            // Refused as blocked (kicked, chat not found) in a chat that is no longer the
            // channel's (its `chat` changed in the config, or its `@name` names another chat
            // now): nothing herald may do there, and
            // no reason to call the channel blocked, so the correction is moot. In the
            // channel's own chat the bot is blocked there like for a post: the block may end
            // (the bot added back), so the correction stays queued, the channel is blocked
            // (retried on the blocked schedule, the admins told), and it goes out once the
            // bot may post again. Only refusals of the message itself are for good.
            (
                Job::Edit {
                    chat, message_id, ..
                }
                | Job::DigestEdit {
                    chat, message_id, ..
                },
                SendError::Blocked(reason),
            ) => {
                // An `@name` may name another chat by now (a channel made anew, the name given
                // to another): Telegram says which, not the id learnt before. The post's chat is
                // then no longer the channel's, and its block holds no post back.
                let moved = match (&channel.chat, state.migrated_to) {
                    (ChatRef::Username(name), None) => {
                        let asked = self.api.chat_id(Recipient::ChannelUsername(name.clone()));
                        match tokio::time::timeout(RESOLVE_TIMEOUT, asked).await {
                            // Only a known id that differs says so: with none known (a record of
                            // an older herald), the chat is judged as before.
                            Ok(Ok(id))
                                if self
                                    .chat_number(&chat_text(chat))
                                    .is_some_and(|known| known != id) =>
                            {
                                if let Err(e) = self.store.set_chat_id(name, id) {
                                    tracing::warn!(chat = %name, error = %e, "could not store the chat's id");
                                }
                                true
                            }
                            _ => false,
                        }
                    }
                    _ => false,
                };
                if !moved && self.is_current_chat(chat, target.group, channel, state) {
                    tracing::warn!(channel = %channel.id, item = %item.id, message_id = *message_id, %reason, "the correction is refused in the channel's chat; it stays queued until the bot may post there again");
                    let next =
                        self.failed(&channel.id, state, limits, SendError::Blocked(reason))?;
                    return Ok(ControlFlow::Break(next));
                }
                tracing::warn!(channel = %channel.id, item = %item.id, chat = %chat_text(chat), message_id = *message_id, %reason, "the post's chat is no longer the channel's and refuses the bot; the correction is not sent");
                metrics::counter!("herald_telegram_edits_dropped_total", "channel" => channel.id.clone())
                    .increment(1);
                self.store.complete(queued).await?;
                Ok(ControlFlow::Break(Next::Now))
            }
            (_, error) => Ok(ControlFlow::Break(self.failed(
                &channel.id,
                state,
                limits,
                error,
            )?)),
        }
    }

    /// Whether `chat` (as a post's record names it) is the chat `channel` posts to now: the
    /// same text (any case), the chat's key, or the same numeric id once an `@name` is known
    /// by its id.
    fn is_current_chat(
        &self,
        chat: &Recipient,
        group: &ChatGroup,
        channel: &Channel,
        state: &ChannelState,
    ) -> bool {
        let text = chat_text(chat).to_lowercase();
        let current = chat_text(&recipient(&channel.chat, state.migrated_to)).to_lowercase();
        if text == current || text == group.key.to_lowercase() {
            return true;
        }
        matches!(
            (self.chat_number(&text), self.chat_number(&current)),
            (Some(a), Some(b)) if a == b
        )
    }

    /// The numeric id of a chat written as a send names it: the id itself, or the id Telegram
    /// gave for an `@name` when herald has asked (see `resolve`, `learn_chat_id`).
    fn chat_number(&self, chat: &str) -> Option<i64> {
        if chat.starts_with('@') {
            self.store.chat_id(chat).ok().flatten()
        } else {
            chat.parse().ok()
        }
    }

    /// Waits for the chat's and the global turn, then marks the delivery in flight. The call's
    /// time is written with the in-flight mark (one flush), so a restarted herald knows how many
    /// calls this chat had in the last minute. Answers false, and marks nothing, when the worker
    /// is told to stop while it waits, or the channel was paused meanwhile (an admin's `/pause`
    /// may land while the worker waits for its turn).
    async fn begin_send(
        &self,
        channel: &str,
        state: &mut ChannelState,
        limits: &mut ChatLimits,
        queued: &mut Queued,
        mark: &SendMark,
    ) -> Result<bool, StoreError> {
        if acquire(limits, &self.global).await.is_err() {
            return Ok(false);
        }
        state.recent_calls = limits.recent();
        state.held_until = limits.held_until();
        self.save_state(channel, state)?;
        if state.paused {
            tracing::info!(channel, "paused while waiting for its turn; nothing sent");
            return Ok(false);
        }
        // A wait for the chat's turn (a 429's hold, the per-minute limit) may end inside the
        // channel's quiet hours: in `hold` mode the post waits for the window's end.
        if self
            .config
            .get()
            .channel(channel)
            .and_then(|c| c.quiet.as_ref())
            .is_some_and(|q| q.holds(clock::now()))
        {
            tracing::info!(
                channel,
                "quiet hours began while waiting for its turn; the post waits for their end"
            );
            return Ok(false);
        }
        self.store.mark_send(queued, Some(mark)).await?;
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

    /// Looks for a post (or a digest message) whose send went unanswered.
    /// Bots cannot read a chat's history, but they can edit their own messages: re-applying the
    /// post's own keyboard (a digest message's: its one button) to the ids after the newest one
    /// herald knows in the chat answers "not modified" exactly where that message is; another
    /// poster's message "can't be edited", a missing id is "not found". The chat's worker looks
    /// for an unanswered send before it sends anything else to the chat (`next_for_chat`), and
    /// every accepted message of any entry on the chat raises the last known id, so the only
    /// message of ours after it is the one looked for.
    ///
    /// - Messages of other posters may be any number: they do not end the search. Only a run of
    ///   `MISSES_TO_END` missing ids says that the chat ends before the send: absent.
    /// - A message that takes the keyboard as a change is not the post (whose buttons were
    ///   exactly these): its buttons are put back before the search goes on, owed durably until
    ///   they are (`restore`). Above the newest message herald knows, herald sent nothing but
    ///   the post, so what such a message had is no keyboard of herald's: it gets none back.
    /// - With no known id in the chat there is nowhere safe to start: its older messages (the
    ///   bot's too, from before this database) would take the keyboard, and a run of missing
    ///   ids says nothing of where the chat's ids are now. Nothing is touched, and the outcome
    ///   is unknown (`Probe::Unknown`): the post goes out again, and once accepted the ids
    ///   below it are looked at (`Direction::Below`, see `look_back`).
    /// - Below a copy sent again, the search ends at the first message the bot can edit: only
    ///   the earlier copy can be between the newest id herald knew and the copy sent again, so
    ///   a message that takes the keyboard as a change says that the copy did not arrive. Its
    ///   buttons are put back as above (none: herald cannot know what they were).
    async fn find_unanswered(
        &self,
        chat_key: &str,
        chat: &Recipient,
        sought: Sought<'_>,
        direction: Direction<'_>,
        limits: &mut ChatLimits,
    ) -> Probe {
        let rows = match sought {
            Sought::Post(rows) => rows,
            Sought::Digest => &[],
        };
        let (ids, downward): (Vec<i32>, bool) = match direction {
            Direction::After(None) => {
                return Probe::Unknown(
                    "herald knows no message in the chat to look after, so it cannot look".into(),
                );
            }
            Direction::After(Some(last)) => {
                ((last + 1..).take(MAX_PROBES as usize).collect(), false)
            }
            Direction::Below { from, floor, skip } => {
                let lowest = floor.unwrap_or(0).max(0) + 1;
                (
                    (lowest..from)
                        .rev()
                        .filter(|id| !skip.contains(id))
                        .take(MAX_PROBES as usize)
                        .collect(),
                    true,
                )
            }
        };
        // Downward, every id to the floor (or the chat's first id) looked at: not there.
        let whole = match direction {
            Direction::Below { from, floor, skip } => {
                let lowest = floor.unwrap_or(0).max(0);
                let stepped = skip.iter().filter(|&&id| id > lowest && id < from).count();
                i64::from(from) - i64::from(lowest) - 1 - stepped as i64 <= i64::from(MAX_PROBES)
            }
            Direction::After(_) => false,
        };
        let probe_chat = chat_text(chat);
        let forms = self
            .chat_forms(&probe_chat)
            .unwrap_or_else(|_| vec![probe_chat.to_lowercase()]);
        let mut misses = 0;
        // Upward, the messages met that have the post's buttons maybe by herald's doing.
        let mut unsure: Vec<i32> = Vec::new();
        let mut ended = false;
        for id in ids {
            if acquire(limits, &self.global).await.is_err() {
                return Probe::Stopped;
            }
            // A probe of these buttons at this id went unanswered before: the message may have
            // taken them then. Unread (a store error) counts as so.
            let changed_before = self
                .store
                .probe_unanswered(&forms, id, rows)
                .unwrap_or(true);
            // A probe that cannot be recorded is not made: unrecorded, a lost answer to it would
            // make its "not modified" read as the post again. The search is tried later.
            if !changed_before && let Err(e) = self.store.probe_begun(&probe_chat, id, rows).await {
                tracing::error!(error = %e, message_id = id, "could not record a search's probe before making it; the search waits");
                answered(limits, &self.global);
                return Probe::Failed(SendError::Refused(format!(
                    "a search's probe could not be recorded: {e}"
                )));
            }
            // Cut short by a stop, the search runs again at the next start. The probe may have
            // been made: its record stays.
            let stop = limits.stop_signal();
            let probed = tokio::select! {
                probed = self.api.set_keyboard(chat.clone(), id, rows) => probed,
                () = stop.cancelled() => {
                    answered(limits, &self.global);
                    return Probe::Stopped;
                }
            };
            answered(limits, &self.global);
            // No answer, or a 5xx (which may come after Telegram made the change): the message
            // may have taken the buttons, and its record stays. Any other answer says what the
            // probe did.
            let lost = probed.as_ref().is_err_and(|e| {
                matches!(
                    SendError::from_request(e),
                    SendError::Uncertain(_) | SendError::Refused(_)
                )
            });
            if !lost
                && !changed_before
                && let Err(e) = self.store.probe_settled(&probe_chat, id, Some(rows)).await
            {
                tracing::warn!(error = %e, message_id = id, "could not record a search's probe as answered");
            }
            match probed {
                // The buttons may be herald's own doing (a probe whose answer was lost): proof
                // of nothing.
                Err(RequestError::Api(ApiError::MessageNotModified)) if changed_before => {
                    tracing::warn!(
                        chat = %probe_chat,
                        message_id = id,
                        downward,
                        "a message has the buttons of the post looked for, but an earlier probe that set them went unanswered: it may not be the post"
                    );
                    if downward {
                        return Probe::Unsure(id);
                    }
                    misses = 0;
                    unsure.push(id);
                }
                // The same buttons as the send had: the message is the one sent. Upward, the
                // messages met before that have them by herald's doing are not it: they had
                // none of herald's (see above), and get none back.
                Err(RequestError::Api(ApiError::MessageNotModified)) => {
                    for &other in &unsure {
                        let owed = OwedRestore {
                            chat_key: chat_key.to_owned(),
                            chat: probe_chat.clone(),
                            message_id: other,
                            keyboard: Vec::new(),
                        };
                        tracing::error!(chat = %probe_chat, message_id = other, found = id, "a message took the buttons of the post looked for in a probe whose answer was lost; the post is found elsewhere, and its buttons are put back");
                        if let Err(e) = self.store.owe_restore(&owed).await {
                            tracing::error!(error = %e, message_id = other, "could not record the buttons owed back");
                        }
                        match self.put_back(&owed, limits).await {
                            Ok(()) => {}
                            Err(ControlFlow::Break(())) => return Probe::Stopped,
                            Err(ControlFlow::Continue(error)) => return Probe::Failed(error),
                        }
                    }
                    return Probe::Found(id);
                }
                // No message there: one more of the run that ends the chat.
                Err(RequestError::Api(
                    ApiError::MessageToEditNotFound | ApiError::MessageIdInvalid,
                )) => {
                    misses += 1;
                    if misses >= MISSES_TO_END {
                        ended = true;
                        break;
                    }
                }
                // The message took the keyboard as a change: it is not the message sent (a
                // message of another poster that the bot may edit). Its buttons go back first.
                Ok(()) if downward => return Probe::Took(id),
                Ok(()) => {
                    misses = 0;
                    tracing::error!(
                        chat = %chat_text(chat),
                        message_id = id,
                        downward,
                        "a message took the buttons of the post looked for; it is not that post, and its buttons are put back"
                    );
                    let owed = OwedRestore {
                        chat_key: chat_key.to_owned(),
                        chat: chat_text(chat),
                        message_id: id,
                        keyboard: Vec::new(),
                    };
                    if let Err(e) = self.store.owe_restore(&owed).await {
                        tracing::error!(error = %e, message_id = id, "could not record the buttons owed back");
                    }
                    match self.put_back(&owed, limits).await {
                        Ok(()) => {}
                        Err(ControlFlow::Break(())) => return Probe::Stopped,
                        Err(ControlFlow::Continue(error)) => return Probe::Failed(error),
                    }
                }
                Err(e) => match SendError::from_request(&e) {
                    // A message that is there and is not ours ("can't be edited"), or a
                    // definite 400 about it: not the post, and no end of the chat.
                    SendError::EditMoot
                    | SendError::Rejected(_)
                    | SendError::BadMarkup(_)
                    | SendError::WrongEditKind { .. } => misses = 0,
                    // A 429, a 5xx or no answer says nothing: the search is tried again later
                    // (after the hold), never taken as "absent".
                    other => return Probe::Failed(other),
                },
            }
        }
        // Not found elsewhere: a message met that may have the buttons by herald's doing may be
        // the post.
        if let Some(&first) = unsure.first() {
            return Probe::Unsure(first);
        }
        if ended || whole {
            return Probe::Absent;
        }
        Probe::Unknown(format!(
            "{MAX_PROBES} ids were looked at without finding it or the chat's end"
        ))
    }

    /// Puts back the buttons of a message that a search changed (see `OwedRestore`), waiting
    /// out each 429 in the chat's hold; once back, nothing is owed. `Break` when the worker is
    /// told to stop, `Continue` with the last failure after `RESTORE_TRIES` tries: the restore
    /// stays owed, and is made before anything else goes to the chat.
    async fn put_back(
        &self,
        owed: &OwedRestore,
        limits: &mut ChatLimits,
    ) -> Result<(), ControlFlow<(), SendError>> {
        let chat = recipient_from_text(&owed.chat);
        let mut last = None;
        for _ in 0..RESTORE_TRIES {
            if acquire(limits, &self.global).await.is_err() {
                return Err(ControlFlow::Break(()));
            }
            let undone = self
                .api
                .set_keyboard(chat.clone(), owed.message_id, &owed.keyboard)
                .await;
            answered(limits, &self.global);
            let error = match undone {
                // Back, or already as it was, or gone (an admin deleted it).
                Ok(())
                | Err(RequestError::Api(
                    ApiError::MessageNotModified
                    | ApiError::MessageToEditNotFound
                    | ApiError::MessageIdInvalid,
                )) => {
                    if let Err(e) = self.store.restored(&owed.chat, owed.message_id).await {
                        tracing::warn!(error = %e, "could not record that the buttons are back");
                    }
                    if let Err(e) = self
                        .store
                        .probe_settled(&owed.chat, owed.message_id, None)
                        .await
                    {
                        tracing::warn!(error = %e, "could not record that no probe's buttons are left");
                    }
                    tracing::info!(chat = %owed.chat, message_id = owed.message_id, "the message's buttons are back");
                    return Ok(());
                }
                Err(e) => SendError::from_request(&e),
            };
            tracing::warn!(chat = %owed.chat, message_id = owed.message_id, failure = ?error, "could not put the message's buttons back yet; trying again");
            match &error {
                // Telegram's hold for the chat: the next try waits for its end.
                SendError::RetryAfter(d) => {
                    limits.hold(*d);
                    metrics::counter!("herald_telegram_429_total", "channel" => owed.chat_key.clone())
                        .increment(1);
                }
                // Nothing will put them back (the bot lost the chat, the message is not
                // editable any more, or the group became a supergroup, whose messages are
                // others): given up, said loudly. Retried, it would hold the chat for ever.
                SendError::Blocked(_)
                | SendError::Rejected(_)
                | SendError::EditMoot
                | SendError::Migrated(_)
                | SendError::BadMarkup(_) => {
                    tracing::error!(chat = %owed.chat, message_id = owed.message_id, failure = ?error, "the message's buttons cannot be put back");
                    if let Err(e) = self.store.restored(&owed.chat, owed.message_id).await {
                        tracing::warn!(error = %e, "could not record the restore as given up");
                    }
                    return Ok(());
                }
                _ => {
                    let (wait, stop) = (BACKOFF_FIRST, limits.stop_signal());
                    tokio::select! {
                        () = stop.cancelled() => return Err(ControlFlow::Break(())),
                        () = tokio::time::sleep(wait) => {}
                    }
                }
            }
            last = Some(error);
        }
        Err(ControlFlow::Continue(last.unwrap_or_else(|| {
            SendError::Uncertain("no try was made".into())
        })))
    }

    /// An owed restore, made by the chat's worker before anything else.
    async fn restore(
        &self,
        group: &ChatGroup,
        owed: &OwedRestore,
        limits: &mut ChatLimits,
    ) -> Result<Next, StoreError> {
        match self.put_back(owed, limits).await {
            Ok(()) | Err(ControlFlow::Break(())) => Ok(Next::Now),
            Err(ControlFlow::Continue(error)) => {
                let Some(channel) = group.entries.first() else {
                    return Ok(Next::Backoff);
                };
                self.failed_for_now(&channel.id, limits, error)
            }
        }
    }

    /// A send whose answer was lost and that no search could find nor show absent: it goes out
    /// again in its turn, counted with the delivery (`uncertain_sends`). A post, or a digest
    /// message known by its button (`below`), is looked for below the copy sent again once
    /// Telegram accepts it (`look_back`), which reports how it ended. A digest message sent by
    /// a version before its button has nothing to be looked for by: a duplicate is possible,
    /// reported at once (`possible_duplicate`).
    async fn uncertain(
        &self,
        channel: &str,
        queued: &mut Queued,
        why: &str,
        below: bool,
    ) -> Result<(), StoreError> {
        self.store.mark_uncertain(queued).await?;
        let item = &queued.delivery.item;
        if below && queued.delivery.kind != DeliveryKind::Edit {
            tracing::info!(channel, source = %item.source, item = %item.id, kind = ?queued.delivery.kind, reason = why, "an unanswered send cannot be looked for yet; it goes out again, and the ids below the copy sent again are looked at for it");
            return Ok(());
        }
        let what = format!(
            "a digest message of {} releases of {}",
            queued.delivery.items.len(),
            item.source
        );
        tracing::warn!(channel, source = %item.source, item = %item.id, kind = ?queued.delivery.kind, reason = why, "an unanswered send may have arrived, but cannot be looked for; it goes out again: a duplicate is possible");
        let text = format!(
            "{what}: its answer was lost and it cannot be looked for ({why}); sent again, a duplicate is possible"
        );
        self.possible_duplicate(channel, text);
        Ok(())
    }

    /// A post or digest message that may be (or is) in its chat twice: never silent. Counted
    /// in `herald_telegram_uncertain_sends_total`, the channel's `/healthz` names it
    /// (`last_error`), and the admins are told.
    fn possible_duplicate(&self, channel: &str, text: String) {
        metrics::counter!("herald_telegram_uncertain_sends_total", "channel" => channel.to_owned())
            .increment(1);
        let noted = self.store.update_channel_state(channel, |s| {
            s.last_error = Some(text.clone());
            s.last_error_at = Some(clock::now());
        });
        if let Err(e) = noted {
            tracing::warn!(channel, error = %e, "cannot record the uncertain send");
        }
        if let Some(alerts) = &self.alerts {
            alerts.tell_soon(format!("⚠️ herald: channel {channel}: {text}."));
        }
    }

    /// Looks below a post sent again for its earlier copy (the first send's answer was lost,
    /// and herald could not look for it then; see `LookBack`). Each step is recorded before
    /// the next is made, so that a restart goes on where it stopped:
    /// 1. The ids below the copy are looked at (`find_unanswered`, `Direction::Below`).
    /// 2. Found: the post is recorded at the earlier copy (edits go there), and the newer copy
    ///    is owed a deleteMessage, in one write.
    /// 3. The newer copy is deleted; then the look goes on below the earlier copy while more
    ///    unanswered sends may have arrived.
    ///
    /// Not found: the copy sent again is the only one, said at info level. Deletion refused,
    /// or a look that could not end: the post may be (or is) twice in the chat, reported as a
    /// possible duplicate.
    ///
    /// A digest message's look (`LookBack::digest`) is the same, except that the earlier copy
    /// found is first edited to read as the copy sent again (`retext`: a correction made
    /// meanwhile, or a split changed by a reload, may have made the two list otherwise; an
    /// edit that changes nothing is answered "not modified"), and its releases and text are
    /// recorded there with the delete owed, in one write: a correction edits that copy.
    async fn look_back(
        &self,
        mut look: LookBack,
        limits: &mut ChatLimits,
    ) -> Result<Next, StoreError> {
        let channel = look.channel.clone();
        let chat = match look.chat_id {
            Some(id) => Recipient::Id(ChatId(id)),
            None => recipient_from_text(&look.chat),
        };
        let what = match &look.digest {
            Some(digest) => format!(
                "a digest message of {} releases of {}",
                digest.items.len(),
                look.source
            ),
            None => format!("the post of “{}” ({})", look.title, look.link),
        };
        if let Some(newer) = look.delete {
            if acquire(limits, &self.global).await.is_err() {
                return Ok(Next::Now);
            }
            let deleted = self.api.delete_message(chat.clone(), newer).await;
            answered(limits, &self.global);
            match deleted.map_err(|e| (SendError::from_request(&e), e)) {
                // Gone, or gone already (a delete whose answer was lost, an admin's).
                Ok(()) | Err((_, RequestError::Api(ApiError::MessageToDeleteNotFound))) => {
                    tracing::info!(
                        channel,
                        message_id = newer,
                        kept = look.message_id,
                        "a post sent again was a second copy; the newer one is deleted"
                    );
                }
                Err((failure, _)) if failure.is_for_now() => {
                    tracing::warn!(
                        channel,
                        message_id = newer,
                        ?failure,
                        "could not delete a second copy of a post yet; trying again"
                    );
                    return self.failed_for_now(&channel, limits, failure);
                }
                Err((failure, _)) => {
                    tracing::warn!(
                        channel,
                        message_id = newer,
                        kept = look.message_id,
                        ?failure,
                        "a second copy of a post cannot be deleted; both stay"
                    );
                    self.possible_duplicate(
                        &channel,
                        format!(
                            "{what} is in the chat twice (messages {} and {newer}): its first answer was lost, and the copy sent again cannot be deleted ({})",
                            look.message_id,
                            failure.text()
                        ),
                    );
                }
            }
            look.delete = None;
            if look.found >= look.owed {
                self.store.looked_back(&look).await?;
            } else {
                self.store.update_look_back(&look, None).await?;
            }
            return Ok(Next::Now);
        }
        // The earlier copies went out with the lost sends' keyboards (a correction may have
        // changed the buttons of the copy sent again). Looks written before these were kept
        // know the copy sent again's only.
        let keyboards = if look.lost_keyboards.is_empty() {
            vec![look.keyboard.clone()]
        } else {
            look.lost_keyboards.clone()
        };
        let sought = Sought::Post(&keyboards[0]);
        // herald's own messages between the floor and the copy (other posts to the chat since
        // the first lost send) are stepped over: they are not the post.
        // So are the messages reported as maybe having the buttons from herald's own probes.
        let mut skip = self.recorded_between(&look.chat, look.floor, look.message_id)?;
        skip.extend(&look.unsure);
        let below = Direction::Below {
            from: look.message_id,
            floor: look.floor,
            skip: &skip,
        };
        let mut probe = self
            .find_unanswered(&look.chat_key, &chat, sought, below, limits)
            .await;
        if let Probe::Took(id) = probe {
            // Above the floor, a message the bot can edit is herald's: an earlier copy that
            // went out with another of the lost sends' keyboards. Its buttons are never taken
            // away: with one other keyboard known, it had that one (put back, and it is the
            // copy); otherwise which one is unknown, and the admins are told.
            match &keyboards[1..] {
                [other] => {
                    let owed = OwedRestore {
                        chat_key: look.chat_key.clone(),
                        chat: chat_text(&chat),
                        message_id: id,
                        keyboard: other.clone(),
                    };
                    self.store.owe_restore(&owed).await?;
                    probe = match self.put_back(&owed, limits).await {
                        Ok(()) => Probe::Found(id),
                        Err(ControlFlow::Break(())) => Probe::Stopped,
                        Err(ControlFlow::Continue(error)) => Probe::Failed(error),
                    };
                }
                _ => {
                    self.store.looked_back(&look).await?;
                    tracing::error!(
                        channel,
                        message_id = id,
                        newer = look.message_id,
                        "a message below a post sent again took the post's buttons: it is herald's, with buttons herald cannot tell"
                    );
                    self.possible_duplicate(
                        &channel,
                        format!(
                            "{what}: its answer was lost; below the copy sent again (message {}), message {id} is herald's and may be an earlier copy, but its buttons are unknown (it now has the post's); a duplicate is possible",
                            look.message_id
                        ),
                    );
                    return Ok(Next::Now);
                }
            }
        }
        match probe {
            Probe::Took(_) => Ok(Next::Now),
            // Herald's own lost probe may have given it the buttons: it may be an earlier copy
            // or a message that took them, and what it had is unknown. Told, as a message of
            // unknown buttons is above; never taken for the copy (its record, and the delete of
            // the copy sent again, would rest on nothing).
            Probe::Unsure(id) => {
                tracing::error!(
                    channel,
                    message_id = id,
                    newer = look.message_id,
                    "a message below a post sent again has the post's buttons, maybe from a probe whose answer was lost: it may be an earlier copy or not"
                );
                self.possible_duplicate(
                    &channel,
                    format!(
                        "{what}: its answer was lost; below the copy sent again (message {}), message {id} has the post's buttons, but they may be from herald's own search (a probe's answer was lost), so it may be an earlier copy or another message; a duplicate is possible, and message {id} may keep buttons that are not its own",
                        look.message_id
                    ),
                );
                // The look goes on below it: more copies may be there.
                look.unsure.push(id);
                self.store.update_look_back(&look, None).await?;
                Ok(Next::Now)
            }
            Probe::Found(earlier) => {
                if let Some(digest) = &look.digest {
                    match self.retext(&chat, earlier, digest, limits).await {
                        Ok(()) => {}
                        Err(ControlFlow::Break(())) => return Ok(Next::Now),
                        // Gone meanwhile (an admin deleted it): the next look goes on below.
                        Err(ControlFlow::Continue(SendError::EditMoot)) => return Ok(Next::Now),
                        Err(ControlFlow::Continue(failure)) if failure.is_for_now() => {
                            tracing::warn!(
                                channel,
                                message_id = earlier,
                                ?failure,
                                "could not make the earlier copy of a digest message read as the copy sent again yet; trying again"
                            );
                            return self.failed_for_now(&channel, limits, failure);
                        }
                        Err(ControlFlow::Continue(failure)) => {
                            self.store.looked_back(&look).await?;
                            tracing::warn!(
                                channel,
                                message_id = earlier,
                                newer = look.message_id,
                                ?failure,
                                "the earlier copy of a digest message cannot be edited; both stay"
                            );
                            self.possible_duplicate(
                                &channel,
                                format!(
                                    "{what} is in the chat twice (messages {earlier} and {}): its first answer was lost, and the earlier copy cannot be edited to read as the copy sent again ({})",
                                    look.message_id,
                                    failure.text()
                                ),
                            );
                            return Ok(Next::Now);
                        }
                    }
                }
                tracing::info!(
                    channel,
                    message_id = earlier,
                    newer = look.message_id,
                    "the earlier copy of a message sent again had arrived; it is recorded there"
                );
                let at = clock::now();
                let record = match look.digest {
                    Some(_) => PostRecord::Digest {
                        chat: look.chat.clone(),
                        message_id: earlier,
                        at,
                        chat_id: look.chat_id,
                    },
                    None => PostRecord::Sent {
                        chat: look.chat.clone(),
                        message_id: earlier,
                        photo: look.photo,
                        at,
                        chat_id: look.chat_id,
                    },
                };
                look.delete = Some(look.message_id);
                look.message_id = earlier;
                look.found += 1;
                self.store.update_look_back(&look, Some(&record)).await?;
                Ok(Next::Now)
            }
            Probe::Absent => {
                self.store.looked_back(&look).await?;
                tracing::info!(
                    channel,
                    message_id = look.message_id,
                    found = look.found,
                    "no earlier copy of a post sent again is in the chat: it is there once"
                );
                Ok(Next::Now)
            }
            Probe::Unknown(why) => {
                self.store.looked_back(&look).await?;
                self.possible_duplicate(
                    &channel,
                    format!(
                        "{what}: its answer was lost and the copy sent again (message {}) could not be compared with the messages below it ({why}); a duplicate is possible",
                        look.message_id
                    ),
                );
                Ok(Next::Now)
            }
            Probe::Stopped => Ok(Next::Now),
            // The group became a supergroup: its old messages are not the bot's to edit, so
            // the look can never be made. It ends, said loudly; retried, it would come before
            // everything else in the chat for ever.
            Probe::Failed(failure @ SendError::Migrated(_)) => {
                self.store.looked_back(&look).await?;
                self.possible_duplicate(
                    &channel,
                    format!(
                        "{what}: its answer was lost and the copy sent again (message {}) could not be compared with the messages below it (the chat moved: {}); a duplicate is possible",
                        look.message_id,
                        failure.text()
                    ),
                );
                Ok(Next::Now)
            }
            Probe::Failed(failure) => {
                tracing::warn!(
                    channel,
                    ?failure,
                    "could not look below a post sent again; trying again"
                );
                self.failed_for_now(&channel, limits, failure)
            }
        }
    }

    /// Edits the earlier copy `message_id` of a digest message to read as the copy sent again
    /// (`digest`), its text and its button; as plain text when Telegram cannot parse the HTML
    /// (the copy sent again went out so). "Not modified" is done. `Break` when the worker is
    /// told to stop; `Continue` with the failure otherwise.
    async fn retext(
        &self,
        chat: &Recipient,
        message_id: i32,
        digest: &DigestCopy,
        limits: &mut ChatLimits,
    ) -> Result<(), ControlFlow<(), SendError>> {
        let html = digest.text.html();
        let mut plain = false;
        loop {
            if acquire(limits, &self.global).await.is_err() {
                return Err(ControlFlow::Break(()));
            }
            let text = if plain {
                digest::plain(&digest.text).0
            } else {
                html.clone()
            };
            let edited = self
                .api
                .edit_digest(chat.clone(), message_id, text, &digest.text.keyboard, plain)
                .await;
            answered(limits, &self.global);
            match edited {
                Ok(()) | Err(RequestError::Api(ApiError::MessageNotModified)) => return Ok(()),
                Err(e) => match SendError::from_request(&e) {
                    SendError::BadMarkup(_) if !plain => plain = true,
                    failure => return Err(ControlFlow::Continue(failure)),
                },
            }
        }
    }

    /// The look below a copy of a post (`look_back`) owed when the post is recorded at it
    /// after sends that could not be looked for (`uncertain_sends`): each may have arrived,
    /// below it and above the newest id herald knew at the first of them. Owed whether the
    /// copy was answered or found by a search: a search starts above herald's newest message,
    /// which may be above an earlier copy. None when no such send was made.
    ///
    /// A digest message (`digest`: what the copy lists and says; `item` its first release) is
    /// looked for alike, by the buttons its lost sends went out with (a message's button is
    /// its own: it names the message's first release). Its lost sends are counted per message
    /// (the count starts again with each message of the digest). None when none of them is
    /// known by its button (sent by a version before the button: `uncertain` reported it).
    fn owed_look(
        &self,
        channel: &str,
        item: &Item,
        queued: &Queued,
        copy: CopyAt<'_>,
        digest: Option<DigestCopy>,
    ) -> Result<Option<LookBack>, StoreError> {
        let owed = queued.delivery.uncertain_sends;
        let lookable = match queued.delivery.kind {
            DeliveryKind::Post => true,
            DeliveryKind::Digest => digest.is_some() && !queued.delivery.lost_keyboards.is_empty(),
            DeliveryKind::Edit => false,
        };
        if owed == 0 || !lookable {
            return Ok(None);
        }
        // Known since the first lost send: herald's own posts since are above it (stepped
        // over by the look), the earlier copy too.
        let floor = match queued.delivery.lost_floor {
            Some(floor) => Some(floor),
            None => self.last_in_chat(&copy.chat)?,
        };
        Ok(Some(LookBack {
            channel: channel.to_owned(),
            source: item.source.clone(),
            item: item.id,
            title: item.title.clone(),
            link: item.link.clone(),
            chat_key: copy.chat_key.to_owned(),
            chat: copy.chat,
            chat_id: copy.chat_id,
            message_id: copy.message_id,
            floor,
            keyboard: copy.keyboard,
            lost_keyboards: queued.delivery.lost_keyboards.clone(),
            photo: copy.photo,
            owed,
            delete: None,
            found: 0,
            digest,
            unsure: Vec::new(),
        }))
    }

    /// The job's in-flight mark, with the chat's numeric id when herald knows it.
    fn mark_of(&self, job: &Job, group: &ChatGroup) -> Option<SendMark> {
        job.mark(group).map(|mut mark| {
            mark.chat_id = self.chat_number(&mark.chat);
            // Unread (a store error): the look below a copy sent again uses the floor then.
            mark.floor = self.last_in_chat(&mark.chat).ok().map(|l| l.unwrap_or(0));
            mark
        })
    }

    /// Where a recorded message is: by the chat's numeric id when known (recorded with it, or
    /// learnt for its `@name`), so that an edit reaches it after the `@name` changed.
    fn record_recipient(&self, chat: &str, chat_id: Option<i64>) -> Recipient {
        match chat_id.or_else(|| self.chat_number(chat)) {
            Some(id) => Recipient::Id(ChatId(id)),
            None => recipient_from_text(chat),
        }
    }
    /// Whether `channel` may send now: not paused, not holding its posts for silent hours.
    fn may_send(&self, channel: &Channel) -> Result<bool, StoreError> {
        let paused = self.store.channel_state(&channel.id)?.paused;
        let holding = channel
            .quiet
            .as_ref()
            .is_some_and(|q| q.holds(clock::now()));
        Ok(!paused && !holding)
    }

    /// A message accepted in a chat written as `@name` tells its numeric id: stored, and the
    /// chats grouped again at once when another entry of the config (in another group) turns
    /// out to post to that id, so that entries written either way are one chat.
    fn learn_chat_id(&self, channel: &Channel, accepted: Accepted) {
        if let ChatRef::Username(name) = &channel.chat
            && !matches!(self.store.chat_id(name), Ok(Some(id)) if id == accepted.chat_id)
        {
            match self.store.set_chat_id(name, accepted.chat_id) {
                Ok(()) if self.another_posts_to(channel, accepted.chat_id) => {
                    self.regroup.notify_one();
                }
                Ok(()) => {}
                Err(e) => tracing::warn!(chat = %name, error = %e, "could not store the chat's id"),
            }
        }
    }

    /// Whether an entry of the config that writes its chat otherwise than `channel` does posts
    /// to the chat `id` (written as the id, migrated to it, or another `@name` known as it).
    fn another_posts_to(&self, channel: &Channel, id: i64) -> bool {
        let config = self.config.get();
        let form = |chat: &ChatRef| match chat {
            ChatRef::Username(name) => name.to_lowercase(),
            ChatRef::Id(id) => id.to_string(),
        };
        let ours = form(&channel.chat);
        let mut others = config.channels.iter().filter(|c| form(&c.chat) != ours);
        others.any(|c| {
            let migrated = self
                .store
                .channel_state(&c.id)
                .ok()
                .and_then(|s| s.migrated_to);
            let number = match &c.chat {
                ChatRef::Id(n) => Some(*n),
                ChatRef::Username(name) => self.store.chat_id(name).ok().flatten(),
            };
            migrated.or(number) == Some(id)
        })
    }

    fn succeeded(
        &self,
        channel: &str,
        state: &mut ChannelState,
        limits: &ChatLimits,
    ) -> Result<(), StoreError> {
        let was_blocked = state.blocked.is_some();
        if was_blocked {
            tracing::info!(channel, "channel works again");
        }
        state.recent_calls = limits.recent();
        state.held_until = limits.held_until();
        state.blocked = None;
        state.last_success = Some(clock::now());
        self.save_state(channel, state)?;
        if was_blocked {
            self.tell_block(channel);
        }
        Ok(())
    }

    /// Records a failure of a call for the channel entry `id` (a send, an edit, or a search's
    /// probe) and says when to try the same delivery again.
    fn failed(
        &self,
        id: &str,
        state: &mut ChannelState,
        limits: &mut ChatLimits,
        error: SendError,
    ) -> Result<Next, StoreError> {
        let id = id.to_owned();
        state.recent_calls = limits.recent();
        metrics::counter!("herald_telegram_errors_total", "channel" => id.clone()).increment(1);
        let next = match &error {
            SendError::RetryAfter(d) => {
                metrics::counter!("herald_telegram_429_total", "channel" => id.clone())
                    .increment(1);
                tracing::warn!(channel = %id, retry_after = ?d, "Telegram asked to slow down");
                limits.hold(*d);
                // Stored, so that a worker started later (a restart, a config edit) waits too.
                state.held_until = limits.held_until();
                self.save_state(&id, state)?;
                return Ok(Next::Now);
            }
            SendError::Migrated(new_id) => {
                tracing::warn!(channel = %id, new_id, "chat migrated; following it");
                state.migrated_to = Some(*new_id);
                Next::Now
            }
            SendError::Blocked(reason) => {
                if state.blocked.is_none() {
                    tracing::error!(channel = %id, %reason, "channel blocked: posts stay queued until the bot can post again");
                }
                state.blocked = Some(reason.clone());
                Next::Blocked
            }
            SendError::Uncertain(reason)
            | SendError::Refused(reason)
            | SendError::Unreached(reason) => {
                tracing::warn!(channel = %id, %reason, "delivery failed; will retry");
                Next::Backoff
            }
            // Refused for good, after the fallbacks (text for a photo, plain text for bad
            // markup, the other edit method): sent again, it would be refused again and hold up
            // every post behind it.
            SendError::Rejected(_)
            | SendError::PhotoRefused
            | SendError::BadMarkup(_)
            | SendError::EditMoot
            | SendError::WrongEditKind { .. } => Next::SetAside(error.text()),
        };
        state.last_error = Some(error.text());
        state.last_error_at = Some(clock::now());
        self.save_state(&id, state)?;
        if matches!(next, Next::Blocked) {
            self.tell_block(&id);
        }
        Ok(next)
    }

    /// A call that serves a post already delivered (a search, a restore, a look below a copy
    /// sent again) failed: the chat waits for it as for a failed send (the channel's state, the
    /// metrics and the admins say why), but nothing is set aside: the post is in the chat, or
    /// may be.
    fn failed_for_now(
        &self,
        channel: &str,
        limits: &mut ChatLimits,
        failure: SendError,
    ) -> Result<Next, StoreError> {
        let mut state = self.store.channel_state(channel)?;
        Ok(match self.failed(channel, &mut state, limits, failure)? {
            Next::SetAside(_) => Next::Backoff,
            next => next,
        })
    }
}

impl<A: TelegramApi> Deliverer<A> {
    /// Telegram refused the delivery for good: it leaves the queue's head, kept in the store
    /// (`/requeue` puts it back), and the admins are told once. The channel's queue goes on.
    async fn set_aside(
        &self,
        channel: &Channel,
        queued: &Queued,
        reason: &str,
    ) -> Result<Next, StoreError> {
        let n = self.store.set_aside(queued, reason).await?;
        let id = &channel.id;
        metrics::counter!("herald_posts_set_aside_total", "channel" => id.clone()).increment(1);
        let item = &queued.delivery.item;
        tracing::error!(channel = %id, source = %item.source, item = %item.id, kind = ?queued.delivery.kind, %reason, "Telegram refused a delivery for good; set aside, the queue goes on");
        self.tell_set_aside(id, queued, reason, n);
        Ok(Next::Now)
    }

    /// Tells the admins about the set-aside deliveries of the chat's entries that they were not
    /// told about, and about a block (or its end) they were not told of: herald stopped between
    /// the change and its alert.
    fn tell_untold(&self, group: &ChatGroup) {
        for channel in &group.entries {
            self.tell_block(&channel.id);
            match self.store.untold_set_aside(&channel.id) {
                Ok(untold) => {
                    for (queued, reason, n) in untold {
                        self.tell_set_aside(&channel.id, &queued, &reason, n);
                    }
                }
                Err(e) => {
                    tracing::warn!(channel = %channel.id, error = %e, "cannot read the set-aside posts")
                }
            }
        }
    }

    /// The admins' alert for a set-aside delivery, sent without holding up the channel's
    /// queue; once it went (or herald gave up on it), the store records that they were told.
    fn tell_set_aside(&self, id: &str, queued: &Queued, reason: &str, n: u64) {
        let Some(alerts) = self.alerts.clone() else {
            return;
        };
        let item = &queued.delivery.item;
        let what = match queued.delivery.kind {
            DeliveryKind::Post => format!("the post of “{}” ({})", item.title, item.link),
            DeliveryKind::Edit => format!("the correction of “{}” ({})", item.title, item.link),
            DeliveryKind::Digest => format!(
                "a digest of {} releases of {}",
                queued.delivery.items.len(),
                item.source
            ),
        };
        let text = format!(
            "⚠️ herald: channel {id}: Telegram refused {what} for good ({reason}). It is set aside and the next posts go on; /requeue {id} sends it again."
        );
        // Kept until Telegram takes it, in the transaction that records the admins as told.
        if alerts.durable() {
            let store = &self.store;
            let kept = alerts.keep_with(&text, |admins, text| {
                store.mark_told_with_alert(&queued.key, n, admins, text)
            });
            if let Err(e) = kept {
                tracing::error!(channel = %id, error = %e, alert = %text, "could not store an admin alert; it goes at the chat's next start");
            }
            return;
        }
        // This setting aside of this delivery: the key alone would also name a later one.
        let subject = [queued.key.as_slice(), &n.to_be_bytes()].concat();
        if !alerts.claim(&subject) {
            return;
        }
        let (store, key) = (self.store.clone(), queued.key.clone());
        tokio::spawn(async move {
            alerts.tell(&text).await;
            if let Err(e) = store.mark_told(&key, n) {
                tracing::warn!(error = %e, "cannot record that the admins were told");
            }
            alerts.release(&subject);
        });
    }

    /// Tells the admins that the channel entry `id` is blocked, or works again, without holding
    /// up its queue. What they were told is recorded once the alert went
    /// (`Store::told_blocked`) and compared with the channel's state after each change and when
    /// the chat's worker starts: an alert lost to a stop or a kill between the change and its
    /// alert is sent at the next start, and none is sent twice.
    fn tell_block(&self, id: &str) {
        let Some(alerts) = self.alerts.clone() else {
            return;
        };
        let subject = format!("\u{1}blocked\u{0}{id}").into_bytes();
        if !alerts.claim(&subject) {
            // Being told now: that task looks at the state again once its alert went.
            return;
        }
        let (store, id) = (self.store.clone(), id.to_owned());
        if alerts.durable() {
            // Kept until Telegram takes it, in the transaction that records what the admins
            // were told. The subject stays claimed meanwhile: no other task tells it twice.
            loop {
                let Some((text, told)) = owed_block_alert(&store, &id) else {
                    alerts.release(&subject);
                    if owed_block_alert(&store, &id).is_some() && alerts.claim(&subject) {
                        continue;
                    }
                    return;
                };
                let kept = alerts.keep_with(&text, |admins, text| {
                    store.set_told_blocked_with_alert(&id, told.as_deref(), admins, text)
                });
                if let Err(e) = kept {
                    tracing::error!(channel = %id, error = %e, alert = %text, "could not store an admin alert; it goes at the chat's next start");
                    alerts.release(&subject);
                    return;
                }
            }
        }
        tokio::spawn(async move {
            loop {
                let Some((text, told)) = owed_block_alert(&store, &id) else {
                    alerts.release(&subject);
                    // A change made just before the release found the subject claimed.
                    if owed_block_alert(&store, &id).is_some() && alerts.claim(&subject) {
                        continue;
                    }
                    return;
                };
                alerts.tell(&text).await;
                if let Err(e) = store.set_told_blocked(&id, told.as_deref()).await {
                    tracing::warn!(channel = %id, error = %e, "cannot record that the admins were told");
                    alerts.release(&subject);
                    return;
                }
            }
        });
    }
}

/// The alert the admins of channel entry `id` are owed about its block, with what they will
/// have been told once it went: the state says blocked and they were not told, or it works and
/// they were last told it is blocked.
fn owed_block_alert(store: &Store, id: &str) -> Option<(String, Option<String>)> {
    let read = store.channel_state(id).and_then(|state| {
        let told = store.told_blocked(id)?;
        Ok((state.blocked, told))
    });
    match read {
        Ok((Some(reason), None)) => Some((
            format!(
                "⚠️ herald: channel {id} is blocked ({reason}). Its posts stay queued; herald tries again every {} minutes.",
                BLOCKED_RETRY.as_secs() / 60
            ),
            Some(reason),
        )),
        Ok((None, Some(_))) => Some((format!("✅ herald: channel {id} works again."), None)),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(channel = %id, error = %e, "cannot read whether the admins were told of the channel's block");
            None
        }
    }
}

/// How much of a message's HTML a log line shows.
const LOGGED_HTML: usize = 1_000;

/// `text` as a log shows it: at most `max` bytes, cut at a character boundary (never inside a
/// UTF-8 sequence), "…" where it was cut.
fn snippet(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Why a search could not tell whether `id` is the message it looks for (`Probe::Unsure`).
fn unsure_why(id: i32) -> String {
    format!(
        "message {id} has its buttons, but a probe of herald's that set them went unanswered, so it may be another message"
    )
}

/// Where an accepted post is, for later edits.
fn sent_record(chat: &Recipient, message_id: i32, chat_id: Option<i64>, post: &Post) -> PostRecord {
    PostRecord::Sent {
        chat: chat_text(chat),
        message_id,
        photo: post.method == Method::SendPhoto,
        at: clock::now(),
        chat_id,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A log's snippet of HTML is cut at a character boundary, never inside one.
    #[test]
    fn a_logged_snippet_is_cut_between_characters() {
        let html = "<b>Обычная новость</b>";
        for max in 0..html.len() + 2 {
            let cut = snippet(html, max);
            assert!(html.starts_with(cut.trim_end_matches('…')), "{cut}");
        }
        assert_eq!(snippet(html, 9), "<b>Обы…");
        assert_eq!(snippet(html, 10), "<b>Обы…");
        assert_eq!(snippet(html, 100), html);
    }

    /// `/healthz`, the logs and the admins read an error in words, never its Debug form
    /// ("Migrated(-1001000000555)").
    #[test]
    fn every_error_reads_as_words() {
        let errors = [
            SendError::RetryAfter(Duration::from_secs(7)),
            SendError::Migrated(-1_001_000_000_555),
            SendError::PhotoRefused,
            SendError::EditMoot,
            SendError::WrongEditKind { photo: true },
            SendError::WrongEditKind { photo: false },
        ];
        for error in errors {
            let text = error.text();
            let debug = format!("{error:?}");
            let name = debug.split(['(', ' ']).next().unwrap();
            assert!(!text.contains(name), "{text}");
        }
        assert!(
            SendError::Migrated(-1_001_000_000_555)
                .text()
                .contains("-1001000000555")
        );
    }

    #[test]
    fn errors_map_to_actions() {
        assert_eq!(
            SendError::from_request(&RequestError::RetryAfter(
                teloxide::types::Seconds::from_seconds(7)
            )),
            SendError::RetryAfter(Duration::from_secs(7))
        );
        assert_eq!(
            SendError::from_request(&RequestError::MigrateToChatId(ChatId(-100123))),
            SendError::Migrated(-100123)
        );
        assert!(matches!(
            SendError::from_request(&RequestError::Api(ApiError::BotKickedFromChannel)),
            SendError::Blocked(_)
        ));
        assert!(matches!(
            SendError::from_request(&RequestError::Api(ApiError::ChatNotFound)),
            SendError::Blocked(_)
        ));
        assert_eq!(
            SendError::from_request(&RequestError::Api(ApiError::MessageToEditNotFound)),
            SendError::EditMoot
        );
        assert_eq!(
            SendError::from_request(&RequestError::Api(ApiError::MessageNotModified)),
            SendError::EditMoot
        );
        assert!(matches!(
            SendError::from_request(&RequestError::Api(ApiError::CantParseEntities("x".into()))),
            SendError::BadMarkup(_)
        ));
        assert_eq!(
            SendError::from_request(&RequestError::Api(ApiError::Unknown(
                "Bad Request: wrong type of the web page content".into()
            ))),
            SendError::PhotoRefused
        );
        assert!(matches!(
            SendError::from_request(&RequestError::Api(ApiError::Unknown(
                "Internal Server Error".into()
            ))),
            SendError::Refused(_)
        ));
    }

    /// Telegram's answers by their text, as teloxide hands over the ones it does not name.
    #[rstest::rstest]
    #[case::photo_dimensions("Bad Request: PHOTO_INVALID_DIMENSIONS", SendError::PhotoRefused)]
    #[case::photo_unreachable("Bad Request: WEBPAGE_CURL_FAILED", SendError::PhotoRefused)]
    #[case::photo_empty("Bad Request: WEBPAGE_MEDIA_EMPTY", SendError::PhotoRefused)]
    #[case::no_caption(
        "Bad Request: there is no caption in the message to edit",
        SendError::WrongEditKind { photo: false }
    )]
    #[case::no_text(
        "Bad Request: there is no text in the message to edit",
        SendError::WrongEditKind { photo: true }
    )]
    #[case::for_good(
        "Bad Request: BUTTON_URL_INVALID",
        SendError::Rejected("Bad Request: BUTTON_URL_INVALID".into())
    )]
    #[case::no_rights(
        "Bad Request: not enough rights to send text messages to the chat",
        SendError::Blocked("Bad Request: not enough rights to send text messages to the chat".into())
    )]
    #[case::not_a_member(
        "Forbidden: bot is not a member of the channel chat",
        SendError::Blocked("Forbidden: bot is not a member of the channel chat".into())
    )]
    #[case::server_error("Bad Gateway", SendError::Refused("Bad Gateway".into()))]
    fn answers_by_text(#[case] text: &str, #[case] expected: SendError) {
        assert_eq!(
            SendError::from_request(&RequestError::Api(ApiError::Unknown(text.into()))),
            expected
        );
    }

    /// Answers teloxide names: a 400 is for good, the rest is retried.
    #[test]
    fn named_bad_requests_are_for_good() {
        assert_eq!(
            SendError::from_request(&RequestError::Api(ApiError::MessageIsTooLong)),
            SendError::Rejected("Bad Request: message is too long".into())
        );
        assert_eq!(
            SendError::from_request(&RequestError::Api(ApiError::MessageIdInvalid)),
            SendError::EditMoot
        );
        assert!(matches!(
            SendError::from_request(&RequestError::Api(ApiError::TerminatedByOtherGetUpdates)),
            SendError::Refused(_)
        ));
    }
}
