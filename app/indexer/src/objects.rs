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
//!   own times changed) — unless it is not a directory, no directory above the path changed
//!   (so the name still holds it) and its bonus buffer in the stream can be trusted
//!   ([`Decoder`]): then the metadata comes from there;
//! - a changed directory is listed (`getdents`, no stat) and compared with its previous
//!   entries by name and object number: a name that is new or names another object is
//!   decoded the same way or stat-ed — and read in full if it is a directory (created, moved
//!   in, or replaced) — a name that is gone is absent.
//!
//! The snapshot is opened (mounted) only when something must be stat-ed or listed
//! ([`LazyRoot`]): files changed in place need nothing but the stream.
//!
//! Any change of a path shows up this way: content, size or times change the object's
//! dnode; creating, removing or renaming an entry changes its directory's dnode (size and
//! times), up to a directory the previous snapshot had.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use wizfs_core::versioning::{Observed, StoredVersion};
use wizfs_core::{EntryKind, EntryMetadata, FileTime, RelativePath};
use wizfs_index::FingerprintUpdate;
use wizfs_restore::SafeRoot;
use wizfs_zfs::objects::{ObjectScan, ZplAttributes};

use crate::error::IndexerResult;
use crate::reading::{is_unreachable, present_or_absent, tree_below};

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

/// The fingerprints of the objects a run has read or written, as the catalogue holds them
/// for the snapshot with createtxg `as_of`: a read-through cache, so that comparing many
/// snapshots in one run reads each object's fingerprint from the catalogue once.
#[derive(Clone, Debug, Default)]
pub(crate) struct FingerprintCache {
    as_of: u64,
    known: BTreeMap<u64, Option<u64>>,
}

impl FingerprintCache {
    /// The stored fingerprints of `objects` for the snapshot `as_of` (see
    /// `IndexStore::object_fingerprints`), those not cached from `load`.
    pub fn lookup(
        &mut self,
        as_of: u64,
        objects: &[u64],
        load: impl FnOnce(&[u64]) -> IndexerResult<Vec<Option<u64>>>,
    ) -> IndexerResult<Vec<Option<u64>>> {
        if as_of != self.as_of {
            self.known.clear();
            self.as_of = as_of;
        }
        let missing: Vec<u64> = objects
            .iter()
            .copied()
            .filter(|object| !self.known.contains_key(object))
            .collect();
        if !missing.is_empty() {
            let loaded = load(&missing)?;
            self.known.extend(missing.into_iter().zip(loaded));
        }
        Ok(objects
            .iter()
            .map(|object| self.known.get(object).copied().flatten())
            .collect())
    }

    /// Follows an update of the catalogue's fingerprints (made, or about to be made, in the
    /// same run).
    pub fn advance(&mut self, update: &FingerprintUpdate) {
        if update.base != self.as_of {
            self.known.clear();
        }
        for &(first, count) in &update.freed {
            let freed: Vec<u64> = self
                .known
                .range(first..first.saturating_add(count))
                .map(|(object, _)| *object)
                .collect();
            for object in freed {
                self.known.insert(object, None);
            }
        }
        for &(object, fingerprint) in &update.set {
            self.known.insert(object, Some(fingerprint));
        }
        self.as_of = update.as_of;
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

/// A snapshot's root, opened (for a snapshot: mounted) on first use only — a comparison
/// that reads everything it needs from the stream never mounts the snapshot.
pub(crate) struct LazyRoot<'a> {
    open: &'a dyn Fn() -> IndexerResult<SafeRoot>,
    root: OnceCell<SafeRoot>,
}

impl<'a> LazyRoot<'a> {
    pub fn new(open: &'a dyn Fn() -> IndexerResult<SafeRoot>) -> Self {
        LazyRoot {
            open,
            root: OnceCell::new(),
        }
    }

    pub fn get(&self) -> IndexerResult<&SafeRoot> {
        if let Some(root) = self.root.get() {
            return Ok(root);
        }
        let root = (self.open)()?;
        Ok(self.root.get_or_init(|| root))
    }

