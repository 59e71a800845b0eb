//! Shared pieces of the fuzz targets: two product source files compiled here from their own
//! paths, because their crates are too heavy to build under coverage instrumentation (both
//! depend on Leptos), and the helpers the targets use to cut an input into parts.
//!
//! `wizfsd_config` is `app/services/src/config.rs` (the daemon's `wizfsd.toml`) and
//! `web_format` is `app/web/src/format.rs` (among its pure helpers the console path form):
//! the very files the daemon and the console compile, so what is fuzzed is what ships. Once
//! the daemon's configuration moves to a services crate (issue 18) the target can depend
//! on that crate instead.

#[path = "../../app/services/src/config.rs"]
pub mod wizfsd_config;

#[path = "../../app/web/src/format.rs"]
pub mod web_format;

/// Splits `data` into a selector byte and the rest (`None` for empty input): how the
/// targets that cover several parsers pick one.
pub fn selector(data: &[u8]) -> Option<(u8, &[u8])> {
    data.split_first().map(|(first, rest)| (*first, rest))
}
