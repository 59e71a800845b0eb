//! The recovery subcommands of `wizfs`: `ls`, `versions`, `restore`, `compare`, `cat` and
//! `download`. Paths are absolute paths of the live file system (as a user sees them); the
//! dataset they belong to is found from the mountpoints, and snapshots are named by their
//! short name (`daily-2026-11-20`) or in full (`tank/home@daily-2026-11-20`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use wizfs_core::restore::{
    DirectoryStrategy, RestoreAction, RestorePlan, RestoreRequest, RestoreTarget,
};
use wizfs_core::versions::{VersionIdentity, VersionSource};
use wizfs_core::{DatasetName, SnapshotName};
use wizfs_recovery::{Location, Recovery};

use crate::output::format_bytes;
use wizfs_api::{EntryView, FileVersionView, PlanView};

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
    /// Where to write the tar archive.
    #[arg(long, short)]
    pub output: PathBuf,
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

fn locate(recovery: &Recovery, path: &std::path::Path) -> anyhow::Result<Location> {
    if !path.is_absolute() {
        bail!("give an absolute path (got `{}`)", path.display());
    }
    Ok(recovery.locate(path)?)
}

fn source_label(source: &VersionSource) -> String {
    match source {
        VersionSource::Live => "live".to_owned(),
        VersionSource::Snapshot { name, .. } => name.short_name().to_owned(),
    }
}

fn print_plan(out: &mut dyn Write, plan: &RestorePlan) -> std::io::Result<()> {
    let summary = &plan.summary;
    writeln!(
        out,
        "restore {} from {} to {}",
        plan.snapshot,
        plan.snapshot.short_name(),
        plan.destination
    )?;
    match &plan.guard_snapshot {
        Some(guard) => writeln!(out, "guard snapshot first: {guard}")?,
        None => writeln!(out, "no live data is overwritten: no guard snapshot needed")?,
    }
    writeln!(
        out,
        "{} files ({}), {} directories, {} symlinks, {} hard links; {} replaced, {} removed, {} unchanged",
        summary.files,
        format_bytes(summary.bytes),
        summary.directories,
        summary.symlinks,
        summary.hard_links,
        summary.replaced,
        summary.removed,
        summary.unchanged
    )?;
    for action in &plan.actions {
        match action {
            RestoreAction::CreateDirectory { path } => writeln!(out, "  mkdir    {path}")?,
            RestoreAction::WriteFile {
                destination,
                replaces,
                metadata,
                ..
            } => writeln!(
                out,
                "  {} {destination} ({})",
                if *replaces { "replace " } else { "write   " },
                format_bytes(metadata.size)
            )?,
            RestoreAction::CreateSymlink { destination, .. } => {
                writeln!(out, "  symlink  {destination}")?
            }
            RestoreAction::HardLink {
                destination,
                existing,
                ..
            } => writeln!(out, "  link     {destination} = {existing}")?,
            RestoreAction::Remove { path, kind } => {
                writeln!(out, "  remove   {path} ({})", kind.as_str())?
            }
            RestoreAction::FinishDirectory { .. } => {}
        }
    }
    for refusal in &plan.refused {
        writeln!(out, "  skipped  {}: {}", refusal.path, refusal.reason)?;
    }
    Ok(())
}

