//! The requests of the API as typed Rust: query strings (`GET`) and JSON bodies (`POST`),
//! with enums where the API takes one of a few words. Names and paths stay text here (the
//! console path form: `path` for UTF-8, `path_hex` for exact bytes); the services validate
//! them into `wizfs-core` types.

use serde::{Deserialize, Serialize};

/// One entry: a dataset, a path in it (`path` or `path_hex`, none for the dataset's root),
/// live or in a snapshot (short or full name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EntryQuery {
    pub dataset: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    /// Short or full snapshot name; absent = live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

/// A dataset, alone or with its descendants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DatasetQuery {
    pub dataset: String,
    #[serde(default)]
    pub recursive: bool,
}

/// What makes two versions of a file different.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionsBy {
    /// Kind, size and modification time (fast).
    #[default]
    Metadata,
    /// The bytes (reads every candidate).
    Content,
}

/// The unique versions of a file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VersionsQuery {
    #[serde(flatten)]
    pub entry: EntryQuery,
    #[serde(default)]
    pub by: VersionsBy,
}

/// How a download comes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DownloadFormat {
    /// A file as itself, a directory as a tar archive.
    #[default]
    Auto,
    /// A tar archive (exact names, modes and symlinks).
    Tar,
    /// A ZIP archive (opens with a double click on Windows and macOS).
    Zip,
    /// A regular file as itself; anything else is refused (`wizfs cat`).
    File,
}

/// `GET /api/v1/download`: a file or a directory, live or in a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DownloadQuery {
    #[serde(flatten)]
    pub entry: EntryQuery,
    #[serde(default)]
    pub format: DownloadFormat,
}

/// Where a restore writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RestoreTargetKind {
    /// A copy next to the original, or inside `into`.
    #[default]
    Copy,
    /// Over the original, behind a guard snapshot.
    Original,
}

/// What happens to a directory that exists live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DirectoryStrategy {
    /// Restored entries join what is there.
    #[default]
    Merge,
    /// The directory becomes exactly the snapshot's.
    Replace,
}

/// The body of `POST /api/v1/restore` and `/api/v1/restore/plan`. The destination is derived
/// on the server from the snapshot path; the client can only choose between restoring over
/// the original, a copy next to it, or a copy inside a directory of the same dataset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreBody {
    pub dataset: String,
    pub snapshot: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    #[serde(default)]
    pub target: RestoreTargetKind,
    /// With `copy`: a directory of the dataset to put the copy into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub into: Option<String>,
    #[serde(default)]
    pub strategy: DirectoryStrategy,
}

/// A text diff of a file between a snapshot (`from`) and another one or the live file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CompareQuery {
    pub dataset: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    pub from: String,
    /// Absent: the live file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// How the search text matches names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NameMatch {
    #[default]
    Substring,
    Prefix,
    Glob,
    Fuzzy,
}

/// The order of search results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortBy {
    #[default]
    Relevance,
    Name,
    Size,
    Modified,
    Path,
}

/// The kind of entry a search keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KindFilter {
    File,
    Directory,
    Symlink,
}

/// One search of live data and every snapshot (`GET /api/v1/search`, `wizfs search`, the
/// console's search page).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRequest {
    #[serde(default)]
    pub q: String,
    #[serde(default, rename = "match")]
    pub name_match: NameMatch,
    /// Only in these datasets (a query string repeats the key: `dataset=a&dataset=b`);
    /// empty: all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dataset: Vec<String>,
    /// With exactly one `dataset`: only below this directory (relative to the dataset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub under: Option<String>,
    /// Only these kinds of entry; empty: all.
    #[serde(default, rename = "type", skip_serializing_if = "Vec::is_empty")]
    pub kind: Vec<KindFilter>,
    /// Only these file name extensions (without the dot); empty: all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ext: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_after: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_before: Option<i64>,
    /// Only paths that no longer exist live.
    #[serde(default)]
    pub deleted: bool,
    /// A snapshot: the tree as it was then. A full name (`tank/a@x`), or a short one with
    /// exactly one `dataset`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    #[serde(default)]
    pub sort: SortBy,
    #[serde(default)]
    pub descending: bool,
    #[serde(default)]
    pub offset: usize,
    /// 1 to 1,000; default 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// `POST /api/v1/index`: which datasets to reconcile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexRequest {
    /// Only these datasets, even when the configuration excludes them; empty: every mounted
    /// filesystem the configuration includes.
    #[serde(default)]
    pub datasets: Vec<String>,
}

