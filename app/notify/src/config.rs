//! `[[notify]]` entries of a configuration: one per channel, tagged by `type` (`email`,
//! `webhook`, `ntfy`, `gotify`), and [`build_notifier`], which turns one into its
//! [`Notifier`]. Secrets (SMTP password, tokens) can be written inline or, better, read from a
//! file (`password_file`, `token_file`) that only root can read, so the configuration itself
//! can be shown and backed up. The settings of each channel type live with its code and are
//! re-exported here.

use serde::{Deserialize, Serialize};

pub use crate::channel::{resolve_secret, valid_name};
pub use crate::email::{EmailChannel, SmtpSecurity};
pub use crate::http::{GotifyChannel, NtfyChannel, WebhookChannel};

use crate::channel::{Notifier, NotifyError};
use crate::email::EmailNotifier;
use crate::http::{GotifyNotifier, NtfyNotifier, WebhookNotifier};
use crate::message::Severity;

/// One `[[notify]]` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChannelConfig {
    Email(EmailChannel),
    Webhook(WebhookChannel),
    Ntfy(NtfyChannel),
    Gotify(GotifyChannel),
}

/// A channel as routing sees it: its name and the least severity it wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelRoute {
    pub name: String,
    pub min_severity: Severity,
}

impl ChannelConfig {
    pub fn name(&self) -> &str {
        match self {
            ChannelConfig::Email(channel) => &channel.name,
            ChannelConfig::Webhook(channel) => &channel.name,
            ChannelConfig::Ntfy(channel) => &channel.name,
            ChannelConfig::Gotify(channel) => &channel.name,
        }
    }

    pub fn min_severity(&self) -> Severity {
        match self {
            ChannelConfig::Email(channel) => channel.min_severity,
            ChannelConfig::Webhook(channel) => channel.min_severity,
            ChannelConfig::Ntfy(channel) => channel.min_severity,
            ChannelConfig::Gotify(channel) => channel.min_severity,
        }
    }

    /// The routing view of this channel.
    pub fn route(&self) -> ChannelRoute {
        ChannelRoute {
            name: self.name().to_owned(),
            min_severity: self.min_severity(),
        }
    }
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
        ChannelConfig::Gotify(channel) => Box::new(GotifyNotifier::new(channel)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_type_reads_with_its_defaults() {
        let text = r#"[
            {"type": "gotify", "name": "phone", "url": "https://gotify.example.org",
             "token_file": "/etc/wizfs/gotify-token"},
            {"type": "ntfy", "name": "ntfy", "min_severity": "critical",
             "server": "https://ntfy.sh", "topic": "t"}
        ]"#;
        let channels: Vec<ChannelConfig> = serde_json::from_str(text).expect("reads");
        assert_eq!(
            channels[0].route(),
            ChannelRoute {
                name: "phone".into(),
                min_severity: Severity::Warning
            }
        );
        assert!(
            matches!(&channels[0], ChannelConfig::Gotify(channel) if channel.timeout_seconds == 20),
            "{channels:?}"
        );
        assert_eq!(channels[1].min_severity(), Severity::Critical);
        let unknown = serde_json::from_str::<ChannelConfig>(r#"{"type": "pigeon", "name": "a"}"#);
        assert!(unknown.is_err());
    }
}
