//! Exact duplicates, in fclones's stages: [`group_by_size`] → [`regroup_by_partial_hash`] →
//! [`exact_groups`] (full BLAKE3 digests). The caller runs the stages and hashes between
//! them, only the files a stage names ([`CandidateGroup::files_to_hash`]: one per inode).
//!
//! - Files of length zero are left out: they hold no data, so they waste none.
//! - Files of one inode (hard links: same device and inode number) are one copy of the data.
//!   They travel together, are hashed once, and a group needs two or more inodes; deleting a
//!   hard link frees nothing, so a lone inode with many names is no duplicate group.
//! - A file that *shares blocks with* another (a block clone: `copy_file_range` on one pool,
//!   which the caller knows from how it made the copy or from ZFS) is stored once with it.
//! - The space a group wastes is `size × (copies stored − 1)`, where copies stored are the
//!   group's distinct inodes with block clones merged; hard links and clones waste nothing.
//! - A file whose hash the caller cannot give (unreadable, changed meanwhile) leaves the
//!   group with its hard links.

use std::collections::BTreeMap;

use super::FileId;

#[cfg(test)]
mod tests;

/// Where a file's data lives: its device and inode number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Inode {
    pub device: u64,
    pub inode: u64,
}

/// One file as the caller lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExactFile {
    pub id: FileId,
    /// Length in bytes.
    pub size: u64,
    pub inode: Inode,
    /// Another file whose data blocks this one shares (a block clone of it), if known.
    pub shares_blocks_with: Option<FileId>,
}

/// A hash of part of a file (fclones: a few KiB at its start and end), as the caller
/// computes it; any 128 bits that equal files share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartialHash(pub u128);

/// The BLAKE3 digest of a whole file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Blake3Digest(pub [u8; 32]);

/// The files of one inode, lowest id first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InodeFiles {
    pub inode: Inode,
    pub files: Vec<ExactFile>,
}

impl InodeFiles {
    /// The file read for the inode (the lowest id).
    pub fn representative(&self) -> FileId {
        self.files.first().map_or(FileId(0), |file| file.id)
    }
}

/// Files of one size (and, after the later stages, one hash) on two or more inodes: they
/// may hold the same bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CandidateGroup {
    size: u64,
    /// By inode; never fewer than two.
    inodes: Vec<InodeFiles>,
}

impl CandidateGroup {
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn inodes(&self) -> &[InodeFiles] {
        &self.inodes
    }

    /// The files to hash for the next stage: one per inode.
    pub fn files_to_hash(&self) -> impl Iterator<Item = FileId> + '_ {
        self.inodes.iter().map(InodeFiles::representative)
    }

    /// The group's inodes split by `key` of their representative; inodes without a key
    /// leave; parts of fewer than two inodes are dropped.
    fn split<K: Ord>(self, key: &mut impl FnMut(FileId) -> Option<K>) -> Vec<(K, CandidateGroup)> {
        let mut parts: BTreeMap<K, Vec<InodeFiles>> = BTreeMap::new();
        for inode in self.inodes {
            if let Some(value) = key(inode.representative()) {
                parts.entry(value).or_default().push(inode);
            }
        }
        parts
            .into_iter()
            .filter(|(_, inodes)| inodes.len() >= 2)
            .map(|(value, inodes)| {
                let group = CandidateGroup {
                    size: self.size,
                    inodes,
                };
                (value, group)
            })
            .collect()
    }
}

/// Stage 1: the files grouped by size, files of one inode together; zero-length files and
/// sizes held by a single inode are left out. A file id listed twice counts once (its first
/// listing). Groups come largest size first.
pub fn group_by_size(files: &[ExactFile]) -> Vec<CandidateGroup> {
    let mut seen = std::collections::BTreeSet::new();
    let mut by_size: BTreeMap<u64, BTreeMap<Inode, Vec<ExactFile>>> = BTreeMap::new();
    for file in files {
        if file.size == 0 || !seen.insert(file.id) {
            continue;
        }
        by_size
            .entry(file.size)
            .or_default()
            .entry(file.inode)
            .or_default()
            .push(*file);
    }
    by_size
        .into_iter()
        .rev()
        .filter(|(_, inodes)| inodes.len() >= 2)
        .map(|(size, inodes)| CandidateGroup {
            size,
            inodes: inodes
                .into_iter()
                .map(|(inode, mut files)| {
                    files.sort_by_key(|file| file.id);
                    InodeFiles { inode, files }
                })
                .collect(),
        })
        .collect()
}

