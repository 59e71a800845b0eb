//! Snapshot policies: each policy as configured (dataset, tiers, pace, protections), what is
//! due, the plan of the next run — every snapshot the policies would destroy, why, and what
//! that frees — the last runs, and buttons to run the policies or prune now (after a
//! confirmation that says how many snapshots go). The policies themselves are the
//! `[[policy]]` tables of `wizfsd.toml` (docs/snapshots.md), added, changed and removed on
//! `/policies/edit` (`policy_edit.rs`).

use leptos::prelude::*;

use super::{badge, error_note, loading};
use crate::api::{PoliciesPageView, PrunePolicies, RunPolicies, policies};
use crate::format::{bytes, count, short_snapshot};
use crate::layout::Layout;
use wizfs_api::policies::{PlanView, PolicyView, RunReportView};

#[component]
pub fn PoliciesPage() -> impl IntoView {
    let run = ServerAction::<RunPolicies>::new();
    let prune = ServerAction::<PrunePolicies>::new();
    let confirming = RwSignal::new(false);
    let data = Resource::new(
        move || (run.version().get(), prune.version().get()),
        |_| policies(),
    );
    let outcome = move |result: Option<Result<RunReportView, ServerFnError>>| match result {
        Some(Ok(report)) => {
            view! { <div class="card done" role="status">{run_summary(&report)}</div> }.into_any()
        }
        Some(Err(error)) => error_note(&error),
        None => ().into_any(),
    };
    view! {
        <Layout title="Policies">
            {move || outcome(run.value().get())}
            {move || outcome(prune.value().get())}
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(view) => view_policies(view, run, prune, confirming).into_any(),
                        Err(error) => error_note(&error),
                    }
                })}
            </Suspense>
        </Layout>
    }
}

fn view_policies(
    view: PoliciesPageView,
    run: ServerAction<RunPolicies>,
    prune: ServerAction<PrunePolicies>,
    confirming: RwSignal<bool>,
) -> impl IntoView {
    if view.policies.policies.is_empty() {
        return view! {
            <p class="card muted">
                "No snapshot policy is configured yet. "
                <a href="/policies/edit" class="button primary">"Add a policy"</a>
            </p>
        }
        .into_any();
    }
    let destroy_count = view.plan.as_ref().map_or(0, |plan| plan.destroy_count);
    let cards = view
        .policies
        .policies
        .iter()
        .map(|policy| policy_card(policy, view.plan.as_ref()))
        .collect_view();
    let plan = match (&view.plan, &view.plan_error) {
        (Some(plan), _) => plan_table(plan).into_any(),
        (None, Some(error)) => {
            view! { <p class="error" role="alert">{error.clone()}</p> }.into_any()
        }
        (None, None) => ().into_any(),
    };
    let runs = view
        .policies
        .recent_runs
        .iter()
        .map(|report| view! { <li>{report.at.clone()} ": " {run_summary(report)}</li> })
        .collect_view();
    view! {
        <div class="row">
            <button class="primary" on:click=move |_| { run.dispatch(RunPolicies {}); }>"Run the policies now"</button>
            <a href="/policies/edit" class="button">"Add a policy"</a>
            {(destroy_count > 0).then(|| view! {
                <button class="danger" on:click=move |_| confirming.set(true)>
                    {format!("Prune now ({})…", count(destroy_count as u64, "snapshot", "snapshots"))}
                </button>
            })}
        </div>
        <Show when=move || confirming.get()>
            <div class="confirm" role="alertdialog" aria-label="Confirm pruning">
                <p>{format!("Destroy the {} the policies no longer keep (listed below)? This cannot be undone.", count(destroy_count as u64, "snapshot", "snapshots"))}</p>
                <button class="danger" on:click=move |_| { confirming.set(false); prune.dispatch(PrunePolicies { policy: None }); }>"Destroy them"</button>
                " "
                <button on:click=move |_| confirming.set(false)>"Cancel"</button>
            </div>
        </Show>
        <div class="grid">{cards}</div>
        <section class="card">
            <h2>"The next run"</h2>
            {plan}
        </section>
        <section class="card">
            <h2>"Last runs"</h2>
            <ul>{runs}</ul>
        </section>
    }
    .into_any()
}

