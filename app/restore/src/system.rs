//! Thin, safe wrappers over the system calls the rest of the crate shares: `statx` (with an
//! `fstatat` fallback) turned into [`EntryMetadata`], directory listing by file descriptor,
//! extended attribute copying and ownership/mode/time application. Everything here works on a
//! directory file descriptor plus one file name, never on a path with several components, so
//! no symlink can be followed by accident.

use std::os::fd::BorrowedFd;

use rustix::fs::{
    AtFlags, Dir, FileType, Gid, Mode, StatxAttributes, StatxFlags, Timespec, Timestamps, Uid,
    XattrFlags,
};
use rustix::io::Errno;
use wizfs_core::{EntryKind, EntryMetadata, FileTime, RelativePath};

use crate::error::{RestoreError, RestoreResult, system_failure};

/// An entry as seen by `statx`, with what is needed to stay on one file system.
#[derive(Clone, Debug)]
pub(crate) struct Observed {
    pub(crate) metadata: EntryMetadata,
    /// `(major, minor)` of the device holding the entry.
    pub(crate) device: (u32, u32),
    /// `STATX_ATTR_MOUNT_ROOT`: the entry is the root of a mount (false when unknown).
    pub(crate) mount_root: bool,
}

/// The entry kind of a raw `st_mode`, `None` for a type Linux does not define.
pub(crate) fn kind_of_mode(mode: u32) -> Option<EntryKind> {
    match FileType::from_raw_mode(mode) {
        FileType::RegularFile => Some(EntryKind::File),
        FileType::Directory => Some(EntryKind::Directory),
        FileType::Symlink => Some(EntryKind::Symlink),
        FileType::Fifo => Some(EntryKind::Fifo),
        FileType::Socket => Some(EntryKind::Socket),
        FileType::CharacterDevice => Some(EntryKind::CharacterDevice),
        FileType::BlockDevice => Some(EntryKind::BlockDevice),
        FileType::Unknown => None,
    }
}

/// `lstat` of `name` in `directory` (of `directory` itself when `name` is empty). `None` when
/// the entry does not exist. `path` is only used in error messages.
pub(crate) fn observe_at(
    directory: BorrowedFd<'_>,
    name: &[u8],
    path: &RelativePath,
) -> RestoreResult<Option<Observed>> {
    let mut flags = AtFlags::SYMLINK_NOFOLLOW | AtFlags::NO_AUTOMOUNT;
    if name.is_empty() {
        flags |= AtFlags::EMPTY_PATH;
    }
    let raw = match rustix::fs::statx(directory, name, flags, StatxFlags::BASIC_STATS) {
        Ok(statx) => RawStat {
            mode: u32::from(statx.stx_mode),
            size: statx.stx_size,
            blocks: statx.stx_blocks,
            uid: statx.stx_uid,
            gid: statx.stx_gid,
            modified: FileTime {
                seconds: statx.stx_mtime.tv_sec,
                nanoseconds: statx.stx_mtime.tv_nsec,
            },
            changed: FileTime {
                seconds: statx.stx_ctime.tv_sec,
                nanoseconds: statx.stx_ctime.tv_nsec,
            },
            inode: statx.stx_ino,
            links: u64::from(statx.stx_nlink),
            device: (statx.stx_dev_major, statx.stx_dev_minor),
            mount_root: statx
                .stx_attributes_mask
                .contains(StatxAttributes::MOUNT_ROOT)
                && statx.stx_attributes.contains(StatxAttributes::MOUNT_ROOT),
        },
        Err(Errno::NOENT | Errno::NOTDIR) => return Ok(None),
        Err(Errno::NOSYS) => match rustix::fs::statat(directory, name, flags) {
            Ok(stat) => raw_from_stat(&stat),
            Err(Errno::NOENT | Errno::NOTDIR) => return Ok(None),
            Err(errno) => return Err(system_failure("read the metadata of", path, errno)),
        },
        Err(errno) => return Err(system_failure("read the metadata of", path, errno)),
    };
    let kind = kind_of_mode(raw.mode).ok_or_else(|| RestoreError::UnknownFileType {
        path: path.clone(),
        mode: raw.mode,
    })?;
    let symlink_target = if kind == EntryKind::Symlink {
        match rustix::fs::readlinkat(directory, name, Vec::new()) {
            Ok(target) => Some(target.into_bytes()),
            Err(Errno::NOENT) => return Ok(None),
            Err(errno) => return Err(system_failure("read the symbolic link", path, errno)),
        }
    } else {
        None
    };
    Ok(Some(Observed {
        metadata: EntryMetadata {
            kind,
            size: raw.size,
            allocated: raw.blocks.saturating_mul(512),
            mode: raw.mode & 0o7777,
            uid: raw.uid,
            gid: raw.gid,
            modified: raw.modified,
            changed: raw.changed,
            inode: raw.inode,
            links: raw.links,
            symlink_target,
        },
        device: raw.device,
        mount_root: raw.mount_root,
    }))
}

