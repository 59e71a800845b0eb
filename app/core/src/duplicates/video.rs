//! The same film after transcoding: [`video_groups`] over the facts of many videos (and the
//! sampled frame hashes of some).
//!
//! Two videos are *candidates* when both durations are known and differ by at most
//! `max(1 s, 0.5 %)` of the longer (a copy trimmed by half a second still matches) and their
//! display shapes, where both are known, differ by at most 2 %. The evidence of a pair:
//! - [`MatchReason`]s: the duration and shape agreements, the same title (case and spacing
//!   ignored), creation times within 2 s, the same number of audio tracks, matching frames;
//! - [`Doubt`]s: no title or creation time confirms the pair (many clips share a length),
//!   titles or creation times that disagree, audio track counts that differ, a shape unknown.
//!
//! A pair without doubts is confirmed by its facts. A pair with doubts is *ambiguous* until
//! both files' frame hashes are given: then frames that match confirm it (reason
//! [`MatchReason::Frames`]), frames that differ reject it (no pair: distinct clips of equal
//! duration never group), too few informative frames leave it ambiguous. Frames that differ
//! reject even a pair its facts confirmed: a shared title is weaker evidence than pictures.
//!
//! **Groups are cliques, not connected components**: every two members of a group are a
//! candidate pair. Union-find would chain 100 s ~ 100.9 s ~ 101.8 s into one group whose ends
//! are not a pair, and a tolerance applied transitively has no bound. Cliques are grown
//! greedily: the best remaining file by the keeper order starts a group, and each of its
//! partners joins, in keeper order, when it pairs with every member so far. Confirmed pairs
//! are grouped first, so an ambiguous pair between two films told apart by their titles does
//! not merge them; a file left over then joins a group it pairs with entirely (the group needs
//! frames), and what is still left is grouped over ambiguous pairs. A file is in at most one
//! group; the result does not depend on the input order.
//!
//! **The keeper** is the member first in this order: most pixels, then the highest bit rate,
//! then the newest creation time, then the largest file, then the lowest [`FileId`]; a fact
//! not known sorts last. [`VideoGroup::kept_because`] names the criterion that put the keeper
//! before the runner-up.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use super::FileId;
use super::frames::{FrameComparison, FrameHashes, FrameRules, compare_frames};
use crate::media::VideoFacts;

#[cfg(test)]
mod tests;

/// One video as the caller knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoCandidate {
    pub id: FileId,
    /// Length in bytes.
    pub size: u64,
    pub facts: VideoFacts,
    /// Perceptual hashes of frames sampled at [`super::frames::SAMPLE_PER_MILLE`], once the
    /// caller decoded them (for the members of ambiguous groups).
    pub frames: Option<FrameHashes>,
}

/// The tolerances of [`video_groups`]; the defaults are the documented ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoRules {
    /// Durations always match within this many milliseconds (1 s)…
    pub duration_floor_millis: u64,
    /// …or within this many thousandths of the longer duration, if more (5: 0.5 %).
    pub duration_per_mille: u64,
    /// Display shapes (width over height) match within this many thousandths (20: 2 %).
    pub aspect_per_mille: u64,
    /// Creation times match within this many seconds (2).
    pub creation_time_seconds: u64,
    pub frames: FrameRules,
}

impl Default for VideoRules {
    fn default() -> VideoRules {
        VideoRules {
            duration_floor_millis: 1_000,
            duration_per_mille: 5,
            aspect_per_mille: 20,
            creation_time_seconds: 2,
            frames: FrameRules::default(),
        }
    }
}

impl VideoRules {
    /// The largest difference of durations that still matches when the longer is `longer`.
    pub fn duration_tolerance_millis(&self, longer: u64) -> u64 {
        let relative = longer.saturating_mul(self.duration_per_mille) / 1_000;
        relative.max(self.duration_floor_millis)
    }
}

/// Why two videos are taken for the same film.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchReason {
    /// Their durations differ by this little.
    Duration { difference_millis: u64 },
    /// Their display shapes differ by this many thousandths.
    AspectRatio { difference_per_mille: u64 },
    /// The same title.
    Title,
    /// Creation times this close.
    CreationTime { difference_seconds: u64 },
    /// The same number of audio tracks (at least one).
    AudioTracks { count: usize },
    /// Sampled frames match.
    Frames { matching: usize, compared: usize },
}

