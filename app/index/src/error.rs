//! The index's error type: every failure says which store failed and while doing what.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("catalogue: {context}: {source}")]
    Catalogue {
        context: String,
        #[source]
        source: heed::Error,
    },
    #[error("search index: {context}: {source}")]
    Search {
        context: String,
        #[source]
        source: tantivy::TantivyError,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the index at {} is already open (by this or another process)", path.display())]
    Locked { path: PathBuf },
    #[error("the index at {} is open for reading only (another process writes it)", path.display())]
    ReadOnly { path: PathBuf },
    #[error("there is no index at {} yet", path.display())]
    Missing { path: PathBuf },
    #[error("dataset {guid} is not registered")]
    UnknownDataset { guid: u64 },
    #[error("version {id} is not in the catalogue")]
    UnknownVersion { id: u64 },
    #[error("version {id} belongs to dataset {actual}, not {expected}")]
    WrongDataset { id: u64, expected: u64, actual: u64 },
    #[error("invalid operation on version {id}: {reason}")]
    InvalidOperation { id: u64, reason: String },
    #[error("catalogue record is corrupt: {0}")]
    Corrupt(String),
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    #[error("an index lock was poisoned by a panic")]
    Poisoned,
}

/// Adds context to heed, tantivy and io results.
pub(crate) trait Context<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T, IndexError>;
}

impl<T> Context<T> for Result<T, heed::Error> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T, IndexError> {
        self.map_err(|source| IndexError::Catalogue {
            context: context(),
            source,
        })
    }
}

impl<T> Context<T> for Result<T, tantivy::TantivyError> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T, IndexError> {
        self.map_err(|source| IndexError::Search {
            context: context(),
            source,
        })
    }
}

impl<T> Context<T> for Result<T, std::io::Error> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T, IndexError> {
        self.map_err(|source| IndexError::Io {
            context: context(),
            source,
        })
    }
}
