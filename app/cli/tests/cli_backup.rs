//! `wizfs backup verify` and `wizfs backup restore` on `FakeZfs`: a chain written from real
//! (fake) send streams is verified (text and `--json`), restored with `--dry-run` (nothing
//! created) and for real (every snapshot's files and guid as the source's); and bad input —
//! a target directory instead of a chain, a directory that is no chain, a corrupt and a
//! missing volume, an existing target, a missing parent — is refused with a message that
//! names the problem, and changes nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Parser;
use tempfile::TempDir;
use wizfs_backup::pipeline::DEFAULT_COMPRESSION;
use wizfs_backup::{
    ChainIdentity, ChainWriter, Pipeline, StreamHeader, StreamKind, TargetName,
    chain_directory_name,
};
use wizfs_cli::{Cli, run};
use wizfs_core::backup::{BackupJobId, SendBase};
use wizfs_core::{DatasetName, PoolName, SnapshotName, Timestamp};
use wizfs_zfs::{FakeZfs, IncrementalBase, Scope, SendFlags, SendSource, Zfs};

const NOW: Timestamp = Timestamp(1_796_724_000);

struct Fixture {
    directory: TempDir,
    zfs: Arc<FakeZfs>,
    chain: PathBuf,
}

fn dataset(name: &str) -> DatasetName {
    DatasetName::new(name).expect("dataset")
}

fn snapshot(name: &str) -> SnapshotName {
    SnapshotName::new(name).expect("snapshot")
}

/// `tank/home` with four snapshots, written as a chain of three zstd streams in 4 KiB
/// volumes: full `s1`, `-i s1 s2`, `-I s2 s4` (with `s3`).
fn fixture() -> Fixture {
    let directory = TempDir::new().expect("temporary directory");
    let zfs = Arc::new(FakeZfs::open(directory.path().join("root")).expect("fake"));
    zfs.create_pool(&PoolName::new("tank").expect("pool"), 1 << 30)
        .expect("pool");
    let home = dataset("tank/home");
    zfs.create_filesystem(&home, &[]).expect("dataset");
    let live = zfs.mountpoint(&home).expect("mountpoint");
    let take = |short: &str, change: &dyn Fn(&Path)| {
        change(&live);
        zfs.create_snapshots(&[snapshot(&format!("tank/home@{short}"))], false, &[])
            .expect("snapshot");
    };
    take("s1", &|live| {
        fs::create_dir_all(live.join("docs")).expect("mkdir");
        fs::write(live.join("docs/report.txt"), b"numbers").expect("write");
        fs::write(live.join("big.bin"), pseudo_random(20_000, 1)).expect("write");
    });
    take("s2", &|live| {
        fs::write(live.join("docs/report.txt"), b"numbers, revised").expect("write");
    });
    take("s3", &|live| {
        fs::remove_file(live.join("big.bin")).expect("rm");
    });
    take("s4", &|live| {
        fs::write(live.join("new.txt"), b"fresh").expect("write");
    });

    let identity = ChainIdentity {
        job: BackupJobId::new("nightly").expect("job"),
        target: TargetName::new("usb").expect("target"),
        dataset: home.clone(),
    };
    let chain = directory
        .path()
        .join("target")
        .join(chain_directory_name(&home, NOW));
    let (mut writer, _) = ChainWriter::open(&chain, &identity, Some(4096), NOW).expect("open");
    let pipeline = Pipeline::new(Some(DEFAULT_COMPRESSION), None).expect("zstd");
    let guids: BTreeMap<String, (u64, u64)> = zfs
        .list_snapshots(&home, Scope::Dataset)
        .expect("list")
        .iter()
        .map(|listed| {
            (
                listed.name.short_name().to_owned(),
                (listed.guid, listed.createtxg),
            )
        })
        .collect();
    for (to, from, intermediates) in [
        ("s1", None, false),
        ("s2", Some("s1"), false),
        ("s4", Some("s2"), true),
    ] {
        let to_name = snapshot(&format!("tank/home@{to}"));
        let (kind, base) = match from {
            None => (StreamKind::Full, None),
            Some(from) => {
                let from_name = snapshot(&format!("tank/home@{from}"));
                (
                    StreamKind::Incremental {
                        from_guid: guids[from].0,
                        from: SendBase::Snapshot(from_name.clone()),
                        intermediates,
                    },
                    Some(if intermediates {
                        IncrementalBase::SnapshotWithIntermediates(from_name)
                    } else {
                        IncrementalBase::Snapshot(from_name)
                    }),
                )
            }
        };
        let mut stream = zfs
            .send(&SendSource::Snapshot {
                snapshot: to_name.clone(),
                base,
                flags: SendFlags::default(),
            })
            .expect("send");
        let header = StreamHeader {
            kind,
            to: to_name,
            to_guid: guids[to].0,
            to_createtxg: guids[to].1,
            raw: false,
        };
        writer
            .write_stream(header, &pipeline, &mut stream, NOW)
            .expect("write stream");
        stream.finish().expect("send finished");
    }
    Fixture {
        directory,
        zfs,
        chain,
    }
}

