//! Value parsers for clap: names and properties validated by the types of `wizfs-core` and
//! `wizfs-zfs`, so a bad one is a usage error (exit status 2) before any command runs.

use wizfs_core::{BookmarkName, DatasetName, SnapshotName};
use wizfs_zfs::{HoldTag, PropertyName};

/// A dataset name as a clap value parser.
pub fn parse_dataset_name(text: &str) -> Result<DatasetName, String> {
    parse_dataset(text)
}

pub fn parse_dataset(text: &str) -> Result<DatasetName, String> {
    DatasetName::new(text).map_err(|error| error.to_string())
}

pub fn parse_snapshot(text: &str) -> Result<SnapshotName, String> {
    SnapshotName::new(text).map_err(|error| error.to_string())
}

pub fn parse_bookmark(text: &str) -> Result<BookmarkName, String> {
    BookmarkName::new(text).map_err(|error| error.to_string())
}

pub fn parse_hold_tag(text: &str) -> Result<HoldTag, String> {
    HoldTag::new(text).map_err(|error| error.to_string())
}

pub fn parse_property_assignment(text: &str) -> Result<(PropertyName, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, got `{text}`"))?;
    Ok((
        PropertyName::new(name).map_err(|error| error.to_string())?,
        value.to_owned(),
    ))
}
