//! The errors of indexing: from ZFS, the index, reading the trees, paths, and send streams.

use std::path::PathBuf;

use wizfs_core::{DatasetName, PathError, SnapshotName};
use wizfs_index::IndexError;
use wizfs_restore::RestoreError;
use wizfs_zfs::ZfsError;
use wizfs_zfs::objects::StreamError;

#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    #[error(transparent)]
    Zfs(#[from] ZfsError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Read(#[from] RestoreError),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("dataset {0} is not mounted, so it cannot be indexed")]
    NotMounted(DatasetName),
    #[error("zfs diff reported `{path}`, which is not below the mountpoint {mountpoint}")]
    OutsideMountpoint { path: PathBuf, mountpoint: PathBuf },
    #[error("the send stream of {snapshot}: {source}")]
    Stream {
        snapshot: SnapshotName,
        #[source]
        source: StreamError,
    },
}

pub type IndexerResult<T> = Result<T, IndexerError>;
