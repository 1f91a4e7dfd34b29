//! The delivery simulation (issue 18): the real delivery code (store, outbox, limits, the chat
//! workers, the planning of a poll's deliveries, config edits, admin commands and alerts,
//! restarts) against a simulated Telegram behind the Bot API trait, on one thread with a paused
//! clock, driven by a seeded random generator. Each seed interleaves polls (new releases,
//! corrections, unchanged pages), digests, config edits (entries and sources removed and
//! re-added, entries joining a source later, two entries on one chat), bursts of admin commands
//! (`/pause`, `/resume`, `/requeue`, `/status`) answered within the admin chat's limits,
//! graceful restarts and kills at any await point, with 429s of any length, 5xx, lost and late
//! answers (in the channels' and the admins' chats alike), a group's migration, a kick, refused
//! photos, posts refused for good and messages deleted by an admin, and quiet hours
//! (`quiet = "hold"` and `"silent"`) that begin and end while it runs: the delivery code reads
//! "now" on `herald::quiet::clock`, which here starts at a fixed instant and follows the paused
//! tokio clock, so that the simulated time is the only time.
//! When the faults stop and the queues drain, it checks that every release due to a channel
//! (its `backfill` newest at its first poll of a source, whether the page changed or not; every
//! new one after that) is in its chat exactly once (a duplicate only with a kill between its two
//! copies, one per kill, or across a group's migration) or set aside with an alert to every
//! admin, and nothing else is; that every admin command got its answer; that no edit, and no
//! search for a lost post, changed a message other than that post; that no call reached a chat
//! (the admins' too) before its `retry_after` nor beyond its limits; that a paused channel sent
//! nothing; that no post of an entry holding its posts for quiet hours was sent inside its
//! window (edits are), that a post was sent without a notification exactly when its entry was
//! in `silent` quiet hours; and that every stop completed within 10 s.
//!
//! `cargo test` runs seeds for 60 s (at least 500). A failing seed is printed with the line that
//! replays it: `HERALD_SIM_SEED=N cargo test --test delivery_simulation`. The long run is in the
//! bench suite: `HERALD_SIM_SEEDS=100000 cargo test --release --test delivery_simulation`.

use chrono::{DateTime, Timelike, Utc};
use herald::app::commands::{self, Answer};
use herald::config::Config;
use herald::config::LiveConfig;
use herald::model::{Item, ItemId, ItemState};
use herald::pipeline::{Observed, must_read_page, plan_deliveries};
use herald::quiet::{QuietHours, QuietMode, clock};
use herald::store::{Commit, NewDelivery, PostRecord, Store};
use herald::telegram::admin::{Alerts, SEND_TRIES};
use herald::telegram::api::{Accepted, TelegramApi};
use herald::telegram::deliver::Deliverer;
use herald::telegram::format::{Method, Post};
use herald::telegram::limits::GlobalLimit;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant as WallInstant};
use teloxide::types::{ChatId, ParseMode, Recipient, Seconds};
use teloxide::{ApiError, RequestError};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// splitmix64: small, fast and the same everywhere, so that a seed replays.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True `per_mille` times in a thousand.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

// ---------------------------------------------------------------------------------------------
// The simulated Telegram.

/// A chat's messages and what Telegram knows of its limits.
struct Chat {
    id: i64,
    username: Option<String>,
    messages: Vec<Message>,
    /// When each call to the chat arrived (sends and edits alike).
    calls: VecDeque<Instant>,
    held_until: Option<Instant>,
    /// A group that became a supergroup: calls get `migrate_to_chat_id`.
    migrated_to: Option<i64>,
    kicked: bool,
}

struct Message {
    id: i32,
    /// A post's "Read" link, or the links a digest lists.
    links: Vec<String>,
    /// All button URLs, in order (a digest's one button too).
    keyboard: Option<Vec<String>>,
    /// A digest message.
    digest: bool,
    photo: bool,
    deleted: bool,
    /// When Telegram accepted it.
    at: Instant,
}

struct Telegram {
    rng: Rng,
    chats: Vec<Chat>,
    faults: bool,
    /// Links whose post Telegram refuses whatever the form (a 400 no fallback handles).
    poison: HashSet<String>,
    /// Share-button domains of the entries paused now: their posts must not arrive.
    paused: HashSet<String>,
    global: VecDeque<Instant>,
    /// Each configured entry's quiet hours, as its running worker has them.
    quiet: HashMap<String, QuietHours>,
    violations: Vec<String>,
    calls: u64,
    /// The messages that reached an admin's chat: (chat, text, when).
    to_admins: Vec<(i64, String, Instant)>,
    /// Each try of a message to an admin, by (chat, text), in order.
    admin_tries: HashMap<(i64, String), Vec<Try>>,
    /// When a message to an admin was last tried.
    last_admin_try: Option<Instant>,
    /// The answers to admin commands, as applied: (chat, text), each due in that chat.
    answers: Vec<(i64, String)>,
    /// `/requeue` per entry: how many, and when the last began.
    requeues: [(usize, Option<Instant>); 4],
}

/// How one try of a message to an admin went.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Try {
    /// Telegram took it (its answer may still have been lost on the way back).
    Arrived,
    /// Telegram refused it for now: a 429 or a 5xx.
    Refused,
    /// It never reached Telegram, and herald got no answer.
    Lost,
}

/// Posts and digest messages sent without a notification, and edits made inside a `hold`
/// window, over a run: the quiet-hours checks had something to check.
static SILENCED: AtomicU64 = AtomicU64::new(0);
static EDITS_IN_HOLD: AtomicU64 = AtomicU64::new(0);
/// Digest messages edited for a correction, over a run.
static DIGEST_EDITS: AtomicU64 = AtomicU64::new(0);
/// Earlier copies of digest messages sent again made to list other releases (the copy sent
/// again was split anew), over a run.
static DIGESTS_RETEXTED: AtomicU64 = AtomicU64::new(0);
/// Posts set aside whose alert reached an admin, and alerts herald gave up on (see
/// `check_alerts`), over a run.
static ALERTS_TOLD: AtomicU64 = AtomicU64::new(0);
static ALERTS_GIVEN_UP: AtomicU64 = AtomicU64::new(0);
/// Answers to admin commands that arrived, over a run.
static ANSWERS: AtomicU64 = AtomicU64::new(0);

fn urls(post: &Post) -> Vec<String> {
    post.keyboard()
        .into_iter()
        .flat_map(|row| row.iter().map(|b| b.url.clone()))
        .collect()
}

fn read_link(post: &Post) -> String {
    urls(post).into_iter().next().unwrap_or_default()
}

/// A digest's button URLs, in order.
fn row_urls(rows: &[Vec<(String, String)>]) -> Vec<String> {
    rows.iter().flatten().map(|(_, url)| url.clone()).collect()
}

/// Which post a keyboard belongs to: its "Read" link and its share button's host (the entry).
/// The share URLs carry the title, which a correction changes.
fn signature(keyboard: &[String]) -> (String, String) {
    let host = |u: &String| u.split('/').nth(2).unwrap_or_default().to_owned();
    (
        keyboard.first().cloned().unwrap_or_default(),
        keyboard.get(1).map(host).unwrap_or_default(),
    )
}

/// The links a digest's HTML lists.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|s| s.replace("&amp;", "&"))
        .collect()
}

fn bad(text: &str) -> RequestError {
    RequestError::Api(ApiError::Unknown(format!("Bad Request: {text}")))
}

fn lost() -> RequestError {
    RequestError::Io(Arc::new(std::io::Error::other(
        "connection closed before an answer",
    )))
}

