//! herald's integration tests, as one test binary: each module is the tests of one part (they
//! were one binary each, every one linking all of herald and its dependencies again).
//!
//! Run one part with a filter: `cargo test --test it telegram::` (the module's path prefixes the
//! names of its tests). The tests that read process-wide state stay binaries of their own
//! (`tests/*.rs` beside this folder), so that no other test moves what they measure:
//! `delivery_simulation` (a paused tokio clock and herald's process-wide clock), `feed_cache` and
//! `feed_cache_bytes` (process-wide metrics), `zerocopy` (the process's count of bytes sent from
//! files), `source_faults` (the process's peak RSS) and `resource_budget` (a child's peak RSS,
//! which starts from its parent's).

mod common;

mod add_command;
mod admin;
mod admin_alerts;
mod admin_commands;
mod admin_poller;
mod bidi;
mod botapi_fake;
mod channel_config;
mod channels;
mod channels_cli;
mod check;
mod cli;
mod cli_output;
mod config_watch;
mod crash;
mod delivery_integrity;
mod deploy;
mod digest_filters;
mod digest_progress;
mod disk;
mod endpoints;
mod extract;
mod extract_rules;
mod feeds;
mod hostile;
mod input_bounds;
mod layers;
mod list_dates;
mod list_pages;
mod politeness;
mod polling;
mod properties;
mod readers;
mod reload_text;
mod server_limits;
mod service;
mod suggest;
mod supervision;
mod telegram;
mod telegram_integrity;
mod telegram_limits;
mod translation_fixtures;
mod translation_sweep;
mod translations;
mod upstream_faults;
mod upstream_feeds;
mod websub;
