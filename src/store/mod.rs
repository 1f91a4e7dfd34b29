//! The sled database: every stored item, the ids ever seen (kept for ever, so nothing is announced
//! twice), an index by source and date for the feeds, and each source's polling state. All of
//! sled stays behind this module.
//!
//! Trees and keys (a source id never contains a NUL byte, so `source ++ 0` is an exact prefix):
//! - `items`:   source ++ 0 ++ id            → Item (JSON)
//! - `order`:   source ++ 0 ++ published ++ seq ++ id → ()   (newest last; feeds read it backwards)
//! - `seen`:    source ++ 0 ++ id            → content_digest of title and summary, then (since
//!   December 2026) the address_digest of its link: 8 or 16 bytes
//! - `sources`: source                       → SourceState (JSON)
//! - `outbox`, `in_flight`, `set_aside`, `posts`, `baselines`, `channels`: Telegram deliveries
//!   (see `outbox`)
//! - `translations`: source ++ 0 ++ id      → Vec<Translation> (JSON): the same release in other
//!   languages, one per language, written for both sides in one transaction
//! - `images`:  source ++ 0 ++ image file name → u64 (big-endian): how many releases of the source
//!   ever used that cover image (a stock picture recurs; translation linking trusts rare ones);
//!   counted from the stored items once when a database from before it is opened
//! - `websub`:  feed path ("/feeds/x.rss") → (): WebSub pings noted and not yet made, so that a
//!   stop or a crash before the hub was told loses none (issue 25)
//! - `feed_dates`: plain feed ("x.rss")    → a digest of its content (16 bytes) and when that
//!   content was first served (i64 seconds, big-endian): its `Last-Modified`, kept across restarts;
//!   filtered feeds' dates too, in a bounded set of slots per feed ("x.atom?#0" … "x.atom?#31",
//!   see `server::feeds`), their digest starting with a tag of the options
//! - `pruned`:  source ++ 0 ++ id            → (): the releases `herald prune` took out of the feed
//!   (their ids stay in `seen`): one a later poll reads again is stored again, never announced;
//!   a database pruned before this tree has its emptied sources' ids noted once on open
//!   (`pruned-noted` in the default tree)
//! - `alerts`:  admin alerts not yet taken by Telegram, and admin chats that refuse them (see
//!   `alerts`)
//! - `meta`:    "format"                     → the on-disk format version

mod alerts;
mod codec;
mod outbox;
mod stamps;

pub use alerts::{AlertKey, PendingAlert};
pub use outbox::{
    ChannelState, ChatCalls, Delivery, DeliveryKind, DigestCopy, DigestMessage, DigestPartSent,
    DigestText, LookBack, MovedChannel, NewDelivery, OwedRestore, PostRecord, Queued, SendMark,
};

use crate::model::{Item, ItemId, Translation};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use std::path::{Path, PathBuf};

const FORMAT_VERSION: &[u8] = b"1";

/// The file in `data_dir` that lists the source ids the database holds.
pub const KNOWN_SOURCES: &str = "known-sources";

/// The source ids listed in `data_dir/known-sources`, read without opening the database.
pub fn known_sources_on_disk(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join(KNOWN_SOURCES))
        .map(|t| {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// What can go wrong with the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the database lock.
    #[error(
        "another herald is using the database in {}: stop it first (or give this one another data_dir)",
        .0.display()
    )]
    Locked(PathBuf),
    /// The database was written by an incompatible herald.
    #[error("the database in {} has format {found}, this herald reads format 1", .dir.display())]
    Format { dir: PathBuf, found: String },
    /// The database files are damaged. herald never resets them: the admin decides.
    #[error(
        "the database in {} is damaged ({detail}); herald will not start on it and will not reset it: restore a backup of that folder, or move it away to start with an empty database (its items and pending posts are then lost)",
        .dir.display()
    )]
    Corrupt { dir: PathBuf, detail: String },
    /// Too little room left in the data folder: new work waits until there is more.
    #[error(
        "only {free_mb} MB free in {}; herald keeps {need_mb} MB free ([general] min_free_mb) and takes no new releases or posts until there is room; feeds are still served",
        .dir.display()
    )]
    DiskFull {
        dir: PathBuf,
        free_mb: u64,
        need_mb: u64,
    },
    /// The data folder cannot be created, read or written (its owner or mode, a read-only file
    /// system, a file in the way). Not a `#[source]`: the message names the cause once.
    #[error(
        "cannot open the database in {}: {cause}; herald must be able to create and write files in that folder (data_dir)",
        .dir.display()
    )]
    Unusable { dir: PathBuf, cause: std::io::Error },
    /// sled reported an I/O or corruption error.
    #[error("database error: {0}")]
    Sled(sled::Error),
    /// A stored record could not be read back.
    #[error("stored record is unreadable: {0}")]
    Decode(serde_json::Error),
}

// By hand rather than `#[from]`, which would also make the inner error the `source()`: every
// message that prints the chain (`{:#}`) would then say the cause twice.
impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Sled(e)
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Decode(e)
    }
}

/// What the store remembers of one source between polls.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceState {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Hex SHA-256 of the last list page body, to skip unchanged pages.
    pub body_hash: Option<String>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    /// True once a poll has stored this source's items (the first poll only backfills).
    pub first_poll_done: bool,
    /// Digests of the source's config (how its pages are read, and what is fetched and kept)
    /// the validators above and the stored texts were read with; another one drops the
    /// validators, and another reading one makes a reread (the pipeline's `reading_digest`).
    #[serde(default)]
    pub read_with: Option<String>,
    /// True once any poll succeeded: a page that then matches nothing is a redesign.
    #[serde(default)]
    pub ever_succeeded: bool,
    /// The admins were told that this source fails; they hear once more when it recovers.
    #[serde(default)]
    pub alerted: bool,
    /// The newest release is far older than the source's usual rhythm (see `health`); the admins
    /// were told.
    #[serde(default)]
    pub stale: bool,
    /// Paused by an admin (`/pause`): not polled until resumed.
    #[serde(default)]
    pub paused: bool,
    /// The last poll read list dates it could not read (issue 24): what to tell the admin.
    #[serde(default)]
    pub date_warning: Option<String>,
    /// The last poll skipped cards of the list page (no title, no link of its own): what to
    /// tell the admin.
    #[serde(default)]
    pub card_warning: Option<String>,
    /// The last poll's walk stopped at `max_pages` among new releases: those past it were not
    /// read (the pipeline's `PollReport::pages_warning`).
    #[serde(default)]
    pub pages_warning: Option<String>,
    /// The admins were told that the list page's cards are skipped (see `card_warning`).
    #[serde(default)]
    pub cards_alerted: bool,
    /// The schedule (its cron text) whose running out the admins were told of: told once, not
    /// again after each restart; another schedule that runs out is told again.
    #[serde(default)]
    pub ended_told: Option<String>,
    /// The page an upstream feed (`kind = "feed"`) names as its site's, as last read: the
    /// published feeds' home page link.
    #[serde(default)]
    pub site: Option<String>,
    /// The last poll's walk through older pages (`?page=N`) was cut short by an error: the
    /// next poll reads on (see the pipeline's `read_older_pages`).
    #[serde(default)]
    pub walk_cut: Option<WalkCut>,
}

/// An older-pages walk cut short: where the next poll reads on from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WalkCut {
    /// The page (`?page=N`) that could not be read.
    pub page: u32,
    /// The lowest release read before it: the walk goes on to the page after the one showing
    /// it now (newer releases may have pushed it down). `None` when no release was read.
    pub after: Option<ItemId>,
    /// Polls in a row whose walk was cut (this one included).
    #[serde(default)]
    pub cuts: u32,
}

/// What the store knows about an item id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    Never,
    /// Seen before; `stored` is false once the item left the feed (beyond `max_items`).
    Before {
        content_digest: [u8; 8],
        stored: bool,
    },
}

/// A short hash of what a correction can change; a different value means "changed".
pub fn content_digest(title: &str, summary: Option<&str>) -> [u8; 8] {
    let mut h = Sha256::new();
    h.update(title.as_bytes());
    h.update([0]);
    h.update(summary.unwrap_or("").as_bytes());
    let mut out = [0; 8];
    out.copy_from_slice(&h.finalize()[..8]);
    out
}

/// The path of a link, hashed: a release whose path differs under the same id (a corrected
/// slug) is a correction, while a query that changes from visit to visit (a session, a tracking
/// tag) or a site's move to https or to another host (every release at once) is not.
pub fn address_digest(link: &str) -> [u8; 8] {
    let address = match url::Url::parse(link) {
        Ok(url) => url.path().to_owned(),
        Err(_) => link.to_owned(),
    };
    let mut out = [0; 8];
    out.copy_from_slice(&Sha256::digest(address.as_bytes())[..8]);
    out
}

