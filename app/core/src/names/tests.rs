//! Table-driven tests for the ZFS name types: every rule is exercised with
//! accepted and rejected inputs, and every rejection checks the exact
//! [`NameError`] variant and fields.

use super::*;
use std::collections::HashSet;

fn empty(kind: NameKind) -> NameError {
    NameError::Empty { kind }
}

fn too_long(kind: NameKind, name: &str, max: usize) -> NameError {
    NameError::TooLong {
        kind,
        name: name.to_owned(),
        length: name.len(),
        max,
    }
}

fn invalid_character(kind: NameKind, name: &str, character: char, position: usize) -> NameError {
    NameError::InvalidCharacter {
        kind,
        name: name.to_owned(),
        character,
        position,
    }
}

fn empty_component(kind: NameKind, name: &str) -> NameError {
    NameError::EmptyComponent {
        kind,
        name: name.to_owned(),
    }
}

fn dot_component(kind: NameKind, name: &str) -> NameError {
    NameError::DotComponent {
        kind,
        name: name.to_owned(),
    }
}

fn leading_dash(kind: NameKind, name: &str) -> NameError {
    NameError::LeadingDash {
        kind,
        name: name.to_owned(),
    }
}

fn missing_delimiter(kind: NameKind, name: &str, delimiter: char) -> NameError {
    NameError::MissingDelimiter {
        kind,
        name: name.to_owned(),
        delimiter,
    }
}

fn unexpected_delimiter(kind: NameKind, name: &str, delimiter: char) -> NameError {
    NameError::UnexpectedDelimiter {
        kind,
        name: name.to_owned(),
        delimiter,
    }
}

fn must_start_with_letter(name: &str) -> NameError {
    NameError::PoolNameMustStartWithLetter {
        name: name.to_owned(),
    }
}

fn reserved(name: &str) -> NameError {
    NameError::ReservedPoolName {
        name: name.to_owned(),
    }
}

fn dataset(name: &str) -> DatasetName {
    DatasetName::new(name).unwrap()
}

const POOL: NameKind = NameKind::Pool;
const DATASET: NameKind = NameKind::Dataset;
const SNAPSHOT: NameKind = NameKind::Snapshot;
const BOOKMARK: NameKind = NameKind::Bookmark;

#[test]
fn name_kind_displays_as_lowercase_word() {
    let cases = [
        (POOL, "pool"),
        (DATASET, "dataset"),
        (SNAPSHOT, "snapshot"),
        (BOOKMARK, "bookmark"),
    ];
    for (kind, expected) in cases {
        assert_eq!(kind.to_string(), expected);
        assert_eq!(kind.as_str(), expected);
    }
}

#[test]
fn pool_names_accepted() {
    let longest = "p".repeat(MAXIMUM_POOL_NAME_LENGTH);
    let cases = [
        "tank",
        "T",
        "tank0",
        "my pool",
        "a:b.c_d-e",
        "backup2026",
        "logs",
        "c",
        "cx0",
        "Mirror",
        "mirro",
        "raid",
        "spar",
        "tank-",
        longest.as_str(),
    ];
    for input in cases {
        let pool = PoolName::new(input).unwrap_or_else(|error| panic!("{input:?}: {error}"));
        assert_eq!(pool.as_str(), input);
        assert_eq!(pool.to_string(), input);
        assert_eq!(input.parse::<PoolName>(), Ok(pool.clone()));
        assert_eq!(DatasetName::from(pool.clone()).as_str(), input);
        assert_eq!(pool.root_dataset().as_str(), input);
    }
}