/// What leaves a pair in doubt until frames settle it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Doubt {
    /// Neither a title nor a creation time confirms the pair: only length and shape agree.
    NoConfirmingFact,
    /// One or both shapes are unknown.
    AspectUnknown,
    TitlesDiffer,
    CreationTimesDiffer {
        difference_seconds: u64,
    },
    AudioTrackCountsDiffer {
        keeper: usize,
        member: usize,
    },
    /// Both files' frames were compared, but too few were informative (flat frames).
    FramesInconclusive {
        compared: usize,
    },
}

/// The evidence of one pair that is a candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Evidence {
    reasons: Vec<MatchReason>,
    doubts: Vec<Doubt>,
}

impl Evidence {
    fn confirmed(&self) -> bool {
        self.doubts.is_empty()
            || self
                .reasons
                .iter()
                .any(|reason| matches!(reason, MatchReason::Frames { .. }))
    }
}

/// One member of a group, with the evidence that it is the keeper's film.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoMember {
    pub id: FileId,
    pub size: u64,
    /// Against the keeper; empty for the keeper itself.
    pub reasons: Vec<MatchReason>,
    /// Against the keeper; empty for the keeper itself.
    pub doubts: Vec<Doubt>,
}

/// Which criterion of the keeper order decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepCriterion {
    Resolution,
    BitRate,
    CreationTime,
    Size,
    /// Every fact was equal: the lowest id.
    LowestId,
}

/// Videos taken for one film.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoGroup {
    pub keeper: FileId,
    pub kept_because: KeepCriterion,
    /// The keeper first, then the others in keeper order.
    pub members: Vec<VideoMember>,
    /// Some pair of members is ambiguous: decode and hash the frames of
    /// [`VideoGroup::members_needing_frames`] and group again before acting.
    pub needs_frames: bool,
    /// Members of ambiguous pairs whose frame hashes were not given.
    pub members_needing_frames: Vec<FileId>,
    /// The bytes of every member but the keeper.
    pub reclaimable_bytes: u64,
}

/// What [`video_groups`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VideoGrouping {
    /// Most reclaimable bytes first (then the lowest keeper id).
    pub groups: Vec<VideoGroup>,
    /// Videos without a known, non-zero duration: never candidates.
    pub without_duration: Vec<FileId>,
}

