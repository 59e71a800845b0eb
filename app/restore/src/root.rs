//! [`SafeRoot`]: the only way this crate reaches a file. A tree root (a dataset's live
//! mountpoint or one of its snapshots) is held as an open directory, and every
//! [`RelativePath`] below it is resolved with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
//! RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)`: a symlink anywhere in the path, a way out of
//! the root or a step into another mount (a child dataset) is refused by the kernel itself,
//! so a user who controls the dataset's content cannot make a restore, a preview or a
//! download touch anything outside it, whatever races they run. The final component of a
//! path is always handled relative to its parent's descriptor without following it.
//!
//! Reading (browse, version lists, planner input, previews) lives here too, because it is
//! the same resolution.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use wizfs_core::{EntryKind, EntryMetadata, NameKind, RelativePath, TreeEntry};

use crate::error::{RestoreError, RestoreResult, invalid_path, io_failure, system_failure};
use crate::system::{Observed, directory_entries, directory_names, kind_of_mode, observe_at};

#[cfg(test)]
mod tests;

/// How every path below a root is resolved.
const STRICT_RESOLUTION: ResolveFlags = ResolveFlags::BENEATH
    .union(ResolveFlags::NO_SYMLINKS)
    .union(ResolveFlags::NO_MAGICLINKS)
    .union(ResolveFlags::NO_XDEV);

/// The name of the ZFS control directory at a dataset's root.
const CONTROL_DIRECTORY: &[u8] = b".zfs";

/// How often a resolution interrupted by a concurrent rename or mount (`EAGAIN`) is retried.
const RESOLUTION_ATTEMPTS: usize = 16;

/// `f_type` of a ZFS file system in `statfs` (OpenZFS's `ZFS_SUPER_MAGIC`).
const ZFS_SUPER_MAGIC: u64 = 0x2fc1_2fc1;

/// How often, and how far apart, a snapshot that ZFS did not mount on first access is
/// opened again (about 10 s in all: ZFS mounts a snapshot through a `mount` helper process,
/// which a loaded or emulated machine can make slow).
const SNAPSHOT_MOUNT_ATTEMPTS: u32 = 40;
const SNAPSHOT_MOUNT_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// Serializes this process's snapshot automounts and unmounts. OpenZFS without the fix of
/// openzfs/zfs#17659 (PR #17943, late 2025: in none of the 2.3 and 2.1 releases WiZFS runs
/// on) panics the kernel — `VERIFY(avl_find(tree, new_node, &where) == NULL)` in
/// `zfsctl_snapshot_mount` — when two threads make ZFS mount the same fresh snapshot at
/// once; the demo appliance's browser story hit it (a page read a snapshot while the indexer
/// did). Process-wide on purpose: the race is in the kernel, whichever part of WiZFS opens
/// the snapshot (recovery, the indexer, restores). WiZFS's one piece of global state
/// (ARCHITECTURE.md, "Invariants").
static SNAPSHOT_MOUNTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// An open tree root; see the [module documentation](self).
#[derive(Debug)]
pub struct SafeRoot {
    directory: OwnedFd,
    /// Where the root was opened (for messages and for unmounting a snapshot).
    location: PathBuf,
    /// `Some(short name)` for a snapshot root.
    snapshot: Option<String>,
    /// The device of the root directory: entries on another device belong to other mounts.
    device: (u32, u32),
}

impl SafeRoot {
    /// Opens a dataset's live mountpoint (which must be a directory, not a symlink).
    pub fn open_live(mountpoint: &Path) -> RestoreResult<SafeRoot> {
        let directory = open_mountpoint(mountpoint)?;
        SafeRoot::from_directory(directory, mountpoint.to_path_buf(), None)
    }

    /// Opens `<mountpoint>/.zfs/snapshot/<short_name>` (which makes ZFS mount the snapshot).
    /// Call [`SafeRoot::forget_snapshot_mount`] when done.
    ///
    /// On ZFS the opened directory must be the root of the snapshot's mount: when ZFS fails to
    /// mount a snapshot on first access (its `mount` helper failed or raced another one), the
    /// kernel hands out the empty placeholder directory instead, and reading that would say
    /// that every file is missing from the snapshot — so the indexer would record them all as
    /// deleted and a restore would find nothing. The open is retried for a while and then
    /// refused ([`RestoreError::SnapshotNotMounted`]). Callers that can ask ZFS whether the
    /// snapshot exists use [`SafeRoot::open_snapshot_checked`], which does not wait for a
    /// snapshot that is gone.
    pub fn open_snapshot(mountpoint: &Path, short_name: &str) -> RestoreResult<SafeRoot> {
        SafeRoot::open_snapshot_checked(mountpoint, short_name, &|| true)
    }

