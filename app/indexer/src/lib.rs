//! `wizfs-indexer`: keeps the search index (`wizfs-index`) in step with ZFS.
//!
//! For each dataset it reconciles the snapshots ZFS has with the ones the index knows (by
//! guid, so renames are harmless), whoever created them:
//! 1. the live layer is forgotten (it is always re-derived last);
//! 2. destroyed snapshots are forgotten, one at a time, with their neighbours
//!    (`wizfs_core::versioning::forget`);
//! 3. new snapshots are indexed in creation order: the first of a dataset by walking it in
//!    full, every later one by comparing it with the previous one (`advance`) — from the
//!    object records of the incremental send stream between them ([`objects`]), from
//!    `zfs diff`, or by a metadata walk, whichever [`choose_method`] picks — so the work
//!    grows with changes, not with snapshots;
//! 4. the live file system is indexed as the pseudo-snapshot `LIVE_TXG` from `zfs diff` of
//!    the newest snapshot against it (or a walk).
//!
//! Every step is one atomic catalogue change (`IndexStore::apply_deferred`): a crash (even
//! SIGKILL) leaves the index before or after a whole snapshot, and the next run continues
//! from there; the search documents follow in one commit at the end of the run.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wizfs_core::versioning::{self, LIVE_TXG, Observed, StoredVersion, VersionOp};
use wizfs_core::{Dataset, DatasetKind, DatasetName, EntryKind, RelativePath, SnapshotName};
use wizfs_index::{FingerprintUpdate, IndexError, IndexStore, SnapshotChange, SnapshotIdentity};
use wizfs_restore::SafeRoot;
use wizfs_zfs::objects::{ObjectScan, StreamError};
use wizfs_zfs::{
    DiffChange, DiffTarget, IncrementalBase, Scope, SendFlags, SendSource, Zfs, ZfsError,
};

mod error;
mod objects;
mod reading;

pub use error::{IndexerError, IndexerResult};
use objects::{Decoder, FingerprintCache, Layouts, LazyRoot, ObjectTree};
use reading::{is_unreachable, present_or_absent, tree_below};

/// What one dataset's reconciliation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub dataset: String,
    /// Snapshots indexed, oldest first.
    pub indexed: Vec<String>,
    /// Snapshots forgotten because they were destroyed.
    pub forgotten: Vec<String>,
    /// Full walks: the first snapshot of a dataset (or live without snapshots), and
    /// comparisons by [`Method::Walk`].
    pub full_walks: usize,
    /// Entries visited by those walks.
    pub walked_entries: usize,
    /// Comparisons by `zfs diff`.
    pub diffs: usize,
    /// Comparisons by the object records of a send stream.
    pub object_comparisons: usize,
    /// Objects the streams of those carried (every object of each dnode block written).
    pub streamed_objects: usize,
    /// Objects found changed among them (after fingerprints ruled out their neighbours).
    pub changed_objects: usize,
    /// Paths whose new metadata came from their object's bonus buffer in the stream
    /// (a layout confirmed by a stat) instead of a stat of the snapshot.
    pub decoded_objects: usize,
    /// Why a comparison by objects gave way to another method, if it did.
    pub fallbacks: Vec<String>,
    /// Snapshots that wrote nothing since the previous one, indexed without reading them.
    pub unchanged: usize,
    /// Paths observed through `zfs diff` or object comparisons (after expanding renamed
    /// directories).
    pub observed_paths: usize,
    /// Version operations applied.
    pub operations: usize,
    /// Where the time went, for benchmarks and the debug log.
    pub timings: StageTimings,
}

/// Wall-clock time per stage of a reconciliation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StageTimings {
    /// Listing datasets and snapshots.
    pub list: Duration,
    /// Running `zfs diff`, or reading a send stream's object records.
    pub diff: Duration,
    /// Opening (mounting) and releasing snapshot trees.
    pub mount: Duration,
    /// Full walks, and stat-ing what `zfs diff` reported.
    pub read: Duration,
    /// Computing version operations (including catalogue look-ups).
    pub plan: Duration,
    /// Catalogue transactions.
    pub apply: Duration,
    /// The search-index commit.
    pub flush: Duration,
}

impl StageTimings {
    /// The time of all stages together.
    pub fn total(&self) -> Duration {
        self.list + self.diff + self.mount + self.read + self.plan + self.apply + self.flush
    }
}

impl std::fmt::Display for StageTimings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stages = [
            ("list", self.list),
            ("diff", self.diff),
            ("mount", self.mount),
            ("read", self.read),
            ("plan", self.plan),
            ("apply", self.apply),
            ("flush", self.flush),
        ];
        for (position, (name, duration)) in stages.iter().enumerate() {
            let separator = if position == 0 { "" } else { ", " };
            write!(
                formatter,
                "{separator}{name} {:.2} s",
                duration.as_secs_f64()
            )?;
        }
        Ok(())
    }
}

/// Adds the time `work` takes to `total`.
fn timed<T>(total: &mut Duration, work: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let result = work();
    *total += started.elapsed();
    result
}

impl SyncReport {
    /// Counts one comparison of a later snapshot (or live) and what it observed.
    fn count(&mut self, method: Method, observed: &[Observed], walked_entries: usize) {
        match method {
            Method::Unchanged => self.unchanged += 1,
            Method::Diff => {
                self.diffs += 1;
                self.observed_paths += observed.len();
            }
            Method::Objects => {
                self.object_comparisons += 1;
                self.observed_paths += observed.len();
            }
            Method::Walk => {
                self.full_walks += 1;
                self.walked_entries += walked_entries;
            }
        }
    }
}

/// A progress message for long runs (the CLI prints them, the console shows them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    pub dataset: String,
    pub step: String,
    pub done: usize,
    pub total: usize,
}

