//! The names of a file target's files: the chain directory of a source dataset, the volumes
//! of each stream (`s000001.v000001.zfs.zst`), their temporary names while written, and the
//! fixed files (`manifest.json`, `SHA256SUMS`, `RESTORE.txt`).
//!
//! This file exists so that every name WiZFS writes is safe on any file system a backup may
//! go to: only ASCII letters, digits, `.`, `_` and `-` (exFAT and FAT refuse `"*/:<>?\|`
//! and control characters, Windows strips a trailing dot or space, exFAT and NTFS fold
//! case), never longer than [`MAXIMUM_NAME_BYTES`] (file systems allow 255; ISO 9660 with
//! Joliet 64 characters for volume names, which ours stay under), and sorted by the shell
//! in the order they are received (`cat s000001.v*` concatenates a stream's volumes
//! correctly because the numbers are zero-padded).

use sha2::{Digest, Sha256};
use wizfs_core::{DatasetName, Timestamp};

/// The manifest of a chain.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The checksum list `sha256sum -c` reads.
pub const CHECKSUM_FILE: &str = "SHA256SUMS";
/// The restore instructions for people with stock tools only.
pub const RESTORE_FILE: &str = "RESTORE.txt";
/// The lock that keeps a second writer out.
pub const LOCK_FILE: &str = ".wizfs-lock";
/// What a file being written ends with until it is complete and renamed.
pub const PARTIAL_SUFFIX: &str = ".partial";

/// Longest name WiZFS gives a file or directory, in bytes (all ASCII).
pub const MAXIMUM_NAME_BYTES: usize = 160;

/// Most streams in a chain: six digits.
pub const MAXIMUM_STREAMS: u32 = 999_999;
/// Most volumes in a stream: six digits.
pub const MAXIMUM_VOLUMES: u32 = 999_999;

/// How much of a dataset name a chain directory keeps before its hash (the hash tells
/// datasets apart; the name is for people).
const DATASET_PART_BYTES: usize = 100;

/// The name of the directory that holds a chain of `dataset` started at `created`:
/// `<dataset, '/' and unsafe characters as '_', at most 100 bytes>-<8 hex digits of the
/// SHA-256 of the full name>-<UTC time of the chain's start>`, e.g.
/// `tank_home-3f2a9c01-20261208T100000Z`. The hash keeps apart names that only differ in
/// what was replaced, in the part cut off, or in case (exFAT folds case); the manifest
/// inside holds the dataset's real name.
pub fn chain_directory_name(dataset: &DatasetName, created: Timestamp) -> String {
    let mut readable: String = dataset
        .as_str()
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || character == '-' || character == '.' {
                character
            } else {
                '_'
            }
        })
        .take(DATASET_PART_BYTES)
        .collect();
    if readable.starts_with('.') {
        readable.replace_range(0..1, "_");
    }
    let hash = Sha256::digest(dataset.as_str().as_bytes());
    format!(
        "{readable}-{:02x}{:02x}{:02x}{:02x}-{}",
        hash[0],
        hash[1],
        hash[2],
        hash[3],
        compact_utc(created)
    )
}

/// `20261208T100000Z`: a UTC time with no `:` (exFAT refuses it).
pub fn compact_utc(time: Timestamp) -> String {
    let civil = time.to_civil_utc();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second
    )
}

/// The final name of volume `volume` (1-based) of stream `stream` (1-based), with the
/// pipeline's suffix (`.zfs`, `.zfs.zst`, …).
pub fn volume_name(stream: u32, volume: u32, suffix: &str) -> String {
    format!("s{stream:06}.v{volume:06}{suffix}")
}

/// The shell pattern matching every volume of stream `stream`, in order.
pub fn volume_glob(stream: u32) -> String {
    format!("s{stream:06}.v*")
}

