//! Fuzzes the decoding of a system-attribute bonus buffer (`ZplAttributes::read`), the file
//! attributes the indexer takes from a send stream's OBJECT records. The first byte picks
//! the bonus type (even: `DMU_OT_SA`, 44, the one decoded; odd: the next four bytes), the
//! rest is the buffer. Properties: no panic, only SA buffers decode, and the layout number
//! fits its 10 bits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wizfs_zfs::objects::ZplAttributes;

const BONUS_SA: u32 = 44;

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = wizfs_fuzz::selector(data) else {
        return;
    };
    let (bonus_type, bonus) = if first % 2 == 0 {
        (BONUS_SA, rest)
    } else if rest.len() >= 4 {
        let (word, bonus) = rest.split_at(4);
        (
            u32::from_ne_bytes([word[0], word[1], word[2], word[3]]),
            bonus,
        )
    } else {
        return;
    };
    if let Some(attributes) = ZplAttributes::read(bonus_type, bonus) {
        assert_eq!(
            bonus_type, BONUS_SA,
            "a bonus buffer of another type decoded"
        );
        assert!(
            bonus.len() >= 128,
            "attributes from a buffer too short to hold them"
        );
        assert!(
            attributes.layout < 1024,
            "layout {} is more than 10 bits",
            attributes.layout
        );
    }
});
