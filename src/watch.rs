//! Noticing config edits: a watch on the config file's folder (and on its target's folder, when
//! it is a symlink), a slower poll of the file's content for file systems without change
//! events, and SIGHUP. An edit is handed on only once the file holds still, and only when its
//! content differs from the last one handed on (SIGHUP hands on whatever is there).
//!
//! Holding still: no writer holds the file open, no change event for [`QUIET`], then two reads
//! [`STABLE`] apart that are equal. An editor or a deploy tool that writes the file in pieces is
//! never read half-way (a half-written file was applied live, and a source vanished for a
//! second), and content that is still changing is neither applied nor reported as a bad edit.
//!
//! No writer holds it open (issue 19: never act on a file still being written): a write of the
//! file (a change of its data, or its creation as a regular file) is followed by the close of
//! its writer (inotify's `IN_CLOSE_WRITE`, which notify watches by default), and the file is
//! not read in between, however long the writer pauses (a writer that flushed half and slept
//! 2.5 s had its half applied). A replace by a rename (an editor's save, a Kubernetes config
//! map's `..data` symlink swap) has no writer and is read at once. Where no events come (the
//! poll, a file system without them) the time alone decides, as it does for a writer that
//! holds the file open without writing for [`WRITER_BOUND`]: it is read then as it is, and from
//! then on edits are read once still (a mount that reports writes but not closes, a Docker
//! Desktop bind mount, would otherwise hold every save that long); off Linux, where notify
//! reports no closes, from the start.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
/// How long after its last write a writer that keeps the file open is waited for.
const WRITER_BOUND: Duration = Duration::from_secs(30);

/// When the config file was last written by a writer that has not closed it since (as the
/// change events tell; `None` when they tell of none, or do not come).
type Writing = Arc<Mutex<Option<Instant>>>;

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
    writing: Writing,
    /// Writers' closes are not reported here (notify reports them from Linux's inotify only,
    /// and some mounts pass writes but not closes): edits are then read once still, without
    /// waiting for a close that never comes. Learnt the first time the bound passes.
    closes_unseen: bool,
    _events: Option<notify::RecommendedWatcher>,
}

