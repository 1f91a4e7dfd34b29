//! The Telegram outbox: the only queue of posts and edits. A delivery is enqueued in the same
//! transaction that stores its item, and leaves the outbox only in the transaction that records
//! Telegram's `message_id`, so a crash at any moment loses nothing.
//!
//! Trees and keys:
//! - `outbox`:    channel ++ 0 ++ seq (u64, big-endian)      → Queued (JSON); FIFO per channel
//! - `posts`:     channel ++ 0 ++ source ++ 0 ++ item id     → PostRecord (JSON); one per item and
//!   channel for ever, so an item is never queued twice for a channel
//! - `baselines`: channel ++ 0 ++ source                     → (); the source's first poll for the
//!   channel happened (only `backfill` items were posted then)
//! - `channels`:  channel                                    → ChannelState (JSON)
//! - `last_message`: channel                                 → newest message id (i32 BE)

use super::{Store, StoreError, transaction_error};
use crate::model::{Item, ItemId};
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
}

/// A delivery a poll makes due.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDelivery {
    pub channel: String,
    pub kind: DeliveryKind,
    /// A copy of the item as stored now: the item may leave the feed (beyond `max_items`) before
    /// the post goes out, and the post must not be lost with it.
    pub item: Item,
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
    /// True while a send is in flight (written, and flushed, just before the request).
    #[serde(default)]
    pub in_flight: bool,
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
    },
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

/// A delivery encoded with its outbox key, ready for a transaction.
pub(super) struct Prepared {
    key: Vec<u8>,
    post_key: Vec<u8>,
    kind: DeliveryKind,
    bytes: Vec<u8>,
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
        if d.kind == DeliveryKind::Post {
            if posts.get(&d.post_key)?.is_some() {
                continue;
            }
            posts.insert(d.post_key.clone(), encode(&PostRecord::Queued)?)?;
        }
        outbox.insert(d.key.clone(), d.bytes.as_slice())?;
    }
    Ok(())
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, UnabortableTransactionError> {
    serde_json::to_vec(value)
        .map_err(|e| UnabortableTransactionError::Storage(sled::Error::Unsupported(e.to_string())))
}

impl Store {
    pub(super) fn prepare_deliveries(
        &self,
        deliveries: &[super::NewDelivery],
    ) -> Result<Vec<Prepared>, StoreError> {
        let now = Utc::now();
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
                };
                Ok(Prepared {
                    key,
                    post_key: post_key(&d.channel, &d.item.source, &d.item.id),
                    kind: d.kind,
                    bytes: serde_json::to_vec(&delivery)?,
                })
            })
            .collect()
    }

    /// The oldest delivery waiting for `channel`.
    pub fn next_delivery(&self, channel: &str) -> Result<Option<Queued>, StoreError> {
        match self.outbox.scan_prefix(channel_prefix(channel)).next() {
            Some(entry) => {
                let (key, bytes) = entry?;
                Ok(Some(Queued {
                    key: key.to_vec(),
                    delivery: serde_json::from_slice(&bytes)?,
                }))
            }
            None => Ok(None),
        }
    }

    pub fn pending(&self, channel: &str) -> Result<usize, StoreError> {
        let mut n = 0;
        for key in self.outbox.scan_prefix(channel_prefix(channel)).keys() {
            key?;
            n += 1;
        }
        Ok(n)
    }

    /// Records, durably, that a send of this delivery is about to start. A delivery found still
    /// in flight (after a crash) counts one uncertain send.
    pub async fn mark_in_flight(&self, queued: &mut Queued) -> Result<(), StoreError> {
        if queued.delivery.in_flight {
            queued.delivery.uncertain_sends += 1;
        }
        queued.delivery.in_flight = true;
        self.outbox
            .insert(&queued.key, serde_json::to_vec(&queued.delivery)?)?;
        self.db.flush_async().await?;
        Ok(())
    }

    /// A send failed with an answer from Telegram (so it was not accepted): not in flight.
    pub fn mark_not_sent(&self, queued: &mut Queued) -> Result<(), StoreError> {
        queued.delivery.in_flight = false;
        self.outbox
            .insert(&queued.key, serde_json::to_vec(&queued.delivery)?)?;
        Ok(())
    }

    /// Telegram accepted the post: record where it is and take it off the queue, atomically.
    pub async fn complete_post(
        &self,
        channel: &str,
        queued: &Queued,
        record: PostRecord,
    ) -> Result<(), StoreError> {
        let item = &queued.delivery.item;
        let pkey = post_key(channel, &item.source, &item.id);
        let bytes = serde_json::to_vec(&record)?;
        let message_id = match record {
            PostRecord::Sent { message_id, .. } => Some(message_id),
            PostRecord::Queued => None,
        };
        (&self.outbox, &self.posts, &self.last_message)
            .transaction(|(outbox, posts, last_message)| {
                outbox.remove(queued.key.as_slice())?;
                posts.insert(pkey.as_slice(), bytes.as_slice())?;
                if let Some(id) = message_id {
                    let newer = match last_message.get(channel)? {
                        Some(v) => {
                            v.len() == 4 && i32::from_be_bytes([v[0], v[1], v[2], v[3]]) < id
                        }
                        None => true,
                    };
                    if newer {
                        last_message.insert(channel, &id.to_be_bytes()[..])?;
                    }
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(transaction_error)?;
        self.db.flush_async().await?;
        Ok(())
    }

    /// The delivery needs nothing more (an edit done, or moot): take it off the queue.
    pub async fn complete(&self, queued: &Queued) -> Result<(), StoreError> {
        self.outbox.remove(&queued.key)?;
        self.db.flush_async().await?;
        Ok(())
    }

    /// The newest message id Telegram gave herald in this channel, recorded with the post
    /// itself, so it is never behind the posts on disk.
    pub fn last_message_id(&self, channel: &str) -> Result<Option<i32>, StoreError> {
        Ok(self
            .last_message
            .get(channel)?
            .filter(|v| v.len() == 4)
            .map(|v| i32::from_be_bytes([v[0], v[1], v[2], v[3]])))
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

    pub fn channel_state(&self, channel: &str) -> Result<ChannelState, StoreError> {
        match self.channels.get(channel)? {
            Some(bytes) => Ok(serde_json::from_slice(&bytes)?),
            None => Ok(ChannelState::default()),
        }
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
            let Ok(PostRecord::Sent { at, .. }) = serde_json::from_slice(&bytes) else {
                continue;
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
        Ok(removed)
    }

    /// Removes the queued deliveries and post records of `source` (for `prune`).
    pub(super) fn prune_deliveries(&self, source: &str) -> Result<usize, StoreError> {
        let mut removed = 0;
        for entry in self.outbox.iter() {
            let (key, bytes) = entry?;
            let d: Delivery = serde_json::from_slice(&bytes)?;
            if d.item.source == source {
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
        Ok(removed)
    }
}
