//! Wire types of snapshot policies, rotation plans and scheduler runs, as the API and
//! `wizfs --json` present them. The planners' types in `wizfs-core` and the executor's
//! reports in `wizfs-snapshots` stay free of serialization; they are converted here.

use serde::{Deserialize, Serialize};
use wizfs_core::rotation::{Decision, DestroyReason, Due, KeepReason, Tier, Verdict};
use wizfs_snapshots::{PlanReport, PolicyConfig, PolicyRun, RunReport};

/// One tier of a policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TierView {
    /// `frequently`, `hourly`, `daily`, `weekly`, `monthly` or `yearly`.
    pub tier: String,
    /// How many buckets keep their newest snapshot.
    pub keep: u32,
    /// The length of a `frequently` bucket.
    pub period_minutes: Option<u32>,
}

/// A configured policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyView {
    pub id: String,
    pub dataset: String,
    pub recursive: bool,
    pub exclude: Vec<String>,
    pub tiers: Vec<TierView>,
    /// The tier whose buckets set the pace of snapshots.
    pub schedule: Option<String>,
    pub min_keep: u32,
    pub skip_empty: bool,
    pub free_space_floor_percent: Option<u8>,
    pub timezone: String,
    pub pre_hook: Vec<String>,
    pub post_hook: Vec<String>,
    pub hook_timeout_seconds: u64,
}

fn period(tier: Tier) -> Option<u32> {
    match tier {
        Tier::Frequently { period_minutes } => Some(period_minutes),
        _ => None,
    }
}

impl From<&PolicyConfig> for PolicyView {
    fn from(policy: &PolicyConfig) -> Self {
        let retention = &policy.retention;
        Self {
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
}

/// Whether a policy is due.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DueView {
    pub policy: String,
    pub due: bool,
    /// The time the next snapshot stands for (its name carries it).
    pub at: Option<String>,
    pub reason: Option<String>,
}

impl DueView {
    pub fn new(policy: &wizfs_core::rotation::PolicyId, due: Option<&Due>) -> Self {
        Self {
            policy: policy.to_string(),
            due: due.is_some(),
            at: due.map(|due| due.at.to_string()),
            reason: due.map(|due| due.reason.describe().to_owned()),
        }
    }
}

/// Why a snapshot is kept or destroyed, for people (`text`) and programs (`kind`, `policy`,
/// `tier`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReasonView {
    /// `tier`, `held`, `foreign`, `future`, `minimum`, `expired` or `free_space`.
    pub kind: String,
    pub policy: Option<String>,
    pub tier: Option<String>,
    pub text: String,
}

impl From<&KeepReason> for ReasonView {
    fn from(reason: &KeepReason) -> Self {
        let (kind, policy, tier) = match reason {
            KeepReason::Tier { policy, tier } => ("tier", Some(policy), Some(tier.name())),
            KeepReason::Held => ("held", None, None),
            KeepReason::Foreign => ("foreign", None, None),
            KeepReason::Future => ("future", None, None),
            KeepReason::Minimum { policy } => ("minimum", Some(policy), None),
        };
        Self {
            kind: kind.to_owned(),
            policy: policy.map(ToString::to_string),
            tier: tier.map(str::to_owned),
            text: reason.to_string(),
        }
    }
}

impl From<&DestroyReason> for ReasonView {
    fn from(reason: &DestroyReason) -> Self {
        let (kind, policy) = match reason {
            DestroyReason::Expired { policy } => ("expired", policy),
            DestroyReason::FreeSpace { policy, .. } => ("free_space", policy),
        };
        Self {
            kind: kind.to_owned(),
            policy: Some(policy.to_string()),
            tier: None,
            text: reason.to_string(),
        }
    }
}

/// The verdict on one snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionView {
    pub snapshot: String,
    pub dataset: String,
    pub short_name: String,
    /// The time it stands for.
    pub time: String,
    pub createtxg: u64,
    pub used: u64,
    pub managed_by: Option<String>,
    /// `keep` or `destroy`.
    pub action: String,
    pub reasons: Vec<ReasonView>,
    /// What destroying it alone would free (`zfs destroy -nvp`), when estimated.
    pub reclaimable_bytes: Option<u64>,
}

impl DecisionView {
    pub fn new(decision: &Decision, reclaimable_bytes: Option<u64>) -> Self {
        let (action, reasons) = match &decision.verdict {
            Verdict::Keep(reasons) => ("keep", reasons.iter().map(ReasonView::from).collect()),
            Verdict::Destroy(reason) => ("destroy", vec![ReasonView::from(reason)]),
        };
        Self {
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
}

/// What destroying snapshots of one dataset together would free.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReclaimView {
    pub dataset: String,
    pub snapshots: Vec<String>,
    pub reclaimable_bytes: u64,
}

/// A dry-run plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanView {
    pub at: String,
    pub due: Vec<DueView>,
    pub decisions: Vec<DecisionView>,
    pub destroy_count: usize,
    /// Per dataset, what the planned destroys free together.
    pub reclaimable: Vec<ReclaimView>,
    pub errors: Vec<String>,
}

impl From<&PlanReport> for PlanView {
    fn from(report: &PlanReport) -> Self {
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
        Self {
            at: report.at.to_string(),
            due: report
                .due
                .iter()
                .map(|(policy, due)| DueView::new(policy, due.as_ref()))
                .collect(),
            decisions: report
                .plan
                .decisions
                .iter()
                .map(|decision| {
                    DecisionView::new(
                        decision,
                        report.reclaimable.get(&decision.snapshot).copied(),
                    )
                })
                .collect(),
            destroy_count: report.plan.destroyed().count(),
            reclaimable,
            errors: report.errors.iter().map(ToString::to_string).collect(),
        }
    }
}

/// A snapshot destroyed by a run, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DestroyedView {
    pub snapshot: String,
    pub reason: ReasonView,
}

/// What a run did for one policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyRunView {
    pub policy: String,
    pub due: Option<String>,
    pub created: Vec<String>,
    pub skipped: Option<String>,
    pub destroyed: Vec<DestroyedView>,
    pub kept: Option<usize>,
    pub errors: Vec<String>,
}

impl From<&PolicyRun> for PolicyRunView {
    fn from(run: &PolicyRun) -> Self {
        Self {
            policy: run.policy.to_string(),
            due: run.due.map(|due| due.reason.describe().to_owned()),
            created: run.created.iter().map(ToString::to_string).collect(),
            skipped: run.skipped.as_ref().map(|skipped| skipped.describe()),
            destroyed: run
                .destroyed
                .iter()
                .map(|(snapshot, reason)| DestroyedView {
                    snapshot: snapshot.to_string(),
                    reason: ReasonView::from(reason),
                })
                .collect(),
            kept: run.kept,
            errors: run.errors.iter().map(ToString::to_string).collect(),
        }
    }
}

/// What one scheduler run did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReportView {
    pub at: String,
    pub pruned: bool,
    pub policies: Vec<PolicyRunView>,
    pub errors: Vec<String>,
}

impl From<&RunReport> for RunReportView {
    fn from(report: &RunReport) -> Self {
        Self {
            at: report.at.to_string(),
            pruned: report.pruned,
            policies: report.policies.iter().map(PolicyRunView::from).collect(),
            errors: report.errors.iter().map(ToString::to_string).collect(),
        }
    }
}
