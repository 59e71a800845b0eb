//! The recovery and search services: listings, browsing, versions, restore plans and
//! restores, text comparison, file reads, the one search (`as_of` resolved once) and index
//! reconciliation on demand — each takes a `wizfs-api` request, validates it into
//! `wizfs-core` types, runs the blocking use-case on the blocking pool and answers with a
//! `wizfs-api` view. The HTTP handlers, the console and the CLI all call these.

use wizfs_api::{
    CompareQuery, DatasetQuery, DatasetView, EntryQuery, EntryView, FileVersionView,
    IndexReportView, IndexRequest, PlanView, PoolView, ReportView, RestoreBody, RestoreTargetKind,
    SearchRequest, SearchResultsView, SnapshotView, VersionsBy, VersionsQuery, unhex,
};
use wizfs_core::restore::{DirectoryStrategy, RestoreRequest, RestoreTarget};
use wizfs_core::versions::VersionIdentity;
use wizfs_core::{DatasetName, RelativePath, SnapshotName};
use wizfs_zfs::Scope;

use crate::{ServiceError, Services};

/// Runs blocking work on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ServiceError::Internal(format!("task failed: {error}")))?
}

fn bad(error: impl std::fmt::Display) -> ServiceError {
    ServiceError::BadRequest(error.to_string())
}

/// A dataset name from a request.
pub fn dataset(text: &str) -> Result<DatasetName, ServiceError> {
    DatasetName::new(text).map_err(bad)
}

/// A snapshot of `dataset` from a short or full name.
pub fn snapshot(dataset: &DatasetName, text: &str) -> Result<SnapshotName, ServiceError> {
    let name = if text.contains('@') {
        SnapshotName::new(text)
    } else {
        dataset.snapshot(text)
    };
    let name = name.map_err(bad)?;
    if name.dataset() != dataset {
        return Err(ServiceError::BadRequest(format!(
            "snapshot {name} is not of dataset {dataset}"
        )));
    }
    Ok(name)
}

/// An entry of a request, validated.
#[derive(Debug, Clone)]
pub struct Entry {
    pub dataset: DatasetName,
    pub path: RelativePath,
    pub snapshot: Option<SnapshotName>,
}

/// A path given as `path` (UTF-8) or `path_hex` (exact bytes), or neither (the root).
fn path(text: Option<&str>, hexadecimal: Option<&str>) -> Result<RelativePath, ServiceError> {
    let bytes = match (text, hexadecimal) {
        (Some(path), None) => path.as_bytes().to_vec(),
        (None, Some(hexadecimal)) => unhex(hexadecimal)
            .ok_or_else(|| ServiceError::BadRequest("path_hex is not hexadecimal".into()))?,
        (None, None) => Vec::new(),
        (Some(_), Some(_)) => {
            return Err(ServiceError::BadRequest(
                "give path or path_hex, not both".into(),
            ));
        }
    };
    RelativePath::new(&bytes).map_err(bad)
}

/// The unique versions of a regular file as the index knows them — no snapshot mounted —
/// when the index is current for its dataset: the snapshots ZFS lists now are exactly the
/// indexed ones (by guid), and the path is a regular file in every indexed version and live
/// (directories and symlinks, whose versions the index keeps with less detail, are looked at
/// in the snapshots; see [`wizfs_index::fold_versions`]). The live file is looked at now, not
/// as the last reconciliation saw it. `None` when the index cannot answer.
fn indexed_versions(
    indexer: &wizfs_indexer::Indexer,
    zfs: &dyn wizfs_zfs::Zfs,
    recovery: &wizfs_recovery::Recovery,
    dataset: &DatasetName,
    path: &RelativePath,
) -> Result<Option<Vec<wizfs_core::versions::FileVersion>>, ServiceError> {
    let indexing = |error: wizfs_index::IndexError| ServiceError::Internal(error.to_string());
    let store = indexer.store();
    let snapshots = zfs.list_snapshots(dataset, Scope::Dataset)?;
    // The indexed dataset of that name whose snapshots are exactly ZFS's, by guid (a dataset
    // destroyed and made again under the name has other guids: not current).
    let mut current = None;
    for known in store.datasets().map_err(indexing)? {
        if known.name != dataset.as_str() {
            continue;
        }
        let indexed = store.indexed_snapshots(known.guid).map_err(indexing)?;
        if snapshots.len() == indexed.len()
            && snapshots
                .iter()
                .all(|snapshot| indexed.iter().any(|seen| seen.guid == snapshot.guid))
        {
            current = Some(known.guid);
            break;
        }
    }
    let Some(guid) = current else {
        return Ok(None);
    };
    let versions = store.versions_of(guid, path).map_err(indexing)?;
    let live = recovery.stat(dataset, None, path)?;
    let snapshots: Vec<_> = snapshots
        .into_iter()
        .map(|snapshot| (snapshot.name, snapshot.createtxg, snapshot.creation))
        .collect();
    Ok(wizfs_index::fold_versions(&snapshots, &versions, live))
}

