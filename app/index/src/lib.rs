//! WiZFS search index: every version of every path across the indexed snapshots of each
//! dataset, searchable by name in milliseconds.
//!
//! Two stores, one truth. The **catalogue** (heed/LMDB, `directory/catalogue`) is the source
//! of truth: datasets, indexed snapshots and versions (`wizfs_core::versioning`'s model: one
//! version per stretch of snapshots in which a path is unchanged, visible in snapshot S iff
//! `birth <= S.txg < death`). The **search index** (tantivy, `directory/tantivy`) holds one
//! document per version and is derived: whatever it lacks is rebuilt from the catalogue.
//!
//! Crash consistency: [`IndexStore::apply`] changes the catalogue in one LMDB transaction that
//! also records the touched version ids in a "dirty" set; only then is tantivy brought up to
//! date (delete-by-id then re-add, one commit) and the dirty set cleared in a second
//! transaction. A crash anywhere leaves the catalogue before or after the whole snapshot, and
//! [`IndexStore::open`] re-syncs a non-empty dirty set (re-syncing is idempotent).

mod catalogue;
mod document;
mod error;
mod query;
mod reader;
mod store;

#[cfg(test)]
mod tests;

use wizfs_core::entries::{EntryKind, FileTime};
use wizfs_core::paths::RelativePath;
pub use wizfs_core::versioning::{LIVE_TXG, Signature, StoredVersion, VersionOp};

pub use error::IndexError;
pub use reader::{CatalogueReader, CurrentVersions, fold_versions};
pub use store::IndexStore;

/// What [`IndexStore::apply`] does to a dataset's list of indexed snapshots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotChange {
    /// A snapshot was indexed: it joins the list.
    Indexed {
        guid: u64,
        createtxg: u64,
        /// The short name (after the `@`).
        name: String,
    },
    /// A snapshot was destroyed and un-indexed: it leaves the list.
    Forgotten { createtxg: u64 },
    /// A refresh of the live pseudo-snapshot ([`LIVE_TXG`]): the list is unchanged.
    None,
}

/// One indexed snapshot of a dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedSnapshot {
    pub guid: u64,
    pub createtxg: u64,
    /// The short name (after the `@`).
    pub name: String,
    /// What tells this snapshot from one made again under its name without `zfs list`
    /// (recorded by [`IndexStore::record_snapshot_identities`]; `None` until then).
    pub identity: Option<SnapshotIdentity>,
}

/// A snapshot's `objsetid` (which its `.zfs/snapshot` entry's inode number gives away; see
/// `wizfs_zfs::mounts`) and its `creation` time, as ZFS listed them with its guid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotIdentity {
    pub objsetid: u64,
    /// Seconds since the Unix epoch.
    pub creation: i64,
}

/// A registered dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetInfo {
    pub guid: u64,
    pub name: String,
    /// Whether the dataset's versions show up in searches.
    pub included: bool,
}

/// A dataset's send-stream object fingerprints moving from the snapshot with createtxg
/// `base` to `as_of` (see [`IndexStore::apply_deferred_with_fingerprints`]): `set` are
/// written, `freed` ranges (first, count) dropped; if the stored ones did not describe
/// `base`, all are dropped first (they could hide a change).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FingerprintUpdate {
    pub base: u64,
    pub as_of: u64,
    pub set: Vec<(u64, u64)>,
    pub freed: Vec<(u64, u64)>,
}

/// What one [`IndexStore::apply`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// The ids given to the `Open` operations, in operation order.
    pub opened: Vec<u64>,
    /// `SetDeath` and `SetBirth` operations applied.
    pub updated: usize,
    /// `Delete` operations applied.
    pub deleted: usize,
    /// Search documents rewritten or removed (touched versions, plus the other versions of
    /// paths whose live visibility changed).
    pub documents_synced: usize,
    /// The catalogue generation after this apply (one more per apply).
    pub generation: u64,
}

/// How the search index agrees with the catalogue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsistencyReport {
    /// Versions in the catalogue.
    pub catalogue_versions: u64,
    /// Live (not deleted) documents in the search index.
    pub index_documents: u64,
    /// Ids with more than one live document.
    pub duplicates: Vec<u64>,
    /// Ids in the catalogue without a document.
    pub missing: Vec<u64>,
    /// Documents whose id is not in the catalogue.
    pub orphans: Vec<u64>,
    /// Documents whose birth, death or dataset differ from the catalogue's.
    pub stale: Vec<u64>,
    /// Ids still waiting to be synced (non-zero only between an apply's two steps).
    pub dirty: u64,
    /// The catalogue's generation.
    pub catalogue_generation: u64,
    /// The generation recorded with the last search index commit.
    pub index_generation: Option<u64>,
}