    /// [`SafeRoot::open_snapshot`], asking `still_exists` once ZFS handed out the placeholder
    /// instead of mounting the snapshot: a snapshot that was destroyed after it had been
    /// looked at leaves its directory entry behind in `.zfs/snapshot` (a cached entry of the
    /// control directory), ZFS's mount helper fails on it, and waiting would only end in
    /// "not mounted" 10 s later. When `still_exists` says no, the answer is
    /// [`RestoreError::SnapshotMissing`] at once; when it says yes (or cannot tell: answer
    /// `true` then), the open is retried as before. A name that was never a snapshot fails at
    /// once without asking ([`RestoreError::OpenRoot`] with `ENOENT`).
    pub fn open_snapshot_checked(
        mountpoint: &Path,
        short_name: &str,
        still_exists: &dyn Fn() -> bool,
    ) -> RestoreResult<SafeRoot> {
        SafeRoot::open_snapshot_with(
            mountpoint,
            short_name,
            still_exists,
            &MountCheck {
                attempts: SNAPSHOT_MOUNT_ATTEMPTS,
                pause: SNAPSHOT_MOUNT_PAUSE,
                is_mounted: &is_snapshot_mount,
            },
        )
    }

    fn open_snapshot_with(
        mountpoint: &Path,
        short_name: &str,
        still_exists: &dyn Fn() -> bool,
        check: &MountCheck<'_>,
    ) -> RestoreResult<SafeRoot> {
        wizfs_core::validate_short_name(NameKind::Snapshot, short_name).map_err(|source| {
            RestoreError::InvalidSnapshotName {
                name: short_name.to_owned(),
                source,
            }
        })?;
        let dataset_root = open_mountpoint(mountpoint)?;
        let relative = Path::new(".zfs").join("snapshot").join(short_name);
        let location = mountpoint.join(&relative);
        let mut attempt = 0;
        loop {
            attempt += 1;
            // The open makes ZFS mount the snapshot: one at a time (see SNAPSHOT_MOUNTS).
            let opened = {
                let _turn = SNAPSHOT_MOUNTS
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                // No RESOLVE_NO_XDEV here: the snapshot is a mount of its own below `.zfs`.
                match rustix::fs::openat2(
                    &dataset_root,
                    &relative,
                    directory_flags(),
                    Mode::empty(),
                    ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
                ) {
                    Ok(directory) => {
                        let mounted = (check.is_mounted)(dataset_root.as_fd(), directory.as_fd())?;
                        mounted.then_some(directory)
                    }
                    // OpenZFS 2.1 answers ELOOP while the last mount of the snapshot is still
                    // being detached (its mount helper then mounts nothing and the kernel's
                    // automount gives up): not mounted yet, like the placeholder below.
                    Err(Errno::LOOP) if attempt < check.attempts => None,
                    Err(errno) => {
                        return Err(RestoreError::OpenRoot {
                            location,
                            source: std::io::Error::from(errno),
                        });
                    }
                }
            };
            if let Some(directory) = opened {
                return SafeRoot::from_directory(directory, location, Some(short_name.to_owned()));
            }
            if attempt == 1 && !still_exists() {
                return Err(RestoreError::SnapshotMissing {
                    name: short_name.to_owned(),
                    location,
                });
            }
            if attempt >= check.attempts {
                return Err(RestoreError::SnapshotNotMounted { location });
            }
            std::thread::sleep(check.pause);
        }
    }

    fn from_directory(
        directory: OwnedFd,
        location: PathBuf,
        snapshot: Option<String>,
    ) -> RestoreResult<SafeRoot> {
        let observed =
            observe_at(directory.as_fd(), b"", &RelativePath::root())?.ok_or_else(|| {
                RestoreError::OpenRoot {
                    location: location.clone(),
                    source: std::io::Error::from(Errno::NOENT),
                }
            })?;
        Ok(SafeRoot {
            directory,
            location,
            snapshot,
            device: observed.device,
        })
    }

    /// Where this root was opened.
    pub fn location(&self) -> &Path {
        &self.location
    }

