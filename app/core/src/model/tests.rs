//! Table-driven tests for the domain model: timestamp formatting (including
//! leap years, negative and extreme values), the single-value parsers and
//! user property name validation with the exact error expected.

use super::*;

#[test]
fn timestamps_format_as_rfc3339_utc() {
    let cases: Vec<(i64, &str)> = vec![
        (0, "1970-01-01T00:00:00Z"),
        (1, "1970-01-01T00:00:01Z"),
        (86_399, "1970-01-01T23:59:59Z"),
        (86_400, "1970-01-02T00:00:00Z"),
        (1_795_681_198, "2026-11-26T08:19:58Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (951_868_800, "2000-03-01T00:00:00Z"),
        (1_709_251_199, "2024-02-29T23:59:59Z"),
        (1_709_251_200, "2024-03-01T00:00:00Z"),
        (4_107_542_399, "2100-02-28T23:59:59Z"),
        (4_107_542_400, "2100-03-01T00:00:00Z"),
        (978_307_199, "2000-12-31T23:59:59Z"),
        (978_307_200, "2001-01-01T00:00:00Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
        (253_402_300_800, "+10000-01-01T00:00:00Z"),
        (-1, "1969-12-31T23:59:59Z"),
        (-86_400, "1969-12-31T00:00:00Z"),
        (-86_401, "1969-12-30T23:59:59Z"),
        (-310_478_400, "1960-02-29T12:00:00Z"),
        (-2_203_891_200, "1900-03-01T00:00:00Z"),
        (-2_203_891_201, "1900-02-28T23:59:59Z"),
        (-11_670_998_400, "1600-02-29T00:00:00Z"),
        (-62_135_596_800, "0001-01-01T00:00:00Z"),
        (-62_135_596_801, "0000-12-31T23:59:59Z"),
        (-62_162_121_600, "0000-02-29T00:00:00Z"),
        (-62_167_219_200, "0000-01-01T00:00:00Z"),
        (-62_167_219_201, "-0001-12-31T23:59:59Z"),
        (i64::MAX, "+292277026596-12-04T15:30:07Z"),
        (i64::MIN, "-292277022657-01-27T08:29:52Z"),
    ];
    for (seconds, expected) in cases {
        assert_eq!(Timestamp(seconds).to_string(), expected, "{seconds}");
        assert_eq!(Timestamp::from(seconds).seconds(), seconds);
    }
}

#[test]
fn every_day_of_four_centuries_round_trips_through_the_civil_date() {
    // Walk day by day from 1900-01-01 to 2300-01-01, checking that the civil
    // date advances exactly like a calendar with Gregorian leap years.
    let days_in_month = |year: i64, month: u8| -> u8 {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    };
    let first_day = -25_567; // 1900-01-01
    let (mut year, mut month, mut day) = (1900_i64, 1_u8, 1_u8);
    for days in first_day..first_day + 146_097 {
        let civil = Timestamp(days * SECONDS_PER_DAY + 3661).to_civil_utc();
        let expected = CivilDateTimeUtc {
            year,
            month,
            day,
            hour: 1,
            minute: 1,
            second: 1,
        };
        assert_eq!(civil, expected, "day {days}");
        day += 1;
        if day > days_in_month(year, month) {
            day = 1;
            month += 1;
            if month > 12 {
                month = 1;
                year += 1;
            }
        }
    }
    assert_eq!((year, month, day), (2300, 1, 1));
}

#[test]
fn pool_health_parses_known_words_and_keeps_unknown_text() {
    let cases: Vec<(&str, PoolHealth, &str)> = vec![
        ("ONLINE", PoolHealth::Online, "ONLINE"),
        ("online", PoolHealth::Online, "ONLINE"),
        (" DEGRADED\n", PoolHealth::Degraded, "DEGRADED"),
        ("FAULTED", PoolHealth::Faulted, "FAULTED"),
        ("OFFLINE", PoolHealth::Offline, "OFFLINE"),
        ("UNAVAIL", PoolHealth::Unavail, "UNAVAIL"),
        ("REMOVED", PoolHealth::Removed, "REMOVED"),
        ("SUSPENDED", PoolHealth::Suspended, "SUSPENDED"),
        ("", PoolHealth::Unknown(String::new()), ""),
        ("-", PoolHealth::Unknown("-".to_owned()), "-"),
        ("SPLIT", PoolHealth::Unknown("SPLIT".to_owned()), "SPLIT"),
        (
            "BAD\u{1b}",
            PoolHealth::Unknown("BAD\u{1b}".to_owned()),
            "BAD\u{1b}",
        ),
    ];
    for (input, expected, text) in cases {
        let health = PoolHealth::parse(input);
        assert_eq!(health, expected, "{input:?}");
        assert_eq!(health.as_str(), text);
        assert_eq!(health.is_online(), expected == PoolHealth::Online);
    }
    assert_eq!(PoolHealth::Degraded.to_string(), "DEGRADED");
    assert_eq!(
        PoolHealth::parse("BAD\u{1b}").to_string(),
        "BAD\\u{1b}",
        "Display must not print control characters"
    );
}

#[test]
fn dataset_kind_parses_only_exact_words() {
    let cases = [
        ("filesystem", Some(DatasetKind::Filesystem)),
        ("volume", Some(DatasetKind::Volume)),
        ("snapshot", None),
        ("bookmark", None),
        ("Filesystem", None),
        ("", None),
    ];
    for (input, expected) in cases {
        assert_eq!(DatasetKind::parse(input), expected, "{input:?}");
        if let Some(kind) = expected {
            assert_eq!(kind.as_str(), input);
            assert_eq!(kind.to_string(), input);
        }
    }
}

#[test]
fn mountpoints_parse_to_absolute_paths_or_none() {
    let cases = [
        ("/tank/data", Some("/tank/data")),
        ("/", Some("/")),
        ("/srv/my share", Some("/srv/my share")),
        ("none", None),
        ("legacy", None),
        ("-", None),
        ("", None),
        ("relative/path", None),
    ];
    for (input, expected) in cases {
        assert_eq!(
            parse_mountpoint(input),
            expected.map(PathBuf::from),
            "{input:?}"
        );
    }
}

#[test]
fn snapshot_bookmark_and_hold_know_their_dataset() {
    let snapshot_name = SnapshotName::new("tank/a@s").unwrap();
    let snapshot = Snapshot {
        name: snapshot_name.clone(),
        guid: 1,
        createtxg: 2,
        creation: Timestamp(3),
        used: 4,
        referenced: 5,
        written: 6,
        user_refs: 1,
    };
    assert_eq!(snapshot.dataset().as_str(), "tank/a");
    let bookmark = Bookmark {
        name: BookmarkName::new("tank/b#m").unwrap(),
        guid: 1,
        createtxg: 2,
        creation: Timestamp(3),
    };
    assert_eq!(bookmark.dataset().as_str(), "tank/b");
    let hold = Hold {
        snapshot: snapshot_name,
        tag: "wizfs-send".to_owned(),
        created: Timestamp(4),
    };
    assert_eq!(hold.clone(), hold);
}

/// Input text, and the expected (userland, kernel) lines if it parses.
type VersionOutputCase = (&'static str, Option<(&'static str, Option<&'static str>)>);

#[test]
fn zfs_version_output_parses() {
    let cases: Vec<VersionOutputCase> = vec![
        (
            "zfs-2.1.11-1\nzfs-kmod-2.1.11-1\n",
            Some(("zfs-2.1.11-1", Some("zfs-kmod-2.1.11-1"))),
        ),
        (
            "zfs-2.3.2-1~bpo12+1\nzfs-kmod-2.3.2-1~bpo12+1\n",
            Some(("zfs-2.3.2-1~bpo12+1", Some("zfs-kmod-2.3.2-1~bpo12+1"))),
        ),
        ("zfs-2.2.7-1\n", Some(("zfs-2.2.7-1", None))),
        ("  zfs-2.2.7-1  \r\n\r\n", Some(("zfs-2.2.7-1", None))),
        (
            "\nzfs-2.1.9-FreeBSD_g92e0d9d18\nzfs-kmod-2.1.9-FreeBSD_g92e0d9d18",
            Some((
                "zfs-2.1.9-FreeBSD_g92e0d9d18",
                Some("zfs-kmod-2.1.9-FreeBSD_g92e0d9d18"),
            )),
        ),
        ("zfs-2.2.7-1\nsomething else\n", Some(("zfs-2.2.7-1", None))),
        ("", None),
        ("\n\n", None),
        ("zfs-kmod-2.1.11-1\n", None),
        ("zfs-abc\n", None),
        ("zfs 2.1.11\n", None),
        ("zfs-2.1.11 extra\n", None),
        ("{\"zfs_version\": {}}", None),
    ];
    for (input, expected) in cases {
        let parsed = ZfsVersion::parse(input);
        let expected = expected.map(|(userland, kernel)| ZfsVersion {
            userland: userland.to_owned(),
            kernel: kernel.map(str::to_owned),
        });
        assert_eq!(parsed, expected, "{input:?}");
    }
}

/// Userland version, expected semantic version, expected JSON support.
type VersionComparisonCase = (&'static str, Option<(u32, u32, u32)>, bool);

#[test]
fn zfs_versions_compare_for_json_support() {
    let cases: Vec<VersionComparisonCase> = vec![
        ("zfs-2.1.11-1", Some((2, 1, 11)), false),
        ("zfs-2.2.99-1", Some((2, 2, 99)), false),
        ("zfs-2.3.0-rc5", Some((2, 3, 0)), true),
        ("zfs-2.3.2-1~bpo12+1", Some((2, 3, 2)), true),
        ("zfs-2.4", Some((2, 4, 0)), true),
        ("zfs-3.0.0", Some((3, 0, 0)), true),
        ("zfs-0.8.6-1", Some((0, 8, 6)), false),
        ("zfs-2", None, false),
        ("zfs-2.x.1", None, false),
        ("zfs-2.3.+1", None, false),
        ("zfs-2.3.1.4", None, false),
        ("zfs-2..1", None, false),
        ("zfs-99999999999.0.0", None, false),
        ("2.3.0", None, false),
    ];
    for (userland, semver, json) in cases {
        let version = ZfsVersion {
            userland: userland.to_owned(),
            kernel: None,
        };
        assert_eq!(version.userland_semver(), semver, "{userland:?}");
        assert_eq!(version.supports_json(), json, "{userland:?}");
    }
    let with_kernel = ZfsVersion::parse("zfs-2.3.1-1\nzfs-kmod-2.2.6-1\n").unwrap();
    assert_eq!(with_kernel.kernel_semver(), Some((2, 2, 6)));
    assert_eq!(
        ZfsVersion::parse("zfs-2.3.1-1").unwrap().kernel_semver(),
        None
    );
}

#[test]
fn user_property_names_validated() {
    let longest = format!(
        "wizfs:{}",
        "p".repeat(MAXIMUM_USER_PROPERTY_NAME_LENGTH - 6)
    );
    let too_long = format!(
        "wizfs:{}",
        "p".repeat(MAXIMUM_USER_PROPERTY_NAME_LENGTH - 5)
    );
    let cases: Vec<(&str, Result<(), PropertyNameError>)> = vec![
        ("wizfs:managed", Ok(())),
        ("com.example:backup-policy_2", Ok(())),
        ("a:", Ok(())),
        ("wizfs:", Ok(())),
        ("x:y:z", Ok(())),
        (longest.as_str(), Ok(())),
        ("", Err(PropertyNameError::Empty)),
        (
            too_long.as_str(),
            Err(PropertyNameError::TooLong {
                name: too_long.clone(),
                length: MAXIMUM_USER_PROPERTY_NAME_LENGTH + 1,
                max: MAXIMUM_USER_PROPERTY_NAME_LENGTH,
            }),
        ),
        (
            "managed",
            Err(PropertyNameError::MissingColon {
                name: "managed".to_owned(),
            }),
        ),
        (
            "Wizfs:managed",
            Err(PropertyNameError::InvalidCharacter {
                name: "Wizfs:managed".to_owned(),
                character: 'W',
                position: 0,
            }),
        ),
        (
            "wizfs:man aged",
            Err(PropertyNameError::InvalidCharacter {
                name: "wizfs:man aged".to_owned(),
                character: ' ',
                position: 9,
            }),
        ),
        (
            "wizfs:\n",
            Err(PropertyNameError::InvalidCharacter {
                name: "wizfs:\\n".to_owned(),
                character: '\n',
                position: 6,
            }),
        ),
        (
            "wizfs:é",
            Err(PropertyNameError::InvalidCharacter {
                name: "wizfs:é".to_owned(),
                character: 'é',
                position: 6,
            }),
        ),
        (
            ":managed",
            Err(PropertyNameError::InvalidFirstCharacter {
                name: ":managed".to_owned(),
                character: ':',
            }),
        ),
        (
            "-o:x",
            Err(PropertyNameError::InvalidFirstCharacter {
                name: "-o:x".to_owned(),
                character: '-',
            }),
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(validate_user_property(input), expected, "{input:?}");
    }
}

#[test]
fn user_property_error_messages_are_terminal_safe() {
    let cases = [
        ("", "user property name is empty"),
        (
            "x\u{7}",
            "user property name `x\\u{7}` contains the character '\\u{7}' at byte 1; only \
             lowercase ASCII letters, digits, `:`, `.`, `_` and `-` are allowed",
        ),
        (
            "managed",
            "user property name `managed` has no `:`; user properties are named \
             `module:property`, such as `wizfs:managed`",
        ),
        ("-x:y", "user property name `-x:y` must not begin with '-'"),
    ];
    for (input, expected) in cases {
        let message = validate_user_property(input).unwrap_err().to_string();
        assert_eq!(message, expected);
        assert!(!message.chars().any(char::is_control));
    }
}

#[test]
fn civil_dates_convert_back_to_timestamps() {
    for seconds in [
        0_i64,
        1,
        59,
        86_399,
        951_782_400,
        1_795_681_687,
        -1,
        -86_401,
        253_402_300_799,
    ] {
        let civil = Timestamp(seconds).to_civil_utc();
        assert_eq!(
            Timestamp::from_civil_utc(civil),
            Some(Timestamp(seconds)),
            "{seconds}"
        );
    }
    let invalid = [
        (2026, 2, 29, 0, 0, 0),
        (2026, 13, 1, 0, 0, 0),
        (2026, 0, 1, 0, 0, 0),
        (2026, 4, 31, 0, 0, 0),
        (2026, 1, 0, 0, 0, 0),
        (2026, 1, 1, 24, 0, 0),
        (2026, 1, 1, 0, 60, 0),
    ];
    for (year, month, day, hour, minute, second) in invalid {
        let civil = CivilDateTimeUtc {
            year,
            month,
            day,
            hour,
            minute,
            second,
        };
        assert_eq!(Timestamp::from_civil_utc(civil), None, "{civil}");
    }
    let leap = CivilDateTimeUtc {
        year: 2024,
        month: 2,
        day: 29,
        hour: 12,
        minute: 0,
        second: 0,
    };
    assert_eq!(
        Timestamp::from_civil_utc(leap),
        Some(Timestamp(1_709_208_000))
    );
}
