//! Which series the history keeps, and their names: the samples of one SMART summary, one
//! pool status and a list of sensor readings at one time. Names are
//! `disk/<disk token>/…`, `pool/<pool>/…` and `sensor/<sensor name>/…`, so a chart asks for
//! one name and `History::metrics` lists what exists.

use super::Sample;
use crate::Timestamp;
use crate::pools::{PoolStatus, ScanFunction, ScanState, Vdev};
use crate::sensors::SensorReading;
use crate::smart::SmartSummary;
use crate::smart::rules::attribute_ids;

/// ATA attributes whose raw values are worth a chart.
const CHARTED_ATTRIBUTES: [u8; 6] = [
    attribute_ids::REALLOCATED_SECTORS,
    attribute_ids::REPORTED_UNCORRECTABLE,
    attribute_ids::COMMAND_TIMEOUT,
    attribute_ids::CURRENT_PENDING_SECTORS,
    attribute_ids::OFFLINE_UNCORRECTABLE,
    attribute_ids::UDMA_CRC_ERRORS,
];

pub fn disk_metric(summary: &SmartSummary, field: &str) -> String {
    format!("disk/{}/{field}", summary.disk.token())
}

pub fn pool_metric(pool: &str, field: &str) -> String {
    format!("pool/{pool}/{field}")
}

pub fn sensor_metric(sensor: &str, field: &str) -> String {
    format!("sensor/{sensor}/{field}")
}

/// Temperature, power-on hours, the failure counters and NVMe wear of one disk.
pub fn smart_samples(summary: &SmartSummary, time: Timestamp) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut push = |field: String, value: Option<f64>| {
        if let Some(value) = value {
            samples.push(Sample::new(disk_metric(summary, &field), time, value));
        }
    };
    push("temperature".into(), summary.temperature_celsius);
    push(
        "power_on_hours".into(),
        summary.power_on_hours.map(|hours| hours as f64),
    );
    for id in CHARTED_ATTRIBUTES {
        push(
            format!("attribute/{id}"),
            summary.raw(id).map(|raw| raw as f64),
        );
    }
    if let Some(nvme) = &summary.nvme {
        push(
            "nvme/percentage_used".into(),
            nvme.percentage_used.map(f64::from),
        );
        push(
            "nvme/available_spare".into(),
            nvme.available_spare.map(f64::from),
        );
        push(
            "nvme/media_errors".into(),
            nvme.media_errors.map(|errors| errors as f64),
        );
    }
    if let Some(scsi) = &summary.scsi {
        push(
            "scsi/grown_defects".into(),
            scsi.grown_defects.map(|count| count as f64),
        );
        push(
            "scsi/uncorrected_errors".into(),
            scsi.uncorrected_errors.map(|count| count as f64),
        );
    }
    samples
}

fn vdev_errors(vdevs: &[Vdev]) -> u64 {
    vdevs
        .iter()
        .map(|vdev| {
            vdev.read_errors
                .saturating_add(vdev.write_errors)
                .saturating_add(vdev.checksum_errors)
                .saturating_add(vdev_errors(&vdev.children))
        })
        .fold(0, u64::saturating_add)
}

/// Capacity, fragmentation and error counters now, and the result of the last finished
/// scrub at its end time (recording it again is harmless: same key, same value), which makes
/// the scrub history.
pub fn pool_samples(pool: &PoolStatus, time: Timestamp) -> Vec<Sample> {
    let mut samples = Vec::new();
    if let Some(percent) = pool.capacity_percent {
        samples.push(Sample::new(
            pool_metric(&pool.name, "capacity_percent"),
            time,
            f64::from(percent),
        ));
    }
    if let Some(percent) = pool.fragmentation_percent {
        samples.push(Sample::new(
            pool_metric(&pool.name, "fragmentation_percent"),
            time,
            f64::from(percent),
        ));
    }
    samples.push(Sample::new(
        pool_metric(&pool.name, "vdev_errors"),
        time,
        vdev_errors(&pool.vdevs) as f64,
    ));
    if let Some(scrub) = &pool.scrub
        && scrub.function == ScanFunction::Scrub
        && scrub.state == ScanState::Finished
        && let Some(ended) = scrub.ended
    {
        samples.push(Sample::new(
            pool_metric(&pool.name, "scrub/errors"),
            ended,
            scrub.errors as f64,
        ));
        samples.push(Sample::new(
            pool_metric(&pool.name, "scrub/repaired_bytes"),
            ended,
            scrub.repaired_bytes as f64,
        ));
    }
    samples
}

