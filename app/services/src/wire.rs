//! Wire types of the services whose domain types live in adapter crates (health, snapshot
//! policies): serializable views built from them. They join `wizfs-api` once the health and
//! policy types they embed are mirrored there.

pub mod health;
pub mod snapshots;
