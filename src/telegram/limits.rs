//! Telegram's rate limits, kept by herald itself (teloxide's `Throttle` allows only 10/min per
//! channel, and neither paces nor retries edits): per chat at most `per_chat_per_second` and
//! `per_chat_per_minute` calls, sends and edits alike, and `global_per_second` in all; after a
//! 429 every call to that chat waits `retry_after`, also in a worker started later (a restart,
//! or a config edit of the channel). Every wait ends when the worker is told to stop.

use crate::quiet::clock;
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Telegram measures on its own clock; a small margin keeps jitter on the wire from turning an
/// exactly-paced call into a 429.
const MARGIN: Duration = Duration::from_millis(60);

/// At most `max` events in any window of `per`.
#[derive(Debug)]
pub struct Window {
    max: usize,
    per: Duration,
    times: VecDeque<Instant>,
}

impl Window {
    pub fn new(max: u32, per: Duration) -> Window {
        Window {
            max: max.max(1) as usize,
            per: per + MARGIN,
            times: VecDeque::new(),
        }
    }

    /// How long to wait before one more event is allowed at `now` (zero: allowed now).
    pub fn wait(&mut self, now: Instant) -> Duration {
        while self
            .times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.per)
        {
            self.times.pop_front();
        }
        if self.times.len() < self.max {
            return Duration::ZERO;
        }
        let oldest = self.times[self.times.len() - self.max];
        (oldest + self.per).saturating_duration_since(now)
    }

    pub fn record(&mut self, now: Instant) {
        self.times.push_back(now);
        while self.times.len() > self.max {
            self.times.pop_front();
        }
    }

    /// The event recorded at `from` happened as late as `to` (≥ every time recorded): it
    /// counts from then on. Nothing, when it has already left the window's record.
    fn moved(&mut self, from: Instant, to: Instant) {
        if let Some(at) = self.times.iter().rposition(|t| *t == from) {
            self.times.remove(at);
            self.times.push_back(to);
        }
    }
}

/// One chat's limits, owned by that chat's worker.
pub struct ChatLimits {
    second: Window,
    minute: Window,
    /// No call before this instant (a 429's `retry_after`, or the first call's wait).
    hold_until: Option<Instant>,
    /// The end of the last 429's hold on the wall clock, for the store: a worker started later
    /// (a restart, a config edit of the channel) must wait for it too (Bot API: after a 429,
    /// every call to that chat waits `retry_after`).
    held_until: Option<DateTime<Utc>>,
    /// Wall-clock times of the calls in the last minute, kept in the store so that a restarted
    /// herald goes on where the last one stopped instead of starting a fresh minute.
    wall: VecDeque<DateTime<Utc>>,
    per_minute: usize,
    /// The worker's stop signal: a wait for a turn ends, with no call counted, when it fires.
    stop: CancellationToken,
    /// Told the calls of the last minute and the hold after every change (`keep`).
    keeper: Option<Keeper>,
    /// When the call counted by the last `acquire` started, until its answer (`answered`).
    started: Option<Instant>,
}

/// Where a chat's calls and hold are kept for the next worker: told after every call and
/// every 429, so that a worker killed between two store writes leaves none of them untold.
pub type Keeper = Box<dyn Fn(&[DateTime<Utc>], Option<DateTime<Utc>>) + Send + Sync>;

impl std::fmt::Debug for ChatLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatLimits")
            .field("hold_until", &self.hold_until)
            .field("held_until", &self.held_until)
            .field("wall", &self.wall)
            .finish_non_exhaustive()
    }
}

/// The worker was told to stop while it waited for its turn; no call may start.
#[derive(Debug, PartialEq, Eq)]
pub struct Stopped;

impl ChatLimits {
    /// Limits for a chat, continuing from the calls an earlier run made (`recent`, wall-clock).
    /// The last of those may not have reached the disk, so the first call also waits one
    /// per-second interval. Waits for a turn end when `stop` is cancelled.
    pub fn new(
        per_second: u32,
        per_minute: u32,
        recent: &[DateTime<Utc>],
        stop: CancellationToken,
    ) -> ChatLimits {
        let mut limits = ChatLimits {
            second: Window::new(per_second, Duration::from_secs(1)),
            minute: Window::new(per_minute, Duration::from_secs(60)),
            hold_until: Some(Instant::now() + Duration::from_secs(1) / per_second.max(1) + MARGIN),
            held_until: None,
            wall: VecDeque::new(),
            per_minute: per_minute.max(1) as usize,
            stop,
            keeper: None,
            started: None,
        };
        let (now, wall_now) = (Instant::now(), clock::now());
        for t in recent {
            let Ok(ago) = (wall_now - *t).to_std() else {
                continue;
            };
            if ago < Duration::from_secs(61) {
                let at = now.checked_sub(ago).unwrap_or(now);
                limits.second.record(at);
                limits.minute.record(at);
                limits.remember(*t);
            }
        }
        limits
    }

