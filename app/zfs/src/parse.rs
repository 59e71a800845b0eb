//! Pure parsers of `zfs`/`zpool` output in scripted mode (`-H -p`: tab-separated, exact
//! numbers). They are tested on output captured from real OpenZFS in the test VM
//! (`tests/fixtures/openzfs-*/`), for 2.3 (bookworm-backports) and 2.1 (Debian stable).
//! The column lists each parser expects are the `COLUMNS` constants next to it, and
//! [`crate::cli`] asks for exactly those.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use crate::types::{DiffChange, DiffEntry, FileKind, Property, PropertySource};
use wizfs_core::{
    Bookmark, BookmarkName, CivilDateTimeUtc, Dataset, DatasetKind, DatasetName, Hold, Pool,
    PoolHealth, PoolName, Snapshot, SnapshotName, Timestamp, ZfsVersion,
};

/// A line the parser could not make sense of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: String,
    pub reason: String,
}

type Parsed<T> = Result<T, ParseError>;

fn error(line: &str, reason: impl Into<String>) -> ParseError {
    ParseError {
        line: line.to_owned(),
        reason: reason.into(),
    }
}

/// Splits a `-H` line into exactly `expected` tab-separated fields.
fn fields(line: &str, expected: usize) -> Parsed<Vec<&str>> {
    let columns: Vec<&str> = line.split('\t').collect();
    if columns.len() == expected {
        Ok(columns)
    } else {
        Err(error(
            line,
            format!(
                "expected {expected} tab-separated fields, found {}",
                columns.len()
            ),
        ))
    }
}

fn lines(output: &str) -> impl Iterator<Item = &str> {
    output.lines().filter(|line| !line.trim().is_empty())
}

fn number(line: &str, column: &str, text: &str) -> Parsed<u64> {
    text.parse()
        .map_err(|_| error(line, format!("{column} `{text}` is not a number")))
}

/// `-` (not applicable) or a number.
fn optional_number(line: &str, column: &str, text: &str) -> Parsed<Option<u64>> {
    if text == "-" {
        Ok(None)
    } else {
        number(line, column, text).map(Some)
    }
}

fn timestamp(line: &str, column: &str, text: &str) -> Parsed<Timestamp> {
    text.parse::<i64>()
        .map(Timestamp)
        .map_err(|_| error(line, format!("{column} `{text}` is not a Unix time")))
}

fn on_off(line: &str, column: &str, text: &str) -> Parsed<bool> {
    match text {
        "on" | "yes" => Ok(true),
        "off" | "no" | "-" => Ok(false),
        other => Err(error(line, format!("{column} `{other}` is not on/off"))),
    }
}

/// `zfs version`.
pub fn version(output: &str) -> Parsed<ZfsVersion> {
    ZfsVersion::parse(output).ok_or_else(|| error(output.trim(), "not a `zfs version` output"))
}

/// Columns of `zpool list -H -p -o ...` that [`pools`] parses.
pub const POOL_COLUMNS: &str =
    "name,guid,size,allocated,free,fragmentation,capacity,health,readonly";

/// A pool being created, imported or destroyed while `zpool list` runs can come out as a
/// line of `-` in every column (seen on OpenZFS 2.1 while another pool was created): it is
/// no pool yet, or no longer one, and is left out rather than failing the whole listing.
pub fn pools(output: &str) -> Parsed<Vec<Pool>> {
    lines(output)
        .filter(|line| !line.split('\t').all(|field| field == "-"))
        .map(|line| {
            let f = fields(line, 9)?;
            let fragmentation = optional_number(line, "fragmentation", f[5].trim_end_matches('%'))?;
            Ok(Pool {
                name: PoolName::new(f[0]).map_err(|e| error(line, e.to_string()))?,
                guid: number(line, "guid", f[1])?,
                size: number(line, "size", f[2])?,
                allocated: number(line, "allocated", f[3])?,
                free: number(line, "free", f[4])?,
                fragmentation_percent: fragmentation.map(|value| value.min(100) as u8),
                capacity_percent: number(line, "capacity", f[6].trim_end_matches('%'))?.min(100)
                    as u8,
                health: PoolHealth::parse(f[7]),
                readonly: on_off(line, "readonly", f[8])?,
            })
        })
        .collect()
}

/// Columns of `zfs list -H -p -t filesystem,volume -o ...` that [`datasets`] parses.
pub const DATASET_COLUMNS: &str =
    "name,guid,type,used,available,referenced,mountpoint,mounted,createtxg,creation";

pub fn datasets(output: &str) -> Parsed<Vec<Dataset>> {
    lines(output)
        .map(|line| {
            let f = fields(line, 10)?;
            let mountpoint = match f[6] {
                "-" | "none" | "legacy" => None,
                path => Some(PathBuf::from(path)),
            };
            Ok(Dataset {
                name: DatasetName::new(f[0]).map_err(|e| error(line, e.to_string()))?,
                guid: number(line, "guid", f[1])?,
                kind: DatasetKind::parse(f[2]).ok_or_else(|| {
                    error(line, format!("type `{}` is not filesystem/volume", f[2]))
                })?,
                used: number(line, "used", f[3])?,
                available: number(line, "available", f[4])?,
                referenced: number(line, "referenced", f[5])?,
                mountpoint,
                mounted: on_off(line, "mounted", f[7])?,
                createtxg: number(line, "createtxg", f[8])?,
                creation: timestamp(line, "creation", f[9])?,
            })
        })
        .collect()
}

