//! What the running parts share: the live config, the store, the fetcher, the Telegram workers
//! and alerts, the WebSub publisher, and the state the server reports (which feeds changed, when
//! each source polls next, whether Telegram refuses the bot). Built by `app`, read by `server`
//! and the admin commands.

use crate::config::LiveConfig;
use crate::fetch::Fetcher;
use crate::store::Store;
use crate::telegram::admin::Alerts;
use crate::telegram::deliver::Deliverer;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What the running parts share.
pub struct Shared {
    pub config: Arc<LiveConfig>,
    pub store: Store,
    pub fetcher: Fetcher,
    /// Which changes cached feed documents have seen (per source, and the config's).
    pub versions: FeedVersions,
    pub started: DateTime<Utc>,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Telegram delivery, when a token is set.
    pub telegram: Option<Arc<Deliverer>>,
    pub alerts: Option<Arc<Alerts>>,
    /// Wakes the delivery workers when a poll queued something.
    pub wake: Arc<Notify>,
    /// Cancelled when the database can no longer write (sled keeps failing after an I/O error
    /// until it is reopened): `run` then stops with an error, for its supervisor to restart it.
    pub broken_store: CancellationToken,
    /// Pings the WebSub hub (if one is configured) when feeds change.
    pub websub: Arc<crate::websub::Publisher>,
    /// One poll of a source at a time, whoever asks (its schedule, `/poll`).
    pub(crate) polling: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// When each source's task polls next (see [`NextPoll`]).
    pub(crate) next_polls: std::sync::Mutex<HashMap<String, NextPoll>>,
    pub(crate) first_poll_window: Option<Duration>,
    /// The bot the admin commands are read and answered with (a longer client timeout).
    pub(crate) admin_bot: Option<teloxide::Bot>,
    /// Why Telegram refuses the bot as a whole (a wrong token), while it does.
    pub(crate) telegram_refused: std::sync::Mutex<Option<String>>,
    /// Whether the config file on disk is the running config (see [`ConfigHealth`]).
    pub(crate) config_health: std::sync::Mutex<ConfigHealth>,
}

/// When a source's task polls next, on both clocks: the wall-clock instant it announced
/// (`None`: its schedule names no future instant), and the monotonic instant its wait ends by
/// at the latest (a wall clock set back does not put the wait off; set forward, it ends
/// sooner). A task that lets that instant pass by far is stuck, or keeps stopping before it
/// polls: `/healthz` says so ([`Shared::poll_overdue`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct NextPoll {
    at: Option<DateTime<Utc>>,
    due: Option<Instant>,
}

impl NextPoll {
    /// The poll at `at`, announced when the clocks read `wall` and `mono`.
    fn new(at: Option<DateTime<Utc>>, wall: DateTime<Utc>, mono: Instant) -> NextPoll {
        let due = at.and_then(|at| mono.checked_add((at - wall).to_std().unwrap_or_default()));
        NextPoll { at, due }
    }

    /// How long past `grace` after its due instant the poll has not started at `now`.
    fn overdue(&self, now: Instant, grace: Duration) -> Option<Duration> {
        now.checked_duration_since(self.due?.checked_add(grace)?)
            .filter(|late| !late.is_zero())
    }
}

/// Whether the config file on disk is what herald runs: an edit refused (a typo) leaves the
/// running config in place, and `/healthz` and `/metrics` say so until the file is good again.
#[derive(Clone, Debug, Default)]
pub struct ConfigHealth {
    /// The problems of the file on disk while it is refused (`check`'s lines); empty when
    /// the running config is the file's.
    pub problems: Vec<String>,
    /// When the file was last refused, or last taken (at start or by a reload).
    pub at: Option<DateTime<Utc>>,
    /// When the file was last taken as the running config (at start or by a reload).
    pub last_success: Option<DateTime<Utc>>,
}

impl Shared {
    /// When `source` is polled next by its schedule (or its first poll after start); `None`
    /// when no task has said yet or its schedule has no future instant.
    pub fn next_poll(&self, source: &str) -> Option<DateTime<Utc>> {
        self.next_polls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(source)
            .and_then(|next| next.at)
    }

    /// How long the poll `source`'s task is due to start has been waited for past `grace`
    /// (on the monotonic clock); `None` while it is on time, when no poll is due (a schedule
    /// without a future instant), or for a source no task was started for.
    pub fn poll_overdue(&self, source: &str, grace: Duration) -> Option<Duration> {
        self.next_polls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(source)?
            .overdue(Instant::now(), grace)
    }

