//! `wizfsd`: the WiZFS daemon's HTTP side, as a library so its binary (`src/bin/`), the
//! benchmarks and the tests share it — the router and its thin handlers over
//! `wizfs-services`, the sign-in and session guard, security headers, the Leptos console
//! and its cache, and serving. The services themselves, the configuration and the choice of
//! real or fake adapters are in `wizfs-services`; the `wizfs` CLI is `wizfs-cli`.

pub mod api;
pub mod auth;
pub mod console;
pub mod control;
pub mod http;
pub mod memory;
pub mod routes;
pub mod security;
pub mod server;

/// The version of this build, as `wizfsd --version` and `/healthz` report it.
pub const VERSION: &str = wizfs_services::VERSION;
