//! The one error type of this crate. Every failure says what was being done and to which
//! dataset-relative path, so the message an administrator reads in the console or the CLI
//! is enough to understand it; out-of-space and read-only conditions get their own variants
//! because callers show them differently (and they are the common real-world failures).

use std::path::PathBuf;

use rustix::io::Errno;
use wizfs_core::{EntryKind, NameError, PathError, RelativePath};
use wizfs_zfs::ZfsError;

pub type RestoreResult<T> = Result<T, RestoreError>;

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The root directory (a mountpoint or a snapshot directory) could not be opened.
    #[error("cannot open `{}`: {source}", .location.display())]
    OpenRoot {
        location: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// ZFS did not mount the snapshot (only its empty placeholder directory is there).
    #[error(
        "ZFS did not mount the snapshot at `{}` (tried for 10 s): its files cannot be read now",
        .location.display()
    )]
    SnapshotNotMounted { location: PathBuf },
    /// The snapshot does not exist (any more): ZFS says so.
    #[error("snapshot `{name}` does not exist (at `{}`)", .location.display())]
    SnapshotMissing { name: String, location: PathBuf },
    #[error("`{name}` is not a valid snapshot name: {source}")]
    InvalidSnapshotName {
        name: String,
        #[source]
        source: NameError,
    },
    #[error("`{path}` does not exist in {place}")]
    NotFound { path: RelativePath, place: String },
    #[error(
        "`{path}` is refused: `{symlink}` is a symbolic link, and WiZFS never follows symbolic \
         links inside a dataset"
    )]
    SymlinkInPath {
        path: RelativePath,
        symlink: RelativePath,
    },
    /// Where a restore would write, a directory of the live path is now a symbolic link
    /// (it was a directory in the snapshot): WiZFS never writes through one, and a copy into
    /// another directory is the way to get the data back.
    #[error("{}", live_symlink_message(.destination, .path, .symlink))]
    LiveSymlinkOnPath {
        /// What was asked for: in place, a copy next to the original, or into a directory.
        destination: Destination,
        /// The restored path (for `Into`, the directory named).
        path: RelativePath,
        /// The symlink on the way (possibly `path` itself for `Into` and `NextToOriginal`).
        symlink: RelativePath,
    },
    #[error(
        "`{path}` is refused: `{mount_point}` is the mount point of another file system (a child \
         dataset); browse or restore it through that dataset"
    )]
    CrossesMount {
        path: RelativePath,
        mount_point: RelativePath,
    },
    #[error(
        "`{path}` is refused: `.zfs` at the dataset root is the ZFS control directory, not data"
    )]
    ControlDirectory { path: RelativePath },
    #[error("`{path}` is not a directory")]
    NotADirectory { path: RelativePath },
    #[error("`{path}` is {}: WiZFS only reads regular files", kind_with_article(*.kind))]
    NotARegularFile { path: RelativePath, kind: EntryKind },
    #[error("`{path}` has a file type WiZFS does not know (mode {mode:o})")]
    UnknownFileType { path: RelativePath, mode: u32 },
    #[error(
        "`{path}` appeared while restoring; it was left untouched and the restored copy was \
         discarded"
    )]
    DestinationAppeared { path: RelativePath },
    #[error("`{path}` changed since the restore was planned ({reason}); plan the restore again")]
    LiveChanged { path: RelativePath, reason: String },
    #[error(
        "no space left while restoring `{path}` (the pool or a quota is full); the partial copy \
         was removed"
    )]
    NoSpace { path: RelativePath },
    #[error("cannot restore `{path}`: the file system is read-only")]
    ReadOnly { path: RelativePath },
    #[error("the restore plan does not fit the file systems it was given: {0}")]
    PlanMismatch(String),
    #[error("cannot create the guard snapshot `{snapshot}`: {source}")]
    GuardSnapshot {
        snapshot: String,
        #[source]
        source: ZfsError,
    },
    #[error(
        "cannot find a free name for the guard snapshot of `{dataset}` after {attempts} attempts"
    )]
    GuardNamesExhausted { dataset: String, attempts: u32 },
    #[error("cannot list the guard snapshots of {scope}: {source}")]
    GuardListing {
        scope: String,
        #[source]
        source: ZfsError,
    },
    #[error("cannot look up dataset `{dataset}`: {source}")]
    DatasetLookup {
        dataset: String,
        #[source]
        source: ZfsError,
    },
    #[error("a name inside `{path}` cannot be handled: {source}")]
    InvalidPath {
        path: RelativePath,
        #[source]
        source: PathError,
    },
    #[error("cannot {operation} `{path}`: {detail}")]
    Unsupported {
        operation: &'static str,
        path: RelativePath,
        detail: String,
    },
    #[error("cannot {operation} `{path}`: {source}")]
    Io {
        operation: &'static str,
        path: RelativePath,
        #[source]
        source: std::io::Error,
    },
}

/// Where a restore was asked to put its data, for [`RestoreError::LiveSymlinkOnPath`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Destination {
    /// Over the original path.
    InPlace,
    /// A copy next to the original, in its directory.
    NextToOriginal,
    /// A copy into a directory the user named.
    Into,
}

