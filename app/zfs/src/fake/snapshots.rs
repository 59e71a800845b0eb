//! Snapshots, holds and bookmarks of the fake: atomic (one-txg) snapshot creation that
//! materializes `.zfs/snapshot/<name>` copies and records their manifests, destruction with
//! hold and deferred-destroy semantics, reclaimable space, and bookmarks that keep the
//! manifest of their snapshot so they can serve as incremental bases.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use wizfs_core::{Bookmark, BookmarkName, DatasetName, Hold, Snapshot, SnapshotName, Timestamp};

use super::context::Context;
use super::state::{BookmarkRecord, HoldRecord, SnapshotRecord};
use super::usage::{DataKey, UsageTable, data_of};
use super::{errors, properties, tree};
use crate::error::{ZfsError, ZfsResult};
use crate::types::{DestroyOptions, HoldTag, PropertyName, Scope};

/// What a new snapshot records besides its name.
pub(super) struct NewSnapshot {
    pub guid: u64,
    pub createtxg: u64,
    pub creation: i64,
    pub properties: BTreeMap<String, String>,
}

/// Copies the live tree of `dataset` into `.zfs/snapshot/<short_name>`, stores its manifest
/// and appends the snapshot record.
pub(super) fn take_snapshot(
    context: &mut Context<'_>,
    dataset: &DatasetName,
    short_name: &str,
    snapshot: NewSnapshot,
) -> ZfsResult<()> {
    let parent = context.layout.snapshot_parent(dataset);
    std::fs::create_dir_all(&parent).map_err(|error| errors::storage_error(&parent, error))?;
    let destination = parent.join(short_name);
    tree::remove_path(&destination)?;
    let entries = tree::copy_tree(
        &context.mountpoint(dataset),
        &context.excluded_names(dataset),
        &destination,
    )?;
    let manifest = context.state.next_id();
    if let Err(error) = context.store_manifest(manifest, entries) {
        let _ = tree::remove_path(&destination);
        return Err(error);
    }
    context
        .state
        .dataset_mut(dataset)?
        .snapshots
        .push(SnapshotRecord {
            short_name: short_name.to_owned(),
            guid: snapshot.guid,
            createtxg: snapshot.createtxg,
            creation: snapshot.creation,
            manifest,
            properties: snapshot.properties,
            holds: Vec::new(),
            defer_destroy: false,
        });
    Ok(())
}

/// `zfs snapshot [-r] [-o property=value]... snapshot...`: all in one transaction group,
/// all or nothing.
pub(super) fn create_snapshots(
    context: &mut Context<'_>,
    names: &[SnapshotName],
    recursive: bool,
    properties: &[(PropertyName, String)],
    now: Timestamp,
) -> ZfsResult<()> {
    let Some(first) = names.first() else {
        return Ok(());
    };
    for (property, value) in properties {
        properties::check_dataset_property(first.as_str(), property, value)?;
        if !property.is_user_property() {
            return Err(errors::failed(
                format!("zfs snapshot -o {property}={value} {first}"),
                format!(
                    "cannot create snapshot '{first}': property '{property}' can not be set on snapshots"
                ),
            ));
        }
    }
    let mut targets: BTreeMap<DatasetName, String> = BTreeMap::new();
    for name in names {
        context.state.dataset(name.dataset())?;
        let mut datasets = vec![name.dataset().clone()];
        if recursive {
            datasets.extend(context.state.descendants(name.dataset()));
        }
        for dataset in datasets {
            match targets.get(&dataset) {
                Some(short_name) if short_name != name.short_name() => {
                    return Err(errors::failed(
                        format!("zfs snapshot {name}"),
                        format!(
                            "cannot create snapshot '{name}': multiple snapshots of same fs not allowed"
                        ),
                    ));
                }
                _ => {
                    targets.insert(dataset, name.short_name().to_owned());
                }
            }
        }
    }
    let pool = first.dataset().pool();
    if let Some((other, _)) = targets.iter().find(|(dataset, _)| dataset.pool() != pool) {
        return Err(errors::failed(
            format!("zfs snapshot {first}"),
            format!("cannot create snapshots: {first} and {other} are in different pools"),
        ));
    }
    for (dataset, short_name) in &targets {
        let exists = context
            .state
            .dataset(dataset)?
            .snapshots
            .iter()
            .any(|snapshot| &snapshot.short_name == short_name);
        if exists {
            let full = format!("{dataset}@{short_name}");
            return Err(errors::already_exists(
                &full,
                format!("cannot create snapshot '{full}': dataset already exists"),
            ));
        }
    }
    let createtxg = context.state.next_txg(pool.as_str());
    let user_properties: BTreeMap<String, String> = properties
        .iter()
        .map(|(property, value)| (property.to_string(), value.clone()))
        .collect();
    let mut created: Vec<std::path::PathBuf> = Vec::new();
    for (dataset, short_name) in &targets {
        let guid = context.state.new_guid();
        let snapshot = NewSnapshot {
            guid,
            createtxg,
            creation: now.seconds(),
            properties: user_properties.clone(),
        };
        if let Err(error) = take_snapshot(context, dataset, short_name, snapshot) {
            for path in created {
                let _ = tree::remove_path(&path);
            }
            return Err(error);
        }
        created.push(context.layout.snapshot_parent(dataset).join(short_name));
    }
    Ok(())
}