/// The fields of `statx` and `stat` WiZFS uses, in one shape.
struct RawStat {
    mode: u32,
    size: u64,
    blocks: u64,
    uid: u32,
    gid: u32,
    modified: FileTime,
    changed: FileTime,
    inode: u64,
    links: u64,
    device: (u32, u32),
    mount_root: bool,
}

/// `fstatat` results for kernels without `statx` (before 4.11, or seccomp filters).
#[allow(
    clippy::useless_conversion,
    reason = "field widths differ between architectures"
)]
fn raw_from_stat(stat: &rustix::fs::Stat) -> RawStat {
    let device = u64::try_from(stat.st_dev).unwrap_or_default();
    RawStat {
        mode: u32::try_from(stat.st_mode).unwrap_or_default(),
        size: u64::try_from(stat.st_size).unwrap_or_default(),
        blocks: u64::try_from(stat.st_blocks).unwrap_or_default(),
        uid: stat.st_uid,
        gid: stat.st_gid,
        modified: FileTime {
            seconds: i64::try_from(stat.st_mtime).unwrap_or_default(),
            nanoseconds: u32::try_from(stat.st_mtime_nsec).unwrap_or_default(),
        },
        changed: FileTime {
            seconds: i64::try_from(stat.st_ctime).unwrap_or_default(),
            nanoseconds: u32::try_from(stat.st_ctime_nsec).unwrap_or_default(),
        },
        inode: u64::try_from(stat.st_ino).unwrap_or_default(),
        links: u64::try_from(stat.st_nlink).unwrap_or_default(),
        device: (rustix::fs::major(device), rustix::fs::minor(device)),
        mount_root: false,
    }
}

/// The names in an open directory (without `.` and `..`), unsorted.
pub(crate) fn directory_names(
    directory: BorrowedFd<'_>,
    path: &RelativePath,
) -> RestoreResult<Vec<Vec<u8>>> {
    Ok(directory_entries(directory, path)?
        .into_iter()
        .map(|(name, _)| name)
        .collect())
}

/// The names of a directory's entries with their inode numbers as `getdents` reports them
/// (no `stat`), without `.` and `..`, in the order the file system lists them.
pub(crate) fn directory_entries(
    directory: BorrowedFd<'_>,
    path: &RelativePath,
) -> RestoreResult<Vec<(Vec<u8>, u64)>> {
    let mut reader =
        Dir::read_from(directory).map_err(|errno| system_failure("list", path, errno))?;
    let mut entries = Vec::new();
    while let Some(entry) = reader.read() {
        let entry = entry.map_err(|errno| system_failure("list", path, errno))?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            entries.push((name.to_vec(), entry.ino()));
        }
    }
    Ok(entries)
}

/// The extended attribute names of an open file (`ENOTSUP` reads as none).
fn extended_attribute_names(
    file: BorrowedFd<'_>,
    path: &RelativePath,
) -> RestoreResult<Vec<Vec<u8>>> {
    for _ in 0..8 {
        let size = match rustix::fs::flistxattr_query(file) {
            Ok(size) => size,
            Err(Errno::OPNOTSUPP) => return Ok(Vec::new()),
            Err(errno) => {
                return Err(system_failure(
                    "list the extended attributes of",
                    path,
                    errno,
                ));
            }
        };
        if size == 0 {
            return Ok(Vec::new());
        }
        let mut buffer = vec![0_u8; size];
        match rustix::fs::flistxattr(file, &mut buffer[..]) {
            Ok(length) => {
                buffer.truncate(length);
                return Ok(buffer
                    .split(|byte| *byte == 0)
                    .filter(|name| !name.is_empty())
                    .map(<[u8]>::to_vec)
                    .collect());
            }
            // The list grew between the two calls: ask again.
            Err(Errno::RANGE) => continue,
            Err(errno) => {
                return Err(system_failure(
                    "list the extended attributes of",
                    path,
                    errno,
                ));
            }
        }
    }
    Err(RestoreError::Unsupported {
        operation: "list the extended attributes of",
        path: path.clone(),
        detail: "the list keeps changing".to_owned(),
    })
}

