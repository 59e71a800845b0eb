//! Tables for exact duplicates: each case lists files with the partial and full hashes their
//! content would give, runs the three stages as a caller does (hashing only what each stage
//! names) and checks the groups, each member's storage and the wasted space — hard links,
//! block clones, zero-length files, many files of one size with different content, files
//! that cannot be read.

use std::collections::BTreeMap;

use super::*;

/// A file with its content, reduced to (partial, full) hash seeds.
struct Listed {
    file: ExactFile,
    partial: Option<u128>,
    full: Option<u8>,
}

fn on(id: u64, size: u64, inode: u64, partial: u128, full: u8) -> Listed {
    Listed {
        file: ExactFile {
            id: FileId(id),
            size,
            inode: Inode { device: 1, inode },
            shares_blocks_with: None,
        },
        partial: Some(partial),
        full: Some(full),
    }
}

fn clone_of(mut listed: Listed, of: u64) -> Listed {
    listed.file.shares_blocks_with = Some(FileId(of));
    listed
}

fn on_device(mut listed: Listed, device: u64) -> Listed {
    listed.file.inode.device = device;
    listed
}

fn unreadable(mut listed: Listed) -> Listed {
    listed.partial = None;
    listed.full = None;
    listed
}

/// A group as the tables write it: size, stored copies, wasted bytes, members.
type Expected = (u64, u64, u64, Vec<(u64, Storage)>);