/// Validates an entry of a request.
pub fn entry(query: &EntryQuery) -> Result<Entry, ServiceError> {
    let dataset = dataset(&query.dataset)?;
    let path = path(query.path.as_deref(), query.path_hex.as_deref())?;
    let snapshot = query
        .snapshot
        .as_deref()
        .map(|name| snapshot(&dataset, name))
        .transpose()?;
    Ok(Entry {
        dataset,
        path,
        snapshot,
    })
}

fn restore_request(body: &RestoreBody) -> Result<RestoreRequest, ServiceError> {
    let dataset = dataset(&body.dataset)?;
    let path = path(body.path.as_deref(), body.path_hex.as_deref())?;
    let snapshot = snapshot(&dataset, &body.snapshot)?;
    let target = match (body.target, &body.into) {
        (RestoreTargetKind::Copy, None) => RestoreTarget::Copy { into: None },
        (RestoreTargetKind::Copy, Some(into)) => RestoreTarget::Copy {
            into: Some(RelativePath::new(into.as_bytes()).map_err(bad)?),
        },
        (RestoreTargetKind::Original, None) => RestoreTarget::Original,
        (RestoreTargetKind::Original, Some(_)) => {
            return Err(ServiceError::BadRequest(
                "`into` only applies to copies".into(),
            ));
        }
    };
    let strategy = match body.strategy {
        wizfs_api::DirectoryStrategy::Merge => DirectoryStrategy::Merge,
        wizfs_api::DirectoryStrategy::Replace => DirectoryStrategy::Replace,
    };
    Ok(RestoreRequest {
        snapshot,
        path,
        target,
        strategy,
    })
}

impl Services {
    fn indexer(&self) -> Result<wizfs_indexer::Indexer, ServiceError> {
        self.indexer
            .clone()
            .ok_or_else(|| ServiceError::Unavailable("the search index is not open".into()))
    }

    /// The pools.
    pub async fn pools(&self) -> Result<Vec<PoolView>, ServiceError> {
        let zfs = self.zfs.clone();
        blocking(move || Ok(zfs.list_pools()?.iter().map(PoolView::from).collect())).await
    }

    /// Every filesystem and volume.
    pub async fn datasets(&self) -> Result<Vec<DatasetView>, ServiceError> {
        let zfs = self.zfs.clone();
        blocking(move || {
            Ok(zfs
                .list_datasets(None)?
                .iter()
                .map(DatasetView::from)
                .collect())
        })
        .await
    }

    /// A dataset's snapshots (with its descendants' when `recursive`).
    pub async fn snapshots(&self, query: DatasetQuery) -> Result<Vec<SnapshotView>, ServiceError> {
        let dataset = dataset(&query.dataset)?;
        let scope = if query.recursive {
            Scope::Recursive
        } else {
            Scope::Dataset
        };
        let zfs = self.zfs.clone();
        blocking(move || {
            Ok(zfs
                .list_snapshots(&dataset, scope)?
                .iter()
                .map(SnapshotView::from)
                .collect())
        })
        .await
    }

    /// A directory, live or in a snapshot.
    pub async fn browse(&self, query: EntryQuery) -> Result<Vec<EntryView>, ServiceError> {
        let entry = entry(&query)?;
        let recovery = self.recovery.clone();
        blocking(move || {
            let entries =
                recovery.list_directory(&entry.dataset, entry.snapshot.as_ref(), &entry.path)?;
            Ok(entries.iter().map(EntryView::from).collect())
        })
        .await
    }

