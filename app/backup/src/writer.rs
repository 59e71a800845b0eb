//! Writing a chain on a file target: [`ChainWriter::open`] takes a chain directory for one
//! writer (a lock file), checks that the manifest there is this job's, and removes what an
//! interrupted run left (temporary files, volumes of a stream the manifest never took);
//! [`ChainWriter::write_stream`] stores one send stream through a [`Pipeline`] and the
//! splitter, and only when every volume is on the disk adds the stream to the manifest —
//! the commit point — then rewrites `SHA256SUMS` and `RESTORE.txt` from it.
//!
//! This file exists so that a write cut anywhere leaves the chain as it was before that
//! stream: the manifest never names a stream whose volumes are not all complete, and the
//! next run starts that stream again from a clean directory.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use wizfs_core::backup::BackupJobId;
use wizfs_core::{DatasetName, SnapshotName, Timestamp};

use crate::checksums::HashingReader;
use crate::durable::{FileAction, FileError, list_names, remove_if_present, write_atomically};
use crate::instructions::{checksum_file, restore_file};
use crate::manifest::{
    ChainManifest, ManifestError, StreamKind, StreamRecord, TargetName, VolumeRecord,
};
use crate::names::{
    CHECKSUM_FILE, LOCK_FILE, MANIFEST_FILE, MAXIMUM_STREAMS, PARTIAL_SUFFIX, RESTORE_FILE,
    parse_volume_name,
};
use crate::pipeline::{Pipeline, PipelineError};
use crate::volumes::{SplitError, Splitter};

/// Bytes read from the send stream at a time.
const READ_BYTES: usize = 1 << 20;

/// Whose chain a directory holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainIdentity {
    /// The job writing it.
    pub job: BackupJobId,
    /// The target it is on.
    pub target: TargetName,
    /// The source dataset the chain was started for (the planner's manifest dataset).
    pub dataset: DatasetName,
}

/// What `zfs send` sends, as the engine knows it before the stream starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamHeader {
    /// Full, or incremental from a base the chain holds.
    pub kind: StreamKind,
    /// The snapshot sent.
    pub to: SnapshotName,
    /// Its guid.
    pub to_guid: u64,
    /// Its `createtxg`.
    pub to_createtxg: u64,
    /// A raw send (`-w`).
    pub raw: bool,
}

/// Why a chain could not be opened or a stream not stored.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A file of the chain could not be read, written or removed.
    #[error(transparent)]
    File(#[from] FileError),
    /// The chain's manifest cannot be read.
    #[error("the manifest `{}` cannot be read: {source}", path.display())]
    Manifest {
        /// The manifest's path.
        path: PathBuf,
        /// What is wrong with it.
        source: ManifestError,
    },
    /// The directory holds another job's, target's or dataset's chain.
    #[error(
        "`{}` holds the chain of `{}` of backup job `{}` on target `{}`, not `{}` of job `{}` \
         on `{}`",
        directory.display(),
        found.dataset,
        found.job,
        found.target,
        wanted.dataset,
        wanted.job,
        wanted.target
    )]
    NotThisChain {
        /// The chain directory.
        directory: PathBuf,
        /// Whose chain the manifest says it is.
        found: Box<ChainIdentity>,
        /// Who wanted to write.
        wanted: Box<ChainIdentity>,
    },
    /// Another writer has the chain open.
    #[error("another backup is writing `{}` right now", directory.display())]
    Busy {
        /// The chain directory.
        directory: PathBuf,
    },
    /// The stream does not continue the chain.
    #[error(
        "stream {number} does not continue the chain of `{dataset}`: it starts from {}, the \
         chain ends at {}",
        describe_guid(*from_guid),
        describe_guid(*chain_end)
    )]
    NotContinuous {
        /// The chain's dataset.
        dataset: DatasetName,
        /// The stream's number.
        number: u32,
        /// The stream's base (`None`: a full stream).
        from_guid: Option<u64>,
        /// The chain's last guid (`None`: the chain is empty).
        chain_end: Option<u64>,
    },
    /// The chain has as many streams as names have digits for.
    #[error("the chain of `{dataset}` has {MAXIMUM_STREAMS} streams; start a new chain")]
    TooManyStreams {
        /// The chain's dataset.
        dataset: DatasetName,
    },
    /// A stage of the pipeline failed or does not exist yet.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// Splitting into volumes failed.
    #[error(transparent)]
    Split(#[from] SplitError),
    /// Reading the send stream failed; nothing of it was kept.
    #[error("reading the send stream of `{to}` failed after {bytes} bytes: {source}")]
    Source {
        /// The snapshot being sent.
        to: SnapshotName,
        /// The bytes read before the failure.
        bytes: u64,
        /// What the stream's reader said.
        source: io::Error,
    },
    /// A compression or encryption stage failed while writing.
    #[error("the {pipeline} stage of the stream of `{to}` failed: {source}")]
    Stage {
        /// The snapshot being sent.
        to: SnapshotName,
        /// The pipeline, in words.
        pipeline: String,
        /// What it said.
        source: io::Error,
    },
}

