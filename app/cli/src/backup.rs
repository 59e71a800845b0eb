//! `wizfs backup list|run JOB|runs JOB`: the configured jobs with their last runs and last
//! good backups, a run now, a job's runs — API operations (`wizfs_api::backups`), through the
//! daemon when it runs, else in this process. `wizfs backup verify DIR` and
//! `wizfs backup restore DIR --into POOL/DATASET`: a chain directory of a file target
//! (`docs/backup.md`) checked without a pool, and received into a new dataset only after
//! every volume was checked (`wizfs_backup::verify` and `open_verified`). Those two run in
//! this process: they read files the administrator names, need no daemon, and `verify` no
//! pool.
//!
//! Bad input changes nothing: a directory that is not a chain (a target directory is told
//! apart, with its chains named), a chain with a missing or corrupt volume or a broken
//! continuity, and a target that exists or whose parent does not are refused before the
//! first `zfs receive`. A stream that fails while received (a volume changed after the
//! check, ZFS refusing) stops the restore, and the error says which streams are in.
//! The JSON views of `verify` and `restore` are this file's (chains have no REST endpoint).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use wizfs_backup::manifest::format_time;
use wizfs_backup::{
    ChainManifest, ReadError, StreamKind, StreamRecord, VerifyError, VerifyReport, list_chains,
    open_verified,
};
use wizfs_core::DatasetName;
use wizfs_zfs::{ReceiveOptions, Scope, Zfs, ZfsError};

use crate::output::{emit, format_bytes};
use crate::parse::parse_dataset;

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// The configured backup jobs: target, schedule, last run, last good backup.
    List,
    /// Run a backup job now and wait for it (a job already running is refused).
    Run {
        /// The job's id.
        job: String,
    },
    /// The runs of a backup job, newest first.
    Runs {
        /// The job's id.
        job: String,
    },
    /// Check a chain directory of a file target without a pool: every volume's size and
    /// SHA-256, the chain's continuity, leftovers of interrupted runs. Exits non-zero when
    /// the chain cannot be restored.
    Verify(VerifyArguments),
    /// Receive a chain into a new dataset, after checking every volume (--dry-run: check and
    /// say what would be received).
    Restore(RestoreArguments),
}

