//! The file target's run (`run_files`) end to end on `FakeZfs`: a full and several
//! incremental runs of a tree into chains that `verify` passes, whose streams the reader
//! gives back in order and a receive into a second fake machine turns into the source's
//! snapshots, guid for guid; a run with nothing new; the chain's end lost on the source
//! (continued from its bookmark; with the bookmark gone too refused, or a new chain beside
//! the old one, which retention removes once the new one verifies); `zfs send` failing
//! mid-stream or exiting badly after its last byte (the chain stays as it was and the next
//! run completes it); two runs at once; targets that cannot be used.

mod support;

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread;

use support::{Fixture, assert_clean, content, dataset, snapshot};
use wizfs_backup::config::BackupTarget;
use wizfs_backup::{
    BackupJobConfig, ChainIdentity, ChainWriter, RunError, RunReport, StepError, StreamKind,
    TargetName, WriteError, hold_tag, list_chains, open_verified, parse_backups, verify,
};
use wizfs_core::backup::{Action, BackupJob, Idle, MissingBase, Refusal, SendBase, TargetKind};
use wizfs_core::{
    Bookmark, BookmarkName, Dataset, DatasetName, Hold, Pool, PoolName, PoolStatus, Snapshot,
    SnapshotName, ZfsObjectName, ZfsVersion,
};
use wizfs_zfs::{
    DestroyOptions, DiffEntry, DiffTarget, FakeZfs, HoldTag, Property, PropertyName,
    ReceiveOptions, ResumeToken, Scope, SendSource, SendStream, Zfs, ZfsError, ZfsResult,
};

const TARGET: &str = "usb-1";

/// The job `usb` of tank/home (recursive) into `directory`, read from its `[[backup]]`
/// table as the daemon reads it, with `extra` lines added to the job.
fn files_job(directory: &Path, extra: &str) -> (BackupJob, String) {
    let text = format!(
        r#"
[[backup]]
id = "usb"
timezone = "UTC"
{extra}
[[backup.source]]
dataset = "tank/home"
recursive = true
[backup.target]
type = "files"
name = "{TARGET}"
directory = "{}"
volume_size = "1 MB"
"#,
        directory.display()
    );
    let configs: Vec<BackupJobConfig> =
        parse_backups(&text, Path::new("backups.toml")).expect("config");
    let BackupTarget::Files(files) = &configs[0].target else {
        panic!("a files target");
    };
    let name = files.name.to_string();
    (configs[0].planner_jobs().remove(0), name)
}

/// The chain directories in `directory`, in name order.
fn chain_directories(directory: &Path) -> Vec<PathBuf> {
    list_chains(directory)
        .expect("chains")
        .into_iter()
        .map(|chain| chain.directory)
        .collect()
}