/// Stage 2: each group split by the partial hash of its inodes' representatives (`hash`
/// answers `None` for a file it could not read: that inode leaves).
pub fn regroup_by_partial_hash(
    groups: Vec<CandidateGroup>,
    mut hash: impl FnMut(FileId) -> Option<PartialHash>,
) -> Vec<CandidateGroup> {
    groups
        .into_iter()
        .flat_map(|group| group.split(&mut hash))
        .map(|(_, group)| group)
        .collect()
}

/// How a member of an exact group stores its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// Its own copy of the data.
    Own,
    /// Another name (hard link) of this file's inode: deleting it frees nothing.
    HardLinkOf(FileId),
    /// A block clone of this file: they share their blocks, so it wastes no space.
    BlockCloneOf(FileId),
}

/// One file of an exact group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExactMember {
    pub id: FileId,
    pub storage: Storage,
}

/// Files with the same bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExactGroup {
    pub size: u64,
    pub digest: Blake3Digest,
    /// Every file, lowest id first.
    pub members: Vec<ExactMember>,
    /// Copies of the data on disk: distinct inodes, block clones counted once.
    pub stored_copies: u64,
    /// `size × (stored_copies − 1)`: what keeping one copy would free.
    pub wasted_bytes: u64,
}

/// Stage 3: each group split by the full BLAKE3 digest of its inodes' representatives;
/// what remains are the exact groups, most wasted space first (then largest size, then
/// lowest id).
pub fn exact_groups(
    groups: Vec<CandidateGroup>,
    mut digest: impl FnMut(FileId) -> Option<Blake3Digest>,
) -> Vec<ExactGroup> {
    let mut found: Vec<ExactGroup> = groups
        .into_iter()
        .flat_map(|group| group.split(&mut digest))
        .map(|(digest, group)| exact_group(digest, group))
        .collect();
    found.sort_by(|left, right| {
        right
            .wasted_bytes
            .cmp(&left.wasted_bytes)
            .then(right.size.cmp(&left.size))
            .then(
                left.members
                    .first()
                    .map(|member| member.id)
                    .cmp(&right.members.first().map(|member| member.id)),
            )
    });
    found
}

/// Storage of every member: block clones between the group's inodes merged (union-find
/// over the `shares_blocks_with` links whose target is in the group).
fn exact_group(digest: Blake3Digest, group: CandidateGroup) -> ExactGroup {
    let inode_of: BTreeMap<FileId, usize> = group
        .inodes
        .iter()
        .enumerate()
        .flat_map(|(index, inode)| inode.files.iter().map(move |file| (file.id, index)))
        .collect();
    let mut parent: Vec<usize> = (0..group.inodes.len()).collect();
    fn root(parent: &mut [usize], mut index: usize) -> usize {
        while parent[index] != index {
            parent[index] = parent[parent[index]];
            index = parent[index];
        }
        index
    }
    for (index, inode) in group.inodes.iter().enumerate() {
        for file in &inode.files {
            if let Some(other) = file.shares_blocks_with.and_then(|id| inode_of.get(&id)) {
                let (left, right) = (root(&mut parent, index), root(&mut parent, *other));
                // The class is led by the inode whose representative has the lowest id.
                let (leader, follower) = if group.inodes[left].representative()
                    <= group.inodes[right].representative()
                {
                    (left, right)
                } else {
                    (right, left)
                };
                parent[follower] = leader;
            }
        }
    }
    let mut members = Vec::new();
    let mut stored_copies = 0u64;
    for (index, inode) in group.inodes.iter().enumerate() {
        let leader = root(&mut parent, index);
        if leader == index {
            stored_copies += 1;
        }
        let first = inode.representative();
        for file in &inode.files {
            let storage = if file.id != first {
                Storage::HardLinkOf(first)
            } else if leader != index {
                Storage::BlockCloneOf(group.inodes[leader].representative())
            } else {
                Storage::Own
            };
            members.push(ExactMember {
                id: file.id,
                storage,
            });
        }
    }
    members.sort_by_key(|member| member.id);
    ExactGroup {
        size: group.size,
        digest,
        members,
        stored_copies,
        wasted_bytes: group.size.saturating_mul(stored_copies.saturating_sub(1)),
    }
}
