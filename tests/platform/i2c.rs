//! Hardware test of the I2C sensors through the Linux kernel's `i2c-stub`: the test VM boots
//! Debian's generic kernel for this (the cloud kernel the ZFS tests use has no I2C at all),
//! `tests/vm/guest-hw.sh` loads `i2c-dev` and `i2c-stub` with chips at 0x48, 0x49 and 0x76,
//! and this test programs their registers with `i2cset` (i2c-tools, an independent writer)
//! the way an LM75, a TMP102 and a BME280 would hold them. `wizfs --json health` must then
//! read the datasheet values back through `/dev/i2c-N` with the same SMBus commands it uses
//! on an appliance, raise the configured limit, and name a chip that does not answer.
//! The binary's name starts with `hw_`: tests/vm/run runs it in the generic-kernel boot.

use std::path::{Path, PathBuf};

use serde_json::Value;
use wizfs_tests::vm::run;

/// The `N` of the stub's `/dev/i2c-N`.
fn stub_bus() -> u32 {
    let adapters = std::fs::read_dir("/sys/class/i2c-adapter")
        .expect("/sys/class/i2c-adapter (is this the generic-kernel boot of tests/vm/run?)");
    for adapter in adapters {
        let adapter = adapter.expect("an adapter entry").path();
        let name = std::fs::read_to_string(adapter.join("name")).unwrap_or_default();
        if name.trim() == "SMBus stub driver" {
            let file_name = adapter
                .file_name()
                .expect("i2c-N")
                .to_string_lossy()
                .into_owned();
            return file_name
                .strip_prefix("i2c-")
                .and_then(|number| number.parse().ok())
                .expect("an adapter named i2c-N");
        }
    }
    panic!("no i2c-stub adapter: tests/vm/guest-hw.sh loads i2c-stub before the hw_ tests");
}

/// One `i2cset` write: `mode` `b` (byte) or `w` (word).
fn i2cset(bus: u32, address: u8, register: u8, value: u16, mode: &str) {
    run(&[
        "i2cset",
        "-y",
        &bus.to_string(),
        &format!("{address:#04x}"),
        &format!("{register:#04x}"),
        &format!("{value:#06x}"),
        mode,
    ]);
}

/// Writes consecutive byte registers from `register` (byte-data writes).
fn set_bytes(bus: u32, address: u8, register: u8, bytes: &[u8]) {
    for (offset, byte) in bytes.iter().enumerate() {
        let register = register + u8::try_from(offset).expect("a register offset");
        i2cset(bus, address, register, u16::from(*byte), "b");
    }
}

/// A two-byte register as the chip sends it, MSB first: the stub keeps 16-bit words and an
/// SMBus word goes low byte first, so the first byte on the wire is the word's low byte.
fn set_register_pair(bus: u32, address: u8, register: u8, bytes: [u8; 2]) {
    i2cset(bus, address, register, u16::from_le_bytes(bytes), "w");
}

/// The BMP280/BME280 datasheet's example calibration and raw readings (the same register
/// file as the unit tests of `wizfs_health::sensors::i2c`).
fn program_bme280(bus: u32, address: u8) {
    set_bytes(bus, address, 0xD0, &[0x60]);
    let words: [i32; 12] = [
        27504, 26435, -1000, 36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000,
    ];
    let mut block_a = [0u8; 26];
    for (index, word) in words.iter().enumerate() {
        block_a[index * 2..index * 2 + 2].copy_from_slice(&(*word as u16).to_le_bytes());
    }
    block_a[25] = 75;
    set_bytes(bus, address, 0x88, &block_a);
    set_bytes(
        bus,
        address,
        0xE1,
        &[0x6A, 0x01, 0x00, 0x13, 0x29, 0x03, 30],
    );
    set_bytes(bus, address, 0xF3, &[0x00]);
    set_bytes(
        bus,
        address,
        0xF7,
        &[0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00, 0x6A, 0x3C],
    );
}

fn write_config(directory: &Path, bus: u32) -> PathBuf {
    let config = directory.join("wizfsd.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\n\n\
             [health.sensors]\nhwmon = false\nthermal = false\n\n\
             [[health.sensors.i2c]]\nname = \"case\"\nbus = {bus}\naddress = 0x48\nchip = \"lm75\"\nwarning = 20.0\n\n\
             [[health.sensors.i2c]]\nname = \"outside\"\nbus = {bus}\naddress = 0x49\nchip = \"tmp102\"\n\n\
             [[health.sensors.i2c]]\nname = \"cupboard\"\nbus = {bus}\naddress = 0x76\nchip = \"bme280\"\n\n\
             [[health.sensors.i2c]]\nname = \"absent\"\nbus = {bus}\naddress = 0x50\nchip = \"lm75\"\n",
            directory.join("state").display()
        ),
    )
    .expect("write the configuration");
    config
}

fn reading<'a>(view: &'a Value, name: &str) -> &'a Value {
    view["sensors"]
        .as_array()
        .expect("sensors")
        .iter()
        .find(|sensor| sensor["name"] == name)
        .unwrap_or_else(|| panic!("no sensor {name} in {:#}", view["sensors"]))
}

#[test]
fn i2c_sensors_are_read_through_the_kernel_i2c_stub() {
    let bin_dir = PathBuf::from(
        std::env::var("WIZFS_BIN_DIR").expect("WIZFS_BIN_DIR: hw_ tests run through tests/vm/run"),
    );
    let bus = stub_bus();
    // LM75: 25.5 °C; TMP102 (12-bit mode): -25.0 °C (datasheet tables).
    set_register_pair(bus, 0x48, 0x00, [0x19, 0x80]);
    set_register_pair(bus, 0x49, 0x00, [0xE7, 0x00]);
    program_bme280(bus, 0x76);

    let directory = tempfile::tempdir().expect("temporary directory");
    let config = write_config(directory.path(), bus);
    let wizfs = bin_dir.join("wizfs");
    let output = run(&[
        &wizfs.to_string_lossy(),
        "--config",
        &config.to_string_lossy(),
        "--json",
        "health",
    ]);
    let view: Value = serde_json::from_str(&output).expect("health JSON");

    let case = reading(&view, "i2c/case");
    assert_eq!(case["celsius"], 25.5, "{case:#}");
    assert_eq!(case["source"], "i2c", "{case:#}");
    assert_eq!(reading(&view, "i2c/outside")["celsius"], -25.0);
    let cupboard = reading(&view, "i2c/cupboard");
    assert_eq!(cupboard["celsius"], 25.08, "{cupboard:#}");
    let pressure = cupboard["pressure_pascal"].as_f64().expect("pressure");
    assert!((pressure - 100_653.27).abs() < 0.05, "{pressure}");
    let humidity = cupboard["humidity_percent"].as_f64().expect("humidity");
    assert!((0.0..=100.0).contains(&humidity), "{humidity}");

    // The LM75's configured warning level (20 °C) is exceeded: a finding names it.
    let findings = view["findings"].as_array().expect("findings");
    assert!(
        findings.iter().any(
            |finding| finding["subject"].to_string().contains("i2c/case")
                && finding["message"].as_str().unwrap_or("").contains("25.5")
        ),
        "{findings:#?}"
    );
    // The chip at 0x50 does not answer: a problem naming its bus and address, the others
    // are still read.
    let problems = view["problems"].as_array().expect("problems");
    let expected = format!("I2C sensor `absent` (bus {bus}, address 0x50)");
    assert!(
        problems
            .iter()
            .any(|problem| problem.as_str().unwrap_or("").contains(&expected)),
        "{problems:#?}"
    );
}
