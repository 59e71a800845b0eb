//! Health: the summary the front panel shows, open alerts (each naming its subject, with a
//! button to acknowledge it), pools with their vdev trees, last scrub, capacity history and a
//! button to scrub now, and the disks SMART reads with their temperature history and buttons
//! to start a short or long self-test (plus the pool devices SMART cannot reach) — the API's
//! health view, history series and health actions.

use leptos::prelude::*;

use super::{badge, error_note, open_alerts};
use crate::api::{AcknowledgeAlert, StartScrub, StartSelfTest, health, health_history};
use crate::format::polyline;
use crate::layout::Layout;
use wizfs_api::health::{DiskView, HealthView, PoolStatusView, Subject, VdevView};

/// What an alert is about, for a person: the disk by model, serial and device, the pool, the
/// vdev in its pool, the sensor or the collector.
pub fn subject_text(subject: &Subject, disks: &[DiskView]) -> String {
    match subject {
        Subject::Disk { disk } => {
            let known = disks.iter().find(|view| view.disk.as_ref() == Some(disk));
            let model = known
                .and_then(|view| view.summary.as_ref())
                .and_then(|summary| summary.model.clone());
            match (known, model) {
                (Some(view), Some(model))
                    if !matches!(disk, wizfs_api::health::DiskId::ModelSerial { .. }) =>
                {
                    format!("Disk {model} ({}, {disk})", view.device)
                }
                (Some(view), _) => format!("Disk {disk} ({})", view.device),
                (None, _) => format!("Disk {disk}"),
            }
        }
        Subject::Pool { pool } => format!("Pool {pool}"),
        Subject::Vdev { pool, vdev } => format!("Pool {pool}, device {vdev}"),
        Subject::Sensor { sensor } => format!("Sensor {sensor}"),
        Subject::Collector { collector } => format!("Monitoring ({collector})"),
        Subject::Backup { job } => format!("Backup job {job}"),
    }
}

/// The leaf devices of the pools' vdev trees that no SMART reading stands for (a virtual
/// disk, a USB bridge without SAT passthrough): (pool, device, state).
pub fn pool_devices_without_smart(
    pools: &[PoolStatusView],
    disks: &[DiskView],
) -> Vec<(String, String, String)> {
    fn leaves<'a>(vdevs: &'a [VdevView], out: &mut Vec<&'a VdevView>) {
        for vdev in vdevs {
            if vdev.children.is_empty() {
                out.push(vdev);
            } else {
                leaves(&vdev.children, out);
            }
        }
    }
    let base = |path: &str| path.rsplit('/').next().unwrap_or(path).to_owned();
    let read: Vec<String> = disks.iter().map(|disk| base(&disk.device)).collect();
    let mut missing = Vec::new();
    for pool in pools {
        let mut found = Vec::new();
        leaves(&pool.vdevs, &mut found);
        for leaf in found {
            // A partition (sda1, nvme0n1p1) belongs to its disk's reading.
            let name = base(&leaf.name);
            let covered = read.iter().any(|disk| {
                name == *disk
                    || name.strip_prefix(disk.as_str()).is_some_and(|rest| {
                        let rest = rest.strip_prefix('p').unwrap_or(rest);
                        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())
                    })
            });
            if !covered {
                missing.push((pool.name.clone(), leaf.name.clone(), leaf.state.clone()));
            }
        }
    }
    missing
}

/// The page's buttons: acknowledge an alert, scrub a pool, test a disk.
#[derive(Clone, Copy)]
struct Actions {
    acknowledge: ServerAction<AcknowledgeAlert>,
    scrub: ServerAction<StartScrub>,
    test: ServerAction<StartSelfTest>,
}

#[component]
pub fn HealthPage() -> impl IntoView {
    let actions = Actions {
        acknowledge: ServerAction::new(),
        scrub: ServerAction::new(),
        test: ServerAction::new(),
    };
    let data = Resource::new(
        move || {
            (
                actions.acknowledge.version().get(),
                actions.scrub.version().get(),
                actions.test.version().get(),
            )
        },
        |_| health(),
    );
    let said = |result: Option<Result<String, ServerFnError>>| match result {
        Some(Ok(message)) => view! { <p class="notice" role="status">{message}</p> }.into_any(),
        Some(Err(error)) => error_note(&error),
        None => ().into_any(),
    };
    view! {
        <Layout title="Health">
            {move || said(actions.scrub.value().get())}
            {move || said(actions.test.value().get())}
            {move || actions.acknowledge.value().get().and_then(Result::err).map(|error| error_note(&error))}
            <Suspense fallback=super::loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(health) => view_health(health, actions).into_any(),
                        Err(error) => error_note(&error),
                    }
                })}
            </Suspense>
        </Layout>
    }
}

