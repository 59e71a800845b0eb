//! `wizfs-zfs`: the one door through which WiZFS touches ZFS.
//!
//! [`Zfs`] lists every operation the product needs. [`CliZfs`] performs them by running the
//! `zfs` and `zpool` commands (always `-H -p`, `LC_ALL=C`, an argv and never a shell, names
//! validated by the types of [`wizfs_core`] before any command runs) and parses their output
//! with the pure functions of [`parse`]. [`FakeZfs`] is a directory-backed model of the same
//! trait for fast unit tests and the demo mode. Nothing else in WiZFS runs `zfs` or `zpool`.

pub mod cli;
pub mod error;
pub mod fake;
pub mod mounts;
pub mod objects;
pub mod parse;
pub mod runner;
pub mod types;

pub use cli::CliZfs;
pub use error::{ZfsError, ZfsResult};
pub use fake::FakeZfs;
pub use runner::{CommandRunner, ScriptedRunner, SystemRunner};
pub use types::*;

use std::io::Read;
use wizfs_core::{
    Bookmark, BookmarkName, Dataset, DatasetName, Hold, Pool, PoolStatus, Snapshot, SnapshotName,
    ZfsObjectName, ZfsVersion,
};

/// Every ZFS operation WiZFS performs. Implementations: [`CliZfs`] (real) and [`FakeZfs`].
///
/// The API is blocking: ZFS commands are processes. Async callers use
/// `tokio::task::spawn_blocking`. Lists of snapshots and bookmarks are ordered by
/// `createtxg` (oldest first), which is the order ZFS created them in.
pub trait Zfs: Send + Sync + std::fmt::Debug {
    /// Userland and kernel module versions (`zfs version`).
    fn version(&self) -> ZfsResult<ZfsVersion>;
    /// All imported pools.
    fn list_pools(&self) -> ZfsResult<Vec<Pool>>;
    /// Every imported pool's state, vdev tree with error counters, latest scrub or resilver
    /// and data errors (`zpool status -p`), with capacity and fragmentation (`zpool list`).
    fn pool_status(&self) -> ZfsResult<Vec<PoolStatus>>;
    /// Starts a scrub of `pool` (`zpool scrub`) and returns without waiting for it.
    fn start_scrub(&self, pool: &wizfs_core::PoolName) -> ZfsResult<()>;
    /// Filesystems and volumes: `root` and its descendants, or every dataset when `None`.
    fn list_datasets(&self, root: Option<&DatasetName>) -> ZfsResult<Vec<Dataset>>;
    /// Snapshots of `dataset` (and of its descendants with [`Scope::Recursive`]).
    fn list_snapshots(&self, dataset: &DatasetName, scope: Scope) -> ZfsResult<Vec<Snapshot>>;
    /// Snapshots as [`Zfs::list_snapshots`] lists them, each with the values of `properties`
    /// (in the order asked for; `None` when unset), in one listing: how the scheduler learns
    /// which snapshots carry `wizfs:managed` without one command per snapshot.
    fn list_snapshots_with_properties(
        &self,
        dataset: &DatasetName,
        scope: Scope,
        properties: &[PropertyName],
    ) -> ZfsResult<Vec<(Snapshot, Vec<Option<String>>)>>;
    /// Bookmarks of `dataset`.
    fn list_bookmarks(&self, dataset: &DatasetName) -> ZfsResult<Vec<Bookmark>>;
    /// Values of `properties` on `target`, in the order asked for.
    fn get_properties(
        &self,
        target: &ZfsObjectName,
        properties: &[PropertyName],
    ) -> ZfsResult<Vec<Property>>;
    /// Sets one property (native or user) on a dataset or snapshot.
    fn set_property(
        &self,
        target: &ZfsObjectName,
        property: &PropertyName,
        value: &str,
    ) -> ZfsResult<()>;
    /// Creates a filesystem (parents must exist) with the given properties.
    fn create_filesystem(
        &self,
        name: &DatasetName,
        properties: &[(PropertyName, String)],
    ) -> ZfsResult<()>;
    /// Destroys a filesystem, and with `recursive` its children and snapshots.
    fn destroy_filesystem(&self, name: &DatasetName, recursive: bool) -> ZfsResult<()>;
    /// Creates all `snapshots` in one atomic transaction group (`zfs snapshot a@x b@y`); with
    /// `recursive` also of every descendant (`-r`), still atomically. `properties` (user
    /// properties such as `wizfs:managed`) are set on every new snapshot.
    fn create_snapshots(
        &self,
        snapshots: &[SnapshotName],
        recursive: bool,
        properties: &[(PropertyName, String)],
    ) -> ZfsResult<()>;
    /// Destroys snapshots (grouped per dataset into one command each).
    fn destroy_snapshots(
        &self,
        snapshots: &[SnapshotName],
        options: DestroyOptions,
    ) -> ZfsResult<()>;
    /// Bytes a destroy of `snapshots` (all of one dataset) would free (`zfs destroy -nvp`).
    fn reclaimable_space(&self, snapshots: &[SnapshotName]) -> ZfsResult<u64>;
    /// Places a user hold `tag` on a snapshot (and its descendants' same-named snapshots).
    fn hold(&self, snapshot: &SnapshotName, tag: &HoldTag, recursive: bool) -> ZfsResult<()>;
    /// Releases a user hold.
    fn release(&self, snapshot: &SnapshotName, tag: &HoldTag, recursive: bool) -> ZfsResult<()>;
    /// The holds on a snapshot.
    fn holds(&self, snapshot: &SnapshotName) -> ZfsResult<Vec<Hold>>;
    /// Creates a bookmark of `snapshot` (same dataset).
    fn create_bookmark(&self, snapshot: &SnapshotName, bookmark: &BookmarkName) -> ZfsResult<()>;
    /// Destroys a bookmark.
    fn destroy_bookmark(&self, bookmark: &BookmarkName) -> ZfsResult<()>;
    /// Changes between a snapshot and a later snapshot of the same dataset, or the live
    /// filesystem (`zfs diff -H -F -t`). Paths are absolute and byte-exact.
    fn diff(&self, from: &SnapshotName, to: DiffTarget<'_>) -> ZfsResult<Vec<DiffEntry>>;
    /// Starts `zfs send`; read the stream, then call [`SendStream::finish`].
    fn send(&self, source: &SendSource) -> ZfsResult<Box<dyn SendStream>>;
    /// Size in bytes the stream of `source` would have (`zfs send -n -v -P`).
    fn estimate_send_size(&self, source: &SendSource) -> ZfsResult<u64>;
    /// Receives a stream into `target` (`zfs receive`), reading it from `stream`.
    fn receive(
        &self,
        target: &DatasetName,
        options: &ReceiveOptions,
        stream: &mut dyn Read,
    ) -> ZfsResult<()>;
    /// The token an interrupted resumable receive (`-s`) left on `dataset`, if any.
    fn receive_resume_token(&self, dataset: &DatasetName) -> ZfsResult<Option<ResumeToken>>;
    /// Discards the partial state of an interrupted resumable receive (`zfs receive -A`).
    fn abort_resumable_receive(&self, dataset: &DatasetName) -> ZfsResult<()>;
}

/// A running `zfs send`: read the stream to its end, then call `finish` to learn whether the
/// sender succeeded. Dropping it without `finish` stops the sender.
pub trait SendStream: Read + Send + std::fmt::Debug {
    /// Waits for the sender and reports its failure, if any.
    fn finish(self: Box<Self>) -> ZfsResult<()>;
}
