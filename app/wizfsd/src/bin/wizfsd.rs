//! `wizfsd`: the WiZFS daemon. Reads its configuration, wires the adapters and serves the web
//! console and API until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;
use wizfsd::config::{Config, DEFAULT_PATH, ZfsBackend};

#[derive(Debug, Parser)]
#[command(name = "wizfsd", version = wizfsd::VERSION, about = "The WiZFS daemon: web console and API")]
struct Arguments {
    /// Configuration file (default /etc/wizfs/wizfsd.toml when it exists).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen on this address instead of the configured one.
    #[arg(long, value_name = "ADDRESS")]
    listen: Option<SocketAddr>,
    /// Use the directory-backed fake ZFS at DIR (demo mode).
    #[arg(long, value_name = "DIR")]
    fake: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let arguments = Arguments::parse();
    let mut config = match &arguments.config {
        Some(path) => Config::load(path)?,
        None if std::path::Path::new(DEFAULT_PATH).exists() => {
            Config::load(std::path::Path::new(DEFAULT_PATH))?
        }
        None => Config::default(),
    };
    if let Some(listen) = arguments.listen {
        config.listen = listen;
    }
    if let Some(root) = arguments.fake {
        config.zfs = ZfsBackend::Fake { root };
    }
    let filter =
        EnvFilter::try_from_env("WIZFS_LOG").unwrap_or_else(|_| EnvFilter::new(&config.log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
    tracing::info!(version = wizfsd::VERSION, ?config, "starting wizfsd");

    let zfs = wizfsd::wiring::zfs(&config.zfs)?;
    let health = wizfsd::health::HealthService::open(
        config.health.clone(),
        zfs.clone(),
        wizfsd::wiring::smart_source(&config.zfs)?,
        &config.data_dir,
    );
    let mut state = wizfsd::server::AppState::new(zfs)
        .with_policies(config.policies.clone())
        .with_health(health);
    // Without its index the daemon still serves browsing and restores; search says why not.
    match wizfsd::cli::search::open_index(&config.data_dir) {
        Ok(store) => {
            let method = wizfsd::wiring::index_method(&config.zfs, config.index.method);
            state = state.with_index(store, config.index.clone(), method);
        }
        Err(error) => tracing::error!("search index unavailable: {error:#}"),
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(wizfsd::server::serve(config.listen, state))
}
