//! Warnings about what a valid config does where it runs: channels with no bot token to post
//! with. They depend on the environment (`TELOXIDE_TOKEN`), so the file alone does not decide
//! them.

use super::{Config, Diagnostic};

/// Channels are configured but `TELOXIDE_TOKEN` is not set (`token_set` false): delivery is off,
/// nothing is posted to them. Said at the first `[[channels]]` of the file (`text`).
pub fn delivery_off_warning(config: &Config, text: &str, token_set: bool) -> Option<Diagnostic> {
    let n = config.channels.len();
    if n == 0 || token_set {
        return None;
    }
    let (line, col) = position_of(text, "[[channels]]").unwrap_or((1, 1));
    let (channels, them) = if n == 1 {
        ("channel is", "it")
    } else {
        ("channels are", "them")
    };
    Some(Diagnostic {
        path: config.path.display().to_string(),
        line,
        col,
        message: format!(
            "warning: {n} Telegram {channels} configured, but TELOXIDE_TOKEN is not set in this \
             environment: herald run here has delivery off and posts nothing to {them} (the index \
             page leaves {them} out; /healthz says \"delivery\": \"off\"). Set TELOXIDE_TOKEN \
             to the bot's token where herald runs (the unit's EnvironmentFile, \
             deploy/herald.env, the Kubernetes Secret)"
        ),
    })
}

/// Where `needle` first stands in `text`: 1-based line and column.
fn position_of(text: &str, needle: &str) -> Option<(usize, usize)> {
    let at = text.find(needle)?;
    Some(line_col(text, at))
}

fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::*;

    const CHANNELS: &str = "[[channels]]\nid = \"c\"\nchat = \"@c\"\n\n\
                            [[channels]]\nid = \"d\"\nchat = -1001\n";

    #[test]
    fn channels_without_a_token_are_a_warning() {
        let text = format!("[general]\nuser_agent = \"x\"\n\n{CHANNELS}");
        let config = parse_str(&text).expect("valid");
        let w = delivery_off_warning(&config, &text, false).expect("a warning");
        assert_eq!((w.line, w.col), (4, 1));
        assert!(
            w.message.starts_with(
                "warning: 2 Telegram channels are configured, but TELOXIDE_TOKEN is not set in \
                 this environment: herald run here has delivery off and posts nothing to them"
            ),
            "{w}"
        );
        assert_eq!(delivery_off_warning(&config, &text, true), None);
        let none = parse_str("[general]\nuser_agent = \"x\"\n").expect("valid");
        assert_eq!(delivery_off_warning(&none, "", false), None);
    }
}
