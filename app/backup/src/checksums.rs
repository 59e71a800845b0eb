//! SHA-256 digests as the file target writes them: [`Sha256Digest`] (64 lower-case hex
//! digits in the manifest), a [`HashingReader`] that digests what passes through, and the
//! `SHA256SUMS` list in the format of GNU `sha256sum`, so `sha256sum -c SHA256SUMS` checks
//! every volume with stock tools.

use std::fmt;
use std::io::{self, Read};

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256Digest {
        Sha256Digest(Sha256::digest(bytes).into())
    }

    /// Reads 64 hex digits (either case); `None` for anything else.
    pub fn from_hex(text: &str) -> Option<Sha256Digest> {
        if text.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(index * 2..index * 2 + 2)?, 16).ok()?;
        }
        Some(Sha256Digest(bytes))
    }

    /// 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }
}

impl From<Sha256> for Sha256Digest {
    fn from(hasher: Sha256) -> Sha256Digest {
        Sha256Digest(hasher.finalize().into())
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(formatter, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// A reader that digests and counts the bytes read through it.
#[derive(Debug)]
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> HashingReader<R> {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The digest and count of everything read.
    pub fn finish(self) -> (Sha256Digest, u64) {
        (self.hasher.into(), self.bytes)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.hasher.update(&buffer[..read]);
        self.bytes += read as u64;
        Ok(read)
    }
}

/// The `SHA256SUMS` text of `(name, digest)` pairs in the order given:
/// `<64 hex digits><two spaces><name>` per line, as `sha256sum` writes it (the names are
/// plain ASCII, so no escaping is needed).
pub fn checksum_list<'a>(entries: impl IntoIterator<Item = (&'a str, &'a Sha256Digest)>) -> String {
    entries
        .into_iter()
        .map(|(name, digest)| format!("{digest}  {name}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_print_and_parse_as_hex() {
        let digest = Sha256Digest::of(b"abc");
        assert_eq!(
            digest.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Sha256Digest::from_hex(&digest.to_hex()), Some(digest));
        assert_eq!(
            Sha256Digest::from_hex(&digest.to_hex().to_uppercase()),
            Some(digest)
        );
        assert_eq!(Sha256Digest::from_hex("ba78"), None);
        assert_eq!(Sha256Digest::from_hex(&"g".repeat(64)), None);
        assert_eq!(Sha256Digest::from_hex(&"é".repeat(32)), None);
    }

    #[test]
    fn the_hashing_reader_digests_what_passes() {
        let mut reader = HashingReader::new(&b"abc"[..]);
        let mut copy = Vec::new();
        reader.read_to_end(&mut copy).expect("read");
        assert_eq!(reader.finish(), (Sha256Digest::of(b"abc"), 3));
    }

    #[test]
    fn the_list_is_in_sha256sum_format() {
        let digest = Sha256Digest::of(b"");
        assert_eq!(
            checksum_list([("s000001.v000001.zfs", &digest)]),
            format!("{digest}  s000001.v000001.zfs\n")
        );
    }
}
