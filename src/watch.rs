//! Noticing config edits: a watch on the config file's folder (and on its target's folder, when
//! it is a symlink), a slower poll of the file's content for file systems without change
//! events, and SIGHUP. An edit is handed on only once the file holds still, and only when its
//! content differs from the last one handed on (SIGHUP hands on whatever is there).
//!
//! Holding still: no change event for [`QUIET`], then two reads [`STABLE`] apart that are
//! equal. An editor or a deploy tool that writes the file in pieces is never read half-way (a
//! half-written file was applied live, and a source vanished for a second), and content that
//! is still changing is neither applied nor reported as a bad edit.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::{self, Config, Diagnostic};

/// How long change events must pause before the file is read.
const QUIET: Duration = Duration::from_millis(300);
/// How far apart the two reads that must be equal are.
const STABLE: Duration = Duration::from_millis(500);
/// How often the file's content is compared with the last seen, events or not.
const POLL_EVERY: Duration = Duration::from_secs(5);

/// Why the file is to be looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trigger {
    /// A change event, or the poll saw other content.
    Changed,
    /// SIGHUP: re-read whatever the file holds.
    Asked,
}

/// The config file's content, once it held still.
pub(crate) struct Edit {
    /// The text, or why it cannot be read.
    pub(crate) read: std::io::Result<Vec<u8>>,
    /// A digest of what was read (the text, or the error): the same edit has the same one.
    pub(crate) digest: [u8; 32],
    /// Asked for with SIGHUP (handed on even when nothing changed).
    pub(crate) asked: bool,
}

impl Edit {
    /// The config this edit holds, validated as `config::load` would (which refuses a file
    /// left with nothing but blanks and comments, as a deleted one is refused here).
    pub(crate) fn load(&self, path: &Path) -> Result<Config, Vec<Diagnostic>> {
        match &self.read {
            Ok(bytes) => {
                config::text_of(path, bytes).and_then(|text| config::load_text(path, text))
            }
            Err(e) => Err(config::unreadable(path, e)),
        }
    }
}

/// Watches one config file; [`ConfigWatch::next`] yields its edits.
pub(crate) struct ConfigWatch {
    path: PathBuf,
    triggers: mpsc::Receiver<Trigger>,
    /// Digest of the content last handed on (at first: found at start).
    seen: [u8; 32],
    _events: Option<notify::RecommendedWatcher>,
}

impl ConfigWatch {
    /// Starts watching `path` (events, poll, SIGHUP) until `stop`.
    pub(crate) async fn start(path: &Path, stop: &CancellationToken) -> ConfigWatch {
        let (tx, triggers) = mpsc::channel(16);
        let seen = snapshot(path).await.1;
        let events = watch_events(path, tx.clone());
        poll_content(path.to_path_buf(), seen, tx.clone(), stop.clone());
        watch_sighup(tx, stop.clone());
        ConfigWatch {
            path: path.to_path_buf(),
            triggers,
            seen,
            _events: events,
        }
    }

    /// The next edit: content other than the last handed on, once it holds still; or, on
    /// SIGHUP, whatever the file holds once it holds still.
    pub(crate) async fn next(&mut self) -> Edit {
        loop {
            let Some(trigger) = self.triggers.recv().await else {
                return std::future::pending().await;
            };
            let mut asked = trigger == Trigger::Asked;
            let (read, digest) = loop {
                asked |= self.quiet().await;
                let (first, digest) = snapshot(&self.path).await;
                asked |= self.wait(STABLE).await;
                let (_, again) = snapshot(&self.path).await;
                if again == digest {
                    break (first, digest);
                }
                tracing::debug!("the config file is still changing");
            };
            if asked || digest != self.seen {
                self.seen = digest;
                return Edit {
                    read,
                    digest,
                    asked,
                };
            }
        }
    }

    /// Waits until no trigger came for [`QUIET`]; answers whether one of those was SIGHUP.
    async fn quiet(&mut self) -> bool {
        let mut asked = false;
        while let Ok(Some(trigger)) = tokio::time::timeout(QUIET, self.triggers.recv()).await {
            asked |= trigger == Trigger::Asked;
        }
        asked
    }

    /// Waits `time`, taking the triggers that come meanwhile; answers whether one was SIGHUP.
    async fn wait(&mut self, time: Duration) -> bool {
        let until = tokio::time::Instant::now() + time;
        let mut asked = false;
        while let Ok(Some(trigger)) = tokio::time::timeout_at(until, self.triggers.recv()).await {
            asked |= trigger == Trigger::Asked;
        }
        asked
    }
}

/// The file's text (or why it cannot be read) and its digest.
async fn snapshot(path: &Path) -> (std::io::Result<Vec<u8>>, [u8; 32]) {
    let owned = path.to_path_buf();
    let read = tokio::task::spawn_blocking(move || config::read_file(&owned))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
    let digest = match &read {
        Ok(bytes) => Sha256::digest(bytes).into(),
        Err(e) => Sha256::digest(format!("unreadable: {e}").as_bytes()).into(),
    };
    (read, digest)
}

/// Watches the config file's folder (editors often write a temp file and rename it over the
/// original, which a watch on the file itself would miss), and its target's folder when the
/// path goes through a symlink (an edit of the target makes no event beside the link).
fn watch_events(path: &Path, tx: mpsc::Sender<Trigger>) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    use notify::event::{AccessKind, AccessMode, EventKind};
    let folder = |p: &Path| match p.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut watched = vec![(folder(path), path.file_name()?.to_owned())];
    if let Ok(target) = std::fs::canonicalize(path)
        && let Some(name) = target.file_name()
    {
        let dir = folder(&target);
        let same = std::fs::canonicalize(&watched[0].0).is_ok_and(|d| d == dir);
        if !same || name != watched[0].1 {
            watched.push((dir, name.to_owned()));
        }
    }
    let names: Vec<_> = watched.iter().map(|(_, name)| name.clone()).collect();
    let handler = move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        // Reads (ours included) are no change; the end of a write is.
        if event.kind.is_access()
            && event.kind != EventKind::Access(AccessKind::Close(AccessMode::Write))
        {
            return;
        }
        let ours = event
            .paths
            .iter()
            .any(|p| p.file_name().is_some_and(|n| names.iter().any(|m| m == n)));
        if ours {
            let _ = tx.try_send(Trigger::Changed);
        }
    };
    let warn = |e: notify::Error| {
        tracing::warn!(error = %e, "cannot watch the config file; it is polled every 5 s and SIGHUP reloads");
    };
    let mut watcher = notify::recommended_watcher(handler).map_err(warn).ok()?;
    for (dir, _) in &watched {
        watcher
            .watch(dir, notify::RecursiveMode::NonRecursive)
            .map_err(warn)
            .ok()?;
    }
    Some(watcher)
}

/// A slower second way to notice edits, for file systems where change events do not arrive
/// (network mounts, some container bind mounts) or arrive elsewhere (a symlink swapped, as
/// Kubernetes does with mounted config maps): the file's content, every few seconds. The
/// content, not the size and time: an edit may keep both.
fn poll_content(
    path: PathBuf,
    mut last: [u8; 32],
    tx: mpsc::Sender<Trigger>,
    stop: CancellationToken,
) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(POLL_EVERY) => {}
            }
            let now = snapshot(&path).await.1;
            if now != last {
                last = now;
                let _ = tx.send(Trigger::Changed).await;
            }
        }
    });
}

/// Re-reads the config on SIGHUP.
fn watch_sighup(tx: mpsc::Sender<Trigger>, stop: CancellationToken) {
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
                    let _ = tx.send(Trigger::Asked).await;
                }
            }
        }
    });
}
