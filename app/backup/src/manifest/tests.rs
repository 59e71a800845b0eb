//! Tests of the manifest format: a round trip of every field, the errors that name what is
//! wrong, and the conversion into the planner's chain.

use super::*;
use crate::checksums::Sha256Digest;

fn snapshot(name: &str) -> SnapshotName {
    SnapshotName::new(name).expect("valid snapshot name")
}

pub(crate) fn sample() -> ChainManifest {
    let volume = |stream: u32, number: u32, suffix: &str, bytes: u64| VolumeRecord {
        name: volume_name(stream, number, suffix),
        bytes,
        sha256: Sha256Digest::of(&bytes.to_le_bytes()),
    };
    ChainManifest {
        job: BackupJobId::new("nightly").expect("job id"),
        target: TargetName::new("usb-1").expect("target name"),
        dataset: DatasetName::new("tank/home").expect("dataset"),
        created: Timestamp(1_796_724_000),
        streams: vec![
            StreamRecord {
                number: 1,
                kind: StreamKind::Full,
                to: snapshot("tank/home@a"),
                to_guid: u64::MAX,
                to_createtxg: 10,
                raw: false,
                compression: Some(Compression::Zstd { level: 3 }),
                encryption: None,
                volume_limit_bytes: Some(100),
                stream_bytes: 300,
                stream_sha256: Sha256Digest::of(b"stream 1"),
                created: Timestamp(1_796_724_001),
                volumes: vec![volume(1, 1, ".zfs.zst", 100), volume(1, 2, ".zfs.zst", 42)],
            },
            StreamRecord {
                number: 2,
                kind: StreamKind::Incremental {
                    from_guid: u64::MAX,
                    from: SendBase::Bookmark(BookmarkName::new("tank/home#a").expect("bookmark")),
                    intermediates: true,
                },
                to: snapshot("tank/home@b"),
                to_guid: 7,
                to_createtxg: 20,
                raw: true,
                compression: None,
                encryption: None,
                volume_limit_bytes: None,
                stream_bytes: 0,
                stream_sha256: Sha256Digest::of(b""),
                created: Timestamp(1_796_724_002),
                volumes: vec![volume(2, 1, ".zfs", 0)],
            },
        ],
    }
}

fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut value: serde_json::Value =
        serde_json::from_str(&sample().to_json()).expect("the sample is JSON");
    edit(&mut value);
    serde_json::to_vec(&value).expect("JSON")
}

