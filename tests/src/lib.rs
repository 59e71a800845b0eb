//! Shared helpers of the WiZFS integration tests: the [`conformance`] suite that every
//! [`wizfs_zfs::Zfs`] implementation must pass (the fake on the host, real OpenZFS in the
//! VM), tree comparison, a loopback SMTP sink, and the VM environment the harness (`tests/vm/run`) sets up.

pub mod conformance;
pub mod smtp;
pub mod trees;
pub mod vm;
