//! Counts that every serving thread adds to on every answer, kept per thread and summed when
//! read. One shared counter would move its cache line from core to core on each answer, which
//! costs more than the rest of a cached feed's bookkeeping together (issue 23): nginx's workers
//! share nothing on that path, and neither do ours.

use std::cell::OnceCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Count {
    /// Feed answers by format (`Format as usize`) and freshness (`true`: 304).
    FeedAnswers { format: usize, fresh: bool },
    /// Bytes sent with `sendfile`.
    SentFromFiles,
}

const FORMATS: usize = 3;
const SLOTS: usize = FORMATS * 2 + 1;

impl Count {
    fn slot(self) -> usize {
        match self {
            Count::FeedAnswers { format, fresh } => {
                format.min(FORMATS - 1) * 2 + usize::from(fresh)
            }
            Count::SentFromFiles => FORMATS * 2,
        }
    }
}

/// One thread's counts, on cache lines of their own.
#[repr(align(128))]
#[derive(Default)]
struct Counts([AtomicU64; SLOTS]);

/// Every live thread's counts, and the sum of those of threads that have ended.
#[derive(Default)]
struct Registry {
    live: Vec<Arc<Counts>>,
    ended: [u64; SLOTS],
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    live: Vec::new(),
    ended: [0; SLOTS],
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// This thread's counts, registered at first use and folded into `ended` when the thread ends.
struct Mine(OnceCell<Arc<Counts>>);

impl Mine {
    fn counts(&self) -> &Counts {
        self.0.get_or_init(|| {
            let counts = Arc::new(Counts::default());
            registry().live.push(counts.clone());
            counts
        })
    }
}

impl Drop for Mine {
    fn drop(&mut self) {
        let Some(mine) = self.0.get() else { return };
        let mut registry = registry();
        for (ended, count) in registry.ended.iter_mut().zip(&mine.0) {
            *ended += count.load(Ordering::Relaxed);
        }
        registry.live.retain(|counts| !Arc::ptr_eq(counts, mine));
    }
}

thread_local! {
    static MINE: Mine = const { Mine(OnceCell::new()) };
}

/// Adds `n` to `count` (on this thread's own line: no other core is involved).
pub(super) fn add(count: Count, n: u64) {
    let added = MINE.try_with(|mine| {
        // Only this thread writes its slot: a load and a store, no locked instruction.
        let slot = &mine.counts().0[count.slot()];
        slot.store(slot.load(Ordering::Relaxed) + n, Ordering::Relaxed);
    });
    if added.is_err() {
        // The thread is ending (its counts are being folded): count with the ended ones.
        registry().ended[count.slot()] += n;
    }
}

/// The total of `count` over every thread, those ended included.
pub(super) fn total(count: Count) -> u64 {
    let registry = registry();
    let slot = count.slot();
    registry.ended[slot]
        + registry
            .live
            .iter()
            .map(|counts| counts.0[slot].load(Ordering::Relaxed))
            .sum::<u64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts from many threads, some ended and some alive, add up; each count is its own.
    #[test]
    fn threads_add_up_whether_ended_or_alive() {
        let answers = Count::FeedAnswers {
            format: 2,
            fresh: true,
        };
        let before = (total(answers), total(Count::SentFromFiles));
        let ended: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        add(answers, 1);
                    }
                })
            })
            .collect();
        for thread in ended {
            thread.join().unwrap();
        }
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let (counted, done) = std::sync::mpsc::channel();
        let alive = std::thread::spawn(move || {
            add(answers, 5);
            add(Count::SentFromFiles, 7);
            counted.send(()).unwrap();
            wait.recv().unwrap();
        });
        done.recv().unwrap();
        // Other tests in this process may count too: at least ours are there.
        assert!(total(answers) - before.0 >= 4005);
        assert!(total(Count::SentFromFiles) - before.1 >= 7);
        go.send(()).unwrap();
        alive.join().unwrap();
        assert!(
            total(answers) - before.0 >= 4005,
            "an ended thread's counts stay"
        );
    }

    #[test]
    fn every_count_has_its_own_slot() {
        let mut slots: Vec<usize> = (0..FORMATS)
            .flat_map(|format| {
                [false, true].map(|fresh| Count::FeedAnswers { format, fresh }.slot())
            })
            .chain([Count::SentFromFiles.slot()])
            .collect();
        slots.sort_unstable();
        slots.dedup();
        assert_eq!(slots.len(), SLOTS);
        assert!(slots.iter().all(|&s| s < SLOTS));
    }
}
