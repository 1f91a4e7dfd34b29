//! What each metric of `/metrics` means (its `# HELP` line), and the counters registered at
//! zero, so that a counter the README names is there before the first time it counts
//! (a rate over a series that appears only at its first increment misses that increment).

use crate::config::Config;
use metrics::Unit;

/// Every metric herald records: name, kind, unit and what it counts.
const METRICS: &[(&str, Kind, Option<Unit>, &str)] = &[
    (
        "herald_build_info",
        Kind::Gauge,
        None,
        "Always 1; the version label is herald's version.",
    ),
    (
        "herald_polls_total",
        Kind::Counter,
        None,
        "Polls by source and result (ok, unchanged, walk_cut, error, deadline, panic).",
    ),
    (
        "herald_poll_duration_seconds",
        Kind::Histogram,
        Some(Unit::Seconds),
        "How long each poll took, by source.",
    ),
    (
        "herald_poll_deadlines_total",
        Kind::Counter,
        None,
        "Polls cut at their deadline (poll_deadline_secs), by source.",
    ),
    (
        "herald_article_failures_total",
        Kind::Counter,
        None,
        "Article pages that could not be read (the release went out with its list data), by source.",
    ),
    (
        "herald_items_new_total",
        Kind::Counter,
        None,
        "New releases stored, by source.",
    ),
    (
        "herald_items_changed_total",
        Kind::Counter,
        None,
        "Corrected releases stored, by source.",
    ),
    (
        "herald_list_cards_skipped_total",
        Kind::Counter,
        None,
        "Cards of a list page its item selector matched but that were no release (no title, no link of its own), by source.",
    ),
    (
        "herald_source_items",
        Kind::Gauge,
        None,
        "Releases stored for the source's feed.",
    ),
    (
        "herald_source_consecutive_failures",
        Kind::Gauge,
        None,
        "Failed polls in a row of the source (0 when its last poll worked).",
    ),
    (
        "herald_source_poll_overdue_seconds",
        Kind::Gauge,
        None,
        "How long the source's poll due by its schedule has not started, past a grace of twice its poll deadline and a minute (0 while on time; more: its task is stuck or stops before it polls).",
    ),
    (
        "herald_source_schedule_ended",
        Kind::Gauge,
        None,
        "1 when the source's schedule has no instant left (its years past): it is not polled again.",
    ),
    (
        "herald_source_stale",
        Kind::Gauge,
        None,
        "1 when the source's newest release is far older than its usual rhythm.",
    ),
    (
        "herald_translations_linked_total",
        Kind::Counter,
        None,
        "Translation links made, by source.",
    ),
    (
        "herald_translations_replaced_total",
        Kind::Counter,
        None,
        "Translation links replaced by a better match, by source.",
    ),
    (
        "herald_translations_refused_total",
        Kind::Counter,
        None,
        "Translation links refused (they would join releases whose partners disagree), by source.",
    ),
    (
        "herald_telegram_sent_total",
        Kind::Counter,
        None,
        "Posts and edits Telegram accepted, by channel.",
    ),
    (
        "herald_telegram_errors_total",
        Kind::Counter,
        None,
        "Telegram calls that failed, by channel.",
    ),
    (
        "herald_telegram_429_total",
        Kind::Counter,
        None,
        "Telegram answers \"too many requests\" (429), by channel.",
    ),
    (
        "herald_telegram_edits_dropped_total",
        Kind::Counter,
        None,
        "Edits of posts given up (the post could not be edited), by channel.",
    ),
    (
        "herald_template_fallbacks_total",
        Kind::Counter,
        None,
        "Posts made with the default layout because the channel's template gave none, by channel.",
    ),
    (
        "herald_posts_set_aside_total",
        Kind::Counter,
        None,
        "Posts Telegram refused for good, set aside (see /requeue), by channel.",
    ),
    (
        "herald_posts_filtered_total",
        Kind::Counter,
        None,
        "New releases a channel's include/exclude kept out of it, by channel.",
    ),
    (
        "herald_telegram_uncertain_sends_total",
        Kind::Counter,
        None,
        "Posts sent again without knowing whether the first send arrived (a lost answer in a chat with no known message id), by channel.",
    ),
    (
        "herald_telegram_plain_fallbacks_total",
        Kind::Counter,
        None,
        "Posts, corrections and digest messages sent as plain text because Telegram could not parse their HTML, by channel.",
    ),
    (
        "herald_channel_pending",
        Kind::Gauge,
        None,
        "Deliveries queued for the channel.",
    ),
    (
        "herald_channel_set_aside",
        Kind::Gauge,
        None,
        "Deliveries of the channel set aside (refused for good).",
    ),
    (
        "herald_channel_oldest_pending_seconds",
        Kind::Gauge,
        Some(Unit::Seconds),
        "Age of the channel's oldest queued delivery (0 when none).",
    ),
    (
        "herald_admin_poll_failures_total",
        Kind::Counter,
        None,
        "Failed getUpdates calls of the admin command poller.",
    ),
    (
        "herald_admin_alerts_pending",
        Kind::Gauge,
        None,
        "Admin alerts (one per admin) kept until Telegram takes them.",
    ),
    (
        "herald_admin_chats_refused",
        Kind::Gauge,
        None,
        "Admin chats that refuse messages for good (blocked, not found): they get no alert.",
    ),
    (
        "herald_task_failures_total",
        Kind::Counter,
        None,
        "Long-lived tasks that panicked or ended, restarted by their supervisor, by task.",
    ),
    (
        "herald_feed_requests_total",
        Kind::Counter,
        None,
        "Feed requests answered, by format and whether the answer was 304 (fresh).",
    ),
    (
        "herald_feed_renders_total",
        Kind::Counter,
        None,
        "Feed documents rendered (not served from the cache), by format.",
    ),
    (
        "herald_feed_cache_bytes",
        Kind::Gauge,
        Some(Unit::Bytes),
        "Bytes held by the feed cache, by pool.",
    ),
    (
        "herald_slow_connections_closed_total",
        Kind::Counter,
        None,
        "Idle or slow connections closed to make room for a new one.",
    ),
    (
        "herald_send_stalls_total",
        Kind::Counter,
        None,
        "Answers whose client stopped reading, cut at the send deadline.",
    ),
    (
        "herald_websub_pings_total",
        Kind::Counter,
        None,
        "Pings of the WebSub hub, by result.",
    ),
    (
        "herald_websub_retries_total",
        Kind::Counter,
        None,
        "WebSub pings tried again after a failure.",
    ),
    (
        "herald_websub_undelivered_topics",
        Kind::Gauge,
        None,
        "Feeds the WebSub hub refused after every attempt, still to ping.",
    ),
    (
        "herald_config_reload_failures_total",
        Kind::Counter,
        None,
        "Edits of the config file refused (the running configuration stayed).",
    ),
    (
        "herald_config_refused",
        Kind::Gauge,
        None,
        "1 while the config file on disk is refused and herald runs the config before the edit.",
    ),
    (
        "herald_config_last_reload_success_timestamp_seconds",
        Kind::Gauge,
        Some(Unit::Seconds),
        "When the config file was last taken (at start or by a reload), as a Unix time.",
    ),
];

