//! The daemon's configuration file (TOML, `/etc/wizfs/wizfsd.toml` on the appliance). Plain
//! data with defaults; the samples in `docs/samples/` are parsed by the tests below, and a
//! bad file is rejected with a message naming the line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_PATH: &str = "/etc/wizfs/wizfsd.toml";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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
}

impl Default for IndexConfig {
    fn default() -> Self {
        Self {
            interval_seconds: 900,
            exclude: Vec::new(),
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
        }
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

impl Config {
    /// Parses a configuration text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|error| {
            let line = error.span().map_or(0, |span| {
                text[..span.start.min(text.len())].lines().count().max(1)
            });
            ConfigError::Invalid {
                path: path.to_owned(),
                line,
                message: error.message().to_owned(),
            }
        })
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
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
