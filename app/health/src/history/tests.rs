//! Tests of the history store on a real LMDB environment in a temporary directory, and of
//! the pure downsampling.

use super::*;

const T0: i64 = 1_800_000_000 - 1_800_000_000 % DAY;

fn open() -> (tempfile::TempDir, History) {
    let folder = tempfile::tempdir().expect("temp dir");
    let history = History::open_with_map_size(folder.path(), 64 << 20).expect("opens");
    (folder, history)
}

fn point(time: i64, value: f64) -> ChartPoint {
    Aggregate::single(value).chart_point(time)
}

#[test]
fn times_sort_as_bytes_across_the_sign() {
    let times = [i64::MIN, -DAY, -1, 0, 1, T0, i64::MAX];
    for pair in times.windows(2) {
        assert!(encode_time(pair[0]) < encode_time(pair[1]), "{pair:?}");
        assert_eq!(decode_time(encode_time(pair[0])), pair[0]);
    }
}

#[test]
fn record_and_query_raw_points() {
    let (_folder, history) = open();
    let samples: Vec<_> = (0..10)
        .map(|minute| {
            Sample::new(
                "disk/a/temperature",
                Timestamp(T0 + minute * 60),
                30.0 + minute as f64,
            )
        })
        .collect();
    let stats = history.record(&samples).expect("records");
    assert_eq!(
        stats,
        RecordStats {
            written: 10,
            skipped: 0
        }
    );
    let points = history
        .query(
            "disk/a/temperature",
            Timestamp(T0 + 120),
            Timestamp(T0 + 300),
            100,
        )
        .expect("queries");
    let values: Vec<_> = points
        .iter()
        .map(|point| (point.time, point.average))
        .collect();
    assert_eq!(
        values,
        vec![
            (T0 + 120, 32.0),
            (T0 + 180, 33.0),
            (T0 + 240, 34.0),
            (T0 + 300, 35.0)
        ]
    );
    assert!(
        history
            .query("disk/unknown", Timestamp(T0), Timestamp(T0 + DAY), 10)
            .expect("queries")
            .is_empty()
    );
    assert_eq!(
        history.metrics().expect("lists"),
        vec!["disk/a/temperature".to_owned()]
    );
}

#[test]
fn non_finite_values_are_skipped_and_bad_names_refused() {
    let (_folder, history) = open();
    let stats = history
        .record(&[
            Sample::new("m", Timestamp(T0), f64::NAN),
            Sample::new("m", Timestamp(T0 + 1), f64::INFINITY),
            Sample::new("m", Timestamp(T0 + 2), 1.5),
        ])
        .expect("records");
    assert_eq!(
        stats,
        RecordStats {
            written: 1,
            skipped: 2
        }
    );
    for name in [String::new(), "x".repeat(401), "a\nb".into()] {
        let error = history
            .record(&[Sample::new(name, Timestamp(T0), 1.0)])
            .expect_err("refused");
        assert!(
            matches!(error, HistoryError::InvalidMetric { .. }),
            "{error}"
        );
    }
    // A refused batch writes nothing, not even its valid samples.
    let error = history
        .record(&[
            Sample::new("good", Timestamp(T0), 1.0),
            Sample::new("", Timestamp(T0), 1.0),
        ])
        .expect_err("refused");
    assert!(matches!(error, HistoryError::InvalidMetric { .. }));
    assert!(
        history
            .query("good", Timestamp(T0), Timestamp(T0), 10)
            .expect("queries")
            .is_empty()
    );
}

#[test]
fn query_shrinks_to_the_point_budget_keeping_min_max_and_average() {
    let (_folder, history) = open();
    // One point a minute for two hours, values 0..119.
    let samples: Vec<_> = (0..120)
        .map(|minute| Sample::new("m", Timestamp(T0 + minute * 60), minute as f64))
        .collect();
    history.record(&samples).expect("records");
    let points = history
        .query("m", Timestamp(T0), Timestamp(T0 + 2 * HOUR - 1), 2)
        .expect("queries");
    assert_eq!(points.len(), 2);
    assert_eq!(
        (
            points[0].time,
            points[0].count,
            points[0].min,
            points[0].max
        ),
        (T0, 60, 0.0, 59.0)
    );
    assert_eq!(points[0].average, (0..60).sum::<i64>() as f64 / 60.0);
    assert_eq!(
        (points[1].time, points[1].min, points[1].max),
        (T0 + HOUR, 60.0, 119.0)
    );
}

