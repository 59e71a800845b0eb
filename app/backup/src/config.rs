//! Backup jobs as configuration: `[[backup]]` TOML tables (the samples in
//! `app/backup/samples/*.toml`, the format in `docs/backup.md`, "Configuration") read into
//! [`BackupJobConfig`]s, which give the planner of `wizfs-core` its [`BackupJob`]s
//! ([`BackupJobConfig::planner_jobs`]) and keep what the planner does not need (the
//! schedule, the time zone, connection details).
//!
//! ```toml
//! [[backup]]
//! id = "mirror"                        # letters, digits, _ . - ; marks what the job sent
//! schedule = "hourly"                  # manual, every N minutes, hourly, daily, weekly, monthly
//! timezone = "Europe/Paris"            # buckets of the schedule and the retention
//! raw = true                           # zfs send -w: encrypted datasets stay encrypted
//! bandwidth_limit = "50 MB/s"
//! missing_base = "refuse"              # or "full-into-new-dataset"
//!
//! [[backup.source]]
//! dataset = "tank/home"
//! recursive = true
//! exclude = ["tank/home/scratch"]
//!
//! [backup.target]
//! type = "pool"                        # pool, ssh, files, s3, rotating-disks
//! dataset = "backup/wizfs"             # or pool = "backup"
//! roll_back = false                    # "roll back the target" (zfs receive -F)
//!
//! [backup.retention]                   # the words of snapshot policies
//! hourly = 24
//! daily = 30
//! min_keep = 3
//! ```
//!
//! Every error names the field by its path, counted from 0 as in the manifest's paths:
//! `backup[2].target.pool: …`. Nothing here panics on any input.

mod fields;
pub mod schedule;
mod target;
mod units;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use wizfs_core::DatasetName;
use wizfs_core::backup::{BackupJob, BackupJobId, BackupOptions, MissingBase, TargetRetention};
use wizfs_core::rotation::{PolicyScope, Tier, TierRule};
use wizfs_snapshots::ZoneCalendar;

use fields::Fields;
pub use fields::InvalidBackup;

pub use schedule::Schedule;
pub use target::{
    BackupTarget, DEFAULT_XZ_LEVEL, FileTarget, HostKey, MINIMUM_VOLUME_BYTES, RotatingDisk,
    S3Target, SshTarget, TargetStages,
};

/// The least bandwidth limit, in bytes per second.
pub const MINIMUM_BANDWIDTH_BYTES_PER_SECOND: u64 = 1_000;

/// One validated backup job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupJobConfig {
    /// The job's identity.
    pub id: BackupJobId,
    /// Its source datasets.
    pub sources: Vec<PolicyScope>,
    /// Where it writes.
    pub target: BackupTarget,
    /// When it runs.
    pub schedule: Schedule,
    /// Retention on the target; `None` keeps everything sent.
    pub retention: Option<TargetRetention>,
    /// Raw sends, bandwidth, "roll back the target", what to do without a common base, and
    /// the target's stages.
    pub options: BackupOptions,
    /// The time zone of the schedule's and the retention's buckets (the machine's when the
    /// job names none).
    pub calendar: ZoneCalendar,
}

impl BackupJobConfig {
    /// The job as the planner sees it, once per place the target writes to: one for every
    /// kind but rotating disks, which give one per disk (each disk is its own target with its
    /// own chain and holds).
    pub fn planner_jobs(&self) -> Vec<BackupJob> {
        self.target
            .planner_kinds()
            .into_iter()
            .map(|target| BackupJob {
                id: self.id.clone(),
                sources: self.sources.clone(),
                target,
                retention: self.retention.clone(),
                options: self.options.clone(),
            })
            .collect()
    }

    /// The time zone's name, for messages.
    pub fn timezone(&self) -> &str {
        self.calendar.name()
    }
}

/// A backup configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BackupConfigError {
    /// The file cannot be read.
    #[error("cannot read the backup configuration {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The text is not TOML.
    #[error("backup configuration {path} is not valid TOML at line {line}: {message}")]
    Syntax {
        /// The file (only used in messages).
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// What the TOML reader said.
        message: String,
    },
    /// A table is not a usable job.
    #[error("backup configuration {path}: {problem}")]
    Invalid {
        /// The file (only used in messages).
        path: PathBuf,
        /// The field and the problem.
        #[source]
        problem: InvalidBackup,
    },
}

/// `[[backup]]` tables as a configuration embeds them
/// (`#[serde(default, rename = "backup")] backups: BackupTables`), for [`validate_backups`].
pub type BackupTables = Vec<toml::Table>;

