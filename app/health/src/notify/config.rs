//! `[[notify]]` entries of the health configuration: one per channel, tagged by `type`
//! (`email`, `webhook`, `ntfy`). Secrets (SMTP password, bearer tokens) can be written inline
//! or, better, read from a file (`password_file`, `token_file`) that only root can read, so
//! the configuration itself can be shown and backed up.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::email::EmailNotifier;
use super::http::{NtfyNotifier, WebhookNotifier};
use super::{Notifier, NotifyError};
use crate::alerts::ChannelRoute;
use crate::finding::Severity;

fn default_min_severity() -> Severity {
    Severity::Warning
}

fn default_timeout_seconds() -> u32 {
    20
}

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587); the upgrade is required.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption (port 25): only for a relay on the local network; credentials are then
    /// only accepted for a loopback server.
    None,
}

/// `type = "email"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailChannel {
    pub name: String,
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    pub smtp_host: String,
    /// Defaults to 587, 465 or 25 by `security`.
    pub smtp_port: Option<u16>,
    #[serde(default)]
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_file: Option<PathBuf>,
    /// `"WiZFS <nas@example.org>"`.
    pub from: String,
    pub to: Vec<String>,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u32,
}

/// `type = "webhook"`: a JSON POST (see `render::WebhookPayload`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookChannel {
    pub name: String,
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    pub url: String,
    /// Sent as `Authorization: Bearer …`.
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u32,
}

/// `type = "ntfy"`: a POST to `server/topic` with Title, Priority and Tags headers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NtfyChannel {
    pub name: String,
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    /// `https://ntfy.sh` or a self-hosted server.
    pub server: String,
    pub topic: String,
    /// Access token (`Authorization: Bearer …`) for protected topics.
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u32,
}

/// One `[[notify]]` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChannelConfig {
    Email(EmailChannel),
    Webhook(WebhookChannel),
    Ntfy(NtfyChannel),
}

impl ChannelConfig {
    pub fn name(&self) -> &str {
        match self {
            ChannelConfig::Email(channel) => &channel.name,
            ChannelConfig::Webhook(channel) => &channel.name,
            ChannelConfig::Ntfy(channel) => &channel.name,
        }
    }

    pub fn min_severity(&self) -> Severity {
        match self {
            ChannelConfig::Email(channel) => channel.min_severity,
            ChannelConfig::Webhook(channel) => channel.min_severity,
            ChannelConfig::Ntfy(channel) => channel.min_severity,
        }
    }

    /// The routing view of this channel for `AlertBook::route`.
    pub fn route(&self) -> ChannelRoute {
        ChannelRoute {
            name: self.name().to_owned(),
            min_severity: self.min_severity(),
        }
    }
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

/// Builds the notifier of one channel, reading its secrets and checking its addresses.
pub fn build_notifier(config: &ChannelConfig) -> Result<Box<dyn Notifier>, NotifyError> {
    if !valid_name(config.name()) {
        return Err(NotifyError::Config {
            channel: config.name().into(),
            reason: "a channel name is 1–64 letters, digits, `-` or `_`".into(),
        });
    }
    Ok(match config {
        ChannelConfig::Email(channel) => Box::new(EmailNotifier::new(channel)?),
        ChannelConfig::Webhook(channel) => Box::new(WebhookNotifier::new(channel)?),
        ChannelConfig::Ntfy(channel) => Box::new(NtfyNotifier::new(channel)?),
    })
}
