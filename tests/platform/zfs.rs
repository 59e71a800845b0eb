//! Platform tests of [`CliZfs`] on real OpenZFS, run inside the test VM by `tests/vm/run`
//! (built only with the `vm` feature). The shared conformance suite runs here against the
//! real pools the harness created; the tests below it cover what only real ZFS can show.

use std::process::Command;
use std::sync::Arc;

use wizfs_core::{DatasetName, SnapshotName};
use wizfs_tests::conformance::Sandbox;
use wizfs_tests::vm::VmEnvironment;
use wizfs_zfs::{CliZfs, DestroyOptions, Scope, Zfs};

/// Destroys the sandbox's datasets when the test ends, pass or fail.
struct Cleanup {
    zfs: Arc<dyn Zfs>,
    datasets: Vec<DatasetName>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for dataset in &self.datasets {
            // Release any holds the test left, then destroy everything below.
            let _ = Command::new("zfs")
                .args(["destroy", "-r", "-f", dataset.as_str()])
                .status();
        }
        let _ = &self.zfs;
    }
}

fn real_sandbox(label: &str) -> Sandbox {
    let environment = VmEnvironment::from_env();
    let zfs: Arc<dyn Zfs> = Arc::new(CliZfs::default());
    let label = label.replace('_', "-");
    let parent = environment.unique_dataset(&environment.pool, &label);
    let receive_parent = environment.unique_dataset(&environment.second_pool, &label);
    zfs.create_filesystem(&parent, &[]).expect("parent");
    zfs.create_filesystem(&receive_parent, &[])
        .expect("receive parent");
    // The cleanup guard is leaked into a thread-local list would be overkill: the harness
    // destroys both pools after the run, so a failed test cannot leak into another run.
    Sandbox {
        zfs,
        parent,
        receive_parent,
    }
}

wizfs_tests::conformance_tests!(real_sandbox);

fn zfs() -> Arc<dyn Zfs> {
    Arc::new(CliZfs::default())
}

#[test]
fn reports_the_openzfs_version() {
    let version = zfs().version().expect("zfs version");
    let (major, minor, _) = version.userland_semver().expect("a numeric version");
    assert!(major == 2 && minor >= 1, "{version:?}");
    assert!(
        version.kernel.is_some(),
        "the kernel module is loaded: {version:?}"
    );
    println!(
        "OpenZFS userland {} / kernel {:?}",
        version.userland, version.kernel
    );
}

#[test]
fn dataset_names_with_spaces_reach_zfs_as_one_argument() {
    let environment = VmEnvironment::from_env();
    let zfs = zfs();
    let parent = environment.unique_dataset(&environment.pool, "spaces");
    zfs.create_filesystem(&parent, &[]).expect("parent");
    let _cleanup = Cleanup {
        zfs: zfs.clone(),
        datasets: vec![parent.clone()],
    };
    let spaced = parent.child("my documents").expect("name");
    zfs.create_filesystem(&spaced, &[])
        .expect("create with a space");
    let snapshot = spaced.snapshot("before edit").expect("name");
    zfs.create_snapshots(std::slice::from_ref(&snapshot), false, &[])
        .expect("snapshot");
    let listed = zfs.list_snapshots(&spaced, Scope::Dataset).expect("list");
    assert_eq!(listed[0].name, snapshot);
    zfs.destroy_snapshots(&[snapshot], DestroyOptions::default())
        .expect("destroy");
}

/// Bad names never reach ZFS: the CLI refuses them with a clear message, exit status 2, and
/// `zpool history` of a pool no other test touches shows that no command ran.
#[test]
fn bad_names_are_rejected_before_any_command_runs() {
    let environment = VmEnvironment::from_env();
    let pool = format!("wznames{}", std::process::id());
    let vdev = format!("/tmp/{pool}.img");
    std::fs::File::create(&vdev)
        .and_then(|file| file.set_len(128 << 20))
        .expect("vdev file");
    let created = Command::new("zpool")
        .args(["create", &pool, &vdev])
        .status()
        .expect("zpool create");
    assert!(created.success());
    let history = || {
        let output = Command::new("zpool")
            .args(["history", &pool])
            .output()
            .expect("history");
        String::from_utf8_lossy(&output.stdout).lines().count()
    };
    let before = history();
    let wizfs = environment.bin_dir.join("wizfs");
    let bad_names = [
        format!("{pool}/a@@b"),
        format!("{pool}/../etc@x"),
        format!("{pool}/a@-rf"),
        format!("{pool}/a@x#y"),
        format!("{pool}/a@"),
        format!("{pool}/a\n@x"),
        format!("{pool}/a;reboot@x"),
        format!("{pool}/{}@x", "n".repeat(300)),
        "-o@x".to_owned(),
    ];
    for bad in &bad_names {
        let output = Command::new(&wizfs)
            .args(["snapshot", "create", "--", bad])
            .output()
            .expect("run wizfs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{bad:?}: {stderr}");
        assert!(
            stderr.contains("name"),
            "{bad:?} gives a clear message: {stderr}"
        );
        assert!(SnapshotName::new(bad).is_err());
    }
    let after = history();
    let destroyed = Command::new("zpool")
        .args(["destroy", &pool])
        .status()
        .expect("zpool destroy");
    let _ = std::fs::remove_file(&vdev);
    assert_eq!(after, before, "no zfs command reached the pool");
    assert!(destroyed.success());
}
