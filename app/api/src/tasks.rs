//! The daemon's background tasks as the API shows them (`GET /api/v1/tasks`, `wizfs tasks`):
//! each periodic or triggered activity — index reconciliation, snapshot policies, health
//! rounds — with what it is doing, its last run and its next one, and the log of its runs,
//! which survives restarts.

use serde::{Deserialize, Serialize};

/// Why a run started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TriggerView {
    /// The task's period came round.
    Scheduled,
    /// Someone asked (`by`: `api`, `cli`, …).
    Triggered { by: String },
    /// The first run after the daemon started.
    Startup,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeView {
    Succeeded,
    Failed,
    Panicked,
    /// The daemon stopped during the run.
    Interrupted,
}

/// One run of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunView {
    /// 1, 2, … per task, continuing across restarts.
    pub run: u64,
    pub task: String,
    pub trigger: TriggerView,
    /// Unix seconds.
    pub started: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<i64>,
    /// None while the run is going on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OutcomeView>,
    /// One line for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A task now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskView {
    pub id: String,
    pub title: String,
    /// Seconds between scheduled runs; none for a task that runs only when triggered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<u64>,
    /// The run going on, if one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<RunView>,
    /// A trigger is waiting: one more run follows the current one.
    pub queued: bool,
    /// The last run that ended (also before a restart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<RunView>,
    /// When the next scheduled run is due (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run: Option<i64>,
}

/// `GET /api/v1/tasks/runs`: a task's last runs, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRunsQuery {
    pub task: String,
    /// 1 to 500; default 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// `POST /api/v1/tasks/trigger`: run a task now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerRequest {
    pub task: String,
}