#[test]
fn pool_names_rejected() {
    let too_long_name = "p".repeat(MAXIMUM_POOL_NAME_LENGTH + 1);
    let cases: Vec<(&str, NameError)> = vec![
        ("", empty(POOL)),
        (
            too_long_name.as_str(),
            too_long(POOL, &too_long_name, MAXIMUM_POOL_NAME_LENGTH),
        ),
        ("tank/data", unexpected_delimiter(POOL, "tank/data", '/')),
        ("tank@snap", unexpected_delimiter(POOL, "tank@snap", '@')),
        ("tank#mark", unexpected_delimiter(POOL, "tank#mark", '#')),
        ("tank%", invalid_character(POOL, "tank%", '%', 4)),
        ("ta\nnk", invalid_character(POOL, "ta\\nnk", '\n', 2)),
        ("tänk", invalid_character(POOL, "tänk", 'ä', 1)),
        ("tank\0", invalid_character(POOL, "tank\\0", '\0', 4)),
        ("0tank", must_start_with_letter("0tank")),
        ("-tank", must_start_with_letter("-tank")),
        ("_tank", must_start_with_letter("_tank")),
        (" tank", must_start_with_letter(" tank")),
        (".", must_start_with_letter(".")),
        ("mirror", reserved("mirror")),
        ("mirror0", reserved("mirror0")),
        ("raidz", reserved("raidz")),
        ("raidz2-pool", reserved("raidz2-pool")),
        ("draid", reserved("draid")),
        ("draidx", reserved("draidx")),
        ("spare", reserved("spare")),
        ("spares", reserved("spares")),
        ("log", reserved("log")),
        ("c0", reserved("c0")),
        ("c1t0d0", reserved("c1t0d0")),
    ];
    for (input, expected) in cases {
        assert_eq!(PoolName::new(input), Err(expected.clone()), "{input:?}");
        assert_eq!(input.parse::<PoolName>(), Err(expected), "{input:?}");
    }
}

#[test]
fn dataset_names_accepted() {
    let longest = format!("tank/{}", "d".repeat(MAXIMUM_FULL_NAME_LENGTH - 5));
    let cases: Vec<(&str, usize)> = vec![
        ("tank", 0),
        ("tank/data", 1),
        ("tank/home/alice", 2),
        ("tank/my files/2026", 2),
        ("tank/a-b_c:d.e", 1),
        ("tank/.hidden", 1),
        ("tank/...", 1),
        ("tank/a-", 1),
        (longest.as_str(), 1),
    ];
    for (input, depth) in cases {
        let name = DatasetName::new(input).unwrap_or_else(|error| panic!("{input:?}: {error}"));
        assert_eq!(name.as_str(), input);
        assert_eq!(name.to_string(), input);
        assert_eq!(name.depth(), depth, "{input:?}");
        assert_eq!(name.is_root(), depth == 0, "{input:?}");
        assert_eq!(name.components().count(), depth + 1, "{input:?}");
        assert_eq!(input.parse::<DatasetName>(), Ok(name));
    }
}

#[test]
fn dataset_names_rejected() {
    let too_long_name = format!("tank/{}", "d".repeat(MAXIMUM_FULL_NAME_LENGTH - 4));
    let long_pool = "p".repeat(MAXIMUM_POOL_NAME_LENGTH + 1);
    let long_pool_dataset = format!("{long_pool}/a");
    let cases: Vec<(&str, NameError)> = vec![
        ("", empty(DATASET)),
        (
            too_long_name.as_str(),
            too_long(DATASET, &too_long_name, MAXIMUM_FULL_NAME_LENGTH),
        ),
        (
            long_pool_dataset.as_str(),
            too_long(POOL, &long_pool, MAXIMUM_POOL_NAME_LENGTH),
        ),
        ("/tank", empty_component(DATASET, "/tank")),
        ("tank/", empty_component(DATASET, "tank/")),
        ("tank//data", empty_component(DATASET, "tank//data")),
        ("/", empty_component(DATASET, "/")),
        ("tank/.", dot_component(DATASET, "tank/.")),
        ("tank/../etc", dot_component(DATASET, "tank/../etc")),
        ("tank/a/./b", dot_component(DATASET, "tank/a/./b")),
        ("tank/-rf", leading_dash(DATASET, "tank/-rf")),
        ("tank/a/-", leading_dash(DATASET, "tank/a/-")),
        ("tank@snap", unexpected_delimiter(DATASET, "tank@snap", '@')),
        ("tank/a#b", unexpected_delimiter(DATASET, "tank/a#b", '#')),
        ("tank/a%b", invalid_character(DATASET, "tank/a%b", '%', 6)),
        (
            "tank/a\tb",
            invalid_character(DATASET, "tank/a\\tb", '\t', 6),
        ),
        (
            "tank/\u{1b}[31m",
            invalid_character(DATASET, "tank/\\u{1b}[31m", '\u{1b}', 5),
        ),
        ("tank/ü", invalid_character(DATASET, "tank/ü", 'ü', 5)),
        (
            "tank/a\\b",
            invalid_character(DATASET, "tank/a\\\\b", '\\', 6),
        ),
        ("1tank/data", must_start_with_letter("1tank")),
        ("-tank/data", must_start_with_letter("-tank")),
        ("./data", must_start_with_letter(".")),
        ("mirror-1/data", reserved("mirror-1")),
        ("log/data", reserved("log")),
        ("c3/data", reserved("c3")),
    ];
    for (input, expected) in cases {
        assert_eq!(DatasetName::new(input), Err(expected.clone()), "{input:?}");
        assert_eq!(input.parse::<DatasetName>(), Err(expected), "{input:?}");
    }
}

