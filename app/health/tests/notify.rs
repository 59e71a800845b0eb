//! What health alerts tell people, through recording channels (the channels themselves are
//! tested against real servers in `wizfs-notify`): the title, text, priority, tags and
//! webhook JSON of a notification, test messages, and deliveries fanned out to their channels
//! with failures reported per channel.

use std::sync::{Arc, Mutex};

use wizfs_health::alerts::{Delivery, Notification, NotificationEvent, Problem};
use wizfs_health::notify::{
    Message, Notifier, NotifyError, OutgoingMessage, Priority, send_all, send_test_notification,
};
use wizfs_health::{FindingKind, Severity, Subject, Timestamp};

const NOW: Timestamp = Timestamp(1_800_000_000);

/// A channel that keeps what it is given, or refuses it.
#[derive(Debug)]
struct Recorder {
    name: String,
    refuse: bool,
    sent: Arc<Mutex<Vec<Message>>>,
}

fn recorder(name: &str, refuse: bool) -> (Box<dyn Notifier>, Arc<Mutex<Vec<Message>>>) {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let notifier = Recorder {
        name: name.into(),
        refuse,
        sent: sent.clone(),
    };
    (Box::new(notifier), sent)
}

impl Notifier for Recorder {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&self, message: &Message) -> Result<(), NotifyError> {
        if self.refuse {
            return Err(NotifyError::HttpStatus {
                channel: self.name.clone(),
                url: "http://127.0.0.1/fail".into(),
                status: 500,
                body: "boom".into(),
            });
        }
        self.sent
            .lock()
            .map_err(|_| NotifyError::Config {
                channel: self.name.clone(),
                reason: "poisoned".into(),
            })?
            .push(message.clone());
        Ok(())
    }
}

fn messages(sent: &Arc<Mutex<Vec<Message>>>) -> Vec<Message> {
    sent.lock().map(|sent| sent.clone()).unwrap_or_default()
}

fn degraded(event: NotificationEvent) -> Notification {
    Notification {
        event,
        problem: Problem {
            subject: Subject::Pool {
                pool: "tank".into(),
            },
            kind: FindingKind::PoolState,
            severity: Severity::Critical,
            message: "pool is DEGRADED: a device failed or is offline and redundancy is reduced"
                .into(),
            first_seen: NOW,
            last_seen: Timestamp(NOW.seconds() + 60),
            cleared: (event == NotificationEvent::Resolved)
                .then_some(Timestamp(NOW.seconds() + 120)),
        },
    }
}

fn delivery(channel: &str, event: NotificationEvent, suppressed_before: u32) -> Delivery {
    Delivery {
        channel: channel.into(),
        notification: degraded(event),
        suppressed_before,
    }
}

#[test]
fn the_webhook_json_carries_the_whole_notification() {
    let outgoing =
        OutgoingMessage::from_delivery("nas1", &delivery("hook", NotificationEvent::New, 2));
    let message = outgoing.message().expect("renders");
    let json: serde_json::Value = serde_json::from_str(&message.json).expect("json");
    assert_eq!(json["source"], "wizfs");
    assert_eq!(json["host"], "nas1");
    assert_eq!(json["event"], "new");
    assert_eq!(json["severity"], "critical");
    assert_eq!(json["kind"], "pool_state");
    assert_eq!(json["subject"]["type"], "pool");
    assert_eq!(json["subject"]["pool"], "tank");
    assert_eq!(json["first_seen"], NOW.seconds());
    assert_eq!(json["cleared"], serde_json::Value::Null);
    assert_eq!(json["suppressed_before"], 2);
    assert_eq!(
        json["title"],
        "[WiZFS nas1] CRITICAL: pool tank: pool_state"
    );
    assert!(
        message
            .body
            .contains("2 earlier notifications to this channel were held back"),
        "{}",
        message.body
    );
}

#[test]
fn title_priority_and_tags_follow_the_event_and_severity() {
    let (notifier, sent) = recorder("phone", false);
    let deliveries = [
        delivery("phone", NotificationEvent::New, 0),
        delivery("phone", NotificationEvent::Resolved, 0),
    ];
    let failures = send_all(&[notifier], &deliveries, "nas1");
    assert!(failures.is_empty(), "{failures:?}");
    let got = messages(&sent);
    let summary: Vec<_> = got
        .iter()
        .map(|message| {
            (
                message.title.as_str(),
                message.priority,
                message.tags.join(","),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "[WiZFS nas1] CRITICAL: pool tank: pool_state",
                Priority::Urgent,
                "rotating_light,new,pool_state".to_owned()
            ),
            (
                "[WiZFS nas1] RESOLVED: pool tank: pool_state",
                Priority::Default,
                "white_check_mark,resolved,pool_state".to_owned()
            ),
        ]
    );
    assert!(
        got[0].body.starts_with("A new problem was found on nas1:"),
        "{}",
        got[0].body
    );
    assert!(got[1].body.contains("cleared:"), "{}", got[1].body);
}

#[test]
fn a_failing_or_missing_channel_does_not_stop_the_others() {
    let (failing, _) = recorder("broken", true);
    let (working, sent) = recorder("hook", false);
    let deliveries: Vec<_> = ["broken", "hook", "missing"]
        .iter()
        .map(|channel| delivery(channel, NotificationEvent::New, 0))
        .collect();
    let failures = send_all(&[failing, working], &deliveries, "nas1");
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(
        matches!(&failures[0], NotifyError::HttpStatus { channel, status: 500, .. } if channel == "broken")
    );
    assert!(matches!(&failures[1], NotifyError::Config { channel, .. } if channel == "missing"));
    assert_eq!(messages(&sent).len(), 1);
}

#[test]
fn a_test_message_names_its_channel_and_host() {
    let (notifier, sent) = recorder("mail", false);
    send_test_notification(notifier.as_ref(), "nas1", NOW).expect("sends");
    let got = messages(&sent);
    assert_eq!(
        got[0].title,
        "[WiZFS nas1] TEST: collector notification channel mail: collector_failed"
    );
    assert!(
        got[0].body.contains("This is a test message on nas1"),
        "{}",
        got[0].body
    );
    assert_eq!(
        (got[0].priority, got[0].tags[0].as_str()),
        (Priority::Default, "test_tube")
    );
}
