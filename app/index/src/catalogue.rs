//! The catalogue: the index's source of truth, in one LMDB environment (heed). Datasets,
//! indexed snapshots, versions and their secondary indexes, the id counters and the "dirty"
//! set of versions whose search document must be rewritten. Keys are big-endian so that
//! LMDB's byte order is numeric order.
//!
//! Paths can be 4095 bytes but LMDB keys at most 511, so directories are interned: a
//! directory is `(dataset, parent directory id, name)` → id (the root is 0), and a version of
//! a path is keyed by `(dataset, parent directory id, name, version id)`. Every key stays
//! under 8 + 8 + 255 + 1 + 8 bytes, "versions of a path" is one prefix scan and "below a
//! directory" is a walk of interned directories.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use heed::{Env, RoTxn, RwTxn, WithoutTls};
use wizfs_core::entries::{EntryKind, FileTime};
use wizfs_core::paths::RelativePath;
use wizfs_core::versioning::{Signature, StoredVersion};

use crate::error::{Context, IndexError};
use crate::{DatasetInfo, IndexedSnapshot, SnapshotIdentity};

type Db = wizfs_lmdb::BytesDatabase;
type Result<T> = std::result::Result<T, IndexError>;

/// Virtual address space reserved for the environment; the file grows only as pages are
/// written (sparse), so this is a ceiling, not a cost.
const MAP_SIZE: usize = 64 << 30;
/// The catalogue's tables, in the order of `Catalogue::open`'s pattern.
const TABLES: [&str; 9] = [
    "meta",
    "datasets",
    "snapshots",
    "versions",
    "directories",
    "by_path",
    "by_txg",
    "dirty",
    "objects",
];
const ROOT_DIRECTORY: u64 = 0;
const NEXT_ID: &[u8] = b"next_id";
const NEXT_DIRECTORY: &[u8] = b"next_directory";
const GENERATION: &[u8] = b"generation";
const RECORD_FORMAT: u8 = 1;
const RECORD_HEADER: usize = 63;

/// A version with where the catalogue files it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VersionRecord {
    pub dataset: u64,
    /// The interned id of the directory holding it.
    pub directory: u64,
    pub version: StoredVersion,
}

pub(crate) struct Catalogue {
    env: Env<WithoutTls>,
    meta: Db,
    datasets: Db,
    snapshots: Db,
    versions: Db,
    directories: Db,
    by_path: Db,
    by_txg: Db,
    dirty: Db,
    /// (dataset, object) → the object's fingerprint in a send stream (8 bytes), and
    /// (dataset, [`OBJECTS_AS_OF`]) → the createtxg of the snapshot they describe.
    objects: Db,
}

/// The object number under which a dataset's fingerprints record which snapshot they
/// describe (ZFS object numbers stay far below it).
const OBJECTS_AS_OF: u64 = u64::MAX;

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Catalogue")
            .field("path", &self.env.path())
            .finish_non_exhaustive()
    }
}

fn u64_at(bytes: &[u8], offset: usize) -> Result<u64> {
    bytes
        .get(offset..offset + 8)
        .and_then(|slice| slice.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| IndexError::Corrupt(format!("{} bytes, no u64 at {offset}", bytes.len())))
}

fn key2(first: u64, second: u64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&first.to_be_bytes());
    key[8..].copy_from_slice(&second.to_be_bytes());
    key
}

fn key3(first: u64, second: u64, third: u64) -> [u8; 24] {
    let mut key = [0; 24];
    key[..16].copy_from_slice(&key2(first, second));
    key[16..].copy_from_slice(&third.to_be_bytes());
    key
}

fn directory_key(dataset: u64, parent: u64, name: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(16 + name.len());
    key.extend_from_slice(&key2(dataset, parent));
    key.extend_from_slice(name);
    key
}

/// `(dataset, directory, name, 0)`: the prefix of every version of one path.
fn path_prefix(dataset: u64, directory: u64, name: &[u8]) -> Vec<u8> {
    let mut key = directory_key(dataset, directory, name);
    key.push(0);
    key
}

fn kind_code(kind: EntryKind) -> u8 {
    match kind {
        EntryKind::File => 0,
        EntryKind::Directory => 1,
        EntryKind::Symlink => 2,
        EntryKind::Fifo => 3,
        EntryKind::Socket => 4,
        EntryKind::BlockDevice => 5,
        EntryKind::CharacterDevice => 6,
    }
}

