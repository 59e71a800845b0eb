//! A file's versions and the ways back: the time-line of its unique versions (with how many
//! identical snapshots each stands for), preview, download, a diff against the live file, and
//! restores — as a copy next to it, or in place behind a guard snapshot — always planned
//! first and shown before anything is written. The directory restore page uses the same
//! panel, with merge or replace.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{badge, error_note};
use crate::api::{Compare, PlanRestore, Restore, versions};
use crate::format::{bytes, parent, path_from_query, path_pair, query, short_snapshot, shown};
use crate::forms::RestoreForm;
use crate::layout::Layout;
use wizfs_api::{FileVersionView, PlanView};

#[component]
pub fn VersionsPage() -> impl IntoView {
    let query_map = use_query_map();
    let target = Memo::new(move |_| {
        let query = query_map.read();
        (
            query.get("dataset").unwrap_or_default(),
            path_from_query(query.get("path"), query.get("path_hex")),
        )
    });
    let list = Resource::new(
        move || target.get(),
        |(dataset, path)| versions(dataset, path),
    );
    let compare = ServerAction::<Compare>::new();
    view! {
        <Layout title="Versions">
            {move || {
                let (dataset, path) = target.get();
                let folder = parent(&path);
                let link = format!("/browse{}", query(&[("dataset", &dataset), path_pair(&folder)]));
                // The folder links back; the file's own name follows it once (the name as
                // shown: a path that is not UTF-8 is carried in hexadecimal).
                let full = shown(&path);
                let name = full.rsplit_once('/').map_or(full.as_str(), |(_, name)| name).to_owned();
                view! { <p class="crumbs"><a href=link>{dataset.clone()} " / " {shown(&folder)}</a> " / " <strong id="version-path" title=full.clone()>{name}</strong></p> }
            }}
            <Suspense fallback=super::loading>
                {move || Suspend::new(async move {
                    let (dataset, path) = target.get_untracked();
                    match list.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No version of this path exists in the live data or any snapshot."</p> }.into_any(),
                        Ok(list) => {
                            let count = list.len();
                            // Comparing with the live file needs one.
                            let live_exists = list.iter().any(|version| version.is_live);
                            let cards = list.into_iter().rev().enumerate().map(|(index, version)| {
                                let snapshot = newest_snapshot(&version).map(str::to_owned);
                                let in_snapshots: Vec<String> = version.sources.iter().filter_map(|source| source.snapshot.as_deref().map(|name| short_snapshot(name).to_owned())).collect();
                                let span = match (in_snapshots.first(), in_snapshots.last()) {
                                    (Some(first), Some(last)) if first == last => format!("in snapshot {first}"),
                                    (Some(first), Some(last)) => format!("in {} snapshots, {first} … {last}", in_snapshots.len()),
                                    _ => "only live".into(),
                                };
                                let folded = (version.folded_snapshots > 0).then(|| view! {
                                    <span class="muted" title="Snapshots where this file is identical are shown as one version">
                                        " (" {version.folded_snapshots} " identical snapshots folded)"
                                    </span>
                                });
                                let state = if version.is_live { "live" } else if index == 0 { "deleted" } else { "older version" };
                                let is_file = version.kind == "file";
                                // The live version is what is there now: nothing to restore or
                                // compare; preview and download it as it is.
                                let live_actions = (version.is_live).then(|| {
                                    let entry = query(&[("dataset", &dataset), path_pair(&path)]);
                                    view! {
                                        <div class="actions">
                                            {is_file.then(|| view! { <a class="button" href=format!("/view{entry}")>"Preview"</a> })}
                                            <a class="button" href=format!("/api/v1/download{entry}")>"Download"</a>
                                        </div>
                                    }
                                });
                                let actions = snapshot.filter(|_| !version.is_live).map(|snapshot| {
                                    let entry = query(&[("dataset", &dataset), path_pair(&path), ("snapshot", &snapshot)]);
                                    let (compare_dataset, compare_path, compare_from) = (dataset.clone(), path.clone(), snapshot.clone());
                                    view! {
                                        <div class="actions">
                                            {is_file.then(|| view! { <a class="button" href=format!("/view{entry}")>"Preview"</a> })}
                                            <a class="button" href=format!("/api/v1/download{entry}")>"Download"</a>
                                            {(is_file && live_exists).then(|| view! {
                                                <button on:click=move |_| { compare.dispatch(Compare { dataset: compare_dataset.clone(), path: compare_path.clone(), from: compare_from.clone(), to: String::new() }); }>
                                                    "Compare with live"
                                                </button>
                                            })}
                                            <RestorePanel dataset=dataset.clone() path=path.clone() snapshot=snapshot.clone() directory=!is_file/>
                                        </div>
                                    }
                                });
                                view! {
                                    <li class="card version">
                                        <h2 class="version-title">{badge(state.into())} " " {if version.kind == "file" { bytes(version.size) } else { version.kind.clone() }} " · modified " <crate::moment::Moment seconds=version.modified_unix/></h2>
                                        <p class="muted">{span} {folded}</p>
                                        {live_actions}
                                        {actions}
                                    </li>
                                }
                            }).collect_view();
                            view! { <p class="muted">{crate::format::count(count as u64, "unique version", "unique versions")} ", newest first"</p> <ol class="timeline">{cards}</ol> }.into_any()
                        }
                        Err(error) => error_note(&error),
                    }
                })}
            </Suspense>
            {move || compare.value().get().map(|result| match result {
                Ok(diff) if diff.is_empty() => view! { <p class="card">"The snapshot's copy and the live file are identical."</p> }.into_any(),
                Ok(diff) => view! { <section class="card"><h2>"Differences"</h2><pre class="diff">{diff}</pre></section> }.into_any(),
                Err(error) => error_note(&error),
            })}
        </Layout>
    }
}

