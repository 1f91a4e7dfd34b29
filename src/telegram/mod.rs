//! Telegram: the post's text and buttons (`format`), Telegram's rate limits (`limits`), the
//! outbox workers that deliver posts and edits (`deliver`), digests (`digest`), the admins'
//! alerts (`admin`) and the Bot API client's error reading (`api`). The admin commands, which
//! poll and change the running app, live above it, in `app::commands`.

pub mod admin;
pub mod api;
pub mod deliver;
pub mod digest;
pub mod format;
pub mod limits;

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
