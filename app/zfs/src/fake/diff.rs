//! `zfs diff -F -t` on the fake. Like real ZFS it matches objects by their number and
//! generation (here the inode and birth time recorded in the manifests): an object only on the old side is `-`, only on the new
//! side `+`, on both sides with a changed inode change time, size, mode or mtime `M`, and at a
//! different path `R` (even if also modified). The directories whose entries changed are
//! reported `M` too, the dataset's root directory included. Paths are absolute, under the
//! fake mountpoint; the time reported is the inode change time.

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wizfs_core::SnapshotName;

use super::context::Context;
use super::tree::{Entries, Entry, EntryKind, FileTime, ObjectId, name_of, parent_of};
use crate::error::{ZfsError, ZfsResult};
use crate::types::{DiffChange, DiffEntry, DiffTarget};

/// `zfs diff from [to]`.
pub(super) fn diff(
    context: &mut Context<'_>,
    from: &SnapshotName,
    to: DiffTarget<'_>,
) -> ZfsResult<Vec<DiffEntry>> {
    let (_, from_record) = context.state.snapshot(from)?;
    let (from_manifest, from_txg) = (from_record.manifest, from_record.createtxg);
    let newer = match to {
        DiffTarget::Snapshot(to) => {
            if to.dataset() != from.dataset() {
                return Err(ZfsError::InvalidRequest(format!(
                    "cannot diff {from} against {to}: snapshots of different datasets"
                )));
            }
            let (_, to_record) = context.state.snapshot(to)?;
            if to_record.createtxg <= from_txg {
                return Err(ZfsError::InvalidRequest(format!(
                    "cannot diff {from} against {to}: {to} is not newer than {from}"
                )));
            }
            let manifest = to_record.manifest;
            context.manifest(manifest)?
        }
        DiffTarget::Live => Arc::new(context.scan_live(from.dataset())?),
    };
    let older = context.manifest(from_manifest)?;
    Ok(compare(&context.mountpoint(from.dataset()), &older, &newer))
}

/// The order changes to one path are listed in.
fn change_rank(change: &DiffChange) -> u8 {
    match change {
        DiffChange::Removed => 0,
        DiffChange::Created => 1,
        DiffChange::Modified => 2,
        DiffChange::Renamed { .. } => 3,
    }
}

/// For each object, its first path in byte order (other hard links are compared by path).
fn first_path_by_object(entries: &Entries) -> HashMap<ObjectId, &[u8]> {
    let mut paths = HashMap::new();
    for (path, entry) in entries {
        paths.entry(entry.object()).or_insert(path.as_slice());
    }
    paths
}

/// Collects diff lines, keyed for sorting by the relative path.
struct Report<'a> {
    mountpoint: &'a Path,
    lines: Vec<(Vec<u8>, DiffEntry)>,
}

impl Report<'_> {
    fn absolute(&self, relative: &[u8]) -> PathBuf {
        // The root directory prints as `<mountpoint>/`, as real ZFS does.
        self.mountpoint.join(OsStr::from_bytes(relative))
    }

    fn add(&mut self, relative: &[u8], change: DiffChange, kind: EntryKind, time: FileTime) {
        let entry = DiffEntry {
            changed_at_seconds: time.seconds,
            changed_at_nanoseconds: time.nanoseconds,
            change,
            kind: kind.file_kind(),
            path: self.absolute(relative),
        };
        self.lines.push((relative.to_vec(), entry));
    }
}

/// Compares an older tree with a newer one.
pub(super) fn compare(mountpoint: &Path, older: &Entries, newer: &Entries) -> Vec<DiffEntry> {
    let older_paths = first_path_by_object(older);
    let newer_paths = first_path_by_object(newer);
    let parent_object = |entries: &Entries, path: &[u8]| -> Option<ObjectId> {
        if path.is_empty() {
            None
        } else {
            entries.get(parent_of(path)).map(Entry::object)
        }
    };
    let mut report = Report {
        mountpoint,
        lines: Vec::new(),
    };
    let mut touched_directories: BTreeSet<ObjectId> = BTreeSet::new();
    let mut reported: BTreeSet<ObjectId> = BTreeSet::new();

    for (path, old) in older {
        let is_primary = older_paths.get(&old.object()) == Some(&path.as_slice());
        let counterpart: Option<(&[u8], &Entry)> = if is_primary {
            newer_paths
                .get(&old.object())
                .and_then(|new_path| newer.get(*new_path).map(|new| (*new_path, new)))
                .filter(|(_, new)| new.kind == old.kind)
        } else {
            newer
                .get(path)
                .filter(|new| new.object() == old.object() && new.kind == old.kind)
                .map(|new| (path.as_slice(), new))
        };
        match counterpart {
            Some((new_path, new)) => {
                let moved = parent_object(older, path) != parent_object(newer, new_path)
                    || name_of(path) != name_of(new_path);
                if moved {
                    touched_directories.extend(parent_object(older, path));
                    touched_directories.extend(parent_object(newer, new_path));
                }
                if moved || !old.unchanged(new) {
                    let change = if path.as_slice() == new_path {
                        DiffChange::Modified
                    } else {
                        DiffChange::Renamed {
                            to: report.absolute(new_path),
                        }
                    };
                    report.add(path, change, new.kind, new.ctime);
                    reported.insert(old.object());
                }
            }
            None => {
                report.add(path, DiffChange::Removed, old.kind, old.ctime);
                touched_directories.extend(parent_object(older, path));
            }
        }
    }

    for (path, new) in newer {
        let is_primary = newer_paths.get(&new.object()) == Some(&path.as_slice());
        let existed = if is_primary {
            older_paths
                .get(&new.object())
                .and_then(|old_path| older.get(*old_path))
                .is_some_and(|old| old.kind == new.kind)
        } else {
            older
                .get(path)
                .is_some_and(|old| old.object() == new.object() && old.kind == new.kind)
        };
        if !existed {
            report.add(path, DiffChange::Created, new.kind, new.ctime);
            touched_directories.extend(parent_object(newer, path));
        }
    }

    for object in touched_directories {
        if reported.contains(&object) {
            continue;
        }
        let (Some(old_path), Some(new_path)) = (older_paths.get(&object), newer_paths.get(&object))
        else {
            continue;
        };
        let (Some(old), Some(new)) = (older.get(*old_path), newer.get(*new_path)) else {
            continue;
        };
        if old.kind != EntryKind::Directory || new.kind != EntryKind::Directory {
            continue;
        }
        let change = if old_path == new_path {
            DiffChange::Modified
        } else {
            DiffChange::Renamed {
                to: report.absolute(new_path),
            }
        };
        report.add(old_path, change, new.kind, new.ctime);
    }

    let mut lines = report.lines;
    lines.sort_by(|(left_path, left), (right_path, right)| {
        (left_path, change_rank(&left.change)).cmp(&(right_path, change_rank(&right.change)))
    });
    lines.into_iter().map(|(_, entry)| entry).collect()
}
