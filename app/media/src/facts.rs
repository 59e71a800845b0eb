//! The facts one file yields: [`MediaFacts`] — video, audio, photo — or
//! [`MediaFacts::Unknown`] with an [`UnknownReason`] (not media, unreadable, the reader timed
//! out…). Every field is optional: what a file does not state is `None`, never a guess.

use wizfs_core::media::VideoFacts;
use wizfs_core::model::Timestamp;

/// What a file is, as far as its metadata tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaFacts {
    /// A moving picture (with or without sound).
    Video(VideoFacts),
    /// Sound only (a cover picture does not make it a video).
    Audio(AudioFacts),
    /// A still picture.
    Photo(PhotoFacts),
    /// Nothing could be learned; the file is left out of media search and duplicates.
    Unknown(UnknownReason),
}

/// The facts of an audio file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AudioFacts {
    /// The container as ffprobe names it (`mp3`, `mov,mp4,m4a,3gp,3g2,mj2`, `ogg`, …).
    pub container: Option<String>,
    pub duration_millis: Option<u64>,
    /// The codec of the first audio stream.
    pub codec: Option<String>,
    /// Bits per second of the whole file (of the first audio stream without a total).
    pub bit_rate: Option<u64>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u32>,
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    /// As tagged: `3`, `3/12`.
    pub track: Option<String>,
    /// As tagged: `2019`, `2019-05-01`.
    pub date: Option<String>,
    pub genre: Option<String>,
    /// A cover picture is attached.
    pub has_cover: bool,
}

/// The facts of a still picture.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PhotoFacts {
    /// The format as ffprobe names it (`image2`, `png_pipe`, …).
    pub format: Option<String>,
    /// The picture's codec (`mjpeg`, `png`, `webp`, …).
    pub codec: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// When it was taken. ffprobe does not show EXIF, so this comes only from container
    /// tags; EXIF needs a reader of its own.
    pub taken: Option<Timestamp>,
    /// The camera's make and model, when tagged.
    pub camera: Option<String>,
}

/// Why nothing is known about a file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnknownReason {
    /// The reader's output was no JSON object (empty, cut, garbage).
    #[error("the metadata reader printed no usable JSON")]
    InvalidOutput,
    /// The file was read but holds no audio, video or picture stream.
    #[error("no audio, video or picture stream")]
    NoMediaStream,
    /// The reader refused the file (not a media format, truncated, damaged), with the first
    /// line it said.
    #[error("unreadable: {message}")]
    Unreadable { message: String },
    /// The reader ran past its time limit and was killed.
    #[error("the metadata reader did not finish within {seconds} s")]
    TimedOut { seconds: u64 },
    /// The reader printed more than the cap kept.
    #[error("the metadata reader printed more than {bytes} bytes")]
    OutputTooLarge { bytes: usize },
    /// The reader could not run (not installed, …).
    #[error("the metadata reader could not run: {message}")]
    ReaderFailed { message: String },
    /// Only absolute paths are read (a relative one could be taken for an option or a
    /// protocol).
    #[error("not an absolute path")]
    NotAbsolute,
}
