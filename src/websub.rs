//! WebSub publishing (W3C WebSub): when `[server] websub_hub` is set, the plain feeds advertise
//! the hub (see `render`), and herald tells the hub which feed URLs (topics, their self links)
//! changed, so that subscribed readers fetch them within seconds: after a poll stores new or
//! corrected items, after a config edit that may change what a feed shows, and for every feed
//! once at each start.
//!
//! The Recommendation leaves the publisher-to-hub call to each hub; the common form, which
//! pubsubhubbub.appspot.com and Superfeedr accept, is a form-encoded `POST` of `hub.mode=publish`
//! and `hub.url={topic}`. Pings are best effort and fully in the background: a queue of changed
//! topics (a set, so a burst of polls pings each feed once) drained by one task, each ping with a
//! timeout and a few retries with backoff. A slow or failing hub delays nothing else.
//!
//! Nothing is dropped: the queue is kept in the store too (as feed paths, read against the
//! `public_url` of the moment) until the hub took the ping; a topic the hub still refused after
//! its retries stays there, is shown in `/healthz` and `/metrics`, and is tried again after a
//! wait that grows up to an hour. A change noted just before a stop, or one the store never
//! heard of (a kill between a poll's write and the note), is covered by the pings of every feed
//! at the next start: a hub takes a ping of an unchanged feed at the cost of one fetch.

use crate::config::{Config, LiveConfig, TranslationGroup};
use crate::store::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How pings are made.
#[derive(Clone, Debug)]
pub struct PingOptions {
    /// How long one request to the hub may take.
    pub timeout: Duration,
    /// Requests per topic before it is left for later (the first included).
    pub attempts: u32,
    /// The wait after the first failure; it doubles after each further one.
    pub first_backoff: Duration,
    /// The wait before the topics the hub refused are tried again; it doubles after each round
    /// the hub still refuses, up to [`RETRY_LATER_MAX`].
    pub retry_later: Duration,
}

impl Default for PingOptions {
    fn default() -> Self {
        PingOptions {
            timeout: Duration::from_secs(10),
            attempts: 4,
            first_backoff: Duration::from_secs(5),
            retry_later: Duration::from_secs(60),
        }
    }
}

/// Feeds taken from the after-start set per round, after the news.
const BACKGROUND_ROUND: usize = 32;

/// The feeds of the next round: every changed one, then feeds pinged after start to make up
/// [`BACKGROUND_ROUND`] (news never waits behind every feed of a large config).
fn next_round(
    pending: &mut BTreeSet<String>,
    background: &mut BTreeSet<String>,
) -> BTreeSet<String> {
    let mut round = std::mem::take(pending);
    while round.len() < BACKGROUND_ROUND {
        let Some(path) = background.pop_first() else {
            break;
        };
        round.insert(path);
    }
    round
}

/// The longest wait between two rounds of the topics a hub refused.
pub const RETRY_LATER_MAX: Duration = Duration::from_secs(3600);

/// The feed URLs (WebSub topics, the feeds' self links) that change with `source`'s items: its
/// three formats, and the merged `all` feed's, written as the documents write their self links.
pub fn topics(public_url: &str, source: &str) -> Vec<String> {
    paths(source)
        .into_iter()
        .map(|path| topic(public_url, &path))
        .collect()
}

/// The topic of the feed at `path` ("/feeds/x.rss") under `public_url`: its self link, byte for
/// byte as the document writes it (`render::uri_safe` of the same address), so that a reader
/// subscribed to the self link hears of every ping. Every ping's topic is made here.
pub fn topic(public_url: &str, path: &str) -> String {
    crate::render::uri_safe(&format!("{public_url}{path}"))
}

/// The paths of those feeds under `public_url`.
fn paths(source: &str) -> Vec<String> {
    [source, "all"]
        .iter()
        .flat_map(|id| {
            ["rss", "atom", "json"]
                .iter()
                .map(move |ext| format!("/feeds/{id}.{ext}"))
        })
        .collect()
}

/// Every feed of `config`: each source's and `all`'s.
fn every_path(config: &Config) -> BTreeSet<String> {
    config
        .sources
        .iter()
        .flat_map(|s| paths(&s.id))
        .chain(paths("all"))
        .collect()
}

