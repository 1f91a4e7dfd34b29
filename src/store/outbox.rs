//! The Telegram outbox: the only queue of posts and edits. A delivery is enqueued in the same
//! transaction that stores its item, and leaves the outbox only in the transaction that records
//! Telegram's `message_id`, so a crash at any moment loses nothing.
//!
//! A digest (a channel's `digest_over`) is one delivery listing several items; each of its
//! messages, once accepted, records its items as delivered (`PostRecord::Digest`) and the
//! digest's progress (`parts_done`) in one transaction, and the last one takes it off the queue.
//!
//! Trees and keys:
//! - `outbox`:    channel ++ 0 ++ seq (u64, big-endian)      → Delivery (JSON, deflated when long,
//!   see `codec`); FIFO per channel
//! - `in_flight`: an `outbox` key                            → SendMark (JSON; empty in databases
//!   from before it); a send of it has started and its outcome is not recorded yet. A flag of its own, so that starting a send writes a few bytes
//!   instead of the whole delivery again (`Delivery::in_flight` is how earlier versions kept it)
//! - `set_aside`: an `outbox` key                            → {reason, at} (JSON); Telegram refused
//!   the delivery for good: it keeps its place and its record but is not sent (nor counted as
//!   pending) until an admin's `/requeue` takes the mark away. A tree of its own, so that the
//!   delivery is not rewritten and databases from before it read as they are
//! - `posts`:     channel ++ 0 ++ source ++ 0 ++ item id     → PostRecord (JSON); one per item and
//!   channel for ever (digests included), so an item is never queued twice for a channel
//! - `baselines`: channel ++ 0 ++ source                     → (); the source's first poll for the
//!   channel happened (only `backfill` items were posted then)
//! - `channels`:  channel                                    → ChannelState (JSON)
//! - `last_message`: channel                                 → newest message id (i32 BE); also
//!   per chat: 0x01 ++ the chat's key, whichever entry posted there; and per chat actually sent
//!   to: 0x01 ++ "=" ++ the chat as sent (lower case), which never mixes two chats' ids
//! - `chat_calls`: a chat's key (see `deliver::ChatGroup`)    → ChatCalls (JSON): its calls of the
//!   last minute and its 429 hold, whichever entry's worker made them
//! - `chat_ids`:  `@name` of a chat (lower case)             → the chat's numeric id (i64 BE), as
//!   Telegram answered it: which channel entries post to one chat
//! - `digest_messages`: the chat as sent (lower case) ++ 0 ++ message id (i32 BE) →
//!   DigestMessage (JSON, deflated when long): what a digest message lists and says, written
//!   with its items' records, so that a correction of one of them edits the message

use super::{Store, StoreError, codec, transaction_error};
use crate::model::{Item, ItemId};
use crate::quiet::clock;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{
    ConflictableTransactionError, TransactionalTree, UnabortableTransactionError,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryKind {
    /// A new post.
    Post,
    /// An edit of the post after the source corrected the release.
    Edit,
    /// One message (or a few, when long) listing the releases of a burst, instead of a post
    /// each (a channel's `digest_over`). Its releases are in `Delivery::items`.
    Digest,
}

/// A delivery a poll makes due.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDelivery {
    pub channel: String,
    pub kind: DeliveryKind,
    /// A copy of the item as stored now: the item may leave the feed (beyond `max_items`) before
    /// the post goes out, and the post must not be lost with it. For a digest: its first item.
    /// Stored as given: the poll leaves out what the post does not need (the body, mostly).
    pub item: Item,
    /// A digest's items, oldest first (empty for a post or an edit).
    pub items: Vec<Item>,
}

impl NewDelivery {
    /// A digest of `items` (oldest first, at least one) for `channel`.
    pub fn digest(channel: &str, items: Vec<Item>) -> NewDelivery {
        NewDelivery {
            channel: channel.to_owned(),
            kind: DeliveryKind::Digest,
            item: items[0].clone(),
            items,
        }
    }
}

/// A delivery waiting in the outbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub kind: DeliveryKind,
    pub item: Item,
    pub enqueued: DateTime<Utc>,
    /// Sends started for this delivery whose outcome was never recorded (the process died
    /// while Telegram had the request): each one may have produced a duplicate.
    #[serde(default)]
    pub uncertain_sends: u32,
    /// True while a send is in flight (flagged, and flushed, just before the request). Kept in
    /// the `in_flight` tree; stored `true` only by versions before it.
    #[serde(default)]
    pub in_flight: bool,
    /// A digest's items, oldest first; empty for posts and edits (and in records written before
    /// digests existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
    /// How many messages of a split digest Telegram has accepted: a restart goes on with the
    /// next one.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub parts_done: u32,
    /// How many of a digest's items (from the first) Telegram has accepted: the next message
    /// is split from the rest, so that a reload changing the split, or a restart, neither skips
    /// nor repeats a release (issue 25). Zero with `parts_done` above zero: a record from before
    /// it, whose progress is a part number only.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub items_done: u32,
    /// The keyboards (rows of (label, URL)) that the post's lost sends went out with, each
    /// once, from their send marks: a correction may change the buttons before the post goes
    /// out again, and the look below the copy sent again searches with these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost_keyboards: Vec<Vec<Vec<(String, String)>>>,
    /// The newest message id herald knew in the chat when the first lost send was made (0: it
    /// knew none), from its send mark: the earlier copy is above it, whatever herald posted
    /// in the chat since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_floor: Option<i32>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What [`Store::move_channel`] moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MovedChannel {
    /// Queued deliveries now under the new id.
    pub deliveries: usize,
    /// Post records now under the new id.
    pub records: usize,
    /// Queued posts of items the new id had a record of already (posted or queued there).
    pub dropped: usize,
}

/// A delivery with its place in the queue.
#[derive(Clone, Debug)]
pub struct Queued {
    pub key: Vec<u8>,
    pub delivery: Delivery,
}

/// What became of an item in a channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum PostRecord {
    /// In the outbox, not yet accepted by Telegram.
    Queued,
    /// Accepted: where it is, so that corrections can edit it.
    Sent {
        chat: String,
        message_id: i32,
        /// The post is a photo with a caption (edits use editMessageCaption).
        photo: bool,
        at: DateTime<Utc>,
        /// The chat's numeric id, as Telegram answered it: an `@name` can change hands or be
        /// renamed, the id never does. None in records written before it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chat_id: Option<i64>,
    },
    /// Listed in a digest message: delivered in the message `message_id` (see
    /// [`DigestMessage`]), which a correction edits.
    Digest {
        chat: String,
        message_id: i32,
        at: DateTime<Utc>,
        /// The chat's numeric id (see `Sent`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chat_id: Option<i64>,
    },
}

/// What a send in flight was: where it went and how to know it again, so that a search for it
/// needs nothing from the config (its source or channel entry may be gone by then).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SendMark {
    /// The chat's key (see `deliver::ChatGroup`): which worker looks for it.
    pub chat_key: String,
    /// The chat as the send named it (an id, or `@name`).
    pub chat: String,
    /// The post's keyboard rows as (label, URL), or a digest message's one button; none in
    /// marks of digest messages from before that button.
    pub keyboard: Option<Vec<Vec<(String, String)>>>,
    /// The post is a photo with a caption.
    pub photo: bool,
    /// A digest message: the range of its items that the message lists.
    pub digest_items: Option<(usize, usize)>,
    /// A digest message: its text, recorded with the message once it is found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest_text: Option<DigestText>,
    /// The chat's numeric id when herald knew it at the send: the search goes there even
    /// after the chat's `@name` changed. None in marks written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<i64>,
    /// The newest message id herald knew in the chat when the send was made (0: it knew
    /// none): a look below a copy sent again stops above it. None in marks written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<i32>,
}

/// A message that a search for a lost send changed (it took the sought post's buttons, so it
/// is not that post) and whose buttons are owed back. Kept durably until they are back: a
/// later search would take the message for the post, whose buttons it now has.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OwedRestore {
    /// The chat's key (see `deliver::ChatGroup`): which worker puts the buttons back.
    pub chat_key: String,
    /// The chat as the search called it (an id, or `@name`).
    pub chat: String,
    pub message_id: i32,
    /// The buttons the message had, as herald knows them: none for a message herald did not
    /// send.
    pub keyboard: Vec<Vec<(String, String)>>,
}

/// A post (or a digest message) sent again after its first send went unanswered and could not
/// be looked for, now accepted: the ids below it are owed a look for the earlier copy (see
/// `deliver::Deliverer::look_back`). Written with the post's record (the digest message's), in
/// one transaction, and kept until the look is over, so that a restart at any point goes on
/// with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LookBack {
    /// The channel entry of the post, and the post's source and item (a digest message's
    /// first).
    pub channel: String,
    pub source: String,
    pub item: ItemId,
    /// The post's title and link, for the report.
    pub title: String,
    pub link: String,
    /// The chat's key (see `deliver::ChatGroup`): which worker looks.
    pub chat_key: String,
    /// The chat as the send named it (an id, or `@name`), and its numeric id when known.
    pub chat: String,
    pub chat_id: Option<i64>,
    /// The copy the post is recorded at now: the look is below it.
    pub message_id: i32,
    /// The newest message id herald knew in the chat when the first lost send was made (from
    /// its mark; in looks of older deliveries, before the post was sent again): the look stops
    /// above it. None or 0: herald knew none.
    pub floor: Option<i32>,
    /// The post's keyboard rows as (label, URL): the earlier copy has exactly these.
    pub keyboard: Vec<Vec<(String, String)>>,
    /// The keyboards the lost sends went out with (see `Delivery::lost_keyboards`): the
    /// earlier copies have one of these. Empty in looks written before it: `keyboard`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost_keyboards: Vec<Vec<Vec<(String, String)>>>,
    pub photo: bool,
    /// How many earlier sends may have arrived (each unanswered one): the look ends once as
    /// many copies are found.
    pub owed: u32,
    /// A newer copy, found to be a duplicate, that is owed a deleteMessage.
    pub delete: Option<i32>,
    /// Earlier copies found so far.
    pub found: u32,
    /// A digest message's look: what the copy sent again lists and says. None for a post's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<DigestCopy>,
    /// Messages met below the copy that have its buttons, but maybe from a probe of herald's
    /// whose answer was lost (see `deliver::Probe::Unsure`): reported once, then stepped over.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsure: Vec<i32>,
}

/// A digest message sent again after unanswered sends (see [`LookBack`]): the releases it lists
/// (of the look's source, in order) and its text. An earlier copy found below it is edited to
/// read so (a correction, or a split changed by a reload, may have made the copies differ), then
/// the releases are recorded there with this text, so that corrections edit that copy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DigestCopy {
    pub items: Vec<ItemId>,
    pub text: DigestText,
}

/// A look back's key in the default tree: by the post.
fn look_back_key(look: &LookBack) -> Vec<u8> {
    let mut k = LOOK_BACK.to_vec();
    k.extend_from_slice(&post_key(&look.channel, &look.source, &look.item));
    k
}

const LOOK_BACK: &[u8] = b"look-back\0";

/// An owed restore's key in the default tree.
fn owed_restore_key(chat: &str, message_id: i32) -> Vec<u8> {
    let mut k = OWED_RESTORE.to_vec();
    k.extend_from_slice(chat.to_lowercase().as_bytes());
    k.push(0);
    k.extend_from_slice(&message_id.to_be_bytes());
    k
}

const OWED_RESTORE: &[u8] = b"restore-owed\0";