/// Dataset, its pool, its parent, its components and its last component.
type NavigationCase = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Vec<&'static str>,
    &'static str,
);

#[test]
fn dataset_name_navigation() {
    let cases: Vec<NavigationCase> = vec![
        ("tank", "tank", None, vec!["tank"], "tank"),
        ("tank/a", "tank", Some("tank"), vec!["tank", "a"], "a"),
        (
            "tank/a/b c",
            "tank",
            Some("tank/a"),
            vec!["tank", "a", "b c"],
            "b c",
        ),
    ];
    for (input, pool, parent, components, last) in cases {
        let name = dataset(input);
        assert_eq!(name.pool().as_str(), pool);
        assert_eq!(name.parent().as_ref().map(DatasetName::as_str), parent);
        assert_eq!(name.components().collect::<Vec<_>>(), components);
        assert_eq!(name.last_component(), last);
    }
}

#[test]
fn dataset_children_accepted() {
    let cases = [
        ("tank", "data", "tank/data"),
        ("tank/a", "b c", "tank/a/b c"),
        ("tank/a", ".x", "tank/a/.x"),
    ];
    for (parent, component, expected) in cases {
        let child = dataset(parent).child(component).unwrap();
        assert_eq!(child.as_str(), expected);
        assert_eq!(child.parent(), Some(dataset(parent)));
        assert_eq!(DatasetName::new(expected), Ok(child));
    }
}

#[test]
fn dataset_children_rejected() {
    let long_component = "c".repeat(MAXIMUM_FULL_NAME_LENGTH - 4);
    let long_result = format!("tank/{long_component}");
    let cases: Vec<(&str, &str, NameError)> = vec![
        ("tank", "", empty_component(DATASET, "tank/")),
        ("tank", ".", dot_component(DATASET, "tank/.")),
        ("tank", "..", dot_component(DATASET, "tank/..")),
        ("tank", "-x", leading_dash(DATASET, "tank/-x")),
        (
            "tank",
            "a/b",
            invalid_character(DATASET, "tank/a/b", '/', 6),
        ),
        ("tank", "/", invalid_character(DATASET, "tank//", '/', 5)),
        (
            "tank/a",
            "b%",
            invalid_character(DATASET, "tank/a/b%", '%', 8),
        ),
        (
            "tank",
            "a@b",
            unexpected_delimiter(DATASET, "tank/a@b", '@'),
        ),
        (
            "tank",
            "a#b",
            unexpected_delimiter(DATASET, "tank/a#b", '#'),
        ),
        (
            "tank",
            long_component.as_str(),
            too_long(DATASET, &long_result, MAXIMUM_FULL_NAME_LENGTH),
        ),
    ];
    for (parent, component, expected) in cases {
        assert_eq!(
            dataset(parent).child(component),
            Err(expected),
            "{parent:?} + {component:?}"
        );
    }
}

#[test]
fn descendant_check_is_component_wise() {
    let cases = [
        ("tank", "tank", true),
        ("tank/a", "tank", true),
        ("tank/a/b", "tank/a", true),
        ("tank/a", "tank/a", true),
        ("tank/ab", "tank/a", false),
        ("tank/a b", "tank/a", false),
        ("tank", "tank/a", false),
        ("tanker", "tank", false),
        ("other/a", "tank", false),
    ];
    for (name, ancestor, expected) in cases {
        assert_eq!(
            dataset(name).is_same_or_descendant_of(&dataset(ancestor)),
            expected,
            "{name:?} under {ancestor:?}"
        );
    }
}

#[test]
fn dataset_ordering_is_tree_order() {
    let mut names: Vec<DatasetName> = [
        "tank/a b", "tank/a/b", "tank", "tank/a", "tank/a-b", "alpha",
    ]
    .iter()
    .map(|name| dataset(name))
    .collect();
    names.sort();
    let sorted: Vec<&str> = names.iter().map(DatasetName::as_str).collect();
    assert_eq!(
        sorted,
        [
            "alpha", "tank", "tank/a", "tank/a/b", "tank/a b", "tank/a-b"
        ]
    );
}

