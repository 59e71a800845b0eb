//! Alerts: the memory between evaluations. Rules are stateless and produce the same findings
//! every minute while a problem lasts; [`AlertBook::evaluate`] turns that stream into alerts
//! (first seen, last seen, cleared) and decides which notifications to send: one when a
//! problem appears, one when its severity rises, a reminder after a set interval, and a
//! "resolved" message when it goes away. A person may acknowledge an active alert
//! ([`AlertBook::acknowledge`]): it stays listed, its reminders stop, and it notifies again
//! only if it gets worse (which ends the acknowledgement). [`AlertBook::route`] then fans them out to the
//! channels that want them, at most N per channel per hour.
//!
//! Everything here is plain data and pure decisions with the clock passed in; the book is
//! serializable so the daemon can keep it across restarts (no repeated mails after a reboot).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::finding::{Finding, FindingKind, Severity, Subject};

/// A channel as routing sees it, and the rate-limit memory of one channel: parts of the
/// channels, in [`wizfs_notify`].
pub use wizfs_notify::{ChannelLog, ChannelRoute};

#[cfg(test)]
mod tests;

const HOUR_SECONDS: i64 = 60 * 60;

/// `[alerts]` of the health configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertPolicy {
    /// Remind about a problem that is still there this many hours after the last message
    /// about it; `None` (or 0) never reminds.
    pub reminder_hours: Option<u32>,
    /// Consecutive evaluations without the finding before the alert is resolved (1 = at the
    /// first clean evaluation; more damps flapping values).
    pub clear_after_evaluations: u32,
    /// Notifications per channel per hour; the rest are counted and mentioned in the next
    /// message that goes out.
    pub max_per_hour_per_channel: u32,
    /// Cleared alerts stay in the book (for the console's history) this many days.
    pub keep_cleared_days: u32,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        AlertPolicy {
            reminder_hours: Some(24),
            clear_after_evaluations: 1,
            max_per_hour_per_channel: 10,
            keep_cleared_days: 30,
        }
    }
}

/// What a problem is and when it was seen: the part an alert and every notification about
/// it share.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub subject: Subject,
    pub kind: FindingKind,
    /// The severity at the last evaluation that saw it (in a `Resolved` notification, the
    /// highest severity that was notified).
    pub severity: Severity,
    pub message: String,
    #[serde(with = "crate::serde_time::seconds")]
    pub first_seen: Timestamp,
    #[serde(with = "crate::serde_time::seconds")]
    pub last_seen: Timestamp,
    #[serde(default, with = "crate::serde_time::optional_seconds")]
    pub cleared: Option<Timestamp>,
}

/// One problem, from the first time it was seen until it cleared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    #[serde(flatten)]
    pub problem: Problem,
    /// The highest severity a notification was sent for.
    pub notified_severity: Option<Severity>,
    #[serde(default, with = "crate::serde_time::optional_seconds")]
    pub last_notified: Option<Timestamp>,
    /// Consecutive evaluations that did not see it.
    pub missed_evaluations: u32,
    /// When a person acknowledged it (no reminders since; a rise in severity ends it).
    #[serde(default, with = "crate::serde_time::optional_seconds")]
    pub acknowledged: Option<Timestamp>,
}

impl Alert {
    pub fn is_active(&self) -> bool {
        self.problem.cleared.is_none()
    }

    fn key(&self) -> (&Subject, FindingKind) {
        (&self.problem.subject, self.problem.kind)
    }
}

/// Why a notification is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationEvent {
    /// A problem appeared.
    New,
    /// A known problem got worse.
    Escalated,
    /// A known problem is still there.
    Reminder,
    /// A problem went away.
    Resolved,
    /// `send_test_notification`: checks that a channel works.
    Test,
}

impl NotificationEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationEvent::New => "new",
            NotificationEvent::Escalated => "escalated",
            NotificationEvent::Reminder => "reminder",
            NotificationEvent::Resolved => "resolved",
            NotificationEvent::Test => "test",
        }
    }
}

/// What to tell people about one alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub event: NotificationEvent,
    #[serde(flatten)]
    pub problem: Problem,
}

/// One notification for one channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub channel: String,
    pub notification: Notification,
    /// Notifications for this channel that the rate limit dropped since its last message.
    pub suppressed_before: u32,
}

/// All alerts, active and recently cleared, and the rate-limit memory of each channel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertBook {
    pub alerts: Vec<Alert>,
    pub channels: BTreeMap<String, ChannelLog>,
}

/// Keeps, for each (subject, kind), the most severe finding of one evaluation: rules that
/// report the same problem twice (or two collectors that see it) make one alert.
pub fn deduplicate(findings: &[Finding]) -> Vec<Finding> {
    let mut merged: BTreeMap<(Subject, FindingKind), Finding> = BTreeMap::new();
    for finding in findings {
        let key = (finding.subject.clone(), finding.kind);
        match merged.get(&key) {
            Some(kept) if kept.severity >= finding.severity => {}
            _ => {
                merged.insert(key, finding.clone());
            }
        }
    }
    merged.into_values().collect()
}

impl AlertBook {
    /// The active alerts, most severe first.
    pub fn active(&self) -> Vec<&Alert> {
        let mut active: Vec<&Alert> = self
            .alerts
            .iter()
            .filter(|alert| alert.is_active())
            .collect();
        active.sort_by(|a, b| {
            b.problem
                .severity
                .cmp(&a.problem.severity)
                .then_with(|| a.key().cmp(&b.key()))
        });
        active
    }

