//! The one place where WiZFS chooses between real and fake system adapters. Everything else
//! receives them as `Arc<dyn Trait>`.

use std::sync::Arc;

use anyhow::Context;
use wizfs_indexer::MethodPolicy;
use wizfs_zfs::{CliZfs, FakeZfs, Zfs};

use crate::config::{IndexMethod, ZfsBackend};

/// The ZFS implementation the configuration asks for.
pub fn zfs(backend: &ZfsBackend) -> anyhow::Result<Arc<dyn Zfs>> {
    Ok(match backend {
        ZfsBackend::Real => Arc::new(CliZfs::default()),
        ZfsBackend::Fake { root } => {
            std::fs::create_dir_all(root)
                .with_context(|| format!("creating the fake ZFS root {}", root.display()))?;
            let fake = FakeZfs::open(root)
                .with_context(|| format!("opening the fake ZFS at {}", root.display()))?;
            Arc::new(fake)
        }
    })
}

/// Where SMART data comes from: `smartctl` on real ZFS; on the fake backend the captured
/// `smartctl --json` outputs in `<root>/.smartctl/` (a name no pool can have), seeded with
/// the two NVMe disks of the test VM so the demo shows disks.
pub fn smart_source(
    backend: &ZfsBackend,
) -> anyhow::Result<Arc<dyn wizfs_health::smart::SmartSource>> {
    Ok(match backend {
        ZfsBackend::Real => Arc::new(wizfs_health::smart::SmartctlCli::default()),
        ZfsBackend::Fake { root } => {
            let directory = root.join(".smartctl");
            let source = crate::health::fixtures::FixtureSmartSource::seeded(&directory)
                .with_context(|| {
                    format!("creating the fake SMART data in {}", directory.display())
                })?;
            Arc::new(source)
        }
    })
}

/// How the indexer compares snapshots on `backend`: as configured on real ZFS; always by
/// `zfs diff` on the fake, whose snapshot trees are copies with inode numbers of their own
/// (a metadata walk would see every file as replaced).
pub fn index_method(backend: &ZfsBackend, configured: IndexMethod) -> MethodPolicy {
    match (backend, configured) {
        (ZfsBackend::Fake { .. }, _) | (ZfsBackend::Real, IndexMethod::Diff) => MethodPolicy::Diff,
        (ZfsBackend::Real, IndexMethod::Adaptive) => MethodPolicy::Adaptive,
        (ZfsBackend::Real, IndexMethod::Walk) => MethodPolicy::Walk,
        (ZfsBackend::Real, IndexMethod::Objects) => MethodPolicy::Objects,
    }
}
