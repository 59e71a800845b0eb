//! The policy subcommands of `wizfs`: `policy check` (read the policies and say what each
//! would do now), `prune` (the rotation plan with the reason for every verdict and the
//! space each destroy frees, `--dry-run` to only show it) and `snapshot run` (run the due
//! policies now, as the daemon does every minute).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use wizfs_core::rotation::PolicyId;
use wizfs_snapshots::PolicyConfig;
use wizfs_zfs::Zfs;

use crate::context::{Backend, Global, config_for};
use crate::output::{emit, format_bytes};
use wizfs_api::policies::{DecisionView, PlanQuery, PlanView, PruneRequest, RunReportView};
use wizfs_services::views::policies::{plan as plan_view, policy as policy_view};

#[derive(Debug, Args)]
pub struct PolicyCheckArguments {
    /// A file of `[[policy]]` tables to check instead of the configuration's.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PruneArguments {
    /// Only show the plan: what would be destroyed, why, and what it would free.
    #[arg(long)]
    pub dry_run: bool,
    /// Only this policy's snapshots (every policy still protects what it keeps).
    #[arg(long, value_name = "ID", value_parser = parse_policy_id)]
    pub policy: Option<PolicyId>,
}

fn parse_policy_id(text: &str) -> Result<PolicyId, String> {
    PolicyId::new(text).map_err(|error| error.to_string())
}

fn policies_for(cli: &Global, file: Option<&PathBuf>) -> anyhow::Result<Vec<PolicyConfig>> {
    Ok(match file {
        Some(path) => wizfs_snapshots::config::load_policies(path)?,
        None => config_for(cli)?.policies,
    })
}

fn require_policy(policies: &[PolicyConfig], only: Option<&PolicyId>) -> anyhow::Result<()> {
    if policies.is_empty() {
        anyhow::bail!("no snapshot policy is configured (add [[policy]] tables to wizfsd.toml)");
    }
    if let Some(id) = only
        && !policies.iter().any(|policy| policy.id() == id)
    {
        anyhow::bail!("no policy `{id}` is configured");
    }
    Ok(())
}

/// `wizfs policy check`.
pub fn check(
    cli: &Global,
    zfs: &dyn Zfs,
    arguments: &PolicyCheckArguments,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let policies = policies_for(cli, arguments.file.as_ref())?;
    require_policy(&policies, None)?;
    let report = wizfs_snapshots::plan_now(zfs, &policies, wizfs_services::snapshots::now(), false);
    let view = wizfs_api::policies::PolicyCheckView {
        policies: policies.iter().map(policy_view).collect(),
        plan: plan_view(&report),
    };
    emit(out, json, &view, |out| {
        for (policy, due) in view.policies.iter().zip(&view.plan.due) {
            let tiers: Vec<String> = policy
                .tiers
                .iter()
                .map(|tier| match tier.period_minutes {
                    Some(minutes) => format!("{} {} (every {minutes} min)", tier.tier, tier.keep),
                    None => format!("{} {}", tier.tier, tier.keep),
                })
                .collect();
            writeln!(
                out,
                "policy {}: {}{}{} — keeps {}; at least {}; time zone {}",
                policy.id,
                policy.dataset,
                if policy.recursive { " (recursive)" } else { "" },
                if policy.exclude.is_empty() {
                    String::new()
                } else {
                    format!(" except {}", policy.exclude.join(", "))
                },
                tiers.join(", "),
                policy.min_keep,
                policy.timezone,
            )?;
            let mut extras = Vec::new();
            if policy.skip_empty {
                extras.push("skips empty snapshots".to_owned());
            }
            if let Some(floor) = policy.free_space_floor_percent {
                extras.push(format!("keeps {floor}% of the pool free"));
            }
            if !policy.pre_hook.is_empty() || !policy.post_hook.is_empty() {
                extras.push(format!(
                    "hooks with a {} s timeout",
                    policy.hook_timeout_seconds
                ));
            }
            if !extras.is_empty() {
                writeln!(out, "  {}", extras.join("; "))?;
            }
            match (&due.at, &due.reason) {
                (Some(at), Some(reason)) => {
                    writeln!(out, "  now: would take a snapshot for {at} ({reason})")?
                }
                _ => writeln!(out, "  now: not due")?,
            }
            let own: Vec<&DecisionView> = view
                .plan
                .decisions
                .iter()
                .filter(|decision| decision.managed_by.as_deref() == Some(policy.id.as_str()))
                .collect();
            let destroy = own
                .iter()
                .filter(|decision| decision.action == "destroy")
                .count();
            writeln!(
                out,
                "  has {} snapshot(s); would destroy {destroy}",
                own.len()
            )?;
        }
        for error in &view.plan.errors {
            writeln!(out, "error: {error}")?;
        }
        Ok(())
    })
}

