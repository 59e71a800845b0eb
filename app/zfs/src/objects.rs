//! What an incremental `zfs send` stream says about a dataset's *objects*, read without
//! keeping any data: which objects' dnodes it carries, each with a fingerprint of its
//! metadata, and which object numbers it frees.
//!
//! The indexer uses it to find changed files without `zfs diff`: an incremental stream
//! carries every dnode of each dnode block written since the base snapshot (32 objects per
//! block, changed or not) and the data blocks written since. A file whose content, size,
//! times, mode or links changed has a different dnode (its bonus buffer holds those
//! attributes), so comparing fingerprints with the previous snapshot's picks out the changed
//! objects from their unchanged neighbours without a lookup per object — which is what makes
//! `zfs diff` slow (it resolves every object of each touched block to a path, twice).
//!
//! The record layout is OpenZFS's `dmu_replay_record_t` (`sys/zfs_ioctl.h`): 312 bytes,
//! native byte order, followed by a payload whose length depends on the record type. Only
//! the fields named below are read; everything else, data included, is skipped.

use std::io::Read;

/// Size of one `dmu_replay_record_t`.
pub const RECORD_SIZE: usize = 312;
/// `DMU_BACKUP_MAGIC`, the first field of a stream's BEGIN record.
pub const BACKUP_MAGIC: u64 = 0x2F5B_ACBAC;
/// Larger payloads are refused as corrupt (OpenZFS blocks are at most 16 MiB).
const MAX_PAYLOAD: u64 = 64 << 20;
/// Where the record-specific fields start (after `drr_type` and `drr_payloadlen`).
const UNION: usize = 8;

/// Record types (`drr_type`).
mod kind {
    pub const BEGIN: u32 = 0;
    pub const OBJECT: u32 = 1;
    pub const FREEOBJECTS: u32 = 2;
    pub const WRITE: u32 = 3;
    pub const FREE: u32 = 4;
    pub const END: u32 = 5;
    pub const WRITE_BYREF: u32 = 6;
    pub const SPILL: u32 = 7;
    pub const WRITE_EMBEDDED: u32 = 8;
    pub const OBJECT_RANGE: u32 = 9;
    pub const REDACT: u32 = 10;
}

/// The object records of one stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectScan {
    /// Every object whose dnode the stream carries, in stream order, with a fingerprint of
    /// that dnode (object type, bonus type, block size, last block id and the bonus bytes,
    /// where a file system keeps size, times, mode, owner, links and generation).
    pub objects: Vec<(u64, u64)>,
    /// The file system attributes read from the bonus buffers of `objects` that hold them
    /// (see [`ZplAttributes`]), by object, in stream order.
    pub attributes: Vec<(u64, ZplAttributes)>,
    /// Object numbers the stream frees, as (first, count) ranges.
    pub freed: Vec<(u64, u64)>,
    /// Data carried by the stream (payload bytes of write and spill records), which costs
    /// reading though nothing here keeps it.
    pub data_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("reading the send stream failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a ZFS send stream this machine can read: {0}")]
    Malformed(String),
    /// The stream ended early (the sender may have failed: ask it).
    #[error("the send stream is cut short: {0}")]
    Truncated(String),
}

