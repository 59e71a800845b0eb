//! `zfs get` and `zfs set` on the fake: statistics computed from the trees, identity
//! properties from the records, a few native properties with their OpenZFS 2.3 defaults,
//! and user properties (`module:name`) inherited down the dataset tree like real ZFS does.
//! Values of settable native properties are stored as given, without validation.

use wizfs_core::{DatasetName, ZfsObjectName};

use super::context::Context;
use super::errors;
use super::stream::token_for;
use super::usage::{UsageTable, available};
use crate::error::{ZfsError, ZfsResult};
use crate::types::{Property, PropertyName, PropertySource};

/// Read-only native properties (`zfs set` refuses them).
const READ_ONLY: &[&str] = &[
    "available",
    "clones",
    "compressratio",
    "createtxg",
    "creation",
    "defer_destroy",
    "guid",
    "logicalreferenced",
    "logicalused",
    "mounted",
    "name",
    "objsetid",
    "origin",
    "receive_resume_token",
    "referenced",
    "refcompressratio",
    "type",
    "used",
    "usedbychildren",
    "usedbydataset",
    "usedbyrefreservation",
    "usedbysnapshots",
    "userrefs",
    "written",
];

/// Settable native properties the fake knows: name, OpenZFS 2.3 default (as `zfs get -p`
/// prints it), and whether children inherit it.
const SETTABLE_NATIVE: &[(&str, &str, bool)] = &[
    ("atime", "on", true),
    ("canmount", "on", false),
    ("checksum", "on", true),
    ("compression", "on", true),
    ("copies", "1", true),
    ("dedup", "off", true),
    ("devices", "on", true),
    ("exec", "on", true),
    ("logbias", "latency", true),
    ("primarycache", "all", true),
    ("quota", "0", false),
    ("readonly", "off", true),
    ("recordsize", "131072", true),
    ("refquota", "0", false),
    ("refreservation", "0", false),
    ("relatime", "on", true),
    ("reservation", "0", false),
    ("secondarycache", "all", true),
    ("setuid", "on", true),
    ("snapdir", "hidden", true),
    ("sync", "standard", true),
];

/// The checks `zfs set`/`zfs create -o` make before storing a dataset property.
pub(super) fn check_dataset_property(
    target: &str,
    property: &PropertyName,
    value: &str,
) -> ZfsResult<()> {
    if value.contains(['\0', '\n']) {
        return Err(ZfsError::InvalidRequest(format!(
            "the value of property `{property}` contains a NUL or newline character"
        )));
    }
    if READ_ONLY.contains(&property.as_str()) {
        return Err(errors::failed(
            format!("zfs set {property}={value} {target}"),
            format!("cannot set property for '{target}': '{property}' is readonly"),
        ));
    }
    if property.as_str() == "mountpoint" {
        return Err(ZfsError::InvalidRequest(
            "the fake ZFS does not support changing mountpoint: datasets are mounted at ROOT/<name>".into(),
        ));
    }
    Ok(())
}

/// `zfs set property=value target`.
pub(super) fn set_property(
    context: &mut Context<'_>,
    target: &ZfsObjectName,
    property: &PropertyName,
    value: &str,
) -> ZfsResult<()> {
    check_dataset_property(target.as_str(), property, value)?;
    match target {
        ZfsObjectName::Dataset(dataset) => {
            context
                .state
                .dataset_mut(dataset)?
                .properties
                .insert(property.to_string(), value.to_owned());
        }
        ZfsObjectName::Snapshot(snapshot) => {
            let record = context.state.snapshot_mut(snapshot)?;
            if !property.is_user_property() {
                return Err(errors::failed(
                    format!("zfs set {property}={value} {snapshot}"),
                    format!(
                        "cannot set property for '{snapshot}': this property can not be modified for snapshots"
                    ),
                ));
            }
            record
                .properties
                .insert(property.to_string(), value.to_owned());
        }
        ZfsObjectName::Bookmark(bookmark) => {
            find_bookmark(context, bookmark)?;
            return Err(errors::failed(
                format!("zfs set {property}={value} {bookmark}"),
                format!(
                    "cannot set property for '{bookmark}': this property can not be modified for bookmarks"
                ),
            ));
        }
    }
    context.state.next_txg(target.dataset().pool().as_str());
    Ok(())
}

fn find_bookmark<'a>(
    context: &'a Context<'_>,
    bookmark: &wizfs_core::BookmarkName,
) -> ZfsResult<&'a super::state::BookmarkRecord> {
    context
        .state
        .dataset(bookmark.dataset())?
        .bookmarks
        .iter()
        .find(|record| record.short_name == bookmark.short_name())
        .ok_or_else(|| errors::dataset_not_found(bookmark.as_str()))
}

