//! Streams built record by record in OpenZFS's layout; the VM tests read real ones.

use super::*;

/// Builds streams in the `dmu_replay_record_t` layout.
#[derive(Default)]
struct Stream(Vec<u8>);

impl Stream {
    fn record(mut self, record_type: u32, fields: &[(usize, &[u8])], payload: &[u8]) -> Self {
        let mut record = [0u8; RECORD_SIZE];
        record[..4].copy_from_slice(&record_type.to_ne_bytes());
        for (offset, bytes) in fields {
            record[UNION + offset..UNION + offset + bytes.len()].copy_from_slice(bytes);
        }
        self.0.extend_from_slice(&record);
        self.0.extend_from_slice(payload);
        self
    }

    fn begin(self) -> Self {
        let payload = b"nvlist!!";
        let mut stream = self.record(kind::BEGIN, &[(0, &BACKUP_MAGIC.to_ne_bytes())], payload);
        let start = stream.0.len() - payload.len() - RECORD_SIZE;
        stream.0[start + 4..start + 8].copy_from_slice(&(payload.len() as u32).to_ne_bytes());
        stream
    }

    fn object(self, object: u64, bonus: &[u8], max_block: u64) -> Self {
        let mut payload = bonus.to_vec();
        payload.resize(bonus.len().next_multiple_of(8), 0xEE);
        self.record(
            kind::OBJECT,
            &[
                (0, &object.to_ne_bytes()),
                (8, &19u32.to_ne_bytes()),
                (12, &44u32.to_ne_bytes()),
                (16, &131072u32.to_ne_bytes()),
                (20, &(bonus.len() as u32).to_ne_bytes()),
                (48, &max_block.to_ne_bytes()),
            ],
            &payload,
        )
    }

    fn free_objects(self, first: u64, count: u64) -> Self {
        self.record(
            kind::FREEOBJECTS,
            &[(0, &first.to_ne_bytes()), (8, &count.to_ne_bytes())],
            &[],
        )
    }

    fn write(self, object: u64, data: &[u8], compressed: bool) -> Self {
        let length = (data.len() as u64).to_ne_bytes();
        let logical = if compressed {
            131072u64
        } else {
            data.len() as u64
        };
        self.record(
            kind::WRITE,
            &[
                (0, &object.to_ne_bytes()),
                (24, &logical.to_ne_bytes()),
                (42, &[u8::from(compressed)]),
                (88, if compressed { &length } else { &[0u8; 8] }),
            ],
            data,
        )
    }

    fn end(self) -> Self {
        self.record(kind::END, &[], &[])
    }

    fn scan(&self) -> Result<ObjectScan, StreamError> {
        scan_objects(&mut self.0.as_slice())
    }
}

fn fingerprint_of(scan: &ObjectScan, object: u64) -> u64 {
    scan.objects
        .iter()
        .find(|(number, _)| *number == object)
        .map(|(_, fingerprint)| *fingerprint)
        .expect("object in the scan")
}

#[test]
fn objects_and_freed_ranges_are_read_and_data_is_skipped() {
    let stream = Stream::default()
        .begin()
        .object(34, b"bonus of the root", 0)
        .object(128, b"bonus of a file", 3)
        .write(128, &[7u8; 4096], false)
        .write(128, &[9u8; 100], true)
        .record(kind::FREE, &[(0, &128u64.to_ne_bytes())], &[])
        .record(
            kind::WRITE_EMBEDDED,
            &[(44, &13u32.to_ne_bytes())],
            &[1u8; 16],
        )
        .record(kind::SPILL, &[(8, &512u64.to_ne_bytes())], &[2u8; 512])
        .free_objects(129, 31)
        .object(160, b"another", 0)
        .end();
    let scan = stream.scan().unwrap();
    let objects: Vec<u64> = scan.objects.iter().map(|(object, _)| *object).collect();
    assert_eq!(objects, [34, 128, 160]);
    assert_eq!(scan.freed, [(129, 31)]);
    assert_eq!(scan.data_bytes, 4096 + 100 + 512);
}

