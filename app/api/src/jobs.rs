//! Long work the console shows live (indexing, restores) as `GET /api/v1/jobs` lists it and
//! `GET /api/v1/events` streams it.

use serde::{Deserialize, Serialize};

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    Done,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }
}

/// One job and how far it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobView {
    pub id: u64,
    /// `index` or `restore`.
    pub kind: String,
    pub title: String,
    pub state: JobState,
    pub done: u64,
    /// 0 when unknown.
    pub total: u64,
    pub message: String,
}
