//! Table tests of the pool rules over hand-made `zpool status` data.

use super::*;

const NOW: i64 = 1_800_000_000;

fn leaf(name: &str, state: PoolHealth) -> Vdev {
    Vdev {
        name: name.into(),
        state,
        read_errors: 0,
        write_errors: 0,
        checksum_errors: 0,
        note: None,
        children: Vec::new(),
    }
}

fn mirror(state: PoolHealth, legs: Vec<Vdev>) -> Vdev {
    Vdev {
        children: legs,
        ..leaf("mirror-0", state)
    }
}

fn scrub(days_ago: i64) -> ScrubInfo {
    ScrubInfo {
        function: ScanFunction::Scrub,
        state: ScanState::Finished,
        started: Some(Timestamp(NOW - days_ago * DAY_SECONDS - 3600)),
        ended: Some(Timestamp(NOW - days_ago * DAY_SECONDS)),
        errors: 0,
        repaired_bytes: 0,
    }
}

fn healthy() -> PoolStatus {
    PoolStatus {
        name: "tank".into(),
        status: None,
        action: None,
        state: PoolHealth::Online,
        vdevs: vec![mirror(
            PoolHealth::Online,
            vec![
                leaf("vdb", PoolHealth::Online),
                leaf("vdc", PoolHealth::Online),
            ],
        )],
        capacity_percent: Some(40),
        fragmentation_percent: Some(10),
        data_errors: Some(0),
        scrub: Some(scrub(3)),
    }
}

/// The pool with its second mirror leg in `state`.
fn degraded_mirror(state: PoolHealth) -> PoolStatus {
    with(|pool| {
        pool.state = PoolHealth::Degraded;
        pool.vdevs = vec![mirror(
            PoolHealth::Degraded,
            vec![leaf("vdb", PoolHealth::Online), leaf("vdc", state.clone())],
        )];
    })
}

fn with(change: impl Fn(&mut PoolStatus)) -> PoolStatus {
    let mut pool = healthy();
    change(&mut pool);
    pool
}

fn found(pool: &PoolStatus) -> Vec<(Subject, FindingKind, Severity)> {
    evaluate_pool(pool, &PoolThresholds::default(), Timestamp(NOW))
        .into_iter()
        .map(|finding| (finding.subject, finding.kind, finding.severity))
        .collect()
}

fn pool_subject() -> Subject {
    Subject::Pool {
        pool: "tank".into(),
    }
}

fn vdev_subject(name: &str) -> Subject {
    Subject::Vdev {
        pool: "tank".into(),
        vdev: name.into(),
    }
}

#[test]
fn table() {
    use FindingKind as K;
    use Severity::*;
    type Case = (
        &'static str,
        PoolStatus,
        Vec<(Subject, FindingKind, Severity)>,
    );
    let cases: Vec<Case> = vec![
        ("healthy", healthy(), vec![]),
        (
            "one mirror leg taken offline",
            degraded_mirror(PoolHealth::Offline),
            vec![
                (pool_subject(), K::PoolState, Critical),
                (vdev_subject("mirror-0"), K::VdevState, Warning),
                (vdev_subject("vdc"), K::VdevState, Warning),
            ],
        ),
        (
            "a faulted disk",
            degraded_mirror(PoolHealth::Faulted),
            vec![
                (pool_subject(), K::PoolState, Critical),
                (vdev_subject("mirror-0"), K::VdevState, Warning),
                (vdev_subject("vdc"), K::VdevState, Critical),
            ],
        ),
        (
            "checksum errors repaired by a scrub",
            with(|pool| pool.vdevs[0].children[1].checksum_errors = 12),
            vec![(vdev_subject("vdc"), K::VdevErrors, Warning)],
        ),
        (
            "permanent data errors",
            with(|pool| pool.data_errors = Some(2)),
            vec![(pool_subject(), K::ScrubErrors, Critical)],
        ),
        (
            "scrub with unrepaired errors",
            with(|pool| {
                pool.data_errors = None;
                if let Some(scrub) = pool.scrub.as_mut() {
                    scrub.errors = 3;
                }
            }),
            vec![(pool_subject(), K::ScrubErrors, Critical)],
        ),
        (
            "79% full",
            with(|pool| pool.capacity_percent = Some(79)),
            vec![],
        ),
        (
            "80% full",
            with(|pool| pool.capacity_percent = Some(80)),
            vec![(pool_subject(), K::PoolCapacity, Warning)],
        ),
        (
            "95% full",
            with(|pool| pool.capacity_percent = Some(95)),
            vec![(pool_subject(), K::PoolCapacity, Critical)],
        ),
        (
            "fragmented",
            with(|pool| pool.fragmentation_percent = Some(85)),
            vec![(pool_subject(), K::PoolFragmentation, Warning)],
        ),
        (
            "never scrubbed",
            with(|pool| pool.scrub = None),
            vec![(pool_subject(), K::ScrubOverdue, Info)],
        ),
        (
            "scrubbed 34 days ago",
            with(|pool| pool.scrub = Some(scrub(34))),
            vec![],
        ),
        (
            "scrubbed 35 days ago",
            with(|pool| pool.scrub = Some(scrub(35))),
            vec![(pool_subject(), K::ScrubOverdue, Warning)],
        ),
        (
            "an old scrub still running is not overdue",
            with(|pool| {
                let mut running = scrub(90);
                running.state = ScanState::Scanning;
                running.ended = None;
                pool.scrub = Some(running);
            }),
            vec![],
        ),
        (
            "canceled scrub",
            with(|pool| {
                let mut canceled = scrub(2);
                canceled.state = ScanState::Canceled;
                pool.scrub = Some(canceled);
            }),
            vec![(pool_subject(), K::ScrubOverdue, Warning)],
        ),
        (
            "last scan a resilver",
            with(|pool| {
                let mut resilver = scrub(60);
                resilver.function = ScanFunction::Resilver;
                pool.scrub = Some(resilver);
            }),
            vec![],
        ),
        (
            "spares waiting and in use",
            with(|pool| {
                pool.vdevs.push(Vdev {
                    children: vec![
                        leaf("vdd", PoolHealth::Unknown("AVAIL".into())),
                        leaf("vde", PoolHealth::Unknown("INUSE".into())),
                    ],
                    ..leaf("spares", PoolHealth::Unknown(String::new()))
                });
            }),
            vec![(vdev_subject("vde"), K::VdevState, Info)],
        ),
        (
            "suspended pool",
            with(|pool| pool.state = PoolHealth::Suspended),
            vec![(pool_subject(), K::PoolState, Critical)],
        ),
    ];
    for (name, pool, expected) in cases {
        assert_eq!(found(&pool), expected, "{name}");
    }
}

#[test]
fn messages_carry_the_counts() {
    let pool = with(|pool| {
        pool.vdevs[0].children[0].read_errors = 1;
        pool.vdevs[0].children[0].checksum_errors = 7;
    });
    let findings = evaluate_pool(&pool, &PoolThresholds::default(), Timestamp(NOW));
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0].message,
        "vdb has 1 read, 0 write and 7 checksum errors"
    );
}
