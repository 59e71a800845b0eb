//! What a background task is: an async run that ends in a [`Summary`] or a [`TaskError`],
//! given a [`RunContext`] (which run, why, and a signal to stop early).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use crate::TaskId;
use crate::status::Trigger;

/// A boxed, sendable future: what [`Task::run`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A periodic or triggered activity of the daemon.
///
/// `run` takes `&self`: each run is spawned as its own tokio task (so a panic stays in it
/// and a run can be abandoned at shutdown), and a task that keeps state between runs keeps
/// it behind its own lock. The driver never starts two runs of one task at once.
pub trait Task: Send + Sync + 'static {
    fn run(&self, context: RunContext) -> BoxFuture<'_, Result<Summary, TaskError>>;
}

/// A task made of a closure returning a future; see [`task_fn`].
pub struct FnTask<F>(F);

/// Makes a task of `function`, called once per run:
/// `task_fn(|context| async move { Ok(Summary::new("nothing to do")) })`.
pub fn task_fn<F, Fut>(function: F) -> FnTask<F>
where
    F: Fn(RunContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Summary, TaskError>> + Send + 'static,
{
    FnTask(function)
}

impl<F, Fut> Task for FnTask<F>
where
    F: Fn(RunContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Summary, TaskError>> + Send + 'static,
{
    fn run(&self, context: RunContext) -> BoxFuture<'_, Result<Summary, TaskError>> {
        Box::pin((self.0)(context))
    }
}

impl<F> fmt::Debug for FnTask<F> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("FnTask")
    }
}

/// What a run is told.
#[derive(Clone, Debug)]
pub struct RunContext {
    pub task: TaskId,
    /// The run's number (1, 2, … per task, also across restarts).
    pub run: u64,
    pub trigger: Trigger,
    cancel: CancellationToken,
}

impl RunContext {
    pub(crate) fn new(
        task: TaskId,
        run: u64,
        trigger: Trigger,
        cancel: CancellationToken,
    ) -> RunContext {
        RunContext {
            task,
            run,
            trigger,
            cancel,
        }
    }

    /// Whether the driver is shutting down: a long run should stop at its next safe point
    /// (the driver waits for it only a grace time).
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes when the driver starts shutting down.
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.cancel.cancelled()
    }
}

/// The longest summary kept, in bytes.
pub const MAX_SUMMARY: usize = 1000;
/// The longest error text kept, in bytes.
pub const MAX_ERROR: usize = 4000;

/// What a successful run did: one line for people, and details for programs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl Summary {
    /// One line: control characters (line breaks among them) become spaces, and the text is
    /// cut to [`MAX_SUMMARY`] bytes.
    pub fn new(text: impl Into<String>) -> Summary {
        Summary {
            text: one_line(&text.into(), MAX_SUMMARY),
            details: None,
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Summary {
        self.details = Some(details);
        self
    }
}

/// Why a run failed, for people (cut to [`MAX_ERROR`] bytes).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TaskError {
    message: String,
}

impl TaskError {
    pub fn new(message: impl Into<String>) -> TaskError {
        TaskError {
            message: clip(message.into(), MAX_ERROR),
        }
    }

    /// The error and its sources, joined by `": "`; a source whose text the message already
    /// holds (WiZFS's errors show their source) is not repeated.
    pub fn from_error(error: &(dyn std::error::Error + 'static)) -> TaskError {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        TaskError::new(message)
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

/// `text` on one line, cut to `limit` bytes.
pub(crate) fn one_line(text: &str, limit: usize) -> String {
    let line: String = text
        .chars()
        .map(|character| {
            if character.is_control() {
                ' '
            } else {
                character
            }
        })
        .collect();
    clip(line, limit)
}

/// `text` cut to at most `limit` bytes at a character boundary, with `…` when cut.
pub(crate) fn clip(mut text: String, limit: usize) -> String {
    if text.len() > limit {
        let mut end = limit.saturating_sub('…'.len_utf8());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_is_one_line_and_bounded() {
        assert_eq!(
            Summary::new("two\nlines\tand tab").text,
            "two lines and tab"
        );
        let long = Summary::new("é".repeat(MAX_SUMMARY));
        assert!(long.text.len() <= MAX_SUMMARY);
        assert!(long.text.ends_with('…'));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("reading the pool list")]
    struct Quiet(#[source] std::io::Error);

    #[test]
    fn an_error_keeps_its_sources_once() {
        let quiet = Quiet(std::io::Error::other("disk gone"));
        assert_eq!(
            TaskError::from_error(&quiet).message(),
            "reading the pool list: disk gone"
        );
        let telling = wizfs_lmdb::LmdbError::CreateDirectory {
            path: "/var/lib/wizfs/tasks".into(),
            source: std::io::Error::other("disk gone"),
        };
        assert_eq!(
            TaskError::from_error(&telling).message(),
            "creating the LMDB directory /var/lib/wizfs/tasks: disk gone"
        );
    }

    #[test]
    fn clipping_respects_character_boundaries() {
        assert_eq!(clip("abc".into(), 3), "abc");
        assert_eq!(clip("abcdef".into(), 4), "a…");
        assert_eq!(clip("ééé".into(), 5), "é…");
    }
}
