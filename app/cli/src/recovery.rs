//! The recovery subcommands of `wizfs`: `ls`, `versions`, `restore`, `compare`, `cat` and
//! `download`. Paths are absolute paths of the live file system (as a user sees them); the
//! dataset they belong to is found from the mountpoints, and snapshots are named by their
//! short name (`daily-2026-11-20`) or in full (`tank/home@daily-2026-11-20`). `ls`,
//! `versions`, `restore` and `compare` are API operations ([`Backend`]: the daemon when it
//! runs); `cat` and `download` read the file system here.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use wizfs_api::{
    CompareQuery, DirectoryStrategy, DownloadFormat, DownloadQuery, EntryQuery, PlanView,
    RestoreBody, RestoreTargetKind, VersionSourceView, VersionsBy, VersionsQuery,
};
use wizfs_core::{DatasetName, RelativePath, SnapshotName};
use wizfs_recovery::Recovery;
use wizfs_restore::ArchiveFormat;

use crate::context::{Backend, Located, block_on};
use crate::output::format_bytes;

#[derive(Debug, Args)]
pub struct LsArguments {
    /// A directory (absolute path on the live system).
    pub path: PathBuf,
    /// List it as it was in this snapshot.
    #[arg(long, short)]
    pub snapshot: Option<String>,
}

#[derive(Debug, Args)]
pub struct VersionsArguments {
    /// A file (absolute path; it may have been deleted).
    pub path: PathBuf,
    /// Compare contents instead of size and modification time (reads every version).
    #[arg(long, conflicts_with = "indexed")]
    pub by_content: bool,
    /// Answer from the search index (`wizfs index`) instead of looking into every snapshot:
    /// instant, and no snapshot gets mounted.
    #[arg(long)]
    pub indexed: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Mode {
    /// A copy next to the original under a new name (never overwrites anything).
    Copy,
    /// Over the original, behind a guard snapshot taken first.
    InPlace,
}

#[derive(Debug, Args)]
pub struct RestoreArguments {
    /// The file or directory to restore (absolute path; it may have been deleted).
    pub path: PathBuf,
    /// The snapshot to restore from.
    #[arg(long)]
    pub from: String,
    #[arg(long, value_enum, default_value = "copy")]
    pub mode: Mode,
    /// Put the copy into this directory (absolute path, same dataset) instead of next to
    /// the original.
    #[arg(long, conflicts_with = "mode")]
    pub into: Option<PathBuf>,
    /// Directories: make the live directory exactly the snapshot's (removes files the
    /// snapshot does not have). Default: merge.
    #[arg(long)]
    pub replace: bool,
    /// Show what would be done, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct CompareArguments {
    /// A text file (absolute path).
    pub path: PathBuf,
    /// The older side: a snapshot.
    #[arg(long)]
    pub from: String,
    /// The newer side: a snapshot (default: the live file).
    #[arg(long)]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct CatArguments {
    pub path: PathBuf,
    #[arg(long, short)]
    pub snapshot: Option<String>,
}

#[derive(Debug, Args)]
pub struct DownloadArguments {
    /// A file or directory (absolute path).
    pub path: PathBuf,
    #[arg(long, short)]
    pub snapshot: Option<String>,
    /// Where to write it.
    #[arg(long, short)]
    pub output: PathBuf,
    /// `auto`: a file as itself, a directory as tar; or always a `tar` or `zip` archive.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: DownloadFormatArgument,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DownloadFormatArgument {
    Auto,
    Tar,
    Zip,
}

/// A snapshot given by short or full name, checked to belong to `dataset`.
fn snapshot_of(dataset: &DatasetName, name: &str) -> anyhow::Result<SnapshotName> {
    let snapshot = if name.contains('@') {
        SnapshotName::new(name)?
    } else {
        dataset.snapshot(name)?
    };
    if snapshot.dataset() != dataset {
        bail!("snapshot {snapshot} is not of dataset {dataset}, which holds this path");
    }
    Ok(snapshot)
}

fn optional_snapshot(
    dataset: &DatasetName,
    name: Option<&str>,
) -> anyhow::Result<Option<SnapshotName>> {
    name.map(|name| snapshot_of(dataset, name)).transpose()
}

fn print_plan(out: &mut dyn Write, plan: &PlanView) -> std::io::Result<()> {
    let short = plan
        .snapshot
        .split_once('@')
        .map_or(plan.snapshot.as_str(), |(_, short)| short);
    writeln!(
        out,
        "restore {} from {short} to {}",
        plan.snapshot, plan.destination
    )?;
    match &plan.guard_snapshot {
        Some(guard) => writeln!(out, "guard snapshot first: {guard}")?,
        None => writeln!(out, "no live data is overwritten: no guard snapshot needed")?,
    }
    writeln!(
        out,
        "{} files ({}), {} directories, {} symlinks, {} hard links; {} replaced, {} removed, {} unchanged",
        plan.files,
        format_bytes(plan.bytes),
        plan.directories,
        plan.symlinks,
        plan.hard_links,
        plan.replaced,
        plan.removed,
        plan.unchanged
    )?;
    for action in &plan.actions {
        match action.action.as_str() {
            "write" => writeln!(
                out,
                "  {} {} ({})",
                if action.replaces {
                    "replace "
                } else {
                    "write   "
                },
                action.path,
                format_bytes(action.bytes)
            )?,
            name => writeln!(out, "  {name:<8} {}", action.path)?,
        }
    }
    for refusal in &plan.refused {
        writeln!(out, "  skipped  {refusal}")?;
    }
    Ok(())
}

/// An entry of the API: a dataset and a path inside it (hexadecimal when it is not UTF-8),
/// live or in a snapshot.
fn entry(location: &Located, snapshot: Option<&SnapshotName>) -> EntryQuery {
    let (path, path_hex) = path_fields(&location.path);
    EntryQuery {
        dataset: location.dataset.to_string(),
        path,
        path_hex,
        snapshot: snapshot.map(ToString::to_string),
    }
}

/// A path as the API carries it: as text, or in hexadecimal when it is not UTF-8.
fn path_fields(path: &RelativePath) -> (Option<String>, Option<String>) {
    match std::str::from_utf8(path.as_bytes()) {
        Ok(text) => (Some(text.to_owned()), None),
        Err(_) => (None, Some(wizfs_api::hex(path.as_bytes()))),
    }
}

pub fn ls(
    backend: &Backend,
    arguments: &LsArguments,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let location = backend.locate(&arguments.path)?;
    let snapshot = optional_snapshot(&location.dataset, arguments.snapshot.as_deref())?;
    let query = entry(&location, snapshot.as_ref());
    let views = backend
        .run(|api| api.browse(query))
        .with_context(|| format!("listing {}", arguments.path.display()))?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &views)?;
        writeln!(out)?;
        return Ok(());
    }
    for entry in &views {
        writeln!(
            out,
            "{:<10} {:>10} {:>6o} {}  {}",
            entry.kind,
            format_bytes(entry.size),
            entry.mode,
            entry.modified,
            wizfs_core::text::visible(&entry.name)
        )?;
    }
    Ok(())
}

