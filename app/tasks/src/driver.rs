//! The driver: one tokio task per registered task waits for its period, a trigger or the
//! shutdown signal, and runs it (each run spawned on its own, so a panic stays in it),
//! keeping the task's status and recording each run in the [`RunLog`].
//!
//! Schedule: the first run of a task with a period or an initial delay starts after the
//! delay (none: at once) as [`Trigger::Startup`] (a trigger before it takes its place);
//! then a periodic task runs one period after its previous run *started*, or at once when
//! that run took longer (one catch-up, never a burst). A task with neither runs only when
//! triggered. A trigger asks for one run that starts after it: triggers while one is
//! waiting join it (the first `by` is kept), and any run that starts serves it (it is then
//! shown as [`Trigger::Triggered`]). Runs of one task never overlap.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::TaskId;
use crate::clock::Clock;
use crate::log::{LogError, RunLog};
use crate::status::{Activity, Outcome, RunRecord, TaskStatus, Trigger};
use crate::task::{MAX_ERROR, RunContext, Task, one_line};

/// How long [`Driver::stopped`] waits for a run to end after the shutdown signal, unless
/// [`DriverBuilder::grace`] says otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// Failures of the driver's operations.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("there is no background task {id:?}")]
    UnknownTask { id: String },
    #[error("background task {id} is registered twice")]
    DuplicateTask { id: TaskId },
    #[error("background task {id}: its period must not be zero")]
    ZeroPeriod { id: TaskId },
    #[error("background task {id}: the driver has stopped")]
    Stopped { id: TaskId },
    #[error(transparent)]
    Log(#[from] LogError),
}

/// A task with what the driver needs to know about it.
pub struct TaskDefinition {
    id: TaskId,
    title: String,
    period: Option<Duration>,
    initial_delay: Option<Duration>,
    task: Arc<dyn Task>,
}

impl TaskDefinition {
    /// A task that runs only when triggered, until [`TaskDefinition::every`] or
    /// [`TaskDefinition::first_after`] say more. `title` is for people ("Health round").
    pub fn new(id: TaskId, title: impl Into<String>, task: impl Task) -> TaskDefinition {
        TaskDefinition {
            id,
            title: one_line(&title.into(), 200),
            period: None,
            initial_delay: None,
            task: Arc::new(task),
        }
    }

    /// Runs the task every `period`, the first time at start (after the initial delay).
    pub fn every(mut self, period: Duration) -> TaskDefinition {
        self.period = Some(period);
        self
    }

    /// Runs the task first `delay` after the driver starts (also a task without a period).
    pub fn first_after(mut self, delay: Duration) -> TaskDefinition {
        self.initial_delay = Some(delay);
        self
    }
}

impl fmt::Debug for TaskDefinition {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("TaskDefinition")
            .field("id", &self.id)
            .field("title", &self.title)
            .field("period", &self.period)
            .field("initial_delay", &self.initial_delay)
            .finish_non_exhaustive()
    }
}

/// Collects the tasks before the driver starts; see [`Driver::builder`].
pub struct DriverBuilder {
    log: RunLog,
    clock: Arc<dyn Clock>,
    grace: Duration,
    definitions: Vec<TaskDefinition>,
}

impl fmt::Debug for DriverBuilder {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("DriverBuilder")
            .field("log", &self.log)
            .field("grace", &self.grace)
            .field("definitions", &self.definitions)
            .finish_non_exhaustive()
    }
}

impl DriverBuilder {
    /// How long a run may go on after the shutdown signal before it is abandoned (recorded
    /// as [`Outcome::Interrupted`]).
    pub fn grace(&mut self, grace: Duration) -> &mut DriverBuilder {
        self.grace = grace;
        self
    }