/// A probe's key in the default tree: by the chat as the search called it, and the id.
fn probe_key(chat: &str, message_id: i32) -> Vec<u8> {
    let mut k = PROBE_UNANSWERED.to_vec();
    k.extend_from_slice(chat.to_lowercase().as_bytes());
    k.push(0);
    k.extend_from_slice(&message_id.to_be_bytes());
    k
}

/// The ids a search's probe was sent to without an answer (see `probe_begun`), with the button
/// rows each such probe set.
const PROBE_UNANSWERED: &[u8] = b"probe-unanswered\0";

/// A digest message's text in its three pieces: the header, one line per release listed, and
/// the footer (see `telegram::digest`). Kept by piece so that a correction rewrites its
/// release's line and leaves the rest of the message as it was sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestText {
    pub head: String,
    pub lines: Vec<String>,
    pub foot: String,
    /// The message's button rows as (label, URL): one button, unique to the message (see
    /// `telegram::digest::keyboard`); none in messages sent before it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keyboard: Vec<Vec<(String, String)>>,
}

impl DigestText {
    /// The message's HTML: the header, the lines, the footer, a blank line between them.
    pub fn html(&self) -> String {
        format!(
            "{}\n\n{}\n\n{}",
            self.head,
            self.lines.join("\n"),
            self.foot
        )
    }
}

/// A digest message as sent: the source and items it lists (one line each, in order) and its
/// text as it stands in the chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestMessage {
    pub source: String,
    pub items: Vec<ItemId>,
    pub text: DigestText,
    pub at: DateTime<Utc>,
}

/// One digest message Telegram accepted (see [`Store::complete_digest_part_in`]): the items it
/// lists, where it is, its text when known, and whether it is the digest's last.
pub struct DigestPartSent<'a> {
    pub items: &'a [Item],
    pub record: PostRecord,
    pub text: Option<&'a DigestText>,
    pub last: bool,
    /// The look below the message owed when it was sent again after unanswered sends.
    pub look: Option<&'a LookBack>,
}

/// A digest message's key in `digest_messages`: message ids are per chat.
fn digest_message_key(chat: &str, message_id: i32) -> Vec<u8> {
    let mut k = chat.to_lowercase().into_bytes();
    k.push(0);
    k.extend_from_slice(&message_id.to_be_bytes());
    k
}

/// A chat's calls of the last minute and the end of its last 429's hold (wall clock), kept for
/// the next worker of the chat (after a restart, a kill, a config edit of its entries).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCalls {
    pub recent: Vec<DateTime<Utc>>,
    pub held_until: Option<DateTime<Utc>>,
}

/// What the store remembers about a channel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelState {
    /// Set when Telegram said the group moved (`migrate_to_chat_id`).
    pub migrated_to: Option<i64>,
    /// Why the channel is paused (kicked, not admin, chat not found), if it is.
    pub blocked: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    /// Paused by an admin (`/pause`): nothing is sent, the queue keeps.
    #[serde(default)]
    pub paused: bool,
    /// Calls to the chat in the last minute (see `telegram::limits::ChatLimits`).
    #[serde(default)]
    pub recent_calls: Vec<DateTime<Utc>>,
    /// The end of the hold of Telegram's last 429 for the chat: no call before it, also by a
    /// worker started later (a restart, a config edit of the channel). `None` once a call went
    /// through after it.
    #[serde(default)]
    pub held_until: Option<DateTime<Utc>>,
    /// The chat the channel's config entry names (`@name` in lower case, or the id), recorded
    /// at each start and reload: once the entry is gone or renamed, it tells which entry posts
    /// to the same chat now (see [`Store::move_channel`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<String>,
    /// New releases the channel's `include` / `exclude` kept out of it, in all.
    #[serde(default)]
    pub filtered: u64,
    /// New releases kept out of it since the last one that passed its filters: a channel whose
    /// filters pass nothing shows it (see `pipeline::FILTERED_WARN`).
    #[serde(default)]
    pub filtered_in_a_row: u64,
}

fn channel_prefix(channel: &str) -> Vec<u8> {
    let mut k = channel.as_bytes().to_vec();
    k.push(0);
    k
}

pub(super) fn post_key(channel: &str, source: &str, id: &ItemId) -> Vec<u8> {
    let mut k = channel_prefix(channel);
    k.extend_from_slice(source.as_bytes());
    k.push(0);
    k.extend_from_slice(&id.0);
    k
}

pub(super) fn baseline_key(channel: &str, source: &str) -> Vec<u8> {
    let mut k = channel_prefix(channel);
    k.extend_from_slice(source.as_bytes());
    k
}

/// A delivery with its outbox key and the `posts` keys of its items, ready for a transaction.
pub(super) struct Prepared {
    key: Vec<u8>,
    /// One per item: the post's own, or each of a digest's.
    post_keys: Vec<Vec<u8>>,
    delivery: Delivery,
}

type TxResult<T> = Result<T, ConflictableTransactionError<()>>;

/// Inside a transaction: enqueue each delivery. A post for an item already queued or sent to
/// that channel is skipped, so nothing is ever posted twice by herald's own logic.
pub(super) fn enqueue_in(
    outbox: &TransactionalTree,
    posts: &TransactionalTree,
    deliveries: &[Prepared],
) -> TxResult<()> {
    for d in deliveries {
        match d.delivery.kind {
            DeliveryKind::Post => {
                if posts.get(&d.post_keys[0])?.is_some() {
                    continue;
                }
                posts.insert(d.post_keys[0].clone(), encode(&PostRecord::Queued)?)?;
                outbox.insert(d.key.clone(), encode(&d.delivery)?)?;
            }
            DeliveryKind::Digest => {
                // Each item once per channel, digest or not: items already queued or sent
                // there are left out of the digest.
                let mut digest = d.delivery.clone();
                let mut kept = Vec::with_capacity(digest.items.len());
                for (item, key) in digest.items.drain(..).zip(&d.post_keys) {
                    if posts.get(key)?.is_none() {
                        posts.insert(key.clone(), encode(&PostRecord::Queued)?)?;
                        kept.push(item);
                    }
                }
                let Some(first) = kept.first() else {
                    continue;
                };
                digest.item = first.clone();
                digest.items = kept;
                outbox.insert(d.key.clone(), encode(&digest)?)?;
            }
            DeliveryKind::Edit => {
                outbox.insert(d.key.clone(), encode(&d.delivery)?)?;
            }
        }
    }
    Ok(())
}

/// Inside a transaction: records `id` as the channel's newest message id unless one newer is.
/// A chat's key in `last_message`: a byte no channel id has, then the key.
fn chat_last_key(chat_key: &str) -> String {
    format!("\u{1}{chat_key}")
}

/// The chat a message was accepted in and its id, as the record says: ids are per chat, so the
/// last known one is kept per chat actually sent to (after a group's migration, the supergroup)
/// besides the channel entry's and the chat key's, which mix the two chats' ids.
/// A record with the chat's numeric id counts for that id too, so that the chat is known by it
/// whatever its `@name` was or becomes.
fn accepted_in(record: &PostRecord) -> Vec<(String, i32)> {
    match record {
        PostRecord::Sent {
            chat,
            message_id,
            chat_id,
            ..
        }
        | PostRecord::Digest {
            chat,
            message_id,
            chat_id,
            ..
        } => std::iter::once(chat.to_lowercase())
            .chain(chat_id.map(|id| id.to_string()))
            .map(|form| (chat_last_key(&format!("={form}")), *message_id))
            .collect(),
        PostRecord::Queued => Vec::new(),
    }
}