#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Gives every metric its `# HELP` text (and unit); once, after the recorder is installed.
pub(super) fn describe() {
    for &(name, kind, unit, help) in METRICS {
        match (kind, unit) {
            (Kind::Counter, Some(unit)) => metrics::describe_counter!(name, unit, help),
            (Kind::Counter, None) => metrics::describe_counter!(name, help),
            (Kind::Gauge, Some(unit)) => metrics::describe_gauge!(name, unit, help),
            (Kind::Gauge, None) => metrics::describe_gauge!(name, help),
            (Kind::Histogram, Some(unit)) => metrics::describe_histogram!(name, unit, help),
            (Kind::Histogram, None) => metrics::describe_histogram!(name, help),
        }
    }
}

/// Counters without labels, and the per-source and per-channel ones of the ids `config`
/// names, registered at zero (an increment of 0 leaves a counter as it is).
pub(super) fn register_counters(config: &Config) {
    for &name in UNLABELLED {
        metrics::counter!(name).increment(0);
    }
    for s in &config.sources {
        for &name in PER_SOURCE {
            metrics::counter!(name, "source" => s.id.clone()).increment(0);
        }
    }
    for c in &config.channels {
        for &name in PER_CHANNEL {
            metrics::counter!(name, "channel" => c.id.clone()).increment(0);
        }
    }
    // A few values, known in advance: every feed format is rendered at some point.
    for format in ["rss", "atom", "json"] {
        metrics::counter!("herald_feed_renders_total", "format" => format).increment(0);
    }
}

