//! Fuzzes every parser of `zfs`/`zpool` output (`wizfs_zfs::parse`, `pool_statuses` for the
//! human layout of `zpool status`, and `error::classify` for stderr). The first byte picks
//! the parser (see `PARSERS`), the rest is the command's output (as lossy UTF-8, as the
//! runner reads it). Properties: no panic; names a parser returns are valid names that
//! print back to themselves; `snapshots_with_properties` gives one value per property.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wizfs_core::{BookmarkName, DatasetName, PoolName, SnapshotName};
use wizfs_zfs::{error, parse};

/// The parsers, by selector byte modulo their count.
const PARSERS: [&str; 17] = [
    "version",
    "pools",
    "datasets",
    "snapshots",
    "snapshots_with_properties/0",
    "snapshots_with_properties/1",
    "snapshots_with_properties/2",
    "snapshots_with_properties/3",
    "bookmarks",
    "properties",
    "holds",
    "reclaimable",
    "send_size",
    "unescape_diff_path",
    "diff",
    "pool_statuses",
    "classify",
];

fn round_trips<T: std::fmt::Display + std::str::FromStr + PartialEq + std::fmt::Debug>(name: &T)
where
    T::Err: std::fmt::Debug,
{
    let printed = name.to_string();
    let again: T = printed.parse().expect("a parsed name validates again");
    assert_eq!(&again, name);
}

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = wizfs_fuzz::selector(data) else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let text = text.as_ref();
    match PARSERS[usize::from(first) % PARSERS.len()] {
        "version" => {
            let _ = parse::version(text);
        }
        "pools" => {
            for pool in parse::pools(text).unwrap_or_default() {
                round_trips::<PoolName>(&pool.name);
            }
        }
        "datasets" => {
            for dataset in parse::datasets(text).unwrap_or_default() {
                round_trips::<DatasetName>(&dataset.name);
            }
        }
        "snapshots" => {
            for snapshot in parse::snapshots(text).unwrap_or_default() {
                round_trips::<SnapshotName>(&snapshot.name);
            }
        }
        selected if selected.starts_with("snapshots_with_properties/") => {
            let count: usize = selected[selected.len() - 1..].parse().expect("count");
            for (snapshot, values) in
                parse::snapshots_with_properties(text, count).unwrap_or_default()
            {
                round_trips::<SnapshotName>(&snapshot.name);
                assert_eq!(values.len(), count, "values for {count} properties");
            }
        }
        "bookmarks" => {
            for bookmark in parse::bookmarks(text).unwrap_or_default() {
                round_trips::<BookmarkName>(&bookmark.name);
            }
        }
        "properties" => {
            let _ = parse::properties(text);
        }
        "holds" => {
            for hold in parse::holds(text).unwrap_or_default() {
                round_trips::<SnapshotName>(&hold.snapshot);
            }
        }
        "reclaimable" => {
            let _ = parse::reclaimable(text);
        }
        "send_size" => {
            let _ = parse::send_size(text);
        }
        "unescape_diff_path" => {
            let _ = parse::unescape_diff_path(text);
        }
        "diff" => {
            let _ = parse::diff(text);
        }
        "pool_statuses" => {
            let _ = parse::pool_statuses(text);
        }
        "classify" => {
            let mut parts = text.splitn(4, '\t');
            let mut part = || parts.next().unwrap_or_default();
            let (command, target, status, stderr) = (part(), part(), part(), part());
            let _ = error::classify(command, target, status, stderr).to_string();
        }
        other => unreachable!("parser {other}"),
    }
});