/// `zfs get -p properties target`, in the order asked for.
pub(super) fn get_properties(
    context: &mut Context<'_>,
    target: &ZfsObjectName,
    names: &[PropertyName],
) -> ZfsResult<Vec<Property>> {
    // Existence first, so a missing target is NotFound even for an empty list.
    match target {
        ZfsObjectName::Dataset(dataset) => {
            context.state.dataset(dataset)?;
        }
        ZfsObjectName::Snapshot(snapshot) => {
            context.state.snapshot(snapshot)?;
        }
        ZfsObjectName::Bookmark(bookmark) => {
            find_bookmark(context, bookmark)?;
        }
    }
    let needs_usage = names.iter().any(|name| {
        matches!(
            name.as_str(),
            "used"
                | "available"
                | "referenced"
                | "written"
                | "usedbysnapshots"
                | "usedbydataset"
                | "usedbychildren"
                | "logicalused"
                | "logicalreferenced"
        )
    });
    let table = if needs_usage {
        UsageTable::for_pool_of(context, target.dataset())?
    } else {
        UsageTable::default()
    };
    let mut properties = Vec::with_capacity(names.len());
    for name in names {
        let (value, source) = match target {
            ZfsObjectName::Dataset(dataset) => {
                dataset_property(context, &table, dataset, name.as_str())?
            }
            ZfsObjectName::Snapshot(snapshot) => {
                let (index, record) = context.state.snapshot(snapshot)?;
                let dataset = snapshot.dataset();
                let usage = table.snapshot(dataset, index);
                match name.as_str() {
                    "used" => statistic(usage.used),
                    "referenced" | "logicalreferenced" => statistic(usage.referenced),
                    "written" => statistic(usage.written),
                    "type" => statistic("snapshot"),
                    "guid" => statistic(record.guid),
                    "createtxg" => statistic(record.createtxg),
                    "creation" => statistic(record.creation),
                    "name" => statistic(snapshot),
                    "userrefs" => statistic(record.holds.len()),
                    "defer_destroy" => statistic(if record.defer_destroy { "on" } else { "off" }),
                    user if name.is_user_property() => match record.properties.get(user) {
                        Some(value) => (Some(value.clone()), PropertySource::Local),
                        None => inherited(context, dataset, user, false),
                    },
                    native if SETTABLE_NATIVE.iter().any(|(known, _, _)| *known == native) => {
                        dataset_property(context, &table, dataset, native)?
                    }
                    _ => (None, PropertySource::None),
                }
            }
            ZfsObjectName::Bookmark(bookmark) => {
                let record = find_bookmark(context, bookmark)?;
                match name.as_str() {
                    "type" => statistic("bookmark"),
                    "guid" => statistic(record.guid),
                    "createtxg" => statistic(record.createtxg),
                    "creation" => statistic(record.creation),
                    "name" => statistic(bookmark),
                    _ => (None, PropertySource::None),
                }
            }
        };
        properties.push(Property {
            name: name.to_string(),
            value,
            source,
        });
    }
    Ok(properties)
}

/// A read-only value (source `-`).
fn statistic(value: impl ToString) -> (Option<String>, PropertySource) {
    (Some(value.to_string()), PropertySource::None)
}

fn dataset_property(
    context: &Context<'_>,
    table: &UsageTable,
    dataset: &DatasetName,
    name: &str,
) -> ZfsResult<(Option<String>, PropertySource)> {
    let record = context.state.dataset(dataset)?;
    let own = table.own(dataset);
    Ok(match name {
        "used" | "logicalused" => statistic(table.used(dataset)),
        "available" => statistic(available(context, table, dataset)),
        "referenced" | "usedbydataset" | "logicalreferenced" => statistic(own.referenced),
        "written" => statistic(own.written),
        "usedbysnapshots" => statistic(own.used_by_snapshots),
        "usedbychildren" => statistic(table.used_by_children(dataset)),
        "usedbyrefreservation" => statistic(0),
        "type" => statistic("filesystem"),
        "guid" => statistic(record.guid),
        "createtxg" => statistic(record.createtxg),
        "creation" => statistic(record.creation),
        "name" => statistic(dataset),
        "mounted" => statistic(if record.unmounted { "no" } else { "yes" }),
        "mountpoint" => (
            Some(context.mountpoint(dataset).display().to_string()),
            PropertySource::Default,
        ),
        "receive_resume_token" => match token_for(context, dataset)? {
            Some(token) => statistic(token.as_str()),
            None => (None, PropertySource::None),
        },
        user if user.contains(':') => inherited(context, dataset, user, true),
        native => match SETTABLE_NATIVE
            .iter()
            .find(|(known, _, _)| *known == native)
        {
            Some((_, default, inheritable)) => match record.properties.get(native) {
                Some(value) => (Some(value.clone()), PropertySource::Local),
                None if *inheritable => match inherited(context, dataset, native, true) {
                    (Some(value), source) => (Some(value), source),
                    (None, _) => (Some((*default).to_owned()), PropertySource::Default),
                },
                None => (Some((*default).to_owned()), PropertySource::Default),
            },
            None => match record.properties.get(native) {
                Some(value) => (Some(value.clone()), PropertySource::Local),
                None => (None, PropertySource::None),
            },
        },
    })
}

/// The value of `property` set on `dataset` (when `include_self`) or its nearest ancestor.
fn inherited(
    context: &Context<'_>,
    dataset: &DatasetName,
    property: &str,
    include_self: bool,
) -> (Option<String>, PropertySource) {
    let mut current = Some(dataset.clone());
    while let Some(name) = current {
        if let Some(value) = context
            .state
            .datasets
            .get(name.as_str())
            .and_then(|record| record.properties.get(property))
        {
            let source = if include_self && &name == dataset {
                PropertySource::Local
            } else {
                PropertySource::Inherited {
                    from: name.to_string(),
                }
            };
            return (Some(value.clone()), source);
        }
        current = name.parent();
    }
    (None, PropertySource::None)
}
