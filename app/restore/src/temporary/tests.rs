//! Tests of temporary names: what `cleanup_stale_temporaries` recognises, and that it removes
//! only leftovers of processes that are gone.

use std::fs;

use crate::cleanup_stale_temporaries;
use crate::temporary::{TemporaryKind, TemporaryNames, temporary_name_process};
use crate::test_support::{Fixture, path, write_file};

#[test]
fn temporary_names_carry_the_process_id() {
    let mut names = TemporaryNames::new();
    let first = names.next(TemporaryKind::Entry);
    let second = names.next(TemporaryKind::Directory);
    let process = std::process::id();
    assert_eq!(
        first,
        format!(".wizfs-restore-{process}-1.tmp").into_bytes()
    );
    assert_eq!(
        second,
        format!(".wizfs-restore-{process}-2.dir").into_bytes()
    );
    assert_eq!(temporary_name_process(&first), Some(process));
    assert_eq!(temporary_name_process(&second), Some(process));
    for other in [
        &b".wizfs-restore-12-x.tmp"[..],
        b".wizfs-restore--1.tmp",
        b".wizfs-restore-12-3.txt",
        b"wizfs-restore-12-3.tmp",
        b".wizfs-restore-12.tmp",
        b".wizfs-restore-99999999999-1.tmp",
        b"\xff",
    ] {
        assert_eq!(temporary_name_process(other), None, "{other:?}");
    }
}

#[test]
fn stale_temporaries_of_dead_processes_are_removed() {
    let fixture = Fixture::new();
    // Above the largest possible pid (2^22), so never a running process.
    let dead = 4_194_999;
    let own = std::process::id();
    fixture.write(&format!("dir/.wizfs-restore-{dead}-1.tmp"), b"half written");
    fixture.write(
        &format!("dir/.wizfs-restore-{dead}-2.dir/sub/file"),
        b"half built",
    );
    fixture.write(&format!("dir/.wizfs-restore-{own}-3.tmp"), b"in progress");
    fixture.write("dir/.wizfs-restore-notes.tmp", b"someone's file");
    fixture.write("dir/keep.txt", b"data");
    let live = fixture.live();
    assert_eq!(cleanup_stale_temporaries(&live, &path("dir")).unwrap(), 2);
    let mut left: Vec<String> = fs::read_dir(fixture.live_path("dir"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            format!(".wizfs-restore-{own}-3.tmp"),
            ".wizfs-restore-notes.tmp".to_owned(),
            "keep.txt".to_owned()
        ]
    );
    assert_eq!(
        cleanup_stale_temporaries(&live, &path("missing")).unwrap(),
        0
    );
    write_file(
        &fixture.live_path(&format!(".wizfs-restore-{dead}-4.tmp")),
        b"at the root",
    );
    assert_eq!(cleanup_stale_temporaries(&live, &path("")).unwrap(), 1);
}
