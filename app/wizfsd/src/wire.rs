//! Wire types: how the API and `wizfs --json` present the domain model. The domain types in
//! `wizfs-core` stay free of serialization; conversions happen here, at the boundary.

use serde::Serialize;
use wizfs_core::{Bookmark, Dataset, Hold, Pool, Snapshot, ZfsVersion};

#[derive(Debug, Serialize)]
pub struct VersionView {
    pub wizfs: &'static str,
    pub zfs_userland: Option<String>,
    pub zfs_kernel: Option<String>,
}

impl VersionView {
    pub fn new(zfs: Option<&ZfsVersion>) -> Self {
        Self {
            wizfs: crate::VERSION,
            zfs_userland: zfs.map(|version| version.userland.clone()),
            zfs_kernel: zfs.and_then(|version| version.kernel.clone()),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PoolView {
    pub name: String,
    pub guid: String,
    pub health: String,
    pub size: u64,
    pub allocated: u64,
    pub free: u64,
    pub capacity_percent: u8,
    pub fragmentation_percent: Option<u8>,
    pub readonly: bool,
}

impl From<&Pool> for PoolView {
    fn from(pool: &Pool) -> Self {
        Self {
            name: pool.name.to_string(),
            // guids exceed JavaScript's safe integers: strings on the wire.
            guid: pool.guid.to_string(),
            health: pool.health.as_str().to_owned(),
            size: pool.size,
            allocated: pool.allocated,
            free: pool.free,
            capacity_percent: pool.capacity_percent,
            fragmentation_percent: pool.fragmentation_percent,
            readonly: pool.readonly,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct DatasetView {
    pub name: String,
    pub guid: String,
    pub kind: &'static str,
    pub used: u64,
    pub available: u64,
    pub referenced: u64,
    pub mountpoint: Option<String>,
    pub mounted: bool,
    pub createtxg: u64,
    pub creation: String,
}

impl From<&Dataset> for DatasetView {
    fn from(dataset: &Dataset) -> Self {
        Self {
            name: dataset.name.to_string(),
            guid: dataset.guid.to_string(),
            kind: dataset.kind.as_str(),
            used: dataset.used,
            available: dataset.available,
            referenced: dataset.referenced,
            mountpoint: dataset
                .mountpoint
                .as_ref()
                .map(|path| path.display().to_string()),
            mounted: dataset.mounted,
            createtxg: dataset.createtxg,
            creation: dataset.creation.to_string(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SnapshotView {
    pub name: String,
    pub dataset: String,
    pub short_name: String,
    pub guid: String,
    pub createtxg: u64,
    pub creation: String,
    pub used: u64,
    pub referenced: u64,
    pub written: u64,
    pub holds: u64,
}

impl From<&Snapshot> for SnapshotView {
    fn from(snapshot: &Snapshot) -> Self {
        Self {
            name: snapshot.name.to_string(),
            dataset: snapshot.name.dataset().to_string(),
            short_name: snapshot.name.short_name().to_owned(),
            guid: snapshot.guid.to_string(),
            createtxg: snapshot.createtxg,
            creation: snapshot.creation.to_string(),
            used: snapshot.used,
            referenced: snapshot.referenced,
            written: snapshot.written,
            holds: snapshot.user_refs,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct BookmarkView {
    pub name: String,
    pub guid: String,
    pub createtxg: u64,
    pub creation: String,
}

impl From<&Bookmark> for BookmarkView {
    fn from(bookmark: &Bookmark) -> Self {
        Self {
            name: bookmark.name.to_string(),
            guid: bookmark.guid.to_string(),
            createtxg: bookmark.createtxg,
            creation: bookmark.creation.to_string(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct HoldView {
    pub snapshot: String,
    pub tag: String,
    pub created: String,
}

impl From<&Hold> for HoldView {
    fn from(hold: &Hold) -> Self {
        Self {
            snapshot: hold.snapshot.to_string(),
            tag: hold.tag.clone(),
            created: hold.created.to_string(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct DiffEntryView {
    pub change: &'static str,
    pub renamed_to: Option<String>,
    pub kind: String,
    /// Lossy UTF-8 for display; `path_bytes` is exact.
    pub path: String,
    pub path_bytes: Vec<u8>,
    pub changed_at: i64,
}

impl From<&wizfs_zfs::DiffEntry> for DiffEntryView {
    fn from(entry: &wizfs_zfs::DiffEntry) -> Self {
        use std::os::unix::ffi::OsStrExt;
        use wizfs_zfs::DiffChange;
        let (change, renamed_to) = match &entry.change {
            DiffChange::Removed => ("removed", None),
            DiffChange::Created => ("created", None),
            DiffChange::Modified => ("modified", None),
            DiffChange::Renamed { to } => ("renamed", Some(to.to_string_lossy().into_owned())),
        };
        Self {
            change,
            renamed_to,
            kind: entry.kind.indicator().to_string(),
            path: entry.path.to_string_lossy().into_owned(),
            path_bytes: entry.path.as_os_str().as_bytes().to_vec(),
            changed_at: entry.changed_at_seconds,
        }
    }
}
