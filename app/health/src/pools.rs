//! Pool health rules: a pure function from what `zpool status` says about one pool (as the
//! plain [`PoolStatus`] of `wizfs-core`, filled by `Zfs::pool_status` of `wizfs-zfs`) to findings: pool and
//! vdev state, read/write/checksum error counters, permanent data errors, capacity,
//! fragmentation, and the last scrub (its errors and its age).

use serde::{Deserialize, Serialize};
use wizfs_core::model::PoolHealth;

use crate::Timestamp;
use crate::finding::{Finding, FindingKind, Severity, Subject};
use crate::smart::rules::Limits;

const DAY_SECONDS: i64 = 24 * 60 * 60;

pub use wizfs_core::model::{PoolStatus, ScanFunction, ScanState, ScrubInfo, Vdev};

/// `[pools]` of the health configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoolThresholds {
    /// Percent of the pool allocated.
    pub capacity_percent: Limits<u8>,
    /// ZFS's free-space fragmentation metric.
    pub fragmentation_percent: Limits<u8>,
    /// Read + write + checksum errors of one vdev.
    pub vdev_errors: Limits<u64>,
    /// Days since the last completed scrub.
    pub scrub_age_days: Limits<u32>,
}

impl Default for PoolThresholds {
    fn default() -> Self {
        PoolThresholds {
            capacity_percent: Limits::new(Some(80), Some(90)),
            fragmentation_percent: Limits::new(Some(80), None),
            vdev_errors: Limits::new(Some(1), None),
            scrub_age_days: Limits::new(Some(35), None),
        }
    }
}

/// Evaluates every pool rule for one pool.
pub fn evaluate_pool(
    pool: &PoolStatus,
    thresholds: &PoolThresholds,
    now: Timestamp,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let pool_subject = Subject::Pool {
        pool: pool.name.clone(),
    };
    if let Some((severity, meaning)) = pool_state_severity(&pool.state) {
        findings.push(Finding::new(
            pool_subject.clone(),
            FindingKind::PoolState,
            severity,
            format!("pool is {}: {meaning}", state_word(&pool.state)),
        ));
    }
    for vdev in &pool.vdevs {
        vdev_findings(&pool.name, vdev, thresholds, &mut findings);
    }
    if let Some(errors) = pool.data_errors.filter(|errors| *errors > 0) {
        findings.push(Finding::new(
            pool_subject.clone(),
            FindingKind::ScrubErrors,
            Severity::Critical,
            format!(
                "{errors} permanent data errors (see `zpool status -v {}`)",
                pool.name
            ),
        ));
    } else if let Some(scrub) = &pool.scrub
        && scrub.errors > 0
        && scrub.state == ScanState::Finished
    {
        findings.push(Finding::new(
            pool_subject.clone(),
            FindingKind::ScrubErrors,
            Severity::Critical,
            format!(
                "the last {} ended with {} unrepaired errors",
                function_word(scrub.function),
                scrub.errors
            ),
        ));
    }
    let percent_rules = [
        (
            pool.capacity_percent,
            &thresholds.capacity_percent,
            FindingKind::PoolCapacity,
            "full",
        ),
        (
            pool.fragmentation_percent,
            &thresholds.fragmentation_percent,
            FindingKind::PoolFragmentation,
            "free space fragmented",
        ),
    ];
    for (value, limits, kind, what) in percent_rules {
        if let Some(percent) = value
            && let Some(severity) = limits.severity(percent)
        {
            findings.push(Finding::new(
                pool_subject.clone(),
                kind,
                severity,
                format!("{percent}% {what}"),
            ));
        }
    }
    if let Some(finding) = scrub_age(pool, thresholds, now) {
        findings.push(finding);
    }
    findings
}

fn state_word(state: &PoolHealth) -> String {
    match state {
        PoolHealth::Online => "ONLINE".into(),
        PoolHealth::Degraded => "DEGRADED".into(),
        PoolHealth::Faulted => "FAULTED".into(),
        PoolHealth::Offline => "OFFLINE".into(),
        PoolHealth::Unavail => "UNAVAIL".into(),
        PoolHealth::Removed => "REMOVED".into(),
        PoolHealth::Suspended => "SUSPENDED".into(),
        PoolHealth::Unknown(word) => word.clone(),
    }
}