/// How a snapshot is compared with the previous indexed one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// The snapshot wrote nothing since the previous one (`written` = 0): nothing to read.
    Unchanged,
    /// `zfs diff` lists the changed paths, each is stat-ed in the new snapshot. Its cost
    /// grows with the objects that share a metadata block with a changed one (ZFS reports
    /// changes per dnode block, and `zfs diff` resolves each candidate in both snapshots).
    Diff,
    /// A full metadata walk of the new snapshot compared with the open versions
    /// (`versioning::compare_walk`). Its cost grows with the size of the dataset.
    Walk,
    /// The object records of `zfs send -i previous new` (data skipped), their fingerprints
    /// compared with the stored ones, then a stat of each changed object's paths and a
    /// listing of each changed directory ([`objects`]). Its cost grows with the objects
    /// sharing a dnode block with a changed one (cheap each: no lookup) and with the data
    /// written, which the stream carries. Snapshots only (live has no stream).
    Objects,
}

/// What the snapshot (or live) to compare is, for [`choose_method`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// A snapshot whose `written` is 0: it holds exactly what the previous one did.
    Unchanged,
    /// A snapshot that wrote this many bytes since the previous one.
    Written(u64),
    /// The live file system.
    Live,
}

/// Which comparison the indexer uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MethodPolicy {
    /// Per snapshot, whichever measured cheaper for the dataset (see [`choose_method`]).
    #[default]
    Adaptive,
    /// Always `zfs diff` (except unchanged snapshots). The fake's only faithful method: its
    /// snapshot trees are copies whose inode numbers differ from the live ones.
    Diff,
    /// Always a metadata walk (except unchanged snapshots).
    Walk,
    /// Always object comparisons for snapshots (except unchanged ones), a walk for live.
    /// Failures are errors, not fallbacks.
    Objects,
}

/// What the indexer measured for one dataset: the last cost of each method.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MethodCosts {
    pub walk: Option<Duration>,
    pub diff: Option<Duration>,
    /// The last object comparison's cost and the bytes its snapshot had written.
    pub objects: Option<(Duration, u64)>,
    /// An object comparison failed (no send stream this indexer can read): not retried.
    pub objects_failed: bool,
    /// Snapshots compared by walking since `zfs diff` was last tried.
    pub walks_since_diff: u32,
    /// Snapshots compared by walking since objects were last tried.
    pub walks_since_objects: u32,
}

/// After this many walks in a row, objects are tried again: the measured cost may have been
/// a first comparison without stored fingerprints, or a snapshot that wrote much.
pub const OBJECTS_RETRY_AFTER_WALKS: u32 = 8;

/// After at least this many walks in a row, `zfs diff` is tried again (changes may have
/// become small) ...
pub const DIFF_RETRY_AFTER_WALKS: u32 = 8;

/// ... and after at least this many walks per walk-equivalent the last diff cost, so that
/// retrying costs at most a quarter of the time spent walking.
pub const DIFF_RETRY_FACTOR: u32 = 4;

/// Walks before `zfs diff` is retried, given the last costs of both.
pub fn walks_before_diff_retry(diff: Duration, walk: Duration) -> u32 {
    let ratio = diff.as_secs_f64() / walk.as_secs_f64().max(1e-6);
    let scaled = (ratio.ceil() * f64::from(DIFF_RETRY_FACTOR)).min(1024.0) as u32;
    scaled.max(DIFF_RETRY_AFTER_WALKS)
}

/// A diff slower than this with no walk measured yet makes the next comparison a walk, so
/// that both costs are known.
pub const DIFF_SLOW_WITHOUT_WALK: Duration = Duration::from_secs(1);

/// An object comparison's cost is scaled by the data a snapshot wrote (the stream carries
/// it) relative to what the measured one wrote, but never below this much.
pub const OBJECTS_SCALE_FLOOR: u64 = 256 << 20;

/// The expected cost of comparing by objects a snapshot that wrote `written` bytes.
pub fn objects_estimate(measured: (Duration, u64), written: u64) -> Duration {
    let (cost, measured_bytes) = measured;
    let scale = written as f64 / measured_bytes.max(OBJECTS_SCALE_FLOOR) as f64;
    cost.mul_f64(scale.max(1.0))
}

/// The pure choice of comparison for one snapshot (or live). Adaptively: objects for a
/// snapshot unless they failed before or are expected to cost more than a walk (the stream
/// carries the data a snapshot wrote) — retried after [`OBJECTS_RETRY_AFTER_WALKS`] walks;
/// otherwise, and for live, whichever of `zfs diff` and a walk measured cheaper, retrying a
/// losing diff now and then.
pub fn choose_method(policy: MethodPolicy, change: Change, costs: &MethodCosts) -> Method {
    let written = match change {
        Change::Unchanged => return Method::Unchanged,
        Change::Written(bytes) => Some(bytes),
        Change::Live => None,
    };
    match policy {
        MethodPolicy::Diff => Method::Diff,
        MethodPolicy::Walk => Method::Walk,
        MethodPolicy::Objects if written.is_some() => Method::Objects,
        MethodPolicy::Objects => Method::Walk,
        MethodPolicy::Adaptive
            if written.is_some_and(|written| {
                !costs.objects_failed
                    && match (costs.objects, costs.walk) {
                        (Some(measured), Some(walk)) => {
                            objects_estimate(measured, written) <= walk
                                || costs.walks_since_objects >= OBJECTS_RETRY_AFTER_WALKS
                        }
                        _ => true,
                    }
            }) =>
        {
            Method::Objects
        }
        MethodPolicy::Adaptive => match (costs.diff, costs.walk) {
            (None, _) => Method::Diff,
            (Some(diff), None) if diff > DIFF_SLOW_WITHOUT_WALK => Method::Walk,
            (Some(_), None) => Method::Diff,
            (Some(diff), Some(walk)) if diff <= walk => Method::Diff,
            (Some(diff), Some(walk))
                if costs.walks_since_diff >= walks_before_diff_retry(diff, walk) =>
            {
                Method::Diff
            }
            (Some(_), Some(_)) => Method::Walk,
        },
    }
}

