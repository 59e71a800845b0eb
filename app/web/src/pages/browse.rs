//! Browse: the datasets, then a directory tree of the live data or of any snapshot ("as of"),
//! with breadcrumbs. Files lead to their versions; in a snapshot, folders can be restored.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::error_note;
use crate::api::{browse, datasets, snapshots};
use crate::format::{
    bytes, components, console_path_from_hex, path_from_query, path_pair, query, short_snapshot,
};
use crate::layout::Layout;

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
                                view! { <li class:chosen=chosen><a href=href>{candidate.short_name.clone()}</a> <span class="muted small">{candidate.creation.clone()}</span></li> }
                            }).collect_view();
                            view! {
                                <details class="card snapshots-picker" open=!snapshot.is_empty()>
                                    <summary>{if snapshot.is_empty() { "Viewing live data — view as of a snapshot".to_owned() } else { format!("Viewing snapshot {snapshot}") }}</summary>
                                    <ul>
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
                        Ok(list) => {
                            let rows = list.into_iter().map(|entry| {
                                let path = console_path_from_hex(&entry.path_hex);
                                let link = if entry.kind == "directory" {
                                    browse_url(&dataset, &path, &snapshot)
                                } else {
                                    super::versions::versions_url(&dataset, &path)
                                };
                                let icon = match entry.kind.as_str() { "directory" => "📁", "symlink" => "🔗", _ => "📄" };
                                view! {
                                    <tr>
                                        <td>{icon} " " <a href=link>{crate::format::visible(&entry.name).into_owned()}</a>
                                            {entry.symlink_target.clone().map(|target| view! { <span class="muted">" → " {crate::format::visible(&target).into_owned()}</span> })}</td>
                                        <td class="number">{if entry.kind == "file" { bytes(entry.size) } else { String::new() }}</td>
                                        <td>{entry.modified.clone()}</td>
                                    </tr>
                                }
                            }).collect_view();
                            view! { <table><thead><tr><th>"Name"</th><th class="number">"Size"</th><th>"Modified"</th></tr></thead><tbody>{rows}</tbody></table> }.into_any()
                        }
                        Err(error) => error_note(&error),
                    };
                    view! { {crumbs} {picker} {restore_link} <div class="card">{listing}</div> }.into_any()
                })}
            </Suspense>
        </Layout>
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
