//! The file target end to end in temporary directories: chains written in volumes, read
//! back after verification, restored with stock tools (`sha256sum -c`, `cat … | zstd -d`,
//! run through `wizfs-process`), interrupted writes and their clean re-runs, and every
//! problem `verify` must name.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use wizfs_backup::durable::list_names;
use wizfs_backup::manifest::FORMAT;
use wizfs_backup::names::{MANIFEST_FILE, RESTORE_FILE};
use wizfs_backup::pipeline::DEFAULT_COMPRESSION;
use wizfs_backup::{
    ChainIdentity, ChainManifest, ChainWriter, Compression, Pipeline, PipelineError, Problem,
    ReadError, StreamHeader, StreamKind, TargetName, VerifyError, WriteError, chain_directory_name,
    list_chains, open_verified, verify,
};
use wizfs_core::backup::{BackupJobId, SendBase};
use wizfs_core::{DatasetName, SnapshotName, Timestamp};
use wizfs_process::{Invocation, Runner, SystemRunner};

const NOW: Timestamp = Timestamp(1_796_724_000);
const VOLUME: u64 = 64 * 1024;

fn identity(job: &str) -> ChainIdentity {
    ChainIdentity {
        job: BackupJobId::new(job).expect("job id"),
        target: TargetName::new("usb-1").expect("target"),
        dataset: DatasetName::new("tank/home").expect("dataset"),
    }
}

/// Bytes that neither repeat nor compress much (so they fill several volumes), seeded.
fn stream_bytes(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..length)
        .map(|index| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            // Every fourth byte is a constant: zstd finds something, not much.
            if index % 4 == 0 {
                0
            } else {
                (state >> 33) as u8
            }
        })
        .collect()
}

fn snapshot(letter: u64) -> SnapshotName {
    SnapshotName::new(&format!("tank/home@s{letter}")).expect("snapshot")
}

/// The header of stream `number` (1-based) of a chain whose snapshot n has guid 1000 + n.
fn header(number: u64) -> StreamHeader {
    let kind = if number == 1 {
        StreamKind::Full
    } else {
        StreamKind::Incremental {
            from_guid: 1000 + number - 1,
            from: SendBase::Snapshot(snapshot(number - 1)),
            intermediates: true,
        }
    };
    StreamHeader {
        kind,
        to: snapshot(number),
        to_guid: 1000 + number,
        to_createtxg: 10 * number,
        raw: false,
    }
}

fn zstd() -> Pipeline {
    Pipeline::new(Some(DEFAULT_COMPRESSION), None).expect("zstd pipeline")
}

struct Chain {
    _root: tempfile::TempDir,
    directory: PathBuf,
    streams: Vec<Vec<u8>>,
}

/// A chain of `count` streams of 300 kB and less, zstd, 64 KiB volumes.
fn written_chain(count: u64) -> Chain {
    let root = tempfile::tempdir().expect("tempdir");
    let directory = root
        .path()
        .join(chain_directory_name(&identity("nightly").dataset, NOW));
    let (mut writer, removed) =
        ChainWriter::open(&directory, &identity("nightly"), Some(VOLUME), NOW).expect("open");
    assert!(removed.is_empty());
    let mut streams = Vec::new();
    for number in 1..=count {
        let data = stream_bytes(number, 300_000 / number as usize);
        let record = writer
            .write_stream(header(number), &zstd(), &mut &data[..], NOW)
            .expect("write stream");
        assert_eq!(record.number as u64, number);
        assert_eq!(record.stream_bytes, data.len() as u64);
        streams.push(data);
    }
    Chain {
        _root: root,
        directory,
        streams,
    }
}

fn names(directory: &Path) -> Vec<String> {
    list_names(directory).expect("list")
}

fn volume_names(directory: &Path) -> Vec<String> {
    names(directory)
        .into_iter()
        .filter(|name| name.starts_with('s'))
        .collect()
}

fn read_all(mut reader: impl Read) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    Ok(bytes)
}

// ------------------------------------------------------------------ writing and reading

