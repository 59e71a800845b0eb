//! SMART: reading disks with smartctl and judging what they say. [`report`] holds the serde
//! structs for `smartctl --json`, [`exit`] its exit-status bitmask, [`identity`] the stable
//! disk identity, [`summary`] the numbers WiZFS keeps, [`rules`] the failure rules,
//! [`selftest`] the self-test planner and [`source`] the smartctl adapter.

pub mod exit;
pub mod identity;
pub mod report;
pub mod rules;
pub mod selftest;
pub mod source;
pub mod summary;

pub use exit::ExitStatus;
pub use identity::{DiskId, disk_identity};
pub use report::SmartctlReport;
pub use rules::{SmartThresholds, evaluate_smart};
pub use selftest::{DiskTestState, PlannedSelfTest, SelfTestKind, SelfTestPolicy, plan_self_tests};
pub use source::{
    ScannedDevice, SmartError, SmartReading, SmartSource, SmartctlCli, interpret_output, parse_scan,
};
pub use summary::{DiskKind, SmartSummary, summarize};
