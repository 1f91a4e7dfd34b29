//! `herald suggest`: selectors for a list page, as a `[[sources]]` block.

use super::{Exit, write_failure};
use herald::config;
use std::io::Write;

/// `herald suggest`: the block and its preview on stdout; exit 1 when no list was found or the
/// page could not be fetched, 2 for a bad URL, language or zone.
pub async fn suggest(
    url: &str,
    language: Option<String>,
    timezone: Option<&str>,
) -> Result<(), Exit> {
    let url = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| Exit(2, format!("`{url}` is not an http(s) URL")))?;
    let timezone = timezone
        .map(|z| {
            z.parse::<chrono_tz::Tz>()
                .map_err(|_| Exit(2, format!("unknown timezone `{z}` (e.g. Asia/Almaty, UTC)")))
        })
        .transpose()?;
    let fetcher =
        herald::fetch::Fetcher::new(Default::default()).map_err(|e| Exit(1, e.to_string()))?;
    let ask = herald::suggest::Ask {
        url,
        language,
        timezone,
        channels: Vec::new(),
        user_agent: config::default_user_agent(),
        articles: 3,
    };
    match herald::suggest::suggest(&fetcher, &ask).await {
        Ok(s) => {
            let text = s.render();
            match std::io::stdout().lock().write_all(text.as_bytes()) {
                Ok(()) => Ok(()),
                Err(e) => Err(write_failure(e)),
            }
        }
        Err(herald::suggest::SuggestError::Usage(e)) => Err(Exit(2, e)),
        Err(e) => Err(Exit(1, e.to_string())),
    }
}
