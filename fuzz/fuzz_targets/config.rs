//! Fuzzes the configuration files: `health.toml` (`HealthConfig::from_toml`), the snapshot
//! policy files (`wizfs_snapshots::parse_policies`) and the daemon's `wizfsd.toml`
//! (`app/services/src/config.rs`, compiled here from its source). The first byte picks the
//! file kind, the rest is the text (lossy UTF-8: the files are read as strings). Properties:
//! no panic, and a refused file names a line that exists in it.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use wizfs_fuzz::wizfsd_config::{Config, ConfigError};
use wizfs_health::config::HealthConfig;
use wizfs_snapshots::config::{PolicyConfigError, parse_policies};

fn line_exists(text: &str, line: usize) {
    let lines = text.bytes().filter(|&byte| byte == b'\n').count() + 1;
    assert!(line <= lines, "line {line} of a text with {lines} lines");
}

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = wizfs_fuzz::selector(data) else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let text = text.as_ref();
    let path = Path::new("fuzz.toml");
    match first % 3 {
        0 => {
            if let Err(error) = HealthConfig::from_toml(text) {
                let _ = error.to_string();
            }
        }
        1 => match parse_policies(text, path) {
            Ok(policies) => {
                for policy in &policies {
                    let _ = policy.id();
                }
            }
            Err(PolicyConfigError::Invalid { line, .. }) => {
                assert!(line >= 1, "policy lines are 1-based");
                line_exists(text, line);
            }
            Err(error) => panic!("reading no file failed: {error}"),
        },
        _ => match Config::parse(text, path) {
            Ok(config) => {
                assert_eq!(config.policies.len(), config.policy_tables.len());
            }
            Err(ConfigError::Invalid { line, .. }) => line_exists(text, line),
            Err(error) => panic!("reading no file failed: {error}"),
        },
    }
});
