//! Tests of `write_tar` and `write_archive`: the archive, read back with the `tar` (or `zip`)
//! crate, holds the same names (non-UTF-8 and long ones included; in ZIP as UTF-8, unique),
//! contents, symlinks and modes, and nothing else.

use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};

use rustix::fs::{FileType, Mode};
use wizfs_core::RelativePath;

use crate::test_support::{Fixture, path, write_file};
use crate::{ArchiveFormat, RestoreError, write_archive, write_tar};

/// (name, kind, content or link target, mode) of every archive entry, in order.
fn read_archive(archive: &[u8]) -> Vec<(Vec<u8>, tar::EntryType, Vec<u8>, u32)> {
    let mut reader = tar::Archive::new(archive);
    let mut entries = Vec::new();
    for entry in reader.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path_bytes().into_owned();
        let kind = entry.header().entry_type();
        let mode = entry.header().mode().unwrap();
        let payload = if kind == tar::EntryType::Symlink {
            entry.link_name_bytes().unwrap().into_owned()
        } else {
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            content
        };
        entries.push((name, kind, payload, mode));
    }
    entries
}

#[test]
fn a_directory_archive_holds_the_same_tree() {
    let fixture = Fixture::new();
    fixture.write("docs/a.txt", b"alpha");
    fs::set_permissions(
        fixture.live_path("docs/a.txt"),
        fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let odd_name = OsStr::from_bytes(b"caf\xe9 \xff.bin");
    write_file(
        &fixture.live_path("docs/sub").join(odd_name),
        b"\x00\x01binary",
    );
    let long_directory = "d".repeat(120);
    let long_name = format!("{}.txt", "n".repeat(150));
    fixture.write(&format!("docs/{long_directory}/{long_name}"), b"long path");
    symlink("a.txt", fixture.live_path("docs/link")).unwrap();
    let long_target = format!("{long_directory}/{long_name}");
    symlink(&long_target, fixture.live_path("docs/long-link")).unwrap();
    fixture.snapshot("daily");
    // The fake does not copy FIFOs into snapshots: make one there.
    let directory = fs::File::open(fixture.snapshot_directory("daily").join("docs")).unwrap();
    rustix::fs::mknodat(
        &directory,
        "pipe",
        FileType::Fifo,
        Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    fixture.write("docs/a.txt", b"changed live");
    let snapshot = fixture.snapshot_root("daily");

    let mut archive = Vec::new();
    let written = write_tar(&snapshot, &path("docs"), &mut archive).unwrap();
    assert_eq!(written, u64::try_from(archive.len()).unwrap());
    let entries = read_archive(&archive);
    let names: Vec<Vec<u8>> = entries.iter().map(|(name, ..)| name.clone()).collect();
    let long_path = format!("docs/{long_directory}/{long_name}");
    let mut odd_path = b"docs/sub/".to_vec();
    odd_path.extend_from_slice(odd_name.as_bytes());
    let expected: Vec<Vec<u8>> = vec![
        b"docs".to_vec(),
        b"docs/a.txt".to_vec(),
        format!("docs/{long_directory}").into_bytes(),
        long_path.clone().into_bytes(),
        b"docs/link".to_vec(),
        b"docs/long-link".to_vec(),
        b"docs/sub".to_vec(),
        odd_path.clone(),
    ];
    assert_eq!(names, expected, "the FIFO is left out");
    let find = |name: &[u8]| entries.iter().find(|(entry, ..)| entry == name).unwrap();
    // The snapshot's version, with its mode.
    assert_eq!(find(b"docs/a.txt").2, b"alpha");
    assert_eq!(find(b"docs/a.txt").3, 0o640);
    assert_eq!(find(b"docs/a.txt").1, tar::EntryType::Regular);
    assert_eq!(find(b"docs").1, tar::EntryType::Directory);
    assert_eq!(find(long_path.as_bytes()).2, b"long path");
    assert_eq!(find(&odd_path).2, b"\x00\x01binary");
    assert_eq!(find(b"docs/link").1, tar::EntryType::Symlink);
    assert_eq!(find(b"docs/link").2, b"a.txt");
    assert_eq!(find(b"docs/long-link").2, long_target.as_bytes());
}

#[test]
fn a_file_archive_holds_just_the_file() {
    let fixture = Fixture::new();
    fixture.write("deep/down/notes.txt", b"notes");
    let live = fixture.live();
    let mut archive = Vec::new();
    write_tar(&live, &path("deep/down/notes.txt"), &mut archive).unwrap();
    let entries = read_archive(&archive);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, b"notes.txt");
    assert_eq!(entries[0].2, b"notes");

    // The dataset root: its entries at the top of the archive.
    let mut archive = Vec::new();
    write_tar(&live, &RelativePath::root(), &mut archive).unwrap();
    let names: Vec<Vec<u8>> = read_archive(&archive)
        .into_iter()
        .map(|(name, ..)| name)
        .collect();
    assert_eq!(names, [&b"deep"[..], b"deep/down", b"deep/down/notes.txt"]);

    assert!(matches!(
        write_tar(&live, &path("absent"), &mut Vec::new()),
        Err(RestoreError::NotFound { .. })
    ));
    symlink("/etc", fixture.live_path("escape")).unwrap();
    assert!(matches!(
        write_tar(&live, &path("escape/passwd"), &mut Vec::new()),
        Err(RestoreError::SymlinkInPath { .. })
    ));
}

/// (name, directory, symlink, content or link target, mode) of every ZIP entry, in order.
fn read_zip(archive: &[u8]) -> Vec<(String, bool, bool, Vec<u8>, u32)> {
    let mut reader = zip::ZipArchive::new(std::io::Cursor::new(archive)).unwrap();
    let mut entries = Vec::new();
    for index in 0..reader.len() {
        let mut entry = reader.by_index(index).unwrap();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        entries.push((
            entry.name().unwrap().into_owned(),
            entry.is_dir(),
            entry.is_symlink(),
            content,
            entry.unix_mode().unwrap_or(0) & 0o7777,
        ));
    }
    entries
}

#[test]
fn a_zip_archive_holds_the_tree_with_names_made_utf8_and_unique() {
    let fixture = Fixture::new();
    fixture.write("docs/a.txt", b"alpha");
    fs::set_permissions(
        fixture.live_path("docs/a.txt"),
        fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    // Two names that differ only in bytes that are not UTF-8: the same text in ZIP.
    write_file(
        &fixture
            .live_path("docs")
            .join(OsStr::from_bytes(b"caf\xe9.txt")),
        b"latin-1",
    );
    write_file(
        &fixture
            .live_path("docs")
            .join(OsStr::from_bytes(b"caf\xff.txt")),
        b"other",
    );
    symlink("a.txt", fixture.live_path("docs/link")).unwrap();
    let long_name = format!("{}.txt", "n".repeat(200));
    fixture.write(&format!("docs/{long_name}"), b"long");
    fixture.snapshot("daily");
    let snapshot = fixture.snapshot_root("daily");

    let mut archive = Vec::new();
    let written =
        write_archive(&snapshot, &path("docs"), ArchiveFormat::Zip, &mut archive).unwrap();
    assert_eq!(written, u64::try_from(archive.len()).unwrap());
    let entries = read_zip(&archive);
    let names: Vec<&str> = entries.iter().map(|(name, ..)| name.as_str()).collect();
    let long_path = format!("docs/{long_name}");
    assert_eq!(
        names,
        [
            "docs/",
            "docs/a.txt",
            "docs/caf\u{fffd}.txt",
            "docs/caf\u{fffd}.txt (2)",
            "docs/link",
            long_path.as_str(),
        ]
    );
    let find = |name: &str| entries.iter().find(|entry| entry.0 == name).unwrap();
    assert!(find("docs/").1, "a directory");
    assert_eq!(find("docs/a.txt").3, b"alpha");
    assert_eq!(find("docs/a.txt").4, 0o640);
    let odd: Vec<&[u8]> = vec![
        &find("docs/caf\u{fffd}.txt").3,
        &find("docs/caf\u{fffd}.txt (2)").3,
    ];
    assert!(
        odd.contains(&&b"latin-1"[..]) && odd.contains(&&b"other"[..]),
        "{odd:?}"
    );
    assert!(find("docs/link").2, "a symlink stays a symlink");
    assert_eq!(find("docs/link").3, b"a.txt");
    assert_eq!(find(&long_path).3, b"long");

    // One file: just the file; what does not exist is refused as for tar.
    let mut archive = Vec::new();
    write_archive(
        &snapshot,
        &path("docs/a.txt"),
        ArchiveFormat::Zip,
        &mut archive,
    )
    .unwrap();
    let entries = read_zip(&archive);
    assert_eq!((entries.len(), entries[0].0.as_str()), (1, "a.txt"));
    assert!(matches!(
        write_archive(
            &snapshot,
            &path("absent"),
            ArchiveFormat::Zip,
            &mut Vec::new()
        ),
        Err(RestoreError::NotFound { .. })
    ));
}
