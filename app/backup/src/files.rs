//! The file target: one run of a backup job into a directory on a mounted file system, each
//! source dataset's snapshots stored as a chain of send streams ([`ChainWriter`]), all ZFS
//! work through [`Zfs`].
//!
//! A run takes the job's lock in the target directory (a second run of the job is refused),
//! reads the chains there, and gives the planner of `wizfs-core` the newest chain of each
//! dataset as the target's state: what the chain ends at is what the target has. Then, as
//! the local-pool target does (`crate::run` holds what they share), it holds the bases the
//! plan needs, and per dataset writes what the plan says into the chain — a full stream into
//! a new (or still empty) chain directory, an incremental (`-I`, or `-i` from a bookmark)
//! from the chain's last snapshot into the same chain; a chain whose end the source has lost
//! with its bookmark is continued by a new chain beside it when the job says
//! `missing_base = "full-into-new-dataset"` (else refused). A stream enters the manifest
//! only after `zfs send` has ended well: the sender's exit status is read before the
//! stream's end reaches the writer. Afterwards it bookmarks on the source what the chain
//! holds, syncs its holds with the new plan, and applies the job's retention the only way a
//! chain allows: a whole older chain is removed once a newer chain passes [`verify`] and
//! the retention keeps none of the older chain's snapshots.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, ErrorKind, Read};
use std::path::{Path, PathBuf};

use wizfs_core::backup::{
    Action, BackupJob, DatasetPlan, Manifest, SendBase, SendStep, SourceDataset, TargetDataset,
    TargetKind, TargetSnapshot, TargetState, TargetVerdict, plan_backup, plan_target_retention,
};
use wizfs_core::rotation::Calendar;
use wizfs_core::{DatasetName, Timestamp};
use wizfs_zfs::{SendStream, Zfs, ZfsError};

use crate::durable::{FileAction, FileError, list_names, remove_if_present, sync_directory};
use crate::manifest::{ChainManifest, StreamKind, TargetName};
use crate::metered::Metered;
use crate::names::{
    CHECKSUM_FILE, LOCK_FILE, MANIFEST_FILE, PARTIAL_SUFFIX, RESTORE_FILE, chain_directory_name,
    parse_volume_name,
};
use crate::pipeline::Pipeline;
use crate::report::{RunReport, SentStream, Step, StepError};
use crate::run::{
    RunError, RunLog, checked_hold_tag, kind_name, list_sources, send_source, sends_something,
};
use crate::verify::{list_chains, verify};
use crate::writer::{ChainIdentity, ChainWriter, StreamHeader, WriteError, lock_file};

/// The lock a run of job `<job>` takes in the target directory: `.wizfs-lock-<job>`.
pub const RUN_LOCK_PREFIX: &str = ".wizfs-lock-";

