//! What the operations of the fake work on: the [`Store`] (state behind a lock, files, clock)
//! and, while the lock is held, a [`Context`]. Every operation module uses these; none of them
//! uses the [`FakeZfs`](super::FakeZfs) front, which only dispatches to them.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use wizfs_core::{DatasetName, Timestamp};

use super::state::{self, Layout, ManifestCache, State};
use super::tree::{self, Entries};
use crate::error::ZfsResult;

/// The clock the fake reads `creation` and hold times from.
pub(super) type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Everything behind the lock: the persisted state and in-memory helpers.
pub(super) struct Inner {
    pub(super) state: State,
    pub(super) manifests: ManifestCache,
    /// Datasets a `receive` is currently writing into (not persisted: a crash ends them).
    pub(super) receiving: BTreeSet<String>,
}

/// What an operation sees while the lock is held.
pub(super) struct Context<'a> {
    pub(super) layout: &'a Layout,
    pub(super) state: &'a mut State,
    pub(super) manifests: &'a mut ManifestCache,
    pub(super) receiving: &'a mut BTreeSet<String>,
    /// Files to delete once the new state is safely on disk (unreferenced manifests, spools).
    pub(super) delete_after_commit: Vec<PathBuf>,
}

impl Context<'_> {
    /// The recorded entries of a snapshot or bookmark manifest.
    pub(super) fn manifest(&mut self, id: u64) -> ZfsResult<Arc<Entries>> {
        self.manifests.load(self.layout, id)
    }

    /// Writes a new or changed manifest, then waits until later changes of the recorded files
    /// are bound to get different times.
    pub(super) fn store_manifest(&mut self, id: u64, entries: Entries) -> ZfsResult<Arc<Entries>> {
        let latest = tree::latest_change(&entries);
        let stored = self.manifests.store(self.layout, id, entries)?;
        tree::wait_for_clock_past(&self.layout.clock_probe_file(), latest);
        Ok(stored)
    }

    /// Schedules deletion of a manifest no snapshot or bookmark refers to any more.
    pub(super) fn release_manifest_if_unused(&mut self, id: u64) {
        if !self.state.manifest_in_use(id) {
            self.manifests.forget(id);
            self.delete_after_commit.push(self.layout.manifest_file(id));
        }
    }

    /// Where `dataset` is "mounted".
    pub(super) fn mountpoint(&self, dataset: &DatasetName) -> PathBuf {
        self.layout.mountpoint(dataset)
    }

    /// Top-level names inside a dataset's mountpoint that are not its data: `.zfs` and the
    /// mountpoints of its child datasets.
    pub(super) fn excluded_names(&self, dataset: &DatasetName) -> BTreeSet<Vec<u8>> {
        let mut names = self.state.child_components(dataset);
        names.insert(b".zfs".to_vec());
        names
    }

    /// The live entries of a dataset (its mountpoint, without `.zfs` and child mountpoints).
    pub(super) fn scan_live(&self, dataset: &DatasetName) -> ZfsResult<Entries> {
        tree::scan(&self.mountpoint(dataset), &self.excluded_names(dataset))
    }
}

/// The fake's state behind its lock, its files and its clock: what every operation works on,
/// through [`Store::inspect`] (read-only) or [`Store::transact`] (all or nothing).
pub(super) struct Store {
    pub(super) layout: Layout,
    inner: Mutex<Inner>,
    clock: Mutex<Clock>,
}

impl Store {
    /// Opens (creating if needed) the store rooted at `root` and loads its saved state.
    pub(super) fn open(root: PathBuf) -> ZfsResult<Store> {
        let layout = Layout::prepare(root)?;
        let state = state::load_state(&layout)?;
        state::remove_stale_spools(&layout, &state)?;
        Ok(Store {
            layout,
            inner: Mutex::new(Inner {
                state,
                manifests: ManifestCache::default(),
                receiving: BTreeSet::new(),
            }),
            clock: Mutex::new(Arc::new(system_clock)),
        })
    }

    /// The current time according to the clock, read without holding the state lock.
    pub(super) fn now(&self) -> Timestamp {
        let clock = Arc::clone(&self.clock.lock().unwrap_or_else(PoisonError::into_inner));
        clock()
    }

    pub(super) fn lock_inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs a read-only operation under the lock.
    pub(super) fn inspect<T>(
        &self,
        operation: impl FnOnce(&mut Context<'_>) -> ZfsResult<T>,
    ) -> ZfsResult<T> {
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
    pub(super) fn transact<T>(
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

    /// Replaces the clock.
    pub(super) fn set_clock(&self, clock: Clock) {
        *self.clock.lock().unwrap_or_else(PoisonError::into_inner) = clock;
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
