//! Snapshot policies as configuration: `[[policy]]` tables in TOML, the form the daemon's
//! `wizfsd.toml` embeds and the samples in `docs/samples/policies-*.toml` show. Reading is
//! two steps: serde reads each table as a [`PolicyTable`] (a wrong type or an unknown key is
//! reported at its own line), then [`validate_policies`] checks values and contradictions and
//! reports them at the line of their `[[policy]]` header; a valid table becomes a
//! [`PolicyConfig`] holding the [`RetentionPolicy`] the planners of `wizfs-core` take.
//!
//! ```toml
//! [[policy]]
//! id = "home"                       # letters, digits, _ . - ; used in snapshot names
//! dataset = "tank/home"
//! recursive = true                  # atomic snapshot of the whole tree
//! exclude = ["tank/home/scratch"]   # left out, with their descendants
//! hourly = 24                       # tiers: how many buckets keep their newest snapshot
//! daily = 14
//! min_keep = 3
//! skip_empty = true                 # no snapshot when nothing was written
//! free_space_floor_percent = 15     # prune oldest while the pool has less free
//! pre_hook = ["/usr/local/bin/db-freeze"]
//! hook_timeout_seconds = 60
//! timezone = "Europe/Paris"         # for buckets; names are always UTC
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use wizfs_core::DatasetName;
use wizfs_core::rotation::{PolicyId, PolicyScope, RetentionPolicy, Tier, TierRule};

use crate::calendar::ZoneCalendar;

#[cfg(test)]
mod tests;

/// The default length of a `frequently` bucket, in minutes.
pub const DEFAULT_FREQUENT_PERIOD_MINUTES: u32 = 15;
/// The default time a hook may run, in seconds.
pub const DEFAULT_HOOK_TIMEOUT_SECONDS: u64 = 60;

/// One validated policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    /// What the planners need.
    pub retention: RetentionPolicy,
    /// The calendar of `timezone` (the machine's zone when none is given).
    pub calendar: ZoneCalendar,
    /// Run before the snapshot; a failure skips the run.
    pub pre_hook: Vec<String>,
    /// Run after the snapshot.
    pub post_hook: Vec<String>,
    /// How long each hook may run.
    pub hook_timeout: Duration,
}

impl PolicyConfig {
    /// The policy's identifier.
    pub fn id(&self) -> &PolicyId {
        &self.retention.id
    }
}

/// A `[[policy]]` table as written, before [`validate_policies`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyTable {
    id: String,
    dataset: String,
    #[serde(default)]
    recursive: bool,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    frequently: u32,
    #[serde(default = "default_frequent_period")]
    frequent_period_minutes: u32,
    #[serde(default)]
    hourly: u32,
    #[serde(default)]
    daily: u32,
    #[serde(default)]
    weekly: u32,
    #[serde(default)]
    monthly: u32,
    #[serde(default)]
    yearly: u32,
    #[serde(default)]
    min_keep: u32,
    #[serde(default)]
    skip_empty: bool,
    #[serde(default)]
    free_space_floor_percent: Option<u8>,
    #[serde(default)]
    pre_hook: Vec<String>,
    #[serde(default)]
    post_hook: Vec<String>,
    #[serde(default = "default_hook_timeout")]
    hook_timeout_seconds: u64,
    #[serde(default)]
    timezone: Option<String>,
}

fn default_frequent_period() -> u32 {
    DEFAULT_FREQUENT_PERIOD_MINUTES
}

fn default_hook_timeout() -> u64 {
    DEFAULT_HOOK_TIMEOUT_SECONDS
}

impl TryFrom<PolicyTable> for PolicyConfig {
    type Error = String;

