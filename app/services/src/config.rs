//! The daemon's configuration file (TOML, `/etc/wizfs/wizfsd.toml` on the appliance). Plain
//! data with defaults; the samples in `docs/samples/` are parsed by the tests below, and a
//! bad file is rejected with a message naming the line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_PATH: &str = "/etc/wizfs/wizfsd.toml";

// Not `Eq`: the health thresholds are floating-point numbers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the web console and API listen on.
    pub listen: SocketAddr,
    /// Where the daemon keeps its own state (index, history, sessions).
    pub data_dir: PathBuf,
    /// A `tracing` filter, e.g. `info` or `wizfsd=debug,info`.
    pub log: String,
    pub zfs: ZfsBackend,
    pub index: IndexConfig,
    pub recovery: RecoveryConfig,
    /// Snapshot policies as written: `[[policy]]` tables (see `wizfs_snapshots::config`).
    #[serde(rename = "policy")]
    pub policy_tables: wizfs_snapshots::PolicyTables,
    /// The same policies, validated by [`Config::parse`].
    #[serde(skip)]
    pub policies: Vec<wizfs_snapshots::PolicyConfig>,
    /// Backup jobs as written: `[[backup]]` tables (`docs/backup.md`, "Configuration").
    #[serde(rename = "backup")]
    pub backup_tables: wizfs_backup::config::BackupTables,
    /// The same jobs, validated by [`Config::parse`].
    #[serde(skip)]
    pub backups: Vec<wizfs_backup::BackupJobConfig>,
    /// Health monitoring: the `health.toml` of `wizfs-health` as the `[health]` table
    /// (`[health.smart]`, `[[health.notify]]`, …), validated by [`Config::parse`].
    pub health: wizfs_health::config::HealthConfig,
    pub console: ConsoleConfig,
    /// The file it was read from ([`Config::load`]): the console changes its policies and
    /// notification channels there. None for a configuration made in code.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// The web console: where its compiled files are, how it is served and announced.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// The built console (`pkg/wizfs.js`, `pkg/wizfs_bg.wasm`, `pkg/wizfs.css`), made by
    /// `app/web/build`.
    pub site_dir: PathBuf,
    /// `auto`: HTTPS with a self-signed certificate unless the daemon listens on loopback
    /// only; `https`: always; `http`: plain HTTP, refused unless on loopback.
    pub tls: TlsMode,
    /// Announce the console on the LAN (mDNS `_wizfs._tcp`, `_https._tcp`).
    pub advertise: bool,
    /// The name announced and put in the certificate (default: the system's host name).
    pub hostname: Option<String>,
    /// More host names the console answers to (a DNS name pointing at the appliance, a
    /// reverse proxy's name). It always answers to its host name, `<host name>.local`,
    /// `localhost`, loopback and the machine's own addresses; any other `Host` is refused,
    /// so that a web page cannot reach the console under a name of its own (DNS rebinding).
    pub allowed_hosts: Vec<String>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            site_dir: PathBuf::from("/usr/share/wizfs/console"),
            tls: TlsMode::Auto,
            advertise: true,
            hostname: None,
            allowed_hosts: Vec::new(),
        }
    }
}

/// The `[console] tls` setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    #[default]
    Auto,
    Https,
    Http,
}

/// The search index: how often snapshots made by other tools are picked up, and which
/// datasets stay out of it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexConfig {
    /// Seconds between reconciliations (also run at start-up); 0 turns the schedule off.
    pub interval_seconds: u64,
    /// Datasets (with their descendants) never indexed.
    pub exclude: Vec<String>,
    /// How a new snapshot is compared with the previous one: `adaptive` (by the objects of
    /// the send stream between them unless a walk is expected to be cheaper, else whichever
    /// of `zfs diff` and a walk measured cheaper), `objects`, `diff` (always `zfs diff`) or
    /// `walk` (always a metadata walk). The fake backend always uses `diff`.
    pub method: IndexMethod,
}

/// The `[index] method` setting (see `wizfs_indexer::MethodPolicy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndexMethod {
    #[default]
    Adaptive,
    Objects,
    Diff,
    Walk,
}

impl Default for IndexConfig {
    fn default() -> Self {
        Self {
            interval_seconds: 900,
            exclude: Vec::new(),
            method: IndexMethod::Adaptive,
        }
    }
}

impl IndexConfig {
    /// Whether `dataset` is indexed (not at or below an excluded dataset).
    pub fn includes(&self, dataset: &wizfs_core::DatasetName) -> bool {
        !self
            .exclude
            .iter()
            .filter_map(|name| wizfs_core::DatasetName::new(name).ok())
            .any(|excluded| dataset.is_same_or_descendant_of(&excluded))
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("/var/lib/wizfs"),
            log: "info".to_owned(),
            zfs: ZfsBackend::Real,
            index: IndexConfig::default(),
            recovery: RecoveryConfig::default(),
            policy_tables: Vec::new(),
            policies: Vec::new(),
            backup_tables: Vec::new(),
            backups: Vec::new(),
            health: wizfs_health::config::HealthConfig::default(),
            console: ConsoleConfig::default(),
            source: None,
        }
    }
}