/// The counters without labels (a test checks every such counter of the code is here).
const UNLABELLED: &[&str] = &[
    "herald_admin_poll_failures_total",
    "herald_config_reload_failures_total",
    "herald_send_stalls_total",
    "herald_slow_connections_closed_total",
    "herald_websub_retries_total",
];

/// The counters labelled by source only.
const PER_SOURCE: &[&str] = &[
    "herald_items_new_total",
    "herald_items_changed_total",
    "herald_list_cards_skipped_total",
    "herald_poll_deadlines_total",
    "herald_article_failures_total",
    "herald_translations_linked_total",
    "herald_translations_replaced_total",
    "herald_translations_refused_total",
];

/// The counters labelled by channel only.
const PER_CHANNEL: &[&str] = &[
    "herald_telegram_sent_total",
    "herald_telegram_errors_total",
    "herald_telegram_429_total",
    "herald_telegram_edits_dropped_total",
    "herald_template_fallbacks_total",
    "herald_posts_set_aside_total",
    "herald_posts_filtered_total",
    "herald_telegram_uncertain_sends_total",
    "herald_telegram_plain_fallbacks_total",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The calls of `macro_` (`"counter!("`, …) in the code: (metric name, the text of its
    /// labels), read from `src/`.
    fn metrics_in_code(macro_: &str) -> Vec<(String, String)> {
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut found = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(src)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (at, _) in text.match_indices(macro_) {
                    let rest = text[at + macro_.len()..].trim_start();
                    let Some(rest) = rest.strip_prefix('"') else {
                        continue;
                    };
                    let name = rest.split('"').next().unwrap();
                    let after = &rest[name.len() + 1..];
                    // Up to the macro's closing parenthesis (values may call methods).
                    let mut depth = 0usize;
                    let end = after
                        .char_indices()
                        .find(|&(_, c)| match c {
                            '(' => {
                                depth += 1;
                                false
                            }
                            ')' if depth == 0 => true,
                            ')' => {
                                depth -= 1;
                                false
                            }
                            _ => false,
                        })
                        .map_or(after.len(), |(i, _)| i);
                    if name.starts_with("herald_") {
                        found.push((name.to_owned(), after[..end].to_owned()));
                    }
                }
            }
        }
        found
    }

    /// Every counter the code records without labels, or by source or channel alone, is
    /// registered at zero (README: the counters are there at 0 before they first count).
    #[test]
    fn every_counter_by_nothing_by_source_or_by_channel_is_registered_at_zero() {
        let mut missing = Vec::new();
        for (name, labels) in metrics_in_code("counter!(") {
            let keys: Vec<&str> = labels
                .split("=>")
                .filter_map(|part| part.rsplit(',').next())
                .map(|key| key.trim().trim_matches('"'))
                .filter(|key| !key.is_empty())
                .collect();
            // The last piece is the last label's value, not a key.
            let keys = &keys[..keys.len().saturating_sub(1)];
            let registered = match keys {
                [] => UNLABELLED.contains(&name.as_str()),
                ["source"] => PER_SOURCE.contains(&name.as_str()),
                ["channel"] => PER_CHANNEL.contains(&name.as_str()),
                _ => true,
            };
            if !registered {
                missing.push(format!("{name} {keys:?}"));
            }
        }
        assert!(missing.is_empty(), "not registered at zero: {missing:?}");
    }

    /// Every metric the code records is described here (a new one without a `# HELP` line
    /// fails this test).
    #[test]
    fn every_recorded_metric_is_described() {
        let missing: Vec<String> = ["counter!(", "gauge!(", "histogram!("]
            .into_iter()
            .flat_map(metrics_in_code)
            .map(|(name, _)| name)
            .filter(|name| !METRICS.iter().any(|(n, ..)| n == name))
            .collect();
        assert!(missing.is_empty(), "not described: {missing:?}");
    }
}
