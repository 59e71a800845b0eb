//! Tables for the same film after transcoding. The facts are those ffprobe gave for the corpus
//! `app/media/tests/fixtures/capture.sh` makes (one 4 s source transcoded to 720p/1080p,
//! H.264/HEVC/VP9/AV1, trimmed by half a second, renamed without metadata; a distinct clip of
//! equal duration), with frame hashes standing in for decoded frames: a transcode's differ
//! from the source's by a few bits, another clip's by many. Cases: transcodes grouped with the
//! keeper and reasons, equal-duration distinct clips ambiguous then rejected by frames,
//! missing facts, shapes, tolerance bounds, chains that must not merge, the keeper order.

use super::*;
use crate::duplicates::frames::FrameHashes;
use crate::media::Ratio;
use crate::model::Timestamp;

const FILM: [u64; 5] = [
    0x0f0f_3c3c_5a5a_6699,
    0xf0e1_d2c3_b4a5_9687,
    0x1234_5678_9abc_def0,
    0x00ff_00ff_f0f0_0f0f,
    0x5555_aaaa_3333_cccc,
];
const OTHER: [u64; 5] = [
    0xf0f0_c3c3_a5a5_9966,
    0x0f1e_2d3c_4b5a_6978,
    0xedcb_a987_6543_210f,
    0xff00_ff00_0f0f_f0f0,
    0xaaaa_5555_cccc_3333,
];
const CREATED: Timestamp = Timestamp(1_720_952_430); // 2024-07-14T10:20:30Z

/// `hashes` with `bits` bits flipped in each: a re-encoded frame.
fn reencoded(hashes: [u64; 5], bits: u32) -> FrameHashes {
    FrameHashes(
        hashes
            .iter()
            .map(|hash| (0..bits).fold(*hash, |value, bit| value ^ (1 << (bit * 13 % 64))))
            .collect(),
    )
}

struct Video(VideoCandidate);

fn video(id: u64, millis: u64, width: u32, height: u32, codec: &str) -> Video {
    Video(VideoCandidate {
        id: FileId(id),
        size: u64::from(width) * 1_000,
        facts: VideoFacts {
            duration_millis: Some(millis),
            width: Some(width),
            height: Some(height),
            video_codec: Some(codec.to_owned()),
            audio_codecs: vec!["aac".to_owned()],
            ..VideoFacts::default()
        },
        frames: None,
    })
}

impl Video {
    fn titled(mut self, title: &str) -> Video {
        self.0.facts.title = Some(title.to_owned());
        self
    }
    fn created(mut self, time: Timestamp) -> Video {
        self.0.facts.creation_time = Some(time);
        self
    }
    fn bit_rate(mut self, bits: u64) -> Video {
        self.0.facts.bit_rate = Some(bits);
        self
    }
    fn frames(mut self, frames: FrameHashes) -> Video {
        self.0.frames = Some(frames);
        self
    }
    fn no_audio(mut self) -> Video {
        self.0.facts.audio_codecs.clear();
        self
    }
    fn with(mut self, change: impl FnOnce(&mut VideoFacts)) -> Video {
        change(&mut self.0.facts);
        self
    }
}

const TITLE: &str = "Holiday at the sea";

/// The corpus: the source and its transcodes (ids 1–7), the renamed copy without metadata
/// (8), the distinct clip of equal duration (9).
fn corpus() -> Vec<Video> {
    vec![
        video(1, 4_004, 1920, 1080, "h264")
            .titled(TITLE)
            .created(CREATED)
            .bit_rate(2_700_000),
        video(2, 4_004, 1280, 720, "h264")
            .titled(TITLE)
            .bit_rate(1_400_000),
        video(3, 4_025, 1920, 1080, "hevc")
            .titled(TITLE)
            .bit_rate(900_000),
        video(4, 4_010, 1280, 720, "vp9")
            .titled("holiday  AT the sea ")
            .bit_rate(1_000_000),
        video(5, 4_018, 1280, 720, "av1")
            .titled(TITLE)
            .bit_rate(300_000),
        video(6, 4_004, 1920, 1080, "av1")
            .titled(TITLE)
            .bit_rate(500_000),
        video(7, 3_511, 1280, 720, "hevc")
            .titled(TITLE)
            .bit_rate(635_000),
        video(8, 4_018, 854, 480, "h264").bit_rate(400_000),
        video(9, 4_000, 1920, 1080, "h264").bit_rate(5_000_000),
    ]
}

