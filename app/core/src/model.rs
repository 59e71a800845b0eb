//! The WiZFS domain model: pools, datasets, snapshots, bookmarks, holds and
//! the ZFS version, as plain data.
//!
//! This file exists so that the crate that runs `zfs`/`zpool` and the daemon
//! that serves them agree on one set of types, with the small parsers for
//! single property values (health, dataset type, mountpoint, version text,
//! user property names) that both need. There is no I/O here: callers parse
//! command output into these types.

use std::fmt;
use std::path::PathBuf;

use crate::names::{BookmarkName, DatasetName, PoolName, SnapshotName, escape_for_error_message};

#[cfg(test)]
mod tests;

/// Seconds since the Unix epoch (UTC), as ZFS reports `creation` with -p.
///
/// `Display` prints RFC 3339 UTC, such as `2026-11-26T08:19:58Z`, in the
/// proleptic Gregorian calendar. Years outside 0000–9999 (which RFC 3339
/// cannot express) are printed ISO 8601 style with a sign: `-0001-…`,
/// `+10000-…`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// A [`Timestamp`] broken down into UTC calendar fields
/// (proleptic Gregorian calendar; year 0 is 1 BC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDateTimeUtc {
    /// The year, possibly zero or negative.
    pub year: i64,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// 0–59 (Unix time has no leap seconds).
    pub second: u8,
}

const SECONDS_PER_DAY: i64 = 86_400;

impl Timestamp {
    /// Seconds since the Unix epoch.
    pub fn seconds(self) -> i64 {
        self.0
    }

    /// The UTC calendar date and time of this timestamp.
    pub fn to_civil_utc(self) -> CivilDateTimeUtc {
        let days_since_epoch = self.0.div_euclid(SECONDS_PER_DAY);
        let second_of_day = self.0.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_date_from_days_since_epoch(days_since_epoch);
        CivilDateTimeUtc {
            year,
            month,
            day,
            hour: small_field(second_of_day / 3600),
            minute: small_field(second_of_day % 3600 / 60),
            second: small_field(second_of_day % 60),
        }
    }

    /// Reads exactly the form `Display` writes for the years 0000–9999 (RFC 3339 in UTC,
    /// `2026-12-08T10:00:00Z`); `None` for anything else, an impossible date included.
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let bytes = text.as_bytes();
        if bytes.len() != 20 || !text.is_ascii() {
            return None;
        }
        let separators_right = [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'Z'),
        ]
        .iter()
        .all(|(position, separator)| bytes[*position] == *separator);
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            let digits = &text[range];
            digits
                .bytes()
                .all(|byte| byte.is_ascii_digit())
                .then(|| digits.parse().ok())
                .flatten()
        };
        if !separators_right {
            return None;
        }
        Timestamp::from_civil_utc(CivilDateTimeUtc {
            year: i64::from(number(0..4)?),
            month: u8::try_from(number(5..7)?).ok()?,
            day: u8::try_from(number(8..10)?).ok()?,
            hour: u8::try_from(number(11..13)?).ok()?,
            minute: u8::try_from(number(14..16)?).ok()?,
            second: u8::try_from(number(17..19)?).ok()?,
        })
    }

    /// The timestamp of a UTC date at `hour:minute:00` ([`Timestamp::from_civil_utc`]).
    pub fn utc_minute(year: i64, month: u8, day: u8, hour: u8, minute: u8) -> Option<Timestamp> {
        Timestamp::from_civil_utc(CivilDateTimeUtc {
            year,
            month,
            day,
            hour,
            minute,
            second: 0,
        })
    }

    /// The timestamp of a UTC calendar date and time; `None` when a field is out of range
    /// (month 1–12, day valid for that month, hour < 24, minute and second < 60).
    pub fn from_civil_utc(civil: CivilDateTimeUtc) -> Option<Timestamp> {
        let days_in_month = match civil.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if civil.year % 4 == 0 && (civil.year % 100 != 0 || civil.year % 400 == 0) => 29,
            2 => 28,
            _ => return None,
        };
        if civil.day == 0
            || civil.day > days_in_month
            || civil.hour > 23
            || civil.minute > 59
            || civil.second > 59
        {
            return None;
        }
        // Howard Hinnant's days_from_civil, the inverse of civil_date_from_days_since_epoch.
        let year = if civil.month <= 2 {
            civil.year.checked_sub(1)?
        } else {
            civil.year
        };
        let era = year.div_euclid(400);
        let year_of_era = year.rem_euclid(400);
        let month = i64::from(civil.month);
        let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5
            + i64::from(civil.day)
            - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        let days = era
            .checked_mul(146_097)?
            .checked_add(day_of_era - 719_468)?;
        let seconds =
            i64::from(civil.hour) * 3600 + i64::from(civil.minute) * 60 + i64::from(civil.second);
        days.checked_mul(SECONDS_PER_DAY)?
            .checked_add(seconds)
            .map(Timestamp)
    }
}

