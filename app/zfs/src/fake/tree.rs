//! The fake's file trees: scanning a dataset's live directory into [`Entries`], copying it
//! into a read-only snapshot directory, and writing received or rolled-back entries back.
//! Symlinks are never followed (every step uses `lstat` and checks that each parent is a real
//! directory), names are byte strings (non-UTF-8 and newlines work), and nothing outside the
//! dataset's mountpoint, its `.zfs` directory or a child dataset's mountpoint is touched.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs::{self, File, Metadata, OpenOptions, Permissions};
use std::io::{self, Read};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::errors::storage_error;
use crate::error::{ZfsError, ZfsResult};
use crate::types::FileKind;

/// Entries of a tree by path relative to the mountpoint (bytes, `/`-separated; the root
/// directory itself is the empty path). Byte order puts every directory before its contents.
pub(super) type Entries = BTreeMap<Vec<u8>, Entry>;

/// The kinds of file a tree can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(super) enum EntryKind {
    File,
    Directory,
    Symlink,
    Fifo,
    Socket,
    BlockDevice,
    CharacterDevice,
}

impl EntryKind {
    pub fn file_kind(self) -> FileKind {
        match self {
            EntryKind::File => FileKind::File,
            EntryKind::Directory => FileKind::Directory,
            EntryKind::Symlink => FileKind::Symlink,
            EntryKind::Fifo => FileKind::Fifo,
            EntryKind::Socket => FileKind::Socket,
            EntryKind::BlockDevice => FileKind::BlockDevice,
            EntryKind::CharacterDevice => FileKind::CharacterDevice,
        }
    }

    /// Whether snapshots and streams carry this kind (the others are only recorded).
    pub fn is_copied(self) -> bool {
        matches!(
            self,
            EntryKind::File | EntryKind::Directory | EntryKind::Symlink
        )
    }
}

/// Seconds and nanoseconds since the epoch.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub(super) struct FileTime {
    pub seconds: i64,
    pub nanoseconds: u32,
}

impl FileTime {
    fn new(seconds: i64, nanoseconds: i64) -> FileTime {
        FileTime {
            seconds,
            nanoseconds: u32::try_from(nanoseconds).unwrap_or(0).min(999_999_999),
        }
    }

    pub fn from_system_time(time: SystemTime) -> FileTime {
        match time.duration_since(UNIX_EPOCH) {
            Ok(after) => FileTime {
                seconds: i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
                nanoseconds: after.subsec_nanos(),
            },
            Err(before) => {
                let before = before.duration();
                let seconds = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
                if before.subsec_nanos() == 0 {
                    FileTime {
                        seconds: -seconds,
                        nanoseconds: 0,
                    }
                } else {
                    FileTime {
                        seconds: -seconds - 1,
                        nanoseconds: 1_000_000_000 - before.subsec_nanos(),
                    }
                }
            }
        }
    }

    pub fn to_system_time(self) -> SystemTime {
        let nanoseconds = Duration::from_nanos(u64::from(self.nanoseconds));
        let moved = if self.seconds >= 0 {
            UNIX_EPOCH.checked_add(Duration::from_secs(self.seconds.unsigned_abs()))
        } else {
            UNIX_EPOCH.checked_sub(Duration::from_secs(self.seconds.unsigned_abs()))
        };
        moved
            .and_then(|time| time.checked_add(nanoseconds))
            .unwrap_or(UNIX_EPOCH)
    }
}

/// Which object an entry is: inode number and birth time (if known).
pub(super) type ObjectId = (u64, Option<FileTime>);

/// What is recorded about one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub kind: EntryKind,
    /// Inode in the live filesystem when recorded (the object number `zfs diff` matches on).
    pub inode: u64,
    /// Birth time, when the filesystem reports one: tells apart two objects that had the same
    /// inode number one after the other (ZFS uses the object's generation for that).
    pub birth: Option<FileTime>,
    pub size: u64,
    /// Permission bits (`& 0o7777`).
    pub mode: u32,
    pub mtime: FileTime,
    /// Inode change time (what `zfs diff -t` prints).
    pub ctime: FileTime,
    pub link_target: Option<Vec<u8>>,
}