#[test]
fn snapshot_names_accepted() {
    let longest = format!("tank@{}", "s".repeat(MAXIMUM_FULL_NAME_LENGTH - 5));
    let cases: Vec<(&str, &str, &str)> = vec![
        ("tank@now", "tank", "now"),
        (
            "tank/data@daily-2026-01-01",
            "tank/data",
            "daily-2026-01-01",
        ),
        ("tank/a/b@x:y.z_ 1", "tank/a/b", "x:y.z_ 1"),
        ("tank@.x", "tank", ".x"),
        (longest.as_str(), "tank", &longest[5..]),
    ];
    for (input, dataset_part, short) in cases {
        let name = SnapshotName::new(input).unwrap_or_else(|error| panic!("{input:?}: {error}"));
        assert_eq!(name.as_str(), input);
        assert_eq!(name.to_string(), input);
        assert_eq!(name.dataset().as_str(), dataset_part);
        assert_eq!(name.short_name(), short);
        assert_eq!(
            SnapshotName::from_parts(dataset(dataset_part), short),
            Ok(name.clone())
        );
        assert_eq!(dataset(dataset_part).snapshot(short), Ok(name.clone()));
        assert_eq!(validate_short_name(SNAPSHOT, short), Ok(()));
        assert_eq!(input.parse::<SnapshotName>(), Ok(name));
    }
}

#[test]
fn snapshot_names_rejected() {
    let too_long_name = format!("tank@{}", "s".repeat(MAXIMUM_FULL_NAME_LENGTH - 4));
    let cases: Vec<(&str, NameError)> = vec![
        ("", empty(SNAPSHOT)),
        (
            too_long_name.as_str(),
            too_long(SNAPSHOT, &too_long_name, MAXIMUM_FULL_NAME_LENGTH),
        ),
        ("tank/data", missing_delimiter(SNAPSHOT, "tank/data", '@')),
        ("tank/a@", empty_component(SNAPSHOT, "tank/a@")),
        ("@snap", empty_component(SNAPSHOT, "@snap")),
        ("tank/@snap", empty_component(SNAPSHOT, "tank/@snap")),
        ("tank@a@b", unexpected_delimiter(SNAPSHOT, "tank@a@b", '@')),
        ("tank@a#b", unexpected_delimiter(SNAPSHOT, "tank@a#b", '#')),
        ("tank#a", unexpected_delimiter(SNAPSHOT, "tank#a", '#')),
        ("tank@a/b", invalid_character(SNAPSHOT, "tank@a/b", '/', 6)),
        ("tank@a%b", invalid_character(SNAPSHOT, "tank@a%b", '%', 6)),
        (
            "tank@a\u{7}",
            invalid_character(SNAPSHOT, "tank@a\\u{7}", '\u{7}', 6),
        ),
        ("tank@.", dot_component(SNAPSHOT, "tank@.")),
        ("tank@..", dot_component(SNAPSHOT, "tank@..")),
        ("tank/../x@s", dot_component(SNAPSHOT, "tank/../x@s")),
        ("tank@-r", leading_dash(SNAPSHOT, "tank@-r")),
        ("tank/-a@s", leading_dash(SNAPSHOT, "tank/-a@s")),
        ("9tank@s", must_start_with_letter("9tank")),
        ("spare1/a@s", reserved("spare1")),
    ];
    for (input, expected) in cases {
        assert_eq!(SnapshotName::new(input), Err(expected.clone()), "{input:?}");
        assert_eq!(input.parse::<SnapshotName>(), Err(expected), "{input:?}");
    }
}

#[test]
fn snapshot_from_parts_gives_the_same_errors_as_parsing_the_joined_name() {
    let long_short = "s".repeat(MAXIMUM_FULL_NAME_LENGTH - 4);
    let cases: Vec<(&str, &str)> = vec![
        ("tank", ""),
        ("tank", "."),
        ("tank", ".."),
        ("tank", "-x"),
        ("tank/a", "x/y"),
        ("tank/a", "x@y"),
        ("tank/a", "x#y"),
        ("tank/a", "x\ny"),
        ("tank", long_short.as_str()),
    ];
    for (dataset_part, short) in cases {
        let joined = format!("{dataset_part}@{short}");
        let expected = SnapshotName::new(&joined);
        assert!(expected.is_err(), "{joined:?}");
        assert_eq!(
            SnapshotName::from_parts(dataset(dataset_part), short),
            expected,
            "{joined:?}"
        );
        assert_eq!(
            dataset(dataset_part).snapshot(short),
            expected,
            "{joined:?}"
        );
    }
}

