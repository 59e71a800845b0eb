//! Snapshots of a dataset: the list (newest first, with the space each holds alone and what
//! it added), taking one now (optionally recursive, atomically), and destroying chosen ones
//! after a confirmation that says how much space that frees.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::error_note;
use crate::api::{CreateSnapshot, DestroySnapshots, Reclaimable, datasets, snapshots};
use crate::format::{bytes, encode};
use crate::layout::Layout;

#[component]
pub fn SnapshotsPage() -> impl IntoView {
    let query_map = use_query_map();
    let dataset = Memo::new(move |_| query_map.read().get("dataset").unwrap_or_default());
    let create = ServerAction::<CreateSnapshot>::new();
    let destroy = ServerAction::<DestroySnapshots>::new();
    let reclaim = ServerAction::<Reclaimable>::new();
    let list = Resource::new(
        move || {
            (
                dataset.get(),
                create.version().get(),
                destroy.version().get(),
            )
        },
        |(dataset, _, _)| async move {
            if dataset.is_empty() {
                Ok(Vec::new())
            } else {
                snapshots(dataset, true).await
            }
        },
    );
    let dataset_list = Resource::new(|| (), |_| datasets());
    let selected = RwSignal::new(Vec::<String>::new());
    let toggle = move |name: String, on: bool| {
        selected.update(|names| {
            names.retain(|other| *other != name);
            if on {
                names.push(name);
            }
        });
        reclaim.clear();
    };
    view! {
        <Layout title="Snapshots">
            <Suspense fallback=super::loading>
                {move || Suspend::new(async move {
                    let current = dataset.get_untracked();
                    match dataset_list.await {
                        Ok(list) => view! {
                            <nav class="card datasets-inline">"Dataset: "
                                {list.into_iter().map(|candidate| {
                                    let chosen = candidate.name == current;
                                    view! { <a class:chosen=chosen href=format!("/snapshots?dataset={}", encode(&candidate.name))>{candidate.name.clone()}</a> " " }
                                }).collect_view()}
                            </nav>
                        }.into_any(),
                        Err(error) => error_note(&error),
                    }
                })}
            </Suspense>
            <Show when=move || !dataset.get().is_empty() fallback=|| view! { <p class="muted">"Choose a dataset."</p> }>
                <ActionForm action=create attr:class="card row">
                    <input type="hidden" name="dataset" prop:value=move || dataset.get()/>
                    <label>"New snapshot " <input name="name" placeholder="name (e.g. before-upgrade)" required/></label>
                    <label class="check"><input type="checkbox" name="recursive" value="true"/>" with child datasets (atomic)"</label>
                    <button type="submit" class="primary">"Take snapshot"</button>
                </ActionForm>
                {move || create.value().get().map(|result| match result {
                    Ok(made) => view! { <p class="card done" role="status">"Snapshot taken: " {made.iter().map(|snapshot| snapshot.name.clone()).collect::<Vec<_>>().join(", ")}</p> }.into_any(),
                    Err(error) => error_note(&error),
                })}
                <Transition fallback=super::loading>
                    {move || Suspend::new(async move {
                        match list.await {
                            Ok(list) if list.is_empty() => view! { <p class="muted">"No snapshots yet."</p> }.into_any(),
                            Ok(list) => {
                                let rows = list.into_iter().map(|snapshot| {
                                    let name = snapshot.name.clone();
                                    let browse = format!("/browse?dataset={}&snapshot={}", encode(&snapshot.dataset), encode(&snapshot.short_name));
                                    let held = snapshot.holds > 0;
                                    view! {
                                        <tr>
                                            <td><input type="checkbox" aria-label=format!("select {name}") disabled=held
                                                prop:checked={ let name = name.clone(); move || selected.read().contains(&name) }
                                                on:change={ let name = name.clone(); move |event| toggle(name.clone(), event_target_checked(&event)) }/></td>
                                            <td><a href=browse>{snapshot.name.clone()}</a> {held.then_some(" 🔒 held")}</td>
                                            <td>{crate::moment::moment_of(&snapshot.creation)}</td>
                                            <td class="number" title="Space only this snapshot holds">{bytes(snapshot.used)}</td>
                                            <td class="number" title="Written since the previous snapshot">{bytes(snapshot.written)}</td>
                                            <td class="number">{bytes(snapshot.referenced)}</td>
                                        </tr>
                                    }
                                }).collect_view();
                                view! {
                                    <table class="card snapshots">
                                        <thead><tr><th scope="col"><span class="visually-hidden">"Select"</span></th><th>"Snapshot"</th><th>"Created"</th><th class="number">"Only here"</th><th class="number">"Written"</th><th class="number">"Refers to"</th></tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                }.into_any()
                            }
                            Err(error) => error_note(&error),
                        }
                    })}
                </Transition>
                <div class="card">
                    <button class="danger" disabled=move || selected.read().is_empty()
                        on:click=move |_| { reclaim.dispatch(Reclaimable { names: selected.get_untracked() }); }>
                        {move || format!("Destroy {} selected…", selected.read().len())}
                    </button>
                    {move || reclaim.value().get().map(|result| match result {
                        Ok(groups) => {
                            let frees: u64 = groups.iter().map(|group| group.reclaimable_bytes).sum();
                            view! {
                                <div class="confirm" role="alertdialog">
                                    <p>"Destroy " {crate::format::count(selected.read_untracked().len() as u64, "snapshot", "snapshots")} " for good? This frees " <strong>{bytes(frees)}</strong> ". Files only they hold can no longer be recovered."</p>
                                    <button class="danger confirm-destroy" on:click=move |_| {
                                        destroy.dispatch(DestroySnapshots { names: selected.get_untracked() });
                                        selected.set(Vec::new());
                                        reclaim.clear();
                                    }>"Destroy"</button>
                                    <button on:click=move |_| reclaim.clear()>"Cancel"</button>
                                </div>
                            }.into_any()
                        }
                        Err(error) => error_note(&error),
                    })}
                    {move || destroy.value().get().map(|result| match result {
                        Ok(gone) => view! { <p role="status">"Destroyed: " {gone.join(", ")}</p> }.into_any(),
                        Err(error) => error_note(&error),
                    })}
                </div>
            </Show>
        </Layout>
    }
}