fn ids(values: &[u64]) -> Vec<FileId> {
    values.iter().map(|value| FileId(*value)).collect()
}

/// A group as the tables write it: keeper, why, members, needs frames, members needing them.
type Expected = (u64, KeepCriterion, Vec<u64>, bool, Vec<u64>);

fn summary(grouping: &VideoGrouping) -> Vec<Expected> {
    grouping
        .groups
        .iter()
        .map(|group| {
            (
                group.keeper.0,
                group.kept_because,
                group.members.iter().map(|member| member.id.0).collect(),
                group.needs_frames,
                group.members_needing_frames.iter().map(|id| id.0).collect(),
            )
        })
        .collect()
}

fn pick(videos: Vec<Video>, chosen: &[u64]) -> Vec<Video> {
    videos
        .into_iter()
        .filter(|video| chosen.contains(&video.0.id.0))
        .collect()
}

fn with_frames(videos: Vec<Video>, frames: &[(u64, FrameHashes)]) -> Vec<Video> {
    videos
        .into_iter()
        .map(
            |video| match frames.iter().find(|(id, _)| *id == video.0.id.0) {
                Some((_, hashes)) => video.frames(hashes.clone()),
                None => video,
            },
        )
        .collect()
}

#[test]
fn transcodes_group_and_distinct_clips_do_not() {
    use KeepCriterion::*;
    let all_frames = [
        (1, reencoded(FILM, 0)),
        (2, reencoded(FILM, 3)),
        (3, reencoded(FILM, 2)),
        (4, reencoded(FILM, 4)),
        (5, reencoded(FILM, 5)),
        (6, reencoded(FILM, 2)),
        (7, reencoded(FILM, 7)),
        (8, reencoded(FILM, 6)),
        (9, reencoded(OTHER, 1)),
    ];
    let black = FrameHashes(vec![0; 5]);
    let cases: Vec<(&str, Vec<Video>, Vec<Expected>)> = vec![
        (
            "titled transcodes (720p/1080p, H.264/HEVC/VP9/AV1, trimmed 0.5 s) need no frames",
            pick(corpus(), &[1, 2, 3, 4, 5, 6, 7]),
            vec![(1, BitRate, vec![1, 3, 6, 2, 4, 7, 5], false, vec![])],
        ),
        (
            "an untitled renamed copy and an equal-duration clip are ambiguous without frames",
            pick(corpus(), &[1, 8, 9]),
            vec![(9, BitRate, vec![9, 1, 8], true, vec![1, 8, 9])],
        ),
        (
            "frames confirm the renamed copy and reject the distinct clip",
            with_frames(corpus(), &all_frames),
            vec![(1, BitRate, vec![1, 3, 6, 2, 4, 7, 5, 8], false, vec![])],
        ),
        (
            "equal-duration distinct clips with frames: nothing",
            with_frames(pick(corpus(), &[8, 9]), &all_frames),
            vec![],
        ),
        (
            "frames of one side only leave the pair ambiguous, naming the other",
            with_frames(pick(corpus(), &[8, 9]), &all_frames[8..]),
            vec![(9, Resolution, vec![9, 8], true, vec![8])],
        ),
        (
            "flat frames are inconclusive",
            with_frames(
                pick(corpus(), &[1, 9]),
                &[(1, black.clone()), (9, black.clone())],
            ),
            vec![(9, BitRate, vec![9, 1], true, vec![])],
        ),
        (
            "frames that differ reject even a shared title",
            with_frames(
                vec![
                    video(1, 60_000, 1920, 1080, "h264").titled("Clip"),
                    video(2, 60_000, 1920, 1080, "h264").titled("Clip"),
                ],
                &[(1, reencoded(FILM, 0)), (2, reencoded(OTHER, 0))],
            ),
            vec![],
        ),
        (
            "a creation time confirms without a title",
            vec![
                video(1, 9_000, 1280, 720, "h264").created(CREATED),
                video(2, 9_400, 1920, 1080, "hevc").created(Timestamp(CREATED.0 + 1)),
            ],
            vec![(2, Resolution, vec![2, 1], false, vec![])],
        ),
        (
            "creation times far apart are a doubt",
            vec![
                video(1, 9_000, 1920, 1080, "h264")
                    .titled("Clip")
                    .created(CREATED),
                video(2, 9_000, 1920, 1080, "h264")
                    .titled("Clip")
                    .created(Timestamp(CREATED.0 + 600)),
            ],
            vec![(2, CreationTime, vec![2, 1], true, vec![1, 2])],
        ),
        (
            "a missing duration is never a candidate",
            vec![
                video(1, 4_004, 1920, 1080, "h264").titled(TITLE),
                video(2, 4_004, 1280, 720, "h264")
                    .titled(TITLE)
                    .with(|facts| facts.duration_millis = None),
                video(3, 4_004, 1280, 720, "h264")
                    .titled(TITLE)
                    .with(|facts| facts.duration_millis = Some(0)),
            ],
            vec![],
        ),
        (
            "a missing picture size is a doubt, not a rejection",
            vec![
                video(1, 4_004, 1920, 1080, "h264").titled(TITLE),
                video(2, 4_004, 1280, 720, "h264")
                    .titled(TITLE)
                    .with(|facts| {
                        facts.width = None;
                        facts.height = None;
                    }),
            ],
            vec![(1, Resolution, vec![1, 2], true, vec![1, 2])],
        ),
        (
            "4:3 against 16:9 and portrait against landscape do not match",
            vec![
                video(1, 4_004, 1920, 1080, "h264").titled(TITLE),
                video(2, 4_004, 1440, 1080, "h264").titled(TITLE),
                video(3, 4_004, 1080, 1920, "h264").titled(TITLE),
            ],
            vec![],
        ),
        (
            "anamorphic 720×576 with 64:45 pixels is 16:9",
            vec![
                video(1, 4_004, 1024, 576, "h264").titled(TITLE),
                video(2, 4_004, 720, 576, "mpeg2video")
                    .titled(TITLE)
                    .with(|facts| facts.pixel_aspect = Ratio::new(64, 45)),
            ],
            vec![(1, Resolution, vec![1, 2], false, vec![])],
        ),
        (
            "different audio track counts are a doubt",
            vec![
                video(1, 4_004, 1920, 1080, "h264").titled(TITLE),
                video(2, 4_004, 1280, 720, "h264").titled(TITLE).no_audio(),
            ],
            vec![(1, Resolution, vec![1, 2], true, vec![1, 2])],
        ),
        (
            "durations 1 s apart match, 1.001 s do not",
            vec![
                video(1, 10_000, 1920, 1080, "h264").titled(TITLE),
                video(2, 11_000, 1280, 720, "h264").titled(TITLE),
                video(3, 20_000, 1920, 1080, "h264").titled("B"),
                video(4, 21_001, 1280, 720, "h264").titled("B"),
            ],
            vec![(1, Resolution, vec![1, 2], false, vec![])],
        ),
        (
            "two hours: 0.5 % (36 s) matches, 37 s does not",
            vec![
                video(1, 7_200_000, 1920, 1080, "h264").titled(TITLE),
                video(2, 7_236_000, 1280, 720, "h264").titled(TITLE),
                video(3, 7_237_001, 1280, 720, "hevc").titled(TITLE),
            ],
            vec![(1, Resolution, vec![1, 2], false, vec![])],
        ),
        (
            "a chain 100 s ~ 100.9 s ~ 101.8 s is not one group",
            vec![
                video(1, 100_000, 1280, 720, "h264").titled(TITLE),
                video(2, 100_900, 1920, 1080, "h264").titled(TITLE),
                video(3, 101_800, 854, 480, "h264").titled(TITLE),
            ],
            vec![(2, Resolution, vec![2, 1], false, vec![])],
        ),
        (
            "two films in one listing",
            vec![
                video(1, 4_004, 1920, 1080, "h264").titled(TITLE),
                video(2, 4_004, 1280, 720, "h264").titled(TITLE),
                video(3, 4_004, 1920, 1080, "h264").titled("Other film"),
                video(4, 4_004, 1280, 720, "h264").titled("Other film"),
            ],
            vec![
                (1, Resolution, vec![1, 2], false, vec![]),
                (3, Resolution, vec![3, 4], false, vec![]),
            ],
        ),
        (
            "equal facts: the larger file, then the lowest id",
            vec![
                video(5, 4_004, 1920, 1080, "h264").titled(TITLE),
                video(4, 4_004, 1920, 1080, "h264").titled(TITLE),
                video(3, 4_004, 1920, 1080, "h264")
                    .titled(TITLE)
                    .with(|_| {}),
            ],
            vec![(3, LowestId, vec![3, 4, 5], false, vec![])],
        ),
    ];
    let rules = VideoRules::default();
    for (name, videos, expected) in cases {
        let mut candidates: Vec<VideoCandidate> = videos.into_iter().map(|video| video.0).collect();
        let grouping = video_groups(&candidates, &rules);
        assert_eq!(summary(&grouping), expected, "{name}");
        candidates.reverse();
        assert_eq!(
            summary(&video_groups(&candidates, &rules)),
            expected,
            "{name}, reversed"
        );
    }
}