#[derive(Debug, Args)]
pub struct VerifyArguments {
    /// The chain directory (the one holding `manifest.json`).
    pub directory: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArguments {
    /// The chain directory (the one holding `manifest.json`).
    pub directory: PathBuf,
    /// The dataset to create: it must not exist; its parent must.
    #[arg(long, value_name = "POOL/DATASET", value_parser = parse_dataset)]
    pub into: DatasetName,
    /// Check everything and say what would be received; receive nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// One stream of a chain, for people and `--json`.
#[derive(Debug, Serialize)]
pub struct StreamView {
    pub number: u32,
    /// `full` or `incremental`.
    pub kind: &'static str,
    /// The base of an incremental stream, as named on the source.
    pub from: Option<String>,
    pub to: String,
    /// As a string: JSON readers take numbers as doubles.
    pub to_guid: String,
    pub volumes: usize,
    pub stored_bytes: u64,
    pub stream_bytes: u64,
}

/// A chain's manifest.
#[derive(Debug, Serialize)]
pub struct ChainView {
    pub directory: String,
    pub dataset: String,
    pub job: String,
    pub target: String,
    pub created: String,
    pub streams: Vec<StreamView>,
}

/// One thing `verify` found.
#[derive(Debug, Serialize)]
pub struct ProblemView {
    /// Whether it stands in the way of a restore.
    pub fatal: bool,
    pub message: String,
}

/// `wizfs backup verify`.
#[derive(Debug, Serialize)]
pub struct VerifyView {
    pub chain: ChainView,
    pub restorable: bool,
    pub volumes_verified: usize,
    pub bytes_verified: u64,
    pub problems: Vec<ProblemView>,
    /// Files beside the chain that WiZFS does not write.
    pub other_files: Vec<String>,
}

/// `wizfs backup restore`.
#[derive(Debug, Serialize)]
pub struct RestoreView {
    pub chain: ChainView,
    pub into: String,
    pub dry_run: bool,
    /// The streams received (with `--dry-run`: none).
    pub received: Vec<u32>,
}

fn stream_view(stream: &StreamRecord) -> StreamView {
    let (kind, from) = match &stream.kind {
        StreamKind::Full => ("full", None),
        StreamKind::Incremental { from, .. } => ("incremental", Some(from.to_string())),
    };
    StreamView {
        number: stream.number,
        kind,
        from,
        to: stream.to.to_string(),
        to_guid: stream.to_guid.to_string(),
        volumes: stream.volumes.len(),
        stored_bytes: stream.stored_bytes(),
        stream_bytes: stream.stream_bytes,
    }
}

fn chain_view(directory: &Path, manifest: &ChainManifest) -> ChainView {
    ChainView {
        directory: directory.display().to_string(),
        dataset: manifest.dataset.to_string(),
        job: manifest.job.to_string(),
        target: manifest.target.to_string(),
        created: format_time(manifest.created),
        streams: manifest.streams.iter().map(stream_view).collect(),
    }
}

fn write_chain(out: &mut dyn Write, chain: &ChainView) -> std::io::Result<()> {
    writeln!(
        out,
        "chain of {} (backup job {}, target {}), started {}, in {}",
        chain.dataset, chain.job, chain.target, chain.created, chain.directory
    )?;
    if chain.streams.is_empty() {
        writeln!(out, "  no stream yet")?;
    }
    for stream in &chain.streams {
        let what = match &stream.from {
            None => format!("full stream of {}", stream.to),
            Some(from) => format!("incremental from {from} to {}", stream.to),
        };
        writeln!(
            out,
            "  stream {}: {what} ({} volume{}, {} stored)",
            stream.number,
            stream.volumes,
            if stream.volumes == 1 { "" } else { "s" },
            format_bytes(stream.stored_bytes)
        )?;
    }
    Ok(())
}

/// A stream on its way to `zfs receive`, keeping the reader's own failure.
struct Watched<R> {
    inner: R,
    failure: Option<String>,
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buffer).inspect_err(|error| {
            self.failure = Some(error.to_string());
        })
    }
}

/// Runs `wizfs backup …`.
pub fn run(
    zfs: &dyn Zfs,
    backend: &dyn Fn(bool) -> anyhow::Result<crate::context::Backend>,
    command: &BackupCommand,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match command {
        BackupCommand::List => {
            let view = backend(false)?.run(|api| api.backups())?;
            emit(out, json, &view, |out| {
                if view.jobs.is_empty() {
                    return writeln!(
                        out,
                        "no backup job is configured ([[backup]] in wizfsd.toml)"
                    );
                }
                for job in &view.jobs {
                    writeln!(
                        out,
                        "{} ({} → {}, {})",
                        job.id,
                        job.sources.join("; "),
                        job.target,
                        job.schedule
                    )?;
                    let state = if job.running {
                        "running now"
                    } else if job.due {
                        "due"
                    } else {
                        "waiting"
                    };
                    let good = job.last_success.as_deref().unwrap_or("never");
                    writeln!(out, "  {state}; last good backup: {good}")?;
                    if let Some(run) = &job.last_run {
                        write_run(out, run)?;
                    }
                }
                Ok(())
            })
        }
        BackupCommand::Run { job } => {
            let query = wizfs_api::backups::BackupJobQuery { job: job.clone() };
            let run = backend(false)?.run(|api| api.run_backup(query))?;
            emit(out, json, &run, |out| write_run(out, &run))?;
            if !run.succeeded {
                bail!("backup job `{job}` did not succeed");
            }
            Ok(())
        }
        BackupCommand::Runs { job } => {
            let query = wizfs_api::backups::BackupJobQuery { job: job.clone() };
            let runs = backend(false)?.run(|api| api.backup_runs(query))?;
            emit(out, json, &runs, |out| {
                if runs.is_empty() {
                    writeln!(out, "`{job}` has not run yet")?;
                }
                runs.iter().try_for_each(|run| write_run(out, run))
            })
        }
        BackupCommand::Verify(arguments) => verify(&arguments.directory, json, out),
        BackupCommand::Restore(arguments) => restore(zfs, arguments, json, out),
    }
}

