//! Backups in the daemon: the configured jobs (`[[backup]]` tables of `wizfsd.toml`), their
//! runs — by schedule (the daemon looks every minute: a job is due once per bucket of its
//! schedule in its time zone, counted from its last start, so downtime gives one run, not a
//! burst) and by hand — one run of a job at a time, and the record of every run
//! (`<data_dir>/backups/runs.json`, the last [`KEPT_RUNS`] per job, written whole after each
//! run) from which each job's last good backup is known.
//!
//! A run goes where the job's target is: a pool of this machine and the attached disks of a
//! rotating set through `wizfs_backup::run_local_pool` (a set's absent disks wait for their
//! turn), a directory through `wizfs_backup::run_files`; SSH hosts and S3 are refused as not
//! built yet, so such a job's page says so instead of pretending.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use wizfs_api::backups::{BackupJobView, BackupRunView, BackupsView};
use wizfs_backup::config::BackupTarget;
use wizfs_backup::report::RunReport;
use wizfs_backup::{BackupJobConfig, RunError, Schedule};
use wizfs_core::Timestamp;
use wizfs_core::backup::{Action, Idle, TargetKind};
use wizfs_zfs::Zfs;

use crate::ServiceError;
use crate::state_file::{load_json, save_json};

/// How many runs of each job are kept.
pub const KEPT_RUNS: usize = 50;

/// Who asked for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Manual,
    Scheduled,
}

#[derive(Debug)]
struct Inner {
    jobs: Vec<BackupJobConfig>,
    /// `<data_dir>/backups/runs.json`.
    path: PathBuf,
    /// Per job, newest first.
    runs: Mutex<BTreeMap<String, VecDeque<BackupRunView>>>,
    /// The jobs running now.
    running: Mutex<BTreeSet<String>>,
}

/// The backup jobs and their runs, shared by the schedule and the API.
#[derive(Clone, Debug)]
pub struct BackupService {
    inner: Arc<Inner>,
}

impl Default for BackupService {
    fn default() -> Self {
        Self::new(Vec::new(), Path::new("/nonexistent"))
    }
}

/// Where the record of runs is kept below the daemon's data directory.
pub fn runs_file(data_dir: &Path) -> PathBuf {
    data_dir.join("backups").join("runs.json")
}

impl BackupService {
    /// The service of `jobs`, with the runs recorded in `data_dir` so far.
    pub fn new(jobs: Vec<BackupJobConfig>, data_dir: &Path) -> Self {
        let path = runs_file(data_dir);
        let runs = if jobs.is_empty() {
            BTreeMap::new()
        } else {
            load_json(&path)
        };
        Self {
            inner: Arc::new(Inner {
                jobs,
                path,
                runs: Mutex::new(runs),
                running: Mutex::new(BTreeSet::new()),
            }),
        }
    }

    pub fn jobs(&self) -> &[BackupJobConfig] {
        &self.inner.jobs
    }

    fn job(&self, id: &str) -> Result<&BackupJobConfig, ServiceError> {
        self.inner
            .jobs
            .iter()
            .find(|job| job.id.as_str() == id.trim())
            .ok_or_else(|| ServiceError::NotFound(format!("no backup job `{id}` is configured")))
    }

    /// The runs of `job`, newest first.
    pub fn runs(&self, job: &str) -> Result<Vec<BackupRunView>, ServiceError> {
        let job = self.job(job)?;
        Ok(self
            .inner
            .runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(job.id.as_str())
            .map(|runs| runs.iter().cloned().collect())
            .unwrap_or_default())
    }

    /// Every job with its last run and last good backup, as of `now`.
    pub fn view(&self, now: Timestamp) -> BackupsView {
        let runs = self
            .inner
            .runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let running = self
            .inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let jobs = self
            .inner
            .jobs
            .iter()
            .map(|job| {
                let recorded = runs.get(job.id.as_str());
                let last_run = recorded.and_then(|runs| runs.front().cloned());
                BackupJobView {
                    id: job.id.to_string(),
                    sources: job.sources.iter().map(describe_source).collect(),
                    target_kind: job.target.kind_name().to_owned(),
                    target: describe_target(&job.target),
                    schedule: job.schedule.to_string(),
                    running: running.contains(job.id.as_str()),
                    due: is_due(job, last_run.as_ref(), now),
                    last_success: recorded
                        .and_then(|runs| runs.iter().find(|run| run.succeeded))
                        .map(|run| run.finished.clone()),
                    last_run,
                }
            })
            .collect();
        BackupsView { jobs }
    }

