//! Adding, changing or removing a snapshot policy (`/policies/edit`, `?id=` to change one):
//! a form of the policy's settings — its hooks are programs run as root, set in the file
//! only and kept as they are —, Preview, which shows the next run's plan for the policy's
//! snapshots under the changed policies (what it keeps and destroys, why, what that frees,
//! and what a removal leaves behind), and Save, which writes exactly what was previewed into
//! `wizfsd.toml` (its comments kept); the scheduler follows from its next run. Changing the
//! form after a preview takes Save away until it is previewed again.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use wizfs_api::policies::{PolicyChange, PolicyEdit, PolicyPreviewView};

use super::policies::plan_table;
use super::{error_note, loading};
use crate::api::{ChangePolicy, PreviewPolicy, configured_policies, datasets};
use crate::layout::Layout;

#[component]
pub fn PolicyEditPage() -> impl IntoView {
    let query = use_query_map();
    let id = query.read_untracked().get("id").unwrap_or_default();
    let data = Resource::new(
        || (),
        |_| async { Ok::<_, ServerFnError>((configured_policies().await?, datasets().await?)) },
    );
    view! {
        <Layout title="Snapshot policy">
            <p><a href="/policies">"← All policies"</a></p>
            <Suspense fallback=loading>
                {move || {
                    let id = id.clone();
                    Suspend::new(async move {
                        let (view, datasets) = match data.await {
                            Ok(found) => found,
                            Err(error) => return error_note(&error),
                        };
                        let names: Vec<String> =
                            datasets.into_iter().map(|dataset| dataset.name).collect();
                        if id.is_empty() {
                            return editor(None, blank(), Vec::new(), names).into_any();
                        }
                        match view.policies.iter().find(|policy| policy.id == id) {
                            Some(policy) => {
                                let hooks = [&policy.pre_hook, &policy.post_hook]
                                    .into_iter()
                                    .filter(|hook| !hook.is_empty())
                                    .map(|hook| hook.join(" "))
                                    .collect();
                                editor(Some(id), PolicyEdit::of(policy), hooks, names).into_any()
                            }
                            None => view! {
                                <p class="error" role="alert">{format!("No policy `{id}` is configured.")}</p>
                            }
                            .into_any(),
                        }
                    })
                }}
            </Suspense>
        </Layout>
    }
}

/// A new policy's starting point: hourly for a day, daily for a week, nothing taken when
/// nothing was written.
fn blank() -> PolicyEdit {
    PolicyEdit {
        hourly: 24,
        daily: 7,
        skip_empty: true,
        ..PolicyEdit::new("", "")
    }
}

/// The request a button sends: the change as JSON.
fn change_json(original: Option<String>, policy: Option<PolicyEdit>) -> String {
    serde_json::to_string(&PolicyChange { original, policy }).unwrap_or_default()
}

