//! Fuzzes the smartctl reader: any bytes as the stdout of `smartctl --json -a` go through
//! `interpret_output`, and a report through everything a health round does with it (disk
//! identity, `summarize`, `evaluate_smart` against itself as the previous reading); the
//! same bytes as `smartctl --scan-open --json` go through `parse_scan`. Property: no panic,
//! whatever the numbers (smartctl prints values beyond 64 bits and negative counters).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wizfs_health::smart::{
    SmartReading, SmartThresholds, disk_identity, evaluate_smart, interpret_output, parse_scan,
    summarize,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(SmartReading::Report { report, exit }) = interpret_output(data, None) {
        if let Some(disk) = disk_identity(&report) {
            assert!(!disk.token().is_empty(), "an empty disk identity");
        }
        if let Some(summary) = summarize(&report, exit) {
            let thresholds = SmartThresholds::default();
            let _ = evaluate_smart(&summary, Some(&summary), &thresholds);
            let _ = evaluate_smart(&summary, None, &thresholds);
        }
    }
    let _ = parse_scan(data);
});