/// The API's word for a value of one of its enums (`pool_state`).
fn wire_word(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|word| word.as_str().map(str::to_owned))
        .unwrap_or_default()
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

fn view_health(health: HealthView, actions: Actions) -> impl IntoView {
    let alerts = open_alerts(&health.alerts)
        .into_iter()
        .map(|alert| {
            let subject = subject_text(&alert.subject, &health.disks);
            let acknowledge = match alert.acknowledged {
                Some(_) => view! { " " <span class="badge" title="No reminders until it gets worse">"acknowledged"</span> }.into_any(),
                None => {
                    let body = (serde_json::to_string(&alert.subject).unwrap_or_default(), wire_word(&alert.kind));
                    let label = format!("Acknowledge: {subject}");
                    view! {
                        " " <button class="small" aria-label=label on:click=move |_| {
                            actions.acknowledge.dispatch(AcknowledgeAlert { subject: body.0.clone(), kind: body.1.clone() });
                        }>"Acknowledge"</button>
                    }.into_any()
                }
            };
            view! { <li>{badge(alert.severity.to_string())} " " <strong>{subject.clone()}</strong> ": " {alert.message.clone()} {acknowledge}</li> }
        })
        .collect_view();
    let unread = pool_devices_without_smart(&health.pools, &health.disks)
        .into_iter()
        .map(|(pool, device, state)| {
            view! {
                <tr>
                    <td>{device}<div class="muted small">"in pool " {pool}</div></td>
                    <td><span class="badge">"no SMART"</span></td>
                    <td>{badge(state)}</td>
                    <td></td>
                    <td class="small">"SMART does not reach this device (a virtual disk, or a USB bridge without SAT); ZFS's own error counters above still watch it."</td>
                    <td></td>
                </tr>
            }
        })
        .collect_view();
    let pools = health
        .pools
        .into_iter()
        .map(|pool| {
            let scrub = pool.scrub.as_ref().map(|scrub| {
                view! {
                    {format!("last scan: {} {} ", scrub.function, scrub.state)}
                    {scrub.ended.as_deref().map(crate::moment::moment_of)}
                }
            });
            let scanning = pool.scrub.as_ref().is_some_and(|scan| scan.state == "scanning");
            let name = pool.name.clone();
            let scrub_button = (!scanning).then(|| view! {
                <button class="scrub" on:click=move |_| { actions.scrub.dispatch(StartScrub { pool: name.clone() }); }>"Scrub now"</button>
            });
            view! {
                <section class="card">
                    <h2>{pool.name.clone()} " " {badge(pool.state.clone())}</h2>
                    {scrub_button}
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
            let tests = disk.identity.clone().filter(|_| disk.state == "read").map(|identity| {
                let (short, long) = (identity.clone(), identity);
                view! {
                    <button class="small" on:click=move |_| { actions.test.dispatch(StartSelfTest { disk: short.clone(), kind: "short".into() }); }>"Short test"</button>
                    " "
                    <button class="small" on:click=move |_| { actions.test.dispatch(StartSelfTest { disk: long.clone(), kind: "long".into() }); }>"Long test"</button>
                }
            });
            view! {
                <tr>
                    <td class="break">{disk.identity.clone().unwrap_or_else(|| disk.device.clone())}<div class="muted small">{disk.device.clone()}</div></td>
                    <td>{badge(disk.state.clone())}</td>
                    <td>{disk.severity.map(|severity| badge(severity.to_string()))}</td>
                    <td>{temperature} {disk.identity.clone().map(|identity| view! {
                        <HistoryChart metric=format!("disk/{identity}/temperature") unit="°C"/>
                    })}</td>
                    <td class="small">{disk.messages.join("; ")}</td>
                    <td class="nowrap">{tests}</td>
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
            <p><a href="/notifications">"Where alerts are sent"</a></p>
            <p class="muted">"Checked " <crate::moment::Moment seconds=health.checked_at_unix/></p>
            <ul class="alerts">{alerts}</ul>
            <ul class="muted">{problems}</ul>
        </section>
        {pools}
        <section class="card">
            <h2>"Disks"</h2>
            <table><thead><tr><th scope="col">"Disk"</th><th scope="col">"SMART"</th><th scope="col">"Finding"</th><th scope="col">"Temperature"</th><th scope="col">"Notes"</th><th scope="col">"Self-test"</th></tr></thead><tbody>{disks}{unread}</tbody></table>
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
                let span = chart_range(low, high, unit);
                let label = format!("{}, last 7 days: {span}", chart_subject(&series.metric));
                let title = label.clone();
                view! {
                    <span class="chart" title=title>
                        <svg width="160" height="32" viewBox="-2 -2 164 36" role="img" aria-label=label>
                            <polyline points=line fill="none" stroke="currentColor" stroke-width="1.5"/>
                        </svg>
                        <span class="muted small">"7 days: " {span}</span>
                    </span>
                }.into_any()
            })}
        </Suspense>
    }
}

