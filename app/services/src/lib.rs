//! `wizfs-services`: the WiZFS daemon without HTTP. [`Services`] holds the state every front
//! end shares (the ZFS adapter, recovery, the index and its single writer, snapshot
//! policies, health monitoring, the long work the console shows live); [`wiring`] is the
//! one place that chooses real or fake adapters; [`config`] is `wizfsd.toml`. The HTTP
//! server (`wizfsd`), the console and the CLI (`wizfs-cli`) call these services; errors are
//! [`ServiceError`], which says what kind of failure it is, never an HTTP status.

mod api;
pub mod backups;
pub mod config;
mod error;
pub mod health;
pub mod progress;
pub mod recovery;
pub mod settings;
pub mod snapshots;
mod state;
mod state_file;
pub mod tasks;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod views;
pub mod wiring;

pub use error::ServiceError;
pub use state::{OpenIndexError, Services, open_index, recovery};

/// The version of this build, as `wizfsd --version`, `wizfs version` and `/healthz` report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
