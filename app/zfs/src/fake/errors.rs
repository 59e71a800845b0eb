//! The errors the fake returns, built from the messages real `zfs` prints in the same
//! situation (OpenZFS 2.3, `LC_ALL=C`), with the [`ZfsError`] variant that
//! [`crate::error::classify`] gives those messages, so callers see the same error from
//! [`super::FakeZfs`] and [`crate::CliZfs`]; and [`storage_error`], a failure of the fake's
//! own files.

use std::path::Path;

use crate::error::ZfsError;

/// The exit status text `CliZfs` reports for a failed command.
const EXIT_STATUS: &str = "exit status: 1";

/// `cannot open 'X': dataset does not exist`.
pub(super) fn dataset_not_found(name: &str) -> ZfsError {
    not_found(
        name,
        format!("cannot open '{name}': dataset does not exist"),
    )
}

pub(super) fn not_found(target: &str, stderr: String) -> ZfsError {
    ZfsError::NotFound {
        target: target.to_owned(),
        stderr,
    }
}

pub(super) fn already_exists(target: &str, stderr: String) -> ZfsError {
    ZfsError::AlreadyExists {
        target: target.to_owned(),
        stderr,
    }
}

pub(super) fn busy(target: &str, stderr: String) -> ZfsError {
    ZfsError::Busy {
        target: target.to_owned(),
        stderr,
    }
}

/// Any other failure of a `zfs` command.
pub(super) fn failed(command: String, stderr: String) -> ZfsError {
    ZfsError::Failed {
        command,
        status: EXIT_STATUS.to_owned(),
        stderr,
    }
}

/// A held snapshot cannot be destroyed (OpenZFS 2.3 wording; 2.1 says "dataset is busy").
pub(super) fn snapshot_busy(snapshot: &str) -> ZfsError {
    busy(
        snapshot,
        format!(
            "cannot destroy snapshot {snapshot}: it's being held. \
             Run 'zfs holds -r {snapshot}' to see holders."
        ),
    )
}

/// A non-recursive destroy of a filesystem with children or snapshots.
pub(super) fn has_dependents(target: &str, stderr: String) -> ZfsError {
    ZfsError::HasDependents {
        target: target.to_owned(),
        stderr,
    }
}

/// "This went wrong in the fake's own files" (not an error real ZFS would report).
pub(super) fn storage_error(path: &Path, source: std::io::Error) -> ZfsError {
    ZfsError::FakeStorage {
        path: path.display().to_string(),
        source,
    }
}
