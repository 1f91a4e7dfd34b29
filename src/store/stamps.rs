//! Each stored item's `updated` instant (Atom's `<updated>`, JSON Feed's `date_modified`) is a
//! microsecond that no other item of the store holds. A site that prints dates without a time
//! (akorda.kz: "15 march 2024 year") gives every release of a day the same instant, and the W3C
//! validator warns about two entries with the same `updated` in one feed (it compares the
//! strings; `all` merges every source, so the rule is store-wide). The instant is claimed when
//! the item is stored or corrected and kept with it, never recomputed: a reader re-shows an
//! entry whose `updated` moves.
//!
//! Microseconds, not seconds: storing N items of one instant moves the last one N steps past
//! it, and N whole seconds (a first poll of 60 releases of today, or 1,000 sources of 20) put
//! `updated`, and the feeds' dates made from it, minutes into the future. 20,000 claims of one
//! instant now span 20 ms.
//!
//! Herald before microseconds claimed whole seconds, in tree `stamps` (kept, never written
//! again): items stored then keep their `updated`, and a new claim that falls on a whole second
//! taken there moves on, so that no new `updated` renders as an old one's string.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::StoreError;
use chrono::{DateTime, Utc};

/// Sorts like the instant it encodes (negative ones too).
fn key(at: i64) -> [u8; 8] {
    ((at as u64) ^ (1 << 63)).to_be_bytes()
}

const MICROS: i64 = 1_000_000;

/// Runs of taken microseconds this process has seen, at most this many (then forgotten, and
/// found again by a scan).
const KNOWN_RUNS: usize = 4096;

/// The taken instants: the trees are the truth; `known` remembers runs of taken microseconds
/// found or taken since start, so that a claim jumps over a run instead of walking it. Sources
/// that print dates without a time give a day's releases one instant: with 10,000 such sources
/// a run is 10,000 long, and walking it at every claim made storing a first round quadratic (a
/// core busy for minutes). Instants are never given back, so a known run stays taken.
#[derive(Clone)]
pub(super) struct Stamps {
    /// Whole seconds taken by herald before microseconds (tree `stamps`): read only.
    seconds: sled::Tree,
    /// Microseconds taken (tree `stamps_us`).
    tree: sled::Tree,
    /// Start → end (exclusive) of runs of taken microseconds, none overlapping or touching.
    known: Arc<Mutex<BTreeMap<i64, i64>>>,
}

impl Stamps {
    /// `seconds`: the whole seconds of earlier versions; `micros`: the microseconds claimed.
    pub(super) fn new(seconds: sled::Tree, micros: sled::Tree) -> Stamps {
        Stamps {
            seconds,
            tree: micros,
            known: Arc::default(),
        }
    }

    /// The first microsecond at or after `wanted` that no item holds yet (and, on a whole
    /// second, that no item of an earlier version holds), now held. Free ones are found by a
    /// scan (from the end of the known run `wanted` falls in) and taken by compare-and-swap, so
    /// two polls storing at once never take the same one. One taken by a commit that then
    /// fails stays taken (a gap, no harm).
    pub(super) fn claim(&self, wanted: DateTime<Utc>) -> Result<DateTime<Utc>, StoreError> {
        // Never earlier than `wanted` (an entry is not updated before it is published).
        let micros = wanted.timestamp_micros();
        let wanted_micro =
            micros + i64::from(!wanted.timestamp_subsec_nanos().is_multiple_of(1000));
        let start = self.past_known(wanted_micro);
        let mut at = start;
        loop {
            // Skip the run of taken microseconds that starts here.
            for taken in self.tree.range(key(at)..) {
                let (k, _) = taken?;
                if k.as_ref() != key(at) {
                    break;
                }
                at += 1;
            }
            if at.rem_euclid(MICROS) == 0 && self.seconds.contains_key(key(at / MICROS))? {
                at += 1;
                continue;
            }
            let taken = self
                .tree
                .compare_and_swap(key(at), None::<&[u8]>, Some(&[][..]))?;
            if taken.is_ok() {
                self.learn(start, at + 1);
                return Ok(DateTime::from_timestamp_micros(at).unwrap_or(wanted));
            }
            // Another commit took it between the scan and the swap.
            at += 1;
        }
    }

    /// `at`, or the end of the known run it falls in.
    fn past_known(&self, at: i64) -> i64 {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        match known.range(..=at).next_back() {
            Some((_, &end)) if end > at => end,
            _ => at,
        }
    }

    /// Every microsecond in `start..end` is taken: joins it to the known runs.
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

    fn stamps(db: &sled::Db) -> Stamps {
        Stamps::new(
            db.open_tree("stamps").unwrap(),
            db.open_tree("stamps_us").unwrap(),
        )
    }