    /// The snapshot's short name for a snapshot root, `None` for a live root.
    pub fn snapshot_short_name(&self) -> Option<&str> {
        self.snapshot.as_deref()
    }

    /// Best effort: lazily unmounts (`umount2(MNT_DETACH | UMOUNT_NOFOLLOW)`) the automount
    /// of a snapshot root, so snapshots WiZFS looked at do not stay mounted until ZFS expires
    /// them minutes later. Does nothing for a live root. Failures are ignored — `EPERM` (no
    /// privilege), `EINVAL` (not a mount point: `FakeZfs`, or already expired), `EBUSY`,
    /// `ENOENT` and anything else alike: the mount then simply expires on its own, which is
    /// what happens without this call. The root is closed first either way.
    pub fn forget_snapshot_mount(self) {
        let SafeRoot {
            directory,
            location,
            snapshot,
            ..
        } = self;
        drop(directory);
        if snapshot.is_some() {
            let _turn = SNAPSHOT_MOUNTS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let _ = rustix::mount::unmount(
                &location,
                rustix::mount::UnmountFlags::DETACH | rustix::mount::UnmountFlags::NOFOLLOW,
            );
        }
    }

    /// `lstat` of `path` (a symlink is described, not followed); `None` when it does not
    /// exist (also when an ancestor is not a directory).
    pub fn stat(&self, path: &RelativePath) -> RestoreResult<Option<EntryMetadata>> {
        Ok(self.observe(path)?.map(|observed| observed.metadata))
    }

    /// Like [`SafeRoot::stat`], but a path below a symbolic link is not an error: it is
    /// [`Lookup::BehindSymlink`], naming the outermost symlink. WiZFS never follows it, so in
    /// this tree the path is simply not there — how version lists and restore planning see a
    /// path whose directory was later replaced by a symlink (or was one in an older
    /// snapshot).
    pub fn lookup(&self, path: &RelativePath) -> RestoreResult<Lookup> {
        match self.observe(path) {
            Ok(Some(observed)) => Ok(Lookup::Present(observed.metadata)),
            Ok(None) => Ok(Lookup::Absent),
            Err(RestoreError::SymlinkInPath { symlink, .. }) if &symlink != path => {
                Ok(Lookup::BehindSymlink(symlink))
            }
            Err(other) => Err(other),
        }
    }

    /// The entries of the directory `path`, one level, sorted by name bytes. `.zfs` at the
    /// dataset root is left out.
    pub fn list_directory(&self, path: &RelativePath) -> RestoreResult<Vec<TreeEntry>> {
        Ok(self
            .children(path)?
            .into_iter()
            .map(|(entry, _)| entry)
            .collect())
    }

    /// The names in the directory `path` with their inode numbers, read by `getdents`
    /// alone (nothing is stat-ed), sorted by name bytes; `.zfs` at the dataset root is left
    /// out. On ZFS the inode number is the object number.
    pub fn list_inodes(&self, path: &RelativePath) -> RestoreResult<Vec<(Vec<u8>, u64)>> {
        let directory = self.open_directory(path)?;
        let mut entries = directory_entries(directory.as_fd(), path)?;
        if path.is_root() {
            entries.retain(|(name, _)| name != CONTROL_DIRECTORY);
        }
        entries.sort();
        Ok(entries)
    }

    /// `path` itself, then everything below it, parents before children and each directory's
    /// entries sorted by name bytes (depth first). Symlinks are listed, never followed;
    /// directories on another device (child dataset mountpoints) are listed without their
    /// content; `.zfs` at the dataset root is left out. Empty when `path` does not exist.
    pub fn read_tree(&self, path: &RelativePath) -> RestoreResult<Vec<TreeEntry>> {
        let Some(top) = self.observe(path)? else {
            return Ok(Vec::new());
        };
        let descend = top.metadata.kind == EntryKind::Directory
            && (path.is_root() || self.is_on_root_file_system(&top));
        let mut tree = vec![TreeEntry {
            path: path.clone(),
            metadata: top.metadata,
        }];
        if !descend {
            return Ok(tree);
        }
        let mut pending = vec![self.children_if_present(path)?.into_iter()];
        while let Some(level) = pending.last_mut() {
            match level.next() {
                None => {
                    pending.pop();
                }
                Some((entry, descend)) => {
                    let directory = descend.then(|| entry.path.clone());
                    tree.push(entry);
                    if let Some(directory) = directory {
                        pending.push(self.children_if_present(&directory)?.into_iter());
                    }
                }
            }
        }
        Ok(tree)
    }

