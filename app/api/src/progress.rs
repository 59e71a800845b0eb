//! The progress of tasks — the work the daemon does, the periodic tasks of its driver and the
//! ones a person starts (a reindex, a restore) — as the console shows it live:
//! `GET /api/v1/tasks/progress` lists it and `GET /api/v1/events` streams it.

use serde::{Deserialize, Serialize};

/// Where a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgressState {
    Running,
    Done,
    Failed,
}

impl ProgressState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }
}

/// One task and how far it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressView {
    pub id: u64,
    /// `index` or `restore`.
    pub kind: String,
    pub title: String,
    pub state: ProgressState,
    pub done: u64,
    /// 0 when unknown.
    pub total: u64,
    pub message: String,
}
