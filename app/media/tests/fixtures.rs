//! The ffprobe reader on output captured from real ffprobe (Debian 12's 5.1; the corpus and
//! the capture are `tests/fixtures/capture.sh`, the exit statuses `tests/fixtures/capture.txt`):
//! what each file yields, and the duplicate rules of `wizfs-core` on those very facts — the
//! transcodes are one film, the distinct clip of equal duration joins only until frames say
//! otherwise.

use std::path::Path;

use wizfs_core::duplicates::{FileId, FrameHashes, VideoCandidate, VideoRules, video_groups};
use wizfs_core::model::Timestamp;
use wizfs_media::{MediaFacts, Ratio, UnknownReason, VideoFacts, ffprobe};

fn fixture(name: &str) -> MediaFacts {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.json"));
    let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    ffprobe::parse(&bytes)
}

fn video(name: &str) -> VideoFacts {
    match fixture(name) {
        MediaFacts::Video(facts) => facts,
        other => panic!("{name}: not a video: {other:?}"),
    }
}

const TITLE: &str = "Holiday at the sea";

#[test]
fn captured_videos_give_their_facts() {
    // fixture: container, duration ms, width×height, video codec, audio codecs, bit rate.
    // The portrait clip is rotated by its display matrix; the truncated MKV was cut after
    // 20 kB, yet ffprobe reads its header (exit 0, "File ended prematurely").
    let expected = "\
source-1080p-h264-mp4: mov,mp4,m4a,3gp,3g2,mj2 4004 1920x1080 h264 [aac] 15590937
720p-h264-mp4: mov,mp4,m4a,3gp,3g2,mj2 4004 1280x720 h264 [aac] 6430929
1080p-hevc-mkv: matroska,webm 4025 1920x1080 hevc [aac] 3229724
720p-vp9-webm: matroska,webm 4018 1280x720 vp9 [opus] 999436
720p-av1-mkv: matroska,webm 4018 1280x720 av1 [opus] 1415333
1080p-av1-mp4: mov,mp4,m4a,3gp,3g2,mj2 4011 1920x1080 av1 [aac] 6884730
trimmed-720p-hevc-mp4: mov,mp4,m4a,3gp,3g2,mj2 3511 1280x720 hevc [aac] 635187
renamed-480p-no-metadata-mp4: mov,mp4,m4a,3gp,3g2,mj2 4011 854x480 h264 [aac] 2781762
distinct-equal-duration-mp4: mov,mp4,m4a,3gp,3g2,mj2 4004 1920x1080 h264 [aac] 23184139
phone-portrait-mp4: mov,mp4,m4a,3gp,3g2,mj2 2000 720x1280 h264 [] 349396
truncated-mkv: matroska,webm 4025 1920x1080 hevc [aac] 39751
";
    let mut found = String::new();
    for line in expected.lines() {
        let name = line.split(':').next().unwrap_or_default();
        let facts = video(name);
        found.push_str(&format!(
            "{name}: {} {} {}x{} {} [{}] {}\n",
            facts.container.unwrap_or_default(),
            facts.duration_millis.unwrap_or_default(),
            facts.width.unwrap_or_default(),
            facts.height.unwrap_or_default(),
            facts.video_codec.unwrap_or_default(),
            facts.audio_codecs.join(","),
            facts.bit_rate.unwrap_or_default(),
        ));
    }
    assert_eq!(found, expected);
    let source = video("source-1080p-h264-mp4");
    assert_eq!(source.title.as_deref(), Some(TITLE));
    assert_eq!(source.creation_time, Some(Timestamp(1_720_952_430)));
    assert_eq!(source.frame_rate, Ratio::new(30_000, 1_001));
    // Transcodes keep the title, not the creation time; the renamed copy has neither.
    assert_eq!(video("1080p-hevc-mkv").title.as_deref(), Some(TITLE));
    assert_eq!(video("1080p-hevc-mkv").creation_time, None);
    let renamed = video("renamed-480p-no-metadata-mp4");
    assert_eq!((renamed.title, renamed.creation_time), (None, None));
    assert_eq!(renamed.pixel_aspect, Ratio::new(1_280, 1_281));
    assert_eq!(video("phone-portrait-mp4").frame_rate, Ratio::new(30, 1));
}

