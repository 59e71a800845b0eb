//! The UDisks2 adapter against a private D-Bus: a `dbus-daemon` started for the test (Debian
//! package `dbus-daemon`), a stand-in UDisks2 service on it (an ObjectManager with two drive
//! objects, written here with zbus), and the real `list_drives` proxy code as the client.
//! The system bus of the machine is never touched.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use std::collections::BTreeSet;

use wizfs_health::sensors::SensorConfig;
use wizfs_health::sensors::udisks::{
    UDISKS_PATH, UDISKS_SERVICE, UdisksRead, list_drives, read_udisks, udisks_observations,
};
use wizfs_health::smart::DiskId;
use wizfs_health::smart::rules::SmartThresholds;

/// A private bus, stopped when dropped.
struct PrivateBus {
    daemon: Child,
    address: String,
}

impl PrivateBus {
    fn start() -> PrivateBus {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start dbus-daemon ({error}): install the Debian package dbus-daemon")
            });
        let stdout = daemon.stdout.take().expect("stdout piped");
        let mut address = String::new();
        BufReader::new(stdout)
            .read_line(&mut address)
            .expect("dbus-daemon prints its address");
        PrivateBus {
            daemon,
            address: address.trim().to_owned(),
        }
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

struct FakeDrive {
    model: &'static str,
    serial: &'static str,
    wwn: &'static str,
    size: u64,
    rotation_rate: i32,
}

#[zbus::interface(name = "org.freedesktop.UDisks2.Drive")]
impl FakeDrive {
    #[zbus(property)]
    fn model(&self) -> String {
        self.model.into()
    }

    #[zbus(property)]
    fn serial(&self) -> String {
        self.serial.into()
    }

    #[zbus(property, name = "WWN")]
    fn wwn(&self) -> String {
        self.wwn.into()
    }

    #[zbus(property)]
    fn vendor(&self) -> String {
        String::new()
    }

    #[zbus(property)]
    fn size(&self) -> u64 {
        self.size
    }

    #[zbus(property)]
    fn rotation_rate(&self) -> i32 {
        self.rotation_rate
    }
}

struct FakeAta {
    kelvin: f64,
    failing: bool,
    bad_sectors: i64,
}

#[zbus::interface(name = "org.freedesktop.UDisks2.Drive.Ata")]
impl FakeAta {
    #[zbus(property)]
    fn smart_temperature(&self) -> f64 {
        self.kelvin
    }

    #[zbus(property)]
    fn smart_failing(&self) -> bool {
        self.failing
    }