/// Reads a whole send stream (one or more BEGIN … END substreams) and returns its object
/// records. Fails on anything that is not a native-byte-order ZFS stream, and on a stream
/// that ends before its END record.
pub fn scan_objects(stream: &mut dyn Read) -> Result<ObjectScan, StreamError> {
    // Records are small: read the pipe in large pieces, not a system call per record.
    let mut buffered = std::io::BufReader::with_capacity(1 << 20, stream);
    let stream: &mut dyn Read = &mut buffered;
    let mut scan = ObjectScan::default();
    let mut record = [0u8; RECORD_SIZE];
    let mut payload = Vec::new();
    let mut open = false;
    let mut records = 0u64;
    loop {
        let filled = read_record(stream, &mut record)?;
        if filled > 0 && filled < RECORD_SIZE {
            // Something that does not even start like a stream is not one cut short.
            let starts_like_a_stream = filled >= UNION + 8
                && u32_at(&record, 0) == kind::BEGIN
                && u64_at(&record, UNION) == BACKUP_MAGIC;
            return Err(if records > 0 || starts_like_a_stream {
                StreamError::Truncated("the stream ends inside a record".into())
            } else {
                StreamError::Malformed(format!(
                    "{filled} bytes that do not start with a BEGIN record"
                ))
            });
        }
        if filled == 0 {
            return match (open, records) {
                (false, 1..) => Ok(scan),
                (_, 0) => Err(StreamError::Truncated("the stream is empty".into())),
                (true, _) => Err(StreamError::Truncated(
                    "the stream ends before its END record".into(),
                )),
            };
        }
        records += 1;
        let record_type = u32_at(&record, 0);
        let field = |offset: usize| u64_at(&record, UNION + offset);
        let payload_length = match record_type {
            kind::BEGIN => {
                let magic = field(0);
                if magic != BACKUP_MAGIC {
                    let detail = if magic.swap_bytes() == BACKUP_MAGIC {
                        "written in the other byte order".to_owned()
                    } else {
                        format!("bad magic {magic:#x}")
                    };
                    return Err(StreamError::Malformed(detail));
                }
                open = true;
                u64::from(u32_at(&record, 4))
            }
            _ if !open => {
                return Err(StreamError::Malformed(format!(
                    "record type {record_type} before a BEGIN record"
                )));
            }
            kind::OBJECT => {
                let bonus_length = u32_at(&record, UNION + 20);
                let raw_bonus_length = u32_at(&record, UNION + 28);
                if raw_bonus_length != 0 {
                    u64::from(raw_bonus_length)
                } else {
                    u64::from(bonus_length).next_multiple_of(8)
                }
            }
            kind::WRITE => {
                let compressed = record[UNION + 42] != 0;
                if compressed { field(88) } else { field(24) }
            }
            kind::SPILL => match field(32) {
                0 => field(8),
                compressed => compressed,
            },
            kind::WRITE_EMBEDDED => u64::from(u32_at(&record, UNION + 44)).next_multiple_of(8),
            kind::END => {
                open = false;
                0
            }
            kind::FREEOBJECTS
            | kind::FREE
            | kind::WRITE_BYREF
            | kind::OBJECT_RANGE
            | kind::REDACT => 0,
            other => {
                return Err(StreamError::Malformed(format!(
                    "unknown record type {other}"
                )));
            }
        };
        if payload_length > MAX_PAYLOAD {
            return Err(StreamError::Malformed(format!(
                "a record of type {record_type} announces {payload_length} bytes"
            )));
        }
        // Counted once the length passed the limit: an absurd one cannot overflow the sum.
        if matches!(record_type, kind::WRITE | kind::SPILL) {
            scan.data_bytes += payload_length;
        }
        match record_type {
            kind::OBJECT => {
                payload.resize(payload_length as usize, 0);
                stream.read_exact(&mut payload).map_err(truncated)?;
                let bonus_length = (u32_at(&record, UNION + 20) as usize).min(payload.len());
                let bonus = &payload[..bonus_length];
                scan.objects.push((field(0), fingerprint(&record, bonus)));
                if let Some(attributes) = ZplAttributes::read(u32_at(&record, UNION + 12), bonus) {
                    scan.attributes.push((field(0), attributes));
                }
            }
            kind::FREEOBJECTS => scan.freed.push((field(0), field(8))),
            _ => skip(stream, payload_length)?,
        }
    }
}

/// `DMU_OT_SA`: the bonus buffer holds system attributes (every file system object since
/// ZPL version 5).
const BONUS_SA: u32 = 44;
/// `SA_MAGIC`, the first word of a system-attribute bonus buffer.
const SA_MAGIC: u32 = 0x2F_505A;
/// Bytes of the leading fixed-size attributes read by [`ZplAttributes::read`].
const ZPL_PREFIX: usize = 128;

/// The leading attributes of a file system object's system-attribute bonus buffer, read on
/// the assumption that its layout starts the way `zfs_mknode` builds every new file's:
/// MODE, SIZE, GEN, UID, GID, PARENT, FLAGS (8 bytes each), ATIME, MTIME, CTIME, CRTIME
/// (seconds and nanoseconds, 16 bytes each), LINKS. Attributes added later (a symlink's
/// target, xattrs, a project id) are appended, so the prefix stays.
///
/// Layouts are numbered per dataset and their definitions are not in the stream, so the
/// assumption can be wrong for a layout this code never met (an object upgraded from the
/// pre-SA format, say): a reader must *verify* a layout (compare these fields with a
/// `stat` of the same object) before trusting what it decodes — see `layout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZplAttributes {
    /// The layout number from the SA header: which attributes sit where.
    pub layout: u16,
    /// `st_mode`: file type and permission bits.
    pub mode: u64,
    pub size: u64,
    pub generation: u64,
    pub uid: u64,
    pub gid: u64,
    /// Object number of the parent directory (of the first link).
    pub parent: u64,
    /// Modification time: seconds, nanoseconds.
    pub modified: (u64, u64),
    /// Status change time: seconds, nanoseconds.
    pub changed: (u64, u64),
    pub links: u64,
}

