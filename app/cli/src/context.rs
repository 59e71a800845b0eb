//! What every subcommand works from: the global flags (`--config`, `--fake`, `--data-dir`,
//! `--json`) and what follows from them — the configuration, the ZFS backend, the data
//! directory, the running daemon if one answers — and the [`Backend`] that runs API
//! operations: through that daemon, or in-process.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use wizfs_api::{Api, ApiFuture, DatasetView};
use wizfs_core::{DatasetName, RelativePath};
use wizfs_index::IndexStore;
use wizfs_services::config::{Config, DEFAULT_PATH, ZfsBackend};
use wizfs_zfs::Zfs;

use crate::daemon::Daemon;

/// The flags every subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Configuration file (its [zfs] section picks real or fake ZFS).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Use the directory-backed fake ZFS at DIR (demo and tests) instead of the real one.
    #[arg(long, global = true, value_name = "DIR")]
    pub fake: Option<PathBuf>,
    /// Where WiZFS keeps its state (the search index); default: the configuration's
    /// `data_dir`, or `<DIR>/.wizfs` with `--fake DIR`.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
    /// The configuration once read (a command asks for it several times).
    #[arg(skip)]
    loaded: std::sync::OnceLock<Config>,
}

/// Which ZFS to use: `--fake`, else the configuration file's backend, else the real one.
pub fn zfs_for(cli: &Global) -> anyhow::Result<Arc<dyn Zfs>> {
    Ok(wizfs_services::wiring::zfs(&backend_for(cli)?)?)
}

pub fn backend_for(cli: &Global) -> anyhow::Result<ZfsBackend> {
    Ok(match &cli.fake {
        Some(root) => ZfsBackend::Fake { root: root.clone() },
        None => config_for(cli)?.zfs,
    })
}

/// How the indexer compares snapshots for this invocation (see `wiring::index_method`).
pub fn index_method_for(cli: &Global) -> anyhow::Result<wizfs_indexer::MethodPolicy> {
    Ok(wizfs_services::wiring::index_method(
        &backend_for(cli)?,
        config_for(cli)?.index.method,
    ))
}

/// Where the CLI finds WiZFS's state: `--data-dir`, else `<fake root>/.wizfs`, else the
/// configuration's `data_dir`.
pub fn data_dir_for(cli: &Global) -> anyhow::Result<PathBuf> {
    if let Some(directory) = &cli.data_dir {
        return Ok(directory.clone());
    }
    if let Some(root) = &cli.fake {
        return Ok(root.join(".wizfs"));
    }
    Ok(config_for(cli)?.data_dir)
}

/// The configuration: `--config`, else the default file when it exists, else defaults.
pub fn config_for(cli: &Global) -> anyhow::Result<Config> {
    if let Some(config) = cli.loaded.get() {
        return Ok(config.clone());
    }
    let config = match &cli.config {
        Some(path) => Config::load(path)?,
        None if std::path::Path::new(DEFAULT_PATH).exists() => {
            Config::load(std::path::Path::new(DEFAULT_PATH))?
        }
        None => Config::default(),
    };
    Ok(cli.loaded.get_or_init(|| config).clone())
}

/// What runs a command's API operations: the daemon over its control socket when one
/// answers (the single writer of the index, the keeper of task runs and health history),
/// else the services of `wizfs-services` in this process, over the same [`Api`].
pub struct Backend {
    api: Arc<dyn Api>,
    daemon: Option<Daemon>,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Backend")
            .field("daemon", &self.daemon)
            .finish_non_exhaustive()
    }
}

impl Backend {
    /// The daemon of this invocation's data directory, or the services in-process with the
    /// configuration's snapshot policies, backup jobs and guard lifetime — and, `with_index`, the search
    /// index when it exists (opened read-only when another process writes it; commands that
    /// neither search nor change snapshots skip opening it).
    pub fn new(cli: &Global, zfs: &Arc<dyn Zfs>, with_index: bool) -> anyhow::Result<Backend> {
        let open: Option<OpenIndex> = with_index.then_some(open_index_for_queries);
        Self::opening(cli, zfs, open)
    }

    /// [`Backend::new`] with the index for commands that only read it (`search`,
    /// `versions`): opened read-only ([`open_index_for_reading`]), so nothing is written
    /// and no writer is started.
    pub fn reading(cli: &Global, zfs: &Arc<dyn Zfs>) -> anyhow::Result<Backend> {
        Self::opening(cli, zfs, Some(open_index_for_reading))
    }

