//! Tests of `[[backup]]` configuration: every sample under `app/backup/samples/` parses into
//! the job it describes, and each broken table is refused with the path of the field at
//! fault and words that say what to write (a table of cases), never a panic.

use std::path::Path;

use super::*;
use wizfs_core::backup::{Compression, Encryption, MissingBase, TargetKind};
use wizfs_core::rotation::{Tier, TierRule};

fn sample(name: &str) -> Vec<BackupJobConfig> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name);
    load_backups(&path).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn dataset(name: &str) -> DatasetName {
    DatasetName::new(name).expect("dataset")
}

#[test]
fn every_sample_parses() {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut count = 0;
    for entry in std::fs::read_dir(&directory).expect("samples") {
        let path = entry.expect("entry").path();
        if path
            .extension()
            .is_some_and(|extension| extension == "toml")
        {
            let jobs = load_backups(&path).unwrap_or_else(|error| panic!("{error}"));
            assert!(!jobs.is_empty(), "{}", path.display());
            count += 1;
        }
    }
    assert_eq!(
        count, 5,
        "local mirror, SSH, rotating USB, S3 with age, DVD files"
    );
}

#[test]
fn local_mirror() {
    let [job] = sample("local-mirror.toml").try_into().expect("one job");
    assert_eq!(job.id.as_str(), "mirror");
    assert_eq!(job.schedule, Schedule::Every(Tier::Hourly));
    assert_eq!(job.timezone(), "Europe/Paris");
    assert_eq!(
        job.sources,
        vec![PolicyScope {
            dataset: dataset("tank"),
            recursive: true,
            exclude: vec![dataset("tank/scratch")],
        }]
    );
    assert_eq!(
        job.target,
        BackupTarget::LocalPool {
            root: dataset("backup/wizfs")
        }
    );
    assert!(job.options.raw);
    assert!(!job.options.roll_back_target);
    assert_eq!(job.options.compression, None);
    assert_eq!(
        job.retention,
        Some(TargetRetention {
            tiers: vec![
                TierRule {
                    tier: Tier::Hourly,
                    keep: 48
                },
                TierRule {
                    tier: Tier::Daily,
                    keep: 30
                },
                TierRule {
                    tier: Tier::Monthly,
                    keep: 12
                },
            ],
            min_keep: 3,
        })
    );
    let planner = job.planner_jobs();
    assert_eq!(planner.len(), 1);
    assert_eq!(
        planner[0].target,
        TargetKind::LocalPool {
            root: dataset("backup/wizfs")
        }
    );
    assert!(planner[0].covers(&dataset("tank/home")));
    assert!(!planner[0].covers(&dataset("tank/scratch/tmp")));
}

#[test]
fn ssh() {
    let [job] = sample("ssh.toml").try_into().expect("one job");
    let BackupTarget::Ssh(ssh) = &job.target else {
        panic!("{:?}", job.target);
    };
    assert_eq!(ssh.host, "nas2.example.net");
    assert_eq!(ssh.port, 2222);
    assert_eq!(ssh.user, "wizfs");
    assert_eq!(ssh.root, dataset("vault/from-nas1"));
    assert_eq!(ssh.host_key.algorithm, "ssh-ed25519");
    assert_eq!(
        job.options.bandwidth_limit_bytes_per_second,
        Some(20_000_000)
    );
    assert_eq!(job.options.missing_base, MissingBase::Refuse);
    assert_eq!(job.sources.len(), 2);
    assert!(!job.sources[1].recursive);
}

#[test]
fn rotating_usb_disks_give_one_planner_job_per_disk() {
    let [job] = sample("rotating-usb.toml").try_into().expect("one job");
    let planner = job.planner_jobs();
    assert_eq!(
        planner
            .iter()
            .map(|job| job.target.clone())
            .collect::<Vec<_>>(),
        vec![
            TargetKind::RotatingDisk {
                pool_guid: 11_863_340_468_135_011_397,
                root: dataset("usb-blue/wizfs")
            },
            TargetKind::RotatingDisk {
                pool_guid: 5_084_937_516_373_929_802,
                root: dataset("usb-red/wizfs")
            },
        ]
    );
}

#[test]
fn s3_with_age() {
    let [job] = sample("s3-age.toml").try_into().expect("one job");
    let BackupTarget::S3(s3) = &job.target else {
        panic!("{:?}", job.target);
    };
    assert_eq!(s3.name.as_str(), "b2-eu");
    assert_eq!(s3.bucket, "nas1-backups");
    assert_eq!(s3.prefix, "wizfs/nas1");
    assert_eq!(s3.volume_bytes, Some(1 << 30));
    assert_eq!(
        job.options.compression,
        Some(Compression::Zstd { level: 3 })
    );
    assert!(matches!(
        &job.options.encryption,
        Some(Encryption::Age { recipients }) if recipients.len() == 2
    ));
    assert_eq!(job.schedule, Schedule::Every(Tier::Weekly));
}