/// Checks every table and that no two jobs share an id (a target's mark must name exactly
/// one job).
pub fn validate_backups(tables: &[toml::Table]) -> Result<Vec<BackupJobConfig>, InvalidBackup> {
    let mut jobs: Vec<BackupJobConfig> = Vec::with_capacity(tables.len());
    for (index, table) in tables.iter().enumerate() {
        let fields = Fields::new(format!("backup[{index}]"), table);
        let job = parse_job(&fields)?;
        if jobs.iter().any(|other| other.id == job.id) {
            return Err(fields.invalid(
                "id",
                format!(
                    "`{}` is the id of an earlier job; each job needs its own",
                    job.id
                ),
            ));
        }
        jobs.push(job);
    }
    Ok(jobs)
}

/// Parses a file of `[[backup]]` tables and nothing else; `path` is only used in messages.
pub fn parse_backups(text: &str, path: &Path) -> Result<Vec<BackupJobConfig>, BackupConfigError> {
    let document: toml::Table =
        toml::from_str(text).map_err(|error| BackupConfigError::Syntax {
            path: path.to_owned(),
            line: wizfs_snapshots::config::error_line(text, &error),
            message: error.message().to_owned(),
        })?;
    let invalid = |problem| BackupConfigError::Invalid {
        path: path.to_owned(),
        problem,
    };
    if let Some(key) = document.keys().find(|key| key.as_str() != "backup") {
        return Err(invalid(InvalidBackup {
            field: key.clone(),
            message: "unknown key; a backup configuration holds only `[[backup]]` tables".into(),
        }));
    }
    let tables = match document.get("backup") {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                toml::Value::Table(table) => Ok(table.clone()),
                other => Err(InvalidBackup {
                    field: format!("backup[{index}]"),
                    message: format!("expected a table, found {}", other.type_str()),
                }),
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?,
        Some(other) => {
            return Err(invalid(InvalidBackup {
                field: "backup".into(),
                message: format!("expected `[[backup]]` tables, found {}", other.type_str()),
            }));
        }
    };
    validate_backups(&tables).map_err(invalid)
}

/// Reads and parses a backup configuration file.
pub fn load_backups(path: &Path) -> Result<Vec<BackupJobConfig>, BackupConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| BackupConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_backups(&text, path)
}

const JOB_KEYS: &[&str] = &[
    "id",
    "source",
    "target",
    "schedule",
    "timezone",
    "retention",
    "raw",
    "bandwidth_limit",
    "missing_base",
];

fn parse_job(job: &Fields<'_>) -> Result<BackupJobConfig, InvalidBackup> {
    job.only(JOB_KEYS, "a `[[backup]]` table")?;
    let id_text = job.required_string("id")?;
    let id = BackupJobId::new(id_text).map_err(|error| job.invalid("id", error.to_string()))?;
    let sources = parse_sources(job)?;
    let target_table = job.table("target")?.ok_or_else(|| {
        job.invalid(
            "target",
            "is missing: add a `[backup.target]` table with its `type`",
        )
    })?;
    let (target, roll_back_target) = target::parse_target(&target_table, id.as_str())?;
    for (field, root) in target::receive_roots(&target) {
        if let Some((index, source)) = sources
            .iter()
            .enumerate()
            .find(|(_, source)| source.covers(root))
        {
            return Err(InvalidBackup {
                field: format!("{}.{field}", job.path),
                message: format!(
                    "`{root}` is inside source[{index}] (`{}`): a backup into its own source \
                     would copy itself; exclude it or choose a dataset outside the sources",
                    source.dataset
                ),
            });
        }
    }
    let schedule_text = job.string("schedule")?.unwrap_or("daily");
    let schedule = Schedule::parse(schedule_text).ok_or_else(|| {
        job.invalid(
            "schedule",
            format!(
                "`{}` is not a schedule; use `manual`, `every N minutes`, `hourly`, `daily`, \
                 `weekly` or `monthly`",
                schedule_text.escape_debug()
            ),
        )
    })?;
    let calendar = match job.string("timezone")? {
        Some(name) => {
            ZoneCalendar::named(name).map_err(|error| job.invalid("timezone", error.to_string()))?
        }
        None => ZoneCalendar::system(),
    };
    let retention = match job.table("retention")? {
        Some(retention) => Some(parse_retention(&retention)?),
        None => None,
    };
    let bandwidth = job.size(
        "bandwidth_limit",
        MINIMUM_BANDWIDTH_BYTES_PER_SECOND,
        &[("unlimited", None)],
        true,
    )?;
    let missing_base = match job.string("missing_base")?.unwrap_or("refuse") {
        "refuse" => MissingBase::Refuse,
        "full-into-new-dataset" => MissingBase::FullIntoNewDataset,
        other => {
            return Err(job.invalid(
                "missing_base",
                format!(
                    "`{}` is not a choice; use `refuse` or `full-into-new-dataset`",
                    other.escape_debug()
                ),
            ));
        }
    };
    let stages = match &target {
        BackupTarget::Files(files) => files.stages.clone(),
        BackupTarget::S3(s3) => s3.stages.clone(),
        _ => TargetStages::default(),
    };
    Ok(BackupJobConfig {
        id,
        sources,
        target,
        schedule,
        retention,
        options: BackupOptions {
            raw: job.boolean("raw")?.unwrap_or(false),
            compression: stages.compression,
            encryption: stages.encryption,
            bandwidth_limit_bytes_per_second: bandwidth.flatten(),
            roll_back_target,
            missing_base,
        },
        calendar,
    })
}