    /// The unique versions of a file, oldest first: from the index when it is current for the
    /// dataset (by metadata; see [`indexed_versions`]), else by looking into every snapshot.
    pub async fn versions(
        &self,
        query: VersionsQuery,
    ) -> Result<Vec<FileVersionView>, ServiceError> {
        let entry = entry(&query.entry)?;
        let identity = match query.by {
            VersionsBy::Metadata => VersionIdentity::Metadata,
            VersionsBy::Content => VersionIdentity::Content,
        };
        let recovery = self.recovery.clone();
        let indexer = self.indexer.clone();
        let zfs = self.zfs.clone();
        blocking(move || {
            if identity == VersionIdentity::Metadata
                && let Some(indexer) = &indexer
                && let Some(versions) = indexed_versions(
                    indexer,
                    zfs.as_ref(),
                    &recovery,
                    &entry.dataset,
                    &entry.path,
                )?
            {
                return Ok(versions.iter().map(FileVersionView::from).collect());
            }
            let versions = recovery.versions(&entry.dataset, &entry.path, identity)?;
            Ok(versions.iter().map(FileVersionView::from).collect())
        })
        .await
    }

    /// What a restore would do.
    pub async fn restore_plan(&self, body: RestoreBody) -> Result<PlanView, ServiceError> {
        let request = restore_request(&body)?;
        let recovery = self.recovery.clone();
        blocking(move || Ok(PlanView::from(&recovery.plan(&request)?))).await
    }

    /// Restores, with its progress shown as a task.
    pub async fn restore(&self, body: RestoreBody) -> Result<ReportView, ServiceError> {
        let request = restore_request(&body)?;
        let recovery = self.recovery.clone();
        let task = self.progress.start(
            "restore",
            format!("Restore {} from {}", request.path, request.snapshot),
        );
        blocking(move || {
            let restored = recovery.restore(&request, &mut |progress| {
                task.progress(
                    progress.bytes_done,
                    progress.bytes_total,
                    progress.current.to_string(),
                );
            });
            match restored {
                Ok((plan, report)) => {
                    task.succeed(format!("{} files, {} bytes", report.files, report.bytes));
                    Ok(crate::views::restore_report(&plan, &report))
                }
                Err(error) => {
                    task.fail(error.to_string());
                    Err(error.into())
                }
            }
        })
        .await
    }

    /// A unified text diff of a file between a snapshot and another one or the live file.
    pub async fn compare(&self, query: CompareQuery) -> Result<String, ServiceError> {
        let dataset = dataset(&query.dataset)?;
        let path = path(query.path.as_deref(), query.path_hex.as_deref())?;
        let from = snapshot(&dataset, &query.from)?;
        let to = query
            .to
            .as_deref()
            .map(|name| snapshot(&dataset, name))
            .transpose()?;
        let recovery = self.recovery.clone();
        blocking(move || Ok(recovery.text_diff(&dataset, &path, Some(&from), to.as_ref())?)).await
    }

    /// A regular file's bytes, at most `limit` of them.
    pub async fn read_file(&self, entry: Entry, limit: u64) -> Result<Vec<u8>, ServiceError> {
        let recovery = self.recovery.clone();
        blocking(move || {
            Ok(recovery.read_file(&entry.dataset, entry.snapshot.as_ref(), &entry.path, limit)?)
        })
        .await
    }

    /// What kind of entry it is, if it exists.
    pub async fn entry_kind(
        &self,
        entry: Entry,
    ) -> Result<Option<wizfs_core::EntryKind>, ServiceError> {
        let recovery = self.recovery.clone();
        blocking(move || {
            Ok(recovery
                .stat(&entry.dataset, entry.snapshot.as_ref(), &entry.path)?
                .map(|metadata| metadata.kind))
        })
        .await
    }

    /// Reconciles the index with ZFS now: the datasets named (whatever the configuration
    /// says), or every one the configuration includes.
    pub async fn reindex(
        &self,
        request: IndexRequest,
    ) -> Result<Vec<IndexReportView>, ServiceError> {
        self.indexer()?;
        let only = request
            .datasets
            .iter()
            .map(|name| dataset(name))
            .collect::<Result<Vec<_>, _>>()?;
        let services = self.clone();
        let reports = blocking(move || {
            if only.is_empty() {
                services.reconcile_index()
            } else {
                services.reconcile_index_of(&|name| only.contains(name))
            }
        })
        .await?;
        Ok(reports.iter().map(crate::views::index_report).collect())
    }