fn editor(
    original: Option<String>,
    initial: PolicyEdit,
    hooks: Vec<String>,
    datasets: Vec<String>,
) -> impl IntoView {
    let form = RwSignal::new(initial);
    let preview = ServerAction::<PreviewPolicy>::new();
    let save = ServerAction::<ChangePolicy>::new();
    // The change the shown preview is of; Save sends exactly that.
    let previewed = RwSignal::new(None::<String>);
    let removing = RwSignal::new(false);
    let is_new = original.is_none();
    let original = StoredValue::new(original);
    let current = move || {
        let policy = (!removing.get()).then(|| form.get());
        change_json(original.get_value(), policy)
    };
    let ask = move |remove: bool| {
        removing.set(remove);
        let change = current();
        previewed.set(Some(change.clone()));
        preview.dispatch(PreviewPolicy { change });
    };
    let fresh = move || previewed.get().is_some_and(|change| change == current());
    let outcome = move || match save.value().get() {
        Some(Ok(_)) => view! {
            <div class="card done" role="status">
                "Saved to wizfsd.toml; the scheduler follows it from its next run. "
                <a href="/policies">"Back to the policies"</a>
            </div>
        }
        .into_any(),
        Some(Err(error)) => error_note(&error),
        None => ().into_any(),
    };
    let options = datasets
        .into_iter()
        .map(|name| view! { <option value=name.clone()></option> })
        .collect_view();
    let hooks_note = (!hooks.is_empty()).then(|| {
        view! {
            <p class="muted small">
                "Its hooks (" <code>{hooks.join("; ")}</code>
                ") are set in wizfsd.toml only and stay as they are."
            </p>
        }
    });
    view! {
        <form class="card stacked policy-form" on:submit=|event| event.prevent_default()>
            <h2>{if is_new { "Add a policy" } else { "Change the policy" }}</h2>
            {text_field("policy-id", "Id (in snapshot names: wizfs-<id>-<time>)", form, |policy| &policy.id, |policy, value| policy.id = value)}
            <label for="policy-dataset">"Dataset"</label>
            <input id="policy-dataset" list="policy-datasets" autocomplete="off"
                value=move || form.with(|policy| policy.dataset.clone())
                prop:value=move || form.with(|policy| policy.dataset.clone())
                on:input=move |event| form.update(|policy| policy.dataset = event_target_value(&event))/>
            <datalist id="policy-datasets">{options}</datalist>
            <div class="row">
                {check("policy-recursive", "and its children (one atomic snapshot of them all)", form, |policy| policy.recursive, |policy, value| policy.recursive = value)}
            </div>
            <label for="policy-exclude">"Leave out (children, one per line)"</label>
            <textarea id="policy-exclude" rows="2"
                prop:value=move || form.with(|policy| policy.exclude.join("\n"))
                on:change=move |event| form.update(|policy| {
                    policy.exclude = event_target_value(&event)
                        .lines()
                        .map(str::trim)
                        .filter(|line| !line.is_empty())
                        .map(str::to_owned)
                        .collect();
                })>{form.with_untracked(|policy| policy.exclude.join("\n"))}</textarea>
            <fieldset>
                <legend>"Keep the newest snapshot of each of the last …"</legend>
                <div class="tiers">
                    {number("policy-frequently", "periods", form, |policy| policy.frequently, |policy, value| policy.frequently = value)}
                    {number("policy-period", "minutes a period", form, |policy| policy.frequent_period_minutes, |policy, value| policy.frequent_period_minutes = value)}
                    {number("policy-hourly", "hours", form, |policy| policy.hourly, |policy, value| policy.hourly = value)}
                    {number("policy-daily", "days", form, |policy| policy.daily, |policy, value| policy.daily = value)}
                    {number("policy-weekly", "weeks", form, |policy| policy.weekly, |policy, value| policy.weekly = value)}
                    {number("policy-monthly", "months", form, |policy| policy.monthly, |policy, value| policy.monthly = value)}
                    {number("policy-yearly", "years", form, |policy| policy.yearly, |policy, value| policy.yearly = value)}
                </div>
                <p class="muted small">"Snapshots are taken at the pace of the shortest tier kept; 0 keeps none of a tier."</p>
            </fieldset>
            <fieldset>
                <legend>"Protections"</legend>
                {number("policy-min-keep", "keep at least this many in any case", form, |policy| policy.min_keep, |policy, value| policy.min_keep = value)}
                <div class="row">
                    {check("policy-skip-empty", "take no snapshot when nothing was written", form, |policy| policy.skip_empty, |policy, value| policy.skip_empty = value)}
                </div>
                <label for="policy-floor">"Prune oldest first below this much free space (%; empty: never)"</label>
                <input id="policy-floor" type="number" min="1" max="99" inputmode="numeric"
                    prop:value=move || form.with(|policy| policy.free_space_floor_percent.map(|percent| percent.to_string()).unwrap_or_default())
                    on:change=move |event| {
                        let text = event_target_value(&event);
                        form.update(|policy| policy.free_space_floor_percent = text.trim().parse().ok());
                    }/>
                <label for="policy-zone">"Time zone of the days, weeks and months (IANA name such as UTC; empty: the appliance's)"</label>
                <input id="policy-zone" placeholder="Europe/Berlin" autocomplete="off"
                    prop:value=move || form.with(|policy| policy.timezone.clone().unwrap_or_default())
                    on:input=move |event| {
                        let text = event_target_value(&event);
                        form.update(|policy| policy.timezone = Some(text.trim().to_owned()).filter(|zone| !zone.is_empty()));
                    }/>
            </fieldset>
            {hooks_note}
            <div class="row">
                <button type="button" class="primary preview-policy" on:click=move |_| ask(false)>"Preview"</button>
                {(!is_new).then(|| view! {
                    <button type="button" class="danger remove-policy" on:click=move |_| ask(true)>"Remove…"</button>
                })}
            </div>
        </form>
        {outcome}
        {move || match preview.value().get() {
            Some(Ok(view)) if fresh() => preview_view(view, removing.get(), save, previewed).into_any(),
            Some(Ok(_)) => view! {
                <p class="card muted" role="status">"The form changed since its preview: preview it again to save it."</p>
            }.into_any(),
            Some(Err(error)) => error_note(&error),
            None => ().into_any(),
        }}
    }
}