#[test]
fn a_chain_is_written_in_volumes_and_read_back_stream_by_stream() {
    let chain = written_chain(3);
    let report = verify(&chain.directory).expect("verify");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(report.other_files.is_empty(), "{:?}", report.other_files);
    let manifest = &report.manifest;
    assert_eq!(manifest.streams.len(), 3);
    let first = &manifest.streams[0];
    assert!(first.volumes.len() >= 3, "{} volumes", first.volumes.len());
    for volume in &first.volumes[..first.volumes.len() - 1] {
        assert_eq!(volume.bytes, VOLUME, "{}", volume.name);
    }
    assert_eq!(first.volumes[0].name, "s000001.v000001.zfs.zst");
    assert_eq!(first.compression, Some(Compression::Zstd { level: 3 }));
    assert_eq!(
        report.volumes_verified,
        volume_names(&chain.directory).len()
    );

    let verified = open_verified(&chain.directory).expect("restorable");
    for (index, data) in chain.streams.iter().enumerate() {
        let number = index as u32 + 1;
        let sent = read_all(verified.send_stream(number).expect("send stream")).expect("read");
        assert!(sent == *data, "stream {number} differs");
        let stored = read_all(verified.stored_stream(number).expect("stored")).expect("read");
        assert_eq!(stored.len() as u64, manifest.streams[index].stored_bytes());
    }
    assert!(matches!(
        verified.send_stream(4),
        Err(ReadError::NoSuchStream {
            number: 4,
            count: 3
        })
    ));
    assert!(matches!(
        verified.send_stream(0),
        Err(ReadError::NoSuchStream { number: 0, .. })
    ));

    // The manifest on the disk is the chain the planner reads, and says what it is.
    let text = fs::read_to_string(chain.directory.join(MANIFEST_FILE)).expect("manifest");
    assert!(text.contains(FORMAT));
    let planner = ChainManifest::parse(text.as_bytes())
        .expect("parse")
        .to_planner();
    let guids: Vec<u64> = planner.chain.iter().map(|link| link.to_guid).collect();
    assert_eq!(guids, [1001, 1002, 1003]);
}

#[test]
fn a_plain_stream_is_cut_exactly_and_an_unlimited_one_is_one_volume() {
    let root = tempfile::tempdir().expect("tempdir");
    let data = stream_bytes(9, 2 * VOLUME as usize);
    let exact = root.path().join("exact");
    let (mut writer, _) =
        ChainWriter::open(&exact, &identity("nightly"), Some(VOLUME), NOW).expect("open");
    let record = writer
        .write_stream(header(1), &Pipeline::plain(), &mut &data[..], NOW)
        .expect("write");
    assert_eq!(record.volumes.len(), 2);
    assert_eq!(
        volume_names(&exact),
        ["s000001.v000001.zfs", "s000001.v000002.zfs"]
    );
    let whole = root.path().join("whole");
    let (mut writer, _) = ChainWriter::open(&whole, &identity("nightly"), None, NOW).expect("open");
    let record = writer
        .write_stream(header(1), &zstd(), &mut &data[..], NOW)
        .expect("write");
    assert_eq!(record.volumes.len(), 1);
    assert_eq!(record.volume_limit_bytes, None);
}

// ------------------------------------------------------------------ stock tools

/// Runs a shell line in `directory` (test code: the product never runs a shell).
fn shell_in(directory: &Path, line: &str) -> wizfs_process::Output {
    let invocation = Invocation::new("sh")
        .args(["-c", &format!("cd \"$1\" && {line}"), "sh"])
        .arg(directory)
        .with_stdout_limit(64 << 20);
    SystemRunner::new()
        .run(&invocation)
        .expect("the shell runs")
}

