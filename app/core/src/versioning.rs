//! The versions of every path across the indexed snapshots: the pure decisions behind the
//! persistent search index. The index keeps one document per *version* of a path — a stretch
//! of consecutive indexed snapshots (ordered by `createtxg`) in which the path's [`Signature`]
//! is unchanged — instead of one per path per snapshot, so that a file kept unchanged in a
//! thousand snapshots costs one document. This module decides which versions to open, close,
//! move or delete when a snapshot is indexed ([`initial`], [`advance`]) or destroyed
//! ([`forget`]); the storage layer only applies the [`VersionOp`]s, so the subtle part (keeping
//! "which paths does snapshot S hold" exact) is tested here without any I/O.
//!
//! A version with `birth` b and `death` d is visible in snapshot S iff `b <= S.txg` and
//! (`d` is `None` or `S.txg < d`); `birth` is the txg of its first indexed snapshot and `death`
//! the txg of the first later indexed snapshot without it (`None`: still in the newest one).
//!
//! The live file system is the pseudo-snapshot [`LIVE_TXG`]: while indexed it is always the
//! newest indexed snapshot and counts as one everywhere (see [`forget`] for what that asks of
//! the caller).

use std::collections::{BTreeMap, BTreeSet};

use crate::entries::{EntryKind, EntryMetadata, FileTime};
use crate::paths::RelativePath;

/// The txg of the live pseudo-snapshot: larger than any real snapshot's `createtxg`, and
/// smaller than `u64::MAX`, which storage uses for "no death yet" (`death: None`).
pub const LIVE_TXG: u64 = u64::MAX - 1;

/// What makes two observations of a path the same version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    pub kind: EntryKind,
    /// Bytes; always 0 for a directory.
    pub size: u64,
    pub modified: FileTime,
    pub inode: u64,
}

impl Signature {
    /// The signature of an entry. A directory's size is ignored (set to 0) because ZFS reports
    /// a directory's size as its number of entries, which its own `modified` already tracks.
    pub fn of(metadata: &EntryMetadata) -> Signature {
        Signature {
            kind: metadata.kind,
            size: match metadata.kind {
                EntryKind::Directory => 0,
                _ => metadata.size,
            },
            modified: metadata.modified,
            inode: metadata.inode,
        }
    }

    /// Whether both are the same directory object (whatever its time stamps say): the entries
    /// below it then stay where they were unless observed otherwise.
    fn is_same_directory(&self, other: &Signature) -> bool {
        self.kind == EntryKind::Directory
            && other.kind == EntryKind::Directory
            && self.inode == other.inode
    }
}

/// A version as the storage layer keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredVersion {
    pub id: u64,
    pub path: RelativePath,
    pub signature: Signature,
    /// The txg of the first indexed snapshot holding this version.
    pub birth: u64,
    /// The txg of the first later indexed snapshot without it; `None` while the newest indexed
    /// snapshot holds it.
    pub death: Option<u64>,
}

impl StoredVersion {
    /// Whether the indexed snapshot with this txg holds this version.
    pub fn is_visible_in(&self, txg: u64) -> bool {
        self.birth <= txg && self.death.is_none_or(|death| txg < death)
    }

    /// Whether the newest indexed snapshot holds this version.
    pub fn is_open(&self) -> bool {
        self.death.is_none()
    }
}

/// What comparing a new snapshot with the previous one says about one path (from `zfs diff`
/// plus a stat in the new snapshot, or from a metadata walk).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    Present {
        path: RelativePath,
        metadata: EntryMetadata,
    },
    Absent {
        path: RelativePath,
    },
}

impl Observed {
    pub fn path(&self) -> &RelativePath {
        match self {
            Self::Present { path, .. } | Self::Absent { path } => path,
        }
    }
}

/// One change for the storage layer to apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionOp {
    /// A new version born at the new snapshot's txg.
    Open {
        path: RelativePath,
        metadata: EntryMetadata,
        birth: u64,
    },
    /// Set a version's death (`Some(txg)`) or reopen it (`None`).
    SetDeath { id: u64, death: Option<u64> },
    /// Set a version's birth (its first snapshot was destroyed).
    SetBirth { id: u64, birth: u64 },
    /// Delete a version (no snapshot holds it any more).
    Delete { id: u64 },
}

