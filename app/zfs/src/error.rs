//! Typed failures of ZFS operations. The `zfs`/`zpool` commands report errors as English
//! text on stderr (we force `LC_ALL=C`); [`classify`] maps the messages callers can act on
//! to variants, and keeps the command, exit status and stderr for everything else.

use crate::types::ArgumentError;
use wizfs_core::NameError;

pub type ZfsResult<T> = Result<T, ZfsError>;

#[derive(Debug, thiserror::Error)]
pub enum ZfsError {
    /// A name was rejected before any command ran.
    #[error(transparent)]
    InvalidName(#[from] NameError),
    /// A property name, hold tag or token was rejected before any command ran.
    #[error(transparent)]
    InvalidArgument(#[from] ArgumentError),
    /// A request that is well-formed but makes no sense (e.g. a diff across datasets).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("`{target}` does not exist ({stderr})")]
    NotFound { target: String, stderr: String },
    #[error("`{target}` already exists ({stderr})")]
    AlreadyExists { target: String, stderr: String },
    /// Busy: mounted and in use, held, or a receive in progress.
    #[error("`{target}` is busy ({stderr})")]
    Busy { target: String, stderr: String },
    /// A destroy without `recursive` of a dataset that has children, snapshots or clones.
    #[error(
        "`{target}` has children, snapshots or clones: destroy them first or destroy recursively ({stderr})"
    )]
    HasDependents { target: String, stderr: String },
    #[error("permission denied for `{target}` ({stderr})")]
    PermissionDenied { target: String, stderr: String },
    #[error("out of space on `{target}` ({stderr})")]
    NoSpace { target: String, stderr: String },
    #[error("`{target}` is read-only ({stderr})")]
    ReadOnly { target: String, stderr: String },
    /// Any other non-zero exit.
    #[error("`{command}` failed with {status}: {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    /// The command could not be started (not installed?).
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing a stream failed.
    #[error("stream I/O for `{command}` failed: {source}")]
    StreamIo {
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// The command's output was not what we expected.
    #[error("cannot parse the output of `{command}`: {reason} (line: {line:?})")]
    Parse {
        command: String,
        line: String,
        reason: String,
    },
    /// An error of the fake implementation's own storage.
    #[error("fake ZFS storage error at {path}: {source}")]
    FakeStorage {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl ZfsError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    pub fn is_busy(&self) -> bool {
        matches!(self, Self::Busy { .. })
    }
}

/// Maps a failed command's stderr to an error. `target` is the object the command acted on
/// (used in the message when the stderr does not name one).
pub fn classify(command: &str, target: &str, status: &str, stderr: &str) -> ZfsError {
    let stderr_text = stderr.trim().to_owned();
    let lower = stderr_text.to_ascii_lowercase();
    let has = |needle: &str| lower.contains(needle);
    let target = target.to_owned();
    if has("does not exist")
        || has("no such pool")
        || has("no such tag")
        || has("could not find any snapshots")
        || has("no such file or directory")
    {
        ZfsError::NotFound {
            target,
            stderr: stderr_text,
        }
    } else if has("already exists")
        || (has("destination") && has("exists"))
        || has("bookmark exists")
    {
        ZfsError::AlreadyExists {
            target,
            stderr: stderr_text,
        }
    } else if has("is busy") || has("device busy") || has("being held") {
        ZfsError::Busy {
            target,
            stderr: stderr_text,
        }
    } else if has("has children") || has("has dependent clones") {
        ZfsError::HasDependents {
            target,
            stderr: stderr_text,
        }
    } else if has("permission denied") || has("operation not permitted") {
        ZfsError::PermissionDenied {
            target,
            stderr: stderr_text,
        }
    } else if has("out of space") || has("no space left") {
        ZfsError::NoSpace {
            target,
            stderr: stderr_text,
        }
    } else if has("read-only") {
        ZfsError::ReadOnly {
            target,
            stderr: stderr_text,
        }
    } else {
        ZfsError::Failed {
            command: command.to_owned(),
            status: status.to_owned(),
            stderr: stderr_text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages as OpenZFS 2.1/2.3 print them (see tests/fixtures/*/errors.txt).
    #[test]
    fn stderr_classification() {
        type Check = fn(&ZfsError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("cannot open 'tank/nope': dataset does not exist", |e| {
                matches!(e, ZfsError::NotFound { .. })
            }),
            ("cannot open 'nopool': no such pool", |e| {
                matches!(e, ZfsError::NotFound { .. })
            }),
            (
                "cannot release hold from snapshot 'tank/a@s': no such tag on this dataset",
                |e| matches!(e, ZfsError::NotFound { .. }),
            ),
            (
                "cannot create snapshot 'tank/a@s': dataset already exists",
                |e| matches!(e, ZfsError::AlreadyExists { .. }),
            ),
            ("cannot destroy snapshot tank/a@s: dataset is busy", |e| {
                matches!(e, ZfsError::Busy { .. })
            }),
            (
                "cannot destroy snapshot tank/a@s: it's being held. Run 'zfs holds -r tank/a@s' to see holders.",
                |e| matches!(e, ZfsError::Busy { .. }),
            ),
            (
                "cannot destroy 'tank/a': filesystem has children use '-r' to destroy the following datasets: tank/a@s",
                |e| matches!(e, ZfsError::HasDependents { .. }),
            ),
            ("cannot create 'tank/x': permission denied", |e| {
                matches!(e, ZfsError::PermissionDenied { .. })
            }),
            ("cannot create snapshot 'tank/a@s': out of space", |e| {
                matches!(e, ZfsError::NoSpace { .. })
            }),
            (
                "cannot set property for 'tank/ro': pool is read-only",
                |e| matches!(e, ZfsError::ReadOnly { .. }),
            ),
            ("internal error: something new", |e| {
                matches!(e, ZfsError::Failed { .. })
            }),
        ];
        for (stderr, expected) in cases {
            let error = classify("zfs x", "tank", "exit status: 1", stderr);
            assert!(expected(&error), "{stderr} -> {error:?}");
        }
    }
}