    /// Why Telegram refuses the bot token, while it does (`/healthz` says so).
    pub fn telegram_refused(&self) -> Option<String> {
        self.telegram_refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Records whether Telegram refuses the bot token; answers whether that changed.
    pub fn set_telegram_refused(&self, why: Option<String>) -> bool {
        let mut refused = self
            .telegram_refused
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let changed = *refused != why;
        *refused = why;
        changed
    }

    /// What `/healthz` says of the config file (see [`ConfigHealth`]).
    pub fn config_health(&self) -> ConfigHealth {
        self.config_health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The config file was read into the running config (at start, or a reload that found it
    /// good, changed or not).
    pub(crate) fn config_taken(&self) {
        let now = Utc::now();
        let mut health = self.config_health.lock().unwrap_or_else(|p| p.into_inner());
        *health = ConfigHealth {
            problems: Vec::new(),
            at: Some(now),
            last_success: Some(now),
        };
        metrics::gauge!("herald_config_last_reload_success_timestamp_seconds")
            .set(now.timestamp() as f64);
        metrics::gauge!("herald_config_refused").set(0.0);
    }

    /// An edit of the config file was refused with `problems`; the running config stays.
    pub(crate) fn config_refused(&self, problems: Vec<String>) {
        let mut health = self.config_health.lock().unwrap_or_else(|p| p.into_inner());
        health.problems = problems;
        health.at = Some(Utc::now());
        metrics::counter!("herald_config_reload_failures_total").increment(1);
        metrics::gauge!("herald_config_refused").set(1.0);
    }

    /// `source`'s task started a poll that may take up to `deadline`: it is on time while
    /// that runs (a machine paused longer than the grace wakes to polls running, not stuck).
    pub(crate) fn poll_running(&self, source: &str, deadline: Duration) {
        let mut polls = self.next_polls.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(next) = polls.get_mut(source) {
            next.due = Instant::now().checked_add(deadline);
        }
    }

    /// `source`'s task polls next at `at` (or never, `None`).
    pub(crate) fn set_next_poll(&self, source: &str, at: Option<DateTime<Utc>>) {
        let next = NextPoll::new(at, Utc::now(), Instant::now());
        self.next_polls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(source.to_owned(), next);
    }
}

/// Which stored changes a cached document has seen. Each change of a source takes the next
/// number of one counter; a source's feed is current while no change of that source (or of the
/// configuration) came after its rendering, and the merged `all` feed while no change at all did.
/// So a poll of one source re-renders that source's feeds and `all`, and nothing else.
#[derive(Default)]
pub struct FeedVersions {
    counter: OwnLine,
    /// The counter at the last change of each source.
    by_source: Mutex<HashMap<String, u64>>,
    /// The counter at the last configuration change (titles, limits and URLs are in every feed).
    config: AtomicU64,
}

/// A counter on a cache line of its own: every answer from a serving thread's memory reads it,
/// and the lock beside it is taken by others.
#[repr(align(128))]
#[derive(Default)]
struct OwnLine(AtomicU64);

impl FeedVersions {
    /// A change takes its number under the lock of `by_source`, and is in `by_source` (or
    /// `config`) before the lock is let go: whoever reads the counter's new value and then
    /// takes the lock sees the change (see [`FeedVersions::latest`]).
    pub fn source_changed(&self, source: &str) {
        let mut by_source = self.by_source.lock().unwrap_or_else(|p| p.into_inner());
        let n = self.counter.0.fetch_add(1, Ordering::SeqCst) + 1;
        by_source.insert(source.to_owned(), n);
    }

    pub fn config_changed(&self) {
        let _by_source = self.by_source.lock().unwrap_or_else(|p| p.into_inner());
        let n = self.counter.0.fetch_add(1, Ordering::SeqCst) + 1;
        self.config.store(n, Ordering::SeqCst);
    }

    /// The number of the latest change of any feed. A document found current (by
    /// [`FeedVersions::stamp`]) after this was read stays current while this stays the same.
    pub fn latest(&self) -> u64 {
        self.counter.0.load(Ordering::SeqCst)
    }

    /// The version of feed `id` ("all" or a source id) as of now.
    pub fn stamp(&self, id: &str) -> u64 {
        if id == "all" {
            return self.counter.0.load(Ordering::SeqCst);
        }
        let source = self
            .by_source
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .copied()
            .unwrap_or(0);
        source.max(self.config.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A poll is overdue past its due instant and the grace, measured on the monotonic clock
    /// from when it was announced: a wall clock moved since changes nothing.
    #[test]
    fn a_poll_is_overdue_only_past_its_due_instant_and_the_grace() {
        let (wall, mono) = (Utc::now(), Instant::now());
        let grace = Duration::from_secs(60);
        let secs = Duration::from_secs;
        let in_ten = NextPoll::new(Some(wall + chrono::Duration::seconds(10)), wall, mono);
        assert_eq!(in_ten.overdue(mono + secs(69), grace), None);
        assert_eq!(in_ten.overdue(mono + secs(70), grace), None);
        assert_eq!(in_ten.overdue(mono + secs(75), grace), Some(secs(5)));
        // Announced for an instant already past (a task that starts late): due at once.
        let past = NextPoll::new(Some(wall - chrono::Duration::seconds(30)), wall, mono);
        assert_eq!(past.overdue(mono + secs(61), grace), Some(secs(1)));
        // No future instant: never overdue; an instant too far for the clock: neither.
        let never = NextPoll::new(None, wall, mono);
        assert_eq!(never.overdue(mono + secs(1_000_000), grace), None);
        let far = NextPoll::new(Some(DateTime::<Utc>::MAX_UTC), wall, mono);
        assert_eq!(far.overdue(mono + secs(1_000_000), grace), None);
    }

    #[test]
    fn versions_move_per_source() {
        let v = FeedVersions::default();
        let (a0, b0, all0) = (v.stamp("a"), v.stamp("b"), v.stamp("all"));
        v.source_changed("a");
        assert_ne!(v.stamp("a"), a0);
        assert_eq!(
            v.stamp("b"),
            b0,
            "another source's change leaves b's feeds cached"
        );
        assert_ne!(v.stamp("all"), all0);
        let (a1, b1) = (v.stamp("a"), v.stamp("b"));
        v.config_changed();
        assert_ne!(v.stamp("a"), a1);
        assert_ne!(v.stamp("b"), b1);
    }
}