/// The first indexed snapshot of a dataset (or the live file system when nothing is indexed)
/// is walked in full: every entry becomes a version born at `txg`. A path listed twice keeps
/// its last entry. Output sorted by path bytes.
pub fn initial(entries: &[(RelativePath, EntryMetadata)], txg: u64) -> Vec<VersionOp> {
    let mut latest: BTreeMap<&RelativePath, &EntryMetadata> = BTreeMap::new();
    for (path, metadata) in entries {
        latest.insert(path, metadata);
    }
    latest
        .into_iter()
        .map(|(path, metadata)| VersionOp::Open {
            path: path.clone(),
            metadata: metadata.clone(),
            birth: txg,
        })
        .collect()
}

/// Indexes snapshot `txg`, which follows the newest indexed snapshot (so a new real snapshot
/// is indexed only after the live pseudo-snapshot has been forgotten). `observations` are
/// what changed since that newest snapshot; `open` finds the open version (death `None`) of a
/// path, `open_below` lists the open versions strictly below a directory.
///
/// - `Present` with an open version of the same signature: nothing. With a different one
///   (or none): the old version (if any) dies at `txg` and a new one is opened.
/// - `Absent`: the open version (if any) dies at `txg`.
/// - A directory whose object leaves its path — `Absent`, or `Present` as another kind or
///   another inode (`mv a b; mkdir a`) — takes the entries below it along: `zfs diff` does not
///   list the children of a renamed directory. Every open version below it dies too, except
///   where the observation nearest to that entry (its own path, or the closest observed
///   ancestor) says otherwise: an entry observed itself is decided by its own observation, and
///   an entry below an observed directory that is still the same directory object (same
///   inode) stays. A directory that merely changed its time stamps keeps its entries.
///
/// Observations may come in any order and repeat a path (the last one wins). Each version dies
/// at most once. Output: every `SetDeath` (sorted by id), then every `Open` (sorted by path
/// bytes); nothing else.
pub fn advance(
    observations: &[Observed],
    txg: u64,
    open: &dyn Fn(&RelativePath) -> Option<StoredVersion>,
    open_below: &dyn Fn(&RelativePath) -> Vec<StoredVersion>,
) -> Vec<VersionOp> {
    // `None`: absent.
    let mut latest: BTreeMap<&RelativePath, Option<&EntryMetadata>> = BTreeMap::new();
    for observation in observations {
        match observation {
            Observed::Present { path, metadata } => latest.insert(path, Some(metadata)),
            Observed::Absent { path } => latest.insert(path, None),
        };
    }

    let mut deaths: BTreeSet<u64> = BTreeSet::new();
    let mut opens: Vec<VersionOp> = Vec::new();
    // Observed paths still holding the directory object they held before.
    let mut same_directories: BTreeSet<&RelativePath> = BTreeSet::new();
    // Observed paths whose directory object left: their entries may have to die.
    let mut departed_directories: BTreeSet<&RelativePath> = BTreeSet::new();
    for (&path, &seen) in &latest {
        let current = open(path).filter(|version| version.is_open() && version.path == *path);
        let new_signature = seen.map(Signature::of);
        if let Some(current) = &current {
            if new_signature != Some(current.signature) {
                deaths.insert(current.id);
            }
            match new_signature {
                Some(signature) if signature.is_same_directory(&current.signature) => {
                    same_directories.insert(path);
                }
                _ if current.signature.kind == EntryKind::Directory => {
                    departed_directories.insert(path);
                }
                _ => {}
            }
        }
        if let Some(metadata) = seen
            && current.map(|version| version.signature) != new_signature
        {
            opens.push(VersionOp::Open {
                path: path.clone(),
                metadata: metadata.clone(),
                birth: txg,
            });
        }
    }

    // `open_below` of the outermost departed directories lists every candidate once.
    for &directory in &departed_directories {
        if has_strict_ancestor_in(directory, &departed_directories) {
            continue;
        }
        for version in open_below(directory) {
            if !version.is_open()
                || version.path == *directory
                || !version.path.starts_with(directory)
                || latest.contains_key(&version.path)
            {
                continue;
            }
            let nearest_observed =
                ancestors(&version.path).find(|ancestor| latest.contains_key(ancestor));
            let stays =
                nearest_observed.is_some_and(|ancestor| same_directories.contains(&ancestor));
            if !stays {
                deaths.insert(version.id);
            }
        }
    }

    deaths
        .into_iter()
        .map(|id| VersionOp::SetDeath {
            id,
            death: Some(txg),
        })
        .chain(opens)
        .collect()
}