    /// Opens `path` for reading if, and only if, it is a regular file: a FIFO (which would
    /// block), a device (whose open can have effects), a socket, a directory or a symlink is
    /// refused with [`RestoreError::NotARegularFile`].
    pub fn open_regular_file(&self, path: &RelativePath) -> RestoreResult<File> {
        if path.is_root() {
            return Err(RestoreError::NotARegularFile {
                path: path.clone(),
                kind: EntryKind::Directory,
            });
        }
        let (parent, name) = self.open_parent(path)?;
        let observed =
            observe_at(parent.as_fd(), &name, path)?.ok_or_else(|| self.not_found(path))?;
        if observed.metadata.kind != EntryKind::File {
            return Err(RestoreError::NotARegularFile {
                path: path.clone(),
                kind: observed.metadata.kind,
            });
        }
        // O_NONBLOCK and the check on the opened descriptor: if the entry was swapped for a
        // FIFO since the `statx`, the open neither blocks nor is the FIFO read.
        let file = rustix::fs::openat(
            &parent,
            &name[..],
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY,
            Mode::empty(),
        )
        .map_err(|errno| match errno {
            Errno::LOOP => RestoreError::NotARegularFile {
                path: path.clone(),
                kind: EntryKind::Symlink,
            },
            Errno::NOENT => self.not_found(path),
            other => system_failure("open", path, other),
        })?;
        let opened =
            rustix::fs::fstat(&file).map_err(|errno| system_failure("open", path, errno))?;
        #[allow(
            clippy::useless_conversion,
            reason = "st_mode's width differs between architectures"
        )]
        let mode = u32::try_from(opened.st_mode).unwrap_or_default();
        match kind_of_mode(mode) {
            Some(EntryKind::File) => Ok(File::from(file)),
            Some(kind) => Err(RestoreError::NotARegularFile {
                path: path.clone(),
                kind,
            }),
            None => Err(RestoreError::UnknownFileType {
                path: path.clone(),
                mode,
            }),
        }
    }

    /// The first `max_bytes` bytes of the regular file `path` (for previews and diffs).
    pub fn read_prefix(&self, path: &RelativePath, max_bytes: u64) -> RestoreResult<Vec<u8>> {
        let file = self.open_regular_file(path)?;
        let mut prefix = Vec::new();
        file.take(max_bytes)
            .read_to_end(&mut prefix)
            .map_err(|error| io_failure("read", path, error))?;
        Ok(prefix)
    }

    // ----- crate-internal resolution -----

    /// The root directory's descriptor.
    pub(crate) fn directory(&self) -> BorrowedFd<'_> {
        self.directory.as_fd()
    }

    /// The device of the root directory.
    pub(crate) fn device(&self) -> (u32, u32) {
        self.device
    }

    /// Whether `observed` lies on the root's own file system (not a mount below it).
    pub(crate) fn is_on_root_file_system(&self, observed: &Observed) -> bool {
        observed.device == self.device && !observed.mount_root
    }

    /// Human words for where this root is, for "does not exist in ...".
    pub(crate) fn place(&self) -> String {
        match &self.snapshot {
            Some(short_name) => format!("snapshot `{short_name}`"),
            None => "the live file system".to_owned(),
        }
    }

    pub(crate) fn not_found(&self, path: &RelativePath) -> RestoreError {
        RestoreError::NotFound {
            path: path.clone(),
            place: self.place(),
        }
    }

    /// `lstat` with the device information; `None` when absent.
    pub(crate) fn observe(&self, path: &RelativePath) -> RestoreResult<Option<Observed>> {
        if path.is_root() {
            return observe_at(self.directory(), b"", path);
        }
        let (parent, name) = match self.open_parent(path) {
            Ok(found) => found,
            Err(RestoreError::NotFound { .. } | RestoreError::NotADirectory { .. }) => {
                return Ok(None);
            }
            Err(other) => return Err(other),
        };
        observe_at(parent.as_fd(), &name, path)
    }

    /// Opens `path` with `flags` through `openat2` with strict resolution.
    pub(crate) fn open_beneath(
        &self,
        path: &RelativePath,
        flags: OFlags,
    ) -> RestoreResult<OwnedFd> {
        self.refuse_control_directory(path)?;
        let target: &[u8] = if path.is_root() {
            b"."
        } else {
            path.as_bytes()
        };
        let mut attempts = 0;
        loop {
            attempts += 1;
            match rustix::fs::openat2(
                &self.directory,
                target,
                flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
                STRICT_RESOLUTION,
            ) {
                Ok(descriptor) => return Ok(descriptor),
                Err(Errno::AGAIN | Errno::INTR) if attempts < RESOLUTION_ATTEMPTS => continue,
                Err(errno) => return Err(self.resolution_failure(path, errno)),
            }
        }
    }

    /// Opens the directory `path` (for listing, `*at` calls, `fchmod`, `fsync`).
    pub(crate) fn open_directory(&self, path: &RelativePath) -> RestoreResult<OwnedFd> {
        self.open_beneath(path, directory_flags())
    }

    /// Opens the parent directory of `path` and returns it with `path`'s last component.
    pub(crate) fn open_parent(&self, path: &RelativePath) -> RestoreResult<(OwnedFd, Vec<u8>)> {
        self.refuse_control_directory(path)?;
        match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) => match self.open_directory(&parent) {
                Ok(directory) => Ok((directory, name.to_vec())),
                // Name what was asked for, not the parent that was being opened.
                Err(RestoreError::SymlinkInPath { symlink, .. }) => {
                    Err(RestoreError::SymlinkInPath {
                        path: path.clone(),
                        symlink,
                    })
                }
                Err(RestoreError::CrossesMount { mount_point, .. }) => {
                    Err(RestoreError::CrossesMount {
                        path: path.clone(),
                        mount_point,
                    })
                }
                Err(RestoreError::NotFound { place, .. }) => Err(RestoreError::NotFound {
                    path: path.clone(),
                    place,
                }),
                Err(other) => Err(other),
            },
            _ => Err(RestoreError::Unsupported {
                operation: "work on",
                path: path.clone(),
                detail: "the dataset root itself has no parent directory".to_owned(),
            }),
        }
    }

    /// The entries of a directory with, for each, whether a tree walk descends into it.
    fn children(&self, path: &RelativePath) -> RestoreResult<Vec<(TreeEntry, bool)>> {
        let directory = self.open_directory(path)?;
        let mut names = directory_names(directory.as_fd(), path)?;
        if path.is_root() {
            names.retain(|name| name != CONTROL_DIRECTORY);
        }
        names.sort();
        let mut entries = Vec::with_capacity(names.len());
        for name in names {
            let child = path
                .join(&name)
                .map_err(|source| invalid_path(path, source))?;
            // An entry removed since the listing is simply not there any more.
            let Some(observed) = observe_at(directory.as_fd(), &name, &child)? else {
                continue;
            };
            let descend = observed.metadata.kind == EntryKind::Directory
                && self.is_on_root_file_system(&observed);
            entries.push((
                TreeEntry {
                    path: child,
                    metadata: observed.metadata,
                },
                descend,
            ));
        }
        Ok(entries)
    }

    /// Like `children`, but a directory removed meanwhile (live trees change) is empty.
    fn children_if_present(&self, path: &RelativePath) -> RestoreResult<Vec<(TreeEntry, bool)>> {
        match self.children(path) {
            Err(RestoreError::NotFound { .. }) => Ok(Vec::new()),
            other => other,
        }
    }

    fn refuse_control_directory(&self, path: &RelativePath) -> RestoreResult<()> {
        if path.components().next() == Some(CONTROL_DIRECTORY) {
            return Err(RestoreError::ControlDirectory { path: path.clone() });
        }
        Ok(())
    }

    /// Turns an `openat2` failure into the error that says why.
    fn resolution_failure(&self, path: &RelativePath, errno: Errno) -> RestoreError {
        match errno {
            Errno::LOOP | Errno::XDEV => match self.find_obstacle(path) {
                Some(Obstacle::Symlink(symlink)) => RestoreError::SymlinkInPath {
                    path: path.clone(),
                    symlink,
                },
                Some(Obstacle::Mount(mount_point)) => RestoreError::CrossesMount {
                    path: path.clone(),
                    mount_point,
                },
                None => system_failure("open", path, errno),
            },
            Errno::NOENT => self.not_found(path),
            // O_DIRECTORY | O_NOFOLLOW on a symlink fails with ENOTDIR.
            Errno::NOTDIR => match self.find_obstacle(path) {
                Some(Obstacle::Symlink(symlink)) => RestoreError::SymlinkInPath {
                    path: path.clone(),
                    symlink,
                },
                _ => RestoreError::NotADirectory { path: path.clone() },
            },
            Errno::NOSYS => RestoreError::Unsupported {
                operation: "open",
                path: path.clone(),
                detail: "this kernel lacks openat2 (Linux 5.6 or later is required)".to_owned(),
            },
            other => system_failure("open", path, other),
        }
    }

    /// After the kernel refused a path: the first component that is a symlink or on another
    /// device. Diagnostic only (the refusal itself came from `openat2`); each prefix is
    /// examined after all shorter ones proved to be plain directories of this file system.
    fn find_obstacle(&self, path: &RelativePath) -> Option<Obstacle> {
        let mut prefix = RelativePath::root();
        for component in path.components() {
            prefix = prefix.join(component).ok()?;
            let observed = observe_at(self.directory(), prefix.as_bytes(), &prefix).ok()??;
            if observed.metadata.kind == EntryKind::Symlink {
                return Some(Obstacle::Symlink(prefix));
            }
            if !self.is_on_root_file_system(&observed) {
                return Some(Obstacle::Mount(prefix));
            }
        }
        None
    }
}