#[test]
fn compaction_folds_raw_into_hours_and_hours_into_days() {
    let (_folder, history) = open();
    let retention = Retention {
        raw_days: 1,
        hourly_days: 3,
        daily_days: 10,
    };
    // Day 0: values 10 and 20 in the first hour, 30 in the second.
    history
        .record(&[
            Sample::new("m", Timestamp(T0 + 60), 10.0),
            Sample::new("m", Timestamp(T0 + 120), 20.0),
            Sample::new("m", Timestamp(T0 + HOUR + 60), 30.0),
        ])
        .expect("records");
    // Two days later the raw points are folded into hourly buckets.
    let stats = history
        .compact(&retention, Timestamp(T0 + 2 * DAY))
        .expect("compacts");
    assert_eq!(
        stats,
        CompactStats {
            raw_folded: 3,
            hourly_folded: 0,
            daily_dropped: 0
        }
    );
    let hourly = history
        .query("m", Timestamp(T0), Timestamp(T0 + DAY), 100)
        .expect("queries");
    let summary: Vec<_> = hourly
        .iter()
        .map(|p| (p.time, p.count, p.average, p.min, p.max))
        .collect();
    assert_eq!(
        summary,
        vec![(T0, 2, 15.0, 10.0, 20.0), (T0 + HOUR, 1, 30.0, 30.0, 30.0)]
    );

    // Compacting again changes nothing.
    assert_eq!(
        history
            .compact(&retention, Timestamp(T0 + 2 * DAY))
            .expect("compacts"),
        CompactStats::default()
    );

    // After the hourly retention the hours become one day.
    let stats = history
        .compact(&retention, Timestamp(T0 + 4 * DAY))
        .expect("compacts");
    assert_eq!(stats.hourly_folded, 2);
    let daily = history
        .query("m", Timestamp(T0), Timestamp(T0 + DAY), 100)
        .expect("queries");
    let summary: Vec<_> = daily
        .iter()
        .map(|p| (p.time, p.count, p.average, p.min, p.max))
        .collect();
    assert_eq!(summary, vec![(T0, 3, 20.0, 10.0, 30.0)]);

    // And after the daily retention it is gone.
    let stats = history
        .compact(&retention, Timestamp(T0 + 11 * DAY))
        .expect("compacts");
    assert_eq!(stats.daily_dropped, 1);
    assert!(
        history
            .query("m", Timestamp(T0), Timestamp(T0 + DAY), 100)
            .expect("queries")
            .is_empty()
    );
}

#[test]
fn late_raw_points_merge_into_an_existing_bucket() {
    let (_folder, history) = open();
    let retention = Retention {
        raw_days: 1,
        hourly_days: 30,
        daily_days: 0,
    };
    history
        .record(&[Sample::new("m", Timestamp(T0 + 10), 1.0)])
        .expect("records");
    history
        .compact(&retention, Timestamp(T0 + 2 * DAY))
        .expect("compacts");
    // A sample of the same hour arrives late (clock change, restored backup).
    history
        .record(&[Sample::new("m", Timestamp(T0 + 20), 3.0)])
        .expect("records");
    history
        .compact(&retention, Timestamp(T0 + 2 * DAY))
        .expect("compacts");
    let points = history
        .query("m", Timestamp(T0), Timestamp(T0 + HOUR), 10)
        .expect("queries");
    assert_eq!(points.len(), 1);
    assert_eq!((points[0].count, points[0].average), (2, 2.0));
}

#[test]
fn data_survives_reopening_and_a_second_open_is_refused() {
    let folder = tempfile::tempdir().expect("temp dir");
    {
        let history = History::open_with_map_size(folder.path(), 64 << 20).expect("opens");
        history
            .record(&[Sample::new("m", Timestamp(T0), 7.0)])
            .expect("records");
        let again = History::open_with_map_size(folder.path(), 64 << 20).expect_err("already open");
        assert!(matches!(again, HistoryError::Locked { .. }), "{again}");
    }
    let history = History::open_with_map_size(folder.path(), 64 << 20).expect("reopens");
    let points = history
        .query("m", Timestamp(T0), Timestamp(T0), 10)
        .expect("queries");
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].average, 7.0);
}

#[test]
fn downsample_table() {
    let points: Vec<_> = (0..6)
        .map(|index| point(index * 10, index as f64))
        .collect();
    /// name, from, to, max_points, expected (time, count, average) per bucket.
    type Case = (&'static str, i64, i64, usize, Vec<(i64, u64, f64)>);
    let cases: Vec<Case> = vec![
        (
            "fits: unchanged",
            0,
            59,
            6,
            (0..6).map(|i| (i * 10, 1, i as f64)).collect(),
        ),
        ("two buckets", 0, 59, 2, vec![(0, 3, 1.0), (30, 3, 4.0)]),
        ("one bucket", 0, 59, 1, vec![(0, 6, 2.5)]),
        ("zero budget", 0, 59, 0, vec![]),
        ("inverted range", 59, 0, 3, vec![]),
    ];
    for (name, from, to, max_points, expected) in cases {
        let got: Vec<_> = downsample(&points, from, to, max_points)
            .iter()
            .map(|point| (point.time, point.count, point.average))
            .collect();
        assert_eq!(got, expected, "{name}");
    }
}