/// The chain of `dataset_name` (the only one).
fn chain_of(directory: &Path, dataset_name: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = list_chains(directory)
        .expect("chains")
        .into_iter()
        .filter(|chain| {
            chain
                .manifest
                .as_ref()
                .is_ok_and(|manifest| manifest.dataset.as_str() == dataset_name)
        })
        .map(|chain| chain.directory)
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

fn stream_count(chain: &Path) -> usize {
    open_verified(chain)
        .expect("restorable")
        .manifest()
        .streams
        .len()
}

fn errors(report: &RunReport) -> Vec<String> {
    report
        .datasets
        .iter()
        .flat_map(|dataset| dataset.errors.iter().map(ToString::to_string))
        .chain(report.errors.iter().map(ToString::to_string))
        .collect()
}

/// Receives every stream of `chain` in order into `into` on a fresh fake machine.
fn restore(chain: &Path, into: &str) -> (tempfile::TempDir, FakeZfs) {
    let directory = tempfile::TempDir::new().expect("temporary directory");
    let zfs = FakeZfs::open(directory.path().join("root")).expect("fake");
    zfs.create_pool(&PoolName::new("restore").expect("pool"), 1 << 30)
        .expect("pool");
    let verified = open_verified(chain).expect("restorable");
    for stream in &verified.manifest().streams {
        let mut reader = verified.send_stream(stream.number).expect("stream");
        zfs.receive(&dataset(into), &ReceiveOptions::default(), &mut reader)
            .expect("receive");
    }
    (directory, zfs)
}

fn guids(zfs: &dyn Zfs, name: &str) -> Vec<u64> {
    zfs.list_snapshots(&dataset(name), Scope::Dataset)
        .expect("list")
        .iter()
        .map(|snapshot| snapshot.guid)
        .collect()
}

#[test]
fn full_then_incrementals_verify_read_back_and_restore_the_source() {
    let fixture = Fixture::new();
    let directory = fixture.files_directory();
    fixture.create("tank/home");
    fixture.create("tank/home/docs");
    fixture.write("tank/home", "a.txt", b"first");
    fixture.write("tank/home/docs", "d.txt", b"docs");
    fixture.snapshot("tank/home", "s0");
    fixture.snapshot("tank/home/docs", "s0");
    let (job, target) = files_job(&directory, "");

    let first = fixture.run_files(&job, &target).expect("run starts");
    assert_clean(&first);
    let home = first.dataset(&dataset("tank/home")).expect("home");
    assert!(matches!(home.action, Action::FullSend { .. }));
    assert_eq!(home.sends.len(), 1);
    assert!(home.sends[0].from.is_none() && home.bytes() > 0);
    assert_eq!(home.bookmarks.len(), 1);
    assert_eq!(chain_directories(&directory).len(), 2);
    let home_chain = chain_of(&directory, "tank/home");
    assert_eq!(home.chain.as_ref(), Some(&home_chain));
    assert_eq!(fixture.held_by(&job, "tank/home"), ["s0"]);
    // The holds are the same tag scheme as the pool target's.
    assert_eq!(hold_tag(&job).expect("tag").as_str(), "wizfs-backup-usb");

    for round in 1..=6_u64 {
        let short = format!("s{round}");
        // Every other round two snapshots of the child: one -I stream carries both.
        fixture.change_tree(round, &short);
        let report = fixture.run_files(&job, &target).expect("run starts");
        assert_clean(&report);
        let home = report.dataset(&dataset("tank/home")).expect("home");
        assert!(
            matches!(
                &home.sends[..],
                [sent] if sent.from == Some(SendBase::Snapshot(snapshot(&format!("tank/home@s{}", round - 1))))
            ),
            "{:?}",
            home.sends
        );
        assert_eq!(fixture.held_by(&job, "tank/home"), [short.as_str()]);
        assert_eq!(stream_count(&home_chain), round as usize + 1);
    }
    // Still one chain per dataset, and each passes verify.
    assert_eq!(chain_directories(&directory).len(), 2);
    for chain in chain_directories(&directory) {
        let report = verify(&chain).expect("verify");
        assert!(report.is_restorable(), "{:?}", report.problems);
    }
    let docs_chain = chain_of(&directory, "tank/home/docs");
    let docs = open_verified(&docs_chain).expect("docs");
    let kinds: Vec<bool> = docs
        .manifest()
        .streams
        .iter()
        .map(|stream| matches!(stream.kind, StreamKind::Full))
        .collect();
    assert_eq!(kinds, [true, false, false, false]);
    assert!(
        docs.manifest()
            .streams
            .iter()
            .skip(1)
            .all(|stream| matches!(
                stream.kind,
                StreamKind::Incremental {
                    intermediates: true,
                    ..
                }
            ))
    );

    // The streams, received in order on another machine, give the source's snapshots,
    // guid for guid (the -I streams with the snapshots between), and its files.
    for (source, chain) in [("tank/home", &home_chain), ("tank/home/docs", &docs_chain)] {
        let (_restored_directory, restored) = restore(chain, "restore/copy");
        assert_eq!(
            guids(&restored, "restore/copy"),
            guids(&fixture.zfs, source)
        );
        let mountpoint = restored
            .mountpoint(&dataset("restore/copy"))
            .expect("mountpoint");
        let file = if source == "tank/home" {
            "a.txt"
        } else {
            "d.txt"
        };
        assert_eq!(
            fs::read(mountpoint.join(file)).expect("restored file"),
            fixture.read(source, file)
        );
    }

    // Nothing new: nothing sent, nothing written.
    let manifest = fs::read(home_chain.join("manifest.json")).expect("manifest");
    let idle = fixture.run_files(&job, &target).expect("run starts");
    assert_clean(&idle);
    assert_eq!(idle.bytes(), 0);
    for dataset_report in &idle.datasets {
        assert!(
            matches!(
                dataset_report.action,
                Action::NothingToDo(Idle::UpToDate { .. })
            ),
            "{:?}",
            dataset_report.action
        );
        assert!(dataset_report.sends.is_empty());
    }
    assert_eq!(
        fs::read(home_chain.join("manifest.json")).expect("manifest"),
        manifest
    );
}

/// Releases the job's hold on `name` and destroys it (as a snapshot policy would).
fn prune_source(fixture: &Fixture, job: &BackupJob, name: &str) {
    let tag = hold_tag(job).expect("tag");
    let _ = fixture.zfs.release(&snapshot(name), &tag, false);
    fixture
        .zfs
        .destroy_snapshots(&[snapshot(name)], DestroyOptions::default())
        .expect("destroy");
}

#[test]
fn a_lost_chain_end_is_continued_from_its_bookmark_else_refused_or_started_anew() {
    let fixture = Fixture::new();
    let directory = fixture.files_directory();
    fixture.create("tank/home");
    fixture.write("tank/home", "a.txt", b"one");
    fixture.snapshot("tank/home", "s1");
    let (job, target) = files_job(&directory, "");
    assert_clean(&fixture.run_files(&job, &target).expect("run"));
    let chain = chain_of(&directory, "tank/home");

    // The snapshot the chain ends at is pruned: its bookmark is the base.
    fixture.write("tank/home", "a.txt", b"two");
    fixture.snapshot("tank/home", "s2");
    prune_source(&fixture, &job, "tank/home@s1");
    let report = fixture.run_files(&job, &target).expect("run");
    assert_clean(&report);
    let home = report.dataset(&dataset("tank/home")).expect("home");
    assert!(matches!(
        &home.sends[0].from,
        Some(SendBase::Bookmark(bookmark)) if bookmark.as_str() == "tank/home#s1"
    ));
    assert_eq!(chain_directories(&directory), std::slice::from_ref(&chain));
    assert_eq!(stream_count(&chain), 2);

    // Snapshot and bookmark gone: refused by default, nothing written.
    fixture.snapshot("tank/home", "s3");
    prune_source(&fixture, &job, "tank/home@s2");
    fixture
        .zfs
        .destroy_bookmark(&BookmarkName::new("tank/home#s2").expect("bookmark"))
        .expect("destroy bookmark");
    let refused = fixture.run_files(&job, &target).expect("run");
    assert!(matches!(
        refused.refusals().next(),
        Some((_, Refusal::NoCommonBase { .. }))
    ));
    assert_eq!(chain_directories(&directory), std::slice::from_ref(&chain));
    assert_eq!(stream_count(&chain), 2);

    // With `missing_base = "full-into-new-dataset"` a new chain starts beside the old one;
    // with a retention, the old chain goes once the new one verifies and the retention
    // keeps none of its snapshots.
    let (anew, _) = files_job(
        &directory,
        "missing_base = \"full-into-new-dataset\"\n[backup.retention]\nhourly = 1",
    );
    assert_eq!(anew.options.missing_base, MissingBase::FullIntoNewDataset);
    let report = fixture.run_files(&anew, &target).expect("run");
    assert_clean(&report);
    let home = report.dataset(&dataset("tank/home")).expect("home");
    assert!(matches!(home.action, Action::FullSend { .. }));
    let new_chain = home.chain.clone().expect("new chain");
    assert_ne!(new_chain, chain);
    assert_eq!(home.removed_chains, std::slice::from_ref(&chain));
    assert!(!chain.exists(), "the old chain's directory is gone");
    assert_eq!(
        chain_directories(&directory),
        std::slice::from_ref(&new_chain)
    );
    let (_restored_directory, restored) = restore(&new_chain, "restore/copy");
    assert_eq!(
        guids(&restored, "restore/copy"),
        guids(&fixture.zfs, "tank/home")
    );

    // The next snapshot continues the new chain.
    fixture.snapshot("tank/home", "s4");
    assert_clean(&fixture.run_files(&anew, &target).expect("run"));
    assert_eq!(stream_count(&new_chain), 2);
}

#[test]
fn without_retention_an_old_chain_stays_beside_the_new_one() {
    let fixture = Fixture::new();
    let directory = fixture.files_directory();
    fixture.create("tank/home");
    fixture.snapshot("tank/home", "s1");
    let (job, target) = files_job(&directory, "missing_base = \"full-into-new-dataset\"");
    assert_clean(&fixture.run_files(&job, &target).expect("run"));
    fixture.snapshot("tank/home", "s2");
    prune_source(&fixture, &job, "tank/home@s1");
    fixture
        .zfs
        .destroy_bookmark(&BookmarkName::new("tank/home#s1").expect("bookmark"))
        .expect("destroy bookmark");
    let report = fixture.run_files(&job, &target).expect("run");
    assert_clean(&report);
    assert!(report.datasets[0].removed_chains.is_empty());
    assert_eq!(chain_directories(&directory).len(), 2);
}

// ------------------------------------------------------------------ a sender that fails

/// How the wrapped machine's `zfs send` behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SendMode {
    /// As the fake sends.
    Whole,
    /// Fails with a read error after this many bytes (the sender killed mid-stream).
    BreakAfter(usize),
    /// Ends after this many bytes and then reports a failed exit (the pipe closed early).
    EndEarlyAfter(usize),
    /// Waits, once it started, until the test lets it go on.
    Gated,
}

