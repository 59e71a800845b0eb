//! The dashboard: pools and their capacity, health and open alerts, the newest snapshots,
//! running tasks, and a search box — the state of the box at a glance.

use leptos::prelude::*;

use super::{badge, error_note, loading};
use crate::api::{DashboardView, dashboard};
use crate::format::bytes;
use crate::layout::Layout;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| dashboard());
    view! {
        <Layout title="Dashboard">
            <form class="search-box" method="get" action="/search">
                <input name="q" type="search" placeholder="Find a file in every snapshot…" aria-label="Search"/>
                <button type="submit">"Search"</button>
            </form>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(dashboard) => view_dashboard(dashboard).into_any(),
                        Err(error) => error_note(&error),
                    }
                })}
            </Suspense>
        </Layout>
    }
}

fn view_dashboard(dashboard: DashboardView) -> impl IntoView {
    let pools = dashboard
        .pools
        .into_iter()
        .map(|pool| {
            let width = format!("width: {}%", pool.capacity_percent.min(100));
            view! {
                <div class="card pool">
                    <h2>{pool.name.clone()} " " {badge(pool.health.clone())}</h2>
                    <div class="bar" title=format!("{}% used", pool.capacity_percent)><span style=width></span></div>
                    <p>
                        {bytes(pool.allocated)} " used of " {bytes(pool.size)} ", " {bytes(pool.free)} " free"
                        {pool.fragmentation_percent.map(|percent| format!(", {percent}% fragmented"))}
                    </p>
                </div>
            }
        })
        .collect_view();
    let health = match (dashboard.health, dashboard.health_error) {
        (Some(health), _) => {
            let alerts = health
                .alerts
                .into_iter()
                .map(|alert| {
                    let subject = super::health::subject_text(&alert.subject, &[]);
                    view! { <li>{badge(alert.severity.to_string())} " " <strong>{subject}</strong> ": " {alert.message}</li> }
                })
                .collect_view();
            let summary = &health.summary;
            view! {
                <div class="card">
                    <h2>"Health " {badge(summary.status.clone())}</h2>
                    <p>
                        {summary.disks} " disks, " {summary.pools_online} " of " {summary.pools}
                        " pools online, " {summary.active_alerts} " open alerts"
                    </p>
                    <ul class="alerts">{alerts}</ul>
                    <a href="/health">"Details"</a>
                </div>
            }
            .into_any()
        }
        (None, error) => view! {
            <div class="card"><h2>"Health"</h2><p class="muted">{error.unwrap_or_default()}</p></div>
        }
        .into_any(),
    };
    let snapshots = dashboard
        .recent_snapshots
        .into_iter()
        .map(|snapshot| {
            view! {
                <tr>
                    <td><a href=format!("/browse?dataset={}&snapshot={}", crate::format::encode(&snapshot.dataset), crate::format::encode(&snapshot.short_name))>{snapshot.name.clone()}</a></td>
                    <td>{crate::moment::moment_of(&snapshot.creation)}</td>
                    <td class="number">{bytes(snapshot.used)}</td>
                </tr>
            }
        })
        .collect_view();
    let tasks = dashboard
        .tasks
        .into_iter()
        .rev()
        .take(5)
        .map(|task| view! { <li>{badge(task.state.as_str().to_owned())} " " {task.title.clone()} " " <span class="muted">{task.message.clone()}</span></li> })
        .collect_view();
    view! {
        <section class="grid">{pools} {health}</section>
        <section class="card">
            <h2>"Newest snapshots"</h2>
            <p class="muted">{crate::format::count(dashboard.snapshot_count as u64, "snapshot", "snapshots")} " in all. " <a href="/snapshots">"Manage"</a></p>
            <table><thead><tr><th>"Snapshot"</th><th>"Created"</th><th class="number">"Used"</th></tr></thead>
            <tbody>{snapshots}</tbody></table>
        </section>
        <section class="card">
            <h2>"Recent tasks"</h2>
            <ul class="tasks-list">{tasks}</ul>
        </section>
    }
}
