//! A compact time series of health measurements in one LMDB environment (heed): disk
//! temperatures, SMART counters, pool capacity, scrub results, sensor readings. A series is a
//! metric name ("disk/wwn-0x5000…/temperature"); a point is keyed by (metric id, tier,
//! timestamp) with big-endian integers so LMDB's byte order is time order.
//!
//! Raw points (8 bytes each) are kept for `raw_days`; [`History::compact`] then folds them
//! into hourly aggregates (count, sum, min, max), hourly ones into daily ones after
//! `hourly_days`, and drops daily ones after `daily_days`. [`History::query`] reads all tiers
//! of a range and shrinks them to at most `max_points` buckets for a chart. Every write
//! ([`History::record`], [`History::compact`]) is one transaction, so a crash leaves either
//! all of a batch or none of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use heed::{Env, RoTxn, RwTxn, WithoutTls};
use serde::{Deserialize, Serialize};

use crate::Timestamp;

pub mod metrics;

#[cfg(test)]
mod tests;

type Db = wizfs_lmdb::BytesDatabase;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
/// LMDB keys are at most 511 bytes; names stay well below.
const MAX_METRIC_NAME: usize = 400;
const NEXT_METRIC_ID: &[u8] = b"next_metric_id";

/// Failures of the history store, each saying what it was doing.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("history store: {context}: {source}")]
    Store {
        context: String,
        #[source]
        source: heed::Error,
    },
    #[error("history store: {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the history at {} is already open in this process", path.display())]
    Locked { path: PathBuf },
    #[error("invalid metric name {name:?}: {reason}")]
    InvalidMetric { name: String, reason: &'static str },
    #[error("history record is corrupt: {0}")]
    Corrupt(String),
}

type Result<T> = std::result::Result<T, HistoryError>;

trait Context<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, heed::Error> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| HistoryError::Store {
            context: context(),
            source,
        })
    }
}

/// How long each resolution is kept (`[history]` of the health configuration).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    pub raw_days: u32,
    pub hourly_days: u32,
    /// 0 keeps daily aggregates forever.
    pub daily_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            raw_days: 7,
            hourly_days: 90,
            daily_days: 3650,
        }
    }
}

/// One measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub metric: String,
    pub time: Timestamp,
    pub value: f64,
}

impl Sample {
    pub fn new(metric: impl Into<String>, time: Timestamp, value: f64) -> Sample {
        Sample {
            metric: metric.into(),
            time,
            value,
        }
    }
}

/// A point of a chart: the aggregate of the measurements in `[time, time + width)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChartPoint {
    /// Unix seconds of the bucket start (or of the measurement, for a single raw point).
    pub time: i64,
    pub count: u64,
    pub average: f64,
    pub min: f64,
    pub max: f64,
}

/// What [`History::record`] did with a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordStats {
    pub written: usize,
    /// Not-a-number and infinite values are skipped, not stored.
    pub skipped: usize,
}

/// What [`History::compact`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompactStats {
    pub raw_folded: usize,
    pub hourly_folded: usize,
    pub daily_dropped: usize,
}

/// The resolution tier of a stored point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Tier {
    Raw = 0,
    Hourly = 1,
    Daily = 2,
}

const TIERS: [Tier; 3] = [Tier::Raw, Tier::Hourly, Tier::Daily];

/// count, sum, min, max: mergeable without losing the average.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Aggregate {
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl Aggregate {
    fn single(value: f64) -> Aggregate {
        Aggregate {
            count: 1,
            sum: value,
            min: value,
            max: value,
        }
    }

    fn merge(self, other: Aggregate) -> Aggregate {
        Aggregate {
            count: self.count.saturating_add(other.count),
            sum: self.sum + other.sum,
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        }
    }

    fn encode(self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        bytes[0..8].copy_from_slice(&self.count.to_be_bytes());
        bytes[8..16].copy_from_slice(&self.sum.to_be_bytes());
        bytes[16..24].copy_from_slice(&self.min.to_be_bytes());
        bytes[24..32].copy_from_slice(&self.max.to_be_bytes());
        bytes
    }

    fn decode(bytes: &[u8]) -> Option<Aggregate> {
        let field = |index: usize| -> Option<[u8; 8]> {
            bytes.get(index * 8..index * 8 + 8)?.try_into().ok()
        };
        if bytes.len() == 8 {
            return Some(Aggregate::single(f64::from_be_bytes(field(0)?)));
        }
        if bytes.len() != 32 {
            return None;
        }
        Some(Aggregate {
            count: u64::from_be_bytes(field(0)?),
            sum: f64::from_be_bytes(field(1)?),
            min: f64::from_be_bytes(field(2)?),
            max: f64::from_be_bytes(field(3)?),
        })
    }

    fn chart_point(self, time: i64) -> ChartPoint {
        ChartPoint {
            time,
            count: self.count,
            average: if self.count == 0 {
                0.0
            } else {
                self.sum / self.count as f64
            },
            min: self.min,
            max: self.max,
        }
    }
}

