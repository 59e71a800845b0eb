//! The fake's persistent model: the serde records saved in `ROOT/.fakezfs/state.json`, the
//! snapshot manifests in `ROOT/.fakezfs/manifests/`, the directory layout, and the counters
//! that give out GUIDs, transaction groups and file ids. Saving is atomic (temporary file in
//! the same directory, fsync, rename, fsync of the directory), so a crash leaves either the old
//! or the new state, never a torn one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use wizfs_core::{DatasetName, SnapshotName};

use super::errors::{self, storage_error};
use super::header::BeginHeader;
use super::tree::{Entries, Entry, EntryKind, FileTime};
use crate::error::ZfsResult;

/// Version of `state.json` and manifest files this code writes and understands.
const FORMAT_VERSION: u32 = 1;

/// Name of the fake's own directory inside the root.
const META_DIRECTORY: &str = ".fakezfs";

/// Where everything is, below the root.
#[derive(Debug)]
pub(super) struct Layout {
    /// The canonical root directory.
    pub root: PathBuf,
    /// `ROOT/.fakezfs`.
    pub meta: PathBuf,
}

impl Layout {
    /// Creates the root and the fake's own directories if needed.
    pub fn prepare(root: PathBuf) -> ZfsResult<Layout> {
        fs::create_dir_all(&root).map_err(|error| storage_error(&root, error))?;
        let root = fs::canonicalize(&root).map_err(|error| storage_error(&root, error))?;
        let meta = root.join(META_DIRECTORY);
        let layout = Layout { root, meta };
        for directory in [layout.manifest_directory(), layout.receive_directory()] {
            fs::create_dir_all(&directory).map_err(|error| storage_error(&directory, error))?;
        }
        Ok(layout)
    }

    /// A file rewritten to read the filesystem's current time.
    pub fn clock_probe_file(&self) -> PathBuf {
        self.meta.join("clock-probe")
    }

    pub fn state_file(&self) -> PathBuf {
        self.meta.join("state.json")
    }

    fn manifest_directory(&self) -> PathBuf {
        self.meta.join("manifests")
    }

    pub fn manifest_file(&self, id: u64) -> PathBuf {
        self.manifest_directory().join(format!("{id}.json"))
    }

    pub fn receive_directory(&self) -> PathBuf {
        self.meta.join("receive")
    }

    /// The spool of an interrupted resumable receive.
    pub fn partial_spool_file(&self, id: u64) -> PathBuf {
        self.receive_directory().join(format!("partial-{id}.spool"))
    }

    /// A dataset's mountpoint: `ROOT/<name>`.
    pub fn mountpoint(&self, dataset: &DatasetName) -> PathBuf {
        self.root.join(dataset.as_str())
    }

    /// `<mountpoint>/.zfs/snapshot`.
    pub fn snapshot_parent(&self, dataset: &DatasetName) -> PathBuf {
        self.mountpoint(dataset).join(".zfs").join("snapshot")
    }
}

