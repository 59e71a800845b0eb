//! Writing files so a crash never leaves a half-written one under its final name: a file is
//! written to a temporary name (`….partial`), flushed to the disk (`fsync`), renamed into
//! place, and its directory flushed so the rename itself survives a power cut. Also the one
//! error type of file operations, [`FileError`], which names what was done to which path.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::names::partial_name;

/// What was being done to a file when it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileAction {
    Create,
    Open,
    Read,
    Write,
    Sync,
    Rename,
    Remove,
    List,
    Lock,
}

impl fmt::Display for FileAction {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            FileAction::Create => "creating",
            FileAction::Open => "opening",
            FileAction::Read => "reading",
            FileAction::Write => "writing",
            FileAction::Sync => "flushing to disk",
            FileAction::Rename => "renaming into place",
            FileAction::Remove => "removing",
            FileAction::List => "listing",
            FileAction::Lock => "locking",
        })
    }
}

/// A file operation that failed, with the path and the system's error.
#[derive(Debug, thiserror::Error)]
#[error("{action} `{}` failed: {source}", path.display())]
pub struct FileError {
    pub action: FileAction,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl FileError {
    /// A closure for `map_err` that wraps an `io::Error` with the action and path.
    pub fn at(action: FileAction, path: &Path) -> impl FnOnce(io::Error) -> FileError + '_ {
        move |source| FileError {
            action,
            path: path.to_owned(),
            source,
        }
    }
}

/// Flushes a directory's entries (names created, renamed or removed) to the disk. File
/// systems that cannot flush a directory this way (some FUSE ones answer `EINVAL`) keep
/// their entries by their own means; that answer is let through.
pub fn sync_directory(directory: &Path) -> Result<(), FileError> {
    let handle = File::open(directory).map_err(FileError::at(FileAction::Open, directory))?;
    match handle.sync_all() {
        Err(error) if error.kind() == io::ErrorKind::InvalidInput => Ok(()),
        other => other.map_err(FileError::at(FileAction::Sync, directory)),
    }
}

/// Creates `path` for writing, failing if it exists (a leftover is removed first by the
/// caller's cleanup, never overwritten by accident).
pub fn create_new(path: &Path) -> Result<File, FileError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(FileError::at(FileAction::Create, path))
}

/// Flushes `file` (written at `path`) to the disk, renames it to `final_path` and flushes
/// the directory.
pub fn commit(file: File, path: &Path, final_path: &Path) -> Result<(), FileError> {
    file.sync_all()
        .map_err(FileError::at(FileAction::Sync, path))?;
    drop(file);
    fs::rename(path, final_path).map_err(FileError::at(FileAction::Rename, path))?;
    sync_directory(final_path.parent().unwrap_or(Path::new(".")))
}

/// Writes `bytes` as `directory/name` through a temporary name: readers see the old file
/// or the whole new one, also after a crash.
pub fn write_atomically(directory: &Path, name: &str, bytes: &[u8]) -> Result<(), FileError> {
    let temporary = directory.join(partial_name(name));
    remove_if_present(&temporary)?;
    let mut file = create_new(&temporary)?;
    file.write_all(bytes)
        .map_err(FileError::at(FileAction::Write, &temporary))?;
    commit(file, &temporary, &directory.join(name))
}

/// Removes a file; one that is already gone is fine.
pub fn remove_if_present(path: &Path) -> Result<(), FileError> {
    match fs::remove_file(path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other.map_err(FileError::at(FileAction::Remove, path)),
    }
}

/// The names in a directory (names that are not UTF-8 are kept lossily: WiZFS writes none,
/// so they only ever show up as files it does not know).
pub fn list_names(directory: &Path) -> Result<Vec<String>, FileError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(directory).map_err(FileError::at(FileAction::List, directory))? {
        let entry = entry.map_err(FileError::at(FileAction::List, directory))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_whole_file_and_leaves_no_temporary() {
        let directory = tempfile::tempdir().expect("tempdir");
        write_atomically(directory.path(), "a.json", b"first").expect("write");
        // A leftover temporary from a crash is replaced, not appended to.
        fs::write(directory.path().join("a.json.partial"), b"garbage").expect("leftover");
        write_atomically(directory.path(), "a.json", b"second").expect("write again");
        assert_eq!(
            fs::read(directory.path().join("a.json")).expect("read"),
            b"second"
        );
        assert_eq!(list_names(directory.path()).expect("list"), ["a.json"]);
    }

    #[test]
    fn failures_name_the_action_and_the_path() {
        let directory = tempfile::tempdir().expect("tempdir");
        let missing = directory.path().join("absent").join("x");
        let error = write_atomically(&missing, "a", b"").expect_err("no directory");
        let message = error.to_string();
        assert!(message.starts_with("creating `"), "{message}");
        assert!(message.contains("absent"), "{message}");
    }
}
