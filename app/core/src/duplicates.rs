//! Duplicate files, as pure rules the caller feeds (no file is read here; docs/space-and-duplicates.md).
//!
//! Two kinds:
//! - [`exact`]: the same bytes, found as fclones finds them — files grouped by size, then by a
//!   partial hash, then by a full BLAKE3 digest, each stage narrowing the groups so the caller
//!   reads and hashes as little as possible. Hard links and block clones are recognised as
//!   not wasting space.
//! - [`video`]: the same film after transcoding (other size, codec, resolution, container,
//!   maybe trimmed by a moment): candidates by duration within a tolerance and a similar
//!   picture shape, with title, creation time and audio tracks as further reasons; where the
//!   facts alone are ambiguous, the perceptual hashes of a few sampled frames ([`frames`])
//!   confirm or reject. Each group says why its members match and which one to keep.
//!
//! A file is known by the caller's [`FileId`] (the index's version id, a row number): the
//! rules never see paths.

pub mod exact;
pub mod frames;
pub mod video;

/// The caller's name for one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u64);

pub use exact::{
    Blake3Digest, CandidateGroup, ExactFile, ExactGroup, ExactMember, Inode, InodeFiles,
    PartialHash, Storage, exact_groups, group_by_size, regroup_by_partial_hash,
};
pub use frames::{FrameComparison, FrameHashes, FrameRules, compare_frames};
pub use video::{
    Doubt, KeepCriterion, MatchReason, VideoCandidate, VideoGroup, VideoGrouping, VideoMember,
    VideoRules, video_groups,
};