#[test]
fn dvd_sized_xz_and_gnupg_files() {
    let [job] = sample("dvd-xz-gpg.toml").try_into().expect("one job");
    let BackupTarget::Files(files) = &job.target else {
        panic!("{:?}", job.target);
    };
    assert_eq!(files.volume_bytes, Some(crate::DVD_VOLUME_BYTES));
    assert_eq!(files.name.as_str(), "dvd-staging");
    assert_eq!(job.options.compression, Some(Compression::Xz { level: 6 }));
    assert!(matches!(
        job.options.encryption,
        Some(Encryption::Gpg { .. })
    ));
    assert_eq!(job.schedule, Schedule::Manual);
    assert_eq!(job.retention, None);
}

#[test]
fn defaults_of_a_minimal_job() {
    let text = r#"
[[backup]]
id = "m"
timezone = "UTC"
[[backup.source]]
dataset = "tank"
[backup.target]
type = "pool"
pool = "backup"
"#;
    let [job] = parse_backups(text, Path::new("t.toml"))
        .expect("valid")
        .try_into()
        .expect("one");
    assert_eq!(job.schedule, Schedule::Every(Tier::Daily));
    assert_eq!(
        job.target,
        BackupTarget::LocalPool {
            root: dataset("backup")
        }
    );
    assert_eq!(job.options, BackupOptions::default());
    assert_eq!(job.retention, None);
}

const BASE: &str = r#"
[[backup]]
id = "a"
timezone = "UTC"
[[backup.source]]
dataset = "tank/home"
[backup.target]
type = "pool"
pool = "backup"
"#;

/// A job table whose target table is `target` (after `[backup.target]`).
fn with_target(target: &str) -> String {
    format!(
        "[[backup]]\nid = \"a\"\ntimezone = \"UTC\"\n[[backup.source]]\ndataset = \"tank/home\"\n\
         [backup.target]\n{target}\n"
    )
}

const AGE: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