/// The stream and volume numbers of a name shaped like a volume's (`s000001.v000002…`),
/// whatever its suffix; `None` for other names.
pub fn parse_volume_name(name: &str) -> Option<(u32, u32, &str)> {
    let rest = name.strip_prefix('s')?;
    let (stream, rest) = split_digits(rest)?;
    let rest = rest.strip_prefix(".v")?;
    let (volume, suffix) = split_digits(rest)?;
    Some((stream, volume, suffix))
}

/// Six ASCII digits at the start of `text`, as a number, and the rest.
fn split_digits(text: &str) -> Option<(u32, &str)> {
    let digits = text.get(..6)?;
    if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, &text[6..]))
}

/// Whether `suffix` is one a pipeline gives volumes: `.zfs` then `.`-separated lower-case
/// letters and digits (`.zfs.zst.age`).
pub fn is_volume_suffix(suffix: &str) -> bool {
    let Some(rest) = suffix.strip_prefix(".zfs") else {
        return false;
    };
    rest.is_empty()
        || rest.strip_prefix('.').is_some_and(|parts| {
            parts.split('.').all(|part| {
                !part.is_empty()
                    && part.len() <= 8
                    && part
                        .bytes()
                        .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit())
            })
        })
}

/// The temporary name of a file being written.
pub fn partial_name(name: &str) -> String {
    format!("{name}{PARTIAL_SUFFIX}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(name: &str) -> DatasetName {
        DatasetName::new(name).expect("valid dataset name")
    }

    fn is_portable(name: &str) -> bool {
        name.len() <= MAXIMUM_NAME_BYTES
            && !name.starts_with('.')
            && !name.ends_with('.')
            && name
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"._-".contains(&byte))
    }

    #[test]
    fn chain_directories_are_portable_and_tell_datasets_apart() {
        let created = Timestamp(1_796_724_000);
        let plain = chain_directory_name(&dataset("tank/home"), created);
        assert!(plain.starts_with("tank_home-"), "{plain}");
        assert!(plain.ends_with("-20261208T100000Z"), "{plain}");
        let colon = chain_directory_name(&dataset("tank/a:b c.d"), created);
        assert!(is_portable(&colon), "{colon}");
        // The same readable part, different datasets.
        let underscore = chain_directory_name(&dataset("tank/home_x"), created);
        let slash = chain_directory_name(&dataset("tank/home/x"), created);
        assert_ne!(underscore, slash);
        // Names differing only in case stay apart on case-folding file systems.
        let upper = chain_directory_name(&dataset("tank/Home"), created);
        assert_ne!(upper.to_lowercase(), plain.to_lowercase());
        // The longest dataset names still give a short name.
        let long_name = format!("tank/{}", "x".repeat(200));
        let long = chain_directory_name(&dataset(&long_name), created);
        assert!(is_portable(&long), "{} bytes: {long}", long.len());
    }

    #[test]
    fn volume_names_sort_in_order_and_parse_back() {
        let name = volume_name(12, 3, ".zfs.zst");
        assert_eq!(name, "s000012.v000003.zfs.zst");
        assert!(is_portable(&name));
        assert_eq!(parse_volume_name(&name), Some((12, 3, ".zfs.zst")));
        assert!(volume_name(1, 9, ".zfs") < volume_name(1, 10, ".zfs"));
        assert!(volume_name(9, 1, ".zfs") < volume_name(10, 1, ".zfs"));
        assert_eq!(parse_volume_name("s12.v3.zfs"), None);
        assert_eq!(parse_volume_name("manifest.json"), None);
        assert_eq!(parse_volume_name("s00001x.v000001.zfs"), None);
    }

    #[test]
    fn suffixes_are_checked() {
        assert!(is_volume_suffix(".zfs"));
        assert!(is_volume_suffix(".zfs.zst.age"));
        assert!(!is_volume_suffix(".zfs."));
        assert!(!is_volume_suffix(".zfs.ZST"));
        assert!(!is_volume_suffix(".zfs.zst/../x"));
        assert!(!is_volume_suffix(".zst"));
    }
}