fn kind_from_code(code: u8) -> Result<EntryKind> {
    Ok(match code {
        0 => EntryKind::File,
        1 => EntryKind::Directory,
        2 => EntryKind::Symlink,
        3 => EntryKind::Fifo,
        4 => EntryKind::Socket,
        5 => EntryKind::BlockDevice,
        6 => EntryKind::CharacterDevice,
        other => return Err(IndexError::Corrupt(format!("entry kind code {other}"))),
    })
}

fn encode_record(record: &VersionRecord) -> Vec<u8> {
    let version = &record.version;
    let signature = &version.signature;
    let mut bytes = Vec::with_capacity(RECORD_HEADER + version.path.as_bytes().len());
    bytes.push(RECORD_FORMAT);
    bytes.extend_from_slice(&record.dataset.to_be_bytes());
    bytes.extend_from_slice(&record.directory.to_be_bytes());
    bytes.extend_from_slice(&version.birth.to_be_bytes());
    bytes.push(u8::from(version.death.is_some()));
    bytes.extend_from_slice(&version.death.unwrap_or(0).to_be_bytes());
    bytes.push(kind_code(signature.kind));
    bytes.extend_from_slice(&signature.size.to_be_bytes());
    bytes.extend_from_slice(&signature.modified.seconds.to_be_bytes());
    bytes.extend_from_slice(&signature.modified.nanoseconds.to_be_bytes());
    bytes.extend_from_slice(&signature.inode.to_be_bytes());
    bytes.extend_from_slice(version.path.as_bytes());
    bytes
}

fn decode_record(id: u64, bytes: &[u8]) -> Result<VersionRecord> {
    if bytes.len() < RECORD_HEADER || bytes[0] != RECORD_FORMAT {
        return Err(IndexError::Corrupt(format!(
            "version {id}: {} bytes, format {:?}",
            bytes.len(),
            bytes.first()
        )));
    }
    let path = RelativePath::new(&bytes[RECORD_HEADER..])
        .map_err(|error| IndexError::Corrupt(format!("version {id}: {error}")))?;
    let nanoseconds = u32::from_be_bytes([bytes[51], bytes[52], bytes[53], bytes[54]]);
    Ok(VersionRecord {
        dataset: u64_at(bytes, 1)?,
        directory: u64_at(bytes, 9)?,
        version: StoredVersion {
            id,
            path,
            birth: u64_at(bytes, 17)?,
            death: (bytes[25] == 1).then(|| u64_at(bytes, 26)).transpose()?,
            signature: Signature {
                kind: kind_from_code(bytes[34])?,
                size: u64_at(bytes, 35)?,
                modified: FileTime {
                    seconds: u64_at(bytes, 43)?.cast_signed(),
                    nanoseconds,
                },
                inode: u64_at(bytes, 55)?,
            },
        },
    })
}

/// The directory holding `path` and its name in it (the root: the root directory, no name).
fn split(path: &RelativePath) -> (Option<RelativePath>, &[u8]) {
    (path.parent(), path.file_name().unwrap_or_default())
}

impl Catalogue {
    pub fn open(path: &Path) -> Result<Catalogue> {
        let env = Self::environment(path)?;
        let tables =
            wizfs_lmdb::create_databases(&env, TABLES).context(|| "creating tables".into())?;
        Ok(Self::with_tables(env, tables))
    }

    fn environment(path: &Path) -> Result<Env<WithoutTls>> {
        let options = wizfs_lmdb::Options {
            map_size: MAP_SIZE,
            max_dbs: 16,
        };
        // The catalogue directory belongs to this crate and is opened once per process per
        // path (`IndexStore::open` holds tantivy's writer lock first, so two stores never
        // share it): the rule of `wizfs_lmdb`.
        wizfs_lmdb::open(path, options).map_err(|error| match error {
            wizfs_lmdb::LmdbError::AlreadyOpen { path } => IndexError::Locked { path },
            wizfs_lmdb::LmdbError::CreateDirectory { path, source } => IndexError::Io {
                context: format!("creating the catalogue directory {}", path.display()),
                source,
            },
            wizfs_lmdb::LmdbError::Open { path, source } => IndexError::Catalogue {
                context: format!("opening {}", path.display()),
                source,
            },
        })
    }

