//! The unique versions of one file across snapshots and the live file system: the pure
//! decision behind "which versions of this file exist". Snapshots whose entry is identical
//! are folded into one version, and the folded snapshots stay listed (users are confused when
//! a tool silently shows fewer versions than snapshots).

use std::collections::HashMap;

use crate::entries::{EntryKind, EntryMetadata, FileTime};
use crate::model::Timestamp;
use crate::names::SnapshotName;

/// Where an observation of the file was made.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum VersionSource {
    Snapshot {
        name: SnapshotName,
        createtxg: u64,
        creation: Timestamp,
    },
    Live,
}

/// The file as seen in one snapshot (or live). `metadata` is `None` where the path did not
/// exist; `content_digest` is filled only when versions are compared by content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub source: VersionSource,
    pub metadata: Option<EntryMetadata>,
    pub content_digest: Option<[u8; 32]>,
}

/// What makes two observations the same version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VersionIdentity {
    /// Kind, size and modification time (fast: no file is read).
    #[default]
    Metadata,
    /// Kind and content digest (reads every candidate).
    Content,
}

/// One unique version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileVersion {
    /// The metadata of the newest observation of this version.
    pub metadata: EntryMetadata,
    pub content_digest: Option<[u8; 32]>,
    /// Every snapshot (and `Live`) holding this version, oldest first.
    pub sources: Vec<VersionSource>,
    /// `true` when the live file is this version.
    pub is_live: bool,
}

impl FileVersion {
    /// How many snapshots beyond the first were folded into this version.
    pub fn folded_snapshots(&self) -> usize {
        let snapshots = self
            .sources
            .iter()
            .filter(|source| matches!(source, VersionSource::Snapshot { .. }))
            .count();
        snapshots.saturating_sub(1)
    }
}

/// What two observations must share to be the same version.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum IdentityKey<'a> {
    Metadata {
        kind: EntryKind,
        size: u64,
        modified: FileTime,
        symlink_target: Option<&'a [u8]>,
    },
    Content {
        kind: EntryKind,
        digest: [u8; 32],
    },
}

fn identity_key<'a>(
    metadata: &'a EntryMetadata,
    digest: Option<[u8; 32]>,
    identity: VersionIdentity,
) -> IdentityKey<'a> {
    match (identity, digest) {
        (VersionIdentity::Content, Some(digest)) => IdentityKey::Content {
            kind: metadata.kind,
            digest,
        },
        // Without a digest (directories, unreadable files) content identity falls back to
        // the metadata key for that observation.
        _ => IdentityKey::Metadata {
            kind: metadata.kind,
            size: metadata.size,
            modified: metadata.modified,
            symlink_target: match metadata.kind {
                EntryKind::Symlink => metadata.symlink_target.as_deref(),
                _ => None,
            },
        },
    }
}

/// The unique versions among `observations` (oldest first: snapshots by `createtxg`, then
/// `Live` if present), ordered by first appearance. Observations where the path is absent
/// contribute nothing; an entry that changes and later changes back is one version listing
/// every stretch in `sources`. Each version carries the metadata of its newest observation
/// and the newest digest seen for it.
pub fn unique_versions(
    observations: &[Observation],
    identity: VersionIdentity,
) -> Vec<FileVersion> {
    let mut versions: Vec<FileVersion> = Vec::new();
    let mut index_by_key: HashMap<IdentityKey<'_>, usize> = HashMap::new();
    for observation in observations {
        let Some(metadata) = &observation.metadata else {
            continue;
        };
        let is_live = observation.source == VersionSource::Live;
        let key = identity_key(metadata, observation.content_digest, identity);
        let existing = index_by_key
            .get(&key)
            .and_then(|index| versions.get_mut(*index));
        match existing {
            Some(version) => {
                version.metadata = metadata.clone();
                if observation.content_digest.is_some() {
                    version.content_digest = observation.content_digest;
                }
                version.sources.push(observation.source.clone());
                version.is_live |= is_live;
            }
            None => {
                index_by_key.insert(key, versions.len());
                versions.push(FileVersion {
                    metadata: metadata.clone(),
                    content_digest: observation.content_digest,
                    sources: vec![observation.source.clone()],
                    is_live,
                });
            }
        }
    }
    versions
}

#[cfg(test)]
mod tests;
