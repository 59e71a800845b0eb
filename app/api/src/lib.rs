//! `wizfs-api`: the wire types of WiZFS — how `/api/v1`, the console and `wizfs --json`
//! present the domain model — shared by the daemon (`wizfs-services`, `wizfsd`), the CLI and
//! the console (`wizfs-web`, also in the browser: this crate builds for wasm32). serde and
//! `wizfs-core` only. The domain types in `wizfs-core` stay free of serialization; the
//! conversions from them are here, those from the adapters' types in `wizfs-services`.
//! [`routes`] names every path of the API; [`Api`] is every operation as a typed method.
//! Health ([`health`]), snapshot policies ([`policies`]) and the progress of tasks ([`progress`]) have
//! modules of their own.

use serde::{Deserialize, Serialize};
use wizfs_core::{Bookmark, Dataset, Hold, Pool, Snapshot, ZfsVersion};

mod api;
pub mod backups;
pub mod health;
mod local;
pub mod policies;
pub mod progress;
mod request;
pub mod routes;
mod tasks;

pub use api::{Api, ApiFuture, Failure};
pub use local::*;
pub use request::*;
pub use tasks::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionView {
    pub wizfs: String,
    pub zfs_userland: Option<String>,
    pub zfs_kernel: Option<String>,
}