/// Runs `job` once into its file target at `now`: `target` is the name its manifests carry
/// (the `name` of the `[backup.target]` table, the job id by default) and `calendar` gives
/// the retention's buckets. Errors only when the run cannot start; everything after that is
/// in the report.
pub fn run_files(
    zfs: &dyn Zfs,
    job: &BackupJob,
    target: &TargetName,
    now: Timestamp,
    calendar: &dyn Calendar,
) -> Result<RunReport, RunError> {
    let (directory, volume_bytes) = match &job.target {
        TargetKind::Files {
            directory,
            volume_bytes,
        } => (directory.as_path(), *volume_bytes),
        other => {
            return Err(RunError::WrongTarget {
                job: job.id.to_string(),
                kind: kind_name(other),
                expected: "files",
            });
        }
    };
    if !directory.is_dir() {
        return Err(RunError::DirectoryMissing {
            job: job.id.to_string(),
            directory: directory.to_owned(),
        });
    }
    let _lock =
        lock_file(directory, &format!("{RUN_LOCK_PREFIX}{}", job.id)).map_err(
            |error| match error {
                WriteError::File(source) => RunError::Directory {
                    job: job.id.to_string(),
                    source,
                },
                _ => RunError::Busy {
                    job: job.id.to_string(),
                    directory: directory.to_owned(),
                },
            },
        )?;
    let pipeline = Pipeline::new(job.options.compression, job.options.encryption.as_ref())
        .map_err(|source| RunError::Pipeline {
            job: job.id.to_string(),
            source,
        })?;
    let mut run = FileRun {
        zfs,
        job,
        target,
        directory,
        volume_bytes,
        pipeline,
        now,
        log: RunLog::new(checked_hold_tag(job)?),
    };
    let sources = list_sources(zfs, job).map_err(RunError::list(job))?;
    let chains = run.chains().map_err(|source| RunError::Directory {
        job: job.id.to_string(),
        source,
    })?;
    let plan = plan_backup(job, &sources, &chains.state(), now);
    // Hold every base the plan needs before sending, so no snapshot policy prunes it mid-run.
    run.log.sync_holds(zfs, &plan, &sources, false);
    for dataset_plan in &plan.datasets {
        run.log.report_for(dataset_plan).chain = chains
            .newest(&dataset_plan.target)
            .map(|chain| chain.directory.clone());
        if sends_something(&dataset_plan.action) {
            run.write(dataset_plan, &sources, &chains);
        }
    }
    run.settle(calendar);
    Ok(run.log.finish(job))
}

/// One chain directory of this job and target.
#[derive(Debug)]
struct Chain {
    directory: PathBuf,
    manifest: ChainManifest,
}

/// This job's chains on the target, per dataset, oldest first.
#[derive(Debug, Default)]
struct Chains {
    by_dataset: BTreeMap<DatasetName, Vec<Chain>>,
}

impl Chains {
    /// The chain a dataset continues: its newest.
    fn newest(&self, dataset: &DatasetName) -> Option<&Chain> {
        self.by_dataset
            .get(dataset)
            .and_then(|chains| chains.last())
    }

    /// The target's state for the planner: the newest chain of each dataset.
    fn state(&self) -> TargetState {
        TargetState::Files(
            self.by_dataset
                .values()
                .filter_map(|chains| chains.last())
                .map(|chain| chain.manifest.to_planner())
                .collect::<Vec<Manifest>>(),
        )
    }
}

/// The state of one run.
struct FileRun<'a> {
    zfs: &'a dyn Zfs,
    job: &'a BackupJob,
    target: &'a TargetName,
    directory: &'a Path,
    volume_bytes: Option<u64>,
    pipeline: Pipeline,
    now: Timestamp,
    log: RunLog,
}