/// The feeds whose documents an edit from `old` to `new` may change, to be pinged after the
/// reload (none without a hub):
/// - every feed (those of removed sources too) when `[general]`, `[server]` or `[telegram]`
///   changed: `public_url` changes every self link, and a new hub has heard of no feed;
/// - a source's feeds and `all`'s when the source's table or what it inherits changed (title,
///   `max_items`, schedule, …), when it was added or removed (its feed is gone now), or when
///   its translation group changed;
/// - none when only channel entries changed: no feed shows them.
pub fn reload_paths(old: &Config, new: &Config) -> BTreeSet<String> {
    if new.server.websub_hub.is_none() {
        return BTreeSet::new();
    }
    let ids: BTreeSet<&str> = old
        .sources
        .iter()
        .chain(&new.sources)
        .map(|s| s.id.as_str())
        .collect();
    let everything = old.texts.rest != new.texts.rest
        || old.server.websub_hub != new.server.websub_hub
        || old.general.public_url != new.general.public_url;
    let changed = |id: &str| {
        everything
            || old.source(id).is_none()
            || new.source(id).is_none()
            || old.texts.sources.get(id) != new.texts.sources.get(id)
            || group_of(old, id) != group_of(new, id)
    };
    ids.into_iter()
        .filter(|id| changed(id))
        .flat_map(paths)
        .collect()
}

/// The translation group `id` belongs to, if any.
fn group_of<'c>(config: &'c Config, id: &str) -> Option<&'c TranslationGroup> {
    config
        .translations
        .iter()
        .find(|g| g.sources.iter().any(|s| s == id))
}

/// What `/healthz` shows of the pings when a hub is configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// Feeds the hub refused (or never answered for) after every attempt: still to ping.
    pub undelivered: usize,
    /// The newest failure, with its topic.
    pub last_error: Option<String>,
}

/// Queues and sends pings to the configured hub.
pub struct Publisher {
    config: Arc<LiveConfig>,
    /// Follows no redirect: a ping counts only when the hub took that `POST` ([`Publisher::ping`]).
    client: reqwest::Client,
    options: PingOptions,
    /// Where the queue is kept across a stop (none in tests of the parts).
    store: Option<Store>,
    /// Feeds (paths) changed since the worker last looked.
    pending: Mutex<BTreeSet<String>>,
    /// Feeds pinged once after start whatever changed ([`Publisher::run`]): taken a few at a
    /// time after what `pending` holds, so that news never waits behind every feed of a large
    /// config.
    background: Mutex<BTreeSet<String>>,
    /// Feeds (paths) the hub did not take after every attempt, with the last failure: kept in
    /// the store and tried again later.
    undelivered: Mutex<BTreeMap<String, String>>,
    /// The newest failure of a ping (shown while some feed is undelivered).
    last_error: Mutex<Option<String>>,
    /// Rounds the worker has started (each wake-up that looks at the queue): a worker with
    /// nothing it can do starts none.
    rounds: AtomicU64,
    wake: Notify,
    /// How the admins are told that the hub keeps refusing, and that it takes pings again
    /// (the app's alerts; none without Telegram).
    tell: std::sync::OnceLock<Box<dyn Fn(String) + Send + Sync>>,
}

/// Rounds in a row the hub refused before the admins are told (with `retry_later`'s doubling,
/// some seven minutes at the default): a hub that is down a moment is no news, one that stays
/// down makes every reader relying on it hear of releases late.
const TELL_AFTER_ROUNDS: u32 = 3;

/// Redirects a ping follows (307 and 308 only, each a new `POST` of the same form).
const MAX_REDIRECTS: usize = 3;

/// Why one ping failed.
#[derive(Debug, thiserror::Error)]
enum PingError {
    /// No answer in time, or no connection.
    #[error("hub unreachable: {0}")]
    Network(String),
    /// The hub answered with an error status.
    #[error("hub answered {0}")]
    Status(u16),
    /// The hub asked herald to slow down (429), for `Retry-After` if it said.
    #[error("hub answered 429 (too many requests){}", .0.map(|d| format!(", retry after {} s", d.as_secs())).unwrap_or_default())]
    Busy(Option<Duration>),
    /// The hub's address answers with a redirect a `POST` may not follow (301, 302, 303), or
    /// too many of them: the form would be lost, so `websub_hub` must name where it points.
    #[error(
        "hub answered {status} redirecting to {location}: set websub_hub to the address that takes the POST"
    )]
    Redirect { status: u16, location: String },
    /// A config edit removed or changed the hub while the ping was being retried.
    #[error("the hub was changed by a config edit")]
    HubChanged,
}

