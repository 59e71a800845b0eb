//! The run log: every run of every task in one LMDB environment (through `wizfs-lmdb`), kept
//! across restarts and pruned to the newest runs of each task.
//!
//! Table `runs` maps (task id, 0, run number as big-endian u64) to the run's record as JSON,
//! so one task's runs are one prefix in run order (task ids hold no 0 byte). Table
//! `running` holds the same keys for runs that have started and not ended: a run is
//! recorded when it starts ([`RunLog::start`], which also prunes, in the same transaction)
//! and completed when it ends ([`RunLog::finish`]). Whatever is still in `running` when the
//! log is opened was cut short by a stop of the process and is marked
//! [`Outcome::Interrupted`].

use std::path::Path;

use heed::{Env, RwTxn, WithoutTls};
use wizfs_lmdb::BytesDatabase;

use crate::status::{Outcome, RunRecord, Trigger};
use crate::task::MAX_ERROR;
use crate::{TaskId, task};

#[cfg(test)]
mod tests;

/// The largest details of a run kept, in bytes of JSON; larger ones are replaced by a note.
pub const MAX_DETAILS: usize = 64 * 1024;

/// Failures of the run log, each saying what it was doing.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("run log: {0}")]
    Open(#[from] wizfs_lmdb::LmdbError),
    #[error("run log: {context}: {source}")]
    Store {
        context: String,
        #[source]
        source: heed::Error,
    },
    #[error("run log: a record of {task} is corrupt: {reason}")]
    Corrupt { task: String, reason: String },
    #[error("run log: {0}")]
    Blocking(String),
}

type Result<T> = std::result::Result<T, LogError>;

trait Context<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for heed::Result<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| LogError::Store {
            context: context(),
            source,
        })
    }
}

/// How to open the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogOptions {
    /// Runs kept per task (at least 1): starting a run removes the ones beyond.
    pub keep_per_task: usize,
    /// The LMDB map size (a ceiling of address space, not a cost).
    pub map_size: usize,
}

impl Default for LogOptions {
    fn default() -> LogOptions {
        LogOptions {
            keep_per_task: 500,
            map_size: 1 << 30,
        }
    }
}

/// The run log. Cheap to clone (clones share the environment).
#[derive(Clone)]
pub struct RunLog {
    env: Env<WithoutTls>,
    runs: BytesDatabase,
    running: BytesDatabase,
    keep_per_task: u64,
}

impl std::fmt::Debug for RunLog {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RunLog")
            .field("path", &self.env.path())
            .field("keep_per_task", &self.keep_per_task)
            .finish_non_exhaustive()
    }
}

fn task_prefix(task: &TaskId) -> Vec<u8> {
    let mut key = Vec::with_capacity(task.as_str().len() + 9);
    key.extend_from_slice(task.as_str().as_bytes());
    key.push(0);
    key
}

fn run_key(task: &TaskId, run: u64) -> Vec<u8> {
    let mut key = task_prefix(task);
    key.extend_from_slice(&run.to_be_bytes());
    key
}

/// The run number at the end of a key of `runs` or `running`.
fn run_of(key: &[u8]) -> Option<u64> {
    let start = key.len().checked_sub(8)?;
    Some(u64::from_be_bytes(key.get(start..)?.try_into().ok()?))
}

fn decode(task: &str, bytes: &[u8]) -> Result<RunRecord> {
    serde_json::from_slice(bytes).map_err(|error| LogError::Corrupt {
        task: task.to_owned(),
        reason: error.to_string(),
    })
}

fn encode(record: &RunRecord) -> Result<Vec<u8>> {
    serde_json::to_vec(record).map_err(|error| LogError::Corrupt {
        task: record.task.to_string(),
        reason: format!("cannot be written: {error}"),
    })
}

/// Details larger than [`MAX_DETAILS`] are replaced by a note saying so.
fn bounded_details(details: Option<serde_json::Value>) -> Option<serde_json::Value> {
    let details = details?;
    let size = serde_json::to_vec(&details).map_or(usize::MAX, |bytes| bytes.len());
    if size <= MAX_DETAILS {
        Some(details)
    } else {
        Some(serde_json::json!({ "omitted": "details too large", "bytes": size }))
    }
}

impl RunLog {
    /// Opens (creating if needed) the log in directory `path` with the default options.
    pub fn open(path: &Path) -> Result<RunLog> {
        RunLog::open_with(path, LogOptions::default())
    }

    /// Opens the log; runs that started and never ended (the process stopped during them)
    /// become [`Outcome::Interrupted`]. The process that opens the log is its one writer.
    pub fn open_with(path: &Path, options: LogOptions) -> Result<RunLog> {
        let env = wizfs_lmdb::open(
            path,
            wizfs_lmdb::Options {
                map_size: options.map_size,
                max_dbs: 2,
            },
        )?;
        let [runs, running] = wizfs_lmdb::create_databases(&env, ["runs", "running"])
            .context(|| "creating tables".into())?;
        let log = RunLog {
            env,
            runs,
            running,
            keep_per_task: u64::try_from(options.keep_per_task.max(1)).unwrap_or(u64::MAX),
        };
        log.mark_interrupted()?;
        Ok(log)
    }

