//! Adding, changing or removing a notification channel (`/notifications/edit`, `?name=` to
//! change one): its kind, name and the least severity it gets, then the fields of its kind.
//! Secrets are never shown: a token or password, a webhook's URL and an ntfy topic are
//! written only when typed (left empty they stay as configured), or read from a file only
//! root can read. Save writes the `[[health.notify]]` table into `wizfsd.toml` (its comments
//! kept) once the daemon could build the channel; alerts use it from then on, and the list
//! page sends it a test message.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use wizfs_api::health::{ChannelChange, ChannelEdit, ChannelKind, Severity};

use super::{error_note, loading};
use crate::api::{ChangeChannel, notification_channels};
use crate::layout::Layout;

#[component]
pub fn ChannelEditPage() -> impl IntoView {
    let query = use_query_map();
    let name = query.read_untracked().get("name").unwrap_or_default();
    let data = Resource::new(|| (), |_| notification_channels());
    view! {
        <Layout title="Notification channel">
            <p><a href="/notifications">"← All channels"</a></p>
            <Suspense fallback=loading>
                {move || {
                    let name = name.clone();
                    Suspend::new(async move {
                        let channels = match data.await {
                            Ok(channels) => channels,
                            Err(error) => return error_note(&error),
                        };
                        if name.is_empty() {
                            return editor(None, blank(), false, false).into_any();
                        }
                        match channels.iter().find(|channel| channel.settings.name == name) {
                            Some(channel) => editor(
                                Some(name),
                                ChannelEdit::of(&channel.settings),
                                channel.settings.secret_inline,
                                channel.settings.address_set,
                            )
                            .into_any(),
                            None => view! {
                                <p class="error" role="alert">{format!("No channel `{name}` is configured.")}</p>
                            }
                            .into_any(),
                        }
                    })
                }}
            </Suspense>
        </Layout>
    }
}

fn blank() -> ChannelEdit {
    ChannelEdit {
        server: Some("https://ntfy.sh".into()),
        ..ChannelEdit::new(ChannelKind::Ntfy, "")
    }
}

/// The request a button sends: the change as JSON.
fn change_json(original: Option<String>, channel: Option<ChannelEdit>) -> String {
    serde_json::to_string(&ChannelChange { original, channel }).unwrap_or_default()
}

/// An optional text field's value: none when empty.
fn optional(text: String) -> Option<String> {
    Some(text.trim().to_owned()).filter(|text| !text.is_empty())
}

