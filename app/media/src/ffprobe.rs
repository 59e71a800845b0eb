//! The pure reader of `ffprobe -v error -print_format json -show_format -show_streams FILE`:
//! [`parse`] turns its standard output into [`MediaFacts`].
//!
//! The JSON is read as untyped values and every field checked on its own (`values.rs`):
//! ffprobe writes most numbers as strings, `"N/A"` or not at all, and a hostile file controls
//! the text. What kind of file it is:
//! - a **photo** when the format is an image reader (`image2`, `*_pipe`) and a picture stream
//!   exists;
//! - a **video** when a video stream exists that is not an attached picture (cover art);
//! - **audio** when an audio stream exists;
//! - else unknown ([`UnknownReason::NoMediaStream`]; no JSON object: `InvalidOutput`).
//!
//! Video facts take the first video stream that is not a cover: the duration of the format
//! (else the longest stream's, else Matroska's `DURATION` tag), the format's bit rate (else
//! the stream's), the average frame rate (else the base rate), width and height swapped for a
//! rotation of ±90° (display matrix or `rotate` tag), the title and creation time of the
//! format's tags (else the stream's; Apple's `com.apple.quicktime.creationdate` too). Tag
//! names are compared without case (Matroska writes them in capitals).

use serde_json::{Map, Value};
use wizfs_core::media::VideoFacts;

use crate::facts::{AudioFacts, MediaFacts, PhotoFacts, UnknownReason};

mod values;

use values::{clock_as_millis, number, positive, ratio, seconds_as_millis, text, timestamp};

/// Picture sides above this are taken for garbage.
const MAX_SIDE: u64 = 65_535;
/// Bit rates above this (1 Tbit/s) are taken for garbage.
const MAX_BIT_RATE: u64 = 1_000_000_000_000;
/// Frame rates above this are taken for garbage (ffprobe's `90000/1` of a cover is one).
const MAX_FRAME_RATE: f64 = 1_000.0;

/// Reads ffprobe's JSON output. Never panics, whatever the bytes.
pub fn parse(stdout: &[u8]) -> MediaFacts {
    let Ok(Value::Object(root)) = serde_json::from_slice::<Value>(stdout) else {
        return MediaFacts::Unknown(UnknownReason::InvalidOutput);
    };
    let empty = Map::new();
    let format = root
        .get("format")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let streams: Vec<&Map<String, Value>> = root
        .get("streams")
        .and_then(Value::as_array)
        .map(|streams| streams.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let of_type = |kind: &str| -> Vec<&Map<String, Value>> {
        streams
            .iter()
            .copied()
            .filter(|stream| stream.get("codec_type").and_then(Value::as_str) == Some(kind))
            .collect()
    };
    let (pictures, audio) = (of_type("video"), of_type("audio"));
    let format_name = text(format.get("format_name"));
    let image_format = format_name
        .as_deref()
        .is_some_and(|name| name == "image2" || name.ends_with("_pipe"));
    let covers: Vec<&Map<String, Value>> = pictures
        .iter()
        .copied()
        .filter(|stream| is_cover(stream))
        .collect();
    let moving = pictures.iter().copied().find(|stream| !is_cover(stream));
    match (moving, pictures.first()) {
        (Some(picture), _) if image_format => {
            MediaFacts::Photo(photo(format, picture, format_name))
        }
        (Some(video_stream), _) => {
            MediaFacts::Video(video(format, &streams, video_stream, &audio, format_name))
        }
        _ if !audio.is_empty() => {
            MediaFacts::Audio(audio_facts(format, &audio, !covers.is_empty(), format_name))
        }
        (None, Some(picture)) if image_format => {
            MediaFacts::Photo(photo(format, picture, format_name))
        }
        _ => MediaFacts::Unknown(UnknownReason::NoMediaStream),
    }
}

fn is_cover(stream: &Map<String, Value>) -> bool {
    stream
        .get("disposition")
        .and_then(|disposition| number(disposition.get("attached_pic")))
        == Some(1.0)
}

/// A tag of `object` by name, case ignored.
fn tag<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .get("tags")?
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// A tag of the format, else of the first of `streams` that has it.
fn first_tag<'a>(
    format: &'a Map<String, Value>,
    streams: &[&'a Map<String, Value>],
    name: &str,
) -> Option<&'a Value> {
    std::iter::once(format)
        .chain(streams.iter().copied())
        .find_map(|object| tag(object, name))
}

