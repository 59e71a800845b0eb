//! Search: file names across the live data and every snapshot, deleted files included.
//! The form lives in the URL (shareable, back button works) and is rendered filled in on
//! the server (attributes) and kept in step in the browser (properties); typing in the name
//! box updates the results as you type once the page is interactive, and the plain form
//! still works before that. Facet counts narrow the search with one click.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::{badge, error_note};
use crate::api::{datasets, search};
use crate::app::Layout;
use crate::format::{bytes, encode};
use crate::model::{Facet, SearchForm, SearchResults};

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let form = Memo::new(move |_| {
        let query = query.read();
        SearchForm::from_query(|key| query.get(key))
    });
    let results = Resource::new(
        move || form.get(),
        |form| async move {
            if form.is_empty() {
                Ok(SearchResults::default())
            } else {
                search(form).await
            }
        },
    );
    let dataset_list = Resource::new(|| (), |_| datasets());
    let navigate = use_navigate();
    let on_type = move |event: leptos::ev::Event| {
        let mut next = form.get_untracked();
        next.q = event_target_value(&event);
        next.page = 0;
        navigate(
            &next.url(),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    let selected = move |field: fn(&SearchForm) -> &str, value: &'static str| {
        move || field(&form.read()) == value
    };
    view! {
        <Layout title="Search">
            <form class="card filters" method="get" action="/search">
                <div class="row">
                    <input id="search-q" name="q" type="search" placeholder="File name (part, prefix*, glob, or fuzzy)"
                        aria-label="File name" autofocus value=move || form.read().q.clone() prop:value=move || form.read().q.clone() on:input=on_type/>
                    <select name="match" aria-label="How names match">
                        <option value="" selected=selected(|form| &form.r#match, "")>"contains"</option>
                        <option value="prefix" selected=selected(|form| &form.r#match, "prefix")>"starts with"</option>
                        <option value="glob" selected=selected(|form| &form.r#match, "glob")>"glob (*.jpg)"</option>
                        <option value="fuzzy" selected=selected(|form| &form.r#match, "fuzzy")>"about (typos)"</option>
                    </select>
                    <button type="submit" class="primary">"Search"</button>
                </div>
                <div class="row">
                    <select name="dataset" aria-label="Dataset">
                        <option value="">"all datasets"</option>
                        <Suspense>
                            {move || Suspend::new(async move {
                                dataset_list.await.unwrap_or_default().into_iter().map(|dataset| {
                                    let chosen = form.read_untracked().dataset == dataset.name;
                                    view! { <option value=dataset.name.clone() selected=chosen>{dataset.name.clone()}</option> }
                                }).collect_view()
                            })}
                        </Suspense>
                    </select>
                    <select name="type" aria-label="Type">
                        <option value="" selected=selected(|form| &form.r#type, "")>"any type"</option>
                        <option value="file" selected=selected(|form| &form.r#type, "file")>"files"</option>
                        <option value="directory" selected=selected(|form| &form.r#type, "directory")>"folders"</option>
                        <option value="symlink" selected=selected(|form| &form.r#type, "symlink")>"links"</option>
                    </select>
                    <input name="ext" placeholder="extension" size="8" value=move || form.read().ext.clone() prop:value=move || form.read().ext.clone()/>
                    <input name="min_size" placeholder="min size (10M)" size="10" value=move || form.read().min_size.clone() prop:value=move || form.read().min_size.clone()/>
                    <input name="max_size" placeholder="max size" size="10" value=move || form.read().max_size.clone() prop:value=move || form.read().max_size.clone()/>
                    <label>"after " <input name="after" type="date" value=move || form.read().after.clone() prop:value=move || form.read().after.clone()/></label>
                    <label>"before " <input name="before" type="date" value=move || form.read().before.clone() prop:value=move || form.read().before.clone()/></label>
                    <label class="check"><input id="search-deleted" name="deleted" type="checkbox" value="true" checked=move || form.read().deleted prop:checked=move || form.read().deleted/>" deleted files only"</label>
                    <select name="sort" aria-label="Sort">
                        <option value="" selected=selected(|form| &form.sort, "")>"best match"</option>
                        <option value="modified" selected=selected(|form| &form.sort, "modified")>"newest"</option>
                        <option value="size" selected=selected(|form| &form.sort, "size")>"largest"</option>
                        <option value="name" selected=selected(|form| &form.sort, "name")>"name"</option>
                    </select>
                </div>
            </form>
            <Transition fallback=super::loading>
                {move || Suspend::new(async move {
                    let form = form.get_untracked();
                    match results.await {
                        Ok(results) if form.is_empty() => {
                            let _ = results;
                            view! { <p class="muted">"Type a name: every snapshot is searched, deleted files too."</p> }.into_any()
                        }
                        Ok(results) => view_results(form, results).into_any(),
                        Err(error) => error_note(&error),
                    }
                })}
            </Transition>
        </Layout>
    }
}

fn facet_list(
    title: &'static str,
    facets: Vec<Facet>,
    apply: impl Fn(&mut SearchForm, &str),
    form: &SearchForm,
) -> AnyView {
    let items = facets
        .into_iter()
        .map(|facet| {
            let mut narrowed = form.clone();
            apply(&mut narrowed, &facet.value);
            narrowed.page = 0;
            view! { <li><a href=narrowed.url()>{facet.value.clone()}</a> " " <span class="count">{facet.count}</span></li> }
        })
        .collect_view();
    view! { <div class="facet"><h3>{title}</h3><ul>{items}</ul></div> }.into_any()
}

fn view_results(form: SearchForm, results: SearchResults) -> impl IntoView {
    let total = results.total;
    let shown = results.hits.len();
    let hits = results
        .hits
        .into_iter()
        .map(|hit| {
            let state = if !hit.path_live {
                "deleted"
            } else if !hit.is_live_version {
                "older version"
            } else {
                "live"
            };
            let versions = format!(
                "/versions?dataset={}&path={}",
                encode(&hit.dataset),
                encode(&hit.path)
            );
            let range = match (&hit.first_snapshot, &hit.last_snapshot) {
                (Some(first), Some(last)) if first == last => crate::format::short_snapshot(first).to_owned(),
                (Some(first), Some(last)) => format!(
                    "{} … {}",
                    crate::format::short_snapshot(first),
                    crate::format::short_snapshot(last)
                ),
                (Some(first), None) => format!("{} … now", crate::format::short_snapshot(first)),
                _ => "live only".into(),
            };
            // One text per cell: every dynamic piece costs the renderer a node of its own.
            let location = format!("{} / {}", hit.dataset, hit.path);
            let size = if hit.kind == "file" { bytes(hit.size) } else { hit.kind };
            view! {
                <tr class="hit">
                    <td><a class="hit-name" href=versions>{hit.name}</a><div class="muted small">{location}</div></td>
                    <td>{badge(state.into())}</td>
                    <td class="number">{size}</td>
                    <td>{hit.modified}</td>
                    <td class="small">{range}</td>
                </tr>
            }
        })
        .collect_view();
    let previous = (form.page > 0).then(|| {
        let mut previous = form.clone();
        previous.page -= 1;
        view! { <a href=previous.url()>"← previous"</a> }
    });
    let next = ((form.page + 1) * SearchForm::PAGE_SIZE < total as usize).then(|| {
        let mut next = form.clone();
        next.page += 1;
        view! { <a href=next.url()>"next →"</a> }
    });
    view! {
        <div class="results">
            <aside>
                {facet_list("Datasets", results.datasets, |form, value| form.dataset = value.into(), &form)}
                {facet_list("Extensions", results.extensions, |form, value| form.ext = value.into(), &form)}
                {facet_list("Years", results.years, |form, value| {
                    form.after = format!("{value}-01-01");
                    form.before = value.parse::<u32>().map(|year| format!("{}-01-01", year + 1)).unwrap_or_default();
                }, &form)}
            </aside>
            <section>
                <p class="muted" id="result-count">{total} " versions found" {((shown as u64) < total).then(|| format!(", showing {shown}"))}</p>
                <table class="hits">
                    <thead><tr><th>"Name"</th><th>"State"</th><th class="number">"Size"</th><th>"Modified"</th><th>"Snapshots"</th></tr></thead>
                    <tbody>{hits}</tbody>
                </table>
                <p class="pager">{previous} " " {next}</p>
            </section>
        </div>
    }
}