    /// Tells `keeper` the calls and the hold after every change from now on.
    pub fn kept_by(mut self, keeper: Keeper) -> ChatLimits {
        self.keeper = Some(keeper);
        self
    }

    fn keep(&self) {
        if let Some(keeper) = &self.keeper {
            let wall: Vec<DateTime<Utc>> = self.wall.iter().copied().collect();
            keeper(&wall, self.held_until);
        }
    }

    fn remember(&mut self, t: DateTime<Utc>) {
        self.wall.push_back(t);
        while self.wall.len() > self.per_minute {
            self.wall.pop_front();
        }
    }

    /// The calls of the last minute, to be stored with the channel.
    pub fn recent(&self) -> Vec<DateTime<Utc>> {
        self.wall.iter().copied().collect()
    }

    /// Telegram answered 429: nothing goes to this chat for `retry_after`.
    pub fn hold(&mut self, retry_after: Duration) {
        let wait = retry_after + MARGIN;
        self.hold_until = Some(Instant::now() + wait);
        self.held_until = chrono::Duration::from_std(wait)
            .ok()
            .and_then(|d| clock::now().checked_add_signed(d));
        self.keep();
    }

    /// Goes on with the hold of a 429 that an earlier worker for this chat met (`held_until`,
    /// stored with the channel): no call before it. A hold already over changes nothing.
    pub fn resume_hold(&mut self, until: DateTime<Utc>) {
        let Ok(left) = (until - clock::now()).to_std() else {
            return;
        };
        let end = Instant::now() + left;
        self.hold_until = Some(self.hold_until.map_or(end, |t| t.max(end)));
        self.held_until = Some(until);
    }

    /// The end of the current 429 hold (wall clock), to be stored with the channel; `None` once
    /// a call went through after it.
    pub fn held_until(&self) -> Option<DateTime<Utc>> {
        self.held_until
    }