#[test]
fn broken_tables_name_their_field() {
    let second = |extra: &str| format!("{BASE}{}", BASE.replace("id = \"a\"", extra));
    let cases: Vec<(String, &str, &str)> = vec![
        (second("id = \"a\""), "backup[1].id", "earlier job"),
        (second("id = \"-x\""), "backup[1].id", "starting with a letter"),
        (second("id = 7"), "backup[1].id", "expected a string, found integer"),
        (
            BASE.replace("type = \"pool\"\npool = \"backup\"", "type = \"pool\"\npool = \"backup@x\""),
            "backup[0].target.pool",
            "",
        ),
        (
            BASE.replace("pool = \"backup\"", "pool = \"backup/x\""),
            "backup[0].target.pool",
            "not a pool name",
        ),
        (
            BASE.replace("pool = \"backup\"", "pool = \"backup\"\ndataset = \"backup/x\""),
            "backup[0].target.dataset",
            "not both",
        ),
        (
            BASE.replace("pool = \"backup\"", "pol = \"backup\""),
            "backup[0].target.pol",
            "unknown key",
        ),
        (
            BASE.replace("type = \"pool\"", "type = \"tape\""),
            "backup[0].target.type",
            "not a target type",
        ),
        (
            BASE.replace("type = \"pool\"\n", ""),
            "backup[0].target.type",
            "is missing",
        ),
        (
            BASE.replace("[backup.target]\ntype = \"pool\"\npool = \"backup\"\n", ""),
            "backup[0].target",
            "is missing",
        ),
        (
            BASE.replace("[[backup.source]]\ndataset = \"tank/home\"\n", ""),
            "backup[0].source",
            "is missing",
        ),
        (
            BASE.replace("dataset = \"tank/home\"", "dataset = \"tank/home\"\nexclude = [\"tank/home/x\"]"),
            "backup[0].source[0].exclude[0]",
            "recursive = true",
        ),
        (
            BASE.replace(
                "dataset = \"tank/home\"",
                "dataset = \"tank/home\"\nrecursive = true\nexclude = [\"tank/other\"]",
            ),
            "backup[0].source[0].exclude[0]",
            "not below",
        ),
        (
            BASE.replace(
                "dataset = \"tank/home\"\n",
                "dataset = \"tank\"\nrecursive = true\n[[backup.source]]\ndataset = \"tank/home\"\n",
            ),
            "backup[0].source[1].dataset",
            "overlaps source[0]",
        ),
        (
            BASE.replace("dataset = \"tank/home\"", "dataset = \"backup\"\nrecursive = true"),
            "backup[0].target",
            "inside source[0]",
        ),
        (
            BASE.replace("timezone = \"UTC\"", "timezone = \"Mars/Olympus\""),
            "backup[0].timezone",
            "unknown time zone",
        ),
        (
            BASE.replace("timezone = \"UTC\"", "timezone = \"UTC\"\nschedule = \"often\""),
            "backup[0].schedule",
            "not a schedule",
        ),
        (
            BASE.replace("timezone = \"UTC\"", "timezone = \"UTC\"\nbandwidth_limit = \"fast\""),
            "backup[0].bandwidth_limit",
            "per second",
        ),
        (
            BASE.replace("timezone = \"UTC\"", "timezone = \"UTC\"\nbandwidth_limit = 10"),
            "backup[0].bandwidth_limit",
            "too small",
        ),
        (
            BASE.replace("timezone = \"UTC\"", "timezone = \"UTC\"\nmissing_base = \"guess\""),
            "backup[0].missing_base",
            "full-into-new-dataset",
        ),
        (
            BASE.replace("timezone = \"UTC\"", "timezone = \"UTC\"\nraw = \"yes\""),
            "backup[0].raw",
            "true or false",
        ),
        (
            format!("{BASE}[backup.retention]\nmin_keep = 3\n"),
            "backup[0].retention",
            "keeps no snapshots",
        ),
        (
            format!("{BASE}[backup.retention]\nhourly = -1\n"),
            "backup[0].retention.hourly",
            "must be 0 to",
        ),
        (
            format!("{BASE}[backup.retention]\nhourlies = 1\n"),
            "backup[0].retention.hourlies",
            "unknown key",
        ),
        (
            BASE.replace("timezone = \"UTC\"", "timezone = \"UTC\"\ncolour = \"red\""),
            "backup[0].colour",
            "unknown key",
        ),
        (
            with_target("type = \"ssh\"\nhost = \"-oProxyCommand=x\"\ndataset = \"v/b\""),
            "backup[0].target.host",
            "not a host name",
        ),
        (
            with_target("type = \"ssh\"\nhost = \"nas2\"\ndataset = \"v/b\""),
            "backup[0].target.host_key",
            "pin the far side",
        ),
        (
            with_target(
                "type = \"ssh\"\nhost = \"nas2\"\ndataset = \"v/b\"\nhost_key = \"ssh-dss AAAAB3NzaC1kc3MAAACBAP\"",
            ),
            "backup[0].target.host_key",
            "not a host key",
        ),
        (
            with_target("type = \"ssh\"\nhost = \"nas2\"\ndataset = \"v/b\"\nport = 70000"),
            "backup[0].target.port",
            "1 to 65535",
        ),
        (
            with_target("type = \"ssh\"\nhost = \"nas2\"\ndataset = \"v/b\"\nuser = \"Root User\""),
            "backup[0].target.user",
            "not a user name",
        ),
        (
            with_target("type = \"files\"\ndirectory = \"relative/dir\""),
            "backup[0].target.directory",
            "absolute path",
        ),
        (
            with_target("type = \"files\"\ndirectory = \"/m\"\nvolume_size = \"4.7 parsecs\""),
            "backup[0].target.volume_size",
            "not a size",
        ),
        (
            with_target("type = \"files\"\ndirectory = \"/m\"\nvolume_size = 1000"),
            "backup[0].target.volume_size",
            "too small",
        ),
        (
            with_target("type = \"files\"\ndirectory = \"/m\"\ncompression = \"lz4\""),
            "backup[0].target.compression",
            "not a compression",
        ),
        (
            with_target("type = \"files\"\ndirectory = \"/m\"\ncompression_level = 12\ncompression = \"xz\""),
            "backup[0].target.compression_level",
            "xz takes 0 to 9",
        ),
        (
            with_target("type = \"files\"\ndirectory = \"/m\"\ncompression_level = 0"),
            "backup[0].target.compression_level",
            "zstd takes 1 to 19",
        ),
        (
            with_target("type = \"files\"\ndirectory = \"/m\"\nencryption = \"age\""),
            "backup[0].target.recipients",
            "at least one",
        ),
        (
            with_target("type = \"files\"\ndirectory = \"/m\"\nencryption = \"age\"\nrecipients = [\"bob\"]"),
            "backup[0].target.recipients[0]",
            "not a recipient",
        ),
        (
            with_target("type = \"files\"\ndirectory = \"/m\"\nencryption = \"openssl\""),
            "backup[0].target.passphrase_file",
            "is missing",
        ),
        (
            with_target(&format!("type = \"files\"\ndirectory = \"/m\"\nrecipients = [\"{AGE}\"]")),
            "backup[0].target.recipients",
            "only `age` and `gpg`",
        ),
        (
            with_target("type = \"files\"\ndirectory = \"/m\"\nroll_back = true"),
            "backup[0].target.roll_back",
            "unknown key",
        ),
        (
            with_target("type = \"pool\"\npool = \"backup\"\nname = \"x\""),
            "backup[0].target.name",
            "only file and S3",
        ),
        (
            with_target("type = \"s3\"\nendpoint = \"https://s3.example\"\nbucket = \"b1b\""),
            "backup[0].target.encryption",
            "leave this machine",
        ),
        (
            with_target(
                "type = \"s3\"\nendpoint = \"http://s3.example\"\nbucket = \"b1b\"\nencryption = \"none\"",
            ),
            "backup[0].target.endpoint",
            "only to this machine",
        ),
        (
            with_target("type = \"s3\"\nendpoint = \"s3.example\"\nbucket = \"b1b\"\nencryption = \"none\""),
            "backup[0].target.endpoint",
            "not an endpoint",
        ),
        (
            with_target(
                "type = \"s3\"\nendpoint = \"https://s3.example\"\nbucket = \"My_Bucket\"\nencryption = \"none\"",
            ),
            "backup[0].target.bucket",
            "not a bucket name",
        ),
        (
            with_target(
                "type = \"s3\"\nendpoint = \"https://s3.example\"\nbucket = \"b1b\"\nencryption = \"none\"\nprefix = \"../x\"",
            ),
            "backup[0].target.prefix",
            "not a key prefix",
        ),
        (
            with_target("type = \"rotating-disks\""),
            "backup[0].target.disk",
            "is missing",
        ),
        (
            with_target(
                "type = \"rotating-disks\"\n[[backup.target.disk]]\nname = \"a\"\npool_guid = \"x\"\ndataset = \"usb/w\"",
            ),
            "backup[0].target.disk[0].pool_guid",
            "pool guid",
        ),
        (
            with_target(
                "type = \"rotating-disks\"\n[[backup.target.disk]]\nname = \"a\"\npool_guid = \"5\"\ndataset = \"usb/w\"\n\
                 [[backup.target.disk]]\nname = \"b\"\npool_guid = \"5\"\ndataset = \"usb2/w\"",
            ),
            "backup[0].target.disk[1]",
            "already has this name or pool guid",
        ),
    ];
    for (text, field, words) in &cases {
        let error = validate_backups(&tables(text)).expect_err(text);
        assert_eq!(&error.field, field, "{text}\n→ {error}");
        assert!(error.message.contains(words), "{text}\n→ {error}");
        assert!(
            error.to_string().starts_with(&format!("{field}: ")),
            "{error}"
        );
    }
}