impl MethodCosts {
    /// Records what one comparison cost.
    pub fn record(&mut self, method: Method, cost: Duration) {
        match method {
            // Recorded with the bytes the snapshot wrote, by the comparison itself.
            Method::Unchanged | Method::Objects => {}
            Method::Diff => {
                self.diff = Some(cost);
                self.walks_since_diff = 0;
            }
            Method::Walk => {
                self.walk = Some(cost);
                self.walks_since_diff += 1;
                self.walks_since_objects += 1;
            }
        }
    }
}

/// Reconciles datasets with the index.
#[derive(Clone)]
pub struct Indexer {
    store: Arc<IndexStore>,
    zfs: Arc<dyn Zfs>,
    policy: MethodPolicy,
    /// Measured costs per dataset guid (this indexer's own memory; relearnt after a restart).
    costs: Arc<Mutex<HashMap<u64, MethodCosts>>>,
    /// Per dataset guid, which bonus-buffer layouts a stat confirmed or contradicted
    /// (`objects::Decoder`; this indexer's own memory, checked again after a restart).
    layouts: Arc<Mutex<HashMap<u64, objects::Layouts>>>,
    /// One synchronisation at a time across the clones of this indexer (the daemon's
    /// schedule, its snapshot policies and snapshots taken from the console all sync), so
    /// two never index the same new snapshot.
    syncing: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Indexer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Indexer")
            .field("zfs", &self.zfs)
            .finish_non_exhaustive()
    }
}

impl Indexer {
    /// Whether ZFS still lists `snapshot` (true when it cannot tell): a snapshot destroyed
    /// while it is being indexed fails at once instead of after the mount wait.
    fn still_exists(&self, snapshot: &wizfs_core::SnapshotName) -> bool {
        self.zfs
            .list_snapshots(snapshot.dataset(), wizfs_zfs::Scope::Dataset)
            .map_or(true, |listed| {
                listed.iter().any(|found| &found.name == snapshot)
            })
    }

    pub fn new(store: Arc<IndexStore>, zfs: Arc<dyn Zfs>) -> Self {
        Self::with_policy(store, zfs, MethodPolicy::default())
    }

    /// An indexer comparing snapshots by `policy`.
    pub fn with_policy(store: Arc<IndexStore>, zfs: Arc<dyn Zfs>, policy: MethodPolicy) -> Self {
        Self {
            store,
            zfs,
            policy,
            costs: Arc::default(),
            layouts: Arc::default(),
            syncing: Arc::default(),
        }
    }

    fn one_at_a_time(&self) -> std::sync::MutexGuard<'_, ()> {
        self.syncing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn store(&self) -> &Arc<IndexStore> {
        &self.store
    }

    /// Reconciles every mounted filesystem that `include` accepts.
    pub fn sync_all(
        &self,
        include: &dyn Fn(&DatasetName) -> bool,
        progress: &mut dyn FnMut(Progress),
    ) -> IndexerResult<Vec<SyncReport>> {
        let _one_at_a_time = self.one_at_a_time();
        let datasets = self.zfs.list_datasets(None)?;
        let mut reports = Vec::new();
        for dataset in datasets
            .iter()
            .filter(|dataset| dataset.kind == DatasetKind::Filesystem)
        {
            if !dataset.mounted || dataset.mountpoint.is_none() || !include(&dataset.name) {
                continue;
            }
            reports.push(self.sync_one(dataset, progress)?);
        }
        Ok(reports)
    }

    /// Reconciles one dataset: forget live, forget destroyed snapshots, index new ones,
    /// index live.
    pub fn sync_dataset(
        &self,
        dataset: &Dataset,
        progress: &mut dyn FnMut(Progress),
    ) -> IndexerResult<SyncReport> {
        let _one_at_a_time = self.one_at_a_time();
        self.sync_one(dataset, progress)
    }

