//! The driver end to end, on paused tokio time and channels (no wall-clock timing): periodic
//! runs, triggers during a run, unknown ids, panics and failures, shutdown with its grace
//! time, and the run log across restarts (also after a run cut short by a stop).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use wizfs_tasks::{
    Activity, Driver, DriverError, DriverHandle, LogOptions, ManualClock, Outcome, RunContext,
    RunLog, RunRecord, Summary, TaskDefinition, TaskError, TaskId, Trigger, task_fn,
};

const NOW: i64 = 1_700_000_000;

fn id(text: &str) -> TaskId {
    TaskId::new(text).unwrap()
}

fn open_log(directory: &std::path::Path) -> RunLog {
    RunLog::open_with(
        directory,
        LogOptions {
            keep_per_task: 100,
            map_size: 16 << 20,
        },
    )
    .unwrap()
}

/// A run as the probe saw it start.
#[derive(Debug)]
struct Started {
    run: u64,
    trigger: Trigger,
    at: Instant,
}

/// A task that reports each start and, when gated, waits for a release before it succeeds.
struct Probe {
    started: mpsc::UnboundedReceiver<Started>,
    release: mpsc::UnboundedSender<()>,
}

fn probe(name: &str, gated: bool) -> (TaskDefinition, Probe) {
    let (started_sender, started) = mpsc::unbounded_channel();
    let (release, release_receiver) = mpsc::unbounded_channel::<()>();
    let release_receiver = Arc::new(Mutex::new(release_receiver));
    let task = task_fn(move |context: RunContext| {
        let started = started_sender.clone();
        let release = release_receiver.clone();
        async move {
            let _ = started.send(Started {
                run: context.run,
                trigger: context.trigger.clone(),
                at: Instant::now(),
            });
            if gated {
                release.lock().await.recv().await;
            }
            Ok(Summary::new(format!("run {} done", context.run)))
        }
    });
    (
        TaskDefinition::new(id(name), format!("Probe {name}"), task),
        Probe { started, release },
    )
}

impl Probe {
    async fn next(&mut self) -> Started {
        self.started.recv().await.unwrap()
    }
}

/// A driver of the one task `definition`, its log in `directory`, its clock at `now`.
fn start_one(
    directory: &std::path::Path,
    definition: TaskDefinition,
    now: i64,
) -> (Driver, DriverHandle) {
    let mut builder = Driver::builder(open_log(directory), ManualClock::new(now));
    builder.register(definition).unwrap();
    let driver = builder.start(CancellationToken::new());
    let handle = driver.handle();
    (driver, handle)
}

fn run_numbers(runs: &[RunRecord]) -> Vec<u64> {
    runs.iter().map(|run| run.run).collect()
}