impl From<i64> for Timestamp {
    fn from(seconds: i64) -> Self {
        Timestamp(seconds)
    }
}

/// Narrows a value already known to lie in 0..=59 (or similar).
fn small_field(value: i64) -> u8 {
    u8::try_from(value).unwrap_or(u8::MAX)
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month,
/// day), after Howard Hinnant's `civil_from_days`: shift the epoch to
/// 0000-03-01 so the leap day ends the year, then split into 400-year eras
/// of 146 097 days. Every `i64` day count that comes from an `i64` second
/// count (at most about 1.1e14 days) stays far inside `i64` here.
fn civil_date_from_days_since_epoch(days_since_epoch: i64) -> (i64, u8, u8) {
    const DAYS_FROM_0000_03_01_TO_EPOCH: i64 = 719_468;
    const DAYS_PER_ERA: i64 = 146_097;
    let days_since_0000_03_01 = days_since_epoch.saturating_add(DAYS_FROM_0000_03_01_TO_EPOCH);
    let era = days_since_0000_03_01.div_euclid(DAYS_PER_ERA);
    let day_of_era = days_since_0000_03_01.rem_euclid(DAYS_PER_ERA); // 0..=146_096
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // 0..=399
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // 0..=365
    let month_from_march = (5 * day_of_year + 2) / 153; // 0..=11, 0 is March
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1; // 1..=31
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year_starting_in_march = year_of_era + era * 400;
    let year = if month <= 2 {
        year_starting_in_march + 1
    } else {
        year_starting_in_march
    };
    (year, small_field(month), small_field(day))
}

impl fmt::Display for CivilDateTimeUtc {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.year < 0 {
            write!(formatter, "-{:04}", self.year.unsigned_abs())?;
        } else if self.year > 9999 {
            write!(formatter, "+{}", self.year)?;
        } else {
            write!(formatter, "{:04}", self.year)?;
        }
        write!(
            formatter,
            "-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_civil_utc().fmt(formatter)
    }
}

/// The health of a pool, as `zpool list -H -o health` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PoolHealth {
    /// `ONLINE`: all devices working.
    Online,
    /// `DEGRADED`: redundancy reduced, data still available.
    Degraded,
    /// `FAULTED`: data unavailable.
    Faulted,
    /// `OFFLINE`: taken offline by the administrator.
    Offline,
    /// `UNAVAIL`: devices cannot be opened.
    Unavail,
    /// `REMOVED`: a device was physically removed.
    Removed,
    /// `SUSPENDED`: I/O suspended after failures.
    Suspended,
    /// Anything else, kept verbatim (trimmed).
    Unknown(String),
}

impl PoolHealth {
    /// Parses a health word, ignoring ASCII case and surrounding whitespace;
    /// anything unrecognised becomes [`PoolHealth::Unknown`].
    pub fn parse(text: &str) -> PoolHealth {
        let trimmed = text.trim();
        let known = [
            PoolHealth::Online,
            PoolHealth::Degraded,
            PoolHealth::Faulted,
            PoolHealth::Offline,
            PoolHealth::Unavail,
            PoolHealth::Removed,
            PoolHealth::Suspended,
        ];
        known
            .into_iter()
            .find(|health| health.as_str().eq_ignore_ascii_case(trimmed))
            .unwrap_or_else(|| PoolHealth::Unknown(trimmed.to_owned()))
    }

    /// The word ZFS uses (`ONLINE`, …), or the unknown text.
    pub fn as_str(&self) -> &str {
        match self {
            PoolHealth::Online => "ONLINE",
            PoolHealth::Degraded => "DEGRADED",
            PoolHealth::Faulted => "FAULTED",
            PoolHealth::Offline => "OFFLINE",
            PoolHealth::Unavail => "UNAVAIL",
            PoolHealth::Removed => "REMOVED",
            PoolHealth::Suspended => "SUSPENDED",
            PoolHealth::Unknown(text) => text,
        }
    }