    /// The root, if it was opened.
    pub fn into_opened(self) -> Option<SafeRoot> {
        self.root.into_inner()
    }
}

/// Which of a dataset's system-attribute layouts (by number) a stat has confirmed (`true`)
/// or contradicted (`false`) as read by [`ZplAttributes::read`].
pub(crate) type Layouts = HashMap<u16, bool>;

/// What the stream's bonus buffers say about its objects, used instead of a stat where the
/// object's layout is confirmed: a layout is trusted only after a stat of an object of that
/// layout agreed field by field (kind, permissions, size, owner, times, links), every later
/// stat checks again, and a disagreement distrusts it for good.
pub(crate) struct Decoder<'a> {
    /// By object number (a stream sends objects in ascending order; sorted here if not).
    attributes: Cow<'a, [(u64, ZplAttributes)]>,
    layouts: &'a mut Layouts,
    /// Layouts this comparison decoded with.
    used: BTreeSet<u16>,
    /// Observations made from a bonus buffer instead of a stat.
    pub decoded: usize,
    /// A layout was contradicted after this comparison had decoded with it.
    pub contradicted: bool,
}

impl<'a> Decoder<'a> {
    pub fn new(attributes: &'a [(u64, ZplAttributes)], layouts: &'a mut Layouts) -> Self {
        let attributes = if attributes.is_sorted_by_key(|(object, _)| *object) {
            Cow::Borrowed(attributes)
        } else {
            let mut sorted = attributes.to_vec();
            sorted.sort_by_key(|(object, _)| *object);
            Cow::Owned(sorted)
        };
        Decoder {
            attributes,
            layouts,
            used: BTreeSet::new(),
            decoded: 0,
            contradicted: false,
        }
    }

    /// A decoder that decodes nothing (and checks nothing).
    pub fn off(layouts: &'a mut Layouts) -> Self {
        Decoder::new(&[], layouts)
    }

    /// The attributes the stream holds for `object`.
    fn attributes_of(&self, object: u64) -> Option<ZplAttributes> {
        let at = self
            .attributes
            .binary_search_by_key(&object, |(object, _)| *object)
            .ok()?;
        Some(self.attributes[at].1)
    }

    /// The metadata of `object` from its bonus buffer, if its layout is confirmed and it is
    /// not a directory (directories are listed, which needs their snapshot anyway).
    fn metadata(&mut self, object: u64) -> Option<EntryMetadata> {
        let attributes = self.attributes_of(object)?;
        if self.layouts.get(&attributes.layout) != Some(&true) {
            return None;
        }
        let metadata = metadata_of(object, &attributes)?;
        if metadata.kind == EntryKind::Directory {
            return None;
        }
        self.used.insert(attributes.layout);
        self.decoded += 1;
        Some(metadata)
    }

    /// Compares a stat of an object with its bonus buffer.
    fn check(&mut self, stat: &EntryMetadata) {
        let Some(attributes) = self.attributes_of(stat.inode) else {
            return;
        };
        if self.layouts.get(&attributes.layout) == Some(&false) {
            return;
        }
        let agrees = metadata_of(stat.inode, &attributes).is_some_and(|decoded| {
            let comparable = |metadata: &EntryMetadata| EntryMetadata {
                allocated: 0,
                symlink_target: None,
                ..metadata.clone()
            };
            comparable(&decoded) == comparable(stat)
        });
        if !agrees && self.used.contains(&attributes.layout) {
            self.contradicted = true;
        }
        self.layouts.insert(attributes.layout, agrees);
    }
}

