//! The config in force while herald runs: a good edit of the file replaces it whole.

use super::Config;
use std::sync::{Arc, RwLock};

/// The running configuration; replaced as a whole by a good edit.
pub struct LiveConfig(RwLock<Arc<Config>>);

impl LiveConfig {
    pub fn new(config: Config) -> LiveConfig {
        LiveConfig(RwLock::new(Arc::new(config)))
    }

    pub fn get(&self) -> Arc<Config> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts `config` in force for every later `get`.
    pub fn set(&self, config: Config) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
    }
}
