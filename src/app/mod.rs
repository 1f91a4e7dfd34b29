//! Builds every part from the config and wires them together: the store, the fetcher, one
//! schedule task per source, one delivery worker per channel, the HTTP server, and the config
//! watcher that re-plans them on a good edit (file change or SIGHUP). Runs until stopped, then
//! flushes the store.

pub mod add;
pub mod commands;
pub mod preview;
mod renames;
pub use renames::renamed_source_warnings;

use crate::config::{Config, LiveConfig, Source};
use crate::extract::ExtractError;
use crate::fetch::{Fetcher, FetcherOptions};
use crate::model::ItemState;
use crate::pipeline::{Mode, PollError, PollOptions, PollReport, Poller};
use crate::schedule;
use crate::server;
use crate::shared::Shared;
use crate::store::Store;
use crate::supervise::{Ended, supervise};
use crate::telegram::Token;
use crate::telegram::admin::Alerts;
use crate::telegram::deliver::{self, ChatGroup, Deliverer};
use crate::telegram::limits::GlobalLimit;
use crate::watch;
use anyhow::Context;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// sled's page cache; its default is 1 GiB, far more than a feed service needs.
pub const STORE_CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// How long a stop waits, from the signal, for polls, deliveries and admin answers in flight
/// before abandoning them (a poll's store step is one transaction, and a delivery in flight is
/// found again after a restart). The HTTP server's own wait for answers being sent (5 s) runs
/// inside it. README.md states this bound.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A source is reported failing (to the admins) after this many failed polls in a row.
pub const FAILING_AFTER: u32 = 3;

/// The longest a redesign alert waits for its proposal of new selectors.
const PROPOSAL_TIME: std::time::Duration = std::time::Duration::from_secs(30);
/// The largest list page a redesign proposal reads (discovery's time grows faster than a
/// page's size: 2 MB of nested blocks took 36 s).
const PROPOSAL_BYTES: usize = 1 << 20;

/// How to build an app beyond its config.
#[derive(Clone, Debug)]
pub struct Options {
    /// The bot token (from `TELOXIDE_TOKEN`); `None` turns Telegram delivery off.
    pub token: Option<Token>,
    pub fetcher: FetcherOptions,
    /// How long a Bot API call may take before it counts as unanswered (default 17 s).
    pub telegram_timeout: Option<Duration>,
    /// Timeout and retries of WebSub hub pings.
    pub websub: crate::websub::PingOptions,
    /// Every source is polled once within this long after its task starts (at start, and when an
    /// edit adds or changes it), spread by source id; `None`: only on the schedule (tests).
    pub first_poll_window: Option<Duration>,
}

/// SPEC: every source is polled once soon after start, spread over the first minute.
pub const FIRST_POLL_WINDOW: Duration = Duration::from_secs(60);

impl Default for Options {
    fn default() -> Options {
        Options {
            token: None,
            fetcher: FetcherOptions::default(),
            telegram_timeout: None,
            websub: crate::websub::PingOptions::default(),
            first_poll_window: Some(FIRST_POLL_WINDOW),
        }
    }
}

#[derive(Clone)]
pub struct App {
    pub shared: Arc<Shared>,
}

