//! Each stored item's `updated` instant (Atom's `<updated>`, JSON Feed's `date_modified`) is a
//! whole second that no other item of the store holds. A site that prints dates without a time
//! (akorda.kz: "15 march 2024 year") gives every release of a day the same instant, and the W3C
//! validator warns about two entries with the same `updated` in one feed (`all` merges every
//! source, so the rule is store-wide). The second is claimed when the item is stored or
//! corrected and kept with it, never recomputed: a reader re-shows an entry whose `updated`
//! moves.

use super::StoreError;
use chrono::{DateTime, Utc};

/// Sorts like the instant it encodes (negative seconds too).
fn key(second: i64) -> [u8; 8] {
    ((second as u64) ^ (1 << 63)).to_be_bytes()
}

/// The first whole second at or after `wanted` that no item holds yet, now held. Free seconds
/// are found by a scan and taken by compare-and-swap, so two polls storing at once never take
/// the same second. A second taken by a commit that then fails stays taken (a gap, no harm).
pub(super) fn claim(tree: &sled::Tree, wanted: DateTime<Utc>) -> Result<DateTime<Utc>, StoreError> {
    // Never earlier than `wanted` (an entry is not updated before it is published).
    let mut second = wanted.timestamp() + i64::from(wanted.timestamp_subsec_nanos() > 0);
    loop {
        // Skip the run of taken seconds that starts here.
        for taken in tree.range(key(second)..) {
            let (k, _) = taken?;
            if k.as_ref() != key(second) {
                break;
            }
            second += 1;
        }
        let taken = tree.compare_and_swap(key(second), None::<&[u8]>, Some(&[][..]))?;
        if taken.is_ok() {
            return Ok(DateTime::from_timestamp(second, 0).unwrap_or(wanted));
        }
        // Another commit took it between the scan and the swap.
        second += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn seconds_are_unique_ordered_and_never_earlier() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("stamps").unwrap();
        let midnight = Utc.with_ymd_and_hms(2024, 3, 15, 0, 0, 0).unwrap();
        let claimed: Vec<_> = (0..4).map(|_| claim(&tree, midnight).unwrap()).collect();
        let seconds: Vec<i64> = claimed
            .iter()
            .map(|t| (*t - midnight).num_seconds())
            .collect();
        assert_eq!(seconds, [0, 1, 2, 3]);
        // A run is skipped in one scan; a later wish is unaffected.
        assert_eq!(
            claim(&tree, midnight).unwrap(),
            midnight + chrono::Duration::seconds(4)
        );
        let noon = midnight + chrono::Duration::hours(12);
        assert_eq!(claim(&tree, noon).unwrap(), noon);
        // Sub-second instants round up.
        let late = noon + chrono::Duration::milliseconds(1500);
        assert_eq!(
            claim(&tree, late).unwrap(),
            noon + chrono::Duration::seconds(2)
        );
    }
}
