//! What a local-pool run lists of its target before it plans and after it sends (the source
//! side is `crate::run`'s): every dataset below the target root with its job mark, resume
//! token, changes since its newest snapshot and its snapshots (which carry the mark of the
//! job that sent them). All through [`Zfs`].

use std::collections::BTreeMap;

use wizfs_core::backup::{BackupJobId, TargetDataset, TargetSnapshot};
use wizfs_core::{DatasetName, ZfsObjectName};
use wizfs_zfs::{PropertyName, Scope, Zfs, ZfsResult};

/// The user property that marks a target dataset as a job's (its value: the job id).
pub const JOB_PROPERTY: &str = "wizfs:backup-job";
/// The user property that marks a received snapshot as sent by a job (its value: the job
/// id); target retention destroys only snapshots carrying it.
pub const SENT_PROPERTY: &str = "wizfs:backup-sent";

/// The job property (on target datasets).
pub(super) fn job_property() -> ZfsResult<PropertyName> {
    Ok(PropertyName::new(JOB_PROPERTY)?)
}

/// The sent property (on received snapshots).
pub(super) fn sent_property() -> ZfsResult<PropertyName> {
    Ok(PropertyName::new(SENT_PROPERTY)?)
}

/// Every dataset below `root` (none when `root` does not exist yet).
///
/// A dataset with a resume token, no snapshot and no job mark is an interrupted full
/// receive; it is read as this job's, because resuming it needs the source snapshot the
/// token names, by guid (`zfs send -t` refuses any other), so only the source it was sent
/// from can complete it — and the mark, set with `-o` at the receive, may not be there yet.
pub(super) fn list_target(
    zfs: &dyn Zfs,
    job_id: &BackupJobId,
    root: &DatasetName,
) -> ZfsResult<Vec<TargetDataset>> {
    let datasets = match zfs.list_datasets(Some(root)) {
        Err(error) if error.is_not_found() => return Ok(Vec::new()),
        listed => listed?,
    };
    let mut snapshots: BTreeMap<DatasetName, Vec<TargetSnapshot>> = BTreeMap::new();
    for (snapshot, values) in
        zfs.list_snapshots_with_properties(root, Scope::Recursive, &[sent_property()?])?
    {
        let sent_by = values
            .into_iter()
            .next()
            .flatten()
            .and_then(|value| BackupJobId::new(&value).ok());
        snapshots
            .entry(snapshot.name.dataset().clone())
            .or_default()
            .push(TargetSnapshot {
                guid: snapshot.guid,
                createtxg: snapshot.createtxg,
                creation: snapshot.creation,
                held: snapshot.user_refs > 0,
                sent_by,
                name: snapshot.name,
            });
    }
    let written = PropertyName::new("written")?;
    let mut targets = Vec::with_capacity(datasets.len());
    for dataset in datasets {
        let properties = zfs.get_properties(
            &ZfsObjectName::Dataset(dataset.name.clone()),
            &[job_property()?, written.clone()],
        )?;
        let value = |index: usize| {
            properties
                .get(index)
                .and_then(|property| property.value.clone())
        };
        let mut job = value(0).and_then(|value| BackupJobId::new(&value).ok());
        let modified =
            value(1).is_some_and(|value| value.parse::<u64>().is_ok_and(|bytes| bytes > 0));
        let resume_token = zfs
            .receive_resume_token(&dataset.name)?
            .map(|token| token.as_str().to_owned());
        let dataset_snapshots = snapshots.remove(&dataset.name).unwrap_or_default();
        if job.is_none() && resume_token.is_some() && dataset_snapshots.is_empty() {
            job = Some(job_id.clone());
        }
        targets.push(TargetDataset {
            name: dataset.name,
            job,
            resume_token,
            modified,
            snapshots: dataset_snapshots,
        });
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_names_are_valid() {
        assert_eq!(job_property().expect("job").as_str(), JOB_PROPERTY);
        assert_eq!(sent_property().expect("sent").as_str(), SENT_PROPERTY);
    }
}