/// `wizfs versions`: by metadata from the index catalogue alone when the kernel's view
/// shows it current ([`crate::quick::versions`]: no `zfs` process, no daemon round trip),
/// else through the backend (`Services::versions`: `zfs list`, then the index when it is
/// current by guid, else a look into every snapshot).
pub fn versions(
    data_dir: &std::path::Path,
    backend: impl FnOnce() -> anyhow::Result<Backend>,
    arguments: &VersionsArguments,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let quick = if arguments.by_content {
        None
    } else {
        crate::quick::locate(&arguments.path)
            .and_then(|location| crate::quick::versions(data_dir, &location))
    };
    let versions = match quick {
        Some(versions) => versions,
        None => {
            let backend = backend()?;
            let location = backend.locate(&arguments.path)?;
            let query = VersionsQuery {
                entry: entry(&location, None),
                by: if arguments.by_content {
                    VersionsBy::Content
                } else {
                    VersionsBy::Metadata
                },
            };
            backend
                .run(|api| api.versions(query))
                .with_context(|| format!("listing the versions of {}", arguments.path.display()))?
        }
    };
    if json {
        serde_json::to_writer_pretty(&mut *out, &versions)?;
        writeln!(out)?;
        return Ok(());
    }
    if versions.is_empty() {
        writeln!(
            out,
            "{} exists in no snapshot and not live",
            arguments.path.display()
        )?;
    }
    let label = |source: &VersionSourceView| {
        source
            .snapshot
            .as_deref()
            .map_or("live".to_owned(), |name| {
                name.split_once('@')
                    .map_or(name, |(_, short)| short)
                    .to_owned()
            })
    };
    for (index, version) in versions.iter().enumerate() {
        let first = version.sources.first().map(label).unwrap_or_default();
        let last = version.sources.last().map(label).unwrap_or_default();
        writeln!(
            out,
            "version {}: {} {}, modified {}{}",
            index + 1,
            version.kind,
            format_bytes(version.size),
            version.modified,
            if version.is_live {
                " (the live file)"
            } else {
                ""
            }
        )?;
        writeln!(
            out,
            "  in {} snapshot(s){}: {first}{}",
            version
                .sources
                .iter()
                .filter(|source| source.snapshot.is_some())
                .count(),
            if version.folded_snapshots > 0 {
                format!(" ({} identical snapshots folded)", version.folded_snapshots)
            } else {
                String::new()
            },
            if first != last {
                format!(" … {last}")
            } else {
                String::new()
            }
        )?;
    }
    Ok(())
}

