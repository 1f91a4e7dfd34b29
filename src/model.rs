//! Plain data shared by every stage: item identity, what a poll observed, what the store keeps.
//! Nothing here does I/O.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Stable identity of a release: the first 16 bytes of SHA-256 over the source id and the item's
/// key (its canonical link, or the `id_pattern` capture). Never `DefaultHasher`, whose output may
/// change between Rust releases; never anything that depends on `public_url`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ItemId(pub [u8; 16]);

impl ItemId {
    pub fn new(source: &str, key: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(source.as_bytes());
        hasher.update([0u8]);
        hasher.update(key.as_bytes());
        let digest = hasher.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        ItemId(bytes)
    }

    /// The GUID written into every feed: a `urn:uuid:` IRI (RFC 9562 version 8, "custom"), valid
    /// as an RSS guid, an Atom id and a JSON Feed id alike.
    pub fn guid(&self) -> String {
        let mut b = self.0;
        b[6] = (b[6] & 0x0f) | 0x80; // version 8
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 9562 variant
        format!("urn:uuid:{}", uuid::Uuid::from_bytes(b).hyphenated())
    }

    pub fn hex(&self) -> String {
        crate::text::hex(&self.0)
    }
}

impl fmt::Debug for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ItemId({})", self.hex())
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// One release as a list page or upstream feed shows it, before the store has seen it.
#[derive(Clone, Debug, PartialEq)]
pub struct Scraped {
    /// What identifies the release within its source (canonical link or `id_pattern` capture).
    pub key: String,
    pub title: String,
    /// Absolute, canonical link to the release's page.
    pub link: String,
    /// When the source dates the release; `None` when it gives no date.
    pub date: Option<crate::dates::ParsedDate>,
    /// Plain-text lead, if the source shows one.
    pub summary: Option<String>,
    /// Sanitized HTML of the body, when known.
    pub content_html: Option<String>,
    /// Absolute URL of the cover picture.
    pub image: Option<String>,
    /// The title and summary as herald read the list page before it kept words apart at `<br>`
    /// and block edges (text joined as it came), when that reads otherwise: a release stored
    /// then is no correction for reading the same page better.
    pub former_text: Option<(String, Option<String>)>,
}

/// A release as the store keeps it and the feeds show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: ItemId,
    pub source: String,
    pub title: String,
    pub link: String,
    pub summary: Option<String>,
    pub content_html: Option<String>,
    pub image: Option<String>,
    /// BCP 47 language of the source ("kk" for Kazakh).
    pub language: String,
    /// The release's date, or when herald first saw it (see `dates::resolve`).
    pub published: DateTime<Utc>,
    /// Last time herald stored a correction; equals `published` or later.
    pub updated: DateTime<Utc>,
    pub first_seen: DateTime<Utc>,
    /// Store-wide counter taken when first stored; breaks ties between items of the same
    /// `published` so that the site's list order is kept (a higher `seq` is newer).
    pub seq: u64,
}

/// The same release in another language, from a source configured as its translation
/// (`[[translations]]`): what feeds and Telegram posts link to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Translation {
    pub source: String,
    pub id: ItemId,
    /// BCP 47, as the other source's `language`.
    pub language: String,
    pub link: String,
}

/// The file name of an image URL, lowercased; `None` when the path names no file. The store
/// counts releases per file name with it.
pub fn image_key(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let name = path.rsplit('/').next().unwrap_or_default();
    (name.contains('.') && name.len() > 4).then(|| name.to_lowercase())
}

/// What a poll decided about one scraped release.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemState {
    New,
    Known,
    Changed,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::New => "new",
            ItemState::Known => "known",
            ItemState::Changed => "changed",
        }
    }
}

/// A link as item keys have always been written: its query rebuilt as form pairs (`?123` as
/// `?123=`, `/` as `%2F`), and an empty query dropped. Links were stored so before their query
/// was kept as written; the key keeps that form so that no stored item's identity changes.
pub fn link_key(link: &url::Url) -> String {
    let mut url = link.clone();
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if pairs.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    url.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn item_id_is_stable_across_releases() {
        // Pinned value: if this changes, every subscriber sees every item again.
        let id = ItemId::new("akorda-en", "https://www.akorda.kz/en/some-slug-123456");
        assert_eq!(id.hex().len(), 32);
        assert_eq!(
            id,
            ItemId::new("akorda-en", "https://www.akorda.kz/en/some-slug-123456")
        );
        assert_ne!(
            id,
            ItemId::new("akorda-ru", "https://www.akorda.kz/en/some-slug-123456")
        );
        let guid = id.guid();
        assert!(guid.starts_with("urn:uuid:"), "{guid}");
        assert_eq!(guid.len(), "urn:uuid:".len() + 36);
        assert_eq!(&guid[9 + 14..9 + 15], "8");
    }

    #[rstest]
    #[case::akorda(
        "https://www.akorda.kz/uploadMedia/2026/03/abc_1.JPG?w=800",
        Some("abc_1.jpg")
    )]
    #[case::no_file("https://www.akorda.kz/uploadMedia/", None)]
    fn image_keys(#[case] url: &str, #[case] want: Option<&str>) {
        assert_eq!(image_key(url).as_deref(), want);
    }
}
