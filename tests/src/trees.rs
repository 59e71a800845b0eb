//! Byte-for-byte comparison of two directory trees (names, types, contents, symlink
//! targets, modes), used to prove that a send/receive or a restore reproduced data exactly.
//! Never follows symlinks; skips the `.zfs` control directory at the top.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What a tree holds at one relative path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Directory { mode: u32 },
    File { mode: u32, digest: u64, length: u64 },
    Symlink { target: OsString },
    Other,
}

/// FNV-1a over the contents: enough to tell files apart in tests.
fn digest(path: &Path) -> (u64, u64) {
    let mut file =
        fs::File::open(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut length = 0u64;
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = file
            .read(&mut buffer)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        if read == 0 {
            break;
        }
        length += read as u64;
        for byte in &buffer[..read] {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    (hash, length)
}

/// Every entry under `root` (relative paths), not descending into `skip` directories.
pub fn snapshot_of_tree(root: &Path, skip: &[&Path]) -> BTreeMap<PathBuf, Node> {
    let mut nodes = BTreeMap::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let directory = root.join(&relative);
        let entries = fs::read_dir(&directory)
            .unwrap_or_else(|error| panic!("{}: {error}", directory.display()));
        for entry in entries {
            let entry = entry.expect("directory entry");
            let relative_path = relative.join(entry.file_name());
            if relative.as_os_str().is_empty() && entry.file_name() == ".zfs" {
                continue;
            }
            let full_path = root.join(&relative_path);
            if skip.iter().any(|skipped| *skipped == full_path) {
                continue;
            }
            let metadata = fs::symlink_metadata(&full_path).expect("metadata");
            let mode = metadata.permissions().mode() & 0o7777;
            let node = if metadata.file_type().is_symlink() {
                Node::Symlink {
                    target: fs::read_link(&full_path)
                        .expect("readlink")
                        .into_os_string(),
                }
            } else if metadata.is_dir() {
                pending.push(relative_path.clone());
                Node::Directory { mode }
            } else if metadata.is_file() {
                let (digest, length) = digest(&full_path);
                Node::File {
                    mode,
                    digest,
                    length,
                }
            } else {
                Node::Other
            };
            nodes.insert(relative_path, node);
        }
    }
    nodes
}

/// Panics with the first differences when the trees differ.
pub fn assert_same_tree(expected_root: &Path, actual_root: &Path) {
    let expected = snapshot_of_tree(expected_root, &[]);
    let actual = snapshot_of_tree(actual_root, &[]);
    if expected != actual {
        let mut differences = Vec::new();
        for (path, node) in &expected {
            match actual.get(path) {
                None => differences.push(format!("missing {}", path.display())),
                Some(other) if other != node => {
                    differences.push(format!("differs {}: {node:?} vs {other:?}", path.display()))
                }
                Some(_) => {}
            }
        }
        for path in actual.keys().filter(|path| !expected.contains_key(*path)) {
            differences.push(format!("extra {}", path.display()));
        }
        differences.truncate(20);
        panic!(
            "{} and {} differ:\n  {}",
            expected_root.display(),
            actual_root.display(),
            differences.join("\n  ")
        );
    }
}