/// Columns of `zfs list -H -p -t snapshot -o ...` that [`snapshots`] parses.
pub const SNAPSHOT_COLUMNS: &str = "name,guid,createtxg,creation,used,referenced,written,userrefs";

pub fn snapshots(output: &str) -> Parsed<Vec<Snapshot>> {
    lines(output)
        .map(|line| {
            let f = fields(line, 8)?;
            Ok(Snapshot {
                name: SnapshotName::new(f[0]).map_err(|e| error(line, e.to_string()))?,
                guid: number(line, "guid", f[1])?,
                createtxg: number(line, "createtxg", f[2])?,
                creation: timestamp(line, "creation", f[3])?,
                used: number(line, "used", f[4])?,
                referenced: number(line, "referenced", f[5])?,
                written: optional_number(line, "written", f[6])?.unwrap_or(0),
                user_refs: optional_number(line, "userrefs", f[7])?.unwrap_or(0),
            })
        })
        .collect()
}

/// `zfs list -H -p -t snapshot -o SNAPSHOT_COLUMNS,<properties...>`: each snapshot with the
/// values of `property_count` extra properties, `None` where ZFS prints `-` (unset). A value
/// may contain tabs only when a single property is asked for (it is then the rest of the line);
/// with several, a line whose field count does not match is an error.
pub fn snapshots_with_properties(
    output: &str,
    property_count: usize,
) -> Parsed<Vec<(Snapshot, Vec<Option<String>>)>> {
    const FIXED: usize = 8;
    output
        .split('\n')
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let mut columns: Vec<&str> = line.splitn(FIXED + 1, '\t').collect();
            let rest = if columns.len() == FIXED + 1 {
                columns.pop()
            } else {
                None
            };
            let values: Option<Vec<&str>> = match (property_count, rest) {
                (0, None) => Some(Vec::new()),
                (1, Some(value)) => Some(vec![value]),
                (count, Some(rest)) if count > 1 => Some(rest.split('\t').collect()),
                _ => None,
            };
            let Some(values) =
                values.filter(|values| columns.len() == FIXED && values.len() == property_count)
            else {
                return Err(error(
                    line,
                    format!(
                        "expected {} tab-separated fields, found {}",
                        FIXED + property_count,
                        line.split('\t').count()
                    ),
                ));
            };
            let snapshot = snapshots(&columns.join("\t"))?
                .pop()
                .ok_or_else(|| error(line, "no snapshot on this line"))?;
            let values = values
                .into_iter()
                .map(|value| (value != "-").then(|| value.to_owned()))
                .collect();
            Ok((snapshot, values))
        })
        .collect()
}

/// Columns of `zfs list -H -p -t bookmark -o ...` that [`bookmarks`] parses.
pub const BOOKMARK_COLUMNS: &str = "name,guid,createtxg,creation";

pub fn bookmarks(output: &str) -> Parsed<Vec<Bookmark>> {
    lines(output)
        .map(|line| {
            let f = fields(line, 4)?;
            Ok(Bookmark {
                name: BookmarkName::new(f[0]).map_err(|e| error(line, e.to_string()))?,
                guid: number(line, "guid", f[1])?,
                createtxg: number(line, "createtxg", f[2])?,
                creation: timestamp(line, "creation", f[3])?,
            })
        })
        .collect()
}

/// `zfs get -H -p -o name,property,value,source`. A value may itself contain tabs (user
/// properties), so the first two and the last column are split off and the rest is the value.
pub fn properties(output: &str) -> Parsed<Vec<(String, Property)>> {
    output
        .split('\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            let mut head = line.splitn(3, '\t');
            let (Some(target), Some(name), Some(rest)) = (head.next(), head.next(), head.next())
            else {
                return Err(error(line, "expected name, property, value and source"));
            };
            let (value, source) = rest
                .rsplit_once('\t')
                .ok_or_else(|| error(line, "expected a source column"))?;
            Ok((
                target.to_owned(),
                Property {
                    name: name.to_owned(),
                    value: if value == "-" {
                        None
                    } else {
                        Some(value.to_owned())
                    },
                    source: PropertySource::parse(source),
                },
            ))
        })
        .collect()
}

/// `zfs holds -H SNAPSHOT`: `snapshot<TAB>tag<TAB>time`. OpenZFS 2.1 has no `-p` for
/// `holds`, so the time is `strftime("%a %b %e %H:%M %Y")` in the runner's `TZ=UTC`
/// (minute precision); a plain Unix time (2.2+ with `-p`) is accepted too.
pub fn holds(output: &str) -> Parsed<Vec<Hold>> {
    lines(output)
        .map(|line| {
            let f = fields(line, 3)?;
            let created = match f[2].parse::<i64>() {
                Ok(seconds) => Timestamp(seconds),
                Err(_) => hold_time(f[2])
                    .ok_or_else(|| error(line, format!("hold time `{}` is not a date", f[2])))?,
            };
            Ok(Hold {
                snapshot: SnapshotName::new(f[0]).map_err(|e| error(line, e.to_string()))?,
                tag: f[1].to_owned(),
                created,
            })
        })
        .collect()
}

