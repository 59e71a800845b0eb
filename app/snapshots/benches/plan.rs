//! Planning benchmark (issue 6: "planning over 50,000 snapshots across 200 datasets takes
//! < 1 s"; sanoid users reported minutes). Builds 200 datasets × 250 hourly snapshots of
//! two overlapping policies with a real time zone, then times `plan_rotation_all` plus the
//! free-space plan, against a baseline measured in the same process: cloning and sorting the
//! same input by name. Prints the median of 5 rounds of each and their ratio.
//!
//!     cargo bench -p wizfs-snapshots --bench plan [-- --datasets 200 --snapshots 250]

use std::time::{Duration, Instant};

use wizfs_core::rotation::{
    Calendar, PolicyId, PolicyScope, PoolSpace, RetentionPolicy, RotationCandidate, Tier, TierRule,
    plan_free_space, plan_rotation_all, snapshot_short_name,
};
use wizfs_core::{DatasetName, PoolName, Timestamp};
use wizfs_snapshots::ZoneCalendar;

fn argument(name: &str, default: usize) -> usize {
    let arguments: Vec<String> = std::env::args().collect();
    arguments
        .iter()
        .position(|argument| argument == name)
        .and_then(|index| arguments.get(index + 1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn policy(id: &str, dataset: &str, tiers: &[(Tier, u32)], floor: Option<u8>) -> RetentionPolicy {
    RetentionPolicy {
        id: PolicyId::new(id).expect("id"),
        scope: PolicyScope {
            dataset: DatasetName::new(dataset).expect("dataset"),
            recursive: true,
            exclude: Vec::new(),
        },
        tiers: tiers
            .iter()
            .map(|&(tier, keep)| TierRule { tier, keep })
            .collect(),
        min_keep: 3,
        skip_empty: true,
        free_space_floor_percent: floor,
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let datasets = argument("--datasets", 200);
    let per_dataset = argument("--snapshots", 250);
    let hourly = policy(
        "hourly",
        "tank",
        &[
            (Tier::Hourly, 48),
            (Tier::Daily, 14),
            (Tier::Weekly, 8),
            (Tier::Monthly, 12),
        ],
        Some(20),
    );
    let archive = policy(
        "archive",
        "tank/d0",
        &[(Tier::Daily, 90), (Tier::Yearly, 5)],
        None,
    );
    let start = 1_790_000_000_i64;
    let mut candidates = Vec::with_capacity(datasets * per_dataset);
    for index in 0..per_dataset {
        let at = Timestamp(start + i64::try_from(index).expect("small") * 3600);
        let createtxg = u64::try_from(index).expect("small") + 1;
        for dataset_index in 0..datasets {
            let dataset = DatasetName::new(&format!("tank/d{dataset_index}")).expect("name");
            let (owner, id) = if index % 24 == 0 && dataset_index == 0 {
                (&archive, "archive")
            } else {
                (&hourly, "hourly")
            };
            candidates.push(RotationCandidate {
                name: dataset
                    .snapshot(&snapshot_short_name(&owner.id, at))
                    .expect("name"),
                creation: at,
                createtxg,
                used: 1 << 20,
                written: 1 << 20,
                managed_by: Some(PolicyId::new(id).expect("id")),
                held: index % 97 == 0,
            });
        }
    }
    let now = Timestamp(start + i64::try_from(per_dataset).expect("small") * 3600);
    let paris = ZoneCalendar::named("Europe/Paris").expect("zone");
    let policies: Vec<(&RetentionPolicy, &dyn Calendar)> =
        vec![(&hourly, &paris), (&archive, &paris)];
    let pools = [PoolSpace {
        pool: PoolName::new("tank").expect("pool"),
        size: 300 << 30,
        free: 20 << 30,
    }];
    let mut baseline = Vec::new();
    let mut planning = Vec::new();
    let mut destroyed = 0;
    let mut pruned = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let mut sorted = candidates.clone();
        sorted.sort_by(|left, right| left.name.cmp(&right.name));
        std::hint::black_box(&sorted);
        baseline.push(started.elapsed());

        let started = Instant::now();
        let plan = plan_rotation_all(&candidates, &policies, now);
        let prunes = plan_free_space(&plan, &pools, &[&hourly, &archive]);
        planning.push(started.elapsed());
        destroyed = plan.destroyed().count();
        pruned = prunes.len();
        std::hint::black_box(&plan);
    }
    let baseline = median(baseline);
    let planning = median(planning);
    println!(
        "{} snapshots in {datasets} datasets: plan {:.3} s ({destroyed} expired, {pruned} for free space); \
         baseline (clone + sort by name) {:.3} s; ratio {:.1}×; goal < 1 s: {}",
        candidates.len(),
        planning.as_secs_f64(),
        baseline.as_secs_f64(),
        planning.as_secs_f64() / baseline.as_secs_f64().max(1e-9),
        if planning < Duration::from_secs(1) {
            "met"
        } else {
            "NOT met"
        }
    );
}
