//! The index subcommands of `wizfs`: `index` (reconcile datasets with the search index, with
//! progress) and `search` (file names across every snapshot and the live file system, with
//! filters, deleted files, "as of a snapshot", paging, sorting and facet counts).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use wizfs_api::{IndexReportView, KindFilter, NameMatch, SearchRequest, SortBy};
use wizfs_core::DatasetName;
use wizfs_indexer::Indexer;
use wizfs_zfs::Zfs;

use crate::output::format_bytes;

#[derive(Debug, Args)]
pub struct IndexArguments {
    /// Only these datasets (default: every mounted filesystem).
    #[arg(value_parser = crate::parse::parse_dataset_name)]
    pub datasets: Vec<DatasetName>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MatchArgument {
    Substring,
    Prefix,
    Glob,
    Fuzzy,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SortArgument {
    Relevance,
    Name,
    Size,
    Modified,
    Path,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArgument {
    File,
    Directory,
    Symlink,
}

#[derive(Debug, Args)]
pub struct SearchArguments {
    /// Text to find in file names (empty: every name).
    #[arg(default_value = "")]
    pub text: String,
    #[arg(long = "match", value_enum, default_value = "substring")]
    pub name_match: MatchArgument,
    /// Only in these datasets.
    #[arg(long = "dataset")]
    pub datasets: Vec<String>,
    /// Only below this directory (absolute path of the live system).
    #[arg(long)]
    pub under: Option<std::path::PathBuf>,
    #[arg(long = "type", value_enum)]
    pub kinds: Vec<KindArgument>,
    /// File name extensions (without the dot).
    #[arg(long = "ext")]
    pub extensions: Vec<String>,
    #[arg(long)]
    pub min_size: Option<u64>,
    #[arg(long)]
    pub max_size: Option<u64>,
    /// Modified at or after this Unix time.
    #[arg(long)]
    pub modified_after: Option<i64>,
    /// Modified at or before this Unix time.
    #[arg(long)]
    pub modified_before: Option<i64>,
    /// Only files that no longer exist live (in some snapshot, absent now).
    #[arg(long)]
    pub deleted: bool,
    /// As the file system was in this snapshot (full name, dataset@snapshot; a short name
    /// with one --dataset).
    #[arg(long)]
    pub as_of: Option<String>,
    #[arg(long, value_enum, default_value = "relevance")]
    pub sort: SortArgument,
    #[arg(long)]
    pub descending: bool,
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

pub fn index(
    zfs: Arc<dyn Zfs>,
    data_dir: &Path,
    method: wizfs_indexer::MethodPolicy,
    config: &wizfs_services::config::IndexConfig,
    arguments: &IndexArguments,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let indexer = Indexer::with_policy(wizfs_services::open_index(data_dir)?, zfs, method);
    let interactive = !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut progress = |progress: wizfs_indexer::Progress| {
        if interactive {
            eprint!(
                "\r{}: {} ({}/{})\x1b[K",
                progress.dataset,
                progress.step,
                progress.done + 1,
                progress.total.max(1)
            );
        }
    };
    let only = &arguments.datasets;
    // Named datasets are indexed even when the configuration excludes them; without names,
    // every mounted filesystem the configuration does not exclude.
    let reports = indexer.sync_all(
        &|dataset| {
            if only.is_empty() {
                config.includes(dataset)
            } else {
                only.contains(dataset)
            }
        },
        &mut progress,
    )?;
    if interactive {
        eprintln!();
    }
    let views: Vec<IndexReportView> = reports
        .iter()
        .map(wizfs_services::views::index_report)
        .collect();
    print_index_reports(&views, json, out)
}

/// `wizfs index` through the running daemon, the index's writer.
pub fn index_through(
    backend: &crate::context::Backend,
    arguments: &IndexArguments,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let request = wizfs_api::IndexRequest {
        datasets: arguments.datasets.iter().map(ToString::to_string).collect(),
    };
    let views = backend.run(|api| api.reindex(request))?;
    print_index_reports(&views, json, out)
}

fn print_index_reports(
    reports: &[IndexReportView],
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, reports)?;
        writeln!(out)?;
        return Ok(());
    }
    for report in reports {
        writeln!(
            out,
            "{}: {} snapshot(s) indexed, {} forgotten; read by {} walk(s), {} zfs diff(s) and {} object comparison(s) ({} of {} streamed objects changed, {} read from the stream without a stat), {} unchanged (the live file system included); {} version updates in {:.1} s",
            report.dataset,
            report.indexed.len(),
            report.forgotten.len(),
            report.full_walks,
            report.diffs,
            report.object_comparisons,
            report.changed_objects,
            report.streamed_objects,
            report.decoded_objects,
            report.unchanged,
            report.operations,
            report.seconds
        )?;
        for fallback in &report.fallbacks {
            writeln!(out, "  objects gave way to another method at {fallback}")?;
        }
    }
    Ok(())
}

pub fn search(
    backend: &crate::context::Backend,
    arguments: &SearchArguments,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut request = request(arguments);
    if let Some(directory) = &arguments.under {
        // The kernel's mount table first (no `zfs list`), else ZFS's mountpoints.
        let location = match crate::quick::locate(directory) {
            Some(location) => location,
            None => backend.locate(directory)?,
        };
        let dataset = location.dataset.to_string();
        if !request.dataset.is_empty() && request.dataset != [dataset.clone()] {
            bail!(
                "--under {} is in dataset {dataset}; search it alone (without other --dataset)",
                directory.display()
            );
        }
        request.dataset = vec![dataset];
        request.under = Some(
            String::from_utf8(location.path.as_bytes().to_vec()).context(
                "--under: a directory whose name is not UTF-8 cannot be searched below yet",
            )?,
        );
    }
    let view = backend.run(|api| api.search(request))?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &view)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} version(s) found; showing {}–{}",
        view.total,
        arguments.offset + 1,
        arguments.offset + view.hits.len()
    )?;
    for hit in &view.hits {
        let presence = match (hit.path_live, &hit.first_snapshot, &hit.last_snapshot) {
            (_, Some(first), Some(last)) if first == last => format!("in @{first}"),
            (_, Some(first), Some(last)) => format!("in @{first} … @{last}"),
            (_, None, _) | (_, _, None) => "live only".to_owned(),
        };
        writeln!(
            out,
            "{}:{}  {} {}  {}{}",
            hit.dataset,
            wizfs_core::text::visible(&hit.path),
            hit.kind,
            format_bytes(hit.size),
            presence,
            if hit.path_live { "" } else { "  (deleted)" }
        )?;
    }
    Ok(())
}

