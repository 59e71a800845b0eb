//! The `wizfs-api` views of the adapters' types (`zfs diff` entries, restore reports, search
//! results, index reports; [`health`] and [`policies`] for their own): the conversions that
//! cannot live in `wizfs-api`, which knows only `wizfs-core`.

use wizfs_api::{
    DiffEntryView, FacetView, PlanView, ReportView, SearchHitView, SearchResultsView, hex,
};

pub mod health;
pub mod policies;

/// A `zfs diff` entry as the API shows it.
pub fn diff_entry(entry: &wizfs_zfs::DiffEntry) -> DiffEntryView {
    use std::os::unix::ffi::OsStrExt;
    use wizfs_zfs::DiffChange;
    let (change, renamed_to) = match &entry.change {
        DiffChange::Removed => ("removed", None),
        DiffChange::Created => ("created", None),
        DiffChange::Modified => ("modified", None),
        DiffChange::Renamed { to } => ("renamed", Some(to.to_string_lossy().into_owned())),
    };
    DiffEntryView {
        change: change.to_owned(),
        renamed_to,
        kind: entry.kind.indicator().to_string(),
        path: entry.path.to_string_lossy().into_owned(),
        path_bytes: entry.path.as_os_str().as_bytes().to_vec(),
        changed_at: entry.changed_at_seconds,
    }
}

/// What a restore did, with its plan.
pub fn restore_report(
    plan: &wizfs_core::restore::RestorePlan,
    report: &wizfs_restore::ExecutionReport,
) -> ReportView {
    ReportView {
        plan: PlanView::from(plan),
        guard_snapshot: report.guard_snapshot.as_ref().map(ToString::to_string),
        files: report.files,
        bytes: report.bytes,
        removed: report.removed,
    }
}

/// Search results as the API shows them.
pub fn search_results(results: &wizfs_index::SearchResults) -> SearchResultsView {
    let facets = |pairs: &[(String, u64)]| -> Vec<FacetView> {
        pairs
            .iter()
            .map(|(value, count)| FacetView {
                value: value.clone(),
                count: *count,
            })
            .collect()
    };
    SearchResultsView {
        total: results.total,
        hits: results
            .hits
            .iter()
            .map(|hit| SearchHitView {
                dataset: hit.dataset.clone(),
                path: hit.path.display(),
                path_hex: hex(hit.path.as_bytes()),
                name: hit.name.clone(),
                kind: hit.kind.as_str().to_owned(),
                size: hit.size,
                modified: wizfs_core::Timestamp(hit.modified.seconds).to_string(),
                modified_unix: hit.modified.seconds,
                first_snapshot: hit.first_snapshot.clone(),
                last_snapshot: hit.last_snapshot.clone(),
                path_live: hit.path_live,
                is_live_version: hit.death.is_none(),
            })
            .collect(),
        datasets: facets(&results.facets.datasets),
        extensions: facets(&results.facets.extensions),
        years: facets(&results.facets.years),
    }
}

/// What a reconciliation did to one dataset, as the API shows it.
pub fn index_report(report: &wizfs_indexer::SyncReport) -> wizfs_api::IndexReportView {
    wizfs_api::IndexReportView {
        dataset: report.dataset.clone(),
        indexed: report.indexed.clone(),
        forgotten: report.forgotten.clone(),
        full_walks: report.full_walks,
        walked_entries: report.walked_entries,
        diffs: report.diffs,
        object_comparisons: report.object_comparisons,
        streamed_objects: report.streamed_objects,
        changed_objects: report.changed_objects,
        decoded_objects: report.decoded_objects,
        fallbacks: report.fallbacks.clone(),
        unchanged: report.unchanged,
        observed_paths: report.observed_paths,
        operations: report.operations,
        seconds: report.timings.total().as_secs_f64(),
    }
}
