//! Send streams read ahead of the comparisons that need them.
//!
//! Reading a snapshot's `zfs send -i` stream is mostly the kernel's work; comparing and
//! writing the index is this process's. A few worker threads read the streams of the next
//! snapshots, in creation order, while the indexing thread compares and writes — and while
//! it walks a dataset's first snapshot, which would otherwise leave a CPU idle. How far
//! ahead is bounded twice: by a number of snapshots and by the objects held in finished
//! scans, so memory stays bounded on large datasets.
//!
//! The indexing thread says where it is (`reached`, `take`): finished scans behind it are
//! dropped, and a scan it needs that has not started yet is read on its own thread instead
//! of waiting. While it compares by other means it pauses the workers (`set_running`): a
//! stream nobody reads is wasted kernel work.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use wizfs_core::SnapshotName;
use wizfs_zfs::objects::{ObjectScan, StreamError};

use crate::{IndexerError, IndexerResult};

/// One stream to read: `zfs send -i from to`, for the snapshot at `position` among those
/// a run indexes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScanJob {
    pub position: usize,
    pub from: SnapshotName,
    pub to: SnapshotName,
}

/// How far ahead the workers may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Worker threads (each stream is about one CPU of kernel work).
    pub workers: usize,
    /// A scan starts only for a snapshot fewer than this many positions ahead of the
    /// indexing thread.
    pub snapshots: usize,
    /// A scan starts only while finished scans hold fewer objects than this (an object
    /// costs about 150 bytes held).
    pub objects: usize,
}

impl Limits {
    /// Two streams at a time, up to 16 snapshots or a million objects (≈ 150 MiB) ahead.
    pub const DEFAULT: Limits = Limits {
        workers: 2,
        snapshots: 16,
        objects: 1_000_000,
    };
}

/// Reads a stream; the indexer's is `scan_objects` against ZFS.
pub(crate) type Scan = dyn Fn(&ScanJob) -> IndexerResult<ObjectScan> + Send + Sync;

/// The read-ahead of one run. Dropping it stops the workers after their current stream.
pub(crate) struct ReadAhead {
    shared: Arc<Shared>,
    scan: Arc<Scan>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    limits: Limits,
}

#[derive(Default)]
struct State {
    /// Not started yet, by position.
    queue: VecDeque<ScanJob>,
    running: HashSet<usize>,
    done: HashMap<usize, IndexerResult<ObjectScan>>,
    /// Objects held in `done`.
    held: usize,
    /// The position of the indexing thread.
    reached: usize,
    running_allowed: bool,
    stopped: bool,
}

impl State {
    /// Whether a worker may start the next queued scan.
    fn may_start(&self, limits: &Limits) -> bool {
        self.running_allowed
            && self.held < limits.objects
            && self
                .queue
                .front()
                .is_some_and(|job| job.position < self.reached.saturating_add(limits.snapshots))
    }

    /// The indexing thread is at `position`: scans behind it are of no use any more.
    fn reach(&mut self, position: usize) {
        self.reached = self.reached.max(position);
        let reached = self.reached;
        while self.queue.front().is_some_and(|job| job.position < reached) {
            self.queue.pop_front();
        }
        let mut released = 0;
        self.done.retain(|&done_at, result| {
            let keep = done_at >= reached;
            if !keep {
                released += held_by(result);
            }
            keep
        });
        self.held -= released;
    }
}

fn held_by(result: &IndexerResult<ObjectScan>) -> usize {
    result.as_ref().map_or(0, |scan| scan.objects.len())
}

impl ReadAhead {
    /// Starts the workers on `jobs` (in ascending position), reading them as `scan` does;
    /// `running` says whether they may start right away.
    pub fn start(jobs: Vec<ScanJob>, scan: Arc<Scan>, limits: Limits, running: bool) -> Self {
        let workers = if jobs.is_empty() { 0 } else { limits.workers };
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: jobs.into(),
                running_allowed: running,
                ..State::default()
            }),
            changed: Condvar::new(),
            limits,
        });
        for _ in 0..workers {
            let shared = shared.clone();
            let scan = scan.clone();
            // Detached: a worker ends when the queue is empty or the read-ahead is dropped,
            // after the stream it is reading.
            std::thread::spawn(move || work(&shared, scan.as_ref()));
        }
        ReadAhead { shared, scan }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared)
    }

    /// Lets the workers start streams (`true`) or not (`false`: the current comparison is
    /// not by objects). Streams already being read finish.
    pub fn set_running(&self, running: bool) {
        let mut state = self.state();
        state.running_allowed = running;
        self.shared.changed.notify_all();
    }

    /// The indexing thread is at `position` (and will not come back).
    pub fn reached(&self, position: usize) {
        self.state().reach(position);
        self.shared.changed.notify_all();
    }

    /// The scan of the snapshot at `position`: read ahead (waiting for it if a worker is
    /// on it), or read now on this thread if no worker started it yet; `None` if no job
    /// was given for `position` (or it was passed already).
    pub fn take(&self, position: usize) -> Option<IndexerResult<ObjectScan>> {
        let mut state = self.state();
        state.reach(position);
        self.shared.changed.notify_all();
        if let Some(index) = state.queue.iter().position(|job| job.position == position) {
            let job = state.queue.remove(index)?;
            drop(state);
            return Some(scan_guarded(self.scan.as_ref(), &job));
        }
        loop {
            if let Some(result) = state.done.remove(&position) {
                state.held -= held_by(&result);
                self.shared.changed.notify_all();
                return Some(result);
            }
            if !state.running.contains(&position) {
                return None;
            }
            state = self
                .shared
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Waits until no worker is reading and none may start: what the limits allow has been
    /// read. For tests.
    #[cfg(test)]
    pub fn settle(&self) {
        let mut state = self.state();
        while !state.running.is_empty() || state.may_start(&self.shared.limits) {
            state = self
                .shared
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        let mut state = self.state();
        state.stopped = true;
        state.queue.clear();
        state.done.clear();
        state.held = 0;
        self.shared.changed.notify_all();
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    // The state stays consistent under the lock (no code that can panic runs while it is
    // held), so a poisoned lock is still usable.
    shared.state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A worker: takes the next job the limits allow, reads it, files the result.
fn work(shared: &Shared, scan: &Scan) {
    loop {
        let job = {
            let mut state = lock(shared);
            loop {
                if state.stopped || state.queue.is_empty() {
                    return;
                }
                if state.may_start(&shared.limits) {
                    break;
                }
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            let job = state.queue.pop_front();
            if let Some(job) = &job {
                state.running.insert(job.position);
            }
            job
        };
        let Some(job) = job else { continue };
        let result = scan_guarded(scan, &job);
        let mut state = lock(shared);
        state.running.remove(&job.position);
        if !state.stopped && job.position >= state.reached {
            state.held += held_by(&result);
            state.done.insert(job.position, result);
        }
        shared.changed.notify_all();
    }
}

/// `scan`, with a panic turned into an error for that snapshot (the indexing thread must
/// not wait for a result that never comes).
fn scan_guarded(scan: &Scan, job: &ScanJob) -> IndexerResult<ObjectScan> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scan(job))).unwrap_or_else(|_| {
        Err(IndexerError::Stream {
            snapshot: job.to.clone(),
            source: StreamError::Malformed("reading the stream panicked".into()),
        })
    })
}

#[cfg(test)]
mod tests;