    /// One search of live data and every snapshot.
    pub async fn search(&self, request: SearchRequest) -> Result<SearchResultsView, ServiceError> {
        use wizfs_index::{NameMatch, SearchQuery, Sort};
        let indexer = self.indexer()?;
        let name_match = match request.name_match {
            wizfs_api::NameMatch::Substring => NameMatch::Substring,
            wizfs_api::NameMatch::Prefix => NameMatch::Prefix,
            wizfs_api::NameMatch::Glob => NameMatch::Glob,
            wizfs_api::NameMatch::Fuzzy => NameMatch::Fuzzy,
        };
        let sort = match request.sort {
            wizfs_api::SortBy::Relevance => Sort::Relevance,
            wizfs_api::SortBy::Name => Sort::Name,
            wizfs_api::SortBy::Size => Sort::Size,
            wizfs_api::SortBy::Modified => Sort::Modified,
            wizfs_api::SortBy::Path => Sort::Path,
        };
        let kinds = request
            .kind
            .iter()
            .map(|kind| match kind {
                wizfs_api::KindFilter::File => wizfs_core::EntryKind::File,
                wizfs_api::KindFilter::Directory => wizfs_core::EntryKind::Directory,
                wizfs_api::KindFilter::Symlink => wizfs_core::EntryKind::Symlink,
            })
            .collect();
        let datasets = request
            .dataset
            .iter()
            .map(|name| dataset(name))
            .collect::<Result<Vec<_>, _>>()?;
        let only_dataset = match datasets.as_slice() {
            [one] => Some(one),
            _ => None,
        };
        let under = match (only_dataset, &request.under) {
            (Some(name), Some(under)) => Some((
                name.to_string(),
                RelativePath::new(under.as_bytes()).map_err(bad)?,
            )),
            (None, Some(_)) => {
                return Err(ServiceError::BadRequest(
                    "`under` needs exactly one `dataset`".into(),
                ));
            }
            _ => None,
        };
        // `as_of`: a full name says its dataset; a short one needs the one dataset searched.
        let as_of_snapshot = match &request.as_of {
            Some(name) => match only_dataset {
                Some(dataset) => Some(snapshot(dataset, name.trim())?),
                None if name.contains('@') => Some(SnapshotName::new(name.trim()).map_err(bad)?),
                None => {
                    return Err(ServiceError::BadRequest(
                        "`as_of` with a short snapshot name needs exactly one `dataset`".into(),
                    ));
                }
            },
            None => None,
        };
        let zfs = self.zfs.clone();
        let _turn = self
            .searches
            .clone()
            .acquire_owned()
            .await
            .map_err(|error| ServiceError::Internal(format!("search queue: {error}")))?;
        // A search of the index alone takes about a millisecond or less (glob searches over
        // 100k versions: p99 16 ms; docs/benchmarks.md) and runs right here on the caller's
        // worker thread: handing it to the blocking pool meant a wait in the run queue for
        // another thread, which on a loaded machine cost more than the search (console bench:
        // API search p50 15 -> 9 ms at 64 connections on 2 cores). `as_of` asks ZFS for the
        // snapshot first, and that may block: on the blocking pool.
        let inline = as_of_snapshot.is_none();
        let search = move || {
            let as_of = match &as_of_snapshot {
                Some(wanted) => {
                    let name = wanted.dataset();
                    let found = zfs
                        .list_snapshots(name, Scope::Dataset)?
                        .into_iter()
                        .find(|candidate| &candidate.name == wanted)
                        .ok_or_else(|| {
                            ServiceError::NotFound(format!("snapshot {wanted} does not exist"))
                        })?;
                    let guid = zfs
                        .list_datasets(Some(name))?
                        .first()
                        .map(|found| found.guid)
                        .unwrap_or_default();
                    Some((guid, found.createtxg))
                }
                None => None,
            };
            let query = SearchQuery {
                text: Some(request.q.clone()).filter(|text| !text.is_empty()),
                name_match,
                datasets: datasets.iter().map(ToString::to_string).collect(),
                under,
                kinds,
                extensions: request
                    .ext
                    .iter()
                    .map(|ext| ext.trim().trim_start_matches('.').to_owned())
                    .filter(|ext| !ext.is_empty())
                    .collect(),
                size: (request.min_size, request.max_size),
                modified: (request.modified_after, request.modified_before),
                deleted_only: request.deleted,
                as_of,
                sort,
                descending: request.descending,
                offset: request.offset,
                limit: request.limit.unwrap_or(50).clamp(1, 1000),
            };
            let results = indexer.store().search(&query).map_err(bad)?;
            Ok(crate::views::search_results(&results))
        };
        if inline {
            search()
        } else {
            blocking(search).await
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use wizfs_api::{EntryQuery, VersionsBy, VersionsQuery};
    use wizfs_core::{DatasetName, PoolName};
    use wizfs_zfs::{FakeZfs, Zfs};

    use super::*;

    fn query(path: &str, by: VersionsBy) -> VersionsQuery {
        VersionsQuery {
            entry: EntryQuery {
                dataset: "tank/home".into(),
                path: Some(path.into()),
                ..EntryQuery::default()
            },
            by,
        }
    }

    /// The index's answer is the walk's answer, for files changed, deleted, recreated and
    /// changed live since the last reconciliation; it is not given when a snapshot is not
    /// indexed yet, or for a directory.
    #[tokio::test]
    async fn versions_from_the_index_equal_the_walk_and_are_given_only_when_current() {
        let directory = tempfile::tempdir().unwrap();
        let fake = FakeZfs::open(directory.path().join("pools")).unwrap();
        fake.create_pool(&PoolName::new("tank").unwrap(), 1 << 30)
            .unwrap();
        let dataset = DatasetName::new("tank/home").unwrap();
        fake.create_filesystem(&dataset, &[]).unwrap();
        let mountpoint = fake.mountpoint(&dataset).unwrap();
        let write = |path: &str, content: &str| {
            let path = mountpoint.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, content).unwrap();
            // Distinct modification times: versions differ by metadata.
            let seconds = 1_700_000_000 + i64::try_from(content.len()).unwrap() * 1000;
            let time = std::time::UNIX_EPOCH
                + std::time::Duration::from_secs(u64::try_from(seconds).unwrap());
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(time)
                .unwrap();
        };
        let zfs: Arc<dyn Zfs> = Arc::new(fake);
        let snapshot = |name: &str| {
            zfs.create_snapshots(&[dataset.snapshot(name).unwrap()], false, &[])
                .unwrap();
        };
        write("docs/report.txt", "v1");
        write("docs/kept.txt", "same");
        snapshot("s1");
        snapshot("s2");
        write("docs/report.txt", "v2 longer");
        snapshot("s3");
        std::fs::remove_file(mountpoint.join("docs/report.txt")).unwrap();
        snapshot("s4");
        write("docs/report.txt", "v3 much longer");
        snapshot("s5");
        let store = crate::open_index(&directory.path().join("state")).unwrap();
        let services = Services::new(zfs.clone()).with_index(
            store,
            crate::config::IndexConfig::default(),
            wizfs_indexer::MethodPolicy::Walk,
        );
        services.reconcile_index().unwrap();
        // Changed live after the reconciliation: the live file is looked at now.
        write("docs/report.txt", "v4 the longest of all");

        let indexer = services.indexer.clone().unwrap();
        let from_index = |path: &str| {
            indexed_versions(
                &indexer,
                zfs.as_ref(),
                &services.recovery,
                &dataset,
                &RelativePath::new(path.as_bytes()).unwrap(),
            )
            .unwrap()
        };
        for path in ["docs/report.txt", "docs/kept.txt", "docs/never.txt"] {
            let indexed = from_index(path).expect("the index is current");
            let walked = services
                .recovery
                .versions(
                    &dataset,
                    &RelativePath::new(path.as_bytes()).unwrap(),
                    VersionIdentity::Metadata,
                )
                .unwrap();
            let view = |versions: &[wizfs_core::versions::FileVersion]| {
                versions
                    .iter()
                    .map(FileVersionView::from)
                    .collect::<Vec<_>>()
            };
            assert_eq!(view(&indexed), view(&walked), "{path}");
        }
        let report = services
            .versions(query("docs/report.txt", VersionsBy::Metadata))
            .await
            .unwrap();
        assert_eq!(report.len(), 4, "v1, v2, v3 and the live v4: {report:?}");
        assert!(report[3].is_live && report[3].sources.len() == 1);
        assert_eq!(report[0].folded_snapshots, 1, "s1 and s2 hold v1");

        // A directory: the snapshots are looked at.
        assert!(from_index("docs").is_none());
        // A snapshot the index has not seen: not current.
        snapshot("s6");
        assert!(from_index("docs/report.txt").is_none());
        let walked = services
            .versions(query("docs/report.txt", VersionsBy::Metadata))
            .await
            .unwrap();
        assert_eq!(walked.len(), 4, "s6 holds v4, the live file: {walked:?}");
    }
}
