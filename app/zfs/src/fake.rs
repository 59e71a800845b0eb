//! [`FakeZfs`]: a directory-backed model of ZFS, so the layers above [`crate::Zfs`]
//! (indexing, restore, rotation, replication) can be tested in milliseconds and the product
//! can run its demo mode on machines without ZFS. It is a small faithful model, not a mock:
//! the same conformance scenarios run against it and against real OpenZFS 2.3, so wherever the
//! trait exposes behaviour it behaves like `zfs`/`zpool` do (errors carry the real messages).
//!
//! # Layout
//!
//! Everything lives under one root directory:
//!
//! * `ROOT/<dataset name>/` is the "mountpoint" of each dataset (`tank/a/b` is
//!   `ROOT/tank/a/b`); child datasets are subdirectories of their parent's mountpoint and are
//!   not part of the parent's data, exactly like real nested mounts.
//! * `ROOT/<dataset>/.zfs/snapshot/<name>/` holds a materialized read-only copy of every
//!   snapshot (regular files with content, mode and mtime; directories; symlinks as symlinks),
//!   so code that reads snapshots through `.zfs/snapshot` works unchanged.
//! * `ROOT/.fakezfs/state.json` holds pools, datasets, snapshots, bookmarks, holds, properties,
//!   counters and interrupted resumable receives; it is rewritten atomically (temporary file,
//!   fsync, rename) after every mutation and loaded by [`FakeZfs::open`], so a demo survives
//!   restarts. `ROOT/.fakezfs/manifests/<id>.json` records, for each snapshot, every path with
//!   the inode it had in the live filesystem, its size, mode and times: that is what lets `diff`
//!   detect renames by inode and lets incremental sends and space accounting compare snapshots.
//!   `ROOT/.fakezfs/receive/` holds the spooled records of receives in progress or interrupted.
//!
//! # Numbers
//!
//! GUIDs are unique, never 0, and deterministic for a given root path (a SplitMix64 sequence
//! seeded from the path). Each pool has a transaction-group counter that every mutation
//! advances; all snapshots made by one `create_snapshots` call share one `createtxg`.
//! Space is counted in bytes of regular files: a snapshot's `referenced` is the size of its
//! files, `written` the size of files new or changed since the previous snapshot plus 512
//! bytes of "metadata" per entry created, changed or removed (0 only when nothing changed;
//! a first snapshot's is its data), `used` the size of files found in neither neighbouring snapshot nor the
//! live filesystem. A file's data is identified by (inode, size, mtime), so a rewrite counts
//! as new data and a rename does not. `reclaimable_space` counts the data held only by the
//! listed snapshots together (like `zfs destroy -nvp`, more than the sum of their `used`).
//! Pools report `allocated` as the data of all their datasets (live and snapshot-only),
//! `free = size - allocated`, health ONLINE, fragmentation 0.
//!
//! File times come from a coarse kernel clock, so after recording a snapshot the fake waits
//! (a few milliseconds at most) until new writes get a later inode change time: any change
//! made after a snapshot is then visible in the recorded times, even a same-size rewrite.
//!
//! # Send streams
//!
//! `send` produces a private format (see [`stream`]): a `WIZFS-FAKE-STREAM 1` line, then for
//! each snapshot a BEGIN record (JSON: source, snapshot name, guid, base guid, creation),
//! length-prefixed DIRECTORY / FILE / APPEND / SYMLINK / REMOVE records (files in pieces of
//! 128 KiB) and an END record with an FNV-1a checksum. Full streams carry the whole tree,
//! incremental ones only what changed since the base snapshot or bookmark; `-I` streams carry
//! one such sub-stream per intermediate snapshot. Received snapshots keep the sender's guid and
//! creation time, and incremental receives check the base guid like OpenZFS does. Resumable
//! receives spool records and keep the complete ones when a stream breaks off; the resume
//! token encodes the snapshot, guids and byte offset. `estimate_send_size` is exact.
//!
//! # Known differences from real ZFS
//!
//! * No replication streams: `SendFlags::replicate` (`-R`) fails with
//!   [`ZfsError::InvalidRequest`]. The other send flags (`-w -p -L -c -e`) are accepted and
//!   ignored; properties are never sent.
//! * Mountpoints are fixed (`ROOT/<name>`): setting `mountpoint` is refused with
//!   `InvalidRequest`, and a dataset component named `.zfs` is refused. Datasets are always
//!   accessible; `-u` (and a partially received filesystem) only make `mounted` read `no`.
//!   `.zfs` is a real directory, visible to directory listings (real ZFS hides it by default),
//!   and creating a child dataset's mountpoint does not show in the parent's `diff`, nor in
//!   its `written` or a receive's "modified since most recent snapshot" check (the root
//!   directory's times are not compared there: OpenZFS leaves the parent untouched when a
//!   child is received with `-u`, while the fake always makes the child's directory).
//! * Only regular files, directories and symlinks are copied into snapshots and streams;
//!   fifos, sockets and devices are recorded for `diff` but not copied. Ownership, ACLs,
//!   extended attributes, hard links (copied as separate files) and symlink mtimes are not
//!   preserved. Values of native properties are stored as given, without validation; unknown
//!   native properties read as unset (`-`).
//! * On the receiving side a renamed file arrives as a removal plus a creation, so `diff`
//!   between received snapshots reports `-`/`+` where the sender reports `R`.
//! * Objects are identified by the host's inode number and birth time (ZFS: object number
//!   and generation). On a host filesystem without birth times (no `statx` btime), a reused
//!   inode number can make a new file look like a modified or renamed old one.
//!   `diff` lines are sorted by path (real ZFS lists them by object number).
//! * Space accounting counts file bytes only (no metadata, compression or block rounding).
//! * A full stream into an existing dataset needs `force_rollback` and no snapshots on the
//!   target (as in ZFS), and then replaces its files in place. An interrupted receive resumes
//!   at the start of the record that broke off (ZFS resumes at the exact block).
//! * Errors use OpenZFS 2.3 wording. Where the fake is stricter or simpler: `diff` to an older
//!   or the same snapshot is `InvalidRequest` (ZFS fails with "Not an earlier snapshot"),
//!   `abort_resumable_receive` without partial state is `NotFound`, a duplicate bookmark is
//!   `AlreadyExists` (ZFS prints "bookmark exists").

