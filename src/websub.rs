//! WebSub publishing (W3C WebSub): when `[server] websub_hub` is set, the feeds advertise the hub
//! (see `render`), and after a poll stores new or corrected items herald tells the hub which feed
//! URLs (topics) changed, so that subscribed readers fetch them within seconds.
//!
//! The Recommendation leaves the publisher-to-hub call to each hub; the common form, which
//! pubsubhubbub.appspot.com and Superfeedr accept, is a form-encoded `POST` of `hub.mode=publish`
//! and `hub.url={topic}`. Pings are best effort and fully in the background: a queue of changed
//! topics (a set, so a burst of polls pings each feed once) drained by one task, each ping with a
//! timeout and a few retries with backoff. A slow or failing hub delays nothing else; failures are
//! logged and counted in `/metrics`. The queue is kept in the store too (as feed paths, read
//! against the `public_url` of the moment): pings pending at a stop are made after the next start
//! (issue 25).

use crate::config::LiveConfig;
use crate::store::Store;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How pings are made.
#[derive(Clone, Debug)]
pub struct PingOptions {
    /// How long one request to the hub may take.
    pub timeout: Duration,
    /// Requests per topic before giving up on it (the first included).
    pub attempts: u32,
    /// The wait after the first failure; it doubles after each further one.
    pub first_backoff: Duration,
}

impl Default for PingOptions {
    fn default() -> Self {
        PingOptions {
            timeout: Duration::from_secs(10),
            attempts: 4,
            first_backoff: Duration::from_secs(5),
        }
    }
}

/// The feed URLs (WebSub topics, the feeds' self links) that change with `source`'s items: its
/// three formats, and the merged `all` feed's.
pub fn topics(public_url: &str, source: &str) -> Vec<String> {
    paths(source)
        .into_iter()
        .map(|path| format!("{public_url}{path}"))
        .collect()
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

/// Queues and sends pings to the configured hub.
pub struct Publisher {
    config: Arc<LiveConfig>,
    client: reqwest::Client,
    options: PingOptions,
    /// Where the queue is kept across a stop (none in tests of the parts).
    store: Option<Store>,
    /// Feeds (paths) changed since the worker last looked.
    pending: Mutex<BTreeSet<String>>,
    wake: Notify,
}

/// Why one ping failed.
#[derive(Debug, thiserror::Error)]
enum PingError {
    /// No answer in time, or no connection.
    #[error("hub unreachable: {0}")]
    Network(String),
    /// The hub answered with an error status.
    #[error("hub answered {0}")]
    Status(u16),
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
            .build()
            .unwrap_or_default();
        Publisher {
            config,
            client,
            options,
            store,
            pending: Mutex::new(BTreeSet::new()),
            wake: Notify::new(),
        }
    }

    /// Notes that the feeds of these sources changed; returns at once. Nothing is queued when
    /// no hub is configured.
    pub fn changed<'s>(&self, sources: impl IntoIterator<Item = &'s str>) {
        let config = self.config.get();
        if config.server.websub_hub.is_none() {
            return;
        }
        let changed: Vec<String> = sources.into_iter().flat_map(paths).collect();
        let any = !changed.is_empty();
        if let Some(store) = &self.store
            && let Err(e) = store.websub_pending_add(&changed)
        {
            tracing::warn!(error = %e, "WebSub pings could not be noted in the store; a stop before they are made loses them");
        }
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(changed);
        if any {
            // A stored permit: a change noted while the worker is busy is seen when it is back.
            self.wake.notify_one();
        }
    }

    /// The worker: sends the queued pings, one topic after another, until `stop`.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        // Pings noted before a stop (or before this task was restarted) are made first.
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
        if !kept.is_empty() {
            tracing::info!(
                topics = kept.len(),
                "WebSub pings pending at the last stop are made now"
            );
            self.pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(kept);
            self.wake.notify_one();
        }
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.wake.notified() => {}
            }
            let batch =
                std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
            for path in batch {
                // Read for each topic: a hub removed or changed by a config edit applies at once.
                let config = self.config.get();
                let Some(hub) = config.server.websub_hub.clone() else {
                    break;
                };
                let topic = format!("{}{path}", config.general.public_url);
                tokio::select! {
                    // What is left stays in the store for the next start.
                    () = stop.cancelled() => return,
                    () = self.ping_with_retries(&hub, &topic) => {}
                }
                self.forget(&path);
            }
        }
    }

    /// Takes a pinged (or given up) feed out of the store, unless it changed again meanwhile.
    fn forget(&self, path: &str) {
        let again = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(path);
        if let (Some(store), false) = (&self.store, again)
            && let Err(e) = store.websub_pinged(path)
        {
            tracing::warn!(error = %e, path, "a WebSub ping could not be marked made; it may be made again after a restart");
        }
    }

    async fn ping_with_retries(&self, hub: &url::Url, topic: &str) {
        let mut wait = self.options.first_backoff;
        for attempt in 1..=self.options.attempts.max(1) {
            match self.ping(hub, topic).await {
                Ok(()) => {
                    metrics::counter!("herald_websub_pings_total", "result" => "ok").increment(1);
                    tracing::debug!(%hub, topic, "hub pinged");
                    return;
                }
                Err(e) if attempt < self.options.attempts => {
                    metrics::counter!("herald_websub_retries_total").increment(1);
                    tracing::debug!(%hub, topic, attempt, error = %e, "hub ping failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2);
                }
                Err(e) => {
                    metrics::counter!("herald_websub_pings_total", "result" => "failed")
                        .increment(1);
                    tracing::warn!(%hub, topic, attempts = attempt, error = %e, "hub ping failed; giving up (readers still poll the feed)");
                }
            }
        }
    }

    async fn ping(&self, hub: &url::Url, topic: &str) -> Result<(), PingError> {
        let answer = self
            .client
            .post(hub.clone())
            .form(&[("hub.mode", "publish"), ("hub.url", topic)])
            .send()
            .await
            // Without the URL: only the hub's, but the kind of failure is what matters.
            .map_err(|e| PingError::Network(e.without_url().to_string()))?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(PingError::Status(status.as_u16()))
        }
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
    }
}
