//! What WiZFS knows about one file system entry, as read with `lstat` (never following a
//! symlink) from the live file system or a snapshot. Plain data shared by browsing, version
//! listing, restore planning and (later) the index.

use crate::paths::RelativePath;

/// The type of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryKind {
    File,
    Directory,
    Symlink,
    Fifo,
    Socket,
    BlockDevice,
    CharacterDevice,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Directory => "directory",
            Self::Symlink => "symlink",
            Self::Fifo => "fifo",
            Self::Socket => "socket",
            Self::BlockDevice => "block device",
            Self::CharacterDevice => "character device",
        }
    }

    /// Whether WiZFS restores entries of this kind (device nodes, FIFOs and sockets are
    /// refused with a message).
    pub fn is_restorable(self) -> bool {
        matches!(self, Self::File | Self::Directory | Self::Symlink)
    }
}

/// A point in time with nanoseconds, as file times are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileTime {
    pub seconds: i64,
    pub nanoseconds: u32,
}

/// `lstat` of one entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EntryMetadata {
    pub kind: EntryKind,
    /// Bytes (for a symlink: the length of its target).
    pub size: u64,
    /// Bytes actually allocated (less than `size` for sparse files).
    pub allocated: u64,
    /// Permission bits including setuid/setgid/sticky (`st_mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub modified: FileTime,
    pub changed: FileTime,
    pub inode: u64,
    pub links: u64,
    /// The target of a symlink (raw bytes), `None` otherwise.
    pub symlink_target: Option<Vec<u8>>,
}

#[cfg(test)]
impl EntryMetadata {
    /// A plain entry for the planners' tests: mode 0755 (directories) or 0644, owner 1000,
    /// both times `modified`, one link.
    pub(crate) fn sample(kind: EntryKind, size: u64, modified: i64, inode: u64) -> Self {
        let time = FileTime {
            seconds: modified,
            nanoseconds: 0,
        };
        Self {
            kind,
            size,
            allocated: size,
            mode: if kind == EntryKind::Directory {
                0o755
            } else {
                0o644
            },
            uid: 1000,
            gid: 1000,
            modified: time,
            changed: time,
            inode,
            links: 1,
            symlink_target: None,
        }
    }
}

/// One entry of a tree listing: its path relative to the dataset (or snapshot) root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeEntry {
    pub path: RelativePath,
    pub metadata: EntryMetadata,
}