    /// Adds a task; its id must be new and its period, if any, not zero.
    pub fn register(
        &mut self,
        definition: TaskDefinition,
    ) -> Result<&mut DriverBuilder, DriverError> {
        if self
            .definitions
            .iter()
            .any(|known| known.id == definition.id)
        {
            return Err(DriverError::DuplicateTask { id: definition.id });
        }
        if definition.period == Some(Duration::ZERO) {
            return Err(DriverError::ZeroPeriod { id: definition.id });
        }
        self.definitions.push(definition);
        Ok(self)
    }

    /// Starts the tasks (within a tokio runtime). They stop when `shutdown` is cancelled or
    /// [`Driver::shutdown`] is called. Each task's last ended run is read from the log for
    /// its status.
    pub fn start(self, shutdown: CancellationToken) -> Driver {
        let cancel = shutdown.child_token();
        let slots = self
            .definitions
            .into_iter()
            .map(|definition| {
                let last = self.log.last_ended(&definition.id).unwrap_or_else(|error| {
                    tracing::warn!(task = %definition.id, %error, "reading the last run");
                    None
                });
                Slot {
                    definition,
                    wake: Notify::new(),
                    state: Mutex::new(SlotState {
                        activity: Activity::Idle,
                        pending: None,
                        last,
                        next_run: None,
                    }),
                }
            })
            .collect();
        let inner = Arc::new(Inner {
            slots,
            log: self.log,
            clock: self.clock,
            grace: self.grace,
            cancel: cancel.clone(),
        });
        let workers = (0..inner.slots.len())
            .map(|index| tokio::spawn(work(inner.clone(), index, cancel.clone())))
            .collect();
        Driver {
            handle: DriverHandle { inner },
            workers,
            cancel,
        }
    }
}

struct Inner {
    slots: Vec<Slot>,
    log: RunLog,
    clock: Arc<dyn Clock>,
    grace: Duration,
    /// The driver's own shutdown signal (a child of the token it was started with).
    cancel: CancellationToken,
}

struct Slot {
    definition: TaskDefinition,
    /// Woken by a trigger (a stored permit when nobody waits, so none is lost).
    wake: Notify,
    state: Mutex<SlotState>,
}

struct SlotState {
    activity: Activity,
    /// Who asked for the run that is waiting, if one is.
    pending: Option<String>,
    last: Option<RunRecord>,
    next_run: Option<i64>,
}

impl Slot {
    /// The state (a panic never happens while it is held, but a poisoned lock is used anyway).
    fn state(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn status(&self) -> TaskStatus {
        let state = self.state();
        TaskStatus {
            id: self.definition.id.clone(),
            title: self.definition.title.clone(),
            period_seconds: self.definition.period.map(|period| period.as_secs()),
            activity: state.activity.clone(),
            queued: state.pending.is_some(),
            last: state.last.clone(),
            next_run: state.next_run,
        }
    }
}

/// The running driver. Dropping it leaves the tasks running until the shutdown token is
/// cancelled; [`Driver::shutdown`] or [`Driver::stopped`] wait for them.
pub struct Driver {
    handle: DriverHandle,
    workers: Vec<JoinHandle<()>>,
    cancel: CancellationToken,
}

impl fmt::Debug for Driver {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Driver")
            .field("tasks", &self.workers.len())
            .field("cancelled", &self.cancel.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// Starts collecting tasks, recording runs in `log`, reading time from `clock`.
    pub fn builder(log: RunLog, clock: impl Clock) -> DriverBuilder {
        DriverBuilder {
            log,
            clock: Arc::new(clock),
            grace: DEFAULT_GRACE,
            definitions: Vec::new(),
        }
    }

    /// A handle for triggering tasks and reading their status and runs.
    pub fn handle(&self) -> DriverHandle {
        self.handle.clone()
    }

    /// Stops the driver (not the token it was started with) and waits as
    /// [`Driver::stopped`] does.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        self.stopped().await;
    }