    fn try_from(raw: PolicyTable) -> Result<Self, String> {
        let id = PolicyId::new(&raw.id).map_err(|error| error.to_string())?;
        let in_policy = |message: String| format!("policy `{id}`: {message}");
        let dataset = DatasetName::new(&raw.dataset)
            .map_err(|error| in_policy(format!("dataset: {error}")))?;
        let mut exclude = Vec::new();
        for name in &raw.exclude {
            let excluded =
                DatasetName::new(name).map_err(|error| in_policy(format!("exclude: {error}")))?;
            if !raw.recursive {
                return Err(in_policy(
                    "`exclude` needs `recursive = true` (a single dataset has nothing to leave out)"
                        .into(),
                ));
            }
            if excluded == dataset || !excluded.is_same_or_descendant_of(&dataset) {
                return Err(in_policy(format!(
                    "excluded dataset `{excluded}` is not below `{dataset}`"
                )));
            }
            exclude.push(excluded);
        }
        if !(1..=1440).contains(&raw.frequent_period_minutes) {
            return Err(in_policy(format!(
                "frequent_period_minutes must be 1 to 1440, not {}",
                raw.frequent_period_minutes
            )));
        }
        let tiers: Vec<TierRule> = [
            (
                Tier::Frequently {
                    period_minutes: raw.frequent_period_minutes,
                },
                raw.frequently,
            ),
            (Tier::Hourly, raw.hourly),
            (Tier::Daily, raw.daily),
            (Tier::Weekly, raw.weekly),
            (Tier::Monthly, raw.monthly),
            (Tier::Yearly, raw.yearly),
        ]
        .into_iter()
        .filter(|&(_, keep)| keep > 0)
        .map(|(tier, keep)| TierRule { tier, keep })
        .collect();
        if tiers.is_empty() {
            return Err(in_policy(
                "keeps no snapshots: set at least one of frequently, hourly, daily, weekly, \
                 monthly, yearly"
                    .into(),
            ));
        }
        if let Some(floor) = raw.free_space_floor_percent
            && !(1..=99).contains(&floor)
        {
            return Err(in_policy(format!(
                "free_space_floor_percent must be 1 to 99, not {floor}"
            )));
        }
        for (name, hook) in [("pre_hook", &raw.pre_hook), ("post_hook", &raw.post_hook)] {
            if hook
                .first()
                .is_some_and(|program| program.trim().is_empty())
                || hook.iter().any(|word| word.contains('\0'))
            {
                return Err(in_policy(format!(
                    "{name} must be a command and its arguments, such as [\"/usr/local/bin/freeze\", \"--all\"]"
                )));
            }
        }
        if !(1..=86_400).contains(&raw.hook_timeout_seconds) {
            return Err(in_policy(format!(
                "hook_timeout_seconds must be 1 to 86400, not {}",
                raw.hook_timeout_seconds
            )));
        }
        let calendar = match &raw.timezone {
            Some(name) => {
                ZoneCalendar::named(name).map_err(|error| in_policy(error.to_string()))?
            }
            None => ZoneCalendar::system(),
        };
        Ok(PolicyConfig {
            retention: RetentionPolicy {
                id,
                scope: PolicyScope {
                    dataset,
                    recursive: raw.recursive,
                    exclude,
                },
                tiers,
                min_keep: raw.min_keep,
                skip_empty: raw.skip_empty,
                free_space_floor_percent: raw.free_space_floor_percent,
            },
            calendar,
            pre_hook: raw.pre_hook,
            post_hook: raw.post_hook,
            hook_timeout: Duration::from_secs(raw.hook_timeout_seconds),
        })
    }
}

/// `[[policy]]` tables with the position of their headers, as a configuration embeds them
/// (`#[serde(default, rename = "policy")] tables: PolicyTables`).
pub type PolicyTables = Vec<toml::Spanned<PolicyTable>>;

/// A file of `[[policy]]` tables and nothing else.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    policy: PolicyTables,
}

/// A table that is well-formed TOML but not a usable policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct InvalidPolicy {
    /// The line of the table's `[[policy]]` header (1-based).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Checks every table of `text` (where `tables` were read from) and that no two share an
/// id (a snapshot's `wizfs:managed` value must name exactly one policy).
pub fn validate_policies(
    tables: &[toml::Spanned<PolicyTable>],
    text: &str,
) -> Result<Vec<PolicyConfig>, InvalidPolicy> {
    let mut policies: Vec<PolicyConfig> = Vec::with_capacity(tables.len());
    for table in tables {
        let line = line_of(text, table.span().start);
        let policy = PolicyConfig::try_from(table.get_ref().clone())
            .map_err(|message| InvalidPolicy { line, message })?;
        if policies.iter().any(|other| other.id() == policy.id()) {
            return Err(InvalidPolicy {
                line,
                message: format!(
                    "policy id `{}` is used by two policies; each needs its own",
                    policy.id()
                ),
            });
        }
        policies.push(policy);
    }
    Ok(policies)
}

/// The 1-based line of byte `offset` of `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
        + 1
}

/// A policy configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyConfigError {
    /// The file cannot be read.
    #[error("cannot read the policy file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The text is not a valid policy configuration.
    #[error("policy file {path} is invalid at line {line}: {message}")]
    Invalid {
        /// The file (only used in messages).
        path: PathBuf,
        /// The line of the offending value or table (1-based).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// The 1-based line of a TOML error (1 when it has no position).
pub fn error_line(text: &str, error: &toml::de::Error) -> usize {
    error.span().map_or(1, |span| line_of(text, span.start))
}

/// Parses a file of `[[policy]]` tables; `path` is only used in messages.
pub fn parse_policies(text: &str, path: &Path) -> Result<Vec<PolicyConfig>, PolicyConfigError> {
    let invalid = |line, message| PolicyConfigError::Invalid {
        path: path.to_owned(),
        line,
        message,
    };
    let file: PolicyFile = toml::from_str(text)
        .map_err(|error| invalid(error_line(text, &error), error.message().to_owned()))?;
    validate_policies(&file.policy, text).map_err(|error| invalid(error.line, error.message))
}

/// Reads and parses a policy file.
pub fn load_policies(path: &Path) -> Result<Vec<PolicyConfig>, PolicyConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| PolicyConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_policies(&text, path)
}
