//! The daemon's background tasks on the driver of `wizfs-tasks`: index reconciliation,
//! snapshot policies and health rounds, each registered with its period, triggerable on
//! demand (`POST /api/v1/tasks/trigger`, `wizfs tasks run`), with its status and a run log in
//! `<data_dir>/tasks` that survives restarts. The services answer the API's questions about
//! them through the driver's handle, which [`start`] gives to [`Services`].

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use wizfs_api::{OutcomeView, RunView, TaskRunsQuery, TaskView, TriggerRequest, TriggerView};
use wizfs_tasks::{
    Activity, Driver, DriverError, Outcome, RunLog, RunRecord, Summary, SystemClock,
    TaskDefinition, TaskError, TaskId, TaskStatus, Trigger, task_fn,
};

use crate::{ServiceError, Services};

/// The id of index reconciliation.
pub const INDEX: &str = "index";
/// The id of the snapshot policies' run.
pub const SNAPSHOT_POLICIES: &str = "snapshot-policies";
/// The id of a health round.
pub const HEALTH_ROUND: &str = "health-round";
/// The id of the scheduled backups.
pub const BACKUPS: &str = "backups";
/// The id of the expiry of guard snapshots.
pub const GUARD_SNAPSHOTS: &str = "guard-snapshots";

/// Why the tasks could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the task run log: {0}")]
    Log(#[from] wizfs_tasks::LogError),
    #[error("registering the tasks: {0}")]
    Driver(#[from] DriverError),
    #[error("the tasks are already running")]
    AlreadyStarted,
}

fn id(text: &'static str) -> TaskId {
    // The ids above are valid task ids; a test below proves it.
    TaskId::new(text).unwrap_or_else(|_| unreachable!("task id {text} is valid"))
}

/// Joins a blocking piece of work, a panic included, as a task's result.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, TaskError> + Send + 'static,
) -> Result<T, TaskError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| TaskError::new(format!("the work stopped: {error}")))?
}

/// A task whose run is blocking work (ZFS, the index): `work` on the blocking pool, with
/// its own clone of `state` each run.
fn blocking_task<S: Clone + Send + Sync + 'static>(
    state: S,
    work: fn(&S) -> Result<Summary, TaskError>,
) -> impl wizfs_tasks::Task {
    task_fn(move |_| {
        let state = state.clone();
        async move { blocking(move || work(&state)).await }
    })
}

/// The index task's run: a reconciliation of every dataset the configuration includes.
fn reconcile_index(services: &Services) -> Result<Summary, TaskError> {
    let reports = services
        .reconcile_index()
        .map_err(|error| TaskError::from_error(&error))?;
    let indexed: usize = reports.iter().map(|report| report.indexed.len()).sum();
    let forgotten: usize = reports.iter().map(|report| report.forgotten.len()).sum();
    for report in reports
        .iter()
        .filter(|report| !report.indexed.is_empty() || !report.forgotten.is_empty())
    {
        tracing::info!(dataset = %report.dataset, indexed = report.indexed.len(), forgotten = report.forgotten.len(), "index reconciled");
    }
    Ok(Summary::new(format!(
        "{indexed} snapshot(s) indexed, {forgotten} forgotten in {} dataset(s)",
        reports.len()
    )))
}

/// The snapshot policies' run (every minute): due snapshots, then pruning. Registered also
/// without policies: the console may add the first one.
fn run_policies(services: &Services) -> Result<Summary, TaskError> {
    if services.snapshots.policies().is_empty() {
        return Ok(Summary::new("no snapshot policy is configured"));
    }
    let report = services.snapshots.run(
        services.zfs.as_ref(),
        services.indexer.as_ref(),
        &services.index_config,
        crate::snapshots::now(),
        wizfs_snapshots::RunMode::Scheduled,
    );
    let created: usize = report.policies.iter().map(|run| run.created.len()).sum();
    let destroyed: usize = report.policies.iter().map(|run| run.destroyed.len()).sum();
    if report.has_errors() {
        let mut errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
        for run in &report.policies {
            errors.extend(
                run.errors
                    .iter()
                    .map(|error| format!("{}: {error}", run.policy.as_str())),
            );
        }
        return Err(TaskError::new(format!(
            "{created} created, {destroyed} destroyed; {}",
            errors.join("; ")
        )));
    }
    Ok(Summary::new(format!(
        "{created} snapshot(s) created, {destroyed} destroyed"
    )))
}

