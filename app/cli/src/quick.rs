//! Quick answers for `wizfs versions` and `wizfs search --under`, without a `zfs` process
//! (each costs ~0.1–0.2 s under TCG, more than the rest of the command): the dataset holding
//! a path from the kernel's mount table, whether the index is current for it from the
//! snapshots its `.zfs/snapshot` lists (names and objset ids, one directory read, nothing
//! mounted) against the indexed ones, and the versions from the index catalogue alone.
//! Whenever something does not match or cannot be read — no index, snapdir disabled, not
//! ZFS, a snapshot made, destroyed, renamed or made again under its name since the index saw
//! it, a directory or symlink on the path — each function answers `None` and the caller
//! takes the exact path through `zfs list`: correctness before speed.

use std::path::Path;

use wizfs_api::FileVersionView;
use wizfs_core::{RelativePath, Timestamp};
use wizfs_index::CatalogueReader;
use wizfs_restore::SafeRoot;
use wizfs_zfs::mounts::{self, ZfsMount};

use crate::context::Located;

/// The mounted dataset holding `absolute` by the kernel's mount table: the ZFS filesystem
/// mounted whole at the longest mountpoint above it. `None` when none is, when the path
/// is not one a request may name, or when the table is ambiguous there (the dataset mounted
/// twice, as by a bind mount, or two filesystems at one mountpoint) — then `zfs list` decides.
pub fn locate(absolute: &Path) -> Option<Located> {
    locate_in(&mounts::mounted_filesystems().ok()?, absolute)
}

fn locate_in(mounted: &[ZfsMount], absolute: &Path) -> Option<Located> {
    if !absolute.is_absolute() {
        return None;
    }
    let (found, mountpoint, path) = wizfs_recovery::locate_in_mounts(
        mounted
            .iter()
            .map(|mount| (mount, mount.mountpoint.as_path())),
        absolute,
    )?;
    let ambiguous = mounted
        .iter()
        .filter(|mount| mount.dataset == found.dataset || mount.mountpoint == mountpoint)
        .count()
        > 1;
    if ambiguous {
        return None;
    }
    Some(Located {
        dataset: found.dataset.clone(),
        mountpoint: mountpoint.to_owned(),
        path: path.ok()?,
    })
}

/// The unique versions of the file at `location` (by metadata) from the index in
/// `data_dir`, when the snapshots `.zfs/snapshot` lists are exactly the indexed ones (by
/// name and objset id; see [`CatalogueReader::current_versions`]) and the file is a regular
/// file in every version and live — the answer `wizfs versions` gives through `zfs list`
/// (`Services::versions`, which compares guids instead). The live file is looked at now.
///
/// A snapshot destroyed and made again under its name has another objset id (the pool's
/// MOS gives it a new object); OpenZFS reuses freed object numbers only after many frees
/// (`dmu_rescan_dnode_threshold`), lowest first, so a snapshot re-made under the same name
/// that also got the old snapshot's number is not ruled out by this check alone — it would
/// take both at once.
pub fn versions(data_dir: &Path, location: &Located) -> Option<Vec<FileVersionView>> {
    let seen: Vec<(String, u64)> = mounts::snapshot_entries(&location.mountpoint)
        .ok()?
        .into_iter()
        .map(|entry| (entry.name, entry.objsetid))
        .collect();
    let current = {
        let reader = CatalogueReader::open(&data_dir.join("index")).ok()?;
        reader
            .current_versions(location.dataset.as_str(), &seen, &location.path)
            .ok()??
    };
    let live = live_entry(&location.mountpoint, &location.path)?;
    let snapshots = current
        .snapshots
        .iter()
        .map(|snapshot| {
            Some((
                location.dataset.snapshot(&snapshot.name).ok()?,
                snapshot.createtxg,
                Timestamp(snapshot.identity?.creation),
            ))
        })
        .collect::<Option<Vec<_>>>()?;
    let versions = wizfs_index::fold_versions(&snapshots, &current.versions, live)?;
    Some(versions.iter().map(FileVersionView::from).collect())
}

/// The live entry as `Recovery::stat` sees it (`None` inside: absent, or behind a symlink);
/// `None` outside when it cannot be looked at here.
fn live_entry(mountpoint: &Path, path: &RelativePath) -> Option<Option<wizfs_core::EntryMetadata>> {
    let root = SafeRoot::open_live(mountpoint).ok()?;
    Some(root.lookup(path).ok()?.present())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use wizfs_core::DatasetName;

    use super::*;

    fn mount(dataset: &str, mountpoint: &str) -> ZfsMount {
        ZfsMount {
            dataset: DatasetName::new(dataset).unwrap(),
            mountpoint: PathBuf::from(mountpoint),
        }
    }

    #[test]
    fn the_deepest_mount_holds_a_path_unless_the_table_is_ambiguous() {
        let table = [mount("tank", "/tank"), mount("tank/home", "/tank/home")];
        let found = locate_in(&table, Path::new("/tank/home/a/b.txt")).unwrap();
        assert_eq!(found.dataset.as_str(), "tank/home");
        assert_eq!(found.mountpoint, Path::new("/tank/home"));
        assert_eq!(found.path.as_bytes(), b"a/b.txt");
        assert_eq!(
            locate_in(&table, Path::new("/tank/homework"))
                .unwrap()
                .dataset
                .as_str(),
            "tank"
        );
        assert!(locate_in(&table, Path::new("/elsewhere")).is_none());
        assert!(locate_in(&table, Path::new("tank/home")).is_none());
        let bound = [
            mount("tank/home", "/tank/home"),
            mount("tank/home", "/srv/home"),
        ];
        assert!(locate_in(&bound, Path::new("/tank/home/x")).is_none());
        let stacked = [mount("tank/a", "/data"), mount("tank/b", "/data")];
        assert!(locate_in(&stacked, Path::new("/data/x")).is_none());
    }
}
