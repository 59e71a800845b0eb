//! Hostile and odd ffprobe output: not JSON, cut JSON, the wrong types everywhere, `"N/A"`,
//! absurd numbers, `0/0` rates, deep nesting, covers without sound, Matroska's duration tag,
//! rotations. Each must give a sensible answer and never panic. (Real captured output is in
//! `tests/fixtures.rs`.)

use super::*;
use wizfs_core::media::Ratio;

fn video_of(json: &str) -> VideoFacts {
    match parse(json.as_bytes()) {
        MediaFacts::Video(facts) => facts,
        other => panic!("not a video: {other:?} from {json}"),
    }
}

#[test]
fn output_that_is_no_json_object_is_invalid() {
    let deep = "[".repeat(100_000);
    let cases: [&[u8]; 9] = [
        b"",
        b"{",
        b"{\"streams\": [",
        b"null",
        b"[1, 2]",
        b"\"text\"",
        b"\xff\xfe\x00garbage",
        deep.as_bytes(),
        b"{\"a\":1}{\"b\":2}",
    ];
    for bytes in cases {
        assert_eq!(
            parse(bytes),
            MediaFacts::Unknown(UnknownReason::InvalidOutput),
            "{:?}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
        );
    }
}

#[test]
fn objects_without_media_streams_are_unknown() {
    let cases = [
        "{}",
        "{\n\n}",
        r#"{"streams": 5, "format": "x"}"#,
        r#"{"streams": [1, "a", null, {"codec_type": 7}], "format": {}}"#,
        r#"{"streams": [{"codec_type": "data"}, {"codec_type": "subtitle"}]}"#,
        // A cover without sound in a container that is no image format.
        r#"{"streams": [{"codec_type": "video", "disposition": {"attached_pic": 1}}],
            "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2"}}"#,
    ];
    for json in cases {
        assert_eq!(
            parse(json.as_bytes()),
            MediaFacts::Unknown(UnknownReason::NoMediaStream),
            "{json}"
        );
    }
}

#[test]
fn hostile_fields_are_dropped_one_by_one() {
    let facts = video_of(
        r#"{"streams": [{"codec_type": "video", "codec_name": 264, "width": "N/A",
              "height": -1080, "r_frame_rate": "0/0", "avg_frame_rate": "1/0",
              "sample_aspect_ratio": "0:1", "bit_rate": "99999999999999999999999",
              "tags": {"title": ["x"], "creation_time": "yesterday"}},
             {"codec_type": "audio"}, {"codec_type": "audio", "codec_name": "opus"}],
            "format": {"duration": "N/A", "bit_rate": "1e400", "format_name": ""}}"#,
    );
    assert_eq!(
        facts,
        VideoFacts {
            audio_codecs: vec!["unknown".to_owned(), "opus".to_owned()],
            ..VideoFacts::default()
        }
    );
}

#[test]
fn numbers_may_be_strings_or_numbers() {
    let from_strings = video_of(
        r#"{"streams": [{"codec_type": "video", "codec_name": "h264", "width": "1920",
              "height": "1080", "r_frame_rate": "30000/1001", "sample_aspect_ratio": "1:1"}],
            "format": {"duration": "7200.5", "bit_rate": "8000000"}}"#,
    );
    let from_numbers = video_of(
        r#"{"streams": [{"codec_type": "video", "codec_name": "h264", "width": 1920,
              "height": 1080.0, "r_frame_rate": "30000/1001"}],
            "format": {"duration": 7200.5, "bit_rate": 8000000}}"#,
    );
    assert_eq!(from_strings, from_numbers);
    assert_eq!(from_strings.duration_millis, Some(7_200_500));
    assert_eq!(from_strings.width, Some(1920));
    assert_eq!(from_strings.frame_rate, Ratio::new(30_000, 1_001));
    assert_eq!(
        from_strings.pixel_aspect, None,
        "square pixels are the default"
    );
    assert_eq!(from_strings.bit_rate, Some(8_000_000));
}

#[test]
fn durations_come_from_the_format_then_streams_then_tags() {
    // (format, the stream's fields after its type, milliseconds)
    let cases = [
        (
            r#"{"duration": "4.004"}"#,
            r#", "duration": "9""#,
            Some(4_004),
        ),
        (
            r#"{"duration": "0.000000"}"#,
            r#", "duration": "3.5""#,
            Some(3_500),
        ),
        (
            r#"{}"#,
            r#", "tags": {"DURATION": "00:00:04.025000000"}"#,
            Some(4_025),
        ),
        (r#"{"duration": "-3"}"#, r#", "duration": "1e30""#, None),
    ];
    for (format, stream, expected) in cases {
        let json =
            format!(r#"{{"streams": [{{"codec_type": "video"{stream}}}], "format": {format}}}"#);
        assert_eq!(video_of(&json).duration_millis, expected, "{json}");
    }
}

#[test]
fn a_quarter_turn_swaps_the_sides() {
    let rotated = |rotation: &str| {
        let facts = video_of(&format!(
            r#"{{"streams": [{{"codec_type": "video", "width": 1280, "height": 720, {rotation}}}]}}"#
        ));
        (facts.width, facts.height)
    };
    let landscape = (Some(1280), Some(720));
    let portrait = (Some(720), Some(1280));
    assert_eq!(rotated(r#""side_data_list": [{"rotation": 90}]"#), portrait);
    assert_eq!(
        rotated(r#""side_data_list": [{"rotation": -90}]"#),
        portrait
    );
    assert_eq!(
        rotated(r#""side_data_list": [{}, {"rotation": 270}]"#),
        portrait
    );
    assert_eq!(
        rotated(r#""side_data_list": [{"rotation": 180}]"#),
        landscape
    );
    assert_eq!(rotated(r#""tags": {"rotate": "90"}"#), portrait);
    assert_eq!(
        rotated(r#""side_data_list": [{"rotation": 1e308}]"#),
        landscape
    );
    assert_eq!(rotated(r#""side_data_list": "x""#), landscape);
}

#[test]
fn covers_make_audio_and_image_formats_make_photos() {
    let cover = r#"{"codec_type": "video", "codec_name": "png", "width": 320, "height": 320,
                    "disposition": {"attached_pic": 1}}"#;
    let sound = r#"{"codec_type": "audio", "codec_name": "mp3", "sample_rate": "44100",
                    "channels": 2}"#;
    let json = format!(
        r#"{{"streams": [{cover}, {sound}], "format": {{"format_name": "mp3",
            "duration": "3.0", "tags": {{"TITLE": "A Song", "Artist": "The Band"}}}}}}"#
    );
    let MediaFacts::Audio(audio) = parse(json.as_bytes()) else {
        panic!("audio expected");
    };
    assert!(audio.has_cover);
    assert_eq!(audio.title.as_deref(), Some("A Song"));
    assert_eq!(audio.artist.as_deref(), Some("The Band"));
    assert_eq!((audio.sample_rate, audio.channels), (Some(44_100), Some(2)));
    let still = r#"{"streams": [{"codec_type": "video", "codec_name": "mjpeg",
                    "width": 4000, "height": 3000}],
                    "format": {"format_name": "image2",
                    "tags": {"Make": "Canon", "Model": "EOS R6"}}}"#;
    let MediaFacts::Photo(photo) = parse(still.as_bytes()) else {
        panic!("photo expected");
    };
    assert_eq!((photo.width, photo.height), (Some(4000), Some(3000)));
    assert_eq!(photo.camera.as_deref(), Some("Canon EOS R6"));
}
