//! Policy configuration tests: every sample in `docs/samples/policies-*.toml` parses (the
//! invalid ones fail with the line and message their `# expect:` comment names), and a table
//! of bad tables is refused with a message naming the line.

use super::*;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/samples")
}

#[test]
fn every_policy_sample_parses_or_fails_as_it_says() {
    let mut valid = 0;
    let mut invalid = 0;
    for entry in std::fs::read_dir(samples()).expect("docs/samples") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if !name.starts_with("policies") || !name.ends_with(".toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let result = load_policies(&path);
        if name.contains("invalid") {
            let expectation = text
                .lines()
                .find_map(|line| line.strip_prefix("# expect: line "))
                .unwrap_or_else(|| panic!("{name} says what it expects"));
            let (line, message) = expectation.split_once(": ").expect("line: message");
            let line: usize = line.parse().expect("a line number");
            match result {
                Err(PolicyConfigError::Invalid {
                    line: found,
                    message: found_message,
                    ..
                }) => {
                    assert_eq!(found, line, "{name}: {found_message}");
                    assert!(found_message.contains(message), "{name}: {found_message}");
                }
                other => panic!("{name}: {other:?}"),
            }
            invalid += 1;
        } else {
            let policies = result.unwrap_or_else(|error| panic!("{name}: {error}"));
            assert!(!policies.is_empty(), "{name} has policies");
            valid += 1;
        }
    }
    assert!(
        valid >= 2 && invalid >= 1,
        "valid {valid}, invalid {invalid}"
    );
}

#[test]
fn the_home_sample_means_what_it_says() {
    let policies = load_policies(&samples().join("policies-home.toml")).expect("sample");
    let ids: Vec<&str> = policies.iter().map(|policy| policy.id().as_str()).collect();
    assert_eq!(ids, ["home", "photos", "db"]);
    let home = &policies[0].retention;
    assert_eq!(home.scope.dataset.as_str(), "tank/home");
    assert!(home.scope.recursive);
    assert!(
        home.scope
            .covers(&DatasetName::new("tank/home/alice").expect("name"))
    );
    assert!(
        !home
            .scope
            .covers(&DatasetName::new("tank/home/scratch/x").expect("name"))
    );
    assert_eq!(
        home.tiers,
        [
            TierRule {
                tier: Tier::Hourly,
                keep: 24
            },
            TierRule {
                tier: Tier::Daily,
                keep: 14
            },
            TierRule {
                tier: Tier::Weekly,
                keep: 8
            },
            TierRule {
                tier: Tier::Monthly,
                keep: 12
            },
        ]
    );
    assert_eq!(home.min_keep, 3);
    assert!(home.skip_empty);
    assert_eq!(home.free_space_floor_percent, Some(10));
    assert_eq!(policies[0].calendar.name(), "Europe/Paris");
    let db = &policies[2];
    assert_eq!(
        db.retention.schedule_tier(),
        Some(Tier::Frequently { period_minutes: 15 })
    );
    assert_eq!(db.pre_hook, ["/usr/local/bin/db-freeze", "--wait"]);
    assert_eq!(db.post_hook, ["/usr/local/bin/db-thaw"]);
    assert_eq!(db.hook_timeout, Duration::from_secs(30));
}