#[test]
fn stock_tools_check_and_restore_every_stream() {
    let chain = written_chain(2);
    let checked = shell_in(&chain.directory, "sha256sum -c SHA256SUMS");
    assert!(checked.success(), "sha256sum -c: {}", checked.stderr_text());
    let restore = fs::read_to_string(chain.directory.join(RESTORE_FILE)).expect("RESTORE.txt");
    let has_zstd = SystemRunner::new()
        .run(&Invocation::new("zstd").arg("--version"))
        .is_ok_and(|output| output.success());
    assert!(
        has_zstd,
        "the zstd program is missing: image/install-host-deps installs it"
    );
    for (index, data) in chain.streams.iter().enumerate() {
        let pipe = format!("cat s{:06}.v* | zstd -d", index + 1);
        // RESTORE.txt tells people exactly this pipe, before `zfs receive`.
        assert!(
            restore.contains(&format!("{pipe} | zfs receive -u POOL/RESTORED")),
            "{restore}"
        );
        let output = shell_in(&chain.directory, &pipe);
        assert!(output.success(), "{pipe}: {}", output.stderr_text());
        assert!(
            !output.stdout_truncated && output.stdout == *data,
            "{pipe} gave other bytes"
        );
    }
    // A corrupt volume fails the stock check too.
    let first = chain.directory.join("s000001.v000002.zfs.zst");
    let mut bytes = fs::read(&first).expect("read");
    bytes[100] ^= 1;
    fs::write(&first, bytes).expect("write");
    let checked = shell_in(&chain.directory, "sha256sum -c SHA256SUMS");
    assert!(!checked.success());
    assert!(
        String::from_utf8_lossy(&checked.stdout).contains("s000001.v000002.zfs.zst: FAILED"),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );
}

// ------------------------------------------------------------------ interruptions

/// A send stream that fails after `good` bytes, as `zfs send` killed midway does.
struct CutStream {
    data: Vec<u8>,
    position: usize,
    good: usize,
}

impl Read for CutStream {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.position >= self.good {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "zfs send died"));
        }
        let end = (self.position + buffer.len())
            .min(self.good)
            .min(self.data.len());
        let read = end - self.position;
        buffer[..read].copy_from_slice(&self.data[self.position..end]);
        self.position = end;
        Ok(read)
    }
}

#[test]
fn a_cut_stream_leaves_the_chain_as_it_was_and_runs_again_cleanly() {
    let chain = written_chain(1);
    let before = fs::read(chain.directory.join(MANIFEST_FILE)).expect("manifest");
    let before_names = names(&chain.directory);
    let data = stream_bytes(2, 400_000);
    let (mut writer, _) =
        ChainWriter::open(&chain.directory, &identity("nightly"), Some(VOLUME), NOW).expect("open");
    let mut cut = CutStream {
        data: data.clone(),
        position: 0,
        good: 250_000,
    };
    let error = writer
        .write_stream(header(2), &zstd(), &mut cut, NOW)
        .expect_err("the stream is cut");
    match &error {
        WriteError::Source { bytes, .. } => assert_eq!(*bytes, 250_000),
        other => panic!("expected a source error, got {other}"),
    }
    assert!(error.to_string().contains("tank/home@s2"), "{error}");
    // Nothing of stream 2 under any name, the manifest unchanged.
    assert_eq!(names(&chain.directory), before_names);
    assert_eq!(
        fs::read(chain.directory.join(MANIFEST_FILE)).expect("manifest"),
        before
    );
    assert_eq!(writer.manifest().streams.len(), 1);
    // The same writer, or a new run, stores the stream in full.
    let record = writer
        .write_stream(header(2), &zstd(), &mut &data[..], NOW)
        .expect("again");
    assert_eq!(record.stream_bytes, data.len() as u64);
    drop(writer);
    let verified = open_verified(&chain.directory).expect("restorable");
    let sent = read_all(verified.send_stream(2).expect("stream 2")).expect("read");
    assert!(sent == data);
}

