//! `wizfs health`: disks, pools (vdev trees with error counters, last scrub), sensors and
//! findings, looked at now — by the daemon when it runs (a health round: its alert book and
//! history follow), else here, read-only (no notification is sent, no history written).
//! `health test-notification` sends a test message through the configured channels (the
//! daemon's when it runs), `health history` lists the recorded series or prints one,
//! `health scrub POOL` starts a scrub now and `health self-test DISK [--long]` a SMART
//! self-test (through the daemon, whose health monitoring knows the disks).

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use wizfs_api::Api;
use wizfs_api::health::{
    HealthView, HistoryQuery, HistoryView, MetricsView, ScrubBody, SelfTestBody, SelfTestKind,
    SeriesView, Severity, TestQuery, TestResult, VdevView,
};
use wizfs_health::Timestamp;
use wizfs_health::history::History;
use wizfs_health::sensors::udisks::read_udisks;
use wizfs_zfs::Zfs;

use crate::context::{Global, backend_for, block_on, config_for, data_dir_for};
use crate::output::{emit, format_bytes};
use wizfs_services::health::collect::Observation;
use wizfs_services::health::{history_directory, host_name, test_notifications};

#[derive(Debug, Args)]
pub struct HealthArguments {
    #[command(subcommand)]
    pub command: Option<HealthCommand>,
}

#[derive(Debug, Subcommand)]
pub enum HealthCommand {
    /// Send a test message through the configured notification channels.
    TestNotification {
        /// Only this channel (a `name` of `[[health.notify]]`).
        #[arg(long, value_name = "NAME")]
        channel: Option<String>,
    },
    /// The recorded series, or one series as a table.
    History(HistoryArguments),
    /// Start a scrub of a pool now.
    Scrub {
        /// The pool.
        pool: String,
    },
    /// Start a SMART self-test of a disk now (the daemon must run).
    SelfTest {
        /// The disk: its identity (as `wizfs health` shows it) or its device.
        disk: String,
        /// A long (extended) test instead of a short one.
        #[arg(long)]
        long: bool,
    },
}

#[derive(Debug, Args)]
pub struct HistoryArguments {
    /// A series, such as `pool/tank/capacity_percent` (without it: the list of series).
    pub metric: Option<String>,
    /// How far back: `90m`, `24h`, `7d` or `4w`.
    #[arg(long, value_name = "SPAN", default_value = "7d", value_parser = parse_span)]
    pub since: i64,
    /// At most this many points (each the aggregate of an equal slice of the span).
    #[arg(long, value_name = "N", default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..=5000))]
    pub points: u64,
}

/// `90m`, `24h`, `7d`, `4w` (or plain seconds) as seconds.
pub fn parse_span(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|character: char| !character.is_ascii_digit()) {
        Some(index) => text.split_at(index),
        None => (text, "s"),
    };
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("`{text}`: the unit is one of s, m, h, d, w")),
    };
    number
        .parse::<i64>()
        .ok()
        .and_then(|count| count.checked_mul(seconds))
        .filter(|span| *span > 0)
        .ok_or_else(|| format!("`{text}` is not a span such as 90m, 24h or 7d"))
}

/// `wizfs health [test-notification | history]`.
pub fn run(
    cli: &Global,
    zfs: &Arc<dyn Zfs>,
    arguments: &HealthArguments,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match &arguments.command {
        None => show(cli, zfs.as_ref(), json, out),
        Some(HealthCommand::TestNotification { channel }) => {
            test_notification(cli, channel.as_deref(), json, out)
        }
        Some(HealthCommand::History(arguments)) => history(cli, arguments, json, out),
        Some(HealthCommand::Scrub { pool }) => scrub(cli, zfs, pool, json, out),
        Some(HealthCommand::SelfTest { disk, long }) => self_test(cli, disk, *long, json, out),
    }
}

/// `wizfs health scrub POOL`: the services' scrub, in the daemon when it runs, else here.
fn scrub(
    cli: &Global,
    zfs: &Arc<dyn Zfs>,
    pool: &str,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let body = ScrubBody {
        pool: pool.to_owned(),
    };
    let started =
        crate::context::Backend::new(cli, zfs, false)?.run(|api| api.start_scrub(body))?;
    emit(out, json, &started, |out| {
        writeln!(out, "{}", started.message)
    })
}

