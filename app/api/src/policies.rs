//! Snapshot policies, rotation plans and scheduler runs as `/api/v1/policies…` and
//! `wizfs --json` present them, with the requests that ask for them. The planners' types in
//! `wizfs-core` and the executor's reports in `wizfs-snapshots` stay free of serialization;
//! `wizfs-services` converts them.

use serde::{Deserialize, Serialize};

/// One tier of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierView {
    /// `frequently`, `hourly`, `daily`, `weekly`, `monthly` or `yearly`.
    pub tier: String,
    /// How many buckets keep their newest snapshot.
    pub keep: u32,
    /// The length of a `frequently` bucket.
    pub period_minutes: Option<u32>,
}

/// A configured policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Whether a policy is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueView {
    pub policy: String,
    pub due: bool,
    /// The time the next snapshot stands for (its name carries it).
    pub at: Option<String>,
    pub reason: Option<String>,
}

/// Why a snapshot is kept or destroyed, for people (`text`) and programs (`kind`, `policy`,
/// `tier`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonView {
    /// `tier`, `held`, `foreign`, `future`, `minimum`, `expired` or `free_space`.
    pub kind: String,
    pub policy: Option<String>,
    pub tier: Option<String>,
    pub text: String,
}

/// The verdict on one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// What destroying snapshots of one dataset together would free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReclaimView {
    pub dataset: String,
    pub snapshots: Vec<String>,
    pub reclaimable_bytes: u64,
}

/// A dry-run plan (`GET /api/v1/policies/plan`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    pub at: String,
    pub due: Vec<DueView>,
    pub decisions: Vec<DecisionView>,
    pub destroy_count: usize,
    /// Per dataset, what the planned destroys free together.
    pub reclaimable: Vec<ReclaimView>,
    pub errors: Vec<String>,
}

/// A snapshot destroyed by a run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestroyedView {
    pub snapshot: String,
    pub reason: ReasonView,
}

/// What a run did for one policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRunView {
    pub policy: String,
    pub due: Option<String>,
    pub created: Vec<String>,
    pub skipped: Option<String>,
    pub destroyed: Vec<DestroyedView>,
    pub kept: Option<usize>,
    pub errors: Vec<String>,
}

/// `POST /api/v1/policies/prune`: destroy now what the policies no longer keep.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneRequest {
    /// Only this policy's snapshots (every policy still protects what it keeps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// What one scheduler run did (`POST /api/v1/policies/run`, `POST /api/v1/policies/prune`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReportView {
    pub at: String,
    pub pruned: bool,
    pub policies: Vec<PolicyRunView>,
    pub errors: Vec<String>,
}

/// `GET /api/v1/policies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoliciesView {
    pub policies: Vec<PolicyView>,
    /// The last runs with something to report, newest first.
    pub recent_runs: Vec<RunReportView>,
}

/// `wizfs policy check`: the policies as configured and what they would do now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyCheckView {
    pub policies: Vec<PolicyView>,
    pub plan: PlanView,
}

/// `GET /api/v1/policies/plan`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlanQuery {
    /// Only the decisions on this policy's snapshots (the plan still weighs every policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Ask ZFS what each destroy would free (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<bool>,
}

/// A policy as a person sets it in the console: the keys of a `[[policy]]` table but its
/// hooks (programs run as root are set in the file only, and a change from the console
/// keeps them as they are).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyEdit {
    pub id: String,
    pub dataset: String,
    #[serde(default)]
    pub recursive: bool,
    /// Descendants (with their own descendants) left out of a recursive policy.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// How many snapshots of the `frequently` tier are kept, one per `frequent_period_minutes`.
    #[serde(default)]
    pub frequently: u32,
    #[serde(default = "default_frequent_period")]
    pub frequent_period_minutes: u32,
    #[serde(default)]
    pub hourly: u32,
    #[serde(default)]
    pub daily: u32,
    #[serde(default)]
    pub weekly: u32,
    #[serde(default)]
    pub monthly: u32,
    #[serde(default)]
    pub yearly: u32,
    #[serde(default)]
    pub min_keep: u32,
    #[serde(default)]
    pub skip_empty: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_space_floor_percent: Option<u8>,
    /// An IANA time zone (`Europe/Berlin`, `UTC`); none: the appliance's own zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

fn default_frequent_period() -> u32 {
    15
}

impl PolicyEdit {
    /// A policy `id` of `dataset` that keeps nothing yet (every count 0, no protection).
    pub fn new(id: &str, dataset: &str) -> Self {
        Self {
            id: id.to_owned(),
            dataset: dataset.to_owned(),
            recursive: false,
            exclude: Vec::new(),
            frequently: 0,
            frequent_period_minutes: default_frequent_period(),
            hourly: 0,
            daily: 0,
            weekly: 0,
            monthly: 0,
            yearly: 0,
            min_keep: 0,
            skip_empty: false,
            free_space_floor_percent: None,
            timezone: None,
        }
    }

    /// The form of a configured policy, to change it.
    pub fn of(policy: &PolicyView) -> Self {
        let keep = |tier: &str| {
            policy
                .tiers
                .iter()
                .find(|view| view.tier == tier)
                .map_or(0, |view| view.keep)
        };
        Self {
            id: policy.id.clone(),
            dataset: policy.dataset.clone(),
            recursive: policy.recursive,
            exclude: policy.exclude.clone(),
            frequently: keep("frequently"),
            frequent_period_minutes: policy
                .tiers
                .iter()
                .find_map(|view| view.period_minutes)
                .unwrap_or_else(default_frequent_period),
            hourly: keep("hourly"),
            daily: keep("daily"),
            weekly: keep("weekly"),
            monthly: keep("monthly"),
            yearly: keep("yearly"),
            min_keep: policy.min_keep,
            skip_empty: policy.skip_empty,
            free_space_floor_percent: policy.free_space_floor_percent,
            timezone: Some(policy.timezone.clone()).filter(|zone| !zone.is_empty()),
        }
    }
}

/// `POST /api/v1/policies/preview` and `POST /api/v1/policies/change`: add, change or
/// remove one `[[policy]]` table of `wizfsd.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyChange {
    /// The id of the policy changed or removed; none: a new policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    /// The policy as it is to be; none: remove `original`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyEdit>,
}

/// What a policy change would do, before it is saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyPreviewView {
    /// The policy as it would be configured (none when removed).
    pub policy: Option<PolicyView>,
    /// The next run's plan for the snapshots of the changed policy (as it was and as it would
    /// be): what it would keep and destroy, and why.
    pub plan: PlanView,
    /// What else to know (`Its 12 snapshots stay: …`).
    pub notes: Vec<String>,
}