pub fn ls(
    recovery: &Recovery,
    arguments: &LsArguments,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let location = locate(recovery, &arguments.path)?;
    let snapshot = optional_snapshot(&location.dataset, arguments.snapshot.as_deref())?;
    let entries = recovery
        .list_directory(&location.dataset, snapshot.as_ref(), &location.path)
        .with_context(|| format!("listing {}", arguments.path.display()))?;
    let views: Vec<EntryView> = entries.iter().map(EntryView::from).collect();
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

pub fn versions(
    recovery: &Recovery,
    arguments: &VersionsArguments,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let location = locate(recovery, &arguments.path)?;
    let identity = if arguments.by_content {
        VersionIdentity::Content
    } else {
        VersionIdentity::Metadata
    };
    let versions = recovery
        .versions(&location.dataset, &location.path, identity)
        .with_context(|| format!("listing the versions of {}", arguments.path.display()))?;
    let views: Vec<FileVersionView> = versions.iter().map(FileVersionView::from).collect();
    if json {
        serde_json::to_writer_pretty(&mut *out, &views)?;
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
    for (index, version) in versions.iter().enumerate() {
        let first = version
            .sources
            .first()
            .map(source_label)
            .unwrap_or_default();
        let last = version.sources.last().map(source_label).unwrap_or_default();
        writeln!(
            out,
            "version {}: {} {}, modified {}{}",
            index + 1,
            version.metadata.kind.as_str(),
            format_bytes(version.metadata.size),
            wizfs_core::Timestamp(version.metadata.modified.seconds),
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
                .filter(|source| !matches!(source, VersionSource::Live))
                .count(),
            if version.folded_snapshots() > 0 {
                format!(
                    " ({} identical snapshots folded)",
                    version.folded_snapshots()
                )
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
    recovery: &Recovery,
    arguments: &RestoreArguments,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let location = locate(recovery, &arguments.path)?;
    let snapshot = snapshot_of(&location.dataset, &arguments.from)?;
    let target = match (&arguments.into, arguments.mode) {
        (Some(directory), _) => {
            let into = locate(recovery, directory)?;
            if into.dataset != location.dataset {
                bail!(
                    "--into must be inside dataset {} (it is in {})",
                    location.dataset,
                    into.dataset
                );
            }
            RestoreTarget::Copy {
                into: Some(into.path),
            }
        }
        (None, Mode::Copy) => RestoreTarget::Copy { into: None },
        (None, Mode::InPlace) => RestoreTarget::Original,
    };
    let strategy = if arguments.replace {
        DirectoryStrategy::Replace
    } else {
        DirectoryStrategy::Merge
    };
    let request = RestoreRequest {
        snapshot,
        path: location.path.clone(),
        target,
        strategy,
    };
    if arguments.dry_run {
        let plan = recovery.plan(&request).context("planning the restore")?;
        if json {
            serde_json::to_writer_pretty(&mut *out, &PlanView::from(&plan))?;
            writeln!(out)?;
        } else {
            writeln!(out, "dry run, nothing changed:")?;
            print_plan(out, &plan)?;
        }
        return Ok(());
    }
    let mut last_report = std::time::Instant::now();
    let interactive = !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut progress = |progress: wizfs_restore::Progress| {
        if interactive && last_report.elapsed() > std::time::Duration::from_millis(200) {
            last_report = std::time::Instant::now();
            eprint!(
                "\r{}/{} actions, {} of {}   ",
                progress.actions_done,
                progress.actions_total,
                format_bytes(progress.bytes_done),
                format_bytes(progress.bytes_total)
            );
        }
    };
    let (plan, report) = recovery
        .restore(&request, &mut progress)
        .context("restoring")?;
    if interactive {
        eprintln!();
    }
    if json {
        serde_json::to_writer_pretty(
            &mut *out,
            &wizfs_services::views::restore_report(&plan, &report),
        )?;
        writeln!(out)?;
    } else {
        print_plan(out, &plan)?;
        if let Some(guard) = &report.guard_snapshot {
            writeln!(out, "guard snapshot: {guard}")?;
        }
        writeln!(
            out,
            "restored {} to {}",
            arguments.path.display(),
            location
                .mountpoint
                .join(plan.destination.as_path())
                .display()
        )?;
    }
    Ok(())
}

pub fn compare(
    recovery: &Recovery,
    arguments: &CompareArguments,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let location = locate(recovery, &arguments.path)?;
    let from = snapshot_of(&location.dataset, &arguments.from)?;
    let to = optional_snapshot(&location.dataset, arguments.to.as_deref())?;
    let diff = recovery.text_diff(&location.dataset, &location.path, Some(&from), to.as_ref())?;
    out.write_all(diff.as_bytes())?;
    Ok(())
}

pub fn cat(
    recovery: &Recovery,
    arguments: &CatArguments,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let location = locate(recovery, &arguments.path)?;
    let snapshot = optional_snapshot(&location.dataset, arguments.snapshot.as_deref())?;
    recovery.copy_file(&location.dataset, snapshot.as_ref(), &location.path, out)?;
    Ok(())
}

pub fn download(
    recovery: &Recovery,
    arguments: &DownloadArguments,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let location = locate(recovery, &arguments.path)?;
    let snapshot = optional_snapshot(&location.dataset, arguments.snapshot.as_deref())?;
    // Atomic: write next to the target, then rename.
    let directory = arguments
        .output
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut temporary =
        tempfile::NamedTempFile::new_in(directory).context("creating the output file")?;
    let bytes = recovery.download(
        &location.dataset,
        snapshot.as_ref(),
        &location.path,
        temporary.as_file_mut(),
    )?;
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