    /// Waits until the shutdown signal came and every task has stopped: a run going on
    /// finishes, or is abandoned after the grace time and recorded as interrupted.
    pub async fn stopped(self) {
        for worker in self.workers {
            if let Err(error) = worker.await {
                tracing::error!(%error, "a background task worker ended abnormally");
            }
        }
    }
}

/// Triggers tasks and reads their status and runs; cheap to clone.
#[derive(Clone)]
pub struct DriverHandle {
    inner: Arc<Inner>,
}

impl fmt::Debug for DriverHandle {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("DriverHandle")
            .field("tasks", &self.inner.slots.len())
            .field("log", &self.inner.log)
            .finish_non_exhaustive()
    }
}

impl DriverHandle {
    fn slot(&self, id: &str) -> Result<&Slot, DriverError> {
        self.inner
            .slots
            .iter()
            .find(|slot| slot.definition.id.as_str() == id)
            .ok_or_else(|| DriverError::UnknownTask { id: id.to_owned() })
    }

    /// Asks for a run of task `id` and returns at once. `by` says who asked (`"api"`,
    /// `"cli"`, another task's id). A trigger while one is waiting joins it; a trigger during
    /// a run makes exactly one more run follow. After the shutdown signal: an error.
    pub fn trigger(&self, id: &str, by: impl Into<String>) -> Result<(), DriverError> {
        let slot = self.slot(id)?;
        if self.inner.cancel.is_cancelled() {
            return Err(DriverError::Stopped {
                id: slot.definition.id.clone(),
            });
        }
        slot.state()
            .pending
            .get_or_insert_with(|| one_line(&by.into(), 200));
        slot.wake.notify_one();
        Ok(())
    }

    /// Task `id` now.
    pub fn status(&self, id: &str) -> Result<TaskStatus, DriverError> {
        Ok(self.slot(id)?.status())
    }

    /// Every task now, in the order they were registered.
    pub fn statuses(&self) -> Vec<TaskStatus> {
        self.inner.slots.iter().map(Slot::status).collect()
    }

    /// The newest `limit` runs of task `id`, newest first (read from the log on a blocking
    /// thread).
    pub async fn runs(&self, id: &str, limit: usize) -> Result<Vec<RunRecord>, DriverError> {
        let task = self.slot(id)?.definition.id.clone();
        Ok(blocking(&self.inner.log, move |log| log.runs(&task, limit)).await?)
    }

    /// The run log.
    pub fn log(&self) -> &RunLog {
        &self.inner.log
    }
}

/// Runs `operation` on the log on a blocking thread (LMDB commits wait for the disk).
async fn blocking<T: Send + 'static>(
    log: &RunLog,
    operation: impl FnOnce(&RunLog) -> Result<T, LogError> + Send + 'static,
) -> Result<T, LogError> {
    let log = log.clone();
    tokio::task::spawn_blocking(move || operation(&log))
        .await
        .map_err(|error| LogError::Blocking(error.to_string()))?
}