    fn with_tables(env: Env<WithoutTls>, tables: [Db; TABLES.len()]) -> Catalogue {
        let [
            meta,
            datasets,
            snapshots,
            versions,
            directories,
            by_path,
            by_txg,
            dirty,
            objects,
        ] = tables;
        Catalogue {
            env,
            meta,
            datasets,
            snapshots,
            versions,
            directories,
            by_path,
            by_txg,
            dirty,
            objects,
        }
    }

    /// Opens an existing catalogue for reading: its tables are opened in a read transaction,
    /// so this never waits for the process writing it. [`IndexError::Missing`] when the
    /// directory or a table is not there.
    pub fn open_existing(path: &Path) -> Result<Catalogue> {
        if !path.join("data.mdb").exists() {
            return Err(IndexError::Missing {
                path: path.to_path_buf(),
            });
        }
        let env = Self::environment(path)?;
        let Some(tables) = wizfs_lmdb::open_databases(&env, TABLES)
            .context(|| format!("opening the tables of {}", path.display()))?
        else {
            return Err(IndexError::Missing {
                path: path.to_path_buf(),
            });
        };
        Ok(Self::with_tables(env, tables))
    }

    pub fn read_txn(&self) -> Result<RoTxn<'_, WithoutTls>> {
        self.env
            .read_txn()
            .context(|| "starting a read transaction".into())
    }

    pub fn write_txn(&self) -> Result<RwTxn<'_>> {
        self.env
            .write_txn()
            .context(|| "starting a write transaction".into())
    }

    /// Bytes the environment's files use on disk.
    pub fn disk_size(&self) -> Result<u64> {
        self.env
            .real_disk_size()
            .context(|| "measuring the catalogue".into())
    }

    fn counter(&self, txn: &RoTxn, key: &[u8]) -> Result<u64> {
        match self
            .meta
            .get(txn, key)
            .context(|| "reading a counter".into())?
        {
            Some(bytes) => u64_at(bytes, 0),
            None => Ok(0),
        }
    }

    fn set_counter(&self, wtxn: &mut RwTxn, key: &[u8], value: u64) -> Result<()> {
        self.meta
            .put(wtxn, key, &value.to_be_bytes())
            .context(|| "writing a counter".into())
    }

    /// How many applies the catalogue has seen.
    pub fn generation(&self, txn: &RoTxn) -> Result<u64> {
        self.counter(txn, GENERATION)
    }

    pub fn bump_generation(&self, wtxn: &mut RwTxn) -> Result<u64> {
        let next = self.counter(wtxn, GENERATION)? + 1;
        self.set_counter(wtxn, GENERATION, next)?;
        Ok(next)
    }

    pub fn datasets(&self, txn: &RoTxn) -> Result<Vec<DatasetInfo>> {
        let mut found = Vec::new();
        for entry in self
            .datasets
            .iter(txn)
            .context(|| "listing datasets".into())?
        {
            let (key, value) = entry.context(|| "listing datasets".into())?;
            found.push(decode_dataset(u64_at(key, 0)?, value)?);
        }
        Ok(found)
    }

    pub fn dataset(&self, txn: &RoTxn, guid: u64) -> Result<Option<DatasetInfo>> {
        self.datasets
            .get(txn, &guid.to_be_bytes())
            .context(|| format!("reading dataset {guid}"))?
            .map(|value| decode_dataset(guid, value))
            .transpose()
    }

    pub fn put_dataset(&self, wtxn: &mut RwTxn, dataset: &DatasetInfo) -> Result<()> {
        let mut value = vec![u8::from(dataset.included)];
        value.extend_from_slice(dataset.name.as_bytes());
        self.datasets
            .put(wtxn, &dataset.guid.to_be_bytes(), &value)
            .context(|| format!("writing dataset {}", dataset.guid))
    }

    pub fn all_snapshots(&self, txn: &RoTxn) -> Result<HashMap<u64, Vec<IndexedSnapshot>>> {
        let mut found: HashMap<u64, Vec<IndexedSnapshot>> = HashMap::new();
        for entry in self
            .snapshots
            .iter(txn)
            .context(|| "listing snapshots".into())?
        {
            let (key, value) = entry.context(|| "listing snapshots".into())?;
            found
                .entry(u64_at(key, 0)?)
                .or_default()
                .push(decode_snapshot(key, value)?);
        }
        Ok(found)
    }

    pub fn put_snapshot(
        &self,
        wtxn: &mut RwTxn,
        dataset: u64,
        snapshot: &IndexedSnapshot,
    ) -> Result<()> {
        self.snapshots
            .put(
                wtxn,
                &key2(dataset, snapshot.createtxg),
                &encode_snapshot(snapshot),
            )
            .context(|| format!("adding snapshot {}", snapshot.name))
    }

    pub fn delete_snapshot(&self, wtxn: &mut RwTxn, dataset: u64, createtxg: u64) -> Result<()> {
        self.snapshots
            .delete(wtxn, &key2(dataset, createtxg))
            .context(|| format!("removing snapshot txg {createtxg}"))?;
        Ok(())
    }

    pub fn version(&self, txn: &RoTxn, id: u64) -> Result<Option<VersionRecord>> {
        self.versions
            .get(txn, &id.to_be_bytes())
            .context(|| format!("reading version {id}"))?
            .map(|bytes| decode_record(id, bytes))
            .transpose()
    }

    pub fn all_version_ids(&self, txn: &RoTxn) -> Result<Vec<u64>> {
        let mut ids = Vec::new();
        for entry in self
            .versions
            .iter(txn)
            .context(|| "listing versions".into())?
        {
            let (key, _) = entry.context(|| "listing versions".into())?;
            ids.push(u64_at(key, 0)?);
        }
        Ok(ids)
    }

    /// The interned id of `directory`, if any version was ever filed below it.
    pub fn resolve_directory(
        &self,
        txn: &RoTxn,
        dataset: u64,
        directory: &RelativePath,
    ) -> Result<Option<u64>> {
        let mut current = ROOT_DIRECTORY;
        for component in directory.components() {
            match self
                .directories
                .get(txn, &directory_key(dataset, current, component))
                .context(|| format!("resolving directory {directory}"))?
            {
                Some(value) => current = u64_at(value, 0)?,
                None => return Ok(None),
            }
        }
        Ok(Some(current))
    }

    fn ensure_directory(
        &self,
        wtxn: &mut RwTxn,
        dataset: u64,
        directory: &RelativePath,
    ) -> Result<u64> {
        let mut current = ROOT_DIRECTORY;
        for component in directory.components() {
            let key = directory_key(dataset, current, component);
            let existing = self
                .directories
                .get(wtxn, &key)
                .context(|| format!("resolving directory {directory}"))?
                .map(|value| u64_at(value, 0))
                .transpose()?;
            current = match existing {
                Some(id) => id,
                None => {
                    let id = self.counter(wtxn, NEXT_DIRECTORY)?.max(ROOT_DIRECTORY + 1);
                    self.set_counter(wtxn, NEXT_DIRECTORY, id + 1)?;
                    self.directories
                        .put(wtxn, &key, &id.to_be_bytes())
                        .context(|| format!("interning directory {directory}"))?;
                    id
                }
            };
        }
        Ok(current)
    }

    fn ids_with_prefix(&self, txn: &RoTxn, table: Db, prefix: &[u8]) -> Result<Vec<u64>> {
        let context = || "scanning an index".to_owned();
        let mut ids = Vec::new();
        let mut push = |entry: heed::Result<(&[u8], &[u8])>| -> Result<()> {
            let (key, _) = entry.context(context)?;
            ids.push(u64_at(key, key.len().saturating_sub(8))?);
            Ok(())
        };
        // LMDB cannot position a cursor on an empty key: no prefix is a plain scan.
        if prefix.is_empty() {
            for entry in table.iter(txn).context(context)? {
                push(entry)?;
            }
        } else {
            for entry in table.prefix_iter(txn, prefix).context(context)? {
                push(entry)?;
            }
        }
        Ok(ids)
    }

    fn load(&self, txn: &RoTxn, ids: impl IntoIterator<Item = u64>) -> Result<Vec<VersionRecord>> {
        let mut records = Vec::new();
        for id in ids {
            match self.version(txn, id)? {
                Some(record) => records.push(record),
                None => {
                    return Err(IndexError::Corrupt(format!(
                        "an index names version {id}, which does not exist"
                    )));
                }
            }
        }
        Ok(records)
    }

    /// Every version of one path, oldest birth first.
    pub fn versions_of_path(
        &self,
        txn: &RoTxn,
        dataset: u64,
        path: &RelativePath,
    ) -> Result<Vec<VersionRecord>> {
        let (parent, name) = split(path);
        let directory = match parent {
            Some(parent) => match self.resolve_directory(txn, dataset, &parent)? {
                Some(directory) => directory,
                None => return Ok(Vec::new()),
            },
            None => ROOT_DIRECTORY,
        };
        let ids =
            self.ids_with_prefix(txn, self.by_path, &path_prefix(dataset, directory, name))?;
        let mut records = self.load(txn, ids)?;
        records.sort_by_key(|record| (record.version.birth, record.version.id));
        Ok(records)
    }

    /// The open versions strictly below `directory`.
    pub fn open_below(
        &self,
        txn: &RoTxn,
        dataset: u64,
        directory: &RelativePath,
    ) -> Result<Vec<StoredVersion>> {
        let Some(start) = self.resolve_directory(txn, dataset, directory)? else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        let mut pending = vec![start];
        while let Some(current) = pending.pop() {
            let prefix = key2(dataset, current);
            for id in self.ids_with_prefix(txn, self.by_path, &prefix)? {
                let Some(record) = self.version(txn, id)? else {
                    return Err(IndexError::Corrupt(format!("by_path names missing {id}")));
                };
                let version = record.version;
                if version.is_open() && version.path != *directory {
                    found.push(version);
                }
            }
            for entry in self
                .directories
                .prefix_iter(txn, &prefix)
                .context(|| format!("listing directories below {directory}"))?
            {
                let (_, value) = entry.context(|| format!("listing below {directory}"))?;
                pending.push(u64_at(value, 0)?);
            }
        }
        found.sort_by(|a, b| a.path.cmp(&b.path).then(a.id.cmp(&b.id)));
        Ok(found)
    }

    /// Versions born or dying at any of `txgs`, by id.
    pub fn versions_touching(
        &self,
        txn: &RoTxn,
        dataset: u64,
        txgs: &[u64],
    ) -> Result<Vec<StoredVersion>> {
        let mut ids = BTreeSet::new();
        for &txg in txgs {
            ids.extend(self.ids_with_prefix(txn, self.by_txg, &key2(dataset, txg))?);
        }
        Ok(self
            .load(txn, ids)?
            .into_iter()
            .map(|record| record.version)
            .collect())
    }

    /// The id the next new version gets (ids are never reused).
    pub fn next_id(&self, txn: &RoTxn) -> Result<u64> {
        Ok(self.counter(txn, NEXT_ID)?.max(1))
    }

    /// Records that ids below `next` are taken.
    pub fn set_next_id(&self, wtxn: &mut RwTxn, next: u64) -> Result<()> {
        if next > self.next_id(wtxn)? {
            self.set_counter(wtxn, NEXT_ID, next)?;
        }
        Ok(())
    }

    /// Files a new version under `id`, a fresh id (from [`Catalogue::next_id`], recorded
    /// with [`Catalogue::set_next_id`] in the same transaction).
    pub fn insert_version(
        &self,
        wtxn: &mut RwTxn,
        dataset: u64,
        id: u64,
        path: &RelativePath,
        signature: Signature,
        birth: u64,
    ) -> Result<VersionRecord> {
        let directory = match path.parent() {
            Some(parent) => self.ensure_directory(wtxn, dataset, &parent)?,
            None => ROOT_DIRECTORY,
        };
        let record = VersionRecord {
            dataset,
            directory,
            version: StoredVersion {
                id,
                path: path.clone(),
                signature,
                birth,
                death: None,
            },
        };
        self.put_version(wtxn, &record)?;
        Ok(record)
    }

    /// Writes a record and its index entries (the previous entries must be gone).
    fn put_version(&self, wtxn: &mut RwTxn, record: &VersionRecord) -> Result<()> {
        let version = &record.version;
        let id = version.id;
        self.versions
            .put(wtxn, &id.to_be_bytes(), &encode_record(record))
            .context(|| format!("writing version {id}"))?;
        let (_, name) = split(&version.path);
        let mut key = path_prefix(record.dataset, record.directory, name);
        key.extend_from_slice(&id.to_be_bytes());
        self.by_path
            .put(wtxn, &key, &[])
            .context(|| format!("indexing version {id} by path"))?;
        for txg in std::iter::once(version.birth).chain(version.death) {
            self.by_txg
                .put(wtxn, &key3(record.dataset, txg, id), &[])
                .context(|| format!("indexing version {id} by txg"))?;
        }
        Ok(())
    }

    /// Removes a record and its index entries.
    pub fn delete_version(&self, wtxn: &mut RwTxn, record: &VersionRecord) -> Result<()> {
        let version = &record.version;
        let id = version.id;
        self.versions
            .delete(wtxn, &id.to_be_bytes())
            .context(|| format!("deleting version {id}"))?;
        let (_, name) = split(&version.path);
        let mut key = path_prefix(record.dataset, record.directory, name);
        key.extend_from_slice(&id.to_be_bytes());
        self.by_path
            .delete(wtxn, &key)
            .context(|| format!("unindexing version {id} by path"))?;
        for txg in std::iter::once(version.birth).chain(version.death) {
            self.by_txg
                .delete(wtxn, &key3(record.dataset, txg, id))
                .context(|| format!("unindexing version {id} by txg"))?;
        }
        Ok(())
    }

    /// Replaces a record's birth and death: the record and the by-txg entries that change
    /// (its path, and so its by-path entry, stay).
    pub fn update_version(
        &self,
        wtxn: &mut RwTxn,
        record: &VersionRecord,
        birth: u64,
        death: Option<u64>,
    ) -> Result<VersionRecord> {
        let mut updated = record.clone();
        updated.version.birth = birth;
        updated.version.death = death;
        let id = record.version.id;
        self.versions
            .put(wtxn, &id.to_be_bytes(), &encode_record(&updated))
            .context(|| format!("writing version {id}"))?;
        let txgs = |version: &StoredVersion| {
            let mut txgs: Vec<u64> = std::iter::once(version.birth)
                .chain(version.death)
                .collect();
            txgs.dedup();
            txgs
        };
        let (before, after) = (txgs(&record.version), txgs(&updated.version));
        for txg in before.iter().filter(|txg| !after.contains(txg)) {
            self.by_txg
                .delete(wtxn, &key3(record.dataset, *txg, id))
                .context(|| format!("unindexing version {id} by txg"))?;
        }
        for txg in after.iter().filter(|txg| !before.contains(txg)) {
            self.by_txg
                .put(wtxn, &key3(record.dataset, *txg, id), &[])
                .context(|| format!("indexing version {id} by txg"))?;
        }
        Ok(updated)
    }

    pub fn mark_dirty(&self, wtxn: &mut RwTxn, id: u64) -> Result<()> {
        self.dirty
            .put(wtxn, &id.to_be_bytes(), &[])
            .context(|| format!("marking version {id} dirty"))
    }

    pub fn dirty_ids(&self, txn: &RoTxn) -> Result<Vec<u64>> {
        self.ids_with_prefix(txn, self.dirty, &[])
    }

    pub fn dirty_count(&self, txn: &RoTxn) -> Result<u64> {
        self.dirty.len(txn).context(|| "counting dirty ids".into())
    }

    /// The createtxg of the snapshot `dataset`'s stored fingerprints describe.
    fn objects_as_of(&self, txn: &RoTxn, dataset: u64) -> Result<Option<u64>> {
        self.objects
            .get(txn, &key2(dataset, OBJECTS_AS_OF))
            .context(|| format!("reading object fingerprints of dataset {dataset}"))?
            .map(|value| u64_at(value, 0))
            .transpose()
    }

    /// The stored fingerprints of `objects` of `dataset`, if they describe the snapshot
    /// `as_of` (all `None` otherwise).
    pub fn object_fingerprints(
        &self,
        txn: &RoTxn,
        dataset: u64,
        as_of: u64,
        objects: &[u64],
    ) -> Result<Vec<Option<u64>>> {
        let context = || format!("reading object fingerprints of dataset {dataset}");
        if self.objects_as_of(txn, dataset)? != Some(as_of) {
            return Ok(vec![None; objects.len()]);
        }
        objects
            .iter()
            .map(|object| {
                self.objects
                    .get(txn, &key2(dataset, *object))
                    .context(context)?
                    .map(|value| u64_at(value, 0))
                    .transpose()
            })
            .collect()
    }

    /// Moves `dataset`'s fingerprints from snapshot `base` to `as_of`: sets `fingerprints`,
    /// drops the `freed` ranges (first, count). Fingerprints that described another snapshot
    /// than `base` are dropped first (they could hide a change).
    pub fn update_object_fingerprints(
        &self,
        wtxn: &mut RwTxn,
        dataset: u64,
        base: u64,
        as_of: u64,
        fingerprints: &[(u64, u64)],
        freed: &[(u64, u64)],
    ) -> Result<()> {
        let context = || format!("storing object fingerprints of dataset {dataset}");
        let stored_as_of = self.objects_as_of(wtxn, dataset)?;
        let mut drop = |first: u64, end: u64| -> Result<()> {
            let range = key2(dataset, first)..key2(dataset, end);
            let range = (
                std::ops::Bound::Included(&range.start[..]),
                std::ops::Bound::Excluded(&range.end[..]),
            );
            self.objects.delete_range(wtxn, &range).context(context)?;
            Ok(())
        };
        if stored_as_of != Some(base) {
            drop(0, OBJECTS_AS_OF)?;
        }
        for &(first, count) in freed {
            // Saturating at `OBJECTS_AS_OF`, which the excluded end keeps.
            drop(first, first.saturating_add(count))?;
        }
        for (object, fingerprint) in fingerprints {
            self.objects
                .put(wtxn, &key2(dataset, *object), &fingerprint.to_be_bytes())
                .context(context)?;
        }
        self.objects
            .put(wtxn, &key2(dataset, OBJECTS_AS_OF), &as_of.to_be_bytes())
            .context(context)
    }

    pub fn clear_dirty(&self, wtxn: &mut RwTxn, ids: &[u64]) -> Result<()> {
        for id in ids {
            self.dirty
                .delete(wtxn, &id.to_be_bytes())
                .context(|| format!("clearing dirty version {id}"))?;
        }
        Ok(())
    }
}

