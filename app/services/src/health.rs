//! Health monitoring in the daemon: one *round* looks at everything ([`collect`]: SMART,
//! pools, sensors), records the measurements in the history (`data_dir/health/history`),
//! turns the findings into alerts with the [`AlertBook`] (saved atomically to
//! `data_dir/health/alerts.json` before anything is sent, so a restart sends no second
//! message about the same problem), sends the notifications (a failing channel is logged,
//! never fatal), starts the SMART self-tests the planner asks for (never during a scrub) and
//! compacts the history now and then. The latest round's view is kept for the API.
//!
//! Rounds run at start-up and every `min(pools_seconds, sensors_seconds)`; disks are read
//! every `smart_minutes` and their last reading is reused in between. Everything blocking
//! runs on the blocking pool; one lock serializes rounds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use wizfs_health::Timestamp;
use wizfs_health::alerts::{AlertBook, ChannelRoute};
use wizfs_health::config::HealthConfig;
use wizfs_health::history::{History, Sample, metrics};
use wizfs_health::notify::{ChannelConfig, Notifier, build_notifier, send_test_notification};
use wizfs_health::pools::{PoolStatus, ScanState};
use wizfs_health::scrubs::{ScrubDecision, plan_scrubs};
use wizfs_health::sensors::udisks::{UdisksRead, read_udisks};
use wizfs_health::smart::{
    DiskId, DiskTestState, PlannedSelfTest, SelfTestKind, SmartSource, SmartSummary,
    plan_self_tests,
};
use wizfs_zfs::Zfs;

pub(crate) use crate::state_file::{load_json, save_json};

use wizfs_api::health::{HealthView, RoundView, SentView, TestResult};

mod actions;
pub mod collect;
pub mod fixtures;
mod operations;
mod self_tests;

#[cfg(test)]
mod tests;

use collect::{Observation, SmartPart, read_disks, read_pools, read_sensors};

const HOUR_SECONDS: i64 = 3600;
/// How long to wait before trying again a self-test a disk refused.
const SELF_TEST_RETRY_SECONDS: i64 = 24 * HOUR_SECONDS;

/// Where health keeps its state below the daemon's data directory.
pub fn state_directory(data_dir: &Path) -> PathBuf {
    data_dir.join("health")
}

/// The history store of `data_dir`.
pub fn history_directory(data_dir: &Path) -> PathBuf {
    state_directory(data_dir).join("history")
}

/// The appliance's name in messages: the kernel's host name.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "wizfs".to_owned())
}

/// The notification channels as configured now, each built into its notifier (or with why it
/// could not be); replaced whole when the console changes a channel.
#[derive(Debug, Default)]
pub(crate) struct Channels {
    configs: Vec<ChannelConfig>,
    notifiers: Vec<Box<dyn Notifier>>,
    routes: Vec<ChannelRoute>,
    /// Why a channel could not be built, by its name.
    problems: BTreeMap<String, String>,
}

impl Channels {
    /// Builds every channel of `configs`; one that cannot be built is logged and kept with
    /// its problem (monitoring goes on without it).
    fn build(configs: Vec<ChannelConfig>) -> Self {
        let mut channels = Self::default();
        for config in &configs {
            match build_notifier(config) {
                Ok(notifier) => {
                    channels.routes.push(config.route());
                    channels.notifiers.push(notifier);
                }
                Err(error) => {
                    tracing::error!(%error, "notification channel unusable");
                    channels
                        .problems
                        .insert(config.name().to_owned(), error.to_string());
                }
            }
        }
        channels.configs = configs;
        channels
    }

    pub(crate) fn configs(&self) -> &[ChannelConfig] {
        &self.configs
    }

    /// Why the channel `name` cannot send, when it cannot.
    pub(crate) fn problem(&self, name: &str) -> Option<&str> {
        self.problems.get(name).map(String::as_str)
    }
}