fn print_plan(out: &mut dyn Write, view: &PlanView) -> std::io::Result<()> {
    for decision in &view.decisions {
        let reasons: Vec<&str> = decision
            .reasons
            .iter()
            .map(|reason| reason.text.as_str())
            .collect();
        let frees = decision
            .reclaimable_bytes
            .map(|bytes| format!(" — frees {}", format_bytes(bytes)))
            .unwrap_or_default();
        writeln!(
            out,
            "{:<8} {:<60} {}{frees}",
            decision.action.to_uppercase(),
            decision.snapshot,
            reasons.join("; ")
        )?;
    }
    for reclaim in &view.reclaimable {
        writeln!(
            out,
            "would destroy {} snapshot(s) of {} and free {}",
            reclaim.snapshots.len(),
            reclaim.dataset,
            format_bytes(reclaim.reclaimable_bytes)
        )?;
    }
    if view.destroy_count == 0 {
        writeln!(out, "nothing to destroy")?;
    }
    for error in &view.errors {
        writeln!(out, "error: {error}")?;
    }
    Ok(())
}

fn print_run(out: &mut dyn Write, view: &RunReportView) -> std::io::Result<()> {
    for run in &view.policies {
        let due = run.due.as_deref().unwrap_or("not due");
        writeln!(out, "policy {}: {due}", run.policy)?;
        for created in &run.created {
            writeln!(out, "  created {created}")?;
        }
        if let Some(skipped) = &run.skipped {
            writeln!(out, "  skipped: {skipped}")?;
        }
        for destroyed in &run.destroyed {
            writeln!(
                out,
                "  destroyed {} ({})",
                destroyed.snapshot, destroyed.reason.text
            )?;
        }
        if let Some(kept) = run.kept {
            writeln!(out, "  {kept} snapshot(s) kept")?;
        }
        for error in &run.errors {
            writeln!(out, "  error: {error}")?;
        }
    }
    for error in &view.errors {
        writeln!(out, "error: {error}")?;
    }
    Ok(())
}

/// `wizfs prune [--dry-run] [--policy ID]`.
pub fn prune(
    cli: &Global,
    zfs: &Arc<dyn Zfs>,
    arguments: &PruneArguments,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let policies = policies_for(cli, None)?;
    require_policy(&policies, arguments.policy.as_ref())?;
    let backend = Backend::new(cli, zfs, true)?;
    let policy = arguments.policy.as_ref().map(ToString::to_string);
    if arguments.dry_run {
        let query = PlanQuery {
            policy,
            estimate: Some(true),
        };
        let view = backend.run(|api| api.policies_plan(query))?;
        return emit(out, json, &view, |out| print_plan(out, &view));
    }
    let view = backend.run(|api| api.policies_prune(PruneRequest { policy }))?;
    emit(out, json, &view, |out| print_run(out, &view))?;
    if view.policies.iter().any(|run| !run.errors.is_empty()) || !view.errors.is_empty() {
        anyhow::bail!("pruning did not complete");
    }
    Ok(())
}

