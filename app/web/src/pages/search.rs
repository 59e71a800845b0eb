//! Search: file names across the live data and every snapshot, deleted files included.
//! The form lives in the URL (shareable, back button works) and is rendered filled in on
//! the server (attributes) and kept in step in the browser (properties); typing in the name
//! box updates the results as you type once the page is interactive, and the plain form
//! still works before that. Facet counts narrow the search with one click.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::versions::versions_url;
use super::{badge_class, error_note};
use crate::api::{datasets, search};
use crate::format::{
    bytes, console_path_from_hex, escape_html_into, short_snapshot, shown, visible,
};
use crate::forms::SearchForm;
use crate::layout::Layout;
use wizfs_api::{FacetView as Facet, SearchHitView, SearchResultsView};

/// What the results part of the page shows. `rows` is the result table's markup, made where
/// the results were read — on the server for the first render, in the browser after each
/// new search — and left out of the data the page carries for hydration: the table is
/// already in the page, and hydration leaves it as it is. (`None` after hydration, so that
/// any later results, even an empty table, differ from it and are set.) The hits were most
/// of that data, and encoding them for it cost more than rendering them (console bench:
/// page 18.3 → 12.6 KiB, p99 about a fifth lower).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct ResultsView {
    total: u64,
    shown: usize,
    datasets: Vec<Facet>,
    extensions: Vec<Facet>,
    years: Vec<Facet>,
    #[serde(skip)]
    rows: Option<String>,
}

impl From<SearchResultsView> for ResultsView {
    fn from(results: SearchResultsView) -> Self {
        Self {
            total: results.total,
            shown: results.hits.len(),
            rows: Some(hit_rows(&results.hits)),
            datasets: results.datasets,
            extensions: results.extensions,
            years: results.years,
        }
    }
}

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
                Ok(ResultsView::default())
            } else {
                search(form).await.map(ResultsView::from)
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
                    <input name="ext" placeholder="extension" aria-label="Extension" size="8" value=move || form.read().ext.clone() prop:value=move || form.read().ext.clone()/>
                    <input name="min_size" placeholder="min size (10M)" aria-label="Smallest size" size="10" value=move || form.read().min_size.clone() prop:value=move || form.read().min_size.clone()/>
                    <input name="max_size" placeholder="max size" aria-label="Largest size" size="10" value=move || form.read().max_size.clone() prop:value=move || form.read().max_size.clone()/>
                    <label>"after " <input name="after" placeholder="YYYY-MM-DD" pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}" size="10" inputmode="numeric" value=move || form.read().after.clone() prop:value=move || form.read().after.clone()/></label>
                    <label>"before " <input name="before" placeholder="YYYY-MM-DD" pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}" size="10" inputmode="numeric" value=move || form.read().before.clone() prop:value=move || form.read().before.clone()/></label>
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
    view! { <div class="facet"><h2>{title}</h2><ul>{items}</ul></div> }.into_any()
}

