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
//!   and creating a child dataset's mountpoint does not show in the parent's `diff`.
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

mod datasets;
mod diff;
mod errors;
mod properties;
mod receive;
mod snapshots;
mod state;
mod stream;
mod tree;
mod usage;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use wizfs_core::{
    Bookmark, BookmarkName, Dataset, DatasetName, Hold, Pool, PoolName, Snapshot, SnapshotName,
    Timestamp, ZfsObjectName, ZfsVersion,
};

use crate::error::{ZfsError, ZfsResult};
use crate::types::{
    DestroyOptions, DiffEntry, DiffTarget, HoldTag, Property, PropertyName, ReceiveOptions,
    ResumeToken, Scope, SendSource,
};
use crate::{SendStream, Zfs};

use state::{Layout, ManifestCache, State};
use tree::Entries;

/// The clock the fake reads `creation` and hold times from.
type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// A directory-backed model of ZFS; see the [module documentation](self).
pub struct FakeZfs {
    layout: Layout,
    inner: Mutex<Inner>,
    clock: Mutex<Clock>,
}

/// Everything behind the lock: the persisted state and in-memory helpers.
struct Inner {
    state: State,
    manifests: ManifestCache,
    /// Datasets a `receive` is currently writing into (not persisted: a crash ends them).
    receiving: BTreeSet<String>,
}

/// What an operation sees while the lock is held.
struct Context<'a> {
    layout: &'a Layout,
    state: &'a mut State,
    manifests: &'a mut ManifestCache,
    receiving: &'a mut BTreeSet<String>,
    /// Files to delete once the new state is safely on disk (unreferenced manifests, spools).
    delete_after_commit: Vec<PathBuf>,
}

impl Context<'_> {
    /// The recorded entries of a snapshot or bookmark manifest.
    fn manifest(&mut self, id: u64) -> ZfsResult<Arc<Entries>> {
        self.manifests.load(self.layout, id)
    }

    /// Writes a new or changed manifest, then waits until later changes of the recorded files
    /// are bound to get different times.
    fn store_manifest(&mut self, id: u64, entries: Entries) -> ZfsResult<Arc<Entries>> {
        let latest = tree::latest_change(&entries);
        let stored = self.manifests.store(self.layout, id, entries)?;
        tree::wait_for_clock_past(&self.layout.clock_probe_file(), latest);
        Ok(stored)
    }

    /// Schedules deletion of a manifest no snapshot or bookmark refers to any more.
    fn release_manifest_if_unused(&mut self, id: u64) {
        if !self.state.manifest_in_use(id) {
            self.manifests.forget(id);
            self.delete_after_commit.push(self.layout.manifest_file(id));
        }
    }

    /// Where `dataset` is "mounted".
    fn mountpoint(&self, dataset: &DatasetName) -> PathBuf {
        self.layout.mountpoint(dataset)
    }

    /// Top-level names inside a dataset's mountpoint that are not its data: `.zfs` and the
    /// mountpoints of its child datasets.
    fn excluded_names(&self, dataset: &DatasetName) -> BTreeSet<Vec<u8>> {
        let mut names = self.state.child_components(dataset);
        names.insert(b".zfs".to_vec());
        names
    }

    /// The live entries of a dataset (its mountpoint, without `.zfs` and child mountpoints).
    fn scan_live(&self, dataset: &DatasetName) -> ZfsResult<Entries> {
        tree::scan(&self.mountpoint(dataset), &self.excluded_names(dataset))
    }
}

impl FakeZfs {
    /// Opens (creating if needed) a fake ZFS rooted at `root` and loads its saved state.
    pub fn open(root: impl Into<PathBuf>) -> ZfsResult<FakeZfs> {
        let layout = Layout::prepare(root.into())?;
        let state = state::load_state(&layout)?;
        state::remove_stale_spools(&layout, &state)?;
        Ok(FakeZfs {
            layout,
            inner: Mutex::new(Inner {
                state,
                manifests: ManifestCache::default(),
                receiving: BTreeSet::new(),
            }),
            clock: Mutex::new(Arc::new(system_clock)),
        })
    }

    /// The directory everything lives under (canonical, absolute).
    pub fn root(&self) -> &Path {
        &self.layout.root
    }

    /// Creates a pool of `size_bytes` with its root dataset mounted at `ROOT/<pool>`.
    pub fn create_pool(&self, name: &PoolName, size_bytes: u64) -> ZfsResult<()> {
        let now = self.now();
        self.transact(|context| datasets::create_pool(context, name, size_bytes, now))
    }

