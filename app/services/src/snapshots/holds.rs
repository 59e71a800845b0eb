//! The ZFS objects beside snapshots, as services: user holds (a held snapshot cannot be
//! destroyed, by hand or by a policy), bookmarks (a send base that takes no space) and
//! `zfs diff` (what changed since a snapshot). Names are validated before ZFS is asked.

use wizfs_api::{
    BookmarkView, CreateBookmarkBody, DatasetQuery, DestroyBookmarkBody, DiffEntryView, DiffQuery,
    HoldBody, HoldView, SnapshotQuery,
};
use wizfs_core::{BookmarkName, DatasetName, SnapshotName};
use wizfs_zfs::{DiffTarget, HoldTag, Scope, Zfs};

use crate::recovery::{blocking, dataset, snapshot};
use crate::{ServiceError, Services};

fn bad(error: impl std::fmt::Display) -> ServiceError {
    ServiceError::BadRequest(error.to_string())
}

/// A snapshot named in full.
fn full_snapshot(text: &str) -> Result<SnapshotName, ServiceError> {
    SnapshotName::new(text.trim()).map_err(bad)
}

fn holds_of(zfs: &dyn Zfs, snapshot: &SnapshotName) -> Result<Vec<HoldView>, ServiceError> {
    Ok(zfs.holds(snapshot)?.iter().map(HoldView::from).collect())
}

/// The bookmarks of a dataset, and of its descendants when `recursive`.
fn bookmarks_of(
    zfs: &dyn Zfs,
    root: &DatasetName,
    recursive: bool,
) -> Result<Vec<BookmarkView>, ServiceError> {
    let datasets = if recursive {
        zfs.list_datasets(Some(root))?
            .into_iter()
            .map(|dataset| dataset.name)
            .collect()
    } else {
        vec![root.clone()]
    };
    let mut views = Vec::new();
    for dataset in &datasets {
        views.extend(zfs.list_bookmarks(dataset)?.iter().map(BookmarkView::from));
    }
    Ok(views)
}

impl Services {
    /// A snapshot's user holds.
    pub async fn holds(&self, query: SnapshotQuery) -> Result<Vec<HoldView>, ServiceError> {
        let snapshot = full_snapshot(&query.snapshot)?;
        let zfs = self.zfs.clone();
        blocking(move || holds_of(zfs.as_ref(), &snapshot)).await
    }

    /// Places a user hold; the snapshot's holds after.
    pub async fn hold(&self, body: HoldBody) -> Result<Vec<HoldView>, ServiceError> {
        self.change_hold(body, true).await
    }

    /// Releases a user hold; the snapshot's holds after.
    pub async fn release(&self, body: HoldBody) -> Result<Vec<HoldView>, ServiceError> {
        self.change_hold(body, false).await
    }

    async fn change_hold(
        &self,
        body: HoldBody,
        place: bool,
    ) -> Result<Vec<HoldView>, ServiceError> {
        let snapshot = full_snapshot(&body.snapshot)?;
        let tag = HoldTag::new(body.tag.trim()).map_err(bad)?;
        let zfs = self.zfs.clone();
        blocking(move || {
            if place {
                zfs.hold(&snapshot, &tag, body.recursive)?;
            } else {
                zfs.release(&snapshot, &tag, body.recursive)?;
            }
            tracing::info!(%snapshot, %tag, place, "hold changed by hand");
            holds_of(zfs.as_ref(), &snapshot)
        })
        .await
    }

    /// A dataset's bookmarks (and its descendants' with `recursive`).
    pub async fn bookmarks(&self, query: DatasetQuery) -> Result<Vec<BookmarkView>, ServiceError> {
        let root = dataset(query.dataset.trim())?;
        let zfs = self.zfs.clone();
        blocking(move || bookmarks_of(zfs.as_ref(), &root, query.recursive)).await
    }

    /// Bookmarks a snapshot; the dataset's bookmarks after.
    pub async fn create_bookmark(
        &self,
        body: CreateBookmarkBody,
    ) -> Result<Vec<BookmarkView>, ServiceError> {
        let snapshot = full_snapshot(&body.snapshot)?;
        let bookmark = BookmarkName::new(body.bookmark.trim()).map_err(bad)?;
        if bookmark.dataset() != snapshot.dataset() {
            return Err(ServiceError::BadRequest(format!(
                "bookmark {bookmark} is not of dataset {}, which holds {snapshot}",
                snapshot.dataset()
            )));
        }
        let zfs = self.zfs.clone();
        blocking(move || {
            zfs.create_bookmark(&snapshot, &bookmark)?;
            bookmarks_of(zfs.as_ref(), snapshot.dataset(), false)
        })
        .await
    }

    /// Destroys a bookmark; its dataset's bookmarks after.
    pub async fn destroy_bookmark(
        &self,
        body: DestroyBookmarkBody,
    ) -> Result<Vec<BookmarkView>, ServiceError> {
        let bookmark = BookmarkName::new(body.bookmark.trim()).map_err(bad)?;
        let zfs = self.zfs.clone();
        blocking(move || {
            zfs.destroy_bookmark(&bookmark)?;
            bookmarks_of(zfs.as_ref(), bookmark.dataset(), false)
        })
        .await
    }

    /// What changed between a snapshot and a later one of its dataset, or the live files.
    pub async fn diff(&self, query: DiffQuery) -> Result<Vec<DiffEntryView>, ServiceError> {
        let from = full_snapshot(&query.from)?;
        let to = query
            .to
            .as_deref()
            .map(|name| snapshot(from.dataset(), name.trim()))
            .transpose()?;
        let zfs = self.zfs.clone();
        blocking(move || {
            // A snapshot that does not exist is named as such, not as a failed diff.
            if !zfs
                .list_snapshots(from.dataset(), Scope::Dataset)?
                .iter()
                .any(|known| known.name == from)
            {
                return Err(ServiceError::NotFound(format!(
                    "snapshot {from} does not exist"
                )));
            }
            let target = match &to {
                Some(to) => DiffTarget::Snapshot(to),
                None => DiffTarget::Live,
            };
            Ok(zfs
                .diff(&from, target)?
                .iter()
                .map(crate::views::diff_entry)
                .collect())
        })
        .await
    }
}
