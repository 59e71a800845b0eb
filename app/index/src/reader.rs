//! Answers from the catalogue alone, for a process that starts, asks one question and ends
//! (the CLI): [`CatalogueReader`] opens only the heed catalogue, read-only and without
//! waiting for its writer (no tantivy, no writer lock, no repair), and says whether a
//! dataset's indexed snapshots are exactly the ones the caller sees (by name and objset id),
//! with the versions of a path read in the same transaction. [`fold_versions`] turns indexed
//! versions into the unique versions `wizfs versions` shows, as the walk through every
//! snapshot would.

use std::path::Path;

use wizfs_core::entries::{EntryKind, EntryMetadata};
use wizfs_core::versions::{
    FileVersion, Observation, VersionIdentity, VersionSource, unique_versions,
};
use wizfs_core::{RelativePath, SnapshotName, Timestamp};

use crate::catalogue::Catalogue;
use crate::error::IndexError;
use crate::store::version_entries;
use crate::{IndexedSnapshot, VersionEntry};

/// The index's catalogue opened for reading only.
#[derive(Debug)]
pub struct CatalogueReader {
    catalogue: Catalogue,
}

/// A dataset's indexed snapshots (ascending txg) and the versions of one path, read together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentVersions {
    pub dataset_guid: u64,
    pub snapshots: Vec<IndexedSnapshot>,
    pub versions: Vec<VersionEntry>,
}

/// Whether `indexed` are exactly the snapshots `seen` (short name and objset id): as many,
/// each with a recorded identity equal to a seen one's. An empty list never matches (it
/// would pin no dataset incarnation).
fn same_snapshots(indexed: &[IndexedSnapshot], seen: &[(String, u64)]) -> bool {
    !indexed.is_empty()
        && indexed.len() == seen.len()
        && indexed.iter().all(|snapshot| {
            snapshot.identity.is_some_and(|identity| {
                seen.iter().any(|(name, objsetid)| {
                    *name == snapshot.name && *objsetid == identity.objsetid
                })
            })
        })
}

impl CatalogueReader {
    /// Opens the catalogue of the index in `directory` (the directory [`crate::IndexStore::open`]
    /// takes). [`IndexError::Missing`] when there is none; [`IndexError::Locked`] when this
    /// process has it open already.
    pub fn open(directory: &Path) -> Result<CatalogueReader, IndexError> {
        Ok(CatalogueReader {
            catalogue: Catalogue::open_existing(&directory.join("catalogue"))?,
        })
    }

    /// The indexed dataset named `dataset` whose indexed snapshots are exactly `seen` (short
    /// name, objset id — see `wizfs_zfs::mounts::snapshot_entries`), with the versions of
    /// `path` in it, all from one read transaction; `None` when no registered dataset of
    /// that name has exactly those snapshots with their identities recorded.
    pub fn current_versions(
        &self,
        dataset: &str,
        seen: &[(String, u64)],
        path: &RelativePath,
    ) -> Result<Option<CurrentVersions>, IndexError> {
        let rtxn = self.catalogue.read_txn()?;
        let mut snapshots = self.catalogue.all_snapshots(&rtxn)?;
        for known in self.catalogue.datasets(&rtxn)? {
            if known.name != dataset {
                continue;
            }
            let mut indexed = snapshots.remove(&known.guid).unwrap_or_default();
            indexed.sort_by_key(|snapshot| snapshot.createtxg);
            if !same_snapshots(&indexed, seen) {
                continue;
            }
            let records = self.catalogue.versions_of_path(&rtxn, known.guid, path)?;
            return Ok(Some(CurrentVersions {
                dataset_guid: known.guid,
                versions: version_entries(records, &indexed),
                snapshots: indexed,
            }));
        }
        Ok(None)
    }
}

/// The unique versions of a regular file from its indexed versions: `snapshots` are the
/// dataset's snapshots, oldest first (name, createtxg, creation), exactly the indexed ones;
/// `live` is the file as it is now. The same folding as the walk
/// ([`wizfs_core::versions::unique_versions`] by metadata) over the same observations, so both
/// answer alike. `None` when the index cannot answer: a version or the live entry is not a
/// regular file (the index keeps directories and symlinks with less detail).
pub fn fold_versions(
    snapshots: &[(SnapshotName, u64, Timestamp)],
    versions: &[VersionEntry],
    live: Option<EntryMetadata>,
) -> Option<Vec<FileVersion>> {
    if versions
        .iter()
        .any(|version| version.signature.kind != EntryKind::File)
        || live
            .as_ref()
            .is_some_and(|live| live.kind != EntryKind::File)
    {
        return None;
    }
    let mut observations: Vec<Observation> = snapshots
        .iter()
        .map(|(name, createtxg, creation)| Observation {
            source: VersionSource::Snapshot {
                name: name.clone(),
                createtxg: *createtxg,
                creation: *creation,
            },
            metadata: versions
                .iter()
                .find(|version| {
                    version
                        .snapshots
                        .iter()
                        .any(|held| held == name.short_name())
                })
                .map(|version| EntryMetadata {
                    kind: EntryKind::File,
                    size: version.signature.size,
                    allocated: 0,
                    mode: 0,
                    uid: 0,
                    gid: 0,
                    modified: version.signature.modified,
                    changed: version.signature.modified,
                    inode: version.signature.inode,
                    links: 0,
                    symlink_target: None,
                }),
            content_digest: None,
        })
        .collect();
    observations.push(Observation {
        source: VersionSource::Live,
        metadata: live,
        content_digest: None,
    });
    Some(unique_versions(&observations, VersionIdentity::Metadata))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SnapshotIdentity;

    fn indexed(name: &str, objsetid: Option<u64>) -> IndexedSnapshot {
        IndexedSnapshot {
            guid: 1,
            createtxg: 1,
            name: name.into(),
            identity: objsetid.map(|objsetid| SnapshotIdentity {
                objsetid,
                creation: 0,
            }),
        }
    }

    fn seen(entries: &[(&str, u64)]) -> Vec<(String, u64)> {
        entries
            .iter()
            .map(|(name, id)| ((*name).to_owned(), *id))
            .collect()
    }

    #[test]
    fn snapshots_match_only_by_name_and_objset_id_all_of_them() {
        let both = [indexed("a", Some(10)), indexed("b", Some(11))];
        assert!(same_snapshots(&both, &seen(&[("b", 11), ("a", 10)])));
        // Made again under its name: another objset id.
        assert!(!same_snapshots(&both, &seen(&[("a", 10), ("b", 12)])));
        // Renamed, added, destroyed.
        assert!(!same_snapshots(&both, &seen(&[("a", 10), ("c", 11)])));
        assert!(!same_snapshots(
            &both,
            &seen(&[("a", 10), ("b", 11), ("c", 12)])
        ));
        assert!(!same_snapshots(&both, &seen(&[("a", 10)])));
        // Identity not recorded yet, or no snapshot at all.
        assert!(!same_snapshots(
            &[indexed("a", Some(10)), indexed("b", None)],
            &seen(&[("a", 10), ("b", 11)])
        ));
        assert!(!same_snapshots(&[], &[]));
    }
}
