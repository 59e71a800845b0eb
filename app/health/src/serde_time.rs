//! Serde helpers for [`Timestamp`]: `wizfs-core` knows nothing about serialization, so the
//! health types that persist times (alert state, self-test state) store them as Unix seconds
//! with `#[serde(with = "crate::serde_time::seconds")]` (or `optional_seconds`).

use serde::{Deserialize, Deserializer, Serializer};

use crate::Timestamp;

pub mod seconds {
    use super::*;

    pub fn serialize<S: Serializer>(time: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(time.seconds())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        i64::deserialize(deserializer).map(Timestamp)
    }
}

pub mod optional_seconds {
    use super::*;

    pub fn serialize<S: Serializer>(
        time: &Option<Timestamp>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => serializer.serialize_some(&time.seconds()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        Option::<i64>::deserialize(deserializer).map(|seconds| seconds.map(Timestamp))
    }
}