/// A chart's range as people read it: `50 °C` when flat, else `45–50 °C`.
fn chart_range(low: f64, high: f64, unit: &str) -> String {
    if format!("{low:.0}") == format!("{high:.0}") {
        format!("{high:.0} {unit}")
    } else {
        format!("{low:.0}–{high:.0} {unit}")
    }
}

/// What a history series measures, for its chart's label.
fn chart_subject(metric: &str) -> String {
    if let Some(pool) = metric
        .strip_prefix("pool/")
        .and_then(|rest| rest.strip_suffix("/capacity_percent"))
    {
        format!("Capacity of {pool}")
    } else if let Some(disk) = metric
        .strip_prefix("disk/")
        .and_then(|rest| rest.strip_suffix("/temperature"))
    {
        format!("Temperature of {disk}")
    } else {
        metric.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wizfs_api::health::DiskId;

    fn vdev(name: &str, children: Vec<VdevView>) -> VdevView {
        VdevView {
            name: name.into(),
            state: "ONLINE".into(),
            read_errors: 0,
            write_errors: 0,
            checksum_errors: 0,
            note: None,
            children,
        }
    }

    #[test]
    fn charts_say_what_and_how_much() {
        assert_eq!(chart_range(50.2, 49.8, "°C"), "50 °C");
        assert_eq!(chart_range(45.0, 50.0, "°C"), "45–50 °C");
        assert_eq!(
            chart_subject("pool/tank/capacity_percent"),
            "Capacity of tank"
        );
        assert_eq!(
            chart_subject("disk/wwn-0x5/temperature"),
            "Temperature of wwn-0x5"
        );
        assert_eq!(chart_subject("sensor/x"), "sensor/x");
    }

    #[test]
    fn subjects_name_the_disk_pool_or_device() {
        let disks = Vec::new();
        let disk = DiskId::Wwn("5000c500a1b2c3d4".into());
        assert_eq!(
            subject_text(&Subject::Disk { disk }, &disks),
            "Disk wwn-0x5000c500a1b2c3d4"
        );
        assert_eq!(
            subject_text(
                &Subject::Vdev {
                    pool: "tank".into(),
                    vdev: "sdb".into()
                },
                &disks
            ),
            "Pool tank, device sdb"
        );
    }

    #[test]
    fn pool_devices_smart_cannot_read_are_listed() {
        let disk = DiskView {
            device: "/dev/sda".into(),
            device_type: None,
            protocol: None,
            state: "read".into(),
            disk: None,
            identity: None,
            severity: None,
            summary: None,
            messages: Vec::new(),
            read_at: String::new(),
            read_at_unix: 0,
        };
        let pool = PoolStatusView {
            name: "tank".into(),
            state: "ONLINE".into(),
            status: None,
            action: None,
            capacity_percent: None,
            fragmentation_percent: None,
            data_errors: None,
            scrub: None,
            vdevs: vec![vdev(
                "mirror-0",
                vec![
                    vdev("sda1", vec![]),
                    vdev("vdb", vec![]),
                    vdev("/dev/disk/by-id/usb-X", vec![]),
                ],
            )],
            severity: None,
        };
        let missing: Vec<String> = pool_devices_without_smart(&[pool], &[disk])
            .into_iter()
            .map(|(pool, device, _)| format!("{pool}:{device}"))
            .collect();
        assert_eq!(missing, ["tank:vdb", "tank:/dev/disk/by-id/usb-X"]);
    }
}