/// The duration of the format, else the longest stream's, else the longest `DURATION` tag.
fn duration_millis(format: &Map<String, Value>, streams: &[&Map<String, Value>]) -> Option<u64> {
    seconds_as_millis(format.get("duration"))
        .filter(|millis| *millis > 0)
        .or_else(|| {
            streams
                .iter()
                .filter_map(|stream| seconds_as_millis(stream.get("duration")))
                .max()
                .filter(|millis| *millis > 0)
        })
        .or_else(|| {
            streams
                .iter()
                .filter_map(|stream| clock_as_millis(tag(stream, "DURATION")?.as_str()?))
                .max()
        })
}

fn bit_rate(format: &Map<String, Value>, stream: Option<&Map<String, Value>>) -> Option<u64> {
    positive(format.get("bit_rate"), MAX_BIT_RATE)
        .or_else(|| positive(stream?.get("bit_rate"), MAX_BIT_RATE))
}

/// Width and height as displayed (a quarter turn swaps them).
fn displayed_size(stream: &Map<String, Value>) -> (Option<u32>, Option<u32>) {
    let side =
        |name: &str| positive(stream.get(name), MAX_SIDE).and_then(|side| u32::try_from(side).ok());
    let (width, height) = (side("width"), side("height"));
    let rotation = stream
        .get("side_data_list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|data| number(data.get("rotation")))
        .or_else(|| number(tag(stream, "rotate")));
    let quarter_turn = rotation.is_some_and(|degrees| {
        degrees.abs() <= 3_600.0 && (degrees.round() as i64).rem_euclid(180) == 90
    });
    if quarter_turn {
        (height, width)
    } else {
        (width, height)
    }
}

fn frame_rate(stream: &Map<String, Value>) -> Option<wizfs_core::media::Ratio> {
    [
        ratio(stream.get("avg_frame_rate")),
        ratio(stream.get("r_frame_rate")),
    ]
    .into_iter()
    .flatten()
    .find(|rate| rate.value() <= MAX_FRAME_RATE)
}

fn codec(stream: &Map<String, Value>) -> Option<String> {
    text(stream.get("codec_name"))
}

fn video(
    format: &Map<String, Value>,
    streams: &[&Map<String, Value>],
    video_stream: &Map<String, Value>,
    audio: &[&Map<String, Value>],
    container: Option<String>,
) -> VideoFacts {
    let (width, height) = displayed_size(video_stream);
    let tagged = [video_stream];
    VideoFacts {
        container,
        duration_millis: duration_millis(format, streams),
        width,
        height,
        pixel_aspect: ratio(video_stream.get("sample_aspect_ratio"))
            .filter(|pixel| pixel.numerator() != pixel.denominator()),
        video_codec: codec(video_stream),
        audio_codecs: audio
            .iter()
            .map(|stream| codec(stream).unwrap_or_else(|| "unknown".to_owned()))
            .collect(),
        bit_rate: bit_rate(format, Some(video_stream)),
        frame_rate: frame_rate(video_stream),
        creation_time: timestamp(first_tag(format, &tagged, "creation_time")).or_else(|| {
            timestamp(first_tag(
                format,
                &tagged,
                "com.apple.quicktime.creationdate",
            ))
        }),
        title: text(first_tag(format, &tagged, "title")),
    }
}

fn audio_facts(
    format: &Map<String, Value>,
    audio: &[&Map<String, Value>],
    has_cover: bool,
    container: Option<String>,
) -> AudioFacts {
    let first = audio.first().copied();
    let tag_text = |name: &str| text(first_tag(format, audio, name));
    AudioFacts {
        container,
        duration_millis: duration_millis(format, audio),
        codec: first.and_then(codec),
        bit_rate: bit_rate(format, first),
        sample_rate: first
            .and_then(|stream| positive(stream.get("sample_rate"), 10_000_000))
            .and_then(|rate| u32::try_from(rate).ok()),
        channels: first
            .and_then(|stream| positive(stream.get("channels"), 1_024))
            .and_then(|channels| u32::try_from(channels).ok()),
        title: tag_text("title"),
        artist: tag_text("artist"),
        album: tag_text("album"),
        track: tag_text("track"),
        date: tag_text("date"),
        genre: tag_text("genre"),
        has_cover,
    }
}

fn photo(
    format: &Map<String, Value>,
    picture: &Map<String, Value>,
    container: Option<String>,
) -> PhotoFacts {
    let (width, height) = displayed_size(picture);
    let tagged = [picture];
    let camera = [
        text(first_tag(format, &tagged, "make")),
        text(first_tag(format, &tagged, "model")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<String>>()
    .join(" ");
    PhotoFacts {
        format: container,
        codec: codec(picture),
        width,
        height,
        taken: timestamp(first_tag(format, &tagged, "creation_time")),
        camera: (!camera.is_empty()).then_some(camera),
    }
}

#[cfg(test)]
mod tests;