    /// Replaces the clock used for `creation` of new datasets and snapshots and for holds
    /// (the default reads the system time).
    pub fn set_clock(&self, clock: Arc<dyn Fn() -> Timestamp + Send + Sync>) {
        *self.clock.lock().unwrap_or_else(PoisonError::into_inner) = clock;
    }

    /// Where `dataset` is mounted, if it exists.
    pub fn mountpoint(&self, dataset: &DatasetName) -> Option<PathBuf> {
        let inner = self.lock_inner();
        inner
            .state
            .datasets
            .contains_key(dataset.as_str())
            .then(|| self.layout.mountpoint(dataset))
    }

    /// The current time according to the clock, read without holding the state lock.
    fn now(&self) -> Timestamp {
        let clock = Arc::clone(&self.clock.lock().unwrap_or_else(PoisonError::into_inner));
        clock()
    }

    fn lock_inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs a read-only operation under the lock.
    fn inspect<T>(&self, operation: impl FnOnce(&mut Context<'_>) -> ZfsResult<T>) -> ZfsResult<T> {
        let mut guard = self.lock_inner();
        let inner = &mut *guard;
        let mut context = Context {
            layout: &self.layout,
            state: &mut inner.state,
            manifests: &mut inner.manifests,
            receiving: &mut inner.receiving,
            delete_after_commit: Vec::new(),
        };
        operation(&mut context)
    }

    /// Runs a mutation on a copy of the state; on success saves the copy atomically and makes
    /// it current, on failure discards it (so a refused request changes nothing).
    fn transact<T>(
        &self,
        operation: impl FnOnce(&mut Context<'_>) -> ZfsResult<T>,
    ) -> ZfsResult<T> {
        let mut guard = self.lock_inner();
        let inner = &mut *guard;
        let mut state = inner.state.clone();
        let mut context = Context {
            layout: &self.layout,
            state: &mut state,
            manifests: &mut inner.manifests,
            receiving: &mut inner.receiving,
            delete_after_commit: Vec::new(),
        };
        let result = operation(&mut context);
        let delete_after_commit = std::mem::take(&mut context.delete_after_commit);
        let value = match result {
            Ok(value) => value,
            Err(error) => {
                // Manifests written or forgotten by the failed operation must not linger.
                inner.manifests.clear();
                return Err(error);
            }
        };
        state::save_state(&self.layout, &state)?;
        inner.state = state;
        for path in delete_after_commit {
            // Leftovers are harmless (unreferenced files), so a failed removal is ignored.
            let _ = std::fs::remove_file(path);
        }
        Ok(value)
    }
}

impl fmt::Debug for FakeZfs {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("FakeZfs")
            .field("root", &self.layout.root)
            .finish_non_exhaustive()
    }
}

/// The default clock: the system time in whole seconds.
fn system_clock() -> Timestamp {
    let seconds = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(elapsed) => i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX),
        Err(before_epoch) => {
            i64::try_from(before_epoch.duration().as_secs()).map_or(i64::MIN, |s| -s)
        }
    };
    Timestamp(seconds)
}

impl Zfs for FakeZfs {
    fn version(&self) -> ZfsResult<ZfsVersion> {
        Ok(ZfsVersion {
            userland: "zfs-fake-2.3.99".into(),
            kernel: Some("zfs-kmod-fake-2.3.99".into()),
        })
    }

    fn list_pools(&self) -> ZfsResult<Vec<Pool>> {
        self.inspect(datasets::list_pools)
    }

