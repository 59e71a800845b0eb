//! WiZFS media metadata: what a video, audio or photo file says about itself.
//!
//! [`MediaFacts`] is what a file yields: video facts (the core's
//! [`wizfs_core::media::VideoFacts`], re-exported here, on which the duplicate rules decide),
//! audio facts (tags, duration), photo facts (size), or [`MediaFacts::Unknown`] with the
//! reason — never a panic or a hang, whatever the file holds. [`MediaProbe`] is the trait
//! (path → facts); [`FfprobeCli`] its real implementation, which runs `ffprobe` through
//! [`wizfs_process`] with a time limit and an output cap; [`FakeProbe`] the fake for tests.
//! The reading of ffprobe's JSON is the pure function [`ffprobe::parse`], tested on output
//! captured from real ffprobe (`tests/fixtures/`) and fuzzed (`fuzz/fuzz_targets/ffprobe_json.rs`).

mod facts;
pub mod ffprobe;
mod probe;

pub use facts::{AudioFacts, MediaFacts, PhotoFacts, UnknownReason};
pub use probe::{FakeProbe, FfprobeCli, MediaProbe};
pub use wizfs_core::media::{Ratio, VideoFacts};
