//! The real smartctl adapter ([`SmartctlCli`]) against a stand-in `smartctl` program: a small
//! script in a temporary folder that records its argv and environment, prints a captured
//! fixture and exits with a chosen status. This checks the process handling (argv, cleared
//! environment, exit bits, time limit) without needing smartctl or disks on the build machine.

use std::path::{Path, PathBuf};
use std::time::Duration;

use wizfs_health::smart::{
    ScannedDevice, SelfTestKind, SmartError, SmartReading, SmartSource, SmartctlCli,
};

struct FakeSmartctl {
    folder: tempfile::TempDir,
}

impl FakeSmartctl {
    /// A program that prints `stdout_file` and exits with `status` (after `sleep_seconds`).
    fn new(stdout_file: &Path, status: u8, sleep_seconds: u32) -> FakeSmartctl {
        let folder = tempfile::tempdir().expect("temp dir");
        let script = folder.path().join("smartctl");
        let record = folder.path();
        let text = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{args}'\nenv > '{env}'\nsleep {sleep_seconds}\ncat '{stdout}'\nexit {status}\n",
            args = record.join("args").display(),
            env = record.join("env").display(),
            stdout = stdout_file.display(),
        );
        std::fs::write(&script, text).expect("script");
        let mut permissions = std::fs::metadata(&script).expect("metadata").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&script, permissions).expect("chmod");
        FakeSmartctl { folder }
    }

    fn cli(&self) -> SmartctlCli {
        SmartctlCli::with_program(self.folder.path().join("smartctl"))
    }

    fn args(&self) -> Vec<String> {
        std::fs::read_to_string(self.folder.path().join("args"))
            .expect("args recorded")
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn env(&self) -> String {
        std::fs::read_to_string(self.folder.path().join("env")).expect("env recorded")
    }
}

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/smartctl")
        .join(relative)
}

fn nvme(name: &str) -> ScannedDevice {
    ScannedDevice {
        name: name.into(),
        device_type: Some("nvme".into()),
        protocol: Some("NVMe".into()),
    }
}

#[test]
fn read_passes_argv_clears_the_environment_and_keeps_data_of_a_failing_disk() {
    let fake = FakeSmartctl::new(
        &fixture("wizfs-vm/qemu-nvme1-critical-warning-a.json"),
        8,
        0,
    );
    let reading = fake.cli().read(&nvme("/dev/nvme1")).expect("reads");
    match reading {
        SmartReading::Report { report, exit } => {
            assert_eq!(exit.0, 8);
            assert!(exit.disk_failing());
            assert_eq!(report.serial_number.as_deref(), Some("WIZFSNVME1"));
        }
        other => panic!("expected a report, got {other:?}"),
    }
    assert_eq!(
        fake.args(),
        ["--json", "-a", "-n", "standby", "-d", "nvme", "/dev/nvme1"]
    );
    let env = fake.env();
    assert!(env.lines().any(|line| line == "LC_ALL=C"), "{env}");
    assert!(env.lines().any(|line| line == "TZ=UTC"), "{env}");
    // cargo gives the test process this variable; the child must not inherit it.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    assert!(!env.contains("CARGO_MANIFEST_DIR"), "{env}");
}

#[test]
fn a_sleeping_disk_is_reported_as_sleeping() {
    let folder = tempfile::tempdir().expect("temp dir");
    let standby = folder.path().join("standby.json");
    // The shape smartctl prints when `-n standby` finds the disk spun down.
    std::fs::write(
        &standby,
        r#"{"smartctl": {"version": [7, 3], "messages": [{"string": "Device is in STANDBY mode, exit(2)", "severity": "information"}], "exit_status": 2},
            "device": {"name": "/dev/sda", "type": "sat", "protocol": "ATA"}}"#,
    )
    .expect("write");
    let fake = FakeSmartctl::new(&standby, 2, 0);
    let device = ScannedDevice {
        name: "/dev/sda".into(),
        device_type: Some("sat".into()),
        protocol: Some("ATA".into()),
    };
    match fake.cli().read(&device).expect("reads") {
        SmartReading::Sleeping { messages } => assert_eq!(messages.len(), 1),
        other => panic!("expected sleeping, got {other:?}"),
    }
}

