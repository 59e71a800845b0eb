//! Comparing sampled frames by perceptual hash: the evidence that settles two videos whose
//! facts alone are ambiguous. The caller decodes a few frames of each file at the same
//! fractions of its duration ([`SAMPLE_PER_MILLE`]) and hashes each into 64 bits (dHash or
//! aHash of an 8×8/9×8 grey thumbnail); [`compare_frames`] pairs the samples by position and
//! counts those within a Hamming distance.
//!
//! A frame of one flat colour (black at a fade, a title card) hashes to nearly all zeros or
//! all ones whatever the film, so such samples say nothing and are not compared: two distinct
//! clips that both open in black must not match on it.

/// Where to sample, in thousandths of each file's duration: away from the ends, where a trim
/// or a fade differs most.
pub const SAMPLE_PER_MILLE: [u64; 5] = [100, 300, 500, 700, 900];

/// The perceptual hashes of one file's sampled frames, in sampling order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameHashes(pub Vec<u64>);

/// When sampled frames count as the same picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRules {
    /// At most this many of the 64 bits may differ for two frames to match (10: transcodes
    /// and rescaling change a few bits; different scenes change ~32).
    pub max_distance: u32,
    /// Fewer informative pairs than this decide nothing.
    pub min_compared: usize,
    /// At least this share of the compared pairs must match, in percent; fewer is a
    /// rejection.
    pub min_matching_percent: u8,
}

impl Default for FrameRules {
    fn default() -> FrameRules {
        FrameRules {
            max_distance: 10,
            min_compared: 3,
            min_matching_percent: 75,
        }
    }
}

/// What the frames say about two files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameComparison {
    /// Enough samples match: the same picture.
    Same { matching: usize, compared: usize },
    /// Too few samples match: different pictures.
    Different { matching: usize, compared: usize },
    /// Too few informative samples to say.
    Inconclusive { compared: usize },
}

/// The bits set in a hash of a flat frame are (nearly) none or all.
fn informative(hash: u64) -> bool {
    (4..=60).contains(&hash.count_ones())
}

/// The bits in which two hashes differ.
pub fn hamming_distance(left: u64, right: u64) -> u32 {
    (left ^ right).count_ones()
}

/// Compares the samples of two files position by position (the shorter list decides how many
/// positions there are), leaving out pairs where either frame is flat.
pub fn compare_frames(
    left: &FrameHashes,
    right: &FrameHashes,
    rules: &FrameRules,
) -> FrameComparison {
    let mut compared = 0usize;
    let mut matching = 0usize;
    for (left_hash, right_hash) in left.0.iter().zip(&right.0) {
        if !informative(*left_hash) || !informative(*right_hash) {
            continue;
        }
        compared += 1;
        if hamming_distance(*left_hash, *right_hash) <= rules.max_distance {
            matching += 1;
        }
    }
    if compared == 0 || compared < rules.min_compared {
        return FrameComparison::Inconclusive { compared };
    }
    // matching / compared ≥ percent / 100, in integers.
    if matching * 100 >= compared * usize::from(rules.min_matching_percent) {
        FrameComparison::Same { matching, compared }
    } else {
        FrameComparison::Different { matching, compared }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: u64 = 0x0f0f_3c3c_5a5a_6699;
    const B: u64 = 0xf0e1_d2c3_b4a5_9687;

    fn near(hash: u64, bits: u32) -> u64 {
        (0..bits).fold(hash, |value, bit| value ^ (1 << (bit * 7 % 64)))
    }

    #[test]
    fn frames_compare_by_position_without_flat_frames() {
        let rules = FrameRules::default();
        let film = FrameHashes(vec![A, B, near(A, 20), near(B, 30), A]);
        let transcode = FrameHashes(film.0.iter().map(|hash| near(*hash, 6)).collect());
        let other = FrameHashes(vec![B, A, near(B, 20), near(A, 30), B]);
        let black = FrameHashes(vec![0, 0, 0, 0, u64::MAX]);
        let one_cut = FrameHashes(vec![A, B, near(A, 20), B, A]);
        let two_cuts = FrameHashes(vec![A, A, near(A, 20), B, A]);
        let cases = [
            (
                &film,
                &transcode,
                FrameComparison::Same {
                    matching: 5,
                    compared: 5,
                },
            ),
            (
                &film,
                &other,
                FrameComparison::Different {
                    matching: 0,
                    compared: 5,
                },
            ),
            // Flat frames decide nothing, even between two black clips.
            (&film, &black, FrameComparison::Inconclusive { compared: 0 }),
            (
                &black,
                &black,
                FrameComparison::Inconclusive { compared: 0 },
            ),
            (
                &FrameHashes(vec![A, B]),
                &FrameHashes(vec![A, B]),
                FrameComparison::Inconclusive { compared: 2 },
            ),
            (
                &film,
                &FrameHashes::default(),
                FrameComparison::Inconclusive { compared: 0 },
            ),
            // One scene cut among five samples still matches (4 of 5 = 80 % ≥ 75 %); two
            // do not.
            (
                &film,
                &one_cut,
                FrameComparison::Same {
                    matching: 4,
                    compared: 5,
                },
            ),
            (
                &film,
                &two_cuts,
                FrameComparison::Different {
                    matching: 3,
                    compared: 5,
                },
            ),
        ];
        for (left, right, expected) in cases {
            assert_eq!(
                compare_frames(left, right, &rules),
                expected,
                "{left:?} {right:?}"
            );
            assert_eq!(compare_frames(right, left, &rules), expected, "symmetric");
        }
        assert_eq!(hamming_distance(A, near(A, 6)), 6);
    }
}
