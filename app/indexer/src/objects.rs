//! The object comparison ([`crate::Method::Objects`]): which paths changed between two
//! snapshots, found from the object records of the incremental `zfs send` stream between
//! them (`wizfs_zfs::objects`) instead of `zfs diff` or a walk.
//!
//! The stream carries the dnode of every object sharing a dnode block with a changed one.
//! Comparing each dnode's fingerprint with the one stored for the previous snapshot leaves
//! the objects that really changed; [`ObjectTree`] (the previous snapshot's paths by object
//! number, kept in memory for one run) turns them into paths, and the new snapshot is read
//! only there:
//! - a changed object is stat-ed at each path it had (a changed file, or a directory whose
//!   own times changed);
//! - a changed directory is listed (`getdents`, no stat) and compared with its previous
//!   entries by name and object number: a name that is new or names another object is
//!   stat-ed — and read in full if it is a directory (created, moved in, or replaced) — a
//!   name that is gone is absent.
//!
//! Any change of a path shows up this way: content, size or times change the object's
//! dnode; creating, removing or renaming an entry changes its directory's dnode (size and
//! times), up to a directory the previous snapshot had.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use wizfs_core::versioning::{Observed, StoredVersion};
use wizfs_core::{EntryKind, RelativePath};
use wizfs_restore::SafeRoot;
use wizfs_zfs::objects::ObjectScan;

use crate::{IndexerResult, is_unreachable, present_or_absent, tree_below};

/// The previous snapshot's paths with their object numbers (inode numbers on ZFS).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ObjectTree {
    /// Path bytes → (object, kind). The root (empty path) is included.
    entries: BTreeMap<Vec<u8>, (u64, EntryKind)>,
    /// Object → the paths it was seen at (hard links have several). May hold stale paths:
    /// only those whose entry still names the object count.
    paths: BTreeMap<u64, Vec<Vec<u8>>>,
}

impl ObjectTree {
    /// The tree of the open versions of a dataset, whose root directory is `root_object`.
    pub fn new(open: &[StoredVersion], root_object: u64) -> ObjectTree {
        let mut tree = ObjectTree::default();
        tree.insert(Vec::new(), root_object, EntryKind::Directory);
        for version in open.iter().filter(|version| version.is_open()) {
            tree.insert(
                version.path.as_bytes().to_vec(),
                version.signature.inode,
                version.signature.kind,
            );
        }
        tree
    }

    fn insert(&mut self, path: Vec<u8>, object: u64, kind: EntryKind) {
        let paths = self.paths.entry(object).or_default();
        if !paths.contains(&path) {
            paths.push(path.clone());
        }
        self.entries.insert(path, (object, kind));
    }

    /// Removes every entry strictly below `path`.
    fn remove_below(&mut self, path: &[u8]) {
        let below: Vec<Vec<u8>> = self.below(path).map(|(key, _)| key.to_vec()).collect();
        for key in below {
            self.entries.remove(&key);
        }
    }

    /// Entries strictly below `path`, in byte order.
    fn below<'a>(
        &'a self,
        path: &[u8],
    ) -> impl Iterator<Item = (&'a [u8], &'a (u64, EntryKind))> + 'a {
        let mut prefix = path.to_vec();
        if !prefix.is_empty() {
            prefix.push(b'/');
        }
        self.entries
            .range(prefix.clone()..)
            .take_while(move |(key, _)| key.starts_with(&prefix))
            .filter(|(key, _)| !key.is_empty())
            .map(|(key, value)| (key.as_slice(), value))
    }

    /// The entries directly in directory `path`: name → object.
    fn children(&self, path: &[u8]) -> HashMap<&[u8], u64> {
        let skip = if path.is_empty() { 0 } else { path.len() + 1 };
        self.below(path)
            .map(|(key, (object, _))| (&key[skip..], *object))
            .filter(|(name, _)| !name.contains(&b'/'))
            .collect()
    }

    /// Where `object` was, with its kind there.
    fn paths_of(&self, object: u64) -> impl Iterator<Item = (&[u8], EntryKind)> + '_ {
        self.paths
            .get(&object)
            .into_iter()
            .flatten()
            .filter_map(move |path| match self.entries.get(path) {
                Some((at, kind)) if *at == object => Some((path.as_slice(), *kind)),
                _ => None,
            })
    }

    /// Whether the tree knows `object` at some path.
    fn knows(&self, object: u64) -> bool {
        self.paths_of(object).next().is_some()
    }

    /// Follows a snapshot's observations the way `versioning::advance` does: an absent path
    /// takes everything below along, and so does a directory replaced by another object
    /// (whatever was observed below it is added back).
    pub fn apply(&mut self, observed: &[Observed]) {
        let mut sorted: Vec<&Observed> = observed.iter().collect();
        sorted.sort_by(|a, b| a.path().cmp(b.path()));
        for observation in sorted {
            let path = observation.path().as_bytes();
            match observation {
                Observed::Absent { .. } => {
                    self.remove_below(path);
                    self.entries.remove(path);
                }
                Observed::Present { metadata, .. } => {
                    let same_directory = self.entries.get(path).is_some_and(|(object, kind)| {
                        *kind == EntryKind::Directory
                            && metadata.kind == EntryKind::Directory
                            && *object == metadata.inode
                    });
                    if !same_directory {
                        self.remove_below(path);
                    }
                    self.insert(path.to_vec(), metadata.inode, metadata.kind);
                }
            }
        }
    }

    #[cfg(test)]
    pub fn paths(&self) -> Vec<(String, u64)> {
        self.entries
            .iter()
            .map(|(path, (object, _))| (String::from_utf8_lossy(path).into_owned(), *object))
            .collect()
    }
}