/// Removes a snapshot's copy and record (the caller has checked holds).
pub(super) fn remove_snapshot(
    context: &mut Context<'_>,
    dataset: &DatasetName,
    short_name: &str,
) -> ZfsResult<()> {
    tree::remove_path(&context.layout.snapshot_parent(dataset).join(short_name))?;
    let record = context.state.dataset_mut(dataset)?;
    if let Some(index) = record
        .snapshots
        .iter()
        .position(|snapshot| snapshot.short_name == short_name)
    {
        let removed = record.snapshots.remove(index);
        context.release_manifest_if_unused(removed.manifest);
    }
    Ok(())
}

/// `zfs destroy [-r] [-d] dataset@a,b,...` for each dataset of `names`.
pub(super) fn destroy_snapshots(
    context: &mut Context<'_>,
    names: &[SnapshotName],
    options: DestroyOptions,
) -> ZfsResult<()> {
    let mut groups: Vec<(&DatasetName, Vec<&SnapshotName>)> = Vec::new();
    for name in names {
        match groups
            .iter_mut()
            .find(|(dataset, _)| *dataset == name.dataset())
        {
            Some((_, members)) => members.push(name),
            None => groups.push((name.dataset(), vec![name])),
        }
    }
    let mut victims: Vec<(DatasetName, String, bool)> = Vec::new();
    for (dataset, members) in &groups {
        context.state.dataset(dataset)?;
        let mut datasets = vec![(*dataset).clone()];
        if options.recursive {
            datasets.extend(context.state.descendants(dataset));
        }
        let before = victims.len();
        for member in members {
            for candidate in &datasets {
                let record = context.state.dataset(candidate)?;
                if let Some(snapshot) = record
                    .snapshots
                    .iter()
                    .find(|snapshot| snapshot.short_name == member.short_name())
                {
                    let key = (candidate.clone(), snapshot.short_name.clone());
                    if !victims
                        .iter()
                        .any(|(dataset, short_name, _)| (dataset, short_name) == (&key.0, &key.1))
                    {
                        victims.push((key.0, key.1, !snapshot.holds.is_empty()));
                    }
                }
            }
        }
        if victims.len() == before {
            let target = members
                .first()
                .map_or_else(|| dataset.to_string(), ToString::to_string);
            return Err(errors::not_found(
                &target,
                "could not find any snapshots to destroy; check snapshot names.".to_owned(),
            ));
        }
    }
    if let Some((dataset, short_name, _)) =
        victims.iter().find(|(_, _, held)| *held && !options.defer)
    {
        return Err(errors::snapshot_busy(&format!("{dataset}@{short_name}")));
    }
    for (dataset, short_name, held) in &victims {
        if *held {
            let snapshot = SnapshotName::from_parts(dataset.clone(), short_name)?;
            context.state.snapshot_mut(&snapshot)?.defer_destroy = true;
        } else {
            remove_snapshot(context, dataset, short_name)?;
        }
    }
    if let Some((dataset, _)) = groups.first() {
        context.state.next_txg(dataset.pool().as_str());
    }
    Ok(())
}