#[test]
fn bookmark_names_accepted() {
    let cases = [
        ("tank#mark", "tank", "mark"),
        ("tank/data#sent-2026-01-01", "tank/data", "sent-2026-01-01"),
    ];
    for (input, dataset_part, short) in cases {
        let name = BookmarkName::new(input).unwrap_or_else(|error| panic!("{input:?}: {error}"));
        assert_eq!(name.as_str(), input);
        assert_eq!(name.to_string(), input);
        assert_eq!(name.dataset().as_str(), dataset_part);
        assert_eq!(name.short_name(), short);
        assert_eq!(
            BookmarkName::from_parts(dataset(dataset_part), short),
            Ok(name.clone())
        );
        assert_eq!(dataset(dataset_part).bookmark(short), Ok(name.clone()));
        assert_eq!(input.parse::<BookmarkName>(), Ok(name));
    }
}

#[test]
fn bookmark_names_rejected() {
    let cases: Vec<(&str, NameError)> = vec![
        ("", empty(BOOKMARK)),
        ("tank", missing_delimiter(BOOKMARK, "tank", '#')),
        (
            "tank@snap",
            unexpected_delimiter(BOOKMARK, "tank@snap", '@'),
        ),
        ("tank#a@b", unexpected_delimiter(BOOKMARK, "tank#a@b", '@')),
        ("tank#a#b", unexpected_delimiter(BOOKMARK, "tank#a#b", '#')),
        ("tank#", empty_component(BOOKMARK, "tank#")),
        ("#mark", empty_component(BOOKMARK, "#mark")),
        ("tank#a/b", invalid_character(BOOKMARK, "tank#a/b", '/', 6)),
        ("tank#..", dot_component(BOOKMARK, "tank#..")),
        ("tank#-f", leading_dash(BOOKMARK, "tank#-f")),
        ("raidz/a#b", reserved("raidz")),
    ];
    for (input, expected) in cases {
        assert_eq!(BookmarkName::new(input), Err(expected.clone()), "{input:?}");
        assert_eq!(input.parse::<BookmarkName>(), Err(expected), "{input:?}");
    }
    assert_eq!(
        dataset("tank").bookmark("a@b"),
        Err(unexpected_delimiter(BOOKMARK, "tank#a@b", '@'))
    );
}

#[test]
fn snapshot_converts_to_bookmark_of_same_short_name() {
    let snapshot = SnapshotName::new("tank/a@x").unwrap();
    assert_eq!(
        snapshot.to_bookmark_name(),
        BookmarkName::new("tank/a#x").unwrap()
    );
}

#[test]
fn short_names_validated_alone() {
    let longest = "s".repeat(MAXIMUM_SHORT_NAME_LENGTH);
    let too_long_name = "s".repeat(MAXIMUM_SHORT_NAME_LENGTH + 1);
    let cases: Vec<(NameKind, &str, Result<(), NameError>)> = vec![
        (SNAPSHOT, "daily-2026-01-01", Ok(())),
        (SNAPSHOT, longest.as_str(), Ok(())),
        (BOOKMARK, "sent 1", Ok(())),
        (DATASET, "home", Ok(())),
        (POOL, "tank", Ok(())),
        (SNAPSHOT, "", Err(empty(SNAPSHOT))),
        (BOOKMARK, "", Err(empty(BOOKMARK))),
        (
            SNAPSHOT,
            too_long_name.as_str(),
            Err(too_long(
                SNAPSHOT,
                &too_long_name,
                MAXIMUM_SHORT_NAME_LENGTH,
            )),
        ),
        (
            SNAPSHOT,
            "a/b",
            Err(invalid_character(SNAPSHOT, "a/b", '/', 1)),
        ),
        (
            SNAPSHOT,
            "a@b",
            Err(unexpected_delimiter(SNAPSHOT, "a@b", '@')),
        ),
        (
            SNAPSHOT,
            "a#b",
            Err(unexpected_delimiter(SNAPSHOT, "a#b", '#')),
        ),
        (
            BOOKMARK,
            "a@b",
            Err(unexpected_delimiter(BOOKMARK, "a@b", '@')),
        ),
        (SNAPSHOT, "..", Err(dot_component(SNAPSHOT, ".."))),
        (SNAPSHOT, "-x", Err(leading_dash(SNAPSHOT, "-x"))),
        (
            SNAPSHOT,
            "x\ry",
            Err(invalid_character(SNAPSHOT, "x\\ry", '\r', 1)),
        ),
        (
            DATASET,
            "a/b",
            Err(invalid_character(DATASET, "a/b", '/', 1)),
        ),
        (DATASET, "", Err(empty(DATASET))),
        (POOL, "mirror", Err(reserved("mirror"))),
        (POOL, "", Err(empty(POOL))),
    ];
    for (kind, input, expected) in cases {
        assert_eq!(
            validate_short_name(kind, input),
            expected,
            "{kind} {input:?}"
        );
    }
}