/// `FakeZfs` with a `zfs send` the test controls.
#[derive(Debug)]
struct Wrapped<'a> {
    inner: &'a FakeZfs,
    mode: Mutex<SendMode>,
    gate: Mutex<Option<(Sender<()>, Receiver<()>)>>,
}

#[derive(Debug)]
struct ControlledStream {
    inner: Box<dyn SendStream>,
    mode: SendMode,
    position: usize,
    gate: Option<(Sender<()>, Receiver<()>)>,
}

impl Read for ControlledStream {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if let Some((started, go_on)) = self.gate.take() {
            let _ = started.send(());
            let _ = go_on.recv();
        }
        let limit = match self.mode {
            SendMode::BreakAfter(limit) | SendMode::EndEarlyAfter(limit) => limit,
            _ => usize::MAX,
        };
        if self.position >= limit {
            return match self.mode {
                SendMode::BreakAfter(_) => Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "zfs send was killed",
                )),
                _ => Ok(0),
            };
        }
        let room = buffer.len().min(limit - self.position);
        let read = self.inner.read(&mut buffer[..room])?;
        self.position += read;
        Ok(read)
    }
}

impl SendStream for ControlledStream {
    fn finish(self: Box<Self>) -> ZfsResult<()> {
        if let SendMode::EndEarlyAfter(_) = self.mode {
            return Err(ZfsError::StreamIo {
                command: "zfs send".into(),
                source: io::Error::other("zfs send exited with status 1"),
            });
        }
        self.inner.finish()
    }
}