/// Recovery: how long the guard snapshots taken before restores in place are kept.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecoveryConfig {
    /// Days a guard snapshot is kept (never while held); 0 keeps them for ever.
    pub guard_lifetime_days: u32,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        Self {
            guard_lifetime_days: wizfs_core::guards::GuardLifetime::DEFAULT_DAYS,
        }
    }
}

impl RecoveryConfig {
    /// The lifetime; none when guards are kept for ever.
    pub fn guard_lifetime(&self) -> Option<wizfs_core::guards::GuardLifetime> {
        wizfs_core::guards::GuardLifetime::days(self.guard_lifetime_days)
    }
}

/// Which ZFS the daemon drives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase", deny_unknown_fields)]
pub enum ZfsBackend {
    /// The `zfs`/`zpool` commands of this machine.
    #[default]
    Real,
    /// The directory-backed fake (demo mode on a machine without ZFS).
    Fake { root: PathBuf },
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("configuration file {path} is invalid at line {line}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// A `[health]` section that parses but does not make sense, at the line of its table
/// (`[health.pools]` for `pools.capacity_percent`), else of the first `[health…]` header.
fn health_error(error: &wizfs_health::config::ConfigError, text: &str, path: &Path) -> ConfigError {
    let (field, reason) = match error {
        wizfs_health::config::ConfigError::Invalid { field, reason } => {
            (format!("health.{field}"), reason.clone())
        }
        other => ("health".to_owned(), other.to_string()),
    };
    let header = |line: &str| {
        let line = line.trim();
        let name = line.trim_start_matches('[').split(']').next().unwrap_or("");
        line.starts_with('[').then(|| name.trim().to_owned())
    };
    let table = field.rsplit_once('.').map_or("health", |(table, _)| table);
    let find = |wanted: &dyn Fn(&str) -> bool| {
        text.lines()
            .position(|line| header(line).is_some_and(|name| wanted(&name)))
            .map(|index| index + 1)
    };
    let line = find(&|name| name == table)
        .or_else(|| find(&|name| name == "health" || name.starts_with("health.")))
        .unwrap_or(1);
    ConfigError::Invalid {
        path: path.to_owned(),
        line,
        message: format!("`{field}`: {reason}"),
    }
}

/// The line of the `[[backup]]` table a field path (`backup[2].target.pool`) is in: the
/// header of the table it counts (1 when it cannot be found).
fn backup_line(text: &str, field: &str) -> usize {
    let index: usize = field
        .strip_prefix("backup[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|number| number.parse().ok())
        .unwrap_or(0);
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.trim() == "[[backup]]")
        .nth(index)
        .map_or(1, |(number, _)| number + 1)
}

impl Config {
    /// Parses a configuration text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let mut config: Self = toml::from_str(text).map_err(|error| {
            let line = error.span().map_or(0, |span| {
                text[..span.start.min(text.len())].lines().count().max(1)
            });
            ConfigError::Invalid {
                path: path.to_owned(),
                line,
                message: error.message().to_owned(),
            }
        })?;
        config.policies =
            wizfs_snapshots::validate_policies(&config.policy_tables, text).map_err(|error| {
                ConfigError::Invalid {
                    path: path.to_owned(),
                    line: error.line,
                    message: error.message,
                }
            })?;
        config.backups =
            wizfs_backup::config::validate_backups(&config.backup_tables).map_err(|error| {
                ConfigError::Invalid {
                    path: path.to_owned(),
                    line: backup_line(text, &error.field),
                    message: error.to_string(),
                }
            })?;
        config
            .health
            .validate()
            .map_err(|error| health_error(&error, text, path))?;
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Self::parse(&text, path)?;
        config.source = Some(path.to_owned());
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/samples")
    }

    #[test]
    fn every_sample_configuration_parses() {
        let mut parsed = 0;
        for entry in std::fs::read_dir(samples()).expect("docs/samples") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            if !name.starts_with("wizfsd") || !name.ends_with(".toml") {
                continue;
            }
            let result = Config::load(&path);
            if name.contains("invalid") {
                assert!(
                    matches!(result, Err(ConfigError::Invalid { line, .. }) if line > 0),
                    "{name}: {result:?}"
                );
            } else {
                result.unwrap_or_else(|error| panic!("{name}: {error}"));
            }
            parsed += 1;
        }
        assert!(
            parsed >= 3,
            "expected valid and invalid samples, found {parsed}"
        );
    }

    #[test]
    fn empty_file_means_defaults() {
        assert_eq!(
            Config::parse("", Path::new("x")).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn errors_name_the_line() {
        let text = "log = \"info\"\n\nlisten = \"not an address\"\n";
        let error = Config::parse(text, Path::new("/etc/wizfs/wizfsd.toml")).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("/etc/wizfs/wizfsd.toml"), "{message}");
        let unknown = Config::parse("lissten = \"127.0.0.1:1\"", Path::new("x")).unwrap_err();
        assert!(unknown.to_string().contains("lissten"), "{unknown}");
    }

    #[test]
    fn index_exclusions_cover_descendants() {
        let config = Config::parse(
            "[index]\nexclude = [\"tank/scratch\"]\ninterval_seconds = 60\n",
            Path::new("x"),
        )
        .unwrap();
        let name = |text: &str| wizfs_core::DatasetName::new(text).unwrap();
        assert!(!config.index.includes(&name("tank/scratch")));
        assert!(!config.index.includes(&name("tank/scratch/tmp")));
        assert!(config.index.includes(&name("tank/scratchpad")));
        assert_eq!(config.index.interval_seconds, 60);
    }

    #[test]
    fn guard_snapshots_live_thirty_days_unless_configured() {
        let sample = Config::load(&samples().join("wizfsd.toml")).expect("sample");
        assert_eq!(sample.recovery.guard_lifetime_days, 30);
        assert_eq!(
            Config::default().recovery.guard_lifetime(),
            wizfs_core::guards::GuardLifetime::days(30)
        );
        let forever =
            Config::parse("[recovery]\nguard_lifetime_days = 0\n", Path::new("x")).expect("parses");
        assert_eq!(forever.recovery.guard_lifetime(), None);
    }

    #[test]
    fn snapshot_policies_are_validated_with_their_line() {
        let config = Config::load(&samples().join("wizfsd.toml")).expect("sample");
        let ids: Vec<&str> = config
            .policies
            .iter()
            .map(|policy| policy.id().as_str())
            .collect();
        assert_eq!(ids, ["home"]);
        let text = "log = \"info\"\n\n[[policy]]\nid = \"home\"\ndataset = \"tank/home\"\n\n[[policy]]\nid = \"home\"\ndataset = \"tank/other\"\nhourly = 1\n";
        let error = Config::parse(text, Path::new("x")).unwrap_err().to_string();
        assert!(
            error.contains("line 3") && error.contains("keeps no snapshots"),
            "{error}"
        );
        let typo = "[[policy]]\nid = \"home\"\ndataset = \"tank/home\"\nhourli = 24\n";
        let error = Config::parse(typo, Path::new("x")).unwrap_err().to_string();
        assert!(error.contains("hourli"), "{error}");
    }

    #[test]
    fn health_section_is_parsed_and_checked() {
        let config = Config::load(&samples().join("wizfsd.toml")).expect("sample");
        assert_eq!(config.health.intervals.pools_seconds, 60);
        let text = "log = \"info\"\n\n[health.intervals]\nsmart_minutes = 10\n\n[health.pools]\ncapacity_percent = { warning = 95, critical = 90 }\n";
        let error = Config::parse(text, Path::new("x")).unwrap_err().to_string();
        assert!(
            error.contains("line 6")
                && error.contains("health.pools.capacity_percent")
                && error.contains("warning level is above the critical level"),
            "{error}"
        );
        let typo = "[health.smart]\nreallocated_sector = { warning = 1 }\n";
        let error = Config::parse(typo, Path::new("x")).unwrap_err().to_string();
        assert!(error.contains("reallocated_sector"), "{error}");
        let twice = "[[health.notify]]\ntype = \"webhook\"\nname = \"a\"\nurl = \"http://127.0.0.1:1/\"\n\n[[health.notify]]\ntype = \"ntfy\"\nname = \"a\"\nserver = \"http://127.0.0.1:2\"\ntopic = \"t\"\n";
        let error = Config::parse(twice, Path::new("x"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 1") && error.contains("two channels are named `a`"),
            "{error}"
        );
    }

    #[test]
    fn fake_backend_needs_a_root() {
        let config = Config::parse(
            "[zfs]\nbackend = \"fake\"\nroot = \"/tmp/demo\"\n",
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(
            config.zfs,
            ZfsBackend::Fake {
                root: PathBuf::from("/tmp/demo")
            }
        );
        assert!(Config::parse("[zfs]\nbackend = \"fake\"\n", Path::new("x")).is_err());
        assert!(Config::parse("[zfs]\nbackend = \"imaginary\"\n", Path::new("x")).is_err());
    }
}