/// Everything `state.json` holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct State {
    pub format_version: u32,
    /// Seed of the GUID sequence (derived from the root path).
    pub guid_seed: u64,
    /// Source of GUIDs and file ids; only ever grows.
    pub counter: u64,
    pub pools: BTreeMap<String, PoolRecord>,
    /// Filesystems by full name.
    pub datasets: BTreeMap<String, DatasetRecord>,
    /// Interrupted resumable receives, by target dataset.
    #[serde(default)]
    pub partial_receives: BTreeMap<String, PartialReceive>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct PoolRecord {
    pub guid: u64,
    pub size_bytes: u64,
    /// The last transaction group used.
    pub txg: u64,
    /// When the last scrub ran (the fake's scrubs finish at once, finding nothing).
    #[serde(default)]
    pub last_scrub: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct DatasetRecord {
    pub guid: u64,
    pub createtxg: u64,
    pub creation: i64,
    /// Locally set properties (native and user), as strings.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// Oldest first (ascending `createtxg`).
    #[serde(default)]
    pub snapshots: Vec<SnapshotRecord>,
    #[serde(default)]
    pub bookmarks: Vec<BookmarkRecord>,
    /// `mounted` reads `no` (received with `-u`, or holding a partial receive).
    #[serde(default)]
    pub unmounted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct SnapshotRecord {
    pub short_name: String,
    pub guid: u64,
    pub createtxg: u64,
    pub creation: i64,
    /// Id of the manifest file recording the snapshot's entries.
    pub manifest: u64,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    #[serde(default)]
    pub holds: Vec<HoldRecord>,
    /// Marked by `zfs destroy -d` while held; destroyed when the last hold goes.
    #[serde(default)]
    pub defer_destroy: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct HoldRecord {
    pub tag: String,
    pub created: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct BookmarkRecord {
    pub short_name: String,
    pub guid: u64,
    pub createtxg: u64,
    pub creation: i64,
    /// The manifest of the snapshot it was made from (kept so it can be an incremental base).
    pub manifest: u64,
}

/// An interrupted resumable receive (`zfs receive -s`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct PartialReceive {
    /// The BEGIN record of the interrupted sub-stream.
    pub header: BeginHeader,
    /// Id of the spool file holding the complete records received so far.
    pub spool: u64,
    /// Bytes of the sub-stream received (the spool's length).
    pub bytes: u64,
    /// A full stream: the target dataset was created to hold the partial state and is
    /// destroyed if the receive is aborted.
    pub created_dataset: bool,
}

impl State {
    fn new(guid_seed: u64) -> State {
        State {
            format_version: FORMAT_VERSION,
            guid_seed,
            counter: 0,
            pools: BTreeMap::new(),
            datasets: BTreeMap::new(),
            partial_receives: BTreeMap::new(),
        }
    }

    /// A fresh id for files (manifests, spools).
    pub fn next_id(&mut self) -> u64 {
        self.counter = self.counter.wrapping_add(1);
        self.counter
    }

    /// A fresh GUID: unique within this root, never 0.
    pub fn new_guid(&mut self) -> u64 {
        loop {
            let id = self.next_id();
            let guid = splitmix64(self.guid_seed.wrapping_add(id.wrapping_mul(GOLDEN_GAMMA)));
            if guid != 0 {
                return guid;
            }
        }
    }

    /// Advances the pool's transaction group and returns the new one.
    pub fn next_txg(&mut self, pool: &str) -> u64 {
        match self.pools.get_mut(pool) {
            Some(record) => {
                record.txg = record.txg.saturating_add(1);
                record.txg
            }
            None => 1,
        }
    }

    pub fn dataset(&self, name: &DatasetName) -> ZfsResult<&DatasetRecord> {
        self.datasets
            .get(name.as_str())
            .ok_or_else(|| errors::dataset_not_found(name.as_str()))
    }

    pub fn dataset_mut(&mut self, name: &DatasetName) -> ZfsResult<&mut DatasetRecord> {
        self.datasets
            .get_mut(name.as_str())
            .ok_or_else(|| errors::dataset_not_found(name.as_str()))
    }

    /// A snapshot and its index in its dataset's list.
    pub fn snapshot(&self, name: &SnapshotName) -> ZfsResult<(usize, &SnapshotRecord)> {
        let dataset = self.dataset(name.dataset())?;
        dataset
            .snapshots
            .iter()
            .enumerate()
            .find(|(_, snapshot)| snapshot.short_name == name.short_name())
            .ok_or_else(|| errors::dataset_not_found(name.as_str()))
    }

    pub fn snapshot_mut(&mut self, name: &SnapshotName) -> ZfsResult<&mut SnapshotRecord> {
        let dataset = self.dataset_mut(name.dataset())?;
        dataset
            .snapshots
            .iter_mut()
            .find(|snapshot| snapshot.short_name == name.short_name())
            .ok_or_else(|| errors::dataset_not_found(name.as_str()))
    }

    /// All dataset names, validated, in `zfs list` order (parents before children).
    pub fn dataset_names(&self) -> Vec<DatasetName> {
        let mut names: Vec<DatasetName> = self
            .datasets
            .keys()
            .filter_map(|name| DatasetName::new(name).ok())
            .collect();
        names.sort();
        names
    }

    /// The descendants of `name` (not `name` itself), parents before children.
    pub fn descendants(&self, name: &DatasetName) -> Vec<DatasetName> {
        self.dataset_names()
            .into_iter()
            .filter(|candidate| candidate != name && candidate.is_same_or_descendant_of(name))
            .collect()
    }

    /// The last components of `name`'s direct children (their mountpoints inside `name`'s).
    pub fn child_components(&self, name: &DatasetName) -> BTreeSet<Vec<u8>> {
        self.dataset_names()
            .into_iter()
            .filter(|candidate| candidate.parent().as_ref() == Some(name))
            .map(|child| child.last_component().as_bytes().to_vec())
            .collect()
    }

    /// Whether any snapshot or bookmark still refers to manifest `id`.
    pub fn manifest_in_use(&self, id: u64) -> bool {
        self.datasets.values().any(|dataset| {
            dataset
                .snapshots
                .iter()
                .any(|snapshot| snapshot.manifest == id)
                || dataset
                    .bookmarks
                    .iter()
                    .any(|bookmark| bookmark.manifest == id)
        })
    }
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function: a bijection on `u64`, so distinct inputs give distinct
/// GUIDs.
fn splitmix64(input: u64) -> u64 {
    let mut z = input.wrapping_add(GOLDEN_GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, 64 bits: the seed of the GUID sequence and the checksum of send streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Fnv64(u64);

impl Fnv64 {
    pub fn new() -> Fnv64 {
        Fnv64(0xCBF2_9CE4_8422_2325)
    }

    pub fn update(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01B3);
        }
    }

    pub fn digest(self) -> u64 {
        self.0
    }
}

/// Loads `state.json`, or starts an empty state when there is none yet.
pub(super) fn load_state(layout: &Layout) -> ZfsResult<State> {
    let path = layout.state_file();
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let mut seed = Fnv64::new();
            seed.update(layout.root.as_os_str().as_bytes());
            return Ok(State::new(seed.digest()));
        }
        Err(error) => return Err(storage_error(&path, error)),
    };
    let state: State = serde_json::from_slice(&bytes)
        .map_err(|error| storage_error(&path, io::Error::new(io::ErrorKind::InvalidData, error)))?;
    if state.format_version != FORMAT_VERSION {
        let message = format!("unsupported state format version {}", state.format_version);
        return Err(storage_error(
            &path,
            io::Error::new(io::ErrorKind::InvalidData, message),
        ));
    }
    Ok(state)
}

/// Saves `state.json` atomically.
pub(super) fn save_state(layout: &Layout, state: &State) -> ZfsResult<()> {
    let path = layout.state_file();
    let bytes = serde_json::to_vec_pretty(state)
        .map_err(|error| storage_error(&path, io::Error::other(error)))?;
    write_atomically(&path, &bytes)
}

/// Replaces `path` by `bytes` so that readers see the old or the new content, never a mix.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> ZfsResult<()> {
    let directory = path.parent().unwrap_or(Path::new("."));
    let mut temporary_name = path
        .file_name()
        .map(|name| name.to_os_string())
        .unwrap_or_default();
    temporary_name.push(".tmp");
    let temporary = directory.join(temporary_name);
    let write = || -> io::Result<()> {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)?;
        File::open(directory)?.sync_all()
    };
    write().map_err(|error| storage_error(path, error))
}

