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
            .map(|t| Token::new(t.trim()))
    }

    /// A token, from now on cut out of every text herald shows ([`crate::secret`]).
    pub fn new(token: impl Into<String>) -> Token {
        let token = token.into();
        crate::secret::keep_out(&token);
        Token(token)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}