#[test]
fn captured_audio_photos_and_unreadable_files() {
    let MediaFacts::Audio(song) = fixture("audio-mp3") else {
        panic!("audio-mp3");
    };
    assert_eq!(
        (
            song.container.as_deref(),
            song.duration_millis,
            song.codec.as_deref(),
            song.title.as_deref(),
            song.artist.as_deref(),
            song.album.as_deref(),
            song.track.as_deref(),
            song.date.as_deref(),
            song.has_cover,
        ),
        (
            Some("mp3"),
            Some(3_030),
            Some("mp3"),
            Some("A Song"),
            Some("The Band"),
            Some("The Album"),
            Some("3"),
            Some("2019"),
            false
        )
    );
    let MediaFacts::Audio(covered) = fixture("audio-cover-m4a") else {
        panic!("audio-cover-m4a: a cover does not make a video");
    };
    assert!(covered.has_cover);
    assert_eq!(covered.title.as_deref(), Some("With Cover"));
    for (name, format, codec, width, height) in [
        ("photo-jpg", "image2", "mjpeg", 4000, 3000),
        ("photo-png", "png_pipe", "png", 640, 480),
    ] {
        let MediaFacts::Photo(photo) = fixture(name) else {
            panic!("{name}: not a photo");
        };
        assert_eq!(
            (
                photo.format.as_deref(),
                photo.codec.as_deref(),
                photo.width,
                photo.height
            ),
            (Some(format), Some(codec), Some(width), Some(height)),
            "{name}"
        );
    }
    // ffprobe exits 1 for these (capture.txt) and prints an empty object: the adapter reports
    // its stderr; the parser alone finds no stream.
    for name in ["truncated-mp4", "empty-mp4", "notes-txt"] {
        assert_eq!(
            fixture(name),
            MediaFacts::Unknown(UnknownReason::NoMediaStream),
            "{name}"
        );
    }
}

/// Frame hashes standing in for the sampled frames of the corpus: the source's picture for
/// its transcodes (a few bits off), another for the distinct clip.
fn frames(distinct: bool) -> FrameHashes {
    let film = [
        0x0f0f_3c3c_5a5a_6699_u64,
        0xf0e1_d2c3_b4a5_9687,
        0x1234_5678_9abc_def0,
    ];
    FrameHashes(
        film.iter()
            .map(|hash| if distinct { !hash } else { hash ^ 0b101 })
            .collect(),
    )
}

#[test]
fn the_duplicate_rules_on_captured_facts() {
    let names = [
        "source-1080p-h264-mp4",
        "720p-h264-mp4",
        "1080p-hevc-mkv",
        "720p-vp9-webm",
        "720p-av1-mkv",
        "1080p-av1-mp4",
        "trimmed-720p-hevc-mp4",
        "renamed-480p-no-metadata-mp4",
        "distinct-equal-duration-mp4",
        "phone-portrait-mp4",
    ];
    let candidates = |with_frames: bool| -> Vec<VideoCandidate> {
        names
            .iter()
            .enumerate()
            .map(|(index, name)| VideoCandidate {
                id: FileId(index as u64 + 1),
                size: 1_000,
                facts: video(name),
                frames: with_frames.then(|| frames(name.starts_with("distinct"))),
            })
            .collect()
    };
    let ids = |group: &wizfs_core::duplicates::VideoGroup| -> Vec<u64> {
        group.members.iter().map(|member| member.id.0).collect()
    };
    let rules = VideoRules::default();
    // Facts alone: the titled transcodes are sure of each other, the renamed copy and the
    // distinct clip are ambiguous with all of them — one group that needs frames, led by the
    // distinct clip's higher bit rate until frames reject it.
    let grouping = video_groups(&candidates(false), &rules);
    assert_eq!(grouping.groups.len(), 1, "{grouping:#?}");
    let group = &grouping.groups[0];
    assert!(group.needs_frames);
    assert_eq!(ids(group), [9, 1, 6, 3, 2, 5, 4, 7, 8]);
    // Frames: the distinct clip leaves, the renamed copy is confirmed.
    let grouping = video_groups(&candidates(true), &rules);
    assert_eq!(grouping.groups.len(), 1, "{grouping:#?}");
    let group = &grouping.groups[0];
    assert!(!group.needs_frames, "{group:#?}");
    assert_eq!(group.keeper, FileId(1));
    assert_eq!(ids(group), [1, 6, 3, 2, 5, 4, 7, 8]);
}