/// How [`SafeRoot::open_snapshot_with`] decides that a snapshot is mounted, and how long it
/// waits for it (tests shorten both).
struct MountCheck<'a> {
    attempts: u32,
    pause: std::time::Duration,
    /// Given the dataset root and the opened snapshot directory.
    is_mounted: &'a dyn Fn(BorrowedFd<'_>, BorrowedFd<'_>) -> RestoreResult<bool>,
}

/// On ZFS, whether `directory` is the root of the snapshot's own mount (not the placeholder
/// ZFS leaves when it could not mount it); elsewhere (`FakeZfs`) every directory counts.
fn is_snapshot_mount(
    dataset_root: BorrowedFd<'_>,
    directory: BorrowedFd<'_>,
) -> RestoreResult<bool> {
    let on_zfs = rustix::fs::fstatfs(dataset_root)
        .is_ok_and(|statfs| statfs.f_type as u64 == ZFS_SUPER_MAGIC);
    Ok(!on_zfs
        || observe_at(directory, b"", &RelativePath::root())?
            .is_some_and(|observed| observed.mount_root))
}

/// What [`SafeRoot::lookup`] found at a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The entry (`lstat`: a symlink at the path itself is described, not followed).
    Present(EntryMetadata),
    /// Nothing there (also when an ancestor is missing or not a directory).
    Absent,
    /// An ancestor, named here, is a symbolic link: WiZFS does not look behind it, so the
    /// path is absent from this tree.
    BehindSymlink(RelativePath),
}