/// `hourly 24, daily 7` for a policy's tiers.
fn tiers(policy: &PolicyView) -> String {
    policy
        .tiers
        .iter()
        .map(|tier| match tier.period_minutes {
            Some(minutes) => format!("{} {} (every {minutes} min)", tier.tier, tier.keep),
            None => format!("{} {}", tier.tier, tier.keep),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn policy_card(policy: &PolicyView, plan: Option<&PlanView>) -> impl IntoView {
    let due = plan.and_then(|plan| plan.due.iter().find(|due| due.policy == policy.id));
    let due_text = due.map(|due| match (&due.due, &due.at, &due.reason) {
        (true, Some(at), _) => format!("due now (the snapshot for {at})"),
        (true, None, _) => "due now".to_owned(),
        (false, Some(at), _) => format!("next snapshot for {at}"),
        (false, None, Some(reason)) => reason.clone(),
        (false, None, None) => "not due".to_owned(),
    });
    let protections = [
        policy
            .skip_empty
            .then(|| "skips snapshots with nothing written".to_owned()),
        (policy.min_keep > 0).then(|| format!("keeps at least {}", policy.min_keep)),
        policy
            .free_space_floor_percent
            .map(|floor| format!("prunes oldest-first below {floor}% free")),
        (!policy.exclude.is_empty()).then(|| format!("excludes {}", policy.exclude.join(", "))),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("; ");
    view! {
        <section class="card policy">
            <h2>{policy.id.clone()}</h2>
            <p><code>{policy.dataset.clone()}</code> {policy.recursive.then_some(" and its children")}</p>
            <p>"Keeps " {tiers(policy)} {policy.schedule.clone().map(|tier| format!("; snapshots {tier}"))}</p>
            <p class="muted small">{protections} " Times in " {policy.timezone.clone()} "."</p>
            {due_text.map(|text| view! { <p>{text}</p> })}
            <p><a href=format!("/policies/edit?id={}", policy.id) aria-label=format!("Change or remove the policy {}", policy.id)>"Change or remove"</a></p>
        </section>
    }
}

/// What a plan keeps and destroys: the snapshots it destroys, why, and what each frees.
pub(crate) fn plan_table(plan: &PlanView) -> impl IntoView {
    let destroyed: Vec<_> = plan
        .decisions
        .iter()
        .filter(|decision| decision.action == "destroy")
        .collect();
    let kept = plan.decisions.len() - destroyed.len();
    let frees: u64 = plan
        .reclaimable
        .iter()
        .map(|reclaim| reclaim.reclaimable_bytes)
        .sum();
    let errors = plan
        .errors
        .iter()
        .map(|error| view! { <p class="error" role="alert">{error.clone()}</p> })
        .collect_view();
    if destroyed.is_empty() {
        return view! {
            {errors}
            <p>{format!("Keeps all {}; destroys nothing.", count(kept as u64, "snapshot", "snapshots"))}</p>
        }
        .into_any();
    }
    let rows = destroyed
        .into_iter()
        .map(|decision| {
            let why = decision
                .reasons
                .iter()
                .map(|reason| reason.text.clone())
                .collect::<Vec<_>>()
                .join("; ");
            view! {
                <tr>
                    <td class="break"><code>{decision.dataset.clone()} "@" {short_snapshot(&decision.short_name).to_owned()}</code></td>
                    <td>{crate::moment::moment_of(&decision.time)}</td>
                    <td class="number">{decision.reclaimable_bytes.map(bytes)}</td>
                    <td class="small">{badge("destroy".into())} " " {why}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        {errors}
        <p>
            {format!("Keeps {}, destroys {}", count(kept as u64, "snapshot", "snapshots"), count(plan.destroy_count as u64, "snapshot", "snapshots"))}
            {(frees > 0).then(|| format!(", which frees {}", bytes(frees)))} "."
        </p>
        <table>
            <thead><tr><th scope="col">"Snapshot"</th><th scope="col">"For"</th><th scope="col" class="number">"Frees alone"</th><th scope="col">"Why"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// `2 snapshots taken, 1 destroyed` for a run.
fn run_summary(report: &RunReportView) -> String {
    let created: usize = report
        .policies
        .iter()
        .map(|policy| policy.created.len())
        .sum();
    let destroyed: usize = report
        .policies
        .iter()
        .map(|policy| policy.destroyed.len())
        .sum();
    let errors = report.errors.len()
        + report
            .policies
            .iter()
            .map(|policy| policy.errors.len())
            .sum::<usize>();
    let mut parts = vec![
        format!("{} taken", count(created as u64, "snapshot", "snapshots")),
        format!("{destroyed} destroyed"),
    ];
    if errors > 0 {
        parts.push(count(errors as u64, "error", "errors"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use wizfs_api::policies::{PolicyRunView, TierView};

    #[test]
    fn tiers_and_runs_in_words() {
        let policy = PolicyView {
            id: "home".into(),
            dataset: "tank/home".into(),
            recursive: false,
            exclude: Vec::new(),
            tiers: vec![
                TierView {
                    tier: "frequently".into(),
                    keep: 4,
                    period_minutes: Some(15),
                },
                TierView {
                    tier: "daily".into(),
                    keep: 7,
                    period_minutes: None,
                },
            ],
            schedule: Some("frequently".into()),
            min_keep: 0,
            skip_empty: true,
            free_space_floor_percent: None,
            timezone: "UTC".into(),
            pre_hook: Vec::new(),
            post_hook: Vec::new(),
            hook_timeout_seconds: 60,
        };
        assert_eq!(tiers(&policy), "frequently 4 (every 15 min), daily 7");
        let report = RunReportView {
            at: String::new(),
            pruned: true,
            policies: vec![PolicyRunView {
                policy: "home".into(),
                due: None,
                created: vec!["tank/home@a".into()],
                skipped: None,
                destroyed: Vec::new(),
                kept: Some(3),
                errors: vec!["one".into()],
            }],
            errors: Vec::new(),
        };
        assert_eq!(
            run_summary(&report),
            "1 snapshot taken, 0 destroyed, 1 error"
        );
    }
}
