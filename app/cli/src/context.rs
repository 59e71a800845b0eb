//! What every subcommand works from: the global flags (`--config`, `--fake`, `--data-dir`,
//! `--json`) and what follows from them — the configuration, the ZFS backend, the data
//! directory, the running daemon if one answers — and the reindex after a snapshot change.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use wizfs_api::IndexReportView;
use wizfs_core::DatasetName;
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

/// Snapshots WiZFS creates or destroys are (un)indexed at once: by the daemon when one runs
/// (the index's writer), else here when the index exists; failures only warn.
pub fn index_after_change<'a>(
    cli: &Global,
    zfs: &Arc<dyn Zfs>,
    datasets: impl Iterator<Item = &'a DatasetName>,
    recursive: bool,
) {
    let Ok(data_dir) = data_dir_for(cli) else {
        return;
    };
    let roots: Vec<DatasetName> = datasets.cloned().collect();
    if let Some(daemon) = Daemon::find(&data_dir) {
        let mut names: Vec<String> = Vec::new();
        for root in &roots {
            if recursive && let Ok(tree) = zfs.list_datasets(Some(root)) {
                names.extend(tree.iter().map(|dataset| dataset.name.to_string()));
            } else {
                names.push(root.to_string());
            }
        }
        names.sort();
        names.dedup();
        let request = wizfs_api::IndexRequest { datasets: names };
        if let Err(error) =
            daemon.post::<_, Vec<IndexReportView>>(wizfs_api::routes::INDEX, &request)
        {
            eprintln!("wizfs: note: the daemon did not index the change now ({error:#})");
        }
        return;
    }
    if !data_dir.join("index").exists() {
        return;
    }
    let result = wizfs_services::open_index(&data_dir)
        .map_err(anyhow::Error::from)
        .and_then(|store| {
            let indexer =
                wizfs_indexer::Indexer::with_policy(store, zfs.clone(), index_method_for(cli)?);
            let affected = |dataset: &DatasetName| {
                roots.iter().any(|root| {
                    dataset == root || (recursive && dataset.is_same_or_descendant_of(root))
                })
            };
            Ok(indexer.sync_all(&affected, &mut |_| {})?)
        });
    if let Err(error) = result {
        eprintln!(
            "wizfs: note: the search index was not updated now ({error:#}); the daemon's next reconciliation will"
        );
    }
}

/// The daemon answering on the control socket of this invocation's data directory.
pub fn daemon(cli: &Global) -> Option<Daemon> {
    Daemon::find(&data_dir_for(cli).ok()?)
}