/// Input, and the expected kind and dataset part, or error.
type ObjectNameCase = (&'static str, Result<(NameKind, &'static str), NameError>);

#[test]
fn object_names_parse_by_delimiter() {
    let cases: Vec<ObjectNameCase> = vec![
        ("tank/a", Ok((DATASET, "tank/a"))),
        ("tank/a@s", Ok((SNAPSHOT, "tank/a"))),
        ("tank/a#b", Ok((BOOKMARK, "tank/a"))),
        ("", Err(empty(DATASET))),
        (
            "tank/a@s#b",
            Err(unexpected_delimiter(SNAPSHOT, "tank/a@s#b", '#')),
        ),
        (
            "tank/a#b@s",
            Err(unexpected_delimiter(BOOKMARK, "tank/a#b@s", '@')),
        ),
        ("tank/a@", Err(empty_component(SNAPSHOT, "tank/a@"))),
        ("tank//a", Err(empty_component(DATASET, "tank//a"))),
    ];
    for (input, expected) in cases {
        let parsed = ZfsObjectName::parse(input);
        match (&parsed, expected) {
            (Ok(name), Ok((kind, dataset_part))) => {
                assert_eq!(name.kind(), kind, "{input:?}");
                assert_eq!(name.as_str(), input);
                assert_eq!(name.to_string(), input);
                assert_eq!(name.dataset().as_str(), dataset_part);
                assert_eq!(input.parse::<ZfsObjectName>(), Ok(name.clone()));
            }
            (Err(error), Err(expected_error)) => assert_eq!(error, &expected_error, "{input:?}"),
            (parsed, expected) => panic!("{input:?}: got {parsed:?}, expected {expected:?}"),
        }
    }
}

#[test]
fn names_convert_to_command_arguments() {
    fn as_os_str<T: AsRef<OsStr>>(value: &T) -> &OsStr {
        value.as_ref()
    }
    fn as_str_ref<T: AsRef<str>>(value: &T) -> &str {
        value.as_ref()
    }
    let pool = PoolName::new("tank").unwrap();
    let data = dataset("tank/a");
    let snapshot = SnapshotName::new("tank/a@s").unwrap();
    let bookmark = BookmarkName::new("tank/a#b").unwrap();
    let object = ZfsObjectName::from(snapshot.clone());
    assert_eq!(as_os_str(&pool), OsStr::new("tank"));
    assert_eq!(as_os_str(&data), OsStr::new("tank/a"));
    assert_eq!(as_os_str(&snapshot), OsStr::new("tank/a@s"));
    assert_eq!(as_os_str(&bookmark), OsStr::new("tank/a#b"));
    assert_eq!(as_os_str(&object), OsStr::new("tank/a@s"));
    assert_eq!(as_str_ref(&pool), "tank");
    assert_eq!(as_str_ref(&data), "tank/a");
    assert_eq!(as_str_ref(&snapshot), "tank/a@s");
    assert_eq!(as_str_ref(&bookmark), "tank/a#b");
    assert_eq!(String::from(data.clone()), "tank/a");
    assert_eq!(DatasetName::try_from("tank/a"), Ok(data.clone()));
    assert_eq!(DatasetName::try_from("tank/a".to_owned()), Ok(data));
    let set: HashSet<SnapshotName> = [snapshot.clone(), snapshot].into_iter().collect();
    assert_eq!(set.len(), 1);
}