impl Entry {
    fn from_metadata(metadata: &Metadata, link_target: Option<Vec<u8>>) -> Entry {
        let file_type = metadata.file_type();
        let kind = if file_type.is_dir() {
            EntryKind::Directory
        } else if file_type.is_symlink() {
            EntryKind::Symlink
        } else if file_type.is_file() {
            EntryKind::File
        } else if file_type.is_fifo() {
            EntryKind::Fifo
        } else if file_type.is_socket() {
            EntryKind::Socket
        } else if file_type.is_block_device() {
            EntryKind::BlockDevice
        } else {
            EntryKind::CharacterDevice
        };
        Entry {
            kind,
            inode: metadata.ino(),
            birth: metadata.created().ok().map(FileTime::from_system_time),
            size: metadata.len(),
            mode: metadata.mode() & 0o7777,
            mtime: FileTime::new(metadata.mtime(), metadata.mtime_nsec()),
            ctime: FileTime::new(metadata.ctime(), metadata.ctime_nsec()),
            link_target,
        }
    }

    /// The identity of the object: inode number and birth time.
    pub fn object(&self) -> ObjectId {
        (self.inode, self.birth)
    }

    /// Whether the data of a regular file is the same object with the same content
    /// (what space accounting and incremental sends consider unchanged).
    pub fn same_data(&self, other: &Entry) -> bool {
        self.kind == other.kind
            && self.object() == other.object()
            && self.size == other.size
            && self.mtime == other.mtime
    }

    /// Whether a dataset's live tree changed since `recorded` (its newest snapshot), as
    /// `written` and a receive's "modified since most recent snapshot" see it: every entry
    /// [`Entry::unchanged`], but the root directory's times are not compared. The fake makes
    /// a child dataset's mountpoint directory in its parent even for `zfs receive -u`, where
    /// OpenZFS mounts nothing and leaves the parent as it was; any other change in the root
    /// directory (an entry added, removed or renamed, its mode) shows on its own.
    pub fn live_tree_unchanged(recorded: &Entries, live: &Entries) -> bool {
        recorded.len() == live.len()
            && recorded.iter().all(|(path, entry)| {
                live.get(path).is_some_and(|current| {
                    if path.is_empty() {
                        entry.kind == current.kind
                            && entry.object() == current.object()
                            && entry.mode == current.mode
                    } else {
                        entry.unchanged(current)
                    }
                })
            })
    }

    /// Whether nothing about the entry changed at all (ZFS's "modified since snapshot").
    pub fn unchanged(&self, other: &Entry) -> bool {
        let size_matters = self.kind != EntryKind::Directory;
        self.kind == other.kind
            && self.object() == other.object()
            && (!size_matters || self.size == other.size)
            && self.mode == other.mode
            && self.mtime == other.mtime
            && self.ctime == other.ctime
            && self.link_target == other.link_target
    }
}

/// `root` joined with a relative byte path (the root itself for the empty path).
pub(super) fn absolute(root: &Path, relative: &[u8]) -> PathBuf {
    if relative.is_empty() {
        root.to_path_buf()
    } else {
        root.join(OsStr::from_bytes(relative))
    }
}

/// `parent/name` as a relative byte path.
pub(super) fn join_relative(parent: &[u8], name: &[u8]) -> Vec<u8> {
    let mut joined = Vec::with_capacity(parent.len() + 1 + name.len());
    if !parent.is_empty() {
        joined.extend_from_slice(parent);
        joined.push(b'/');
    }
    joined.extend_from_slice(name);
    joined
}

/// The parent of a non-empty relative path (the empty path for top-level entries).
pub(super) fn parent_of(relative: &[u8]) -> &[u8] {
    match relative.iter().rposition(|&byte| byte == b'/') {
        Some(position) => &relative[..position],
        None => &[],
    }
}

/// The last component of a relative path.
pub(super) fn name_of(relative: &[u8]) -> &[u8] {
    match relative.iter().rposition(|&byte| byte == b'/') {
        Some(position) => &relative[position + 1..],
        None => relative,
    }
}