/// Seconds from now until `at`, rounded up.
fn seconds_until(at: Instant) -> i64 {
    let wait = at.saturating_duration_since(Instant::now());
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

/// The loop of one task: wait for its time, a trigger or the shutdown; run; repeat.
async fn work(inner: Arc<Inner>, index: usize, cancel: CancellationToken) {
    let Some(slot) = inner.slots.get(index) else {
        return;
    };
    let definition = &slot.definition;
    // An instant beyond tokio's range (a period of centuries) means never.
    let mut due = if definition.period.is_some() || definition.initial_delay.is_some() {
        Instant::now().checked_add(definition.initial_delay.unwrap_or_default())
    } else {
        None
    };
    let mut first = true;
    loop {
        slot.state().next_run = due.map(|at| inner.clock.now().saturating_add(seconds_until(at)));
        let scheduled = async {
            match due {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let on_schedule = tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            () = slot.wake.notified() => false,
            () = scheduled => true,
        };
        let trigger = match (slot.state().pending.take(), on_schedule) {
            (Some(by), _) => Trigger::Triggered { by },
            (None, true) if first => Trigger::Startup,
            (None, true) => Trigger::Scheduled,
            // The wake-up of a trigger that an earlier run already served.
            (None, false) => continue,
        };
        first = false;
        let started = Instant::now();
        slot.state().next_run = None;
        run_once(&inner, slot, trigger, &cancel).await;
        if cancel.is_cancelled() {
            break;
        }
        due = definition
            .period
            .and_then(|period| started.checked_add(period))
            .map(|at| at.max(Instant::now()));
    }
    slot.state().next_run = None;
}

/// One run: recorded at its start, spawned, awaited (up to the grace time after the shutdown
/// signal), recorded at its end.
async fn run_once(inner: &Inner, slot: &Slot, trigger: Trigger, cancel: &CancellationToken) {
    let id = &slot.definition.id;
    let started = inner.clock.now();
    let mut record = {
        let task = id.clone();
        let logged = trigger.clone();
        match blocking(&inner.log, move |log| log.start(&task, logged, started)).await {
            Ok(record) => record,
            Err(error) => {
                // The run still happens; only its record is lost (finish writes it if it can).
                tracing::error!(task = %id, %error, "recording the start of a run");
                let previous = slot.state().last.as_ref().map_or(0, |last| last.run);
                RunRecord::started(
                    id.clone(),
                    previous.saturating_add(1),
                    trigger.clone(),
                    started,
                )
            }
        }
    };
    slot.state().activity = Activity::Running {
        run: record.run,
        since: started,
        trigger: trigger.clone(),
    };
    tracing::debug!(task = %id, run = record.run, ?trigger, "background task starts");

    let context = RunContext::new(id.clone(), record.run, trigger, cancel.clone());
    let task = slot.definition.task.clone();
    let mut run = tokio::spawn(async move { task.run(context).await });
    let joined = tokio::select! {
        joined = &mut run => Some(joined),
        () = cancel.cancelled() => tokio::select! {
            joined = &mut run => Some(joined),
            () = tokio::time::sleep(inner.grace) => {
                run.abort();
                None
            }
        },
    };
    record.ended = Some(inner.clock.now());
    let (outcome, error) = match joined {
        Some(Ok(Ok(summary))) => {
            record.summary = Some(summary.text);
            record.details = summary.details;
            (Outcome::Succeeded, None)
        }
        Some(Ok(Err(error))) => (Outcome::Failed, Some(error.message().to_owned())),
        Some(Err(error)) if error.is_panic() => {
            (Outcome::Panicked, Some(panic_message(error.into_panic())))
        }
        Some(Err(error)) => (Outcome::Interrupted, Some(error.to_string())),
        None => (
            Outcome::Interrupted,
            Some(format!(
                "abandoned at shutdown after a grace time of {} s",
                inner.grace.as_secs()
            )),
        ),
    };
    record.outcome = Some(outcome);
    record.error = error.map(|error| one_line(&error, MAX_ERROR));
    match outcome {
        Outcome::Succeeded => tracing::info!(
            task = %id, run = record.run, summary = record.summary.as_deref().unwrap_or_default(),
            "background task succeeded"
        ),
        _ => tracing::warn!(
            task = %id, run = record.run, ?outcome, error = record.error.as_deref().unwrap_or_default(),
            "background task did not succeed"
        ),
    }
    let finished = record.clone();
    if let Err(error) = blocking(&inner.log, move |log| log.finish(&finished)).await {
        tracing::error!(task = %id, run = record.run, %error, "recording the end of a run");
    }
    let mut state = slot.state();
    state.activity = Activity::Idle;
    state.last = Some(record);
}

/// The message of a panic (`panic!("…")` gives a `&str` or a `String`).
fn panic_message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(message) => (*message).to_owned(),
            Err(_) => "a panic without a message".to_owned(),
        },
    }
}