/// The body of `POST /api/v1/snapshots`: take a snapshot now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSnapshotBody {
    pub dataset: String,
    /// The short name (after `@`).
    pub name: String,
    /// Also every descendant dataset, atomically (`zfs snapshot -r`).
    #[serde(default)]
    pub recursive: bool,
    /// Further snapshots (full names, `tank/b@x`) taken in the same atomic transaction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    /// User properties set on the new snapshots (`wizfs:note` = `before upgrade`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub properties: std::collections::BTreeMap<String, String>,
}

/// The body of `POST /api/v1/snapshots/destroy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestroySnapshotsBody {
    /// Full names (`tank/a@x`); the list syntax of [`ReclaimableQuery`] also works
    /// (`tank/a@x,y`).
    pub snapshots: Vec<String>,
    /// Also the snapshots of the same name of every descendant (`zfs destroy -r`).
    #[serde(default)]
    pub recursive: bool,
    /// Held snapshots are destroyed when their last hold is released (`zfs destroy -d`)
    /// instead of refused.
    #[serde(default)]
    pub defer: bool,
}

/// One snapshot, named in full (`tank/a@x`): `GET /api/v1/holds`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SnapshotQuery {
    pub snapshot: String,
}

/// A user hold on a snapshot (`POST /api/v1/holds` places it, `POST /api/v1/holds/release`
/// releases it); the answer lists the snapshot's holds after.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldBody {
    /// Full name (`tank/a@x`).
    pub snapshot: String,
    pub tag: String,
    /// Also the snapshots of the same name of every descendant (`zfs hold -r`).
    #[serde(default)]
    pub recursive: bool,
}

/// `POST /api/v1/bookmarks`: a bookmark of a snapshot (`tank/a#x` of `tank/a@x`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateBookmarkBody {
    pub snapshot: String,
    pub bookmark: String,
}

/// `POST /api/v1/bookmarks/destroy`: one bookmark, in full (`tank/a#x`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestroyBookmarkBody {
    pub bookmark: String,
}

/// `GET /api/v1/diff`: what changed between a snapshot and a later one of the same dataset,
/// or the live file system.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DiffQuery {
    /// Full name (`tank/a@x`).
    pub from: String,
    /// A later snapshot (short or full name); absent: the live file system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// `GET /api/v1/snapshots/reclaimable`: what destroying these snapshots would free.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReclaimableQuery {
    /// Comma-separated snapshots; a name without `@` is a snapshot of the dataset named
    /// before it (`tank/a@x,y` is `tank/a@x` and `tank/a@y`, as `zfs destroy` takes them).
    pub snapshots: String,
}

/// What a reconciliation of the index did to one dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexReportView {
    pub dataset: String,
    /// Snapshots indexed now, oldest first.
    pub indexed: Vec<String>,
    /// Snapshots forgotten (destroyed, or their dataset excluded).
    pub forgotten: Vec<String>,
    /// Full walks (a dataset's first snapshot, comparisons by walking).
    #[serde(default)]
    pub full_walks: usize,
    #[serde(default)]
    pub walked_entries: usize,
    /// Comparisons by `zfs diff`.
    #[serde(default)]
    pub diffs: usize,
    /// Comparisons by the object records of a send stream.
    #[serde(default)]
    pub object_comparisons: usize,
    #[serde(default)]
    pub streamed_objects: usize,
    #[serde(default)]
    pub changed_objects: usize,
    /// Paths read from their bonus buffers in the stream, without a stat.
    #[serde(default)]
    pub decoded_objects: usize,
    /// Why a comparison by objects gave way to another method.
    #[serde(default)]
    pub fallbacks: Vec<String>,
    /// Snapshots that wrote nothing, indexed without reading them.
    #[serde(default)]
    pub unchanged: usize,
    #[serde(default)]
    pub observed_paths: usize,
    /// Version operations applied.
    #[serde(default)]
    pub operations: usize,
    #[serde(default)]
    pub seconds: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_on_the_wire_are_the_documented_ones() {
        let request: SearchRequest = serde_json::from_value(serde_json::json!({
            "q": "report", "match": "glob", "type": ["file", "symlink"], "sort": "modified",
            "deleted": true
        }))
        .expect("search request");
        assert_eq!(request.name_match, NameMatch::Glob);
        assert_eq!(request.kind, [KindFilter::File, KindFilter::Symlink]);
        assert_eq!(request.sort, SortBy::Modified);
        assert!(request.deleted);
        let body: RestoreBody = serde_json::from_value(serde_json::json!({
            "dataset": "tank/home", "snapshot": "daily", "path": "a.txt", "target": "original",
            "strategy": "replace"
        }))
        .expect("restore body");
        assert_eq!(body.target, RestoreTargetKind::Original);
        assert_eq!(body.strategy, DirectoryStrategy::Replace);
        let refused = serde_json::from_value::<SearchRequest>(serde_json::json!({"sort": "x"}));
        assert!(refused.is_err(), "an unknown word is refused, not ignored");
    }
}