/// Whether `relative` is a path the fake may write: empty (the root) or non-empty components
/// that are not `.`/`..`, without NUL bytes.
pub(super) fn is_safe_relative_path(relative: &[u8]) -> bool {
    relative.is_empty()
        || (!relative.contains(&0)
            && relative
                .split(|&byte| byte == b'/')
                .all(|component| !component.is_empty() && component != b"." && component != b".."))
}

/// Lists a dataset's live tree, skipping `excluded` top-level names (`.zfs` and child
/// mountpoints). Entries that vanish while scanning are skipped.
pub(super) fn scan(root: &Path, excluded: &BTreeSet<Vec<u8>>) -> ZfsResult<Entries> {
    walk(root, excluded, |_, _, _| Ok(()))
}

/// Copies a dataset's live tree into `destination` (which must not exist) and returns the
/// recorded entries: regular files with content, mode and mtime, directories with mode and
/// mtime, symlinks as symlinks. The recorded size of a file is what was copied.
pub(super) fn copy_tree(
    root: &Path,
    excluded: &BTreeSet<Vec<u8>>,
    destination: &Path,
) -> ZfsResult<Entries> {
    fs::create_dir(destination).map_err(|error| storage_error(destination, error))?;
    let mut directories = Vec::new();
    let entries = walk(root, excluded, |relative, entry, source| {
        let target = absolute(destination, relative);
        match entry.kind {
            EntryKind::Directory => {
                if !relative.is_empty() {
                    fs::create_dir(&target).map_err(|error| storage_error(&target, error))?;
                }
                directories.push((target, entry.mode, entry.mtime));
            }
            EntryKind::File => {
                entry.size = copy_file(source, entry.inode, &target)?;
            }
            EntryKind::Symlink => {
                if let Some(link_target) = &entry.link_target {
                    std::os::unix::fs::symlink(OsStr::from_bytes(link_target), &target)
                        .map_err(|error| storage_error(&target, error))?;
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    for (directory, mode, mtime) in directories.iter().rev() {
        set_directory_metadata(directory, *mode, *mtime)?;
    }
    Ok(entries)
}

/// Walks a tree without following symlinks, calling `visit` on each entry (after the
/// directory for it exists in the walk order: parents always come first).
fn walk(
    root: &Path,
    excluded: &BTreeSet<Vec<u8>>,
    mut visit: impl FnMut(&[u8], &mut Entry, &Path) -> ZfsResult<()>,
) -> ZfsResult<Entries> {
    let mut entries = Entries::new();
    let root_metadata = fs::symlink_metadata(root).map_err(|error| storage_error(root, error))?;
    if !root_metadata.is_dir() {
        let error = io::Error::new(
            io::ErrorKind::NotADirectory,
            "a mountpoint is not a directory",
        );
        return Err(storage_error(root, error));
    }
    let mut root_entry = Entry::from_metadata(&root_metadata, None);
    visit(&[], &mut root_entry, root)?;
    entries.insert(Vec::new(), root_entry);
    let mut pending: Vec<Vec<u8>> = vec![Vec::new()];
    while let Some(directory_relative) = pending.pop() {
        let directory = absolute(root, &directory_relative);
        let listing = match fs::read_dir(&directory) {
            Ok(listing) => listing,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(storage_error(&directory, error)),
        };
        let mut names = Vec::new();
        for item in listing {
            let item = item.map_err(|error| storage_error(&directory, error))?;
            names.push(item.file_name().into_vec());
        }
        names.sort();
        for name in names {
            if directory_relative.is_empty() && excluded.contains(&name) {
                continue;
            }
            let relative = join_relative(&directory_relative, &name);
            let path = absolute(root, &relative);
            let metadata = match fs::symlink_metadata(&path) {
                Ok(metadata) => metadata,
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => return Err(storage_error(&path, error)),
            };
            let link_target = if metadata.file_type().is_symlink() {
                match fs::read_link(&path) {
                    Ok(target) => Some(target.into_os_string().into_vec()),
                    Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                    Err(error) => return Err(storage_error(&path, error)),
                }
            } else {
                None
            };
            let mut entry = Entry::from_metadata(&metadata, link_target);
            visit(&relative, &mut entry, &path)?;
            if entry.kind == EntryKind::Directory {
                pending.push(relative.clone());
            }
            entries.insert(relative, entry);
        }
    }
    Ok(entries)
}

/// Copies one regular file (content, mode, mtime) to a new file; returns the bytes copied.
fn copy_file(source: &Path, expected_inode: u64, target: &Path) -> ZfsResult<u64> {
    let mut input = File::open(source).map_err(|error| storage_error(source, error))?;
    let metadata = input
        .metadata()
        .map_err(|error| storage_error(source, error))?;
    if !metadata.is_file() || metadata.ino() != expected_inode {
        let error = io::Error::other("the file was replaced while being copied");
        return Err(storage_error(source, error));
    }
    let mut output = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(target)
        .map_err(|error| storage_error(target, error))?;
    let copied = io::copy(&mut input, &mut output).map_err(|error| storage_error(target, error))?;
    output
        .set_permissions(Permissions::from_mode(metadata.mode() & 0o7777))
        .map_err(|error| storage_error(target, error))?;
    let mtime = FileTime::new(metadata.mtime(), metadata.mtime_nsec());
    output
        .set_modified(mtime.to_system_time())
        .map_err(|error| storage_error(target, error))?;
    Ok(copied)
}

/// Sets a directory's mtime, then its mode (so a read-only mode cannot block the first).
fn set_directory_metadata(directory: &Path, mode: u32, mtime: FileTime) -> ZfsResult<()> {
    let handle = File::open(directory).map_err(|error| storage_error(directory, error))?;
    handle
        .set_modified(mtime.to_system_time())
        .map_err(|error| storage_error(directory, error))?;
    fs::set_permissions(directory, Permissions::from_mode(mode))
        .map_err(|error| storage_error(directory, error))
}

/// Waits until files written now get an inode change time later than `latest`, so that any
/// change made after entries were recorded is visible in their times (file times come from a
/// coarse clock: a rewrite right after a snapshot could otherwise keep the recorded mtime).
/// Measures the clock by rewriting `probe`; gives up after about two seconds.
pub(super) fn wait_for_clock_past(probe: &Path, latest: FileTime) {
    for _ in 0..2000 {
        let Ok(file) = File::create(probe) else {
            return;
        };
        let Ok(metadata) = file.metadata() else {
            return;
        };
        if FileTime::new(metadata.ctime(), metadata.ctime_nsec()) > latest {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The latest inode change time among entries.
pub(super) fn latest_change(entries: &Entries) -> FileTime {
    entries
        .values()
        .map(|entry| entry.ctime)
        .max()
        .unwrap_or_default()
}

/// Removes a file, symlink or whole directory tree (never following symlinks); nothing to
/// do if it does not exist. Directories without write permission are made writable first.
pub(super) fn remove_path(path: &Path) -> ZfsResult<()> {
    let metadata = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(storage_error(path, error)),
    };
    if !metadata.is_dir() {
        return fs::remove_file(path).map_err(|error| storage_error(path, error));
    }
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => {
            make_directories_writable(path)?;
            fs::remove_dir_all(path).map_err(|error| storage_error(path, error))
        }
        Err(error) => Err(storage_error(path, error)),
    }
}

fn make_directories_writable(root: &Path) -> ZfsResult<()> {
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        let metadata =
            fs::symlink_metadata(&directory).map_err(|error| storage_error(&directory, error))?;
        if !metadata.is_dir() {
            continue;
        }
        fs::set_permissions(
            &directory,
            Permissions::from_mode((metadata.mode() & 0o7777) | 0o700),
        )
        .map_err(|error| storage_error(&directory, error))?;
        let listing = fs::read_dir(&directory).map_err(|error| storage_error(&directory, error))?;
        for item in listing {
            let item = item.map_err(|error| storage_error(&directory, error))?;
            pending.push(item.path());
        }
    }
    Ok(())
}

/// Creates a dataset's mountpoint (or adopts an empty existing directory) with its
/// `.zfs/snapshot` directory.
pub(super) fn create_mountpoint(mountpoint: &Path) -> ZfsResult<()> {
    match fs::symlink_metadata(mountpoint) {
        Ok(metadata) => {
            let empty = metadata.is_dir()
                && fs::read_dir(mountpoint)
                    .map_err(|error| storage_error(mountpoint, error))?
                    .next()
                    .is_none();
            if !empty {
                let error = io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "the mountpoint exists and is not an empty directory",
                );
                return Err(storage_error(mountpoint, error));
            }
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            fs::create_dir(mountpoint).map_err(|error| storage_error(mountpoint, error))?;
        }
        Err(error) => return Err(storage_error(mountpoint, error)),
    }
    let snapshots = mountpoint.join(".zfs").join("snapshot");
    fs::create_dir_all(&snapshots).map_err(|error| storage_error(&snapshots, error))
}

/// Removes every entry of a live tree except the `excluded` top-level names.
pub(super) fn clear_tree(root: &Path, excluded: &BTreeSet<Vec<u8>>) -> ZfsResult<()> {
    let listing = fs::read_dir(root).map_err(|error| storage_error(root, error))?;
    for item in listing {
        let item = item.map_err(|error| storage_error(root, error))?;
        if !excluded.contains(item.file_name().as_bytes()) {
            remove_path(&item.path())?;
        }
    }
    Ok(())
}

/// Writes entries into a live tree (receive, rollback). Paths are checked: no `..`, no
/// writing into `.zfs` or a child dataset's mountpoint, no parent that is a symlink.
/// Directory modes and mtimes are applied by [`TreeWriter::finish`], after their contents.
pub(super) struct TreeWriter<'a> {
    root: &'a Path,
    excluded: &'a BTreeSet<Vec<u8>>,
    directories: Vec<(PathBuf, u32, FileTime)>,
}

impl<'a> TreeWriter<'a> {
    pub fn new(root: &'a Path, excluded: &'a BTreeSet<Vec<u8>>) -> TreeWriter<'a> {
        TreeWriter {
            root,
            excluded,
            directories: Vec::new(),
        }
    }

    /// The absolute path of `relative` after checking it and its parents.
    fn checked_path(&self, relative: &[u8]) -> ZfsResult<PathBuf> {
        let first = relative
            .split(|&byte| byte == b'/')
            .next()
            .unwrap_or_default();
        if !is_safe_relative_path(relative)
            || (!relative.is_empty() && self.excluded.contains(first))
        {
            return Err(ZfsError::InvalidRequest(format!(
                "the stream writes the path {:?}, which is not allowed in {}",
                String::from_utf8_lossy(relative),
                self.root.display()
            )));
        }
        let mut parent = parent_of(relative);
        while !parent.is_empty() {
            let path = absolute(self.root, parent);
            let metadata =
                fs::symlink_metadata(&path).map_err(|error| storage_error(&path, error))?;
            if !metadata.is_dir() {
                let error =
                    io::Error::new(io::ErrorKind::NotADirectory, "a parent is not a directory");
                return Err(storage_error(&path, error));
            }
            parent = parent_of(parent);
        }
        Ok(absolute(self.root, relative))
    }

    /// Removes `relative` (recursively); nothing to do if it is absent.
    pub fn remove(&mut self, relative: &[u8]) -> ZfsResult<()> {
        if relative.is_empty() {
            return Err(ZfsError::InvalidRequest(
                "the stream removes the root directory".into(),
            ));
        }
        let path = match self.checked_path(relative) {
            Ok(path) => path,
            // A parent that is gone or not a directory means the path is already absent.
            Err(ZfsError::FakeStorage { .. }) => return Ok(()),
            Err(error) => return Err(error),
        };
        remove_path(&path)
    }

    /// Makes `relative` a directory (keeping an existing one and its contents).
    pub fn directory(&mut self, relative: &[u8], mode: u32, mtime: FileTime) -> ZfsResult<()> {
        let path = self.checked_path(relative)?;
        match fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.is_dir() => {}
            Ok(_) => {
                remove_path(&path)?;
                fs::create_dir(&path).map_err(|error| storage_error(&path, error))?;
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&path).map_err(|error| storage_error(&path, error))?;
            }
            Err(error) => return Err(storage_error(&path, error)),
        }
        self.directories.push((path, mode & 0o7777, mtime));
        Ok(())
    }

    /// Makes `relative` a regular file with `length` bytes from `content`. An existing
    /// regular file is rewritten in place (keeping its inode, like a ZFS write).
    pub fn file(
        &mut self,
        relative: &[u8],
        mode: u32,
        mtime: FileTime,
        content: &mut dyn Read,
        length: u64,
    ) -> ZfsResult<()> {
        if relative.is_empty() {
            return Err(ZfsError::InvalidRequest(
                "the stream writes a file at the root".into(),
            ));
        }
        let path = self.checked_path(relative)?;
        let mut output = match fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.is_file() => open_for_rewrite(&path, &metadata)?,
            Ok(_) => {
                remove_path(&path)?;
                create_file(&path)?
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => create_file(&path)?,
            Err(error) => return Err(storage_error(&path, error)),
        };
        write_content(&path, &mut output, content, length, mode, mtime)
    }

    /// Appends `length` bytes from `content` to the regular file `relative` (the further
    /// pieces of a large file).
    pub fn append(
        &mut self,
        relative: &[u8],
        mode: u32,
        mtime: FileTime,
        content: &mut dyn Read,
        length: u64,
    ) -> ZfsResult<()> {
        let path = self.checked_path(relative)?;
        let is_file = fs::symlink_metadata(&path).is_ok_and(|metadata| metadata.is_file());
        if relative.is_empty() || !is_file {
            return Err(ZfsError::InvalidRequest(format!(
                "the stream appends to {:?}, which is not a regular file",
                String::from_utf8_lossy(relative)
            )));
        }
        let mut output = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|error| storage_error(&path, error))?;
        write_content(&path, &mut output, content, length, mode, mtime)
    }

    /// Makes `relative` a symlink to `target`.
    pub fn symlink(&mut self, relative: &[u8], target: &[u8]) -> ZfsResult<()> {
        if relative.is_empty() {
            return Err(ZfsError::InvalidRequest(
                "the stream writes a symlink at the root".into(),
            ));
        }
        let path = self.checked_path(relative)?;
        remove_path(&path)?;
        std::os::unix::fs::symlink(OsStr::from_bytes(target), &path)
            .map_err(|error| storage_error(&path, error))
    }

    /// Applies the recorded directory modes and mtimes, deepest first.
    pub fn finish(self) -> ZfsResult<()> {
        for (directory, mode, mtime) in self.directories.iter().rev() {
            set_directory_metadata(directory, *mode, *mtime)?;
        }
        Ok(())
    }
}