    fn write<T>(
        &self,
        context: &str,
        change: impl FnOnce(&mut RwTxn<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut wtxn = self
            .env
            .write_txn()
            .context(|| format!("starting to write ({context})"))?;
        let value = change(&mut wtxn)?;
        wtxn.commit()
            .context(|| format!("committing ({context})"))?;
        Ok(value)
    }

    fn mark_interrupted(&self) -> Result<()> {
        self.write("marking interrupted runs", |wtxn| {
            let keys: Vec<Vec<u8>> = self
                .running
                .iter(wtxn)
                .context(|| "listing running runs".into())?
                .map(|entry| entry.map(|(key, _)| key.to_vec()))
                .collect::<heed::Result<_>>()
                .context(|| "listing running runs".into())?;
            for key in keys {
                let task = String::from_utf8_lossy(
                    key.split(|&byte| byte == 0).next().unwrap_or_default(),
                )
                .into_owned();
                if let Some(bytes) = self
                    .runs
                    .get(wtxn, &key)
                    .context(|| format!("reading a run of {task}"))?
                {
                    let mut record = decode(&task, bytes)?;
                    if record.outcome.is_none() {
                        tracing::warn!(
                            task,
                            run = record.run,
                            "a run was interrupted by a stop of the process"
                        );
                        record.outcome = Some(Outcome::Interrupted);
                        record.error = Some("the process stopped during this run".into());
                        self.runs.put(wtxn, &key, &encode(&record)?).context(|| {
                            format!("marking run {} of {task} interrupted", record.run)
                        })?;
                    }
                }
                self.running
                    .delete(wtxn, &key)
                    .context(|| format!("clearing a running mark of {task}"))?;
            }
            Ok(())
        })
    }

    /// Records that a run of `task` starts: gives it the next run number (one more than the
    /// newest in the log) and removes the task's runs beyond the bound, in one transaction.
    pub fn start(&self, task: &TaskId, trigger: Trigger, started: i64) -> Result<RunRecord> {
        self.write("recording a run's start", |wtxn| {
            let prefix = task_prefix(task);
            let newest = self
                .runs
                .rev_prefix_iter(wtxn, &prefix)
                .context(|| format!("finding the newest run of {task}"))?
                .next()
                .transpose()
                .context(|| format!("finding the newest run of {task}"))?
                .and_then(|(key, _)| run_of(key))
                .unwrap_or(0);
            let record =
                RunRecord::started(task.clone(), newest.saturating_add(1), trigger, started);
            let key = run_key(task, record.run);
            self.runs
                .put(wtxn, &key, &encode(&record)?)
                .context(|| format!("recording run {} of {task}", record.run))?;
            self.running
                .put(wtxn, &key, &[])
                .context(|| format!("marking run {} of {task} running", record.run))?;
            self.prune(wtxn, task, record.run)?;
            Ok(record)
        })
    }

    /// Removes the runs of `task` older than the newest `keep_per_task` (up to `newest`).
    /// Run numbers of one task are consecutive, so these are the keys up to
    /// `newest - keep_per_task`, the first ones of the task's prefix.
    fn prune(&self, wtxn: &mut RwTxn<'_>, task: &TaskId, newest: u64) -> Result<()> {
        let Some(last_removed) = newest.checked_sub(self.keep_per_task) else {
            return Ok(());
        };
        let mut old = Vec::new();
        for entry in self
            .runs
            .prefix_iter(wtxn, &task_prefix(task))
            .context(|| format!("listing old runs of {task}"))?
        {
            let (key, _) = entry.context(|| format!("listing old runs of {task}"))?;
            match run_of(key) {
                Some(run) if run <= last_removed => old.push(key.to_vec()),
                _ => break,
            }
        }
        for key in old {
            self.runs
                .delete(wtxn, &key)
                .context(|| format!("pruning old runs of {task}"))?;
            self.running
                .delete(wtxn, &key)
                .context(|| format!("pruning old runs of {task}"))?;
        }
        Ok(())
    }

    /// Completes a run started with [`RunLog::start`]: writes its end (outcome, summary,
    /// error; details beyond [`MAX_DETAILS`] replaced by a note) and clears its running mark.
    pub fn finish(&self, record: &RunRecord) -> Result<()> {
        let mut record = record.clone();
        record.details = bounded_details(record.details.take());
        record.error = record.error.map(|error| task::clip(error, MAX_ERROR));
        self.write("recording a run's end", |wtxn| {
            let key = run_key(&record.task, record.run);
            self.runs.put(wtxn, &key, &encode(&record)?).context(|| {
                format!("recording the end of run {} of {}", record.run, record.task)
            })?;
            self.running
                .delete(wtxn, &key)
                .context(|| format!("clearing the running mark of {}", record.task))?;
            Ok(())
        })
    }

    /// The newest `limit` runs of `task`, newest first.
    pub fn runs(&self, task: &TaskId, limit: usize) -> Result<Vec<RunRecord>> {
        let rtxn = self.env.read_txn().context(|| "starting to read".into())?;
        let mut records = Vec::new();
        for entry in self
            .runs
            .rev_prefix_iter(&rtxn, &task_prefix(task))
            .context(|| format!("listing runs of {task}"))?
            .take(limit)
        {
            let (_, bytes) = entry.context(|| format!("listing runs of {task}"))?;
            records.push(decode(task.as_str(), bytes)?);
        }
        Ok(records)
    }

    /// The newest run of `task` that has ended.
    pub fn last_ended(&self, task: &TaskId) -> Result<Option<RunRecord>> {
        let rtxn = self.env.read_txn().context(|| "starting to read".into())?;
        for entry in self
            .runs
            .rev_prefix_iter(&rtxn, &task_prefix(task))
            .context(|| format!("listing runs of {task}"))?
        {
            let (_, bytes) = entry.context(|| format!("listing runs of {task}"))?;
            let record = decode(task.as_str(), bytes)?;
            if record.outcome.is_some() {
                return Ok(Some(record));
            }
        }
        Ok(None)
    }
}