mod context;
mod datasets;
mod diff;
mod errors;
mod header;
mod properties;
mod receive;
mod snapshots;
mod state;
mod stream;
mod tree;
mod usage;

#[cfg(test)]
mod tests;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wizfs_core::{
    Bookmark, BookmarkName, Dataset, DatasetName, Hold, Pool, PoolName, Snapshot, SnapshotName,
    Timestamp, ZfsObjectName, ZfsVersion,
};

use crate::error::ZfsResult;
use crate::types::{
    DestroyOptions, DiffEntry, DiffTarget, HoldTag, Property, PropertyName, ReceiveOptions,
    ResumeToken, Scope, SendSource,
};
use crate::{SendStream, Zfs};

use context::Store;

/// A directory-backed model of ZFS; see the [module documentation](self).
pub struct FakeZfs {
    store: Store,
}

impl FakeZfs {
    /// Opens (creating if needed) a fake ZFS rooted at `root` and loads its saved state.
    pub fn open(root: impl Into<PathBuf>) -> ZfsResult<FakeZfs> {
        Ok(FakeZfs {
            store: Store::open(root.into())?,
        })
    }

    /// The directory everything lives under (canonical, absolute).
    pub fn root(&self) -> &Path {
        &self.store.layout.root
    }

    /// Creates a pool of `size_bytes` with its root dataset mounted at `ROOT/<pool>`.
    pub fn create_pool(&self, name: &PoolName, size_bytes: u64) -> ZfsResult<()> {
        let now = self.store.now();
        self.store
            .transact(|context| datasets::create_pool(context, name, size_bytes, now))
    }

    /// Replaces the clock used for `creation` of new datasets and snapshots and for holds
    /// (the default reads the system time).
    pub fn set_clock(&self, clock: Arc<dyn Fn() -> Timestamp + Send + Sync>) {
        self.store.set_clock(clock);
    }

