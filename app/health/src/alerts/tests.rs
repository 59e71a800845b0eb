//! Table tests of the alert state machine and the routing, with an injected clock: each case
//! is a sequence of evaluations (minute, findings) and the notifications each must produce.

use super::*;

const START: i64 = 1_800_000_000;
const MINUTE: i64 = 60;
const HOUR: i64 = 3600;

fn pool(name: &str) -> Subject {
    Subject::Pool { pool: name.into() }
}

fn finding(subject: &Subject, kind: FindingKind, severity: Severity) -> Finding {
    Finding::new(
        subject.clone(),
        kind,
        severity,
        format!("{kind} is {severity}"),
    )
}

/// One evaluation: seconds after START, the findings, the subjects not observed.
struct Step {
    at: i64,
    findings: Vec<Finding>,
    unobserved: Vec<Subject>,
    expected: Vec<(NotificationEvent, FindingKind, Severity)>,
}

fn step(
    at: i64,
    findings: Vec<Finding>,
    expected: Vec<(NotificationEvent, FindingKind, Severity)>,
) -> Step {
    Step {
        at,
        findings,
        unobserved: Vec::new(),
        expected,
    }
}

fn run(name: &str, policy: &AlertPolicy, steps: Vec<Step>) -> AlertBook {
    let mut book = AlertBook::default();
    for (index, step) in steps.into_iter().enumerate() {
        let unobserved: BTreeSet<Subject> = step.unobserved.into_iter().collect();
        let notifications = book.evaluate(
            &step.findings,
            &unobserved,
            policy,
            Timestamp(START + step.at),
        );
        let got: Vec<_> = notifications
            .iter()
            .map(|notification| {
                (
                    notification.event,
                    notification.problem.kind,
                    notification.problem.severity,
                )
            })
            .collect();
        assert_eq!(got, step.expected, "{name}, step {index}");
    }
    book
}

#[test]
fn state_machine_table() {
    use FindingKind::*;
    use NotificationEvent::*;
    use Severity::*;
    let tank = pool("tank");
    let default = AlertPolicy::default();
    let no_reminders = AlertPolicy {
        reminder_hours: None,
        ..AlertPolicy::default()
    };
    let damped = AlertPolicy {
        clear_after_evaluations: 3,
        ..AlertPolicy::default()
    };
    let degraded = finding(&tank, PoolState, Critical);
    let full_warning = finding(&tank, PoolCapacity, Warning);
    let full_critical = finding(&tank, PoolCapacity, Critical);

    run(
        "one notification per new problem",
        &default,
        vec![
            step(0, vec![degraded.clone()], vec![(New, PoolState, Critical)]),
            step(MINUTE, vec![degraded.clone()], vec![]),
            step(2 * MINUTE, vec![degraded.clone()], vec![]),
        ],
    );
    run(
        "resolved when it clears, and new again when it returns",
        &default,
        vec![
            step(0, vec![degraded.clone()], vec![(New, PoolState, Critical)]),
            step(MINUTE, vec![], vec![(Resolved, PoolState, Critical)]),
            step(2 * MINUTE, vec![], vec![]),
            step(
                3 * MINUTE,
                vec![degraded.clone()],
                vec![(New, PoolState, Critical)],
            ),
        ],
    );
    run(
        "escalation when severity rises, silence when it falls",
        &default,
        vec![
            step(
                0,
                vec![full_warning.clone()],
                vec![(New, PoolCapacity, Warning)],
            ),
            step(
                MINUTE,
                vec![full_critical.clone()],
                vec![(Escalated, PoolCapacity, Critical)],
            ),
            step(2 * MINUTE, vec![full_warning.clone()], vec![]),
            step(3 * MINUTE, vec![full_critical.clone()], vec![]),
            // Resolved carries the highest severity that was notified.
            step(4 * MINUTE, vec![], vec![(Resolved, PoolCapacity, Critical)]),
        ],
    );
    run(
        "a reminder after the interval, then again after another",
        &default,
        vec![
            step(0, vec![degraded.clone()], vec![(New, PoolState, Critical)]),
            step(24 * HOUR - MINUTE, vec![degraded.clone()], vec![]),
            step(
                24 * HOUR,
                vec![degraded.clone()],
                vec![(Reminder, PoolState, Critical)],
            ),
            step(25 * HOUR, vec![degraded.clone()], vec![]),
            step(
                48 * HOUR,
                vec![degraded.clone()],
                vec![(Reminder, PoolState, Critical)],
            ),
        ],
    );
    run(
        "an escalation restarts the reminder interval",
        &default,
        vec![
            step(
                0,
                vec![full_warning.clone()],
                vec![(New, PoolCapacity, Warning)],
            ),
            step(
                20 * HOUR,
                vec![full_critical.clone()],
                vec![(Escalated, PoolCapacity, Critical)],
            ),
            step(24 * HOUR, vec![full_critical.clone()], vec![]),
            step(
                44 * HOUR,
                vec![full_critical.clone()],
                vec![(Reminder, PoolCapacity, Critical)],
            ),
        ],
    );
    run(
        "no reminders when disabled",
        &no_reminders,
        vec![
            step(0, vec![degraded.clone()], vec![(New, PoolState, Critical)]),
            step(100 * HOUR, vec![degraded.clone()], vec![]),
        ],
    );
    run(
        "duplicates in one evaluation make one alert at the highest severity",
        &default,
        vec![step(
            0,
            vec![
                full_warning.clone(),
                full_critical.clone(),
                full_warning.clone(),
            ],
            vec![(New, PoolCapacity, Critical)],
        )],
    );
    run(
        "independent problems notify independently, in a stable order",
        &default,
        vec![
            step(
                0,
                vec![full_warning.clone(), degraded.clone()],
                vec![(New, PoolState, Critical), (New, PoolCapacity, Warning)],
            ),
            step(
                MINUTE,
                vec![degraded.clone()],
                vec![(Resolved, PoolCapacity, Warning)],
            ),
        ],
    );
    run(
        "flapping is damped by clear_after_evaluations",
        &damped,
        vec![
            step(0, vec![degraded.clone()], vec![(New, PoolState, Critical)]),
            step(MINUTE, vec![], vec![]),
            step(2 * MINUTE, vec![degraded.clone()], vec![]),
            step(3 * MINUTE, vec![], vec![]),
            step(4 * MINUTE, vec![], vec![]),
            step(5 * MINUTE, vec![], vec![(Resolved, PoolState, Critical)]),
        ],
    );
    run(
        "an unobserved subject is neither refreshed nor resolved",
        &default,
        vec![
            step(0, vec![degraded.clone()], vec![(New, PoolState, Critical)]),
            Step {
                at: MINUTE,
                findings: vec![],
                unobserved: vec![tank.clone()],
                expected: vec![],
            },
            step(2 * MINUTE, vec![], vec![(Resolved, PoolState, Critical)]),
        ],
    );
}