/// Deletes spool files no receive can use any more: those of receives that were running when
/// the process stopped, and those of partial receives that no longer exist.
pub(super) fn remove_stale_spools(layout: &Layout, state: &State) -> ZfsResult<()> {
    let directory = layout.receive_directory();
    let kept: BTreeSet<PathBuf> = state
        .partial_receives
        .values()
        .map(|partial| layout.partial_spool_file(partial.spool))
        .collect();
    let listing = fs::read_dir(&directory).map_err(|error| storage_error(&directory, error))?;
    for item in listing {
        let item = item.map_err(|error| storage_error(&directory, error))?;
        let path = item.path();
        if !kept.contains(&path) {
            fs::remove_file(&path).map_err(|error| storage_error(&path, error))?;
        }
    }
    Ok(())
}

/// Loaded manifests by id (they are immutable except when a rollback rebases them).
#[derive(Debug, Default)]
pub(super) struct ManifestCache {
    loaded: HashMap<u64, Arc<Entries>>,
}

impl ManifestCache {
    pub fn load(&mut self, layout: &Layout, id: u64) -> ZfsResult<Arc<Entries>> {
        if let Some(entries) = self.loaded.get(&id) {
            return Ok(Arc::clone(entries));
        }
        let entries = Arc::new(read_manifest(&layout.manifest_file(id))?);
        self.loaded.insert(id, Arc::clone(&entries));
        Ok(entries)
    }