/// The message of [`RestoreError::LiveSymlinkOnPath`]: why not, and what works instead.
fn live_symlink_message(
    destination: &Destination,
    path: &RelativePath,
    symlink: &RelativePath,
) -> String {
    let why = format!(
        "`{symlink}` is a symbolic link in the live file system now, and WiZFS never writes \
         through symbolic links"
    );
    match destination {
        Destination::InPlace => format!(
            "`{path}` cannot be restored in place: {why}. Restore it as a copy into another \
             directory instead (`wizfs restore … --into DIR`; a copy with `into` in the API)"
        ),
        Destination::NextToOriginal => format!(
            "a copy of `{path}` cannot be put next to it: {why}. Restore the copy into another \
             directory instead (`wizfs restore … --into DIR`; a copy with `into` in the API)"
        ),
        Destination::Into => format!(
            "cannot restore into `{path}`: {why}. Choose a directory that is not a symbolic \
             link and not below one"
        ),
    }
}

/// What kind of failure an error is, for callers that must answer in broad classes (an HTTP
/// status, a CLI exit code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The path, snapshot or dataset does not exist.
    NotFound,
    /// The request is refused as such (a symlink or mount in the path, not a regular file, a
    /// plan that does not fit): asking again will not help.
    Refused,
    /// The state of the system prevents it (something appeared or changed meanwhile, the pool
    /// is full or read-only): it may work after that changes.
    Conflict,
    /// Anything else: an I/O or ZFS failure.
    Internal,
}

impl RestoreError {
    /// Whether the thing asked for (a root, a path) does not exist.
    pub fn is_not_found(&self) -> bool {
        self.http_class() == ErrorClass::NotFound
    }

    /// The broad class of this error (see [`ErrorClass`]).
    pub fn http_class(&self) -> ErrorClass {
        match self {
            RestoreError::NotFound { .. } | RestoreError::SnapshotMissing { .. } => {
                ErrorClass::NotFound
            }
            RestoreError::OpenRoot { source, .. }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                ErrorClass::NotFound
            }
            RestoreError::DatasetLookup { source, .. } if source.is_not_found() => {
                ErrorClass::NotFound
            }
            RestoreError::InvalidSnapshotName { .. }
            | RestoreError::SymlinkInPath { .. }
            | RestoreError::CrossesMount { .. }
            | RestoreError::ControlDirectory { .. }
            | RestoreError::NotADirectory { .. }
            | RestoreError::NotARegularFile { .. }
            | RestoreError::UnknownFileType { .. }
            | RestoreError::InvalidPath { .. }
            | RestoreError::PlanMismatch(_) => ErrorClass::Refused,
            RestoreError::DestinationAppeared { .. }
            | RestoreError::LiveSymlinkOnPath { .. }
            | RestoreError::LiveChanged { .. }
            | RestoreError::NoSpace { .. }
            | RestoreError::ReadOnly { .. }
            | RestoreError::GuardNamesExhausted { .. } => ErrorClass::Conflict,
            RestoreError::GuardSnapshot {
                source: ZfsError::NoSpace { .. } | ZfsError::ReadOnly { .. } | ZfsError::Busy { .. },
                ..
            } => ErrorClass::Conflict,
            RestoreError::OpenRoot { .. }
            | RestoreError::SnapshotNotMounted { .. }
            | RestoreError::GuardSnapshot { .. }
            | RestoreError::DatasetLookup { .. }
            | RestoreError::GuardListing { .. }
            | RestoreError::Unsupported { .. }
            | RestoreError::Io { .. } => ErrorClass::Internal,
        }
    }
}

/// "a FIFO", "a directory", ... for messages.
pub fn kind_with_article(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::File => "a regular file",
        EntryKind::Directory => "a directory",
        EntryKind::Symlink => "a symbolic link",
        EntryKind::Fifo => "a FIFO",
        EntryKind::Socket => "a socket",
        EntryKind::BlockDevice => "a block device",
        EntryKind::CharacterDevice => "a character device",
    }
}

/// A failed system call on `path`: out of space (or quota) and read-only file systems get
/// their own variants, everything else keeps the operation and the OS error.
pub(crate) fn system_failure(
    operation: &'static str,
    path: &RelativePath,
    errno: Errno,
) -> RestoreError {
    match errno {
        Errno::NOSPC | Errno::DQUOT => RestoreError::NoSpace { path: path.clone() },
        Errno::ROFS => RestoreError::ReadOnly { path: path.clone() },
        other => RestoreError::Io {
            operation,
            path: path.clone(),
            source: std::io::Error::from(other),
        },
    }
}

/// Like [`system_failure`] for errors that arrive as `std::io::Error` (reads and writes
/// through `std::fs::File`).
pub(crate) fn io_failure(
    operation: &'static str,
    path: &RelativePath,
    error: std::io::Error,
) -> RestoreError {
    match error.raw_os_error() {
        Some(code) => system_failure(operation, path, Errno::from_raw_os_error(code)),
        None => RestoreError::Io {
            operation,
            path: path.clone(),
            source: error,
        },
    }
}

/// A name read from a directory that cannot be joined to a [`RelativePath`] (too long).
pub(crate) fn invalid_path(path: &RelativePath, source: PathError) -> RestoreError {
    RestoreError::InvalidPath {
        path: path.clone(),
        source,
    }
}