fn invalid_field(bytes: &[u8]) -> String {
    match ChainManifest::parse(bytes) {
        Err(ManifestError::Invalid { field, .. }) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

#[test]
fn a_manifest_round_trips_with_guids_as_strings() {
    let manifest = sample();
    let json = manifest.to_json();
    assert!(
        json.contains("\"to_guid\": \"18446744073709551615\""),
        "{json}"
    );
    assert!(
        json.contains("\"created\": \"2026-12-08T10:00:00Z\""),
        "{json}"
    );
    assert!(json.contains("\"algorithm\": \"zstd\""), "{json}");
    assert_eq!(
        ChainManifest::parse(json.as_bytes()).expect("parses"),
        manifest
    );
}

#[test]
fn the_planner_reads_the_chain() {
    let planner = sample().to_planner();
    assert_eq!(planner.dataset.as_str(), "tank/home");
    assert_eq!(
        planner.job.as_ref().map(BackupJobId::as_str),
        Some("nightly")
    );
    assert_eq!(planner.chain.len(), 2);
    assert_eq!(planner.chain[0].from_guid, None);
    assert_eq!(planner.chain[1].from_guid, Some(u64::MAX));
    assert_eq!(planner.chain[1].to_guid, 7);
}

#[test]
fn other_json_and_other_versions_are_named() {
    assert!(matches!(
        ChainManifest::parse(b"{\"format\": \"zip\", \"version\": 1}"),
        Err(ManifestError::NotAManifest { found }) if found == "zip"
    ));
    let newer = edited(|value| value["version"] = 2.into());
    let error = ChainManifest::parse(&newer).expect_err("version 2");
    assert!(matches!(
        error,
        ManifestError::UnsupportedVersion { found: 2 }
    ));
    assert!(error.to_string().contains("version 2"), "{error}");
    for garbage in [&b""[..], b"{", b"[]", b"\xff\xfe", b"null"] {
        assert!(
            matches!(
                ChainManifest::parse(garbage),
                Err(ManifestError::Json { .. })
            ),
            "{garbage:?}"
        );
    }
    let missing = edited(|value| {
        value.as_object_mut().expect("object").remove("dataset");
    });
    let error = ChainManifest::parse(&missing).expect_err("no dataset");
    assert!(error.to_string().contains("dataset"), "{error}");
}

/// A change made to the sample's JSON.
type Edit = dyn Fn(&mut serde_json::Value);

#[test]
fn invalid_fields_are_named_by_their_path() {
    let cases: Vec<(&str, Box<Edit>)> = vec![
        ("job", Box::new(|value| value["job"] = "bad job".into())),
        ("target", Box::new(|value| value["target"] = "".into())),
        (
            "dataset",
            Box::new(|value| value["dataset"] = "tank//x".into()),
        ),
        (
            "created",
            Box::new(|value| value["created"] = "2026-13-01T00:00:00Z".into()),
        ),
        (
            "streams[0].number",
            Box::new(|value| value["streams"][0]["number"] = 3.into()),
        ),
        (
            "streams[1].to_guid",
            Box::new(|value| value["streams"][1]["to_guid"] = "-1".into()),
        ),
        (
            "streams[1].to_guid",
            Box::new(|value| value["streams"][1]["to_guid"] = "18446744073709551616".into()),
        ),
        (
            "streams[1].from",
            Box::new(|value| value["streams"][1]["from"] = "tank@".into()),
        ),
        (
            "streams[0].kind",
            Box::new(|value| value["streams"][0]["from_guid"] = "1".into()),
        ),
        (
            "streams[1].kind",
            Box::new(|value| {
                value["streams"][1]
                    .as_object_mut()
                    .expect("object")
                    .remove("from_guid");
            }),
        ),
        (
            "streams[0].to",
            Box::new(|value| value["streams"][0]["to"] = "tank/home".into()),
        ),
        (
            "streams[0].compression",
            Box::new(|value| value["streams"][0]["compression"]["level"] = 22.into()),
        ),
        (
            "streams[0].volumes[1].name",
            Box::new(|value| value["streams"][0]["volumes"][1]["name"] = "../../etc/passwd".into()),
        ),
        (
            "streams[0].volumes[0].name",
            Box::new(|value| {
                value["streams"][0]["volumes"][0]["name"] = "s000001.v000001.zfs".into();
            }),
        ),
        (
            "streams[0].volumes[0].sha256",
            Box::new(|value| value["streams"][0]["volumes"][0]["sha256"] = "abc".into()),
        ),
        (
            "streams[1].volumes",
            Box::new(|value| value["streams"][1]["volumes"] = serde_json::json!([])),
        ),
        (
            "streams[0].volume_limit_bytes",
            Box::new(|value| value["streams"][0]["volume_limit_bytes"] = 0.into()),
        ),
        (
            "streams[0].encryption.recipients",
            Box::new(|value| {
                value["streams"][0]["encryption"] =
                    serde_json::json!({"method": "age", "recipients": []});
            }),
        ),
        (
            "streams[0].encryption.cipher",
            Box::new(|value| {
                value["streams"][0]["encryption"] =
                    serde_json::json!({"method": "openssl", "cipher": "-des; rm -rf /"});
            }),
        ),
    ];
    for (field, edit) in cases {
        assert_eq!(invalid_field(&edited(edit)), field);
    }
}

#[test]
fn a_broken_chain_still_parses() {
    let broken = edited(|value| value["streams"][1]["from_guid"] = "5".into());
    let manifest = ChainManifest::parse(&broken).expect("a broken chain parses");
    assert_eq!(manifest.streams[1].from_guid(), Some(5));
}

#[test]
fn times_read_back_exactly_as_written() {
    for seconds in [0, 1_796_724_000, 253_402_300_799] {
        let text = format_time(Timestamp(seconds));
        assert_eq!(
            Timestamp::parse_rfc3339(&text),
            Some(Timestamp(seconds)),
            "{text}"
        );
    }
    for bad in [
        "2026-12-08 10:00:00Z",
        "2026-12-08T10:00:00+01",
        "2026-02-30T00:00:00Z",
        "+026-12-08T10:00:00Z",
        "2026-12-08T10:00:0ZZ",
    ] {
        assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
    }
}

/// A manifest of format version 1 as written, committed: every later WiZFS must read it
/// (the fuzz target's seed too).
const VERSION_1: &str = include_str!("../../tests/fixtures/manifest-v1.json");

#[test]
fn the_committed_version_1_manifest_still_reads_and_writes_the_same() {
    let manifest = ChainManifest::parse(VERSION_1.as_bytes()).expect("version 1 reads");
    assert_eq!(manifest, sample());
    assert_eq!(manifest.to_json(), VERSION_1);
}

/// The fuzz target's properties on every prefix and every one-byte change of the committed
/// manifest (a quick, deterministic stand-in for `fuzz/run backup_manifest`).
#[test]
fn every_cut_and_changed_byte_is_refused_or_round_trips() {
    let bytes = VERSION_1.as_bytes();
    let check = |data: &[u8]| match ChainManifest::parse(data) {
        Ok(manifest) => {
            let json = manifest.to_json();
            assert_eq!(ChainManifest::parse(json.as_bytes()).ok(), Some(manifest));
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    };
    for end in 0..bytes.len() {
        check(&bytes[..end]);
    }
    let mut changed = bytes.to_vec();
    for index in 0..bytes.len() {
        for replacement in [b'0', b'9', b'"', b'\\', b'-', b'}', 0xff] {
            changed[index] = replacement;
            check(&changed);
        }
        changed[index] = bytes[index];
    }
}