/// `wizfs health self-test DISK [--long]`, through the daemon.
fn self_test(
    cli: &Global,
    disk: &str,
    long: bool,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let daemon = crate::context::daemon(cli).ok_or_else(|| {
        anyhow::anyhow!(
            "wizfsd is not running: self-tests are started by its health monitoring, which knows the disks"
        )
    })?;
    let body = SelfTestBody {
        disk: disk.to_owned(),
        kind: if long {
            SelfTestKind::Long
        } else {
            SelfTestKind::Short
        },
    };
    let started = block_on(daemon.start_self_test(body))??;
    emit(out, json, &started, |out| {
        writeln!(out, "{}", started.message)
    })
}

/// `wizfs health`: through the daemon, a round now (its alert book decides what to notify,
/// and its history records it); without one, the collectors and rules once, read-only.
fn show(cli: &Global, zfs: &dyn Zfs, json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    if let Some(daemon) = crate::context::daemon(cli) {
        let view = block_on(daemon.health_check())??;
        return emit(out, json, &view, |out| print_view(out, &view));
    }
    let config = config_for(cli)?.health;
    let smart = wizfs_services::wiring::smart_source(&backend_for(cli)?)?;
    let udisks = block_on(read_udisks(&config.sensors))?;
    let observation = Observation::collect(
        zfs,
        smart.as_ref(),
        &config,
        &udisks,
        wizfs_recovery::system_clock(),
    );
    let view = wizfs_services::views::health::health(&observation, Vec::new(), Vec::new(), None);
    emit(out, json, &view, |out| print_view(out, &view))
}

fn print_vdevs(out: &mut dyn Write, vdevs: &[VdevView], depth: usize) -> std::io::Result<()> {
    for vdev in vdevs {
        let name = format!("{}{}", "  ".repeat(depth + 2), vdev.name);
        writeln!(
            out,
            "{name:<32} {:<9} {:>6} {:>6} {:>6}{}",
            vdev.state,
            vdev.read_errors,
            vdev.write_errors,
            vdev.checksum_errors,
            vdev.note
                .as_deref()
                .map(|note| format!("  {note}"))
                .unwrap_or_default()
        )?;
        print_vdevs(out, &vdev.children, depth + 1)?;
    }
    Ok(())
}

fn optional<T: std::fmt::Display>(value: Option<T>, unit: &str) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("{value}{unit}"))
}

