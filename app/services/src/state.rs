//! [`Services`]: what every front end shares — the ZFS adapter, recovery, the search index
//! with its single writer, snapshot policies, health monitoring and the long work the console
//! shows live — and the index service's operations (open, reconcile, the periodic schedule).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wizfs_index::{IndexError, IndexStore};
use wizfs_zfs::Zfs;

use crate::ServiceError;

/// The daemon's services, cheap to clone (every part is shared).
#[derive(Clone, Debug)]
pub struct Services {
    pub zfs: Arc<dyn Zfs>,
    pub recovery: wizfs_recovery::Recovery,
    /// The search index, when it could be opened.
    pub indexer: Option<wizfs_indexer::Indexer>,
    pub index_config: crate::config::IndexConfig,
    /// Snapshot policies and their scheduler.
    pub snapshots: crate::snapshots::SnapshotService,
    /// Backup jobs and their runs.
    pub backups: crate::backups::BackupService,
    /// Health monitoring (disks, pools, sensors, alerts), when the daemon runs it.
    pub health: Option<crate::health::HealthService>,
    /// Long work the console shows live.
    pub progress: crate::progress::Progress,
    /// Searches run at most one per core at a time, the others wait their turn in order:
    /// 64 searches at once on 2 cores otherwise all slowed down together (p99 5× the p50).
    /// (Searches of the index alone run on the request's worker thread, so there they
    /// never wait here; those that ask ZFS first run on the blocking pool.)
    pub searches: Arc<tokio::sync::Semaphore>,
    /// How long guard snapshots are kept (none: for ever).
    pub guard_lifetime: Option<wizfs_core::guards::GuardLifetime>,
    /// The background tasks' driver, once the daemon started them (`crate::tasks::start`).
    pub tasks: Arc<std::sync::OnceLock<wizfs_tasks::DriverHandle>>,
    /// The configuration file the console changes (policies, notification channels), when
    /// the daemon was started with one.
    pub config_file: Option<Arc<crate::settings::ConfigFile>>,
}

/// Recovery over `zfs` with the real clock.
pub fn recovery(zfs: Arc<dyn Zfs>) -> wizfs_recovery::Recovery {
    wizfs_recovery::Recovery::new(zfs, Arc::new(wizfs_recovery::system_clock))
}

impl Services {
    pub fn new(zfs: Arc<dyn Zfs>) -> Self {
        let recovery = recovery(zfs.clone());
        Self {
            zfs,
            recovery,
            indexer: None,
            index_config: crate::config::IndexConfig::default(),
            snapshots: crate::snapshots::SnapshotService::default(),
            backups: crate::backups::BackupService::default(),
            health: None,
            progress: crate::progress::Progress::default(),
            searches: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            )),
            guard_lifetime: Some(wizfs_core::guards::GuardLifetime::default()),
            tasks: Arc::default(),
            config_file: None,
        }
    }

    /// With guard snapshots kept for `lifetime` (none: for ever).
    pub fn with_guard_lifetime(
        mut self,
        lifetime: Option<wizfs_core::guards::GuardLifetime>,
    ) -> Self {
        self.guard_lifetime = lifetime;
        self
    }

    /// With health monitoring (rounds scheduled by the daemon).
    pub fn with_health(mut self, health: crate::health::HealthService) -> Self {
        self.health = Some(health);
        self
    }

    /// With backup jobs (scheduled by the daemon), their runs recorded in `data_dir`.
    pub fn with_backups(
        mut self,
        jobs: Vec<wizfs_backup::BackupJobConfig>,
        data_dir: &Path,
    ) -> Self {
        self.backups = crate::backups::BackupService::new(jobs, data_dir);
        self
    }

    /// With snapshot policies (scheduled by the daemon).
    pub fn with_policies(mut self, policies: Vec<wizfs_snapshots::PolicyConfig>) -> Self {
        self.snapshots = crate::snapshots::SnapshotService::new(policies);
        self
    }

    /// With a search index, compared by `method` (see `wiring::index_method`).
    pub fn with_index(
        mut self,
        store: Arc<IndexStore>,
        config: crate::config::IndexConfig,
        method: wizfs_indexer::MethodPolicy,
    ) -> Self {
        self.indexer = Some(wizfs_indexer::Indexer::with_policy(
            store,
            self.zfs.clone(),
            method,
        ));
        self.index_config = config;
        self
    }

    /// Reconciles the index with ZFS (blocking; run on the blocking pool): every dataset the
    /// configuration includes. Datasets excluded after they were indexed disappear from search (and come back when
    /// included again); a reconciliation of named datasets leaves that as it is.
    pub fn reconcile_index(&self) -> Result<Vec<wizfs_indexer::SyncReport>, ServiceError> {
        let config = &self.index_config;
        let reports = self.reconcile_index_of(&|dataset| config.includes(dataset))?;
        if let Some(indexer) = &self.indexer {
            let store = indexer.store();
            for known in store.datasets().map_err(|error| indexing_failed(&error))? {
                let included = wizfs_core::DatasetName::new(&known.name)
                    .is_ok_and(|name| config.includes(&name));
                if included != known.included {
                    store
                        .set_included(known.guid, included)
                        .map_err(|error| indexing_failed(&error))?;
                }
            }
        }
        Ok(reports)
    }

    /// Reconciles the datasets `wanted` accepts (blocking), with its progress shown as a task.
    pub fn reconcile_index_of(
        &self,
        wanted: &dyn Fn(&wizfs_core::DatasetName) -> bool,
    ) -> Result<Vec<wizfs_indexer::SyncReport>, ServiceError> {
        let indexer = self
            .indexer
            .as_ref()
            .ok_or_else(|| ServiceError::Unavailable("the search index is not open".into()))?;
        let task = self.progress.start("index", "Indexing snapshots");
        let reports = match indexer.sync_all(wanted, &mut |progress| {
            task.progress(
                progress.done as u64,
                progress.total as u64,
                format!("{}: {}", progress.dataset, progress.step),
            );
        }) {
            Ok(reports) => {
                let indexed: usize = reports.iter().map(|report| report.indexed.len()).sum();
                task.succeed(format!("{indexed} snapshots indexed"));
                reports
            }
            Err(error) => {
                task.fail(error.to_string());
                return Err(indexing_failed(&error));
            }
        };
        Ok(reports)
    }
}

fn indexing_failed(error: &dyn std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("indexing failed: {error}"))
}

/// Why the index could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenIndexError {
    #[error("creating {}: {source}", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("opening the index at {}: {source}", path.display())]
    Open { path: PathBuf, source: IndexError },
}

impl OpenIndexError {
    /// Whether another process (the daemon) holds the index for writing.
    pub fn is_locked(&self) -> bool {
        matches!(
            self,
            Self::Open {
                source: IndexError::Locked { .. },
                ..
            }
        )
    }
}

/// Opens (creating it if needed) the search index in `<data_dir>/index` for writing: one
/// process writes an index.
pub fn open_index(data_dir: &Path) -> Result<Arc<IndexStore>, OpenIndexError> {
    let path = data_dir.join("index");
    std::fs::create_dir_all(&path).map_err(|source| OpenIndexError::Create {
        path: path.clone(),
        source,
    })?;
    IndexStore::open(&path)
        .map(Arc::new)
        .map_err(|source| OpenIndexError::Open { path, source })
}