/// A link's whole address, path and query, as keys read it ([`crate::model::link_key`]: the
/// query rebuilt as form pairs), without scheme and host. Releases of a site that tells them
/// apart by query alone (`/news.php?id=101`) share a path but not this.
pub fn whole_address(link: &str) -> String {
    match url::Url::parse(link) {
        Ok(url) => {
            let key = url::Url::parse(&crate::model::link_key(&url)).unwrap_or(url);
            match key.query() {
                Some(query) => format!("{}?{query}", key.path()),
                None => key.path().to_owned(),
            }
        }
        Err(_) => link.to_owned(),
    }
}

/// A digest as `seen` keeps it (the first 8 bytes of a SHA-256).
pub type Digest8 = [u8; 8];

/// What `seen` holds for an item: its content digest, and its address digest when it was
/// stored or seen since addresses were recorded.
fn seen_value(content: [u8; 8], link: &str) -> [u8; 16] {
    let mut value = [0; 16];
    value[..8].copy_from_slice(&content);
    value[8..].copy_from_slice(&address_digest(link));
    value
}

/// What one poll stores, in one transaction.
#[derive(Clone, Copy, Debug)]
pub struct Commit<'a> {
    pub source: &'a str,
    pub new: &'a [Item],
    pub corrected: &'a [Item],
    /// Telegram posts and edits made due by this poll, oldest first.
    pub deliveries: &'a [NewDelivery],
    /// Channels for which this poll was the first of the source (backfill applied).
    pub baselines: &'a [String],
    /// What the list page showed of each item (title and summary, see `content_digest`), the
    /// measure of a later correction; items not named here are measured as stored.
    pub content_digests: &'a std::collections::HashMap<ItemId, [u8; 8]>,
    pub max_items: usize,
    /// Translation links found for this poll's new items: each pair is written on both sides.
    pub links: &'a [(Translation, Translation)],
    /// Translation links this poll takes back (a new release ties one: issue 25), removed on
    /// both sides before [`Commit::links`] are written.
    pub unlinks: &'a [(Translation, Translation)],
    /// New items past the poll's bound (`max_new_per_poll`): remembered as seen, not stored, so
    /// that they are never announced.
    pub seen_only: &'a [Item],
    /// Known releases whose stored item `prune` deleted, read again (the source returned):
    /// stored again as new ones are, with no delivery (see [`Store::was_pruned`]).
    pub restored: &'a [Item],
}

#[derive(Clone)]
pub struct Store {
    dir: PathBuf,
    db: sled::Db,
    items: sled::Tree,
    order: sled::Tree,
    seen: sled::Tree,
    sources: sled::Tree,
    outbox: sled::Tree,
    in_flight: sled::Tree,
    set_aside: sled::Tree,
    posts: sled::Tree,
    baselines: sled::Tree,
    channels: sled::Tree,
    last_message: sled::Tree,
    chat_ids: sled::Tree,
    chat_calls: sled::Tree,
    translations: sled::Tree,
    images: sled::Tree,
    websub: sled::Tree,
    feed_dates: sled::Tree,
    digest_messages: sled::Tree,
    /// A release's identity under another key (an `id_pattern` edit changed its key): the new
    /// key's item id -> the id it is stored under (see `Store::alias`).
    aliases: sled::Tree,
    /// The releases `prune` took out of the feed (see [`Store::was_pruned`]).
    pruned: sled::Tree,
    alerts: sled::Tree,
    /// Which instants items hold as their `updated` (see `stamps`).
    stamps: stamps::Stamps,
    /// One writer of `known-sources` at a time: the first polls of many sources run at once.
    known_file: std::sync::Arc<std::sync::Mutex<()>>,
    /// The config's `[[translations]]` groups, as source ids (see
    /// [`Store::set_translation_groups`]); `None` until set: every stored link is read.
    translation_groups: std::sync::Arc<std::sync::RwLock<Option<Vec<Vec<String>>>>>,
    /// One flush at a time (see `sync`).
    flushing: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Callers of `sync` numbered in order (each after its writes), and the number up to which
    /// a finished flush covers them: callers waiting behind one flush share the next.
    sync_calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
    synced: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// False only in the delivery simulation (see `without_flushes`).
    flushes: bool,
}

/// Changes the JSON record at `key` of `tree` in one atomic step (sled's compare-and-swap loop:
/// `change` may run again when another writer got in between): a missing record starts as
/// `T::default()`. Answers the record written, and whether there was none before.
fn update_json<T>(
    tree: &sled::Tree,
    key: &str,
    change: impl Fn(&mut T),
) -> Result<(T, bool), StoreError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Default,
{
    let mut failed = None;
    let mut result = T::default();
    let previous = tree.fetch_and_update(key, |old| {
        failed = None;
        let read = old.map(serde_json::from_slice::<T>).transpose();
        let mut record = match read {
            Ok(record) => record.unwrap_or_default(),
            Err(e) => {
                failed = Some(e);
                return old.map(<[u8]>::to_vec);
            }
        };
        change(&mut record);
        match serde_json::to_vec(&record) {
            Ok(bytes) => {
                result = record;
                Some(bytes)
            }
            Err(e) => {
                failed = Some(e);
                old.map(<[u8]>::to_vec)
            }
        }
    })?;
    match failed {
        Some(e) => Err(e.into()),
        None => Ok((result, previous.is_none())),
    }
}

fn transaction_error(e: TransactionError<()>) -> StoreError {
    match e {
        TransactionError::Storage(e) => StoreError::Sled(e),
        TransactionError::Abort(()) => {
            StoreError::Sled(sled::Error::Unsupported("transaction aborted".into()))
        }
    }
}

fn prefix(source: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(source.len() + 1);
    k.extend_from_slice(source.as_bytes());
    k.push(0);
    k
}

pub(super) fn item_key(source: &str, id: &ItemId) -> Vec<u8> {
    let mut k = prefix(source);
    k.extend_from_slice(&id.0);
    k
}

/// Inside a transaction: records `to` as a translation of `from`, replacing any other of the
/// same language (one per language).
fn add_translation(
    tree: &sled::transaction::TransactionalTree,
    from: &Translation,
    to: &Translation,
) -> Result<(), ConflictableTransactionError<()>> {
    let mut list = read_translations(tree, &from.source, &from.id)?;
    // A link replaced by a better one (issue 25): the release it pointed at forgets `from` too,
    // so that no language button or hreflang is left pointing at the wrong release.
    for old in list
        .iter()
        .filter(|t| t.language == to.language && t.id != to.id)
    {
        let mut theirs = read_translations(tree, &old.source, &old.id)?;
        theirs.retain(|t| t.id != from.id);
        write_translations(tree, &old.source, &old.id, &theirs)?;
    }
    list.retain(|t| t.language != to.language);
    list.push(to.clone());
    write_translations(tree, &from.source, &from.id, &list)
}

/// Inside a transaction: `from` forgets its link to `to`.
fn remove_translation(
    tree: &sled::transaction::TransactionalTree,
    from: &Translation,
    to: &Translation,
) -> Result<(), ConflictableTransactionError<()>> {
    let mut list = read_translations(tree, &from.source, &from.id)?;
    let before = list.len();
    list.retain(|t| !(t.source == to.source && t.id == to.id));
    if list.len() == before {
        return Ok(());
    }
    write_translations(tree, &from.source, &from.id, &list)
}

/// Inside a transaction: each release linked to `item` gets `item`'s link (corrected, the id
/// kept) in its copy of the link.
fn follow_address(
    tree: &sled::transaction::TransactionalTree,
    source: &str,
    item: &Item,
) -> Result<(), ConflictableTransactionError<()>> {
    for partner in read_translations(tree, source, &item.id)? {
        let mut theirs = read_translations(tree, &partner.source, &partner.id)?;
        let mut moved = false;
        for t in theirs
            .iter_mut()
            .filter(|t| t.source == source && t.id == item.id && t.link != item.link)
        {
            t.link.clone_from(&item.link);
            moved = true;
        }
        if moved {
            write_translations(tree, &partner.source, &partner.id, &theirs)?;
        }
    }
    Ok(())
}