/// The entry a page's URL names: `(dataset, console path, snapshot)`, the snapshot empty for
/// the live data.
pub fn entry_from_query() -> Memo<(String, String, String)> {
    let query_map = use_query_map();
    Memo::new(move |_| {
        let query = query_map.read();
        (
            query.get("dataset").unwrap_or_default(),
            path_from_query(query.get("path"), query.get("path_hex")),
            query.get("snapshot").unwrap_or_default(),
        )
    })
}

#[component]
pub fn DirectoryRestorePage() -> impl IntoView {
    let target = entry_from_query();
    view! {
        <Layout title="Restore a folder">
            {move || {
                let (dataset, path, snapshot) = target.get();
                let shown = if path.is_empty() { "the whole dataset".to_owned() } else { shown(&path) };
                view! {
                    <p>"Restore " <strong>{shown}</strong> " of " {dataset.clone()} " from snapshot " <strong>{snapshot.clone()}</strong> "."</p>
                    <p class="muted">"Every restore is planned first: you see what would be written, replaced or removed before anything happens. "
                    "Restoring in place takes a guard snapshot first, so you can always go back."</p>
                    <RestorePanel dataset path snapshot directory=true/>
                }
            }}
        </Layout>
    }
}

/// Restore buttons → the plan (dry run) → confirm → the report.
#[component]
pub fn RestorePanel(
    dataset: String,
    path: String,
    snapshot: String,
    directory: bool,
) -> impl IntoView {
    let plan = ServerAction::<PlanRestore>::new();
    let run = ServerAction::<Restore>::new();
    let chosen = RwSignal::new(None::<RestoreForm>);
    let form = move |target: &str, strategy: &str| RestoreForm {
        dataset: dataset.clone(),
        snapshot: snapshot.clone(),
        path: path.clone(),
        target: target.into(),
        strategy: strategy.into(),
    };
    let choose = move |form: RestoreForm| {
        run.clear();
        chosen.set(Some(form.clone()));
        plan.dispatch(PlanRestore { form });
    };
    let (copy, in_place, replace) = (
        form("copy", ""),
        form("original", "merge"),
        form("original", "replace"),
    );
    let (choose_copy, choose_in_place, choose_replace) = (choose, choose, choose);
    view! {
        <span class="restore">
            <button class="restore-copy" on:click=move |_| choose_copy(copy.clone())>"Restore a copy…"</button>
            <button class="restore-in-place" on:click=move |_| choose_in_place(in_place.clone())>
                {if directory { "Restore in place (merge)…" } else { "Restore in place…" }}
            </button>
            {directory.then(|| view! {
                <button class="restore-replace" on:click=move |_| choose_replace(replace.clone())>"Restore in place (replace)…"</button>
            })}
        </span>
        {move || {
            if let Some(result) = run.value().get() {
                return match result {
                    Ok(report) => view! {
                        <div class="card done" role="status" id="restore-report">
                            <strong>"Restored."</strong> " " {crate::format::count(report.files, "file", "files")} ", " {bytes(report.bytes)} " written to "
                            <code>{report.plan.destination.clone()}</code>
                            {(report.removed > 0).then(|| format!(", {} removed", report.removed))}
                            {restored_links(&report.plan, directory)}
                            {report.guard_snapshot.clone().map(|guard| view! {
                                <p>"Guard snapshot taken first: " <code class="guard">{guard}</code></p>
                            })}
                        </div>
                    }.into_any(),
                    Err(error) => error_note(&error),
                };
            }
            match plan.value().get() {
                None if plan.pending().get() => view! { <p class="muted">"Planning…"</p> }.into_any(),
                None => ().into_any(),
                Some(Err(error)) => error_note(&error),
                Some(Ok(planned)) => view_plan(planned, chosen, run).into_any(),
            }
        }}
    }
}