fn pseudo_random(length: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

impl Fixture {
    /// Runs `wizfs WORDS…` in process; its output, or its error in full.
    fn wizfs(&self, words: &[&str]) -> Result<String, String> {
        let cli = Cli::try_parse_from(std::iter::once("wizfs").chain(words.iter().copied()))
            .map_err(|error| error.to_string())?;
        let mut out = Vec::new();
        let zfs: Arc<dyn Zfs> = self.zfs.clone();
        match run(&cli, zfs, &mut out) {
            Ok(()) => Ok(String::from_utf8(out).expect("UTF-8")),
            Err(error) => Err(format!("{error:#}")),
        }
    }

    fn chain_str(&self) -> &str {
        self.chain.to_str().expect("UTF-8 path")
    }

    fn exists(&self, name: &str) -> bool {
        self.zfs
            .list_datasets(Some(&dataset(name)))
            .is_ok_and(|found| !found.is_empty())
    }

    fn guids(&self, name: &str) -> Vec<(String, u64)> {
        self.zfs
            .list_snapshots(&dataset(name), Scope::Dataset)
            .expect("list")
            .iter()
            .map(|listed| (listed.name.short_name().to_owned(), listed.guid))
            .collect()
    }

    /// Every file below `<mountpoint of name>/.zfs/snapshot/<short>`, with its bytes.
    fn files(&self, name: &str, short: &str) -> BTreeMap<PathBuf, Vec<u8>> {
        let root = self
            .zfs
            .mountpoint(&dataset(name))
            .expect("mountpoint")
            .join(".zfs/snapshot")
            .join(short);
        let mut found = BTreeMap::new();
        let mut pending = vec![root.clone()];
        while let Some(directory) = pending.pop() {
            for entry in fs::read_dir(&directory).expect("list") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    let relative = path.strip_prefix(&root).expect("below").to_owned();
                    found.insert(relative, fs::read(&path).expect("read"));
                }
            }
        }
        found
    }

    /// A copy of the chain beside it, changed by `damage`.
    fn damaged_copy(&self, name: &str, damage: impl Fn(&Path)) -> PathBuf {
        let copy = self.directory.path().join(name);
        fs::create_dir_all(&copy).expect("mkdir");
        for entry in fs::read_dir(&self.chain).expect("list") {
            let path = entry.expect("entry").path();
            fs::copy(&path, copy.join(path.file_name().expect("name"))).expect("copy");
        }
        damage(&copy);
        copy
    }
}

/// The first volume of stream 2: a restore that did not check first would have received
/// stream 1 already.
const VICTIM: &str = "s000002.v000001.zfs.zst";

