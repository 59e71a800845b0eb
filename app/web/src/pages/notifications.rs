//! Notification channels: each configured channel (`[[health.notify]]` of `wizfsd.toml`) —
//! its kind, where it sends (never its secrets), the least severity it gets, whether it can
//! send — with a button to send it a test message, or all of them at once, and what came of
//! it; channels are added, changed and removed on `/notifications/edit` (`channel_edit.rs`).
//! Linked from the health page.

use leptos::prelude::*;

use super::{badge, error_note, loading};
use crate::api::{TestNotifications, notification_channels};
use crate::layout::Layout;
use wizfs_api::health::{ChannelView, TestResult};

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let test = ServerAction::<TestNotifications>::new();
    let data = Resource::new(|| (), |_| notification_channels());
    view! {
        <Layout title="Notifications">
            <p class="muted">
                "Where health alerts go: the " <code>"[[health.notify]]"</code>
                " tables of wizfsd.toml (docs/health.md). Secrets are never shown here."
            </p>
            <p><a href="/notifications/edit" class="button">"Add a channel"</a></p>
            {move || test.value().get().map(|result| match result {
                Ok(results) => view! { <div class="card done" role="status">{results_view(results)}</div> }.into_any(),
                Err(error) => error_note(&error),
            })}
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(channels) if channels.is_empty() => view! {
                            <p class="card muted">"No notification channel is configured: alerts show here and on the panel only."</p>
                        }.into_any(),
                        Ok(channels) => channels_table(channels, test).into_any(),
                        Err(error) => error_note(&error),
                    }
                })}
            </Suspense>
        </Layout>
    }
}

fn results_view(results: Vec<TestResult>) -> impl IntoView {
    results
        .into_iter()
        .map(|result| {
            let outcome = match &result.error {
                None => "test message sent".to_owned(),
                Some(error) => format!("failed: {error}"),
            };
            view! {
                <p>{badge(if result.delivered { "ok".into() } else { "failed".into() })} " "
                   <strong>{result.channel.clone()}</strong> ": " {outcome}</p>
            }
        })
        .collect_view()
}

fn channels_table(
    channels: Vec<ChannelView>,
    test: ServerAction<TestNotifications>,
) -> impl IntoView {
    let rows = channels
        .into_iter()
        .map(|channel| {
            let name = channel.settings.name.clone();
            let label = format!("Send a test message to {name}");
            let change = format!("Change or remove the channel {name}");
            let edit = format!("/notifications/edit?name={name}");
            let state = match &channel.problem {
                None => view! { {badge("ok".into())} }.into_any(),
                Some(problem) => view! { {badge("failed".into())} " " <span class="small">{problem.clone()}</span> }.into_any(),
            };
            view! {
                <tr>
                    <td><strong>{channel.settings.name.clone()}</strong></td>
                    <td>{channel.settings.kind.as_str()}</td>
                    <td class="break">{channel.destination.clone()}</td>
                    <td>{format!("{} and worse", channel.settings.min_severity)}</td>
                    <td>{state}</td>
                    <td class="row-actions">
                        <button class="small" aria-label=label on:click=move |_| { test.dispatch(TestNotifications { channel: name.clone() }); }>"Send a test"</button>
                        " " <a href=edit aria-label=change>"Change"</a>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card">
            <table class="channels">
                <thead><tr>
                    <th scope="col">"Channel"</th><th scope="col">"Kind"</th><th scope="col">"Sends to"</th>
                    <th scope="col">"Alerts"</th><th scope="col">"State"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <p><button on:click=move |_| { test.dispatch(TestNotifications { channel: String::new() }); }>"Send a test to every channel"</button></p>
        </section>
    }
}