/// The objects of `scan` that changed since the snapshot `stored` describes: those whose
/// fingerprint differs from the stored one (`stored[i]` is for `scan.objects[i]`; unknown
/// counts as changed) and those the tree knows in a freed range. Sorted, without repeats.
pub(crate) fn changed_objects(
    scan: &ObjectScan,
    stored: &[Option<u64>],
    tree: &ObjectTree,
) -> Vec<u64> {
    let mut changed: BTreeSet<u64> = scan
        .objects
        .iter()
        .zip(stored)
        .filter(|((_, fingerprint), stored)| **stored != Some(*fingerprint))
        .map(|((object, _), _)| *object)
        .collect();
    for &(first, count) in &scan.freed {
        let end = first.saturating_add(count);
        changed.extend(
            tree.paths
                .range(first..end)
                .map(|(object, _)| *object)
                .filter(|object| tree.knows(*object)),
        );
    }
    changed.into_iter().collect()
}

/// The observations for the `changed` objects, reading the new snapshot `root` (see the
/// module documentation). Sorted by path.
pub(crate) fn observe(
    tree: &ObjectTree,
    changed: &[u64],
    root: &SafeRoot,
) -> IndexerResult<Vec<Observed>> {
    let mut observed: BTreeMap<RelativePath, Observed> = BTreeMap::new();
    let mut to_list: BTreeSet<RelativePath> = BTreeSet::new();
    // Directories read in full: nothing below them needs listing again.
    let mut read_in_full: Vec<RelativePath> = Vec::new();
    let observe_path = |path: RelativePath,
                        before: Option<(u64, EntryKind)>,
                        observed: &mut BTreeMap<RelativePath, Observed>,
                        read_in_full: &mut Vec<RelativePath>|
     -> IndexerResult<()> {
        let observation = present_or_absent(root, path.clone())?;
        if let Observed::Present { metadata, .. } = &observation
            && metadata.kind == EntryKind::Directory
            && before != Some((metadata.inode, EntryKind::Directory))
        {
            for entry in tree_below(root, &path)? {
                observed.insert(
                    entry.path.clone(),
                    Observed::Present {
                        path: entry.path,
                        metadata: entry.metadata,
                    },
                );
            }
            read_in_full.push(path.clone());
        }
        observed.insert(path, observation);
        Ok(())
    };

    for &object in changed {
        for (path, kind) in tree.paths_of(object) {
            let path = RelativePath::new(path)?;
            if kind == EntryKind::Directory {
                to_list.insert(path.clone());
            }
            if !path.is_root() {
                observe_path(path, Some((object, kind)), &mut observed, &mut read_in_full)?;
            }
        }
    }
    for directory in &to_list {
        if read_in_full.iter().any(|full| directory.starts_with(full)) {
            continue;
        }
        let listing = match root.list_inodes(directory) {
            Ok(listing) => listing,
            // Gone or replaced by a file: its own path was observed above.
            Err(error) if is_unreachable(&error) => continue,
            Err(error) => return Err(error.into()),
        };
        let before = tree.children(directory.as_bytes());
        for (name, object) in &listing {
            let previous = before.get(name.as_slice()).copied();
            if previous == Some(*object) {
                continue;
            }
            let child = directory.join(name)?;
            if observed.contains_key(&child) {
                // Already stat-ed as a changed object's path (and read in full if needed).
                continue;
            }
            let kind_before = tree.entries.get(child.as_bytes()).map(|(_, kind)| *kind);
            let before_entry = previous.zip(kind_before);
            observe_path(child, before_entry, &mut observed, &mut read_in_full)?;
        }
        let listed: BTreeSet<&[u8]> = listing.iter().map(|(name, _)| name.as_slice()).collect();
        for name in before.keys().filter(|name| !listed.contains(*name)) {
            let child = directory.join(name)?;
            observed.insert(child.clone(), Observed::Absent { path: child });
        }
    }
    Ok(observed.into_values().collect())
}

#[cfg(test)]
mod tests;