fn read_translations(
    tree: &sled::transaction::TransactionalTree,
    source: &str,
    id: &ItemId,
) -> Result<Vec<Translation>, ConflictableTransactionError<()>> {
    Ok(match tree.get(item_key(source, id))? {
        Some(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        None => Vec::new(),
    })
}

fn write_translations(
    tree: &sled::transaction::TransactionalTree,
    source: &str,
    id: &ItemId,
    list: &[Translation],
) -> Result<(), ConflictableTransactionError<()>> {
    let key = item_key(source, id);
    if list.is_empty() {
        tree.remove(key)?;
        return Ok(());
    }
    let bytes = serde_json::to_vec(list).map_err(|e| {
        ConflictableTransactionError::Storage(sled::Error::Unsupported(e.to_string()))
    })?;
    tree.insert(key, bytes)?;
    Ok(())
}

/// A digest of a feed document's content, and when that content was first served.
pub type FeedDate = ([u8; 16], DateTime<Utc>);

/// The key of a source's count of releases using an image file name.
fn image_count_key(source: &str, name: &str) -> Vec<u8> {
    let mut k = prefix(source);
    k.extend_from_slice(name.as_bytes());
    k
}

/// A stored count (8 bytes big-endian; anything else reads as 0).
fn read_count(bytes: &[u8]) -> u64 {
    <[u8; 8]>::try_from(bytes).map_or(0, u64::from_be_bytes)
}

/// How far apart fresh `seq` numbers are ([`Store::next_seq`]): room for releases placed
/// between two stored ones of the same time (about twenty placed one between the last two).
pub const SEQ_GAP: u64 = 1 << 20;

/// Sorts by published time, then by `seq`: big-endian, with the sign bit flipped so that negative
/// timestamps sort before positive ones.
fn order_key(item: &Item) -> Vec<u8> {
    let mut k = prefix(&item.source);
    let millis = item.published.timestamp_millis() as u64 ^ (1 << 63);
    k.extend_from_slice(&millis.to_be_bytes());
    k.extend_from_slice(&item.seq.to_be_bytes());
    k.extend_from_slice(&item.id.0);
    k
}

/// Removes snapshot files sled began and never finished (`snap.<lsn>.generating`: it writes
/// one, syncs it, then renames it to `snap.<lsn>`, so a file still named so was cut short, by a
/// full disk or a kill). sled 0.34 takes the last snapshot file by name, this one included, and
/// then calls the whole database corrupt; without it, sled reads the finished snapshot before
/// it and the log after, and loses nothing.
/// Returns how many were removed.
fn drop_unfinished_snapshots(db: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(db) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    removed += 1;
                    tracing::warn!(
                    file = %entry.path().display(),
                    "removed a database snapshot that was never finished (a full disk or a kill while it was written); the database is read from the one before and its log"
                    );
                }
                Err(e) => tracing::warn!(
                    file = %entry.path().display(),
                    error = %e,
                    "cannot remove a database snapshot that was never finished"
                ),
            }
        }
    }
    removed
}