/// The API's search request for the command-line arguments (`--under` aside: it names a
/// directory of the live system, which the caller locates).
pub fn request(arguments: &SearchArguments) -> SearchRequest {
    SearchRequest {
        q: arguments.text.clone(),
        name_match: match arguments.name_match {
            MatchArgument::Substring => NameMatch::Substring,
            MatchArgument::Prefix => NameMatch::Prefix,
            MatchArgument::Glob => NameMatch::Glob,
            MatchArgument::Fuzzy => NameMatch::Fuzzy,
        },
        dataset: arguments.datasets.clone(),
        under: None,
        kind: arguments
            .kinds
            .iter()
            .map(|kind| match kind {
                KindArgument::File => KindFilter::File,
                KindArgument::Directory => KindFilter::Directory,
                KindArgument::Symlink => KindFilter::Symlink,
            })
            .collect(),
        ext: arguments.extensions.clone(),
        min_size: arguments.min_size,
        max_size: arguments.max_size,
        modified_after: arguments.modified_after,
        modified_before: arguments.modified_before,
        deleted: arguments.deleted,
        as_of: arguments.as_of.clone(),
        sort: match arguments.sort {
            SortArgument::Relevance => SortBy::Relevance,
            SortArgument::Name => SortBy::Name,
            SortArgument::Size => SortBy::Size,
            SortArgument::Modified => SortBy::Modified,
            SortArgument::Path => SortBy::Path,
        },
        descending: arguments.descending,
        offset: arguments.offset,
        limit: Some(arguments.limit.clamp(1, 1000)),
    }
}

/// `wizfs versions --indexed`: the versions of a path as the index knows them.
pub fn indexed_versions(
    recovery: &wizfs_recovery::Recovery,
    data_dir: &Path,
    arguments: &crate::recovery::VersionsArguments,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let location = recovery.locate(&arguments.path)?;
    let store = crate::context::open_index_for_queries(data_dir)?;
    let Some(dataset) = store
        .datasets()?
        .into_iter()
        .find(|dataset| dataset.name == location.dataset.as_str())
    else {
        bail!(
            "dataset {} is not indexed yet: run `wizfs index {}`",
            location.dataset,
            location.dataset
        );
    };
    let versions = store.versions_of(dataset.guid, &location.path)?;
    if json {
        let views: Vec<wizfs_api::IndexedVersionView> = versions
            .iter()
            .map(|version| wizfs_api::IndexedVersionView {
                kind: version.signature.kind.as_str().to_owned(),
                size: version.signature.size,
                modified_unix: version.signature.modified.seconds,
                snapshots: version.snapshots.clone(),
                folded_snapshots: version.snapshots.len().saturating_sub(1),
                live: version.live,
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &views)?;
        writeln!(out)?;
        return Ok(());
    }
    if versions.is_empty() {
        writeln!(
            out,
            "{} is in no indexed snapshot and not live",
            arguments.path.display()
        )?;
    }
    for (index, version) in versions.iter().enumerate() {
        writeln!(
            out,
            "version {}: {} {}, modified {}{}",
            index + 1,
            version.signature.kind.as_str(),
            format_bytes(version.signature.size),
            wizfs_core::Timestamp(version.signature.modified.seconds),
            if version.live { " (the live file)" } else { "" }
        )?;
        match (version.snapshots.first(), version.snapshots.last()) {
            (Some(first), Some(last)) if first != last => writeln!(
                out,
                "  in {} snapshots ({} identical folded): @{first} … @{last}",
                version.snapshots.len(),
                version.snapshots.len() - 1
            )?,
            (Some(first), _) => writeln!(out, "  in @{first}")?,
            _ => writeln!(out, "  only live (not yet in a snapshot)")?,
        }
    }
    Ok(())
}
