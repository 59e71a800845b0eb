//! Table tests of scrub scheduling: due by age, running scans, canceled scrubs, resilvers,
//! unavailable pools, the UTC window and the concurrency limit (oldest first).

use super::*;
use crate::pools::ScrubInfo;

const NOW: i64 = 1_800_000_000; // a Friday, 08:00 UTC

fn pool(name: &str, state: PoolHealth, scrub: Option<ScrubInfo>) -> PoolStatus {
    PoolStatus {
        name: name.into(),
        state,
        status: None,
        action: None,
        vdevs: Vec::new(),
        capacity_percent: None,
        fragmentation_percent: None,
        data_errors: Some(0),
        scrub,
    }
}

fn scan(function: ScanFunction, state: ScanState, days_ago: i64) -> Option<ScrubInfo> {
    let ended = Timestamp(NOW - days_ago * DAY_SECONDS);
    Some(ScrubInfo {
        function,
        state,
        started: Some(ended),
        ended: (state != ScanState::Scanning).then_some(ended),
        errors: 0,
        repaired_bytes: 0,
    })
}

fn scrubbed(days_ago: i64) -> Option<ScrubInfo> {
    scan(ScanFunction::Scrub, ScanState::Finished, days_ago)
}

fn decisions(pools: &[PoolStatus], policy: &ScrubPolicy) -> Vec<ScrubDecision> {
    plan_scrubs(pools, policy, Timestamp(NOW))
        .into_iter()
        .map(|(_, decision)| decision)
        .collect()
}

#[test]
fn one_pool_at_a_time() {
    use ScrubDecision::*;
    let unlimited = ScrubPolicy {
        max_concurrent: 10,
        ..ScrubPolicy::default()
    };
    let cases: Vec<(&str, PoolStatus, ScrubDecision)> = vec![
        ("never scrubbed", pool("a", PoolHealth::Online, None), Start),
        (
            "31 days",
            pool("a", PoolHealth::Online, scrubbed(31)),
            Start,
        ),
        (
            "exactly 30 days",
            pool("a", PoolHealth::Online, scrubbed(30)),
            Start,
        ),
        (
            "29 days",
            pool("a", PoolHealth::Online, scrubbed(29)),
            Recent,
        ),
        (
            "degraded and due: scrub",
            pool("a", PoolHealth::Degraded, scrubbed(40)),
            Start,
        ),
        ("faulted", pool("a", PoolHealth::Faulted, None), Unavailable),
        (
            "suspended",
            pool("a", PoolHealth::Suspended, None),
            Unavailable,
        ),
        (
            "scrub running",
            pool(
                "a",
                PoolHealth::Online,
                scan(ScanFunction::Scrub, ScanState::Scanning, 0),
            ),
            Scanning,
        ),
        (
            "resilver running",
            pool(
                "a",
                PoolHealth::Degraded,
                scan(ScanFunction::Resilver, ScanState::Scanning, 0),
            ),
            Scanning,
        ),
        (
            "canceled an hour ago",
            pool(
                "a",
                PoolHealth::Online,
                scan(ScanFunction::Scrub, ScanState::Canceled, 0),
            ),
            CanceledRecently,
        ),
        (
            "canceled two days ago",
            pool(
                "a",
                PoolHealth::Online,
                scan(ScanFunction::Scrub, ScanState::Canceled, 2),
            ),
            Start,
        ),
        (
            "last scan a resilver: the last scrub is unknown",
            pool(
                "a",
                PoolHealth::Online,
                scan(ScanFunction::Resilver, ScanState::Finished, 1),
            ),
            Start,
        ),
    ];
    for (why, status, expected) in cases {
        assert_eq!(decisions(&[status], &unlimited), [expected], "{why}");
    }
    let off = ScrubPolicy {
        enabled: false,
        ..ScrubPolicy::default()
    };
    assert_eq!(
        decisions(&[pool("a", PoolHealth::Online, None)], &off),
        [Disabled]
    );
}

#[test]
fn concurrency_takes_the_oldest_first_and_counts_running_scans() {
    use ScrubDecision::*;
    let pools = [
        pool("recent-due", PoolHealth::Online, scrubbed(35)),
        pool("oldest", PoolHealth::Online, scrubbed(90)),
        pool("never", PoolHealth::Online, None),
        pool("fresh", PoolHealth::Online, scrubbed(3)),
    ];
    assert_eq!(
        decisions(&pools, &ScrubPolicy::default()),
        [Waiting, Waiting, Start, Recent],
        "one at a time, never-scrubbed first"
    );
    let two = ScrubPolicy {
        max_concurrent: 2,
        ..ScrubPolicy::default()
    };
    assert_eq!(decisions(&pools, &two), [Waiting, Start, Start, Recent]);
    let mut busy = pools.to_vec();
    busy[3] = pool(
        "fresh",
        PoolHealth::Online,
        scan(ScanFunction::Scrub, ScanState::Scanning, 0),
    );
    assert_eq!(
        decisions(&busy, &two),
        [Waiting, Waiting, Start, Scanning],
        "a running scrub takes a slot"
    );
}

#[test]
fn window_in_utc_hours() {
    use ScrubDecision::*;
    let due = [pool("a", PoolHealth::Online, None)];
    for (window, expected) in [
        ((7, 9), Start),
        ((8, 9), Start),
        ((9, 17), Waiting),
        ((0, 8), Waiting),
        ((22, 9), Start),
        ((22, 6), Waiting),
    ] {
        let policy = ScrubPolicy {
            window_utc_hours: Some(window),
            ..ScrubPolicy::default()
        };
        assert_eq!(decisions(&due, &policy), [expected], "{window:?}");
    }
}