impl VersionView {
    /// WiZFS at `wizfs` (the daemon's or the CLI's build) over `zfs`, when known.
    pub fn new(wizfs: &str, zfs: Option<&ZfsVersion>) -> Self {
        Self {
            wizfs: wizfs.to_owned(),
            zfs_userland: zfs.map(|version| version.userland.clone()),
            zfs_kernel: zfs.and_then(|version| version.kernel.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolView {
    pub name: String,
    pub guid: String,
    pub health: String,
    pub size: u64,
    pub allocated: u64,
    pub free: u64,
    pub capacity_percent: u8,
    pub fragmentation_percent: Option<u8>,
    pub readonly: bool,
}

impl From<&Pool> for PoolView {
    fn from(pool: &Pool) -> Self {
        Self {
            name: pool.name.to_string(),
            // guids exceed JavaScript's safe integers: strings on the wire.
            guid: pool.guid.to_string(),
            health: pool.health.as_str().to_owned(),
            size: pool.size,
            allocated: pool.allocated,
            free: pool.free,
            capacity_percent: pool.capacity_percent,
            fragmentation_percent: pool.fragmentation_percent,
            readonly: pool.readonly,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetView {
    pub name: String,
    pub guid: String,
    pub kind: String,
    pub used: u64,
    pub available: u64,
    pub referenced: u64,
    pub mountpoint: Option<String>,
    pub mounted: bool,
    pub createtxg: u64,
    pub creation: String,
}

impl From<&Dataset> for DatasetView {
    fn from(dataset: &Dataset) -> Self {
        Self {
            name: dataset.name.to_string(),
            guid: dataset.guid.to_string(),
            kind: dataset.kind.as_str().to_owned(),
            used: dataset.used,
            available: dataset.available,
            referenced: dataset.referenced,
            mountpoint: dataset
                .mountpoint
                .as_ref()
                .map(|path| path.display().to_string()),
            mounted: dataset.mounted,
            createtxg: dataset.createtxg,
            creation: dataset.creation.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotView {
    pub name: String,
    pub dataset: String,
    pub short_name: String,
    pub guid: String,
    pub createtxg: u64,
    pub creation: String,
    pub used: u64,
    pub referenced: u64,
    pub written: u64,
    pub holds: u64,
}

impl From<&Snapshot> for SnapshotView {
    fn from(snapshot: &Snapshot) -> Self {
        Self {
            name: snapshot.name.to_string(),
            dataset: snapshot.name.dataset().to_string(),
            short_name: snapshot.name.short_name().to_owned(),
            guid: snapshot.guid.to_string(),
            createtxg: snapshot.createtxg,
            creation: snapshot.creation.to_string(),
            used: snapshot.used,
            referenced: snapshot.referenced,
            written: snapshot.written,
            holds: snapshot.user_refs,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookmarkView {
    pub name: String,
    pub guid: String,
    pub createtxg: u64,
    pub creation: String,
}

impl From<&Bookmark> for BookmarkView {
    fn from(bookmark: &Bookmark) -> Self {
        Self {
            name: bookmark.name.to_string(),
            guid: bookmark.guid.to_string(),
            createtxg: bookmark.createtxg,
            creation: bookmark.creation.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldView {
    pub snapshot: String,
    pub tag: String,
    pub created: String,
}

impl From<&Hold> for HoldView {
    fn from(hold: &Hold) -> Self {
        Self {
            snapshot: hold.snapshot.to_string(),
            tag: hold.tag.clone(),
            created: hold.created.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffEntryView {
    pub change: String,
    pub renamed_to: Option<String>,
    pub kind: String,
    /// Lossy UTF-8 for display; `path_bytes` is exact.
    pub path: String,
    pub path_bytes: Vec<u8>,
    pub changed_at: i64,
}

/// Hex of raw bytes: file names need not be UTF-8, so the API carries them exactly as hex
/// next to a lossy display string.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    text
}

/// Parses [`hex`] back.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(text.get(index..index + 2)?, 16).ok())
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryView {
    pub name: String,
    pub path: String,
    pub path_hex: String,
    pub kind: String,
    pub size: u64,
    pub allocated: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub modified: String,
    pub modified_unix: i64,
    pub links: u64,
    pub symlink_target: Option<String>,
}

impl From<&wizfs_core::TreeEntry> for EntryView {
    fn from(entry: &wizfs_core::TreeEntry) -> Self {
        let metadata = &entry.metadata;
        Self {
            name: entry
                .path
                .file_name()
                .map(|name| String::from_utf8_lossy(name).into_owned())
                .unwrap_or_default(),
            path: entry.path.display(),
            path_hex: hex(entry.path.as_bytes()),
            kind: metadata.kind.as_str().to_owned(),
            size: metadata.size,
            allocated: metadata.allocated,
            mode: metadata.mode,
            uid: metadata.uid,
            gid: metadata.gid,
            modified: wizfs_core::Timestamp(metadata.modified.seconds).to_string(),
            modified_unix: metadata.modified.seconds,
            links: metadata.links,
            symlink_target: metadata
                .symlink_target
                .as_ref()
                .map(|target| String::from_utf8_lossy(target).into_owned()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionSourceView {
    /// `null` for the live file.
    pub snapshot: Option<String>,
    pub created: Option<String>,
}

impl From<&wizfs_core::versions::VersionSource> for VersionSourceView {
    fn from(source: &wizfs_core::versions::VersionSource) -> Self {
        match source {
            wizfs_core::versions::VersionSource::Live => Self {
                snapshot: None,
                created: None,
            },
            wizfs_core::versions::VersionSource::Snapshot { name, creation, .. } => Self {
                snapshot: Some(name.to_string()),
                created: Some(creation.to_string()),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileVersionView {
    pub kind: String,
    pub size: u64,
    pub modified: String,
    pub modified_unix: i64,
    pub is_live: bool,
    pub content_digest: Option<String>,
    /// Every snapshot (and the live file) holding this version, oldest first.
    pub sources: Vec<VersionSourceView>,
    /// Identical snapshots folded into this version beyond the first.
    pub folded_snapshots: usize,
}

impl From<&wizfs_core::versions::FileVersion> for FileVersionView {
    fn from(version: &wizfs_core::versions::FileVersion) -> Self {
        Self {
            kind: version.metadata.kind.as_str().to_owned(),
            size: version.metadata.size,
            modified: wizfs_core::Timestamp(version.metadata.modified.seconds).to_string(),
            modified_unix: version.metadata.modified.seconds,
            is_live: version.is_live,
            content_digest: version.content_digest.map(|digest| hex(&digest)),
            sources: version
                .sources
                .iter()
                .map(VersionSourceView::from)
                .collect(),
            folded_snapshots: version.folded_snapshots(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionView {
    pub action: String,
    pub path: String,
    pub bytes: u64,
    pub replaces: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    pub dataset: String,
    pub snapshot: String,
    pub destination: String,
    /// The destination's bytes in hex (`destination` shows names that are not UTF-8 with
    /// `�`): links to the restored file use it.
    #[serde(default)]
    pub destination_hex: String,
    pub guard_snapshot: Option<String>,
    pub files: u64,
    pub directories: u64,
    pub symlinks: u64,
    pub hard_links: u64,
    pub bytes: u64,
    pub replaced: u64,
    pub removed: u64,
    pub unchanged: u64,
    pub actions: Vec<ActionView>,
    pub refused: Vec<String>,
}

impl From<&wizfs_core::restore::RestorePlan> for PlanView {
    fn from(plan: &wizfs_core::restore::RestorePlan) -> Self {
        use wizfs_core::restore::RestoreAction;
        let actions = plan
            .actions
            .iter()
            .filter_map(|action| {
                let (name, path, bytes, replaces) = match action {
                    RestoreAction::CreateDirectory { path } => ("mkdir", path, 0, false),
                    RestoreAction::WriteFile {
                        destination,
                        metadata,
                        replaces,
                        ..
                    } => ("write", destination, metadata.size, *replaces),
                    RestoreAction::CreateSymlink {
                        destination,
                        replaces,
                        ..
                    } => ("symlink", destination, 0, *replaces),
                    RestoreAction::HardLink {
                        destination,
                        replaces,
                        ..
                    } => ("link", destination, 0, *replaces),
                    RestoreAction::Remove { path, .. } => ("remove", path, 0, true),
                    RestoreAction::FinishDirectory { .. } => return None,
                };
                Some(ActionView {
                    action: name.to_owned(),
                    path: path.display(),
                    bytes,
                    replaces,
                })
            })
            .collect();
        let summary = &plan.summary;
        Self {
            dataset: plan.dataset.to_string(),
            snapshot: plan.snapshot.to_string(),
            destination: plan.destination.display(),
            destination_hex: hex(plan.destination.as_bytes()),
            guard_snapshot: plan.guard_snapshot.as_ref().map(ToString::to_string),
            files: summary.files,
            directories: summary.directories,
            symlinks: summary.symlinks,
            hard_links: summary.hard_links,
            bytes: summary.bytes,
            replaced: summary.replaced,
            removed: summary.removed,
            unchanged: summary.unchanged,
            actions,
            refused: plan
                .refused
                .iter()
                .map(|refusal| format!("{}: {}", refusal.path, refusal.reason))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportView {
    pub plan: PlanView,
    pub guard_snapshot: Option<String>,
    pub files: u64,
    pub bytes: u64,
    pub removed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHitView {
    pub dataset: String,
    pub path: String,
    pub path_hex: String,
    pub name: String,
    pub kind: String,
    pub size: u64,
    pub modified: String,
    pub modified_unix: i64,
    pub first_snapshot: Option<String>,
    pub last_snapshot: Option<String>,
    /// Whether the path exists live (false: a deleted file).
    pub path_live: bool,
    /// Whether this very version is the live one.
    pub is_live_version: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacetView {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResultsView {
    pub total: u64,
    pub hits: Vec<SearchHitView>,
    pub datasets: Vec<FacetView>,
    pub extensions: Vec<FacetView>,
    pub years: Vec<FacetView>,
}

/// What kind of failure an answer reports; the daemon maps it to an HTTP status, the CLI to
/// its message and exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request is wrong (a bad name or path, a refused plan): do not retry it as is.
    BadRequest,
    /// What the request names does not exist.
    NotFound,
    /// It conflicts with the current state (busy, exists, not mounted).
    Conflict,
    /// A needed part is not available now (the index, ZFS itself).
    Unavailable,
    /// Something failed that the request could not have avoided.
    Internal,
}

impl ErrorKind {
    /// The HTTP status the daemon answers this kind of failure with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }

    /// The kind of failure an HTTP status answers (a client of the REST API reading a
    /// failed answer); a status no kind answers with is `Internal` (5xx, unknown) or
    /// `BadRequest` (other 4xx).
    pub fn from_http_status(status: u16) -> Self {
        match status {
            404 => Self::NotFound,
            409 => Self::Conflict,
            503 => Self::Unavailable,
            400..=499 => Self::BadRequest,
            _ => Self::Internal,
        }
    }

    /// Whether the request was at fault (a `4xx`), not the daemon.
    pub fn is_client_error(self) -> bool {
        (400..500).contains(&self.http_status())
    }
}

/// The body of every failed answer: a message for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::ErrorKind;

    #[test]
    fn every_error_kind_survives_its_http_status() {
        for kind in [
            ErrorKind::BadRequest,
            ErrorKind::NotFound,
            ErrorKind::Conflict,
            ErrorKind::Unavailable,
            ErrorKind::Internal,
        ] {
            assert_eq!(ErrorKind::from_http_status(kind.http_status()), kind);
        }
        assert_eq!(ErrorKind::from_http_status(413), ErrorKind::BadRequest);
        assert_eq!(ErrorKind::from_http_status(502), ErrorKind::Internal);
    }
}
