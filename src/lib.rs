//! herald: turns websites without usable feeds into RSS/Atom/JSON feeds (and Telegram posts).
//!
//! A release travels config → schedule → fetch → extract → pipeline → store → render/serve and
//! telegram; each stage is a module of its own, and `app` wires them together. The modules are
//! layered one way (ARCHITECTURE.md, checked by `tests/layers.rs`): each imports only the layers
//! below it.

pub mod app;
pub mod config;
pub mod dates;
pub mod encoding;
pub mod extract;
pub mod fetch;
pub mod health;
pub mod lang;
pub mod markup;
pub mod model;
pub mod pipeline;
pub mod quiet;
pub mod render;
pub mod schedule;
pub mod secret;
pub mod server;
pub mod shared;
pub mod store;
pub mod suggest;
pub mod supervise;
pub mod telegram;
pub mod template;
pub mod text;
pub mod timefmt;
pub mod translations;
pub mod watch;
pub mod websub;