/// `wizfs snapshot run`.
pub fn run(
    cli: &Global,
    zfs: &Arc<dyn Zfs>,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let policies = policies_for(cli, None)?;
    require_policy(&policies, None)?;
    // The daemon remembers its runs (and indexes what they made): it runs them when it is
    // up; else the services run them here, indexing what they made when the index exists.
    let view = Backend::new(cli, zfs, true)?.run(|api| api.policies_run())?;
    emit(out, json, &view, |out| print_run(out, &view))?;
    if view.policies.iter().any(|run| !run.errors.is_empty()) || !view.errors.is_empty() {
        return Err(anyhow::anyhow!("the run did not complete"))
            .context("running snapshot policies");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::Cli;
    use wizfs_core::{DatasetName, PoolName};
    use wizfs_zfs::FakeZfs;

    use super::*;

    fn run_words(
        zfs: &Arc<dyn Zfs>,
        config: &std::path::Path,
        words: &[&str],
    ) -> anyhow::Result<String> {
        let config = config.to_string_lossy().into_owned();
        let arguments = ["wizfs", "--config", config.as_str()]
            .into_iter()
            .chain(words.iter().copied());
        let cli = Cli::try_parse_from(arguments)?;
        let mut out = Vec::new();
        crate::run(&cli, zfs.clone(), &mut out)?;
        Ok(String::from_utf8(out)?)
    }

    #[test]
    fn policy_check_snapshot_run_and_prune_through_the_cli() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let fake = FakeZfs::open(directory.path().join("pools")).expect("fake");
        fake.create_pool(&PoolName::new("tank").expect("pool"), 1 << 30)
            .expect("pool");
        let dataset = DatasetName::new("tank/home").expect("name");
        fake.create_filesystem(&dataset, &[]).expect("dataset");
        let zfs: Arc<dyn Zfs> = Arc::new(fake);
        let config = directory.path().join("wizfsd.toml");
        let write_config = |hourly: u32| {
            std::fs::write(
                &config,
                format!(
                    "data_dir = \"{}\"\n\n[[policy]]\nid = \"home\"\ndataset = \"tank/home\"\n\
                     hourly = {hourly}\nskip_empty = true\ntimezone = \"UTC\"\n",
                    directory.path().join("state").display()
                ),
            )
            .expect("config");
        };
        write_config(24);
        let checked = run_words(&zfs, &config, &["policy", "check"]).expect("check");
        assert!(
            checked
                .starts_with("policy home: tank/home — keeps hourly 24; at least 0; time zone UTC"),
            "{checked}"
        );
        assert!(
            checked.contains("now: would take a snapshot for"),
            "{checked}"
        );
        assert!(checked.contains("(first snapshot)"), "{checked}");

        let ran = run_words(&zfs, &config, &["snapshot", "run"]).expect("run");
        assert!(
            ran.starts_with("policy home: first snapshot\n  created tank/home@wizfs-home-"),
            "{ran}"
        );
        let again = run_words(&zfs, &config, &["--json", "snapshot", "run"]).expect("run");
        let parsed: serde_json::Value = serde_json::from_str(&again).expect("json");
        assert_eq!(
            parsed["policies"][0]["due"],
            serde_json::Value::Null,
            "same hour: not due"
        );

        // The existing snapshot subcommands still work next to `run`.
        let listed = run_words(&zfs, &config, &["snapshot", "list", "tank/home"]).expect("list");
        assert!(listed.contains("tank/home@wizfs-home-"), "{listed}");

        // A policy that keeps nothing any more... is refused; one that keeps 1 hour keeps it.
        write_config(0);
        let refused = run_words(&zfs, &config, &["prune", "--dry-run"]).expect_err("invalid");
        assert!(
            format!("{refused:#}").contains("keeps no snapshots"),
            "{refused:#}"
        );
        write_config(1);
        let plan = run_words(&zfs, &config, &["prune", "--dry-run"]).expect("plan");
        assert!(plan.starts_with("KEEP     tank/home@wizfs-home-"), "{plan}");
        assert!(plan.contains("hourly of policy home"), "{plan}");
        assert!(plan.ends_with("nothing to destroy\n"), "{plan}");
        let unknown =
            run_words(&zfs, &config, &["prune", "--policy", "nope"]).expect_err("unknown");
        assert!(
            format!("{unknown:#}").contains("no policy `nope`"),
            "{unknown:#}"
        );
        let pruned =
            run_words(&zfs, &config, &["--json", "prune", "--policy", "home"]).expect("prune");
        let parsed: serde_json::Value = serde_json::from_str(&pruned).expect("json");
        assert_eq!(parsed["pruned"], true);
        assert_eq!(parsed["policies"][0]["kept"], 1);
        let bad = Cli::try_parse_from(["wizfs", "prune", "--policy", "-x"]).expect_err("bad id");
        assert_eq!(bad.exit_code(), 2);
    }
}