impl Zfs for Wrapped<'_> {
    fn send(&self, source: &SendSource) -> ZfsResult<Box<dyn SendStream>> {
        let mode = *self.mode.lock().expect("mode");
        let gate = if mode == SendMode::Gated {
            self.gate.lock().expect("gate").take()
        } else {
            None
        };
        Ok(Box::new(ControlledStream {
            inner: self.inner.send(source)?,
            mode,
            position: 0,
            gate,
        }))
    }
    fn version(&self) -> ZfsResult<ZfsVersion> {
        self.inner.version()
    }
    fn list_pools(&self) -> ZfsResult<Vec<Pool>> {
        self.inner.list_pools()
    }
    fn pool_status(&self) -> ZfsResult<Vec<PoolStatus>> {
        self.inner.pool_status()
    }
    fn start_scrub(&self, pool: &PoolName) -> ZfsResult<()> {
        self.inner.start_scrub(pool)
    }
    fn list_datasets(&self, root: Option<&DatasetName>) -> ZfsResult<Vec<Dataset>> {
        self.inner.list_datasets(root)
    }
    fn list_snapshots(&self, dataset: &DatasetName, scope: Scope) -> ZfsResult<Vec<Snapshot>> {
        self.inner.list_snapshots(dataset, scope)
    }
    fn list_snapshots_with_properties(
        &self,
        dataset: &DatasetName,
        scope: Scope,
        properties: &[PropertyName],
    ) -> ZfsResult<Vec<(Snapshot, Vec<Option<String>>)>> {
        self.inner
            .list_snapshots_with_properties(dataset, scope, properties)
    }
    fn list_bookmarks(&self, dataset: &DatasetName) -> ZfsResult<Vec<Bookmark>> {
        self.inner.list_bookmarks(dataset)
    }
    fn get_properties(
        &self,
        target: &ZfsObjectName,
        properties: &[PropertyName],
    ) -> ZfsResult<Vec<Property>> {
        self.inner.get_properties(target, properties)
    }
    fn set_property(
        &self,
        target: &ZfsObjectName,
        property: &PropertyName,
        value: &str,
    ) -> ZfsResult<()> {
        self.inner.set_property(target, property, value)
    }
    fn create_filesystem(
        &self,
        name: &DatasetName,
        properties: &[(PropertyName, String)],
    ) -> ZfsResult<()> {
        self.inner.create_filesystem(name, properties)
    }
    fn destroy_filesystem(&self, name: &DatasetName, recursive: bool) -> ZfsResult<()> {
        self.inner.destroy_filesystem(name, recursive)
    }
    fn create_snapshots(
        &self,
        snapshots: &[SnapshotName],
        recursive: bool,
        properties: &[(PropertyName, String)],
    ) -> ZfsResult<()> {
        self.inner
            .create_snapshots(snapshots, recursive, properties)
    }
    fn destroy_snapshots(
        &self,
        snapshots: &[SnapshotName],
        options: DestroyOptions,
    ) -> ZfsResult<()> {
        self.inner.destroy_snapshots(snapshots, options)
    }
    fn reclaimable_space(&self, snapshots: &[SnapshotName]) -> ZfsResult<u64> {
        self.inner.reclaimable_space(snapshots)
    }
    fn hold(&self, snapshot: &SnapshotName, tag: &HoldTag, recursive: bool) -> ZfsResult<()> {
        self.inner.hold(snapshot, tag, recursive)
    }
    fn release(&self, snapshot: &SnapshotName, tag: &HoldTag, recursive: bool) -> ZfsResult<()> {
        self.inner.release(snapshot, tag, recursive)
    }
    fn holds(&self, snapshot: &SnapshotName) -> ZfsResult<Vec<Hold>> {
        self.inner.holds(snapshot)
    }
    fn create_bookmark(&self, snapshot: &SnapshotName, bookmark: &BookmarkName) -> ZfsResult<()> {
        self.inner.create_bookmark(snapshot, bookmark)
    }
    fn destroy_bookmark(&self, bookmark: &BookmarkName) -> ZfsResult<()> {
        self.inner.destroy_bookmark(bookmark)
    }
    fn diff(&self, from: &SnapshotName, to: DiffTarget<'_>) -> ZfsResult<Vec<DiffEntry>> {
        self.inner.diff(from, to)
    }
    fn estimate_send_size(&self, source: &SendSource) -> ZfsResult<u64> {
        self.inner.estimate_send_size(source)
    }
    fn receive(
        &self,
        target: &DatasetName,
        options: &ReceiveOptions,
        stream: &mut dyn Read,
    ) -> ZfsResult<()> {
        self.inner.receive(target, options, stream)
    }
    fn receive_resume_token(&self, dataset: &DatasetName) -> ZfsResult<Option<ResumeToken>> {
        self.inner.receive_resume_token(dataset)
    }
    fn abort_resumable_receive(&self, dataset: &DatasetName) -> ZfsResult<()> {
        self.inner.abort_resumable_receive(dataset)
    }
}

