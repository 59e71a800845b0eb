//! WiZFS backups beyond the pure planner of `wizfs-core`: the runs of a job into a pool of
//! this machine ([`local_pool`]) and into a file target ([`files`]), which share their steps
//! on the source ([`run`]), and the format of the file target — a source dataset's chain of
//! send streams stored in a directory on any mounted file system (ext4, exFAT, NFS, a disc
//! image), restorable with stock tools alone.
//!
//! A chain directory holds, for one source dataset of one job:
//! - the volumes of each stream, `s000001.v000001.zfs.zst` (stream 1, volume 1, zstd), cut
//!   at a chosen size (unlimited, a DVD's, a Blu-ray's), each written under a temporary
//!   name, flushed and renamed, so no final name ever holds an incomplete volume
//!   ([`volumes`], [`durable`]);
//! - `manifest.json`, the chain ([`manifest`]): job, target, dataset, and per stream full
//!   or incremental, guids, snapshot names, `createtxg`, compression, encryption, the
//!   stream's and each volume's length and SHA-256; a stream enters it only once all its
//!   volumes are on the disk ([`writer`]);
//! - `SHA256SUMS` for `sha256sum -c` and `RESTORE.txt` with the exact stock commands
//!   ([`instructions`]).
//!
//! Compression and encryption are stages between the send stream and the splitter
//! ([`pipeline`]): zstd runs in process today; xz, age, GnuPG and OpenSSL are typed and
//! refused as not built yet. [`verify`] checks a chain without a pool, and [`reader`] gives
//! its streams back only after that check. `docs/backup.md` describes the format and the
//! restore commands.

pub mod checksums;
pub mod config;
pub mod durable;
pub mod files;
pub mod instructions;
pub mod local_pool;
pub mod manifest;
pub mod metered;
pub mod names;
pub mod pipeline;
pub mod reader;
pub mod report;
pub mod run;
pub mod verify;
pub mod volumes;
pub mod writer;

pub use checksums::Sha256Digest;
pub use config::{
    BackupConfigError, BackupJobConfig, BackupTables, BackupTarget, InvalidBackup, Schedule,
    load_backups, parse_backups, validate_backups,
};

pub use files::run_files;
pub use local_pool::{JOB_PROPERTY, SENT_PROPERTY, run_local_pool};
pub use manifest::{
    ChainManifest, FORMAT, FORMAT_VERSION, ManifestError, StreamKind, StreamRecord, TargetName,
    VolumeRecord,
};
pub use names::chain_directory_name;
pub use pipeline::{Compression, Encryption, Pipeline, PipelineError};
pub use reader::{ReadError, SendStream, StoredStream, VerifiedChain, open_verified};
pub use report::{DatasetReport, RunReport, SentStream, Step, StepError};
pub use run::{RunError, hold_tag};
pub use verify::{FoundChain, Problem, VerifyError, VerifyReport, list_chains, verify};
pub use writer::{ChainIdentity, ChainWriter, StreamHeader, WriteError};

/// Volume size for a single-layer DVD (4.7 GB), leaving room for the disc's file system.
pub const DVD_VOLUME_BYTES: u64 = 4_600_000_000;
/// Volume size for a single-layer Blu-ray disc (25 GB), leaving room for its file system.
pub const BLU_RAY_VOLUME_BYTES: u64 = 24_500_000_000;
