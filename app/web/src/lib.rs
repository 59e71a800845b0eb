//! The WiZFS web console, one Leptos app for both sides: rendered on the server by `wizfsd`
//! (feature `ssr`, with [`backend`] reaching the daemon's services in-process) and hydrated
//! in the browser by `wizfs-web-client` (feature `hydrate`). Pages live in [`pages`]; the
//! data they need comes from the server functions in [`api`], typed as the views and
//! requests of `wizfs-api`; the forms people fill in are the console's own ([`forms`]).
//!
//! Security lives in the daemon, in front of this app: every route but `/login`, `/setup`
//! and the static assets needs a session, and state-changing requests pass a CSRF check.

pub mod api;
pub mod app;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod format;
pub mod forms;
pub mod layout;
pub mod moment;
pub mod pages;
pub mod sessions;

pub use app::{App, shell};

/// Where the compiled browser bundle and the style sheet are served from.
pub const PKG_PATH: &str = "/pkg";
/// The name of the bundle (`wizfs.js`, `wizfs_bg.wasm`, `wizfs.css`).
pub const OUTPUT_NAME: &str = "wizfs";
/// Console pages reachable without a session.
pub const PUBLIC_PAGES: [&str; 2] = ["/login", "/setup"];