#[test]
fn bad_tables_are_refused_with_their_line() {
    let table = |body: &str| format!("# policies\n\n[[policy]]\n{body}");
    let cases: &[(&str, usize, &str)] = &[
        (
            "id = \"home\"\ndataset = \"tank/home\"\nhourly = 24\nhourly_count = 3\n",
            7,
            "unknown field `hourly_count`",
        ),
        (
            "id = \"home\"\ndataset = \"tank/home\"\nhourly = -1\n",
            6,
            "invalid value",
        ),
        (
            "id = \"ho me\"\ndataset = \"tank/home\"\nhourly = 1\n",
            3,
            "policy id `ho me`",
        ),
        (
            "id = \"home\"\ndataset = \"tank//home\"\nhourly = 1\n",
            3,
            "dataset",
        ),
        (
            "id = \"home\"\ndataset = \"tank/home\"\nexclude = [\"tank/home/x\"]\nhourly = 1\n",
            3,
            "needs `recursive = true`",
        ),
        (
            "id = \"home\"\ndataset = \"tank/home\"\nrecursive = true\nexclude = [\"tank/other\"]\nhourly = 1\n",
            3,
            "is not below `tank/home`",
        ),
        (
            "id = \"home\"\ndataset = \"tank/home\"\nrecursive = true\nexclude = [\"tank/home\"]\nhourly = 1\n",
            3,
            "is not below",
        ),
        (
            "id = \"home\"\ndataset = \"tank/home\"\n",
            3,
            "keeps no snapshots",
        ),
        (
            "id = \"home\"\ndataset = \"tank/home\"\nfrequently = 4\nfrequent_period_minutes = 0\n",
            3,
            "frequent_period_minutes must be 1 to 1440",
        ),
        (
            "id = \"home\"\ndataset = \"tank/home\"\ndaily = 1\nfree_space_floor_percent = 100\n",
            3,
            "must be 1 to 99",
        ),
        (
            "id = \"home\"\ndataset = \"tank/home\"\ndaily = 1\npre_hook = [\"\"]\n",
            3,
            "pre_hook must be a command",
        ),
        (
            "id = \"home\"\ndataset = \"tank/home\"\ndaily = 1\npre_hook = \"/bin/freeze --all\"\n",
            7,
            "invalid type",
        ),
        (
            "id = \"home\"\ndataset = \"tank/home\"\ndaily = 1\nhook_timeout_seconds = 0\n",
            3,
            "hook_timeout_seconds",
        ),
        (
            "id = \"home\"\ndataset = \"tank/home\"\ndaily = 1\ntimezone = \"Nowhere/Else\"\n",
            3,
            "unknown time zone `Nowhere/Else`",
        ),
        (
            "dataset = \"tank/home\"\ndaily = 1\n",
            3,
            "missing field `id`",
        ),
        (
            "id = \"a\"\ndataset = \"tank/a\"\ndaily = 1\n\n[[policy]]\nid = \"a\"\ndataset = \"tank/b\"\ndaily = 1\n",
            8,
            "policy id `a` is used by two policies",
        ),
    ];
    for &(body, line, message) in cases {
        let text = table(body);
        match parse_policies(&text, Path::new("/etc/wizfs/policies.toml")) {
            Err(error @ PolicyConfigError::Invalid { .. }) => {
                let PolicyConfigError::Invalid {
                    line: found,
                    message: found_message,
                    ..
                } = &error
                else {
                    unreachable!("matched above")
                };
                assert!(found_message.contains(message), "{body:?}: {found_message}");
                assert_eq!(*found, line, "{body:?}: {found_message}");
                assert!(
                    error.to_string().contains(&format!("at line {line}")),
                    "{error}"
                );
            }
            other => panic!("{body:?}: {other:?}"),
        }
    }
}

#[test]
fn defaults_and_an_empty_file() {
    assert!(
        parse_policies("", Path::new("x"))
            .expect("empty")
            .is_empty()
    );
    let policies = parse_policies(
        "[[policy]]\nid = \"p\"\ndataset = \"tank\"\nfrequently = 2\n",
        Path::new("x"),
    )
    .expect("minimal");
    let policy = &policies[0];
    assert_eq!(
        policy.retention.tiers,
        [TierRule {
            tier: Tier::Frequently {
                period_minutes: DEFAULT_FREQUENT_PERIOD_MINUTES
            },
            keep: 2
        }]
    );
    assert!(!policy.retention.scope.recursive);
    assert_eq!(policy.retention.min_keep, 0);
    assert!(!policy.retention.skip_empty);
    assert_eq!(policy.retention.free_space_floor_percent, None);
    assert!(policy.pre_hook.is_empty() && policy.post_hook.is_empty());
    assert_eq!(
        policy.hook_timeout,
        Duration::from_secs(DEFAULT_HOOK_TIMEOUT_SECONDS)
    );
    assert_eq!(policy.calendar, ZoneCalendar::system());
}
