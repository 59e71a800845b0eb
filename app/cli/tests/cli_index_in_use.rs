//! The `wizfs` binary next to a daemon that holds the search index: searches and indexed
//! versions still work (the CLI opens the index read-only and sees the daemon's last commit),
//! while indexing by hand is refused with a message saying who holds the index. Runs the real
//! binary in its own process, because one process cannot open the same index twice.

use std::path::Path;
use std::process::{Command, Output};

use wizfs_core::{DatasetName, PoolName};
use wizfs_index::IndexStore;
use wizfs_zfs::{FakeZfs, Zfs};

fn wizfs(root: &Path, arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wizfs"))
        .arg("--fake")
        .arg(root)
        .args(arguments)
        .env("LC_ALL", "C")
        .output()
        .expect("runs wizfs")
}

#[test]
fn search_works_while_another_process_holds_the_index() {
    let directory = tempfile::tempdir().expect("tempdir");
    let root = directory.path().join("fake");
    let zfs = FakeZfs::open(&root).expect("fake");
    zfs.create_pool(&PoolName::new("tank").unwrap(), 1 << 30)
        .expect("pool");
    let dataset = DatasetName::new("tank/home").unwrap();
    zfs.create_filesystem(&dataset, &[]).expect("dataset");
    let mountpoint = zfs.mountpoint(&dataset).expect("mountpoint");
    std::fs::write(mountpoint.join("quarterly-report.txt"), b"numbers").expect("write");
    zfs.create_snapshots(&[dataset.snapshot("s1").unwrap()], false, &[])
        .expect("snapshot");
    std::fs::remove_file(mountpoint.join("quarterly-report.txt")).expect("remove");

    let indexed = wizfs(&root, &["index"]);
    assert!(indexed.status.success(), "{indexed:?}");

    // The "daemon": this process opens the index for writing and keeps it.
    let held = IndexStore::open(&root.join(".wizfs/index")).expect("open for writing");
    assert!(!held.is_read_only());

    let found = wizfs(&root, &["--json", "search", "quarterly", "--deleted"]);
    assert!(found.status.success(), "{found:?}");
    let text = String::from_utf8_lossy(&found.stdout);
    assert!(text.contains("quarterly-report.txt"), "{text}");

    let refused = wizfs(&root, &["index"]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("already open"), "{message}");
    drop(held);

    let again = wizfs(&root, &["index"]);
    assert!(again.status.success(), "{again:?}");
}