#[test]
fn fingerprints_change_with_the_bonus_or_the_block_count_only() {
    let scan = |bonus: &[u8], max_block: u64| {
        let scan = Stream::default()
            .begin()
            .object(200, bonus, max_block)
            .end()
            .scan()
            .unwrap();
        fingerprint_of(&scan, 200)
    };
    let original = scan(b"size=10 mtime=1", 0);
    assert_eq!(scan(b"size=10 mtime=1", 0), original);
    assert_ne!(scan(b"size=10 mtime=2", 0), original);
    assert_ne!(scan(b"size=10 mtime=1", 1), original);
    // Padding after the bonus is not part of it.
    let padded = Stream::default().begin().object(200, b"abc", 0).end();
    let mut other_padding = padded.0.clone();
    let padding_at = RECORD_SIZE + 8 + RECORD_SIZE + 3;
    other_padding[padding_at] = 0x11;
    let first = fingerprint_of(&padded.scan().unwrap(), 200);
    let second = fingerprint_of(&scan_objects(&mut other_padding.as_slice()).unwrap(), 200);
    assert_eq!(first, second);
}

#[test]
fn broken_streams_are_refused_with_the_reason() {
    let complete = Stream::default()
        .begin()
        .object(128, b"bonus", 0)
        .write(128, &[0u8; 64], false)
        .end();
    assert!(complete.scan().is_ok());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "empty"),
        (
            "cut inside a record",
            complete.0[..RECORD_SIZE + 8 + 100].to_vec(),
            "inside a record",
        ),
        (
            "cut inside a payload",
            complete.0[..complete.0.len() - RECORD_SIZE - 10].to_vec(),
            "inside a payload",
        ),
        (
            "no END",
            complete.0[..complete.0.len() - RECORD_SIZE].to_vec(),
            "before its END",
        ),
        (
            "no BEGIN",
            Stream::default().object(1, b"x", 0).end().0,
            "before a BEGIN",
        ),
        (
            "bad magic",
            Stream::default()
                .record(kind::BEGIN, &[(0, &7u64.to_ne_bytes())], &[])
                .0,
            "bad magic",
        ),
        (
            "other byte order",
            Stream::default()
                .record(
                    kind::BEGIN,
                    &[(0, &BACKUP_MAGIC.swap_bytes().to_ne_bytes())],
                    &[],
                )
                .0,
            "other byte order",
        ),
        (
            "unknown record",
            Stream::default().begin().record(99, &[], &[]).end().0,
            "unknown record type 99",
        ),
        (
            "absurd payload",
            Stream::default()
                .begin()
                .record(kind::WRITE, &[(24, &(1u64 << 40).to_ne_bytes())], &[])
                .0,
            "announces",
        ),
        (
            "not a stream at all",
            b"this is the fake's own stream format".repeat(20),
            "before a BEGIN",
        ),
        (
            "a short thing that is not a stream",
            b"fake stream".to_vec(),
            "11 bytes that do not start with a BEGIN record",
        ),
        (
            "a stream cut in its first record",
            complete.0[..100].to_vec(),
            "cut short: the stream ends inside a record",
        ),
    ];
    for (case, bytes, expected) in cases {
        let error = scan_objects(&mut bytes.as_slice()).unwrap_err();
        // Cut short (ask the sender why) or not a stream at all (objects cannot work here).
        let cut = expected.contains("inside") || expected.contains("END") || case == "empty";
        assert_eq!(
            matches!(error, StreamError::Truncated(_)),
            cut,
            "{case}: {error}"
        );
        let error = error.to_string();
        assert!(error.contains(expected), "{case}: {error}");
    }
}