impl PingError {
    /// Whether the hub failed as a whole (no answer, a server error, a redirect of its own
    /// address, or a request to slow down), not the one feed.
    fn is_the_hubs(&self) -> bool {
        match self {
            PingError::Network(_) | PingError::Busy(_) | PingError::Redirect { .. } => true,
            PingError::Status(status) => *status >= 500,
            PingError::HubChanged => false,
        }
    }

    /// Whether another attempt in the same round may help: no answer, a server error, a
    /// request timeout (408). A refusal of the feed (another 4xx), a redirect or a 429 is not
    /// tried again before the next round.
    fn worth_retrying_now(&self) -> bool {
        match self {
            PingError::Network(_) => true,
            PingError::Status(status) => *status >= 500 || *status == 408,
            PingError::Busy(_) | PingError::Redirect { .. } | PingError::HubChanged => false,
        }
    }
}

/// The hub's address as logs show it: without its user name and password.
fn shown(hub: &url::Url) -> String {
    crate::text::address_without_userinfo(hub.as_str()).into_owned()
}

/// A `Retry-After` value (seconds, or an HTTP date), as a wait from now.
fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// Locks `m`; a panic while it was held leaves a set that is still whole.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Publisher {
    pub fn new(
        config: Arc<LiveConfig>,
        user_agent: &str,
        options: PingOptions,
        store: Option<Store>,
    ) -> Publisher {
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Publisher {
            config,
            client,
            options,
            store,
            pending: Mutex::new(BTreeSet::new()),
            background: Mutex::new(BTreeSet::new()),
            undelivered: Mutex::new(BTreeMap::new()),
            last_error: Mutex::new(None),
            rounds: AtomicU64::new(0),
            wake: Notify::new(),
            tell: std::sync::OnceLock::new(),
        }
    }

    /// Tells the admins through `tell` when the hub keeps refusing pings (after
    /// [`TELL_AFTER_ROUNDS`] rounds in a row) and once more when it takes them again. Set once.
    pub fn report_to(&self, tell: impl Fn(String) + Send + Sync + 'static) {
        let _ = self.tell.set(Box::new(tell));
    }

    fn tell_admins(&self, text: String) {
        match self.tell.get() {
            Some(tell) => tell(text),
            None => tracing::debug!(%text, "no admins to tell"),
        }
    }

    /// Rounds the worker has started since it was made (each time it woke and looked at the
    /// queue).
    pub fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::Relaxed)
    }

    /// Notes that the feeds of these sources changed; returns at once. Nothing is queued when
    /// no hub is configured.
    pub fn changed<'s>(&self, sources: impl IntoIterator<Item = &'s str>) {
        self.queue(sources.into_iter().flat_map(paths).collect());
    }

    /// Notes the feeds a config edit from `old` to `new` may change ([`reload_paths`]); to be
    /// called once `new` is the running config.
    pub fn reloaded(&self, old: &Config, new: &Config) {
        let changed = reload_paths(old, new);
        if !changed.is_empty() {
            tracing::info!(
                topics = changed.len(),
                "the config edit changes feeds: the WebSub hub is pinged for them"
            );
        }
        self.queue(changed);
        if new.server.websub_hub.is_none() && old.server.websub_hub.is_some() {
            // The worker drops what it holds and waits, idle, for a hub.
            self.wake.notify_one();
        }
    }

    /// Queues `changed` (kept in the store until pinged) and wakes the worker.
    fn queue(&self, changed: BTreeSet<String>) {
        if changed.is_empty() || self.config.get().server.websub_hub.is_none() {
            return;
        }
        if let Some(store) = &self.store {
            let listed: Vec<String> = changed.iter().cloned().collect();
            if let Err(e) = store.websub_pending_add(&listed) {
                tracing::warn!(error = %e, "WebSub pings could not be noted in the store; the next start pings every feed");
            }
        }
        lock(&self.pending).extend(changed);
        // A stored permit: a change noted while the worker is busy is seen when it is back.
        self.wake.notify_one();
    }

    /// The state of the pings for `/healthz`; `None` without a hub.
    pub fn health(&self) -> Option<Health> {
        self.config.get().server.websub_hub.as_ref()?;
        let undelivered = lock(&self.undelivered).len();
        Some(Health {
            undelivered,
            last_error: if undelivered == 0 {
                None
            } else {
                lock(&self.last_error).clone()
            },
        })
    }

    /// Notes that `path`'s ping failed with `failure` (the newest failure).
    fn note_failure(&self, path: String, failure: String) {
        lock(&self.undelivered).insert(path, failure.clone());
        *lock(&self.last_error) = Some(failure);
    }

    /// Without a hub there is nothing to do: the worker forgets its queue (the store keeps
    /// every ping not made, for the next start with a hub; a hub set again by a config edit
    /// has every feed pinged anyway) and waits.
    fn forget_queue(&self) {
        lock(&self.pending).clear();
        lock(&self.background).clear();
        lock(&self.undelivered).clear();
        *lock(&self.last_error) = None;
    }

    /// The worker: sends the queued pings, one topic after another, until `stop`. Without a
    /// hub it waits for one (a config edit), doing nothing.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let kept = self
            .store
            .as_ref()
            .map(Store::websub_pending)
            .transpose()
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the WebSub pings pending at the last stop could not be read");
                None
            })
            .unwrap_or_default();
        // Every feed once at each start (or restart of this task), and what was pending.
        let config = self.config.get();
        if config.server.websub_hub.is_some() {
            let all = every_path(&config);
            tracing::info!(
                topics = all.len(),
                "the WebSub hub is pinged for every feed once after start"
            );
            lock(&self.pending).extend(kept);
            lock(&self.background).extend(all);
            self.wake.notify_one();
        }
        // When the refused topics are tried again, and how many rounds in a row the hub refused.
        let mut retry_at: Option<Instant> = None;
        let mut refused_rounds: u32 = 0;
        // The admins were told the hub keeps refusing: they hear when it takes pings again.
        let mut told = false;
        // The hub of the last round: a new one starts with a clean slate.
        let mut last_hub: Option<url::Url> = None;
        // Until when the hub asked not to be pinged (a 429's `Retry-After`).
        let mut quiet_until: Option<Instant> = None;
        // The hub failed as a whole: the first ping it takes again brings every undelivered
        // topic back at once, rather than at the retry timer.
        let mut hub_down = false;
        loop {
            let retry = async move {
                match retry_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.wake.notified() => {}
                () = retry => {
                    retry_at = None;
                    let again: Vec<String> = lock(&self.undelivered).keys().cloned().collect();
                    tracing::info!(topics = again.len(), "the WebSub pings the hub refused are tried again");
                    // A few a round, after any news (they are kept in the store meanwhile).
                    lock(&self.background).extend(again);
                }
            }
            self.rounds.fetch_add(1, Ordering::Relaxed);
            let config = self.config.get();
            let Some(hub) = config.server.websub_hub.clone() else {
                // Nothing can be done until a config edit sets a hub: no timer, no wake-up.
                self.forget_queue();
                (
                    retry_at,
                    refused_rounds,
                    told,
                    last_hub,
                    quiet_until,
                    hub_down,
                ) = (None, 0, false, None, None, false);
                continue;
            };
            if last_hub.as_ref() != Some(&hub) {
                if last_hub.is_some() {
                    // A new hub: what the old one refused says nothing of it (every feed is
                    // queued for it by the edit).
                    lock(&self.undelivered).clear();
                    (retry_at, refused_rounds, told, quiet_until, hub_down) =
                        (None, 0, false, None, false);
                }
                last_hub = Some(hub.clone());
            }
            if let Some(until) = quiet_until.filter(|until| Instant::now() < *until) {
                // The hub asked for quiet: what is queued waits for the retry (set no earlier
                // than `until`), kept in the store.
                let waiting: Vec<String> = {
                    let (mut pending, mut background) =
                        (lock(&self.pending), lock(&self.background));
                    let mut all = std::mem::take(&mut *pending);
                    all.append(&mut background);
                    all.into_iter().collect()
                };
                let mut undelivered = lock(&self.undelivered);
                for path in waiting {
                    self.keep(&path);
                    undelivered
                        .entry(path)
                        .or_insert_with(|| "not tried: the hub asked to wait (429)".to_owned());
                }
                let at = retry_at.map_or(until, |at| at.max(until));
                retry_at = Some(at);
                continue;
            }
            let mut batch = {
                let (mut pending, mut background) = (lock(&self.pending), lock(&self.background));
                let round = next_round(&mut pending, &mut background);
                if !background.is_empty() {
                    // More after this round, without waiting for news.
                    self.wake.notify_one();
                }
                round
            }
            .into_iter();
            let mut refused = false;
            // Feeds in a row the hub failed on as a whole (no answer, or a 5xx): two such mean
            // the hub is down, not that it refuses one feed.
            let mut hub_failures = 0;
            // The hub's `Retry-After`, when it answered 429.
            let mut busy: Option<Duration> = None;
            while let Some(path) = batch.next() {
                // Read for each topic: a hub removed or changed by a config edit applies at once.
                let config = self.config.get();
                if config.server.websub_hub.as_ref() != Some(&hub) {
                    // The next round sees the edit (and waits without a hub).
                    let mut pending = lock(&self.pending);
                    pending.insert(path);
                    pending.extend(batch.by_ref());
                    self.wake.notify_one();
                    break;
                }
                let topic = topic(&config.general.public_url, &path);
                let result = tokio::select! {
                    // What is left stays in the store for the next start.
                    () = stop.cancelled() => return,
                    result = self.ping_with_retries(&hub, &topic) => result,
                };
                match result {
                    Ok(()) => {
                        lock(&self.undelivered).remove(&path);
                        self.forget(&path);
                        hub_failures = 0;
                        if std::mem::take(&mut hub_down) {
                            // The hub is back: what it failed on is tried now, after this round.
                            let again: Vec<String> =
                                lock(&self.undelivered).keys().cloned().collect();
                            lock(&self.background).extend(again);
                            retry_at = None;
                        }
                    }
                    Err(PingError::HubChanged) => {
                        let mut pending = lock(&self.pending);
                        pending.insert(path);
                        pending.extend(batch.by_ref());
                        self.wake.notify_one();
                        break;
                    }
                    Err(e) => {
                        refused = true;
                        self.keep(&path);
                        hub_failures = if e.is_the_hubs() { hub_failures + 1 } else { 0 };
                        if let PingError::Busy(after) = e {
                            busy = Some(after.unwrap_or_default().min(RETRY_LATER_MAX));
                        }
                        let failure = format!("{topic}: {e}");
                        self.note_failure(path, failure.clone());
                        if hub_failures >= 2 || busy.is_some() {
                            // The hub is down (or asked for quiet): the rest of the round, and
                            // the feeds pinged after start, wait for the next round without a
                            // request each (a hub that is down would take every attempt and
                            // backoff of every feed). A hub that refuses one feed holds back
                            // no other.
                            hub_down = true;
                            let rest: Vec<String> = batch.by_ref().collect();
                            let after_start = std::mem::take(&mut *lock(&self.background));
                            let mut undelivered = lock(&self.undelivered);
                            for later in rest {
                                self.keep(&later);
                                undelivered.insert(later, format!("not tried: {failure}"));
                            }
                            for later in after_start {
                                undelivered
                                    .entry(later)
                                    .or_insert_with(|| format!("not tried: {failure}"));
                            }
                        }
                    }
                }
            }
            if !lock(&self.background).is_empty() {
                self.wake.notify_one();
            }
            if let Some(after) = busy {
                quiet_until = Some(Instant::now() + after);
            }
            if lock(&self.undelivered).is_empty() {
                (retry_at, refused_rounds) = (None, 0);
                if std::mem::take(&mut told) {
                    self.tell_admins(
                        "✅ herald: the WebSub hub takes feed pings again.".to_owned(),
                    );
                }
            } else if refused && retry_at.is_none() {
                refused_rounds = refused_rounds.saturating_add(1);
                let wait = self
                    .retry_wait(refused_rounds)
                    .max(busy.unwrap_or_default());
                retry_at = Some(Instant::now() + wait);
                if refused_rounds >= TELL_AFTER_ROUNDS && !told {
                    told = true;
                    let count = lock(&self.undelivered).len();
                    let last = lock(&self.last_error).clone();
                    self.tell_admins(format!(
                        "⚠️ herald: the WebSub hub has refused the pings of {count} feed(s) {refused_rounds} rounds in a row ({}): readers that wait for the hub hear of new releases late. herald keeps trying.",
                        last.unwrap_or_default()
                    ));
                }
            } else if let (Some(after), Some(at)) = (busy, retry_at) {
                // A retry already set waits at least as long as the hub asked.
                retry_at = Some(at.max(Instant::now() + after));
            }
        }
    }

    /// The wait before the `rounds`-th retry of the refused topics: `retry_later`, doubling.
    fn retry_wait(&self, rounds: u32) -> Duration {
        let doublings = rounds.saturating_sub(1).min(16);
        self.options
            .retry_later
            .saturating_mul(1 << doublings)
            .min(RETRY_LATER_MAX)
    }

    /// Notes a feed the hub refused in the store (a ping of every feed at start is not noted
    /// there before it is made), so that the store holds every ping still to make.
    fn keep(&self, path: &str) {
        if let Some(store) = &self.store
            && let Err(e) = store.websub_pending_add(&[path.to_owned()])
        {
            tracing::warn!(error = %e, path, "a refused WebSub ping could not be noted in the store; the next start pings every feed");
        }
    }

    /// Takes a pinged feed out of the store, unless it changed again meanwhile.
    fn forget(&self, path: &str) {
        let again = lock(&self.pending).contains(path);
        if let (Some(store), false) = (&self.store, again)
            && let Err(e) = store.websub_pinged(path)
        {
            tracing::warn!(error = %e, path, "a WebSub ping could not be marked made; it may be made again after a restart");
        }
    }

    /// Pings `hub` for `topic`, again after a backoff while the failure may pass (no answer, a
    /// 5xx, a 408) and the config still names `hub`.
    async fn ping_with_retries(&self, hub: &url::Url, topic: &str) -> Result<(), PingError> {
        let mut wait = self.options.first_backoff;
        let attempts = self.options.attempts.max(1);
        let mut attempt = 1;
        let shown = shown(hub);
        loop {
            match self.ping(hub, topic).await {
                Ok(()) => {
                    metrics::counter!("herald_websub_pings_total", "result" => "ok").increment(1);
                    tracing::debug!(hub = %shown, topic, "hub pinged");
                    return Ok(());
                }
                Err(e) if attempt < attempts && e.worth_retrying_now() => {
                    metrics::counter!("herald_websub_retries_total").increment(1);
                    tracing::debug!(hub = %shown, topic, attempt, error = %e, "hub ping failed; retrying");
                    tokio::time::sleep(wait).await;
                    if self.config.get().server.websub_hub.as_ref() != Some(hub) {
                        return Err(PingError::HubChanged);
                    }
                    wait = wait.saturating_mul(2);
                    attempt += 1;
                }
                Err(e) => {
                    metrics::counter!("herald_websub_pings_total", "result" => "failed")
                        .increment(1);
                    tracing::warn!(hub = %shown, topic, attempts = attempt, error = %e, "hub ping failed; kept, and tried again later (readers still poll the feed)");
                    return Err(e);
                }
            }
        }
    }

    /// One ping: a `POST` of the form to `hub`, made again to the new address on a 307 or 308
    /// (a few times at most). Taken only when the hub answered 2xx to that `POST`: another
    /// redirect would turn it into a `GET` without the form, whose page says nothing.
    async fn ping(&self, hub: &url::Url, topic: &str) -> Result<(), PingError> {
        let mut target = hub.clone();
        for _ in 0..=MAX_REDIRECTS {
            let answer = self
                .client
                .post(target.clone())
                .form(&[("hub.mode", "publish"), ("hub.url", topic)])
                .send()
                .await
                // Without the URL: only the hub's, but the kind of failure is what matters.
                .map_err(|e| PingError::Network(e.without_url().to_string()))?;
            let status = answer.status();
            if status.is_success() {
                return Ok(());
            }
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                let after = answer
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(retry_after);
                return Err(PingError::Busy(after));
            }
            if !status.is_redirection() {
                return Err(PingError::Status(status.as_u16()));
            }
            let location = answer
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| target.join(v).ok());
            let Some(location) = location else {
                return Err(PingError::Status(status.as_u16()));
            };
            let followed = matches!(status.as_u16(), 307 | 308);
            if !followed {
                return Err(PingError::Redirect {
                    status: status.as_u16(),
                    location: shown(&location),
                });
            }
            target = location;
        }
        Err(PingError::Redirect {
            status: 307,
            location: format!("{} (more than {MAX_REDIRECTS} redirects)", shown(&target)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_the_feed_self_links() {
        assert_eq!(
            topics("http://h:8080", "akorda-en"),
            [
                "http://h:8080/feeds/akorda-en.rss",
                "http://h:8080/feeds/akorda-en.atom",
                "http://h:8080/feeds/akorda-en.json",
                "http://h:8080/feeds/all.rss",
                "http://h:8080/feeds/all.atom",
                "http://h:8080/feeds/all.json",
            ]
        );
        // A public_url whose path holds characters a URI may not: as the self link writes them.
        assert_eq!(
            topics("http://h:8080/a|b", "x")[0],
            crate::render::uri_safe("http://h:8080/a|b/feeds/x.rss")
        );
        assert_eq!(
            topics("http://h:8080/a|b", "x")[0],
            "http://h:8080/a%7Cb/feeds/x.rss"
        );
    }

    fn parse(text: &str) -> Config {
        crate::config::parse(
            std::path::Path::new("c.toml"),
            text,
            std::path::Path::new("/tmp"),
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn source(id: &str, lang: &str, extra: &str) -> String {
        format!(
            "[[sources]]\nid = \"{id}\"\nurl = \"https://e.org/{id}\"\n\
             schedule = \"0 0 * * * *\"\nkind = \"feed\"\nlanguage = \"{lang}\"\n{extra}\n"
        )
    }

    const HUB: &str = "[server]\nwebsub_hub = \"https://hub.example/\"\n";

    /// The three sources a, b, c under `head` (`[general]`/`[server]`), with `b_extra` in b's
    /// table and `tail` after them.
    fn config(head: &str, b_extra: &str, tail: &str) -> Config {
        parse(&format!(
            "{head}{}{}{}{tail}",
            source("a", "en", ""),
            source("b", "ru", b_extra),
            source("c", "kk", "")
        ))
    }

    fn feeds_of(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().flat_map(|id| paths(id)).collect()
    }

    const CHANNEL: &str = "[telegram]\n[[channels]]\nid = \"x\"\nchat = \"@x\"\n";

    /// Issue 25: an edit that changes what a feed shows pings that feed; an edit no feed shows
    /// pings none.
    #[rstest::rstest]
    #[case::nothing(config(HUB, "", ""), vec![])]
    #[case::title(config(HUB, "title = \"B\"", ""), vec!["b", "all"])]
    #[case::max_items(config(HUB, "max_items = 5", ""), vec!["b", "all"])]
    #[case::removed(parse(&format!("{HUB}{}{}", source("a", "en", ""), source("c", "kk", ""))), vec!["b", "all"])]
    #[case::added(config(HUB, "", &source("d", "de", "")), vec!["d", "all"])]
    #[case::translations(config(HUB, "", "[[translations]]\nsources = [\"a\", \"b\"]\n"), vec!["a", "b", "all"])]
    #[case::public_url(config(&format!("[general]\npublic_url = \"https://feeds.example\"\n{HUB}"), "", ""), vec!["a", "b", "c", "all"])]
    #[case::hub_changed(config("[server]\nwebsub_hub = \"https://other.example/\"\n", "", ""), vec!["a", "b", "c", "all"])]
    #[case::hub_removed(config("", "", ""), vec![])]
    fn a_reload_pings_the_feeds_it_changes(#[case] new: Config, #[case] feeds: Vec<&str>) {
        let old = config(HUB, "", "");
        assert_eq!(reload_paths(&old, &new), feeds_of(&feeds));
    }

    #[test]
    fn a_new_hub_hears_of_every_feed() {
        let old = config("", "", "");
        let new = config(HUB, "", "");
        assert_eq!(reload_paths(&old, &new), feeds_of(&["a", "b", "c", "all"]));
    }

    #[test]
    fn a_channel_edit_pings_no_feed() {
        let old = config(HUB, "", CHANNEL);
        let new = config(
            HUB,
            "",
            &format!("{CHANNEL}quiet_hours = \"22:00-07:00\"\n"),
        );
        assert_ne!(old.texts.channels, new.texts.channels);
        assert_eq!(reload_paths(&old, &new), BTreeSet::new());
    }

    /// The refused topics wait `retry_later`, doubling each round, up to an hour.
    #[test]
    fn news_goes_first_and_the_after_start_feeds_a_few_at_a_time() {
        let paths = |range: std::ops::Range<usize>| -> BTreeSet<String> {
            range.map(|i| format!("/feeds/s{i:04}.rss")).collect()
        };
        let mut background = paths(0..3000);
        let mut pending: BTreeSet<String> = ["/feeds/news.rss".to_owned()].into();
        let round = next_round(&mut pending, &mut background);
        assert!(round.contains("/feeds/news.rss"));
        assert_eq!(round.len(), BACKGROUND_ROUND);
        assert!(pending.is_empty());
        assert_eq!(background.len(), 3000 - (BACKGROUND_ROUND - 1));
        // Much news: all of it, and nothing more this round.
        let mut pending = paths(5000..5100);
        let round = next_round(&mut pending, &mut background);
        assert_eq!(round, paths(5000..5100));
        assert_eq!(background.len(), 3000 - (BACKGROUND_ROUND - 1));
    }

    /// What is logged while `f` runs, at every level.
    #[derive(Clone, Default)]
    struct Logs(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Logs {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            lock(&self.0).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The hub's user name and password are never logged: the hub shows without them.
    #[tokio::test]
    async fn the_hubs_credentials_are_not_logged() {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        // Nothing listens on port 1: every attempt fails at once.
        let hub = "http://hubuser:hubsecret@127.0.0.1:1/hub";
        let head = format!("[server]\nwebsub_hub = \"{hub}\"\n");
        let config = Arc::new(LiveConfig::new(config(&head, "", "")));
        let options = PingOptions {
            attempts: 2,
            first_backoff: Duration::from_millis(1),
            ..PingOptions::default()
        };
        let publisher = Publisher::new(config, "t", options, None);
        let hub = url::Url::parse(hub).unwrap();
        let result = publisher
            .ping_with_retries(&hub, "http://h/feeds/a.rss")
            .await;
        assert!(result.is_err());
        let text = String::from_utf8(lock(&logs.0).clone()).unwrap();
        assert!(text.contains("retrying"), "{text}");
        assert!(text.contains("hub ping failed; kept"), "{text}");
        assert!(text.contains("hub=http://127.0.0.1:1/hub"), "{text}");
        assert!(
            !text.contains("hubsecret") && !text.contains("hubuser"),
            "{text}"
        );
    }

    #[test]
    fn retry_after_is_read_in_seconds_or_as_a_date() {
        assert_eq!(retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(90));
        let wait = retry_after(&later).unwrap();
        assert!(
            wait > Duration::from_secs(85) && wait <= Duration::from_secs(90),
            "{wait:?}"
        );
        assert_eq!(retry_after("soon"), None);
    }

    #[test]
    fn refused_topics_wait_longer_each_round() {
        let config = Arc::new(LiveConfig::new(config(HUB, "", "")));
        let publisher = Publisher::new(config, "t", PingOptions::default(), None);
        let wait = |n| publisher.retry_wait(n).as_secs();
        assert_eq!([wait(1), wait(2), wait(3)], [60, 120, 240]);
        assert_eq!(wait(7), 3600);
        assert_eq!(wait(u32::MAX), 3600);
    }
}
