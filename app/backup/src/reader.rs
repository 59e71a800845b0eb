//! Reading a chain back for a restore, only after it was verified: [`open_verified`] runs
//! [`verify`] and gives a [`VerifiedChain`] only when nothing fatal was found; its streams
//! are then read one by one, as stored ([`VerifiedChain::stored_stream`]) or as the send
//! stream `zfs receive` takes ([`VerifiedChain::send_stream`]: the pipeline's stages
//! undone).
//!
//! The volumes are checked again while they are read (each volume's length and SHA-256,
//! and the whole send stream's length and SHA-256 at its end), so a file changed between
//! the verification and the restore fails the read with `InvalidData` instead of passing
//! other bytes on. The caller must treat a stream as received only when its reader ended
//! without an error.

use std::fs::File;
use std::io::{self, ErrorKind, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::checksums::{HashingReader, Sha256Digest};
use crate::durable::{FileAction, FileError};
use crate::manifest::{ChainManifest, StreamRecord, VolumeRecord};
use crate::pipeline::{PipelineError, decoder};
use crate::verify::{VerifyError, VerifyReport, verify};

/// Why a chain cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The chain could not be checked.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The check found problems that stand in the way of a restore.
    #[error("the backup chain in `{}` cannot be restored: {}", report.directory.display(), describe(report))]
    NotRestorable {
        /// What the check found.
        report: Box<VerifyReport>,
    },
    /// The chain has no stream with this number.
    #[error("the chain has no stream {number} (it has {count})")]
    NoSuchStream {
        /// The number asked for.
        number: u32,
        /// How many streams it has.
        count: usize,
    },
    /// A volume could not be opened.
    #[error(transparent)]
    File(#[from] FileError),
    /// A stage cannot be undone.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

fn describe(report: &VerifyReport) -> String {
    report
        .fatal_problems()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A chain that passed [`verify`].
#[derive(Clone, Debug)]
pub struct VerifiedChain {
    report: VerifyReport,
}

/// Verifies the chain in `directory` and opens it for reading when it can be restored.
pub fn open_verified(directory: &Path) -> Result<VerifiedChain, ReadError> {
    let report = verify(directory)?;
    if !report.is_restorable() {
        return Err(ReadError::NotRestorable {
            report: Box::new(report),
        });
    }
    Ok(VerifiedChain { report })
}

impl VerifiedChain {
    pub fn manifest(&self) -> &ChainManifest {
        &self.report.manifest
    }

    /// The verification's report (leftovers and other files it noted).
    pub fn report(&self) -> &VerifyReport {
        &self.report
    }

    fn stream(&self, number: u32) -> Result<&StreamRecord, ReadError> {
        let streams = &self.report.manifest.streams;
        number
            .checked_sub(1)
            .and_then(|index| streams.get(index as usize))
            .ok_or(ReadError::NoSuchStream {
                number,
                count: streams.len(),
            })
    }

    /// Stream `number` (from 1) as stored: its volumes' bytes in order.
    pub fn stored_stream(&self, number: u32) -> Result<StoredStream, ReadError> {
        let stream = self.stream(number)?;
        Ok(StoredStream {
            directory: self.report.directory.clone(),
            volumes: stream.volumes.clone(),
            next: 0,
            current: None,
        })
    }

    /// Stream `number` (from 1) as `zfs send` wrote it, for `zfs receive`.
    pub fn send_stream(&self, number: u32) -> Result<SendStream, ReadError> {
        let stream = self.stream(number)?;
        let stored = self.stored_stream(number)?;
        let decoded = decoder(
            stream.compression,
            stream.encryption.as_ref(),
            Box::new(stored),
        )?;
        Ok(SendStream {
            inner: HashingReader::new(decoded),
            expected_bytes: stream.stream_bytes,
            expected_sha256: stream.stream_sha256,
            checked: false,
        })
    }
}

#[derive(Debug)]
struct OpenVolume {
    reader: io::Take<File>,
    path: PathBuf,
    record: VolumeRecord,
    hasher: Sha256,
    read: u64,
}

/// A stream's stored bytes, volume after volume, each checked as it ends.
#[derive(Debug)]
pub struct StoredStream {
    directory: PathBuf,
    volumes: Vec<VolumeRecord>,
    next: usize,
    current: Option<OpenVolume>,
}

fn invalid_data(message: String) -> io::Error {
    io::Error::new(ErrorKind::InvalidData, message)
}

impl StoredStream {
    /// Checks the volume that just ended: nothing beyond its length, and its digest.
    fn check_end(volume: &mut OpenVolume) -> io::Result<()> {
        let mut extra = [0u8; 1];
        let grew = volume.reader.get_mut().read(&mut extra)? > 0;
        let name = &volume.record.name;
        if grew || volume.read != volume.record.bytes {
            return Err(invalid_data(format!(
                "volume {name} changed since it was verified: it is no longer {} bytes long",
                volume.record.bytes
            )));
        }
        let digest = Sha256Digest::from(std::mem::take(&mut volume.hasher));
        if digest != volume.record.sha256 {
            return Err(invalid_data(format!(
                "volume {name} changed since it was verified: SHA-256 {digest}, written as {}",
                volume.record.sha256
            )));
        }
        Ok(())
    }
}

impl Read for StoredStream {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        loop {
            let volume = match &mut self.current {
                Some(volume) => volume,
                None => {
                    let Some(record) = self.volumes.get(self.next) else {
                        return Ok(0);
                    };
                    self.next += 1;
                    let path = self.directory.join(&record.name);
                    let file = File::open(&path).map_err(|error| {
                        let message = FileError::at(FileAction::Open, &path)(error).to_string();
                        io::Error::other(message)
                    })?;
                    self.current.insert(OpenVolume {
                        reader: file.take(record.bytes),
                        path,
                        record: record.clone(),
                        hasher: Sha256::new(),
                        read: 0,
                    })
                }
            };
            let read = volume.reader.read(buffer).map_err(|error| {
                io::Error::new(
                    error.kind(),
                    format!("reading `{}`: {error}", volume.path.display()),
                )
            })?;
            if read > 0 {
                volume.hasher.update(&buffer[..read]);
                volume.read += read as u64;
                return Ok(read);
            }
            if buffer.is_empty() {
                return Ok(0);
            }
            Self::check_end(volume)?;
            self.current = None;
        }
    }
}

/// A stream as `zfs send` wrote it; at its end its length and SHA-256 are checked against
/// the manifest.
pub struct SendStream {
    inner: HashingReader<Box<dyn Read + Send>>,
    expected_bytes: u64,
    expected_sha256: Sha256Digest,
    checked: bool,
}

impl std::fmt::Debug for SendStream {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SendStream")
            .field("read", &self.inner.bytes_read())
            .field("expected_bytes", &self.expected_bytes)
            .finish_non_exhaustive()
    }
}

impl Read for SendStream {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        if read == 0 && !buffer.is_empty() && !self.checked {
            self.checked = true;
            let bytes = self.inner.bytes_read();
            let reader =
                std::mem::replace(&mut self.inner, HashingReader::new(Box::new(io::empty())));
            let (digest, _) = reader.finish();
            if bytes != self.expected_bytes || digest != self.expected_sha256 {
                return Err(invalid_data(format!(
                    "the send stream read back ({bytes} bytes, SHA-256 {digest}) is not the one \
                     written ({} bytes, SHA-256 {})",
                    self.expected_bytes, self.expected_sha256
                )));
            }
        }
        Ok(read)
    }
}