    #[zbus(property)]
    fn smart_enabled(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn smart_num_bad_sectors(&self) -> i64 {
        self.bad_sectors
    }
}

const HDD: &str = "/org/freedesktop/UDisks2/drives/ST4000VN008_ZDH1";
const SSD: &str = "/org/freedesktop/UDisks2/drives/QEMU_NVMe_Ctrl_WIZFSNVME0";

/// The stand-in UDisks2 on `address`: a failing Seagate HDD with 16 bad sectors at 41 °C and
/// an NVMe drive without ATA data. Serves while the connection lives.
async fn fake_udisks(address: &str) -> zbus::Connection {
    let (hdd, ssd) = (HDD, SSD);
    zbus::connection::Builder::address(address)
        .name(UDISKS_SERVICE)
        .serve_at(UDISKS_PATH, zbus::fdo::ObjectManager)
        .serve_at(
            hdd,
            FakeDrive {
                model: "ST4000VN008-2DR166",
                serial: "ZDH1ABCD",
                wwn: "0x5000c500b1234567",
                size: 4_000_787_030_016,
                rotation_rate: 5980,
            },
        )
        .serve_at(
            hdd,
            FakeAta {
                kelvin: 273.15 + 41.0,
                failing: true,
                bad_sectors: 16,
            },
        )
        .serve_at(
            ssd,
            FakeDrive {
                model: "QEMU NVMe Ctrl",
                serial: "WIZFSNVME0",
                wwn: "",
                size: 536_870_912,
                rotation_rate: 0,
            },
        )
        .build()
        .await
        .expect("fake UDisks2 on the private bus")
}

#[tokio::test]
async fn drives_from_a_fake_udisks2_on_a_private_bus() {
    let bus = PrivateBus::start();
    let ssd = SSD;
    let _service = fake_udisks(&bus.address).await;

    let client = zbus::connection::Builder::address(bus.address.as_str())
        .build()
        .await
        .expect("client connection");
    let drives = list_drives(&client).await.expect("lists drives");
    assert_eq!(drives.len(), 2, "{drives:#?}");

    let nvme = &drives[0];
    assert_eq!(nvme.object_path, ssd);
    assert_eq!(
        nvme.disk,
        Some(DiskId::ModelSerial {
            model: "QEMU NVMe Ctrl".into(),
            serial: "WIZFSNVME0".into()
        })
    );
    assert_eq!(nvme.wwn, None);
    assert_eq!(nvme.rotation_rate, Some(0));
    assert_eq!(nvme.temperature_celsius, None, "no Drive.Ata interface");

    let seagate = &drives[1];
    assert_eq!(seagate.disk, Some(DiskId::Wwn("5000c500b1234567".into())));
    assert_eq!(seagate.size_bytes, Some(4_000_787_030_016));
    assert_eq!(seagate.rotation_rate, Some(5980));
    let celsius = seagate.temperature_celsius.expect("temperature");
    assert!((celsius - 41.0).abs() < 1e-9, "{celsius}");
    assert_eq!(seagate.smart_failing, Some(true));
    assert_eq!(seagate.bad_sectors, Some(16));
}

#[tokio::test]
async fn no_udisks2_on_the_bus_is_a_dbus_error() {
    let bus = PrivateBus::start();
    let client = zbus::connection::Builder::address(bus.address.as_str())
        .build()
        .await
        .expect("client connection");
    let error = list_drives(&client).await.expect_err("no service");
    assert!(error.to_string().contains("GetManagedObjects"), "{error}");
}

fn config(address: Option<&str>) -> SensorConfig {
    SensorConfig {
        dbus_address: address.map(str::to_owned),
        ..SensorConfig::default()
    }
}

#[tokio::test]
async fn a_round_reads_udisks2_where_the_configuration_says() {
    let bus = PrivateBus::start();
    let _service = fake_udisks(&bus.address).await;
    let UdisksRead::Drives(drives) = read_udisks(&config(Some(&bus.address))).await else {
        panic!("the fake UDisks2 answers");
    };
    assert_eq!(drives.len(), 2, "{drives:#?}");
    // What a round makes of them when smartctl read neither drive.
    let (readings, findings) =
        udisks_observations(&drives, &BTreeSet::new(), &SmartThresholds::default());
    let names: Vec<&str> = readings
        .iter()
        .map(|reading| reading.name.as_str())
        .collect();
    assert_eq!(names, ["udisks/wwn-0x5000c500b1234567"], "{readings:#?}");
    let kinds: Vec<&str> = findings
        .iter()
        .map(|finding| finding.kind.as_str())
        .collect();
    assert_eq!(kinds, ["smart_status_failed", "reallocated_sectors"]);

    let mut off = config(Some(&bus.address));
    off.udisks = false;
    assert_eq!(read_udisks(&off).await, UdisksRead::NotAsked);
}

#[tokio::test]
async fn a_machine_without_udisks2_reports_nothing_rather_than_a_problem() {
    // A bus without the service (the appliance has D-Bus but no UDisks2).
    let bus = PrivateBus::start();
    assert_eq!(
        read_udisks(&config(Some(&bus.address))).await,
        UdisksRead::Absent
    );
    // No bus at all.
    let directory = tempfile::tempdir().expect("temporary directory");
    let nowhere = format!("unix:path={}", directory.path().join("bus").display());
    assert_eq!(
        read_udisks(&config(Some(&nowhere))).await,
        UdisksRead::Absent
    );
}
