//! Every long-lived task runs under a supervisor (SPEC: "nothing fails silently"): a task that
//! panics, or returns while herald is not stopping, is counted in `/metrics`
//! (`herald_task_failures_total{task}`), logged as an error, told to whoever the caller names
//! (a source's or channel's state, the admins), and started again after a backoff that doubles
//! from one second to five minutes (reset when a run lasted longer than the longest backoff).

use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const LAST_BACKOFF: Duration = Duration::from_secs(300);

/// The text of a panic's payload (`panic!("…")` carries a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// How a supervised run ended, for the caller to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// It panicked, with this message.
    Panicked(String),
    /// It returned while herald was not stopping.
    Returned,
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Panicked(m) => write!(f, "stopped by an internal error (a bug): {m}"),
            Ended::Returned => f.write_str("stopped unexpectedly"),
        }
    }
}

/// Runs `task(stop)` until `stop` is cancelled, starting it again whenever it ends early; each
/// early end is counted, logged and passed to `report` (which may, e.g., record it in a source's
/// state or tell the admins) before the backoff.
pub async fn supervise<F, Fut, R, RFut>(name: String, stop: CancellationToken, task: F, report: R)
where
    F: Fn(CancellationToken) -> Fut,
    Fut: Future<Output = ()>,
    R: Fn(Ended) -> RFut,
    RFut: Future<Output = ()>,
{
    let mut backoff = FIRST_BACKOFF;
    while !stop.is_cancelled() {
        let started = tokio::time::Instant::now();
        let outcome = AssertUnwindSafe(task(stop.clone())).catch_unwind().await;
        if stop.is_cancelled() {
            return;
        }
        let ended = match outcome {
            Ok(()) => Ended::Returned,
            Err(payload) => Ended::Panicked(panic_message(payload.as_ref())),
        };
        metrics::counter!("herald_task_failures_total", "task" => name.clone()).increment(1);
        if started.elapsed() > LAST_BACKOFF {
            backoff = FIRST_BACKOFF;
        }
        tracing::error!(task = %name, restart_in = ?backoff, "task {ended}; restarting it");
        report(ended).await;
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(LAST_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn a_panicking_task_is_reported_and_restarted_until_stopped() {
        let stop = CancellationToken::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let reports = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (r, rep) = (runs.clone(), reports.clone());
        let task = tokio::spawn(supervise(
            "t".into(),
            stop.clone(),
            move |_stop| {
                let n = r.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n == 0 {
                        panic!("planted");
                    }
                    // Later runs return at once: an early end too.
                }
            },
            move |ended| {
                rep.lock().unwrap().push(ended);
                async {}
            },
        ));
        // Backoffs 1, 2, 4 s: four runs within 7.5 s.
        tokio::time::sleep(Duration::from_millis(7500)).await;
        stop.cancel();
        task.await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 4);
        let reports = reports.lock().unwrap().clone();
        assert_eq!(reports[0], Ended::Panicked("planted".into()));
        assert_eq!(reports[1], Ended::Returned);
    }
}