/// The keeper order: `Less` when `left` is the better one to keep, with the criterion that
/// decided.
fn keeper_order(left: &VideoCandidate, right: &VideoCandidate) -> (Ordering, KeepCriterion) {
    // `Some` before `None`, larger before smaller.
    fn descending<T: Ord>(left: Option<T>, right: Option<T>) -> Ordering {
        match (left, right) {
            (Some(left), Some(right)) => right.cmp(&left),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    let steps = [
        (
            descending(left.facts.pixels(), right.facts.pixels()),
            KeepCriterion::Resolution,
        ),
        (
            descending(left.facts.bit_rate, right.facts.bit_rate),
            KeepCriterion::BitRate,
        ),
        (
            descending(left.facts.creation_time, right.facts.creation_time),
            KeepCriterion::CreationTime,
        ),
        (right.size.cmp(&left.size), KeepCriterion::Size),
        (left.id.cmp(&right.id), KeepCriterion::LowestId),
    ];
    steps
        .into_iter()
        .find(|(order, _)| order.is_ne())
        .unwrap_or((Ordering::Equal, KeepCriterion::LowestId))
}

/// A title as compared: trimmed, lower case, runs of white space as one space.
fn normalized_title(facts: &VideoFacts) -> Option<String> {
    let title = facts.title.as_deref()?;
    let words: Vec<String> = title
        .split_whitespace()
        .map(|word| word.to_lowercase())
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The evidence of a pair, or `None` when it is no candidate (durations or shapes too far
/// apart, or frames that differ). `keeper` is the one earlier in the keeper order (for the
/// audio track doubt's fields).
fn evaluate(
    keeper: &VideoCandidate,
    member: &VideoCandidate,
    rules: &VideoRules,
) -> Option<Evidence> {
    let (keeper_facts, member_facts) = (&keeper.facts, &member.facts);
    let mut reasons = Vec::new();
    let mut doubts = Vec::new();
    let (first, second) = (keeper_facts.duration_millis?, member_facts.duration_millis?);
    let difference_millis = first.abs_diff(second);
    if difference_millis > rules.duration_tolerance_millis(first.max(second)) {
        return None;
    }
    reasons.push(MatchReason::Duration { difference_millis });
    match (keeper_facts.display_aspect(), member_facts.display_aspect()) {
        (Some(first), Some(second)) => {
            let relative = (first - second).abs() / first.max(second);
            // Finite and below 1: both aspects are finite and positive.
            let difference_per_mille = (relative * 1_000.0).round() as u64;
            if difference_per_mille > rules.aspect_per_mille {
                return None;
            }
            reasons.push(MatchReason::AspectRatio {
                difference_per_mille,
            });
        }
        _ => doubts.push(Doubt::AspectUnknown),
    }
    let mut confirmed_by_fact = false;
    match (
        normalized_title(keeper_facts),
        normalized_title(member_facts),
    ) {
        (Some(first), Some(second)) if first == second => {
            reasons.push(MatchReason::Title);
            confirmed_by_fact = true;
        }
        (Some(_), Some(_)) => doubts.push(Doubt::TitlesDiffer),
        _ => {}
    }
    if let (Some(first), Some(second)) = (keeper_facts.creation_time, member_facts.creation_time) {
        let difference_seconds = first.seconds().abs_diff(second.seconds());
        if difference_seconds <= rules.creation_time_seconds {
            reasons.push(MatchReason::CreationTime { difference_seconds });
            confirmed_by_fact = true;
        } else {
            doubts.push(Doubt::CreationTimesDiffer { difference_seconds });
        }
    }
    let (keeper_tracks, member_tracks) = (
        keeper_facts.audio_codecs.len(),
        member_facts.audio_codecs.len(),
    );
    if keeper_tracks != member_tracks {
        doubts.push(Doubt::AudioTrackCountsDiffer {
            keeper: keeper_tracks,
            member: member_tracks,
        });
    } else if keeper_tracks > 0 {
        reasons.push(MatchReason::AudioTracks {
            count: keeper_tracks,
        });
    }
    if !confirmed_by_fact {
        doubts.insert(0, Doubt::NoConfirmingFact);
    }
    if let (Some(first), Some(second)) = (&keeper.frames, &member.frames) {
        match compare_frames(first, second, &rules.frames) {
            FrameComparison::Same { matching, compared } => {
                reasons.push(MatchReason::Frames { matching, compared });
            }
            FrameComparison::Different { .. } => return None,
            FrameComparison::Inconclusive { compared } => {
                if !doubts.is_empty() {
                    doubts.push(Doubt::FramesInconclusive { compared });
                }
            }
        }
    }
    Some(Evidence { reasons, doubts })
}

/// Groups the videos that are the same film (see the module's rules).
pub fn video_groups(videos: &[VideoCandidate], rules: &VideoRules) -> VideoGrouping {
    let mut seen = BTreeSet::new();
    let mut without_duration = Vec::new();
    let mut timed: Vec<&VideoCandidate> = Vec::new();
    for video in videos {
        if !seen.insert(video.id) {
            continue;
        }
        match video.facts.duration_millis {
            Some(duration) if duration > 0 => timed.push(video),
            _ => without_duration.push(video.id),
        }
    }
    without_duration.sort();
    // Indices into `timed` in keeper order: the order groups are built and listed in.
    timed.sort_by(|left, right| keeper_order(left, right).0);
    let rank: BTreeMap<FileId, usize> = timed
        .iter()
        .enumerate()
        .map(|(index, video)| (video.id, index))
        .collect();
    let pairs = candidate_pairs(&timed, rules);
    let mut groups: Vec<VideoGroup> = cliques(timed.len(), &pairs)
        .into_iter()
        .map(|members| video_group(&timed, &members, &pairs))
        .collect();
    groups.sort_by(|left, right| {
        right
            .reclaimable_bytes
            .cmp(&left.reclaimable_bytes)
            .then(rank[&left.keeper].cmp(&rank[&right.keeper]))
    });
    VideoGrouping {
        groups,
        without_duration,
    }
}

/// Every candidate pair `(better, worse)` by keeper rank, found by sweeping the videos in
/// order of duration: only neighbours within the tolerance are compared.
fn candidate_pairs(
    timed: &[&VideoCandidate],
    rules: &VideoRules,
) -> BTreeMap<(usize, usize), Evidence> {
    let mut by_duration: Vec<(u64, usize)> = timed
        .iter()
        .enumerate()
        .map(|(index, video)| (video.facts.duration_millis.unwrap_or(0), index))
        .collect();
    by_duration.sort();
    let mut pairs = BTreeMap::new();
    for (position, (shorter, first)) in by_duration.iter().enumerate() {
        for (longer, second) in &by_duration[position + 1..] {
            if longer - shorter > rules.duration_tolerance_millis(*longer) {
                // The gap grows faster than the tolerance: no later one matches either.
                break;
            }
            let (better, worse) = ((*first).min(*second), (*first).max(*second));
            if let Some(evidence) = evaluate(timed[better], timed[worse], rules) {
                pairs.insert((better, worse), evidence);
            }
        }
    }
    pairs
}

/// The groups (two or more members, each in keeper rank order) carved out of the pairs as
/// the module's notes describe, in three passes so that an ambiguous pair never merges two
/// films its facts already tell apart:
/// 1. greedy cliques over the confirmed pairs;
/// 2. each file left joins the first of those groups it pairs with entirely (a retitled copy
///    of a film: the group then needs frames);
/// 3. greedy cliques over all pairs among the files still left.
fn cliques(count: usize, pairs: &BTreeMap<(usize, usize), Evidence>) -> Vec<Vec<usize>> {
    let neighbours = |confirmed_only: bool| {
        let mut neighbours: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); count];
        for ((first, second), evidence) in pairs {
            if !confirmed_only || evidence.confirmed() {
                neighbours[*first].insert(*second);
                neighbours[*second].insert(*first);
            }
        }
        neighbours
    };
    let (confirmed, all) = (neighbours(true), neighbours(false));
    let mut taken = vec![false; count];
    let mut groups = greedy_cliques(&confirmed, &mut taken);
    for file in 0..count {
        if taken[file] {
            continue;
        }
        if let Some(group) = groups
            .iter_mut()
            .find(|group| group.iter().all(|member| all[file].contains(member)))
        {
            group.push(file);
            group.sort();
            taken[file] = true;
        }
    }
    groups.extend(greedy_cliques(&all, &mut taken));
    groups
}

/// Cliques of two or more untaken files: the best untaken file with a neighbour starts one,
/// and its neighbours join in keeper order when they neighbour every member so far.
fn greedy_cliques(neighbours: &[BTreeSet<usize>], taken: &mut [bool]) -> Vec<Vec<usize>> {
    let mut groups = Vec::new();
    for seed in 0..neighbours.len() {
        if taken[seed] {
            continue;
        }
        let mut group = vec![seed];
        for candidate in &neighbours[seed] {
            if !taken[*candidate]
                && group
                    .iter()
                    .all(|member| *member == seed || neighbours[*member].contains(candidate))
            {
                group.push(*candidate);
            }
        }
        if group.len() >= 2 {
            for member in &group {
                taken[*member] = true;
            }
            groups.push(group);
        }
    }
    groups
}

fn video_group(
    timed: &[&VideoCandidate],
    members: &[usize],
    pairs: &BTreeMap<(usize, usize), Evidence>,
) -> VideoGroup {
    let keeper = members[0];
    let mut needing = BTreeSet::new();
    let mut needs_frames = false;
    for (position, first) in members.iter().enumerate() {
        for second in &members[position + 1..] {
            let evidence = &pairs[&(*first.min(second), *first.max(second))];
            if !evidence.confirmed() {
                needs_frames = true;
                for index in [first, second] {
                    if timed[*index].frames.is_none() {
                        needing.insert(timed[*index].id);
                    }
                }
            }
        }
    }
    let group_members: Vec<VideoMember> = members
        .iter()
        .map(|index| {
            let (reasons, doubts) = match pairs.get(&(keeper, *index)) {
                Some(evidence) => (evidence.reasons.clone(), evidence.doubts.clone()),
                None => (Vec::new(), Vec::new()),
            };
            VideoMember {
                id: timed[*index].id,
                size: timed[*index].size,
                reasons,
                doubts,
            }
        })
        .collect();
    let kept_because = members.get(1).map_or(KeepCriterion::LowestId, |runner_up| {
        keeper_order(timed[keeper], timed[*runner_up]).1
    });
    VideoGroup {
        keeper: timed[keeper].id,
        kept_because,
        reclaimable_bytes: group_members[1..]
            .iter()
            .fold(0u64, |total, member| total.saturating_add(member.size)),
        members: group_members,
        needs_frames,
        members_needing_frames: needing.into_iter().collect(),
    }
}
