//! Tests of the opener: directory creation and its mode, a second open, tables that last.

use std::os::unix::fs::PermissionsExt;

use super::*;

const OPTIONS: Options = Options {
    map_size: 1 << 20,
    max_dbs: 2,
};

#[test]
fn creates_a_missing_directory_private_to_its_owner() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("a/b");
    let env = open(&path, OPTIONS).unwrap();
    assert_eq!(env.path(), path);
    for directory in [root.path().join("a"), path] {
        let mode = std::fs::metadata(&directory).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{}", directory.display());
    }
}

#[test]
fn an_existing_directory_keeps_its_mode() {
    let root = tempfile::tempdir().unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o750)).unwrap();
    open(root.path(), OPTIONS).unwrap();
    let mode = std::fs::metadata(root.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o750);
}

#[test]
fn a_second_open_in_one_process_is_refused_with_the_path() {
    let root = tempfile::tempdir().unwrap();
    let _env = open(root.path(), OPTIONS).unwrap();
    let error = open(root.path(), OPTIONS).unwrap_err();
    assert!(matches!(&error, LmdbError::AlreadyOpen { path } if path == root.path()));
    assert!(
        error
            .to_string()
            .contains(&root.path().display().to_string())
    );
}

#[test]
fn a_directory_that_cannot_be_made_is_an_error_with_the_path() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("file");
    std::fs::write(&file, b"").unwrap();
    let error = open(&file.join("below"), OPTIONS).unwrap_err();
    assert!(
        matches!(error, LmdbError::CreateDirectory { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("file/below"), "{error}");
}

#[test]
fn tables_and_their_data_outlive_the_environment() {
    let root = tempfile::tempdir().unwrap();
    {
        let env = open(root.path(), OPTIONS).unwrap();
        let [first, second] = create_databases(&env, ["first", "second"]).unwrap();
        let mut wtxn = env.write_txn().unwrap();
        first.put(&mut wtxn, b"key", b"one").unwrap();
        second.put(&mut wtxn, b"key", b"two").unwrap();
        wtxn.commit().unwrap();
    }
    let env = open(root.path(), OPTIONS).unwrap();
    let [second, first] = create_databases(&env, ["second", "first"]).unwrap();
    let rtxn = env.read_txn().unwrap();
    assert_eq!(first.get(&rtxn, b"key").unwrap(), Some(&b"one"[..]));
    assert_eq!(second.get(&rtxn, b"key").unwrap(), Some(&b"two"[..]));
}

#[test]
fn more_tables_than_allowed_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    let env = open(root.path(), OPTIONS).unwrap();
    assert!(create_databases(&env, ["a", "b", "c"]).is_err());
}