    /// Whether the pool is fully healthy (`ONLINE`).
    pub fn is_online(&self) -> bool {
        *self == PoolHealth::Online
    }
}

impl fmt::Display for PoolHealth {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.as_str().escape_debug())
    }
}

/// A storage pool, as `zpool list -Hp` describes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pool {
    /// The pool name.
    pub name: PoolName,
    /// `guid`.
    pub guid: u64,
    /// `size`, in bytes.
    pub size: u64,
    /// `allocated`, in bytes.
    pub allocated: u64,
    /// `free`, in bytes.
    pub free: u64,
    /// `fragmentation`; `None` when ZFS reports `-`.
    pub fragmentation_percent: Option<u8>,
    /// `capacity`, in percent.
    pub capacity_percent: u8,
    /// `health`.
    pub health: PoolHealth,
    /// `readonly`.
    pub readonly: bool,
}

/// One pool as `zpool status` describes it, with capacity and fragmentation from
/// `zpool list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolStatus {
    pub name: String,
    pub state: PoolHealth,
    /// The "status:" text, when ZFS has something to say (joined into one line).
    pub status: Option<String>,
    /// The "action:" text (joined into one line).
    pub action: Option<String>,
    /// The top-level vdevs (data vdevs first, then the log, cache, spare, special and dedup
    /// groups as vdevs named `logs`, `cache`, `spares`, ... holding their devices), each with
    /// its children.
    pub vdevs: Vec<Vdev>,
    pub capacity_percent: Option<u8>,
    pub fragmentation_percent: Option<u8>,
    /// Files with permanent errors ("errors: N data errors"; `Some(0)`: none known).
    pub data_errors: Option<u64>,
    /// The latest scrub or resilver, `None` if the pool was never scanned.
    pub scrub: Option<ScrubInfo>,
}

/// A vdev: a disk, partition or file, or a group (mirror, raidz) of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vdev {
    /// The name `zpool status` prints (`mirror-0`, `sdb`, `wwn-0x5000…-part1`).
    pub name: String,
    /// The state word; spares print `AVAIL` or `INUSE`, kept in [`PoolHealth::Unknown`];
    /// group headers without a state (`logs`) are `Unknown("")`.
    pub state: PoolHealth,
    pub read_errors: u64,
    pub write_errors: u64,
    pub checksum_errors: u64,
    /// Text after the counters (`(resilvering)`, `was /dev/sdc1`), if any.
    pub note: Option<String>,
    pub children: Vec<Vdev>,
}

impl Vdev {
    /// This vdev and all below it, depth first.
    pub fn walk(&self) -> Vec<&Vdev> {
        let mut all = vec![self];
        for child in &self.children {
            all.extend(child.walk());
        }
        all
    }
}

/// What a scan was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanFunction {
    Scrub,
    Resilver,
}

/// Where a scan is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanState {
    /// Running (or paused).
    Scanning,
    Finished,
    Canceled,
}

/// The latest scrub or resilver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScrubInfo {
    pub function: ScanFunction,
    pub state: ScanState,
    pub started: Option<Timestamp>,
    pub ended: Option<Timestamp>,
    /// Errors the scan could not repair.
    pub errors: u64,
    /// Bytes repaired (as precise as `zpool status` prints them: `48M` is 48 MiB).
    pub repaired_bytes: u64,
}

/// The `type` of a dataset that is not a snapshot or bookmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DatasetKind {
    /// `filesystem`.
    Filesystem,
    /// `volume` (a zvol).
    Volume,
}

impl DatasetKind {
    /// Parses exactly `filesystem` or `volume`.
    pub fn parse(text: &str) -> Option<DatasetKind> {
        match text {
            "filesystem" => Some(DatasetKind::Filesystem),
            "volume" => Some(DatasetKind::Volume),
            _ => None,
        }
    }

    /// `filesystem` or `volume`.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetKind::Filesystem => "filesystem",
            DatasetKind::Volume => "volume",
        }
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Interprets a `mountpoint` property value: `None` for `none`, `legacy`,
/// `-` (volumes), the empty string and anything that is not an absolute path.
pub fn parse_mountpoint(value: &str) -> Option<PathBuf> {
    match value {
        "none" | "legacy" | "-" | "" => None,
        path if path.starts_with('/') => Some(PathBuf::from(path)),
        _ => None,
    }
}

