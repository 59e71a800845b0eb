//! sysfs reading over a fake tree built in a temporary directory, shaped like the kernel's.

use super::*;

struct Tree {
    root: tempfile::TempDir,
}

impl Tree {
    fn new() -> Tree {
        Tree {
            root: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn file(&self, relative: &str, text: &str) -> &Tree {
        let path = self.root.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, format!("{text}\n")).expect("write");
        self
    }

    fn link(&self, relative: &str, target: &str) -> &Tree {
        let path = self.root.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::os::unix::fs::symlink(target, path).expect("symlink");
        self
    }

    fn path(&self) -> &Path {
        self.root.path()
    }
}

fn summary(scan: &SysfsScan) -> Vec<(String, f64, Option<f64>, Option<f64>)> {
    scan.readings
        .iter()
        .map(|reading| {
            (
                reading.name.clone(),
                reading.celsius,
                reading.warning,
                reading.critical,
            )
        })
        .collect()
}

#[test]
fn hwmon_chips_labels_limits_and_duplicates() {
    let tree = Tree::new();
    tree.file("class/hwmon/hwmon0/name", "coretemp")
        .file("class/hwmon/hwmon0/temp1_input", "45000")
        .file("class/hwmon/hwmon0/temp1_label", "Package id 0")
        .file("class/hwmon/hwmon0/temp1_max", "80000")
        .file("class/hwmon/hwmon0/temp1_crit", "100000")
        .file("class/hwmon/hwmon0/temp2_input", "43500")
        .file("class/hwmon/hwmon0/temp2_label", "Core 0")
        // Two NVMe chips: told apart by their device.
        .file("class/hwmon/hwmon1/name", "nvme")
        .file("class/hwmon/hwmon1/temp1_input", "38850")
        .file("class/hwmon/hwmon1/temp1_label", "Composite")
        .file("class/hwmon/hwmon1/temp1_crit", "84850")
        .link("class/hwmon/hwmon1/device", "../../nvme0")
        .file("class/hwmon/hwmon10/name", "nvme")
        .file("class/hwmon/hwmon10/temp1_input", "-5250")
        .file("class/hwmon/hwmon10/temp1_label", "Composite")
        .link("class/hwmon/hwmon10/device", "../../nvme1")
        // No label, no limits.
        .file("class/hwmon/hwmon2/name", "acpitz")
        .file("class/hwmon/hwmon2/temp1_input", "27800")
        // Fan and voltage files are not temperatures.
        .file("class/hwmon/hwmon2/fan1_input", "1200")
        .file("class/hwmon/hwmon2/in0_input", "1100");
    let scan = read_hwmon(tree.path());
    assert!(scan.problems.is_empty(), "{:?}", scan.problems);
    assert_eq!(
        summary(&scan),
        vec![
            (
                "coretemp/Package id 0".into(),
                45.0,
                Some(80.0),
                Some(100.0)
            ),
            ("coretemp/Core 0".into(), 43.5, None, None),
            ("nvme/Composite@nvme0".into(), 38.85, None, Some(84.85)),
            ("acpitz/temp1".into(), 27.8, None, None),
            ("nvme/Composite@nvme1".into(), -5.25, None, None),
        ]
    );
}

#[test]
fn a_broken_sensor_is_reported_and_skipped() {
    let tree = Tree::new();
    tree.file("class/hwmon/hwmon0/name", "drivetemp")
        .file("class/hwmon/hwmon0/temp1_input", "not a number")
        .file("class/hwmon/hwmon1/name", "k10temp")
        .file("class/hwmon/hwmon1/temp1_input", "51125")
        .file("class/hwmon/hwmon1/temp1_label", "Tctl");
    let scan = read_hwmon(tree.path());
    assert_eq!(
        summary(&scan),
        vec![("k10temp/Tctl".into(), 51.125, None, None)]
    );
    assert_eq!(scan.problems.len(), 1);
    assert!(matches!(scan.problems[0], SensorError::NotANumber { .. }));
}

#[test]
fn thermal_zones_with_trip_points() {
    let tree = Tree::new();
    tree.file("class/thermal/thermal_zone0/type", "x86_pkg_temp")
        .file("class/thermal/thermal_zone0/temp", "52000")
        .file("class/thermal/thermal_zone0/trip_point_0_type", "passive")
        .file("class/thermal/thermal_zone0/trip_point_0_temp", "70000")
        .file("class/thermal/thermal_zone0/trip_point_1_type", "hot")
        .file("class/thermal/thermal_zone0/trip_point_1_temp", "90000")
        .file("class/thermal/thermal_zone0/trip_point_2_type", "critical")
        .file("class/thermal/thermal_zone0/trip_point_2_temp", "105000")
        .file("class/thermal/thermal_zone1/type", "acpitz")
        .file("class/thermal/thermal_zone1/temp", "30000")
        .file("class/thermal/thermal_zone2/type", "acpitz")
        .file("class/thermal/thermal_zone2/temp", "31000")
        // Cooling devices live in the same class directory and are not zones.
        .file("class/thermal/cooling_device0/type", "Processor");
    let scan = read_thermal(tree.path());
    assert!(scan.problems.is_empty());
    assert_eq!(
        summary(&scan),
        vec![
            ("thermal/x86_pkg_temp".into(), 52.0, Some(90.0), Some(105.0)),
            ("thermal/acpitz@1".into(), 30.0, None, None),
            ("thermal/acpitz@2".into(), 31.0, None, None),
        ]
    );
}

#[test]
fn no_sensor_classes_means_no_readings() {
    // Like the test VM: no /sys/class/hwmon at all, thermal with cooling devices only.
    let tree = Tree::new();
    tree.file("class/thermal/cooling_device0/type", "Processor");
    let hwmon = read_hwmon(tree.path());
    let thermal = read_thermal(tree.path());
    assert!(hwmon.readings.is_empty() && hwmon.problems.is_empty());
    assert!(thermal.readings.is_empty() && thermal.problems.is_empty());
}

#[test]
fn millidegree_parsing() {
    let cases = [
        ("45000", Some(45.0)),
        ("-5250", Some(-5.25)),
        (" 1 ", Some(0.001)),
        ("", None),
        ("45.0", None),
        ("abc", None),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_millidegrees(text), expected, "{text:?}");
    }
}
