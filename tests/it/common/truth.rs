//! The translation fixtures (`tests/fixtures/translations/SET/`): their files and the pairs of
//! releases that are one release in two languages, as `truth.json` says.

use std::collections::BTreeSet;

/// A release: its language and its number in the fixtures.
pub type Key = (String, u64);

/// A file of a fixture set (`""` is the set at the folder's top).
pub fn load(set: &str, name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/translations")
        .join(set)
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every pair of languages of each release, as (smaller key, larger key).
pub fn expected_pairs(set: &str) -> BTreeSet<(Key, Key)> {
    let truth: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(&load(set, "truth.json")).unwrap();
    let mut expected = BTreeSet::new();
    for row in &truth {
        let keys: Vec<Key> = ["en", "ru", "kk"]
            .iter()
            .filter_map(|l| {
                row.get(*l)
                    .and_then(|v| v.as_u64())
                    .map(|n| (l.to_string(), n))
            })
            .collect();
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                expected.insert((a.clone().min(b.clone()), a.clone().max(b.clone())));
            }
        }
    }
    expected
}
