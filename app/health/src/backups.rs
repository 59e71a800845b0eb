//! The health rules of backups: a job whose last run failed, and a job whose last good
//! backup is older than its limit (warning; critical past twice the limit). Pure: the daemon
//! passes each job's state and the time.

use crate::Timestamp;
use crate::finding::{Finding, FindingKind, Severity, Subject};

/// What the rules need to know of one backup job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupState {
    pub job: String,
    /// The last run's end and, when it failed, why (its first error).
    pub last_run: Option<(Timestamp, Option<String>)>,
    /// When the last run that succeeded ended.
    pub last_success: Option<Timestamp>,
    /// How old the last good backup may be (none: never overdue, a job run by hand).
    pub limit_seconds: Option<i64>,
}

/// The findings of every job.
pub fn backup_findings(jobs: &[BackupState], now: Timestamp) -> Vec<Finding> {
    let mut findings = Vec::new();
    for job in jobs {
        let subject = || Subject::Backup {
            job: job.job.clone(),
        };
        if let Some((ended, Some(error))) = &job.last_run {
            findings.push(Finding::new(
                subject(),
                FindingKind::BackupFailed,
                Severity::Warning,
                format!("its last run (ended {ended}) failed: {error}"),
            ));
        }
        let (Some(limit), Some(success)) = (job.limit_seconds, job.last_success) else {
            continue;
        };
        let age = now.seconds().saturating_sub(success.seconds());
        if age > limit {
            let severity = if age > limit.saturating_mul(2) {
                Severity::Critical
            } else {
                Severity::Warning
            };
            findings.push(Finding::new(
                subject(),
                FindingKind::BackupOverdue,
                severity,
                format!(
                    "its last good backup is {} hours old (at {success}; it should not be older than {} hours)",
                    age / 3600,
                    limit / 3600
                ),
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3600;

    fn state(last_run: Option<(i64, Option<&str>)>, success: Option<i64>) -> BackupState {
        BackupState {
            job: "offsite".into(),
            last_run: last_run.map(|(ended, error)| (Timestamp(ended), error.map(str::to_owned))),
            last_success: success.map(Timestamp),
            limit_seconds: Some(2 * 24 * HOUR),
        }
    }

    #[test]
    fn failed_runs_and_old_backups_are_findings() {
        let now = Timestamp(100 * 24 * HOUR);
        let day = 24 * HOUR;
        for (state, expected) in [
            (state(None, None), vec![]),
            (
                state(Some((now.0 - HOUR, None)), Some(now.0 - HOUR)),
                vec![],
            ),
            (
                state(
                    Some((now.0 - HOUR, Some("pool backup is not imported"))),
                    Some(now.0 - day),
                ),
                vec![(FindingKind::BackupFailed, Severity::Warning)],
            ),
            (
                state(Some((now.0 - 3 * day, None)), Some(now.0 - 3 * day)),
                vec![(FindingKind::BackupOverdue, Severity::Warning)],
            ),
            (
                state(
                    Some((now.0 - HOUR, Some("disk absent"))),
                    Some(now.0 - 5 * day),
                ),
                vec![
                    (FindingKind::BackupFailed, Severity::Warning),
                    (FindingKind::BackupOverdue, Severity::Critical),
                ],
            ),
            (
                BackupState {
                    limit_seconds: None,
                    ..state(Some((now.0 - 9 * day, None)), Some(now.0 - 9 * day))
                },
                vec![],
            ),
        ] {
            let found: Vec<_> = backup_findings(std::slice::from_ref(&state), now)
                .iter()
                .map(|finding| (finding.kind, finding.severity))
                .collect();
            assert_eq!(found, expected, "{state:?}");
        }
    }
}