/// One extended attribute's value; `None` if it disappeared meanwhile.
fn extended_attribute_value(
    file: BorrowedFd<'_>,
    name: &[u8],
    path: &RelativePath,
) -> RestoreResult<Option<Vec<u8>>> {
    for _ in 0..8 {
        let size = match rustix::fs::fgetxattr_query(file, name) {
            Ok(size) => size,
            Err(Errno::NODATA) => return Ok(None),
            Err(errno) => return Err(system_failure("read an extended attribute of", path, errno)),
        };
        let mut value = vec![0_u8; size];
        match rustix::fs::fgetxattr(file, name, &mut value[..]) {
            Ok(length) => {
                value.truncate(length);
                return Ok(Some(value));
            }
            Err(Errno::RANGE) => continue,
            Err(Errno::NODATA) => return Ok(None),
            Err(errno) => return Err(system_failure("read an extended attribute of", path, errno)),
        }
    }
    Err(RestoreError::Unsupported {
        operation: "read an extended attribute of",
        path: path.clone(),
        detail: "its value keeps changing".to_owned(),
    })
}

/// Copies every extended attribute of `source` to `destination` (POSIX ACLs travel as
/// `system.posix_acl_*` attributes, user attributes as `user.*`). A destination file system
/// that does not support an attribute namespace (`ENOTSUP`) is not an error; anything else is.
/// Returns how many attributes were copied.
pub(crate) fn copy_extended_attributes(
    source: BorrowedFd<'_>,
    destination: BorrowedFd<'_>,
    path: &RelativePath,
) -> RestoreResult<usize> {
    let mut copied = 0;
    for name in extended_attribute_names(source, path)? {
        let Some(value) = extended_attribute_value(source, &name, path)? else {
            continue;
        };
        match rustix::fs::fsetxattr(destination, &name[..], &value, XattrFlags::empty()) {
            Ok(()) => copied += 1,
            Err(Errno::OPNOTSUPP) => {}
            Err(errno) => {
                return Err(system_failure("set an extended attribute of", path, errno));
            }
        }
    }
    Ok(copied)
}

/// `fchown`; `EPERM` (not running as root) leaves the owner as it is.
pub(crate) fn apply_owner(
    file: BorrowedFd<'_>,
    metadata: &EntryMetadata,
    path: &RelativePath,
) -> RestoreResult<()> {
    let owner = Uid::from_raw(metadata.uid);
    let group = Gid::from_raw(metadata.gid);
    match rustix::fs::fchown(file, Some(owner), Some(group)) {
        Ok(()) | Err(Errno::PERM) => Ok(()),
        Err(errno) => Err(system_failure("set the owner of", path, errno)),
    }
}

/// `fchmod` with the permission bits (including setuid, setgid and sticky), then `futimens`
/// with the modification time (access time = modification time).
pub(crate) fn apply_mode_and_times(
    file: BorrowedFd<'_>,
    metadata: &EntryMetadata,
    path: &RelativePath,
) -> RestoreResult<()> {
    rustix::fs::fchmod(file, Mode::from_raw_mode(metadata.mode & 0o7777))
        .map_err(|errno| system_failure("set the permissions of", path, errno))?;
    rustix::fs::futimens(file, &timestamps(metadata))
        .map_err(|errno| system_failure("set the times of", path, errno))
}

/// Owner and times of a symbolic link itself (its mode means nothing on Linux).
pub(crate) fn apply_symlink_metadata(
    directory: BorrowedFd<'_>,
    name: &[u8],
    metadata: &EntryMetadata,
    path: &RelativePath,
) -> RestoreResult<()> {
    let owner = Uid::from_raw(metadata.uid);
    let group = Gid::from_raw(metadata.gid);
    match rustix::fs::chownat(
        directory,
        name,
        Some(owner),
        Some(group),
        AtFlags::SYMLINK_NOFOLLOW,
    ) {
        Ok(()) | Err(Errno::PERM) => {}
        Err(errno) => return Err(system_failure("set the owner of", path, errno)),
    }
    rustix::fs::utimensat(
        directory,
        name,
        &timestamps(metadata),
        AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(|errno| system_failure("set the times of", path, errno))
}

fn timestamps(metadata: &EntryMetadata) -> Timestamps {
    let modified = Timespec {
        tv_sec: metadata.modified.seconds,
        tv_nsec: metadata.modified.nanoseconds.min(999_999_999).into(),
    };
    Timestamps {
        last_access: modified,
        last_modification: modified,
    }
}