impl FileRun<'_> {
    /// This job's and target's chains in the target directory. Chains of other jobs or
    /// targets are left alone; one whose manifest cannot be read is reported (it may be
    /// this job's) and not continued.
    fn chains(&mut self) -> Result<Chains, FileError> {
        let mut chains = Chains::default();
        for found in list_chains(self.directory)? {
            match found.manifest {
                Ok(manifest) if manifest.job == self.job.id && &manifest.target == self.target => {
                    chains
                        .by_dataset
                        .entry(manifest.dataset.clone())
                        .or_default()
                        .push(Chain {
                            directory: found.directory,
                            manifest,
                        });
                }
                Ok(_) => {}
                Err(error) => self.log.errors.push(StepError::Failed {
                    step: Step::ReadChain(found.directory),
                    problem: error.to_string(),
                }),
            }
        }
        for list in chains.by_dataset.values_mut() {
            list.sort_by(|left, right| {
                (left.manifest.created, &left.directory)
                    .cmp(&(right.manifest.created, &right.directory))
            });
        }
        Ok(chains)
    }

    /// Writes one dataset's planned streams into its chain, in order; stops at the first
    /// failure (the chain keeps every stream before it).
    fn write(&mut self, plan: &DatasetPlan, sources: &[SourceDataset], chains: &Chains) {
        let steps = plan.action.send_steps();
        if steps.is_empty() {
            // A resume: the planner gives none for chains, which have no receive to resume.
            return;
        }
        // A new chain is the source's as it is named now; a continued one keeps its name.
        let dataset = if plan.new_chain {
            &plan.source
        } else {
            &plan.target
        };
        let starts = matches!(plan.action, Action::FullSend { .. });
        let directory = match chains.newest(dataset) {
            Some(chain) if !starts || chain.manifest.streams.is_empty() => chain.directory.clone(),
            _ => self.directory.join(chain_directory_name(dataset, self.now)),
        };
        let identity = ChainIdentity {
            job: self.job.id.clone(),
            target: self.target.clone(),
            dataset: dataset.clone(),
        };
        self.log.report_for(plan).chain = Some(directory.clone());
        let mut writer = match ChainWriter::open(&directory, &identity, self.volume_bytes, self.now)
        {
            Ok((writer, _removed)) => writer,
            Err(source) => {
                self.log.report_for(plan).errors.push(StepError::Chain {
                    step: Step::OpenChain(directory),
                    source,
                });
                return;
            }
        };
        for step in steps {
            match self.write_step(&mut writer, &step, sources) {
                Ok(bytes) => self.log.report_for(plan).sends.push(SentStream {
                    from: step.from.clone(),
                    to: Some(step.to.clone()),
                    resumed: false,
                    rolled_back: false,
                    bytes,
                }),
                Err(error) => {
                    self.log.report_for(plan).errors.push(*error);
                    return;
                }
            }
        }
    }

    /// `zfs send` of one step into the chain, counted and paced; the send stream's bytes.
    fn write_step(
        &self,
        writer: &mut ChainWriter,
        step: &SendStep,
        sources: &[SourceDataset],
    ) -> Result<u64, Box<StepError>> {
        let send_step = || Step::Send {
            to: Some(step.to.clone()),
        };
        let header = stream_header(self.job, step, sources).ok_or_else(|| {
            Box::new(StepError::Failed {
                step: send_step(),
                problem: "the snapshot or its base is no longer on the source".to_owned(),
            })
        })?;
        let stream = self
            .zfs
            .send(&send_source(self.job, step))
            .map_err(|source| {
                Box::new(StepError::Zfs {
                    step: send_step(),
                    source,
                })
            })?;
        let mut metered = Metered::new(
            CheckedSend {
                stream: Some(stream),
                failure: None,
            },
            self.job.options.bandwidth_limit_bytes_per_second,
        );
        let written = writer.write_stream(header, &self.pipeline, &mut metered, self.now);
        let failure = metered.into_inner().failure;
        match (written, failure) {
            (Ok(record), _) => Ok(record.stream_bytes),
            // The sender failed: its own error says more than the reader's.
            (Err(_), Some(source)) => Err(Box::new(StepError::Zfs {
                step: send_step(),
                source,
            })),
            (Err(source), None) => Err(Box::new(StepError::Chain {
                step: send_step(),
                source,
            })),
        }
    }

    /// After the writes: bookmarks of what the chains hold, holds as the new plan needs
    /// them, then retention over whole chains.
    fn settle(&mut self, calendar: &dyn Calendar) {
        let Some(sources) = self.log.listed(list_sources(self.zfs, self.job)) else {
            return;
        };
        let chains = match self.chains() {
            Ok(chains) => chains,
            Err(source) => {
                self.log.errors.push(StepError::File {
                    step: Step::ReadChain(self.directory.to_owned()),
                    source,
                });
                return;
            }
        };
        let plan = plan_backup(self.job, &sources, &chains.state(), self.now);
        for dataset_plan in &plan.datasets {
            let Some(source) = sources
                .iter()
                .find(|source| source.name == dataset_plan.source)
            else {
                continue;
            };
            let on_target: BTreeSet<u64> = chains_of(&chains, dataset_plan)
                .flat_map(|chain| &chain.manifest.streams)
                .map(|stream| stream.to_guid)
                .collect();
            self.log.bookmark_sent(self.zfs, source, &on_target);
        }
        // The bookmarks are made: list the source again, so the holds see them.
        let sources = list_sources(self.zfs, self.job).unwrap_or(sources);
        self.log.sync_holds(self.zfs, &plan, &sources, true);
        for dataset_plan in &plan.datasets {
            if let Some(source) = sources
                .iter()
                .find(|source| source.name == dataset_plan.source)
            {
                let mut own: Vec<&Chain> = chains_of(&chains, dataset_plan).collect();
                own.sort_by(|left, right| {
                    (left.manifest.created, &left.directory)
                        .cmp(&(right.manifest.created, &right.directory))
                });
                self.prune(&own, source, calendar);
            }
        }
    }

    /// Removes the chains older than the newest chain that passes [`verify`] of which the
    /// job's retention keeps no snapshot (as snapshot rotation decides over every chain's
    /// snapshots together, the newest one the source still has always kept). Without a
    /// retention, or with one chain, nothing goes.
    fn prune(&mut self, chains: &[&Chain], source: &SourceDataset, calendar: &dyn Calendar) {
        let Some(newest) = chains.last() else {
            return;
        };
        if self.job.retention.is_none() || chains.len() < 2 {
            return;
        }
        let mut seen = BTreeSet::new();
        let snapshots: Vec<TargetSnapshot> = chains
            .iter()
            .flat_map(|chain| &chain.manifest.streams)
            .filter(|stream| seen.insert(stream.to_guid))
            .map(|stream| TargetSnapshot {
                name: stream.to.clone(),
                guid: stream.to_guid,
                createtxg: stream.to_createtxg,
                // The snapshot's own time while the source has it; else when it was written.
                creation: source
                    .snapshots
                    .iter()
                    .find(|snapshot| snapshot.guid == stream.to_guid)
                    .map_or(stream.created, |snapshot| snapshot.creation),
                held: false,
                sent_by: Some(self.job.id.clone()),
            })
            .collect();
        let as_target = TargetDataset {
            name: newest.manifest.dataset.clone(),
            job: Some(self.job.id.clone()),
            resume_token: None,
            modified: false,
            snapshots,
        };
        let retention = plan_target_retention(self.job, &as_target, source, self.now, calendar);
        let kept: BTreeSet<u64> = retention
            .decisions
            .iter()
            .filter(|decision| matches!(decision.verdict, TargetVerdict::Keep(_)))
            .map(|decision| decision.guid)
            .collect();
        let expired = |chain: &Chain| {
            chain
                .manifest
                .streams
                .iter()
                .all(|stream| !kept.contains(&stream.to_guid))
        };
        let last_expired = chains[..chains.len() - 1]
            .iter()
            .rposition(|chain| expired(chain));
        let Some(last_expired) = last_expired else {
            return;
        };
        // The newest chain that a restore can use; only chains older than it may go.
        let complete = chains[last_expired + 1..]
            .iter()
            .rposition(|chain| {
                !chain.manifest.streams.is_empty()
                    && verify(&chain.directory).is_ok_and(|report| report.is_restorable())
            })
            .map(|index| index + last_expired + 1);
        let Some(complete) = complete else {
            return;
        };
        for chain in chains[..complete].iter().filter(|chain| expired(chain)) {
            match remove_chain(&chain.directory) {
                Ok(()) => {
                    if let Some(report) = self.log.dataset_report(&source.name) {
                        report.removed_chains.push(chain.directory.clone());
                    }
                }
                Err(error) => self.log.dataset_error(&source.name, *error),
            }
        }
        let _ = sync_directory(self.directory);
    }
}