    fn opening(
        cli: &Global,
        zfs: &Arc<dyn Zfs>,
        open: Option<OpenIndex>,
    ) -> anyhow::Result<Backend> {
        if let Some(daemon) = daemon(cli) {
            return Ok(Backend::through(daemon));
        }
        let config = config_for(cli)?;
        let mut services = wizfs_services::Services::new(zfs.clone())
            .with_policies(config.policies.clone())
            .with_guard_lifetime(config.recovery.guard_lifetime());
        let data_dir = data_dir_for(cli)?;
        services = services.with_backups(config.backups.clone(), &data_dir);
        if let Some(open) = open
            && data_dir.join("index").exists()
        {
            match open(&data_dir) {
                Ok(store) => {
                    services =
                        services.with_index(store, config.index.clone(), index_method_for(cli)?);
                }
                Err(error) => {
                    eprintln!("wizfs: note: the search index is not usable now ({error:#})")
                }
            }
        }
        Ok(Backend {
            api: Arc::new(services),
            daemon: None,
        })
    }

    /// The API of a daemon that answered.
    pub fn through(daemon: Daemon) -> Backend {
        Backend {
            api: Arc::new(daemon.clone()),
            daemon: Some(daemon),
        }
    }

    /// The running daemon this backend talks to, if it does (for the streams the typed
    /// `Api` does not carry: `wizfs cat` and `wizfs download`).
    pub fn daemon(&self) -> Option<&Daemon> {
        self.daemon.as_ref()
    }

    /// The mounted dataset holding an absolute path (the longest mountpoint above it,
    /// component-wise), and the path inside it.
    pub fn locate(&self, absolute: &Path) -> anyhow::Result<Located> {
        if !absolute.is_absolute() {
            bail!("give an absolute path (got `{}`)", absolute.display());
        }
        let datasets = self.run(|api| api.datasets())?;
        locate_in(&datasets, absolute)
    }

    /// Runs one operation to its answer: `run(|api| api.pools())`.
    pub fn run<T>(
        &self,
        operation: impl for<'a> FnOnce(&'a dyn Api) -> ApiFuture<'a, T>,
    ) -> anyhow::Result<T> {
        Ok(block_on(operation(self.api.as_ref()))??)
    }
}

/// How a [`Backend`] opens the index of a data directory.
type OpenIndex = fn(&Path) -> anyhow::Result<Arc<IndexStore>>;

/// Opens the index for a command that only reads it: read-only (no writer lock, no writer
/// threads, nothing written), unless a crash left the search index behind the catalogue or
/// it is missing — then as [`open_index_for_queries`] does, which repairs it when nobody
/// else writes it.
pub fn open_index_for_reading(data_dir: &Path) -> anyhow::Result<Arc<IndexStore>> {
    if let Ok(store) = IndexStore::open_read_only(&data_dir.join("index"))
        && !store.needs_repair()?
    {
        return Ok(Arc::new(store));
    }
    // The read-only store is closed by now: the catalogue is opened once per process.
    open_index_for_queries(data_dir)
}

/// Opens the index for queries: for writing when nobody else has it, else read-only (the
/// daemon holds it on the appliance; its last commit is what the search sees).
pub fn open_index_for_queries(data_dir: &Path) -> anyhow::Result<Arc<IndexStore>> {
    match wizfs_services::open_index(data_dir) {
        Err(error) if error.is_locked() => {
            let directory = data_dir.join("index");
            Ok(Arc::new(
                IndexStore::open_read_only(&directory).with_context(|| {
                    format!("opening the index at {} for reading", directory.display())
                })?,
            ))
        }
        other => Ok(other?),
    }
}

/// Where an absolute path of the live system is: its dataset, that dataset's mountpoint and
/// the path inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub dataset: DatasetName,
    pub mountpoint: PathBuf,
    pub path: RelativePath,
}

/// [`Backend::locate`] over a listing of the datasets.
pub fn locate_in(datasets: &[DatasetView], absolute: &Path) -> anyhow::Result<Located> {
    let mounted = datasets
        .iter()
        .filter(|dataset| dataset.mounted)
        .filter_map(|dataset| Some((dataset, Path::new(dataset.mountpoint.as_deref()?))));
    let Some((dataset, mountpoint, path)) = wizfs_recovery::locate_in_mounts(mounted, absolute)
    else {
        bail!("{} is in no mounted ZFS dataset", absolute.display());
    };
    Ok(Located {
        dataset: DatasetName::new(&dataset.name)?,
        mountpoint: mountpoint.to_owned(),
        path: path?,
    })
}

/// Runs async code from the synchronous CLI: on the caller's runtime when it runs on one's
/// blocking pool (tests), else on a small runtime of its own (its blocking pool runs the
/// in-process services' ZFS and index work).
pub fn block_on<F: std::future::Future>(future: F) -> anyhow::Result<F::Output> {
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        return Ok(handle.block_on(future));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    Ok(runtime.block_on(future))
}

/// The daemon answering on the control socket of this invocation's data directory.
pub fn daemon(cli: &Global) -> Option<Daemon> {
    Daemon::find(&data_dir_for(cli).ok()?)
}