    /// Acknowledges the active alert about `subject` of `kind` at `now`; whether there was
    /// one (acknowledging again keeps the first time).
    pub fn acknowledge(&mut self, subject: &Subject, kind: FindingKind, now: Timestamp) -> bool {
        match self.alerts.iter_mut().find(|alert| {
            alert.is_active() && alert.problem.subject == *subject && alert.problem.kind == kind
        }) {
            Some(alert) => {
                alert.acknowledged.get_or_insert(now);
                true
            }
            None => false,
        }
    }

    /// Takes one evaluation's findings. `unobserved` are subjects whose state is unknown this
    /// time (a sleeping disk, a collector that failed): their alerts are neither refreshed nor
    /// resolved. Returns the notifications to route, in a stable order.
    pub fn evaluate(
        &mut self,
        findings: &[Finding],
        unobserved: &BTreeSet<Subject>,
        policy: &AlertPolicy,
        now: Timestamp,
    ) -> Vec<Notification> {
        let findings = deduplicate(findings);
        let mut notifications = Vec::new();
        let reminder_seconds = policy
            .reminder_hours
            .filter(|hours| *hours > 0)
            .map(|hours| i64::from(hours) * HOUR_SECONDS);
        let mut seen: BTreeSet<(Subject, FindingKind)> = BTreeSet::new();

        for finding in &findings {
            seen.insert((finding.subject.clone(), finding.kind));
            let existing = self.alerts.iter_mut().find(|alert| {
                alert.is_active()
                    && alert.problem.subject == finding.subject
                    && alert.problem.kind == finding.kind
            });
            let Some(alert) = existing else {
                let alert = Alert {
                    problem: Problem {
                        subject: finding.subject.clone(),
                        kind: finding.kind,
                        severity: finding.severity,
                        message: finding.message.clone(),
                        first_seen: now,
                        last_seen: now,
                        cleared: None,
                    },
                    notified_severity: Some(finding.severity),
                    last_notified: Some(now),
                    missed_evaluations: 0,
                    acknowledged: None,
                };
                notifications.push(notification(
                    &alert,
                    NotificationEvent::New,
                    alert.problem.severity,
                ));
                self.alerts.push(alert);
                continue;
            };
            alert.problem.severity = finding.severity;
            alert.problem.message = finding.message.clone();
            alert.problem.last_seen = now;
            alert.missed_evaluations = 0;
            let escalated = alert
                .notified_severity
                .is_none_or(|notified| finding.severity > notified);
            if escalated {
                alert.acknowledged = None;
            }
            let reminder_due = alert.acknowledged.is_none()
                && reminder_seconds.is_some_and(|interval| {
                    alert
                        .last_notified
                        .is_none_or(|last| now.seconds().saturating_sub(last.seconds()) >= interval)
                });
            let event = if escalated {
                Some(if alert.notified_severity.is_some() {
                    NotificationEvent::Escalated
                } else {
                    NotificationEvent::New
                })
            } else if reminder_due {
                Some(NotificationEvent::Reminder)
            } else {
                None
            };
            if let Some(event) = event {
                alert.notified_severity = alert.notified_severity.max(Some(finding.severity));
                alert.last_notified = Some(now);
                notifications.push(notification(alert, event, alert.problem.severity));
            }
        }

        for alert in self.alerts.iter_mut().filter(|alert| alert.is_active()) {
            if seen.contains(&(alert.problem.subject.clone(), alert.problem.kind))
                || unobserved.contains(&alert.problem.subject)
            {
                continue;
            }
            alert.missed_evaluations = alert.missed_evaluations.saturating_add(1);
            if alert.missed_evaluations >= policy.clear_after_evaluations.max(1) {
                alert.problem.cleared = Some(now);
                let peak = alert.notified_severity.unwrap_or(alert.problem.severity);
                notifications.push(notification(alert, NotificationEvent::Resolved, peak));
            }
        }

        let keep_seconds = i64::from(policy.keep_cleared_days) * 24 * HOUR_SECONDS;
        self.alerts.retain(|alert| {
            alert.problem.cleared.is_none_or(|cleared| {
                now.seconds().saturating_sub(cleared.seconds()) < keep_seconds
            })
        });
        self.alerts.sort_by(|a, b| {
            a.key()
                .cmp(&b.key())
                .then(a.problem.first_seen.cmp(&b.problem.first_seen))
        });
        notifications
    }

    /// Sends each notification to every channel whose minimum severity it reaches, at most
    /// `max_per_hour_per_channel` per channel in any hour. A dropped notification is counted
    /// and the count travels with the channel's next message.
    pub fn route(
        &mut self,
        notifications: &[Notification],
        channels: &[ChannelRoute],
        policy: &AlertPolicy,
        now: Timestamp,
    ) -> Vec<Delivery> {
        let mut deliveries = Vec::new();
        for notification in notifications {
            for channel in channels {
                if notification.problem.severity < channel.min_severity {
                    continue;
                }
                let log = self.channels.entry(channel.name.clone()).or_default();
                let Some(suppressed_before) =
                    log.admit(now.seconds(), policy.max_per_hour_per_channel)
                else {
                    continue;
                };
                deliveries.push(Delivery {
                    channel: channel.name.clone(),
                    notification: notification.clone(),
                    suppressed_before,
                });
            }
        }
        deliveries
    }
}

fn notification(alert: &Alert, event: NotificationEvent, severity: Severity) -> Notification {
    Notification {
        event,
        problem: Problem {
            severity,
            ..alert.problem.clone()
        },
    }
}
