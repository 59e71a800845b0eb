//! Notifications that reach people: the [`Notifier`] trait and its three implementations,
//! email over SMTP ([`email`], lettre), a generic JSON webhook and ntfy ([`http`], ureq).
//! Channels are configured as `[[notify]]` entries ([`config`]); [`render`] turns a
//! notification into the same title and text for every channel, and
//! [`send_test_notification`] checks that a channel works end to end.
//!
//! Sending is blocking (one connection per message, a time limit on each); the daemon calls
//! it from a blocking task, never on the async executor.

use std::fmt;

use serde::Serialize;

use crate::Timestamp;
use crate::alerts::{Delivery, Notification, NotificationEvent, Problem};
use crate::finding::{FindingKind, Severity, Subject};

pub mod config;
pub mod email;
pub mod http;

pub use config::{ChannelConfig, build_notifier};

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

/// One message for one channel, with what every channel needs to render it.
#[derive(Clone, Debug, PartialEq)]
pub struct OutgoingMessage {
    /// The appliance's name, so a person with two boxes knows which one wrote.
    pub host: String,
    pub notification: Notification,
    /// Messages of this channel dropped by the rate limit since its last one.
    pub suppressed_before: u32,
}

impl OutgoingMessage {
    pub fn from_delivery(host: &str, delivery: &Delivery) -> OutgoingMessage {
        OutgoingMessage {
            host: host.to_owned(),
            notification: delivery.notification.clone(),
            suppressed_before: delivery.suppressed_before,
        }
    }
}

/// A way to reach people.
pub trait Notifier: Send + Sync + fmt::Debug {
    /// The channel name from the configuration.
    fn name(&self) -> &str;
    /// Delivers one message; returns once the server has accepted it.
    fn send(&self, message: &OutgoingMessage) -> Result<(), NotifyError>;
}

/// The title and text of a message, the same for every channel.
pub mod render {
    use super::*;

    fn event_word(event: NotificationEvent, severity: Severity) -> String {
        match event {
            NotificationEvent::New => severity.as_str().to_uppercase(),
            NotificationEvent::Escalated => format!("now {}", severity.as_str().to_uppercase()),
            NotificationEvent::Reminder => format!("still {}", severity.as_str().to_uppercase()),
            NotificationEvent::Resolved => "RESOLVED".into(),
            NotificationEvent::Test => "TEST".into(),
        }
    }

    /// "[WiZFS nas] CRITICAL: pool tank: pool_state".
    pub fn title(message: &OutgoingMessage) -> String {
        let notification = &message.notification;
        format!(
            "[WiZFS {}] {}: {}: {}",
            message.host,
            event_word(notification.event, notification.problem.severity),
            notification.problem.subject,
            notification.problem.kind
        )
    }

    /// The text: what, since when, and what the rate limit dropped.
    pub fn body(message: &OutgoingMessage) -> String {
        let notification = &message.notification;
        let mut text = String::new();
        let lead = match notification.event {
            NotificationEvent::Resolved => "This problem is resolved",
            NotificationEvent::Reminder => "This problem is still present",
            NotificationEvent::Escalated => "This problem got worse",
            NotificationEvent::New => "A new problem was found",
            NotificationEvent::Test => "This is a test message",
        };
        text.push_str(&format!("{lead} on {}:\n\n", message.host));
        text.push_str(&format!(
            "  {}: {}\n",
            notification.problem.subject, notification.problem.message
        ));
        text.push_str(&format!("  severity: {}\n", notification.problem.severity));
        if notification.event != NotificationEvent::Test {
            text.push_str(&format!(
                "  first seen: {}\n",
                notification.problem.first_seen
            ));
            text.push_str(&format!(
                "  last seen:  {}\n",
                notification.problem.last_seen
            ));
        }
        if let Some(cleared) = notification.problem.cleared {
            text.push_str(&format!("  cleared:    {cleared}\n"));
        }
        if message.suppressed_before > 0 {
            text.push_str(&format!(
                "\n{} earlier notifications to this channel were held back by the rate limit; \
                 see the console for all alerts.\n",
                message.suppressed_before
            ));
        }
        text
    }

    /// The JSON body of the generic webhook.
    #[derive(Debug, Serialize)]
    pub struct WebhookPayload<'a> {
        pub source: &'static str,
        pub host: &'a str,
        pub event: NotificationEvent,
        pub severity: Severity,
        pub subject: &'a Subject,
        pub kind: FindingKind,
        pub title: String,
        pub message: &'a str,
        pub first_seen: i64,
        pub last_seen: i64,
        pub cleared: Option<i64>,
        pub suppressed_before: u32,
    }

    pub fn webhook_payload(message: &OutgoingMessage) -> WebhookPayload<'_> {
        let notification = &message.notification;
        WebhookPayload {
            source: "wizfs",
            host: &message.host,
            event: notification.event,
            severity: notification.problem.severity,
            subject: &notification.problem.subject,
            kind: notification.problem.kind,
            title: title(message),
            message: &notification.problem.message,
            first_seen: notification.problem.first_seen.seconds(),
            last_seen: notification.problem.last_seen.seconds(),
            cleared: notification.problem.cleared.map(Timestamp::seconds),
            suppressed_before: message.suppressed_before,
        }
    }
}

/// Sends a test message through `notifier` ("the test button"): proves the configuration,
/// credentials and network path work, without touching the alert book.
pub fn send_test_notification(
    notifier: &dyn Notifier,
    host: &str,
    now: Timestamp,
) -> Result<(), NotifyError> {
    let message = OutgoingMessage {
        host: host.to_owned(),
        notification: Notification {
            event: NotificationEvent::Test,
            problem: Problem {
                subject: Subject::Collector {
                    collector: format!("notification channel {}", notifier.name()),
                },
                kind: FindingKind::CollectorFailed,
                severity: Severity::Info,
                message: "WiZFS can reach you through this channel.".into(),
                first_seen: now,
                last_seen: now,
                cleared: None,
            },
        },
        suppressed_before: 0,
    };
    notifier.send(&message)
}

/// Sends each delivery through the notifier of its channel; returns the failures (a failing
/// channel does not stop the others). Deliveries for unknown channels are reported too.
pub fn send_all(
    notifiers: &[Box<dyn Notifier>],
    deliveries: &[Delivery],
    host: &str,
) -> Vec<NotifyError> {
    let mut failures = Vec::new();
    for delivery in deliveries {
        let Some(notifier) = notifiers
            .iter()
            .find(|notifier| notifier.name() == delivery.channel)
        else {
            failures.push(NotifyError::Config {
                channel: delivery.channel.clone(),
                reason: "no such channel is configured".into(),
            });
            continue;
        };
        if let Err(error) = notifier.send(&OutgoingMessage::from_delivery(host, delivery)) {
            failures.push(error);
        }
    }
    failures
}