fn raise_last_message(last_message: &TransactionalTree, channel: &str, id: i32) -> TxResult<()> {
    let newer = match last_message.get(channel)? {
        Some(v) => v.len() == 4 && i32::from_be_bytes([v[0], v[1], v[2], v[3]]) < id,
        None => true,
    };
    if newer {
        last_message.insert(channel, &id.to_be_bytes()[..])?;
    }
    Ok(())
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, UnabortableTransactionError> {
    codec::encode(value)
        .map_err(|e| UnabortableTransactionError::Storage(sled::Error::Unsupported(e.to_string())))
}

impl Store {
    pub(super) fn prepare_deliveries(
        &self,
        deliveries: &[super::NewDelivery],
    ) -> Result<Vec<Prepared>, StoreError> {
        let now = clock::now();
        deliveries
            .iter()
            .map(|d| {
                let mut key = channel_prefix(&d.channel);
                key.extend_from_slice(&self.db.generate_id()?.to_be_bytes());
                let delivery = Delivery {
                    kind: d.kind,
                    item: d.item.clone(),
                    enqueued: now,
                    uncertain_sends: 0,
                    in_flight: false,
                    items: d.items.clone(),
                    parts_done: 0,
                    items_done: 0,
                    lost_keyboards: Vec::new(),
                    lost_floor: None,
                };
                let items = if d.items.is_empty() {
                    std::slice::from_ref(&d.item)
                } else {
                    d.items.as_slice()
                };
                Ok(Prepared {
                    key,
                    post_keys: items
                        .iter()
                        .map(|i| post_key(&d.channel, &i.source, &i.id))
                        .collect(),
                    delivery,
                })
            })
            .collect()
    }

    /// A queued delivery as read from the outbox, with its in-flight flag.
    fn queued(&self, key: &[u8], bytes: &[u8]) -> Result<Queued, StoreError> {
        let mut delivery: Delivery = codec::decode(bytes)?;
        delivery.in_flight |= self.in_flight.contains_key(key)?;
        Ok(Queued {
            key: key.to_vec(),
            delivery,
        })
    }

    /// The oldest delivery waiting for `channel`.
    pub fn next_delivery(&self, channel: &str) -> Result<Option<Queued>, StoreError> {
        self.next_delivery_where(channel, |_| true)
    }

    /// The oldest queued delivery of `channel` that `wanted` accepts; the others keep their
    /// place (e.g. the posts of a source briefly missing from the config wait for it). Set-aside
    /// deliveries are not offered.
    pub fn next_delivery_where(
        &self,
        channel: &str,
        wanted: impl Fn(&Delivery) -> bool,
    ) -> Result<Option<Queued>, StoreError> {
        for entry in self.outbox.scan_prefix(channel_prefix(channel)) {
            let (key, bytes) = entry?;
            if self.set_aside.contains_key(&key)? {
                continue;
            }
            let queued = self.queued(&key, &bytes)?;
            if wanted(&queued.delivery) {
                return Ok(Some(queued));
            }
        }
        Ok(None)
    }

    /// A delivery of `channel` whose send started and whose outcome is not recorded (its answer
    /// was lost, or herald died mid-send), if there is one in the queue. Set-aside deliveries
    /// are not offered.
    pub fn in_flight_delivery(&self, channel: &str) -> Result<Option<Queued>, StoreError> {
        for key in self.in_flight.scan_prefix(channel_prefix(channel)).keys() {
            let key = key?;
            if self.set_aside.contains_key(&key)? {
                continue;
            }
            if let Some(bytes) = self.outbox.get(&key)? {
                return Ok(Some(self.queued(&key, &bytes)?));
            }
        }
        Ok(None)
    }

    /// Sends in flight to the chat `chat_key` (or known by one of `aliases`), whichever channel
    /// entry made them, with their marks; set-aside deliveries are not offered. Marks of
    /// databases from before them (no chat) are not offered: `in_flight_delivery` finds those.
    pub fn in_flight_to(
        &self,
        chat_key: &str,
        aliases: &[String],
    ) -> Result<Vec<(String, Queued, SendMark)>, StoreError> {
        self.in_flight_where(|_, mark| {
            mark.chat_key == chat_key || aliases.contains(&mark.chat_key)
        })
    }

    /// Sends in flight whose mark `claims` accepts (given the channel entry that made the send
    /// and its mark); set-aside deliveries and marks from before them are not offered.
    pub fn in_flight_where(
        &self,
        claims: impl Fn(&str, &SendMark) -> bool,
    ) -> Result<Vec<(String, Queued, SendMark)>, StoreError> {
        let mut found = Vec::new();
        for entry in self.in_flight.iter() {
            let (key, value) = entry?;
            let Ok(mark) = serde_json::from_slice::<SendMark>(&value) else {
                continue;
            };
            let Some(channel) = key
                .iter()
                .position(|b| *b == 0)
                .map(|end| String::from_utf8_lossy(&key[..end]).into_owned())
            else {
                continue;
            };
            if !claims(&channel, &mark) {
                continue;
            }
            if self.set_aside.contains_key(&key)? {
                continue;
            }
            let Some(bytes) = self.outbox.get(&key)? else {
                continue;
            };
            found.push((channel, self.queued(&key, &bytes)?, mark));
        }
        Ok(found)
    }

    /// Deliveries of `channel` waiting to be sent (set-aside ones not counted).
    pub fn pending(&self, channel: &str) -> Result<usize, StoreError> {
        let mut n: usize = 0;
        for key in self.outbox.scan_prefix(channel_prefix(channel)).keys() {
            key?;
            n += 1;
        }
        Ok(n.saturating_sub(self.set_aside_count(channel)?))
    }

    /// Deliveries of `channel` that Telegram refused for good, waiting for `/requeue`.
    pub fn set_aside_count(&self, channel: &str) -> Result<usize, StoreError> {
        let mut n = 0;
        for key in self.set_aside.scan_prefix(channel_prefix(channel)).keys() {
            key?;
            n += 1;
        }
        Ok(n)
    }

    /// Telegram refused the delivery for good: it stays in the outbox, in its place, but is
    /// not offered again (see `next_delivery_where`) until `requeue`.
    ///
    /// The mark says the admins are not told yet: [`Store::mark_told`] records that they were,
    /// and [`Store::untold_set_aside`] finds those whose alert was lost to a stop or a kill.
    /// Returns the mark's number, which tells this setting aside from a later one of the same
    /// delivery (after a `/requeue`), even one at the same instant.
    pub async fn set_aside(&self, queued: &Queued, reason: &str) -> Result<u64, StoreError> {
        let n = self.db.generate_id()?;
        let mark = serde_json::to_vec(
            &serde_json::json!({"reason": reason, "at": clock::now(), "n": n, "told": false}),
        )?;
        (&self.in_flight, &self.set_aside)
            .transaction(|(in_flight, set_aside)| {
                in_flight.remove(queued.key.as_slice())?;
                set_aside.insert(queued.key.as_slice(), mark.as_slice())?;
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(transaction_error)?;
        self.sync().await?;
        Ok(n)
    }

    /// `channel`'s set-aside deliveries whose admins are not told yet, with the reason Telegram
    /// gave: herald stopped (or was killed) between setting one aside and its alert. Marks of
    /// databases from before this record (no `told`) count as told.
    /// Each comes with the mark's number (see [`Store::set_aside`]).
    pub fn untold_set_aside(
        &self,
        channel: &str,
    ) -> Result<Vec<(Queued, String, u64)>, StoreError> {
        let mut untold = Vec::new();
        for entry in self.set_aside.scan_prefix(channel_prefix(channel)) {
            let (key, mark) = entry?;
            let mark: serde_json::Value = serde_json::from_slice(&mark)?;
            if mark.get("told").and_then(serde_json::Value::as_bool) != Some(false) {
                continue;
            }
            if let Some(bytes) = self.outbox.get(&key)? {
                let reason = mark.get("reason").and_then(serde_json::Value::as_str);
                let n = mark.get("n").and_then(serde_json::Value::as_u64);
                let reason = reason.unwrap_or("").to_owned();
                untold.push((self.queued(&key, &bytes)?, reason, n.unwrap_or(0)));
            }
        }
        Ok(untold)
    }

    /// Records that the admins were told about the set-aside delivery `key`, whose mark is
    /// number `n` (nothing when it was requeued meanwhile, or requeued and set aside again: that
    /// time has an alert of its own).
    pub fn mark_told(&self, key: &[u8], n: u64) -> Result<(), StoreError> {
        self.set_aside.fetch_and_update(key, |mark| {
            let bytes = mark?;
            let mut value: serde_json::Value = match serde_json::from_slice(bytes) {
                Ok(value) => value,
                Err(_) => return Some(bytes.to_vec()),
            };
            if value.get("n").and_then(serde_json::Value::as_u64) == Some(n) {
                value["told"] = serde_json::Value::Bool(true);
            }
            Some(serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec()))
        })?;
        Ok(())
    }

    /// Puts `channel`'s set-aside deliveries back in the queue, each at its original place
    /// (the queue is ordered by when a delivery was made due, and they keep their keys), so
    /// they go out before anything queued after them. Returns how many.
    pub async fn requeue(&self, channel: &str) -> Result<usize, StoreError> {
        let mut n = 0;
        for key in self.set_aside.scan_prefix(channel_prefix(channel)).keys() {
            self.set_aside.remove(key?)?;
            n += 1;
        }
        self.sync().await?;
        Ok(n)
    }

    /// Records, durably, that a send of this delivery is about to start. A delivery found still
    /// in flight (after a crash) counts one uncertain send.
    pub async fn mark_in_flight(&self, queued: &mut Queued) -> Result<(), StoreError> {
        self.mark_send(queued, None).await
    }

    /// As `mark_in_flight`, with what the send is (`mark`), so that a search for it after a
    /// lost answer can be made by any worker of its chat, config or not.
    pub async fn mark_send(
        &self,
        queued: &mut Queued,
        mark: Option<&SendMark>,
    ) -> Result<(), StoreError> {
        if queued.delivery.in_flight {
            // Only after a crash in the middle of a send: the delivery itself changes.
            queued.delivery.uncertain_sends += 1;
            self.keep_lost_keyboard(queued);
            let stored = Delivery {
                in_flight: false,
                ..queued.delivery.clone()
            };
            self.outbox.insert(&queued.key, codec::encode(&stored)?)?;
        }
        queued.delivery.in_flight = true;
        let value = match mark {
            Some(mark) => serde_json::to_vec(mark)?,
            None => Vec::new(),
        };
        self.in_flight.insert(&queued.key, value)?;
        self.sync().await?;
        Ok(())
    }

    /// The send marked in flight by [`Self::mark_send`] changed before it was made (a digest's
    /// message listing other releases once built again): its mark is replaced, nothing else.
    pub async fn remark_send(&self, queued: &Queued, mark: &SendMark) -> Result<(), StoreError> {
        self.in_flight
            .insert(&queued.key, serde_json::to_vec(mark)?)?;
        self.sync().await?;
        Ok(())
    }

    /// Keeps, with the delivery, the keyboard its send marked in flight went out with (a
    /// post's or a digest message's; a bare mark has none). A mark that does not read is
    /// logged.
    fn keep_lost_keyboard(&self, queued: &mut Queued) {
        let mark = match self.in_flight.get(&queued.key) {
            Ok(Some(bytes)) if !bytes.is_empty() => serde_json::from_slice::<SendMark>(&bytes),
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, "could not read a lost send's mark");
                return;
            }
        };
        match mark {
            Ok(SendMark {
                keyboard: Some(rows),
                floor,
                ..
            }) => {
                // The first lost send's: a later one knew the ids of others posted meanwhile.
                if queued.delivery.uncertain_sends == 1 {
                    queued.delivery.lost_floor = floor;
                }
                if !queued.delivery.lost_keyboards.contains(&rows) {
                    queued.delivery.lost_keyboards.push(rows);
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "a lost send's mark does not read"),
        }
    }

    /// A send whose answer was lost could not be found, nor shown to be absent: it goes out
    /// again in its turn, counted as an uncertain send (a duplicate is possible). One write.
    pub async fn mark_uncertain(&self, queued: &mut Queued) -> Result<(), StoreError> {
        queued.delivery.uncertain_sends += 1;
        queued.delivery.in_flight = false;
        self.keep_lost_keyboard(queued);
        let stored = codec::encode(&queued.delivery)?;
        (&self.outbox, &self.in_flight)
            .transaction(|(outbox, in_flight)| {
                // Taken off the queue meanwhile (`prune`): nothing to count.
                if outbox.get(queued.key.as_slice())?.is_some() {
                    outbox.insert(queued.key.as_slice(), stored.as_slice())?;
                }
                in_flight.remove(queued.key.as_slice())?;
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(transaction_error)?;
        self.sync().await?;
        Ok(())
    }

    /// Records, durably, that a search changed the buttons of a message that is not the post it
    /// looked for: they are owed back before anything else goes to the chat.
    pub async fn owe_restore(&self, owed: &OwedRestore) -> Result<(), StoreError> {
        self.db.insert(
            owed_restore_key(&owed.chat, owed.message_id),
            serde_json::to_vec(owed)?,
        )?;
        self.sync().await
    }

    /// The restores owed in the chat `chat_key` (or known by one of `aliases`).
    pub fn owed_restores(
        &self,
        chat_key: &str,
        aliases: &[String],
    ) -> Result<Vec<OwedRestore>, StoreError> {
        self.owed_in_chat(OWED_RESTORE, chat_key, aliases, |r: &OwedRestore| {
            &r.chat_key
        })
    }

    /// The records under `prefix` whose chat (`chat_of`) is `chat_key` or one of `aliases`. A
    /// record that does not read is logged and skipped (it names no chat to hold up).
    fn owed_in_chat<T: serde::de::DeserializeOwned>(
        &self,
        prefix: &[u8],
        chat_key: &str,
        aliases: &[String],
        chat_of: impl Fn(&T) -> &String,
    ) -> Result<Vec<T>, StoreError> {
        let mut owed = Vec::new();
        for entry in self.db.scan_prefix(prefix) {
            let (key, value) = entry?;
            let record = match serde_json::from_slice::<T>(&value) {
                Ok(record) => record,
                Err(e) => {
                    tracing::error!(key = %String::from_utf8_lossy(&key), error = %e, "a record owed to a chat does not read: skipped");
                    continue;
                }
            };
            let chat = chat_of(&record);
            if chat == chat_key || aliases.contains(chat) {
                owed.push(record);
            }
        }
        Ok(owed)
    }

    /// The buttons of the message are back (or it is gone): nothing is owed any more.
    pub async fn restored(&self, chat: &str, message_id: i32) -> Result<(), StoreError> {
        self.db.remove(owed_restore_key(chat, message_id))?;
        self.sync().await
    }

    /// Records, durably and before the call, that a search's probe sets these buttons on the
    /// message `message_id` of `chat`: until its answer comes (`probe_settled`), the message
    /// may have been changed by herald. Its buttons are then the post's whether it is the post
    /// or not, so "not modified" there proves nothing (see `deliver::find_unanswered`). Kept
    /// across a kill, a stop and a lost answer.
    pub async fn probe_begun(
        &self,
        chat: &str,
        message_id: i32,
        keyboard: &[Vec<(String, String)>],
    ) -> Result<(), StoreError> {
        let key = probe_key(chat, message_id);
        let mut keyboards: Vec<Vec<Vec<(String, String)>>> = match self.db.get(&key)? {
            Some(value) => serde_json::from_slice(&value).unwrap_or_default(),
            None => Vec::new(),
        };
        if !keyboards.iter().any(|k| k.as_slice() == keyboard) {
            keyboards.push(keyboard.to_vec());
        }
        self.db.insert(key, serde_json::to_vec(&keyboards)?)?;
        self.sync().await
    }

    /// Whether a probe that set these buttons on the message `message_id` of the chat (known by
    /// any of `chats`) went unanswered: the message may have them from herald.
    pub fn probe_unanswered(
        &self,
        chats: &[String],
        message_id: i32,
        keyboard: &[Vec<(String, String)>],
    ) -> Result<bool, StoreError> {
        for chat in chats {
            if let Some(value) = self.db.get(probe_key(chat, message_id))? {
                // A record that does not read may be any keyboard: unsure.
                let Ok(keyboards) =
                    serde_json::from_slice::<Vec<Vec<Vec<(String, String)>>>>(&value)
                else {
                    return Ok(true);
                };
                if keyboards.iter().any(|k| k.as_slice() == keyboard) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// The message's probe that set `keyboard` was answered (and no earlier one with these
    /// buttons went unanswered); `None`: its buttons are back as they were. Herald's probes
    /// (those ones, or all) left nothing on it.
    pub async fn probe_settled(
        &self,
        chat: &str,
        message_id: i32,
        keyboard: Option<&[Vec<(String, String)>]>,
    ) -> Result<(), StoreError> {
        let key = probe_key(chat, message_id);
        let Some(value) = self.db.get(&key)? else {
            return Ok(());
        };
        let mut keyboards: Vec<Vec<Vec<(String, String)>>> =
            serde_json::from_slice(&value).unwrap_or_default();
        if let Some(keyboard) = keyboard {
            keyboards.retain(|k| k.as_slice() != keyboard);
        } else {
            keyboards.clear();
        }
        if keyboards.is_empty() {
            self.db.remove(key)?;
        } else {
            self.db.insert(key, serde_json::to_vec(&keyboards)?)?;
        }
        self.sync().await
    }

    /// The looks back owed in the chat `chat_key` (or known by one of `aliases`).
    pub fn looks_back(
        &self,
        chat_key: &str,
        aliases: &[String],
    ) -> Result<Vec<LookBack>, StoreError> {
        self.owed_in_chat(LOOK_BACK, chat_key, aliases, |l: &LookBack| &l.chat_key)
    }

    /// A look back goes on as `look` says; with `record`, the post is recorded there (an
    /// earlier copy found), in the same transaction. A digest message's look records each of
    /// its releases there, and its text at that message in place of the copy owed a delete.
    pub async fn update_look_back(
        &self,
        look: &LookBack,
        record: Option<&PostRecord>,
    ) -> Result<(), StoreError> {
        let key = look_back_key(look);
        let value = serde_json::to_vec(look)?;
        let mut posts_written = Vec::new();
        let mut message = None;
        if let Some(record) = record {
            let bytes = serde_json::to_vec(record)?;
            match (&look.digest, record) {
                (
                    Some(digest),
                    PostRecord::Digest {
                        chat,
                        message_id,
                        at,
                        ..
                    },
                ) => {
                    for item in &digest.items {
                        posts_written
                            .push((post_key(&look.channel, &look.source, item), bytes.clone()));
                    }
                    let kept = DigestMessage {
                        source: look.source.clone(),
                        items: digest.items.clone(),
                        text: digest.text.clone(),
                        at: *at,
                    };
                    let gone = look.delete.map(|newer| digest_message_key(chat, newer));
                    message = Some((
                        digest_message_key(chat, *message_id),
                        codec::encode(&kept)?,
                        gone,
                    ));
                }
                _ => posts_written.push((post_key(&look.channel, &look.source, &look.item), bytes)),
            }
        }
        let default: &sled::Tree = &self.db;
        (&self.posts, &self.digest_messages, default)
            .transaction(|(posts, digest_messages, default)| {
                for (pkey, bytes) in &posts_written {
                    posts.insert(pkey.as_slice(), bytes.as_slice())?;
                }
                if let Some((kept, bytes, gone)) = &message {
                    if let Some(gone) = gone {
                        digest_messages.remove(gone.as_slice())?;
                    }
                    digest_messages.insert(kept.as_slice(), bytes.as_slice())?;
                }
                default.insert(key.as_slice(), value.as_slice())?;
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(transaction_error)?;
        self.sync().await
    }

    /// A look back is over.
    pub async fn looked_back(&self, look: &LookBack) -> Result<(), StoreError> {
        self.db.remove(look_back_key(look))?;
        self.sync().await
    }

    /// A send failed with an answer from Telegram (so it was not accepted): not in flight.
    pub fn mark_not_sent(&self, queued: &mut Queued) -> Result<(), StoreError> {
        queued.delivery.in_flight = false;
        self.in_flight.remove(&queued.key)?;
        Ok(())
    }

    /// Telegram accepted the post: record where it is and take it off the queue, atomically.
    pub async fn complete_post(
        &self,
        channel: &str,
        queued: &Queued,
        record: PostRecord,
    ) -> Result<(), StoreError> {
        self.complete_post_in(channel, None, queued, record).await
    }

    /// As `complete_post`, raising the last known message of the chat `chat_key` too (see
    /// `last_message_in`), in the same transaction.
    pub async fn complete_post_in(
        &self,
        channel: &str,
        chat_key: Option<&str>,
        queued: &Queued,
        record: PostRecord,
    ) -> Result<(), StoreError> {
        self.complete_post_looking_back(channel, chat_key, queued, record, None)
            .await
    }

    /// As `complete_post_in`, and, in the same transaction, the look below the post owed
    /// (`look`) when the post was sent again after an unanswered send.
    pub async fn complete_post_looking_back(
        &self,
        channel: &str,
        chat_key: Option<&str>,
        queued: &Queued,
        record: PostRecord,
        look: Option<&LookBack>,
    ) -> Result<(), StoreError> {
        let look = match look {
            Some(look) => Some((look_back_key(look), serde_json::to_vec(look)?)),
            None => None,
        };
        let chat = chat_key.map(chat_last_key);
        let item = &queued.delivery.item;
        let pkey = post_key(channel, &item.source, &item.id);
        let bytes = serde_json::to_vec(&record)?;
        let accepted = accepted_in(&record);
        let default: &sled::Tree = &self.db;
        (
            &self.outbox,
            &self.in_flight,
            &self.posts,
            &self.last_message,
            default,
        )
            .transaction(|(outbox, in_flight, posts, last_message, default)| {
                outbox.remove(queued.key.as_slice())?;
                in_flight.remove(queued.key.as_slice())?;
                posts.insert(pkey.as_slice(), bytes.as_slice())?;
                if let Some((key, value)) = &look {
                    default.insert(key.as_slice(), value.as_slice())?;
                }
                for (actual, id) in &accepted {
                    raise_last_message(last_message, channel, *id)?;
                    raise_last_message(last_message, actual, *id)?;
                    if let Some(chat) = &chat {
                        raise_last_message(last_message, chat, *id)?;
                    }
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(transaction_error)?;
        self.sync().await?;
        Ok(())
    }

    /// Telegram accepted message number `queued.delivery.parts_done` of a digest, which lists
    /// `items`: record them as delivered there and, atomically, either count the part done or,
    /// after the last part, take the digest off the queue.
    pub async fn complete_digest_part(
        &self,
        channel: &str,
        queued: &mut Queued,
        items: &[Item],
        record: PostRecord,
        last: bool,
    ) -> Result<(), StoreError> {
        let part = DigestPartSent {
            items,
            record,
            text: None,
            last,
            look: None,
        };
        self.complete_digest_part_in(channel, None, queued, part)
            .await
    }

    /// As `complete_digest_part`, raising the last known message of the chat `chat_key` too,
    /// and keeping the message's text (when known) for the edits of corrections.
    pub async fn complete_digest_part_in(
        &self,
        channel: &str,
        chat_key: Option<&str>,
        queued: &mut Queued,
        part: DigestPartSent<'_>,
    ) -> Result<(), StoreError> {
        let DigestPartSent {
            items,
            record,
            text,
            last,
            look,
        } = part;
        let look = match look {
            Some(look) => Some((look_back_key(look), serde_json::to_vec(look)?)),
            None => None,
        };
        let chat = chat_key.map(chat_last_key);
        let accepted = accepted_in(&record);
        let message = match (&record, text, items.first()) {
            (
                PostRecord::Digest {
                    chat,
                    message_id,
                    at,
                    ..
                },
                Some(text),
                Some(first),
            ) => {
                let message = DigestMessage {
                    source: first.source.clone(),
                    items: items.iter().map(|i| i.id).collect(),
                    text: text.clone(),
                    at: *at,
                };
                Some((
                    digest_message_key(chat, *message_id),
                    codec::encode(&message)?,
                ))
            }
            _ => None,
        };
        let record = serde_json::to_vec(&record)?;
        let keys: Vec<Vec<u8>> = items
            .iter()
            .map(|i| post_key(channel, &i.source, &i.id))
            .collect();
        let mut next = queued.delivery.clone();
        next.parts_done += 1;
        next.in_flight = false;
        // The lost sends counted so far were this message's (its look, if owed, is written
        // here): the next message starts with none.
        next.uncertain_sends = 0;
        next.lost_keyboards.clear();
        next.lost_floor = None;
        // Progress by item: just past the last one this message listed.
        if let Some(done) = items.last().and_then(|last| {
            next.items
                .iter()
                .position(|i| i.id == last.id && i.source == last.source)
        }) {
            next.items_done = next.items_done.max(done as u32 + 1);
        }
        let next_bytes = codec::encode(&next)?;
        let default: &sled::Tree = &self.db;
        (
            &self.outbox,
            &self.in_flight,
            &self.posts,
            &self.last_message,
            &self.digest_messages,
            default,
        )
            .transaction(
                |(outbox, in_flight, posts, last_message, digest_messages, default)| {
                    in_flight.remove(queued.key.as_slice())?;
                    if let Some((key, value)) = &look {
                        default.insert(key.as_slice(), value.as_slice())?;
                    }
                    for key in &keys {
                        posts.insert(key.as_slice(), record.as_slice())?;
                    }
                    if let Some((key, bytes)) = &message {
                        digest_messages.insert(key.as_slice(), bytes.as_slice())?;
                    }
                    for (actual, id) in &accepted {
                        raise_last_message(last_message, channel, *id)?;
                        raise_last_message(last_message, actual, *id)?;
                        if let Some(chat) = &chat {
                            raise_last_message(last_message, chat, *id)?;
                        }
                    }
                    if last {
                        outbox.remove(queued.key.as_slice())?;
                    } else {
                        outbox.insert(queued.key.as_slice(), next_bytes.as_slice())?;
                    }
                    Ok::<(), ConflictableTransactionError<()>>(())
                },
            )
            .map_err(transaction_error)?;
        self.sync().await?;
        queued.delivery = next;
        Ok(())
    }

    /// The oldest edit waiting for `channel`: posts may wait (silent hours), edits go on.
    pub fn next_edit(&self, channel: &str) -> Result<Option<Queued>, StoreError> {
        self.next_delivery_where(channel, |d| d.kind == DeliveryKind::Edit)
    }

    /// The digest message `message_id` in `chat` (as sent), when herald keeps what it lists.
    pub fn digest_message(
        &self,
        chat: &str,
        message_id: i32,
    ) -> Result<Option<DigestMessage>, StoreError> {
        match self
            .digest_messages
            .get(digest_message_key(chat, message_id))?
        {
            Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// A correction's edit of the digest message `message_id` in `chat` went through (or was
    /// moot): keep the message's text as it now stands and take the edit off the queue, at once.
    pub async fn complete_digest_edit(
        &self,
        queued: &Queued,
        chat: &str,
        message_id: i32,
        message: &DigestMessage,
    ) -> Result<(), StoreError> {
        let key = digest_message_key(chat, message_id);
        let bytes = codec::encode(message)?;
        (&self.outbox, &self.in_flight, &self.digest_messages)
            .transaction(|(outbox, in_flight, digest_messages)| {
                outbox.remove(queued.key.as_slice())?;
                in_flight.remove(queued.key.as_slice())?;
                digest_messages.insert(key.as_slice(), bytes.as_slice())?;
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(transaction_error)?;
        self.sync().await?;
        Ok(())
    }

    /// The delivery needs nothing more (an edit done, or moot): take it off the queue.
    pub async fn complete(&self, queued: &Queued) -> Result<(), StoreError> {
        (&self.outbox, &self.in_flight)
            .transaction(|(outbox, in_flight)| {
                outbox.remove(queued.key.as_slice())?;
                in_flight.remove(queued.key.as_slice())?;
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(transaction_error)?;
        self.sync().await?;
        Ok(())
    }

    /// A queued post of channel entry `channel` that its filters, edited while it waited, now
    /// keep out: it leaves the queue with its record, as if kept out when queued (a correction
    /// of the release then edits nothing there). Only for a post never sent (see the deliverer).
    pub async fn drop_filtered_post(
        &self,
        channel: &str,
        queued: &Queued,
    ) -> Result<(), StoreError> {
        let item = &queued.delivery.item;
        let record = post_key(channel, &item.source, &item.id);
        (&self.outbox, &self.in_flight, &self.posts)
            .transaction(|(outbox, in_flight, posts)| {
                outbox.remove(queued.key.as_slice())?;
                in_flight.remove(queued.key.as_slice())?;
                if posts.get(record.as_slice())?.is_some_and(|bytes| {
                    matches!(serde_json::from_slice(&bytes), Ok(PostRecord::Queued))
                }) {
                    posts.remove(record.as_slice())?;
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(transaction_error)?;
        self.sync().await?;
        Ok(())
    }

    /// A queued digest of channel entry `channel`, never sent, some of whose releases (`out`,
    /// indexes into its items) the channel's filters, edited while it waited, now keep out:
    /// they leave it with their records, as if kept out when queued; the digest lists the
    /// others (its first becomes the delivery's item). With none left the digest goes too.
    /// Only for a digest none of whose messages was ever sent (see the deliverer): its progress
    /// counts from its items, which this renumbers.
    pub async fn drop_filtered_from_digest(
        &self,
        channel: &str,
        queued: &mut Queued,
        out: &[usize],
    ) -> Result<(), StoreError> {
        let mut next = queued.delivery.clone();
        let mut dropped = Vec::with_capacity(out.len());
        let mut kept = Vec::with_capacity(next.items.len());
        for (k, item) in next.items.drain(..).enumerate() {
            if out.contains(&k) {
                dropped.push(post_key(channel, &item.source, &item.id));
            } else {
                kept.push(item);
            }
        }
        let next_bytes = match kept.first() {
            Some(first) => {
                next.item = first.clone();
                next.items = kept;
                Some(codec::encode(&next)?)
            }
            None => None,
        };
        (&self.outbox, &self.in_flight, &self.posts)
            .transaction(|(outbox, in_flight, posts)| {
                // Taken off the queue meanwhile (`prune`, a channel moved on reload): nothing to
                // rewrite, and nothing to bring back.
                if outbox.get(queued.key.as_slice())?.is_none() {
                    return Ok(());
                }
                for record in &dropped {
                    if posts.get(record.as_slice())?.is_some_and(|bytes| {
                        matches!(serde_json::from_slice(&bytes), Ok(PostRecord::Queued))
                    }) {
                        posts.remove(record.as_slice())?;
                    }
                }
                match &next_bytes {
                    Some(bytes) => {
                        outbox.insert(queued.key.as_slice(), bytes.as_slice())?;
                    }
                    None => {
                        outbox.remove(queued.key.as_slice())?;
                        in_flight.remove(queued.key.as_slice())?;
                    }
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(transaction_error)?;
        self.sync().await?;
        queued.delivery = next;
        Ok(())
    }

    /// The newest message id Telegram gave herald in this channel, recorded with the post
    /// itself, so it is never behind the posts on disk.
    /// The newest message id Telegram gave herald in the chat `chat_key`, whichever channel
    /// entry posted it (written with the post's record by `complete_post_in`).
    pub fn last_message_in(&self, chat_key: &str) -> Result<Option<i32>, StoreError> {
        self.last_message_id(&chat_last_key(chat_key))
    }

    /// The newest message id Telegram gave herald in the chat it sent to as `chat` (a numeric
    /// id, or an `@name`): the only record that never mixes the ids of two chats, e.g. of a
    /// group and the supergroup it became. None for a chat with nothing recorded since this
    /// record was added.
    pub fn last_message_sent_to(&self, chat: &str) -> Result<Option<i32>, StoreError> {
        self.last_message_id(&chat_last_key(&format!("={}", chat.to_lowercase())))
    }

    pub fn last_message_id(&self, channel: &str) -> Result<Option<i32>, StoreError> {
        Ok(self
            .last_message
            .get(channel)?
            .filter(|v| v.len() == 4)
            .map(|v| i32::from_be_bytes([v[0], v[1], v[2], v[3]])))
    }

    pub fn chat_calls(&self, chat: &str) -> Result<ChatCalls, StoreError> {
        match self.chat_calls.get(chat)? {
            Some(bytes) => Ok(serde_json::from_slice(&bytes)?),
            None => Ok(ChatCalls::default()),
        }
    }

    /// Written without a flush: the next flush (a send's in-flight mark) takes it along.
    pub fn set_chat_calls(&self, chat: &str, calls: &ChatCalls) -> Result<(), StoreError> {
        self.chat_calls.insert(chat, serde_json::to_vec(calls)?)?;
        Ok(())
    }

    /// The numeric id Telegram gave for the chat `@name`, when herald has asked.
    pub fn chat_id(&self, name: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .chat_ids
            .get(name.to_lowercase())?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map(i64::from_be_bytes))
    }

    pub fn set_chat_id(&self, name: &str, id: i64) -> Result<(), StoreError> {
        self.chat_ids
            .insert(name.to_lowercase(), &id.to_be_bytes()[..])?;
        Ok(())
    }

    pub fn post_record(
        &self,
        channel: &str,
        source: &str,
        id: &ItemId,
    ) -> Result<Option<PostRecord>, StoreError> {
        match self.posts.get(post_key(channel, source, id))? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    /// True once `source` had its first poll for `channel` (with Telegram on).
    pub fn baselined(&self, channel: &str, source: &str) -> Result<bool, StoreError> {
        Ok(self.baselines.contains_key(baseline_key(channel, source))?)
    }

    /// Forgets every channel's first poll (herald runs without a token: nothing is queued
    /// meanwhile, and the first poll after a token appears is a first poll again, posting only
    /// `backfill` releases, none already posted). Returns how many were forgotten.
    pub fn forget_baselines(&self) -> Result<usize, StoreError> {
        let n = self.baselines.len();
        if n > 0 {
            self.baselines.clear()?;
            self.baselines.flush()?;
        }
        Ok(n)
    }

    pub fn channel_state(&self, channel: &str) -> Result<ChannelState, StoreError> {
        match self.channels.get(channel)? {
            Some(bytes) => Ok(serde_json::from_slice(&bytes)?),
            None => Ok(ChannelState::default()),
        }
    }

    /// Changes a channel's state in one atomic step (see `update_source_state`): a worker's
    /// write never undoes an admin's `/pause`, nor the other way round.
    pub fn update_channel_state(
        &self,
        channel: &str,
        change: impl Fn(&mut ChannelState),
    ) -> Result<ChannelState, StoreError> {
        super::update_json(&self.channels, channel, change).map(|(state, _)| state)
    }

    pub fn put_channel_state(&self, channel: &str, state: &ChannelState) -> Result<(), StoreError> {
        self.channels.insert(channel, serde_json::to_vec(state)?)?;
        Ok(())
    }

    /// Forgets where the posts of items that left the feed are, once they are older than
    /// `before`: a post is only looked up to edit it for a correction, and only stored items are
    /// corrected. The items' ids stay in `seen`, so they are never posted again; queued posts are
    /// kept. Without this the `posts` tree grows by one record per post for ever.
    /// Returns how many records were removed.
    pub fn sweep_posts(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut removed = 0;
        for entry in self.posts.iter() {
            let (key, bytes) = entry?;
            // A digest's record is swept like a post's: it is never looked up for an edit.
            let at = match serde_json::from_slice(&bytes) {
                Ok(PostRecord::Sent { at, .. } | PostRecord::Digest { at, .. }) => at,
                _ => continue,
            };
            // channel ++ 0 ++ source ++ 0 ++ id: the item's key is what follows the channel.
            let Some(start) = key.iter().position(|b| *b == 0).map(|p| p + 1) else {
                continue;
            };
            if at < before && !self.items.contains_key(&key[start..])? {
                self.posts.remove(&key)?;
                removed += 1;
            }
        }
        // A digest message is looked up for the corrections of what it lists: kept while one
        // of its items is.
        for entry in self.digest_messages.iter() {
            let (key, bytes) = entry?;
            let Ok(message) = codec::decode::<DigestMessage>(&bytes) else {
                continue;
            };
            let mut kept = false;
            for id in &message.items {
                kept |= self
                    .items
                    .contains_key(super::item_key(&message.source, id))?;
            }
            if message.at < before && !kept {
                self.digest_messages.remove(&key)?;
            }
        }
        Ok(removed)
    }

    /// Removes the queued deliveries and post records of `source` (for `prune`).
    pub(super) fn prune_deliveries(&self, source: &str) -> Result<usize, StoreError> {
        let mut removed = 0;
        for entry in self.outbox.iter() {
            let (key, bytes) = entry?;
            let d: Delivery = codec::decode(&bytes)?;
            if d.item.source == source {
                self.in_flight.remove(&key)?;
                self.set_aside.remove(&key)?;
                self.outbox.remove(key)?;
                removed += 1;
            }
        }
        for key in self.posts.iter().keys() {
            let key = key?;
            // channel ++ 0 ++ source ++ 0 ++ id (16 bytes)
            let Some(start) = key.iter().position(|b| *b == 0).map(|p| p + 1) else {
                continue;
            };
            let rest = &key[start..];
            if rest.len() == source.len() + 17 && rest.starts_with(source.as_bytes()) {
                self.posts.remove(&key)?;
            }
        }
        for entry in self.digest_messages.iter() {
            let (key, bytes) = entry?;
            if codec::decode::<DigestMessage>(&bytes).is_ok_and(|m| m.source == source) {
                self.digest_messages.remove(&key)?;
            }
        }
        Ok(removed)
    }

    /// The channel ids the store keeps anything under: queued deliveries, post records,
    /// first-poll markers, a state. One seek per id, not one read per record.
    pub fn channel_ids(&self) -> Result<std::collections::BTreeSet<String>, StoreError> {
        let mut ids = std::collections::BTreeSet::new();
        for tree in [&self.outbox, &self.posts, &self.baselines] {
            let mut from: Vec<u8> = Vec::new();
            while let Some(entry) = tree.range(from.clone()..).next() {
                let (key, _) = entry?;
                let Some(end) = key.iter().position(|b| *b == 0) else {
                    // Not a key of this layout: step over it.
                    from = key.to_vec();
                    from.push(0);
                    continue;
                };
                ids.insert(String::from_utf8_lossy(&key[..end]).into_owned());
                // Past every key of this channel (channel ++ 0 ++ …).
                from = key[..end].to_vec();
                from.push(1);
            }
        }
        for key in self.channels.iter().keys() {
            ids.insert(String::from_utf8_lossy(&key?).into_owned());
        }
        Ok(ids)
    }

    /// The channel ids with deliveries in the outbox (set aside or not) that `configured` does
    /// not accept: queues no worker serves, since their entry left the config. Each comes with
    /// its pending and set-aside counts. One seek per channel id.
    pub fn unconfigured_queues(
        &self,
        configured: impl Fn(&str) -> bool,
    ) -> Result<Vec<(String, usize, usize)>, StoreError> {
        let mut found = Vec::new();
        let mut from: Vec<u8> = Vec::new();
        while let Some(entry) = self.outbox.range(from.clone()..).next() {
            let (key, _) = entry?;
            let Some(end) = key.iter().position(|b| *b == 0) else {
                from = key.to_vec();
                from.push(0);
                continue;
            };
            let id = String::from_utf8_lossy(&key[..end]).into_owned();
            from = key[..end].to_vec();
            from.push(1);
            if !configured(&id) {
                let (pending, aside) = (self.pending(&id)?, self.set_aside_count(&id)?);
                found.push((id, pending, aside));
            }
        }
        Ok(found)
    }

    /// The chat `channel` posted to: as its config entry named it (recorded at each start and
    /// reload), or else as one of its post records says (databases from before that record).
    pub fn recorded_chat(&self, channel: &str) -> Result<Option<String>, StoreError> {
        if let Some(chat) = self.channel_state(channel)?.chat {
            return Ok(Some(chat));
        }
        for entry in self.posts.scan_prefix(channel_prefix(channel)) {
            let (_, bytes) = entry?;
            if let Ok(PostRecord::Sent { chat, .. } | PostRecord::Digest { chat, .. }) =
                serde_json::from_slice(&bytes)
            {
                return Ok(Some(chat.to_lowercase()));
            }
        }
        Ok(None)
    }

    /// Moves what the store keeps under channel id `from` to `to`, in one transaction: a
    /// channel entry renamed in the config (same chat, new id) keeps its queue, its post
    /// records and its first-poll markers, so that nothing posted there is posted again and
    /// nothing queued is stranded.
    ///
    /// What `to` holds already wins: a record of `to` for an item is kept (the item was posted
    /// or queued in that chat already) and the queued post of `from` for that item is dropped,
    /// since the chat has, or gets, the item from `to`. Queued deliveries keep their sequence
    /// numbers, so both queues merge in the order they were made due. Written without a flush:
    /// the caller flushes (or the next flush takes it along).
    pub fn move_channel(&self, from: &str, to: &str) -> Result<MovedChannel, StoreError> {
        let (old, new) = (channel_prefix(from), channel_prefix(to));
        let renamed = |key: &[u8]| {
            let mut k = new.clone();
            k.extend_from_slice(&key[old.len()..]);
            k
        };
        let mut deliveries = Vec::new();
        for entry in self.outbox.scan_prefix(&old) {
            let (key, bytes) = entry?;
            let d: Delivery = codec::decode(&bytes)?;
            let post =
                (d.kind == DeliveryKind::Post).then(|| post_key(to, &d.item.source, &d.item.id));
            deliveries.push((
                key.to_vec(),
                bytes.to_vec(),
                post,
                self.in_flight.get(&key)?,
                self.set_aside.get(&key)?,
            ));
        }
        let mut records = Vec::new();
        for entry in self.posts.scan_prefix(&old) {
            let (key, bytes) = entry?;
            records.push((key.to_vec(), bytes.to_vec()));
        }
        let mut markers = Vec::new();
        for key in self.baselines.scan_prefix(&old).keys() {
            markers.push(key?.to_vec());
        }
        let old_state = self.channels.get(from)?;
        let mut state = match self.channels.get(to)? {
            Some(bytes) => Some(serde_json::from_slice::<ChannelState>(&bytes)?),
            None => None,
        };
        if let (Some(state), Some(bytes)) = (&mut state, &old_state) {
            // The chat's migration holds for whichever entry posts to it.
            let old: ChannelState = serde_json::from_slice(bytes)?;
            state.migrated_to = state.migrated_to.or(old.migrated_to);
        }
        let state = match state {
            Some(state) => Some(serde_json::to_vec(&state)?),
            None => old_state.map(|b| b.to_vec()),
        };
        let last = self.last_message_id(from)?;
        let moved = (
            &self.outbox,
            &self.in_flight,
            &self.set_aside,
            &self.posts,
            &self.baselines,
            &self.channels,
            &self.last_message,
        )
            .transaction(
                |(outbox, in_flight, set_aside, posts, baselines, channels, last_message)| {
                    let mut moved = MovedChannel::default();
                    // Which items `to` has a record of before the move.
                    let mut had = std::collections::HashSet::new();
                    for (key, bytes) in &records {
                        let target = renamed(key);
                        if posts.get(&target)?.is_some() {
                            had.insert(target);
                        } else {
                            posts.insert(target, bytes.as_slice())?;
                            moved.records += 1;
                        }
                        posts.remove(key.as_slice())?;
                    }
                    for (key, bytes, post, flight, aside) in &deliveries {
                        outbox.remove(key.as_slice())?;
                        in_flight.remove(key.as_slice())?;
                        set_aside.remove(key.as_slice())?;
                        if post.as_ref().is_some_and(|p| had.contains(p)) {
                            moved.dropped += 1;
                            continue;
                        }
                        let target = renamed(key);
                        outbox.insert(target.clone(), bytes.as_slice())?;
                        if let Some(v) = flight {
                            in_flight.insert(target.clone(), v.clone())?;
                        }
                        if let Some(v) = aside {
                            set_aside.insert(target, v.clone())?;
                        }
                        moved.deliveries += 1;
                    }
                    for key in &markers {
                        baselines.insert(renamed(key), &[][..])?;
                        baselines.remove(key.as_slice())?;
                    }
                    if let Some(state) = &state {
                        channels.insert(to, state.as_slice())?;
                    }
                    channels.remove(from)?;
                    if let Some(id) = last {
                        raise_last_message(last_message, to, id)?;
                    }
                    last_message.remove(from)?;
                    Ok::<MovedChannel, ConflictableTransactionError<()>>(moved)
                },
            )
            .map_err(transaction_error)?;
        Ok(moved)
    }

    /// The newest message id that a post record (a post's or a digest's, of any channel entry)
    /// places in one of `chats`, written as sends name a chat (a numeric id or an `@name`, any
    /// case). Reads every record: for a search in a chat that has no `last_message_sent_to`
    /// record (herald sent nothing there since that record exists).
    /// The ids of the messages recorded in any of `chats` above `above` and below `below`.
    pub fn recorded_in(
        &self,
        chats: &[String],
        above: i32,
        below: i32,
    ) -> Result<Vec<i32>, StoreError> {
        let chats: Vec<String> = chats.iter().map(|c| c.to_lowercase()).collect();
        let mut ids = Vec::new();
        for entry in self.posts.iter() {
            let (_, bytes) = entry?;
            if let Ok(
                PostRecord::Sent {
                    chat, message_id, ..
                }
                | PostRecord::Digest {
                    chat, message_id, ..
                },
            ) = serde_json::from_slice(&bytes)
                && message_id > above
                && message_id < below
                && chats.contains(&chat.to_lowercase())
            {
                ids.push(message_id);
            }
        }
        Ok(ids)
    }

    pub fn newest_recorded_in(&self, chats: &[String]) -> Result<Option<i32>, StoreError> {
        let chats: Vec<String> = chats.iter().map(|c| c.to_lowercase()).collect();
        let mut newest = None;
        for entry in self.posts.iter() {
            let (_, bytes) = entry?;
            let (chat, id) = match serde_json::from_slice(&bytes) {
                Ok(
                    PostRecord::Sent {
                        chat, message_id, ..
                    }
                    | PostRecord::Digest {
                        chat, message_id, ..
                    },
                ) => (chat, message_id),
                _ => continue,
            };
            if chats.contains(&chat.to_lowercase()) {
                newest = newest.max(Some(id));
            }
        }
        Ok(newest)
    }

    /// The `@name`s (lower case) that Telegram named as the chat `id` (see `set_chat_id`).
    pub fn chat_names(&self, id: i64) -> Result<Vec<String>, StoreError> {
        let mut names = Vec::new();
        for entry in self.chat_ids.iter() {
            let (name, value) = entry?;
            if value.as_ref() == id.to_be_bytes() {
                names.push(String::from_utf8_lossy(&name).into_owned());
            }
        }
        Ok(names)
    }

    /// The block of `channel` that its admins were last told about (its reason), or none when
    /// they were last told it works (or never told anything). The channel's state says whether
    /// it is blocked: where the two differ, an alert is owed (herald stopped, or was killed,
    /// between the change and its alert).
    pub fn told_blocked(&self, channel: &str) -> Result<Option<String>, StoreError> {
        let key = format!("blocked-told\0{channel}");
        Ok(self
            .db
            .get(key)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Records, durably, what the admins of `channel` were told: blocked (for `reason`), or that
    /// it works (`None`). Kept in the default tree, beside the database's own marks.
    pub async fn set_told_blocked(
        &self,
        channel: &str,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let key = format!("blocked-told\0{channel}");
        match reason {
            Some(reason) => self.db.insert(key, reason.as_bytes())?,
            None => self.db.remove(key)?,
        };
        self.sync().await
    }

    /// Sets aside the queued deliveries of `channel` whose record cannot be read: each is one
    /// record's fault, and would hold up the channel's queue for ever. Its mark says the admins
    /// were told (the caller tells them; `untold_set_aside` could not read the delivery to say
    /// which release it is). Returns the reason for each.
    pub async fn set_aside_unreadable(&self, channel: &str) -> Result<Vec<String>, StoreError> {
        let mut reasons = Vec::new();
        for entry in self.outbox.scan_prefix(channel_prefix(channel)) {
            let (key, bytes) = entry?;
            if self.set_aside.contains_key(&key)? {
                continue;
            }
            let reason = match codec::decode::<Delivery>(&bytes) {
                Ok(_) => continue,
                Err(e) => format!("stored record is unreadable: {e}"),
            };
            let n = self.db.generate_id()?;
            let mark = serde_json::to_vec(&serde_json::json!({
                "reason": reason, "at": clock::now(), "n": n, "told": true
            }))?;
            self.in_flight.remove(&key)?;
            self.set_aside.insert(&key, mark)?;
            reasons.push(reason);
        }
        if !reasons.is_empty() {
            self.sync().await?;
        }
        Ok(reasons)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{commit, item, posts, reopen};
    use super::*;

    fn digest_record(message_id: i32) -> PostRecord {
        PostRecord::Digest {
            chat: "@c".into(),
            message_id,
            at: Utc::now(),
            chat_id: None,
        }
    }

    /// A split digest: its progress and its items' records survive a reopen, items already
    /// queued for the channel are left out of it, and it leaves the queue with its last part.
    #[tokio::test]
    async fn a_digest_is_delivered_part_by_part_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<Item> = (1..=3).map(|n| item("s", n, n as u64)).collect();
        let single = posts("c", &items[..1]);
        let digest = vec![NewDelivery::digest("c", items.clone())];
        {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            for deliveries in [single, digest] {
                let mut c = commit("s", &items, 10);
                c.deliveries = &deliveries;
                store.commit(&c).await.unwrap();
            }
            assert_eq!(store.pending("c").unwrap(), 2);
            let post = store.next_delivery("c").unwrap().unwrap();
            let sent = PostRecord::Sent {
                chat: "@c".into(),
                message_id: 7,
                photo: false,
                at: Utc::now(),
                chat_id: None,
            };
            store.complete_post("c", &post, sent).await.unwrap();

            let mut digest = store.next_delivery("c").unwrap().unwrap();
            assert_eq!(digest.delivery.kind, DeliveryKind::Digest);
            let listed: Vec<ItemId> = digest.delivery.items.iter().map(|i| i.id).collect();
            assert_eq!(
                listed,
                [items[1].id, items[2].id],
                "item 1 was queued already"
            );
            store.mark_in_flight(&mut digest).await.unwrap();
            let part = digest.delivery.items[..1].to_vec();
            store
                .complete_digest_part("c", &mut digest, &part, digest_record(8), false)
                .await
                .unwrap();
        }
        let store = reopen(dir.path());
        let mut digest = store.next_delivery("c").unwrap().unwrap();
        assert_eq!(
            (digest.delivery.parts_done, digest.delivery.in_flight),
            (1, false)
        );
        let record = |n: usize| store.post_record("c", "s", &items[n].id).unwrap();
        assert!(matches!(
            record(1),
            Some(PostRecord::Digest { message_id: 8, .. })
        ));
        assert_eq!(record(2), Some(PostRecord::Queued));
        assert_eq!(store.last_message_id("c").unwrap(), Some(8));
        let part = digest.delivery.items[1..].to_vec();
        store
            .complete_digest_part("c", &mut digest, &part, digest_record(9), true)
            .await
            .unwrap();
        assert!(matches!(
            record(2),
            Some(PostRecord::Digest { message_id: 9, .. })
        ));
        assert_eq!(store.pending("c").unwrap(), 0);
        assert_eq!(store.next_edit("c").unwrap().map(|q| q.key), None);
    }

    /// Digest records of items that left the feed are swept like post records.
    #[tokio::test]
    async fn digest_records_of_items_gone_from_the_feed_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let items: Vec<Item> = (1..=3).map(|n| item("s", n, n as u64)).collect();
        let deliveries = [NewDelivery::digest("c", items.clone())];
        let mut c = commit("s", &items, 1);
        c.deliveries = &deliveries;
        store.commit(&c).await.unwrap();
        let mut digest = store.next_delivery("c").unwrap().unwrap();
        let long_ago = "2026-01-01T00:00:00Z".parse().unwrap();
        let record = PostRecord::Digest {
            chat: "@c".into(),
            message_id: 1,
            at: long_ago,
            chat_id: None,
        };
        store
            .complete_digest_part("c", &mut digest, &items, record, true)
            .await
            .unwrap();
        assert_eq!(
            store.sweep_posts(Utc::now()).unwrap(),
            2,
            "items 1 and 2 left the feed"
        );
        let kept = store.post_record("c", "s", &items[2].id).unwrap();
        assert!(matches!(kept, Some(PostRecord::Digest { .. })));
    }

    /// A digest message's text is kept with its items' records (across a reopen), replaced by
    /// an edit, and swept once none of its items is stored any more.
    #[tokio::test]
    async fn a_digest_message_is_kept_while_one_of_its_items_is() {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<Item> = (1..=3).map(|n| item("s", n, n as u64)).collect();
        let text = |n: usize| DigestText {
            head: "<b>S</b>: 3 new releases (1/2)".into(),
            lines: vec![format!("• line {n}")],
            foot: "#s".into(),
            keyboard: vec![vec![("Website".into(), format!("https://s.example/#{n}"))]],
        };
        let long_ago = "2026-01-01T00:00:00Z".parse().unwrap();
        let sent = |message_id: i32| PostRecord::Digest {
            chat: "@C".into(),
            message_id,
            at: long_ago,
            chat_id: None,
        };
        {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            let deliveries = [NewDelivery::digest("c", items.clone())];
            // Only item 3 stays stored: 1 and 2 left the feed.
            let mut c = commit("s", &items, 1);
            c.deliveries = &deliveries;
            store.commit(&c).await.unwrap();
            let mut digest = store.next_delivery("c").unwrap().unwrap();
            for (n, listed, last) in [(1, &items[..2], false), (2, &items[2..], true)] {
                let part = DigestPartSent {
                    items: listed,
                    record: sent(n),
                    text: Some(&text(n as usize)),
                    last,
                    look: None,
                };
                store
                    .complete_digest_part_in("c", None, &mut digest, part)
                    .await
                    .unwrap();
            }
        }
        let store = reopen(dir.path());
        let message = store.digest_message("@c", 2).unwrap().unwrap();
        assert_eq!(
            (
                message.source.as_str(),
                message.items.as_slice(),
                &message.text
            ),
            ("s", &[items[2].id][..], &text(2))
        );
        assert_eq!(store.digest_message("@c", 3).unwrap(), None);
        assert_eq!(
            store.digest_message("@d", 2).unwrap(),
            None,
            "ids are per chat"
        );

        let edit = vec![NewDelivery {
            channel: "c".into(),
            kind: DeliveryKind::Edit,
            item: items[2].clone(),
            items: Vec::new(),
        }];
        let mut c = commit("s", &items[2..], 1);
        c.deliveries = &edit;
        store.commit(&c).await.unwrap();
        let queued = store.next_edit("c").unwrap().unwrap();
        let edited = DigestMessage {
            text: text(9),
            ..message
        };
        store
            .complete_digest_edit(&queued, "@c", 2, &edited)
            .await
            .unwrap();
        assert_eq!(store.digest_message("@c", 2).unwrap(), Some(edited));
        assert_eq!(store.pending("c").unwrap(), 0);

        store.sweep_posts(Utc::now()).unwrap();
        assert_eq!(
            store.digest_message("@c", 1).unwrap(),
            None,
            "its items are gone"
        );
        assert!(
            store.digest_message("@c", 2).unwrap().is_some(),
            "item 3 is stored"
        );
    }

    /// A started send is flagged in a tree of its own: the flag survives a reopen and the next
    /// start counts one uncertain send; a delivery that an earlier version wrote in flight (the
    /// flag inside its JSON) reads the same; an answered failure clears the flag.
    /// A send that no search could settle counts as uncertain and leaves flight, and both last
    /// across a reopen; buttons owed back by a search are kept until restored, per chat.
    #[tokio::test]
    async fn uncertain_sends_and_owed_restores_last_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<Item> = (1..=1).map(|n| item("s", n, n as u64)).collect();
        let deliveries = posts("c", &items);
        {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            let mut c = commit("s", &items, 10);
            c.deliveries = &deliveries;
            store.commit(&c).await.unwrap();
            let mut first = store.next_delivery("c").unwrap().unwrap();
            store.mark_in_flight(&mut first).await.unwrap();
            store.mark_uncertain(&mut first).await.unwrap();
            let owed = OwedRestore {
                chat_key: "-100".into(),
                chat: "-100".into(),
                message_id: 7,
                keyboard: vec![vec![("Read".into(), "https://e.org/".into())]],
            };
            store.owe_restore(&owed).await.unwrap();
        }
        let store = reopen(dir.path());
        let first = store.next_delivery("c").unwrap().unwrap();
        assert_eq!(
            (first.delivery.in_flight, first.delivery.uncertain_sends),
            (false, 1)
        );
        assert!(store.owed_restores("-200", &[]).unwrap().is_empty());
        let owed = store.owed_restores("@c", &["-100".into()]).unwrap();
        assert_eq!(
            owed.iter()
                .map(|o| (o.message_id, o.keyboard.len()))
                .collect::<Vec<_>>(),
            [(7, 1)]
        );
        store.restored("-100", 7).await.unwrap();
        assert!(store.owed_restores("-100", &[]).unwrap().is_empty());
    }

    /// A post sent again is recorded with its look back in one write; both last across a
    /// reopen. An earlier copy found moves the record there with the look (the newer copy owed
    /// a delete) in one write; once over, nothing is owed.
    #[tokio::test]
    async fn a_look_back_is_written_with_the_post_and_lasts_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<Item> = (1..=1).map(|n| item("s", n, n as u64)).collect();
        let deliveries = posts("c", &items);
        let sent = |message_id| PostRecord::Sent {
            chat: "-100".into(),
            message_id,
            photo: false,
            at: clock::now(),
            chat_id: Some(-100),
        };
        let mut look = LookBack {
            channel: "c".into(),
            source: "s".into(),
            item: items[0].id,
            title: items[0].title.clone(),
            link: items[0].link.clone(),
            chat_key: "-100".into(),
            chat: "-100".into(),
            chat_id: Some(-100),
            message_id: 9,
            floor: None,
            keyboard: vec![vec![("Read".into(), "https://e.org/".into())]],
            lost_keyboards: Vec::new(),
            photo: false,
            owed: 1,
            delete: None,
            found: 0,
            digest: None,
            unsure: Vec::new(),
        };
        {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            let mut c = commit("s", &items, 10);
            c.deliveries = &deliveries;
            store.commit(&c).await.unwrap();
            let first = store.next_delivery("c").unwrap().unwrap();
            store
                .complete_post_looking_back("c", Some("-100"), &first, sent(9), Some(&look))
                .await
                .unwrap();
        }
        let store = reopen(dir.path());
        assert!(store.next_delivery("c").unwrap().is_none());
        assert_eq!(store.looks_back("-100", &[]).unwrap(), [look.clone()]);
        assert!(store.looks_back("-200", &[]).unwrap().is_empty());
        look.delete = Some(9);
        look.message_id = 7;
        look.found = 1;
        store.update_look_back(&look, Some(&sent(7))).await.unwrap();
        drop(store);
        let store = reopen(dir.path());
        assert_eq!(
            store.looks_back("@c", &["-100".into()]).unwrap(),
            [look.clone()]
        );
        let record = store.post_record("c", "s", &items[0].id).unwrap();
        assert!(
            matches!(record, Some(PostRecord::Sent { message_id: 7, .. })),
            "{record:?}"
        );
        store.looked_back(&look).await.unwrap();
        assert!(store.looks_back("-100", &[]).unwrap().is_empty());
    }

    /// A digest message sent again after a lost send of it is recorded with its look back in
    /// one write, and the next message of the digest starts with no lost send counted. An
    /// earlier copy found records each of the message's releases there, with its text, in
    /// place of the copy owed a delete; all across a reopen.
    #[tokio::test]
    async fn a_digest_message_sent_again_is_looked_below_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<Item> = (1..=3).map(|n| item("s", n, n as u64)).collect();
        let deliveries = vec![NewDelivery::digest("c", items.clone())];
        let keyboard = vec![vec![(
            "Website".to_owned(),
            "https://s.example/#1".to_owned(),
        )]];
        let text = DigestText {
            head: "<b>S</b>: 3 new releases (1/2)".into(),
            lines: vec!["• one".into(), "• two".into()],
            foot: "#s".into(),
            keyboard: keyboard.clone(),
        };
        let mark = SendMark {
            chat_key: "@c".into(),
            chat: "@c".into(),
            keyboard: Some(keyboard.clone()),
            digest_items: Some((0, 2)),
            digest_text: Some(text.clone()),
            floor: Some(0),
            ..SendMark::default()
        };
        let mut look = LookBack {
            channel: "c".into(),
            source: "s".into(),
            item: items[0].id,
            title: items[0].title.clone(),
            link: items[0].link.clone(),
            chat_key: "@c".into(),
            chat: "@c".into(),
            chat_id: None,
            message_id: 2,
            floor: Some(0),
            keyboard: keyboard.clone(),
            lost_keyboards: vec![keyboard.clone()],
            photo: false,
            owed: 1,
            delete: None,
            found: 0,
            digest: Some(DigestCopy {
                items: vec![items[0].id, items[1].id],
                text: text.clone(),
            }),
            unsure: Vec::new(),
        };
        {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            let mut c = commit("s", &items, 10);
            c.deliveries = &deliveries;
            store.commit(&c).await.unwrap();
            let mut digest = store.next_delivery("c").unwrap().unwrap();
            store.mark_send(&mut digest, Some(&mark)).await.unwrap();
            store.mark_uncertain(&mut digest).await.unwrap();
            assert_eq!(
                (
                    digest.delivery.uncertain_sends,
                    &digest.delivery.lost_keyboards,
                    digest.delivery.lost_floor
                ),
                (1, &vec![keyboard.clone()], Some(0)),
                "a digest message's lost send is known by its button"
            );
            store.mark_send(&mut digest, Some(&mark)).await.unwrap();
            let part = DigestPartSent {
                items: &items[..2],
                record: digest_record(2),
                text: Some(&text),
                last: false,
                look: Some(&look),
            };
            store
                .complete_digest_part_in("c", Some("@c"), &mut digest, part)
                .await
                .unwrap();
        }
        let store = reopen(dir.path());
        assert_eq!(store.looks_back("@c", &[]).unwrap(), [look.clone()]);
        let digest = store.next_delivery("c").unwrap().unwrap();
        assert_eq!(
            (
                digest.delivery.items_done,
                digest.delivery.uncertain_sends,
                digest.delivery.lost_keyboards.len(),
                digest.delivery.lost_floor
            ),
            (2, 0, 0, None),
            "the next message starts with no lost send"
        );
        look.delete = Some(2);
        look.message_id = 1;
        look.found = 1;
        store
            .update_look_back(&look, Some(&digest_record(1)))
            .await
            .unwrap();
        drop(store);
        let store = reopen(dir.path());
        for listed in &items[..2] {
            let record = store.post_record("c", "s", &listed.id).unwrap();
            assert!(
                matches!(record, Some(PostRecord::Digest { message_id: 1, .. })),
                "{record:?}"
            );
        }
        assert_eq!(
            store.post_record("c", "s", &items[2].id).unwrap(),
            Some(PostRecord::Queued)
        );
        let kept = store.digest_message("@c", 1).unwrap().unwrap();
        assert_eq!(
            (kept.items, kept.text),
            (vec![items[0].id, items[1].id], text)
        );
        assert_eq!(store.digest_message("@c", 2).unwrap(), None, "deleted");
        assert_eq!(store.looks_back("@c", &[]).unwrap(), [look.clone()]);
        store.looked_back(&look).await.unwrap();
        assert!(store.looks_back("@c", &[]).unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_interrupted_send_counts_as_uncertain_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<Item> = (1..=2).map(|n| item("s", n, n as u64)).collect();
        let deliveries = posts("c", &items);
        {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            let mut c = commit("s", &items, 10);
            c.deliveries = &deliveries;
            store.commit(&c).await.unwrap();
            let mut first = store.next_delivery("c").unwrap().unwrap();
            assert!(!first.delivery.in_flight);
            store.mark_in_flight(&mut first).await.unwrap();
            // The second delivery as an earlier version left it in flight.
            let (key, bytes) = store.outbox.iter().nth(1).unwrap().unwrap();
            let mut old: Delivery = codec::decode(&bytes).unwrap();
            old.in_flight = true;
            store
                .outbox
                .insert(key, serde_json::to_vec(&old).unwrap())
                .unwrap();
            store.flush().await.unwrap();
        }
        let store = reopen(dir.path());
        let mut first = store.next_delivery("c").unwrap().unwrap();
        assert_eq!(
            (first.delivery.in_flight, first.delivery.uncertain_sends),
            (true, 0)
        );
        store.mark_in_flight(&mut first).await.unwrap();
        assert_eq!(first.delivery.uncertain_sends, 1);
        let sent = PostRecord::Sent {
            chat: "@c".into(),
            message_id: 1,
            photo: false,
            at: Utc::now(),
            chat_id: None,
        };
        store.complete_post("c", &first, sent).await.unwrap();

        let mut second = store.next_delivery("c").unwrap().unwrap();
        assert_eq!(second.delivery.item.id, items[1].id);
        assert!(second.delivery.in_flight, "the old flag reads");
        store.mark_in_flight(&mut second).await.unwrap();
        store.mark_not_sent(&mut second).unwrap();
        let again = store.next_delivery("c").unwrap().unwrap();
        assert_eq!(
            (again.delivery.in_flight, again.delivery.uncertain_sends),
            (false, 1)
        );
        store.complete(&again).await.unwrap();
        assert!(store.in_flight.is_empty(), "no flag outlives its delivery");
    }

    /// Stores `items` with their `deliveries` (to channel "c"), tries the first and sets it
    /// aside; returns the setting aside's number.
    async fn set_aside_the_first(store: &Store, items: &[Item], deliveries: &[NewDelivery]) -> u64 {
        let mut c = commit("s", items, 10);
        c.deliveries = deliveries;
        store.commit(&c).await.unwrap();
        let mut first = store.next_delivery("c").unwrap().unwrap();
        store.mark_in_flight(&mut first).await.unwrap();
        store.set_aside(&first, "Bad Request: X").await.unwrap()
    }

    /// A set-aside delivery keeps its place but is neither offered nor pending; `requeue`
    /// puts it back where it was, ahead of the deliveries queued after it, across a reopen.
    #[tokio::test]
    async fn a_set_aside_delivery_waits_for_requeue_in_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<Item> = (1..=3).map(|n| item("s", n, n as u64)).collect();
        let deliveries = posts("c", &items);
        {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            set_aside_the_first(&store, &items, &deliveries).await;
            assert_eq!(store.pending("c").unwrap(), 2);
            assert_eq!(store.set_aside_count("c").unwrap(), 1);
            let next = store.next_delivery("c").unwrap().unwrap();
            assert_eq!(next.delivery.item.id, items[1].id, "the queue goes on");
            assert!(store.in_flight.is_empty());
            assert_eq!(
                store.post_record("c", "s", &items[0].id).unwrap(),
                Some(PostRecord::Queued),
                "still queued: never posted twice, never lost"
            );
        }
        let store = reopen(dir.path());
        assert_eq!(store.set_aside_count("c").unwrap(), 1);
        assert_eq!(store.requeue("other").await.unwrap(), 0);
        assert_eq!(store.requeue("c").await.unwrap(), 1);
        assert_eq!(
            (
                store.pending("c").unwrap(),
                store.set_aside_count("c").unwrap()
            ),
            (3, 0)
        );
        let first = store.next_delivery("c").unwrap().unwrap();
        assert_eq!(first.delivery.item.id, items[0].id, "back in its place");
    }

    /// Herald stopped between setting a delivery aside and its alert: the store still says the
    /// admins were not told, across a reopen, until `mark_told` for that very setting aside; a
    /// requeue and a new setting aside need an alert of their own.
    #[tokio::test]
    async fn a_set_aside_delivery_stays_untold_until_its_own_alert_went() {
        let dir = tempfile::tempdir().unwrap();
        let items = vec![item("s", 1, 1)];
        let deliveries = posts("c", &items);
        let first = {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            set_aside_the_first(&store, &items, &deliveries).await
        };
        let store = reopen(dir.path());
        let untold = store.untold_set_aside("c").unwrap();
        assert_eq!(untold.len(), 1);
        let (queued, reason, n) = &untold[0];
        assert_eq!((reason.as_str(), *n), ("Bad Request: X", first));
        assert!(store.untold_set_aside("other").unwrap().is_empty());

        // Requeued and set aside again (at once: the same instant) before the first alert's record: that record does not
        // count for the second time.
        store.requeue("c").await.unwrap();
        let mut again = store.next_delivery("c").unwrap().unwrap();
        store.mark_in_flight(&mut again).await.unwrap();
        let second = store.set_aside(&again, "Bad Request: Y").await.unwrap();
        assert_ne!(first, second);
        store.mark_told(&queued.key, first).unwrap();
        assert_eq!(
            store.untold_set_aside("c").unwrap().len(),
            1,
            "still untold"
        );
        store.mark_told(&queued.key, second).unwrap();
        assert!(store.untold_set_aside("c").unwrap().is_empty());
        assert_eq!(
            store.set_aside_count("c").unwrap(),
            1,
            "told, still set aside"
        );

        // Told about a delivery requeued meanwhile: no mark is made again.
        store.requeue("c").await.unwrap();
        store.mark_told(&queued.key, second).unwrap();
        assert_eq!(store.set_aside_count("c").unwrap(), 0);
    }

    /// A renamed channel entry: its queue (in order, with its in-flight mark), post records,
    /// first-poll markers, state and last message id move to the new id in one step; a record
    /// the new id has already wins, and the old id's queued post of that item is dropped.
    #[tokio::test]
    async fn a_channel_moves_to_a_new_id_with_its_queue_and_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let items: Vec<Item> = (1..=4).map(|n| item("s", n, n as u64)).collect();
        // "c" queues all four; "d" (the same chat) has the last one queued already.
        let mut deliveries = posts("c", &items);
        deliveries.extend(posts("d", &items[3..]));
        let baselines = ["c".to_owned()];
        let mut c = commit("s", &items, 10);
        c.deliveries = &deliveries;
        c.baselines = &baselines;
        store.commit(&c).await.unwrap();
        let first = store.next_delivery("c").unwrap().unwrap();
        let sent = PostRecord::Sent {
            chat: "@c".into(),
            message_id: 7,
            photo: false,
            at: Utc::now(),
            chat_id: None,
        };
        store.complete_post("c", &first, sent).await.unwrap();
        let mut second = store.next_delivery("c").unwrap().unwrap();
        store.mark_in_flight(&mut second).await.unwrap();
        store
            .update_channel_state("c", |s| s.migrated_to = Some(-100))
            .unwrap();

        let moved = store.move_channel("c", "d").unwrap();
        assert_eq!(
            moved,
            MovedChannel {
                deliveries: 2,
                records: 3,
                dropped: 1
            }
        );
        assert_eq!(
            (store.pending("c").unwrap(), store.pending("d").unwrap()),
            (0, 3)
        );
        let next = store.next_delivery("d").unwrap().unwrap();
        assert_eq!(next.delivery.item.id, items[1].id, "the order holds");
        assert!(next.delivery.in_flight, "the in-flight mark follows");
        assert!(matches!(
            store.post_record("d", "s", &items[0].id).unwrap(),
            Some(PostRecord::Sent { message_id: 7, .. })
        ));
        assert_eq!(store.post_record("c", "s", &items[0].id).unwrap(), None);
        assert!(store.baselined("d", "s").unwrap() && !store.baselined("c", "s").unwrap());
        assert_eq!(store.channel_state("d").unwrap().migrated_to, Some(-100));
        assert_eq!(store.last_message_id("d").unwrap(), Some(7));
        let ids: Vec<String> = store.channel_ids().unwrap().into_iter().collect();
        assert_eq!(ids, ["d"]);
    }

    /// Records written before digests existed still read.
    #[test]
    fn an_old_delivery_record_reads_without_the_digest_fields() {
        let old = serde_json::json!({
            "kind": "post",
            "item": item("s", 1, 1),
            "enqueued": "2026-03-01T12:00:00Z",
        });
        let delivery: Delivery = serde_json::from_value(old).unwrap();
        assert!(delivery.items.is_empty() && delivery.parts_done == 0 && !delivery.in_flight);
    }
}
