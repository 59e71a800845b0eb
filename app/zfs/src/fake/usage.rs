//! Space accounting of the fake: `used`, `referenced`, `written` of datasets and snapshots
//! and `allocated`/`free` of pools, computed from the live trees and snapshot manifests.
//! A file's data is identified by (inode, size, mtime), so unchanged files are shared between
//! the live tree and snapshots and counted once, as ZFS shares unchanged blocks.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use wizfs_core::DatasetName;

use super::context::Context;
use super::tree::{Entries, Entry, EntryKind, FileTime};
use crate::error::ZfsResult;

/// Identity of a file's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct DataKey {
    inode: u64,
    size: u64,
    mtime: FileTime,
}

/// The data of the regular files of a tree, each distinct data counted once.
pub(super) fn data_of(entries: &Entries) -> HashMap<DataKey, u64> {
    entries
        .values()
        .filter(|entry| entry.kind == EntryKind::File)
        .map(|entry| {
            (
                DataKey {
                    inode: entry.inode,
                    size: entry.size,
                    mtime: entry.mtime,
                },
                entry.size,
            )
        })
        .collect()
}

/// Bytes of the data in `data` that none of `others` holds.
pub(super) fn bytes_not_in(data: &HashMap<DataKey, u64>, others: &[&HashMap<DataKey, u64>]) -> u64 {
    data.iter()
        .filter(|(key, _)| others.iter().all(|other| !other.contains_key(key)))
        .map(|(_, size)| *size)
        .sum()
}

/// Bytes of metadata the fake counts as written for each entry that appeared, disappeared or
/// changed in any way (ZFS rewrites at least a directory or dnode block for every change, so
/// `written` is 0 only when nothing at all changed: a deletion or a rename writes too).
pub(super) const METADATA_BYTES_PER_CHANGE: u64 = 512;

/// The metadata `written` of `current` over `previous` (see [`METADATA_BYTES_PER_CHANGE`]).
pub(super) fn metadata_written(current: &Entries, previous: &Entries) -> u64 {
    let changed = current
        .iter()
        .filter(|(path, entry)| previous.get(*path) != Some(entry))
        .count()
        + previous
            .keys()
            .filter(|path| !current.contains_key(*path))
            .count();
    METADATA_BYTES_PER_CHANGE.saturating_mul(changed as u64)
}

/// `used`, `referenced` and `written` of one snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct SnapshotUsage {
    pub used: u64,
    pub referenced: u64,
    pub written: u64,
}

/// A dataset's own space (without its children).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct DatasetUsage {
    /// Data of the live tree.
    pub referenced: u64,
    /// Live data not in the newest snapshot.
    pub written: u64,
    /// Data held only by snapshots.
    pub used_by_snapshots: u64,
    /// In the order of the dataset's snapshot list.
    pub snapshots: Vec<SnapshotUsage>,
}

impl DatasetUsage {
    pub fn own(&self) -> u64 {
        self.referenced.saturating_add(self.used_by_snapshots)
    }
}

