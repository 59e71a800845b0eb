//! Health: the summary the front panel shows, open alerts, pools with their vdev trees,
//! last scrub and capacity history, and the disks SMART reads with their temperature
//! history — the API's health view and history series.

use leptos::prelude::*;

use super::{badge, error_note, open_alerts};
use crate::api::{health, health_history};
use crate::format::polyline;
use crate::layout::Layout;
use wizfs_api::health::{HealthView, VdevView};

#[component]
pub fn HealthPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| health());
    view! {
        <Layout title="Health">
            <Suspense fallback=super::loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(health) => view_health(health).into_any(),
                        Err(error) => error_note(&error),
                    }
                })}
            </Suspense>
        </Layout>
    }
}

fn vdev_tree(vdevs: Vec<VdevView>) -> AnyView {
    let items = vdevs
        .into_iter()
        .map(|vdev| {
            let errors = vdev.read_errors + vdev.write_errors + vdev.checksum_errors;
            view! {
                <li>
                    <code>{vdev.name.clone()}</code> " " {badge(vdev.state.clone())}
                    {(errors > 0).then(|| format!(" read {} / write {} / checksum {} errors", vdev.read_errors, vdev.write_errors, vdev.checksum_errors))}
                    {vdev.note.clone().map(|note| view! { <span class="muted">" " {note}</span> })}
                    {(!vdev.children.is_empty()).then(|| vdev_tree(vdev.children.clone()))}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="vdevs">{items}</ul> }.into_any()
}

fn view_health(health: HealthView) -> impl IntoView {
    let alerts = open_alerts(&health.alerts)
        .into_iter()
        .map(|alert| view! { <li>{badge(alert.severity.to_string())} " " {alert.message.clone()}</li> })
        .collect_view();
    let pools = health
        .pools
        .into_iter()
        .map(|pool| {
            let scrub = pool.scrub.as_ref().map(|scrub| {
                format!(
                    "last scan: {} {} {}",
                    scrub.function,
                    scrub.state,
                    scrub.ended.as_deref().unwrap_or_default()
                )
            });
            view! {
                <section class="card">
                    <h2>{pool.name.clone()} " " {badge(pool.state.clone())}</h2>
                    {pool.status.clone().map(|status| view! { <p>{status}</p> })}
                    {pool.action.clone().map(|action| view! { <p class="muted">{action}</p> })}
                    <p class="muted">{scrub}</p>
                    <HistoryChart metric=format!("pool/{}/capacity_percent", pool.name) unit="%"/>
                    {vdev_tree(pool.vdevs)}
                </section>
            }
        })
        .collect_view();
    let disks = health
        .disks
        .into_iter()
        .map(|disk| {
            let temperature = disk
                .summary
                .as_ref()
                .and_then(|summary| summary.temperature_celsius)
                .map(|celsius| format!("{celsius:.0} °C"));
            view! {
                <tr>
                    <td>{disk.identity.clone().unwrap_or_else(|| disk.device.clone())}<div class="muted small">{disk.device.clone()}</div></td>
                    <td>{badge(disk.state.clone())}</td>
                    <td>{disk.severity.map(|severity| badge(severity.to_string()))}</td>
                    <td>{temperature} {disk.identity.clone().map(|identity| view! {
                        <HistoryChart metric=format!("disk/{identity}/temperature") unit="°C"/>
                    })}</td>
                    <td class="small">{disk.messages.join("; ")}</td>
                </tr>
            }
        })
        .collect_view();
    let problems = health
        .problems
        .into_iter()
        .map(|problem| view! { <li>{problem}</li> })
        .collect_view();
    view! {
        <section class="card">
            <h2>"Overall " {badge(health.summary.status.clone())}</h2>
            <p class="muted">"Checked " {health.checked_at.clone()}</p>
            <ul class="alerts">{alerts}</ul>
            <ul class="muted">{problems}</ul>
        </section>
        {pools}
        <section class="card">
            <h2>"Disks"</h2>
            <table><thead><tr><th>"Disk"</th><th>"SMART"</th><th>"Finding"</th><th>"Temperature"</th><th>"Notes"</th></tr></thead><tbody>{disks}</tbody></table>
        </section>
    }
}

/// A week of one series as a small line chart with its range (nothing when unrecorded).
#[component]
fn HistoryChart(metric: String, unit: &'static str) -> impl IntoView {
    let series = Resource::new(move || metric.clone(), |metric| health_history(metric, 96));
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let Ok(series) = series.await else { return ().into_any() };
                let values: Vec<(i64, f64)> = series.points.iter().map(|point| (point.time, point.average)).collect();
                let (line, range) = polyline(&values, 160.0, 32.0);
                let Some((low, high)) = range else { return ().into_any() };
                view! {
                    <span class="chart" title=format!("{}: last 7 days, {low:.0}–{high:.0} {unit}", series.metric)>
                        <svg width="160" height="32" viewBox="-2 -2 164 36" role="img" aria-label=format!("{} history", series.metric)>
                            <polyline points=line fill="none" stroke="currentColor" stroke-width="1.5"/>
                        </svg>
                        <span class="muted small">{format!("{low:.0}–{high:.0} {unit}")}</span>
                    </span>
                }.into_any()
            })}
        </Suspense>
    }
}
