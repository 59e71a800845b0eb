//! Platform tests of the VM image itself: the tools WiZFS relies on are installed, and the
//! emulated NVMe disks answer `smartctl --json` with real health logs (one healthy, one with
//! an injected critical warning), so the health checks to come run against real output.

use std::process::Command;

fn smartctl_json(serial: &str) -> (i32, serde_like::Value) {
    let device = format!("/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_{serial}");
    let output = Command::new("smartctl")
        .args(["--json", "-a", &device])
        .output()
        .expect("smartctl");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.code().unwrap_or(-1), serde_like::Value(text))
}

/// Just enough JSON probing for these checks without a JSON dependency in the test crate.
mod serde_like {
    #[derive(Debug)]
    pub struct Value(pub String);

    impl Value {
        /// The text after `"key":`, trimmed, up to the next `,` or `}`.
        pub fn scalar(&self, key: &str) -> Option<String> {
            let needle = format!("\"{key}\":");
            let start = self.0.find(&needle)? + needle.len();
            let rest = &self.0[start..];
            let end = rest.find([',', '}', '\n']).unwrap_or(rest.len());
            Some(rest[..end].trim().to_owned())
        }
    }
}

#[test]
fn emulated_nvme_disks_report_real_smart_data() {
    let (status, healthy) = smartctl_json("WIZFSNVME0");
    assert!(
        healthy.0.contains("nvme_smart_health_information_log"),
        "status {status}: {}",
        healthy.0
    );
    assert_eq!(healthy.scalar("critical_warning").as_deref(), Some("0"));
    let temperature: i64 = healthy
        .scalar("current")
        .and_then(|value| value.parse().ok())
        .expect("a temperature");
    assert!((0..100).contains(&temperature), "{temperature}");

    let (status, failing) = smartctl_json("WIZFSNVME1");
    assert_ne!(
        status & 0b1000,
        0,
        "exit status bit 3 (DISK FAILING) is set: {status}"
    );
    assert_eq!(failing.scalar("critical_warning").as_deref(), Some("4"));
    assert_eq!(failing.scalar("passed").as_deref(), Some("false"));
}

#[test]
fn backup_and_ssh_tools_are_installed() {
    for (tool, argument) in [
        ("xz", "--version"),
        ("zstd", "--version"),
        ("gpg", "--version"),
        ("ssh", "-V"),
        ("nvme", "version"),
        ("setfattr", "--version"),
    ] {
        let status = Command::new(tool)
            .arg(argument)
            .output()
            .unwrap_or_else(|error| panic!("{tool}: {error}"))
            .status;
        assert!(status.success(), "{tool} {argument}");
    }
}
