//! [`IndexStore`]: the catalogue and the search index kept in step. Applies snapshots
//! atomically (catalogue first, search index caught up from the dirty set), answers searches
//! and version listings, and checks that both stores agree.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};

use tantivy::collector::{Collector, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::indexer::LogMergePolicy;
use tantivy::query::Query;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, TantivyDocument,
    TantivyError,
};
use wizfs_core::names::DatasetName;
use wizfs_core::paths::RelativePath;
use wizfs_core::versioning::{LIVE_TXG, Signature, StoredVersion, VersionOp};

use crate::catalogue::{Catalogue, VersionRecord};
use crate::document::{self, Fields, TRIGRAM_TOKENIZER, TrigramTokenizer};
use crate::error::{Context, IndexError};
use crate::query::{self, DatasetScope, FacetCollector, FacetCounts, SegmentColumns};
use crate::{
    ApplyReport, ConsistencyReport, DatasetInfo, Facets, FingerprintUpdate, IndexedSnapshot,
    SearchHit, SearchQuery, SearchResults, SnapshotChange, SnapshotIdentity, Sort, VersionEntry,
};

type Result<T> = std::result::Result<T, IndexError>;

/// Memory the tantivy writer may buffer before it flushes a segment.
const WRITER_MEMORY: usize = 64 << 20;
/// The commit payload recording which catalogue generation the search index reflects.
const PAYLOAD_PREFIX: &str = "catalogue-generation=";

/// What is read on every query and changes only on apply: kept in memory.
#[derive(Debug, Default)]
struct Cache {
    datasets: HashMap<u64, DatasetInfo>,
    /// Ascending txg.
    snapshots: HashMap<u64, Vec<IndexedSnapshot>>,
}

/// The search index of one appliance: open once per process per directory.
pub struct IndexStore {
    directory: PathBuf,
    catalogue: Catalogue,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// The only tantivy writer; holding it also serializes every catalogue change. `None`
    /// when opened read-only (see [`IndexStore::open_read_only`]).
    writer: Option<Mutex<IndexWriter<TantivyDocument>>>,
    cache: RwLock<Cache>,
    /// The columns searches read, per segment.
    columns: SegmentColumns,
}

impl std::fmt::Debug for IndexStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("IndexStore")
            .field("directory", &self.directory)
            .finish_non_exhaustive()
    }
}

fn lock_error(error: TantivyError, path: &Path) -> IndexError {
    match error {
        TantivyError::LockFailure(..) => IndexError::Locked {
            path: path.to_path_buf(),
        },
        source => IndexError::Search {
            context: format!("opening the writer of {}", path.display()),
            source,
        },
    }
}

/// Opens the tantivy index, or creates it; an index that cannot be opened with this schema
/// (older format, damage) is derived data: it is removed and rebuilt. `true` when the index
/// is new and must be filled from the catalogue.
fn open_search_index(path: &Path) -> Result<(Index, bool)> {
    let (schema, _) = document::schema();
    std::fs::create_dir_all(path).context(|| format!("creating {}", path.display()))?;
    let existed = path.join("meta.json").exists();
    let directory = MmapDirectory::open(path)
        .map_err(TantivyError::from)
        .context(|| format!("opening {}", path.display()))?;
    match Index::open_or_create(directory, schema.clone()) {
        Ok(index) => Ok((index, !existed)),
        Err(_) if existed => {
            std::fs::remove_dir_all(path).context(|| format!("removing {}", path.display()))?;
            std::fs::create_dir_all(path).context(|| format!("creating {}", path.display()))?;
            let index = Index::create_in_dir(path, schema)
                .context(|| format!("recreating {}", path.display()))?;
            Ok((index, true))
        }
        Err(source) => Err(IndexError::Search {
            context: format!("creating {}", path.display()),
            source,
        }),
    }
}

fn snapshot_names(
    snapshots: &[IndexedSnapshot],
    birth: u64,
    death: Option<u64>,
) -> (Option<String>, Option<String>) {
    let first = snapshots
        .iter()
        .find(|snapshot| snapshot.createtxg == birth)
        .map(|snapshot| snapshot.name.clone());
    let last = snapshots
        .iter()
        .rev()
        .find(|snapshot| {
            snapshot.createtxg >= birth && death.is_none_or(|death| snapshot.createtxg < death)
        })
        .map(|snapshot| snapshot.name.clone());
    (first, last)
}