#[test]
fn members_carry_their_reasons_and_doubts_against_the_keeper() {
    let videos: Vec<VideoCandidate> = with_frames(
        pick(corpus(), &[1, 7, 8]),
        &[(1, reencoded(FILM, 0)), (8, reencoded(FILM, 6))],
    )
    .into_iter()
    .map(|video| video.0)
    .collect();
    let grouping = video_groups(&videos, &VideoRules::default());
    let [group] = grouping.groups.as_slice() else {
        panic!("one group: {grouping:?}");
    };
    assert_eq!(group.keeper, FileId(1));
    assert_eq!(group.reclaimable_bytes, 1280 * 1_000 + 854 * 1_000);
    let trimmed = &group.members[1];
    assert_eq!(trimmed.id, FileId(7));
    assert_eq!(
        trimmed.reasons,
        [
            MatchReason::Duration {
                difference_millis: 493
            },
            MatchReason::AspectRatio {
                difference_per_mille: 0
            },
            MatchReason::Title,
            MatchReason::AudioTracks { count: 1 },
        ]
    );
    assert_eq!(trimmed.doubts, []);
    let renamed = &group.members[2];
    assert_eq!(renamed.id, FileId(8));
    assert_eq!(
        renamed.reasons,
        [
            MatchReason::Duration {
                difference_millis: 14
            },
            MatchReason::AspectRatio {
                difference_per_mille: 1
            },
            MatchReason::AudioTracks { count: 1 },
            MatchReason::Frames {
                matching: 5,
                compared: 5
            },
        ]
    );
    assert_eq!(renamed.doubts, [Doubt::NoConfirmingFact]);
    // The trimmed copy and the renamed one have no frames in common to compare: their pair is
    // ambiguous, so the group still needs the trimmed copy's frames.
    assert!(group.needs_frames);
    assert_eq!(group.members_needing_frames, ids(&[7]));
    assert!(grouping.without_duration.is_empty());
}

#[test]
fn files_without_duration_are_listed() {
    let videos = [
        video(3, 4_004, 1920, 1080, "h264").0,
        video(1, 4_004, 1920, 1080, "h264")
            .with(|facts| *facts = VideoFacts::default())
            .0,
    ];
    let grouping = video_groups(&videos, &VideoRules::default());
    assert_eq!(grouping.without_duration, ids(&[1]));
    assert!(grouping.groups.is_empty());
}