fn tables(text: &str) -> Vec<toml::Table> {
    let document: toml::Table =
        toml::from_str(text).unwrap_or_else(|error| panic!("{text}: {error}"));
    match document.get("backup") {
        Some(toml::Value::Array(items)) => items
            .iter()
            .map(|item| item.as_table().expect("table").clone())
            .collect(),
        _ => panic!("no [[backup]] in {text}"),
    }
}

#[test]
fn file_level_errors() {
    let path = Path::new("backups.toml");
    let syntax = parse_backups("[[backup]\nid = 1", path).expect_err("syntax");
    assert!(
        matches!(syntax, BackupConfigError::Syntax { line: 1, .. }),
        "{syntax}"
    );
    let stray = parse_backups("[[policy]]\nid = \"x\"", path).expect_err("stray");
    assert!(stray.to_string().contains("policy: unknown key"), "{stray}");
    let not_tables = parse_backups("backup = 3", path).expect_err("not tables");
    assert!(
        not_tables.to_string().contains("backup: expected"),
        "{not_tables}"
    );
    assert!(parse_backups("", path).expect("empty").is_empty());
    let missing = load_backups(Path::new("/nonexistent/backups.toml")).expect_err("missing");
    assert!(matches!(missing, BackupConfigError::Read { .. }));
}

#[test]
fn odd_input_never_panics() {
    let texts = [
        "backup = [1, \"x\", []]",
        "[[backup]]\nsource = 5\ntarget = []",
        "[[backup]]\nid = \"a\"\nsource = [1]\n",
        "[[backup]]\nid = \"a\"\n[[backup.source]]\ndataset = \"\"\n",
        "[[backup]]\nid = \"a\"\n[[backup.source]]\ndataset = \"t\"\nexclude = \"t/x\"\n",
        "[[backup]]\nid = \"a\"\n[[backup.source]]\ndataset = \"t\"\n[backup.target]\ntype = 5\n",
        "[[backup]]\nid = \"a\"\n[[backup.source]]\ndataset = \"t\"\n[backup.target]\ntype = \"files\"\ndirectory = \"/m\"\nvolume_size = \"18446744073709551616\"\n",
        "[[backup]]\nid = \"a\"\n[[backup.source]]\ndataset = \"t\"\n[backup.target]\ntype = \"rotating-disks\"\ndisk = [7]\n",
    ];
    for text in texts {
        assert!(parse_backups(text, Path::new("x.toml")).is_err(), "{text}");
    }
}