    /// Where `dataset` is mounted, if it exists.
    pub fn mountpoint(&self, dataset: &DatasetName) -> Option<PathBuf> {
        let inner = self.store.lock_inner();
        inner
            .state
            .datasets
            .contains_key(dataset.as_str())
            .then(|| self.store.layout.mountpoint(dataset))
    }
}

impl fmt::Debug for FakeZfs {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("FakeZfs")
            .field("root", &self.store.layout.root)
            .finish_non_exhaustive()
    }
}

impl Zfs for FakeZfs {
    fn version(&self) -> ZfsResult<ZfsVersion> {
        Ok(ZfsVersion {
            userland: "zfs-fake-2.3.99".into(),
            kernel: Some("zfs-kmod-fake-2.3.99".into()),
        })
    }

    fn list_pools(&self) -> ZfsResult<Vec<Pool>> {
        self.store.inspect(datasets::list_pools)
    }

    /// Every fake pool is ONLINE on one error-free disk named `fake-<pool>`; its scrubs
    /// finish at once without finding anything.
    fn pool_status(&self) -> ZfsResult<Vec<wizfs_core::PoolStatus>> {
        let scrubs: std::collections::BTreeMap<String, Option<i64>> =
            self.store.inspect(|context| {
                Ok(context
                    .state
                    .pools
                    .iter()
                    .map(|(name, record)| (name.clone(), record.last_scrub))
                    .collect())
            })?;
        Ok(self
            .list_pools()?
            .into_iter()
            .map(|pool| wizfs_core::PoolStatus {
                scrub: scrubs
                    .get(pool.name.as_str())
                    .copied()
                    .flatten()
                    .map(|time| wizfs_core::ScrubInfo {
                        function: wizfs_core::ScanFunction::Scrub,
                        state: wizfs_core::ScanState::Finished,
                        started: Some(Timestamp(time)),
                        ended: Some(Timestamp(time)),
                        errors: 0,
                        repaired_bytes: 0,
                    }),
                name: pool.name.to_string(),
                state: pool.health.clone(),
                status: None,
                action: None,
                vdevs: vec![wizfs_core::Vdev {
                    name: format!("fake-{}", pool.name),
                    state: pool.health,
                    read_errors: 0,
                    write_errors: 0,
                    checksum_errors: 0,
                    note: None,
                    children: Vec::new(),
                }],
                capacity_percent: Some(pool.capacity_percent),
                fragmentation_percent: pool.fragmentation_percent,
                data_errors: Some(0),
            })
            .collect())
    }

    fn start_scrub(&self, pool: &wizfs_core::PoolName) -> ZfsResult<()> {
        let now = self.store.now();
        self.store.transact(|context| {
            let record = context.state.pools.get_mut(pool.as_str()).ok_or_else(|| {
                errors::not_found(pool.as_str(), format!("cannot open '{pool}': no such pool"))
            })?;
            record.last_scrub = Some(now.seconds());
            Ok(())
        })
    }

    fn list_datasets(&self, root: Option<&DatasetName>) -> ZfsResult<Vec<Dataset>> {
        self.store
            .inspect(|context| datasets::list_datasets(context, root))
    }

    fn list_snapshots(&self, dataset: &DatasetName, scope: Scope) -> ZfsResult<Vec<Snapshot>> {
        self.store
            .inspect(|context| snapshots::list_snapshots(context, dataset, scope))
    }

    fn list_snapshots_with_properties(
        &self,
        dataset: &DatasetName,
        scope: Scope,
        properties: &[PropertyName],
    ) -> ZfsResult<Vec<(Snapshot, Vec<Option<String>>)>> {
        self.store.inspect(|context| {
            let listed = snapshots::list_snapshots(context, dataset, scope)?;
            listed
                .into_iter()
                .map(|snapshot| {
                    let target = ZfsObjectName::Snapshot(snapshot.name.clone());
                    let values = properties::get_properties(context, &target, properties)?
                        .into_iter()
                        .map(|property| property.value)
                        .collect();
                    Ok((snapshot, values))
                })
                .collect()
        })
    }

    fn list_bookmarks(&self, dataset: &DatasetName) -> ZfsResult<Vec<Bookmark>> {
        self.store
            .inspect(|context| snapshots::list_bookmarks(context, dataset))
    }