/// What a full metadata walk of the new snapshot says changed since the newest indexed one,
/// as observations for [`advance`]: every walked entry whose signature differs from its open
/// version (or that has none) is `Present`, every open version whose path was not walked is
/// `Absent`, and unchanged entries are left out — except below a directory whose object left
/// its path, where every entry is reported, as [`advance`] asks. `open` must hold every open version of the
/// dataset (the walk's alternative to `zfs diff`, which lists changes but costs a lookup per
/// object sharing a metadata block with a changed one). Output sorted by path bytes.
pub fn compare_walk(
    walked: &[(RelativePath, EntryMetadata)],
    open: &[StoredVersion],
) -> Vec<Observed> {
    let open: BTreeMap<&RelativePath, Signature> = open
        .iter()
        .filter(|version| version.is_open())
        .map(|version| (&version.path, version.signature))
        .collect();
    let mut seen: BTreeMap<&RelativePath, &EntryMetadata> = BTreeMap::new();
    for (path, metadata) in walked {
        if !path.is_root() {
            seen.insert(path, metadata);
        }
    }
    // Directories whose object left their path: `advance` takes the entries below them
    // along unless they are observed, so those are reported even when unchanged.
    let departed: BTreeSet<&RelativePath> = open
        .iter()
        .filter(|(_, signature)| signature.kind == EntryKind::Directory)
        .filter(|(path, signature)| {
            !seen
                .get(*path)
                .is_some_and(|metadata| signature.is_same_directory(&Signature::of(metadata)))
        })
        .map(|(path, _)| *path)
        .collect();
    let mut observed: BTreeMap<&RelativePath, Observed> = BTreeMap::new();
    for (&path, &metadata) in &seen {
        if open.get(path) != Some(&Signature::of(metadata))
            || (!departed.is_empty() && has_strict_ancestor_in(path, &departed))
        {
            observed.insert(
                path,
                Observed::Present {
                    path: path.clone(),
                    metadata: metadata.clone(),
                },
            );
        }
    }
    for &path in open.keys() {
        if !seen.contains_key(path) {
            observed.insert(path, Observed::Absent { path: path.clone() });
        }
    }
    observed.into_values().collect()
}

/// The strict ancestors of `path`, innermost first (the root last).
fn ancestors(path: &RelativePath) -> impl Iterator<Item = RelativePath> {
    std::iter::successors(path.parent(), RelativePath::parent)
}

fn has_strict_ancestor_in(path: &RelativePath, set: &BTreeSet<&RelativePath>) -> bool {
    ancestors(path).any(|ancestor| set.contains(&ancestor))
}

/// A version's fate while forgetting a snapshot.
struct Draft<'a> {
    version: &'a StoredVersion,
    birth: u64,
    death: Option<u64>,
    /// `false`: visible in no remaining snapshot.
    kept: bool,
}

