//! `wizfs tasks`: the daemon's background tasks (index reconciliation, snapshot policies,
//! health rounds) with their last and next runs, a task's run log (`wizfs tasks runs ID`),
//! and a run now (`wizfs tasks run ID`). The tasks live in the daemon, so these ask it over
//! its control socket.

use std::io::Write;

use clap::Subcommand;
use wizfs_api::{Api, OutcomeView, RunView, TaskRunsQuery, TaskView, TriggerRequest, TriggerView};

use crate::context::{Global, block_on};
use crate::output::emit;

#[derive(Debug, Subcommand)]
pub enum TasksCommand {
    /// Every task: what it is doing, its last run, its next one (the default).
    List,
    /// A task's last runs, newest first (kept across restarts).
    Runs {
        /// The task's id (`wizfs tasks` lists them).
        task: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Run a task now (after its current run, if one is going on).
    Run { task: String },
}

/// The daemon, which alone runs the background tasks.
fn daemon(cli: &Global) -> anyhow::Result<crate::daemon::Daemon> {
    crate::context::daemon(cli).ok_or_else(|| {
        anyhow::anyhow!(
            "wizfsd is not running (no answer on its control socket): background tasks run only in the daemon"
        )
    })
}

/// Unix seconds as UTC, to the second.
fn time(seconds: i64) -> String {
    wizfs_core::Timestamp(seconds).to_string()
}

fn outcome(run: &RunView) -> String {
    match run.outcome {
        None => "running".to_owned(),
        Some(OutcomeView::Succeeded) => "ok".to_owned(),
        Some(OutcomeView::Failed) => "FAILED".to_owned(),
        Some(OutcomeView::Panicked) => "PANICKED".to_owned(),
        Some(OutcomeView::Interrupted) => "interrupted".to_owned(),
    }
}

fn trigger(run: &RunView) -> String {
    match &run.trigger {
        TriggerView::Scheduled => "scheduled".to_owned(),
        TriggerView::Startup => "startup".to_owned(),
        TriggerView::Triggered { by } => format!("by {by}"),
    }
}

fn print_tasks(out: &mut dyn Write, tasks: &[TaskView]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<18} {:<12} {:<20} {:<20}  LAST",
        "TASK", "STATE", "LAST RUN", "NEXT RUN"
    )?;
    for task in tasks {
        let state = match (&task.running, task.queued) {
            (Some(_), true) => "running+1",
            (Some(_), false) => "running",
            (None, true) => "queued",
            (None, false) => "idle",
        };
        let last_time = task
            .last
            .as_ref()
            .map_or_else(|| "never".to_owned(), |run| time(run.started));
        let next = task.next_run.map_or_else(|| "on demand".to_owned(), time);
        let last = task.last.as_ref().map_or_else(String::new, |run| {
            let words = run
                .summary
                .as_deref()
                .or(run.error.as_deref())
                .unwrap_or("");
            format!("{}: {words}", outcome(run))
        });
        writeln!(
            out,
            "{:<18} {:<12} {:<20} {:<20}  {last}",
            task.id, state, last_time, next
        )?;
    }
    Ok(())
}

fn print_runs(out: &mut dyn Write, runs: &[RunView]) -> std::io::Result<()> {
    for run in runs {
        let took = run.ended.map_or_else(String::new, |ended| {
            format!(" in {} s", ended - run.started)
        });
        let words = run
            .summary
            .as_deref()
            .or(run.error.as_deref())
            .unwrap_or("");
        writeln!(
            out,
            "#{:<5} {}  {:<12} {:<11}{took}  {words}",
            run.run,
            time(run.started),
            trigger(run),
            outcome(run)
        )?;
    }
    Ok(())
}

/// Runs `wizfs tasks …`.
pub fn run(
    cli: &Global,
    command: Option<&TasksCommand>,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let daemon = daemon(cli)?;
    match command.unwrap_or(&TasksCommand::List) {
        TasksCommand::List => {
            let tasks = block_on(daemon.tasks())??;
            emit(out, json, &tasks, |out| print_tasks(out, &tasks))
        }
        TasksCommand::Runs { task, limit } => {
            let query = TaskRunsQuery {
                task: task.clone(),
                limit: Some(*limit),
            };
            let runs = block_on(daemon.task_runs(query))??;
            emit(out, json, &runs, |out| print_runs(out, &runs))
        }
        TasksCommand::Run { task } => {
            let request = TriggerRequest { task: task.clone() };
            let status = block_on(daemon.trigger_task(request))??;
            emit(out, json, &status, |out| {
                writeln!(out, "{} will run now ({})", status.id, status.title)
            })
        }
    }
}
