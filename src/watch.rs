//! Noticing config edits: a watch on the config file's folder, a slower poll of the file for
//! file systems without change events, and SIGHUP. Each sends a request to re-read the config.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Watches the config file's folder (editors often write a temp file and rename it over the
/// original, which a watch on the file itself would miss).
pub(crate) fn watch_config(
    path: &std::path::Path,
    reload: mpsc::Sender<()>,
) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let file = path.file_name()?.to_owned();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if event.kind.is_access() {
            return;
        }
        if event
            .paths
            .iter()
            .any(|p| p.file_name() == Some(file.as_os_str()))
        {
            let _ = reload.try_send(());
        }
    })
    .map_err(|e| tracing::warn!(error = %e, "cannot watch the config file; SIGHUP still reloads"))
    .ok()?;
    watcher
        .watch(&dir, notify::RecursiveMode::NonRecursive)
        .map_err(
            |e| tracing::warn!(error = %e, "cannot watch the config file; SIGHUP still reloads"),
        )
        .ok()?;
    Some(watcher)
}

/// A slower second way to notice edits, for file systems where change events do not arrive
/// (network mounts, some container bind mounts): the file's size and modification time, every
/// few seconds.
pub(crate) fn poll_config_file(
    path: std::path::PathBuf,
    reload: mpsc::Sender<()>,
    stop: CancellationToken,
) {
    const EVERY: Duration = Duration::from_secs(5);
    let stamp = move |p: &std::path::Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.len(), m.modified().ok()))
    };
    tokio::spawn(async move {
        let mut last = stamp(&path);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(EVERY) => {}
            }
            let now = stamp(&path);
            if now != last {
                last = now;
                let _ = reload.send(()).await;
            }
        }
    });
}

/// Re-reads the config on SIGHUP.
pub(crate) fn watch_sighup(reload: mpsc::Sender<()>, stop: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot handle SIGHUP");
        return;
    };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = hup.recv() => {
                    tracing::info!("SIGHUP: re-reading the config");
                    let _ = reload.send(()).await;
                }
            }
        }
    });
}