    /// Every fake pool is ONLINE on one error-free disk named `fake-<pool>`; its scrubs
    /// finish at once without finding anything.
    fn pool_status(&self) -> ZfsResult<Vec<wizfs_core::PoolStatus>> {
        let scrubs: std::collections::BTreeMap<String, Option<i64>> = self.inspect(|context| {
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
        let now = self.now();
        self.transact(|context| {
            let record = context.state.pools.get_mut(pool.as_str()).ok_or_else(|| {
                errors::not_found(pool.as_str(), format!("cannot open '{pool}': no such pool"))
            })?;
            record.last_scrub = Some(now.seconds());
            Ok(())
        })
    }

    fn list_datasets(&self, root: Option<&DatasetName>) -> ZfsResult<Vec<Dataset>> {
        self.inspect(|context| datasets::list_datasets(context, root))
    }

    fn list_snapshots(&self, dataset: &DatasetName, scope: Scope) -> ZfsResult<Vec<Snapshot>> {
        self.inspect(|context| snapshots::list_snapshots(context, dataset, scope))
    }

    fn list_snapshots_with_properties(
        &self,
        dataset: &DatasetName,
        scope: Scope,
        properties: &[PropertyName],
    ) -> ZfsResult<Vec<(Snapshot, Vec<Option<String>>)>> {
        self.inspect(|context| {
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
        self.inspect(|context| snapshots::list_bookmarks(context, dataset))
    }

    fn get_properties(
        &self,
        target: &ZfsObjectName,
        properties: &[PropertyName],
    ) -> ZfsResult<Vec<Property>> {
        self.inspect(|context| properties::get_properties(context, target, properties))
    }

    fn set_property(
        &self,
        target: &ZfsObjectName,
        property: &PropertyName,
        value: &str,
    ) -> ZfsResult<()> {
        self.transact(|context| properties::set_property(context, target, property, value))
    }

    fn create_filesystem(
        &self,
        name: &DatasetName,
        properties: &[(PropertyName, String)],
    ) -> ZfsResult<()> {
        let now = self.now();
        self.transact(|context| datasets::create_filesystem(context, name, properties, now))
    }

    fn destroy_filesystem(&self, name: &DatasetName, recursive: bool) -> ZfsResult<()> {
        self.transact(|context| datasets::destroy_filesystem(context, name, recursive))
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
        let now = self.now();
        self.transact(|context| {
            snapshots::create_snapshots(context, snapshots, recursive, properties, now)
        })
    }

    fn destroy_snapshots(
        &self,
        snapshots: &[SnapshotName],
        options: DestroyOptions,
    ) -> ZfsResult<()> {
        self.transact(|context| snapshots::destroy_snapshots(context, snapshots, options))
    }

    fn reclaimable_space(&self, snapshots: &[SnapshotName]) -> ZfsResult<u64> {
        self.inspect(|context| snapshots::reclaimable_space(context, snapshots))
    }

    fn hold(&self, snapshot: &SnapshotName, tag: &HoldTag, recursive: bool) -> ZfsResult<()> {
        let now = self.now();
        self.transact(|context| snapshots::hold(context, snapshot, tag, recursive, now))
    }

    fn release(&self, snapshot: &SnapshotName, tag: &HoldTag, recursive: bool) -> ZfsResult<()> {
        self.transact(|context| snapshots::release(context, snapshot, tag, recursive))
    }

    fn holds(&self, snapshot: &SnapshotName) -> ZfsResult<Vec<Hold>> {
        self.inspect(|context| snapshots::holds(context, snapshot))
    }

    fn create_bookmark(&self, snapshot: &SnapshotName, bookmark: &BookmarkName) -> ZfsResult<()> {
        self.transact(|context| snapshots::create_bookmark(context, snapshot, bookmark))
    }

    fn destroy_bookmark(&self, bookmark: &BookmarkName) -> ZfsResult<()> {
        self.transact(|context| snapshots::destroy_bookmark(context, bookmark))
    }

    fn diff(&self, from: &SnapshotName, to: DiffTarget<'_>) -> ZfsResult<Vec<DiffEntry>> {
        self.inspect(|context| diff::diff(context, from, to))
    }

    fn send(&self, source: &SendSource) -> ZfsResult<Box<dyn SendStream>> {
        let plan = self.inspect(|context| stream::plan_send(context, source))?;
        Ok(Box::new(stream::FakeSendStream::new(plan)))
    }

    fn estimate_send_size(&self, source: &SendSource) -> ZfsResult<u64> {
        let plan = self.inspect(|context| stream::plan_send(context, source))?;
        Ok(plan.length())
    }

    fn receive(
        &self,
        target: &DatasetName,
        options: &ReceiveOptions,
        stream: &mut dyn Read,
    ) -> ZfsResult<()> {
        receive::receive(self, target, options, stream)
    }

    fn receive_resume_token(&self, dataset: &DatasetName) -> ZfsResult<Option<ResumeToken>> {
        self.inspect(|context| receive::resume_token(context, dataset))
    }

    fn abort_resumable_receive(&self, dataset: &DatasetName) -> ZfsResult<()> {
        self.transact(|context| receive::abort(context, dataset))
    }
}

/// Shorthand used by the submodules for "this went wrong in the fake's own files".
pub(super) fn storage_error(path: &Path, source: std::io::Error) -> ZfsError {
    ZfsError::FakeStorage {
        path: path.display().to_string(),
        source,
    }
}