pub fn restore(
    backend: &Backend,
    arguments: &RestoreArguments,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let location = backend.locate(&arguments.path)?;
    let snapshot = snapshot_of(&location.dataset, &arguments.from)?;
    let (target, into) = match (&arguments.into, arguments.mode) {
        (Some(directory), _) => {
            let into = backend.locate(directory)?;
            if into.dataset != location.dataset {
                bail!(
                    "--into must be inside dataset {} (it is in {})",
                    location.dataset,
                    into.dataset
                );
            }
            let text = String::from_utf8(into.path.as_bytes().to_vec())
                .context("--into: a directory whose name is not UTF-8 cannot be named yet")?;
            (RestoreTargetKind::Copy, Some(text))
        }
        (None, Mode::Copy) => (RestoreTargetKind::Copy, None),
        (None, Mode::InPlace) => (RestoreTargetKind::Original, None),
    };
    let (path, path_hex) = path_fields(&location.path);
    let body = RestoreBody {
        dataset: location.dataset.to_string(),
        snapshot: snapshot.to_string(),
        path,
        path_hex,
        target,
        into,
        strategy: if arguments.replace {
            DirectoryStrategy::Replace
        } else {
            DirectoryStrategy::Merge
        },
    };
    if arguments.dry_run {
        let plan = backend
            .run(|api| api.restore_plan(body))
            .context("planning the restore")?;
        if json {
            serde_json::to_writer_pretty(&mut *out, &plan)?;
            writeln!(out)?;
        } else {
            writeln!(out, "dry run, nothing changed:")?;
            print_plan(out, &plan)?;
        }
        return Ok(());
    }
    let report = backend.run(|api| api.restore(body)).context("restoring")?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        print_plan(out, &report.plan)?;
        if let Some(guard) = &report.guard_snapshot {
            writeln!(out, "guard snapshot: {guard}")?;
        }
        writeln!(
            out,
            "restored {} to {}",
            arguments.path.display(),
            location.mountpoint.join(&report.plan.destination).display()
        )?;
    }
    Ok(())
}

pub fn compare(
    backend: &Backend,
    arguments: &CompareArguments,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let location = backend.locate(&arguments.path)?;
    let from = snapshot_of(&location.dataset, &arguments.from)?;
    let to = optional_snapshot(&location.dataset, arguments.to.as_deref())?;
    let (path, path_hex) = path_fields(&location.path);
    let query = CompareQuery {
        dataset: location.dataset.to_string(),
        path,
        path_hex,
        from: from.to_string(),
        to: to.as_ref().map(ToString::to_string),
    };
    let diff = backend.run(|api| api.compare(query))?;
    out.write_all(diff.as_bytes())?;
    Ok(())
}

pub fn cat(
    backend: &Backend,
    recovery: &Recovery,
    arguments: &CatArguments,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let location = backend.locate(&arguments.path)?;
    let snapshot = optional_snapshot(&location.dataset, arguments.snapshot.as_deref())?;
    match backend.daemon() {
        Some(daemon) => {
            let query = DownloadQuery {
                entry: entry(&location, snapshot.as_ref()),
                format: DownloadFormat::File,
            };
            block_on(daemon.download(&query, out))??;
        }
        None => {
            recovery.copy_file(&location.dataset, snapshot.as_ref(), &location.path, out)?;
        }
    }
    Ok(())
}

pub fn download(
    backend: &Backend,
    recovery: &Recovery,
    arguments: &DownloadArguments,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let location = backend.locate(&arguments.path)?;
    let snapshot = optional_snapshot(&location.dataset, arguments.snapshot.as_deref())?;
    // Atomic: write next to the target, then rename.
    let directory = arguments
        .output
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut temporary =
        tempfile::NamedTempFile::new_in(directory).context("creating the output file")?;
    let format = match arguments.format {
        DownloadFormatArgument::Auto => DownloadFormat::Auto,
        DownloadFormatArgument::Tar => DownloadFormat::Tar,
        DownloadFormatArgument::Zip => DownloadFormat::Zip,
    };
    let bytes = match backend.daemon() {
        Some(daemon) => {
            let query = DownloadQuery {
                entry: entry(&location, snapshot.as_ref()),
                format,
            };
            block_on(daemon.download(&query, temporary.as_file_mut()))??
        }
        None => {
            let (dataset, snapshot, path) = (&location.dataset, snapshot.as_ref(), &location.path);
            let kind = recovery
                .stat(dataset, snapshot, path)?
                .map(|metadata| metadata.kind)
                .with_context(|| format!("{} does not exist there", arguments.path.display()))?;
            let file = temporary.as_file_mut();
            match (format, kind) {
                (DownloadFormat::Auto, wizfs_core::EntryKind::File) => {
                    recovery.copy_file(dataset, snapshot, path, file)?
                }
                (DownloadFormat::Zip, _) => {
                    recovery.download(dataset, snapshot, path, ArchiveFormat::Zip, file)?
                }
                _ => recovery.download(dataset, snapshot, path, ArchiveFormat::Tar, file)?,
            }
        }
    };
    temporary.as_file().sync_all()?;
    temporary
        .persist(&arguments.output)
        .with_context(|| format!("writing {}", arguments.output.display()))?;
    writeln!(
        out,
        "wrote {} ({}) to {}",
        arguments.path.display(),
        format_bytes(bytes),
        arguments.output.display()
    )?;
    Ok(())
}