/// Un-indexes the destroyed snapshot `destroyed` (its txg), keeping exactly which versions
/// every remaining indexed snapshot holds. `previous`/`next` are the txgs of the nearest
/// older/newer *indexed* snapshots (`None` if none). `touching` holds every stored version
/// whose birth or death equals `destroyed` or `next` (with `next == None`: those whose birth
/// or death equals `destroyed`); extra versions and duplicates are harmless.
///
/// The live pseudo-snapshot is an indexed snapshot like any other: while it is indexed it is
/// the newest, so destroying the newest real snapshot must pass `next = Some(LIVE_TXG)`
/// (passing `None` there would delete versions the live file system still holds). Either that,
/// or forget the live pseudo-snapshot first, then the real one with `next = None`, then index
/// live again — both keep the index exact. Forgetting the live pseudo-snapshot itself (before
/// every refresh) is `destroyed = LIVE_TXG`, `next = None`.
///
/// - Visible only in `destroyed` (born there, dying at `next` or open with no `next`):
///   `Delete`.
/// - Born at `destroyed` and still visible in `next`: `SetBirth { next }`.
/// - Dying at `destroyed`: `SetDeath { next }` (`None` with no `next`: the newest remaining
///   snapshot, `previous`, holds it again). With no `previous` such a version (which cannot
///   exist in a consistent index) is visible nowhere any more and is deleted.
/// - Merge: a version A of a path that now dies at `next`, and a version B of the same path
///   with an equal signature born at `next`, were only told apart by the destroyed snapshot
///   in between (A visible in `previous`, gone or different in `destroyed`, back in `next`):
///   they become one stretch — `SetDeath { A, B.death }` and `Delete { B }`.
///
/// Output: every `Delete`, then every `SetBirth`, then every `SetDeath`, each sorted by id;
/// each id appears once (a version never needs both a new birth and a new death).
pub fn forget(
    destroyed: u64,
    previous: Option<u64>,
    next: Option<u64>,
    touching: &[StoredVersion],
) -> Vec<VersionOp> {
    let mut drafts: BTreeMap<u64, Draft<'_>> = BTreeMap::new();
    for version in touching {
        drafts
            .entry(version.id)
            .or_insert_with(|| draft(version, destroyed, previous, next));
    }

    if let Some(next) = next {
        merge_across(next, &mut drafts);
    }

    let mut deletes = Vec::new();
    let mut births = Vec::new();
    let mut deaths = Vec::new();
    for (&id, draft) in &drafts {
        if !draft.kept {
            deletes.push(VersionOp::Delete { id });
            continue;
        }
        if draft.birth != draft.version.birth {
            births.push(VersionOp::SetBirth {
                id,
                birth: draft.birth,
            });
        }
        if draft.death != draft.version.death {
            deaths.push(VersionOp::SetDeath {
                id,
                death: draft.death,
            });
        }
    }
    deletes.into_iter().chain(births).chain(deaths).collect()
}

/// Where `version` starts and ends once `destroyed` is gone, before merging.
fn draft(
    version: &StoredVersion,
    destroyed: u64,
    previous: Option<u64>,
    next: Option<u64>,
) -> Draft<'_> {
    let mut draft = Draft {
        version,
        birth: version.birth,
        death: version.death,
        kept: true,
    };
    if version.death == Some(destroyed) {
        // Its remaining snapshots are those up to `previous`; the first remaining one without
        // it is now `next`.
        draft.death = next;
        draft.kept = previous.is_some_and(|previous| version.birth <= previous);
    }
    if version.birth == destroyed {
        match next {
            Some(next) => draft.birth = next,
            None => draft.kept = false,
        }
    }
    if draft.death.is_some_and(|death| death <= draft.birth) {
        draft.kept = false;
    }
    draft
}

/// Joins, per path, the kept version dying at `next` with an identical kept version born at
/// `next`. Versions of one path never overlap, so each path has at most one of each.
fn merge_across(next: u64, drafts: &mut BTreeMap<u64, Draft<'_>>) {
    // Per path: (ids dying at `next`, ids born at `next`).
    let mut by_path: BTreeMap<&RelativePath, (Vec<u64>, Vec<u64>)> = BTreeMap::new();
    for (&id, draft) in drafts.iter().filter(|(_, draft)| draft.kept) {
        if draft.death == Some(next) {
            by_path.entry(&draft.version.path).or_default().0.push(id);
        }
        if draft.birth == next {
            by_path.entry(&draft.version.path).or_default().1.push(id);
        }
    }
    let mut joins: Vec<(u64, u64, Option<u64>)> = Vec::new();
    for (dying, born) in by_path.values() {
        let ([earlier], [later]) = (dying.as_slice(), born.as_slice()) else {
            continue;
        };
        let (Some(earlier_draft), Some(later_draft)) = (drafts.get(earlier), drafts.get(later))
        else {
            continue;
        };
        if earlier_draft.version.signature == later_draft.version.signature {
            joins.push((*earlier, *later, later_draft.death));
        }
    }
    for (earlier, later, death) in joins {
        if let Some(draft) = drafts.get_mut(&earlier) {
            draft.death = death;
        }
        if let Some(draft) = drafts.get_mut(&later) {
            draft.kept = false;
        }
    }
}

#[cfg(test)]
mod tests;