    /// The worker's stop signal, for a call that may be cut short (a search's probe).
    pub fn stop_signal(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Sleeps `d`, or less when the worker is told to stop.
    async fn sleep(&self, d: Duration) -> Result<(), Stopped> {
        tokio::select! {
            () = self.stop.cancelled() => Err(Stopped),
            () = tokio::time::sleep(d) => Ok(()),
        }
    }
}

/// The limit over all chats, shared by every worker.
#[derive(Debug)]
pub struct GlobalLimit(Mutex<Window>);

impl GlobalLimit {
    pub fn new(per_second: u32) -> GlobalLimit {
        GlobalLimit(Mutex::new(Window::new(per_second, Duration::from_secs(1))))
    }
}

/// Waits until one call to the chat is allowed by every limit, and counts it. A stopping
/// worker starts no call: `Stopped` as soon as the chat's stop signal fires (or has fired).
pub async fn acquire(chat: &mut ChatLimits, global: &GlobalLimit) -> Result<(), Stopped> {
    loop {
        if chat.stop.is_cancelled() {
            return Err(Stopped);
        }
        let now = Instant::now();
        let hold = chat
            .hold_until
            .map_or(Duration::ZERO, |t| t.saturating_duration_since(now));
        let local = hold.max(chat.second.wait(now)).max(chat.minute.wait(now));
        if !local.is_zero() {
            chat.sleep(local).await?;
            continue;
        }
        let global_wait = {
            let mut g = global.0.lock().unwrap_or_else(|p| p.into_inner());
            let w = g.wait(now);
            if w.is_zero() {
                g.record(now);
            }
            w
        };
        if global_wait.is_zero() {
            chat.second.record(now);
            chat.minute.record(now);
            chat.started = Some(now);
            chat.remember(clock::now());
            chat.hold_until = None;
            chat.held_until = None;
            chat.keep();
            return Ok(());
        }
        chat.sleep(global_wait).await?;
    }
}

/// The call the last `acquire` counted has been answered (or given up on): it counts from now,
/// not from its start. Telegram counts a call when it arrives, which may be any time before its
/// answer (a slow network, a loaded machine): counted from the answer, two calls are a whole
/// window apart as Telegram sees them, however long the way there took.
pub fn answered(chat: &mut ChatLimits, global: &GlobalLimit) {
    let Some(started) = chat.started.take() else {
        return;
    };
    let now = Instant::now();
    chat.second.moved(started, now);
    chat.minute.moved(started, now);
    global
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .moved(started, now);
    if let Some(last) = chat.wall.back_mut() {
        *last = clock::now();
    }
    chat.keep();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_allows_max_then_waits_for_the_oldest() {
        let start = Instant::now();
        let mut w = Window::new(2, Duration::from_secs(1));
        assert_eq!(w.wait(start), Duration::ZERO);
        w.record(start);
        w.record(start + Duration::from_millis(100));
        let wait = w.wait(start + Duration::from_millis(200));
        assert_eq!(wait, Duration::from_millis(800) + MARGIN);
        assert_eq!(
            w.wait(start + Duration::from_secs(1) + MARGIN),
            Duration::ZERO
        );
    }

    #[tokio::test(start_paused = true)]
    async fn twenty_per_minute_spreads_a_burst() {
        let global = GlobalLimit::new(30);
        let mut chat = ChatLimits::new(1, 20, &[], CancellationToken::new());
        let start = Instant::now();
        for _ in 0..25 {
            acquire(&mut chat, &global).await.unwrap();
        }
        let took = start.elapsed();
        // 20 at one per second, then the 21st waits for the first to leave the minute.
        assert!(took >= Duration::from_secs(60), "{took:?}");
        assert!(took < Duration::from_secs(66), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_restart_continues_the_last_minute() {
        let global = GlobalLimit::new(30);
        // 20 calls in the last 30 s by an earlier run: the next must wait for the minute.
        let earlier: Vec<DateTime<Utc>> = (0..20)
            .map(|i| Utc::now() - chrono::Duration::milliseconds(30_000 - i * 1000))
            .collect();
        let mut chat = ChatLimits::new(1, 20, &earlier, CancellationToken::new());
        let start = Instant::now();
        acquire(&mut chat, &global).await.unwrap();
        assert!(
            start.elapsed() >= Duration::from_secs(30),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(chat.recent().len(), 20);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_counts_from_its_answer() {
        let global = GlobalLimit::new(30);
        let mut chat = ChatLimits::new(1, 20, &[], CancellationToken::new());
        acquire(&mut chat, &global).await.unwrap();
        // The call takes 700 ms to be answered; it may have reached Telegram at its end.
        tokio::time::sleep(Duration::from_millis(700)).await;
        answered(&mut chat, &global);
        let start = Instant::now();
        acquire(&mut chat, &global).await.unwrap();
        assert!(
            start.elapsed() >= Duration::from_secs(1),
            "the next call waited {:?} after the answer",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_delays_the_next_call() {
        let global = GlobalLimit::new(30);
        let mut chat = ChatLimits::new(1, 20, &[], CancellationToken::new());
        acquire(&mut chat, &global).await.unwrap();
        chat.hold(Duration::from_secs(7));
        let start = Instant::now();
        acquire(&mut chat, &global).await.unwrap();
        assert!(start.elapsed() >= Duration::from_secs(7));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stored_hold_delays_a_new_workers_first_call() {
        let global = GlobalLimit::new(30);
        let mut chat = ChatLimits::new(1, 20, &[], CancellationToken::new());
        chat.resume_hold(Utc::now() + chrono::Duration::seconds(9));
        let start = Instant::now();
        acquire(&mut chat, &global).await.unwrap();
        assert!(
            start.elapsed() >= Duration::from_secs(8),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(
            chat.held_until(),
            None,
            "a call went through: the hold is over"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_that_is_over_changes_nothing() {
        let global = GlobalLimit::new(30);
        let mut chat = ChatLimits::new(1, 20, &[], CancellationToken::new());
        chat.resume_hold(Utc::now() - chrono::Duration::seconds(5));
        assert_eq!(chat.held_until(), None);
        let start = Instant::now();
        acquire(&mut chat, &global).await.unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_ends_the_wait_for_a_hold() {
        let global = GlobalLimit::new(30);
        let stop = CancellationToken::new();
        let mut chat = ChatLimits::new(1, 20, &[], stop.clone());
        acquire(&mut chat, &global).await.unwrap();
        chat.hold(Duration::from_secs(30));
        assert!(chat.held_until().is_some());
        let start = Instant::now();
        let stopper = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            stop.cancel();
        });
        assert_eq!(acquire(&mut chat, &global).await, Err(Stopped));
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(chat.recent().len(), 1, "no call counted");
        stopper.await.unwrap();
    }
}