impl App {
    /// Opens the store and builds the parts; fails when the database is in use or broken.
    pub fn new(config: Config, options: Options) -> anyhow::Result<App> {
        let store = Store::open(&config.general.data_dir, STORE_CACHE_BYTES)?;
        // SPEC: without a token nothing is queued for Telegram, and the first poll after a
        // token appears counts as a first poll. Releases stored meanwhile would otherwise be
        // known to channels baselined before, and never posted.
        if options.token.is_none() {
            match store.forget_baselines() {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    channels = n,
                    "no Telegram token: each channel starts with its backfill when a token is set"
                ),
                Err(e) => tracing::error!(error = %e, "could not reset the channels' first polls"),
            }
        }
        // An entry renamed while herald was stopped: its records follow it before anything
        // polls or sends.
        match renames::renamed(&store, &config.channels, &HashMap::new()) {
            Ok(moves) => {
                renames::adopt(&store, &moves);
            }
            Err(e) => tracing::error!(error = %e, "could not look for renamed channel entries"),
        }
        renames::record_chats(&store, &config.channels);
        store.set_translation_groups(translation_groups(&config));
        let fetcher = Fetcher::new(options.fetcher).context("building the HTTP client")?;
        let global = Arc::new(GlobalLimit::new(config.telegram.global_per_second));
        let bot = options.token.as_ref().map(|token| {
            deliver::bot(
                token,
                &config.telegram.api_url,
                options.telegram_timeout.unwrap_or(Duration::from_secs(17)),
            )
        });
        // The admin poller's getUpdates waits up to its long poll: its client waits longer.
        let admin_bot = options.token.as_ref().map(|token| {
            deliver::bot(
                token,
                &config.telegram.api_url,
                crate::app::commands::CLIENT_TIMEOUT,
            )
        });
        let user_agent = config.general.user_agent.clone();
        let config = Arc::new(LiveConfig::new(config));
        let websub = Arc::new(crate::websub::Publisher::new(
            config.clone(),
            &user_agent,
            options.websub.clone(),
            Some(store.clone()),
        ));
        let wake = Arc::new(Notify::new());
        let broken_store = CancellationToken::new();
        let alerts = bot.clone().map(|bot| {
            Arc::new(Alerts::new(bot, config.clone(), global.clone()).with_store(store.clone()))
        });
        if let Some(alerts) = &alerts {
            let alerts = alerts.clone();
            websub.report_to(move |text| alerts.tell_soon(text));
        }
        let telegram = bot.map(|bot| {
            Arc::new(Deliverer {
                api: bot,
                store: store.clone(),
                config: config.clone(),
                global: global.clone(),
                wake: wake.clone(),
                alerts: alerts.clone(),
                broken_store: broken_store.clone(),
                regroup: Arc::new(Notify::new()),
            })
        });
        let app = App {
            shared: Arc::new(Shared {
                config,
                store,
                fetcher,
                versions: Default::default(),
                started: Utc::now(),
                metrics: crate::server::metrics_handle(),
                telegram,
                alerts,
                wake,
                broken_store,
                websub,
                polling: Default::default(),
                next_polls: Default::default(),
                telegram_refused: Default::default(),
                config_health: Default::default(),
                admin_bot,
                first_poll_window: options.first_poll_window,
            }),
        };
        // The running config is the file's, as read at start.
        app.shared.config_taken();
        Ok(app)
    }

    pub fn config(&self) -> Arc<Config> {
        self.shared.config.get()
    }

    /// Polls one source now, records the outcome in logs, metrics and admin alerts, and marks the
    /// feeds stale when something was stored.
    pub async fn poll(&self, source: &Source, opts: PollOptions) -> Result<PollReport, PollError> {
        let gate = self
            .shared
            .polling
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(source.id.clone())
            .or_default()
            .clone();
        let _turn = gate.lock().await;
        let config = self.config();
        let poller = Poller::new(
            &self.shared.fetcher,
            &config,
            &source.id,
            Mode::Live(&self.shared.store),
            self.shared.telegram.is_some(),
        );
        let started = std::time::Instant::now();
        let result = poller.poll(source, opts).await;
        let id = source.id.clone();
        metrics::histogram!("herald_poll_duration_seconds", "source" => id.clone())
            .record(started.elapsed().as_secs_f64());
        match &result {
            Ok(report) if report.unchanged => {
                metrics::counter!("herald_polls_total", "source" => id, "result" => "unchanged")
                    .increment(1);
                // One line per poll (issue 7), a 304 or the same page included.
                tracing::info!(
                    source = %source.id,
                    millis = started.elapsed().as_millis() as u64,
                    "polled: unchanged"
                );
            }
            Ok(report) => {
                let (new, changed) = (
                    report.count(ItemState::New),
                    report.count(ItemState::Changed),
                );
                // A walk of the older pages cut short leaves releases unread: not an ok poll.
                let outcome = if report.walk_error.is_some() {
                    "walk_cut"
                } else {
                    "ok"
                };
                metrics::counter!("herald_polls_total", "source" => id.clone(), "result" => outcome)
                    .increment(1);
                metrics::counter!("herald_items_new_total", "source" => id.clone())
                    .increment(new as u64);
                metrics::counter!("herald_items_changed_total", "source" => id.clone())
                    .increment(changed as u64);
                metrics::counter!("herald_list_cards_skipped_total", "source" => id)
                    .increment(report.skipped_cards.len() as u64);
                // A release rewritten as now read (the reading config changed), or stored again
                // after a prune, shows in the feed.
                if new + changed + report.refreshed + report.restored > 0 || report.site_changed {
                    self.shared.versions.source_changed(&source.id);
                    self.shared.websub.changed([source.id.as_str()]);
                }
                // A new link shows as "Also in" in the feeds of both sides.
                for other in &report.linked {
                    self.shared.versions.source_changed(other);
                }
                self.shared
                    .websub
                    .changed(report.linked.iter().map(String::as_str));
                self.shared.wake.notify_waiters();
                tracing::info!(
                    source = %source.id,
                    new,
                    changed,
                    known = report.count(ItemState::Known),
                    restored = report.restored,
                    pages = report.pages,
                    millis = started.elapsed().as_millis() as u64,
                    "polled"
                );
            }
            Err(e @ PollError::Panicked(_)) => {
                metrics::counter!("herald_polls_total", "source" => id, "result" => "panic")
                    .increment(1);
                tracing::error!(source = %source.id, error = %e, "poll failed");
            }
            Err(e @ PollError::Deadline { .. }) => {
                metrics::counter!("herald_polls_total", "source" => id.clone(), "result" => "deadline")
                    .increment(1);
                metrics::counter!("herald_poll_deadlines_total", "source" => id).increment(1);
                tracing::warn!(source = %source.id, error = %e, "poll failed");
            }
            Err(e) => {
                metrics::counter!("herald_polls_total", "source" => id, "result" => "error")
                    .increment(1);
                tracing::warn!(source = %source.id, error = %e, "poll failed");
                if let PollError::Store(e) = e
                    && Store::is_broken(e)
                {
                    self.shared.broken_store.cancel();
                }
            }
        }
        self.alert_on_change(source, &result).await;
        result
    }

    /// Runs `task` under a supervisor (see `supervise`) that tells the admins when it dies.
    fn spawn_supervised<F, Fut>(
        &self,
        name: &str,
        stop: &CancellationToken,
        task: F,
    ) -> JoinHandle<()>
    where
        F: Fn(CancellationToken) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let alerts = self.shared.alerts.clone();
        let label = name.to_owned();
        tokio::spawn(supervise(
            name.to_owned(),
            stop.clone(),
            task,
            move |ended| {
                let (alerts, label) = (alerts.clone(), label.clone());
                async move {
                    if let Some(alerts) = alerts {
                        alerts.tell_soon(format!("⚠️ herald: {label} {ended}; restarting it"));
                    }
                }
            },
        ))
    }

    /// A source's task died (a panic outside a poll, or an early end): its state and `/healthz`
    /// say so, and the admins are told; the supervisor starts it again.
    async fn source_task_ended(&self, id: &str, ended: Ended) {
        let why = format!("polling {ended}; restarting it");
        let _ = self.shared.store.update_source_state(id, |st| {
            st.last_error = Some(why.clone());
            st.last_error_at = Some(Utc::now());
            st.consecutive_failures += 1;
        });
        if let Some(alerts) = &self.shared.alerts {
            alerts.tell_soon(format!("⚠️ herald: source {id}: {why}"));
        }
    }

    /// A channel's delivery task died: as [`Self::source_task_ended`], for the channel.
    async fn channel_task_ended(&self, id: &str, ended: Ended) {
        let why = format!("delivery {ended}; restarting it");
        let _ = self.shared.store.update_channel_state(id, |st| {
            st.last_error = Some(why.clone());
            st.last_error_at = Some(Utc::now());
        });
        if let Some(alerts) = &self.shared.alerts {
            alerts.tell_soon(format!("⚠️ herald: channel {id}: {why}"));
        }
    }

    /// For a redesign alert: the `[sources.list]` block the discovery of `herald suggest`
    /// proposes for the new page, and what it reads (issue 24); or why there is none.
    async fn redesign_proposal(&self, source: &Source) -> String {
        // Optional work done while the source's poll holds its turn, and before the admins
        // hear of the redesign: bounded, so that neither waits long (a hostile page could
        // make discovery run for hours; see `PROPOSAL_BYTES`).
        let proposal =
            tokio::time::timeout(PROPOSAL_TIME, self.redesign_proposal_unbounded(source));
        match proposal.await {
            Ok(text) => text,
            Err(_) => format!(
                "\n\nNo new selectors proposed: reading the page took longer than {} s.",
                PROPOSAL_TIME.as_secs()
            ),
        }
    }

    async fn redesign_proposal_unbounded(&self, source: &Source) -> String {
        let config = self.config();
        let req = crate::fetch::Request {
            user_agent: &config.general.user_agent,
            headers: &source.headers,
            insecure_tls: source.insecure_tls,
            ..Default::default()
        };
        let page = match self.shared.fetcher.get(&source.url, &req).await {
            Ok(crate::fetch::Fetched::Page(p)) => p,
            Ok(crate::fetch::Fetched::NotModified) => return String::new(),
            Err(e) => return format!("\n\nNo new selectors proposed: {e}"),
        };
        let (text, url) = (page.text, page.url);
        if text.len() > PROPOSAL_BYTES {
            return format!(
                "\n\nNo new selectors proposed: the page is larger ({} KiB) than discovery reads ({} KiB).",
                text.len() / 1024,
                PROPOSAL_BYTES / 1024
            );
        }
        let source = source.clone();
        let found =
            tokio::task::spawn_blocking(move || crate::suggest::suggest_page(&source, &text, &url))
                .await;
        match found {
            Ok(Ok(s)) => s.list_proposal_text(),
            Ok(Err(e)) => format!("\n\nNo new selectors proposed: {e}"),
            Err(e) => format!("\n\nNo new selectors proposed: {e}"),
        }
    }

    /// One admin message when a source starts failing (at once for a redesign, after
    /// `FAILING_AFTER` failures otherwise) and one when it works again.
    async fn alert_on_change(&self, source: &Source, result: &Result<PollReport, PollError>) {
        let store = &self.shared.store;
        let Ok(mut state) = store.source_state(&source.id) else {
            return;
        };
        // The first poll of a source never judges it stale: what it stored is the site's past,
        // not a silence herald saw (`health::is_stale` also wants enough history).
        let stale = result.as_ref().is_ok_and(|report| !report.first_poll) && {
            let published = store.recent_published(&source.id, 20).unwrap_or_default();
            crate::health::is_stale(&published, Utc::now(), source.timezone)
        };
        metrics::gauge!("herald_source_stale", "source" => source.id.clone()).set(if stale {
            1.0
        } else {
            0.0
        });
        let redesign = matches!(
            result,
            Err(PollError::Extract {
                source: ExtractError::NothingMatched(_)
                    | ExtractError::NoUsableItems { .. }
                    | ExtractError::NoIds { .. },
                ..
            })
        ) && state.ever_succeeded
            && !state.alerted;
        // A poll whose walk of the older pages was cut short is failing too: releases are missing
        // until a poll reads on (the poll counted it in `consecutive_failures`).
        let walk_error = result.as_ref().ok().and_then(|r| r.walk_error.as_deref());
        let message = match result {
            Ok(_) if walk_error.is_some() => (!state.alerted
                && state.consecutive_failures >= FAILING_AFTER)
                .then(|| {
                    state.alerted = true;
                    format!(
                        "⚠️ herald: source {} is failing ({} polls in a row): {}",
                        source.id,
                        state.consecutive_failures,
                        walk_error.unwrap_or_default()
                    )
                }),
            Ok(_) if state.alerted => {
                state.alerted = false;
                Some(format!("✅ herald: source {} works again.", source.id))
            }
            Ok(_) if stale != state.stale => {
                state.stale = stale;
                Some(if stale {
                    format!(
                        "⚠️ herald: source {} has had no new release for far longer than usual; the site may have moved its list.",
                        source.id
                    )
                } else {
                    format!("✅ herald: source {} has new releases again.", source.id)
                })
            }
            Err(e) if !state.alerted => {
                (redesign || state.consecutive_failures >= FAILING_AFTER).then(|| {
                    state.alerted = true;
                    if redesign {
                        format!(
                            "⚠️ herald: source {} looks redesigned: {e}. Its selectors in the config need a look.",
                            source.id
                        )
                    } else {
                        format!(
                            "⚠️ herald: source {} is failing ({} polls in a row): {e}",
                            source.id, state.consecutive_failures
                        )
                    }
                })
            }
            _ => None,
        };
        // Cards the list reader skips (a selector that no longer fits part of the list): said
        // once when they start and once when every card reads again, beside whatever else this
        // poll says (an unchanged poll reads no card).
        let cards = match result {
            Ok(report)
                if !report.unchanged && report.card_warning().is_some() != state.cards_alerted =>
            {
                state.cards_alerted = !state.cards_alerted;
                Some(match report.card_warning() {
                    Some(warning) => format!("⚠️ herald: source {}: {warning}.", source.id),
                    None => format!(
                        "✅ herald: source {}: every card of the list page reads again.",
                        source.id
                    ),
                })
            }
            _ => None,
        };
        // Releases past `max_pages` not read: said each time it happens (each time, others are
        // missed).
        let pages = result
            .as_ref()
            .ok()
            .and_then(PollReport::pages_warning)
            .map(|warning| format!("⚠️ herald: source {}: {warning}.", source.id));
        let mut message = match [message, cards, pages]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
        {
            parts if parts.is_empty() => return,
            parts => parts.join("\n"),
        };
        if redesign {
            message.push_str(&self.redesign_proposal(source).await);
        }
        let (alerted, stale, cards_alerted) = (state.alerted, state.stale, state.cards_alerted);
        let change = |current: &mut crate::store::SourceState| {
            current.alerted = alerted;
            current.stale = stale;
            current.cards_alerted = cards_alerted;
        };
        // The flags say the alert was sent: they are recorded in the same transaction that
        // stores the alert, which stays until Telegram takes it (see `Alerts::run`). Not sent
        // here: the poll holds its source's turn (the next poll, an admin's /poll wait for it),
        // and a burst of alerts goes at one message a second per admin.
        let saved = match &self.shared.alerts {
            Some(alerts) => alerts.keep_with(&message, |admins, text| {
                store.put_source_state_with_alert(&source.id, change, admins, text)
            }),
            None => store.update_source_state(&source.id, change).map(drop),
        };
        if let Err(e) = saved {
            tracing::error!(source = %source.id, error = %e, alert = %message, "could not store an admin alert");
            return;
        }
        tracing::warn!(source = %source.id, alert = %message, "admin alert");
        // Kept across a crash right after, as the flags are.
        if let Err(e) = store.flush().await {
            tracing::error!(error = %e, "could not flush an admin alert");
        }
    }

    /// Serves HTTP on `listener`, polls every source on its schedule and delivers every channel's
    /// queue until `stop` is cancelled. Applies edits of the config file (`watch`: file changes,
    /// SIGHUP); then lets work in flight finish (or abandons it after a grace period) and
    /// flushes the store.
    pub async fn run(self, listener: TcpListener, stop: CancellationToken) -> anyhow::Result<()> {
        let (path, loaded) = {
            let config = self.config();
            (config.path.clone(), config.text_digest)
        };
        let mut edits = watch::ConfigWatch::start(&path, loaded, &stop).await;
        let store = self.shared.store.clone();
        self.spawn_supervised("post-record sweep", &stop, move |stop| {
            sweep_posts_daily(store.clone(), stop)
        });
        if self.shared.telegram.is_none() {
            tracing::warn!("TELOXIDE_TOKEN is not set: Telegram delivery is off");
        }
        let websub = self.shared.websub.clone();
        self.spawn_supervised("WebSub pings", &stop, move |stop| websub.clone().run(stop));
        if let Some(alerts) = self.shared.alerts.clone() {
            self.spawn_supervised("admin alerts", &stop, move |stop| alerts.clone().run(stop));
        }
        let mut plan = Plan::default();
        plan.apply(&self, &stop).await;
        // The digest of the last refused edit: the same text is reported to the admins once
        // (until a good config is applied).
        let mut refused: Option<[u8; 32]> = None;
        let commands = self.shared.admin_bot.clone().map(|bot| {
            let app = self.clone();
            self.spawn_supervised("admin commands", &stop, move |stop| {
                crate::app::commands::run(app.clone(), bot.clone(), stop)
            })
        });
        let routes = server::routes(self.shared.clone());
        let server_stop = stop.clone();
        let limits = self.config().server.connections.clone();
        let server = tokio::spawn(server::serve(listener, routes, limits, server_stop));
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                () = self.shared.broken_store.cancelled() => {
                    tracing::error!("the database can no longer write (see the errors above); stopping so that a restart reopens it");
                    stop.cancel();
                    break;
                }
                edit = edits.next() => self.reload(&mut plan, &stop, edit, &mut refused).await,
                // Herald learnt the id of a chat written as `@name`: its entries and those
                // written as that id get one worker (see `Deliverer::chat_groups`).
                () = regrouped(&self) => {
                    tracing::info!("a chat's id is known: grouping the channel entries again");
                    plan.apply(&self, &stop).await;
                }
            }
        }
        // The tasks were told to stop with the server: the grace counts from the signal, not
        // from the server's end, so that a stop never waits the two one after the other.
        let grace_ends = tokio::time::Instant::now() + STOP_GRACE;
        let served = server
            .await
            .context("HTTP server task")?
            .context("HTTP server failed");
        let drained = tokio::time::timeout_at(grace_ends, async {
            plan.stop_all().await;
            if let Some(task) = commands {
                let _ = task.await;
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!("abandoning work still running after {STOP_GRACE:?}");
        }
        let flushed = self.shared.store.flush().await;
        if self.shared.broken_store.is_cancelled() {
            // The flush fails the same way the writes did: said once, then the one line the
            // admin needs.
            if let Err(e) = flushed {
                tracing::error!(error = %e, "cannot flush the database");
            }
            anyhow::bail!(
                "stopped: the database in {} can no longer write; free disk space and start herald again",
                self.config().general.data_dir.display()
            );
        }
        flushed.context("flushing the database")?;
        tracing::info!("stopped");
        served
    }

    /// Before `new` replaces `old`: the records of each channel entry renamed (an id gone, and
    /// an entry of `new` posting to its chat) move to the new id, with no chat worker running
    /// (none is in the middle of a send of the queue that moves), and before any poll plans
    /// with `new` (the new id's first poll would count as a first poll and backfill again).
    async fn adopt_renamed(&self, plan: &mut Plan, old: &Config, new: &Config) {
        let store = &self.shared.store;
        match renames::renamed(store, &new.channels, &renames::chats_of(&old.channels)) {
            Ok(moves) if !moves.is_empty() => {
                plan.stop_channels().await;
                renames::adopt(store, &moves);
                if let Err(e) = store.flush().await {
                    tracing::error!(error = %e, "could not flush the moved channel records");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "could not look for renamed channel entries"),
        }
    }

    /// What `check` warns of in an applied edit, in the log (as at start): the config's own
    /// warnings and the sources the database holds that it no longer names. A source this edit
    /// removed while the database holds it (a rename announces its releases again under the new
    /// id) is also told to the admins, once, at this reload.
    fn warn_of(&self, old: &Config, new: &Config) {
        for warning in &new.warnings {
            tracing::warn!("{warning}");
        }
        let removed: Vec<&str> = old
            .sources
            .iter()
            .filter(|s| new.source(&s.id).is_none())
            .map(|s| s.id.as_str())
            .collect();
        for (id, warning) in renames::renamed_sources(new) {
            tracing::warn!("{warning}");
            if removed.contains(&id.as_str())
                && let Some(alerts) = &self.shared.alerts
            {
                alerts.tell_soon(format!("⚠️ herald: {warning}"));
            }
        }
    }

    /// Tells the admins, once (at the reload that removed it), of each channel entry that left
    /// the config with deliveries still queued (not moved to an entry of the same chat): no
    /// worker sends them, and they wait, kept, until the entry is back. `/healthz` and
    /// `/metrics` go on showing them.
    async fn tell_stranded(&self, old: &Config, new: &Config) {
        let store = &self.shared.store;
        let gone = old
            .channels
            .iter()
            .filter(|c| !new.channels.iter().any(|n| n.id == c.id));
        for channel in gone {
            let queued = match (
                store.pending(&channel.id),
                store.set_aside_count(&channel.id),
            ) {
                (Ok(pending), Ok(aside)) => pending + aside,
                (Err(e), _) | (_, Err(e)) => {
                    tracing::error!(channel = %channel.id, error = %e, "could not count the queue of a channel that left the config");
                    continue;
                }
            };
            if queued == 0 {
                continue;
            }
            let text = server::unconfigured_error(&channel.id, queued);
            tracing::warn!(channel = %channel.id, queued, "{text}");
            if let Some(alerts) = &self.shared.alerts {
                alerts.tell_soon(format!("⚠️ herald: {text}."));
            }
        }
    }

    /// Applies an edit of the config file. A good edit replaces the running config and re-plans
    /// the sources and channels that changed; a bad one is refused with its problems logged and
    /// sent to the admins (once per text, until a good config is applied, unless asked again
    /// with SIGHUP), and everything goes on as before. The good config after a refused one is
    /// told to the admins too.
    async fn reload(
        &self,
        plan: &mut Plan,
        stop: &CancellationToken,
        edit: watch::Edit,
        refused: &mut Option<[u8; 32]>,
    ) {
        let old = self.config();
        match edit.load(&old.path) {
            Ok(new) => {
                // The admins heard the last edit was refused: they hear the file is good again
                // (else the last word they have is that their config does not apply).
                if refused.take().is_some()
                    && let Some(alerts) = &self.shared.alerts
                {
                    alerts.tell_soon(
                        "✅ herald: the config on disk is good again and is applied.".to_owned(),
                    );
                }
                self.shared.config_taken();
                let diff = describe_diff(&old, &new);
                if diff.is_empty() {
                    tracing::info!("config re-read: no change");
                    return;
                }
                if new.general.data_dir != old.general.data_dir
                    || new.server.listen != old.server.listen
                    || new.server.connections != old.server.connections
                {
                    tracing::warn!(
                        "data_dir, listen and the connection bounds apply only after a restart"
                    );
                }
                self.adopt_renamed(plan, &old, &new).await;
                // An entry whose chat migrated and that names another chat now drops the
                // migration before its worker is planned (which would send to the migrated
                // chat); the running workers stop first, so that none writes it back.
                if !renames::migrations_left(&self.shared.store, &new.channels).is_empty() {
                    plan.stop_channels().await;
                    renames::record_chats(&self.shared.store, &new.channels);
                }
                self.tell_stranded(&old, &new).await;
                // Feeds and later posts show links between sources of one group only: a
                // group taken out of the config takes its links out with it.
                self.shared
                    .store
                    .set_translation_groups(translation_groups(&new));
                self.shared.config.set(new);
                self.shared.versions.config_changed();
                // The hub hears of every feed the edit may change (its title, its items' count,
                // every self link under a new public_url, every feed for a new hub).
                self.shared.websub.reloaded(&old, &self.config());
                plan.apply(self, stop).await;
                // After `apply`: a worker of an entry whose chat changed has stopped by now, so
                // no stale copy of its state overwrites the chat recorded here.
                renames::record_chats(&self.shared.store, &self.config().channels);
                tracing::info!(changes = %diff, "config reloaded");
                self.warn_of(&old, &self.config());
            }
            Err(problems) => {
                if !edit.asked && *refused == Some(edit.digest) {
                    return;
                }
                *refused = Some(edit.digest);
                let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
                self.shared.config_refused(lines.clone());
                for line in &lines {
                    tracing::error!("{line}");
                }
                tracing::error!("config edit refused; the running configuration stays");
                if let Some(alerts) = &self.shared.alerts {
                    alerts.tell_soon(format!(
                        "⚠️ herald: the config edit was refused; the running configuration stays.\n{}",
                        lines.join("\n")
                    ));
                }
            }
        }
    }
}

/// The running tasks: one per source (its schedule) and one per channel (its outbox), each with
/// the config it was started with, so that a reload restarts exactly what changed.
#[derive(Default)]
struct Plan {
    sources: HashMap<String, Running>,
    channels: HashMap<String, Running>,
}

struct Running {
    /// The config text the task was started with ([`crate::config::Texts`]: its own table and
    /// what it inherits, written canonically): a change restarts the task.
    text: String,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// The config text of a chat's worker: the chat it sends to and the text of each of its entries.
fn chat_text(group: &ChatGroup, config: &Config) -> String {
    let mut text = format!("chat {}", group.key);
    // A worker that waits for its chat's id is replaced once the id is known, even when the
    // groups come out the same (the id is another chat's).
    if group.unresolved.is_some() {
        text.push_str(" (id unknown)");
    }
    for entry in &group.entries {
        text.push('\n');
        text.push_str(
            config
                .texts
                .channels
                .get(&entry.id)
                .map_or("", String::as_str),
        );
    }
    text
}

impl Plan {
    async fn apply(&mut self, app: &App, stop: &CancellationToken) {
        let config = app.config();
        let wanted: HashMap<String, (String, Source)> = config
            .sources
            .iter()
            .map(|s| {
                let text = config.texts.sources.get(&s.id).cloned().unwrap_or_default();
                (s.id.clone(), (text, s.clone()))
            })
            .collect();
        sync(
            &mut self.sources,
            wanted,
            stop,
            |id, source: Source, stop| {
                // Its first poll is due when the task has said when (at once): a task that
                // stops before it says so is overdue in time (`/healthz`).
                app.shared.set_next_poll(&id, Some(Utc::now()));
                let (task_app, report_app) = (app.clone(), app.clone());
                tokio::spawn(supervise(
                    format!("source {id}"),
                    stop,
                    move |stop| source_task(task_app.clone(), source.clone(), stop),
                    move |ended| {
                        let (app, id) = (report_app.clone(), id.clone());
                        async move { app.source_task_ended(&id, ended).await }
                    },
                ))
            },
        )
        .await;
        if let Some(deliverer) = &app.shared.telegram {
            // One worker per chat, for all the channel entries that post to it.
            let wanted = deliverer
                .chat_groups(&config.channels)
                .await
                .into_iter()
                .map(|g| (g.name(), (chat_text(&g, &config), g)))
                .collect();
            sync(
                &mut self.channels,
                wanted,
                stop,
                |name, group: ChatGroup, stop| {
                    let (deliverer, app) = (deliverer.clone(), app.clone());
                    let ids: Vec<String> = group.entries.iter().map(|c| c.id.clone()).collect();
                    tokio::spawn(supervise(
                        format!("channel {name}"),
                        stop,
                        move |stop| deliverer.clone().run_chat(group.clone(), stop),
                        move |ended| {
                            let (app, ids) = (app.clone(), ids.clone());
                            async move {
                                for id in &ids {
                                    app.channel_task_ended(id, ended.clone()).await;
                                }
                            }
                        },
                    ))
                },
            )
            .await;
        }
    }

    /// Stops every chat worker and waits for them; the next `apply` starts them again.
    async fn stop_channels(&mut self) {
        let all: Vec<Running> = self.channels.drain().map(|(_, r)| r).collect();
        for r in &all {
            r.stop.cancel();
        }
        for r in all {
            let _ = r.task.await;
        }
    }

    async fn stop_all(self) {
        let all: Vec<Running> = self
            .sources
            .into_values()
            .chain(self.channels.into_values())
            .collect();
        for r in &all {
            r.stop.cancel();
        }
        for r in all {
            let _ = r.task.await;
        }
    }
}

/// Answers when the deliverer asks for the chats to be grouped again; never without Telegram.
async fn regrouped(app: &App) {
    match &app.shared.telegram {
        Some(deliverer) => deliverer.regroup.notified().await,
        None => std::future::pending().await,
    }
}

/// Stops tasks no longer wanted or changed, starts new and changed ones. A changed task's old
/// run is awaited before its new one starts (a poll or a send in flight finishes first), so the
/// same source is never polled, nor the same queue sent from, twice at once.
async fn sync<T>(
    running: &mut HashMap<String, Running>,
    wanted: HashMap<String, (String, T)>,
    stop: &CancellationToken,
    start: impl Fn(String, T, CancellationToken) -> JoinHandle<()>,
) {
    let stale: Vec<String> = running
        .iter()
        .filter(|(id, r)| wanted.get(*id).is_none_or(|(text, _)| *text != r.text))
        .map(|(id, _)| id.clone())
        .collect();
    let stopped: Vec<Running> = stale.iter().filter_map(|id| running.remove(id)).collect();
    for r in &stopped {
        r.stop.cancel();
    }
    for r in stopped {
        let _ = r.task.await;
    }
    for (id, (text, part)) in wanted {
        if running.contains_key(&id) {
            continue;
        }
        let child = stop.child_token();
        let task = start(id.clone(), part, child.clone());
        running.insert(
            id,
            Running {
                text,
                stop: child,
                task,
            },
        );
    }
}

async fn source_task(app: App, source: Source, stop: CancellationToken) {
    // A test hook (tests/it/supervision.rs): a source task that dies, for its supervisor (ids
    // separated by commas).
    if std::env::var("HERALD_TEST_PANIC_IN_TASK")
        .is_ok_and(|ids| ids.split(',').any(|id| id == source.id))
    {
        panic!("planted by HERALD_TEST_PANIC_IN_TASK");
    }
    let timing = schedule::Timing {
        schedule: source.schedule.clone(),
        tz: source.timezone,
        offset: schedule::spread(&source.id, &source.schedule, source.timezone, Utc::now()),
        first: app
            .shared
            .first_poll_window
            .map(|window| schedule::start_delay(&source.id, window)),
    };
    let shared = app.shared.clone();
    let announce = |at| shared.set_next_poll(&source.id, at);
    schedule::run_every(timing, stop.clone(), announce, || async {
        app.shared.poll_running(&source.id, source.poll_deadline);
        if app
            .shared
            .store
            .source_state(&source.id)
            .is_ok_and(|s| s.paused)
        {
            tracing::debug!(source = %source.id, "paused; not polled");
            return None;
        }
        let opts = PollOptions {
            conditional: true,
            report_known: false,
        };
        // Boxed: a poll's state (fetch, parse, store) is tens of kilobytes, and a thousand
        // sources waiting for their next instant should not each carry it inline. A stop cuts
        // the poll at its next await (its store step is one transaction): a slow site must not
        // hold up herald's exit.
        let polled = tokio::select! {
            polled = Box::pin(app.poll(&source, opts)) => polled,
            () = stop.cancelled() => return None,
        };
        match polled {
            Ok(_) => None,
            Err(error) => {
                let failures = app
                    .shared
                    .store
                    .source_state(&source.id)
                    .map(|s| s.consecutive_failures)
                    .unwrap_or(1);
                Some(rest_end(&source, failures, &error, Utc::now()))
            }
        }
    })
    .await;
    if !stop.is_cancelled() {
        schedule_ran_out(&app, &source);
    }
    // A schedule that ran out (its years past) polls no more: the task waits for the stop,
    // not ended, which its supervisor would take for a failure and start again.
    stop.cancelled().await;
}

/// `source`'s schedule has no instant left (its years past, at start or since): it is not polled
/// again. Logged, and told to the admins once for that schedule, not again after a restart
/// (`/healthz` and `/metrics` say it while it lasts: see `server::health`).
fn schedule_ran_out(app: &App, source: &Source) {
    let why = schedule::ended_text(&source.schedule);
    tracing::warn!(source = %source.id, schedule = %source.schedule.expr, "{why}");
    let Some(alerts) = &app.shared.alerts else {
        return;
    };
    let store = &app.shared.store;
    let expr = &source.schedule.expr;
    if store
        .source_state(&source.id)
        .is_ok_and(|s| s.ended_told.as_deref() == Some(&**expr))
    {
        return;
    }
    let told = |state: &mut crate::store::SourceState| state.ended_told = Some(expr.to_string());
    let message = format!("⚠️ herald: source {}: {why}", source.id);
    let kept = alerts.keep_with(&message, |admins, text| {
        store.put_source_state_with_alert(&source.id, told, admins, text)
    });
    if let Err(e) = kept {
        tracing::error!(source = %source.id, error = %e, alert = %message, "could not store an admin alert");
    }
}

/// How long a failing source rests before its next poll: one minute, doubling with each failure
/// up to an hour or, when its schedule's `interval` is longer, up to that interval (a daily
/// source failing for good is then tried about once a day, not hourly), with ±10% jitter (from
/// the source id and count, so sources that fail together do not come back together). Ticks of
/// the schedule inside the rest are skipped, and the source is tried again when the rest ends,
/// not at the schedule's next tick (see `schedule::run_every`).
pub fn backoff(
    source: &str,
    failures: u32,
    interval: Option<std::time::Duration>,
) -> chrono::Duration {
    let cap = interval.map_or(0, |i| i64::try_from(i.as_secs()).unwrap_or(i64::MAX));
    let cap = cap.clamp(3600, MAX_REST_SECS);
    let base = 60_i64 << failures.saturating_sub(1).min(20);
    let secs = base.min(cap);
    let seed = crate::model::ItemId::new(source, &failures.to_string()).0[0] as i64;
    let jitter = secs * (seed - 128) / 1280;
    chrono::Duration::seconds(secs + jitter)
}

/// When a source that failed `failures` times in a row, the last with `error`, at `now`, is
/// polled again: after its [`backoff`], and not before a site's `Retry-After` (429 or 503) is
/// over, within a day.
fn rest_end(
    source: &Source,
    failures: u32,
    error: &PollError,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let interval = schedule::interval(&source.schedule, source.timezone, now);
    let rest = backoff(&source.id, failures, interval);
    let asked = error.retry_after().map_or(rest, |wait| {
        chrono::Duration::from_std(wait.min(MAX_ASKED_WAIT)).unwrap_or(rest)
    });
    now + rest.max(asked)
}

/// The longest rest: a schedule of one instant a year still has its source tried every week
/// while it fails.
const MAX_REST_SECS: i64 = 7 * 24 * 3600;

/// The longest wait a site's `Retry-After` can ask of a poll.
const MAX_ASKED_WAIT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// A short description of what an edit changed, for the log.
fn describe_diff(old: &Config, new: &Config) -> String {
    let mut parts = Vec::new();
    let (o, n) = (&old.texts, &new.texts);
    for s in &new.sources {
        match o.sources.get(&s.id) {
            None => parts.push(format!("+source {}", s.id)),
            Some(text) if n.sources.get(&s.id) != Some(text) => {
                parts.push(format!("~source {}", s.id))
            }
            _ => {}
        }
    }
    for s in &old.sources {
        if new.source(&s.id).is_none() {
            parts.push(format!("-source {}", s.id));
        }
    }
    for c in &new.channels {
        match o.channels.get(&c.id) {
            None => parts.push(format!("+channel {}", c.id)),
            Some(text) if n.channels.get(&c.id) != Some(text) => {
                parts.push(format!("~channel {}", c.id))
            }
            _ => {}
        }
    }
    for c in &old.channels {
        if new.channel(&c.id).is_none() {
            parts.push(format!("-channel {}", c.id));
        }
    }
    if o.rest != n.rest {
        parts.push("~general/server/telegram".into());
    }
    if old.translations != new.translations {
        parts.push("~translations".into());
    }
    parts.join(", ")
}

/// The config's `[[translations]]` groups as source ids (see `Store::set_translation_groups`).
fn translation_groups(config: &Config) -> Vec<Vec<String>> {
    config
        .translations
        .iter()
        .map(|g| g.sources.clone())
        .collect()
}

/// How long the record of a post outlives its item in the feed (see `Store::sweep_posts`).
const POST_RECORDS_KEPT: chrono::TimeDelta = chrono::TimeDelta::days(30);

/// Once a day (the first time a minute after start), forgets the posts of items that left the
/// feeds long ago, so that the database does not grow by a record per post for ever.
async fn sweep_posts_daily(store: Store, stop: CancellationToken) {
    const EVERY: Duration = Duration::from_secs(24 * 3600);
    {
        let mut wait = Duration::from_secs(60);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            wait = EVERY;
            let store = store.clone();
            let swept = tokio::task::spawn_blocking(move || {
                store.sweep_posts(Utc::now() - POST_RECORDS_KEPT)
            })
            .await;
            match swept {
                Ok(Ok(n)) => tracing::info!(removed = n, "old post records swept"),
                Ok(Err(e)) => tracing::warn!(error = %e, "sweeping old post records failed"),
                Err(e) => tracing::warn!(error = %e, "sweeping old post records failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reload that only regroups translations is a change (else it would be ignored).
    #[test]
    fn a_translations_edit_is_a_change() {
        let source = |id: &str, lang: &str| {
            format!(
                "[[sources]]\nid = \"{id}\"\nurl = \"https://e.org/{id}\"\n\
                 schedule = \"0 0 * * * *\"\nkind = \"feed\"\nlanguage = \"{lang}\"\n"
            )
        };
        let base = format!("{}{}", source("a", "en"), source("b", "ru"));
        let parse = |text: &str| {
            crate::config::parse(
                std::path::Path::new("c.toml"),
                text,
                std::path::Path::new("/tmp"),
            )
            .unwrap()
        };
        let old = parse(&base);
        let new = parse(&format!(
            "{base}[[translations]]\nsources = [\"a\", \"b\"]\n"
        ));
        assert_eq!(describe_diff(&old, &new), "~translations");
        assert_eq!(describe_diff(&old, &old), "");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let minute = Some(std::time::Duration::from_secs(60));
        let secs = |n| backoff("akorda-en", n, minute).num_seconds();
        assert!((54..=66).contains(&secs(1)), "{}", secs(1));
        assert!((108..=132).contains(&secs(2)), "{}", secs(2));
        assert!((3240..=3960).contains(&secs(9)), "{}", secs(9));
        assert!((3240..=3960).contains(&secs(100)), "{}", secs(100));
        assert!((3240..=3960).contains(&backoff("a", 100, None).num_seconds()));
    }

    /// A site answering 429 or 503 with `Retry-After` is not polled before the wait it asked
    /// for is over (within a day); without it, or when it asks less, the backoff holds.
    #[test]
    fn a_retry_after_holds_the_next_poll_back() {
        use crate::fetch::FetchError;
        let config = crate::config::parse(
            std::path::Path::new("c.toml"),
            "[[sources]]\nid = \"a\"\nurl = \"https://e.org/a\"\n\
             schedule = \"0 * * * * *\"\nkind = \"feed\"\n",
            std::path::Path::new("/tmp"),
        )
        .unwrap();
        let source = &config.sources[0];
        let now = Utc::now();
        let fetch = |source| PollError::Fetch {
            url: "https://e.org/a".into(),
            source,
        };
        let wait = |error: PollError| (rest_end(source, 1, &error, now) - now).num_seconds();
        assert_eq!(wait(fetch(FetchError::StatusWait(429, 7200))), 7200);
        assert_eq!(wait(fetch(FetchError::StatusWait(503, 10 * 86400))), 86400);
        assert!((54..=66).contains(&wait(fetch(FetchError::StatusWait(503, 5)))));
        assert!((54..=66).contains(&wait(fetch(FetchError::Status(429)))));
    }

    /// A daily source failing for good is not tried hourly for ever: its rest grows to its
    /// schedule's interval (a day), and no further than a week for a yearly one.
    #[test]
    fn a_rest_grows_to_a_schedule_interval_longer_than_an_hour() {
        let day: i64 = 24 * 3600;
        let daily = Some(std::time::Duration::from_secs(day as u64));
        let secs = |n| backoff("akorda-en", n, daily).num_seconds();
        assert!((54..=66).contains(&secs(1)), "{}", secs(1));
        assert!((27648..=33792).contains(&secs(10)), "{}", secs(10));
        assert!(
            (day * 9 / 10..=day * 11 / 10).contains(&secs(12)),
            "{}",
            secs(12)
        );
        assert!(
            (day * 9 / 10..=day * 11 / 10).contains(&secs(1000)),
            "{}",
            secs(1000)
        );
        let yearly = Some(std::time::Duration::from_secs(365 * day as u64));
        let week = 7 * day;
        let rest = backoff("akorda-en", 1000, yearly).num_seconds();
        assert!((week * 9 / 10..=week * 11 / 10).contains(&rest), "{rest}");
    }
}
