//! Backup jobs as `/api/v1/backups…` and `wizfs --json backup …` present them: each
//! configured job (its sources, target, schedule), its last run and last good backup, and
//! the record of every run; with the request that runs a job now.

use serde::{Deserialize, Serialize};

/// One configured backup job and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupJobView {
    pub id: String,
    /// Its source datasets, `tank/home (and its children, but tank/home/scratch)`.
    pub sources: Vec<String>,
    /// `pool`, `ssh`, `files`, `s3` or `rotating-disks`.
    pub target_kind: String,
    /// Where it writes, for a person (`backup/wizfs`, `/media/usb1/wizfs`).
    pub target: String,
    /// `manual`, `hourly`, `every 15 minutes`, …
    pub schedule: String,
    /// Whether a run is under way now.
    pub running: bool,
    /// Whether the schedule wants a run now (never for a manual job).
    pub due: bool,
    /// The last run, finished.
    pub last_run: Option<BackupRunView>,
    /// When the last run that succeeded finished (the last good backup).
    pub last_success: Option<String>,
}

/// What one run of a job did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRunView {
    pub job: String,
    pub started: String,
    pub finished: String,
    /// `manual` (a person asked) or `scheduled`.
    pub trigger: String,
    /// Every dataset sent what it had to and nothing failed.
    pub succeeded: bool,
    /// Bytes sent in all.
    pub bytes: u64,
    /// Per source dataset, what happened (`tank/home: incremental @a → @b, 1.2 MB`).
    pub datasets: Vec<String>,
    /// Why it failed or what went wrong on the way.
    pub errors: Vec<String>,
}

/// `GET /api/v1/backups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupsView {
    pub jobs: Vec<BackupJobView>,
}

/// `POST /api/v1/backups/run`: run one job now. `GET /api/v1/backups/runs`: its runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BackupJobQuery {
    pub job: String,
}
