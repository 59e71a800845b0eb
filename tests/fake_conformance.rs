//! The [`wizfs_tests::conformance`] suite against [`FakeZfs`] on the host: proves the fake
//! behaves like the real OpenZFS the same suite runs against in the VM (`platform/zfs.rs`).

use std::sync::Arc;

use wizfs_core::{DatasetName, PoolName};
use wizfs_tests::conformance::Sandbox;
use wizfs_zfs::{FakeZfs, Zfs};

/// A fresh fake with pools `tank` and `backup`; the directory lives as long as the process
/// (leaked on purpose: tests may still read it while the sandbox is in use).
fn fake_sandbox(label: &str) -> Sandbox {
    let directory = tempfile::tempdir().expect("temporary directory");
    let fake = FakeZfs::open(directory.path()).expect("open fake");
    for pool in ["tank", "backup"] {
        fake.create_pool(&PoolName::new(pool).expect("pool name"), 8 << 30)
            .expect("create pool");
    }
    let zfs: Arc<dyn Zfs> = Arc::new(fake);
    let parent = DatasetName::new(&format!("tank/{label}")).expect("name");
    let receive_parent = DatasetName::new(&format!("backup/{label}")).expect("name");
    zfs.create_filesystem(&parent, &[]).expect("parent");
    zfs.create_filesystem(&receive_parent, &[])
        .expect("receive parent");
    std::mem::forget(directory);
    Sandbox {
        zfs,
        parent,
        receive_parent,
    }
}

wizfs_tests::conformance_tests!(fake_sandbox);
