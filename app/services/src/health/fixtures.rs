//! The SMART source of the fake backend (demo mode and tests): a directory of `smartctl
//! --json -a` outputs, one `*.json` file per disk, served as if smartctl had just printed
//! them. The files go through the same pure interpretation as real output (the exit status
//! is the one smartctl wrote into the JSON), so a captured failing disk looks failing.
//! `wiring.rs` chooses it for the fake backend; a new directory is seeded with the two
//! NVMe disks captured in the test VM (one healthy, one with a critical warning).

use std::path::{Path, PathBuf};

use wizfs_health::smart::{
    ScannedDevice, SelfTestKind, SmartError, SmartReading, SmartSource, interpret_output,
};

/// The captures a new fixture directory starts with (`app/health/tests/fixtures/smartctl/`).
const SEED: [(&str, &[u8]); 2] = [
    (
        "nvme0-healthy.json",
        include_bytes!(
            "../../../health/tests/fixtures/smartctl/wizfs-vm/qemu-nvme0-healthy-a.json"
        ),
    ),
    (
        "nvme1-critical-warning.json",
        include_bytes!(
            "../../../health/tests/fixtures/smartctl/wizfs-vm/qemu-nvme1-critical-warning-a.json"
        ),
    ),
];

/// Serves the `*.json` files of one directory as disks.
#[derive(Clone, Debug)]
pub struct FixtureSmartSource {
    directory: PathBuf,
}

impl FixtureSmartSource {
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        Self {
            directory: directory.into(),
        }
    }

    /// Like [`FixtureSmartSource::new`], creating the directory with the seed captures when
    /// it does not exist yet.
    pub fn seeded(directory: &Path) -> std::io::Result<Self> {
        if !directory.exists() {
            std::fs::create_dir_all(directory)?;
            for (name, bytes) in SEED {
                std::fs::write(directory.join(name), bytes)?;
            }
        }
        Ok(Self::new(directory))
    }

    fn describe(&self, what: &str) -> String {
        format!("{what} (fixture directory {})", self.directory.display())
    }
}

impl SmartSource for FixtureSmartSource {
    fn scan(&self) -> Result<Vec<ScannedDevice>, SmartError> {
        let entries = std::fs::read_dir(&self.directory).map_err(|source| SmartError::Spawn {
            command: self.describe("smartctl --scan-open"),
            source,
        })?;
        let mut devices: Vec<ScannedDevice> = entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| {
                path.extension()
                    .is_some_and(|extension| extension == "json")
            })
            .map(|path| ScannedDevice {
                name: path.display().to_string(),
                device_type: None,
                protocol: None,
            })
            .collect();
        devices.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(devices)
    }

    fn read(&self, device: &ScannedDevice) -> Result<SmartReading, SmartError> {
        let command = self.describe(&format!("smartctl --json -a {}", device.name));
        let path = Path::new(&device.name);
        if path.parent() != Some(self.directory.as_path()) {
            return Err(SmartError::InvalidDevice {
                name: device.name.clone(),
                device_type: device.device_type.clone(),
            });
        }
        let bytes = std::fs::read(path).map_err(|source| SmartError::Spawn {
            command: command.clone(),
            source,
        })?;
        interpret_output(&bytes, None).map_err(|source| SmartError::InvalidJson {
            command,
            status: "fixture".into(),
            stderr: String::new(),
            source,
        })
    }

    /// A fixture accepts a self-test as a drive would; its report does not change.
    fn start_self_test(
        &self,
        device: &ScannedDevice,
        _kind: SelfTestKind,
    ) -> Result<(), SmartError> {
        self.read(device).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wizfs_health::smart::summarize;

    #[test]
    fn a_seeded_directory_serves_both_captured_disks() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let fixtures = directory.path().join("smartctl");
        let source = FixtureSmartSource::seeded(&fixtures).expect("seeded");
        let devices = source.scan().expect("scan");
        assert_eq!(devices.len(), 2);
        let serials: Vec<Option<String>> = devices
            .iter()
            .map(|device| match source.read(device).expect("read") {
                SmartReading::Report { report, exit } => {
                    summarize(&report, exit).and_then(|summary| summary.serial)
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            serials,
            [Some("WIZFSNVME0".to_owned()), Some("WIZFSNVME1".to_owned())]
        );
        // Seeding never overwrites what the user put there.
        std::fs::remove_file(fixtures.join("nvme0-healthy.json")).expect("remove");
        let again = FixtureSmartSource::seeded(&fixtures).expect("seeded");
        assert_eq!(again.scan().expect("scan").len(), 1);
        let outside = ScannedDevice {
            name: "/etc/passwd".into(),
            device_type: None,
            protocol: None,
        };
        assert!(matches!(
            source.read(&outside),
            Err(SmartError::InvalidDevice { .. })
        ));
    }
}
