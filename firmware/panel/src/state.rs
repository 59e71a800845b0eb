//! What the panel shows, as plain borrowed data: the daemon fills a [`PanelState`] from the
//! summary the dashboard reads and hands it to the renderer. Nothing here owns memory, so the
//! crate needs no allocator; ages are passed in already measured, since the panel has no
//! clock of its own.

/// How bad something is. Ordered: `Ok < Info < Warning < Critical`, so the worst of several
/// is their `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Nothing to report.
    Ok,
    /// Worth knowing, nothing to do.
    Info,
    /// Act soon.
    Warning,
    /// Act now: data is at risk or a device has failed.
    Critical,
}

impl Level {
    /// The tag shown in a page's header (at most 4 characters).
    pub fn tag(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Info => "INFO",
            Level::Warning => "WARN",
            Level::Critical => "CRIT",
        }
    }
}

/// A pool's state as `zpool` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolHealth {
    Online,
    Degraded,
    Faulted,
    Offline,
    Unavailable,
    Removed,
    Suspended,
}

impl PoolHealth {
    /// The word `zpool status` uses (at most 9 characters).
    pub fn label(self) -> &'static str {
        match self {
            PoolHealth::Online => "ONLINE",
            PoolHealth::Degraded => "DEGRADED",
            PoolHealth::Faulted => "FAULTED",
            PoolHealth::Offline => "OFFLINE",
            PoolHealth::Unavailable => "UNAVAIL",
            PoolHealth::Removed => "REMOVED",
            PoolHealth::Suspended => "SUSPENDED",
        }
    }

    /// A 4-character form for the character LCD.
    pub fn short_label(self) -> &'static str {
        match self {
            PoolHealth::Online => "OK",
            PoolHealth::Degraded => "DEGR",
            PoolHealth::Faulted => "FLT",
            PoolHealth::Offline => "OFFL",
            PoolHealth::Unavailable => "UNAV",
            PoolHealth::Removed => "REMV",
            PoolHealth::Suspended => "SUSP",
        }
    }

    /// How bad the state is: degraded is a warning, every state without redundancy left or
    /// without access at all is critical.
    pub fn level(self) -> Level {
        match self {
            PoolHealth::Online => Level::Ok,
            PoolHealth::Degraded => Level::Warning,
            PoolHealth::Faulted
            | PoolHealth::Offline
            | PoolHealth::Unavailable
            | PoolHealth::Removed
            | PoolHealth::Suspended => Level::Critical,
        }
    }
}

/// One pool: its name, state and how full it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSummary<'a> {
    pub name: &'a str,
    pub health: PoolHealth,
    pub allocated_bytes: u64,
    pub size_bytes: u64,
}

impl PoolSummary<'_> {
    /// How full the pool is, in whole percent (0–100; an empty or unknown size is 0).
    pub fn percent_used(&self) -> u8 {
        if self.size_bytes == 0 {
            return 0;
        }
        let percent = u128::from(self.allocated_bytes) * 100 / u128::from(self.size_bytes);
        percent.min(100) as u8
    }
}

/// The hottest disk, by its stable name (model and serial, or WWN), and how the daemon's
/// rules judge its temperature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskTemperature<'a> {
    pub name: &'a str,
    pub celsius: i16,
    pub level: Level,
}

/// The worst open alert, in the words the console shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alert<'a> {
    pub level: Level,
    pub text: &'a str,
}

/// The last good backup: where to, how long ago (measured by the caller), and whether the
/// backup policy considers it too old.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backup<'a> {
    pub target: &'a str,
    /// Seconds since the last good backup finished; `None` when none has succeeded yet.
    pub age_seconds: Option<u64>,
    pub stale: bool,
}

impl Backup<'_> {
    /// A stale backup, or none at all, is a warning.
    pub fn level(&self) -> Level {
        if self.stale || self.age_seconds.is_none() {
            Level::Warning
        } else {
            Level::Ok
        }
    }
}

/// Everything the panel shows. Borrowed, so one state can be built from the daemon's summary
/// without copying or allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PanelState<'a> {
    pub host_name: &'a str,
    /// The console's address as a person types it (`192.168.1.20`, `nas.local`).
    pub address: &'a str,
    pub pools: &'a [PoolSummary<'a>],
    pub hottest_disk: Option<DiskTemperature<'a>>,
    pub worst_alert: Option<Alert<'a>>,
    /// `None` when no backup is configured (the backup page is then left out).
    pub backup: Option<Backup<'a>>,
    /// The first-boot setup code, while the console has no admin password yet.
    pub setup_code: Option<&'a str>,
}

impl PanelState<'_> {
    /// The pool in the worst state (the first of equals), or `None` without pools.
    pub fn worst_pool(&self) -> Option<&PoolSummary<'_>> {
        self.pools
            .iter()
            .rev()
            .max_by_key(|pool| pool.health.level())
    }

    /// The worst of everything shown: pools, the hottest disk, the worst alert, the backup.
    pub fn overall_level(&self) -> Level {
        let pools = self
            .worst_pool()
            .map_or(Level::Ok, |pool| pool.health.level());
        let disk = self.hottest_disk.map_or(Level::Ok, |disk| disk.level);
        let alert = self.worst_alert.map_or(Level::Ok, |alert| alert.level);
        let backup = self.backup.map_or(Level::Ok, |backup| backup.level());
        pools.max(disk).max(alert).max(backup)
    }
}