    fn get_properties(
        &self,
        target: &ZfsObjectName,
        properties: &[PropertyName],
    ) -> ZfsResult<Vec<Property>> {
        self.store
            .inspect(|context| properties::get_properties(context, target, properties))
    }

    fn set_property(
        &self,
        target: &ZfsObjectName,
        property: &PropertyName,
        value: &str,
    ) -> ZfsResult<()> {
        self.store
            .transact(|context| properties::set_property(context, target, property, value))
    }

    fn create_filesystem(
        &self,
        name: &DatasetName,
        properties: &[(PropertyName, String)],
    ) -> ZfsResult<()> {
        let now = self.store.now();
        self.store
            .transact(|context| datasets::create_filesystem(context, name, properties, now))
    }

    fn destroy_filesystem(&self, name: &DatasetName, recursive: bool) -> ZfsResult<()> {
        self.store
            .transact(|context| datasets::destroy_filesystem(context, name, recursive))
    }

    fn create_snapshots(
        &self,
        snapshots: &[SnapshotName],
        recursive: bool,
        properties: &[(PropertyName, String)],
    ) -> ZfsResult<()> {
        if snapshots.is_empty() {
            return Ok(());
        }
        let now = self.store.now();
        self.store.transact(|context| {
            snapshots::create_snapshots(context, snapshots, recursive, properties, now)
        })
    }

    fn destroy_snapshots(
        &self,
        snapshots: &[SnapshotName],
        options: DestroyOptions,
    ) -> ZfsResult<()> {
        self.store
            .transact(|context| snapshots::destroy_snapshots(context, snapshots, options))
    }

    fn reclaimable_space(&self, snapshots: &[SnapshotName]) -> ZfsResult<u64> {
        self.store
            .inspect(|context| snapshots::reclaimable_space(context, snapshots))
    }

    fn hold(&self, snapshot: &SnapshotName, tag: &HoldTag, recursive: bool) -> ZfsResult<()> {
        let now = self.store.now();
        self.store
            .transact(|context| snapshots::hold(context, snapshot, tag, recursive, now))
    }

    fn release(&self, snapshot: &SnapshotName, tag: &HoldTag, recursive: bool) -> ZfsResult<()> {
        self.store
            .transact(|context| snapshots::release(context, snapshot, tag, recursive))
    }

    fn holds(&self, snapshot: &SnapshotName) -> ZfsResult<Vec<Hold>> {
        self.store
            .inspect(|context| snapshots::holds(context, snapshot))
    }

    fn create_bookmark(&self, snapshot: &SnapshotName, bookmark: &BookmarkName) -> ZfsResult<()> {
        self.store
            .transact(|context| snapshots::create_bookmark(context, snapshot, bookmark))
    }

    fn destroy_bookmark(&self, bookmark: &BookmarkName) -> ZfsResult<()> {
        self.store
            .transact(|context| snapshots::destroy_bookmark(context, bookmark))
    }

    fn diff(&self, from: &SnapshotName, to: DiffTarget<'_>) -> ZfsResult<Vec<DiffEntry>> {
        self.store.inspect(|context| diff::diff(context, from, to))
    }

    fn send(&self, source: &SendSource) -> ZfsResult<Box<dyn SendStream>> {
        let plan = self
            .store
            .inspect(|context| stream::plan_send(context, source))?;
        Ok(Box::new(stream::FakeSendStream::new(plan)))
    }

    fn estimate_send_size(&self, source: &SendSource) -> ZfsResult<u64> {
        let plan = self
            .store
            .inspect(|context| stream::plan_send(context, source))?;
        Ok(plan.length())
    }

    fn receive(
        &self,
        target: &DatasetName,
        options: &ReceiveOptions,
        stream: &mut dyn Read,
    ) -> ZfsResult<()> {
        receive::receive(&self.store, target, options, stream)
    }

    fn receive_resume_token(&self, dataset: &DatasetName) -> ZfsResult<Option<ResumeToken>> {
        self.store
            .inspect(|context| receive::resume_token(context, dataset))
    }

    fn abort_resumable_receive(&self, dataset: &DatasetName) -> ZfsResult<()> {
        self.store
            .transact(|context| receive::abort(context, dataset))
    }
}
