//! The background-task driver: periodic and triggered activities with their status and a
//! run log in LMDB that survives restarts.
//!
//! Every periodic or triggered activity of the daemon (index reconciliation, snapshot
//! policies, health rounds; later backups and scrubs) is a [`Task`] registered with the
//! [`Driver`] under a [`TaskDefinition`]: a stable [`TaskId`], a title for people, an
//! optional period and initial delay. The driver runs each task on its period and when
//! triggered ([`DriverHandle::trigger`]), never two runs of one task at once; a failing or
//! panicking run never stops the others. Each run is recorded in the [`RunLog`] when it
//! starts and completed when it ends, so a run cut short by a stop of the process shows as
//! [`Outcome::Interrupted`] afterwards. The model is the background-task driver of Oxide's
//! omicron (nexus).
//!
//! ```no_run
//! use std::time::Duration;
//! use wizfs_tasks::{Driver, RunLog, Summary, SystemClock, TaskDefinition, TaskId, task_fn};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let log = RunLog::open("/var/lib/wizfs/tasks".as_ref())?;
//! let mut builder = Driver::builder(log, SystemClock);
//! builder.register(
//!     TaskDefinition::new(
//!         TaskId::new("health-round")?,
//!         "Health round",
//!         task_fn(|_context| async { Ok(Summary::new("3 disks healthy")) }),
//!     )
//!     .every(Duration::from_secs(300)),
//! )?;
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! let driver = builder.start(shutdown.clone());
//! let handle = driver.handle();
//! handle.trigger("health-round", "api")?;
//! let status = handle.status("health-round")?;
//! let runs = handle.runs("health-round", 20).await?;
//! shutdown.cancel();
//! driver.stopped().await;
//! # let _ = (status, runs);
//! # Ok(()) }
//! ```

pub mod clock;
pub mod driver;
pub mod id;
pub mod log;
pub mod status;
pub mod task;

pub use clock::{Clock, ManualClock, SystemClock};
pub use driver::{Driver, DriverBuilder, DriverError, DriverHandle, TaskDefinition};
pub use id::{InvalidTaskId, TaskId};
pub use log::{LogError, LogOptions, RunLog};
pub use status::{Activity, Outcome, RunRecord, TaskStatus, Trigger};
pub use task::{BoxFuture, RunContext, Summary, Task, TaskError, task_fn};
