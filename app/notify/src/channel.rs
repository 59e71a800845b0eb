//! What every channel shares: the [`Notifier`] trait, [`NotifyError`], secrets read inline
//! or from a file ([`resolve_secret`]), the rule for names ([`valid_name`]) and the defaults
//! of the channel settings.

use std::fmt;
use std::path::Path;

use crate::message::{Message, Severity};

/// Failures to configure a channel or deliver a message, naming the channel.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("channel `{channel}`: {reason}")]
    Config { channel: String, reason: String },
    #[error("channel `{channel}`: reading secret {}: {source}", path.display())]
    Secret {
        channel: String,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("channel `{channel}`: invalid address {address:?}: {source}")]
    Address {
        channel: String,
        address: String,
        #[source]
        source: lettre::address::AddressError,
    },
    #[error("channel `{channel}`: building the email: {source}")]
    Message {
        channel: String,
        #[source]
        source: lettre::error::Error,
    },
    #[error("channel `{channel}`: SMTP server {server}: {source}")]
    Smtp {
        channel: String,
        server: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("channel `{channel}`: POST {url}: {source}")]
    Http {
        channel: String,
        url: String,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error("channel `{channel}`: POST {url} answered HTTP {status}: {body}")]
    HttpStatus {
        channel: String,
        url: String,
        status: u16,
        body: String,
    },
}

/// A way to reach people.
pub trait Notifier: Send + Sync + fmt::Debug {
    /// The channel name from the configuration.
    fn name(&self) -> &str;
    /// Delivers one message; returns once the server has accepted it.
    fn send(&self, message: &Message) -> Result<(), NotifyError>;
}

pub(crate) fn default_min_severity() -> Severity {
    Severity::Warning
}

pub(crate) fn default_timeout_seconds() -> u32 {
    20
}

/// Resolves a secret given inline or as a file (trailing newline removed). Both at once, or
/// an empty file, is a configuration error.
pub fn resolve_secret(
    channel: &str,
    what: &str,
    inline: Option<&str>,
    file: Option<&Path>,
) -> Result<Option<String>, NotifyError> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(NotifyError::Config {
            channel: channel.into(),
            reason: format!("give either `{what}` or `{what}_file`, not both"),
        }),
        (Some(value), None) => Ok(Some(value.to_owned())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|source| NotifyError::Secret {
                channel: channel.into(),
                path: path.to_path_buf(),
                source,
            })?;
            let value = text.trim_end_matches(['\n', '\r']).to_owned();
            if value.is_empty() {
                return Err(NotifyError::Config {
                    channel: channel.into(),
                    reason: format!("`{what}_file` {} is empty", path.display()),
                });
            }
            Ok(Some(value))
        }
        (None, None) => Ok(None),
    }
}

/// A name: letters, digits, `-` and `_`, 1–64 characters (ntfy topics and channel names).
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.chars().all(|character| {
            character.is_ascii_alphanumeric() || character == '-' || character == '_'
        })
}