/// Computes one dataset's own usage.
pub(super) fn dataset_usage(
    context: &mut Context<'_>,
    dataset: &DatasetName,
) -> ZfsResult<DatasetUsage> {
    let live_entries = context.scan_live(dataset)?;
    let live = data_of(&live_entries);
    let manifest_ids: Vec<u64> = context
        .state
        .dataset(dataset)?
        .snapshots
        .iter()
        .map(|snapshot| snapshot.manifest)
        .collect();
    let mut snapshot_data = Vec::with_capacity(manifest_ids.len());
    let mut snapshot_entries = Vec::with_capacity(manifest_ids.len());
    for id in manifest_ids {
        let entries = context.manifest(id)?;
        snapshot_data.push(data_of(&entries));
        snapshot_entries.push(entries);
    }
    let empty = HashMap::new();
    let mut snapshots = Vec::with_capacity(snapshot_data.len());
    for (index, data) in snapshot_data.iter().enumerate() {
        let previous = index
            .checked_sub(1)
            .and_then(|previous| snapshot_data.get(previous))
            .unwrap_or(&empty);
        let next = snapshot_data.get(index + 1).unwrap_or(&empty);
        // The first snapshot's `written` is its data, as `referenced` is.
        let metadata = index
            .checked_sub(1)
            .and_then(|previous| snapshot_entries.get(previous))
            .map_or(0, |previous| {
                metadata_written(&snapshot_entries[index], previous)
            });
        snapshots.push(SnapshotUsage {
            used: bytes_not_in(data, &[previous, next, &live]),
            referenced: data.values().sum(),
            written: bytes_not_in(data, &[previous]) + metadata,
        });
    }
    let mut only_in_snapshots: HashMap<DataKey, u64> = HashMap::new();
    for data in &snapshot_data {
        for (key, size) in data {
            if !live.contains_key(key) {
                only_in_snapshots.insert(*key, *size);
            }
        }
    }
    let written = match (snapshot_data.last(), snapshot_entries.last()) {
        // Nothing changed but, perhaps, the root directory's times (see
        // `Entry::live_tree_unchanged`).
        (Some(_), Some(newest_entries))
            if Entry::live_tree_unchanged(newest_entries, &live_entries) =>
        {
            0
        }
        (Some(newest), Some(newest_entries)) => {
            bytes_not_in(&live, &[newest]) + metadata_written(&live_entries, newest_entries)
        }
        _ => live.values().sum(),
    };
    Ok(DatasetUsage {
        referenced: live.values().sum(),
        written,
        used_by_snapshots: only_in_snapshots.values().sum(),
        snapshots,
    })
}

/// Usage of every dataset of some pools, so `used` (with children) and `available` (pool
/// free space) can be answered.
#[derive(Debug, Default)]
pub(super) struct UsageTable {
    own: BTreeMap<DatasetName, DatasetUsage>,
    allocated_by_pool: BTreeMap<String, u64>,
}

impl UsageTable {
    /// Computes the usage of all datasets in `pools`.
    pub fn compute(context: &mut Context<'_>, pools: &BTreeSet<String>) -> ZfsResult<UsageTable> {
        let mut table = UsageTable::default();
        for name in context.state.dataset_names() {
            let pool = name.pool().as_str().to_owned();
            if !pools.contains(&pool) {
                continue;
            }
            let usage = dataset_usage(context, &name)?;
            let allocated = table.allocated_by_pool.entry(pool).or_insert(0);
            *allocated = allocated.saturating_add(usage.own());
            table.own.insert(name, usage);
        }
        Ok(table)
    }

    /// Computes the usage of all datasets in the pool of `dataset`.
    pub fn for_pool_of(context: &mut Context<'_>, dataset: &DatasetName) -> ZfsResult<UsageTable> {
        UsageTable::compute(
            context,
            &BTreeSet::from([dataset.pool().as_str().to_owned()]),
        )
    }

    pub fn own(&self, dataset: &DatasetName) -> DatasetUsage {
        self.own.get(dataset).cloned().unwrap_or_default()
    }

    /// `used`: own space plus that of all descendants.
    pub fn used(&self, dataset: &DatasetName) -> u64 {
        self.own
            .iter()
            .filter(|(name, _)| name.is_same_or_descendant_of(dataset))
            .map(|(_, usage)| usage.own())
            .fold(0, u64::saturating_add)
    }

    /// `usedbychildren`.
    pub fn used_by_children(&self, dataset: &DatasetName) -> u64 {
        self.used(dataset).saturating_sub(self.own(dataset).own())
    }

    pub fn allocated(&self, pool: &str) -> u64 {
        self.allocated_by_pool.get(pool).copied().unwrap_or(0)
    }

    pub fn snapshot(&self, dataset: &DatasetName, index: usize) -> SnapshotUsage {
        self.own
            .get(dataset)
            .and_then(|usage| usage.snapshots.get(index).copied())
            .unwrap_or_default()
    }
}

/// `available`: the pool's free space.
pub(super) fn available(context: &Context<'_>, table: &UsageTable, name: &DatasetName) -> u64 {
    let pool = name.pool();
    let size = context
        .state
        .pools
        .get(pool.as_str())
        .map_or(0, |pool| pool.size_bytes);
    size.saturating_sub(table.allocated(pool.as_str()))
}
