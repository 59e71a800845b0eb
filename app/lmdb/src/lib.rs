//! Opening the LMDB (heed) environments of WiZFS, written once: directory, permissions, map
//! size, flags.
//!
//! Every store of WiZFS that keeps data in LMDB (the index's catalogue, the health history,
//! the background tasks' run log) opens its environment with [`open`] and creates its tables
//! with [`create_databases`]. Opening an environment is the only `unsafe` step heed asks
//! for; it lives here, once, with the rule that makes it sound.
//!
//! # The rule
//! LMDB memory-maps `data.mdb`; heed requires that nothing truncates or rewrites that file
//! while it is mapped. Every directory given to [`open`] belongs to one store of WiZFS and
//! is changed only through LMDB (through this environment, or the same store in another
//! process, which LMDB's own lock file coordinates). heed refuses a second open of one path
//! in one process ([`LmdbError::AlreadyOpen`]).

use std::convert::Infallible;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use heed::types::Bytes;
use heed::{CommitOrAbort, Database, Env, EnvOpenOptions, WithoutTls};

/// A table of byte keys and byte values, usable for as long as its environment is open.
pub type BytesDatabase = Database<'static, Bytes, Bytes>;

/// How to open an environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Virtual address space reserved for the environment, in bytes. The file grows only as
    /// pages are written (sparse), so this is a ceiling, not a cost; a write that would go
    /// beyond it fails with `MDB_MAP_FULL`.
    pub map_size: usize,
    /// The number of named databases (tables) the environment may hold.
    pub max_dbs: u32,
}

/// Failures of [`open`], each naming the environment's directory.
#[derive(Debug, thiserror::Error)]
pub enum LmdbError {
    #[error("creating the LMDB directory {}: {source}", path.display())]
    CreateDirectory {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the LMDB environment at {} is already open in this process", path.display())]
    AlreadyOpen { path: PathBuf },
    #[error("opening the LMDB environment at {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: heed::Error,
    },
}

/// Opens (creating if needed) the environment in directory `path`.
///
/// A missing directory is created with mode 0700 (its parents too); an existing one is used
/// as it is. Read transactions do not use thread-local storage, so they may move between
/// threads (async tasks). The directory must follow the rule of this crate (see the crate's
/// documentation): it belongs to the caller's store and is changed only through LMDB.
pub fn open(path: &Path, options: Options) -> Result<Env<WithoutTls>, LmdbError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|source| LmdbError::CreateDirectory {
            path: path.to_path_buf(),
            source,
        })?;
    open_environment(path, options).map_err(|source| match source {
        heed::Error::EnvAlreadyOpened => LmdbError::AlreadyOpen {
            path: path.to_path_buf(),
        },
        source => LmdbError::Open {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// The one `unsafe` of WiZFS's LMDB stores.
#[allow(unsafe_code)]
fn open_environment(path: &Path, options: Options) -> heed::Result<Env<WithoutTls>> {
    let mut open_options = EnvOpenOptions::new().read_txn_without_tls();
    open_options
        .map_size(options.map_size)
        .max_dbs(options.max_dbs);
    // SAFETY: LMDB memory-maps `data.mdb`; heed requires that nothing else truncates or
    // rewrites that file while it is mapped. By the rule of this crate (its documentation,
    // and ARCHITECTURE.md's invariants) every directory opened here belongs to one store and
    // is only changed through LMDB; heed refuses a second open of the same path in this
    // process.
    unsafe { open_options.open(path) }
}

/// Opens the named tables of byte keys and values that already exist, in one read
/// transaction (no write lock: a reader never waits for the process writing the store);
/// `None` when one of them does not exist.
pub fn open_databases<const N: usize>(
    env: &Env<WithoutTls>,
    names: [&str; N],
) -> heed::Result<Option<[BytesDatabase; N]>> {
    let rtxn = env.read_txn()?;
    let databases = env.open_databases_and_commit(rtxn, |opener, rtxn| -> heed::Result<_> {
        // The unnamed table always exists: it fills the array until the names replace it.
        let Some(unnamed) = opener.open_database::<Bytes, Bytes>(rtxn, None)? else {
            return Ok(CommitOrAbort::Abort(()));
        };
        let mut databases = [unnamed; N];
        for (slot, name) in databases.iter_mut().zip(names) {
            match opener.open_database::<Bytes, Bytes>(rtxn, Some(name))? {
                Some(database) => *slot = database,
                None => return Ok(CommitOrAbort::Abort(())),
            }
        }
        Ok(CommitOrAbort::Commit(databases))
    })?;
    Ok(match databases {
        CommitOrAbort::Commit(databases) => Some(databases),
        CommitOrAbort::Abort(()) => None,
    })
}

/// Creates (or opens, when they exist) the named tables of byte keys and values in one
/// write transaction, committed before they are returned.
pub fn create_databases<const N: usize>(
    env: &Env<WithoutTls>,
    names: [&str; N],
) -> heed::Result<[BytesDatabase; N]> {
    let wtxn = env.write_txn()?;
    let databases = env.create_databases_and_commit(wtxn, |opener, wtxn| -> heed::Result<_> {
        // Every slot starts as the unnamed main database (always present, and `Copy`)
        // and is then replaced by its named table: an array without a fallible
        // conversion.
        let mut databases = [opener.create_database::<Bytes, Bytes>(wtxn, None)?; N];
        for (slot, name) in databases.iter_mut().zip(names) {
            *slot = opener.create_database::<Bytes, Bytes>(wtxn, Some(name))?;
        }
        Ok(CommitOrAbort::<_, Infallible>::Commit(databases))
    })?;
    match databases {
        CommitOrAbort::Commit(databases) => Ok(databases),
        CommitOrAbort::Abort(never) => match never {},
    }
}

#[cfg(test)]
mod tests;
