//! `[[translations]]`: groups of sources that publish the same releases in other languages.

use super::Source;
use super::diagnostics::Report;
use super::table::Table;
use std::collections::{HashMap, HashSet};

/// `[[translations]]`: sources publishing the same releases in other languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranslationGroup {
    /// Source ids, one per language.
    pub sources: Vec<String>,
    /// `same_ids` (default false): the site gives a release the same numeric id in its link in
    /// every language, so equal ids count as evidence (never enough alone). README
    /// "Translations" says how to tell.
    pub same_ids: bool,
}

const TRANSLATION_KEYS: &[&str] = &["sources", "same_ids"];

/// `[[translations]]`: each group names at least two defined sources, of distinct languages, and
/// a source belongs to one group at most (a release has one translation per language). A group
/// naming a source that is `defined` but broken (reported already) is checked as far as it can
/// be, and not kept.
pub(super) fn translations(
    r: &mut Report,
    root: &Table,
    sources: &[Source],
    defined: &HashSet<String>,
) -> Vec<TranslationGroup> {
    let mut grouped: HashMap<String, usize> = HashMap::new();
    let mut groups = Vec::new();
    for t in root.array_of_tables(r, "translations") {
        t.check_keys(r, TRANSLATION_KEYS);
        if !t.require(r, "sources") {
            continue;
        }
        let mut group: Vec<String> = Vec::new();
        let mut languages: HashMap<String, String> = HashMap::new();
        let mut ok = true;
        let same_ids = t.boolean(r, "same_ids").is_some_and(|(on, _)| on);
        for (id, span) in t.strings(r, "sources") {
            if !defined.contains(id) {
                r.error(
                    &span,
                    format!(
                        "[[translations]] names source `{id}`, which is not defined in [[sources]]"
                    ),
                );
                ok = false;
                continue;
            }
            if group.iter().any(|g| g == id) {
                r.error(&span, format!("[[translations]] names source `{id}` twice"));
                ok = false;
                continue;
            }
            if let Some(line) = grouped.get(id) {
                r.error(
                    &span,
                    format!(
                        "source `{id}` is already in the [[translations]] group at line {line}"
                    ),
                );
                ok = false;
                continue;
            }
            match sources.iter().find(|s| s.id == id) {
                // Broken, and said so at the source: its language may be unknown.
                None => ok = false,
                Some(source) => {
                    if let Some(other) = languages.get(&source.language) {
                        r.error(
                            &span,
                            format!(
                                "[[translations]]: `{id}` and `{other}` are both in language `{}`; a group links one source per language",
                                source.language
                            ),
                        );
                        ok = false;
                        continue;
                    }
                    languages.insert(source.language.clone(), id.to_string());
                }
            }
            group.push(id.to_string());
        }
        let line = r.line(t.span.start);
        if ok && group.len() < 2 {
            r.error(
                &t.span,
                "[[translations]] needs at least two sources, e.g. sources = [\"site-en\", \"site-ru\"]",
            );
            continue;
        }
        for id in &group {
            grouped.insert(id.clone(), line);
        }
        if ok {
            groups.push(TranslationGroup {
                sources: group,
                same_ids,
            });
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use crate::config::testing::*;

    #[test]
    fn translation_groups() {
        let text = format!(
            "{FEED}{}{}[[translations]]\nsources = [\"a\", \"b\"]\n",
            FEED.replace("\"a\"", "\"b\"")
                .replace("kind", "language = \"ru\"\nkind"),
            FEED.replace("\"a\"", "\"c\"")
        );
        let config = parse_str(&text).expect("valid");
        assert_eq!(config.translations.len(), 1);
        assert_eq!(config.translations[0].sources, ["a", "b"]);
        assert!(!config.translations[0].same_ids, "off by default");
        let shared = parse_str(&format!("{text}same_ids = true\n")).expect("valid");
        assert!(shared.translations[0].same_ids);
        let ids = |id| -> Vec<String> {
            config
                .translations_of(id)
                .iter()
                .map(|s| s.id.clone())
                .collect()
        };
        assert_eq!(ids("a"), ["b"]);
        assert_eq!(ids("b"), ["a"]);
        assert!(ids("c").is_empty());
    }
}