/// An object's metadata as its bonus buffer holds it. The bonus buffer has neither the
/// space allocated nor a symlink's target: they are 0 and `None` (the index keeps neither).
fn metadata_of(object: u64, attributes: &ZplAttributes) -> Option<EntryMetadata> {
    let kind = match attributes.mode & 0o170_000 {
        0o100_000 => EntryKind::File,
        0o040_000 => EntryKind::Directory,
        0o120_000 => EntryKind::Symlink,
        0o010_000 => EntryKind::Fifo,
        0o140_000 => EntryKind::Socket,
        0o020_000 => EntryKind::CharacterDevice,
        0o060_000 => EntryKind::BlockDevice,
        _ => return None,
    };
    let time = |(seconds, nanoseconds): (u64, u64)| -> Option<FileTime> {
        Some(FileTime {
            seconds: i64::try_from(seconds).ok()?,
            nanoseconds: u32::try_from(nanoseconds).ok()?,
        })
    };
    Some(EntryMetadata {
        kind,
        size: attributes.size,
        allocated: 0,
        mode: (attributes.mode & 0o7777) as u32,
        uid: u32::try_from(attributes.uid).ok()?,
        gid: u32::try_from(attributes.gid).ok()?,
        modified: time(attributes.modified)?,
        changed: time(attributes.changed)?,
        inode: object,
        links: attributes.links,
        symlink_target: None,
    })
}

/// The observations for the `changed` objects, reading the new snapshot `root` (see the
/// module documentation) where `decoder` cannot say. Sorted by path.
pub(crate) fn observe(
    tree: &ObjectTree,
    changed: &[u64],
    root: &LazyRoot,
    decoder: &mut Decoder,
) -> IndexerResult<Vec<Observed>> {
    let mut observed: BTreeMap<RelativePath, Observed> = BTreeMap::new();
    let mut to_list: BTreeSet<RelativePath> = BTreeSet::new();
    // Directories read in full: nothing below them needs listing again.
    let mut read_in_full: Vec<RelativePath> = Vec::new();
    let observe_path = |path: RelativePath,
                        before: Option<(u64, EntryKind)>,
                        decoder: &mut Decoder,
                        observed: &mut BTreeMap<RelativePath, Observed>,
                        read_in_full: &mut Vec<RelativePath>|
     -> IndexerResult<()> {
        let observation = present_or_absent(root.get()?, path.clone())?;
        if let Observed::Present { metadata, .. } = &observation {
            decoder.check(metadata);
            if metadata.kind == EntryKind::Directory
                && before != Some((metadata.inode, EntryKind::Directory))
            {
                for entry in tree_below(root.get()?, &path)? {
                    decoder.check(&entry.metadata);
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
        }
        observed.insert(path, observation);
        Ok(())
    };
    // A path still names the object it named before when no directory above it changed
    // (a directory the tree does not know counts as changed).
    let changed_set: BTreeSet<u64> = changed.iter().copied().collect();
    let name_holds = |path: &[u8]| {
        let parents = path
            .iter()
            .enumerate()
            .filter(|(_, byte)| **byte == b'/')
            .map(|(at, _)| &path[..at]);
        std::iter::once(&path[..0]).chain(parents).all(|parent| {
            tree.entries
                .get(parent)
                .is_some_and(|(object, _)| !changed_set.contains(object))
        })
    };

    for &object in changed {
        for (path, kind) in tree.paths_of(object) {
            let holds = name_holds(path);
            let path = RelativePath::new(path)?;
            if kind == EntryKind::Directory {
                to_list.insert(path.clone());
            }
            if path.is_root() {
                continue;
            }
            if kind != EntryKind::Directory
                && holds
                && let Some(metadata) = decoder.metadata(object)
            {
                observed.insert(path.clone(), Observed::Present { path, metadata });
                continue;
            }
            observe_path(
                path,
                Some((object, kind)),
                decoder,
                &mut observed,
                &mut read_in_full,
            )?;
        }
    }
    for directory in &to_list {
        if read_in_full.iter().any(|full| directory.starts_with(full)) {
            continue;
        }
        let listing = match root.get()?.list_inodes(directory) {
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
            // The listing says which object the name holds: its bonus buffer may say the rest.
            if let Some(metadata) = decoder.metadata(*object) {
                observed.insert(
                    child.clone(),
                    Observed::Present {
                        path: child,
                        metadata,
                    },
                );
                continue;
            }
            let kind_before = tree.entries.get(child.as_bytes()).map(|(_, kind)| *kind);
            let before_entry = previous.zip(kind_before);
            observe_path(
                child,
                before_entry,
                decoder,
                &mut observed,
                &mut read_in_full,
            )?;
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