impl Telegram {
    fn chat_index(&self, chat: &Recipient) -> Option<usize> {
        self.chats.iter().position(|c| match chat {
            Recipient::Id(id) => c.id == id.0,
            Recipient::ChannelUsername(name) => c
                .username
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(name.trim_start_matches('@'))),
        })
    }

    /// A call reaches chat `i` now: Telegram's limits and holds, checked; faults, drawn.
    fn arrive(&mut self, i: usize, what: &str) -> Result<(), RequestError> {
        let now = Instant::now();
        self.calls += 1;
        let chat = &mut self.chats[i];
        if let Some(until) = chat.held_until
            && now < until
        {
            self.violations.push(format!(
                "{what} to chat {} {:?} before its retry_after ended",
                chat.id,
                until - now
            ));
        }
        while chat
            .calls
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            chat.calls.pop_front();
        }
        let last_second = chat
            .calls
            .iter()
            .filter(|t| now.duration_since(**t) < Duration::from_secs(1))
            .count();
        if last_second >= 1 {
            self.violations.push(format!(
                "{what}: a 2nd call to chat {} within a second",
                chat.id
            ));
        }
        if chat.calls.len() >= 20 {
            self.violations.push(format!(
                "{what}: a 21st call to chat {} within a minute",
                chat.id
            ));
        }
        chat.calls.push_back(now);
        while self
            .global
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.global.pop_front();
        }
        if self.global.len() >= 30 {
            self.violations
                .push(format!("{what}: a 31st call within a second"));
        }
        self.global.push_back(now);
        if let Some(to) = chat.migrated_to {
            return Err(RequestError::MigrateToChatId(ChatId(to)));
        }
        if !self.faults {
            return Ok(());
        }
        let roll = self.rng.below(1000);
        match roll {
            0..20 => Err(RequestError::Api(ApiError::Unknown(
                "Internal Server Error".into(),
            ))),
            // The hold starts when herald reads the answer (see `SimApi::later`): an answer
            // a kill kept from herald tells it nothing.
            20..35 => Err(RequestError::RetryAfter(Seconds::from_seconds(
                1 + self.rng.below(40) as u32,
            ))),
            35..45 => Err(lost()),
            _ => Ok(()),
        }
    }

    /// A post or a digest message of entry `e` is sent now, `silent` or not: never inside a
    /// `hold` window, without a notification exactly inside a `silent` one.
    fn quiet_send(&mut self, e: Option<usize>, silent: bool, what: &str) {
        let Some(e) = e else {
            return;
        };
        let id = ENTRIES[e].0;
        let now = clock::now();
        let quiet = self.quiet.get(id);
        if quiet.is_some_and(|q| q.holds(now)) {
            self.violations.push(format!(
                "{what} of {id} sent at {} inside its quiet hours (hold) {quiet:?}",
                now.format("%H:%M:%S")
            ));
        }
        let silences = quiet.is_some_and(|q| q.silences(now));
        if silent != silences {
            self.violations.push(format!(
                "{what} of {id} sent at {} with disable_notification = {silent} ({quiet:?})",
                now.format("%H:%M:%S")
            ));
        }
        if silent {
            SILENCED.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// An edit of entry `e` now: counted when inside a `hold` window (edits are not held).
    fn quiet_edit(&mut self, e: Option<usize>) {
        if let Some(e) = e
            && self
                .quiet
                .get(ENTRIES[e].0)
                .is_some_and(|q| q.holds(clock::now()))
        {
            EDITS_IN_HOLD.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn kicked(&self, i: usize) -> Result<(), RequestError> {
        if self.chats[i].kicked {
            Err(RequestError::Api(ApiError::BotKickedFromChannel))
        } else {
            Ok(())
        }
    }

    fn accept(&mut self, i: usize, message: Message) -> Accepted {
        let chat = &mut self.chats[i];
        let id = chat.messages.last().map_or(1, |m| m.id + 1);
        chat.messages.push(Message { id, ..message });
        Accepted {
            message_id: id,
            chat_id: chat.id,
        }
    }

    /// A call's answer: `Ok` accepted, maybe lost on the way back.
    /// The answer to a message accepted in chat `i`: in a supergroup a group has just become,
    /// the first answers are lost far more often (a search there has no id to start from: the
    /// post goes out again, reported).
    fn answer_in<T>(
        &mut self,
        i: usize,
        accepted: Result<T, RequestError>,
    ) -> Result<T, RequestError> {
        let chat = &self.chats[i];
        let new_supergroup = chat.id == -1002000000002 && chat.messages.len() <= 3;
        if new_supergroup && accepted.is_ok() && self.faults && self.rng.chance(250) {
            return Err(lost());
        }
        self.answer(accepted)
    }

    fn answer<T>(&mut self, accepted: Result<T, RequestError>) -> Result<T, RequestError> {
        match accepted {
            Ok(_) if self.faults && self.rng.chance(30) => Err(lost()),
            other => other,
        }
    }

    fn send_post(
        &mut self,
        chat: &Recipient,
        post: &Post,
        silent: bool,
    ) -> Result<Accepted, RequestError> {
        let i = self.chat_index(chat).ok_or_else(|| bad("chat not found"))?;
        self.quiet_send(entry_of(&urls(post)), silent, "a post");
        self.arrive(i, "send")?;
        self.kicked(i)?;
        let keyboard = urls(post);
        let link = read_link(post);
        if self.poison.contains(&link) {
            return Err(bad("BUTTON_URL_INVALID"));
        }
        let photo = post.method == Method::SendPhoto && post.photo.is_some();
        if photo && self.faults && self.rng.chance(100) {
            return Err(bad("PHOTO_INVALID_DIMENSIONS"));
        }
        if let Some(sharer) = keyboard.get(1)
            && self.paused.iter().any(|p| sharer.contains(p.as_str()))
        {
            self.violations.push(format!(
                "a post of a paused channel was sent: {link} ({sharer})"
            ));
        }
        let accepted = self.accept(
            i,
            Message {
                id: 0,
                links: vec![link],
                keyboard: Some(keyboard),
                digest: false,
                photo,
                deleted: false,
                at: Instant::now(),
            },
        );
        self.answer_in(i, Ok(accepted))
    }

    fn send_digest(
        &mut self,
        chat: &Recipient,
        text: &str,
        rows: &[Vec<(String, String)>],
        silent: bool,
    ) -> Result<Accepted, RequestError> {
        let i = self.chat_index(chat).ok_or_else(|| bad("chat not found"))?;
        let entry = digest_entry(self.chats[i].id);
        self.quiet_send(entry, silent, "a digest message");
        self.arrive(i, "digest")?;
        self.kicked(i)?;
        let accepted = self.accept(
            i,
            Message {
                id: 0,
                links: hrefs(text),
                keyboard: Some(row_urls(rows)),
                digest: true,
                photo: false,
                deleted: false,
                at: Instant::now(),
            },
        );
        self.answer_in(i, Ok(accepted))
    }

    fn message(&mut self, chat: &Recipient, id: i32) -> Result<(usize, usize), RequestError> {
        let i = self.chat_index(chat).ok_or_else(|| bad("chat not found"))?;
        self.arrive(i, "edit")?;
        self.kicked(i)?;
        let m = self.chats[i]
            .messages
            .iter()
            .position(|m| m.id == id && !m.deleted)
            .ok_or(RequestError::Api(ApiError::MessageToEditNotFound))?;
        Ok((i, m))
    }

    fn edit_post(&mut self, chat: &Recipient, id: i32, post: &Post) -> Result<(), RequestError> {
        let keyboard = urls(post);
        self.quiet_edit(entry_of(&keyboard));
        let (i, m) = self.message(chat, id)?;
        let link = read_link(post);
        let chat_id = self.chats[i].id;
        let message = &mut self.chats[i].messages[m];
        match (post.method == Method::SendPhoto, message.photo) {
            (true, false) => return Err(bad("there is no caption in the message to edit")),
            (false, true) => return Err(bad("there is no text in the message to edit")),
            _ => {}
        }
        let landed = message.keyboard.as_deref().map(signature);
        if message.links != [link.clone()] || landed != Some(signature(&keyboard)) {
            self.violations.push(format!(
                "an edit of {link} ({keyboard:?}) landed on message {id} of chat {chat_id}: {:?} {:?}",
                message.links, message.keyboard
            ));
        }
        message.keyboard = Some(keyboard);
        self.answer(Ok(()))
    }

    /// A correction's edit of a digest message: it must land on that digest message, listing
    /// the same releases. Or the earlier copy of a digest message sent again after a lost
    /// answer, made to read as the copy sent again: the same button (a digest message's own,
    /// naming its first release), and it may list other releases after the first (the copy
    /// sent again was split anew), which it lists from then on.
    fn edit_digest(
        &mut self,
        chat: &Recipient,
        id: i32,
        text: &str,
        rows: &[Vec<(String, String)>],
    ) -> Result<(), RequestError> {
        let (i, m) = self.message(chat, id)?;
        let chat_id = self.chats[i].id;
        self.quiet_edit(digest_entry(chat_id));
        let links = hrefs(text);
        let message = &mut self.chats[i].messages[m];
        if !message.digest
            || message.links.first() != links.first()
            || message.keyboard.as_ref() != Some(&row_urls(rows))
        {
            self.violations.push(format!(
                "a digest edit listing {links:?} landed on message {id} of chat {chat_id}: {:?} {:?}",
                message.links, message.keyboard
            ));
        }
        if message.links == links {
            DIGEST_EDITS.fetch_add(1, Ordering::Relaxed);
        } else {
            DIGESTS_RETEXTED.fetch_add(1, Ordering::Relaxed);
            message.links = links;
        }
        self.answer(Ok(()))
    }

    /// A message to an admin (an alert, an answer to a command): the admin chats have the
    /// channels' limits and faults.
    fn send_text_message(&mut self, chat: ChatId, text: &str) -> Result<(), RequestError> {
        let i = self
            .chat_index(&Recipient::Id(chat))
            .ok_or_else(|| bad("chat not found"))?;
        let arrived = self.arrive(i, "a message to an admin");
        let how = match &arrived {
            Ok(()) => Try::Arrived,
            Err(RequestError::Io(_)) => Try::Lost,
            Err(_) => Try::Refused,
        };
        let now = Instant::now();
        self.last_admin_try = Some(now);
        self.admin_tries
            .entry((chat.0, text.to_owned()))
            .or_default()
            .push(how);
        arrived?;
        self.to_admins.push((chat.0, text.to_owned(), now));
        self.answer(Ok(()))
    }

    /// deleteMessage: herald deletes only a second copy of a post it found below the copy it
    /// recorded.
    fn delete_message(&mut self, chat: &Recipient, id: i32) -> Result<(), RequestError> {
        let i = self.chat_index(chat).ok_or_else(|| bad("chat not found"))?;
        self.arrive(i, "delete")?;
        self.kicked(i)?;
        let m = self.chats[i]
            .messages
            .iter()
            .position(|m| m.id == id && !m.deleted)
            .ok_or(RequestError::Api(ApiError::MessageToDeleteNotFound))?;
        self.chats[i].messages[m].deleted = true;
        self.answer(Ok(()))
    }

    fn set_keyboard(
        &mut self,
        chat: &Recipient,
        id: i32,
        rows: &[Vec<(String, String)>],
    ) -> Result<(), RequestError> {
        let (i, m) = self.message(chat, id)?;
        // The searches for a lost post get more faults than other calls: a 5xx says nothing
        // of the message, never "not there".
        if self.faults && self.rng.chance(60) {
            return Err(RequestError::Api(ApiError::Unknown("Bad Gateway".into())));
        }
        let wanted: Option<Vec<String>> =
            (!rows.is_empty()).then(|| rows.iter().flatten().map(|(_, url)| url.clone()).collect());
        let chat_id = self.chats[i].id;
        let message = &mut self.chats[i].messages[m];
        if message.keyboard == wanted {
            return Err(RequestError::Api(ApiError::MessageNotModified));
        }
        // Changing a keyboard is fine only on the post itself (its buttons changed meanwhile).
        let same_post = match (&wanted, &message.keyboard) {
            (Some(wanted), Some(keyboard)) => signature(keyboard) == signature(wanted),
            _ => false,
        };
        if !same_post {
            self.violations.push(format!(
                "a search for {:?} changed message {id} of chat {chat_id} ({:?})",
                wanted.as_deref().map(signature),
                message.links
            ));
        }
        message.keyboard = wanted;
        self.answer(Ok(()))
    }
}

#[derive(Clone)]
struct SimApi(Arc<Mutex<Telegram>>);

impl SimApi {
    /// Every answer comes back after a while (0-2 s); a kill then is a kill between
    /// Telegram's acceptance and herald's record.
    async fn later<T>(
        &self,
        chat: &Recipient,
        answer: Result<T, RequestError>,
    ) -> Result<T, RequestError> {
        let wait = self.0.lock().unwrap().rng.below(2000);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        if let Err(RequestError::RetryAfter(secs)) = &answer {
            let mut t = self.0.lock().unwrap();
            if let Some(i) = t.chat_index(chat) {
                t.chats[i].held_until = Some(Instant::now() + secs.duration());
            }
        }
        answer
    }
}

impl TelegramApi for SimApi {
    async fn send_post(
        &self,
        chat: Recipient,
        post: &Post,
        _plain: bool,
        silent: bool,
    ) -> Result<Accepted, RequestError> {
        let answer = self.0.lock().unwrap().send_post(&chat, post, silent);
        self.later(&chat, answer).await
    }

    async fn send_digest(
        &self,
        chat: Recipient,
        text: String,
        rows: &[Vec<(String, String)>],
        _plain: bool,
        silent: bool,
    ) -> Result<Accepted, RequestError> {
        let answer = self
            .0
            .lock()
            .unwrap()
            .send_digest(&chat, &text, rows, silent);
        self.later(&chat, answer).await
    }

    async fn edit_post(
        &self,
        chat: Recipient,
        message_id: i32,
        post: &Post,
        _plain: bool,
    ) -> Result<(), RequestError> {
        let answer = self.0.lock().unwrap().edit_post(&chat, message_id, post);
        self.later(&chat, answer).await
    }

    async fn edit_digest(
        &self,
        chat: Recipient,
        message_id: i32,
        text: String,
        rows: &[Vec<(String, String)>],
        _plain: bool,
    ) -> Result<(), RequestError> {
        let answer = self
            .0
            .lock()
            .unwrap()
            .edit_digest(&chat, message_id, &text, rows);
        self.later(&chat, answer).await
    }

    async fn set_keyboard(
        &self,
        chat: Recipient,
        message_id: i32,
        rows: &[Vec<(String, String)>],
    ) -> Result<(), RequestError> {
        let answer = self.0.lock().unwrap().set_keyboard(&chat, message_id, rows);
        self.later(&chat, answer).await
    }

    async fn delete_message(&self, chat: Recipient, message_id: i32) -> Result<(), RequestError> {
        let answer = self.0.lock().unwrap().delete_message(&chat, message_id);
        self.later(&chat, answer).await
    }

    async fn chat_id(&self, chat: Recipient) -> Result<i64, RequestError> {
        let t = self.0.lock().unwrap();
        let i = t.chat_index(&chat).ok_or_else(|| bad("chat not found"))?;
        Ok(t.chats[i].id)
    }

    async fn send_text_message(
        &self,
        chat: ChatId,
        text: &str,
        _parse_mode: Option<ParseMode>,
    ) -> Result<(), RequestError> {
        let answer = self.0.lock().unwrap().send_text_message(chat, text);
        self.later(&Recipient::Id(chat), answer).await
    }
}

// ---------------------------------------------------------------------------------------------
// The world herald runs in: its config, its store, its workers.

/// The channel entries: id, chat as written in the config, share target (which tells their
/// posts apart in a chat), digest threshold. `a` and `a-vk` are one chat written two ways;
/// `grp` is a group that may become a supergroup.
const ENTRIES: [(&str, &str, &str, Option<usize>); 4] = [
    ("a", "\"@sim_chat_a\"", "x", None),
    ("a-vk", "-1001000000001", "vk", Some(3)),
    ("b", "\"@sim_chat_b\"", "facebook", Some(2)),
    ("grp", "-2002", "linkedin", None),
];
const SOURCES: [&str; 2] = ["s0", "s1"];
/// The admins (`[telegram] admins`): their private chats have these ids.
const ADMINS: [i64; 2] = [7001, 7002];
/// The chats the entries post to come first in `Telegram::chats`; the admins' follow.
const CHANNEL_CHATS: usize = 4;
/// How many releases a source's list page shows.
const PAGE: usize = 6;

fn share_domain(share: &str) -> &'static str {
    match share {
        "x" => "twitter.com",
        "vk" => "vk.com",
        "facebook" => "facebook.com",
        _ => "linkedin.com",
    }
}

/// The entry a digest message in this chat belongs to: only `a-vk` sends digests to chat a,
/// only `b` to chat b.
fn digest_entry(chat: i64) -> Option<usize> {
    match chat {
        -1001000000001 => Some(1),
        -1001000000003 => Some(2),
        _ => None,
    }
}

/// The entry a post's keyboard belongs to, by its share button.
fn entry_of(keyboard: &[String]) -> Option<usize> {
    let sharer = keyboard.get(1)?;
    ENTRIES
        .iter()
        .position(|(_, _, share, _)| sharer.contains(share_domain(share)))
}

/// An entry's quiet hours in the simulation: minutes after midnight (UTC), and the mode.
type Quiet = Option<(u32, u32, QuietMode)>;

/// Where the simulated time starts (`herald::quiet::clock`): a fixed instant, far from
/// midnight, so that a window of a few minutes near it never wraps.
fn sim_start() -> DateTime<Utc> {
    "2026-03-20T10:00:00Z".parse().unwrap()
}

/// What the config says: which entries and sources are in it, which entries each source posts
/// to, the entries' quiet hours, the sources' `backfill`.
struct Layout<'a> {
    entries: &'a [bool; 4],
    sources: &'a [bool; 2],
    members: &'a [[bool; 4]; 2],
    quiet: &'a [Quiet; 4],
    backfill: &'a [u32; 2],
}

fn config_text(
    dir: &Path,
    Layout {
        entries,
        sources,
        members,
        quiet,
        backfill,
    }: Layout,
) -> String {
    let mut text = format!(
        "[general]\ndata_dir = \"{}\"\n\n[telegram]\napi_url = \"http://127.0.0.1:9/\"\nadmins = {ADMINS:?}\n\n",
        dir.display()
    );
    for (n, (id, chat, share, digest)) in ENTRIES.iter().enumerate() {
        if !entries[n] {
            continue;
        }
        text.push_str(&format!(
            "[[channels]]\nid = \"{id}\"\nchat = {chat}\nshare = [\"{share}\"]\n"
        ));
        if let Some(d) = digest {
            text.push_str(&format!("digest_over = {d}\n"));
        }
        if let Some((start, end, mode)) = quiet[n] {
            let hhmm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
            let mode = if mode == QuietMode::Hold {
                "hold"
            } else {
                "silent"
            };
            text.push_str(&format!(
                "quiet_hours = \"{}-{}\"\nquiet_timezone = \"UTC\"\nquiet = \"{mode}\"\n",
                hhmm(start),
                hhmm(end)
            ));
        }
        text.push('\n');
    }
    for (n, id) in SOURCES.iter().enumerate() {
        if !sources[n] {
            continue;
        }
        let channels: Vec<String> = ENTRIES
            .iter()
            .enumerate()
            .filter(|(e, _)| entries[*e] && members[n][*e])
            .map(|(_, (id, ..))| format!("\"{id}\""))
            .collect();
        text.push_str(&format!(
            "[[sources]]\nid = \"{id}\"\nurl = \"http://127.0.0.1:9/{id}\"\nkind = \"feed\"\nschedule = \"0 0 * * * *\"\nbackfill = {}\nchannels = [{}]\n\n",
            backfill[n],
            channels.join(", ")
        ));
    }
    text
}

fn parse(dir: &Path, layout: Layout) -> Config {
    let text = config_text(dir, layout);
    herald::config::parse(&dir.join("config.toml"), &text, dir)
        .unwrap_or_else(|e| panic!("the simulation's config is refused: {e:?}\n{text}"))
}

struct Workers {
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

struct World {
    rng: Rng,
    dir: tempfile::TempDir,
    store: Store,
    live: Arc<LiveConfig>,
    telegram: Arc<Mutex<Telegram>>,
    wake: Arc<Notify>,
    /// One for the whole run: the limits of the admins' chats outlive restarts (a kill in the
    /// simulation does not lose an alert on its way either; see `check_alerts`).
    global: Arc<GlobalLimit>,
    alerts: Arc<Alerts<SimApi>>,
    workers: Option<Workers>,
    entries: [bool; 4],
    sources: [bool; 2],
    quiet: [Quiet; 4],
    /// Which entries each source posts to (besides being in the config).
    members: [[bool; 4]; 2],
    /// Which entries had their first poll of each source (as the simulation expects it).
    baselined: [[bool; 4]; 2],
    backfill: [u32; 2],
    /// Each source's list page: its newest releases, newest first.
    pages: [Vec<Item>; 2],
    next_item: u64,
    items: Vec<Item>,
    /// (entry, link) due: a post or a digest line was queued for it.
    due: Vec<(usize, String)>,
    kills: usize,
    /// When each kill happened.
    kill_times: Vec<Instant>,
    /// The admin commands on their way to the admin poller (`admin_poller`).
    commands: Option<mpsc::UnboundedSender<(i64, Command)>>,
    poller: Option<JoinHandle<()>>,
    failures: Vec<String>,
}

impl World {
    async fn start_workers(&mut self) {
        let deliverer = Arc::new(Deliverer {
            api: SimApi(self.telegram.clone()),
            store: self.store.clone(),
            config: self.live.clone(),
            global: self.global.clone(),
            wake: self.wake.clone(),
            alerts: Some(self.alerts.clone()),
            broken_store: CancellationToken::new(),
            regroup: Arc::new(tokio::sync::Notify::new()),
        });
        let stop = CancellationToken::new();
        let config = self.live.get();
        let mut tasks = Vec::new();
        for group in deliverer.chat_groups(&config.channels).await {
            tasks.push(tokio::spawn(
                deliverer.clone().run_chat(group, stop.child_token()),
            ));
        }
        self.workers = Some(Workers { stop, tasks });
    }

    /// A graceful stop: every worker must be done within 10 s.
    async fn stop_workers(&mut self) {
        if let Some(w) = self.workers.take() {
            w.stop.cancel();
            let began = Instant::now();
            for task in w.tasks {
                let _ = task.await;
            }
            if began.elapsed() > Duration::from_secs(10) {
                self.failures
                    .push(format!("a stop took {:?}", began.elapsed()));
            }
        }
    }

    /// `kill -9` at whatever await point the workers are.
    fn kill_workers(&mut self) {
        if let Some(w) = self.workers.take() {
            for task in w.tasks {
                task.abort();
            }
            self.kills += 1;
            self.kill_times.push(Instant::now());
        }
    }

    fn layout(&self) -> Layout<'_> {
        Layout {
            entries: &self.entries,
            sources: &self.sources,
            members: &self.members,
            quiet: &self.quiet,
            backfill: &self.backfill,
        }
    }

    async fn apply_config(&mut self) {
        self.stop_workers().await;
        let config = parse(self.dir.path(), self.layout());
        self.telegram.lock().unwrap().quiet = quiet_of(&config);
        self.live.set(config);
        self.start_workers().await;
    }

    /// A window of a few minutes that begins now or soon, in hold or silent mode.
    fn quiet_window(&mut self) -> Quiet {
        let now = clock::now();
        let minute = now.hour() * 60 + now.minute();
        let start = minute + self.rng.below(3) as u32;
        let end = start + 1 + self.rng.below(3) as u32;
        let mode = if self.rng.chance(500) {
            QuietMode::Hold
        } else {
            QuietMode::Silent
        };
        (end <= 24 * 60).then_some((start, end, mode))
    }

    /// An entry's quiet hours are set (a window near now), changed or removed.
    async fn edit_quiet(&mut self) {
        let e = self.rng.below(4) as usize;
        self.quiet[e] = if self.rng.chance(300) {
            None
        } else {
            self.quiet_window()
        };
        self.apply_config().await;
    }

    fn new_item(&mut self, source: &str) -> Item {
        self.next_item += 1;
        let n = self.next_item;
        let now = clock::now();
        Item {
            id: ItemId::new(source, &n.to_string()),
            source: source.to_owned(),
            title: format!("Release {n}"),
            link: format!("https://sim.example/{source}/{n}"),
            summary: Some(format!("What happened in release {n}.")),
            content_html: None,
            image: n
                .is_multiple_of(3)
                .then(|| format!("https://sim.example/{n}.jpg")),
            language: "en".into(),
            published: now,
            updated: now,
            first_seen: now,
            seq: n,
        }
    }

    /// A poll of a configured source, through herald's planning rule
    /// (`pipeline::plan_deliveries`): its list page gained `new` releases and shows
    /// `corrections` of its releases, or has not changed (a 304, unless
    /// `pipeline::must_read_page` says the page must be read: then it is read, with every
    /// release already known).
    ///
    /// What is due, as the simulation sees it: at an entry's first poll of the source (the
    /// first while the entry is in the config and among the source's channels: at the start, or
    /// added later), the source's `backfill` newest releases on the page, whether the page
    /// changed or not; after that, every new release.
    async fn poll(&mut self, new: u64, corrections: u64) {
        // Only a source in the config is polled.
        let configured: Vec<usize> = (0..2).filter(|s| self.sources[*s]).collect();
        if configured.is_empty() {
            return;
        }
        let s = configured[self.rng.below(configured.len() as u64) as usize];
        let source = SOURCES[s];
        let mut items: Vec<Item> = (0..new).map(|_| self.new_item(source)).collect();
        for item in &items {
            if self.rng.chance(40) {
                self.telegram
                    .lock()
                    .unwrap()
                    .poison
                    .insert(item.link.clone());
            }
        }
        // The page lists the newest first.
        items.reverse();
        let mut corrected = Vec::new();
        let corrections = if self.pages[s].is_empty() {
            0
        } else {
            corrections
        };
        for _ in 0..corrections {
            let n = self.rng.below(self.pages[s].len() as u64) as usize;
            if corrected
                .iter()
                .any(|c: &Item| c.link == self.pages[s][n].link)
            {
                continue;
            }
            let mut item = self.pages[s][n].clone();
            item.title = format!("{} (corrected {})", item.title, self.rng.below(1000));
            item.updated = clock::now();
            self.pages[s][n] = item.clone();
            if let Some(known) = self.items.iter_mut().find(|i| i.link == item.link) {
                *known = item.clone();
            }
            corrected.push(item);
        }
        let changed = !items.is_empty() || !corrected.is_empty();
        let config = self.live.get();
        let source_config = config.source(source).expect("a configured source").clone();
        if !changed && !must_read_page(&self.store, &source_config, &config.channels) {
            // 304 Not Modified: nothing planned. What the entries expected is still due.
            self.expect(s, &items);
            return;
        }
        let page: Vec<Item> = items.iter().chain(&self.pages[s]).cloned().collect();
        let report: Vec<Observed> = page
            .iter()
            .map(|item| Observed {
                state: if items.iter().any(|i| i.link == item.link) {
                    ItemState::New
                } else if corrected.iter().any(|i| i.link == item.link) {
                    ItemState::Changed
                } else {
                    ItemState::Known
                },
                item: item.clone(),
            })
            .collect();
        let (deliveries, baselines) =
            match plan_deliveries(&self.store, &source_config, &config.channels, &report) {
                Ok(planned) => planned,
                Err(e) => {
                    self.failures.push(format!("plan_deliveries: {e}"));
                    return;
                }
            };
        self.expect(s, &items);
        self.pages[s] = page;
        self.pages[s].truncate(PAGE);
        self.commit(source, &items, &corrected, &deliveries, &baselines)
            .await;
        self.items.extend(items);
    }

    /// What a poll of source `s` makes due, after its page gained `new` releases (the page as
    /// it is now in `self.pages`, `new` not yet on it).
    fn expect(&mut self, s: usize, new: &[Item]) {
        for e in 0..ENTRIES.len() {
            if !self.entries[e] || !self.members[s][e] {
                continue;
            }
            let due: Vec<&Item> = if self.baselined[s][e] {
                new.iter().collect()
            } else {
                self.baselined[s][e] = true;
                new.iter()
                    .chain(&self.pages[s])
                    .take(self.backfill[s] as usize)
                    .collect()
            };
            for item in due {
                self.due.push((e, item.link.clone()));
            }
        }
    }

    /// A channel entry joins a source's channels (or, less often, leaves them).
    async fn edit_members(&mut self) {
        let s = self.rng.below(2) as usize;
        let e = self.rng.below(4) as usize;
        self.members[s][e] = !self.members[s][e] || self.rng.chance(700);
        self.apply_config().await;
    }

    async fn commit(
        &mut self,
        source: &str,
        new: &[Item],
        corrected: &[Item],
        deliveries: &[NewDelivery],
        baselines: &[String],
    ) {
        let content_digests = HashMap::new();
        let commit = Commit {
            source,
            new,
            corrected,
            deliveries,
            baselines,
            content_digests: &content_digests,
            max_items: 10_000,
            links: &[],
            unlinks: &[],
            seen_only: &[],
            restored: &[],
        };
        if let Err(e) = self.store.commit(&commit).await {
            self.failures.push(format!("commit: {e}"));
        }
        self.wake.notify_waiters();
    }

    /// `/pause` or `/resume` of an entry, whichever it needs.
    async fn toggle_pause(&mut self) {
        let e = self.rng.below(4) as usize;
        let paused = self.store.channel_state(ENTRIES[e].0).unwrap().paused;
        self.apply(&Command::Pause(e, !paused)).await;
    }

    /// An admin command applied by herald's own code, as the admin poller does; the answer.
    async fn apply(&self, command: &Command) -> String {
        apply(&self.store, &self.live, &self.wake, &self.telegram, command).await
    }

    /// Several commands at once from one admin's chat: the poller applies and answers them in
    /// turn, each answer within the chat's limits (`Alerts::send`).
    fn command_burst(&mut self) {
        let chat = ADMINS[self.rng.below(ADMINS.len() as u64) as usize];
        let n = 2 + self.rng.below(7);
        for _ in 0..n {
            let e = self.rng.below(4) as usize;
            let command = match self.rng.below(4) {
                0 => Command::Pause(e, true),
                1 => Command::Pause(e, false),
                2 => Command::Requeue(e),
                _ => Command::Status,
            };
            if let Some(commands) = &self.commands {
                let _ = commands.send((chat, command));
            }
        }
    }

    fn delete_a_message(&mut self) {
        let mut t = self.telegram.lock().unwrap();
        let c = t.rng.below(CHANNEL_CHATS as u64) as usize;
        let len = t.chats[c].messages.len() as u64;
        if len > 0 {
            let m = t.rng.below(len) as usize;
            t.chats[c].messages[m].deleted = true;
        }
    }

    fn fault_events(&mut self) {
        let mut t = self.telegram.lock().unwrap();
        if t.rng.chance(30) {
            let c = t.rng.below(CHANNEL_CHATS as u64) as usize;
            t.chats[c].kicked = !t.chats[c].kicked;
        }
        // The group becomes a supergroup (once).
        if t.rng.chance(20)
            && let Some(g) = t.chats.iter().position(|c| c.id == -2002)
            && t.chats[g].migrated_to.is_none()
        {
            t.chats[g].migrated_to = Some(-1002000000002);
        }
    }
}

fn chats() -> Vec<Chat> {
    let chat = |id: i64, username: Option<&str>| Chat {
        id,
        username: username.map(str::to_owned),
        messages: Vec::new(),
        calls: VecDeque::new(),
        held_until: None,
        migrated_to: None,
        kicked: false,
    };
    vec![
        chat(-1001000000001, Some("sim_chat_a")),
        chat(-1001000000003, Some("sim_chat_b")),
        chat(-2002, None),
        chat(-1002000000002, None),
        chat(ADMINS[0], None),
        chat(ADMINS[1], None),
    ]
}

/// An admin command of the simulation.
#[derive(Debug)]
enum Command {
    /// `/pause ENTRY` (true) or `/resume ENTRY`.
    Pause(usize, bool),
    /// `/requeue ENTRY`.
    Requeue(usize),
    Status,
}

/// Applies `command` with herald's own appliers (`app::commands`), and keeps the simulated
/// Telegram's view in step: a paused entry's posts must not arrive from now on (its pause is
/// stored before the answer goes), and when the entry's set-aside posts went back.
async fn apply(
    store: &Store,
    live: &LiveConfig,
    wake: &Notify,
    telegram: &Mutex<Telegram>,
    command: &Command,
) -> String {
    let config = live.get();
    match *command {
        Command::Pause(e, paused) => {
            let id = ENTRIES[e].0;
            let answer = commands::pause(store, &config, wake, id, paused);
            if config.channel(id).is_some() {
                let domain = share_domain(ENTRIES[e].2).to_owned();
                let mut t = telegram.lock().unwrap();
                if paused {
                    t.paused.insert(domain);
                } else {
                    t.paused.remove(&domain);
                }
            }
            answer
        }
        Command::Requeue(e) => {
            if config.channel(ENTRIES[e].0).is_some() {
                // Before: an alert of a post set aside meanwhile counts after it.
                let mut t = telegram.lock().unwrap();
                t.requeues[e].0 += 1;
                t.requeues[e].1 = Some(Instant::now());
            }
            commands::requeue(store, &config, wake, ENTRIES[e].0).await
        }
        Command::Status => commands::status(store, &config, |_| None, clock::now()),
    }
}

/// The admin poller: applies each command in turn and answers it before the next, as
/// `app::commands::run` does, through `Alerts::send`. Every answer is due in its chat.
async fn admin_poller(
    mut commands: mpsc::UnboundedReceiver<(i64, Command)>,
    store: Store,
    live: Arc<LiveConfig>,
    wake: Arc<Notify>,
    alerts: Arc<Alerts<SimApi>>,
    telegram: Arc<Mutex<Telegram>>,
) {
    while let Some((chat, command)) = commands.recv().await {
        let answer = apply(&store, &live, &wake, &telegram, &command).await;
        telegram
            .lock()
            .unwrap()
            .answers
            .push((chat, answer.clone()));
        let _ = commands::reply(&alerts, ChatId(chat), Answer::Text(answer)).await;
    }
}

/// Runs one seed; the failures found, if any.
fn run_seed(seed: u64) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(simulate(seed))
}