/// Signed seconds as big-endian bytes that sort in time order (sign bit flipped).
fn encode_time(seconds: i64) -> [u8; 8] {
    ((seconds as u64) ^ (1 << 63)).to_be_bytes()
}

fn decode_time(bytes: [u8; 8]) -> i64 {
    (u64::from_be_bytes(bytes) ^ (1 << 63)) as i64
}

fn point_key(metric: u32, tier: Tier, seconds: i64) -> [u8; 13] {
    let mut key = [0u8; 13];
    key[0..4].copy_from_slice(&metric.to_be_bytes());
    key[4] = tier as u8;
    key[5..13].copy_from_slice(&encode_time(seconds));
    key
}

fn key_time(key: &[u8]) -> Option<i64> {
    Some(decode_time(key.get(5..13)?.try_into().ok()?))
}

/// Floors `seconds` to a multiple of `width` (towards minus infinity).
fn floor_to(seconds: i64, width: i64) -> i64 {
    seconds.div_euclid(width) * width
}

/// Merges `points` (time-ordered, any tiers) into at most `max_points` equal-width buckets
/// over `[from, to]`. With fewer points than that, each point is its own bucket.
pub fn downsample(points: &[ChartPoint], from: i64, to: i64, max_points: usize) -> Vec<ChartPoint> {
    if max_points == 0 || to < from {
        return Vec::new();
    }
    if points.len() <= max_points {
        return points.to_vec();
    }
    let span = (to - from).saturating_add(1);
    let width = (span + max_points as i64 - 1) / max_points as i64;
    let mut buckets: BTreeMap<i64, Aggregate> = BTreeMap::new();
    for point in points {
        let start = from + floor_to(point.time - from, width.max(1));
        let aggregate = Aggregate {
            count: point.count,
            sum: point.average * point.count as f64,
            min: point.min,
            max: point.max,
        };
        buckets
            .entry(start)
            .and_modify(|kept| *kept = kept.merge(aggregate))
            .or_insert(aggregate);
    }
    buckets
        .into_iter()
        .map(|(time, aggregate)| aggregate.chart_point(time))
        .collect()
}

/// The store.
pub struct History {
    env: Env<WithoutTls>,
    meta: Db,
    metrics: Db,
    points: Db,
}

impl std::fmt::Debug for History {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("History")
            .field("path", &self.env.path())
            .finish_non_exhaustive()
    }
}

impl History {
    /// Virtual address space reserved by default; the file grows only as pages are written.
    pub const DEFAULT_MAP_SIZE: usize = 1 << 30;

    /// Opens (creating if needed) the store in directory `path`.
    pub fn open(path: &Path) -> Result<History> {
        History::open_with_map_size(path, History::DEFAULT_MAP_SIZE)
    }

    pub fn open_with_map_size(path: &Path, map_size: usize) -> Result<History> {
        let options = wizfs_lmdb::Options {
            map_size,
            max_dbs: 4,
        };
        // The history directory belongs to this store and is only changed through it: the
        // rule of `wizfs_lmdb`.
        let env = wizfs_lmdb::open(path, options).map_err(|error| match error {
            wizfs_lmdb::LmdbError::AlreadyOpen { path } => HistoryError::Locked { path },
            wizfs_lmdb::LmdbError::CreateDirectory { path, source } => HistoryError::Io {
                context: format!("creating {}", path.display()),
                source,
            },
            wizfs_lmdb::LmdbError::Open { path, source } => HistoryError::Store {
                context: format!("opening {}", path.display()),
                source,
            },
        })?;
        let [meta, metrics, points] =
            wizfs_lmdb::create_databases(&env, ["meta", "metrics", "points"])
                .context(|| "creating tables".into())?;
        Ok(History {
            env,
            meta,
            metrics,
            points,
        })
    }