fn describe_guid(guid: Option<u64>) -> String {
    guid.map_or("nothing".to_owned(), |guid| format!("guid {guid}"))
}

/// A chain directory open for writing.
#[derive(Debug)]
pub struct ChainWriter {
    directory: PathBuf,
    manifest: ChainManifest,
    volume_limit: Option<u64>,
    /// Holds the lock while the writer lives.
    _lock: File,
}

impl ChainWriter {
    /// Opens (or starts, at `now`) the chain in `directory` for `identity`, splitting streams
    /// into volumes of `volume_limit` bytes (`None`: one volume per stream). Removes what an
    /// interrupted run left and gives the removed names.
    pub fn open(
        directory: &Path,
        identity: &ChainIdentity,
        volume_limit: Option<u64>,
        now: Timestamp,
    ) -> Result<(ChainWriter, Vec<String>), WriteError> {
        fs::create_dir_all(directory).map_err(FileError::at(FileAction::Create, directory))?;
        let lock = lock_file(directory, LOCK_FILE)?;
        let manifest_path = directory.join(MANIFEST_FILE);
        let manifest = match fs::read(&manifest_path) {
            Ok(bytes) => ChainManifest::parse(&bytes).map_err(|source| WriteError::Manifest {
                path: manifest_path.clone(),
                source,
            })?,
            Err(error) if error.kind() == ErrorKind::NotFound => {
                let manifest = ChainManifest::new(
                    identity.job.clone(),
                    identity.target.clone(),
                    identity.dataset.clone(),
                    now,
                );
                write_atomically(directory, MANIFEST_FILE, manifest.to_json().as_bytes())?;
                manifest
            }
            Err(error) => return Err(FileError::at(FileAction::Read, &manifest_path)(error).into()),
        };
        if manifest.job != identity.job
            || manifest.target != identity.target
            || manifest.dataset != identity.dataset
        {
            return Err(WriteError::NotThisChain {
                directory: directory.to_owned(),
                found: Box::new(ChainIdentity {
                    job: manifest.job,
                    target: manifest.target,
                    dataset: manifest.dataset,
                }),
                wanted: Box::new(identity.clone()),
            });
        }
        let writer = ChainWriter {
            directory: directory.to_owned(),
            manifest,
            volume_limit,
            _lock: lock,
        };
        let removed = writer.remove_leftovers()?;
        writer.write_derived_files()?;
        Ok((writer, removed))
    }

