//! `wizfs-snapshots`: the snapshot policies of WiZFS put to work.
//!
//! The decisions (which snapshot to keep, when a policy is due, what to prune for free
//! space) are pure functions in [`wizfs_core::rotation`]. This crate is what connects them
//! to the world: [`config`] reads `[[policy]]` tables from TOML, [`calendar`] maps instants to
//! local time with a real time zone database, [`hooks`] runs pre/post commands with a
//! timeout, and [`executor`] lists snapshots through [`wizfs_zfs::Zfs`], takes the due
//! ones, and destroys what the plans say — only snapshots WiZFS made itself.

pub mod calendar;
pub mod config;
pub mod executor;
pub mod hooks;

pub use calendar::ZoneCalendar;
pub use config::{
    PolicyConfig, PolicyConfigError, PolicyTables, parse_policies, validate_policies,
};
pub use executor::{
    MANAGED_PROPERTY, PlanReport, PolicyRun, RunError, RunMemory, RunMode, RunReport, Skipped,
    plan_now, plan_over_history, run,
};