    /// The health findings of the jobs at `now`: a failed last run, a last good backup
    /// older than twice the schedule's period (`wizfs_health::backups`).
    pub fn findings(&self, now: Timestamp) -> Vec<wizfs_health::finding::Finding> {
        let runs = self
            .inner
            .runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let states: Vec<_> = self
            .inner
            .jobs
            .iter()
            .map(|job| {
                let recorded = runs.get(job.id.as_str());
                let time = |run: &BackupRunView| Timestamp::parse_rfc3339(&run.finished);
                wizfs_health::backups::BackupState {
                    job: job.id.to_string(),
                    last_run: recorded.and_then(VecDeque::front).and_then(|run| {
                        let error = (!run.succeeded).then(|| {
                            run.errors
                                .first()
                                .cloned()
                                .unwrap_or_else(|| "it did not succeed".to_owned())
                        });
                        Some((time(run)?, error))
                    }),
                    last_success: recorded
                        .and_then(|runs| runs.iter().find(|run| run.succeeded))
                        .and_then(time),
                    limit_seconds: overdue_after(job.schedule),
                }
            })
            .collect();
        wizfs_health::backups::backup_findings(&states, now)
    }

    /// The jobs whose schedule wants a run at `now`.
    pub fn due(&self, now: Timestamp) -> Vec<String> {
        let runs = self
            .inner
            .runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.inner
            .jobs
            .iter()
            .filter(|job| {
                let last = runs.get(job.id.as_str()).and_then(VecDeque::front);
                is_due(job, last, now)
            })
            .map(|job| job.id.to_string())
            .collect()
    }

    /// Runs `job` once (blocking: call on the blocking pool), records the run and returns
    /// it. A job already running is refused.
    pub fn run(
        &self,
        zfs: &dyn Zfs,
        job: &str,
        trigger: Trigger,
        clock: &dyn Fn() -> Timestamp,
    ) -> Result<BackupRunView, ServiceError> {
        let job = self.job(job)?;
        let id = job.id.to_string();
        let _running = Running::start(&self.inner.running, &id)?;
        let started = clock();
        let run = run_job(zfs, job, started, trigger, clock);
        let mut runs = self
            .inner
            .runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let kept = runs.entry(id.clone()).or_default();
        kept.push_front(run.clone());
        kept.truncate(KEPT_RUNS);
        if let Err(error) = save_json(&self.inner.path, &*runs) {
            tracing::error!(path = %self.inner.path.display(), %error, "saving the backup runs failed");
        }
        if run.succeeded {
            tracing::info!(job = %id, bytes = run.bytes, "backup done");
        } else {
            tracing::warn!(job = %id, errors = ?run.errors, "backup failed");
        }
        Ok(run)
    }
}

/// How old a job's last good backup may get: two periods of its schedule (one missed run is
/// tolerated; a monthly job counts 31 days); none for a job run by hand.
fn overdue_after(schedule: Schedule) -> Option<i64> {
    use wizfs_core::rotation::Tier;
    const HOUR: i64 = 3600;
    let period = match schedule {
        Schedule::Manual => return None,
        Schedule::Every(Tier::Frequently { period_minutes }) => i64::from(period_minutes) * 60,
        Schedule::Every(Tier::Hourly) => HOUR,
        Schedule::Every(Tier::Daily) => 24 * HOUR,
        Schedule::Every(Tier::Weekly) => 7 * 24 * HOUR,
        Schedule::Every(Tier::Monthly | Tier::Yearly) => 31 * 24 * HOUR,
    };
    Some(2 * period)
}

/// A job marked as running until dropped (also when its run panics).
struct Running<'a> {
    running: &'a Mutex<BTreeSet<String>>,
    id: String,
}

