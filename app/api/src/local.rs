//! Views of what the CLI shows without the daemon's REST API: the consoles found on the LAN
//! (`wizfs discover`) and a path's versions as the index knows them
//! (`wizfs versions --indexed`).

use serde::{Deserialize, Serialize};

/// A WiZFS console that answered on the LAN (mDNS `_wizfs._tcp`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleView {
    pub instance: String,
    pub hostname: String,
    pub addresses: Vec<String>,
    pub port: u16,
    pub https: bool,
    pub version: String,
    pub path: String,
    pub url: String,
}

/// One version of a path in the index: a stretch of snapshots where it is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedVersionView {
    pub kind: String,
    pub size: u64,
    pub modified_unix: i64,
    /// The snapshots holding this version, oldest first.
    pub snapshots: Vec<String>,
    /// Identical snapshots beyond the first.
    pub folded_snapshots: usize,
    /// Whether it is the live file.
    pub live: bool,
}