#[test]
fn verify_reports_a_sound_chain_in_text_and_json() {
    let fixture = fixture();
    let text = fixture
        .wizfs(&["backup", "verify", fixture.chain_str()])
        .expect("verify");
    assert!(
        text.starts_with("chain of tank/home (backup job nightly, target usb)"),
        "{text}"
    );
    assert!(
        text.contains("stream 3: incremental from tank/home@s2 to tank/home@s4"),
        "{text}"
    );
    assert!(text.ends_with("the chain can be restored\n"), "{text}");

    let json = fixture
        .wizfs(&["--json", "backup", "verify", fixture.chain_str()])
        .expect("verify");
    let view: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(view["restorable"], true);
    assert_eq!(view["chain"]["dataset"], "tank/home");
    let streams = view["chain"]["streams"].as_array().expect("streams");
    assert_eq!(streams.len(), 3);
    assert_eq!(streams[0]["kind"], "full");
    assert_eq!(streams[2]["from"], "tank/home@s2");
    let volume_files = fs::read_dir(&fixture.chain)
        .expect("list")
        .filter(|entry| {
            entry
                .as_ref()
                .is_ok_and(|entry| entry.file_name().to_string_lossy().ends_with(".zfs.zst"))
        })
        .count();
    assert!(volume_files > 3, "several volumes per stream");
    assert_eq!(view["volumes_verified"], volume_files);
    assert_eq!(view["problems"].as_array().map(Vec::len), Some(0));
}

#[test]
fn restore_receives_every_stream_and_dry_run_receives_nothing() {
    let fixture = fixture();
    let dry = fixture
        .wizfs(&[
            "backup",
            "restore",
            fixture.chain_str(),
            "--into",
            "tank/restored",
            "--dry-run",
        ])
        .expect("dry run");
    assert!(
        dry.contains("would receive 3 streams into tank/restored (dry run: nothing received)"),
        "{dry}"
    );
    assert!(
        !fixture.exists("tank/restored"),
        "the dry run created nothing"
    );

    let json = fixture
        .wizfs(&[
            "backup",
            "restore",
            fixture.chain_str(),
            "--into",
            "tank/restored",
            "--json",
        ])
        .expect("restore");
    let view: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(view["received"], serde_json::json!([1, 2, 3]));
    assert_eq!(view["into"], "tank/restored");
    assert_eq!(fixture.guids("tank/restored"), fixture.guids("tank/home"));
    for short in ["s1", "s2", "s3", "s4"] {
        let source = fixture.files("tank/home", short);
        assert!(!source.is_empty());
        assert_eq!(fixture.files("tank/restored", short), source, "@{short}");
    }

    // An existing target is refused and left as it is.
    let before = fixture.guids("tank/restored");
    let refused = fixture
        .wizfs(&[
            "backup",
            "restore",
            fixture.chain_str(),
            "--into",
            "tank/restored",
        ])
        .expect_err("exists");
    assert!(
        refused.contains("`tank/restored` already exists"),
        "{refused}"
    );
    assert_eq!(fixture.guids("tank/restored"), before);
}

#[test]
fn a_missing_parent_or_a_directory_that_is_no_chain_is_refused() {
    let fixture = fixture();
    let refused = fixture
        .wizfs(&[
            "backup",
            "restore",
            fixture.chain_str(),
            "--into",
            "tank/nowhere/restored",
        ])
        .expect_err("no parent");
    assert!(
        refused.contains("`tank/nowhere`, the parent of `tank/nowhere/restored`, does not exist"),
        "{refused}"
    );
    assert!(!fixture.exists("tank/nowhere/restored"));

    let target = fixture.chain.parent().expect("target directory");
    let refused = fixture
        .wizfs(&["backup", "verify", target.to_str().expect("path")])
        .expect_err("a target, not a chain");
    let chain_name = fixture.chain.file_name().expect("name").to_string_lossy();
    assert!(
        refused.contains("is a backup target, not a chain") && refused.contains(&*chain_name),
        "{refused}"
    );

    let empty = fixture.directory.path().join("empty");
    fs::create_dir(&empty).expect("mkdir");
    let refused = fixture
        .wizfs(&[
            "backup",
            "restore",
            empty.to_str().expect("path"),
            "--into",
            "tank/restored",
        ])
        .expect_err("no chain");
    assert!(
        refused.contains("is not a WiZFS backup chain: it has no manifest.json"),
        "{refused}"
    );
    let absent = fixture.directory.path().join("absent");
    let refused = fixture
        .wizfs(&["backup", "verify", absent.to_str().expect("path")])
        .expect_err("no directory");
    assert!(refused.contains("is not a directory"), "{refused}");
    assert!(!fixture.exists("tank/restored"));
    assert!(
        Cli::try_parse_from(["wizfs", "backup", "restore", "x", "--into", "tank/../x"]).is_err(),
        "an invalid dataset name is a usage error"
    );
}