/// `Thu Nov 26  8:28 2026` (C locale, UTC) as a timestamp.
fn hold_time(text: &str) -> Option<Timestamp> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let words: Vec<&str> = text.split_whitespace().collect();
    let [_weekday, month, day, time, year] = words.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|name| name == month)? as u8 + 1;
    let (hour, minute) = time.split_once(':')?;
    Timestamp::from_civil_utc(CivilDateTimeUtc {
        year: year.parse().ok()?,
        month,
        day: day.parse().ok()?,
        hour: hour.parse().ok()?,
        minute: minute.parse().ok()?,
        second: 0,
    })
}

/// `zfs destroy -n -v -p`: the `reclaim` line says how many bytes would be freed.
pub fn reclaimable(output: &str) -> Parsed<u64> {
    lines(output)
        .find_map(|line| {
            line.strip_prefix("reclaim\t")
                .map(|bytes| number(line, "reclaim", bytes.trim()))
        })
        .unwrap_or_else(|| Err(error(output.trim(), "no `reclaim` line in the output")))
}

/// `zfs send -n -v -P`: the `size` line holds the estimated stream size.
pub fn send_size(output: &str) -> Parsed<u64> {
    lines(output)
        .find_map(|line| {
            line.strip_prefix("size\t")
                .map(|bytes| number(line, "size", bytes.trim()))
        })
        .unwrap_or_else(|| Err(error(output.trim(), "no `size` line in the output")))
}

/// Decodes a path as `zfs diff` prints it: every byte that is not printable ASCII, and space
/// and backslash, as `\` followed by four octal digits (`\0040` is a space). Lossless for any
/// byte sequence, including newlines and non-UTF-8 names. The trailing `/` ZFS prints for the
/// dataset's root directory is dropped, so paths compare equal to the mountpoint.
pub fn unescape_diff_path(escaped: &str) -> Result<PathBuf, String> {
    let bytes = escaped.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'\\' {
            let digits = bytes
                .get(index + 1..index + 5)
                .filter(|digits| digits.iter().all(|digit| (b'0'..=b'7').contains(digit)))
                .ok_or_else(|| format!("bad escape at byte {index} of {escaped:?}"))?;
            let value = digits
                .iter()
                .fold(0u32, |acc, digit| acc * 8 + u32::from(digit - b'0'));
            decoded.push((value & 0xff) as u8);
            index += 5;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    if decoded.len() > 1 && decoded.ends_with(b"/") {
        decoded.pop();
    }
    Ok(PathBuf::from(OsString::from_vec(decoded)))
}

/// `(+1)`, `(-2)`: how `zfs diff` reports a change of an object's link count.
fn is_link_delta(field: &str) -> bool {
    field
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
        .and_then(|number| number.strip_prefix(['+', '-']))
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// `zfs diff -H -F -t`: `seconds.nanoseconds<TAB>change<TAB>type<TAB>path[<TAB>new path]`,
/// or `…<TAB>M<TAB>type<TAB>path<TAB>(+1)` when the object's link count changed.
pub fn diff(output: &str) -> Parsed<Vec<DiffEntry>> {
    lines(output)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() != 4 && f.len() != 5 {
                return Err(error(
                    line,
                    format!("expected 4 or 5 fields, found {}", f.len()),
                ));
            }
            let (seconds, nanoseconds) = f[0].split_once('.').unwrap_or((f[0], "0"));
            let changed_at_seconds = seconds
                .parse()
                .map_err(|_| error(line, format!("time `{}` is not a number", f[0])))?;
            let changed_at_nanoseconds = nanoseconds
                .parse()
                .map_err(|_| error(line, format!("time `{}` is not a number", f[0])))?;
            let kind = FileKind::from_indicator(f[2])
                .ok_or_else(|| error(line, format!("unknown file type `{}`", f[2])))?;
            let path = unescape_diff_path(f[3]).map_err(|reason| error(line, reason))?;
            let change = match (f[1], f.get(4)) {
                ("-", None) => DiffChange::Removed,
                ("+", None) => DiffChange::Created,
                ("M", None) => DiffChange::Modified,
                // A hard link added or removed elsewhere: the object's link count changed.
                ("M", Some(delta)) if is_link_delta(delta) => DiffChange::Modified,
                ("R", Some(to)) => DiffChange::Renamed {
                    to: unescape_diff_path(to).map_err(|reason| error(line, reason))?,
                },
                (other, _) => {
                    return Err(error(
                        line,
                        format!("unknown change `{other}` for this field count"),
                    ));
                }
            };
            Ok(DiffEntry {
                changed_at_seconds,
                changed_at_nanoseconds,
                change,
                kind,
                path,
            })
        })
        .collect()
}

mod pool_status;
pub use pool_status::pool_statuses;

#[cfg(test)]
mod tests;