#[test]
fn open_failures_are_unavailable() {
    let fake = FakeSmartctl::new(
        &fixture("wizfs-vm/virtio-vdb-unable-to-detect-a.json"),
        1,
        0,
    );
    let device = ScannedDevice {
        name: "/dev/vdb".into(),
        device_type: None,
        protocol: None,
    };
    match fake.cli().read(&device).expect("reads") {
        SmartReading::Unavailable { exit, messages } => {
            assert_eq!(exit.0, 1);
            assert_eq!(messages, ["/dev/vdb: Unable to detect device type"]);
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert_eq!(fake.args(), ["--json", "-a", "-n", "standby", "/dev/vdb"]);
}

#[test]
fn scan_lists_devices() {
    let fake = FakeSmartctl::new(&fixture("wizfs-vm/scan-open.json"), 0, 0);
    let devices = fake.cli().scan().expect("scans");
    assert_eq!(devices, vec![nvme("/dev/nvme0"), nvme("/dev/nvme1")]);
    assert_eq!(fake.args(), ["--scan-open", "--json"]);
}

#[test]
fn a_hanging_smartctl_is_killed_after_the_time_limit() {
    let fake = FakeSmartctl::new(&fixture("wizfs-vm/scan-open.json"), 0, 5);
    let started = std::time::Instant::now();
    let error = fake
        .cli()
        .timeout(Duration::from_millis(300))
        .scan()
        .expect_err("times out");
    assert!(matches!(error, SmartError::Timeout { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn device_names_that_look_like_options_are_refused_before_running() {
    let fake = FakeSmartctl::new(&fixture("wizfs-vm/scan-open.json"), 0, 0);
    for (name, device_type) in [("-x", None), ("/dev/sda", Some("--all")), ("sda", None)] {
        let device = ScannedDevice {
            name: name.into(),
            device_type: device_type.map(str::to_owned),
            protocol: None,
        };
        let error = fake.cli().read(&device).expect_err("refused");
        assert!(matches!(error, SmartError::InvalidDevice { .. }), "{error}");
    }
    assert!(
        !fake.folder.path().join("args").exists(),
        "smartctl must not run"
    );
}

#[test]
fn self_tests_start_or_fail_with_the_drive_message() {
    let folder = tempfile::tempdir().expect("temp dir");
    let started = folder.path().join("started.json");
    std::fs::write(&started, r#"{"smartctl": {"exit_status": 0}}"#).expect("write");
    let fake = FakeSmartctl::new(&started, 0, 0);
    fake.cli()
        .start_self_test(&nvme("/dev/nvme0"), SelfTestKind::Long)
        .expect("starts");
    assert_eq!(
        fake.args(),
        ["--json", "-t", "long", "-d", "nvme", "/dev/nvme0"]
    );

    let refused = folder.path().join("refused.json");
    std::fs::write(
        &refused,
        r#"{"smartctl": {"messages": [{"string": "Self-test not supported", "severity": "error"}], "exit_status": 4}}"#,
    )
    .expect("write");
    let fake = FakeSmartctl::new(&refused, 4, 0);
    let error = fake
        .cli()
        .start_self_test(&nvme("/dev/nvme0"), SelfTestKind::Short)
        .expect_err("refused");
    match error {
        SmartError::Failed { messages, .. } => assert_eq!(messages, ["Self-test not supported"]),
        other => panic!("{other}"),
    }
}

#[test]
fn a_missing_program_is_a_spawn_error() {
    let error = SmartctlCli::with_program("/nonexistent/smartctl")
        .scan()
        .expect_err("no program");
    assert!(matches!(error, SmartError::Spawn { .. }), "{error}");
}
