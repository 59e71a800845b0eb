//! Fuzzes the ffprobe reader: any bytes as the stdout of `ffprobe -print_format json
//! -show_format -show_streams` go through `wizfs_media::ffprobe::parse`, and the video facts
//! it gives through the duplicate rules of `wizfs-core` (against themselves and a transcode of
//! themselves). Properties: no panic, whatever the JSON holds (numbers as strings, `N/A`,
//! `0/0`, absurd values, deep nesting); every fact within its documented bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wizfs_core::duplicates::{FileId, VideoCandidate, VideoRules, video_groups};
use wizfs_media::{MediaFacts, ffprobe};

fuzz_target!(|data: &[u8]| {
    match ffprobe::parse(data) {
        MediaFacts::Video(facts) => {
            assert!(facts.duration_millis.is_none_or(|millis| millis <= 1_000_000_000));
            assert!(facts.width.is_none_or(|side| (1..=65_535).contains(&side)));
            assert!(facts.height.is_none_or(|side| (1..=65_535).contains(&side)));
            assert!(facts.frame_rate.is_none_or(|rate| rate.value() <= 1_000.0));
            assert!(facts.title.as_ref().is_none_or(|title| title.len() <= 1_024));
            if let Some(aspect) = facts.display_aspect() {
                assert!(aspect.is_finite() && aspect > 0.0);
            }
            let original = VideoCandidate {
                id: FileId(1),
                size: 1,
                facts: facts.clone(),
                frames: None,
            };
            let mut transcode = original.clone();
            transcode.id = FileId(2);
            transcode.facts.width = transcode.facts.width.map(|width| width / 2);
            transcode.facts.height = transcode.facts.height.map(|height| height / 2);
            let grouping = video_groups(&[original, transcode], &VideoRules::default());
            assert!(grouping.groups.len() <= 1);
        }
        MediaFacts::Audio(facts) => {
            assert!(facts.duration_millis.is_none_or(|millis| millis <= 1_000_000_000));
        }
        MediaFacts::Photo(_) | MediaFacts::Unknown(_) => {}
    }
});