impl Store {
    /// Opens (or creates) the database in `dir`, with an explicit page cache (sled's default is
    /// 1 GiB). A second herald on the same directory gets `Locked`, not sled's raw I/O error, and
    /// a folder herald may not write gets `Unusable`, naming it.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        Store::open_in(dir, cache_bytes, Some(500)).map_err(|e| match e {
            StoreError::Sled(sled::Error::Io(cause)) => StoreError::Unusable {
                dir: dir.to_path_buf(),
                cause,
            },
            other => other,
        })
    }

    /// As `open`, without sled's own flush every 500 ms: a write is on disk only once herald
    /// flushes it. For tests of what herald makes durable itself (a `kill -9` loses what is not
    /// on disk; sled's timer would save most of it, by chance).
    #[cfg(test)]
    pub fn open_flushed_on_demand(dir: &Path) -> Result<Store, StoreError> {
        Store::open_in(dir, 1 << 20, None)
    }

    fn open_in(
        dir: &Path,
        cache_bytes: u64,
        flush_every_ms: Option<u64>,
    ) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Sled(e.into()))?;
        // Opening is one herald's at a time (released when this returns): sled's own lock is let
        // go when its open fails, and the unfinished snapshot removed below must not be the
        // snapshot of a herald that started opening in between.
        let _opening = std::fs::File::create(dir.join("open.lock"))
            .and_then(|file| file.lock().map(|()| file))
            .map_err(|e| StoreError::Sled(e.into()))?;
        let open = || {
            sled::Config::new()
                .path(dir.join("db"))
                .cache_capacity(cache_bytes)
                .flush_every_ms(flush_every_ms)
                .open()
        };
        let db = match open() {
            // sled read a snapshot it never finished. sled's lock was ours (else `Locked`), and
            // the opening lock still is, so no other herald is writing that file: it is taken
            // away, and the database opened again. (Removed before sled's lock, it could be a
            // running herald's snapshot in the making.)
            Err(sled::Error::Corruption { .. })
                if drop_unfinished_snapshots(&dir.join("db")) > 0 =>
            {
                open()
            }
            opened => opened,
        }
        .map_err(|e| match e {
            // sled wraps the lock failure in an `Other` error whose text names it.
            sled::Error::Io(io)
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("could not acquire lock") =>
            {
                StoreError::Locked(dir.to_path_buf())
            }
            sled::Error::Corruption { at, .. } => StoreError::Corrupt {
                dir: dir.to_path_buf(),
                detail: match at {
                    Some(at) => format!("unreadable data at {at:?}"),
                    None => "unreadable files".to_owned(),
                },
            },
            other => StoreError::Sled(other),
        })?;
        match db.get("format")? {
            None => {
                db.insert("format", FORMAT_VERSION)?;
            }
            Some(v) if v.as_ref() == FORMAT_VERSION => {}
            Some(v) => {
                return Err(StoreError::Format {
                    dir: dir.to_path_buf(),
                    found: String::from_utf8_lossy(&v).into_owned(),
                });
            }
        }
        let store = Store {
            items: db.open_tree("items")?,
            order: db.open_tree("order")?,
            seen: db.open_tree("seen")?,
            sources: db.open_tree("sources")?,
            outbox: db.open_tree("outbox")?,
            in_flight: db.open_tree("in_flight")?,
            set_aside: db.open_tree("set_aside")?,
            posts: db.open_tree("posts")?,
            baselines: db.open_tree("baselines")?,
            channels: db.open_tree("channels")?,
            last_message: db.open_tree("last_message")?,
            chat_ids: db.open_tree("chat_ids")?,
            chat_calls: db.open_tree("chat_calls")?,
            translations: db.open_tree("translations")?,
            images: db.open_tree("images")?,
            websub: db.open_tree("websub")?,
            feed_dates: db.open_tree("feed_dates")?,
            digest_messages: db.open_tree("digest_messages")?,
            aliases: db.open_tree("aliases")?,
            pruned: db.open_tree("pruned")?,
            alerts: db.open_tree("alerts")?,
            stamps: stamps::Stamps::new(db.open_tree("stamps")?, db.open_tree("stamps_us")?),
            known_file: Default::default(),
            translation_groups: Default::default(),
            flushing: Default::default(),
            sync_calls: Default::default(),
            synced: Default::default(),
            flushes: true,
            dir: dir.to_path_buf(),
            db,
        };
        store.count_images_once()?;
        store.note_pruned_once()?;
        Ok(store)
    }

    /// The same store, whose writes are never flushed to disk: for the delivery simulation
    /// (`tests/delivery_simulation.rs`), whose kills are in-process (every write survives them)
    /// and whose paused clock must not jump while a flush runs on sled's threads. Real
    /// `kill -9`s against flushed writes are `tests/crash.rs`.
    pub fn without_flushes(mut self) -> Store {
        self.flushes = false;
        self
    }

    /// Refuses new work (`DiskFull`) while less than `need` bytes are free in the data folder.
    /// sled does not recover from a failed write until it is reopened, so herald stops short of
    /// a full disk instead of running into it. An unreadable figure counts as room.
    pub fn ensure_room(&self, need: u64) -> Result<(), StoreError> {
        match fs2::available_space(&self.dir) {
            Ok(free) if free < need => Err(StoreError::DiskFull {
                dir: self.dir.clone(),
                free_mb: free / (1024 * 1024),
                need_mb: need.div_ceil(1024 * 1024),
            }),
            _ => Ok(()),
        }
    }

    /// Whether `e` means that sled can no longer write (it keeps failing until reopened).
    pub fn is_broken(e: &StoreError) -> bool {
        matches!(e, StoreError::Sled(sled::Error::Io(_)))
    }

    pub fn seen(&self, source: &str, id: &ItemId) -> Result<Seen, StoreError> {
        Ok(match self.seen_digest(source, id)? {
            None => Seen::Never,
            Some(content_digest) => Seen::Before {
                content_digest,
                stored: self.stored(source, id)?,
            },
        })
    }

    /// The `content_digest` an item had when last stored or seen, or `None` if it was never
    /// seen: [`Self::seen`] without looking whether it is still stored.
    pub fn seen_digest(&self, source: &str, id: &ItemId) -> Result<Option<[u8; 8]>, StoreError> {
        Ok(self.seen_digests(source, id)?.map(|(content, _)| content))
    }

    /// The `content_digest` and, when recorded, the [`address_digest`] an item had when last
    /// stored or seen; `None` if it was never seen.
    pub fn seen_digests(
        &self,
        source: &str,
        id: &ItemId,
    ) -> Result<Option<(Digest8, Option<Digest8>)>, StoreError> {
        let Some(value) = self.seen.get(item_key(source, id))? else {
            return Ok(None);
        };
        let mut content = [0; 8];
        if value.len() >= 8 {
            content.copy_from_slice(&value[..8]);
        }
        let address = (value.len() == 16).then(|| {
            let mut address = [0; 8];
            address.copy_from_slice(&value[8..]);
            address
        });
        Ok(Some((content, address)))
    }

    /// The id a release is known under when an edit of the source's reading (`id_pattern`)
    /// gave it another key: `id` is the new key's id.
    pub fn alias(&self, source: &str, id: &ItemId) -> Result<Option<ItemId>, StoreError> {
        Ok(self.aliases.get(item_key(source, id))?.and_then(|v| {
            let bytes: [u8; 16] = v.as_ref().try_into().ok()?;
            Some(ItemId(bytes))
        }))
    }

    /// Every seen release of `source` by its address ([`address_digest`]); an address that
    /// several releases share maps to `None` (it tells none of them apart).
    pub fn seen_by_address(
        &self,
        source: &str,
    ) -> Result<std::collections::HashMap<Digest8, Option<ItemId>>, StoreError> {
        let start = prefix(source).len();
        let mut out: std::collections::HashMap<Digest8, Option<ItemId>> = Default::default();
        for entry in self.seen.scan_prefix(prefix(source)) {
            let (key, value) = entry?;
            let (Ok(id), Ok(address)) = (
                <[u8; 16]>::try_from(&key[start..]),
                <[u8; 8]>::try_from(value.get(8..).unwrap_or_default()),
            ) else {
                continue;
            };
            out.entry(address)
                .and_modify(|held| *held = None)
                .or_insert(Some(ItemId(id)));
        }
        Ok(out)
    }

    /// Every stored release of `source` by its [`whole_address`]; an address that several
    /// releases share maps to `None` (it tells none of them apart).
    pub fn stored_by_whole_address(
        &self,
        source: &str,
    ) -> Result<std::collections::HashMap<String, Option<ItemId>>, StoreError> {
        let mut out: std::collections::HashMap<String, Option<ItemId>> = Default::default();
        for entry in self.items.scan_prefix(prefix(source)) {
            let (_, bytes) = entry?;
            let item: Item = codec::decode(&bytes)?;
            out.entry(whole_address(&item.link))
                .and_modify(|held| *held = None)
                .or_insert(Some(item.id));
        }
        Ok(out)
    }

    /// The source's stored items (its feed), in key order.
    pub fn stored_items(&self, source: &str) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        for entry in self.items.scan_prefix(prefix(source)) {
            let (_, bytes) = entry?;
            out.push(codec::decode(&bytes)?);
        }
        Ok(out)
    }

    /// After a poll that read the source's pages in a new way (its reading config changed):
    /// records each release's text and address as now read (`reread`: id, content digest,
    /// link), so the next poll compares with them, and each release found under a new key
    /// (`aliases`: new id -> the id it is stored under), and rewrites the stored items of
    /// `rewritten` (same id, dates and place in the feed). Nothing is announced.
    pub async fn note_reading(
        &self,
        source: &str,
        reread: &[(ItemId, Digest8, String)],
        aliases: &[(ItemId, ItemId)],
        rewritten: &[Item],
    ) -> Result<(), StoreError> {
        for item in rewritten {
            let key = item_key(source, &item.id);
            if self.items.contains_key(&key)? {
                self.items.insert(key, codec::encode(item)?)?;
            }
        }
        for (id, content, link) in reread {
            self.seen
                .insert(item_key(source, id), &seen_value(*content, link)[..])?;
        }
        for (new, former) in aliases {
            self.aliases.insert(item_key(source, new), &former.0[..])?;
        }
        self.sync().await
    }

    /// Whether `herald prune` deleted the stored item of this release (its id kept): a poll that
    /// reads it again stores it again ([`Commit::restored`]), announcing nothing. A release that
    /// left the feed past `max_items` is not one.
    pub fn was_pruned(&self, source: &str, id: &ItemId) -> Result<bool, StoreError> {
        Ok(self.pruned.contains_key(item_key(source, id))?)
    }

    /// The date a pruned release had in the feed (see [`Store::was_pruned`]): it keeps it when
    /// it is back. `None` when not noted (pruned before dates were kept with the note).
    pub fn pruned_date(
        &self,
        source: &str,
        id: &ItemId,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
        Ok(self
            .pruned
            .get(item_key(source, id))?
            .and_then(|v| <[u8; 8]>::try_from(&v[..]).ok())
            .map(|b| chrono::DateTime::from_timestamp_nanos(i64::from_be_bytes(b))))
    }

    /// Whether an item is stored (in its source's feed).
    pub fn stored(&self, source: &str, id: &ItemId) -> Result<bool, StoreError> {
        Ok(self.items.contains_key(item_key(source, id))?)
    }

    pub fn item(&self, source: &str, id: &ItemId) -> Result<Option<Item>, StoreError> {
        match self.items.get(item_key(source, id))? {
            Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// A fresh, store-wide increasing number for a new item's `seq`, [`SEQ_GAP`] apart from
    /// the one before, so that a release the site lists below a stored one of the same time can
    /// take a `seq` between them (the pipeline's `build`).
    pub fn next_seq(&self) -> Result<u64, StoreError> {
        let id = self.db.generate_id()?;
        Ok(id.saturating_add(1).saturating_mul(SEQ_GAP))
    }

    /// Stores a poll's new and corrected items, and the Telegram deliveries they make due, in one
    /// transaction, and makes it durable before returning; then drops items beyond `max_items`
    /// from the feed (their ids stay in `seen`; pending deliveries carry their own copy).
    pub async fn commit(&self, c: &Commit<'_>) -> Result<(), StoreError> {
        let encoded = |items: &[Item]| -> Result<Vec<(Item, Vec<u8>)>, StoreError> {
            items
                .iter()
                .map(|i| Ok((i.clone(), codec::encode(i)?)))
                .collect()
        };
        // Each new or corrected item gets an instant of its own as `updated`, oldest first
        // (`c.new` is in the site's order, newest first) so that the site's order holds.
        let mut new = c.new.to_vec();
        for item in new.iter_mut().rev() {
            item.updated = self.stamps.claim(item.updated)?;
        }
        let mut corrected = c.corrected.to_vec();
        for item in corrected.iter_mut().rev() {
            item.updated = self.stamps.claim(item.updated)?;
        }
        let mut restored = c.restored.to_vec();
        for item in restored.iter_mut().rev() {
            item.updated = self.stamps.claim(item.updated)?;
        }
        let new = encoded(&new)?;
        let restored = encoded(&restored)?;
        let corrected = encoded(&corrected)?;
        let measure = |item: &Item| {
            c.content_digests
                .get(&item.id)
                .copied()
                .unwrap_or_else(|| content_digest(&item.title, item.summary.as_deref()))
        };
        let deliveries = self.prepare_deliveries(c.deliveries)?;
        let source = c.source;
        let mut pictures: std::collections::HashMap<Vec<u8>, u64> = Default::default();
        for (item, _) in &new {
            if let Some(name) = item.image.as_deref().and_then(crate::model::image_key) {
                *pictures.entry(image_count_key(source, &name)).or_default() += 1;
            }
        }
        (
            &self.items,
            &self.order,
            &self.seen,
            &self.outbox,
            &self.posts,
            &self.baselines,
            &self.translations,
            &self.images,
            &self.pruned,
        )
            .transaction(
                |(items, order, seen, outbox, posts, baselines, translations, images, pruned)| {
                    for (item, bytes) in &new {
                        let key = item_key(source, &item.id);
                        items.insert(key.clone(), bytes.as_slice())?;
                        order.insert(order_key(item), &[][..])?;
                        seen.insert(key, &seen_value(measure(item), &item.link)[..])?;
                    }
                    for (item, bytes) in &restored {
                        let key = item_key(source, &item.id);
                        items.insert(key.clone(), bytes.as_slice())?;
                        order.insert(order_key(item), &[][..])?;
                        seen.insert(key.clone(), &seen_value(measure(item), &item.link)[..])?;
                        pruned.remove(key)?;
                    }
                    for item in c.seen_only {
                        let value = seen_value(measure(item), &item.link);
                        seen.insert(item_key(source, &item.id), &value[..])?;
                    }
                    for (item, bytes) in &corrected {
                        let key = item_key(source, &item.id);
                        items.insert(key.clone(), bytes.as_slice())?;
                        seen.insert(key, &seen_value(measure(item), &item.link)[..])?;
                    }
                    outbox::enqueue_in(outbox, posts, &deliveries)?;
                    for channel in c.baselines {
                        baselines.insert(outbox::baseline_key(channel, source), &[][..])?;
                    }
                    for (a, b) in c.unlinks {
                        remove_translation(translations, a, b)?;
                        remove_translation(translations, b, a)?;
                    }
                    for (a, b) in c.links {
                        add_translation(translations, a, b)?;
                        add_translation(translations, b, a)?;
                    }
                    // After the links: a corrected address reaches the releases still linked
                    // to it (their copy of its link), never a link this poll replaced.
                    for (item, _) in &corrected {
                        follow_address(translations, source, item)?;
                    }
                    for (key, n) in &pictures {
                        let before = images.get(key)?.map_or(0, |v| read_count(&v));
                        images.insert(key.as_slice(), &(before + n).to_be_bytes()[..])?;
                    }
                    Ok::<(), ConflictableTransactionError<()>>(())
                },
            )
            .map_err(transaction_error)?;
        self.trim(source, c.max_items)?;
        self.sync().await?;
        Ok(())
    }

    /// Notes WebSub topics (feed paths) to ping; kept until [`Store::websub_pinged`].
    pub fn websub_pending_add(&self, paths: &[String]) -> Result<(), StoreError> {
        for path in paths {
            self.websub.insert(path.as_bytes(), &[][..])?;
        }
        Ok(())
    }

    /// A noted WebSub topic was pinged (or given up on).
    pub fn websub_pinged(&self, path: &str) -> Result<(), StoreError> {
        self.websub.remove(path.as_bytes())?;
        Ok(())
    }

    /// The WebSub topics noted and not pinged yet (a stop came first).
    pub fn websub_pending(&self) -> Result<Vec<String>, StoreError> {
        self.websub
            .iter()
            .keys()
            .map(|k| Ok(String::from_utf8_lossy(&k?).into_owned()))
            .collect()
    }

    /// What plain feed `feed` ("x.rss") last held: a digest of its content and when that content
    /// was first served (see `server::feeds`). `None` when never noted (or unreadable).
    pub fn feed_date(&self, feed: &str) -> Result<Option<FeedDate>, StoreError> {
        let Some(bytes) = self.feed_dates.get(feed.as_bytes())? else {
            return Ok(None);
        };
        let (Ok(digest), Ok(secs)) = (
            <[u8; 16]>::try_from(bytes.get(..16).unwrap_or_default()),
            <[u8; 8]>::try_from(bytes.get(16..).unwrap_or_default()),
        ) else {
            return Ok(None);
        };
        Ok(DateTime::from_timestamp(i64::from_be_bytes(secs), 0).map(|at| (digest, at)))
    }

    /// Notes what plain feed `feed` holds now (see [`Store::feed_date`]).
    pub fn set_feed_date(
        &self,
        feed: &str,
        digest: [u8; 16],
        modified: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut value = digest.to_vec();
        value.extend_from_slice(&modified.timestamp().to_be_bytes());
        self.feed_dates.insert(feed.as_bytes(), value)?;
        Ok(())
    }

    /// How many releases of `source` ever used the cover image file `name` (see
    /// `model::image_key`).
    pub fn image_uses(&self, source: &str, name: &str) -> Result<u64, StoreError> {
        Ok(self
            .images
            .get(image_count_key(source, name))?
            .map_or(0, |v| read_count(&v)))
    }

    /// A database from before the `images` tree gets it counted from the items it holds, once.
    fn count_images_once(&self) -> Result<(), StoreError> {
        if self.db.get("images-counted")?.is_some() {
            return Ok(());
        }
        let mut counts: std::collections::HashMap<Vec<u8>, u64> = Default::default();
        for entry in self.items.iter() {
            let (key, bytes) = entry?;
            let Ok(item) = codec::decode::<Item>(&bytes) else {
                continue;
            };
            let Some(end) = key.iter().position(|b| *b == 0) else {
                continue;
            };
            let source = String::from_utf8_lossy(&key[..end]);
            if let Some(name) = item.image.as_deref().and_then(crate::model::image_key) {
                *counts.entry(image_count_key(&source, &name)).or_default() += 1;
            }
        }
        for (key, n) in counts {
            self.images.insert(key, &n.to_be_bytes()[..])?;
        }
        self.db.insert("images-counted", &[][..])?;
        Ok(())
    }

    /// Notes as pruned (see [`Store::was_pruned`]) the kept ids of each source that a `herald
    /// prune` from before the `pruned` tree emptied: one with ids in `seen` but neither a state
    /// nor a stored item (a poll always leaves a state; only `prune` takes it away). Once per
    /// database.
    fn note_pruned_once(&self) -> Result<(), StoreError> {
        if self.db.get("pruned-noted")?.is_some() {
            return Ok(());
        }
        // `seen` is in key order: each source's ids in one run.
        let mut current: Option<(Vec<u8>, bool)> = None;
        for key in self.seen.iter().keys() {
            let key = key?;
            let Some(end) = key.iter().position(|b| *b == 0) else {
                continue;
            };
            let source = &key[..end];
            let emptied = match &current {
                Some((held, emptied)) if held.as_slice() == source => *emptied,
                _ => {
                    let emptied = !self.sources.contains_key(source)?
                        && self
                            .order
                            .scan_prefix(&key[..=end])
                            .next()
                            .transpose()?
                            .is_none();
                    current = Some((source.to_vec(), emptied));
                    emptied
                }
            };
            if emptied {
                self.pruned.insert(&key, &[][..])?;
            }
        }
        self.db.insert("pruned-noted", &[][..])?;
        Ok(())
    }

    /// The known translations of an item, one per language.
    pub fn translations(&self, source: &str, id: &ItemId) -> Result<Vec<Translation>, StoreError> {
        let mut links: Vec<Translation> = match self.translations.get(item_key(source, id))? {
            Some(bytes) => serde_json::from_slice(&bytes)?,
            None => Vec::new(),
        };
        let groups = self
            .translation_groups
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(groups) = groups.as_ref() {
            let grouped = |other: &str| {
                groups
                    .iter()
                    .any(|g| g.iter().any(|s| s == source) && g.iter().any(|s| s == other))
            };
            links.retain(|t| grouped(&t.source));
        }
        Ok(links)
    }

    /// The config's `[[translations]]` groups (each a list of source ids), set at start and at
    /// each reload: [`Store::translations`] then reads only links between sources of one group.
    /// A group removed from the config takes its links out of the feeds and of later posts and
    /// edits; its stored links are kept, and come back if the group does.
    pub fn set_translation_groups(&self, groups: Vec<Vec<String>>) {
        *self
            .translation_groups
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(groups);
    }

    /// Items of `source` published between `from` and `to` (inclusive), oldest first: the
    /// candidates when a translation of a release is looked for.
    pub fn published_between(
        &self,
        source: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Item>, StoreError> {
        let bound = |t: DateTime<Utc>| {
            let mut k = prefix(source);
            let millis = t.timestamp_millis() as u64 ^ (1 << 63);
            k.extend_from_slice(&millis.to_be_bytes());
            k
        };
        let (start, mut end) = (bound(from), bound(to));
        // Past every seq and id of the last instant.
        end.extend_from_slice(&[0xff; 25]);
        let mut out = Vec::new();
        for key in self.order.range(start..end).keys() {
            if let Some(item) = self.item_at(source, &key?)? {
                out.push(item);
            }
        }
        Ok(out)
    }

    /// The stored item a key of the `order` index points at.
    fn item_at(&self, source: &str, order_key: &[u8]) -> Result<Option<Item>, StoreError> {
        let mut ikey = prefix(source);
        ikey.extend_from_slice(&order_key[order_key.len() - 16..]);
        match self.items.get(ikey)? {
            Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Removes the oldest items of `source` from the feed beyond `keep`.
    fn trim(&self, source: &str, keep: usize) -> Result<(), StoreError> {
        // Walked from the oldest end, which sled walks faster than from the newest: counted,
        // then the oldest beyond `keep` (most polls find none; a full feed, one or two).
        let mut held = 0;
        for key in self.order.scan_prefix(prefix(source)).keys() {
            key?;
            held += 1;
        }
        if held <= keep {
            return Ok(());
        }
        let old: Vec<sled::IVec> = self
            .order
            .scan_prefix(prefix(source))
            .keys()
            .take(held - keep)
            .collect::<Result<_, _>>()?;
        for key in old {
            let id = &key[key.len() - 16..];
            let mut ikey = prefix(source);
            ikey.extend_from_slice(id);
            self.items.remove(ikey)?;
            self.order.remove(key)?;
        }
        Ok(())
    }

    /// The newest `limit` items of a source, newest first.
    pub fn recent(&self, source: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::with_capacity(limit.min(1024));
        for key in self.order.scan_prefix(prefix(source)).keys().rev() {
            if out.len() >= limit {
                break;
            }
            if let Some(item) = self.item_at(source, &key?)? {
                out.push(item);
            }
        }
        Ok(out)
    }

    /// The dates of the newest `limit` items of a source, newest first, read from the date
    /// index alone: no item is read (a poll's staleness check runs on every poll, 304s too).
    pub fn recent_published(
        &self,
        source: &str,
        limit: usize,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let p = prefix(source);
        let mut out = Vec::with_capacity(limit.min(1024));
        for key in self.order.scan_prefix(&p).keys().rev().take(limit) {
            let key = key?;
            let Some(millis) = key
                .get(p.len()..p.len() + 8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
            else {
                continue;
            };
            let millis = (u64::from_be_bytes(millis) ^ (1 << 63)) as i64;
            if let Some(at) = DateTime::from_timestamp_millis(millis) {
                out.push(at);
            }
        }
        Ok(out)
    }

    /// The newest `limit` items over several sources, newest first, each source's `(id, most)`
    /// giving at most its own newest `most` (its `max_items`, which a reload may lower before
    /// a poll trims the source): a merge of the sources' date indexes that reads about `limit +
    /// sources.len()` index keys and only the items it returns (with 1,000 sources of 100
    /// items, 0.8 s became a few milliseconds).
    pub fn recent_merged(
        &self,
        sources: &[(&str, usize)],
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        use std::collections::BinaryHeap;
        let mut lanes: Vec<_> = sources
            .iter()
            .map(|&(s, most)| {
                let keys = self.order.scan_prefix(prefix(s)).keys().rev().take(most);
                (prefix(s), keys)
            })
            .collect();
        // (published and seq as they sort in the key, lane, the whole key)
        let mut heap = BinaryHeap::with_capacity(lanes.len());
        let when = |key: &[u8], plen: usize| -> [u8; 16] {
            let mut w = [0u8; 16];
            if let Some(part) = key.get(plen..plen + 16) {
                w.copy_from_slice(part);
            }
            w
        };
        for (lane, (p, keys)) in lanes.iter_mut().enumerate() {
            if let Some(key) = keys.next() {
                let key = key?;
                heap.push((when(&key, p.len()), lane, key));
            }
        }
        let mut out = Vec::with_capacity(limit.min(1024));
        while out.len() < limit {
            let Some((_, lane, key)) = heap.pop() else {
                break;
            };
            if let Some(item) = self.item_at(sources[lane].0, &key)? {
                out.push(item);
            }
            let (p, keys) = &mut lanes[lane];
            if let Some(next) = keys.next() {
                let next = next?;
                heap.push((when(&next, p.len()), lane, next));
            }
        }
        Ok(out)
    }

    pub fn count(&self, source: &str) -> Result<usize, StoreError> {
        let mut n = 0;
        for key in self.order.scan_prefix(prefix(source)).keys() {
            key?;
            n += 1;
        }
        Ok(n)
    }

    pub fn source_state(&self, source: &str) -> Result<SourceState, StoreError> {
        match self.sources.get(source)? {
            Some(bytes) => Ok(serde_json::from_slice(&bytes)?),
            None => Ok(SourceState::default()),
        }
    }

    /// Changes a source's state in one atomic step: `change` gets the state as stored now (it
    /// may be called again if another writer got in between), so that two writers (a poll, an
    /// admin's `/pause`) never undo each other's fields.
    pub fn update_source_state(
        &self,
        source: &str,
        change: impl Fn(&mut SourceState),
    ) -> Result<SourceState, StoreError> {
        let (state, first) = update_json(&self.sources, source, change)?;
        if first {
            self.write_known_sources()?;
        }
        Ok(state)
    }

    pub fn put_source_state(&self, source: &str, state: &SourceState) -> Result<(), StoreError> {
        let first = self
            .sources
            .insert(source, serde_json::to_vec(state)?)?
            .is_none();
        if first {
            self.write_known_sources()?;
        }
        Ok(())
    }

    /// Keeps `data_dir/known-sources` (one id a line) beside the database, so that `herald
    /// check`, which must not open the database, can still warn about a renamed source. The file
    /// only serves those warnings: failing to write it is logged, never a failure of the poll,
    /// and the next write puts the whole list again.
    fn write_known_sources(&self) -> Result<(), StoreError> {
        let _one_writer = self
            .known_file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut text = self.known_sources()?.join("\n");
        text.push('\n');
        let tmp = self.dir.join("known-sources.tmp");
        if let Err(e) = std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, self.dir.join(KNOWN_SOURCES)))
        {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot write known-sources");
        }
        Ok(())
    }

    /// Source ids the database holds items or state for.
    pub fn known_sources(&self) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        for key in self.sources.iter().keys() {
            ids.push(String::from_utf8_lossy(&key?).into_owned());
        }
        Ok(ids)
    }

    /// Whether the database holds anything of `source`: its state, its items, or the ids it keeps
    /// for ever (so a pruned source is still known, and `herald prune` of a typo is not).
    pub fn holds(&self, source: &str) -> Result<bool, StoreError> {
        Ok(self.sources.contains_key(source)?
            || self
                .order
                .scan_prefix(prefix(source))
                .next()
                .transpose()?
                .is_some()
            || self
                .seen
                .scan_prefix(prefix(source))
                .next()
                .transpose()?
                .is_some())
    }

    /// Deletes a source's stored items and state; its `seen` ids stay, so the items are never
    /// announced again if the source returns, and each deleted one is noted as pruned: a poll
    /// of the returned source that reads it stores it again (see [`Store::was_pruned`]).
    /// Returns how many items were deleted.
    pub async fn prune(&self, source: &str) -> Result<usize, StoreError> {
        let keys: Vec<sled::IVec> = self
            .order
            .scan_prefix(prefix(source))
            .keys()
            .collect::<Result<_, _>>()?;
        for key in &keys {
            let mut ikey = prefix(source);
            ikey.extend_from_slice(&key[key.len() - 16..]);
            // Noted with the date the feed showed, which the release keeps when it is back.
            let published = self
                .items
                .get(&ikey)?
                .and_then(|bytes| codec::decode::<Item>(&bytes).ok())
                .and_then(|item| item.published.timestamp_nanos_opt())
                .map(i64::to_be_bytes);
            self.pruned
                .insert(&ikey[..], published.as_ref().map_or(&[][..], |p| &p[..]))?;
            self.items.remove(ikey)?;
            self.order.remove(key)?;
        }
        self.sources.remove(source)?;
        self.prune_deliveries(source)?;
        self.prune_translations(source)?;
        self.write_known_sources()?;
        self.sync().await?;
        Ok(keys.len())
    }

    /// Forgets the translation links of `source`'s items, on both sides.
    fn prune_translations(&self, source: &str) -> Result<(), StoreError> {
        for entry in self.translations.iter() {
            let (key, bytes) = entry?;
            if key.starts_with(&prefix(source)) {
                self.translations.remove(key)?;
                continue;
            }
            let mut list: Vec<Translation> = serde_json::from_slice(&bytes)?;
            let before = list.len();
            list.retain(|t| t.source != source);
            if list.len() != before {
                self.translations.insert(key, serde_json::to_vec(&list)?)?;
            }
        }
        Ok(())
    }

    pub async fn flush(&self) -> Result<(), StoreError> {
        self.sync().await
    }

    /// Makes every write so far durable, one flush at a time. In sled 0.34 several
    /// `flush_async` calls at once hang for ever (sled issue 1308: each waiting flush holds one of
    /// sled's I/O threads, and the write they wait for needs one too; seen here with nine delivery
    /// workers). A blocking `flush` on tokio's blocking threads also avoided the hang, but took
    /// 80 MB more at 1,000 sources (benches/polling: 171 MB against 93 MB).
    ///
    /// Callers that come while a flush runs share the next one (group commit): a flush begun
    /// after a caller's writes covers them. One flush per caller made 10,000 sources' first
    /// polls queue at the store, each holding its releases (1.5 GB of heap, heaptrack).
    async fn sync(&self) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        if !self.flushes {
            return Ok(());
        }
        let me = self.sync_calls.fetch_add(1, SeqCst) + 1;
        let _one_at_a_time = self.flushing.lock().await;
        if self.synced.load(SeqCst) >= me {
            return Ok(());
        }
        // Every caller numbered by now wrote before this flush begins.
        let covered = self.sync_calls.load(SeqCst);
        self.db.flush_async().await?;
        self.synced.fetch_max(covered, SeqCst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    static NO_CONTENT_DIGESTS: std::sync::LazyLock<std::collections::HashMap<ItemId, [u8; 8]>> =
        std::sync::LazyLock::new(Default::default);

    pub(super) fn commit<'a>(source: &'a str, new: &'a [Item], max_items: usize) -> Commit<'a> {
        Commit {
            source,
            new,
            corrected: &[],
            deliveries: &[],
            baselines: &[],
            content_digests: &NO_CONTENT_DIGESTS,
            max_items,
            links: &[],
            unlinks: &[],
            seen_only: &[],
            restored: &[],
        }
    }

    /// A post of each of `items` to `channel`.
    pub(super) fn posts(channel: &str, items: &[Item]) -> Vec<NewDelivery> {
        items
            .iter()
            .map(|i| NewDelivery {
                channel: channel.into(),
                kind: DeliveryKind::Post,
                item: i.clone(),
                items: Vec::new(),
            })
            .collect()
    }

    /// Opens the database in `dir` again once every holder of the dropped handle's lock has let
    /// go: sled's background threads may hold it a moment after the drop, and so does a child
    /// process another test of this binary starts, until its exec closes the inherited files.
    pub(super) fn reopen(dir: &Path) -> Store {
        for _ in 0..250 {
            match Store::open(dir, 8 << 20) {
                Err(StoreError::Locked(_)) => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => return other.unwrap(),
            }
        }
        panic!("the database stayed locked after its handle was dropped");
    }

    pub(super) fn item(source: &str, n: u32, seq: u64) -> Item {
        let t = Utc.with_ymd_and_hms(2026, 3, 1 + n, 12, 0, 0).unwrap();
        let link = format!("https://example.org/{n}");
        Item {
            id: ItemId::new(source, &link),
            source: source.into(),
            title: format!("Title {n}"),
            link,
            summary: None,
            content_html: None,
            image: None,
            language: "en".into(),
            published: t,
            updated: t,
            first_seen: t,
            seq,
        }
    }

    #[tokio::test]
    async fn stores_orders_trims_and_remembers() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8 << 20).unwrap();
        let items: Vec<Item> = (1..=5).map(|n| item("a", n, n as u64)).collect();
        store.commit(&commit("a", &items, 3)).await.unwrap();
        let recent = store.recent("a", 10).unwrap();
        let titles: Vec<&str> = recent.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["Title 5", "Title 4", "Title 3"]);
        // Trimmed items are remembered, not stored.
        assert!(matches!(
            store.seen("a", &items[0].id).unwrap(),
            Seen::Before { stored: false, .. }
        ));
        assert!(matches!(
            store.seen("a", &items[4].id).unwrap(),
            Seen::Before { stored: true, .. }
        ));
        assert_eq!(store.seen("b", &items[4].id).unwrap(), Seen::Never);
    }

    /// A full disk (or a kill) while sled wrote a snapshot leaves an empty
    /// `snap.<lsn>.generating` file; the database opens after it as it was, never "damaged".
    #[tokio::test]
    async fn an_unfinished_snapshot_left_by_a_full_disk_does_not_stop_the_database_opening() {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<Item> = (1..=3).map(|n| item("a", n, n as u64)).collect();
        {
            let store = Store::open(dir.path(), 8 << 20).unwrap();
            store.commit(&commit("a", &items, 10)).await.unwrap();
        }
        // A clean reopen makes sled write a finished snapshot.
        drop(reopen(dir.path()));
        let db = dir.path().join("db");
        let unfinished = db.join("snap.00000000FFFFFFFF.generating");
        std::fs::write(&unfinished, b"").unwrap();
        let store = reopen(dir.path());
        assert_eq!(store.recent("a", 10).unwrap().len(), 3);
        assert!(!unfinished.exists());
        // While a herald holds the database, a second one touches none of its files: such a
        // file may be the running one's snapshot in the making.
        std::fs::write(&unfinished, b"").unwrap();
        assert!(matches!(
            Store::open(dir.path(), 8 << 20),
            Err(StoreError::Locked(_))
        ));
        assert!(unfinished.exists());
    }

    #[tokio::test]
    async fn recent_dates_come_from_the_index_as_the_items_have_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8 << 20).unwrap();
        let mut items: Vec<Item> = (1..=6).map(|n| item("a", n, n as u64)).collect();
        // Dates before 1970 and past 2038 sort and read back too.
        items[0].published = Utc.with_ymd_and_hms(1969, 7, 20, 20, 17, 40).unwrap();
        items[5].published = Utc.with_ymd_and_hms(2040, 1, 1, 0, 0, 0).unwrap();
        store.commit(&commit("a", &items, 100)).await.unwrap();
        store
            .commit(&commit("ab", &[item("ab", 9, 9)], 100))
            .await
            .unwrap();
        let from_items: Vec<DateTime<Utc>> = store
            .recent("a", 4)
            .unwrap()
            .iter()
            .map(|i| i.published)
            .collect();
        assert_eq!(store.recent_published("a", 4).unwrap(), from_items);
        assert_eq!(store.recent_published("a", 100).unwrap().len(), 6);
        assert_eq!(
            store.recent_published("a", 100).unwrap().last(),
            Some(&items[0].published)
        );
    }

    /// Many sources polled for the first time at once (1,000 on one schedule) each add
    /// themselves to `known-sources`: none fails, and the file lists them all.
    #[test]
    fn first_states_of_many_sources_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8 << 20).unwrap();
        std::thread::scope(|scope| {
            for t in 0..8 {
                let store = &store;
                scope.spawn(move || {
                    for i in 0..25 {
                        let id = format!("s{t}-{i}");
                        store
                            .put_source_state(&id, &SourceState::default())
                            .unwrap();
                    }
                });
            }
        });
        let listed = known_sources_on_disk(dir.path());
        assert_eq!(listed.len(), 200, "{listed:?}");
    }

    /// The merge of date indexes gives what sorting every item of every source would.
    #[tokio::test]
    async fn merged_feed_equals_a_full_sort() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8 << 20).unwrap();
        let mut all = Vec::new();
        let mut seq = 0;
        for (s, source) in ["a", "b", "c", "empty-not"].iter().enumerate().take(3) {
            // Interleaved days, some shared between sources (seq breaks the tie).
            let items: Vec<Item> = (0..9)
                .map(|k| {
                    seq += 1;
                    item(source, (k * 3 + s as u32 * 2) % 27, seq)
                })
                .collect();
            store.commit(&commit(source, &items, 100)).await.unwrap();
            all.extend(items);
        }
        all.sort_by_key(|i| std::cmp::Reverse((i.published, i.seq)));
        for limit in [0, 1, 5, 27, 100] {
            let merged = store
                .recent_merged(&[("a", 9), ("b", 9), ("c", 9), ("none", 9)], limit)
                .unwrap();
            let want: Vec<_> = all
                .iter()
                .take(limit)
                .map(|i| (i.source.clone(), i.seq))
                .collect();
            let got: Vec<_> = merged.iter().map(|i| (i.source.clone(), i.seq)).collect();
            assert_eq!(got, want, "limit {limit}");
        }
    }

    #[tokio::test]
    async fn same_published_time_keeps_seq_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8 << 20).unwrap();
        let mut a = item("s", 1, 10);
        let mut b = item("s", 2, 11);
        b.published = a.published;
        a.title = "older in list".into();
        b.title = "newer in list".into();
        store.commit(&commit("s", &[a, b], 10)).await.unwrap();
        let recent = store.recent("s", 10).unwrap();
        assert_eq!(recent[0].title, "newer in list");
    }

    #[tokio::test]
    async fn second_open_is_refused_with_the_dir_named() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path(), 8 << 20).unwrap();
        // sled's lock is per process file descriptor; a second open in the same process also
        // fails to take it.
        match Store::open(dir.path(), 8 << 20) {
            Err(e @ StoreError::Locked(_)) => {
                assert!(e.to_string().contains(&dir.path().display().to_string()))
            }
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("second open succeeded"),
        }
    }

    /// Post records of items that left the feed are swept once old; those of stored items, and
    /// queued posts, stay; the swept items are still never posted again.
    #[tokio::test]
    async fn sweep_forgets_posts_of_items_gone_from_the_feed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8 << 20).unwrap();
        let items: Vec<Item> = (1..=4).map(|n| item("s", n, n as u64)).collect();
        let deliveries = posts("c", &items);
        let mut c = commit("s", &items, 2);
        c.deliveries = &deliveries;
        store.commit(&c).await.unwrap();
        let long_ago = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        // Items 1 and 2 left the feed (max_items 2); 1, 2 and 3 were sent long ago; 4 is queued.
        for _ in 0..3 {
            let queued = store.next_delivery("c").unwrap().unwrap();
            let record = PostRecord::Sent {
                chat: "@c".into(),
                message_id: queued.delivery.item.seq as i32,
                photo: false,
                at: long_ago,
                chat_id: None,
            };
            store.complete_post("c", &queued, record).await.unwrap();
        }
        let record = |n: usize| store.post_record("c", "s", &items[n].id).unwrap();
        assert_eq!(store.sweep_posts(long_ago).unwrap(), 0, "none is older yet");
        assert_eq!(store.sweep_posts(Utc::now()).unwrap(), 2);
        assert_eq!(record(0), None);
        assert_eq!(record(1), None);
        assert!(matches!(record(2), Some(PostRecord::Sent { .. })));
        assert_eq!(record(3), Some(PostRecord::Queued));
        assert!(matches!(
            store.seen("s", &items[0].id).unwrap(),
            Seen::Before { stored: false, .. }
        ));
    }

    /// Many delivery workers recording sends at once all finish (sled 0.34's `flush_async`
    /// hung for ever here: see `Store::sync`). The workers run on a runtime of their own in a
    /// thread of their own, watched from outside: a hang blocks that runtime's threads, so no
    /// timer inside it could fire.
    #[test]
    fn concurrent_deliveries_never_hang() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let _ = done.send(runtime.block_on(deliver_concurrently()));
        });
        let sent = finished
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("delivery workers hung");
        assert_eq!(sent, 12 * 20);
    }

    /// 12 channels × 20 posts, each channel's worker marking and completing its posts at once.
    async fn deliver_concurrently() -> i32 {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8 << 20).unwrap();
        let items: Vec<Item> = (1..=20).map(|n| item("s", n, n as u64)).collect();
        let channels: Vec<String> = (0..12).map(|c| format!("c{c}")).collect();
        let deliveries: Vec<NewDelivery> = channels.iter().flat_map(|c| posts(c, &items)).collect();
        let mut c = commit("s", &items, 100);
        c.deliveries = &deliveries;
        store.commit(&c).await.unwrap();
        let mut workers = tokio::task::JoinSet::new();
        for channel in channels {
            let store = store.clone();
            workers.spawn(async move {
                let mut sent = 0;
                while let Some(mut queued) = store.next_delivery(&channel).unwrap() {
                    store.mark_in_flight(&mut queued).await.unwrap();
                    sent += 1;
                    let record = PostRecord::Sent {
                        chat: channel.clone(),
                        message_id: sent,
                        photo: false,
                        at: Utc::now(),
                        chat_id: None,
                    };
                    store
                        .complete_post(&channel, &queued, record)
                        .await
                        .unwrap();
                }
                sent
            });
        }
        let mut total = 0;
        while let Some(sent) = workers.join_next().await {
            total += sent.unwrap();
        }
        total
    }

    #[test]
    fn an_address_is_the_links_path() {
        let a = address_digest("https://www.akorda.kz/ru/akim-almaty-520001");
        assert_eq!(
            a,
            address_digest("https://www.akorda.kz/ru/akim-almaty-520001?sid=1#top")
        );
        assert_ne!(
            a,
            address_digest("https://www.akorda.kz/ru/akim-goroda-almaty-520001")
        );
        assert_eq!(a, address_digest("https://akorda.kz/ru/akim-almaty-520001"));
        assert_eq!(
            a,
            address_digest("http://www.akorda.kz/ru/akim-almaty-520001")
        );
    }

    #[test]
    fn a_whole_address_is_the_links_path_and_query_as_keys_read_them() {
        let a = whole_address("https://www.example.kz/news.php?id=101");
        assert_eq!(a, "/news.php?id=101");
        assert_ne!(a, whole_address("https://www.example.kz/news.php?id=102"));
        assert_eq!(a, whole_address("http://example.kz/news.php?id=101#top"));
        assert_eq!(
            whole_address("https://example.kz/a?q=x%20y"),
            whole_address("https://example.kz/a?q=x+y")
        );
    }

    #[tokio::test]
    async fn translation_links_are_symmetric_one_per_language_and_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8 << 20).unwrap();
        let (en, ru, ru2) = (item("en", 1, 1), item("ru", 1, 2), item("ru", 2, 3));
        let t = |i: &Item, lang: &str| Translation {
            source: i.source.clone(),
            id: i.id,
            language: lang.into(),
            link: i.link.clone(),
        };
        let links = [(t(&en, "en"), t(&ru, "ru"))];
        let mut c = commit("en", std::slice::from_ref(&en), 10);
        c.links = &links;
        store.commit(&c).await.unwrap();
        assert_eq!(store.translations("en", &en.id).unwrap(), [t(&ru, "ru")]);
        assert_eq!(store.translations("ru", &ru.id).unwrap(), [t(&en, "en")]);
        // A newer link in the same language replaces the old one on that side.
        let links = [(t(&en, "en"), t(&ru2, "ru"))];
        let mut c = commit("en", &[], 10);
        c.links = &links;
        store.commit(&c).await.unwrap();
        assert_eq!(store.translations("en", &en.id).unwrap(), [t(&ru2, "ru")]);
        store.prune("ru").await.unwrap();
        assert!(store.translations("en", &en.id).unwrap().is_empty());
        assert!(store.translations("ru", &ru2.id).unwrap().is_empty());
    }

    /// A feed's noted date is there after the database is opened again (a restart must not
    /// move `Last-Modified` back).
    #[test]
    fn feed_dates_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let at = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        {
            let store = Store::open(dir.path(), 8 << 20).unwrap();
            assert_eq!(store.feed_date("a.rss").unwrap(), None);
            store.set_feed_date("a.rss", [7; 16], at).unwrap();
            store.db.flush().unwrap();
        }
        let store = reopen(dir.path());
        assert_eq!(store.feed_date("a.rss").unwrap(), Some(([7; 16], at)));
        assert_eq!(store.feed_date("a.atom").unwrap(), None);
    }

    #[tokio::test]
    async fn prune_keeps_seen_ids() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 8 << 20).unwrap();
        let i = item("gone", 1, 1);
        store
            .commit(&commit("gone", std::slice::from_ref(&i), 10))
            .await
            .unwrap();
        store
            .put_source_state("gone", &SourceState::default())
            .unwrap();
        assert_eq!(store.prune("gone").await.unwrap(), 1);
        assert!(store.recent("gone", 10).unwrap().is_empty());
        assert!(matches!(
            store.seen("gone", &i.id).unwrap(),
            Seen::Before { .. }
        ));
        // Noted as pruned until a poll stores it again.
        assert!(store.was_pruned("gone", &i.id).unwrap());
        let mut back = commit("gone", &[], 10);
        back.restored = std::slice::from_ref(&i);
        store.commit(&back).await.unwrap();
        assert!(!store.was_pruned("gone", &i.id).unwrap());
        assert_eq!(store.recent("gone", 10).unwrap().len(), 1);
    }

    /// A database pruned before prunes were noted: on its next open, the kept ids of a source
    /// with neither a state nor a stored item are noted as pruned; a source still polled has
    /// none noted (its ids past `max_items` left the feed for good).
    #[tokio::test]
    async fn ids_pruned_before_prunes_were_noted_are_noted_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let (gone, kept, trimmed) = (item("gone", 1, 1), item("kept", 1, 2), item("kept", 2, 3));
        {
            let store = Store::open(dir.path(), 8 << 20).unwrap();
            for (source, i) in [("gone", &gone), ("kept", &kept), ("kept", &trimmed)] {
                store
                    .commit(&commit(source, std::slice::from_ref(i), 1))
                    .await
                    .unwrap();
                store
                    .put_source_state(source, &SourceState::default())
                    .unwrap();
            }
            store.prune("gone").await.unwrap();
            // As a herald from before the `pruned` tree left it.
            store.pruned.clear().unwrap();
            store.db.remove("pruned-noted").unwrap();
            store.flush().await.unwrap();
        }
        let store = reopen(dir.path());
        assert!(store.was_pruned("gone", &gone.id).unwrap());
        assert!(!store.was_pruned("kept", &kept.id).unwrap());
        assert!(!store.was_pruned("kept", &trimmed.id).unwrap());
        assert!(!store.stored("kept", &kept.id).unwrap(), "trimmed");
    }
}