/// `zfs destroy -n -v -p`: bytes only the given snapshots hold (freed by destroying them
/// all together).
pub(super) fn reclaimable_space(
    context: &mut Context<'_>,
    names: &[SnapshotName],
) -> ZfsResult<u64> {
    let Some(first) = names.first() else {
        return Err(ZfsError::InvalidRequest(
            "reclaimable space is computed for snapshots of one dataset at a time".into(),
        ));
    };
    let dataset = first.dataset();
    if names.iter().any(|name| name.dataset() != dataset) {
        return Err(ZfsError::InvalidRequest(
            "reclaimable space is computed for snapshots of one dataset at a time".into(),
        ));
    }
    let wanted: BTreeSet<&str> = names.iter().map(SnapshotName::short_name).collect();
    let snapshots: Vec<(bool, u64)> = context
        .state
        .dataset(dataset)?
        .snapshots
        .iter()
        .map(|snapshot| {
            (
                wanted.contains(snapshot.short_name.as_str()),
                snapshot.manifest,
            )
        })
        .collect();
    if !snapshots.iter().any(|(is_victim, _)| *is_victim) {
        return Err(errors::not_found(
            first.as_str(),
            "could not find any snapshots to destroy; check snapshot names.".to_owned(),
        ));
    }
    let mut kept: HashMap<DataKey, u64> = data_of(&context.scan_live(dataset)?);
    let mut freed: HashMap<DataKey, u64> = HashMap::new();
    for (is_victim, manifest) in snapshots {
        let entries = context.manifest(manifest)?;
        let data = data_of(&entries);
        if is_victim {
            freed.extend(data)
        } else {
            kept.extend(data)
        }
    }
    Ok(freed
        .iter()
        .filter(|(key, _)| !kept.contains_key(key))
        .map(|(_, size)| *size)
        .sum())
}

/// `snapshot` and, with `recursive`, the same-named snapshots of all descendants.
fn snapshot_family(
    context: &Context<'_>,
    snapshot: &SnapshotName,
    recursive: bool,
) -> ZfsResult<Vec<SnapshotName>> {
    let mut family = vec![snapshot.clone()];
    if recursive {
        for descendant in context.state.descendants(snapshot.dataset()) {
            let record = context.state.dataset(&descendant)?;
            if record
                .snapshots
                .iter()
                .any(|candidate| candidate.short_name == snapshot.short_name())
            {
                family.push(SnapshotName::from_parts(descendant, snapshot.short_name())?);
            }
        }
    }
    Ok(family)
}

/// `zfs hold [-r] tag snapshot`.
pub(super) fn hold(
    context: &mut Context<'_>,
    snapshot: &SnapshotName,
    tag: &HoldTag,
    recursive: bool,
    now: Timestamp,
) -> ZfsResult<()> {
    if context.state.snapshot(snapshot).is_err() {
        return Err(errors::not_found(
            snapshot.as_str(),
            format!("cannot hold snapshot '{snapshot}': dataset does not exist"),
        ));
    }
    let family = snapshot_family(context, snapshot, recursive)?;
    for member in &family {
        let (_, record) = context.state.snapshot(member)?;
        if record.holds.iter().any(|hold| hold.tag == tag.as_str()) {
            return Err(errors::already_exists(
                member.as_str(),
                format!("cannot hold snapshot '{member}': tag already exists on this dataset"),
            ));
        }
    }
    for member in &family {
        context.state.snapshot_mut(member)?.holds.push(HoldRecord {
            tag: tag.as_str().to_owned(),
            created: now.seconds(),
        });
    }
    context.state.next_txg(snapshot.dataset().pool().as_str());
    Ok(())
}

/// `zfs release [-r] tag snapshot`; destroys snapshots marked for deferred destruction when
/// their last hold goes.
pub(super) fn release(
    context: &mut Context<'_>,
    snapshot: &SnapshotName,
    tag: &HoldTag,
    recursive: bool,
) -> ZfsResult<()> {
    if context.state.snapshot(snapshot).is_err() {
        return Err(errors::not_found(
            snapshot.as_str(),
            format!("cannot release hold from snapshot '{snapshot}': dataset does not exist"),
        ));
    }
    let family = snapshot_family(context, snapshot, recursive)?;
    for member in &family {
        let (_, record) = context.state.snapshot(member)?;
        if !record.holds.iter().any(|hold| hold.tag == tag.as_str()) {
            return Err(errors::not_found(
                member.as_str(),
                format!(
                    "cannot release hold from snapshot '{member}': no such tag on this dataset"
                ),
            ));
        }
    }
    for member in &family {
        let record = context.state.snapshot_mut(member)?;
        record.holds.retain(|hold| hold.tag != tag.as_str());
        let destroy_now = record.holds.is_empty() && record.defer_destroy;
        if destroy_now {
            remove_snapshot(context, member.dataset(), member.short_name())?;
        }
    }
    context.state.next_txg(snapshot.dataset().pool().as_str());
    Ok(())
}