#[test]
fn what_a_killed_run_left_is_reported_then_removed_by_the_next_run() {
    let chain = written_chain(1);
    // A run killed after two volumes of stream 2 were complete, in the middle of the third,
    // and one killed while writing the manifest.
    for (name, bytes) in [
        ("s000002.v000001.zfs.zst", &b"complete volume"[..]),
        ("s000002.v000002.zfs.zst", b"complete volume"),
        ("s000002.v000003.zfs.zst.partial", b"half a vol"),
        ("manifest.json.partial", b"{\"format\""),
    ] {
        fs::write(chain.directory.join(name), bytes).expect("leftover");
    }
    fs::write(chain.directory.join("notes.txt"), b"mine").expect("other file");
    let report = verify(&chain.directory).expect("verify");
    assert!(report.is_restorable(), "{:?}", report.problems);
    assert_eq!(
        report.problems,
        [
            Problem::LeftoverTemporary {
                name: "manifest.json.partial".into()
            },
            Problem::LeftoverVolume {
                name: "s000002.v000001.zfs.zst".into()
            },
            Problem::LeftoverVolume {
                name: "s000002.v000002.zfs.zst".into()
            },
            Problem::LeftoverTemporary {
                name: "s000002.v000003.zfs.zst.partial".into()
            },
        ]
    );
    assert_eq!(report.other_files, ["notes.txt"]);

    let (mut writer, removed) =
        ChainWriter::open(&chain.directory, &identity("nightly"), Some(VOLUME), NOW).expect("open");
    assert_eq!(
        removed,
        [
            "manifest.json.partial",
            "s000002.v000001.zfs.zst",
            "s000002.v000002.zfs.zst",
            "s000002.v000003.zfs.zst.partial"
        ]
    );
    let data = stream_bytes(2, 100_000);
    writer
        .write_stream(header(2), &zstd(), &mut &data[..], NOW)
        .expect("stream 2");
    drop(writer);
    let report = verify(&chain.directory).expect("verify");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.other_files, ["notes.txt"]);
}

// ------------------------------------------------------------------ what verify finds

fn fatal(directory: &Path) -> Vec<Problem> {
    verify(directory)
        .expect("verify")
        .fatal_problems()
        .cloned()
        .collect()
}