impl<'a> Running<'a> {
    fn start(running: &'a Mutex<BTreeSet<String>>, id: &str) -> Result<Self, ServiceError> {
        if !running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.to_owned())
        {
            return Err(ServiceError::Conflict(format!(
                "backup job `{id}` is running already"
            )));
        }
        Ok(Self {
            running,
            id: id.to_owned(),
        })
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

/// Whether the schedule of `job` wants a run at `now`, after `last` (a run, good or not:
/// a failing job is tried again in the next bucket, not every minute).
fn is_due(job: &BackupJobConfig, last: Option<&BackupRunView>, now: Timestamp) -> bool {
    let last_start = last.and_then(|run| Timestamp::parse_rfc3339(&run.started));
    job.schedule != Schedule::Manual && job.schedule.is_due(last_start, now, &job.calendar)
}

/// One run of `job`: each place its target writes to in turn.
fn run_job(
    zfs: &dyn Zfs,
    job: &BackupJobConfig,
    started: Timestamp,
    trigger: Trigger,
    clock: &dyn Fn() -> Timestamp,
) -> BackupRunView {
    let mut view = BackupRunView {
        job: job.id.to_string(),
        started: started.to_string(),
        finished: String::new(),
        trigger: match trigger {
            Trigger::Manual => "manual",
            Trigger::Scheduled => "scheduled",
        }
        .to_owned(),
        succeeded: true,
        bytes: 0,
        datasets: Vec::new(),
        errors: Vec::new(),
    };
    let mut wrote_somewhere = false;
    let places = job.planner_jobs();
    let several = places.len() > 1;
    for place in &places {
        let outcome = match (&place.target, &job.target) {
            (TargetKind::LocalPool { .. } | TargetKind::RotatingDisk { .. }, _) => Some(
                wizfs_backup::run_local_pool(zfs, place, started, &job.calendar),
            ),
            (TargetKind::Files { .. }, BackupTarget::Files(files)) => Some(
                wizfs_backup::run_files(zfs, place, &files.name, started, &job.calendar),
            ),
            _ => None,
        };
        match outcome {
            Some(Ok(report)) => {
                wrote_somewhere = true;
                add_report(&mut view, &report);
            }
            // A disk of a rotating set that is not attached waits for its turn.
            Some(Err(RunError::DiskAbsent { .. })) if several => {}
            Some(Err(error)) => {
                view.succeeded = false;
                view.errors.push(error.to_string());
            }
            None => {
                view.succeeded = false;
                view.errors.push(format!(
                    "backups to {} are not built yet in this version of WiZFS",
                    target_words(&place.target)
                ));
            }
        }
    }
    if !wrote_somewhere && view.errors.is_empty() {
        view.succeeded = false;
        view.errors
            .push("none of the rotating disks is attached: the job waits for one".into());
    }
    view.finished = clock().to_string();
    view
}

fn target_words(kind: &TargetKind) -> &'static str {
    match kind {
        TargetKind::Files { .. } => "files",
        TargetKind::Ssh { .. } => "SSH hosts",
        TargetKind::S3 { .. } => "S3",
        TargetKind::LocalPool { .. } | TargetKind::RotatingDisk { .. } => "pools",
    }
}

/// A run's report in the record's words.
fn add_report(view: &mut BackupRunView, report: &RunReport) {
    view.bytes += report.bytes();
    view.succeeded &= report.succeeded();
    for dataset in &report.datasets {
        let what = match &dataset.action {
            Action::FullSend { first, to, .. } if first == to => {
                format!("full send of @{}", to.short_name())
            }
            Action::FullSend { first, to, .. } => {
                format!(
                    "full send of @{} up to @{}",
                    first.short_name(),
                    to.short_name()
                )
            }
            Action::Incremental { to, .. } => format!("incremental up to @{}", to.short_name()),
            Action::Resume { .. } => "an interrupted send resumed".to_owned(),
            Action::NothingToDo(Idle::UpToDate { snapshot }) => {
                format!("up to date (@{})", snapshot.short_name())
            }
            Action::NothingToDo(_) => "nothing to send yet".to_owned(),
            Action::Refused(refusal) => format!("refused: {refusal}"),
        };
        let bytes = dataset.bytes();
        let sent = if bytes > 0 {
            format!(", {bytes} bytes")
        } else {
            String::new()
        };
        view.datasets.push(format!(
            "{} → {}: {what}{sent}",
            dataset.source, dataset.target
        ));
        view.errors
            .extend(dataset.errors.iter().map(ToString::to_string));
    }
    view.errors
        .extend(report.errors.iter().map(ToString::to_string));
}