impl ConfigWatch {
    /// Starts watching `path` (events, poll, SIGHUP) until `stop`. `loaded`: the digest of the
    /// text the running config was read from ([`config::Config::text_digest`]): a file that
    /// holds another now (an edit made while herald was starting) is read at once.
    pub(crate) async fn start(
        path: &Path,
        loaded: [u8; 32],
        stop: &CancellationToken,
    ) -> ConfigWatch {
        let (tx, triggers) = mpsc::channel(16);
        let (read, mut seen) = snapshot(path).await;
        let now = read
            .ok()
            .and_then(|bytes| config::text_of(path, &bytes).ok().map(config::text_digest));
        if now != Some(loaded) {
            // Not what the running config holds: handed on as an edit (no file digests to
            // all zeros).
            seen = [0; 32];
            let _ = tx.try_send(Trigger::Changed);
        }
        let writing = Writing::default();
        let events = watch_events(path, tx.clone(), writing.clone());
        poll_content(path.to_path_buf(), seen, tx.clone(), stop.clone());
        watch_sighup(tx, stop.clone());
        ConfigWatch {
            path: path.to_path_buf(),
            triggers,
            seen,
            writing,
            closes_unseen: !cfg!(target_os = "linux"),
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
                asked |= self.writer_closed().await;
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

    /// Waits until no writer holds the file open, or its last write is [`WRITER_BOUND`] old;
    /// answers whether a trigger meanwhile was SIGHUP.
    async fn writer_closed(&mut self) -> bool {
        let mut asked = false;
        loop {
            if self.closes_unseen {
                return asked;
            }
            let last_write = *self.writing.lock().unwrap_or_else(|e| e.into_inner());
            let Some(last_write) = last_write else {
                return asked;
            };
            let until = tokio::time::Instant::from_std(last_write + WRITER_BOUND);
            if tokio::time::Instant::now() >= until {
                // A writer holding it open that long, or a mount that reports writes but not
                // closes (a Docker Desktop bind mount): either way, from now on edits are read
                // once still, so that no later save waits here.
                tracing::warn!(
                    "no close of the config file was reported {} s after its last write; it is read as it is, and later edits once they are still",
                    WRITER_BOUND.as_secs()
                );
                self.closes_unseen = true;
                return asked;
            }
            tracing::debug!("the config file is open for writing; waiting for its close");
            // The close (or another write) comes as a trigger; the bound as the timeout.
            if let Ok(Some(trigger)) = tokio::time::timeout_at(until, self.triggers.recv()).await {
                asked |= trigger == Trigger::Asked;
            }
        }
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
fn watch_events(
    path: &Path,
    tx: mpsc::Sender<Trigger>,
    writing: Writing,
) -> Option<notify::RecommendedWatcher> {
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
            // Before the trigger, which may be dropped when the queue is full (the watch then
            // has triggers to wake it anyway); the state is never dropped.
            note_writer(&event, &writing);
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

/// Keeps `writing` up to date with one change event of the config file (or its target).
fn note_writer(event: &notify::Event, writing: &Writing) {
    use notify::event::{AccessKind, AccessMode, CreateKind, EventKind, ModifyKind};
    let mut last_write = writing.lock().unwrap_or_else(|e| e.into_inner());
    match event.kind {
        EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Any) => {
            *last_write = Some(Instant::now());
        }
        // Made by `open(O_CREAT)`: a writer holds it. A symlink, a FIFO or a hard link made
        // under the name has none, and no close would ever come.
        EventKind::Create(CreateKind::File | CreateKind::Any) => {
            let regular = event
                .paths
                .iter()
                .any(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()));
            if regular {
                *last_write = Some(Instant::now());
            }
        }
        // The writer is done; or the file under the name is another now (a rename onto it,
        // as an editor's save or a config map's symlink swap does), or none.
        EventKind::Access(AccessKind::Close(AccessMode::Write))
        | EventKind::Modify(ModifyKind::Name(_))
        | EventKind::Remove(_) => *last_write = None,
        _ => {}
    }
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

/// SIGHUP's listener from the start of `run` until the watcher takes it (see [`hold_sighup`]).
static EARLY_HUP: std::sync::Mutex<Option<tokio::signal::unix::Signal>> =
    std::sync::Mutex::new(None);

/// Takes SIGHUP from now on, before the watcher starts: its default action ends the process,
/// and a reload sent while herald is still starting (opening a large database) killed the
/// service, which systemd counts as a clean exit and does not restart. A SIGHUP that arrives
/// before the watcher starts re-reads the config once it does.
pub fn hold_sighup() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let hup = signal(SignalKind::hangup())?;
    *EARLY_HUP.lock().unwrap_or_else(|p| p.into_inner()) = Some(hup);
    Ok(())
}

/// Re-reads the config on SIGHUP.
fn watch_sighup(tx: mpsc::Sender<Trigger>, stop: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let early = EARLY_HUP.lock().unwrap_or_else(|p| p.into_inner()).take();
    let Ok(mut hup) = early.map_or_else(|| signal(SignalKind::hangup()), Ok) else {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Whether a writer holds the file open, as the events told, within 2 s.
    async fn writing_becomes(writing: &Writing, open: bool) -> bool {
        for _ in 0..200 {
            if writing.lock().unwrap().is_some() == open {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    /// notify's inotify backend reports the close of a writer (`IN_CLOSE_WRITE` is in the mask
    /// it sets by default), which the watch waits for; a rename onto the path has no writer.
    #[tokio::test]
    async fn a_writer_is_known_from_its_first_write_to_its_close() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "x = 1\n").unwrap();
        let (tx, _triggers) = mpsc::channel(16);
        let writing = Writing::default();
        let _watcher = watch_events(&path, tx, writing.clone()).expect("inotify");

        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(b"x = ").unwrap();
        assert!(writing_becomes(&writing, true).await, "the write is seen");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(writing.lock().unwrap().is_some(), "still open");
        file.write_all(b"2\n").unwrap();
        drop(file);
        assert!(writing_becomes(&writing, false).await, "the close is seen");

        // An editor's save: written beside, renamed over the config.
        let beside = dir.path().join(".config.toml.tmp");
        let mut file = std::fs::File::create(&beside).unwrap();
        file.write_all(b"x = 3\n").unwrap();
        std::fs::rename(&beside, &path).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(writing.lock().unwrap().is_none(), "a rename has no writer");
        drop(file);

        // A FIFO made under the name has no writer either.
        std::fs::remove_file(&path).unwrap();
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&path)
                .status()
                .unwrap()
                .success()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(writing.lock().unwrap().is_none(), "a FIFO has no writer");
    }
}
