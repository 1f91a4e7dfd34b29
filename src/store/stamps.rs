//! Each stored item's `updated` instant (Atom's `<updated>`, JSON Feed's `date_modified`) is a
//! whole second that no other item of the store holds. A site that prints dates without a time
//! (akorda.kz: "15 march 2024 year") gives every release of a day the same instant, and the W3C
//! validator warns about two entries with the same `updated` in one feed (`all` merges every
//! source, so the rule is store-wide). The second is claimed when the item is stored or
//! corrected and kept with it, never recomputed: a reader re-shows an entry whose `updated`
//! moves.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::StoreError;
use chrono::{DateTime, Utc};

/// Sorts like the instant it encodes (negative seconds too).
fn key(second: i64) -> [u8; 8] {
    ((second as u64) ^ (1 << 63)).to_be_bytes()
}

/// Runs of taken seconds this process has seen, at most this many (then forgotten, and found
/// again by a scan).
const KNOWN_RUNS: usize = 4096;

/// The taken seconds: the tree is the truth; `known` remembers runs of taken seconds found
/// or taken since start, so that a claim jumps over a run instead of walking it. Sources that
/// print dates without a time give a day's releases one instant: with 10,000 such sources a
/// run is 10,000 seconds long, and walking it at every claim made storing a first round
/// quadratic (a core busy for minutes). Seconds are never given back, so a known run stays
/// taken.
#[derive(Clone)]
pub(super) struct Stamps {
    tree: sled::Tree,
    /// Start → end (exclusive) of runs of taken seconds, none overlapping or touching.
    known: Arc<Mutex<BTreeMap<i64, i64>>>,
}

impl Stamps {
    pub(super) fn new(tree: sled::Tree) -> Stamps {
        Stamps {
            tree,
            known: Arc::default(),
        }
    }

    /// The first whole second at or after `wanted` that no item holds yet, now held. Free
    /// seconds are found by a scan (from the end of the known run `wanted` falls in) and taken
    /// by compare-and-swap, so two polls storing at once never take the same second. A second
    /// taken by a commit that then fails stays taken (a gap, no harm).
    pub(super) fn claim(&self, wanted: DateTime<Utc>) -> Result<DateTime<Utc>, StoreError> {
        // Never earlier than `wanted` (an entry is not updated before it is published).
        let wanted_second = wanted.timestamp() + i64::from(wanted.timestamp_subsec_nanos() > 0);
        let start = self.past_known(wanted_second);
        let mut second = start;
        loop {
            // Skip the run of taken seconds that starts here.
            for taken in self.tree.range(key(second)..) {
                let (k, _) = taken?;
                if k.as_ref() != key(second) {
                    break;
                }
                second += 1;
            }
            let taken = self
                .tree
                .compare_and_swap(key(second), None::<&[u8]>, Some(&[][..]))?;
            if taken.is_ok() {
                self.learn(start, second + 1);
                return Ok(DateTime::from_timestamp(second, 0).unwrap_or(wanted));
            }
            // Another commit took it between the scan and the swap.
            second += 1;
        }
    }

    /// `second`, or the end of the known run it falls in.
    fn past_known(&self, second: i64) -> i64 {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        match known.range(..=second).next_back() {
            Some((_, &end)) if end > second => end,
            _ => second,
        }
    }

    /// Every second in `start..end` is taken: joins it to the known runs.
    fn learn(&self, mut start: i64, mut end: i64) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((&s, &e)) = known.range(..=start).next_back()
            && e >= start
        {
            start = s;
            end = end.max(e);
        }
        let touching: Vec<(i64, i64)> = known.range(start..=end).map(|(&s, &e)| (s, e)).collect();
        for (s, e) in touching {
            known.remove(&s);
            end = end.max(e);
        }
        if known.len() >= KNOWN_RUNS {
            known.clear();
        }
        known.insert(start, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn seconds_are_unique_ordered_and_never_earlier() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let stamps = Stamps::new(db.open_tree("stamps").unwrap());
        let midnight = Utc.with_ymd_and_hms(2024, 3, 15, 0, 0, 0).unwrap();
        let claimed: Vec<_> = (0..4).map(|_| stamps.claim(midnight).unwrap()).collect();
        let seconds: Vec<i64> = claimed
            .iter()
            .map(|t| (*t - midnight).num_seconds())
            .collect();
        assert_eq!(seconds, [0, 1, 2, 3]);
        // A run is skipped in one scan; a later wish is unaffected.
        assert_eq!(
            stamps.claim(midnight).unwrap(),
            midnight + chrono::Duration::seconds(4)
        );
        let noon = midnight + chrono::Duration::hours(12);
        assert_eq!(stamps.claim(noon).unwrap(), noon);
        // Sub-second instants round up.
        let late = noon + chrono::Duration::milliseconds(1500);
        assert_eq!(
            stamps.claim(late).unwrap(),
            noon + chrono::Duration::seconds(2)
        );
    }

    /// The first free second at or after the wish, as a walk over every taken second finds it:
    /// the known runs change how fast it is found, never which second it is (wishes inside
    /// runs, seconds taken by another process's store, runs forgotten, a restart).
    #[test]
    fn known_runs_give_the_second_a_walk_gives() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("stamps").unwrap();
        let mut stamps = Stamps::new(tree.clone());
        let mut taken = std::collections::BTreeSet::new();
        let base = Utc
            .with_ymd_and_hms(2024, 3, 15, 0, 0, 0)
            .unwrap()
            .timestamp();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for n in 0..3000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let wish = base + ((x >> 33) % 400) as i64;
            match n % 500 {
                // Taken behind the cache's back: a gap filled by someone else.
                7 => {
                    let second = wish + 3;
                    tree.insert(key(second), &[][..]).unwrap();
                    taken.insert(second);
                    continue;
                }
                250 => stamps.known.lock().unwrap().clear(),
                499 => stamps = Stamps::new(tree.clone()),
                _ => {}
            }
            let mut expected = wish;
            while taken.contains(&expected) {
                expected += 1;
            }
            let got = stamps
                .claim(DateTime::from_timestamp(wish, 0).unwrap())
                .unwrap()
                .timestamp();
            assert_eq!(got, expected, "claim {n}, wish {wish}");
            taken.insert(got);
        }
    }

    #[test]
    fn a_run_is_remembered_and_jumped() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let stamps = Stamps::new(db.open_tree("stamps").unwrap());
        let midnight = Utc.with_ymd_and_hms(2024, 3, 15, 0, 0, 0).unwrap();
        for _ in 0..100 {
            stamps.claim(midnight).unwrap();
        }
        let t = midnight.timestamp();
        let known: Vec<(i64, i64)> = stamps
            .known
            .lock()
            .unwrap()
            .iter()
            .map(|(&s, &e)| (s, e))
            .collect();
        assert_eq!(known, [(t, t + 100)]);
        assert_eq!(stamps.past_known(t + 40), t + 100);
        assert_eq!(stamps.past_known(t + 100), t + 100);
        assert_eq!(stamps.past_known(t - 1), t - 1);
    }

    #[test]
    fn claims_from_many_threads_at_once_are_unique() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let stamps = Stamps::new(db.open_tree("stamps").unwrap());
        let midnight = Utc.with_ymd_and_hms(2024, 3, 15, 0, 0, 0).unwrap();
        let mut all: Vec<i64> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        (0..200)
                            .map(|_| stamps.claim(midnight).unwrap().timestamp())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 800);
    }
}
