//! Builds every part from the config and wires them together: the store, the fetcher, one
//! schedule task per source, and the HTTP server. Runs until stopped, then flushes the store.

use crate::config::{Config, Source};
use crate::fetch::{Fetcher, FetcherOptions};
use crate::model::ItemState;
use crate::pipeline::{PollError, PollOptions, PollReport, Poller};
use crate::schedule;
use crate::server;
use crate::store::Store;
use crate::telegram::Token;
use crate::telegram::deliver::{self, Deliverer};
use crate::telegram::limits::GlobalLimit;
use anyhow::Context;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// sled's page cache; its default is 1 GiB, far more than a feed service needs.
pub const STORE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// How long a stop waits for polls in flight before abandoning them (a poll's store step is one
/// transaction, so an abandoned poll leaves nothing half-written).
const STOP_GRACE: Duration = Duration::from_secs(10);

/// How to build an app beyond its config.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The bot token (from `TELOXIDE_TOKEN`); `None` turns Telegram delivery off.
    pub token: Option<Token>,
    pub fetcher: FetcherOptions,
    /// How long a Bot API call may take before it counts as unanswered (default 17 s).
    pub telegram_timeout: Option<Duration>,
}

/// What the running parts share.
pub struct Shared {
    pub config: Arc<Config>,
    pub store: Store,
    pub fetcher: Fetcher,
    /// Bumped on every stored change, so cached feed documents know they are stale.
    pub generation: AtomicU64,
    pub started: DateTime<Utc>,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Telegram delivery, when a token is set.
    pub telegram: Option<Arc<Deliverer>>,
    /// Wakes the delivery workers when a poll queued something.
    pub wake: Arc<Notify>,
}

#[derive(Clone)]
pub struct App {
    pub shared: Arc<Shared>,
}

impl App {
    /// Opens the store and builds the parts; fails when the database is in use or broken.
    pub fn new(config: Config, options: Options) -> anyhow::Result<App> {
        let store = Store::open(&config.general.data_dir, STORE_CACHE_BYTES)?;
        let fetcher = Fetcher::new(options.fetcher).context("building the HTTP client")?;
        let config = Arc::new(config);
        let wake = Arc::new(Notify::new());
        let telegram = options.token.map(|token| {
            Arc::new(Deliverer {
                bot: deliver::bot(
                    &token,
                    &config.telegram.api_url,
                    options.telegram_timeout.unwrap_or(Duration::from_secs(17)),
                ),
                store: store.clone(),
                config: config.clone(),
                global: GlobalLimit::new(config.telegram.global_per_second),
                wake: wake.clone(),
            })
        });
        Ok(App {
            shared: Arc::new(Shared {
                config,
                store,
                fetcher,
                generation: AtomicU64::new(0),
                started: Utc::now(),
                metrics: crate::server::metrics_handle(),
                telegram,
                wake,
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Polls one source now, records the outcome in logs and metrics, and marks the feeds stale
    /// when something was stored.
    pub async fn poll(&self, source: &Source, opts: PollOptions) -> Result<PollReport, PollError> {
        let poller = Poller {
            fetcher: &self.shared.fetcher,
            user_agent: &self.shared.config.general.user_agent,
            store: Some(&self.shared.store),
            telegram: self.shared.telegram.is_some(),
        };
        let result = poller.poll(source, opts).await;
        let id = source.id.clone();
        match &result {
            Ok(report) if report.unchanged => {
                metrics::counter!("herald_polls_total", "source" => id, "result" => "unchanged")
                    .increment(1);
                tracing::debug!(source = %source.id, "unchanged");
            }
            Ok(report) => {
                let (new, changed) = (
                    report.count(ItemState::New),
                    report.count(ItemState::Changed),
                );
                metrics::counter!("herald_polls_total", "source" => id.clone(), "result" => "ok")
                    .increment(1);
                metrics::counter!("herald_items_new_total", "source" => id.clone())
                    .increment(new as u64);
                metrics::counter!("herald_items_changed_total", "source" => id)
                    .increment(changed as u64);
                if new + changed > 0 && !opts.dry_run {
                    self.shared.generation.fetch_add(1, Ordering::SeqCst);
                }
                if !opts.dry_run {
                    self.shared.wake.notify_waiters();
                }
                tracing::info!(
                    source = %source.id,
                    new,
                    changed,
                    known = report.count(ItemState::Known),
                    pages = report.pages,
                    "polled"
                );
            }
            Err(e) => {
                metrics::counter!("herald_polls_total", "source" => id, "result" => "error")
                    .increment(1);
                tracing::warn!(source = %source.id, error = %e, "poll failed");
            }
        }
        result
    }

    /// Serves HTTP on `listener` and polls every source on its schedule until `stop` is
    /// cancelled; then lets polls in flight finish (or abandons them after a grace period) and
    /// flushes the store.
    pub async fn run(self, listener: TcpListener, stop: CancellationToken) -> anyhow::Result<()> {
        let mut tasks = tokio::task::JoinSet::new();
        for source in self.shared.config.sources.clone() {
            let app = self.clone();
            let stop = stop.clone();
            tasks.spawn(async move {
                let (schedule, tz) = (source.schedule.clone(), source.timezone);
                schedule::run_every(schedule, tz, stop, || async {
                    let opts = PollOptions {
                        conditional: true,
                        dry_run: false,
                    };
                    let _ = app.poll(&source, opts).await;
                })
                .await;
            });
        }
        match &self.shared.telegram {
            Some(deliverer) => {
                for channel in self.shared.config.channels.clone() {
                    tasks.spawn(deliverer.clone().run_channel(channel, stop.clone()));
                }
            }
            None => tracing::warn!("TELOXIDE_TOKEN is not set: Telegram delivery is off"),
        }
        let router = server::router(self.shared.clone());
        let server_stop = stop.clone();
        let server = axum::serve(listener, router)
            .with_graceful_shutdown(async move { server_stop.cancelled().await });
        let served = server.await.context("HTTP server failed");
        stop.cancel();
        let drained = tokio::time::timeout(STOP_GRACE, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("abandoning polls still running after {STOP_GRACE:?}");
            tasks.abort_all();
        }
        self.shared
            .store
            .flush()
            .await
            .context("flushing the database")?;
        tracing::info!("stopped");
        served
    }
}