/// A filesystem or volume, as `zfs list -Hp` describes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Dataset {
    /// The dataset name.
    pub name: DatasetName,
    /// `guid`.
    pub guid: u64,
    /// `type`.
    pub kind: DatasetKind,
    /// `used`, in bytes.
    pub used: u64,
    /// `available`, in bytes.
    pub available: u64,
    /// `referenced`, in bytes.
    pub referenced: u64,
    /// `mountpoint`; `None` for `none`, `legacy` or `-` (see [`parse_mountpoint`]).
    pub mountpoint: Option<PathBuf>,
    /// `mounted`.
    pub mounted: bool,
    /// `createtxg`.
    pub createtxg: u64,
    /// `creation`.
    pub creation: Timestamp,
}

/// A snapshot, as `zfs list -Hp -t snapshot` describes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Snapshot {
    /// The snapshot name.
    pub name: SnapshotName,
    /// `guid`.
    pub guid: u64,
    /// `createtxg`.
    pub createtxg: u64,
    /// `creation`.
    pub creation: Timestamp,
    /// `used`, in bytes.
    pub used: u64,
    /// `referenced`, in bytes.
    pub referenced: u64,
    /// `written`, in bytes.
    pub written: u64,
    /// `userrefs`: the number of holds.
    pub user_refs: u64,
}

impl Snapshot {
    /// The dataset this snapshot belongs to.
    pub fn dataset(&self) -> &DatasetName {
        self.name.dataset()
    }
}

/// A bookmark, as `zfs list -Hp -t bookmark` describes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Bookmark {
    /// The bookmark name.
    pub name: BookmarkName,
    /// `guid` (that of the snapshot it was made from).
    pub guid: u64,
    /// `createtxg`.
    pub createtxg: u64,
    /// `creation`.
    pub creation: Timestamp,
}

impl Bookmark {
    /// The dataset this bookmark belongs to.
    pub fn dataset(&self) -> &DatasetName {
        self.name.dataset()
    }
}

/// A user hold on a snapshot, as `zfs holds -Hp` describes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Hold {
    /// The held snapshot.
    pub snapshot: SnapshotName,
    /// The hold tag.
    pub tag: String,
    /// When the hold was placed.
    pub created: Timestamp,
}

/// The OpenZFS version, from `zfs version`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ZfsVersion {
    /// The userland tools, such as `zfs-2.3.2-1~bpo12+1`.
    pub userland: String,
    /// The kernel module, such as `zfs-kmod-2.3.2-1~bpo12+1`, when loaded.
    pub kernel: Option<String>,
}

const USERLAND_VERSION_PREFIX: &str = "zfs-";
const KERNEL_VERSION_PREFIX: &str = "zfs-kmod-";

impl ZfsVersion {
    /// Parses the standard output of `zfs version`: a `zfs-X.Y.Z-…` line,
    /// optionally followed by a `zfs-kmod-X.Y.Z-…` line (absent when the
    /// module is not loaded). Blank lines and surrounding whitespace are
    /// ignored; returns `None` when the first line is not a userland version.
    pub fn parse(text: &str) -> Option<ZfsVersion> {
        let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
        let userland = lines.next()?;
        let after_prefix = userland.strip_prefix(USERLAND_VERSION_PREFIX)?;
        let is_userland_line = !userland.starts_with(KERNEL_VERSION_PREFIX)
            && after_prefix.starts_with(|first: char| first.is_ascii_digit())
            && !userland.contains(char::is_whitespace);
        if !is_userland_line {
            return None;
        }
        let kernel = lines
            .next()
            .filter(|line| {
                line.strip_prefix(KERNEL_VERSION_PREFIX)
                    .is_some_and(|rest| rest.starts_with(|first: char| first.is_ascii_digit()))
                    && !line.contains(char::is_whitespace)
            })
            .map(str::to_owned);
        Some(ZfsVersion {
            userland: userland.to_owned(),
            kernel,
        })
    }

    /// `(major, minor, patch)` of the userland tools; a missing patch is 0.
    pub fn userland_semver(&self) -> Option<(u32, u32, u32)> {
        parse_semantic_version(self.userland.strip_prefix(USERLAND_VERSION_PREFIX)?)
    }