/// The backup jobs due now, one after the other (every minute).
fn run_backups(services: &Services) -> Result<Summary, TaskError> {
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for job in services.backups.due(wizfs_recovery::system_clock()) {
        match services.backups.run(
            services.zfs.as_ref(),
            &job,
            crate::backups::Trigger::Scheduled,
            &wizfs_recovery::system_clock,
        ) {
            Ok(run) if run.succeeded => done.push(job),
            Ok(run) => failed.push(format!("{job}: {}", run.errors.join("; "))),
            Err(error) => failed.push(format!("{job}: {error}")),
        }
    }
    if failed.is_empty() {
        Ok(Summary::new(if done.is_empty() {
            "no backup due".to_owned()
        } else {
            format!("backed up: {}", done.join(", "))
        }))
    } else {
        Err(TaskError::new(failed.join("; ")))
    }
}

/// The daily expiry of guard snapshots older than their lifetime (held ones stay).
fn expire_guard_snapshots(
    (zfs, lifetime): &(Arc<dyn wizfs_zfs::Zfs>, wizfs_core::guards::GuardLifetime),
) -> Result<Summary, TaskError> {
    let report = wizfs_restore::prune_guard_snapshots(
        zfs.as_ref(),
        wizfs_recovery::system_clock(),
        *lifetime,
    )
    .map_err(|error| TaskError::from_error(&error))?;
    if report.is_complete() {
        Ok(Summary::new(report.summary()))
    } else {
        Err(TaskError::new(report.summary()))
    }
}

/// Seconds until the start of the next minute (snapshot names are per minute).
fn to_next_minute() -> Duration {
    let into = crate::snapshots::now().seconds().rem_euclid(60);
    Duration::from_secs(u64::try_from(60 - into).unwrap_or(60))
}

/// Registers the tasks `services` has (an index, policies, health monitoring) and starts them
/// with their run log at `log_directory`; they stop when `shutdown` is cancelled.
pub fn start(
    daemon: &Services,
    log_directory: &Path,
    shutdown: tokio_util::sync::CancellationToken,
) -> Result<Driver, StartError> {
    let log = RunLog::open(log_directory)?;
    let mut builder = Driver::builder(log, SystemClock);
    // What the tasks work with: the services without the driver's handle, which holds the
    // tasks (a cycle that would keep the index open after the driver stopped).
    let services = &Services {
        tasks: Arc::default(),
        ..daemon.clone()
    };
    if services.indexer.is_some() {
        let interval = services.index_config.interval_seconds;
        let mut definition = TaskDefinition::new(
            id(INDEX),
            "Index reconciliation",
            blocking_task(services.clone(), reconcile_index),
        )
        .first_after(Duration::ZERO);
        if interval > 0 {
            definition = definition.every(Duration::from_secs(interval));
        }
        builder.register(definition)?;
    }
    builder.register(
        TaskDefinition::new(
            id(SNAPSHOT_POLICIES),
            "Snapshot policies",
            blocking_task(services.clone(), run_policies),
        )
        .every(Duration::from_secs(60))
        .first_after(to_next_minute()),
    )?;
    if !services.backups.jobs().is_empty() {
        builder.register(
            TaskDefinition::new(
                id(BACKUPS),
                "Backups",
                blocking_task(services.clone(), run_backups),
            )
            .every(Duration::from_secs(60))
            .first_after(to_next_minute()),
        )?;
    }
    if let Some(health) = &services.health {
        let service = health.clone();
        builder.register(
            TaskDefinition::new(
                id(HEALTH_ROUND),
                "Health round",
                task_fn(move |_| {
                    let service = service.clone();
                    async move {
                        let udisks = service.ask_udisks().await;
                        let view = blocking(move || {
                            Ok(service.round(wizfs_recovery::system_clock(), false, &udisks))
                        })
                        .await?;
                        let summary = &view.summary;
                        Ok(Summary::new(format!(
                            "{}: {} disk(s), {}/{} pool(s) online, {} active alert(s)",
                            summary.status,
                            summary.disks,
                            summary.pools_online,
                            summary.pools,
                            summary.active_alerts
                        )))
                    }
                }),
            )
            .every(health.interval())
            .first_after(Duration::ZERO),
        )?;
    }
    if let Some(lifetime) = services.guard_lifetime {
        builder.register(
            TaskDefinition::new(
                id(GUARD_SNAPSHOTS),
                "Expire guard snapshots",
                blocking_task((services.zfs.clone(), lifetime), expire_guard_snapshots),
            )
            .every(Duration::from_secs(24 * 3600))
            .first_after(Duration::from_secs(60)),
        )?;
    }
    let driver = builder.start(shutdown);
    daemon
        .tasks
        .set(driver.handle())
        .map_err(|_| StartError::AlreadyStarted)?;
    Ok(driver)
}

