//! Pools and filesystems of the fake: creating a pool (fake-only), creating and destroying
//! filesystems (real directories under the root), and listing both with their space figures.

use std::collections::{BTreeMap, BTreeSet};

use wizfs_core::{Dataset, DatasetKind, DatasetName, Pool, PoolHealth, PoolName, Timestamp};

use super::context::Context;
use super::state::{DatasetRecord, PoolRecord};
use super::usage::{UsageTable, available};
use super::{errors, properties, tree};
use crate::error::{ZfsError, ZfsResult};
use crate::types::PropertyName;

/// Creates a pool and its root dataset, mounted at `ROOT/<pool>`.
pub(super) fn create_pool(
    context: &mut Context<'_>,
    name: &PoolName,
    size_bytes: u64,
    now: Timestamp,
) -> ZfsResult<()> {
    if context.state.pools.contains_key(name.as_str()) {
        return Err(errors::already_exists(
            name.as_str(),
            format!("cannot create '{name}': pool already exists"),
        ));
    }
    let root_dataset = name.root_dataset();
    tree::create_mountpoint(&context.mountpoint(&root_dataset))?;
    let pool_guid = context.state.new_guid();
    let dataset_guid = context.state.new_guid();
    context.state.pools.insert(
        name.as_str().to_owned(),
        PoolRecord {
            guid: pool_guid,
            size_bytes,
            txg: 1,
            last_scrub: None,
        },
    );
    context.state.datasets.insert(
        root_dataset.as_str().to_owned(),
        new_dataset_record(dataset_guid, 1, now),
    );
    Ok(())
}

pub(super) fn new_dataset_record(guid: u64, createtxg: u64, creation: Timestamp) -> DatasetRecord {
    DatasetRecord {
        guid,
        createtxg,
        creation: creation.seconds(),
        properties: BTreeMap::new(),
        snapshots: Vec::new(),
        bookmarks: Vec::new(),
        unmounted: false,
    }
}

/// Refuses dataset names the directory layout cannot represent.
pub(super) fn check_representable(name: &DatasetName) -> ZfsResult<()> {
    if name.components().any(|component| component == ".zfs") {
        return Err(ZfsError::InvalidRequest(format!(
            "the fake cannot model dataset {name}: a component named .zfs would collide with the snapshot directory"
        )));
    }
    Ok(())
}

/// The checks `zfs create` makes on the name: not existing yet, parent existing.
pub(super) fn check_creatable(
    context: &Context<'_>,
    name: &DatasetName,
    command: &str,
) -> ZfsResult<()> {
    check_representable(name)?;
    if context.state.datasets.contains_key(name.as_str()) {
        return Err(errors::already_exists(
            name.as_str(),
            format!("cannot {command} '{name}': dataset already exists"),
        ));
    }
    let pool = name.pool();
    if !context.state.pools.contains_key(pool.as_str()) {
        return Err(errors::not_found(
            name.as_str(),
            format!("cannot {command} '{name}': no such pool '{pool}'"),
        ));
    }
    match name.parent() {
        Some(parent) if !context.state.datasets.contains_key(parent.as_str()) => {
            Err(errors::not_found(
                name.as_str(),
                format!("cannot {command} '{name}': parent does not exist"),
            ))
        }
        _ => Ok(()),
    }
}

/// `zfs create [-o property=value]... name`.
pub(super) fn create_filesystem(
    context: &mut Context<'_>,
    name: &DatasetName,
    properties: &[(PropertyName, String)],
    now: Timestamp,
) -> ZfsResult<()> {
    check_creatable(context, name, "create")?;
    for (property, value) in properties {
        properties::check_dataset_property(name.as_str(), property, value)?;
    }
    let txg = context.state.next_txg(name.pool().as_str());
    let guid = context.state.new_guid();
    let mut record = new_dataset_record(guid, txg, now);
    record.properties = properties
        .iter()
        .map(|(property, value)| (property.to_string(), value.clone()))
        .collect();
    tree::create_mountpoint(&context.mountpoint(name))?;
    context
        .state
        .datasets
        .insert(name.as_str().to_owned(), record);
    Ok(())
}

