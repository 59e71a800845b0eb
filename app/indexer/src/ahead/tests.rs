//! The read-ahead against a scan function that records which streams it read and on which
//! thread, and returns a scan whose size says which stream it was.

use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use super::*;

/// A scan of the job at `position` holds `position + 1` objects numbered `position`.
fn scan_of(job: &ScanJob) -> ObjectScan {
    ObjectScan {
        objects: vec![(job.position as u64, 0); job.position + 1],
        ..ObjectScan::default()
    }
}

fn jobs(positions: &[usize]) -> Vec<ScanJob> {
    positions
        .iter()
        .map(|&position| ScanJob {
            position,
            from: SnapshotName::new(&format!("tank/a@s{}", position)).expect("name"),
            to: SnapshotName::new(&format!("tank/a@s{}", position + 1)).expect("name"),
        })
        .collect()
}

/// Which positions were read, in order, and whether on the test's own thread.
type Log = Arc<Mutex<Vec<(usize, ThreadId)>>>;

fn recording(log: &Log) -> Arc<Scan> {
    let log = log.clone();
    Arc::new(move |job: &ScanJob| {
        log.lock()
            .expect("log")
            .push((job.position, std::thread::current().id()));
        Ok(scan_of(job))
    })
}

fn read(log: &Log) -> Vec<usize> {
    let mut positions: Vec<usize> = log
        .lock()
        .expect("log")
        .iter()
        .map(|(position, _)| *position)
        .collect();
    positions.sort_unstable();
    positions
}

fn limits(snapshots: usize, objects: usize) -> Limits {
    Limits {
        workers: 2,
        snapshots,
        objects,
    }
}

fn taken(ahead: &ReadAhead, position: usize) -> Option<usize> {
    ahead
        .take(position)
        .map(|result| result.expect("scan").objects.len() - 1)
}

#[test]
fn every_job_is_read_once_and_given_to_its_own_position() {
    let log = Log::default();
    let ahead = ReadAhead::start(
        jobs(&[0, 1, 2, 4, 5]),
        recording(&log),
        limits(16, 1_000),
        true,
    );
    for position in 0..6 {
        let expected = (position != 3).then_some(position);
        assert_eq!(taken(&ahead, position), expected, "position {position}");
    }
    assert_eq!(read(&log), vec![0, 1, 2, 4, 5]);
}

#[test]
fn workers_stay_within_the_snapshot_window() {
    let log = Log::default();
    let ahead = ReadAhead::start(
        jobs(&[1, 2, 3, 4, 5, 6, 7]),
        recording(&log),
        limits(3, 1_000),
        true,
    );
    // At position 0, three positions ahead: 0, 1, 2 — of which 1 and 2 have jobs.
    ahead.settle();
    assert_eq!(read(&log), vec![1, 2]);
    assert_eq!(taken(&ahead, 1), Some(1));
    ahead.settle();
    assert_eq!(read(&log), vec![1, 2, 3]);
    // Passing positions without taking them (compared another way) moves the window too,
    // and what was read for them is dropped.
    ahead.reached(4);
    ahead.settle();
    assert_eq!(read(&log), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(taken(&ahead, 3), None, "behind the indexing thread");
    assert_eq!(taken(&ahead, 5), Some(5));
    assert_eq!(taken(&ahead, 7), Some(7));
}

#[test]
fn workers_stop_while_finished_scans_hold_the_object_limit() {
    let log = Log::default();
    // Scans of positions 0, 1, 2 hold 1, 2 and 3 objects: 6 reach the limit of 5 after
    // the third.
    let ahead = ReadAhead::start(jobs(&[0, 1, 2, 3, 4]), recording(&log), limits(16, 5), true);
    ahead.settle();
    let before = read(&log);
    assert!(
        before == vec![0, 1, 2] || before == vec![0, 1, 2, 3],
        "two workers may both start before the limit is reached: {before:?}"
    );
    assert_eq!(taken(&ahead, 0), Some(0));
    assert_eq!(taken(&ahead, 1), Some(1));
    assert_eq!(taken(&ahead, 2), Some(2));
    assert_eq!(taken(&ahead, 3), Some(3));
    assert_eq!(taken(&ahead, 4), Some(4));
    assert_eq!(read(&log), vec![0, 1, 2, 3, 4]);
}

#[test]
fn paused_workers_start_nothing_and_a_needed_scan_is_read_by_the_taker() {
    let log = Log::default();
    let ahead = ReadAhead::start(jobs(&[1, 2, 3]), recording(&log), limits(16, 1_000), false);
    ahead.settle();
    assert!(read(&log).is_empty(), "paused from the start");
    assert_eq!(taken(&ahead, 1), Some(1));
    let me = std::thread::current().id();
    assert_eq!(log.lock().expect("log").as_slice(), &[(1, me)]);
    ahead.set_running(true);
    ahead.settle();
    assert_eq!(read(&log), vec![1, 2, 3]);
    assert_eq!(taken(&ahead, 3), Some(3));
}

#[test]
fn a_failing_or_panicking_scan_is_that_position_s_error() {
    let scan: Arc<Scan> = Arc::new(|job: &ScanJob| match job.position {
        1 => Err(IndexerError::Stream {
            snapshot: job.to.clone(),
            source: StreamError::Truncated("cut".into()),
        }),
        2 => panic!("a bug while reading"),
        _ => Ok(scan_of(job)),
    });
    let ahead = ReadAhead::start(jobs(&[0, 1, 2, 3]), scan, limits(16, 1_000), true);
    assert_eq!(taken(&ahead, 0), Some(0));
    assert!(matches!(
        ahead.take(1),
        Some(Err(IndexerError::Stream {
            source: StreamError::Truncated(_),
            ..
        }))
    ));
    match ahead.take(2) {
        Some(Err(IndexerError::Stream { snapshot, source })) => {
            assert_eq!(snapshot.as_str(), "tank/a@s3");
            assert!(source.to_string().contains("panicked"), "{source}");
        }
        other => panic!("expected the panic as an error, got {other:?}"),
    }
    assert_eq!(taken(&ahead, 3), Some(3));
}

#[test]
fn nothing_to_read_starts_no_worker_and_takes_nothing() {
    let log = Log::default();
    let ahead = ReadAhead::start(Vec::new(), recording(&log), limits(16, 1_000), true);
    ahead.settle();
    assert_eq!(ahead.take(0).map(|result| result.is_ok()), None);
    assert!(read(&log).is_empty());
}