fn trigger_view(trigger: &Trigger) -> TriggerView {
    match trigger {
        Trigger::Scheduled => TriggerView::Scheduled,
        Trigger::Triggered { by } => TriggerView::Triggered { by: by.clone() },
        Trigger::Startup => TriggerView::Startup,
    }
}

fn run_view(record: &RunRecord) -> RunView {
    RunView {
        run: record.run,
        task: record.task.to_string(),
        trigger: trigger_view(&record.trigger),
        started: record.started,
        ended: record.ended,
        outcome: record.outcome.map(|outcome| match outcome {
            Outcome::Succeeded => OutcomeView::Succeeded,
            Outcome::Failed => OutcomeView::Failed,
            Outcome::Panicked => OutcomeView::Panicked,
            Outcome::Interrupted => OutcomeView::Interrupted,
        }),
        summary: record.summary.clone(),
        error: record.error.clone(),
    }
}

fn task_view(status: &TaskStatus) -> TaskView {
    TaskView {
        id: status.id.to_string(),
        title: status.title.clone(),
        period_seconds: status.period_seconds,
        running: match &status.activity {
            Activity::Idle => None,
            Activity::Running {
                run,
                since,
                trigger,
            } => Some(RunView {
                run: *run,
                task: status.id.to_string(),
                trigger: trigger_view(trigger),
                started: *since,
                ended: None,
                outcome: None,
                summary: None,
                error: None,
            }),
        },
        queued: status.queued,
        last: status.last.as_ref().map(run_view),
        next_run: status.next_run,
    }
}

fn driver_error(error: DriverError) -> ServiceError {
    match error {
        DriverError::UnknownTask { .. } => ServiceError::NotFound(error.to_string()),
        DriverError::Stopped { .. } => ServiceError::Unavailable(error.to_string()),
        other => ServiceError::Internal(other.to_string()),
    }
}

impl Services {
    fn task_driver(&self) -> Result<&wizfs_tasks::DriverHandle, ServiceError> {
        self.tasks.get().ok_or_else(|| {
            ServiceError::Unavailable("background tasks run only in the daemon".into())
        })
    }

    /// The background tasks now.
    pub fn tasks(&self) -> Result<Vec<TaskView>, ServiceError> {
        Ok(self
            .task_driver()?
            .statuses()
            .iter()
            .map(task_view)
            .collect())
    }

    /// A task's last runs, newest first.
    pub async fn task_runs(&self, query: TaskRunsQuery) -> Result<Vec<RunView>, ServiceError> {
        let limit = query.limit.unwrap_or(20).clamp(1, 500);
        let runs = self
            .task_driver()?
            .runs(&query.task, limit)
            .await
            .map_err(driver_error)?;
        Ok(runs.iter().map(run_view).collect())
    }

    /// Runs a task now (after its current run, if one is going on); its status.
    pub fn trigger_task(
        &self,
        request: TriggerRequest,
        by: &str,
    ) -> Result<TaskView, ServiceError> {
        let driver = self.task_driver()?;
        driver.trigger(&request.task, by).map_err(driver_error)?;
        Ok(task_view(
            &driver.status(&request.task).map_err(driver_error)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_ids_are_valid() {
        for text in [INDEX, SNAPSHOT_POLICIES, HEALTH_ROUND, GUARD_SNAPSHOTS] {
            assert!(TaskId::new(text).is_ok(), "{text}");
        }
    }
}