/// Waits (yielding, and letting paused time move) until `check` holds.
async fn eventually(
    handle: &DriverHandle,
    task: &str,
    check: impl Fn(&wizfs_tasks::TaskStatus) -> bool,
) {
    for _ in 0..10_000 {
        if check(&handle.status(task).unwrap()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("{task} never reached the state: {:?}", handle.status(task));
}

#[tokio::test(start_paused = true)]
async fn periodic_runs_start_after_the_delay_and_then_every_period() {
    let directory = tempfile::tempdir().unwrap();
    let (definition, mut probe) = probe("tick", false);
    let definition = definition
        .every(Duration::from_secs(60))
        .first_after(Duration::from_secs(30));
    let started = Instant::now();
    let (driver, handle) = start_one(directory.path(), definition, NOW);
    eventually(&handle, "tick", |status| status.next_run == Some(NOW + 30)).await;
    let status = handle.status("tick").unwrap();
    assert_eq!(status.activity, Activity::Idle);
    assert_eq!(status.period_seconds, Some(60));
    assert_eq!(status.title, "Probe tick");
    assert!(status.last.is_none());

    let runs = [probe.next().await, probe.next().await, probe.next().await];
    assert_eq!(
        runs.iter()
            .map(|run| (run.run, run.trigger.clone()))
            .collect::<Vec<_>>(),
        [
            (1, Trigger::Startup),
            (2, Trigger::Scheduled),
            (3, Trigger::Scheduled)
        ]
    );
    assert_eq!(runs[0].at - started, Duration::from_secs(30));
    assert_eq!(runs[1].at - runs[0].at, Duration::from_secs(60));
    assert_eq!(runs[2].at - runs[1].at, Duration::from_secs(60));

    eventually(&handle, "tick", |status| {
        status.last.as_ref().is_some_and(|last| last.run == 3) && status.next_run.is_some()
    })
    .await;
    let status = handle.status("tick").unwrap();
    assert_eq!(status.next_run, Some(NOW + 60));
    let last = status.last.unwrap();
    assert_eq!(last.outcome, Some(Outcome::Succeeded));
    assert_eq!(last.summary.as_deref(), Some("run 3 done"));
    driver.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_trigger_during_a_run_queues_exactly_one_more() {
    let directory = tempfile::tempdir().unwrap();
    let (definition, mut probe) = probe("reindex", true);
    let (driver, handle) = start_one(directory.path(), definition, NOW);

    handle.trigger("reindex", "a").unwrap();
    let first = probe.next().await;
    assert_eq!(
        (first.run, first.trigger),
        (1, Trigger::Triggered { by: "a".into() })
    );
    for by in ["b", "c", "d"] {
        handle.trigger("reindex", by).unwrap();
    }
    let status = handle.status("reindex").unwrap();
    assert_eq!(
        status.activity,
        Activity::Running {
            run: 1,
            since: NOW,
            trigger: Trigger::Triggered { by: "a".into() }
        }
    );
    assert!(status.queued);
    assert_eq!(status.next_run, None);

    probe.release.send(()).unwrap();
    let second = probe.next().await;
    assert_eq!(
        (second.run, second.trigger),
        (2, Trigger::Triggered { by: "b".into() })
    );
    assert!(!handle.status("reindex").unwrap().queued);
    probe.release.send(()).unwrap();
    eventually(&handle, "reindex", |status| {
        status.activity == Activity::Idle
    })
    .await;

    // Nothing else was queued: the next run is the one asked for now.
    handle.trigger("reindex", "e").unwrap();
    let third = probe.next().await;
    assert_eq!(
        (third.run, third.trigger),
        (3, Trigger::Triggered { by: "e".into() })
    );
    probe.release.send(()).unwrap();
    driver.shutdown().await;
    let runs = handle.runs("reindex", 10).await.unwrap();
    assert_eq!(
        runs.iter().map(|run| run.run).collect::<Vec<_>>(),
        [3, 2, 1]
    );
    assert!(
        runs.iter()
            .all(|run| run.outcome == Some(Outcome::Succeeded))
    );
}

#[tokio::test(start_paused = true)]
async fn unknown_ids_duplicates_and_zero_periods_are_typed_errors() {
    let directory = tempfile::tempdir().unwrap();
    let (definition, _probe) = probe("known", false);
    let mut builder = Driver::builder(open_log(directory.path()), ManualClock::new(NOW));
    builder.register(definition).unwrap();
    let (again, _) = probe("known", false);
    assert!(matches!(
        builder.register(again),
        Err(DriverError::DuplicateTask { id }) if id.as_str() == "known"
    ));
    let (zero, _) = probe("zero", false);
    assert!(matches!(
        builder.register(zero.every(Duration::ZERO)),
        Err(DriverError::ZeroPeriod { .. })
    ));
    let driver = builder.start(CancellationToken::new());
    let handle = driver.handle();
    for unknown in ["nope", "Known", "", "known\n"] {
        let error = handle.trigger(unknown, "test").unwrap_err();
        assert!(matches!(&error, DriverError::UnknownTask { id } if id == unknown));
        assert!(matches!(
            handle.status(unknown),
            Err(DriverError::UnknownTask { .. })
        ));
        assert!(matches!(
            handle.runs(unknown, 5).await,
            Err(DriverError::UnknownTask { .. })
        ));
    }
    assert_eq!(
        DriverError::UnknownTask { id: "a\nb".into() }.to_string(),
        "there is no background task \"a\\nb\""
    );
    assert_eq!(handle.statuses().len(), 1);
    driver.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_panic_or_a_failure_is_recorded_and_stops_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let (panics_sender, mut panics) = mpsc::unbounded_channel::<u64>();
    let boom = task_fn(move |context: RunContext| {
        let panics = panics_sender.clone();
        async move {
            let _ = panics.send(context.run);
            if context.run == 3 {
                return Err(TaskError::new("pool tank is gone"));
            }
            panic!("disk on fire in run {}", context.run);
        }
    });
    let (calm, mut calm_probe) = probe("calm", false);
    let mut builder = Driver::builder(open_log(directory.path()), ManualClock::new(NOW));
    builder
        .register(TaskDefinition::new(id("boom"), "Boom", boom))
        .unwrap()
        .register(calm.every(Duration::from_secs(10)))
        .unwrap();
    let driver = builder.start(CancellationToken::new());
    let handle = driver.handle();
    for run in 1..=3 {
        handle.trigger("boom", "test").unwrap();
        assert_eq!(panics.recv().await, Some(run));
        eventually(&handle, "boom", |status| {
            status.last.as_ref().is_some_and(|last| last.run == run)
        })
        .await;
    }
    // The other task went on meanwhile and goes on.
    let before = calm_probe.next().await.run;
    assert!(calm_probe.next().await.run > before);

    let runs = handle.runs("boom", 10).await.unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0].outcome, Some(Outcome::Failed));
    assert_eq!(runs[0].error.as_deref(), Some("pool tank is gone"));
    for (record, run) in runs[1..].iter().zip([2, 1]) {
        assert_eq!(record.outcome, Some(Outcome::Panicked));
        assert_eq!(
            record.error.clone().unwrap(),
            format!("disk on fire in run {run}")
        );
        assert!(record.ended.is_some());
    }
    assert_eq!(handle.status("boom").unwrap().activity, Activity::Idle);
    driver.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_a_run_or_abandons_it_after_the_grace_time() {
    let directory = tempfile::tempdir().unwrap();
    let (stubborn, mut stubborn_probe) = probe("stubborn", true);
    let (polite_sender, mut polite_started) = mpsc::unbounded_channel::<()>();
    let polite = task_fn(move |context: RunContext| {
        let started = polite_sender.clone();
        async move {
            let _ = started.send(());
            context.cancelled().await;
            Ok(Summary::new("stopped at a safe point"))
        }
    });
    let mut builder = Driver::builder(open_log(directory.path()), ManualClock::new(NOW));
    builder
        .grace(Duration::from_secs(10))
        .register(stubborn)
        .unwrap()
        .register(TaskDefinition::new(id("polite"), "Polite", polite))
        .unwrap();
    let shutdown = CancellationToken::new();
    let driver = builder.start(shutdown.clone());
    let handle = driver.handle();
    handle.trigger("stubborn", "test").unwrap();
    handle.trigger("polite", "test").unwrap();
    stubborn_probe.next().await;
    polite_started.recv().await.unwrap();

    let stopping = Instant::now();
    shutdown.cancel();
    driver.stopped().await;
    assert_eq!(stopping.elapsed(), Duration::from_secs(10));

    let stubborn = &handle.runs("stubborn", 1).await.unwrap()[0];
    assert_eq!(stubborn.outcome, Some(Outcome::Interrupted));
    assert!(
        stubborn
            .error
            .as_deref()
            .unwrap()
            .contains("abandoned at shutdown")
    );
    let polite = &handle.runs("polite", 1).await.unwrap()[0];
    assert_eq!(polite.outcome, Some(Outcome::Succeeded));
    assert_eq!(polite.summary.as_deref(), Some("stopped at a safe point"));
    // A stopped driver takes no more triggers, but the handle still answers.
    assert!(matches!(
        handle.trigger("polite", "late"),
        Err(DriverError::Stopped { .. })
    ));
    assert_eq!(handle.status("polite").unwrap().activity, Activity::Idle);
}

#[tokio::test(start_paused = true)]
async fn the_log_survives_a_restart_and_numbers_go_on() {
    let directory = tempfile::tempdir().unwrap();
    {
        let (definition, mut probe) = probe("reindex", false);
        let (driver, handle) = start_one(directory.path(), definition, NOW);
        for _ in 0..2 {
            handle.trigger("reindex", "cli").unwrap();
            probe.next().await;
            eventually(&handle, "reindex", |status| {
                status.last.is_some() && status.activity == Activity::Idle
            })
            .await;
        }
        driver.shutdown().await;
    }
    let (definition, mut probe) = probe("reindex", false);
    let (driver, handle) = start_one(directory.path(), definition, NOW + 100);
    let last = handle.status("reindex").unwrap().last.unwrap();
    assert_eq!((last.run, last.outcome), (2, Some(Outcome::Succeeded)));
    let runs = handle.runs("reindex", 10).await.unwrap();
    assert_eq!(run_numbers(&runs), [2, 1]);
    assert_eq!(runs[0].trigger, Trigger::Triggered { by: "cli".into() });
    assert_eq!(runs[0].started, NOW);

    handle.trigger("reindex", "cli").unwrap();
    assert_eq!(probe.next().await.run, 3);
    driver.shutdown().await;
}

/// A stop of the process in the middle of a run: the runtime is dropped while the run waits.
#[test]
fn a_run_cut_by_a_stop_of_the_process_is_interrupted_after_restart() {
    let directory = tempfile::tempdir().unwrap();
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    };
    {
        let first = runtime();
        let (definition, mut probe) = probe("scrub", true);
        let (driver, handle) =
            first.block_on(async { start_one(directory.path(), definition, NOW) });
        handle.trigger("scrub", "api").unwrap();
        let started = probe.started.blocking_recv().unwrap();
        assert_eq!(started.run, 1);
        drop((driver, handle));
        drop(first);
    }
    let second = runtime();
    second.block_on(async {
        let (definition, mut probe) = probe("scrub", false);
        let (driver, handle) = start_one(directory.path(), definition, NOW + 60);
        let last = handle.status("scrub").unwrap().last.unwrap();
        assert_eq!(last.run, 1);
        assert_eq!(last.outcome, Some(Outcome::Interrupted));
        assert_eq!(last.ended, None);
        assert_eq!(last.trigger, Trigger::Triggered { by: "api".into() });
        handle.trigger("scrub", "api").unwrap();
        assert_eq!(probe.next().await.run, 2);
        driver.shutdown().await;
    });
}

#[tokio::test(start_paused = true)]
async fn a_period_beyond_the_clock_runs_at_startup_and_then_only_when_triggered() {
    let directory = tempfile::tempdir().unwrap();
    let (definition, mut probe) = probe("rare", false);
    let (driver, handle) = start_one(directory.path(), definition.every(Duration::MAX), NOW);
    assert_eq!(probe.next().await.trigger, Trigger::Startup);
    eventually(&handle, "rare", |status| status.last.is_some()).await;
    assert_eq!(handle.status("rare").unwrap().next_run, None);
    handle.trigger("rare", "test").unwrap();
    assert_eq!(probe.next().await.run, 2);
    driver.shutdown().await;
}