/// Temperature (and humidity and pressure where measured) of each sensor.
pub fn sensor_samples(readings: &[SensorReading], time: Timestamp) -> Vec<Sample> {
    let mut samples = Vec::new();
    for reading in readings {
        samples.push(Sample::new(
            sensor_metric(&reading.name, "temperature"),
            time,
            reading.celsius,
        ));
        if let Some(humidity) = reading.humidity_percent {
            samples.push(Sample::new(
                sensor_metric(&reading.name, "humidity_percent"),
                time,
                humidity,
            ));
        }
        if let Some(pressure) = reading.pressure_pascal {
            samples.push(Sample::new(
                sensor_metric(&reading.name, "pressure_pascal"),
                time,
                pressure,
            ));
        }
    }
    samples
}

#[cfg(test)]
mod tests {
    use wizfs_core::model::PoolHealth;

    use super::*;
    use crate::pools::ScrubInfo;
    use crate::smart::{SmartReading, interpret_output, summarize};

    #[test]
    fn smart_series_of_a_failing_disk() {
        let text = include_bytes!("../../tests/fixtures/smartctl/scrutiny/smart-fail2.json");
        let SmartReading::Report { report, exit } = interpret_output(text, None).expect("parses")
        else {
            panic!("expected a report");
        };
        let summary = summarize(&report, exit).expect("identity");
        let samples = smart_samples(&summary, Timestamp(100));
        let named: Vec<_> = samples
            .iter()
            .map(|sample| (sample.metric.as_str(), sample.value))
            .collect();
        assert_eq!(
            named,
            vec![
                ("disk/wwn-0x5000cca37fca81a8/temperature", 25.0),
                ("disk/wwn-0x5000cca37fca81a8/power_on_hours", 65592.0),
                ("disk/wwn-0x5000cca37fca81a8/attribute/5", 1975.0),
                ("disk/wwn-0x5000cca37fca81a8/attribute/197", 8.0),
                ("disk/wwn-0x5000cca37fca81a8/attribute/198", 0.0),
                ("disk/wwn-0x5000cca37fca81a8/attribute/199", 0.0),
            ]
        );
    }

    #[test]
    fn pool_series_and_scrub_history() {
        let pool = PoolStatus {
            name: "tank".into(),
            status: None,
            action: None,
            state: PoolHealth::Online,
            vdevs: vec![Vdev {
                name: "mirror-0".into(),
                state: PoolHealth::Online,
                read_errors: 0,
                write_errors: 0,
                checksum_errors: 1,
                note: None,
                children: vec![Vdev {
                    name: "vdb".into(),
                    state: PoolHealth::Online,
                    read_errors: 2,
                    write_errors: 0,
                    checksum_errors: 3,
                    note: None,
                    children: vec![],
                }],
            }],
            capacity_percent: Some(42),
            fragmentation_percent: None,
            data_errors: None,
            scrub: Some(ScrubInfo {
                function: ScanFunction::Scrub,
                state: ScanState::Finished,
                started: Some(Timestamp(10)),
                ended: Some(Timestamp(50)),
                errors: 0,
                repaired_bytes: 4096,
            }),
        };
        let samples = pool_samples(&pool, Timestamp(100));
        let named: Vec<_> = samples
            .iter()
            .map(|sample| (sample.metric.as_str(), sample.time.seconds(), sample.value))
            .collect();
        assert_eq!(
            named,
            vec![
                ("pool/tank/capacity_percent", 100, 42.0),
                ("pool/tank/vdev_errors", 100, 6.0),
                ("pool/tank/scrub/errors", 50, 0.0),
                ("pool/tank/scrub/repaired_bytes", 50, 4096.0),
            ]
        );
    }
}
