//! Tests of the data copy: both the `copy_file_range` path and the read/write fallback copy
//! exactly the data ranges, keep holes, and report every byte.

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;

use super::copy_file_data_with;
use crate::test_support::path;

const LENGTH: u64 = 40 << 20;

fn sparse_source(directory: &std::path::Path) -> fs::File {
    let source_path = directory.join("source");
    let mut source = fs::File::create(&source_path).unwrap();
    source.set_len(LENGTH).unwrap();
    // Data at the start, a run in the middle bigger than one fallback buffer, the last bytes.
    source.write_all(b"start").unwrap();
    source.seek(SeekFrom::Start(LENGTH / 3)).unwrap();
    source.write_all(&vec![0xAB; 3 << 20]).unwrap();
    source.seek(SeekFrom::Start(LENGTH - 3)).unwrap();
    source.write_all(b"end").unwrap();
    drop(source);
    fs::File::open(source_path).unwrap()
}

#[test]
fn both_copy_paths_keep_data_and_holes() {
    let directory = tempfile::tempdir().unwrap();
    let source = sparse_source(directory.path());
    let expected = fs::read(directory.path().join("source")).unwrap();
    for try_clone in [true, false] {
        let destination_path = directory.path().join(format!("copy-{try_clone}"));
        let destination = fs::File::create(&destination_path).unwrap();
        let mut reported = 0;
        let copied = copy_file_data_with(
            &source,
            &destination,
            LENGTH,
            &path("copy"),
            &mut |bytes| reported += bytes,
            try_clone,
        )
        .unwrap();
        drop(destination);
        assert_eq!(copied, reported, "every copied byte is reported");
        assert!(
            copied < 8 << 20,
            "holes were copied as data: {copied} bytes"
        );
        assert_eq!(
            fs::read(&destination_path).unwrap(),
            expected,
            "try_clone = {try_clone}"
        );
        let allocated = fs::metadata(&destination_path).unwrap().blocks() * 512;
        assert!(
            allocated < 8 << 20,
            "try_clone = {try_clone}: {allocated} bytes allocated"
        );
    }
}

#[test]
fn an_empty_file_and_a_file_without_holes_copy_whole() {
    let directory = tempfile::tempdir().unwrap();
    fs::write(directory.path().join("dense"), b"no holes here").unwrap();
    fs::write(directory.path().join("empty"), b"").unwrap();
    for (name, length) in [("dense", 13), ("empty", 0)] {
        let source = fs::File::open(directory.path().join(name)).unwrap();
        let destination_path = directory.path().join(format!("{name}-copy"));
        let destination = fs::File::create(&destination_path).unwrap();
        let copied = copy_file_data_with(
            &source,
            &destination,
            length,
            &path("copy"),
            &mut |_| {},
            false,
        )
        .unwrap();
        assert_eq!(copied, length);
        assert_eq!(
            fs::read(&destination_path).unwrap(),
            fs::read(directory.path().join(name)).unwrap()
        );
    }
}
