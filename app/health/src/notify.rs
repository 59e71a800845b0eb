//! Notifications of health alerts. The channels — email, webhook, ntfy and Gotify — with
//! their `[[notify]]` configuration are the crate [`wizfs_notify`], re-exported here under
//! their old paths; this module says what to tell people: [`render`] turns an alert's
//! notification into the same [`Message`] for every channel, [`send_all`] sends deliveries
//! through their channels and [`send_test_notification`] checks that a channel works end to
//! end.
//!
//! Sending is blocking (one connection per message, a time limit on each); the daemon calls
//! it from a blocking task, never on the async executor.

use serde::Serialize;

pub use wizfs_notify::{
    ChannelConfig, Message, Notifier, NotifyError, Priority, build_notifier, config, email, http,
};

use crate::Timestamp;
use crate::alerts::{Delivery, Notification, NotificationEvent, Problem};
use crate::finding::{FindingKind, Severity, Subject};

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

    /// What every channel sends for it.
    pub fn message(&self) -> Result<Message, serde_json::Error> {
        let notification = &self.notification;
        Ok(Message {
            title: render::title(self),
            body: render::body(self),
            priority: render::priority(notification.event, notification.problem.severity),
            tags: render::tags(self),
            json: serde_json::to_string(&render::webhook_payload(self))?,
        })
    }
}

/// Renders `outgoing` and sends it through `notifier`.
fn deliver(notifier: &dyn Notifier, outgoing: &OutgoingMessage) -> Result<(), NotifyError> {
    let message = outgoing.message().map_err(|error| NotifyError::Config {
        channel: notifier.name().to_owned(),
        reason: format!("encoding the payload: {error}"),
    })?;
    notifier.send(&message)
}

/// The title, text, priority, tags and webhook JSON of a message, the same for every channel.
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

    /// How insistently to ring: by severity, and the default for a resolved or test
    /// message (ntfy 2–5, 3 for resolved; Gotify 2, 5, 8, 10).
    pub fn priority(event: NotificationEvent, severity: Severity) -> Priority {
        match (event, severity) {
            (NotificationEvent::Resolved | NotificationEvent::Test, _) => Priority::Default,
            (_, Severity::Info) => Priority::Low,
            (_, Severity::Warning) => Priority::High,
            (_, Severity::Critical) => Priority::Urgent,
        }
    }

    /// Tags: an emoji short code (ntfy shows it before the title), the event and the kind.
    pub fn tags(message: &OutgoingMessage) -> Vec<String> {
        let notification = &message.notification;
        let emoji = match (notification.event, notification.problem.severity) {
            (NotificationEvent::Resolved, _) => "white_check_mark",
            (NotificationEvent::Test, _) => "test_tube",
            (_, Severity::Critical) => "rotating_light",
            (_, Severity::Warning) => "warning",
            (_, Severity::Info) => "information_source",
        };
        vec![
            emoji.to_owned(),
            notification.event.as_str().to_owned(),
            notification.problem.kind.to_string(),
        ]
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
    deliver(notifier, &message)
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
        if let Err(error) = deliver(
            notifier.as_ref(),
            &OutgoingMessage::from_delivery(host, delivery),
        ) {
            failures.push(error);
        }
    }
    failures
}
