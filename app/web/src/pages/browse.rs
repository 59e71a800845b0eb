//! Browse: the datasets, then a directory tree of the live data or of any snapshot ("as of"),
//! with breadcrumbs. Folders first, sorted by name, size or modification time (either way,
//! kept in the URL); files lead to their versions and can be previewed or downloaded from
//! their row, folders downloaded as a ZIP; in a snapshot, folders can be restored.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::error_note;
use crate::api::{browse, datasets, snapshots};
use crate::format::{
    bytes, components, console_path_from_hex, path_from_query, path_pair, query, short_snapshot,
};
use crate::layout::Layout;
use wizfs_api::EntryView;

/// A link to this page for a (console) path.
fn browse_url(dataset: &str, path: &str, snapshot: &str) -> String {
    format!(
        "/browse{}",
        query(&[
            ("dataset", dataset),
            path_pair(path),
            ("snapshot", snapshot)
        ])
    )
}

/// What a listing is sorted by (`?sort=`), folders always first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Size,
    Modified,
}

impl SortKey {
    /// The key a `?sort=` word names; anything else sorts by name.
    pub fn from_word(word: &str) -> Self {
        match word {
            "size" => Self::Size,
            "modified" => Self::Modified,
            _ => Self::Name,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Size => "size",
            Self::Modified => "modified",
        }
    }
}

/// Sorts a listing: folders first, then by `key` (names without regard to case, ties by
/// name), reversed within each group when `descending`.
pub fn sort_entries(entries: &mut [EntryView], key: SortKey, descending: bool) {
    entries.sort_by(|a, b| {
        let folders_first = (b.kind == "directory").cmp(&(a.kind == "directory"));
        let by_name = || {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then_with(|| a.name.cmp(&b.name))
        };
        let by_key = match key {
            SortKey::Name => by_name(),
            SortKey::Size => a.size.cmp(&b.size).then_with(by_name),
            SortKey::Modified => a.modified_unix.cmp(&b.modified_unix).then_with(by_name),
        };
        folders_first.then(if descending { by_key.reverse() } else { by_key })
    });
}

/// A small line icon for an entry's kind (the emoji of old rendered as empty boxes where the
/// system has no emoji font).
fn kind_icon(kind: &str) -> impl IntoView {
    let (label, shape) = match kind {
        "directory" => ("folder", "M1.5 3.5h5l1.5 1.5h6.5v8h-13z"),
        "symlink" => ("link", "M2 8h10M9 4.5 12.5 8 9 11.5"),
        _ => ("file", "M3.5 1.5h6l3 3v10h-9z M9.5 1.5v3h3"),
    };
    view! {
        <svg class="icon" viewBox="0 0 16 16" role="img" aria-label=label>
            <path d=shape/>
        </svg>
    }
}