#[test]
fn a_corrupt_or_missing_volume_is_found_before_anything_is_received() {
    let fixture = fixture();
    let corrupt = fixture.damaged_copy("corrupt", |copy| {
        let mut bytes = fs::read(copy.join(VICTIM)).expect("read");
        bytes[10] ^= 1;
        fs::write(copy.join(VICTIM), bytes).expect("write");
    });
    let missing = fixture.damaged_copy("missing", |copy| {
        fs::remove_file(copy.join(VICTIM)).expect("remove");
    });
    for (copy, what) in [(&corrupt, "is corrupt"), (&missing, "is missing")] {
        let path = copy.to_str().expect("path");
        let expected = format!("stream 2: volume {VICTIM} {what}");
        let refused = fixture
            .wizfs(&["backup", "verify", path])
            .expect_err("not restorable");
        assert!(
            refused.contains("cannot be restored") && refused.contains(&expected),
            "{refused}"
        );
        let refused = fixture
            .wizfs(&["backup", "restore", path, "--into", "tank/restored"])
            .expect_err("not restorable");
        assert!(refused.contains(&expected), "{refused}");
        assert!(!fixture.exists("tank/restored"), "nothing received");
    }
    // With --json the report is printed (problems marked fatal) before the failure.
    let cli = Cli::try_parse_from([
        "wizfs",
        "--json",
        "backup",
        "verify",
        corrupt.to_str().expect("path"),
    ])
    .expect("arguments");
    let mut out = Vec::new();
    let zfs: Arc<dyn Zfs> = fixture.zfs.clone();
    assert!(run(&cli, zfs, &mut out).is_err());
    let view: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
    assert_eq!(view["restorable"], false);
    assert_eq!(view["problems"][0]["fatal"], true);
    assert!(
        view["problems"][0]["message"]
            .as_str()
            .is_some_and(|message| message.contains(VICTIM)),
        "{view}"
    );
}

#[test]
fn a_stream_that_fails_while_received_stops_the_restore_and_says_what_is_in() {
    let fixture = fixture();
    // Every volume is sound, but the manifest's digest of stream 2's send stream is not
    // that of its bytes: verify passes, the reader fails at the stream's very end — after
    // `zfs receive` had every byte, so what the target holds is asked of ZFS, not assumed.
    let tampered = fixture.damaged_copy("tampered", |copy| {
        let path = copy.join("manifest.json");
        let mut manifest: serde_json::Value =
            serde_json::from_slice(&fs::read(&path).expect("read")).expect("JSON");
        manifest["streams"][1]["stream_sha256"] = serde_json::json!("0".repeat(64));
        fs::write(&path, serde_json::to_vec_pretty(&manifest).expect("JSON")).expect("write");
    });
    let path = tampered.to_str().expect("path");
    fixture
        .wizfs(&["backup", "verify", path])
        .expect("every volume is sound");
    let refused = fixture
        .wizfs(&["backup", "restore", path, "--into", "tank/restored"])
        .expect_err("stream 2 fails");
    let received = fixture.guids("tank/restored");
    let (last, _) = received.last().expect("stream 1 at least");
    assert!(
        refused.starts_with(&format!(
            "receiving stream 2 of the chain into `tank/restored` failed; `tank/restored` \
             holds the chain up to tank/home@{last} (stream {} of 3)",
            received.len()
        )) && refused.contains("is not the one written"),
        "{refused}"
    );
    assert!(
        fixture.guids("tank/home").starts_with(&received),
        "{received:?}"
    );
    // Stream 3 was never tried.
    assert!(!received.iter().any(|(short, _)| short == "s4"));
}