/// Where to go after a restore: the restored file's versions (or the restored folder) and
/// the folder it is in, live.
fn restored_links(plan: &PlanView, directory: bool) -> impl IntoView {
    let restored = crate::format::console_path_from_hex(&plan.destination_hex);
    let folder = crate::format::parent(&restored);
    let browse = |path: &str| {
        format!(
            "/browse{}",
            query(&[("dataset", &plan.dataset), path_pair(path)])
        )
    };
    let open = if directory {
        view! { <a class="restored-link" href=browse(&restored)>"Open the restored folder"</a> }
            .into_any()
    } else {
        view! { <a class="restored-link" href=versions_url(&plan.dataset, &restored)>"Open the restored file"</a> }.into_any()
    };
    view! { <p>{open} " · " <a href=browse(&folder)>"Show its folder"</a></p> }
}

fn view_plan(
    planned: PlanView,
    chosen: RwSignal<Option<RestoreForm>>,
    run: ServerAction<Restore>,
) -> impl IntoView {
    let nothing = planned.actions.is_empty();
    let actions = planned
        .actions
        .iter()
        .take(200)
        .map(|action| {
            view! { <li><code>{action.action.clone()}</code> " " {action.path.clone()} {action.replaces.then_some(" (replaces the live one)")}</li> }
        })
        .collect_view();
    let more = planned.actions.len().saturating_sub(200);
    let refused = planned
        .refused
        .iter()
        .map(|refusal| view! { <li>{refusal.clone()}</li> })
        .collect_view();
    view! {
        <div class="card plan" id="restore-plan">
            <h3>"Plan"</h3>
            <p>
                "Destination " <code>{planned.destination.clone()}</code> ": " {crate::format::count(planned.files, "file", "files")} " (" {bytes(planned.bytes)} "), "
                {crate::format::count(planned.directories, "folder", "folders")} ", " {planned.replaced} " replaced, " {planned.removed} " removed, " {planned.unchanged} " already identical."
            </p>
            {planned.guard_snapshot.clone().map(|guard| view! { <p>"A guard snapshot " <code>{guard}</code> " is taken first."</p> })}
            <ul class="actions-list">{actions}</ul>
            {(more > 0).then(|| view! { <p class="muted">"… and " {more} " more"</p> })}
            {(!planned.refused.is_empty()).then(|| view! { <p>"Skipped (not regular files):"</p> <ul>{refused}</ul> })}
            {if nothing {
                view! { <p>"Nothing to do: the live data already matches."</p> }.into_any()
            } else {
                view! {
                    <button class="primary confirm-restore" disabled=move || run.pending().get()
                        on:click=move |_| { if let Some(form) = chosen.get_untracked() { run.dispatch(Restore { form }); } }>
                        {move || if run.pending().get() { "Restoring…" } else { "Confirm restore" }}
                    </button>
                }.into_any()
            }}
        </div>
    }
}

/// The newest snapshot holding `version` (the one to restore from), if any.
pub fn newest_snapshot(version: &FileVersionView) -> Option<&str> {
    version
        .sources
        .iter()
        .rev()
        .find_map(|source| source.snapshot.as_deref())
}

/// A link to this page for a (console) path.
pub fn versions_url(dataset: &str, path: &str) -> String {
    format!(
        "/versions{}",
        query(&[("dataset", dataset), path_pair(path)])
    )
}

#[cfg(test)]
mod tests {
    use wizfs_api::VersionSourceView;

    use super::*;

    #[test]
    fn the_newest_snapshot_of_a_version_is_restored_from() {
        let source = |snapshot: Option<&str>| VersionSourceView {
            snapshot: snapshot.map(str::to_owned),
            created: None,
        };
        let version = FileVersionView {
            kind: "file".into(),
            size: 1,
            modified: String::new(),
            modified_unix: 0,
            is_live: false,
            content_digest: None,
            sources: vec![source(Some("tank@a")), source(Some("tank@b")), source(None)],
            folded_snapshots: 1,
        };
        assert_eq!(newest_snapshot(&version), Some("tank@b"));
    }
}