fn wrap(fixture: &Fixture) -> Wrapped<'_> {
    Wrapped {
        inner: &fixture.zfs,
        mode: Mutex::new(SendMode::Whole),
        gate: Mutex::new(None),
    }
}

fn run_wrapped(
    fixture: &Fixture,
    zfs: &Wrapped<'_>,
    job: &BackupJob,
) -> Result<RunReport, RunError> {
    let target = TargetName::new(TARGET).expect("target");
    wizfs_backup::run_files(
        zfs,
        job,
        &target,
        fixture.now(),
        &wizfs_core::rotation::UtcCalendar,
    )
}

#[test]
fn a_send_that_fails_midway_or_exits_badly_leaves_the_chain_usable() {
    let fixture = Fixture::new();
    let directory = fixture.files_directory();
    fixture.create("tank/home");
    fixture.write("tank/home", "a.txt", b"one");
    fixture.snapshot("tank/home", "s1");
    let (job, _) = files_job(&directory, "");
    let zfs = wrap(&fixture);
    assert_clean(&run_wrapped(&fixture, &zfs, &job).expect("run"));
    let chain = chain_of(&directory, "tank/home");
    let manifest = fs::read(chain.join("manifest.json")).expect("manifest");
    // Large enough for several 1 MB volumes.
    fixture.write("tank/home", "big.bin", &content(7, 3_000_000));
    fixture.snapshot("tank/home", "s2");

    for mode in [
        SendMode::BreakAfter(1_500_000),
        SendMode::EndEarlyAfter(1_500_000),
    ] {
        *zfs.mode.lock().expect("mode") = mode;
        let report = run_wrapped(&fixture, &zfs, &job).expect("run");
        let home = report.dataset(&dataset("tank/home")).expect("home");
        assert!(home.sends.is_empty(), "{mode:?}");
        match (&home.errors[..], mode) {
            ([StepError::Chain { source, .. }], SendMode::BreakAfter(_)) => {
                assert!(matches!(source, WriteError::Source { .. }), "{source}");
            }
            // The sender's exit status, read before the stream's end is committed.
            ([StepError::Zfs { source, .. }], SendMode::EndEarlyAfter(_)) => {
                assert!(source.to_string().contains("status 1"), "{source}");
            }
            (other, _) => panic!("{mode:?}: {other:?}"),
        }
        // The chain is as it was: one stream, nothing of the second under any name.
        assert_eq!(
            fs::read(chain.join("manifest.json")).expect("manifest"),
            manifest
        );
        assert!(verify(&chain).expect("verify").is_restorable());
        assert!(
            fs::read_dir(&chain).expect("list").all(|entry| !entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .starts_with("s000002")),
            "{mode:?}"
        );
        // The base stays held for the next run.
        assert!(
            fixture
                .held_by(&job, "tank/home")
                .contains(&"s1".to_owned())
        );
    }

    *zfs.mode.lock().expect("mode") = SendMode::Whole;
    let report = run_wrapped(&fixture, &zfs, &job).expect("run");
    assert_clean(&report);
    assert_eq!(stream_count(&chain), 2);
    let (_restored_directory, restored) = restore(&chain, "restore/copy");
    assert_eq!(
        guids(&restored, "restore/copy"),
        guids(&fixture.zfs, "tank/home")
    );
    assert_eq!(fixture.held_by(&job, "tank/home"), ["s2"]);
}