    pub fn manifest(&self) -> &ChainManifest {
        &self.manifest
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// Removes temporary files and the volumes of streams the manifest does not have
    /// (a run cut after some volumes were complete). Files WiZFS did not make stay.
    fn remove_leftovers(&self) -> Result<Vec<String>, FileError> {
        let committed = self.manifest.streams.len();
        let mut removed = Vec::new();
        for name in list_names(&self.directory)? {
            let temporary = name.ends_with(PARTIAL_SUFFIX);
            let uncommitted =
                parse_volume_name(&name).is_some_and(|(stream, _, _)| stream as usize > committed);
            if temporary || uncommitted {
                remove_if_present(&self.directory.join(&name))?;
                removed.push(name);
            }
        }
        Ok(removed)
    }

    /// `SHA256SUMS` and `RESTORE.txt` as the manifest says, written when they differ.
    fn write_derived_files(&self) -> Result<(), FileError> {
        for (name, text) in [
            (CHECKSUM_FILE, checksum_file(&self.manifest)),
            (RESTORE_FILE, restore_file(&self.manifest)),
        ] {
            let current = fs::read(self.directory.join(name)).ok();
            if current.as_deref() != Some(text.as_bytes()) {
                write_atomically(&self.directory, name, text.as_bytes())?;
            }
        }
        Ok(())
    }

    /// Stores one send stream read from `stream` through `pipeline`, and adds it to the
    /// manifest once all its volumes are on the disk. On any failure nothing of the stream
    /// is kept (its volumes are removed; what cannot be removed the next open removes) and
    /// the manifest is unchanged. An error after the commit can only come from rewriting
    /// `SHA256SUMS` or `RESTORE.txt`: the stream is then in the manifest, and the next
    /// [`ChainWriter::open`] rewrites both.
    pub fn write_stream(
        &mut self,
        header: StreamHeader,
        pipeline: &Pipeline,
        stream: &mut dyn Read,
        now: Timestamp,
    ) -> Result<StreamRecord, WriteError> {
        let number = self.check_next(&header)?;
        let splitter = Splitter::new(
            &self.directory,
            number,
            &pipeline.suffix(),
            self.volume_limit,
        );
        let mut source = HashingReader::new(stream);
        let volumes = store(&header.to, pipeline, &mut source, splitter)?;
        let (stream_sha256, stream_bytes) = source.finish();
        let record = StreamRecord {
            number,
            kind: header.kind,
            to: header.to,
            to_guid: header.to_guid,
            to_createtxg: header.to_createtxg,
            raw: header.raw,
            compression: pipeline.compression(),
            encryption: pipeline.encryption().cloned(),
            volume_limit_bytes: self.volume_limit.filter(|bytes| *bytes > 0),
            stream_bytes,
            stream_sha256,
            created: now,
            volumes,
        };
        let mut next = self.manifest.clone();
        next.streams.push(record.clone());
        if let Err(error) =
            write_atomically(&self.directory, MANIFEST_FILE, next.to_json().as_bytes())
        {
            if let Some(record) = next.streams.last() {
                for volume in &record.volumes {
                    let _ = remove_if_present(&self.directory.join(&volume.name));
                }
            }
            return Err(error.into());
        }
        self.manifest = next;
        self.write_derived_files()?;
        Ok(record)
    }

    /// The number the next stream gets, after checking it continues the chain.
    fn check_next(&self, header: &StreamHeader) -> Result<u32, WriteError> {
        let count = self.manifest.streams.len();
        let number = u32::try_from(count + 1)
            .ok()
            .filter(|number| *number <= MAXIMUM_STREAMS)
            .ok_or_else(|| WriteError::TooManyStreams {
                dataset: self.manifest.dataset.clone(),
            })?;
        let from_guid = match &header.kind {
            StreamKind::Full => None,
            StreamKind::Incremental { from_guid, .. } => Some(*from_guid),
        };
        let chain_end = self.manifest.last_guid();
        if from_guid != chain_end {
            return Err(WriteError::NotContinuous {
                dataset: self.manifest.dataset.clone(),
                number,
                from_guid,
                chain_end,
            });
        }
        Ok(number)
    }
}

/// Copies the send stream through the pipeline into the splitter and closes its last
/// volume; on failure removes what the splitter wrote.
fn store(
    to: &SnapshotName,
    pipeline: &Pipeline,
    source: &mut HashingReader<&mut dyn Read>,
    mut splitter: Splitter,
) -> Result<Vec<VolumeRecord>, WriteError> {
    match copy_through(to, pipeline, source, &mut splitter) {
        Ok(()) => Ok(splitter.finish()?),
        Err(error) => {
            // A failed write of the splitter's own says which file; prefer that.
            let error = match (error, splitter.take_failure()) {
                (WriteError::Stage { .. }, Some(failure)) => WriteError::Split(failure),
                (error, _) => error,
            };
            let _ = splitter.abort();
            Err(error)
        }
    }
}

fn copy_through(
    to: &SnapshotName,
    pipeline: &Pipeline,
    source: &mut HashingReader<&mut dyn Read>,
    splitter: &mut Splitter,
) -> Result<(), WriteError> {
    let stage_error = |source: io::Error| WriteError::Stage {
        to: to.clone(),
        pipeline: pipeline.to_string(),
        source,
    };
    let mut encoder = pipeline.encoder(splitter)?;
    let mut buffer = vec![0u8; READ_BYTES];
    loop {
        let read = match source.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => {
                return Err(WriteError::Source {
                    to: to.clone(),
                    bytes: source.bytes_read(),
                    source: error,
                });
            }
        };
        encoder.write_all(&buffer[..read]).map_err(stage_error)?;
    }
    encoder.finish().map_err(stage_error)
}

/// Takes the lock file `name` in `directory` (the chain's, or a file target's run lock), or
/// says another writer has it. The lock lasts as long as the file stays open.
pub(crate) fn lock_file(directory: &Path, name: &str) -> Result<File, WriteError> {
    let path = directory.join(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(FileError::at(FileAction::Create, &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(WriteError::Busy {
            directory: directory.to_owned(),
        }),
        Err(TryLockError::Error(error)) => {
            Err(FileError::at(FileAction::Lock, &path)(error).into())
        }
    }
}