/// A pool that is not ONLINE: DEGRADED has lost redundancy (one more failure can lose data),
/// the others cannot serve all data.
fn pool_state_severity(state: &PoolHealth) -> Option<(Severity, &'static str)> {
    match state {
        PoolHealth::Online => None,
        PoolHealth::Degraded => Some((
            Severity::Critical,
            "a device failed or is offline and redundancy is reduced",
        )),
        PoolHealth::Faulted | PoolHealth::Unavail => {
            Some((Severity::Critical, "data is not accessible"))
        }
        PoolHealth::Suspended => Some((Severity::Critical, "I/O is suspended after failures")),
        PoolHealth::Removed | PoolHealth::Offline => {
            Some((Severity::Critical, "the pool's devices are gone"))
        }
        PoolHealth::Unknown(_) => Some((Severity::Warning, "unrecognised state")),
    }
}

/// A vdev that is not ONLINE. OFFLINE is usually the administrator's doing: a warning (the
/// pool's DEGRADED state is the critical finding); group headers without a state and spares
/// waiting (`AVAIL`) are fine, and a spare in use is information.
fn vdev_state_severity(state: &PoolHealth) -> Option<Severity> {
    match state {
        PoolHealth::Online => None,
        PoolHealth::Offline => Some(Severity::Warning),
        PoolHealth::Degraded => Some(Severity::Warning),
        PoolHealth::Faulted | PoolHealth::Unavail | PoolHealth::Removed | PoolHealth::Suspended => {
            Some(Severity::Critical)
        }
        // Group headers (`logs`, `cache`, `spares`) have no state; waiting spares are fine.
        PoolHealth::Unknown(word) if word.is_empty() || word.eq_ignore_ascii_case("AVAIL") => None,
        PoolHealth::Unknown(word) if word.eq_ignore_ascii_case("INUSE") => Some(Severity::Info),
        PoolHealth::Unknown(_) => Some(Severity::Warning),
    }
}

fn vdev_findings(
    pool: &str,
    vdev: &Vdev,
    thresholds: &PoolThresholds,
    findings: &mut Vec<Finding>,
) {
    let subject = Subject::Vdev {
        pool: pool.to_owned(),
        vdev: vdev.name.clone(),
    };
    if let Some(severity) = vdev_state_severity(&vdev.state) {
        findings.push(Finding::new(
            subject.clone(),
            FindingKind::VdevState,
            severity,
            format!("{} is {}", vdev.name, state_word(&vdev.state)),
        ));
    }
    let total = vdev
        .read_errors
        .saturating_add(vdev.write_errors)
        .saturating_add(vdev.checksum_errors);
    if let Some(severity) = thresholds.vdev_errors.severity(total) {
        findings.push(Finding::new(
            subject,
            FindingKind::VdevErrors,
            severity,
            format!(
                "{} has {} read, {} write and {} checksum errors",
                vdev.name, vdev.read_errors, vdev.write_errors, vdev.checksum_errors
            ),
        ));
    }
    for child in &vdev.children {
        vdev_findings(pool, child, thresholds, findings);
    }
}

fn function_word(function: ScanFunction) -> &'static str {
    match function {
        ScanFunction::Scrub => "scrub",
        ScanFunction::Resilver => "resilver",
    }
}

fn scrub_age(pool: &PoolStatus, thresholds: &PoolThresholds, now: Timestamp) -> Option<Finding> {
    let subject = Subject::Pool {
        pool: pool.name.clone(),
    };
    let overdue = |severity, message: String| {
        Some(Finding::new(
            subject.clone(),
            FindingKind::ScrubOverdue,
            severity,
            message,
        ))
    };
    let Some(scrub) = &pool.scrub else {
        return overdue(Severity::Info, "the pool has never been scrubbed".into());
    };
    match (scrub.state, scrub.function) {
        (ScanState::Scanning, _) => None,
        // A resilver reads only what was missing: it is no scrub.
        (_, ScanFunction::Resilver) => None,
        (ScanState::Canceled, ScanFunction::Scrub) => overdue(
            Severity::Warning,
            "the last scrub was canceled before it finished".into(),
        ),
        (ScanState::Finished, ScanFunction::Scrub) => {
            let ended = scrub.ended.or(scrub.started)?;
            let days = now.seconds().saturating_sub(ended.seconds()) / DAY_SECONDS;
            let days = u32::try_from(days.max(0)).unwrap_or(u32::MAX);
            let severity = thresholds.scrub_age_days.severity(days)?;
            overdue(severity, format!("the last scrub finished {days} days ago"))
        }
    }
}

#[cfg(test)]
mod tests;