/// Runs the stages, checking that only one file per inode is ever hashed.
fn run(listed: &[Listed]) -> Vec<Expected> {
    let by_id: BTreeMap<FileId, &Listed> =
        listed.iter().map(|entry| (entry.file.id, entry)).collect();
    let files: Vec<ExactFile> = listed.iter().map(|entry| entry.file).collect();
    let sized = group_by_size(&files);
    for group in &sized {
        let hashed: Vec<FileId> = group.files_to_hash().collect();
        assert_eq!(hashed.len(), group.inodes().len(), "one file per inode");
    }
    let partial = regroup_by_partial_hash(sized, |id| by_id[&id].partial.map(PartialHash));
    let exact = exact_groups(partial, |id| {
        by_id[&id].full.map(|seed| Blake3Digest([seed; 32]))
    });
    exact
        .into_iter()
        .map(|group| {
            (
                group.size,
                group.stored_copies,
                group.wasted_bytes,
                group
                    .members
                    .iter()
                    .map(|member| (member.id.0, member.storage))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn exact_groups_by_size_partial_and_full_hash() {
    use Storage::{BlockCloneOf, HardLinkOf, Own};
    let cases: Vec<(&str, Vec<Listed>, Vec<Expected>)> = vec![
        (
            "three copies waste two sizes",
            vec![
                on(1, 100, 10, 7, 7),
                on(2, 100, 11, 7, 7),
                on(3, 100, 12, 7, 7),
            ],
            vec![(100, 3, 200, vec![(1, Own), (2, Own), (3, Own)])],
        ),
        (
            "hard links are one copy and are not hashed twice",
            vec![
                on(1, 100, 10, 7, 7),
                on(2, 100, 10, 7, 7),
                on(3, 100, 11, 7, 7),
            ],
            vec![(
                100,
                2,
                100,
                vec![(1, Own), (2, HardLinkOf(FileId(1))), (3, Own)],
            )],
        ),
        (
            "only hard links of one inode: no group",
            vec![on(1, 100, 10, 7, 7), on(2, 100, 10, 7, 7)],
            vec![],
        ),
        (
            "the same inode number on another device is another file",
            vec![on(1, 100, 10, 7, 7), on_device(on(2, 100, 10, 7, 7), 2)],
            vec![(100, 2, 100, vec![(1, Own), (2, Own)])],
        ),
        (
            "a block clone wastes nothing",
            vec![
                on(1, 100, 10, 7, 7),
                clone_of(on(2, 100, 11, 7, 7), 1),
                on(3, 100, 12, 7, 7),
            ],
            vec![(
                100,
                2,
                100,
                vec![(1, Own), (2, BlockCloneOf(FileId(1))), (3, Own)],
            )],
        ),
        (
            "a clone claimed of the lower id joins its class, with its own hard link",
            vec![
                clone_of(on(5, 100, 10, 7, 7), 9),
                on(6, 100, 10, 7, 7),
                on(9, 100, 11, 7, 7),
            ],
            vec![(
                100,
                1,
                0,
                vec![
                    (5, Own),
                    (6, HardLinkOf(FileId(5))),
                    (9, BlockCloneOf(FileId(5))),
                ],
            )],
        ),
        (
            "zero-length files are ignored",
            vec![on(1, 0, 10, 0, 0), on(2, 0, 11, 0, 0), on(3, 0, 12, 0, 0)],
            vec![],
        ),
        (
            "many files of one size with different content",
            (1..=50)
                .map(|id| on(id, 4096, id, u128::from(id % 5), id as u8))
                .collect(),
            vec![],
        ),
        (
            "same partial hash, different full hash: no group",
            vec![on(1, 100, 10, 7, 1), on(2, 100, 11, 7, 2)],
            vec![],
        ),
        (
            "different partial hashes split one size into groups",
            vec![
                on(1, 100, 10, 1, 1),
                on(2, 100, 11, 1, 1),
                on(3, 100, 12, 2, 2),
                on(4, 100, 13, 2, 2),
                on(5, 100, 14, 3, 3),
            ],
            vec![
                (100, 2, 100, vec![(1, Own), (2, Own)]),
                (100, 2, 100, vec![(3, Own), (4, Own)]),
            ],
        ),
        (
            "an unreadable file leaves the group",
            vec![
                on(1, 100, 10, 7, 7),
                unreadable(on(2, 100, 11, 7, 7)),
                on(3, 100, 12, 7, 7),
            ],
            vec![(100, 2, 100, vec![(1, Own), (3, Own)])],
        ),
        (
            "groups come most wasted space first; a listed twice counts once",
            vec![
                on(1, 10, 10, 1, 1),
                on(2, 10, 11, 1, 1),
                on(3, 10, 12, 1, 1),
                on(4, 25, 13, 2, 2),
                on(5, 25, 14, 2, 2),
                on(5, 25, 15, 2, 2),
            ],
            vec![
                (25, 2, 25, vec![(4, Own), (5, Own)]),
                (10, 3, 20, vec![(1, Own), (2, Own), (3, Own)]),
            ],
        ),
        (
            "sizes near u64::MAX do not overflow the waste",
            vec![
                on(1, u64::MAX, 10, 1, 1),
                on(2, u64::MAX, 11, 1, 1),
                on(3, u64::MAX, 12, 1, 1),
            ],
            vec![(u64::MAX, 3, u64::MAX, vec![(1, Own), (2, Own), (3, Own)])],
        ),
    ];
    for (name, listed, expected) in cases {
        assert_eq!(run(&listed), expected, "{name}");
        // The order of the listing changes nothing.
        let reversed: Vec<Listed> = listed.into_iter().rev().collect();
        if name.contains("listed twice") {
            continue;
        }
        assert_eq!(run(&reversed), expected, "{name}, reversed");
    }
}

#[test]
fn only_sizes_on_two_inodes_are_candidates() {
    let files = [
        on(1, 5, 1, 0, 0).file,
        on(2, 5, 2, 0, 0).file,
        on(3, 6, 3, 0, 0).file,
        on(4, 7, 4, 0, 0).file,
        on(5, 7, 4, 0, 0).file,
    ];
    let groups = group_by_size(&files);
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].size(), 5);
    assert_eq!(
        groups[0].files_to_hash().collect::<Vec<_>>(),
        [FileId(1), FileId(2)]
    );
}