    fn sync_one(
        &self,
        dataset: &Dataset,
        progress: &mut dyn FnMut(Progress),
    ) -> IndexerResult<SyncReport> {
        let mountpoint = match (&dataset.mountpoint, dataset.mounted) {
            (Some(mountpoint), true) => mountpoint.clone(),
            _ => return Err(IndexerError::NotMounted(dataset.name.clone())),
        };
        let guid = dataset.guid;
        let mut report = SyncReport {
            dataset: dataset.name.to_string(),
            ..SyncReport::default()
        };
        // Child datasets are indexed on their own; their mountpoints inside this one are kept
        // as entries but nothing below them (on ZFS they are other mounts anyway).
        let mut timings = StageTimings::default();
        let children: Vec<RelativePath> = timed(&mut timings.list, || {
            self.zfs.list_datasets(Some(&dataset.name))
        })?
        .into_iter()
        .filter(|child| child.name != dataset.name)
        .filter_map(|child| child.mountpoint)
        .filter_map(|child_mountpoint| relative_to(&mountpoint, &child_mountpoint).ok())
        .filter(|relative| !relative.is_root())
        .collect();
        let outside_children = |path: &RelativePath| {
            !children
                .iter()
                .any(|child| path != child && path.starts_with(child))
        };
        self.store.register_dataset(guid, &dataset.name)?;
        // Each snapshot with its objset id (its `.zfs/snapshot` entry's inode number gives it
        // away): recorded below for the snapshots indexed from this very listing, it lets the
        // CLI tell without `zfs list` that the index is current (`CatalogueReader`).
        let objsetid = wizfs_zfs::PropertyName::new("objsetid").map_err(ZfsError::from)?;
        // An OpenZFS that refuses the column (older releases kept `objsetid` hidden) still
        // gets its snapshots indexed, without identities: the CLI then takes `zfs list`.
        let listed = timed(&mut timings.list, || {
            self.zfs
                .list_snapshots_with_properties(
                    &dataset.name,
                    Scope::Dataset,
                    std::slice::from_ref(&objsetid),
                )
                .or_else(|_| {
                    let snapshots = self.zfs.list_snapshots(&dataset.name, Scope::Dataset)?;
                    Ok::<_, ZfsError>(
                        snapshots
                            .into_iter()
                            .map(|snapshot| (snapshot, vec![None]))
                            .collect(),
                    )
                })
        })?;
        let identities: Vec<(u64, SnapshotIdentity)> = listed
            .iter()
            .filter_map(|(snapshot, values)| {
                let objsetid = values.first()?.as_deref()?.parse().ok()?;
                Some((
                    snapshot.guid,
                    SnapshotIdentity {
                        objsetid,
                        creation: snapshot.creation.0,
                    },
                ))
            })
            .collect();
        let snapshots: Vec<wizfs_core::Snapshot> =
            listed.into_iter().map(|(snapshot, _)| snapshot).collect();

        // 1. The live layer is re-derived at the end of every run.
        timed(&mut timings.apply, || self.forget_live(guid, &mut report))?;

        // 2. Destroyed snapshots, and any snapshot that would break creation order.
        let existing: HashSet<u64> = snapshots.iter().map(|snapshot| snapshot.guid).collect();
        let newest_known = self
            .store
            .indexed_snapshots(guid)?
            .last()
            .map(|snapshot| snapshot.createtxg);
        let out_of_order = snapshots.iter().any(|snapshot| {
            newest_known.is_some_and(|newest| snapshot.createtxg < newest)
                && !self.is_indexed(guid, snapshot.guid).unwrap_or(true)
        });
        loop {
            let indexed = self.store.indexed_snapshots(guid)?;
            let Some(position) = (if out_of_order {
                indexed.len().checked_sub(1)
            } else {
                indexed
                    .iter()
                    .position(|snapshot| !existing.contains(&snapshot.guid))
            }) else {
                break;
            };
            let destroyed = &indexed[position];
            let previous = position
                .checked_sub(1)
                .map(|index| indexed[index].createtxg);
            let next = indexed.get(position + 1).map(|snapshot| snapshot.createtxg);
            let mut txgs = vec![destroyed.createtxg];
            txgs.extend(next);
            let touching = self.store.versions_touching(guid, &txgs)?;
            let operations = versioning::forget(destroyed.createtxg, previous, next, &touching);
            report.operations += operations.len();
            progress(Progress {
                dataset: report.dataset.clone(),
                step: format!("forgetting @{}", destroyed.name),
                done: 0,
                total: 1,
            });
            timed(&mut timings.apply, || {
                self.store.apply_deferred(
                    guid,
                    SnapshotChange::Forgotten {
                        createtxg: destroyed.createtxg,
                    },
                    &operations,
                )
            })?;
            report.forgotten.push(destroyed.name.clone());
        }

        // 3. New snapshots, oldest first.
        let newest_txg = self
            .store
            .indexed_snapshots(guid)?
            .last()
            .map(|snapshot| snapshot.createtxg);
        let new: Vec<_> = snapshots
            .iter()
            .filter(|snapshot| newest_txg.is_none_or(|newest| snapshot.createtxg > newest))
            .collect();
        let newest_indexed = self.store.indexed_snapshots(guid)?.last().cloned();
        let mut previous: Option<(SnapshotName, u64)> = newest_indexed
            .map(|snapshot| {
                dataset
                    .name
                    .snapshot(&snapshot.name)
                    .map(|name| (name, snapshot.createtxg))
            })
            .transpose()
            .map_err(|error| IndexerError::Zfs(ZfsError::InvalidName(error)))?;
        // The previous snapshot's paths by object, for object comparisons (built on first
        // use, followed along, dropped when another method compares a snapshot).
        let mut tree: Option<ObjectTree> = None;
        let mut fingerprints = FingerprintCache::default();
        // The send streams of the next snapshots, read while this one is compared, and the
        // first position no stream was started for yet.
        let mut ahead: VecDeque<ScanAhead> = VecDeque::new();
        let mut started_up_to = 0;
        // The fingerprints an object comparison moves to its snapshot, stored with it.
        let mut fingerprint_update: Option<FingerprintUpdate> = None;
        for (position, snapshot) in new.iter().enumerate() {
            progress(Progress {
                dataset: report.dataset.clone(),
                step: format!("indexing @{}", snapshot.name.short_name()),
                done: position,
                total: new.len(),
            });
            let operations = match &previous {
                None => {
                    let root = timed(&mut timings.mount, || {
                        SafeRoot::open_snapshot_checked(
                            &mountpoint,
                            snapshot.name.short_name(),
                            &|| self.still_exists(&snapshot.name),
                        )
                    })?;
                    let walked = self.walk_and_measure(guid, &root, &mut timings);
                    timed(&mut timings.mount, || root.forget_snapshot_mount());
                    let walked: Vec<_> = walked?
                        .into_iter()
                        .filter(|(path, _)| outside_children(path))
                        .collect();
                    report.full_walks += 1;
                    report.walked_entries += walked.len();
                    timed(&mut timings.plan, || {
                        versioning::initial(&walked, snapshot.createtxg)
                    })
                }
                Some((from, from_txg)) => {
                    let change = match snapshot.written {
                        0 => Change::Unchanged,
                        written => Change::Written(written),
                    };
                    let mut method = self.method_for(guid, change);
                    let (observed, walked_entries) = if method == Method::Unchanged {
                        // The same objects as the previous snapshot: its fingerprints hold.
                        let update = FingerprintUpdate {
                            base: *from_txg,
                            as_of: snapshot.createtxg,
                            ..FingerprintUpdate::default()
                        };
                        fingerprints.advance(&update);
                        fingerprint_update = Some(update);
                        (Vec::new(), 0)
                    } else {
                        let mounting = std::cell::Cell::new(Duration::ZERO);
                        let open_snapshot = || -> IndexerResult<SafeRoot> {
                            let started = Instant::now();
                            let opened = SafeRoot::open_snapshot_checked(
                                &mountpoint,
                                snapshot.name.short_name(),
                                &|| self.still_exists(&snapshot.name),
                            );
                            mounting.set(mounting.get() + started.elapsed());
                            Ok(opened?)
                        };
                        let root = LazyRoot::new(&open_snapshot);
                        let mut by_objects = None;
                        if method == Method::Objects {
                            // Scans for snapshots compared another way are left to finish.
                            while ahead.front().is_some_and(|scan| scan.position < position) {
                                ahead.pop_front();
                            }
                            let prefetched = ahead
                                .front()
                                .is_some_and(|scan| scan.position == position)
                                .then(|| ahead.pop_front())
                                .flatten();
                            let last = (position + SCANS_AHEAD).min(new.len() - 1);
                            for later in (position + 1).max(started_up_to)..=last {
                                if new[later].written > 0 {
                                    ahead.push_back(ScanAhead::start(
                                        self.zfs.clone(),
                                        new[later - 1].name.clone(),
                                        new[later].name.clone(),
                                        later,
                                    ));
                                }
                                started_up_to = later + 1;
                            }
                            let compared = self.compare_objects(
                                guid,
                                (from, *from_txg),
                                prefetched,
                                snapshot,
                                &root,
                                &mountpoint,
                                &outside_children,
                                &mut tree,
                                &mut fingerprints,
                                &mut report,
                                &mut timings,
                            );
                            match compared {
                                Err(error) if self.policy == MethodPolicy::Adaptive => {
                                    // A stream this machine cannot read will not become
                                    // readable: objects are off for the dataset. Any other
                                    // failure (of `zfs send`, say) costs this snapshot only.
                                    if matches!(
                                        error,
                                        IndexerError::Stream {
                                            source: StreamError::Malformed(_),
                                            ..
                                        }
                                    ) {
                                        self.record_objects_failure(guid);
                                    }
                                    report
                                        .fallbacks
                                        .push(format!("@{}: {error}", snapshot.name.short_name()));
                                    method = self.method_without_objects(guid);
                                }
                                compared => {
                                    by_objects = Some(compared.map(|(found, update)| {
                                        fingerprint_update = Some(update);
                                        (found, 0)
                                    }))
                                }
                            }
                        }
                        let observed = by_objects.unwrap_or_else(|| {
                            tree = None;
                            self.compare(
                                method,
                                guid,
                                from,
                                DiffTarget::Snapshot(&snapshot.name),
                                root.get()?,
                                &mountpoint,
                                &outside_children,
                                &mut timings,
                            )
                        });
                        if let Some(root) = root.into_opened() {
                            timed(&mut timings.mount, || root.forget_snapshot_mount());
                        }
                        timings.mount += mounting.get();
                        observed?
                    };
                    report.count(method, &observed, walked_entries);
                    timed(&mut timings.plan, || {
                        self.advance(guid, &observed, snapshot.createtxg)
                    })?
                }
            };
            report.operations += operations.len();
            let change = SnapshotChange::Indexed {
                guid: snapshot.guid,
                createtxg: snapshot.createtxg,
                name: snapshot.name.short_name().to_owned(),
            };
            timed(&mut timings.apply, || match fingerprint_update.take() {
                Some(update) => {
                    self.store
                        .apply_deferred_with_fingerprints(guid, change, &operations, &update)
                }
                None => self.store.apply_deferred(guid, change, &operations),
            })?;
            report.indexed.push(snapshot.name.short_name().to_owned());
            previous = Some((snapshot.name.clone(), snapshot.createtxg));
        }
        // Also for snapshots indexed before identities were recorded.
        timed(&mut timings.apply, || {
            self.store.record_snapshot_identities(guid, &identities)
        })?;

        // 4. The live file system (its own `written` is not looked up: one process more than
        // it would save).
        progress(Progress {
            dataset: report.dataset.clone(),
            step: "indexing live".into(),
            done: new.len(),
            total: new.len(),
        });
        let live = SafeRoot::open_live(&mountpoint)?;
        let operations = match &previous {
            None => {
                let walked: Vec<_> = self
                    .walk_and_measure(guid, &live, &mut timings)?
                    .into_iter()
                    .filter(|(path, _)| outside_children(path))
                    .collect();
                report.full_walks += 1;
                report.walked_entries += walked.len();
                timed(&mut timings.plan, || versioning::initial(&walked, LIVE_TXG))
            }
            Some((from, _)) => {
                let method = self.method_for(guid, Change::Live);
                let (observed, walked_entries) = self.compare(
                    method,
                    guid,
                    from,
                    DiffTarget::Live,
                    &live,
                    &mountpoint,
                    &outside_children,
                    &mut timings,
                )?;
                report.count(method, &observed, walked_entries);
                timed(&mut timings.plan, || {
                    self.advance(guid, &observed, LIVE_TXG)
                })?
            }
        };
        report.operations += operations.len();
        timed(&mut timings.apply, || {
            self.store
                .apply_deferred(guid, SnapshotChange::None, &operations)
        })?;
        // One search-index commit for the whole run (each snapshot above is already atomic in
        // the catalogue; a crash before this point is caught up when the index next opens).
        timed(&mut timings.flush, || self.store.flush())?;
        report.timings = timings;
        Ok(report)
    }

