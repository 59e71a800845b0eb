//! WiZFS health: disk SMART data, temperature sensors, pool health rules, a compact
//! history of measurements, and alerts that reach people by email, webhook, ntfy or Gotify
//! (the channels are the crate `wizfs-notify`; [`notify`] says what to tell them).
//!
//! The crate is split the way the rest of WiZFS is: pure decisions over plain data
//! ([`smart::rules`], [`smart::selftest`], [`pools`], [`sensors::evaluate_sensors`],
//! [`alerts`]) and thin adapters behind small traits ([`smart::SmartSource`],
//! [`sensors::sysfs`], [`sensors::i2c`], [`sensors::udisks`], [`notify::Notifier`]). The
//! daemon calls the adapters, hands their data to the pure functions, stores measurements in
//! [`history::History`] and sends what [`alerts::AlertBook::evaluate`] decides.

pub mod alerts;
pub mod backups;
pub mod config;
pub mod finding;
pub mod history;
pub mod notify;
pub mod pools;
pub mod scrubs;
pub mod sensors;
pub mod smart;

mod serde_time;

pub use finding::{Finding, FindingKind, Severity, Subject};
pub use wizfs_core::model::Timestamp;