/// The result table's rows as one piece of markup, every value escaped. A page of results
/// holds up to a hundred rows of static cells (links, no handlers), and building them as
/// views cost more than the search itself: as markup, the loaded search page's p99 fell by
/// a third (docs/benchmarks.md). The browser sets it as the body's `innerHTML` when results
/// change, and hydration leaves the server's rows as they are.
fn hit_rows(hits: &[SearchHitView]) -> String {
    let mut rows = String::with_capacity(hits.len() * 400);
    for hit in hits {
        let state = if !hit.path_live {
            "deleted"
        } else if !hit.is_live_version {
            "older version"
        } else {
            "live"
        };
        let size = if hit.kind == "file" {
            bytes(hit.size)
        } else {
            hit.kind.clone()
        };
        let path = console_path_from_hex(&hit.path_hex);
        rows.push_str(r#"<tr class="hit"><td><a class="hit-name" href=""#);
        escape_html_into(&mut rows, &versions_url(&hit.dataset, &path));
        rows.push_str(r#"">"#);
        escape_html_into(&mut rows, &visible(&hit.name));
        rows.push_str(r#"</a><div class="muted small">"#);
        escape_html_into(&mut rows, &hit.dataset);
        rows.push_str(" / ");
        escape_html_into(&mut rows, &shown(&path));
        rows.push_str(r#"</div></td><td><span class=""#);
        rows.push_str(badge_class(state));
        rows.push_str(r#"">"#);
        rows.push_str(state);
        rows.push_str(r#"</span></td><td class="number">"#);
        escape_html_into(&mut rows, &size);
        rows.push_str("</td><td>");
        escape_html_into(&mut rows, &hit.modified);
        rows.push_str(r#"</td><td class="small">"#);
        match (&hit.first_snapshot, &hit.last_snapshot) {
            (Some(first), Some(last)) if first == last => {
                escape_html_into(&mut rows, short_snapshot(first));
            }
            (Some(first), last) => {
                escape_html_into(&mut rows, short_snapshot(first));
                rows.push_str(" … ");
                escape_html_into(&mut rows, last.as_deref().map_or("now", short_snapshot));
            }
            (None, _) => rows.push_str("live only"),
        }
        rows.push_str("</td></tr>");
    }
    rows
}

fn view_results(form: SearchForm, results: ResultsView) -> impl IntoView {
    let (total, shown) = (results.total, results.shown);
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
                <p class="muted" id="result-count" role="status">{crate::format::count(total, "version", "versions")} " found" {((shown as u64) < total).then(|| format!(", showing {shown}"))}</p>
                <table class="hits">
                    <thead><tr><th>"Name"</th><th>"State"</th><th class="number">"Size"</th><th>"Modified"</th><th>"Snapshots"</th></tr></thead>
                    <tbody inner_html=results.rows></tbody>
                </table>
                <p class="pager">{previous} " " {next}</p>
            </section>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(name: &str, path: &str) -> SearchHitView {
        SearchHitView {
            dataset: "tank/home".into(),
            path: path.into(),
            path_hex: wizfs_api::hex(path.as_bytes()),
            name: name.into(),
            kind: "file".into(),
            size: 1536,
            modified: "2026-11-01 10:00".into(),
            modified_unix: 1_793_527_200,
            first_snapshot: Some("tank/home@a".into()),
            last_snapshot: Some("tank/home@c".into()),
            path_live: false,
            is_live_version: false,
        }
    }

    #[test]
    fn a_row_shows_the_hit_and_links_to_its_versions() {
        assert_eq!(
            hit_rows(&[hit("notes.txt", "docs/notes.txt")]),
            concat!(
                r#"<tr class="hit"><td><a class="hit-name" href="/versions?dataset=tank%2Fhome&amp;path=docs%2Fnotes.txt">notes.txt</a>"#,
                r#"<div class="muted small">tank/home / docs/notes.txt</div></td>"#,
                r#"<td><span class="badge bad">deleted</span></td><td class="number">1.5 KiB</td>"#,
                r#"<td>2026-11-01 10:00</td><td class="small">a … c</td></tr>"#,
            )
        );
    }

    #[test]
    fn rows_escape_hostile_names_and_show_each_state_and_range() {
        let hostile = r#"<img src=x onerror="alert('x')">&.txt"#;
        let mut live = hit(hostile, &format!("a\"b/{hostile}"));
        live.path_live = true;
        live.is_live_version = true;
        live.first_snapshot = Some("tank/home@a".into());
        live.last_snapshot = None;
        let mut older = hit("same", "same");
        older.path_live = true;
        older.first_snapshot = Some("tank/home@b".into());
        older.last_snapshot = Some("tank/home@b".into());
        let mut directory = hit("folder", "folder");
        directory.kind = "directory".into();
        directory.first_snapshot = None;
        directory.last_snapshot = None;
        let rows = hit_rows(&[live, older, directory]);
        assert!(!rows.contains("<img"), "{rows}");
        assert!(!rows.contains(r#"b/<"#), "{rows}");
        assert!(
            rows.contains("&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;.txt</a>")
        );
        assert!(rows.contains("tank/home / a&quot;b/&lt;img"));
        assert!(rows.contains("path=a%22b%2F%3Cimg%20src%3Dx"));
        assert!(rows.contains(r#"<span class="badge good">live</span>"#));
        assert!(rows.contains(r#"<td class="small">a … now</td>"#));
        assert!(rows.contains(r#"<span class="badge warn">older version</span>"#));
        assert!(rows.contains(r#"<td class="small">b</td>"#));
        assert!(rows.contains(r#"<td class="number">directory</td>"#));
        assert!(rows.contains(r#"<td class="small">live only</td>"#));
        assert_eq!(rows.matches(r#"<tr class="hit">"#).count(), 3);
        assert_eq!(rows.matches("</tr>").count(), 3);
    }
}