fn describe_source(scope: &wizfs_core::rotation::PolicyScope) -> String {
    let mut text = scope.dataset.to_string();
    if scope.recursive {
        text.push_str(" and its children");
    }
    if !scope.exclude.is_empty() {
        let excluded: Vec<String> = scope.exclude.iter().map(ToString::to_string).collect();
        text.push_str(&format!(" but {}", excluded.join(", ")));
    }
    text
}

fn describe_target(target: &BackupTarget) -> String {
    match target {
        BackupTarget::LocalPool { root } => root.to_string(),
        BackupTarget::Ssh(ssh) => format!("{}@{}:{}", ssh.user, ssh.host, ssh.root),
        BackupTarget::Files(files) => files.directory.display().to_string(),
        BackupTarget::S3(s3) => format!("s3://{}/{}", s3.bucket, s3.prefix),
        BackupTarget::RotatingDisks(disks) => {
            let names: Vec<String> = disks.iter().map(|disk| disk.root.to_string()).collect();
            format!("rotating disks: {}", names.join(", "))
        }
    }
}

impl crate::Services {
    /// Every backup job with its last run and last good backup.
    pub fn backups_view(&self) -> BackupsView {
        self.backups.view(wizfs_recovery::system_clock())
    }

    /// Runs a backup job now (on the blocking pool), recorded like a scheduled run.
    pub async fn run_backup(
        &self,
        query: wizfs_api::backups::BackupJobQuery,
    ) -> Result<BackupRunView, ServiceError> {
        let services = self.clone();
        crate::recovery::blocking(move || {
            services.backups.run(
                services.zfs.as_ref(),
                &query.job,
                Trigger::Manual,
                &wizfs_recovery::system_clock,
            )
        })
        .await
    }

    /// The runs of a backup job, newest first.
    pub fn backup_runs(
        &self,
        query: &wizfs_api::backups::BackupJobQuery,
    ) -> Result<Vec<BackupRunView>, ServiceError> {
        self.backups.runs(&query.job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wizfs_health::finding::FindingKind;

    #[test]
    fn a_failed_run_is_a_finding_and_schedules_set_the_age_limit() {
        let text = "[[backup]]\nid = \"far\"\nschedule = \"daily\"\n\n[[backup.source]]\ndataset = \"tank/home\"\n\n[backup.target]\ntype = \"ssh\"\nhost = \"nas2.example.net\"\nuser = \"wizfs\"\ndataset = \"vault\"\nhost_key = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\"\n";
        let jobs = crate::config::Config::parse(text, Path::new("test"))
            .expect("configuration")
            .backups;
        let directory = tempfile::tempdir().expect("temporary directory");
        let fake = wizfs_zfs::FakeZfs::open(directory.path().join("pools")).expect("fake");
        let service = BackupService::new(jobs, directory.path());
        let now = Timestamp(1_800_000_000);
        assert!(
            service.findings(now).is_empty(),
            "never ran: nothing to say"
        );
        let run = service
            .run(&fake, "far", Trigger::Manual, &|| now)
            .expect("runs");
        assert!(!run.succeeded);
        let kinds: Vec<_> = service
            .findings(now)
            .iter()
            .map(|finding| finding.kind)
            .collect();
        assert_eq!(kinds, vec![FindingKind::BackupFailed]);

        use wizfs_core::rotation::Tier;
        for (schedule, limit) in [
            (Schedule::Manual, None),
            (
                Schedule::Every(Tier::Frequently { period_minutes: 15 }),
                Some(1800),
            ),
            (Schedule::Every(Tier::Hourly), Some(7200)),
            (Schedule::Every(Tier::Daily), Some(2 * 86_400)),
            (Schedule::Every(Tier::Weekly), Some(14 * 86_400)),
        ] {
            assert_eq!(overdue_after(schedule), limit, "{schedule}");
        }
    }
}