impl Lookup {
    /// The entry, if present; `None` when absent or behind a symlink.
    pub fn present(self) -> Option<EntryMetadata> {
        match self {
            Lookup::Present(metadata) => Some(metadata),
            Lookup::Absent | Lookup::BehindSymlink(_) => None,
        }
    }
}

/// Why a path could not be resolved.
enum Obstacle {
    Symlink(RelativePath),
    Mount(RelativePath),
}

fn directory_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

fn open_mountpoint(mountpoint: &Path) -> RestoreResult<OwnedFd> {
    rustix::fs::open(mountpoint, directory_flags(), Mode::empty()).map_err(|errno| {
        RestoreError::OpenRoot {
            location: mountpoint.to_path_buf(),
            source: std::io::Error::from(errno),
        }
    })
}

/// The snapshot entries of `path`'s ancestors that are missing from the live file system,
/// outermost first (empty when `path`'s parent exists live). A file of a deleted directory
/// comes back with its directories, which get their snapshot metadata.
pub fn missing_ancestors(
    live: &SafeRoot,
    snapshot: &SafeRoot,
    path: &RelativePath,
) -> RestoreResult<Vec<TreeEntry>> {
    let mut ancestors = Vec::new();
    let mut current = path.parent();
    while let Some(ancestor) = current {
        if ancestor.is_root() {
            break;
        }
        current = ancestor.parent();
        ancestors.push(ancestor);
    }
    ancestors.reverse();
    let mut missing = Vec::new();
    for ancestor in ancestors {
        if missing.is_empty() && live.observe(&ancestor)?.is_some() {
            continue;
        }
        let metadata = snapshot
            .stat(&ancestor)?
            .ok_or_else(|| snapshot.not_found(&ancestor))?;
        missing.push(TreeEntry {
            path: ancestor,
            metadata,
        });
    }
    Ok(missing)
}
