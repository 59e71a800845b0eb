//! Reading the trees being indexed through [`SafeRoot`], where whatever is unreachable (gone
//! again, or behind a symlink or another mount, which WiZFS never follows) counts as absent.

use wizfs_core::RelativePath;
use wizfs_core::versioning::Observed;
use wizfs_restore::{RestoreError, SafeRoot};

use crate::error::IndexerResult;

/// Stats `path` in the target tree: present with its metadata, or absent (gone again, or
/// behind something WiZFS never follows: a symlink or another mount).
pub(crate) fn present_or_absent(root: &SafeRoot, path: RelativePath) -> IndexerResult<Observed> {
    match root.stat(&path) {
        Ok(Some(metadata)) => Ok(Observed::Present { path, metadata }),
        Ok(None) => Ok(Observed::Absent { path }),
        Err(error) if is_unreachable(&error) => Ok(Observed::Absent { path }),
        Err(error) => Err(error.into()),
    }
}

pub(crate) fn is_unreachable(error: &RestoreError) -> bool {
    error.is_not_found()
        || matches!(
            error,
            RestoreError::SymlinkInPath { .. }
                | RestoreError::CrossesMount { .. }
                | RestoreError::NotADirectory { .. }
        )
}

/// Every entry strictly below `directory`.
pub(crate) fn tree_below(
    root: &SafeRoot,
    directory: &RelativePath,
) -> IndexerResult<Vec<wizfs_core::TreeEntry>> {
    match root.read_tree(directory) {
        Ok(entries) => Ok(entries
            .into_iter()
            .filter(|entry| &entry.path != directory)
            .collect()),
        Err(error) if is_unreachable(&error) => Ok(Vec::new()),
        Err(error) => Err(error.into()),
    }
}