/// Found by fuzzing (`fuzz/fuzz_targets/send_stream.rs`): data was counted before the
/// payload limit was checked, so an absurd length after some real data overflowed the sum
/// (a panic with overflow checks on) instead of refusing the stream.
#[test]
fn an_absurd_payload_after_data_is_refused_without_overflow() {
    for record_type in [kind::WRITE, kind::SPILL] {
        let offset = if record_type == kind::WRITE { 24 } else { 8 };
        let bytes = Stream::default()
            .begin()
            .write(128, &[0u8; 64], false)
            .record(record_type, &[(offset, &u64::MAX.to_ne_bytes())], &[])
            .end()
            .0;
        let error = scan_objects(&mut bytes.as_slice()).unwrap_err();
        assert!(
            matches!(&error, StreamError::Malformed(message) if message.contains("announces")),
            "type {record_type}: {error}"
        );
    }
}

/// A system-attribute bonus buffer laid out like `zfs_mknode`'s: an 8-byte header with
/// `layout`, then MODE … LINKS, then `tail` (later attributes).
fn sa_bonus(layout: u16, header_words: u16, words: [u64; 16], tail: &[u8]) -> Vec<u8> {
    let mut bonus = SA_MAGIC.to_le_bytes().to_vec();
    bonus.extend_from_slice(&(layout | (header_words << 10)).to_le_bytes());
    bonus.resize(usize::from(header_words) * 8, 0);
    for word in words {
        bonus.extend_from_slice(&word.to_le_bytes());
    }
    bonus.extend_from_slice(tail);
    bonus
}

#[test]
fn zpl_attributes_are_read_from_system_attribute_bonus_buffers() {
    // MODE, SIZE, GEN, UID, GID, PARENT, FLAGS, ATIME×2, MTIME×2, CTIME×2, CRTIME×2, LINKS.
    let words = [
        0o100644,
        20,
        7,
        1000,
        100,
        34,
        0x8000_0000,
        1,
        2,
        1_700_000_000,
        123,
        1_700_000_001,
        456,
        0,
        0,
        2,
    ];
    let expected = ZplAttributes {
        layout: 3,
        mode: 0o100644,
        size: 20,
        generation: 7,
        uid: 1000,
        gid: 100,
        parent: 34,
        modified: (1_700_000_000, 123),
        changed: (1_700_000_001, 456),
        links: 2,
    };
    // A one-word header, and a two-word one (variable-length attributes such as a symlink
    // target or ACEs add their lengths to the header).
    let plain = sa_bonus(3, 1, words, &[0; 48]);
    assert_eq!(ZplAttributes::read(BONUS_SA, &plain), Some(expected));
    let longer_header = sa_bonus(3, 2, words, b"target");
    assert_eq!(
        ZplAttributes::read(BONUS_SA, &longer_header),
        Some(expected)
    );

    // What is not read: another bonus type (a pre-SA znode), another magic (the other byte
    // order), a buffer too short for the prefix or its header.
    assert_eq!(ZplAttributes::read(17, &plain), None);
    let mut swapped = plain.clone();
    swapped[..4].copy_from_slice(&SA_MAGIC.to_be_bytes());
    assert_eq!(ZplAttributes::read(BONUS_SA, &swapped), None);
    assert_eq!(ZplAttributes::read(BONUS_SA, &plain[..8 + 127]), None);
    assert_eq!(ZplAttributes::read(BONUS_SA, &plain[..5]), None);
    let huge_header = sa_bonus(3, 63, words, &[]);
    assert_eq!(ZplAttributes::read(BONUS_SA, &huge_header[..200]), None);

    // In a stream: attributes for the objects whose bonus holds them, in stream order.
    let scan = Stream::default()
        .begin()
        .object(34, b"not system attributes", 0)
        .object(128, &plain, 0)
        .end()
        .scan()
        .unwrap();
    assert_eq!(scan.objects.len(), 2);
    assert_eq!(scan.attributes, [(128, expected)]);
}