    fn validate(name: &str) -> Result<()> {
        let reason = if name.is_empty() {
            Some("empty")
        } else if name.len() > MAX_METRIC_NAME {
            Some("longer than 400 bytes")
        } else if name.chars().any(char::is_control) {
            Some("contains control characters")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(HistoryError::InvalidMetric {
                name: name.chars().take(80).collect(),
                reason,
            }),
            None => Ok(()),
        }
    }

    fn metric_id(&self, rtxn: &RoTxn<'_, WithoutTls>, name: &str) -> Result<Option<u32>> {
        let Some(bytes) = self
            .metrics
            .get(rtxn, name.as_bytes())
            .context(|| format!("looking up metric {name}"))?
        else {
            return Ok(None);
        };
        let bytes: [u8; 4] = bytes
            .try_into()
            .map_err(|_| HistoryError::Corrupt(format!("metric id of {name}")))?;
        Ok(Some(u32::from_be_bytes(bytes)))
    }

    fn create_metric(&self, wtxn: &mut RwTxn<'_>, name: &str) -> Result<u32> {
        if let Some(id) = self.metric_id(wtxn, name)? {
            return Ok(id);
        }
        let next = match self
            .meta
            .get(wtxn, NEXT_METRIC_ID)
            .context(|| "reading the id counter".into())?
        {
            Some(bytes) => u32::from_be_bytes(
                bytes
                    .try_into()
                    .map_err(|_| HistoryError::Corrupt("metric id counter".into()))?,
            ),
            None => 0,
        };
        let after = next
            .checked_add(1)
            .ok_or_else(|| HistoryError::Corrupt("metric id counter overflow".into()))?;
        self.meta
            .put(wtxn, NEXT_METRIC_ID, &after.to_be_bytes())
            .context(|| "advancing the id counter".into())?;
        self.metrics
            .put(wtxn, name.as_bytes(), &next.to_be_bytes())
            .context(|| format!("naming metric {name}"))?;
        Ok(next)
    }

    /// Stores a batch of samples in one transaction. A sample at the same time as an existing
    /// one of the same metric replaces it.
    pub fn record(&self, samples: &[Sample]) -> Result<RecordStats> {
        for sample in samples {
            History::validate(&sample.metric)?;
        }
        let mut wtxn = self.env.write_txn().context(|| "starting a write".into())?;
        let mut stats = RecordStats::default();
        let mut ids: BTreeMap<&str, u32> = BTreeMap::new();
        for sample in samples {
            if !sample.value.is_finite() {
                stats.skipped += 1;
                continue;
            }
            let id = match ids.get(sample.metric.as_str()) {
                Some(id) => *id,
                None => {
                    let id = self.create_metric(&mut wtxn, &sample.metric)?;
                    ids.insert(&sample.metric, id);
                    id
                }
            };
            let key = point_key(id, Tier::Raw, sample.time.seconds());
            self.points
                .put(&mut wtxn, &key, &sample.value.to_be_bytes())
                .context(|| format!("writing {}", sample.metric))?;
            stats.written += 1;
        }
        wtxn.commit().context(|| "committing samples".into())?;
        Ok(stats)
    }

    /// Every metric name, sorted.
    pub fn metrics(&self) -> Result<Vec<String>> {
        let rtxn = self.env.read_txn().context(|| "starting a read".into())?;
        let mut names = Vec::new();
        for entry in self
            .metrics
            .iter(&rtxn)
            .context(|| "listing metrics".into())?
        {
            let (name, _) = entry.context(|| "listing metrics".into())?;
            names.push(String::from_utf8_lossy(name).into_owned());
        }
        Ok(names)
    }

    fn read_tier(
        &self,
        rtxn: &RoTxn<'_, WithoutTls>,
        metric: u32,
        tier: Tier,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, Aggregate)>> {
        let start = point_key(metric, tier, from);
        let end = point_key(metric, tier, to);
        let range = (
            std::ops::Bound::Included(&start[..]),
            std::ops::Bound::Included(&end[..]),
        );
        let mut found = Vec::new();
        for entry in self
            .points
            .range(rtxn, &range)
            .context(|| format!("reading metric {metric}"))?
        {
            let (key, value) = entry.context(|| format!("reading metric {metric}"))?;
            let time = key_time(key).ok_or_else(|| HistoryError::Corrupt("point key".into()))?;
            let aggregate = Aggregate::decode(value)
                .ok_or_else(|| HistoryError::Corrupt("point value".into()))?;
            found.push((time, aggregate));
        }
        Ok(found)
    }

