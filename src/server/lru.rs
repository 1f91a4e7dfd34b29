//! A cache bounded by bytes: each value is charged its size, and while the total is over the
//! budget the least recently used values go first. Recency is kept the CLOCK way (a hit sets a
//! flag; eviction walks the entries in the order they came, sparing a flagged one once and
//! clearing its flag), so that a hit costs no reordering and a flood of values asked once goes
//! before the ones asked again.

use std::collections::{HashMap, VecDeque};

/// Bytes charged for an entry beyond its value: the key (kept twice) and the bookkeeping.
const ENTRY_OVERHEAD: usize = 96;

pub(super) struct ByteLru<V> {
    entries: HashMap<String, Entry<V>>,
    /// Keys in the order the clock's hand visits them, each with the generation of the entry
    /// it was queued for (an entry evicted and put again is queued anew).
    hand: VecDeque<(String, u64)>,
    bytes: usize,
    generation: u64,
}

struct Entry<V> {
    value: V,
    bytes: usize,
    used: bool,
    generation: u64,
}

impl<V> Default for ByteLru<V> {
    fn default() -> Self {
        ByteLru {
            entries: HashMap::new(),
            hand: VecDeque::new(),
            bytes: 0,
            generation: 0,
        }
    }
}

impl<V> ByteLru<V> {
    /// Bytes charged for every entry held.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn get(&mut self, key: &str) -> Option<&V> {
        let entry = self.entries.get_mut(key)?;
        entry.used = true;
        Some(&entry.value)
    }

    /// Holds `value` under `key`, charged `bytes` (plus the key), then drops the least recently
    /// used entries until the total is within `budget`. A value larger than the whole budget is
    /// not kept.
    pub(super) fn put(&mut self, key: String, value: V, bytes: usize, budget: usize) {
        let bytes = charge(&key, bytes);
        if bytes > budget {
            return;
        }
        match self.entries.get_mut(&key) {
            Some(entry) => {
                self.bytes = self.bytes - entry.bytes + bytes;
                *entry = Entry {
                    value,
                    bytes,
                    used: true,
                    generation: entry.generation,
                };
            }
            None => {
                self.generation += 1;
                self.hand.push_back((key.clone(), self.generation));
                self.entries.insert(
                    key,
                    Entry {
                        value,
                        bytes,
                        used: false,
                        generation: self.generation,
                    },
                );
                self.bytes += bytes;
            }
        }
        self.shrink_to(budget);
    }

    /// Charges the entry under `key` `bytes` now (its value grew), if `is_it` says it still
    /// holds the value that grew; then shrinks to `budget`.
    pub(super) fn recharge(
        &mut self,
        key: &str,
        is_it: impl FnOnce(&V) -> bool,
        bytes: usize,
        budget: usize,
    ) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        if !is_it(&entry.value) {
            return;
        }
        let bytes = charge(key, bytes);
        self.bytes = self.bytes - entry.bytes + bytes;
        entry.bytes = bytes;
        self.shrink_to(budget);
    }

    fn shrink_to(&mut self, budget: usize) {
        while self.bytes > budget {
            let Some((key, generation)) = self.hand.pop_front() else {
                return;
            };
            let Some(entry) = self.entries.get_mut(&key) else {
                continue;
            };
            if entry.generation != generation {
                continue;
            }
            if entry.used {
                entry.used = false;
                self.hand.push_back((key, generation));
            } else {
                self.bytes -= entry.bytes;
                self.entries.remove(&key);
            }
        }
    }
}

fn charge(key: &str, bytes: usize) -> usize {
    bytes
        .saturating_add(2 * key.len())
        .saturating_add(ENTRY_OVERHEAD)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KB: usize = 1024;

    #[test]
    fn stays_within_its_budget() {
        let mut cache = ByteLru::default();
        for n in 0..1000 {
            cache.put(format!("k{n}"), n, KB, 64 * KB);
            assert!(cache.bytes() <= 64 * KB);
        }
        assert!(cache.len() > 50, "{}", cache.len());
        assert!(cache.get("k999").is_some());
        assert!(cache.get("k0").is_none());
        assert!(cache.hand.len() == cache.len());
    }

    #[test]
    fn values_asked_again_outlive_a_flood() {
        let mut cache = ByteLru::default();
        cache.put("hot".into(), 0, KB, 16 * KB);
        for n in 0..100 {
            assert_eq!(cache.get("hot"), Some(&0), "evicted at {n}");
            cache.put(format!("k{n}"), n, KB, 16 * KB);
        }
    }

    #[test]
    fn a_replaced_value_is_charged_anew_and_too_big_is_not_kept() {
        let mut cache = ByteLru::default();
        cache.put("a".into(), 1, KB, 16 * KB);
        let one = cache.bytes();
        cache.put("a".into(), 2, 2 * KB, 16 * KB);
        assert_eq!(cache.bytes(), one + KB);
        assert_eq!(cache.get("a"), Some(&2));
        cache.put("b".into(), 3, 32 * KB, 16 * KB);
        assert!(cache.get("b").is_none());
        cache.recharge("a", |v| *v == 2, 3 * KB, 16 * KB);
        assert_eq!(cache.bytes(), one + 2 * KB);
        cache.recharge("a", |v| *v == 1, 9 * KB, 16 * KB);
        assert_eq!(cache.bytes(), one + 2 * KB, "another value: not charged");
        cache.recharge("a", |_| true, 20 * KB, 16 * KB);
        assert!(cache.get("a").is_none() && cache.bytes() == 0);
    }
}
