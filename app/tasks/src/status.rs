//! What the driver shows: why a run started, how it ended, the record of one run, and each
//! task's status. Plain serde types, for the API to reuse or mirror.

use serde::{Deserialize, Serialize};

use crate::TaskId;

/// Why a run started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// The task's period came round.
    Scheduled,
    /// Someone asked (`by`: who or what, e.g. `"api"`, `"cli"`, `"snapshot-policies"`).
    Triggered { by: String },
    /// The first run after the driver started (after the task's initial delay).
    Startup,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Failed,
    /// The task panicked; the error text is the panic's message.
    Panicked,
    /// The run never finished: the process stopped during it (found when the log was next
    /// opened), or the driver abandoned it at shutdown after its grace time.
    Interrupted,
}

/// One run in the run log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// 1, 2, … per task, continuing across restarts.
    pub run: u64,
    pub task: TaskId,
    pub trigger: Trigger,
    /// Unix seconds.
    pub started: i64,
    /// Unix seconds; none while running or when interrupted by a stop of the process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<i64>,
    /// None while the run is going on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// The one-line summary of a successful run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
    /// Why the run failed, panicked or was interrupted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RunRecord {
    /// A run that has just started: no end yet.
    pub fn started(task: TaskId, run: u64, trigger: Trigger, started: i64) -> RunRecord {
        RunRecord {
            run,
            task,
            trigger,
            started,
            ended: None,
            outcome: None,
            summary: None,
            details: None,
            error: None,
        }
    }
}

/// What a task is doing now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Activity {
    Idle,
    Running {
        run: u64,
        /// Unix seconds.
        since: i64,
        trigger: Trigger,
    },
}

/// A task as the driver sees it now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskStatus {
    pub id: TaskId,
    pub title: String,
    /// Seconds between scheduled runs; none for a task that runs only when triggered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<u64>,
    pub activity: Activity,
    /// A trigger is waiting: one more run follows the current one.
    pub queued: bool,
    /// The last run that ended (also before a restart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<RunRecord>,
    /// When the next scheduled run is due (Unix seconds); none when nothing is scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_form_is_tagged_and_snake_case() {
        let record = RunRecord {
            run: 7,
            task: TaskId::new("health-round").unwrap(),
            trigger: Trigger::Triggered { by: "api".into() },
            started: 100,
            ended: Some(103),
            outcome: Some(Outcome::Succeeded),
            summary: Some("3 disks healthy".into()),
            details: None,
            error: None,
        };
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "run": 7,
                "task": "health-round",
                "trigger": {"kind": "triggered", "by": "api"},
                "started": 100,
                "ended": 103,
                "outcome": "succeeded",
                "summary": "3 disks healthy",
            })
        );
        assert_eq!(serde_json::from_value::<RunRecord>(json).unwrap(), record);
        let running = Activity::Running {
            run: 1,
            since: 5,
            trigger: Trigger::Startup,
        };
        assert_eq!(
            serde_json::to_value(&running).unwrap(),
            serde_json::json!({"state": "running", "run": 1, "since": 5, "trigger": {"kind": "startup"}})
        );
    }
}