#[test]
fn missing_corrupt_and_resized_volumes_are_named() {
    let chain = written_chain(2);
    let volume = |name: &str| chain.directory.join(name);
    fs::remove_file(volume("s000001.v000002.zfs.zst")).expect("remove");
    let mut bytes = fs::read(volume("s000001.v000003.zfs.zst")).expect("read");
    bytes[7] ^= 0x40;
    fs::write(volume("s000001.v000003.zfs.zst"), &bytes).expect("corrupt");
    let mut bytes = fs::read(volume("s000002.v000001.zfs.zst")).expect("read");
    bytes.pop();
    fs::write(volume("s000002.v000001.zfs.zst"), &bytes).expect("truncate");
    let problems = fatal(&chain.directory);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert_eq!(
        problems[0],
        Problem::MissingVolume {
            stream: 1,
            name: "s000001.v000002.zfs.zst".into()
        }
    );
    assert!(
        matches!(&problems[1], Problem::Corrupt { stream: 1, name, .. } if name == "s000001.v000003.zfs.zst")
    );
    assert!(matches!(
        &problems[2],
        Problem::WrongSize { stream: 2, found, expected, .. } if *found + 1 == *expected
    ));
    assert_eq!(
        problems[0].to_string(),
        "stream 1: volume s000001.v000002.zfs.zst is missing"
    );
    match open_verified(&chain.directory) {
        Err(error @ ReadError::NotRestorable { .. }) => {
            let message = error.to_string();
            assert!(
                message.contains("s000001.v000002.zfs.zst is missing"),
                "{message}"
            );
            assert!(
                message.contains("s000001.v000003.zfs.zst is corrupt"),
                "{message}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_broken_chain_and_a_stale_checksum_list_are_found() {
    let chain = written_chain(3);
    let path = chain.directory.join(MANIFEST_FILE);
    let mut manifest = ChainManifest::parse(&fs::read(&path).expect("read")).expect("parse");
    // Stream 2 lost: stream 3 now follows stream 1, whose snapshot is not its base.
    let removed = manifest.streams.remove(1);
    for volume in removed.volumes {
        fs::remove_file(chain.directory.join(volume.name)).expect("remove");
    }
    manifest.streams[1].number = 2;
    for (index, volume) in manifest.streams[1].volumes.iter_mut().enumerate() {
        let name = format!("s000002.v{:06}.zfs.zst", index + 1);
        fs::rename(
            chain.directory.join(&volume.name),
            chain.directory.join(&name),
        )
        .expect("rename");
        volume.name = name;
    }
    fs::write(&path, manifest.to_json()).expect("write manifest");
    let report = verify(&chain.directory).expect("verify");
    assert_eq!(
        report.problems,
        [
            Problem::BrokenChain {
                stream: 2,
                from_guid: Some(1002),
                expected: Some(1001)
            },
            Problem::ChecksumListDiffers
        ]
    );
    assert!(!report.is_restorable());
}

#[test]
fn a_volume_changed_after_verification_fails_the_read() {
    let chain = written_chain(1);
    let verified = open_verified(&chain.directory).expect("restorable");
    let path = chain.directory.join("s000001.v000002.zfs.zst");
    let mut bytes = fs::read(&path).expect("read");
    bytes[0] ^= 1;
    fs::write(&path, bytes).expect("write");
    let error = read_all(verified.stored_stream(1).expect("stored")).expect_err("changed");
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    assert!(
        error
            .to_string()
            .contains("s000001.v000002.zfs.zst changed"),
        "{error}"
    );
    let error = read_all(verified.send_stream(1).expect("send stream")).expect_err("changed");
    assert!(
        matches!(
            error.kind(),
            io::ErrorKind::InvalidData | io::ErrorKind::Other
        ),
        "{error}"
    );
}

#[test]
fn a_directory_without_or_with_a_bad_manifest_is_refused_clearly() {
    let root = tempfile::tempdir().expect("tempdir");
    assert!(matches!(
        verify(root.path()),
        Err(VerifyError::NoManifest { .. })
    ));
    fs::write(root.path().join(MANIFEST_FILE), b"{\"format\": 3}").expect("write");
    let error = verify(root.path()).expect_err("bad manifest");
    assert!(matches!(error, VerifyError::Manifest { .. }), "{error}");
    assert!(error.to_string().contains("manifest.json"), "{error}");
    let error = ChainWriter::open(root.path(), &identity("nightly"), None, NOW)
        .expect_err("a writer refuses it too");
    assert!(matches!(error, WriteError::Manifest { .. }), "{error}");
}

// ------------------------------------------------------------------ what writers refuse

#[test]
fn writers_refuse_other_chains_gaps_a_second_writer_and_missing_stages() {
    let chain = written_chain(1);
    let error = ChainWriter::open(&chain.directory, &identity("weekly"), None, NOW)
        .expect_err("another job's chain");
    assert!(matches!(error, WriteError::NotThisChain { .. }), "{error}");
    assert!(error.to_string().contains("job `nightly`"), "{error}");

    let (mut writer, _) =
        ChainWriter::open(&chain.directory, &identity("nightly"), None, NOW).expect("open");
    assert!(matches!(
        ChainWriter::open(&chain.directory, &identity("nightly"), None, NOW),
        Err(WriteError::Busy { .. })
    ));
    let before = names(&chain.directory);
    let error = writer
        .write_stream(header(1), &zstd(), &mut &b"full again"[..], NOW)
        .expect_err("a full stream into a chain");
    assert!(
        matches!(
            error,
            WriteError::NotContinuous {
                number: 2,
                from_guid: None,
                chain_end: Some(1001),
                ..
            }
        ),
        "{error}"
    );
    let error = writer
        .write_stream(header(3), &zstd(), &mut &b"gap"[..], NOW)
        .expect_err("from the wrong base");
    assert!(error.to_string().contains("guid 1002"), "{error}");
    assert_eq!(names(&chain.directory), before);

    let xz = Pipeline::new(Some(Compression::Xz { level: 6 }), None);
    assert!(matches!(xz, Err(PipelineError::NotYet { .. })));
}

#[test]
fn a_target_lists_its_chains() {
    let chain = written_chain(1);
    let target = chain.directory.parent().expect("target directory");
    fs::create_dir(target.join("empty")).expect("mkdir");
    let chains = list_chains(target).expect("list");
    assert_eq!(chains.len(), 1);
    assert_eq!(chains[0].directory, chain.directory);
    let manifest = chains[0].manifest.as_ref().expect("manifest");
    assert_eq!(manifest.dataset.as_str(), "tank/home");
    assert_eq!(manifest.streams.len(), 1);
}
