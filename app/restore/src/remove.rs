//! Removing live entries: a file or symlink is unlinked, a directory is removed with all its
//! content depth first. Nothing is followed: every directory is reopened through
//! [`SafeRoot`]'s strict resolution, symlinks are unlinked as symlinks, and a directory on
//! another device (a child dataset's mountpoint) stops the removal with
//! [`RestoreError::CrossesMount`] instead of being entered or emptied.

use std::os::fd::AsFd;

use rustix::fs::AtFlags;
use rustix::io::Errno;
use wizfs_core::{EntryKind, RelativePath};

use crate::error::{RestoreError, RestoreResult, invalid_path, system_failure};
use crate::root::SafeRoot;
use crate::system::{directory_names, observe_at};

/// Removes `path` (and, for a directory, everything below it) from `root`. Returns how many
/// entries were removed (0 when `path` did not exist).
pub(crate) fn remove_entry(root: &SafeRoot, path: &RelativePath) -> RestoreResult<u64> {
    let Some(top) = root.observe(path)? else {
        return Ok(0);
    };
    if top.metadata.kind != EntryKind::Directory {
        unlink(root, path, AtFlags::empty())?;
        return Ok(1);
    }
    if !root.is_on_root_file_system(&top) {
        return Err(RestoreError::CrossesMount {
            path: path.clone(),
            mount_point: path.clone(),
        });
    }
    let mut removed = 0;
    // (directory, whether its content is already gone)
    let mut pending = vec![(path.clone(), false)];
    while let Some((directory_path, emptied)) = pending.pop() {
        if emptied {
            unlink(root, &directory_path, AtFlags::REMOVEDIR)?;
            removed += 1;
            continue;
        }
        pending.push((directory_path.clone(), true));
        let directory = match root.open_directory(&directory_path) {
            Ok(directory) => directory,
            Err(RestoreError::NotFound { .. }) => continue,
            Err(other) => return Err(other),
        };
        for name in directory_names(directory.as_fd(), &directory_path)? {
            let child = directory_path
                .join(&name)
                .map_err(|source| invalid_path(&directory_path, source))?;
            let Some(observed) = observe_at(directory.as_fd(), &name, &child)? else {
                continue;
            };
            if observed.metadata.kind == EntryKind::Directory {
                if !root.is_on_root_file_system(&observed) {
                    return Err(RestoreError::CrossesMount {
                        path: path.clone(),
                        mount_point: child,
                    });
                }
                pending.push((child, false));
            } else {
                match rustix::fs::unlinkat(&directory, &name[..], AtFlags::empty()) {
                    Ok(()) => removed += 1,
                    Err(Errno::NOENT) => {}
                    Err(errno) => return Err(system_failure("remove", &child, errno)),
                }
            }
        }
    }
    Ok(removed)
}

/// `unlinkat` of `path` relative to its parent (`AtFlags::REMOVEDIR` for a directory);
/// already gone is fine.
fn unlink(root: &SafeRoot, path: &RelativePath, flags: AtFlags) -> RestoreResult<()> {
    let (parent, name) = root.open_parent(path)?;
    match rustix::fs::unlinkat(&parent, &name[..], flags) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(errno) => Err(system_failure("remove", path, errno)),
    }
}
