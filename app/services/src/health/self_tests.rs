//! What the daemon needs around the pure self-test planner of `wizfs-health`: the log of
//! the tests it started (saved as `data_dir/health/self-tests.json`, so a restart does not
//! start them again), which pools each disk serves (the planner never tests a disk while
//! its pool scrubs), and which pools have a long test running.
//!
//! A disk and a vdev meet through their kernel names: smartctl's device path and the vdev
//! name of `zpool status` (`sdb`, `nvme0n1`, `wwn-0x…-part1`, `/dev/disk/by-id/…`) are both
//! resolved through `/dev` to a name like `sdb1` or `nvme0n1p1`, and [`holds_partition`]
//! (pure) says whether that is the disk itself, one of its partitions or, for an NVMe
//! controller, one of its namespaces.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use wizfs_health::pools::{PoolStatus, Vdev};
use wizfs_health::smart::DiskTestState;

use super::collect::DiskReading;

/// What WiZFS remembers of one disk's self-tests (Unix seconds).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SelfTestMemory {
    pub last_short: Option<i64>,
    pub last_long: Option<i64>,
    /// The disk refused a test: not before this time again.
    pub retry_after: Option<i64>,
}

/// The log, by disk identity token.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SelfTestLog {
    pub disks: BTreeMap<String, SelfTestMemory>,
}

/// Whether the block device `partition` (a kernel name such as `sdb1`) is the disk `disk`
/// (`sdb`, or the NVMe controller `nvme0`) or lies on it: the disk itself, a partition
/// (`sdb1`, `mmcblk0p2`), an NVMe namespace (`nvme0n1`) or a partition of one (`nvme0n1p1`).
pub fn holds_partition(disk: &str, partition: &str) -> bool {
    let Some(rest) = partition.strip_prefix(disk) else {
        return false;
    };
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit());
    let number_then = |text: &str, marker: char| -> Option<String> {
        let text = text.strip_prefix(marker)?;
        let end = text
            .find(|character: char| !character.is_ascii_digit())
            .unwrap_or(text.len());
        (end > 0).then(|| text[end..].to_owned())
    };
    if rest.is_empty() {
        return true;
    }
    // `sdb1`; after a name ending in a digit (`nvme1`, `loop1`) more digits name another
    // device (`nvme10`).
    if digits(rest) {
        return !disk.ends_with(|character: char| character.is_ascii_digit());
    }
    // `p2` after a name ending in a digit (mmcblk0p2).
    if number_then(rest, 'p').is_some_and(|after| after.is_empty()) {
        return true;
    }
    // `n1`, `n1p1` on an NVMe controller.
    match number_then(rest, 'n') {
        Some(after) => {
            after.is_empty() || number_then(&after, 'p').is_some_and(|end| end.is_empty())
        }
        None => false,
    }
}

/// The kernel name a device path or vdev name resolves to under `/dev`.
fn kernel_name(name: &str) -> Option<String> {
    let candidates: Vec<std::path::PathBuf> = if name.starts_with('/') {
        vec![Path::new(name).to_path_buf()]
    } else {
        [
            "/dev/disk/by-id",
            "/dev/disk/by-path",
            "/dev/disk/by-vdev",
            "/dev",
        ]
        .iter()
        .map(|directory| Path::new(directory).join(name))
        .collect()
    };
    candidates.iter().find_map(|path| {
        let resolved = std::fs::canonicalize(path).ok()?;
        Some(resolved.file_name()?.to_string_lossy().into_owned())
    })
}

fn leaf_names(vdevs: &[Vdev]) -> Vec<&str> {
    vdevs
        .iter()
        .flat_map(Vdev::walk)
        .filter(|vdev| vdev.children.is_empty())
        .map(|vdev| vdev.name.as_str())
        .collect()
}

/// For each device path of the scan, the pools with a vdev on it.
pub fn disk_pools(
    disks: &[DiskReading],
    pools: &[PoolStatus],
) -> BTreeMap<String, BTreeSet<String>> {
    let vdevs: Vec<(String, &str)> = pools
        .iter()
        .flat_map(|pool| {
            leaf_names(&pool.vdevs)
                .into_iter()
                .filter_map(kernel_name)
                .map(|kernel| (kernel, pool.name.as_str()))
                .collect::<Vec<_>>()
        })
        .collect();
    disks
        .iter()
        .filter_map(|reading| {
            let disk = kernel_name(&reading.device.name)?;
            let pools: BTreeSet<String> = vdevs
                .iter()
                .filter(|(vdev, _)| holds_partition(&disk, vdev))
                .map(|(_, pool)| (*pool).to_owned())
                .collect();
            Some((reading.device.name.clone(), pools))
        })
        .collect()
}

/// Pools with a disk running a test that WiZFS started as a long one and that has not
/// outlived a short one's day: those pools wait for their next long test.
pub fn pools_with_long_test(states: &[DiskTestState], log: &SelfTestLog) -> BTreeSet<String> {
    states
        .iter()
        .filter(|state| state.test_running)
        .filter(|state| {
            log.disks.get(&state.disk.token()).is_some_and(|entry| {
                entry.last_long.is_some() && entry.last_long >= entry.last_short
            })
        })
        .flat_map(|state| state.pools.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_namespaces_and_look_alikes() {
        let cases = [
            ("sdb", "sdb", true),
            ("sdb", "sdb1", true),
            ("sdb", "sdb12", true),
            ("sdb", "sdba", false),
            ("sdb", "sdba1", false),
            ("sda", "sdb1", false),
            ("nvme0", "nvme0n1", true),
            ("nvme0", "nvme0n1p3", true),
            ("nvme0n1", "nvme0n1p3", true),
            ("nvme1", "nvme10n1", false),
            ("nvme1", "nvme10", false),
            ("loop1", "loop10", false),
            ("nvme0", "nvme0n", false),
            ("nvme0", "nvme0n1p", false),
            ("mmcblk0", "mmcblk0p2", true),
            ("mmcblk0", "mmcblk0boot0", false),
            ("vdb", "vdb1", true),
            ("vd", "vdb", false),
        ];
        for (disk, partition, expected) in cases {
            assert_eq!(
                holds_partition(disk, partition),
                expected,
                "{disk} / {partition}"
            );
        }
    }

    #[test]
    fn a_running_long_test_blocks_its_pools() {
        let disk = wizfs_health::smart::DiskId::ModelSerial {
            model: "M".into(),
            serial: "1".into(),
        };
        let state = DiskTestState {
            disk: disk.clone(),
            last_short: None,
            last_long: None,
            test_running: true,
            sleeping: false,
            pools: ["tank".to_owned()].into(),
        };
        let mut log = SelfTestLog::default();
        assert!(pools_with_long_test(std::slice::from_ref(&state), &log).is_empty());
        log.disks.insert(
            disk.token(),
            SelfTestMemory {
                last_short: Some(10),
                last_long: Some(20),
                retry_after: None,
            },
        );
        assert_eq!(
            pools_with_long_test(std::slice::from_ref(&state), &log),
            ["tank".to_owned()].into()
        );
        log.disks.get_mut(&disk.token()).expect("entry").last_short = Some(30);
        assert!(pools_with_long_test(&[state], &log).is_empty());
    }
}