#[component]
pub fn BrowsePage() -> impl IntoView {
    let query_map = use_query_map();
    let location = Memo::new(move |_| {
        let query = query_map.read();
        (
            query.get("dataset").unwrap_or_default(),
            path_from_query(query.get("path"), query.get("path_hex")),
            query.get("snapshot").unwrap_or_default(),
        )
    });
    let order = Memo::new(move |_| {
        let query = query_map.read();
        (
            SortKey::from_word(&query.get("sort").unwrap_or_default()),
            query.get("order").is_some_and(|order| order == "desc"),
        )
    });
    let entries = Resource::new(
        move || location.get(),
        |(dataset, path, snapshot)| async move {
            if dataset.is_empty() {
                Ok(Vec::new())
            } else {
                browse(dataset, path, snapshot).await
            }
        },
    );
    let snapshot_list = Resource::new(
        move || location.get().0,
        |dataset| async move {
            if dataset.is_empty() {
                Ok(Vec::new())
            } else {
                snapshots(dataset, false).await
            }
        },
    );
    let dataset_list = Resource::new(|| (), |_| datasets());
    view! {
        <Layout title="Browse">
            <Suspense fallback=super::loading>
                {move || Suspend::new(async move {
                    let (dataset, path, snapshot) = location.get_untracked();
                    let (sort, descending) = order.get_untracked();
                    if dataset.is_empty() {
                        return match dataset_list.await {
                            Ok(list) => view! {
                                <ul class="card datasets">
                                    {list.into_iter().map(|dataset| view! {
                                        <li><a href=browse_url(&dataset.name, "", "")>{dataset.name.clone()}</a>
                                        " " <span class="muted">{bytes(dataset.used)} " used"</span></li>
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(error) => error_note(&error),
                        };
                    }
                    let crumbs = breadcrumbs(&dataset, &path, &snapshot);
                    let picker = match snapshot_list.await {
                        Ok(list) => {
                            let options = list.into_iter().map(|candidate| {
                                let chosen = candidate.short_name == snapshot;
                                let href = browse_url(&dataset, &path, &candidate.short_name);
                                view! { <li class:chosen=chosen><a href=href>{candidate.short_name.clone()}</a> <span class="muted small">{crate::moment::moment_of(&candidate.creation)}</span></li> }
                            }).collect_view();
                            view! {
                                <details class="card snapshots-picker" open=!snapshot.is_empty()>
                                    <summary>{if snapshot.is_empty() { "Viewing live data — view as of a snapshot".to_owned() } else { format!("Viewing snapshot {snapshot}") }}</summary>
                                    <ul aria-label="View this folder as of">
                                        <li class:chosen=snapshot.is_empty()><a href=browse_url(&dataset, &path, "")>"live"</a></li>
                                        {options}
                                    </ul>
                                </details>
                            }.into_any()
                        }
                        Err(error) => error_note(&error),
                    };
                    let restore_link = (!snapshot.is_empty()).then(|| view! {
                        <p><a class="button" href=format!("/restore{}", query(&[("dataset", &dataset), path_pair(&path), ("snapshot", &snapshot)]))>
                            "Restore this folder from " {snapshot.clone()} "…"</a></p>
                    });
                    let listing = match entries.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"This folder is empty."</p> }.into_any(),
                        Ok(mut list) => {
                            sort_entries(&mut list, sort, descending);
                            let summary = listing_summary(&list);
                            let rows = list.into_iter().map(|entry| entry_row(&dataset, &snapshot, entry)).collect_view();
                            let heading = |key: SortKey, label: &'static str, class: &'static str| {
                                let chosen = key == sort;
                                let next_descending = chosen && !descending;
                                let href = format!("{}&sort={}{}", browse_url(&dataset, &path, &snapshot), key.word(), if next_descending { "&order=desc" } else { "" });
                                let aria_sort = chosen.then_some(if descending { "descending" } else { "ascending" });
                                let arrow = chosen.then_some(if descending { " ↓" } else { " ↑" });
                                view! { <th scope="col" class=class aria-sort=aria_sort><a href=href>{label}{arrow}</a></th> }
                            };
                            view! {
                                <p class="muted small">{summary}</p>
                                <table class="listing">
                                    <thead><tr>
                                        {heading(SortKey::Name, "Name", "")}
                                        {heading(SortKey::Size, "Size", "number")}
                                        {heading(SortKey::Modified, "Modified", "")}
                                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                    </tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            }.into_any()
                        }
                        Err(error) => error_note(&error),
                    };
                    view! { {crumbs} {picker} {restore_link} <div class="card">{listing}</div> }.into_any()
                })}
            </Suspense>
        </Layout>
    }
}

/// `3 folders, 12 files, 1.2 GiB` for a listing.
fn listing_summary(entries: &[EntryView]) -> String {
    let folders = entries
        .iter()
        .filter(|entry| entry.kind == "directory")
        .count();
    let files = entries.iter().filter(|entry| entry.kind == "file").count();
    let others = entries.len() - folders - files;
    let total: u64 = entries
        .iter()
        .filter(|entry| entry.kind == "file")
        .map(|entry| entry.size)
        .sum();
    let mut parts = vec![
        crate::format::count(folders as u64, "folder", "folders"),
        format!(
            "{} ({})",
            crate::format::count(files as u64, "file", "files"),
            bytes(total)
        ),
    ];
    if others > 0 {
        parts.push(crate::format::count(others as u64, "other", "others"));
    }
    parts.join(", ")
}

/// One row: icon and name (folders open, files lead to their versions), size, modified,
/// and the row's actions.
fn entry_row(dataset: &str, snapshot: &str, entry: EntryView) -> impl IntoView {
    let path = console_path_from_hex(&entry.path_hex);
    let is_folder = entry.kind == "directory";
    let is_file = entry.kind == "file";
    let link = if is_folder {
        browse_url(dataset, &path, snapshot)
    } else {
        super::versions::versions_url(dataset, &path)
    };
    let name = crate::format::visible(&entry.name).into_owned();
    let target = query(&[
        ("dataset", dataset),
        path_pair(&path),
        ("snapshot", snapshot),
    ]);
    let actions = if is_file {
        view! {
            <a href=format!("/view{target}") aria-label=format!("Preview {name}")>"Preview"</a>
            " · "
            <a href=format!("/api/v1/download{target}") aria-label=format!("Download {name}")>"Download"</a>
        }
        .into_any()
    } else if is_folder {
        view! {
            <a href=format!("/api/v1/download{target}&format=zip") aria-label=format!("Download {name} as a ZIP")>"ZIP"</a>
        }
        .into_any()
    } else {
        ().into_any()
    };
    view! {
        <tr>
            <td class="break">{kind_icon(&entry.kind)} " " <a href=link>{name.clone()}</a>
                {entry.symlink_target.clone().map(|target| view! { <span class="muted">" → " {crate::format::visible(&target).into_owned()}</span> })}</td>
            <td class="number">{if is_file { bytes(entry.size) } else { String::new() }}</td>
            <td class="nowrap"><crate::moment::Moment seconds=entry.modified_unix/></td>
            <td class="row-actions">{actions}</td>
        </tr>
    }
}

fn breadcrumbs(dataset: &str, path: &str, snapshot: &str) -> impl IntoView {
    let mut crumbs = vec![view! { <a href="/browse">"datasets"</a> }.into_any()];
    crumbs.push(
        view! { " / " <a href=browse_url(dataset, "", snapshot)>{dataset.to_owned()}</a> }
            .into_any(),
    );
    for (so_far, component) in components(path) {
        crumbs.push(
            view! { " / " <a href=browse_url(dataset, &so_far, snapshot)>{component}</a> }
                .into_any(),
        );
    }
    let at = (!snapshot.is_empty()).then(|| format!(" @ {}", short_snapshot(snapshot)));
    view! { <nav class="crumbs" aria-label="Breadcrumbs">{crumbs} <span class="muted">{at}</span></nav> }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, kind: &str, size: u64, modified_unix: i64) -> EntryView {
        EntryView {
            name: name.into(),
            path: format!("/{name}"),
            path_hex: String::new(),
            kind: kind.into(),
            size,
            allocated: 0,
            mode: 0,
            uid: 0,
            gid: 0,
            modified: String::new(),
            modified_unix,
            links: 1,
            symlink_target: None,
        }
    }

    #[test]
    fn folders_first_then_the_chosen_key_either_way() {
        let listing = || {
            vec![
                entry("b.txt", "file", 10, 300),
                entry("Zeta", "directory", 0, 100),
                entry("a.txt", "file", 30, 100),
                entry("alpha", "directory", 0, 200),
                entry("C.txt", "file", 20, 200),
                entry("link", "symlink", 5, 50),
            ]
        };
        for (key, descending, expected) in [
            (
                SortKey::Name,
                false,
                ["alpha", "Zeta", "a.txt", "b.txt", "C.txt", "link"],
            ),
            (
                SortKey::Name,
                true,
                ["Zeta", "alpha", "link", "C.txt", "b.txt", "a.txt"],
            ),
            (
                SortKey::Size,
                false,
                ["alpha", "Zeta", "link", "b.txt", "C.txt", "a.txt"],
            ),
            (
                SortKey::Modified,
                true,
                ["alpha", "Zeta", "b.txt", "C.txt", "a.txt", "link"],
            ),
        ] {
            let mut entries = listing();
            sort_entries(&mut entries, key, descending);
            let names: Vec<&str> = entries.iter().map(|entry| entry.name.as_str()).collect();
            assert_eq!(names, expected, "{key:?} descending {descending}");
        }
        assert_eq!(SortKey::from_word("size"), SortKey::Size);
        assert_eq!(SortKey::from_word("<script>"), SortKey::Name);
    }

    #[test]
    fn a_listing_is_summed_up() {
        let entries = [
            entry("a", "directory", 0, 0),
            entry("b", "file", 1024, 0),
            entry("c", "file", 512, 0),
            entry("d", "symlink", 9, 0),
        ];
        assert_eq!(
            listing_summary(&entries),
            "1 folder, 2 files (1.5 KiB), 1 other"
        );
        assert_eq!(listing_summary(&[]), "0 folders, 0 files (0 B)");
    }
}