#[test]
fn error_messages_are_clear_and_terminal_safe() {
    let cases: Vec<(NameError, &str)> = vec![
        (
            SnapshotName::new("tank/a@").unwrap_err(),
            "snapshot name `tank/a@` has an empty name after `@`",
        ),
        (
            BookmarkName::new("#b").unwrap_err(),
            "bookmark name `#b` has an empty dataset name before `#`",
        ),
        (
            DatasetName::new("tank//a").unwrap_err(),
            "dataset name `tank//a` has an empty component (a leading, trailing or doubled `/`)",
        ),
        (DatasetName::new("").unwrap_err(), "dataset name is empty"),
        (
            DatasetName::new("tank/a\u{1b}[2J").unwrap_err(),
            "dataset name `tank/a\\u{1b}[2J` contains the character '\\u{1b}' at byte 6; \
             only ASCII letters, digits, `_`, `-`, `:`, `.` and space are allowed",
        ),
        (
            SnapshotName::new("tank@a/b").unwrap_err(),
            "snapshot name `tank@a/b` contains the character '/' at byte 6; only ASCII \
             letters, digits, `_`, `-`, `:`, `.` and space are allowed (a `/` may not appear \
             after the `@` or `#`)",
        ),
        (
            SnapshotName::new("tank").unwrap_err(),
            "snapshot name `tank` has no `@`; a snapshot name looks like `pool/dataset@name`",
        ),
        (
            DatasetName::new("tank@x").unwrap_err(),
            "dataset name `tank@x` contains `@` where it is not allowed; a dataset name may \
             not contain `@` or `#`",
        ),
        (
            DatasetName::new("tank/-rf").unwrap_err(),
            "dataset name `tank/-rf` has a component that begins with `-`; WiZFS does not \
             allow this so that a name can never be mistaken for a command-line option",
        ),
        (
            DatasetName::new("tank/..").unwrap_err(),
            "dataset name `tank/..` has a component that is `.` or `..`, which ZFS does not allow",
        ),
        (
            PoolName::new("1x").unwrap_err(),
            "pool name `1x` must begin with a letter (`a`-`z` or `A`-`Z`)",
        ),
        (
            PoolName::new("c0d0").unwrap_err(),
            "pool name `c0d0` is reserved: a pool may not be named `log`, begin with \
             `mirror`, `raidz`, `draid` or `spare`, or look like a disk (`c` followed by a digit)",
        ),
    ];
    for (error, expected) in cases {
        let message = error.to_string();
        assert_eq!(message, expected);
        assert!(!message.chars().any(char::is_control), "{message:?}");
    }
    let long_pool = "p".repeat(240);
    assert_eq!(
        PoolName::new(&long_pool).unwrap_err().to_string(),
        format!("pool name `{long_pool}` is 240 bytes long; the limit is 239")
    );
}

#[test]
fn huge_and_hostile_inputs_never_panic_and_are_cut_in_messages() {
    let huge = "\u{0}".repeat(100_000);
    let error = DatasetName::new(&huge).unwrap_err();
    let NameError::TooLong { name, length, .. } = &error else {
        panic!("unexpected {error:?}");
    };
    assert_eq!(*length, 100_000);
    assert_eq!(name.chars().count(), MAXIMUM_NAME_LENGTH_IN_ERRORS + 1);
    assert!(name.ends_with('…'));
    assert!(!error.to_string().chars().any(char::is_control));

    let hostile_inputs = [
        "@",
        "#",
        "/",
        "@@",
        "##",
        "a@",
        "a#",
        "ä@ö",
        "€",
        "tank@€",
        "tank#\u{202e}",
        "\u{feff}",
        "a/\u{300}",
        "a@/",
        "a#/",
        " ",
        "a/ ",
        "a@ ",
        "c",
        "c9",
        "",
    ];
    for input in hostile_inputs {
        let results = [
            PoolName::new(input).map(|_| ()),
            DatasetName::new(input).map(|_| ()),
            SnapshotName::new(input).map(|_| ()),
            BookmarkName::new(input).map(|_| ()),
            ZfsObjectName::parse(input).map(|_| ()),
            validate_short_name(SNAPSHOT, input),
            dataset("tank").child(input).map(|_| ()),
            dataset("tank").snapshot(input).map(|_| ()),
            dataset("tank").bookmark(input).map(|_| ()),
        ];
        for error in results.into_iter().filter_map(Result::err) {
            let message = error.to_string();
            assert!(!message.chars().any(char::is_control), "{message:?}");
            assert!(!message.contains('\u{202e}'), "{message:?}");
        }
    }
}