#[test]
fn two_runs_at_once_the_second_is_refused_and_a_busy_chain_is_reported() {
    let fixture = Fixture::new();
    let directory = fixture.files_directory();
    fixture.create("tank/home");
    fixture.snapshot("tank/home", "s1");
    let (job, _) = files_job(&directory, "");
    let zfs = wrap(&fixture);
    let (started_sender, started) = channel();
    let (go_on, go_on_receiver) = channel();
    *zfs.gate.lock().expect("gate") = Some((started_sender, go_on_receiver));
    *zfs.mode.lock().expect("mode") = SendMode::Gated;

    let first = thread::scope(|scope| {
        let first = scope.spawn(|| run_wrapped(&fixture, &zfs, &job));
        started.recv().expect("the first run sends");
        match run_wrapped(&fixture, &zfs, &job) {
            Err(RunError::Busy { job, .. }) => assert_eq!(job, "usb"),
            other => panic!("expected busy, got {other:?}"),
        }
        go_on.send(()).expect("go on");
        first.join().expect("first run")
    });
    assert_clean(&first.expect("the first run"));
    let chain = chain_of(&directory, "tank/home");
    assert_eq!(stream_count(&chain), 1);

    // A chain held open by another writer (a restore tool, a stuck process) is named.
    fixture.snapshot("tank/home", "s2");
    let identity = ChainIdentity {
        job: job.id.clone(),
        target: TargetName::new(TARGET).expect("target"),
        dataset: dataset("tank/home"),
    };
    let (writer, _) = ChainWriter::open(&chain, &identity, None, fixture.now()).expect("open");
    let report = fixture.run_files(&job, TARGET).expect("run");
    let home = report.dataset(&dataset("tank/home")).expect("home");
    assert!(
        matches!(
            &home.errors[..],
            [StepError::Chain {
                source: WriteError::Busy { .. },
                ..
            }]
        ),
        "{:?}",
        errors(&report)
    );
    drop(writer);
    assert_clean(&fixture.run_files(&job, TARGET).expect("run"));
    assert_eq!(stream_count(&chain), 2);
}

#[test]
fn a_missing_directory_and_another_kind_of_target_are_refused_before_anything_is_done() {
    let fixture = Fixture::new();
    fixture.create("tank/home");
    fixture.snapshot("tank/home", "s1");
    let absent = fixture.temporary.path().join("not-mounted");
    let (job, target) = files_job(&absent, "");
    assert!(matches!(
        fixture.run_files(&job, &target),
        Err(RunError::DirectoryMissing { .. })
    ));
    assert!(!absent.exists());
    assert!(fixture.held_by(&job, "tank/home").is_empty());
    let mut pool_job = job.clone();
    pool_job.target = TargetKind::LocalPool {
        root: dataset("backup/wizfs"),
    };
    assert!(matches!(
        fixture.run_files(&pool_job, &target),
        Err(RunError::WrongTarget { kind: "pool", .. })
    ));
}