    /// The comparison for the next snapshot of dataset `guid` under this indexer's policy.
    fn method_for(&self, guid: u64, change: Change) -> Method {
        let costs = self.costs_of(guid);
        choose_method(self.policy, change, &costs)
    }

    /// The comparison for a snapshot that cannot be compared by objects: the choice between
    /// diff and walk that live gets.
    fn method_without_objects(&self, guid: u64) -> Method {
        self.method_for(guid, Change::Live)
    }

    /// What this indexer measured for dataset `guid` so far.
    pub fn costs_of(&self, guid: u64) -> MethodCosts {
        self.costs
            .lock()
            .map(|costs| costs.get(&guid).copied().unwrap_or_default())
            .unwrap_or_default()
    }

    fn record_cost(&self, guid: u64, method: Method, cost: Duration) {
        self.update_costs(guid, |costs| costs.record(method, cost));
    }

    fn layouts_of(&self, guid: u64) -> objects::Layouts {
        self.layouts
            .lock()
            .map(|layouts| layouts.get(&guid).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    fn set_layouts(&self, guid: u64, checked: objects::Layouts) {
        if let Ok(mut layouts) = self.layouts.lock() {
            layouts.insert(guid, checked);
        }
    }

    fn record_objects_failure(&self, guid: u64) {
        self.update_costs(guid, |costs| costs.objects_failed = true);
    }

    fn update_costs(&self, guid: u64, update: impl FnOnce(&mut MethodCosts)) {
        if let Ok(mut costs) = self.costs.lock() {
            update(costs.entry(guid).or_default());
        }
    }

    /// Observations of `snapshot` against the newest indexed snapshot `from` (name,
    /// createtxg) by object comparison ([`objects`]); `tree` is built from the catalogue if
    /// absent, and follows the observations. The stored fingerprints move to `snapshot`.
    #[allow(clippy::too_many_arguments)]
    fn compare_objects(
        &self,
        guid: u64,
        (from, from_txg): (&SnapshotName, u64),
        prefetched: Option<ScanAhead>,
        snapshot: &wizfs_core::Snapshot,
        root: &LazyRoot,
        mountpoint: &Path,
        outside_children: &dyn Fn(&RelativePath) -> bool,
        tree: &mut Option<ObjectTree>,
        fingerprints: &mut FingerprintCache,
        report: &mut SyncReport,
        timings: &mut StageTimings,
    ) -> IndexerResult<(Vec<Observed>, FingerprintUpdate)> {
        let started = Instant::now();
        let scan = timed(&mut timings.diff, || match prefetched {
            Some(ahead) => ahead.finish(),
            None => scan_objects(self.zfs.as_ref(), from, &snapshot.name),
        })?;
        let tree = match tree {
            Some(tree) => tree,
            None => {
                let open = timed(&mut timings.plan, || {
                    self.store.open_below(guid, &RelativePath::root())
                })?;
                // A snapshot's root reports a control-directory inode number; the dataset's
                // root object is what the mounted file system reports.
                let root_object = SafeRoot::open_live(mountpoint)?
                    .stat(&RelativePath::root())?
                    .ok_or_else(|| IndexerError::NotMounted(snapshot.name.dataset().clone()))?
                    .inode;
                tree.insert(ObjectTree::new(&open, root_object))
            }
        };
        let numbers: Vec<u64> = scan.objects.iter().map(|(object, _)| *object).collect();
        let stored = timed(&mut timings.plan, || {
            fingerprints.lookup(from_txg, &numbers, |missing| {
                Ok(self.store.object_fingerprints(guid, from_txg, missing)?)
            })
        })?;
        let changed = objects::changed_objects(&scan, &stored, tree);
        report.streamed_objects += scan.objects.len();
        report.changed_objects += changed.len();
        let mut layouts = self.layouts_of(guid);
        let observed = timed(&mut timings.read, || -> IndexerResult<_> {
            let mut decoder = Decoder::new(&scan.attributes, &mut layouts);
            let observed = objects::observe(tree, &changed, root, &mut decoder)?;
            if !decoder.contradicted {
                report.decoded_objects += decoder.decoded;
                return Ok(observed);
            }
            // A layout trusted so far was contradicted: nothing decoded here counts.
            let mut layouts = Layouts::default();
            objects::observe(tree, &changed, root, &mut Decoder::off(&mut layouts))
        });
        self.set_layouts(guid, layouts);
        let observed: Vec<Observed> = observed?
            .into_iter()
            .filter(|observation| outside_children(observation.path()))
            .collect();
        tree.apply(&observed);
        let update = FingerprintUpdate {
            base: from_txg,
            as_of: snapshot.createtxg,
            set: scan
                .objects
                .iter()
                .zip(&stored)
                .filter(|((_, fingerprint), stored)| **stored != Some(*fingerprint))
                .map(|(object, _)| *object)
                .collect(),
            freed: scan.freed,
        };
        fingerprints.advance(&update);
        let cost = started.elapsed();
        self.update_costs(guid, |costs| {
            costs.objects = Some((cost, snapshot.written));
            costs.walks_since_objects = 0;
        });
        Ok((observed, update))
    }

    /// A full walk of `root`, its duration recorded as the dataset's walk cost.
    fn walk_and_measure(
        &self,
        guid: u64,
        root: &SafeRoot,
        timings: &mut StageTimings,
    ) -> IndexerResult<Vec<(RelativePath, wizfs_core::EntryMetadata)>> {
        let started = Instant::now();
        let walked = walk(root)?;
        let cost = started.elapsed();
        timings.read += cost;
        self.record_cost(guid, Method::Walk, cost);
        Ok(walked)
    }

    /// Observations of `target` (whose tree is `root`) against the newest indexed snapshot
    /// `from`, by `method`, and the entries a walk visited; the cost is recorded for the
    /// next choice.
    #[allow(clippy::too_many_arguments)]
    fn compare(
        &self,
        method: Method,
        guid: u64,
        from: &SnapshotName,
        target: DiffTarget<'_>,
        root: &SafeRoot,
        mountpoint: &Path,
        outside_children: &dyn Fn(&RelativePath) -> bool,
        timings: &mut StageTimings,
    ) -> IndexerResult<(Vec<Observed>, usize)> {
        let started = Instant::now();
        let mut walked_entries = 0;
        // Objects need a snapshot on both sides (`compare_objects`); the sync never asks this
        // for them, and would get a walk.
        let method = match method {
            Method::Objects => Method::Walk,
            other => other,
        };
        let observed = match method {
            Method::Unchanged => Vec::new(),
            Method::Diff => self
                .observe_diff(guid, from, target, root, mountpoint, timings)?
                .into_iter()
                .filter(|observation| outside_children(observation.path()))
                .collect(),
            Method::Walk | Method::Objects => {
                let walked: Vec<_> = timed(&mut timings.read, || walk(root))?
                    .into_iter()
                    .filter(|(path, _)| outside_children(path))
                    .collect();
                walked_entries = walked.len();
                timed(&mut timings.plan, || -> IndexerResult<_> {
                    let open = self.store.open_below(guid, &RelativePath::root())?;
                    Ok(versioning::compare_walk(&walked, &open))
                })?
            }
        };
        self.record_cost(guid, method, started.elapsed());
        Ok((observed, walked_entries))
    }

    fn is_indexed(&self, dataset_guid: u64, snapshot_guid: u64) -> IndexerResult<bool> {
        Ok(self
            .store
            .indexed_snapshots(dataset_guid)?
            .iter()
            .any(|snapshot| snapshot.guid == snapshot_guid))
    }

    /// Removes the live pseudo-snapshot (`forget` with the newest snapshot as its
    /// predecessor and nothing after it).
    fn forget_live(&self, guid: u64, report: &mut SyncReport) -> IndexerResult<()> {
        let previous = self
            .store
            .indexed_snapshots(guid)?
            .last()
            .map(|snapshot| snapshot.createtxg);
        let touching = self.store.versions_touching(guid, &[LIVE_TXG])?;
        if touching.is_empty() {
            return Ok(());
        }
        let operations = versioning::forget(LIVE_TXG, previous, None, &touching);
        report.operations += operations.len();
        self.store
            .apply_deferred(guid, SnapshotChange::None, &operations)?;
        Ok(())
    }

    /// `advance` with the store's open versions (lookups that fail are reported after).
    fn advance(&self, guid: u64, observed: &[Observed], txg: u64) -> IndexerResult<Vec<VersionOp>> {
        let failure: RefCell<Option<IndexError>> = RefCell::new(None);
        let open = |path: &RelativePath| -> Option<StoredVersion> {
            self.store.open_version(guid, path).unwrap_or_else(|error| {
                failure.borrow_mut().get_or_insert(error);
                None
            })
        };
        let open_below = |path: &RelativePath| -> Vec<StoredVersion> {
            self.store.open_below(guid, path).unwrap_or_else(|error| {
                failure.borrow_mut().get_or_insert(error);
                Vec::new()
            })
        };
        let operations = versioning::advance(observed, txg, &open, &open_below);
        match failure.into_inner() {
            Some(error) => Err(error.into()),
            None => Ok(operations),
        }
    }

    /// What changed from snapshot `from` to `target` (whose tree `root` is), as observations:
    /// removed paths are absent, created and modified ones are stat-ed in the target, a
    /// rename is the old path absent plus the new one present (for a directory, with
    /// everything below it, which `zfs diff` does not list).
    fn observe_diff(
        &self,
        guid: u64,
        from: &SnapshotName,
        target: DiffTarget<'_>,
        root: &SafeRoot,
        mountpoint: &Path,
        timings: &mut StageTimings,
    ) -> IndexerResult<Vec<Observed>> {
        let entries = timed(&mut timings.diff, || self.zfs.diff(from, target))?;
        let started = Instant::now();
        let observed = self.observe_entries(guid, entries, root, mountpoint);
        timings.read += started.elapsed();
        observed
    }

    /// The observations for `zfs diff` entries (see [`Self::observe_diff`]).
    fn observe_entries(
        &self,
        guid: u64,
        entries: Vec<wizfs_zfs::DiffEntry>,
        root: &SafeRoot,
        mountpoint: &Path,
    ) -> IndexerResult<Vec<Observed>> {
        let mut observed = Vec::with_capacity(entries.len());
        let mut modified_directories = Vec::new();
        for entry in entries {
            let path = relative_to(mountpoint, &entry.path)?;
            if entry.change == DiffChange::Modified && entry.kind == wizfs_zfs::FileKind::Directory
            {
                modified_directories.push(path.clone());
            }
            if path.is_root() {
                continue;
            }
            match entry.change {
                DiffChange::Removed => observed.push(Observed::Absent { path }),
                DiffChange::Created => observed.push(present_or_absent(root, path)?),
                DiffChange::Modified => {
                    // `M` is the same object changed in place (a replaced object shows as `-`
                    // and `+`, or `R`): it keeps the identity the index knows, whatever inode
                    // number the tree at hand reports (FakeZfs's snapshot copies have their own).
                    let mut observation = present_or_absent(root, path)?;
                    if let Observed::Present { path, metadata } = &mut observation
                        && let Some(open) = self.store.open_version(guid, path)?
                        && open.signature.kind == metadata.kind
                    {
                        metadata.inode = open.signature.inode;
                    }
                    observed.push(observation);
                }
                DiffChange::Renamed { to } => {
                    observed.push(Observed::Absent { path });
                    let destination = relative_to(mountpoint, &to)?;
                    let present = present_or_absent(root, destination.clone())?;
                    let is_directory = matches!(&present, Observed::Present { metadata, .. } if metadata.kind == EntryKind::Directory);
                    observed.push(present);
                    if is_directory {
                        for below in tree_below(root, &destination)? {
                            observed.push(Observed::Present {
                                path: below.path,
                                metadata: below.metadata,
                            });
                        }
                    }
                }
            }
        }
        // `zfs diff` reports a new hard link only as a link-count change of the object at
        // the path it resolves first (`M … (+1)`), never the new name; the directory that
        // got the name is modified, so its names the index does not know are stat-ed.
        let reported: HashSet<RelativePath> = observed
            .iter()
            .map(|observation| observation.path().clone())
            .collect();
        for directory in modified_directories {
            let names = match root.list_inodes(&directory) {
                Ok(names) => names,
                Err(error) if is_unreachable(&error) => continue,
                Err(error) => return Err(error.into()),
            };
            for (name, _) in names {
                let child = directory.join(&name)?;
                if !reported.contains(&child) && self.store.open_version(guid, &child)?.is_none() {
                    observed.push(present_or_absent(root, child)?);
                }
            }
        }
        Ok(removals_first(observed))
    }
}

/// `zfs diff` lists changes by object number, so a path whose object was replaced (a file
/// removed and a directory made in its place, say) can come as `+` before `-` when the new
/// object got the lower number. `versioning::advance` keeps the last observation of a path,
/// and every `Present` one was stat-ed in the new tree: removals go first so that a path
/// present again stays present.
fn removals_first(mut observed: Vec<Observed>) -> Vec<Observed> {
    observed.sort_by_key(|observation| matches!(observation, Observed::Present { .. }));
    observed
}

/// How many snapshots ahead of the one being compared send streams are read: the stream is
/// the kernel's work, one CPU each, and a comparison that reads its changes from the stream
/// leaves the indexing thread mostly writing the index.
const SCANS_AHEAD: usize = 2;

/// A scan of `zfs send -i from to` running on its own thread, started while an earlier
/// snapshot is compared.
struct ScanAhead {
    to: SnapshotName,
    /// The position of `to` among the snapshots this run indexes.
    position: usize,
    handle: std::thread::JoinHandle<IndexerResult<ObjectScan>>,
}

impl ScanAhead {
    fn start(
        zfs: Arc<dyn Zfs>,
        from: SnapshotName,
        to: SnapshotName,
        position: usize,
    ) -> ScanAhead {
        let target = to.clone();
        let handle = std::thread::spawn(move || scan_objects(zfs.as_ref(), &from, &target));
        ScanAhead {
            to,
            position,
            handle,
        }
    }

    /// Waits for the scan. (A scan no comparison asks for is left to finish on its own.)
    fn finish(self) -> IndexerResult<ObjectScan> {
        self.handle.join().unwrap_or_else(|_| {
            Err(IndexerError::Stream {
                snapshot: self.to,
                source: StreamError::Malformed("the scanning thread panicked".into()),
            })
        })
    }
}

/// The object records of `zfs send -i from to` (`wizfs_zfs::objects`).
fn scan_objects(
    zfs: &dyn Zfs,
    from: &SnapshotName,
    to: &SnapshotName,
) -> IndexerResult<ObjectScan> {
    let source = SendSource::Snapshot {
        snapshot: to.clone(),
        base: Some(IncrementalBase::Snapshot(from.clone())),
        // Compressed and embedded blocks as they are stored: less data to skip.
        flags: SendFlags {
            large_blocks: true,
            compressed: true,
            embedded: true,
            ..SendFlags::default()
        },
    };
    let mut stream = zfs.send(&source)?;
    match wizfs_zfs::objects::scan_objects(&mut stream) {
        Ok(scan) => {
            stream.finish()?;
            Ok(scan)
        }
        // The sender stopped early: its own error says why, if it has one.
        Err(source @ StreamError::Truncated(_)) => {
            stream.finish()?;
            Err(IndexerError::Stream {
                snapshot: to.clone(),
                source,
            })
        }
        // Dropping the stream stops the sender.
        Err(source) => Err(IndexerError::Stream {
            snapshot: to.clone(),
            source,
        }),
    }
}

/// A `zfs diff` path (absolute, below the mountpoint) as a path of the dataset.
fn relative_to(mountpoint: &Path, absolute: &Path) -> IndexerResult<RelativePath> {
    use std::os::unix::ffi::OsStrExt;
    let relative =
        absolute
            .strip_prefix(mountpoint)
            .map_err(|_| IndexerError::OutsideMountpoint {
                path: absolute.to_owned(),
                mountpoint: mountpoint.to_owned(),
            })?;
    Ok(RelativePath::new(relative.as_os_str().as_bytes())?)
}

/// Every entry of a tree except its root, for a full walk.
fn walk(root: &SafeRoot) -> IndexerResult<Vec<(RelativePath, wizfs_core::EntryMetadata)>> {
    Ok(tree_below(root, &RelativePath::root())?
        .into_iter()
        .map(|entry| (entry.path, entry.metadata))
        .collect())
}

#[cfg(test)]
mod tests;
