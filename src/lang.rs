//! Languages as herald shows them: one table for the index page, the feeds' "Also in" links and
//! the Telegram buttons, so that a language is called the same everywhere.

/// A language herald names: its tag, its name in itself, and the "Read" button in it (the post's
/// contract names the button in English, Russian and Kazakh; other languages keep "Read").
struct Language {
    tags: &'static [&'static str],
    name: &'static str,
    read: &'static str,
}

const LANGUAGES: &[Language] = &[
    Language {
        tags: &["en"],
        name: "English",
        read: "Read",
    },
    Language {
        tags: &["ru"],
        name: "Русский",
        read: "Читать",
    },
    // "kz" is not a language tag (Kazakh is `kk`), but sites use it.
    Language {
        tags: &["kk", "kz"],
        name: "Қазақша",
        read: "Оқу",
    },
    Language {
        tags: &["de"],
        name: "Deutsch",
        read: "Read",
    },
    Language {
        tags: &["fr"],
        name: "Français",
        read: "Read",
    },
    Language {
        tags: &["es"],
        name: "Español",
        read: "Read",
    },
    Language {
        tags: &["uk"],
        name: "Українська",
        read: "Read",
    },
    Language {
        tags: &["uz"],
        name: "Oʻzbekcha",
        read: "Read",
    },
    Language {
        tags: &["ky"],
        name: "Кыргызча",
        read: "Read",
    },
    Language {
        tags: &["zh"],
        name: "中文",
        read: "Read",
    },
    Language {
        tags: &["tr"],
        name: "Türkçe",
        read: "Read",
    },
    Language {
        tags: &["ar"],
        name: "العربية",
        read: "Read",
    },
];

/// The table's entry for `tag`, by its primary subtag (`ru-RU`, `kk_KZ`), in any case.
fn find(tag: &str) -> Option<&'static Language> {
    let primary = tag.split(['-', '_']).next().unwrap_or_default();
    LANGUAGES
        .iter()
        .find(|l| l.tags.iter().any(|t| t.eq_ignore_ascii_case(primary)))
}

/// The name of a language in that language ("Русский"); a tag the table lacks is shown as written.
pub fn name(tag: &str) -> &str {
    find(tag).map_or(tag, |l| l.name)
}

/// The "Read" button's label in `tag`'s language; English for a language the table lacks.
pub fn read_label(tag: &str) -> &'static str {
    find(tag).map_or("Read", |l| l.read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("en", "English")]
    #[case("ru-RU", "Русский")]
    #[case("kk_KZ", "Қазақша")]
    #[case("KZ", "Қазақша")]
    #[case("de", "Deutsch")]
    #[case("pt-BR", "pt-BR")]
    fn names(#[case] tag: &str, #[case] expected: &str) {
        assert_eq!(name(tag), expected);
    }

    #[rstest]
    #[case("ru", "Читать")]
    #[case("kk", "Оқу")]
    #[case("EN-gb", "Read")]
    #[case("pt", "Read")]
    fn read_labels(#[case] tag: &str, #[case] expected: &str) {
        assert_eq!(read_label(tag), expected);
    }
}