    #[test]
    fn instants_are_unique_ordered_and_never_earlier() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let stamps = stamps(&db);
        let midnight = Utc.with_ymd_and_hms(2024, 3, 15, 0, 0, 0).unwrap();
        let claimed: Vec<_> = (0..4).map(|_| stamps.claim(midnight).unwrap()).collect();
        let micros: Vec<i64> = claimed
            .iter()
            .map(|t| (*t - midnight).num_microseconds().unwrap())
            .collect();
        assert_eq!(micros, [0, 1, 2, 3]);
        // A run is skipped in one scan; a later wish is unaffected.
        assert_eq!(
            stamps.claim(midnight).unwrap(),
            midnight + chrono::Duration::microseconds(4)
        );
        let noon = midnight + chrono::Duration::hours(12);
        assert_eq!(stamps.claim(noon).unwrap(), noon);
        // Finer instants round up to the microsecond.
        let late = noon + chrono::Duration::nanoseconds(1500);
        assert_eq!(
            stamps.claim(late).unwrap(),
            noon + chrono::Duration::microseconds(2)
        );
    }

    /// A first poll of 20,000 releases of one date stays within 20 ms of it (whole seconds
    /// put the last one 5.5 hours ahead).
    #[test]
    fn a_large_first_poll_stays_near_its_instant() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let stamps = stamps(&db);
        let midnight = Utc.with_ymd_and_hms(2024, 3, 15, 0, 0, 0).unwrap();
        let mut last = midnight;
        for _ in 0..20_000 {
            last = stamps.claim(midnight).unwrap();
        }
        assert_eq!(last - midnight, chrono::Duration::microseconds(19_999));
    }

    /// A store written by herald before microseconds: the whole seconds its items hold (tree
    /// `stamps`) are never claimed again, and the microseconds around them are free.
    #[test]
    fn whole_seconds_of_earlier_versions_stay_theirs() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let old = db.open_tree("stamps").unwrap();
        let midnight = Utc.with_ymd_and_hms(2024, 3, 15, 0, 0, 0).unwrap();
        let t = midnight.timestamp();
        for second in [t, t + 1, t + 2] {
            old.insert(key(second), &[][..]).unwrap();
        }
        let stamps = stamps(&db);
        let us = chrono::Duration::microseconds;
        assert_eq!(stamps.claim(midnight).unwrap(), midnight + us(1));
        assert_eq!(stamps.claim(midnight).unwrap(), midnight + us(2));
        let second = midnight + chrono::Duration::seconds(1);
        assert_eq!(stamps.claim(second).unwrap(), second + us(1));
        // A run that reaches a taken whole second steps over it.
        let before = second + chrono::Duration::seconds(1) - us(2);
        let got: Vec<_> = (0..3).map(|_| stamps.claim(before).unwrap()).collect();
        assert_eq!(got, [before, before + us(1), before + us(3)]);
        // A whole second no earlier version holds is free.
        let later = midnight + chrono::Duration::seconds(3);
        assert_eq!(stamps.claim(later).unwrap(), later);
    }

    /// The first free microsecond at or after the wish, as a walk over every taken one finds
    /// it: the known runs change how fast it is found, never which it is (wishes inside runs,
    /// instants taken by another process's store, runs forgotten, a restart).
    #[test]
    fn known_runs_give_the_instant_a_walk_gives() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("stamps_us").unwrap();
        let mut stamps = stamps(&db);
        let mut taken = std::collections::BTreeSet::new();
        let base = Utc
            .with_ymd_and_hms(2024, 3, 15, 0, 0, 0)
            .unwrap()
            .timestamp_micros();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for n in 0..3000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let wish = base + ((x >> 33) % 400) as i64;
            match n % 500 {
                // Taken behind the cache's back: a gap filled by someone else.
                7 => {
                    let at = wish + 3;
                    tree.insert(key(at), &[][..]).unwrap();
                    taken.insert(at);
                    continue;
                }
                250 => stamps.known.lock().unwrap().clear(),
                499 => stamps = self::stamps(&db),
                _ => {}
            }
            let mut expected = wish;
            while taken.contains(&expected) {
                expected += 1;
            }
            let got = stamps
                .claim(DateTime::from_timestamp_micros(wish).unwrap())
                .unwrap()
                .timestamp_micros();
            assert_eq!(got, expected, "claim {n}, wish {wish}");
            taken.insert(got);
        }
    }

    #[test]
    fn a_run_is_remembered_and_jumped() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let stamps = stamps(&db);
        let midnight = Utc.with_ymd_and_hms(2024, 3, 15, 0, 0, 0).unwrap();
        for _ in 0..100 {
            stamps.claim(midnight).unwrap();
        }
        let t = midnight.timestamp_micros();
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
        let stamps = stamps(&db);
        let midnight = Utc.with_ymd_and_hms(2024, 3, 15, 0, 0, 0).unwrap();
        let mut all: Vec<i64> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        (0..200)
                            .map(|_| stamps.claim(midnight).unwrap().timestamp_micros())
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