fn parse_sources(job: &Fields<'_>) -> Result<Vec<PolicyScope>, InvalidBackup> {
    let tables = job.tables("source")?;
    if tables.is_empty() {
        return Err(job.invalid(
            "source",
            "is missing: add a `[[backup.source]]` table with the `dataset` to back up",
        ));
    }
    let mut sources: Vec<PolicyScope> = Vec::with_capacity(tables.len());
    for source in &tables {
        source.only(
            &["dataset", "recursive", "exclude"],
            "a `[[backup.source]]` table",
        )?;
        let dataset = DatasetName::new(source.required_string("dataset")?)
            .map_err(|error| source.invalid("dataset", error.to_string()))?;
        let recursive = source.boolean("recursive")?.unwrap_or(false);
        let mut exclude = Vec::new();
        for (field, name) in source.strings("exclude")? {
            let excluded = DatasetName::new(name)
                .map_err(|error| source.invalid(&field, error.to_string()))?;
            if !recursive {
                return Err(source.invalid(
                    &field,
                    "`exclude` needs `recursive = true` (a single dataset has nothing to leave out)",
                ));
            }
            if excluded == dataset || !excluded.is_same_or_descendant_of(&dataset) {
                return Err(source.invalid(
                    &field,
                    format!("excluded dataset `{excluded}` is not below `{dataset}`"),
                ));
            }
            exclude.push(excluded);
        }
        let scope = PolicyScope {
            dataset,
            recursive,
            exclude,
        };
        if let Some((index, _)) = sources
            .iter()
            .enumerate()
            .find(|(_, other)| other.covers(&scope.dataset) || scope.covers(&other.dataset))
        {
            return Err(source.invalid(
                "dataset",
                format!(
                    "`{}` overlaps source[{index}]; each dataset is backed up by one source",
                    scope.dataset
                ),
            ));
        }
        sources.push(scope);
    }
    Ok(sources)
}

/// The retention words of snapshot policies.
const RETENTION_KEYS: &[&str] = &[
    "frequently",
    "frequent_period_minutes",
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "yearly",
    "min_keep",
];

fn parse_retention(retention: &Fields<'_>) -> Result<TargetRetention, InvalidBackup> {
    retention.only(RETENTION_KEYS, "`[backup.retention]`")?;
    let count = |key: &str| -> Result<u32, InvalidBackup> {
        let value = retention
            .integer(key, 0..=u64::from(u32::MAX))?
            .unwrap_or(0);
        Ok(u32::try_from(value).unwrap_or(u32::MAX))
    };
    let period_minutes = retention
        .integer("frequent_period_minutes", 1..=1440)?
        .map_or(
            wizfs_snapshots::config::DEFAULT_FREQUENT_PERIOD_MINUTES,
            |minutes| u32::try_from(minutes).unwrap_or(1440),
        );
    let tiers: Vec<TierRule> = [
        (Tier::Frequently { period_minutes }, count("frequently")?),
        (Tier::Hourly, count("hourly")?),
        (Tier::Daily, count("daily")?),
        (Tier::Weekly, count("weekly")?),
        (Tier::Monthly, count("monthly")?),
        (Tier::Yearly, count("yearly")?),
    ]
    .into_iter()
    .filter(|&(_, keep)| keep > 0)
    .map(|(tier, keep)| TierRule { tier, keep })
    .collect();
    if tiers.is_empty() {
        return Err(retention.invalid_table(
            "keeps no snapshots: set at least one of frequently, hourly, daily, weekly, \
             monthly, yearly (or leave the table out to keep everything sent)",
        ));
    }
    Ok(TargetRetention {
        tiers,
        min_keep: count("min_keep")?,
    })
}
