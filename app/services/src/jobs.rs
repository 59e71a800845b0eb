//! Long-running work the console shows live: indexing and restores register a job here and
//! report progress; `GET /api/v1/jobs` lists them and `GET /api/v1/events` streams the list as
//! server-sent events on every change (the console's jobs strip). Keeps the newest
//! [`KEPT_JOBS`] jobs; state lives in the daemon's `AppState`, never in a global.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::watch;
use wizfs_api::jobs::{JobState, JobView};

/// Finished jobs kept for the dashboard.
pub const KEPT_JOBS: usize = 20;

/// The registry of jobs (cheap to clone; clones share it).
#[derive(Debug, Clone)]
pub struct Jobs {
    list: Arc<watch::Sender<Vec<JobView>>>,
    next_id: Arc<AtomicU64>,
}

impl Default for Jobs {
    fn default() -> Self {
        Self {
            list: Arc::new(watch::Sender::new(Vec::new())),
            next_id: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl Jobs {
    /// Registers a running job.
    pub fn start(&self, kind: &'static str, title: impl Into<String>) -> JobHandle {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let job = JobView {
            id,
            kind: kind.to_owned(),
            title: title.into(),
            state: JobState::Running,
            done: 0,
            total: 0,
            message: String::new(),
        };
        self.list.send_modify(|list| {
            list.push(job);
            // Drop the oldest finished jobs beyond the limit; running ones always stay.
            while list.len() > KEPT_JOBS {
                match list.iter().position(|job| job.state != JobState::Running) {
                    Some(oldest) => {
                        list.remove(oldest);
                    }
                    None => break,
                }
            }
        });
        JobHandle {
            jobs: self.clone(),
            id,
            finished: false,
        }
    }

    /// The jobs, oldest first.
    pub fn list(&self) -> Vec<JobView> {
        self.list.borrow().clone()
    }

    /// A receiver that sees every change.
    pub fn subscribe(&self) -> watch::Receiver<Vec<JobView>> {
        self.list.subscribe()
    }

    fn update(&self, id: u64, change: impl FnOnce(&mut JobView)) {
        self.list.send_modify(|list| {
            if let Some(job) = list.iter_mut().find(|job| job.id == id) {
                change(job);
            }
        });
    }
}

/// A running job; dropping it unfinished marks it failed (the work panicked or was
/// abandoned), so no job stays "running" for ever.
#[derive(Debug)]
pub struct JobHandle {
    jobs: Jobs,
    id: u64,
    finished: bool,
}

impl JobHandle {
    pub fn progress(&self, done: u64, total: u64, message: impl Into<String>) {
        let message = message.into();
        self.jobs.update(self.id, |job| {
            job.done = done;
            job.total = total;
            job.message = message;
        });
    }

    pub fn succeed(mut self, message: impl Into<String>) {
        self.finish(JobState::Done, message.into());
    }

    pub fn fail(mut self, message: impl Into<String>) {
        self.finish(JobState::Failed, message.into());
    }

    fn finish(&mut self, state: JobState, message: String) {
        self.finished = true;
        self.jobs.update(self.id, |job| {
            job.state = state;
            job.message = message;
            if state == JobState::Done && job.total > 0 {
                job.done = job.total;
            }
        });
    }
}

impl Drop for JobHandle {
    fn drop(&mut self) {
        if !self.finished {
            self.finish(JobState::Failed, "stopped before it finished".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_report_progress_and_end() {
        let jobs = Jobs::default();
        let mut events = jobs.subscribe();
        let job = jobs.start("restore", "Restore a.txt");
        assert!(events.has_changed().unwrap());
        job.progress(1, 4, "a.txt");
        assert_eq!(jobs.list()[0].done, 1);
        assert_eq!(jobs.list()[0].state, JobState::Running);
        job.succeed("1 file");
        let list = jobs.list();
        assert_eq!(
            (list[0].state, list[0].done, list[0].message.as_str()),
            (JobState::Done, 4, "1 file")
        );
        events.mark_unchanged();
        drop(jobs.start("index", "Index"));
        assert!(events.has_changed().unwrap());
        assert_eq!(
            jobs.list()[1].state,
            JobState::Failed,
            "an abandoned job is not left running"
        );
    }

    #[test]
    fn old_finished_jobs_go_but_running_ones_stay() {
        let jobs = Jobs::default();
        let running = jobs.start("index", "long");
        for index in 0..(KEPT_JOBS + 5) {
            jobs.start("restore", format!("job {index}")).succeed("ok");
        }
        let list = jobs.list();
        assert_eq!(list.len(), KEPT_JOBS);
        assert_eq!(list[0].title, "long", "the running job is kept");
        assert_eq!(list.last().unwrap().title, format!("job {}", KEPT_JOBS + 4));
        running.succeed("done");
    }
}