/// Copies `length` bytes of content into an open file, then sets its mode and mtime.
fn write_content(
    path: &Path,
    output: &mut File,
    content: &mut dyn Read,
    length: u64,
    mode: u32,
    mtime: FileTime,
) -> ZfsResult<()> {
    let copied = io::copy(&mut Read::take(content, length), output)
        .map_err(|error| storage_error(path, error))?;
    if copied != length {
        let error = io::Error::new(io::ErrorKind::UnexpectedEof, "file content ended early");
        return Err(storage_error(path, error));
    }
    output
        .set_permissions(Permissions::from_mode(mode & 0o7777))
        .map_err(|error| storage_error(path, error))?;
    output
        .set_modified(mtime.to_system_time())
        .map_err(|error| storage_error(path, error))
}

fn create_file(path: &Path) -> ZfsResult<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|error| storage_error(path, error))
}

/// Opens an existing regular file for rewriting, making it writable first if needed.
fn open_for_rewrite(path: &Path, metadata: &Metadata) -> ZfsResult<File> {
    let open = || OpenOptions::new().write(true).truncate(true).open(path);
    match open() {
        Ok(file) => Ok(file),
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => {
            fs::set_permissions(
                path,
                Permissions::from_mode((metadata.mode() & 0o7777) | 0o200),
            )
            .map_err(|error| storage_error(path, error))?;
            open().map_err(|error| storage_error(path, error))
        }
        Err(error) => Err(storage_error(path, error)),
    }
}