/// Sends a test message to every configured channel, or only to `only`. `None` when `only`
/// names no configured channel.
pub fn test_notifications(
    channels: &[ChannelConfig],
    only: Option<&str>,
    host: &str,
    now: Timestamp,
) -> Option<Vec<TestResult>> {
    let channels: Vec<_> = channels
        .iter()
        .filter(|channel| only.is_none_or(|name| channel.name() == name))
        .collect();
    if only.is_some() && channels.is_empty() {
        return None;
    }
    Some(
        channels
            .into_iter()
            .map(|channel| {
                let sent = build_notifier(channel)
                    .and_then(|notifier| send_test_notification(notifier.as_ref(), host, now));
                TestResult {
                    channel: channel.name().to_owned(),
                    delivered: sent.is_ok(),
                    error: sent.err().map(|error| error.to_string()),
                }
            })
            .collect(),
    )
}

/// What rounds remember between each other (the book and self-test log also across
/// restarts).
#[derive(Debug, Default)]
struct Memory {
    book: AlertBook,
    self_tests: self_tests::SelfTestLog,
    /// The last SMART reading, reused until `smart_minutes` have passed.
    smart: Option<SmartPart>,
    /// The last summary of each disk (rules that look at growth).
    summaries: BTreeMap<DiskId, SmartSummary>,
    /// The identity last read on each device path.
    identities: BTreeMap<String, DiskId>,
    last_compaction: Option<Timestamp>,
}

#[derive(Debug)]
struct Inner {
    config: HealthConfig,
    zfs: Arc<dyn Zfs>,
    smart: Arc<dyn SmartSource>,
    state_dir: PathBuf,
    history: Option<History>,
    channels: RwLock<Arc<Channels>>,
    /// Stores that could not be opened, shown with every view.
    setup_problems: Vec<String>,
    host: String,
    memory: Mutex<Memory>,
    latest: RwLock<Option<Arc<HealthView>>>,
    /// The backup jobs whose failures and age each round looks at ([`HealthService::watch_backups`]).
    backups: std::sync::OnceLock<crate::backups::BackupService>,
}

/// Health monitoring, shared by the schedule and the API.
#[derive(Clone, Debug)]
pub struct HealthService {
    inner: Arc<Inner>,
}