/// The chains that hold `plan`'s dataset: under the name the planner continues and under
/// the source's own name (a new chain of a renamed source).
fn chains_of<'a>(chains: &'a Chains, plan: &'a DatasetPlan) -> impl Iterator<Item = &'a Chain> {
    let names: BTreeSet<&DatasetName> = [&plan.target, &plan.source].into_iter().collect();
    names
        .into_iter()
        .filter_map(|name| chains.by_dataset.get(name))
        .flatten()
}

/// The header of a step's stream, from the source as listed: the snapshot's guid and
/// `createtxg`, and for an incremental its base's guid (`None` when the source lost one of
/// them meanwhile).
fn stream_header(
    job: &BackupJob,
    step: &SendStep,
    sources: &[SourceDataset],
) -> Option<StreamHeader> {
    let snapshots = || sources.iter().flat_map(|source| &source.snapshots);
    let to = snapshots().find(|snapshot| snapshot.name == step.to)?;
    let kind = match &step.from {
        None => StreamKind::Full,
        Some(from) => {
            let from_guid = match from {
                SendBase::Snapshot(name) | SendBase::CloneOrigin(name) => {
                    snapshots().find(|snapshot| &snapshot.name == name)?.guid
                }
                SendBase::Bookmark(name) => {
                    sources
                        .iter()
                        .flat_map(|source| &source.bookmarks)
                        .find(|bookmark| &bookmark.name == name)?
                        .guid
                }
            };
            StreamKind::Incremental {
                from_guid,
                from: from.clone(),
                intermediates: step.intermediates,
            }
        }
    };
    Some(StreamHeader {
        kind,
        to: to.name.clone(),
        to_guid: to.guid,
        to_createtxg: to.createtxg,
        raw: job.options.raw,
    })
}

