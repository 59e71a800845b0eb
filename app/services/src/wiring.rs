//! The one place where WiZFS chooses between real and fake system adapters. Everything else
//! receives them as `Arc<dyn Trait>`.

use std::path::PathBuf;
use std::sync::Arc;

use wizfs_indexer::MethodPolicy;
use wizfs_zfs::{CliZfs, FakeZfs, Zfs};

use crate::config::{Config, IndexMethod, ZfsBackend};

/// Why the adapters the configuration asks for could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error("creating the fake ZFS root {}: {source}", root.display())]
    FakeRoot {
        root: PathBuf,
        source: std::io::Error,
    },
    #[error("opening the fake ZFS at {}: {source}", root.display())]
    FakeZfs {
        root: PathBuf,
        source: wizfs_zfs::ZfsError,
    },
    #[error("creating the fake SMART data in {}: {source}", directory.display())]
    FakeSmart {
        directory: PathBuf,
        source: std::io::Error,
    },
}

/// The daemon's services as `config` asks: ZFS, health monitoring, snapshot policies and
/// the search index. Without its index the daemon still serves browsing and restores (search
/// says why not), so an index that cannot be opened is logged and left out.
pub fn services(config: &Config) -> Result<crate::Services, WiringError> {
    let zfs = zfs(&config.zfs)?;
    let health = crate::health::HealthService::open(
        config.health.clone(),
        zfs.clone(),
        smart_source(&config.zfs)?,
        &config.data_dir,
    );
    let mut services = crate::Services::new(zfs)
        .with_policies(config.policies.clone())
        .with_backups(config.backups.clone(), &config.data_dir)
        .with_health(health)
        .with_guard_lifetime(config.recovery.guard_lifetime());
    if let Some(path) = &config.source {
        services = services.with_config_file(path.clone());
    }
    if let Some(health) = &services.health {
        health.watch_backups(services.backups.clone());
    }
    match crate::open_index(&config.data_dir) {
        Ok(store) => {
            let method = index_method(&config.zfs, config.index.method);
            services = services.with_index(store, config.index.clone(), method);
        }
        Err(error) => tracing::error!("search index unavailable: {error}"),
    }
    Ok(services)
}

/// The ZFS implementation the configuration asks for.
pub fn zfs(backend: &ZfsBackend) -> Result<Arc<dyn Zfs>, WiringError> {
    Ok(match backend {
        ZfsBackend::Real => Arc::new(CliZfs::default()),
        ZfsBackend::Fake { root } => {
            std::fs::create_dir_all(root).map_err(|source| WiringError::FakeRoot {
                root: root.clone(),
                source,
            })?;
            let fake = FakeZfs::open(root).map_err(|source| WiringError::FakeZfs {
                root: root.clone(),
                source,
            })?;
            Arc::new(fake)
        }
    })
}

/// Where SMART data comes from: `smartctl` on real ZFS; on the fake backend the captured
/// `smartctl --json` outputs in `<root>/.smartctl/` (a name no pool can have), seeded with
/// the two NVMe disks of the test VM so the demo shows disks.
pub fn smart_source(
    backend: &ZfsBackend,
) -> Result<Arc<dyn wizfs_health::smart::SmartSource>, WiringError> {
    Ok(match backend {
        ZfsBackend::Real => Arc::new(wizfs_health::smart::SmartctlCli::default()),
        ZfsBackend::Fake { root } => {
            let directory = root.join(".smartctl");
            let source = crate::health::fixtures::FixtureSmartSource::seeded(&directory).map_err(
                |source| WiringError::FakeSmart {
                    directory: directory.clone(),
                    source,
                },
            )?;
            Arc::new(source)
        }
    })
}

/// How the indexer compares snapshots on `backend`: as configured on real ZFS; always by
/// `zfs diff` on the fake, whose snapshot trees are copies with inode numbers of their own
/// (a metadata walk would see every file as replaced).
pub fn index_method(backend: &ZfsBackend, configured: IndexMethod) -> MethodPolicy {
    match (backend, configured) {
        (ZfsBackend::Fake { .. }, _) | (ZfsBackend::Real, IndexMethod::Diff) => MethodPolicy::Diff,
        (ZfsBackend::Real, IndexMethod::Adaptive) => MethodPolicy::Adaptive,
        (ZfsBackend::Real, IndexMethod::Walk) => MethodPolicy::Walk,
        (ZfsBackend::Real, IndexMethod::Objects) => MethodPolicy::Objects,
    }
}
