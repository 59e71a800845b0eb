//! What every channel sends: a [`Message`] with its [`Priority`], and the [`Severity`]
//! channels filter on.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How bad something is. Ordered: `Info < Warning < Critical`. A channel receives what
/// reaches its `min_severity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing, nothing to do yet (shown in the console, not mailed by default).
    Info,
    /// Act soon: a disk or pool is wearing out or misbehaving.
    Warning,
    /// Act now: data is at risk or a device has failed.
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// How insistently a phone should ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// No sound.
    Low,
    Default,
    /// Sound and a pop-up.
    High,
    /// As loud as the app allows.
    Urgent,
}

impl Priority {
    /// ntfy's scale: 1 min, 2 low, 3 default, 4 high, 5 max.
    pub fn ntfy(self) -> u8 {
        match self {
            Priority::Low => 2,
            Priority::Default => 3,
            Priority::High => 4,
            Priority::Urgent => 5,
        }
    }

    /// Gotify's scale, 0–10: the Android app is silent below 4, rings from 4 and pops up from
    /// 8.
    pub fn gotify(self) -> u8 {
        match self {
            Priority::Low => 2,
            Priority::Default => 5,
            Priority::High => 8,
            Priority::Urgent => 10,
        }
    }
}

/// One message, as every channel sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The subject line (email), `Title` (ntfy), `title` (Gotify).
    pub title: String,
    /// Plain text.
    pub body: String,
    pub priority: Priority,
    /// Short labels (ntfy `Tags`; an emoji short code first is shown before the title).
    pub tags: Vec<String>,
    /// The JSON document the generic webhook posts, already encoded.
    pub json: String,
}
