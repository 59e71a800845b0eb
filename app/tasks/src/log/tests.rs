//! Tests of the run log: numbering, newest-first reading, pruning, interrupted runs, limits.

use super::*;

fn id(text: &str) -> TaskId {
    TaskId::new(text).unwrap()
}

fn small(keep_per_task: usize) -> LogOptions {
    LogOptions {
        keep_per_task,
        map_size: 16 << 20,
    }
}

fn run_numbers(log: &RunLog, task: &str) -> Vec<u64> {
    log.runs(&id(task), 100)
        .unwrap()
        .iter()
        .map(|record| record.run)
        .collect()
}

fn finish(log: &RunLog, mut record: RunRecord, ended: i64) -> RunRecord {
    record.ended = Some(ended);
    record.outcome = Some(Outcome::Succeeded);
    record.summary = Some(format!("run {}", record.run));
    log.finish(&record).unwrap();
    record
}

#[test]
fn runs_are_numbered_per_task_and_read_newest_first() {
    let directory = tempfile::tempdir().unwrap();
    let log = RunLog::open_with(directory.path(), small(10)).unwrap();
    let (a, b) = (id("a"), id("a-b"));
    for time in 0..3 {
        let record = log.start(&a, Trigger::Scheduled, time).unwrap();
        finish(&log, record, time + 1);
    }
    let other = log.start(&b, Trigger::Startup, 10).unwrap();
    assert_eq!(other.run, 1);
    assert_eq!(run_numbers(&log, "a"), [3, 2, 1]);
    let runs = log.runs(&a, 10).unwrap();
    assert_eq!(runs[0].summary.as_deref(), Some("run 3"));
    assert_eq!(log.runs(&a, 2).unwrap().len(), 2);
    assert_eq!(log.runs(&b, 10).unwrap(), [other]);
    assert!(log.runs(&id("c"), 10).unwrap().is_empty());
}

#[test]
fn starting_a_run_prunes_to_the_bound_and_numbers_go_on() {
    let directory = tempfile::tempdir().unwrap();
    {
        let log = RunLog::open_with(directory.path(), small(3)).unwrap();
        for time in 0..5 {
            let record = log.start(&id("a"), Trigger::Scheduled, time).unwrap();
            finish(&log, record, time);
        }
        assert_eq!(run_numbers(&log, "a"), [5, 4, 3]);
    }
    let log = RunLog::open_with(directory.path(), small(2)).unwrap();
    assert_eq!(log.start(&id("a"), Trigger::Scheduled, 9).unwrap().run, 6);
    assert_eq!(run_numbers(&log, "a"), [6, 5]);
}

#[test]
fn a_run_without_an_end_is_interrupted_after_reopening() {
    let directory = tempfile::tempdir().unwrap();
    {
        let log = RunLog::open_with(directory.path(), small(10)).unwrap();
        let done = log.start(&id("a"), Trigger::Startup, 1).unwrap();
        finish(&log, done, 2);
        let started = log.start(&id("a"), Trigger::Scheduled, 3).unwrap();
        assert_eq!(log.runs(&id("a"), 1).unwrap()[0].outcome, None);
        assert_eq!(log.last_ended(&id("a")).unwrap().unwrap().run, 1);
        assert_eq!(started.run, 2);
    }
    let log = RunLog::open_with(directory.path(), small(10)).unwrap();
    let runs = log.runs(&id("a"), 10).unwrap();
    assert_eq!(runs[0].run, 2);
    assert_eq!(runs[0].outcome, Some(Outcome::Interrupted));
    assert_eq!(runs[0].ended, None);
    assert!(runs[0].error.as_deref().unwrap().contains("stopped"));
    assert_eq!(runs[1].outcome, Some(Outcome::Succeeded));
    assert_eq!(log.last_ended(&id("a")).unwrap().unwrap().run, 2);
    // Marked once: a later run's end does not touch it, and reopening again changes nothing.
    drop(log);
    let log = RunLog::open_with(directory.path(), small(10)).unwrap();
    assert_eq!(log.runs(&id("a"), 10).unwrap(), runs);
}

#[test]
fn large_details_and_errors_are_bounded() {
    let directory = tempfile::tempdir().unwrap();
    let log = RunLog::open_with(directory.path(), small(10)).unwrap();
    let mut record = log.start(&id("a"), Trigger::Scheduled, 0).unwrap();
    record.outcome = Some(Outcome::Failed);
    record.details = Some(serde_json::json!({ "blob": "x".repeat(MAX_DETAILS) }));
    record.error = Some("e".repeat(3 * MAX_ERROR));
    log.finish(&record).unwrap();
    let stored = &log.runs(&id("a"), 1).unwrap()[0];
    assert_eq!(
        stored.details.as_ref().unwrap()["omitted"],
        "details too large"
    );
    assert!(stored.error.as_ref().unwrap().len() <= MAX_ERROR);
}

#[test]
fn a_corrupt_record_is_an_error_not_a_panic() {
    let directory = tempfile::tempdir().unwrap();
    let log = RunLog::open_with(directory.path(), small(10)).unwrap();
    let mut wtxn = log.env.write_txn().unwrap();
    log.runs
        .put(&mut wtxn, &run_key(&id("a"), 1), b"{not json")
        .unwrap();
    wtxn.commit().unwrap();
    let error = log.runs(&id("a"), 10).unwrap_err();
    assert!(matches!(error, LogError::Corrupt { .. }), "{error}");
    // The next run still gets a number.
    assert_eq!(log.start(&id("a"), Trigger::Scheduled, 0).unwrap().run, 2);
}

#[test]
fn a_second_open_in_one_process_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let _log = RunLog::open_with(directory.path(), small(10)).unwrap();
    let error = RunLog::open_with(directory.path(), small(10)).unwrap_err();
    assert!(
        matches!(
            error,
            LogError::Open(wizfs_lmdb::LmdbError::AlreadyOpen { .. })
        ),
        "{error}"
    );
}