    pub fn store(&mut self, layout: &Layout, id: u64, entries: Entries) -> ZfsResult<Arc<Entries>> {
        write_manifest(&layout.manifest_file(id), &entries)?;
        let entries = Arc::new(entries);
        self.loaded.insert(id, Arc::clone(&entries));
        Ok(entries)
    }

    pub fn forget(&mut self, id: u64) {
        self.loaded.remove(&id);
    }

    pub fn clear(&mut self) {
        self.loaded.clear();
    }
}

/// A manifest file.
#[derive(Serialize, Deserialize)]
struct ManifestFile {
    format_version: u32,
    entries: Vec<ManifestEntry>,
}

/// One entry of a manifest; byte strings are stored escaped (see [`escape_bytes`]).
#[derive(Serialize, Deserialize)]
struct ManifestEntry {
    path: String,
    kind: EntryKind,
    inode: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    birth: Option<FileTime>,
    size: u64,
    mode: u32,
    mtime: FileTime,
    ctime: FileTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<String>,
}

fn write_manifest(path: &Path, entries: &Entries) -> ZfsResult<()> {
    let file = ManifestFile {
        format_version: FORMAT_VERSION,
        entries: entries
            .iter()
            .map(|(relative, entry)| ManifestEntry {
                path: escape_bytes(relative),
                kind: entry.kind,
                inode: entry.inode,
                birth: entry.birth,
                size: entry.size,
                mode: entry.mode,
                mtime: entry.mtime,
                ctime: entry.ctime,
                target: entry.link_target.as_deref().map(escape_bytes),
            })
            .collect(),
    };
    let bytes =
        serde_json::to_vec(&file).map_err(|error| storage_error(path, io::Error::other(error)))?;
    write_atomically(path, &bytes)
}

fn read_manifest(path: &Path) -> ZfsResult<Entries> {
    let invalid =
        |message: String| storage_error(path, io::Error::new(io::ErrorKind::InvalidData, message));
    let bytes = fs::read(path).map_err(|error| storage_error(path, error))?;
    let file: ManifestFile =
        serde_json::from_slice(&bytes).map_err(|error| invalid(error.to_string()))?;
    if file.format_version != FORMAT_VERSION {
        return Err(invalid(format!(
            "unsupported manifest format version {}",
            file.format_version
        )));
    }
    let mut entries = Entries::new();
    for entry in file.entries {
        let relative = unescape_bytes(&entry.path)
            .ok_or_else(|| invalid(format!("bad escaped path {:?}", entry.path)))?;
        let link_target = match entry.target {
            Some(target) => Some(
                unescape_bytes(&target)
                    .ok_or_else(|| invalid(format!("bad escaped symlink target {target:?}")))?,
            ),
            None => None,
        };
        entries.insert(
            relative,
            Entry {
                kind: entry.kind,
                inode: entry.inode,
                birth: entry.birth,
                size: entry.size,
                mode: entry.mode,
                mtime: entry.mtime,
                ctime: entry.ctime,
                link_target,
            },
        );
    }
    Ok(entries)
}

/// Escapes arbitrary bytes into readable JSON text: printable ASCII except `%` stays as is,
/// every other byte becomes `%XX`.
pub(super) fn escape_bytes(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for &byte in bytes {
        if (0x21..=0x7e).contains(&byte) && byte != b'%' {
            text.push(char::from(byte));
        } else {
            text.push_str(&format!("%{byte:02X}"));
        }
    }
    text
}

/// Reverses [`escape_bytes`]; `None` for malformed input.
pub(super) fn unescape_bytes(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let digits = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
            decoded.push(u8::from_str_radix(digits, 16).ok()?);
            index += 3;
        } else {
            decoded.push(byte);
            index += 1;
        }
    }
    Some(decoded)
}