impl ConsistencyReport {
    /// No duplicate, missing, orphan or stale document and nothing left to sync.
    pub fn is_consistent(&self) -> bool {
        self.duplicates.is_empty()
            && self.missing.is_empty()
            && self.orphans.is_empty()
            && self.stale.is_empty()
            && self.dirty == 0
            && self.catalogue_versions == self.index_documents
    }
}

/// How [`SearchQuery::text`] is matched against file names (case-insensitively).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NameMatch {
    /// The name contains the text anywhere.
    #[default]
    Substring,
    /// The name starts with the text.
    Prefix,
    /// The whole name matches a pattern of `*` (any run) and `?` (any one character).
    Glob,
    /// The whole name is within edit distance 1 of the text (2 for texts of 8 characters or
    /// more), a transposition counting as one edit.
    Fuzzy,
}

/// The order of [`SearchResults::hits`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Sort {
    /// Best match first (ignores `descending`); without text, index order.
    #[default]
    Relevance,
    /// Lower-cased name.
    Name,
    Size,
    Modified,
    /// Path (with non-UTF-8 bytes as `%XX`).
    Path,
}

/// A search. Every filter narrows the result; empty lists and `None` do not filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    /// Matched against file names as `name_match` says; `None` or blank matches every name.
    pub text: Option<String>,
    pub name_match: NameMatch,
    /// Dataset names; versions of any of them.
    pub datasets: Vec<String>,
    /// Strictly below this directory of this dataset.
    pub under: Option<(String, RelativePath)>,
    pub kinds: Vec<EntryKind>,
    /// File name extensions without the dot, any case.
    pub extensions: Vec<String>,
    /// Inclusive bounds in bytes.
    pub size: (Option<u64>, Option<u64>),
    /// Inclusive bounds of the modification time, in seconds since the epoch.
    pub modified: (Option<i64>, Option<i64>),
    /// Only versions of paths that no longer exist live.
    pub deleted_only: bool,
    /// Only versions of this dataset (guid) visible in its snapshot with this txg
    /// ([`LIVE_TXG`]: the live file system).
    pub as_of: Option<(u64, u64)>,
    pub sort: Sort,
    pub descending: bool,
    pub offset: usize,
    pub limit: usize,
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            text: None,
            name_match: NameMatch::default(),
            datasets: Vec::new(),
            under: None,
            kinds: Vec::new(),
            extensions: Vec::new(),
            size: (None, None),
            modified: (None, None),
            deleted_only: false,
            as_of: None,
            sort: Sort::default(),
            descending: false,
            offset: 0,
            limit: 50,
        }
    }
}

/// One version found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchHit {
    pub version_id: u64,
    /// The dataset's name.
    pub dataset: String,
    pub dataset_guid: u64,
    pub path: RelativePath,
    /// The file name, lossy UTF-8 (the exact bytes are in `path`).
    pub name: String,
    pub kind: EntryKind,
    pub size: u64,
    pub modified: FileTime,
    pub birth: u64,
    pub death: Option<u64>,
    /// The indexed snapshot whose txg is `birth` (`None`: born in the live file system).
    pub first_snapshot: Option<String>,
    /// The newest indexed snapshot holding this version (`None`: only the live file system).
    pub last_snapshot: Option<String>,
    /// Whether any version of this path exists live.
    pub path_live: bool,
}

/// Counts over the whole filtered result (not just the returned page), most frequent first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facets {
    /// Dataset names.
    pub datasets: Vec<(String, u64)>,
    /// Lower-cased extensions (versions without one are not counted).
    pub extensions: Vec<(String, u64)>,
    /// Years (UTC) of the modification time.
    pub years: Vec<(String, u64)>,
}

/// The page of a search asked for, with the total and the facets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchResults {
    /// Versions matching (all pages).
    pub total: u64,
    pub hits: Vec<SearchHit>,
    pub facets: Facets,
}

/// One version of a path, as [`IndexStore::versions_of`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionEntry {
    pub version_id: u64,
    pub signature: Signature,
    pub birth: u64,
    pub death: Option<u64>,
    /// The indexed snapshots holding it, oldest first.
    pub snapshots: Vec<String>,
    /// Whether the live file system holds it.
    pub live: bool,
}
