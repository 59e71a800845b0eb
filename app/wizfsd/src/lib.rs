//! `wizfsd`: the WiZFS daemon and the `wizfs` command line, as a library so both binaries
//! (`src/bin/`) and the tests share it. [`wiring`] is the one place that decides between real
//! and fake system adapters; everything else receives them as trait objects.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod console;
pub mod health;
pub mod jobs;
pub mod memory;
pub mod routes;
pub mod security;
pub mod server;
pub mod snapshots;
pub mod wire;
pub mod wiring;

/// The version of this build, as `wizfsd --version` and `/healthz` report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
