//! The one place where WiZFS chooses between real and fake system adapters. Everything else
//! receives them as `Arc<dyn Trait>`.

use std::sync::Arc;

use anyhow::Context;
use wizfs_zfs::{CliZfs, FakeZfs, Zfs};

use crate::config::ZfsBackend;

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