#[test]
fn alerts_remember_first_and_last_seen_and_cleared() {
    let tank = pool("tank");
    let degraded = finding(&tank, FindingKind::PoolState, Severity::Critical);
    let book = run(
        "times",
        &AlertPolicy::default(),
        vec![
            step(
                0,
                vec![degraded.clone()],
                vec![(
                    NotificationEvent::New,
                    FindingKind::PoolState,
                    Severity::Critical,
                )],
            ),
            step(5 * MINUTE, vec![degraded.clone()], vec![]),
            step(
                6 * MINUTE,
                vec![],
                vec![(
                    NotificationEvent::Resolved,
                    FindingKind::PoolState,
                    Severity::Critical,
                )],
            ),
        ],
    );
    assert_eq!(book.alerts.len(), 1);
    let alert = &book.alerts[0];
    assert_eq!(alert.problem.first_seen, Timestamp(START));
    assert_eq!(alert.problem.last_seen, Timestamp(START + 5 * MINUTE));
    assert_eq!(alert.problem.cleared, Some(Timestamp(START + 6 * MINUTE)));
    assert!(book.active().is_empty());
}

#[test]
fn an_acknowledged_alert_stops_reminding_until_it_gets_worse() {
    let tank = pool("tank");
    let warning = finding(&tank, FindingKind::PoolState, Severity::Warning);
    let critical = finding(&tank, FindingKind::PoolState, Severity::Critical);
    let policy = AlertPolicy::default(); // reminders every 24 hours
    let mut book = AlertBook::default();
    let none = BTreeSet::new();
    let at = |offset: i64| Timestamp(START + offset);
    let events = |notifications: Vec<Notification>| -> Vec<NotificationEvent> {
        notifications.iter().map(|n| n.event).collect()
    };
    assert_eq!(
        events(book.evaluate(std::slice::from_ref(&warning), &none, &policy, at(0))),
        [NotificationEvent::New]
    );
    assert!(
        !book.acknowledge(&tank, FindingKind::PoolCapacity, at(MINUTE)),
        "no alert of that kind"
    );
    assert!(!book.acknowledge(&pool("other"), FindingKind::PoolState, at(MINUTE)));
    assert!(book.acknowledge(&tank, FindingKind::PoolState, at(MINUTE)));
    assert!(book.acknowledge(&tank, FindingKind::PoolState, at(2 * MINUTE)));
    assert_eq!(
        book.alerts[0].acknowledged,
        Some(at(MINUTE)),
        "the first time kept"
    );
    assert!(
        events(book.evaluate(
            std::slice::from_ref(&warning),
            &none,
            &policy,
            at(25 * HOUR)
        ))
        .is_empty(),
        "no reminder once acknowledged"
    );
    assert_eq!(book.active().len(), 1, "still listed");
    assert_eq!(
        events(book.evaluate(
            std::slice::from_ref(&critical),
            &none,
            &policy,
            at(26 * HOUR)
        )),
        [NotificationEvent::Escalated],
        "worse: notified again"
    );
    assert_eq!(
        book.alerts[0].acknowledged, None,
        "and no longer acknowledged"
    );
    assert_eq!(
        events(book.evaluate(&[critical], &none, &policy, at(51 * HOUR))),
        [NotificationEvent::Reminder]
    );
    // Cleared alerts cannot be acknowledged.
    book.evaluate(&[], &none, &policy, at(52 * HOUR));
    book.evaluate(&[], &none, &policy, at(53 * HOUR));
    assert!(book.active().is_empty());
    assert!(!book.acknowledge(&tank, FindingKind::PoolState, at(54 * HOUR)));
}

