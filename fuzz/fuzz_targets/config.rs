//! Any bytes as config.toml: a config or positioned diagnostics, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(problems) = herald::config::parse(Path::new("c.toml"), &text, Path::new("/tmp")) {
        for p in problems {
            assert!(p.line >= 1 && p.col >= 1, "{p}");
        }
    }
});