fn print_view(out: &mut dyn Write, view: &HealthView) -> std::io::Result<()> {
    let summary = &view.summary;
    writeln!(
        out,
        "health at {}: {} ({} critical, {} warning, {} info)",
        view.checked_at,
        summary.status.to_uppercase(),
        summary.counts.critical,
        summary.counts.warning,
        summary.counts.info
    )?;
    writeln!(out, "\nDISKS")?;
    writeln!(
        out,
        "{:<16} {:<36} {:<11} {:>6} {:>8}  {:<8} SEVERITY",
        "DEVICE", "IDENTITY", "STATE", "TEMP", "HOURS", "SMART"
    )?;
    for disk in &view.disks {
        let summary = disk.summary.as_ref();
        let verdict = match summary.and_then(|summary| summary.smart_passed) {
            Some(true) => "PASSED",
            Some(false) => "FAILED",
            None => "-",
        };
        writeln!(
            out,
            "{:<16} {:<36} {:<11} {:>6} {:>8}  {:<8} {}",
            disk.device,
            disk.identity.as_deref().unwrap_or("-"),
            disk.state,
            optional(
                summary.and_then(|summary| summary.temperature_celsius),
                "°C"
            ),
            optional(summary.and_then(|summary| summary.power_on_hours), ""),
            verdict,
            disk.severity.map_or("-", Severity::as_str),
        )?;
        for message in &disk.messages {
            writeln!(out, "  {message}")?;
        }
    }
    writeln!(out, "\nPOOLS")?;
    for pool in &view.pools {
        writeln!(
            out,
            "{} {}  capacity {}  fragmentation {}  data errors {}",
            pool.name,
            pool.state,
            optional(pool.capacity_percent, "%"),
            optional(pool.fragmentation_percent, "%"),
            optional(pool.data_errors, ""),
        )?;
        match &pool.scrub {
            Some(scrub) => writeln!(
                out,
                "  last {}: {} (started {}, ended {}), {} errors, {} repaired",
                scrub.function,
                scrub.state,
                scrub.started.as_deref().unwrap_or("-"),
                scrub.ended.as_deref().unwrap_or("-"),
                scrub.errors,
                format_bytes(scrub.repaired_bytes)
            )?,
            None => writeln!(out, "  never scrubbed")?,
        }
        writeln!(
            out,
            "  {:<30} {:<9} {:>6} {:>6} {:>6}",
            "NAME", "STATE", "READ", "WRITE", "CKSUM"
        )?;
        print_vdevs(out, &pool.vdevs, 0)?;
    }
    if !view.sensors.is_empty() {
        writeln!(out, "\nSENSORS")?;
        for sensor in &view.sensors {
            writeln!(
                out,
                "{:<40} {:>7.1}°C  warning {}  critical {}",
                sensor.name,
                sensor.celsius,
                optional(sensor.warning, "°C"),
                optional(sensor.critical, "°C")
            )?;
        }
    }
    writeln!(out, "\nFINDINGS")?;
    if view.findings.is_empty() {
        writeln!(out, "none")?;
    }
    for finding in &view.findings {
        writeln!(
            out,
            "{:<8} {}: {} ({})",
            finding.severity.as_str(),
            finding.subject,
            finding.message,
            finding.kind
        )?;
    }
    for problem in &view.problems {
        writeln!(out, "problem: {problem}")?;
    }
    Ok(())
}

fn test_notification(
    cli: &Global,
    channel: Option<&str>,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let results = match crate::context::daemon(cli) {
        Some(daemon) => block_on(daemon.test_notification(TestQuery {
            channel: channel.map(str::to_owned),
        }))??,
        None => test_here(cli, channel)?,
    };
    emit(out, json, &results, |out| {
        for result in &results {
            match &result.error {
                None => writeln!(out, "{}: test message sent", result.channel)?,
                Some(error) => writeln!(out, "{}: FAILED: {error}", result.channel)?,
            }
        }
        Ok(())
    })?;
    let failed = results.iter().filter(|result| !result.delivered).count();
    if failed > 0 {
        anyhow::bail!("{failed} of {} channel(s) failed", results.len());
    }
    Ok(())
}

/// The test messages sent from this process, through the configured channels.
fn test_here(cli: &Global, channel: Option<&str>) -> anyhow::Result<Vec<TestResult>> {
    let config = config_for(cli)?.health;
    if config.notify.is_empty() {
        anyhow::bail!(
            "no notification channel is configured (add [[health.notify]] tables to wizfsd.toml)"
        );
    }
    test_notifications(
        &config.notify,
        channel,
        &host_name(),
        wizfs_recovery::system_clock(),
    )
    .with_context(|| {
        format!(
            "no notification channel `{}` is configured",
            channel.unwrap_or_default()
        )
    })
}

fn history(
    cli: &Global,
    arguments: &HistoryArguments,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let to = wizfs_recovery::system_clock();
    let from = Timestamp(to.seconds().saturating_sub(arguments.since));
    let points = usize::try_from(arguments.points).unwrap_or(usize::MAX);
    // The daemon records the history: it answers when it runs; else the file is read here.
    let view = match crate::context::daemon(cli) {
        Some(daemon) => block_on(daemon.health_history(HistoryQuery {
            metric: arguments.metric.clone(),
            from: Some(from.seconds()),
            to: Some(to.seconds()),
            points: Some(points),
        }))??,
        None => history_here(cli, arguments.metric.as_deref(), from, to, points)?,
    };
    let view = match view {
        HistoryView::Metrics(listed) => {
            let metrics = listed.metrics;
            return emit(out, json, &metrics, |out| {
                for metric in &metrics {
                    writeln!(out, "{metric}")?;
                }
                Ok(())
            });
        }
        HistoryView::Series(series) => series,
    };
    emit(out, json, &view, |out| {
        if view.points.is_empty() {
            writeln!(out, "no points of {} since {from}", view.metric)?;
            return Ok(());
        }
        writeln!(
            out,
            "{:<21} {:>12} {:>12} {:>12} {:>7}",
            "TIME", "AVERAGE", "MIN", "MAX", "COUNT"
        )?;
        for point in &view.points {
            writeln!(
                out,
                "{:<21} {:>12.2} {:>12.2} {:>12.2} {:>7}",
                Timestamp(point.time).to_string(),
                point.average,
                point.min,
                point.max,
                point.count
            )?;
        }
        Ok(())
    })
}

