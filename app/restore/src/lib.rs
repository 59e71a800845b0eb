//! `wizfs-restore`: where restore plans meet the file system. Planning is pure and lives in
//! `wizfs_core::restore`; this crate executes a plan against a dataset's live mountpoint and
//! one of its snapshots, and provides the reads that browsing, version listing, previews and
//! downloads need. Everything goes through [`SafeRoot`], which resolves every path with
//! `openat2` so that no symlink, `..` or mount crossing can lead outside the dataset.
//!
//! * [`SafeRoot`]: open a live or snapshot root; `stat`, `list_directory`, `read_tree`,
//!   `open_regular_file`, `read_prefix`; `lookup` ([`Lookup`]: present, absent, or behind a
//!   symlink); [`missing_ancestors`].
//! * [`execute`]: carry out a `RestorePlan` (guard snapshot, atomic per-file placement,
//!   whole-directory swap for Replace), reporting [`Progress`].
//! * [`prune_guard_snapshots`]: destroy the guard snapshots that outlived their lifetime
//!   (the plan of `wizfs_core::guards`), never a held one.
//! * [`cleanup_stale_temporaries`]: remove what a killed restore left.
//! * [`write_tar`], [`write_archive`]: stream a file or directory as a tar or ZIP archive.

mod copy;
mod download;
mod error;
mod execute;
mod guards;
mod remove;
mod root;
mod system;
mod temporary;

#[cfg(test)]
mod test_support;

pub use download::{ArchiveFormat, write_archive, write_tar};
pub use error::{Destination, ErrorClass, RestoreError, RestoreResult, kind_with_article};
pub use execute::{ExecutionReport, GUARD_PROPERTY, Progress, execute, execute_with_datasets};
pub use guards::{GuardPruneReport, prune_guard_snapshots};
pub use root::{Lookup, SafeRoot, missing_ancestors};
pub use temporary::cleanup_stale_temporaries;