    /// `(major, minor, patch)` of the kernel module, when known.
    pub fn kernel_semver(&self) -> Option<(u32, u32, u32)> {
        parse_semantic_version(
            self.kernel
                .as_deref()?
                .strip_prefix(KERNEL_VERSION_PREFIX)?,
        )
    }

    /// Whether the userland tools support `-j` JSON output (OpenZFS 2.3+).
    pub fn supports_json(&self) -> bool {
        self.userland_semver()
            .is_some_and(|version| version >= (2, 3, 0))
    }
}

/// Parses `X.Y[.Z]` up to the first `-` (the release, such as `1~bpo12+1`
/// or `rc5`, is ignored).
fn parse_semantic_version(version_and_release: &str) -> Option<(u32, u32, u32)> {
    let version = version_and_release
        .split_once('-')
        .map_or(version_and_release, |(version, _)| version);
    let mut numbers = version.split('.').map(|part| {
        if !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()) {
            part.parse::<u32>().ok()
        } else {
            None
        }
    });
    let major = numbers.next()??;
    let minor = numbers.next()??;
    let patch = match numbers.next() {
        Some(patch) => patch?,
        None => 0,
    };
    if numbers.next().is_some() {
        return None;
    }
    Some((major, minor, patch))
}

/// Longest user property name, in bytes (OpenZFS `ZAP_MAXNAMELEN` is 256
/// including the terminating NUL).
pub const MAXIMUM_USER_PROPERTY_NAME_LENGTH: usize = 255;

/// Why a string is not a valid ZFS user property name. `name` fields hold
/// the input escaped (and cut) as in [`crate::NameError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PropertyNameError {
    /// The name is the empty string.
    #[error("user property name is empty")]
    Empty,
    /// The name is longer than ZFS allows.
    #[error("user property name `{name}` is {length} bytes long; the limit is {max}")]
    TooLong {
        /// The escaped name.
        name: String,
        /// Its length in bytes.
        length: usize,
        /// The maximum length in bytes.
        max: usize,
    },
    /// The name contains a character outside `[a-z0-9:._-]`.
    #[error(
        "user property name `{name}` contains the character {character:?} at byte {position}; \
         only lowercase ASCII letters, digits, `:`, `.`, `_` and `-` are allowed"
    )]
    InvalidCharacter {
        /// The escaped name.
        name: String,
        /// The first offending character.
        character: char,
        /// Its byte offset.
        position: usize,
    },
    /// The name begins with `:` or `-`.
    #[error("user property name `{name}` must not begin with {character:?}")]
    InvalidFirstCharacter {
        /// The escaped name.
        name: String,
        /// The first character.
        character: char,
    },
    /// The name has no `:`, so ZFS would take it for a native property.
    #[error(
        "user property name `{name}` has no `:`; user properties are named \
         `module:property`, such as `wizfs:managed`"
    )]
    MissingColon {
        /// The escaped name.
        name: String,
    },
}

/// Validates a ZFS user property name such as `wizfs:managed`: at most
/// [`MAXIMUM_USER_PROPERTY_NAME_LENGTH`] bytes of `[a-z0-9:._-]`, containing
/// a `:`, not beginning with `:` or `-`.
pub fn validate_user_property(name: &str) -> Result<(), PropertyNameError> {
    if name.is_empty() {
        return Err(PropertyNameError::Empty);
    }
    if name.len() > MAXIMUM_USER_PROPERTY_NAME_LENGTH {
        return Err(PropertyNameError::TooLong {
            name: escape_for_error_message(name),
            length: name.len(),
            max: MAXIMUM_USER_PROPERTY_NAME_LENGTH,
        });
    }
    let is_allowed = |character: char| {
        character.is_ascii_lowercase()
            || character.is_ascii_digit()
            || matches!(character, ':' | '.' | '_' | '-')
    };
    if let Some((position, character)) = name
        .char_indices()
        .find(|&(_, character)| !is_allowed(character))
    {
        return Err(PropertyNameError::InvalidCharacter {
            name: escape_for_error_message(name),
            character,
            position,
        });
    }
    if let Some(character) = name
        .chars()
        .next()
        .filter(|first| matches!(first, ':' | '-'))
    {
        return Err(PropertyNameError::InvalidFirstCharacter {
            name: escape_for_error_message(name),
            character,
        });
    }
    if !name.contains(':') {
        return Err(PropertyNameError::MissingColon {
            name: escape_for_error_message(name),
        });
    }
    Ok(())
}
