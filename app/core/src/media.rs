//! What WiZFS knows about a video file, as plain data: [`VideoFacts`] (container, duration,
//! picture size, codecs, bit rate, frame rate, creation time, title). The duplicate rules
//! (`duplicates::video`) decide on these facts, so they live here in the core; the reader
//! that fills them from a file (`wizfs-media`, ffprobe's JSON) re-exports them. Every field
//! is optional: a fact a file does not state is `None`, never a guess.

use crate::model::Timestamp;

/// A positive ratio of two whole numbers: a frame rate (`30000/1001`) or a pixel's aspect
/// (`64/45`). Zero in either place is not a ratio (ffprobe writes `0/0` for "unknown").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ratio {
    numerator: u32,
    denominator: u32,
}

impl Ratio {
    /// `numerator / denominator`; `None` when either is zero.
    pub fn new(numerator: u32, denominator: u32) -> Option<Ratio> {
        (numerator != 0 && denominator != 0).then_some(Ratio {
            numerator,
            denominator,
        })
    }

    pub fn numerator(self) -> u32 {
        self.numerator
    }

    pub fn denominator(self) -> u32 {
        self.denominator
    }

    /// The value as a float (always finite and positive).
    pub fn value(self) -> f64 {
        f64::from(self.numerator) / f64::from(self.denominator)
    }
}

/// The facts of one video file. `width` and `height` are the picture as displayed: a
/// rotation of 90° or 270° (phones) is already applied, so a portrait clip is taller than
/// wide whether or not a transcoder turned its pixels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VideoFacts {
    /// The container as the reader names it (ffprobe's `format_name`, e.g. `matroska,webm`).
    pub container: Option<String>,
    /// Playing time in milliseconds.
    pub duration_millis: Option<u64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The shape of one pixel when it is not square (anamorphic video); `None` for square
    /// pixels or when unknown.
    pub pixel_aspect: Option<Ratio>,
    /// The codec of the main video stream (`h264`, `hevc`, `vp9`, `av1`, …).
    pub video_codec: Option<String>,
    /// The codec of each audio stream, in stream order.
    pub audio_codecs: Vec<String>,
    /// Bits per second of the whole file (of the video stream when the container states no
    /// total).
    pub bit_rate: Option<u64>,
    /// Frames per second (the average rate when known, else the base rate).
    pub frame_rate: Option<Ratio>,
    /// When the recording was made, as the container states it.
    pub creation_time: Option<Timestamp>,
    pub title: Option<String>,
}

impl VideoFacts {
    /// Pixels per frame, when both dimensions are known.
    pub fn pixels(&self) -> Option<u64> {
        Some(u64::from(self.width?) * u64::from(self.height?))
    }

    /// Display width over height (pixel aspect applied), when both are known and non-zero.
    pub fn display_aspect(&self) -> Option<f64> {
        let width = f64::from(self.width.filter(|width| *width > 0)?);
        let height = f64::from(self.height.filter(|height| *height > 0)?);
        let pixel = self.pixel_aspect.map_or(1.0, Ratio::value);
        let aspect = width * pixel / height;
        aspect.is_finite().then_some(aspect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_refuse_zero_and_aspects_apply_the_pixel_shape() {
        assert_eq!(Ratio::new(0, 0), None);
        assert_eq!(Ratio::new(30, 0), None);
        let ntsc = Ratio::new(30_000, 1_001).expect("a ratio");
        assert!((ntsc.value() - 29.97).abs() < 0.01);
        let widescreen_dvd = VideoFacts {
            width: Some(720),
            height: Some(576),
            pixel_aspect: Ratio::new(64, 45),
            ..VideoFacts::default()
        };
        let aspect = widescreen_dvd.display_aspect().expect("an aspect");
        assert!((aspect - 16.0 / 9.0).abs() < 0.001, "{aspect}");
        assert_eq!(widescreen_dvd.pixels(), Some(414_720));
        let no_height = VideoFacts {
            width: Some(720),
            height: Some(0),
            ..VideoFacts::default()
        };
        assert_eq!(no_height.display_aspect(), None);
    }
}