/// A running `zfs send` whose end is reported only once the sender has ended well: at the
/// end of its output it is finished, and a failure (killed, an error after it stopped
/// writing) becomes a read error, so the writer never commits a stream the sender did not
/// complete. The sender's own error is kept for the report.
struct CheckedSend {
    stream: Option<Box<dyn SendStream>>,
    failure: Option<ZfsError>,
}

impl Read for CheckedSend {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(0);
        };
        let read = stream.read(buffer)?;
        if read > 0 || buffer.is_empty() {
            return Ok(read);
        }
        let Some(stream) = self.stream.take() else {
            return Ok(0);
        };
        match stream.finish() {
            Ok(()) => Ok(0),
            Err(error) => {
                let message = error.to_string();
                self.failure = Some(error);
                Err(io::Error::other(message))
            }
        }
    }
}

/// Removes a chain directory: its manifest first (from then on no one reads it as a chain),
/// then every file WiZFS writes in it, then the directory if nothing else is left in it.
fn remove_chain(directory: &Path) -> Result<(), Box<StepError>> {
    let step = || Step::RemoveChain(directory.to_owned());
    let file_error = |source: FileError| {
        Box::new(StepError::File {
            step: step(),
            source,
        })
    };
    let lock = lock_file(directory, LOCK_FILE).map_err(|source| {
        Box::new(StepError::Chain {
            step: step(),
            source,
        })
    })?;
    remove_if_present(&directory.join(MANIFEST_FILE)).map_err(file_error)?;
    sync_directory(directory).map_err(file_error)?;
    for name in list_names(directory).map_err(file_error)? {
        let ours = parse_volume_name(&name).is_some()
            || name.ends_with(PARTIAL_SUFFIX)
            || name == CHECKSUM_FILE
            || name == RESTORE_FILE;
        if ours {
            remove_if_present(&directory.join(&name)).map_err(file_error)?;
        }
    }
    drop(lock);
    remove_if_present(&directory.join(LOCK_FILE)).map_err(file_error)?;
    match fs::remove_dir(directory) {
        // Files WiZFS did not write stay, and so does their directory.
        Err(error) if error.kind() == ErrorKind::DirectoryNotEmpty => Ok(()),
        other => {
            other.map_err(|source| file_error(FileError::at(FileAction::Remove, directory)(source)))
        }
    }
}