fn decode_dataset(guid: u64, value: &[u8]) -> Result<DatasetInfo> {
    let (&included, name) = value
        .split_first()
        .ok_or_else(|| IndexError::Corrupt(format!("dataset {guid}: empty record")))?;
    Ok(DatasetInfo {
        guid,
        name: String::from_utf8(name.to_vec())
            .map_err(|_| IndexError::Corrupt(format!("dataset {guid}: name is not UTF-8")))?,
        included: included == 1,
    })
}

/// A snapshot's record: its guid, its short name, then — once recorded — a NUL (never in a
/// name) and the identity's objset id and creation time. Records written before identities
/// existed end after the name.
fn encode_snapshot(snapshot: &IndexedSnapshot) -> Vec<u8> {
    let mut value = snapshot.guid.to_be_bytes().to_vec();
    value.extend_from_slice(snapshot.name.as_bytes());
    if let Some(identity) = &snapshot.identity {
        value.push(0);
        value.extend_from_slice(&identity.objsetid.to_be_bytes());
        value.extend_from_slice(&identity.creation.to_be_bytes());
    }
    value
}

fn decode_snapshot(key: &[u8], value: &[u8]) -> Result<IndexedSnapshot> {
    let rest = value.get(8..).unwrap_or_default();
    let (name, identity) = match rest.iter().position(|byte| *byte == 0) {
        None => (rest, None),
        Some(end) => (
            &rest[..end],
            Some(SnapshotIdentity {
                objsetid: u64_at(rest, end + 1)?,
                creation: u64_at(rest, end + 9)?.cast_signed(),
            }),
        ),
    };
    Ok(IndexedSnapshot {
        createtxg: u64_at(key, 8)?,
        guid: u64_at(value, 0)?,
        name: String::from_utf8(name.to_vec())
            .map_err(|_| IndexError::Corrupt("snapshot name is not UTF-8".into()))?,
        identity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let record = VersionRecord {
            dataset: 7,
            directory: 9,
            version: StoredVersion {
                id: 42,
                path: RelativePath::new(b"a/\xff\n/x").unwrap(),
                signature: Signature {
                    kind: EntryKind::Symlink,
                    size: u64::MAX,
                    modified: FileTime {
                        seconds: -5,
                        nanoseconds: 999_999_999,
                    },
                    inode: 3,
                },
                birth: 10,
                death: Some(u64::MAX),
            },
        };
        assert_eq!(decode_record(42, &encode_record(&record)).unwrap(), record);
        let open = VersionRecord {
            version: StoredVersion {
                death: None,
                ..record.version.clone()
            },
            ..record
        };
        assert_eq!(decode_record(42, &encode_record(&open)).unwrap(), open);
        assert!(decode_record(1, b"short").is_err());
    }
}