fn sorted<K: Ord>(counts: impl IntoIterator<Item = (K, u64)>) -> Vec<(K, u64)> {
    let mut counts: Vec<(K, u64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

/// The versions of one path as [`IndexStore::versions_of`] lists them: each with the
/// indexed snapshots (ascending txg) holding it.
pub(crate) fn version_entries(
    records: Vec<VersionRecord>,
    snapshots: &[IndexedSnapshot],
) -> Vec<VersionEntry> {
    records
        .into_iter()
        .map(|record| {
            let version = record.version;
            VersionEntry {
                version_id: version.id,
                signature: version.signature,
                birth: version.birth,
                death: version.death,
                snapshots: snapshots
                    .iter()
                    .filter(|snapshot| version.is_visible_in(snapshot.createtxg))
                    .map(|snapshot| snapshot.name.clone())
                    .collect(),
                live: version.is_visible_in(LIVE_TXG),
            }
        })
        .collect()
}

impl IndexStore {
    /// Opens (or creates) the index in `directory`: tantivy in `directory/tantivy`, the
    /// catalogue in `directory/catalogue`. Versions left dirty by a crash are synced first; a
    /// missing or unreadable tantivy index is rebuilt from the catalogue.
    pub fn open(directory: &Path) -> Result<IndexStore> {
        let (index, rebuild) = open_search_index(&directory.join("tantivy"))?;
        let fields = {
            let (_, fields) = document::schema();
            fields
        };
        index
            .tokenizers()
            .register(TRIGRAM_TOKENIZER, TrigramTokenizer);
        // The writer lock (an advisory lock: a file left by a crashed process does not hold
        // it) makes this store the only one on this directory.
        let writer: IndexWriter<TantivyDocument> = index
            .writer_with_num_threads(2, WRITER_MEMORY)
            .map_err(|error| lock_error(error, directory))?;
        let mut merge_policy = LogMergePolicy::default();
        merge_policy.set_del_docs_ratio_before_merge(0.3);
        writer.set_merge_policy(Box::new(merge_policy));
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .context(|| "opening the reader".into())?;
        let catalogue = Catalogue::open(&directory.join("catalogue"))?;
        let store = IndexStore {
            directory: directory.to_path_buf(),
            catalogue,
            index,
            reader,
            fields,
            writer: Some(Mutex::new(writer)),
            cache: RwLock::new(Cache::default()),
            columns: SegmentColumns::default(),
        };
        let mut writer = store.lock_writer()?;
        if rebuild {
            let mut wtxn = store.catalogue.write_txn()?;
            for id in store.catalogue.all_version_ids(&wtxn)? {
                store.catalogue.mark_dirty(&mut wtxn, id)?;
            }
            wtxn.commit()
                .context(|| "marking every version for rebuild".into())?;
        }
        store.sync(&mut writer, true)?;
        drop(writer);
        store.reload_cache()?;
        Ok(store)
    }

    /// Opens for queries only an index that another process (the daemon) writes: no writer
    /// lock is taken, nothing is repaired or rebuilt, and every change fails with
    /// [`IndexError::ReadOnly`]. Searches see the last commit made before opening (LMDB and
    /// tantivy both let readers in other processes see consistent snapshots).
    pub fn open_read_only(directory: &Path) -> Result<IndexStore> {
        let tantivy = directory.join("tantivy");
        if !tantivy.join("meta.json").exists() || !directory.join("catalogue").exists() {
            return Err(IndexError::Missing {
                path: directory.to_path_buf(),
            });
        }
        let index = Index::open_in_dir(&tantivy)
            .context(|| format!("opening {} for reading", tantivy.display()))?;
        index
            .tokenizers()
            .register(TRIGRAM_TOKENIZER, TrigramTokenizer);
        let (_, fields) = document::schema();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .context(|| "opening the reader".into())?;
        let store = IndexStore {
            directory: directory.to_path_buf(),
            catalogue: Catalogue::open_existing(&directory.join("catalogue"))?,
            index,
            reader,
            fields,
            writer: None,
            cache: RwLock::new(Cache::default()),
            columns: SegmentColumns::default(),
        };
        store.reload_cache()?;
        Ok(store)
    }

    /// Whether the search index lags behind the catalogue: versions a crash left unsynced,
    /// which only [`IndexStore::open`] repairs (a store opened read-only does not).
    pub fn needs_repair(&self) -> Result<bool> {
        let rtxn = self.catalogue.read_txn()?;
        Ok(self.catalogue.dirty_count(&rtxn)? > 0)
    }

    /// Whether this store was opened with [`IndexStore::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        self.writer.is_none()
    }

    fn lock_writer(&self) -> Result<MutexGuard<'_, IndexWriter<TantivyDocument>>> {
        self.writer
            .as_ref()
            .ok_or_else(|| IndexError::ReadOnly {
                path: self.directory.clone(),
            })?
            .lock()
            .map_err(|_| IndexError::Poisoned)
    }

    fn read_cache(&self) -> Result<RwLockReadGuard<'_, Cache>> {
        self.cache.read().map_err(|_| IndexError::Poisoned)
    }

    fn reload_cache(&self) -> Result<()> {
        let rtxn = self.catalogue.read_txn()?;
        let mut cache = Cache {
            datasets: self
                .catalogue
                .datasets(&rtxn)?
                .into_iter()
                .map(|dataset| (dataset.guid, dataset))
                .collect(),
            snapshots: self.catalogue.all_snapshots(&rtxn)?,
        };
        for snapshots in cache.snapshots.values_mut() {
            snapshots.sort_by_key(|snapshot| snapshot.createtxg);
        }
        *self.cache.write().map_err(|_| IndexError::Poisoned)? = cache;
        Ok(())
    }

    /// Adds a dataset (included in searches), or renames it if known.
    pub fn register_dataset(&self, guid: u64, name: &DatasetName) -> Result<()> {
        let _writer = self.lock_writer()?;
        let mut wtxn = self.catalogue.write_txn()?;
        let included = self
            .catalogue
            .dataset(&wtxn, guid)?
            .is_none_or(|dataset| dataset.included);
        self.catalogue.put_dataset(
            &mut wtxn,
            &DatasetInfo {
                guid,
                name: name.as_str().to_owned(),
                included,
            },
        )?;
        wtxn.commit().context(|| format!("registering {name}"))?;
        self.reload_cache()
    }

    /// Renames a registered dataset (no search document changes: they hold the guid).
    pub fn rename_dataset(&self, guid: u64, name: &DatasetName) -> Result<()> {
        self.update_dataset(guid, |dataset| dataset.name = name.as_str().to_owned())
    }

    /// Shows (`true`) or hides a dataset's versions in searches.
    pub fn set_included(&self, guid: u64, included: bool) -> Result<()> {
        self.update_dataset(guid, |dataset| dataset.included = included)
    }

    fn update_dataset(&self, guid: u64, change: impl FnOnce(&mut DatasetInfo)) -> Result<()> {
        let _writer = self.lock_writer()?;
        let mut wtxn = self.catalogue.write_txn()?;
        let mut dataset = self
            .catalogue
            .dataset(&wtxn, guid)?
            .ok_or(IndexError::UnknownDataset { guid })?;
        change(&mut dataset);
        self.catalogue.put_dataset(&mut wtxn, &dataset)?;
        wtxn.commit()
            .context(|| format!("updating dataset {guid}"))?;
        self.reload_cache()
    }

    /// Bytes on disk: `(catalogue, search index)`.
    pub fn disk_usage(&self) -> Result<(u64, u64)> {
        let mut index_bytes = 0;
        let directory = self.directory.join("tantivy");
        for entry in
            std::fs::read_dir(&directory).context(|| format!("listing {}", directory.display()))?
        {
            let entry = entry.context(|| format!("listing {}", directory.display()))?;
            index_bytes += entry
                .metadata()
                .context(|| format!("reading {}", entry.path().display()))?
                .len();
        }
        Ok((self.catalogue.disk_size()?, index_bytes))
    }

    /// Every registered dataset, by guid.
    pub fn datasets(&self) -> Result<Vec<DatasetInfo>> {
        let mut datasets: Vec<DatasetInfo> =
            self.read_cache()?.datasets.values().cloned().collect();
        datasets.sort_by_key(|dataset| dataset.guid);
        Ok(datasets)
    }

    /// The indexed snapshots of a dataset, ascending txg.
    pub fn indexed_snapshots(&self, dataset_guid: u64) -> Result<Vec<IndexedSnapshot>> {
        Ok(self
            .read_cache()?
            .snapshots
            .get(&dataset_guid)
            .cloned()
            .unwrap_or_default())
    }

    /// The open version (death `None`) of `path`, if any.
    pub fn open_version(
        &self,
        dataset_guid: u64,
        path: &RelativePath,
    ) -> Result<Option<StoredVersion>> {
        let rtxn = self.catalogue.read_txn()?;
        Ok(self
            .catalogue
            .versions_of_path(&rtxn, dataset_guid, path)?
            .into_iter()
            .map(|record| record.version)
            .find(StoredVersion::is_open))
    }

    /// The open versions strictly below `directory` (component-wise), by path.
    pub fn open_below(
        &self,
        dataset_guid: u64,
        directory: &RelativePath,
    ) -> Result<Vec<StoredVersion>> {
        let rtxn = self.catalogue.read_txn()?;
        self.catalogue.open_below(&rtxn, dataset_guid, directory)
    }

    /// The versions whose birth or death is one of `txgs`, by id.
    pub fn versions_touching(&self, dataset_guid: u64, txgs: &[u64]) -> Result<Vec<StoredVersion>> {
        let rtxn = self.catalogue.read_txn()?;
        self.catalogue.versions_touching(&rtxn, dataset_guid, txgs)
    }

    /// Applies one snapshot's changes: all of them or none in the catalogue, then the search
    /// index catches up. An error leaves the catalogue as it was.
    pub fn apply(
        &self,
        dataset_guid: u64,
        change: SnapshotChange,
        ops: &[VersionOp],
    ) -> Result<ApplyReport> {
        let mut writer = self.lock_writer()?;
        let mut report = self.apply_to_catalogue(dataset_guid, &change, ops, None)?;
        report.documents_synced = self.sync(&mut writer, true)?;
        Ok(report)
    }

    /// Like [`IndexStore::apply`], but the search index catches up only at the next
    /// [`IndexStore::flush`] (or `apply`, or `open`): the catalogue change is just as atomic,
    /// and indexing many snapshots in a row pays for one tantivy commit instead of one each
    /// (a commit costs seconds in the test VM).
    pub fn apply_deferred(
        &self,
        dataset_guid: u64,
        change: SnapshotChange,
        ops: &[VersionOp],
    ) -> Result<ApplyReport> {
        let _writer = self.lock_writer()?;
        self.apply_to_catalogue(dataset_guid, &change, ops, None)
    }

    /// [`IndexStore::apply_deferred`] plus moving the dataset's object fingerprints (see
    /// [`FingerprintUpdate`]) in the same transaction: the fingerprints describe the snapshot
    /// if and only if it is indexed.
    pub fn apply_deferred_with_fingerprints(
        &self,
        dataset_guid: u64,
        change: SnapshotChange,
        ops: &[VersionOp],
        fingerprints: &FingerprintUpdate,
    ) -> Result<ApplyReport> {
        let _writer = self.lock_writer()?;
        self.apply_to_catalogue(dataset_guid, &change, ops, Some(fingerprints))
    }

    /// The send-stream fingerprints of `objects` of dataset `dataset_guid` (see
    /// `wizfs_zfs::objects`) if the stored ones describe the snapshot with createtxg `as_of`;
    /// all `None` otherwise.
    pub fn object_fingerprints(
        &self,
        dataset_guid: u64,
        as_of: u64,
        objects: &[u64],
    ) -> Result<Vec<Option<u64>>> {
        let rtxn = self.catalogue.read_txn()?;
        self.catalogue
            .object_fingerprints(&rtxn, dataset_guid, as_of, objects)
    }

    /// Brings the search index up to date with the catalogue (after `apply_deferred`).
    pub fn flush(&self) -> Result<usize> {
        let mut writer = self.lock_writer()?;
        self.sync(&mut writer, true)
    }

    /// The first half of [`IndexStore::apply`] only: the catalogue changes, the search index
    /// does not (as after a crash between the two). For crash tests.
    #[doc(hidden)]
    pub fn apply_catalogue_only(
        &self,
        dataset_guid: u64,
        change: SnapshotChange,
        ops: &[VersionOp],
    ) -> Result<ApplyReport> {
        let _writer = self.lock_writer()?;
        self.apply_to_catalogue(dataset_guid, &change, ops, None)
    }

    /// Syncs the search index but leaves the dirty set (as after a crash right after the
    /// tantivy commit). For crash tests.
    #[doc(hidden)]
    pub fn sync_without_clearing(&self) -> Result<usize> {
        let mut writer = self.lock_writer()?;
        self.sync(&mut writer, false)
    }

    fn owned_version(&self, txn: &heed::RoTxn, dataset: u64, id: u64) -> Result<VersionRecord> {
        let record = self
            .catalogue
            .version(txn, id)?
            .ok_or(IndexError::UnknownVersion { id })?;
        if record.dataset != dataset {
            return Err(IndexError::WrongDataset {
                id,
                expected: dataset,
                actual: record.dataset,
            });
        }
        Ok(record)
    }

    fn path_is_live(&self, txn: &heed::RoTxn, dataset: u64, path: &RelativePath) -> Result<bool> {
        Ok(self
            .catalogue
            .versions_of_path(txn, dataset, path)?
            .iter()
            .any(|record| record.version.is_visible_in(LIVE_TXG)))
    }

    /// The entry of `live` for `path`: its live (open) versions before the apply, counted
    /// on first touch, and the change so far.
    fn live_count<'a>(
        &self,
        txn: &heed::RoTxn,
        dataset: u64,
        path: &RelativePath,
        live: &'a mut BTreeMap<RelativePath, (usize, i64)>,
    ) -> Result<&'a mut (usize, i64)> {
        if !live.contains_key(path) {
            let open = self
                .catalogue
                .versions_of_path(txn, dataset, path)?
                .iter()
                .filter(|record| record.version.is_visible_in(LIVE_TXG))
                .count();
            live.insert(path.clone(), (open, 0));
        }
        live.get_mut(path)
            .ok_or_else(|| IndexError::Corrupt("a counted path went missing".into()))
    }

    fn apply_to_catalogue(
        &self,
        dataset: u64,
        change: &SnapshotChange,
        ops: &[VersionOp],
        fingerprints: Option<&FingerprintUpdate>,
    ) -> Result<ApplyReport> {
        let catalogue = &self.catalogue;
        let mut wtxn = catalogue.write_txn()?;
        if catalogue.dataset(&wtxn, dataset)?.is_none() {
            return Err(IndexError::UnknownDataset { guid: dataset });
        }
        match change {
            SnapshotChange::Indexed {
                guid,
                createtxg,
                name,
            } => catalogue.put_snapshot(
                &mut wtxn,
                dataset,
                &IndexedSnapshot {
                    guid: *guid,
                    createtxg: *createtxg,
                    name: name.clone(),
                    identity: None,
                },
            )?,
            SnapshotChange::Forgotten { createtxg } => {
                catalogue.delete_snapshot(&mut wtxn, dataset, *createtxg)?
            }
            SnapshotChange::None => {}
        }
        let mut report = ApplyReport::default();
        // Per touched path: how many of its versions were live (open) before this apply, and
        // how that number changes.
        let mut live: BTreeMap<RelativePath, (usize, i64)> = BTreeMap::new();
        let mut next_id = catalogue.next_id(&wtxn)?;
        for op in ops {
            match op {
                VersionOp::Open {
                    path,
                    metadata,
                    birth,
                } => {
                    self.live_count(&wtxn, dataset, path, &mut live)?.1 += 1;
                    let record = catalogue.insert_version(
                        &mut wtxn,
                        dataset,
                        next_id,
                        path,
                        Signature::of(metadata),
                        *birth,
                    )?;
                    next_id += 1;
                    catalogue.mark_dirty(&mut wtxn, record.version.id)?;
                    report.opened.push(record.version.id);
                }
                VersionOp::SetDeath { id, death } => {
                    let record = self.owned_version(&wtxn, dataset, *id)?;
                    if death.is_some_and(|death| death <= record.version.birth) {
                        return Err(IndexError::InvalidOperation {
                            id: *id,
                            reason: format!(
                                "death {death:?} is not after birth {}",
                                record.version.birth
                            ),
                        });
                    }
                    self.live_count(&wtxn, dataset, &record.version.path, &mut live)?
                        .1 += i64::from(death.is_none()) - i64::from(record.version.is_open());
                    catalogue.update_version(&mut wtxn, &record, record.version.birth, *death)?;
                    catalogue.mark_dirty(&mut wtxn, *id)?;
                    report.updated += 1;
                }
                VersionOp::SetBirth { id, birth } => {
                    let record = self.owned_version(&wtxn, dataset, *id)?;
                    if record.version.death.is_some_and(|death| death <= *birth) {
                        return Err(IndexError::InvalidOperation {
                            id: *id,
                            reason: format!(
                                "birth {birth} is not before death {:?}",
                                record.version.death
                            ),
                        });
                    }
                    catalogue.update_version(&mut wtxn, &record, *birth, record.version.death)?;
                    catalogue.mark_dirty(&mut wtxn, *id)?;
                    report.updated += 1;
                }
                VersionOp::Delete { id } => {
                    let record = self.owned_version(&wtxn, dataset, *id)?;
                    self.live_count(&wtxn, dataset, &record.version.path, &mut live)?
                        .1 -= i64::from(record.version.is_open());
                    catalogue.delete_version(&mut wtxn, &record)?;
                    catalogue.mark_dirty(&mut wtxn, *id)?;
                    report.deleted += 1;
                }
            }
        }
        catalogue.set_next_id(&mut wtxn, next_id)?;
        // A path whose live visibility changed: every version's `path_live` changes.
        for (path, (before, change)) in live {
            let after = before as i64 + change;
            if (before > 0) != (after > 0) {
                for record in catalogue.versions_of_path(&wtxn, dataset, &path)? {
                    catalogue.mark_dirty(&mut wtxn, record.version.id)?;
                }
            }
        }
        if let Some(update) = fingerprints {
            catalogue.update_object_fingerprints(
                &mut wtxn,
                dataset,
                update.base,
                update.as_of,
                &update.set,
                &update.freed,
            )?;
        }
        report.generation = catalogue.bump_generation(&mut wtxn)?;
        wtxn.commit()
            .context(|| format!("committing generation {}", report.generation))?;
        self.reload_cache()?;
        Ok(report)
    }

    /// Rewrites the document of every dirty version (delete by id, add if it still exists),
    /// commits tantivy with the catalogue generation as payload, then (if `clear`) empties the
    /// dirty set. Idempotent: a crash anywhere in here is repaired by running it again.
    fn sync(&self, writer: &mut IndexWriter<TantivyDocument>, clear: bool) -> Result<usize> {
        let rtxn = self.catalogue.read_txn()?;
        let dirty = self.catalogue.dirty_ids(&rtxn)?;
        if dirty.is_empty() {
            return Ok(0);
        }
        let generation = self.catalogue.generation(&rtxn)?;
        let staged = self.stage(writer, &rtxn, &dirty);
        drop(rtxn);
        let committed = staged.and_then(|()| {
            let mut prepared = writer
                .prepare_commit()
                .context(|| "preparing the commit".into())?;
            prepared.set_payload(&format!("{PAYLOAD_PREFIX}{generation}"));
            prepared
                .commit()
                .context(|| format!("committing generation {generation}"))
        });
        if let Err(error) = committed {
            // Drop whatever was staged; the dirty set still lists every id.
            let _ = writer.rollback();
            return Err(error);
        }
        self.reader
            .reload()
            .context(|| "reloading the reader".into())?;
        if clear {
            let mut wtxn = self.catalogue.write_txn()?;
            self.catalogue.clear_dirty(&mut wtxn, &dirty)?;
            wtxn.commit().context(|| "clearing the dirty set".into())?;
        }
        Ok(dirty.len())
    }

    fn stage(
        &self,
        writer: &IndexWriter<TantivyDocument>,
        rtxn: &heed::RoTxn,
        dirty: &[u64],
    ) -> Result<()> {
        let mut live_paths: HashMap<(u64, RelativePath), bool> = HashMap::new();
        for &id in dirty {
            writer.delete_term(document::id_term(&self.fields, id));
            let Some(record) = self.catalogue.version(rtxn, id)? else {
                continue;
            };
            let key = (record.dataset, record.version.path.clone());
            let path_live = if record.version.is_visible_in(LIVE_TXG) {
                // A live version makes its path live: no look-up needed.
                true
            } else if let Some(live) = live_paths.get(&key) {
                *live
            } else {
                let live = self.path_is_live(rtxn, record.dataset, &record.version.path)?;
                live_paths.insert(key, live);
                live
            };
            writer
                .add_document(document::build(&self.fields, &record, path_live))
                .context(|| format!("indexing version {id}"))?;
        }
        Ok(())
    }

    /// Compares the catalogue with the search index: every version must have exactly one
    /// document, with the same dataset, birth and death, and nothing else.
    pub fn check_consistency(&self) -> Result<ConsistencyReport> {
        let _writer = self.lock_writer()?;
        let rtxn = self.catalogue.read_txn()?;
        let mut report = ConsistencyReport {
            dirty: self.catalogue.dirty_count(&rtxn)?,
            catalogue_generation: self.catalogue.generation(&rtxn)?,
            index_generation: self
                .index
                .load_metas()
                .context(|| "reading the index metadata".into())?
                .payload
                .and_then(|payload| payload.strip_prefix(PAYLOAD_PREFIX)?.parse().ok()),
            ..ConsistencyReport::default()
        };
        let ids = self.catalogue.all_version_ids(&rtxn)?;
        report.catalogue_versions = ids.len() as u64;
        let mut seen: HashMap<u64, u64> = HashMap::new();
        let searcher = self.reader.searcher();
        for segment in searcher.segment_readers() {
            let fast = segment.fast_fields();
            let context = || "reading fast fields".to_owned();
            let id_column = fast.u64(document::ID).context(context)?;
            let dataset_column = fast.u64(document::DATASET).context(context)?;
            let birth_column = fast.u64(document::BIRTH).context(context)?;
            let death_column = fast.u64(document::DEATH).context(context)?;
            let open_column = fast.bool(document::OPEN).context(context)?;
            for doc in 0..segment.max_doc() {
                if segment.is_deleted(doc) {
                    continue;
                }
                report.index_documents += 1;
                let Some(id) = id_column.first(doc) else {
                    continue;
                };
                *seen.entry(id).or_default() += 1;
                match self.catalogue.version(&rtxn, id)? {
                    None => report.orphans.push(id),
                    Some(record) => {
                        let version = &record.version;
                        let death = if open_column.first(doc) == Some(true) {
                            None
                        } else {
                            death_column.first(doc)
                        };
                        if dataset_column.first(doc) != Some(record.dataset)
                            || birth_column.first(doc) != Some(version.birth)
                            || death != version.death
                        {
                            report.stale.push(id);
                        }
                    }
                }
            }
        }
        report.duplicates = seen
            .iter()
            .filter(|(_, count)| **count > 1)
            .map(|(id, _)| *id)
            .collect();
        report.missing = ids
            .into_iter()
            .filter(|id| !seen.contains_key(id))
            .collect();
        report.duplicates.sort_unstable();
        report.orphans.sort_unstable();
        report.orphans.dedup();
        report.stale.sort_unstable();
        report.stale.dedup();
        Ok(report)
    }

    /// Every version of one path, oldest first, with the snapshots holding each. Reads the
    /// catalogue only.
    pub fn versions_of(&self, dataset_guid: u64, path: &RelativePath) -> Result<Vec<VersionEntry>> {
        let rtxn = self.catalogue.read_txn()?;
        let records = self.catalogue.versions_of_path(&rtxn, dataset_guid, path)?;
        drop(rtxn);
        let cache = self.read_cache()?;
        let snapshots = cache
            .snapshots
            .get(&dataset_guid)
            .map(Vec::as_slice)
            .unwrap_or_default();
        Ok(version_entries(records, snapshots))
    }

    /// Records the identities of a dataset's indexed snapshots, each given with the guid ZFS
    /// listed with it (a snapshot indexed under another guid is left alone), in one
    /// transaction. The indexer calls it with the listing it indexed from.
    pub fn record_snapshot_identities(
        &self,
        dataset_guid: u64,
        identities: &[(u64, SnapshotIdentity)],
    ) -> Result<usize> {
        let _writer = self.lock_writer()?;
        let mut changed = 0;
        let mut wtxn = self.catalogue.write_txn()?;
        let indexed = self
            .read_cache()?
            .snapshots
            .get(&dataset_guid)
            .cloned()
            .unwrap_or_default();
        for snapshot in indexed {
            let Some((_, identity)) = identities.iter().find(|(guid, _)| *guid == snapshot.guid)
            else {
                continue;
            };
            if snapshot.identity.as_ref() != Some(identity) {
                let snapshot = IndexedSnapshot {
                    identity: Some(*identity),
                    ..snapshot
                };
                self.catalogue
                    .put_snapshot(&mut wtxn, dataset_guid, &snapshot)?;
                changed += 1;
            }
        }
        if changed > 0 {
            wtxn.commit()
                .context(|| "recording snapshot identities".into())?;
            self.reload_cache()?;
        }
        Ok(changed)
    }

    /// Searches versions by name and filters; see [`SearchQuery`].
    pub fn search(&self, query: &SearchQuery) -> Result<SearchResults> {
        let cache = self.read_cache()?;
        let guids_named = |name: &str| -> Vec<u64> {
            cache
                .datasets
                .values()
                .filter(|dataset| dataset.name == name)
                .map(|dataset| dataset.guid)
                .collect()
        };
        let scope = DatasetScope {
            only: (!query.datasets.is_empty()).then(|| {
                query
                    .datasets
                    .iter()
                    .flat_map(|name| guids_named(name))
                    .collect()
            }),
            under: query
                .under
                .as_ref()
                .and_then(|(name, _)| guids_named(name).first().copied()),
            excluded: cache
                .datasets
                .values()
                .filter(|dataset| !dataset.included)
                .map(|dataset| dataset.guid)
                .collect(),
        };
        let Some(built) = query::build(&self.fields, query, &scope)? else {
            return Ok(SearchResults::default());
        };
        let searcher = self.reader.searcher();
        let tantivy_query = match &built.verify {
            None => built.query,
            Some(glob) => query::verified(&searcher, built.query, glob)
                .context(|| "checking glob candidates".into())?,
        };
        let facets = FacetCollector {
            columns: &self.columns,
        };
        let (addresses, counts) = collect(&searcher, tantivy_query.as_ref(), query, &facets)
            .context(|| "searching".into())?;
        let hits = self.hits(&searcher, &cache, &addresses)?;
        self.columns.keep_only(&searcher);
        let name_of = |guid: u64| {
            cache
                .datasets
                .get(&guid)
                .map_or_else(|| guid.to_string(), |dataset| dataset.name.clone())
        };
        Ok(SearchResults {
            total: counts.total,
            hits,
            facets: Facets {
                datasets: sorted(
                    counts
                        .datasets
                        .into_iter()
                        .map(|(guid, count)| (name_of(guid), count)),
                ),
                extensions: sorted(counts.extensions),
                years: sorted(counts.years)
                    .into_iter()
                    .map(|(year, count)| (year.to_string(), count))
                    .collect(),
            },
        })
    }

    fn hits(
        &self,
        searcher: &Searcher,
        cache: &Cache,
        addresses: &[DocAddress],
    ) -> Result<Vec<SearchHit>> {
        let rtxn = self.catalogue.read_txn()?;
        let mut hits = Vec::with_capacity(addresses.len());
        for address in addresses {
            let columns = self
                .columns
                .of(searcher.segment_reader(address.segment_ord))
                .context(|| "reading a hit".to_owned())?;
            let Some(id) = columns.ids.first(address.doc_id) else {
                continue;
            };
            let path_live = columns.path_live.first(address.doc_id).unwrap_or(false);
            // A version deleted since the searcher was taken is skipped.
            let Some(record) = self.catalogue.version(&rtxn, id)? else {
                continue;
            };
            let version = record.version;
            let snapshots = cache
                .snapshots
                .get(&record.dataset)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let (first_snapshot, last_snapshot) =
                snapshot_names(snapshots, version.birth, version.death);
            hits.push(SearchHit {
                version_id: id,
                dataset: cache.datasets.get(&record.dataset).map_or_else(
                    || record.dataset.to_string(),
                    |dataset| dataset.name.clone(),
                ),
                dataset_guid: record.dataset,
                name: String::from_utf8_lossy(version.path.file_name().unwrap_or_default())
                    .into_owned(),
                kind: version.signature.kind,
                size: version.signature.size,
                modified: version.signature.modified,
                birth: version.birth,
                death: version.death,
                first_snapshot,
                last_snapshot,
                path_live,
                path: version.path,
            });
        }
        Ok(hits)
    }
}