/// The recorded history read here (read-only; the daemon writes it): the series, or one.
fn history_here(
    cli: &Global,
    metric: Option<&str>,
    from: Timestamp,
    to: Timestamp,
    points: usize,
) -> anyhow::Result<HistoryView> {
    let directory = history_directory(&data_dir_for(cli)?);
    if !directory.join("data.mdb").exists() {
        anyhow::bail!(
            "no health history at {} (the daemon records it)",
            directory.display()
        );
    }
    let history = History::open(&directory)
        .with_context(|| format!("opening the health history at {}", directory.display()))?;
    let Some(metric) = metric else {
        return Ok(HistoryView::Metrics(MetricsView {
            metrics: history.metrics().context("listing the series")?,
        }));
    };
    let points = history
        .query(metric, from, to, points)
        .with_context(|| format!("reading {metric}"))?;
    Ok(HistoryView::Series(SeriesView {
        metric: metric.to_owned(),
        from: from.seconds(),
        to: to.seconds(),
        points: points
            .iter()
            .map(wizfs_services::views::health::chart_point)
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::Cli;

    use super::*;
    use wizfs_services::testing::{Machine, Receiver};

    fn run_words(machine: &Machine, words: &[&str]) -> anyhow::Result<String> {
        let config = machine.directory.path().join("wizfsd.toml");
        let health = toml::to_string(&machine.config)?;
        let sections: String = health
            .lines()
            .map(|line| match line.strip_prefix("[[") {
                Some(rest) => format!("[[health.{rest}\n"),
                None => match line.strip_prefix('[') {
                    Some(rest) => format!("[health.{rest}\n"),
                    None => format!("{line}\n"),
                },
            })
            .collect();
        std::fs::write(&config, sections)?;
        let config = config.to_string_lossy().into_owned();
        let fake = machine.directory.path().join("pools");
        let fake = fake.to_string_lossy().into_owned();
        let state = machine.directory.path().join("state");
        let state = state.to_string_lossy().into_owned();
        let arguments = [
            "wizfs",
            "--config",
            config.as_str(),
            "--fake",
            fake.as_str(),
            "--data-dir",
            state.as_str(),
        ]
        .into_iter()
        .chain(words.iter().copied());
        let cli = Cli::try_parse_from(arguments)?;
        let mut out = Vec::new();
        crate::run(&cli, machine.zfs.clone(), &mut out)?;
        Ok(String::from_utf8(out)?)
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn health_view_test_message_and_history_through_the_cli() {
        let (receiver, url) = Receiver::start().await;
        let machine = Arc::new(Machine::new(&url));
        let cli = |words: &'static [&'static str]| {
            let machine = machine.clone();
            tokio::task::spawn_blocking(move || run_words(&machine, words))
        };

        let shown = cli(&["health"]).await.expect("task").expect("health");
        assert!(shown.starts_with("health at "), "{shown}");
        assert!(
            shown.contains(": CRITICAL (2 critical, 1 warning, 1 info)"),
            "{shown}"
        );
        assert!(shown.contains("QEMU_NVMe_Ctrl_WIZFSNVME1"), "{shown}");
        assert!(shown.contains("tank ONLINE  capacity"), "{shown}");
        assert!(shown.contains("  never scrubbed"), "{shown}");
        assert!(shown.contains("    fake-tank"), "{shown}");
        assert!(shown.contains("drivetemp/temp1"), "{shown}");
        assert!(
            shown.contains("critical disk QEMU NVMe Ctrl (serial WIZFSNVME1): "),
            "{shown}"
        );
        let json = cli(&["--json", "health"])
            .await
            .expect("task")
            .expect("json");
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("parses");
        assert_eq!(parsed["disks"][0]["identity"], "QEMU_NVMe_Ctrl_WIZFSNVME0");
        assert_eq!(parsed["round"], serde_json::Value::Null);
        // Read-only: nothing was sent, no alert book or history was written.
        assert!(receiver.events().is_empty());
        assert!(!machine.directory.path().join("state/health").exists());
        let missing = cli(&["health", "history"]).await.expect("task");
        let missing = format!("{:#}", missing.expect_err("no history yet"));
        assert!(missing.contains("no health history"), "{missing}");

        let sent = cli(&["health", "test-notification"])
            .await
            .expect("task")
            .expect("sent");
        assert_eq!(sent, "hook: test message sent\n");
        assert_eq!(
            receiver.events(),
            [("test".to_owned(), "collector_failed".to_owned())]
        );
        let unknown = cli(&["health", "test-notification", "--channel", "nope"])
            .await
            .expect("task");
        let unknown = format!("{:#}", unknown.expect_err("unknown channel"));
        assert!(
            unknown.contains("no notification channel `nope`"),
            "{unknown}"
        );

        // The daemon's round records history; the CLI reads it.
        let service = machine.service();
        tokio::task::spawn_blocking(move || {
            service.round(
                wizfs_recovery::system_clock(),
                false,
                &wizfs_health::sensors::udisks::UdisksRead::NotAsked,
            );
        })
        .await
        .expect("round");
        let listed = cli(&["health", "history"])
            .await
            .expect("task")
            .expect("list");
        assert!(listed.contains("pool/tank/capacity_percent\n"), "{listed}");
        let series = cli(&[
            "--json",
            "health",
            "history",
            "disk/QEMU_NVMe_Ctrl_WIZFSNVME0/temperature",
            "--since",
            "1h",
        ])
        .await
        .expect("task")
        .expect("series");
        let parsed: serde_json::Value = serde_json::from_str(&series).expect("parses");
        assert_eq!(parsed["points"][0]["average"], 50.0);
        assert_eq!(
            parsed["to"].as_i64().unwrap_or_default() - parsed["from"].as_i64().unwrap_or_default(),
            3600
        );

        // Without a daemon: a scrub starts here, a self-test needs the daemon.
        let scrubbed = cli(&["health", "scrub", "tank"])
            .await
            .expect("task")
            .expect("scrub");
        assert!(
            scrubbed.starts_with("The scrub of tank started"),
            "{scrubbed}"
        );
        let scrubs = machine.zfs.pool_status().expect("status");
        assert!(scrubs[0].scrub.is_some(), "the fake pool was scrubbed");
        let unknown = cli(&["health", "scrub", "nope"]).await.expect("task");
        let unknown = format!("{:#}", unknown.expect_err("unknown pool"));
        assert!(unknown.contains("no such pool"), "{unknown}");
        let without = cli(&["health", "self-test", "QEMU_NVMe_Ctrl_WIZFSNVME0"])
            .await
            .expect("task");
        let without = format!("{:#}", without.expect_err("no daemon"));
        assert!(without.contains("wizfsd is not running"), "{without}");
    }

    #[test]
    fn spans_and_bad_arguments() {
        assert_eq!(parse_span("90m"), Ok(5400));
        assert_eq!(parse_span("7d"), Ok(7 * 86_400));
        assert_eq!(parse_span("30"), Ok(30));
        for bad in ["", "0h", "7y", "-1d", "d", "99999999999999999999w"] {
            assert!(parse_span(bad).is_err(), "{bad}");
        }
        for words in [
            &["wizfs", "health", "history", "--since", "soon"][..],
            &["wizfs", "health", "history", "--points", "0"],
            &["wizfs", "health", "test-notification", "--channel"],
        ] {
            let error = Cli::try_parse_from(words).expect_err("usage error");
            assert_eq!(error.exit_code(), 2, "{words:?}");
        }
    }
}