    /// The points of `metric` between `from` and `to` (inclusive), from every tier, shrunk
    /// to at most `max_points`. An unknown metric has no points.
    pub fn query(
        &self,
        metric: &str,
        from: Timestamp,
        to: Timestamp,
        max_points: usize,
    ) -> Result<Vec<ChartPoint>> {
        let rtxn = self.env.read_txn().context(|| "starting a read".into())?;
        let Some(id) = self.metric_id(&rtxn, metric)? else {
            return Ok(Vec::new());
        };
        let mut points = Vec::new();
        for tier in TIERS {
            for (time, aggregate) in
                self.read_tier(&rtxn, id, tier, from.seconds(), to.seconds())?
            {
                points.push(aggregate.chart_point(time));
            }
        }
        points.sort_by_key(|point| point.time);
        Ok(downsample(
            &points,
            from.seconds(),
            to.seconds(),
            max_points,
        ))
    }

    /// Folds points older than their tier's retention into the next tier, in one
    /// transaction: raw → hourly after `raw_days`, hourly → daily after `hourly_days`, and
    /// drops daily points after `daily_days` (unless 0).
    pub fn compact(&self, retention: &Retention, now: Timestamp) -> Result<CompactStats> {
        let mut wtxn = self
            .env
            .write_txn()
            .context(|| "starting compaction".into())?;
        let mut ids = Vec::new();
        for entry in self
            .metrics
            .iter(&wtxn)
            .context(|| "listing metrics".into())?
        {
            let (_, id) = entry.context(|| "listing metrics".into())?;
            let id: [u8; 4] = id
                .try_into()
                .map_err(|_| HistoryError::Corrupt("metric id".into()))?;
            ids.push(u32::from_be_bytes(id));
        }
        let mut stats = CompactStats::default();
        let raw_cutoff = floor_to(now.seconds() - i64::from(retention.raw_days) * DAY, HOUR);
        let hourly_cutoff = floor_to(now.seconds() - i64::from(retention.hourly_days) * DAY, DAY);
        let daily_cutoff = floor_to(now.seconds() - i64::from(retention.daily_days) * DAY, DAY);
        for id in ids {
            stats.raw_folded +=
                self.fold(&mut wtxn, id, Tier::Raw, Tier::Hourly, HOUR, raw_cutoff)?;
            stats.hourly_folded +=
                self.fold(&mut wtxn, id, Tier::Hourly, Tier::Daily, DAY, hourly_cutoff)?;
            if retention.daily_days > 0 {
                stats.daily_dropped +=
                    self.delete_before(&mut wtxn, id, Tier::Daily, daily_cutoff)?;
            }
        }
        wtxn.commit().context(|| "committing compaction".into())?;
        Ok(stats)
    }

    /// Moves the points of `from` older than `cutoff` into `width`-second buckets of `into`.
    fn fold(
        &self,
        wtxn: &mut RwTxn<'_>,
        metric: u32,
        from: Tier,
        into: Tier,
        width: i64,
        cutoff: i64,
    ) -> Result<usize> {
        let old = self.read_tier(wtxn, metric, from, i64::MIN, cutoff - 1)?;
        if old.is_empty() {
            return Ok(0);
        }
        let mut buckets: BTreeMap<i64, Aggregate> = BTreeMap::new();
        for (time, aggregate) in &old {
            buckets
                .entry(floor_to(*time, width))
                .and_modify(|kept| *kept = kept.merge(*aggregate))
                .or_insert(*aggregate);
        }
        for (start, aggregate) in buckets {
            let key = point_key(metric, into, start);
            let merged = match self
                .points
                .get(wtxn, &key)
                .context(|| "reading a bucket".into())?
            {
                Some(existing) => Aggregate::decode(existing)
                    .ok_or_else(|| HistoryError::Corrupt("bucket value".into()))?
                    .merge(aggregate),
                None => aggregate,
            };
            self.points
                .put(wtxn, &key, &merged.encode())
                .context(|| "writing a bucket".into())?;
        }
        self.delete_before(wtxn, metric, from, cutoff)?;
        Ok(old.len())
    }

    fn delete_before(
        &self,
        wtxn: &mut RwTxn<'_>,
        metric: u32,
        tier: Tier,
        cutoff: i64,
    ) -> Result<usize> {
        let start = point_key(metric, tier, i64::MIN);
        let end = point_key(metric, tier, cutoff);
        let range = (
            std::ops::Bound::Included(&start[..]),
            std::ops::Bound::Excluded(&end[..]),
        );
        self.points
            .delete_range(wtxn, &range)
            .context(|| format!("deleting old points of metric {metric}"))
    }
}