fn top<K, C>(
    searcher: &Searcher,
    query: &dyn Query,
    collector: C,
    facets: &FacetCollector,
) -> tantivy::Result<(Vec<DocAddress>, FacetCounts)>
where
    K: 'static + Send,
    C: Collector<Fruit = Vec<(K, DocAddress)>>,
{
    let (documents, counts) = searcher.search(query, &(collector, *facets))?;
    Ok((
        documents.into_iter().map(|(_, address)| address).collect(),
        counts,
    ))
}

fn collect(
    searcher: &Searcher,
    query: &dyn Query,
    search: &SearchQuery,
    facets: &FacetCollector,
) -> tantivy::Result<(Vec<DocAddress>, FacetCounts)> {
    if search.limit == 0 {
        return Ok((Vec::new(), searcher.search(query, facets)?));
    }
    let page = TopDocs::with_limit(search.limit).and_offset(search.offset);
    let order = if search.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    match search.sort {
        Sort::Relevance => top(searcher, query, page.order_by_score(), facets),
        Sort::Name => top(
            searcher,
            query,
            page.order_by_string_fast_field(document::NAME_LOWER, order),
            facets,
        ),
        Sort::Size => top(
            searcher,
            query,
            page.order_by_fast_field::<u64>(document::SIZE, order),
            facets,
        ),
        Sort::Modified => top(
            searcher,
            query,
            page.order_by_fast_field::<i64>(document::MODIFIED, order),
            facets,
        ),
        Sort::Path => top(
            searcher,
            query,
            page.order_by_string_fast_field(document::PATH_SORT, order),
            facets,
        ),
    }
}