/// One run for people: when, how it went, what each dataset did, what failed.
fn write_run(out: &mut dyn Write, run: &wizfs_api::backups::BackupRunView) -> std::io::Result<()> {
    let outcome = if run.succeeded { "succeeded" } else { "FAILED" };
    writeln!(
        out,
        "  run {} → {} ({}): {outcome}, {} sent",
        run.started,
        run.finished,
        run.trigger,
        format_bytes(run.bytes)
    )?;
    for dataset in &run.datasets {
        writeln!(out, "    {dataset}")?;
    }
    for error in &run.errors {
        writeln!(out, "    error: {error}")?;
    }
    Ok(())
}

/// Refuses what is not a directory.
fn check_directory(directory: &Path) -> anyhow::Result<()> {
    if !directory.is_dir() {
        bail!("`{}` is not a directory", directory.display());
    }
    Ok(())
}

/// Why `directory` cannot be read as a chain; a target directory (chains inside) is told
/// apart, with its chains named.
fn not_a_chain(directory: &Path, error: VerifyError) -> anyhow::Error {
    if !matches!(error, VerifyError::NoManifest { .. }) {
        return error.into();
    }
    let chains: Vec<String> = list_chains(directory)
        .unwrap_or_default()
        .iter()
        .filter_map(|chain| chain.directory.file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    if chains.is_empty() {
        return error.into();
    }
    anyhow::anyhow!(
        "`{}` is a backup target, not a chain: name one of its chain directories ({})",
        directory.display(),
        chains.join(", ")
    )
}

fn verify_view(report: &VerifyReport) -> VerifyView {
    VerifyView {
        chain: chain_view(&report.directory, &report.manifest),
        restorable: report.is_restorable(),
        volumes_verified: report.volumes_verified,
        bytes_verified: report.bytes_verified,
        problems: report
            .problems
            .iter()
            .map(|problem| ProblemView {
                fatal: problem.is_fatal(),
                message: problem.to_string(),
            })
            .collect(),
        other_files: report.other_files.clone(),
    }
}

fn verify(directory: &Path, json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    check_directory(directory)?;
    let report = wizfs_backup::verify(directory).map_err(|error| not_a_chain(directory, error))?;
    let view = verify_view(&report);
    emit(out, json, &view, |out| {
        write_chain(out, &view.chain)?;
        writeln!(
            out,
            "{} volume{} verified ({})",
            view.volumes_verified,
            if view.volumes_verified == 1 { "" } else { "s" },
            format_bytes(view.bytes_verified)
        )?;
        for problem in &view.problems {
            let weight = if problem.fatal { "problem" } else { "note" };
            writeln!(out, "{weight}: {}", problem.message)?;
        }
        if !view.other_files.is_empty() {
            writeln!(
                out,
                "other files (not WiZFS's): {}",
                view.other_files.join(", ")
            )?;
        }
        if view.restorable {
            writeln!(out, "the chain can be restored")?;
        }
        Ok(())
    })?;
    if !view.restorable {
        let fatal: Vec<String> = report.fatal_problems().map(ToString::to_string).collect();
        bail!(
            "the chain in `{}` cannot be restored: {}",
            directory.display(),
            fatal.join("; ")
        );
    }
    Ok(())
}

/// Whether `dataset` exists.
fn exists(zfs: &dyn Zfs, dataset: &DatasetName) -> anyhow::Result<bool> {
    match zfs.list_datasets(Some(dataset)) {
        Ok(found) => Ok(found.iter().any(|candidate| &candidate.name == dataset)),
        Err(ZfsError::NotFound { .. }) => Ok(false),
        Err(error) => Err(error).with_context(|| format!("looking for `{dataset}`")),
    }
}

/// Refuses a target that exists, or whose parent does not.
fn check_target(zfs: &dyn Zfs, into: &DatasetName) -> anyhow::Result<()> {
    if exists(zfs, into)? {
        bail!(
            "`{into}` already exists: a chain is restored into a new dataset; choose a name \
             that does not exist yet"
        );
    }
    if let Some(parent) = into.parent()
        && !exists(zfs, &parent)?
    {
        bail!(
            "`{parent}`, the parent of `{into}`, does not exist: create it first or choose another place"
        );
    }
    Ok(())
}

/// What `into` holds of the chain after a failed stream, as ZFS lists it (a stream may
/// have been received although its reader failed at its very end).
fn received_state(zfs: &dyn Zfs, into: &DatasetName, manifest: &ChainManifest) -> String {
    let snapshots = match zfs.list_snapshots(into, Scope::Dataset) {
        Ok(snapshots) => snapshots,
        Err(ZfsError::NotFound { .. }) => {
            return format!("nothing was received; `{into}` was not created");
        }
        Err(error) => return format!("what `{into}` holds could not be listed: {error}"),
    };
    let last = manifest.streams.iter().rev().find(|stream| {
        snapshots
            .iter()
            .any(|snapshot| snapshot.guid == stream.to_guid)
    });
    match last {
        Some(stream) => format!(
            "`{into}` holds the chain up to {} (stream {} of {})",
            stream.to,
            stream.number,
            manifest.streams.len()
        ),
        None => format!("`{into}` holds no snapshot of the chain"),
    }
}

fn restore(
    zfs: &dyn Zfs,
    arguments: &RestoreArguments,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let into = &arguments.into;
    check_target(zfs, into)?;
    let directory = &arguments.directory;
    check_directory(directory)?;
    let verified = open_verified(directory).map_err(|error| match error {
        ReadError::Verify(error) => not_a_chain(directory, error),
        error => error.into(),
    })?;
    let manifest = verified.manifest();
    if manifest.streams.is_empty() {
        bail!(
            "the chain in `{}` holds no stream yet: nothing to restore",
            arguments.directory.display()
        );
    }
    let mut view = RestoreView {
        chain: chain_view(&arguments.directory, manifest),
        into: into.to_string(),
        dry_run: arguments.dry_run,
        received: Vec::new(),
    };
    if !arguments.dry_run {
        // Unmounted until the last stream is in (a mounted dataset whose atime changed
        // refuses the next incremental); no -s: a failed stream leaves no partial state.
        let options = ReceiveOptions {
            unmounted: true,
            ..ReceiveOptions::default()
        };
        for stream in &manifest.streams {
            let received = verified
                .send_stream(stream.number)
                .map_err(anyhow::Error::from)
                .and_then(|reader| {
                    let mut watched = Watched {
                        inner: reader,
                        failure: None,
                    };
                    let received = zfs.receive(into, &options, &mut watched);
                    match (received, watched.failure) {
                        (Ok(()), _) => Ok(()),
                        // The reader's failure (a volume changed since it was verified) is
                        // the cause; `zfs receive` only saw its stream end early.
                        (Err(error), Some(failure)) if !error.to_string().contains(&failure) => {
                            Err(anyhow::Error::from(error).context(failure))
                        }
                        (Err(error), _) => Err(error.into()),
                    }
                });
            if let Err(error) = received {
                let state = received_state(zfs, into, manifest);
                return Err(error.context(format!(
                    "receiving stream {} of the chain into `{into}` failed; {state}",
                    stream.number
                )));
            }
            view.received.push(stream.number);
        }
    }
    emit(out, json, &view, |out| {
        write_chain(out, &view.chain)?;
        if view.dry_run {
            writeln!(
                out,
                "every volume verified; would receive {} stream{} into {} (dry run: nothing \
                 received)",
                view.chain.streams.len(),
                if view.chain.streams.len() == 1 {
                    ""
                } else {
                    "s"
                },
                view.into
            )
        } else {
            writeln!(
                out,
                "received {} stream{} into {}, unmounted (zfs mount {} mounts it)",
                view.received.len(),
                if view.received.len() == 1 { "" } else { "s" },
                view.into,
                view.into
            )
        }
    })
}
