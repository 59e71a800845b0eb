//! The progress of tasks the console shows live: indexing (whether the index task of the
//! driver or a person started it) and restores register here and report how far they got;
//! `GET /api/v1/tasks/progress` lists them and `GET /api/v1/events` streams the list as
//! server-sent events on every change (the console's tasks strip). Keeps the running tasks and
//! the newest finished ones (at most [`KEPT_FINISHED`] in all); state lives in `Services`,
//! never in a global.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::watch;
use wizfs_api::progress::{ProgressState, ProgressView};

/// Tasks kept in the list (running ones always stay).
pub const KEPT_FINISHED: usize = 20;

/// The progress of the tasks (cheap to clone; clones share it).
#[derive(Debug, Clone)]
pub struct Progress {
    list: Arc<watch::Sender<Vec<ProgressView>>>,
    next_id: Arc<AtomicU64>,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            list: Arc::new(watch::Sender::new(Vec::new())),
            next_id: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl Progress {
    /// Registers a running task.
    pub fn start(&self, kind: &'static str, title: impl Into<String>) -> ProgressHandle {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let task = ProgressView {
            id,
            kind: kind.to_owned(),
            title: title.into(),
            state: ProgressState::Running,
            done: 0,
            total: 0,
            message: String::new(),
        };
        self.list.send_modify(|list| {
            list.push(task);
            // Drop the oldest finished tasks beyond the limit; running ones always stay.
            while list.len() > KEPT_FINISHED {
                match list
                    .iter()
                    .position(|task| task.state != ProgressState::Running)
                {
                    Some(oldest) => {
                        list.remove(oldest);
                    }
                    None => break,
                }
            }
        });
        ProgressHandle {
            progress: self.clone(),
            id,
            finished: false,
        }
    }

    /// The tasks, oldest first.
    pub fn list(&self) -> Vec<ProgressView> {
        self.list.borrow().clone()
    }

    /// A receiver that sees every change.
    pub fn subscribe(&self) -> watch::Receiver<Vec<ProgressView>> {
        self.list.subscribe()
    }

    fn update(&self, id: u64, change: impl FnOnce(&mut ProgressView)) {
        self.list.send_modify(|list| {
            if let Some(task) = list.iter_mut().find(|task| task.id == id) {
                change(task);
            }
        });
    }
}

/// A running task; dropping it unfinished marks it failed (the work panicked or was
/// abandoned), so no task stays "running" for ever.
#[derive(Debug)]
pub struct ProgressHandle {
    progress: Progress,
    id: u64,
    finished: bool,
}

impl ProgressHandle {
    pub fn progress(&self, done: u64, total: u64, message: impl Into<String>) {
        let message = message.into();
        self.progress.update(self.id, |task| {
            task.done = done;
            task.total = total;
            task.message = message;
        });
    }

    pub fn succeed(mut self, message: impl Into<String>) {
        self.finish(ProgressState::Done, message.into());
    }

    pub fn fail(mut self, message: impl Into<String>) {
        self.finish(ProgressState::Failed, message.into());
    }

    fn finish(&mut self, state: ProgressState, message: String) {
        self.finished = true;
        self.progress.update(self.id, |task| {
            task.state = state;
            task.message = message;
            if state == ProgressState::Done && task.total > 0 {
                task.done = task.total;
            }
        });
    }
}

impl Drop for ProgressHandle {
    fn drop(&mut self) {
        if !self.finished {
            self.finish(ProgressState::Failed, "stopped before it finished".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_report_progress_and_end() {
        let tasks = Progress::default();
        let mut events = tasks.subscribe();
        let task = tasks.start("restore", "Restore a.txt");
        assert!(events.has_changed().unwrap());
        task.progress(1, 4, "a.txt");
        assert_eq!(tasks.list()[0].done, 1);
        assert_eq!(tasks.list()[0].state, ProgressState::Running);
        task.succeed("1 file");
        let list = tasks.list();
        assert_eq!(
            (list[0].state, list[0].done, list[0].message.as_str()),
            (ProgressState::Done, 4, "1 file")
        );
        events.mark_unchanged();
        drop(tasks.start("index", "Index"));
        assert!(events.has_changed().unwrap());
        assert_eq!(
            tasks.list()[1].state,
            ProgressState::Failed,
            "an abandoned task is not left running"
        );
    }

    #[test]
    fn old_finished_jobs_go_but_running_ones_stay() {
        let tasks = Progress::default();
        let running = tasks.start("index", "long");
        for index in 0..(KEPT_FINISHED + 5) {
            tasks
                .start("restore", format!("task {index}"))
                .succeed("ok");
        }
        let list = tasks.list();
        assert_eq!(list.len(), KEPT_FINISHED);
        assert_eq!(list[0].title, "long", "the running task is kept");
        assert_eq!(
            list.last().unwrap().title,
            format!("task {}", KEPT_FINISHED + 4)
        );
        running.succeed("done");
    }
}
