//! The `wizfs` CLI next to a running daemon: its writes to the index go through the daemon's
//! control socket, so a snapshot taken with the CLI is searchable through the daemon at once
//! and `wizfs index` is never refused with "locked" (issue 18). The daemon's side runs in
//! this process (the control socket on a runtime of its own, the index held for writing);
//! the CLI runs in-process too, on the same `FakeZfs`, and finds the daemon by its socket.

use std::sync::Arc;

use clap::Parser;
use wizfs_api::SearchRequest;
use wizfs_core::{DatasetName, PoolName};
use wizfs_zfs::{FakeZfs, Zfs};

fn cli(root: &std::path::Path, words: &[&str]) -> wizfs_cli::Cli {
    let root = root.to_string_lossy().into_owned();
    let arguments = ["wizfs", "--fake", root.as_str()]
        .into_iter()
        .chain(words.iter().copied());
    wizfs_cli::Cli::try_parse_from(arguments).expect("arguments")
}

#[test]
fn snapshots_taken_with_the_cli_are_indexed_by_the_running_daemon() {
    let directory = tempfile::tempdir().expect("tempdir");
    let root = directory.path().join("fake");
    let fake = FakeZfs::open(&root).expect("fake");
    fake.create_pool(&PoolName::new("tank").expect("name"), 1 << 30)
        .expect("pool");
    let dataset = DatasetName::new("tank/home").expect("name");
    fake.create_filesystem(&dataset, &[]).expect("dataset");
    let mountpoint = fake.mountpoint(&dataset).expect("mountpoint");
    std::fs::write(mountpoint.join("quarterly-report.txt"), b"numbers").expect("write");
    let zfs: Arc<dyn Zfs> = Arc::new(fake);

    // The daemon: the index held for writing, the API on its control socket.
    let data_dir = root.join(".wizfs");
    let store = wizfs_services::open_index(&data_dir).expect("index");
    let state = wizfsd::server::AppState::new(zfs.clone()).with_index(
        store,
        wizfs_services::config::IndexConfig::default(),
        wizfs_indexer::MethodPolicy::Diff,
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let listener = runtime
        .block_on(wizfsd::control::bind(&wizfsd::control::socket_path(
            &data_dir,
        )))
        .expect("control socket");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(wizfsd::control::serve(
        listener,
        state.clone(),
        async move {
            let _ = stopped.await;
        },
    ));

    let mut out = Vec::new();
    wizfs_cli::run(
        &cli(&root, &["snapshot", "create", "tank/home@before-cleanup"]),
        zfs.clone(),
        &mut out,
    )
    .expect("wizfs snapshot create");
    std::fs::remove_file(mountpoint.join("quarterly-report.txt")).expect("remove");

    // Searchable through the daemon as soon as the command returned.
    let request = SearchRequest {
        q: "quarterly".into(),
        ..SearchRequest::default()
    };
    let found = runtime
        .block_on(state.search(request.clone()))
        .expect("search");
    assert!(
        found.hits.iter().any(|hit| {
            hit.name == "quarterly-report.txt"
                && hit.first_snapshot.as_deref() == Some("before-cleanup")
        }),
        "{found:?}"
    );

    // A snapshot made behind WiZFS's back, then `wizfs index`: through the daemon, not
    // refused because the daemon holds the index.
    zfs.create_snapshots(&[dataset.snapshot("by-hand").expect("name")], false, &[])
        .expect("snapshot by hand");
    let mut out = Vec::new();
    wizfs_cli::run(&cli(&root, &["index", "tank/home"]), zfs.clone(), &mut out)
        .expect("wizfs index through the daemon");
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("tank/home: 1 snapshot(s) indexed"), "{text}");
    let deleted = runtime
        .block_on(state.search(SearchRequest {
            deleted: true,
            ..request
        }))
        .expect("search deleted");
    assert_eq!(deleted.hits.len(), 1, "{deleted:?}");

    // Reads and restores are API calls through the daemon too: a search with lists of
    // filters and a directory of the live system, and a restore, which the daemon shows as
    // one of its tasks (a restore run in the CLI's own process would not be there).
    let mut out = Vec::new();
    let under = mountpoint.to_string_lossy().into_owned();
    wizfs_cli::run(
        &cli(
            &root,
            &[
                "--json",
                "search",
                "quarterly",
                "--type",
                "file",
                "--type",
                "symlink",
                "--ext",
                "txt",
                "--ext",
                "pdf",
                "--under",
                &under,
                "--deleted",
            ],
        ),
        zfs.clone(),
        &mut out,
    )
    .expect("wizfs search through the daemon");
    let found: wizfs_api::SearchResultsView = serde_json::from_slice(&out).expect("results");
    assert!(
        !found.hits.is_empty()
            && found
                .hits
                .iter()
                .all(|hit| hit.dataset == "tank/home" && hit.name.ends_with(".txt")),
        "{found:?}"
    );
    let report = mountpoint.join("quarterly-report.txt");
    let report = report.to_string_lossy().into_owned();
    let mut out = Vec::new();
    wizfs_cli::run(
        &cli(&root, &["restore", &report, "--from", "before-cleanup"]),
        zfs.clone(),
        &mut out,
    )
    .expect("wizfs restore through the daemon");
    let text = String::from_utf8_lossy(&out);
    let copy = text
        .lines()
        .find_map(|line| line.strip_prefix("restored ")?.split_once(" to "))
        .map(|(_, copy)| copy.to_owned())
        .unwrap_or_else(|| panic!("no `restored … to …` line: {text}"));
    assert_eq!(
        std::fs::read(&copy).expect("the copy"),
        b"numbers",
        "{text}"
    );
    // `wizfs cat` and `wizfs download` stream through the daemon too.
    let mut out = Vec::new();
    wizfs_cli::run(
        &cli(&root, &["cat", &report, "--snapshot", "before-cleanup"]),
        zfs.clone(),
        &mut out,
    )
    .expect("wizfs cat through the daemon");
    assert_eq!(out, b"numbers");
    let folder = mountpoint.to_string_lossy().into_owned();
    let refused = wizfs_cli::run(&cli(&root, &["cat", &folder]), zfs.clone(), &mut Vec::new())
        .expect_err("a directory is not cat");
    assert!(
        format!("{refused:#}").contains("not a regular file"),
        "{refused:#}"
    );
    let archive = directory.path().join("home.zip");
    let archive_text = archive.to_string_lossy().into_owned();
    wizfs_cli::run(
        &cli(
            &root,
            &[
                "download",
                &folder,
                "--format",
                "zip",
                "--output",
                &archive_text,
            ],
        ),
        zfs.clone(),
        &mut Vec::new(),
    )
    .expect("wizfs download through the daemon");
    let bytes = std::fs::read(&archive).expect("the archive");
    assert!(bytes.starts_with(b"PK\x03\x04") && bytes.windows(7).any(|w| w == b"numbers"));

    let tasks = runtime
        .block_on(wizfs_api::Api::progress(&state))
        .expect("tasks");
    assert!(tasks.iter().any(|task| task.kind == "restore"), "{tasks:?}");

    // The background tasks, listed and run by the CLI through the daemon.
    let tasks_stop = tokio_util::sync::CancellationToken::new();
    let driver = {
        let _inside = runtime.enter();
        wizfs_services::tasks::start(&state, &data_dir.join("tasks"), tasks_stop.clone())
            .expect("tasks")
    };
    let mut out = Vec::new();
    wizfs_cli::run(&cli(&root, &["tasks"]), zfs.clone(), &mut out).expect("wizfs tasks");
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("index"), "{text}");
    let mut out = Vec::new();
    wizfs_cli::run(
        &cli(&root, &["tasks", "run", "index"]),
        zfs.clone(),
        &mut out,
    )
    .expect("wizfs tasks run");
    let mut triggered = false;
    for _ in 0..500 {
        let mut out = Vec::new();
        wizfs_cli::run(
            &cli(&root, &["--json", "tasks", "runs", "index"]),
            zfs.clone(),
            &mut out,
        )
        .expect("wizfs tasks runs");
        let runs: Vec<wizfs_api::RunView> = serde_json::from_slice(&out).expect("runs");
        if runs.iter().any(|run| {
            run.trigger == wizfs_api::TriggerView::Triggered { by: "cli".into() }
                && run.outcome == Some(wizfs_api::OutcomeView::Succeeded)
        }) {
            triggered = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(triggered, "the run the CLI asked for is in the log, by cli");
    tasks_stop.cancel();
    runtime.block_on(driver.stopped());

    stop.send(()).expect("stop");
    runtime.block_on(serving).expect("task").expect("served");
}