/// `zfs destroy [-r] name`.
pub(super) fn destroy_filesystem(
    context: &mut Context<'_>,
    name: &DatasetName,
    recursive: bool,
) -> ZfsResult<()> {
    let record = context.state.dataset(name)?;
    let descendants = context.state.descendants(name);
    if name.is_root() && !recursive {
        return Err(errors::failed(
            format!("zfs destroy {name}"),
            format!(
                "cannot destroy '{name}': operation does not apply to pools\n\
                 use 'zfs destroy -r {name}' to destroy all datasets in the pool\n\
                 use 'zpool destroy {name}' to destroy the pool itself"
            ),
        ));
    }
    if !recursive && (!descendants.is_empty() || !record.snapshots.is_empty()) {
        let mut dependents: Vec<String> = descendants
            .iter()
            .filter(|descendant| descendant.parent().as_ref() == Some(name))
            .map(ToString::to_string)
            .collect();
        dependents.extend(
            record
                .snapshots
                .iter()
                .map(|snapshot| format!("{name}@{}", snapshot.short_name)),
        );
        return Err(errors::has_dependents(
            name.as_str(),
            format!(
                "cannot destroy '{name}': filesystem has children\n\
                 use '-r' to destroy the following datasets:\n{}",
                dependents.join("\n")
            ),
        ));
    }
    let mut victims = descendants;
    victims.reverse();
    if !name.is_root() {
        victims.push(name.clone());
    }
    for victim in victims.iter().chain(std::iter::once(name)) {
        if context.receiving.contains(victim.as_str()) {
            return Err(errors::busy(
                victim.as_str(),
                format!("cannot destroy '{victim}': dataset is busy"),
            ));
        }
        let victim_record = context.state.dataset(victim)?;
        if let Some(held) = victim_record
            .snapshots
            .iter()
            .find(|snapshot| !snapshot.holds.is_empty())
        {
            return Err(errors::snapshot_busy(&format!(
                "{victim}@{}",
                held.short_name
            )));
        }
    }
    let mut released_manifests = BTreeSet::new();
    for victim in &victims {
        tree::remove_path(&context.mountpoint(victim))?;
        if let Some(record) = context.state.datasets.remove(victim.as_str()) {
            released_manifests.extend(record.snapshots.iter().map(|snapshot| snapshot.manifest));
            released_manifests.extend(record.bookmarks.iter().map(|bookmark| bookmark.manifest));
        }
        drop_partial_receive(context, victim);
    }
    if name.is_root() {
        // `zfs destroy -r pool` destroys everything in the pool but the root dataset, whose
        // snapshots and bookmarks go too.
        let parent = context.layout.snapshot_parent(name);
        let root = context.state.dataset_mut(name)?;
        let snapshots = std::mem::take(&mut root.snapshots);
        let bookmarks = std::mem::take(&mut root.bookmarks);
        for snapshot in &snapshots {
            tree::remove_path(&parent.join(&snapshot.short_name))?;
        }
        released_manifests.extend(snapshots.iter().map(|snapshot| snapshot.manifest));
        released_manifests.extend(bookmarks.iter().map(|bookmark| bookmark.manifest));
        drop_partial_receive(context, name);
    }
    context.state.next_txg(name.pool().as_str());
    for id in released_manifests {
        context.release_manifest_if_unused(id);
    }
    Ok(())
}

/// Forgets an interrupted receive into `dataset` and schedules its spool for deletion.
pub(super) fn drop_partial_receive(context: &mut Context<'_>, dataset: &DatasetName) {
    if let Some(partial) = context.state.partial_receives.remove(dataset.as_str()) {
        context
            .delete_after_commit
            .push(context.layout.partial_spool_file(partial.spool));
    }
}

/// `zpool list`.
pub(super) fn list_pools(context: &mut Context<'_>) -> ZfsResult<Vec<Pool>> {
    let pool_names: BTreeSet<String> = context.state.pools.keys().cloned().collect();
    let table = UsageTable::compute(context, &pool_names)?;
    let mut pools = Vec::new();
    for (name, record) in &context.state.pools {
        let Ok(pool_name) = PoolName::new(name) else {
            continue;
        };
        let allocated = table.allocated(name);
        let capacity = if record.size_bytes == 0 {
            if allocated == 0 { 0 } else { 100 }
        } else {
            (u128::from(allocated) * 100 / u128::from(record.size_bytes)).min(100)
        };
        pools.push(Pool {
            name: pool_name,
            guid: record.guid,
            size: record.size_bytes,
            allocated,
            free: record.size_bytes.saturating_sub(allocated),
            fragmentation_percent: Some(0),
            capacity_percent: u8::try_from(capacity).unwrap_or(100),
            health: PoolHealth::Online,
            readonly: false,
        });
    }
    Ok(pools)
}

/// `zfs list -t filesystem,volume [-r root]`.
pub(super) fn list_datasets(
    context: &mut Context<'_>,
    root: Option<&DatasetName>,
) -> ZfsResult<Vec<Dataset>> {
    if let Some(root) = root {
        context.state.dataset(root)?;
    }
    let names: Vec<DatasetName> = context
        .state
        .dataset_names()
        .into_iter()
        .filter(|name| root.is_none_or(|root| name.is_same_or_descendant_of(root)))
        .collect();
    let pools: BTreeSet<String> = names
        .iter()
        .map(|name| name.pool().as_str().to_owned())
        .collect();
    let table = UsageTable::compute(context, &pools)?;
    names
        .iter()
        .map(|name| describe_dataset(context, &table, name))
        .collect()
}

/// The `zfs list` row of one dataset.
pub(super) fn describe_dataset(
    context: &Context<'_>,
    table: &UsageTable,
    name: &DatasetName,
) -> ZfsResult<Dataset> {
    let record = context.state.dataset(name)?;
    Ok(Dataset {
        name: name.clone(),
        guid: record.guid,
        kind: DatasetKind::Filesystem,
        used: table.used(name),
        available: available(context, table, name),
        referenced: table.own(name).referenced,
        mountpoint: Some(context.mountpoint(name)),
        mounted: !record.unmounted,
        createtxg: record.createtxg,
        creation: Timestamp(record.creation),
    })
}