impl ZplAttributes {
    /// The attributes of a bonus buffer of type `bonus_type`, if it is a system-attribute
    /// buffer in this machine's byte order long enough to hold them.
    pub fn read(bonus_type: u32, bonus: &[u8]) -> Option<ZplAttributes> {
        if bonus_type != BONUS_SA || bonus.len() < 8 {
            return None;
        }
        let magic = u32::from_le_bytes([bonus[0], bonus[1], bonus[2], bonus[3]]);
        if magic != SA_MAGIC {
            return None;
        }
        // sa_layout_info: the layout number in bits 0–9, the header size in 8-byte units in
        // bits 10–15.
        let info = u16::from_le_bytes([bonus[4], bonus[5]]);
        let header = usize::from(info >> 10) * 8;
        let attributes = bonus.get(header..header.checked_add(ZPL_PREFIX)?)?;
        let word = |index: usize| word_of(&attributes[index * 8..index * 8 + 8]);
        Some(ZplAttributes {
            layout: info & 0x3ff,
            mode: word(0),
            size: word(1),
            generation: word(2),
            uid: word(3),
            gid: word(4),
            parent: word(5),
            modified: (word(9), word(10)),
            changed: (word(11), word(12)),
            links: word(15),
        })
    }
}

/// Fills `record` as far as the stream goes: `RECORD_SIZE` bytes, or fewer at its end (0 at
/// a clean end, between records).
fn read_record(
    stream: &mut dyn Read,
    record: &mut [u8; RECORD_SIZE],
) -> Result<usize, StreamError> {
    let mut filled = 0;
    while filled < RECORD_SIZE {
        match stream.read(&mut record[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(filled)
}

fn skip(stream: &mut dyn Read, length: u64) -> Result<(), StreamError> {
    let skipped = std::io::copy(&mut stream.take(length), &mut std::io::sink())?;
    if skipped < length {
        return Err(StreamError::Truncated(
            "the stream ends inside a payload".into(),
        ));
    }
    Ok(())
}

fn truncated(error: std::io::Error) -> StreamError {
    if error.kind() == std::io::ErrorKind::UnexpectedEof {
        StreamError::Truncated("the stream ends inside a payload".into())
    } else {
        error.into()
    }
}

/// A 64-bit hash of an OBJECT record's dnode fields and its bonus bytes, FNV-1a style but
/// a little-endian 64-bit word at a time (bonus buffers are hashed by the ten thousand per
/// snapshot): stable across builds and machines, so fingerprints can be stored.
fn fingerprint(record: &[u8; RECORD_SIZE], bonus: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let mut mix = |word: u64| {
        hash ^= word;
        hash = hash.wrapping_mul(PRIME).rotate_left(29);
    };
    // drr_type, drr_bonustype, drr_blksz, drr_bonuslen; drr_maxblkid.
    for fields in [
        &record[UNION + 8..UNION + 24],
        &record[UNION + 48..UNION + 56],
    ] {
        fields.chunks_exact(8).for_each(|word| mix(word_of(word)));
    }
    mix(bonus.len() as u64);
    let words = bonus.chunks_exact(8);
    let rest = words.remainder();
    words.for_each(|word| mix(word_of(word)));
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        mix(u64::from_le_bytes(last));
    }
    hash
}

fn word_of(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(bytes);
    u64::from_le_bytes(word)
}

fn u32_at(record: &[u8; RECORD_SIZE], offset: usize) -> u32 {
    let mut bytes = [0u8; 4];
    bytes.copy_from_slice(&record[offset..offset + 4]);
    u32::from_ne_bytes(bytes)
}

fn u64_at(record: &[u8; RECORD_SIZE], offset: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&record[offset..offset + 8]);
    u64::from_ne_bytes(bytes)
}

#[cfg(test)]
mod tests;
