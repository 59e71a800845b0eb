//! What the VM harness gives a platform test: the pools it created on the VM's extra disks
//! (`WIZFS_TEST_POOL`, `WIZFS_TEST_POOL2`) and where the built binaries are
//! (`WIZFS_BIN_DIR`). Platform tests only run when built with the `vm` feature, and then
//! they fail loudly — never skip — if the environment is missing.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use wizfs_core::{DatasetName, PoolName};

/// The environment of a platform test inside the VM.
#[derive(Debug, Clone)]
pub struct VmEnvironment {
    /// A mirror pool for the test's datasets.
    pub pool: PoolName,
    /// A second pool, the target of send/receive.
    pub second_pool: PoolName,
    /// Where `wizfs` and `wizfsd` are.
    pub bin_dir: PathBuf,
}

fn required(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!("{variable} is not set: platform tests run inside the test VM through tests/vm/run")
    })
}

impl VmEnvironment {
    pub fn from_env() -> Self {
        let pool =
            PoolName::new(&required("WIZFS_TEST_POOL")).expect("WIZFS_TEST_POOL is a pool name");
        let second_pool =
            PoolName::new(&required("WIZFS_TEST_POOL2")).expect("WIZFS_TEST_POOL2 is a pool name");
        Self {
            pool,
            second_pool,
            bin_dir: PathBuf::from(required("WIZFS_BIN_DIR")),
        }
    }

    /// A dataset name under `pool` unique to this process and call, e.g. `wzt/holds-3-17`.
    pub fn unique_dataset(&self, pool: &PoolName, label: &str) -> DatasetName {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let serial = COUNTER.fetch_add(1, Ordering::Relaxed);
        DatasetName::from(pool.clone())
            .child(&format!("{label}-{}-{serial}", std::process::id()))
            .expect("valid test dataset name")
    }
}

/// Runs `words` (program and arguments, no shell) and returns its standard output; panics with
/// both outputs when it fails.
pub fn run(words: &[&str]) -> String {
    let output = Command::new(words[0])
        .args(&words[1..])
        .output()
        .unwrap_or_else(|error| panic!("{}: {error}", words[0]));
    assert!(
        output.status.success(),
        "{words:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
