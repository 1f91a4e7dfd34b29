//! Telegram: the post's text and buttons (`format`), Telegram's rate limits (`limits`), and the
//! outbox workers that deliver posts and edits (`deliver`).

pub mod admin;
pub mod commands;
pub mod deliver;
pub mod digest;
pub mod format;
pub mod limits;
pub mod quiet;
pub mod template;

use crate::config::{Channel, Config, Source};
use crate::fetch::Fetcher;
use crate::pipeline::{PollOptions, Poller};

/// What `herald preview` and `/preview` show: the list page is read (no database touched) and
/// the newest release formatted as each of the source's channels would get it (or once, without
/// share buttons, when it has none); the posts are separated by a blank line. When a channel of
/// the source has a template or filters, each channel's post is headed by a `# channel ID` line
/// and is the newest release that passes that channel's filters.
pub async fn preview_newest(
    fetcher: &Fetcher,
    config: &Config,
    source: &Source,
) -> Result<String, String> {
    let poller = Poller {
        fetcher,
        user_agent: &config.general.user_agent,
        store: None,
        telegram: false,
        min_free_bytes: config.general.min_free_bytes,
        channels: &config.channels,
        translations: Vec::new(),
    };
    let opts = PollOptions {
        conditional: false,
        dry_run: true,
    };
    let report = poller
        .poll(source, opts)
        .await
        .map_err(|e| format!("{}: {e}", source.id))?;
    let Some(newest) = report.items.first() else {
        return Err(format!("{}: the list page shows no release", source.id));
    };
    let channels: Vec<&Channel> = source
        .channels
        .iter()
        .filter_map(|c| config.channel(c))
        .collect();
    if channels.is_empty() {
        let post = format::format_post(&newest.item, source, &[], true);
        return Ok(format::preview(&post));
    }
    let posts: Vec<String> = if channels.iter().any(|c| c.customized()) {
        // Channels differ: each gets a `# channel ID` line, then the post of the newest
        // release that passes its filters, in its template.
        channels
            .iter()
            .map(|channel| {
                let newest = report
                    .items
                    .iter()
                    .find(|o| crate::pipeline::channel_passes(channel, &o.item));
                let body = match newest {
                    Some(o) => {
                        format::preview(&format::format_post_for(&o.item, source, channel, true))
                    }
                    None => "(no release on the list page passes this channel's filters)".into(),
                };
                format!("# channel {}\n{body}", channel.id)
            })
            .collect()
    } else {
        channels
            .iter()
            .map(|c| format::preview(&format::format_post(&newest.item, source, &c.share, true)))
            .collect()
    };
    Ok(posts.join("\n\n"))
}

/// The bot token, from `TELOXIDE_TOKEN` only. Its `Debug` never shows it, so it cannot reach a
/// log line by accident.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Reads `TELOXIDE_TOKEN`; `None` when unset or empty.
    pub fn from_env() -> Option<Token> {
        std::env::var("TELOXIDE_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(|t| Token(t.trim().to_owned()))
    }

    pub fn new(token: impl Into<String>) -> Token {
        Token(token.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// The secret itself, only so that log output can be searched for it and cut.
    pub fn secret_for_redaction(&self) -> String {
        self.0.clone()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}