#[test]
fn cleared_alerts_are_forgotten_after_the_retention() {
    let tank = pool("tank");
    let policy = AlertPolicy {
        keep_cleared_days: 1,
        ..AlertPolicy::default()
    };
    let mut book = AlertBook::default();
    let none = BTreeSet::new();
    book.evaluate(
        &[finding(&tank, FindingKind::PoolState, Severity::Critical)],
        &none,
        &policy,
        Timestamp(START),
    );
    book.evaluate(&[], &none, &policy, Timestamp(START + MINUTE));
    assert_eq!(book.alerts.len(), 1);
    book.evaluate(&[], &none, &policy, Timestamp(START + MINUTE + 24 * HOUR));
    assert!(book.alerts.is_empty());
}

#[test]
fn the_book_survives_a_restart_as_json() {
    let tank = pool("tank");
    let mut book = AlertBook::default();
    let none = BTreeSet::new();
    let policy = AlertPolicy::default();
    let findings = [finding(&tank, FindingKind::PoolState, Severity::Critical)];
    assert_eq!(
        book.evaluate(&findings, &none, &policy, Timestamp(START))
            .len(),
        1
    );
    let saved = serde_json::to_string(&book).expect("serializes");
    let mut restored: AlertBook = serde_json::from_str(&saved).expect("deserializes");
    assert_eq!(restored, book);
    // Same problem after the restart: no second message.
    assert!(
        restored
            .evaluate(&findings, &none, &policy, Timestamp(START + MINUTE))
            .is_empty()
    );
}

fn routes() -> Vec<ChannelRoute> {
    vec![
        ChannelRoute {
            name: "mail".into(),
            min_severity: Severity::Warning,
        },
        ChannelRoute {
            name: "phone".into(),
            min_severity: Severity::Critical,
        },
    ]
}

fn note(event: NotificationEvent, severity: Severity, subject: &str) -> Notification {
    Notification {
        event,
        problem: Problem {
            subject: pool(subject),
            kind: FindingKind::PoolState,
            severity,
            message: "m".into(),
            first_seen: Timestamp(START),
            last_seen: Timestamp(START),
            cleared: None,
        },
    }
}

#[test]
fn routing_by_minimum_severity() {
    let mut book = AlertBook::default();
    let policy = AlertPolicy::default();
    let notifications = [
        note(NotificationEvent::New, Severity::Info, "a"),
        note(NotificationEvent::New, Severity::Warning, "b"),
        note(NotificationEvent::New, Severity::Critical, "c"),
        note(NotificationEvent::Resolved, Severity::Critical, "c"),
    ];
    let deliveries = book.route(&notifications, &routes(), &policy, Timestamp(START));
    let got: Vec<_> = deliveries
        .iter()
        .map(|delivery| {
            (
                delivery.channel.as_str(),
                delivery.notification.problem.subject.clone(),
                delivery.notification.event,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("mail", pool("b"), NotificationEvent::New),
            ("mail", pool("c"), NotificationEvent::New),
            ("phone", pool("c"), NotificationEvent::New),
            ("mail", pool("c"), NotificationEvent::Resolved),
            ("phone", pool("c"), NotificationEvent::Resolved),
        ]
    );
}

#[test]
fn rate_limit_per_channel_per_hour_counts_what_it_drops() {
    let mut book = AlertBook::default();
    let policy = AlertPolicy {
        max_per_hour_per_channel: 2,
        ..AlertPolicy::default()
    };
    let channels = &routes()[..1];
    let burst: Vec<_> = (0..5)
        .map(|index| {
            note(
                NotificationEvent::New,
                Severity::Warning,
                &format!("p{index}"),
            )
        })
        .collect();
    let first = book.route(&burst, channels, &policy, Timestamp(START));
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|delivery| delivery.suppressed_before == 0));
    assert_eq!(book.channels["mail"].suppressed, 3);

    // Still inside the hour: dropped too.
    let later = book.route(
        &burst[..1],
        channels,
        &policy,
        Timestamp(START + 59 * MINUTE),
    );
    assert!(later.is_empty());
    assert_eq!(book.channels["mail"].suppressed, 4);

    // An hour after the first two, the budget is back and the next message says how many
    // were dropped.
    let after = book.route(&burst[..1], channels, &policy, Timestamp(START + HOUR));
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].suppressed_before, 4);
    assert_eq!(book.channels["mail"].suppressed, 0);
}