/// `zfs holds snapshot`.
pub(super) fn holds(context: &mut Context<'_>, snapshot: &SnapshotName) -> ZfsResult<Vec<Hold>> {
    let (_, record) = context.state.snapshot(snapshot)?;
    Ok(record
        .holds
        .iter()
        .map(|hold| Hold {
            snapshot: snapshot.clone(),
            tag: hold.tag.clone(),
            created: Timestamp(hold.created),
        })
        .collect())
}

/// `zfs list -t snapshot [-d 1 | -r] dataset`, ordered by createtxg then name.
pub(super) fn list_snapshots(
    context: &mut Context<'_>,
    dataset: &DatasetName,
    scope: Scope,
) -> ZfsResult<Vec<Snapshot>> {
    context.state.dataset(dataset)?;
    let mut datasets = vec![dataset.clone()];
    if matches!(scope, Scope::Recursive) {
        datasets.extend(context.state.descendants(dataset));
    }
    let table = UsageTable::for_pool_of(context, dataset)?;
    let mut rows = Vec::new();
    for name in &datasets {
        for (index, record) in context.state.dataset(name)?.snapshots.iter().enumerate() {
            let usage = table.snapshot(name, index);
            rows.push(Snapshot {
                name: SnapshotName::from_parts(name.clone(), &record.short_name)?,
                guid: record.guid,
                createtxg: record.createtxg,
                creation: Timestamp(record.creation),
                used: usage.used,
                referenced: usage.referenced,
                written: usage.written,
                user_refs: u64::try_from(record.holds.len()).unwrap_or(u64::MAX),
            });
        }
    }
    rows.sort_by(|left, right| (left.createtxg, &left.name).cmp(&(right.createtxg, &right.name)));
    Ok(rows)
}

/// `zfs bookmark snapshot bookmark`.
pub(super) fn create_bookmark(
    context: &mut Context<'_>,
    snapshot: &SnapshotName,
    bookmark: &BookmarkName,
) -> ZfsResult<()> {
    if snapshot.dataset() != bookmark.dataset() {
        return Err(ZfsError::InvalidRequest(format!(
            "bookmark {bookmark} must belong to the dataset of {snapshot}"
        )));
    }
    let Ok((_, source)) = context.state.snapshot(snapshot) else {
        return Err(errors::not_found(
            snapshot.as_str(),
            format!("cannot create bookmark '{bookmark}': dataset does not exist"),
        ));
    };
    let new_bookmark = BookmarkRecord {
        short_name: bookmark.short_name().to_owned(),
        guid: source.guid,
        createtxg: source.createtxg,
        creation: source.creation,
        manifest: source.manifest,
    };
    let record = context.state.dataset_mut(bookmark.dataset())?;
    if record
        .bookmarks
        .iter()
        .any(|existing| existing.short_name == bookmark.short_name())
    {
        return Err(errors::already_exists(
            bookmark.as_str(),
            format!("cannot create bookmark '{bookmark}': bookmark exists"),
        ));
    }
    record.bookmarks.push(new_bookmark);
    context.state.next_txg(bookmark.dataset().pool().as_str());
    Ok(())
}

/// `zfs destroy dataset#bookmark`.
pub(super) fn destroy_bookmark(
    context: &mut Context<'_>,
    bookmark: &BookmarkName,
) -> ZfsResult<()> {
    let record = context.state.dataset_mut(bookmark.dataset())?;
    let Some(index) = record
        .bookmarks
        .iter()
        .position(|existing| existing.short_name == bookmark.short_name())
    else {
        return Err(errors::not_found(
            bookmark.as_str(),
            format!("bookmark '{bookmark}' does not exist."),
        ));
    };
    let removed = record.bookmarks.remove(index);
    context.release_manifest_if_unused(removed.manifest);
    context.state.next_txg(bookmark.dataset().pool().as_str());
    Ok(())
}

/// `zfs list -t bookmark -d 1 dataset`, ordered by createtxg then name.
pub(super) fn list_bookmarks(
    context: &mut Context<'_>,
    dataset: &DatasetName,
) -> ZfsResult<Vec<Bookmark>> {
    let record = context.state.dataset(dataset)?;
    let mut rows = Vec::new();
    for bookmark in &record.bookmarks {
        rows.push(Bookmark {
            name: BookmarkName::from_parts(dataset.clone(), &bookmark.short_name)?,
            guid: bookmark.guid,
            createtxg: bookmark.createtxg,
            creation: Timestamp(bookmark.creation),
        });
    }
    rows.sort_by(|left, right| (left.createtxg, &left.name).cmp(&(right.createtxg, &right.name)));
    Ok(rows)
}
