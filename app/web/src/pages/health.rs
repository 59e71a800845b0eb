//! Health: the summary the front panel shows, open alerts, pools with their vdev trees and
//! last scrub, and the disks SMART reads — from `/api/v1/health`.

use leptos::prelude::*;

use super::{badge, error_note};
use crate::api::health;
use crate::app::Layout;
use crate::model::{Health, Vdev};

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

fn vdev_tree(vdevs: Vec<Vdev>) -> AnyView {
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

fn view_health(health: Health) -> impl IntoView {
    let alerts = health
        .open_alerts()
        .into_iter()
        .map(|alert| view! { <li>{badge(alert.severity.clone())} " " {alert.message.clone()}</li> })
        .collect_view();
    let pools = health
        .pools
        .into_iter()
        .map(|pool| {
            let scrub = pool.scrub.as_ref().map(|scrub| {
                let field = |key: &str| {
                    scrub
                        .get(key)
                        .map(|value| {
                            value
                                .as_str()
                                .map_or_else(|| value.to_string(), str::to_owned)
                        })
                        .unwrap_or_default()
                };
                format!(
                    "last scan: {} {} {}",
                    field("function"),
                    field("state"),
                    field("ended")
                )
            });
            view! {
                <section class="card">
                    <h2>{pool.name.clone()} " " {badge(pool.state.clone())}</h2>
                    {pool.status.clone().map(|status| view! { <p>{status}</p> })}
                    {pool.action.clone().map(|action| view! { <p class="muted">{action}</p> })}
                    <p class="muted">{scrub}</p>
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
                .and_then(|summary| summary.get("temperature_celsius"))
                .and_then(serde_json::Value::as_f64)
                .map(|celsius| format!("{celsius:.0} °C"));
            view! {
                <tr>
                    <td>{disk.identity.clone().unwrap_or_else(|| disk.device.clone())}<div class="muted small">{disk.device.clone()}</div></td>
                    <td>{badge(disk.state.clone())}</td>
                    <td>{disk.severity.clone().map(badge)}</td>
                    <td>{temperature}</td>
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