fn editor(
    original: Option<String>,
    initial: ChannelEdit,
    secret_inline: bool,
    address_set: bool,
) -> impl IntoView {
    let original_kind = initial.kind;
    let form = RwSignal::new(initial);
    let save = ServerAction::<ChangeChannel>::new();
    let confirming = RwSignal::new(false);
    let removed = RwSignal::new(false);
    let kind = move || form.with(|channel| channel.kind);
    let is_new = original.is_none();
    let original = StoredValue::new(original);
    let send = move |remove: bool| {
        let channel = (!remove).then(|| form.get());
        removed.set(remove);
        save.dispatch(ChangeChannel {
            change: change_json(original.get_value(), channel),
        });
    };
    // Whether what is configured is kept when a secret field is left empty.
    let kept = move |set: bool| set && kind() == original_kind;
    let kinds = ChannelKind::ALL
        .into_iter()
        .map(|option| {
            view! { <option value=option.as_str() selected=move || kind() == option>{option.as_str()}</option> }
        })
        .collect_view();
    let severities = [Severity::Info, Severity::Warning, Severity::Critical]
        .into_iter()
        .map(|option| {
            view! {
                <option value=option.as_str() selected=move || form.with(|channel| channel.min_severity == option)>
                    {format!("{} and worse", option.as_str())}
                </option>
            }
        })
        .collect_view();
    let outcome = move || {
        match save.value().get() {
        Some(Ok(_)) => view! {
            <div class="card done" role="status">
                {if removed.get() { "Removed from wizfsd.toml." } else { "Saved to wizfsd.toml; alerts use it from now on." }}
                " " <a href="/notifications">"Back to the channels (send a test there)"</a>
            </div>
        }
        .into_any(),
        Some(Err(error)) => error_note(&error),
        None => ().into_any(),
    }
    };
    view! {
        <form class="card stacked channel-form" on:submit=|event| event.prevent_default()>
            <h2>{if is_new { "Add a channel" } else { "Change the channel" }}</h2>
            <label for="channel-kind">"Kind"</label>
            <select id="channel-kind" on:change=move |event| {
                if let Some(kind) = ChannelKind::parse(&event_target_value(&event)) {
                    form.update(|channel| channel.kind = kind);
                }
            }>{kinds}</select>
            {field("channel-name", "Name (letters, digits, - and _)", form, |channel| Some(channel.name.clone()), |channel, text| channel.name = text.trim().to_owned())}
            <label for="channel-severity">"Alerts it gets"</label>
            <select id="channel-severity" on:change=move |event| {
                let severity = match event_target_value(&event).as_str() {
                    "info" => Severity::Info,
                    "critical" => Severity::Critical,
                    _ => Severity::Warning,
                };
                form.update(|channel| channel.min_severity = severity);
            }>{severities}</select>
            <Show when=move || kind() != ChannelKind::Webhook>
                {field("channel-server", "Server", form, |channel| channel.server.clone(), |channel, text| channel.server = optional(text))}
            </Show>
            <Show when=move || matches!(kind(), ChannelKind::Webhook | ChannelKind::Ntfy)>
                <label for="channel-address">
                    {move || if kind() == ChannelKind::Webhook { "URL it posts to" } else { "Topic" }}
                    {move || kept(address_set).then_some(" (set; empty keeps it)")}
                </label>
                {hidden("channel-address", "off", form, |channel| channel.address.clone(), |channel, text| channel.address = optional(text))}
            </Show>
            <Show when=move || kind() == ChannelKind::Email>
                {field("channel-port", "Port (empty: by the protection)", form, |channel| channel.smtp_port.map(|port| port.to_string()), |channel, text| channel.smtp_port = text.trim().parse().ok())}
                <label for="channel-security">"Protection"</label>
                <select id="channel-security" on:change=move |event| {
                    let text = event_target_value(&event);
                    form.update(|channel| channel.security = optional(text));
                }>
                    {["starttls", "tls", "none"].into_iter().map(|option| view! {
                        <option value=option selected=move || form.with(|channel| channel.security.as_deref().unwrap_or("starttls") == option)>{option}</option>
                    }).collect_view()}
                </select>
                {field("channel-username", "User (empty: none)", form, |channel| channel.username.clone(), |channel, text| channel.username = optional(text))}
                {field("channel-from", "From", form, |channel| channel.from.clone(), |channel, text| channel.from = optional(text))}
                {field("channel-to", "To (commas between addresses)", form, |channel| Some(channel.to.join(", ")), |channel, text| {
                    channel.to = text.split(',').map(str::trim).filter(|to| !to.is_empty()).map(str::to_owned).collect();
                })}
            </Show>
            <label for="channel-secret">
                {move || if kind() == ChannelKind::Email { "Password" } else { "Token" }}
                {move || kept(secret_inline).then_some(" (set; empty keeps it)")}
                " — written into wizfsd.toml, which then only root reads"
            </label>
            {hidden("channel-secret", "new-password", form, |channel| channel.secret.clone(), |channel, text| channel.secret = optional(text))}
            {field("channel-secret-file", "…or read from this file instead", form, |channel| channel.secret_file.clone(), |channel, text| channel.secret_file = optional(text))}
            <Show when=move || kept(secret_inline)>
                <div class="row">
                    <label for="channel-clear">
                        <input id="channel-clear" type="checkbox"
                            prop:checked=move || form.with(|channel| channel.clear_secret)
                            on:change=move |event| {
                                let checked = event_target_checked(&event);
                                form.update(|channel| channel.clear_secret = checked);
                            }/>
                        {move || format!("remove the {} written in the file", kind().secret_name())}
                    </label>
                </div>
            </Show>
            <div class="row">
                <button type="button" class="primary save-channel" on:click=move |_| send(false)>"Save"</button>
                {(!is_new).then(|| view! {
                    <button type="button" class="danger" on:click=move |_| confirming.set(true)>"Remove…"</button>
                })}
            </div>
            <Show when=move || confirming.get()>
                <div class="confirm" role="alertdialog" aria-label="Confirm removing the channel">
                    <p>"Remove this channel? Alerts no longer go there."</p>
                    <button type="button" class="danger" on:click=move |_| { confirming.set(false); send(true); }>"Remove it"</button>
                    " "
                    <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                </div>
            </Show>
        </form>
        {outcome}
    }
}

/// A secret's field: typed unseen, never filled from the configuration.
fn hidden(
    id: &'static str,
    autocomplete: &'static str,
    form: RwSignal<ChannelEdit>,
    get: fn(&ChannelEdit) -> Option<String>,
    set: fn(&mut ChannelEdit, String),
) -> impl IntoView {
    view! {
        <input id=id type="password" autocomplete=autocomplete
            prop:value=move || form.with(|channel| get(channel).unwrap_or_default())
            on:input=move |event| {
                let text = event_target_value(&event);
                form.update(|channel| set(channel, text));
            }/>
    }
}

fn field(
    id: &'static str,
    label: &'static str,
    form: RwSignal<ChannelEdit>,
    get: fn(&ChannelEdit) -> Option<String>,
    set: fn(&mut ChannelEdit, String),
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input id=id autocomplete="off"
            value=move || form.with(|channel| get(channel).unwrap_or_default())
            prop:value=move || form.with(|channel| get(channel).unwrap_or_default())
            on:change=move |event| {
                let text = event_target_value(&event);
                form.update(|channel| set(channel, text));
            }/>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_sent_is_the_api_request() {
        let json = change_json(None, Some(blank()));
        let change: ChannelChange = serde_json::from_str(&json).expect("reads back");
        assert_eq!(change.channel, Some(blank()));
        assert_eq!(optional("  ".into()), None);
        assert_eq!(optional(" a ".into()), Some("a".into()));
    }
}