fn preview_view(
    view: PolicyPreviewView,
    removing: bool,
    save: ServerAction<ChangePolicy>,
    previewed: RwSignal<Option<String>>,
) -> impl IntoView {
    let notes = view
        .notes
        .iter()
        .map(|note| view! { <p>{note.clone()}</p> })
        .collect_view();
    let due = view.plan.due.first().map(|due| match (&due.due, &due.at) {
        (true, Some(at)) => format!("Its next run takes the snapshot for {at}."),
        (true, None) => "Its next run takes a snapshot.".to_owned(),
        (false, Some(at)) => format!("Its next snapshot is for {at}."),
        (false, None) => due.reason.clone().unwrap_or_default(),
    });
    let label = if removing { "Remove it" } else { "Save" };
    view! {
        <section class="card policy-preview" role="status">
            <h2>{if removing { "If it is removed" } else { "If it is saved" }}</h2>
            {due.map(|due| view! { <p>{due}</p> })}
            {plan_table(&view.plan)}
            {notes}
            <button class=if removing { "danger save-policy" } else { "primary save-policy" }
                on:click=move |_| {
                    if let Some(change) = previewed.get() {
                        save.dispatch(ChangePolicy { change });
                    }
                }>{label}</button>
        </section>
    }
}

fn text_field(
    id: &'static str,
    label: &'static str,
    form: RwSignal<PolicyEdit>,
    get: fn(&PolicyEdit) -> &String,
    set: fn(&mut PolicyEdit, String),
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input id=id autocomplete="off"
            value=move || form.with(|policy| get(policy).clone())
            prop:value=move || form.with(|policy| get(policy).clone())
            on:input=move |event| {
                let text = event_target_value(&event);
                form.update(|policy| set(policy, text));
            }/>
    }
}

/// A count; what is not a number leaves the count as it was.
fn number(
    id: &'static str,
    label: &'static str,
    form: RwSignal<PolicyEdit>,
    get: fn(&PolicyEdit) -> u32,
    set: fn(&mut PolicyEdit, u32),
) -> impl IntoView {
    view! {
        <label for=id>{label}
            <input id=id type="number" min="0" max="100000" inputmode="numeric"
                value=move || form.with(|policy| get(policy).to_string())
                prop:value=move || form.with(|policy| get(policy).to_string())
                on:change=move |event| {
                    let text = event_target_value(&event);
                    let value = if text.trim().is_empty() { Some(0) } else { text.trim().parse().ok() };
                    if let Some(value) = value {
                        form.update(|policy| set(policy, value));
                    }
                }/>
        </label>
    }
}

fn check(
    id: &'static str,
    label: &'static str,
    form: RwSignal<PolicyEdit>,
    get: fn(&PolicyEdit) -> bool,
    set: fn(&mut PolicyEdit, bool),
) -> impl IntoView {
    view! {
        <label for=id>
            <input id=id type="checkbox"
                checked=move || form.with(get)
                prop:checked=move || form.with(get)
                on:change=move |event| {
                    let checked = event_target_checked(&event);
                    form.update(|policy| set(policy, checked));
                }/>
            {label}
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_sent_is_the_api_request() {
        let json = change_json(Some("home".into()), None);
        let change: PolicyChange = serde_json::from_str(&json).expect("reads back");
        assert_eq!(
            change,
            PolicyChange {
                original: Some("home".into()),
                policy: None
            }
        );
        let json = change_json(None, Some(blank()));
        let change: PolicyChange = serde_json::from_str(&json).expect("reads back");
        assert_eq!(change.policy, Some(blank()));
    }
}