fn scratch() -> tempfile::TempDir {
    // Sled on memory when the machine has it: the simulation never flushes, but opens fast.
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().unwrap()
}

/// The quiet hours of the entries in `config`, by entry id.
fn quiet_of(config: &Config) -> HashMap<String, QuietHours> {
    config
        .channels
        .iter()
        .filter_map(|c| Some((c.id.clone(), c.quiet.clone()?)))
        .collect()
}

async fn simulate(seed: u64) -> Result<(), String> {
    clock::follow_tokio(sim_start());
    let mut rng = Rng(seed);
    let dir = scratch();
    let store = Store::open(&dir.path().join("data"), 1 << 20)
        .map_err(|e| e.to_string())?
        .without_flushes();
    let entries = [true; 4];
    let sources = [true; 2];
    let telegram = Arc::new(Mutex::new(Telegram {
        rng: Rng(rng.next()),
        chats: chats(),
        faults: true,
        poison: HashSet::new(),
        paused: HashSet::new(),
        global: VecDeque::new(),
        quiet: HashMap::new(),
        violations: Vec::new(),
        calls: 0,
        to_admins: Vec::new(),
        admin_tries: HashMap::new(),
        last_admin_try: None,
        answers: Vec::new(),
        requeues: [(0, None); 4],
    }));
    let mut world_rng = Rng(rng.next());
    let quiet: [Quiet; 4] = std::array::from_fn(|_| {
        if world_rng.chance(300) {
            let start = 10 * 60 + world_rng.below(2) as u32;
            let end = start + 1 + world_rng.below(3) as u32;
            let mode = if world_rng.chance(500) {
                QuietMode::Hold
            } else {
                QuietMode::Silent
            };
            Some((start, end, mode))
        } else {
            None
        }
    });
    let members: [[bool; 4]; 2] =
        std::array::from_fn(|_| std::array::from_fn(|_| world_rng.chance(800)));
    let backfill: [u32; 2] = std::array::from_fn(|_| 1 + world_rng.below(3) as u32);
    let config = parse(
        dir.path(),
        Layout {
            entries: &entries,
            sources: &sources,
            members: &members,
            quiet: &quiet,
            backfill: &backfill,
        },
    );
    telegram.lock().unwrap().quiet = quiet_of(&config);
    let live = Arc::new(LiveConfig::new(config));
    let global = Arc::new(GlobalLimit::new(30));
    let alerts = Arc::new(Alerts::new(
        SimApi(telegram.clone()),
        live.clone(),
        global.clone(),
    ));
    let mut world = World {
        rng: world_rng,
        dir,
        store,
        live,
        telegram: telegram.clone(),
        wake: Arc::new(Notify::new()),
        global,
        alerts,
        workers: None,
        entries,
        sources,
        quiet,
        members,
        baselined: [[false; 4]; 2],
        backfill,
        pages: Default::default(),
        next_item: 0,
        items: Vec::new(),
        due: Vec::new(),
        kills: 0,
        kill_times: Vec::new(),
        commands: None,
        poller: None,
        failures: Vec::new(),
    };
    let (commands, rx) = mpsc::unbounded_channel();
    world.commands = Some(commands);
    world.poller = Some(tokio::spawn(admin_poller(
        rx,
        world.store.clone(),
        world.live.clone(),
        world.wake.clone(),
        world.alerts.clone(),
        telegram.clone(),
    )));
    world.start_workers().await;
    let steps = 30 + world.rng.below(30);
    for _ in 0..steps {
        let wait = world.rng.below(4000);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        world.fault_events();
        match world.rng.below(100) {
            0..35 => {
                let new = 1 + world.rng.below(4);
                let corrections = u64::from(world.rng.chance(300));
                world.poll(new, corrections).await;
            }
            35..45 => {
                let corrections = 1 + world.rng.below(3);
                world.poll(0, corrections).await;
            }
            45..53 => {
                // An entry or a source leaves the config, or comes back.
                if world.rng.chance(500) {
                    let e = world.rng.below(4) as usize;
                    world.entries[e] = !world.entries[e];
                } else {
                    let s = world.rng.below(2) as usize;
                    world.sources[s] = !world.sources[s];
                }
                world.apply_config().await;
            }
            53..60 => world.toggle_pause().await,
            60..65 => {
                world.kill_workers();
                world.start_workers().await;
            }
            65..69 => {
                world.stop_workers().await;
                world.start_workers().await;
            }
            69..72 => world.delete_a_message(),
            72..74 => {
                let e = world.rng.below(4) as usize;
                world.apply(&Command::Requeue(e)).await;
            }
            74..80 => world.edit_quiet().await,
            80..85 => world.command_burst(),
            85..90 => world.poll(0, 0).await,
            90..94 => world.edit_members().await,
            _ => {}
        }
    }

    // The admin poller answers the commands sent so far, and stops.
    world.commands = None;
    if let Some(poller) = world.poller.take() {
        let _ = poller.await;
    }
    // The faults stop, every entry and source is back and resumed: the queues must drain.
    {
        let mut t = telegram.lock().unwrap();
        t.faults = false;
        for chat in &mut t.chats {
            chat.kicked = false;
        }
    }
    world.entries = [true; 4];
    world.sources = [true; 2];
    world.apply_config().await;
    for e in 0..ENTRIES.len() {
        world.apply(&Command::Pause(e, false)).await;
    }
    let drained = Instant::now();
    loop {
        let pending: usize = ENTRIES
            .iter()
            .map(|(id, ..)| world.store.pending(id).unwrap())
            .sum();
        if pending == 0 {
            break;
        }
        if drained.elapsed() > Duration::from_secs(4 * 3600) {
            world.failures.push(format!(
                "{pending} deliveries still queued 4 hours after the faults stopped"
            ));
            break;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    world.stop_workers().await;
    // The alerts still on their way (each waits for its chat's turn, or a 429's hold): those of
    // posts set aside are counted from the moment they are set aside, before their first try.
    let quiet_since = Instant::now();
    loop {
        let last = telegram.lock().unwrap().last_admin_try;
        if world.alerts.sending() == 0
            && last.is_none_or(|t| t.elapsed() > Duration::from_secs(120))
        {
            break;
        }
        if quiet_since.elapsed() > Duration::from_secs(3600) {
            world
                .failures
                .push("messages to the admins still going an hour after the drain".into());
            break;
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    check(&world)
}

/// The end state against what was due.
fn check(world: &World) -> Result<(), String> {
    let t = world.telegram.lock().unwrap();
    let mut failures = world.failures.clone();
    failures.extend(t.violations.iter().cloned());
    // Which chat each entry's messages are in: a's two entries share one; the group's posts
    // may be in the group or its supergroup.
    let chat_of = |e: usize| -> Vec<i64> {
        match e {
            0 | 1 => vec![-1001000000001],
            2 => vec![-1001000000003],
            _ => vec![-2002, -1002000000002],
        }
    };
    let mut copies: BTreeMap<(usize, &str), usize> = BTreeMap::new();
    for (e, link) in &world.due {
        let sharer = share_domain(ENTRIES[*e].2);
        let digest = ENTRIES[*e].3.is_some();
        let mut n = 0;
        for chat in t.chats.iter().filter(|c| chat_of(*e).contains(&c.id)) {
            for m in &chat.messages {
                // A copy an admin deleted is gone for readers too: a new one is no duplicate.
                if m.deleted || !m.links.contains(link) {
                    continue;
                }
                let mine = match &m.keyboard {
                    // A digest: only entries with digests send them.
                    _ if m.digest => digest,
                    Some(k) => k.get(1).is_some_and(|u| u.contains(sharer)),
                    None => false,
                };
                n += usize::from(mine);
            }
        }
        *copies.entry((*e, link.as_str())).or_default() = n;
    }
    let mut duplicated = Vec::new();
    let mut set_aside = Vec::new();
    for ((e, link), n) in &copies {
        let poison = t.poison.contains(*link);
        let id = ENTRIES[*e].0;
        let item = world.items.iter().find(|i| i.link == *link).unwrap();
        let record = world.store.post_record(id, &item.source, &item.id).unwrap();
        match (n, &record) {
            (0, Some(PostRecord::Sent { .. } | PostRecord::Digest { .. })) => {
                // Sent and later deleted by an admin: the record keeps it.
                let deleted = t.chats.iter().any(|c| {
                    c.messages
                        .iter()
                        .any(|m| m.deleted && m.links.contains(&(*link).to_owned()))
                });
                if !deleted {
                    failures.push(format!("{id}: {link} is recorded as sent but is not there"));
                }
            }
            // Refused whatever its form: set aside.
            (0, _) if poison => set_aside.push((*e, *link)),
            (0, _) => failures.push(format!("{id}: {link} never arrived ({record:?})")),
            (1, _) => {}
            (n, _) => duplicated.push(format!("{id}: {link} ×{n}")),
        }
    }
    // A duplicate is a message sent again (a digest listing many releases is one message).
    // (chat, or the group with the supergroup it became; the links; the entry) → each copy's
    // chat and message id.
    type Copies = HashMap<(i64, Vec<String>, String), Vec<(i64, i32, Instant)>>;
    let mut sent = Copies::new();
    for chat in &t.chats {
        let family = if chat.id == -1002000000002 {
            -2002
        } else {
            chat.id
        };
        for m in chat.messages.iter().filter(|m| !m.deleted) {
            let entry = m
                .keyboard
                .as_deref()
                .map(|k| signature(k).1)
                .unwrap_or_default();
            sent.entry((family, m.links.clone(), entry))
                .or_default()
                .push((chat.id, m.id, m.at));
        }
    }
    // Nothing arrived that was not due: a release outside an entry's backfill, or of a source
    // it does not post.
    let due: HashSet<(usize, &str)> = world.due.iter().map(|(e, l)| (*e, l.as_str())).collect();
    for chat in &t.chats[..CHANNEL_CHATS] {
        for m in &chat.messages {
            let entry = match &m.keyboard {
                _ if m.digest => digest_entry(chat.id),
                Some(k) => entry_of(k),
                None => None,
            };
            for link in &m.links {
                if !entry.is_some_and(|e| due.contains(&(e, link.as_str()))) {
                    failures.push(format!(
                        "chat {}: message {} has {link}, not due to {:?}",
                        chat.id,
                        m.id,
                        entry.map(|e| ENTRIES[e].0)
                    ));
                }
            }
        }
    }
    duplicated.extend(sent.iter().filter(|(_, copies)| copies.len() > 1).map(
        |((chat, ..), copies)| {
            let ids: Vec<(i64, i32)> = copies.iter().map(|(c, id, _)| (*c, *id)).collect();
            format!("chat {chat}: messages {ids:?}")
        },
    ));
    // A send whose answer was lost in a group that then became a supergroup cannot be looked for
    // (its id there is unknown): it goes out again there, once. Only such a pair is excused by
    // the migration: one copy in the old group, one in the supergroup. A post sent twice inside
    // the supergroup (a lost answer there not looked for, or looked for from the wrong id) is
    // not.
    let migrations = t.chats.iter().filter(|c| c.migrated_to.is_some()).count();
    let mut migration_excuses = migrations;
    // Each copy after the first is excused by a kill between the previous copy's acceptance and
    // its own (a kill between Telegram's acceptance and herald's record), one kill each.
    let mut again: Vec<(Instant, Instant, String)> = Vec::new();
    let told = |text: &str| {
        t.to_admins.iter().any(|(_, told, _)| told.contains(text))
            || t.admin_tries.keys().any(|(_, tried)| tried.contains(text))
    };
    for ((family, links, _), copies) in &sent {
        // A probe of a search that went unanswered (a 5xx, no answer, a kill during the call)
        // may have given another message the post's buttons: a message that has them then is
        // not taken for the post ("not modified" there may be herald's own doing), and the
        // look below a copy sent again that meets it reports it and steps over it. When it was
        // an earlier copy, the duplicate is herald's only safe way: excused when the admins
        // were told of it by its id.
        let unsure = |(chat, id, _): &(i64, i32, Instant)| {
            copies.iter().any(|(c, other, _)| c == chat && other != id)
                && told(&format!(
                    "message {id} has the post's buttons, but they may be from herald's own search"
                ))
        };
        let copies: Vec<(i64, i32, Instant)> =
            copies.iter().filter(|c| !unsure(c)).copied().collect();
        let copies = &copies;
        if copies.len() < 2 {
            continue;
        }
        let across_the_migration = copies.len() == 2
            && copies.iter().any(|(chat, ..)| *chat == -2002)
            && copies.iter().any(|(chat, ..)| *chat == -1002000000002);
        if across_the_migration && migration_excuses > 0 {
            migration_excuses -= 1;
            continue;
        }
        // A lost send in the group with no earlier id known went out again, to be looked for
        // below the copy sent again, and the group became a supergroup before the look or the
        // delete of the newer copy was made: the old group's messages are no longer the bot's
        // to edit or delete. The one duplicate herald cannot mend, excused only when the admins
        // were told of it by the newer copy's id (the alert may itself be lost: then tried).
        if let [(-2002, first, _), (-2002, second, _)] = copies.as_slice()
            && migrations > 0
        {
            let (first, second) = (first.min(second), first.max(second));
            if told(&format!(
                "is in the chat twice (messages {first} and {second})"
            )) || told(&format!(
                "the copy sent again (message {second}) could not be compared"
            )) {
                continue;
            }
        }
        let mut copies = copies.clone();
        copies.sort_by_key(|(.., at)| *at);
        for pair in copies.windows(2) {
            again.push((
                pair[0].2,
                pair[1].2,
                format!(
                    "chat {family}: {links:?} as messages {:?} and {:?}",
                    (pair[0].0, pair[0].1),
                    (pair[1].0, pair[1].1)
                ),
            ));
        }
    }
    // Earliest end first, each taking the earliest kill left in its span: as many excused as
    // can be.
    again.sort_by_key(|(_, to, _)| *to);
    let mut kills: Vec<Option<Instant>> = world.kill_times.iter().copied().map(Some).collect();
    let mut unexcused = Vec::new();
    for (from, to, what) in again {
        match kills
            .iter_mut()
            .find(|k| k.is_some_and(|k| from <= k && k <= to))
        {
            Some(kill) => *kill = None,
            None => unexcused.push(what),
        }
    }
    if !unexcused.is_empty() {
        failures.push(format!(
            "{} duplicates without a kill between the copies ({} kills, {} migrations): \
             {unexcused:?} (all: {duplicated:?})",
            unexcused.len(),
            world.kills,
            migrations
        ));
    }
    for (id, ..) in ENTRIES {
        let pending = world.store.pending(id).unwrap();
        if pending > 0 {
            failures.push(format!("{id}: {pending} still queued"));
        }
    }
    check_alerts(world, &t, &set_aside, &mut failures);
    check_answers(&t, &mut failures);
    if failures.is_empty() {
        Ok(())
    } else {
        failures.dedup();
        failures.truncate(12);
        Err(failures.join("\n  "))
    }
}

/// Every delivery set aside was told to every admin, and a post once per time it was set
/// aside. An alert may be missing only when herald gave up on it (see `Alerts::send`): its
/// `SEND_TRIES` tries were all refused (429, 5xx), or a try got no answer and had not reached
/// Telegram (herald does not send again what may have arrived). A kill in the simulation does
/// not stop an alert on its way (the alerts outlive the workers here), so none is excused by a
/// kill. `set_aside`: the posts (entry, link) that never arrived because Telegram refuses them.
fn check_alerts(
    world: &World,
    t: &Telegram,
    set_aside: &[(usize, &str)],
    failures: &mut Vec<String>,
) {
    // Herald gave up on this message to `admin`.
    let given_up = |admin: i64, text: &str| {
        t.admin_tries
            .get(&(admin, text.to_owned()))
            .is_some_and(|tries| {
                let refused = tries
                    .iter()
                    .rev()
                    .take_while(|t| **t == Try::Refused)
                    .count();
                tries.last() == Some(&Try::Lost) || refused >= SEND_TRIES as usize
            })
    };
    let about = |id: &str, text: &str| text.contains(&format!("channel {id}: Telegram refused "));
    for admin in ADMINS {
        for (e, link) in set_aside {
            let id = ENTRIES[*e].0;
            let subject = |text: &str| {
                about(id, text)
                    && text.contains("the post of “")
                    && text.contains(&format!("({link})"))
            };
            let told = t
                .to_admins
                .iter()
                .filter(|(chat, text, _)| *chat == admin && subject(text))
                .count();
            let excused = t
                .admin_tries
                .keys()
                .any(|(chat, text)| *chat == admin && subject(text) && given_up(admin, text));
            if told > 0 {
                ALERTS_TOLD.fetch_add(1, Ordering::Relaxed);
            } else if excused {
                ALERTS_GIVEN_UP.fetch_add(1, Ordering::Relaxed);
            } else {
                failures.push(format!(
                    "admin {admin} was never told that {id}'s post of {link} was set aside"
                ));
            }
            let times = t.requeues[*e].0 + 1;
            if told > times {
                failures.push(format!(
                    "admin {admin} was told {told} times that {id}'s post of {link} was set aside \
                     (set aside at most {times} times)"
                ));
            }
        }
        // Every delivery set aside now (posts, corrections) was told since the entry's last
        // `/requeue` (which put back every one set aside before it).
        for (e, (id, ..)) in ENTRIES.iter().enumerate() {
            let now = world.store.set_aside_count(id).unwrap();
            let since = t.requeues[e].1;
            let told = t
                .to_admins
                .iter()
                .filter(|(chat, text, at)| {
                    *chat == admin && about(id, text) && since.is_none_or(|s| *at >= s)
                })
                .count();
            let given_up = t
                .admin_tries
                .keys()
                .filter(|(chat, text)| *chat == admin && about(id, text) && given_up(admin, text))
                .count();
            if told + given_up < now {
                failures.push(format!(
                    "{id}: {now} deliveries set aside, admin {admin} told of {told} (and {given_up} given up)"
                ));
            }
        }
    }
}

/// Every admin command got its answer in its chat, unless herald gave up on the answer (as for
/// alerts, see `check_alerts`): none lost to a 429.
fn check_answers(t: &Telegram, failures: &mut Vec<String>) {
    let mut due: HashMap<(i64, &str), usize> = HashMap::new();
    for (chat, text) in &t.answers {
        *due.entry((*chat, text.as_str())).or_default() += 1;
    }
    for ((chat, text), n) in due {
        // The sends of this text to this chat, from their tries: each ends when it arrived, got
        // no answer, or was refused `SEND_TRIES` times.
        let (mut arrived, mut given_up, mut refused) = (0, 0, 0);
        for how in t
            .admin_tries
            .get(&(chat, text.to_owned()))
            .into_iter()
            .flatten()
        {
            match how {
                Try::Arrived => (arrived, refused) = (arrived + 1, 0),
                Try::Lost => (given_up, refused) = (given_up + 1, 0),
                Try::Refused if refused + 1 == SEND_TRIES => {
                    (given_up, refused) = (given_up + 1, 0)
                }
                Try::Refused => refused += 1,
            }
        }
        ANSWERS.fetch_add(arrived as u64, Ordering::Relaxed);
        if arrived + given_up < n {
            failures.push(format!(
                "admin chat {chat}: {n} commands answered {text:?}, {arrived} arrived, {given_up} given up"
            ));
        }
    }
}

/// 5060: a lost answer in the supergroup a group had become was looked for after the old
/// group's newest id, so the post was sent twice (ids are per chat; the last known id is now
/// kept per chat actually sent to). 4973: the first fix of that took a send to `@name` by an
/// entry no longer in the config for a send to another chat, and looked after its own last
/// message only: it found another entry's post in the same chat. 24966: with no id known in
/// the supergroup, a lost send there was sent again without a search, three times over. 24966
/// (with quiet hours): a post that waited for its turn (a 429's hold) went out after its entry's
/// `hold` window had begun; the worker now looks at the window again once its turn comes.
/// Since the simulation follows one delivery clock and has quiet hours (session 8), each seed
/// plays out otherwise: 24966 still finds the quiet-hours defect; the first fix above (5060) is
/// now found at seed 107 of the usual range, by the duplicate check that excuses a migration
/// only for a post sent once in the old group and once in the supergroup.
/// Since the admins' chats, command bursts, polls planned by `plan_deliveries` and duplicates
/// excused only by a kill between the copies, reverted fixes are found in the usual range at:
/// replies to admins without their turn or the 429 retry (defect 8) 1; no page read for an
/// entry's first poll (`must_read_page` false, defect 9) 1; queued posts of a missing source
/// completed (defect 1) 1; the worker's stale `paused` written back (defect 6) 1; a 5xx to a
/// search's probe taken for "not there" 74; a lost send in a supergroup with no known id sent
/// again without a search 11; two messages to one admin in flight at once 30.
const FOUND_DEFECTS: &[u64] = &[4973, 5060, 24966];

#[test]
fn delivery_holds_under_every_seeded_interleaving_of_faults() {
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    if let Some(seed) = var("HERALD_SIM_SEED") {
        // The workers' log, to see how a failing seed went.
        if std::env::var_os("HERALD_SIM_LOG").is_some() {
            tracing_subscriber::fmt().with_test_writer().init();
        }
        if let Err(report) = run_seed(seed) {
            panic!("seed {seed} failed:\n  {report}");
        }
        return;
    }
    // Seeds outside the usual range that once found a defect: run every time.
    for seed in FOUND_DEFECTS {
        if let Err(report) = run_seed(*seed) {
            panic!("seed {seed} (it found a defect once) failed:\n  {report}");
        }
    }
    let first = var("HERALD_SIM_FIRST").unwrap_or(0);
    let at_least = var("HERALD_SIM_SEEDS").unwrap_or(500);
    let budget = Duration::from_secs(var("HERALD_SIM_SECS").unwrap_or(60));
    let began = WallInstant::now();
    let mut seed = first;
    while seed - first < at_least || (began.elapsed() < budget && var("HERALD_SIM_SEEDS").is_none())
    {
        if let Err(report) = run_seed(seed) {
            panic!(
                "seed {seed} failed:\n  {report}\nreplay: HERALD_SIM_SEED={seed} cargo test --test delivery_simulation"
            );
        }
        seed += 1;
    }
    let secs = began.elapsed().as_secs_f64();
    let done = seed - first;
    let rate = done as f64 / secs;
    println!(
        "delivery simulation: {done} seeds ({first}..{seed}) in {secs:.1} s, {rate:.0} seeds/s; \
         {} posts sent without a notification, {} edits inside a hold window, {} digest messages \
         edited ({} earlier copies split anew); posts set aside: {} alerts to an admin, {} given \
         up after failed tries; {} answers to admin commands",
        SILENCED.load(Ordering::Relaxed),
        EDITS_IN_HOLD.load(Ordering::Relaxed),
        DIGEST_EDITS.load(Ordering::Relaxed),
        DIGESTS_RETEXTED.load(Ordering::Relaxed),
        ALERTS_TOLD.load(Ordering::Relaxed),
        ALERTS_GIVEN_UP.load(Ordering::Relaxed),
        ANSWERS.load(Ordering::Relaxed)
    );
    // For the bench suite's table (benches/run.sh).
    println!(
        "RESULT|simulation: seeds without a failure|{done}|-|-|>= 100000|{}",
        if done >= 100_000 { "met" } else { "info" }
    );
    println!("RESULT|simulation: seeds per second|{rate:.0}|-|-|-|info");
}
