//! The policy views of `wizfs-api` from the planners' types of `wizfs-core` and the
//! executor's reports of `wizfs-snapshots`.

use wizfs_api::policies::{
    DecisionView, DestroyedView, DueView, PlanView, PolicyRunView, PolicyView, ReasonView,
    ReclaimView, RunReportView, TierView,
};
use wizfs_core::rotation::{Decision, DestroyReason, Due, KeepReason, PolicyId, Tier, Verdict};
use wizfs_snapshots::{PlanReport, PolicyConfig, PolicyRun, RunReport};

fn period(tier: Tier) -> Option<u32> {
    match tier {
        Tier::Frequently { period_minutes } => Some(period_minutes),
        _ => None,
    }
}

/// A configured policy.
pub fn policy(policy: &PolicyConfig) -> PolicyView {
    let retention = &policy.retention;
    PolicyView {
        id: retention.id.to_string(),
        dataset: retention.scope.dataset.to_string(),
        recursive: retention.scope.recursive,
        exclude: retention
            .scope
            .exclude
            .iter()
            .map(ToString::to_string)
            .collect(),
        tiers: retention
            .tiers
            .iter()
            .map(|rule| TierView {
                tier: rule.tier.name().to_owned(),
                keep: rule.keep,
                period_minutes: period(rule.tier),
            })
            .collect(),
        schedule: retention.schedule_tier().map(|tier| tier.name().to_owned()),
        min_keep: retention.min_keep,
        skip_empty: retention.skip_empty,
        free_space_floor_percent: retention.free_space_floor_percent,
        timezone: policy.calendar.name().to_owned(),
        pre_hook: policy.pre_hook.clone(),
        post_hook: policy.post_hook.clone(),
        hook_timeout_seconds: policy.hook_timeout.as_secs(),
    }
}

/// Whether a policy is due.
pub fn due(policy: &PolicyId, due: Option<&Due>) -> DueView {
    DueView {
        policy: policy.to_string(),
        due: due.is_some(),
        at: due.map(|due| due.at.to_string()),
        reason: due.map(|due| due.reason.describe().to_owned()),
    }
}

/// Why a snapshot is kept.
pub fn keep_reason(reason: &KeepReason) -> ReasonView {
    let (kind, policy, tier) = match reason {
        KeepReason::Tier { policy, tier } => ("tier", Some(policy), Some(tier.name())),
        KeepReason::Held => ("held", None, None),
        KeepReason::Foreign => ("foreign", None, None),
        KeepReason::Future => ("future", None, None),
        KeepReason::Minimum { policy } => ("minimum", Some(policy), None),
    };
    ReasonView {
        kind: kind.to_owned(),
        policy: policy.map(ToString::to_string),
        tier: tier.map(str::to_owned),
        text: reason.to_string(),
    }
}

/// Why a snapshot is destroyed.
pub fn destroy_reason(reason: &DestroyReason) -> ReasonView {
    let (kind, policy) = match reason {
        DestroyReason::Expired { policy } => ("expired", policy),
        DestroyReason::FreeSpace { policy, .. } => ("free_space", policy),
    };
    ReasonView {
        kind: kind.to_owned(),
        policy: Some(policy.to_string()),
        tier: None,
        text: reason.to_string(),
    }
}

/// The verdict on one snapshot, with what destroying it alone would free when estimated.
pub fn decision(decision: &Decision, reclaimable_bytes: Option<u64>) -> DecisionView {
    let (action, reasons) = match &decision.verdict {
        Verdict::Keep(reasons) => ("keep", reasons.iter().map(keep_reason).collect()),
        Verdict::Destroy(reason) => ("destroy", vec![destroy_reason(reason)]),
    };
    DecisionView {
        snapshot: decision.snapshot.to_string(),
        dataset: decision.snapshot.dataset().to_string(),
        short_name: decision.snapshot.short_name().to_owned(),
        time: decision.creation.to_string(),
        createtxg: decision.createtxg,
        used: decision.used,
        managed_by: decision.managed_by.as_ref().map(ToString::to_string),
        action: action.to_owned(),
        reasons,
        reclaimable_bytes,
    }
}

/// A dry-run plan.
pub fn plan(report: &PlanReport) -> PlanView {
    let reclaimable = report
        .reclaimable_by_dataset
        .iter()
        .map(|(dataset, bytes)| ReclaimView {
            dataset: dataset.to_string(),
            snapshots: report
                .plan
                .destroyed()
                .filter(|decision| decision.snapshot.dataset() == dataset)
                .map(|decision| decision.snapshot.to_string())
                .collect(),
            reclaimable_bytes: *bytes,
        })
        .collect();
    PlanView {
        at: report.at.to_string(),
        due: report
            .due
            .iter()
            .map(|(policy, when)| due(policy, when.as_ref()))
            .collect(),
        decisions: report
            .plan
            .decisions
            .iter()
            .map(|candidate| {
                decision(
                    candidate,
                    report.reclaimable.get(&candidate.snapshot).copied(),
                )
            })
            .collect(),
        destroy_count: report.plan.destroyed().count(),
        reclaimable,
        errors: report.errors.iter().map(ToString::to_string).collect(),
    }
}

/// What a run did for one policy.
pub fn policy_run(run: &PolicyRun) -> PolicyRunView {
    PolicyRunView {
        policy: run.policy.to_string(),
        due: run.due.map(|due| due.reason.describe().to_owned()),
        created: run.created.iter().map(ToString::to_string).collect(),
        skipped: run.skipped.as_ref().map(|skipped| skipped.describe()),
        destroyed: run
            .destroyed
            .iter()
            .map(|(snapshot, reason)| DestroyedView {
                snapshot: snapshot.to_string(),
                reason: destroy_reason(reason),
            })
            .collect(),
        kept: run.kept,
        errors: run.errors.iter().map(ToString::to_string).collect(),
    }
}

/// What one scheduler run did.
pub fn run_report(report: &RunReport) -> RunReportView {
    RunReportView {
        at: report.at.to_string(),
        pruned: report.pruned,
        policies: report.policies.iter().map(policy_run).collect(),
        errors: report.errors.iter().map(ToString::to_string).collect(),
    }
}

/// The decisions and due policies of a plan about the snapshots of `ids` only (every
/// policy still weighs in on them).
pub fn only_policies(mut view: PlanView, ids: &[String]) -> PlanView {
    view.decisions.retain(|decision| {
        decision
            .managed_by
            .as_ref()
            .is_some_and(|managed| ids.contains(managed))
    });
    view.due.retain(|due| ids.contains(&due.policy));
    view.destroy_count = view
        .decisions
        .iter()
        .filter(|decision| decision.action == "destroy")
        .count();
    view
}