impl HealthService {
    /// Opens the state in `data_dir/health` (alerts, self-test log, history) and builds the
    /// notification channels. A history or channel that cannot be opened is logged and shown
    /// with every view; monitoring goes on without it.
    pub fn open(
        mut config: HealthConfig,
        zfs: Arc<dyn Zfs>,
        smart: Arc<dyn SmartSource>,
        data_dir: &Path,
    ) -> Self {
        let state_dir = state_directory(data_dir);
        let mut setup_problems = Vec::new();
        let history = match History::open(&history_directory(data_dir)) {
            Ok(history) => Some(history),
            Err(error) => {
                tracing::error!(%error, "health history unavailable");
                setup_problems.push(format!("history: {error}"));
                None
            }
        };
        let channels = Channels::build(std::mem::take(&mut config.notify));
        let memory = Memory {
            book: load_json(&state_dir.join("alerts.json")),
            self_tests: load_json(&state_dir.join("self-tests.json")),
            ..Memory::default()
        };
        Self {
            inner: Arc::new(Inner {
                config,
                zfs,
                smart,
                state_dir,
                history,
                channels: RwLock::new(Arc::new(channels)),
                setup_problems,
                host: host_name(),
                memory: Mutex::new(memory),
                latest: RwLock::new(None),
                backups: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Asks UDisks2 about the drives, as the configuration says (async: before a round).
    pub async fn ask_udisks(&self) -> UdisksRead {
        read_udisks(&self.inner.config.sensors).await
    }

    /// The health configuration but its channels (`[[health.notify]]`: [`Self::channels_now`]).
    pub fn config(&self) -> &HealthConfig {
        &self.inner.config
    }

    /// Looks at `backups` in every round from now on: a failed last run and a last good
    /// backup older than its limit become alerts like a disk's (the first call counts).
    pub fn watch_backups(&self, backups: crate::backups::BackupService) {
        let _ = self.inner.backups.set(backups);
    }

    /// The notification channels as configured now.
    pub(crate) fn channels_now(&self) -> Arc<Channels> {
        self.inner
            .channels
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The notification channels of `configs` from now on (the console changed them).
    pub fn set_channels(&self, configs: Vec<ChannelConfig>) {
        let channels = Arc::new(Channels::build(configs));
        *self
            .inner
            .channels
            .write()
            .unwrap_or_else(PoisonError::into_inner) = channels;
    }

    pub fn history(&self) -> Option<&History> {
        self.inner.history.as_ref()
    }

    pub fn host(&self) -> &str {
        &self.inner.host
    }

    /// The view of the latest round, if one has finished.
    pub fn latest(&self) -> Option<Arc<HealthView>> {
        self.inner
            .latest
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The alert book as it is now (active and recently cleared alerts).
    pub fn alerts(&self) -> AlertBook {
        self.inner
            .memory
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .book
            .clone()
    }

    /// Seconds between rounds.
    pub fn interval(&self) -> Duration {
        let intervals = &self.inner.config.intervals;
        Duration::from_secs(u64::from(
            intervals
                .pools_seconds
                .min(intervals.sensors_seconds)
                .max(1),
        ))
    }

    /// One round at `now` (blocking: call on the blocking pool) with what UDisks2 said just
    /// before ([`HealthService::ask_udisks`]). `read_disks` forces a SMART reading even when the
    /// last one is recent.
    pub fn round(
        &self,
        now: Timestamp,
        read_disks_now: bool,
        udisks: &UdisksRead,
    ) -> Arc<HealthView> {
        let inner = &self.inner;
        let config = &inner.config;
        let mut memory = inner.memory.lock().unwrap_or_else(PoisonError::into_inner);
        let mut problems = inner.setup_problems.clone();
        problems.extend(self.channels_now().problems.values().cloned());

        let smart_due = read_disks_now
            || memory.smart.as_ref().is_none_or(|last| {
                now.seconds().saturating_sub(last.read_at.seconds())
                    >= i64::from(config.intervals.smart_minutes) * 60
            });
        let smart = if smart_due {
            let part = read_disks(
                inner.smart.as_ref(),
                &memory.summaries,
                &memory.identities,
                &config.smart,
                now,
            );
            for reading in &part.disks {
                if let Some(summary) = reading.summary() {
                    memory
                        .summaries
                        .insert(summary.disk.clone(), summary.clone());
                    memory
                        .identities
                        .insert(reading.device.name.clone(), summary.disk.clone());
                }
            }
            memory.smart = Some(part.clone());
            part
        } else {
            memory.smart.clone().unwrap_or_else(|| SmartPart {
                read_at: now,
                disks: Vec::new(),
                findings: Vec::new(),
                unobserved: BTreeSet::new(),
                scan_error: None,
            })
        };
        let mut observation = Observation {
            time: now,
            sensors: read_sensors(config, udisks, &smart),
            smart,
            pools: read_pools(inner.zfs.as_ref(), config, now),
            backups: inner
                .backups
                .get()
                .map(|backups| backups.findings(now))
                .unwrap_or_default(),
        };
        // Scrubs first, so that no long self-test starts on a disk its pool now scrubs.
        let scrubs_started = self.start_scrubs(&mut observation, now, &mut problems);

        let history_points = self.record_history(&observation, smart_due, &mut problems);
        let notifications = self.alert(&mut memory, &observation, now, &mut problems);
        let self_tests_started = if smart_due {
            self.start_self_tests(&mut memory, &observation, now)
        } else {
            Vec::new()
        };
        self.compact_history(&mut memory, now);

        let round = RoundView {
            smart_read: smart_due,
            notifications,
            self_tests_started: self_tests_started
                .iter()
                .map(crate::views::health::planned_self_test)
                .collect(),
            scrubs_started,
            history_points,
        };
        let alerts = memory
            .book
            .active()
            .into_iter()
            .map(crate::views::health::alert)
            .collect();
        let view = Arc::new(crate::views::health::health(
            &observation,
            alerts,
            problems,
            Some(round),
        ));
        *inner.latest.write().unwrap_or_else(PoisonError::into_inner) = Some(view.clone());
        view
    }

    /// Starts the scrubs `plan_scrubs` says are due and marks those pools as scanning in
    /// `observation`.
    fn start_scrubs(
        &self,
        observation: &mut Observation,
        now: Timestamp,
        problems: &mut Vec<String>,
    ) -> Vec<String> {
        let plan = plan_scrubs(&observation.pools.pools, &self.inner.config.scrubs, now);
        let mut started = Vec::new();
        for (name, decision) in plan {
            if decision != ScrubDecision::Start {
                continue;
            }
            let result = wizfs_core::PoolName::new(&name)
                .map_err(|error| error.to_string())
                .and_then(|pool| {
                    self.inner
                        .zfs
                        .start_scrub(&pool)
                        .map_err(|error| error.to_string())
                });
            match result {
                Ok(()) => {
                    tracing::info!(pool = %name, "scrub started");
                    if let Some(pool) = observation
                        .pools
                        .pools
                        .iter_mut()
                        .find(|pool| pool.name == name)
                    {
                        pool.scrub = Some(wizfs_health::pools::ScrubInfo {
                            function: wizfs_health::pools::ScanFunction::Scrub,
                            state: ScanState::Scanning,
                            started: Some(now),
                            ended: None,
                            errors: 0,
                            repaired_bytes: 0,
                        });
                    }
                    started.push(name);
                }
                Err(error) => {
                    tracing::warn!(pool = %name, %error, "scrub not started");
                    problems.push(format!("scrub of {name} not started: {error}"));
                }
            }
        }
        started
    }

    fn record_history(
        &self,
        observation: &Observation,
        smart_read: bool,
        problems: &mut Vec<String>,
    ) -> usize {
        let Some(history) = &self.inner.history else {
            return 0;
        };
        let mut samples: Vec<Sample> = Vec::new();
        if smart_read {
            for reading in &observation.smart.disks {
                if let Some(summary) = reading.summary() {
                    samples.extend(metrics::smart_samples(summary, observation.smart.read_at));
                }
            }
        }
        for pool in &observation.pools.pools {
            samples.extend(metrics::pool_samples(pool, observation.time));
        }
        samples.extend(metrics::sensor_samples(
            &observation.sensors.readings,
            observation.time,
        ));
        match history.record(&samples) {
            Ok(stats) => stats.written,
            Err(error) => {
                tracing::warn!(%error, "recording health history failed");
                problems.push(format!("history: {error}"));
                0
            }
        }
    }

    /// Evaluates the book, saves it, then sends what it decided.
    fn alert(
        &self,
        memory: &mut Memory,
        observation: &Observation,
        now: Timestamp,
        problems: &mut Vec<String>,
    ) -> Vec<SentView> {
        let inner = &self.inner;
        let policy = &inner.config.alerts;
        let unobserved = observation.unobserved(&memory.book);
        let notifications = memory
            .book
            .evaluate(&observation.findings(), &unobserved, policy, now);
        let channels = self.channels_now();
        let deliveries = memory
            .book
            .route(&notifications, &channels.routes, policy, now);
        // Saved before sending: a crash between the two loses a message rather than
        // sending it twice.
        let path = inner.state_dir.join("alerts.json");
        if let Err(error) = save_json(&path, &memory.book) {
            tracing::error!(path = %path.display(), %error, "saving the alert book failed");
            problems.push(format!("saving {}: {error}", path.display()));
        }
        for notification in &notifications {
            tracing::info!(
                event = notification.event.as_str(),
                severity = %notification.problem.severity,
                subject = %notification.problem.subject,
                kind = %notification.problem.kind,
                detail = %notification.problem.message,
                "health alert"
            );
        }
        deliveries
            .iter()
            .map(|delivery| {
                let sent = wizfs_health::notify::send_all(
                    &channels.notifiers,
                    std::slice::from_ref(delivery),
                    &inner.host,
                );
                for error in &sent {
                    tracing::warn!(%error, "notification not delivered");
                    problems.push(error.to_string());
                }
                crate::views::health::sent(delivery, sent.is_empty())
            })
            .collect()
    }

    /// Plans and starts self-tests from a fresh SMART reading; saves the log.
    fn start_self_tests(
        &self,
        memory: &mut Memory,
        observation: &Observation,
        now: Timestamp,
    ) -> Vec<PlannedSelfTest> {
        let inner = &self.inner;
        let policy = &inner.config.self_tests;
        if !policy.enabled {
            return Vec::new();
        }
        let pools = &observation.pools.pools;
        let devices = self_tests::disk_pools(&observation.smart.disks, pools);
        let mut states: Vec<DiskTestState> = Vec::new();
        for reading in &observation.smart.disks {
            let Some(summary) = reading.summary() else {
                continue;
            };
            let token = summary.disk.token();
            let remembered = memory.self_tests.disks.get(&token);
            if remembered
                .is_some_and(|entry| entry.retry_after.is_some_and(|at| at > now.seconds()))
            {
                continue;
            }
            states.push(DiskTestState {
                disk: summary.disk.clone(),
                last_short: remembered.and_then(|entry| entry.last_short).map(Timestamp),
                last_long: remembered.and_then(|entry| entry.last_long).map(Timestamp),
                test_running: summary.self_test.in_progress,
                sleeping: false,
                pools: devices
                    .get(&reading.device.name)
                    .cloned()
                    .unwrap_or_default(),
            });
        }
        let scrubbing: BTreeSet<String> = pools
            .iter()
            .filter(|pool| {
                pool.scrub
                    .as_ref()
                    .is_some_and(|scan| scan.state == ScanState::Scanning)
            })
            .map(|pool: &PoolStatus| pool.name.clone())
            .collect();
        let long_running = self_tests::pools_with_long_test(&states, &memory.self_tests);
        let plan = plan_self_tests(&states, &scrubbing, &long_running, policy, now);
        let mut started = Vec::new();
        for planned in plan {
            let Some(reading) = observation
                .smart
                .disks
                .iter()
                .find(|reading| reading.disk() == Some(&planned.disk))
            else {
                continue;
            };
            let entry = memory
                .self_tests
                .disks
                .entry(planned.disk.token())
                .or_default();
            match inner.smart.start_self_test(&reading.device, planned.kind) {
                Ok(()) => {
                    tracing::info!(disk = %planned.disk, kind = planned.kind.smartctl_argument(), "SMART self-test started");
                    match planned.kind {
                        SelfTestKind::Short => entry.last_short = Some(now.seconds()),
                        SelfTestKind::Long => entry.last_long = Some(now.seconds()),
                    }
                    entry.retry_after = None;
                    started.push(planned);
                }
                Err(error) => {
                    tracing::warn!(disk = %planned.disk, %error, "SMART self-test not started; trying again in a day");
                    entry.retry_after = Some(now.seconds() + SELF_TEST_RETRY_SECONDS);
                }
            }
        }
        let path = inner.state_dir.join("self-tests.json");
        if let Err(error) = save_json(&path, &memory.self_tests) {
            tracing::error!(path = %path.display(), %error, "saving the self-test log failed");
        }
        started
    }

    fn compact_history(&self, memory: &mut Memory, now: Timestamp) {
        let Some(history) = &self.inner.history else {
            return;
        };
        let every = i64::from(self.inner.config.intervals.compact_hours) * HOUR_SECONDS;
        if memory
            .last_compaction
            .is_some_and(|last| now.seconds().saturating_sub(last.seconds()) < every)
        {
            return;
        }
        memory.last_compaction = Some(now);
        match history.compact(&self.inner.config.history, now) {
            Ok(stats) => tracing::debug!(?stats, "health history compacted"),
            Err(error) => tracing::warn!(%error, "compacting health history failed"),
        }
    }
}
