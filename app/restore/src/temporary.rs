//! Temporary entries: every restored file, symlink and hard link is first created under a
//! temporary name in its destination directory (`.wizfs-restore-<pid>-<n>.tmp`), and a
//! directory replaced as a unit is built as `.wizfs-restore-<pid>-<n>.dir`; only a rename
//! makes it visible under its real name. [`TemporaryEntry`] removes the entry again when
//! dropped before being placed, so an error never leaves a half-written file behind. A
//! SIGKILL or power loss can; [`cleanup_stale_temporaries`] removes those leftovers of
//! processes that no longer run.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::AtFlags;
use rustix::io::Errno;
use rustix::process::Pid;
use wizfs_core::{EntryKind, RelativePath};

use crate::error::{RestoreResult, invalid_path, system_failure};
use crate::remove::remove_entry;
use crate::root::SafeRoot;
use crate::system::{directory_names, observe_at};

#[cfg(test)]
mod tests;

const PREFIX: &str = ".wizfs-restore-";
const FILE_SUFFIX: &str = ".tmp";
const DIRECTORY_SUFFIX: &str = ".dir";

/// What a temporary name is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TemporaryKind {
    /// A file, symlink or hard link (`.tmp`).
    Entry,
    /// A directory built to replace another as a unit (`.dir`).
    Directory,
}

/// Hands out temporary names for this process. The counter lives in the executor (no
/// global state); two executors of one process may propose the same name, which is why
/// every creation uses `O_EXCL` (or its equivalent) and asks for the next name on `EEXIST`.
#[derive(Debug)]
pub(crate) struct TemporaryNames {
    process: u32,
    next: u64,
}

impl TemporaryNames {
    pub(crate) fn new() -> TemporaryNames {
        TemporaryNames {
            process: std::process::id(),
            next: 1,
        }
    }

    pub(crate) fn next(&mut self, kind: TemporaryKind) -> Vec<u8> {
        let number = self.next;
        self.next += 1;
        let suffix = match kind {
            TemporaryKind::Entry => FILE_SUFFIX,
            TemporaryKind::Directory => DIRECTORY_SUFFIX,
        };
        format!("{PREFIX}{}-{number}{suffix}", self.process).into_bytes()
    }
}

/// The process id in a temporary name, `None` for any other name.
pub(crate) fn temporary_name_process(name: &[u8]) -> Option<u32> {
    let name = std::str::from_utf8(name).ok()?;
    let rest = name.strip_prefix(PREFIX)?;
    let rest = rest
        .strip_suffix(FILE_SUFFIX)
        .or_else(|| rest.strip_suffix(DIRECTORY_SUFFIX))?;
    let (process, number) = rest.split_once('-')?;
    let all_digits =
        |text: &str| !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit());
    if !all_digits(process) || !all_digits(number) {
        return None;
    }
    process.parse().ok()
}

/// Whether a process with this id exists (a process we may not signal exists too).
fn process_is_running(process: u32) -> bool {
    let Some(pid) = i32::try_from(process).ok().and_then(Pid::from_raw) else {
        return false;
    };
    !matches!(rustix::process::test_kill_process(pid), Err(Errno::SRCH))
}

/// Removes the temporary files and directories that restores of processes no longer running
/// left in `directory` (the live directory `directory` of `live`). Leftovers of running
/// processes, this one included, are kept: they may be restores in progress. Returns how
/// many entries were removed; a missing `directory` has none.
pub fn cleanup_stale_temporaries(
    live: &SafeRoot,
    directory: &RelativePath,
) -> RestoreResult<usize> {
    let descriptor = match live.open_directory(directory) {
        Ok(descriptor) => descriptor,
        Err(crate::RestoreError::NotFound { .. }) => return Ok(0),
        Err(other) => return Err(other),
    };
    let mut removed = 0;
    for name in directory_names(descriptor.as_fd(), directory)? {
        let Some(process) = temporary_name_process(&name) else {
            continue;
        };
        if process_is_running(process) {
            continue;
        }
        let path = directory
            .join(&name)
            .map_err(|source| invalid_path(directory, source))?;
        let Some(observed) = observe_at(descriptor.as_fd(), &name, &path)? else {
            continue;
        };
        if observed.metadata.kind == EntryKind::Directory {
            remove_entry(live, &path)?;
        } else {
            match rustix::fs::unlinkat(&descriptor, &name[..], AtFlags::empty()) {
                Ok(()) | Err(Errno::NOENT) => {}
                Err(errno) => {
                    return Err(system_failure("remove the stale temporary", &path, errno));
                }
            }
        }
        removed += 1;
    }
    Ok(removed)
}

/// A temporary entry that is removed when dropped unless [`TemporaryEntry::placed`] was
/// called (after the rename that made it visible, or that moved it away).
#[derive(Debug)]
pub(crate) struct TemporaryEntry<'a> {
    root: &'a SafeRoot,
    directory: &'a OwnedFd,
    name: Vec<u8>,
    path: RelativePath,
    kind: TemporaryKind,
    armed: bool,
}

impl<'a> TemporaryEntry<'a> {
    /// Takes charge of `name`, just created in `directory`; `path` is its path in `root`
    /// (compute it before creating the entry, so that this cannot fail).
    pub(crate) fn new(
        root: &'a SafeRoot,
        directory: &'a OwnedFd,
        name: Vec<u8>,
        path: RelativePath,
        kind: TemporaryKind,
    ) -> TemporaryEntry<'a> {
        TemporaryEntry {
            root,
            directory,
            name,
            path,
            kind,
            armed: true,
        }
    }

    pub(crate) fn name(&self) -> &[u8] {
        &self.name
    }

    pub(crate) fn directory(&self) -> BorrowedFd<'_> {
        self.directory.as_fd()
    }

    /// The entry was renamed into place: nothing to clean up any more.
    pub(crate) fn placed(mut self) {
        self.armed = false;
    }

    /// Removes the entry now, reporting failures (dropping does the same silently).
    pub(crate) fn remove(mut self) -> RestoreResult<u64> {
        self.armed = false;
        match self.kind {
            TemporaryKind::Directory => remove_entry(self.root, &self.path),
            TemporaryKind::Entry => {
                match rustix::fs::unlinkat(self.directory, &self.name[..], AtFlags::empty()) {
                    Ok(()) => Ok(1),
                    Err(Errno::NOENT) => Ok(0),
                    Err(errno) => Err(system_failure("remove the temporary", &self.path, errno)),
                }
            }
        }
    }
}

impl Drop for TemporaryEntry<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // Best effort: this runs on an error path whose error is the one worth reporting;
        // whatever stays behind is removed by a later `cleanup_stale_temporaries`.
        let _ = match self.kind {
            TemporaryKind::Directory => remove_entry(self.root, &self.path).map(|_| ()),
            TemporaryKind::Entry => {
                rustix::fs::unlinkat(self.directory, &self.name[..], AtFlags::empty())
                    .map_err(|errno| system_failure("remove", &self.path, errno))
            }
        };
    }
}
